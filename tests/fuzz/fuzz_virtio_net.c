/* Fuzz target: virtio-net behind the virtio-mmio transport, joined to a
 * network port as vmm/nic.c joins it: frames the guest sends enter an
 * adapter port wired to a sink port (the network), and frames from the
 * network come back through the adapter into the device's receive path,
 * finished first (net/offload.c) when they carry offloads the guest did not
 * negotiate. The input is a probe and a driver's operations
 * (virtio_fuzz.h); the device-specific operations are a frame from the
 * network (through the ports, or straight into virtio_net_receive in up to
 * nine pieces, with any offload header), posting receive buffers (several
 * chains at once, for mergeable buffers), a transmit request, link changes,
 * and the sink answering every frame at once (from inside the transmit
 * handler: the backlog path).
 *
 * Checked, besides the transport invariants of virtio_fuzz.h and ASan on
 * the exact-size guest RAM:
 *   - a frame handed to opts.tx is 14..VIRTIO_NET_FRAME_MAX bytes, is the
 *     device's own copy (not guest RAM), and its header passed the rules:
 *     only negotiated offloads, checksum position inside the frame, GSO with
 *     a segment size;
 *   - a transmit request that was the only one pending completes with
 *     length 0 and, if it was sent, is exactly the guest's bytes after the
 *     12-byte header;
 *   - a receive buffer that was the only one pending is answered with at
 *     most its size, and no byte outside it changes;
 *   - what reaches the sink is 14..NET_FRAME_MAX bytes;
 *   - the counters never go down. */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/offload.h"
#include "net/port.h"
#include "virtio/net.h"
#include "virtio_fuzz.h"

#define IND_OFF VF_BUF
#define LO (VF_BUF + 0x100)

static struct virtio_dev *nd;
static struct net_port adapter, sink;
static bool echo;
static unsigned tx_calls;
static size_t tx_len;
static uint8_t tx_frame[VIRTIO_NET_FRAME_MAX];
static struct virtio_net_stats last_stats;

/* ---- the adapter (vmm/nic.c's glue, in small) ---- */

static void to_guest(void *opaque, const struct net_pkt *pkt)
{
    (void)opaque;
    struct virtio_net_hdr h = { pkt->off.flags, pkt->off.gso_type, pkt->off.hdr_len, pkt->off.gso_size,
                                pkt->off.csum_start, pkt->off.csum_offset };
    struct iovec iov = { pkt->data, pkt->len };
    virtio_net_receive(nd, &h, &iov, 1);
}

static void adapter_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    (void)p;
    VF_CHECK(tag_vid == 0);
    struct virtio_net_hdr h = { pkt->off.flags, pkt->off.gso_type, pkt->off.hdr_len, pkt->off.gso_size,
                                pkt->off.csum_start, pkt->off.csum_offset };
    if (net_pkt_needs_finish(pkt) && !virtio_net_accepts(nd, &h)) {
        net_offload_finish(pkt, to_guest, NULL);
        return;
    }
    to_guest(NULL, pkt);
}

static void sink_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    (void)p, (void)tag_vid;
    VF_CHECK(pkt->len >= NET_FRAME_MIN && pkt->len <= NET_FRAME_MAX);
    volatile uint8_t x = 0;
    for (size_t i = 0; i < pkt->len; i++)
        x ^= pkt->data[i];
    (void)x;
    if (echo) {
        /* Answer at once, as slirp answers ARP: back into the adapter. */
        uint8_t *copy = malloc(pkt->len);
        if (!copy)
            abort();
        memcpy(copy, pkt->data, pkt->len);
        struct net_pkt r = { .data = copy, .len = pkt->len, .off = pkt->off };
        net_port_input(&sink, &r);
        free(copy);
    }
}

static const struct net_port_ops adapter_ops = { adapter_transmit, NULL };
static const struct net_port_ops sink_ops = { sink_transmit, NULL };

static bool has(unsigned bit) { return virtio_dev_has(nd, bit); }

static void guest_tx(void *opaque, const struct virtio_net_hdr *h, uint8_t *frame, size_t len)
{
    struct vf *g = vf_cur;
    (void)opaque;
    VF_CHECK(len >= 14 && len <= VIRTIO_NET_FRAME_MAX);
    VF_CHECK(frame + len <= g->ram || frame >= g->ram + VF_RAM_SIZE);
    VF_CHECK(!(h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        VF_CHECK(has(VIRTIO_NET_F_CSUM) && (size_t)h->csum_start + h->csum_offset + 2 <= len);
    uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso == VIRTIO_NET_HDR_GSO_NONE)
        VF_CHECK(!(h->gso_type & VIRTIO_NET_HDR_GSO_ECN));
    else
        VF_CHECK(h->gso_size && ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && has(VIRTIO_NET_F_HOST_TSO4)) ||
                                 (gso == VIRTIO_NET_HDR_GSO_TCPV6 && has(VIRTIO_NET_F_HOST_TSO6))));
    if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
        VF_CHECK(has(VIRTIO_NET_F_HOST_ECN));
    tx_calls++;
    tx_len = len;
    memcpy(tx_frame, frame, len);
    struct net_pkt pkt = { .data = frame, .len = len,
                           .off = { h->flags, h->gso_type, h->hdr_len, h->gso_size, h->csum_start, h->csum_offset } };
    net_port_input(&adapter, &pkt);
}

/* ---- operations ---- */

static void frame_from_network(struct vf_in *in)
{
    static uint8_t frame[VIRTIO_NET_FRAME_MAX + 64];
    uint8_t sel = in_u8(in);
    struct net_offload off = { 0 };
    if (sel & 1) {
        off.flags = in_u8(in);
        off.gso_type = in_u8(in);
        off.hdr_len = in_u16(in);
        off.gso_size = in_u16(in);
        off.csum_start = in_u16(in);
        off.csum_offset = in_u16(in);
    }
    size_t len = in_u16(in);
    if (sel & 2) /* big: past the MTU, or past the largest frame */
        len += sel & 4 ? 1500 : 65535;
    if (len > sizeof(frame))
        len = sizeof(frame);
    size_t have = len < in->n ? len : in->n;
    memcpy(frame, in->p, have);
    in->p += have, in->n -= have;
    for (size_t i = have; i < len; i++)
        frame[i] = (uint8_t)(i * 13);
    if (!(sel & 8)) {
        struct net_pkt pkt = { .data = frame, .len = len, .off = off };
        net_port_input(&sink, &pkt);
        return;
    }
    /* Straight in, in pieces (0 and 9 pieces are refused). */
    struct virtio_net_hdr h = { off.flags, off.gso_type, off.hdr_len, off.gso_size, off.csum_start, off.csum_offset };
    struct iovec iov[9];
    int niov = (sel >> 4) % 10;
    size_t done = 0;
    for (int i = 0; i < niov; i++) {
        size_t l = i + 1 == niov ? len - done : (len - done) / 2;
        iov[i] = (struct iovec){ frame + done, l };
        done += l;
    }
    virtio_net_receive(nd, &h, iov, niov);
}

/* Several receive chains at once, one buffer each: n u8, size u16. */
static void post_rx(struct vf *g, struct vf_in *in)
{
    unsigned n = 1 + in_u8(in) % 16;
    uint32_t size = in_u16(in) % 0x2000;
    uint16_t mask = vf_mask(g, VIRTIO_NET_RX);
    for (unsigned i = 0; i < n; i++) {
        uint16_t head = g->avail_idx[VIRTIO_NET_RX] & mask;
        uint32_t off = LO + (uint32_t)(((uint64_t)i * size) % (VF_RAM_SIZE - LO - size));
        vf_desc(g, VF_QAREA(VIRTIO_NET_RX), head, VF_RAM_BASE + off, size, VIRTQ_DESC_F_WRITE, 0);
        vf_publish(g, VIRTIO_NET_RX, head);
    }
    vf_kick(g, VIRTIO_NET_RX);
}

/* One chain on either queue: sel u8 (bit 0 transmit, bit 1 indirect,
 * bits 2-3: buffers - 1, bits 4-7 writable), per buffer off u16, len u16;
 * a transmit chain's readable bytes then come from the input (header
 * first). */
static void post_chain(struct vf *g, struct vf_in *in)
{
    uint8_t sel = in_u8(in);
    unsigned q = sel & 1, n = 1 + (sel >> 2) % 4;
    struct vf_buf b[4];
    uint64_t wtotal = 0;
    for (unsigned i = 0; i < n; i++) {
        b[i].off = LO + in_u16(in) % (VF_RAM_SIZE - LO);
        b[i].len = in_u16(in) % (VF_RAM_SIZE - b[i].off + 1);
        b[i].flags = (sel >> (4 + i)) & 1 ? VIRTQ_DESC_F_WRITE : 0;
        if (b[i].flags)
            wtotal += b[i].len;
    }
    memset(g->ram + LO, 0xa5, VF_RAM_SIZE - LO);
    /* Readable bytes: from the input, then a pattern. */
    for (unsigned i = 0; i < n; i++) {
        if (b[i].flags)
            continue;
        for (uint32_t k = 0; k < b[i].len; k++)
            g->ram[b[i].off + k] = in->n ? in_u8(in) : (uint8_t)(k * 5 + i);
    }
    uint8_t *before = malloc(VF_RAM_SIZE);
    if (!before)
        abort();
    memcpy(before, g->ram, VF_RAM_SIZE);
    unsigned calls = tx_calls;
    uint32_t used_len;
    int r = vf_post(g, q, b, n, sel & 2 ? IND_OFF : 0, &used_len);
    if (r > 0) {
        VF_CHECK(used_len <= wtotal);
        if (q == VIRTIO_NET_TX)
            VF_CHECK(used_len == 0);
    }
    if (r >= 0) {
        if (q == VIRTIO_NET_RX) {
            vf_check_untouched(g, before, LO, b, n);
        } else if (tx_calls != calls) {
            /* Our frame is the first sent (an echo cannot send more). */
            uint8_t *exp = malloc(4 * VF_RAM_SIZE);
            if (!exp)
                abort();
            size_t k = 0;
            for (unsigned i = 0; i < n; i++)
                if (!b[i].flags)
                    memcpy(exp + k, before + b[i].off, b[i].len), k += b[i].len;
            VF_CHECK(tx_calls == calls + 1);
            VF_CHECK(k == tx_len + VIRTIO_NET_HDR_LEN);
            VF_CHECK(!memcmp(exp + VIRTIO_NET_HDR_LEN, tx_frame, tx_len));
            free(exp);
        }
    }
    free(before);
}

static void net_op(struct vf *g, struct vf_in *in, unsigned which)
{
    if (which == 0) {
        frame_from_network(in);
    } else {
        uint8_t sub = in_u8(in);
        switch (sub & 3) {
        case 0: post_rx(g, in); break;
        case 1: post_chain(g, in); break;
        case 2: virtio_net_set_link(nd, sub & 4); break;
        case 3: echo = sub & 4; sink.offloads = sub & 8; break;
        }
    }
    struct virtio_net_stats s;
    virtio_net_get_stats(nd, &s);
    VF_CHECK(s.tx_frames >= last_stats.tx_frames && s.tx_bytes >= last_stats.tx_bytes &&
             s.tx_errors >= last_stats.tx_errors && s.rx_frames >= last_stats.rx_frames &&
             s.rx_bytes >= last_stats.rx_bytes && s.rx_dropped >= last_stats.rx_dropped);
    last_stats = s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vlog_set_level(VLOG_ERROR);
    /* First byte: MTU choice and whether the link starts up. */
    uint8_t b = size ? data[0] : 0;
    static const uint16_t mtus[] = { 0, 1500, 9000, 68 };
    struct virtio_net_opts o = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, .mtu = mtus[b & 3],
                                 .link_up = !(b & 4), .name = "virtio-net fuzz", .tx = guest_tx };
    nd = virtio_net_new(&o);
    net_port_init(&adapter, &adapter_ops, "adapter", true);
    net_port_init(&sink, &sink_ops, "sink", b & 8);
    net_port_wire(&adapter, &sink);
    echo = b & 16;
    tx_calls = 0;
    memset(&last_stats, 0, sizeof(last_stats));
    vf_run(nd, size ? data + 1 : data, size ? size - 1 : 0, net_op, NULL);
    net_port_unwire(&adapter);
    return 0;
}

/* virtio-net (virtio 1.2, 5.1) driven through the MMIO transport as a guest
 * driver would: feature negotiation and config space, transmit (layouts and
 * header checks), receive with and without mergeable buffers, the receive
 * backlog, a transmit handler that answers at once, link changes, and reset.
 *
 * As in test_virtio_blk.c the transport has no event loop: vdrv_kick writes
 * QueueNotify and runs virtio_mmio_poll on the test thread, which also plays
 * the I/O thread's part when it calls virtio_net_receive (the way vmm/nic.c
 * does from its port). Everything is deterministic, except one test that,
 * like test_evloop_path in test_virtio_queue.c, runs a real I/O thread to
 * race frames from the network against a guest resetting the device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "virtio/net.h"
#include "test_virtio_driver.h"

#define F(bit) (1ull << (bit))
#define FEAT_RING (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_F_EVENT_IDX))
#define FEAT_BASE (FEAT_RING | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MTU))
#define FEAT_HOST_OFF (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | \
                       F(VIRTIO_NET_F_HOST_ECN))
#define FEAT_GUEST_OFF (F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | \
                        F(VIRTIO_NET_F_GUEST_ECN))
#define FEAT_MRG F(VIRTIO_NET_F_MRG_RXBUF)
#define FEAT_ALL (FEAT_BASE | FEAT_HOST_OFF | FEAT_GUEST_OFF | FEAT_MRG)

#define HLEN VIRTIO_NET_HDR_LEN
#define RXQ VIRTIO_NET_RX
#define TXQ VIRTIO_NET_TX
#define FMAX VIRTIO_NET_FRAME_MAX
#define BIG 65535u /* a 64 KiB TSO frame */

/* Guest RAM past the rings (see test_virtio_driver.h): receive buffers,
 * descriptor i of the receive queue owning slot i, then transmit buffers
 * and indirect tables, allocated round-robin. */
#define RX_AREA BUF_BASE
#define RX_AREA_SIZE 0x60000u
#define TX_AREA (BUF_BASE + RX_AREA_SIZE)
#define TX_AREA_SIZE ((uint64_t)RAM_BASE + RAM_SIZE - TX_AREA)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* One receive chain as the driver posted it, by head descriptor. */
struct rxchain {
    unsigned nseg;
    uint64_t addr[4];
    uint32_t len[4];
    uint32_t total;
};

struct rxhdr {
    struct virtio_net_hdr h;
    uint16_t num_buffers;
};

struct fx {
    struct vdrv d;
    struct virtio_dev *dev;
    uint64_t feats;
    /* The driver's receive side. */
    uint32_t rx_stride;
    uint16_t rx_seen; /* used entries the driver has consumed */
    struct rxchain rxc[VIRTIO_QUEUE_MAX];
    /* The driver's transmit side. */
    uint16_t tx_desc;
    uint64_t tx_off;
    uint16_t tx_seen;
    /* What the device handed to opts.tx. */
    int tx_calls;
    struct virtio_net_hdr tx_h;
    uint8_t *tx_frame;
    size_t tx_len;
    uint32_t tx_seq[1024];
    /* The tx handler answers every frame at once (like slirp's ARP). */
    bool reply;
    int replies_ok, replies_failed;
    /* The tx handler makes the chain available again (a busy guest). */
    int republish_until;
    uint16_t republish_head;
    /* Scratch frames for the tests. */
    uint8_t *frame, *out;
    /* A real I/O thread (test_reset_races_receive). */
    struct evloop *loop;
    pthread_t io;
    bool io_running;
    int efd;
    atomic_uint io_frames;
};

/* ---- frames ---- */

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A recognisable frame: seq in its first 4 bytes, then a pattern that
 * depends on seq and on the position. */
static void pat(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seq * 13 + i * 7 + (i >> 8));
    if (len >= 4)
        memcpy(p, &seq, 4);
}

static void check_pat(const uint8_t *p, size_t len, uint32_t seq)
{
    static uint8_t want[FMAX + 64];
    assert_true(len <= sizeof(want));
    pat(want, len, seq);
    assert_memory_equal(p, want, len);
}

/* ---- the transmit callback ---- */

static void on_tx(void *opaque, const struct virtio_net_hdr *h, uint8_t *frame, size_t len)
{
    struct fx *f = opaque;
    assert_true(len <= FMAX);
    f->tx_seq[f->tx_calls % 1024] = len >= 4 ? get32(frame) : 0;
    f->tx_calls++;
    f->tx_h = *h;
    f->tx_len = len;
    memcpy(f->tx_frame, frame, len);
    if (f->reply) {
        /* Answer at once, from inside the handler, in two pieces. */
        uint8_t r[60];
        pat(r, sizeof(r), 0x10000u + (len >= 4 ? get32(frame) : 0));
        struct iovec iov[2] = { { r, 20 }, { r + 20, 40 } };
        struct virtio_net_hdr rh = { 0 };
        if (virtio_net_receive(f->dev, &rh, iov, 2))
            f->replies_ok++;
        else
            f->replies_failed++;
    }
    if (f->tx_calls < f->republish_until)
        vdrv_publish(&f->d, TXQ, f->republish_head);
}

/* ---- the device and the driver ---- */

static struct virtio_net_opts default_opts(void)
{
    struct virtio_net_opts o = { .link_up = true, .name = "virtio-net test" };
    memcpy(o.mac, MAC, 6);
    return o;
}

/* A device behind its transport, not yet probed. */
static void fx_open(struct fx *f, const struct virtio_net_opts *oin)
{
    struct virtio_net_opts o = oin ? *oin : default_opts();
    o.tx = on_tx;
    o.opaque = f;
    struct virtio_dev *dev = virtio_net_new(&o);
    assert_non_null(dev);
    assert_true(vdrv_open(&f->d, dev));
    f->dev = dev;
}

static void fx_close(struct fx *f)
{
    if (f->dev)
        vdrv_close(&f->d);
    f->dev = NULL;
}

/* Each test gets a fresh device; teardown frees it even when an assertion
 * failed halfway (with frames in the backlog, say). */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->tx_frame = malloc(FMAX);
    f->frame = malloc(FMAX + 64);
    f->out = malloc(FMAX + 64);
    assert_true(f->tx_frame && f->frame && f->out);
    f->efd = -1;
    fx_open(f, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->io_running) {
        evloop_stop(f->loop);
        pthread_join(f->io, NULL);
    }
    if (f->loop && f->efd >= 0)
        evloop_del_fd(f->loop, f->efd);
    if (f->efd >= 0)
        close(f->efd);
    fx_close(f);
    if (f->loop)
        evloop_free(f->loop);
    free(f->tx_frame);
    free(f->frame);
    free(f->out);
    free(f);
    return 0;
}

/* The whole probe: features, receive and transmit queues, DRIVER_OK.
 * stride: the largest receive buffer this test posts. */
static void fx_init(struct fx *f, uint64_t feats, uint16_t rxnum, uint16_t txnum, uint32_t stride)
{
    struct vdrv *d = &f->d;
    assert_true((uint64_t)rxnum * stride <= RX_AREA_SIZE);
    assert_true(vdrv_negotiate(d, feats) & VIRTIO_STATUS_FEATURES_OK);
    vdrv_queue(d, RXQ, rxnum);
    vdrv_queue(d, TXQ, txnum);
    vdrv_driver_ok(d);
    virtio_mmio_poll(d->t);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
    vdrv_ack(d);
    f->feats = feats;
    f->rx_stride = stride;
    f->rx_seen = f->tx_seen = f->tx_desc = 0;
    f->tx_off = 0;
    memset(f->rxc, 0, sizeof(f->rxc));
}

static struct virtio_net_stats stats(struct fx *f)
{
    struct virtio_net_stats s;
    virtio_net_get_stats(f->dev, &s);
    return s;
}

static uint64_t cfg(struct fx *f, unsigned off, unsigned size)
{
    uint64_t v;
    assert_true(virtio_mmio_read(f->d.t, VIRTIO_MMIO_CONFIG + off, size, &v));
    return v;
}

/* ---- receive side of the driver ---- */

static uint64_t rx_slot(struct fx *f, unsigned desc) { return RX_AREA + (uint64_t)desc * f->rx_stride; }

/* Post n one-descriptor receive chains of size bytes; the head is the
 * ring position, as a driver that recycles in order does. */
static void rx_post(struct fx *f, unsigned n, uint32_t size)
{
    struct vdrv *d = &f->d;
    assert_true(size <= f->rx_stride);
    for (unsigned i = 0; i < n; i++) {
        assert_true((uint16_t)(d->avail_idx[RXQ] - f->rx_seen) < d->num[RXQ]);
        uint16_t head = d->avail_idx[RXQ] & (d->num[RXQ] - 1);
        uint64_t a = rx_slot(f, head);
        memset(gp(d, a), 0xee, size);
        vdrv_desc(d, RXQ, head, a, size, VIRTQ_DESC_F_WRITE, 0);
        f->rxc[head] = (struct rxchain){ 1, { a }, { size }, size };
        vdrv_publish(d, RXQ, head);
    }
}

/* Post one chain of n writable descriptors head, head+1, ... */
static void rx_post_chain(struct fx *f, uint16_t head, unsigned n, const uint32_t *lens)
{
    struct vdrv *d = &f->d;
    struct rxchain c = { .nseg = n };
    for (unsigned s = 0; s < n; s++) {
        assert_true(lens[s] <= f->rx_stride);
        uint64_t a = rx_slot(f, head + s);
        memset(gp(d, a), 0xee, lens[s]);
        vdrv_desc(d, RXQ, head + s, a, lens[s], VIRTQ_DESC_F_WRITE | (s + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
                  (uint16_t)(head + s + 1));
        c.addr[s] = a;
        c.len[s] = lens[s];
        c.total += lens[s];
    }
    f->rxc[head] = c;
    vdrv_publish(d, RXQ, head);
}

static uint16_t rx_ready(struct fx *f) { return (uint16_t)(vdrv_used_idx(&f->d, RXQ) - f->rx_seen); }

/* Take one frame off the used ring as a driver does: the header from the
 * first chain, then num_buffers - 1 more chains (all of which must already
 * be published). Returns the frame length; lens gets each entry's used
 * length. */
static size_t rx_take(struct fx *f, struct rxhdr *rh, uint8_t *out, size_t cap, uint32_t *lens, unsigned maxlens)
{
    struct vdrv *d = &f->d;
    uint8_t raw[HLEN];
    size_t pos = 0; /* bytes so far, header included */
    unsigned nb = 1;
    for (unsigned k = 0; k < nb; k++) {
        assert_true(rx_ready(f) > 0);
        uint32_t id, len;
        vdrv_used(d, RXQ, f->rx_seen++, &id, &len);
        assert_true(id < d->num[RXQ]);
        struct rxchain *c = &f->rxc[id];
        assert_true(c->nseg > 0); /* posted and not yet used */
        assert_true(len > 0 && len <= c->total);
        if (lens && k < maxlens)
            lens[k] = len;
        uint32_t left = len;
        for (unsigned s = 0; s < c->nseg && left; s++) {
            const uint8_t *p = gp(d, c->addr[s]);
            uint32_t l = left < c->len[s] ? left : c->len[s];
            for (uint32_t i = 0; i < l; i++, pos++) {
                if (pos < HLEN)
                    raw[pos] = p[i];
                else {
                    assert_true(pos - HLEN < cap);
                    out[pos - HLEN] = p[i];
                }
            }
            left -= l;
        }
        c->nseg = 0;
        if (k == 0) {
            assert_true(len >= HLEN);
            uint16_t v[5];
            memcpy(v, raw + 2, sizeof(v));
            rh->h = (struct virtio_net_hdr){ raw[0], raw[1], le16toh(v[0]), le16toh(v[1]), le16toh(v[2]),
                                             le16toh(v[3]) };
            rh->num_buffers = le16toh(v[4]);
            nb = rh->num_buffers;
            assert_true(nb >= 1);
            if (!(f->feats & FEAT_MRG))
                assert_int_equal(nb, 1);
        }
    }
    return pos - HLEN;
}

/* Hand the device a frame for the guest, cut into `pieces` uneven iovecs. */
static bool rx_in(struct fx *f, const struct virtio_net_hdr *h, const uint8_t *frame, size_t len, unsigned pieces)
{
    struct iovec iov[16];
    assert_true(pieces >= 1 && pieces <= 16);
    size_t at = 0;
    for (unsigned i = 0; i < pieces; i++) {
        size_t cut = len * (i + 1) / pieces, sub = (i * 37) % 11;
        size_t end = i + 1 == pieces ? len : cut > sub ? cut - sub : 0;
        if (end < at)
            end = at;
        if (end > len)
            end = len;
        iov[i] = (struct iovec){ (void *)(frame + at), end - at };
        at = end;
    }
    return virtio_net_receive(f->dev, h, iov, (int)pieces);
}

/* Largest frame without segmentation for the default MTU: Ethernet header
 * and a VLAN tag on 1500 bytes. */
#define PLAIN_MAX (1500 + 14 + 4)

/* Frame seq of len bytes, made by pat(), for the guest. Its header carries
 * seq and len so the driver side can tell frames apart; frames larger than
 * the MTU come as TCP segmentation offload, the only way they can. */
static bool rx_seq(struct fx *f, uint8_t *buf, size_t len, uint32_t seq, unsigned pieces)
{
    pat(buf, len, seq);
    struct virtio_net_hdr h = { .csum_start = (uint16_t)seq, .hdr_len = (uint16_t)len };
    if (len > PLAIN_MAX) {
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = 1448;
        h.csum_offset = 16;
    }
    return rx_in(f, &h, buf, len, pieces);
}

/* Take a frame made by rx_seq and check it is frame seq of len bytes. */
static void rx_expect(struct fx *f, uint8_t *buf, size_t len, uint32_t seq)
{
    struct rxhdr rh;
    size_t got = rx_take(f, &rh, buf, FMAX, NULL, 0);
    assert_int_equal(rh.h.csum_start, (uint16_t)seq);
    assert_int_equal(got, len);
    assert_int_equal(rh.h.hdr_len, (uint16_t)len);
    check_pat(buf, len, seq);
}

/* ---- transmit side of the driver ---- */

static uint64_t tx_alloc(struct fx *f, uint64_t size)
{
    size = (size + 63) & ~63ull;
    if (f->tx_off + size + 64 > TX_AREA_SIZE)
        f->tx_off = 0;
    assert_true(f->tx_off + size <= TX_AREA_SIZE);
    uint64_t a = TX_AREA + f->tx_off;
    f->tx_off += size + 64; /* a gap: pieces are not contiguous */
    return a;
}

static void put_hdr(uint8_t out[HLEN], uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
                    uint16_t csum_start, uint16_t csum_offset)
{
    out[0] = flags;
    out[1] = gso_type;
    uint16_t v[5] = { htole16(hdr_len), htole16(gso_size), htole16(csum_start), htole16(csum_offset), 0 };
    memcpy(out + 2, v, sizeof(v));
}

/* Put header + frame on the transmit queue as a chain of descriptors of
 * sizes split[0..nsplit) and the rest, directly or in an indirect table.
 * Returns the head. */
static uint16_t tx_add(struct fx *f, const uint8_t hdr[HLEN], const uint8_t *frame, size_t len, const uint32_t *split,
                       unsigned nsplit, bool indirect)
{
    struct vdrv *d = &f->d;
    size_t total = HLEN + len, pos = 0;
    unsigned ndesc = nsplit + 1, ring = indirect ? 1 : ndesc;
    if (f->tx_desc + ring > d->num[TXQ])
        f->tx_desc = 0;
    uint16_t head = f->tx_desc;
    uint64_t table = indirect ? tx_alloc(f, 16ull * ndesc) : 0;
    for (unsigned i = 0; i < ndesc; i++) {
        size_t l = i < nsplit ? split[i] : total - pos;
        assert_true(pos + l <= total);
        uint64_t a = tx_alloc(f, l + 1);
        uint8_t *p = gp(d, a);
        for (size_t k = 0; k < l; k++, pos++)
            p[k] = pos < HLEN ? hdr[pos] : frame[pos - HLEN];
        uint16_t fl = i + 1 < ndesc ? VIRTQ_DESC_F_NEXT : 0;
        if (indirect)
            vdrv_desc_in(d, table, i, a, (uint32_t)l, fl, (uint16_t)(i + 1));
        else
            vdrv_desc(d, TXQ, head + i, a, (uint32_t)l, fl, (uint16_t)(head + i + 1));
    }
    if (indirect)
        vdrv_desc(d, TXQ, head, table, 16 * ndesc, VIRTQ_DESC_F_INDIRECT, 0);
    f->tx_desc = (uint16_t)(f->tx_desc + ring);
    vdrv_publish(d, TXQ, head);
    return head;
}

/* The chain came back on the used ring, with nothing written. */
static void tx_reap(struct fx *f, uint16_t head)
{
    struct vdrv *d = &f->d;
    assert_true((uint16_t)(vdrv_used_idx(d, TXQ) - f->tx_seen) >= 1);
    uint32_t id, len;
    vdrv_used(d, TXQ, f->tx_seen++, &id, &len);
    assert_int_equal(id, head);
    assert_int_equal(len, 0);
}

/* Send one frame, run the device, take the chain back. Returns whether
 * opts.tx was called (exactly once). */
static bool tx_send(struct fx *f, const uint8_t hdr[HLEN], const uint8_t *frame, size_t len, const uint32_t *split,
                    unsigned nsplit, bool indirect)
{
    int calls = f->tx_calls;
    uint16_t head = tx_add(f, hdr, frame, len, split, nsplit, indirect);
    vdrv_kick(&f->d, TXQ);
    tx_reap(f, head);
    assert_int_equal(vdrv_used_idx(&f->d, TXQ), f->tx_seen);
    assert_true(f->tx_calls - calls <= 1);
    return f->tx_calls > calls;
}

static void check_tx_hdr(struct fx *f, uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
                         uint16_t csum_start, uint16_t csum_offset)
{
    assert_int_equal(f->tx_h.flags, flags);
    assert_int_equal(f->tx_h.gso_type, gso_type);
    assert_int_equal(f->tx_h.hdr_len, hdr_len);
    assert_int_equal(f->tx_h.gso_size, gso_size);
    assert_int_equal(f->tx_h.csum_start, csum_start);
    assert_int_equal(f->tx_h.csum_offset, csum_offset);
}

/* ---- feature negotiation and config space ---- */

static void test_features_config(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    uint64_t feat = vdrv_device_features(d);
    const uint64_t want = FEAT_ALL;
    assert_int_equal(feat & want, want);
    /* Nothing the device does not implement: the control queue and what
     * needs it, multiqueue, UFO, RSC, hashing. */
    const unsigned never[] = { 2, 6, 10, 14, 17, 18, 19, 20, 21, 22, 23, 54, 55, 56, 57, 60, 61, 62 };
    for (unsigned i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        assert_false(feat & F(never[i]));

    /* Everything offered is accepted, and becomes the negotiated set. */
    assert_true(vdrv_negotiate(d, feat) & VIRTIO_STATUS_FEATURES_OK);
    assert_int_equal(f->dev->features, feat);
    /* A minimal driver: MAC only. */
    assert_true(vdrv_negotiate(d, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC)) & VIRTIO_STATUS_FEATURES_OK);
    /* Something not offered is refused. */
    assert_false(vdrv_negotiate(d, FEAT_BASE | F(17)) & VIRTIO_STATUS_FEATURES_OK);
    assert_false(vdrv_negotiate(d, FEAT_BASE | F(VIRTIO_NET_F_HOST_TSO4) | F(14)) & VIRTIO_STATUS_FEATURES_OK);

    /* Config space, little-endian, any access width. */
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(cfg(f, i, 1), MAC[i]);
    assert_int_equal(cfg(f, 0, 4), 0x12005452u);
    assert_int_equal(cfg(f, 4, 2), 0x5634u);
    assert_int_equal(cfg(f, 6, 2), VIRTIO_NET_S_LINK_UP);
    assert_int_equal(cfg(f, 8, 2), 1);    /* max_virtqueue_pairs */
    assert_int_equal(cfg(f, 10, 2), 1500); /* MTU: 0 means 1500 */
    uint32_t speed = (uint32_t)cfg(f, 12, 4);
    assert_true(speed > 0); /* Mb/s; 0xffffffff would be "unknown" */
    assert_int_equal(cfg(f, 16, 1), 1); /* full duplex */
    assert_int_equal(cfg(f, 8, 8), 1 | (uint64_t)1500 << 16 | (uint64_t)speed << 32);

    /* Link down from the start; a jumbo MTU. */
    fx_close(f);
    struct virtio_net_opts o = default_opts();
    o.link_up = false;
    o.mtu = 9000;
    fx_open(f, &o);
    assert_int_equal(cfg(f, 6, 2) & VIRTIO_NET_S_LINK_UP, 0);
    assert_int_equal(cfg(f, 10, 2), 9000);
}

static void test_set_link(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    /* Before DRIVER_OK the field changes but no interrupt is raised. */
    virtio_net_set_link(f->dev, false);
    assert_int_equal(cfg(f, 6, 2) & VIRTIO_NET_S_LINK_UP, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(d->irq_raises, 0);
    virtio_net_set_link(f->dev, true);

    fx_init(f, FEAT_ALL, 16, 16, 1536);
    int raises = d->irq_raises;
    uint32_t gen = vdrv_r32(d, VIRTIO_MMIO_CONFIG_GENERATION);
    assert_int_equal(cfg(f, 6, 2), VIRTIO_NET_S_LINK_UP);

    virtio_net_set_link(f->dev, false);
    assert_int_equal(cfg(f, 6, 2) & VIRTIO_NET_S_LINK_UP, 0);
    assert_true(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(d->irq_level, 1);
    assert_int_equal(d->irq_raises, raises + 1);
    uint32_t gen2 = vdrv_r32(d, VIRTIO_MMIO_CONFIG_GENERATION);
    assert_int_not_equal(gen2, gen);
    vdrv_ack(d);
    assert_int_equal(d->irq_level, 0);

    /* No change, no interrupt. */
    virtio_net_set_link(f->dev, false);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_CONFIG_GENERATION), gen2);
    assert_int_equal(d->irq_raises, raises + 1);

    virtio_net_set_link(f->dev, true);
    assert_int_equal(cfg(f, 6, 2), VIRTIO_NET_S_LINK_UP);
    assert_true(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(d->irq_raises, raises + 2);
    assert_false(vdrv_needs_reset(d));
}

/* ---- transmit ---- */

static void test_tx_layouts(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 16, 64, 1536);
    uint8_t *frame = f->frame;
    uint8_t h[HLEN];
    uint64_t bytes = 0;
    int frames = 0;
    int raises = f->d.irq_raises;

    /* Header and frame in one descriptor. */
    pat(frame, 60, 1);
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    assert_true(tx_send(f, h, frame, 60, NULL, 0, false));
    assert_int_equal(f->tx_len, 60);
    assert_memory_equal(f->tx_frame, frame, 60);
    check_tx_hdr(f, 0, 0, 0, 0, 0, 0);
    assert_true(f->d.irq_raises > raises); /* the used buffer was signalled */
    bytes += 60, frames++;

    /* Header alone, the frame in three pieces; a checksum to finish.
     * DATA_VALID means nothing on transmit and is not passed on. */
    pat(frame, 1514, 2);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 34, 16);
    assert_true(tx_send(f, h, frame, 1514, (const uint32_t[]){ 12, 500, 300 }, 3, false));
    assert_int_equal(f->tx_len, 1514);
    assert_memory_equal(f->tx_frame, frame, 1514);
    check_tx_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
    bytes += 1514, frames++;

    /* The header itself split over descriptors, sharing one with the
     * frame; a TSO segment. */
    pat(frame, 9000, 3);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    assert_true(tx_send(f, h, frame, 9000, (const uint32_t[]){ 5, 20, 1 }, 3, false));
    assert_int_equal(f->tx_len, 9000);
    assert_memory_equal(f->tx_frame, frame, 9000);
    check_tx_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    bytes += 9000, frames++;

    /* Indirect table: TSO over IPv6 with ECN. */
    pat(frame, 4000, 4);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 86, 1440, 54, 16);
    assert_true(tx_send(f, h, frame, 4000, (const uint32_t[]){ 12, 100, 1000 }, 3, true));
    assert_int_equal(f->tx_len, 4000);
    assert_memory_equal(f->tx_frame, frame, 4000);
    check_tx_hdr(f, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 86, 1440, 54, 16);
    bytes += 4000, frames++;

    /* Indirect table of one descriptor; DATA_VALID alone becomes 0. */
    pat(frame, 100, 5);
    put_hdr(h, VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
    assert_true(tx_send(f, h, frame, 100, NULL, 0, true));
    assert_memory_equal(f->tx_frame, frame, 100);
    check_tx_hdr(f, 0, 0, 0, 0, 0, 0);
    bytes += 100, frames++;

    /* The largest frame there is, in an indirect table. */
    pat(frame, FMAX, 6);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    assert_true(tx_send(f, h, frame, FMAX, (const uint32_t[]){ 12, 30000, 20000 }, 3, true));
    assert_int_equal(f->tx_len, FMAX);
    assert_memory_equal(f->tx_frame, frame, FMAX);
    bytes += FMAX, frames++;

    /* The smallest: an Ethernet header and nothing else. */
    pat(frame, 14, 7);
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    assert_true(tx_send(f, h, frame, 14, (const uint32_t[]){ 13 }, 1, false));
    assert_int_equal(f->tx_len, 14);
    assert_memory_equal(f->tx_frame, frame, 14);
    bytes += 14, frames++;

    /* Several chains, one notification: all sent, in order. */
    int calls = f->tx_calls;
    uint16_t heads[5];
    for (unsigned i = 0; i < 5; i++) {
        pat(frame, 200 + i, 100 + i);
        heads[i] = tx_add(f, h, frame, 200 + i, (const uint32_t[]){ 12 }, i & 1, i == 3);
        bytes += 200 + i, frames++;
    }
    vdrv_kick(&f->d, TXQ);
    assert_int_equal(f->tx_calls, calls + 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(f->tx_seq[(calls + i) % 1024], 100 + i);
        tx_reap(f, heads[i]);
    }

    struct virtio_net_stats s = stats(f);
    assert_int_equal(s.tx_frames, frames);
    assert_int_equal(s.tx_bytes, bytes);
    assert_int_equal(s.tx_errors, 0);
    assert_false(vdrv_needs_reset(&f->d));
}

/* One frame the device must refuse: no call to opts.tx, counted, and the
 * buffers returned; the device keeps working. */
static void tx_refused(struct fx *f, const uint8_t h[HLEN], const uint8_t *frame, size_t len)
{
    struct virtio_net_stats before = stats(f);
    assert_false(tx_send(f, h, frame, len, (const uint32_t[]){ 12 }, len >= 1 ? 1 : 0, false));
    struct virtio_net_stats after = stats(f);
    assert_int_equal(after.tx_errors, before.tx_errors + 1);
    assert_int_equal(after.tx_frames, before.tx_frames);
    assert_false(vdrv_needs_reset(&f->d));
}

static void test_tx_bad_headers(void **state)
{
    struct fx *f = *state;
    uint8_t *frame = f->frame;
    pat(frame, FMAX + 64, 9);
    uint8_t h[HLEN];

    /* No host offloads negotiated: none may be used. */
    fx_init(f, FEAT_BASE | FEAT_GUEST_OFF | FEAT_MRG, 16, 16, 1536);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
    tx_refused(f, h, frame, 1514);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 86, 1440, 54, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    assert_true(tx_send(f, h, frame, 1514, NULL, 0, false));

    /* Checksum offload but no TSO. */
    fx_init(f, FEAT_BASE | F(VIRTIO_NET_F_CSUM), 16, 16, 1536);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
    assert_true(tx_send(f, h, frame, 1514, NULL, 0, false));
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    tx_refused(f, h, frame, 9000);

    /* One TSO flavour but not the other. */
    fx_init(f, FEAT_BASE | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 16, 16, 1536);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 86, 1440, 54, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    assert_true(tx_send(f, h, frame, 9000, NULL, 0, false));
    fx_init(f, FEAT_BASE | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO6), 16, 16, 1536);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 86, 1440, 54, 16);
    assert_true(tx_send(f, h, frame, 9000, NULL, 0, false));

    /* TSO without ECN: the ECN flavour is refused. */
    fx_init(f, FEAT_ALL & ~F(VIRTIO_NET_F_HOST_ECN), 16, 16, 1536);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 66, 1448, 34, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 86, 1440, 54, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34, 16);
    assert_true(tx_send(f, h, frame, 9000, NULL, 0, false));

    /* Everything negotiated: the values must still make sense. */
    fx_init(f, FEAT_ALL, 16, 16, 1536);
    /* Checksum positions: the 2-byte field must lie inside the frame. */
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 1500, 16);
    tx_refused(f, h, frame, 1514);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 1496, 16);
    assert_true(tx_send(f, h, frame, 1514, NULL, 0, false)); /* ends exactly at the end */
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0xffff, 0xffff);
    tx_refused(f, h, frame, 1514);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 1513);
    tx_refused(f, h, frame, 1514);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 9000, 16);
    tx_refused(f, h, frame, 9000);
    /* Segmentation with a segment size of 0. */
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 0, 34, 16);
    tx_refused(f, h, frame, 9000);
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 86, 0, 54, 16);
    tx_refused(f, h, frame, 9000);
    /* Kinds never offered (UFO, USO) and unknown ones. */
    const uint8_t kinds[] = { 2, 3, 5, 6, 0x7f, 0x83, 0x85, 0xff };
    for (unsigned i = 0; i < sizeof(kinds); i++) {
        put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, kinds[i], 42, 1472, 34, 6);
        tx_refused(f, h, frame, 9000);
    }
    /* Runts: less than a header and an Ethernet header. */
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    tx_refused(f, h, frame, 13);
    tx_refused(f, h, frame, 0);
    {
        struct virtio_net_stats before = stats(f);
        int calls = f->tx_calls;
        /* 6 bytes: not even a header. */
        vdrv_desc(&f->d, TXQ, 0, TX_AREA, 6, 0, 0);
        vdrv_publish(&f->d, TXQ, 0);
        vdrv_kick(&f->d, TXQ);
        tx_reap(f, 0);
        /* Nothing readable at all, only a writable buffer. */
        vdrv_desc(&f->d, TXQ, 1, TX_AREA, 100, VIRTQ_DESC_F_WRITE, 0);
        vdrv_publish(&f->d, TXQ, 1);
        vdrv_kick(&f->d, TXQ);
        tx_reap(f, 1);
        assert_int_equal(stats(f).tx_errors, before.tx_errors + 2);
        assert_int_equal(f->tx_calls, calls);
        assert_false(vdrv_needs_reset(&f->d));
    }
    /* Oversized: one byte more than the largest frame, and a chain that
     * names the same buffer over and over. */
    tx_refused(f, h, frame, FMAX + 1);
    {
        struct virtio_net_stats before = stats(f);
        int calls = f->tx_calls;
        put_hdr(gp(&f->d, TX_AREA), 0, 0, 0, 0, 0, 0);
        for (unsigned i = 0; i < 4; i++)
            vdrv_desc(&f->d, TXQ, 2 + i, TX_AREA, 40000, i < 3 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(3 + i));
        vdrv_publish(&f->d, TXQ, 2);
        vdrv_kick(&f->d, TXQ);
        tx_reap(f, 2);
        assert_int_equal(stats(f).tx_errors, before.tx_errors + 1);
        assert_int_equal(f->tx_calls, calls);
        assert_false(vdrv_needs_reset(&f->d));
    }
    assert_int_equal(vdrv_used_idx(&f->d, TXQ), f->tx_seen);

    /* Still working. */
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 86, 1440, 54, 16);
    pat(frame, 3000, 10);
    assert_true(tx_send(f, h, frame, 3000, NULL, 0, false));
    assert_memory_equal(f->tx_frame, frame, 3000);

    /* A ring violation, unlike a bad header, stops the device. */
    int calls = f->tx_calls;
    vdrv_desc(&f->d, TXQ, 0, RAM_BASE + RAM_SIZE - 16, 64, 0, 0);
    vdrv_publish(&f->d, TXQ, 0);
    vdrv_kick(&f->d, TXQ);
    assert_int_equal(f->tx_calls, calls);
    assert_int_equal(vdrv_used_idx(&f->d, TXQ), f->tx_seen);
    assert_true(vdrv_needs_reset(&f->d));
}

/* The ECN flag is an offload of its own (VIRTIO_NET_F_HOST_ECN): a driver
 * that did not negotiate it may not set it, with or without segmentation. */
static void test_tx_stray_ecn(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL & ~F(VIRTIO_NET_F_HOST_ECN), 16, 16, 1536);
    uint8_t frame[1514], h[HLEN];
    pat(frame, sizeof(frame), 11);
    put_hdr(h, 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0);
    struct virtio_net_stats before = stats(f);
    if (tx_send(f, h, frame, sizeof(frame), NULL, 0, false))
        fail_msg("gso_type %#x without VIRTIO_NET_F_HOST_ECN was handed to opts.tx (tx_errors %llu -> %llu)",
                 f->tx_h.gso_type, (unsigned long long)before.tx_errors, (unsigned long long)stats(f).tx_errors);
    assert_int_equal(stats(f).tx_errors, before.tx_errors + 1);
    assert_false(vdrv_needs_reset(&f->d));
    /* With segmentation the same flag is refused (test_tx_bad_headers). */
    put_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 66, 1448, 34, 16);
    tx_refused(f, h, frame, sizeof(frame));
}

/* The device kicks itself after a fair share of frames, so a guest that
 * keeps the queue full cannot hold the I/O thread, and nothing is lost. */
static void test_tx_budget(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 16, 8, 1536);
    uint8_t frame[60], h[HLEN];
    pat(frame, sizeof(frame), 12);
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    const int total = 600;
    f->republish_until = total;
    f->republish_head = tx_add(f, h, frame, sizeof(frame), NULL, 0, false);
    vdrv_kick(&f->d, TXQ);
    assert_true(f->tx_calls >= 1 && f->tx_calls < total);
    for (int i = 0; i < 10 && f->tx_calls < total; i++)
        virtio_mmio_poll(f->d.t); /* no QueueNotify: the device asked itself */
    assert_int_equal(f->tx_calls, total);
    assert_int_equal(vdrv_used_idx(&f->d, TXQ), (uint16_t)total);
    assert_int_equal(stats(f).tx_frames, total);
}

/* ---- receive without mergeable buffers ---- */

static void test_rx_single(void **state)
{
    struct fx *f = *state;
    const uint64_t feats = FEAT_BASE | F(VIRTIO_NET_F_GUEST_CSUM);
    fx_init(f, feats, 16, 16, 2048);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out;
    struct rxhdr rh;
    uint32_t lens[4];

    rx_post(f, 4, HLEN + 1514);
    vdrv_kick(d, RXQ); /* nothing waiting: nothing happens */
    assert_int_equal(rx_ready(f), 0);
    int raises = d->irq_raises;
    pat(frame, 1514, 20);
    struct virtio_net_hdr h = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16 };
    assert_true(rx_in(f, &h, frame, 1514, 3));
    assert_int_equal(rx_ready(f), 1);
    assert_true(d->irq_raises > raises);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 4), 1514);
    assert_int_equal(lens[0], HLEN + 1514);
    assert_int_equal(rh.num_buffers, 1);
    assert_int_equal(rh.h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(rh.h.gso_type, 0);
    assert_int_equal(rh.h.csum_start, 34);
    assert_int_equal(rh.h.csum_offset, 16);
    assert_memory_equal(out, frame, 1514);
    struct virtio_net_stats s = stats(f);
    assert_int_equal(s.rx_frames, 1);
    assert_int_equal(s.rx_bytes, 1514);
    assert_int_equal(s.rx_dropped, 0);

    /* Too large for the driver's buffers: dropped, and the buffer it was
     * tried on is still there for the next frame. */
    pat(frame, 1515, 21);
    assert_false(rx_in(f, &h, frame, 1515, 1));
    assert_int_equal(rx_ready(f), 0);
    assert_int_equal(stats(f).rx_dropped, 1);
    assert_true(rx_seq(f, frame, 100, 22, 2));
    uint32_t id, len;
    vdrv_used(d, RXQ, f->rx_seen, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, HLEN + 100);
    rx_expect(f, out, 100, 22);

    /* Larger than any frame: dropped. */
    assert_false(rx_seq(f, frame, FMAX + 1, 23, 1));
    assert_int_equal(stats(f).rx_dropped, 2);
    assert_int_equal(rx_ready(f), 0);
    /* More than 8 pieces, or none: refused. */
    assert_false(rx_seq(f, frame, 100, 24, 9));
    assert_false(virtio_net_receive(f->dev, &h, NULL, 0));
    assert_int_equal(rx_ready(f), 0);

    /* Buffers run out: frames wait until the driver gives some. */
    assert_true(rx_seq(f, frame, 1000, 25, 1));
    assert_true(rx_seq(f, frame, 1514, 26, 1));
    assert_true(rx_seq(f, frame, 1200, 27, 1));
    assert_true(rx_seq(f, frame, 14, 28, 1));
    assert_int_equal(rx_ready(f), 2);
    rx_expect(f, out, 1000, 25);
    rx_expect(f, out, 1514, 26);
    rx_post(f, 1, HLEN + 1514);
    assert_int_equal(rx_ready(f), 0); /* not without a notification */
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 1);
    rx_expect(f, out, 1200, 27);
    rx_post(f, 3, HLEN + 1514);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 1);
    rx_expect(f, out, 14, 28);
    assert_int_equal(stats(f).rx_frames, 6);

    /* A frame that waited for buffers and then finds them too small is
     * dropped then, and the frames behind it go on. */
    uint64_t dropped = stats(f).rx_dropped;
    assert_true(rx_seq(f, frame, 1500, 31, 1));
    assert_true(rx_seq(f, frame, 1400, 32, 1));
    assert_int_equal(rx_ready(f), 2); /* no buffers left */
    assert_true(rx_seq(f, frame, PLAIN_MAX, 33, 2)); /* 1530 > 1526 */
    assert_true(rx_seq(f, frame, 300, 34, 1));
    assert_int_equal(rx_ready(f), 2);
    assert_int_equal(stats(f).rx_dropped, dropped);
    rx_post(f, 3, HLEN + 1514);
    vdrv_kick(d, RXQ);
    assert_int_equal(stats(f).rx_dropped, dropped + 1);
    assert_int_equal(rx_ready(f), 3);
    rx_expect(f, out, 1500, 31);
    rx_expect(f, out, 1400, 32);
    rx_expect(f, out, 300, 34);

    /* Chains of several descriptors, header in a descriptor of its own. */
    fx_init(f, feats, 8, 16, 2048);
    rx_post_chain(f, 0, 2, (const uint32_t[]){ HLEN, 1514 });
    rx_post_chain(f, 2, 3, (const uint32_t[]){ 100, 100, 1400 });
    assert_true(rx_seq(f, frame, 1514, 29, 4));
    assert_true(rx_seq(f, frame, 1500, 30, 1));
    assert_int_equal(rx_ready(f), 2);
    rx_expect(f, out, 1514, 29);
    rx_expect(f, out, 1500, 30);
    assert_false(vdrv_needs_reset(d));
}

/* Without segmentation offload a frame may not exceed the MTU the driver
 * was told (plus Ethernet header and VLAN tag); with it, up to 64 KiB. */
static void test_rx_mtu(void **state)
{
    struct fx *f = *state;
    uint8_t *frame = f->frame, *out = f->out;
    struct virtio_net_hdr plain = { 0 }, tso = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16 },
                          tso_ecn = tso, ecn_only = { 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, 0 };
    tso_ecn.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    struct rxhdr rh;
    fx_init(f, FEAT_ALL, 64, 16, 1536);
    rx_post(f, 64, 1536);
    pat(frame, 9100, 40);
    assert_true(rx_in(f, &plain, frame, PLAIN_MAX, 2));
    assert_int_equal(rx_take(f, &rh, out, FMAX, NULL, 0), PLAIN_MAX);
    assert_memory_equal(out, frame, PLAIN_MAX);
    assert_false(rx_in(f, &plain, frame, PLAIN_MAX + 1, 2));
    assert_false(rx_in(f, &ecn_only, frame, PLAIN_MAX + 1, 1));
    assert_int_equal(stats(f).rx_dropped, 2);
    assert_int_equal(rx_ready(f), 0);
    assert_true(rx_in(f, &tso, frame, PLAIN_MAX + 1, 1));
    assert_int_equal(rx_take(f, &rh, out, FMAX, NULL, 0), PLAIN_MAX + 1);
    assert_int_equal(rh.h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_true(rx_in(f, &tso_ecn, frame, 9100, 3));
    assert_int_equal(rx_take(f, &rh, out, FMAX, NULL, 0), 9100);
    assert_int_equal(rh.h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
    assert_memory_equal(out, frame, 9100);

    /* A jumbo MTU. */
    fx_close(f);
    struct virtio_net_opts o = default_opts();
    o.mtu = 9000;
    fx_open(f, &o);
    fx_init(f, FEAT_ALL, 64, 16, 1536);
    rx_post(f, 64, 1536);
    assert_true(rx_in(f, &plain, frame, 9000 + 18, 4));
    assert_int_equal(rx_take(f, &rh, out, FMAX, NULL, 0), 9018);
    assert_memory_equal(out, frame, 9018);
    assert_false(rx_in(f, &plain, frame, 9000 + 19, 4));
    assert_int_equal(stats(f).rx_dropped, 1);
}

/* ---- receive with mergeable buffers ---- */

static void test_rx_mrg_64k(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 64, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out;
    uint32_t lens[64];
    struct rxhdr rh;

    rx_post(f, 64, 1536);
    vdrv_kick(d, RXQ);
    pat(frame, BIG, 30);
    struct virtio_net_hdr h = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1460, 34, 16 };
    int raises = d->irq_raises;
    uint64_t notes = d->notes;
    assert_true(rx_in(f, &h, frame, BIG, 5));
    const unsigned n = (BIG + HLEN + 1535) / 1536;
    assert_int_equal(n, 43);
    assert_int_equal(rx_ready(f), n); /* all of them, at once */
    assert_true(d->irq_raises > raises);
    assert_true(d->notes - notes >= BIG + HLEN);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 64), BIG);
    assert_int_equal(rh.num_buffers, n);
    for (unsigned i = 0; i + 1 < n; i++)
        assert_int_equal(lens[i], 1536);
    assert_int_equal(lens[n - 1], BIG + HLEN - (n - 1) * 1536);
    assert_int_equal(rh.h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(rh.h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(rh.h.hdr_len, 66);
    assert_int_equal(rh.h.gso_size, 1460);
    assert_int_equal(rh.h.csum_start, 34);
    assert_int_equal(rh.h.csum_offset, 16);
    assert_memory_equal(out, frame, BIG);
    /* Chains are used in the order the driver made them available. */
    for (unsigned i = 0; i < n; i++) {
        uint32_t id, len;
        vdrv_used(d, RXQ, (uint16_t)i, &id, &len);
        assert_int_equal(id, i);
    }

    /* A small frame after it: one buffer, num_buffers 1. */
    assert_true(rx_seq(f, frame, 60, 31, 1));
    assert_int_equal(rx_ready(f), 1);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 64), 60);
    assert_int_equal(rh.num_buffers, 1);
    assert_int_equal(lens[0], HLEN + 60);
    check_pat(out, 60, 31);
    /* Exactly one buffer's worth, and one byte more. */
    assert_true(rx_seq(f, frame, 1536 - HLEN, 32, 2));
    assert_int_equal(rx_ready(f), 1);
    rx_expect(f, out, 1536 - HLEN, 32);
    assert_true(rx_seq(f, frame, 1537 - HLEN, 33, 2));
    assert_int_equal(rx_ready(f), 2);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 64), 1537 - HLEN);
    assert_int_equal(rh.num_buffers, 2);
    assert_int_equal(lens[0], 1536);
    assert_int_equal(lens[1], 1);
    check_pat(out, 1537 - HLEN, 33);

    struct virtio_net_stats s = stats(f);
    assert_int_equal(s.rx_frames, 4);
    assert_int_equal(s.rx_bytes, BIG + 60 + 1536 - HLEN + 1537 - HLEN);
    assert_int_equal(s.rx_dropped, 0);

    /* The first chain's header split over two descriptors, num_buffers
     * straddling them. */
    fx_init(f, FEAT_ALL, 8, 16, 1536);
    rx_post_chain(f, 0, 2, (const uint32_t[]){ 11, 1525 });
    for (uint16_t i = 2; i < 8; i++)
        rx_post_chain(f, i, 1, (const uint32_t[]){ 1536 });
    assert_true(rx_seq(f, frame, 4000, 34, 3));
    assert_int_equal(rx_ready(f), 3);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 64), 4000);
    assert_int_equal(rh.num_buffers, 3);
    assert_int_equal(rh.h.csum_start, 34);
    check_pat(out, 4000, 34);
    assert_false(vdrv_needs_reset(d));
}

/* Buffers run out halfway through a frame: nothing is published until the
 * whole frame fits, later frames wait behind it, and all arrive in order
 * once the driver adds buffers and notifies. */
static void rx_mrg_wait(struct fx *f, bool event_idx)
{
    uint64_t feats = event_idx ? FEAT_ALL : FEAT_ALL & ~F(VIRTIO_F_EVENT_IDX);
    fx_init(f, feats, 64, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out;
    uint32_t lens[64];
    struct rxhdr rh;

    rx_post(f, 20, 1536);
    vdrv_kick(d, RXQ);
    assert_true(rx_seq(f, frame, BIG, 40, 3));
    assert_true(rx_seq(f, frame, 100, 41, 1));
    assert_true(rx_seq(f, frame, 1514, 42, 2));
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);
    struct virtio_net_stats s = stats(f);
    assert_int_equal(s.rx_frames, 0);
    assert_int_equal(s.rx_dropped, 0);

    /* Not enough yet. */
    rx_post(f, 10, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);
    assert_false(vdrv_needs_reset(d));

    /* Enough for all three. */
    int raises = d->irq_raises;
    rx_post(f, 20, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(vdrv_used_idx(d, RXQ), 43 + 1 + 1);
    assert_true(d->irq_raises > raises);
    assert_int_equal(rx_take(f, &rh, out, FMAX, lens, 64), BIG);
    assert_int_equal(rh.num_buffers, 43);
    assert_int_equal(rh.h.csum_start, 40);
    check_pat(out, BIG, 40);
    for (unsigned i = 0; i < 42; i++)
        assert_int_equal(lens[i], 1536);
    rx_expect(f, out, 100, 41);
    rx_expect(f, out, 1514, 42);
    s = stats(f);
    assert_int_equal(s.rx_frames, 3);
    assert_int_equal(s.rx_bytes, BIG + 100 + 1514);
    assert_int_equal(s.rx_dropped, 0);

    /* And again, the wait now starting inside the ring's wrap. */
    assert_true(rx_seq(f, frame, BIG, 43, 8));
    assert_true(rx_seq(f, frame, 3000, 44, 1));
    assert_int_equal(rx_ready(f), 0);
    rx_post(f, 30, 1536); /* 35 */
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 0);
    rx_post(f, 25, 1536); /* 60 */
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 43 + 2);
    rx_expect(f, out, BIG, 43);
    rx_expect(f, out, 3000, 44);
    assert_false(vdrv_needs_reset(d));
}

static void test_rx_mrg_wait(void **state)
{
    rx_mrg_wait(*state, true);
}

static void test_rx_mrg_wait_no_event_idx(void **state)
{
    rx_mrg_wait(*state, false);
}

/* A guest that takes nothing costs bounded memory: past the backlog's
 * bound frames are dropped and counted; what was kept arrives in order. */
static void test_rx_backlog_bound(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 256, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out;

    const unsigned many = 1000;
    unsigned kept = 0;
    for (unsigned i = 0; i < many; i++) {
        bool ok = rx_seq(f, frame, 1000, i, 1);
        if (ok)
            assert_int_equal(kept++, i); /* kept ones are a prefix */
    }
    assert_true(kept >= 32);  /* a backlog worth having */
    assert_true(kept <= 256); /* and a bounded one */
    struct virtio_net_stats s = stats(f);
    assert_int_equal(s.rx_dropped, many - kept);
    assert_int_equal(s.rx_frames, 0);
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);

    rx_post(f, 256, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), kept);
    for (unsigned i = 0; i < kept; i++)
        rx_expect(f, out, 1000, i);
    assert_int_equal(stats(f).rx_frames, kept);

    /* Large frames: the bound is on bytes too. */
    const unsigned nbig = 100;
    unsigned kept_big = 0;
    for (unsigned i = 0; i < nbig; i++) {
        bool ok = rx_seq(f, frame, BIG, 5000 + i, 2);
        if (ok)
            assert_int_equal(kept_big++, i);
    }
    assert_true(kept_big >= 1);
    assert_true((uint64_t)kept_big * BIG <= (4u << 20));
    s = stats(f);
    assert_int_equal(s.rx_dropped, many - kept + nbig - kept_big);
    /* The driver takes them as it can. */
    unsigned got = 0;
    for (int round = 0; round < 1000 && got < kept_big; round++) {
        unsigned free_slots = (uint16_t)(d->num[RXQ] - (uint16_t)(d->avail_idx[RXQ] - f->rx_seen));
        rx_post(f, free_slots, 1536);
        vdrv_kick(d, RXQ);
        while (rx_ready(f))
            rx_expect(f, out, BIG, 5000 + got++);
    }
    assert_int_equal(got, kept_big);
    assert_false(vdrv_needs_reset(d));
}

/* A frame larger than all the buffers the ring can ever hold at once can
 * never be taken: it must be dropped, not left blocking every later frame
 * (the driver cannot add buffers: all of its ring is already with us). */
static void test_rx_mrg_never_fits(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 8, 16, 1536);
    uint8_t *frame = f->frame, *out = f->out;
    rx_post(f, 8, 1536); /* 12 KiB in all */
    vdrv_kick(&f->d, RXQ);
    (void)rx_seq(f, frame, BIG, 50, 1);
    assert_true(rx_seq(f, frame, 100, 51, 1));
    if (rx_ready(f) != 1) {
        /* Show it is stuck for good: the driver has nothing more to give,
         * kicking changes nothing, and the backlog fills behind it. */
        vdrv_kick(&f->d, RXQ);
        unsigned kept = 0;
        for (unsigned i = 0; i < 1000; i++)
            kept += rx_seq(f, frame, 100, 52 + i, 1);
        struct virtio_net_stats s = stats(f);
        fail_msg("a %u-byte frame larger than the whole ring (8 x 1536) blocks the receive queue: "
                 "%u frames published, %u more queued behind it, rx_dropped %llu",
                 BIG, (unsigned)rx_ready(f), kept, (unsigned long long)s.rx_dropped);
    }
    rx_expect(f, out, 100, 51);
    assert_int_equal(stats(f).rx_dropped, 1);
}

/* With mergeable buffers each buffer must hold at least the header
 * (5.1.6.3.1): one that cannot is a driver error that stops the device. */
static void test_rx_mrg_tiny_buffer(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 8, 16, 1536);
    uint8_t frame[100], out[100];
    rx_post(f, 1, 8);
    assert_false(rx_seq(f, frame, 60, 60, 1));
    assert_true(vdrv_needs_reset(&f->d));
    assert_int_equal(rx_ready(f), 0);
    /* A reset brings it back. */
    fx_init(f, FEAT_ALL, 8, 16, 1536);
    rx_post(f, 1, 1536);
    assert_true(rx_seq(f, frame, 60, 61, 1));
    rx_expect(f, out, 60, 61);
}

/* Many frames of random sizes in random pieces against buffers of random
 * sizes posted at random moments: every frame arrives, whole and in order. */
static void test_rx_mrg_random(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 128, 16, 2048);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out;
    uint32_t rng = 12345;
#define RND() (rng = rng * 1103515245u + 12345u, (rng >> 8) & 0xffffff)
    uint32_t sent = 0, taken = 0;
    for (int step = 0; step < 3000; step++) {
        unsigned what = RND() % 4;
        if (what == 0 && sent - taken < 40) {
            size_t len = 14 + RND() % 20000;
            assert_true(rx_seq(f, frame, len, sent, 1 + RND() % 8));
            sent++;
        } else if (what == 1) {
            unsigned room = (uint16_t)(d->num[RXQ] - (uint16_t)(d->avail_idx[RXQ] - f->rx_seen));
            unsigned n = room ? RND() % (room + 1) : 0;
            for (unsigned i = 0; i < n; i++)
                rx_post(f, 1, 256 + RND() % (2048 - 256 + 1));
            vdrv_kick(d, RXQ);
        } else if (what == 2) {
            /* Take what is there; a frame is either all there or absent. */
            while (rx_ready(f)) {
                struct rxhdr rh;
                size_t got = rx_take(f, &rh, out, FMAX, NULL, 0);
                assert_int_equal(rh.h.csum_start, (uint16_t)taken);
                assert_int_equal(got & 0xffff, rh.h.hdr_len);
                check_pat(out, got, taken);
                taken++;
            }
        }
    }
    /* Drain. */
    for (int round = 0; round < 1000 && taken < sent; round++) {
        unsigned room = (uint16_t)(d->num[RXQ] - (uint16_t)(d->avail_idx[RXQ] - f->rx_seen));
        rx_post(f, room, 2048);
        vdrv_kick(d, RXQ);
        while (rx_ready(f)) {
            struct rxhdr rh;
            size_t got = rx_take(f, &rh, out, FMAX, NULL, 0);
            assert_int_equal(rh.h.csum_start, (uint16_t)taken);
            check_pat(out, got, taken);
            taken++;
        }
    }
#undef RND
    assert_int_equal(taken, sent);
    assert_true(sent > 300);
    assert_int_equal(stats(f).rx_dropped, 0);
    assert_int_equal(stats(f).rx_frames, sent);
    assert_false(vdrv_needs_reset(d));
}

/* ---- a transmit handler that answers at once ---- */

static void test_reentrant_reply(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 16, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t frame[64], out[256], h[HLEN];
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    f->reply = true;

    /* Buffers there: the answer is in the receive queue when the transmit
     * notification has been handled. */
    rx_post(f, 4, 1536);
    vdrv_kick(d, RXQ);
    pat(frame, 42, 70);
    assert_true(tx_send(f, h, frame, 42, NULL, 0, false));
    assert_int_equal(f->replies_ok, 1);
    assert_int_equal(rx_ready(f), 1);
    struct rxhdr rh;
    assert_int_equal(rx_take(f, &rh, out, sizeof(out), NULL, 0), 60);
    check_pat(out, 60, 0x10000u + 70);

    /* Five requests in one go, three buffers left: three answers now, two
     * once the driver gives buffers, all in order. */
    uint16_t heads[5];
    for (unsigned i = 0; i < 5; i++) {
        pat(frame, 42, 71 + i);
        heads[i] = tx_add(f, h, frame, 42, NULL, 0, i == 2);
    }
    vdrv_kick(d, TXQ);
    for (unsigned i = 0; i < 5; i++)
        tx_reap(f, heads[i]);
    assert_int_equal(f->replies_ok, 6);
    assert_int_equal(f->replies_failed, 0);
    assert_int_equal(rx_ready(f), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(rx_take(f, &rh, out, sizeof(out), NULL, 0), 60);
        check_pat(out, 60, 0x10000u + 71 + i);
    }
    rx_post(f, 4, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 2);
    for (unsigned i = 3; i < 5; i++) {
        assert_int_equal(rx_take(f, &rh, out, sizeof(out), NULL, 0), 60);
        check_pat(out, 60, 0x10000u + 71 + i);
    }

    /* Buffers run out, a frame from the network already waits: the
     * answer queues behind it. */
    assert_true(rx_seq(f, out, 100, 80, 1));
    assert_true(rx_seq(f, out, 100, 81, 1));
    assert_true(rx_seq(f, out, 100, 82, 1));
    assert_int_equal(rx_ready(f), 2);
    pat(frame, 42, 83);
    assert_true(tx_send(f, h, frame, 42, NULL, 0, false));
    assert_int_equal(f->replies_ok, 7);
    rx_expect(f, out, 100, 80);
    rx_expect(f, out, 100, 81);
    assert_int_equal(rx_ready(f), 0);
    rx_post(f, 4, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 2);
    rx_expect(f, out, 100, 82);
    assert_int_equal(rx_take(f, &rh, out, sizeof(out), NULL, 0), 60);
    check_pat(out, 60, 0x10000u + 83);
    assert_int_equal(stats(f).rx_dropped, 0);
    assert_false(vdrv_needs_reset(d));
}

/* ---- link down ---- */

static void test_link_down(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 16, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t frame[1514], out[1514], h[HLEN];
    rx_post(f, 4, 1536);
    vdrv_kick(d, RXQ);
    virtio_net_set_link(f->dev, false);
    vdrv_ack(d);

    assert_false(rx_seq(f, frame, 1000, 90, 1));
    assert_int_equal(stats(f).rx_dropped, 1);
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);
    /* Transmit: the guest gets its buffers back, nothing goes out. */
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    pat(frame, 1514, 91);
    assert_false(tx_send(f, h, frame, 1514, NULL, 0, false));
    assert_false(tx_send(f, h, frame, 60, (const uint32_t[]){ 12 }, 1, true));
    assert_int_equal(stats(f).tx_errors, 0);
    assert_false(vdrv_needs_reset(d));

    virtio_net_set_link(f->dev, true);
    assert_true(rx_seq(f, frame, 1000, 92, 1));
    uint32_t id, len;
    vdrv_used(d, RXQ, 0, &id, &len);
    assert_int_equal(id, 0); /* the first buffer: the dropped frame took none */
    rx_expect(f, out, 1000, 92);
    assert_true(tx_send(f, h, frame, 1514, NULL, 0, false));
    assert_memory_equal(f->tx_frame, frame, 1514);
}

/* ---- what the guest accepts ---- */

static void test_accepts(void **state)
{
    struct fx *f = *state;
    const uint8_t flagset[] = { 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID,
                                VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID };
    const uint8_t gsos[] = { VIRTIO_NET_HDR_GSO_NONE,
                             VIRTIO_NET_HDR_GSO_TCPV4,
                             VIRTIO_NET_HDR_GSO_TCPV6,
                             VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
                             VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN,
                             3 /* UDP (UFO) */,
                             5 /* UDP_L4 (USO) */,
                             2,
                             0x7f,
                             3 | VIRTIO_NET_HDR_GSO_ECN };
    const unsigned guest[] = { VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
                               VIRTIO_NET_F_GUEST_ECN };
    unsigned checked = 0;
    for (unsigned combo = 0; combo < 16; combo++) {
        uint64_t feats = FEAT_BASE | FEAT_HOST_OFF | FEAT_MRG;
        for (unsigned b = 0; b < 4; b++)
            if (combo & (1u << b))
                feats |= F(guest[b]);
        fx_init(f, feats, 8, 8, 1536);
        bool csum = combo & 1, tso4 = combo & 2, tso6 = combo & 4, ecn = combo & 8;
        for (unsigned i = 0; i < sizeof(flagset); i++) {
            for (unsigned j = 0; j < sizeof(gsos); j++) {
                uint8_t fl = flagset[i], g = gsos[j], base = g & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
                /* The spec has segmented frames always carry NEEDS_CSUM. */
                if (base != VIRTIO_NET_HDR_GSO_NONE && !(fl & VIRTIO_NET_HDR_F_NEEDS_CSUM))
                    continue;
                bool want = true;
                if ((fl & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !csum)
                    want = false;
                if (base == VIRTIO_NET_HDR_GSO_TCPV4 && !tso4)
                    want = false;
                if (base == VIRTIO_NET_HDR_GSO_TCPV6 && !tso6)
                    want = false;
                if (base != VIRTIO_NET_HDR_GSO_NONE && base != VIRTIO_NET_HDR_GSO_TCPV4 &&
                    base != VIRTIO_NET_HDR_GSO_TCPV6)
                    want = false;
                if ((g & VIRTIO_NET_HDR_GSO_ECN) && !ecn)
                    want = false;
                struct virtio_net_hdr h = { fl, g, 54, 1448, 34, 16 };
                if (virtio_net_accepts(f->dev, &h) != want)
                    fail_msg("features %#llx flags %#x gso_type %#x: accepts should be %d",
                             (unsigned long long)feats, fl, g, want);
                checked++;
            }
        }
    }
    assert_true(checked > 16 * 20);
    /* Before any negotiation only plain frames are taken. */
    vdrv_w32(&f->d, VIRTIO_MMIO_STATUS, 0);
    struct virtio_net_hdr plain = { 0 }, cs = { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16 },
                          tso = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16 };
    assert_true(virtio_net_accepts(f->dev, &plain));
    assert_false(virtio_net_accepts(f->dev, &cs));
    assert_false(virtio_net_accepts(f->dev, &tso));
}

/* ---- reset ---- */

static void test_reset_midway(void **state)
{
    struct fx *f = *state;
    fx_init(f, FEAT_ALL, 64, 16, 1536);
    struct vdrv *d = &f->d;
    uint8_t *frame = f->frame, *out = f->out, h[HLEN];
    put_hdr(h, 0, 0, 0, 0, 0, 0);

    /* Half a frame's worth of buffers, a large frame waiting for more, and
     * frames behind it, among them a transmit handler's answer. */
    rx_post(f, 20, 1536);
    vdrv_kick(d, RXQ);
    assert_true(rx_seq(f, frame, BIG, 100, 4));
    assert_true(rx_seq(f, frame, 500, 101, 1));
    assert_true(rx_seq(f, frame, 600, 102, 1));
    f->reply = true;
    pat(frame, 42, 103);
    assert_true(tx_send(f, h, frame, 42, NULL, 0, false));
    f->reply = false;
    assert_int_equal(f->replies_ok, 1);
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);

    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_STATUS), 0);
    /* Not running: frames are dropped, nothing is touched. */
    uint64_t dropped = stats(f).rx_dropped;
    assert_false(rx_seq(f, frame, 500, 104, 1));
    assert_int_equal(stats(f).rx_dropped, dropped + 1);
    vdrv_kick(d, RXQ);
    vdrv_kick(d, TXQ);

    /* The new driver sees none of the old frames. */
    fx_init(f, FEAT_ALL, 64, 16, 1536);
    rx_post(f, 64, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(vdrv_used_idx(d, RXQ), 0);
    assert_true(rx_seq(f, frame, 2000, 105, 2));
    assert_int_equal(rx_ready(f), 2);
    rx_expect(f, out, 2000, 105);
    assert_true(rx_seq(f, frame, BIG, 106, 2));
    rx_expect(f, out, BIG, 106);
    pat(frame, 1514, 107);
    assert_true(tx_send(f, h, frame, 1514, NULL, 0, false));
    assert_memory_equal(f->tx_frame, frame, 1514);

    /* Reset with frames waiting, and come back without mergeable
     * buffers: one chain per frame again. */
    assert_true(rx_seq(f, frame, BIG, 108, 1)); /* 20 buffers left: waits */
    assert_true(rx_seq(f, frame, 100, 109, 1));
    assert_int_equal(rx_ready(f), 0);
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    fx_init(f, FEAT_BASE | FEAT_GUEST_OFF | FEAT_HOST_OFF, 16, 16, 2048);
    rx_post(f, 8, HLEN + 1514);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 0);
    assert_true(rx_seq(f, frame, 1514, 110, 3));
    assert_int_equal(rx_ready(f), 1);
    rx_expect(f, out, 1514, 110);

    /* And a reset right after a device failure. */
    vdrv_desc(d, TXQ, 0, RAM_BASE + RAM_SIZE, 64, 0, 0);
    vdrv_publish(d, TXQ, 0);
    vdrv_kick(d, TXQ);
    assert_true(vdrv_needs_reset(d));
    assert_false(rx_seq(f, frame, 100, 111, 1));
    fx_init(f, FEAT_ALL, 16, 16, 1536);
    assert_false(vdrv_needs_reset(d));
    rx_post(f, 2, 1536);
    assert_true(rx_seq(f, frame, 100, 112, 1));
    rx_expect(f, out, 100, 112);
}

/* ---- reset racing the I/O thread ---- */

/* The I/O thread's side: frames keep coming from the network (the eventfd
 * stays readable, so the loop calls this over and over). */
static void io_frames_in(void *opaque, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    struct fx *f = opaque;
    struct virtio_net_hdr h = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16 };
    for (unsigned i = 0; i < 64; i++) {
        struct iovec iov = { f->out, 8000 };
        virtio_net_receive(f->dev, &h, &iov, 1);
        atomic_fetch_add(&f->io_frames, 1);
    }
}

static void *io_main(void *arg)
{
    evloop_run(arg);
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A guest resets its adapter (driver reload, reboot, kexec) while frames
 * keep arriving: the vCPU's reset runs with the work lock held, frames for
 * the guest come in on the I/O thread. Nothing may crash or leak, and the
 * device must be sound afterwards. Runs about a second. A device that
 * touches its backlog outside the work lock shows up here as a crash in
 * backlog_clear or a leak in about half the runs under ASan, and every
 * time under ThreadSanitizer. */
static void test_reset_races_receive(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    fx_close(f);
    f->loop = evloop_new();
    assert_non_null(f->loop);
    /* vdrv_open, but with the transport on the I/O thread's loop. */
    struct virtio_net_opts o = default_opts();
    o.tx = on_tx;
    o.opaque = f;
    struct virtio_dev *dev = virtio_net_new(&o);
    assert_non_null(dev);
    memset(d, 0, sizeof(*d));
    d->ram = aligned_alloc(4096, RAM_SIZE);
    assert_non_null(d->ram);
    memset(d->ram, 0, RAM_SIZE);
    d->mem = (struct virtio_guest_mem){ .host = d->ram, .base = RAM_BASE, .size = RAM_SIZE };
    d->t = virtio_mmio_new(dev, &d->mem, (struct virtio_irq){ NULL, NULL }, f->loop);
    assert_non_null(d->t);
    f->dev = dev;
    pat(f->out, 8000, 200);
    f->efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(f->efd >= 0);
    assert_int_equal(evloop_add_fd(f->loop, f->efd, EPOLLIN, io_frames_in, f), 0);
    assert_int_equal(pthread_create(&f->io, NULL, io_main, f->loop), 0);
    f->io_running = true;

    /* This thread is a vCPU: probe, let frames pile up in the backlog (no
     * receive buffers), reset, again and again. */
    unsigned rounds = 0;
    double end = now_s() + 1.0;
    while (now_s() < end) {
        assert_true(vdrv_negotiate(d, FEAT_ALL) & VIRTIO_STATUS_FEATURES_OK);
        vdrv_queue(d, RXQ, 16);
        vdrv_queue(d, TXQ, 16);
        vdrv_driver_ok(d);
        for (volatile unsigned k = 0; k < 20000; k++)
            ;
        vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
        rounds++;
    }
    evloop_stop(f->loop);
    pthread_join(f->io, NULL);
    f->io_running = false;
    assert_true(rounds > 50);
    assert_true(atomic_load(&f->io_frames) > 1000);

    /* The loop has stopped: this thread is the I/O thread now. A new
     * driver finds nothing left over, and the device works. */
    fx_init(f, FEAT_ALL, 16, 16, 1536);
    rx_post(f, 16, 1536);
    vdrv_kick(d, RXQ);
    assert_int_equal(rx_ready(f), 0);
    assert_true(rx_seq(f, f->frame, 3000, 201, 2));
    rx_expect(f, f->out, 3000, 201);
    uint8_t h[HLEN];
    put_hdr(h, 0, 0, 0, 0, 0, 0);
    pat(f->frame, 500, 202);
    assert_true(tx_send(f, h, f->frame, 500, NULL, 0, false));
    assert_memory_equal(f->tx_frame, f->frame, 500);
}

/* Frames for a device no driver has started, and freeing a device whose
 * backlog is full (LeakSanitizer checks that it is released). */
static void test_lifecycle(void **state)
{
    struct fx *f = *state;
    uint8_t *frame = f->frame;
    assert_false(rx_seq(f, frame, 100, 120, 1));
    assert_int_equal(stats(f).rx_dropped, 1);
    fx_init(f, FEAT_ALL, 8, 8, 1536);
    unsigned kept = 0;
    for (unsigned i = 0; i < 40; i++)
        kept += rx_seq(f, frame, BIG, 121 + i, 1);
    assert_true(kept >= 1 && kept < 40);
    fx_close(f); /* with its backlog full */

    /* A device never attached to a transport. */
    struct virtio_net_opts o = default_opts();
    struct virtio_dev *dev = virtio_net_new(&o);
    assert_non_null(dev);
    struct iovec iov = { frame, 100 };
    struct virtio_net_hdr h = { 0 };
    assert_false(virtio_net_receive(dev, &h, &iov, 1));
    virtio_net_set_link(dev, false);
    virtio_dev_free(dev);
}

int main(void)
{
    vlog_set_level(VLOG_ERROR);
    /* A deadlock (a tx handler answering at once) must fail, not hang. */
    alarm(60);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_features_config),
        T(test_set_link),
        T(test_tx_layouts),
        T(test_tx_bad_headers),
        T(test_tx_stray_ecn),
        T(test_tx_budget),
        T(test_rx_single),
        T(test_rx_mtu),
        T(test_rx_mrg_64k),
        T(test_rx_mrg_wait),
        T(test_rx_mrg_wait_no_event_idx),
        T(test_rx_backlog_bound),
        T(test_rx_mrg_never_fits),
        T(test_rx_mrg_tiny_buffer),
        T(test_rx_mrg_random),
        T(test_reentrant_reply),
        T(test_link_down),
        T(test_accepts),
        T(test_reset_midway),
        T(test_reset_races_receive),
        T(test_lifecycle),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

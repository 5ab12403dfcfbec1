#include "virtio/net.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/queue.h"

/* Config space (virtio 1.2, 5.1.4): mac, status, max_virtqueue_pairs, mtu,
 * speed, duplex; the RSS fields after it read as zero. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_PAIRS 8
#define CFG_MTU 10
#define CFG_SPEED 12
#define CFG_DUPLEX 16
#define CFG_LEN 24

/* Frames waiting for receive buffers. A guest that stops taking frames
 * costs at most this much host memory; after that frames are dropped (the
 * sender's TCP slows down, as with a real NIC whose ring is full). */
#define BACKLOG_FRAMES 256
#define BACKLOG_BYTES (2u << 20)

/* Frames taken from the transmit queue per turn before letting the other
 * devices run. */
#define TX_BUDGET 256

#define F(bit) (1ull << (bit))

struct backlog_entry {
    struct virtio_net_hdr h;
    size_t len;
    uint8_t data[];
};

struct vnet {
    struct virtio_dev dev;
    struct virtio_net_opts opts;
    _Atomic bool link_up;
    /* I/O thread only. */
    bool in_tx;                 /* inside opts.tx: the work lock is ours */
    struct backlog_entry *backlog[BACKLOG_FRAMES];
    unsigned bl_head, bl_count;
    size_t bl_bytes;
    struct virtq_elem first, cur;   /* receive: first and current chain */
    uint16_t heads[VIRTIO_QUEUE_MAX];
    uint32_t lens[VIRTIO_QUEUE_MAX];
    struct virtq_elem txe;
    uint8_t txbuf[VIRTIO_NET_FRAME_MAX];
    /* Counters: written on the I/O thread, read from anywhere. */
    _Atomic uint64_t tx_frames, tx_bytes, tx_errors, rx_frames, rx_bytes, rx_dropped;
};

static void stat_add(_Atomic uint64_t *c, uint64_t v) { atomic_fetch_add_explicit(c, v, memory_order_relaxed); }

/* ---- receive ---- */

/* Copy `len` bytes from the pieces src[0, nsrc) starting `soff` bytes in,
 * into the writable buffers of e; report the bytes to note_write. */
static void copy_into_chain(struct vnet *n, const struct virtq_elem *e, const struct iovec *src, int nsrc,
                            size_t soff, size_t len)
{
    const struct virtio_guest_mem *mem = n->dev.mem;
    int si = 0;
    while (si < nsrc && soff >= src[si].iov_len)
        soff -= src[si++].iov_len;
    for (unsigned di = e->n_out; len && di < (unsigned)e->n_out + e->n_in; di++) {
        uint8_t *dst = e->iov[di].iov_base;
        size_t room = e->iov[di].iov_len;
        if (mem->note_write)
            mem->note_write(mem->opaque, mem->base + (uint64_t)(dst - mem->host), room < len ? room : len);
        while (room && len && si < nsrc) {
            size_t l = src[si].iov_len - soff;
            if (l > room) l = room;
            if (l > len) l = len;
            memcpy(dst, (const uint8_t *)src[si].iov_base + soff, l);
            dst += l;
            room -= l;
            len -= l;
            soff += l;
            if (soff == src[si].iov_len) {
                si++;
                soff = 0;
            }
        }
    }
}

static void put_hdr(uint8_t out[VIRTIO_NET_HDR_LEN], const struct virtio_net_hdr *h, uint16_t num_buffers)
{
    out[0] = h->flags;
    out[1] = h->gso_type;
    uint16_t v[5] = { htole16(h->hdr_len), htole16(h->gso_size), htole16(h->csum_start),
                      htole16(h->csum_offset), htole16(num_buffers) };
    memcpy(out + 2, v, sizeof(v));
}

/* Work lock held. 1: delivered; 0: not enough buffers now (nothing
 * consumed); -1: dropped (does not fit, or the driver broke the queue). */
static int deliver(struct vnet *n, const struct virtio_net_hdr *h, const struct iovec *iov, int niov, size_t len)
{
    struct virtq *vq = &n->dev.vq[VIRTIO_NET_RX];
    uint8_t hdr[VIRTIO_NET_HDR_LEN];
    struct iovec src[1 + 8];
    put_hdr(hdr, h, 1);
    src[0] = (struct iovec){ hdr, sizeof(hdr) };
    memcpy(src + 1, iov, (size_t)niov * sizeof(*iov));
    size_t need = VIRTIO_NET_HDR_LEN + len;

    if (!virtio_dev_has(&n->dev, VIRTIO_NET_F_MRG_RXBUF)) {
        int r = virtq_pop(vq, &n->first);
        if (r <= 0)
            return r;
        if (n->first.in_len < need) {
            /* The driver's buffers are smaller than this frame (it did not
             * ask for large frames): it can never take it. */
            virtq_unpop(vq, 1);
            return -1;
        }
        copy_into_chain(n, &n->first, src, 1 + niov, 0, need);
        virtq_fill(vq, n->first.head, (uint32_t)need, 0);
        virtq_flush(vq, 1);
        return 1;
    }

    size_t off = 0;
    uint16_t used = 0;
    while (off < need) {
        /* A driver never has more buffers out than the ring holds: a
         * frame that needs more can never be delivered (and a racing
         * driver must not walk us past our arrays). */
        if (used == vq->num) {
            virtq_unpop(vq, used);
            return -1;
        }
        struct virtq_elem *e = used ? &n->cur : &n->first;
        int r = virtq_pop(vq, e);
        if (r <= 0) {
            virtq_unpop(vq, used);
            return r;
        }
        if (!e->in_len || (!used && e->in_len < VIRTIO_NET_HDR_LEN)) {
            virtq_unpop(vq, (uint16_t)(used + 1));
            virtio_dev_fail(&n->dev, "receive buffer of %u bytes cannot hold a frame", (unsigned)e->in_len);
            return -1;
        }
        size_t l = need - off < e->in_len ? need - off : e->in_len;
        copy_into_chain(n, e, src, 1 + niov, off, l);
        n->heads[used] = e->head;
        n->lens[used] = (uint32_t)l;
        used++;
        off += l;
    }
    if (used > 1) {
        uint16_t nb = htole16(used);
        iov_from_buf(n->first.iov + n->first.n_out, n->first.n_in, VIRTIO_NET_HDR_LEN - 2, &nb, 2);
    }
    for (uint16_t i = 0; i < used; i++)
        virtq_fill(vq, n->heads[i], n->lens[i], i);
    virtq_flush(vq, used);
    return 1;
}

static bool backlog_add(struct vnet *n, const struct virtio_net_hdr *h, const struct iovec *iov, int niov, size_t len)
{
    if (n->bl_count == BACKLOG_FRAMES || n->bl_bytes + len > BACKLOG_BYTES)
        return false;
    struct backlog_entry *b = malloc(sizeof(*b) + len);
    if (!b)
        return false;
    b->h = *h;
    b->len = len;
    size_t o = 0;
    for (int i = 0; i < niov; i++) {
        memcpy(b->data + o, iov[i].iov_base, iov[i].iov_len);
        o += iov[i].iov_len;
    }
    n->backlog[(n->bl_head + n->bl_count) % BACKLOG_FRAMES] = b;
    n->bl_count++;
    n->bl_bytes += len;
    return true;
}

static void backlog_drop_head(struct vnet *n)
{
    struct backlog_entry *b = n->backlog[n->bl_head];
    n->bl_bytes -= b->len;
    free(b);
    n->backlog[n->bl_head] = NULL;
    n->bl_head = (n->bl_head + 1) % BACKLOG_FRAMES;
    n->bl_count--;
}

static void backlog_clear(struct vnet *n)
{
    while (n->bl_count)
        backlog_drop_head(n);
}

/* Work lock held: move waiting frames into the guest's buffers. */
static void backlog_flush(struct vnet *n)
{
    struct virtq *vq = &n->dev.vq[VIRTIO_NET_RX];
    bool any = false;
    while (n->bl_count) {
        struct backlog_entry *b = n->backlog[n->bl_head];
        struct iovec iov = { b->data, b->len };
        int r = deliver(n, &b->h, &iov, 1, b->len);
        if (r == 0)
            break;
        if (r > 0) {
            stat_add(&n->rx_frames, 1);
            stat_add(&n->rx_bytes, b->len);
            any = true;
        } else {
            stat_add(&n->rx_dropped, 1);
        }
        backlog_drop_head(n);
    }
    if (any)
        virtq_notify(vq);
}

bool virtio_net_receive(struct virtio_dev *d, const struct virtio_net_hdr *h, const struct iovec *iov, int niov)
{
    struct vnet *n = (struct vnet *)d;
    size_t len = 0;
    if (niov < 1 || niov > 8)
        return false;
    for (int i = 0; i < niov; i++)
        len += iov[i].iov_len;
    /* Above the MTU the driver was promised, only as a GSO frame. */
    bool too_big = len > VIRTIO_NET_FRAME_MAX ||
                   ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE &&
                    len > (size_t)n->opts.mtu + 14 + 4);
    if (!atomic_load(&n->link_up) || too_big || !d->vq) {
        stat_add(&n->rx_dropped, 1);
        return false;
    }
    /* Inside our own transmit handler (a backend answering at once, like
     * slirp's ARP replies) the work lock is already ours; otherwise take
     * it: a reset on a vCPU thread clears the backlog under it. */
    bool take_lock = !n->in_tx;
    if (take_lock)
        virtio_dev_lock(d);
    struct virtq *vq = &d->vq[VIRTIO_NET_RX];
    bool ok = false;
    if (!virtq_live(vq)) {
        ok = false;
    } else if (n->in_tx || n->bl_count) {
        /* Behind waiting frames it waits too, so frames keep their order;
         * inside transmit, the handler delivers the backlog before it
         * returns. */
        ok = backlog_add(n, h, iov, niov, len);
        if (ok && !n->in_tx)
            backlog_flush(n);
    } else {
        int r = deliver(n, h, iov, niov, len);
        if (r > 0) {
            stat_add(&n->rx_frames, 1);
            stat_add(&n->rx_bytes, len);
            virtq_notify(vq);
            ok = true;
        } else if (r == 0) {
            ok = backlog_add(n, h, iov, niov, len);
        }
    }
    if (take_lock)
        virtio_dev_unlock(d);
    if (!ok)
        stat_add(&n->rx_dropped, 1);
    return ok;
}

bool virtio_net_accepts(struct virtio_dev *d, const struct virtio_net_hdr *h)
{
    if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !virtio_dev_has(d, VIRTIO_NET_F_GUEST_CSUM))
        return false;
    switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        if (!virtio_dev_has(d, VIRTIO_NET_F_GUEST_TSO4))
            return false;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        if (!virtio_dev_has(d, VIRTIO_NET_F_GUEST_TSO6))
            return false;
        break;
    default:
        return false;
    }
    if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_dev_has(d, VIRTIO_NET_F_GUEST_ECN))
        return false;
    return true;
}

/* ---- transmit ---- */

/* Whether the driver may send a frame with this header: only the offloads
 * it negotiated, and offsets inside the frame. */
static const char *check_tx_hdr(struct vnet *n, const struct virtio_net_hdr *h, size_t len)
{
    struct virtio_dev *d = &n->dev;
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!virtio_dev_has(d, VIRTIO_NET_F_CSUM))
            return "checksum offload was not negotiated";
        if ((size_t)h->csum_start + h->csum_offset + 2 > len)
            return "checksum position outside the frame";
    }
    switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
            return "ECN flag without segmentation";
        return NULL;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        if (!virtio_dev_has(d, VIRTIO_NET_F_HOST_TSO4))
            return "TSO over IPv4 was not negotiated";
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        if (!virtio_dev_has(d, VIRTIO_NET_F_HOST_TSO6))
            return "TSO over IPv6 was not negotiated";
        break;
    default:
        return "unknown segmentation offload type";
    }
    if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !virtio_dev_has(d, VIRTIO_NET_F_HOST_ECN))
        return "ECN segmentation was not negotiated";
    if (!h->gso_size)
        return "segmentation with a segment size of 0";
    return NULL;
}

static void transmit(struct vnet *n)
{
    struct virtq *vq = &n->dev.vq[VIRTIO_NET_TX];
    unsigned budget = TX_BUDGET;
    int got = 0;
    while (budget && (got = virtq_pop(vq, &n->txe)) > 0) {
        budget--;
        const struct virtq_elem *e = &n->txe;
        uint32_t total = e->out_len;
        if (total < VIRTIO_NET_HDR_LEN + 14 || total - VIRTIO_NET_HDR_LEN > VIRTIO_NET_FRAME_MAX) {
            stat_add(&n->tx_errors, 1);
            virtq_push(vq, e, 0);
            continue;
        }
        uint8_t raw[VIRTIO_NET_HDR_LEN];
        iov_to_buf(e->iov, e->n_out, 0, raw, sizeof(raw));
        size_t len = total - VIRTIO_NET_HDR_LEN;
        iov_to_buf(e->iov, e->n_out, VIRTIO_NET_HDR_LEN, n->txbuf, len);
        virtq_push(vq, e, 0);
        uint16_t v[4];
        memcpy(v, raw + 2, sizeof(v));
        struct virtio_net_hdr h = { raw[0], raw[1], le16toh(v[0]), le16toh(v[1]), le16toh(v[2]), le16toh(v[3]) };
        h.flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM; /* DATA_VALID means nothing on transmit */
        const char *why = check_tx_hdr(n, &h, len);
        if (why) {
            stat_add(&n->tx_errors, 1);
            vdebug("%s: frame dropped: %s", n->dev.name, why);
            continue;
        }
        stat_add(&n->tx_frames, 1);
        stat_add(&n->tx_bytes, len);
        if (!atomic_load(&n->link_up) || !n->opts.tx)
            continue;
        n->in_tx = true;
        n->opts.tx(n->opts.opaque, &h, n->txbuf, len);
        n->in_tx = false;
    }
    virtq_notify(vq);
    backlog_flush(n);
    if (got > 0)
        virtio_dev_kick(&n->dev, VIRTIO_NET_TX);
}

/* ---- device ops ---- */

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct vnet *n = (struct vnet *)d;
    if (q == VIRTIO_NET_RX)
        backlog_flush(n);
    else if (q == VIRTIO_NET_TX)
        transmit(n);
}

static void net_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    struct vnet *n = (struct vnet *)d;
    uint8_t cfg[CFG_LEN] = { 0 };
    memcpy(cfg + CFG_MAC, n->opts.mac, 6);
    uint16_t status = htole16(atomic_load(&n->link_up) ? VIRTIO_NET_S_LINK_UP : 0);
    uint16_t pairs = htole16(1), mtu = htole16(n->opts.mtu);
    uint32_t speed = htole32(10000); /* Mb/s, as Linux shows it in ethtool */
    memcpy(cfg + CFG_STATUS, &status, 2);
    memcpy(cfg + CFG_MAX_PAIRS, &pairs, 2);
    memcpy(cfg + CFG_MTU, &mtu, 2);
    memcpy(cfg + CFG_SPEED, &speed, 4);
    cfg[CFG_DUPLEX] = 1; /* full */
    memcpy(buf, cfg + off, size);
}

static void net_reset(struct virtio_dev *d)
{
    backlog_clear((struct vnet *)d);
}

static void net_free(struct virtio_dev *d)
{
    struct vnet *n = (struct vnet *)d;
    backlog_clear(n);
    free(n);
}

static const struct virtio_dev_ops net_ops = {
    .queue_notify = net_queue_notify,
    .config_read = net_config_read,
    .reset = net_reset,
    .free = net_free,
};

struct virtio_dev *virtio_net_new(const struct virtio_net_opts *o)
{
    struct vnet *n = calloc(1, sizeof(*n));
    if (!n) {
        verror("virtio-net: out of memory");
        return NULL;
    }
    n->opts = *o;
    if (!n->opts.mtu)
        n->opts.mtu = 1500;
    atomic_store(&n->link_up, o->link_up);
    struct virtio_dev *d = &n->dev;
    d->ops = &net_ops;
    snprintf(d->name, sizeof(d->name), "%s", o->name ? o->name : "virtio-net");
    n->opts.name = NULL;
    d->device_id = VIRTIO_ID_NET;
    d->num_queues = 2;
    d->config_len = CFG_LEN;
    d->host_features = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MTU) |
                       F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_SPEED_DUPLEX) |
                       F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
                       F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
                       F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN);
    return d;
}

void virtio_net_set_link(struct virtio_dev *d, bool up)
{
    struct vnet *n = (struct vnet *)d;
    if (atomic_exchange(&n->link_up, up) != up)
        virtio_dev_config_changed(d);
}

void virtio_net_get_stats(struct virtio_dev *d, struct virtio_net_stats *out)
{
    struct vnet *n = (struct vnet *)d;
    *out = (struct virtio_net_stats){
        atomic_load(&n->tx_frames), atomic_load(&n->tx_bytes), atomic_load(&n->tx_errors),
        atomic_load(&n->rx_frames), atomic_load(&n->rx_bytes), atomic_load(&n->rx_dropped),
    };
}

/* Shared by the virtio device fuzz targets (fuzz_virtio_blk.c, _net.c,
 * _console.c, _rng.c): a small guest whose RAM is its own malloc'd block of
 * exactly VF_RAM_SIZE bytes (so ASan reports any device access past it), a
 * virtio-mmio transport without an event loop (QueueNotify is followed by
 * virtio_mmio_poll on this thread, as tests/unit/test_virtio_driver.h
 * does), and an interpreter that turns the fuzzer's input into what a
 * driver, honest or not, does: probes with chosen features and queue sizes,
 * descriptor chains, avail ring updates, notifies (of nonexistent queues
 * too), raw register writes and reads, config accesses at any offset and
 * width, resets, status changes.
 *
 * Input: one probe description (vf_probe), then operations until the input
 * ends (vf_step); tests/fuzz/seeds_virtio.py writes inputs in this format.
 * Multi-byte fields are little-endian; a field past the end of the input
 * reads as 0.
 *
 * Invariants checked after every operation (a violation aborts):
 *   - note_write (the device's report of DMA) covers only guest RAM;
 *   - the interrupt line changes level on every irq.set call, and is high
 *     exactly while InterruptStatus is non-zero;
 *   - a queue is live only while Status has FEATURES_OK and DRIVER_OK and
 *     not NEEDS_RESET, and the ready bit is set; queue_notify is called only
 *     on a live queue (the device's queue_notify is wrapped to check);
 *   - register reads of the fixed identification registers never change.
 */
#ifndef VIREO_FUZZ_VIRTIO_FUZZ_H
#define VIREO_FUZZ_VIRTIO_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/device.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"

#define VF_RAM_BASE 0x80000000ull
#define VF_RAM_SIZE 0x10000u
#define VF_NQ 2
/* Queue q's rings: descriptors at VF_QAREA(q), avail +0x1000, used +0x2000.
 * Buffers go anywhere; VF_BUF is where the seeds put theirs. */
#define VF_QAREA(q) (0x3000u * (unsigned)(q))
#define VF_AVAIL(q) (VF_QAREA(q) + 0x1000u)
#define VF_USED(q) (VF_QAREA(q) + 0x2000u)
#define VF_BUF 0x6000u
#define VF_MAX_OPS 512

#define VF_CHECK(cond)                                                                              \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                                \
        }                                                                                           \
    } while (0)

/* ---- reading the input ---- */

struct vf_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t in_u8(struct vf_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t in_u16(struct vf_in *in)
{
    uint16_t v = in_u8(in);
    return (uint16_t)(v | in_u8(in) << 8);
}

static inline uint32_t in_u32(struct vf_in *in)
{
    uint32_t v = in_u16(in);
    return v | (uint32_t)in_u16(in) << 16;
}

static inline uint64_t in_u64(struct vf_in *in)
{
    uint64_t v = in_u32(in);
    return v | (uint64_t)in_u32(in) << 32;
}

/* ---- the guest ---- */

struct vf {
    uint8_t *ram;
    struct virtio_guest_mem mem;
    struct virtio_mmio *t;
    struct virtio_dev *dev;
    const struct virtio_dev_ops *dev_ops; /* the device's own */
    struct virtio_dev_ops ops;            /* with queue_notify wrapped */
    bool irq_level;
    uint16_t num[VF_NQ];
    uint16_t avail_idx[VF_NQ];
    uint64_t notes;
    uint32_t qsel; /* QueueSel as the driver last wrote it */
};

/* The targets are single-threaded: the wrapper finds the guest here. */
static struct vf *vf_cur;

static void vf_note(void *opaque, uint64_t gpa, uint64_t len)
{
    struct vf *g = opaque;
    VF_CHECK(gpa >= VF_RAM_BASE && len <= VF_RAM_SIZE && gpa - VF_RAM_BASE <= VF_RAM_SIZE - len);
    g->notes += len;
}

static void vf_irq(void *opaque, bool level)
{
    struct vf *g = opaque;
    VF_CHECK(level != g->irq_level);
    g->irq_level = level;
}

static inline uint32_t vf_r32(struct vf *g, uint64_t off)
{
    uint64_t v = 0;
    VF_CHECK(virtio_mmio_read(g->t, off, 4, &v));
    VF_CHECK(v <= 0xffffffffu);
    return (uint32_t)v;
}

static inline void vf_w32(struct vf *g, uint64_t off, uint32_t v)
{
    VF_CHECK(virtio_mmio_write(g->t, off, 4, v));
}

static bool vf_runnable(uint32_t status)
{
    return (status & VIRTIO_STATUS_DRIVER_OK) && (status & VIRTIO_STATUS_FEATURES_OK) &&
           !(status & VIRTIO_STATUS_NEEDS_RESET);
}

static void vf_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct vf *g = vf_cur;
    VF_CHECK(d == g->dev && q < d->num_queues);
    VF_CHECK(virtq_live(&d->vq[q]));
    VF_CHECK(vf_runnable(vf_r32(g, VIRTIO_MMIO_STATUS)));
    g->dev_ops->queue_notify(d, q);
}

static inline void *vf_host(struct vf *g, uint32_t off) { return g->ram + off; }

static inline void vf_put16(struct vf *g, uint32_t off, uint16_t v)
{
    if (off <= VF_RAM_SIZE - 2)
        memcpy(g->ram + off, &v, 2);
}

/* Wrap dev (NULL: give up quietly). The caller owns g until vf_close. */
static inline bool vf_open(struct vf *g, struct virtio_dev *dev)
{
    memset(g, 0, sizeof(*g));
    if (!dev)
        return false;
    g->ram = aligned_alloc(4096, VF_RAM_SIZE);
    if (!g->ram) {
        virtio_dev_free(dev);
        return false;
    }
    memset(g->ram, 0, VF_RAM_SIZE);
    g->mem = (struct virtio_guest_mem){ .host = g->ram, .base = VF_RAM_BASE, .size = VF_RAM_SIZE,
                                        .note_write = vf_note, .opaque = g };
    g->dev = dev;
    g->dev_ops = dev->ops;
    g->ops = *dev->ops;
    g->ops.queue_notify = vf_queue_notify;
    dev->ops = &g->ops;
    vf_cur = g;
    g->t = virtio_mmio_new(dev, &g->mem, (struct virtio_irq){ vf_irq, g }, NULL);
    if (!g->t) {
        free(g->ram);
        return false;
    }
    return true;
}

static inline void vf_close(struct vf *g)
{
    virtio_mmio_free(g->t);
    free(g->ram);
    vf_cur = NULL;
}

static inline uint64_t vf_device_features(struct vf *g)
{
    vf_w32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = vf_r32(g, VIRTIO_MMIO_DEVICE_FEATURES);
    vf_w32(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return f | (uint64_t)vf_r32(g, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static inline uint16_t vf_mask(struct vf *g, unsigned q)
{
    uint16_t n = g->num[q];
    return n && n <= VIRTIO_QUEUE_MAX && !(n & (n - 1)) ? (uint16_t)(n - 1) : 0xff;
}

/* The probe a driver does, as the input describes it:
 *   flags (u8): bit 0 raw features follow (u64), else a mask (u64) of the
 *               offered ones, VERSION_1 always added; bit 1 no DRIVER_OK;
 *               bit 2 DRIVER_OK before the queues are set up;
 *   per queue (u8): 0xf0 and above: a raw size follows (u16), else size
 *               1 << (byte % 9).
 * Returns the flags byte. */
static inline uint8_t vf_probe(struct vf *g, struct vf_in *in, unsigned nq)
{
    uint8_t flags = in_u8(in);
    uint64_t offered = vf_device_features(g);
    uint64_t feat = in_u64(in);
    if (!(flags & 1))
        feat = (feat & offered) | (1ull << VIRTIO_F_VERSION_1);
    vf_w32(g, VIRTIO_MMIO_STATUS, 0);
    g->qsel = 0;
    VF_CHECK(vf_r32(g, VIRTIO_MMIO_STATUS) == 0);
    vf_w32(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    vf_w32(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vf_w32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vf_w32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
    vf_w32(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vf_w32(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
    vf_w32(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    uint32_t st = vf_r32(g, VIRTIO_MMIO_STATUS);
    /* Refused exactly when the driver asked for something not offered
     * or not VERSION_1. */
    bool ok = !(feat & ~offered) && (feat & (1ull << VIRTIO_F_VERSION_1));
    VF_CHECK(!!(st & VIRTIO_STATUS_FEATURES_OK) == ok);
    if (ok)
        VF_CHECK(g->dev->features == feat);
    if ((flags & 4) && !(flags & 2))
        vf_w32(g, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
    for (unsigned q = 0; q < nq && q < VF_NQ; q++) {
        uint8_t b = in_u8(in);
        uint32_t num = b >= 0xf0 ? in_u16(in) : 1u << (b % 9);
        memset(g->ram + VF_QAREA(q), 0, 0x3000);
        vf_w32(g, VIRTIO_MMIO_QUEUE_SEL, q);
        g->qsel = q;
        vf_w32(g, VIRTIO_MMIO_QUEUE_NUM, num);
        uint64_t a[3] = { VF_RAM_BASE + VF_QAREA(q), VF_RAM_BASE + VF_AVAIL(q), VF_RAM_BASE + VF_USED(q) };
        for (unsigned i = 0; i < 3; i++) {
            vf_w32(g, VIRTIO_MMIO_QUEUE_DESC_LOW + 0x10 * i, (uint32_t)a[i]);
            vf_w32(g, VIRTIO_MMIO_QUEUE_DESC_HIGH + 0x10 * i, (uint32_t)(a[i] >> 32));
        }
        vf_w32(g, VIRTIO_MMIO_QUEUE_READY, 1);
        g->num[q] = (uint16_t)num;
        g->avail_idx[q] = 0;
    }
    if (!(flags & 2))
        vf_w32(g, VIRTIO_MMIO_STATUS, vf_r32(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    virtio_mmio_poll(g->t);
    return flags;
}

static inline void vf_desc(struct vf *g, uint32_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                           uint16_t next)
{
    uint64_t off = table + 16ull * i;
    if (off > VF_RAM_SIZE - 16)
        return;
    uint8_t *p = g->ram + off;
    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

static inline void vf_publish(struct vf *g, unsigned q, uint16_t head)
{
    vf_put16(g, VF_AVAIL(q) + 4 + 2u * (g->avail_idx[q] & vf_mask(g, q)), head);
    g->avail_idx[q]++;
    __atomic_store_n((uint16_t *)vf_host(g, VF_AVAIL(q) + 2), g->avail_idx[q], __ATOMIC_RELEASE);
}

static inline void vf_kick(struct vf *g, uint32_t q)
{
    vf_w32(g, VIRTIO_MMIO_QUEUE_NOTIFY, q);
    virtio_mmio_poll(g->t);
}

/* The invariants that hold whatever the driver did. */
static inline void vf_check(struct vf *g)
{
    uint32_t isr = vf_r32(g, VIRTIO_MMIO_INTERRUPT_STATUS);
    VF_CHECK((isr != 0) == g->irq_level);
    VF_CHECK(!(isr & ~3u));
    uint32_t st = vf_r32(g, VIRTIO_MMIO_STATUS);
    VF_CHECK(st <= 0xff);
    for (unsigned q = 0; q < g->dev->num_queues; q++) {
        if (!virtq_live(&g->dev->vq[q]))
            continue;
        VF_CHECK(vf_runnable(st));
        vf_w32(g, VIRTIO_MMIO_QUEUE_SEL, q);
        VF_CHECK(vf_r32(g, VIRTIO_MMIO_QUEUE_READY) == 1);
    }
    vf_w32(g, VIRTIO_MMIO_QUEUE_SEL, g->qsel); /* as the driver left it */
    VF_CHECK(vf_r32(g, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC);
    VF_CHECK(vf_r32(g, VIRTIO_MMIO_VERSION) == 2);
    VF_CHECK(vf_r32(g, VIRTIO_MMIO_DEVICE_ID) == g->dev->device_id);
}

/* One buffer of a chain, as an offset into RAM. */
struct vf_buf {
    uint32_t off, len;
    uint16_t flags; /* VIRTQ_DESC_F_WRITE or 0 */
};

/* Post b[0, n) as one chain on queue q (through an indirect table at
 * ind_off if ind_off is non-zero), publish and kick. Returns 1 with the
 * used entry's length in *used_len if this chain was the only one the
 * device could take (queue live as the driver set it up, nothing else
 * pending) and it is the chain described (it fits the queue) and it
 * completed; 0 if it was alone and did not complete (the
 * device refused it); -1 if it was not alone, so nothing can be said. */
static inline int vf_post(struct vf *g, unsigned q, const struct vf_buf *b, unsigned n, uint32_t ind_off,
                          uint32_t *used_len)
{
    uint16_t mask = vf_mask(g, q);
    uint16_t head = g->avail_idx[q] & mask;
    if (ind_off) {
        for (unsigned i = 0; i < n; i++)
            vf_desc(g, ind_off, i, VF_RAM_BASE + b[i].off, b[i].len,
                    b[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1));
        vf_desc(g, VF_QAREA(q), head, VF_RAM_BASE + ind_off, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
    } else {
        for (unsigned i = 0; i < n; i++)
            vf_desc(g, VF_QAREA(q), (head + i) & mask, VF_RAM_BASE + b[i].off, b[i].len,
                    b[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)((head + i + 1) & mask));
    }
    struct virtq *vq = &g->dev->vq[q];
    uint16_t ram_idx;
    memcpy(&ram_idx, g->ram + VF_AVAIL(q) + 2, 2);
    /* (Raw register writes may have moved the rings elsewhere; a chain
     * longer than the queue overwrote its own descriptors.) */
    bool alone = (ind_off || n <= (unsigned)mask + 1u) && q < g->dev->num_queues && virtq_live(vq) && vq->num == g->num[q] &&
                 vq->desc == g->ram + VF_QAREA(q) && vq->avail == g->ram + VF_AVAIL(q) &&
                 vq->used == g->ram + VF_USED(q) && vq->last_avail == g->avail_idx[q] && ram_idx == g->avail_idx[q];
    uint16_t used_before = alone ? vq->used_idx : 0;
    vf_publish(g, q, head);
    vf_kick(g, q);
    if (!alone)
        return -1;
    if (vq->used_idx == used_before)
        return 0;
    VF_CHECK((uint16_t)(vq->used_idx - used_before) == 1);
    uint32_t id;
    const uint8_t *ent = g->ram + VF_USED(q) + 4 + 8 * (used_before & (vq->num - 1));
    memcpy(&id, ent, 4);
    memcpy(used_len, ent + 4, 4);
    VF_CHECK(id == head);
    return 1;
}

/* After a request: no byte of RAM at and above lo changed (from the
 * snapshot `before`) unless a writable buffer of b[0, n) covers it. */
static inline void vf_check_untouched(struct vf *g, const uint8_t *before, uint32_t lo, const struct vf_buf *b,
                                      unsigned n)
{
    for (uint32_t o = lo; o < VF_RAM_SIZE; o++) {
        if (g->ram[o] == before[o])
            continue;
        bool inside = false;
        for (unsigned i = 0; i < n && !inside; i++)
            inside = (b[i].flags & VIRTQ_DESC_F_WRITE) && o >= b[i].off && o - b[i].off < b[i].len;
        VF_CHECK(inside);
    }
}

/* One driver operation. dev_op runs the device-specific operations (the
 * opcodes 14 and 15, given as 0 and 1). Returns false when the input is
 * used up. */
typedef void (*vf_dev_op)(struct vf *g, struct vf_in *in, unsigned which);

static inline bool vf_step(struct vf *g, struct vf_in *in, vf_dev_op dev_op)
{
    if (!in->n)
        return false;
    uint8_t op = in_u8(in);
    switch (op & 15) {
    case 0: { /* patch RAM: off u16, len u8, bytes */
        uint32_t off = in_u16(in);
        size_t len = in_u8(in);
        if (len > in->n)
            len = in->n;
        if (len > VF_RAM_SIZE - off)
            len = VF_RAM_SIZE - off;
        memcpy(g->ram + off, in->p, len);
        in->p += len, in->n -= len;
        break;
    }
    case 1: { /* descriptor: table sel u8 [off u16], idx u8, flags u8, addr, len, next */
        uint8_t ts = in_u8(in);
        uint32_t table = ts & 0x80 ? in_u16(in) : VF_QAREA(ts & 1);
        uint8_t idx = in_u8(in), fb = in_u8(in);
        uint64_t addr = fb & 0x80 ? in_u64(in) : VF_RAM_BASE + in_u16(in);
        uint32_t len = fb & 0x40 ? in_u32(in) : in_u16(in);
        uint16_t next = fb & 0x20 ? in_u16(in) : in_u8(in);
        vf_desc(g, table, idx, addr, len, fb & 7, next);
        break;
    }
    case 2: { /* chain in queue q from head on, published, kicked:
               * q u8, head u8, n u8, then per buffer flags u8, off u16, len u16 */
        unsigned q = in_u8(in) & 1;
        unsigned mask = vf_mask(g, q);
        uint16_t head = in_u8(in) & mask;
        unsigned n = 1 + in_u8(in) % 8;
        for (unsigned i = 0; i < n; i++) {
            uint8_t fb = in_u8(in);
            uint16_t off = in_u16(in), len = in_u16(in);
            uint16_t flags = (fb & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
            vf_desc(g, VF_QAREA(q), (head + i) & mask, VF_RAM_BASE + off, len, flags, (uint16_t)((head + i + 1) & mask));
        }
        vf_publish(g, q, head);
        vf_kick(g, q);
        break;
    }
    case 3: { /* publish: q u8, head u16 */
        unsigned q = in_u8(in) & 1;
        vf_publish(g, q, in_u16(in));
        break;
    }
    case 4: { /* notify: u8 (bit 7: a raw u32 follows) */
        uint8_t v = in_u8(in);
        vf_kick(g, v & 0x80 ? in_u32(in) : v & 3);
        break;
    }
    case 5: { /* register write: off u8 (x4), value u32 */
        uint32_t off = 4u * in_u8(in), v = in_u32(in);
        vf_w32(g, off, v);
        if (off == VIRTIO_MMIO_QUEUE_SEL || (off == VIRTIO_MMIO_STATUS && !v))
            g->qsel = off == VIRTIO_MMIO_QUEUE_SEL ? v : 0;
        virtio_mmio_poll(g->t);
        break;
    }
    case 6: { /* any read: off u16 (below 0x1100), width u8 */
        static const unsigned widths[] = { 1, 2, 4, 8, 3, 0, 16 };
        uint32_t off = in_u16(in) % 0x1100;
        unsigned w = widths[in_u8(in) % 7];
        uint64_t v = 0;
        bool ok = virtio_mmio_read(g->t, off, w, &v);
        if (off < VIRTIO_MMIO_CONFIG)
            VF_CHECK(ok == (w == 4 && !(off & 3)));
        else
            VF_CHECK(ok == ((w == 1 || w == 2 || w == 4 || w == 8) && off + w <= VIRTIO_MMIO_SIZE));
        if (ok && w < 8)
            VF_CHECK(v >> (8 * w) == 0);
        break;
    }
    case 7: { /* config access: off u8, width u8 (bit 7 write), value u64 */
        static const unsigned widths[] = { 1, 2, 4, 8 };
        uint32_t off = VIRTIO_MMIO_CONFIG + in_u8(in);
        uint8_t wb = in_u8(in);
        uint64_t v = in_u64(in);
        if (wb & 0x80) {
            VF_CHECK(virtio_mmio_write(g->t, off, widths[wb & 3], v));
        } else {
            uint32_t gen = vf_r32(g, VIRTIO_MMIO_CONFIG_GENERATION);
            VF_CHECK(virtio_mmio_read(g->t, off, widths[wb & 3], &v));
            uint64_t v2 = 0;
            VF_CHECK(virtio_mmio_read(g->t, off, widths[wb & 3], &v2));
            /* Stable unless the device said its config changed. */
            if (gen == vf_r32(g, VIRTIO_MMIO_CONFIG_GENERATION) && g->dev->device_id != VIRTIO_ID_NET)
                VF_CHECK(v == v2);
        }
        break;
    }
    case 8: /* probe again (starts with a reset) */
        vf_probe(g, in, g->dev->num_queues);
        break;
    case 9: { /* set avail idx: q u8, idx u16 */
        unsigned q = in_u8(in) & 1;
        g->avail_idx[q] = in_u16(in);
        __atomic_store_n((uint16_t *)vf_host(g, VF_AVAIL(q) + 2), g->avail_idx[q], __ATOMIC_RELEASE);
        break;
    }
    case 10:
        virtio_mmio_poll(g->t);
        break;
    case 11: /* acknowledge the interrupts */
        vf_w32(g, VIRTIO_MMIO_INTERRUPT_ACK, vf_r32(g, VIRTIO_MMIO_INTERRUPT_STATUS));
        break;
    case 12: /* reset */
        vf_w32(g, VIRTIO_MMIO_STATUS, 0);
        g->qsel = 0;
        VF_CHECK(vf_r32(g, VIRTIO_MMIO_STATUS) == 0);
        VF_CHECK(!g->irq_level);
        for (unsigned q = 0; q < g->dev->num_queues; q++)
            VF_CHECK(!virtq_live(&g->dev->vq[q]));
        break;
    case 13: { /* status: u8 */
        uint8_t v = in_u8(in);
        vf_w32(g, VIRTIO_MMIO_STATUS, v);
        if (!v)
            g->qsel = 0;
        virtio_mmio_poll(g->t);
        break;
    }
    default:
        if (dev_op)
            dev_op(g, in, op & 1);
        break;
    }
    vf_check(g);
    return true;
}

/* The whole run: open, probe, operations; the device is freed after. */
static inline void vf_run(struct virtio_dev *dev, const uint8_t *data, size_t size, vf_dev_op dev_op,
                          void (*after_op)(struct vf *g))
{
    static struct vf g;
    if (!vf_open(&g, dev))
        abort();
    struct vf_in in = { data, size };
    vf_probe(&g, &in, dev->num_queues);
    vf_check(&g);
    for (unsigned i = 0; i < VF_MAX_OPS && vf_step(&g, &in, dev_op); i++)
        if (after_op)
            after_op(&g);
    vf_close(&g);
}

#endif

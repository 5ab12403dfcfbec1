/* A minimal virtio-mmio driver for unit tests: fake guest RAM, and the
 * register sequence a real driver (Linux's virtio_mmio.c) performs. The
 * I/O side runs deterministically: vdrv_kick writes QueueNotify and then
 * runs virtio_mmio_poll on the test thread. */
#ifndef VIREO_TEST_VIRTIO_DRIVER_H
#define VIREO_TEST_VIRTIO_DRIVER_H

#include <stdlib.h>
#include <string.h>

#include "virtio/device.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)
/* Queue q's rings: desc at QBASE(q), avail +0x1000, used +0x2000. */
#define QBASE(q) (RAM_BASE + 0x4000ull * (q))
#define BUF_BASE (RAM_BASE + 0x40000ull)
#define DRV_MAXQ 4

struct vdrv {
    struct virtio_mmio *t;
    struct virtio_guest_mem mem;
    uint8_t *ram;
    int irq_level, irq_raises;
    uint64_t notes; /* bytes reported through note_write */
    uint16_t num[DRV_MAXQ];
    uint16_t avail_idx[DRV_MAXQ];
};

static void vdrv_irq(void *opaque, bool level)
{
    struct vdrv *d = opaque;
    if (level && !d->irq_level)
        d->irq_raises++;
    d->irq_level = level;
}

static void vdrv_note(void *opaque, uint64_t gpa, uint64_t len)
{
    struct vdrv *d = opaque;
    assert_true(gpa >= RAM_BASE && gpa + len <= RAM_BASE + RAM_SIZE);
    d->notes += len;
}

static inline void *gp(struct vdrv *d, uint64_t gpa) { return d->ram + (gpa - RAM_BASE); }

static inline uint32_t vdrv_r32(struct vdrv *d, uint64_t off)
{
    uint64_t v = 0;
    assert_true(virtio_mmio_read(d->t, off, 4, &v));
    return (uint32_t)v;
}

static inline void vdrv_w32(struct vdrv *d, uint64_t off, uint32_t v)
{
    assert_true(virtio_mmio_write(d->t, off, 4, v));
}

/* Returns false if the transport could not be made. */
static inline bool vdrv_open(struct vdrv *d, struct virtio_dev *dev)
{
    memset(d, 0, sizeof(*d));
    d->ram = aligned_alloc(4096, RAM_SIZE);
    assert_non_null(d->ram);
    memset(d->ram, 0, RAM_SIZE);
    d->mem = (struct virtio_guest_mem){ .host = d->ram, .base = RAM_BASE, .size = RAM_SIZE,
                                        .note_write = vdrv_note, .opaque = d };
    d->t = virtio_mmio_new(dev, &d->mem, (struct virtio_irq){ vdrv_irq, d }, NULL);
    return d->t != NULL;
}

static inline void vdrv_close(struct vdrv *d)
{
    virtio_mmio_free(d->t);
    free(d->ram);
}

/* Reset, ACKNOWLEDGE, DRIVER, features; returns Status read back. */
static inline uint32_t vdrv_negotiate(struct vdrv *d, uint64_t features)
{
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_STATUS), 0);
    vdrv_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    vdrv_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    vdrv_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return vdrv_r32(d, VIRTIO_MMIO_STATUS);
}

static inline uint64_t vdrv_device_features(struct vdrv *d)
{
    vdrv_w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = vdrv_r32(d, VIRTIO_MMIO_DEVICE_FEATURES);
    vdrv_w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return f | (uint64_t)vdrv_r32(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static inline void vdrv_queue_at(struct vdrv *d, unsigned q, uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_SEL, q);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(vdrv_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX) >= num);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_NUM, num);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
    d->num[q] = num;
    d->avail_idx[q] = 0;
}

static inline void vdrv_queue(struct vdrv *d, unsigned q, uint16_t num)
{
    memset(gp(d, QBASE(q)), 0, 0x4000);
    vdrv_queue_at(d, q, num, QBASE(q), QBASE(q) + 0x1000, QBASE(q) + 0x2000);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 1);
}

static inline void vdrv_driver_ok(struct vdrv *d)
{
    vdrv_w32(d, VIRTIO_MMIO_STATUS, vdrv_r32(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* The whole probe: features, every queue of size num, DRIVER_OK. */
static inline void vdrv_init(struct vdrv *d, uint64_t features, unsigned nq, uint16_t num)
{
    uint32_t st = vdrv_negotiate(d, features);
    assert_true(st & VIRTIO_STATUS_FEATURES_OK);
    for (unsigned q = 0; q < nq; q++)
        vdrv_queue(d, q, num);
    vdrv_driver_ok(d);
    virtio_mmio_poll(d->t); /* DRIVER_OK kicks the queues; nothing there */
}

static inline void vdrv_desc_in(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                                uint16_t next)
{
    uint8_t *p = gp(d, table + 16ull * i);
    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

static inline void vdrv_desc(struct vdrv *d, unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                             uint16_t next)
{
    vdrv_desc_in(d, QBASE(q), i, addr, len, flags, next);
}

/* Put head on the available ring and publish it (release, like the
 * driver's virtio_store_mb). */
static inline void vdrv_publish(struct vdrv *d, unsigned q, uint16_t head)
{
    uint8_t *avail = gp(d, QBASE(q) + 0x1000);
    uint16_t slot = d->avail_idx[q] & (d->num[q] - 1);
    memcpy(avail + 4 + 2 * slot, &head, 2);
    d->avail_idx[q]++;
    __atomic_store_n((uint16_t *)(void *)(avail + 2), d->avail_idx[q], __ATOMIC_RELEASE);
}

static inline void vdrv_set_avail_idx(struct vdrv *d, unsigned q, uint16_t idx)
{
    d->avail_idx[q] = idx;
    __atomic_store_n((uint16_t *)(void *)gp(d, QBASE(q) + 0x1002), idx, __ATOMIC_RELEASE);
}

static inline void vdrv_kick(struct vdrv *d, unsigned q)
{
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
    virtio_mmio_poll(d->t);
}

static inline uint16_t vdrv_used_idx(struct vdrv *d, unsigned q)
{
    return __atomic_load_n((uint16_t *)(void *)gp(d, QBASE(q) + 0x2002), __ATOMIC_ACQUIRE);
}

static inline void vdrv_used(struct vdrv *d, unsigned q, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint8_t *e = gp(d, QBASE(q) + 0x2000 + 4 + 8 * (uint64_t)(i & (d->num[q] - 1)));
    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
}

static inline void vdrv_ack(struct vdrv *d)
{
    vdrv_w32(d, VIRTIO_MMIO_INTERRUPT_ACK, vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS));
}

static inline bool vdrv_needs_reset(struct vdrv *d)
{
    return vdrv_r32(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

#endif

/* virtio-mmio transport and split virtqueue walking, driven through the
 * MMIO registers exactly as a guest driver would, with hostile rings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/evloop.h"
#include "base/log.h"
#include "virtio/console.h"
#include "virtio/rng.h"
#include "test_virtio_driver.h"

#define F(bit) (1ull << (bit))
#define FEAT_BASE F(VIRTIO_F_VERSION_1)
#define FEAT_ALL (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_F_EVENT_IDX))
#define NUM 16

/* ---- a test device that records what each chain looked like ---- */

struct tdev {
    struct virtio_dev dev;
    struct virtq_elem e;
    int chains, last_rc, resets;
    uint16_t n_out, n_in;
    uint32_t out_len, in_len;
    uint8_t first_out;
};

static void tdev_notify(struct virtio_dev *d, unsigned q)
{
    struct tdev *t = (struct tdev *)d;
    struct virtq *vq = &d->vq[q];
    int rc;
    while ((rc = virtq_pop(vq, &t->e)) > 0) {
        t->chains++;
        t->n_out = t->e.n_out;
        t->n_in = t->e.n_in;
        t->out_len = t->e.out_len;
        t->in_len = t->e.in_len;
        t->first_out = 0;
        iov_to_buf(t->e.iov, t->e.n_out, 0, &t->first_out, 1);
        /* Answer with a pattern over the whole writable part. */
        for (unsigned i = t->e.n_out; i < (unsigned)t->e.n_out + t->e.n_in; i++)
            memset(t->e.iov[i].iov_base, 0xab, t->e.iov[i].iov_len);
        virtq_push(vq, &t->e, t->e.in_len);
    }
    t->last_rc = rc;
    virtq_notify(vq);
}

static void tdev_cfg_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    (void)d;
    for (unsigned i = 0; i < size; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(0x10 + off + i);
}

static void tdev_reset(struct virtio_dev *d) { ((struct tdev *)d)->resets++; }
static void tdev_free(struct virtio_dev *d) { free(d); }

static const struct virtio_dev_ops tdev_ops = {
    .queue_notify = tdev_notify,
    .config_read = tdev_cfg_read,
    .reset = tdev_reset,
    .free = tdev_free,
};

static struct tdev *tdev_new(void)
{
    struct tdev *t = calloc(1, sizeof(*t));
    t->dev.ops = &tdev_ops;
    snprintf(t->dev.name, sizeof(t->dev.name), "virtio-test");
    t->dev.device_id = 42;
    t->dev.num_queues = 2;
    t->dev.config_len = 8;
    return t;
}

struct fx {
    struct vdrv d;
    struct tdev *td;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->td = tdev_new();
    assert_true(vdrv_open(&f->d, &f->td->dev));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vdrv_close(&f->d);
    free(f);
    return 0;
}

#define B(i) (BUF_BASE + 0x1000ull * (i))

/* Expect the device to have failed: NEEDS_RESET, a config interrupt, no
 * used entries, and no further work until reset. */
static void expect_failed(struct fx *f, unsigned q)
{
    assert_true(vdrv_needs_reset(&f->d));
    assert_true(vdrv_r32(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(vdrv_used_idx(&f->d, q), 0);
    assert_int_equal(f->td->last_rc, -1);
    int chains = f->td->chains;
    vdrv_kick(&f->d, q);
    assert_int_equal(f->td->chains, chains);
}

/* ---- registers ---- */

static void test_registers(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_DEVICE_ID), 42);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
    uint64_t feat = vdrv_device_features(d);
    assert_true(feat & F(VIRTIO_F_VERSION_1));
    assert_true(feat & F(VIRTIO_F_INDIRECT_DESC));
    assert_true(feat & F(VIRTIO_F_EVENT_IDX));
    vdrv_w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_READY, 1); /* ignored */
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    assert_int_equal(vdrv_r32(d, 0x0e0), 0); /* unknown */
    vdrv_w32(d, 0x0e0, 123);                 /* ignored */
    vdrv_w32(d, VIRTIO_MMIO_MAGIC_VALUE, 0); /* read-only */
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    uint64_t v;
    assert_false(virtio_mmio_read(d->t, VIRTIO_MMIO_STATUS, 2, &v)); /* register width */
    assert_false(virtio_mmio_read(d->t, VIRTIO_MMIO_STATUS + 1, 4, &v));
    assert_false(virtio_mmio_write(d->t, VIRTIO_MMIO_STATUS, 8, 0));
    assert_false(virtio_mmio_read(d->t, 0xffe, 4, &v)); /* past the slot */
    /* Config space: any width, little-endian, zero past its end. */
    assert_true(virtio_mmio_read(d->t, 0x100, 1, &v));
    assert_int_equal(v, 0x10);
    assert_true(virtio_mmio_read(d->t, 0x102, 2, &v));
    assert_int_equal(v, 0x1312);
    assert_true(virtio_mmio_read(d->t, 0x100, 8, &v));
    assert_int_equal(v, 0x1716151413121110ull);
    assert_true(virtio_mmio_read(d->t, 0x106, 4, &v));
    assert_int_equal(v, 0x1716);
    assert_true(virtio_mmio_read(d->t, 0x200, 4, &v));
    assert_int_equal(v, 0);
    assert_true(virtio_mmio_write(d->t, 0x100, 4, 0xdeadbeef)); /* read-only space */
    assert_false(virtio_mmio_read(d->t, 0x100, 3, &v));
}

static void test_features(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    /* A bit the device does not offer. */
    assert_false(vdrv_negotiate(d, FEAT_BASE | F(40)) & VIRTIO_STATUS_FEATURES_OK);
    /* A modern device needs VERSION_1. */
    assert_false(vdrv_negotiate(d, F(VIRTIO_F_EVENT_IDX)) & VIRTIO_STATUS_FEATURES_OK);
    assert_true(vdrv_negotiate(d, FEAT_ALL) & VIRTIO_STATUS_FEATURES_OK);
    assert_int_equal(f->td->dev.features, FEAT_ALL);
    /* Features are frozen after FEATURES_OK. */
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vdrv_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    assert_int_equal(f->td->dev.features, FEAT_ALL);
    assert_true(f->td->resets >= 3);
}

/* ---- good chains ---- */

static void test_simple_chain(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_BASE, 2, NUM);
    *(uint8_t *)gp(d, B(0)) = 0x5a;
    vdrv_desc(d, 0, 3, B(0), 100, VIRTQ_DESC_F_NEXT, 7);
    vdrv_desc(d, 0, 7, B(1), 200, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, 0, 1, B(2), 50, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 3);
    uint64_t notes = d->notes;
    vdrv_kick(d, 0);
    assert_int_equal(f->td->chains, 1);
    assert_int_equal(f->td->n_out, 1);
    assert_int_equal(f->td->n_in, 2);
    assert_int_equal(f->td->out_len, 100);
    assert_int_equal(f->td->in_len, 250);
    assert_int_equal(f->td->first_out, 0x5a);
    assert_int_equal(vdrv_used_idx(d, 0), 1);
    uint32_t id, len;
    vdrv_used(d, 0, 0, &id, &len);
    assert_int_equal(id, 3);
    assert_int_equal(len, 250);
    assert_int_equal(*(uint8_t *)gp(d, B(2) + 49), 0xab);
    assert_true(d->notes - notes >= 250); /* data reported as written */
    /* Used-buffer interrupt: bit 0, line up; ACK lowers it. */
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_int_equal(d->irq_level, 1);
    vdrv_ack(d);
    assert_int_equal(d->irq_level, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    /* Wrap the ring a few times. */
    for (int i = 0; i < 3 * NUM; i++) {
        vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
        vdrv_publish(d, 0, 0);
        vdrv_kick(d, 0);
    }
    assert_int_equal(vdrv_used_idx(d, 0), 1 + 3 * NUM);
    assert_false(vdrv_needs_reset(d));
}

static void test_not_before_driver_ok(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    assert_true(vdrv_negotiate(d, FEAT_BASE) & VIRTIO_STATUS_FEATURES_OK);
    vdrv_queue(d, 0, NUM);
    vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(f->td->chains, 0);
    assert_int_equal(d->irq_raises, 0);
    vdrv_driver_ok(d); /* the transport looks at the queues now */
    virtio_mmio_poll(d->t);
    assert_int_equal(f->td->chains, 1);
    /* Out-of-range queue index in QueueNotify is ignored. */
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_NOTIFY, 1000);
    virtio_mmio_poll(d->t);
}

static void test_zero_length(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_BASE, 2, NUM);
    /* Zero-length buffers are dropped (even with a wild address); an
     * all-empty chain reaches the device with no buffers at all. */
    vdrv_desc(d, 0, 0, 0xdead0000ull, 0, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, 0, 1, 0, 0, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(f->td->chains, 1);
    assert_int_equal(f->td->n_out + f->td->n_in, 0);
    assert_int_equal(vdrv_used_idx(d, 0), 1);
    uint32_t id, len;
    vdrv_used(d, 0, 0, &id, &len);
    assert_int_equal(len, 0);
    assert_false(vdrv_needs_reset(d));
}

static void test_indirect_ok(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_ALL, 2, NUM);
    uint64_t table = B(10);
    vdrv_desc_in(d, table, 0, B(0), 16, VIRTQ_DESC_F_NEXT, 2);
    vdrv_desc_in(d, table, 2, B(1), 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc_in(d, table, 1, B(2), 1, VIRTQ_DESC_F_WRITE, 0);
    /* A direct readable descriptor, then the indirect one (allowed). */
    vdrv_desc(d, 0, 5, B(3), 4, VIRTQ_DESC_F_NEXT, 6);
    vdrv_desc(d, 0, 6, table, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 5);
    vdrv_kick(d, 0);
    assert_int_equal(f->td->chains, 1);
    assert_int_equal(f->td->n_out, 2);
    assert_int_equal(f->td->n_in, 2);
    assert_int_equal(f->td->out_len, 20);
    assert_int_equal(f->td->in_len, 513);
    assert_false(vdrv_needs_reset(d));
}

/* ---- hostile chains ---- */

static void test_desc_loop(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, B(0), 8, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(&f->d, 0, 1, B(1), 8, VIRTQ_DESC_F_NEXT, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_self_loop(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 4, B(0), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
    vdrv_publish(&f->d, 0, 4);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_next_out_of_range(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, B(0), 8, VIRTQ_DESC_F_NEXT, NUM);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_head_out_of_range(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_publish(&f->d, 0, 0xffff);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_addr_below_ram(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, RAM_BASE - 8, 16, 0, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_addr_past_ram(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    /* Starts inside, ends one byte past the end. */
    vdrv_desc(&f->d, 0, 0, RAM_BASE + RAM_SIZE - 15, 16, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_addr_len_overflow(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_huge_length(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, B(0), 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_avail_jump(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    for (int i = 0; i < NUM; i++)
        vdrv_desc(&f->d, 0, (unsigned)i, B(0), 8, 0, 0);
    vdrv_set_avail_idx(&f->d, 0, NUM + 1);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_avail_jump_full_ok(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    /* Exactly a whole queue at once is legal. */
    for (int i = 0; i < NUM; i++) {
        vdrv_desc(&f->d, 0, (unsigned)i, B(0), 8, 0, 0);
        vdrv_publish(&f->d, 0, (uint16_t)i);
    }
    vdrv_kick(&f->d, 0);
    assert_int_equal(f->td->chains, NUM);
    assert_false(vdrv_needs_reset(&f->d));
}

static void test_write_before_read(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc(&f->d, 0, 0, B(0), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(&f->d, 0, 1, B(1), 8, 0, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_indirect_without_feature(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_BASE, 2, NUM);
    vdrv_desc_in(&f->d, B(10), 0, B(0), 8, 0, 0);
    vdrv_desc(&f->d, 0, 0, B(10), 16, VIRTQ_DESC_F_INDIRECT, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void indirect_case(void **state, uint64_t addr, uint32_t len, uint16_t flags)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_ALL, 2, NUM);
    vdrv_desc_in(&f->d, B(10), 0, B(0), 8, 0, 0);
    vdrv_desc(&f->d, 0, 0, addr, len, (uint16_t)(VIRTQ_DESC_F_INDIRECT | flags), 1);
    vdrv_desc(&f->d, 0, 1, B(1), 8, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_indirect_len_not_16(void **state) { indirect_case(state, B(10), 24, 0); }
static void test_indirect_len_zero(void **state) { indirect_case(state, B(10), 0, 0); }
static void test_indirect_too_long(void **state) { indirect_case(state, B(10), 16 * (VIRTQ_ELEM_MAX + 1), 0); }
static void test_indirect_outside_ram(void **state) { indirect_case(state, RAM_BASE + RAM_SIZE - 16, 32, 0); }
static void test_indirect_with_next(void **state) { indirect_case(state, B(10), 16, VIRTQ_DESC_F_NEXT); }

static void test_indirect_nested(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_ALL, 2, NUM);
    vdrv_desc_in(&f->d, B(10), 0, B(0), 8, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc_in(&f->d, B(10), 1, B(11), 16, VIRTQ_DESC_F_INDIRECT, 0);
    vdrv_desc_in(&f->d, B(11), 0, B(1), 8, 0, 0);
    vdrv_desc(&f->d, 0, 0, B(10), 32, VIRTQ_DESC_F_INDIRECT, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_indirect_loop(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_ALL, 2, NUM);
    vdrv_desc_in(&f->d, B(10), 0, B(0), 8, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc_in(&f->d, B(10), 1, B(1), 8, VIRTQ_DESC_F_NEXT, 0);
    vdrv_desc(&f->d, 0, 0, B(10), 32, VIRTQ_DESC_F_INDIRECT, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

static void test_indirect_next_out_of_table(void **state)
{
    struct fx *f = *state;
    vdrv_init(&f->d, FEAT_ALL, 2, NUM);
    /* next = 2 is inside the queue but outside this 2-entry table. */
    vdrv_desc_in(&f->d, B(10), 0, B(0), 8, VIRTQ_DESC_F_NEXT, 2);
    vdrv_desc(&f->d, 0, 0, B(10), 32, VIRTQ_DESC_F_INDIRECT, 0);
    vdrv_publish(&f->d, 0, 0);
    vdrv_kick(&f->d, 0);
    expect_failed(f, 0);
}

/* A failed device recovers by reset and a new probe; the error was logged
 * once (not checked here: it goes to stderr). */
static void test_reset_recovers(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_BASE, 2, NUM);
    vdrv_desc(d, 0, 0, B(0), 8, VIRTQ_DESC_F_NEXT, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    expect_failed(f, 0);
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(d->irq_level, 0);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 0);
    vdrv_init(d, FEAT_BASE, 2, NUM);
    vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), 1);
    assert_false(vdrv_needs_reset(d));
}

static void bad_queue(void **state, uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    assert_true(vdrv_negotiate(d, FEAT_BASE) & VIRTIO_STATUS_FEATURES_OK);
    vdrv_queue_at(d, 0, num, desc, avail, used);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(vdrv_needs_reset(d));
    /* DRIVER_OK does not revive it. */
    vdrv_driver_ok(d);
    vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(f->td->chains, 0);
}

static void test_queue_size_not_pow2(void **state) { bad_queue(state, 12, QBASE(0), QBASE(0) + 0x1000, QBASE(0) + 0x2000); }
static void test_queue_size_zero(void **state) { bad_queue(state, 0, QBASE(0), QBASE(0) + 0x1000, QBASE(0) + 0x2000); }
static void test_queue_desc_misaligned(void **state) { bad_queue(state, NUM, QBASE(0) + 8, QBASE(0) + 0x1000, QBASE(0) + 0x2000); }
static void test_queue_used_misaligned(void **state) { bad_queue(state, NUM, QBASE(0), QBASE(0) + 0x1000, QBASE(0) + 0x2002); }
static void test_queue_outside_ram(void **state) { bad_queue(state, NUM, QBASE(0), RAM_BASE + RAM_SIZE - 8, QBASE(0) + 0x2000); }
static void test_queue_addr_overflow(void **state) { bad_queue(state, NUM, 0xfffffffffffffff0ull, QBASE(0) + 0x1000, QBASE(0) + 0x2000); }

static void test_queue_num_too_big(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    assert_true(vdrv_negotiate(d, FEAT_BASE) & VIRTIO_STATUS_FEATURES_OK);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_NUM, 512);
    vdrv_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(vdrv_needs_reset(d));
}

/* ---- notification suppression ---- */

static void test_no_interrupt_flag(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_BASE, 2, NUM);
    uint16_t one = VIRTQ_AVAIL_F_NO_INTERRUPT;
    memcpy(gp(d, QBASE(0) + 0x1000), &one, 2);
    vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), 1);
    assert_int_equal(d->irq_raises, 0);
    one = 0;
    memcpy(gp(d, QBASE(0) + 0x1000), &one, 2);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(d->irq_raises, 1);
}

static void test_event_idx(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    vdrv_init(d, FEAT_ALL, 2, NUM);
    uint8_t *used_event = gp(d, QBASE(0) + 0x1000 + 4 + 2 * NUM);
    uint8_t *avail_event = gp(d, QBASE(0) + 0x2000 + 4 + 8 * NUM);
    vdrv_desc(d, 0, 0, B(0), 8, 0, 0);
    /* First completion always interrupts. */
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(d->irq_raises, 1);
    vdrv_ack(d);
    /* The device asked to hear about the next buffer. */
    uint16_t ae;
    memcpy(&ae, avail_event, 2);
    assert_int_equal(ae, 1);
    /* Driver wants an interrupt only when used idx passes 3. */
    uint16_t ue = 3;
    memcpy(used_event, &ue, 2);
    vdrv_publish(d, 0, 0); /* used -> 2 */
    vdrv_kick(d, 0);
    assert_int_equal(d->irq_raises, 1);
    vdrv_publish(d, 0, 0); /* used -> 3 */
    vdrv_kick(d, 0);
    assert_int_equal(d->irq_raises, 1);
    vdrv_publish(d, 0, 0); /* used -> 4: entry 3 written, event crossed */
    vdrv_kick(d, 0);
    assert_int_equal(d->irq_raises, 2);
    memcpy(&ae, avail_event, 2);
    assert_int_equal(ae, 4);
    /* Several at once crossing the event: one interrupt. */
    vdrv_ack(d);
    ue = 5;
    memcpy(used_event, &ue, 2);
    for (int i = 0; i < 4; i++)
        vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), 8);
    assert_int_equal(d->irq_raises, 3);
}

/* ---- the eventfd path through a real I/O thread ---- */

static void *io_thread(void *arg)
{
    evloop_run(arg);
    return NULL;
}

static void test_evloop_path(void **state)
{
    (void)state;
    struct evloop *l = evloop_new();
    assert_non_null(l);
    struct vdrv dd, *d = &dd;
    memset(d, 0, sizeof(*d));
    d->ram = aligned_alloc(4096, RAM_SIZE);
    memset(d->ram, 0, RAM_SIZE);
    d->mem = (struct virtio_guest_mem){ .host = d->ram, .base = RAM_BASE, .size = RAM_SIZE };
    struct virtio_dev *rng = virtio_rng_new();
    assert_non_null(rng);
    d->t = virtio_mmio_new(rng, &d->mem, (struct virtio_irq){ NULL, NULL }, l);
    assert_non_null(d->t);
    pthread_t th;
    pthread_create(&th, NULL, io_thread, l);

    /* The probe runs on this "vCPU" thread while the I/O thread runs. */
    assert_true(vdrv_negotiate(d, FEAT_ALL) & VIRTIO_STATUS_FEATURES_OK);
    vdrv_queue(d, 0, NUM);
    vdrv_driver_ok(d);
    const int rounds = 2000;
    for (int i = 0; i < rounds; i++) {
        uint16_t slot = (uint16_t)(i % NUM);
        vdrv_desc(d, 0, slot, B(slot), 64, VIRTQ_DESC_F_WRITE, 0);
        vdrv_publish(d, 0, slot);
        vdrv_w32(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
        /* Keep at most a queue's worth in flight. */
        while ((uint16_t)(d->avail_idx[0] - vdrv_used_idx(d, 0)) >= NUM)
            sched_yield();
    }
    while (vdrv_used_idx(d, 0) != (uint16_t)rounds)
        sched_yield();
    /* Reset while the I/O thread may be looking: it must wait for it. */
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_STATUS), 0);
    uint32_t id, len;
    d->num[0] = NUM;
    vdrv_used(d, 0, (uint16_t)(rounds - 1), &id, &len);
    assert_int_equal(len, 64);
    evloop_stop(l);
    pthread_join(th, NULL);
    virtio_mmio_free(d->t);
    evloop_free(l);
    free(d->ram);
}

/* ---- devices on the same transport ---- */

static void test_rng(void **state)
{
    (void)state;
    struct vdrv dd, *d = &dd;
    assert_true(vdrv_open(d, virtio_rng_new()));
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
    vdrv_init(d, FEAT_ALL, 1, NUM);
    /* A request larger than the per-request bound gets the bound. */
    vdrv_desc(d, 0, 0, BUF_BASE, 0x20000, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 0);
    vdrv_desc(d, 0, 1, BUF_BASE + 0x20000, 32, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 1);
    vdrv_kick(d, 0);
    uint32_t id, len;
    vdrv_used(d, 0, 0, &id, &len);
    assert_int_equal(len, VIRTIO_RNG_MAX_REQ);
    vdrv_used(d, 0, 1, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, 32);
    static const uint8_t zero[32];
    assert_memory_not_equal(gp(d, BUF_BASE + 0x20000), zero, 32);
    vdrv_close(d);
}

struct sink {
    char buf[256];
    size_t len;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    if (len > sizeof(s->buf) - s->len)
        len = sizeof(s->buf) - s->len;
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
}

static void test_console(void **state)
{
    (void)state;
    struct sink s = { .len = 0 };
    struct virtio_dev *con = virtio_console_new((struct virtio_chardev){ sink_write, &s }, 80, 25);
    struct vdrv dd, *d = &dd;
    assert_true(vdrv_open(d, con));
    uint64_t v;
    assert_true(virtio_mmio_read(d->t, 0x100, 4, &v));
    assert_int_equal(v, 80 | (25u << 16));
    /* Typed before the driver is up: kept. */
    virtio_console_input(con, (const uint8_t *)"early ", 6);
    vdrv_init(d, FEAT_ALL, 2, NUM);
    /* Output. */
    memcpy(gp(d, B(0)), "hello, ", 7);
    memcpy(gp(d, B(1)), "world", 5);
    vdrv_desc(d, VIRTIO_CONSOLE_TX, 0, B(0), 7, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, VIRTIO_CONSOLE_TX, 1, B(1), 5, 0, 0);
    vdrv_publish(d, VIRTIO_CONSOLE_TX, 0);
    vdrv_kick(d, VIRTIO_CONSOLE_TX);
    assert_int_equal(s.len, 12);
    assert_memory_equal(s.buf, "hello, world", 12);
    /* Input: the early bytes arrive with the first receive buffer. */
    virtio_console_input(con, (const uint8_t *)"late", 4);
    vdrv_desc(d, VIRTIO_CONSOLE_RX, 0, B(2), 8, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, VIRTIO_CONSOLE_RX, 0);
    vdrv_kick(d, VIRTIO_CONSOLE_RX);
    uint32_t id, len;
    assert_int_equal(vdrv_used_idx(d, VIRTIO_CONSOLE_RX), 1);
    vdrv_used(d, VIRTIO_CONSOLE_RX, 0, &id, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(gp(d, B(2)), "early la", 8);
    vdrv_desc(d, VIRTIO_CONSOLE_RX, 1, B(3), 64, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, VIRTIO_CONSOLE_RX, 1);
    vdrv_kick(d, VIRTIO_CONSOLE_RX);
    vdrv_used(d, VIRTIO_CONSOLE_RX, 1, &id, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(gp(d, B(3)), "te", 2);
    /* A guest that does not read: bounded buffer, the rest counted. */
    static uint8_t big[VIRTIO_CONSOLE_INBUF + 100];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    virtio_console_input(con, big, sizeof(big));
    assert_int_equal(virtio_console_dropped(con), 100);
    /* Arriving buffers drain it, across the ring's wrap. */
    for (unsigned i = 0; i < 5; i++) {
        vdrv_desc(d, VIRTIO_CONSOLE_RX, 2 + i, B(4 + i), 1024, VIRTQ_DESC_F_WRITE, 0);
        vdrv_publish(d, VIRTIO_CONSOLE_RX, (uint16_t)(2 + i));
    }
    vdrv_kick(d, VIRTIO_CONSOLE_RX);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_CONSOLE_RX), 6);
    assert_memory_equal(gp(d, B(4)), big, 1024);
    assert_memory_equal(gp(d, B(7)), big + 3072, 1024);
    vdrv_close(d);
}

int main(void)
{
    vlog_set_level(VLOG_ERROR); /* the calm warnings are expected here */
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_registers),
        T(test_features),
        T(test_simple_chain),
        T(test_not_before_driver_ok),
        T(test_zero_length),
        T(test_indirect_ok),
        T(test_desc_loop),
        T(test_self_loop),
        T(test_next_out_of_range),
        T(test_head_out_of_range),
        T(test_addr_below_ram),
        T(test_addr_past_ram),
        T(test_addr_len_overflow),
        T(test_huge_length),
        T(test_avail_jump),
        T(test_avail_jump_full_ok),
        T(test_write_before_read),
        T(test_indirect_without_feature),
        T(test_indirect_len_not_16),
        T(test_indirect_len_zero),
        T(test_indirect_too_long),
        T(test_indirect_outside_ram),
        T(test_indirect_with_next),
        T(test_indirect_nested),
        T(test_indirect_loop),
        T(test_indirect_next_out_of_table),
        T(test_reset_recovers),
        T(test_queue_size_not_pow2),
        T(test_queue_size_zero),
        T(test_queue_desc_misaligned),
        T(test_queue_used_misaligned),
        T(test_queue_outside_ram),
        T(test_queue_addr_overflow),
        T(test_queue_num_too_big),
        T(test_no_interrupt_flag),
        T(test_event_idx),
#undef T
        cmocka_unit_test(test_evloop_path),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_console),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

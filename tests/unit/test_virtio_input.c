/* virtio-input power button, driven through the MMIO transport as Linux's
 * virtio_input driver does: config selects, eventq delivery, statusq,
 * the pending bound, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/input.h"
#include "test_virtio_driver.h"

#define FEAT (1ull << VIRTIO_F_VERSION_1)
#define NUM 16
#define B(i) (BUF_BASE + 0x1000ull * (i))

static uint8_t cfg8(struct vdrv *d, unsigned off)
{
    uint64_t v = 0;
    assert_true(virtio_mmio_read(d->t, VIRTIO_MMIO_CONFIG + off, 1, &v));
    return (uint8_t)v;
}

/* Select and read back size and the union, byte by byte as Linux does. */
static unsigned cfg_select(struct vdrv *d, uint8_t sel, uint8_t sub, uint8_t *u)
{
    assert_true(virtio_mmio_write(d->t, VIRTIO_MMIO_CONFIG + 0, 1, sel));
    assert_true(virtio_mmio_write(d->t, VIRTIO_MMIO_CONFIG + 1, 1, sub));
    assert_int_equal(cfg8(d, 0), sel);
    assert_int_equal(cfg8(d, 1), sub);
    unsigned size = cfg8(d, 2);
    for (unsigned i = 0; i < 128; i++)
        u[i] = cfg8(d, VIRTIO_INPUT_CFG_UNION + i);
    return size;
}

static void post_events(struct vdrv *d, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n; i++) {
        memset(gp(d, B(i)), 0xee, 8);
        vdrv_desc(d, VIRTIO_INPUT_EVENTQ, i % NUM, B(i), 8, VIRTQ_DESC_F_WRITE, 0);
        vdrv_publish(d, VIRTIO_INPUT_EVENTQ, (uint16_t)(i % NUM));
    }
    vdrv_kick(d, VIRTIO_INPUT_EVENTQ);
}

static void expect_event(struct vdrv *d, unsigned used_pos, unsigned buf, uint16_t type, uint16_t code,
                         uint32_t value)
{
    uint32_t id, len;
    vdrv_used(d, VIRTIO_INPUT_EVENTQ, (uint16_t)used_pos, &id, &len);
    assert_int_equal(id, buf % NUM);
    assert_int_equal(len, 8);
    const uint8_t want[8] = { (uint8_t)type, (uint8_t)(type >> 8), (uint8_t)code, (uint8_t)(code >> 8),
                              (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                              (uint8_t)(value >> 24) };
    assert_memory_equal(gp(d, B(buf)), want, 8);
}

static void expect_press(struct vdrv *d, unsigned used_pos, unsigned buf)
{
    expect_event(d, used_pos + 0, buf + 0, 1, 116, 1);
    expect_event(d, used_pos + 1, buf + 1, 0, 0, 0);
    expect_event(d, used_pos + 2, buf + 2, 1, 116, 0);
    expect_event(d, used_pos + 3, buf + 3, 0, 0, 0);
}

static void test_config(void **state)
{
    (void)state;
    struct vdrv dd, *d = &dd;
    assert_true(vdrv_open(d, virtio_input_powerbutton_new()));
    assert_int_equal(vdrv_r32(d, VIRTIO_MMIO_DEVICE_ID), 18);
    assert_true(vdrv_device_features(d) & FEAT);
    uint8_t u[128];
    /* Nothing selected yet. */
    assert_int_equal(cfg8(d, 2), 0);
    /* ID_NAME */
    unsigned n = cfg_select(d, VIRTIO_INPUT_CFG_ID_NAME, 0, u);
    assert_int_equal(n, strlen("Vireo power button"));
    assert_memory_equal(u, "Vireo power button", n);
    assert_int_equal(u[n], 0);
    /* ID_SERIAL: none */
    assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_ID_SERIAL, 0, u), 0);
    /* ID_DEVIDS: bustype BUS_VIRTUAL, little-endian */
    assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u), 8);
    assert_int_equal(u[0], 0x06);
    assert_int_equal(u[1], 0);
    /* PROP_BITS: empty */
    assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_PROP_BITS, 0, u), 0);
    /* EV_BITS for EV_KEY: exactly KEY_POWER (116 = byte 14, bit 4) */
    n = cfg_select(d, VIRTIO_INPUT_CFG_EV_BITS, 1, u);
    assert_int_equal(n, 15);
    for (unsigned i = 0; i < 128; i++)
        assert_int_equal(u[i], i == 14 ? 0x10 : 0);
    /* Every other event type (EV_SYN, EV_REL, EV_ABS, EV_MSC, EV_SW, EV_LED, EV_REP): none */
    static const uint8_t others[] = { 0x00, 0x02, 0x03, 0x04, 0x05, 0x11, 0x14, 0x15 };
    for (unsigned i = 0; i < sizeof(others); i++) {
        assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_EV_BITS, others[i], u), 0);
        for (unsigned j = 0; j < 128; j++)
            assert_int_equal(u[j], 0);
    }
    /* ABS_INFO, unknown selects, subsel on ID_NAME: none */
    assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_ABS_INFO, 0, u), 0);
    assert_int_equal(cfg_select(d, 0x42, 0, u), 0);
    assert_int_equal(cfg_select(d, VIRTIO_INPUT_CFG_ID_NAME, 1, u), 0);
    /* size and the union are read-only; a 2-byte write sets both selectors */
    assert_true(virtio_mmio_write(d->t, VIRTIO_MMIO_CONFIG + 2, 1, 99));
    assert_int_equal(cfg8(d, 2), 0);
    assert_true(virtio_mmio_write(d->t, VIRTIO_MMIO_CONFIG + 0, 2, VIRTIO_INPUT_CFG_EV_BITS | (1u << 8)));
    assert_int_equal(cfg8(d, 2), 15);
    assert_int_equal(cfg8(d, VIRTIO_INPUT_CFG_UNION + 14), 0x10);
    /* A reset forgets the selection. */
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(cfg8(d, 0), 0);
    assert_int_equal(cfg8(d, 2), 0);
    vdrv_close(d);
}

static void test_press(void **state)
{
    (void)state;
    struct vdrv dd, *d = &dd;
    struct virtio_dev *dev = virtio_input_powerbutton_new();
    assert_true(vdrv_open(d, dev));
    vdrv_init(d, FEAT, 2, NUM);
    post_events(d, 0, 8);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 0);
    int raises = d->irq_raises;
    virtio_input_press_power(dev);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 4);
    assert_true(d->irq_raises > raises);
    assert_true(vdrv_r32(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
    expect_press(d, 0, 0);
    vdrv_ack(d);
    /* Too few buffers: the rest waits for more. */
    virtio_input_press_power(dev);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 8);
    expect_press(d, 4, 4);
    virtio_input_press_power(dev);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 8);
    post_events(d, 8, 2);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 10);
    post_events(d, 10, 3);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 12);
    expect_press(d, 8, 8);
    /* One buffer left: the press starts, the rest waits. */
    virtio_input_press_power(dev);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 13);
    /* statusq: consumed, nothing written */
    memcpy(gp(d, B(40)), "\x11\x00\x01\x00\x01\x00\x00\x00", 8);
    vdrv_desc(d, VIRTIO_INPUT_STATUSQ, 0, B(40), 8, 0, 0);
    vdrv_publish(d, VIRTIO_INPUT_STATUSQ, 0);
    vdrv_kick(d, VIRTIO_INPUT_STATUSQ);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_STATUSQ), 1);
    uint32_t id, len;
    vdrv_used(d, VIRTIO_INPUT_STATUSQ, 0, &id, &len);
    assert_int_equal(len, 0);
    assert_false(vdrv_needs_reset(d));
    assert_int_equal(virtio_input_dropped(dev), 0);
    vdrv_close(d);
}

static void test_pending_bound(void **state)
{
    (void)state;
    struct vdrv dd, *d = &dd;
    struct virtio_dev *dev = virtio_input_powerbutton_new();
    /* Presses before the device has a transport or a driver wait. */
    virtio_input_press_power(dev);
    assert_true(vdrv_open(d, dev));
    for (int i = 0; i < 9; i++)
        virtio_input_press_power(dev);
    assert_int_equal(virtio_input_dropped(dev), 10 - VIRTIO_INPUT_PENDING_MAX / 4);
    vdrv_init(d, FEAT, 2, NUM);
    /* The probe's reset did not lose them; they go as buffers come. */
    post_events(d, 0, NUM);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), VIRTIO_INPUT_PENDING_MAX);
    for (unsigned p = 0; p < VIRTIO_INPUT_PENDING_MAX / 4; p++)
        expect_press(d, 4 * p, 4 * p);
    vdrv_close(d);
}

static void test_reset(void **state)
{
    (void)state;
    struct vdrv dd, *d = &dd;
    struct virtio_dev *dev = virtio_input_powerbutton_new();
    assert_true(vdrv_open(d, dev));
    vdrv_init(d, FEAT, 2, NUM);
    post_events(d, 0, 2);
    virtio_input_press_power(dev);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 2);
    /* Reset with two events waiting and buffers gone: the queue stops, the
     * events stay for the next driver. */
    vdrv_w32(d, VIRTIO_MMIO_STATUS, 0);
    virtio_input_press_power(dev); /* no live queue: waits */
    vdrv_init(d, FEAT, 2, NUM);
    post_events(d, 0, 8);
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 6);
    expect_event(d, 0, 0, 1, 116, 0);
    expect_event(d, 1, 1, 0, 0, 0);
    expect_press(d, 2, 2);
    assert_false(vdrv_needs_reset(d));
    /* A broken ring fails the device until reset, and reset recovers. */
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 6);
    vdrv_desc(d, VIRTIO_INPUT_EVENTQ, 8, RAM_BASE + RAM_SIZE - 4, 8, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, VIRTIO_INPUT_EVENTQ, 8);
    virtio_input_press_power(dev);
    assert_true(vdrv_needs_reset(d));
    vdrv_init(d, FEAT, 2, NUM);
    assert_false(vdrv_needs_reset(d));
    post_events(d, 0, 4);
    /* The press filled the two good buffers left, stopped at the bad one
     * and kept the rest (the release) for the next driver. */
    assert_int_equal(vdrv_used_idx(d, VIRTIO_INPUT_EVENTQ), 2);
    expect_event(d, 0, 0, 1, 116, 0);
    expect_event(d, 1, 1, 0, 0, 0);
    vdrv_close(d);
}

int main(void)
{
    vlog_set_level(VLOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_press),
        cmocka_unit_test(test_pending_bound),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

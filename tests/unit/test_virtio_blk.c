/* virtio-blk on a real temporary image, driven through the MMIO registers
 * and the request queue as a guest driver would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "virtio/blk.h"
#include "test_virtio_driver.h"

#define F(bit) (1ull << (bit))
#define NUM 16
#define IMG_SIZE (4u << 20)
#define HDR (BUF_BASE)
#define DATA (BUF_BASE + 0x1000)
#define DATA_MAX 0x80000u
#define STATUS (BUF_BASE + 0x90000)
#define FEATS (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_F_EVENT_IDX) | \
               F(VIRTIO_BLK_F_SEG_MAX) | F(VIRTIO_BLK_F_BLK_SIZE) | F(VIRTIO_BLK_F_FLUSH))

struct fx {
    char path[64];
    int fd; /* the test's own view of the image */
    struct vdrv d;
    bool open;
};

static struct fx *make_image(size_t size)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(f->path, sizeof(f->path), "%s/vireo-blk-XXXXXX", dir);
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
    assert_int_equal(ftruncate(f->fd, (off_t)size), 0);
    return f;
}

static bool attach(struct fx *f, bool ro, const char *serial, uint64_t feats)
{
    struct virtio_blk_opts o = { .path = f->path, .readonly = ro, .serial = serial };
    struct virtio_dev *dev = virtio_blk_new(&o);
    if (!dev)
        return false;
    assert_true(vdrv_open(&f->d, dev));
    f->open = true;
    vdrv_init(&f->d, feats, 1, NUM);
    return true;
}

static int setup(void **state)
{
    struct fx *f = make_image(IMG_SIZE);
    assert_true(attach(f, false, NULL, FEATS | F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES)));
    *state = f;
    return 0;
}

static void detach(struct fx *f)
{
    if (f->open)
        vdrv_close(&f->d);
    f->open = false;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    detach(f);
    close(f->fd);
    unlink(f->path);
    free(f);
    return 0;
}

/* One request: header, data (in two descriptors when large enough, to
 * exercise scatter-gather), status byte. data_write: the data part is
 * device-writable (IN, GET_ID). Returns the status byte; *used gets the
 * used length. */
static uint8_t req(struct fx *f, uint32_t type, uint64_t sector, uint32_t len, bool data_write, uint32_t *used)
{
    struct vdrv *d = &f->d;
    assert_true(len <= DATA_MAX);
    uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
    memcpy(gp(d, HDR), h, 16);
    *(uint8_t *)gp(d, STATUS) = 0xee;
    uint16_t dflag = data_write ? VIRTQ_DESC_F_WRITE : 0;
    unsigned i = 0;
    vdrv_desc(d, 0, i, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
    i++;
    if (len >= 1024) {
        uint32_t a = len / 2 - 100;
        vdrv_desc(d, 0, i, DATA, a, dflag | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
        i++;
        vdrv_desc(d, 0, i, DATA + a, len - a, dflag | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
        i++;
    } else if (len) {
        vdrv_desc(d, 0, i, DATA, len, dflag | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
        i++;
    }
    vdrv_desc(d, 0, i, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    uint16_t before = vdrv_used_idx(d, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), (uint16_t)(before + 1));
    uint32_t id, l;
    vdrv_used(d, 0, before, &id, &l);
    assert_int_equal(id, 0);
    if (used)
        *used = l;
    vdrv_ack(d);
    return *(uint8_t *)gp(d, STATUS);
}

static void fill(struct fx *f, uint32_t len, uint8_t seed)
{
    uint8_t *p = gp(&f->d, DATA);
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static uint8_t discard(struct fx *f, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags)
{
    uint8_t seg[16];
    memcpy(seg, &sector, 8);
    memcpy(seg + 8, &num, 4);
    memcpy(seg + 12, &flags, 4);
    memcpy(gp(&f->d, DATA), seg, 16);
    return req(f, type, 0, 16, false, NULL);
}

static uint64_t cfg64(struct fx *f, unsigned off)
{
    uint64_t v;
    assert_true(virtio_mmio_read(f->d.t, VIRTIO_MMIO_CONFIG + off, 8, &v));
    return v;
}

static uint32_t cfg32(struct fx *f, unsigned off)
{
    uint64_t v;
    assert_true(virtio_mmio_read(f->d.t, VIRTIO_MMIO_CONFIG + off, 4, &v));
    return (uint32_t)v;
}

static void test_config(void **state)
{
    struct fx *f = *state;
    assert_int_equal(vdrv_r32(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    uint64_t feat = vdrv_device_features(&f->d);
    assert_true(feat & F(VIRTIO_BLK_F_SEG_MAX));
    assert_true(feat & F(VIRTIO_BLK_F_BLK_SIZE));
    assert_true(feat & F(VIRTIO_BLK_F_FLUSH));
    assert_true(feat & F(VIRTIO_BLK_F_DISCARD));
    assert_true(feat & F(VIRTIO_BLK_F_WRITE_ZEROES));
    assert_false(feat & F(VIRTIO_BLK_F_RO));
    assert_int_equal(cfg64(f, VIRTIO_BLK_CFG_CAPACITY), IMG_SIZE / 512);
    assert_int_equal(cfg32(f, VIRTIO_BLK_CFG_BLK_SIZE), 512);
    assert_int_equal(cfg32(f, VIRTIO_BLK_CFG_SEG_MAX), VIRTQ_ELEM_MAX - 2);
    assert_true(cfg32(f, VIRTIO_BLK_CFG_MAX_DISCARD_SEG) >= 1);
    assert_true(cfg32(f, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS) >= 8);
}

static void test_write_read(void **state)
{
    struct fx *f = *state;
    const uint32_t len = 8192;
    fill(f, len, 3);
    uint8_t expect[8192];
    memcpy(expect, gp(&f->d, DATA), len);
    uint32_t used;
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 10, len, false, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
    uint8_t file[8192];
    assert_int_equal(pread(f->fd, file, len, 10 * 512), len);
    assert_memory_equal(file, expect, len);
    memset(gp(&f->d, DATA), 0, len);
    uint64_t notes = f->d.notes;
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 10, len, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, len + 1);
    assert_memory_equal(gp(&f->d, DATA), expect, len);
    assert_true(f->d.notes - notes >= len + 1);
    /* The very last sector. */
    fill(f, 512, 9);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, IMG_SIZE / 512 - 1, 512, false, NULL), VIRTIO_BLK_S_OK);
    struct stat st;
    fstat(f->fd, &st);
    assert_int_equal(st.st_size, IMG_SIZE);
}

static void test_flush(void **state)
{
    struct fx *f = *state;
    fill(f, 4096, 1);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 0, 4096, false, NULL), VIRTIO_BLK_S_OK);
    uint32_t used;
    assert_int_equal(req(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
}

static void test_out_of_range(void **state)
{
    struct fx *f = *state;
    const uint64_t cap = IMG_SIZE / 512;
    fill(f, 1024, 5);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, cap - 1, 1024, false, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, cap, 512, false, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, cap - 1, 1024, true, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false, NULL), VIRTIO_BLK_S_IOERR);
    /* Not a whole number of sectors. */
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 0, 100, true, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(discard(f, VIRTIO_BLK_T_DISCARD, cap - 4, 8, 0), VIRTIO_BLK_S_IOERR);
    assert_int_equal(discard(f, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 2, 8, 0), VIRTIO_BLK_S_IOERR);
    struct stat st;
    fstat(f->fd, &st);
    assert_int_equal(st.st_size, IMG_SIZE); /* never grown */
    assert_false(vdrv_needs_reset(&f->d));
}

static void test_discard(void **state)
{
    struct fx *f = *state;
    const uint32_t len = 256 * 1024;
    fill(f, len, 11);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 0, len, false, NULL), VIRTIO_BLK_S_OK);
    assert_int_equal(req(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
    struct stat before, after;
    fstat(f->fd, &before);
    assert_int_equal(discard(f, VIRTIO_BLK_T_DISCARD, 0, len / 512, 0), VIRTIO_BLK_S_OK);
    fstat(f->fd, &after);
    assert_true(after.st_blocks < before.st_blocks);
    assert_int_equal(after.st_size, IMG_SIZE);
    memset(gp(&f->d, DATA), 0x77, len);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 0, len, true, NULL), VIRTIO_BLK_S_OK);
    static const uint8_t zero[4096];
    for (uint32_t o = 0; o < len; o += 4096)
        assert_memory_equal(gp(&f->d, DATA + o), zero, 4096);
    /* The unmap flag is not for discard; unknown flags never. */
    assert_int_equal(discard(f, VIRTIO_BLK_T_DISCARD, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(discard(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2), VIRTIO_BLK_S_UNSUPP);
    /* Payload not a whole number of segments. */
    assert_int_equal(req(f, VIRTIO_BLK_T_DISCARD, 0, 20, false, NULL), VIRTIO_BLK_S_IOERR);
}

static void test_write_zeroes(void **state)
{
    struct fx *f = *state;
    const uint32_t len = 64 * 1024;
    static const uint8_t zero[4096];
    for (uint32_t flags = 0; flags <= VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP; flags++) {
        fill(f, len, 13);
        assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 64, len, false, NULL), VIRTIO_BLK_S_OK);
        /* Zero the middle 16 sectors. */
        assert_int_equal(discard(f, VIRTIO_BLK_T_WRITE_ZEROES, 64 + 8, 16, flags), VIRTIO_BLK_S_OK);
        uint8_t buf[16 * 512];
        assert_int_equal(pread(f->fd, buf, sizeof(buf), (64 + 8) * 512), sizeof(buf));
        assert_memory_equal(buf, zero, 4096);
        assert_memory_equal(buf + 4096, zero, 4096);
        assert_int_equal(pread(f->fd, buf, 512, (64 + 7) * 512), 512);
        assert_memory_not_equal(buf, zero, 512); /* neighbours untouched */
        assert_int_equal(pread(f->fd, buf, 512, (64 + 24) * 512), 512);
        assert_memory_not_equal(buf, zero, 512);
    }
}

static void test_get_id(void **state)
{
    struct fx *f = *state;
    memset(gp(&f->d, DATA), 0x55, 64);
    uint32_t used;
    assert_int_equal(req(f, VIRTIO_BLK_T_GET_ID, 0, 20, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 21);
    char expect[20] = { 0 };
    const char *base = strrchr(f->path, '/') + 1;
    memcpy(expect, base, strlen(base));
    assert_memory_equal(gp(&f->d, DATA), expect, 20);
    detach(f);
    assert_true(attach(f, false, "a-serial-longer-than-twenty", FEATS));
    assert_int_equal(req(f, VIRTIO_BLK_T_GET_ID, 0, 20, true, &used), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(&f->d, DATA), "a-serial-longer-than", 20);
}

static void test_unsupported(void **state)
{
    struct fx *f = *state;
    assert_int_equal(req(f, 99, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
    /* DISCARD when the driver did not negotiate it. */
    detach(f);
    assert_true(attach(f, false, NULL, FEATS));
    assert_int_equal(discard(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0), VIRTIO_BLK_S_UNSUPP);
}

static void test_readonly(void **state)
{
    struct fx *f = *state;
    detach(f);
    uint8_t orig[512];
    for (int i = 0; i < 512; i++)
        orig[i] = (uint8_t)(i * 3 + 1);
    assert_int_equal(pwrite(f->fd, orig, 512, 0), 512);
    assert_true(attach(f, true, NULL, FEATS | F(VIRTIO_BLK_F_RO)));
    uint64_t feat = vdrv_device_features(&f->d);
    assert_true(feat & F(VIRTIO_BLK_F_RO));
    assert_false(feat & F(VIRTIO_BLK_F_DISCARD));
    assert_false(feat & F(VIRTIO_BLK_F_WRITE_ZEROES));
    memset(gp(&f->d, DATA), 0xcc, 512);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 0, 512, false, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(discard(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(req(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
    uint8_t file[512];
    assert_int_equal(pread(f->fd, file, 512, 0), 512);
    assert_memory_equal(file, orig, 512);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(&f->d, DATA), orig, 512);
    /* A second reader is fine; a writer is refused while it is open. */
    struct virtio_blk_opts o = { .path = f->path, .readonly = true };
    struct virtio_dev *d2 = virtio_blk_new(&o);
    assert_non_null(d2);
    virtio_dev_free(d2);
    o.readonly = false;
    assert_null(virtio_blk_new(&o));
}

static void test_malformed(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    /* No status byte: not a request at all, the device stops. */
    vdrv_desc(d, 0, 0, HDR, 16, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), 0);
    assert_true(vdrv_needs_reset(d));
    /* After a reset, a short header fails the same way. */
    vdrv_init(d, FEATS, 1, NUM);
    vdrv_desc(d, 0, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc(d, 0, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_true(vdrv_needs_reset(d));
    /* And an empty chain. */
    vdrv_init(d, FEATS, 1, NUM);
    vdrv_desc(d, 0, 0, HDR, 0, 0, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_true(vdrv_needs_reset(d));
    /* A good request after reset works. */
    vdrv_init(d, FEATS, 1, NUM);
    assert_int_equal(req(f, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

/* Header, data and status all in one writable+readable split of a single
 * indirect table, status sharing the last data buffer. */
static void test_indirect_shared_status(void **state)
{
    struct fx *f = *state;
    struct vdrv *d = &f->d;
    fill(f, 512, 21);
    assert_int_equal(req(f, VIRTIO_BLK_T_OUT, 3, 512, false, NULL), VIRTIO_BLK_S_OK);
    uint32_t h[4] = { VIRTIO_BLK_T_IN, 0, 3, 0 };
    memcpy(gp(d, HDR), h, 16);
    uint64_t table = BUF_BASE + 0xa0000;
    vdrv_desc_in(d, table, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    vdrv_desc_in(d, table, 1, DATA + 0x10000, 513, VIRTQ_DESC_F_WRITE, 0);
    vdrv_desc(d, 0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    uint16_t before = vdrv_used_idx(d, 0);
    vdrv_publish(d, 0, 0);
    vdrv_kick(d, 0);
    assert_int_equal(vdrv_used_idx(d, 0), (uint16_t)(before + 1));
    assert_memory_equal(gp(d, DATA + 0x10000), gp(d, DATA), 512);
    assert_int_equal(*(uint8_t *)gp(d, DATA + 0x10000 + 512), VIRTIO_BLK_S_OK);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct virtio_blk_opts o = { .path = "/nonexistent/vireo-disk.img" };
    assert_null(virtio_blk_new(&o));
    o.path = "/";
    assert_null(virtio_blk_new(&o));
    /* Size not a multiple of 512: rounded down. */
    struct fx *f = make_image(1000);
    assert_true(attach(f, false, NULL, FEATS));
    assert_int_equal(cfg64(f, VIRTIO_BLK_CFG_CAPACITY), 1);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 1, 512, true, NULL), VIRTIO_BLK_S_IOERR);
    assert_int_equal(req(f, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
    /* Locked against a second writer. */
    o.path = f->path;
    assert_null(virtio_blk_new(&o));
    void *s = f;
    teardown(&s);
}

int main(void)
{
    vlog_set_level(VLOG_ERROR);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_config),
        T(test_write_read),
        T(test_flush),
        T(test_out_of_range),
        T(test_discard),
        T(test_write_zeroes),
        T(test_get_id),
        T(test_unsupported),
        T(test_readonly),
        T(test_malformed),
        T(test_indirect_shared_status),
#undef T
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

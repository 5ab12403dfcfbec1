/* Fuzz target: virtio-blk behind the virtio-mmio transport, on a 64 KiB
 * image. The input is one byte (bit 0: the disk is read-only; bit 1: no
 * serial, so GET_ID answers the file's name), then a
 * probe and a driver's operations (virtio_fuzz.h);
 * the device-specific operation builds a whole request (any type, sector,
 * data length, split into several buffers, optionally through an indirect
 * table) and kicks the queue. Besides the transport invariants of
 * virtio_fuzz.h: the image never changes size (requests past the capacity
 * must be refused, not extend the file), and every guest buffer the device
 * reads or writes is inside guest RAM (ASan: the RAM is an exact-size
 * block).
 *
 * The image is made once, unlinked at once, and reopened for each input
 * through /proc/self/fd (virtio_blk_new wants a path); its contents are
 * rewritten before each input so runs do not depend on each other. It lives
 * in $TMPDIR, else /dev/shm (tmpfs: FLUSH's fdatasync costs nothing there),
 * else /tmp. */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "virtio_fuzz.h"

#define IMG_SIZE 0x10000u
#define HDR_OFF VF_BUF              /* request header */
#define IND_OFF (VF_BUF + 0x20)     /* indirect table: up to 6 entries */
#define DATA_OFF (VF_BUF + 0x100)
#define DATA_MAX (0xff00u - DATA_OFF)
#define STATUS_OFF 0xff00u

static int img_fd = -1;
static char img_path[64];
static uint8_t img_init[IMG_SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    vlog_set_level(VLOG_ERROR); /* a failed device warns once per input */
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/vireo-fuzz-blk-XXXXXX", dir);
    img_fd = mkstemp(tmpl);
    if (img_fd < 0 || ftruncate(img_fd, IMG_SIZE) < 0) {
        perror(tmpl);
        abort();
    }
    unlink(tmpl);
    snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
    /* Each sector starts with its number, the rest a pattern. */
    for (unsigned i = 0; i < IMG_SIZE; i++)
        img_init[i] = (uint8_t)(i % 512 < 2 ? (i / 512) >> (8 * (i % 512)) : i * 7);
    return 0;
}

static void check_size(struct vf *g)
{
    (void)g;
    struct stat st;
    VF_CHECK(fstat(img_fd, &st) == 0);
    VF_CHECK(st.st_size == IMG_SIZE);
}

/* A request: sel u8 (bits 0-2 type, bit 3 raw u64 sector, bit 4 indirect,
 * bit 5 data bytes follow in the input, bit 6 no status buffer, bit 7 no
 * header buffer), [type u32 when bits 0-2 are 7], sector (u16 or u64), data
 * length u16, segments u8, [data]. */
static void blk_request(struct vf *g, struct vf_in *in, unsigned which)
{
    (void)which;
    static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
                                      VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, 2 };
    uint8_t sel = in_u8(in);
    uint32_t type = (sel & 7) == 7 ? in_u32(in) : types[sel & 7];
    uint64_t sector = sel & 8 ? in_u64(in) : in_u16(in);
    uint32_t dlen = in_u16(in) % (DATA_MAX + 1);
    unsigned nseg = 1 + in_u8(in) % 4;
    if (sel & 0x20) {
        size_t l = dlen < in->n ? dlen : in->n;
        memcpy(g->ram + DATA_OFF, in->p, l);
        in->p += l, in->n -= l;
    }
    uint32_t hdr[4] = { htole32(type), 0, htole32((uint32_t)sector), htole32((uint32_t)(sector >> 32)) };
    memcpy(g->ram + HDR_OFF, hdr, 16);
    g->ram[STATUS_OFF] = 0xff;

    /* The buffers in order: header, data pieces, status. */
    bool data_in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    struct buf { uint64_t a; uint32_t l; uint16_t f; } b[6];
    unsigned n = 0;
    if (!(sel & 0x80))
        b[n++] = (struct buf){ VF_RAM_BASE + HDR_OFF, 16, 0 };
    uint32_t done = 0;
    for (unsigned i = 0; i < nseg && dlen; i++) {
        uint32_t l = i + 1 == nseg ? dlen - done : dlen / nseg;
        b[n++] = (struct buf){ VF_RAM_BASE + DATA_OFF + done, l, data_in ? VIRTQ_DESC_F_WRITE : 0 };
        done += l;
    }
    if (!(sel & 0x40))
        b[n++] = (struct buf){ VF_RAM_BASE + STATUS_OFF, 1, VIRTQ_DESC_F_WRITE };
    if (!n)
        b[n++] = (struct buf){ VF_RAM_BASE + HDR_OFF, 16, 0 };

    uint16_t mask = vf_mask(g, 0);
    uint16_t head = g->avail_idx[0] & mask;
    if (sel & 0x10) {
        for (unsigned i = 0; i < n; i++)
            vf_desc(g, IND_OFF, i, b[i].a, b[i].l, b[i].f | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(i + 1));
        vf_desc(g, VF_QAREA(0), head, VF_RAM_BASE + IND_OFF, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
    } else {
        for (unsigned i = 0; i < n; i++)
            vf_desc(g, VF_QAREA(0), (head + i) & mask, b[i].a, b[i].l, b[i].f | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
                    (uint16_t)((head + i + 1) & mask));
    }
    vf_publish(g, 0, head);
    vf_kick(g, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (img_fd < 0)
        LLVMFuzzerInitialize(NULL, NULL);
    VF_CHECK(pwrite(img_fd, img_init, IMG_SIZE, 0) == IMG_SIZE);
    uint8_t b = size ? data[0] : 0;
    struct virtio_blk_opts o = { .path = img_path, .readonly = b & 1, .serial = b & 2 ? NULL : "fuzz-disk" };
    vf_run(virtio_blk_new(&o), size ? data + 1 : data, size ? size - 1 : 0, blk_request, check_size);
    check_size(NULL);
    return 0;
}

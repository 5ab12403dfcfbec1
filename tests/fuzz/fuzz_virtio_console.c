/* Fuzz target: virtio-console behind the virtio-mmio transport. The input
 * is a probe and a driver's operations (virtio_fuzz.h); the device-specific
 * operations are host input (bytes typed by the user, delivered into the
 * receive queue or buffered up to VIRTIO_CONSOLE_INBUF) and a request of up
 * to four buffers on either queue, directly or through an indirect table.
 * Checked, besides the transport invariants of virtio_fuzz.h and ASan on
 * the exact-size guest RAM:
 *   - what the device hands to the chardev lies inside guest RAM;
 *   - input is dropped only when the buffer is full (an upper bound on what
 *     it holds is tracked), never more than was given;
 *   - a transmit request that was the only one pending reaches the chardev
 *     as exactly its readable bytes, in order, and completes with length 0;
 *   - a receive request that was the only one pending is answered with at
 *     most its writable bytes, and no byte outside those buffers changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/console.h"
#include "virtio_fuzz.h"

#define IND_OFF VF_BUF
#define LO (VF_BUF + 0x40)

static struct virtio_dev *con;
static uint8_t out[2 * VF_RAM_SIZE];
static size_t out_len;
static size_t inbuf_max; /* upper bound on the bytes the device buffers */

static void chardev_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct vf *g = opaque ? opaque : vf_cur;
    VF_CHECK(buf >= g->ram && len <= VF_RAM_SIZE && (size_t)(buf - g->ram) <= VF_RAM_SIZE - len);
    size_t l = len < sizeof(out) - out_len ? len : sizeof(out) - out_len;
    memcpy(out + out_len, buf, l);
    out_len += l;
}

/* which 0: input, len u8 then bytes (len 0xff: 5000 copies of one byte,
 * more than the buffer holds). which 1: request, sel u8 (bit 0 transmit
 * queue, bit 1 indirect, bits 2-3: buffers - 1, bits 4-7: which buffers are
 * writable), per buffer off u16, len u16. */
static void console_op(struct vf *g, struct vf_in *in, unsigned which)
{
    if (which == 0) {
        static uint8_t buf[5000];
        size_t len = in_u8(in);
        if (len == 0xff) {
            len = sizeof(buf);
            memset(buf, in_u8(in), len);
        } else {
            len = len < in->n ? len : in->n;
            memcpy(buf, in->p, len);
            in->p += len, in->n -= len;
        }
        uint64_t before = virtio_console_dropped(con);
        virtio_console_input(con, buf, len);
        uint64_t dropped = virtio_console_dropped(con) - before;
        VF_CHECK(dropped <= len);
        if (inbuf_max + len <= VIRTIO_CONSOLE_INBUF)
            VF_CHECK(dropped == 0);
        inbuf_max += len - dropped;
        if (inbuf_max > VIRTIO_CONSOLE_INBUF)
            inbuf_max = VIRTIO_CONSOLE_INBUF;
        return;
    }
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
    /* Readable buffers get a pattern, the rest of RAM 0xa5. */
    memset(g->ram + LO, 0xa5, VF_RAM_SIZE - LO);
    for (unsigned i = 0; i < n; i++)
        if (!b[i].flags)
            for (uint32_t k = 0; k < b[i].len; k++)
                g->ram[b[i].off + k] = (uint8_t)(b[i].off + k * 3);
    uint8_t *before = malloc(VF_RAM_SIZE);
    if (!before)
        abort();
    memcpy(before, g->ram, VF_RAM_SIZE);
    out_len = 0;
    uint32_t used_len;
    int r = vf_post(g, q, b, n, sel & 2 ? IND_OFF : 0, &used_len);
    if (r > 0) {
        VF_CHECK(used_len <= wtotal);
        if (q == VIRTIO_CONSOLE_TX) {
            VF_CHECK(used_len == 0);
            /* A valid chain has its readable buffers first. */
            size_t k = 0;
            for (unsigned i = 0; i < n; i++) {
                if (b[i].flags)
                    continue;
                VF_CHECK(k + b[i].len <= out_len);
                VF_CHECK(!memcmp(out + k, before + b[i].off, b[i].len));
                k += b[i].len;
            }
            VF_CHECK(k == out_len);
        }
    }
    if (r >= 0) {
        vf_check_untouched(g, before, LO, b, n);
        if (q == VIRTIO_CONSOLE_TX) /* nothing written at all */
            VF_CHECK(!memcmp(g->ram + LO, before + LO, VF_RAM_SIZE - LO));
    }
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vlog_set_level(VLOG_ERROR);
    /* With or without a terminal size, as the first byte says. */
    uint8_t sz = size ? data[0] : 0;
    con = virtio_console_new((struct virtio_chardev){ chardev_write, NULL }, sz & 1 ? 80 : 0, sz & 1 ? 25 : 0);
    inbuf_max = 0;
    out_len = 0;
    vf_run(con, size ? data + 1 : data, size ? size - 1 : 0, console_op, NULL);
    return 0;
}

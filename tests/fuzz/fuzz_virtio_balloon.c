/* Fuzz target: virtio-balloon behind the virtio-mmio transport. The input
 * is a probe and a driver's operations (virtio_fuzz.h); the device-specific
 * operations are
 *   0: post one buffer of page frame numbers on inflateq or deflateq
 *      (directly or through an indirect table) and kick. The numbers are
 *      the guest's pages, pages past its RAM, or any 32-bit value;
 *   1: the host sets a new target (a config change interrupt).
 * The harness sets up two queues, so free page reporting (queue 2) is not
 * driven here; its ranges come from the queue walker, fuzzed by every
 * target. Checked: the transport invariants of virtio_fuzz.h; the device
 * stays inside guest RAM (ASan: the RAM is an exact-size block); RAM at and
 * above the buffers changes only on pages the guest put in the balloon
 * (inflating discards them to zeros), never on deflate; the counters add
 * up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/balloon.h"
#include "virtio_fuzz.h"

#define IND_OFF VF_BUF /* indirect table: one entry */
#define PFNS (VF_BUF + 0x40)
#define MAX_PFNS 64
#define LO PFNS

static struct virtio_dev *dev;

/* sel u8 (bit 0 queue: deflate, bit 1 indirect), count u8, then per frame
 * kind u8 (0-1: a page of RAM, index u8 % 16; 2: one past RAM; 3: raw u32). */
static void post_pfns(struct vf *g, struct vf_in *in)
{
    uint8_t sel = in_u8(in);
    unsigned q = sel & 1, n = in_u8(in) % (MAX_PFNS + 1);
    bool listed[VF_RAM_SIZE / 4096] = { false };
    uint32_t pfns[MAX_PFNS];
    for (unsigned i = 0; i < n; i++) {
        uint8_t kind = in_u8(in) % 4;
        uint64_t first = VF_RAM_BASE / 4096;
        if (kind < 2) {
            unsigned page = in_u8(in) % (VF_RAM_SIZE / 4096);
            pfns[i] = (uint32_t)(first + page);
            listed[page] = true;
        } else if (kind == 2) {
            pfns[i] = (uint32_t)(first + VF_RAM_SIZE / 4096);
        } else {
            pfns[i] = in_u32(in);
            uint64_t a = (uint64_t)pfns[i] * 4096;
            if (a >= VF_RAM_BASE && a - VF_RAM_BASE < VF_RAM_SIZE)
                listed[(a - VF_RAM_BASE) / 4096] = true;
        }
    }
    memcpy(g->ram + PFNS, pfns, 4 * n);
    struct virtio_balloon_stats s0, s1;
    virtio_balloon_get_stats(dev, &s0);
    static uint8_t before[VF_RAM_SIZE];
    memcpy(before, g->ram, VF_RAM_SIZE);
    struct vf_buf b = { .off = PFNS, .len = 4 * n, .flags = 0 };
    uint32_t used_len;
    int r = vf_post(g, q, &b, 1, sel & 2 ? IND_OFF : 0, &used_len);
    virtio_balloon_get_stats(dev, &s1);
    if (r < 0)
        return; /* other chains ran too: their pages changed as well */
    for (uint32_t o = LO; o < VF_RAM_SIZE; o++)
        if (g->ram[o] != before[o])
            VF_CHECK(q == 0 && listed[o / 4096] && g->ram[o] == 0);
    if (r > 0) {
        VF_CHECK(used_len == 0);
        uint64_t counted = q == 0 ? s1.inflated_pages - s0.inflated_pages : s1.deflated_pages - s0.deflated_pages;
        VF_CHECK(counted == n);
    }
}

static void balloon_op(struct vf *g, struct vf_in *in, unsigned which)
{
    if (which == 0)
        post_pfns(g, in);
    else
        virtio_balloon_set_target(dev, in_u32(in));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vlog_set_level(VLOG_ERROR);
    dev = virtio_balloon_new();
    vf_run(dev, data, size, balloon_op, NULL);
    return 0;
}

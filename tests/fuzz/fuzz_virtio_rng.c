/* Fuzz target: virtio-rng behind the virtio-mmio transport. The input is a
 * probe and a driver's operations (virtio_fuzz.h); the device-specific
 * operation posts one request of up to four buffers anywhere in guest RAM
 * (writable ones, and against the rules a readable one first), directly
 * or through an indirect table, and kicks. Checked: the transport
 * invariants of virtio_fuzz.h; the device stays inside guest RAM (ASan:
 * the RAM is an exact-size block); and when the request was the only one
 * pending, the used length is at most its writable total and no byte
 * outside its writable buffers changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/rng.h"
#include "virtio_fuzz.h"

#define IND_OFF VF_BUF /* indirect table: up to 4 entries */
#define LO (VF_BUF + 0x40)

/* sel u8 (bit 0 indirect, bits 1-2: buffers - 1, bit 3 first buffer
 * readable), then per buffer off u16, len u16 (both reduced to fit RAM
 * above LO). */
static void rng_request(struct vf *g, struct vf_in *in, unsigned which)
{
    (void)which;
    uint8_t sel = in_u8(in);
    unsigned n = 1 + (sel >> 1) % 4;
    struct vf_buf b[4];
    uint64_t wtotal = 0;
    for (unsigned i = 0; i < n; i++) {
        b[i].off = LO + in_u16(in) % (VF_RAM_SIZE - LO);
        b[i].len = in_u16(in) % (VF_RAM_SIZE - b[i].off + 1);
        b[i].flags = (sel & 8) && i == 0 ? 0 : VIRTQ_DESC_F_WRITE;
        if (b[i].flags)
            wtotal += b[i].len;
    }
    static uint8_t before[VF_RAM_SIZE];
    memcpy(before, g->ram, VF_RAM_SIZE);
    uint32_t used_len;
    int r = vf_post(g, 0, b, n, sel & 1 ? IND_OFF : 0, &used_len);
    if (r < 0)
        return;
    if (r > 0)
        VF_CHECK(used_len <= wtotal);
    vf_check_untouched(g, before, LO, b, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vlog_set_level(VLOG_ERROR);
    vf_run(virtio_rng_new(), data, size, rng_request, NULL);
    return 0;
}

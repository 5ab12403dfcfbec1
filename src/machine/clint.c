#include "machine/clint.h"

#include "riscv/csr.h"
#include "riscv/hart.h"

#define MSIP_OFF 0x0
#define MTIMECMP_OFF 0x4000
#define MTIME_OFF 0xbff8

static struct rv_hart *hart_at(struct rv_sys *sys, uint64_t idx)
{
    return idx < sys->nharts ? sys->harts[idx] : NULL;
}

static bool clint_read(void *opaque, struct rv_hart *self, uint64_t off, unsigned size, uint64_t *val)
{
    (void)self;
    struct rv_sys *sys = opaque;
    if (size != 4 && size != 8)
        return false;
    uint64_t v = 0;
    if (off < MTIMECMP_OFF) {
        struct rv_hart *h = hart_at(sys, off / 4);
        if (h && size == 4)
            v = (atomic_load(&h->mip) & MIP_MSIP) ? 1 : 0;
    } else if (off >= MTIME_OFF) {
        if (off - MTIME_OFF < 8)
            v = rv_sys_mtime(sys) >> (8 * (off - MTIME_OFF));
    } else {
        struct rv_hart *h = hart_at(sys, (off - MTIMECMP_OFF) / 8);
        if (h)
            v = atomic_load(&h->mtimecmp) >> (8 * ((off - MTIMECMP_OFF) % 8));
    }
    *val = size == 4 ? (uint32_t)v : v;
    return true;
}

static bool clint_write(void *opaque, struct rv_hart *self, uint64_t off, unsigned size, uint64_t val)
{
    (void)self;
    struct rv_sys *sys = opaque;
    if (size != 4 && size != 8)
        return false;
    if (off < MTIMECMP_OFF) {
        struct rv_hart *h = hart_at(sys, off / 4);
        if (h && size == 4)
            rv_hart_set_irq(h, MIP_MSIP, val & 1);
    } else if (off >= MTIME_OFF) {
        /* mtime follows the host clock; writes are ignored */
    } else {
        struct rv_hart *h = hart_at(sys, (off - MTIMECMP_OFF) / 8);
        if (!h)
            return true;
        uint64_t cmp = atomic_load(&h->mtimecmp);
        if (size == 8) {
            cmp = val;
        } else if ((off - MTIMECMP_OFF) % 8 == 0) {
            cmp = (cmp & ~0xffffffffull) | (uint32_t)val;
        } else {
            cmp = (cmp & 0xffffffffull) | (val << 32);
        }
        atomic_store(&h->mtimecmp, cmp);
        /* The level follows at once, so firmware that clears the timer
         * interrupt by moving mtimecmp sees MTIP drop before it returns. */
        rv_hart_set_irq(h, MIP_MTIP, rv_sys_mtime(sys) >= cmp);
        rv_hart_kick(h, 0); /* a sleeping hart recomputes its deadline */
    }
    return true;
}

const struct mmio_ops clint_mmio_ops = { clint_read, clint_write };

/* SBI served by the hypervisor (SBI spec v2.0), for kernels entered
 * directly in S-mode, as KVM hypervisors do: BASE, TIME, IPI, RFENCE, HSM,
 * SRST, DBCN and the legacy calls. Runs on the calling hart's thread. */
#include <string.h>

#include "base/log.h"
#include "machine/board.h"
#include "machine/uart.h"
#include "riscv/csr.h"
#include "riscv/mmu.h"
#include "riscv/trap.h"

enum {
    SBI_SUCCESS = 0, SBI_ERR_FAILED = -1, SBI_ERR_NOT_SUPPORTED = -2, SBI_ERR_INVALID_PARAM = -3,
    SBI_ERR_DENIED = -4, SBI_ERR_INVALID_ADDRESS = -5, SBI_ERR_ALREADY_AVAILABLE = -6,
    SBI_ERR_ALREADY_STARTED = -7, SBI_ERR_ALREADY_STOPPED = -8,
};

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e

#define SBI_SPEC_VERSION ((2u << 24) | 0)
#define SBI_IMPL_ID 0x5649 /* not a registered id: "VI" */
#define SBI_IMPL_VERSION 1

struct sbiret {
    int64_t error;
    uint64_t value;
};

static bool extension_present(uint64_t eid)
{
    switch (eid) {
    case EXT_BASE: case EXT_TIME: case EXT_IPI: case EXT_RFENCE: case EXT_HSM: case EXT_SRST: case EXT_DBCN:
        return true;
    default:
        return eid <= 0x08; /* legacy */
    }
}

static void console_out(struct board *b, const uint8_t *buf, size_t len)
{
    if (b->cfg.console.write)
        b->cfg.console.write(b->cfg.console.opaque, buf, len);
}

static void ipi_one(struct rv_hart *self, struct rv_hart *t)
{
    (void)self;
    rv_hart_set_irq(t, MIP_SSIP, true);
}

static void sfence_one(struct rv_hart *self, struct rv_hart *t) { rv_hart_remote_sfence(self, t); }

static void fence_i_one(struct rv_hart *self, struct rv_hart *t)
{
    /* Stores into code pages already retired stale blocks on every hart. */
    (void)self;
    (void)t;
}

/* Call fn for every hart named by (hart_mask, hart_mask_base); a base of
 * -1 means all harts. Nothing is done unless every named hart exists. */
static int64_t each_hart(struct board *b, uint64_t mask, uint64_t base, void (*fn)(struct rv_hart *, struct rv_hart *),
                         struct rv_hart *self)
{
    struct rv_sys *sys = &b->sys;
    if (base == ~0ull) {
        for (unsigned i = 0; i < sys->nharts; i++)
            fn(self, sys->harts[i]);
        return SBI_SUCCESS;
    }
    for (unsigned bit = 0; bit < 64; bit++)
        if (((mask >> bit) & 1) && (base >= sys->nharts || bit >= sys->nharts - base))
            return SBI_ERR_INVALID_PARAM;
    for (unsigned bit = 0; bit < 64; bit++)
        if ((mask >> bit) & 1)
            fn(self, sys->harts[base + bit]);
    return SBI_SUCCESS;
}

static void set_timer(struct rv_hart *h, uint64_t when)
{
    h->stimecmp = when;
    rv_timer_update(h);
}

static void power(struct board *b, enum power_event ev, unsigned code)
{
    if (b->cfg.power.event)
        b->cfg.power.event(b->cfg.power.opaque, ev, code);
}

/* Read n bytes of guest physical memory for DBCN; false if not all RAM. */
static const uint8_t *guest_phys(struct board *b, uint64_t pa, uint64_t n)
{
    if (!rv_paddr_is_ram(&b->sys, pa, n ? n : 1))
        return NULL;
    return b->ram + (pa - RAM_BASE);
}

static struct sbiret hsm(struct board *b, struct rv_hart *h, uint64_t fid, const uint64_t *a)
{
    struct rv_sys *sys = &b->sys;
    switch (fid) {
    case 0: { /* hart_start(hartid, start_addr, opaque) */
        if (a[0] >= sys->nharts)
            return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
        if ((a[1] & 1) || !rv_paddr_is_ram(sys, a[1], 4))
            return (struct sbiret){ SBI_ERR_INVALID_ADDRESS, 0 };
        if (!rv_hart_hsm_start(sys->harts[a[0]], a[1], a[2]))
            return (struct sbiret){ SBI_ERR_ALREADY_AVAILABLE, 0 };
        return (struct sbiret){ SBI_SUCCESS, 0 };
    }
    case 1: /* hart_stop() */
        rv_hart_kick(h, RV_EV_STOP);
        return (struct sbiret){ SBI_SUCCESS, 0 };
    case 2: { /* hart_get_status(hartid) */
        if (a[0] >= sys->nharts)
            return (struct sbiret){ SBI_ERR_INVALID_PARAM, 0 };
        uint32_t st = atomic_load(&sys->harts[a[0]]->run_state);
        uint64_t v = st == RV_HART_STOPPED ? 1 : (st == RV_HART_START_PENDING || st == RV_HART_START_CLAIMED) ? 2 : 0;
        return (struct sbiret){ SBI_SUCCESS, v };
    }
    case 3: /* hart_suspend(type, resume_addr, opaque): retentive only */
        if (a[0] == 0) {
            /* retentive: like WFI, back when an interrupt is pending */
            rv_hart_wait_for_interrupt(h);
            return (struct sbiret){ SBI_SUCCESS, 0 };
        }
        return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
    }
    return (struct sbiret){ SBI_ERR_NOT_SUPPORTED, 0 };
}

void sbi_call(void *opaque, struct rv_hart *h)
{
    struct board *b = opaque;
    uint64_t eid = h->x[17], fid = h->x[16];
    const uint64_t *a = &h->x[10];
    struct sbiret ret = { SBI_ERR_NOT_SUPPORTED, 0 };

    switch (eid) {
    case EXT_BASE:
        switch (fid) {
        case 0: ret = (struct sbiret){ 0, SBI_SPEC_VERSION }; break;
        case 1: ret = (struct sbiret){ 0, SBI_IMPL_ID }; break;
        case 2: ret = (struct sbiret){ 0, SBI_IMPL_VERSION }; break;
        case 3: ret = (struct sbiret){ 0, extension_present(a[0]) }; break;
        case 4: case 5: case 6: ret = (struct sbiret){ 0, 0 }; break; /* mvendorid, marchid, mimpid */
        }
        break;
    case EXT_TIME:
        if (fid == 0) {
            set_timer(h, a[0]);
            ret = (struct sbiret){ 0, 0 };
        }
        break;
    case EXT_IPI:
        if (fid == 0)
            ret.error = each_hart(b, a[0], a[1], ipi_one, h);
        break;
    case EXT_RFENCE:
        if (fid == 0)
            ret.error = each_hart(b, a[0], a[1], fence_i_one, h);
        else if (fid == 1 || fid == 2)
            ret.error = each_hart(b, a[0], a[1], sfence_one, h);
        break;
    case EXT_HSM:
        ret = hsm(b, h, fid, a);
        break;
    case EXT_SRST:
        if (fid == 0) {
            if (a[0] > 2 || a[1] > 1) {
                ret.error = SBI_ERR_INVALID_PARAM;
                break;
            }
            /* reason 1 = system failure */
            power(b, a[0] == 0 ? (a[1] == 1 ? POWER_FAIL : POWER_OFF) : POWER_RESET, a[1] == 1 ? 1 : 0);
            ret = (struct sbiret){ 0, 0 };
        }
        break;
    case EXT_DBCN:
        if (fid == 0 || fid == 1) { /* write / read (num_bytes, base_lo, base_hi) */
            if (a[2] != 0) {
                ret.error = SBI_ERR_INVALID_PARAM;
                break;
            }
            uint64_t n = a[0] > 4096 ? 4096 : a[0];
            const uint8_t *p = guest_phys(b, a[1], n);
            if (!p) {
                ret.error = SBI_ERR_INVALID_PARAM;
                break;
            }
            if (fid == 0) {
                console_out(b, p, n);
                ret = (struct sbiret){ 0, n };
            } else {
                ret = (struct sbiret){ 0, 0 }; /* input goes to the UART */
            }
        } else if (fid == 2) {
            uint8_t c = (uint8_t)a[0];
            console_out(b, &c, 1);
            ret = (struct sbiret){ 0, 0 };
        }
        break;
    /* legacy extensions (v0.1): return value in a0 only */
    case 0x00:
        set_timer(h, a[0]);
        h->x[10] = 0;
        return;
    case 0x01: {
        uint8_t c = (uint8_t)a[0];
        console_out(b, &c, 1);
        h->x[10] = 0;
        return;
    }
    case 0x02:
        h->x[10] = (uint64_t)-1; /* no input through SBI: use the UART */
        return;
    case 0x03:
        rv_hart_set_irq(h, MIP_SSIP, false);
        h->x[10] = 0;
        return;
    case 0x04: case 0x05: case 0x06: case 0x07: {
        /* hart_mask is a pointer to an unsigned long in S-mode memory */
        uint64_t mask = ~0ull;
        if (a[0]) {
            uint64_t v;
            if (!rv_load_slow(h, a[0], 8, &v)) {
                h->x[10] = (uint64_t)SBI_ERR_INVALID_ADDRESS;
                return;
            }
            mask = v;
        }
        void (*fn)(struct rv_hart *, struct rv_hart *) =
            eid == 0x04 ? ipi_one : eid == 0x05 ? fence_i_one : sfence_one;
        each_hart(b, mask, a[0] ? 0 : ~0ull, fn, h);
        h->x[10] = 0;
        return;
    }
    case 0x08:
        power(b, POWER_OFF, 0);
        h->x[10] = 0;
        return;
    default:
        break;
    }
    h->x[10] = (uint64_t)ret.error;
    h->x[11] = ret.value;
}

/* Fuzz target: the board's devices as the guest reaches them (src/machine:
 * the MMIO map and bus dispatch, syscon, goldfish RTC, CLINT, PLIC, the
 * NS16550A UART, a virtio-mmio slot with a virtio-rng behind it and an
 * empty one) plus the built-in SBI, on a real board (board_init: two harts,
 * 16 MiB of RAM that is reserved, not touched, no kernel).
 *
 * Input: a sequence of operations. Byte 0 of each: bits 0-2 the kind,
 * bits 3-5 a region (or a flag), bits 6-7 log2 of the access width.
 *   0 read   [off:3]             region-relative, through hart 0's load
 *   1 write  [off:3][val:width]  and store paths (M-mode, physical): any
 *                                alignment, so misaligned accesses fault
 *                                and page-crossing ones split as for a guest
 *      regions: 0 syscon, 1 rtc, 2 clint, 3 plic, 4 uart, 5 virtio slot 0
 *      (rng), 6 virtio slot 1 (empty), 7 RAM; the offset is taken modulo
 *      the region size + 64, so accesses also run past the end
 *   2 irq    [src]               drive a PLIC line (region bit 0 = level);
 *                                sources 0 and >= 96 are out of range
 *   3 rx     [n][bytes]          bytes typed at the UART
 *   4 sbi    [eid][fid][a0:8][a1:8][a2] an SBI call from S-mode on hart
 *                                (region bit 0); eid indexes a table of the
 *                                extensions (legacy ones included)
 *   5 hart   [mie][mideleg]      a hart's interrupt enables; RTC poll and
 *                                timer update
 *   6 poll                       run the virtio device's queue work
 *   7 raw    [addr:8][val:8]     an access anywhere (region bit 0 = write)
 *
 * The power callback records the request and stops the harts, as the VMM
 * does; nothing exits. Checked: ASan/UBSan; after every operation the
 * harts' MEIP/SEIP equal what the PLIC's registers (read through the bus)
 * say each context could claim; a syscon write powers off/resets exactly
 * when it should; after a write to a hart's mtimecmp its MTIP agrees with
 * mtime;
 * LSR always reports an empty transmitter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "machine/board.h"
#include "machine/clint.h"
#include "machine/mmio.h"
#include "machine/plic.h"
#include "machine/rtc.h"
#include "machine/syscon.h"
#include "machine/uart.h"
#include "riscv/mmu.h"
#include "riscv/trap.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"

#define NHARTS 2

struct fx {
    struct board b;
    struct virtio_mmio *vio;
    struct virtio_guest_mem mem;
    unsigned vio_irq;
    unsigned power_events;
    unsigned console_bytes;
};

/* The devices log what a guest does wrong (a bad virtio queue, ...): on
 * fuzz input that is every run, so while the operations run stdio's stderr
 * points at /dev/null. Sanitizer and libFuzzer reports do not go through
 * it; fail() writes to the real one. */
static FILE *devnull, *real_stderr;

static void fail(const char *what)
{
    fprintf(real_stderr ? real_stderr : stderr, "fuzz_mmio: invariant broken: %s\n", what);
    abort();
}

static void power_event(void *opaque, enum power_event ev, unsigned code)
{
    struct fx *f = opaque;
    (void)ev, (void)code;
    f->power_events++;
    rv_sys_stop(&f->b.sys, 0);
}

static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct fx *f = opaque;
    volatile uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= buf[i]; /* ASan checks every byte handed out */
    (void)x;
    f->console_bytes += (unsigned)len;
}

static void vio_set_irq(void *opaque, bool level)
{
    struct fx *f = opaque;
    board_set_irq(&f->b, f->vio_irq, level);
}

static bool vio_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)h;
    return virtio_mmio_read(opaque, off, size, val);
}

static bool vio_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    return virtio_mmio_write(opaque, off, size, val);
}

static const struct mmio_ops vio_ops = { vio_read, vio_write };

static const struct {
    uint64_t base, size;
} regions[8] = {
    { SYSCON_BASE, SYSCON_SIZE },
    { RTC_BASE, RTC_SIZE },
    { CLINT_BASE, CLINT_SIZE },
    { PLIC_BASE, PLIC_SIZE },
    { UART0_BASE, UART0_SIZE },
    { VIRTIO_MMIO_BASE, VIRTIO_MMIO_SLOT_SIZE },
    { VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOT_SIZE, VIRTIO_MMIO_SLOT_SIZE },
    { RAM_BASE, 0x4000 },
};

static const uint64_t sbi_eids[16] = {
    0x10, 0x54494d45, 0x735049, 0x52464e43, 0x48534d, 0x53525354, 0x4442434e, 0,
    1, 2, 3, 4, 5, 7, 8, 0x12345678,
};

/* A side-effect-free register read (the PLIC's claim register is not one). */
static uint32_t bus_r32(struct fx *f, uint64_t pa)
{
    uint64_t v = 0;
    if (!f->b.sys.bus.mmio_read(f->b.sys.bus.opaque, f->b.sys.harts[0], pa, 4, &v))
        fail("a PLIC register read was refused");
    return (uint32_t)v;
}

/* What the PLIC registers say context c can claim, computed afresh. */
static bool plic_claimable(struct fx *f, unsigned c, const uint32_t *prio, const uint32_t *pending)
{
    uint32_t threshold = bus_r32(f, PLIC_BASE + 0x200000 + c * 0x1000ull);
    for (unsigned w = 0; w < (PLIC_NUM_SOURCES + 31) / 32; w++) {
        uint32_t en = bus_r32(f, PLIC_BASE + 0x2000 + c * 0x80ull + w * 4);
        uint32_t cand = en & pending[w];
        for (unsigned i = 0; i < 32; i++) {
            unsigned src = w * 32 + i;
            if (((cand >> i) & 1) && src > 0 && src < PLIC_NUM_SOURCES && prio[src] > threshold)
                return true;
        }
    }
    return false;
}

static void check_plic(struct fx *f)
{
    uint32_t prio[PLIC_NUM_SOURCES], pending[(PLIC_NUM_SOURCES + 31) / 32];
    for (unsigned s = 0; s < PLIC_NUM_SOURCES; s++)
        prio[s] = bus_r32(f, PLIC_BASE + 4ull * s);
    for (unsigned w = 0; w < (PLIC_NUM_SOURCES + 31) / 32; w++)
        pending[w] = bus_r32(f, PLIC_BASE + 0x1000 + 4ull * w);
    for (unsigned h = 0; h < NHARTS; h++) {
        uint64_t mip = atomic_load(&f->b.sys.harts[h]->mip);
        if (!!(mip & MIP_MEIP) != plic_claimable(f, 2 * h, prio, pending))
            fail("MEIP disagrees with the PLIC's registers");
        if (!!(mip & MIP_SEIP) != plic_claimable(f, 2 * h + 1, prio, pending))
            fail("SEIP disagrees with the PLIC's registers");
    }
}

/* A write to a hart's mtimecmp sets its MTIP level at once (nothing
 * ticks afterwards: the hart re-evaluates it when it polls its timers, so
 * only the hart just written can be checked). mtime moved from before to
 * after meanwhile. */
static void check_mtip(struct fx *f, uint64_t pa, unsigned width, uint64_t before, uint64_t after)
{
    uint64_t off = pa - CLINT_BASE;
    if (off < 0x4000 || off >= 0x4000 + 8ull * NHARTS || (width != 4 && width != 8) || (pa & (width - 1)))
        return;
    struct rv_hart *h = f->b.sys.harts[(off - 0x4000) / 8];
    uint64_t cmp = atomic_load(&h->mtimecmp);
    bool mtip = atomic_load(&h->mip) & MIP_MTIP;
    if (cmp <= before && !mtip)
        fail("mtimecmp has passed but MTIP is clear");
    if (cmp > after && mtip)
        fail("MTIP is set before mtimecmp");
}

static uint64_t get(const uint8_t **p, const uint8_t *end, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && *p < end; i++, (*p)++)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

/* The syscon write that should request a power event. */
static bool syscon_fires(uint64_t pa, unsigned width, uint64_t val)
{
    if (pa != SYSCON_BASE || (width != 2 && width != 4))
        return false;
    unsigned v = (unsigned)(val & 0xffff);
    return v == 0x5555 || v == 0x7777 || v == 0x3333;
}

static void do_access(struct fx *f, uint64_t pa, unsigned width, bool write, uint64_t val)
{
    struct rv_hart *h = f->b.sys.harts[0];
    uint64_t t0 = rv_sys_mtime(&f->b.sys);
    unsigned events = f->power_events;
    bool expect_power = write && syscon_fires(pa, width, val);
    uint64_t v = 0;
    bool ok = write ? rv_store_slow(h, pa, width, val) : rv_load_slow(h, pa, width, &v);
    uint64_t t1 = rv_sys_mtime(&f->b.sys);
    if (f->power_events != events + (expect_power ? 1 : 0))
        fail("a syscon write's power event is wrong");
    if (write && ok && pa >= CLINT_BASE && pa < CLINT_BASE + CLINT_SIZE)
        check_mtip(f, pa, width, t0, t1);
    if (!write && ok && pa == UART0_BASE + 5 && width == 1 && (v & 0x60) != 0x60)
        fail("UART LSR does not report an empty transmitter");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    struct board_config cfg = {
        .ncpus = NHARTS, .ram_size = 16ull << 20,
        .console = { console_write, f }, .power = { power_event, f },
    };
    char err[256];
    if (board_init(&f->b, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "board_init: %s\n", err);
        abort();
    }
    struct board *b = &f->b;
    f->mem = (struct virtio_guest_mem){ .host = b->ram, .base = RAM_BASE, .size = cfg.ram_size };
    f->vio = virtio_mmio_new(virtio_rng_new(), &f->mem, (struct virtio_irq){ vio_set_irq, f }, NULL);
    if (!f->vio || board_add_virtio(b, &vio_ops, f->vio, &f->vio_irq) != 0)
        abort();
    for (unsigned i = 0; i < NHARTS; i++)
        b->sys.harts[i]->mideleg = MIP_S_MASK;

    if (!devnull)
        devnull = fopen("/dev/null", "w");
    real_stderr = stderr;
    if (devnull)
        stderr = devnull;
    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        uint8_t op = *p++;
        unsigned kind = op & 7, region = (op >> 3) & 7, width = 1u << (op >> 6);
        switch (kind) {
        case 0:
        case 1: {
            uint64_t off = get(&p, end, 3) % (regions[region].size + 64);
            uint64_t val = kind == 1 ? get(&p, end, width) : 0;
            do_access(f, regions[region].base + off, width, kind == 1, val);
            break;
        }
        case 2:
            board_set_irq(b, (unsigned)get(&p, end, 1), region & 1);
            break;
        case 3: {
            unsigned n = (unsigned)get(&p, end, 1);
            if (n > (size_t)(end - p))
                n = (unsigned)(end - p);
            uart_receive(b->uart, p, n);
            p += n;
            break;
        }
        case 4: {
            struct rv_hart *h = b->sys.harts[region & 1];
            uint64_t eid = sbi_eids[get(&p, end, 1) & 15];
            uint64_t fid = get(&p, end, 1) & 7;
            uint64_t a0 = get(&p, end, 8), a1 = get(&p, end, 8), a2 = get(&p, end, 1);
            h->priv = RV_PRIV_S;
            rv_mmu_update_keys(h);
            h->x[17] = eid, h->x[16] = fid, h->x[10] = a0, h->x[11] = a1, h->x[12] = a2;
            /* A suspend waits for an interrupt: let it return at once, as
             * it would when another thread kicks the hart. */
            atomic_fetch_or(&h->events, RV_EV_EXIT);
            sbi_call(b, h);
            atomic_fetch_and(&h->events, ~(RV_EV_EXIT | RV_EV_STOP | RV_EV_KICK | RV_EV_TLB_FLUSH));
            h->priv = RV_PRIV_M;
            rv_mmu_update_keys(h);
            break;
        }
        case 5: {
            struct rv_hart *h = b->sys.harts[region & 1];
            h->mie = get(&p, end, 1) << 1 & MIP_ALL_MASK;
            h->mideleg = get(&p, end, 1) << 1 & MIP_S_MASK;
            rv_timer_update(h);
            goldfish_rtc_poll(b->rtc);
            break;
        }
        case 6:
            virtio_mmio_poll(f->vio);
            break;
        case 7: {
            uint64_t addr = get(&p, end, 8), val = get(&p, end, 8);
            if (width < 8)
                val &= (1ull << (8 * width)) - 1; /* as a guest store of that width */
            do_access(f, addr, width, region & 1, val);
            break;
        }
        }
        check_plic(f);
    }
    stderr = real_stderr;
    real_stderr = NULL;

    virtio_mmio_free(f->vio);
    board_destroy(b);
    free(f);
    return 0;
}

#include "riscv/hart.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/clock.h"
#include "base/futex.h"
#include "base/log.h"
#include "riscv/block.h"
#include "riscv/csr.h"
#include "riscv/exec.h"
#include "riscv/mmu.h"
#include "riscv/trap.h"

int rv_sys_init(struct rv_sys *sys, const struct rv_bus *bus, unsigned nharts)
{
    memset(sys, 0, sizeof(*sys));
    sys->bus = *bus;
    sys->nharts = nharts;
    sys->harts = calloc(nharts, sizeof(*sys->harts));
    sys->code.npages = bus->ram_size >> 12;
    /* One byte and one word per page of RAM; lazily committed like RAM. */
    sys->code.has_code = mmap(NULL, sys->code.npages, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    sys->code.gen = mmap(NULL, sys->code.npages * 4, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!sys->harts || sys->code.has_code == MAP_FAILED || sys->code.gen == MAP_FAILED)
        return -1;
    sys->time_base_ns = vclock_ns();
    sys->has_sstc = true;
    sys->max_satp_mode = SATP_MODE_SV57;
    return 0;
}

void rv_sys_destroy(struct rv_sys *sys)
{
    for (unsigned i = 0; i < sys->nharts; i++)
        rv_hart_free(sys->harts[i]);
    free(sys->harts);
    if (sys->code.has_code && sys->code.has_code != MAP_FAILED)
        munmap((void *)sys->code.has_code, sys->code.npages);
    if (sys->code.gen && sys->code.gen != MAP_FAILED)
        munmap((void *)sys->code.gen, sys->code.npages * 4);
    memset(sys, 0, sizeof(*sys));
}

uint64_t rv_sys_mtime(const struct rv_sys *sys)
{
    return (vclock_ns() - sys->time_base_ns) / (1000000000ull / RV_TIMEBASE_HZ);
}

struct rv_hart *rv_hart_new(struct rv_sys *sys, unsigned hartid)
{
    struct rv_hart *h = aligned_alloc(64, (sizeof(struct rv_hart) + 63) & ~(size_t)63);
    if (!h)
        return NULL;
    memset(h, 0, sizeof(*h));
    h->sys = sys;
    h->hartid = hartid;
    h->blocks = rv_bcache_new();
    if (!h->blocks) {
        free(h);
        return NULL;
    }
    if (hartid < sys->nharts)
        sys->harts[hartid] = h;
    rv_hart_reset(h, RV_PRIV_M, sys->bus.ram_base);
    return h;
}

void rv_hart_free(struct rv_hart *h)
{
    if (!h)
        return;
    rv_bcache_free(h->blocks);
    free(h);
}

void rv_hart_reset(struct rv_hart *h, unsigned priv, uint64_t pc)
{
    memset(h->x, 0, sizeof(h->x));
    memset(h->f, 0, sizeof(h->f));
    h->pc = pc;
    h->priv = priv;
    h->mstatus = 0;
    h->mie = 0;
    atomic_store(&h->mip, 0);
    h->medeleg = h->mideleg = 0;
    h->satp = 0;
    h->menvcfg = 0;
    h->mcounteren = h->scounteren = 0;
    h->stimecmp = ~0ull;
    atomic_store(&h->mtimecmp, ~0ull);
    h->fflags = h->frm = 0;
    h->resv_valid = false;
    h->poll_countdown = 1;
    rv_tlb_flush_all(h);
    rv_mmu_update_keys(h);
}

void rv_hart_kick(struct rv_hart *h, uint32_t event_bits)
{
    atomic_fetch_or(&h->events, event_bits | RV_EV_KICK);
    atomic_fetch_add(&h->wake_seq, 1);
    if (atomic_load(&h->run_state) != RV_HART_RUNNING)
        vfutex_wake_all((uint32_t *)&h->wake_seq);
}

void rv_hart_set_irq(struct rv_hart *h, uint64_t bits, bool level)
{
    if (level) {
        uint64_t old = atomic_fetch_or(&h->mip, bits);
        if ((old & bits) != bits)
            rv_hart_kick(h, 0);
    } else {
        atomic_fetch_and(&h->mip, ~bits);
    }
}

void rv_sys_stop(struct rv_sys *sys, int exit_code)
{
    if (!atomic_exchange(&sys->stop, true))
        atomic_store(&sys->exit_code, exit_code);
    for (unsigned i = 0; i < sys->nharts; i++)
        if (sys->harts[i])
            rv_hart_kick(sys->harts[i], RV_EV_EXIT);
}

void rv_sys_pause(struct rv_sys *sys, bool pause)
{
    atomic_store(&sys->paused, pause);
    for (unsigned i = 0; i < sys->nharts; i++)
        if (sys->harts[i])
            rv_hart_kick(sys->harts[i], pause ? RV_EV_EXIT : 0);
}

/* Paused: sleep until resumed or stopped. The hart counts as not running
 * (like WFI), so a remote fence does not wait for it; it services pending
 * flush requests at its next block. */
static void pause_sleep(struct rv_hart *h)
{
    struct rv_sys *sys = h->sys;
    atomic_store(&h->run_state, RV_HART_WFI);
    for (;;) {
        uint32_t seq = atomic_load(&h->wake_seq);
        if (atomic_load(&sys->stop) || !atomic_load(&sys->paused))
            break;
        vfutex_wait((uint32_t *)&h->wake_seq, seq, 0);
    }
    atomic_store(&h->run_state, RV_HART_RUNNING);
}

void rv_hart_throttle_sleep(struct rv_hart *h, uint64_t ns)
{
    struct rv_sys *sys = h->sys;
    uint64_t end = vclock_ns() + ns;
    atomic_store(&h->run_state, RV_HART_WFI);
    for (;;) {
        uint32_t seq = atomic_load(&h->wake_seq);
        uint64_t now = vclock_ns();
        if (now >= end || atomic_load(&sys->stop) || atomic_load(&sys->paused))
            break;
        vfutex_wait((uint32_t *)&h->wake_seq, seq, end - now);
    }
    atomic_store(&h->run_state, RV_HART_RUNNING);
}

static void service_own_flush(struct rv_hart *self)
{
    if (atomic_load(&self->events) & RV_EV_TLB_FLUSH) {
        atomic_fetch_and(&self->events, ~RV_EV_TLB_FLUSH);
        uint64_t req = atomic_load(&self->tlb_flush_req);
        rv_tlb_flush_all(self);
        atomic_store(&self->tlb_flush_done, req);
    }
}

void rv_hart_remote_sfence(struct rv_hart *self, struct rv_hart *target)
{
    if (target == self) {
        rv_tlb_flush_all(self);
        return;
    }
    uint64_t req = atomic_fetch_add(&target->tlb_flush_req, 1) + 1;
    rv_hart_kick(target, RV_EV_TLB_FLUSH);
    /* A hart that sleeps (WFI) or is stopped handles the request before it
     * runs guest code again, so only a running one must be waited for.
     * While waiting, answer requests aimed at us: two harts may be
     * flushing each other. */
    while (atomic_load(&target->tlb_flush_done) < req) {
        if (atomic_load(&target->run_state) != RV_HART_RUNNING || atomic_load(&target->sys->stop))
            break;
        if (self)
            service_own_flush(self);
        sched_yield();
    }
}

bool rv_hart_hsm_start(struct rv_hart *h, uint64_t addr, uint64_t arg)
{
    /* Claim the hart, hand over where it starts, and only then say
     * START_PENDING: the parked hart may be awake and looking (Debian's
     * OpenSBI 1.1 gets this order wrong and loses harts). */
    uint32_t expected = RV_HART_STOPPED;
    if (!atomic_compare_exchange_strong(&h->run_state, &expected, RV_HART_START_CLAIMED))
        return false;
    h->hsm_start_addr = addr;
    h->hsm_start_arg = arg;
    atomic_store_explicit(&h->run_state, RV_HART_START_PENDING, memory_order_release);
    atomic_fetch_add(&h->wake_seq, 1);
    vfutex_wake_all((uint32_t *)&h->wake_seq);
    return true;
}

/* Nearest enabled timer deadline in mtime ticks, or UINT64_MAX. */
static uint64_t next_deadline(const struct rv_hart *h)
{
    uint64_t d = UINT64_MAX;
    if (h->mie & MIP_MTIP)
        d = atomic_load(&h->mtimecmp);
    if ((h->mie & MIP_STIP) && (h->menvcfg & MENVCFG_STCE) && h->stimecmp < d)
        d = h->stimecmp;
    return d;
}

/* WFI: sleep until an interrupt is pending (in mie, whatever the global
 * enables say), a timer deadline passes, or another thread wants us. */
void rv_hart_wait_for_interrupt(struct rv_hart *h)
{
    struct rv_sys *sys = h->sys;
    for (;;) {
        uint32_t seq = atomic_load(&h->wake_seq);
        rv_timer_update(h);
        if (rv_irq_pending(h) || atomic_load(&sys->stop) ||
            (atomic_load(&h->events) & (RV_EV_EXIT | RV_EV_STOP | RV_EV_TLB_FLUSH)))
            return;
        uint64_t deadline = next_deadline(h), timeout_ns = 0;
        if (deadline != UINT64_MAX) {
            uint64_t now = rv_sys_mtime(sys);
            if (deadline <= now)
                continue;
            uint64_t ticks = deadline - now;
            timeout_ns = ticks > UINT64_MAX / 100 ? UINT64_MAX / 2 : ticks * (1000000000ull / RV_TIMEBASE_HZ);
        }
        h->stat_wfi_sleeps++;
        atomic_store(&h->run_state, RV_HART_WFI);
        vfutex_wait((uint32_t *)&h->wake_seq, seq, timeout_ns);
        atomic_store(&h->run_state, RV_HART_RUNNING);
    }
}

/* HSM: a stopped hart waits here until another hart starts it, then enters
 * S-mode at the given address with a0 = hartid, a1 = opaque (SBI 2.0
 * section 9.1). */
static bool park_stopped(struct rv_hart *h)
{
    struct rv_sys *sys = h->sys;
    for (;;) {
        uint32_t seq = atomic_load(&h->wake_seq);
        if (atomic_load(&sys->stop))
            return false;
        if (atomic_load(&h->run_state) == RV_HART_START_PENDING && !atomic_load(&sys->paused))
            break;
        vfutex_wait((uint32_t *)&h->wake_seq, seq, 0);
    }
    uint64_t mcounteren = h->mcounteren, scounteren = h->scounteren, menvcfg = h->menvcfg;
    uint64_t medeleg = h->medeleg, mideleg = h->mideleg;
    uint64_t ext = atomic_load(&h->mip) & (MIP_SEIP | MIP_MEIP); /* driven by the PLIC */
    rv_hart_reset(h, RV_PRIV_S, h->hsm_start_addr);
    atomic_fetch_or(&h->mip, ext);
    /* The built-in firmware's M-mode configuration survives the restart. */
    h->mcounteren = mcounteren;
    h->scounteren = scounteren;
    h->menvcfg = menvcfg;
    h->medeleg = medeleg;
    h->mideleg = mideleg;
    h->x[10] = h->hartid;
    h->x[11] = h->hsm_start_arg;
    atomic_fetch_and(&h->events, ~RV_EV_STOP);
    atomic_store(&h->run_state, RV_HART_RUNNING);
    return true;
}

void rv_hart_run(struct rv_hart *h)
{
    struct rv_sys *sys = h->sys;
    for (;;) {
        if (atomic_load(&sys->stop))
            return;
        /* EXIT without stop only brought the hart back here. */
        if (atomic_load(&h->events) & RV_EV_EXIT)
            atomic_fetch_and(&h->events, ~RV_EV_EXIT);
        if (atomic_load(&sys->stop))
            return;
        uint32_t state = atomic_load(&h->run_state);
        if (state == RV_HART_STOPPED || state == RV_HART_START_PENDING || state == RV_HART_START_CLAIMED) {
            if (!park_stopped(h))
                return;
            continue;
        }
        if (atomic_load(&h->events) & RV_EV_STOP) {
            atomic_fetch_and(&h->events, ~RV_EV_STOP);
            atomic_store(&h->run_state, RV_HART_STOPPED);
            continue;
        }
        if (atomic_load(&sys->paused)) {
            pause_sleep(h);
            continue;
        }
        uint64_t budget = atomic_load_explicit(&h->budget_blocks, memory_order_relaxed);
        enum rv_exec_result r = rv_exec(h, budget ? budget : UINT64_MAX);
        atomic_store_explicit(&h->stat_instret, h->instret, memory_order_relaxed);
        if (r == RV_EXEC_WFI)
            rv_hart_wait_for_interrupt(h);
        else if (r == RV_EXEC_BUDGET && budget && h->budget_hook)
            h->budget_hook(h, h->budget_opaque);
    }
}

void rv_hart_step_blocks(struct rv_hart *h, uint64_t max_blocks)
{
    rv_exec(h, max_blocks);
}

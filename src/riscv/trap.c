#include "riscv/trap.h"

#include "base/log.h"

#include "riscv/csr.h"
#include "riscv/mmu.h"

void rv_trap(struct rv_hart *h, uint64_t cause, uint64_t tval)
{
    bool irq = cause >> 63;
    unsigned code = (unsigned)(cause & 63);
    uint64_t deleg = irq ? h->mideleg : h->medeleg;
    uint64_t vec;

    if (h->priv <= RV_PRIV_S && ((deleg >> code) & 1)) {
        h->scause = cause;
        h->sepc = h->pc;
        h->stval = tval;
        uint64_t s = h->mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
        if (h->mstatus & MSTATUS_SIE)
            s |= MSTATUS_SPIE;
        if (h->priv == RV_PRIV_S)
            s |= MSTATUS_SPP;
        h->mstatus = s;
        h->priv = RV_PRIV_S;
        vec = h->stvec;
    } else {
        /* A guest that can never make progress should be told about, not
         * spun silently: a trap with no M-mode software to take it (built-in
         * SBI), or an M-mode handler that faults on its own first
         * instruction (an unset or bad mtvec). */
        if (!irq && (h->sys->sbi_in_host || (h->priv == RV_PRIV_M && h->pc == (h->mtvec & ~3ull)))) {
            verror("vcpu%u: %s (cause %u at pc 0x%llx, tval 0x%llx): the guest cannot continue; stopping it",
                   (unsigned)h->hartid,
                   h->sys->sbi_in_host ? "trap to M-mode, where no firmware runs" : "the M-mode trap handler faults",
                   code, (unsigned long long)h->pc, (unsigned long long)tval);
            rv_sys_stop(h->sys, 3);
        }
        h->mcause = cause;
        h->mepc = h->pc;
        h->mtval = tval;
        uint64_t s = h->mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
        if (h->mstatus & MSTATUS_MIE)
            s |= MSTATUS_MPIE;
        s |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
        h->mstatus = s;
        h->priv = RV_PRIV_M;
        vec = h->mtvec;
    }
    uint64_t base = vec & ~3ull;
    h->pc = ((vec & 1) && irq) ? base + 4 * code : base;
    rv_mmu_update_keys(h);
}

bool rv_take_interrupt(struct rv_hart *h)
{
    uint64_t pending = atomic_load_explicit(&h->mip, memory_order_relaxed) & h->mie;
    if (!pending)
        return false;
    bool m_enabled = h->priv < RV_PRIV_M || (h->mstatus & MSTATUS_MIE);
    bool s_enabled = h->priv < RV_PRIV_S || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_SIE));
    uint64_t enabled = (m_enabled ? pending & ~h->mideleg : 0) | (s_enabled ? pending & h->mideleg : 0);
    if (!enabled)
        return false;
    /* 3.1.9: MEI, MSI, MTI, SEI, SSI, STI */
    static const int order[] = { IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI };
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (enabled & (1ull << order[i])) {
            rv_trap(h, CAUSE_INTERRUPT | (uint64_t)order[i], 0);
            return true;
        }
    }
    return false;
}

bool rv_mret(struct rv_hart *h)
{
    if (h->priv != RV_PRIV_M)
        return false;
    unsigned mpp = (unsigned)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    uint64_t s = h->mstatus & ~(MSTATUS_MIE | MSTATUS_MPP);
    if (h->mstatus & MSTATUS_MPIE)
        s |= MSTATUS_MIE;
    s |= MSTATUS_MPIE;
    if (mpp != RV_PRIV_M)
        s &= ~MSTATUS_MPRV;
    h->mstatus = s;
    h->priv = mpp;
    h->pc = h->mepc;
    rv_mmu_update_keys(h);
    return true;
}

bool rv_sret(struct rv_hart *h)
{
    if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TSR)))
        return false;
    unsigned spp = (h->mstatus & MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;
    uint64_t s = h->mstatus & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
    if (h->mstatus & MSTATUS_SPIE)
        s |= MSTATUS_SIE;
    s |= MSTATUS_SPIE;
    h->mstatus = s;
    h->priv = spp;
    h->pc = h->sepc;
    rv_mmu_update_keys(h);
    return true;
}

static void set_mip_bit(struct rv_hart *h, uint64_t bit, bool on)
{
    uint64_t cur = atomic_load_explicit(&h->mip, memory_order_relaxed);
    if (!!(cur & bit) == on)
        return;
    if (on)
        atomic_fetch_or(&h->mip, bit);
    else
        atomic_fetch_and(&h->mip, ~bit);
}

void rv_timer_update(struct rv_hart *h)
{
    uint64_t now = rv_sys_mtime(h->sys);
    set_mip_bit(h, MIP_MTIP, now >= atomic_load_explicit(&h->mtimecmp, memory_order_relaxed));
    if (h->menvcfg & MENVCFG_STCE)
        set_mip_bit(h, MIP_STIP, now >= h->stimecmp);
}

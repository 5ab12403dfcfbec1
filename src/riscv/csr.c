#include "riscv/csr.h"

#include "riscv/decode.h"
#include "riscv/fpu.h"
#include "riscv/hart.h"
#include "riscv/mmu.h"
#include "riscv/trap.h"

#define MISA_VALUE ((2ull << 62) | (1u << 0) /*A*/ | (1u << 2) /*C*/ | (1u << 3) /*D*/ | (1u << 5) /*F*/ | \
                    (1u << 8) /*I*/ | (1u << 12) /*M*/ | (1u << 18) /*S*/ | (1u << 20) /*U*/)

#define MSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | \
                          MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | \
                          MSTATUS_TSR)
#define MEDELEG_WRITABLE 0xb3ffull /* all but ECALL_M (11) and reserved 10, 14 */
#define MIE_WRITABLE MIP_ALL_MASK

static bool fs_off(const struct rv_hart *h) { return (h->mstatus & MSTATUS_FS) == 0; }

static void fs_dirty(struct rv_hart *h) { h->mstatus |= MSTATUS_FS_DIRTY | MSTATUS_SD; }

/* Counter access from S/U is gated by mcounteren (and scounteren for U). */
static bool counter_allowed(const struct rv_hart *h, unsigned csr)
{
    unsigned bit = csr & 31;
    if (h->priv == RV_PRIV_M)
        return true;
    if (!((h->mcounteren >> bit) & 1))
        return false;
    if (h->priv == RV_PRIV_U && !((h->scounteren >> bit) & 1))
        return false;
    return true;
}

static uint64_t mstatus_read(const struct rv_hart *h)
{
    uint64_t s = h->mstatus | (2ull << 32) | (2ull << 34); /* UXL = SXL = 64 */
    if ((s & MSTATUS_FS) == MSTATUS_FS)
        s |= MSTATUS_SD;
    else
        s &= ~MSTATUS_SD;
    return s;
}

static void mstatus_write(struct rv_hart *h, uint64_t val, uint64_t mask)
{
    uint64_t old = h->mstatus;
    uint64_t s = (old & ~mask) | (val & mask);
    /* MPP is WARL: the reserved value 2 reads as U */
    if (((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        s &= ~MSTATUS_MPP;
    s &= ~MSTATUS_SD;
    if ((s & MSTATUS_FS) == MSTATUS_FS)
        s |= MSTATUS_SD;
    h->mstatus = s;
    if ((old ^ s) & MSTATUS_MXR)
        rv_tlb_flush_all(h);
    if ((old ^ s) & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR))
        rv_mmu_update_keys(h);
}

bool rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *val)
{
    if (((csr >> 8) & 3) > h->priv)
        return false;
    switch (csr) {
    case CSR_FFLAGS: if (fs_off(h)) return false; *val = h->fflags; return true;
    case CSR_FRM: if (fs_off(h)) return false; *val = h->frm; return true;
    case CSR_FCSR: if (fs_off(h)) return false; *val = (h->frm << 5) | h->fflags; return true;
    case CSR_CYCLE: case CSR_INSTRET:
        if (!counter_allowed(h, csr)) return false;
        *val = h->instret;
        return true;
    case CSR_TIME:
        if (!counter_allowed(h, csr)) return false;
        *val = rv_sys_mtime(h->sys);
        return true;
    case CSR_SSTATUS: *val = mstatus_read(h) & SSTATUS_MASK; return true;
    case CSR_SIE: *val = h->mie & h->mideleg; return true;
    case CSR_STVEC: *val = h->stvec; return true;
    case CSR_SCOUNTEREN: *val = h->scounteren; return true;
    case CSR_SENVCFG: *val = h->senvcfg; return true;
    case CSR_SSCRATCH: *val = h->sscratch; return true;
    case CSR_SEPC: *val = h->sepc; return true;
    case CSR_SCAUSE: *val = h->scause; return true;
    case CSR_STVAL: *val = h->stval; return true;
    case CSR_SIP: *val = atomic_load(&h->mip) & h->mideleg; return true;
    case CSR_STIMECMP:
        if (!h->sys->has_sstc) return false;
        if (h->priv == RV_PRIV_S && (!(h->menvcfg & MENVCFG_STCE) || !(h->mcounteren & 2))) return false;
        *val = h->stimecmp;
        return true;
    case CSR_SATP:
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM)) return false;
        *val = h->satp;
        return true;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR:
        *val = 0;
        return true;
    case CSR_MHARTID: *val = h->hartid; return true;
    case CSR_MSTATUS: *val = mstatus_read(h); return true;
    case CSR_MISA: *val = MISA_VALUE; return true;
    case CSR_MEDELEG: *val = h->medeleg; return true;
    case CSR_MIDELEG: *val = h->mideleg; return true;
    case CSR_MIE: *val = h->mie; return true;
    case CSR_MTVEC: *val = h->mtvec; return true;
    case CSR_MCOUNTEREN: *val = h->mcounteren; return true;
    case CSR_MENVCFG: *val = h->menvcfg; return true;
    case CSR_MCOUNTINHIBIT: *val = h->mcountinhibit; return true;
    case CSR_MSCRATCH: *val = h->mscratch; return true;
    case CSR_MEPC: *val = h->mepc; return true;
    case CSR_MCAUSE: *val = h->mcause; return true;
    case CSR_MTVAL: *val = h->mtval; return true;
    case CSR_MIP: *val = atomic_load(&h->mip); return true;
    case CSR_MCYCLE: case CSR_MINSTRET: *val = h->instret; return true;
    default:
        break;
    }
    if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) {
        if (!counter_allowed(h, csr)) return false;
        *val = 0;
        return true;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) || (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
        *val = 0;
        return true;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        if (csr & 1) return false; /* odd pmpcfg registers do not exist on RV64 */
        *val = h->pmpcfg[csr - CSR_PMPCFG0];
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        *val = h->pmpaddr[csr - CSR_PMPADDR0];
        return true;
    }
    return false;
}

bool rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t val)
{
    if (((csr >> 8) & 3) > h->priv || (csr >> 10) == 3)
        return false;
    switch (csr) {
    case CSR_FFLAGS: if (fs_off(h)) return false; h->fflags = val & 0x1f; fs_dirty(h); return true;
    case CSR_FRM: if (fs_off(h)) return false; h->frm = val & 7; fs_dirty(h); return true;
    case CSR_FCSR:
        if (fs_off(h)) return false;
        h->fflags = val & 0x1f;
        h->frm = (val >> 5) & 7;
        fs_dirty(h);
        return true;
    case CSR_SSTATUS: mstatus_write(h, val, SSTATUS_MASK & MSTATUS_WRITABLE); return true;
    case CSR_SIE: h->mie = (h->mie & ~h->mideleg) | (val & h->mideleg & MIE_WRITABLE); return true;
    case CSR_STVEC: h->stvec = (val & 2) ? val & ~3ull : val; return true;
    case CSR_SCOUNTEREN: h->scounteren = val & 0xffffffff; return true;
    case CSR_SENVCFG: h->senvcfg = val & 1; return true;
    case CSR_SSCRATCH: h->sscratch = val; return true;
    case CSR_SEPC: h->sepc = val & ~1ull; return true;
    case CSR_SCAUSE: h->scause = val; return true;
    case CSR_STVAL: h->stval = val; return true;
    case CSR_SIP:
        if (h->mideleg & MIP_SSIP)
            rv_hart_set_irq(h, MIP_SSIP, val & MIP_SSIP);
        return true;
    case CSR_STIMECMP:
        if (!h->sys->has_sstc) return false;
        if (h->priv == RV_PRIV_S && (!(h->menvcfg & MENVCFG_STCE) || !(h->mcounteren & 2))) return false;
        h->stimecmp = val;
        rv_timer_update(h);
        return true;
    case CSR_SATP: {
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM)) return false;
        unsigned mode = (unsigned)(val >> SATP_MODE_SHIFT);
        /* An unsupported mode leaves satp unchanged (Linux probes modes
         * this way). ASIDLEN is 0: the ASID field reads as zero. */
        if (mode != SATP_MODE_BARE && (mode < SATP_MODE_SV39 || mode > h->sys->max_satp_mode))
            return true;
        h->satp = ((uint64_t)mode << SATP_MODE_SHIFT) | (val & SATP_PPN_MASK);
        rv_tlb_flush_all(h);
        rv_mmu_update_keys(h);
        return true;
    }
    case CSR_MSTATUS: mstatus_write(h, val, MSTATUS_WRITABLE); return true;
    case CSR_MISA: return true; /* fixed */
    case CSR_MEDELEG: h->medeleg = val & MEDELEG_WRITABLE; return true;
    case CSR_MIDELEG: h->mideleg = val & MIP_S_MASK; return true;
    case CSR_MIE: h->mie = val & MIE_WRITABLE; return true;
    case CSR_MTVEC: h->mtvec = (val & 2) ? val & ~3ull : val; return true;
    case CSR_MCOUNTEREN: h->mcounteren = val & 0xffffffff; return true;
    case CSR_MENVCFG: {
        uint64_t mask = 1 | (h->sys->has_sstc ? MENVCFG_STCE : 0);
        h->menvcfg = val & mask;
        rv_timer_update(h);
        return true;
    }
    case CSR_MCOUNTINHIBIT: h->mcountinhibit = val & 0xfffffffd; return true;
    case CSR_MSCRATCH: h->mscratch = val; return true;
    case CSR_MEPC: h->mepc = val & ~1ull; return true;
    case CSR_MCAUSE: h->mcause = val; return true;
    case CSR_MTVAL: h->mtval = val; return true;
    case CSR_MIP: {
        /* SEIP follows the PLIC only: a software-written SEIP would be a
         * read-modify-write racing the PLIC's own updates from other
         * threads (OpenSBI does csrs mip on every IPI). */
        uint64_t writable = MIP_SSIP | ((h->menvcfg & MENVCFG_STCE) ? 0 : MIP_STIP);
        uint64_t cur = atomic_load(&h->mip);
        uint64_t set = val & writable & ~cur, clr = ~val & writable & cur;
        if (set)
            rv_hart_set_irq(h, set, true);
        if (clr)
            rv_hart_set_irq(h, clr, false);
        return true;
    }
    case CSR_MCYCLE: case CSR_MINSTRET: h->instret = val; return true;
    default:
        break;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) || (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
        return true; /* no programmable counters: hardwired to zero */
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        if (csr & 1) return false;
        h->pmpcfg[csr - CSR_PMPCFG0] = val;
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        h->pmpaddr[csr - CSR_PMPADDR0] = val & ((1ull << 54) - 1);
        return true;
    }
    return false;
}

/* CSR instructions keep only the CSR number; rebuild the raw bits for
 * mtval when one of them turns out to be illegal. */
static uint32_t csr_insn_bits(const struct rv_insn *in, unsigned f3)
{
    unsigned rd = in->rd == 32 ? 0 : in->rd;
    return ((uint32_t)in->imm & 0xfff) << 20 | (uint32_t)in->rs1 << 15 | f3 << 12 | rd << 7 | 0x73;
}

bool rv_csr_insn(struct rv_hart *h, unsigned op, const struct rv_insn *in)
{
    unsigned csr = (unsigned)in->imm & 0xfff, f3;
    bool imm = op == RV_OP_CSRRWI || op == RV_OP_CSRRSI || op == RV_OP_CSRRCI;
    uint64_t s = imm ? in->rs1 : h->x[in->rs1], old = 0, val;
    /* CSRRS/CSRRC with x0 (or uimm 0) only read */
    bool write = true;
    switch (op) {
    case RV_OP_CSRRW: case RV_OP_CSRRWI: f3 = 1; val = s; break;
    case RV_OP_CSRRS: case RV_OP_CSRRSI: f3 = 2; write = in->rs1 != 0; val = 0; break;
    default: f3 = 3; write = in->rs1 != 0; val = 0; break;
    }
    if (imm)
        f3 += 4;
    if (rv_csr_read(h, csr, &old)) {
        if (f3 == 2 || f3 == 6)
            val = old | s;
        else if (f3 == 3 || f3 == 7)
            val = old & ~s;
        if (!write || rv_csr_write(h, csr, val)) {
            h->x[in->rd] = old;
            return true;
        }
    }
    h->exc_cause = EXC_ILLEGAL_INSN;
    h->exc_tval = csr_insn_bits(in, f3);
    return false;
}

/* Traps, interrupts and CSRs (privileged spec 1.12, chapter 3 and 4.1):
 * delegation, interrupt priority and enable rules, xRET, vectored mtvec,
 * mstatus.FS, counter enables, CSR privilege. */
#include "rv_testutil.h"


#define SPIN (RVT_CODE + 0x800) /* "j ." */

/* Start h at pc in priv (directly, without MRET). */
static void start(struct rv_hart *h, unsigned priv, uint64_t pc)
{
    h->pc = pc;
    h->mcause = h->scause = 0xdead;
    rvt_set_priv(h, priv);
}

static void put_spin(struct rvt *t) { rvt_w32(t, SPIN, rvi_j(0)); }

/* ---------------- delegation ---------------- */

/* medeleg routes exceptions from S/U to the S-mode handler (scause, sepc,
 * stval, SPP, SPIE); exceptions raised in M-mode always stay in M. */
static void test_exception_delegation(void **state)
{
    struct rv_hart *h = H;
    h->medeleg = 1u << EXC_ECALL_U | 1u << EXC_BREAKPOINT | 1u << EXC_LOAD_ACCESS;
    h->mstatus |= MSTATUS_SIE;

    /* U-mode ECALL: delegated */
    rvt_code(T, RVT_CODE, rvi_nop(), rvi_ecall());
    start(h, RV_PRIV_U, RVT_CODE);
    assert_true(rvt_run_until(h, RVT_STRAP, 100));
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->scause, EXC_ECALL_U);
    assert_int_equal(h->sepc, RVT_CODE + 4);
    assert_int_equal(h->mcause, 0xdead);
    assert_int_equal(h->mstatus & MSTATUS_SPP, 0);            /* came from U */
    assert_int_equal(h->mstatus & MSTATUS_SPIE, MSTATUS_SPIE); /* old SIE */
    assert_int_equal(h->mstatus & MSTATUS_SIE, 0);

    /* S-mode ECALL (cause 9) is not delegated: goes to M */
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(h->mcause, EXC_ECALL_S);
    assert_int_equal((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);

    /* S-mode load access fault, delegated: stval is the address, SPP = S */
    h->x[A1] = RVT_HOLE;
    rvt_code(T, RVT_CODE, rvi_ld(A0, A1, 0));
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run_until(h, RVT_STRAP, 100));
    assert_int_equal(h->scause, EXC_LOAD_ACCESS);
    assert_int_equal(h->stval, RVT_HOLE);
    assert_int_equal(h->mstatus & MSTATUS_SPP, MSTATUS_SPP);

    /* M-mode EBREAK is delegated in medeleg, but M traps never go down */
    rvt_code(T, RVT_CODE, rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_BREAKPOINT);
    assert_int_equal(h->scause, 0xdead);

    /* medeleg[11] (ECALL from M) is read-only zero */
    assert_true(rv_csr_write(h, CSR_MEDELEG, ~0ull));
    assert_int_equal(h->medeleg & (1u << EXC_ECALL_M), 0);
}

/* mideleg routes S-level interrupts to S-mode; scause has bit 63 set. */
static void test_interrupt_delegation(void **state)
{
    struct rv_hart *h = H;
    put_spin(T);
    h->mideleg = MIP_STIP;
    h->mie = MIP_STIP;
    h->mstatus |= MSTATUS_SIE;
    rv_hart_set_irq(h, MIP_STIP, true);
    start(h, RV_PRIV_S, SPIN);
    assert_true(rvt_run_until(h, RVT_STRAP, 100));
    assert_int_equal(h->scause, CAUSE_INTERRUPT | IRQ_STI);
    assert_int_equal(h->sepc, SPIN);
    assert_int_equal(h->stval, 0);
    assert_int_equal(h->mcause, 0xdead);
    /* sip/sie show only delegated bits */
    uint64_t v;
    rvt_set_priv(h, RV_PRIV_M);
    rv_csr_write(h, CSR_MIE, MIP_STIP | MIP_MTIP);
    assert_true(rv_csr_read(h, CSR_SIE, &v));
    assert_int_equal(v, MIP_STIP);
    rv_hart_set_irq(h, MIP_SSIP, true);
    assert_true(rv_csr_read(h, CSR_SIP, &v));
    assert_int_equal(v, MIP_STIP);
    assert_int_equal(h->mideleg, MIP_STIP);
    /* only S-level bits are delegable */
    rv_csr_write(h, CSR_MIDELEG, ~0ull);
    assert_int_equal(h->mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
}

/* ---------------- interrupts ---------------- */

/* With several interrupts pending and enabled, M-mode takes them in the
 * order MEI, MSI, MTI, SEI, SSI, STI (3.1.9). */
static void test_interrupt_priority(void **state)
{
    struct rv_hart *h = H;
    put_spin(T);
    static const unsigned order[] = { IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI };
    uint64_t pending = MIP_ALL_MASK;
    atomic_store(&h->mtimecmp, 0); /* keeps MTIP up while the clock runs */
    h->mie = MIP_ALL_MASK;
    for (unsigned i = 0; i < 6; i++) {
        atomic_store(&h->mip, pending);
        h->mstatus |= MSTATUS_MIE;
        start(h, RV_PRIV_M, SPIN);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, CAUSE_INTERRUPT | order[i]);
        assert_int_equal(h->mepc, SPIN);
        assert_int_equal(h->mtval, 0);
        assert_int_equal(h->mstatus & MSTATUS_MIE, 0);
        assert_int_equal(h->mstatus & MSTATUS_MPIE, MSTATUS_MPIE);
        pending &= ~(1ull << order[i]);
        if (order[i] == IRQ_MTI)
            atomic_store(&h->mtimecmp, ~0ull);
    }
}

/* Global enables (3.1.6.1): an interrupt for a more-privileged mode is
 * always enabled; for the current mode only with xIE; for a less
 * privileged mode never. */
static void test_interrupt_enables(void **state)
{
    struct rv_hart *h = H;
    put_spin(T);

    /* M-mode never takes a delegated (S-level) interrupt, even with
     * MIE and SIE set */
    h->mideleg = MIP_SSIP;
    h->mie = MIP_SSIP;
    h->mstatus |= MSTATUS_MIE | MSTATUS_SIE;
    rv_hart_set_irq(h, MIP_SSIP, true);
    start(h, RV_PRIV_M, SPIN);
    rv_hart_step_blocks(h, 20);
    assert_int_equal(h->pc, SPIN);
    assert_int_equal(h->mcause, 0xdead);
    assert_int_equal(h->scause, 0xdead);

    /* S-mode with SIE = 0 does not take it either; U-mode does */
    h->mstatus &= ~MSTATUS_SIE;
    start(h, RV_PRIV_S, SPIN);
    rv_hart_step_blocks(h, 20);
    assert_int_equal(h->pc, SPIN);
    start(h, RV_PRIV_U, SPIN);
    assert_true(rvt_run_until(h, RVT_STRAP, 20));
    assert_int_equal(h->scause, CAUSE_INTERRUPT | IRQ_SSI);
    assert_int_equal(h->mstatus & MSTATUS_SPP, 0);
    rv_hart_set_irq(h, MIP_SSIP, false);

    /* S-mode takes an M-level interrupt even with MIE = 0 */
    h->mstatus &= ~MSTATUS_MIE;
    h->mie = MIP_MTIP;
    atomic_store(&h->mtimecmp, 0);
    rv_hart_kick(h, 0);
    start(h, RV_PRIV_S, SPIN);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, CAUSE_INTERRUPT | IRQ_MTI);
    assert_int_equal((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);
    assert_int_equal(h->mstatus & MSTATUS_MPIE, 0); /* MIE was 0 */

    /* ... but M-mode with MIE = 0 does not */
    start(h, RV_PRIV_M, SPIN);
    rv_hart_step_blocks(h, 20);
    assert_int_equal(h->pc, SPIN);
    /* and nothing is taken while the bit is clear in mie */
    h->mstatus |= MSTATUS_MIE;
    h->mie = 0;
    rv_hart_step_blocks(h, 20);
    assert_int_equal(h->pc, SPIN);
    /* setting MIE through a CSR write takes it right after */
    h->mie = MIP_MTIP;
    h->mstatus &= ~MSTATUS_MIE;
    h->x[T0] = MSTATUS_MIE;
    rvt_code(T, RVT_CODE, rvi_csrrs(ZERO, CSR_MSTATUS, T0), rvi_addi(A0, ZERO, 1), rvi_ebreak());
    h->x[A0] = 0;
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, CAUSE_INTERRUPT | IRQ_MTI);
    assert_int_equal(h->mepc, RVT_CODE + 4);
    assert_int_equal(h->x[A0], 0);
}

/* Vectored mode (MODE = 1): interrupts go to BASE + 4 * cause, exceptions
 * to BASE. Modes >= 2 are reserved (WARL). */
static void test_vectored_tvec(void **state)
{
    struct rv_hart *h = H;
    const uint64_t base = RVT_RAM_BASE + 0x400;
    for (unsigned i = 0; i < 16; i++)
        rvt_w32(T, base + 4 * i, rvi_j(0));
    put_spin(T);
    assert_true(rv_csr_write(h, CSR_MTVEC, base | 1));
    h->mie = MIP_MSIP;
    h->mstatus |= MSTATUS_MIE;
    rv_hart_set_irq(h, MIP_MSIP, true);
    start(h, RV_PRIV_M, SPIN);
    assert_true(rvt_run_until(h, base + 4 * IRQ_MSI, 20));
    assert_int_equal(h->mcause, CAUSE_INTERRUPT | IRQ_MSI);
    rv_hart_set_irq(h, MIP_MSIP, false);

    rvt_code(T, RVT_CODE, rvi_ecall());
    start(h, RV_PRIV_U, RVT_CODE);
    assert_true(rvt_run_until(h, base, 20));
    assert_int_equal(h->mcause, EXC_ECALL_U);

    /* stvec too */
    assert_true(rv_csr_write(h, CSR_STVEC, base | 1));
    h->mideleg = MIP_SEIP;
    h->mie = MIP_SEIP;
    h->mstatus |= MSTATUS_SIE;
    rv_hart_set_irq(h, MIP_SEIP, true);
    start(h, RV_PRIV_S, SPIN);
    assert_true(rvt_run_until(h, base + 4 * IRQ_SEI, 20));
    assert_int_equal(h->scause, CAUSE_INTERRUPT | IRQ_SEI);

    uint64_t v;
    rvt_set_priv(h, RV_PRIV_M);
    assert_true(rv_csr_write(h, CSR_MTVEC, base | 2));
    assert_true(rv_csr_read(h, CSR_MTVEC, &v));
    assert_true((v & 3) < 2);
}

/* ---------------- xRET ---------------- */

/* MRET: MIE <- MPIE, MPIE <- 1, privilege <- MPP, MPP <- U, and MPRV <- 0
 * when leaving to a less privileged mode. SRET likewise with SIE/SPIE/SPP
 * (and MPRV <- 0). */
static void test_xret(void **state)
{
    struct rv_hart *h = H;
    put_spin(T);
    rvt_w32(T, RVT_CODE, rvi_mret());
    h->mepc = SPIN;
    h->mstatus = MSTATUS_MPIE | MSTATUS_MPRV | (uint64_t)RV_PRIV_S << MSTATUS_MPP_SHIFT;
    start(h, RV_PRIV_M, RVT_CODE);
    rv_hart_step_blocks(h, 1);
    assert_int_equal(h->pc, SPIN);
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->mstatus & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV),
                     MSTATUS_MIE | MSTATUS_MPIE);

    /* MRET to M keeps MPRV; MPIE = 0 -> MIE = 0 */
    h->mstatus = MSTATUS_MIE | MSTATUS_MPRV | (uint64_t)RV_PRIV_M << MSTATUS_MPP_SHIFT;
    start(h, RV_PRIV_M, RVT_CODE);
    rv_hart_step_blocks(h, 1);
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(h->mstatus & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV),
                     MSTATUS_MPIE | MSTATUS_MPRV);

    /* SRET from S to U */
    rvt_w32(T, RVT_CODE, rvi_sret());
    h->sepc = SPIN;
    h->mstatus = MSTATUS_SPIE | MSTATUS_MPRV;
    start(h, RV_PRIV_S, RVT_CODE);
    rv_hart_step_blocks(h, 1);
    assert_int_equal(h->pc, SPIN);
    assert_int_equal(h->priv, RV_PRIV_U);
    assert_int_equal(h->mstatus & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV),
                     MSTATUS_SIE | MSTATUS_SPIE);

    /* SRET from M to S (SPP = S) */
    h->mstatus = MSTATUS_SPP;
    start(h, RV_PRIV_M, RVT_CODE);
    rv_hart_step_blocks(h, 1);
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->mstatus & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SPIE);

    /* illegal: SRET in U, SRET in S with TSR, MRET in S or U */
    h->mstatus = 0;
    start(h, RV_PRIV_U, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    h->mstatus = MSTATUS_TSR;
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    assert_int_equal(h->mepc, RVT_CODE);
    rvt_w32(T, RVT_CODE, rvi_mret());
    h->mstatus = 0;
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);

    /* trap entry: MPIE <- MIE, MIE <- 0, MPP <- previous privilege */
    rvt_w32(T, RVT_CODE, rvi_ecall());
    h->mstatus = MSTATUS_MIE;
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mstatus & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP),
                     MSTATUS_MPIE | (uint64_t)RV_PRIV_M << MSTATUS_MPP_SHIFT);
}

/* ECALL's cause names the mode it came from. WFI is illegal in U-mode and
 * in S-mode with TW. */
static void test_ecall_wfi(void **state)
{
    struct rv_hart *h = H;
    rvt_w32(T, RVT_CODE, rvi_ecall());
    static const unsigned privs[] = { RV_PRIV_U, RV_PRIV_S, RV_PRIV_M };
    static const uint64_t causes[] = { EXC_ECALL_U, EXC_ECALL_S, EXC_ECALL_M };
    for (unsigned i = 0; i < 3; i++) {
        start(h, privs[i], RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, causes[i]);
    }
    rvt_code(T, RVT_CODE, rvi_wfi(), rvi_ebreak());
    start(h, RV_PRIV_U, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    h->mstatus |= MSTATUS_TW;
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    /* without TW it is legal in S: with nothing pending, the engine stops
     * after it (the caller would sleep) with pc past the WFI */
    h->mstatus &= ~MSTATUS_TW;
    h->mie = 0;
    start(h, RV_PRIV_S, RVT_CODE);
    rv_hart_step_blocks(h, 5);
    assert_int_equal(h->pc, RVT_CODE + 4);
    assert_int_equal(h->mcause, 0xdead);
}

/* ---------------- FP enable ---------------- */

/* mstatus.FS = Off makes every FP instruction and FP CSR illegal; any FP
 * state change makes FS Dirty and sets SD. */
static void test_fs_off(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = RVT_DATA;
    static const uint32_t fp_insns[4] = { 0x02c5f553 /* fadd.d fa0, fa1, fa2 */, 0x0005b507 /* fld fa0, 0(a1) */,
                                          0x00a5b027 /* fsd fa0, 0(a1) */, 0x00102573 /* csrr a0, fflags */ };
    for (unsigned i = 0; i < 4; i++) {
        h->mstatus &= ~MSTATUS_FS;
        rvt_code(T, RVT_CODE, rvi_nop(), fp_insns[i], rvi_ebreak());
        start(h, RV_PRIV_M, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
        assert_int_equal(h->mepc, RVT_CODE + 4);
    }
    /* FS = Initial: allowed, and FS becomes Dirty */
    rv_csr_write(h, CSR_MSTATUS, 1ull << 13);
    uint64_t v;
    rv_csr_read(h, CSR_MSTATUS, &v);
    assert_int_equal(v & MSTATUS_SD, 0);
    h->f[11] = 0x3ff0000000000000ull; /* 1.0 */
    h->f[12] = 0x4000000000000000ull; /* 2.0 */
    rvt_code(T, RVT_CODE, fp_insns[0], rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    rvt_run_to_ebreak(h);
    assert_int_equal(h->f[10], 0x4008000000000000ull); /* 3.0 */
    assert_int_equal(h->mstatus & MSTATUS_FS, MSTATUS_FS_DIRTY);
    rv_csr_read(h, CSR_MSTATUS, &v);
    assert_true(v & MSTATUS_SD);
    rv_csr_read(h, CSR_SSTATUS, &v);
    assert_true(v & MSTATUS_SD);
}

/* ---------------- CSR access rules ---------------- */

/* cycle/time/instret from S need mcounteren; from U also scounteren;
 * M always may read them. */
static void test_counter_enables(void **state)
{
    struct rv_hart *h = H;
    static const unsigned ctrs[] = { CSR_CYCLE, CSR_TIME, CSR_INSTRET };
    for (unsigned i = 0; i < 3; i++) {
        unsigned bit = 1u << (ctrs[i] & 31);
        rvt_code(T, RVT_CODE, rvi_csrr(A0, ctrs[i]), rvi_ebreak());
        h->mcounteren = h->scounteren = 0;
        start(h, RV_PRIV_M, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_BREAKPOINT);
        start(h, RV_PRIV_S, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
        assert_int_equal(h->mtval, rvi_csrr(A0, ctrs[i]));
        h->scounteren = bit; /* scounteren alone is not enough for U */
        start(h, RV_PRIV_U, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
        h->mcounteren = bit;
        start(h, RV_PRIV_S, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_BREAKPOINT);
        start(h, RV_PRIV_U, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_BREAKPOINT);
        h->scounteren = 0; /* U needs both */
        start(h, RV_PRIV_U, RVT_CODE);
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    }
    /* instret counts retired instructions */
    h->mcounteren = 4;
    rvt_code(T, RVT_CODE, rvi_csrr(A0, CSR_INSTRET), rvi_nop(), rvi_nop(), rvi_csrr(A1, CSR_INSTRET), rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A1] - h->x[A0], 3);
}

/* CSR privilege is in address bits 9:8; bits 11:10 = 3 means read-only.
 * Reading a read-only CSR with CSRRS rs1=x0 is fine; writing it is not. */
static void test_csr_privilege(void **state)
{
    struct rv_hart *h = H;
    rvt_code(T, RVT_CODE, rvi_csrr(A0, CSR_MSTATUS), rvi_ebreak());
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    assert_int_equal(h->mtval, rvi_csrr(A0, CSR_MSTATUS));

    rvt_code(T, RVT_CODE, rvi_csrr(A0, CSR_SSTATUS), rvi_ebreak());
    start(h, RV_PRIV_U, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);

    h->x[A1] = 5;
    rvt_code(T, RVT_CODE, rvi_csrr(A0, CSR_MVENDORID), rvi_csrr(A2, CSR_MHARTID), rvi_csrrs(A3, CSR_MISA, ZERO),
             rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A0], 0);
    assert_int_equal(h->x[A2], 0);
    assert_int_equal(h->x[A3] >> 62, 2); /* MXL = 64 */
    assert_true(h->x[A3] & (1u << ('C' - 'A')));
    rvt_code(T, RVT_CODE, rvi_csrw(CSR_MVENDORID, A1), rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    rvt_code(T, RVT_CODE, rvi_csrrs(ZERO, CSR_CYCLE, A1), rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    rvt_code(T, RVT_CODE, rvi_csrr(A0, 0x7c0 /* custom, absent */), rvi_ebreak());
    start(h, RV_PRIV_M, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
}

/* sstatus is a restricted view of mstatus; MPP is WARL (2 reads as U). */
static void test_status_views(void **state)
{
    struct rv_hart *h = H;
    uint64_t v;
    rvt_set_priv(h, RV_PRIV_M);
    assert_true(rv_csr_write(h, CSR_MSTATUS, MSTATUS_MIE | MSTATUS_SIE | MSTATUS_SUM | 2ull << MSTATUS_MPP_SHIFT));
    assert_true(rv_csr_read(h, CSR_MSTATUS, &v));
    assert_int_equal(v & MSTATUS_MPP, 0);
    assert_int_equal((v >> 32) & 3, 2); /* UXL = 64 */
    assert_true(rv_csr_read(h, CSR_SSTATUS, &v));
    assert_int_equal(v & (MSTATUS_MIE | MSTATUS_SIE | MSTATUS_SUM), MSTATUS_SIE | MSTATUS_SUM);
    /* writes through sstatus cannot touch M-only bits */
    assert_true(rv_csr_write(h, CSR_SSTATUS, MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_MXR));
    assert_int_equal(h->mstatus & (MSTATUS_MIE | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_SIE | MSTATUS_MXR),
                     MSTATUS_MIE | MSTATUS_MXR);
    /* mepc/sepc bit 0 is always zero (IALIGN = 16) */
    rv_csr_write(h, CSR_MEPC, 0x80000003);
    assert_int_equal(h->mepc, 0x80000002);
    rv_csr_write(h, CSR_SEPC, 0x80000001);
    assert_int_equal(h->sepc, 0x80000000);
}

/* Sstc: with menvcfg.STCE, STIP follows time >= stimecmp (and is no
 * longer writable in mip); S-mode reaches stimecmp only if mcounteren.TM
 * and STCE are set. */
static void test_sstc(void **state)
{
    struct rv_hart *h = H;
    put_spin(T);
    rvt_set_priv(h, RV_PRIV_M);
    assert_true(rv_csr_write(h, CSR_MENVCFG, MENVCFG_STCE));
    assert_true(rv_csr_write(h, CSR_MIP, MIP_STIP)); /* ignored: STIP is the comparator's */
    assert_int_equal(atomic_load(&h->mip) & MIP_STIP, 0);

    /* S-mode access needs mcounteren.TM */
    rvt_code(T, RVT_CODE, rvi_csrw(CSR_STIMECMP, ZERO), rvi_ebreak());
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    h->mcounteren = 2;

    /* stimecmp = 0 is in the past: the S timer interrupt is taken */
    h->mideleg = MIP_STIP;
    h->mie = MIP_STIP;
    h->mstatus |= MSTATUS_SIE;
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run_until(h, RVT_STRAP, 20));
    assert_int_equal(h->scause, CAUSE_INTERRUPT | IRQ_STI);
    assert_int_equal(h->sepc, RVT_CODE + 4);
    assert_true(atomic_load(&h->mip) & MIP_STIP);

    /* moving stimecmp to the far future clears STIP at once */
    h->x[A0] = ~0ull;
    rvt_code(T, RVT_CODE, rvi_csrw(CSR_STIMECMP, A0), rvi_ebreak());
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_BREAKPOINT);
    assert_int_equal(atomic_load(&h->mip) & MIP_STIP, 0);

    /* without STCE, S-mode access is illegal again */
    rvt_set_priv(h, RV_PRIV_M);
    assert_true(rv_csr_write(h, CSR_MENVCFG, 0));
    start(h, RV_PRIV_S, RVT_CODE);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exception_delegation, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_delegation, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_priority, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_enables, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_vectored_tvec, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_xret, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_ecall_wfi, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_fs_off, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_counter_enables, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_csr_privilege, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_status_views, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_sstc, rvt_setup_1hart, rvt_teardown),
    };
    return cmocka_run_group_tests_name("csr_trap", tests, NULL, NULL);
}

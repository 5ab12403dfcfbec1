/* Interrupts: the M timer through CLINT mtimecmp with mtvec direct and
 * vectored, the M software interrupt through msip, priorities, WFI waking
 * on a pending interrupt with MIE = 0 (and not taking it), delegation of
 * SSIP/STIP to S (not taken in M, taken in S with SIE, always taken in U),
 * M interrupts taken in S whatever MIE says, and Sstc: with menvcfg.STCE
 * S-mode's stimecmp raises STIP. */
#include "common.h"

/* m_irq / s_irq records */
#define R_COUNT 0
#define R_CAUSE 8
#define R_EPC 16
#define R_STATUS 24
#define R_VECTOR 32
#define R_LOG 40       /* causes of the first 8 interrupts */
#define R_CLAIM 104    /* what the external interrupt handler claimed */

/* PLIC: UART0 is source 10; context 0 = hart 0 M, 1 = hart 0 S */
#define UART_IRQ 10
#define PLIC_PRIORITY(src) (PLIC_BASE + 4 * (src))
#define PLIC_PENDING (PLIC_BASE + 0x1000)
#define PLIC_ENABLE(ctx) (PLIC_BASE + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (PLIC_BASE + 0x200004 + 0x1000 * (ctx))

#define TIMEOUT_TICKS 20000000   /* 2 s at 10 MHz */

/* Wait until record.R_COUNT >= n, or fail after TIMEOUT_TICKS. Uses t2-t4. */
#define WAIT_COUNT(record, n) \
    li t2, CLINT_MTIME; \
    ld t3, 0(t2); \
    li t4, TIMEOUT_TICKS; \
    add t3, t3, t4; \
88820: \
    la t5, record; \
    ld t5, R_COUNT(t5); \
    li t6, n; \
    bgeu t5, t6, 88821f; \
    ld t4, 0(t2); \
    bltu t4, t3, 88820b; \
    j fail; \
88821:

#define CHECK_REC(record, field, expected) \
    la t5, record; \
    ld t5, field(t5); \
    CHECK(t5, expected)

#define RESET_REC(record) \
    la t5, record; \
    sd zero, R_COUNT(t5); \
    sd zero, R_CAUSE(t5); \
    li t6, -1; \
    sd t6, R_VECTOR(t5)

/* mtimecmp = mtime + ticks */
#define TIMER_IN(ticks) \
    li t0, CLINT_MTIME; \
    ld t1, 0(t0); \
    addi t1, t1, ticks; \
    li t0, CLINT_MTIMECMP(0); \
    sd t1, 0(t0)
#define TIMER_OFF \
    li t0, CLINT_MTIMECMP(0); \
    li t1, -1; \
    sd t1, 0(t0)

    .text
    .globl test_main
test_main:
    la t0, m_irq_entry
    csrw mtvec, t0
    la t0, s_irq_entry
    csrw stvec, t0
    TIMER_OFF

    /* ---- M timer, direct mode ---- */
    li gp, 1
    RESET_REC(m_irq)
    CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
    li t0, MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN(1000)                 /* 100 us */
    WAIT_COUNT(m_irq, 1)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_COUNT, 1)
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 7)
    CHECK_REC(m_irq, R_VECTOR, -1)
    li gp, 2                        /* the handler moved mtimecmp: MTIP is low again */
    CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
    li t5, MSTATUS_MPIE | MSTATUS_MPP
    la t6, m_irq
    ld t6, R_STATUS(t6)
    and t6, t6, t5
    CHECK(t6, MSTATUS_MPIE | MSTATUS_MPP_M)   /* MIE was saved in MPIE; came from M */

    /* ---- M timer, vectored mode ---- */
    li gp, 3
    RESET_REC(m_irq)
    la t0, vec_table + 1
    csrw mtvec, t0
    csrsi mstatus, MSTATUS_MIE
    TIMER_IN(1000)
    WAIT_COUNT(m_irq, 1)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 7)
    CHECK_REC(m_irq, R_VECTOR, 7)             /* entered at base + 4 * 7 */
    /* exceptions still go to the base */
    TEST_TRAP(4, CAUSE_ECALL_M, ecall)

    /* ---- M software interrupt (msip), vectored ---- */
    li gp, 5
    RESET_REC(m_irq)
    li t0, MIP_MSIP
    csrw mie, t0
    li t0, CLINT_MSIP(0)
    li t1, 1
    sw t1, 0(t0)
    lw a0, 0(t0)
    CHECK(a0, 1)                              /* msip reads back */
    CHECK_CSR_MASKED(mip, MIP_MSIP, MIP_MSIP)
    CHECK_REC(m_irq, R_COUNT, 0)              /* MIE = 0: pending only */
    csrsi mstatus, MSTATUS_MIE
    WAIT_COUNT(m_irq, 1)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 3)
    CHECK_REC(m_irq, R_VECTOR, 3)
    CHECK_CSR_MASKED(mip, MIP_MSIP, 0)
    li gp, 6                                  /* and in direct mode */
    la t0, m_irq_entry
    csrw mtvec, t0
    RESET_REC(m_irq)
    csrsi mstatus, MSTATUS_MIE
    li t0, CLINT_MSIP(0)
    li t1, 1
    sw t1, 0(t0)
    WAIT_COUNT(m_irq, 1)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 3)
    CHECK_REC(m_irq, R_VECTOR, -1)

    /* ---- priority: MSI before MTI ---- */
    li gp, 7
    RESET_REC(m_irq)
    li t0, CLINT_MTIMECMP(0)
    sd zero, 0(t0)                            /* MTIP now */
    li t0, CLINT_MSIP(0)
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP | MIP_MTIP
    csrw mie, t0
    CHECK_CSR_MASKED(mip, MIP_MSIP | MIP_MTIP, MIP_MSIP | MIP_MTIP)
    csrsi mstatus, MSTATUS_MIE
    WAIT_COUNT(m_irq, 2)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_LOG, CAUSE_IRQ | 3)
    CHECK_REC(m_irq, R_LOG + 8, CAUSE_IRQ | 7)
    csrw mie, zero

    /* ---- mip: MTIP and MSIP are read-only ---- */
    li gp, 8
    li t0, MIP_MTIP | MIP_MSIP
    csrs mip, t0
    CHECK_CSR_MASKED(mip, MIP_MTIP | MIP_MSIP, 0)

    /* ---- WFI with MIE = 0: wakes when the timer is pending, takes nothing ---- */
    li gp, 9
    RESET_REC(m_irq)
    li t0, MIP_MTIP
    csrw mie, t0
    li t0, CLINT_MTIME
    ld s0, 0(t0)
    li t1, 20000                              /* 2 ms */
    add s0, s0, t1
    li t0, CLINT_MTIMECMP(0)
    sd s0, 0(t0)
    wfi
    li t0, CLINT_MTIME
    ld a0, 0(t0)
    bltu a0, s0, fail_near                    /* it slept until the deadline */
    CHECK_CSR_MASKED(mip, MIP_MTIP, MIP_MTIP)
    CHECK_REC(m_irq, R_COUNT, 0)              /* and did not take the interrupt */
    TIMER_OFF
    CHECK_CSR_MASKED(mip, MIP_MTIP, 0)
    li gp, 10                                 /* already pending: returns at once */
    li t0, CLINT_MSIP(0)
    li t1, 1
    sw t1, 0(t0)
    li t0, MIP_MSIP
    csrw mie, t0
    wfi
    CHECK_REC(m_irq, R_COUNT, 0)
    li t0, CLINT_MSIP(0)
    sw zero, 0(t0)
    csrw mie, zero
    j 1f
fail_near:
    j fail
1:
    /* ---- delegation of SSIP and STIP to S ---- */
    li gp, 11
    RESET_REC(m_irq)
    RESET_REC(s_irq)
    li t0, MIP_SSIP | MIP_STIP
    csrw mideleg, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    li t0, MIP_SSIP
    csrs mip, t0                              /* delegated: never taken in M */
    li t0, 1000
2:  addi t0, t0, -1
    bnez t0, 2b
    CHECK_REC(m_irq, R_COUNT, 0)
    CHECK_REC(s_irq, R_COUNT, 0)
    csrci mstatus, MSTATUS_MIE
    /* enter S with SIE = 1: taken at once */
    li gp, 12
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  nop
    nop
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_REC(s_irq, R_COUNT, 1)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 1)
    CHECK_CSR_MASKED(mip, MIP_SSIP, 0)        /* the S handler cleared it */
    li t5, MSTATUS_SPP | MSTATUS_SPIE
    la t6, s_irq
    ld t6, R_STATUS(t6)
    and t6, t6, t5
    CHECK(t6, MSTATUS_SPP | MSTATUS_SPIE)     /* from S, SIE saved in SPIE */
    /* S raises its own software interrupt */
    li gp, 13
    RESET_REC(s_irq)
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  csrsi sip, MIP_SSIP
    nop
    ecall
    j fail
1:  CHECK_REC(s_irq, R_COUNT, 1)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 1)
    /* STIP set by M (menvcfg.STCE = 0) */
    li gp, 14
    RESET_REC(s_irq)
    li t0, MIP_STIP
    csrs mip, t0
    CHECK_CSR_MASKED(mip, MIP_STIP, MIP_STIP)
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  nop
    ecall
    j fail
1:  CHECK_REC(s_irq, R_COUNT, 1)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 5)
    li t0, MIP_STIP
    csrc mip, t0
    csrs mie, t0                              /* (the S handler masked it) */
    /* SIE = 0 in S: pending, not taken */
    li gp, 15
    RESET_REC(s_irq)
    csrci mstatus, MSTATUS_SIE
    li t0, MIP_SSIP
    csrs mip, t0
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  nop
    nop
    csrr a0, sip
    ecall
    j fail
1:  CHECK_REC(s_irq, R_COUNT, 0)
    andi a0, a0, MIP_SSIP
    CHECK(a0, MIP_SSIP)
    /* in U, S interrupts are taken whatever SIE says */
    li gp, 16
    EXPECT_TRAP(1f)
    ENTER_U(2f)
2:  nop
    nop
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_REC(s_irq, R_COUNT, 1)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 1)
    li t5, MSTATUS_SPP
    la t6, s_irq
    ld t6, R_STATUS(t6)
    and t6, t6, t5
    CHECK(t6, 0)                              /* from U */
    /* M interrupts are taken in S even with MIE = 0 */
    li gp, 17
    RESET_REC(m_irq)
    csrw mideleg, zero
    li t0, MIP_MTIP
    csrw mie, t0
    csrci mstatus, MSTATUS_MIE
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  TIMER_IN(100)
    WAIT_COUNT(m_irq, 1)
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 7)
    li t5, MSTATUS_MPP
    la t6, m_irq
    ld t6, R_STATUS(t6)
    and t6, t6, t5
    CHECK(t6, MSTATUS_MPP_S)
    csrw mie, zero

    /* ---- Sstc ---- */
    /* STCE = 0: stimecmp does not exist for S */
    li gp, 18
    csrw menvcfg, zero
    li t0, 2
    csrw mcounteren, t0                       /* TM */
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  csrr a0, stimecmp
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    CHECK_TRAP_STATUS(MSTATUS_MPP, MSTATUS_MPP_S)
    /* STCE = 1: STIP follows stimecmp and M can no longer write it */
    li gp, 19
    li t0, 1 << 63
    csrs menvcfg, t0
    CHECK_CSR_MASKED(menvcfg, 1 << 63, 1 << 63)
    li t0, -1
    csrw stimecmp, t0
    CHECK_CSR_MASKED(mip, MIP_STIP, 0)
    li t0, MIP_STIP
    csrs mip, t0
    CHECK_CSR_MASKED(mip, MIP_STIP, 0)
    csrw stimecmp, zero
    CHECK_CSR_MASKED(mip, MIP_STIP, MIP_STIP)
    li t0, -1
    csrw stimecmp, t0
    CHECK_CSR_MASKED(mip, MIP_STIP, 0)
    /* S sets its timer and takes the interrupt */
    li gp, 20
    RESET_REC(s_irq)
    la t0, sstc_mode
    li t1, 1
    sd t1, 0(t0)
    li t0, MIP_STIP
    csrw mideleg, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_SIE
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  rdtime a0
    addi a0, a0, 1000
    csrw stimecmp, a0
    WAIT_COUNT(s_irq, 1)
    csrr a1, sip
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_REC(s_irq, R_COUNT, 1)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 5)
    andi a1, a1, MIP_STIP
    CHECK(a1, 0)                              /* the handler's stimecmp write cleared it */
    /* WFI in S with SIE = 0 wakes on STIP, takes nothing */
    li gp, 21
    RESET_REC(s_irq)
    csrci mstatus, MSTATUS_SIE
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  rdtime s0
    li t0, 20000
    add s0, s0, t0
    csrw stimecmp, s0
    wfi
    rdtime a0
    csrr a1, sip
    li t0, -1
    csrw stimecmp, t0
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_REC(s_irq, R_COUNT, 0)
    andi a1, a1, MIP_STIP
    CHECK(a1, MIP_STIP)
    bltu a0, s0, fail
    csrw mie, zero
    csrw mideleg, zero
    csrw menvcfg, zero

    /* ---- external interrupts through the PLIC (UART THR-empty) ---- */
    li gp, 22
    RESET_REC(m_irq)
    li t0, PLIC_PRIORITY(UART_IRQ)
    li t1, 3
    sw t1, 0(t0)
    lw a0, 0(t0)
    CHECK(a0, 3)
    li t0, PLIC_ENABLE(0)
    li t1, 1 << UART_IRQ
    sw t1, 0(t0)
    lw a0, 0(t0)
    CHECK(a0, 1 << UART_IRQ)
    li t0, PLIC_THRESHOLD(0)
    sw zero, 0(t0)
    li t0, PLIC_CLAIM(0)
    lw a0, 0(t0)
    CHECK(a0, 0)                              /* nothing to claim yet */
    CHECK_CSR_MASKED(mip, MIP_MEIP, 0)
    li t0, UART_BASE
    li t1, 0x02                               /* IER: THR empty */
    sb t1, 1(t0)
    li t0, PLIC_PENDING
    lw a0, 0(t0)
    andi a0, a0, 1 << UART_IRQ
    CHECK(a0, 1 << UART_IRQ)
    CHECK_CSR_MASKED(mip, MIP_MEIP, MIP_MEIP)
    li gp, 23                                 /* a threshold at the priority masks it */
    li t0, PLIC_THRESHOLD(0)
    li t1, 3
    sw t1, 0(t0)
    CHECK_CSR_MASKED(mip, MIP_MEIP, 0)
    sw zero, 0(t0)
    CHECK_CSR_MASKED(mip, MIP_MEIP, MIP_MEIP)
    li gp, 24                                 /* taken in M */
    li t0, MIP_MEIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    WAIT_COUNT(m_irq, 1)
    csrci mstatus, MSTATUS_MIE
    CHECK_REC(m_irq, R_CAUSE, CAUSE_IRQ | 11)
    CHECK_REC(m_irq, R_CLAIM, UART_IRQ)
    CHECK_CSR_MASKED(mip, MIP_MEIP, 0)
    li t0, PLIC_PENDING
    lw a0, 0(t0)
    andi a0, a0, 1 << UART_IRQ
    CHECK(a0, 0)
    li t0, PLIC_ENABLE(0)
    sw zero, 0(t0)
    csrw mie, zero
    /* the S context, delegated to S */
    li gp, 25
    RESET_REC(s_irq)
    li t0, PLIC_ENABLE(1)
    li t1, 1 << UART_IRQ
    sw t1, 0(t0)
    li t0, PLIC_THRESHOLD(1)
    sw zero, 0(t0)
    li t0, MIP_SEIP
    csrw mideleg, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_SIE
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  li t0, UART_BASE
    li t1, 0x02
    sb t1, 1(t0)
    WAIT_COUNT(s_irq, 1)
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_REC(s_irq, R_CAUSE, CAUSE_IRQ | 9)
    CHECK_REC(s_irq, R_CLAIM, UART_IRQ)
    CHECK_CSR_MASKED(mip, MIP_SEIP, 0)
    li t0, PLIC_ENABLE(1)
    sw zero, 0(t0)
    csrw mie, zero
    csrw mideleg, zero

    /* ---- mtimecmp written as two 32-bit halves ---- */
    li gp, 26
    li t0, CLINT_MTIMECMP(0)
    li t1, 0x89abcdef
    sw t1, 0(t0)
    li t1, 0x01234567
    sw t1, 4(t0)
    ld a0, 0(t0)
    CHECK(a0, 0x0123456789abcdef)
    lw a0, 0(t0)
    CHECK(a0, 0xffffffff89abcdef)
    lw a0, 4(t0)
    CHECK(a0, 0x01234567)
    TIMER_OFF
    li t0, CLINT_MTIME                    /* mtime's halves */
    lwu a0, 4(t0)
    ld a1, 0(t0)
    srli a1, a1, 32
    CHECK_REG(a0, a1)

    /* ---- stvec in vectored mode ---- */
    li gp, 27
    la t0, s_vec_table + 1
    csrw stvec, t0
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrw mie, t0
    csrsi mstatus, MSTATUS_SIE
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  csrsi sip, MIP_SSIP
    nop
    ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    la t0, s_vec_hits
    ld a0, 0(t0)
    CHECK(a0, 1)
    csrw mie, zero
    csrw mideleg, zero
    PASS

    .balign 64
    .option push
    .option norvc
s_vec_table:
    j strap_entry                  /* 0: exceptions */
    j s_vec_ssi                    /* 1: SSI */
    .option pop
s_vec_ssi:
    csrci sip, MIP_SSIP
    csrrw t0, sscratch, t0
    sd t1, TF_SAVE1(t0)
    la t0, s_vec_hits
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    la t0, strap_frame
    ld t1, TF_SAVE1(t0)
    csrrw t0, sscratch, t0
    sret

/* ---- M handler: interrupts are logged in m_irq and silenced at their
 * source; exceptions go on to the common handler ---- */
    .balign 4
m_irq_entry:
    csrrw t0, mscratch, t0
    sd t1, TF_SAVE1(t0)
    li t1, -1                      /* direct: no vector */
m_irq_common:                      /* t0 = trap_frame, t1 = vector, t1 saved */
    sd t2, TF_SAVE2(t0)
    csrr t2, mcause
    bltz t2, 1f
    ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, mscratch, t0
    j mtrap_entry
1:  la t0, m_irq
    sd t1, R_VECTOR(t0)
    sd t2, R_CAUSE(t0)
    ld t1, R_COUNT(t0)
    andi t1, t1, 7
    slli t1, t1, 3
    add t1, t1, t0
    sd t2, R_LOG(t1)
    ld t1, R_COUNT(t0)
    addi t1, t1, 1
    sd t1, R_COUNT(t0)
    csrr t1, mepc
    sd t1, R_EPC(t0)
    csrr t1, mstatus
    sd t1, R_STATUS(t0)
    slli t2, t2, 1
    srli t2, t2, 1
    li t1, 7
    bne t2, t1, 2f
    li t0, CLINT_MTIMECMP(0)       /* MTI: timer off */
    li t1, -1
    sd t1, 0(t0)
    j 9f
2:  li t1, 3
    bne t2, t1, 3f
    li t0, CLINT_MSIP(0)           /* MSI: clear msip */
    sw zero, 0(t0)
    j 9f
3:  li t1, 11
    bne t2, t1, 4f
    li t0, PLIC_CLAIM(0)           /* MEI: claim, silence the UART, complete */
    lw t1, 0(t0)
    la t2, m_irq
    sd t1, R_CLAIM(t2)
    li t2, UART_BASE
    sb zero, 1(t2)                 /* IER = 0 */
    sw t1, 0(t0)
    j 9f
4:  j fail                         /* nothing else is expected in M */
9:  la t0, trap_frame
    ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, mscratch, t0
    mret

#define VEC_STUB(k) \
vec_stub_##k: \
    csrrw t0, mscratch, t0; \
    sd t1, TF_SAVE1(t0); \
    li t1, k; \
    j m_irq_common

    VEC_STUB(1)
    VEC_STUB(3)
    VEC_STUB(5)
    VEC_STUB(7)
    VEC_STUB(9)
    VEC_STUB(11)

    .balign 256
    .option push
    .option norvc
vec_table:
    j mtrap_entry                  /* 0: exceptions */
    j vec_stub_1
    j fail
    j vec_stub_3
    j fail
    j vec_stub_5
    j fail
    j vec_stub_7
    j fail
    j vec_stub_9
    j fail
    j vec_stub_11
    .option pop

/* ---- S handler: S interrupts are logged in s_irq and silenced (SSIP
 * cleared; STIP: stimecmp moved under Sstc, else STIE masked) ---- */
    .balign 4
s_irq_entry:
    csrrw t0, sscratch, t0
    sd t1, TF_SAVE1(t0)
    sd t2, TF_SAVE2(t0)
    csrr t2, scause
    bltz t2, 1f
    ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, sscratch, t0
    j strap_entry
1:  la t0, s_irq
    sd t2, R_CAUSE(t0)
    ld t1, R_COUNT(t0)
    addi t1, t1, 1
    sd t1, R_COUNT(t0)
    csrr t1, sepc
    sd t1, R_EPC(t0)
    csrr t1, sstatus
    sd t1, R_STATUS(t0)
    slli t2, t2, 1
    srli t2, t2, 1
    li t1, 1
    bne t2, t1, 2f
    csrci sip, MIP_SSIP
    j 9f
2:  li t1, 5
    bne t2, t1, 3f
    la t0, sstc_mode
    ld t0, 0(t0)
    beqz t0, 4f
    li t1, -1
    csrw stimecmp, t1
    j 9f
4:  li t1, MIP_STIP
    csrc sie, t1
    j 9f
3:  li t1, 9
    bne t2, t1, 5f
    li t0, PLIC_CLAIM(1)           /* SEI: claim, silence the UART, complete */
    lw t1, 0(t0)
    la t2, s_irq
    sd t1, R_CLAIM(t2)
    li t2, UART_BASE
    sb zero, 1(t2)
    sw t1, 0(t0)
    j 9f
5:  j fail
9:  la t0, strap_frame
    ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, sscratch, t0
    sret

    .data
    .balign 64
m_irq:
    .zero 128
s_irq:
    .zero 128
sstc_mode:
    .dword 0
s_vec_hits:
    .dword 0

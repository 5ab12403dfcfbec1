/* Privileged architecture: machine information CSRs, misa, traps (ECALL
 * from M/S/U, EBREAK, illegal instructions with mtval = the instruction,
 * missing CSRs, privilege violations), delegation to S through medeleg
 * with scause/sepc/stval/sstatus.SPP, MRET/SRET privilege transitions and
 * the xPIE/xIE/xPP updates, TSR/TVM/TW, counters and their enables, the
 * sstatus/sie views, satp WARL (an unsupported mode leaves it unchanged),
 * and mstatus.MPRV with MPP = U/S loading through an Sv39 page table. */
#include "common.h"

#define MISA_EXT ((1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20))

/* Clear mstatus bits in mask, then set bits */
#define MSTATUS_SET(mask, bits) \
    li t0, mask; csrc mstatus, t0; li t0, bits; csrs mstatus, t0

    .text
    .globl test_main
test_main:
    /* ---- machine information ---- */
    li gp, 1
    csrr a0, mhartid
    CHECK(a0, 0)
    li gp, 2
    csrr a0, misa
    srli a1, a0, 62
    CHECK(a1, 2)                          /* MXL = 64 */
    li t0, MISA_EXT
    and a1, a0, t0
    CHECK(a1, MISA_EXT)                   /* I M A F D C S U */
    li t0, (1 << 26) - 1
    and a1, a0, t0
    CHECK(a1, MISA_EXT)                   /* and no other extension bit */
    li gp, 3                              /* readable (any value) */
    csrr a0, mvendorid
    csrr a0, marchid
    csrr a0, mimpid
    csrr a0, 0xf15                        /* mconfigptr */
    li gp, 4                              /* misa writes are ignored (fixed) */
    csrr a0, misa
    csrw misa, zero
    csrr a1, misa
    CHECK_REG(a0, a1)

    /* ---- scratch registers and WARL fields ---- */
    li gp, 5
    csrr s0, mscratch
    li a1, 0x123456789abcdef0
    csrw mscratch, a1
    csrr a0, mscratch
    csrw mscratch, s0
    CHECK(a0, 0x123456789abcdef0)
    li gp, 6
    csrr s0, sscratch
    csrw sscratch, a1
    csrr a0, sscratch
    csrw sscratch, s0
    CHECK(a0, 0x123456789abcdef0)
    li gp, 7
    li a1, 0x80000003
    csrw mepc, a1
    CHECK_CSR(mepc, 0x80000002)           /* bit 0 always zero */
    csrw sepc, a1
    CHECK_CSR(sepc, 0x80000002)
    li gp, 8
    csrr s0, mtvec
    la a1, vec_table + 1                  /* vectored mode */
    csrw mtvec, a1
    csrr a0, mtvec
    csrw mtvec, s0
    CHECK_REG(a0, a1)
    li gp, 9
    li a1, -1
    csrw medeleg, a1
    csrr a0, medeleg
    csrw medeleg, zero
    srli a0, a0, 11
    andi a0, a0, 1
    CHECK(a0, 0)                          /* ECALL from M is never delegated */
    li gp, 10
    csrw mideleg, a1
    csrr a0, mideleg
    csrw mideleg, zero
    li t0, MIP_MSIP | MIP_MTIP | MIP_MEIP
    and a0, a0, t0
    CHECK(a0, 0)                          /* M interrupts are never delegated */

    /* ---- synchronous exceptions in M ---- */
    TEST_TRAP(11, CAUSE_ECALL_M, 1: ecall)
    CHECK_TRAP_ADDR(TF_EPC, 1b)
    CHECK_TRAP(TF_TVAL, 0)
    CHECK_TRAP_STATUS(MSTATUS_MPP, MSTATUS_MPP_M)
    TEST_TRAP(12, CAUSE_BREAKPOINT, 1: ebreak)
    CHECK_TRAP_ADDR(TF_EPC, 1b)
    li gp, 13                             /* an undefined opcode */
    EXPECT_TRAP_SKIP
1:  .word 0x1234500b
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    CHECK_TRAP_ADDR(TF_EPC, 1b)
    CHECK_TRAP(TF_TVAL, 0x1234500b)
    /* the skip handler went on after the instruction: count traps */
    li gp, 14
    la t0, trap_frame
    ld s0, TF_COUNT(t0)
    EXPECT_TRAP_SKIP
    .word 0x0000707f                      /* a reserved long encoding */
    EXPECT_TRAP_SKIP
    .word 0xffffffff
    la t0, trap_frame
    ld a0, TF_COUNT(t0)
    sub a0, a0, s0
    CHECK(a0, 2)

/* illegal CSR access: mcause 2, mtval = the instruction's bits */
#define TEST_CSR_ILLEGAL(n, ...) \
    li gp, n; \
    EXPECT_TRAP(88804f); \
88805: \
    __VA_ARGS__; \
    j fail; \
88804: \
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL); \
    CHECK_TRAP_ADDR(TF_EPC, 88805b); \
    la t0, 88805b; \
    lwu t0, 0(t0); \
    la t5, trap_frame; \
    ld t5, TF_TVAL(t5); \
    CHECK_REG(t5, t0)

    TEST_CSR_ILLEGAL(15, csrw mhartid, a0)          /* read-only */
    TEST_CSR_ILLEGAL(16, csrrwi a0, mvendorid, 0)
    TEST_CSR_ILLEGAL(17, csrrs a0, mimpid, a1)      /* set with rs1 != x0 writes */
    TEST_CSR_ILLEGAL(18, csrr a0, 0x7c0)            /* not implemented */
    TEST_CSR_ILLEGAL(19, csrw 0x5c0, a0)
    TEST_CSR_ILLEGAL(20, csrr a0, 0x3a1)            /* pmpcfg1 does not exist on RV64 */
    TEST_CSR_ILLEGAL(21, csrrci zero, 0xc00, 1)     /* cycle is read-only */
    li gp, 22                                       /* reading read-only CSRs is fine */
    csrrs a0, mhartid, zero
    csrrsi a0, mhartid, 0
    csrrc a0, mvendorid, zero

    /* ---- ECALL from S and U ---- */
    li gp, 23
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_TRAP_ADDR(TF_EPC, 2b)
    CHECK_TRAP_STATUS(MSTATUS_MPP, MSTATUS_MPP_S)
    li gp, 24
    EXPECT_TRAP(1f)
    ENTER_U(2f)
2:  ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_TRAP_ADDR(TF_EPC, 2b)
    CHECK_TRAP_STATUS(MSTATUS_MPP, 0)

    /* ---- privilege violations ---- */
#define TEST_IN_MODE_TRAPS(n, enter, cause, mpp, ...) \
    li gp, n; \
    EXPECT_TRAP(88806f); \
    enter(88807f); \
88807: \
    __VA_ARGS__; \
    j fail; \
88806: \
    CHECK_TRAP(TF_CAUSE, cause); \
    CHECK_TRAP_ADDR(TF_EPC, 88807b); \
    CHECK_TRAP_STATUS(MSTATUS_MPP, mpp)
/* the instructions run in the mode without trapping (then ecall back) */
#define TEST_IN_MODE_OK(n, enter, cause, ...) \
    li gp, n; \
    EXPECT_TRAP(88808f); \
    enter(88809f); \
88809: \
    __VA_ARGS__; \
    ecall; \
    j fail; \
88808: \
    CHECK_TRAP(TF_CAUSE, cause)

    TEST_IN_MODE_TRAPS(25, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, csrr a0, mstatus)
    TEST_IN_MODE_TRAPS(26, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, csrw mscratch, a0)
    TEST_IN_MODE_TRAPS(27, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, csrr a0, mhartid)
    TEST_IN_MODE_TRAPS(28, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, mret)
    TEST_IN_MODE_TRAPS(29, ENTER_U, CAUSE_ILLEGAL, 0, csrr a0, sstatus)
    TEST_IN_MODE_TRAPS(30, ENTER_U, CAUSE_ILLEGAL, 0, sret)
    TEST_IN_MODE_TRAPS(31, ENTER_U, CAUSE_ILLEGAL, 0, mret)
    TEST_IN_MODE_TRAPS(32, ENTER_U, CAUSE_ILLEGAL, 0, sfence.vma)
    TEST_IN_MODE_TRAPS(33, ENTER_U, CAUSE_ILLEGAL, 0, csrr a0, satp)
    /* TSR, TVM, TW */
    MSTATUS_SET(MSTATUS_TSR, MSTATUS_TSR)
    TEST_IN_MODE_TRAPS(34, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, sret)
    MSTATUS_SET(MSTATUS_TSR | MSTATUS_TVM, MSTATUS_TVM)
    TEST_IN_MODE_TRAPS(35, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, csrr a0, satp)
    TEST_IN_MODE_TRAPS(36, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, sfence.vma)
    MSTATUS_SET(MSTATUS_TVM | MSTATUS_TW, MSTATUS_TW)
    TEST_IN_MODE_TRAPS(37, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, wfi)
    MSTATUS_SET(MSTATUS_TW, 0)
    /* and without them S may use them (then ecall back) */
    TEST_IN_MODE_OK(38, ENTER_S, CAUSE_ECALL_S, csrr a0, satp; sfence.vma; csrr a0, sstatus)

    /* ---- delegation of exceptions to S ---- */
    li gp, 39
    la t0, strap_entry
    csrw stvec, t0
    li t0, (1 << CAUSE_ECALL_U)
    csrw medeleg, t0
    la t0, trap_frame
    ld s0, TF_COUNT(t0)
    EXPECT_STRAP(2f)                      /* U ecall -> S handler -> S at 2f */
    EXPECT_TRAP(3f)                       /* S ecall (not delegated) -> M at 3f */
    ENTER_U(1f)
1:  ecall
    j fail
2:  ecall                                  /* now in S */
    j fail
3:  CHECK_STRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_STRAP_ADDR(TF_EPC, 1b)
    CHECK_STRAP(TF_TVAL, 0)
    CHECK_STRAP_STATUS(MSTATUS_SPP, 0)   /* came from U */
    CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_TRAP_ADDR(TF_EPC, 2b)
    la t0, trap_frame
    ld a0, TF_COUNT(t0)
    sub a0, a0, s0
    CHECK(a0, 1)                          /* M saw only the second ecall */
    /* from S to S: SPP = S */
    li gp, 40
    li t0, (1 << CAUSE_ECALL_S) | (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    EXPECT_STRAP_SKIP
    ENTER_S(1f)
1:  ecall                                  /* -> S handler, skipped */
    CHECK_STRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_STRAP_ADDR(TF_EPC, 1b)
    CHECK_STRAP_STATUS(MSTATUS_SPP, MSTATUS_SPP)
    li gp, 41
    EXPECT_STRAP_SKIP
1:  .word 0x1234500b                      /* illegal, delegated: stval = bits */
    CHECK_STRAP(TF_CAUSE, CAUSE_ILLEGAL)
    CHECK_STRAP(TF_TVAL, 0x1234500b)
    CHECK_STRAP_ADDR(TF_EPC, 1b)
    li gp, 42
    EXPECT_STRAP_SKIP
1:  ebreak
    CHECK_STRAP(TF_CAUSE, CAUSE_BREAKPOINT)
    CHECK_STRAP_ADDR(TF_EPC, 1b)
    /* SIE -> SPIE on the trap, SPIE -> SIE on sret */
    li gp, 43
    csrsi sstatus, MSTATUS_SIE            /* sie = 0: nothing can interrupt */
    EXPECT_STRAP_SKIP
    ecall
    CHECK_STRAP_STATUS(MSTATUS_SIE | MSTATUS_SPIE, MSTATUS_SPIE)
    csrr a0, sstatus
    andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    CHECK(a0, MSTATUS_SIE | MSTATUS_SPIE)  /* after sret: SIE = SPIE, SPIE = 1, SPP = U */
    csrci sstatus, MSTATUS_SIE
    /* back to M through a trap that is not delegated: a load from a
     * hole in the physical address space (access fault, mtval = address) */
    EXPECT_TRAP(1f)
    li a1, 0x1008
    ld a0, 0(a1)
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_LOAD_ACCESS)
    CHECK_TRAP(TF_TVAL, 0x1008)
    CHECK_TRAP_STATUS(MSTATUS_MPP, MSTATUS_MPP_S)
    /* traps in M are never delegated */
    li gp, 44
    li t0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_ECALL_S)
    csrw medeleg, t0
    TEST_TRAP(44, CAUSE_ILLEGAL, .word 0x1234500b)        /* in M: to M */
    csrw medeleg, zero

    /* ---- MRET / SRET transitions ---- */
    /* mret: MIE <- MPIE, MPIE <- 1, MPP <- U */
    li gp, 45
    MSTATUS_SET(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP_M)
    la t0, 1f
    csrw mepc, t0
    mret
1:  csrr a0, mstatus
    csrci mstatus, MSTATUS_MIE
    andi a0, a0, MSTATUS_MIE | MSTATUS_MPIE
    CHECK(a0, MSTATUS_MIE | MSTATUS_MPIE)
    csrr a0, mstatus
    li t0, MSTATUS_MPP
    and a0, a0, t0
    CHECK(a0, 0)
    li gp, 46
    MSTATUS_SET(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPP_M)
    la t0, 1f
    csrw mepc, t0
    mret
1:  CHECK_CSR_MASKED(mstatus, MSTATUS_MIE | MSTATUS_MPIE, MSTATUS_MPIE)
    /* mret to S with MPIE = 1: the ecall from S then saves MIE = 1 in MPIE */
    li gp, 47
    MSTATUS_SET(MSTATUS_MIE | MSTATUS_MPIE, MSTATUS_MPIE)
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  ecall
    j fail
1:  CHECK_TRAP_STATUS(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP_S)
    li gp, 48
    MSTATUS_SET(MSTATUS_MIE | MSTATUS_MPIE, 0)
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  ecall
    j fail
1:  CHECK_TRAP_STATUS(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPP_S)
    /* sret from M to U: SIE <- SPIE, SPIE <- 1, SPP <- U */
    li gp, 49
    MSTATUS_SET(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE)
    la t0, 2f
    csrw sepc, t0
    EXPECT_TRAP(1f)
    sret
2:  ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_TRAP_STATUS(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPP, MSTATUS_SIE | MSTATUS_SPIE)
    csrci mstatus, MSTATUS_SIE
    /* sret from M to S */
    li gp, 50
    MSTATUS_SET(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPP)
    la t0, 2f
    csrw sepc, t0
    EXPECT_TRAP(1f)
    sret
2:  ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_S)
    CHECK_TRAP_STATUS(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE)
    /* sret inside S, to U */
    li gp, 51
    EXPECT_TRAP(1f)
    ENTER_S(2f)
2:  li t0, MSTATUS_SPP
    csrc sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret
3:  ecall
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_TRAP_ADDR(TF_EPC, 3b)
    /* an xRET to a lower mode clears MPRV */
    li gp, 52
    MSTATUS_SET(MSTATUS_MPRV, MSTATUS_MPRV)
    EXPECT_TRAP(1f)
    ENTER_U(2f)
2:  ecall
    j fail
1:  CHECK_TRAP_STATUS(MSTATUS_MPRV, 0)
    li gp, 53
    MSTATUS_SET(MSTATUS_MPRV | MSTATUS_SPP, MSTATUS_MPRV | MSTATUS_SPP)
    la t0, 2f
    csrw sepc, t0
    EXPECT_TRAP(1f)
    sret
2:  ecall
    j fail
1:  CHECK_TRAP_STATUS(MSTATUS_MPRV, 0)

    /* ---- sstatus, sie and sip are views ---- */
    li gp, 54
    csrsi sstatus, MSTATUS_SIE
    CHECK_CSR_MASKED(mstatus, MSTATUS_SIE, MSTATUS_SIE)
    csrci mstatus, MSTATUS_SIE
    CHECK_CSR_MASKED(sstatus, MSTATUS_SIE, 0)
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_MPIE, MSTATUS_MPP_M | MSTATUS_MPIE)
    CHECK_CSR_MASKED(sstatus, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, 0)
    li t0, MSTATUS_MPP
    csrs sstatus, t0                      /* M bits cannot be written through sstatus */
    CHECK_CSR_MASKED(mstatus, MSTATUS_MPP, MSTATUS_MPP_M)
    li gp, 55
    csrw mideleg, zero
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mie, t0
    CHECK_CSR(sie, 0)                     /* nothing delegated: sie reads 0 */
    csrw mideleg, t0
    CHECK_CSR(sie, MIP_SSIP | MIP_STIP | MIP_SEIP)
    csrw sie, zero
    CHECK_CSR(mie, 0)
    li t0, -1
    csrw sie, t0
    CHECK_CSR(mie, MIP_SSIP | MIP_STIP | MIP_SEIP)   /* only delegated bits */
    csrw mie, zero
    csrw mideleg, zero

    /* ---- counters ---- */
    li gp, 56
    rdinstret a0
    nop
    nop
    rdinstret a1
    sub a1, a1, a0
    li t0, 3
    bltu a1, t0, fail_near                /* at least the 3 instructions */
    rdcycle a0
    rdtime a0
    li t0, 100000
1:  addi t0, t0, -1                       /* time advances */
    bnez t0, 1b
    rdtime a1
    bgeu a0, a1, fail_near
    li t0, CLINT_MTIME                    /* and is mtime */
    ld a2, 0(t0)
    rdtime a3
    bltu a2, a1, fail_near
    bltu a3, a2, fail_near
    csrw mcounteren, zero
    csrw scounteren, zero
    TEST_IN_MODE_TRAPS(57, ENTER_U, CAUSE_ILLEGAL, 0, rdtime a0)
    TEST_IN_MODE_TRAPS(58, ENTER_S, CAUSE_ILLEGAL, MSTATUS_MPP_S, rdcycle a0)
    li t0, 7
    csrw mcounteren, t0
    TEST_IN_MODE_OK(59, ENTER_S, CAUSE_ECALL_S, rdtime a0; rdcycle a0; rdinstret a0)
    TEST_IN_MODE_TRAPS(60, ENTER_U, CAUSE_ILLEGAL, 0, rdtime a0)          /* scounteren = 0 */
    li t0, 2
    csrw scounteren, t0
    TEST_IN_MODE_OK(61, ENTER_U, CAUSE_ECALL_U, rdtime a0)
    TEST_IN_MODE_TRAPS(62, ENTER_U, CAUSE_ILLEGAL, 0, rdcycle a0)
    csrw mcounteren, zero
    csrw scounteren, zero
    j 1f
fail_near:
    j fail
1:
    /* ---- access faults: nothing at 0x1000, no code in a device ---- */
    li a1, 0x1000
    TEST_TRAP(72, CAUSE_STORE_ACCESS, sw zero, 0(a1))
    CHECK_TRAP(TF_TVAL, 0x1000)
    TEST_TRAP(73, CAUSE_LOAD_ACCESS, lbu a0, 3(a1))
    CHECK_TRAP(TF_TVAL, 0x1003)
    TEST_TRAP(74, CAUSE_STORE_ACCESS, amoadd.w a0, a0, (a1))
    TEST_TRAP(75, CAUSE_FETCH_ACCESS, jalr a1)
    CHECK_TRAP(TF_EPC, 0x1000)
    CHECK_TRAP(TF_TVAL, 0x1000)
    li a1, UART_BASE
    TEST_TRAP(76, CAUSE_FETCH_ACCESS, jalr a1)
    CHECK_TRAP(TF_TVAL, UART_BASE)
    /* XLEN fields: UXL = SXL = 64 */
    li gp, 77
    csrr a0, mstatus
    srli a0, a0, 32
    andi a0, a0, 15
    CHECK(a0, 0xa)
    csrr a0, sstatus
    srli a0, a0, 32
    andi a0, a0, 15
    CHECK(a0, 0x2)                        /* sstatus shows UXL only */

    /* ---- satp ---- */
    li gp, 63
    csrw satp, zero
    li t0, (5 << 60) | 0x12345
    csrw satp, t0                          /* mode 5 is reserved: no change */
    CHECK_CSR(satp, 0)
    la t0, pt_root
    srli t0, t0, 12
    li t1, SATP_SV39
    or s0, t0, t1
    csrw satp, s0
    csrr a0, satp
    CHECK_REG(a0, s0)
    li t0, (5 << 60) | 0x12345
    csrw satp, t0
    csrr a0, satp
    CHECK_REG(a0, s0)                      /* still Sv39 */
    li t0, (15 << 60) | 0x12345
    csrw satp, t0
    csrr a0, satp
    CHECK_REG(a0, s0)
    csrw satp, zero
    CHECK_CSR(satp, 0)

    /* ---- MPRV: M-mode loads and stores translated as MPP ---- */
    /* pt_root: VA 0x40000000 -> RAM as a U page, 0x80000000 -> RAM (U, RWX),
     * 0xc0000000 -> RAM as an S page, 0 -> devices (S) */
    li gp, 64
    csrw satp, s0
    sfence.vma
    la s1, mdata
    li t0, 0x1122334455667788
    sd t0, 0(s1)
    li t0, 0x80000000
    sub s2, s1, t0
    li t0, 0x40000000
    add s2, s2, t0                         /* s2 = U alias of mdata */
    li t0, 0xc0000000 - 0x40000000
    add s3, s2, t0                         /* s3 = S alias of mdata */
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM, MSTATUS_MPRV)   /* MPP = U */
    ld a0, 0(s2)
    CHECK(a0, 0x1122334455667788)
    li gp, 65
    li t0, 0x55
    sb t0, 0(s2)                            /* store through the mapping */
    MSTATUS_SET(MSTATUS_MPRV, 0)
    ld a0, 0(s1)
    CHECK(a0, 0x1122334455667755)
    li gp, 66                               /* U may not touch an S page */
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_MPRV, MSTATUS_MPRV)
    EXPECT_TRAP(1f)
    ld a0, 0(s3)
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    la t5, trap_frame
    ld t5, TF_TVAL(t5)
    CHECK_REG(t5, s3)
    CHECK_TRAP_STATUS(MSTATUS_MPP | MSTATUS_MPRV, MSTATUS_MPP_M | MSTATUS_MPRV)  /* the trap set MPP = M */
    li gp, 67
    MSTATUS_SET(MSTATUS_MPP, 0)            /* MPRV still 1 */
    EXPECT_TRAP(1f)
    sd zero, 0(s3)
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_STORE_PAGE_FAULT)
    /* MPP = S: S pages fine, U pages only with SUM */
    li gp, 68
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM, MSTATUS_MPRV | MSTATUS_MPP_S)
    ld a0, 0(s3)
    CHECK(a0, 0x1122334455667755)
    li gp, 69
    MSTATUS_SET(MSTATUS_MPRV, 0)           /* (trap_frame is on a U page: arm unmapped) */
    EXPECT_TRAP(1f)
    MSTATUS_SET(MSTATUS_MPRV, MSTATUS_MPRV)
    ld a0, 0(s2)
    j fail
1:  CHECK_TRAP(TF_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    li gp, 70
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_SUM, MSTATUS_MPP_S | MSTATUS_SUM)
    ld a0, 0(s2)
    CHECK(a0, 0x1122334455667755)
    /* MPP = M: physical again; and without MPRV M ignores satp */
    li gp, 71
    MSTATUS_SET(MSTATUS_MPP | MSTATUS_SUM, MSTATUS_MPP_M)
    ld a0, 0(s1)
    CHECK(a0, 0x1122334455667755)
    MSTATUS_SET(MSTATUS_MPRV, 0)
    ld a0, 0(s1)
    CHECK(a0, 0x1122334455667755)
    csrw satp, zero
    sfence.vma
    PASS

    .balign 64
vec_table:
    j fail

    .data
    .balign 4096
pt_root:
    .dword PTE_V | PTE_R | PTE_W | PTE_A | PTE_D                                  /* 0x00000000 devices */
    .dword (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D        /* 0x40000000 */
    .dword (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D /* 0x80000000 */
    .dword (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D                /* 0xc0000000 */
    .zero 4096 - 32
mdata:
    .dword 0

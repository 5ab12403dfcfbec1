/* Runtime and checking macros shared by the ISA tests (our own; written for
 * Vireo's bare `virt` board). Include once, at the top of a test; the test
 * then defines `test_main`, entered on hart 0 in M-mode with the default trap
 * handler installed, FP enabled (mstatus.FS = Initial) and a PMP entry that
 * opens all of memory to S and U.
 *
 * Register conventions
 *   gp (x3)   number of the current test case; `fail` exits with it
 *   t5, t6    scratch of the checking macros: test code must not keep
 *             values in them across a macro
 *   sp        a 4 KiB stack of the hart
 *
 * Ending a test: PASS (syscon 0x5555, vireo exits 0) or FAIL / `j fail`
 * (syscon (gp << 16) | 0x3333, vireo exits with gp).
 *
 * Traps: every trap to M goes to mtrap_entry, which records mcause, mepc,
 * mtval and mstatus in trap_frame (TF_* offsets) and then looks at
 * TF_RESUME (cleared on every trap):
 *   0          unexpected trap: print it and fail with the current gp
 *   1          skip the trapping instruction (2 or 4 bytes) and xRET
 *   address    continue there in M-mode (via mret with MPP = M; the rest
 *              of mstatus as the trap left it)
 * strap_entry / strap_frame do the same for traps delegated to S (sret;
 * "address" continues in S-mode). The macros EXPECT_TRAP(label),
 * EXPECT_TRAP_SKIP and the S variants arm them.
 *
 * Harts other than 0 park in a WFI loop, unless the test defines SMP_TEST
 * before including this file and provides `secondary_main`.
 * Numeric local labels 888xx belong to the macros.
 */
#ifndef VIREO_ISA_COMMON_H
#define VIREO_ISA_COMMON_H

/* ---- the board ---- */
#define SYSCON_BASE 0x100000
#define UART_BASE 0x10000000
#define CLINT_BASE 0x2000000
#define CLINT_MSIP(h) (CLINT_BASE + 4 * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000 + 8 * (h))
#define CLINT_MTIME (CLINT_BASE + 0xbff8)
#define PLIC_BASE 0xc000000
#define MAX_HARTS 4
#define STACK_SIZE 4096

/* ---- CSR fields ---- */
#define MSTATUS_SIE (1 << 1)
#define MSTATUS_MIE (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP (1 << 8)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP_M (3 << 11)
#define MSTATUS_FS (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM (1 << 18)
#define MSTATUS_MXR (1 << 19)
#define MSTATUS_TVM (1 << 20)
#define MSTATUS_TW (1 << 21)
#define MSTATUS_TSR (1 << 22)
#define MSTATUS_SD (1 << 63)

#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15
#define CAUSE_IRQ (1 << 63)

#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* PTE bits */
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80

/* trap_frame / strap_frame layout */
#define TF_SAVE1 0
#define TF_SAVE2 8
#define TF_CAUSE 16
#define TF_EPC 24
#define TF_TVAL 32
#define TF_STATUS 40
#define TF_COUNT 48
#define TF_RESUME 56
#define TF_SIZE 64

/* ---- checking ---- */
/* Run the instructions given after `expected`, then fail with code n
 * unless register reg holds expected (any 64-bit constant). */
#define TEST_CASE(n, reg, expected, ...) \
    li gp, n; \
    __VA_ARGS__; \
    CHECK(reg, expected)

/* Fail with the current test number unless reg == expected. */
#define CHECK(reg, expected) \
    li t6, expected; \
    beq reg, t6, 88801f; \
    j fail; \
88801:

/* The same for a register pair (no constant involved). */
#define CHECK_REG(reg, other) \
    beq reg, other, 88802f; \
    j fail; \
88802:

/* Compare the raw bits of an FP register. */
#define CHECK_FREG(freg, expected) \
    fmv.x.d t5, freg; \
    CHECK(t5, expected)

/* Compare fflags (and clear them). */
#define CHECK_FFLAGS(expected) \
    csrrw t5, fflags, zero; \
    CHECK(t5, expected)

/* Compare a CSR. */
#define CHECK_CSR(csr, expected) \
    csrr t5, csr; \
    CHECK(t5, expected)

/* Compare (CSR & mask). */
#define CHECK_CSR_MASKED(csr, mask, expected) \
    csrr t5, csr; \
    li t6, mask; \
    and t5, t5, t6; \
    CHECK(t5, expected)

/* Compare a field of trap_frame (M) or strap_frame (S). */
#define CHECK_TRAP(field, expected) \
    la t5, trap_frame; \
    ld t5, field(t5); \
    CHECK(t5, expected)
#define CHECK_STRAP(field, expected) \
    la t5, strap_frame; \
    ld t5, field(t5); \
    CHECK(t5, expected)
/* Trap field == address of a label. */
#define CHECK_TRAP_ADDR(field, label) \
    la t5, trap_frame; \
    ld t5, field(t5); \
    la t6, label; \
    CHECK_REG(t5, t6)
#define CHECK_STRAP_ADDR(field, label) \
    la t5, strap_frame; \
    ld t5, field(t5); \
    la t6, label; \
    CHECK_REG(t5, t6)
/* (mstatus at the trap & mask) == expected */
#define CHECK_TRAP_STATUS(mask, expected) \
    la t5, trap_frame; \
    ld t5, TF_STATUS(t5); \
    li t6, mask; \
    and t5, t5, t6; \
    CHECK(t5, expected)
#define CHECK_STRAP_STATUS(mask, expected) \
    la t5, strap_frame; \
    ld t5, TF_STATUS(t5); \
    li t6, mask; \
    and t5, t5, t6; \
    CHECK(t5, expected)

/* ---- expecting traps ---- */
#define EXPECT_TRAP(label) \
    la t5, label; \
    la t6, trap_frame; \
    sd t5, TF_RESUME(t6)
#define EXPECT_TRAP_SKIP \
    li t5, 1; \
    la t6, trap_frame; \
    sd t5, TF_RESUME(t6)
#define EXPECT_STRAP(label) \
    la t5, label; \
    la t6, strap_frame; \
    sd t5, TF_RESUME(t6)
#define EXPECT_STRAP_SKIP \
    li t5, 1; \
    la t6, strap_frame; \
    sd t5, TF_RESUME(t6)
/* Fail unless the instruction(s) trap with the given mcause, and resume
 * after them. */
#define TEST_TRAP(n, cause, ...) \
    li gp, n; \
    EXPECT_TRAP(88803f); \
    __VA_ARGS__; \
    j fail; \
88803: \
    CHECK_TRAP(TF_CAUSE, cause)

/* ---- privilege changes (from M) ---- */
/* Continue at label in mode mpp (MSTATUS_MPP field value) via mret. */
#define MRET_TO(mpp_bits, label) \
    li t5, MSTATUS_MPP; \
    csrc mstatus, t5; \
    li t5, mpp_bits; \
    csrs mstatus, t5; \
    la t5, label; \
    csrw mepc, t5; \
    mret
#define ENTER_S(label) MRET_TO(MSTATUS_MPP_S, label)
#define ENTER_U(label) MRET_TO(0, label)

/* ---- ending ---- */
#define PASS j pass
#define FAIL j fail

/* ---- the runtime: entry, traps, exits, printing ---- */
    .option nopic               /* la = pc-relative address, never the GOT */
    .option norelax             /* code stays where it was assembled (page layouts) */
    .section .text.init, "ax"
    .option push
    .option norvc
    .globl _start
_start:
    /* a0 = hartid, a1 = FDT */
    csrr t0, mhartid
    li t1, MAX_HARTS
    bgeu t0, t1, park
    la sp, stacks
    addi t1, t0, 1
    slli t1, t1, 12
    add sp, sp, t1
    /* S and U may access everything (no PMP entry would deny them all) */
    li t1, -1
    csrw pmpaddr0, t1
    li t1, 0x1f /* NAPOT, RWX */
    csrw pmpcfg0, t1
    la t1, mtrap_entry
    csrw mtvec, t1
    la t1, trap_frame
    csrw mscratch, t1
    la t1, strap_frame
    csrw sscratch, t1
    li t1, MSTATUS_FS_INITIAL
    csrs mstatus, t1
    csrwi fcsr, 0
    li gp, 0
    bnez t0, secondary
    j test_main
secondary:
#ifdef SMP_TEST
    j secondary_main
#endif
park:
    wfi
    j park

/* ---- exits ---- */
    .globl pass
pass:
    la a0, msg_pass
    call puts
    li t5, SYSCON_BASE
    li t6, 0x5555
    sw t6, 0(t5)
1:  j 1b

    .globl fail
fail:
    la a0, msg_fail
    call puts
    mv a0, gp
    call putdec
    li a0, '\n'
    call putc
    andi gp, gp, 0xff
    bnez gp, 1f
    li gp, 0xff
1:  slli t5, gp, 16
    li t6, 0x3333
    or t6, t6, t5
    li t5, SYSCON_BASE
    sw t6, 0(t5)
1:  j 1b

/* ---- printing (clobber a0, t0-t2) ---- */
    .globl putc
putc:
    li t0, UART_BASE
1:  lbu t1, 5(t0)       /* LSR: wait for THR empty */
    andi t1, t1, 0x20
    beqz t1, 1b
    sb a0, 0(t0)
    ret

    .globl puts
puts:
    addi sp, sp, -16
    sd ra, 0(sp)
    sd s0, 8(sp)
    mv s0, a0
1:  lbu a0, 0(s0)
    beqz a0, 2f
    call putc
    addi s0, s0, 1
    j 1b
2:  ld ra, 0(sp)
    ld s0, 8(sp)
    addi sp, sp, 16
    ret

    .globl puthex
puthex:
    addi sp, sp, -32
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    mv s0, a0
    li s1, 60
    li a0, '0'
    call putc
    li a0, 'x'
    call putc
1:  srl a0, s0, s1
    andi a0, a0, 15
    addi a0, a0, '0'
    li t0, '9'
    ble a0, t0, 2f
    addi a0, a0, 'a' - '0' - 10
2:  call putc
    addi s1, s1, -4
    bgez s1, 1b
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    addi sp, sp, 32
    ret

    .globl putdec
putdec:                 /* a0 < 1000 */
    addi sp, sp, -16
    sd ra, 0(sp)
    sd s0, 8(sp)
    mv s0, a0
    li t0, 100
    blt s0, t0, 1f
    divu a0, s0, t0
    addi a0, a0, '0'
    call putc
    li t0, 100
    remu s0, s0, t0
    li t0, 10
    divu a0, s0, t0
    addi a0, a0, '0'
    call putc
    j 2f
1:  li t0, 10
    blt s0, t0, 3f
    divu a0, s0, t0
    addi a0, a0, '0'
    call putc
2:  li t0, 10
    remu s0, s0, t0
3:  addi a0, s0, '0'
    call putc
    ld ra, 0(sp)
    ld s0, 8(sp)
    addi sp, sp, 16
    ret

/* ---- trap handlers ---- */
    .balign 4
    .globl mtrap_entry
mtrap_entry:
    csrrw t0, mscratch, t0      /* t0 = frame, mscratch = guest t0 */
    sd t1, TF_SAVE1(t0)
    sd t2, TF_SAVE2(t0)
    csrr t1, mcause
    sd t1, TF_CAUSE(t0)
    csrr t1, mepc
    sd t1, TF_EPC(t0)
    csrr t1, mtval
    sd t1, TF_TVAL(t0)
    csrr t1, mstatus
    sd t1, TF_STATUS(t0)
    ld t1, TF_COUNT(t0)
    addi t1, t1, 1
    sd t1, TF_COUNT(t0)
    ld t1, TF_RESUME(t0)
    sd zero, TF_RESUME(t0)
    beqz t1, unexpected_mtrap
    li t2, 1
    beq t1, t2, 1f
    /* resume at t1 in M-mode */
    csrw mepc, t1
    li t1, MSTATUS_MPP
    csrs mstatus, t1
    j 2f
1:  /* skip the trapping instruction */
    csrr t1, mepc
    lhu t2, 0(t1)
    andi t2, t2, 3
    addi t1, t1, 2
    li t0, 3
    bne t2, t0, 3f
    addi t1, t1, 2
3:  csrw mepc, t1
    la t0, trap_frame
2:  ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, mscratch, t0
    mret

unexpected_mtrap:
    la a0, msg_trap
    call puts
    la t0, trap_frame
    ld a0, TF_CAUSE(t0)
    call puthex
    la a0, msg_epc
    call puts
    la t0, trap_frame
    ld a0, TF_EPC(t0)
    call puthex
    la a0, msg_tval
    call puts
    la t0, trap_frame
    ld a0, TF_TVAL(t0)
    call puthex
    li a0, '\n'
    call putc
    j fail

    .balign 4
    .globl strap_entry
strap_entry:
    csrrw t0, sscratch, t0
    sd t1, TF_SAVE1(t0)
    sd t2, TF_SAVE2(t0)
    csrr t1, scause
    sd t1, TF_CAUSE(t0)
    csrr t1, sepc
    sd t1, TF_EPC(t0)
    csrr t1, stval
    sd t1, TF_TVAL(t0)
    csrr t1, sstatus
    sd t1, TF_STATUS(t0)
    ld t1, TF_COUNT(t0)
    addi t1, t1, 1
    sd t1, TF_COUNT(t0)
    ld t1, TF_RESUME(t0)
    sd zero, TF_RESUME(t0)
    beqz t1, unexpected_strap
    li t2, 1
    beq t1, t2, 1f
    csrw sepc, t1
    li t1, MSTATUS_SPP
    csrs sstatus, t1
    j 2f
1:  csrr t1, sepc
    lhu t2, 0(t1)
    andi t2, t2, 3
    addi t1, t1, 2
    li t0, 3
    bne t2, t0, 3f
    addi t1, t1, 2
3:  csrw sepc, t1
    la t0, strap_frame
2:  ld t1, TF_SAVE1(t0)
    ld t2, TF_SAVE2(t0)
    csrrw t0, sscratch, t0
    sret

unexpected_strap:
    la a0, msg_strap
    call puts
    la t0, strap_frame
    ld a0, TF_CAUSE(t0)
    call puthex
    la a0, msg_epc
    call puts
    la t0, strap_frame
    ld a0, TF_EPC(t0)
    call puthex
    la a0, msg_tval
    call puts
    la t0, strap_frame
    ld a0, TF_TVAL(t0)
    call puthex
    li a0, '\n'
    call putc
    j fail
    .option pop

    .section .data.common, "aw"
    .balign 64
    .globl trap_frame
trap_frame:
    .zero TF_SIZE
    .globl strap_frame
strap_frame:
    .zero TF_SIZE
msg_pass:
    .asciz "PASS\n"
msg_fail:
    .asciz "FAIL: test case "
msg_trap:
    .asciz "unexpected trap to M: mcause="
msg_strap:
    .asciz "unexpected trap to S: scause="
msg_epc:
    .asciz " epc="
msg_tval:
    .asciz " tval="

    .section .bss.stacks, "aw", @nobits
    .balign 4096
    .globl stacks
stacks:
    .zero STACK_SIZE * MAX_HARTS

    .text
#endif

/* RV64A: LR/SC (success, failure without a reservation or on another
 * address, the reservation is used up by an SC), every AMO in W and D
 * width with the old value sign-extended into rd and the neighbouring word
 * untouched, aq/rl encodings, and misaligned addresses trapping (AMO/SC:
 * store address misaligned, 6; LR: load address misaligned, 4; mtval =
 * the address). */
#include "common.h"

/* mem word = init, neighbour = sentinel; op a0, src, (s0); check a0 (old,
 * sign-extended), the new word (read with lw: sign-extended) and the
 * neighbour. */
#define AMO_W(n, op, init, src, old_sx, new_sx) \
    li gp, n; \
    la s0, buf; \
    li t0, init; \
    sw t0, 0(s0); \
    li t0, 0x5a5a5a5a; \
    sw t0, 4(s0); \
    li a2, src; \
    op a0, a2, (s0); \
    CHECK(a0, old_sx); \
    lw a1, 0(s0); \
    CHECK(a1, new_sx); \
    lwu a1, 4(s0); \
    CHECK(a1, 0x5a5a5a5a)

#define AMO_D(n, op, init, src, newval) \
    li gp, n; \
    la s0, buf; \
    li t0, init; \
    sd t0, 0(s0); \
    li a2, src; \
    op a0, a2, (s0); \
    CHECK(a0, init); \
    ld a1, 0(s0); \
    CHECK(a1, newval)

    .text
    .globl test_main
test_main:
    AMO_W(1, amoswap.w, 0x80000000, 0x0000000012345678, 0xffffffff80000000, 0x0000000012345678)
    AMO_W(2, amoswap.w, 0x7fffffff, 0xfffffffffedcba98, 0x000000007fffffff, 0xfffffffffedcba98)
    AMO_W(3, amoadd.w, 0x7fffffff, 0x0000000000000001, 0x000000007fffffff, 0xffffffff80000000)
    AMO_W(4, amoadd.w, 0xffffffff, 0x0000000100000001, 0xffffffffffffffff, 0x0000000000000000)
    AMO_W(5, amoxor.w, 0x80ff00ff, 0xffffffff0f0f0f0f, 0xffffffff80ff00ff, 0xffffffff8ff00ff0)
    AMO_W(6, amoand.w, 0xf0f0f0f0, 0x000000000ff00ff0, 0xfffffffff0f0f0f0, 0x0000000000f000f0)
    AMO_W(7, amoor.w, 0x80000000, 0x0000000000000001, 0xffffffff80000000, 0xffffffff80000001)
    AMO_W(8, amomin.w, 0x80000000, 0x000000007fffffff, 0xffffffff80000000, 0xffffffff80000000)
    AMO_W(9, amomin.w, 0x00000005, 0x00000000ffffffff, 0x0000000000000005, 0xffffffffffffffff)
    AMO_W(10, amomax.w, 0x80000000, 0x000000007fffffff, 0xffffffff80000000, 0x000000007fffffff)
    AMO_W(11, amomax.w, 0xfffffffe, 0x00000000ffffffff, 0xfffffffffffffffe, 0xffffffffffffffff)
    AMO_W(12, amominu.w, 0x80000000, 0x000000007fffffff, 0xffffffff80000000, 0x000000007fffffff)
    AMO_W(13, amominu.w, 0x00000001, 0xffffffff00000000, 0x0000000000000001, 0x0000000000000000)
    AMO_W(14, amomaxu.w, 0x80000000, 0x000000007fffffff, 0xffffffff80000000, 0xffffffff80000000)
    AMO_W(15, amomaxu.w, 0x7fffffff, 0x0000000100000000, 0x000000007fffffff, 0x000000007fffffff)
    AMO_D(40, amoswap.d, 0x8000000000000000, 0x123456789abcdef0, 0x123456789abcdef0)
    AMO_D(41, amoadd.d, 0xffffffffffffffff, 0x0000000000000002, 0x0000000000000001)
    AMO_D(42, amoadd.d, 0x00000000ffffffff, 0x0000000000000001, 0x0000000100000000)
    AMO_D(43, amoxor.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0)
    AMO_D(44, amoand.d, 0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0xf000f000f000f000)
    AMO_D(45, amoor.d, 0x8000000000000000, 0x0000000000000001, 0x8000000000000001)
    AMO_D(46, amomin.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000)
    AMO_D(47, amomin.d, 0x0000000000000005, 0xffffffffffffffff, 0xffffffffffffffff)
    AMO_D(48, amomax.d, 0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff)
    AMO_D(49, amomax.d, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff)
    AMO_D(50, amominu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff)
    AMO_D(51, amomaxu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000)
    AMO_D(52, amomaxu.d, 0x0000000000000001, 0x0000000000000000, 0x0000000000000001)

    /* aq/rl variants decode and work; rd = x0; rd == rs2 */
    AMO_W(70, amoadd.w.aq, 0x00000010, 0x0000000000000001, 0x0000000000000010, 0x0000000000000011)
    AMO_W(71, amoadd.w.rl, 0x00000010, 0x0000000000000002, 0x0000000000000010, 0x0000000000000012)
    AMO_D(72, amoor.d.aqrl, 0x0000000100000000, 0x0000000000000001, 0x0000000100000001)
    li gp, 73
    la s0, buf
    li t0, 40
    sd t0, 0(s0)
    li a2, 2
    amoadd.d zero, a2, (s0)
    ld a1, 0(s0)
    CHECK(a1, 42)
    li gp, 74
    li a2, 7
    amoswap.d a2, a2, (s0)      /* rd == rs2: old value in, 7 out */
    CHECK(a2, 42)
    ld a1, 0(s0)
    CHECK(a1, 7)

    /* ---- LR/SC ---- */
    la s0, buf
    li t0, 0x5a5a5a5a80000001
    sd t0, 0(s0)
    TEST_CASE(80, a0, 0xffffffff80000001, lr.w a0, (s0))
    li a2, 0x1234567800000002
    TEST_CASE(81, a1, 0, sc.w a1, a2, (s0))
    TEST_CASE(82, a0, 0x5a5a5a5a00000002, ld a0, 0(s0))        /* only the word was written */
    li a2, 3
    TEST_CASE(83, a1, 1, sc.w a1, a2, (s0); snez a1, a1)       /* reservation used up */
    TEST_CASE(84, a0, 0x5a5a5a5a00000002, ld a0, 0(s0))
    li t0, 0x8000000000000005
    sd t0, 0(s0)
    TEST_CASE(85, a0, 0x8000000000000005, lr.d a0, (s0))
    li a2, 0x0123456789abcdef
    TEST_CASE(86, a1, 0, sc.d a1, a2, (s0))
    TEST_CASE(87, a0, 0x0123456789abcdef, ld a0, 0(s0))
    TEST_CASE(88, a1, 1, sc.d a1, zero, (s0); snez a1, a1)
    TEST_CASE(89, a0, 0x0123456789abcdef, ld a0, 0(s0))
    /* SC to an address outside the reservation fails and writes nothing */
    li gp, 90
    addi s1, s0, 256
    li t0, 0x1111
    sd t0, 0(s1)
    lr.d a0, (s0)
    li a2, 0x2222
    sc.d a1, a2, (s1)
    snez a1, a1
    CHECK(a1, 1)
    ld a0, 0(s1)
    CHECK(a0, 0x1111)
    li gp, 91
    lr.w a0, (s0)
    sc.w a1, a2, (s1)
    snez a1, a1
    CHECK(a1, 1)
    ld a0, 0(s1)
    CHECK(a0, 0x1111)
    /* the usual retry loop: 100 increments */
    li gp, 92
    sd zero, 0(s0)
    li s2, 100
1:  lr.d.aq a0, (s0)
    addi a0, a0, 1
    sc.d.rl a1, a0, (s0)
    bnez a1, 1b
    addi s2, s2, -1
    bnez s2, 1b
    ld a0, 0(s0)
    CHECK(a0, 100)
    li gp, 93
    sw zero, 0(s0)
    li s2, 100
1:  lr.w a0, (s0)
    addi a0, a0, -1
    sc.w a1, a0, (s0)
    bnez a1, 1b
    addi s2, s2, -1
    bnez s2, 1b
    lw a0, 0(s0)
    CHECK(a0, -100)

    /* ---- misaligned addresses trap ---- */
    la s0, buf
    addi s1, s0, 2
    TEST_TRAP(100, CAUSE_MISALIGNED_STORE, amoadd.w a0, a2, (s1))
    CHECK_TRAP_ADDR(TF_TVAL, buf + 2)
    addi s1, s0, 4
    TEST_TRAP(101, CAUSE_MISALIGNED_STORE, amoswap.d a0, a2, (s1))
    CHECK_TRAP_ADDR(TF_TVAL, buf + 4)
    addi s1, s0, 1
    TEST_TRAP(102, CAUSE_MISALIGNED_STORE, amomaxu.d a0, a2, (s1))
    TEST_TRAP(103, CAUSE_MISALIGNED_STORE, amoor.w a0, a2, (s1))
    addi s1, s0, 6
    TEST_TRAP(104, CAUSE_MISALIGNED_LOAD, lr.w a0, (s1))
    CHECK_TRAP_ADDR(TF_TVAL, buf + 6)
    TEST_TRAP(105, CAUSE_MISALIGNED_LOAD, lr.d a0, (s1))
    TEST_TRAP(106, CAUSE_MISALIGNED_STORE, sc.d a0, a2, (s1))
    addi s1, s0, 3
    TEST_TRAP(107, CAUSE_MISALIGNED_STORE, sc.w a0, a2, (s1))
    /* the trapping AMO left memory alone */
    li gp, 108
    li t0, 0x0706050403020100
    sd t0, 0(s0)
    addi s1, s0, 2
    EXPECT_TRAP(1f)
    amoswap.w a0, zero, (s1)
    j fail
1:  ld a0, 0(s0)
    CHECK(a0, 0x0706050403020100)
    PASS

    .data
    .balign 64
buf:
    .zero 512

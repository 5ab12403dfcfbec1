/* RV64I: every base instruction, the W forms, both branch directions,
 * jumps, every load/store width with sign and zero extension, misaligned
 * and page-crossing accesses (done by the hart, no trap), x0 writes and
 * self-modifying code with FENCE.I. */
#include "common.h"

    .text
    .globl test_main
test_main:
    /* ---- register-register ---- */
    TEST_CASE(1, a0, 0x0000000100000000, li a1, 0xffffffff; li a2, 1; add a0, a1, a2)
    TEST_CASE(2, a0, 0x0, li a1, -1; li a2, 1; add a0, a1, a2)
    TEST_CASE(3, a0, 0x8000000000000000, li a1, 0x7fffffffffffffff; li a2, 1; add a0, a1, a2)
    TEST_CASE(4, a0, 0xffffffffffffffff, li a1, 0; li a2, 1; sub a0, a1, a2)
    TEST_CASE(5, a0, 0x7fffffffffffffff, li a1, 0x8000000000000000; li a2, 1; sub a0, a1, a2)
    TEST_CASE(6, a0, 0x8000000000000000, li a1, 1; li a2, 63; sll a0, a1, a2)
    TEST_CASE(7, a0, 0x2, li a1, 1; li a2, 65; sll a0, a1, a2)          /* only 6 bits count */
    TEST_CASE(8, a0, 1, li a1, -5; li a2, 3; slt a0, a1, a2)
    TEST_CASE(9, a0, 0, li a1, 3; li a2, -5; slt a0, a1, a2)
    TEST_CASE(10, a0, 0, li a1, -5; li a2, 3; sltu a0, a1, a2)
    TEST_CASE(11, a0, 1, li a1, 3; li a2, -5; sltu a0, a1, a2)
    TEST_CASE(12, a0, 1, li a1, 7; sltu a0, zero, a1)                  /* snez */
    TEST_CASE(13, a0, 0xf0f0f0f00f0f0f0f, li a1, 0xff00ff0000ff00ff; li a2, 0x0ff00ff00ff00ff0; xor a0, a1, a2)
    TEST_CASE(14, a0, 0x0800000000000000, li a1, 0x8000000000000000; li a2, 4; srl a0, a1, a2)
    TEST_CASE(15, a0, 0x1, li a1, 0x8000000000000000; li a2, 127; srl a0, a1, a2)
    TEST_CASE(16, a0, 0xf800000000000000, li a1, 0x8000000000000000; li a2, 4; sra a0, a1, a2)
    TEST_CASE(17, a0, 0xffffffffffffffff, li a1, 0x8000000000000000; li a2, 63; sra a0, a1, a2)
    TEST_CASE(18, a0, 0xff0fff0f0ff0fff0, li a1, 0xff00ff000ff00ff0; li a2, 0x000ff00f00f0f0f0; or a0, a1, a2)
    TEST_CASE(19, a0, 0x0000f00000f0f000, li a1, 0xff00ff000ff0ff00; li a2, 0x00fff00f00f0f0f0; and a0, a1, a2)
    TEST_CASE(20, a0, 0x00fff00f0000f0f0, li a1, 0x00ffffff000ff0f0; li a2, 0x00fff00f00f0f0f0; and a0, a1, a2)

    /* ---- register-immediate ---- */
    TEST_CASE(21, a0, 0xfffffffffffff800, li a1, 0; addi a0, a1, -2048)
    TEST_CASE(22, a0, 0x80000000000007fe, li a1, 0x7fffffffffffffff; addi a0, a1, 2047)
    TEST_CASE(23, a0, 1, li a1, -1; slti a0, a1, 0)
    TEST_CASE(24, a0, 0, li a1, 0; slti a0, a1, -1)
    TEST_CASE(25, a0, 1, li a1, 5; sltiu a0, a1, -1)                   /* imm sign-extends, then unsigned */
    TEST_CASE(26, a0, 1, li a1, 0; sltiu a0, a1, 1)                    /* seqz */
    TEST_CASE(27, a0, 0, li a1, 2; sltiu a0, a1, 1)
    TEST_CASE(28, a0, 0xedcba98765432100, li a1, 0x123456789abcdeff; xori a0, a1, -1)
    TEST_CASE(29, a0, 0xfffffffffffff8f0, li a1, 0xf0; ori a0, a1, -2048)
    TEST_CASE(30, a0, 0x0000000000000654, li a1, 0x7654; andi a0, a1, 0x7ff)
    TEST_CASE(31, a0, 0xfedcba9876543210, li a1, 0xfedcba9876543210; andi a0, a1, -1)
    TEST_CASE(32, a0, 0x8000000000000000, li a1, 1; slli a0, a1, 63)
    TEST_CASE(33, a0, 0x0000000000000001, li a1, 0x8000000000000000; srli a0, a1, 63)
    TEST_CASE(34, a0, 0xffffffffc0000000, li a1, 0x8000000000000000; srai a0, a1, 33)
    TEST_CASE(35, a0, 0x123456789abcdef0, li a1, 0x123456789abcdef0; srai a0, a1, 0)

    /* ---- LUI / AUIPC ---- */
    TEST_CASE(36, a0, 0xffffffff80000000, lui a0, 0x80000)
    TEST_CASE(37, a0, 0x000000007ffff000, lui a0, 0x7ffff)
    TEST_CASE(38, a0, 0xfffffffffffff000, lui a0, 0xfffff)
    li gp, 39
1:  auipc a0, 0
    la a1, 1b
    CHECK_REG(a0, a1)
    li gp, 40
1:  auipc a0, 1
    la a1, 1b
    li a2, 0x1000
    add a1, a1, a2
    CHECK_REG(a0, a1)
    li gp, 41
1:  auipc a0, 0xfffff   /* -4096 */
    la a1, 1b
    li a2, -0x1000
    add a1, a1, a2
    CHECK_REG(a0, a1)

    /* ---- W forms ---- */
    TEST_CASE(42, a0, 0xffffffff80000000, li a1, 0x7fffffff; addiw a0, a1, 1)
    TEST_CASE(43, a0, 0x0000000000000000, li a1, 0x12345678ffffffff; addiw a0, a1, 1)
    TEST_CASE(44, a0, 0xffffffffffffffff, li a1, 0xffffffff; addiw a0, a1, 0)   /* sext.w */
    TEST_CASE(45, a0, 0xffffffff80000000, li a1, 1; slliw a0, a1, 31)
    TEST_CASE(46, a0, 0x0000000000000000, li a1, 0x100000000; slliw a0, a1, 0)
    TEST_CASE(47, a0, 0x0000000040000000, li a1, 0xffffffff80000000; srliw a0, a1, 1)
    TEST_CASE(48, a0, 0xffffffff80000000, li a1, 0x0000000080000000; srliw a0, a1, 0)
    TEST_CASE(49, a0, 0x0000000000000001, li a1, 0xffffffff80000000; srliw a0, a1, 31)
    TEST_CASE(50, a0, 0xffffffffc0000000, li a1, 0x0000000080000000; sraiw a0, a1, 1)
    TEST_CASE(51, a0, 0x0000000000000001, li a1, 0xffffffff00000003; sraiw a0, a1, 1)
    TEST_CASE(52, a0, 0xffffffff80000000, li a1, 0x7fffffff; li a2, 1; addw a0, a1, a2)
    TEST_CASE(53, a0, 0x0000000000000005, li a1, 0xabcdef0000000002; li a2, 0x1234567800000003; addw a0, a1, a2)
    TEST_CASE(54, a0, 0x000000007fffffff, li a1, 0xffffffff80000000; li a2, 1; subw a0, a1, a2)
    TEST_CASE(55, a0, 0xffffffffffffffff, li a1, 0; li a2, 1; subw a0, a1, a2)
    TEST_CASE(56, a0, 0xffffffff80000000, li a1, 1; li a2, 63; sllw a0, a1, a2)   /* only 5 bits count */
    TEST_CASE(57, a0, 0x0000000000000002, li a1, 1; li a2, 33; sllw a0, a1, a2)
    TEST_CASE(58, a0, 0x0000000000000001, li a1, 0xffffffff80000000; li a2, 31; srlw a0, a1, a2)
    TEST_CASE(59, a0, 0xffffffff80000000, li a1, 0x0000000080000000; li a2, 32; srlw a0, a1, a2)
    TEST_CASE(60, a0, 0x000000000fffffff, li a1, 0xffffffffffffffff; li a2, 36; srlw a0, a1, a2)
    TEST_CASE(61, a0, 0xffffffffffffffff, li a1, 0x0000000080000000; li a2, 31; sraw a0, a1, a2)
    TEST_CASE(62, a0, 0x0000000000000001, li a1, 0x7fffffff00000004; li a2, 2; sraw a0, a1, a2)

    /* ---- branches: taken/not taken, forward and backward ---- */
    li gp, 63
    li a1, 5
    li a2, 5
    beq a1, a2, 1f
    j fail
1:  bne a1, a2, fail_near
    li a2, 6
    beq a1, a2, fail_near
    bne a1, a2, 1f
    j fail
1:  li gp, 64
    li a1, -1
    li a2, 1
    blt a1, a2, 1f
    j fail
1:  blt a2, a1, fail_near
    blt a1, a1, fail_near
    bge a2, a1, 1f
    j fail
1:  bge a1, a1, 1f
    j fail
1:  bge a1, a2, fail_near
    li gp, 65
    bltu a2, a1, 1f          /* 1 < 0xff..ff unsigned */
    j fail
1:  bltu a1, a2, fail_near
    bltu a1, a1, fail_near
    bgeu a1, a2, 1f
    j fail
1:  bgeu a2, a2, 1f
    j fail
1:  bgeu a2, a1, fail_near
    /* backward branches: count down a loop with each condition */
    li gp, 66
    li a0, 0
    li a1, 10
1:  addi a0, a0, 1
    addi a1, a1, -1
    bnez a1, 1b
    CHECK(a0, 10)
    li gp, 67
    li a0, 0
    li a1, -3
2:  addi a0, a0, 1
    addi a1, a1, 1
    blt a1, zero, 2b
    CHECK(a0, 3)
    li gp, 68
    li a0, 0
    li a1, 0
    li a2, 4
3:  addi a0, a0, 1
    addi a1, a1, 1
    bltu a1, a2, 3b
    CHECK(a0, 4)
    li gp, 69
    li a0, 0
    li a1, 4
4:  addi a0, a0, 1
    addi a1, a1, -1
    bge a1, zero, 4b
    CHECK(a0, 5)
    li gp, 70
    li a0, 0
    li a1, 3
5:  addi a0, a0, 1
    addi a1, a1, -1
    bgeu a1, a0, 5b
    CHECK(a0, 2)
    li gp, 71
    li a0, 0
    li a1, 2
6:  addi a0, a0, 1
    addi a1, a1, -1
    beq a1, zero, 7f
    beq zero, zero, 6b
7:  CHECK(a0, 2)
    j 1f
fail_near:
    j fail
1:
    /* ---- JAL / JALR ---- */
    li gp, 72
    jal a0, 1f
2:  j fail
1:  la a1, 2b
    CHECK_REG(a0, a1)
    li gp, 73
    j 3f                    /* jump backward to a target, then come back */
4:  li a0, 0x73
    j 5f
3:  j 4b
5:  CHECK(a0, 0x73)
    li gp, 74
    la a1, 1f
    jalr ra, 0(a1)
2:  j fail
1:  la a2, 2b
    CHECK_REG(ra, a2)
    li gp, 75
    la a1, 1f
    addi a1, a1, -7
    jalr a0, 8(a1)          /* target + 1: the low bit is cleared */
2:  j fail
1:  la a2, 2b
    CHECK_REG(a0, a2)
    li gp, 76
    la a0, 1f
    jalr a0, 0(a0)          /* rd == rs1: target uses the old value */
2:  j fail
1:  la a2, 2b
    CHECK_REG(a0, a2)
    li gp, 77
    la a1, 1f
    jalr zero, 0(a1)
    j fail
1:

    /* ---- loads: width, sign and zero extension ---- */
    la s0, ldata
    TEST_CASE(78, a0, 0xffffffffffffff81, lb a0, 0(s0))
    TEST_CASE(79, a0, 0x0000000000000081, lbu a0, 0(s0))
    TEST_CASE(80, a0, 0x000000000000007f, lb a0, 9(s0))
    TEST_CASE(81, a0, 0xffffffffffff8281, lh a0, 0(s0))
    TEST_CASE(82, a0, 0x0000000000008281, lhu a0, 0(s0))
    TEST_CASE(83, a0, 0x0000000000007f88, lhu a0, 8(s0))
    TEST_CASE(84, a0, 0xffffffff83828281, lw a0, 0(s0))
    TEST_CASE(85, a0, 0x0000000083828281, lwu a0, 0(s0))
    TEST_CASE(86, a0, 0x000000007f7f7f88, lw a0, 8(s0))
    TEST_CASE(87, a0, 0x8786858483828281, ld a0, 0(s0))
    TEST_CASE(88, a0, 0x8786858483828281, addi a1, s0, 16; ld a0, -16(a1))
    TEST_CASE(89, a0, 0xffffffffffffff87, lb a0, 7(s0))

    /* ---- stores of every width ---- */
    la s1, sdata
    li a1, 0x1111111111111111
    sd a1, 0(s1)
    li a2, 0xaabbccddeeff0099
    TEST_CASE(90, a0, 0x1111111111111199, sb a2, 0(s1); ld a0, 0(s1))
    TEST_CASE(91, a0, 0x1111111100991199, sh a2, 2(s1); ld a0, 0(s1))
    TEST_CASE(92, a0, 0xeeff009900991199, sw a2, 4(s1); ld a0, 0(s1))
    TEST_CASE(93, a0, 0xaabbccddeeff0099, sd a2, 0(s1); ld a0, 0(s1))
    TEST_CASE(94, a0, 0xffffffffffffff99, addi a3, s1, 8; sb a2, -1(a3); lb a0, 7(s1))

    /* ---- misaligned (handled, no trap: the default handler fails on any trap) ---- */
    la s0, ldata
    TEST_CASE(95, a0, 0x8887868584838282, ld a0, 1(s0))
    TEST_CASE(96, a0, 0x7f88878685848382, ld a0, 2(s0))
    TEST_CASE(97, a0, 0xffffffff84838282, lw a0, 1(s0))
    TEST_CASE(98, a0, 0x0000000086858483, lwu a0, 3(s0))
    TEST_CASE(99, a0, 0xffffffffffff8282, lh a0, 1(s0))
    TEST_CASE(100, a0, 0x0000000000008483, lhu a0, 3(s0))
    TEST_CASE(101, a0, 0xffffffffffff8382, lh a0, 2(s0))
    TEST_CASE(102, a0, 0xffffffffffff8483, lh a0, 3(s0))
    la s1, sdata
    sd zero, 0(s1)
    sd zero, 8(s1)
    li a2, 0x0123456789abcdef
    TEST_CASE(103, a0, 0x23456789abcdef00, sd a2, 1(s1); ld a0, 0(s1))
    TEST_CASE(104, a0, 0x0000000000000001, ld a0, 8(s1))
    TEST_CASE(105, a0, 0x00000089abcdcdef, sd zero, 0(s1); sd zero, 8(s1); sw a2, 1(s1); sh a2, 0(s1); ld a0, 0(s1))
    TEST_CASE(106, a0, 0x0000000000cdef00, sd zero, 0(s1); sh a2, 1(s1); ld a0, 0(s1))
    TEST_CASE(107, a0, 0x00000000ef000000, sd zero, 0(s1); sh a2, 3(s1); lwu a0, 0(s1))
    /* crossing a page boundary */
    la s2, pagebuf
    li t0, 4096
    add s2, s2, t0          /* s2 = start of the second page */
    li a2, 0x1122334455667788
    TEST_CASE(108, a0, 0x1122334455667788, sd a2, -3(s2); ld a0, -3(s2))
    TEST_CASE(109, a0, 0x0000000000667788, lwu a0, -3(s2); slli a0, a0, 40; srli a0, a0, 40)
    TEST_CASE(110, a0, 0x0000000011223344, lwu a0, 1(s2))
    TEST_CASE(111, a0, 0x0000000000005566, lhu a0, -1(s2))
    TEST_CASE(112, a0, 0xffffffff84556677, li a3, 0x0000000084556677; sw a3, -2(s2); lw a0, -2(s2))

    /* ---- x0 ignores writes ---- */
    li gp, 113
    li a1, 123
    addi zero, a1, 1
    add zero, a1, a1
    lui zero, 0x12345
    auipc zero, 1
    la s0, ldata
    ld zero, 0(s0)
    lw zero, 0(s0)
    jal zero, 1f
1:  CHECK(zero, 0)
    TEST_CASE(114, a0, 123, add a0, a1, zero)
    TEST_CASE(115, a0, 0, mv a0, zero)
    li gp, 116
    la a1, 1f
    jalr zero, 0(a1)
1:  addi a0, zero, 0
    CHECK(a0, 0)

    /* ---- FENCE, FENCE.I and self-modifying code ---- */
    li gp, 117
    fence
    fence rw, rw
    fence iorw, iorw
    fence.i
    /* run `patch` once (a0 = 1), then rewrite its first instruction into
     * `addi a0, zero, 42` and run it again */
    call patch
    CHECK(a0, 1)
    li gp, 118
    la t0, patch
    li t1, 0x02a00513        /* addi a0, zero, 42 */
    sw t1, 0(t0)
    fence.i
    call patch
    CHECK(a0, 42)
    /* and once more inside the same block: write, fence.i, fall into it */
    li gp, 119
    la t0, 1f
    li t1, 0x00700593        /* addi a1, zero, 7 */
    sw t1, 0(t0)
    fence.i
    .option push
    .option norvc
1:  addi a1, zero, 1
    .option pop
    CHECK(a1, 7)

    PASS

    .balign 4
    .option push
    .option norvc
patch:
    addi a0, zero, 1
    ret
    .option pop

    .data
    .balign 16
ldata:
    .byte 0x81, 0x82, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87
    .byte 0x88, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f
sdata:
    .zero 32
    .balign 4096
pagebuf:
    .zero 8192

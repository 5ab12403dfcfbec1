/* RV64C: every compressed instruction written out with its c.* mnemonic
 * (so the assembler cannot choose the long form), results checked; 32-bit
 * instructions at 2-byte aligned addresses and across a page boundary;
 * C.EBREAK; reserved encodings trap as illegal with mtval = the 16 bits;
 * HINT encodings run as no-ops. */
#include "common.h"

    .option rvc
    .text
    .globl test_main
test_main:
    /* ---- constants ---- */
    TEST_CASE(1, a0, 0xffffffffffffffe0, c.li a0, -32)
    TEST_CASE(2, a0, 31, c.li a0, 31)
    TEST_CASE(3, a0, 0x1000, c.lui a0, 1)
    TEST_CASE(4, a0, 0x1f000, c.lui a0, 0x1f)
    TEST_CASE(5, a0, 0xfffffffffffff000, c.lui a0, 0xfffff)
    TEST_CASE(6, a0, 0xfffffffffffe0000, c.lui a0, 0xfffe0)

    /* ---- arithmetic with an immediate ---- */
    TEST_CASE(7, a0, 0xffffffffffffffff, c.li a0, 0; c.addi a0, -1)
    TEST_CASE(8, a0, 0x20, c.li a0, 1; c.addi a0, 31)
    TEST_CASE(9, a0, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
    TEST_CASE(10, a0, 0xffffffffffffffff, li a0, 0x00000000ffffffff; c.addiw a0, 0)
    TEST_CASE(11, a0, 0x0000000000000000, li a0, 0x1234567800000001; c.addiw a0, -1)
    TEST_CASE(12, a0, 0x8000000000000000, c.li a0, 1; c.slli a0, 63)
    TEST_CASE(13, a0, 0x0000000000000002, li a0, 0x8000000000000000; c.srli a0, 62)
    TEST_CASE(14, a0, 0xfffffffffffffffe, li a0, 0x8000000000000000; c.srai a0, 62)
    TEST_CASE(15, a0, 0x4000000000000000, li a0, 0x8000000000000000; c.srli a0, 1)
    TEST_CASE(16, a0, 0x123456789abcdee0, li a0, 0x123456789abcdeff; c.andi a0, -32)
    TEST_CASE(17, a0, 0x000000000000000a, li a0, 0x123456789abcdeff; c.andi a0, 0xa)
    /* sp-based */
    li gp, 18
    mv s1, sp
    c.addi16sp sp, -512
    sub a0, s1, sp
    CHECK(a0, 512)
    c.addi16sp sp, 496
    sub a0, s1, sp
    CHECK(a0, 16)
    c.addi16sp sp, 16
    CHECK_REG(sp, s1)
    li gp, 19
    c.addi4spn a0, sp, 1020
    sub a0, a0, sp
    CHECK(a0, 1020)
    c.addi4spn a1, sp, 4
    sub a1, a1, sp
    CHECK(a1, 4)

    /* ---- register-register ---- */
    TEST_CASE(20, a0, 0x123456789abcdef0, li a1, 0x123456789abcdef0; c.mv a0, a1)
    TEST_CASE(21, a0, 0x0000000000000000, li a0, 1; li a1, -1; c.add a0, a1)
    TEST_CASE(22, a0, 0xfffffffffffffffd, li a0, 2; li a1, 5; c.sub a0, a1)
    TEST_CASE(23, a0, 0x00ff00ff00ff00ff, li a0, 0xff00ff00ff00ff00; li a1, -1; c.xor a0, a1)
    TEST_CASE(24, a0, 0xf0f0f0f00f0f0f0f, li a0, 0xf0f0f0f000000000; li a1, 0x000000000f0f0f0f; c.or a0, a1)
    TEST_CASE(25, a0, 0x0000f0f00000f0f0, li a0, 0x0f0ff0f00f0ff0f0; li a1, 0xf0f0f0f0f0f0f0f0; c.and a0, a1; li t0, 0x0000f0f00000f0f0; and a0, a0, t0)
    TEST_CASE(26, a0, 0x000000007fffffff, li a0, 0xffffffff80000000; li a1, 1; c.subw a0, a1)
    TEST_CASE(27, a0, 0xffffffff80000000, li a0, 0x000000007fffffff; li a1, 0x1234567800000001; c.addw a0, a1)
    TEST_CASE(28, a0, 0xfffffffffffffffe, li a0, 0x00000000ffffffff; li a1, 0xffffffff; c.addw a0, a1)

    /* ---- jumps and branches ---- */
    li gp, 29
    c.j 1f
    j fail
1:  c.li a0, 0
    c.beqz a0, 1f
    j fail
1:  c.bnez a0, fail_near
    c.li a0, -1
    c.beqz a0, fail_near
    c.bnez a0, 1f
    j fail
1:  li gp, 30
    c.li a0, 3
    c.li a1, 0
2:  c.addi a1, 1
    c.addi a0, -1
    c.bnez a0, 2b             /* backward, taken twice */
    CHECK(a1, 3)
    li gp, 31
    c.li a0, 0
    c.j 4f
3:  c.addi a0, 1
    c.beqz a0, fail_near      /* never taken here */
    c.j 5f
4:  c.j 3b                    /* backward jump */
5:  CHECK(a0, 1)
    li gp, 32
    la a1, 1f
    c.jr a1
    j fail
1:  li gp, 33
    la a1, 1f
    c.jalr a1
2:  j fail
1:  la a2, 2b
    CHECK_REG(ra, a2)
    /* ra = address after the 2-byte c.jalr */
    la a1, 1f
    c.jalr a1
2:  j fail
1:  la a2, 2b
    sub a2, ra, a2
    CHECK(a2, 0)
    j 1f
fail_near:
    j fail
1:
    /* ---- loads and stores ---- */
    la s0, cdata
    TEST_CASE(40, a0, 0xffffffff89abcdef, c.lw a0, 0(s0))
    TEST_CASE(41, a0, 0x0000000001234567, c.lw a0, 4(s0))
    TEST_CASE(42, a0, 0x0123456789abcdef, c.ld a0, 0(s0))
    TEST_CASE(43, a0, 0xfedcba9876543210, c.ld a0, 248(s0))
    TEST_CASE(44, a0, 0xffffffff80000001, c.lw a0, 124(s0))
    li a1, 0x1122334455667788
    TEST_CASE(45, a0, 0x1122334455667788, c.sd a1, 16(s0); ld a0, 16(s0))
    li a2, 0x00000000aabbccdd
    TEST_CASE(46, a0, 0x11223344aabbccdd, c.sw a2, 16(s0); ld a0, 16(s0))
    TEST_CASE(47, a0, 0xffffffffaabbccdd, c.lw a0, 16(s0))
    /* sp-relative, at the largest offsets */
    li gp, 48
    mv s1, sp
    la sp, spbuf
    c.sdsp a1, 504(sp)
    c.ldsp a0, 504(sp)
    CHECK(a0, 0x1122334455667788)
    li gp, 49
    c.swsp a2, 252(sp)
    c.lwsp a0, 252(sp)
    CHECK(a0, 0xffffffffaabbccdd)
    li gp, 50
    c.sdsp a2, 8(sp)
    c.lwsp a0, 8(sp)
    CHECK(a0, 0xffffffffaabbccdd)
    c.ldsp a0, 8(sp)
    CHECK(a0, 0x00000000aabbccdd)
    /* FP loads and stores */
    li gp, 51
    li t0, 0x400921fb54442d18
    fmv.d.x fa0, t0
    c.fsd fa0, 32(s0)
    c.fld fa1, 32(s0)
    CHECK_FREG(fa1, 0x400921fb54442d18)
    ld a0, 32(s0)
    CHECK(a0, 0x400921fb54442d18)
    li gp, 52
    c.fsdsp fa0, 496(sp)
    c.fldsp ft3, 496(sp)
    CHECK_FREG(ft3, 0x400921fb54442d18)
    mv sp, s1

    /* ---- C.EBREAK ---- */
    li gp, 53
    EXPECT_TRAP_SKIP
1:  c.ebreak
    CHECK_TRAP(TF_CAUSE, CAUSE_BREAKPOINT)
    CHECK_TRAP_ADDR(TF_EPC, 1b)

    /* ---- reserved encodings: illegal, mtval = the 16 bits ---- */
#define TEST_ILLEGAL16(n, bits) \
    TEST_TRAP(n, CAUSE_ILLEGAL, .half bits); \
    CHECK_TRAP(TF_TVAL, bits)
    TEST_ILLEGAL16(54, 0x0000)     /* all zeros */
    TEST_ILLEGAL16(55, 0x0004)     /* c.addi4spn with imm 0 */
    TEST_ILLEGAL16(56, 0x4002)     /* c.lwsp x0 */
    TEST_ILLEGAL16(57, 0x6002)     /* c.ldsp x0 */
    TEST_ILLEGAL16(58, 0x6501)     /* c.lui a0, 0 */
    TEST_ILLEGAL16(59, 0x6101)     /* c.addi16sp 0 */
    TEST_ILLEGAL16(60, 0x8002)     /* c.jr x0 */
    TEST_ILLEGAL16(61, 0x2001)     /* c.addiw x0 */
    TEST_ILLEGAL16(62, 0x9c41)     /* c.subw with bit 12 set and funct2 10: reserved */

    /* ---- HINTs run as no-ops ---- */
    li gp, 63
    li a0, 5
    .half 0x4015                   /* c.li x0, 5 */
    .half 0x802a                   /* c.mv x0, a0 */
    .half 0x902a                   /* c.add x0, a0 */
    .half 0x0016                   /* c.slli x0, 5 */
    .half 0x6005                   /* c.lui x0, 1 */
    .half 0x0005                   /* c.nop with imm 1 (c.addi x0, 1) */
    c.nop
    CHECK(zero, 0)
    CHECK(a0, 5)

    /* ---- 32-bit instructions at 2-byte alignment and across a page ---- */
    li gp, 64
    li a0, 0
    c.nop
    .option push
    .option norvc
    addi a0, a0, 3                 /* at 2 mod 4 */
    addi a0, a0, 4
    .option pop
    c.addi a0, 1
    CHECK(a0, 8)
    li gp, 65
    li a0, 0
    j straddle_entry
straddle_back:
    CHECK(a0, 0x1235)
    PASS

    .balign 4096
    .fill 2046, 2, 0               /* never executed */
straddle_entry:                    /* page offset 4092 */
    c.addi a0, 1
    .option push
    .option norvc
    lui a1, 0x1                    /* page offset 4094: straddles */
    .option pop
    c.add a0, a1
    addi a0, a0, 0x234
    j straddle_back

    .data
    .balign 8
cdata:
    .dword 0x0123456789abcdef      /* 0 */
    .zero 112                      /* 8 */
    .word 0x0, 0x80000001          /* 120 */
    .zero 120                      /* 128 */
    .dword 0xfedcba9876543210      /* 248 */
    .zero 64
    .balign 16
spbuf:
    .zero 512

/* Integer execution on a hart (unprivileged spec, RV64I + M + C): edge
 * values of division, multiplication, shifts, W forms, comparisons, upper
 * immediates, link values, x0, misaligned accesses, and loads/stores that
 * fault. Each snippet runs in M-mode from RVT_CODE and ends with EBREAK,
 * which traps to RVT_TRAP (mtvec). */
#include "rv_testutil.h"

#define MASK32 0xffffffffull


/* Place a snippet at RVT_CODE followed by EBREAK, run it from the start in
 * M-mode and check that it ran to the EBREAK. */
#define RUN(...) \
    do { \
        uint64_t end_ = rvt_code(T, RVT_CODE, __VA_ARGS__, rvi_ebreak()); \
        H->pc = RVT_CODE; \
        rvt_set_priv(H, RV_PRIV_M); \
        rvt_run_to_ebreak(H); \
        assert_int_equal(H->mepc, end_ - 4); \
    } while (0)

/* Division by zero does not trap (spec 7.2): the quotient is all ones and
 * the remainder is the dividend; W forms work on the low 32 bits and
 * sign-extend the 32-bit result. */
static void test_div_by_zero(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = 0x1234567880000001ull;
    h->x[A2] = 0;
    RUN(rvi_div(A0, A1, A2), rvi_divu(A3, A1, A2), rvi_rem(A4, A1, A2), rvi_remu(A5, A1, A2),
        rvi_divw(S2, A1, A2), rvi_divuw(S3, A1, A2), rvi_remw(S4, A1, A2), rvi_remuw(S5, A1, A2));
    assert_int_equal(h->x[A0], ~0ull);
    assert_int_equal(h->x[A3], ~0ull);
    assert_int_equal(h->x[A4], 0x1234567880000001ull);
    assert_int_equal(h->x[A5], 0x1234567880000001ull);
    assert_int_equal(h->x[S2], ~0ull);
    assert_int_equal(h->x[S3], ~0ull); /* 0xffffffff sign-extended */
    assert_int_equal(h->x[S4], 0xffffffff80000001ull);
    assert_int_equal(h->x[S5], 0xffffffff80000001ull);
}

/* Signed overflow: MIN / -1 = MIN, MIN % -1 = 0 (no trap). */
static void test_div_overflow(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = 0x8000000000000000ull;
    h->x[A2] = ~0ull;
    h->x[A6] = 0x0000000180000000ull; /* low word INT32_MIN */
    RUN(rvi_div(A0, A1, A2), rvi_rem(A3, A1, A2), rvi_divw(A4, A6, A2), rvi_remw(A5, A6, A2),
        rvi_divu(S2, A1, A2), rvi_remu(S3, A1, A2));
    assert_int_equal(h->x[A0], 0x8000000000000000ull);
    assert_int_equal(h->x[A3], 0);
    assert_int_equal(h->x[A4], 0xffffffff80000000ull);
    assert_int_equal(h->x[A5], 0);
    assert_int_equal(h->x[S2], 0);
    assert_int_equal(h->x[S3], 0x8000000000000000ull);

    /* ordinary signed division truncates toward zero; the remainder has
     * the sign of the dividend */
    h->x[A1] = (uint64_t)-7;
    h->x[A2] = 2;
    RUN(rvi_div(A0, A1, A2), rvi_rem(A3, A1, A2), rvi_divw(A4, A1, A2), rvi_remw(A5, A1, A2),
        rvi_divuw(S2, A1, A2), rvi_remuw(S3, A1, A2));
    assert_int_equal(h->x[A0], (uint64_t)-3);
    assert_int_equal(h->x[A3], (uint64_t)-1);
    assert_int_equal(h->x[A4], (uint64_t)-3);
    assert_int_equal(h->x[A5], (uint64_t)-1);
    assert_int_equal(h->x[S2], 0x7ffffffcull); /* 0xfffffff9 / 2 */
    assert_int_equal(h->x[S3], 1);
}

/* MULH* return the upper 64 bits of the 128-bit product with the operand
 * signedness in the name (MULHSU: rs1 signed, rs2 unsigned). */
static void test_mulh(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = (uint64_t)-2;
    h->x[A2] = 3;
    RUN(rvi_mulh(A0, A1, A2), rvi_mulhsu(A3, A1, A2), rvi_mulhu(A4, A1, A2), rvi_mul(A5, A1, A2));
    assert_int_equal(h->x[A0], ~0ull);  /* -6 >> 64 */
    assert_int_equal(h->x[A3], ~0ull);  /* -2 * 3 */
    assert_int_equal(h->x[A4], 2);      /* (2^64 - 2) * 3 = 2 * 2^64 + (2^64 - 6) */
    assert_int_equal(h->x[A5], (uint64_t)-6);

    h->x[A1] = 0x8000000000000000ull;
    h->x[A2] = ~0ull;
    RUN(rvi_mulh(A0, A1, A1), rvi_mulhsu(A3, A1, A2), rvi_mulhu(A4, A2, A2), rvi_mulh(A5, A1, A2),
        rvi_mulhsu(S2, A2, A2));
    assert_int_equal(h->x[A0], 0x4000000000000000ull); /* (-2^63)^2 = 2^126 */
    assert_int_equal(h->x[A3], 0x8000000000000000ull); /* -2^63 * (2^64 - 1) */
    assert_int_equal(h->x[A4], 0xfffffffffffffffeull); /* (2^64 - 1)^2 */
    assert_int_equal(h->x[A5], 0);                     /* -2^63 * -1 = 2^63 */
    assert_int_equal(h->x[S2], ~0ull);                 /* -1 * (2^64 - 1) */

    /* MULW: low 32 bits of the product, sign-extended */
    h->x[A1] = 0x7fffffff;
    h->x[A2] = 2;
    RUN(rvi_mulw(A0, A1, A2));
    assert_int_equal(h->x[A0], (uint64_t)-2);
}

/* Shifts use the low 6 bits of the amount (5 for W forms); W forms
 * sign-extend their 32-bit result, even for a shift by 0. */
static void test_shifts(void **state)
{
    struct rv_hart *h = H;
    const uint64_t v = 0x8000000080000001ull;
    h->x[A1] = v;
    h->x[S2] = 0;
    h->x[S3] = 31;
    h->x[S4] = 32;
    h->x[S5] = 63;
    h->x[S6] = 64; /* same as 0 */
    RUN(rvi_sll(A0, A1, S2), rvi_sll(A2, A1, S3), rvi_sll(A3, A1, S4), rvi_sll(A4, A1, S5), rvi_sll(A5, A1, S6),
        rvi_srl(A6, A1, S5), rvi_sra(A7, A1, S5), rvi_sra(S7, A1, S4), rvi_srl(S8, A1, S3));
    assert_int_equal(h->x[A0], v);
    assert_int_equal(h->x[A2], 0x4000000080000000ull);
    assert_int_equal(h->x[A3], 0x8000000100000000ull);
    assert_int_equal(h->x[A4], 0x8000000000000000ull);
    assert_int_equal(h->x[A5], v);
    assert_int_equal(h->x[A6], 1);
    assert_int_equal(h->x[A7], ~0ull);
    assert_int_equal(h->x[S7], 0xffffffff80000000ull);
    assert_int_equal(h->x[S8], 0x0000000100000001ull);

    RUN(rvi_slli(A0, A1, 63), rvi_srli(A2, A1, 63), rvi_srai(A3, A1, 63), rvi_srai(A4, A1, 0),
        rvi_srli(A5, A1, 32), rvi_srai(A6, A1, 32));
    assert_int_equal(h->x[A0], 0x8000000000000000ull);
    assert_int_equal(h->x[A2], 1);
    assert_int_equal(h->x[A3], ~0ull);
    assert_int_equal(h->x[A4], v);
    assert_int_equal(h->x[A5], 0x80000000ull);
    assert_int_equal(h->x[A6], 0xffffffff80000000ull);

    /* W forms on the low word 0x80000001 */
    RUN(rvi_sllw(A0, A1, S2), rvi_srlw(A2, A1, S2), rvi_sraw(A3, A1, S3), rvi_srlw(A4, A1, S3),
        rvi_sllw(A5, A1, S3), rvi_sllw(A6, A1, S4) /* 32 & 31 = 0 */, rvi_sraw(A7, A1, S4),
        rvi_srlw(S7, A1, S5) /* 63 & 31 = 31 */);
    assert_int_equal(h->x[A0], 0xffffffff80000001ull); /* shift by 0 still sign-extends */
    assert_int_equal(h->x[A2], 0xffffffff80000001ull);
    assert_int_equal(h->x[A3], ~0ull);
    assert_int_equal(h->x[A4], 1);
    assert_int_equal(h->x[A5], 0xffffffff80000000ull);
    assert_int_equal(h->x[A6], 0xffffffff80000001ull);
    assert_int_equal(h->x[A7], 0xffffffff80000001ull);
    assert_int_equal(h->x[S7], 1);

    RUN(rvi_slliw(A0, A1, 31), rvi_srliw(A2, A1, 31), rvi_sraiw(A3, A1, 31), rvi_srliw(A4, A1, 0),
        rvi_sraiw(A5, A1, 1), rvi_srliw(A6, A1, 1));
    assert_int_equal(h->x[A0], 0xffffffff80000000ull);
    assert_int_equal(h->x[A2], 1);
    assert_int_equal(h->x[A3], ~0ull);
    assert_int_equal(h->x[A4], 0xffffffff80000001ull);
    assert_int_equal(h->x[A5], 0xffffffffc0000000ull);
    assert_int_equal(h->x[A6], 0x40000000ull);
}

/* ADDIW/ADDW/SUBW compute on 32 bits and sign-extend (ADDIW rd, rs, 0 is
 * sext.w). */
static void test_w_sign_extension(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = 0x7fffffff;
    h->x[A2] = 1;
    h->x[A3] = 0x00000000ffffffffull;
    h->x[A4] = 0xffffffff00000001ull;
    RUN(rvi_addiw(A0, A1, 1), rvi_addw(A5, A1, A2), rvi_addiw(A6, A3, 0), rvi_addw(A7, A4, ZERO),
        rvi_subw(S2, ZERO, A1), rvi_addiw(S3, A3, -2048), rvi_subw(S4, A4, A2));
    assert_int_equal(h->x[A0], 0xffffffff80000000ull);
    assert_int_equal(h->x[A5], 0xffffffff80000000ull);
    assert_int_equal(h->x[A6], ~0ull);
    assert_int_equal(h->x[A7], 1);
    assert_int_equal(h->x[S2], 0xffffffff80000001ull);
    assert_int_equal(h->x[S3], (uint64_t)(int64_t)(int32_t)(0xffffffffu - 2048u));
    assert_int_equal(h->x[S4], 0);
}

/* SLTI sign-extends its immediate and compares signed; SLTIU sign-extends
 * it too and then compares unsigned (so imm -1 means 2^64-1). */
static void test_slt(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = (uint64_t)-5;
    h->x[A2] = 5;
    h->x[A3] = ~0ull;
    h->x[A4] = 1;
    RUN(rvi_slti(A0, A1, -1), rvi_slti(A5, A1, -5), rvi_sltiu(A6, A2, -1), rvi_sltiu(A7, A3, -1),
        rvi_slt(S2, A3, A4), rvi_sltu(S3, A3, A4), rvi_slti(S4, A2, -2048), rvi_sltiu(S5, ZERO, 1));
    assert_int_equal(h->x[A0], 1);
    assert_int_equal(h->x[A5], 0);
    assert_int_equal(h->x[A6], 1);
    assert_int_equal(h->x[A7], 0);
    assert_int_equal(h->x[S2], 1);
    assert_int_equal(h->x[S3], 0);
    assert_int_equal(h->x[S4], 0);
    assert_int_equal(h->x[S5], 1); /* seqz */
}

/* LUI and AUIPC sign-extend their 32-bit result on RV64. AUIPC adds to
 * its own address. */
static void test_lui_auipc(void **state)
{
    struct rv_hart *h = H;
    RUN(rvi_lui(A0, 0x80000000u), rvi_lui(A1, 0x7ffff000u), rvi_auipc(A2, 0), rvi_auipc(A3, 0x80000000u),
        rvi_auipc(A4, 0x1000));
    assert_int_equal(h->x[A0], 0xffffffff80000000ull);
    assert_int_equal(h->x[A1], 0x7ffff000ull);
    assert_int_equal(h->x[A2], RVT_CODE + 8);
    assert_int_equal(h->x[A3], RVT_CODE + 12 - 0x80000000ull); /* 0x80001000 + 12 - 2^31 */
    assert_int_equal(h->x[A4], RVT_CODE + 16 + 0x1000);
}

/* JAL/JALR write the address of the next instruction (pc+4, or pc+2 for
 * compressed C.JALR); JALR clears bit 0 of the target and reads rs1 before
 * writing rd. */
static void test_jal_jalr(void **state)
{
    struct rv_hart *h = H;
    /* jal over one instruction */
    RUN(rvi_jal(RA, 8), rvi_addi(A0, ZERO, 1), rvi_addi(A1, ZERO, 2));
    assert_int_equal(h->x[RA], RVT_CODE + 4);
    assert_int_equal(h->x[A0], 0); /* skipped */
    assert_int_equal(h->x[A1], 2);

    /* jalr with an odd target and rd == rs1 */
    h->x[A0] = RVT_CODE + 9; /* -> RVT_CODE + 8 after clearing bit 0 */
    h->x[A1] = 0;
    RUN(rvi_jalr(A0, A0, 0), rvi_addi(A1, ZERO, 1), rvi_addi(A2, ZERO, 3));
    assert_int_equal(h->x[A0], RVT_CODE + 4);
    assert_int_equal(h->x[A1], 0);
    assert_int_equal(h->x[A2], 3);

    /* negative jalr offset */
    h->x[T0] = RVT_CODE + 0x100 + 2048;
    rvt_w32(T, RVT_CODE + 0x100, rvi_ebreak());
    rvt_code(T, RVT_CODE, rvi_jalr(T1, T0, -2048));
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->mepc, RVT_CODE + 0x100);
    assert_int_equal(h->x[T1], RVT_CODE + 4);

    /* compressed: c.nop; c.jalr a0 -> link pc+2; target: c.jr ra back */
    const uint64_t target = RVT_CODE + 0x200;
    rvt_code16(T, RVT_CODE, 0x0001 /* c.nop */, 0x9502 /* c.jalr a0 */, 0x9002 /* c.ebreak */);
    rvt_code16(T, target, 0x852e /* c.mv a0, a1 */, 0x8082 /* c.jr ra */);
    h->x[A0] = target;
    h->x[A1] = 77;
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[RA], RVT_CODE + 4); /* address of c.jalr (+2) + 2 */
    assert_int_equal(h->mepc, RVT_CODE + 4);  /* came back to the c.ebreak */
    assert_int_equal(h->x[A0], 77);

    /* 32-bit jal after a 16-bit instruction: link = its pc + 4 */
    rvt_code16(T, RVT_CODE, 0x0001);
    rvt_code(T, RVT_CODE + 2, rvi_jal(RA, 6));
    rvt_code16(T, RVT_CODE + 6, 0x0001, 0x9002);
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[RA], RVT_CODE + 6);
    assert_int_equal(h->mepc, RVT_CODE + 8);
}

/* Conditional branches, signed and unsigned, taken and not taken. */
static void test_branches(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = (uint64_t)-1;
    h->x[A2] = 1;
    /* each taken branch skips the "addi a0, a0, 1" after it */
    RUN(rvi_blt(A1, A2, 8), rvi_addi(A0, A0, 1),   /* taken: -1 < 1 */
        rvi_bltu(A1, A2, 8), rvi_addi(A3, A3, 1),  /* not taken */
        rvi_bgeu(A1, A2, 8), rvi_addi(A0, A0, 1),  /* taken */
        rvi_bge(A1, A2, 8), rvi_addi(A4, A4, 1),   /* not taken */
        rvi_beq(A1, A1, 8), rvi_addi(A0, A0, 1),   /* taken */
        rvi_bne(A1, A1, 8), rvi_addi(A5, A5, 1));  /* not taken */
    assert_int_equal(h->x[A0], 0);
    assert_int_equal(h->x[A3], 1);
    assert_int_equal(h->x[A4], 1);
    assert_int_equal(h->x[A5], 1);
}

/* x0 reads as zero whatever is written to it. */
static void test_x0(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = RVT_DATA;
    rvt_w64(T, RVT_DATA, 0x1122334455667788ull);
    RUN(rvi_addi(ZERO, ZERO, 5), rvi_lui(ZERO, 0x12345000), rvi_ld(ZERO, A1, 0), rvi_add(A0, ZERO, ZERO),
        rvi_jal(ZERO, 4), rvi_csrr(ZERO, CSR_MSCRATCH), rvi_addi(A2, ZERO, 0), rvi_amo(AMO_ADD, 3, ZERO, A1, A1),
        rvi_ori(A3, ZERO, 0));
    assert_int_equal(h->x[0], 0);
    assert_int_equal(h->x[A0], 0);
    assert_int_equal(h->x[A2], 0);
    assert_int_equal(h->x[A3], 0);
    rvt_code16(T, RVT_CODE, 0x4001 /* c.li zero, 0 (hint) */, 0x0001, 0x4015 /* c.li zero, 5 */,
               0x852e /* c.mv a0, a1 */, 0x9002);
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[0], 0);
    assert_int_equal(h->x[A0], RVT_DATA);
}

/* Misaligned loads and stores to RAM complete with the right
 * (little-endian) value, inside a page and across a page boundary. */
static void test_misaligned(void **state)
{
    struct rv_hart *h = H;
    uint8_t pattern[32];
    for (unsigned i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(0x10 + i);
    const uint64_t in_page = RVT_DATA + 0x101, across = RVT_DATA + 0x1000 - 3;
    rvt_write(T, in_page, pattern, sizeof(pattern));
    rvt_write(T, across, pattern, sizeof(pattern));
    h->x[A1] = in_page;
    h->x[A2] = across;
    /* each load twice: once through the slow path (TLB miss), once hot */
    RUN(rvi_ld(A0, A1, 0), rvi_ld(A3, A1, 0), rvi_lw(A4, A1, 2), rvi_lhu(A5, A1, 4),
        rvi_ld(A6, A2, 0), rvi_ld(A7, A2, 0), rvi_lw(S2, A2, 1), rvi_lh(S3, A2, 2), rvi_lwu(S4, A2, -1));
    assert_int_equal(h->x[A0], 0x1716151413121110ull);
    assert_int_equal(h->x[A3], 0x1716151413121110ull);
    assert_int_equal(h->x[A4], 0x15141312ull);
    assert_int_equal(h->x[A5], 0x1514ull);
    assert_int_equal(h->x[A6], 0x1716151413121110ull);
    assert_int_equal(h->x[A7], 0x1716151413121110ull);
    assert_int_equal(h->x[S2], 0x14131211ull);
    assert_int_equal(h->x[S3], 0x1312ull);
    assert_int_equal(h->x[S4], 0x12111000ull); /* the byte before `across` is 0 */

    /* sign extension of a misaligned LH/LW that crosses the page */
    uint8_t neg[4] = { 0xfe, 0xff, 0xff, 0xff };
    rvt_write(T, across, neg, 4);
    RUN(rvi_lh(A0, A2, 0), rvi_lw(A3, A2, 0), rvi_lhu(A4, A2, 0));
    assert_int_equal(h->x[A0], (uint64_t)-2);
    assert_int_equal(h->x[A3], (uint64_t)-2);
    assert_int_equal(h->x[A4], 0xfffe);

    /* stores */
    h->x[A0] = 0x8877665544332211ull;
    memset(rvt_ptr(T, RVT_DATA + 0x3000), 0, 0x2000);
    h->x[A1] = RVT_DATA + 0x3003;
    h->x[A2] = RVT_DATA + 0x4000 - 5;
    h->x[A3] = RVT_DATA + 0x5000 - 1;
    memset(rvt_ptr(T, RVT_DATA + 0x4800), 0, 0x1000);
    RUN(rvi_sd(A0, A1, 0), rvi_sw(A0, A1, 9), rvi_sd(A0, A2, 0), rvi_sh(A0, A3, 0), rvi_sd(A0, A1, 0x20),
        rvi_sw(A0, A3, -2));
    assert_int_equal(rvt_r64(T, RVT_DATA + 0x3003), 0x8877665544332211ull);
    assert_int_equal(rvt_r32(T, RVT_DATA + 0x300c), 0x44332211u);
    assert_int_equal(rvt_r64(T, RVT_DATA + 0x3023), 0x8877665544332211ull);
    assert_int_equal(rvt_r64(T, RVT_DATA + 0x4000 - 5), 0x8877665544332211ull);
    /* sh at page end - 1, then sw two bytes earlier overlapping it */
    assert_int_equal(rvt_r32(T, RVT_DATA + 0x5000 - 3), 0x44332211u);
    assert_int_equal(rvt_r16(T, RVT_DATA + 0x5000 + 1), 0x0000);
    assert_int_equal(*(uint8_t *)rvt_ptr(T, RVT_DATA + 0x5000), 0x44);
}

/* A load or store to an address with nothing behind it raises an access
 * fault (cause 5 / 7) with mtval = the address and mepc = the instruction;
 * the destination register is not written. Fetching from there raises an
 * instruction access fault (cause 1). */
static void test_access_faults(void **state)
{
    struct rv_hart *h = H;
    h->x[A1] = RVT_HOLE + 0x10;
    h->x[A0] = 1234;
    rvt_code(T, RVT_CODE, rvi_addi(A2, ZERO, 1), rvi_ld(A0, A1, 8), rvi_ebreak());
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_LOAD_ACCESS);
    assert_int_equal(h->mepc, RVT_CODE + 4);
    assert_int_equal(h->mtval, RVT_HOLE + 0x18);
    assert_int_equal(h->x[A0], 1234);
    assert_int_equal(h->x[A2], 1); /* the instruction before it completed */
    assert_int_equal(h->priv, RV_PRIV_M);

    rvt_code(T, RVT_CODE, rvi_nop(), rvi_nop(), rvi_sw(A0, A1, -4), rvi_ebreak());
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_STORE_ACCESS);
    assert_int_equal(h->mepc, RVT_CODE + 8);
    assert_int_equal(h->mtval, RVT_HOLE + 0xc);

    /* an 8-byte load running off the end of RAM: the fault names the
     * first byte outside RAM */
    h->x[A1] = RVT_RAM_BASE + RVT_RAM_SIZE - 4;
    rvt_code(T, RVT_CODE, rvi_ld(A0, A1, 0), rvi_ebreak());
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_LOAD_ACCESS);
    assert_int_equal(h->mepc, RVT_CODE);
    assert_true(h->mtval >= RVT_RAM_BASE + RVT_RAM_SIZE - 4 && h->mtval <= RVT_RAM_BASE + RVT_RAM_SIZE);
    assert_int_equal(h->x[A0], 1234);

    /* jump into the hole: instruction access fault at the target */
    h->x[A1] = RVT_HOLE;
    rvt_code(T, RVT_CODE, rvi_jalr(RA, A1, 0));
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_INSN_ACCESS);
    assert_int_equal(h->mepc, RVT_HOLE);
    assert_int_equal(h->mtval, RVT_HOLE);
    assert_int_equal(h->x[RA], RVT_CODE + 4);
}

/* MMIO: naturally aligned accesses outside RAM go to the bus. */
static void test_mmio(void **state)
{
    struct rv_hart *h = H;
    struct rvt *t = T;
    uint32_t v = 0xdeadbeef;
    memcpy(t->mmio + 8, &v, 4);
    h->x[A1] = RVT_MMIO_BASE;
    h->x[A2] = 0x1122334455667788ull;
    RUN(rvi_lw(A0, A1, 8), rvi_lwu(A3, A1, 8), rvi_sd(A2, A1, 16), rvi_ld(A4, A1, 16), rvi_sb(A2, A1, 1));
    assert_int_equal(h->x[A0], 0xffffffffdeadbeefull);
    assert_int_equal(h->x[A3], 0xdeadbeefull);
    assert_int_equal(h->x[A4], 0x1122334455667788ull);
    assert_int_equal(t->mmio[1], 0x88);
    assert_true(t->mmio_reads >= 3);
    assert_true(t->mmio_writes >= 2);
}

/* ECALL from M gives cause 11; an illegal instruction gives cause 2 with
 * the instruction bits in mtval. */
static void test_ecall_illegal(void **state)
{
    struct rv_hart *h = H;
    rvt_code(T, RVT_CODE, rvi_nop(), rvi_ecall());
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ECALL_M);
    assert_int_equal(h->mepc, RVT_CODE + 4);
    assert_int_equal(h->mtval, 0);

    rvt_code(T, RVT_CODE, rvi_nop(), 0x0000000b);
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    assert_int_equal(h->mepc, RVT_CODE + 4);
    assert_int_equal(h->mtval, 0x0000000b);

    rvt_code16(T, RVT_CODE, 0x0001, 0x0000);
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_ILLEGAL_INSN);
    assert_int_equal(h->mepc, RVT_CODE + 2);
}

/* A 32-bit instruction whose halves sit on two pages executes correctly. */
static void test_insn_straddles_page(void **state)
{
    struct rv_hart *h = H;
    const uint64_t page2 = RVT_CODE + 0x1000;
    uint32_t addi = rvi_addi(A0, ZERO, 0x555);
    rvt_code16(T, page2 - 4, 0x0001 /* c.nop */, (uint16_t)addi);
    rvt_code16(T, page2, (uint16_t)(addi >> 16), 0x9002);
    h->pc = page2 - 4;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A0], 0x555);
    assert_int_equal(h->mepc, page2 + 2);
}

/* Code written by the hart itself runs after FENCE.I. */
static void test_self_modifying_code(void **state)
{
    struct rv_hart *h = H;
    const uint64_t patch = RVT_CODE + 0x40;
    rvt_w32(T, patch, rvi_addi(A0, ZERO, 1));
    rvt_w32(T, patch + 4, rvi_ebreak());
    h->x[A1] = patch;
    h->x[A2] = rvi_addi(A0, ZERO, 2);
    /* run the old code once so that it is decoded and cached */
    h->pc = patch;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A0], 1);
    /* now patch it from guest code and jump to it */
    rvt_code(T, RVT_CODE, rvi_sw(A2, A1, 0), rvi_fence_i(), rvi_jal(ZERO, 0x40 - 8));
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->mepc, patch + 4);
    assert_int_equal(h->x[A0], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_div_by_zero, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_div_overflow, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_mulh, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_shifts, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_w_sign_extension, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_slt, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_lui_auipc, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_jal_jalr, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_branches, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_x0, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_misaligned, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_access_faults, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_mmio, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_ecall_illegal, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_insn_straddles_page, rvt_setup_1hart, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_self_modifying_code, rvt_setup_1hart, rvt_teardown),
    };
    return cmocka_run_group_tests_name("alu", tests, NULL, NULL);
}

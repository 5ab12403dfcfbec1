/* rv_decode(): every instruction format, all RV64C instructions, immediates
 * at their extremes, and reserved encodings that must decode as ILLEGAL.
 *
 * The instruction words were produced by an independent assembler
 * (llvm-mc -triple=riscv64 -mattr=+m,+a,+f,+d,+c -show-encoding) from the
 * assembly in each row's comment; the expected fields are read off that
 * assembly text, not computed from the encoding. Conventions checked (see
 * decode.h): x0 as a destination becomes register 32; FP ops keep the
 * rounding mode in imm (| rs3 << 8 for fused ops); CSR ops keep the CSR
 * number in imm; ILLEGAL keeps the raw bits in imm.
 */
#include "rv_testutil.h"

#define NA (-1)                 /* field not checked */
#define IMM_NA INT64_MIN        /* immediate not checked */

struct dcase {
    uint32_t raw;
    unsigned len;
    enum rv_op op;
    int rd, rs1, rs2;
    int64_t imm;
    const char *text;
};

#define C16(raw, op, rd, rs1, rs2, imm, text) { raw, 2, RV_OP_##op, rd, rs1, rs2, imm, text }
#define C32(raw, op, rd, rs1, rs2, imm, text) { raw, 4, RV_OP_##op, rd, rs1, rs2, imm, text }

static void check_cases(const struct dcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rv_insn in;
        memset(&in, 0xa5, sizeof(in));
        unsigned len = 0;
        enum rv_op op = rv_decode(c[i].raw, &in, &len);
        if (op != c[i].op || len != c[i].len || (c[i].rd != NA && in.rd != c[i].rd) ||
            (c[i].rs1 != NA && in.rs1 != c[i].rs1) || (c[i].rs2 != NA && in.rs2 != c[i].rs2) ||
            (c[i].imm != IMM_NA && in.imm != c[i].imm)) {
            print_error("%s (0x%08x): got %s len %u rd %u rs1 %u rs2 %u imm %d; want %s len %u rd %d rs1 %d "
                        "rs2 %d imm %lld\n",
                        c[i].text, c[i].raw, rv_op_name(op), len, in.rd, in.rs1, in.rs2, in.imm,
                        rv_op_name(c[i].op), c[i].len, c[i].rd, c[i].rs1, c[i].rs2, (long long)c[i].imm);
            fail();
        }
        assert_null(in.handler);
        assert_int_equal(in.off, 0);
    }
}

/* ---- RV64C, quadrant 0 ---- */
static void test_c_quadrant0(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        /* C.ADDI4SPN: nzuimm[9:2], zero-extended */
        C16(0x1fe8, ADDI, 10, 2, NA, 1020, "c.addi4spn a0, sp, 1020 (max)"),
        C16(0x0040, ADDI, 8, 2, NA, 4, "c.addi4spn s0, sp, 4 (min)"),
        /* loads/stores: uimm scaled by the access size */
        C16(0x3ffc, FLD, 15, 15, NA, 248, "c.fld fa5, 248(a5)"),
        C16(0x5de8, LW, 10, 11, NA, 124, "c.lw a0, 124(a1)"),
        C16(0x4080, LW, 8, 9, NA, 0, "c.lw s0, 0(s1)"),
        C16(0x7de8, LD, 10, 11, NA, 248, "c.ld a0, 248(a1)"),
        C16(0xbde8, FSD, NA, 11, 10, 248, "c.fsd fa0, 248(a1)"),
        C16(0xdde8, SW, NA, 11, 10, 124, "c.sw a0, 124(a1)"),
        C16(0xfc7c, SD, NA, 8, 15, 248, "c.sd a5, 248(s0)"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* ---- RV64C, quadrant 1 ---- */
static void test_c_quadrant1(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        C16(0x0001, NOP, NA, NA, NA, IMM_NA, "c.nop"),
        C16(0x1501, ADDI, 10, 10, NA, -32, "c.addi a0, -32"),
        C16(0x057d, ADDI, 10, 10, NA, 31, "c.addi a0, 31"),
        C16(0x3501, ADDIW, 10, 10, NA, -32, "c.addiw a0, -32"),
        C16(0x2ffd, ADDIW, 31, 31, NA, 31, "c.addiw t6, 31"),
        C16(0x5501, ADDI, 10, 0, NA, -32, "c.li a0, -32"),
        C16(0x4ffd, ADDI, 31, 0, NA, 31, "c.li t6, 31"),
        /* C.ADDI16SP: nzimm[9:4], sign-extended */
        C16(0x7101, ADDI, 2, 2, NA, -512, "c.addi16sp sp, -512 (min)"),
        C16(0x617d, ADDI, 2, 2, NA, 496, "c.addi16sp sp, 496 (max)"),
        C16(0x6141, ADDI, 2, 2, NA, 16, "c.addi16sp sp, 16"),
        /* C.LUI: nzimm[17:12], sign-extended from bit 17 */
        C16(0x7501, LUI, 10, NA, NA, -131072, "c.lui a0, 0xfffe0 (most negative)"),
        C16(0x6ffd, LUI, 31, NA, NA, 0x1f000, "c.lui t6, 0x1f (max)"),
        C16(0x6085, LUI, 1, NA, NA, 0x1000, "c.lui ra, 1"),
        /* shifts use shamt[5] (bit 12) on RV64 */
        C16(0x917d, SRLI, 10, 10, NA, 63, "c.srli a0, 63"),
        C16(0x8005, SRLI, 8, 8, NA, 1, "c.srli s0, 1"),
        C16(0x95fd, SRAI, 11, 11, NA, 63, "c.srai a1, 63"),
        C16(0x9781, SRAI, 15, 15, NA, 32, "c.srai a5, 32"),
        C16(0x9a01, ANDI, 12, 12, NA, -32, "c.andi a2, -32"),
        C16(0x8a7d, ANDI, 12, 12, NA, 31, "c.andi a2, 31"),
        C16(0x8c1d, SUB, 8, 8, 15, IMM_NA, "c.sub s0, a5"),
        C16(0x8d2d, XOR, 10, 10, 11, IMM_NA, "c.xor a0, a1"),
        C16(0x8e55, OR, 12, 12, 13, IMM_NA, "c.or a2, a3"),
        C16(0x8f65, AND, 14, 14, 9, IMM_NA, "c.and a4, s1"),
        C16(0x9f81, SUBW, 15, 15, 8, IMM_NA, "c.subw a5, s0"),
        C16(0x9ca9, ADDW, 9, 9, 10, IMM_NA, "c.addw s1, a0"),
        /* C.J: offset[11:1], link register x0 (-> 32) */
        C16(0xb001, JAL, 32, NA, NA, -2048, "c.j -2048 (min)"),
        C16(0xaffd, JAL, 32, NA, NA, 2046, "c.j 2046 (max)"),
        C16(0xbffd, JAL, 32, NA, NA, -2, "c.j -2"),
        /* C.BEQZ/C.BNEZ: offset[8:1], compare against x0 */
        C16(0xd101, BEQ, NA, 10, 0, -256, "c.beqz a0, -256 (min)"),
        C16(0xeffd, BNE, NA, 15, 0, 254, "c.bnez a5, 254 (max)"),
        C16(0xc009, BEQ, NA, 8, 0, 2, "c.beqz s0, 2"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* ---- RV64C, quadrant 2 ---- */
static void test_c_quadrant2(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        C16(0x157e, SLLI, 10, 10, NA, 63, "c.slli a0, 63"),
        C16(0x0086, SLLI, 1, 1, NA, 1, "c.slli ra, 1"),
        C16(0x357e, FLD, 10, 2, NA, 504, "c.fldsp fa0, 504(sp) (max)"),
        C16(0x2002, FLD, 0, 2, NA, 0, "c.fldsp ft0, 0(sp)"),
        C16(0x557e, LW, 10, 2, NA, 252, "c.lwsp a0, 252(sp) (max)"),
        C16(0x4f82, LW, 31, 2, NA, 0, "c.lwsp t6, 0(sp)"),
        C16(0x757e, LD, 10, 2, NA, 504, "c.ldsp a0, 504(sp) (max)"),
        C16(0x8082, JALR, 32, 1, NA, 0, "c.jr ra"),
        C16(0x8f82, JALR, 32, 31, NA, 0, "c.jr t6"),
        C16(0x852e, ADD, 10, 0, 11, IMM_NA, "c.mv a0, a1"),
        C16(0x8f86, ADD, 31, 0, 1, IMM_NA, "c.mv t6, ra"),
        C16(0x9002, EBREAK, NA, NA, NA, IMM_NA, "c.ebreak"),
        C16(0x9502, JALR, 1, 10, NA, 0, "c.jalr a0 (links ra)"),
        C16(0x9082, JALR, 1, 1, NA, 0, "c.jalr ra"),
        C16(0x952e, ADD, 10, 10, 11, IMM_NA, "c.add a0, a1"),
        C16(0x9ffe, ADD, 31, 31, 31, IMM_NA, "c.add t6, t6"),
        C16(0xbfaa, FSD, NA, 2, 10, 504, "c.fsdsp fa0, 504(sp) (max)"),
        C16(0xdfaa, SW, NA, 2, 10, 252, "c.swsp a0, 252(sp) (max)"),
        C16(0xc07e, SW, NA, 2, 31, 0, "c.swsp t6, 0(sp)"),
        C16(0xffaa, SD, NA, 2, 10, 504, "c.sdsp a0, 504(sp) (max)"),
        C16(0xe406, SD, NA, 2, 1, 8, "c.sdsp ra, 8(sp)"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* The upper 16 bits of raw must not matter for a compressed instruction. */
static void test_c_ignores_upper_half(void **state)
{
    (void)state;
    struct rv_insn a, b;
    unsigned la, lb;
    assert_int_equal(rv_decode(0x7101, &a, &la), RV_OP_ADDI);
    assert_int_equal(rv_decode(0xffff7101u, &b, &lb), RV_OP_ADDI);
    assert_int_equal(la, 2);
    assert_int_equal(lb, 2);
    assert_int_equal(a.imm, b.imm);
    assert_int_equal(a.rd, b.rd);
}

/* Reserved compressed encodings (unprivileged spec, RVC chapter): all
 * raise illegal-instruction; ILLEGAL keeps the raw bits in imm. */
static void test_c_illegal(void **state)
{
    (void)state;
    static const uint16_t bad[] = {
        0x0000, /* all-zero halfword: defined illegal */
        0x0004, /* C.ADDI4SPN with nzuimm = 0 (rd' = s1) */
        0x8000, /* quadrant 0, funct3 100: reserved */
        0x2001, /* C.ADDIW rd = 0 */
        0x2005, /* C.ADDIW rd = 0, imm 1 */
        0x6101, /* C.ADDI16SP with nzimm = 0 */
        0x6501, /* C.LUI a0 with nzimm = 0 */
        0x9c41, /* C.SUBW/C.ADDW space, funct2 10: reserved */
        0x9c61, /* ... funct2 11: reserved */
        0x4002, /* C.LWSP rd = 0 */
        0x5002, /* C.LWSP rd = 0 (uimm 32) */
        0x6002, /* C.LDSP rd = 0 */
        0x8002, /* C.JR rs1 = 0 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rv_insn in;
        unsigned len;
        enum rv_op op = rv_decode(bad[i], &in, &len);
        if (op != RV_OP_ILLEGAL) {
            print_error("0x%04x decoded as %s\n", bad[i], rv_op_name(op));
            fail();
        }
        assert_int_equal(len, 2);
        assert_int_equal((uint32_t)in.imm, bad[i]);
    }
}

/* ---- 32-bit: RV64I ---- */
static void test_rv64i(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        /* B-type: imm[12:1], sign-extended */
        C32(0x80b50063, BEQ, NA, 10, 11, -4096, "beq a0, a1, -4096 (min)"),
        C32(0x7ff01fe3, BNE, NA, 0, 31, 4094, "bne zero, t6, 4094 (max)"),
        C32(0x00b54163, BLT, NA, 10, 11, 2, "blt a0, a1, 2"),
        C32(0xfe0fdfe3, BGE, NA, 31, 0, -2, "bge t6, zero, -2"),
        C32(0x00b560e3, BLTU, NA, 10, 11, 2048, "bltu a0, a1, 2048 (imm[11])"),
        C32(0x80b570e3, BGEU, NA, 10, 11, -2048, "bgeu a0, a1, -2048"),
        /* J-type: imm[20:1] */
        C32(0x800000ef, JAL, 1, NA, NA, -1048576, "jal ra, -1048576 (min)"),
        C32(0x7ffff06f, JAL, 32, NA, NA, 1048574, "jal zero, 1048574 (max; rd x0 -> 32)"),
        C32(0x00100fef, JAL, 31, NA, NA, 2048, "jal t6, 2048 (imm[11])"),
        C32(0x800500e7, JALR, 1, 10, NA, -2048, "jalr ra, -2048(a0)"),
        C32(0x7fff8067, JALR, 32, 31, NA, 2047, "jalr zero, 2047(t6)"),
        /* S-type */
        C32(0x80a5b023, SD, NA, 11, 10, -2048, "sd a0, -2048(a1) (min)"),
        C32(0x7ff12fa3, SW, NA, 2, 31, 2047, "sw t6, 2047(sp) (max)"),
        C32(0x00a590a3, SH, NA, 11, 10, 1, "sh a0, 1(a1)"),
        C32(0xfea58fa3, SB, NA, 11, 10, -1, "sb a0, -1(a1)"),
        /* loads (I-type) */
        C32(0x8005b503, LD, 10, 11, NA, -2048, "ld a0, -2048(a1)"),
        C32(0x7ff58503, LB, 10, 11, NA, 2047, "lb a0, 2047(a1)"),
        C32(0x00059503, LH, 10, 11, NA, 0, "lh a0, 0(a1)"),
        C32(0x0005a503, LW, 10, 11, NA, 0, "lw a0, 0(a1)"),
        C32(0x0005c503, LBU, 10, 11, NA, 0, "lbu a0, 0(a1)"),
        C32(0x0005d503, LHU, 10, 11, NA, 0, "lhu a0, 0(a1)"),
        C32(0x0005e003, LWU, 32, 11, NA, 0, "lwu zero, 0(a1)"),
        /* U-type: the imm is the 32-bit value, sign-extended on RV64 */
        C32(0xfffff537, LUI, 10, NA, NA, -4096, "lui a0, 0xfffff"),
        C32(0x80000537, LUI, 10, NA, NA, INT32_MIN, "lui a0, 0x80000"),
        C32(0x00001037, LUI, 32, NA, NA, 0x1000, "lui zero, 1"),
        C32(0x7ffff297, AUIPC, 5, NA, NA, 0x7ffff000, "auipc t0, 0x7ffff"),
        C32(0x80000517, AUIPC, 10, NA, NA, INT32_MIN, "auipc a0, 0x80000"),
        /* OP-IMM */
        C32(0x80058513, ADDI, 10, 11, NA, -2048, "addi a0, a1, -2048"),
        C32(0xfff5a513, SLTI, 10, 11, NA, -1, "slti a0, a1, -1"),
        C32(0xfff5b513, SLTIU, 10, 11, NA, -1, "sltiu a0, a1, -1 (sign-extended, then unsigned)"),
        C32(0xfff5c513, XORI, 10, 11, NA, -1, "xori a0, a1, -1"),
        C32(0x7ff5e513, ORI, 10, 11, NA, 2047, "ori a0, a1, 2047"),
        C32(0x8005f513, ANDI, 10, 11, NA, -2048, "andi a0, a1, -2048"),
        C32(0x03f59513, SLLI, 10, 11, NA, 63, "slli a0, a1, 63"),
        C32(0x03f5d513, SRLI, 10, 11, NA, 63, "srli a0, a1, 63"),
        C32(0x43f5d513, SRAI, 10, 11, NA, 63, "srai a0, a1, 63"),
        C32(0x4015d513, SRAI, 10, 11, NA, 1, "srai a0, a1, 1"),
        /* OP */
        C32(0x00c58533, ADD, 10, 11, 12, IMM_NA, "add a0, a1, a2"),
        C32(0x40c58533, SUB, 10, 11, 12, IMM_NA, "sub"),
        C32(0x00c59533, SLL, 10, 11, 12, IMM_NA, "sll"),
        C32(0x00c5a533, SLT, 10, 11, 12, IMM_NA, "slt"),
        C32(0x00c5b533, SLTU, 10, 11, 12, IMM_NA, "sltu"),
        C32(0x00c5c533, XOR, 10, 11, 12, IMM_NA, "xor"),
        C32(0x00c5d533, SRL, 10, 11, 12, IMM_NA, "srl"),
        C32(0x40c5d533, SRA, 10, 11, 12, IMM_NA, "sra"),
        C32(0x00c5e533, OR, 10, 11, 12, IMM_NA, "or"),
        C32(0x00c5f533, AND, 10, 11, 12, IMM_NA, "and"),
        /* RV64 W forms */
        C32(0x8005851b, ADDIW, 10, 11, NA, -2048, "addiw a0, a1, -2048"),
        C32(0x7ff5851b, ADDIW, 10, 11, NA, 2047, "addiw a0, a1, 2047"),
        C32(0x01f5951b, SLLIW, 10, 11, NA, 31, "slliw a0, a1, 31"),
        C32(0x01f5d51b, SRLIW, 10, 11, NA, 31, "srliw a0, a1, 31"),
        C32(0x41f5d51b, SRAIW, 10, 11, NA, 31, "sraiw a0, a1, 31"),
        C32(0x00c5853b, ADDW, 10, 11, 12, IMM_NA, "addw"),
        C32(0x40c5853b, SUBW, 10, 11, 12, IMM_NA, "subw"),
        C32(0x00c5953b, SLLW, 10, 11, 12, IMM_NA, "sllw"),
        C32(0x00c5d53b, SRLW, 10, 11, 12, IMM_NA, "srlw"),
        C32(0x40c5d53b, SRAW, 10, 11, 12, IMM_NA, "sraw"),
        /* M */
        C32(0x02c58533, MUL, 10, 11, 12, IMM_NA, "mul"),
        C32(0x02c59533, MULH, 10, 11, 12, IMM_NA, "mulh"),
        C32(0x02c5a533, MULHSU, 10, 11, 12, IMM_NA, "mulhsu"),
        C32(0x02c5b533, MULHU, 10, 11, 12, IMM_NA, "mulhu"),
        C32(0x02c5c533, DIV, 10, 11, 12, IMM_NA, "div"),
        C32(0x02c5d533, DIVU, 10, 11, 12, IMM_NA, "divu"),
        C32(0x02c5e533, REM, 10, 11, 12, IMM_NA, "rem"),
        C32(0x02c5f533, REMU, 10, 11, 12, IMM_NA, "remu"),
        C32(0x02c5853b, MULW, 10, 11, 12, IMM_NA, "mulw"),
        C32(0x02c5c53b, DIVW, 10, 11, 12, IMM_NA, "divw"),
        C32(0x02c5d53b, DIVUW, 10, 11, 12, IMM_NA, "divuw"),
        C32(0x02c5e53b, REMW, 10, 11, 12, IMM_NA, "remw"),
        C32(0x02c5f53b, REMUW, 10, 11, 12, IMM_NA, "remuw"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* ---- A ---- */
static void test_amo(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        C32(0x1005a52f, LR_W, 10, 11, NA, IMM_NA, "lr.w a0, (a1)"),
        C32(0x18c5a52f, SC_W, 10, 11, 12, IMM_NA, "sc.w a0, a2, (a1)"),
        C32(0x0ec5a52f, AMOSWAP_W, 10, 11, 12, IMM_NA, "amoswap.w.aqrl a0, a2, (a1)"),
        C32(0x00c5a52f, AMOADD_W, 10, 11, 12, IMM_NA, "amoadd.w"),
        C32(0x20c5a52f, AMOXOR_W, 10, 11, 12, IMM_NA, "amoxor.w"),
        C32(0x60c5a52f, AMOAND_W, 10, 11, 12, IMM_NA, "amoand.w"),
        C32(0x40c5a52f, AMOOR_W, 10, 11, 12, IMM_NA, "amoor.w"),
        C32(0x80c5a52f, AMOMIN_W, 10, 11, 12, IMM_NA, "amomin.w"),
        C32(0xa0c5a52f, AMOMAX_W, 10, 11, 12, IMM_NA, "amomax.w"),
        C32(0xc0c5a52f, AMOMINU_W, 10, 11, 12, IMM_NA, "amominu.w"),
        C32(0xe0c5a02f, AMOMAXU_W, 32, 11, 12, IMM_NA, "amomaxu.w zero, a2, (a1)"),
        C32(0x1405b52f, LR_D, 10, 11, NA, IMM_NA, "lr.d.aq a0, (a1)"),
        C32(0x1ac5b52f, SC_D, 10, 11, 12, IMM_NA, "sc.d.rl a0, a2, (a1)"),
        C32(0x08c5b52f, AMOSWAP_D, 10, 11, 12, IMM_NA, "amoswap.d"),
        C32(0x00c5b52f, AMOADD_D, 10, 11, 12, IMM_NA, "amoadd.d"),
        C32(0x20c5b52f, AMOXOR_D, 10, 11, 12, IMM_NA, "amoxor.d"),
        C32(0x60c5b52f, AMOAND_D, 10, 11, 12, IMM_NA, "amoand.d"),
        C32(0x40c5b52f, AMOOR_D, 10, 11, 12, IMM_NA, "amoor.d"),
        C32(0x80c5b52f, AMOMIN_D, 10, 11, 12, IMM_NA, "amomin.d"),
        C32(0xa0c5b52f, AMOMAX_D, 10, 11, 12, IMM_NA, "amomax.d"),
        C32(0xc0c5b52f, AMOMINU_D, 10, 11, 12, IMM_NA, "amominu.d"),
        C32(0xe0c5b52f, AMOMAXU_D, 10, 11, 12, IMM_NA, "amomaxu.d"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* ---- F and D ---- */
static void test_fp(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        C32(0x8005a507, FLW, 10, 11, NA, -2048, "flw fa0, -2048(a1)"),
        C32(0x7ff5b507, FLD, 10, 11, NA, 2047, "fld fa0, 2047(a1)"),
        C32(0xfea5afa7, FSW, NA, 11, 10, -1, "fsw fa0, -1(a1)"),
        C32(0x7ff13fa7, FSD, NA, 2, 31, 2047, "fsd ft11, 2047(sp)"),
        C32(0x00c58553, FADD_S, 10, 11, 12, 0, "fadd.s rne"),
        C32(0x02c5f553, FADD_D, 10, 11, 12, 7, "fadd.d dyn"),
        C32(0x08c59553, FSUB_S, 10, 11, 12, 1, "fsub.s rtz"),
        C32(0x0ac5a553, FSUB_D, 10, 11, 12, 2, "fsub.d rdn"),
        C32(0x10c5b553, FMUL_S, 10, 11, 12, 3, "fmul.s rup"),
        C32(0x12c5c553, FMUL_D, 10, 11, 12, 4, "fmul.d rmm"),
        C32(0x18c5f553, FDIV_S, 10, 11, 12, 7, "fdiv.s"),
        C32(0x1ac5f553, FDIV_D, 10, 11, 12, 7, "fdiv.d"),
        C32(0x5805f553, FSQRT_S, 10, 11, NA, 7, "fsqrt.s"),
        C32(0x5a05f553, FSQRT_D, 10, 11, NA, 7, "fsqrt.d"),
        C32(0x20c58553, FSGNJ_S, 10, 11, 12, 0, "fsgnj.s"),
        C32(0x22c59553, FSGNJ_D, 10, 11, 12, 1, "fsgnjn.d"),
        C32(0x20c5a553, FSGNJ_S, 10, 11, 12, 2, "fsgnjx.s"),
        C32(0x28c58553, FMIN_S, 10, 11, 12, IMM_NA, "fmin.s"),
        C32(0x2ac59553, FMAX_D, 10, 11, 12, IMM_NA, "fmax.d"),
        C32(0xc0059553, FCVT_W_S, 10, 11, NA, 1, "fcvt.w.s a0, fa1, rtz"),
        C32(0xc015f553, FCVT_WU_S, 10, 11, NA, 7, "fcvt.wu.s"),
        C32(0xc025f553, FCVT_L_S, 10, 11, NA, 7, "fcvt.l.s"),
        C32(0xc235f053, FCVT_LU_D, 32, 11, NA, 7, "fcvt.lu.d zero, fa1 (x0 -> 32)"),
        C32(0xd005f553, FCVT_S_W, 10, 11, NA, 7, "fcvt.s.w"),
        C32(0xd015f553, FCVT_S_WU, 10, 11, NA, 7, "fcvt.s.wu"),
        C32(0xd225f553, FCVT_D_L, 10, 11, NA, 7, "fcvt.d.l"),
        C32(0xd235f553, FCVT_D_LU, 10, 11, NA, 7, "fcvt.d.lu"),
        C32(0x4015f553, FCVT_S_D, 10, 11, NA, 7, "fcvt.s.d"),
        C32(0x42058553, FCVT_D_S, 10, 11, NA, IMM_NA, "fcvt.d.s"),
        C32(0xe0058553, FMV_X_W, 10, 11, NA, IMM_NA, "fmv.x.w"),
        C32(0xe2058053, FMV_X_D, 32, 11, NA, IMM_NA, "fmv.x.d zero, fa1"),
        C32(0xf0058553, FMV_W_X, 10, 11, NA, IMM_NA, "fmv.w.x"),
        C32(0xf2058553, FMV_D_X, 10, 11, NA, IMM_NA, "fmv.d.x"),
        C32(0xa0c5a553, FEQ_S, 10, 11, 12, IMM_NA, "feq.s"),
        C32(0xa2c59553, FLT_D, 10, 11, 12, IMM_NA, "flt.d"),
        C32(0xa0c58053, FLE_S, 32, 11, 12, IMM_NA, "fle.s zero"),
        C32(0xe0059553, FCLASS_S, 10, 11, NA, IMM_NA, "fclass.s"),
        C32(0xe2059553, FCLASS_D, 10, 11, NA, IMM_NA, "fclass.d"),
        /* fused: imm = rm | rs3 << 8 */
        C32(0x68c5f543, FMADD_S, 10, 11, 12, 7 | 13 << 8, "fmadd.s fa0, fa1, fa2, fa3"),
        C32(0xfac59547, FMSUB_D, 10, 11, 12, 1 | 31 << 8, "fmsub.d fa0, fa1, fa2, ft11, rtz"),
        C32(0x68c5f54b, FNMSUB_S, 10, 11, 12, 7 | 13 << 8, "fnmsub.s"),
        C32(0x6ac5f54f, FNMADD_D, 10, 11, 12, 7 | 13 << 8, "fnmadd.d"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* ---- Zicsr and SYSTEM ---- */
static void test_system(void **state)
{
    (void)state;
    static const struct dcase c[] = {
        C32(0x30059573, CSRRW, 10, 11, NA, 0x300, "csrrw a0, mstatus, a1"),
        C32(0xffffa073, CSRRS, 32, 31, NA, 0xfff, "csrrs zero, 0xfff, t6 (CSR number unsigned)"),
        C32(0x18003573, CSRRC, 10, 0, NA, 0x180, "csrrc a0, satp, zero"),
        C32(0x305fd573, CSRRWI, 10, 31, NA, 0x305, "csrrwi a0, mtvec, 31 (uimm in rs1)"),
        C32(0x1000e573, CSRRSI, 10, 1, NA, 0x100, "csrrsi a0, sstatus, 1"),
        C32(0x00307073, CSRRCI, 32, 0, NA, 0x003, "csrrci zero, fcsr, 0"),
        C32(0x00000073, ECALL, NA, NA, NA, IMM_NA, "ecall"),
        C32(0x00100073, EBREAK, NA, NA, NA, IMM_NA, "ebreak"),
        C32(0x30200073, MRET, NA, NA, NA, IMM_NA, "mret"),
        C32(0x10200073, SRET, NA, NA, NA, IMM_NA, "sret"),
        C32(0x10500073, WFI, NA, NA, NA, IMM_NA, "wfi"),
        C32(0x12b50073, SFENCE_VMA, NA, 10, 11, IMM_NA, "sfence.vma a0, a1"),
        C32(0x12000073, SFENCE_VMA, NA, 0, 0, IMM_NA, "sfence.vma"),
        C32(0x0000100f, FENCE_I, NA, NA, NA, IMM_NA, "fence.i"),
    };
    check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* FENCE keeps its predecessor/successor sets in imm[7:0] (PI PO PR PW |
 * SI SO SR SW): the interpreter needs them to tell a FENCE W,R (which
 * needs a host store-load barrier) from cheaper ones. */
static void test_fence(void **state)
{
    (void)state;
    struct rv_insn in;
    unsigned len;
    assert_int_equal(rv_decode(0x0330000f, &in, &len), RV_OP_FENCE); /* fence rw, rw */
    assert_int_equal(len, 4);
    assert_int_equal(in.imm & 0xff, 0x33);
    assert_int_equal(rv_decode(0x0120000f, &in, &len), RV_OP_FENCE); /* fence w, r */
    assert_int_equal(in.imm & 0xff, 0x12);
    assert_int_equal(rv_decode(0x8330000f, &in, &len), RV_OP_FENCE); /* fence.tso */
    assert_int_equal(in.imm & 0xff, 0x33);
}

/* Reserved 32-bit encodings. */
static void test_illegal32(void **state)
{
    (void)state;
    static const uint32_t bad[] = {
        0x00c5d553, /* fadd.s with rm = 5 (reserved) */
        0x00c5e553, /* fadd.s with rm = 6 (reserved) */
        0x68c5d543, /* fmadd.s with rm = 5 */
        0x68c5e543, /* fmadd.s with rm = 6 */
        0xc005e553, /* fcvt.w.s with rm = 6 */
        0x5805d553, /* fsqrt.s with rm = 5 */
        0x20c5b553, /* fsgnj with funct3 = 3 */
        0x04c58553, /* fadd.h: Zfh not implemented */
        0x6cc5f543, /* fmadd.h: fmt 2 */
        0x1015a52f, /* lr.w with rs2 != 0 */
        0x00c5852f, /* AMO with width funct3 = 0 */
        0x43f59513, /* slli with funct6 = 0x10 */
        0x0205951b, /* slliw with shamt[5] set */
        0x4205d51b, /* sraiw with shamt[5] set */
        0x12b500f3, /* sfence.vma with rd != 0 */
        0x00200073, /* uret: N extension not implemented */
        0x7b200073, /* dret: debug mode not implemented */
        0x3005c573, /* SYSTEM funct3 = 4 */
        0x00b52063, /* branch funct3 = 2 */
        0x0005f503, /* load funct3 = 7 */
        0x00a5c023, /* store funct3 = 4 */
        0x000510e7, /* jalr funct3 = 1 */
        0x0000000b, /* custom-0 opcode */
        0x0000001f, /* 48-bit encoding */
        0x0000003f, /* 64-bit encoding */
        0xffffffff, /* all ones */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rv_insn in;
        unsigned len;
        enum rv_op op = rv_decode(bad[i], &in, &len);
        if (op != RV_OP_ILLEGAL) {
            print_error("0x%08x decoded as %s\n", bad[i], rv_op_name(op));
            fail();
        }
        assert_int_equal(len, 4);
        assert_int_equal((uint32_t)in.imm, bad[i]);
        assert_int_equal(in.rd, 0);
    }
}

/* Control transfers, system instructions and CSR accesses end a block;
 * ordinary ALU and memory instructions do not. */
static void test_ends_block(void **state)
{
    (void)state;
    static const enum rv_op ends[] = { RV_OP_JAL, RV_OP_JALR, RV_OP_BEQ, RV_OP_BGEU, RV_OP_ECALL,
                                       RV_OP_EBREAK, RV_OP_MRET, RV_OP_SRET, RV_OP_WFI, RV_OP_SFENCE_VMA,
                                       RV_OP_FENCE_I, RV_OP_CSRRW, RV_OP_CSRRCI, RV_OP_ILLEGAL };
    static const enum rv_op cont[] = { RV_OP_ADD, RV_OP_LD, RV_OP_SD, RV_OP_AMOADD_W, RV_OP_FENCE,
                                       RV_OP_FADD_D, RV_OP_LUI, RV_OP_NOP };
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
        assert_true(rv_op_ends_block(ends[i]));
    for (size_t i = 0; i < sizeof(cont) / sizeof(cont[0]); i++)
        assert_false(rv_op_ends_block(cont[i]));
    assert_string_equal(rv_op_name(RV_OP_AMOMAXU_D), "AMOMAXU_D");
    /* CSR instructions end a block, except on fflags, frm and fcsr */
    struct rv_insn in = { 0 };
    unsigned len;
    assert_int_equal(rv_decode(0x00102773, &in, &len), RV_OP_CSRRS); /* frflags a4 */
    assert_false(rv_insn_ends_block(RV_OP_CSRRS, &in));
    assert_int_equal(rv_decode(0x00171073, &in, &len), RV_OP_CSRRW); /* fsflags a4 */
    assert_false(rv_insn_ends_block(RV_OP_CSRRW, &in));
    assert_int_equal(rv_decode(0x30029073, &in, &len), RV_OP_CSRRW); /* csrw mstatus, t0 */
    assert_true(rv_insn_ends_block(RV_OP_CSRRW, &in));
    assert_true(rv_insn_ends_block(RV_OP_JAL, &in));
    assert_false(rv_insn_ends_block(RV_OP_ADD, &in));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_quadrant0),
        cmocka_unit_test(test_c_quadrant1),
        cmocka_unit_test(test_c_quadrant2),
        cmocka_unit_test(test_c_ignores_upper_half),
        cmocka_unit_test(test_c_illegal),
        cmocka_unit_test(test_rv64i),
        cmocka_unit_test(test_amo),
        cmocka_unit_test(test_fp),
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_fence),
        cmocka_unit_test(test_illegal32),
        cmocka_unit_test(test_ends_block),
    };
    return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}

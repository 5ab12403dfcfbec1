/* F and D: arithmetic with exact expected bits, the five rounding modes
 * (static rm and frm), RMM ties, every fflags bit, fflags/frm/fcsr, NaN
 * boxing, canonical NaNs, saturating float->int conversions, int->float
 * and float<->float conversions, fmin/fmax with NaNs and signed zeros,
 * comparisons, fclass, fmv, sign injection, fused multiply-add (one
 * rounding), loads/stores, mstatus.FS (off: illegal instruction; written:
 * dirty). Expected values were worked out by hand and checked with exact
 * rational arithmetic. */
#include "common.h"

#define BOX 0xffffffff00000000
#define D_ONE 0x3ff0000000000000
#define D_TWO 0x4000000000000000
#define D_THREE 0x4008000000000000
#define D_MONE 0xbff0000000000000
#define D_QNAN 0x7ff8000000000000
#define D_SNAN 0x7ff0000000000001
#define D_INF 0x7ff0000000000000
#define D_NINF 0xfff0000000000000
#define D_MAX 0x7fefffffffffffff
#define D_NZERO 0x8000000000000000
#define S_ONE 0x3f800000
#define S_TWO 0x40000000
#define S_THREE 0x40400000
#define S_MONE 0xbf800000
#define S_QNAN 0x7fc00000
#define S_SNAN 0x7f800001

#define NX 0x01
#define UF 0x02
#define OF 0x04
#define DZ 0x08
#define NV 0x10

#define LD_D(freg, bits) li t0, bits; fmv.d.x freg, t0
#define LD_S(freg, bits) li t0, bits; fmv.w.x freg, t0

/* fa2 = op(fa0, fa1) [rm]; check the bits and fflags */
#define T_BIN_D(n, op, rm, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); LD_D(fa1, b); \
    op fa2, fa0, fa1, rm; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_BIN_S(n, op, rm, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); LD_S(fa1, b); \
    op fa2, fa0, fa1, rm; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
/* without a rounding-mode operand (min/max, sign injection) */
#define T_BIN2_D(n, op, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); LD_D(fa1, b); \
    op fa2, fa0, fa1; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_BIN2_S(n, op, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); LD_S(fa1, b); \
    op fa2, fa0, fa1; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
#define T_UN_D(n, op, rm, a, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); \
    op fa2, fa0, rm; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_UN_S(n, op, rm, a, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); \
    op fa2, fa0, rm; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
#define T_CVT_SD(n, rm, a, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); \
    fcvt.s.d fa2, fa0, rm; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
#define T_FMA_D(n, op, a, b, c, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); LD_D(fa1, b); LD_D(fa3, c); \
    op fa2, fa0, fa1, fa3; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_FMA_S(n, op, a, b, c, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); LD_S(fa1, b); LD_S(fa3, c); \
    op fa2, fa0, fa1, fa3; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
#define T_FMA_S_RM(n, op, rm, a, b, c, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); LD_S(fa1, b); LD_S(fa3, c); \
    op fa2, fa0, fa1, fa3, rm; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)
/* a0 = op(fa0 [, fa1]) for conversions to int, compares, fclass */
#define T_TOX_D(n, op, rm, a, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); \
    op a0, fa0, rm; CHECK(a0, res); CHECK_FFLAGS(flags)
#define T_TOX_S(n, op, rm, a, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); \
    op a0, fa0, rm; CHECK(a0, res); CHECK_FFLAGS(flags)
#define T_CMP_D(n, op, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); LD_D(fa1, b); \
    op a0, fa0, fa1; CHECK(a0, res); CHECK_FFLAGS(flags)
#define T_CMP_S(n, op, a, b, res, flags) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); LD_S(fa1, b); \
    op a0, fa0, fa1; CHECK(a0, res); CHECK_FFLAGS(flags)
#define T_CLASS_D(n, a, res) \
    li gp, n; csrwi fflags, 0; LD_D(fa0, a); \
    fclass.d a0, fa0; CHECK(a0, res); CHECK_FFLAGS(0)
#define T_CLASS_S(n, a, res) \
    li gp, n; csrwi fflags, 0; LD_S(fa0, a); \
    fclass.s a0, fa0; CHECK(a0, res); CHECK_FFLAGS(0)
#define T_FROMX_D(n, op, rm, x, res, flags) \
    li gp, n; csrwi fflags, 0; li a1, x; \
    op fa2, a1, rm; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_FROMX2_D(n, op, x, res, flags) \
    li gp, n; csrwi fflags, 0; li a1, x; \
    op fa2, a1; CHECK_FREG(fa2, res); CHECK_FFLAGS(flags)
#define T_FROMX_S(n, op, rm, x, res, flags) \
    li gp, n; csrwi fflags, 0; li a1, x; \
    op fa2, a1, rm; CHECK_FREG(fa2, BOX | res); CHECK_FFLAGS(flags)

    .text
    .globl test_main
test_main:
    /* ---- exact arithmetic ---- */
    T_BIN_D(1, fadd.d, rne, 0x3ff8000000000000, 0x4002000000000000, 0x400e000000000000, 0)   /* 1.5+2.25 */
    T_BIN_D(2, fsub.d, rne, D_ONE, D_THREE, 0xc000000000000000, 0)
    T_BIN_D(3, fmul.d, rne, 0xbff8000000000000, 0x4010000000000000, 0xc018000000000000, 0)   /* -1.5*4 */
    T_BIN_D(4, fdiv.d, rne, 0x401c000000000000, D_TWO, 0x400c000000000000, 0)                /* 7/2 */
    T_UN_D(5, fsqrt.d, rne, 0x4002000000000000, 0x3ff8000000000000, 0)                       /* sqrt 2.25 */
    T_BIN_S(6, fadd.s, rne, 0x3fc00000, 0x40100000, 0x40700000, 0)
    T_BIN_S(7, fsub.s, rne, S_ONE, S_THREE, 0xc0000000, 0)
    T_BIN_S(8, fmul.s, rne, 0xbfc00000, 0x40800000, 0xc0c00000, 0)
    T_BIN_S(9, fdiv.s, rne, 0x40e00000, S_TWO, 0x40600000, 0)
    T_UN_S(10, fsqrt.s, rne, 0x40100000, 0x3fc00000, 0)
    T_BIN_D(11, fadd.d, rne, D_ONE, D_MONE, 0x0000000000000000, 0)     /* x + -x = +0 */
    T_BIN_D(12, fadd.d, rdn, D_ONE, D_MONE, D_NZERO, 0)                /* ... -0 in RDN */
    T_BIN_D(13, fadd.d, rne, D_NZERO, D_NZERO, D_NZERO, 0)

    /* ---- inexact results and the rounding modes: 1/3, -1/3 ---- */
    T_BIN_D(14, fdiv.d, rne, D_ONE, D_THREE, 0x3fd5555555555555, NX)
    T_BIN_D(15, fdiv.d, rtz, D_ONE, D_THREE, 0x3fd5555555555555, NX)
    T_BIN_D(16, fdiv.d, rdn, D_ONE, D_THREE, 0x3fd5555555555555, NX)
    T_BIN_D(17, fdiv.d, rup, D_ONE, D_THREE, 0x3fd5555555555556, NX)
    T_BIN_D(18, fdiv.d, rmm, D_ONE, D_THREE, 0x3fd5555555555555, NX)
    T_BIN_D(19, fdiv.d, rdn, D_MONE, D_THREE, 0xbfd5555555555556, NX)
    T_BIN_D(20, fdiv.d, rup, D_MONE, D_THREE, 0xbfd5555555555555, NX)
    T_BIN_D(21, fdiv.d, rtz, D_MONE, D_THREE, 0xbfd5555555555555, NX)
    T_BIN_S(22, fdiv.s, rne, S_ONE, S_THREE, 0x3eaaaaab, NX)
    T_BIN_S(23, fdiv.s, rtz, S_ONE, S_THREE, 0x3eaaaaaa, NX)
    T_BIN_S(24, fdiv.s, rdn, S_ONE, S_THREE, 0x3eaaaaaa, NX)
    T_BIN_S(25, fdiv.s, rup, S_ONE, S_THREE, 0x3eaaaaab, NX)
    T_BIN_S(26, fdiv.s, rmm, S_ONE, S_THREE, 0x3eaaaaab, NX)
    T_BIN_S(27, fdiv.s, rdn, S_MONE, S_THREE, 0xbeaaaaab, NX)
    T_BIN_S(28, fdiv.s, rup, S_MONE, S_THREE, 0xbeaaaaaa, NX)
    /* the same through frm (dynamic rounding) */
    li gp, 29
    csrwi frm, 1                   /* RTZ */
    T_BIN_S(29, fdiv.s, dyn, S_ONE, S_THREE, 0x3eaaaaaa, NX)
    csrwi frm, 3                   /* RUP */
    T_BIN_D(30, fdiv.d, dyn, D_ONE, D_THREE, 0x3fd5555555555556, NX)
    csrwi frm, 2                   /* RDN */
    T_BIN_D(31, fdiv.d, dyn, D_MONE, D_THREE, 0xbfd5555555555556, NX)
    T_BIN_S(32, fdiv.s, dyn, S_ONE, S_THREE, 0x3eaaaaaa, NX)
    csrwi frm, 4                   /* RMM */
    T_BIN_S(33, fadd.s, dyn, S_ONE, 0x33800000, 0x3f800001, NX)
    csrwi frm, 0                   /* RNE */
    T_BIN_S(34, fdiv.s, dyn, S_ONE, S_THREE, 0x3eaaaaab, NX)
    /* a static rm wins over frm */
    csrwi frm, 1
    T_BIN_D(35, fdiv.d, rup, D_ONE, D_THREE, 0x3fd5555555555556, NX)
    csrwi frm, 0
    /* ties: 1 + half an ulp; 1 + 1.5 ulp */
    T_BIN_S(36, fadd.s, rne, S_ONE, 0x33800000, 0x3f800000, NX)
    T_BIN_S(37, fadd.s, rmm, S_ONE, 0x33800000, 0x3f800001, NX)
    T_BIN_S(38, fsub.s, rmm, S_MONE, 0x33800000, 0xbf800001, NX)
    T_BIN_S(39, fsub.s, rne, S_MONE, 0x33800000, 0xbf800000, NX)
    T_BIN_S(40, fadd.s, rne, S_ONE, 0x34400000, 0x3f800002, NX)
    T_BIN_S(41, fadd.s, rtz, S_ONE, 0x34400000, 0x3f800001, NX)
    T_BIN_D(42, fadd.d, rne, D_ONE, 0x3ca0000000000000, D_ONE, NX)
    T_BIN_D(43, fadd.d, rmm, D_ONE, 0x3ca0000000000000, 0x3ff0000000000001, NX)
    T_BIN_D(44, fadd.d, rup, D_ONE, 0x3ca0000000000000, 0x3ff0000000000001, NX)
    T_UN_D(45, fsqrt.d, rne, D_TWO, 0x3ff6a09e667f3bcd, NX)
    T_UN_S(46, fsqrt.s, rne, S_TWO, 0x3fb504f3, NX)
    /* RMM ties in other operations */
    T_BIN_S(242, fmul.s, rne, 0x3f800800, 0x3f800800, 0x3f801000, NX)     /* (1+2^-12)^2 */
    T_BIN_S(243, fmul.s, rmm, 0x3f800800, 0x3f800800, 0x3f801001, NX)
    T_BIN_D(244, fmul.d, rne, 0x3ff0000002000000, 0x3ff0000004000000, 0x3ff0000006000000, NX)
    T_BIN_D(245, fmul.d, rmm, 0x3ff0000002000000, 0x3ff0000004000000, 0x3ff0000006000001, NX)
    T_FMA_S_RM(246, fmadd.s, rmm, S_ONE, S_ONE, 0x33800000, 0x3f800001, NX)  /* 1*1 + 2^-24 */
    T_FMA_S_RM(247, fmadd.s, rne, S_ONE, S_ONE, 0x33800000, 0x3f800000, NX)
    T_CVT_SD(248, rmm, 0x3ff0000010000000, 0x3f800001, NX)                 /* 1 + 2^-24 */
    T_CVT_SD(249, rne, 0x3ff0000010000000, 0x3f800000, NX)

    /* ---- exception flags ---- */
    T_UN_D(47, fsqrt.d, rne, D_MONE, D_QNAN, NV)                       /* sqrt(-1) */
    T_UN_S(48, fsqrt.s, rne, S_MONE, S_QNAN, NV)
    T_UN_D(49, fsqrt.d, rne, D_NZERO, D_NZERO, 0)                      /* sqrt(-0) = -0 */
    T_BIN_D(50, fdiv.d, rne, D_ONE, 0, D_INF, DZ)                      /* 1/0 */
    T_BIN_D(51, fdiv.d, rne, D_MONE, 0, D_NINF, DZ)
    T_BIN_S(52, fdiv.s, rne, S_ONE, 0x80000000, 0xff800000, DZ)        /* 1/-0 */
    T_BIN_D(53, fdiv.d, rne, 0, 0, D_QNAN, NV)                         /* 0/0 */
    T_BIN_D(54, fsub.d, rne, D_INF, D_INF, D_QNAN, NV)                 /* inf-inf */
    T_BIN_D(55, fmul.d, rne, D_INF, 0, D_QNAN, NV)
    T_BIN_D(56, fmul.d, rne, D_MAX, D_TWO, D_INF, OF | NX)             /* overflow */
    T_BIN_D(57, fmul.d, rtz, D_MAX, D_TWO, D_MAX, OF | NX)
    T_BIN_D(58, fmul.d, rdn, D_MAX, D_TWO, D_MAX, OF | NX)
    T_BIN_D(59, fmul.d, rup, D_MAX, D_TWO, D_INF, OF | NX)
    T_BIN_S(60, fmul.s, rne, 0x7f7fffff, S_TWO, 0x7f800000, OF | NX)
    T_BIN_D(61, fmul.d, rne, 0x0170000000000000, 0x39b0000000000000, 0, UF | NX)   /* 2^-1000 * 2^-100 */
    T_BIN_D(62, fmul.d, rup, 0x0170000000000000, 0x39b0000000000000, 1, UF | NX)
    T_BIN_D(63, fmul.d, rne, 0x0170000000000000, 0x3c30000000000000, 0x4000, 0)   /* exact subnormal 2^-1060 */
    T_BIN_S(64, fmul.s, rne, 0x00800000, 0x3f000000, 0x00400000, 0)   /* exact subnormal */
    T_BIN_S(65, fmul.s, rne, 0x00800001, 0x3f000000, 0x00400000, UF | NX)          /* tie, to even */
    T_BIN_D(66, fadd.d, rne, D_SNAN, D_ONE, D_QNAN, NV)                /* signaling NaN in */
    T_BIN_D(67, fadd.d, rne, 0x7ff8000000001234, D_ONE, D_QNAN, 0)     /* quiet NaN in: canonical out */
    T_BIN_S(68, fmul.s, rne, S_SNAN, S_ONE, S_QNAN, NV)
    /* flags accumulate until cleared */
    li gp, 216
    csrwi fflags, 0
    LD_D(fa0, D_ONE)
    LD_D(fa1, D_THREE)
    fdiv.d fa2, fa0, fa1
    fmv.d.x fa1, zero
    fdiv.d fa2, fa0, fa1
    CHECK_FFLAGS(NX | DZ)           /* reads and clears */
    CHECK_CSR(fflags, 0)
    li gp, 217
    fdiv.d fa2, fa0, fa1
    csrr a0, fflags
    CHECK(a0, DZ)                   /* a plain read does not clear */
    csrr a0, fflags
    CHECK(a0, DZ)

    /* ---- fflags / frm / fcsr ---- */
    li gp, 218
    li a1, 0xff
    csrw fcsr, a1
    CHECK_CSR(frm, 7)
    CHECK_CSR(fflags, 0x1f)
    li a1, 0xfffff
    csrw fcsr, a1
    CHECK_CSR(fcsr, 0xff)           /* bits above 7 read as zero */
    li gp, 219
    csrwi fcsr, 0
    csrwi frm, 2
    csrsi fflags, NV | OF
    CHECK_CSR(fcsr, (2 << 5) | NV | OF)
    csrw fflags, zero
    csrw frm, zero
    CHECK_CSR(fcsr, 0)
    li gp, 220
    li a1, 0xff
    csrw frm, a1
    CHECK_CSR(frm, 7)
    csrw fflags, a1
    CHECK_CSR(fflags, 0x1f)
    csrwi fcsr, 0
    /* reserved dynamic rounding modes make a dyn instruction illegal */
    li gp, 221
    csrwi frm, 5
    EXPECT_TRAP_SKIP
    fadd.d fa2, fa0, fa1, dyn
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    csrwi frm, 7
    EXPECT_TRAP_SKIP
    fmul.s fa2, fa0, fa1, dyn
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    csrwi frm, 6
    EXPECT_TRAP_SKIP
    fcvt.w.d a0, fa0, dyn
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    csrwi frm, 5
    fadd.d fa2, fa0, fa1, rne        /* static rm: fine */
    fsgnj.d fa2, fa0, fa1            /* no rounding: fine */
    csrwi frm, 0
    /* a reserved static rm (5) is illegal, mtval = the instruction */
    li gp, 222
    EXPECT_TRAP_SKIP
1:  .word 0x02b55653                /* fadd.d fa2, fa0, fa1 with rm = 5 */
    CHECK_TRAP(TF_CAUSE, CAUSE_ILLEGAL)
    CHECK_TRAP_ADDR(TF_EPC, 1b)

    /* ---- NaN boxing ---- */
    li gp, 223
    LD_S(fa0, S_ONE)
    fmv.x.d a0, fa0
    CHECK(a0, 0xffffffff3f800000)    /* fmv.w.x boxes */
    /* a single-precision op on an improperly boxed value sees the canonical NaN */
    li gp, 224
    csrwi fflags, 0
    LD_D(fa0, 0x000000003f800000)
    fadd.s fa2, fa0, fa0
    CHECK_FREG(fa2, BOX | S_QNAN)
    CHECK_FFLAGS(0)
    li gp, 225
    LD_D(fa0, 0xfffffffe3f800000)    /* one upper bit missing */
    LD_S(fa1, S_ONE)
    fmul.s fa2, fa0, fa1
    CHECK_FREG(fa2, BOX | S_QNAN)
    li gp, 226
    LD_D(fa0, 0xffffffff3f800000)    /* properly boxed */
    fadd.s fa2, fa0, fa0
    CHECK_FREG(fa2, BOX | S_TWO)
    li gp, 227
    LD_D(fa0, 0x000000003f800000)
    LD_S(fa1, S_MONE)
    fsgnj.s fa2, fa0, fa1            /* canonical NaN with rs2's sign */
    CHECK_FREG(fa2, BOX | 0xffc00000)
    li gp, 228
    LD_D(fa0, 0x123456783f800000)
    fclass.s a0, fa0
    CHECK(a0, 0x200)
    li gp, 229
    csrwi fflags, 0
    fcvt.d.s fa2, fa0
    CHECK_FREG(fa2, D_QNAN)
    CHECK_FFLAGS(0)
    li gp, 230
    fmv.x.w a0, fa0                  /* fmv.x.w takes the low bits as they are */
    CHECK(a0, 0x000000003f800000)
    LD_S(fa0, S_MONE)
    fmv.x.w a0, fa0
    CHECK(a0, 0xffffffffbf800000)    /* sign-extended */
    li gp, 231
    la s0, fpdata
    flw fa0, 0(s0)                   /* flw boxes */
    fmv.x.d a0, fa0
    CHECK(a0, 0xffffffff40490fdb)
    LD_D(fa1, 0x1234567800c0ffee)
    fsw fa1, 8(s0)                   /* fsw stores the low 32 bits */
    lwu a0, 8(s0)
    CHECK(a0, 0x00c0ffee)
    li gp, 232
    csrwi fflags, 0
    LD_D(fa0, 0x000000003f800000)
    LD_S(fa1, S_TWO)
    fmin.s fa2, fa0, fa1             /* improper box = NaN: the other operand */
    CHECK_FREG(fa2, BOX | S_TWO)
    feq.s a0, fa0, fa0
    CHECK(a0, 0)
    CHECK_FFLAGS(0)                  /* canonical NaN is quiet */

    /* ---- float -> integer, saturating ---- */
    T_TOX_D(69, fcvt.w.d, rtz, 0x4202a05f20000000, 0x000000007fffffff, NV)   /* 1e10 */
    T_TOX_D(70, fcvt.w.d, rtz, 0xc202a05f20000000, 0xffffffff80000000, NV)   /* -1e10 */
    T_TOX_D(71, fcvt.w.d, rtz, D_QNAN, 0x000000007fffffff, NV)
    T_TOX_D(72, fcvt.w.d, rtz, D_SNAN | D_NZERO, 0x000000007fffffff, NV)     /* NaN: max whatever the sign */
    T_TOX_D(73, fcvt.w.d, rtz, D_INF, 0x000000007fffffff, NV)
    T_TOX_D(74, fcvt.w.d, rtz, D_NINF, 0xffffffff80000000, NV)
    T_TOX_D(75, fcvt.w.d, rtz, 0xc1e0000000000000, 0xffffffff80000000, 0)   /* -2^31 exactly */
    T_TOX_D(76, fcvt.w.d, rtz, 0xc1e0000000100000, 0xffffffff80000000, NX)  /* -2^31 - 0.5 */
    T_TOX_D(77, fcvt.w.d, rdn, 0xc1e0000000100000, 0xffffffff80000000, NV)  /* rounds below: invalid, not inexact */
    T_TOX_D(78, fcvt.w.d, rne, 0xbff8000000000000, 0xfffffffffffffffe, NX)  /* -1.5 -> -2 */
    T_TOX_D(79, fcvt.wu.d, rtz, D_MONE, 0, NV)
    T_TOX_D(80, fcvt.wu.d, rtz, 0xbfe0000000000000, 0, NX)                   /* -0.5 -> -0: inexact only */
    T_TOX_D(81, fcvt.wu.d, rne, 0xbfe8000000000000, 0, NV)                   /* -0.75 -> -1 */
    T_TOX_D(82, fcvt.wu.d, rtz, 0x41efffffffe00000, 0xffffffffffffffff, 0)   /* 2^32-1, sign-extended */
    T_TOX_D(83, fcvt.wu.d, rtz, 0x41f2a05f20000000, 0xffffffffffffffff, NV)  /* 5e9 */
    T_TOX_D(84, fcvt.wu.d, rtz, D_QNAN, 0xffffffffffffffff, NV)
    T_TOX_D(85, fcvt.wu.d, rtz, 0x41e0000000000000, 0xffffffff80000000, 0)   /* 2^31 */
    T_TOX_D(86, fcvt.l.d, rtz, 0x43e0000000000000, 0x7fffffffffffffff, NV)   /* 2^63 */
    T_TOX_D(87, fcvt.l.d, rtz, 0xc3e0000000000000, 0x8000000000000000, 0)    /* -2^63 */
    T_TOX_D(88, fcvt.l.d, rtz, D_QNAN, 0x7fffffffffffffff, NV)
    T_TOX_D(89, fcvt.l.d, rtz, D_NINF, 0x8000000000000000, NV)
    T_TOX_D(90, fcvt.l.d, rmm, 0xc004000000000000, 0xfffffffffffffffd, NX)  /* -2.5 -> -3 */
    T_TOX_D(91, fcvt.lu.d, rtz, 0x43e158e460913d00, 0x8ac7230489e80000, 0)   /* 1e19 */
    T_TOX_D(92, fcvt.lu.d, rtz, 0x43f0000000000000, 0xffffffffffffffff, NV)  /* 2^64 */
    T_TOX_D(93, fcvt.lu.d, rtz, D_MONE, 0, NV)
    T_TOX_D(94, fcvt.lu.d, rtz, D_QNAN, 0xffffffffffffffff, NV)
    T_TOX_D(95, fcvt.lu.d, rup, 0x3fb999999999999a, 1, NX)                  /* 0.1 up */
    T_TOX_S(96, fcvt.w.s, rne, 0x40200000, 2, NX)                             /* 2.5 */
    T_TOX_S(97, fcvt.w.s, rtz, 0x40200000, 2, NX)
    T_TOX_S(98, fcvt.w.s, rdn, 0x40200000, 2, NX)
    T_TOX_S(99, fcvt.w.s, rup, 0x40200000, 3, NX)
    T_TOX_S(100, fcvt.w.s, rmm, 0x40200000, 3, NX)
    T_TOX_S(101, fcvt.w.s, rne, 0xc0200000, 0xfffffffffffffffe, NX)           /* -2.5 */
    T_TOX_S(102, fcvt.w.s, rdn, 0xc0200000, 0xfffffffffffffffd, NX)
    T_TOX_S(103, fcvt.w.s, rup, 0xc0200000, 0xfffffffffffffffe, NX)
    T_TOX_S(104, fcvt.w.s, rmm, 0xc0200000, 0xfffffffffffffffd, NX)
    T_TOX_S(105, fcvt.w.s, rtz, 0x4f000000, 0x000000007fffffff, NV)           /* 2^31 */
    T_TOX_S(106, fcvt.wu.s, rtz, 0x4f800000, 0xffffffffffffffff, NV)          /* 2^32 */
    T_TOX_S(107, fcvt.l.s, rtz, 0x60ad78ec, 0x7fffffffffffffff, NV)           /* 1e20 */
    T_TOX_S(108, fcvt.l.s, rtz, S_QNAN, 0x7fffffffffffffff, NV)
    T_TOX_S(109, fcvt.lu.s, rtz, 0x80000000, 0, 0)                             /* -0 */
    T_TOX_S(110, fcvt.lu.s, rtz, 0x5f800000, 0xffffffffffffffff, NV)          /* 2^64 */

    /* ---- integer -> float ---- */
    T_FROMX2_D(111, fcvt.d.w, 0xffffffffffffffff, D_MONE, 0)
    T_FROMX2_D(112, fcvt.d.w, 0x1234567800000005, 0x4014000000000000, 0)  /* upper bits ignored */
    T_FROMX2_D(113, fcvt.d.wu, 0xffffffffffffffff, 0x41efffffffe00000, 0)
    T_FROMX_D(114, fcvt.d.l, rne, 0x0020000000000001, 0x4340000000000000, NX)  /* 2^53+1 */
    T_FROMX_D(115, fcvt.d.l, rup, 0x0020000000000001, 0x4340000000000001, NX)
    T_FROMX_D(116, fcvt.d.l, rmm, 0x0020000000000001, 0x4340000000000001, NX)
    T_FROMX_D(117, fcvt.d.l, rne, 0x8000000000000000, 0xc3e0000000000000, 0)
    T_FROMX_D(118, fcvt.d.lu, rne, 0xffffffffffffffff, 0x43f0000000000000, NX)
    T_FROMX_D(119, fcvt.d.lu, rtz, 0xffffffffffffffff, 0x43efffffffffffff, NX)
    T_FROMX_D(120, fcvt.d.l, rne, 0, 0, 0)
    T_FROMX_S(121, fcvt.s.w, rne, 0x7fffffff, 0x4f000000, NX)
    T_FROMX_S(122, fcvt.s.w, rtz, 0x7fffffff, 0x4effffff, NX)
    T_FROMX_S(123, fcvt.s.l, rne, 0xfffffffffeffffff, 0xcb800000, NX)          /* -(2^24+1) */
    T_FROMX_S(124, fcvt.s.l, rdn, 0xfffffffffeffffff, 0xcb800001, NX)
    T_FROMX_S(125, fcvt.s.lu, rne, 0xffffffffffffffff, 0x5f800000, NX)
    T_FROMX_S(126, fcvt.s.wu, rne, 0x00000000ffffffff, 0x4f800000, NX)
    T_FROMX_S(127, fcvt.s.w, rne, 0xfffffffffffffffd, 0xc0400000, 0)          /* -3 */

    /* ---- between precisions ---- */
    T_CVT_SD(128, rne, 0x3fd5555555555555, 0x3eaaaaab, NX)
    T_CVT_SD(129, rtz, 0x3fd5555555555555, 0x3eaaaaaa, NX)
    T_CVT_SD(130, rne, D_MAX, 0x7f800000, OF | NX)
    T_CVT_SD(131, rtz, D_MAX, 0x7f7fffff, OF | NX)
    T_CVT_SD(132, rne, D_SNAN, S_QNAN, NV)
    T_CVT_SD(133, rne, 0xc00c000000000000, 0xc0600000, 0)    /* -3.5 */
    li gp, 233
    csrwi fflags, 0
    LD_S(fa0, 0x3dcccccd)                                             /* 0.1f */
    fcvt.d.s fa2, fa0
    CHECK_FREG(fa2, 0x3fb99999a0000000)
    CHECK_FFLAGS(0)
    LD_S(fa0, S_SNAN)
    fcvt.d.s fa2, fa0
    CHECK_FREG(fa2, D_QNAN)
    CHECK_FFLAGS(NV)

    /* ---- fmin / fmax ---- */
    T_BIN2_D(134, fmin.d, D_NZERO, 0, D_NZERO, 0)
    T_BIN2_D(135, fmin.d, 0, D_NZERO, D_NZERO, 0)
    T_BIN2_D(136, fmax.d, D_NZERO, 0, 0, 0)
    T_BIN2_D(137, fmax.d, 0, D_NZERO, 0, 0)
    T_BIN2_D(138, fmin.d, D_QNAN, D_ONE, D_ONE, 0)
    T_BIN2_D(139, fmax.d, D_ONE, 0x7ff8000000000abc, D_ONE, 0)
    T_BIN2_D(140, fmin.d, D_SNAN, D_ONE, D_ONE, NV)
    T_BIN2_D(141, fmax.d, 0x7ff8000000000001, 0xfff8000000000002, D_QNAN, 0)   /* both NaN: canonical */
    T_BIN2_D(142, fmin.d, D_SNAN, D_QNAN, D_QNAN, NV)
    T_BIN2_D(143, fmin.d, D_MONE, D_TWO, D_MONE, 0)
    T_BIN2_D(144, fmax.d, D_NINF, D_MONE, D_MONE, 0)
    T_BIN2_S(145, fmin.s, 0x80000000, 0, 0x80000000, 0)
    T_BIN2_S(146, fmax.s, 0x80000000, 0, 0, 0)
    T_BIN2_S(147, fmin.s, S_SNAN, S_TWO, S_TWO, NV)
    T_BIN2_S(148, fmax.s, S_QNAN, S_QNAN, S_QNAN, 0)
    T_BIN2_S(149, fmax.s, S_MONE, S_TWO, S_TWO, 0)

    /* ---- comparisons ---- */
    T_CMP_D(150, feq.d, D_ONE, D_ONE, 1, 0)
    T_CMP_D(151, feq.d, D_NZERO, 0, 1, 0)
    T_CMP_D(152, flt.d, D_NZERO, 0, 0, 0)
    T_CMP_D(153, fle.d, D_NZERO, 0, 1, 0)
    T_CMP_D(154, flt.d, D_MONE, D_ONE, 1, 0)
    T_CMP_D(155, fle.d, D_TWO, D_ONE, 0, 0)
    T_CMP_D(156, feq.d, D_QNAN, D_ONE, 0, 0)        /* quiet compare */
    T_CMP_D(157, feq.d, D_SNAN, D_ONE, 0, NV)
    T_CMP_D(158, flt.d, D_QNAN, D_ONE, 0, NV)       /* signaling compares */
    T_CMP_D(159, fle.d, D_ONE, D_QNAN, 0, NV)
    T_CMP_D(160, feq.d, D_QNAN, D_QNAN, 0, 0)
    T_CMP_D(161, flt.d, D_NINF, D_INF, 1, 0)
    T_CMP_S(162, flt.s, S_ONE, S_TWO, 1, 0)
    T_CMP_S(163, fle.s, S_TWO, S_ONE, 0, 0)
    T_CMP_S(164, feq.s, S_SNAN, S_SNAN, 0, NV)
    T_CMP_S(165, fle.s, S_QNAN, S_ONE, 0, NV)

    /* ---- fclass ---- */
    T_CLASS_D(166, D_NINF, 0x001)
    T_CLASS_D(167, D_MONE, 0x002)
    T_CLASS_D(168, 0x800fffffffffffff, 0x004)
    T_CLASS_D(169, D_NZERO, 0x008)
    T_CLASS_D(170, 0, 0x010)
    T_CLASS_D(171, 1, 0x020)
    T_CLASS_D(172, D_MAX, 0x040)
    T_CLASS_D(173, D_INF, 0x080)
    T_CLASS_D(174, D_SNAN, 0x100)
    T_CLASS_D(175, 0xfff8000000000000, 0x200)
    T_CLASS_S(176, 0xff800000, 0x001)
    T_CLASS_S(177, 0x807fffff, 0x004)
    T_CLASS_S(178, 0x00000001, 0x020)
    T_CLASS_S(179, S_SNAN, 0x100)
    T_CLASS_S(180, S_QNAN, 0x200)
    T_CLASS_S(181, 0x3f800000, 0x040)

    /* ---- moves and sign injection: bits pass unchanged, no flags ---- */
    li gp, 234
    csrwi fflags, 0
    LD_D(fa0, D_SNAN)
    fmv.x.d a0, fa0
    CHECK(a0, D_SNAN)                /* no canonicalisation */
    fsgnjn.d fa2, fa0, fa0           /* fneg of a NaN: sign flipped, payload kept */
    CHECK_FREG(fa2, D_SNAN | D_NZERO)
    CHECK_FFLAGS(0)
    T_BIN2_D(182, fsgnj.d, D_ONE, 0xc000000000000000, D_MONE, 0)
    T_BIN2_D(183, fsgnjn.d, D_MONE, 0xc000000000000000, D_ONE, 0)
    T_BIN2_D(184, fsgnjx.d, D_MONE, 0xc000000000000000, D_ONE, 0)
    T_BIN2_D(185, fsgnjx.d, D_ONE, 0xc000000000000000, D_MONE, 0)
    T_BIN2_D(186, fsgnjx.d, D_MONE, D_ONE, D_MONE, 0)
    T_BIN2_S(187, fsgnj.s, S_ONE, 0x80000000, S_MONE, 0)
    T_BIN2_S(188, fsgnjn.s, S_ONE, 0x80000000, S_ONE, 0)
    T_BIN2_S(189, fsgnjx.s, S_MONE, 0x80000000, S_ONE, 0)
    T_BIN2_S(190, fsgnj.s, S_SNAN, 0x80000000, S_SNAN | 0x80000000, 0)
    li gp, 235
    li a1, 0x123456789abcdef0
    fmv.d.x ft11, a1
    fmv.x.d a0, ft11
    CHECK(a0, 0x123456789abcdef0)
    fmv.w.x ft11, a1
    fmv.x.d a0, ft11
    CHECK(a0, 0xffffffff9abcdef0)
    fmv.x.w a0, ft11
    CHECK(a0, 0xffffffff9abcdef0)

    /* ---- fused multiply-add: one rounding ---- */
    T_FMA_D(191, fmadd.d, D_TWO, D_THREE, D_ONE, 0x401c000000000000, 0)     /* 2*3+1 */
    T_FMA_D(192, fmsub.d, D_TWO, D_THREE, D_ONE, 0x4014000000000000, 0)     /* 2*3-1 */
    T_FMA_D(193, fnmsub.d, D_TWO, D_THREE, D_ONE, 0xc014000000000000, 0)    /* -(2*3)+1 */
    T_FMA_D(194, fnmadd.d, D_TWO, D_THREE, D_ONE, 0xc01c000000000000, 0)    /* -(2*3)-1 */
    T_FMA_D(195, fmsub.d, 0x3ff0000000000001, 0x3feffffffffffffe, D_ONE, 0xb970000000000000, 0)  /* (1+e)(1-e)-1 = -e^2 */
    T_FMA_D(196, fmadd.d, D_INF, 0, D_QNAN, D_QNAN, NV)                     /* inf*0 + qNaN: invalid */
    T_FMA_D(197, fmadd.d, D_INF, 0, D_ONE, D_QNAN, NV)
    T_FMA_D(198, fmadd.d, D_INF, D_ONE, D_NINF, D_QNAN, NV)                 /* inf - inf */
    T_FMA_D(199, fmadd.d, D_ONE, D_ONE, D_SNAN, D_QNAN, NV)
    T_FMA_D(200, fmadd.d, D_ONE, D_ONE, 0x7ff8000000000005, D_QNAN, 0)
    T_FMA_S(201, fmadd.s, S_TWO, S_THREE, S_ONE, 0x40e00000, 0)
    T_FMA_S(202, fnmadd.s, S_TWO, S_THREE, S_ONE, 0xc0e00000, 0)
    T_FMA_S(203, fmadd.s, 0x3f800001, 0x3f7ffffe, S_MONE, 0xa8800000, 0)     /* -2^-46, exact */
    T_FMA_S(204, fmsub.s, S_ONE, S_ONE, S_ONE, 0, 0)                        /* 1*1-1 = +0 */
    li gp, 236                                                               /* rm operand */
    csrwi fflags, 0
    LD_D(fa0, D_ONE)
    LD_D(fa1, D_THREE)
    fdiv.d fa0, fa0, fa1                 /* 1/3 rounded down */
    fmv.d.x fa3, zero
    fmadd.d fa2, fa0, fa1, fa3, rup      /* 3 * 0.333..(down) = 1 - tiny: up to 1 */
    CHECK_FREG(fa2, D_ONE)
    fmadd.d fa2, fa0, fa1, fa3, rtz
    CHECK_FREG(fa2, 0x3fefffffffffffff)
    CHECK_FFLAGS(NX)

    /* ---- loads and stores ---- */
    li gp, 237
    la s0, fpdata
    li a1, 0x0123456789abcdef
    fmv.d.x ft1, a1
    fsd ft1, 16(s0)
    fld ft2, 16(s0)
    CHECK_FREG(ft2, 0x0123456789abcdef)
    ld a0, 16(s0)
    CHECK(a0, 0x0123456789abcdef)
    li gp, 238
    fsd ft1, 33(s0)                      /* misaligned: handled */
    fld ft3, 33(s0)
    CHECK_FREG(ft3, 0x0123456789abcdef)
    flw ft4, 35(s0)
    CHECK_FREG(ft4, BOX | 0x456789ab)
    fsw ft4, 50(s0)
    lwu a0, 50(s0)
    CHECK(a0, 0x456789ab)

    /* ---- mstatus.FS ---- */
    li gp, 239
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS_INITIAL)
    CHECK_CSR_MASKED(mstatus, MSTATUS_SD, 0)
    fadd.d fa2, fa0, fa1                 /* writes FP state: Dirty */
    CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS)
    CHECK_CSR_MASKED(mstatus, MSTATUS_SD, MSTATUS_SD)
    li gp, 250                           /* so does an fflags write */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    csrwi fflags, 0
    CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS)
    li gp, 240
    li t0, MSTATUS_FS
    csrc mstatus, t0                     /* Off */
    CHECK_CSR_MASKED(mstatus, MSTATUS_SD, 0)
    TEST_TRAP(205, CAUSE_ILLEGAL, fadd.d fa2, fa0, fa1)
    TEST_TRAP(206, CAUSE_ILLEGAL, fmv.x.d a0, fa0)
    TEST_TRAP(207, CAUSE_ILLEGAL, fmv.d.x fa0, zero)
    TEST_TRAP(208, CAUSE_ILLEGAL, flw fa0, 0(s0))
    TEST_TRAP(209, CAUSE_ILLEGAL, fsd fa0, 0(s0))
    TEST_TRAP(210, CAUSE_ILLEGAL, csrr a0, fflags)
    TEST_TRAP(211, CAUSE_ILLEGAL, csrw frm, zero)
    TEST_TRAP(212, CAUSE_ILLEGAL, csrr a0, fcsr)
    TEST_TRAP(213, CAUSE_ILLEGAL, fmadd.s fa0, fa1, fa2, fa3)
    TEST_TRAP(214, CAUSE_ILLEGAL, .option push; .option rvc; c.fld fa0, 0(s0); .option pop)
    TEST_TRAP(215, CAUSE_ILLEGAL, fclass.d a0, fa0)
    li gp, 241
    li t0, MSTATUS_FS_INITIAL            /* back on: works again, state kept */
    csrs mstatus, t0
    fmv.x.d a0, ft1
    CHECK(a0, 0x0123456789abcdef)
    PASS

    .data
    .balign 16
fpdata:
    .word 0x40490fdb                     /* pi (single) */
    .zero 124

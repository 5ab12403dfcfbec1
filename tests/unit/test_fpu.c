/* Unit tests for src/riscv/fpu.c (F and D extension arithmetic).
 *
 *  1. A table of hand-picked vectors with the expected bits and fflags in
 *     all five rounding modes (results computed once with an exact rational
 *     model of IEEE 754 / RISC-V rules; each row is also re-checked against
 *     the independent reference below).
 *  2. Direct tests of min/max, compares, classify, sign injection, NaN
 *     boxing and the restoration of the host rounding mode.
 *  3. Randomized cross-checks of every rounding operation in every rounding
 *     mode (RMM included) for S and D against an independent reference that
 *     computes the exact result with integer arithmetic and rounds it by
 *     hand; float->int conversions are checked against libm's
 *     nearbyint()/round().  Operands are biased toward interesting exponents
 *     (subnormal, overflow, cancellation, exact ties).
 *  The fast path (no MXCSR access) and the MXCSR path of fpu.c are both
 *  exercised (rv_fpu_test_config), as is the libm fma fallback used on CPUs
 *  without an FMA instruction.  VIREO_FPU_ITERS scales the random tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fenv.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "riscv/fpu.h"

/* test hook in fpu.c: fast=0 forces the MXCSR path, hw_fma=0 the libm fma fallback */
void rv_fpu_test_config(int fast, int hw_fma);

typedef unsigned __int128 u128;

#define NX RV_FFLAG_NX
#define UF RV_FFLAG_UF
#define OF RV_FFLAG_OF
#define DZ RV_FFLAG_DZ
#define NV RV_FFLAG_NV
#define BOX(x) (RV_F32_BOX | (uint32_t)(x))
#define DSIGN 0x8000000000000000ull

static const char *const rm_names[5] = {"RNE", "RTZ", "RDN", "RUP", "RMM"};

enum op {
    ADD_S, SUB_S, MUL_S, DIV_S, SQRT_S, FMADD_S, FMSUB_S, FNMSUB_S, FNMADD_S,
    ADD_D, SUB_D, MUL_D, DIV_D, SQRT_D, FMADD_D, FMSUB_D, FNMSUB_D, FNMADD_D,
    CVT_S_D, CVT_D_S,
    CVT_W_S, CVT_WU_S, CVT_L_S, CVT_LU_S, CVT_W_D, CVT_WU_D, CVT_L_D, CVT_LU_D,
    CVT_S_W, CVT_S_WU, CVT_S_L, CVT_S_LU, CVT_D_W, CVT_D_WU, CVT_D_L, CVT_D_LU,
    NOPS
};
static const char *const op_names[NOPS] = {
    "fadd.s", "fsub.s", "fmul.s", "fdiv.s", "fsqrt.s", "fmadd.s", "fmsub.s", "fnmsub.s", "fnmadd.s",
    "fadd.d", "fsub.d", "fmul.d", "fdiv.d", "fsqrt.d", "fmadd.d", "fmsub.d", "fnmsub.d", "fnmadd.d",
    "fcvt.s.d", "fcvt.d.s",
    "fcvt.w.s", "fcvt.wu.s", "fcvt.l.s", "fcvt.lu.s", "fcvt.w.d", "fcvt.wu.d", "fcvt.l.d", "fcvt.lu.d",
    "fcvt.s.w", "fcvt.s.wu", "fcvt.s.l", "fcvt.s.lu", "fcvt.d.w", "fcvt.d.wu", "fcvt.d.l", "fcvt.d.lu",
};

static uint64_t impl(int op, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    switch (op) {
    case ADD_S: return rv_fadd_s(a, b, rm, fl);
    case SUB_S: return rv_fsub_s(a, b, rm, fl);
    case MUL_S: return rv_fmul_s(a, b, rm, fl);
    case DIV_S: return rv_fdiv_s(a, b, rm, fl);
    case SQRT_S: return rv_fsqrt_s(a, rm, fl);
    case FMADD_S: case FMSUB_S: case FNMSUB_S: case FNMADD_S:
        return rv_fma_s(a, b, c, op - FMADD_S, rm, fl);
    case ADD_D: return rv_fadd_d(a, b, rm, fl);
    case SUB_D: return rv_fsub_d(a, b, rm, fl);
    case MUL_D: return rv_fmul_d(a, b, rm, fl);
    case DIV_D: return rv_fdiv_d(a, b, rm, fl);
    case SQRT_D: return rv_fsqrt_d(a, rm, fl);
    case FMADD_D: case FMSUB_D: case FNMSUB_D: case FNMADD_D:
        return rv_fma_d(a, b, c, op - FMADD_D, rm, fl);
    case CVT_S_D: return rv_fcvt_s_d(a, rm, fl);
    case CVT_D_S: return rv_fcvt_d_s(a, fl);
    case CVT_W_S: return rv_fcvt_w_s(a, rm, fl);
    case CVT_WU_S: return rv_fcvt_wu_s(a, rm, fl);
    case CVT_L_S: return rv_fcvt_l_s(a, rm, fl);
    case CVT_LU_S: return rv_fcvt_lu_s(a, rm, fl);
    case CVT_W_D: return rv_fcvt_w_d(a, rm, fl);
    case CVT_WU_D: return rv_fcvt_wu_d(a, rm, fl);
    case CVT_L_D: return rv_fcvt_l_d(a, rm, fl);
    case CVT_LU_D: return rv_fcvt_lu_d(a, rm, fl);
    case CVT_S_W: return rv_fcvt_s_w(a, rm, fl);
    case CVT_S_WU: return rv_fcvt_s_wu(a, rm, fl);
    case CVT_S_L: return rv_fcvt_s_l(a, rm, fl);
    case CVT_S_LU: return rv_fcvt_s_lu(a, rm, fl);
    case CVT_D_W: return rv_fcvt_d_w(a, rm, fl);
    case CVT_D_WU: return rv_fcvt_d_wu(a, rm, fl);
    case CVT_D_L: return rv_fcvt_d_l(a, rm, fl);
    case CVT_D_LU: return rv_fcvt_d_lu(a, rm, fl);
    }
    fail_msg("bad op %d", op);
    return 0;
}

/* ------------------------------------------------------------------------
 * Independent reference: exact value with integer arithmetic, rounded by
 * hand (tininess after rounding, UF only when also inexact).
 * ---------------------------------------------------------------------- */
typedef struct {
    int p, ebits, bias, emin, emax, width;
    uint64_t canon;
} fmt_t;
static const fmt_t FS = {24, 8, 127, -126, 127, 32, 0x7fc00000u};
static const fmt_t FD = {53, 11, 1023, -1022, 1023, 64, 0x7ff8000000000000ull};

enum { C_ZERO, C_FIN, C_INF, C_NAN };
typedef struct {
    int cls;
    bool neg, snan;
    u128 m; /* value = m * 2^e */
    int e;
} val_t;

static int bl128(u128 x)
{
    int n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

static uint64_t ref_unbox(uint64_t r) { return (r >> 32) == 0xffffffffu ? (uint32_t)r : 0x7fc00000u; }

static val_t unpack(uint64_t b, const fmt_t *f)
{
    val_t v = {0};
    int fb = f->p - 1;
    uint64_t frac = b & ((1ull << fb) - 1);
    int E = (int)((b >> fb) & ((1u << f->ebits) - 1));
    v.neg = (b >> (f->width - 1)) & 1;
    if (E == (1 << f->ebits) - 1) {
        v.cls = frac ? C_NAN : C_INF;
        v.snan = frac && !((frac >> (fb - 1)) & 1);
    } else if (E == 0 && frac == 0) {
        v.cls = C_ZERO;
    } else {
        v.cls = C_FIN;
        v.m = frac | (E ? 1ull << fb : 0);
        v.e = (E ? E : 1) - f->bias - fb;
    }
    return v;
}

static uint64_t fzero(const fmt_t *f, bool neg) { return neg ? 1ull << (f->width - 1) : 0; }
static uint64_t finf(const fmt_t *f, bool neg)
{
    return fzero(f, neg) | ((uint64_t)((1u << f->ebits) - 1) << (f->p - 1));
}

/* Round m*2^e (plus a nonzero amount below its last bit when sticky) to a
 * multiple of 2^q. */
static u128 rnd_at(u128 m, int e, bool sticky, int q, bool neg, int rm, bool *inexact)
{
    int s = q - e;
    if (s <= 0) {
        assert_false(sticky); /* the caller always provides >= p+2 bits */
        *inexact = false;
        return m << -s;
    }
    u128 n = s >= 128 ? 0 : m >> s;
    bool rb = s - 1 < 128 && ((m >> (s - 1)) & 1);
    bool low = sticky || (s - 1 >= 128 ? m != 0 : (s - 1 > 0 && (m & (((u128)1 << (s - 1)) - 1)) != 0));
    *inexact = rb || low;
    bool up = false;
    switch (rm) {
    case 0: up = rb && (low || (n & 1)); break;
    case 1: up = false; break;
    case 2: up = *inexact && neg; break;
    case 3: up = *inexact && !neg; break;
    case 4: up = rb; break;
    }
    return n + up;
}

static uint64_t ref_round(bool neg, u128 m, int e, bool sticky, const fmt_t *f, int rm, uint32_t *fl)
{
    assert_true(m != 0);
    int p = f->p;
    if (sticky)
        assert_true(bl128(m) >= p + 2);
    int k = bl128(m) - 1 + e; /* exponent of the leading bit */
    bool ix;
    u128 n = rnd_at(m, e, sticky, k - (p - 1), neg, rm, &ix);
    bool tiny = ((n >> p) ? k + 1 : k) < f->emin;
    int q = k - (p - 1) > f->emin - (p - 1) ? k - (p - 1) : f->emin - (p - 1);
    n = rnd_at(m, e, sticky, q, neg, rm, &ix);
    uint32_t r_fl = ix ? NX : 0;
    if (tiny && ix)
        r_fl |= UF;
    if (n == 0) {
        *fl |= r_fl;
        return fzero(f, neg);
    }
    if (n >> p) {
        n >>= 1;
        q++;
    }
    int kr = bl128(n) - 1 + q;
    if (kr > f->emax) {
        *fl |= NX | OF;
        bool to_inf = rm == 0 || rm == 4 || (rm == 2 && neg) || (rm == 3 && !neg);
        return to_inf ? finf(f, neg) : finf(f, neg) - 1;
    }
    *fl |= r_fl;
    uint64_t bits;
    if (n < ((u128)1 << (p - 1)))
        bits = (uint64_t)n; /* subnormal */
    else
        bits = ((uint64_t)(kr + f->bias) << (p - 1)) | (uint64_t)(n - ((u128)1 << (p - 1)));
    return fzero(f, neg) | bits;
}

typedef struct {
    bool neg;
    u128 m;
    int e;
} term_t;

/* Align t to a lsb position of 2^base; bits falling below go to *st. */
static u128 align_term(term_t t, int base, bool *st)
{
    int sh = t.e - base;
    *st = false;
    if (sh >= 0) {
        assert_true(bl128(t.m) + sh <= 122);
        return t.m << sh;
    }
    int r = -sh;
    if (r >= 128) {
        *st = t.m != 0;
        return 0;
    }
    *st = (t.m & (((u128)1 << r) - 1)) != 0;
    return t.m >> r;
}

/* Round x + y (both nonzero-or-zero terms, not both zero; each m < 2^107). */
static uint64_t ref_sum(term_t x, term_t y, const fmt_t *f, int rm, uint32_t *fl)
{
    if (!x.m) {
        term_t t = x;
        x = y;
        y = t;
    }
    if (!y.m)
        return ref_round(x.neg, x.m, x.e, false, f, rm, fl);
    int hx = bl128(x.m) - 1 + x.e, hy = bl128(y.m) - 1 + y.e;
    int base = (hx > hy ? hx : hy) - 120;
    bool sx, sy;
    u128 vx = align_term(x, base, &sx), vy = align_term(y, base, &sy);
    assert_false(sx && sy); /* only the much smaller term can lose bits */
    if (x.neg == y.neg)
        return ref_round(x.neg, vx + vy, base, sx || sy, f, rm, fl);
    if (vx == vy && sx == sy)
        return fzero(f, rm == 2); /* exact cancellation */
    bool x_big = vx > vy || (vx == vy && sx);
    u128 vb = x_big ? vx : vy, vs = x_big ? vy : vx;
    bool small_st = x_big ? sy : sx, big_st = x_big ? sx : sy;
    u128 m = vb - vs;
    if (small_st)
        m -= 1; /* big - (small + frac) = (big - small - 1) + (1 - frac) */
    assert_true(m != 0);
    return ref_round(x_big ? x.neg : y.neg, m, base, small_st || big_st, f, rm, fl);
}

static u128 isqrt128(u128 n)
{
    u128 res = 0, bit = (u128)1 << 126;
    while (bit > n)
        bit >>= 2;
    while (bit) {
        if (n >= res + bit) {
            n -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}

static uint64_t nan_result(const fmt_t *f, uint32_t *fl, bool invalid)
{
    if (invalid)
        *fl |= NV;
    return f->canon;
}

/* kind: 0 add, 1 sub, 2 mul, 3 div, 4 sqrt, 5.. fma op (kind-5) */
static uint64_t ref_arith(int kind, const fmt_t *f, uint64_t ab, uint64_t bb, uint64_t cb, int rm, uint32_t *fl)
{
    val_t A = unpack(ab, f), B = unpack(bb, f), C = unpack(cb, f);
    if (kind == 1 && B.cls != C_NAN)
        B.neg = !B.neg;
    if (kind <= 1) {
        if (A.cls == C_NAN || B.cls == C_NAN)
            return nan_result(f, fl, A.snan || B.snan);
        if (A.cls == C_INF && B.cls == C_INF)
            return A.neg == B.neg ? finf(f, A.neg) : nan_result(f, fl, true);
        if (A.cls == C_INF || B.cls == C_INF)
            return finf(f, A.cls == C_INF ? A.neg : B.neg);
        if (A.cls == C_ZERO && B.cls == C_ZERO)
            return fzero(f, A.neg == B.neg ? A.neg : rm == 2);
        term_t x = {A.neg, A.cls == C_FIN ? A.m : 0, A.e}, y = {B.neg, B.cls == C_FIN ? B.m : 0, B.e};
        return ref_sum(x, y, f, rm, fl);
    }
    if (kind == 2) {
        if (A.cls == C_NAN || B.cls == C_NAN)
            return nan_result(f, fl, A.snan || B.snan);
        bool s = A.neg != B.neg;
        if ((A.cls == C_INF && B.cls == C_ZERO) || (A.cls == C_ZERO && B.cls == C_INF))
            return nan_result(f, fl, true);
        if (A.cls == C_INF || B.cls == C_INF)
            return finf(f, s);
        if (A.cls == C_ZERO || B.cls == C_ZERO)
            return fzero(f, s);
        return ref_round(s, A.m * B.m, A.e + B.e, false, f, rm, fl);
    }
    if (kind == 3) {
        if (A.cls == C_NAN || B.cls == C_NAN)
            return nan_result(f, fl, A.snan || B.snan);
        bool s = A.neg != B.neg;
        if ((A.cls == C_INF && B.cls == C_INF) || (A.cls == C_ZERO && B.cls == C_ZERO))
            return nan_result(f, fl, true);
        if (A.cls == C_INF)
            return finf(f, s);
        if (B.cls == C_INF)
            return fzero(f, s);
        if (B.cls == C_ZERO) {
            *fl |= DZ;
            return finf(f, s);
        }
        if (A.cls == C_ZERO)
            return fzero(f, s);
        int sh = 125 - bl128(A.m);
        u128 num = A.m << sh;
        u128 q = num / B.m, r = num % B.m;
        return ref_round(s, q, A.e - sh - B.e, r != 0, f, rm, fl);
    }
    if (kind == 4) {
        if (A.cls == C_NAN)
            return nan_result(f, fl, A.snan);
        if (A.cls == C_ZERO)
            return fzero(f, A.neg);
        if (A.neg)
            return nan_result(f, fl, true);
        if (A.cls == C_INF)
            return finf(f, false);
        int sh = 120 - bl128(A.m);
        if ((A.e - sh) & 1)
            sh++;
        u128 M = A.m << sh, r = isqrt128(M);
        return ref_round(false, r, (A.e - sh) / 2, r * r != M, f, rm, fl);
    }
    /* fused multiply-add */
    int op = kind - 5;
    if ((op & 2) && A.cls != C_NAN)
        A.neg = !A.neg;
    if ((op & 1) && C.cls != C_NAN)
        C.neg = !C.neg;
    if ((A.cls == C_INF && B.cls == C_ZERO) || (A.cls == C_ZERO && B.cls == C_INF))
        return nan_result(f, fl, true);
    if (A.cls == C_NAN || B.cls == C_NAN || C.cls == C_NAN)
        return nan_result(f, fl, A.snan || B.snan || C.snan);
    bool ps = A.neg != B.neg;
    if (A.cls == C_INF || B.cls == C_INF) {
        if (C.cls == C_INF && C.neg != ps)
            return nan_result(f, fl, true);
        return finf(f, ps);
    }
    if (C.cls == C_INF)
        return finf(f, C.neg);
    bool pzero = A.cls == C_ZERO || B.cls == C_ZERO;
    if (pzero && C.cls == C_ZERO)
        return fzero(f, ps == C.neg ? ps : rm == 2);
    term_t x = {ps, pzero ? 0 : A.m * B.m, A.e + B.e};
    term_t y = {C.neg, C.cls == C_FIN ? C.m : 0, C.e};
    return ref_sum(x, y, f, rm, fl);
}

static double (*volatile p_nearbyint)(double) = nearbyint;
static double (*volatile p_round)(double) = round;

/* float -> integer via libm on the (exactly representable) double value */
static uint64_t ref_to_int(uint64_t bits, const fmt_t *f, int type, int rm, uint32_t *fl)
{
    double x;
    if (f == &FS) {
        uint32_t u = (uint32_t)ref_unbox(bits);
        float fv;
        memcpy(&fv, &u, 4);
        x = fv;
    } else {
        memcpy(&x, &bits, 8);
    }
    bool is32 = type < 2, sgn = !(type & 1);
    double lo = sgn ? (is32 ? -2147483648.0 : -9223372036854775808.0) : 0.0;
    double hi = is32 ? (sgn ? 2147483647.0 : 4294967295.0) : (sgn ? 9223372036854775808.0 : 18446744073709551616.0);
    uint64_t vmax = is32 ? (sgn ? 0x7fffffffull : 0xffffffffull) : (sgn ? 0x7fffffffffffffffull : ~0ull);
    uint64_t vmin = sgn ? (is32 ? 0xffffffff80000000ull : DSIGN) : 0;
    uint64_t res;
    if (isnan(x)) {
        *fl |= NV;
        res = vmax;
    } else {
        double r;
        if (rm == 4) {
            r = p_round(x);
        } else {
            static const int modes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
            fesetround(modes[rm]);
            r = p_nearbyint(x);
            fesetround(FE_TONEAREST);
        }
        /* 64-bit upper bounds are 2^63 / 2^64 (exclusive) */
        bool too_big = is32 ? r > hi : r >= hi;
        if (too_big) {
            *fl |= NV;
            res = vmax;
        } else if (r < lo) {
            *fl |= NV;
            res = vmin;
        } else {
            if (r != x)
                *fl |= NX;
            res = r < 0 ? (uint64_t)(int64_t)r : (uint64_t)r;
        }
    }
    if (is32)
        res = (uint64_t)(int64_t)(int32_t)(uint32_t)res;
    return res;
}

static uint64_t ref_from_int(bool neg, uint64_t mag, const fmt_t *f, int rm, uint32_t *fl)
{
    if (!mag)
        return 0;
    return ref_round(neg, mag, 0, false, f, rm, fl);
}

static uint64_t ref_cvt_fp(uint64_t bits, const fmt_t *from, const fmt_t *to, int rm, uint32_t *fl)
{
    val_t A = unpack(bits, from);
    switch (A.cls) {
    case C_NAN: return nan_result(to, fl, A.snan);
    case C_INF: return finf(to, A.neg);
    case C_ZERO: return fzero(to, A.neg);
    }
    return ref_round(A.neg, A.m, A.e, false, to, rm, fl);
}

static uint64_t ref(int op, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    if (op <= FNMADD_S)
        return BOX(ref_arith(op - ADD_S, &FS, ref_unbox(a), ref_unbox(b), ref_unbox(c), rm, fl));
    if (op <= FNMADD_D)
        return ref_arith(op - ADD_D, &FD, a, b, c, rm, fl);
    switch (op) {
    case CVT_S_D: return BOX(ref_cvt_fp(a, &FD, &FS, rm, fl));
    case CVT_D_S: return ref_cvt_fp(ref_unbox(a), &FS, &FD, 0, fl);
    case CVT_W_S: case CVT_WU_S: case CVT_L_S: case CVT_LU_S:
        return ref_to_int(a, &FS, op - CVT_W_S, rm, fl);
    case CVT_W_D: case CVT_WU_D: case CVT_L_D: case CVT_LU_D:
        return ref_to_int(a, &FD, op - CVT_W_D, rm, fl);
    }
    bool to_s = op <= CVT_S_LU;
    int k = to_s ? op - CVT_S_W : op - CVT_D_W;
    const fmt_t *f = to_s ? &FS : &FD;
    bool neg = false;
    uint64_t mag;
    switch (k) {
    case 0: {
        int64_t v = (int32_t)(uint32_t)a;
        neg = v < 0;
        mag = neg ? (uint64_t)-v : (uint64_t)v;
        break;
    }
    case 1: mag = (uint32_t)a; break;
    case 2:
        neg = (int64_t)a < 0;
        mag = neg ? -a : a;
        break;
    default: mag = a; break;
    }
    uint64_t r = ref_from_int(neg, mag, f, rm, fl);
    return to_s ? BOX(r) : r;
}

/* ------------------------------------------------------------------------
 * Hand-picked vectors
 * ---------------------------------------------------------------------- */
struct vec {
    int op;
    uint64_t a, b, c;
    uint64_t r[5];
    uint32_t fl[5];
};

static const struct vec vectors[] = {
    {DIV_S, 0xffffffff3f800000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, {0xffffffff3eaaaaabull, 0xffffffff3eaaaaaaull, 0xffffffff3eaaaaaaull, 0xffffffff3eaaaaabull, 0xffffffff3eaaaaabull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.0/3.0 */
    {DIV_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, {0xffffffff3f2aaaabull, 0xffffffff3f2aaaaaull, 0xffffffff3f2aaaaaull, 0xffffffff3f2aaaabull, 0xffffffff3f2aaaabull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2.0/3.0 */
    {DIV_S, 0xffffffffbf800000ull, 0xffffffff40400000ull, 0xffffffff00000000ull, {0xffffffffbeaaaaabull, 0xffffffffbeaaaaaaull, 0xffffffffbeaaaaabull, 0xffffffffbeaaaaaaull, 0xffffffffbeaaaaabull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1.0/3.0 */
    {DIV_S, 0xffffffff3f800000ull, 0xffffffffc0400000ull, 0xffffffff00000000ull, {0xffffffffbeaaaaabull, 0xffffffffbeaaaaaaull, 0xffffffffbeaaaaabull, 0xffffffffbeaaaaaaull, 0xffffffffbeaaaaabull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.0/-3.0 */
    {DIV_S, 0xffffffff3f800000ull, 0xffffffff41200000ull, 0xffffffff00000000ull, {0xffffffff3dcccccdull, 0xffffffff3dccccccull, 0xffffffff3dccccccull, 0xffffffff3dcccccdull, 0xffffffff3dcccccdull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.0/10.0 */
    {ADD_S, 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, {0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800001ull, 0xffffffff3f800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 2^-24: tie */
    {ADD_S, 0xffffffffbf800000ull, 0xffffffffb3800000ull, 0xffffffff00000000ull, {0xffffffffbf800000ull, 0xffffffffbf800000ull, 0xffffffffbf800001ull, 0xffffffffbf800000ull, 0xffffffffbf800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1 - 2^-24: tie */
    {ADD_S, 0xffffffff3f800000ull, 0xffffffff34400000ull, 0xffffffff00000000ull, {0xffffffff3f800002ull, 0xffffffff3f800001ull, 0xffffffff3f800001ull, 0xffffffff3f800002ull, 0xffffffff3f800002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 3*2^-24: tie, RNE goes up */
    {ADD_S, 0xffffffff3f800000ull, 0xffffffff33000000ull, 0xffffffff00000000ull, {0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800001ull, 0xffffffff3f800000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 2^-25 */
    {ADD_S, 0xffffffff3f800000ull, 0xffffffffb3000000ull, 0xffffffff00000000ull, {0xffffffff3f800000ull, 0xffffffff3f7fffffull, 0xffffffff3f7fffffull, 0xffffffff3f800000ull, 0xffffffff3f800000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 - 2^-25 */
    {SUB_S, 0xffffffff3f800000ull, 0xffffffff33800000ull, 0xffffffff00000000ull, {0xffffffff3f7fffffull, 0xffffffff3f7fffffull, 0xffffffff3f7fffffull, 0xffffffff3f7fffffull, 0xffffffff3f7fffffull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1 - 2^-24 (exact) */
    {SUB_S, 0xffffffff3f800000ull, 0xffffffff33c00000ull, 0xffffffff00000000ull, {0xffffffff3f7ffffeull, 0xffffffff3f7ffffeull, 0xffffffff3f7ffffeull, 0xffffffff3f7fffffull, 0xffffffff3f7fffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 - 3*2^-25: tie below 1 */
    {SUB_S, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1 - 1: +0 (RDN -0) */
    {ADD_S, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0 + -0 */
    {ADD_S, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0 + +0 */
    {ADD_S, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* max + max: overflow */
    {ADD_S, 0xffffffffff7fffffull, 0xffffffffff7fffffull, 0xffffffff00000000ull, {0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* -max - max */
    {ADD_S, 0xffffffff7f7fffffull, 0xffffffff73000000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x01, 0x01, 0x05, 0x05}}, /* max + ulp/2: overflow tie */
    {ADD_S, 0xffffffff7f7fffffull, 0xffffffff72800000ull, 0xffffffff00000000ull, {0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f7fffffull}, {0x01, 0x01, 0x01, 0x05, 0x01}}, /* max + ulp/4 */
    {ADD_S, 0xffffffff7f800000ull, 0xffffffffff800000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf - inf */
    {ADD_S, 0xffffffff7f800000ull, 0xffffffff3f800000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* inf + 1 */
    {ADD_S, 0xffffffff7f800001ull, 0xffffffff3f800000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sNaN + 1 */
    {ADD_S, 0xffffffff7fc12345ull, 0xffffffff3f800000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* qNaN(payload) + 1 */
    {ADD_S, 0xffffffffffc00000ull, 0xffffffff7f800001ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -qNaN + sNaN */
    {ADD_S, 0xffffffff00000001ull, 0xffffffff80000002ull, 0xffffffff00000000ull, {0xffffffff80000001ull, 0xffffffff80000001ull, 0xffffffff80000001ull, 0xffffffff80000001ull, 0xffffffff80000001ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* subnormal: exact, no UF */
    {MUL_S, 0xffffffff40400000ull, 0xffffffff3f800003ull, 0xffffffff00000000ull, {0xffffffff40400004ull, 0xffffffff40400004ull, 0xffffffff40400004ull, 0xffffffff40400005ull, 0xffffffff40400005ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 3*(1+3*2^-23): tie */
    {MUL_S, 0xffffffff40400000ull, 0xffffffff3f800001ull, 0xffffffff00000000ull, {0xffffffff40400002ull, 0xffffffff40400001ull, 0xffffffff40400001ull, 0xffffffff40400002ull, 0xffffffff40400002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 3*(1+2^-23): tie, RNE up */
    {MUL_S, 0xffffffffc0400000ull, 0xffffffff3f800003ull, 0xffffffff00000000ull, {0xffffffffc0400004ull, 0xffffffffc0400004ull, 0xffffffffc0400005ull, 0xffffffffc0400004ull, 0xffffffffc0400005ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* neg tie */
    {MUL_S, 0xffffffff71800000ull, 0xffffffff71800000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* 2^200 overflow */
    {MUL_S, 0xfffffffff1800000ull, 0xffffffff71800000ull, 0xffffffff00000000ull, {0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* -2^200 overflow */
    {MUL_S, 0xffffffff0d800000ull, 0xffffffff2b800000ull, 0xffffffff00000000ull, {0xffffffff00000200ull, 0xffffffff00000200ull, 0xffffffff00000200ull, 0xffffffff00000200ull, 0xffffffff00000200ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2^-140: exact subnormal, no UF */
    {MUL_S, 0xffffffff1a000000ull, 0xffffffff1a000000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000001ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2^-150: tie with 0 */
    {MUL_S, 0xffffffff9a000000ull, 0xffffffff1a000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000001ull, 0xffffffff80000000ull, 0xffffffff80000001ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* -2^-150 */
    {MUL_S, 0xffffffff1a400000ull, 0xffffffff1a000000ull, 0xffffffff00000000ull, {0xffffffff00000001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000001ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 3*2^-151 (0.75 ulp) */
    {MUL_S, 0xffffffff17800000ull, 0xffffffff17800000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000000ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2^-160 underflow */
    {MUL_S, 0xffffffff21118e00ull, 0xffffffff1ee12000ull, 0xffffffff00000000ull, {0xffffffff00800000ull, 0xffffffff007fffffull, 0xffffffff007fffffull, 0xffffffff00800000ull, 0xffffffff00800000ull}, {0x01, 0x03, 0x03, 0x01, 0x01}}, /* 2^-126-2^-151: tiny only after rounding ties */
    {MUL_S, 0xffffffff20000400ull, 0xffffffff1ffff800ull, 0xffffffff00000000ull, {0xffffffff00800000ull, 0xffffffff007fffffull, 0xffffffff007fffffull, 0xffffffff00800000ull, 0xffffffff00800000ull}, {0x01, 0x03, 0x03, 0x01, 0x01}}, /* 2^-126-2^-152: tininess depends on mode */
    {MUL_S, 0xffffffff00000005ull, 0xffffffff3f000000ull, 0xffffffff00000000ull, {0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000003ull, 0xffffffff00000003ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2.5*2^-149: subnormal tie */
    {MUL_S, 0xffffffff7f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf*0 */
    {MUL_S, 0xffffffff80000000ull, 0xffffffff40a00000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0*5 */
    {DIV_S, 0xffffffff00000005ull, 0xffffffff40000000ull, 0xffffffff00000000ull, {0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000003ull, 0xffffffff00000003ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie */
    {DIV_S, 0xffffffff3f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x08, 0x08, 0x08, 0x08, 0x08}}, /* 1/0 */
    {DIV_S, 0xffffffffbf800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull}, {0x08, 0x08, 0x08, 0x08, 0x08}}, /* -1/0 */
    {DIV_S, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 0/0 */
    {DIV_S, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf/inf */
    {DIV_S, 0xffffffff3f800000ull, 0xffffffffff800000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1/-inf */
    {DIV_S, 0xffffffff00800000ull, 0xffffffff71800000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000000ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* underflow to 0 */
    {DIV_S, 0xffffffff7f000000ull, 0xffffffff3a800000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {DIV_S, 0xffffffff7fc12345ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* qNaN/0: no DZ */
    {SQRT_S, 0xffffffff40000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff3fb504f3ull, 0xffffffff3fb504f3ull, 0xffffffff3fb504f3ull, 0xffffffff3fb504f4ull, 0xffffffff3fb504f3ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(2.0) */
    {SQRT_S, 0xffffffff40800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(4.0) */
    {SQRT_S, 0xffffffffbf800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(-1.0) */
    {SQRT_S, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(-0.0) */
    {SQRT_S, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(0.0) */
    {SQRT_S, 0xffffffff40400000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff3fddb3d7ull, 0xffffffff3fddb3d7ull, 0xffffffff3fddb3d7ull, 0xffffffff3fddb3d8ull, 0xffffffff3fddb3d7ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(3.0) */
    {SQRT_S, 0xffffffff7f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(inf) */
    {SQRT_S, 0xffffffffff800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(-inf) */
    {SQRT_S, 0xffffffff7f800001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(sNaN) */
    {SQRT_S, 0xffffffff00000001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff1a3504f3ull, 0xffffffff1a3504f3ull, 0xffffffff1a3504f3ull, 0xffffffff1a3504f4ull, 0xffffffff1a3504f3ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(min subnormal) */
    {SQRT_S, 0xffffffff00000003ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff1a9cc471ull, 0xffffffff1a9cc470ull, 0xffffffff1a9cc470ull, 0xffffffff1a9cc471ull, 0xffffffff1a9cc471ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(subnormal) */
    {SQRT_S, 0xffffffff7f7fffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff5f7fffffull, 0xffffffff5f7fffffull, 0xffffffff5f7fffffull, 0xffffffff5f800000ull, 0xffffffff5f7fffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(max) */
    {FMADD_S, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff33800000ull, {0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800001ull, 0xffffffff3f800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1*1+2^-24 tie */
    {FMADD_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffff00000000ull, {0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801001ull, 0xffffffff3f801001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* (1+2^-12)^2: tie */
    {FMADD_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffff21800000ull, {0xffffffff3f801001ull, 0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801001ull, 0xffffffff3f801001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* single rounding: just above tie */
    {FMADD_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffffa1800000ull, {0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801001ull, 0xffffffff3f801000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* just below tie */
    {FMSUB_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffff21800000ull, {0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801000ull, 0xffffffff3f801001ull, 0xffffffff3f801000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* fmsub below tie */
    {FNMSUB_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffff21800000ull, {0xffffffffbf801000ull, 0xffffffffbf801000ull, 0xffffffffbf801001ull, 0xffffffffbf801000ull, 0xffffffffbf801000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* fnmsub */
    {FNMADD_S, 0xffffffff3f800800ull, 0xffffffff3f800800ull, 0xffffffff21800000ull, {0xffffffffbf801001ull, 0xffffffffbf801000ull, 0xffffffffbf801001ull, 0xffffffffbf801000ull, 0xffffffffbf801001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* fnmadd */
    {FMADD_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff40800000ull, {0xffffffff41200000ull, 0xffffffff41200000ull, 0xffffffff41200000ull, 0xffffffff41200000ull, 0xffffffff41200000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2*3+4 */
    {FMSUB_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff40800000ull, {0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull, 0xffffffff40000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2*3-4 */
    {FNMSUB_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff40800000ull, {0xffffffffc0000000ull, 0xffffffffc0000000ull, 0xffffffffc0000000ull, 0xffffffffc0000000ull, 0xffffffffc0000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -(2*3)+4 */
    {FNMADD_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffff40800000ull, {0xffffffffc1200000ull, 0xffffffffc1200000ull, 0xffffffffc1200000ull, 0xffffffffc1200000ull, 0xffffffffc1200000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -(2*3)-4 */
    {FMADD_S, 0xffffffff40000000ull, 0xffffffff40400000ull, 0xffffffffc0c00000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* exact zero: +0, RDN -0 */
    {FNMADD_S, 0xffffffff00000000ull, 0xffffffff40400000ull, 0xffffffff80000000ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -(0*3)-(-0) = +0 */
    {FMADD_S, 0xffffffff80000000ull, 0xffffffff40400000ull, 0xffffffff80000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0*3 + -0 = -0 */
    {FMADD_S, 0xffffffff7f800000ull, 0xffffffff00000000ull, 0xffffffff7fc12345ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf*0+qNaN: NV */
    {FMADD_S, 0xffffffff00000000ull, 0xffffffff7f800000ull, 0xffffffff3f800000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 0*inf+1: NV */
    {FMADD_S, 0xffffffff7f800000ull, 0xffffffff3f800000ull, 0xffffffffff800000ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf*1-inf: NV */
    {FMADD_S, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff7f800001ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sNaN addend */
    {FMADD_S, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff7fc12345ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* qNaN addend */
    {FMADD_S, 0xffffffff7f7fffffull, 0xffffffff40000000ull, 0xffffffffff7fffffull, {0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* max*2 - max = max (no overflow) */
    {FMADD_S, 0xffffffff7f7fffffull, 0xffffffff40000000ull, 0xffffffff00000000ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {FMADD_S, 0xffffffff1a000000ull, 0xffffffff1a000000ull, 0xffffffff80000001ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000001ull, 0xffffffff80000000ull, 0xffffffff80000001ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2^-150 - 2^-149 */
    {FMADD_S, 0xffffffff1a000000ull, 0xffffffff1a000000ull, 0xffffffff00000001ull, {0xffffffff00000002ull, 0xffffffff00000001ull, 0xffffffff00000001ull, 0xffffffff00000002ull, 0xffffffff00000002ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2^-150 + 2^-149: subnormal tie */
    {FMADD_S, 0xffffffff3f800001ull, 0xffffffff3f800001ull, 0xffffffffbf800000ull, {0xffffffff34800000ull, 0xffffffff34800000ull, 0xffffffff34800000ull, 0xffffffff34800001ull, 0xffffffff34800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* cancellation (1+2^-23)^2-1 */
    {DIV_D, 0x3ff0000000000000ull, 0x4008000000000000ull, 0x0ull, {0x3fd5555555555555ull, 0x3fd5555555555555ull, 0x3fd5555555555555ull, 0x3fd5555555555556ull, 0x3fd5555555555555ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.0/3.0 */
    {DIV_D, 0x4000000000000000ull, 0x4008000000000000ull, 0x0ull, {0x3fe5555555555555ull, 0x3fe5555555555555ull, 0x3fe5555555555555ull, 0x3fe5555555555556ull, 0x3fe5555555555555ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2.0/3.0 */
    {DIV_D, 0xbff0000000000000ull, 0x4008000000000000ull, 0x0ull, {0xbfd5555555555555ull, 0xbfd5555555555555ull, 0xbfd5555555555556ull, 0xbfd5555555555555ull, 0xbfd5555555555555ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1.0/3.0 */
    {DIV_D, 0x3ff0000000000000ull, 0x4024000000000000ull, 0x0ull, {0x3fb999999999999aull, 0x3fb9999999999999ull, 0x3fb9999999999999ull, 0x3fb999999999999aull, 0x3fb999999999999aull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.0/10.0 */
    {ADD_D, 0x3ff0000000000000ull, 0x3ca0000000000000ull, 0x0ull, {0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000001ull, 0x3ff0000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 2^-53: tie */
    {ADD_D, 0xbff0000000000000ull, 0xbca0000000000000ull, 0x0ull, {0xbff0000000000000ull, 0xbff0000000000000ull, 0xbff0000000000001ull, 0xbff0000000000000ull, 0xbff0000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1 - 2^-53: tie */
    {ADD_D, 0x3ff0000000000000ull, 0x3cb8000000000000ull, 0x0ull, {0x3ff0000000000002ull, 0x3ff0000000000001ull, 0x3ff0000000000001ull, 0x3ff0000000000002ull, 0x3ff0000000000002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 3*2^-53 tie up */
    {ADD_D, 0x3ff0000000000000ull, 0x3c90000000000000ull, 0x0ull, {0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000001ull, 0x3ff0000000000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 + 2^-54 */
    {SUB_D, 0x3ff0000000000000ull, 0x3ca8000000000000ull, 0x0ull, {0x3feffffffffffffeull, 0x3feffffffffffffeull, 0x3feffffffffffffeull, 0x3fefffffffffffffull, 0x3fefffffffffffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1 - 3*2^-54: tie below 1 */
    {SUB_D, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x0ull, {0x0ull, 0x0ull, 0x8000000000000000ull, 0x0ull, 0x0ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1-1 */
    {ADD_D, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x0ull, {0x7ff0000000000000ull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull, 0x7ff0000000000000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {ADD_D, 0xffefffffffffffffull, 0xffefffffffffffffull, 0x0ull, {0xfff0000000000000ull, 0xffefffffffffffffull, 0xfff0000000000000ull, 0xffefffffffffffffull, 0xfff0000000000000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* -overflow */
    {ADD_D, 0x7fefffffffffffffull, 0x7c90000000000000ull, 0x0ull, {0x7ff0000000000000ull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull, 0x7ff0000000000000ull}, {0x05, 0x01, 0x01, 0x05, 0x05}}, /* max + ulp/2 */
    {ADD_D, 0x7ff0000000000000ull, 0xfff0000000000000ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf-inf */
    {ADD_D, 0x7ff0000000000001ull, 0x3ff0000000000000ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sNaN+1 */
    {ADD_D, 0x7ff8000000001234ull, 0x3ff0000000000000ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* qNaN+1 */
    {ADD_D, 0xfff8000000000000ull, 0x3ff0000000000000ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -qNaN+1 */
    {ADD_D, 0x1ull, 0x1ull, 0x0ull, {0x2ull, 0x2ull, 0x2ull, 0x2ull, 0x2ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* subnormal exact */
    {MUL_D, 0x4008000000000000ull, 0x3ff0000000000003ull, 0x0ull, {0x4008000000000004ull, 0x4008000000000004ull, 0x4008000000000004ull, 0x4008000000000005ull, 0x4008000000000005ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 3*(1+3*2^-52) tie */
    {MUL_D, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, {0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000001ull, 0x3ff0000006000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* (1+2^-26)(1+2^-27): tie */
    {MUL_D, 0x7e70000000000000ull, 0x4630000000000000ull, 0x0ull, {0x7ff0000000000000ull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull, 0x7ff0000000000000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {MUL_D, 0xfe70000000000000ull, 0x4630000000000000ull, 0x0ull, {0xfff0000000000000ull, 0xffefffffffffffffull, 0xfff0000000000000ull, 0xffefffffffffffffull, 0xfff0000000000000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* -overflow */
    {MUL_D, 0x1e60000000000000ull, 0x1e50000000000000ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* 2^-1075 tie with 0 */
    {MUL_D, 0x9e60000000000000ull, 0x1e50000000000000ull, 0x0ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000001ull, 0x8000000000000000ull, 0x8000000000000001ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* -2^-1075 */
    {MUL_D, 0x170000000000000ull, 0x3cd0000000000000ull, 0x0ull, {0x1000000ull, 0x1000000ull, 0x1000000ull, 0x1000000ull, 0x1000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* exact subnormal */
    {MUL_D, 0x5ull, 0x3fe0000000000000ull, 0x0ull, {0x2ull, 0x2ull, 0x2ull, 0x3ull, 0x3ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie */
    {MUL_D, 0x1f6ffff800000000ull, 0x2090000400010000ull, 0x0ull, {0x10000000000000ull, 0xfffffffffffffull, 0xfffffffffffffull, 0x10000000000000ull, 0x10000000000000ull}, {0x01, 0x03, 0x03, 0x01, 0x01}}, /* 2^-1022-2^-1076: tiny only before rounding */
    {MUL_D, 0x1a70000000000000ull, 0x1a70000000000000ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x0ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* underflow to 0 */
    {DIV_D, 0x5ull, 0x4000000000000000ull, 0x0ull, {0x2ull, 0x2ull, 0x2ull, 0x3ull, 0x3ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie */
    {DIV_D, 0x3ff0000000000000ull, 0x0ull, 0x0ull, {0x7ff0000000000000ull, 0x7ff0000000000000ull, 0x7ff0000000000000ull, 0x7ff0000000000000ull, 0x7ff0000000000000ull}, {0x08, 0x08, 0x08, 0x08, 0x08}}, /* 1/0 */
    {DIV_D, 0x0ull, 0x0ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 0/0 */
    {DIV_D, 0x7ff0000000000000ull, 0x7ff0000000000000ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf/inf */
    {DIV_D, 0x8000000000000000ull, 0x4008000000000000ull, 0x0ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0/3 */
    {DIV_D, 0x7fefffffffffffffull, 0x3fe0000000000000ull, 0x0ull, {0x7ff0000000000000ull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull, 0x7ff0000000000000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {SQRT_D, 0x4000000000000000ull, 0x0ull, 0x0ull, {0x3ff6a09e667f3bcdull, 0x3ff6a09e667f3bccull, 0x3ff6a09e667f3bccull, 0x3ff6a09e667f3bcdull, 0x3ff6a09e667f3bcdull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(2.0) */
    {SQRT_D, 0xbff0000000000000ull, 0x0ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(-1.0) */
    {SQRT_D, 0x8000000000000000ull, 0x0ull, 0x0ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(-0.0) */
    {SQRT_D, 0x4010000000000000ull, 0x0ull, 0x0ull, {0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* sqrt(4.0) */
    {SQRT_D, 0x12688b70e62bull, 0x0ull, 0x0ull, {0x1fc1297872d9cbaeull, 0x1fc1297872d9cbadull, 0x1fc1297872d9cbadull, 0x1fc1297872d9cbaeull, 0x1fc1297872d9cbaeull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* sqrt(1e-310) */
    {SQRT_D, 0x7ff0000000000001ull, 0x0ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(sNaN) */
    {SQRT_D, 0xfff0000000000000ull, 0x0ull, 0x0ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sqrt(-inf) */
    {FMADD_D, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ca0000000000000ull, {0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000001ull, 0x3ff0000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1*1+2^-53 tie */
    {FMADD_D, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x0ull, {0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000001ull, 0x3ff0000006000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* product tie */
    {FMADD_D, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x39b0000000000000ull, {0x3ff0000006000001ull, 0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000001ull, 0x3ff0000006000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* single rounding above tie */
    {FMADD_D, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0xb9b0000000000000ull, {0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000000ull, 0x3ff0000006000001ull, 0x3ff0000006000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* below tie */
    {FMSUB_D, 0x4000000000000000ull, 0x4008000000000000ull, 0x4010000000000000ull, {0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull, 0x4000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /*  */
    {FNMSUB_D, 0x4000000000000000ull, 0x4008000000000000ull, 0x4010000000000000ull, {0xc000000000000000ull, 0xc000000000000000ull, 0xc000000000000000ull, 0xc000000000000000ull, 0xc000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /*  */
    {FNMADD_D, 0x4000000000000000ull, 0x4008000000000000ull, 0x4010000000000000ull, {0xc024000000000000ull, 0xc024000000000000ull, 0xc024000000000000ull, 0xc024000000000000ull, 0xc024000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /*  */
    {FMADD_D, 0x4000000000000000ull, 0x4008000000000000ull, 0xc018000000000000ull, {0x0ull, 0x0ull, 0x8000000000000000ull, 0x0ull, 0x0ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* exact zero */
    {FMADD_D, 0x7ff0000000000000ull, 0x0ull, 0x7ff8000000001234ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf*0+qNaN */
    {FMADD_D, 0x3ff0000000000000ull, 0x7ff0000000000001ull, 0x3ff0000000000000ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sNaN multiplicand */
    {FMADD_D, 0x7fefffffffffffffull, 0x4000000000000000ull, 0xffefffffffffffffull, {0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7fefffffffffffffull, 0x7fefffffffffffffull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* no intermediate overflow */
    {FMADD_D, 0x1e60000000000000ull, 0x1e50000000000000ull, 0x1ull, {0x2ull, 0x1ull, 0x1ull, 0x2ull, 0x2ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie 1.5 ulp */
    {FMADD_D, 0x1e60000000000000ull, 0x1e50000000000000ull, 0x3ull, {0x4ull, 0x3ull, 0x3ull, 0x4ull, 0x4ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie 3.5 ulp */
    {FMADD_D, 0x3ff0000000000001ull, 0x3ff0000000000001ull, 0xbff0000000000000ull, {0x3cc0000000000000ull, 0x3cc0000000000000ull, 0x3cc0000000000000ull, 0x3cc0000000000001ull, 0x3cc0000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* cancellation */
    {FMADD_D, 0x5f48000000000000ull, 0x1a94000000000000ull, 0xb690000000000000ull, {0x39ee000000000000ull, 0x39edffffffffffffull, 0x39edffffffffffffull, 0x39ee000000000000ull, 0x39ee000000000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* product ~ -c */
    {CVT_W_S, 0xffffffff3fc00000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x2ull, 0x1ull, 0x1ull, 0x2ull, 0x2ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.5 */
    {CVT_W_S, 0xffffffff40200000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x2ull, 0x2ull, 0x2ull, 0x3ull, 0x3ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2.5 */
    {CVT_W_S, 0xffffffffbfc00000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xfffffffffffffffeull, 0xffffffffffffffffull, 0xfffffffffffffffeull, 0xffffffffffffffffull, 0xfffffffffffffffeull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1.5 */
    {CVT_W_S, 0xffffffffc0200000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xfffffffffffffffeull, 0xfffffffffffffffeull, 0xfffffffffffffffdull, 0xfffffffffffffffeull, 0xfffffffffffffffdull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -2.5 */
    {CVT_W_S, 0xffffffff3f000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0.5 */
    {CVT_W_S, 0xffffffffbf000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0xffffffffffffffffull, 0x0ull, 0xffffffffffffffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -0.5 */
    {CVT_W_S, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0.0 */
    {CVT_W_S, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0.0 */
    {CVT_W_S, 0xffffffff4f000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 2147483648.0 */
    {CVT_W_S, 0xffffffffcf000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -2147483648.0 */
    {CVT_W_S, 0xffffffff4effffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffff80ull, 0x7fffff80ull, 0x7fffff80ull, 0x7fffff80ull, 0x7fffff80ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2147483520.0 */
    {CVT_W_S, 0xffffffffcf000001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -2147483904.0 */
    {CVT_W_S, 0xffffffff0da24260ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x0ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1e-30 */
    {CVT_W_S, 0xffffffff7fc12345ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_W_S, 0xffffffff7f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf */
    {CVT_W_S, 0xffffffffff800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -inf */
    {CVT_W_S, 0x3f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* improperly boxed */
    {CVT_WU_S, 0xffffffffbf000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x10}}, /* -0.5 */
    {CVT_WU_S, 0xffffffffbf800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -1.0 */
    {CVT_WU_S, 0xffffffff3f000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0.5 */
    {CVT_WU_S, 0xffffffff406ccccdull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x4ull, 0x3ull, 0x3ull, 0x4ull, 0x4ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 3.7 */
    {CVT_WU_S, 0xffffffff4f7fffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffffffff00ull, 0xffffffffffffff00ull, 0xffffffffffffff00ull, 0xffffffffffffff00ull, 0xffffffffffffff00ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 4294967040.0 */
    {CVT_WU_S, 0xffffffff4f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 4294967296.0 */
    {CVT_WU_S, 0xffffffff8da24260ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x01}}, /* -1e-30 */
    {CVT_WU_S, 0xffffffff7fc12345ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_WU_S, 0xffffffffff800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -inf */
    {CVT_L_S, 0xffffffff5f000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 9.223372036854776e+18 */
    {CVT_L_S, 0xffffffffdf000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -9.223372036854776e+18 */
    {CVT_L_S, 0xffffffff5effffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffff8000000000ull, 0x7fffff8000000000ull, 0x7fffff8000000000ull, 0x7fffff8000000000ull, 0x7fffff8000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 9.223371487098962e+18 */
    {CVT_L_S, 0xffffffffc0200000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xfffffffffffffffeull, 0xfffffffffffffffeull, 0xfffffffffffffffdull, 0xfffffffffffffffeull, 0xfffffffffffffffdull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -2.5 */
    {CVT_L_S, 0xffffffff60ad78ecull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 1e+20 */
    {CVT_L_S, 0xffffffff7fc12345ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_LU_S, 0xffffffff5f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 1.8446744073709552e+19 */
    {CVT_LU_S, 0xffffffff5f7fffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffff0000000000ull, 0xffffff0000000000ull, 0xffffff0000000000ull, 0xffffff0000000000ull, 0xffffff0000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1.8446742974197924e+19 */
    {CVT_LU_S, 0xffffffffbf000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x10}}, /* -0.5 */
    {CVT_LU_S, 0xffffffffbf800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -1.0 */
    {CVT_LU_S, 0xffffffff3f000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0.5 */
    {CVT_LU_S, 0xffffffff7f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* inf */
    {CVT_W_D, 0x41dfffffffe00000ull, 0x0ull, 0x0ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x01, 0x01, 0x10, 0x10}}, /* 2147483647.5 */
    {CVT_W_D, 0xc1e0000000100000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x01, 0x01, 0x10, 0x01, 0x10}}, /* -2147483648.5 */
    {CVT_W_D, 0xc1e0000000200000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -2147483649.0 */
    {CVT_W_D, 0x41dfffffffc00000ull, 0x0ull, 0x0ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2147483647.0 */
    {CVT_W_D, 0xc1e0000000000000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -2147483648.0 */
    {CVT_W_D, 0xc1dfffffffe00000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000001ull, 0xffffffff80000000ull, 0xffffffff80000001ull, 0xffffffff80000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -2147483647.5 */
    {CVT_W_D, 0x3fe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0.5 */
    {CVT_W_D, 0xbfe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0xffffffffffffffffull, 0x0ull, 0xffffffffffffffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -0.5 */
    {CVT_W_D, 0x3ff8000000000000ull, 0x0ull, 0x0ull, {0x2ull, 0x1ull, 0x1ull, 0x2ull, 0x2ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.5 */
    {CVT_W_D, 0x7e37e43c8800759cull, 0x0ull, 0x0ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 1e+300 */
    {CVT_W_D, 0x7ff8000000001234ull, 0x0ull, 0x0ull, {0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull, 0x7fffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_W_D, 0xfff0000000000000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -inf */
    {CVT_WU_D, 0x41effffffff00000ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x01, 0x01, 0x10, 0x10}}, /* 4294967295.5 */
    {CVT_WU_D, 0x41efffffffe00000ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 4294967295.0 */
    {CVT_WU_D, 0x41f0000000000000ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 4294967296.0 */
    {CVT_WU_D, 0xbfe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x10}}, /* -0.5 */
    {CVT_WU_D, 0x81a56e1fc2f8f359ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x01}}, /* -1e-300 */
    {CVT_WU_D, 0xbff0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -1.0 */
    {CVT_WU_D, 0x41e0000000000000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2147483648.0 */
    {CVT_WU_D, 0x7ff8000000001234ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_L_D, 0x43e0000000000000ull, 0x0ull, 0x0ull, {0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x7fffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 9.223372036854776e+18 */
    {CVT_L_D, 0xc3e0000000000000ull, 0x0ull, 0x0ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -9.223372036854776e+18 */
    {CVT_L_D, 0x43dfffffffffffffull, 0x0ull, 0x0ull, {0x7ffffffffffffc00ull, 0x7ffffffffffffc00ull, 0x7ffffffffffffc00ull, 0x7ffffffffffffc00ull, 0x7ffffffffffffc00ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 9.223372036854775e+18 */
    {CVT_L_D, 0xc3e0000000000001ull, 0x0ull, 0x0ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -9.223372036854778e+18 */
    {CVT_L_D, 0xbfe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0xffffffffffffffffull, 0x0ull, 0xffffffffffffffffull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -0.5 */
    {CVT_L_D, 0x4004000000000000ull, 0x0ull, 0x0ull, {0x2ull, 0x2ull, 0x2ull, 0x3ull, 0x3ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2.5 */
    {CVT_L_D, 0x4320000000000001ull, 0x0ull, 0x0ull, {0x8000000000000ull, 0x8000000000000ull, 0x8000000000000ull, 0x8000000000001ull, 0x8000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2^51+0.5 */
    {CVT_LU_D, 0x43f0000000000000ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 1.8446744073709552e+19 */
    {CVT_LU_D, 0x43efffffffffffffull, 0x0ull, 0x0ull, {0xfffffffffffff800ull, 0xfffffffffffff800ull, 0xfffffffffffff800ull, 0xfffffffffffff800ull, 0xfffffffffffff800ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 1.844674407370955e+19 */
    {CVT_LU_D, 0xbfe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x01, 0x01, 0x10, 0x01, 0x10}}, /* -0.5 */
    {CVT_LU_D, 0xbff0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -1.0 */
    {CVT_LU_D, 0x3fe0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x1ull, 0x1ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0.5 */
    {CVT_LU_D, 0x3ff8000000000000ull, 0x0ull, 0x0ull, {0x2ull, 0x1ull, 0x1ull, 0x2ull, 0x2ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1.5 */
    {CVT_LU_D, 0x7ff8000000001234ull, 0x0ull, 0x0ull, {0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* NaN */
    {CVT_LU_D, 0xfff0000000000000ull, 0x0ull, 0x0ull, {0x0ull, 0x0ull, 0x0ull, 0x0ull, 0x0ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* -inf */
    {CVT_S_W, 0xdead000001000001ull, 0x0ull, 0x0ull, {0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800001ull, 0xffffffff4b800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 16777217 (upper bits ignored) */
    {CVT_S_W, 0xdead000001000003ull, 0x0ull, 0x0ull, {0xffffffff4b800002ull, 0xffffffff4b800001ull, 0xffffffff4b800001ull, 0xffffffff4b800002ull, 0xffffffff4b800002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 16777219 (upper bits ignored) */
    {CVT_S_W, 0xdead0000feffffffull, 0x0ull, 0x0ull, {0xffffffffcb800000ull, 0xffffffffcb800000ull, 0xffffffffcb800001ull, 0xffffffffcb800000ull, 0xffffffffcb800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -16777217 (upper bits ignored) */
    {CVT_S_W, 0xdead000080000000ull, 0x0ull, 0x0ull, {0xffffffffcf000000ull, 0xffffffffcf000000ull, 0xffffffffcf000000ull, 0xffffffffcf000000ull, 0xffffffffcf000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -2147483648 (upper bits ignored) */
    {CVT_S_W, 0xdead00007fffffffull, 0x0ull, 0x0ull, {0xffffffff4f000000ull, 0xffffffff4effffffull, 0xffffffff4effffffull, 0xffffffff4f000000ull, 0xffffffff4f000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 2147483647 (upper bits ignored) */
    {CVT_S_W, 0xdead0000ffffffffull, 0x0ull, 0x0ull, {0xffffffffbf800000ull, 0xffffffffbf800000ull, 0xffffffffbf800000ull, 0xffffffffbf800000ull, 0xffffffffbf800000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -1 (upper bits ignored) */
    {CVT_S_W, 0xdead000000000000ull, 0x0ull, 0x0ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0 (upper bits ignored) */
    {CVT_S_W, 0xdead000002000003ull, 0x0ull, 0x0ull, {0xffffffff4c000001ull, 0xffffffff4c000000ull, 0xffffffff4c000000ull, 0xffffffff4c000001ull, 0xffffffff4c000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 33554435 (upper bits ignored) */
    {CVT_S_WU, 0x12345678ffffffffull, 0x0ull, 0x0ull, {0xffffffff4f800000ull, 0xffffffff4f7fffffull, 0xffffffff4f7fffffull, 0xffffffff4f800000ull, 0xffffffff4f800000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0xffffffff */
    {CVT_S_WU, 0x1234567880000001ull, 0x0ull, 0x0ull, {0xffffffff4f000000ull, 0xffffffff4f000000ull, 0xffffffff4f000000ull, 0xffffffff4f000001ull, 0xffffffff4f000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0x80000001 */
    {CVT_S_WU, 0x1234567801000001ull, 0x0ull, 0x0ull, {0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800001ull, 0xffffffff4b800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0x1000001 */
    {CVT_S_L, 0x8000000000000000ull, 0x0ull, 0x0ull, {0xffffffffdf000000ull, 0xffffffffdf000000ull, 0xffffffffdf000000ull, 0xffffffffdf000000ull, 0xffffffffdf000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -9223372036854775808 */
    {CVT_S_L, 0x7fffffffffffffffull, 0x0ull, 0x0ull, {0xffffffff5f000000ull, 0xffffffff5effffffull, 0xffffffff5effffffull, 0xffffffff5f000000ull, 0xffffffff5f000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 9223372036854775807 */
    {CVT_S_L, 0x1000001ull, 0x0ull, 0x0ull, {0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800000ull, 0xffffffff4b800001ull, 0xffffffff4b800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 16777217 */
    {CVT_S_L, 0xfffffffffeffffffull, 0x0ull, 0x0ull, {0xffffffffcb800000ull, 0xffffffffcb800000ull, 0xffffffffcb800001ull, 0xffffffffcb800000ull, 0xffffffffcb800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -16777217 */
    {CVT_S_L, 0xfffffeffffff0000ull, 0x0ull, 0x0ull, {0xffffffffd3800000ull, 0xffffffffd3800000ull, 0xffffffffd3800001ull, 0xffffffffd3800000ull, 0xffffffffd3800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -1099511693312 */
    {CVT_S_LU, 0xffffffffffffffffull, 0x0ull, 0x0ull, {0xffffffff5f800000ull, 0xffffffff5f7fffffull, 0xffffffff5f7fffffull, 0xffffffff5f800000ull, 0xffffffff5f800000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0xffffffffffffffff */
    {CVT_S_LU, 0x8000008000000000ull, 0x0ull, 0x0ull, {0xffffffff5f000000ull, 0xffffffff5f000000ull, 0xffffffff5f000000ull, 0xffffffff5f000001ull, 0xffffffff5f000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0x8000008000000000 */
    {CVT_S_LU, 0x8000018000000000ull, 0x0ull, 0x0ull, {0xffffffff5f000002ull, 0xffffffff5f000001ull, 0xffffffff5f000001ull, 0xffffffff5f000002ull, 0xffffffff5f000002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0x8000018000000000 */
    {CVT_D_W, 0xfffffffbull, 0x0ull, 0x0ull, {0xc014000000000000ull, 0xc014000000000000ull, 0xc014000000000000ull, 0xc014000000000000ull, 0xc014000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -5 */
    {CVT_D_W, 0x80000000ull, 0x0ull, 0x0ull, {0xc1e0000000000000ull, 0xc1e0000000000000ull, 0xc1e0000000000000ull, 0xc1e0000000000000ull, 0xc1e0000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -2147483648 */
    {CVT_D_W, 0xffffffff7fffffffull, 0x0ull, 0x0ull, {0x41dfffffffc00000ull, 0x41dfffffffc00000ull, 0x41dfffffffc00000ull, 0x41dfffffffc00000ull, 0x41dfffffffc00000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 2147483647 */
    {CVT_D_WU, 0xffffffff80000000ull, 0x0ull, 0x0ull, {0x41e0000000000000ull, 0x41e0000000000000ull, 0x41e0000000000000ull, 0x41e0000000000000ull, 0x41e0000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0x80000000 */
    {CVT_D_L, 0x20000000000001ull, 0x0ull, 0x0ull, {0x4340000000000000ull, 0x4340000000000000ull, 0x4340000000000000ull, 0x4340000000000001ull, 0x4340000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 9007199254740993 */
    {CVT_D_L, 0x20000000000003ull, 0x0ull, 0x0ull, {0x4340000000000002ull, 0x4340000000000001ull, 0x4340000000000001ull, 0x4340000000000002ull, 0x4340000000000002ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 9007199254740995 */
    {CVT_D_L, 0x7fffffffffffffffull, 0x0ull, 0x0ull, {0x43e0000000000000ull, 0x43dfffffffffffffull, 0x43dfffffffffffffull, 0x43e0000000000000ull, 0x43e0000000000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 9223372036854775807 */
    {CVT_D_L, 0x8000000000000000ull, 0x0ull, 0x0ull, {0xc3e0000000000000ull, 0xc3e0000000000000ull, 0xc3e0000000000000ull, 0xc3e0000000000000ull, 0xc3e0000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -9223372036854775808 */
    {CVT_D_L, 0xffdfffffffffffffull, 0x0ull, 0x0ull, {0xc340000000000000ull, 0xc340000000000000ull, 0xc340000000000001ull, 0xc340000000000000ull, 0xc340000000000001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -9007199254740993 */
    {CVT_D_LU, 0xffffffffffffffffull, 0x0ull, 0x0ull, {0x43f0000000000000ull, 0x43efffffffffffffull, 0x43efffffffffffffull, 0x43f0000000000000ull, 0x43f0000000000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0xffffffffffffffff */
    {CVT_D_LU, 0xfffffffffffffc00ull, 0x0ull, 0x0ull, {0x43f0000000000000ull, 0x43efffffffffffffull, 0x43efffffffffffffull, 0x43f0000000000000ull, 0x43f0000000000000ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 0xfffffffffffffc00 */
    {CVT_S_D, 0x3fd5555555555555ull, 0x0ull, 0x0ull, {0xffffffff3eaaaaabull, 0xffffffff3eaaaaaaull, 0xffffffff3eaaaaaaull, 0xffffffff3eaaaaabull, 0xffffffff3eaaaaabull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* (double)1/3 */
    {CVT_S_D, 0x3ff0000010000000ull, 0x0ull, 0x0ull, {0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800000ull, 0xffffffff3f800001ull, 0xffffffff3f800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* 1+2^-24 tie */
    {CVT_S_D, 0xbff0000010000000ull, 0x0ull, 0x0ull, {0xffffffffbf800000ull, 0xffffffffbf800000ull, 0xffffffffbf800001ull, 0xffffffffbf800000ull, 0xffffffffbf800001ull}, {0x01, 0x01, 0x01, 0x01, 0x01}}, /* -(1+2^-24) tie */
    {CVT_S_D, 0x47effffff0000000ull, 0x0ull, 0x0ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x01, 0x01, 0x05, 0x05}}, /* max float + half ulp */
    {CVT_S_D, 0x7e37e43c8800759cull, 0x0ull, 0x0ull, {0xffffffff7f800000ull, 0xffffffff7f7fffffull, 0xffffffff7f7fffffull, 0xffffffff7f800000ull, 0xffffffff7f800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* overflow */
    {CVT_S_D, 0xfe37e43c8800759cull, 0x0ull, 0x0ull, {0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull, 0xffffffffff7fffffull, 0xffffffffff800000ull}, {0x05, 0x05, 0x05, 0x05, 0x05}}, /* -overflow */
    {CVT_S_D, 0x1a56e1fc2f8f359ull, 0x0ull, 0x0ull, {0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000000ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* underflow */
    {CVT_S_D, 0x81a56e1fc2f8f359ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000001ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* -underflow */
    {CVT_S_D, 0x36b4000000000000ull, 0x0ull, 0x0ull, {0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000002ull, 0xffffffff00000003ull, 0xffffffff00000003ull}, {0x03, 0x03, 0x03, 0x03, 0x03}}, /* subnormal tie 2.5 ulp */
    {CVT_S_D, 0x36a0000000000000ull, 0x0ull, 0x0ull, {0xffffffff00000001ull, 0xffffffff00000001ull, 0xffffffff00000001ull, 0xffffffff00000001ull, 0xffffffff00000001ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* min subnormal exact */
    {CVT_S_D, 0x7ff0000000000001ull, 0x0ull, 0x0ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* sNaN */
    {CVT_S_D, 0xfff8000000000000ull, 0x0ull, 0x0ull, {0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull, 0xffffffff7fc00000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -qNaN */
    {CVT_S_D, 0xfff0000000000000ull, 0x0ull, 0x0ull, {0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull, 0xffffffffff800000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -inf */
    {CVT_S_D, 0x8000000000000000ull, 0x0ull, 0x0ull, {0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* -0 */
    {CVT_D_S, 0xffffffff3fc00000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x3ff8000000000000ull, 0x3ff8000000000000ull, 0x3ff8000000000000ull, 0x3ff8000000000000ull, 0x3ff8000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0x3fc00000 */
    {CVT_D_S, 0xffffffff7f800001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x10, 0x10, 0x10, 0x10, 0x10}}, /* 0x7f800001 */
    {CVT_D_S, 0xffffffffffc00000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0xffc00000 */
    {CVT_D_S, 0xffffffff00000001ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x36a0000000000000ull, 0x36a0000000000000ull, 0x36a0000000000000ull, 0x36a0000000000000ull, 0x36a0000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0x1 */
    {CVT_D_S, 0xffffffffff800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0xfff0000000000000ull, 0xfff0000000000000ull, 0xfff0000000000000ull, 0xfff0000000000000ull, 0xfff0000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0xff800000 */
    {CVT_D_S, 0xffffffff80000000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0x80000000 */
    {CVT_D_S, 0xffffffff7f7fffffull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x47efffffe0000000ull, 0x47efffffe0000000ull, 0x47efffffe0000000ull, 0x47efffffe0000000ull, 0x47efffffe0000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* 0x7f7fffff */
    {CVT_D_S, 0x3f800000ull, 0xffffffff00000000ull, 0xffffffff00000000ull, {0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull, 0x7ff8000000000000ull}, {0x00, 0x00, 0x00, 0x00, 0x00}}, /* improperly boxed -> canonical NaN */
};

static int n_fail;
#define MAX_REPORT 30

static void report(const char *what, int op, int rm, uint64_t a, uint64_t b, uint64_t c, uint64_t got,
                   uint32_t gfl, uint64_t want, uint32_t wfl)
{
    if (n_fail++ < MAX_REPORT)
        print_error("%s: %s %s a=%016llx b=%016llx c=%016llx: got %016llx fl=%02x, want %016llx fl=%02x\n",
                    what, op_names[op], rm_names[rm], (unsigned long long)a, (unsigned long long)b,
                    (unsigned long long)c, (unsigned long long)got, gfl, (unsigned long long)want, wfl);
}

static void run_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vec *v = &vectors[i];
        for (int rm = 0; rm < 5; rm++) {
            uint32_t fl = 0, rfl = 0;
            uint64_t r = impl(v->op, v->a, v->b, v->c, rm, &fl);
            if (r != v->r[rm] || fl != v->fl[rm])
                report("vector", v->op, rm, v->a, v->b, v->c, r, fl, v->r[rm], v->fl[rm]);
            uint64_t rr = ref(v->op, v->a, v->b, v->c, rm, &rfl);
            if (rr != v->r[rm] || rfl != v->fl[rm])
                report("vector vs reference", v->op, rm, v->a, v->b, v->c, rr, rfl, v->r[rm], v->fl[rm]);
            /* flags are ORed into *flags, never cleared */
            uint32_t acc = 0x80000000u;
            impl(v->op, v->a, v->b, v->c, rm, &acc);
            if (acc != (0x80000000u | v->fl[rm]))
                report("flag accumulation", v->op, rm, v->a, v->b, v->c, r, acc, v->r[rm], v->fl[rm]);
        }
    }
}

static void test_vectors(void **state)
{
    (void)state;
    n_fail = 0;
    for (int cfg = 0; cfg < 4; cfg++) {
        rv_fpu_test_config(!(cfg & 1), !(cfg & 2)); /* fast path on/off x fma instruction/libm */
        run_vectors();
    }
    rv_fpu_test_config(1, 1);
    assert_int_equal(n_fail, 0);
}

/* A few of the vectors spelled out. */
static void test_named_cases(void **state)
{
    (void)state;
    uint32_t fl;
    /* 1/3 in single: RNE/RUP/RMM 0x3eaaaaab, RTZ/RDN 0x3eaaaaaa, NX */
    static const uint32_t third_s[5] = {0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab};
    static const uint64_t third_d[5] = {0x3fd5555555555555ull, 0x3fd5555555555555ull, 0x3fd5555555555555ull,
                                        0x3fd5555555555556ull, 0x3fd5555555555555ull};
    for (int rm = 0; rm < 5; rm++) {
        fl = 0;
        assert_int_equal(rv_fdiv_s(BOX(0x3f800000), BOX(0x40400000), rm, &fl), BOX(third_s[rm]));
        assert_int_equal(fl, NX);
        fl = 0;
        assert_int_equal(rv_fdiv_d(0x3ff0000000000000ull, 0x4008000000000000ull, rm, &fl), third_d[rm]);
        assert_int_equal(fl, NX);
    }
    /* 1 + 2^-24: RNE 1.0, RMM 1.00000012 */
    fl = 0;
    assert_int_equal(rv_fadd_s(BOX(0x3f800000), BOX(0x33800000), RV_RM_RNE, &fl), BOX(0x3f800000));
    assert_int_equal(fl, NX);
    fl = 0;
    assert_int_equal(rv_fadd_s(BOX(0x3f800000), BOX(0x33800000), RV_RM_RMM, &fl), BOX(0x3f800001));
    assert_int_equal(fl, NX);
    /* 1 + 2^-53 in double */
    fl = 0;
    assert_int_equal(rv_fadd_d(0x3ff0000000000000ull, 0x3ca0000000000000ull, RV_RM_RMM, &fl), 0x3ff0000000000001ull);
    assert_int_equal(fl, NX);
    /* overflow: RNE inf, RTZ max, RDN max / -inf, RUP inf / -max */
    fl = 0;
    assert_int_equal(rv_fmul_d(0x7fe0000000000000ull, 0x4000000000000000ull, RV_RM_RTZ, &fl), 0x7fefffffffffffffull);
    assert_int_equal(fl, OF | NX);
    fl = 0;
    assert_int_equal(rv_fmul_d(0xffe0000000000000ull, 0x4000000000000000ull, RV_RM_RUP, &fl), 0xffefffffffffffffull);
    assert_int_equal(fl, OF | NX);
    fl = 0;
    assert_int_equal(rv_fmul_s(BOX(0xff000000), BOX(0x40000000), RV_RM_RDN, &fl), BOX(0xff800000));
    assert_int_equal(fl, OF | NX);
    /* 0/0, 1/0, sqrt(-1), inf-inf */
    fl = 0;
    assert_int_equal(rv_fdiv_d(0, 0, RV_RM_RNE, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fdiv_s(BOX(0x3f800000), BOX(0), RV_RM_RNE, &fl), BOX(0x7f800000));
    assert_int_equal(fl, DZ);
    fl = 0;
    assert_int_equal(rv_fsqrt_s(BOX(0xbf800000), RV_RM_RNE, &fl), BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fsub_d(0x7ff0000000000000ull, 0x7ff0000000000000ull, RV_RM_RNE, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, NV);
    /* quiet NaN in: canonical NaN out, no flags (no payload propagation) */
    fl = 0;
    assert_int_equal(rv_fmul_d(0xfff8000000000123ull, 0x3ff0000000000000ull, RV_RM_RNE, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, 0);
    /* underflow: 2^-150 -> 0 with UF|NX (RNE), min subnormal (RMM, RUP) */
    fl = 0;
    assert_int_equal(rv_fmul_s(BOX(0x1a000000), BOX(0x1a000000), RV_RM_RNE, &fl), BOX(0));
    assert_int_equal(fl, UF | NX);
    fl = 0;
    assert_int_equal(rv_fmul_s(BOX(0x1a000000), BOX(0x1a000000), RV_RM_RMM, &fl), BOX(1));
    assert_int_equal(fl, UF | NX);
    /* exact subnormal result: no UF */
    fl = 0;
    assert_int_equal(rv_fmul_d(0x0000000000000010ull, 0x3fe0000000000000ull, RV_RM_RNE, &fl), 0x8ull);
    assert_int_equal(fl, 0);
    /* 2^-126 - 2^-151 rounds to 2^-126 (after-rounding tininess: no UF) */
    fl = 0;
    assert_int_equal(rv_fmul_s(BOX(0x21118e00), BOX(0x1ee12000), RV_RM_RNE, &fl), BOX(0x00800000));
    assert_int_equal(fl, NX);
    /* fcvt.wu.s -0.5: RNE/RTZ/RUP 0 (NX), RDN/RMM round to -1 -> NV */
    static const uint32_t wu_fl[5] = {NX, NX, NV, NX, NV};
    for (int rm = 0; rm < 5; rm++) {
        fl = 0;
        assert_int_equal(rv_fcvt_wu_s(BOX(0xbf000000), rm, &fl), 0);
        assert_int_equal(fl, wu_fl[rm]);
    }
    /* fcvt.wu.s of 4294967040.0 sign-extends: 0xffffffffffffff00 */
    fl = 0;
    assert_int_equal(rv_fcvt_wu_s(BOX(0x4f7fffff), RV_RM_RTZ, &fl), 0xffffffffffffff00ull);
    assert_int_equal(fl, 0);
    /* NaN -> max, -inf -> min */
    fl = 0;
    assert_int_equal(rv_fcvt_w_d(RV_F64_CANONICAL_NAN, RV_RM_RTZ, &fl), 0x7fffffffull);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fcvt_l_d(0xfff0000000000000ull, RV_RM_RTZ, &fl), DSIGN);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fcvt_lu_s(BOX(RV_F32_CANONICAL_NAN), RV_RM_RTZ, &fl), ~0ull);
    assert_int_equal(fl, NV);
    /* fcvt.d.s exact; sNaN -> NV + canonical */
    fl = 0;
    assert_int_equal(rv_fcvt_d_s(BOX(0x00000001), &fl), 0x36a0000000000000ull);
    assert_int_equal(fl, 0);
    fl = 0;
    assert_int_equal(rv_fcvt_d_s(BOX(0x7f800001), &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, NV);
    /* int -> float ties: 2^24+1 RNE 2^24, RMM 2^24+2; 2^53+1 likewise */
    fl = 0;
    assert_int_equal(rv_fcvt_s_w(16777217, RV_RM_RNE, &fl), BOX(0x4b800000));
    assert_int_equal(rv_fcvt_s_w(16777217, RV_RM_RMM, &fl), BOX(0x4b800001));
    assert_int_equal(rv_fcvt_d_l((1ull << 53) + 1, RV_RM_RMM, &fl), 0x4340000000000001ull);
    assert_int_equal(fl, NX);
}

static void test_nan_boxing(void **state)
{
    (void)state;
    uint32_t fl = 0;
    /* improperly boxed single operands read as the canonical NaN (quiet: no NV) */
    assert_int_equal(rv_fadd_s(0x000000003f800000ull, BOX(0x3f800000), RV_RM_RNE, &fl), BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(rv_fmul_s(BOX(0x3f800000), 0x7fffffff3f800000ull, RV_RM_RNE, &fl), BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(rv_fsqrt_s(0x3f800000ull, RV_RM_RNE, &fl), BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(rv_fma_s(BOX(0x3f800000), BOX(0x3f800000), 0x3f800000ull, 0, RV_RM_RNE, &fl),
                     BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(fl, 0);
    assert_int_equal(rv_fclass_s(0x00000000ff800000ull), 1u << 9);
    assert_int_equal(rv_fclass_s(BOX(0xff800000)), 1u << 0);
    /* fsgnj.s: the improperly boxed operand is the canonical NaN */
    assert_int_equal(rv_fsgnj_s(0x3f800000ull, BOX(0x80000000), 0), BOX(0xffc00000));
    assert_int_equal(rv_fsgnj_s(BOX(0x3f800000), 0xbf800000ull, 0), BOX(0x3f800000));
    assert_int_equal(rv_fsgnj_s(BOX(0x3f800000), 0xbf800000ull, 1), BOX(0xbf800000));
    /* fmin: improperly boxed = NaN -> the other operand */
    fl = 0;
    assert_int_equal(rv_fmin_s(0x40000000ull, BOX(0x40400000), &fl), BOX(0x40400000));
    assert_int_equal(fl, 0);
    /* compares: canonical NaN -> 0; feq quiet, flt signaling */
    assert_int_equal(rv_feq_s(0x3f800000ull, 0x3f800000ull, &fl), 0);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_flt_s(0x3f800000ull, BOX(0x3f800000), &fl), 0);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fcvt_d_s(0xfffffffe3f800000ull, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_fcvt_w_s(0x3f800000ull, RV_RM_RNE, &fl), 0x7fffffffull);
    assert_int_equal(fl, NV);
    /* results are always boxed */
    fl = 0;
    assert_int_equal(rv_fcvt_s_l(3, RV_RM_RNE, &fl), BOX(0x40400000));
    assert_int_equal(rv_fcvt_s_d(0x3ff0000000000000ull, RV_RM_RNE, &fl), BOX(0x3f800000));
    assert_int_equal(rv_fmax_s(BOX(0), BOX(0x80000000), &fl), BOX(0));
    assert_int_equal(fl, 0);
}

static void test_minmax(void **state)
{
    (void)state;
    const uint64_t one = 0x3ff0000000000000ull, two = 0x4000000000000000ull, mone = 0xbff0000000000000ull;
    const uint64_t qnan = 0x7ff8000000000000ull, pqnan = 0xfff8000000000abcull, snan = 0x7ff4000000000000ull;
    uint32_t fl = 0;
    assert_int_equal(rv_fmin_d(one, two, &fl), one);
    assert_int_equal(rv_fmax_d(one, two, &fl), two);
    assert_int_equal(rv_fmin_d(mone, one, &fl), mone);
    assert_int_equal(rv_fmax_d(mone, one, &fl), one);
    assert_int_equal(rv_fmin_d(0, DSIGN, &fl), DSIGN);
    assert_int_equal(rv_fmin_d(DSIGN, 0, &fl), DSIGN);
    assert_int_equal(rv_fmax_d(0, DSIGN, &fl), 0);
    assert_int_equal(rv_fmax_d(DSIGN, 0, &fl), 0);
    assert_int_equal(rv_fmin_d(qnan, one, &fl), one);
    assert_int_equal(rv_fmax_d(one, pqnan, &fl), one);
    assert_int_equal(rv_fmin_d(qnan, pqnan, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_fmin_d(snan, one, &fl), one);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fmax_d(snan, snan, &fl), RV_F64_CANONICAL_NAN);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fmax_d(0xfff0000000000000ull, mone, &fl), mone);
    assert_int_equal(rv_fmin_d(0x7ff0000000000000ull, 0x7fefffffffffffffull, &fl), 0x7fefffffffffffffull);
    assert_int_equal(rv_fmin_d(1, 0, &fl), 0); /* +0 < min subnormal */
    assert_int_equal(rv_fmax_d(0x8000000000000001ull, DSIGN, &fl), DSIGN);
    assert_int_equal(fl, 0);
    /* single */
    assert_int_equal(rv_fmin_s(BOX(0x00000000), BOX(0x80000000), &fl), BOX(0x80000000));
    assert_int_equal(rv_fmax_s(BOX(0x80000000), BOX(0x00000000), &fl), BOX(0x00000000));
    assert_int_equal(rv_fmax_s(BOX(0x7fc00001), BOX(0xc0000000), &fl), BOX(0xc0000000));
    assert_int_equal(rv_fmin_s(BOX(0x7fc00001), BOX(0xffc00000), &fl), BOX(RV_F32_CANONICAL_NAN));
    assert_int_equal(fl, 0);
    assert_int_equal(rv_fmin_s(BOX(0x3f800000), BOX(0x7f800001), &fl), BOX(0x3f800000));
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fmax_s(BOX(0xbf800000), BOX(0xc0000000), &fl), BOX(0xbf800000));
    assert_int_equal(rv_fmin_s(BOX(0xbf800000), BOX(0xc0000000), &fl), BOX(0xc0000000));
    assert_int_equal(fl, 0);
}

static void test_compare(void **state)
{
    (void)state;
    const uint64_t one = 0x3ff0000000000000ull, two = 0x4000000000000000ull;
    const uint64_t qnan = 0x7ff8000000000000ull, snan = 0x7ff0000000000001ull;
    uint32_t fl = 0;
    assert_int_equal(rv_feq_d(one, one, &fl), 1);
    assert_int_equal(rv_feq_d(one, two, &fl), 0);
    assert_int_equal(rv_feq_d(0, DSIGN, &fl), 1);
    assert_int_equal(rv_flt_d(one, two, &fl), 1);
    assert_int_equal(rv_flt_d(two, one, &fl), 0);
    assert_int_equal(rv_flt_d(one, one, &fl), 0);
    assert_int_equal(rv_flt_d(DSIGN, 0, &fl), 0);
    assert_int_equal(rv_fle_d(DSIGN, 0, &fl), 1);
    assert_int_equal(rv_fle_d(0, DSIGN, &fl), 1);
    assert_int_equal(rv_fle_d(one, one, &fl), 1);
    assert_int_equal(rv_fle_d(two, one, &fl), 0);
    assert_int_equal(rv_flt_d(0xbff0000000000000ull, 0xbfe0000000000000ull, &fl), 1);
    assert_int_equal(rv_flt_d(0xfff0000000000000ull, 0xffefffffffffffffull, &fl), 1);
    assert_int_equal(rv_fle_d(0x7ff0000000000000ull, 0x7ff0000000000000ull, &fl), 1);
    assert_int_equal(fl, 0);
    /* feq is quiet: NV only for sNaN */
    assert_int_equal(rv_feq_d(qnan, qnan, &fl), 0);
    assert_int_equal(rv_feq_d(one, qnan, &fl), 0);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_feq_d(snan, one, &fl), 0);
    assert_int_equal(fl, NV);
    /* flt/fle signal on any NaN */
    fl = 0;
    assert_int_equal(rv_flt_d(qnan, one, &fl), 0);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fle_d(one, qnan, &fl), 0);
    assert_int_equal(fl, NV);
    /* single */
    fl = 0;
    assert_int_equal(rv_feq_s(BOX(0x80000000), BOX(0), &fl), 1);
    assert_int_equal(rv_flt_s(BOX(0xc0000000), BOX(0xbf800000), &fl), 1);
    assert_int_equal(rv_fle_s(BOX(0x3f800000), BOX(0x3f800000), &fl), 1);
    assert_int_equal(rv_flt_s(BOX(0x3f800000), BOX(0x3f800000), &fl), 0);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_feq_s(BOX(0x7fc00000), BOX(0x7fc00000), &fl), 0);
    assert_int_equal(fl, 0);
    assert_int_equal(rv_feq_s(BOX(0x7fa00000), BOX(0x7fc00000), &fl), 0);
    assert_int_equal(fl, NV);
    fl = 0;
    assert_int_equal(rv_fle_s(BOX(0x7fc00000), BOX(0x3f800000), &fl), 0);
    assert_int_equal(fl, NV);
}

static void test_fclass(void **state)
{
    (void)state;
    assert_int_equal(rv_fclass_d(0xfff0000000000000ull), 1u << 0);
    assert_int_equal(rv_fclass_d(0xbff0000000000000ull), 1u << 1);
    assert_int_equal(rv_fclass_d(0x800fffffffffffffull), 1u << 2);
    assert_int_equal(rv_fclass_d(0x8000000000000000ull), 1u << 3);
    assert_int_equal(rv_fclass_d(0x0000000000000000ull), 1u << 4);
    assert_int_equal(rv_fclass_d(0x0000000000000001ull), 1u << 5);
    assert_int_equal(rv_fclass_d(0x0010000000000000ull), 1u << 6);
    assert_int_equal(rv_fclass_d(0x7ff0000000000000ull), 1u << 7);
    assert_int_equal(rv_fclass_d(0x7ff0000000000001ull), 1u << 8);
    assert_int_equal(rv_fclass_d(0xfff7ffffffffffffull), 1u << 8);
    assert_int_equal(rv_fclass_d(0x7ff8000000000000ull), 1u << 9);
    assert_int_equal(rv_fclass_d(0xffffffffffffffffull), 1u << 9);
    assert_int_equal(rv_fclass_s(BOX(0xff800000)), 1u << 0);
    assert_int_equal(rv_fclass_s(BOX(0xbf800000)), 1u << 1);
    assert_int_equal(rv_fclass_s(BOX(0x807fffff)), 1u << 2);
    assert_int_equal(rv_fclass_s(BOX(0x80000000)), 1u << 3);
    assert_int_equal(rv_fclass_s(BOX(0x00000000)), 1u << 4);
    assert_int_equal(rv_fclass_s(BOX(0x00000001)), 1u << 5);
    assert_int_equal(rv_fclass_s(BOX(0x7f7fffff)), 1u << 6);
    assert_int_equal(rv_fclass_s(BOX(0x7f800000)), 1u << 7);
    assert_int_equal(rv_fclass_s(BOX(0x7fbfffff)), 1u << 8);
    assert_int_equal(rv_fclass_s(BOX(0xff800001)), 1u << 8);
    assert_int_equal(rv_fclass_s(BOX(0x7fc00000)), 1u << 9);
}

static void test_sgnj(void **state)
{
    (void)state;
    const uint64_t one = 0x3ff0000000000000ull, snan = 0x7ff0000000000001ull;
    assert_int_equal(rv_fsgnj_d(one, DSIGN, 0), one | DSIGN);
    assert_int_equal(rv_fsgnj_d(one | DSIGN, 0, 0), one);
    assert_int_equal(rv_fsgnj_d(one, DSIGN, 1), one);
    assert_int_equal(rv_fsgnj_d(one, 0, 1), one | DSIGN);
    assert_int_equal(rv_fsgnj_d(one | DSIGN, DSIGN, 2), one);
    assert_int_equal(rv_fsgnj_d(one | DSIGN, 0, 2), one | DSIGN);
    assert_int_equal(rv_fsgnj_d(one, one, 2), one); /* fabs via fsgnjx x,x on +x */
    /* no canonicalization, no flags for NaNs */
    assert_int_equal(rv_fsgnj_d(snan, DSIGN, 0), snan | DSIGN);
    assert_int_equal(rv_fsgnj_d(0xfff8000000000123ull, 0, 1), 0xfff8000000000123ull);
    assert_int_equal(rv_fsgnj_s(BOX(0x7f800001), BOX(0x80000000), 0), BOX(0xff800001));
    assert_int_equal(rv_fsgnj_s(BOX(0xbf800000), BOX(0xbf800000), 2), BOX(0x3f800000));
    assert_int_equal(rv_fsgnj_s(BOX(0x3f800000), BOX(0x3f800000), 1), BOX(0xbf800000));
    assert_int_equal(rv_fsgnj_s(BOX(0x3f800000), BOX(0xbf800000), 1), BOX(0x3f800000));
}

/* The host rounding mode is round-to-nearest after every call. */
static void test_host_mode_restored(void **state)
{
    (void)state;
    static volatile double one = 1.0, three = 3.0;
    static volatile float onef = 1.0f, threef = 3.0f;
    for (int rm = 0; rm < 5; rm++) {
        uint32_t fl = 0;
        rv_fadd_d(0x3ff0000000000000ull, 0x3c90000000000000ull, rm, &fl);
        rv_fma_s(BOX(0x3f800001), BOX(0x3f800001), BOX(0xbf800000), 0, rm, &fl);
        rv_fcvt_s_d(0x3fd5555555555555ull, rm, &fl);
        rv_fsqrt_d(0x4000000000000000ull, rm, &fl);
        assert_int_equal(fegetround(), FE_TONEAREST);
        volatile double q = one / three;
        volatile float qf = onef / threef;
        uint64_t qb;
        uint32_t qfb;
        memcpy(&qb, (const void *)&q, 8);
        memcpy(&qfb, (const void *)&qf, 4);
        assert_int_equal(qb, 0x3fd5555555555555ull);
        assert_int_equal(qfb, 0x3eaaaaab);
    }
}

/* ------------------------------------------------------------------------
 * Randomized cross-check
 * ---------------------------------------------------------------------- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned rnd(unsigned n) { return (unsigned)(rnd64() % n); }

static long iters(long dflt)
{
    const char *s = getenv("VIREO_FPU_ITERS");
    long n = s ? atol(s) : 0;
    return n > 0 ? n : dflt;
}

/* biased exponent of a finite value, or -1 */
static int exp_of(uint64_t bits, const fmt_t *f)
{
    int E = (int)((bits >> (f->p - 1)) & ((1u << f->ebits) - 1));
    return E == (1 << f->ebits) - 1 ? -1 : E;
}

static uint64_t pack(const fmt_t *f, bool neg, int E, uint64_t frac)
{
    return fzero(f, neg) | ((uint64_t)E << (f->p - 1)) | (frac & ((1ull << (f->p - 1)) - 1));
}

/* Random operand; near != -1 is a biased exponent to cluster around. */
static uint64_t rand_fp(const fmt_t *f, int near)
{
    int fb = f->p - 1, emaxf = (1 << f->ebits) - 2;
    uint64_t fmask = (1ull << fb) - 1;
    bool neg = rnd(2);
    if (rnd(100) < 5) {
        switch (rnd(12)) {
        case 0: return fzero(f, neg);
        case 1: return finf(f, neg);
        case 2: return f->canon;
        case 3: return finf(f, neg) | 1; /* sNaN */
        case 4: return finf(f, neg) | (1ull << (fb - 1)) | (rnd64() & fmask); /* qNaN with payload */
        case 5: return finf(f, neg) - 1; /* max */
        case 6: return pack(f, neg, 1, 0); /* min normal */
        case 7: return fzero(f, neg) | 1; /* min subnormal */
        case 8: return pack(f, neg, f->bias, 0); /* 1 */
        case 9: return fzero(f, neg) | fmask; /* max subnormal */
        case 10: return pack(f, neg, 1, fmask);
        default: return pack(f, neg, f->bias, fmask);
        }
    }
    int E;
    unsigned r = rnd(100);
    int span = f->p + 4;
    if (near >= 0 && r < 45)
        E = near + (int)rnd(2 * span + 1) - span;
    else if (r < 60)
        E = f->bias + (int)rnd(2 * span + 1) - span;
    else if (r < 70)
        E = (int)rnd(span + 2);
    else if (r < 78)
        E = emaxf - (int)rnd(span);
    else if (r < 86)
        E = f->bias / 2 + (int)rnd(2 * span + 1) - span; /* products near the subnormal range */
    else if (r < 92)
        E = f->bias + f->bias / 2 + (int)rnd(2 * span + 1) - span; /* products near overflow */
    else
        E = (int)rnd((unsigned)emaxf + 1);
    if (E < 0)
        E = 0;
    if (E > emaxf)
        E = emaxf;
    uint64_t frac;
    switch (rnd(8)) {
    case 0: case 1: case 2: frac = rnd64(); break;
    case 3: case 4: frac = rnd64() & ~(fmask >> (1 + rnd(fb))); break; /* few leading bits */
    case 5: frac = fmask - rnd(4); break;
    case 6: frac = (1ull << rnd(fb)) | (rnd(2) ? 1 : 0); break;
    default: frac = rnd64() >> rnd(64); break;
    }
    return pack(f, neg, E, frac);
}

static uint64_t to_fmt(const fmt_t *f, double x)
{
    if (f == &FS) {
        float y = (float)x;
        uint32_t u;
        memcpy(&u, &y, 4);
        return u;
    }
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

/* a*b or a/b lands close to max or min-normal (either side) */
static void near_boundary(const fmt_t *f, bool div, uint64_t *pa, uint64_t *pb)
{
    bool top = rnd(2);
    double T = top ? (f == &FS ? 3.4028234663852886e38 : 1.7976931348623157e308)
                   : (f == &FS ? 0x1p-126 : 0x1p-1022);
    double m = 1.0 + (double)(rnd64() >> 11) * 0x1p-53; /* [1, 2) */
    if (top == div)
        m *= 0.5; /* [0.5, 1) keeps every operand normal */
    uint64_t mb = to_fmt(f, m);
    double mr;
    if (f == &FS) {
        float t;
        uint32_t u = (uint32_t)mb;
        memcpy(&t, &u, 4);
        mr = t;
    } else {
        memcpy(&mr, &mb, 8);
    }
    if (div) {
        *pa = to_fmt(f, T * mr);
        *pb = mb;
    } else {
        *pa = mb;
        *pb = to_fmt(f, T / mr);
    }
    if (rnd(2))
        *pa ^= 1ull << (f->width - 1);
    if (rnd(2))
        *pb ^= 1ull << (f->width - 1);
}

struct tally {
    long checked, rmm_ties;
};

static void check_one(int op, uint64_t a, uint64_t b, uint64_t c, struct tally *t)
{
    uint64_t r_rne = 0;
    for (int rm = 0; rm < 5; rm++) {
        uint32_t fl = 0, rfl = 0;
        uint64_t got = impl(op, a, b, c, rm, &fl);
        uint64_t want = ref(op, a, b, c, rm, &rfl);
        if (got != want || fl != rfl)
            report("random", op, rm, a, b, c, got, fl, want, rfl);
        if (rm == 0)
            r_rne = got;
        if (rm == 4 && got != r_rne)
            t->rmm_ties++;
        t->checked++;
    }
}

static uint64_t maybe_unbox(uint64_t x)
{
    /* 2% improperly boxed single operands */
    if (rnd(50) == 0)
        return (x & 0xffffffffu) | ((rnd64() & 0xfffffffe00000000ull));
    return BOX(x);
}

static void random_arith(const fmt_t *f, int first_op, long n, bool fma_only, struct tally *tl)
{
    bool single = f == &FS;
    for (long i = 0; i < n; i++) {
        for (int k = fma_only ? 5 : 0; k < 9; k++) {
            uint64_t a = rand_fp(f, -1);
            uint64_t b = rand_fp(f, rnd(2) ? exp_of(a, f) : -1);
            if ((k == 2 || k == 3) && rnd(5) == 0) {
                /* results within an ulp or so of the overflow threshold or
                 * of the smallest normal number */
                near_boundary(f, k == 3, &a, &b);
            } else if (k == 3 && rnd(8) == 0) {
                /* quotient in the subnormal range: the only place a division can tie */
                a = pack(f, rnd(2), (int)rnd(3), rnd64() >> rnd(64));
                b = pack(f, rnd(2), f->bias + 1 + (int)rnd((unsigned)f->p), rnd(2) ? 0 : rnd64());
            }
            uint64_t c;
            int ea = exp_of(a, f), eb = exp_of(b, f);
            int pe = (ea >= 0 && eb >= 0) ? ea + eb - f->bias : -1;
            if (k >= 5 && rnd(3) == 0 && ea >= 0 && eb >= 0) {
                /* c close to -(a*b): massive cancellation */
                double pa, pb;
                if (single) {
                    float x, y;
                    uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
                    memcpy(&x, &ua, 4);
                    memcpy(&y, &ub, 4);
                    float pr = (float)((double)x * (double)y);
                    uint32_t u;
                    memcpy(&u, &pr, 4);
                    c = (uint64_t)(u ^ 0x80000000u) + rnd(5) - 2;
                    (void)pa;
                    (void)pb;
                } else {
                    memcpy(&pa, &a, 8);
                    memcpy(&pb, &b, 8);
                    double pr = pa * pb;
                    uint64_t u;
                    memcpy(&u, &pr, 8);
                    c = (u ^ DSIGN) + rnd(5) - 2;
                }
                c &= single ? 0xffffffffull : ~0ull;
            } else {
                c = rand_fp(f, (pe > 0 && pe < (1 << f->ebits) - 1 && rnd(2)) ? pe : -1);
            }
            if (single) {
                a = maybe_unbox(a);
                b = maybe_unbox(b);
                c = maybe_unbox(c);
            }
            check_one(first_op + k, a, b, c, &tl[k]);
        }
    }
}

static void print_tally(const char *fmtname, int first_op, const struct tally *tl, int from)
{
    for (int k = from; k < 9; k++)
        print_message("  %-9s %s: %ld checks, %ld RMM!=RNE ties\n", op_names[first_op + k], fmtname,
                      tl[k].checked, tl[k].rmm_ties);
}

static void test_random_single(void **state)
{
    (void)state;
    struct tally tl[9] = {{0}};
    n_fail = 0;
    random_arith(&FS, ADD_S, iters(40000), false, tl);
    rv_fpu_test_config(0, 1); /* MXCSR path only */
    random_arith(&FS, ADD_S, iters(40000) / 2, false, tl);
    rv_fpu_test_config(1, 1);
    print_tally("", ADD_S, tl, 0);
    assert_int_equal(n_fail, 0);
    for (int k = 0; k < 9; k++)
        if (k != 4) /* a square root is never a tie */
            assert_true(tl[k].rmm_ties > 0);
}

static void test_random_double(void **state)
{
    (void)state;
    struct tally tl[9] = {{0}};
    n_fail = 0;
    random_arith(&FD, ADD_D, iters(40000), false, tl);
    rv_fpu_test_config(0, 1); /* MXCSR path only */
    random_arith(&FD, ADD_D, iters(40000) / 2, false, tl);
    rv_fpu_test_config(1, 1);
    print_tally("", ADD_D, tl, 0);
    assert_int_equal(n_fail, 0);
    for (int k = 0; k < 9; k++)
        if (k != 4)
            assert_true(tl[k].rmm_ties > 0);
}

static void test_random_fma_libm_fallback(void **state)
{
    (void)state;
    struct tally tl[9] = {{0}};
    n_fail = 0;
    rv_fpu_test_config(0, 0);
    random_arith(&FS, ADD_S, iters(40000) / 4, true, tl);
    random_arith(&FD, ADD_D, iters(40000) / 4, true, tl);
    rv_fpu_test_config(1, 1);
    print_message("  (libm fma fallback; S and D counted together)\n");
    print_tally("", ADD_S, tl, 5);
    assert_int_equal(n_fail, 0);
}

/* random value near an integer boundary, or a random float */
static uint64_t rand_conv_src(const fmt_t *f)
{
    static const double bounds[] = {0.0, 1.0, 2147483648.0, 4294967296.0, 9223372036854775808.0,
                                    18446744073709551616.0, 16777216.0, 9007199254740992.0};
    if (rnd(3) == 0)
        return rand_fp(f, f->bias + (int)rnd(70));
    double b = bounds[rnd(sizeof bounds / sizeof bounds[0])];
    double x = b + ((double)((int)rnd(33) - 16) / (double)(1u << rnd(4))) * (rnd(4) ? 1.0 : ldexp(b, -20));
    if (rnd(2))
        x = -x;
    if (f == &FS) {
        float y = (float)x;
        uint32_t u;
        memcpy(&u, &y, 4);
        return u;
    }
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}

static void test_random_conversions(void **state)
{
    (void)state;
    struct tally t = {0};
    long n = iters(40000);
    n_fail = 0;
    for (long i = 0; i < n; i++) {
        rv_fpu_test_config(i & 1, 1); /* fcvt.s.d: both paths */
        /* float -> int */
        uint64_t s = rand_conv_src(&FS), d = rand_conv_src(&FD);
        for (int k = 0; k < 4; k++) {
            check_one(CVT_W_S + k, maybe_unbox(s), 0, 0, &t);
            check_one(CVT_W_D + k, d, 0, 0, &t);
        }
        /* int -> float: random widths and patterns, junk in the upper half for W */
        uint64_t x = rnd64() >> rnd(64);
        if (rnd(4) == 0)
            x = (x | (rnd64() >> 40)) << rnd(20);
        if (rnd(3) == 0)
            x = -x;
        for (int k = 0; k < 4; k++) {
            check_one(CVT_S_W + k, x, 0, 0, &t);
            check_one(CVT_D_W + k, x, 0, 0, &t);
        }
        /* between precisions */
        check_one(CVT_S_D, rand_fp(&FD, rnd(2) ? 1023 - 126 - (int)rnd(30) : -1), 0, 0, &t);
        check_one(CVT_S_D, rand_fp(&FD, 1023 + (int)rnd(140) - 20), 0, 0, &t);
        check_one(CVT_D_S, maybe_unbox(rand_fp(&FS, -1)), 0, 0, &t);
    }
    rv_fpu_test_config(1, 1);
    print_message("  conversions: %ld checks, %ld RMM!=RNE\n", t.checked, t.rmm_ties);
    assert_int_equal(n_fail, 0);
    assert_true(t.rmm_ties > 0);
}

/* compares, min/max and classify against host C semantics */
static void test_random_compare(void **state)
{
    (void)state;
    long n = iters(40000) * 4;
    n_fail = 0;
    for (long i = 0; i < n; i++) {
        uint64_t a = rand_fp(&FD, -1), b = rnd(4) ? rand_fp(&FD, exp_of(a, &FD)) : a ^ (rnd(2) ? DSIGN : 0);
        if (rnd(8) == 0)
            b = a + rnd(3) - 1;
        double x, y;
        memcpy(&x, &a, 8);
        memcpy(&y, &b, 8);
        val_t A = unpack(a, &FD), B = unpack(b, &FD);
        bool anynan = isnan(x) || isnan(y), snan = A.snan || B.snan;
        uint32_t fl;
        fl = 0;
        if (rv_feq_d(a, b, &fl) != (x == y) || fl != (snan ? NV : 0))
            report("feq", ADD_D, 0, a, b, 0, 0, fl, 0, 0);
        fl = 0;
        if (rv_flt_d(a, b, &fl) != (x < y) || fl != (anynan ? NV : 0))
            report("flt", ADD_D, 0, a, b, 0, 0, fl, 0, 0);
        fl = 0;
        if (rv_fle_d(a, b, &fl) != (x <= y) || fl != (anynan ? NV : 0))
            report("fle", ADD_D, 0, a, b, 0, 0, fl, 0, 0);
        /* min/max */
        uint64_t wmin, wmax;
        if (isnan(x) && isnan(y))
            wmin = wmax = RV_F64_CANONICAL_NAN;
        else if (isnan(x))
            wmin = wmax = b;
        else if (isnan(y))
            wmin = wmax = a;
        else if (x == y) { /* equal values: only zeros differ in bits */
            wmin = (a & DSIGN) ? a : b;
            wmax = (a & DSIGN) ? b : a;
        } else {
            wmin = x < y ? a : b;
            wmax = x < y ? b : a;
        }
        fl = 0;
        uint64_t got = rv_fmin_d(a, b, &fl);
        if (got != wmin || fl != (snan ? NV : 0))
            report("fmin", ADD_D, 0, a, b, 0, got, fl, wmin, snan ? NV : 0);
        fl = 0;
        got = rv_fmax_d(a, b, &fl);
        if (got != wmax || fl != (snan ? NV : 0))
            report("fmax", ADD_D, 0, a, b, 0, got, fl, wmax, snan ? NV : 0);
        /* fclass */
        unsigned cls;
        bool ng = signbit(x);
        switch (fpclassify(x)) {
        case FP_NAN: cls = A.snan ? 8 : 9; break;
        case FP_INFINITE: cls = ng ? 0 : 7; break;
        case FP_NORMAL: cls = ng ? 1 : 6; break;
        case FP_SUBNORMAL: cls = ng ? 2 : 5; break;
        default: cls = ng ? 3 : 4; break;
        }
        if (rv_fclass_d(a) != (1u << cls))
            report("fclass", ADD_D, 0, a, 0, 0, rv_fclass_d(a), 0, 1u << cls, 0);
        /* single via exact narrowing of the double pair where possible */
        uint32_t sa = (uint32_t)rand_fp(&FS, -1), sb = rnd(2) ? (uint32_t)rand_fp(&FS, exp_of(sa, &FS)) : sa ^ 0x80000000u;
        float fx, fy;
        memcpy(&fx, &sa, 4);
        memcpy(&fy, &sb, 4);
        val_t SA = unpack(sa, &FS), SB = unpack(sb, &FS);
        bool fnan = isnan(fx) || isnan(fy), fsnan = SA.snan || SB.snan;
        fl = 0;
        if (rv_feq_s(BOX(sa), BOX(sb), &fl) != (fx == fy) || fl != (fsnan ? NV : 0))
            report("feq.s", ADD_S, 0, sa, sb, 0, 0, fl, 0, 0);
        fl = 0;
        if (rv_flt_s(BOX(sa), BOX(sb), &fl) != (fx < fy) || fl != (fnan ? NV : 0))
            report("flt.s", ADD_S, 0, sa, sb, 0, 0, fl, 0, 0);
        fl = 0;
        if (rv_fle_s(BOX(sa), BOX(sb), &fl) != (fx <= fy) || fl != (fnan ? NV : 0))
            report("fle.s", ADD_S, 0, sa, sb, 0, 0, fl, 0, 0);
    }
    assert_int_equal(n_fail, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_named_cases),
        cmocka_unit_test(test_nan_boxing),
        cmocka_unit_test(test_minmax),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_fclass),
        cmocka_unit_test(test_sgnj),
        cmocka_unit_test(test_host_mode_restored),
        cmocka_unit_test(test_random_single),
        cmocka_unit_test(test_random_double),
        cmocka_unit_test(test_random_fma_libm_fallback),
        cmocka_unit_test(test_random_conversions),
        cmocka_unit_test(test_random_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* F and D extension arithmetic (see fpu.h for the contract).
 *
 * Strategy
 *  - Fast path (x86-64, RNE/RTZ/RDN/RUP, operands and result safely inside
 *    the normal range): the operation runs in the host's default
 *    round-to-nearest without touching MXCSR, and the exact rounding error
 *    (error-free transformations) gives NX and the one-ulp correction for
 *    the directed modes.  See "Fast path" below.
 *  - Otherwise add/sub/mul/div/sqrt/fma and fcvt.s.d run on the host's SSE
 *    unit with explicit MXCSR: one inline-asm block loads MXCSR (all
 *    exceptions masked, FTZ/DAZ off, rounding control from rm, sticky
 *    flags cleared), does the operation and stores MXCSR back; for a
 *    directed mode the same block restores round-to-nearest, so no
 *    compiler-generated code ever runs with a non-default rounding mode and
 *    nothing can be reordered across it.
 *    SSE, like RISC-V, detects tininess after rounding and raises UE only
 *    for tiny *and* inexact results, so its flags map 1:1 onto fflags.
 *    Other hosts use a <fenv.h> fallback (VIREO_FPU_PORTABLE forces it on
 *    x86-64 too, for testing).
 *  - RMM: the host computes the RNE result and flags.  RMM and RNE differ
 *    only when the exact result lies exactly halfway between two
 *    neighbours and RNE went toward zero; the flags are identical in every
 *    case (overflow threshold and after-rounding tininess coincide because
 *    the tie candidates at those boundaries are even).  So for an inexact
 *    finite RMM result we test exactly, with integer arithmetic on the
 *    operands' significands, whether the exact value equals |r| + ulp/2 and
 *    if so step the result one ulp away from zero.  sqrt never has ties.
 *  - NaN results are replaced by the canonical NaN; single-precision
 *    operands are unboxed first and results boxed.
 *  - comparisons, min/max, classify, sign injection and all float<->int
 *    conversions are done in integer code (exact, every rounding mode).
 */
#include "riscv/fpu.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && !defined(VIREO_FPU_PORTABLE)
#define FPU_X86 1
#else
#define FPU_X86 0
#include <fenv.h>
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define D_SIGN 0x8000000000000000ull
#define D_EXP 0x7ff0000000000000ull
#define D_FRAC 0x000fffffffffffffull
#define D_QUIET 0x0008000000000000ull
#define F_SIGN 0x80000000u
#define F_EXP 0x7f800000u
#define F_FRAC 0x007fffffu
#define F_QUIET 0x00400000u

typedef unsigned __int128 u128;
typedef __int128 i128;

static inline double d_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static inline uint64_t d_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static inline float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline uint32_t f_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline bool d_isnan(uint64_t u) { return (u & ~D_SIGN) > D_EXP; }
static inline bool d_issnan(uint64_t u) { return d_isnan(u) && !(u & D_QUIET); }
static inline bool d_isinf(uint64_t u) { return (u & ~D_SIGN) == D_EXP; }
static inline bool d_iszero(uint64_t u) { return (u & ~D_SIGN) == 0; }
static inline bool d_isfinite(uint64_t u) { return (u & D_EXP) != D_EXP; }
static inline bool f_isnan(uint32_t u) { return (u & ~F_SIGN) > F_EXP; }
static inline bool f_issnan(uint32_t u) { return f_isnan(u) && !(u & F_QUIET); }
static inline bool f_isinf(uint32_t u) { return (u & ~F_SIGN) == F_EXP; }
static inline bool f_iszero(uint32_t u) { return (u & ~F_SIGN) == 0; }
static inline bool f_isfinite(uint32_t u) { return (u & F_EXP) != F_EXP; }

/* ------------------------------------------------------------------------
 * Host arithmetic with explicit rounding mode and flag capture.
 * ---------------------------------------------------------------------- */
#if FPU_X86

#define MXCSR_BASE 0x1f80u /* all exceptions masked, RN, no FTZ/DAZ, flags clear */
static const uint32_t mxcsr_base = MXCSR_BASE;
/* RISC-V rm -> MXCSR (RC field bits 13-14: 0 RN, 1 down, 2 up, 3 toward zero).
 * RMM (and the reserved encodings, never passed) compute RNE. */
static const uint32_t rm_mxcsr[8] = {
    MXCSR_BASE,          MXCSR_BASE | 0x6000u, MXCSR_BASE | 0x2000u, MXCSR_BASE | 0x4000u,
    MXCSR_BASE,          MXCSR_BASE,           MXCSR_BASE,           MXCSR_BASE,
};

/* MXCSR flags (IE 0, DE 1, ZE 2, OE 3, UE 4, PE 5) -> RV_FFLAG_*. */
#define MXF(m)                                                                                    \
    ((((m)&0x01u) << 4) | (((m)&0x04u) << 1) | (((m)&0x08u) >> 1) | (((m)&0x10u) >> 3) |         \
     (((m)&0x20u) >> 5))
#define MXF4(m) MXF(m), MXF((m) + 1), MXF((m) + 2), MXF((m) + 3)
#define MXF16(m) MXF4(m), MXF4((m) + 4), MXF4((m) + 8), MXF4((m) + 12)
static const uint8_t mx_flag_tab[64] = {MXF16(0u), MXF16(16u), MXF16(32u), MXF16(48u)};
static inline uint32_t mx_flags(uint32_t mx) { return mx_flag_tab[mx & 0x3f]; }

/* The operation, MXCSR load/store and (for directed modes) the restore of
 * round-to-nearest are one asm statement, so nothing can be scheduled into
 * the window where the host rounding mode is not the default. */
#define HW_BINOP(name, T, insn)                                                                   \
    static inline T name(T a, T b, int rm, uint32_t *fl)                                          \
    {                                                                                             \
        uint32_t csr = rm_mxcsr[rm & 7], st;                                                      \
        if (LIKELY(csr == MXCSR_BASE))                                                            \
            __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[b], %[a]\n\tstmxcsr %[s]"                \
                             : [a] "+x"(a), [s] "=m"(st)                                          \
                             : [b] "xm"(b), [c] "m"(csr));                                        \
        else                                                                                      \
            __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[b], %[a]\n\tstmxcsr %[s]\n\t"            \
                             "ldmxcsr %[n]"                                                       \
                             : [a] "+x"(a), [s] "=m"(st)                                          \
                             : [b] "xm"(b), [c] "m"(csr), [n] "m"(mxcsr_base));                   \
        *fl |= mx_flags(st);                                                                      \
        return a;                                                                                 \
    }

#define HW_UNOP(name, TR, TA, insn)                                                               \
    static inline TR name(TA a, int rm, uint32_t *fl)                                             \
    {                                                                                             \
        uint32_t csr = rm_mxcsr[rm & 7], st;                                                      \
        TR r;                                                                                     \
        if (LIKELY(csr == MXCSR_BASE))                                                            \
            __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[a], %[r]\n\tstmxcsr %[s]"                \
                             : [r] "=x"(r), [s] "=m"(st)                                          \
                             : [a] "xm"(a), [c] "m"(csr));                                        \
        else                                                                                      \
            __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[a], %[r]\n\tstmxcsr %[s]\n\t"            \
                             "ldmxcsr %[n]"                                                       \
                             : [r] "=x"(r), [s] "=m"(st)                                          \
                             : [a] "xm"(a), [c] "m"(csr), [n] "m"(mxcsr_base));                   \
        *fl |= mx_flags(st);                                                                      \
        return r;                                                                                 \
    }

HW_BINOP(hw_add_d, double, "addsd")
HW_BINOP(hw_sub_d, double, "subsd")
HW_BINOP(hw_mul_d, double, "mulsd")
HW_BINOP(hw_div_d, double, "divsd")
HW_BINOP(hw_add_s, float, "addss")
HW_BINOP(hw_sub_s, float, "subss")
HW_BINOP(hw_mul_s, float, "mulss")
HW_BINOP(hw_div_s, float, "divss")
HW_UNOP(hw_sqrt_d, double, double, "sqrtsd")
HW_UNOP(hw_sqrt_s, float, float, "sqrtss")
HW_UNOP(hw_cvt_s_d, float, double, "cvtsd2ss")

/* FMA: the FMA3 instruction when the CPU has it (gas assembles it without
 * -mfma; it is only executed after the CPUID check), otherwise libm's
 * fma()/fmaf() (glibc's software versions are correctly rounded in the
 * current mode and raise the right flags) called between MXCSR updates. */
enum { CFG_FAST = 1, CFG_HWFMA = 2 };
static int fpu_cfg;
__attribute__((constructor)) static void fpu_detect(void)
{
    __builtin_cpu_init();
    fpu_cfg = CFG_FAST | (__builtin_cpu_supports("fma") ? CFG_HWFMA : 0);
}

/* For unit tests (declared there, not in fpu.h): fast = 0 sends everything
 * through the MXCSR path, hw_fma = 0 uses the libm fma fallback; both are
 * capped by what the CPU has. */
void rv_fpu_test_config(int fast, int hw_fma);
void rv_fpu_test_config(int fast, int hw_fma)
{
    fpu_detect();
    if (!fast)
        fpu_cfg &= ~CFG_FAST;
    if (!hw_fma)
        fpu_cfg &= ~CFG_HWFMA;
}

static double (*volatile libm_fma)(double, double, double) = fma;
static float (*volatile libm_fmaf)(float, float, float) = fmaf;

static inline void mx_load(const uint32_t *v) { __asm__ volatile("ldmxcsr %0" : : "m"(*v) : "memory"); }
static inline uint32_t mx_store(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v) : : "memory");
    return v;
}

#define HW_FMA(name, T, insn, libfn)                                                              \
    static inline T name(T a, T b, T c, int rm, uint32_t *fl)                                     \
    {                                                                                             \
        uint32_t csr = rm_mxcsr[rm & 7], st;                                                      \
        if (LIKELY(fpu_cfg & CFG_HWFMA)) {                                                                \
            if (LIKELY(csr == MXCSR_BASE))                                                        \
                __asm__ volatile("ldmxcsr %[m]\n\t" insn " %[b], %[a], %[c]\n\tstmxcsr %[s]"      \
                                 : [c] "+x"(c), [s] "=m"(st)                                      \
                                 : [a] "x"(a), [b] "xm"(b), [m] "m"(csr));                        \
            else                                                                                  \
                __asm__ volatile("ldmxcsr %[m]\n\t" insn " %[b], %[a], %[c]\n\tstmxcsr %[s]\n\t"  \
                                 "ldmxcsr %[n]"                                                   \
                                 : [c] "+x"(c), [s] "=m"(st)                                      \
                                 : [a] "x"(a), [b] "xm"(b), [m] "m"(csr), [n] "m"(mxcsr_base));   \
        } else {                                                                                  \
            mx_load(&csr);                                                                        \
            c = libfn(a, b, c);                                                                   \
            st = mx_store();                                                                      \
            mx_load(&mxcsr_base);                                                                 \
        }                                                                                         \
        *fl |= mx_flags(st);                                                                      \
        return c;                                                                                 \
    }

HW_FMA(hw_fma_d, double, "vfmadd231sd", libm_fma)
HW_FMA(hw_fma_s, float, "vfmadd231ss", libm_fmaf)

#else /* portable <fenv.h> fallback */

/* Operands go through volatile objects and the operation through opaque
 * calls, so the compiler can neither constant-fold it nor move it across
 * the fesetround/fetestexcept calls.  Caveat: hosts that detect tininess
 * before rounding (e.g. AArch64) may differ from RISC-V in the UF flag
 * for results that round to the smallest normal number. */
static const int rm_fe[8] = {
    FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD,  FE_UPWARD,
    FE_TONEAREST, FE_TONEAREST,  FE_TONEAREST, FE_TONEAREST,
};

static inline uint32_t fe_flags(int ex)
{
    return ((ex & FE_INVALID) ? RV_FFLAG_NV : 0) | ((ex & FE_DIVBYZERO) ? RV_FFLAG_DZ : 0) |
           ((ex & FE_OVERFLOW) ? RV_FFLAG_OF : 0) | ((ex & FE_UNDERFLOW) ? RV_FFLAG_UF : 0) |
           ((ex & FE_INEXACT) ? RV_FFLAG_NX : 0);
}

static double (*volatile libm_fma)(double, double, double) = fma;
static float (*volatile libm_fmaf)(float, float, float) = fmaf;
static double (*volatile libm_sqrt)(double) = sqrt;
static float (*volatile libm_sqrtf)(float) = sqrtf;

#define FE_BEGIN(rm)                                                                              \
    int fe_mode_ = rm_fe[(rm) & 7];                                                               \
    if (fe_mode_ != FE_TONEAREST)                                                                 \
        fesetround(fe_mode_);                                                                     \
    feclearexcept(FE_ALL_EXCEPT)
#define FE_END(fl)                                                                                \
    do {                                                                                          \
        int ex_ = fetestexcept(FE_ALL_EXCEPT);                                                    \
        if (fe_mode_ != FE_TONEAREST)                                                             \
            fesetround(FE_TONEAREST);                                                             \
        *(fl) |= fe_flags(ex_);                                                                   \
    } while (0)

#define FB_BINOP(name, T, op)                                                                     \
    static T name(T a, T b, int rm, uint32_t *fl)                                                 \
    {                                                                                             \
        volatile T va = a, vb = b, vr;                                                            \
        FE_BEGIN(rm);                                                                             \
        vr = va op vb;                                                                            \
        FE_END(fl);                                                                               \
        return vr;                                                                                \
    }
FB_BINOP(hw_add_d, double, +)
FB_BINOP(hw_sub_d, double, -)
FB_BINOP(hw_mul_d, double, *)
FB_BINOP(hw_div_d, double, /)
FB_BINOP(hw_add_s, float, +)
FB_BINOP(hw_sub_s, float, -)
FB_BINOP(hw_mul_s, float, *)
FB_BINOP(hw_div_s, float, /)

static double hw_sqrt_d(double a, int rm, uint32_t *fl)
{
    volatile double vr;
    FE_BEGIN(rm);
    vr = libm_sqrt(a);
    FE_END(fl);
    return vr;
}
static float hw_sqrt_s(float a, int rm, uint32_t *fl)
{
    volatile float vr;
    FE_BEGIN(rm);
    vr = libm_sqrtf(a);
    FE_END(fl);
    return vr;
}
static float hw_cvt_s_d(double a, int rm, uint32_t *fl)
{
    volatile double va = a;
    volatile float vr;
    FE_BEGIN(rm);
    vr = (float)va;
    FE_END(fl);
    return vr;
}
static double hw_fma_d(double a, double b, double c, int rm, uint32_t *fl)
{
    volatile double vr;
    FE_BEGIN(rm);
    vr = libm_fma(a, b, c);
    FE_END(fl);
    return vr;
}
static float hw_fma_s(float a, float b, float c, int rm, uint32_t *fl)
{
    volatile float vr;
    FE_BEGIN(rm);
    vr = libm_fmaf(a, b, c);
    FE_END(fl);
    return vr;
}

void rv_fpu_test_config(int fast, int hw_fma);
void rv_fpu_test_config(int fast, int hw_fma)
{
    (void)fast;
    (void)hw_fma;
}

#endif

/* ------------------------------------------------------------------------
 * Fast path (x86-64): no MXCSR access at all.
 *
 * LDMXCSR/STMXCSR cost tens of cycles (and serialize on some cores), so
 * for operands and results safely inside the normal range the operation is
 * done with the host's default round-to-nearest and the exact rounding
 * error is recovered with error-free transformations (TwoSum, the FMA
 * product/remainder residue, Boldo-Muller ErrFma, or an exact double
 * computation for single precision).  Inside the windows below no
 * exception but NX is possible, the error terms cannot underflow, and the
 * sign of (exact - RN result) turns the RN result into the RTZ/RDN/RUP
 * result by a one-ulp step.  RMM, zero results in RDN, and everything
 * outside the windows take the MXCSR path.  This relies on the process
 * never changing the host rounding mode or enabling FTZ/DAZ (nothing in
 * Vireo does; the MXCSR path itself always leaves the default state).
 * ---------------------------------------------------------------------- */
#if FPU_X86
#define FPU_FAST 1
#if defined(__FAST_MATH__)
#error "fpu.c relies on strict IEEE semantics: do not build with -ffast-math"
#endif
#if !defined(__FLT_EVAL_METHOD__) || __FLT_EVAL_METHOD__ != 0
#error "fpu.c fast path needs FLT_EVAL_METHOD == 0 (SSE arithmetic)"
#endif

#define FAST_OK(rm) (LIKELY(fpu_cfg & CFG_FAST) && LIKELY((unsigned)(rm) <= RV_RM_RUP))
#define FAST_FMA_OK(rm) (LIKELY((fpu_cfg & (CFG_FAST | CFG_HWFMA)) == (CFG_FAST | CFG_HWFMA)) && \
                         LIKELY((unsigned)(rm) <= RV_RM_RUP))

static inline unsigned d_exp(uint64_t u) { return (unsigned)(u >> 52) & 0x7ff; }
static inline unsigned f_exp(uint32_t u) { return (u >> 23) & 0xff; }

/* a*b + c rounded to nearest (host mode), only when CFG_HWFMA */
static inline double fma_rn_d(double a, double b, double c)
{
    __asm__ volatile("vfmadd231sd %[b], %[a], %[c]" : [c] "+x"(c) : [a] "x"(a), [b] "xm"(b));
    return c;
}
static inline float fma_rn_s(float a, float b, float c)
{
    __asm__ volatile("vfmadd231ss %[b], %[a], %[c]" : [c] "+x"(c) : [a] "x"(a), [b] "xm"(b));
    return c;
}
static inline double sqrt_rn_d(double a)
{
    double r;
    __asm__("sqrtsd %[a], %[r]" : [r] "=x"(r) : [a] "xm"(a));
    return r;
}
static inline float sqrt_rn_s(float a)
{
    float r;
    __asm__("sqrtss %[a], %[r]" : [r] "=x"(r) : [a] "xm"(a));
    return r;
}

/* Knuth's TwoSum: exact a + b - s for s = RN(a + b), barring overflow. */
static inline double two_sum_err_d(double a, double b, double s)
{
    double bv = s - a, av = s - bv;
    return (a - av) + (b - bv);
}
static inline float two_sum_err_f(float a, float b, float s)
{
    float bv = s - a, av = s - bv;
    return (a - av) + (b - bv);
}

/* r: RN result bits (finite, nonzero, normal, not next to the range
 * limits); cmp: sign of (exact - r), nonzero; rm: RTZ/RDN/RUP (RNE is
 * r itself).  Sign-magnitude bits: +1 steps away from zero. */
static inline uint64_t directed(uint64_t r, bool neg, int cmp, int rm)
{
    bool away = (cmp > 0) != neg;
    if (rm == RV_RM_RTZ)
        return away ? r : r - 1;
    if ((rm == RV_RM_RDN && cmp < 0) || (rm == RV_RM_RUP && cmp > 0))
        return away ? r + 1 : r - 1;
    return r;
}
#define DIRECTED_D(r, cmp, rm) ((rm) == RV_RM_RNE ? (r) : directed((r), (r) >> 63, (cmp), (rm)))
#define DIRECTED_F(r, cmp, rm) ((rm) == RV_RM_RNE ? (r) : (uint32_t)directed((r), (r) >> 31, (cmp), (rm)))

/* Each returns true with *out set when it could decide the result. */

/* |a|,|b| < 2^1023: the sum cannot overflow, TwoSum is exact, and an
 * inexact sum is >= 2^-1021 in magnitude (tiny sums are exact). */
static inline bool fast_add_d(uint64_t a, uint64_t b, int rm, uint32_t *flags, uint64_t *out)
{
    if (!FAST_OK(rm) || d_exp(a) >= 0x7fe || d_exp(b) >= 0x7fe)
        return false;
    double x = d_of(a), y = d_of(b), s = x + y, e = two_sum_err_d(x, y, s);
    uint64_t r = d_bits(s);
    if (e != 0) {
        *flags |= RV_FFLAG_NX;
        *out = DIRECTED_D(r, e > 0 ? 1 : -1, rm);
        return true;
    }
    if (rm == RV_RM_RDN && (r << 1) == 0)
        return false; /* x + (-x) is -0 in RDN */
    *out = r;
    return true;
}

/* RN product with biased exponent in [55, 0x7fd]: no OF/UF possible and
 * the residue fma(a, b, -p) is exact (a*b >= 2^-968). */
static inline bool fast_mul_d(uint64_t a, uint64_t b, int rm, uint32_t *flags, uint64_t *out)
{
    if (!FAST_FMA_OK(rm))
        return false;
    double x = d_of(a), y = d_of(b), p = x * y;
    uint64_t r = d_bits(p);
    if (d_exp(r) - 55u <= 0x7fdu - 55u) {
        double e = fma_rn_d(x, y, -p);
        if (e != 0) {
            *flags |= RV_FFLAG_NX;
            r = DIRECTED_D(r, e > 0 ? 1 : -1, rm);
        }
        *out = r;
        return true;
    }
    if ((r << 1) == 0 && ((a << 1) == 0 || (b << 1) == 0)) {
        *out = r; /* exact zero product (the other operand is finite) */
        return true;
    }
    return false;
}

/* Quotient q normal in [2^-1021, 2^1023) and |a| >= 2^-959: the remainder
 * a - q*b is a nonzero multiple of >= 2^-1066 when inexact, so its
 * correctly rounded fma value has the right sign and is never zero. */
static inline bool fast_div_d(uint64_t a, uint64_t b, int rm, uint32_t *flags, uint64_t *out)
{
    if (!FAST_FMA_OK(rm))
        return false;
    double x = d_of(a), y = d_of(b), q = x / y;
    uint64_t r = d_bits(q);
    if (d_exp(r) - 2u <= 0x7fdu - 2u && d_exp(a) >= 64) {
        double rem = fma_rn_d(-q, y, x);
        if (rem != 0) {
            *flags |= RV_FFLAG_NX;
            r = DIRECTED_D(r, ((rem > 0) != (y < 0)) ? 1 : -1, rm);
        }
        *out = r;
        return true;
    }
    if ((r << 1) == 0 && (a << 1) == 0) {
        *out = r; /* 0 / nonzero finite-or-inf */
        return true;
    }
    return false;
}

static inline bool fast_sqrt_d(uint64_t a, int rm, uint32_t *flags, uint64_t *out)
{
    if (!FAST_FMA_OK(rm) || a - 0x0400000000000000ull >= 0x7ff0000000000000ull - 0x0400000000000000ull)
        return false; /* only positive a with biased exponent in [64, 0x7fe] */
    double x = d_of(a), r = sqrt_rn_d(x), rem = fma_rn_d(-r, r, x);
    uint64_t rb = d_bits(r);
    if (rem != 0) {
        *flags |= RV_FFLAG_NX;
        rb = DIRECTED_D(rb, rem > 0 ? 1 : -1, rm);
    }
    *out = rb;
    return true;
}

/* ErrFma (Boldo & Muller, "Exact and approximated error of the FMA", IEEE
 * TC 2011): a*b + c = r1 + r2 + r3 exactly with r2 = RN(r2 + r3), so r2
 * gives the sign of the rounding error.  Window: a, b normal with
 * ea + eb in [-918, 1018], c zero or normal with ec in [-970, 1019]: every
 * intermediate is a multiple of >= 2^-1022 (no underflow) and below 2^1021
 * (no overflow), and a nonzero result is not tiny. */
static inline bool fast_fma_d(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *flags, uint64_t *out)
{
    if (!FAST_FMA_OK(rm))
        return false;
    unsigned ea = d_exp(a), eb = d_exp(b), ec = d_exp(c);
    if (ea - 1u >= 0x7feu || eb - 1u >= 0x7feu || (ea + eb) - 1128u > 3064u - 1128u ||
        ((c << 1) != 0 && ec - 53u > 2042u - 53u))
        return false;
    double x = d_of(a), y = d_of(b), z = d_of(c);
    double r1 = fma_rn_d(x, y, z);
    uint64_t r = d_bits(r1);
    if ((r << 1) == 0) {
        if (rm == RV_RM_RDN)
            return false; /* exact cancellation is -0 in RDN */
        *out = r;
        return true;
    }
    double u1 = x * y, u2 = fma_rn_d(x, y, -u1);
    double a1 = z + u2, a2 = two_sum_err_d(z, u2, a1);
    double b1 = u1 + a1, b2 = two_sum_err_d(u1, a1, b1);
    double g = (b1 - r1) + b2;
    double r2 = g + a2; /* Fast2Sum(g, a2): r2 = RN(g + a2), r3 exact */
    if (r2 != 0) {
        *flags |= RV_FFLAG_NX;
        r = DIRECTED_D(r, r2 > 0 ? 1 : -1, rm);
    }
    *out = r;
    return true;
}

/* Single precision: |a|,|b| < 2^127, float TwoSum is exact. */
static inline bool fast_add_f(uint32_t a, uint32_t b, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_OK(rm) || f_exp(a) >= 0xfe || f_exp(b) >= 0xfe)
        return false;
    float x = f_of(a), y = f_of(b), s = x + y, e = two_sum_err_f(x, y, s);
    uint32_t r = f_bits(s);
    if (e != 0) {
        *flags |= RV_FFLAG_NX;
        *out = DIRECTED_F(r, e > 0 ? 1 : -1, rm);
        return true;
    }
    if (rm == RV_RM_RDN && (r << 1) == 0)
        return false;
    *out = r;
    return true;
}

/* Result normal in [2^-125, 2^127): the product of two singles is exact
 * in double. */
static inline bool fast_mul_f(uint32_t a, uint32_t b, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_OK(rm))
        return false;
    float x = f_of(a), y = f_of(b), p = x * y;
    uint32_t r = f_bits(p);
    if (f_exp(r) - 2u <= 0xfdu - 2u) {
        double exact = (double)x * (double)y, rd = (double)p;
        if (exact != rd) {
            *flags |= RV_FFLAG_NX;
            r = DIRECTED_F(r, exact > rd ? 1 : -1, rm);
        }
        *out = r;
        return true;
    }
    if ((r << 1) == 0 && ((a << 1) == 0 || (b << 1) == 0)) {
        *out = r;
        return true;
    }
    return false;
}

/* Normal a, b and quotient: a/b differs from a single f by at least
 * ulp(f) * 2^-24 unless equal, far more than the double rounding error, so
 * the double quotient tells exactness and direction. */
static inline bool fast_div_f(uint32_t a, uint32_t b, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_OK(rm))
        return false;
    float x = f_of(a), y = f_of(b), q = x / y;
    uint32_t r = f_bits(q);
    if (f_exp(r) - 2u <= 0xfdu - 2u && f_exp(a) - 1u < 0xfeu && f_exp(b) - 1u < 0xfeu) {
        double qd = (double)x / (double)y, rd = (double)q;
        if (qd != rd) {
            *flags |= RV_FFLAG_NX;
            r = DIRECTED_F(r, qd > rd ? 1 : -1, rm);
        }
        *out = r;
        return true;
    }
    if ((r << 1) == 0 && (a << 1) == 0) {
        *out = r;
        return true;
    }
    return false;
}

static inline bool fast_sqrt_f(uint32_t a, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_OK(rm) || a - 1u >= F_EXP - 1u)
        return false; /* positive, nonzero, finite only */
    float r = sqrt_rn_s(f_of(a));
    double rd = (double)r, sq = rd * rd, ad = (double)f_of(a); /* r*r exact in double */
    uint32_t rb = f_bits(r);
    if (sq != ad) {
        *flags |= RV_FFLAG_NX;
        rb = DIRECTED_F(rb, ad > sq ? 1 : -1, rm);
    }
    *out = rb;
    return true;
}

/* x = a*b + c = s + t exactly in double (TwoSum of the exact product and
 * c); s and the single result r are within a factor 2, so s - r is exact
 * and RN((s - r) + t) has the sign of x - r and is zero only if x == r. */
static inline bool fast_fma_f(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_FMA_OK(rm))
        return false;
    float x = f_of(a), y = f_of(b), z = f_of(c), rf = fma_rn_s(x, y, z);
    uint32_t r = f_bits(rf);
    if (f_exp(r) - 2u > 0xfdu - 2u)
        return false;
    double p = (double)x * (double)y, zd = (double)z, s = p + zd, t = two_sum_err_d(p, zd, s);
    double d = (s - (double)rf) + t;
    if (d != 0) {
        *flags |= RV_FFLAG_NX;
        r = DIRECTED_F(r, d > 0 ? 1 : -1, rm);
    }
    *out = r;
    return true;
}

/* Result normal in [2^-125, 2^127). */
static inline bool fast_cvt_s_d(uint64_t a, int rm, uint32_t *flags, uint32_t *out)
{
    if (!FAST_OK(rm))
        return false;
    double x = d_of(a);
    float f = (float)x;
    uint32_t r = f_bits(f);
    if (f_exp(r) - 2u > 0xfdu - 2u)
        return false;
    double fd = (double)f;
    if (fd != x) {
        *flags |= RV_FFLAG_NX;
        r = DIRECTED_F(r, x > fd ? 1 : -1, rm);
    }
    *out = r;
    return true;
}

#define TRY_FAST(call)                                                                            \
    do {                                                                                          \
        if (call)                                                                                 \
            return fast_out_;                                                                     \
    } while (0)
#else
#define FPU_FAST 0
#endif

/* ------------------------------------------------------------------------
 * RMM tie detection.
 *
 * A term is (-1)^neg * m * 2^e with m < 2^108.  terms_cancel() decides
 * exactly whether a sum of up to three terms is zero.  After stripping
 * trailing zeros, the lowest set bit among the terms must occur in at
 * least two of them (otherwise that bit survives), and if the sum is zero
 * every term is below 2^(L+109), L being that lowest bit position; so all
 * terms fit in an __int128 once aligned, or the sum is not zero.
 * ---------------------------------------------------------------------- */
struct term {
    u128 m;
    int e;
    bool neg;
};

static inline int ctz128(u128 x)
{
    uint64_t lo = (uint64_t)x;
    return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(x >> 64));
}
static inline int bitlen128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    if (hi)
        return 128 - __builtin_clzll(hi);
    uint64_t lo = (uint64_t)x;
    return lo ? 64 - __builtin_clzll(lo) : 0;
}

static bool terms_cancel(const struct term *t, int n)
{
    struct term v[3];
    int k = 0, lo = INT_MAX;
    for (int i = 0; i < n; i++) {
        if (!t[i].m)
            continue;
        int tz = ctz128(t[i].m);
        v[k].m = t[i].m >> tz;
        v[k].e = t[i].e + tz;
        v[k].neg = t[i].neg;
        if (v[k].e < lo)
            lo = v[k].e;
        k++;
    }
    if (k == 0)
        return true;
    int at_lo = 0;
    for (int i = 0; i < k; i++)
        at_lo += v[i].e == lo;
    if (at_lo < 2)
        return false;
    i128 sum = 0;
    for (int i = 0; i < k; i++) {
        int sh = v[i].e - lo;
        if (sh > 110 || bitlen128(v[i].m) + sh > 110)
            return false;
        i128 x = (i128)(v[i].m << sh);
        sum += v[i].neg ? -x : x;
    }
    return sum == 0;
}

/* Finite operand -> term (flip negates). */
static inline struct term term_d(uint64_t u, bool flip)
{
    unsigned ex = (unsigned)(u >> 52) & 0x7ff;
    struct term t;
    t.m = (u & D_FRAC) | (ex ? (D_FRAC + 1) : 0);
    t.e = (ex ? (int)ex : 1) - 1075;
    t.neg = (bool)(u >> 63) ^ flip;
    return t;
}
static inline struct term term_f(uint32_t u, bool flip)
{
    unsigned ex = (u >> 23) & 0xff;
    struct term t;
    t.m = (u & F_FRAC) | (ex ? (F_FRAC + 1) : 0);
    t.e = (ex ? (int)ex : 1) - 150;
    t.neg = (bool)(u >> 31) ^ flip;
    return t;
}
/* -(sign(r) * (|r| + ulp(|r|)/2)): the midpoint above the finite result r,
 * negated so that "exact - mid == 0" is a sum of terms. */
static inline struct term neg_mid(struct term r)
{
    struct term t;
    t.m = 2 * r.m + 1;
    t.e = r.e - 1;
    t.neg = !r.neg;
    return t;
}
static inline struct term prod(struct term a, struct term b)
{
    struct term t;
    t.m = a.m * b.m;
    t.e = a.e + b.e;
    t.neg = a.neg ^ b.neg;
    return t;
}

/* rm == RMM, inexact, finite result r: does RMM differ from the RNE r? */
#define NEED_RMM_FIX(rm, fl, finite) (UNLIKELY((rm) == RV_RM_RMM) && ((fl) & RV_FFLAG_NX) && (finite))

/* ------------------------------------------------------------------------
 * Double precision arithmetic
 * ---------------------------------------------------------------------- */
static inline uint64_t d_result(double r)
{
    uint64_t u = d_bits(r);
    return UNLIKELY(d_isnan(u)) ? RV_F64_CANONICAL_NAN : u;
}

static uint64_t rmm_addsub_d(uint64_t a, uint64_t b, bool sub, uint64_t r)
{
    struct term t[3] = {term_d(a, false), term_d(b, sub), neg_mid(term_d(r, false))};
    return terms_cancel(t, 3) ? r + 1 : r;
}

uint64_t rv_fadd_d(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_add_d(a, b, rm, flags, &fast_out_));
#endif
    uint32_t fl = 0;
    uint64_t r = d_result(hw_add_d(d_of(a), d_of(b), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, d_isfinite(r)))
        r = rmm_addsub_d(a, b, false, r);
    *flags |= fl;
    return r;
}

uint64_t rv_fsub_d(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_add_d(a, b ^ D_SIGN, rm, flags, &fast_out_));
#endif
    uint32_t fl = 0;
    uint64_t r = d_result(hw_sub_d(d_of(a), d_of(b), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, d_isfinite(r)))
        r = rmm_addsub_d(a, b, true, r);
    *flags |= fl;
    return r;
}

uint64_t rv_fmul_d(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_mul_d(a, b, rm, flags, &fast_out_));
#endif
    uint32_t fl = 0;
    uint64_t r = d_result(hw_mul_d(d_of(a), d_of(b), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, d_isfinite(r))) {
        struct term t[2] = {prod(term_d(a, false), term_d(b, false)), neg_mid(term_d(r, false))};
        if (terms_cancel(t, 2))
            r++;
    }
    *flags |= fl;
    return r;
}

uint64_t rv_fdiv_d(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_div_d(a, b, rm, flags, &fast_out_));
#endif
    uint32_t fl = 0;
    uint64_t r = d_result(hw_div_d(d_of(a), d_of(b), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, d_isfinite(r))) {
        /* a / b == mid  <=>  a - b * mid == 0 */
        struct term t[2] = {term_d(a, false), prod(term_d(b, false), neg_mid(term_d(r, false)))};
        if (terms_cancel(t, 2))
            r++;
    }
    *flags |= fl;
    return r;
}

uint64_t rv_fsqrt_d(uint64_t a, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_sqrt_d(a, rm, flags, &fast_out_));
#endif
    /* A square root is never exactly halfway: RMM == RNE. */
    return d_result(hw_sqrt_d(d_of(a), rm, flags));
}

uint64_t rv_fma_d(uint64_t a, uint64_t b, uint64_t c, int op, int rm, uint32_t *flags)
{
    a ^= (op & 2) ? D_SIGN : 0; /* -(a*b) */
    c ^= (op & 1) ? D_SIGN : 0; /* -c */
    /* RISC-V: inf * 0 is invalid even when the addend is a quiet NaN. */
    if (UNLIKELY((d_isinf(a) && d_iszero(b)) || (d_iszero(a) && d_isinf(b)))) {
        *flags |= RV_FFLAG_NV;
        return RV_F64_CANONICAL_NAN;
    }
#if FPU_FAST
    uint64_t fast_out_;
    TRY_FAST(fast_fma_d(a, b, c, rm, flags, &fast_out_));
#endif
    uint32_t fl = 0;
    uint64_t r = d_result(hw_fma_d(d_of(a), d_of(b), d_of(c), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, d_isfinite(r))) {
        struct term t[3] = {prod(term_d(a, false), term_d(b, false)), term_d(c, false),
                            neg_mid(term_d(r, false))};
        if (terms_cancel(t, 3))
            r++;
    }
    *flags |= fl;
    return r;
}

/* ------------------------------------------------------------------------
 * Single precision arithmetic
 * ---------------------------------------------------------------------- */
static inline uint32_t f_result(float r)
{
    uint32_t u = f_bits(r);
    return UNLIKELY(f_isnan(u)) ? RV_F32_CANONICAL_NAN : u;
}

static uint32_t rmm_addsub_s(uint32_t a, uint32_t b, bool sub, uint32_t r)
{
    struct term t[3] = {term_f(a, false), term_f(b, sub), neg_mid(term_f(r, false))};
    return terms_cancel(t, 3) ? r + 1 : r;
}

uint64_t rv_fadd_s(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b), fl = 0;
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_add_f(fa, fb, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t r = f_result(hw_add_s(f_of(fa), f_of(fb), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r)))
        r = rmm_addsub_s(fa, fb, false, r);
    *flags |= fl;
    return rv_f32_box(r);
}

uint64_t rv_fsub_s(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b), fl = 0;
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_add_f(fa, fb ^ F_SIGN, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t r = f_result(hw_sub_s(f_of(fa), f_of(fb), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r)))
        r = rmm_addsub_s(fa, fb, true, r);
    *flags |= fl;
    return rv_f32_box(r);
}

uint64_t rv_fmul_s(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b), fl = 0;
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_mul_f(fa, fb, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t r = f_result(hw_mul_s(f_of(fa), f_of(fb), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r))) {
        struct term t[2] = {prod(term_f(fa, false), term_f(fb, false)), neg_mid(term_f(r, false))};
        if (terms_cancel(t, 2))
            r++;
    }
    *flags |= fl;
    return rv_f32_box(r);
}

uint64_t rv_fdiv_s(uint64_t a, uint64_t b, int rm, uint32_t *flags)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b), fl = 0;
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_div_f(fa, fb, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t r = f_result(hw_div_s(f_of(fa), f_of(fb), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r))) {
        struct term t[2] = {term_f(fa, false), prod(term_f(fb, false), neg_mid(term_f(r, false)))};
        if (terms_cancel(t, 2))
            r++;
    }
    *flags |= fl;
    return rv_f32_box(r);
}

uint64_t rv_fsqrt_s(uint64_t a, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_sqrt_f(rv_f32_unbox(a), rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    return rv_f32_box(f_result(hw_sqrt_s(f_of(rv_f32_unbox(a)), rm, flags)));
}

uint64_t rv_fma_s(uint64_t a, uint64_t b, uint64_t c, int op, int rm, uint32_t *flags)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b), fc = rv_f32_unbox(c), fl = 0;
    fa ^= (op & 2) ? F_SIGN : 0;
    fc ^= (op & 1) ? F_SIGN : 0;
    if (UNLIKELY((f_isinf(fa) && f_iszero(fb)) || (f_iszero(fa) && f_isinf(fb)))) {
        *flags |= RV_FFLAG_NV;
        return rv_f32_box(RV_F32_CANONICAL_NAN);
    }
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_fma_f(fa, fb, fc, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t r = f_result(hw_fma_s(f_of(fa), f_of(fb), f_of(fc), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r))) {
        struct term t[3] = {prod(term_f(fa, false), term_f(fb, false)), term_f(fc, false),
                            neg_mid(term_f(r, false))};
        if (terms_cancel(t, 3))
            r++;
    }
    *flags |= fl;
    return rv_f32_box(r);
}

/* ------------------------------------------------------------------------
 * min/max, comparisons, classify, sign injection (integer code)
 * ---------------------------------------------------------------------- */
/* Total order key for non-NaN values (-0 < +0). */
static inline uint64_t key_d(uint64_t u) { return (u & D_SIGN) ? ~u : (u | D_SIGN); }
static inline uint32_t key_f(uint32_t u) { return (u & F_SIGN) ? ~u : (u | F_SIGN); }

static uint64_t minmax_d(uint64_t a, uint64_t b, bool max, uint32_t *flags)
{
    bool an = d_isnan(a), bn = d_isnan(b);
    if (UNLIKELY(an || bn)) {
        if (d_issnan(a) || d_issnan(b))
            *flags |= RV_FFLAG_NV;
        if (an && bn)
            return RV_F64_CANONICAL_NAN;
        return an ? b : a;
    }
    bool a_lt = key_d(a) < key_d(b);
    return (a_lt != max) ? a : b;
}
uint64_t rv_fmin_d(uint64_t a, uint64_t b, uint32_t *flags) { return minmax_d(a, b, false, flags); }
uint64_t rv_fmax_d(uint64_t a, uint64_t b, uint32_t *flags) { return minmax_d(a, b, true, flags); }

static uint32_t minmax_f(uint32_t a, uint32_t b, bool max, uint32_t *flags)
{
    bool an = f_isnan(a), bn = f_isnan(b);
    if (UNLIKELY(an || bn)) {
        if (f_issnan(a) || f_issnan(b))
            *flags |= RV_FFLAG_NV;
        if (an && bn)
            return RV_F32_CANONICAL_NAN;
        return an ? b : a;
    }
    bool a_lt = key_f(a) < key_f(b);
    return (a_lt != max) ? a : b;
}
uint64_t rv_fmin_s(uint64_t a, uint64_t b, uint32_t *flags)
{
    return rv_f32_box(minmax_f(rv_f32_unbox(a), rv_f32_unbox(b), false, flags));
}
uint64_t rv_fmax_s(uint64_t a, uint64_t b, uint32_t *flags)
{
    return rv_f32_box(minmax_f(rv_f32_unbox(a), rv_f32_unbox(b), true, flags));
}

/* kind: 0 eq (quiet), 1 lt, 2 le (signaling) */
static uint64_t cmp_d(uint64_t a, uint64_t b, int kind, uint32_t *flags)
{
    if (UNLIKELY(d_isnan(a) || d_isnan(b))) {
        if (kind != 0 || d_issnan(a) || d_issnan(b))
            *flags |= RV_FFLAG_NV;
        return 0;
    }
    bool zeros = ((a | b) & ~D_SIGN) == 0;
    switch (kind) {
    case 0: return a == b || zeros;
    case 1: return !zeros && key_d(a) < key_d(b);
    default: return zeros || key_d(a) <= key_d(b);
    }
}
static uint64_t cmp_f(uint32_t a, uint32_t b, int kind, uint32_t *flags)
{
    if (UNLIKELY(f_isnan(a) || f_isnan(b))) {
        if (kind != 0 || f_issnan(a) || f_issnan(b))
            *flags |= RV_FFLAG_NV;
        return 0;
    }
    bool zeros = ((a | b) & ~F_SIGN) == 0;
    switch (kind) {
    case 0: return a == b || zeros;
    case 1: return !zeros && key_f(a) < key_f(b);
    default: return zeros || key_f(a) <= key_f(b);
    }
}
uint64_t rv_feq_d(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_d(a, b, 0, flags); }
uint64_t rv_flt_d(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_d(a, b, 1, flags); }
uint64_t rv_fle_d(uint64_t a, uint64_t b, uint32_t *flags) { return cmp_d(a, b, 2, flags); }
uint64_t rv_feq_s(uint64_t a, uint64_t b, uint32_t *flags)
{
    return cmp_f(rv_f32_unbox(a), rv_f32_unbox(b), 0, flags);
}
uint64_t rv_flt_s(uint64_t a, uint64_t b, uint32_t *flags)
{
    return cmp_f(rv_f32_unbox(a), rv_f32_unbox(b), 1, flags);
}
uint64_t rv_fle_s(uint64_t a, uint64_t b, uint32_t *flags)
{
    return cmp_f(rv_f32_unbox(a), rv_f32_unbox(b), 2, flags);
}

/* bit: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0, 5 +subnormal, 6 +normal,
 * 7 +inf, 8 sNaN, 9 qNaN */
static uint64_t classify(bool neg, bool exp_max, bool exp_zero, bool frac_zero, bool quiet)
{
    if (exp_max) {
        if (frac_zero)
            return neg ? 1u << 0 : 1u << 7;
        return quiet ? 1u << 9 : 1u << 8;
    }
    if (exp_zero) {
        if (frac_zero)
            return neg ? 1u << 3 : 1u << 4;
        return neg ? 1u << 2 : 1u << 5;
    }
    return neg ? 1u << 1 : 1u << 6;
}
uint64_t rv_fclass_d(uint64_t a)
{
    return classify(a >> 63, (a & D_EXP) == D_EXP, (a & D_EXP) == 0, (a & D_FRAC) == 0,
                    (a & D_QUIET) != 0);
}
uint64_t rv_fclass_s(uint64_t a)
{
    uint32_t f = rv_f32_unbox(a);
    return classify(f >> 31, (f & F_EXP) == F_EXP, (f & F_EXP) == 0, (f & F_FRAC) == 0,
                    (f & F_QUIET) != 0);
}

uint64_t rv_fsgnj_d(uint64_t a, uint64_t b, int kind)
{
    uint64_t s = kind == 0 ? b : kind == 1 ? ~b : (a ^ b);
    return (a & ~D_SIGN) | (s & D_SIGN);
}
uint64_t rv_fsgnj_s(uint64_t a, uint64_t b, int kind)
{
    uint32_t fa = rv_f32_unbox(a), fb = rv_f32_unbox(b);
    uint32_t s = kind == 0 ? fb : kind == 1 ? ~fb : (fa ^ fb);
    return rv_f32_box((fa & ~F_SIGN) | (s & F_SIGN));
}

/* ------------------------------------------------------------------------
 * float -> integer
 * ---------------------------------------------------------------------- */
enum { CVT_W, CVT_WU, CVT_L, CVT_LU };

/* Round |value| = sig * 2^e (sig < 2^54) to an integer per rm (neg gives
 * the sign for directed modes).  *big is set when the result is >= 2^64. */
static uint64_t round_mag(uint64_t sig, int e, bool neg, int rm, bool *inexact, bool *big)
{
    *inexact = false;
    *big = false;
    if (sig == 0)
        return 0;
    if (e >= 0) {
        if (e >= 11 && (e >= 64 || (sig >> (64 - e)) != 0)) {
            *big = true;
            return 0;
        }
        return sig << e;
    }
    int s = -e;
    uint64_t ip, rem, half;
    if (s < 64) {
        ip = sig >> s;
        rem = sig & ((1ull << s) - 1);
        half = 1ull << (s - 1);
    } else {
        /* sig < 2^54 <= 2^(s-1): strictly below one half */
        ip = 0;
        rem = 1;
        half = 2;
    }
    if (!rem)
        return ip;
    *inexact = true;
    bool up;
    switch (rm) {
    case RV_RM_RNE: up = rem > half || (rem == half && (ip & 1)); break;
    case RV_RM_RMM: up = rem >= half; break;
    case RV_RM_RDN: up = neg; break;
    case RV_RM_RUP: up = !neg; break;
    default: up = false; break;
    }
    return ip + up;
}

/* cls: 0 finite, 1 infinite, 2 NaN */
static uint64_t cvt_to_int(bool neg, uint64_t sig, int e, int cls, int type, int rm, uint32_t *flags)
{
    bool is_signed = type == CVT_W || type == CVT_L;
    bool is32 = type == CVT_W || type == CVT_WU;
    uint64_t pos_max = is32 ? (is_signed ? 0x7fffffffull : 0xffffffffull)
                            : (is_signed ? 0x7fffffffffffffffull : ~0ull);
    uint64_t neg_lim = is_signed ? pos_max + 1 : 0; /* largest magnitude allowed below 0 */
    uint64_t res;

    if (cls == 2) {
        *flags |= RV_FFLAG_NV;
        res = pos_max;
    } else if (cls == 1) {
        *flags |= RV_FFLAG_NV;
        res = neg ? (is_signed ? -neg_lim : 0) : pos_max;
    } else {
        bool inexact, big;
        uint64_t mag = round_mag(sig, e, neg, rm, &inexact, &big);
        if (!neg) {
            if (big || mag > pos_max) {
                *flags |= RV_FFLAG_NV;
                res = pos_max;
            } else {
                res = mag;
                if (inexact)
                    *flags |= RV_FFLAG_NX;
            }
        } else {
            if (big || mag > neg_lim) {
                *flags |= RV_FFLAG_NV;
                res = is_signed ? -neg_lim : 0;
            } else {
                res = -mag;
                if (inexact)
                    *flags |= RV_FFLAG_NX;
            }
        }
    }
    if (is32)
        res = (uint64_t)(int64_t)(int32_t)(uint32_t)res;
    return res;
}

static uint64_t cvt_d_to_int(uint64_t a, int type, int rm, uint32_t *flags)
{
    unsigned ex = (unsigned)(a >> 52) & 0x7ff;
    uint64_t frac = a & D_FRAC;
    int cls = ex == 0x7ff ? (frac ? 2 : 1) : 0;
    uint64_t sig = frac | (ex ? D_FRAC + 1 : 0);
    return cvt_to_int(a >> 63, sig, (ex ? (int)ex : 1) - 1075, cls, type, rm, flags);
}
static uint64_t cvt_f_to_int(uint64_t a, int type, int rm, uint32_t *flags)
{
    uint32_t f = rv_f32_unbox(a);
    unsigned ex = (f >> 23) & 0xff;
    uint32_t frac = f & F_FRAC;
    int cls = ex == 0xff ? (frac ? 2 : 1) : 0;
    uint64_t sig = frac | (ex ? F_FRAC + 1 : 0);
    return cvt_to_int(f >> 31, sig, (ex ? (int)ex : 1) - 150, cls, type, rm, flags);
}

uint64_t rv_fcvt_w_s(uint64_t a, int rm, uint32_t *flags) { return cvt_f_to_int(a, CVT_W, rm, flags); }
uint64_t rv_fcvt_wu_s(uint64_t a, int rm, uint32_t *flags) { return cvt_f_to_int(a, CVT_WU, rm, flags); }
uint64_t rv_fcvt_l_s(uint64_t a, int rm, uint32_t *flags) { return cvt_f_to_int(a, CVT_L, rm, flags); }
uint64_t rv_fcvt_lu_s(uint64_t a, int rm, uint32_t *flags) { return cvt_f_to_int(a, CVT_LU, rm, flags); }
uint64_t rv_fcvt_w_d(uint64_t a, int rm, uint32_t *flags) { return cvt_d_to_int(a, CVT_W, rm, flags); }
uint64_t rv_fcvt_wu_d(uint64_t a, int rm, uint32_t *flags) { return cvt_d_to_int(a, CVT_WU, rm, flags); }
uint64_t rv_fcvt_l_d(uint64_t a, int rm, uint32_t *flags) { return cvt_d_to_int(a, CVT_L, rm, flags); }
uint64_t rv_fcvt_lu_d(uint64_t a, int rm, uint32_t *flags) { return cvt_d_to_int(a, CVT_LU, rm, flags); }

/* ------------------------------------------------------------------------
 * integer -> float: round |x| to p bits (no overflow or underflow possible)
 * ---------------------------------------------------------------------- */
static uint64_t int_to_fp(bool neg, uint64_t mag, int p, int bias, int rm, uint32_t *flags)
{
    if (!mag)
        return 0;
    int n = 64 - __builtin_clzll(mag);
    int exp = n - 1;
    uint64_t sig;
    if (n <= p) {
        sig = mag << (p - n);
    } else {
        int s = n - p;
        uint64_t rem = mag & ((1ull << s) - 1), half = 1ull << (s - 1);
        sig = mag >> s;
        if (rem) {
            *flags |= RV_FFLAG_NX;
            bool up;
            switch (rm) {
            case RV_RM_RNE: up = rem > half || (rem == half && (sig & 1)); break;
            case RV_RM_RMM: up = rem >= half; break;
            case RV_RM_RDN: up = neg; break;
            case RV_RM_RUP: up = !neg; break;
            default: up = false; break;
            }
            sig += up;
            if (sig >> p) {
                sig >>= 1;
                exp++;
            }
        }
    }
    uint64_t bits = ((uint64_t)(exp + bias) << (p - 1)) | (sig & ((1ull << (p - 1)) - 1));
    return bits | ((uint64_t)neg << (p == 24 ? 31 : 63));
}

static inline uint64_t i2s(bool neg, uint64_t mag, int rm, uint32_t *flags)
{
    return rv_f32_box((uint32_t)int_to_fp(neg, mag, 24, 127, rm, flags));
}
static inline uint64_t i2d(bool neg, uint64_t mag, int rm, uint32_t *flags)
{
    return int_to_fp(neg, mag, 53, 1023, rm, flags);
}

uint64_t rv_fcvt_s_w(uint64_t x, int rm, uint32_t *flags)
{
    int32_t v = (int32_t)(uint32_t)x;
    return i2s(v < 0, v < 0 ? -(uint64_t)(int64_t)v : (uint64_t)v, rm, flags);
}
uint64_t rv_fcvt_s_wu(uint64_t x, int rm, uint32_t *flags) { return i2s(false, (uint32_t)x, rm, flags); }
uint64_t rv_fcvt_s_l(uint64_t x, int rm, uint32_t *flags)
{
    bool neg = (int64_t)x < 0;
    return i2s(neg, neg ? -x : x, rm, flags);
}
uint64_t rv_fcvt_s_lu(uint64_t x, int rm, uint32_t *flags) { return i2s(false, x, rm, flags); }
uint64_t rv_fcvt_d_w(uint64_t x, int rm, uint32_t *flags)
{
    int32_t v = (int32_t)(uint32_t)x;
    return i2d(v < 0, v < 0 ? -(uint64_t)(int64_t)v : (uint64_t)v, rm, flags);
}
uint64_t rv_fcvt_d_wu(uint64_t x, int rm, uint32_t *flags) { return i2d(false, (uint32_t)x, rm, flags); }
uint64_t rv_fcvt_d_l(uint64_t x, int rm, uint32_t *flags)
{
    bool neg = (int64_t)x < 0;
    return i2d(neg, neg ? -x : x, rm, flags);
}
uint64_t rv_fcvt_d_lu(uint64_t x, int rm, uint32_t *flags) { return i2d(false, x, rm, flags); }

/* ------------------------------------------------------------------------
 * between precisions
 * ---------------------------------------------------------------------- */
uint64_t rv_fcvt_s_d(uint64_t a, int rm, uint32_t *flags)
{
#if FPU_FAST
    uint32_t fast_r_;
    if (fast_cvt_s_d(a, rm, flags, &fast_r_))
        return rv_f32_box(fast_r_);
#endif
    uint32_t fl = 0;
    uint32_t r = f_result(hw_cvt_s_d(d_of(a), rm, &fl));
    if (NEED_RMM_FIX(rm, fl, f_isfinite(r))) {
        struct term t[2] = {term_d(a, false), neg_mid(term_f(r, false))};
        if (terms_cancel(t, 2))
            r++;
    }
    *flags |= fl;
    return rv_f32_box(r);
}

uint64_t rv_fcvt_d_s(uint64_t a, uint32_t *flags)
{
    uint32_t f = rv_f32_unbox(a);
    if (UNLIKELY(f_isnan(f))) {
        if (f_issnan(f))
            *flags |= RV_FFLAG_NV;
        return RV_F64_CANONICAL_NAN;
    }
    return d_bits((double)f_of(f)); /* exact */
}

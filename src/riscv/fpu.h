/* IEEE 754 arithmetic for the F and D extensions, exactly as RISC-V defines
 * it: five rounding modes (including RMM, which x86 lacks), accrued
 * exception flags, canonical NaNs, NaN boxing of single-precision values in
 * 64-bit registers, and the saturating float->integer conversions.
 *
 * Every function is pure: operands are raw register bits (uint64_t; single
 * precision operands are NaN-boxed and an improperly boxed one reads as the
 * canonical NaN), rm is an already-resolved static rounding mode (0..4, the
 * caller maps DYN to frm and rejects 5/6/7), and raised exceptions are ORed
 * into *flags (RV_FFLAG_*). Single precision results come back NaN-boxed.
 */
#ifndef VIREO_RISCV_FPU_H
#define VIREO_RISCV_FPU_H

#include <stdint.h>

enum rv_rm { RV_RM_RNE = 0, RV_RM_RTZ = 1, RV_RM_RDN = 2, RV_RM_RUP = 3, RV_RM_RMM = 4, RV_RM_DYN = 7 };

#define RV_FFLAG_NX 0x01u /* inexact */
#define RV_FFLAG_UF 0x02u /* underflow */
#define RV_FFLAG_OF 0x04u /* overflow */
#define RV_FFLAG_DZ 0x08u /* divide by zero */
#define RV_FFLAG_NV 0x10u /* invalid */

#define RV_F32_BOX 0xffffffff00000000ull
#define RV_F32_CANONICAL_NAN 0x7fc00000u
#define RV_F64_CANONICAL_NAN 0x7ff8000000000000ull

/* Unbox a single-precision register value (canonical NaN if not boxed). */
static inline uint32_t rv_f32_unbox(uint64_t r)
{
    return (r & RV_F32_BOX) == RV_F32_BOX ? (uint32_t)r : RV_F32_CANONICAL_NAN;
}
static inline uint64_t rv_f32_box(uint32_t v) { return RV_F32_BOX | v; }

/* ---- single precision (S) ---- */
uint64_t rv_fadd_s(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fsub_s(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fmul_s(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fdiv_s(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fsqrt_s(uint64_t a, int rm, uint32_t *flags);
/* fused: op 0 = a*b+c (FMADD), 1 = a*b-c (FMSUB), 2 = -(a*b)+c (FNMSUB), 3 = -(a*b)-c (FNMADD) */
uint64_t rv_fma_s(uint64_t a, uint64_t b, uint64_t c, int op, int rm, uint32_t *flags);
uint64_t rv_fmin_s(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fmax_s(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fsgnj_s(uint64_t a, uint64_t b, int kind); /* kind 0 J, 1 JN, 2 JX */
uint64_t rv_feq_s(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_flt_s(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fle_s(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fclass_s(uint64_t a);
/* conversions to integers: result is the x-register value (32-bit results sign-extended) */
uint64_t rv_fcvt_w_s(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_wu_s(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_l_s(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_lu_s(uint64_t a, int rm, uint32_t *flags);
/* conversions from integers: x is the x-register value */
uint64_t rv_fcvt_s_w(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_s_wu(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_s_l(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_s_lu(uint64_t x, int rm, uint32_t *flags);

/* ---- double precision (D) ---- */
uint64_t rv_fadd_d(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fsub_d(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fmul_d(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fdiv_d(uint64_t a, uint64_t b, int rm, uint32_t *flags);
uint64_t rv_fsqrt_d(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fma_d(uint64_t a, uint64_t b, uint64_t c, int op, int rm, uint32_t *flags);
uint64_t rv_fmin_d(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fmax_d(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fsgnj_d(uint64_t a, uint64_t b, int kind);
uint64_t rv_feq_d(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_flt_d(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fle_d(uint64_t a, uint64_t b, uint32_t *flags);
uint64_t rv_fclass_d(uint64_t a);
uint64_t rv_fcvt_w_d(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_wu_d(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_l_d(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_lu_d(uint64_t a, int rm, uint32_t *flags);
uint64_t rv_fcvt_d_w(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_d_wu(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_d_l(uint64_t x, int rm, uint32_t *flags);
uint64_t rv_fcvt_d_lu(uint64_t x, int rm, uint32_t *flags);

/* ---- between precisions ---- */
uint64_t rv_fcvt_s_d(uint64_t a, int rm, uint32_t *flags); /* double -> boxed single */
uint64_t rv_fcvt_d_s(uint64_t a, uint32_t *flags);         /* single -> double (exact) */

#endif

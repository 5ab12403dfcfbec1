/* F and D in translated code (riscv/jit_x86.c translates the rest of a
 * block): mstatus.FS and rounding-mode checks, an SSE2 fast path for the
 * common arithmetic and comparisons, and the interpreter's exact helpers
 * (riscv/fpu.h) for everything else, called in line or from a slow path
 * behind the block. */
#include "riscv/jit_x86_tr.h"

#include <stddef.h>
#include <stdint.h>

#include "riscv/csr.h"
#include "riscv/fpu.h"
#include "riscv/hart.h"
#include "riscv/x86_emit.h"

#if defined(__x86_64__)

/* The instruction is illegal (FP off, a reserved rounding mode): trap at
 * idx, tval 0, as the interpreter does. */
static void illegal_exit(struct tr *t, unsigned idx)
{
    mov_imm(&t->e, RAX, EXC_ILLEGAL_INSN);
    mov_store(&t->e, RAX, RBX, HOFF(exc_cause));
    op_r(&t->e, false, 0x31, RAX, RAX);          /* xor eax, eax */
    mov_store(&t->e, RAX, RBX, HOFF(exc_tval));
    jit_exception_exit(t, idx);
}

/* mstatus.FS off: illegal */
void jit_fp_check(struct tr *t, unsigned idx)
{
    if (t->fs_checked)
        return;
    t->fs_checked = true;
    rex(&t->e, true, 0, RBX);
    b1(&t->e, 0xf7);
    mem(&t->e, 0, RBX, HOFF(mstatus));           /* test qword [rbx+mstatus], FS */
    d32(&t->e, (uint32_t)MSTATUS_FS);
    uint8_t *on = jcc(&t->e, CC_NE);
    illegal_exit(t, idx);
    land(&t->e, on);
}

void jit_fp_dirty_now(struct tr *t)
{
    mov_imm(&t->e, RAX, MSTATUS_FS_DIRTY | MSTATUS_SD);
    op_m(&t->e, true, 0x09, RAX, RBX, HOFF(mstatus)); /* or [rbx+mstatus], rax */
}

void jit_fp_dirty(struct tr *t)
{
    if (!t->fs_dirtied) {
        t->fs_dirtied = true;
        jit_fp_dirty_now(t);
    }
}

/* DYN: frm must be a valid rounding mode, else the instruction is illegal. */
static void fp_rm_check(struct tr *t, unsigned idx)
{
    if ((t->b->insns[idx].imm & 7) != RV_RM_DYN)
        return;
    b1(&t->e, 0x83);                             /* cmp dword [rbx+frm], RMM */
    mem(&t->e, 7, RBX, HOFF(frm));
    b1(&t->e, RV_RM_RMM);
    uint8_t *ok = jcc(&t->e, CC_BE);
    illegal_exit(t, idx);
    land(&t->e, ok);
}

/* The rounding mode into register r (32 bits): static, or frm (DYN). */
static void fp_rm(struct tr *t, unsigned idx, int r)
{
    int rm = t->b->insns[idx].imm & 7;
    if (rm != RV_RM_DYN)
        mov_imm(&t->e, r, (uint64_t)rm);
    else
        op_m(&t->e, false, 0x8b, r, RBX, HOFF(frm));
}

enum fpk { FK_BIN, FK_UN, FK_FMA, FK_TO_X, FK_X_TO_F, FK_CMP, FK_MINMAX, FK_SGNJ, FK_CLASS, FK_D_S };

struct fp_entry {
    enum rv_op op;
    enum fpk kind;
    const void *fn;
    int arg; /* FMA: which fused op */
};

/* The SSE2 instruction (0F xx) that computes an op exactly like RISC-V in
 * round-to-nearest-even, for the fast path below; 0: none. */
static uint8_t sse_opcode(enum rv_op op)
{
    switch (op) {
    case RV_OP_FADD_S: case RV_OP_FADD_D: return 0x58;
    case RV_OP_FSUB_S: case RV_OP_FSUB_D: return 0x5c;
    case RV_OP_FMUL_S: case RV_OP_FMUL_D: return 0x59;
    case RV_OP_FDIV_S: case RV_OP_FDIV_D: return 0x5e;
    case RV_OP_FSQRT_S: case RV_OP_FSQRT_D: return 0x51;
    case RV_OP_FEQ_S: case RV_OP_FEQ_D: case RV_OP_FLT_S: case RV_OP_FLT_D:
    case RV_OP_FLE_S: case RV_OP_FLE_D: return 0x2e; /* ucomis[sd] */
    default: return 0;
    }
}

static bool op_is_double(enum rv_op op)
{
    switch (op) {
    case RV_OP_FADD_D: case RV_OP_FSUB_D: case RV_OP_FMUL_D: case RV_OP_FDIV_D: case RV_OP_FSQRT_D:
    case RV_OP_FEQ_D: case RV_OP_FLT_D: case RV_OP_FLE_D:
        return true;
    default:
        return false;
    }
}

/* prefix 0F op with xmm0 and [rbx + disp] */
static void sse_m(struct em *e, uint8_t prefix, uint8_t op, int32_t disp)
{
    if (prefix)
        b1(e, prefix);
    b1(e, 0x0f);
    b1(e, op);
    mem(e, 0, RBX, disp);
}

static uint8_t *cold_jump(struct tr *t, struct cold *k, unsigned cc)
{
    uint8_t *at = jcc(&t->e, cc);
    if (k->nfrom < sizeof(k->from) / sizeof(k->from[0]))
        k->from[k->nfrom++] = at;
    else
        t->e.full = true; /* cannot happen; the block stays interpreted */
    return at;
}

/* A single operand must be NaN-boxed (upper half all ones) for the fast
 * path; the helpers read anything else as the canonical NaN. */
static void boxed_or_cold(struct tr *t, struct cold *k, unsigned r)
{
    load_f(t, RAX, r);
    shift_imm(&t->e, true, 5, RAX, 32);
    alu_imm(&t->e, false, 7, RAX, -1);
    cold_jump(t, k, CC_NE);
}

/* The fast path of an arithmetic op or a comparison, in SSE2; anything it
 * cannot do exactly goes to the helper, out of line. Arithmetic runs here
 * when the rounding mode is round-to-nearest-even (static, or frm), NX is
 * already set in fflags (as in QEMU's "hardfloat": inexactness then needs
 * no check, and compiled code rarely clears fflags) and the result is
 * normal and not at the bottom of the range: a NaN or infinite result (any
 * invalid operation, division by zero, overflow, NaN operands) and a zero,
 * subnormal or smallest-exponent result (underflow, tininess, signed
 * zeros) take the helper, which then raises exactly the right flags.
 * Comparisons run here unless an operand is a NaN. */
static bool fp_fast(struct tr *t, unsigned idx, const struct fp_entry *f)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    uint8_t op = sse_opcode(f->op);
    bool dbl = op_is_double(f->op), cmp = f->kind == FK_CMP;
    int rm = in->imm & 7;
    if (!op || (!cmp && rm != 0 && rm != RV_RM_DYN))
        return false;
    struct cold *k = jit_cold_new(t, COLD_FP, idx);
    if (!k)
        return false;
    k->f = f;
    if (!cmp) {
        b1(e, 0xf6);                            /* test byte [rbx+fflags], NX */
        mem(e, 0, RBX, HOFF(fflags));
        b1(e, 0x01);
        cold_jump(t, k, CC_E);
        if (rm == RV_RM_DYN) {
            b1(e, 0x83);                        /* cmp dword [rbx+frm], 0 */
            mem(e, 7, RBX, HOFF(frm));
            b1(e, 0x00);
            cold_jump(t, k, CC_NE);
        }
    }
    bool two = f->kind == FK_BIN || cmp;
    if (!dbl) {
        boxed_or_cold(t, k, in->rs1);
        if (two)
            boxed_or_cold(t, k, in->rs2);
    }
    int32_t f1 = HOFF(f) + 8 * (int32_t)in->rs1, f2 = HOFF(f) + 8 * (int32_t)in->rs2;
    uint8_t pfx = dbl ? 0xf2 : 0xf3;
    if (cmp) {
        sse_m(e, dbl ? 0xf2 : 0xf3, 0x10, f1);  /* movs[sd] xmm0, f[rs1] */
        sse_m(e, dbl ? 0x66 : 0, op, f2);       /* ucomis[sd] xmm0, f[rs2] */
        cold_jump(t, k, 0xa);                   /* jp: unordered */
        unsigned cc = f->op == RV_OP_FEQ_S || f->op == RV_OP_FEQ_D   ? CC_E
                      : f->op == RV_OP_FLT_S || f->op == RV_OP_FLT_D ? CC_B
                                                                     : CC_BE;
        setcc_rax(e, cc);
        store_x(t, RAX, in->rd);
    } else {
        if (op == 0x51) {
            sse_m(e, pfx, 0x51, f1);            /* sqrts[sd] xmm0, f[rs1] */
        } else {
            sse_m(e, pfx, 0x10, f1);
            sse_m(e, pfx, op, f2);
        }
        /* the result's exponent must be in [2, max - 1] */
        b1(e, 0x66);                            /* movq rax, xmm0 / movd eax, xmm0 */
        if (dbl)
            b1(e, 0x48);
        b1(e, 0x0f);
        b1(e, 0x7e);
        b1(e, 0xc0);
        mov_rr(e, RCX, RAX);
        shift_imm(e, true, 5, RCX, dbl ? 52 : 23);
        alu_imm(e, false, 4, RCX, dbl ? 0x7ff : 0xff);
        alu_imm(e, false, 5, RCX, 2);
        alu_imm(e, false, 7, RCX, dbl ? 0x7fd : 0xfd);
        cold_jump(t, k, CC_AE);
        if (!dbl) {
            mov_imm(e, RCX, 0xffffffff00000000ull);
            op_r(e, true, 0x09, RCX, RAX);      /* box */
        }
        store_f(t, RAX, in->rd);
    }
    k->resume = e->p;
    return true;
}

static const struct fp_entry fp_ops[] = {
    { RV_OP_FADD_S, FK_BIN, (const void *)rv_fadd_s, 0 }, { RV_OP_FSUB_S, FK_BIN, (const void *)rv_fsub_s, 0 },
    { RV_OP_FMUL_S, FK_BIN, (const void *)rv_fmul_s, 0 }, { RV_OP_FDIV_S, FK_BIN, (const void *)rv_fdiv_s, 0 },
    { RV_OP_FADD_D, FK_BIN, (const void *)rv_fadd_d, 0 }, { RV_OP_FSUB_D, FK_BIN, (const void *)rv_fsub_d, 0 },
    { RV_OP_FMUL_D, FK_BIN, (const void *)rv_fmul_d, 0 }, { RV_OP_FDIV_D, FK_BIN, (const void *)rv_fdiv_d, 0 },
    { RV_OP_FSQRT_S, FK_UN, (const void *)rv_fsqrt_s, 0 }, { RV_OP_FSQRT_D, FK_UN, (const void *)rv_fsqrt_d, 0 },
    { RV_OP_FCVT_S_D, FK_UN, (const void *)rv_fcvt_s_d, 0 },
    { RV_OP_FMADD_S, FK_FMA, (const void *)rv_fma_s, 0 }, { RV_OP_FMSUB_S, FK_FMA, (const void *)rv_fma_s, 1 },
    { RV_OP_FNMSUB_S, FK_FMA, (const void *)rv_fma_s, 2 }, { RV_OP_FNMADD_S, FK_FMA, (const void *)rv_fma_s, 3 },
    { RV_OP_FMADD_D, FK_FMA, (const void *)rv_fma_d, 0 }, { RV_OP_FMSUB_D, FK_FMA, (const void *)rv_fma_d, 1 },
    { RV_OP_FNMSUB_D, FK_FMA, (const void *)rv_fma_d, 2 }, { RV_OP_FNMADD_D, FK_FMA, (const void *)rv_fma_d, 3 },
    { RV_OP_FCVT_W_S, FK_TO_X, (const void *)rv_fcvt_w_s, 0 }, { RV_OP_FCVT_WU_S, FK_TO_X, (const void *)rv_fcvt_wu_s, 0 },
    { RV_OP_FCVT_L_S, FK_TO_X, (const void *)rv_fcvt_l_s, 0 }, { RV_OP_FCVT_LU_S, FK_TO_X, (const void *)rv_fcvt_lu_s, 0 },
    { RV_OP_FCVT_W_D, FK_TO_X, (const void *)rv_fcvt_w_d, 0 }, { RV_OP_FCVT_WU_D, FK_TO_X, (const void *)rv_fcvt_wu_d, 0 },
    { RV_OP_FCVT_L_D, FK_TO_X, (const void *)rv_fcvt_l_d, 0 }, { RV_OP_FCVT_LU_D, FK_TO_X, (const void *)rv_fcvt_lu_d, 0 },
    { RV_OP_FCVT_S_W, FK_X_TO_F, (const void *)rv_fcvt_s_w, 0 }, { RV_OP_FCVT_S_WU, FK_X_TO_F, (const void *)rv_fcvt_s_wu, 0 },
    { RV_OP_FCVT_S_L, FK_X_TO_F, (const void *)rv_fcvt_s_l, 0 }, { RV_OP_FCVT_S_LU, FK_X_TO_F, (const void *)rv_fcvt_s_lu, 0 },
    { RV_OP_FCVT_D_W, FK_X_TO_F, (const void *)rv_fcvt_d_w, 0 }, { RV_OP_FCVT_D_WU, FK_X_TO_F, (const void *)rv_fcvt_d_wu, 0 },
    { RV_OP_FCVT_D_L, FK_X_TO_F, (const void *)rv_fcvt_d_l, 0 }, { RV_OP_FCVT_D_LU, FK_X_TO_F, (const void *)rv_fcvt_d_lu, 0 },
    { RV_OP_FEQ_S, FK_CMP, (const void *)rv_feq_s, 0 }, { RV_OP_FLT_S, FK_CMP, (const void *)rv_flt_s, 0 },
    { RV_OP_FLE_S, FK_CMP, (const void *)rv_fle_s, 0 }, { RV_OP_FEQ_D, FK_CMP, (const void *)rv_feq_d, 0 },
    { RV_OP_FLT_D, FK_CMP, (const void *)rv_flt_d, 0 }, { RV_OP_FLE_D, FK_CMP, (const void *)rv_fle_d, 0 },
    { RV_OP_FMIN_S, FK_MINMAX, (const void *)rv_fmin_s, 0 }, { RV_OP_FMAX_S, FK_MINMAX, (const void *)rv_fmax_s, 0 },
    { RV_OP_FMIN_D, FK_MINMAX, (const void *)rv_fmin_d, 0 }, { RV_OP_FMAX_D, FK_MINMAX, (const void *)rv_fmax_d, 0 },
    { RV_OP_FSGNJ_S, FK_SGNJ, (const void *)rv_fsgnj_s, 0 }, { RV_OP_FSGNJ_D, FK_SGNJ, (const void *)rv_fsgnj_d, 0 },
    { RV_OP_FCLASS_S, FK_CLASS, (const void *)rv_fclass_s, 0 }, { RV_OP_FCLASS_D, FK_CLASS, (const void *)rv_fclass_d, 0 },
    { RV_OP_FCVT_D_S, FK_D_S, (const void *)rv_fcvt_d_s, 0 },
};

/* The op through its helper: arguments, call, result. */
static void fp_call(struct tr *t, unsigned idx, const struct fp_entry *f)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    bool to_x = false;
    if (f->kind == FK_BIN || f->kind == FK_UN || f->kind == FK_TO_X || f->kind == FK_X_TO_F || f->kind == FK_FMA)
        fp_rm_check(t, idx); /* before the pushes: it may leave the block */
    push_saved(t);
    switch (f->kind) {
    case FK_BIN:                                /* fn(a, b, rm, &fflags) */
        fp_rm(t, idx, RDX);
        load_f(t, RDI, in->rs1);
        load_f(t, RSI, in->rs2);
        op_m(e, true, 0x8d, RCX, RBX, HOFF(fflags));
        break;
    case FK_UN:                                 /* fn(a, rm, &fflags) */
    case FK_TO_X:
    case FK_X_TO_F:
        fp_rm(t, idx, RSI);
        if (f->kind == FK_X_TO_F)
            load_x(t, RDI, in->rs1);
        else
            load_f(t, RDI, in->rs1);
        op_m(e, true, 0x8d, RDX, RBX, HOFF(fflags));
        to_x = f->kind == FK_TO_X;
        break;
    case FK_FMA:                                /* fn(a, b, c, op, rm, &fflags) */
        fp_rm(t, idx, R8);
        load_f(t, RDI, in->rs1);
        load_f(t, RSI, in->rs2);
        load_f(t, RDX, ((unsigned)in->imm >> 8) & 31);
        mov_imm(e, RCX, (uint64_t)f->arg);
        op_m(e, true, 0x8d, R9, RBX, HOFF(fflags));
        break;
    case FK_CMP:                                /* fn(a, b, &fflags) */
    case FK_MINMAX:
        load_f(t, RDI, in->rs1);
        load_f(t, RSI, in->rs2);
        op_m(e, true, 0x8d, RDX, RBX, HOFF(fflags));
        to_x = f->kind == FK_CMP;
        break;
    case FK_SGNJ:                               /* fn(a, b, kind) */
        load_f(t, RDI, in->rs1);
        load_f(t, RSI, in->rs2);
        mov_imm(e, RDX, (uint64_t)(in->imm & 3));
        break;
    case FK_CLASS:                              /* fn(a) */
        load_f(t, RDI, in->rs1);
        to_x = true;
        break;
    case FK_D_S:                                /* fn(a, &fflags) */
        load_f(t, RDI, in->rs1);
        op_m(e, true, 0x8d, RSI, RBX, HOFF(fflags));
        break;
    }
    call(e, f->fn);
    pop_saved(t);
    if (to_x)
        store_x(t, RAX, in->rd);
    else
        store_f(t, RAX, in->rd);
}

void jit_fp_cold(struct tr *t, const struct cold *k) { fp_call(t, k->idx, k->f); }

bool jit_fp_op(struct tr *t, unsigned idx, enum rv_op op)
{
    const struct fp_entry *f = NULL;
    for (size_t i = 0; i < sizeof(fp_ops) / sizeof(fp_ops[0]) && !f; i++)
        if (fp_ops[i].op == op)
            f = &fp_ops[i];
    if (!f)
        return false;
    jit_fp_check(t, idx);
    if (!fp_fast(t, idx, f))
        fp_call(t, idx, f);
    /* (after the slow path's way back too) */
    if (f->kind != FK_CLASS)
        jit_fp_dirty(t);
    return true;
}

/* FMV between the register files */
void jit_fp_move(struct tr *t, unsigned idx, enum rv_op op)
{
    const struct rv_insn *in = &t->b->insns[idx];
    jit_fp_check(t, idx);
    switch (op) {
    case RV_OP_FMV_X_W:
        load_f(t, RAX, in->rs1);
        movsxd(&t->e, RAX, RAX);
        store_x(t, RAX, in->rd);
        break;
    case RV_OP_FMV_X_D:
        load_f(t, RAX, in->rs1);
        store_x(t, RAX, in->rd);
        break;
    case RV_OP_FMV_W_X:
        load_x(t, RAX, in->rs1);
        op_r(&t->e, false, 0x89, RAX, RAX);     /* mov eax, eax */
        mov_imm(&t->e, RCX, 0xffffffff00000000ull);
        op_r(&t->e, true, 0x09, RCX, RAX);
        store_f(t, RAX, in->rd);
        jit_fp_dirty(t);
        break;
    default: /* FMV_D_X */
        load_x(t, RAX, in->rs1);
        store_f(t, RAX, in->rd);
        jit_fp_dirty(t);
        break;
    }
}

#endif

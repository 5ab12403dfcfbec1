/* LR/SC and the AMOs as host atomics on guest RAM, so harts on other
 * threads see them atomically. SC is a compare-and-swap against the value
 * LR saw: it fails when the word has changed since, but a store of the
 * same value in between goes unnoticed (docs/architecture.md). */
#include "riscv/amo.h"

#include <stdint.h>

#include "riscv/mmu.h"

bool rv_amo_op(unsigned op)
{
    return op >= RV_OP_LR_W && op <= RV_OP_AMOMAXU_D; /* W forms, then D forms */
}

static bool lr(struct rv_hart *h, const struct rv_insn *in, unsigned size)
{
    void *p = rv_atomic_ptr(h, h->x[in->rs1], size, true);
    if (!p)
        return false;
    /* the value as SC will compare it (a word zero-extended), and rd
     * (a word sign-extended) */
    uint64_t v = size == 4 ? __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST)
                           : __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
    h->resv_addr = (uintptr_t)p;
    h->resv_val = v;
    h->resv_valid = true;
    h->x[in->rd] = size == 4 ? (uint64_t)(int64_t)(int32_t)v : v;
    return true;
}

static bool sc(struct rv_hart *h, const struct rv_insn *in, unsigned size)
{
    void *p = rv_atomic_ptr(h, h->x[in->rs1], size, false);
    if (!p)
        return false;
    bool ok = false;
    if (h->resv_valid && h->resv_addr == (uintptr_t)p) {
        if (size == 4) {
            uint32_t expected = (uint32_t)h->resv_val;
            ok = __atomic_compare_exchange_n((uint32_t *)p, &expected, (uint32_t)h->x[in->rs2], false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        } else {
            uint64_t expected = h->resv_val;
            ok = __atomic_compare_exchange_n((uint64_t *)p, &expected, h->x[in->rs2], false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST);
        }
    }
    h->resv_valid = false;
    h->x[in->rd] = !ok;
    return true;
}

/* AMOMIN/MAX[U]: the value to store, from the old one (a) and x[rs2] (b),
 * both sign-extended from 32 bits for the W forms. */
static uint64_t pick(unsigned op, uint64_t a, uint64_t b, bool word)
{
    uint64_t ua = word ? (uint32_t)a : a, ub = word ? (uint32_t)b : b;
    switch (op) {
    case RV_OP_AMOMIN_W: case RV_OP_AMOMIN_D: return (int64_t)b < (int64_t)a ? b : a;
    case RV_OP_AMOMAX_W: case RV_OP_AMOMAX_D: return (int64_t)b > (int64_t)a ? b : a;
    case RV_OP_AMOMINU_W: case RV_OP_AMOMINU_D: return ub < ua ? b : a;
    default: return ub > ua ? b : a; /* AMOMAXU */
    }
}

/* The word AMOs; returns the old word. Swap and the bitwise and additive
 * ones are single host read-modify-writes; min and max a CAS loop. */
static int32_t amo_w(unsigned op, int32_t *p, int32_t b)
{
    switch (op) {
    case RV_OP_AMOSWAP_W: return __atomic_exchange_n(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOADD_W: return (int32_t)__atomic_fetch_add((uint32_t *)p, (uint32_t)b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOXOR_W: return __atomic_fetch_xor(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOAND_W: return __atomic_fetch_and(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOOR_W: return __atomic_fetch_or(p, b, __ATOMIC_SEQ_CST);
    default: {
        int32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old, (int32_t)pick(op, (uint64_t)(int64_t)old, (uint64_t)(int64_t)b, true),
                                            false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            ;
        return old;
    }
    }
}

static uint64_t amo_d(unsigned op, uint64_t *p, uint64_t b)
{
    switch (op) {
    case RV_OP_AMOSWAP_D: return __atomic_exchange_n(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOADD_D: return __atomic_fetch_add(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOXOR_D: return __atomic_fetch_xor(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOAND_D: return __atomic_fetch_and(p, b, __ATOMIC_SEQ_CST);
    case RV_OP_AMOOR_D: return __atomic_fetch_or(p, b, __ATOMIC_SEQ_CST);
    default: {
        uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(p, &old, pick(op, old, b, false), false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
        return old;
    }
    }
}

static bool amo(struct rv_hart *h, unsigned op, const struct rv_insn *in, unsigned size)
{
    void *p = rv_atomic_ptr(h, h->x[in->rs1], size, false);
    if (!p)
        return false;
    /* W forms: the old word sign-extended into rd, unsigned ones too */
    h->x[in->rd] = size == 4 ? (uint64_t)(int64_t)amo_w(op, p, (int32_t)h->x[in->rs2]) : amo_d(op, p, h->x[in->rs2]);
    return true;
}

bool rv_amo_insn(struct rv_hart *h, unsigned op, const struct rv_insn *in)
{
    unsigned size = op <= RV_OP_AMOMAXU_W ? 4 : 8;
    switch (op) {
    case RV_OP_LR_W: case RV_OP_LR_D: return lr(h, in, size);
    case RV_OP_SC_W: case RV_OP_SC_D: return sc(h, in, size);
    default: return amo(h, op, in, size);
    }
}

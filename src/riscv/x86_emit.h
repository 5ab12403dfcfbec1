/* An x86-64 instruction encoder for the JIT (riscv/jit_x86.c): bytes into
 * a bounded buffer (struct em; `full` once it would overflow), the few
 * instruction forms the translator uses, and forward jumps patched once
 * their target is known. Register numbers are the hardware's. */
#ifndef VIREO_RISCV_X86_EMIT_H
#define VIREO_RISCV_X86_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>


enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7, CC_L = 0xc, CC_GE = 0xd };

struct em {
    uint8_t *p, *end;
    bool full;
};

static inline void b1(struct em *e, uint8_t v)
{
    if (e->p < e->end)
        *e->p++ = v;
    else
        e->full = true;
}

static inline void d32(struct em *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b1(e, (uint8_t)(v >> (8 * i)));
}

static inline void d64(struct em *e, uint64_t v)
{
    d32(e, (uint32_t)v);
    d32(e, (uint32_t)(v >> 32));
}

/* REX for ModRM.reg = reg and ModRM.rm (or SIB.base) = base. */
static inline void rex(struct em *e, bool w, int reg, int base)
{
    uint8_t r = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((base & 8) ? 1 : 0));
    if (r != 0x40)
        b1(e, r);
}

/* ModRM (and SIB) for [base + disp]: disp8 when it fits. (Patch sites
 * never go through here.) */
static inline void mem(struct em *e, int reg, int base, int32_t disp)
{
    /* no displacement at 0, except from rbp/r13, whose mod 00 means RIP */
    bool none = disp == 0 && (base & 7) != RBP, short_disp = disp >= -128 && disp <= 127;
    b1(e, (uint8_t)((none ? 0x00 : short_disp ? 0x40 : 0x80) | ((reg & 7) << 3) | (base & 7)));
    if ((base & 7) == RSP)
        b1(e, 0x24);
    if (none)
        return;
    if (short_disp)
        b1(e, (uint8_t)disp);
    else
        d32(e, (uint32_t)disp);
}

static inline void op_m(struct em *e, bool w, uint8_t op, int reg, int base, int32_t disp)
{
    rex(e, w, reg, base);
    b1(e, op);
    mem(e, reg, base, disp);
}

static inline void op2_m(struct em *e, bool w, uint8_t op, int reg, int base, int32_t disp)
{
    rex(e, w, reg, base);
    b1(e, 0x0f);
    b1(e, op);
    mem(e, reg, base, disp);
}

/* op with ModRM.reg = reg, ModRM.rm = rm (both registers). */
static inline void op_r(struct em *e, bool w, uint8_t op, int reg, int rm)
{
    rex(e, w, reg, rm);
    b1(e, op);
    b1(e, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

static inline void op2_r(struct em *e, bool w, uint8_t op, int reg, int rm)
{
    rex(e, w, reg, rm);
    b1(e, 0x0f);
    b1(e, op);
    b1(e, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

static inline void mov_load(struct em *e, int r, int base, int32_t disp) { op_m(e, true, 0x8b, r, base, disp); }
static inline void mov_store(struct em *e, int r, int base, int32_t disp) { op_m(e, true, 0x89, r, base, disp); }
static inline void mov_rr(struct em *e, int dst, int src) { op_r(e, true, 0x89, src, dst); }

static inline void mov_imm(struct em *e, int r, uint64_t v)
{
    if ((int64_t)v == (int32_t)v) { /* mov r64, simm32 */
        rex(e, true, 0, r);
        b1(e, 0xc7);
        b1(e, (uint8_t)(0xc0 | (r & 7)));
        d32(e, (uint32_t)v);
    } else {
        rex(e, true, 0, r);
        b1(e, (uint8_t)(0xb8 + (r & 7)));
        d64(e, v);
    }
}

/* add/or/and/sub/xor/cmp r, simm32: ext 0/1/4/5/6/7 */
static inline void alu_imm(struct em *e, bool w, unsigned ext, int r, int32_t imm)
{
    rex(e, w, 0, r);
    bool byte = imm >= -128 && imm <= 127;
    b1(e, byte ? 0x83 : 0x81);                  /* (83: a sign-extended imm8) */
    b1(e, (uint8_t)(0xc0 | (ext << 3) | (r & 7)));
    if (byte)
        b1(e, (uint8_t)imm);
    else
        d32(e, (uint32_t)imm);
}

/* shl/shr/sar r, imm8: ext 4/5/7 */
static inline void shift_imm(struct em *e, bool w, unsigned ext, int r, unsigned n)
{
    rex(e, w, 0, r);
    b1(e, 0xc1);
    b1(e, (uint8_t)(0xc0 | (ext << 3) | (r & 7)));
    b1(e, (uint8_t)n);
}

static inline void shift_cl(struct em *e, bool w, unsigned ext, int r)
{
    rex(e, w, 0, r);
    b1(e, 0xd3);
    b1(e, (uint8_t)(0xc0 | (ext << 3) | (r & 7)));
}

static inline void movsxd(struct em *e, int dst, int src) { op_r(e, true, 0x63, dst, src); }

/* setcc al; movzx eax, al */
static inline void setcc_rax(struct em *e, unsigned cc)
{
    b1(e, 0x0f);
    b1(e, (uint8_t)(0x90 | cc));
    b1(e, 0xc0);
    op2_r(e, false, 0xb6, RAX, RAX);
}

/* A forward jump to patch: returns where its rel32 lives. */
static inline uint8_t *jcc(struct em *e, unsigned cc)
{
    b1(e, 0x0f);
    b1(e, (uint8_t)(0x80 | cc));
    uint8_t *at = e->p;
    d32(e, 0);
    return at;
}

static inline uint8_t *jmp(struct em *e)
{
    b1(e, 0xe9);
    uint8_t *at = e->p;
    d32(e, 0);
    return at;
}

static inline void land(struct em *e, uint8_t *at)
{
    if (e->full || !at)
        return;
    int32_t rel = (int32_t)(e->p - (at + 4));
    memcpy(at, &rel, 4);
}

static inline void call(struct em *e, const void *fn)
{
    mov_imm(e, RAX, (uint64_t)(uintptr_t)fn);
    b1(e, 0xff);
    b1(e, 0xd0);
}

#endif

/* The translator's state for one block (riscv/jit_x86.c), shared with the
 * translation of F and D (riscv/jit_x86_fp.c): the host registers that
 * hold guest registers, the slow paths waiting to be placed behind the
 * block, and the small moves both files emit. Private to the JIT. */
#ifndef VIREO_RISCV_JIT_X86_TR_H
#define VIREO_RISCV_JIT_X86_TR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "riscv/block.h"
#include "riscv/decode.h"
#include "riscv/hart.h"
#include "riscv/x86_emit.h"

/* rbx points 128 bytes into the hart, so every x register is a disp8
 * (x[0] at -128, x[31] at +120) */
#define RBX_BIAS 128
#define HOFF(field) ((int32_t)offsetof(struct rv_hart, field) - RBX_BIAS)
#define XOFF(i) (HOFF(x) + 8 * (int32_t)(i))

struct fp_entry;

/* A slow path emitted after the block's last instruction (out of the way
 * of the fast path): the jumps to it, the instruction, where it goes back. */
enum cold_kind { COLD_FP, COLD_LOAD, COLD_STORE, COLD_CODE_PAGE, COLD_GROUP };

struct cold {
    enum cold_kind kind;
    uint8_t *from[6]; /* FP: NX, frm, two NaN-boxes, the result; memory: TLB miss, page cross */
    unsigned nfrom, idx;
    const struct fp_entry *f;  /* FP */
    unsigned size;             /* memory: bytes; a group: members */
    bool sign, fp;
    uint8_t *resume;
    uint64_t dirty; /* the translator's dirty set where the jumps are */
};

struct tr {
    struct em e;
    struct rv_block_cache *c;
    struct rv_block *b;
    struct rv_sys *sys;
    const uint8_t *ops;
    /* Guest registers kept in host registers for the whole block
     * (host_of[i] < 0: only in h->x): loaded after the entry checks when
     * the block reads them before writing them, written back at every
     * exit. dirty: the cached ones written so far (a block is straight
     * code, so that is known at each point of emission). saved: the
     * caller-saved host registers in use, kept across calls. */
    int8_t host_of[33];
    uint64_t dirty;
    uint16_t saved;
    /* A block whose branch or jump goes back to its own start loops inside
     * its code, registers staying in host registers. */
    bool loop;
    uint8_t *body;
    /* In a block every instruction runs after the ones before it (only
     * its last one branches), so mstatus.FS is checked and set dirty once. */
    bool fs_checked, fs_dirtied;
    struct cold cold[2 * RV_BLOCK_MAX_INSNS];
    unsigned ncold;
};

/* x[i] into host register r, and r into x[i]: its host register when it
 * is cached (then it is dirty), else h->x */
static inline void load_x(struct tr *t, int r, unsigned i)
{
    int h = t->host_of[i];
    if (h < 0)
        mov_load(&t->e, r, RBX, XOFF(i));
    else if (h != r)
        mov_rr(&t->e, r, h);
}

static inline void store_x(struct tr *t, int r, unsigned i)
{
    int h = t->host_of[i];
    if (h < 0) {
        mov_store(&t->e, r, RBX, XOFF(i));
    } else {
        if (h != r)
            mov_rr(&t->e, h, r);
        t->dirty |= 1ull << i;
    }
}

static inline void load_f(struct tr *t, int r, unsigned i) { mov_load(&t->e, r, RBX, HOFF(f) + 8 * (int32_t)i); }
static inline void store_f(struct tr *t, int r, unsigned i) { mov_store(&t->e, r, RBX, HOFF(f) + 8 * (int32_t)i); }

/* Around a call: push the caller-saved host registers that hold guest
 * registers (and keep rsp 16-byte aligned), and pop them back. */
static inline unsigned saved_count(const struct tr *t) { return (unsigned)__builtin_popcount(t->saved); }

static inline void push_saved(struct tr *t)
{
    for (int r = R8; r <= R11; r++)
        if (t->saved >> r & 1) {
            b1(&t->e, 0x41);
            b1(&t->e, (uint8_t)(0x50 + (r & 7)));
        }
    if (saved_count(t) & 1)
        alu_imm(&t->e, true, 5, RSP, 8);
}

static inline void pop_saved(struct tr *t)
{
    if (saved_count(t) & 1)
        alu_imm(&t->e, true, 0, RSP, 8);
    for (int r = R11; r >= R8; r--)
        if (t->saved >> r & 1) {
            b1(&t->e, 0x41);
            b1(&t->e, (uint8_t)(0x58 + (r & 7)));
        }
}

/* jit_x86.c: a new slow path for instruction idx (NULL: the block is
 * abandoned), and the exception exit of instruction idx. */
struct cold *jit_cold_new(struct tr *t, enum cold_kind kind, unsigned idx);
void jit_exception_exit(struct tr *t, unsigned idx);

/* jit_x86_fp.c */
bool jit_fp_op(struct tr *t, unsigned idx, enum rv_op op);   /* false: not an F/D op it translates */
void jit_fp_move(struct tr *t, unsigned idx, enum rv_op op); /* FMV between the register files */
void jit_fp_cold(struct tr *t, const struct cold *k);        /* the helper call of an FP slow path */
void jit_fp_check(struct tr *t, unsigned idx);               /* illegal when mstatus.FS is off (once per block) */
void jit_fp_dirty(struct tr *t);                             /* mstatus.FS = dirty (once per block) */
void jit_fp_dirty_now(struct tr *t);                         /* the same, here, unconditionally */

#endif

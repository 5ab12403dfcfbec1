/* The x86-64 JIT (docs/jit.md): translates a decoded block into host code
 * when every instruction in it is one the JIT knows; other blocks stay
 * interpreted. The interpreter's run loop (exec.c) stays in charge: it
 * finds blocks, checks events, interrupts and page generations, chains
 * successors, and calls a block's code instead of interpreting it.
 *
 * A translated block is a function of the hart. It runs the whole block
 * on h->x and guest memory (loads and stores take the TLB inline, and the
 * interpreter's slow paths otherwise), sets h->pc, and returns:
 *   0 / 1  it left through fixed exit 0 (taken branch, JAL) or 1 (fall
 *          through): the run loop may chain the successor there;
 *   2      it left through an exit with a computed target (JALR);
 *   3      an instruction raised an exception: h->pc is that instruction,
 *          h->exc_cause/exc_tval say what, instret is corrected; the run
 *          loop takes the trap.
 * Code lives in the hart's block cache, in a buffer mapped twice (written
 * through one view, executed through the other: no page is writable and
 * executable), and is dropped with the decoded blocks when the cache is
 * flushed. */
#ifndef VIREO_RISCV_JIT_H
#define VIREO_RISCV_JIT_H

#include <stdbool.h>
#include <stddef.h>

#include "riscv/block.h"
#include "riscv/decode.h"

#define RV_JIT_EXIT_TAKEN 0
#define RV_JIT_EXIT_FALLTHROUGH 1
#define RV_JIT_EXIT_DYNAMIC 2
#define RV_JIT_EXIT_EXCEPTION 3

typedef int (*rv_jit_fn)(struct rv_hart *h);

/* Whether this build has a JIT (x86-64 hosts). */
bool rv_jit_available(void);

/* Translate b (ops[i] is the op of b->insns[i]) into code in c; sets
 * b->code, or leaves it NULL when the block holds an op the JIT does not
 * translate yet or the code buffer is full. */
void rv_jit_translate(struct rv_block_cache *c, struct rv_block *b, const enum rv_op *ops);

/* The code buffer (block.c calls these). */
bool rv_jit_buffer_init(struct rv_block_cache *c);
void rv_jit_buffer_free(struct rv_block_cache *c);

#endif

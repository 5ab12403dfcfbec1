/* The x86-64 JIT (docs/jit.md): translates a decoded block into host code
 * when every instruction in it is one the JIT knows; other blocks stay
 * interpreted. The interpreter's run loop (exec.c) stays in charge: it
 * finds blocks, checks events, interrupts and page generations, chains
 * successors, and calls a block's code instead of interpreting it.
 *
 * Translated code is entered through the buffer's trampoline,
 * c->jit_enter(h, code, budget), runs the block on h->x and guest memory
 * (loads and stores take the TLB inline, the interpreter's slow paths
 * otherwise), and goes on straight into successors the run loop has linked
 * (rv_jit_link), checking at each block's entry what the run loop would:
 * events, the budget of blocks, the page generation. It sets h->pc and
 * returns:
 *   0 / 1  a block (h->jit_last) left through
 *          fixed exit 0 (taken branch, JAL) or 1 (fall through): the run
 *          loop may link the successor there;
 *   2      it left through an exit with a computed target (JALR), or a
 *          block's entry check sent it back;
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


/* Whether this build has a JIT (x86-64 hosts). */
bool rv_jit_available(void);

/* Translate b (ops[i] is the op, an enum rv_op, of b->insns[i]) into code in h's cache; sets
 * b->code, or leaves it NULL when the block holds an op the JIT does not
 * translate yet or the code buffer is full. */
void rv_jit_translate(struct rv_hart *h, struct rv_block *b, const uint8_t *ops);

/* The run loop linked from's fixed exit k to its successor `to`: make
 * from's code jump straight into to's (both translated, same page). */
void rv_jit_link(struct rv_block_cache *c, struct rv_block *from, unsigned k, const struct rv_block *to);

/* Whether the code buffer has room for one more block. */
bool rv_jit_room(const struct rv_block_cache *c);

/* The code buffer (block.c calls these). */
bool rv_jit_buffer_init(struct rv_block_cache *c);
void rv_jit_buffer_free(struct rv_block_cache *c);

#endif

/* The decoded-block cache of one hart. A block is a run of decoded
 * instructions starting at a guest physical address, ending at a control
 * transfer, a system instruction, a page end or a length limit, followed by
 * a BLOCK_END terminator. Blocks are position-independent with respect to
 * the virtual PC (the interpreter adds the block's virtual start), so one
 * block serves every mapping of its physical page. */
#ifndef VIREO_RISCV_BLOCK_H
#define VIREO_RISCV_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "riscv/decode.h"
#include "riscv/hart.h"

#define RV_BLOCK_MAX_INSNS 64

struct rv_block {
    uint64_t paddr;
    uint64_t page; /* index of the physical page in the code map */
    uint32_t gen;  /* code-map generation of that page when decoded */
    uint16_t n;    /* instructions, not counting the terminator */
    uint16_t bytes;
    uint16_t heat; /* runs while interpreted: the JIT translates hot blocks only */
    struct rv_block *hnext; /* next block in the same hash bucket */
    /* Chained successors: [0] the taken branch / JAL target, [1] the
     * fall-through. Set only when the successor starts in the same page,
     * where it is reached through the same translation, so following a
     * link needs no TLB lookup; still checked against the page generation. */
    struct rv_block *succ[2];
    void *code;    /* translated code (riscv/jit.h), or NULL: interpreted */
    uint32_t exit_patch[2]; /* where code's fixed exits jump (offsets in the code buffer) */
    /* n instructions and the terminator, then n op bytes (rv_block_ops):
     * what the JIT translates from */
    struct rv_insn insns[];
};

_Static_assert(RV_OP_COUNT <= 256, "ops are kept in a byte");

static inline uint8_t *rv_block_ops(struct rv_block *b) { return (uint8_t *)&b->insns[b->n + 1]; }

#define RV_BCACHE_BITS 16
struct rv_block_cache {
    struct rv_block *table[1u << RV_BCACHE_BITS];
    uint8_t *arena;
    size_t arena_size, arena_used;
    uint64_t flushes;
    /* The JIT's code (riscv/jit.h): written through code_rw, run through
     * code_rx; emptied with the blocks. NULL: no JIT for this hart. */
    uint8_t *code_rw, *code_rx;
    size_t code_size, code_used;
    size_t code_reserved;     /* the entry trampoline at the start, kept by a flush */
    size_t code_populated;    /* faulted in so far (rv_jit_translate) */
    int (*jit_enter)(struct rv_hart *h, void *code, uint32_t budget);
    uint32_t jit_exit;        /* offset of the trampoline's way back */
    uint32_t jit_exit_fixed[2]; /* offsets of the shared tails of fixed exits 0 and 1 */
    uint64_t jit_blocks, jit_bytes; /* translated since start (statistics) */
    uint64_t jit_ns;                /* time spent translating (statistics) */
    bool jit_failed;                /* no code buffer could be made */
    FILE *perf_map;                 /* VIREO_JIT_PERFMAP: block names for perf */
};

struct rv_block_cache *rv_bcache_new(void);
void rv_bcache_free(struct rv_block_cache *c);
void rv_bcache_flush(struct rv_block_cache *c);
/* Room for a block of n instructions plus its terminator; flushes the whole
 * cache when the arena is full (blocks are small and re-decoding is cheap). */
struct rv_block *rv_bcache_alloc(struct rv_block_cache *c, unsigned n);
/* Give back the tail of the last allocation when fewer insns were used. */
void rv_bcache_shrink_last(struct rv_block_cache *c, struct rv_block *b, unsigned n_used);

static inline unsigned rv_bcache_slot(uint64_t paddr)
{
    return (unsigned)((paddr >> 1) ^ (paddr >> (RV_BCACHE_BITS + 1))) & ((1u << RV_BCACHE_BITS) - 1);
}

/* Buckets are chained: a Linux boot touches tens of thousands of distinct
 * blocks, and a direct-mapped table re-decoded colliding ones constantly. */
static inline struct rv_block *rv_bcache_lookup(struct rv_block_cache *c, const struct rv_code_map *map,
                                                uint64_t paddr)
{
    for (struct rv_block *b = c->table[rv_bcache_slot(paddr)]; b; b = b->hnext) {
        if (b->paddr == paddr)
            return b->gen == atomic_load_explicit(&map->gen[b->page], memory_order_acquire) ? b : NULL;
    }
    return NULL;
}

/* Insert b, replacing a stale block for the same address. */
static inline void rv_bcache_insert(struct rv_block_cache *c, struct rv_block *b)
{
    struct rv_block **pp = &c->table[rv_bcache_slot(b->paddr)];
    for (struct rv_block **it = pp; *it; it = &(*it)->hnext) {
        if ((*it)->paddr == b->paddr) {
            *it = (*it)->hnext;
            break;
        }
    }
    b->hnext = *pp;
    *pp = b;
}

#endif

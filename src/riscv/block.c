#include "riscv/block.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "riscv/jit.h"

/* 16 MiB of decoded instructions is about a million instructions: far more
 * than a Linux guest's hot code, and only touched pages cost memory. */
#define ARENA_SIZE (16u << 20)

struct rv_block_cache *rv_bcache_new(void)
{
    struct rv_block_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->arena == MAP_FAILED) {
        free(c);
        return NULL;
    }
    c->arena_size = ARENA_SIZE;
    return c;
}

void rv_bcache_free(struct rv_block_cache *c)
{
    if (!c)
        return;
    munmap(c->arena, c->arena_size);
    rv_jit_buffer_free(c);
    free(c);
}

void rv_bcache_flush(struct rv_block_cache *c)
{
    memset(c->table, 0, sizeof(c->table));
    c->arena_used = 0;
    c->code_used = c->code_reserved;
    c->flushes++;
}

static size_t block_size(unsigned n)
{
    size_t s = sizeof(struct rv_block) + (n + 1) * sizeof(struct rv_insn) + n;
    return (s + 15) & ~(size_t)15;
}

struct rv_block *rv_bcache_alloc(struct rv_block_cache *c, unsigned n)
{
    size_t need = block_size(n);
    if (c->arena_used + need > c->arena_size) {
        vdebug("decoded-block cache full: flushing");
        rv_bcache_flush(c);
    }
    struct rv_block *b = (struct rv_block *)(c->arena + c->arena_used);
    c->arena_used += need;
    return b;
}

void rv_bcache_shrink_last(struct rv_block_cache *c, struct rv_block *b, unsigned n_used)
{
    if ((uint8_t *)b + block_size(RV_BLOCK_MAX_INSNS) == c->arena + c->arena_used)
        c->arena_used = (size_t)((uint8_t *)b - c->arena) + block_size(n_used);
}

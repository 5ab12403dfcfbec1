#include "machine/plic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "riscv/csr.h"
#include "riscv/hart.h"

#define WORDS ((PLIC_NUM_SOURCES + 31) / 32)

struct plic_context {
    uint32_t enable[WORDS];
    uint32_t threshold;
};

struct plic {
    pthread_mutex_t lock;
    struct rv_sys *sys;
    unsigned ncontexts;
    uint32_t priority[PLIC_NUM_SOURCES];
    uint32_t level[WORDS];   /* line state */
    uint32_t pending[WORDS];
    uint32_t claimed[WORDS]; /* in service: not pending until completed */
    struct plic_context *ctx;
};

struct plic *plic_new(struct rv_sys *sys, unsigned nharts)
{
    struct plic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->sys = sys;
    p->ncontexts = 2 * nharts;
    p->ctx = calloc(p->ncontexts, sizeof(*p->ctx));
    if (!p->ctx) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void plic_free(struct plic *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->ctx);
    free(p);
}

static bool bit(const uint32_t *v, unsigned i) { return (v[i / 32] >> (i % 32)) & 1; }
static void set_bit(uint32_t *v, unsigned i, bool on)
{
    if (on)
        v[i / 32] |= 1u << (i % 32);
    else
        v[i / 32] &= ~(1u << (i % 32));
}

/* Highest-priority source that context c could claim (0 if none). Ties go
 * to the lowest source number. */
static unsigned best_source(const struct plic *p, unsigned c)
{
    const struct plic_context *ctx = &p->ctx[c];
    unsigned best = 0, best_prio = 0;
    for (unsigned w = 0; w < WORDS; w++) {
        uint32_t cand = p->pending[w] & ~p->claimed[w] & ctx->enable[w];
        while (cand) {
            unsigned src = w * 32 + (unsigned)__builtin_ctz(cand);
            cand &= cand - 1;
            if (src == 0)
                continue;
            uint32_t prio = p->priority[src];
            if (prio > best_prio && prio > ctx->threshold) {
                best = src;
                best_prio = prio;
            }
        }
    }
    return best;
}

/* Recompute every context's output: MEIP for even contexts, SEIP for odd. */
static void update_outputs(struct plic *p)
{
    for (unsigned c = 0; c < p->ncontexts; c++) {
        struct rv_hart *h = c / 2 < p->sys->nharts ? p->sys->harts[c / 2] : NULL;
        if (!h)
            continue;
        rv_hart_set_irq(h, (c & 1) ? MIP_SEIP : MIP_MEIP, best_source(p, c) != 0);
    }
}

void plic_set_irq(struct plic *p, unsigned src, bool level)
{
    if (src == 0 || src >= PLIC_NUM_SOURCES)
        return;
    pthread_mutex_lock(&p->lock);
    if (bit(p->level, src) != level) {
        set_bit(p->level, src, level);
        set_bit(p->pending, src, level && !bit(p->claimed, src));
        update_outputs(p);
    }
    pthread_mutex_unlock(&p->lock);
}

static bool plic_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)h;
    struct plic *p = opaque;
    if (size != 4)
        return false;
    uint32_t v = 0;
    pthread_mutex_lock(&p->lock);
    if (off < 0x1000) {
        unsigned src = (unsigned)(off / 4);
        if (src < PLIC_NUM_SOURCES)
            v = p->priority[src];
    } else if (off < 0x2000) {
        unsigned w = (unsigned)((off - 0x1000) / 4);
        if (w < WORDS)
            v = p->pending[w];
    } else if (off < 0x200000) {
        unsigned c = (unsigned)((off - 0x2000) / 0x80), w = (unsigned)((off - 0x2000) % 0x80 / 4);
        if (c < p->ncontexts && w < WORDS)
            v = p->ctx[c].enable[w];
    } else {
        unsigned c = (unsigned)((off - 0x200000) / 0x1000), reg = (unsigned)((off - 0x200000) % 0x1000);
        if (c < p->ncontexts) {
            if (reg == 0) {
                v = p->ctx[c].threshold;
            } else if (reg == 4) { /* claim */
                unsigned src = best_source(p, c);
                if (src) {
                    set_bit(p->pending, src, false);
                    set_bit(p->claimed, src, true);
                    update_outputs(p);
                }
                v = src;
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
    *val = v;
    return true;
}

static bool plic_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    struct plic *p = opaque;
    if (size != 4)
        return false;
    uint32_t v = (uint32_t)val;
    pthread_mutex_lock(&p->lock);
    if (off < 0x1000) {
        unsigned src = (unsigned)(off / 4);
        if (src > 0 && src < PLIC_NUM_SOURCES)
            p->priority[src] = v & PLIC_MAX_PRIORITY;
    } else if (off < 0x2000) {
        /* pending bits are read-only */
    } else if (off < 0x200000) {
        unsigned c = (unsigned)((off - 0x2000) / 0x80), w = (unsigned)((off - 0x2000) % 0x80 / 4);
        if (c < p->ncontexts && w < WORDS)
            p->ctx[c].enable[w] = w == 0 ? v & ~1u : v; /* source 0 does not exist */
    } else {
        unsigned c = (unsigned)((off - 0x200000) / 0x1000), reg = (unsigned)((off - 0x200000) % 0x1000);
        if (c < p->ncontexts) {
            if (reg == 0) {
                p->ctx[c].threshold = v & PLIC_MAX_PRIORITY;
            } else if (reg == 4 && v > 0 && v < PLIC_NUM_SOURCES && bit(p->claimed, v)) {
                /* complete: a line still asserted becomes pending again */
                set_bit(p->claimed, v, false);
                if (bit(p->level, v))
                    set_bit(p->pending, v, true);
            }
        }
    }
    update_outputs(p);
    pthread_mutex_unlock(&p->lock);
    return true;
}

const struct mmio_ops plic_mmio_ops = { plic_read, plic_write };

/* The interpreter: decodes guest code into blocks once, then runs them with
 * threaded (computed-goto) dispatch. Loads, stores and fetches go through
 * the per-hart TLB straight to host memory; only misses, MMIO and
 * page-crossing accesses take the slow paths in mmu.c. Interrupts, timers
 * and requests from other threads are looked at once per block. */
#include "riscv/exec.h"

#include <sched.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "riscv/amo.h"
#include "riscv/block.h"
#include "riscv/csr.h"
#include "riscv/fpu.h"
#include "riscv/jit.h"
#include "riscv/mmu.h"
#include "riscv/trap.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* How many blocks run between two looks at the host clock. */
#define TIMER_POLL_BLOCKS 256
/* How many translated blocks may run linked one into the next before they
 * come back to the run loop (its poll of the clock counts returns). */
#define JIT_CHAIN_MAX 64
/* Interpreted runs of a block before the JIT translates it, unless the
 * machine says otherwise (tests translate at once). */
#define JIT_HOT_RUNS 32 /* boot to the marker: 8 translated 18.6k blocks, 32 10.8k, and boots faster */

static const void *const *op_labels;

static struct rv_block *build_block(struct rv_hart *h, uint64_t vpc, uint64_t paddr, const uint8_t *host,
                                    struct rv_block *scratch)
{
    struct rv_block_cache *c = h->blocks;
    unsigned page_left = 4096 - (unsigned)(paddr & 0xfff);
    struct rv_block *b;
    unsigned n = 0, pos = 0;

    /* A 32-bit instruction that straddles two pages is decoded alone into
     * a scratch block that is never cached (its second half may map
     * elsewhere next time). */
    uint16_t lo;
    memcpy(&lo, host, 2);
    if (page_left == 2 && (lo & 3) == 3) {
        uint64_t pa2;
        const uint8_t *h2 = rv_fetch_ptr(h, vpc + 2, &pa2);
        if (!h2)
            return NULL;
        uint16_t hi;
        memcpy(&hi, h2, 2);
        b = scratch;
        unsigned len;
        enum rv_op op = rv_decode((uint32_t)lo | (uint32_t)hi << 16, &b->insns[0], &len);
        b->insns[0].handler = op_labels[op];
        b->insns[0].off = 0;
        b->insns[1] = (struct rv_insn){ .handler = op_labels[RV_OP_BLOCK_END], .off = 2 };
        b->paddr = paddr;
        b->succ[0] = b->succ[1] = NULL;
        b->page = ~0ull;
        b->gen = 0;
        b->n = 1;
        b->bytes = 4;
        b->code = NULL;
        return b;
    }

    /* Flag the page as holding code and read its generation before
     * decoding: a store that lands from then on (on any hart) bumps the
     * generation and so retires this block. Re-checked below. */
    uint64_t page = (paddr - h->sys->bus.ram_base) >> 12;
    atomic_store(&h->sys->code.has_code[page], 1);
    uint32_t gen = atomic_load(&h->sys->code.gen[page]);

    uint8_t ops[RV_BLOCK_MAX_INSNS];
    /* Translated code full: start both caches afresh, as when the decoded
     * blocks fill theirs (before this block takes its place). */
    if (c->code_rw && !rv_jit_room(c))
        rv_bcache_flush(c);
    b = rv_bcache_alloc(c, RV_BLOCK_MAX_INSNS);
    while (n < RV_BLOCK_MAX_INSNS && pos + 2 <= page_left) {
        uint32_t raw;
        uint16_t half;
        memcpy(&half, host + pos, 2);
        raw = half;
        if ((half & 3) == 3) {
            if (pos + 4 > page_left)
                break; /* straddles: becomes the next block's first insn */
            memcpy(&half, host + pos + 2, 2);
            raw |= (uint32_t)half << 16;
        }
        struct rv_insn *in = &b->insns[n];
        unsigned len;
        enum rv_op op = rv_decode(raw, in, &len);
        ops[n] = (uint8_t)op;
        in->handler = op_labels[op];
        in->off = (uint8_t)(pos / 2);
        pos += len;
        n++;
        if (rv_insn_ends_block(op, in))
            break;
    }
    b->insns[n] = (struct rv_insn){ .handler = op_labels[RV_OP_BLOCK_END], .off = (uint8_t)(pos / 2) };
    b->paddr = paddr;
    b->succ[0] = b->succ[1] = NULL;
    b->page = page;
    b->n = (uint16_t)n;
    b->bytes = (uint16_t)pos;
    b->gen = gen;
    b->heat = 0;
    rv_bcache_shrink_last(c, b, n);
    memcpy(rv_block_ops(b), ops, n);
    b->code = NULL;
    /* If a store cleared the flag meanwhile, the generation it bumped no
     * longer matches: the block runs once (interpreted) and is decoded
     * again next time. */
    if (atomic_load(&h->sys->code.has_code[page]) && atomic_load(&h->sys->code.gen[page]) == gen)
        rv_bcache_insert(c, b);
    h->stat_blocks_translated++;
    return b;
}

/* A cached block has run JIT_HOT_RUNS times interpreted: translate it.
 * Most boot code runs a few times at most, and the interpreter runs it
 * faster than the JIT could translate it. */
static void translate_hot(struct rv_hart *h, struct rv_block *b)
{
    struct rv_block_cache *c = h->blocks;
    /* The code buffer is made on first use (a hart of a JIT machine that
     * cannot have one runs interpreted, after one message). */
    if (!c->code_rw && !c->jit_failed && (c->jit_failed = !rv_jit_buffer_init(c)))
        vwarn("hart %u: no memory for translated code: interpreting", (unsigned)h->hartid);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rv_jit_translate(h, b, rv_block_ops(b));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->jit_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
}

enum rv_exec_result rv_exec(struct rv_hart *h, uint64_t max_blocks)
{
    static const void *const labels[] = {
#define RV_OP_LABEL(name) &&op_##name,
        RV_OPS(RV_OP_LABEL)
#undef RV_OP_LABEL
    };
    op_labels = labels;

    struct rv_sys *const sys = h->sys;
    uint64_t *const x = h->x;
    uint64_t *const f = h->f;
    struct rv_block_cache *const bc = h->blocks;
    const struct rv_tlb_entry *tlb_r, *tlb_w;
    struct rv_block *blk = NULL;
    struct rv_block **link = NULL; /* where the block just left caches its successor */
    uint64_t link_pc = 0;          /* the virtual start of the block that holds `link` */
    const struct rv_insn *ins;
    uint64_t bpc;
    uint64_t blocks_left = max_blocks;
    const uint16_t jit_hot = sys->jit_hot_runs ? sys->jit_hot_runs : JIT_HOT_RUNS;
    enum rv_exec_result result = RV_EXEC_BUDGET;
    /* Room for a one-instruction block that is never cached. */
    _Alignas(16) uint8_t scratch[sizeof(struct rv_block) + 2 * sizeof(struct rv_insn)];

#define NEXT() do { ins++; goto *ins->handler; } while (0)
#define RD x[ins->rd]
#define RS1 x[ins->rs1]
#define RS2 x[ins->rs2]
#define IMM ((int64_t)ins->imm)
#define PC_HERE (bpc + 2u * ins->off)
#define PC_NEXT (bpc + 2u * ins[1].off)
#define END_BLOCK_AT(target) do { h->pc = (target); goto next_block; } while (0)
/* Leave through a fixed exit (its target is PC-relative, so always the same
 * offset from this block): the successor may be chained. */
#define CHAIN_TO(target, exit) do { h->pc = (target); link = &blk->succ[exit]; link_pc = bpc; goto next_block; } while (0)

next_block:
    {
        uint32_t ev = atomic_load_explicit(&h->events, memory_order_acquire);
        if (unlikely(ev)) {
            if (ev & (RV_EV_EXIT | RV_EV_STOP))
                return RV_EXEC_EVENT;
            /* Act on what the clear returns: a bit set after the load above
             * must not be wiped unseen. */
            ev = atomic_fetch_and(&h->events, ~(RV_EV_KICK | RV_EV_TLB_FLUSH));
            if (ev & RV_EV_TLB_FLUSH) {
                uint64_t req = atomic_load(&h->tlb_flush_req);
                rv_tlb_flush_all(h);
                atomic_store(&h->tlb_flush_done, req);
            }
            rv_timer_update(h);
            link = NULL;
        }
        if (unlikely(--h->poll_countdown == 0)) {
            h->poll_countdown = TIMER_POLL_BLOCKS;
            atomic_store_explicit(&h->stat_instret, h->instret, memory_order_relaxed);
            rv_timer_update(h);
        }
        if (unlikely(rv_irq_pending(h)) && rv_take_interrupt(h))
            link = NULL;
        if (unlikely(blocks_left-- == 0))
            return result;

        bpc = h->pc;
        if (link) {
            struct rv_block *s = *link;
            if (likely(s) && likely(s->gen == atomic_load_explicit(&sys->code.gen[s->page], memory_order_acquire))) {
                /* Translated since they were chained: link the code too. */
                if (blk->code && s->code)
                    rv_jit_link(bc, blk, (unsigned)(link - blk->succ), s);
                blk = s;
                link = NULL;
                h->stat_chained++;
                goto enter_block;
            }
        }
        uint64_t paddr;
        const uint8_t *host = rv_fetch_ptr(h, bpc, &paddr);
        if (unlikely(!host)) {
            rv_trap(h, h->exc_cause, h->exc_tval);
            goto next_block;
        }
        struct rv_block *found = rv_bcache_lookup(bc, &sys->code, paddr);
        h->stat_cache_hits += found != NULL;
        if (unlikely(!found)) {
            /* Building may flush the whole cache, and the block holding
             * `link` with it. */
            link = NULL;
            found = build_block(h, bpc, paddr, host, (struct rv_block *)(void *)scratch);
            if (!found) {
                rv_trap(h, h->exc_cause, h->exc_tval);
                goto next_block;
            }
        }
        /* Chain from the previous block if both start in the same page and
         * neither is an uncached scratch block. */
        if (link && ((link_pc ^ bpc) >> 12) == 0 && found->page != ~0ull && blk->page != ~0ull) {
            *link = found;
            if (blk->code && found->code)
                rv_jit_link(bc, blk, (unsigned)(link - blk->succ), found);
        }
        link = NULL;
        blk = found;
    enter_block:
        /* (heat wraps: a block that could not be translated is tried again
         * every 65536 runs, e.g. once the full code buffer was emptied) */
        if (!blk->code && sys->jit && blk->page != ~0ull && unlikely(++blk->heat == jit_hot))
            translate_hot(h, blk);
        if (blk->code) {
            /* Translated: it may run on into linked successors, up to the
             * budget; it counts its own instructions. */
            uint32_t budget = blocks_left + 1 < JIT_CHAIN_MAX ? (uint32_t)blocks_left + 1 : JIT_CHAIN_MAX;
            uint64_t before = h->instret;
            int r = bc->jit_enter(h, blk->code, budget);
            if (unlikely(r == RV_JIT_EXIT_DYNAMIC && h->instret == before)) {
                /* Its entry turned it away before it ran (its page was
                 * written, or an event came): run it interpreted this
                 * once, so the hart makes progress whatever other harts
                 * write. */
                goto interpret_block;
            }
            uint32_t left = h->jit_budget < budget ? h->jit_budget : 0;
            uint64_t ran = budget - left;
            blocks_left -= ran > 1 && blocks_left >= ran - 1 ? ran - 1 : 0;
            h->stat_blocks_run += ran;
            h->stat_jit_runs += ran;
            h->stat_jit_entries++;
            /* The clock is polled by blocks, chained ones too. */
            if (ran > 1)
                h->poll_countdown = h->poll_countdown > ran ? h->poll_countdown - (uint32_t)(ran - 1) : 1;
            if (likely(r <= RV_JIT_EXIT_FALLTHROUGH)) {
                /* where it started: h->pc less the exit's offset (the
                 * taken branch or JAL ends the block; BLOCK_END falls) */
                blk = h->jit_last;
                link = &blk->succ[r];
                const struct rv_insn *x = &blk->insns[r ? blk->n : blk->n - 1];
                link_pc = h->pc - (uint64_t)(2 * (int64_t)x->off + (r ? 0 : x->imm));
            } else if (r == RV_JIT_EXIT_EXCEPTION) {
                rv_trap(h, h->exc_cause, h->exc_tval);
            }
            goto next_block;
        }
    interpret_block:
        h->instret += blk->n;
        h->stat_blocks_run++;
        tlb_r = h->tlb_r_cur;
        tlb_w = h->tlb_w_cur;
        ins = blk->insns;
        goto *ins->handler;
    }

exception:
    /* h->exc_cause/exc_tval were recorded by whoever failed; ins is the
     * faulting instruction. */
    h->pc = PC_HERE;
    h->instret -= (uint64_t)(blk->n - (ins - blk->insns));
    rv_trap(h, h->exc_cause, h->exc_tval);
    goto next_block;

illegal_insn:
    h->exc_cause = EXC_ILLEGAL_INSN;
    h->exc_tval = 0;
    goto exception;

op_ILLEGAL:
    h->exc_cause = EXC_ILLEGAL_INSN;
    h->exc_tval = (uint32_t)ins->imm;
    goto exception;

op_NOP:
    NEXT();

op_BLOCK_END:
    CHAIN_TO(PC_HERE, 1);

    /* ---- integer ---- */
op_LUI: RD = (uint64_t)IMM; NEXT();
op_AUIPC: RD = PC_HERE + (uint64_t)IMM; NEXT();
op_JAL: {
    uint64_t target = PC_HERE + (uint64_t)IMM;
    RD = PC_NEXT;
    CHAIN_TO(target, 0);
}
op_JALR: {
    uint64_t target = (RS1 + (uint64_t)IMM) & ~1ull;
    RD = PC_NEXT;
    END_BLOCK_AT(target);
}
#define BRANCH(name, cond) \
op_##name: \
    if (cond) \
        CHAIN_TO(PC_HERE + (uint64_t)IMM, 0); \
    NEXT();
BRANCH(BEQ, RS1 == RS2)
BRANCH(BNE, RS1 != RS2)
BRANCH(BLT, (int64_t)RS1 < (int64_t)RS2)
BRANCH(BGE, (int64_t)RS1 >= (int64_t)RS2)
BRANCH(BLTU, RS1 < RS2)
BRANCH(BGEU, RS1 >= RS2)

#define LOAD(name, ctype, size) \
op_##name: { \
    uint64_t va = RS1 + (uint64_t)IMM; \
    const struct rv_tlb_entry *e = &tlb_r[(va >> 12) & (RV_TLB_SIZE - 1)]; \
    if (likely(e->tag == va >> 12 && (va & 0xfff) <= 4096 - size)) { \
        ctype v; \
        memcpy(&v, (const void *)(e->addend + (uintptr_t)va), size); \
        RD = (uint64_t)(int64_t)v; \
    } else { \
        uint64_t v; \
        if (!rv_load_slow(h, va, size, &v)) \
            goto exception; \
        RD = (uint64_t)(int64_t)(ctype)v; \
    } \
    NEXT(); \
}
LOAD(LB, int8_t, 1)
LOAD(LH, int16_t, 2)
LOAD(LW, int32_t, 4)
LOAD(LD, int64_t, 8)
LOAD(LBU, uint8_t, 1)
LOAD(LHU, uint16_t, 2)
LOAD(LWU, uint32_t, 4)

#define STORE_VALUE(ctype, size, value) { \
    uint64_t va = RS1 + (uint64_t)IMM; \
    ctype v = (ctype)(value); \
    const struct rv_tlb_entry *e = &tlb_w[(va >> 12) & (RV_TLB_SIZE - 1)]; \
    if (likely(e->tag == va >> 12 && (va & 0xfff) <= 4096 - size)) { \
        void *p = (void *)(e->addend + (uintptr_t)va); \
        rv_code_check_store(sys, p); \
        memcpy(p, &v, size); \
    } else if (!rv_store_slow(h, va, size, (uint64_t)v)) { \
        goto exception; \
    } \
    NEXT(); \
}
op_SB: STORE_VALUE(uint8_t, 1, RS2)
op_SH: STORE_VALUE(uint16_t, 2, RS2)
op_SW: STORE_VALUE(uint32_t, 4, RS2)
op_SD: STORE_VALUE(uint64_t, 8, RS2)

op_ADDI: RD = RS1 + (uint64_t)IMM; NEXT();
op_SLTI: RD = (int64_t)RS1 < IMM; NEXT();
op_SLTIU: RD = RS1 < (uint64_t)IMM; NEXT();
op_XORI: RD = RS1 ^ (uint64_t)IMM; NEXT();
op_ORI: RD = RS1 | (uint64_t)IMM; NEXT();
op_ANDI: RD = RS1 & (uint64_t)IMM; NEXT();
op_SLLI: RD = RS1 << (IMM & 63); NEXT();
op_SRLI: RD = RS1 >> (IMM & 63); NEXT();
op_SRAI: RD = (uint64_t)((int64_t)RS1 >> (IMM & 63)); NEXT();
op_ADD: RD = RS1 + RS2; NEXT();
op_SUB: RD = RS1 - RS2; NEXT();
op_SLL: RD = RS1 << (RS2 & 63); NEXT();
op_SLT: RD = (int64_t)RS1 < (int64_t)RS2; NEXT();
op_SLTU: RD = RS1 < RS2; NEXT();
op_XOR: RD = RS1 ^ RS2; NEXT();
op_SRL: RD = RS1 >> (RS2 & 63); NEXT();
op_SRA: RD = (uint64_t)((int64_t)RS1 >> (RS2 & 63)); NEXT();
op_OR: RD = RS1 | RS2; NEXT();
op_AND: RD = RS1 & RS2; NEXT();
op_ADDIW: RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 + (uint64_t)IMM); NEXT();
op_SLLIW: RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 << (IMM & 31)); NEXT();
op_SRLIW: RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 >> (IMM & 31)); NEXT();
op_SRAIW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> (IMM & 31)); NEXT();
op_ADDW: RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 + RS2); NEXT();
op_SUBW: RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 - RS2); NEXT();
op_SLLW: RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 << (RS2 & 31)); NEXT();
op_SRLW: RD = (uint64_t)(int64_t)(int32_t)((uint32_t)RS1 >> (RS2 & 31)); NEXT();
op_SRAW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> (RS2 & 31)); NEXT();

    /* ---- M ---- */
op_MUL: RD = RS1 * RS2; NEXT();
op_MULH: RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64); NEXT();
op_MULHSU: RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(unsigned __int128)RS2) >> 64); NEXT();
op_MULHU: RD = (uint64_t)(((unsigned __int128)RS1 * (unsigned __int128)RS2) >> 64); NEXT();
op_DIV: {
    int64_t a = (int64_t)RS1, b = (int64_t)RS2;
    RD = b == 0 ? ~0ull : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
    NEXT();
}
op_DIVU: { uint64_t a = RS1, b = RS2; RD = b == 0 ? ~0ull : a / b; NEXT(); }
op_REM: {
    int64_t a = (int64_t)RS1, b = (int64_t)RS2;
    RD = b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
    NEXT();
}
op_REMU: { uint64_t a = RS1, b = RS2; RD = b == 0 ? a : a % b; NEXT(); }
op_MULW: RD = (uint64_t)(int64_t)(int32_t)(uint32_t)(RS1 * RS2); NEXT();
op_DIVW: {
    int32_t a = (int32_t)RS1, b = (int32_t)RS2;
    int32_t r = b == 0 ? -1 : (a == INT32_MIN && b == -1) ? a : a / b;
    RD = (uint64_t)(int64_t)r;
    NEXT();
}
op_DIVUW: {
    uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
    RD = (uint64_t)(int64_t)(int32_t)(b == 0 ? ~0u : a / b);
    NEXT();
}
op_REMW: {
    int32_t a = (int32_t)RS1, b = (int32_t)RS2;
    int32_t r = b == 0 ? a : (a == INT32_MIN && b == -1) ? 0 : a % b;
    RD = (uint64_t)(int64_t)r;
    NEXT();
}
op_REMUW: {
    uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
    RD = (uint64_t)(int64_t)(int32_t)(b == 0 ? a : a % b);
    NEXT();
}

    /* ---- system ---- */
op_FENCE:
    /* x86 keeps every order RVWMO asks for except store->load. */
    if ((ins->imm & 0x10) && (ins->imm & 0x2))
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
    NEXT();
op_PAUSE:
    /* A guest spinning on a lock whose holder's thread is not running
     * gains nothing by spinning on: now and then give the host CPU away. */
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((++h->pause_count & 15) == 0)
        sched_yield();
    NEXT();
op_FENCE_I:
    /* Nothing to do: every write to a page holding decoded code has
     * already retired its blocks on all harts (see rv_code_map). */
    NEXT();
op_ECALL:
    if (h->priv == RV_PRIV_S && sys->sbi_in_host && sys->hooks.sbi_call) {
        h->pc = PC_NEXT;
        sys->hooks.sbi_call(sys->hooks.opaque, h);
        goto next_block;
    }
    h->exc_cause = EXC_ECALL_U + h->priv;
    h->exc_tval = 0;
    goto exception;
op_EBREAK:
    h->exc_cause = EXC_BREAKPOINT;
    h->exc_tval = PC_HERE;
    goto exception;
op_MRET:
    h->pc = PC_HERE;
    if (!rv_mret(h))
        goto illegal_insn;
    goto next_block;
op_SRET:
    h->pc = PC_HERE;
    if (!rv_sret(h))
        goto illegal_insn;
    goto next_block;
op_WFI:
    if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TW)))
        goto illegal_insn;
    h->pc = PC_NEXT;
    if (!rv_irq_pending(h)) {
        result = RV_EXEC_WFI;
        blocks_left = 0; /* return at the next block boundary, after events */
    }
    goto next_block;
op_SFENCE_VMA:
    if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM)))
        goto illegal_insn;
    if (ins->rs1)
        rv_tlb_flush_va(h, x[ins->rs1]);
    else
        rv_tlb_flush_all(h);
    END_BLOCK_AT(PC_NEXT);

/* The FP CSRs are read and written inside blocks (rv_insn_ends_block);
 * any other CSR ends its block. */
#define CSR_OP(name) \
op_##name: \
    if (!rv_csr_insn(h, RV_OP_##name, ins)) \
        goto exception; \
    if (rv_csr_is_fp((unsigned)ins->imm & 0xfff)) \
        NEXT(); \
    END_BLOCK_AT(PC_NEXT);
CSR_OP(CSRRW)
CSR_OP(CSRRS)
CSR_OP(CSRRC)
CSR_OP(CSRRWI)
CSR_OP(CSRRSI)
CSR_OP(CSRRCI)

    /* ---- A (riscv/amo.c, which translated code calls too) ---- */
#define AMO_OP(name) \
op_##name: \
    if (!rv_amo_insn(h, RV_OP_##name, ins)) \
        goto exception; \
    NEXT();
AMO_OP(LR_W)
AMO_OP(SC_W)
AMO_OP(AMOSWAP_W)
AMO_OP(AMOADD_W)
AMO_OP(AMOXOR_W)
AMO_OP(AMOAND_W)
AMO_OP(AMOOR_W)
AMO_OP(AMOMIN_W)
AMO_OP(AMOMAX_W)
AMO_OP(AMOMINU_W)
AMO_OP(AMOMAXU_W)
AMO_OP(LR_D)
AMO_OP(SC_D)
AMO_OP(AMOSWAP_D)
AMO_OP(AMOADD_D)
AMO_OP(AMOXOR_D)
AMO_OP(AMOAND_D)
AMO_OP(AMOOR_D)
AMO_OP(AMOMIN_D)
AMO_OP(AMOMAX_D)
AMO_OP(AMOMINU_D)
AMO_OP(AMOMAXU_D)

    /* ---- F and D ---- */
#define FP_CHECK() if (unlikely(!(h->mstatus & MSTATUS_FS))) goto illegal_insn
#define FP_DIRTY() (h->mstatus |= MSTATUS_FS_DIRTY | MSTATUS_SD)
#define FP_RM(var) \
    int var = ins->imm & 7; \
    if (var == RV_RM_DYN) { \
        var = (int)h->frm; \
        if (var > RV_RM_RMM) \
            goto illegal_insn; \
    }
#define FD f[ins->rd]
#define FS1 f[ins->rs1]
#define FS2 f[ins->rs2]
#define FS3 f[(ins->imm >> 8) & 31]

op_FLW: {
    FP_CHECK();
    uint64_t va = RS1 + (uint64_t)IMM, v;
    const struct rv_tlb_entry *e = &tlb_r[(va >> 12) & (RV_TLB_SIZE - 1)];
    if (likely(e->tag == va >> 12 && (va & 0xfff) <= 4096 - 4)) {
        uint32_t w;
        memcpy(&w, (const void *)(e->addend + (uintptr_t)va), 4);
        v = w;
    } else if (!rv_load_slow(h, va, 4, &v)) {
        goto exception;
    }
    FD = rv_f32_box((uint32_t)v);
    FP_DIRTY();
    NEXT();
}
op_FLD: {
    FP_CHECK();
    uint64_t va = RS1 + (uint64_t)IMM, v;
    const struct rv_tlb_entry *e = &tlb_r[(va >> 12) & (RV_TLB_SIZE - 1)];
    if (likely(e->tag == va >> 12 && (va & 0xfff) <= 4096 - 8))
        memcpy(&v, (const void *)(e->addend + (uintptr_t)va), 8);
    else if (!rv_load_slow(h, va, 8, &v))
        goto exception;
    FD = v;
    FP_DIRTY();
    NEXT();
}
op_FSW:
    FP_CHECK();
    STORE_VALUE(uint32_t, 4, FS2)
op_FSD:
    FP_CHECK();
    STORE_VALUE(uint64_t, 8, FS2)

#define FP_BIN(name, fn) \
op_##name: { FP_CHECK(); FP_RM(rm); FD = fn(FS1, FS2, rm, &h->fflags); FP_DIRTY(); NEXT(); }
#define FP_UN(name, fn) \
op_##name: { FP_CHECK(); FP_RM(rm); FD = fn(FS1, rm, &h->fflags); FP_DIRTY(); NEXT(); }
#define FP_FMA(name, fn, kind) \
op_##name: { FP_CHECK(); FP_RM(rm); FD = fn(FS1, FS2, FS3, kind, rm, &h->fflags); FP_DIRTY(); NEXT(); }
#define FP_TO_X(name, fn) \
op_##name: { FP_CHECK(); FP_RM(rm); RD = fn(FS1, rm, &h->fflags); FP_DIRTY(); NEXT(); }
#define X_TO_FP(name, fn) \
op_##name: { FP_CHECK(); FP_RM(rm); FD = fn(RS1, rm, &h->fflags); FP_DIRTY(); NEXT(); }
#define FP_CMP(name, fn) \
op_##name: { FP_CHECK(); RD = fn(FS1, FS2, &h->fflags); FP_DIRTY(); NEXT(); }
#define FP_MINMAX(name, fn) \
op_##name: { FP_CHECK(); FD = fn(FS1, FS2, &h->fflags); FP_DIRTY(); NEXT(); }

FP_FMA(FMADD_S, rv_fma_s, 0)
FP_FMA(FMSUB_S, rv_fma_s, 1)
FP_FMA(FNMSUB_S, rv_fma_s, 2)
FP_FMA(FNMADD_S, rv_fma_s, 3)
FP_FMA(FMADD_D, rv_fma_d, 0)
FP_FMA(FMSUB_D, rv_fma_d, 1)
FP_FMA(FNMSUB_D, rv_fma_d, 2)
FP_FMA(FNMADD_D, rv_fma_d, 3)
FP_BIN(FADD_S, rv_fadd_s)
FP_BIN(FSUB_S, rv_fsub_s)
FP_BIN(FMUL_S, rv_fmul_s)
FP_BIN(FDIV_S, rv_fdiv_s)
FP_UN(FSQRT_S, rv_fsqrt_s)
FP_BIN(FADD_D, rv_fadd_d)
FP_BIN(FSUB_D, rv_fsub_d)
FP_BIN(FMUL_D, rv_fmul_d)
FP_BIN(FDIV_D, rv_fdiv_d)
FP_UN(FSQRT_D, rv_fsqrt_d)
op_FSGNJ_S: FP_CHECK(); FD = rv_fsgnj_s(FS1, FS2, ins->imm & 3); FP_DIRTY(); NEXT();
op_FSGNJ_D: FP_CHECK(); FD = rv_fsgnj_d(FS1, FS2, ins->imm & 3); FP_DIRTY(); NEXT();
FP_MINMAX(FMIN_S, rv_fmin_s)
FP_MINMAX(FMAX_S, rv_fmax_s)
FP_MINMAX(FMIN_D, rv_fmin_d)
FP_MINMAX(FMAX_D, rv_fmax_d)
FP_TO_X(FCVT_W_S, rv_fcvt_w_s)
FP_TO_X(FCVT_WU_S, rv_fcvt_wu_s)
FP_TO_X(FCVT_L_S, rv_fcvt_l_s)
FP_TO_X(FCVT_LU_S, rv_fcvt_lu_s)
FP_TO_X(FCVT_W_D, rv_fcvt_w_d)
FP_TO_X(FCVT_WU_D, rv_fcvt_wu_d)
FP_TO_X(FCVT_L_D, rv_fcvt_l_d)
FP_TO_X(FCVT_LU_D, rv_fcvt_lu_d)
X_TO_FP(FCVT_S_W, rv_fcvt_s_w)
X_TO_FP(FCVT_S_WU, rv_fcvt_s_wu)
X_TO_FP(FCVT_S_L, rv_fcvt_s_l)
X_TO_FP(FCVT_S_LU, rv_fcvt_s_lu)
X_TO_FP(FCVT_D_W, rv_fcvt_d_w)
X_TO_FP(FCVT_D_WU, rv_fcvt_d_wu)
X_TO_FP(FCVT_D_L, rv_fcvt_d_l)
X_TO_FP(FCVT_D_LU, rv_fcvt_d_lu)
FP_CMP(FEQ_S, rv_feq_s)
FP_CMP(FLT_S, rv_flt_s)
FP_CMP(FLE_S, rv_fle_s)
FP_CMP(FEQ_D, rv_feq_d)
FP_CMP(FLT_D, rv_flt_d)
FP_CMP(FLE_D, rv_fle_d)
op_FCLASS_S: FP_CHECK(); RD = rv_fclass_s(FS1); NEXT();
op_FCLASS_D: FP_CHECK(); RD = rv_fclass_d(FS1); NEXT();
op_FMV_X_W: FP_CHECK(); RD = (uint64_t)(int64_t)(int32_t)(uint32_t)FS1; NEXT();
op_FMV_X_D: FP_CHECK(); RD = FS1; NEXT();
op_FMV_W_X: FP_CHECK(); FD = rv_f32_box((uint32_t)RS1); FP_DIRTY(); NEXT();
op_FMV_D_X: FP_CHECK(); FD = RS1; FP_DIRTY(); NEXT();
op_FCVT_S_D: { FP_CHECK(); FP_RM(rm); FD = rv_fcvt_s_d(FS1, rm, &h->fflags); FP_DIRTY(); NEXT(); }
op_FCVT_D_S: { FP_CHECK(); FD = rv_fcvt_d_s(FS1, &h->fflags); FP_DIRTY(); NEXT(); }
    return result;
}

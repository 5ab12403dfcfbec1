/* The x86-64 translator (riscv/jit.h, docs/jit.md): a hot decoded block
 * becomes straight x86-64 code. The most used guest registers of a block
 * live in host registers; loads and stores take the TLB inline; integer,
 * M and the common F/D ops (riscv/jit_x86_fp.c) are inline, with the
 * interpreter's helpers (fpu.c, rv_load_slow, ...) out of line for
 * everything rarer. A block is translated up to its first op that insn()
 * does not take; the interpreter runs the rest.
 *
 * Registers inside a block: rbx = the hart + 128 (RBX_BIAS), r12 = the
 * block's virtual start PC, r14d = the chain budget, r15 = instructions
 * run since the trampoline; r13, rbp and r8-r11 hold guest registers
 * (struct tr); rax, rcx, rdx, rsi, rdi are scratch. */
#include "riscv/jit.h"

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "riscv/amo.h"
#include "riscv/csr.h"
#include "riscv/fpu.h"
#include "riscv/hart.h"
#include "riscv/mmu.h"
#include "riscv/jit_x86_tr.h"
#include "riscv/x86_emit.h"

#if defined(__x86_64__)

#define CODE_SIZE (16u << 20)
/* Room one block may need at most: 64 instructions of at most ~300 bytes
 * (an FSD: FP check, TLB probe, code-page check, slow path), the entry
 * checks and the exits. A block that does not fit is left interpreted. */
#define BLOCK_CODE_MAX (RV_BLOCK_MAX_INSNS * 320 + 256)

bool rv_jit_available(void) { return true; }

static void emit_trampoline(struct rv_block_cache *c);

bool rv_jit_room(const struct rv_block_cache *c) { return c->code_size - c->code_used >= BLOCK_CODE_MAX; }

bool rv_jit_buffer_init(struct rv_block_cache *c)
{
    /* Shared anonymous memory, mapped a second time by mremap (old size
     * 0): the same pages, RW for the emitter and RX for execution. (perf
     * sees anonymous code, so VIREO_JIT_PERFMAP works.) */
    void *rw = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (rw == MAP_FAILED)
        return false;
    void *rx = mremap(rw, 0, CODE_SIZE, MREMAP_MAYMOVE);
    if (rx == MAP_FAILED || mprotect(rx, CODE_SIZE, PROT_READ | PROT_EXEC) != 0) {
        if (rx != MAP_FAILED)
            munmap(rx, CODE_SIZE);
        munmap(rw, CODE_SIZE);
        return false;
    }
    c->code_rw = rw;
    c->code_rx = rx;
    c->code_size = CODE_SIZE;
    emit_trampoline(c);
    /* VIREO_JIT_PERFMAP=1: name every block for perf (/tmp/perf-PID.map;
     * with --no-sandbox, since the buffer is usually made under the filter) */
    if (getenv("VIREO_JIT_PERFMAP")) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        c->perf_map = fopen(path, "a");
        if (c->perf_map)
            setvbuf(c->perf_map, NULL, _IOLBF, 0);
    }
    return true;
}

void rv_jit_buffer_free(struct rv_block_cache *c)
{
    if (c->code_rw)
        munmap(c->code_rw, c->code_size);
    if (c->code_rx)
        munmap(c->code_rx, c->code_size);
    if (c->perf_map)
        fclose(c->perf_map);
    c->perf_map = NULL;
    c->code_rw = c->code_rx = NULL;
}

/* ---- translation ---- */

/* A new slow path for instruction idx, or NULL (the block is abandoned:
 * cannot happen with one per instruction and a few per store). */
struct cold *jit_cold_new(struct tr *t, enum cold_kind kind, unsigned idx)
{
    if (t->ncold == sizeof(t->cold) / sizeof(t->cold[0])) {
        t->e.full = true;
        return NULL;
    }
    struct cold *k = &t->cold[t->ncold++];
    *k = (struct cold){ .kind = kind, .idx = idx, .dirty = t->dirty };
    return k;
}

/* jmp rel32 to the trampoline's way back */
static void jmp_exit(struct tr *t)
{
    b1(&t->e, 0xe9);
    int32_t rel = (int32_t)((int64_t)t->c->jit_exit - (int64_t)(t->e.p + 4 - t->c->code_rw));
    d32(&t->e, (uint32_t)rel);
}

/* Host registers that may hold guest registers: callee-saved ones first
 * (calls keep them), then caller-saved ones (pushed around calls). */
static const int reg_pool[] = { R13, RBP, R8, R9, R10, R11 };
#define REG_POOL_SIZE (sizeof(reg_pool) / sizeof(reg_pool[0]))

/* rdi = the hart, for a helper's first argument */
static void hart_arg(struct em *e) { op_m(e, true, 0x8d, RDI, RBX, -RBX_BIAS); }



/* Integer ops compute straight in rd's host register when rd is cached
 * (unless that is also rs2's and rs2 is still to be read: then in rax),
 * else in rax, which store_x then writes to h->x. */
static int dest_reg(const struct tr *t, const struct rv_insn *in, bool reads_rs2)
{
    int h = t->host_of[in->rd];
    if (h < 0 || (reads_rs2 && in->rs2 == in->rd && in->rs1 != in->rd))
        return RAX;
    return h;
}

/* op d, x[i] with a "reg, r/m" ALU opcode (03 add, 2b sub, 33 xor, 0b or,
 * 23 and, 3b cmp): x[i]'s host register, or h->x in memory */
static void op_x(struct tr *t, bool w, uint8_t op, int d, unsigned i)
{
    int h = t->host_of[i];
    if (h < 0)
        op_m(&t->e, w, op, d, RBX, XOFF(i));
    else
        op_r(&t->e, w, op, d, h);
}

/* rd = d, sign-extended from 32 bits for the W ops */
static void finish(struct tr *t, const struct rv_insn *in, int d, bool w)
{
    if (!w)
        movsxd(&t->e, d, d);
    store_x(t, d, in->rd);
}

/* rd = x[rs1] OP x[rs2] (64 or 32 bits); op is the "r/m, reg" opcode
 * (01 add, 29 sub, ...), whose "reg, r/m" twin is op | 2 */
static void alu_rr(struct tr *t, const struct rv_insn *in, bool w, uint8_t op)
{
    int d = dest_reg(t, in, true);
    load_x(t, d, in->rs1);
    op_x(t, w, (uint8_t)(op | 2), d, in->rs2);
    finish(t, in, d, w);
}

static void shift_rr(struct tr *t, const struct rv_insn *in, bool w, unsigned ext)
{
    int d = dest_reg(t, in, true);
    load_x(t, RCX, in->rs2);
    load_x(t, d, in->rs1);
    shift_cl(&t->e, w, ext, d);
    finish(t, in, d, w);
}

static void alu_ri(struct tr *t, const struct rv_insn *in, bool w, unsigned ext)
{
    int d = dest_reg(t, in, false), s1 = t->host_of[in->rs1];
    if (w && ext == 0 && d != RAX && s1 >= 0 && s1 != d) {
        op_m(&t->e, true, 0x8d, d, s1, in->imm); /* lea d, [s1 + imm] */
        t->dirty |= 1ull << in->rd;
        return;
    }
    load_x(t, d, in->rs1);
    if (in->imm || !w || ext != 0)             /* (mv: nothing to add) */
        alu_imm(&t->e, w, ext, d, in->imm);
    finish(t, in, d, w);
}

static void shift_ri(struct tr *t, const struct rv_insn *in, bool w, unsigned ext)
{
    int d = dest_reg(t, in, false);
    load_x(t, d, in->rs1);
    unsigned n = (unsigned)in->imm & (w ? 63 : 31);
    if (n || !w)
        shift_imm(&t->e, w, ext, d, n);
    finish(t, in, d, w);
}

/* flags = x[rs1] - x[rs2] (or - imm), from host registers where they are */
static void cmp_rs(struct tr *t, const struct rv_insn *in, bool imm)
{
    int s1 = in->rs1 ? t->host_of[in->rs1] : -1;
    if (s1 < 0) {
        load_x(t, RAX, in->rs1);
        s1 = RAX;
    }
    if (imm)
        alu_imm(&t->e, true, 7, s1, in->imm);
    else if (in->rs2 == 0)
        op_r(&t->e, true, 0x85, s1, s1);        /* test s1, s1: as cmp s1, 0 */
    else
        op_x(t, true, 0x3b, s1, in->rs2);
}


/* Cached registers written so far back to h->x. */
static void writeback(struct tr *t)
{
    for (unsigned i = 1; i < 32; i++)
        if (t->host_of[i] >= 0 && (t->dirty >> i & 1))
            mov_store(&t->e, t->host_of[i], RBX, XOFF(i));
}



/* h->pc = block start + delta */
static void set_pc(struct tr *t, int64_t delta)
{
    op_m(&t->e, true, 0x8d, RAX, R12, (int32_t)delta); /* lea rax, [r12 + delta] */
    mov_store(&t->e, RAX, RBX, HOFF(pc));
}

static void leave(struct tr *t, int code)
{
    b1(&t->e, 0xb8); /* mov eax, imm32 */
    d32(&t->e, (uint32_t)code);
    jmp_exit(t);
}

/* Leave through fixed exit k to block start + delta: r12 moves there and a
 * patchable jump follows, which first goes to the stub right behind it
 * (tell the run loop which block left where) and later, once the run loop
 * links the successor, straight to the successor's code. */
static void fixed_exit(struct tr *t, unsigned k, int64_t delta)
{
    struct em *e = &t->e;
    writeback(t);
    alu_imm(e, true, 0, R12, (int32_t)delta);   /* add r12, delta */
    uint8_t *site = jmp(e);
    land(e, site);
    if (!e->full)
        t->b->exit_patch[k] = (uint32_t)(site - t->c->code_rw);
    mov_imm(e, RAX, (uint64_t)(uintptr_t)t->b); /* then the shared tail of exit k */
    b1(e, 0xe9);
    d32(e, (uint32_t)(int32_t)((int64_t)t->c->jit_exit_fixed[k] - (int64_t)(e->p + 4 - t->c->code_rw)));
}

/* The exception exit of instruction idx: its PC, instret back by the
 * instructions that did not run (the interpreter's rule). */
void jit_exception_exit(struct tr *t, unsigned idx)
{
    writeback(t);
    set_pc(t, 2 * (int64_t)t->b->insns[idx].off);
    alu_imm(&t->e, true, 5, R15, (int32_t)(t->b->n - idx)); /* sub r15, n - idx */
    leave(t, RV_JIT_EXIT_EXCEPTION);
}

/* rax = x[rs1] + imm; rcx = the TLB entry of that page in set `tlb`;
 * jumps to the returned patch points when the entry does not map it or
 * the access would cross the page. */
static void tlb_probe_at(struct tr *t, unsigned rs1, int32_t imm, int32_t tlb, unsigned size, uint8_t **miss1,
                         uint8_t **miss2)
{
    struct em *e = &t->e;
    load_x(t, RAX, rs1);
    if (imm)
        alu_imm(e, true, 0, RAX, imm);
    mov_rr(e, RDX, RAX);
    shift_imm(e, true, 5, RDX, 12);             /* rdx = va >> 12 */
    mov_rr(e, RCX, RDX);
    alu_imm(e, false, 4, RCX, RV_TLB_SIZE - 1); /* and ecx, 511 */
    shift_imm(e, true, 4, RCX, 4);              /* * sizeof(struct rv_tlb_entry) */
    op_m(e, true, 0x03, RCX, RBX, tlb);         /* add rcx, [rbx+tlb_?_cur] */
    op_m(e, true, 0x3b, RDX, RCX, 0);           /* cmp rdx, [rcx] (tag) */
    *miss1 = jcc(e, CC_NE);
    *miss2 = NULL;
    if (size > 1) {
        op_r(e, false, 0x89, RAX, RDX);         /* mov edx, eax */
        alu_imm(e, false, 4, RDX, 0xfff);
        alu_imm(e, false, 7, RDX, (int32_t)(4096 - size));
        *miss2 = jcc(e, CC_A);
    }
    op_m(e, true, 0x03, RAX, RCX, 8);           /* add rax, [rcx+8]: host address */
}

/* rax = the host address of x[rs1] + imm for an access of `size` bytes
 * (one page), or a jump to *miss1 (TLB miss) / *miss2 (page cross). */
static void tlb_probe(struct tr *t, const struct rv_insn *in, int32_t tlb, unsigned size, uint8_t **miss1,
                      uint8_t **miss2)
{
    tlb_probe_at(t, in->rs1, in->imm, tlb, size, miss1, miss2);
}

/* fp: the destination is f[rd] (FLW boxes its word) */
/* Sign- or zero-extend rax as a load of that size does (loads of the fast
 * path do it as they read). */
static void extend(struct em *e, unsigned size, bool sign)
{
    switch (size * 2 + sign) {
    case 3: op2_r(e, true, 0xbe, RAX, RAX); break;
    case 2: op2_r(e, false, 0xb6, RAX, RAX); break;
    case 5: op2_r(e, true, 0xbf, RAX, RAX); break;
    case 4: op2_r(e, false, 0xb7, RAX, RAX); break;
    case 9: movsxd(e, RAX, RAX); break;
    case 8: op_r(e, false, 0x89, RAX, RAX); break;
    default: break;
    }
}

/* rax = the value at [base + disp], extended as the load does */
static void load_value_at(struct em *e, unsigned size, bool sign, int base, int32_t disp)
{
    switch (size * 2 + sign) {
    case 3: op2_m(e, true, 0xbe, RAX, base, disp); break;  /* movsx rax, byte */
    case 2: op2_m(e, false, 0xb6, RAX, base, disp); break; /* movzx eax, byte */
    case 5: op2_m(e, true, 0xbf, RAX, base, disp); break;
    case 4: op2_m(e, false, 0xb7, RAX, base, disp); break;
    case 9: op_m(e, true, 0x63, RAX, base, disp); break;   /* movsxd */
    case 8: op_m(e, false, 0x8b, RAX, base, disp); break;  /* mov eax (zero-extends) */
    default: op_m(e, true, 0x8b, RAX, base, disp); break;
    }
}

/* rd (x, or f with FLW's word boxed) = rax */
static void load_result(struct tr *t, const struct rv_insn *in, unsigned size, bool fp)
{
    if (fp && size == 4) {
        mov_imm(&t->e, RCX, 0xffffffff00000000ull);
        op_r(&t->e, true, 0x09, RCX, RAX);      /* or rax, rcx */
    }
    if (fp)
        store_f(t, RAX, in->rd);
    else
        store_x(t, RAX, in->rd);
}

/* fp: the destination is f[rd] (FLW boxes its word). The TLB miss and the
 * page-crossing access go to the slow path behind the block. */
static void load_op(struct tr *t, unsigned idx, unsigned size, bool sign, bool fp)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    struct cold *k = jit_cold_new(t, COLD_LOAD, idx);
    if (!k)
        return;
    k->size = size;
    k->sign = sign;
    uint8_t *m1, *m2;
    tlb_probe(t, in, HOFF(tlb_r_cur), size, &m1, &m2);
    k->from[k->nfrom++] = m1;
    if (m2)
        k->from[k->nfrom++] = m2;
    load_value_at(e, size, sign, RAX, 0);
    k->resume = e->p;
    load_result(t, in, size, fp);
}

/* rsi = the access's virtual address, x[rs1] + imm */
static void slow_va(struct tr *t, const struct rv_insn *in)
{
    load_x(t, RSI, in->rs1);
    if (in->imm)
        alu_imm(&t->e, true, 0, RSI, in->imm);
}

/* fn(h, rsi, rdx, rcx) -> bool, the caller-saved guest registers kept
 * around it; false takes instruction idx's exception exit (the helper has
 * set exc_cause/exc_tval). */
static void call_checked(struct tr *t, unsigned idx, const void *fn)
{
    struct em *e = &t->e;
    push_saved(t);
    hart_arg(e);
    call(e, fn);
    pop_saved(t);
    b1(e, 0x84);                                /* test al, al */
    b1(e, 0xc0);
    uint8_t *ok = jcc(e, CC_NE);
    jit_exception_exit(t, idx);
    land(e, ok);
}

/* The load's slow path: rv_load_slow(h, va, size, &h->jit_tmp), then back
 * with the value in rax. */
static void load_slow(struct tr *t, unsigned idx, unsigned size, bool sign)
{
    struct em *e = &t->e;
    slow_va(t, &t->b->insns[idx]);
    b1(e, 0xba);                                /* mov edx, size */
    d32(e, size);
    op_m(e, true, 0x8d, RCX, RBX, HOFF(jit_tmp)); /* lea rcx, [rbx+jit_tmp] */
    call_checked(t, idx, (const void *)rv_load_slow);
    mov_load(e, RAX, RBX, HOFF(jit_tmp));
    extend(e, size, sign);
}

static void load_cold(struct tr *t, const struct cold *k) { load_slow(t, k->idx, k->size, k->sign); }

/* fp: the value comes from f[rs2] */
/* [rax] = the value of rs2 (x or f), as wide as the access */
static void store_value_at(struct tr *t, const struct rv_insn *in, unsigned size, bool fp, int base, int32_t disp)
{
    struct em *e = &t->e;
    (fp ? load_f : load_x)(t, RCX, in->rs2);
    switch (size) {
    case 1: op_m(e, false, 0x88, RCX, base, disp); break;
    case 2: b1(e, 0x66); op_m(e, false, 0x89, RCX, base, disp); break;
    case 4: op_m(e, false, 0x89, RCX, base, disp); break;
    default: op_m(e, true, 0x89, RCX, base, disp); break;
    }
}

static void store_value(struct tr *t, const struct rv_insn *in, unsigned size, bool fp)
{
    store_value_at(t, in, size, fp, RAX, 0);
}

/* After a store that retired decoded code: if that was this block's page,
 * leave before the next instruction. (Blocks are entered checked by the
 * run loop and the JALR lookup; the exits linked from here lead into this
 * same page, which is now stale. Another hart's store is noticed within
 * the budget of blocks, as FENCE.I and its IPIs require nothing sooner.) */
static void stale_exit_check(struct tr *t, unsigned idx)
{
    struct em *e = &t->e;
    mov_imm(e, RAX, (uint64_t)(uintptr_t)&t->sys->code.gen[t->b->page]);
    b1(e, 0x81);                                /* cmp dword [rax], gen */
    mem(e, 7, RAX, 0);
    d32(e, t->b->gen);
    uint8_t *same = jcc(e, CC_E);
    writeback(t);
    set_pc(t, 2 * (int64_t)t->b->insns[idx + 1].off);
    alu_imm(e, true, 5, R15, (int32_t)(t->b->n - (idx + 1))); /* the rest did not run */
    leave(t, RV_JIT_EXIT_DYNAMIC);
    land(e, same);
}

/* Does the RAM page of host address rax hold decoded code? Leaves the page
 * in rdx; returns the jump taken when it does. */
static uint8_t *code_page_test(struct tr *t)
{
    struct em *e = &t->e;
    mov_rr(e, RDX, RAX);
    mov_imm(e, RCX, (uint64_t)(uintptr_t)t->sys->bus.ram);
    op_r(e, true, 0x29, RCX, RDX);              /* sub rdx, rcx */
    shift_imm(e, true, 5, RDX, 12);
    mov_imm(e, RCX, (uint64_t)(uintptr_t)t->sys->code.has_code);
    b1(e, 0x80);                                /* cmp byte [rcx+rdx], 0 */
    b1(e, 0x3c);
    b1(e, 0x11);
    b1(e, 0x00);
    return jcc(e, CC_NE);
}

/* fp: the value comes from f[rs2]. The TLB miss, the page-crossing
 * access and the store into a page that holds decoded code go to slow
 * paths behind the block. */
static void store_op(struct tr *t, unsigned idx, unsigned size, bool fp)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    struct cold *k = jit_cold_new(t, COLD_STORE, idx), *kc = jit_cold_new(t, COLD_CODE_PAGE, idx);
    if (!k || !kc)
        return;
    k->size = kc->size = size;
    k->fp = kc->fp = fp;
    uint8_t *m1, *m2;
    tlb_probe(t, in, HOFF(tlb_w_cur), size, &m1, &m2);
    k->from[k->nfrom++] = m1;
    if (m2)
        k->from[k->nfrom++] = m2;
    /* A page that holds decoded code: retire its blocks first
     * (rv_code_check_store). */
    kc->from[kc->nfrom++] = code_page_test(t);
    store_value(t, in, size, fp);
    k->resume = kc->resume = e->p;
}

/* The store into a code page: retire the page, store, leave if it was this
 * block's page. rax = the host address, rdx = the RAM page. */
static void code_page_cold(struct tr *t, const struct cold *k)
{
    struct em *e = &t->e;
    b1(e, 0x50);                                /* push rax (twice: keeps rsp 16-aligned) */
    b1(e, 0x50);
    push_saved(t);
    mov_imm(e, RDI, (uint64_t)(uintptr_t)t->sys);
    mov_rr(e, RSI, RDX);
    call(e, (const void *)rv_code_invalidate_page);
    pop_saved(t);
    b1(e, 0x58);                                /* pop rax */
    b1(e, 0x58);
    store_value(t, &t->b->insns[k->idx], k->size, k->fp);
    stale_exit_check(t, k->idx);
}

/* The store's slow path: rv_store_slow(h, va, size, value). */
static void store_slow(struct tr *t, unsigned idx, unsigned size, bool fp)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    slow_va(t, in);
    (fp ? load_f : load_x)(t, RCX, in->rs2);
    b1(e, 0xba);                                /* mov edx, size */
    d32(e, size);
    switch (size) { /* the value as the access's width holds it */
    case 1: op2_r(e, false, 0xb6, RCX, RCX); break;
    case 2: op2_r(e, false, 0xb7, RCX, RCX); break;
    case 4: op_r(e, false, 0x89, RCX, RCX); break;
    default: break;
    }
    call_checked(t, idx, (const void *)rv_store_slow);
    stale_exit_check(t, idx); /* (the slow path may have stored into code too) */
}

static void store_cold(struct tr *t, const struct cold *k) { store_slow(t, k->idx, k->size, k->fp); }


/* What a load or store op accesses; false for any other op. */
static bool mem_op(enum rv_op op, unsigned *size, bool *sign, bool *fp, bool *store)
{
    static const struct { enum rv_op op; uint8_t size; bool sign, fp, store; } m[] = {
        { RV_OP_LB, 1, true, false, false },  { RV_OP_LH, 2, true, false, false },
        { RV_OP_LW, 4, true, false, false },  { RV_OP_LD, 8, false, false, false },
        { RV_OP_LBU, 1, false, false, false }, { RV_OP_LHU, 2, false, false, false },
        { RV_OP_LWU, 4, false, false, false }, { RV_OP_FLW, 4, false, true, false },
        { RV_OP_FLD, 8, false, true, false },  { RV_OP_SB, 1, false, false, true },
        { RV_OP_SH, 2, false, false, true },  { RV_OP_SW, 4, false, false, true },
        { RV_OP_SD, 8, false, false, true },  { RV_OP_FSW, 4, false, true, true },
        { RV_OP_FSD, 8, false, true, true },
    };
    *size = 0, *sign = *fp = *store = false;
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (m[i].op == op) {
            *size = m[i].size, *sign = m[i].sign, *fp = m[i].fp, *store = m[i].store;
            return true;
        }
    return false;
}

/* A group: consecutive loads (or stores) off the same base register, all
 * integer or all FP, within one page's span, the base written by none but
 * the last. They share one TLB probe, one page check and (stores) one
 * code-page test; each is then one move at its offset: a function's saved
 * registers, an unrolled copy. Returns how many start at i (1: no group). */
static unsigned group_len(const struct tr *t, const uint8_t *ops, unsigned i)
{
    unsigned size;
    bool sign, fp0, fp, store0, store;
    const struct rv_insn *in = &t->b->insns[i];
    if (!mem_op((enum rv_op)ops[i], &size, &sign, &fp0, &store0) || in->rs1 == 0 ||
        (!store0 && !fp0 && in->rd == in->rs1))
        return 1;
    unsigned base = in->rs1, n = 1;
    int32_t lo = in->imm, hi = in->imm + (int32_t)size;
    while (i + n < t->b->n) {
        in = &t->b->insns[i + n];
        if (!mem_op((enum rv_op)ops[i + n], &size, &sign, &fp, &store) || store != store0 || fp != fp0 ||
            in->rs1 != base)
            break;
        int32_t l2 = in->imm < lo ? in->imm : lo, h2 = in->imm + (int32_t)size > hi ? in->imm + (int32_t)size : hi;
        if (h2 - l2 > 4096)
            break;
        lo = l2, hi = h2, n++;
        if (!store && !fp && in->rd == base)
            break; /* the base changes after it */
    }
    return n;
}

static void group_span(const struct tr *t, const uint8_t *ops, unsigned i, unsigned n, int32_t *lo, int32_t *hi)
{
    *lo = INT32_MAX, *hi = INT32_MIN;
    for (unsigned m = i; m < i + n; m++) {
        unsigned size;
        bool sign, fp, store;
        mem_op((enum rv_op)ops[m], &size, &sign, &fp, &store);
        const struct rv_insn *in = &t->b->insns[m];
        *lo = in->imm < *lo ? in->imm : *lo;
        *hi = in->imm + (int32_t)size > *hi ? in->imm + (int32_t)size : *hi;
    }
}

static void mem_group(struct tr *t, const uint8_t *ops, unsigned i, unsigned n)
{
    struct em *e = &t->e;
    unsigned size;
    bool sign, fp, store;
    mem_op((enum rv_op)ops[i], &size, &sign, &fp, &store);
    if (fp)
        jit_fp_check(t, i); /* (all members are FP: the first one traps) */
    int32_t lo, hi;
    group_span(t, ops, i, n, &lo, &hi);
    struct cold *k = jit_cold_new(t, COLD_GROUP, i);
    if (!k)
        return;
    k->size = n;
    uint8_t *m1, *m2;
    tlb_probe_at(t, t->b->insns[i].rs1, lo, store ? HOFF(tlb_w_cur) : HOFF(tlb_r_cur), (unsigned)(hi - lo), &m1,
                 &m2);
    k->from[k->nfrom++] = m1;
    if (m2)
        k->from[k->nfrom++] = m2;
    if (store)
        k->from[k->nfrom++] = code_page_test(t);
    mov_rr(e, RDI, RAX);                        /* rdi = the host address of x[base] + lo */
    if (fp && !store)
        jit_fp_dirty(t);                            /* (every member now completes) */
    for (unsigned m = i; m < i + n; m++) {
        const struct rv_insn *in = &t->b->insns[m];
        mem_op((enum rv_op)ops[m], &size, &sign, &fp, &store);
        if (store) {
            store_value_at(t, in, size, fp, RDI, in->imm - lo);
        } else {
            load_value_at(e, size, sign, RDI, in->imm - lo);
            load_result(t, in, size, fp);
        }
    }
    k->resume = e->p;
}

/* A group's slow path (TLB miss, crossing a page, a code page): every
 * member through the interpreter's slow path, in order. */
static void group_cold(struct tr *t, const struct cold *k)
{
    for (unsigned m = k->idx; m < k->idx + k->size; m++) {
        unsigned size;
        bool sign, fp, store;
        mem_op((enum rv_op)t->ops[m], &size, &sign, &fp, &store);
        if (store) {
            store_slow(t, m, size, fp);
        } else {
            load_slow(t, m, size, sign);
            load_result(t, &t->b->insns[m], size, fp);
            if (fp)
                jit_fp_dirty_now(t);
        }
    }
}

/* Back to the block's own start without leaving: what a block entry
 * checks (events, the budget, the page), with the run counted in r15, or
 * out through the run loop at the block's start. */
static void loop_back(struct tr *t)
{
    struct em *e = &t->e;
    b1(e, 0x83);                                /* cmp dword [rbx+events], 0 */
    mem(e, 7, RBX, HOFF(events));
    b1(e, 0x00);
    uint8_t *ev = jcc(e, CC_NE);
    mov_imm(e, RAX, (uint64_t)(uintptr_t)&t->sys->code.gen[t->b->page]);
    b1(e, 0x81);                                /* cmp dword [rax], gen */
    mem(e, 7, RAX, 0);
    d32(e, t->b->gen);
    uint8_t *stale = jcc(e, CC_NE);
    alu_imm(e, false, 5, R14, 1);               /* sub r14d, 1: the budget */
    uint8_t *spent = jcc(e, CC_B);
    alu_imm(e, true, 0, R15, (int32_t)t->b->n); /* add r15, n: instret */
    b1(e, 0xe9);                                /* jmp body */
    int32_t rel = (int32_t)(t->body - (e->p + 4));
    d32(e, (uint32_t)rel);
    land(e, ev);
    land(e, spent);
    land(e, stale);
    writeback(t);
    mov_store(e, R12, RBX, HOFF(pc));
    leave(t, RV_JIT_EXIT_DYNAMIC);
}

static void branch(struct tr *t, const struct rv_insn *in, unsigned cc_skip)
{
    cmp_rs(t, in, false);
    uint8_t *skip = jcc(&t->e, cc_skip);
    int64_t delta = 2 * (int64_t)in->off + in->imm;
    if (t->loop && delta == 0)
        loop_back(t);
    else
        fixed_exit(t, RV_JIT_EXIT_TAKEN, delta);
    land(&t->e, skip);
}

/* One-operand group-3 op on r: ext 3 neg, 4 mul, 5 imul, 6 div, 7 idiv */
static void grp3(struct em *e, bool w, unsigned ext, int r)
{
    rex(e, w, 0, r);
    b1(e, 0xf7);
    b1(e, (uint8_t)(0xc0 | (ext << 3) | (r & 7)));
}

/* MULH, MULHSU, MULHU: the high half that x86's one-operand multiply
 * leaves in rdx. MULHSU multiplies unsigned and corrects: a negative a
 * is a + 2^64, so the high half is b too large. */
static void mul_high(struct tr *t, const struct rv_insn *in, enum rv_op op)
{
    struct em *e = &t->e;
    load_x(t, RAX, in->rs1);
    load_x(t, RCX, in->rs2);
    if (op == RV_OP_MULHSU)
        mov_rr(e, RSI, RAX);
    grp3(e, true, op == RV_OP_MULH ? 5 : 4, RCX);
    if (op == RV_OP_MULHSU) {
        shift_imm(e, true, 7, RSI, 63);         /* sar rsi, 63 */
        op_r(e, true, 0x21, RCX, RSI);          /* and rsi, rcx */
        op_r(e, true, 0x29, RSI, RDX);          /* sub rdx, rsi */
    }
    store_x(t, RDX, in->rd);
}

/* DIV[U][W] and REM[U][W] inline. RISC-V defines the two cases x86 traps
 * on: x / 0 = all ones and x % 0 = x; MIN / -1 = MIN and MIN % -1 = 0
 * (negation and zero also give those for every other dividend). */
static void divide(struct tr *t, const struct rv_insn *in, bool sign, bool rem, bool w)
{
    struct em *e = &t->e;
    load_x(t, RAX, in->rs1);
    load_x(t, RCX, in->rs2);
    op_r(e, w, 0x85, RCX, RCX);                 /* test rcx, rcx */
    uint8_t *by_zero = jcc(e, CC_E), *by_minus1 = NULL;
    if (sign) {
        alu_imm(e, w, 7, RCX, -1);              /* cmp rcx, -1 */
        by_minus1 = jcc(e, CC_E);
        if (w)
            b1(e, 0x48);
        b1(e, 0x99);                            /* cqo / cdq */
    } else {
        op_r(e, false, 0x31, RDX, RDX);         /* xor edx, edx */
    }
    grp3(e, w, sign ? 7 : 6, RCX);
    if (rem)
        mov_rr(e, RAX, RDX);
    uint8_t *done = jmp(e), *done2 = NULL;
    land(e, by_zero);
    if (!rem)
        mov_imm(e, RAX, ~0ull);                 /* the remainder is the dividend, in rax */
    if (sign) {
        done2 = jmp(e);
        land(e, by_minus1);
        if (rem)
            op_r(e, false, 0x31, RAX, RAX);
        else
            grp3(e, w, 3, RAX);                 /* neg */
    }
    land(e, done);
    land(e, done2);
    if (!w)
        movsxd(e, RAX, RAX);
    store_x(t, RAX, in->rd);
}

static void compare(struct tr *t, const struct rv_insn *in, bool imm, unsigned cc)
{
    cmp_rs(t, in, imm);
    setcc_rax(&t->e, cc);
    store_x(t, RAX, in->rd);
}

/* The slow paths, behind the block's last instruction, each jumping back
 * to where its fast path goes on. */
static void emit_cold(struct tr *t)
{
    for (unsigned i = 0; i < t->ncold; i++) {
        struct cold *k = &t->cold[i];
        for (unsigned j = 0; j < k->nfrom; j++)
            land(&t->e, k->from[j]);
        t->dirty = k->dirty; /* what an exception exit in it must write back */
        switch (k->kind) {
        case COLD_FP: jit_fp_cold(t, k); break;
        case COLD_LOAD: load_cold(t, k); break;
        case COLD_STORE: store_cold(t, k); break;
        case COLD_CODE_PAGE: code_page_cold(t, k); break;
        case COLD_GROUP: group_cold(t, k); break;
        }
        uint8_t *back = jmp(&t->e);
        if (!t->e.full) {
            int32_t rel = (int32_t)(k->resume - (back + 4));
            memcpy(back, &rel, 4);
        }
    }
}

/* Where JALR goes on (called from translated code): the code of the block
 * at h->pc when it is decoded, current and translated; else NULL, and the
 * run loop takes over at h->pc. The target block's entry checks events,
 * the budget and its page as after a patched exit. */
static void *jit_find(struct rv_hart *h)
{
    uint64_t paddr;
    if (!rv_fetch_ptr(h, h->pc, &paddr))
        return NULL;
    struct rv_block *b = rv_bcache_lookup(h->blocks, &h->sys->code, paddr);
    return b ? b->code : NULL;
}

/* An op the interpreter's code runs, called as fn(h, op, in) (rv_csr_insn,
 * rv_amo_insn): it reads its sources from h->x and writes x[rd] there. */
static void interp_call(struct tr *t, unsigned idx, enum rv_op op, const void *fn)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    writeback(t);
    b1(e, 0xbe);                                /* mov esi, op */
    d32(e, (uint32_t)op);
    mov_imm(e, RDX, (uint64_t)(uintptr_t)in);
    call_checked(t, idx, fn);
    if (t->host_of[in->rd] >= 0) {
        mov_load(e, t->host_of[in->rd], RBX, XOFF(in->rd));
        t->dirty |= 1ull << in->rd;
    }
}

/* One instruction; false if the JIT does not translate its op. */
static bool insn(struct tr *t, unsigned idx, enum rv_op op)
{
    const struct rv_insn *in = &t->b->insns[idx];
    struct em *e = &t->e;
    int64_t here = 2 * (int64_t)in->off;
    /* the next instruction's PC (JAL and JALR link to it; they are never
     * the terminator, so insns[idx + 1] exists) */
    int64_t next = op == RV_OP_JAL || op == RV_OP_JALR ? 2 * (int64_t)t->b->insns[idx + 1].off : 0;
    switch (op) {
    case RV_OP_NOP: return true;
    case RV_OP_FENCE:
        /* as the interpreter: x86 keeps every order but store -> load */
        if ((in->imm & 0x10) && (in->imm & 0x2)) {
            b1(e, 0x0f);                        /* mfence */
            b1(e, 0xae);
            b1(e, 0xf0);
        }
        return true;
    case RV_OP_PAUSE:
        /* as the interpreter: a host pause, and every 16th time the host
         * CPU given away (a spinning guest gains nothing by spinning on
         * while the lock holder's thread waits for a CPU) */
        b1(e, 0xf3);                            /* pause */
        b1(e, 0x90);
        b1(e, 0xff);                            /* inc dword [rbx+pause_count] */
        mem(e, 0, RBX, HOFF(pause_count));
        b1(e, 0xf6);                            /* test byte [rbx+pause_count], 15 */
        mem(e, 0, RBX, HOFF(pause_count));
        b1(e, 15);
        {
            uint8_t *spin = jcc(e, CC_NE);
            push_saved(t);
            call(e, (const void *)sched_yield);
            pop_saved(t);
            land(e, spin);
        }
        return true;
    case RV_OP_LUI: {
        int d = dest_reg(t, in, false);
        mov_imm(e, d, (uint64_t)(int64_t)in->imm);
        store_x(t, d, in->rd);
        return true;
    }
    case RV_OP_AUIPC:
        mov_imm(e, RAX, (uint64_t)(here + in->imm));
        op_r(e, true, 0x01, R12, RAX); /* add rax, r12 */
        store_x(t, RAX, in->rd);
        return true;
    case RV_OP_JAL:
        mov_imm(e, RAX, (uint64_t)next);
        op_r(e, true, 0x01, R12, RAX);
        store_x(t, RAX, in->rd);
        if (t->loop && here + in->imm == 0)
            loop_back(t);
        else
            fixed_exit(t, RV_JIT_EXIT_TAKEN, here + in->imm);
        return true;
    case RV_OP_JALR: {
        load_x(t, RDX, in->rs1);
        if (in->imm)
            alu_imm(e, true, 0, RDX, in->imm);
        alu_imm(e, true, 4, RDX, -2);
        mov_store(e, RDX, RBX, HOFF(pc));
        mov_imm(e, RAX, (uint64_t)next);
        op_r(e, true, 0x01, R12, RAX);
        store_x(t, RAX, in->rd);
        writeback(t);
        /* straight on into the target's code when it has some */
        hart_arg(e);
        call(e, (const void *)jit_find);
        op_r(e, true, 0x85, RAX, RAX);          /* test rax, rax */
        uint8_t *none = jcc(e, CC_E);
        mov_load(e, R12, RBX, HOFF(pc));
        b1(e, 0xff);                            /* jmp rax */
        b1(e, 0xe0);
        land(e, none);
        leave(t, RV_JIT_EXIT_DYNAMIC);
        return true;
    }
    case RV_OP_BLOCK_END:
        fixed_exit(t, RV_JIT_EXIT_FALLTHROUGH, here);
        return true;
    case RV_OP_BEQ: branch(t, in, CC_NE); return true;
    case RV_OP_BNE: branch(t, in, CC_E); return true;
    case RV_OP_BLT: branch(t, in, CC_GE); return true;
    case RV_OP_BGE: branch(t, in, CC_L); return true;
    case RV_OP_BLTU: branch(t, in, CC_AE); return true;
    case RV_OP_BGEU: branch(t, in, CC_B); return true;
    case RV_OP_LB: load_op(t, idx, 1, true, false); return true;
    case RV_OP_LH: load_op(t, idx, 2, true, false); return true;
    case RV_OP_LW: load_op(t, idx, 4, true, false); return true;
    case RV_OP_LD: load_op(t, idx, 8, false, false); return true;
    case RV_OP_LBU: load_op(t, idx, 1, false, false); return true;
    case RV_OP_LHU: load_op(t, idx, 2, false, false); return true;
    case RV_OP_LWU: load_op(t, idx, 4, false, false); return true;
    case RV_OP_SB: store_op(t, idx, 1, false); return true;
    case RV_OP_SH: store_op(t, idx, 2, false); return true;
    case RV_OP_SW: store_op(t, idx, 4, false); return true;
    case RV_OP_SD: store_op(t, idx, 8, false); return true;
    case RV_OP_ADDI: alu_ri(t, in, true, 0); return true;
    case RV_OP_XORI: alu_ri(t, in, true, 6); return true;
    case RV_OP_ORI: alu_ri(t, in, true, 1); return true;
    case RV_OP_ANDI: alu_ri(t, in, true, 4); return true;
    case RV_OP_SLTI: compare(t, in, true, CC_L); return true;
    case RV_OP_SLTIU: compare(t, in, true, CC_B); return true;
    case RV_OP_SLLI: shift_ri(t, in, true, 4); return true;
    case RV_OP_SRLI: shift_ri(t, in, true, 5); return true;
    case RV_OP_SRAI: shift_ri(t, in, true, 7); return true;
    case RV_OP_ADD: alu_rr(t, in, true, 0x01); return true;
    case RV_OP_SUB: alu_rr(t, in, true, 0x29); return true;
    case RV_OP_XOR: alu_rr(t, in, true, 0x31); return true;
    case RV_OP_OR: alu_rr(t, in, true, 0x09); return true;
    case RV_OP_AND: alu_rr(t, in, true, 0x21); return true;
    case RV_OP_SLL: shift_rr(t, in, true, 4); return true;
    case RV_OP_SRL: shift_rr(t, in, true, 5); return true;
    case RV_OP_SRA: shift_rr(t, in, true, 7); return true;
    case RV_OP_SLT: compare(t, in, false, CC_L); return true;
    case RV_OP_SLTU: compare(t, in, false, CC_B); return true;
    case RV_OP_ADDIW: alu_ri(t, in, false, 0); return true;
    case RV_OP_SLLIW: shift_ri(t, in, false, 4); return true;
    case RV_OP_SRLIW: shift_ri(t, in, false, 5); return true;
    case RV_OP_SRAIW: shift_ri(t, in, false, 7); return true;
    case RV_OP_ADDW: alu_rr(t, in, false, 0x01); return true;
    case RV_OP_SUBW: alu_rr(t, in, false, 0x29); return true;
    case RV_OP_SLLW: shift_rr(t, in, false, 4); return true;
    case RV_OP_SRLW: shift_rr(t, in, false, 5); return true;
    case RV_OP_SRAW: shift_rr(t, in, false, 7); return true;
    case RV_OP_MUL:
    case RV_OP_MULW: {
        int d = dest_reg(t, in, true), h2 = t->host_of[in->rs2];
        load_x(t, d, in->rs1);
        if (h2 < 0)                             /* imul d, x[rs2] */
            op2_m(e, op == RV_OP_MUL, 0xaf, d, RBX, XOFF(in->rs2));
        else
            op2_r(e, op == RV_OP_MUL, 0xaf, d, h2);
        finish(t, in, d, op == RV_OP_MUL);
        return true;
    }
    case RV_OP_MULH: case RV_OP_MULHSU: case RV_OP_MULHU: mul_high(t, in, op); return true;
    case RV_OP_DIV: divide(t, in, true, false, true); return true;
    case RV_OP_DIVU: divide(t, in, false, false, true); return true;
    case RV_OP_REM: divide(t, in, true, true, true); return true;
    case RV_OP_REMU: divide(t, in, false, true, true); return true;
    case RV_OP_DIVW: divide(t, in, true, false, false); return true;
    case RV_OP_DIVUW: divide(t, in, false, false, false); return true;
    case RV_OP_REMW: divide(t, in, true, true, false); return true;
    case RV_OP_REMUW: divide(t, in, false, true, false); return true;
    case RV_OP_FLW: jit_fp_check(t, idx); load_op(t, idx, 4, false, true); jit_fp_dirty(t); return true;
    case RV_OP_FLD: jit_fp_check(t, idx); load_op(t, idx, 8, false, true); jit_fp_dirty(t); return true;
    case RV_OP_FSW: jit_fp_check(t, idx); store_op(t, idx, 4, true); return true;
    case RV_OP_FSD: jit_fp_check(t, idx); store_op(t, idx, 8, true); return true;
    case RV_OP_FMV_X_W: case RV_OP_FMV_X_D: case RV_OP_FMV_W_X: case RV_OP_FMV_D_X:
        jit_fp_move(t, idx, op);
        return true;
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
        /* only the FP CSRs, inside a block */
        if (!rv_csr_is_fp((unsigned)in->imm & 0xfff))
            return false;
        interp_call(t, idx, op, (const void *)rv_csr_insn);
        return true;
    default:
        if (rv_amo_op(op)) {
            interp_call(t, idx, op, (const void *)rv_amo_insn);
            /* an SC or AMO into this block's own page ends it, as a store does */
            if (op != RV_OP_LR_W && op != RV_OP_LR_D)
                stale_exit_check(t, idx);
            return true;
        }
        return jit_fp_op(t, idx, op);
    }
}

/* Leave from a block's entry, before it did anything: the run loop goes
 * on at the block's start. */
static void entry_exit(struct tr *t, uint8_t *from)
{
    land(&t->e, from);
    mov_store(&t->e, R12, RBX, HOFF(pc));
    leave(t, RV_JIT_EXIT_DYNAMIC);
}

/* Which integer registers an op reads and writes (bit i: x[i]). Reads
 * must be a superset of what its code reads and writes a subset of what it
 * writes: which cached registers are loaded at entry depends on it. */
static void x_uses(enum rv_op op, const struct rv_insn *in, uint64_t *rd_mask, uint64_t *wr_mask)
{
    uint64_t s1 = 1ull << in->rs1, s2 = 1ull << in->rs2, d = 1ull << in->rd, r = s1 | s2, w = 0;
    switch (op) {
    case RV_OP_NOP: case RV_OP_BLOCK_END: r = 0; break;
    case RV_OP_LUI: case RV_OP_AUIPC: case RV_OP_JAL:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
    case RV_OP_FMV_X_W: case RV_OP_FMV_X_D: case RV_OP_FCLASS_S: case RV_OP_FCLASS_D:
    case RV_OP_FEQ_S: case RV_OP_FLT_S: case RV_OP_FLE_S: case RV_OP_FEQ_D: case RV_OP_FLT_D: case RV_OP_FLE_D:
    case RV_OP_FCVT_W_S: case RV_OP_FCVT_WU_S: case RV_OP_FCVT_L_S: case RV_OP_FCVT_LU_S:
    case RV_OP_FCVT_W_D: case RV_OP_FCVT_WU_D: case RV_OP_FCVT_L_D: case RV_OP_FCVT_LU_D:
        r = 0; w = d; break;
    case RV_OP_JALR:
    case RV_OP_LB: case RV_OP_LH: case RV_OP_LW: case RV_OP_LD: case RV_OP_LBU: case RV_OP_LHU: case RV_OP_LWU:
    case RV_OP_ADDI: case RV_OP_XORI: case RV_OP_ORI: case RV_OP_ANDI: case RV_OP_SLTI: case RV_OP_SLTIU:
    case RV_OP_SLLI: case RV_OP_SRLI: case RV_OP_SRAI: case RV_OP_ADDIW: case RV_OP_SLLIW: case RV_OP_SRLIW:
    case RV_OP_SRAIW:
        r = s1; w = d; break;
    case RV_OP_ADD: case RV_OP_SUB: case RV_OP_XOR: case RV_OP_OR: case RV_OP_AND: case RV_OP_SLL: case RV_OP_SRL:
    case RV_OP_SRA: case RV_OP_SLT: case RV_OP_SLTU: case RV_OP_ADDW: case RV_OP_SUBW: case RV_OP_SLLW:
    case RV_OP_SRLW: case RV_OP_SRAW: case RV_OP_MUL: case RV_OP_MULW: case RV_OP_MULH: case RV_OP_MULHSU:
    case RV_OP_MULHU: case RV_OP_DIV: case RV_OP_DIVU: case RV_OP_REM: case RV_OP_REMU: case RV_OP_DIVW:
    case RV_OP_DIVUW: case RV_OP_REMW: case RV_OP_REMUW: case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
        w = d; break;
    default:
        /* LR/SC and AMOs: rs1 and rs2 read, rd written. Branches, stores,
         * FP loads, stores and arithmetic: no integer register written;
         * rs1/rs2 read (for FP ops a harmless superset) */
        if (rv_amo_op(op))
            w = d;
        break;
    }
    /* x0 reads as zero from h->x; x32 takes writes to x0: neither is cached */
    *rd_mask = r & ~(1ull | 1ull << 32);
    *wr_mask = w & ~(1ull | 1ull << 32);
}

/* Choose the guest registers this block keeps in host registers: the most
 * used ones (at least twice, or once in a loop), up to the pool's size. Returns the mask of
 * those the block reads before it writes them (loaded at entry). */
static uint64_t choose_registers(struct tr *t, const uint8_t *ops)
{
    unsigned count[33] = { 0 };
    uint64_t read_first = 0, seen = 0;
    for (unsigned i = 0; i < t->b->n; i++) {
        uint64_t r, w;
        x_uses((enum rv_op)ops[i], &t->b->insns[i], &r, &w);
        read_first |= r & ~seen;
        seen |= r | w;
        for (unsigned j = 1; j < 32; j++)
            count[j] += (unsigned)((r | w) >> j & 1);
    }
    memset(t->host_of, -1, sizeof(t->host_of));
    t->saved = 0;
    uint64_t load = 0;
    /* in a loop a register used once per run (an accumulator) is worth it */
    unsigned min_uses = t->loop ? 1 : 2;
    for (unsigned k = 0; k < REG_POOL_SIZE; k++) {
        unsigned best = 0;
        for (unsigned j = 1; j < 32; j++)
            if (t->host_of[j] < 0 && count[j] >= min_uses && count[j] > count[best])
                best = j;
        if (!best)
            break;
        t->host_of[best] = (int8_t)reg_pool[k];
        if (reg_pool[k] >= R8 && reg_pool[k] <= R11)
            t->saved |= (uint16_t)(1u << reg_pool[k]);
        /* a loop loads them all and writes them all back at exits: at an
         * exit in a later run, each holds its value of the run before */
        load |= (t->loop ? ~0ull : read_first) & (1ull << best);
    }
    if (t->loop)
        t->dirty = load;
    return load;
}

/* Fault the code buffer in ahead of the emitter, 512 KiB at a time in both
 * views: one madvise instead of a page fault per page and view (a boot
 * translates some 10 MiB). Best effort: without it pages fault singly. */
static void populate(struct rv_block_cache *c)
{
    enum { CHUNK = 512 << 10 };
    while (c->code_populated < c->code_size && c->code_used + BLOCK_CODE_MAX > c->code_populated) {
        size_t n = c->code_size - c->code_populated < CHUNK ? c->code_size - c->code_populated : CHUNK;
        madvise(c->code_rw + c->code_populated, n, MADV_POPULATE_WRITE);
        madvise(c->code_rx + c->code_populated, n, MADV_POPULATE_READ);
        c->code_populated += n;
    }
}

void rv_jit_translate(struct rv_hart *h, struct rv_block *b, const uint8_t *ops)
{
    struct rv_block_cache *c = h->blocks;
    b->code = NULL;
    b->exit_patch[0] = b->exit_patch[1] = 0;
    if (!c->code_rw || c->code_size - c->code_used < BLOCK_CODE_MAX)
        return;
    populate(c);
    /* Emitted straight into the free space; abandoned (the space stays
     * free) at the first op the JIT does not translate. */
    struct tr *tp = &(struct tr){ 0 };
    uint8_t *start = c->code_rw + c->code_used;
    tp->e = (struct em){ start, start + BLOCK_CODE_MAX, false };
    tp->c = c;
    tp->b = b;
    tp->sys = h->sys;
    tp->ops = ops;
    if (b->n) {
        const struct rv_insn *last = &b->insns[b->n - 1];
        enum rv_op lop = (enum rv_op)ops[b->n - 1];
        tp->loop = (lop == RV_OP_JAL || (lop >= RV_OP_BEQ && lop <= RV_OP_BGEU)) &&
                   2 * (int64_t)last->off + last->imm == 0;
    }
    uint64_t load = choose_registers(tp, ops);
    struct em *e = &tp->e;
    /* The entry, also reached straight from a predecessor's exit: what the
     * run loop checks between blocks. Requests and interrupts (events),
     * the chain budget, and whether the page still holds this code. */
    rex(e, false, 0, RBX);
    b1(e, 0x83);
    mem(e, 7, RBX, HOFF(events));               /* cmp dword [rbx+events], 0 */
    b1(e, 0x00);
    uint8_t *ev = jcc(e, CC_NE);
    alu_imm(e, false, 5, R14, 1);               /* sub r14d, 1: the budget */
    uint8_t *spent = jcc(e, CC_B);
    alu_imm(e, true, 0, R15, (int32_t)b->n);    /* add r15, n: instret */
    for (unsigned i = 1; i < 32; i++)
        if (load >> i & 1)
            mov_load(e, tp->host_of[i], RBX, XOFF(i));
    tp->body = e->p;
    for (unsigned i = 0; i <= b->n; i++) {
        unsigned g = i < b->n ? group_len(tp, ops, i) : 1;
        if (g > 1) {
            mem_group(tp, ops, i, g);
            i += g - 1;
            continue;
        }
        if (insn(tp, i, i < b->n ? (enum rv_op)ops[i] : RV_OP_BLOCK_END))
            continue;
        /* An op the JIT leaves to the interpreter (system instructions,
         * CSRs other than the FP ones): the instructions
         * before it run here, then the run loop goes on at it (a block of
         * its own, interpreted). Nothing to translate if it is first. */
        if (i == 0)
            return;
        writeback(tp);
        set_pc(tp, 2 * (int64_t)b->insns[i].off);
        alu_imm(e, true, 5, R15, (int32_t)(b->n - i)); /* they did not run here */
        leave(tp, RV_JIT_EXIT_DYNAMIC);
        break;
    }
    emit_cold(tp);
    entry_exit(tp, ev);
    entry_exit(tp, spent);
    if (e->full)
        return;
    size_t len = (size_t)(e->p - start);
    b->code = c->code_rx + c->code_used;
    c->code_used += (len + 15) & ~(size_t)15;
    c->jit_blocks++;
    c->jit_bytes += len;
    if (c->perf_map) {
        fprintf(c->perf_map, "%lx %zx guest_pa_%llx_n%u\n", (unsigned long)(uintptr_t)b->code, len,
                (unsigned long long)b->paddr, (unsigned)b->n);
        /* VIREO_JIT_PERFMAP=dump: the code too, for objdump -D -b binary -m i386:x86-64 */
        if (!strcmp(getenv("VIREO_JIT_PERFMAP"), "dump")) {
            char path[96];
            snprintf(path, sizeof(path), "/tmp/vireo-jit-%llx.bin", (unsigned long long)b->paddr);
            FILE *f = fopen(path, "w");
            if (f) {
                fwrite(start, 1, len, f);
                fclose(f);
            }
        }
    }
}

void rv_jit_link(struct rv_block_cache *c, struct rv_block *from, unsigned k, const struct rv_block *to)
{
    if (!from->code || !to->code || !from->exit_patch[k])
        return;
    int64_t target = (const uint8_t *)to->code - c->code_rx;
    int32_t rel = (int32_t)(target - ((int64_t)from->exit_patch[k] + 4));
    memcpy(c->code_rw + from->exit_patch[k], &rel, 4);
}

/* The way in and out, at the start of the buffer:
 *   int enter(h, code, budget): save the callee-saved registers, pin the
 *   hart's state, set the chain budget, jump to code;
 *   exit (jumped to with eax set): restore and return eax. */
static void emit_trampoline(struct rv_block_cache *c)
{
    struct em em = { c->code_rw, c->code_rw + 256, false }, *e = &em;
    static const uint8_t push[] = {
        0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, /* push rbx rbp r12 r13 r14 r15 */
        0x48, 0x83, 0xec, 0x08,                                     /* sub rsp, 8 */
        0x48, 0x89, 0xfb,                                           /* mov rbx, rdi */
    };
    for (size_t i = 0; i < sizeof(push); i++)
        b1(e, push[i]);
    alu_imm(e, true, 0, RBX, RBX_BIAS);         /* add rbx, bias */
    mov_load(e, R12, RBX, HOFF(pc));
    op_r(e, false, 0x89, RDX, R14);             /* mov r14d, edx: the budget */
    op_r(e, false, 0x31, R15, R15);             /* xor r15d, r15d: instructions run */
    b1(e, 0xff);                                /* jmp rsi */
    b1(e, 0xe6);
    c->jit_exit = (uint32_t)(e->p - c->code_rw);
    op_m(e, false, 0x89, R14, RBX, HOFF(jit_budget)); /* mov [rbx+jit_budget], r14d */
    op_m(e, true, 0x01, R15, RBX, HOFF(instret));     /* add [rbx+instret], r15 */
    static const uint8_t pop[] = {
        0x48, 0x83, 0xc4, 0x08,                                     /* add rsp, 8 */
        0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, /* pop r15 r14 r13 r12 rbp rbx */
        0xc3,                                                       /* ret */
    };
    for (size_t i = 0; i < sizeof(pop); i++)
        b1(e, pop[i]);
    /* The tails of fixed exits 0 and 1, jumped to with r12 = the target
     * and rax = the block leaving: the run loop may link it. */
    for (unsigned k = 0; k < 2; k++) {
        c->jit_exit_fixed[k] = (uint32_t)(e->p - c->code_rw);
        mov_store(e, R12, RBX, HOFF(pc));
        mov_store(e, RAX, RBX, HOFF(jit_last));
        b1(e, 0xb8);                            /* mov eax, k */
        d32(e, k);
        b1(e, 0xe9);                            /* jmp exit */
        d32(e, (uint32_t)(int32_t)((int64_t)c->jit_exit - (int64_t)(e->p + 4 - c->code_rw)));
    }
    c->jit_enter = (int (*)(struct rv_hart *, void *, uint32_t))(void *)c->code_rx;
    c->code_reserved = c->code_used = ((size_t)(e->p - c->code_rw) + 63) & ~(size_t)63;
}

#else /* not x86-64: no JIT; every block is interpreted */

bool rv_jit_available(void) { return false; }
bool rv_jit_room(const struct rv_block_cache *c) { (void)c; return true; }
bool rv_jit_buffer_init(struct rv_block_cache *c) { (void)c; return false; }
void rv_jit_buffer_free(struct rv_block_cache *c) { (void)c; }
void rv_jit_translate(struct rv_hart *h, struct rv_block *b, const uint8_t *ops)
{
    (void)h, (void)ops;
    b->code = NULL;
}
void rv_jit_link(struct rv_block_cache *c, struct rv_block *from, unsigned k, const struct rv_block *to)
{
    (void)c, (void)from, (void)k, (void)to;
}

#endif

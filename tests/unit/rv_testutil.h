/* Test helpers for the RISC-V interpreter (header-only).
 *
 * rvt_new() builds an rv_sys with a few MiB of RAM at RVT_RAM_BASE, one or
 * more harts, and a small scratch MMIO device. Tests write instruction
 * words into RAM with the enc_* encoders and the rvi_* instruction
 * helpers, set registers, run blocks and look at the hart.
 *
 * Layout used by convention:
 *   RVT_TRAP   (RAM_BASE + 0x000) M-mode trap vector: "j ." (mtvec)
 *   RVT_STRAP  (RAM_BASE + 0x100) S-mode trap vector: "j ." (stvec)
 *   RVT_CODE   (RAM_BASE + 0x1000) where harts start (M-mode)
 *   RVT_DATA   (RAM_BASE + 0x10000) free for data
 * A test therefore runs "until the hart reaches RVT_TRAP" and then checks
 * mcause/mepc/mtval: EBREAK at the end of a snippet is the usual way out.
 */
#ifndef VIREO_TEST_RV_TESTUTIL_H
#define VIREO_TEST_RV_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "riscv/csr.h"
#include "riscv/decode.h"
#include "riscv/hart.h"
#include "riscv/mmu.h"

#define RVT_RAM_BASE 0x80000000ull
#define RVT_RAM_SIZE (4ull << 20)
#define RVT_TRAP (RVT_RAM_BASE + 0x000)
#define RVT_STRAP (RVT_RAM_BASE + 0x100)
#define RVT_CODE (RVT_RAM_BASE + 0x1000)
#define RVT_DATA (RVT_RAM_BASE + 0x10000)
/* A scratch device: plain bytes, any naturally aligned access. */
#define RVT_MMIO_BASE 0x10000000ull
#define RVT_MMIO_SIZE 0x1000ull
/* Nothing lives here: accesses raise access faults. */
#define RVT_HOLE 0x40000000ull

enum rvt_reg {
    ZERO, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6, A7,
    S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, T3, T4, T5, T6,
};

struct rvt {
    struct rv_sys sys;
    uint8_t *ram;
    uint8_t mmio[RVT_MMIO_SIZE];
    unsigned mmio_reads, mmio_writes;
};

/* ---------------- encoders (unprivileged spec, chapter 2.3) ---------------- */

static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return (f7 & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | (op & 0x7f);
}
static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | (op & 0x7f);
}
static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
    uint32_t i = (uint32_t)imm;
    return ((i >> 5) & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (i & 31) << 7 |
           (op & 0x7f);
}
static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
    uint32_t i = (uint32_t)imm;
    return ((i >> 12) & 1) << 31 | ((i >> 5) & 0x3f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 |
           (f3 & 7) << 12 | ((i >> 1) & 0xf) << 8 | ((i >> 11) & 1) << 7 | (op & 0x7f);
}
/* imm is the 32-bit value the instruction produces (low 12 bits ignored) */
static inline uint32_t enc_u(uint32_t imm, unsigned rd, unsigned op)
{
    return (imm & 0xfffff000u) | (rd & 31) << 7 | (op & 0x7f);
}
static inline uint32_t enc_j(int32_t imm, unsigned rd, unsigned op)
{
    uint32_t i = (uint32_t)imm;
    return ((i >> 20) & 1) << 31 | ((i >> 1) & 0x3ff) << 21 | ((i >> 11) & 1) << 20 | ((i >> 12) & 0xff) << 12 |
           (rd & 31) << 7 | (op & 0x7f);
}

/* ---------------- instructions ---------------- */

#define RVT_R(name, f7, f3, op) \
    static inline uint32_t rvi_##name(unsigned rd, unsigned rs1, unsigned rs2) \
    { return enc_r(f7, rs2, rs1, f3, rd, op); }
#define RVT_I(name, f3, op) \
    static inline uint32_t rvi_##name(unsigned rd, unsigned rs1, int32_t imm) \
    { return enc_i(imm, rs1, f3, rd, op); }
#define RVT_SH(name, f6, f3, op) \
    static inline uint32_t rvi_##name(unsigned rd, unsigned rs1, unsigned shamt) \
    { return enc_i((int32_t)((f6) << 6 | (shamt & 63)), rs1, f3, rd, op); }
#define RVT_ST(name, f3) \
    static inline uint32_t rvi_##name(unsigned rs2, unsigned rs1, int32_t imm) \
    { return enc_s(imm, rs2, rs1, f3, 0x23); }
#define RVT_BR(name, f3) \
    static inline uint32_t rvi_##name(unsigned rs1, unsigned rs2, int32_t off) \
    { return enc_b(off, rs2, rs1, f3, 0x63); }

RVT_R(add, 0x00, 0, 0x33) RVT_R(sub, 0x20, 0, 0x33) RVT_R(sll, 0x00, 1, 0x33) RVT_R(slt, 0x00, 2, 0x33)
RVT_R(sltu, 0x00, 3, 0x33) RVT_R(xor, 0x00, 4, 0x33) RVT_R(srl, 0x00, 5, 0x33) RVT_R(sra, 0x20, 5, 0x33)
RVT_R(or, 0x00, 6, 0x33) RVT_R(and, 0x00, 7, 0x33)
RVT_R(mul, 0x01, 0, 0x33) RVT_R(mulh, 0x01, 1, 0x33) RVT_R(mulhsu, 0x01, 2, 0x33) RVT_R(mulhu, 0x01, 3, 0x33)
RVT_R(div, 0x01, 4, 0x33) RVT_R(divu, 0x01, 5, 0x33) RVT_R(rem, 0x01, 6, 0x33) RVT_R(remu, 0x01, 7, 0x33)
RVT_R(addw, 0x00, 0, 0x3b) RVT_R(subw, 0x20, 0, 0x3b) RVT_R(sllw, 0x00, 1, 0x3b) RVT_R(srlw, 0x00, 5, 0x3b)
RVT_R(sraw, 0x20, 5, 0x3b)
RVT_R(mulw, 0x01, 0, 0x3b) RVT_R(divw, 0x01, 4, 0x3b) RVT_R(divuw, 0x01, 5, 0x3b) RVT_R(remw, 0x01, 6, 0x3b)
RVT_R(remuw, 0x01, 7, 0x3b)
RVT_I(addi, 0, 0x13) RVT_I(slti, 2, 0x13) RVT_I(sltiu, 3, 0x13) RVT_I(xori, 4, 0x13) RVT_I(ori, 6, 0x13)
RVT_I(andi, 7, 0x13) RVT_I(addiw, 0, 0x1b)
RVT_SH(slli, 0x00, 1, 0x13) RVT_SH(srli, 0x00, 5, 0x13) RVT_SH(srai, 0x10, 5, 0x13)
RVT_SH(slliw, 0x00, 1, 0x1b) RVT_SH(srliw, 0x00, 5, 0x1b) RVT_SH(sraiw, 0x10, 5, 0x1b)
RVT_I(lb, 0, 0x03) RVT_I(lh, 1, 0x03) RVT_I(lw, 2, 0x03) RVT_I(ld, 3, 0x03) RVT_I(lbu, 4, 0x03)
RVT_I(lhu, 5, 0x03) RVT_I(lwu, 6, 0x03) RVT_I(jalr, 0, 0x67)
RVT_I(flw, 2, 0x07) RVT_I(fld, 3, 0x07)
RVT_ST(sb, 0) RVT_ST(sh, 1) RVT_ST(sw, 2) RVT_ST(sd, 3)
RVT_BR(beq, 0) RVT_BR(bne, 1) RVT_BR(blt, 4) RVT_BR(bge, 5) RVT_BR(bltu, 6) RVT_BR(bgeu, 7)

static inline uint32_t rvi_lui(unsigned rd, uint32_t imm) { return enc_u(imm, rd, 0x37); }
static inline uint32_t rvi_auipc(unsigned rd, uint32_t imm) { return enc_u(imm, rd, 0x17); }
static inline uint32_t rvi_jal(unsigned rd, int32_t off) { return enc_j(off, rd, 0x6f); }
static inline uint32_t rvi_j(int32_t off) { return rvi_jal(ZERO, off); }
static inline uint32_t rvi_nop(void) { return rvi_addi(ZERO, ZERO, 0); }
static inline uint32_t rvi_fsd(unsigned rs2, unsigned rs1, int32_t imm) { return enc_s(imm, rs2, rs1, 3, 0x27); }
static inline uint32_t rvi_fadd_d(unsigned rd, unsigned rs1, unsigned rs2) { return enc_r(0x01, rs2, rs1, 7, rd, 0x53); }

/* SYSTEM */
static inline uint32_t rvi_ecall(void) { return 0x00000073; }
static inline uint32_t rvi_ebreak(void) { return 0x00100073; }
static inline uint32_t rvi_mret(void) { return 0x30200073; }
static inline uint32_t rvi_sret(void) { return 0x10200073; }
static inline uint32_t rvi_wfi(void) { return 0x10500073; }
static inline uint32_t rvi_sfence_vma(unsigned rs1, unsigned rs2) { return enc_r(0x09, rs2, rs1, 0, 0, 0x73); }
static inline uint32_t rvi_fence(unsigned pred, unsigned succ) { return enc_i((int32_t)(pred << 4 | succ), 0, 0, 0, 0x0f); }
static inline uint32_t rvi_fence_i(void) { return 0x0000100f; }
static inline uint32_t rvi_csrrw(unsigned rd, unsigned csr, unsigned rs1) { return enc_i((int32_t)csr, rs1, 1, rd, 0x73); }
static inline uint32_t rvi_csrrs(unsigned rd, unsigned csr, unsigned rs1) { return enc_i((int32_t)csr, rs1, 2, rd, 0x73); }
static inline uint32_t rvi_csrrc(unsigned rd, unsigned csr, unsigned rs1) { return enc_i((int32_t)csr, rs1, 3, rd, 0x73); }
static inline uint32_t rvi_csrrwi(unsigned rd, unsigned csr, unsigned uimm) { return enc_i((int32_t)csr, uimm, 5, rd, 0x73); }
static inline uint32_t rvi_csrrsi(unsigned rd, unsigned csr, unsigned uimm) { return enc_i((int32_t)csr, uimm, 6, rd, 0x73); }
static inline uint32_t rvi_csrrci(unsigned rd, unsigned csr, unsigned uimm) { return enc_i((int32_t)csr, uimm, 7, rd, 0x73); }
static inline uint32_t rvi_csrw(unsigned csr, unsigned rs1) { return rvi_csrrw(ZERO, csr, rs1); }
static inline uint32_t rvi_csrr(unsigned rd, unsigned csr) { return rvi_csrrs(rd, csr, ZERO); }

/* A: funct5 values */
enum { AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_LR = 0x02, AMO_SC = 0x03, AMO_XOR = 0x04, AMO_OR = 0x08,
       AMO_AND = 0x0c, AMO_MIN = 0x10, AMO_MAX = 0x14, AMO_MINU = 0x18, AMO_MAXU = 0x1c };
/* width: 2 = .W, 3 = .D; aq/rl left clear */
static inline uint32_t rvi_amo(unsigned funct5, unsigned width, unsigned rd, unsigned rs2, unsigned rs1)
{
    return enc_r(funct5 << 2, rs2, rs1, width, rd, 0x2f);
}
static inline uint32_t rvi_lr_w(unsigned rd, unsigned rs1) { return rvi_amo(AMO_LR, 2, rd, 0, rs1); }
static inline uint32_t rvi_lr_d(unsigned rd, unsigned rs1) { return rvi_amo(AMO_LR, 3, rd, 0, rs1); }
static inline uint32_t rvi_sc_w(unsigned rd, unsigned rs2, unsigned rs1) { return rvi_amo(AMO_SC, 2, rd, rs2, rs1); }
static inline uint32_t rvi_sc_d(unsigned rd, unsigned rs2, unsigned rs1) { return rvi_amo(AMO_SC, 3, rd, rs2, rs1); }

/* ---------------- the scratch MMIO device ---------------- */

static inline bool rvt_mmio_read(void *opaque, struct rv_hart *h, uint64_t pa, unsigned size, uint64_t *val)
{
    (void)h;
    struct rvt *t = opaque;
    if (pa < RVT_MMIO_BASE || size > RVT_MMIO_SIZE || pa - RVT_MMIO_BASE > RVT_MMIO_SIZE - size)
        return false; /* (written so that no address wraps around) */
    uint64_t v = 0;
    memcpy(&v, t->mmio + (pa - RVT_MMIO_BASE), size);
    *val = v;
    t->mmio_reads++;
    return true;
}

static inline bool rvt_mmio_write(void *opaque, struct rv_hart *h, uint64_t pa, unsigned size, uint64_t val)
{
    (void)h;
    struct rvt *t = opaque;
    if (pa < RVT_MMIO_BASE || size > RVT_MMIO_SIZE || pa - RVT_MMIO_BASE > RVT_MMIO_SIZE - size)
        return false; /* (written so that no address wraps around) */
    memcpy(t->mmio + (pa - RVT_MMIO_BASE), &val, size);
    t->mmio_writes++;
    return true;
}

/* ---------------- guest memory ---------------- */

static inline void *rvt_ptr(struct rvt *t, uint64_t pa)
{
    assert_true(pa >= RVT_RAM_BASE && pa < RVT_RAM_BASE + RVT_RAM_SIZE);
    return t->ram + (pa - RVT_RAM_BASE);
}
/* Writes from the test count as "someone else wrote RAM": stale decoded
 * blocks of that page are retired. */
static inline void rvt_write(struct rvt *t, uint64_t pa, const void *src, size_t len)
{
    memcpy(rvt_ptr(t, pa), src, len);
    rv_code_note_write(&t->sys, pa, len);
}
static inline void rvt_w16(struct rvt *t, uint64_t pa, uint16_t v) { rvt_write(t, pa, &v, 2); }
static inline void rvt_w32(struct rvt *t, uint64_t pa, uint32_t v) { rvt_write(t, pa, &v, 4); }
static inline void rvt_w64(struct rvt *t, uint64_t pa, uint64_t v) { rvt_write(t, pa, &v, 8); }
static inline uint16_t rvt_r16(struct rvt *t, uint64_t pa) { uint16_t v; memcpy(&v, rvt_ptr(t, pa), 2); return v; }
static inline uint32_t rvt_r32(struct rvt *t, uint64_t pa) { uint32_t v; memcpy(&v, rvt_ptr(t, pa), 4); return v; }
static inline uint64_t rvt_r64(struct rvt *t, uint64_t pa) { uint64_t v; memcpy(&v, rvt_ptr(t, pa), 8); return v; }

/* Place 32-bit instruction words at pa; returns the address after them. */
static inline uint64_t rvt_put_words(struct rvt *t, uint64_t pa, const uint32_t *w, size_t n)
{
    rvt_write(t, pa, w, n * 4);
    return pa + n * 4;
}
#define rvt_code(t, pa, ...) \
    rvt_put_words((t), (pa), (const uint32_t[]){ __VA_ARGS__ }, sizeof((const uint32_t[]){ __VA_ARGS__ }) / 4)
/* Same for 16-bit (compressed) instructions. */
static inline uint64_t rvt_put_halves(struct rvt *t, uint64_t pa, const uint16_t *w, size_t n)
{
    rvt_write(t, pa, w, n * 2);
    return pa + n * 2;
}
#define rvt_code16(t, pa, ...) \
    rvt_put_halves((t), (pa), (const uint16_t[]){ __VA_ARGS__ }, sizeof((const uint16_t[]){ __VA_ARGS__ }) / 2)

/* ---------------- machine ---------------- */

static inline void rvt_reset_hart(struct rv_hart *h)
{
    rv_hart_reset(h, RV_PRIV_M, RVT_CODE);
    h->mtvec = RVT_TRAP;
    h->stvec = RVT_STRAP;
    h->medeleg = h->mideleg = 0;
    h->mcause = h->mepc = h->mtval = 0;
    h->scause = h->sepc = h->stval = 0;
}

static inline struct rvt *rvt_new(unsigned nharts)
{
    struct rvt *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->ram = mmap(NULL, RVT_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(t->ram != MAP_FAILED);
    struct rv_bus bus = {
        .ram = t->ram, .ram_base = RVT_RAM_BASE, .ram_size = RVT_RAM_SIZE, .opaque = t,
        .mmio_read = rvt_mmio_read, .mmio_write = rvt_mmio_write,
    };
    assert_int_equal(rv_sys_init(&t->sys, &bus, nharts), 0);
    /* VIREO_TEST_JIT=1 (meson registers the riscv tests twice): the same
     * tests with blocks translated by the JIT. */
    t->sys.jit = getenv("VIREO_TEST_JIT") != NULL;
    t->sys.jit_hot_runs = 1; /* translated the first time they run */
    /* trap vectors: "j ." so a trapped hart stays put */
    rvt_w32(t, RVT_TRAP, rvi_j(0));
    rvt_w32(t, RVT_STRAP, rvi_j(0));
    for (unsigned i = 0; i < nharts; i++) {
        struct rv_hart *h = rv_hart_new(&t->sys, i);
        assert_non_null(h);
        rvt_reset_hart(h);
    }
    return t;
}

static inline void rvt_free(struct rvt *t)
{
    if (!t)
        return;
    rv_sys_destroy(&t->sys);
    munmap(t->ram, RVT_RAM_SIZE);
    free(t);
}

static inline struct rv_hart *rvt_hart(struct rvt *t, unsigned i) { return t->sys.harts[i]; }

/* cmocka fixtures: a fresh machine per test, with one or four harts. */
static inline int rvt_setup_1hart(void **state)
{
    *state = rvt_new(1);
    return 0;
}
static inline int rvt_setup_4harts(void **state)
{
    *state = rvt_new(4);
    return 0;
}
static inline int rvt_teardown(void **state)
{
    rvt_free(*state);
    return 0;
}
#define T ((struct rvt *)*state)
#define H (rvt_hart(T, 0))

/* Run h block by block until its pc is `stop` (looked at between blocks)
 * or max_blocks ran. Returns whether stop was reached. */
static inline bool rvt_run_until(struct rv_hart *h, uint64_t stop, uint64_t max_blocks)
{
    for (uint64_t i = 0; i < max_blocks && h->pc != stop; i++)
        rv_hart_step_blocks(h, 1);
    return h->pc == stop;
}
/* Run until the M-mode trap vector is reached (default budget). */
static inline bool rvt_run(struct rv_hart *h) { return rvt_run_until(h, RVT_TRAP, 10000); }

/* Run code placed at RVT_CODE in M-mode until it traps, and insist that the
 * trap was the EBREAK that ends it. */
static inline void rvt_run_to_ebreak(struct rv_hart *h)
{
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, EXC_BREAKPOINT);
}

/* Change privilege from the test (keeps TLB key selection consistent). */
static inline void rvt_set_priv(struct rv_hart *h, unsigned priv)
{
    h->priv = priv;
    rv_mmu_update_keys(h);
}

#endif

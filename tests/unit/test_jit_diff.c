/* The JIT against the interpreter (docs/jit.md, "Correctness"): random
 * programs made of the ops the JIT translates (integer, M, loads and
 * stores of every width to RAM and MMIO, aligned or not, branches, JAL,
 * JALR, F and D, the FP CSRs, atomics and LR/SC, and ops the JIT leaves
 * to the interpreter) run on two machines from the same state, one
 * interpreted and one translating every block the first time it runs. A loop around
 * each program makes blocks run again through linked exits and the JALR
 * lookup. Afterwards every register, the FP state, the trap CSRs, the
 * instructions retired, the data pages and the MMIO device must be equal.
 * A program that traps (a misaligned access the hart does not emulate, an
 * access fault) must trap at the same instruction on both. */
#include "rv_testutil.h"
#include "test_rng.h"

#include "riscv/block.h"
#include "riscv/jit.h"

#include <stdio.h>

#define PROGRAMS 10000
#define MAX_INSNS 96
#define LOOPS 3
#define DATA_BYTES 8192
/* Stores and atomics into the program's own page go here, past the
 * program and its loop; they retire the page's decoded code. */
#define OWN_PAGE_DATA 0x600

/* x20: the data pages, x21: the MMIO device, x22: the program, x23: 24
 * bytes before the end of the first data page, x19: the loop counter,
 * x24: an atomic's address (one of x20-x22 plus an offset, even when a
 * jump skips the instruction that sets it), x31: instret at the trap.
 * Random instructions write only x1..x15, but for some loads in a run off
 * one base, which load into the base. */
enum { R_DATA = 20, R_MMIO = 21, R_CODE = 22, R_DATA_END = 23, R_LOOP = 19, R_ATOMIC = 24, R_INSTRET = 31 };

static unsigned pick(unsigned n) { return (unsigned)test_rnd_below(n); }
static unsigned reg(void) { return 1 + pick(15); }
static unsigned freg(void) { return pick(32); }

/* Values where integer and FP corner cases live. */
static uint64_t value(void)
{
    static const uint64_t special[] = {
        0, 1, ~0ull, 0x8000000000000000ull, 0x7fffffffffffffffull, 0xffffffff80000000ull, 0x80000000ull,
        0xffffffffull, 0x7fffffffull, 2, 0xfffffffffffffffeull, 63, 64, 32, 31,
    };
    switch (pick(4)) {
    case 0: return special[pick(sizeof(special) / sizeof(special[0]))];
    case 1: return (uint64_t)(int64_t)(int16_t)test_rnd();
    default: return test_rnd();
    }
}

static uint64_t fvalue(void)
{
    static const uint64_t special[] = {
        0x3ff0000000000000ull, 0x8000000000000000ull, 0, 0x7ff8000000000000ull, 0x7ff0000000000001ull,
        0x7ff0000000000000ull, 0xfff0000000000000ull, 0x0000000000000001ull, 0x000fffffffffffffull,
        0x4000000000000000ull, 0xbff8000000000000ull, 0x43e0000000000000ull, 0xc1e0000000000000ull,
        0xffffffff3f800000ull, 0xffffffff7fc00000ull, 0xffffffff00000001ull, 0xffffffff80000000ull,
        0xffffffff7f800000ull, 0x000000003f800000ull, /* not NaN-boxed: a single reads it as the canonical NaN */
        /* products, quotients and sums that land at the bottom of the
         * normal range, where tininess and underflow are decided */
        0x2000000000000000ull, 0x1ff0000000000001ull, 0x0010000000000000ull, 0x0010000000000001ull,
        0x001fffffffffffffull, 0x8010000000000000ull, 0x3cb0000000000000ull, 0x5fe0000000000000ull,
        0xffffffff1f800000ull, 0xffffffff1f000001ull, 0xffffffff00800000ull, 0xffffffff00ffffffull,
        0xffffffff80800000ull, 0xffffffff5f000000ull,
    };
    switch (pick(3)) {
    case 0: return special[pick(sizeof(special) / sizeof(special[0]))];
    case 1: return 0xffffffff00000000ull | (uint32_t)test_rnd();
    default: return test_rnd();
    }
}

static uint32_t fp_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned rm, unsigned rd)
{
    return enc_r(f7, rs2, rs1, rm, rd, 0x53);
}

/* A rounding mode field: static (0-4) or dynamic (7); 5 and 6 are
 * reserved and trap, which is worth checking now and then too. */
static unsigned rm(void)
{
    unsigned r = pick(256);
    return r < 80 ? r % 5 : r < 255 ? 7 : 5 + pick(2);
}

/* One random instruction at index i of n (branch and jump targets stay
 * inside the program, or go to the loop at its end). */
static unsigned gen_insn(uint32_t *w, unsigned i, unsigned n, bool straight)
{
    unsigned ahead = n - i; /* instructions up to and including the end */
    unsigned d = reg(), a = reg(), b = reg();
    int32_t imm = (int32_t)(test_rnd() & 0xfff) - 2048;
    unsigned k = pick(100);
    if (k < 30) {
        static uint32_t (*const rr[])(unsigned, unsigned, unsigned) = {
            rvi_add, rvi_sub, rvi_sll, rvi_slt, rvi_sltu, rvi_xor, rvi_srl, rvi_sra, rvi_or, rvi_and,
            rvi_mul, rvi_mulh, rvi_mulhsu, rvi_mulhu, rvi_div, rvi_divu, rvi_rem, rvi_remu,
            rvi_addw, rvi_subw, rvi_sllw, rvi_srlw, rvi_sraw, rvi_mulw, rvi_divw, rvi_divuw, rvi_remw, rvi_remuw,
        };
        w[0] = rr[pick(sizeof(rr) / sizeof(rr[0]))](d, a, b);
        return 1;
    }
    if (k < 45) {
        static uint32_t (*const ri[])(unsigned, unsigned, int32_t) = {
            rvi_addi, rvi_slti, rvi_sltiu, rvi_xori, rvi_ori, rvi_andi, rvi_addiw,
        };
        static uint32_t (*const sh[])(unsigned, unsigned, unsigned) = {
            rvi_slli, rvi_srli, rvi_srai, rvi_slliw, rvi_srliw, rvi_sraiw,
        };
        unsigned j = pick(13);
        if (j < 7)
            w[0] = ri[j](d, a, imm);
        else
            w[0] = sh[j - 7](d, a, j >= 10 ? pick(32) : pick(64));
        return 1;
    }
    if (k < 48) {
        w[0] = pick(2) ? rvi_lui(d, (uint32_t)test_rnd()) : rvi_auipc(d, (uint32_t)test_rnd());
        return 1;
    }
    if (k < 50 && pick(8) == 0 && ahead > 2) {
        /* a run of loads or stores off one base (the JIT probes the TLB
         * once for such a group): RAM, the end of a page (the run crosses
         * it), MMIO, the program's own page */
        static const unsigned bases[] = { R_DATA, R_DATA, R_DATA_END, R_MMIO, R_CODE };
        unsigned base = bases[pick(5)], len = 2 + pick(ahead - 1 < 6 ? ahead - 2 : 5), fp = pick(3) == 0;
        bool st = pick(2);
        int32_t at = base == R_CODE ? OWN_PAGE_DATA : base == R_MMIO ? 0 : (int32_t)pick(64) * 8 - (base == R_DATA_END ? 64 : 0);
        for (unsigned m = 0; m < len; m++) {
            int32_t off = at + 8 * (int32_t)m - (pick(4) == 0 ? 4 : 0);
            unsigned width = fp ? 2 + pick(2) : pick(4);
            if (fp)
                w[m] = st ? enc_s(off, freg(), base, width, 0x27) : enc_i(off, base, width, freg(), 0x07);
            else if (st)
                w[m] = enc_s(off, reg(), base, width, 0x23);
            else
                w[m] = enc_i(off, base, width + 4 * (width < 3 && pick(2)), pick(8) ? reg() : base, 0x03);
        }
        return len;
    }
    if (k < 62) { /* loads and stores: mostly the data pages, some MMIO */
        /* some go to MMIO, some to the program's own page past its end
         * (a store there retires the page's decoded code) */
        unsigned where = pick(16);
        bool mmio = where < 2;
        unsigned base = mmio ? R_MMIO : where == 2 ? R_CODE : R_DATA;
        int32_t off = mmio ? (int32_t)pick(64) : where == 2 ? OWN_PAGE_DATA + (int32_t)pick(0x100) : (int32_t)pick(2040);
        unsigned width = pick(4);
        if (pick(4))
            off &= ~((1 << width) - 1); /* mostly aligned */
        static uint32_t (*const ld[])(unsigned, unsigned, int32_t) = {
            rvi_lb, rvi_lh, rvi_lw, rvi_ld, rvi_lbu, rvi_lhu, rvi_lwu,
        };
        static uint32_t (*const st[])(unsigned, unsigned, int32_t) = { rvi_sb, rvi_sh, rvi_sw, rvi_sd };
        switch (pick(4)) {
        case 0: w[0] = ld[width == 3 ? 3 : width + 4 * pick(2)](d, base, off); break;
        case 1: w[0] = ld[width](d, base, off); break;
        case 2: w[0] = st[width](a, base, off); break;
        default: /* FP: FLW, FLD, FSW, FSD */
            w[0] = pick(2) ? enc_i(off, base, 2 + pick(2), freg(), 0x07) : enc_s(off, freg(), base, 2 + pick(2), 0x27);
            break;
        }
        return 1;
    }
    if (k >= 62 && k < 78 && straight)
        k = pick(62); /* no control flow: the program and its loop are one block */
    if (k < 72 && ahead > 2) { /* a forward branch over 0..4 instructions */
        static uint32_t (*const br[])(unsigned, unsigned, int32_t) = {
            rvi_beq, rvi_bne, rvi_blt, rvi_bge, rvi_bltu, rvi_bgeu,
        };
        unsigned skip = pick(ahead - 1 < 5 ? ahead - 1 : 5);
        w[0] = br[pick(6)](a, pick(4) ? b : a, (int32_t)(4 + 4 * skip));
        return 1;
    }
    if (k < 75 && ahead > 2) {
        w[0] = rvi_jal(d, (int32_t)(4 + 4 * pick(ahead - 1 < 4 ? ahead - 1 : 4)));
        return 1;
    }
    if (k < 78 && ahead > 2) { /* jalr to a later instruction, from x22 = the program's start */
        unsigned to = i + 1 + pick(ahead - 1 < 4 ? ahead - 1 : 4);
        w[0] = rvi_jalr(pick(2) ? d : ZERO, R_CODE, (int32_t)(4 * to));
        return 1;
    }
    if (k < 79) { /* atomics (the JIT calls the interpreter's code for them);
                   * PAUSE; mscratch, which the JIT leaves to the
                   * interpreter, so the block's translated part ends
                   * before it; FENCE */
        static const unsigned amo[] = { AMO_ADD, AMO_SWAP, AMO_LR, AMO_SC, AMO_XOR, AMO_OR, AMO_AND,
                                        AMO_MIN, AMO_MAX, AMO_MINU, AMO_MAXU };
        unsigned j = pick(8), width = 2 + pick(2), op = amo[pick(11)];
        if (j < 4 && ahead > 3) {
            /* at an address in a register: mostly the data page (now and
             * then misaligned), some MMIO (an access fault), some the
             * program's own page (an SC or AMO there retires its code) */
            static const unsigned bases[] = { R_DATA, R_DATA, R_DATA, R_MMIO, R_CODE };
            unsigned base = bases[pick(5)];
            int32_t off = base == R_CODE   ? OWN_PAGE_DATA + 8 * (int32_t)pick(32)
                          : base == R_MMIO ? 8 * (int32_t)pick(8)
                                           : 8 * (int32_t)pick(255);
            if (pick(8) == 0)
                off += 1 + (int32_t)pick(width == 3 ? 7 : 3); /* misaligned */
            w[0] = rvi_addi(R_ATOMIC, base, off);
            if (j == 0) { /* LR then SC of the same word: the SC succeeds */
                w[1] = rvi_amo(AMO_LR, width, d, 0, R_ATOMIC);
                w[2] = rvi_amo(AMO_SC, width, reg(), b, R_ATOMIC);
                return 3;
            }
            w[1] = rvi_amo(op, width, d, op == AMO_LR ? 0 : b, R_ATOMIC);
            return 2;
        }
        switch (j) {
        case 0: case 1: case 2: case 3: w[0] = rvi_amo(op, width, d, op == AMO_LR ? 0 : b, R_DATA); break;
        case 4: w[0] = 0x0100000f; break; /* PAUSE */
        case 5: w[0] = pick(2) ? rvi_csrrw(d, 0x340, a) : rvi_csrr(d, 0x340); break;
        default: w[0] = rvi_fence(pick(16), pick(16)); break;
        }
        return 1;
    }
    if (k < 81) { /* the FP CSRs, which do not end a block: any CSR op on fflags, frm, fcsr */
        static const unsigned f3[] = { 1, 2, 3, 5, 6, 7 };
        w[0] = enc_i((int32_t)(1 + pick(3)), pick(3) ? a : pick(32), f3[pick(6)], d, 0x73);
        return 1;
    }
    /* F and D */
    unsigned fd = freg(), fa = freg(), fb = freg(), dbl = pick(2);
    switch (pick(12)) {
    case 0: w[0] = fp_r(0x00 | dbl, fb, fa, rm(), fd); break;                  /* FADD */
    case 1: w[0] = fp_r(0x04 | dbl, fb, fa, rm(), fd); break;                  /* FSUB */
    case 2: w[0] = fp_r(0x08 | dbl, fb, fa, rm(), fd); break;                  /* FMUL */
    case 3: w[0] = fp_r(0x0c | dbl, fb, fa, rm(), fd); break;                  /* FDIV */
    case 4: w[0] = fp_r(0x2c | dbl, 0, fa, rm(), fd); break;                   /* FSQRT */
    case 5: w[0] = fp_r(0x10 | dbl, fb, fa, pick(3), fd); break;               /* FSGNJ[N|X] */
    case 6: w[0] = fp_r(0x14 | dbl, fb, fa, pick(2), fd); break;               /* FMIN, FMAX */
    case 7: w[0] = fp_r(0x50 | dbl, fb, fa, pick(3), d); break;                /* FLE, FLT, FEQ */
    case 8: w[0] = fp_r(0x60 | dbl, pick(4), fa, rm(), d); break;              /* FCVT.[L|W][U].fmt */
    case 9: w[0] = fp_r(0x68 | dbl, pick(4), a, rm(), fd); break;              /* FCVT.fmt.[L|W][U] */
    case 10: /* FMV.X.fmt, FCLASS, FMV.fmt.X, FCVT between formats */
        switch (pick(4)) {
        case 0: w[0] = fp_r(0x70 | dbl, 0, fa, 0, d); break;
        case 1: w[0] = fp_r(0x70 | dbl, 0, fa, 1, d); break;
        case 2: w[0] = fp_r(0x78 | dbl, 0, a, 0, fd); break;
        default: w[0] = fp_r(0x20 | dbl, !dbl, fa, rm(), fd); break;
        }
        break;
    default: /* FMADD, FMSUB, FNMSUB, FNMADD */
        w[0] = (uint32_t)freg() << 27 | dbl << 25 | (fb & 31) << 20 | (fa & 31) << 15 | rm() << 12 | fd << 7 |
               (0x43 + 4 * pick(4));
        break;
    }
    return 1;
}

struct start {
    uint64_t x[16], f[32];
    uint32_t frm, fflags;
    uint8_t data[DATA_BYTES], mmio[64];
};

static void load_state(struct rvt *t, const struct start *s, const uint32_t *code, unsigned n)
{
    struct rv_hart *h = rvt_hart(t, 0);
    rvt_reset_hart(h);
    /* at the trap: x31 = instret, then stay */
    rvt_code(t, RVT_TRAP, rvi_csrr(R_INSTRET, 0xb02), rvi_j(0));
    uint64_t end = rvt_put_words(t, RVT_CODE, code, n);
    /* the loop around the program, then EBREAK */
    rvt_code(t, end, rvi_addi(R_LOOP, R_LOOP, -1), rvi_bne(R_LOOP, ZERO, -(int32_t)(end - RVT_CODE) - 4),
             rvi_ebreak());
    /* (the trap vector's "j ." may have spun a different number of times
     * on each engine before the test saw it there) */
    h->instret = 0;
    memcpy(h->x + 1, s->x + 1, 15 * sizeof(uint64_t));
    h->x[R_DATA] = RVT_DATA;
    h->x[R_MMIO] = RVT_MMIO_BASE;
    h->x[R_CODE] = RVT_CODE;
    h->x[R_DATA_END] = RVT_DATA + 4096 - 24;
    h->x[R_ATOMIC] = RVT_DATA;
    h->x[R_LOOP] = LOOPS;
    memcpy(h->f, s->f, sizeof(s->f));
    h->frm = s->frm;
    h->fflags = s->fflags;
    h->mstatus |= 1ull << 13; /* FS: Initial */
    rvt_write(t, RVT_DATA, s->data, sizeof(s->data));
    static const uint8_t zero[0x200];
    rvt_write(t, RVT_CODE + OWN_PAGE_DATA, zero, sizeof(zero));
    memcpy(t->mmio, s->mmio, sizeof(s->mmio));
}

static void run(struct rvt *t)
{
    struct rv_hart *h = rvt_hart(t, 0);
    for (unsigned i = 0; i < 4000 && h->pc != RVT_TRAP + 4; i++)
        rv_hart_step_blocks(h, 1 + i % 100);
    if (h->pc != RVT_TRAP + 4)
        fprintf(stderr, "%s: stuck at pc %#llx\n", t->sys.jit ? "JIT" : "interpreter", (unsigned long long)h->pc);
    assert_true(h->pc == RVT_TRAP + 4);
}

static void report(unsigned prog, const uint32_t *code, unsigned n, const char *what, unsigned idx, uint64_t a,
                   uint64_t b)
{
    fprintf(stderr, "program %u: %s %u differs: interpreter %#llx, JIT %#llx\n", prog, what, idx,
            (unsigned long long)a, (unsigned long long)b);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "  %08llx: %08x\n", (unsigned long long)(RVT_CODE + 4 * i), code[i]);
    fail();
}

static void test_random_programs(void **state)
{
    (void)state;
    if (!rv_jit_available())
        skip(); /* no JIT on this host */
    struct rvt *in = rvt_new(1), *jt = rvt_new(1);
    in->sys.jit = false;
    jt->sys.jit = true;
    jt->sys.jit_hot_runs = 1;
    static struct start s;
    uint32_t code[MAX_INSNS + 8];
    unsigned trapped = 0, causes[16] = { 0 };
    test_rng_state = 0x243f6a8885a308d3ull;
    for (unsigned prog = 0; prog < PROGRAMS; prog++) {
        /* every fourth program has no branch or jump of its own: with the
         * loop's branch it is a block that runs itself (the JIT keeps such
         * loops inside their code) */
        bool straight = prog % 4 == 0;
        unsigned n = 8 + pick(straight ? 50 : MAX_INSNS - 8), i = 0;
        while (i < n)
            i += gen_insn(code + i, i, n, straight);
        n = i;
        for (unsigned r = 1; r < 16; r++)
            s.x[r] = value();
        for (unsigned r = 0; r < 32; r++)
            s.f[r] = fvalue();
        s.frm = pick(32) ? pick(5) : 5 + pick(3); /* now and then an invalid frm */
        s.fflags = pick(2) ? 0 : pick(32); /* the JIT's FP fast path needs NX set */
        for (unsigned j = 0; j < DATA_BYTES; j += 8) {
            uint64_t v = pick(2) ? fvalue() : value();
            memcpy(s.data + j, &v, 8);
        }
        for (unsigned j = 0; j < sizeof(s.mmio); j += 8) {
            uint64_t v = value();
            memcpy(s.mmio + j, &v, 8);
        }
        load_state(in, &s, code, n);
        load_state(jt, &s, code, n);
        run(in);
        run(jt);
        const struct rv_hart *a = rvt_hart(in, 0), *b = rvt_hart(jt, 0);
        for (unsigned r = 1; r < 32; r++)
            if (a->x[r] != b->x[r])
                report(prog, code, n, "x", r, a->x[r], b->x[r]);
        for (unsigned r = 0; r < 32; r++)
            if (a->f[r] != b->f[r])
                report(prog, code, n, "f", r, a->f[r], b->f[r]);
        if (a->fflags != b->fflags)
            report(prog, code, n, "fflags", 0, a->fflags, b->fflags);
        if (a->mstatus != b->mstatus)
            report(prog, code, n, "mstatus", 0, a->mstatus, b->mstatus);
        if (a->mcause != b->mcause || a->mepc != b->mepc || a->mtval != b->mtval)
            report(prog, code, n, "trap (mcause, then mepc, mtval)", (unsigned)a->mcause, a->mepc ^ b->mepc,
                   a->mtval ^ b->mtval);
        for (unsigned j = 0; j < DATA_BYTES; j += 8)
            if (rvt_r64(in, RVT_DATA + j) != rvt_r64(jt, RVT_DATA + j))
                report(prog, code, n, "data at offset", j, rvt_r64(in, RVT_DATA + j), rvt_r64(jt, RVT_DATA + j));
        for (unsigned j = OWN_PAGE_DATA; j < OWN_PAGE_DATA + 0x200; j += 8)
            if (rvt_r64(in, RVT_CODE + j) != rvt_r64(jt, RVT_CODE + j))
                report(prog, code, n, "own page at offset", j, rvt_r64(in, RVT_CODE + j), rvt_r64(jt, RVT_CODE + j));
        if (memcmp(in->mmio, jt->mmio, sizeof(s.mmio)) != 0)
            report(prog, code, n, "MMIO bytes", 0, 0, 0);
        trapped += a->mcause != EXC_BREAKPOINT;
        if (a->mcause < 16)
            causes[a->mcause]++;
    }
    /* The comparison means something only if the JIT ran most of it and
     * not every program died early. */
    uint64_t translated = rvt_hart(jt, 0)->blocks->jit_blocks;
    fprintf(stderr, "%u programs, %u ended in another trap than EBREAK, %llu blocks translated\n", PROGRAMS,
            trapped, (unsigned long long)translated);
    for (unsigned c = 0; c < 16; c++)
        if (causes[c])
            fprintf(stderr, "  mcause %u: %u programs\n", c, causes[c]);
    assert_true(translated > PROGRAMS);
    assert_true(trapped < PROGRAMS / 2);
    rvt_free(in);
    rvt_free(jt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The A extension (unprivileged spec, chapter 8): LR/SC reservations,
 * every AMO in W and D form, alignment faults, and harts on several host
 * threads incrementing one counter. */
#include <pthread.h>

#include "rv_testutil.h"

#define CNT (RVT_DATA + 0x100) /* naturally aligned data word */


/* Run a snippet on hart i from RVT_CODE + 0x100 * i, ending in EBREAK. */
static void run_on(struct rvt *t, unsigned i, const uint32_t *code, size_t n)
{
    struct rv_hart *h = rvt_hart(t, i);
    uint64_t at = RVT_CODE + 0x100 * i;
    uint64_t end = rvt_put_words(t, at, code, n);
    rvt_w32(t, end, rvi_ebreak());
    h->pc = at;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->mepc, end);
}
#define RUN_ON(i, ...) \
    run_on(T, (i), (const uint32_t[]){ __VA_ARGS__ }, sizeof((const uint32_t[]){ __VA_ARGS__ }) / 4)

/* SC without a preceding LR fails (rd != 0; Vireo writes 1) and does not
 * store. */
static void test_sc_without_reservation(void **state)
{
    struct rv_hart *h = rvt_hart(T, 0);
    rvt_w64(T, CNT, 5);
    h->x[A1] = CNT;
    h->x[A2] = 99;
    RUN_ON(0, rvi_sc_w(A0, A2, A1), rvi_sc_d(A3, A2, A1));
    assert_int_equal(h->x[A0], 1);
    assert_int_equal(h->x[A3], 1);
    assert_int_equal(rvt_r64(T, CNT), 5);
}

/* LR then SC to the same address succeeds (rd = 0) and stores; the
 * reservation is used up by the SC. LR.W sign-extends. */
static void test_lr_sc_success(void **state)
{
    struct rv_hart *h = rvt_hart(T, 0);
    rvt_w32(T, CNT, 0xfffffff0u);
    rvt_w32(T, CNT + 4, 0x12345678u);
    h->x[A1] = CNT;
    RUN_ON(0, rvi_lr_w(A0, A1), rvi_addi(A2, A0, 1), rvi_sc_w(A3, A2, A1), rvi_sc_w(A4, A2, A1));
    assert_int_equal(h->x[A0], 0xfffffffffffffff0ull);
    assert_int_equal(h->x[A3], 0);
    assert_int_equal(h->x[A4], 1); /* second SC: no reservation left */
    assert_int_equal(rvt_r32(T, CNT), 0xfffffff1u);
    assert_int_equal(rvt_r32(T, CNT + 4), 0x12345678u); /* neighbour untouched */

    rvt_w64(T, CNT, 0x8000000000000000ull);
    h->x[A2] = 0x1111222233334444ull;
    RUN_ON(0, rvi_lr_d(A0, A1), rvi_sc_d(A3, A2, A1));
    assert_int_equal(h->x[A0], 0x8000000000000000ull);
    assert_int_equal(h->x[A3], 0);
    assert_int_equal(rvt_r64(T, CNT), 0x1111222233334444ull);
}

/* SC to an address other than the reserved one fails and stores nothing. */
static void test_sc_other_address(void **state)
{
    struct rv_hart *h = rvt_hart(T, 0);
    rvt_w64(T, CNT, 1);
    rvt_w64(T, CNT + 8, 2);
    h->x[A1] = CNT;
    h->x[A2] = CNT + 8;
    h->x[A3] = 77;
    RUN_ON(0, rvi_lr_d(A0, A1), rvi_sc_d(A4, A3, A2));
    assert_int_equal(h->x[A4], 1);
    assert_int_equal(rvt_r64(T, CNT), 1);
    assert_int_equal(rvt_r64(T, CNT + 8), 2);
}

/* SC fails when another hart stored a different value to the reserved
 * address between the LR and the SC. Hart 0 stops between its LR and SC
 * at a block boundary (no trap), hart 1 runs, then hart 0 goes on. */
static void test_sc_after_remote_store(void **state)
{
    struct rv_hart *h0 = rvt_hart(T, 0), *h1 = rvt_hart(T, 1);
    rvt_w32(T, CNT, 10);
    h0->x[A1] = h1->x[A1] = CNT;
    h0->x[A2] = 11;
    h1->x[A2] = 20;
    rvt_code(T, RVT_CODE, rvi_lr_w(A0, A1), rvi_jal(ZERO, 4), rvi_sc_w(A3, A2, A1), rvi_ebreak());
    h0->pc = RVT_CODE;
    rv_hart_step_blocks(h0, 1); /* lr.w; j .+4 */
    assert_int_equal(h0->pc, RVT_CODE + 8);
    assert_int_equal(h0->x[A0], 10);
    RUN_ON(1, rvi_sw(A2, A1, 0));
    rvt_run_to_ebreak(h0);
    assert_int_equal(h0->x[A3], 1);
    assert_int_equal(rvt_r32(T, CNT), 20);

    /* both harts reserve; the first SC wins, the second fails (hart 1
     * stores a new value: SC is a compare-and-swap on the value LR saw) */
    h1->x[A2] = 21;
    rvt_code(T, RVT_CODE + 0x100, rvi_lr_w(A0, A1), rvi_jal(ZERO, 4), rvi_sc_w(A3, A2, A1), rvi_ebreak());
    h0->pc = RVT_CODE;
    h1->pc = RVT_CODE + 0x100;
    rv_hart_step_blocks(h0, 1);
    rv_hart_step_blocks(h1, 1);
    rvt_run_to_ebreak(h1);
    rvt_run_to_ebreak(h0);
    assert_int_equal(h1->x[A3], 0);
    assert_int_equal(h0->x[A3], 1);
    assert_int_equal(rvt_r32(T, CNT), 21);
}

struct amo_case {
    unsigned funct5, width;
    uint64_t mem, rs2, want_mem;
    const char *name;
};

/* Each AMO returns the old value (W forms sign-extended, unsigned ones
 * included) and stores op(old, rs2); W forms use the low 32 bits of rs2
 * and leave the neighbouring word alone. */
static void test_amo_ops(void **state)
{
    struct rv_hart *h = rvt_hart(T, 0);
    static const struct amo_case cases[] = {
        { AMO_SWAP, 2, 0x80000000, 0xdeadbeef00000001ull, 1, "amoswap.w" },
        { AMO_ADD, 2, 0x80000000, 0xdeadbeefffffffffull, 0x7fffffff, "amoadd.w (wraps)" },
        { AMO_XOR, 2, 0xf0f0f0f0, 0xdeadbeefffff0000ull, 0x0f0ff0f0, "amoxor.w" },
        { AMO_AND, 2, 0xf0f0f0f0, 0xdeadbeefffff0000ull, 0xf0f00000, "amoand.w" },
        { AMO_OR, 2, 0x80000000, 0xdeadbeef0000000full, 0x8000000f, "amoor.w" },
        { AMO_MIN, 2, 0x80000000, 0xdeadbeef00000001ull, 0x80000000, "amomin.w (signed)" },
        { AMO_MAX, 2, 0x80000000, 0xdeadbeef00000001ull, 1, "amomax.w (signed)" },
        { AMO_MINU, 2, 0x80000000, 0xdeadbeef00000001ull, 1, "amominu.w" },
        { AMO_MAXU, 2, 0x80000000, 0xdeadbeef00000001ull, 0x80000000, "amomaxu.w" },
        { AMO_MINU, 2, 0xffffffff, 0xffffffff, 0xffffffff, "amominu.w, old 0xffffffff" },
        { AMO_MAXU, 2, 0xfffffffe, 0xffffffff, 0xffffffff, "amomaxu.w, old 0xfffffffe" },
        { AMO_MIN, 2, 0x7fffffff, 0xffffffff, 0xffffffff, "amomin.w, rs2 -1" },
        { AMO_SWAP, 3, 0x8000000000000000ull, 1, 1, "amoswap.d" },
        { AMO_ADD, 3, 0xffffffffffffffffull, 2, 1, "amoadd.d (wraps)" },
        { AMO_XOR, 3, 0xff00ff00ff00ff00ull, 0xffffffff00000000ull, 0x00ff00ffff00ff00ull, "amoxor.d" },
        { AMO_AND, 3, 0xff00ff00ff00ff00ull, 0xffffffff00000000ull, 0xff00ff0000000000ull, "amoand.d" },
        { AMO_OR, 3, 0x8000000000000000ull, 1, 0x8000000000000001ull, "amoor.d" },
        { AMO_MIN, 3, 0x8000000000000000ull, 1, 0x8000000000000000ull, "amomin.d" },
        { AMO_MAX, 3, 0x8000000000000000ull, 1, 1, "amomax.d" },
        { AMO_MINU, 3, 0x8000000000000000ull, 1, 1, "amominu.d" },
        { AMO_MAXU, 3, 0x8000000000000000ull, 1, 0x8000000000000000ull, "amomaxu.d" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct amo_case *c = &cases[i];
        const uint64_t guard = 0x5a5a5a5a5a5a5a5aull;
        rvt_w64(T, CNT - 8, guard);
        rvt_w64(T, CNT + 8, guard);
        if (c->width == 2) {
            rvt_w64(T, CNT, guard);
            rvt_w32(T, CNT, (uint32_t)c->mem);
        } else {
            rvt_w64(T, CNT, c->mem);
        }
        h->x[A1] = CNT;
        h->x[A2] = c->rs2;
        RUN_ON(0, rvi_amo(c->funct5, c->width, A0, A2, A1));
        uint64_t want_rd = c->width == 2 ? (uint64_t)(int64_t)(int32_t)(uint32_t)c->mem : c->mem;
        uint64_t got_mem = c->width == 2 ? rvt_r32(T, CNT) : rvt_r64(T, CNT);
        if (h->x[A0] != want_rd || got_mem != c->want_mem) {
            print_error("%s: rd %#llx (want %#llx), mem %#llx (want %#llx)\n", c->name,
                        (unsigned long long)h->x[A0], (unsigned long long)want_rd, (unsigned long long)got_mem,
                        (unsigned long long)c->want_mem);
            fail();
        }
        if (c->width == 2)
            assert_int_equal(rvt_r32(T, CNT + 4), (uint32_t)guard);
        assert_int_equal(rvt_r64(T, CNT - 8), guard);
        assert_int_equal(rvt_r64(T, CNT + 8), guard);
        assert_int_equal(h->x[A2], c->rs2); /* rs2 untouched */
    }
}

/* AMOs and SC need natural alignment: misaligned ones raise store/AMO
 * address-misaligned (6), a misaligned LR raises load address-misaligned
 * (4); mtval is the address. AMOs where nothing is mapped raise access
 * faults (7 for AMO/SC, 5 for LR). */
static void test_amo_faults(void **state)
{
    struct rv_hart *h = rvt_hart(T, 0);
    static const struct { uint32_t insn; uint64_t addr, cause; } cases[] = {
        { 0, CNT + 2, EXC_STORE_MISALIGNED },  /* amoadd.w */
        { 1, CNT + 4, EXC_STORE_MISALIGNED },  /* amoswap.d */
        { 2, CNT + 1, EXC_LOAD_MISALIGNED },   /* lr.w */
        { 3, CNT + 4, EXC_LOAD_MISALIGNED },   /* lr.d */
        { 4, CNT + 2, EXC_STORE_MISALIGNED },  /* sc.w */
        { 0, RVT_HOLE, EXC_STORE_ACCESS },
        { 2, RVT_HOLE + 8, EXC_LOAD_ACCESS },
        { 1, RVT_MMIO_BASE, EXC_STORE_ACCESS }, /* no atomics on MMIO */
    };
    const uint32_t insns[] = { rvi_amo(AMO_ADD, 2, A0, A2, A1), rvi_amo(AMO_SWAP, 3, A0, A2, A1), rvi_lr_w(A0, A1),
                               rvi_lr_d(A0, A1), rvi_sc_w(A0, A2, A1) };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rvt_w64(T, CNT, 0);
        rvt_w64(T, CNT + 8, 0);
        h->x[A0] = 1234;
        h->x[A1] = cases[i].addr;
        h->x[A2] = ~0ull;
        rvt_code(T, RVT_CODE, rvi_nop(), insns[cases[i].insn], rvi_ebreak());
        h->pc = RVT_CODE;
        assert_true(rvt_run(h));
        assert_int_equal(h->mcause, cases[i].cause);
        assert_int_equal(h->mepc, RVT_CODE + 4);
        assert_int_equal(h->mtval, cases[i].addr);
        assert_int_equal(h->x[A0], 1234);
        assert_int_equal(rvt_r64(T, CNT), 0);
        assert_int_equal(rvt_r64(T, CNT + 8), 0);
    }
}

/* ---- several harts on several host threads ---- */

#define ITERS 100000

struct runner {
    struct rv_hart *h;
    pthread_barrier_t *start;
};

static void *run_thread(void *arg)
{
    struct runner *r = arg;
    pthread_barrier_wait(r->start);
    /* each loop iteration is one block or a few; leave ample budget */
    for (uint64_t i = 0; i < 100 * ITERS && r->h->pc != RVT_TRAP; i += 256)
        rv_hart_step_blocks(r->h, 256);
    return NULL;
}

/* Start hart i at pc (a0 = counter, a1 = iterations, t1 = 1) on its own
 * thread; wait for all; each must have ended with its EBREAK. */
static void run_parallel(struct rvt *t, unsigned n, const uint64_t *pcs)
{
    pthread_t th[4];
    struct runner r[4];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, n);
    for (unsigned i = 0; i < n; i++) {
        struct rv_hart *h = rvt_hart(t, i);
        h->pc = pcs[i];
        h->x[A0] = CNT;
        h->x[A1] = ITERS;
        h->x[T1] = 1;
        r[i] = (struct runner){ h, &start };
        assert_int_equal(pthread_create(&th[i], NULL, run_thread, &r[i]), 0);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(rvt_hart(t, i)->pc, RVT_TRAP);
        assert_int_equal(rvt_hart(t, i)->mcause, EXC_BREAKPOINT);
        assert_int_equal(rvt_hart(t, i)->x[A1], 0);
    }
}

#define AMO_LOOP (RVT_CODE)
#define LRSC_LOOP (RVT_CODE + 0x100)

static void put_loops(struct rvt *t)
{
    /* loop: amoadd.w zero, t1, (a0); addi a1, a1, -1; bnez a1, loop; ebreak */
    rvt_code(t, AMO_LOOP, rvi_amo(AMO_ADD, 2, ZERO, T1, A0), rvi_addi(A1, A1, -1), rvi_bne(A1, ZERO, -8),
             rvi_ebreak());
    /* loop: lr.w t0, (a0); addi t0, t0, 1; sc.w t2, t0, (a0); bnez t2, loop;
     *       addi a1, a1, -1; bnez a1, loop; ebreak */
    rvt_code(t, LRSC_LOOP, rvi_lr_w(T0, A0), rvi_addi(T0, T0, 1), rvi_sc_w(T2, T0, A0), rvi_bne(T2, ZERO, -12),
             rvi_addi(A1, A1, -1), rvi_bne(A1, ZERO, -20), rvi_ebreak());
}

static void test_parallel_amoadd(void **state)
{
    put_loops(T);
    rvt_w64(T, CNT, 0);
    const uint64_t pcs[4] = { AMO_LOOP, AMO_LOOP, AMO_LOOP, AMO_LOOP };
    run_parallel(T, 4, pcs);
    assert_int_equal(rvt_r32(T, CNT), 4 * ITERS);
    assert_int_equal(rvt_r32(T, CNT + 4), 0);
}

static void test_parallel_lrsc(void **state)
{
    put_loops(T);
    rvt_w64(T, CNT, 0);
    const uint64_t pcs[4] = { LRSC_LOOP, LRSC_LOOP, LRSC_LOOP, LRSC_LOOP };
    run_parallel(T, 4, pcs);
    assert_int_equal(rvt_r32(T, CNT), 4 * ITERS);
}

/* LR/SC harts and AMO harts mixed on one counter: an AMO from another hart
 * must make a pending SC fail. */
static void test_parallel_mixed(void **state)
{
    put_loops(T);
    rvt_w64(T, CNT, 0);
    const uint64_t pcs[4] = { LRSC_LOOP, AMO_LOOP, LRSC_LOOP, AMO_LOOP };
    run_parallel(T, 4, pcs);
    assert_int_equal(rvt_r32(T, CNT), 4 * ITERS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sc_without_reservation, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_lr_sc_success, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_sc_other_address, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_sc_after_remote_store, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_amo_ops, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_amo_faults, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_parallel_amoadd, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_parallel_lrsc, rvt_setup_4harts, rvt_teardown),
        cmocka_unit_test_setup_teardown(test_parallel_mixed, rvt_setup_4harts, rvt_teardown),
    };
    return cmocka_run_group_tests_name("atomic", tests, NULL, NULL);
}

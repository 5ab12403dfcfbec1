/* PLIC (SiFive PLIC 1.0.0 / riscv-plic-spec): priorities, per-context
 * enables and thresholds, claim/complete, level-triggered re-pending, and
 * the MEIP/SEIP outputs (context 2h = hart h M-mode, 2h+1 = S-mode). Driven
 * directly through plic_set_irq() and plic_mmio_ops on a 2-hart rv_sys. */
#include "machine/plic.h"
#include "rv_testutil.h"

#define PRIO(src) (4u * (src))
#define PENDING(word) (0x1000u + 4u * (word))
#define ENABLE(ctx, word) (0x2000u + 0x80u * (ctx) + 4u * (word))
#define THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define CLAIM(ctx) (0x200004u + 0x1000u * (ctx))

struct ctx {
    struct rvt *t;
    struct plic *p;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->t = rvt_new(2);
    c->p = plic_new(&c->t->sys, 2);
    assert_non_null(c->p);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    plic_free(c->p);
    rvt_free(c->t);
    free(c);
    return 0;
}

static uint32_t rd(struct ctx *c, uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    assert_true(plic_mmio_ops.read(c->p, NULL, off, 4, &v));
    return (uint32_t)v;
}

static void wr(struct ctx *c, uint64_t off, uint32_t v)
{
    assert_true(plic_mmio_ops.write(c->p, NULL, off, 4, v));
}

static uint64_t mip(struct ctx *c, unsigned hart) { return atomic_load(&rvt_hart(c->t, hart)->mip); }

static void enable(struct ctx *c, unsigned ctx, unsigned src)
{
    wr(c, ENABLE(ctx, src / 32), rd(c, ENABLE(ctx, src / 32)) | 1u << (src % 32));
}

/* A source interrupts a context only if it is enabled there and its
 * priority is above the context's threshold; priority 0 never interrupts. */
static void test_priority_threshold_enable(void **state)
{
    struct ctx *c = *state;
    wr(c, PRIO(5), 3);
    plic_set_irq(c->p, 5, true);
    assert_int_equal(rd(c, PENDING(0)), 1u << 5);
    assert_int_equal(mip(c, 0) & (MIP_SEIP | MIP_MEIP), 0); /* not enabled anywhere */

    enable(c, 1, 5); /* hart 0, S-mode */
    assert_int_equal(mip(c, 0) & (MIP_SEIP | MIP_MEIP), MIP_SEIP);
    assert_int_equal(mip(c, 1) & (MIP_SEIP | MIP_MEIP), 0);

    wr(c, THRESHOLD(1), 3); /* priority must exceed the threshold */
    assert_int_equal(mip(c, 0) & MIP_SEIP, 0);
    assert_int_equal(rd(c, CLAIM(1)), 0);
    wr(c, THRESHOLD(1), 2);
    assert_int_equal(mip(c, 0) & MIP_SEIP, MIP_SEIP);
    assert_int_equal(rd(c, THRESHOLD(1)), 2);

    wr(c, PRIO(5), 0); /* priority 0 = never */
    assert_int_equal(mip(c, 0) & MIP_SEIP, 0);
    wr(c, PRIO(5), 7);
    assert_int_equal(mip(c, 0) & MIP_SEIP, MIP_SEIP);

    wr(c, ENABLE(1, 0), 0); /* disable */
    assert_int_equal(mip(c, 0) & MIP_SEIP, 0);
    assert_int_equal(rd(c, PENDING(0)), 1u << 5); /* still pending at the gateway */

    /* priorities and thresholds are 3 bits wide */
    wr(c, PRIO(6), 0xffffffff);
    assert_int_equal(rd(c, PRIO(6)), PLIC_MAX_PRIORITY);
    wr(c, THRESHOLD(0), 0xffffffff);
    assert_int_equal(rd(c, THRESHOLD(0)), PLIC_MAX_PRIORITY);
}

/* Claim returns the highest-priority pending enabled source, ties going to
 * the lowest id, and 0 when nothing is left. */
static void test_claim_order(void **state)
{
    struct ctx *c = *state;
    static const unsigned srcs[] = { 3, 9, 7, 40, 95 };
    static const unsigned prio[] = { 2, 5, 5, 1, 5 };
    for (unsigned i = 0; i < 5; i++) {
        wr(c, PRIO(srcs[i]), prio[i]);
        enable(c, 0, srcs[i]);
        plic_set_irq(c->p, srcs[i], true);
    }
    assert_int_equal(rd(c, PENDING(1)), 1u << (40 - 32));
    assert_int_equal(rd(c, PENDING(2)), 1u << (95 - 64));
    assert_true(mip(c, 0) & MIP_MEIP);
    assert_int_equal(rd(c, CLAIM(0)), 7);
    assert_int_equal(rd(c, CLAIM(0)), 9);
    assert_int_equal(rd(c, CLAIM(0)), 95);
    assert_int_equal(rd(c, CLAIM(0)), 3);
    assert_true(mip(c, 0) & MIP_MEIP); /* 40 is still there */
    assert_int_equal(rd(c, CLAIM(0)), 40);
    assert_int_equal(mip(c, 0) & MIP_MEIP, 0);
    assert_int_equal(rd(c, CLAIM(0)), 0);
    assert_int_equal(rd(c, PENDING(0)) | rd(c, PENDING(1)) | rd(c, PENDING(2)), 0);
}

/* A claimed source is in service: it cannot be claimed again (by any
 * context) until completed. Completing a level-triggered source whose line
 * is still high makes it pending again; once the line is low it stays
 * quiet. */
static void test_claim_complete(void **state)
{
    struct ctx *c = *state;
    wr(c, PRIO(10), 1);
    enable(c, 0, 10);
    enable(c, 1, 10);
    plic_set_irq(c->p, 10, true);
    assert_true(mip(c, 0) & MIP_MEIP);
    assert_true(mip(c, 0) & MIP_SEIP);

    assert_int_equal(rd(c, CLAIM(1)), 10);
    /* claiming clears the pending bit, for every context */
    assert_int_equal(rd(c, PENDING(0)), 0);
    assert_int_equal(mip(c, 0) & (MIP_MEIP | MIP_SEIP), 0);
    assert_int_equal(rd(c, CLAIM(0)), 0);
    assert_int_equal(rd(c, CLAIM(1)), 0);
    /* the line toggling while in service does not make it claimable */
    plic_set_irq(c->p, 10, false);
    plic_set_irq(c->p, 10, true);
    assert_int_equal(rd(c, CLAIM(0)), 0);

    /* complete with the line still high: pending again */
    wr(c, CLAIM(1), 10);
    assert_int_equal(rd(c, PENDING(0)), 1u << 10);
    assert_true(mip(c, 0) & MIP_MEIP);
    assert_true(mip(c, 0) & MIP_SEIP);
    assert_int_equal(rd(c, CLAIM(0)), 10);

    /* line goes low while in service; complete: nothing more */
    plic_set_irq(c->p, 10, false);
    wr(c, CLAIM(0), 10);
    assert_int_equal(rd(c, PENDING(0)), 0);
    assert_int_equal(mip(c, 0) & (MIP_MEIP | MIP_SEIP), 0);
    assert_int_equal(rd(c, CLAIM(0)), 0);

    /* completing a source that is not in service changes nothing */
    plic_set_irq(c->p, 10, true);
    wr(c, CLAIM(0), 10);
    assert_int_equal(rd(c, CLAIM(0)), 10);
    assert_int_equal(rd(c, CLAIM(0)), 0);
}

/* Outputs: context 2h drives hart h's MEIP, 2h+1 its SEIP; each follows
 * that context's own enables and threshold. */
static void test_contexts_drive_harts(void **state)
{
    struct ctx *c = *state;
    wr(c, PRIO(1), 1);
    wr(c, PRIO(2), 1);
    enable(c, 2, 1); /* hart 1 M */
    enable(c, 3, 2); /* hart 1 S */
    plic_set_irq(c->p, 1, true);
    assert_int_equal(mip(c, 1) & (MIP_MEIP | MIP_SEIP), MIP_MEIP);
    assert_int_equal(mip(c, 0) & (MIP_MEIP | MIP_SEIP), 0);
    plic_set_irq(c->p, 2, true);
    assert_int_equal(mip(c, 1) & (MIP_MEIP | MIP_SEIP), MIP_MEIP | MIP_SEIP);
    wr(c, THRESHOLD(2), 1);
    assert_int_equal(mip(c, 1) & (MIP_MEIP | MIP_SEIP), MIP_SEIP);
    plic_set_irq(c->p, 2, false); /* level low before claim: no longer pending */
    assert_int_equal(mip(c, 1) & (MIP_MEIP | MIP_SEIP), 0);
    assert_int_equal(rd(c, CLAIM(3)), 0);
    wr(c, THRESHOLD(2), 0);
    assert_int_equal(rd(c, CLAIM(2)), 1);
    assert_int_equal(mip(c, 1) & MIP_MEIP, 0);
    assert_int_equal(mip(c, 0) & (MIP_MEIP | MIP_SEIP), 0);
}

/* Source 0 does not exist and ids past the last source are ignored
 * everywhere; contexts past the last hart read as 0. */
static void test_bad_ids(void **state)
{
    struct ctx *c = *state;
    wr(c, PRIO(0), 7);
    assert_int_equal(rd(c, PRIO(0)), 0);
    wr(c, ENABLE(0, 0), 0xffffffff);
    assert_int_equal(rd(c, ENABLE(0, 0)), 0xfffffffe); /* bit 0 hardwired off */
    plic_set_irq(c->p, 0, true);
    plic_set_irq(c->p, PLIC_NUM_SOURCES, true);
    plic_set_irq(c->p, 1000, true);
    plic_set_irq(c->p, ~0u, true);
    assert_int_equal(rd(c, PENDING(0)) | rd(c, PENDING(1)) | rd(c, PENDING(2)), 0);
    assert_int_equal(rd(c, CLAIM(0)), 0);
    assert_int_equal(mip(c, 0) & (MIP_MEIP | MIP_SEIP), 0);

    /* writes to nonexistent sources, words and contexts are dropped */
    wr(c, PRIO(PLIC_NUM_SOURCES), 5);
    assert_int_equal(rd(c, PRIO(PLIC_NUM_SOURCES)), 0);
    wr(c, ENABLE(0, 31), 0xffffffff);
    assert_int_equal(rd(c, ENABLE(0, 31)), 0);
    wr(c, ENABLE(4, 0), 0xffffffff); /* context 4 = hart 2: absent */
    assert_int_equal(rd(c, ENABLE(4, 0)), 0);
    wr(c, THRESHOLD(4), 3);
    assert_int_equal(rd(c, THRESHOLD(4)), 0);
    assert_int_equal(rd(c, CLAIM(4)), 0);
    assert_int_equal(rd(c, CLAIM(1000)), 0);

    /* completing id 0 or out-of-range ids is harmless */
    wr(c, PRIO(4), 1);
    enable(c, 0, 4);
    plic_set_irq(c->p, 4, true);
    wr(c, CLAIM(0), 0);
    wr(c, CLAIM(0), PLIC_NUM_SOURCES);
    wr(c, CLAIM(0), 0xffffffff);
    assert_int_equal(rd(c, CLAIM(0)), 4);
    assert_int_equal(rd(c, CLAIM(0)), 0);

    /* only 32-bit accesses */
    uint64_t v;
    assert_false(plic_mmio_ops.read(c->p, NULL, PRIO(4), 8, &v));
    assert_false(plic_mmio_ops.write(c->p, NULL, PRIO(4), 2, 1));
    assert_int_equal(rd(c, PRIO(4)), 1);
}

/* End to end: a hart with MEIE and MIE takes the external interrupt the
 * PLIC raises (cause 11, mepc = the interrupted instruction); claiming
 * then drops MEIP. */
static void test_hart_takes_meip(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = rvt_hart(c->t, 0);
    wr(c, PRIO(8), 1);
    enable(c, 0, 8);
    h->mie = MIP_MEIP;
    h->mstatus |= MSTATUS_MIE;
    rvt_code(c->t, RVT_CODE, rvi_j(0));
    h->pc = RVT_CODE;
    rv_hart_step_blocks(h, 3);
    assert_int_equal(h->pc, RVT_CODE); /* nothing pending yet */
    plic_set_irq(c->p, 8, true);
    assert_true(rvt_run(h));
    assert_int_equal(h->mcause, CAUSE_INTERRUPT | IRQ_MEI);
    assert_int_equal(h->mepc, RVT_CODE);
    assert_int_equal(rd(c, CLAIM(0)), 8);
    assert_int_equal(mip(c, 0) & MIP_MEIP, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_priority_threshold_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contexts_drive_harts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hart_takes_meip, setup, teardown),
    };
    return cmocka_run_group_tests_name("plic", tests, NULL, NULL);
}

/* Address translation (privileged spec 1.12, 4.3-4.4: Sv39, Sv48): page
 * tables are built in test RAM, satp is set, and S- or U-mode code is
 * entered through MRET with MPP set. Nothing is delegated, so every fault
 * comes back to M-mode at RVT_TRAP with mcause/mepc/mtval to inspect. */
#include "rv_testutil.h"

#define PTE_V 0x01ull
#define PTE_R 0x02ull
#define PTE_W 0x04ull
#define PTE_X 0x08ull
#define PTE_U 0x10ull
#define PTE_A 0x40ull
#define PTE_D 0x80ull
#define RWX_AD (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define RW_AD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define RX_AD (PTE_V | PTE_R | PTE_X | PTE_A | PTE_D)

/* physical layout */
#define PT_POOL (RVT_RAM_BASE + 0x100000) /* page tables, 4 KiB each */
#define CODE_PA (RVT_RAM_BASE + 0x20000)  /* S/U code */
#define DATA_PA (RVT_RAM_BASE + 0x30000)  /* data pages */
#define DATA2_PA (RVT_RAM_BASE + 0x31000)
#define SUPER2M_PA (RVT_RAM_BASE + 0x200000)
/* virtual layout */
#define CODE_VA 0x10000000ull
#define DATA_VA 0x20000000ull

struct ptb {
    struct rvt *t;
    unsigned levels; /* 3 = Sv39, 4 = Sv48 */
    uint64_t root, next;
};

static uint64_t pt_alloc(struct ptb *p)
{
    uint64_t pa = p->next;
    p->next += 4096;
    assert_true(p->next <= RVT_RAM_BASE + 0x200000);
    memset(rvt_ptr(p->t, pa), 0, 4096);
    return pa;
}

static void pt_init(struct ptb *p, struct rvt *t, unsigned levels, uint64_t pool)
{
    p->t = t;
    p->levels = levels;
    p->next = pool;
    p->root = pt_alloc(p);
}

static uint64_t pte_of(uint64_t pa, uint64_t flags) { return (pa >> 12) << 10 | flags; }

/* Physical address of the PTE for va at `level` (0 = 4 KiB leaf, 1 = 2 MiB,
 * 2 = 1 GiB), creating pointer tables on the way. */
static uint64_t pt_slot(struct ptb *p, uint64_t va, unsigned level)
{
    uint64_t table = p->root;
    for (unsigned l = p->levels - 1;; l--) {
        uint64_t slot = table + ((va >> (12 + 9 * l)) & 0x1ff) * 8;
        if (l == level)
            return slot;
        uint64_t e = rvt_r64(p->t, slot);
        if (!(e & PTE_V)) {
            uint64_t next = pt_alloc(p);
            e = pte_of(next, PTE_V);
            rvt_w64(p->t, slot, e);
        }
        table = (e >> 10) << 12;
    }
}

static void pt_map(struct ptb *p, uint64_t va, uint64_t pa, uint64_t flags, unsigned level)
{
    rvt_w64(p->t, pt_slot(p, va, level), pte_of(pa, flags));
}

static uint64_t satp_of(const struct ptb *p)
{
    uint64_t mode = p->levels == 3 ? SATP_MODE_SV39 : SATP_MODE_SV48;
    return mode << SATP_MODE_SHIFT | p->root >> 12;
}

struct ctx {
    struct rvt *t;
    struct rv_hart *h;
    struct ptb pt;
};

static int setup_levels(void **state, unsigned levels)
{
    struct ctx *c = calloc(1, sizeof(*c));
    c->t = rvt_new(1);
    c->h = rvt_hart(c->t, 0);
    c->t->sys.max_satp_mode = SATP_MODE_SV48;
    pt_init(&c->pt, c->t, levels, PT_POOL);
    /* code page: S-mode executable */
    pt_map(&c->pt, CODE_VA, CODE_PA, RX_AD, 0);
    pt_map(&c->pt, DATA_VA, DATA_PA, RW_AD, 0);
    rvt_w32(c->t, RVT_CODE, rvi_mret());
    assert_true(rv_csr_write(c->h, CSR_SATP, satp_of(&c->pt)));
    assert_int_equal(c->h->satp, satp_of(&c->pt));
    *state = c;
    return 0;
}
static int setup39(void **state) { return setup_levels(state, 3); }
static int setup48(void **state) { return setup_levels(state, 4); }

static int teardown(void **state)
{
    struct ctx *c = *state;
    rvt_free(c->t);
    free(c);
    return 0;
}

/* Enter `priv` at virtual address va through MRET and run until the hart
 * traps back to M-mode. */
static void enter(struct ctx *c, unsigned priv, uint64_t va)
{
    struct rv_hart *h = c->h;
    rvt_set_priv(h, RV_PRIV_M);
    h->mstatus = (h->mstatus & ~MSTATUS_MPP) | (uint64_t)priv << MSTATUS_MPP_SHIFT;
    h->mepc = va;
    h->mcause = h->mtval = 0xdead;
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    assert_int_equal(h->priv, RV_PRIV_M);
}

/* Place code at CODE_PA (seen at CODE_VA) and run it in `priv`. */
#define RUN_AT(c, priv, ...) \
    do { \
        rvt_code((c)->t, CODE_PA, __VA_ARGS__); \
        enter((c), (priv), CODE_VA); \
    } while (0)

static void expect_trap(struct ctx *c, uint64_t cause, uint64_t epc, uint64_t tval, unsigned from)
{
    struct rv_hart *h = c->h;
    if (h->mcause != cause)
        print_error("mcause %#llx, want %#llx (mepc %#llx mtval %#llx)\n", (unsigned long long)h->mcause,
                    (unsigned long long)cause, (unsigned long long)h->mepc, (unsigned long long)h->mtval);
    assert_int_equal(h->mcause, cause);
    assert_int_equal(h->mepc, epc);
    assert_int_equal(h->mtval, tval);
    assert_int_equal((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, from);
}
static void expect_ebreak(struct ctx *c, uint64_t epc, unsigned from)
{
    expect_trap(c, EXC_BREAKPOINT, epc, epc, from);
}

/* 4 KiB pages: loads and stores land at the mapped physical address. */
static void test_4k_pages(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    rvt_w64(c->t, DATA_PA + 0x10, 0x0123456789abcdefull);
    h->x[A1] = DATA_VA + 0x10;
    h->x[A2] = 0x5555;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_sd(A2, A1, 8), rvi_ld(A3, A1, 8), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 12, RV_PRIV_S);
    assert_int_equal(h->x[A0], 0x0123456789abcdefull);
    assert_int_equal(h->x[A3], 0x5555);
    assert_int_equal(rvt_r64(c->t, DATA_PA + 0x18), 0x5555);
}

/* Sv48: a fourth level, and negative (upper-half) addresses. */
static void test_sv48(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t hi = 0x00007f1234567000ull, neg = 0xffff800000001000ull;
    pt_map(&c->pt, hi, DATA_PA, RW_AD, 0);
    pt_map(&c->pt, neg, DATA2_PA, RW_AD, 0);
    rvt_w64(c->t, DATA_PA + 8, 111);
    rvt_w64(c->t, DATA2_PA + 8, 222);
    h->x[A1] = hi;
    h->x[A2] = neg;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 8), rvi_ld(A3, A2, 8), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 8, RV_PRIV_S);
    assert_int_equal(h->x[A0], 111);
    assert_int_equal(h->x[A3], 222);
}

/* Superpages: a leaf at level 1 maps 2 MiB, at level 2 1 GiB; the low VPN
 * bits pass through to the physical address. */
static void test_superpages(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t va2m = 0x60200000ull, va1g = 0xc0000000ull;
    pt_map(&c->pt, va2m, SUPER2M_PA, RW_AD, 1);
    pt_map(&c->pt, va1g, RVT_RAM_BASE, RW_AD, 2); /* 0x80000000 is 1 GiB aligned */
    rvt_w64(c->t, SUPER2M_PA + 0x1ff238, 0x2222);
    rvt_w64(c->t, RVT_RAM_BASE + 0x123458, 0x1111);
    h->x[A1] = va2m + 0x1ff238;
    h->x[A2] = va1g + 0x123458;
    h->x[A3] = 0x3333;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ld(A4, A2, 0), rvi_sd(A3, A2, 8), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 12, RV_PRIV_S);
    assert_int_equal(h->x[A0], 0x2222);
    assert_int_equal(h->x[A4], 0x1111);
    assert_int_equal(rvt_r64(c->t, RVT_RAM_BASE + 0x123460), 0x3333);
}

/* A superpage whose PPN is not aligned to its size is a page fault
 * (4.3.2 step 6). */
static void test_misaligned_superpage(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t va2m = 0x60200000ull, va1g = 0xc0000000ull;
    pt_map(&c->pt, va2m, SUPER2M_PA + 0x1000, RW_AD, 1);
    pt_map(&c->pt, va1g, RVT_RAM_BASE + 0x200000, RW_AD, 2);
    h->x[A1] = va2m + 8;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, va2m + 8, RV_PRIV_S);
    h->x[A1] = va1g + 16;
    RUN_AT(c, RV_PRIV_S, rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, va1g + 16, RV_PRIV_S);
}

/* Invalid PTEs: V = 0, or W without R (reserved), or a pointer at level 0;
 * the cause follows the access (12 fetch, 13 load, 15 store/AMO) and
 * mtval is the faulting virtual address. */
static void test_invalid_pte(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t wx = 0x30000000ull, wonly = 0x30001000ull, ro = 0x30002000ull, nx = 0x30003000ull;
    const uint64_t ptr0 = 0x30004000ull;
    pt_map(&c->pt, wx, DATA_PA, PTE_V | PTE_W | PTE_X | PTE_A | PTE_D, 0);
    pt_map(&c->pt, wonly, DATA_PA, PTE_V | PTE_W | PTE_A | PTE_D, 0);
    pt_map(&c->pt, ro, DATA_PA, PTE_V | PTE_R | PTE_A, 0);
    pt_map(&c->pt, nx, CODE_PA, RW_AD, 0);
    pt_map(&c->pt, ptr0, DATA_PA, PTE_V, 0); /* non-leaf at the last level */

    /* V = 0: unmapped neighbour of the data page */
    h->x[A1] = DATA_VA + 0x1000 + 24;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, DATA_VA + 0x1018, RV_PRIV_S);
    RUN_AT(c, RV_PRIV_S, rvi_nop(), rvi_sw(A0, A1, 4), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA + 4, DATA_VA + 0x101c, RV_PRIV_S);
    RUN_AT(c, RV_PRIV_S, rvi_amo(AMO_ADD, 3, A0, A0, A1), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, DATA_VA + 0x1018, RV_PRIV_S);
    RUN_AT(c, RV_PRIV_S, rvi_lr_d(A0, A1), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, DATA_VA + 0x1018, RV_PRIV_S);
    h->x[A1] = DATA_VA + 0x1000;
    RUN_AT(c, RV_PRIV_S, rvi_jalr(RA, A1, 0x20), rvi_ebreak());
    expect_trap(c, EXC_INSN_PAGE_FAULT, DATA_VA + 0x1020, DATA_VA + 0x1020, RV_PRIV_S);

    /* W without R is reserved: every access faults, even a store */
    h->x[A1] = wx;
    RUN_AT(c, RV_PRIV_S, rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, wx, RV_PRIV_S);
    h->x[A1] = wonly;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, wonly, RV_PRIV_S);
    h->x[A1] = wx;
    RUN_AT(c, RV_PRIV_S, rvi_jalr(RA, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_INSN_PAGE_FAULT, wx, wx, RV_PRIV_S);

    /* permissions: store to read-only, fetch from non-executable */
    h->x[A1] = ro;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA + 4, ro, RV_PRIV_S);
    h->x[A1] = nx;
    RUN_AT(c, RV_PRIV_S, rvi_jalr(RA, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_INSN_PAGE_FAULT, nx, nx, RV_PRIV_S);

    /* a pointer PTE at level 0 */
    h->x[A1] = ptr0;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, ptr0, RV_PRIV_S);
}

/* Accesses that straddle a mapped and an unmapped page fault as a whole:
 * mepc is the instruction, mtval the address of the portion that faulted
 * (3.1.16), and a store writes nothing. A 32-bit instruction whose second
 * half is on an unmapped page likewise. */
static void test_page_crossing_faults(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t next = DATA_VA + 0x1000;
    rvt_w64(c->t, DATA_PA + 0xff8, 0x1111111111111111ull);
    h->x[A1] = DATA_VA + 0xff0;
    h->x[A0] = 0x2222222222222222ull;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A2, A1, 0xc), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, next, RV_PRIV_S);
    RUN_AT(c, RV_PRIV_S, rvi_sd(A0, A1, 0xa), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, next, RV_PRIV_S);
    assert_int_equal(rvt_r64(c->t, DATA_PA + 0xff8), 0x1111111111111111ull);

    /* instruction: c.nop at page end - 4, then addi split over the edge */
    uint32_t addi = rvi_addi(A3, ZERO, 7);
    rvt_code16(c->t, CODE_PA + 0xffc, 0x0001, (uint16_t)addi);
    h->x[A3] = 0;
    enter(c, RV_PRIV_S, CODE_VA + 0xffc);
    expect_trap(c, EXC_INSN_PAGE_FAULT, CODE_VA + 0xffe, CODE_VA + 0x1000, RV_PRIV_S);
    assert_int_equal(h->x[A3], 0);
    /* mapped, it runs */
    pt_map(&c->pt, CODE_VA + 0x1000, CODE_PA + 0x1000, RX_AD, 0);
    rvt_code16(c->t, CODE_PA + 0x1000, (uint16_t)(addi >> 16), 0x9002);
    enter(c, RV_PRIV_S, CODE_VA + 0xffc);
    expect_ebreak(c, CODE_VA + 0x1002, RV_PRIV_S);
    assert_int_equal(h->x[A3], 7);
}

/* A page-table walk that reaches a non-RAM address is an access fault of
 * the original access type (4.3.2 step 2). */
static void test_pte_access_fault(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    /* make the level-1 entry for 0x50000000 point at the hole */
    uint64_t l1 = pt_slot(&c->pt, 0x50000000ull, 1);
    rvt_w64(c->t, l1, pte_of(RVT_HOLE, PTE_V));
    h->x[A1] = 0x50000000ull;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_ACCESS, CODE_VA, 0x50000000ull, RV_PRIV_S);
}

/* Hardware A/D updating (Svadu behaviour): the walk sets A on any access
 * and D on a store, writing the PTE in memory. */
static void test_accessed_dirty(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t va = 0x30000000ull, cva = 0x30001000ull;
    pt_map(&c->pt, va, DATA_PA, PTE_V | PTE_R | PTE_W, 0);
    pt_map(&c->pt, cva, CODE_PA, PTE_V | PTE_R | PTE_X, 0);
    uint64_t pte_addr = pt_slot(&c->pt, va, 0), cpte_addr = pt_slot(&c->pt, cva, 0);
    h->x[A1] = va;

    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 4, RV_PRIV_S);
    assert_int_equal(rvt_r64(c->t, pte_addr) & (PTE_A | PTE_D), PTE_A);

    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_sd(A0, A1, 8), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 8, RV_PRIV_S);
    assert_int_equal(rvt_r64(c->t, pte_addr) & (PTE_A | PTE_D), PTE_A | PTE_D);
    assert_int_equal(rvt_r64(c->t, pte_addr) >> 10, DATA_PA >> 12); /* rest untouched */

    /* a fetch sets A on the code page */
    assert_int_equal(rvt_r64(c->t, cpte_addr) & PTE_A, 0);
    enter(c, RV_PRIV_S, cva); /* CODE_PA starts with ld; sd; ebreak */
    expect_ebreak(c, cva + 8, RV_PRIV_S);
    assert_int_equal(rvt_r64(c->t, cpte_addr) & (PTE_A | PTE_D), PTE_A);

    /* a faulting access sets nothing */
    const uint64_t ro = 0x30002000ull;
    pt_map(&c->pt, ro, DATA_PA, PTE_V | PTE_R, 0);
    h->x[A1] = ro;
    RUN_AT(c, RV_PRIV_S, rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, ro, RV_PRIV_S);
    assert_int_equal(rvt_r64(c->t, pt_slot(&c->pt, ro, 0)) & (PTE_A | PTE_D), 0);
}

/* U/S protection (4.3.1, 3.1.6.3): S-mode touches U pages only with SUM and
 * never executes them; U-mode touches only U pages. */
static void test_user_supervisor(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t uva = 0x30000000ull, ucode = 0x30001000ull, ucode_pa = CODE_PA + 0x1000;
    pt_map(&c->pt, uva, DATA_PA, RW_AD | PTE_U, 0);
    pt_map(&c->pt, ucode, ucode_pa, RX_AD | PTE_U, 0);
    rvt_w64(c->t, DATA_PA, 0x77);
    h->x[A1] = uva;
    h->x[T0] = MSTATUS_SUM;

    /* S without SUM: load faults */
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, uva, RV_PRIV_S);
    /* S sets SUM: works; clears it again: faults again (no stale TLB) */
    h->x[A0] = 0;
    RUN_AT(c, RV_PRIV_S, rvi_csrrs(ZERO, CSR_SSTATUS, T0), rvi_ld(A0, A1, 0), rvi_sd(A0, A1, 8),
           rvi_csrrc(ZERO, CSR_SSTATUS, T0), rvi_sd(A0, A1, 16), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA + 16, uva + 16, RV_PRIV_S);
    assert_int_equal(h->x[A0], 0x77);
    assert_int_equal(rvt_r64(c->t, DATA_PA + 8), 0x77);

    /* S fetch from a U page faults, with or without SUM */
    rvt_code(c->t, ucode_pa, rvi_addi(A2, ZERO, 1), rvi_ebreak());
    h->x[A1] = ucode;
    RUN_AT(c, RV_PRIV_S, rvi_csrrs(ZERO, CSR_SSTATUS, T0), rvi_jalr(RA, A1, 0));
    expect_trap(c, EXC_INSN_PAGE_FAULT, ucode, ucode, RV_PRIV_S);
    h->mstatus &= ~MSTATUS_SUM;

    /* U runs its own page and reads U data */
    h->x[A1] = uva;
    h->x[A2] = 0;
    rvt_code(c->t, ucode_pa, rvi_ld(A0, A1, 0), rvi_addi(A2, ZERO, 1), rvi_ebreak());
    enter(c, RV_PRIV_U, ucode);
    expect_ebreak(c, ucode + 8, RV_PRIV_U);
    assert_int_equal(h->x[A2], 1);
    assert_int_equal(h->x[A0], 0x77);

    /* U touching an S page faults (load and store), U fetching one too */
    h->x[A1] = DATA_VA;
    rvt_code(c->t, ucode_pa, rvi_ld(A0, A1, 0), rvi_ebreak());
    enter(c, RV_PRIV_U, ucode);
    expect_trap(c, EXC_LOAD_PAGE_FAULT, ucode, DATA_VA, RV_PRIV_U);
    rvt_code(c->t, ucode_pa, rvi_sb(A0, A1, 3), rvi_ebreak());
    enter(c, RV_PRIV_U, ucode);
    expect_trap(c, EXC_STORE_PAGE_FAULT, ucode, DATA_VA + 3, RV_PRIV_U);
    enter(c, RV_PRIV_U, CODE_VA);
    expect_trap(c, EXC_INSN_PAGE_FAULT, CODE_VA, CODE_VA, RV_PRIV_U);
    /* SUM does not help U-mode */
    h->mstatus |= MSTATUS_SUM;
    rvt_code(c->t, ucode_pa, rvi_ld(A0, A1, 0), rvi_ebreak());
    enter(c, RV_PRIV_U, ucode);
    expect_trap(c, EXC_LOAD_PAGE_FAULT, ucode, DATA_VA, RV_PRIV_U);
}

/* MXR makes loads from execute-only pages succeed (3.1.6.3). */
static void test_mxr(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t xo = 0x30000000ull;
    pt_map(&c->pt, xo, DATA_PA, PTE_V | PTE_X | PTE_A, 0);
    rvt_w64(c->t, DATA_PA, 0x99);
    h->x[A1] = xo;
    h->x[T0] = MSTATUS_MXR;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, xo, RV_PRIV_S);
    h->x[A0] = 0;
    RUN_AT(c, RV_PRIV_S, rvi_csrrs(ZERO, CSR_SSTATUS, T0), rvi_ld(A0, A1, 0), rvi_csrrc(ZERO, CSR_SSTATUS, T0),
           rvi_ld(A2, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA + 12, xo, RV_PRIV_S);
    assert_int_equal(h->x[A0], 0x99);
    /* MXR never allows stores */
    RUN_AT(c, RV_PRIV_S, rvi_csrrs(ZERO, CSR_SSTATUS, T0), rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA + 4, xo, RV_PRIV_S);
}

/* Virtual addresses must be the sign extension of their low 39 (Sv39) or 48
 * (Sv48) bits; others page-fault even if the index bits hit a mapping. */
static void test_noncanonical(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    unsigned top = c->pt.levels == 3 ? 38 : 47;
    const uint64_t canon = ~0ull << top;           /* top bit and all above set */
    const uint64_t bad = 1ull << top;              /* top bit set, upper clear */
    const uint64_t bad2 = canon ^ (1ull << 63);    /* upper bits not all equal */
    pt_map(&c->pt, canon, DATA_PA, RW_AD, 0);
    rvt_w64(c->t, DATA_PA, 0xcafe);
    h->x[A1] = canon;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 4, RV_PRIV_S);
    assert_int_equal(h->x[A0], 0xcafe);
    h->x[A1] = bad;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_LOAD_PAGE_FAULT, CODE_VA, bad, RV_PRIV_S);
    h->x[A1] = bad2;
    RUN_AT(c, RV_PRIV_S, rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA, bad2, RV_PRIV_S);
    h->x[A1] = bad;
    RUN_AT(c, RV_PRIV_S, rvi_jalr(ZERO, A1, 0));
    expect_trap(c, EXC_INSN_PAGE_FAULT, bad, bad, RV_PRIV_S);
}

/* Writing satp with an unsupported MODE has no effect at all (4.1.11);
 * Linux probes Sv57/Sv48 this way. ASIDLEN is 0. */
static void test_satp_modes(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t ppn = c->pt.root >> 12;
    rv_csr_write(h, CSR_SATP, 0);
    assert_int_equal(h->satp, 0);
    h->x[A0] = (uint64_t)SATP_MODE_SV57 << 60 | ppn; /* beyond max_satp_mode (Sv48) */
    h->x[A2] = 5ull << 60 | ppn;                     /* reserved mode */
    h->x[A4] = (uint64_t)SATP_MODE_SV48 << 60 | 0xffffull << 44 | ppn;
    h->x[A6] = 15ull << 60 | ppn;
    rvt_code(c->t, RVT_CODE, rvi_csrw(CSR_SATP, A0), rvi_csrr(A1, CSR_SATP), rvi_csrw(CSR_SATP, A2),
             rvi_csrr(A3, CSR_SATP), rvi_csrw(CSR_SATP, A4), rvi_csrr(A5, CSR_SATP), rvi_csrw(CSR_SATP, A6),
             rvi_csrr(A7, CSR_SATP), rvi_ebreak());
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A1], 0);
    assert_int_equal(h->x[A3], 0);
    assert_int_equal(h->x[A5], (uint64_t)SATP_MODE_SV48 << 60 | ppn); /* ASID bits read as 0 */
    assert_int_equal(h->x[A7], (uint64_t)SATP_MODE_SV48 << 60 | ppn); /* unchanged */

    /* with Sv39 as the maximum, Sv48 is refused too */
    c->t->sys.max_satp_mode = SATP_MODE_SV39;
    rv_csr_write(h, CSR_SATP, 0);
    assert_true(rv_csr_write(h, CSR_SATP, (uint64_t)SATP_MODE_SV48 << 60 | ppn));
    assert_int_equal(h->satp, 0);
    assert_true(rv_csr_write(h, CSR_SATP, (uint64_t)SATP_MODE_SV39 << 60 | ppn));
    assert_int_equal(h->satp, (uint64_t)SATP_MODE_SV39 << 60 | ppn);
}

/* SFENCE.VMA makes a changed PTE visible (4.2.1), for the whole address
 * space and for one address. */
static void test_sfence_vma(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t slot = pt_slot(&c->pt, DATA_VA, 0);
    rvt_w64(c->t, DATA_PA, 1);
    rvt_w64(c->t, DATA2_PA, 2);
    h->x[A1] = DATA_VA;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ebreak());
    assert_int_equal(h->x[A0], 1);

    rvt_w64(c->t, slot, pte_of(DATA2_PA, RW_AD));
    RUN_AT(c, RV_PRIV_S, rvi_sfence_vma(ZERO, ZERO), rvi_ld(A0, A1, 0), rvi_sd(A0, A1, 8), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 12, RV_PRIV_S);
    assert_int_equal(h->x[A0], 2);
    assert_int_equal(rvt_r64(c->t, DATA2_PA + 8), 2);

    rvt_w64(c->t, slot, pte_of(DATA_PA, RW_AD));
    RUN_AT(c, RV_PRIV_S, rvi_sfence_vma(A1, ZERO), rvi_ld(A0, A1, 0), rvi_ebreak());
    assert_int_equal(h->x[A0], 1);

    /* invalidating a PTE: the next access faults */
    rvt_w64(c->t, slot, 0);
    RUN_AT(c, RV_PRIV_S, rvi_sfence_vma(A1, ZERO), rvi_sd(A0, A1, 0), rvi_ebreak());
    expect_trap(c, EXC_STORE_PAGE_FAULT, CODE_VA + 4, DATA_VA, RV_PRIV_S);
}

/* SFENCE.VMA with an address orders the leaf PTE that maps it: for a
 * superpage, every address it covers must see the new PTE. */
static void test_sfence_vma_superpage(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t va = 0x60200000ull;
    pt_map(&c->pt, va, SUPER2M_PA, RW_AD, 1);
    const uint64_t slot = pt_slot(&c->pt, va, 1);
    rvt_w64(c->t, SUPER2M_PA + 0x3000, 10);
    rvt_w64(c->t, SUPER2M_PA + 0x4000, 11);
    rvt_w64(c->t, RVT_RAM_BASE + 0x3000, 20);
    rvt_w64(c->t, RVT_RAM_BASE + 0x4000, 21);
    h->x[A1] = va + 0x3000;
    h->x[A2] = va + 0x4000;
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_ld(A3, A2, 0), rvi_ebreak());
    assert_int_equal(h->x[A0], 10);
    assert_int_equal(h->x[A3], 11);
    /* move the superpage; fence one address inside it; read another */
    rvt_w64(c->t, slot, pte_of(RVT_RAM_BASE, RW_AD));
    RUN_AT(c, RV_PRIV_S, rvi_sfence_vma(A1, ZERO), rvi_ld(A3, A2, 0), rvi_ld(A0, A1, 0), rvi_ebreak());
    assert_int_equal(h->x[A0], 20);
    assert_int_equal(h->x[A3], 21);
}

/* Vireo flushes its TLB when satp is written (stronger than the spec
 * requires with ASIDLEN = 0, where software must SFENCE): after switching
 * page tables, the new tables are used. */
static void test_satp_write_flushes(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    struct ptb other;
    pt_init(&other, c->t, c->pt.levels, c->pt.next + 0x10000);
    pt_map(&other, CODE_VA, CODE_PA, RX_AD, 0);
    pt_map(&other, DATA_VA, DATA2_PA, RW_AD, 0);
    rvt_w64(c->t, DATA_PA, 1);
    rvt_w64(c->t, DATA2_PA, 2);
    h->x[A1] = DATA_VA;
    h->x[A2] = satp_of(&other);
    h->x[A4] = satp_of(&c->pt);
    RUN_AT(c, RV_PRIV_S, rvi_ld(A0, A1, 0), rvi_csrw(CSR_SATP, A2), rvi_ld(A3, A1, 0), rvi_csrw(CSR_SATP, A4),
           rvi_ld(A5, A1, 0), rvi_csrw(CSR_SATP, ZERO), rvi_ebreak());
    /* after satp = 0 (Bare) the next fetch is physical: CODE_VA + 24 has
     * nothing behind it */
    expect_trap(c, EXC_INSN_ACCESS, CODE_VA + 24, CODE_VA + 24, RV_PRIV_S);
    assert_int_equal(h->x[A0], 1);
    assert_int_equal(h->x[A3], 2);
    assert_int_equal(h->x[A5], 1);
}

/* MPRV = 1 makes M-mode loads and stores translate as MPP (3.1.6.3);
 * instruction fetch stays physical. */
static void test_mprv(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    rvt_w64(c->t, DATA_PA, 0x4242);
    h->x[A1] = DATA_VA;
    h->x[T0] = MSTATUS_MPRV;
    h->x[T1] = (uint64_t)RV_PRIV_S << MSTATUS_MPP_SHIFT;
    rvt_code(c->t, RVT_CODE, rvi_csrrs(ZERO, CSR_MSTATUS, T1), rvi_csrrs(ZERO, CSR_MSTATUS, T0), rvi_ld(A0, A1, 0),
             rvi_csrrc(ZERO, CSR_MSTATUS, T0), rvi_ebreak());
    rvt_set_priv(h, RV_PRIV_M);
    h->pc = RVT_CODE;
    rvt_run_to_ebreak(h);
    assert_int_equal(h->x[A0], 0x4242);
    /* without MPRV the same address is physical: nothing there */
    rvt_code(c->t, RVT_CODE, rvi_ld(A0, A1, 0), rvi_ebreak());
    h->pc = RVT_CODE;
    assert_true(rvt_run(h));
    expect_trap(c, EXC_LOAD_ACCESS, RVT_CODE, DATA_VA, RV_PRIV_M);
    rvt_w32(c->t, RVT_CODE, rvi_mret()); /* restore for other users */
}

/* SFENCE.VMA is illegal in U-mode and in S-mode with TVM; so is satp
 * access in S-mode with TVM (3.1.6.5). */
static void test_sfence_tvm(void **state)
{
    struct ctx *c = *state;
    struct rv_hart *h = c->h;
    const uint64_t ucode = 0x30001000ull;
    pt_map(&c->pt, ucode, CODE_PA, RX_AD | PTE_U, 0);
    rvt_code(c->t, CODE_PA, rvi_sfence_vma(ZERO, ZERO), rvi_ebreak());
    enter(c, RV_PRIV_U, ucode);
    expect_trap(c, EXC_ILLEGAL_INSN, ucode, h->mtval, RV_PRIV_U);
    h->mstatus |= MSTATUS_TVM;
    enter(c, RV_PRIV_S, CODE_VA);
    expect_trap(c, EXC_ILLEGAL_INSN, CODE_VA, h->mtval, RV_PRIV_S);
    RUN_AT(c, RV_PRIV_S, rvi_csrr(A0, CSR_SATP), rvi_ebreak());
    expect_trap(c, EXC_ILLEGAL_INSN, CODE_VA, rvi_csrr(A0, CSR_SATP), RV_PRIV_S);
    h->mstatus &= ~MSTATUS_TVM;
    RUN_AT(c, RV_PRIV_S, rvi_sfence_vma(ZERO, ZERO), rvi_csrr(A0, CSR_SATP), rvi_ebreak());
    expect_ebreak(c, CODE_VA + 8, RV_PRIV_S);
    assert_int_equal(h->x[A0], h->satp);
}

#define BOTH(fn) \
    cmocka_unit_test_prestate_setup_teardown(fn, setup39, teardown, NULL), \
    { #fn "_sv48", fn, setup48, teardown, NULL }

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_4k_pages),
        cmocka_unit_test_setup_teardown(test_sv48, setup48, teardown),
        BOTH(test_superpages),
        BOTH(test_misaligned_superpage),
        BOTH(test_invalid_pte),
        BOTH(test_page_crossing_faults),
        cmocka_unit_test_setup_teardown(test_pte_access_fault, setup39, teardown),
        BOTH(test_accessed_dirty),
        BOTH(test_user_supervisor),
        cmocka_unit_test_setup_teardown(test_mxr, setup39, teardown),
        BOTH(test_noncanonical),
        cmocka_unit_test_setup_teardown(test_satp_modes, setup39, teardown),
        BOTH(test_sfence_vma),
        BOTH(test_sfence_vma_superpage),
        cmocka_unit_test_setup_teardown(test_satp_write_flushes, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_mprv, setup39, teardown),
        cmocka_unit_test_setup_teardown(test_sfence_tvm, setup39, teardown),
    };
    return cmocka_run_group_tests_name("mmu", tests, NULL, NULL);
}

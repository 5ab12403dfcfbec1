/* Fuzz target: the RISC-V interpreter (src/riscv: decoder, block cache and
 * chaining, TLB and page walks, CSRs, traps and interrupts, LR/SC and AMOs,
 * the FPU) running arbitrary guest code on one or two harts.
 *
 * Input: a 32-byte header (missing bytes read as zero), then a RAM image:
 * the rest of the input is copied to the start of a 64 KiB guest RAM at
 * 0x80000000 (the rest of RAM is zero, i.e. c.unimp). The header:
 *   [0]  bits 0-1 start privilege (0 U, 1 S, 2-3 M); bits 2-4 paging:
 *        0 bare, 1-3 Sv39/Sv48/Sv57 with tables built here, 4-5 Sv39/Sv48
 *        with the root table taken from the image (page [13] & 15);
 *        bit 5 mstatus.FS on; bit 6 delegate everything to S; bit 7 two
 *        harts (sharing RAM and the translated-code map)
 *   [1]  mstatus: MPRV SUM MXR TVM TW TSR MIE SIE (bits 0-7)
 *   [2]  mie (bits 0-5 = SSI MSI STI MTI SEI MEI); bit 6 Sstc off;
 *        bit 7 ECALL from S served by a stub SBI (as the built-in SBI does)
 *   [3]  what happens between run chunks (of 64 blocks): after chunk c an
 *        interrupt line of the hart toggles if bit c % 8 is set; with bits
 *        0 and 7 a TLB-flush request arrives every 8th chunk, with bits 3
 *        and 4 (two harts) the other hart is sent a remote SFENCE.VMA
 *   [4-5] start pc, [6-7] mtvec, [8-9] stvec: offsets into RAM (LE; the
 *        low 2 bits of the vectors are their MODE field)
 *   [10] run length: (1 + [10]) * 64 blocks in all
 *   [11] fcsr (frm in bits 5-7, flags 0-4)
 *   [12] bits 0-1 largest satp mode offered (Sv39/48/57/57); bit 2
 *        stimecmp = 0 (STIP at once), bit 3 mtimecmp = 0; bit 4 menvcfg.STCE;
 *        bit 5 counters enabled for S and U; bits 6-7 MPP
 *   [13] raw paging: root page; [14] superpage PTE flags XOR 0xcf;
 *   [15] the second hart's start pc: RAM offset ([15] & 0xfe) * 256;
 *        bit 0: the JIT translates blocks (riscv/jit.h)
 *   [16-31] PTE flags of the 16 RAM pages in the built tables, XOR 0xcf
 *        (so 0 means V R W X A D, kernel page)
 * Built tables map RAM 1:1 at 0x80000000 (4 KiB pages) and also through a
 * 1 GiB page at VA 0 and a 2 MiB page at VA 0x80200000; they live in the
 * top pages of RAM (where the guest may rewrite them).
 *
 * Registers start as pointers into RAM and a few useful values (x24 a satp
 * value for the built tables, which exist in bare mode too; x25 = 0, RAM
 * through the 1 GiB page; x26 the MMIO device; x27 a hole; x31 the last
 * two bytes of RAM); FP registers as interesting bit patterns. The run is bounded by a block
 * budget split in chunks; WFI just ends a chunk. A small MMIO scratch
 * device sits at 0x10000000.
 *
 * Checked: ASan/UBSan (RAM, the MMIO buffer and the code map are
 * exact-size heap blocks, so any access past them is reported), and after
 * every chunk: x0 == 0, pc even (IALIGN 16 with C), privilege valid,
 * MPP not 2, satp mode valid, the TLB set pointers still point into the
 * hart's TLB arrays (an FP/X register overrun would corrupt them), MMIO
 * callbacks only see naturally aligned 1/2/4/8-byte accesses;
 * every 32 chunks and at the end: each cached block its page's generation
 * still calls valid decodes exactly as RAM does now (writes to code retire
 * blocks at once: that is what FENCE.I relies on), and every TLB entry in
 * use maps a whole page of RAM.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The interpreter's sources are compiled into this file, not taken from the
 * core library, because the checks below read its internals: the decoded
 * block format and its handler table (op_labels), which no header exports.
 * Whole files, so the library's copies of these objects are never linked. */
#include "../../src/riscv/decode.c"
#include "../../src/riscv/block.c"
#include "../../src/riscv/fpu.c"
#include "../../src/riscv/csr.c"
#include "../../src/riscv/trap.c"
#include "../../src/riscv/mmu.c"
#include "../../src/riscv/hart.c"
#include "../../src/riscv/exec.c"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull
#define MMIO_BASE 0x10000000ull
#define MMIO_SIZE 0x100ull
#define HDR 32
#define CHUNK_BLOCKS 64

/* page-table pages, top of RAM */
#define PT_L0 (RAM_BASE + 0xf000)
#define PT_L1 (RAM_BASE + 0xe000)
#define PT_L2 (RAM_BASE + 0xd000)
#define PT_L3 (RAM_BASE + 0xc000)
#define PT_L4 (RAM_BASE + 0xb000)
/* PTE_* come from mmu.c */

struct fx {
    uint8_t *ram;
    uint8_t *mmio;
    struct rv_sys sys;
};

static FILE *real_stderr; /* stderr while run() points it elsewhere */

static void fail(const char *what)
{
    fprintf(real_stderr ? real_stderr : stderr, "fuzz_riscv_exec: invariant broken: %s\n", what);
    abort();
}

static bool mmio_read(void *opaque, struct rv_hart *h, uint64_t pa, unsigned size, uint64_t *val)
{
    (void)h;
    struct fx *f = opaque;
    if ((size != 1 && size != 2 && size != 4 && size != 8) || (pa & (size - 1)))
        fail("MMIO read breaks the bus contract (size or alignment)");
    if (pa < MMIO_BASE || pa - MMIO_BASE > MMIO_SIZE - size)
        return false;
    uint64_t v = 0;
    memcpy(&v, f->mmio + (pa - MMIO_BASE), size);
    *val = v;
    return true;
}

static bool mmio_write(void *opaque, struct rv_hart *h, uint64_t pa, unsigned size, uint64_t val)
{
    (void)h;
    struct fx *f = opaque;
    if ((size != 1 && size != 2 && size != 4 && size != 8) || (pa & (size - 1)))
        fail("MMIO write breaks the bus contract (size or alignment)");
    if (pa < MMIO_BASE || pa - MMIO_BASE > MMIO_SIZE - size)
        return false;
    memcpy(f->mmio + (pa - MMIO_BASE), &val, size);
    return true;
}

/* A stand-in for the built-in SBI: answers, and touches what the real
 * one touches (timer, IPI, remote fences). */
static void sbi_stub(void *opaque, struct rv_hart *h)
{
    (void)opaque;
    switch (h->x[17]) {
    case 0x54494d45: /* TIME */
        h->stimecmp = h->x[10];
        rv_timer_update(h);
        break;
    case 0x735049: /* IPI */
        rv_hart_set_irq(h, MIP_SSIP, true);
        break;
    case 0x52464e43: /* RFENCE */
        for (unsigned i = 0; i < h->sys->nharts; i++)
            rv_hart_remote_sfence(h, h->sys->harts[i]);
        break;
    default:
        break;
    }
    h->x[10] = 0;
    h->x[11] = h->x[17];
}

static void w64(struct fx *f, uint64_t pa, uint64_t v) { memcpy(f->ram + (pa - RAM_BASE), &v, 8); }

static uint64_t pte(uint64_t pa, uint64_t flags) { return (pa >> 12) << 10 | flags; }

/* The built tables (see the top comment); returns the root's address. */
static uint64_t build_tables(struct fx *f, unsigned levels, const uint8_t *hdr)
{
    memset(f->ram + (PT_L4 - RAM_BASE), 0, 5 * 4096);
    /* Sv39 root = L2; Sv48 adds L3 above it, Sv57 L4 above that. */
    uint64_t root = PT_L2;
    if (levels >= 4) {
        w64(f, PT_L3 + 0 * 8, pte(PT_L2, PTE_V));
        /* a 512 GiB leaf that is not aligned: must page-fault */
        w64(f, PT_L3 + 1 * 8, pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | 0xc0));
        root = PT_L3;
    }
    if (levels >= 5) {
        w64(f, PT_L4 + 0 * 8, pte(PT_L3, PTE_V));
        root = PT_L4;
    }
    uint64_t sflags = (uint64_t)(hdr[14] ^ 0xcf);
    /* VA 0: a 1 GiB page onto RAM (PA 0x80000000 is 1 GiB aligned) */
    w64(f, PT_L2 + 0 * 8, pte(RAM_BASE, sflags));
    /* VA 0x80000000: through L1 and L0 */
    w64(f, PT_L2 + 2 * 8, pte(PT_L1, PTE_V));
    w64(f, PT_L1 + 0 * 8, pte(PT_L0, PTE_V));
    /* VA 0x80200000: a 2 MiB page onto RAM */
    w64(f, PT_L1 + 1 * 8, pte(RAM_BASE, sflags));
    for (unsigned i = 0; i < RAM_SIZE / 4096; i++)
        w64(f, PT_L0 + i * 8, pte(RAM_BASE + i * 4096ull, (uint64_t)(hdr[16 + i] ^ 0xcf)));
    return root;
}

static const uint64_t fp_patterns[32] = {
    0xffffffff3f800000ull, /* 1.0f */
    0xffffffffbf800000ull, /* -1.0f */
    0xffffffff7f800000ull, /* +inf f */
    0xffffffff7fc00000ull, /* qNaN f */
    0xffffffff7f800001ull, /* sNaN f */
    0xffffffff00000001ull, /* denormal f */
    0xffffffff80000000ull, /* -0.0f */
    0x000000003f800000ull, /* improperly boxed */
    0x3ff0000000000000ull, /* 1.0 */
    0xbff0000000000000ull, /* -1.0 */
    0x7ff0000000000000ull, /* +inf */
    0x7ff8000000000000ull, /* qNaN */
    0x7ff0000000000001ull, /* sNaN */
    0x0000000000000001ull, /* denormal */
    0x8000000000000000ull, /* -0.0 */
    0x43e0000000000000ull, /* 2^63 */
    0xc3e0000000000000ull, /* -2^63 */
    0x41dfffffffc00000ull, /* 2^31 - 1 */
    0x7fefffffffffffffull, /* max */
    0x0010000000000000ull, /* min normal */
    0xffffffff4f000000ull, /* 2^31 f */
    0xffffffffcf000000ull, /* -2^31 f */
    0xffffffff7f7fffffull, /* max f */
    0xffffffff00800000ull, /* min normal f */
    0x3fe0000000000000ull, /* 0.5 */
    0x4000000000000000ull, /* 2.0 */
    0xffffffff3f000000ull, /* 0.5f */
    0xffffffff40400000ull, /* 3.0f */
    0x4008000000000000ull, /* 3.0 */
    0x3ff8000000000000ull, /* 1.5 */
    0xffffffff3fc00000ull, /* 1.5f */
    0,
};

static void init_regs(struct rv_hart *h, uint64_t satp_val)
{
    for (unsigned i = 1; i < 24; i++)
        h->x[i] = RAM_BASE + ((i * 0x820ull) & 0xfff8);
    h->x[2] = RAM_BASE + 0x8000;   /* sp */
    h->x[24] = satp_val;           /* ready for csrw satp */
    h->x[25] = 0;                  /* RAM through the 1 GiB page */
    h->x[26] = MMIO_BASE;
    h->x[27] = 0x40000000ull;      /* nothing there */
    h->x[28] = ~0ull;
    h->x[29] = 1ull << 63;
    h->x[30] = MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPRV;
    h->x[31] = RAM_BASE + RAM_SIZE - 2; /* accesses here run off the end of RAM */
    memcpy(h->f, fp_patterns, sizeof(h->f));
}

static void set_csr(struct rv_hart *h, unsigned csr, uint64_t v)
{
    if (!rv_csr_write(h, csr, v))
        fail("M-mode CSR write refused during setup");
}

static bool tlb_ptr_ok(const struct rv_tlb_entry *p, const struct rv_tlb_entry (*set)[RV_TLB_SIZE])
{
    for (unsigned k = 0; k < RV_NKEYS; k++)
        if (p == set[k])
            return true;
    return false;
}

static void check(const struct rv_hart *h)
{
    if (h->x[0] != 0)
        fail("x0 is not zero");
    if (h->pc & 1)
        fail("pc is odd");
    if (h->priv != RV_PRIV_U && h->priv != RV_PRIV_S && h->priv != RV_PRIV_M)
        fail("invalid privilege");
    if (((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        fail("mstatus.MPP holds the reserved value 2");
    unsigned mode = (unsigned)(h->satp >> SATP_MODE_SHIFT);
    if (mode != SATP_MODE_BARE && (mode < SATP_MODE_SV39 || mode > h->sys->max_satp_mode))
        fail("satp holds an unsupported mode");
    if (!tlb_ptr_ok(h->tlb_r_cur, h->tlb_r) || !tlb_ptr_ok(h->tlb_w_cur, h->tlb_w) ||
        !tlb_ptr_ok(h->tlb_x_cur, h->tlb_x))
        fail("TLB set pointers corrupted");
    if (h->fflags > 0x1f || h->frm > 7)
        fail("fcsr out of range");
}

/* Every cached block that its page's generation still calls valid must be
 * what decoding RAM gives now: the code map promises that any write to a
 * page holding code retires its blocks at once (which is why FENCE.I does
 * nothing), so a stale valid block means some write path missed it. */
static void check_blocks(const struct rv_hart *h)
{
    const struct rv_sys *sys = h->sys;
    struct rv_block_cache *c = h->blocks;
    /* The arena holds the blocks back to back (each shrunk to its size
     * right after decoding): walking it is cheaper than the hash table. */
    for (size_t at = 0; at < c->arena_used;) {
        const struct rv_block *b = (const struct rv_block *)(void *)(c->arena + at);
        if (b->n > RV_BLOCK_MAX_INSNS)
            fail("a cached block is too long");
        at += block_size(b->n);
        if (!rv_paddr_is_ram(sys, b->paddr, 2) || b->page != (b->paddr - RAM_BASE) >> 12)
            fail("a cached block's page is wrong");
        if (b->gen != atomic_load(&sys->code.gen[b->page]))
            continue; /* retired */
        if (rv_bcache_lookup(c, &sys->code, b->paddr) != b)
            fail("a valid block is not what the cache finds for its address");
        if (!atomic_load(&sys->code.has_code[b->page]))
            fail("a valid block on a page not flagged as holding code");
        const uint8_t *host = sys->bus.ram + (b->paddr - RAM_BASE);
        unsigned page_left = 4096 - (unsigned)(b->paddr & 0xfff), pos = 0;
        for (unsigned i = 0; i < b->n; i++) {
            uint16_t half;
            if (pos + 2 > page_left)
                fail("a cached block runs past its page");
            memcpy(&half, host + pos, 2);
            uint32_t raw = half;
            if ((half & 3) == 3) {
                if (pos + 4 > page_left)
                    fail("a cached block holds a page-straddling instruction");
                memcpy(&half, host + pos + 2, 2);
                raw |= (uint32_t)half << 16;
            }
            struct rv_insn want;
            unsigned len;
            enum rv_op op = rv_decode(raw, &want, &len);
            const struct rv_insn *got = &b->insns[i];
            if (got->handler != op_labels[op] || got->imm != want.imm || got->rd != want.rd ||
                got->rs1 != want.rs1 || got->rs2 != want.rs2 || got->off != pos / 2)
                fail("a valid cached block no longer matches the code in RAM");
            pos += len;
        }
        if (b->bytes != pos || b->insns[b->n].handler != op_labels[RV_OP_BLOCK_END] || b->insns[b->n].off != pos / 2)
            fail("a cached block's terminator is wrong");
    }
}

/* Every TLB entry in use must map its page onto a whole page of RAM (a
 * stray one would let the guest reach host memory ASan may not flag). */
static void check_tlb(const struct rv_hart *h)
{
    const struct rv_tlb_entry (*sets[3])[RV_TLB_SIZE] = { h->tlb_r, h->tlb_w, h->tlb_x };
    uintptr_t lo = (uintptr_t)h->sys->bus.ram, hi = lo + RAM_SIZE - 4096;
    for (unsigned s = 0; s < 3; s++)
        for (unsigned k = 0; k < RV_NKEYS; k++)
            for (unsigned i = 0; i < RV_TLB_SIZE; i++) {
                const struct rv_tlb_entry *e = &sets[s][k][i];
                if (e->tag == RV_TLB_INVALID)
                    continue;
                uintptr_t host = e->addend + (uintptr_t)(e->tag << 12);
                if ((e->tag & (RV_TLB_SIZE - 1)) != i || host < lo || host > hi || ((host - lo) & 0xfff))
                    fail("a TLB entry maps outside RAM or sits in the wrong slot");
            }
}

/* "The guest cannot continue" (an M-mode handler that faults on its first
 * instruction) is logged with verror on every such input: expected here,
 * so the interpreter's log lines go nowhere while it runs. Sanitizer and
 * libFuzzer reports do not use stdio's stderr and still get out. */
static FILE *devnull;

static void run(struct fx *f, const uint8_t *hdr)
{
    struct rv_sys *sys = &f->sys;
    unsigned nharts = sys->nharts;
    uint64_t chunks = 1 + hdr[10];
    static const uint64_t lines[8] = { MIP_MEIP, MIP_SEIP, MIP_MSIP, MIP_SSIP, MIP_MTIP, MIP_STIP, MIP_SEIP, MIP_MEIP };
    real_stderr = stderr;
    if (devnull)
        stderr = devnull;
    for (uint64_t c = 0; c < chunks && !atomic_load(&sys->stop); c++) {
        struct rv_hart *h = sys->harts[c % nharts];
        /* Only the hart being run counts as running: a remote fence aimed
         * at the other one then leaves it a request instead of waiting for
         * a thread that does not exist. */
        atomic_store(&h->run_state, RV_HART_RUNNING);
        enum rv_exec_result r = rv_exec(h, CHUNK_BLOCKS);
        atomic_store(&h->run_state, RV_HART_WFI);
        check(h);
        if ((c & 31) == 31) {
            check_blocks(h);
            check_tlb(h);
        }
        if (r == RV_EXEC_EVENT && atomic_load(&sys->stop))
            break;
        /* what devices and other harts do meanwhile */
        unsigned k = (unsigned)(c % 8);
        if ((hdr[3] >> k) & 1) {
            uint64_t bit = lines[(c / 8 + k) % 8];
            rv_hart_set_irq(h, bit, !(atomic_load(&h->mip) & bit));
        }
        if (k == 7 && (hdr[3] & 0x81) == 0x81)
            rv_hart_kick(h, RV_EV_TLB_FLUSH);
        if (k == 3 && (hdr[3] & 0x18) == 0x18 && nharts > 1)
            rv_hart_remote_sfence(h, sys->harts[(c + 1) % nharts]);
        atomic_fetch_and(&h->events, ~RV_EV_STOP);
    }
    stderr = real_stderr;
    real_stderr = NULL;
    for (unsigned i = 0; i < nharts; i++) {
        check_blocks(sys->harts[i]);
        check_tlb(sys->harts[i]);
    }
#ifdef FUZZ_DEBUG /* -DFUZZ_DEBUG: where each hart ended (checking seeds) */
    for (unsigned i = 0; i < nharts; i++) {
        struct rv_hart *h = sys->harts[i];
        fprintf(stderr, "hart%u: pc %#llx priv %u mcause %#llx mepc %#llx scause %#llx instret %llu a0 %#llx a1 %#llx "
                "stop %d\n", i, (unsigned long long)h->pc, h->priv, (unsigned long long)h->mcause,
                (unsigned long long)h->mepc, (unsigned long long)h->scause, (unsigned long long)h->instret,
                (unsigned long long)h->x[10], (unsigned long long)h->x[11], (int)atomic_load(&sys->stop));
    }
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t hdr[HDR] = { 0 };
    memcpy(hdr, data, size < HDR ? size : HDR);
    const uint8_t *image = size > HDR ? data + HDR : NULL;
    size_t image_len = size > HDR ? size - HDR : 0;
    if (image_len > RAM_SIZE)
        image_len = RAM_SIZE;
    if (!devnull)
        devnull = fopen("/dev/null", "w");

    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    /* exact-size heap blocks: ASan reports anything past their ends */
    f->ram = calloc(1, RAM_SIZE);
    f->mmio = calloc(1, MMIO_SIZE);
    if (!f->ram || !f->mmio)
        abort();
    if (image_len)
        memcpy(f->ram, image, image_len);

    unsigned nharts = (hdr[0] & 0x80) ? 2 : 1;
    struct rv_bus bus = {
        .ram = f->ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE, .opaque = f,
        .mmio_read = mmio_read, .mmio_write = mmio_write,
    };
    struct rv_sys *sys = &f->sys;
    if (rv_sys_init(sys, &bus, nharts) < 0)
        abort();
    /* The code map is mmap'd (page granular): swap in exact-size heap
     * copies for the run so an index past RAM's pages is reported. */
    _Atomic uint8_t *map_code = sys->code.has_code;
    _Atomic uint32_t *map_gen = sys->code.gen;
    sys->code.has_code = calloc(sys->code.npages, 1);
    sys->code.gen = calloc(sys->code.npages, 4);
    if (!sys->code.has_code || !sys->code.gen)
        abort();

    static const unsigned satp_modes[4] = { SATP_MODE_SV39, SATP_MODE_SV48, SATP_MODE_SV57, SATP_MODE_SV57 };
    sys->max_satp_mode = satp_modes[hdr[12] & 3];
    sys->has_sstc = !(hdr[2] & 0x40);
    sys->jit = hdr[15] & 1;
    sys->jit_hot_runs = 1; /* translated the first time they run, as in the unit tests */
    if (hdr[2] & 0x80) {
        sys->sbi_in_host = true;
        sys->hooks.sbi_call = sbi_stub;
    }

    /* paging */
    unsigned pmode = (hdr[0] >> 2) & 7;
    uint64_t satp_val = 0;
    static const unsigned built_levels[4] = { 0, 3, 4, 5 };
    if (pmode >= 1 && pmode <= 3) {
        uint64_t root = build_tables(f, built_levels[pmode], hdr);
        satp_val = (uint64_t)(SATP_MODE_SV39 + pmode - 1) << SATP_MODE_SHIFT | root >> 12;
    } else if (pmode == 4 || pmode == 5) {
        uint64_t root = RAM_BASE + (uint64_t)(hdr[13] & 15) * 4096;
        satp_val = (uint64_t)(pmode == 4 ? SATP_MODE_SV39 : SATP_MODE_SV48) << SATP_MODE_SHIFT | root >> 12;
    } else {
        /* bare, but leave a usable satp value in a register for the guest */
        uint64_t root = build_tables(f, 3, hdr);
        satp_val = (uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT | root >> 12;
    }

    for (unsigned i = 0; i < nharts; i++) {
        struct rv_hart *h = rv_hart_new(sys, i);
        if (!h)
            abort();
        atomic_store(&h->run_state, RV_HART_WFI); /* see run() */
        init_regs(h, satp_val);
        uint64_t mie_bits = 0;
        static const uint64_t mie_map[6] = { MIP_SSIP, MIP_MSIP, MIP_STIP, MIP_MTIP, MIP_SEIP, MIP_MEIP };
        for (unsigned b = 0; b < 6; b++)
            if ((hdr[2] >> b) & 1)
                mie_bits |= mie_map[b];
        uint64_t ms = 0;
        static const uint64_t ms_map[8] = { MSTATUS_MPRV, MSTATUS_SUM, MSTATUS_MXR, MSTATUS_TVM,
                                            MSTATUS_TW, MSTATUS_TSR, MSTATUS_MIE, MSTATUS_SIE };
        for (unsigned b = 0; b < 8; b++)
            if ((hdr[1] >> b) & 1)
                ms |= ms_map[b];
        if (hdr[0] & 0x20)
            ms |= 1ull << 13; /* FS = Initial; the guest's FP ops make it Dirty */
        ms |= (uint64_t)(hdr[12] >> 6) << MSTATUS_MPP_SHIFT;
        set_csr(h, CSR_MTVEC, RAM_BASE + (hdr[6] | (uint64_t)hdr[7] << 8));
        set_csr(h, CSR_STVEC, RAM_BASE + (hdr[8] | (uint64_t)hdr[9] << 8));
        if (hdr[0] & 0x40) {
            set_csr(h, CSR_MEDELEG, ~0ull);
            set_csr(h, CSR_MIDELEG, ~0ull);
        }
        set_csr(h, CSR_MIE, mie_bits);
        if (pmode)
            set_csr(h, CSR_SATP, satp_val);
        if (hdr[12] & 0x10)
            set_csr(h, CSR_MENVCFG, MENVCFG_STCE);
        if (hdr[12] & 0x20) {
            set_csr(h, CSR_MCOUNTEREN, ~0ull);
            set_csr(h, CSR_SCOUNTEREN, ~0ull);
        }
        set_csr(h, CSR_MSTATUS, ms);
        if (hdr[0] & 0x20)
            set_csr(h, CSR_FCSR, hdr[11]);
        if (hdr[12] & 0x04)
            h->stimecmp = 0;
        if (hdr[12] & 0x08)
            atomic_store(&h->mtimecmp, 0);
        uint64_t pc = i == 0 ? (hdr[4] | (uint64_t)hdr[5] << 8) & ~1ull : (uint64_t)(hdr[15] & 0xfe) * 256;
        h->pc = RAM_BASE + pc;
        static const unsigned privs[4] = { RV_PRIV_U, RV_PRIV_S, RV_PRIV_M, RV_PRIV_M };
        h->priv = privs[hdr[0] & 3];
        rv_mmu_update_keys(h);
        check(h);
    }

    run(f, hdr);

    free((void *)sys->code.has_code);
    free((void *)sys->code.gen);
    sys->code.has_code = map_code;
    sys->code.gen = map_gen;
    rv_sys_destroy(sys);
    free(f->mmio);
    free(f->ram);
    free(f);
    return 0;
}

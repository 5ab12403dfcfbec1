#include "riscv/mmu.h"

#include <string.h>

#include "riscv/csr.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ull << 44) - 1)
/* Bits 63:54 (N, PBMT, reserved): we implement neither Svnapot nor Svpbmt,
 * so a leaf with any of them set is a page fault. */
#define PTE_RESERVED_MASK (0x3ffull << 54)

static unsigned effective_priv(const struct rv_hart *h)
{
    if (h->priv == RV_PRIV_M && (h->mstatus & MSTATUS_MPRV))
        return (unsigned)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    return h->priv;
}

static unsigned satp_mode(const struct rv_hart *h) { return (unsigned)(h->satp >> SATP_MODE_SHIFT); }

static enum rv_tlb_key key_for(const struct rv_hart *h, unsigned priv)
{
    if (priv == RV_PRIV_M || satp_mode(h) == SATP_MODE_BARE)
        return RV_KEY_PHYS;
    if (priv == RV_PRIV_U)
        return RV_KEY_U;
    return (h->mstatus & MSTATUS_SUM) ? RV_KEY_S_SUM : RV_KEY_S;
}

void rv_mmu_update_keys(struct rv_hart *h)
{
    enum rv_tlb_key dk = key_for(h, effective_priv(h));
    enum rv_tlb_key fk = key_for(h, h->priv);
    h->tlb_r_cur = h->tlb_r[dk];
    h->tlb_w_cur = h->tlb_w[dk];
    h->tlb_x_cur = h->tlb_x[fk];
}

void rv_tlb_flush_all(struct rv_hart *h)
{
    memset(h->tlb_r, 0xff, sizeof(h->tlb_r));
    memset(h->tlb_w, 0xff, sizeof(h->tlb_w));
    memset(h->tlb_x, 0xff, sizeof(h->tlb_x));
    h->tlb_super_base = ~0ull;
    h->tlb_super_mask = 0;
}

/* Grow the superpage region to cover the page of `size` bytes holding va. */
static void note_superpage(struct rv_hart *h, uint64_t va, uint64_t size)
{
    uint64_t mask = ~(size - 1);
    if (h->tlb_super_base != ~0ull || h->tlb_super_mask != 0) {
        mask &= h->tlb_super_mask;
        while ((va & mask) != (h->tlb_super_base & mask))
            mask <<= 1;
    }
    h->tlb_super_base = va & mask;
    h->tlb_super_mask = mask;
}

void rv_tlb_flush_va(struct rv_hart *h, uint64_t va)
{
    /* The leaf PTE for va may be a superpage cached under other 4 KiB tags. */
    if ((va & h->tlb_super_mask) == h->tlb_super_base) {
        rv_tlb_flush_all(h);
        return;
    }
    uint64_t vpn = va >> 12;
    unsigned idx = vpn & (RV_TLB_SIZE - 1);
    for (int k = 0; k < RV_NKEYS; k++) {
        if (h->tlb_r[k][idx].tag == vpn)
            h->tlb_r[k][idx].tag = RV_TLB_INVALID;
        if (h->tlb_w[k][idx].tag == vpn)
            h->tlb_w[k][idx].tag = RV_TLB_INVALID;
        if (h->tlb_x[k][idx].tag == vpn)
            h->tlb_x[k][idx].tag = RV_TLB_INVALID;
    }
}

static bool fault(struct rv_hart *h, enum rv_access acc, uint64_t va, bool page_fault)
{
    static const uint64_t pf[] = { EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT, EXC_INSN_PAGE_FAULT };
    static const uint64_t af[] = { EXC_LOAD_ACCESS, EXC_STORE_ACCESS, EXC_INSN_ACCESS };
    h->exc_cause = page_fault ? pf[acc] : af[acc];
    h->exc_tval = va;
    return false;
}

/* Walk the page table. On success *paddr is the translation of va and
 * *pgsize the size of the page that maps it. */
static bool walk(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned priv, uint64_t *paddr,
                 uint64_t *pgsize)
{
    struct rv_sys *sys = h->sys;
    unsigned mode = satp_mode(h);
    int levels = mode == SATP_MODE_SV39 ? 3 : mode == SATP_MODE_SV48 ? 4 : 5;
    unsigned va_bits = 12 + 9 * (unsigned)levels;

    /* The address must be the sign extension of its low va_bits bits. */
    int64_t sext = (int64_t)(va << (64 - va_bits)) >> (64 - va_bits);
    if ((uint64_t)sext != va)
        return fault(h, acc, va, true);

    uint64_t table = (h->satp & SATP_PPN_MASK) << 12;
    for (int level = levels - 1; level >= 0; level--) {
        uint64_t idx = (va >> (12 + 9 * level)) & 0x1ff;
        uint64_t pte_addr = table + idx * 8;
        if (!rv_paddr_is_ram(sys, pte_addr, 8))
            return fault(h, acc, va, false);
        _Atomic uint64_t *ptep = (_Atomic uint64_t *)(sys->bus.ram + (pte_addr - sys->bus.ram_base));
    reload:;
        uint64_t pte = atomic_load_explicit(ptep, memory_order_acquire);
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)))
            return fault(h, acc, va, true);
        uint64_t ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        if (!(pte & (PTE_R | PTE_X))) {
            /* pointer to the next level */
            if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U | PTE_RESERVED_MASK)))
                return fault(h, acc, va, true);
            table = ppn << 12;
            continue;
        }
        /* leaf */
        if (pte & PTE_RESERVED_MASK)
            return fault(h, acc, va, true);
        if (priv == RV_PRIV_U) {
            if (!(pte & PTE_U))
                return fault(h, acc, va, true);
        } else if (pte & PTE_U) {
            /* S-mode never executes user pages; it reads/writes them only
             * with SUM set. */
            if (acc == RV_ACC_FETCH || !(h->mstatus & MSTATUS_SUM))
                return fault(h, acc, va, true);
        }
        switch (acc) {
        case RV_ACC_LOAD:
            if (!(pte & PTE_R) && !((h->mstatus & MSTATUS_MXR) && (pte & PTE_X)))
                return fault(h, acc, va, true);
            break;
        case RV_ACC_STORE:
            if (!(pte & PTE_W))
                return fault(h, acc, va, true);
            break;
        case RV_ACC_FETCH:
            if (!(pte & PTE_X))
                return fault(h, acc, va, true);
            break;
        }
        /* a superpage must be aligned */
        uint64_t low_mask = (1ull << (9 * level)) - 1;
        if (ppn & low_mask)
            return fault(h, acc, va, true);
        /* hardware A/D update, atomically against other harts */
        uint64_t want = pte | PTE_A | (acc == RV_ACC_STORE ? PTE_D : 0);
        if (want != pte) {
            /* The A/D update is a write to RAM like a store: if the page
             * table shares a page with code, that page's decoded blocks
             * must retire too (FENCE.I relies on every write doing so). */
            rv_code_check_store(sys, (const void *)ptep);
            if (!atomic_compare_exchange_strong(ptep, &pte, want))
                goto reload;
        }
        uint64_t page_ppn = (ppn & ~low_mask) | ((va >> 12) & low_mask);
        *paddr = (page_ppn << 12) | (va & 0xfff);
        *pgsize = 4096ull << (9 * level);
        return true;
    }
    return fault(h, acc, va, true);
}

bool rv_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, uint64_t *paddr)
{
    unsigned priv = acc == RV_ACC_FETCH ? h->priv : effective_priv(h);
    enum rv_tlb_key key = key_for(h, priv);
    bool ok;
    uint64_t pgsize = 4096;
    if (key == RV_KEY_PHYS) {
        *paddr = va;
        ok = true;
    } else {
        ok = walk(h, va, acc, priv, paddr, &pgsize);
    }
    if (!ok)
        return false;
    h->stat_tlb_misses++;
    /* Remember RAM pages only: MMIO always goes the slow way. */
    uint64_t page_pa = *paddr & ~0xfffull;
    if (rv_paddr_is_ram(h->sys, page_pa, 4096)) {
        struct rv_tlb_entry *set = acc == RV_ACC_LOAD ? h->tlb_r[key] : acc == RV_ACC_STORE ? h->tlb_w[key] : h->tlb_x[key];
        struct rv_tlb_entry *e = &set[(va >> 12) & (RV_TLB_SIZE - 1)];
        uint8_t *host = h->sys->bus.ram + (page_pa - h->sys->bus.ram_base);
        e->tag = va >> 12;
        e->addend = (uintptr_t)host - (uintptr_t)(va & ~0xfffull);
        if (pgsize > 4096)
            note_superpage(h, va, pgsize);
        /* A store-enabled entry implies the page is readable and dirty. */
    }
    return true;
}

/* One naturally-aligned access that does not cross a page. */
static bool load_one(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa;
    if (!rv_translate(h, va, RV_ACC_LOAD, &pa))
        return false;
    struct rv_sys *sys = h->sys;
    if (rv_paddr_is_ram(sys, pa, size)) {
        const uint8_t *p = sys->bus.ram + (pa - sys->bus.ram_base);
        uint64_t v = 0;
        memcpy(&v, p, size);
        *val = v;
        return true;
    }
    if ((pa & (size - 1)) == 0 && sys->bus.mmio_read) {
        h->stat_mmio++;
        if (sys->bus.mmio_read(sys->bus.opaque, h, pa, size, val))
            return true;
    }
    return fault(h, RV_ACC_LOAD, va, false);
}

static bool store_one(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val)
{
    uint64_t pa;
    if (!rv_translate(h, va, RV_ACC_STORE, &pa))
        return false;
    struct rv_sys *sys = h->sys;
    if (rv_paddr_is_ram(sys, pa, size)) {
        uint8_t *p = sys->bus.ram + (pa - sys->bus.ram_base);
        rv_code_check_store(sys, p);
        memcpy(p, &val, size);
        return true;
    }
    if ((pa & (size - 1)) == 0 && sys->bus.mmio_write) {
        h->stat_mmio++;
        if (sys->bus.mmio_write(sys->bus.opaque, h, pa, size, val))
            return true;
    }
    return fault(h, RV_ACC_STORE, va, false);
}

bool rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    if ((va & 0xfff) + size <= 4096)
        return load_one(h, va, size, val);
    /* Crosses a page: check both pages before reading anything, then
     * assemble byte by byte (little-endian). */
    uint64_t pa;
    uint64_t second = (va | 0xfff) + 1;
    if (!rv_translate(h, va, RV_ACC_LOAD, &pa) || !rv_translate(h, second, RV_ACC_LOAD, &pa))
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b;
        if (!load_one(h, va + i, 1, &b))
            return false;
        v |= b << (8 * i);
    }
    *val = v;
    return true;
}

bool rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val)
{
    if ((va & 0xfff) + size <= 4096)
        return store_one(h, va, size, val);
    uint64_t pa;
    uint64_t second = (va | 0xfff) + 1;
    if (!rv_translate(h, va, RV_ACC_STORE, &pa) || !rv_translate(h, second, RV_ACC_STORE, &pa))
        return false;
    for (unsigned i = 0; i < size; i++) {
        if (!store_one(h, va + i, 1, (val >> (8 * i)) & 0xff))
            return false;
    }
    return true;
}

void *rv_atomic_ptr(struct rv_hart *h, uint64_t va, unsigned size, bool is_lr)
{
    if (va & (size - 1)) {
        h->exc_cause = is_lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED;
        h->exc_tval = va;
        return NULL;
    }
    /* Kernel spinlocks and atomics are frequent: try the TLB first. */
    const struct rv_tlb_entry *e = &(is_lr ? h->tlb_r_cur : h->tlb_w_cur)[(va >> 12) & (RV_TLB_SIZE - 1)];
    if (e->tag == va >> 12) {
        void *p = (void *)(e->addend + (uintptr_t)va);
        if (!is_lr)
            rv_code_check_store(h->sys, p);
        return p;
    }
    uint64_t pa;
    enum rv_access acc = is_lr ? RV_ACC_LOAD : RV_ACC_STORE;
    if (!rv_translate(h, va, acc, &pa))
        return NULL;
    struct rv_sys *sys = h->sys;
    if (!rv_paddr_is_ram(sys, pa, size)) {
        fault(h, acc, va, false);
        return NULL;
    }
    uint8_t *p = sys->bus.ram + (pa - sys->bus.ram_base);
    if (!is_lr)
        rv_code_check_store(sys, p);
    return p;
}

const uint8_t *rv_fetch_ptr(struct rv_hart *h, uint64_t va, uint64_t *paddr)
{
    const struct rv_tlb_entry *e = &h->tlb_x_cur[(va >> 12) & (RV_TLB_SIZE - 1)];
    const uint8_t *p;
    if (e->tag == va >> 12) {
        p = (const uint8_t *)(e->addend + (uintptr_t)va);
    } else {
        uint64_t pa;
        if (!rv_translate(h, va, RV_ACC_FETCH, &pa))
            return NULL;
        if (!rv_paddr_is_ram(h->sys, pa, 2)) {
            fault(h, RV_ACC_FETCH, va, false);
            return NULL;
        }
        p = h->sys->bus.ram + (pa - h->sys->bus.ram_base);
    }
    *paddr = (uint64_t)(p - h->sys->bus.ram) + h->sys->bus.ram_base;
    return p;
}

void rv_code_invalidate_page(struct rv_sys *sys, uint64_t page)
{
    atomic_store_explicit(&sys->code.has_code[page], 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&sys->code.gen[page], 1, memory_order_release);
}

void rv_code_note_write(struct rv_sys *sys, uint64_t paddr, uint64_t len)
{
    if (!len || !rv_paddr_is_ram(sys, paddr, len))
        return;
    uint64_t first = (paddr - sys->bus.ram_base) >> 12;
    uint64_t last = (paddr - sys->bus.ram_base + len - 1) >> 12;
    for (uint64_t pg = first; pg <= last; pg++)
        if (atomic_load_explicit(&sys->code.has_code[pg], memory_order_relaxed))
            rv_code_invalidate_page(sys, pg);
}

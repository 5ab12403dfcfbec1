/* Address translation (Sv39/Sv48/Sv57, hardware A/D updates), the per-hart
 * TLB that maps guest virtual pages to host pointers, and the slow paths of
 * loads and stores (page misses, page-crossing and misaligned accesses,
 * MMIO). */
#ifndef VIREO_RISCV_MMU_H
#define VIREO_RISCV_MMU_H

#include "riscv/hart.h"

enum rv_access { RV_ACC_LOAD = 0, RV_ACC_STORE = 1, RV_ACC_FETCH = 2 };

/* Recompute which TLB sets the current privilege/mstatus/satp select. */
void rv_mmu_update_keys(struct rv_hart *h);
void rv_tlb_flush_all(struct rv_hart *h);
void rv_tlb_flush_va(struct rv_hart *h, uint64_t va);

/* Translate va for an access at the effective privilege. On failure the
 * exception is recorded in h->exc_cause/exc_tval and false is returned. */
bool rv_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, uint64_t *paddr);

bool rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val);
bool rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val);
/* Host pointer for an atomic access (size-aligned, in RAM), or NULL with the
 * exception recorded. */
void *rv_atomic_ptr(struct rv_hart *h, uint64_t va, unsigned size, bool is_lr);
/* Physical address of an instruction fetch, and the host pointer when it is
 * in RAM (else an access fault is recorded). */
const uint8_t *rv_fetch_ptr(struct rv_hart *h, uint64_t va, uint64_t *paddr);

static inline bool rv_paddr_is_ram(const struct rv_sys *sys, uint64_t paddr, uint64_t len)
{
    return paddr >= sys->bus.ram_base && paddr - sys->bus.ram_base < sys->bus.ram_size &&
           len <= sys->bus.ram_size - (paddr - sys->bus.ram_base);
}

/* A store is about to land at host pointer p inside RAM: if that page holds
 * translated code, retire it (any hart notices on its next lookup). */
void rv_code_invalidate_page(struct rv_sys *sys, uint64_t page);
static inline void rv_code_check_store(struct rv_sys *sys, const void *p)
{
    uint64_t page = (uint64_t)((const uint8_t *)p - sys->bus.ram) >> 12;
    if (__builtin_expect(atomic_load_explicit(&sys->code.has_code[page], memory_order_relaxed), 0))
        rv_code_invalidate_page(sys, page);
}

#endif

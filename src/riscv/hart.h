/* One RISC-V hart (RV64IMAFDC, M/S/U) and the state its harts share.
 *
 * The riscv layer knows no device: it reaches memory through struct rv_bus
 * (a RAM window it may address directly, and MMIO callbacks for the rest)
 * and reaches the hypervisor through a few hooks (built-in SBI, power
 * events). Everything a device may change from another thread (pending
 * interrupt bits, the M-mode timer compare, wake-ups, flush requests) is
 * atomic; everything else is touched only by the hart's own thread.
 */
#ifndef VIREO_RISCV_HART_H
#define VIREO_RISCV_HART_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "riscv/csr.h"

struct rv_hart;
struct rv_block;

/* Memory as the harts see it. */
struct rv_bus {
    uint8_t *ram;      /* host address of guest physical ram_base */
    uint64_t ram_base; /* guest physical address of RAM */
    uint64_t ram_size; /* bytes, multiple of 4 KiB */
    void *opaque;
    /* Access a physical address outside RAM. size is 1, 2, 4 or 8 and the
     * address is size-aligned. Return false for "nothing there": the hart
     * raises an access fault. */
    bool (*mmio_read)(void *opaque, struct rv_hart *h, uint64_t paddr, unsigned size, uint64_t *val);
    bool (*mmio_write)(void *opaque, struct rv_hart *h, uint64_t paddr, unsigned size, uint64_t val);
};

/* ---- the translated-code map, shared by all harts of a machine ----
 * A block of decoded instructions is valid while the generation of its
 * physical page is unchanged. Every write into RAM (hart stores, AMOs,
 * device DMA) that lands on a page flagged as holding code bumps that
 * page's generation, so stale blocks are noticed on their next lookup on any
 * hart; FENCE.I therefore has nothing left to do. */
struct rv_code_map {
    _Atomic uint8_t *has_code; /* per 4 KiB page of RAM */
    _Atomic uint32_t *gen;     /* per 4 KiB page of RAM */
    uint64_t npages;
};

/* Hooks into the hypervisor, called on the hart's own thread. */
struct rv_hooks {
    void *opaque;
    /* ECALL from S-mode when the hypervisor serves SBI itself (no M-mode
     * firmware). Reads a0-a7, writes a0/a1. */
    void (*sbi_call)(void *opaque, struct rv_hart *h);
};

struct rv_tlb_entry {
    uint64_t tag;     /* virtual page number, RV_TLB_INVALID when empty */
    uintptr_t addend; /* host address = guest virtual address + addend */
};

#define RV_TLB_BITS 9
#define RV_TLB_SIZE (1u << RV_TLB_BITS)
#define RV_TLB_INVALID (~0ull)

/* TLB sets: permissions depend on the effective privilege and on SUM, so
 * each combination keeps its own entries and switching between them
 * (every trap, every SUM toggle in copy_to_user) costs nothing. */
enum rv_tlb_key { RV_KEY_U = 0, RV_KEY_S = 1, RV_KEY_S_SUM = 2, RV_KEY_PHYS = 3, RV_NKEYS = 4 };

enum rv_priv { RV_PRIV_U = 0, RV_PRIV_S = 1, RV_PRIV_M = 3 };

/* Run state of a hart as seen by other threads (SBI HSM, IPIs). */
enum rv_run_state {
    RV_HART_STOPPED = 0, /* waiting for an HSM start (or the boot hart) */
    RV_HART_RUNNING = 1,
    RV_HART_WFI = 2,      /* sleeping until an interrupt or a deadline */
    RV_HART_START_PENDING = 3,
    RV_HART_SUSPENDED = 4,
    RV_HART_START_CLAIMED = 5, /* an HSM start is filling in the entry point */
};

/* Bits of rv_hart.events: requests from other threads, handled at the
 * next block boundary. */
#define RV_EV_KICK (1u << 0)      /* re-check interrupts and timers now */
#define RV_EV_TLB_FLUSH (1u << 1) /* remote SFENCE.VMA */
#define RV_EV_EXIT (1u << 2)      /* leave rv_exec for the run loop, which then
                                   * returns if sys->stop is set and otherwise
                                   * looks at pause/budget requests */
#define RV_EV_STOP (1u << 3)      /* HSM: stop this hart */

struct rv_sys;

struct rv_hart {
    /* Hot state first. x[32] is a scratch destination: instructions with
     * rd = x0 write there, so x[0] stays zero without a check. */
    uint64_t x[33];
    uint64_t pc;
    uint64_t f[32];
    const struct rv_tlb_entry *tlb_r_cur, *tlb_w_cur, *tlb_x_cur;
    _Atomic uint32_t events;
    uint32_t poll_countdown;
    _Atomic uint64_t mip;
    uint64_t mie;
    unsigned priv;
    uint32_t fflags, frm;
    uint32_t pause_count;

    uint64_t instret;

    /* CSRs */
    uint64_t mstatus, misa, medeleg, mideleg, mtvec, mscratch, mepc, mcause, mtval;
    uint64_t mcounteren, menvcfg, mcountinhibit;
    uint64_t stvec, sscratch, sepc, scause, stval, scounteren, senvcfg, satp;
    uint64_t stimecmp;
    _Atomic uint64_t mtimecmp; /* CLINT register of this hart; written by any hart */
    uint64_t pmpcfg[16];       /* only even ones are used on RV64 */
    uint64_t pmpaddr[64];
    uint64_t hartid;

    /* LR/SC reservation: address and the value loaded (SC is a host CAS). */
    uint64_t resv_addr;
    uint64_t resv_val;
    bool resv_valid;

    /* Pending synchronous exception, recorded by memory helpers. */
    uint64_t exc_cause, exc_tval;

    /* translation */
    struct rv_tlb_entry tlb_r[RV_NKEYS][RV_TLB_SIZE];
    struct rv_tlb_entry tlb_w[RV_NKEYS][RV_TLB_SIZE];
    struct rv_tlb_entry tlb_x[RV_NKEYS][RV_TLB_SIZE];
    /* Superpages are cached as 4 KiB entries. Every such entry lies in the
     * virtual region {va : (va & tlb_super_mask) == tlb_super_base}; an
     * SFENCE.VMA of an address there flushes everything. Empty: base ~0,
     * mask 0. */
    uint64_t tlb_super_base, tlb_super_mask;

    /* decoded-block cache (riscv/block.c) */
    struct rv_block_cache *blocks;

    /* sleeping and waking */
    _Atomic uint32_t wake_seq;
    _Atomic uint32_t run_state;
    uint64_t hsm_start_addr, hsm_start_arg; /* handed over by HSM start */
    _Atomic uint64_t tlb_flush_req, tlb_flush_done;

    struct rv_sys *sys;
    void *vcpu; /* owner (vmm) */

    /* Block budget (vmm: CPU cap). While budget_blocks is non-zero, the run
     * loop runs at most that many blocks at a time and then calls
     * budget_hook on the hart's own thread. */
    _Atomic uint64_t budget_blocks;
    void (*budget_hook)(struct rv_hart *h, void *opaque);
    void *budget_opaque;

    /* The JIT (riscv/jit.h): blocks left before translated code returns
     * to the run loop, and the block that left through a fixed exit, for
     * chaining. */
    uint32_t jit_budget;
    struct rv_block *jit_last;
    uint64_t jit_tmp; /* a slow-path load's value */

    /* statistics, read by other threads without locking */
    _Atomic uint64_t stat_instret;
    uint64_t stat_blocks_translated, stat_tlb_misses;
    uint64_t stat_wfi_sleeps, stat_mmio;
    /* Blocks entered; of those, entered through a chain link (no TLB or
     * cache lookup), and found in the block cache after a lookup (the
     * rest were decoded: stat_blocks_translated). */
    uint64_t stat_blocks_run, stat_chained, stat_cache_hits;
    /* Of the blocks run, those that ran translated, and the times the run
     * loop entered translated code (the rest went from block to block
     * inside it: patched exits, the JALR lookup, self-loops). */
    uint64_t stat_jit_runs, stat_jit_entries;
};

/* The set of harts of one machine and what they share. */
struct rv_sys {
    struct rv_bus bus;
    struct rv_hooks hooks;
    struct rv_code_map code;
    struct rv_hart **harts;
    unsigned nharts;
    uint64_t time_base_ns; /* host CLOCK_MONOTONIC at mtime = 0 */
    bool sbi_in_host;      /* ECALL from S goes to hooks.sbi_call */
    bool jit;              /* translate blocks to host code (riscv/jit.h) */
    uint16_t jit_hot_runs; /* interpreted runs before a block is translated (0: the default) */
    bool has_sstc;
    unsigned max_satp_mode; /* largest paging mode offered (SATP_MODE_SV39..SV57) */
    _Atomic bool stop; /* all harts leave their run loops */
    _Atomic bool paused; /* harts sleep at a block boundary (rv_sys_pause) */
    /* Exit status the run loop reports when the machine powers off. */
    _Atomic int exit_code;
};

/* ---- life cycle ---- */
int rv_sys_init(struct rv_sys *sys, const struct rv_bus *bus, unsigned nharts);
void rv_sys_destroy(struct rv_sys *sys);
struct rv_hart *rv_hart_new(struct rv_sys *sys, unsigned hartid);
void rv_hart_free(struct rv_hart *h);
void rv_hart_reset(struct rv_hart *h, unsigned priv, uint64_t pc);

/* Run guest code on the calling thread until sys->stop is set. Sleeps in
 * WFI, while stopped (HSM) and while the machine is paused; with a block
 * budget set, calls budget_hook every budget_blocks blocks. This is the
 * engine's one entry point. */
void rv_hart_run(struct rv_hart *h);
/* Execute at most max_blocks blocks and return (tests, single-stepping).
 * Never sleeps. */
void rv_hart_step_blocks(struct rv_hart *h, uint64_t max_blocks);

/* WFI: sleep until an interrupt is pending in mie, a timer deadline passes
 * or another thread wants this hart (its own thread only). */
void rv_hart_wait_for_interrupt(struct rv_hart *h);

/* ---- called from other threads ---- */
void rv_hart_set_irq(struct rv_hart *h, uint64_t mip_bits, bool level);
void rv_hart_kick(struct rv_hart *h, uint32_t event_bits);
/* Flush another hart's TLB and wait until it has done so (or cannot be
 * using it because it sleeps or is stopped). */
void rv_hart_remote_sfence(struct rv_hart *self, struct rv_hart *target);
/* Make every hart leave its run loop (power-off, reset, fatal error). */
void rv_sys_stop(struct rv_sys *sys, int exit_code);
/* Pause (true) or resume (false) every hart: a paused hart sleeps on its
 * futex at the next block boundary until resumed or the machine stops.
 * Guest time keeps running; pending interrupts stay pending. */
void rv_sys_pause(struct rv_sys *sys, bool pause);
/* Sleep up to ns on the hart's own thread (CPU cap), returning early if the
 * machine stops or is paused. Counts as not running for remote fences. */
void rv_hart_throttle_sleep(struct rv_hart *h, uint64_t ns);
/* SBI HSM */
bool rv_hart_hsm_start(struct rv_hart *h, uint64_t addr, uint64_t arg);

/* Guest time in 10 MHz ticks. */
uint64_t rv_sys_mtime(const struct rv_sys *sys);
#define RV_TIMEBASE_HZ 10000000ull

/* Note that [paddr, paddr+len) of RAM was written by someone other than a
 * hart's store path (device DMA, loader): stale translated code goes. */
void rv_code_note_write(struct rv_sys *sys, uint64_t paddr, uint64_t len);

#endif

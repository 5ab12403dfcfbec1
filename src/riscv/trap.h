/* Exceptions, interrupts and returns from traps (privileged spec 1.12,
 * sections 3.1.6-3.1.9 and 3.3.2): delegation through medeleg/mideleg,
 * priorities, xRET. */
#ifndef VIREO_RISCV_TRAP_H
#define VIREO_RISCV_TRAP_H

#include "riscv/hart.h"

/* Take a trap at h->pc (the faulting instruction for an exception, the
 * next instruction for an interrupt). cause has bit 63 set for interrupts. */
void rv_trap(struct rv_hart *h, uint64_t cause, uint64_t tval);
/* Take the highest-priority pending, enabled interrupt, if any. */
bool rv_take_interrupt(struct rv_hart *h);
/* An interrupt is pending and enabled in mie (WFI's wake condition). */
static inline bool rv_irq_pending(const struct rv_hart *h)
{
    return (atomic_load_explicit(&h->mip, memory_order_relaxed) & h->mie) != 0;
}
/* xRET; false if illegal in the current mode. On success h->pc is set. */
bool rv_mret(struct rv_hart *h);
bool rv_sret(struct rv_hart *h);

/* Re-evaluate MTIP/STIP from the current time. */
void rv_timer_update(struct rv_hart *h);

#endif

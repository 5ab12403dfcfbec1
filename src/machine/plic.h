/* Platform-Level Interrupt Controller (SiFive PLIC 1.0.0, as on QEMU virt):
 * level-triggered sources, two contexts per hart (2h = M-mode, 2h+1 =
 * S-mode), priority/threshold, claim/complete. */
#ifndef VIREO_MACHINE_PLIC_H
#define VIREO_MACHINE_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/mmio.h"

#define PLIC_BASE 0x0c000000ull
#define PLIC_SIZE 0x600000ull
#define PLIC_NUM_SOURCES 96 /* sources 1..95; 0 means "none" */
#define PLIC_MAX_PRIORITY 7

struct rv_sys;
struct plic;

struct plic *plic_new(struct rv_sys *sys, unsigned nharts);
void plic_free(struct plic *p);
/* Drive source `src`'s line; from any thread. */
void plic_set_irq(struct plic *p, unsigned src, bool level);
extern const struct mmio_ops plic_mmio_ops;

#endif

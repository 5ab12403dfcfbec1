/* The "test" syscon of QEMU virt (SiFive test finisher): a 32-bit write of
 * 0x5555 powers off, 0x7777 resets, (code << 16) | 0x3333 powers off with
 * a failure code (used by our bare-metal ISA tests). */
#ifndef VIREO_MACHINE_SYSCON_H
#define VIREO_MACHINE_SYSCON_H

#include "machine/mmio.h"

#define SYSCON_BASE 0x00100000ull
#define SYSCON_SIZE 0x1000ull

enum power_event { POWER_OFF, POWER_RESET, POWER_FAIL };

struct power_sink {
    void (*event)(void *opaque, enum power_event ev, unsigned code);
    void *opaque;
};

extern const struct mmio_ops syscon_mmio_ops; /* opaque: struct power_sink * */

#endif

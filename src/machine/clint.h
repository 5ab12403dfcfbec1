/* Core-Local Interruptor (SiFive CLINT layout, as on QEMU virt): per-hart
 * MSIP at 0x0, per-hart mtimecmp at 0x4000, mtime at 0xbff8. mtime is the
 * host's monotonic clock at 10 MHz; nothing ticks, deadlines are computed. */
#ifndef VIREO_MACHINE_CLINT_H
#define VIREO_MACHINE_CLINT_H

#include "machine/mmio.h"

#define CLINT_BASE 0x02000000ull
#define CLINT_SIZE 0x10000ull

extern const struct mmio_ops clint_mmio_ops; /* opaque: struct rv_sys * */

#endif

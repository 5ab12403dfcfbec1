/* The virt board: RAM at 0x80000000, the QEMU virt MMIO map (CLINT, PLIC,
 * NS16550A, goldfish RTC, syscon, virtio-mmio slots), a device tree
 * generated at start, and the two boot paths (OpenSBI in M-mode, or SBI
 * served by the hypervisor with the kernel entered in S-mode). */
#ifndef VIREO_MACHINE_BOARD_H
#define VIREO_MACHINE_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/mmio.h"
#include "machine/syscon.h"
#include "machine/uart.h"
#include "riscv/hart.h"

#define RAM_BASE 0x80000000ull
#define KERNEL_OFFSET 0x200000ull /* 2 MiB: where Linux wants its Image */
#define VIRTIO_MMIO_BASE 0x10001000ull
#define VIRTIO_MMIO_SLOT_SIZE 0x1000ull
/* QEMU's virt has 8 slots on IRQs 1-8; ours continue in the same 4 KiB
 * steps (still far below QEMU's next device at 0x10100000) on IRQs from 12,
 * past the UART (10) and RTC (11): 8 adapters, 6 disks, console and rng
 * need 16. */
#define VIRTIO_MMIO_SLOTS 24
#define VIRTIO_MMIO_IRQ0 1
#define VIRTIO_MMIO_IRQ8 12
static inline unsigned board_virtio_irq(unsigned slot)
{
    return slot < 8 ? VIRTIO_MMIO_IRQ0 + slot : VIRTIO_MMIO_IRQ8 + (slot - 8);
}
#define BOARD_MAX_CPUS 64

struct board_config {
    unsigned ncpus;
    uint64_t ram_size;
    const char *kernel;   /* Linux Image or ELF; NULL with a firmware = bare firmware */
    const char *initrd;   /* may be NULL */
    const char *cmdline;  /* may be NULL */
    const char *firmware; /* M-mode firmware (OpenSBI, bare test); NULL = built-in SBI */
    unsigned max_satp_mode; /* SATP_MODE_SV39/48/57 */
    bool jit;             /* the execution engine translates (riscv/jit.h) */
    /* With image_fds, the images are read from these descriptors (the VM
     * opens them once and reads them again on every guest reset, so a
     * reset needs neither the paths nor the privileges to open them);
     * one that is -1 is opened by its path. */
    bool image_fds;
    int kernel_fd, initrd_fd, firmware_fd;
    struct uart_sink console;
    struct power_sink power;
};

struct plic;
struct goldfish_rtc;

struct board {
    struct board_config cfg;
    struct rv_sys sys;
    uint8_t *ram;
    struct mmio_map mmio;
    struct plic *plic;
    struct uart *uart;
    struct goldfish_rtc *rtc;
    bool virtio_used[VIRTIO_MMIO_SLOTS];
    void *fdt;
    size_t fdt_size;
    uint64_t fdt_addr, kernel_addr, kernel_end, initrd_addr, initrd_size, fw_entry;
    bool sbi_console_pending; /* SBI getchar support */
};

/* Set up RAM, harts and the fixed devices. On error fills err and returns -1. */
int board_init(struct board *b, const struct board_config *cfg, char *err, size_t errlen);
/* Plug a device into the next free virtio-mmio slot; *irq_out gets its PLIC
 * source. Returns the slot, or -1 if all are taken. */
int board_add_virtio(struct board *b, const struct mmio_ops *ops, void *opaque, unsigned *irq_out);
/* Load kernel/initrd/firmware, generate the device tree and put every hart
 * at its entry point. */
int board_load(struct board *b, char *err, size_t errlen);
void board_destroy(struct board *b);

/* Raise a PLIC line (for devices outside machine/). */
void board_set_irq(struct board *b, unsigned src, bool level);

/* Format an error for the caller (err, errlen) and return -1. */
int board_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* device tree (fdt.c) */
int board_build_fdt(struct board *b, char *err, size_t errlen);
/* image loading (loader.c) */
int board_load_images(struct board *b, char *err, size_t errlen);
/* the built-in SBI (sbi.c): the rv_hooks.sbi_call of a board */
void sbi_call(void *opaque, struct rv_hart *h);

#endif

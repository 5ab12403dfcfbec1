/* The device tree handed to firmware and kernel, generated with libfdt's
 * sequential-write API in the shape QEMU's virt machine uses, so the same
 * kernels and firmware find the same devices. */
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/board.h"
#include "machine/clint.h"
#include "machine/plic.h"
#include "machine/rtc.h"
#include "riscv/csr.h"

#define FDT_BUF_SIZE (64 * 1024) /* generous: OpenSBI edits the tree in place */

enum { PH_PLIC = 1, PH_SYSCON = 2, PH_CPU_INTC0 = 16 };

static int check(int r, const char *what, char *err, size_t errlen)
{
    if (r < 0)
        snprintf(err, errlen, "building the device tree (%s): %s", what, fdt_strerror(r));
    return r;
}

static int prop_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
    fdt64_t v[2] = { cpu_to_fdt64(a), cpu_to_fdt64(b) };
    return fdt_property(fdt, name, v, sizeof(v));
}

static int prop_cells(void *fdt, const char *name, const uint32_t *cells, unsigned n)
{
    fdt32_t *v = calloc(n, sizeof(*v));
    if (!v)
        return -FDT_ERR_NOSPACE;
    for (unsigned i = 0; i < n; i++)
        v[i] = cpu_to_fdt32(cells[i]);
    int r = fdt_property(fdt, name, v, (int)(n * sizeof(*v)));
    free(v);
    return r;
}

/* interrupts-extended of a device wired to every hart's local interrupt
 * controller twice (M-level line a, then line b). */
static int per_hart_irqs(void *fdt, unsigned n, uint32_t a, uint32_t b)
{
    uint32_t cells[4 * BOARD_MAX_CPUS];
    for (unsigned i = 0; i < n; i++) {
        cells[4 * i + 0] = PH_CPU_INTC0 + i;
        cells[4 * i + 1] = a;
        cells[4 * i + 2] = PH_CPU_INTC0 + i;
        cells[4 * i + 3] = b;
    }
    return prop_cells(fdt, "interrupts-extended", cells, 4 * n);
}

/* A syscon-poweroff / syscon-reboot node: write `value` to the syscon. */
static int syscon_action(void *fdt, const char *what, uint32_t value)
{
    char compat[32];
    snprintf(compat, sizeof(compat), "syscon-%s", what);
    int r;
    if ((r = fdt_begin_node(fdt, what)) < 0 || (r = fdt_property_string(fdt, "compatible", compat)) < 0 ||
        (r = fdt_property_u32(fdt, "regmap", PH_SYSCON)) < 0 || (r = fdt_property_u32(fdt, "offset", 0)) < 0 ||
        (r = fdt_property_u32(fdt, "value", value)) < 0)
        return r;
    return fdt_end_node(fdt);
}

static const char *mmu_type(unsigned mode)
{
    switch (mode) {
    case SATP_MODE_SV39: return "riscv,sv39";
    case SATP_MODE_SV48: return "riscv,sv48";
    default: return "riscv,sv57";
    }
}

#define TRY(expr) do { int r_ = (expr); if (r_ < 0) return check(r_, #expr, err, errlen); } while (0)

static int build(struct board *b, void *fdt, char *err, size_t errlen)
{
    unsigned n = b->cfg.ncpus;
    char name[64];

    TRY(fdt_create(fdt, FDT_BUF_SIZE));
    TRY(fdt_finish_reservemap(fdt));
    TRY(fdt_begin_node(fdt, ""));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    TRY(fdt_property_string(fdt, "model", "riscv-virtio,qemu"));

    TRY(fdt_begin_node(fdt, "chosen"));
    if (b->cfg.cmdline)
        TRY(fdt_property_string(fdt, "bootargs", b->cfg.cmdline));
    snprintf(name, sizeof(name), "/soc/serial@%llx", (unsigned long long)UART0_BASE);
    TRY(fdt_property_string(fdt, "stdout-path", name));
    if (b->initrd_size) {
        TRY(fdt_property_u64(fdt, "linux,initrd-start", b->initrd_addr));
        TRY(fdt_property_u64(fdt, "linux,initrd-end", b->initrd_addr + b->initrd_size));
    }
    TRY(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)RAM_BASE);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    TRY(prop_u64_pair(fdt, "reg", RAM_BASE, b->cfg.ram_size));
    TRY(fdt_end_node(fdt));

    TRY(fdt_begin_node(fdt, "cpus"));
    TRY(fdt_property_u32(fdt, "#address-cells", 1));
    TRY(fdt_property_u32(fdt, "#size-cells", 0));
    TRY(fdt_property_u32(fdt, "timebase-frequency", (uint32_t)RV_TIMEBASE_HZ));
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "cpu@%u", i);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "device_type", "cpu"));
        TRY(fdt_property_u32(fdt, "reg", i));
        TRY(fdt_property_string(fdt, "status", "okay"));
        TRY(fdt_property_string(fdt, "compatible", "riscv"));
        TRY(fdt_property_string(fdt, "riscv,isa", b->sys.has_sstc ? "rv64imafdc_zicsr_zifencei_zihintpause_sstc"
                                                                  : "rv64imafdc_zicsr_zifencei_zihintpause"));
        TRY(fdt_property_string(fdt, "mmu-type", mmu_type(b->sys.max_satp_mode)));
        TRY(fdt_begin_node(fdt, "interrupt-controller"));
        TRY(fdt_property_u32(fdt, "#address-cells", 0));
        TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
        TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
        TRY(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
        TRY(fdt_property_u32(fdt, "phandle", PH_CPU_INTC0 + i));
        TRY(fdt_end_node(fdt));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt)); /* cpus */

    TRY(fdt_begin_node(fdt, "soc"));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "simple-bus"));
    TRY(fdt_property(fdt, "ranges", NULL, 0));

    snprintf(name, sizeof(name), "test@%llx", (unsigned long long)SYSCON_BASE);
    TRY(fdt_begin_node(fdt, name));
    {
        static const char compat[] = "sifive,test1\0sifive,test0\0syscon";
        TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    }
    TRY(prop_u64_pair(fdt, "reg", SYSCON_BASE, SYSCON_SIZE));
    TRY(fdt_property_u32(fdt, "phandle", PH_SYSCON));
    TRY(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "rtc@%llx", (unsigned long long)RTC_BASE);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", "google,goldfish-rtc"));
    TRY(prop_u64_pair(fdt, "reg", RTC_BASE, RTC_SIZE));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
    TRY(fdt_property_u32(fdt, "interrupts", RTC_IRQ));
    TRY(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "clint@%llx", (unsigned long long)CLINT_BASE);
    TRY(fdt_begin_node(fdt, name));
    {
        static const char compat[] = "sifive,clint0\0riscv,clint0";
        TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    }
    TRY(prop_u64_pair(fdt, "reg", CLINT_BASE, CLINT_SIZE));
    TRY(per_hart_irqs(fdt, n, IRQ_MSI, IRQ_MTI));
    TRY(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "plic@%llx", (unsigned long long)PLIC_BASE);
    TRY(fdt_begin_node(fdt, name));
    {
        static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
        TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    }
    TRY(fdt_property_u32(fdt, "#address-cells", 0));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(prop_u64_pair(fdt, "reg", PLIC_BASE, PLIC_SIZE));
    TRY(fdt_property_u32(fdt, "riscv,ndev", PLIC_NUM_SOURCES - 1));
    TRY(per_hart_irqs(fdt, n, IRQ_MEI, IRQ_SEI));
    TRY(fdt_property_u32(fdt, "phandle", PH_PLIC));
    TRY(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "serial@%llx", (unsigned long long)UART0_BASE);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
    TRY(prop_u64_pair(fdt, "reg", UART0_BASE, UART0_SIZE));
    TRY(fdt_property_u32(fdt, "clock-frequency", 3686400));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
    TRY(fdt_property_u32(fdt, "interrupts", UART0_IRQ));
    TRY(fdt_end_node(fdt));

    for (unsigned slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        if (!b->virtio_used[slot])
            continue;
        uint64_t base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SLOT_SIZE;
        snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)base);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
        TRY(prop_u64_pair(fdt, "reg", base, VIRTIO_MMIO_SLOT_SIZE));
        TRY(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
        TRY(fdt_property_u32(fdt, "interrupts", board_virtio_irq(slot)));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt)); /* soc */

    /* power-off and reboot go through the syscon (as on QEMU virt) */
    TRY(syscon_action(fdt, "poweroff", 0x5555));
    TRY(syscon_action(fdt, "reboot", 0x7777));

    TRY(fdt_end_node(fdt)); /* root */
    TRY(fdt_finish(fdt));
    return 0;
}

int board_build_fdt(struct board *b, char *err, size_t errlen)
{
    free(b->fdt);
    b->fdt = calloc(1, FDT_BUF_SIZE);
    if (!b->fdt) {
        snprintf(err, errlen, "out of memory building the device tree");
        return -1;
    }
    if (build(b, b->fdt, err, errlen) < 0)
        return -1;
    /* Leave the whole buffer as free space for firmware fix-ups. */
    fdt_open_into(b->fdt, b->fdt, FDT_BUF_SIZE);
    b->fdt_size = FDT_BUF_SIZE;
    return 0;
}

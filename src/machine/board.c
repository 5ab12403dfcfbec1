#include "machine/board.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "machine/clint.h"
#include "machine/plic.h"
#include "machine/rtc.h"
#include "riscv/csr.h"
#include "riscv/mmu.h"

static bool bus_read(void *opaque, struct rv_hart *h, uint64_t paddr, unsigned size, uint64_t *val)
{
    struct board *b = opaque;
    const struct mmio_region *r = mmio_map_find(&b->mmio, paddr);
    if (!r || paddr - r->base + size > r->size || !r->ops->read)
        return false;
    return r->ops->read(r->opaque, h, paddr - r->base, size, val);
}

static bool bus_write(void *opaque, struct rv_hart *h, uint64_t paddr, unsigned size, uint64_t val)
{
    struct board *b = opaque;
    const struct mmio_region *r = mmio_map_find(&b->mmio, paddr);
    if (!r || paddr - r->base + size > r->size || !r->ops->write)
        return false;
    return r->ops->write(r->opaque, h, paddr - r->base, size, val);
}

int board_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int board_init(struct board *b, const struct board_config *cfg, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->cfg = *cfg;
    if (cfg->ncpus < 1 || cfg->ncpus > BOARD_MAX_CPUS)
        return board_error(err, errlen, "the board supports 1 to %d vCPUs, not %u", BOARD_MAX_CPUS, cfg->ncpus);
    if (cfg->ram_size < (16ull << 20) || cfg->ram_size > (1ull << 40) || (cfg->ram_size & 0xfff))
        return board_error(err, errlen, "memory size must be a multiple of 4 KiB between 16 MiB and 1 TiB");
    /* Reserved, not committed: the guest's untouched pages cost nothing. */
    b->ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b->ram == MAP_FAILED) {
        b->ram = NULL;
        return board_error(err, errlen, "cannot reserve %llu MiB for guest memory: %s",
                    (unsigned long long)(cfg->ram_size >> 20), strerror(errno));
    }
    /* 4 KiB granularity: a VM costs only the pages its guest touches
     * (this also keeps guest RAM a VMA of its own in /proc/PID/smaps). */
    madvise(b->ram, cfg->ram_size, MADV_NOHUGEPAGE);
    struct rv_bus bus = {
        .ram = b->ram, .ram_base = RAM_BASE, .ram_size = cfg->ram_size,
        .opaque = b, .mmio_read = bus_read, .mmio_write = bus_write,
    };
    if (rv_sys_init(&b->sys, &bus, cfg->ncpus) < 0)
        return board_error(err, errlen, "out of memory setting up the CPUs");
    b->sys.jit = cfg->jit;
    b->sys.max_satp_mode = cfg->max_satp_mode ? cfg->max_satp_mode : SATP_MODE_SV48;
    for (unsigned i = 0; i < cfg->ncpus; i++)
        if (!rv_hart_new(&b->sys, i))
            return board_error(err, errlen, "out of memory creating vCPU %u", i);

    b->plic = plic_new(&b->sys, cfg->ncpus);
    b->uart = uart_new(b->plic, UART0_IRQ, cfg->console);
    b->rtc = goldfish_rtc_new(b->plic, RTC_IRQ);
    if (!b->plic || !b->uart || !b->rtc)
        return board_error(err, errlen, "out of memory creating devices");
    mmio_map_add(&b->mmio, SYSCON_BASE, SYSCON_SIZE, "syscon", &syscon_mmio_ops, &b->cfg.power);
    mmio_map_add(&b->mmio, RTC_BASE, RTC_SIZE, "rtc", &goldfish_rtc_mmio_ops, b->rtc);
    mmio_map_add(&b->mmio, CLINT_BASE, CLINT_SIZE, "clint", &clint_mmio_ops, &b->sys);
    mmio_map_add(&b->mmio, PLIC_BASE, PLIC_SIZE, "plic", &plic_mmio_ops, b->plic);
    mmio_map_add(&b->mmio, UART0_BASE, UART0_SIZE, "uart", &uart_mmio_ops, b->uart);
    return 0;
}

int board_add_virtio(struct board *b, const struct mmio_ops *ops, void *opaque, unsigned *irq_out)
{
    for (int slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        if (b->virtio_used[slot])
            continue;
        uint64_t base = VIRTIO_MMIO_BASE + (uint64_t)slot * VIRTIO_MMIO_SLOT_SIZE;
        if (!mmio_map_add(&b->mmio, base, VIRTIO_MMIO_SLOT_SIZE, "virtio", ops, opaque))
            return -1;
        b->virtio_used[slot] = true;
        *irq_out = board_virtio_irq((unsigned)slot);
        return slot;
    }
    return -1;
}

void board_set_irq(struct board *b, unsigned src, bool level) { plic_set_irq(b->plic, src, level); }

int board_load(struct board *b, char *err, size_t errlen)
{
    if (board_load_images(b, err, errlen) < 0)
        return -1;
    if (board_build_fdt(b, err, errlen) < 0)
        return -1;
    memcpy(b->ram + (b->fdt_addr - RAM_BASE), b->fdt, b->fdt_size);

    struct rv_sys *sys = &b->sys;
    if (b->cfg.firmware) {
        /* M-mode firmware on every hart, as on QEMU virt: a0 = hartid,
         * a1 = FDT, a2 = fw_dynamic_info (ignored by fw_jump). */
        uint64_t info_addr = b->fdt_addr - 0x1000;
        uint64_t info[6] = { 0x4942534f, 2, b->kernel_addr, 1 /* S-mode */, 0, ~0ull };
        memcpy(b->ram + (info_addr - RAM_BASE), info, sizeof(info));
        for (unsigned i = 0; i < sys->nharts; i++) {
            struct rv_hart *h = sys->harts[i];
            rv_hart_reset(h, RV_PRIV_M, b->fw_entry);
            h->x[10] = i;
            h->x[11] = b->fdt_addr;
            h->x[12] = info_addr;
            atomic_store(&h->run_state, RV_HART_RUNNING);
        }
        sys->sbi_in_host = false;
    } else {
        /* Built-in SBI: the kernel starts in S-mode on hart 0; the others
         * wait for an HSM start. M-mode is configured as firmware would. */
        sys->sbi_in_host = true;
        sys->hooks.sbi_call = sbi_call;
        sys->hooks.opaque = b;
        for (unsigned i = 0; i < sys->nharts; i++) {
            struct rv_hart *h = sys->harts[i];
            rv_hart_reset(h, RV_PRIV_S, b->kernel_addr);
            h->medeleg = 0xb1ff; /* every exception S can handle */
            h->mideleg = MIP_S_MASK;
            h->mcounteren = 0xffffffff;
            /* As OpenSBI does: user mode may read cycle, time and instret
             * (Linux never sets scounteren; its vDSO reads time). */
            h->scounteren = 7;
            h->menvcfg = sys->has_sstc ? MENVCFG_STCE : 0;
            h->x[10] = i;
            h->x[11] = b->fdt_addr;
            atomic_store(&h->run_state, i == 0 ? RV_HART_RUNNING : RV_HART_STOPPED);
        }
    }
    return 0;
}

void board_destroy(struct board *b)
{
    rv_sys_destroy(&b->sys);
    uart_free(b->uart);
    goldfish_rtc_free(b->rtc);
    plic_free(b->plic);
    free(b->fdt);
    if (b->ram)
        munmap(b->ram, b->cfg.ram_size);
    memset(b, 0, sizeof(*b));
}

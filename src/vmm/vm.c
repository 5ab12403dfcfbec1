#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "machine/board.h"
#include "machine/rtc.h"
#include "machine/uart.h"
#include "riscv/hart.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "vmm/console.h"
#include "vmm/nic.h"

/* One virtio-mmio slot on the board. */
struct vio_slot {
    struct board *board;
    struct virtio_mmio *transport;
    unsigned irq;
};

struct vm {
    const struct vm_config *cfg;
    struct board board;
    struct evloop *io;
    struct stdio_console *console;
    pthread_t *vcpu_threads;
    bool reset_requested;
    uint64_t rtc_timer;
    struct vio_slot slots[VIRTIO_MMIO_SLOTS];
    unsigned nslots;
    struct virtio_dev *vconsole; /* owned by its transport */
    struct nic *nics[NIC_MAX];
    uint8_t macs[NIC_MAX][6];    /* kept across guest resets */
    bool macs_chosen;
    struct virtio_guest_mem guest_mem; /* devices keep a pointer to it */
};

static bool vio_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)h;
    return virtio_mmio_read(((struct vio_slot *)opaque)->transport, off, size, val);
}

static bool vio_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    return virtio_mmio_write(((struct vio_slot *)opaque)->transport, off, size, val);
}

static const struct mmio_ops vio_ops = { vio_read, vio_write };

static void vio_irq(void *opaque, bool level)
{
    struct vio_slot *s = opaque;
    board_set_irq(s->board, s->irq, level);
}

static void vio_note_write(void *opaque, uint64_t gpa, uint64_t len) { rv_code_note_write(opaque, gpa, len); }

/* Plug dev into the next virtio-mmio slot (takes ownership of dev). */
static int add_virtio(struct vm *vm, struct virtio_dev *dev, const char *what)
{
    if (!dev)
        return -1; /* the device said why */
    if (vm->nslots >= VIRTIO_MMIO_SLOTS) {
        verror("too many virtio devices (at most %d): cannot add %s", VIRTIO_MMIO_SLOTS, what);
        virtio_dev_free(dev);
        return -1;
    }
    struct vio_slot *s = &vm->slots[vm->nslots];
    s->board = &vm->board;
    if (board_add_virtio(&vm->board, &vio_ops, s, &s->irq) < 0) {
        verror("no free virtio-mmio slot for %s", what);
        virtio_dev_free(dev);
        return -1;
    }
    vm->guest_mem = (struct virtio_guest_mem){
        .host = vm->board.ram, .base = RAM_BASE, .size = vm->board.cfg.ram_size,
        .note_write = vio_note_write, .opaque = &vm->board.sys,
    };
    s->transport = virtio_mmio_new(dev, &vm->guest_mem, (struct virtio_irq){ vio_irq, s }, vm->io);
    if (!s->transport)
        return -1;
    vm->nslots++;
    return 0;
}

static int add_devices(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        struct virtio_blk_opts o = { .path = cfg->disks[i].path, .readonly = cfg->disks[i].readonly };
        if (add_virtio(vm, virtio_blk_new(&o), cfg->disks[i].path) < 0)
            return -1;
    }
    vm->vconsole = virtio_console_new((struct virtio_chardev){ stdio_console_write, vm->console }, 0, 0);
    if (add_virtio(vm, vm->vconsole, "virtio-console") < 0)
        return -1;
    if (!cfg->no_rng && add_virtio(vm, virtio_rng_new(), "virtio-rng") < 0)
        return -1;
    for (unsigned i = 0; i < cfg->nnics; i++) {
        if (!vm->macs_chosen) {
            if (cfg->nics[i].mac_set)
                memcpy(vm->macs[i], cfg->nics[i].mac, 6);
            else if (cfg->mac_seed)
                nic_derive_mac(cfg->mac_seed, i, vm->macs[i]);
            else
                nic_random_mac(vm->macs[i]);
        }
        char err[512], what[16];
        struct virtio_dev *dev = NULL;
        vm->nics[i] = nic_new(vm->io, &cfg->nics[i], i, vm->macs[i], &dev, err, sizeof(err));
        if (!vm->nics[i]) {
            verror("%s", err);
            return -1;
        }
        snprintf(what, sizeof(what), "nic%u", i + 1);
        if (add_virtio(vm, dev, what) < 0)
            return -1;
    }
    vm->macs_chosen = true;
    return 0;
}

static void power_event(void *opaque, enum power_event ev, unsigned code)
{
    struct vm *vm = opaque;
    int status = 0;
    switch (ev) {
    case POWER_OFF: status = 0; break;
    case POWER_FAIL: status = code ? (int)(code & 0xff) : 1; if (!status) status = 1; break;
    case POWER_RESET: vm->reset_requested = true; break;
    }
    rv_sys_stop(&vm->board.sys, status);
    evloop_stop(vm->io);
}

static size_t console_deliver(void *opaque, const uint8_t *buf, size_t len)
{
    struct vm *vm = opaque;
    if (vm->cfg->console == VM_CONSOLE_VIRTIO) {
        virtio_console_input(vm->vconsole, buf, len);
        return len;
    }
    return uart_receive(vm->board.uart, buf, len);
}

static void console_quit(void *opaque)
{
    struct vm *vm = opaque;
    vinfo("quit requested from the console");
    rv_sys_stop(&vm->board.sys, 0);
    evloop_stop(vm->io);
}

static void *vcpu_main(void *arg)
{
    struct rv_hart *h = arg;
    char name[16];
    snprintf(name, sizeof(name), "vcpu%u", (unsigned)h->hartid);
    pthread_setname_np(pthread_self(), name);
    /* Signals belong to the I/O thread. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    rv_hart_run(h);
    /* The machine stopped (power-off, or a guest that cannot continue):
     * the I/O thread must stop too. */
    struct vm *vm = h->vcpu;
    evloop_stop(vm->io);
    return NULL;
}

/* The goldfish RTC's alarm: polled once a second (one wake-up per second
 * of an idle VM, ~0.00% of a core measured). */
static void rtc_tick(void *opaque)
{
    struct vm *vm = opaque;
    goldfish_rtc_poll(vm->board.rtc);
    vm->rtc_timer = evloop_add_timer(vm->io, 1000000000ull, rtc_tick, vm);
}

static int write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t r = write(fd, data, len);
    int e = errno;
    close(fd);
    errno = e;
    return r == (ssize_t)len ? 0 : -1;
}

static void print_stats(struct vm *vm, uint64_t elapsed_ns)
{
    struct rv_sys *sys = &vm->board.sys;
    uint64_t total = 0;
    for (unsigned i = 0; i < sys->nharts; i++) {
        struct rv_hart *h = sys->harts[i];
        total += h->instret;
        fprintf(stderr, "vireo: vcpu%u: %llu instructions, %llu blocks decoded, %llu TLB misses, %llu MMIO, "
                "%llu WFI sleeps\r\n", i, (unsigned long long)h->instret,
                (unsigned long long)h->stat_blocks_translated, (unsigned long long)h->stat_tlb_misses,
                (unsigned long long)h->stat_mmio, (unsigned long long)h->stat_wfi_sleeps);
    }
    double s = (double)elapsed_ns / 1e9;
    fprintf(stderr, "vireo: %.3f s, %llu instructions, %.1f MIPS\r\n", s, (unsigned long long)total,
            s > 0 ? (double)total / s / 1e6 : 0.0);
}

static int run_once(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;
    char err[512];
    int status = 1;

    vm->io = evloop_new();
    if (!vm->io) {
        verror("cannot create the I/O event loop");
        return 1;
    }
    vm->console = stdio_console_new(vm->io, cfg->dump_dtb ? -1 : STDIN_FILENO, STDOUT_FILENO);
    if (!vm->console) {
        verror("cannot set up the console");
        evloop_free(vm->io);
        return 1;
    }
    struct board_config bc = {
        .ncpus = cfg->ncpus, .ram_size = cfg->ram_size,
        .kernel = cfg->kernel, .initrd = cfg->initrd, .cmdline = cfg->cmdline, .firmware = cfg->firmware,
        .max_satp_mode = cfg->max_satp_mode,
        .console = { stdio_console_write, vm->console },
        .power = { power_event, vm },
    };
    if (board_init(&vm->board, &bc, err, sizeof(err)) < 0) {
        verror("%s", err);
        goto out;
    }
    if (add_devices(vm) < 0)
        goto out;
    if (board_load(&vm->board, err, sizeof(err)) < 0) {
        verror("%s", err);
        goto out;
    }
    if (cfg->dump_dtb) {
        /* the tree as the guest gets it, without the slack for firmware */
        fdt_pack(vm->board.fdt);
        if (write_file(cfg->dump_dtb, vm->board.fdt, fdt_totalsize(vm->board.fdt)) < 0)
            verror("cannot write the device tree to '%s': %s", cfg->dump_dtb, strerror(errno));
        else
            status = 0;
        goto out;
    }
    stdio_console_set_input(vm->console, (struct console_input){ console_deliver, console_quit, vm });
    vm->rtc_timer = evloop_add_timer(vm->io, 1000000000ull, rtc_tick, vm);

    struct rv_sys *sys = &vm->board.sys;
    vm->vcpu_threads = calloc(sys->nharts, sizeof(pthread_t));
    uint64_t t0 = vclock_ns();
    unsigned started = 0;
    for (unsigned i = 0; i < sys->nharts; i++)
        sys->harts[i]->vcpu = vm;
    for (; started < sys->nharts; started++) {
        int e = pthread_create(&vm->vcpu_threads[started], NULL, vcpu_main, sys->harts[started]);
        if (e) {
            verror("cannot start vCPU thread %u: %s", started, strerror(e));
            rv_sys_stop(sys, 1);
            break;
        }
    }
    if (started == sys->nharts)
        evloop_run(vm->io);
    rv_sys_stop(sys, atomic_load(&sys->exit_code));
    for (unsigned i = 0; i < started; i++)
        pthread_join(vm->vcpu_threads[i], NULL);
    status = atomic_load(&sys->exit_code);
    if (cfg->stats)
        print_stats(vm, vclock_ns() - t0);
out:
    /* Adapters first: their backends may still hold frames for devices
     * that the transports free next. */
    for (unsigned i = 0; i < NIC_MAX; i++) {
        nic_free(vm->nics[i]);
        vm->nics[i] = NULL;
    }
    for (unsigned i = 0; i < vm->nslots; i++)
        virtio_mmio_free(vm->slots[i].transport);
    vm->nslots = 0;
    free(vm->vcpu_threads);
    vm->vcpu_threads = NULL;
    stdio_console_free(vm->console);
    vm->console = NULL;
    board_destroy(&vm->board);
    evloop_free(vm->io);
    vm->io = NULL;
    return status;
}

int vm_run(const struct vm_config *cfg)
{
    struct vm vm = { .cfg = cfg };
    for (;;) {
        vm.reset_requested = false;
        int status = run_once(&vm);
        if (!vm.reset_requested)
            return status;
        vinfo("guest requested a reset: restarting the machine");
    }
}

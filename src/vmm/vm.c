#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libfdt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "machine/board.h"
#include "machine/rtc.h"
#include "machine/uart.h"
#include "riscv/block.h"
#include "riscv/hart.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/input.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "vmm/broker.h"
#include "vmm/console.h"
#include "vmm/console_server.h"
#include "vmm/control.h"
#include "vmm/nic.h"
#include "vmm/sandbox.h"
#include "vmm/state_file.h"
#include "vmm/vcpu_sched.h"

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
    /* Kept open across guest resets: the adapters with their backends, the
     * disk images (and their locks) and the boot images. A reset builds a
     * new machine from these without opening anything by path. */
    struct nic *nics[NIC_MAX];
    uint8_t macs[NIC_MAX][6];
    int disk_fds[VM_MAX_DISKS];
    int kernel_fd, initrd_fd, firmware_fd;
    struct virtio_guest_mem guest_mem; /* devices keep a pointer to it */
    /* Management: these live across guest resets. */
    struct vsched *sched;
    struct control *ctl;
    struct virtio_dev *nic_devs[NIC_MAX]; /* owned by their transports */
    struct virtio_dev *disk_devs[VM_MAX_DISKS]; /* owned by their transports */
    /* Pressing the power button (a virtio-input device sets it); NULL: the
     * VM has none. */
    void (*power_button)(void *opaque);
    void *power_button_opaque;
    struct virtio_dev *pbtn;          /* the power button; owned by its transport */
    struct virtio_dev *balloon;       /* or NULL; owned by its transport */
    uint32_t balloon_target;          /* pages; kept across guest resets */
    struct console_server *cs;        /* detached console, or NULL: the terminal */
    /* SIGTERM, SIGINT and SIGHUP arrive here instead of killing the
     * process, so a `kill` stops the VM the way `poweroff` does: disks
     * closed, state file saying why (QEMU does the same). */
    int sigfd;
    int stop_signal;                  /* the signal that stopped it, or 0 */
    bool sandboxed;                   /* the filter is on (for good) */
    bool drop_user;                   /* started as root: become uid/gid before the filter */
    uid_t uid;
    gid_t gid;
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
        struct virtio_blk_opts o = { .path = cfg->disks[i].path, .readonly = cfg->disks[i].readonly,
                                     .use_fd = vm->disk_fds[i] >= 0, .fd = vm->disk_fds[i] };
        struct virtio_dev *d = virtio_blk_new(&o);
        if (d && vm->disk_fds[i] < 0 && (vm->disk_fds[i] = fcntl(virtio_blk_fd(d), F_DUPFD_CLOEXEC, 0)) < 0)
            vwarn("disk %s: cannot keep a descriptor for guest resets: %s", cfg->disks[i].path, strerror(errno));
        if (add_virtio(vm, d, cfg->disks[i].path) < 0)
            return -1;
        vm->disk_devs[i] = d;
    }
    struct virtio_chardev out = vm->cs ? (struct virtio_chardev){ console_server_write, vm->cs }
                                       : (struct virtio_chardev){ stdio_console_write, vm->console };
    vm->vconsole = virtio_console_new(out, 0, 0);
    if (add_virtio(vm, vm->vconsole, "virtio-console") < 0)
        return -1;
    if (!cfg->no_rng && add_virtio(vm, virtio_rng_new(), "virtio-rng") < 0)
        return -1;
    /* Every VM has a power button: `vireo vm stop` presses it. */
    vm->pbtn = virtio_input_powerbutton_new();
    if (add_virtio(vm, vm->pbtn, "power button") < 0)
        return -1;
    for (unsigned i = 0; i < cfg->nnics; i++) {
        char what[16];
        snprintf(what, sizeof(what), "nic%u", i + 1);
        struct virtio_dev *dev = nic_new_device(vm->nics[i]);
        if (add_virtio(vm, dev, what) < 0) {
            nic_unplug_device(vm->nics[i]);
            return -1;
        }
        vm->nic_devs[i] = dev;
    }
    /* Last, so adding it moves no other device. The target lives in
     * vm->balloon_target, set from the config once and by `set` later. */
    if (cfg->balloon) {
        vm->balloon = virtio_balloon_new();
        if (add_virtio(vm, vm->balloon, "virtio-balloon") < 0) {
            vm->balloon = NULL;
            return -1;
        }
        virtio_balloon_set_target(vm->balloon, vm->balloon_target);
    }
    return 0;
}

/* The adapters, with their backends connected: once per VM, before the
 * first machine. */
static int make_nics(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;
    for (unsigned i = 0; i < cfg->nnics; i++) {
        uint8_t *mac = vm->macs[i];
        if (cfg->nics[i].mac_set)
            memcpy(mac, cfg->nics[i].mac, 6);
        else if (cfg->mac_seed)
            nic_derive_mac(cfg->mac_seed, i, mac);
        else
            nic_random_mac(mac);
        char err[512];
        vm->nics[i] = nic_new(vm->io, &cfg->nics[i], i, mac, cfg->name, err, sizeof(err));
        if (!vm->nics[i]) {
            verror("%s", err);
            return -1;
        }
    }
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

static void stop_on_signal(void *opaque, int fd, uint32_t events)
{
    (void)events;
    struct vm *vm = opaque;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    vm->stop_signal = (int)si.ssi_signo;
    vinfo("stopping: %s from process %u", strsignal((int)si.ssi_signo), si.ssi_pid);
    rv_sys_stop(&vm->board.sys, 0);
    evloop_stop(vm->io);
}

static void *vcpu_main(void *arg)
{
    struct rv_hart *h = arg;
    char name[16];
    snprintf(name, sizeof(name), "vcpu%u", (unsigned)h->hartid);
    pthread_setname_np(pthread_self(), name);
    /* Signals belong to the I/O thread; SIGSYS (the sandbox's) must reach
     * the thread that made the forbidden call. */
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct vm *owner = h->vcpu;
    vsched_vcpu_thread_start(owner->sched, (unsigned)h->hartid);
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
    vsched_tick(vm->sched);
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

/* --stats: where the engine's time goes (bench/speed.py reads these lines). */
static void print_stats(struct vm *vm, uint64_t elapsed_ns)
{
    struct rv_sys *sys = &vm->board.sys;
    uint64_t total = 0;
    for (unsigned i = 0; i < sys->nharts; i++) {
        struct rv_hart *h = sys->harts[i];
        total += h->instret;
        double runs = h->stat_blocks_run ? (double)h->stat_blocks_run : 1.0;
        /* lookups: blocks the run loop found neither through a chain link
         * nor inside translated code */
        uint64_t inside = h->stat_jit_runs - h->stat_jit_entries;
        double looked = h->stat_blocks_run > h->stat_chained + inside
                            ? (double)(h->stat_blocks_run - h->stat_chained - inside) : 1.0;
        fprintf(stderr, "vireo: vcpu%u: %llu instructions, %llu blocks run (%.1f instructions each, %.1f%% chained, "
                "%.2f%% of lookups hit the cache), %llu blocks decoded, %llu TLB misses (%.1f per million "
                "instructions), %llu MMIO, %llu WFI sleeps\r\n", i, (unsigned long long)h->instret,
                (unsigned long long)h->stat_blocks_run, (double)h->instret / runs,
                100.0 * (double)h->stat_chained / runs, 100.0 * (double)h->stat_cache_hits / looked,
                (unsigned long long)h->stat_blocks_translated, (unsigned long long)h->stat_tlb_misses,
                h->instret ? 1e6 * (double)h->stat_tlb_misses / (double)h->instret : 0.0,
                (unsigned long long)h->stat_mmio, (unsigned long long)h->stat_wfi_sleeps);
    }
    if (sys->jit) {
        uint64_t nb = 0, bytes = 0, now = 0, ns = 0, runs = 0, jruns = 0;
        for (unsigned i = 0; i < sys->nharts; i++) {
            const struct rv_block_cache *c = sys->harts[i]->blocks;
            nb += c->jit_blocks, bytes += c->jit_bytes, ns += c->jit_ns;
            now += c->code_used - c->code_reserved;
            runs += sys->harts[i]->stat_blocks_run, jruns += sys->harts[i]->stat_jit_runs;
        }
        fprintf(stderr,
                "vireo: jit: %llu blocks translated, %.1f KiB of code (%.1f KiB in the buffers now), "
                "%.1f ms translating (%.1f%% of the run), %.1f%% of blocks run translated\r\n",
                (unsigned long long)nb, (double)bytes / 1024, (double)now / 1024, (double)ns / 1e6,
                elapsed_ns ? 100.0 * (double)ns / (double)elapsed_ns : 0.0,
                runs ? 100.0 * (double)jruns / (double)runs : 0.0);
    }
    double s = (double)elapsed_ns / 1e9;
    fprintf(stderr, "vireo: %.3f s, %llu instructions, %.1f MIPS\r\n", s, (unsigned long long)total,
            s > 0 ? (double)total / s / 1e6 : 0.0);
}

/* ---- the control protocol (docs/management.md) ---- */

static json_t *ok_answer(void)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_true());
    return o;
}

/* Resident bytes of guest RAM (mincore over the mapping: pages the guest
 * touched that are in host memory; swapped-out pages do not count). */
static uint64_t ram_resident(struct vm *vm)
{
    uint8_t *ram = vm->board.ram;
    uint64_t size = vm->board.cfg.ram_size, resident = 0;
    long pg = sysconf(_SC_PAGESIZE);
    if (!ram || pg <= 0)
        return 0;
    static unsigned char vec[4096];
    uint64_t chunk = (uint64_t)sizeof(vec) * (uint64_t)pg;
    for (uint64_t off = 0; off < size; off += chunk) {
        uint64_t len = size - off < chunk ? size - off : chunk;
        if (mincore(ram + off, len, vec) < 0)
            return 0;
        uint64_t npg = (len + (uint64_t)pg - 1) / (uint64_t)pg;
        for (uint64_t i = 0; i < npg; i++)
            resident += vec[i] & 1;
    }
    return resident * (uint64_t)pg;
}

static json_t *op_stats(struct vm *vm)
{
    json_t *o = ok_answer();
    json_t *vcpus = json_array();
    for (unsigned i = 0; i < vsched_nvcpus(vm->sched); i++) {
        struct vsched_vcpu_stats st;
        vsched_vcpu_stats(vm->sched, i, &st);
        json_t *v = json_object();
        json_object_set_new(v, "busy_pct", json_real((double)(int)(st.busy_pct * 10 + 0.5) / 10));
        json_object_set_new(v, "steal_ms", json_integer((json_int_t)st.steal_ms));
        json_object_set_new(v, "cpu_ms", json_integer((json_int_t)st.cpu_ms));
        json_object_set_new(v, "instret", json_integer((json_int_t)st.instret));
        json_object_set_new(v, "tid", json_integer(vsched_vcpu_tid(vm->sched, i)));
        json_array_append_new(vcpus, v);
    }
    json_object_set_new(o, "vcpus", vcpus);
    json_t *mem = json_object();
    json_object_set_new(mem, "assigned", json_integer((json_int_t)vm->cfg->ram_size));
    json_object_set_new(mem, "resident", json_integer((json_int_t)ram_resident(vm)));
    if (vm->balloon) {
        struct virtio_balloon_stats bs;
        virtio_balloon_get_stats(vm->balloon, &bs);
        json_t *bl = json_object();
        json_object_set_new(bl, "target", json_integer((json_int_t)bs.target_pages * VIRTIO_BALLOON_PAGE));
        json_object_set_new(bl, "actual", json_integer((json_int_t)bs.actual_pages * VIRTIO_BALLOON_PAGE));
        json_object_set_new(bl, "inflated", json_integer((json_int_t)(bs.inflated_pages * VIRTIO_BALLOON_PAGE)));
        json_object_set_new(bl, "deflated", json_integer((json_int_t)(bs.deflated_pages * VIRTIO_BALLOON_PAGE)));
        json_object_set_new(bl, "reported", json_integer((json_int_t)bs.reported_bytes));
        json_object_set_new(bl, "bad_addresses", json_integer((json_int_t)bs.bad_addresses));
        json_object_set_new(mem, "balloon", bl);
    }
    json_object_set_new(o, "memory", mem);
    json_t *disks = json_array();
    for (unsigned i = 0; i < vm->cfg->ndisks; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "path", json_string(vm->cfg->disks[i].path));
        json_object_set_new(d, "readonly", json_boolean(vm->cfg->disks[i].readonly));
        if (vm->disk_devs[i]) {
            struct virtio_blk_stats bs;
            virtio_blk_get_stats(vm->disk_devs[i], &bs);
            json_object_set_new(d, "read_reqs", json_integer((json_int_t)bs.rd_reqs));
            json_object_set_new(d, "read_bytes", json_integer((json_int_t)bs.rd_bytes));
            json_object_set_new(d, "write_reqs", json_integer((json_int_t)bs.wr_reqs));
            json_object_set_new(d, "write_bytes", json_integer((json_int_t)bs.wr_bytes));
            json_object_set_new(d, "flushes", json_integer((json_int_t)bs.flushes));
            json_object_set_new(d, "errors", json_integer((json_int_t)bs.errors));
        }
        json_array_append_new(disks, d);
    }
    json_object_set_new(o, "disks", disks);
    json_t *nics = json_array();
    for (unsigned i = 0; i < NIC_MAX; i++) {
        if (!vm->nic_devs[i])
            continue;
        struct virtio_net_stats ns;
        virtio_net_get_stats(vm->nic_devs[i], &ns);
        json_t *n = json_object();
        char mac[18];
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", vm->macs[i][0], vm->macs[i][1],
                 vm->macs[i][2], vm->macs[i][3], vm->macs[i][4], vm->macs[i][5]);
        json_object_set_new(n, "mac", json_string(mac));
        json_object_set_new(n, "tx_frames", json_integer((json_int_t)ns.tx_frames));
        json_object_set_new(n, "tx_bytes", json_integer((json_int_t)ns.tx_bytes));
        json_object_set_new(n, "tx_errors", json_integer((json_int_t)ns.tx_errors));
        json_object_set_new(n, "rx_frames", json_integer((json_int_t)ns.rx_frames));
        json_object_set_new(n, "rx_bytes", json_integer((json_int_t)ns.rx_bytes));
        json_object_set_new(n, "rx_dropped", json_integer((json_int_t)ns.rx_dropped));
        json_array_append_new(nics, n);
    }
    json_object_set_new(o, "nics", nics);
    return o;
}

static json_t *op_set(struct vm *vm, json_t *req)
{
    const char *key;
    json_t *val;
    json_t *cap = NULL, *aff = NULL, *balloon = NULL;
    json_object_foreach(req, key, val) {
        if (!strcmp(key, "op"))
            continue;
        if (!strcmp(key, "cpu_cap"))
            cap = val;
        else if (!strcmp(key, "cpu_affinity"))
            aff = val;
        else if (!strcmp(key, "balloon"))
            balloon = val;
        else
            return control_error("set: unknown setting \"%.64s\" (cpu_cap, cpu_affinity, balloon)", key);
    }
    if (!cap && !aff && !balloon)
        return control_error("set: give cpu_cap, cpu_affinity and/or balloon");
    if (balloon) {
        if (!vm->cfg->balloon)
            return control_error("set: balloon: this VM has no balloon (start it with --balloon)");
        /* Bytes the guest should hand back, at most all its RAM (Linux
         * stops short of what it cannot spare by itself). */
        if (!json_is_integer(balloon) || json_integer_value(balloon) < 0 ||
            (uint64_t)json_integer_value(balloon) > vm->cfg->ram_size)
            return control_error("set: balloon must be a number of bytes from 0 to the VM's memory (%llu)",
                                 (unsigned long long)vm->cfg->ram_size);
    }
    if (cap && (!json_is_integer(cap) || json_integer_value(cap) < 1 || json_integer_value(cap) > 100))
        return control_error("set: cpu_cap must be a whole number from 1 to 100");
    cpu_set_t set;
    CPU_ZERO(&set);
    if (aff) {
        if (!json_is_array(aff))
            return control_error("set: cpu_affinity must be a list of host CPU numbers ([] for all)");
        unsigned host = vsched_host_cpus();
        size_t i;
        json_t *c;
        json_array_foreach(aff, i, c) {
            if (!json_is_integer(c) || json_integer_value(c) < 0 ||
                json_integer_value(c) >= (json_int_t)host || json_integer_value(c) >= CPU_SETSIZE)
                return control_error("set: cpu_affinity: %s is not a CPU of this host (0-%u)",
                                     json_is_integer(c) ? "an entry" : "a non-number", host - 1);
            CPU_SET((int)json_integer_value(c), &set);
        }
        char err[256];
        if (vsched_set_affinity(vm->sched, &set, err, sizeof(err)) < 0)
            return control_error("set: %s", err);
    }
    if (cap)
        vsched_set_cap(vm->sched, (unsigned)json_integer_value(cap));
    if (balloon) {
        vm->balloon_target = (uint32_t)((uint64_t)json_integer_value(balloon) / VIRTIO_BALLOON_PAGE);
        if (vm->balloon)
            virtio_balloon_set_target(vm->balloon, vm->balloon_target);
    }
    return ok_answer();
}

static json_t *control_request(void *opaque, const char *op, json_t *req)
{
    struct vm *vm = opaque;
    struct rv_sys *sys = &vm->board.sys;
    if (!strcmp(op, "status")) {
        json_t *o = ok_answer();
        json_object_set_new(o, "state", json_string(atomic_load(&sys->paused) ? "paused" : "running"));
        json_object_set_new(o, "pid", json_integer(getpid()));
        json_object_set_new(o, "vcpus", json_integer(sys->nharts));
        if (vm->cfg->name)
            json_object_set_new(o, "name", json_string(vm->cfg->name));
        json_object_set_new(o, "cpu_cap", json_integer(vsched_get_cap(vm->sched)));
        unsigned cpus[CPU_SETSIZE];
        unsigned n = vsched_get_affinity(vm->sched, cpus, CPU_SETSIZE);
        json_t *a = json_array();
        for (unsigned i = 0; i < n; i++)
            json_array_append_new(a, json_integer(cpus[i]));
        json_object_set_new(o, "cpu_affinity", a);
        return o;
    }
    if (!strcmp(op, "pause")) {
        rv_sys_pause(sys, true);
        return ok_answer();
    }
    if (!strcmp(op, "resume")) {
        rv_sys_pause(sys, false);
        return ok_answer();
    }
    if (!strcmp(op, "power-button")) {
        if (!vm->power_button)
            return control_error("this VM has no power button");
        vm->power_button(vm->power_button_opaque);
        return ok_answer();
    }
    if (!strcmp(op, "poweroff")) {
        vinfo("power-off requested on the control socket");
        rv_sys_stop(sys, 0);
        evloop_stop(vm->io);
        return ok_answer();
    }
    if (!strcmp(op, "stats"))
        return op_stats(vm);
    if (!strcmp(op, "set"))
        return op_set(vm, req);
    return control_error("unknown op \"%.64s\" (status, pause, resume, power-button, poweroff, stats, set)", op);
}

static int run_once(struct vm *vm)
{
    const struct vm_config *cfg = vm->cfg;
    char err[512];
    int status = 1;

    /* A stop from the last machine (the reset) is done with. */
    evloop_rearm(vm->io);
    struct board_config bc = {
        .ncpus = cfg->ncpus, .ram_size = cfg->ram_size,
        .kernel = cfg->kernel, .initrd = cfg->initrd, .cmdline = cfg->cmdline, .firmware = cfg->firmware,
        .max_satp_mode = cfg->max_satp_mode, .jit = cfg->jit,
        .image_fds = true, .kernel_fd = vm->kernel_fd, .initrd_fd = vm->initrd_fd, .firmware_fd = vm->firmware_fd,
        .console = { vm->cs ? console_server_write : stdio_console_write,
                     vm->cs ? (void *)vm->cs : (void *)vm->console },
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
    if (vm->cs)
        console_server_set_input(vm->cs, (struct console_input){ console_deliver, console_quit, vm });
    vm->rtc_timer = evloop_add_timer(vm->io, 1000000000ull, rtc_tick, vm);
    if (vm->sigfd >= 0 && evloop_add_fd(vm->io, vm->sigfd, EPOLLIN, stop_on_signal, vm) < 0)
        vwarn("cannot watch for signals: a SIGTERM will kill the VM without stopping it");
    if (vm->ctl)
        control_attach(vm->ctl, vm->io, control_request, vm);

    if (!cfg->no_sandbox && !vm->sandboxed) {
        /* Everything is open now: from here on the process needs only
         * what running the machine needs, as nobody in particular. */
        if (vm->drop_user && sandbox_drop_to(vm->uid, vm->gid, err, sizeof(err)) < 0) {
            verror("%s", err);
            goto out;
        }
        if (sandbox_enter(err, sizeof(err)) < 0) {
            verror("%s (vireo run --no-sandbox goes on without it)", err);
            goto out;
        }
        vm->sandboxed = true;
        /* tests/system/vmproctest.py proves the filter is on this way */
        if (getenv("VIREO_SANDBOX_SELFTEST"))
            syscall(SYS_personality, 0xffffffffUL);
    }
    struct rv_sys *sys = &vm->board.sys;
    vm->vcpu_threads = calloc(sys->nharts, sizeof(pthread_t));
    uint64_t t0 = vclock_ns();
    unsigned started = 0;
    for (unsigned i = 0; i < sys->nharts; i++) {
        sys->harts[i]->vcpu = vm;
        vsched_attach(vm->sched, i, sys->harts[i]);
    }
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
    vsched_detach_all(vm->sched);
    status = atomic_load(&sys->exit_code);
    if (cfg->stats)
        print_stats(vm, vclock_ns() - t0);
out:
    control_detach(vm->ctl);
    if (vm->rtc_timer)
        evloop_cancel_timer(vm->io, vm->rtc_timer);
    vm->rtc_timer = 0;
    if (vm->sigfd >= 0)
        evloop_del_fd(vm->io, vm->sigfd);
    /* The adapters stay; their devices go with the transports. */
    for (unsigned i = 0; i < NIC_MAX; i++) {
        nic_unplug_device(vm->nics[i]);
        vm->nic_devs[i] = NULL;
    }
    for (unsigned i = 0; i < vm->nslots; i++)
        virtio_mmio_free(vm->slots[i].transport);
    vm->nslots = 0;
    memset(vm->disk_devs, 0, sizeof(vm->disk_devs));
    free(vm->vcpu_threads);
    vm->vcpu_threads = NULL;
    stdio_console_set_input(vm->console, (struct console_input){ 0 });
    if (vm->cs)
        console_server_set_input(vm->cs, (struct console_input){ 0 });
    vm->pbtn = NULL;
    vm->balloon = NULL;
    vm->vconsole = NULL;
    board_destroy(&vm->board);
    return status;
}

static void press_power_button(void *opaque)
{
    struct vm *vm = opaque;
    if (vm->pbtn)
        virtio_input_press_power(vm->pbtn);
}

/* A NAT adapter forwards the guest's pings with an ICMP echo socket, which
 * only groups in net.ipv4.ping_group_range may open (systemd allows all;
 * the kernel's default, none). Root could fall back to a raw socket; the
 * user the VM becomes cannot: say so once, rather than let ping fail
 * silently. */
static void check_nat_ping(const struct vm_config *cfg, gid_t gid)
{
    bool nat = false;
    for (unsigned i = 0; i < cfg->nnics; i++)
        nat |= cfg->nics[i].mode == NIC_NAT;
    FILE *f = nat ? fopen("/proc/sys/net/ipv4/ping_group_range", "re") : NULL;
    if (!f)
        return;
    unsigned long lo = 1, hi = 0;
    if (fscanf(f, "%lu %lu", &lo, &hi) != 2)
        lo = 1, hi = 0;
    fclose(f);
    if (gid < lo || gid > hi)
        vwarn("NAT: the guest's pings will fail: the VM runs as group %u, outside net.ipv4.ping_group_range "
              "(%lu %lu); TCP and UDP work. Widen the range (sysctl), or use --user with a group in it",
              (unsigned)gid, lo, hi);
}

/* The broker (vmm/broker.h), told what this VM may ask of it. */
static int start_broker(const struct vm_config *cfg, pid_t pid, uint64_t started, char *err, size_t errlen)
{
    struct broker_config bc = {
        .control_path = cfg->control_path, .console_socket = cfg->console_socket, .console_log = cfg->console_log,
        .state_file = cfg->state_file, .vm_pid = pid, .started_ns = started, .name = cfg->name,
    };
    for (unsigned i = 0; i < cfg->nnics && bc.nnets < BROKER_NETS_MAX; i++) {
        const struct nic_config *n = &cfg->nics[i];
        if (!nic_switch_kind(n->mode, &bc.nets[bc.nnets].kind))
            continue;
        snprintf(bc.nets[bc.nnets].name, sizeof(bc.nets[0].name), "%s", n->network);
        bc.nnets++;
    }
    return broker_start(&bc, err, errlen);
}

int vm_run(const struct vm_config *cfg)
{
    struct vm vm = { .cfg = cfg, .sigfd = -1, .kernel_fd = -1, .initrd_fd = -1, .firmware_fd = -1,
                     .balloon_target = (uint32_t)(cfg->balloon_size / VIRTIO_BALLOON_PAGE) };
    for (unsigned i = 0; i < VM_MAX_DISKS; i++)
        vm.disk_fds[i] = -1;
    pid_t pid = getpid();
    uint64_t started = vclock_realtime_ns();
    int status = 1;
    if (cfg->state_file && state_file_write_running(cfg->state_file, pid, started, cfg->name) < 0)
        return 1;
    if (!cfg->no_sandbox && !cfg->dump_dtb) {
        char err[512];
        if (geteuid() == 0) {
            if (sandbox_resolve_user(cfg->user ? cfg->user : "nobody", &vm.uid, &vm.gid, err, sizeof(err)) < 0) {
                verror("%s", err);
                goto out;
            }
            vm.drop_user = true;
            check_nat_ping(cfg, vm.gid);
        }
        /* Forked now, while this is the only thread. */
        if (start_broker(cfg, pid, started, err, sizeof(err)) < 0) {
            verror("%s", err);
            goto out;
        }
    }
    vm.sched = vsched_new(cfg->ncpus, cfg->cpu_cap, cfg->has_affinity ? &cfg->affinity : NULL);
    if (!vm.sched) {
        verror("out of memory");
        goto out;
    }
    if ((cfg->console_socket || cfg->console_log) && !cfg->dump_dtb) {
        char err[512];
        vm.cs = console_server_new(NULL, cfg->console_socket, cfg->console_log, err, sizeof(err));
        if (!vm.cs) {
            verror("%s", err);
            goto out;
        }
        if (broker_running())
            console_server_set_log_rotator(vm.cs, broker_rotate_log, NULL);
    }
    vm.power_button = press_power_button;
    vm.power_button_opaque = &vm;
    /* Blocked here, before any thread starts, so every thread inherits the
     * mask and the signals queue for the signalfd. */
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGHUP);
    if (!cfg->dump_dtb && pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL) == 0)
        vm.sigfd = signalfd(-1, &stop_sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (cfg->control_path && !cfg->dump_dtb) {
        char err[512];
        vm.ctl = control_open(cfg->control_path, err, sizeof(err));
        if (!vm.ctl) {
            verror("%s", err);
            goto out;
        }
    }
    vm.io = evloop_new();
    if (!vm.io) {
        verror("cannot create the I/O event loop");
        goto out;
    }
    if (vm.cs)
        console_server_set_loop(vm.cs, vm.io);
    vm.console = stdio_console_new(vm.io, vm.cs || cfg->dump_dtb ? -1 : STDIN_FILENO, STDOUT_FILENO);
    if (!vm.console) {
        verror("cannot set up the console");
        goto out;
    }
    /* The boot images, read again from these on every reset (one that
     * cannot be opened is reported by the loader, with its path). */
    vm.kernel_fd = cfg->kernel ? open(cfg->kernel, O_RDONLY | O_CLOEXEC) : -1;
    vm.initrd_fd = cfg->initrd ? open(cfg->initrd, O_RDONLY | O_CLOEXEC) : -1;
    vm.firmware_fd = cfg->firmware ? open(cfg->firmware, O_RDONLY | O_CLOEXEC) : -1;
    if (make_nics(&vm) < 0)
        goto out;
    for (;;) {
        vm.reset_requested = false;
        status = run_once(&vm);
        if (!vm.reset_requested || vm.stop_signal)
            break;
        vinfo("guest requested a reset: restarting the machine");
    }
out:
    for (unsigned i = 0; i < NIC_MAX; i++)
        nic_free(vm.nics[i]);
    for (unsigned i = 0; i < VM_MAX_DISKS; i++)
        if (vm.disk_fds[i] >= 0)
            close(vm.disk_fds[i]);
    int *image_fds[] = { &vm.kernel_fd, &vm.initrd_fd, &vm.firmware_fd };
    for (unsigned i = 0; i < 3; i++)
        if (*image_fds[i] >= 0)
            close(*image_fds[i]);
    if (vm.cs)
        console_server_set_loop(vm.cs, NULL);
    stdio_console_free(vm.console);
    if (vm.io)
        evloop_free(vm.io);
    control_close(vm.ctl);
    console_server_free(vm.cs);
    vsched_free(vm.sched);
    if (vm.sigfd >= 0)
        close(vm.sigfd);
    const char *reason = vm.stop_signal ? "signal" : NULL;
    if (broker_running()) {
        /* The process may no longer write where these live. */
        broker_remove_sockets();
        if (cfg->state_file && broker_write_state(status, reason) < 0)
            verror("cannot write the state file %s: %s", cfg->state_file, strerror(errno));
    } else if (cfg->state_file) {
        state_file_write_stopped(cfg->state_file, pid, started, cfg->name, status, reason);
    }
    return status;
}

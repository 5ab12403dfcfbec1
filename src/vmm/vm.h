/* A running VM in this process: the board, one host thread per vCPU, and
 * the I/O thread (the caller's) with its event loop. */
#ifndef VIREO_VMM_VM_H
#define VIREO_VMM_VM_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/nic_config.h"

#define VM_MAX_DISKS 6

struct vm_disk {
    const char *path;
    bool readonly;
};

enum vm_console_kind { VM_CONSOLE_UART = 0, VM_CONSOLE_VIRTIO = 1 };

struct vm_config {
    unsigned ncpus;
    uint64_t ram_size;
    const char *kernel, *initrd, *cmdline, *firmware;
    unsigned max_satp_mode;
    struct vm_disk disks[VM_MAX_DISKS];
    unsigned ndisks;
    bool no_rng;
    bool balloon;                 /* a virtio-balloon with free page reporting */
    uint64_t balloon_size;        /* bytes it takes from the guest at start (<= ram_size) */
    enum vm_console_kind console; /* which device gets the terminal's input */
    const char *dump_dtb;         /* write the device tree here and exit */
    bool stats;                   /* print execution statistics at exit */
    bool no_sandbox;              /* skip the seccomp filter and the user change (vmm/sandbox.h) */
    bool jit;                     /* --engine jit (docs/jit.md) */
    const char *user;             /* started as root, become this user (NULL: nobody) */
    struct nic_config nics[NIC_MAX];
    unsigned nnics;
    /* What default MACs are derived from, so they stay the same across
     * restarts (a VM's name, a disk's path); NULL: random MACs. */
    const char *mac_seed;
    /* Management (docs/management.md). */
    const char *name;         /* messages, status; NULL: none */
    const char *control_path; /* control socket, or NULL */
    const char *state_file;   /* state file, or NULL */
    const char *console_socket; /* detached console: clients attach here */
    const char *console_log;    /* and its output is kept here (1 MiB + .1) */
    unsigned cpu_cap;         /* % of a host CPU per vCPU thread, 1-100 (0 = 100) */
    bool has_affinity;
    cpu_set_t affinity;       /* every vCPU thread gets this whole set */
};

/* Run the VM until the guest powers off (or Ctrl-A X). Returns the exit
 * status for the process: 0 on a clean power-off. */
int vm_run(const struct vm_config *cfg);

#endif

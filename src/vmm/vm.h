/* A running VM in this process: the board, one host thread per vCPU, and
 * the I/O thread (the caller's) with its event loop. */
#ifndef VIREO_VMM_VM_H
#define VIREO_VMM_VM_H

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
    enum vm_console_kind console; /* which device gets the terminal's input */
    const char *dump_dtb;         /* write the device tree here and exit */
    bool stats;                   /* print execution statistics at exit */
    struct nic_config nics[NIC_MAX];
    unsigned nnics;
    /* What default MACs are derived from, so they stay the same across
     * restarts (a VM's name, a disk's path); NULL: random MACs. */
    const char *mac_seed;
};

/* Run the VM until the guest powers off (or Ctrl-A X). Returns the exit
 * status for the process: 0 on a clean power-off. */
int vm_run(const struct vm_config *cfg);

#endif

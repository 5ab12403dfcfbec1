/* The VM process's sandbox (docs/security.md).
 *
 * Once its machine is built (devices, disks, ports open), a VM process
 * installs a seccomp filter on all its threads that allows only the system
 * calls its vCPU and I/O threads need; any other call stops the process
 * with SIGSYS after one log line that names the call. Starting a switch on
 * demand (the one thing that needs a new program) is left to a small
 * helper process forked before any thread exists, which only ever runs
 * `vireo switch --on-demand` for a network kind and a valid name.
 */
#ifndef VIREO_VMM_SANDBOX_H
#define VIREO_VMM_SANDBOX_H

#include <stddef.h>

/* Fork the switch-starting helper and route net/client.c's on-demand
 * starts through it. Call while the process has one thread. 0, or -1 with
 * a message in err. */
int sandbox_spawner_start(char *err, size_t errlen);

/* Install the filter on every thread of the process. 0, or -1 with a
 * message in err. */
int sandbox_enter(char *err, size_t errlen);

/* How many system calls the filter allows (for docs and the closing note). */
unsigned sandbox_allowed_count(void);

#endif

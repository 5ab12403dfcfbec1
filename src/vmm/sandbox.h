/* The VM process's sandbox (docs/security.md).
 *
 * Once its machine is built (devices, disks, ports open), a VM process
 * installs a seccomp filter on all its threads that allows only the system
 * calls its vCPU and I/O threads need; any other call stops the process
 * with SIGSYS after one log line that names the call. Before that, a VM
 * process started as root becomes an unprivileged user (`--user`, default
 * nobody). What it can then no longer do itself goes through its broker
 * (vmm/broker.h).
 */
#ifndef VIREO_VMM_SANDBOX_H
#define VIREO_VMM_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* The user (and group) a VM process started as root becomes: "NAME",
 * "UID", "NAME:GROUP" or "UID:GID"; without a group, the user's own. Root
 * is refused. 0, or -1 with a message in err. Call before the filter (it
 * reads the user database). */
int sandbox_resolve_user(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Become uid/gid for good, with no supplementary groups. 0, or -1 with a
 * message in err. */
int sandbox_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen);

/* Install the filter on every thread of the process. 0, or -1 with a
 * message in err. */
int sandbox_enter(char *err, size_t errlen);

/* How many system calls the filter allows (for docs and the closing note). */
unsigned sandbox_allowed_count(void);

#endif

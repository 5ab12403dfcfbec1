/* The VM process's state file (docs/management.md): JSON, replaced
 * atomically (temp file, fsync, rename, fsync of the directory).
 *   running: {"pid": P, "started": UNIX_TIME_NS, "state": "running", "name": N}
 *   stopped: {..., "state": "stopped", "exit": {"status": S, "reason": R}} */
#ifndef VIREO_VMM_STATE_FILE_H
#define VIREO_VMM_STATE_FILE_H

#include <stdint.h>
#include <sys/types.h>

/* The reason for an exit status: 0 poweroff, 3 guest-fault, else error. */
const char *state_file_reason(int status);

/* Returns 0, or -1 with a message logged. name may be NULL. */
int state_file_write_running(const char *path, pid_t pid, uint64_t started_ns, const char *name);
int state_file_write_stopped(const char *path, pid_t pid, uint64_t started_ns, const char *name, int status,
                             const char *reason);

#endif

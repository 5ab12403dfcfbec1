/* The VM processes and network switches of vireod (docs/management.md).
 *
 * A VM runs as `vireo run` with the management options, in its own session;
 * it is watched through a pidfd (which works for processes that are not our
 * children, so VMs found again after a daemon restart are watched the same
 * way). Control operations go to the VM's control socket. Defined networks
 * get a `vireo switch` each, restarted when it dies.
 *
 * Locking: one mutex (sup_lock/sup_unlock) guards the supervisor and the
 * store it was given; the API takes it around every request. Calls marked
 * "unlocked" must be made WITHOUT it: they talk to VM processes and may
 * wait. */
#ifndef VIREO_MGMT_SUPERVISOR_H
#define VIREO_MGMT_SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mgmt/store.h"

struct sup;

/* Called (with the lock held) for each event: {"time", "type", "vm", ...}.
 * The callee must not keep ev without a reference. */
typedef void (*sup_event_fn)(void *arg, json_t *ev);

/* vireo_bin: the `vireo` program (NULL: $VIREO_BIN, else vireo next to
 * /proc/self/exe). Re-attaches to the VMs still running and starts the
 * switches of defined networks (when start_networks). */
struct sup *sup_new(const char *data, const char *vireo_bin, struct store *st, bool start_networks,
                    sup_event_fn fn, void *arg, char *err, size_t errlen);
/* Stop watching (VM processes and switches keep running). */
void sup_free(struct sup *s);

void sup_lock(struct sup *s);
void sup_unlock(struct sup *s);

/* "stopped", "running", "paused" or "aborted"; *pid when running/paused. */
const char *sup_vm_state(struct sup *s, const char *name, pid_t *pid);
void sup_totals(struct sup *s, unsigned *vms_running, unsigned *vcpus_running);

/* Locked: spawn the VM process of definition def (state must be stopped or
 * aborted). 0, or -1 with a message. */
int sup_vm_spawn(struct sup *s, json_t *def, char *err, size_t errlen);
/* Unlocked: wait up to timeout_ms until the just-spawned VM answers on its
 * control socket (0) or its process has exited (-1, with its last message). */
int sup_vm_wait_ready(struct sup *s, const char *name, int timeout_ms, char *err, size_t errlen);
/* Unlocked: send one control request ({"op": ...}) and return the answer
 * (a new reference, "ok" true) or NULL with the VM's or our message. */
json_t *sup_vm_control(struct sup *s, const char *name, json_t *req, char *err, size_t errlen);
/* Unlocked: press the power button, wait up to timeout_s for the process
 * to exit, else pull the plug. Returns {"how": "guest-shutdown"|"poweroff",
 * "seconds": N} or NULL with a message. */
json_t *sup_vm_stop(struct sup *s, const char *name, int timeout_s, char *err, size_t errlen);
/* Locked: note a pause/resume that succeeded. */
void sup_vm_set_paused(struct sup *s, const char *name, bool paused);
/* Locked: forget a deleted VM's runtime files. */
void sup_vm_forget(struct sup *s, const char *name);

/* Locked: start/stop the switch of a defined network. */
void sup_net_start(struct sup *s, json_t *net);
void sup_net_stop(struct sup *s, const char *name);
/* "running" or "stopped"; *pid when we started it. */
const char *sup_net_state(struct sup *s, const char *name, pid_t *pid);

#endif

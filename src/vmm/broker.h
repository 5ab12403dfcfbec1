/* The VM process's broker (docs/security.md): a small helper forked at VM
 * start, before any thread exists, that keeps the privileges and the file
 * system access the VM process gives up when it drops to an unprivileged
 * user and installs its seccomp filter. It does a handful of things for
 * the VM, each checked against what the VM was started with:
 *
 *   - start the switch of one of the VM's own networks (`vireo switch
 *     --on-demand`), at most one start every 0.5 s;
 *   - connect to the socket of one of the VM's own networks and hand the
 *     connected socket over (a switch that restarted);
 *   - rotate the VM's console log and hand over the new file;
 *   - write the VM's final state file;
 *   - remove the VM's control and console sockets at exit.
 *
 * Nothing the VM process sends is trusted: a request names at most a
 * network kind and name from the VM's own list and an exit status. The
 * broker ends with its VM (PR_SET_PDEATHSIG).
 */
#ifndef VIREO_VMM_BROKER_H
#define VIREO_VMM_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/hub_proto.h"

#define BROKER_NETS_MAX 8

struct broker_config {
    const char *control_path;   /* sockets to remove at exit, or NULL */
    const char *console_socket;
    const char *console_log;    /* the log to rotate, or NULL */
    const char *state_file;     /* or NULL */
    pid_t vm_pid;
    uint64_t started_ns;
    const char *name;           /* for the state file, or NULL */
    /* The networks the VM's adapters are on. */
    struct {
        enum hub_kind kind;
        char name[64];
    } nets[BROKER_NETS_MAX];
    unsigned nnets;
};

/* Fork the broker and route net/client.c's switch starts and connections
 * through it. Call while the process has one thread. 0, or -1 with a
 * message in err. */
int broker_start(const struct broker_config *c, char *err, size_t errlen);
/* Whether a broker runs (the sandbox is on). */
int broker_running(void);

/* The console log, rotated: a descriptor of the new, empty log, or -1. */
int broker_rotate_log(void *opaque);
/* Write the final state file (state_file_write_stopped). 0 or -1. */
int broker_write_state(int status, const char *reason);
/* Remove the control and console sockets. */
void broker_remove_sockets(void);

#endif

/* The VM side of a named network: a port whose far end is a switch
 * process (net/hub.c) reached through its socket in the runtime directory.
 *
 * If no switch is running for the network, the client starts one (the
 * `vireo switch` program, detached into its own session, so it outlives
 * the VM) and waits for it to say it is ready or why it is not. If the
 * switch goes away later, the adapter's link goes down and the client
 * tries again every second (starting a new switch if the old one was
 * started on demand; a switch somebody runs with settings of their own is
 * waited for); when it is back the link comes up again: a switch can
 * restart under running VMs.
 *
 * Frames leave with MSG_DONTWAIT: a switch that does not keep up costs
 * dropped frames (stats.tx_dropped), never a blocked I/O thread. */
#ifndef VIREO_NET_CLIENT_H
#define VIREO_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/hub_proto.h"

struct evloop;
struct net_port;

struct net_client_opts {
    enum hub_kind kind;
    const char *network;        /* natnetwork/intnet/hostonly name, bridged interface */
    uint8_t mac[6];
    uint16_t vlan;              /* 0: the network's default */
    const char *client_name;    /* "nic1 of VM", shown by the switch */
    const char *natpf;          /* natnetwork port forwards, one rule per line, or NULL */
    /* The program to start a missing switch with, and its arguments after
     * `switch --kind K --name N`; NULL: never start one. */
    const char *switch_exe;
    void (*link_changed)(void *opaque, bool up);
    void *opaque;
};

/* Connect (starting the switch if needed) and plug in. Blocks for at most a
 * few seconds, at VM start. NULL with one message in err. */
struct net_port *net_client_new(struct evloop *l, const struct net_client_opts *o, char *err, size_t errlen);
bool net_client_is_up(const struct net_port *p);

/* Start `exe switch --kind K --name N --on-demand --daemonize` (with
 * --ready-fd 3 when ready_fd >= 0), its stderr appended to the network's
 * log. Returns the starter's pid, to reap (it exits once the switch runs
 * in the background), or -1 with errno. */
pid_t net_switch_spawn(const char *exe, enum hub_kind kind, const char *network, int ready_fd);

/* From now on, start switches that went away through fn instead of
 * spawning them here (a sandboxed VM process cannot run programs). fn
 * returns 0 or -1; it must not block for long. */
void net_client_set_starter(int (*fn)(enum hub_kind kind, const char *network));
/* Connect to the socket of kind/network's switch now (nothing started):
 * the connected socket, or -1 with errno (ENOENT or ECONNREFUSED: no
 * switch runs). */
int net_client_connect(enum hub_kind kind, const char *network);
/* From now on, reconnect to switches that went away through fn (a VM
 * process that dropped its privileges may not reach the runtime
 * directory). fn returns a connected socket, or -1 with errno. */
void net_client_set_connector(int (*fn)(enum hub_kind kind, const char *network));
/* The network's MTU as the switch announced it. */
unsigned net_client_mtu(const struct net_port *p);

#endif

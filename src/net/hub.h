/* A switch process: one named network (intnet, natnetwork, hostonly,
 * bridged) with its switch, the ports the network's kind brings (a NAT
 * gateway, a DHCP server, a host TAP or an AF_PACKET socket on a host NIC)
 * and a socket in the runtime directory where VMs plug in (net/client.c,
 * protocol in net/hub_proto.h).
 *
 * One process per network, one thread, one event loop: a VM that crashes
 * only closes its socket; the switch forgets its addresses and goes on. A
 * network started on demand (by the first VM that wants it) ends a moment
 * after its last VM leaves. A lock file keeps one switch per network. */
#ifndef VIREO_NET_HUB_H
#define VIREO_NET_HUB_H

#include <stdbool.h>

#include "net/hub_proto.h"

#define HUB_MAX_NATPF 32
#define HUB_MAX_UPLINKS 8

/* A port that links this switch to one elsewhere: another hypervisor's VM
 * or switch (QEMU's stream/dgram formats) or a switch on another host
 * (VXLAN). Uplinks are trunks: every VLAN crosses them, tagged. */
enum hub_uplink_kind { HUB_UPLINK_STREAM_LISTEN, HUB_UPLINK_STREAM_CONNECT, HUB_UPLINK_DGRAM, HUB_UPLINK_VXLAN };
struct hub_uplink {
    enum hub_uplink_kind kind;
    const char *addr;           /* listen/connect address, dgram/vxlan remote */
    const char *local;          /* dgram/vxlan local address, or NULL */
    unsigned vni;
    unsigned port;              /* vxlan UDP port; 0 = 4789 */
};

struct hub_config {
    enum hub_kind kind;
    const char *name;           /* network name; for bridged, the host interface */
    bool on_demand;             /* end when the last VM leaves */
    bool daemonize;             /* fork away from the starter first */
    int ready_fd;               /* write "ok\n" or the error here, or -1 */
    const char *pcap;           /* mirror every frame into this file, or NULL */
    unsigned mtu;               /* 0 = 1500 */
    const char *cidr;           /* natnetwork (10.0.2.0/24) / hostonly host address (192.168.56.1/24) */
    const char *ifname;         /* hostonly TAP name; NULL = "vh-" + name */
    bool no_dhcp;
    const char *natpf[HUB_MAX_NATPF];
    unsigned nnatpf;
    struct hub_uplink uplinks[HUB_MAX_UPLINKS];
    unsigned nuplinks;
};

/* Run the switch until SIGTERM/SIGINT (or, on demand, until it is empty).
 * Returns the process exit status. */
int hub_run(const struct hub_config *c);

#endif

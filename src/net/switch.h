/* The virtual switch: Ethernet frames only, no knowledge of VMs.
 *
 * - MAC learning per (VLAN, MAC) with aging; a MAC seen on a new port
 *   moves. The table has a fixed bound (a flood of random source MACs
 *   cannot grow memory): when it is full, expired entries are reclaimed and
 *   otherwise the new address is not learned (its frames are flooded).
 * - Broadcast, multicast and unknown unicast are flooded to every other
 *   port of the same VLAN.
 * - 802.1Q: access ports (untagged, one VID) and trunk ports (tagged for
 *   their allowed VIDs, untagged for the native VID). A frame never leaves
 *   its VLAN, and never goes back out of the port it came in on.
 * - Per-port counters (struct net_port_stats) and switch counters.
 * - Port mirroring: every frame the switch accepts is written to a pcap
 *   file (tagged with its VID unless it is in VLAN 1).
 *
 * One thread (the switch's event loop) uses a switch and its ports. */
#ifndef VIREO_NET_SWITCH_H
#define VIREO_NET_SWITCH_H

#include <stddef.h>
#include <stdint.h>

#include "net/port.h"

struct net_pcap;

#define NET_SWITCH_DEFAULT_PORTS 64
#define NET_SWITCH_DEFAULT_MACS 4096
#define NET_SWITCH_DEFAULT_AGING_NS (300ull * 1000000000ull)

struct net_switch_config {
    const char *name;
    unsigned max_ports;     /* 0 = NET_SWITCH_DEFAULT_PORTS */
    unsigned max_macs;      /* 0 = NET_SWITCH_DEFAULT_MACS */
    uint64_t aging_ns;      /* 0 = NET_SWITCH_DEFAULT_AGING_NS */
    /* Clock for aging; NULL = CLOCK_MONOTONIC. Tests pass their own. */
    uint64_t (*now_ns)(void *opaque);
    void *now_opaque;
};

struct net_switch_stats {
    uint64_t frames;          /* accepted into the switch */
    uint64_t flooded;         /* of those, flooded */
    uint64_t dropped_vlan;    /* not allowed on their ingress port */
    uint64_t dropped_bad;     /* runts, bad tags, zero or multicast source */
    uint64_t learned, moved, aged;
    uint64_t learn_full;      /* addresses not learned: table full */
};

struct net_fdb_entry {
    uint8_t mac[NET_ETH_ALEN];
    uint16_t vid;
    const struct net_port *port;
    uint64_t age_ns;          /* since last seen */
};

/* NULL when out of memory, or (errno EINVAL) for more than 65535 ports or
 * 2^24 addresses. All memory is taken here; frames allocate nothing. */
struct net_switch *net_switch_new(const struct net_switch_config *cfg);
/* Unplugs every port (ports are not freed: their owners free them). */
void net_switch_free(struct net_switch *sw);

/* Plug p in (its p->vlan is read on every frame, so it may be changed
 * later). Returns 0, or -1 when the switch has max_ports ports already. */
int net_switch_attach(struct net_switch *sw, struct net_port *p);
/* Unplug p and forget the addresses learned on it. */
void net_switch_detach(struct net_switch *sw, struct net_port *p);

/* A frame entered through `from` (called by net_port_input): pkt->data
 * holds the frame as it came off the wire, possibly with one 802.1Q tag,
 * which the switch takes off in place. */
void net_switch_input(struct net_switch *sw, struct net_port *from, struct net_pkt *pkt);

/* Write every accepted frame to pc from now on (NULL: stop). The switch
 * does not own pc. */
void net_switch_set_mirror(struct net_switch *sw, struct net_pcap *pc);

/* Drop entries not seen for aging_ns (also done as the table fills). */
void net_switch_age(struct net_switch *sw);

const struct net_switch_stats *net_switch_stats(const struct net_switch *sw);
unsigned net_switch_port_count(const struct net_switch *sw);
/* How many addresses the switch knows now (not yet aged out). */
size_t net_switch_address_count(const struct net_switch *sw);
/* Copy up to max table entries (those not yet expired) into out; returns
 * how many were copied. */
size_t net_switch_fdb(const struct net_switch *sw, struct net_fdb_entry *out, size_t max);

#endif

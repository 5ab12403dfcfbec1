/* A network port: one end of a link that carries Ethernet frames. Every
 * frame source and sink is a port with the same small interface (QEMU's
 * net/ has this shape: each backend is a peer of a front end): a VM's
 * virtio-net adapter, a TAP, an AF_PACKET socket, a slirp NAT, a QEMU
 * stream/dgram socket, a VXLAN tunnel, a switch client socket, the DHCP
 * service.
 *
 * A port is either wired to one other port (p->peer: a NAT adapter and its
 * own slirp) or plugged into a switch (p->sw). Frames that arrive from
 * outside enter through net_port_input(); frames leave through
 * ops->transmit(), which must not block: a port whose far side is slow
 * queues what it can and drops (and counts) the rest.
 *
 * Threads: a port and whatever it is wired or plugged into are used from
 * one thread (the event loop of the process). */
#ifndef VIREO_NET_PORT_H
#define VIREO_NET_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/pkt.h"

struct net_port;
struct net_switch;

struct net_port_ops {
    /* Send pkt out of this port. tag_vid != 0: put an 802.1Q tag with that
     * VID on the wire (trunk ports). pkt is read-only here and carries
     * offload metadata only if p->offloads. */
    void (*transmit)(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid);
    /* Close the port's files and free it (the struct that embeds the
     * port). Called by net_port_free after unwiring/unplugging. May be
     * NULL for ports owned by something else. */
    void (*free)(struct net_port *p);
};

/* 802.1Q membership of a switch port. */
struct net_vlan_cfg {
    bool trunk;
    uint16_t vid;            /* access: the port's VLAN (default 1);
                              * trunk: native VLAN for untagged frames,
                              * 0 = untagged frames are dropped */
    uint64_t allowed[64];    /* trunk: bitmap of the VIDs it carries */
};

struct net_port_stats {
    uint64_t rx_frames, rx_bytes;   /* into the switch/peer from this port */
    uint64_t tx_frames, tx_bytes;   /* out of this port */
    uint64_t rx_dropped;            /* malformed, wrong VLAN, too big */
    uint64_t tx_dropped;            /* far side not keeping up */
};

struct net_port {
    const struct net_port_ops *ops;
    char name[64];               /* for messages and counters */
    bool offloads;               /* transmit takes NEEDS_CSUM and GSO frames */
    bool link_down;              /* cable unplugged: nothing in or out */
    struct net_port *peer;       /* wired to one port, or */
    struct net_switch *sw;       /* plugged into a switch */
    unsigned sw_index;           /* the switch's own bookkeeping */
    struct net_vlan_cfg vlan;
    struct net_port_stats stats;
};

/* Set p up with its ops and name; access port in VLAN 1, no peer. */
void net_port_init(struct net_port *p, const struct net_port_ops *ops, const char *name, bool offloads);

/* Unwire or unplug p, then ops->free. NULL is a no-op. */
void net_port_free(struct net_port *p);

/* Wire two ports back to back. Either may later be unwired (peer = NULL). */
void net_port_wire(struct net_port *a, struct net_port *b);
void net_port_unwire(struct net_port *p);

/* A frame arrived from outside through p: hand it to the switch or the
 * peer. pkt->data may be changed in place (finishing checksums, taking off
 * a VLAN tag) and must be writable for pkt->len bytes. */
void net_port_input(struct net_port *p, struct net_pkt *pkt);

/* Deliver to p, finishing offloads first when p cannot take them: used by
 * the switch and by wired pairs. */
void net_port_deliver(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid);

/* VLAN helpers. */
void net_vlan_access(struct net_vlan_cfg *v, uint16_t vid);
void net_vlan_trunk(struct net_vlan_cfg *v, uint16_t native_vid);
static inline void net_vlan_allow(struct net_vlan_cfg *v, uint16_t vid)
{
    v->allowed[vid >> 6] |= 1ull << (vid & 63);
}
static inline bool net_vlan_allowed(const struct net_vlan_cfg *v, uint16_t vid)
{
    return (v->allowed[vid >> 6] >> (vid & 63)) & 1;
}

#endif

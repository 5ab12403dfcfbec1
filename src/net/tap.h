/* A port on a Linux TAP device: frames the host's kernel sends into the
 * TAP come in through the port, frames sent out of the port appear on the
 * host as received by the TAP.
 *
 * With vnet_hdr every frame on the TAP file carries a 12-byte virtio-net
 * header (virtio 1.2 5.1.6, little-endian), and the kernel is told it may
 * hand over frames with a partial checksum or as one large TCP segment, so
 * the port carries offloads both ways (net_port.offloads) and a guest's
 * TSO traffic crosses the host without being cut up in software.
 *
 * Privileged setup (address, bridge, MTU, link up) is done only when asked
 * for, so that a user without CAP_NET_ADMIN can still attach to a
 * persistent TAP made for them with `ip tuntap add NAME mode tap user U`.
 * A TAP created here is not persistent: it disappears when the port is
 * freed (the file is closed). One created by someone else is left as it
 * is.
 *
 * Reading never takes more than a budget of frames per readiness event, so
 * one busy TAP cannot starve the loop; sending never blocks (a frame the
 * kernel refuses is dropped and counted in stats.tx_dropped).
 *
 * Everything runs on the thread of the event loop given at creation. */
#ifndef VIREO_NET_TAP_H
#define VIREO_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/pkt.h"

struct evloop;
struct net_port;

struct net_tap_opts {
    const char *ifname;    /* NULL or "": the kernel picks "vireo0", "vireo1"...;
                            * may also be a template with %d */
    bool vnet_hdr;         /* carry offload metadata (IFF_VNET_HDR) */
    const char *ipv4;      /* "A.B.C.D/PREFIX" for the host side, or NULL */
    const char *bridge;    /* enslave the TAP to this bridge, or NULL */
    unsigned mtu;          /* 0: leave the kernel's default (1500) */
};

/* Create (or attach to an existing persistent) TAP. When ipv4 or bridge is
 * given the link is brought up too. Returns NULL with one message naming
 * the device in err when /dev/net/tun cannot be opened, the name is taken
 * or invalid, the caller lacks CAP_NET_ADMIN, or a setting is refused. */
struct net_port *net_tap_new(struct evloop *l, const struct net_tap_opts *o, char *err, size_t errlen);

/* The interface name the kernel gave the TAP. p must come from
 * net_tap_new. */
const char *net_tap_ifname(const struct net_port *p);

/* The virtio_net_hdr that Linux puts in front of frames on a TAP with
 * IFF_VNET_HDR and on an AF_PACKET socket with PACKET_VNET_HDR: these
 * first 10 bytes (the TAP's 12-byte form adds num_buffers, unused here),
 * little-endian. */
#define NET_VNET_HDR_LEN 10

void net_vnet_hdr_encode(uint8_t h[NET_VNET_HDR_LEN], const struct net_offload *o);

/* Decode the header of a frame of frame_len bytes that came from the
 * kernel. False (drop the frame) when the metadata does not fit the frame:
 * a checksum field outside it, an unknown GSO kind, GSO with no segment
 * size. Unknown flag bits are cleared. */
bool net_vnet_hdr_decode(struct net_offload *o, const uint8_t h[NET_VNET_HDR_LEN], size_t frame_len);

#endif

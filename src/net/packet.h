/* A port on an existing host interface through an AF_PACKET socket:
 * bridged networking on a plain NIC, with no bridge device on the host.
 * The interface is put into promiscuous mode while the port exists.
 *
 * What comes in: every frame the interface receives, plus the host's own
 * outgoing frames (that is how traffic from the host to the VMs reaches
 * them), but not outgoing frames with another source MAC: those are ours
 * (or another AF_PACKET user's) echoed back. A VLAN tag the kernel took off
 * into packet metadata is put back into the frame, as the switch expects
 * tags on the wire. The host's own frames usually carry a partial checksum
 * or are one large TSO segment; the kernel's virtio-net header
 * (PACKET_VNET_HDR) says so and the metadata goes in with the frame, to be
 * finished by whoever cannot take it.
 *
 * What goes out: frames are sent on the wire of that interface as they
 * are, with no offloads (net_port.offloads is false: the switch finishes
 * checksums and cuts TSO frames first). A frame larger than the
 * interface's MTU plus Ethernet (and tag) headers is dropped and counted in
 * stats.tx_dropped, as is one the socket cannot take at once.
 *
 * Limitation (inherent to AF_PACKET, as with macvtap in VEPA mode): frames
 * sent out through the port leave on the wire and are not seen by the
 * host's own network stack on that interface, so the host cannot talk to
 * the VMs through this NIC, although the VMs see what the host sends.
 *
 * Everything runs on the thread of the event loop given at creation. */
#ifndef VIREO_NET_PACKET_H
#define VIREO_NET_PACKET_H

#include <stddef.h>

struct evloop;
struct net_port;

/* Returns NULL with one message naming the interface in err when it does
 * not exist, is not Ethernet, or the caller lacks CAP_NET_RAW. */
struct net_port *net_packet_new(struct evloop *l, const char *ifname, char *err, size_t errlen);

#endif

/* Finishing offloaded frames for ports that cannot carry offload metadata
 * (slirp, QEMU sockets, VXLAN, AF_PACKET, the DHCP service): fill in an L4
 * checksum left to the receiver (NET_OFF_NEEDS_CSUM), and cut a large TCP
 * segment (NET_GSO_TCPV4/TCPV6, the kinds Vireo offers guests, and
 * NET_GSO_UDP_L4) into gso_size pieces with their own IP and TCP/UDP headers
 * and checksums, as a NIC doing TSO would. hdr_len is only a hint (Linux
 * puts its linear buffer length there); with GSO, NEEDS_CSUM must point at
 * the L4 checksum. */
#ifndef VIREO_NET_OFFLOAD_H
#define VIREO_NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "net/pkt.h"

typedef void (*net_emit_fn)(void *opaque, const struct net_pkt *pkt);

/* Call emit once per finished frame (one, or one per segment), each with
 * no offload metadata left. The emitted pkt->data points into a per-thread
 * scratch buffer: it is valid only during the emit call. pkt is not changed (finishing works on a copy,
 * since the same frame may also go to ports that take it as it is).
 * Returns the number of frames emitted, or -1 if the metadata does not
 * fit the frame (offsets outside it, a GSO frame that is not TCP over
 * IPv4/IPv6, gso_size 0): such a frame is dropped, never sent half-done. */
int net_offload_finish(const struct net_pkt *pkt, net_emit_fn emit, void *opaque);

/* Whether metadata that came over a wire (a VM's frame into the switch,
 * the switch's frame into a VM) fits its frame: a checksum field inside
 * it, a GSO kind we know with a non-zero segment size. Metadata that fails
 * is dropped with its frame, so offsets from one party never reach another
 * party's driver. */
bool net_offload_sane(const struct net_offload *o, size_t len);

/* The Internet checksum (RFC 1071) of buf, added to a running sum of
 * big-endian 16-bit values (so pseudo-header fields can be added as plain
 * integers). An odd-length buffer counts as padded with a zero byte: in a
 * sum over several buffers only the last may be odd. net_csum_fold returns
 * the complemented 16-bit checksum, ready to store big-endian. */
uint32_t net_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t net_csum_fold(uint32_t sum);

#endif

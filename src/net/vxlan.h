/* A VXLAN tunnel end (RFC 7348): Ethernet frames carried in UDP to one
 * remote tunnel end, each behind an 8-byte header:
 *
 *   byte 0     flags: 0x08 (I: the VNI is valid), other bits reserved (0)
 *   bytes 1-3  reserved (0)
 *   bytes 4-6  VNI, 24 bits, big-endian
 *   byte 7     reserved (0)
 *
 * Made to interoperate with the Linux vxlan device, e.g.
 *   ip link add vx0 type vxlan id 42 remote 192.0.2.1 local 192.0.2.2 dstport 4789
 * (give dstport: without it Linux uses its pre-IANA port 8472). What that
 * implies:
 * - Linux sends from a source port hashed from the inner flow, so packets
 *   are accepted from the remote's address on any source port; we send
 *   from the bound port, which Linux does not check.
 * - Linux drops packets with any reserved bit set, so ours are zero; on
 *   receipt only the I bit is checked, reserved bits are ignored as the
 *   RFC says.
 * - Over IPv4 Linux sends UDP checksum 0 by default (allowed; our socket
 *   accepts it), and it does not set DF on the outer packet, nor do we: a
 *   1514-byte inner frame makes a 1564-byte packet, which is fragmented on
 *   a 1500-byte path rather than lost.
 *
 * Received packets are dropped and counted (stats.rx_dropped) when they
 * come from another host, lack the I bit, carry another VNI, or hold less
 * than an Ethernet header. Sending never blocks: a frame the socket cannot
 * take at once is dropped (stats.tx_dropped).
 *
 * Everything runs on the thread of the event loop given at creation. */
#ifndef VIREO_NET_VXLAN_H
#define VIREO_NET_VXLAN_H

#include <stddef.h>
#include <stdint.h>

struct evloop;
struct net_port;

#define NET_VXLAN_PORT 4789
#define NET_VXLAN_HLEN 8
#define NET_VXLAN_FLAG_I 0x08
#define NET_VXLAN_VNI_MAX 0xffffffu

struct net_vxlan_config {
    uint32_t vni;            /* 0 to NET_VXLAN_VNI_MAX */
    const char *remote;      /* the far end: address or name (net/sockaddr.h) */
    uint16_t port;           /* its UDP port; 0 = NET_VXLAN_PORT */
    const char *local;       /* address to bind; NULL or "" = any address of
                              * the remote's family */
    uint16_t local_port;     /* UDP port to bind; 0 = the same as port, as
                              * Linux listens on its dstport */
};

/* Returns NULL with a message in err on a bad VNI or address, or when the
 * local address cannot be bound. */
struct net_port *net_vxlan_new(struct evloop *l, const struct net_vxlan_config *cfg, char *err, size_t errlen);

#endif

/* A frame as it travels between ports: an Ethernet frame with no 802.1Q
 * tag (the switch takes tags off on the way in and puts them back on the
 * way out), the VLAN it belongs to, and the offload metadata of virtio-net
 * (virtio 1.2, 5.1.6: the virtio_net_hdr fields, host byte order).
 *
 * Offloads: a frame may arrive with its L4 checksum unfinished
 * (NET_OFF_NEEDS_CSUM: the checksum field holds the pseudo-header sum and
 * the sum over [csum_start, end) must be folded into csum_start +
 * csum_offset), or as one large TCP/UDP segment to be cut into gso_size
 * pieces (gso_type != NET_GSO_NONE). Ports that can carry that (another
 * VM's virtio-net, a TAP with IFF_VNET_HDR, our own switch sockets) say so
 * with net_port.offloads; for the others the switch finishes the frame
 * first (net/offload.h). */
#ifndef VIREO_NET_PKT_H
#define VIREO_NET_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#define NET_ETH_ALEN 6
#define NET_ETH_HLEN 14
#define NET_VLAN_HLEN 4
#define NET_ETH_P_IPV4 0x0800
#define NET_ETH_P_ARP 0x0806
#define NET_ETH_P_8021Q 0x8100
#define NET_ETH_P_8021AD 0x88a8
#define NET_ETH_P_IPV6 0x86dd

/* Smallest frame accepted (a header and nothing else); largest: a 64 KiB
 * GSO frame with its Ethernet and VLAN headers. */
#define NET_FRAME_MIN NET_ETH_HLEN
#define NET_FRAME_MAX (65535 + NET_ETH_HLEN + NET_VLAN_HLEN)

#define NET_VID_MAX 4094 /* 0 and 4095 are reserved */

/* net_offload.flags */
#define NET_OFF_NEEDS_CSUM 1
#define NET_OFF_DATA_VALID 2
/* net_offload.gso_type */
#define NET_GSO_NONE 0
#define NET_GSO_TCPV4 1
#define NET_GSO_UDP 3
#define NET_GSO_TCPV6 4
#define NET_GSO_UDP_L4 5
#define NET_GSO_ECN 0x80

struct net_offload {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

struct net_pkt {
    uint8_t *data;         /* the frame, untagged; may be finished in place
                            * only by its owner (see net/offload.h) */
    size_t len;
    uint16_t vid;          /* VLAN inside a switch; 0 outside one */
    struct net_offload off;
};

static inline bool net_pkt_needs_finish(const struct net_pkt *p)
{
    return (p->off.flags & NET_OFF_NEEDS_CSUM) || (p->off.gso_type & ~NET_GSO_ECN) != NET_GSO_NONE;
}

/* Big-endian fields of headers, at any alignment. */
static inline uint16_t net_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t net_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline const uint8_t *net_pkt_dst(const struct net_pkt *p) { return p->data; }
static inline const uint8_t *net_pkt_src(const struct net_pkt *p) { return p->data + NET_ETH_ALEN; }

static inline bool net_mac_is_multicast(const uint8_t *mac) { return mac[0] & 1; }
static inline bool net_mac_is_zero(const uint8_t *mac)
{
    static const uint8_t zero[NET_ETH_ALEN];
    return memcmp(mac, zero, NET_ETH_ALEN) == 0;
}

/* The frame as it goes on a wire: iov gets 1 piece, or 3 with an 802.1Q
 * tag for `tag_vid` (1..4094) put back after the MAC addresses. Returns the
 * number of pieces; *tagbuf must live as long as iov is used. */
static inline int net_pkt_wire_iov(const struct net_pkt *p, uint16_t tag_vid, uint8_t tagbuf[NET_VLAN_HLEN],
                                   struct iovec iov[3])
{
    if (!tag_vid) {
        iov[0] = (struct iovec){ p->data, p->len };
        return 1;
    }
    tagbuf[0] = NET_ETH_P_8021Q >> 8;
    tagbuf[1] = NET_ETH_P_8021Q & 0xff;
    tagbuf[2] = (uint8_t)(tag_vid >> 8) & 0x0f;
    tagbuf[3] = (uint8_t)tag_vid;
    iov[0] = (struct iovec){ p->data, 2 * NET_ETH_ALEN };
    iov[1] = (struct iovec){ tagbuf, NET_VLAN_HLEN };
    iov[2] = (struct iovec){ p->data + 2 * NET_ETH_ALEN, p->len - 2 * NET_ETH_ALEN };
    return 3;
}

/* Offload metadata after a tag was inserted: offsets move by 4 bytes. */
static inline struct net_offload net_offload_tagged(struct net_offload o, uint16_t tag_vid)
{
    if (tag_vid && (o.flags & NET_OFF_NEEDS_CSUM))
        o.csum_start += NET_VLAN_HLEN;
    if (tag_vid && o.hdr_len)
        o.hdr_len += NET_VLAN_HLEN;
    return o;
}

#endif

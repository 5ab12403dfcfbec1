/* Finishing offloaded frames in software (see net/offload.h).
 *
 * Everything here comes from a guest: the virtio_net_hdr fields and the
 * frame itself. The frame is first copied into a per-thread scratch buffer
 * and every header is parsed and checked from that copy, so a guest that
 * changes its buffer while we work (or a caller that shares it) cannot make
 * a checked offset stale. All checks are done before the first frame is
 * emitted: a frame either goes out complete or not at all.
 *
 * Segmentation works in place in the scratch copy: segment k is emitted
 * from scratch + k * gso_size, with a fresh copy of the headers written
 * just in front of its payload piece, which is already where it has to be.
 * Those headers overwrite only bytes of segments already emitted, so the
 * payload is never copied a second time. */
#include "net/offload.h"

#include <stdlib.h>
#include <string.h>

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_UDPLITE_ 136
#define IP6_NH_HOPOPTS 0
#define IP6_NH_DSTOPTS 60

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6

/* Longest Ethernet + VLAN + IP (+ IPv6 extension) + L4 header we copy
 * into every segment. TCP/IPv4 with all options is 14+8+60+60 = 142; the
 * rest leaves room for modest IPv6 hop-by-hop/destination options. A GSO
 * frame with more header than this is refused. */
#define HDR_MAX 512

/* ---- Internet checksum (RFC 1071) ----
 *
 * The running sum holds 16-bit words as numbers, each being the big-endian
 * value of two bytes of the data (so pseudo-header fields can be added to it
 * as plain host integers). Within a buffer we sum in native byte order,
 * which the ones'-complement sum allows (RFC 1071 2(B): swapping the bytes
 * of every word swaps the bytes of the sum), and swap once at the end.
 *
 * Odd lengths: every buffer is taken to start at an even offset of the
 * data being checksummed, and an odd-length buffer is padded with one zero
 * byte, as the end of a packet is. So in a sum built from several buffers
 * only the last may have odd length; a caller whose pieces are split at odd
 * offsets must join them first. The address of buf may be anything. */

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* compiles to a plain (unaligned-safe) load */
    return v;
}

/* Native-order ones'-complement sum of buf, folded to 16 bits. */
static uint16_t csum_native(const uint8_t *p, size_t len)
{
    /* 32-bit words into 64-bit accumulators: the carries pile up in the top
     * half and are folded back once at the end (2^32 words would be needed
     * to overflow). Four accumulators keep the additions independent. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 16) {
        a += load32(p);
        b += load32(p + 4);
        c += load32(p + 8);
        d += load32(p + 12);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        a += load32(p);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        b += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* The pad byte goes after the data byte in memory order, which is
         * the low-order byte of the big-endian word on either host. */
        uint16_t w = 0;
        memcpy(&w, p, 1);
        c += w;
    }
    /* Four sums each < 2^62 (fewer than 2^30 words of < 2^32): no overflow. */
    uint64_t s = a + b + c + d;
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

uint32_t net_csum_add(uint32_t sum, const void *buf, size_t len)
{
    uint16_t s = csum_native(buf, len);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s = (uint16_t)(s << 8 | s >> 8);
#endif
    /* End-around carry keeps the 32-bit running sum exact modulo 0xffff
     * (2^32 = 1 mod 0xffff) however many buffers are added. */
    uint64_t t = (uint64_t)sum + s;
    return (uint32_t)((t & 0xffffffffu) + (t >> 32));
}

/* The checksum to store (big-endian) for a running sum: its fold,
 * complemented. */
uint16_t net_csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ---- byte helpers ---- */


/* ---- header parsing ---- */

struct l3l4 {
    size_t l3off;  /* IP header */
    size_t l4off;  /* transport header (after IPv4 options / IPv6 ext headers) */
    size_t ip_end; /* end of the IP packet; bytes past it are link padding */
    bool v6;
    bool frag;     /* IPv4 fragment: no transport header to speak of */
    uint8_t proto; /* transport protocol */
};

/* Find the IP and transport headers of frame f. False if it is not IPv4 or
 * IPv6 or its IP header does not fit the frame. */
static bool parse_ip(const uint8_t *f, size_t len, struct l3l4 *o)
{
    if (len < NET_ETH_HLEN)
        return false;
    size_t off = 2 * NET_ETH_ALEN;
    uint16_t type = net_get16(f + off);
    /* Frames reach us untagged, but skip up to two tags (802.1ad + 802.1Q)
     * in case a caller hands us one still tagged. */
    for (int i = 0; i < 2 && (type == NET_ETH_P_8021Q || type == NET_ETH_P_8021AD); i++) {
        off += NET_VLAN_HLEN;
        if (off + 2 > len)
            return false;
        type = net_get16(f + off);
    }
    off += 2;
    memset(o, 0, sizeof(*o));
    o->l3off = off;
    if (type == NET_ETH_P_IPV4) {
        if (len - off < 20)
            return false;
        const uint8_t *ip = f + off;
        size_t ihl = (size_t)(ip[0] & 0xf) * 4;
        size_t tot = net_get16(ip + 2);
        if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > len - off || tot < ihl || tot > len - off)
            return false;
        o->l4off = off + ihl;
        o->ip_end = off + tot;
        o->frag = (net_get16(ip + 6) & 0x3fff) != 0; /* MF or a fragment offset */
        o->proto = ip[9];
        return true;
    }
    if (type == NET_ETH_P_IPV6) {
        if (len - off < 40)
            return false;
        const uint8_t *ip = f + off;
        size_t plen = net_get16(ip + 4);
        if ((ip[0] >> 4) != 6 || plen > len - off - 40)
            return false;
        o->v6 = true;
        o->ip_end = off + 40 + plen;
        size_t p = off + 40;
        uint8_t nh = ip[6];
        /* Hop-by-hop (only first, RFC 8200 4.1) and destination options
         * headers do not change what the transport checksum covers and are
         * copied unchanged into each segment, so they can be stepped over.
         * Anything else (routing: the pseudo-header would need the final
         * destination; fragment; AH; ESP) is left as the "protocol" and so
         * refused for segmentation. Every step advances p by at least 8,
         * which bounds the walk. */
        for (bool first = true; nh == IP6_NH_DSTOPTS || (first && nh == IP6_NH_HOPOPTS); first = false) {
            if (o->ip_end - p < 8)
                return false;
            size_t elen = ((size_t)f[p + 1] + 1) * 8;
            if (elen > o->ip_end - p)
                return false;
            nh = f[p];
            p += elen;
        }
        o->l4off = p;
        o->proto = nh;
        return true;
    }
    return false;
}

/* ---- scratch buffer ---- */

/* One per thread, so concurrent event loops do not share it. If an emit
 * callback ends up finishing another frame on the same thread (it should
 * not: emitted frames need no finishing), the nested call gets its own heap
 * buffer instead of overwriting the one still being emitted from. */
static _Thread_local uint8_t scratch_buf[NET_FRAME_MAX];
static _Thread_local bool scratch_busy;

static uint8_t *scratch_get(void)
{
    if (!scratch_busy) {
        scratch_busy = true;
        return scratch_buf;
    }
    return malloc(NET_FRAME_MAX);
}

static void scratch_put(uint8_t *b)
{
    if (b == scratch_buf)
        scratch_busy = false;
    else
        free(b);
}

/* ---- checksum only ---- */

static int finish_csum(const struct net_pkt *pkt, uint8_t *buf, net_emit_fn emit, void *opaque)
{
    size_t len = pkt->len;
    size_t start = pkt->off.csum_start, field = start + pkt->off.csum_offset;
    if (field + 2 > len)
        return -1;
    memcpy(buf, pkt->data, len);
    uint16_t c = net_csum_fold(net_csum_add(0, buf + start, len - start));
    /* UDP (RFC 768) and UDP-Lite (RFC 3828) send a computed 0 as all ones,
     * since 0 means "no checksum". Only when the field really is a UDP
     * checksum: virtio's NEEDS_CSUM is generic and may be anything else. */
    struct l3l4 h;
    if (c == 0 && parse_ip(buf, len, &h) && !h.frag && start == h.l4off && pkt->off.csum_offset == UDP_CSUM_OFF &&
        (h.proto == IPPROTO_UDP_ || h.proto == IPPROTO_UDPLITE_))
        c = 0xffff;
    net_put16(buf + field, c);
    struct net_pkt out = { .data = buf, .len = len, .vid = pkt->vid };
    emit(opaque, &out);
    return 1;
}

/* ---- segmentation ---- */

/* Pseudo-header sum (RFC 793 / RFC 8200 8.1) for a transport packet of
 * l4len bytes; h is the header template (offsets as in the frame). */
static uint32_t pseudo_sum(const uint8_t *h, const struct l3l4 *l, uint8_t proto, size_t l4len)
{
    uint32_t s;
    if (l->v6)
        s = net_csum_add(0, h + l->l3off + 8, 32); /* source, destination */
    else
        s = net_csum_add(0, h + l->l3off + 12, 8);
    /* l4len < 2^16 here, so the IPv6 32-bit length is one 16-bit word. */
    return s + proto + (uint32_t)l4len;
}

static int finish_gso(const struct net_pkt *pkt, uint8_t *buf, net_emit_fn emit, void *opaque)
{
    const struct net_offload *off = &pkt->off;
    uint8_t type = (uint8_t)(off->gso_type & ~NET_GSO_ECN);
    size_t len = pkt->len, mss = off->gso_size;
    bool tcp = type == NET_GSO_TCPV4 || type == NET_GSO_TCPV6;

    if (!tcp && type != NET_GSO_UDP_L4)
        return -1; /* UFO (IP fragmentation) and unknown kinds */
    if (!tcp && (off->gso_type & NET_GSO_ECN))
        return -1; /* ECN (CWR) is a TCP matter */
    if (mss == 0)
        return -1;
    /* hdr_len is only a hint (virtio 1.2 5.1.6.2: Linux even puts the length
     * of its linear buffer there), but one longer than the frame is a lie. */
    if (off->hdr_len > len)
        return -1;

    memcpy(buf, pkt->data, len);
    struct l3l4 l;
    if (!parse_ip(buf, len, &l) || l.frag)
        return -1;
    if ((type == NET_GSO_TCPV4 && l.v6) || (type == NET_GSO_TCPV6 && !l.v6))
        return -1;
    size_t l4hlen;
    if (tcp) {
        if (l.proto != IPPROTO_TCP_ || l.ip_end - l.l4off < 20)
            return -1;
        l4hlen = (size_t)(buf[l.l4off + 12] >> 4) * 4;
        if (l4hlen < 20 || l4hlen > l.ip_end - l.l4off)
            return -1;
    } else {
        if (l.proto != IPPROTO_UDP_ || l.ip_end - l.l4off < 8)
            return -1;
        l4hlen = 8;
    }
    /* With NEEDS_CSUM the guest also says where the L4 checksum is; it has
     * to agree with the headers we found. */
    if ((off->flags & NET_OFF_NEEDS_CSUM) &&
        (off->csum_start != l.l4off || off->csum_offset != (tcp ? TCP_CSUM_OFF : UDP_CSUM_OFF)))
        return -1;
    size_t hlen = l.l4off + l4hlen;
    if (hlen > HDR_MAX)
        return -1;
    size_t payload = l.ip_end - hlen;
    size_t nseg = payload ? (payload + mss - 1) / mss : 1;
    if (nseg > 65535 / mss + 1) /* cannot happen with len <= NET_FRAME_MAX; keep it so */
        return -1;

    uint8_t tmpl[HDR_MAX];
    memcpy(tmpl, buf, hlen);
    uint16_t ip_id = l.v6 ? 0 : net_get16(tmpl + l.l3off + 4);
    uint32_t seq = tcp ? net_get32(tmpl + l.l4off + 4) : 0;
    uint8_t tflags = tcp ? tmpl[l.l4off + 13] : 0;
    uint8_t proto = tcp ? IPPROTO_TCP_ : IPPROTO_UDP_;

    for (size_t k = 0; k < nseg; k++) {
        size_t pos = k * mss;
        size_t piece = payload - pos < mss ? payload - pos : mss;
        uint8_t *f = buf + pos; /* headers go right in front of the piece */
        memcpy(f, tmpl, hlen);
        uint8_t *ip = f + l.l3off, *l4 = f + l.l4off;
        size_t l4len = l4hlen + piece;
        size_t iplen = hlen + piece - l.l3off;
        if (l.v6) {
            net_put16(ip + 4, (uint16_t)(iplen - 40));
        } else {
            net_put16(ip + 2, (uint16_t)iplen);
            net_put16(ip + 4, (uint16_t)(ip_id + k));
            net_put16(ip + 10, 0);
            net_put16(ip + 10, net_csum_fold(net_csum_add(0, ip, l.l4off - l.l3off)));
        }
        uint16_t c;
        if (tcp) {
            net_put32(l4 + 4, seq + (uint32_t)pos);
            uint8_t fl = tflags;
            if (k + 1 < nseg)
                fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
            if (k > 0)
                fl &= (uint8_t)~TCP_CWR;
            l4[13] = fl;
            net_put16(l4 + TCP_CSUM_OFF, 0);
            c = net_csum_fold(net_csum_add(pseudo_sum(f, &l, proto, l4len), l4, l4len));
            net_put16(l4 + TCP_CSUM_OFF, c);
        } else {
            net_put16(l4 + 4, (uint16_t)l4len);
            net_put16(l4 + UDP_CSUM_OFF, 0);
            c = net_csum_fold(net_csum_add(pseudo_sum(f, &l, proto, l4len), l4, l4len));
            net_put16(l4 + UDP_CSUM_OFF, c ? c : 0xffff);
        }
        struct net_pkt out = { .data = f, .len = hlen + piece, .vid = pkt->vid };
        emit(opaque, &out);
    }
    return (int)nseg;
}

bool net_offload_sane(const struct net_offload *o, size_t len)
{
    if ((o->flags & NET_OFF_NEEDS_CSUM) && (size_t)o->csum_start + o->csum_offset + 2 > len)
        return false;
    switch (o->gso_type & ~NET_GSO_ECN) {
    case NET_GSO_NONE: return true;
    case NET_GSO_TCPV4: case NET_GSO_TCPV6: case NET_GSO_UDP_L4: return o->gso_size > 0;
    default: return false;
    }
}

int net_offload_finish(const struct net_pkt *pkt, net_emit_fn emit, void *opaque)
{
    if (!pkt->data || pkt->len < NET_FRAME_MIN || pkt->len > NET_FRAME_MAX)
        return -1;
    bool gso = (pkt->off.gso_type & ~NET_GSO_ECN) != NET_GSO_NONE;
    if (!gso && !(pkt->off.flags & NET_OFF_NEEDS_CSUM)) {
        /* Nothing to do but drop the metadata (DATA_VALID, a stray ECN). */
        struct net_pkt out = { .data = pkt->data, .len = pkt->len, .vid = pkt->vid };
        emit(opaque, &out);
        return 1;
    }
    uint8_t *buf = scratch_get();
    if (!buf)
        return -1;
    int n = gso ? finish_gso(pkt, buf, emit, opaque) : finish_csum(pkt, buf, emit, opaque);
    scratch_put(buf);
    return n;
}

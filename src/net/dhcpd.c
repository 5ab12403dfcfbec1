/* The DHCP service (see net/dhcpd.h).
 *
 * Layout: a lease slot per pool address (slot i is pool_first + i), and an
 * index from client key to slot (hash chains threaded through the slots),
 * both allocated once. A slot is FREE until first given out and never
 * becomes FREE again: afterwards it belongs to a client (OFFERED, BOUND,
 * RELEASED; an expired OFFERED/BOUND slot keeps its client too) or is
 * DECLINED. A client key owns at most one slot.
 *
 * Every frame is parsed from the const buffer the switch hands us, each
 * read checked against the frame's, the IP datagram's and the UDP
 * payload's lengths. A reply is built on the stack and sent as the very
 * last step of handling a frame: the switch delivers it synchronously and
 * may come back into transmit (a looped-back wire), so nothing about the
 * frame being handled is kept in the server. */
#include "net/dhcpd.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "net/offload.h"
#include "net/port.h"

#define NS_PER_SEC 1000000000ull

/* How long an offered address waits for the client's REQUEST, and how
 * long a declined address (someone else is using it) is not offered. */
#define OFFER_HOLD_NS (60 * NS_PER_SEC)
#define DECLINE_HOLD_NS (600 * NS_PER_SEC)

#define IP_HLEN 20
#define UDP_HLEN 8
#define ARP_LEN 28
#define ETH_MIN_FRAME 60 /* without FCS; ARP replies are padded to it */
#define IPPROTO_UDP_ 17
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff
#define PORT_SERVER 67
#define PORT_CLIENT 68

/* BOOTP message (RFC 2131 figure 1), offsets from the UDP payload. */
#define BP_OP 0
#define BP_HTYPE 1
#define BP_HLEN 2
#define BP_XID 4
#define BP_FLAGS 10
#define BP_CIADDR 12
#define BP_YIADDR 16
#define BP_GIADDR 24
#define BP_CHADDR 28 /* 16 bytes */
#define BP_CHADDR_LEN 16
#define BP_COOKIE 236
#define BP_OPTIONS 240
#define BP_MIN_LEN 300 /* RFC 1542 2.1: the smallest BOOTP message */
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define HTYPE_ETHER 1
#define FLAG_BROADCAST 0x8000
#define DHCP_COOKIE 0x63825363u

/* Options (RFC 2132). */
#define OPT_PAD 0
#define OPT_SUBNET_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_HOSTNAME 12
#define OPT_BROADCAST 28
#define OPT_REQUESTED_IP 50
#define OPT_LEASE_TIME 51
#define OPT_MSG_TYPE 53
#define OPT_SERVER_ID 54
#define OPT_T1 58
#define OPT_T2 59
#define OPT_CLIENT_ID 61
#define OPT_END 255

enum { DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK, DHCPRELEASE, DHCPINFORM };

/* The most we put in a reply: type (3), server id (6), lease, T1, T2,
 * mask, router, DNS, broadcast (6 each), end (1). Every reply therefore
 * fits the 300-byte minimum and has that fixed size. */
#define REPLY_OPTS_MAX (3 + 6 + 7 * 6 + 1)
_Static_assert(BP_OPTIONS + REPLY_OPTS_MAX <= BP_MIN_LEN, "replies are padded to the BOOTP minimum");
#define REPLY_FRAME_LEN (NET_ETH_HLEN + IP_HLEN + UDP_HLEN + BP_MIN_LEN)

#define NO_SLOT UINT32_MAX

/* ---- byte helpers ---- */


static const uint8_t mac_broadcast[NET_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- the lease table ---- */

/* A client's key: its client identifier, or its hardware address. Only
 * the first KEY_BYTES bytes are kept (a DUID-based identifier, RFC 4361,
 * is usually 19-23 bytes); longer identifiers are told apart by length and
 * a hash of all their bytes. That lets a guest that wants to collide with
 * another's long identifier do so, but any guest can already send another
 * client's identifier outright: DHCP has no authentication. */
#define KEY_BYTES 32
enum { KEY_CHADDR = 1, KEY_CLIENT_ID = 2 };

struct key {
    uint64_t hash;
    uint8_t kind;
    uint8_t len;              /* of the whole key (an option holds <= 255) */
    uint8_t b[KEY_BYTES];     /* zero-filled past len */
};

enum slot_state { S_FREE, S_RESERVED, S_OFFERED, S_BOUND, S_RELEASED, S_DECLINED };

struct slot {
    struct key key;           /* OFFERED, BOUND, RELEASED only */
    uint64_t expires_ns;      /* RELEASED: when it was released */
    uint32_t next;            /* next slot in the key's hash chain */
    uint8_t state;
    uint8_t mac[NET_ETH_ALEN];
    char hostname[64];
};

struct net_dhcpd {
    struct net_port port;     /* first: the port ops cast back to the server */
    struct net_dhcpd_config cfg;
    uint32_t subnet_bcast;
    uint32_t n;               /* pool size */
    struct slot *slot;
    uint32_t *bucket;         /* heads of the key hash chains */
    uint32_t nbuckets;        /* a power of two */
    uint32_t fresh;           /* no slot below this one is FREE */
    /* No slot can be reclaimed before this time (so a full pool is not
     * scanned again for every DISCOVER); lowered by every expiry set. */
    uint64_t no_reclaim_before;
    uint16_t ip_id;
    struct net_dhcpd_stats st;
};

static uint64_t now_ns(const struct net_dhcpd *d)
{
    return d->cfg.now_ns ? d->cfg.now_ns(d->cfg.now_opaque) : vclock_ns();
}

static uint64_t after(uint64_t now, uint64_t ns) { return now > UINT64_MAX - ns ? UINT64_MAX : now + ns; }

static uint32_t slot_ip(const struct net_dhcpd *d, uint32_t i) { return d->cfg.pool_first + i; }

static bool in_pool(const struct net_dhcpd *d, uint32_t ip)
{
    return ip >= d->cfg.pool_first && ip <= d->cfg.pool_last;
}

/* An address a host of the subnet may have: not the network's own address
 * nor its broadcast address. */
static bool host_in_subnet(uint32_t ip, uint32_t net, uint32_t mask)
{
    return (ip & mask) == net && ip != net && ip != (net | ~mask);
}

static bool has_key(const struct slot *s)
{
    return s->state == S_OFFERED || s->state == S_BOUND || s->state == S_RELEASED;
}

static void set_expiry(struct net_dhcpd *d, struct slot *s, uint64_t t)
{
    s->expires_ns = t;
    if (t < d->no_reclaim_before)
        d->no_reclaim_before = t;
}

/* FNV-1a over the kind and every byte of the key. */
static void key_make(struct key *k, uint8_t kind, const uint8_t *b, size_t len)
{
    memset(k, 0, sizeof(*k));
    k->kind = kind;
    k->len = (uint8_t)len;
    memcpy(k->b, b, len < KEY_BYTES ? len : KEY_BYTES);
    uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ kind) * 0x100000001b3ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    k->hash = h;
}

static bool key_eq(const struct key *a, const struct key *b)
{
    return a->hash == b->hash && a->kind == b->kind && a->len == b->len && memcmp(a->b, b->b, KEY_BYTES) == 0;
}

static uint32_t *key_bucket(struct net_dhcpd *d, const struct key *k)
{
    return &d->bucket[k->hash & (d->nbuckets - 1)];
}

static uint32_t key_find(struct net_dhcpd *d, const struct key *k)
{
    for (uint32_t i = *key_bucket(d, k); i != NO_SLOT; i = d->slot[i].next)
        if (key_eq(&d->slot[i].key, k))
            return i;
    return NO_SLOT;
}

static void key_link(struct net_dhcpd *d, uint32_t i, const struct key *k)
{
    uint32_t *head = key_bucket(d, k);
    d->slot[i].key = *k;
    d->slot[i].next = *head;
    *head = i;
}

/* Take slot i (which has a key, so is on its chain) out of the index. */
static void key_unlink(struct net_dhcpd *d, uint32_t i)
{
    uint32_t *pp = key_bucket(d, &d->slot[i].key);
    while (*pp != i)
        pp = &d->slot[*pp].next;
    *pp = d->slot[i].next;
    d->slot[i].next = NO_SLOT;
}

static bool reclaimable(const struct slot *s, uint64_t now)
{
    switch (s->state) {
    case S_RELEASED:
        return true;
    case S_OFFERED:
    case S_BOUND:
    case S_DECLINED:
        return s->expires_ns <= now;
    default:
        return false;
    }
}

/* The slot whose client has gone longest (released or expired first), or
 * NO_SLOT. */
static uint32_t reclaim_oldest(struct net_dhcpd *d, uint64_t now)
{
    if (now < d->no_reclaim_before)
        return NO_SLOT;
    uint32_t best = NO_SLOT;
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < d->n; i++) {
        const struct slot *s = &d->slot[i];
        if (reclaimable(s, now)) {
            if (best == NO_SLOT || s->expires_ns < d->slot[best].expires_ns)
                best = i;
        } else if (s->state != S_RESERVED && s->state != S_FREE && s->expires_ns < next) {
            next = s->expires_ns;
        }
    }
    if (best == NO_SLOT)
        d->no_reclaim_before = next;
    return best;
}

/* ---- a parsed DHCP message ---- */

struct msg {
    const uint8_t *bp;        /* the BOOTP message, at least BP_OPTIONS bytes */
    const uint8_t *chaddr;    /* its first 6 bytes: hlen is checked to be 6 */
    uint32_t ciaddr;
    uint8_t type;             /* option 53; 0 = absent (plain BOOTP) */
    bool has_requested, has_server_id;
    uint32_t requested, server_id;
    const uint8_t *client_id; /* option 61, client_id_len >= 2 */
    uint8_t client_id_len;
    const uint8_t *hostname;  /* option 12 */
    uint8_t hostname_len;
};

/* Walk the options field (RFC 2132 2): every option but pad and end has a
 * length byte, and its value must end inside the field. The walk stops at
 * the end option or the end of the field (a missing end option is
 * tolerated). Returns false if an option runs off the end, or one we use
 * has a wrong length or appears twice (RFC 3396 would concatenate the
 * copies, which for the fixed-size ones is a wrong length anyway). */
static bool parse_options(const uint8_t *o, size_t len, struct msg *m)
{
    uint8_t seen[256 / 8] = { 0 };
    size_t i = 0;
    while (i < len) {
        uint8_t code = o[i];
        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (code == OPT_END)
            return true;
        if (len - i < 2)
            return false;
        size_t olen = o[i + 1];
        if (olen > len - i - 2)
            return false;
        const uint8_t *v = o + i + 2;
        bool dup = seen[code >> 3] & (1u << (code & 7));
        seen[code >> 3] |= (uint8_t)(1u << (code & 7));
        switch (code) {
        case OPT_MSG_TYPE:
            if (olen != 1 || dup)
                return false;
            m->type = v[0];
            break;
        case OPT_REQUESTED_IP:
            if (olen != 4 || dup)
                return false;
            m->has_requested = true;
            m->requested = net_get32(v);
            break;
        case OPT_SERVER_ID:
            if (olen != 4 || dup)
                return false;
            m->has_server_id = true;
            m->server_id = net_get32(v);
            break;
        case OPT_CLIENT_ID:
            if (olen < 2 || dup)
                return false;
            m->client_id = v;
            m->client_id_len = (uint8_t)olen;
            break;
        case OPT_HOSTNAME:
            /* Only informative: a second or empty one is not worth a drop. */
            if (!dup && olen > 0) {
                m->hostname = v;
                m->hostname_len = (uint8_t)olen;
            }
            break;
        default:
            break; /* 55 parameter list and the rest: the reply is fixed */
        }
        i += 2 + olen;
    }
    return true;
}

static void msg_key(const struct msg *m, struct key *k)
{
    if (m->client_id)
        key_make(k, KEY_CLIENT_ID, m->client_id, m->client_id_len);
    else
        key_make(k, KEY_CHADDR, m->chaddr, NET_ETH_ALEN);
}

/* Keep a host name for display: up to the first NUL (some clients send
 * one), printable ASCII only, so that listing leases cannot put control
 * sequences on a terminal. */
static void set_hostname(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < cap && src[i]; i++)
        dst[j++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[j] = 0;
}

/* Give slot i to the client of m (it may already be its own). */
static struct slot *take(struct net_dhcpd *d, uint32_t i, const struct key *k, const struct msg *m)
{
    struct slot *s = &d->slot[i];
    if (!has_key(s) || !key_eq(&s->key, k)) {
        if (has_key(s))
            key_unlink(d, i);
        s->hostname[0] = 0;
        key_link(d, i, k);
    }
    memcpy(s->mac, m->chaddr, NET_ETH_ALEN);
    if (m->hostname)
        set_hostname(s->hostname, sizeof(s->hostname), m->hostname, m->hostname_len);
    return s;
}

/* ---- sending ---- */

static size_t opt_u8(uint8_t *o, uint8_t code, uint8_t v)
{
    o[0] = code;
    o[1] = 1;
    o[2] = v;
    return 3;
}

static size_t opt_u32(uint8_t *o, uint8_t code, uint32_t v)
{
    o[0] = code;
    o[1] = 4;
    net_put32(o + 2, v);
    return 6;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t udp_len)
{
    /* The running sum of net_csum_add takes 16-bit words as numbers. */
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPPROTO_UDP_ + (uint32_t)udp_len;
}

/* Wrap a BOOTP message (bp, BP_MIN_LEN bytes inside f) in UDP, IPv4 and
 * Ethernet, and send it. */
static void send_udp(struct net_dhcpd *d, uint8_t *f, const uint8_t *dst_mac, uint32_t dst_ip)
{
    uint8_t *ip = f + NET_ETH_HLEN, *udp = ip + IP_HLEN;
    memcpy(f, dst_mac, NET_ETH_ALEN);
    memcpy(f + NET_ETH_ALEN, d->cfg.server_mac, NET_ETH_ALEN);
    net_put16(f + 12, NET_ETH_P_IPV4);

    ip[0] = 0x45;
    net_put16(ip + 2, IP_HLEN + UDP_HLEN + BP_MIN_LEN);
    net_put16(ip + 4, d->ip_id++);
    ip[8] = 64;
    ip[9] = IPPROTO_UDP_;
    net_put32(ip + 12, d->cfg.server_ip);
    net_put32(ip + 16, dst_ip);
    net_put16(ip + 10, net_csum_fold(net_csum_add(0, ip, IP_HLEN)));

    net_put16(udp, PORT_SERVER);
    net_put16(udp + 2, PORT_CLIENT);
    net_put16(udp + 4, UDP_HLEN + BP_MIN_LEN);
    uint16_t c = net_csum_fold(net_csum_add(pseudo_sum(d->cfg.server_ip, dst_ip, UDP_HLEN + BP_MIN_LEN), udp,
                                            UDP_HLEN + BP_MIN_LEN));
    net_put16(udp + 6, c ? c : 0xffff); /* RFC 768: 0 would mean "no checksum" */

    struct net_pkt pkt = { .data = f, .len = REPLY_FRAME_LEN };
    net_port_input(&d->port, &pkt);
}

/* Answer m with an OFFER, ACK or NAK. yiaddr 0 with an ACK answers an
 * INFORM: no lease options (RFC 2131 4.3.5). Must be the last thing done
 * for a frame (see the top of the file). */
static void reply(struct net_dhcpd *d, const struct msg *m, uint8_t type, uint32_t yiaddr)
{
    uint8_t f[REPLY_FRAME_LEN] = { 0 };
    uint8_t *bp = f + NET_ETH_HLEN + IP_HLEN + UDP_HLEN;
    const struct net_dhcpd_config *c = &d->cfg;

    /* RFC 2131 table 3: xid, flags, giaddr (0 here) and chaddr from the
     * request; ciaddr only in an ACK. */
    bp[BP_OP] = BOOTREPLY;
    bp[BP_HTYPE] = HTYPE_ETHER;
    bp[BP_HLEN] = NET_ETH_ALEN;
    memcpy(bp + BP_XID, m->bp + BP_XID, 4);
    memcpy(bp + BP_FLAGS, m->bp + BP_FLAGS, 2);
    if (type == DHCPACK)
        net_put32(bp + BP_CIADDR, m->ciaddr);
    net_put32(bp + BP_YIADDR, yiaddr);
    memcpy(bp + BP_CHADDR, m->bp + BP_CHADDR, BP_CHADDR_LEN);
    net_put32(bp + BP_COOKIE, DHCP_COOKIE);

    uint8_t *o = bp + BP_OPTIONS;
    o += opt_u8(o, OPT_MSG_TYPE, type);
    o += opt_u32(o, OPT_SERVER_ID, c->server_ip);
    if (type != DHCPNAK) {
        if (yiaddr) {
            /* T1 and T2 as RFC 2131 4.4.5 suggests: 1/2 and 7/8 of the lease. */
            o += opt_u32(o, OPT_LEASE_TIME, c->lease_secs);
            o += opt_u32(o, OPT_T1, c->lease_secs / 2);
            o += opt_u32(o, OPT_T2, (uint32_t)((uint64_t)c->lease_secs * 7 / 8));
        }
        o += opt_u32(o, OPT_SUBNET_MASK, c->netmask);
        if (c->router)
            o += opt_u32(o, OPT_ROUTER, c->router);
        if (c->dns)
            o += opt_u32(o, OPT_DNS, c->dns);
        o += opt_u32(o, OPT_BROADCAST, d->subnet_bcast);
    }
    *o = OPT_END; /* the rest up to BP_MIN_LEN stays zero: pad options */

    /* RFC 2131 4.1 (giaddr is always 0: relayed requests are not served):
     * a NAK is broadcast; a client with an address (ciaddr) gets unicast
     * there; one that asked for broadcast gets it; otherwise the reply is
     * unicast to the new address at the client's hardware address. A
     * ciaddr that is no host of our subnet (a broadcast or multicast
     * address, a stranger) is not used: the reply would go to one MAC with
     * an IP destination that does not belong to it. */
    uint16_t flags = net_get16(m->bp + BP_FLAGS);
    if (type == DHCPNAK)
        send_udp(d, f, mac_broadcast, UINT32_MAX);
    else if (m->ciaddr && host_in_subnet(m->ciaddr, d->cfg.server_ip & d->cfg.netmask, d->cfg.netmask))
        send_udp(d, f, m->chaddr, m->ciaddr);
    else if ((flags & FLAG_BROADCAST) || !yiaddr)
        send_udp(d, f, mac_broadcast, UINT32_MAX);
    else
        send_udp(d, f, m->chaddr, yiaddr);
}

/* ---- DHCP messages ---- */

enum verdict { V_DONE, V_IGNORED, V_MALFORMED, V_UNANSWERED, V_POOL_EMPTY };

static enum verdict on_discover(struct net_dhcpd *d, const struct msg *m, const struct key *k, uint64_t now)
{
    /* RFC 2131 4.3.1: the client's current or previous address, else the
     * one it asks for if never given out, else a never-used one, else the
     * one forgotten longest ago. */
    uint32_t i = key_find(d, k);
    if (i == NO_SLOT && m->has_requested && in_pool(d, m->requested) &&
        d->slot[m->requested - d->cfg.pool_first].state == S_FREE)
        i = m->requested - d->cfg.pool_first;
    if (i == NO_SLOT) {
        while (d->fresh < d->n && d->slot[d->fresh].state != S_FREE)
            d->fresh++;
        i = d->fresh < d->n ? d->fresh : reclaim_oldest(d, now);
    }
    if (i == NO_SLOT)
        return V_POOL_EMPTY;
    struct slot *s = take(d, i, k, m);
    /* A client that still holds a lease keeps it while it asks again. */
    if (s->state != S_BOUND || s->expires_ns <= now) {
        s->state = S_OFFERED;
        set_expiry(d, s, after(now, OFFER_HOLD_NS));
    }
    d->st.offer++;
    reply(d, m, DHCPOFFER, slot_ip(d, i));
    return V_DONE;
}

/* Bind addr to the client if it is its address, or if the client has none
 * and addr was never given out; NAK otherwise. */
static enum verdict confirm(struct net_dhcpd *d, const struct msg *m, const struct key *k, uint32_t addr,
                            uint64_t now)
{
    uint32_t i = key_find(d, k);
    if (i == NO_SLOT && in_pool(d, addr) && d->slot[addr - d->cfg.pool_first].state == S_FREE)
        i = addr - d->cfg.pool_first;
    if (i == NO_SLOT || slot_ip(d, i) != addr) {
        d->st.nak++;
        reply(d, m, DHCPNAK, 0);
        return V_DONE;
    }
    struct slot *s = take(d, i, k, m);
    s->state = S_BOUND;
    set_expiry(d, s, after(now, d->cfg.lease_secs * NS_PER_SEC));
    d->st.ack++;
    reply(d, m, DHCPACK, addr);
    return V_DONE;
}

static enum verdict on_request(struct net_dhcpd *d, const struct msg *m, const struct key *k, uint64_t now)
{
    /* RFC 2131 4.3.2 tells the client's state from the options. */
    if (m->has_server_id) {
        /* SELECTING */
        if (m->server_id != d->cfg.server_ip) {
            /* It chose another server: what we offered is free again. */
            uint32_t i = key_find(d, k);
            if (i != NO_SLOT && d->slot[i].state == S_OFFERED) {
                d->slot[i].state = S_RELEASED;
                set_expiry(d, &d->slot[i], now);
            }
            return V_DONE;
        }
        if (!m->has_requested)
            return V_MALFORMED;
        return confirm(d, m, k, m->requested, now);
    }
    if (m->ciaddr) /* RENEWING (unicast) or REBINDING (broadcast) */
        return confirm(d, m, k, m->ciaddr, now);
    if (m->has_requested) /* INIT-REBOOT */
        return confirm(d, m, k, m->requested, now);
    return V_MALFORMED;
}

/* The slot of m's client if it holds addr, or NO_SLOT. */
static uint32_t client_slot(struct net_dhcpd *d, const struct key *k, uint32_t addr)
{
    uint32_t i = key_find(d, k);
    return i != NO_SLOT && slot_ip(d, i) == addr ? i : NO_SLOT;
}

static enum verdict on_decline(struct net_dhcpd *d, const struct msg *m, const struct key *k, uint64_t now)
{
    if (!m->has_server_id || !m->has_requested)
        return V_MALFORMED;
    /* Only the address's own client may decline it: otherwise any guest
     * could take every address out of the pool. */
    uint32_t i = client_slot(d, k, m->requested);
    if (m->server_id != d->cfg.server_ip || i == NO_SLOT)
        return V_UNANSWERED;
    key_unlink(d, i);
    d->slot[i].state = S_DECLINED;
    set_expiry(d, &d->slot[i], after(now, DECLINE_HOLD_NS));
    return V_DONE;
}

static enum verdict on_release(struct net_dhcpd *d, const struct msg *m, const struct key *k, uint64_t now)
{
    if (!m->has_server_id)
        return V_MALFORMED;
    uint32_t i = client_slot(d, k, m->ciaddr);
    if (m->server_id != d->cfg.server_ip || i == NO_SLOT)
        return V_UNANSWERED;
    d->slot[i].state = S_RELEASED; /* still the client's until needed */
    set_expiry(d, &d->slot[i], now);
    return V_DONE;
}

static enum verdict rx_bootp(struct net_dhcpd *d, const uint8_t *bp, size_t len)
{
    if (len < BP_OPTIONS)
        return V_MALFORMED;
    if (bp[BP_OP] != BOOTREQUEST || bp[BP_HTYPE] != HTYPE_ETHER || bp[BP_HLEN] != NET_ETH_ALEN)
        return V_MALFORMED;
    struct msg m = { .bp = bp, .chaddr = bp + BP_CHADDR, .ciaddr = net_get32(bp + BP_CIADDR) };
    /* Replies go to chaddr: a group address there would flood them. */
    if (net_mac_is_multicast(m.chaddr) || net_mac_is_zero(m.chaddr))
        return V_MALFORMED;
    if (net_get32(bp + BP_COOKIE) != DHCP_COOKIE)
        return V_UNANSWERED; /* plain BOOTP (a vendor area): not served */
    if (net_get32(bp + BP_GIADDR) != 0)
        return V_UNANSWERED; /* relayed: we have no route to the relay */
    if (!parse_options(bp + BP_OPTIONS, len - BP_OPTIONS, &m))
        return V_MALFORMED;

    struct key k;
    msg_key(&m, &k);
    uint64_t now = now_ns(d);
    switch (m.type) {
    case DHCPDISCOVER:
        d->st.discover++;
        return on_discover(d, &m, &k, now);
    case DHCPREQUEST:
        d->st.request++;
        return on_request(d, &m, &k, now);
    case DHCPDECLINE:
        d->st.decline++;
        return on_decline(d, &m, &k, now);
    case DHCPRELEASE:
        d->st.release++;
        return on_release(d, &m, &k, now);
    case DHCPINFORM:
        /* The client has its address already and wants the rest. */
        d->st.inform++;
        d->st.ack++;
        reply(d, &m, DHCPACK, 0);
        return V_DONE;
    default:
        return V_UNANSWERED; /* no option 53 (BOOTP), or a server's message */
    }
}

/* ---- frames ---- */

static enum verdict rx_ipv4(struct net_dhcpd *d, const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + NET_ETH_HLEN;
    size_t avail = len - NET_ETH_HLEN;
    if (avail < IP_HLEN || ip[0] >> 4 != 4)
        return V_MALFORMED;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = net_get16(ip + 2);
    /* Bytes past tot are Ethernet padding. */
    if (ihl < IP_HLEN || ihl > avail || tot < ihl || tot > avail)
        return V_MALFORMED;
    uint32_t src = net_get32(ip + 12), dst = net_get32(ip + 16);
    if (dst != UINT32_MAX && dst != d->subnet_bcast && dst != d->cfg.server_ip)
        return V_IGNORED;
    uint16_t frag = net_get16(ip + 6);
    if (ip[9] != IPPROTO_UDP_ || (frag & IP_OFFMASK))
        return V_IGNORED; /* a later fragment: its port cannot be told */
    if (net_csum_fold(net_csum_add(0, ip, ihl)) != 0)
        return V_MALFORMED;

    const uint8_t *udp = ip + ihl;
    size_t udp_avail = tot - ihl;
    if (udp_avail < UDP_HLEN)
        return V_MALFORMED;
    if (net_get16(udp + 2) != PORT_SERVER)
        return V_IGNORED;
    /* A DHCP message fits one frame; fragments are not reassembled. */
    if (frag & IP_MF)
        return V_MALFORMED;
    size_t ulen = net_get16(udp + 4);
    if (ulen < UDP_HLEN || ulen > udp_avail)
        return V_MALFORMED;
    if (net_get16(udp + 6) != 0 && net_csum_fold(net_csum_add(pseudo_sum(src, dst, ulen), udp, ulen)) != 0)
        return V_MALFORMED;
    return rx_bootp(d, udp + UDP_HLEN, ulen - UDP_HLEN);
}

/* Answer "who has server_ip" (RFC 826), so that clients can renew by
 * unicast; nothing else. */
static enum verdict rx_arp(struct net_dhcpd *d, const uint8_t *f, size_t len)
{
    if (len < NET_ETH_HLEN + ARP_LEN)
        return V_MALFORMED;
    const uint8_t *a = f + NET_ETH_HLEN;
    if (net_get16(a) != 1 || net_get16(a + 2) != NET_ETH_P_IPV4 || a[4] != NET_ETH_ALEN || a[5] != 4 || net_get16(a + 6) != 1 ||
        net_get32(a + 24) != d->cfg.server_ip)
        return V_IGNORED;
    const uint8_t *sha = a + 8;
    if (net_mac_is_multicast(sha) || net_mac_is_zero(sha))
        return V_MALFORMED;

    uint8_t r[ETH_MIN_FRAME] = { 0 };
    uint8_t *ra = r + NET_ETH_HLEN;
    memcpy(r, sha, NET_ETH_ALEN);
    memcpy(r + NET_ETH_ALEN, d->cfg.server_mac, NET_ETH_ALEN);
    net_put16(r + 12, NET_ETH_P_ARP);
    net_put16(ra, 1);
    net_put16(ra + 2, NET_ETH_P_IPV4);
    ra[4] = NET_ETH_ALEN;
    ra[5] = 4;
    net_put16(ra + 6, 2);
    memcpy(ra + 8, d->cfg.server_mac, NET_ETH_ALEN);
    net_put32(ra + 14, d->cfg.server_ip);
    memcpy(ra + 18, sha, NET_ETH_ALEN);
    memcpy(ra + 24, a + 14, 4); /* an ARP probe's 0.0.0.0 stays 0 */
    d->st.arp_reply++;
    struct net_pkt pkt = { .data = r, .len = sizeof(r) };
    net_port_input(&d->port, &pkt);
    return V_DONE;
}

static enum verdict rx_frame(struct net_dhcpd *d, const uint8_t *f, size_t len)
{
    if (len < NET_ETH_HLEN)
        return V_MALFORMED;
    if (memcmp(f, mac_broadcast, NET_ETH_ALEN) != 0 && memcmp(f, d->cfg.server_mac, NET_ETH_ALEN) != 0)
        return V_IGNORED;
    if (memcmp(f + NET_ETH_ALEN, d->cfg.server_mac, NET_ETH_ALEN) == 0)
        return V_IGNORED; /* our own frame come back */
    switch (net_get16(f + 12)) {
    case NET_ETH_P_IPV4:
        return rx_ipv4(d, f, len);
    case NET_ETH_P_ARP:
        return rx_arp(d, f, len);
    default:
        return V_IGNORED;
    }
}

static void dhcpd_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_dhcpd *d = (struct net_dhcpd *)p;
    /* One pool serves one VLAN: a trunk would mix several. */
    enum verdict v = tag_vid ? V_IGNORED : rx_frame(d, pkt->data, pkt->len);
    switch (v) {
    case V_DONE:
        break;
    case V_IGNORED:
        d->st.ignored++;
        break;
    case V_MALFORMED:
        d->st.malformed++;
        break;
    case V_UNANSWERED:
        d->st.unanswered++;
        break;
    case V_POOL_EMPTY:
        d->st.pool_empty++;
        break;
    }
}

static void dhcpd_free(struct net_port *p)
{
    struct net_dhcpd *d = (struct net_dhcpd *)p;
    free(d->slot);
    free(d->bucket);
    free(d);
}

static const struct net_port_ops dhcpd_ops = {
    .transmit = dhcpd_transmit,
    .free = dhcpd_free,
};

/* ---- creation and queries ---- */

static void fmt_ip(char buf[16], uint32_t ip)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

__attribute__((format(printf, 3, 4))) static void *fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static const char *check_config(const struct net_dhcpd_config *c, char *what, size_t whatlen)
{
    uint32_t inv = ~c->netmask, net = c->server_ip & c->netmask;
    char a[16], b[16];
    if (c->netmask == 0 || (inv & (inv + 1)) != 0 || inv < 3) {
        fmt_ip(a, c->netmask);
        snprintf(what, whatlen, "netmask %s is not a contiguous mask of /30 or shorter", a);
        return what;
    }
    fmt_ip(b, net);
    if (!host_in_subnet(c->server_ip, net, c->netmask)) {
        fmt_ip(a, c->server_ip);
        snprintf(what, whatlen, "server address %s is the network or broadcast address of its subnet", a);
        return what;
    }
    if (c->router && !host_in_subnet(c->router, net, c->netmask)) {
        fmt_ip(a, c->router);
        snprintf(what, whatlen, "router %s is not a host address of subnet %s", a, b);
        return what;
    }
    if (!host_in_subnet(c->pool_first, net, c->netmask) || !host_in_subnet(c->pool_last, net, c->netmask)) {
        char l[16];
        fmt_ip(a, c->pool_first);
        fmt_ip(l, c->pool_last);
        snprintf(what, whatlen, "pool %s-%s is not inside the host addresses of subnet %s", a, l, b);
        return what;
    }
    if (c->pool_first > c->pool_last) {
        snprintf(what, whatlen, "pool starts after it ends");
        return what;
    }
    if (c->pool_last - c->pool_first >= NET_DHCPD_MAX_POOL) {
        snprintf(what, whatlen, "pool has %u addresses, more than %u", c->pool_last - c->pool_first + 1,
                 NET_DHCPD_MAX_POOL);
        return what;
    }
    if (c->lease_secs == UINT32_MAX) {
        snprintf(what, whatlen, "lease time must be finite");
        return what;
    }
    if (net_mac_is_multicast(c->server_mac) || net_mac_is_zero(c->server_mac)) {
        snprintf(what, whatlen, "server MAC address must be a unicast address");
        return what;
    }
    return NULL;
}

struct net_dhcpd *net_dhcpd_new(const struct net_dhcpd_config *cfg, char *err, size_t errlen)
{
    char what[160];
    if (check_config(cfg, what, sizeof(what)))
        return fail(err, errlen, "dhcp: %s", what);

    struct net_dhcpd *d = calloc(1, sizeof(*d));
    if (!d)
        return fail(err, errlen, "dhcp: out of memory");
    d->cfg = *cfg;
    d->cfg.name = NULL; /* not ours to keep */
    if (!d->cfg.lease_secs)
        d->cfg.lease_secs = NET_DHCPD_DEFAULT_LEASE_SECS;
    d->subnet_bcast = (cfg->server_ip & cfg->netmask) | ~cfg->netmask;
    d->n = cfg->pool_last - cfg->pool_first + 1;
    d->nbuckets = 16;
    while (d->nbuckets < d->n)
        d->nbuckets <<= 1;
    d->slot = calloc(d->n, sizeof(*d->slot));
    d->bucket = malloc(d->nbuckets * sizeof(*d->bucket));
    if (!d->slot || !d->bucket) {
        free(d->slot);
        free(d->bucket);
        uint32_t n = d->n;
        free(d);
        return fail(err, errlen, "dhcp: out of memory for a pool of %u addresses", n);
    }
    memset(d->bucket, 0xff, d->nbuckets * sizeof(*d->bucket)); /* NO_SLOT */
    for (uint32_t i = 0; i < d->n; i++)
        d->slot[i].next = NO_SLOT;
    /* The server's and router's own addresses are never given out. */
    uint32_t reserved = 0;
    if (in_pool(d, cfg->server_ip)) {
        d->slot[cfg->server_ip - cfg->pool_first].state = S_RESERVED;
        reserved++;
    }
    if (cfg->router && cfg->router != cfg->server_ip && in_pool(d, cfg->router)) {
        d->slot[cfg->router - cfg->pool_first].state = S_RESERVED;
        reserved++;
    }
    if (reserved == d->n) {
        dhcpd_free(&d->port);
        return fail(err, errlen, "dhcp: the pool holds only the server's and router's addresses");
    }
    net_port_init(&d->port, &dhcpd_ops, cfg->name ? cfg->name : "dhcp", false);
    return d;
}

struct net_port *net_dhcpd_port(struct net_dhcpd *d) { return &d->port; }

const struct net_dhcpd_stats *net_dhcpd_stats(const struct net_dhcpd *d) { return &d->st; }

size_t net_dhcpd_leases(const struct net_dhcpd *d, struct net_dhcpd_lease *out, size_t max)
{
    uint64_t now = now_ns(d);
    size_t k = 0;
    for (uint32_t i = 0; i < d->n && k < max; i++) {
        const struct slot *s = &d->slot[i];
        if (s->state == S_FREE || s->state == S_RESERVED)
            continue;
        struct net_dhcpd_lease *l = &out[k++];
        memset(l, 0, sizeof(*l));
        l->ip = slot_ip(d, i);
        memcpy(l->mac, s->mac, NET_ETH_ALEN);
        bool live = s->expires_ns > now;
        switch (s->state) {
        case S_OFFERED:
            l->state = live ? NET_DHCPD_OFFERED : NET_DHCPD_EXPIRED;
            break;
        case S_BOUND:
            l->state = live ? NET_DHCPD_BOUND : NET_DHCPD_EXPIRED;
            break;
        case S_RELEASED:
            l->state = NET_DHCPD_RELEASED;
            live = false;
            break;
        default:
            l->state = NET_DHCPD_DECLINED;
            break;
        }
        l->expires_ns = s->expires_ns;
        if (live) {
            uint64_t left = (s->expires_ns - now + NS_PER_SEC - 1) / NS_PER_SEC;
            l->secs_left = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
        }
        snprintf(l->hostname, sizeof(l->hostname), "%s", s->hostname);
    }
    return k;
}

/* The DHCP service, driven through its port with hand-built frames as a
 * guest would send them: the handshake, renewals, stable addresses, the
 * pool running out, NAK/DECLINE/RELEASE/INFORM, ARP, and hostile frames
 * (every truncation, broken options and headers, and a long run of
 * randomly mutated messages, which ASan watches for stray reads). Replies
 * are checked byte by byte, checksums with this file's own RFC 1071 sum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcpd.h"
#include "net/port.h"
#include "net/switch.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SRV_IP IP4(192, 168, 56, 100)
#define NETMASK IP4(255, 255, 255, 0)
#define ROUTER IP4(192, 168, 56, 1)
#define DNS IP4(192, 168, 56, 53)
#define BCAST IP4(192, 168, 56, 255)
#define POOL_FIRST IP4(192, 168, 56, 101)
#define POOL_LAST IP4(192, 168, 56, 254)
#define SEC 1000000000ull

enum { DISCOVER = 1, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM };

static const uint8_t SRV_MAC[6] = { 0x0a, 0x00, 0x27, 0x00, 0x00, 0x01 };
static const uint8_t BC_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_A[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t MAC_C[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0c };

/* ---- byte helpers and an independent Internet checksum ---- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static uint16_t csum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        sum += rd16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo(uint32_t src, uint32_t dst, size_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + (uint32_t)len;
}

/* ---- the test fixture: the server wired to a recording port ---- */

#define REC_MAX 4

struct fx;
struct rec {
    struct net_port port;
    struct fx *fx;
    unsigned n;                          /* frames since the last take */
    size_t len[REC_MAX];
    uint8_t data[REC_MAX][1600];
    void (*hook)(struct fx *f, const uint8_t *frame, size_t len);
};

struct fx {
    struct net_dhcpd *d;
    struct net_port *dp;
    struct rec rec;
    uint64_t now;
};

static void rec_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct rec *r = (struct rec *)p;
    assert_int_equal(tag_vid, 0);
    assert_false(pkt->off.flags);
    assert_true(r->n < REC_MAX);
    assert_true(pkt->len <= sizeof(r->data[0]));
    memcpy(r->data[r->n], pkt->data, pkt->len);
    r->len[r->n++] = pkt->len;
    if (r->hook)
        r->hook(r->fx, pkt->data, pkt->len);
}

static const struct net_port_ops rec_ops = { .transmit = rec_transmit };

static uint64_t fake_now(void *opaque) { return ((struct fx *)opaque)->now; }

static struct net_dhcpd_config default_cfg(void)
{
    struct net_dhcpd_config c = {
        .server_ip = SRV_IP, .netmask = NETMASK, .router = ROUTER, .dns = DNS,
        .pool_first = POOL_FIRST, .pool_last = POOL_LAST,
    };
    memcpy(c.server_mac, SRV_MAC, 6);
    return c;
}

static struct fx *fx_new_cfg(struct net_dhcpd_config c)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->now = 1000 * SEC;
    c.now_ns = fake_now;
    c.now_opaque = f;
    char err[200] = "";
    f->d = net_dhcpd_new(&c, err, sizeof(err));
    if (!f->d)
        fail_msg("net_dhcpd_new: %s", err);
    f->dp = net_dhcpd_port(f->d);
    net_port_init(&f->rec.port, &rec_ops, "rec", false);
    f->rec.fx = f;
    net_port_wire(f->dp, &f->rec.port);
    return f;
}

static struct fx *fx_new(void) { return fx_new_cfg(default_cfg()); }

static struct fx *fx_new_pool(uint32_t first, uint32_t last)
{
    struct net_dhcpd_config c = default_cfg();
    c.pool_first = first;
    c.pool_last = last;
    return fx_new_cfg(c);
}

static void fx_free(struct fx *f)
{
    net_port_free(f->dp);
    assert_null(f->rec.port.peer);
    free(f);
}

/* ---- building client frames ---- */

struct opts {
    uint8_t b[600];
    size_t n;
};

static void o_raw(struct opts *o, uint8_t code, const void *v, size_t len)
{
    o->b[o->n++] = code;
    o->b[o->n++] = (uint8_t)len;
    memcpy(o->b + o->n, v, len);
    o->n += len;
}

static void o_ip(struct opts *o, uint8_t code, uint32_t ip)
{
    uint8_t v[4];
    wr32(v, ip);
    o_raw(o, code, v, 4);
}

struct req {
    const uint8_t *mac;       /* chaddr and Ethernet source */
    uint8_t type;             /* option 53; 0 = none */
    uint32_t ciaddr;
    uint32_t src_ip, dst_ip;  /* dst 0 = 255.255.255.255 */
    const uint8_t *dst_mac;   /* NULL = broadcast */
    uint16_t flags;
    uint32_t xid;
    const struct opts *o;     /* after option 53 */
    bool no_end;
};

/* Build the frame of q into buf (no Ethernet padding: every byte counts,
 * so a shorter copy is always a truncated datagram). Returns its length. */
static size_t build(uint8_t *buf, const struct req *q)
{
    memset(buf, 0, 1600);
    memcpy(buf, q->dst_mac ? q->dst_mac : BC_MAC, 6);
    memcpy(buf + 6, q->mac, 6);
    wr16(buf + 12, 0x0800);
    uint8_t *ip = buf + 14, *udp = ip + 20, *bp = udp + 8;
    bp[0] = 1;
    bp[1] = 1;
    bp[2] = 6;
    wr32(bp + 4, q->xid);
    wr16(bp + 10, q->flags);
    wr32(bp + 12, q->ciaddr);
    memcpy(bp + 28, q->mac, 6);
    wr32(bp + 236, 0x63825363);
    size_t n = 240;
    if (q->type) {
        bp[n++] = 53;
        bp[n++] = 1;
        bp[n++] = q->type;
    }
    if (q->o) {
        memcpy(bp + n, q->o->b, q->o->n);
        n += q->o->n;
    }
    if (!q->no_end)
        bp[n++] = 255;
    uint32_t dst = q->dst_ip ? q->dst_ip : UINT32_MAX;
    ip[0] = 0x45;
    wr16(ip + 2, (uint16_t)(20 + 8 + n));
    ip[8] = 64;
    ip[9] = 17;
    wr32(ip + 12, q->src_ip);
    wr32(ip + 16, dst);
    wr16(ip + 10, csum(0, ip, 20));
    wr16(udp, 68);
    wr16(udp + 2, 67);
    wr16(udp + 4, (uint16_t)(8 + n));
    uint16_t c = csum(pseudo(q->src_ip, dst, 8 + n), udp, 8 + n);
    wr16(udp + 6, c ? c : 0xffff);
    return 14 + 20 + 8 + n;
}

/* Hand a frame to the server as the switch would, from a heap copy of
 * exactly len bytes (so ASan sees any read past the frame). */
static void deliver(struct fx *f, const uint8_t *frame, size_t len, uint16_t tag)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, frame, len);
    struct net_pkt pkt = { .data = copy, .len = len };
    f->dp->ops->transmit(f->dp, &pkt, tag);
    free(copy);
}

static void send_req(struct fx *f, const struct req *q)
{
    uint8_t buf[1600];
    deliver(f, buf, build(buf, q), 0);
}

/* ---- parsing and checking replies ---- */

struct rep {
    uint8_t eth_dst[6];
    uint32_t ip_dst;
    uint8_t type;
    uint32_t xid, ciaddr, yiaddr;
    uint16_t flags;
    bool has[256];
    uint32_t val[256];        /* 4-byte options */
};

/* Check everything about a reply frame that must hold for any reply, and
 * pull out its fields. */
static void parse_reply(const uint8_t *f, size_t len, struct rep *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(len, 14 + 20 + 8 + 300);
    memcpy(r->eth_dst, f, 6);
    assert_memory_equal(f + 6, SRV_MAC, 6);
    assert_int_equal(rd16(f + 12), 0x0800);
    const uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(rd16(ip + 2), 328);
    assert_int_equal(rd16(ip + 6) & 0x3fff, 0);
    assert_true(ip[8] > 0);
    assert_int_equal(ip[9], 17);
    assert_int_equal(csum(0, ip, 20), 0);
    assert_int_equal(rd32(ip + 12), SRV_IP);
    r->ip_dst = rd32(ip + 16);
    assert_int_equal(rd16(udp), 67);
    assert_int_equal(rd16(udp + 2), 68);
    assert_int_equal(rd16(udp + 4), 308);
    assert_int_not_equal(rd16(udp + 6), 0);
    assert_int_equal(csum(pseudo(SRV_IP, r->ip_dst, 308), udp, 308), 0);
    /* Ethernet broadcast exactly when IP broadcast. */
    if (r->ip_dst == UINT32_MAX)
        assert_memory_equal(r->eth_dst, BC_MAC, 6);
    else
        assert_memory_equal(r->eth_dst, bp + 28, 6);
    assert_int_equal(bp[0], 2);
    assert_int_equal(bp[1], 1);
    assert_int_equal(bp[2], 6);
    assert_int_equal(bp[3], 0);
    r->xid = rd32(bp + 4);
    r->flags = rd16(bp + 10);
    r->ciaddr = rd32(bp + 12);
    r->yiaddr = rd32(bp + 16);
    assert_int_equal(rd32(bp + 20), 0);
    assert_int_equal(rd32(bp + 24), 0);
    assert_int_equal(rd32(bp + 236), 0x63825363);
    size_t i = 240;
    bool end = false;
    while (i < 300) {
        uint8_t code = bp[i];
        if (code == 0) {
            i++;
            continue;
        }
        if (code == 255) {
            end = true;
            break;
        }
        assert_true(i + 2 <= 300);
        uint8_t olen = bp[i + 1];
        assert_true(i + 2 + olen <= 300);
        assert_false(r->has[code]);
        r->has[code] = true;
        if (olen == 4)
            r->val[code] = rd32(bp + i + 2);
        if (code == 53) {
            assert_int_equal(olen, 1);
            r->type = bp[i + 2];
        }
        i += 2 + (size_t)olen;
    }
    assert_true(end);
    assert_true(r->has[53]);
    assert_true(r->has[54]);
    assert_int_equal(r->val[54], SRV_IP);
}

/* Exactly one frame was sent since the last call: parse it. */
static void take_reply(struct fx *f, struct rep *r)
{
    assert_int_equal(f->rec.n, 1);
    parse_reply(f->rec.data[0], f->rec.len[0], r);
    f->rec.n = 0;
}

static void expect_silence(struct fx *f) { assert_int_equal(f->rec.n, 0); }

/* Full option set of an OFFER or ACK with a lease. */
static void check_lease_opts(const struct rep *r, uint32_t lease)
{
    assert_true(r->has[51] && r->has[58] && r->has[59]);
    assert_int_equal(r->val[51], lease);
    assert_int_equal(r->val[58], lease / 2);
    assert_int_equal(r->val[59], (uint32_t)((uint64_t)lease * 7 / 8));
    assert_true(r->has[1] && r->has[3] && r->has[6] && r->has[28]);
    assert_int_equal(r->val[1], NETMASK);
    assert_int_equal(r->val[3], ROUTER);
    assert_int_equal(r->val[6], DNS);
    assert_int_equal(r->val[28], BCAST);
}

/* ---- client conversations ---- */

static uint32_t discover(struct fx *f, const uint8_t *mac, const struct opts *o)
{
    struct req q = { .mac = mac, .type = DISCOVER, .xid = 0x1234, .o = o };
    send_req(f, &q);
    if (!f->rec.n)
        return 0;
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, OFFER);
    assert_int_equal(r.xid, 0x1234);
    return r.yiaddr;
}

/* SELECTING request for ip; returns the reply type. */
static uint8_t select_req(struct fx *f, const uint8_t *mac, uint32_t ip, const struct opts *extra)
{
    struct opts o = { .n = 0 };
    if (extra)
        o = *extra;
    o_ip(&o, 50, ip);
    o_ip(&o, 54, SRV_IP);
    struct req q = { .mac = mac, .type = REQUEST, .xid = 0x5678, .o = &o };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.xid, 0x5678);
    if (r.type == ACK)
        assert_int_equal(r.yiaddr, ip);
    return r.type;
}

static uint32_t bind(struct fx *f, const uint8_t *mac, const struct opts *o)
{
    uint32_t ip = discover(f, mac, o);
    assert_int_not_equal(ip, 0);
    assert_int_equal(select_req(f, mac, ip, o), ACK);
    return ip;
}

static void release(struct fx *f, const uint8_t *mac, uint32_t ip)
{
    struct opts o = { .n = 0 };
    o_ip(&o, 54, SRV_IP);
    struct req q = { .mac = mac, .type = RELEASE, .ciaddr = ip, .src_ip = ip, .dst_ip = SRV_IP, .dst_mac = SRV_MAC,
                     .o = &o };
    send_req(f, &q);
    expect_silence(f);
}

static const struct net_dhcpd_lease *find_lease(struct fx *f, uint32_t ip, struct net_dhcpd_lease *buf, size_t max)
{
    size_t n = net_dhcpd_leases(f->d, buf, max);
    for (size_t i = 0; i < n; i++)
        if (buf[i].ip == ip)
            return &buf[i];
    return NULL;
}

/* ---- tests: the normal conversations ---- */

static void test_handshake(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct opts o = { .n = 0 };
    o_raw(&o, 12, "guest-1", 7);
    uint8_t prl[] = { 1, 3, 6, 15, 28, 51, 58, 59 };
    o_raw(&o, 55, prl, sizeof(prl));

    /* Broadcast flag set: the OFFER is broadcast. */
    struct req q = { .mac = MAC_A, .type = DISCOVER, .xid = 0xdeadbeef, .flags = 0x8000, .o = &o };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, OFFER);
    assert_int_equal(r.xid, 0xdeadbeef);
    assert_int_equal(r.flags, 0x8000);
    assert_int_equal(r.yiaddr, POOL_FIRST);
    assert_int_equal(r.ciaddr, 0);
    assert_int_equal(r.ip_dst, UINT32_MAX);
    check_lease_opts(&r, NET_DHCPD_DEFAULT_LEASE_SECS);

    struct net_dhcpd_lease l[4];
    assert_int_equal(net_dhcpd_leases(f->d, l, 4), 1);
    assert_int_equal(l[0].state, NET_DHCPD_OFFERED);

    /* No broadcast flag, no ciaddr: unicast to yiaddr at chaddr (4.1). */
    o_ip(&o, 50, r.yiaddr);
    o_ip(&o, 54, SRV_IP);
    struct req q2 = { .mac = MAC_A, .type = REQUEST, .xid = 0xdeadbef0, .o = &o };
    send_req(f, &q2);
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.xid, 0xdeadbef0);
    assert_int_equal(r.yiaddr, POOL_FIRST);
    assert_int_equal(r.ip_dst, POOL_FIRST);
    assert_memory_equal(r.eth_dst, MAC_A, 6);
    check_lease_opts(&r, NET_DHCPD_DEFAULT_LEASE_SECS);

    assert_int_equal(net_dhcpd_leases(f->d, l, 4), 1);
    assert_int_equal(l[0].ip, POOL_FIRST);
    assert_int_equal(l[0].state, NET_DHCPD_BOUND);
    assert_memory_equal(l[0].mac, MAC_A, 6);
    assert_string_equal(l[0].hostname, "guest-1");
    assert_int_equal(l[0].secs_left, NET_DHCPD_DEFAULT_LEASE_SECS);
    assert_int_equal(l[0].expires_ns, f->now + NET_DHCPD_DEFAULT_LEASE_SECS * SEC);

    const struct net_dhcpd_stats *st = net_dhcpd_stats(f->d);
    assert_int_equal(st->discover, 1);
    assert_int_equal(st->request, 1);
    assert_int_equal(st->offer, 1);
    assert_int_equal(st->ack, 1);
    assert_int_equal(st->malformed + st->ignored + st->unanswered, 0);
    /* The port counts what it sent into the wire. */
    assert_int_equal(f->dp->stats.rx_frames, 2);
    fx_free(f);
}

static void test_no_router_no_dns(void **state)
{
    (void)state;
    struct net_dhcpd_config c = default_cfg();
    c.router = 0;
    c.dns = 0;
    c.lease_secs = 600;
    struct fx *f = fx_new_cfg(c);
    struct req q = { .mac = MAC_A, .type = DISCOVER, .flags = 0x8000 };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_false(r.has[3]);
    assert_false(r.has[6]);
    assert_true(r.has[1] && r.has[28]);
    assert_int_equal(r.val[51], 600);
    assert_int_equal(r.val[58], 300);
    assert_int_equal(r.val[59], 525);
    fx_free(f);
}

static void test_renewal(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t ip = bind(f, MAC_A, NULL);
    f->now += 1800 * SEC;

    /* RENEWING: unicast to the server, ciaddr set, no 50/54. */
    struct req q = { .mac = MAC_A, .type = REQUEST, .ciaddr = ip, .src_ip = ip, .dst_ip = SRV_IP, .dst_mac = SRV_MAC,
                     .xid = 77 };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.yiaddr, ip);
    assert_int_equal(r.ciaddr, ip);
    assert_int_equal(r.ip_dst, ip);
    assert_memory_equal(r.eth_dst, MAC_A, 6);
    check_lease_opts(&r, NET_DHCPD_DEFAULT_LEASE_SECS);
    struct net_dhcpd_lease l[2];
    assert_int_equal(net_dhcpd_leases(f->d, l, 2), 1);
    assert_int_equal(l[0].expires_ns, f->now + NET_DHCPD_DEFAULT_LEASE_SECS * SEC);

    /* REBINDING: the same, broadcast. Still unicast back to ciaddr. */
    f->now += 3200 * SEC;
    struct req q2 = { .mac = MAC_A, .type = REQUEST, .ciaddr = ip, .src_ip = ip };
    send_req(f, &q2);
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.ip_dst, ip);

    /* Renewing an address that is not the client's: NAK, broadcast. */
    struct req q3 = { .mac = MAC_A, .type = REQUEST, .ciaddr = ip + 1, .src_ip = ip + 1, .dst_ip = SRV_IP,
                      .dst_mac = SRV_MAC };
    send_req(f, &q3);
    take_reply(f, &r);
    assert_int_equal(r.type, NAK);
    assert_int_equal(r.ip_dst, UINT32_MAX);
    assert_int_equal(r.yiaddr, 0);
    assert_int_equal(r.ciaddr, 0);
    assert_false(r.has[51]);
    assert_false(r.has[1]);
    fx_free(f);
}

static void test_two_clients(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t a = bind(f, MAC_A, NULL);
    uint32_t b = bind(f, MAC_B, NULL);
    assert_int_not_equal(a, b);
    /* Same MAC, different client identifiers: different clients. */
    struct opts o1 = { .n = 0 }, o2 = { .n = 0 };
    o_raw(&o1, 61, "\x01" "abcdef", 7);
    o_raw(&o2, 61, "\x01" "abcdeg", 7);
    uint32_t c = bind(f, MAC_C, &o1);
    uint32_t d = bind(f, MAC_C, &o2);
    assert_int_not_equal(c, d);
    assert_int_not_equal(c, a);
    assert_int_not_equal(c, b);
    /* A client keyed by its identifier keeps its address with a new NIC. */
    assert_int_equal(discover(f, MAC_A, &o1), c);
    /* Asking again while bound: the same address. */
    assert_int_equal(discover(f, MAC_A, NULL), a);
    struct net_dhcpd_lease l[8];
    assert_int_equal(net_dhcpd_leases(f->d, l, 8), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(l[i].state, NET_DHCPD_BOUND);
    /* A long identifier (longer than what is stored whole) still tells
     * clients apart by its tail. */
    uint8_t long1[100], long2[100];
    memset(long1, 'x', sizeof(long1));
    memcpy(long2, long1, sizeof(long2));
    long2[99] = 'y';
    struct opts o3 = { .n = 0 }, o4 = { .n = 0 };
    o_raw(&o3, 61, long1, sizeof(long1));
    o_raw(&o4, 61, long2, sizeof(long2));
    uint32_t e = bind(f, MAC_C, &o3);
    uint32_t g = bind(f, MAC_C, &o4);
    assert_int_not_equal(e, g);
    assert_int_equal(discover(f, MAC_B, &o3), e);
    fx_free(f);
}

static void test_requested_address(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct opts o = { .n = 0 };
    o_ip(&o, 50, IP4(192, 168, 56, 200));
    assert_int_equal(discover(f, MAC_A, &o), IP4(192, 168, 56, 200));
    /* Not available (offered to A): B gets the first free one. */
    assert_int_equal(discover(f, MAC_B, &o), POOL_FIRST);
    /* Outside the pool: ignored. */
    struct opts o2 = { .n = 0 };
    o_ip(&o2, 50, IP4(10, 0, 0, 1));
    assert_int_equal(discover(f, MAC_C, &o2), POOL_FIRST + 1);
    fx_free(f);
}

static void test_same_address_after_release(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t a = bind(f, MAC_A, NULL);
    release(f, MAC_A, a);
    struct net_dhcpd_lease l[4];
    const struct net_dhcpd_lease *la = find_lease(f, a, l, 4);
    assert_non_null(la);
    assert_int_equal(la->state, NET_DHCPD_RELEASED);
    assert_int_equal(la->secs_left, 0);
    /* Another client gets a never-used address, not A's old one. */
    uint32_t b = bind(f, MAC_B, NULL);
    assert_int_not_equal(a, b);
    assert_int_equal(bind(f, MAC_A, NULL), a);
    /* A release by someone else, or for the wrong address, is ignored. */
    release(f, MAC_C, a);
    release(f, MAC_A, b);
    assert_int_equal(net_dhcpd_stats(f->d)->unanswered, 2);
    assert_int_equal(find_lease(f, a, l, 4)->state, NET_DHCPD_BOUND);
    assert_int_equal(find_lease(f, b, l, 4)->state, NET_DHCPD_BOUND);
    fx_free(f);
}

static void test_same_address_after_expiry(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t a = bind(f, MAC_A, NULL);
    f->now += (NET_DHCPD_DEFAULT_LEASE_SECS + 1) * SEC;
    struct net_dhcpd_lease l[4];
    assert_int_equal(find_lease(f, a, l, 4)->state, NET_DHCPD_EXPIRED);
    uint32_t b = bind(f, MAC_B, NULL);
    assert_int_not_equal(a, b);
    assert_int_equal(discover(f, MAC_A, NULL), a);
    /* INIT-REBOOT for its expired address: still its own. */
    f->now += (NET_DHCPD_DEFAULT_LEASE_SECS + 1) * SEC;
    struct opts o = { .n = 0 };
    o_ip(&o, 50, a);
    struct req q = { .mac = MAC_A, .type = REQUEST, .o = &o };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.yiaddr, a);
    fx_free(f);
}

static void test_pool_exhaustion(void **state)
{
    (void)state;
    struct fx *f = fx_new_pool(IP4(192, 168, 56, 101), IP4(192, 168, 56, 102));
    uint32_t a = discover(f, MAC_A, NULL);
    uint32_t b = discover(f, MAC_B, NULL);
    assert_int_not_equal(a, 0);
    assert_int_not_equal(b, 0);
    assert_int_not_equal(a, b);
    assert_int_equal(discover(f, MAC_C, NULL), 0);
    expect_silence(f);
    assert_int_equal(net_dhcpd_stats(f->d)->pool_empty, 1);
    /* Asking again does not help, nor does time short of the offer hold. */
    f->now += 30 * SEC;
    assert_int_equal(discover(f, MAC_C, NULL), 0);
    /* B requests its offer; A's offer lapses and goes to C. */
    assert_int_equal(select_req(f, MAC_B, b, NULL), ACK);
    f->now += 31 * SEC;
    assert_int_equal(discover(f, MAC_C, NULL), a);
    /* Now A is out of luck, and B keeps its lease. */
    assert_int_equal(discover(f, MAC_A, NULL), 0);
    assert_int_equal(discover(f, MAC_B, NULL), b);
    assert_int_equal(net_dhcpd_stats(f->d)->pool_empty, 3);
    /* A lease that ran out goes to whoever needs it, the oldest first. */
    assert_int_equal(select_req(f, MAC_C, a, NULL), ACK);
    f->now += (NET_DHCPD_DEFAULT_LEASE_SECS + 1) * SEC;
    uint32_t got = discover(f, MAC_A, NULL);
    assert_int_equal(got, b); /* B's lease ran out first */
    fx_free(f);
}

static void test_reserved_addresses(void **state)
{
    (void)state;
    /* Server and router inside the pool are skipped. */
    struct net_dhcpd_config c = default_cfg();
    c.pool_first = IP4(192, 168, 56, 99);
    c.pool_last = IP4(192, 168, 56, 101);
    c.router = IP4(192, 168, 56, 99);
    struct fx *f = fx_new_cfg(c);
    assert_int_equal(discover(f, MAC_A, NULL), IP4(192, 168, 56, 101));
    assert_int_equal(discover(f, MAC_B, NULL), 0);
    /* Nor can they be taken by asking. */
    struct opts o = { .n = 0 };
    o_ip(&o, 50, SRV_IP);
    struct req q = { .mac = MAC_C, .type = REQUEST, .o = &o };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, NAK);
    fx_free(f);
}

static void test_nak(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t a = bind(f, MAC_A, NULL);
    uint32_t b = bind(f, MAC_B, NULL);
    struct rep r;

    /* INIT-REBOOT for an address that is not the client's. */
    uint32_t wrong[] = { b, IP4(192, 168, 56, 150), IP4(10, 0, 2, 15), SRV_IP, IP4(192, 168, 56, 0) };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        struct opts o = { .n = 0 };
        o_ip(&o, 50, wrong[i]);
        struct req q = { .mac = MAC_A, .type = REQUEST, .o = &o, .xid = (uint32_t)i };
        send_req(f, &q);
        take_reply(f, &r);
        assert_int_equal(r.type, NAK);
        assert_int_equal(r.xid, i);
        assert_int_equal(r.yiaddr, 0);
        assert_int_equal(r.ip_dst, UINT32_MAX);
        assert_false(r.has[51] || r.has[1] || r.has[3]);
    }
    /* SELECTING with our server id but another address than offered. */
    assert_int_equal(select_req(f, MAC_B, a, NULL), NAK);
    assert_int_equal(net_dhcpd_stats(f->d)->nak, 6);
    /* Neither lease moved. */
    struct net_dhcpd_lease l[4];
    assert_memory_equal(find_lease(f, a, l, 4)->mac, MAC_A, 6);
    assert_memory_equal(find_lease(f, b, l, 4)->mac, MAC_B, 6);

    /* Unknown client, address never given out: bound (authoritative), so
     * clients keep their addresses across a server restart. */
    struct opts o = { .n = 0 };
    o_ip(&o, 50, IP4(192, 168, 56, 180));
    struct req q = { .mac = MAC_C, .type = REQUEST, .o = &o };
    send_req(f, &q);
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.yiaddr, IP4(192, 168, 56, 180));
    fx_free(f);
}

static void test_other_server_chosen(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t a = discover(f, MAC_A, NULL);
    struct opts o = { .n = 0 };
    o_ip(&o, 50, IP4(192, 168, 56, 7));
    o_ip(&o, 54, IP4(192, 168, 56, 2));
    struct req q = { .mac = MAC_A, .type = REQUEST, .o = &o };
    send_req(f, &q);
    expect_silence(f);
    struct net_dhcpd_lease l[2];
    assert_int_equal(find_lease(f, a, l, 2)->state, NET_DHCPD_RELEASED);
    /* Selecting without a requested address is broken. */
    struct opts o2 = { .n = 0 };
    o_ip(&o2, 54, SRV_IP);
    struct req q2 = { .mac = MAC_A, .type = REQUEST, .o = &o2 };
    send_req(f, &q2);
    expect_silence(f);
    /* Nor is a REQUEST with no address anywhere. */
    struct req q3 = { .mac = MAC_A, .type = REQUEST };
    send_req(f, &q3);
    expect_silence(f);
    assert_int_equal(net_dhcpd_stats(f->d)->malformed, 2);
    fx_free(f);
}

static void test_decline(void **state)
{
    (void)state;
    struct fx *f = fx_new_pool(IP4(192, 168, 56, 101), IP4(192, 168, 56, 103));
    uint32_t a = bind(f, MAC_A, NULL);
    struct opts o = { .n = 0 };
    o_ip(&o, 50, a);
    o_ip(&o, 54, SRV_IP);

    /* Someone else declining A's address is not believed. */
    struct req qb = { .mac = MAC_B, .type = DECLINE, .o = &o };
    send_req(f, &qb);
    expect_silence(f);
    struct net_dhcpd_lease l[4];
    assert_int_equal(find_lease(f, a, l, 4)->state, NET_DHCPD_BOUND);

    struct req q = { .mac = MAC_A, .type = DECLINE, .o = &o };
    send_req(f, &q);
    expect_silence(f);
    assert_int_equal(net_dhcpd_stats(f->d)->decline, 2);
    assert_int_equal(find_lease(f, a, l, 4)->state, NET_DHCPD_DECLINED);
    /* A gets another address; the declined one is kept out. */
    uint32_t a2 = bind(f, MAC_A, NULL);
    assert_int_not_equal(a2, a);
    uint32_t b = bind(f, MAC_B, NULL);
    assert_int_not_equal(b, a);
    assert_int_equal(discover(f, MAC_C, NULL), 0);
    /* ... for a while. */
    f->now += 601 * SEC;
    assert_int_equal(discover(f, MAC_C, NULL), a);
    /* A DECLINE without server id or address is broken. */
    struct opts o2 = { .n = 0 };
    o_ip(&o2, 50, a2);
    struct req q2 = { .mac = MAC_A, .type = DECLINE, .o = &o2 };
    send_req(f, &q2);
    expect_silence(f);
    assert_int_equal(net_dhcpd_stats(f->d)->malformed, 1);
    fx_free(f);
}

static void test_inform(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t mine = IP4(192, 168, 56, 20);
    struct req q = { .mac = MAC_A, .type = INFORM, .ciaddr = mine, .src_ip = mine, .xid = 9 };
    send_req(f, &q);
    struct rep r;
    take_reply(f, &r);
    assert_int_equal(r.type, ACK);
    assert_int_equal(r.xid, 9);
    assert_int_equal(r.yiaddr, 0);
    assert_int_equal(r.ciaddr, mine);
    assert_int_equal(r.ip_dst, mine);
    assert_memory_equal(r.eth_dst, MAC_A, 6);
    assert_false(r.has[51] || r.has[58] || r.has[59]);
    assert_true(r.has[1] && r.has[3] && r.has[6] && r.has[28]);
    assert_int_equal(r.val[6], DNS);
    struct net_dhcpd_lease l[2];
    assert_int_equal(net_dhcpd_leases(f->d, l, 2), 0);
    assert_int_equal(net_dhcpd_stats(f->d)->inform, 1);
    /* A ciaddr that is no host of the subnet is not unicast to. */
    uint32_t odd[] = { IP4(10, 0, 0, 5), UINT32_MAX, BCAST, IP4(224, 0, 0, 1) };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        struct req q2 = { .mac = MAC_A, .type = INFORM, .ciaddr = odd[i], .src_ip = odd[i] };
        send_req(f, &q2);
        take_reply(f, &r);
        assert_int_equal(r.type, ACK);
        assert_int_equal(r.ip_dst, UINT32_MAX);
    }
    fx_free(f);
}

static void test_hostname_sanitized(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct opts o = { .n = 0 };
    o_raw(&o, 12, "\x1b[31mevil\x7f\n\0tail", 16);
    uint32_t a = bind(f, MAC_A, &o);
    struct net_dhcpd_lease l[2];
    assert_string_equal(find_lease(f, a, l, 2)->hostname, "?[31mevil??");
    /* A long name is cut to fit. */
    uint8_t longname[255];
    memset(longname, 'h', sizeof(longname));
    struct opts o2 = { .n = 0 };
    o_raw(&o2, 12, longname, sizeof(longname));
    uint32_t b = bind(f, MAC_B, &o2);
    const struct net_dhcpd_lease *lb = find_lease(f, b, l, 2);
    assert_int_equal(strlen(lb->hostname), sizeof(lb->hostname) - 1);
    fx_free(f);
}

static void test_leases_bounded(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    bind(f, MAC_A, NULL);
    bind(f, MAC_B, NULL);
    bind(f, MAC_C, NULL);
    struct net_dhcpd_lease l[3];
    assert_int_equal(net_dhcpd_leases(f->d, l, 2), 2);
    assert_int_equal(l[0].ip, POOL_FIRST);
    assert_int_equal(l[1].ip, POOL_FIRST + 1);
    assert_int_equal(net_dhcpd_leases(f->d, l, 0), 0);
    fx_free(f);
}

/* ---- ARP ---- */

static size_t arp_frame(uint8_t *buf, uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa, const uint8_t *dst)
{
    memset(buf, 0, 60);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, sha, 6);
    wr16(buf + 12, 0x0806);
    uint8_t *a = buf + 14;
    wr16(a, 1);
    wr16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    wr16(a + 6, op);
    memcpy(a + 8, sha, 6);
    wr32(a + 14, spa);
    wr32(a + 24, tpa);
    return 42;
}

static void test_arp(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint8_t buf[60];
    uint32_t me = IP4(192, 168, 56, 101);
    deliver(f, buf, arp_frame(buf, 1, MAC_A, me, SRV_IP, BC_MAC), 0);
    assert_int_equal(f->rec.n, 1);
    const uint8_t *r = f->rec.data[0];
    assert_true(f->rec.len[0] >= 42);
    assert_memory_equal(r, MAC_A, 6);
    assert_memory_equal(r + 6, SRV_MAC, 6);
    assert_int_equal(rd16(r + 12), 0x0806);
    assert_int_equal(rd16(r + 14), 1);
    assert_int_equal(rd16(r + 16), 0x0800);
    assert_int_equal(r[18], 6);
    assert_int_equal(r[19], 4);
    assert_int_equal(rd16(r + 20), 2);
    assert_memory_equal(r + 22, SRV_MAC, 6);
    assert_int_equal(rd32(r + 28), SRV_IP);
    assert_memory_equal(r + 32, MAC_A, 6);
    assert_int_equal(rd32(r + 38), me);
    f->rec.n = 0;
    /* Unicast refresh: answered too. */
    deliver(f, buf, arp_frame(buf, 1, MAC_A, me, SRV_IP, SRV_MAC), 0);
    assert_int_equal(f->rec.n, 1);
    f->rec.n = 0;

    /* Everything else: silence. */
    deliver(f, buf, arp_frame(buf, 1, MAC_A, me, IP4(192, 168, 56, 1), BC_MAC), 0);
    deliver(f, buf, arp_frame(buf, 2, MAC_A, me, SRV_IP, SRV_MAC), 0);
    deliver(f, buf, arp_frame(buf, 1, MAC_A, me, SRV_IP, MAC_B), 0);
    deliver(f, buf, arp_frame(buf, 1, BC_MAC, me, SRV_IP, BC_MAC), 0);
    arp_frame(buf, 1, MAC_A, me, SRV_IP, BC_MAC);
    buf[18] = 8; /* hlen */
    deliver(f, buf, 42, 0);
    arp_frame(buf, 1, MAC_A, me, SRV_IP, BC_MAC);
    for (size_t len = 0; len < 42; len++)
        deliver(f, buf, len, 0);
    expect_silence(f);
    assert_int_equal(net_dhcpd_stats(f->d)->arp_reply, 2);
    fx_free(f);
}

/* ---- hostile frames ---- */

static void expect_dropped(struct fx *f, const struct req *q, void (*mangle)(uint8_t *buf, size_t *len))
{
    uint8_t buf[1600];
    size_t len = build(buf, q);
    if (mangle)
        mangle(buf, &len);
    uint64_t before = net_dhcpd_stats(f->d)->malformed + net_dhcpd_stats(f->d)->unanswered +
                      net_dhcpd_stats(f->d)->ignored;
    deliver(f, buf, len, 0);
    expect_silence(f);
    uint64_t after = net_dhcpd_stats(f->d)->malformed + net_dhcpd_stats(f->d)->unanswered +
                     net_dhcpd_stats(f->d)->ignored;
    assert_int_equal(after, before + 1);
}

static void test_truncated(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct opts o = { .n = 0 };
    o_raw(&o, 12, "host", 4);
    o_raw(&o, 61, "\x01\x52\x54\x00\x00\x00\x0a", 7);
    o_ip(&o, 50, POOL_FIRST + 5);
    struct req q = { .mac = MAC_A, .type = DISCOVER, .o = &o };
    uint8_t buf[1600];
    size_t full = build(buf, &q);
    for (size_t len = 0; len < full; len++) {
        deliver(f, buf, len, 0);
        expect_silence(f);
    }
    /* The IP header counts (and the checksums cover) the whole datagram,
     * so a frame cut short is never read as a shorter message... */
    assert_int_equal(net_dhcpd_stats(f->d)->discover, 0);
    /* ... while a frame with Ethernet padding after it is fine. */
    memset(buf + full, 0xee, 20);
    deliver(f, buf, full + 20, 0);
    assert_int_equal(f->rec.n, 1);
    fx_free(f);
}

/* Rewrite the lengths and checksums of a built frame whose BOOTP part was
 * changed to n bytes, so the change reaches the DHCP parser. */
static void refit(uint8_t *buf, size_t *len, size_t n)
{
    uint8_t *ip = buf + 14, *udp = ip + 20;
    wr16(ip + 2, (uint16_t)(28 + n));
    wr16(ip + 10, 0);
    wr16(ip + 10, csum(0, ip, 20));
    wr16(udp + 4, (uint16_t)(8 + n));
    wr16(udp + 6, 0);
    uint16_t c = csum(pseudo(rd32(ip + 12), rd32(ip + 16), 8 + n), udp, 8 + n);
    wr16(udp + 6, c ? c : 0xffff);
    *len = 42 + n;
}

/* Redo the IP header checksum after changing the header, so that what is
 * tested is the change and not the checksum. */
static void ipfix(uint8_t *b)
{
    wr16(b + 24, 0);
    wr16(b + 24, csum(0, b + 14, 20));
}

static void m_ip_csum(uint8_t *b, size_t *len) { (void)len; b[14 + 10] ^= 1; }
static void m_udp_csum(uint8_t *b, size_t *len) { (void)len; b[34 + 6] ^= 1; }
static void m_ihl_small(uint8_t *b, size_t *len) { (void)len; b[14] = 0x44; }
static void m_ihl_big(uint8_t *b, size_t *len) { (void)len; b[14] = 0x4f; }
static void m_ip_v6(uint8_t *b, size_t *len) { (void)len; b[14] = 0x65; }
static void m_ip_totlen(uint8_t *b, size_t *len) { wr16(b + 16, (uint16_t)(*len - 14 + 1)); }
static void m_ip_totlen_small(uint8_t *b, size_t *len)
{
    (void)len;
    wr16(b + 16, 27);
    ipfix(b);
}
static void m_udp_len_big(uint8_t *b, size_t *len) { wr16(b + 38, (uint16_t)(*len - 34 + 1)); }
static void m_udp_len_small(uint8_t *b, size_t *len) { (void)len; wr16(b + 38, 7); }
static void m_fragment(uint8_t *b, size_t *len)
{
    (void)len;
    b[20] |= 0x20;
    ipfix(b);
}
static void m_later_fragment(uint8_t *b, size_t *len)
{
    (void)len;
    b[21] = 1;
    ipfix(b);
}
static void m_proto(uint8_t *b, size_t *len)
{
    (void)len;
    b[23] = 6;
    ipfix(b);
}
static void m_port(uint8_t *b, size_t *len) { (void)len; wr16(b + 36, 69); }
static void m_ethertype(uint8_t *b, size_t *len) { (void)len; wr16(b + 12, 0x86dd); }
static void m_eth_dst(uint8_t *b, size_t *len) { (void)len; memcpy(b, MAC_B, 6); }
static void m_ip_dst(uint8_t *b, size_t *len) { (void)len; wr32(b + 30, IP4(192, 168, 56, 7)); }
static void m_eth_src_ours(uint8_t *b, size_t *len) { (void)len; memcpy(b + 6, SRV_MAC, 6); }

/* The BOOTP part: at buf + 42. Each changes it and refits. */
static void m_op(uint8_t *b, size_t *len) { b[42] = 2; refit(b, len, *len - 42); }
static void m_htype(uint8_t *b, size_t *len) { b[43] = 6; refit(b, len, *len - 42); }
static void m_hlen(uint8_t *b, size_t *len) { b[44] = 255; refit(b, len, *len - 42); }
static void m_hlen0(uint8_t *b, size_t *len) { b[44] = 0; refit(b, len, *len - 42); }
static void m_cookie(uint8_t *b, size_t *len) { b[42 + 236] ^= 0x80; refit(b, len, *len - 42); }
static void m_giaddr(uint8_t *b, size_t *len) { wr32(b + 42 + 24, IP4(10, 1, 1, 1)); refit(b, len, *len - 42); }
static void m_chaddr_mc(uint8_t *b, size_t *len) { b[42 + 28] |= 1; refit(b, len, *len - 42); }
static void m_chaddr_zero(uint8_t *b, size_t *len) { memset(b + 42 + 28, 0, 6); refit(b, len, *len - 42); }
static void m_short_bootp(uint8_t *b, size_t *len) { (void)len; refit(b, len, 239); }
static void m_cookie_only(uint8_t *b, size_t *len) { (void)len; refit(b, len, 240); }

static void test_hostile_headers(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct req q = { .mac = MAC_A, .type = DISCOVER };
    void (*m[])(uint8_t *, size_t *) = {
        m_ip_csum, m_udp_csum, m_ihl_small, m_ihl_big, m_ip_v6, m_ip_totlen, m_ip_totlen_small, m_udp_len_big,
        m_udp_len_small, m_fragment, m_later_fragment, m_proto, m_port, m_ethertype, m_eth_dst, m_ip_dst,
        m_eth_src_ours, m_op, m_htype, m_hlen, m_hlen0, m_cookie, m_giaddr, m_chaddr_mc, m_chaddr_zero,
        m_short_bootp, m_cookie_only,
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        expect_dropped(f, &q, m[i]);
    /* A tagged delivery (a trunk) is not served. */
    uint8_t buf[1600];
    deliver(f, buf, build(buf, &q), 5);
    expect_silence(f);
    /* Each of those was counted, nothing was served, and the frame they
     * were made from is fine. */
    assert_int_equal(net_dhcpd_stats(f->d)->discover, 0);
    deliver(f, buf, build(buf, &q), 0);
    assert_int_equal(f->rec.n, 1);
    /* UDP checksum 0 means "none": accepted. */
    f->rec.n = 0;
    size_t len = build(buf, &q);
    wr16(buf + 40, 0);
    deliver(f, buf, len, 0);
    assert_int_equal(f->rec.n, 1);
    fx_free(f);
}

static void test_hostile_options(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct {
        uint8_t type;
        uint8_t opts[16];
        size_t n;
        bool no_end;
    } cases[] = {
        { DISCOVER, { 53, 2, 1, 1 }, 4, false },       /* second 53, bad length */
        { DISCOVER, { 53, 1, 1 }, 3, false },          /* 53 twice */
        { DISCOVER, { 50, 3, 1, 2, 3 }, 5, false },    /* 50 too short */
        { DISCOVER, { 50, 5, 1, 2, 3, 4, 5 }, 7, false },
        { DISCOVER, { 54, 0 }, 2, false },
        { DISCOVER, { 61, 1, 1 }, 3, false },          /* client id < 2 */
        { DISCOVER, { 61, 0 }, 2, false },
        { DISCOVER, { 12, 200, 'a' }, 3, true },       /* runs off the end */
        { DISCOVER, { 12, 2, 'a' }, 3, true },         /* one byte short */
        { DISCOVER, { 77 }, 1, true },                 /* no length byte */
        { DISCOVER, { 0, 0, 99 }, 3, true },           /* pad, then no length */
        { 0, { 12, 1, 'a' }, 3, false },               /* no 53: BOOTP */
        { OFFER, { 0 }, 0, false },                    /* a server's message */
        { ACK, { 0 }, 0, false },
        { NAK, { 0 }, 0, false },
        { 9, { 0 }, 0, false },
        { 0xff, { 0 }, 0, false },
        { RELEASE, { 0 }, 0, false },                  /* no server id */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct opts o = { .n = cases[i].n };
        memcpy(o.b, cases[i].opts, cases[i].n);
        struct req q = { .mac = MAC_A, .type = cases[i].type, .o = &o, .no_end = cases[i].no_end };
        expect_dropped(f, &q, NULL);
    }
    /* Option 53 itself cut off at the end of the packet. */
    struct req q0 = { .mac = MAC_A, .no_end = true };
    uint8_t buf[1600];
    size_t len = build(buf, &q0);
    buf[len++] = 53;
    buf[len++] = 1;
    refit(buf, &len, len - 42);
    deliver(f, buf, len, 0);
    expect_silence(f);
    /* Options after the end option are not read; no end option at all is
     * tolerated; overload (52) is ignored. */
    struct opts ok = { .n = 0 };
    o_raw(&ok, 52, "\x03", 1);
    struct req q1 = { .mac = MAC_A, .type = DISCOVER, .o = &ok, .no_end = true };
    send_req(f, &q1);
    assert_int_equal(f->rec.n, 1);
    f->rec.n = 0;
    struct opts after_end = { .n = 0 };
    after_end.b[after_end.n++] = 255;
    after_end.b[after_end.n++] = 53;
    after_end.b[after_end.n++] = 200;
    struct req q2 = { .mac = MAC_A, .type = DISCOVER, .o = &after_end, .no_end = true };
    send_req(f, &q2);
    assert_int_equal(f->rec.n, 1);
    f->rec.n = 0;
    assert_int_equal(net_dhcpd_stats(f->d)->discover, 2);
    fx_free(f);
}

/* ---- re-entrancy and a real switch ---- */

static const uint8_t *nested_mac;

/* On the first reply, another client's DISCOVER arrives (nested inside
 * the server's transmit), and the reply itself is looped back. */
static void nested_hook(struct fx *f, const uint8_t *frame, size_t len)
{
    if (f->rec.n == 1) {
        struct req q = { .mac = nested_mac, .type = DISCOVER, .xid = 2 };
        send_req(f, &q);
        deliver(f, frame, len, 0);
    }
}

static void test_reentrant(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->rec.hook = nested_hook;
    nested_mac = MAC_B;
    struct req q = { .mac = MAC_A, .type = DISCOVER, .xid = 1 };
    send_req(f, &q);
    assert_int_equal(f->rec.n, 2);
    struct rep r1, r2;
    parse_reply(f->rec.data[0], f->rec.len[0], &r1);
    parse_reply(f->rec.data[1], f->rec.len[1], &r2);
    assert_int_equal(r1.xid, 1);
    assert_int_equal(r2.xid, 2);
    assert_int_not_equal(r1.yiaddr, r2.yiaddr);
    /* The looped-back OFFER (from our own MAC) was ignored. */
    assert_int_equal(net_dhcpd_stats(f->d)->ignored, 1);
    f->rec.n = 0;
    f->rec.hook = NULL;
    struct net_dhcpd_lease l[4];
    assert_int_equal(net_dhcpd_leases(f->d, l, 4), 2);
    fx_free(f);
}

struct client {
    struct net_port port;
    unsigned n;
    size_t len;
    uint8_t last[1600];
};

static void client_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    (void)tag_vid;
    struct client *c = (struct client *)p;
    c->n++;
    c->len = pkt->len;
    memcpy(c->last, pkt->data, pkt->len < sizeof(c->last) ? pkt->len : sizeof(c->last));
}

static const struct net_port_ops client_ops = { .transmit = client_transmit };

static void test_on_switch(void **state)
{
    (void)state;
    struct net_switch_config sc = { .name = "hostonly" };
    struct net_switch *sw = net_switch_new(&sc);
    assert_non_null(sw);
    struct net_dhcpd_config c = default_cfg();
    char err[200];
    struct net_dhcpd *d = net_dhcpd_new(&c, err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(net_switch_attach(sw, net_dhcpd_port(d)), 0);
    struct client a = { .n = 0 }, b = { .n = 0 };
    net_port_init(&a.port, &client_ops, "a", false);
    net_port_init(&b.port, &client_ops, "b", false);
    assert_int_equal(net_switch_attach(sw, &a.port), 0);
    assert_int_equal(net_switch_attach(sw, &b.port), 0);

    uint8_t buf[1600];
    struct req q = { .mac = MAC_A, .type = DISCOVER, .xid = 5 };
    struct net_pkt pkt = { .data = buf, .len = build(buf, &q) };
    net_port_input(&a.port, &pkt);
    /* B sees A's broadcast DISCOVER only; the OFFER is unicast to A. */
    assert_int_equal(b.n, 1);
    assert_int_equal(a.n, 1);
    struct rep r;
    parse_reply(a.last, a.len, &r);
    assert_int_equal(r.type, OFFER);

    /* A resolves the server and renews by unicast. */
    pkt.len = arp_frame(buf, 1, MAC_A, r.yiaddr, SRV_IP, BC_MAC);
    net_port_input(&a.port, &pkt);
    assert_int_equal(a.n, 2);
    assert_memory_equal(a.last + 22, SRV_MAC, 6);
    struct req q2 = { .mac = MAC_A, .type = REQUEST, .ciaddr = r.yiaddr, .src_ip = r.yiaddr, .dst_ip = SRV_IP,
                      .dst_mac = SRV_MAC };
    pkt.len = build(buf, &q2);
    net_port_input(&a.port, &pkt);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 2); /* only the ARP request */
    parse_reply(a.last, a.len, &r);
    assert_int_equal(r.type, ACK);

    net_port_free(net_dhcpd_port(d));
    net_switch_free(sw);
}

/* ---- configuration ---- */

static void expect_bad_cfg(struct net_dhcpd_config c, const char *what)
{
    char err[200] = "";
    assert_null(net_dhcpd_new(&c, err, sizeof(err)));
    if (!strstr(err, what))
        fail_msg("error \"%s\" does not mention \"%s\"", err, what);
}

static void test_config(void **state)
{
    (void)state;
    struct net_dhcpd_config c;
    c = default_cfg(), c.netmask = IP4(255, 0, 255, 0), expect_bad_cfg(c, "netmask");
    c = default_cfg(), c.netmask = 0, expect_bad_cfg(c, "netmask");
    c = default_cfg(), c.netmask = IP4(255, 255, 255, 254), expect_bad_cfg(c, "netmask");
    c = default_cfg(), c.server_ip = IP4(192, 168, 56, 255), expect_bad_cfg(c, "server");
    c = default_cfg(), c.router = IP4(10, 0, 0, 1), expect_bad_cfg(c, "router");
    c = default_cfg(), c.pool_first = IP4(192, 168, 57, 1), expect_bad_cfg(c, "pool");
    c = default_cfg(), c.pool_last = IP4(192, 168, 56, 255), expect_bad_cfg(c, "pool");
    c = default_cfg(), c.pool_first = IP4(192, 168, 56, 0), expect_bad_cfg(c, "pool");
    c = default_cfg(), c.pool_first = POOL_LAST, c.pool_last = POOL_FIRST, expect_bad_cfg(c, "pool");
    c = default_cfg(), c.netmask = IP4(255, 0, 0, 0), c.pool_first = IP4(192, 0, 0, 1),
    c.pool_last = IP4(192, 1, 0, 1), expect_bad_cfg(c, "more than");
    c = default_cfg(), c.pool_first = c.pool_last = SRV_IP, expect_bad_cfg(c, "pool");
    c = default_cfg(), c.server_mac[0] = 1, expect_bad_cfg(c, "MAC");
    c = default_cfg(), memset(c.server_mac, 0, 6), expect_bad_cfg(c, "MAC");
    c = default_cfg(), c.lease_secs = UINT32_MAX, expect_bad_cfg(c, "lease");
    /* NULL err is fine. */
    c = default_cfg(), c.netmask = 1;
    assert_null(net_dhcpd_new(&c, NULL, 0));

    /* The largest pool, and a /30. */
    c = default_cfg();
    c.netmask = IP4(255, 0, 0, 0);
    c.server_ip = IP4(10, 0, 0, 1);
    c.router = 0;
    c.pool_first = IP4(10, 1, 0, 0);
    c.pool_last = IP4(10, 1, 255, 255);
    c.name = "big";
    struct net_dhcpd *d = net_dhcpd_new(&c, NULL, 0);
    assert_non_null(d);
    assert_string_equal(net_dhcpd_port(d)->name, "big");
    net_port_free(net_dhcpd_port(d));
    c = default_cfg();
    c.netmask = IP4(255, 255, 255, 252);
    c.server_ip = IP4(10, 0, 0, 1);
    c.router = 0;
    c.pool_first = c.pool_last = IP4(10, 0, 0, 2);
    d = net_dhcpd_new(&c, NULL, 0);
    assert_non_null(d);
    assert_string_equal(net_dhcpd_port(d)->name, "dhcp");
    net_port_free(net_dhcpd_port(d));
}

/* ---- randomized hostile traffic ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static uint32_t rnd_below(uint32_t n) { return rnd() % n; }

#define FUZZ_POOL_FIRST IP4(192, 168, 56, 101)
#define FUZZ_POOL_LAST IP4(192, 168, 56, 108)
#define FUZZ_ITERS 300000

/* The address each fuzz client was last offered or given, so that its
 * REQUESTs, RELEASEs and DECLINEs often name the right one. */
static uint32_t fuzz_known[12];

static uint32_t fuzz_ip(unsigned client)
{
    switch (rnd_below(6)) {
    case 4:
    case 5:
        return fuzz_known[client];
    case 0:
        return FUZZ_POOL_FIRST + rnd_below(10) - 1;
    case 1:
        return SRV_IP;
    case 2:
        return 0;
    default:
        return rnd();
    }
}

/* A plausible message from one of a few clients, then damaged. */
static size_t fuzz_frame(uint8_t *buf)
{
    static const uint8_t types[] = { DISCOVER, DISCOVER, REQUEST, REQUEST, REQUEST, DECLINE, RELEASE, INFORM };
    unsigned client = rnd_below(12);
    uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, (uint8_t)client };
    struct opts o = { .n = 0 };
    unsigned nopt = rnd_below(5);
    for (unsigned i = 0; i < nopt; i++) {
        switch (rnd_below(6)) {
        case 0:
            o_ip(&o, 50, fuzz_ip(client));
            break;
        case 1:
            o_ip(&o, 54, rnd_below(4) ? SRV_IP : fuzz_ip(client));
            break;
        case 2: {
            uint8_t id[64];
            size_t n = 2 + rnd_below(rnd_below(2) ? 6 : 60);
            for (size_t j = 0; j < n; j++)
                id[j] = (uint8_t)rnd_below(3);
            o_raw(&o, 61, id, n);
            break;
        }
        case 3: {
            uint8_t name[80];
            size_t n = rnd_below(sizeof(name));
            for (size_t j = 0; j < n; j++)
                name[j] = (uint8_t)rnd();
            o_raw(&o, 12, name, n);
            break;
        }
        case 4: {
            uint8_t prl[] = { 1, 3, 6, 15, 28 };
            o_raw(&o, 55, prl, sizeof(prl));
            break;
        }
        default:
            o.b[o.n++] = 0;
            break;
        }
    }
    uint32_t ci = rnd_below(2) ? fuzz_ip(client) : 0;
    bool uni = rnd_below(4) == 0;
    struct req q = { .mac = mac, .type = types[rnd_below(sizeof(types))], .ciaddr = ci, .src_ip = ci,
                     .dst_ip = uni ? SRV_IP : 0, .dst_mac = uni ? SRV_MAC : NULL,
                     .flags = rnd_below(2) ? 0x8000 : 0, .xid = rnd(), .o = &o, .no_end = rnd_below(8) == 0 };
    size_t len = build(buf, &q);

    /* Damage: flip bytes (mostly in the DHCP part), cut or extend. */
    unsigned flips = rnd_below(5);
    for (unsigned i = 0; i < flips; i++) {
        size_t at = rnd_below(4) ? 42 + 236 + rnd_below((uint32_t)(len - 42 - 236)) : rnd_below((uint32_t)len);
        buf[at] = (uint8_t)(rnd_below(3) ? rnd() : (rnd_below(2) ? 0xff : 0));
    }
    switch (rnd_below(8)) {
    case 0:
        len = rnd_below((uint32_t)len + 1);
        break;
    case 1: {
        size_t more = rnd_below(300);
        for (size_t i = 0; i < more; i++)
            buf[len + i] = (uint8_t)rnd();
        len += more;
        if (rnd_below(2) && len >= 42)
            refit(buf, &len, len - 42); /* the garbage is options now */
        break;
    }
    default:
        break;
    }
    /* Mostly keep the checksums right, so the damage reaches the parser. */
    if (len >= 42 && rnd_below(8)) {
        uint8_t *ip = buf + 14, *udp = ip + 20;
        size_t ulen = rd16(udp + 4);
        if ((ip[0] & 15) == 5) {
            wr16(ip + 10, 0);
            wr16(ip + 10, csum(0, ip, 20));
        }
        if (ulen >= 8 && 34 + ulen <= len) {
            wr16(udp + 6, 0);
            uint16_t c = csum(pseudo(rd32(ip + 12), rd32(ip + 16), ulen), udp, ulen);
            wr16(udp + 6, c ? c : 0xffff);
        }
    }
    return len;
}

static void test_fuzz(void **state)
{
    (void)state;
    struct fx *f = fx_new_pool(FUZZ_POOL_FIRST, FUZZ_POOL_LAST);
    uint8_t buf[2048];
    uint64_t replies = 0;
    for (unsigned it = 0; it < FUZZ_ITERS; it++) {
        size_t len = fuzz_frame(buf);
        deliver(f, buf, len, 0);
        assert_true(f->rec.n <= 1);
        if (f->rec.n) {
            struct rep r;
            parse_reply(f->rec.data[0], f->rec.len[0], &r);
            assert_true(r.type == OFFER || r.type == ACK || r.type == NAK);
            if (r.yiaddr) {
                assert_true(r.yiaddr >= FUZZ_POOL_FIRST && r.yiaddr <= FUZZ_POOL_LAST);
                const uint8_t *chaddr = f->rec.data[0] + 42 + 28;
                if (chaddr[5] < 12)
                    fuzz_known[chaddr[5]] = r.yiaddr;
            }
            replies++;
            f->rec.n = 0;
        }
        if (rnd_below(64) == 0)
            f->now += rnd_below(4000) * SEC;
        if (it % 4096 == 0) {
            struct net_dhcpd_lease l[16];
            size_t n = net_dhcpd_leases(f->d, l, 16);
            assert_true(n <= 8);
            for (size_t i = 0; i < n; i++) {
                assert_true(l[i].ip >= FUZZ_POOL_FIRST && l[i].ip <= FUZZ_POOL_LAST);
                assert_true(i == 0 || l[i].ip > l[i - 1].ip);
                assert_true(strlen(l[i].hostname) < sizeof(l[i].hostname));
                for (const char *p = l[i].hostname; *p; p++)
                    assert_true(*p >= 0x20 && *p < 0x7f);
            }
        }
    }
    /* The run did reach the server's every corner, not just its door. */
    const struct net_dhcpd_stats *st = net_dhcpd_stats(f->d);
    assert_true(replies > 10000);
    assert_true(st->offer > 1000 && st->ack - st->inform > 1000 && st->nak > 1000);
    assert_true(st->malformed > 1000 && st->pool_empty > 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_no_router_no_dns),
        cmocka_unit_test(test_renewal),
        cmocka_unit_test(test_two_clients),
        cmocka_unit_test(test_requested_address),
        cmocka_unit_test(test_same_address_after_release),
        cmocka_unit_test(test_same_address_after_expiry),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_reserved_addresses),
        cmocka_unit_test(test_nak),
        cmocka_unit_test(test_other_server_chosen),
        cmocka_unit_test(test_decline),
        cmocka_unit_test(test_inform),
        cmocka_unit_test(test_hostname_sanitized),
        cmocka_unit_test(test_leases_bounded),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_hostile_options),
        cmocka_unit_test(test_reentrant),
        cmocka_unit_test(test_on_switch),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

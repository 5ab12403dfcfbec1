/* Software offload finishing (net/offload.c): checksums left to the
 * receiver, TCP and UDP segmentation, and the guest lying in the metadata
 * or the headers. Frames are built by hand here and every emitted frame is
 * checked with a plain byte-by-byte checksum written independently of the
 * code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_rng.h"
#include "net/offload.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* ---- reference checksum: one big-endian word at a time ---- */

static uint64_t ref_sum(uint64_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    return s;
}

static uint16_t ref_fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
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


/* ---- building frames ---- */

struct spec {
    bool v6, udp, tag;
    size_t ipopt;  /* IPv4 option bytes, multiple of 4, <= 40 */
    bool hbh;      /* IPv6 hop-by-hop header (8 bytes) */
    size_t dstopt; /* IPv6 destination options header bytes, multiple of 8 */
    size_t tcpopt; /* multiple of 4, <= 40 */
    size_t plen;
    uint8_t flags;
    uint32_t seq;
    uint16_t id;
};

struct built {
    size_t len, l3, l4, l4hl, hlen; /* hlen: everything before the payload */
};

static uint8_t payload_byte(size_t i) { return (uint8_t)(i * 131 + (i >> 8) * 7 + 3); }

static uint64_t pseudo(const uint8_t *f, size_t l3, bool v6, uint8_t proto, size_t l4len)
{
    uint64_t s = v6 ? ref_sum(0, f + l3 + 8, 32) : ref_sum(0, f + l3 + 12, 8);
    return s + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* A frame as a guest using NEEDS_CSUM would hand it over: IP header
 * complete, the L4 checksum field holding the folded pseudo-header sum. */
static void build(uint8_t *f, const struct spec *s, struct built *b)
{
    size_t off = 0;
    static const uint8_t macs[12] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
    memcpy(f, macs, 12);
    off = 12;
    if (s->tag) {
        wr16(f + off, NET_ETH_P_8021Q);
        wr16(f + off + 2, 42);
        off += 4;
    }
    wr16(f + off, s->v6 ? NET_ETH_P_IPV6 : NET_ETH_P_IPV4);
    off += 2;
    b->l3 = off;
    uint8_t proto = s->udp ? 17 : 6;
    size_t l4hl = s->udp ? 8 : 20 + s->tcpopt;
    size_t l4len = l4hl + s->plen;
    if (!s->v6) {
        uint8_t *ip = f + off;
        size_t ihl = 20 + s->ipopt;
        memset(ip, 0, ihl);
        ip[0] = (uint8_t)(0x40 | ihl / 4);
        wr16(ip + 2, (uint16_t)(ihl + l4len));
        wr16(ip + 4, s->id);
        wr16(ip + 6, 0x4000); /* DF */
        ip[8] = 64;
        ip[9] = proto;
        wr32(ip + 12, 0x0a000001);
        wr32(ip + 16, 0xc0a87b02);
        if (s->ipopt) { /* a record-route-like option, then NOPs and EOL */
            ip[20] = 7;
            ip[21] = (uint8_t)(s->ipopt >= 8 ? s->ipopt - 1 : 3);
            ip[22] = 4;
            for (size_t i = 23; i < ihl; i++)
                ip[i] = 1;
            ip[ihl - 1] = 0;
            if (s->ipopt < 8)
                ip[23] = 0;
        }
        wr16(ip + 10, (uint16_t)~ref_fold(ref_sum(0, ip, ihl)));
        off += ihl;
    } else {
        uint8_t *ip = f + off;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        ip[1] = 0x01;
        ip[3] = 0x23;
        size_t ext = (s->hbh ? 8 : 0) + s->dstopt;
        wr16(ip + 4, (uint16_t)(ext + l4len));
        ip[7] = 64;
        for (int i = 0; i < 16; i++) {
            ip[8 + i] = (uint8_t)(0x20 + i);
            ip[24 + i] = (uint8_t)(0xf0 - 3 * i);
        }
        uint8_t *nh = ip + 6;
        off += 40;
        if (s->hbh) {
            *nh = 0;
            memset(f + off, 0, 8);
            f[off + 2] = 1; /* PadN covering the rest */
            f[off + 3] = 4;
            nh = f + off;
            off += 8;
        }
        if (s->dstopt) {
            *nh = 60;
            memset(f + off, 0, s->dstopt);
            f[off + 1] = (uint8_t)(s->dstopt / 8 - 1);
            f[off + 2] = 1;
            f[off + 3] = (uint8_t)(s->dstopt - 4);
            nh = f + off;
            off += s->dstopt;
        }
        *nh = proto;
    }
    b->l4 = off;
    b->l4hl = l4hl;
    uint8_t *l4 = f + off;
    memset(l4, 0, l4hl);
    wr16(l4, 40000);
    wr16(l4 + 2, 443);
    if (s->udp) {
        wr16(l4 + 4, (uint16_t)l4len);
    } else {
        wr32(l4 + 4, s->seq);
        wr32(l4 + 8, 0x01020304);
        l4[12] = (uint8_t)(l4hl / 4 << 4);
        l4[13] = s->flags;
        wr16(l4 + 14, 65000);
        for (size_t i = 20; i < l4hl; i++)
            l4[i] = 1; /* NOP options */
    }
    off += l4hl;
    b->hlen = off;
    for (size_t i = 0; i < s->plen; i++)
        f[off + i] = payload_byte(i);
    b->len = off + s->plen;
    wr16(l4 + (s->udp ? 6 : 16), ref_fold(pseudo(f, b->l3, s->v6, proto, l4len)));
}

static struct net_pkt pkt_of(uint8_t *f, const struct built *b, const struct spec *s, bool needs_csum,
                             uint8_t gso_type, uint16_t gso_size)
{
    struct net_pkt p = { .data = f, .len = b->len, .vid = 7 };
    if (needs_csum) {
        p.off.flags = NET_OFF_NEEDS_CSUM;
        p.off.csum_start = (uint16_t)b->l4;
        p.off.csum_offset = s->udp ? 6 : 16;
    }
    p.off.gso_type = gso_type;
    p.off.gso_size = gso_size;
    if (gso_type)
        p.off.hdr_len = (uint16_t)b->hlen;
    return p;
}

/* ---- an independent parser for what comes out ---- */

struct parsed {
    bool v6;
    size_t l3, l4, l4hl, ip_end;
    uint8_t proto;
};

static bool tparse(const uint8_t *f, size_t len, struct parsed *p)
{
    if (len < 14)
        return false;
    size_t off = 12;
    uint16_t t = rd16(f + off);
    for (int i = 0; i < 2 && (t == 0x8100 || t == 0x88a8); i++) {
        off += 4;
        if (len < off + 2)
            return false;
        t = rd16(f + off);
    }
    off += 2;
    p->l3 = off;
    if (t == 0x0800) {
        if (len < off + 20 || f[off] >> 4 != 4)
            return false;
        size_t ihl = (f[off] & 15u) * 4, tot = rd16(f + off + 2);
        if (ihl < 20 || off + ihl > len || tot < ihl || off + tot > len || (rd16(f + off + 6) & 0x3fff))
            return false;
        p->v6 = false;
        p->l4 = off + ihl;
        p->ip_end = off + tot;
        p->proto = f[off + 9];
    } else if (t == 0x86dd) {
        if (len < off + 40 || f[off] >> 4 != 6 || off + 40 + rd16(f + off + 4) > len)
            return false;
        p->v6 = true;
        p->ip_end = off + 40 + rd16(f + off + 4);
        uint8_t nh = f[off + 6];
        size_t q = off + 40;
        bool first = true;
        while (nh == 60 || (first && nh == 0)) {
            if (q + 8 > p->ip_end || q + (f[q + 1] + 1u) * 8 > p->ip_end)
                return false;
            nh = f[q];
            q += (f[q + 1] + 1u) * 8;
            first = false;
        }
        p->l4 = q;
        p->proto = nh;
    } else {
        return false;
    }
    if (p->proto == 6) {
        if (p->l4 + 20 > p->ip_end)
            return false;
        p->l4hl = (f[p->l4 + 12] >> 4) * 4u;
        return p->l4hl >= 20 && p->l4 + p->l4hl <= p->ip_end;
    }
    if (p->proto == 17) {
        p->l4hl = 8;
        return p->l4 + 8 <= p->ip_end;
    }
    return false;
}

/* ---- recording what is emitted ---- */

#define MAX_SEGS 70000

struct seg {
    size_t len, plen;
    uint16_t ipid, vid;
    uint32_t seq;
    uint8_t flags;
};

struct rec {
    int n;
    bool check_l4;     /* every frame must be a TCP/UDP frame with valid checksums */
    struct seg *segs;
    uint8_t *pay;      /* the payloads, concatenated */
    size_t paylen;
    uint8_t *first;    /* a copy of the first frame */
    size_t first_len;
};

static struct rec *rec_new(bool check_l4)
{
    struct rec *r = calloc(1, sizeof(*r));
    r->check_l4 = check_l4;
    r->segs = calloc(MAX_SEGS, sizeof(*r->segs));
    r->pay = malloc(NET_FRAME_MAX);
    r->first = malloc(NET_FRAME_MAX);
    return r;
}

static void rec_reset(struct rec *r, bool check_l4)
{
    r->n = 0;
    r->paylen = 0;
    r->first_len = 0;
    r->check_l4 = check_l4;
}

static void rec_free(struct rec *r)
{
    free(r->segs);
    free(r->pay);
    free(r->first);
    free(r);
}

/* The checksums of an emitted TCP or UDP frame must verify, and its
 * lengths must match the frame. */
static void verify_l4(const uint8_t *f, size_t len, struct parsed *p)
{
    assert_true(tparse(f, len, p));
    assert_int_equal(p->ip_end, len);
    if (!p->v6) {
        size_t ihl = p->l4 - p->l3;
        assert_int_equal(ref_fold(ref_sum(0, f + p->l3, ihl)), 0xffff);
    }
    size_t l4len = len - p->l4;
    if (p->proto == 17) {
        assert_int_equal(rd16(f + p->l4 + 4), l4len);
        assert_int_not_equal(rd16(f + p->l4 + 6), 0);
    }
    assert_int_equal(ref_fold(ref_sum(pseudo(f, p->l3, p->v6, p->proto, l4len), f + p->l4, l4len)), 0xffff);
}

static void rec_emit(void *opaque, const struct net_pkt *pkt)
{
    struct rec *r = opaque;
    const struct net_offload zero = { 0 };
    assert_memory_equal(&pkt->off, &zero, sizeof(zero));
    assert_true(pkt->len >= NET_FRAME_MIN && pkt->len <= NET_FRAME_MAX);
    assert_true(r->n < MAX_SEGS);
    if (r->n == 0) {
        memcpy(r->first, pkt->data, pkt->len);
        r->first_len = pkt->len;
    }
    struct seg *s = &r->segs[r->n++];
    s->len = pkt->len;
    s->vid = pkt->vid;
    if (!r->check_l4)
        return;
    struct parsed p;
    verify_l4(pkt->data, pkt->len, &p);
    s->plen = p.ip_end - p.l4 - p.l4hl;
    s->ipid = p.v6 ? 0 : rd16(pkt->data + p.l3 + 4);
    s->seq = p.proto == 6 ? rd32(pkt->data + p.l4 + 4) : 0;
    s->flags = p.proto == 6 ? pkt->data[p.l4 + 13] : 0;
    assert_true(r->paylen + s->plen <= NET_FRAME_MAX);
    memcpy(r->pay + r->paylen, pkt->data + p.l4 + p.l4hl, s->plen);
    r->paylen += s->plen;
}

/* Run finish on pkt and check it left pkt alone and emitted as many frames
 * as it says. */
static int run(const struct net_pkt *pkt, struct rec *r, bool check_l4)
{
    rec_reset(r, check_l4);
    struct net_pkt saved = *pkt;
    uint8_t *copy = NULL;
    if (pkt->data && pkt->len <= NET_FRAME_MAX) {
        copy = malloc(pkt->len ? pkt->len : 1);
        memcpy(copy, pkt->data, pkt->len);
    }
    int n = net_offload_finish(pkt, rec_emit, r);
    assert_memory_equal(&saved, pkt, sizeof(saved));
    if (copy) {
        assert_memory_equal(copy, pkt->data, pkt->len);
        free(copy);
    }
    if (n < 0) {
        assert_int_equal(n, -1);
        assert_int_equal(r->n, 0);
    } else {
        assert_int_equal(n, r->n);
    }
    return n;
}

/* Check a segmentation result against the frame it came from. */
static void check_segments(const struct rec *r, const uint8_t *orig, const struct built *b, const struct spec *s,
                           size_t mss)
{
    size_t nseg = s->plen ? (s->plen + mss - 1) / mss : 1;
    assert_int_equal(r->n, nseg);
    assert_int_equal(r->paylen, s->plen);
    assert_memory_equal(r->pay, orig + b->hlen, s->plen);
    for (int k = 0; k < r->n; k++) {
        const struct seg *g = &r->segs[k];
        size_t want = (size_t)k + 1 < nseg ? mss : s->plen - (nseg - 1) * mss;
        assert_int_equal(g->plen, want);
        assert_int_equal(g->len, b->hlen + want);
        assert_int_equal(g->vid, 7);
        if (!s->v6)
            assert_int_equal(g->ipid, (uint16_t)(s->id + k));
        if (s->udp)
            continue;
        assert_int_equal(g->seq, (uint32_t)(s->seq + k * mss));
        bool last = (size_t)k + 1 == nseg;
        uint8_t f = s->flags;
        if (!last)
            f &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (k)
            f &= (uint8_t)~TCP_CWR;
        assert_int_equal(g->flags, f);
    }
    /* Headers other than lengths, ids, seq, flags and checksums are those
     * of the original: compare the first frame's Ethernet header and
     * addresses. */
    assert_memory_equal(r->first, orig, b->l3);
    if (s->v6)
        assert_memory_equal(r->first + b->l3 + 8, orig + b->l3 + 8, 32);
    else
        assert_memory_equal(r->first + b->l3 + 12, orig + b->l3 + 12, b->l4 - b->l3 - 12);
}

static uint8_t frame[NET_FRAME_MAX + 64];

/* ---- the checksum itself ---- */

static void test_csum_rfc1071(void **state)
{
    (void)state;
    /* RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    assert_int_equal(net_csum_fold(net_csum_add(0, ex, 8)), (uint16_t)~0xddf2);
    assert_int_equal(net_csum_fold(net_csum_add(0, ex, 0)), 0xffff);
    assert_int_equal(net_csum_fold(net_csum_add(0, ex + 1, 1)), (uint16_t)~0x0100);
    /* A running sum near the top of 32 bits must carry around. */
    uint32_t big = 0xfffffff0u;
    assert_int_equal(net_csum_fold(net_csum_add(big, ex, 8)), (uint16_t)~ref_fold((uint64_t)big + 0xddf2));
}

static void test_csum_lengths_alignment(void **state)
{
    (void)state;
    static uint8_t buf[4096 + 16];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)test_rnd();
    for (size_t a = 0; a < 8; a++) {
        for (size_t len = 0; len < 300; len++)
            assert_int_equal(net_csum_fold(net_csum_add(0, buf + a, len)), (uint16_t)~ref_fold(ref_sum(0, buf + a, len)));
        size_t len = sizeof(buf) - 16 - a;
        assert_int_equal(net_csum_fold(net_csum_add(0x1234, buf + a, len)),
                         (uint16_t)~ref_fold(ref_sum(0x1234, buf + a, len)));
    }
    /* All ones: the sum's carries pile up as high as they can. */
    static uint8_t ones[65536];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(net_csum_fold(net_csum_add(0, ones, sizeof(ones))), 0);
    assert_int_equal(net_csum_fold(net_csum_add(0, ones, 65535)), (uint16_t)~ref_fold(ref_sum(0, ones, 65535)));
    /* A running sum over pieces split at even offsets, the last one odd,
     * at odd addresses. */
    for (int t = 0; t < 2000; t++) {
        size_t a = test_rnd_below(8), len = test_rnd_below(4000);
        uint32_t s = (uint32_t)test_rnd();
        uint64_t want = ref_sum(s, buf + a, len);
        size_t pos = 0;
        while (pos < len) {
            size_t n = len - pos;
            if (test_rnd() & 1) {
                size_t cut = test_rnd_below(n / 2 + 1) * 2;
                if (cut && cut < n)
                    n = cut;
            }
            s = net_csum_add(s, buf + a + pos, n);
            pos += n;
        }
        assert_int_equal(net_csum_fold(s), (uint16_t)~ref_fold(want));
    }
}

/* ---- NEEDS_CSUM ---- */

static void csum_case(const struct spec *s)
{
    struct rec *r = rec_new(true);
    struct built b;
    build(frame, s, &b);
    struct net_pkt p = pkt_of(frame, &b, s, true, NET_GSO_NONE, 0);
    assert_int_equal(run(&p, r, true), 1);
    assert_int_equal(r->first_len, b.len);
    /* Only the checksum field changed. */
    size_t field = b.l4 + (s->udp ? 6 : 16);
    assert_memory_equal(r->first, frame, field);
    assert_memory_equal(r->first + field + 2, frame + field + 2, b.len - field - 2);
    rec_free(r);
}

static void test_csum_tcp4(void **state)
{
    (void)state;
    for (size_t plen = 0; plen < 64; plen++)
        csum_case(&(struct spec){ .plen = plen, .flags = TCP_ACK, .seq = 1 });
    csum_case(&(struct spec){ .plen = 1448, .tcpopt = 12, .ipopt = 8, .flags = TCP_ACK | TCP_PSH });
    csum_case(&(struct spec){ .plen = 65535 - 20 - 20, .flags = TCP_ACK });
    csum_case(&(struct spec){ .plen = 333, .tag = true, .flags = TCP_ACK });
}

static void test_csum_tcp6(void **state)
{
    (void)state;
    csum_case(&(struct spec){ .v6 = true, .plen = 1, .flags = TCP_ACK });
    csum_case(&(struct spec){ .v6 = true, .plen = 1440, .tcpopt = 12, .flags = TCP_ACK });
    csum_case(&(struct spec){ .v6 = true, .hbh = true, .dstopt = 16, .plen = 999, .flags = TCP_ACK });
}

static void test_csum_udp(void **state)
{
    (void)state;
    for (size_t plen = 0; plen < 40; plen++) {
        csum_case(&(struct spec){ .udp = true, .plen = plen });
        csum_case(&(struct spec){ .udp = true, .v6 = true, .plen = plen });
    }
    csum_case(&(struct spec){ .udp = true, .plen = 8000, .ipopt = 4 });
}

/* A UDP checksum that computes to 0 goes out as 0xffff (RFC 768); the
 * same sum in a TCP frame stays 0. */
static void test_csum_udp_zero(void **state)
{
    (void)state;
    struct rec *r = rec_new(true);
    for (int udp = 0; udp < 2; udp++) {
        for (int v6 = 0; v6 < 2; v6++) {
            struct spec s = { .udp = udp, .v6 = v6, .plen = 10, .flags = TCP_ACK };
            struct built b;
            build(frame, &s, &b);
            /* Choose the last two payload bytes so that the sum the
             * finisher makes (partial field included) is all ones. */
            size_t l4len = b.len - b.l4;
            wr16(frame + b.len - 2, 0);
            uint16_t x = ref_fold(ref_sum(0, frame + b.l4, l4len));
            wr16(frame + b.len - 2, (uint16_t)~x);
            struct net_pkt p = pkt_of(frame, &b, &s, true, NET_GSO_NONE, 0);
            assert_int_equal(run(&p, r, true), 1);
            assert_int_equal(rd16(r->first + b.l4 + (udp ? 6 : 16)), udp ? 0xffff : 0);
        }
    }
    rec_free(r);
}

/* NEEDS_CSUM is generic: a frame that is not IP still gets its sum. */
static void test_csum_generic(void **state)
{
    (void)state;
    struct rec *r = rec_new(false);
    uint8_t f[100];
    for (size_t i = 0; i < sizeof(f); i++)
        f[i] = (uint8_t)(i * 17);
    wr16(f + 12, 0x88b5);
    struct net_pkt p = { .data = f, .len = 99, .off = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 31, .csum_offset = 66 } };
    assert_int_equal(run(&p, r, false), 1);
    assert_int_equal(ref_fold(ref_sum(rd16(f + 97), r->first + 31, 99 - 31)), 0xffff);
    /* The field right at the end, csum_start even this time. */
    p.len = 100;
    p.off.csum_start = 30;
    p.off.csum_offset = 68;
    assert_int_equal(run(&p, r, false), 1);
    assert_int_equal(ref_fold(ref_sum(rd16(f + 98), r->first + 30, 100 - 30)), 0xffff);
    p.len = 99;
    /* Nothing to finish: passed through, metadata dropped. */
    p.off = (struct net_offload){ .flags = NET_OFF_DATA_VALID };
    assert_int_equal(run(&p, r, false), 1);
    assert_memory_equal(r->first, f, 99);
    rec_free(r);
}

/* ---- segmentation ---- */

static void gso_case(const struct spec *s, uint8_t gso_type, uint16_t mss, bool needs_csum)
{
    struct rec *r = rec_new(true);
    struct built b;
    build(frame, s, &b);
    struct net_pkt p = pkt_of(frame, &b, s, needs_csum, gso_type, mss);
    int n = run(&p, r, true);
    assert_true(n > 0);
    check_segments(r, frame, &b, s, mss);
    rec_free(r);
}

static void test_gso_tcp4(void **state)
{
    (void)state;
    struct spec s = { .plen = 64000, .flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR | TCP_ECE, .seq = 0xfffff000u,
                      .id = 0xfff0 };
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    gso_case(&s, NET_GSO_TCPV4 | NET_GSO_ECN, 1448, true);
    gso_case(&s, NET_GSO_TCPV4, 1448, false); /* NEEDS_CSUM is implied */
    s.tcpopt = 12;
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    s.plen = 1448 * 10; /* an exact multiple */
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    s.plen = 1000; /* fits: one frame, flags kept */
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    s.plen = 0;
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    s.plen = 777;
    gso_case(&s, NET_GSO_TCPV4, 1, true); /* 777 one-byte segments */
    s.tag = true;
    s.plen = 5000;
    gso_case(&s, NET_GSO_TCPV4, 536, true);
}

static void test_gso_tcp4_options(void **state)
{
    (void)state;
    struct spec s = { .plen = 64000, .ipopt = 12, .tcpopt = 12, .flags = TCP_ACK | TCP_PSH, .seq = 12345, .id = 7 };
    gso_case(&s, NET_GSO_TCPV4, 1448, true);
    s.ipopt = 40;
    s.tcpopt = 40;
    s.plen = 65535 - 80 - 40;
    gso_case(&s, NET_GSO_TCPV4, 1000, true);
}

static void test_gso_tcp6(void **state)
{
    (void)state;
    struct spec s = { .v6 = true, .plen = 64000, .tcpopt = 12, .flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR,
                      .seq = 99 };
    gso_case(&s, NET_GSO_TCPV6, 1448, true);
    gso_case(&s, NET_GSO_TCPV6 | NET_GSO_ECN, 1448, false);
    s.hbh = true;
    s.dstopt = 24;
    gso_case(&s, NET_GSO_TCPV6, 1400, true);
    s.plen = 100;
    gso_case(&s, NET_GSO_TCPV6, 1400, true);
}

static void test_gso_udp_l4(void **state)
{
    (void)state;
    struct spec s = { .udp = true, .plen = 60000, .id = 3 };
    gso_case(&s, NET_GSO_UDP_L4, 1472, true);
    s.v6 = true;
    gso_case(&s, NET_GSO_UDP_L4, 1452, true);
    s.plen = 20;
    gso_case(&s, NET_GSO_UDP_L4, 1452, false);
}

/* ---- hostile metadata and headers ---- */

static void expect_drop(const struct spec *s, bool needs_csum, uint8_t gso_type, uint16_t mss,
                        void (*tweak)(uint8_t *f, struct built *b, struct net_pkt *p))
{
    struct rec *r = rec_new(false);
    struct built b;
    build(frame, s, &b);
    struct net_pkt p = pkt_of(frame, &b, s, needs_csum, gso_type, mss);
    if (tweak)
        tweak(frame, &b, &p);
    assert_int_equal(run(&p, r, false), -1);
    rec_free(r);
}

static void tw_csum_start_past(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.csum_start = (uint16_t)p->len; }
static void tw_csum_start_max(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.csum_start = 0xffff; }
static void tw_csum_off_past(uint8_t *f, struct built *b, struct net_pkt *p)
{
    (void)f; (void)b;
    p->off.csum_offset = (uint16_t)(p->len - p->off.csum_start - 1); /* one byte of the field outside */
}
static void tw_csum_off_max(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.csum_offset = 0xffff; }
static void tw_hdr_len(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.hdr_len = (uint16_t)(p->len + 1); }
static void tw_trunc_ip(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; p->len = b->l3 + 19; p->off.hdr_len = 0; p->off.flags = 0; }
static void tw_trunc_tcp(uint8_t *f, struct built *b, struct net_pkt *p)
{
    /* The IP packet ends 10 bytes into the TCP header. */
    wr16(f + b->l3 + 2, (uint16_t)(b->l4 - b->l3 + 10));
    p->off.hdr_len = 0;
}
static void tw_trunc_tcp_frame(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; p->len = b->l4 + 19; p->off.hdr_len = 0; }
static void tw_doff_small(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l4 + 12] = 4 << 4; }
static void tw_doff_big(uint8_t *f, struct built *b, struct net_pkt *p)
{
    f[b->l4 + 12] = 15 << 4;
    p->len = b->l4 + 40; /* options claimed to 60 bytes, 40 there */
    wr16(f + b->l3 + 2, (uint16_t)(p->len - b->l3));
    p->off.hdr_len = 0;
}
static void tw_ihl_small(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3] = 0x44; }
static void tw_ihl_zero(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3] = 0x40; }
static void tw_ihl_big(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3] = 0x4f; p->len = b->l3 + 50; p->off.hdr_len = 0; p->off.flags = 0; }
static void tw_totlen_big(uint8_t *f, struct built *b, struct net_pkt *p) { wr16(f + b->l3 + 2, (uint16_t)(p->len - b->l3 + 1)); }
static void tw_totlen_small(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; wr16(f + b->l3 + 2, 19); }
static void tw_version(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3] = (uint8_t)(f[b->l3] ^ 0x20); }
static void tw_frag_mf(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; wr16(f + b->l3 + 6, 0x2000); }
static void tw_frag_off(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; wr16(f + b->l3 + 6, 0x0001); }
static void tw_arp(uint8_t *f, struct built *b, struct net_pkt *p) { (void)b; (void)p; wr16(f + 12, NET_ETH_P_ARP); }
static void tw_cstart_wrong(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.csum_start -= 4; }
static void tw_coff_wrong(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->off.csum_offset = 6; }
static void tw_len_huge(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->len = NET_FRAME_MAX + 1; }
static void tw_len_tiny(uint8_t *f, struct built *b, struct net_pkt *p) { (void)f; (void)b; p->len = 13; p->off.csum_start = 0; p->off.csum_offset = 0; }
static void tw_v6_plen_big(uint8_t *f, struct built *b, struct net_pkt *p) { wr16(f + b->l3 + 4, (uint16_t)(p->len - b->l3 - 40 + 1)); }
static void tw_v6_routing(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3 + 6] = 43; }
static void tw_v6_frag(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3 + 6] = 44; }
static void tw_v6_ext_len(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3 + 40 + 1] = 200; }
static void tw_v6_hbh_second(uint8_t *f, struct built *b, struct net_pkt *p) { (void)p; f[b->l3 + 40] = 0; }

static void test_hostile_csum(void **state)
{
    (void)state;
    struct spec s = { .plen = 100, .flags = TCP_ACK };
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_csum_start_past);
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_csum_start_max);
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_csum_off_past);
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_csum_off_max);
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_len_huge);
    expect_drop(&s, true, NET_GSO_NONE, 0, tw_len_tiny);
    struct rec *r = rec_new(false);
    struct net_pkt p = { .data = NULL, .len = 100, .off = { .flags = NET_OFF_NEEDS_CSUM } };
    assert_int_equal(run(&p, r, false), -1);
    rec_free(r);
}

static void test_hostile_gso(void **state)
{
    (void)state;
    struct spec s = { .plen = 5000, .flags = TCP_ACK, .ipopt = 8 };
    expect_drop(&s, true, NET_GSO_TCPV4, 0, NULL);              /* gso_size 0 */
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_hdr_len);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_trunc_ip);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_trunc_tcp);
    expect_drop(&s, false, NET_GSO_TCPV4, 1448, tw_trunc_tcp_frame);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_doff_small);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_doff_big);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_ihl_small);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_ihl_zero);
    expect_drop(&s, false, NET_GSO_TCPV4, 1448, tw_ihl_big);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_totlen_big);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_totlen_small);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_version);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_frag_mf);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_frag_off);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_arp);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_cstart_wrong);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_coff_wrong);
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, tw_len_huge);
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, NULL);           /* IPv4 frame, TCPV6 */
    expect_drop(&s, true, NET_GSO_UDP, 1448, NULL);             /* UFO: not done */
    expect_drop(&s, true, 2, 1448, NULL);                       /* no such kind */
    expect_drop(&s, true, 0x7f, 1448, NULL);
    expect_drop(&s, true, NET_GSO_UDP_L4, 1448, NULL);          /* TCP frame, UDP GSO */
    s.udp = true;
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, NULL);           /* UDP frame, TCP GSO */
    expect_drop(&s, true, NET_GSO_UDP_L4 | NET_GSO_ECN, 1448, NULL);
    s.udp = false;
    s.v6 = true;
    s.ipopt = 0;
    expect_drop(&s, true, NET_GSO_TCPV4, 1448, NULL);           /* IPv6 frame, TCPV4 */
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_v6_plen_big);
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_v6_routing);
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_v6_frag);
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_version);
    s.dstopt = 8;
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_v6_ext_len);
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, tw_v6_hbh_second);
    s.dstopt = 0;
    /* A header too long for the template: a destination options header of
     * 1 KiB is valid IPv6, but nobody sends that with TSO. */
    s.dstopt = 1024;
    expect_drop(&s, true, NET_GSO_TCPV6, 1448, NULL);
}

/* ---- metadata from a wire, before any frame is looked at ---- */

static void test_sane(void **state)
{
    (void)state;
    const struct net_offload none = { 0 };
    assert_true(net_offload_sane(&none, 60));
    /* A checksum field's two bytes must lie inside the frame, and the sum
     * of start and offset must not wrap (both are 16-bit). */
    struct net_offload c = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 };
    assert_true(net_offload_sane(&c, 52));
    assert_false(net_offload_sane(&c, 51));
    c.csum_start = 0xffff, c.csum_offset = 0xffff;
    assert_false(net_offload_sane(&c, 65535));
    /* DATA_VALID carries no offsets. */
    c = (struct net_offload){ .flags = NET_OFF_DATA_VALID, .csum_start = 0xffff, .csum_offset = 0xffff };
    assert_true(net_offload_sane(&c, 60));
    /* GSO: a kind we segment, and a segment size. */
    const uint8_t kinds_ok[] = { NET_GSO_TCPV4, NET_GSO_TCPV6, NET_GSO_UDP_L4, NET_GSO_TCPV4 | NET_GSO_ECN,
                                 NET_GSO_TCPV6 | NET_GSO_ECN };
    for (size_t i = 0; i < sizeof(kinds_ok); i++) {
        struct net_offload g = { .gso_type = kinds_ok[i], .gso_size = 1448 };
        assert_true(net_offload_sane(&g, 9000));
        g.gso_size = 0;
        assert_false(net_offload_sane(&g, 9000));
    }
    const uint8_t kinds_bad[] = { NET_GSO_UDP, 2, 6, 0x7f, NET_GSO_ECN | 2 };
    for (size_t i = 0; i < sizeof(kinds_bad); i++) {
        struct net_offload g = { .gso_type = kinds_bad[i], .gso_size = 1448 };
        assert_false(net_offload_sane(&g, 9000));
    }
}

/* ---- emit re-entering finish ---- */

struct nest {
    struct rec *inner;
    const struct net_pkt *other;
    int calls, inner_n;
};

static void nest_emit(void *opaque, const struct net_pkt *pkt)
{
    struct nest *n = opaque;
    uint8_t before[64];
    memcpy(before, pkt->data, sizeof(before));
    if (n->calls++ == 0)
        n->inner_n = net_offload_finish(n->other, rec_emit, n->inner);
    /* The nested call must not have overwritten the frame being emitted. */
    assert_memory_equal(before, pkt->data, sizeof(before));
}

static void test_reentrant(void **state)
{
    (void)state;
    static uint8_t f2[NET_FRAME_MAX];
    struct spec s1 = { .plen = 3000, .flags = TCP_ACK }, s2 = { .v6 = true, .plen = 3000, .flags = TCP_ACK };
    struct built b1, b2;
    build(frame, &s1, &b1);
    build(f2, &s2, &b2);
    struct net_pkt p1 = pkt_of(frame, &b1, &s1, true, NET_GSO_TCPV4, 1000);
    struct net_pkt p2 = pkt_of(f2, &b2, &s2, true, NET_GSO_TCPV6, 1000);
    struct nest n = { .inner = rec_new(true), .other = &p2 };
    assert_int_equal(net_offload_finish(&p1, nest_emit, &n), 3);
    assert_int_equal(n.inner_n, 3);
    check_segments(n.inner, f2, &b2, &s2, 1000);
    rec_free(n.inner);
}

/* ---- random frames and metadata ---- */

static void random_spec(struct spec *s)
{
    memset(s, 0, sizeof(*s));
    s->v6 = test_rnd() & 1;
    s->udp = test_rnd_below(4) == 0;
    s->tag = test_rnd_below(8) == 0;
    if (!s->v6)
        s->ipopt = test_rnd_below(3) ? 0 : 4 * test_rnd_below(11);
    else {
        s->hbh = test_rnd_below(6) == 0;
        s->dstopt = test_rnd_below(6) ? 0 : 8 * (1 + test_rnd_below(4));
    }
    s->tcpopt = test_rnd_below(2) ? 12 : 4 * test_rnd_below(11);
    size_t r = test_rnd_below(100);
    /* Mostly small frames, so that a few hundred thousand run quickly
     * under the sanitizers; a few up to the largest there is. */
    s->plen = r < 1 ? test_rnd_below(65535 - 200) : r < 40 ? test_rnd_below(64) : test_rnd_below(2000);
    s->flags = (uint8_t)test_rnd();
    s->seq = (uint32_t)test_rnd();
    s->id = (uint16_t)test_rnd();
}

static void test_random(void **state)
{
    (void)state;
    struct rec *r = rec_new(false);
    static uint8_t orig[NET_FRAME_MAX];
    int ok_csum = 0, ok_gso = 0, dropped = 0;
    for (int it = 0; it < 200000; it++) {
        struct spec s;
        random_spec(&s);
        struct built b;
        build(frame, &s, &b);
        bool gso = test_rnd_below(3) != 0;
        uint8_t type = s.udp ? NET_GSO_UDP_L4 : s.v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4;
        uint16_t mss = (uint16_t)(test_rnd_below(4) ? 500 + test_rnd_below(1500) : 1 + test_rnd_below(64));
        if (s.plen > 5000 && mss < 64)
            mss = (uint16_t)(mss + 1000); /* keep the run time in check */
        struct net_pkt p = pkt_of(frame, &b, &s, test_rnd_below(8) != 0, gso ? type : 0, gso ? mss : 0);
        if (!gso && !p.off.flags) {
            p.off.flags = NET_OFF_NEEDS_CSUM;
            p.off.csum_start = (uint16_t)b.l4;
            p.off.csum_offset = s.udp ? 6 : 16;
        }
        /* Damage: metadata, header bytes, the length. */
        switch (test_rnd_below(10)) {
        case 0:
            p.off.gso_type = (uint8_t)test_rnd();
            break;
        case 1:
            p.off.csum_start = (uint16_t)test_rnd_below(b.len + 8);
            p.off.csum_offset = (uint16_t)(2 * test_rnd_below(32)); /* even: see below */
            break;
        case 2:
            p.off.hdr_len = (uint16_t)test_rnd();
            p.off.gso_size = (uint16_t)test_rnd_below(3);
            break;
        case 3:
        case 4:
        case 5: {
            int k = 1 + (int)test_rnd_below(3);
            while (k--)
                frame[test_rnd_below(b.hlen + 4 < b.len ? b.hlen + 4 : b.len)] = (uint8_t)test_rnd();
            break;
        }
        case 6:
            p.len = test_rnd_below(b.len + 1);
            break;
        case 7:
            frame[test_rnd_below(b.hlen)] ^= (uint8_t)(1u << test_rnd_below(8));
            break;
        default:
            break; /* as built */
        }
        bool is_gso = (p.off.gso_type & ~NET_GSO_ECN) != NET_GSO_NONE;
        bool field_ok = !is_gso && (p.off.flags & NET_OFF_NEEDS_CSUM) &&
                        (size_t)p.off.csum_start + p.off.csum_offset + 2 <= p.len;
        uint16_t field0 = field_ok ? rd16(frame + p.off.csum_start + p.off.csum_offset) : 0;
        memcpy(orig, frame, p.len);
        int n = run(&p, r, is_gso);
        if (n < 0) {
            dropped++;
            continue;
        }
        if (!is_gso) {
            assert_int_equal(n, 1);
            assert_int_equal(r->first_len, p.len);
            if (p.off.flags & NET_OFF_NEEDS_CSUM) {
                assert_true(field_ok);
                /* Whatever the frame is, the sum from csum_start with the
                 * partial value that was in the field is now all ones. */
                assert_int_equal(ref_fold(ref_sum(field0, r->first + p.off.csum_start, p.len - p.off.csum_start)),
                                 0xffff);
                ok_csum++;
            }
            continue;
        }
        /* Segments: checked one by one by rec_emit; now against the input. */
        ok_gso++;
        struct parsed in;
        assert_true(tparse(orig, p.len, &in));
        size_t hlen = in.l4 + in.l4hl, plen = in.ip_end - hlen;
        assert_int_equal(r->paylen, plen);
        assert_memory_equal(r->pay, orig + hlen, plen);
        size_t m = p.off.gso_size;
        for (int k = 0; k < r->n; k++) {
            assert_int_equal(r->segs[k].len, hlen + r->segs[k].plen);
            if (in.proto == 6)
                assert_int_equal(r->segs[k].seq, (uint32_t)(rd32(orig + in.l4 + 4) + k * m));
            if (!in.v6)
                assert_int_equal(r->segs[k].ipid, (uint16_t)(rd16(orig + in.l3 + 4) + k));
        }
    }
    print_message("random: %d checksummed, %d segmented, %d dropped\n", ok_csum, ok_gso, dropped);
    /* Both paths were really exercised. */
    assert_true(ok_csum > 5000);
    assert_true(ok_gso > 5000);
    assert_true(dropped > 5000);
    rec_free(r);
}

/* Purely random bytes and metadata: must not crash, whatever it does. */
static void test_random_garbage(void **state)
{
    (void)state;
    struct rec *r = rec_new(false);
    for (int it = 0; it < 100000; it++) {
        size_t len = test_rnd_below(200);
        for (size_t i = 0; i < len; i++)
            frame[i] = (uint8_t)test_rnd();
        if (len >= 14 && (test_rnd() & 1))
            wr16(frame + 12, (test_rnd() & 1) ? NET_ETH_P_IPV4 : NET_ETH_P_IPV6);
        if (len >= 15 && (test_rnd() & 1))
            frame[14] = (uint8_t)((frame[12] == 0x08 ? 0x45 : 0x60) + test_rnd_below(3));
        struct net_pkt p = { .data = frame, .len = len };
        p.off.flags = (uint8_t)test_rnd_below(4);
        p.off.gso_type = (uint8_t)(test_rnd_below(4) ? test_rnd_below(6) : test_rnd());
        p.off.hdr_len = (uint16_t)test_rnd_below(300);
        p.off.gso_size = (uint16_t)test_rnd_below(100);
        p.off.csum_start = (uint16_t)test_rnd_below(220);
        p.off.csum_offset = (uint16_t)test_rnd_below(40);
        run(&p, r, false);
    }
    rec_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071),
        cmocka_unit_test(test_csum_lengths_alignment),
        cmocka_unit_test(test_csum_tcp4),
        cmocka_unit_test(test_csum_tcp6),
        cmocka_unit_test(test_csum_udp),
        cmocka_unit_test(test_csum_udp_zero),
        cmocka_unit_test(test_csum_generic),
        cmocka_unit_test(test_gso_tcp4),
        cmocka_unit_test(test_gso_tcp4_options),
        cmocka_unit_test(test_gso_tcp6),
        cmocka_unit_test(test_gso_udp_l4),
        cmocka_unit_test(test_hostile_csum),
        cmocka_unit_test(test_hostile_gso),
        cmocka_unit_test(test_sane),
        cmocka_unit_test(test_reentrant),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Fuzz target: the DHCP server (src/net/dhcpd.c) through its port, as the
 * guests of a network reach it. A server with a small pool (4 addresses,
 * 60 s leases) on a fake clock is wired to a sink port that checks each
 * reply. The input is a sequence of records; the first byte of each says
 * what (its value mod 4):
 *
 *   0  raw frame: length (2 bytes, big-endian), then the frame
 *   1  DHCP message: flags, client, length (2 bytes), then the BOOTP/DHCP
 *      payload, which the target wraps in Ethernet + IPv4 + UDP 68->67
 *      headers with correct checksums. flags: 1 unicast to the server's
 *      MAC (else broadcast); 6 (2 bits) the IP destination: broadcast,
 *      server, subnet broadcast, another host; 8 IP source = the payload's
 *      ciaddr (else 0.0.0.0); 16 no UDP checksum (0); 32 fix up the BOOTP
 *      header (op 1, htype 1, hlen 6, chaddr = Ethernet source, magic
 *      cookie; padded to 240 bytes); 64 UDP to port 68 instead of 67;
 *      128 four bytes of IP options (IHL 6).
 *      client: bits 0-2 pick the client MAC 52:54:00:00:00:0N, 8 makes the
 *      source MAC multicast.
 *   2  ARP: flags, client, sender IP (4 bytes), target IP (4 bytes).
 *      flags: 1 ask for the server's address (else the target IP given),
 *      2 a reply (op 2) instead of a request, 4 sender MAC zero, 8 no
 *      Ethernet padding to 60 bytes.
 *   3  clock: one byte, in seconds.
 *
 * Invariants: every reply comes from the server's MAC, is 14 to 1514
 * bytes, and is either ARP (60 bytes, a reply, the server's address) or
 * IPv4 + UDP 67->68 whose IP header checksum and UDP checksum are right
 * (checked with this file's own Internet checksum) and whose lengths fit
 * the frame; the leases never exceed the pool. Out-of-bounds access is
 * ASan's to report. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcpd.h"
#include "net/port.h"

#include "fuzz_util.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SERVER_IP IP4(192, 168, 56, 100)
#define SUBNET_BCAST IP4(192, 168, 56, 255)
#define POOL_SIZE 4
#define SEC 1000000000ull

static const uint8_t server_mac[6] = { 0x0a, 0, 0x27, 0, 0, 1 };

static uint64_t fake_now;
static uint64_t now_ns(void *opaque)
{
    (void)opaque;
    return fake_now;
}

/* ---- an Internet checksum of our own (RFC 1071), byte by byte ---- */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint32_t pseudo(const uint8_t *ip, size_t ulen)
{
    return sum16(0, ip + 12, 8) + 17 + (uint32_t)ulen;
}

/* ---- the sink: every reply is checked ---- */

static void sink_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    (void)p;
    const uint8_t *f = pkt->data;
    size_t len = pkt->len;
    if (tag_vid || len < 14 || len > 1514 || memcmp(f + 6, server_mac, 6) != 0)
        abort();
    uint16_t type = net_get16(f + 12);
    if (type == NET_ETH_P_ARP) {
        if (len != 60 || net_get16(f + 14 + 6) != 2 || net_get32(f + 14 + 14) != SERVER_IP)
            abort();
        return;
    }
    if (type != NET_ETH_P_IPV4 || len < 14 + 20 + 8)
        abort();
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = net_get16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < 20 || tot < ihl + 8 || 14 + tot > len || ip[9] != 17)
        abort();
    if (fold(sum16(0, ip, ihl)) != 0 || net_get32(ip + 12) != SERVER_IP)
        abort();
    const uint8_t *udp = ip + ihl;
    size_t ulen = net_get16(udp + 4);
    if (net_get16(udp) != 67 || net_get16(udp + 2) != 68 || ulen < 8 + 240 || ulen != tot - ihl)
        abort();
    if (net_get16(udp + 6) == 0 || fold(sum16(pseudo(ip, ulen), udp, ulen)) != 0)
        abort();
}

static const struct net_port_ops sink_ops = { sink_transmit, NULL };

/* ---- frames ---- */

/* Send f (len bytes) from the guest side, from a copy of exactly its size. */
static void send(struct net_port *guest, const uint8_t *f, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, f, len);
    struct net_pkt pkt = { .data = copy, .len = len };
    net_port_input(guest, &pkt);
    free(copy);
}

static void client_mac(uint8_t mac[6], unsigned c)
{
    static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x00 };
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(c & 7);
    if (c & 8)
        mac[0] |= 1;
}

static void send_dhcp(struct net_port *guest, struct rd *r)
{
    static uint8_t f[14 + 24 + 8 + 65535];
    unsigned flags = u8(r), client = u8(r), plen = u16(r);
    if (plen > r->n)
        plen = (unsigned)r->n;
    size_t ihl = flags & 128 ? 24 : 20;
    size_t blen = plen < 240 && (flags & 32) ? 240 : plen;
    if (ihl + 8 + blen > 65535)
        blen = 65535 - ihl - 8;
    uint8_t *ip = f + 14, *udp = ip + ihl, *bp = udp + 8;
    memset(f, 0, 14 + ihl + 8 + blen);
    memcpy(bp, r->p, plen < blen ? plen : blen);
    r->p += plen, r->n -= plen;

    uint8_t mac[6];
    client_mac(mac, client);
    memcpy(f, flags & 1 ? server_mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 6);
    memcpy(f + 6, mac, 6);
    net_put16(f + 12, NET_ETH_P_IPV4);
    if (flags & 32) {
        bp[0] = 1, bp[1] = 1, bp[2] = 6;
        memcpy(bp + 28, mac, 6);
        net_put32(bp + 236, 0x63825363);
    }
    static const uint32_t dsts[4] = { UINT32_MAX, SERVER_IP, SUBNET_BCAST, IP4(10, 0, 0, 1) };
    uint32_t src = flags & 8 && blen >= 16 ? net_get32(bp + 12) : 0;
    ip[0] = (uint8_t)(0x40 | ihl / 4);
    net_put16(ip + 2, (uint16_t)(ihl + 8 + blen));
    ip[8] = 64;
    ip[9] = 17;
    net_put32(ip + 12, src);
    net_put32(ip + 16, dsts[(flags >> 1) & 3]);
    if (ihl > 20)
        ip[20] = 1, ip[21] = 1, ip[22] = 1, ip[23] = 0; /* NOPs, end of options */
    net_put16(ip + 10, fold(sum16(0, ip, ihl)));
    net_put16(udp, 68);
    net_put16(udp + 2, flags & 64 ? 68 : 67);
    net_put16(udp + 4, (uint16_t)(8 + blen));
    if (!(flags & 16)) {
        uint16_t c = fold(sum16(pseudo(ip, 8 + blen), udp, 8 + blen));
        net_put16(udp + 6, c ? c : 0xffff);
    }
    send(guest, f, 14 + ihl + 8 + blen);
}

static void send_arp(struct net_port *guest, struct rd *r)
{
    uint8_t f[60] = { 0 };
    unsigned flags = u8(r), client = u8(r);
    uint32_t spa = u32(r), tpa = u32(r);
    uint8_t mac[6];
    client_mac(mac, client);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    net_put16(f + 12, NET_ETH_P_ARP);
    uint8_t *a = f + 14;
    net_put16(a, 1);
    net_put16(a + 2, NET_ETH_P_IPV4);
    a[4] = 6, a[5] = 4;
    net_put16(a + 6, flags & 2 ? 2 : 1);
    if (!(flags & 4))
        memcpy(a + 8, mac, 6);
    net_put32(a + 14, spa);
    net_put32(a + 24, flags & 1 ? SERVER_IP : tpa);
    send(guest, f, flags & 8 ? 14 + 28 : 60);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct net_dhcpd_config cfg = {
        .server_ip = SERVER_IP, .netmask = IP4(255, 255, 255, 0),
        .router = IP4(192, 168, 56, 1), .dns = IP4(192, 168, 56, 1),
        .pool_first = IP4(192, 168, 56, 101), .pool_last = IP4(192, 168, 56, 100 + POOL_SIZE), /* runs out */
        .lease_secs = 60, .now_ns = now_ns,
    };
    memcpy(cfg.server_mac, server_mac, 6);
    char err[256];
    fake_now = 1000 * SEC;
    struct net_dhcpd *d = net_dhcpd_new(&cfg, err, sizeof(err));
    if (!d)
        abort();
    struct net_port guest;
    net_port_init(&guest, &sink_ops, "guest", false);
    struct net_port *srv = net_dhcpd_port(d);
    net_port_wire(srv, &guest);
    struct rd r = { data, size };
    while (r.n) {
        switch (u8(&r) % 4) {
        case 0: {
            size_t len = u16(&r);
            if (len > r.n)
                len = r.n;
            send(&guest, r.p, len);
            r.p += len, r.n -= len;
            break;
        }
        case 1:
            send_dhcp(&guest, &r);
            break;
        case 2:
            send_arp(&guest, &r);
            break;
        case 3:
            fake_now += u8(&r) * SEC;
            break;
        }
    }
    struct net_dhcpd_lease leases[POOL_SIZE + 2];
    if (net_dhcpd_leases(d, leases, POOL_SIZE + 2) > POOL_SIZE)
        abort();
    net_port_free(srv);
    net_port_unwire(&guest);
    return 0;
}

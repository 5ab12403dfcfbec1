/* The DHCP service of a host-only or NAT network: a port (plug it into the
 * network's switch) that hands out IPv4 addresses from one pool
 * (RFC 2131, options from RFC 2132) and answers ARP for its own address,
 * so that clients can renew by unicast.
 *
 * It is authoritative: being the only DHCP server of its network, it
 * NAKs a request for an address that is not the client's to have, and
 * binds an address a client asks for by INIT-REBOOT or renewal when it has
 * no record of that client but the address was never given out (so
 * clients keep their addresses when the server is restarted).
 *
 * Leases are keyed by client identifier (option 61) when the client sends
 * one, else by hardware address. A client that comes back gets its
 * previous address if nobody else has needed it meanwhile: expired and
 * released leases are remembered, and new clients get never-used
 * addresses first, then the address forgotten longest ago.
 *
 * Everything it receives comes from guests and is checked byte by byte;
 * what it does not answer is counted (struct net_dhcpd_stats). Memory is
 * fixed at creation (one lease per pool address). Relayed requests
 * (giaddr set), BOOTP clients and option overload (52) are not served. */
#ifndef VIREO_NET_DHCPD_H
#define VIREO_NET_DHCPD_H

#include <stddef.h>
#include <stdint.h>

#include "net/pkt.h"

struct net_port;
struct net_dhcpd;

#define NET_DHCPD_DEFAULT_LEASE_SECS 3600
#define NET_DHCPD_MAX_POOL 65536

/* Addresses in host byte order. */
struct net_dhcpd_config {
    uint32_t server_ip, netmask;
    uint32_t router;                 /* 0 = none */
    uint32_t dns;                    /* 0 = none */
    uint32_t pool_first, pool_last;  /* inclusive; server_ip and router
                                      * are skipped if inside */
    uint32_t lease_secs;             /* 0 = NET_DHCPD_DEFAULT_LEASE_SECS */
    uint8_t server_mac[NET_ETH_ALEN];
    const char *name;                /* port name; NULL = "dhcp" */
    /* Clock for leases; NULL = CLOCK_MONOTONIC. Tests pass their own. */
    uint64_t (*now_ns)(void *opaque);
    void *now_opaque;
};

enum net_dhcpd_lease_state {
    NET_DHCPD_OFFERED,   /* offered, the client has not requested it yet */
    NET_DHCPD_BOUND,     /* acknowledged, not expired */
    NET_DHCPD_EXPIRED,   /* ran out; kept for the client until needed */
    NET_DHCPD_RELEASED,  /* given back; kept for the client until needed */
    NET_DHCPD_DECLINED,  /* a client found it in use: not offered for a while */
};

struct net_dhcpd_lease {
    uint32_t ip;                     /* host byte order */
    uint8_t mac[NET_ETH_ALEN];       /* chaddr of the client's last message */
    enum net_dhcpd_lease_state state;
    uint64_t expires_ns;             /* in the server's clock */
    uint32_t secs_left;              /* 0 once expired */
    char hostname[64];               /* option 12, printable ASCII, or "" */
};

struct net_dhcpd_stats {
    uint64_t discover, request, decline, release, inform;  /* well formed */
    uint64_t offer, ack, nak, arp_reply;                   /* sent */
    uint64_t ignored;      /* not for the service (flooded traffic) */
    uint64_t malformed;    /* for the service but broken: truncated, bad
                            * checksum, bad options, wrong htype/hlen */
    uint64_t unanswered;   /* well formed but not served: BOOTP, relayed,
                            * unknown message type, not our client */
    uint64_t pool_empty;   /* DISCOVERs with no address left to offer */
};

/* Check cfg (netmask contiguous and at most /30; server, router and pool
 * inside the server's subnet and not its network or broadcast address;
 * pool_first <= pool_last; at most NET_DHCPD_MAX_POOL addresses) and
 * create the server. NULL with a message in err when cfg is wrong. */
struct net_dhcpd *net_dhcpd_new(const struct net_dhcpd_config *cfg, char *err, size_t errlen);

/* The server's port; net_port_free() on it frees the server. */
struct net_port *net_dhcpd_port(struct net_dhcpd *d);

/* Copy up to max leases (every address a client has had, in address
 * order) into out; returns how many were copied. */
size_t net_dhcpd_leases(const struct net_dhcpd *d, struct net_dhcpd_lease *out, size_t max);

const struct net_dhcpd_stats *net_dhcpd_stats(const struct net_dhcpd *d);

#endif

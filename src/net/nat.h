/* NAT on libslirp (the user-mode TCP/IP stack of QEMU and VirtualBox 7.1+):
 * a port that is the gateway of a small IPv4 network. Guests' TCP and UDP
 * leave through ordinary host sockets, so no root is needed; the gateway
 * address stands for the host's own loopback; port forwards let the host
 * and its LAN reach guest services.
 *
 * Used as the private NAT of one adapter (VirtualBox's "nat": wired to the
 * adapter) and as the gateway port of a NAT network's switch. */
#ifndef VIREO_NET_NAT_H
#define VIREO_NET_NAT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct net_port;

struct net_nat_config {
    struct in_addr network, netmask;  /* e.g. 10.0.2.0/24 */
    struct in_addr gateway;           /* the host as guests see it */
    struct in_addr dns;               /* DNS forwarder address */
    struct in_addr dhcp_start;        /* first lease; 0 = no DHCP server */
    unsigned mtu;                     /* 0 = 1500 */
    const char *name;                 /* for messages */
};

struct net_natpf {
    char name[64];
    bool udp;
    struct in_addr host_addr;         /* INADDR_ANY = every host address */
    uint16_t host_port;
    struct in_addr guest_addr;
    uint16_t guest_port;
};

/* The defaults users know: adapter n (from 1) of VirtualBox's NAT gets
 * 10.0.(n+1).0/24, gateway .2, DNS .3, DHCP from .15. */
void net_nat_default_config(struct net_nat_config *c, unsigned adapter);

struct net_port *net_nat_new(struct evloop *l, const struct net_nat_config *cfg, char *err, size_t errlen);
/* Listen on the host side and forward to the guest. Fails (with a message
 * naming the rule) when the host port is taken or not allowed. */
int net_nat_add_forward(struct net_port *p, const struct net_natpf *pf, char *err, size_t errlen);
int net_nat_remove_forward(struct net_port *p, const struct net_natpf *pf);

/* Parse "NAME,tcp|udp,[hostip],hostport,[guestip],guestport" (VirtualBox's
 * --natpf syntax). An empty guest address becomes default_guest (which may
 * be 0.0.0.0: "fill in later"). */
int net_natpf_parse(const char *s, struct in_addr default_guest, struct net_natpf *pf, char *err, size_t errlen);

#endif

#include "net/vxlan.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "net/port.h"
#include "net/sockaddr.h"

/* Datagrams handled per readiness event, so a flood cannot starve the
 * rest of the loop (the watch is level-triggered). */
#define RECVS_PER_EVENT 64

struct net_vxlan {
    struct net_port port;
    struct evloop *loop;
    int fd;
    uint32_t vni;
    struct net_sockaddr remote;
    char remote_str[NET_SOCKADDR_STRLEN];
    uint8_t tx_hdr[NET_VXLAN_HLEN];
    /* Each kind of trouble is told once; after that it is only counted. */
    bool stranger_logged, vni_logged, rx_err_logged, tx_err_logged;
    uint8_t rx_hdr[NET_VXLAN_HLEN];
    uint8_t frame[NET_FRAME_MAX];
};

static uint32_t hdr_vni(const uint8_t h[NET_VXLAN_HLEN])
{
    return (uint32_t)h[4] << 16 | (uint32_t)h[5] << 8 | h[6];
}

/* One received datagram of len bytes (header in rx_hdr, the rest in
 * frame), from `from`. */
static void input(struct net_vxlan *v, const struct net_sockaddr *from, size_t len, bool truncated)
{
    if (!net_sockaddr_same_host(from, &v->remote)) {
        v->port.stats.rx_dropped++;
        if (!v->stranger_logged) {
            char fs[NET_SOCKADDR_STRLEN];
            vwarn("%s: ignoring packets from %s (only %s is the far end)", v->port.name,
                  net_sockaddr_str(from, fs), v->remote_str);
            v->stranger_logged = true;
        }
        return;
    }
    if (truncated || len < NET_VXLAN_HLEN || !(v->rx_hdr[0] & NET_VXLAN_FLAG_I)) {
        v->port.stats.rx_dropped++;
        return;
    }
    uint32_t vni = hdr_vni(v->rx_hdr);
    if (vni != v->vni) {
        v->port.stats.rx_dropped++;
        /* The usual misconfiguration: worth saying once. */
        if (!v->vni_logged) {
            char fs[NET_SOCKADDR_STRLEN];
            vwarn("%s: ignoring packets for VNI %u from %s", v->port.name, vni, net_sockaddr_str(from, fs));
        }
        v->vni_logged = true;
        return;
    }
    /* Runts are counted by net_port_input. */
    struct net_pkt pkt = { .data = v->frame, .len = len - NET_VXLAN_HLEN };
    net_port_input(&v->port, &pkt);
}

static void on_readable(void *opaque, int fd, uint32_t events)
{
    struct net_vxlan *v = opaque;
    (void)events;
    for (int i = 0; i < RECVS_PER_EVENT; i++) {
        struct net_sockaddr from = { .len = sizeof(from.ss) };
        /* The header apart, so the inner frame lands where it is used. */
        struct iovec iov[2] = { { v->rx_hdr, sizeof(v->rx_hdr) }, { v->frame, sizeof(v->frame) } };
        struct msghdr m = { .msg_name = &from.ss, .msg_namelen = from.len, .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && !v->rx_err_logged) {
                vwarn("%s: receive error: %s", v->port.name, strerror(errno));
                v->rx_err_logged = true;
            }
            return;
        }
        from.len = m.msg_namelen;
        input(v, &from, (size_t)r, m.msg_flags & MSG_TRUNC);
    }
}

static void vxlan_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_vxlan *v = (struct net_vxlan *)p;
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    iov[0] = (struct iovec){ v->tx_hdr, sizeof(v->tx_hdr) };
    int n = 1 + net_pkt_wire_iov(pkt, tag_vid, tag, iov + 1);
    struct msghdr m = {
        .msg_name = &v->remote.sa,
        .msg_namelen = v->remote.len,
        .msg_iov = iov,
        .msg_iovlen = (size_t)n,
    };
    ssize_t w;
    do
        w = sendmsg(v->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return;
    p->stats.tx_dropped++;
    /* A full socket buffer is the normal way for a burst to be too much;
     * a frame over the UDP limit (64 KiB GSO frames are finished into
     * segments before they get here, so only a jumbo frame) is not worth
     * more than a count either. Anything else is worth a line. */
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EMSGSIZE && !v->tx_err_logged) {
        vwarn("%s: cannot send to %s: %s", p->name, v->remote_str, strerror(errno));
        v->tx_err_logged = true;
    }
}

static void vxlan_free(struct net_port *p)
{
    struct net_vxlan *v = (struct net_vxlan *)p;
    evloop_del_fd(v->loop, v->fd);
    close(v->fd);
    free(v);
}

static const struct net_port_ops vxlan_ops = {
    .transmit = vxlan_transmit,
    .free = vxlan_free,
};

/* As the Linux device does by default: no DF on the outer packet, and
 * IPv6 packets with a zero UDP checksum taken (Linux sends them when
 * configured with udp6zerocsumtx). Failures only cost those niceties. */
static void tunnel_sockopts(int fd, int family)
{
    if (family == AF_INET) {
        int v = IP_PMTUDISC_DONT;
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
    } else {
        int v = IPV6_PMTUDISC_DONT;
        setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
#ifdef UDP_NO_CHECK6_RX
        int one = 1;
        setsockopt(fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, &one, sizeof(one));
#endif
    }
}

struct net_port *net_vxlan_new(struct evloop *l, const struct net_vxlan_config *cfg, char *err, size_t errlen)
{
    if (cfg->vni > NET_VXLAN_VNI_MAX) {
        snprintf(err, errlen, "vxlan: VNI %u out of range (0 to %u)", cfg->vni, NET_VXLAN_VNI_MAX);
        return NULL;
    }
    uint16_t port = cfg->port ? cfg->port : NET_VXLAN_PORT;
    uint16_t local_port = cfg->local_port ? cfg->local_port : port;
    struct net_sockaddr raddr, laddr;
    if (net_sockaddr_resolve(&raddr, cfg->remote, port, AF_UNSPEC, false, err, errlen) < 0 ||
        net_sockaddr_resolve(&laddr, cfg->local, local_port, raddr.sa.sa_family, true, err, errlen) < 0)
        return NULL;
    struct net_vxlan *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "vxlan: out of memory");
        return NULL;
    }
    v->loop = l;
    v->vni = cfg->vni;
    v->remote = raddr;
    net_sockaddr_str(&raddr, v->remote_str);
    char name[128];
    snprintf(name, sizeof(name), "vxlan %u %s", cfg->vni, v->remote_str);
    net_port_init(&v->port, &vxlan_ops, name, false);
    v->tx_hdr[0] = NET_VXLAN_FLAG_I;
    v->tx_hdr[4] = (uint8_t)(cfg->vni >> 16);
    v->tx_hdr[5] = (uint8_t)(cfg->vni >> 8);
    v->tx_hdr[6] = (uint8_t)cfg->vni;
    v->fd = net_sockaddr_bind(&laddr, SOCK_DGRAM, err, errlen);
    if (v->fd < 0) {
        free(v);
        return NULL;
    }
    tunnel_sockopts(v->fd, raddr.sa.sa_family);
    int e = evloop_add_fd(l, v->fd, EPOLLIN, on_readable, v);
    if (e < 0) {
        snprintf(err, errlen, "%s: cannot watch the socket: %s", v->port.name, strerror(-e));
        close(v->fd);
        free(v);
        return NULL;
    }
    return &v->port;
}

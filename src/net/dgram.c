#include "net/dgram.h"

#include <errno.h>
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
 * rest of the loop (the watch is level-triggered: the rest comes next
 * round). */
#define RECVS_PER_EVENT 64

struct net_dgram {
    struct net_port port;
    struct evloop *loop;
    int fd;
    struct net_sockaddr remote;
    char remote_str[NET_SOCKADDR_STRLEN];
    /* Each kind of trouble is told once; after that it is only counted. */
    bool stranger_logged, rx_err_logged, tx_err_logged;
    uint8_t buf[NET_FRAME_MAX];
};

static void on_readable(void *opaque, int fd, uint32_t events)
{
    struct net_dgram *d = opaque;
    (void)events;
    for (int i = 0; i < RECVS_PER_EVENT; i++) {
        struct net_sockaddr from = { .len = sizeof(from.ss) };
        /* MSG_TRUNC: the real length, so a datagram too big for a frame
         * is recognised rather than delivered cut short. */
        ssize_t r = recvfrom(fd, d->buf, sizeof(d->buf), MSG_TRUNC | MSG_DONTWAIT, &from.sa, &from.len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && !d->rx_err_logged) {
                vwarn("%s: receive error: %s", d->port.name, strerror(errno));
                d->rx_err_logged = true;
            }
            return;
        }
        if (!net_sockaddr_equal(&from, &d->remote)) {
            d->port.stats.rx_dropped++;
            if (!d->stranger_logged) {
                char fs[NET_SOCKADDR_STRLEN];
                vwarn("%s: ignoring datagrams from %s (only %s is the peer)", d->port.name,
                      net_sockaddr_str(&from, fs), d->remote_str);
                d->stranger_logged = true;
            }
            continue;
        }
        if ((size_t)r > sizeof(d->buf)) {
            d->port.stats.rx_dropped++;
            continue;
        }
        /* Runts are counted by net_port_input. */
        struct net_pkt pkt = { .data = d->buf, .len = (size_t)r };
        net_port_input(&d->port, &pkt);
    }
}

static void dgram_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_dgram *d = (struct net_dgram *)p;
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[3];
    int n = net_pkt_wire_iov(pkt, tag_vid, tag, iov);
    struct msghdr m = {
        .msg_name = &d->remote.sa,
        .msg_namelen = d->remote.len,
        .msg_iov = iov,
        .msg_iovlen = (size_t)n,
    };
    ssize_t w;
    do
        w = sendmsg(d->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return;
    p->stats.tx_dropped++;
    /* A full socket buffer is the normal way for a burst to be too much;
     * anything else (no route, frame over the UDP limit) is worth a line. */
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && !d->tx_err_logged) {
        vwarn("%s: cannot send to %s: %s", p->name, d->remote_str, strerror(errno));
        d->tx_err_logged = true;
    }
}

static void dgram_free(struct net_port *p)
{
    struct net_dgram *d = (struct net_dgram *)p;
    evloop_del_fd(d->loop, d->fd);
    close(d->fd);
    free(d);
}

static const struct net_port_ops dgram_ops = {
    .transmit = dgram_transmit,
    .free = dgram_free,
};

struct net_port *net_dgram_new(struct evloop *l, const char *local, const char *remote, char *err, size_t errlen)
{
    struct net_sockaddr raddr, laddr;
    if (net_sockaddr_parse(&raddr, remote, AF_UNSPEC, false, err, errlen) < 0 ||
        net_sockaddr_parse(&laddr, local, raddr.sa.sa_family, true, err, errlen) < 0)
        return NULL;
    struct net_dgram *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "dgram %s: out of memory", local);
        return NULL;
    }
    char name[96];
    snprintf(name, sizeof(name), "dgram %s", remote);
    net_port_init(&d->port, &dgram_ops, name, false);
    d->loop = l;
    d->remote = raddr;
    net_sockaddr_str(&raddr, d->remote_str);
    d->fd = net_sockaddr_bind(&laddr, SOCK_DGRAM, err, errlen);
    if (d->fd < 0) {
        free(d);
        return NULL;
    }
    int e = evloop_add_fd(l, d->fd, EPOLLIN, on_readable, d);
    if (e < 0) {
        snprintf(err, errlen, "dgram %s: cannot watch the socket: %s", local, strerror(-e));
        close(d->fd);
        free(d);
        return NULL;
    }
    return &d->port;
}

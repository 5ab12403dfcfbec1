#include "net/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "net/port.h"
#include "net/tap.h" /* the virtio_net_hdr codec */

/* Frames received per readiness event (level-triggered: the rest comes
 * next round), so a flood on the NIC cannot starve the loop. */
#define RECVS_PER_EVENT 64

/* A socket buffer that holds a few TSO-sized frames; the default (about
 * 200 KiB) overflows after three. */
#define RCVBUF_BYTES (4 << 20)

struct net_packet {
    struct net_port port;
    struct evloop *loop;
    int fd;
    char ifname[IFNAMSIZ];
    uint8_t mac[NET_ETH_ALEN]; /* the interface's own: marks the host's frames */
    unsigned mtu;
    /* Each kind of trouble is told once; after that it is only counted. */
    bool rx_err_logged, tx_err_logged, big_logged, bad_hdr_logged;
    /* The frame is received NET_VLAN_HLEN bytes in, so that a tag can be
     * put back by moving only the two MAC addresses. */
    uint8_t buf[NET_VLAN_HLEN + NET_FRAME_MAX];
};

static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* The tag the kernel took off (or the NIC never put into the frame), if
 * any: true with the TPID and TCI. */
static bool stripped_tag(struct msghdr *m, uint16_t *tpid, uint16_t *tci)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
            c->cmsg_len < CMSG_LEN(sizeof(struct tpacket_auxdata)))
            continue;
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof(aux));
        /* Kernels before TP_STATUS_VLAN_VALID only say "tagged" by a
         * non-zero TCI; newer ones also flag priority tags (TCI 0). */
        if (!(aux.tp_status & TP_STATUS_VLAN_VALID) && !aux.tp_vlan_tci)
            return false;
        *tci = aux.tp_vlan_tci;
        *tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) && aux.tp_vlan_tpid ? aux.tp_vlan_tpid
                                                                                  : NET_ETH_P_8021Q;
        return true;
    }
    return false;
}

static void on_readable(void *opaque, int fd, uint32_t events)
{
    struct net_packet *d = opaque;
    (void)events;
    for (int i = 0; i < RECVS_PER_EVENT; i++) {
        uint8_t vh[NET_VNET_HDR_LEN];
        struct iovec iov[2] = {
            { vh, sizeof(vh) },
            { d->buf + NET_VLAN_HLEN, NET_FRAME_MAX },
        };
        union {
            struct cmsghdr align;
            char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } cbuf;
        struct sockaddr_ll sll;
        struct msghdr m = {
            .msg_name = &sll,
            .msg_namelen = sizeof(sll),
            .msg_iov = iov,
            .msg_iovlen = 2,
            .msg_control = cbuf.b,
            .msg_controllen = sizeof(cbuf.b),
        };
        /* MSG_TRUNC: the real length, so an oversized frame is recognised
         * rather than delivered cut short. */
        ssize_t r = recvmsg(fd, &m, MSG_TRUNC | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINVAL) {
                /* A GSO frame of a kind the virtio-net header cannot
                 * describe: the kernel has consumed it. */
                d->port.stats.rx_dropped++;
                continue;
            }
            /* ENETDOWN is reported once when the link goes down (or was
             * down at bind); reception resumes by itself when it is up. */
            if (!d->rx_err_logged) {
                vwarn("%s: receive error: %s", d->port.name, strerror(errno));
                d->rx_err_logged = true;
            }
            return;
        }
        if ((size_t)r < sizeof(vh) + NET_FRAME_MIN || (size_t)r > sizeof(vh) + NET_FRAME_MAX ||
            (m.msg_flags & MSG_TRUNC)) {
            d->port.stats.rx_dropped++;
            continue;
        }
        struct net_pkt pkt = { .data = d->buf + NET_VLAN_HLEN, .len = (size_t)r - sizeof(vh) };
        if (m.msg_namelen >= offsetof(struct sockaddr_ll, sll_pkttype) + sizeof(sll.sll_pkttype) &&
            sll.sll_pkttype == PACKET_OUTGOING && memcmp(net_pkt_src(&pkt), d->mac, NET_ETH_ALEN) != 0)
            continue; /* not the host's: our own (or a neighbour's) injection */
        if (!net_vnet_hdr_decode(&pkt.off, vh, pkt.len)) {
            d->port.stats.rx_dropped++;
            if (!d->bad_hdr_logged) {
                vwarn("%s: dropping a frame with offload metadata that does not fit it", d->port.name);
                d->bad_hdr_logged = true;
            }
            continue;
        }
        uint16_t tpid, tci;
        if (stripped_tag(&m, &tpid, &tci)) {
            memmove(d->buf, d->buf + NET_VLAN_HLEN, 2 * NET_ETH_ALEN);
            put_be16(d->buf + 2 * NET_ETH_ALEN, tpid);
            put_be16(d->buf + 2 * NET_ETH_ALEN + 2, tci);
            pkt.data = d->buf;
            pkt.len += NET_VLAN_HLEN;
            /* The kernel's offsets count from the untagged frame. */
            if (pkt.off.flags & NET_OFF_NEEDS_CSUM)
                pkt.off.csum_start += NET_VLAN_HLEN;
            if (pkt.off.hdr_len)
                pkt.off.hdr_len += NET_VLAN_HLEN;
        }
        net_port_input(&d->port, &pkt);
    }
}

static unsigned read_mtu(int fd, const char *ifname)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    return ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
}

static bool fits_mtu(const struct net_packet *d, const struct net_pkt *pkt, uint16_t tag_vid)
{
    size_t wire = pkt->len + (tag_vid ? NET_VLAN_HLEN : 0);
    uint16_t type = get_be16(pkt->data + 2 * NET_ETH_ALEN);
    bool tagged = tag_vid || type == NET_ETH_P_8021Q || type == NET_ETH_P_8021AD;
    return wire <= (size_t)d->mtu + NET_ETH_HLEN + (tagged ? NET_VLAN_HLEN : 0);
}

static void packet_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_packet *d = (struct net_packet *)p;
    if (!fits_mtu(d, pkt, tag_vid)) {
        /* The MTU may have been raised since we looked; a lowered one is
         * caught by the kernel (EMSGSIZE). */
        unsigned mtu = read_mtu(d->fd, d->ifname);
        if (mtu)
            d->mtu = mtu;
        if (!fits_mtu(d, pkt, tag_vid)) {
            p->stats.tx_dropped++;
            if (!d->big_logged) {
                vwarn("%s: dropping frames larger than the MTU of %s (%u)", p->name, d->ifname, d->mtu);
                d->big_logged = true;
            }
            return;
        }
    }
    /* The socket has PACKET_VNET_HDR, so every frame sent needs a header
     * too: all zeros, nothing left for the kernel to finish. */
    uint8_t vh[NET_VNET_HDR_LEN] = { 0 };
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    iov[0] = (struct iovec){ vh, sizeof(vh) };
    int n = 1 + net_pkt_wire_iov(pkt, tag_vid, tag, iov + 1);
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
    ssize_t w;
    do
        w = sendmsg(d->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return;
    p->stats.tx_dropped++;
    /* A full socket buffer or device queue is the normal way for a burst
     * to be too much; anything else (link down, MTU lowered) gets a line. */
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && !d->tx_err_logged) {
        vwarn("%s: cannot send: %s", p->name, strerror(errno));
        d->tx_err_logged = true;
    }
}

static void packet_free(struct net_port *p)
{
    struct net_packet *d = (struct net_packet *)p;
    evloop_del_fd(d->loop, d->fd);
    /* Closing drops the promiscuous membership too. */
    close(d->fd);
    free(d);
}

static const struct net_port_ops packet_ops = {
    .transmit = packet_transmit,
    .free = packet_free,
};

static int setopt(struct net_packet *d, int level, int name, const void *v, socklen_t len, const char *what,
                  char *err, size_t errlen)
{
    if (setsockopt(d->fd, level, name, v, len) == 0)
        return 0;
    snprintf(err, errlen, "packet %s: cannot %s: %s", d->ifname, what, strerror(errno));
    return -1;
}

/* Bind to the interface and ask for what we need from it. */
static int setup_socket(struct net_packet *d, int ifindex, char *err, size_t errlen)
{
    int one = 1;
    /* Both before bind: the first frame already needs its header. */
    if (setopt(d, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one), "enable virtio-net headers", err, errlen) < 0 ||
        setopt(d, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one), "enable VLAN metadata", err, errlen) < 0)
        return -1;
    int rcvbuf = RCVBUF_BYTES;
    /* FORCE goes past net.core.rmem_max with CAP_NET_ADMIN; otherwise take
     * what the limit allows. */
    if (setsockopt(d->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    if (bind(d->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        snprintf(err, errlen, "packet %s: cannot bind to the interface: %s", d->ifname, strerror(errno));
        return -1;
    }
    struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };
    return setopt(d, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr), "make the interface promiscuous", err,
                  errlen);
}

struct net_port *net_packet_new(struct evloop *l, const char *ifname, char *err, size_t errlen)
{
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
        snprintf(err, errlen, "packet %s: not a valid interface name", ifname ? ifname : "(none)");
        return NULL;
    }
    /* Looked up first: "no such interface" is the more useful message for
     * a user who also lacks the privilege. */
    int ifindex = (int)if_nametoindex(ifname);
    if (!ifindex) {
        snprintf(err, errlen, "packet %s: no such interface", ifname);
        return NULL;
    }
    struct net_packet *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "packet %s: out of memory", ifname);
        return NULL;
    }
    d->loop = l;
    snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
    /* Protocol 0: receive nothing until bound to the one interface, so no
     * frame from another interface slips in between. */
    d->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "packet %s: cannot open an AF_PACKET socket: %s%s", ifname, strerror(e),
                 e == EPERM || e == EACCES ? " (needs root or CAP_NET_RAW)" : "");
        free(d);
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(d->fd, SIOCGIFHWADDR, &ifr) < 0) {
        snprintf(err, errlen, "packet %s: cannot read its MAC address: %s", ifname, strerror(errno));
        goto fail;
    }
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
        snprintf(err, errlen, "packet %s: not an Ethernet interface", ifname);
        goto fail;
    }
    memcpy(d->mac, ifr.ifr_hwaddr.sa_data, NET_ETH_ALEN);
    d->mtu = read_mtu(d->fd, ifname);
    if (!d->mtu) {
        snprintf(err, errlen, "packet %s: cannot read its MTU: %s", ifname, strerror(errno));
        goto fail;
    }
    if (setup_socket(d, ifindex, err, errlen) < 0)
        goto fail;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(d->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
        vwarn("packet %s: the interface is down; frames will flow once it is up", ifname);

    char name[80];
    snprintf(name, sizeof(name), "packet %s", ifname);
    net_port_init(&d->port, &packet_ops, name, false);
    int e = evloop_add_fd(l, d->fd, EPOLLIN, on_readable, d);
    if (e < 0) {
        snprintf(err, errlen, "packet %s: cannot watch the socket: %s", ifname, strerror(-e));
        goto fail;
    }
    return &d->port;

fail:
    close(d->fd);
    free(d);
    return NULL;
}

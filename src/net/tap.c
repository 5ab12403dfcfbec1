#include "net/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "net/port.h"

/* Frames read per readiness event; the watch is level-triggered, so what
 * is left is read next round, after the other sources had their turn. */
#define READS_PER_EVENT 64

/* The TAP's header: virtio_net_hdr plus num_buffers (virtio 1.0 and later
 * always have it), which is what a virtio-net guest sees too. */
#define TAP_HDR_LEN 12

/* Room for the largest GSO frame the kernel may hand over: 64 KiB of IP
 * packet, an Ethernet header and an 802.1Q tag, behind the header. */
#define TAP_BUF_LEN (TAP_HDR_LEN + 65536 + NET_ETH_HLEN + NET_VLAN_HLEN)

struct net_tap {
    struct net_port port;
    struct evloop *loop;
    int fd;
    bool vnet_hdr;
    bool watching;
    char ifname[IFNAMSIZ];
    /* Each kind of trouble is told once; after that it is only counted. */
    bool rx_err_logged, tx_err_logged, bad_hdr_logged;
    uint8_t buf[TAP_BUF_LEN];
};

/* ---- virtio_net_hdr ---- */

static inline void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

void net_vnet_hdr_encode(uint8_t h[NET_VNET_HDR_LEN], const struct net_offload *o)
{
    h[0] = o->flags;
    h[1] = o->gso_type;
    put_le16(h + 2, o->hdr_len);
    put_le16(h + 4, o->gso_size);
    put_le16(h + 6, o->csum_start);
    put_le16(h + 8, o->csum_offset);
}

bool net_vnet_hdr_decode(struct net_offload *o, const uint8_t h[NET_VNET_HDR_LEN], size_t frame_len)
{
    o->flags = h[0] & (NET_OFF_NEEDS_CSUM | NET_OFF_DATA_VALID);
    o->gso_type = h[1];
    o->hdr_len = get_le16(h + 2);
    o->gso_size = get_le16(h + 4);
    o->csum_start = get_le16(h + 6);
    o->csum_offset = get_le16(h + 8);
    /* Offsets are 16-bit and frame_len small, so the sums cannot wrap. */
    if ((o->flags & NET_OFF_NEEDS_CSUM) && (size_t)o->csum_start + o->csum_offset + 2 > frame_len)
        return false;
    switch (o->gso_type & ~NET_GSO_ECN) {
    case NET_GSO_NONE:
        return (o->gso_type & NET_GSO_ECN) == 0;
    case NET_GSO_TCPV4:
    case NET_GSO_TCPV6:
    case NET_GSO_UDP:
    case NET_GSO_UDP_L4:
        /* hdr_len is only a hint, but one past the frame is a lie. */
        return o->gso_size != 0 && o->hdr_len <= frame_len;
    default:
        return false;
    }
}

/* ---- data path ---- */

static void on_readable(void *opaque, int fd, uint32_t events)
{
    struct net_tap *t = opaque;
    (void)events;
    size_t hlen = t->vnet_hdr ? TAP_HDR_LEN : 0;
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t r = read(fd, t->buf, sizeof(t->buf));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* EBADFD/EIO: the interface was deleted under us. The file
             * stays readable-with-error forever, so stop watching it
             * rather than spin; sending keeps counting drops. */
            vwarn("%s: read error, no longer receiving: %s", t->port.name, strerror(errno));
            evloop_del_fd(t->loop, t->fd);
            t->watching = false;
            return;
        }
        /* The kernel returns the whole frame's length even if it did not
         * fit (it never should, with this buffer). */
        if ((size_t)r > sizeof(t->buf) || (size_t)r < hlen + NET_FRAME_MIN) {
            t->port.stats.rx_dropped++;
            continue;
        }
        struct net_pkt pkt = { .data = t->buf + hlen, .len = (size_t)r - hlen };
        if (t->vnet_hdr && !net_vnet_hdr_decode(&pkt.off, t->buf, pkt.len)) {
            t->port.stats.rx_dropped++;
            if (!t->bad_hdr_logged) {
                vwarn("%s: dropping a frame with offload metadata that does not fit it", t->port.name);
                t->bad_hdr_logged = true;
            }
            continue;
        }
        net_port_input(&t->port, &pkt);
    }
}

static void tap_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_tap *t = (struct net_tap *)p;
    uint8_t hdr[TAP_HDR_LEN] = { 0 }; /* num_buffers stays 0 */
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    int n = 0;
    if (t->vnet_hdr) {
        struct net_offload off = net_offload_tagged(pkt->off, tag_vid);
        net_vnet_hdr_encode(hdr, &off);
        iov[n++] = (struct iovec){ hdr, sizeof(hdr) };
    }
    n += net_pkt_wire_iov(pkt, tag_vid, tag, iov + n);
    ssize_t w;
    do
        w = writev(t->fd, iov, n);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return;
    p->stats.tx_dropped++;
    /* A full queue is the normal way for a burst to be too much; anything
     * else (metadata the kernel refuses, the link gone) is worth a line. */
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && !t->tx_err_logged) {
        vwarn("%s: cannot send: %s%s", p->name, strerror(errno), errno == EIO ? " (is the link down?)" : "");
        t->tx_err_logged = true;
    }
}

static void tap_free(struct net_port *p)
{
    struct net_tap *t = (struct net_tap *)p;
    if (t->watching)
        evloop_del_fd(t->loop, t->fd);
    /* Closing the last file of a non-persistent TAP deletes the device. */
    close(t->fd);
    free(t);
}

static const struct net_port_ops tap_ops = {
    .transmit = tap_transmit,
    .free = tap_free,
};

const char *net_tap_ifname(const struct net_port *p) { return ((const struct net_tap *)p)->ifname; }

/* ---- setup ---- */

/* "A.B.C.D/PREFIX" into an address and a netmask, both network order. */
static bool parse_ipv4(const char *s, struct in_addr *addr, struct in_addr *mask)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s >= INET_ADDRSTRLEN)
        return false;
    char a[INET_ADDRSTRLEN];
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = 0;
    if (inet_pton(AF_INET, a, addr) != 1)
        return false;
    char *end;
    errno = 0;
    unsigned long prefix = strtoul(slash + 1, &end, 10);
    if (errno || end == slash + 1 || *end || prefix < 1 || prefix > 32)
        return false;
    mask->s_addr = htonl((uint32_t)(0xffffffffull << (32 - prefix)));
    return true;
}

static void sin_set(struct sockaddr *sa, struct in_addr a)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };
    memcpy(sa, &sin, sizeof(sin));
}

static const char *perm_hint(int e)
{
    return e == EPERM || e == EACCES ? " (needs root or CAP_NET_ADMIN)" : "";
}

/* Host-side settings, each only when asked for. s: an AF_INET socket (the
 * address ioctls need one; the others work on any). */
static int configure(struct net_tap *t, const struct net_tap_opts *o, int s, char *err, size_t errlen)
{
    const char *n = t->ifname;
    struct ifreq ifr;
    if (o->mtu) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", n);
        ifr.ifr_mtu = (int)o->mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
            snprintf(err, errlen, "tap %s: cannot set MTU %u: %s%s", n, o->mtu, strerror(errno), perm_hint(errno));
            return -1;
        }
    }
    if (o->bridge && *o->bridge) {
        memset(&ifr, 0, sizeof(ifr));
        if (strlen(o->bridge) >= IFNAMSIZ) {
            snprintf(err, errlen, "tap %s: bridge name '%s' is too long", n, o->bridge);
            return -1;
        }
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", o->bridge);
        ifr.ifr_ifindex = (int)if_nametoindex(n);
        if (ioctl(s, SIOCBRADDIF, &ifr) < 0) {
            int e = errno;
            const char *why = e == ENODEV                    ? "no such bridge"
                              : e == EOPNOTSUPP || e == EINVAL ? "not a bridge"
                              : e == EBUSY ? "the TAP already belongs to another bridge"
                                           : strerror(e);
            snprintf(err, errlen, "tap %s: cannot add it to bridge %s: %s%s", n, o->bridge, why, perm_hint(e));
            return -1;
        }
    }
    if (o->ipv4 && *o->ipv4) {
        struct in_addr a, m;
        if (!parse_ipv4(o->ipv4, &a, &m)) {
            snprintf(err, errlen, "tap %s: bad address '%s' (expected A.B.C.D/PREFIX)", n, o->ipv4);
            return -1;
        }
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", n);
        sin_set(&ifr.ifr_addr, a);
        if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
            snprintf(err, errlen, "tap %s: cannot assign %s: %s%s", n, o->ipv4, strerror(errno), perm_hint(errno));
            return -1;
        }
        /* SIOCSIFADDR gave it the classful mask; now the one asked for. */
        sin_set(&ifr.ifr_netmask, m);
        if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
            snprintf(err, errlen, "tap %s: cannot set the netmask of %s: %s", n, o->ipv4, strerror(errno));
            return -1;
        }
    }
    if ((o->ipv4 && *o->ipv4) || (o->bridge && *o->bridge)) {
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", n);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
            ifr.ifr_flags |= IFF_UP;
            if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
                return 0;
        }
        snprintf(err, errlen, "tap %s: cannot bring the link up: %s%s", n, strerror(errno), perm_hint(errno));
        return -1;
    }
    return 0;
}

/* The TAP's own settings on the file: header size, byte order, and the
 * offloads we can take from the kernel. */
static int enable_vnet_hdr(struct net_tap *t, char *err, size_t errlen)
{
    int sz = TAP_HDR_LEN;
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
        snprintf(err, errlen, "tap %s: cannot set the virtio-net header size: %s", t->ifname, strerror(errno));
        return -1;
    }
    /* Modern virtio is little-endian. Legacy TAP headers are in host order,
     * the same on little-endian hosts, so a kernel that does not know this
     * request is fine there; on a big-endian host it is not. */
    int le = 1;
    if (ioctl(t->fd, TUNSETVNETLE, &le) < 0 && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
        snprintf(err, errlen, "tap %s: cannot make the virtio-net header little-endian: %s", t->ifname,
                 strerror(errno));
        return -1;
    }
    /* Only the TCP segmentation that net/offload.c can finish for ports
     * without offloads: no UFO/USO, so the kernel cuts those itself. */
    unsigned long off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    if (ioctl(t->fd, TUNSETOFFLOAD, off) < 0) {
        snprintf(err, errlen, "tap %s: cannot enable offloads: %s", t->ifname, strerror(errno));
        return -1;
    }
    return 0;
}

static void open_error(const char *name, int e, char *err, size_t errlen)
{
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        snprintf(err, errlen, "tap %s: cannot open /dev/net/tun: %s (is TUN/TAP support loaded? modprobe tun)",
                 name, strerror(e));
    else if (e == EACCES || e == EPERM)
        snprintf(err, errlen, "tap %s: cannot open /dev/net/tun: %s (TAP needs root or CAP_NET_ADMIN)", name,
                 strerror(e));
    else
        snprintf(err, errlen, "tap %s: cannot open /dev/net/tun: %s", name, strerror(e));
}

static void setiff_error(const char *name, bool existed, int e, char *err, size_t errlen)
{
    if (e == EPERM || e == EACCES)
        snprintf(err, errlen,
                 "tap %s: not allowed to %s it: TAP needs root or CAP_NET_ADMIN (or a persistent TAP made "
                 "for this user with `ip tuntap add %s mode tap user USER`)",
                 name, existed ? "attach to" : "create", name);
    else if (e == EBUSY)
        snprintf(err, errlen, "tap %s: the name is taken: the TAP is already in use by another program", name);
    else if (e == EINVAL && existed)
        snprintf(err, errlen, "tap %s: the name is taken by a device that is not a TAP", name);
    else if (e == EINVAL)
        snprintf(err, errlen, "tap %s: invalid interface name", name);
    else
        snprintf(err, errlen, "tap %s: cannot create: %s", name, strerror(e));
}

struct net_port *net_tap_new(struct evloop *l, const struct net_tap_opts *o, char *err, size_t errlen)
{
    const char *want = o->ifname && *o->ifname ? o->ifname : "vireo%d";
    if (strlen(want) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap %s: name too long (at most %d characters)", want, IFNAMSIZ - 1);
        return NULL;
    }
    /* Checked before anything is created, so a typo leaves no trace. */
    struct in_addr a, m;
    if (o->ipv4 && *o->ipv4 && !parse_ipv4(o->ipv4, &a, &m)) {
        snprintf(err, errlen, "tap %s: bad address '%s' (expected A.B.C.D/PREFIX)", want, o->ipv4);
        return NULL;
    }
    struct net_tap *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "tap %s: out of memory", want);
        return NULL;
    }
    t->loop = l;
    t->vnet_hdr = o->vnet_hdr;
    int s = -1;

    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        open_error(want, errno, err, errlen);
        goto fail;
    }
    /* Only for the messages: TUNSETIFF says EINVAL both for a bad name and
     * for a name taken by a device of another kind. */
    bool existed = !strchr(want, '%') && if_nametoindex(want) != 0;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", want);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (o->vnet_hdr ? IFF_VNET_HDR : 0);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        setiff_error(want, existed, errno, err, errlen);
        goto fail;
    }
    snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
    if (o->vnet_hdr && enable_vnet_hdr(t, err, errlen) < 0)
        goto fail;

    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(err, errlen, "tap %s: cannot open a socket to configure it: %s", t->ifname, strerror(errno));
        goto fail;
    }
    if (configure(t, o, s, err, errlen) < 0)
        goto fail;
    close(s);
    s = -1;

    char name[80];
    snprintf(name, sizeof(name), "tap %s", t->ifname);
    net_port_init(&t->port, &tap_ops, name, o->vnet_hdr);
    int e = evloop_add_fd(l, t->fd, EPOLLIN, on_readable, t);
    if (e < 0) {
        snprintf(err, errlen, "tap %s: cannot watch the device: %s", t->ifname, strerror(-e));
        goto fail;
    }
    t->watching = true;
    return &t->port;

fail:
    if (s >= 0)
        close(s);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
    return NULL;
}

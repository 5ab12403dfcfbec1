#include "net/hub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/acceptor.h"
#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "net/dgram.h"
#include "net/dhcpd.h"
#include "net/hub_status.h"
#include "net/nat.h"
#include "net/packet.h"
#include "net/pcap.h"
#include "net/port.h"
#include "net/rundir.h"
#include "net/stream.h"
#include "net/switch.h"
#include "net/tap.h"
#include "net/vxlan.h"

#define MAX_CONNS 62            /* VM ports; the switch keeps 2 for its own */
#define HELLO_TIMEOUT_NS (5ull * 1000000000ull)
#define IDLE_EXIT_NS (2ull * 1000000000ull)
#define FIRST_CLIENT_NS (30ull * 1000000000ull)
#define NATPF_TEXT_MAX 4096

struct hub;

struct conn {
    struct net_port port;
    struct hub *hub;
    int fd;
    bool plugged;               /* hello accepted, port in the switch */
    uint64_t hello_timer;
    uint8_t mac[6];
    char client[64];            /* from the hello: "VMNAME nicN" */
    struct conn *next;
};

struct hub {
    const struct hub_config *cfg;
    struct evloop *loop;
    struct net_switch *sw;
    int listen_fd, lock_fd, sig_fd;
    struct acceptor acc;
    char sock_path[256], lock_path[256];
    struct conn *conns;
    unsigned nconns;
    uint64_t idle_timer;
    struct net_port *nat, *dhcp, *host;
    struct net_port *uplinks[HUB_MAX_UPLINKS];
    struct net_pcap *pcap;
    struct net_natpf natpf[HUB_MAX_NATPF * 4];
    unsigned nnatpf;
    unsigned nplugged;          /* VMs in the switch (on demand: 0 = stop soon) */
    unsigned mtu;
    uint8_t rx[HUB_MSG_MAX + NATPF_TEXT_MAX];
};

static void report_ready(const struct hub_config *c, const char *line)
{
    if (c->ready_fd < 0)
        return;
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%s\n", line);
    ssize_t r = write(c->ready_fd, buf, (size_t)n);
    (void)r;
    close(c->ready_fd);
    ((struct hub_config *)c)->ready_fd = -1;
}

/* ---- VM connections ---- */

static void idle_exit(void *opaque)
{
    struct hub *h = opaque;
    h->idle_timer = 0;
    if (!h->nplugged) {
        vinfo("%s '%s': no VMs left, stopping", hub_kind_name(h->cfg->kind), h->cfg->name);
        evloop_stop(h->loop);
    }
}

static void conn_close(struct conn *c, const char *why)
{
    struct hub *h = c->hub;
    if (why)
        vinfo("%s: %s", c->port.name, why);
    if (c->plugged) {
        net_switch_detach(h->sw, &c->port);
        h->nplugged--;
    }
    if (c->hello_timer)
        evloop_cancel_timer(h->loop, c->hello_timer);
    evloop_del_fd(h->loop, c->fd);
    close(c->fd);
    for (struct conn **pp = &h->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    h->nconns--;
    free(c);
    if (h->cfg->on_demand && !h->nplugged && !h->idle_timer)
        h->idle_timer = evloop_add_timer(h->loop, IDLE_EXIT_NS, idle_exit, h);
}

static void conn_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct conn *c = (struct conn *)p;
    struct net_offload o = net_offload_tagged(pkt->off, tag_vid);
    struct hub_frame_hdr fh = hub_frame_hdr_make(&o);
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    iov[0] = (struct iovec){ &fh, sizeof(fh) };
    int n = net_pkt_wire_iov(pkt, tag_vid, tag, iov + 1);
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n + 1 };
    /* Never wait for a VM: one that does not read loses frames, the
     * others do not notice. */
    if (sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        p->stats.tx_dropped++;
}

static const struct net_port_ops conn_ops = { .transmit = conn_transmit };

static int send_welcome(struct hub *h, int fd, int status, const char *msg)
{
    struct hub_welcome w = { .version = HUB_VERSION, .status = status, .mtu = (uint16_t)h->mtu,
                             .flags = h->cfg->on_demand ? HUB_WELCOME_ON_DEMAND : 0 };
    memcpy(w.magic, HUB_MAGIC, 8);
    snprintf(w.message, sizeof(w.message), "%s", msg ? msg : "");
    return send(fd, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(w) ? 0 : -1;
}

/* Port forwards a VM brings for a natnetwork: one rule per line. A rule
 * whose name is already known is taken as already in place. */
static int apply_natpf(struct hub *h, char *text, char *err, size_t errlen)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!*line)
            continue;
        if (!h->nat) {
            snprintf(err, errlen, "port forwarding needs a natnetwork; %s '%s' has no NAT", hub_kind_name(h->cfg->kind),
                     h->cfg->name);
            return -1;
        }
        struct net_natpf pf;
        if (net_natpf_parse(line, (struct in_addr){ 0 }, &pf, err, errlen) < 0)
            return -1;
        if (!pf.guest_addr.s_addr) {
            snprintf(err, errlen, "port forward '%s': a natnetwork rule needs the guest's address", pf.name);
            return -1;
        }
        /* Rules belong to the network and live as long as it does (as in
         * VirtualBox). A VM bringing a rule that is already there is fine;
         * one with the same name and other content is refused. */
        bool known = false;
        for (unsigned i = 0; i < h->nnatpf && !known; i++) {
            const struct net_natpf *o = &h->natpf[i];
            if (strcmp(o->name, pf.name))
                continue;
            if (o->udp != pf.udp || o->host_addr.s_addr != pf.host_addr.s_addr || o->host_port != pf.host_port ||
                o->guest_addr.s_addr != pf.guest_addr.s_addr || o->guest_port != pf.guest_port) {
                snprintf(err, errlen, "port forward '%s': this network already has a rule of that name with "
                         "other addresses or ports", pf.name);
                return -1;
            }
            known = true;
        }
        if (known)
            continue;
        if (h->nnatpf >= sizeof(h->natpf) / sizeof(h->natpf[0])) {
            snprintf(err, errlen, "port forward '%s': too many rules on this network", pf.name);
            return -1;
        }
        if (net_nat_add_forward(h->nat, &pf, err, errlen) < 0)
            return -1;
        h->natpf[h->nnatpf++] = pf;
        vinfo("%s '%s': port forward %s", hub_kind_name(h->cfg->kind), h->cfg->name, line);
    }
    return 0;
}

/* Answer a status query: the welcome and the report in one message. */
static void send_status(struct hub *h, struct conn *c)
{
    struct hub_status_port ports[MAX_CONNS + 3 + HUB_MAX_UPLINKS];
    size_t n = 0;
    for (struct conn *o = h->conns; o; o = o->next)
        if (o->plugged && n < MAX_CONNS)
            ports[n++] = (struct hub_status_port){ &o->port, o->client, o->mac };
    struct net_port *own[] = { h->nat, h->dhcp, h->host };
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (own[i])
            ports[n++] = (struct hub_status_port){ own[i], NULL, NULL };
    for (unsigned i = 0; i < HUB_MAX_UPLINKS; i++)
        if (h->uplinks[i])
            ports[n++] = (struct hub_status_port){ h->uplinks[i], NULL, NULL };
    char *text = hub_status_build(h->cfg->kind, h->cfg->name, h->mtu, h->sw, ports, n);
    struct hub_welcome w = { .version = HUB_VERSION, .status = text ? 0 : ENOMEM, .mtu = (uint16_t)h->mtu };
    memcpy(w.magic, HUB_MAGIC, 8);
    if (!text)
        snprintf(w.message, sizeof(w.message), "out of memory");
    struct iovec iov[2] = { { &w, sizeof(w) }, { text, text ? strlen(text) : 0 } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    if (sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        vinfo("%s: cannot send the status report: %s", c->port.name, strerror(errno));
    free(text);
}

static void conn_hello(struct conn *c, ssize_t n)
{
    struct hub *h = c->hub;
    struct hub_hello hello;
    char err[256] = "";
    if (n < (ssize_t)sizeof(hello)) {
        conn_close(c, "malformed hello; closed");
        return;
    }
    memcpy(&hello, h->rx, sizeof(hello));
    if (memcmp(hello.magic, HUB_MAGIC, 8) || hello.version != HUB_VERSION) {
        send_welcome(h, c->fd, EPROTO, "protocol version mismatch between this VM and the switch");
        conn_close(c, "wrong protocol version; closed");
        return;
    }
    if (hello.flags & HUB_HELLO_STATUS) {
        send_status(h, c);
        conn_close(c, NULL);
        return;
    }
    hello.client[sizeof(hello.client) - 1] = 0;
    for (char *p = hello.client; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    snprintf(c->client, sizeof(c->client), "%s", hello.client);
    snprintf(c->port.name, sizeof(c->port.name), "port %d (%.40s)", c->fd, hello.client);
    memcpy(c->mac, hello.mac, 6);
    c->port.offloads = hello.flags & HUB_HELLO_OFFLOADS;
    if (hello.vlan > NET_VID_MAX) {
        send_welcome(h, c->fd, EINVAL, "VLAN id out of range 1-4094");
        conn_close(c, "bad VLAN; closed");
        return;
    }
    net_vlan_access(&c->port.vlan, hello.vlan ? hello.vlan : 1);
    size_t extra = (size_t)n - sizeof(hello);
    if (extra) {
        char text[NATPF_TEXT_MAX + 1];
        if (extra > NATPF_TEXT_MAX) {
            send_welcome(h, c->fd, E2BIG, "too many port forwarding rules");
            conn_close(c, "oversized hello; closed");
            return;
        }
        memcpy(text, h->rx + sizeof(hello), extra);
        text[extra] = 0;
        if (apply_natpf(h, text, err, sizeof(err)) < 0) {
            send_welcome(h, c->fd, EINVAL, err);
            conn_close(c, "port forward refused; closed");
            return;
        }
    }
    if (net_switch_attach(h->sw, &c->port) < 0) {
        send_welcome(h, c->fd, ENOSPC, "the network has no free port");
        conn_close(c, "switch full; closed");
        return;
    }
    c->plugged = true;
    h->nplugged++;
    if (h->idle_timer) {
        evloop_cancel_timer(h->loop, h->idle_timer);
        h->idle_timer = 0;
    }
    evloop_cancel_timer(h->loop, c->hello_timer);
    c->hello_timer = 0;
    if (send_welcome(h, c->fd, 0, NULL) < 0) {
        conn_close(c, "cannot answer; closed");
        return;
    }
    vinfo("%s plugged in, MAC %02x:%02x:%02x:%02x:%02x:%02x, VLAN %u", c->port.name, c->mac[0], c->mac[1],
          c->mac[2], c->mac[3], c->mac[4], c->mac[5], c->port.vlan.vid);
}

static void conn_readable(void *opaque, int fd, uint32_t events)
{
    struct conn *c = opaque;
    struct hub *h = c->hub;
    (void)events;
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, h->rx, sizeof(h->rx), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            conn_close(c, strerror(errno));
            return;
        }
        if (n == 0) {
            conn_close(c, "left");
            return;
        }
        if ((size_t)n > sizeof(h->rx)) {
            c->port.stats.rx_dropped++;
            continue;
        }
        if (!c->plugged) {
            conn_hello(c, n);
            return; /* c may be gone */
        }
        struct net_pkt pkt;
        if (!hub_frame_parse(h->rx, (size_t)n, &pkt) || (!c->port.offloads && net_pkt_needs_finish(&pkt))) {
            c->port.stats.rx_dropped++;
            continue;
        }
        net_port_input(&c->port, &pkt);
    }
}

static void hello_timeout(void *opaque)
{
    struct conn *c = opaque;
    c->hello_timer = 0;
    conn_close(c, "no hello within 5 s; closed");
}

static void on_accept(void *opaque, int fd, uint32_t events)
{
    struct hub *h = opaque;
    (void)fd, (void)events;
    for (;;) {
        int cfd = acceptor_next(&h->acc, NULL, NULL);
        if (cfd < 0)
            return;
        if (h->nconns >= MAX_CONNS) {
            send_welcome(h, cfd, ENOSPC, "the network has no free port");
            close(cfd);
            continue;
        }
        hub_set_sockbufs(cfd);
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(cfd);
            continue;
        }
        char name[32];
        snprintf(name, sizeof(name), "port %d", cfd);
        net_port_init(&c->port, &conn_ops, name, false);
        c->hub = h;
        c->fd = cfd;
        if (evloop_add_fd(h->loop, cfd, EPOLLIN, conn_readable, c) < 0) {
            close(cfd);
            free(c);
            continue;
        }
        c->hello_timer = evloop_add_timer(h->loop, HELLO_TIMEOUT_NS, hello_timeout, c);
        c->next = h->conns;
        h->conns = c;
        h->nconns++;
    }
}

/* ---- the network's own ports ---- */

static int parse_cidr(const char *s, struct in_addr *addr, unsigned *prefix, char *err, size_t errlen)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    unsigned p = 24;
    if (slash) {
        *slash = 0;
        char *end;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (*end || end == slash + 1 || v < 8 || v > 30) {
            snprintf(err, errlen, "'%s': the prefix length must be 8 to 30", s);
            return -1;
        }
        p = (unsigned)v;
    }
    if (inet_pton(AF_INET, buf, addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address with a prefix (like 10.0.2.0/24)", s);
        return -1;
    }
    *prefix = p;
    return 0;
}

static void hub_mac(const char *name, uint8_t last, uint8_t mac[6])
{
    uint32_t x = 2166136261u;
    for (const char *p = name; *p; p++)
        x = (x ^ (uint8_t)*p) * 16777619u;
    mac[0] = 0x02; mac[1] = 0x56; mac[2] = 0x52;
    mac[3] = (uint8_t)(x >> 8); mac[4] = (uint8_t)x; mac[5] = last;
}

static int plug(struct hub *h, struct net_port *p, char *err, size_t errlen)
{
    if (net_switch_attach(h->sw, p) < 0) {
        snprintf(err, errlen, "switch has no free port");
        return -1;
    }
    return 0;
}

static int setup_natnetwork(struct hub *h, char *err, size_t errlen)
{
    struct in_addr net;
    unsigned prefix;
    if (parse_cidr(h->cfg->cidr ? h->cfg->cidr : "10.0.2.0/24", &net, &prefix, err, errlen) < 0)
        return -1;
    uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0, n = ntohl(net.s_addr) & mask;
    /* VirtualBox's layout: gateway .1, DHCP server .3, leases from .4.
     * libslirp only forwards port 53 at its DNS address, so that cannot be
     * the gateway (which must reach every host port): DNS is .2. */
    struct net_nat_config nc = { .mtu = h->mtu, .name = "nat gateway" };
    nc.network.s_addr = htonl(n);
    nc.netmask.s_addr = htonl(mask);
    nc.gateway.s_addr = htonl(n | 1);
    nc.dns.s_addr = htonl(n | 2);
    h->nat = net_nat_new(h->loop, &nc, err, errlen);
    if (!h->nat || plug(h, h->nat, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < h->cfg->nnatpf; i++) {
        char rule[256];
        snprintf(rule, sizeof(rule), "%s", h->cfg->natpf[i]);
        if (apply_natpf(h, rule, err, errlen) < 0)
            return -1;
    }
    if (h->cfg->no_dhcp)
        return 0;
    struct net_dhcpd_config dc = {
        .server_ip = n | 3, .netmask = mask, .router = n | 1, .dns = n | 2,
        .pool_first = n | 4, .pool_last = (n | ~mask) - 1,
    };
    hub_mac(h->cfg->name, 3, dc.server_mac);
    struct net_dhcpd *d = net_dhcpd_new(&dc, err, errlen);
    if (!d)
        return -1;
    h->dhcp = net_dhcpd_port(d);
    return plug(h, h->dhcp, err, errlen);
}

static int setup_hostonly(struct hub *h, char *err, size_t errlen)
{
    struct in_addr host;
    unsigned prefix;
    if (parse_cidr(h->cfg->cidr ? h->cfg->cidr : "192.168.56.1/24", &host, &prefix, err, errlen) < 0)
        return -1;
    uint32_t mask = 0xffffffffu << (32 - prefix), n = ntohl(host.s_addr) & mask;
    char ifname[16];
    if (h->cfg->ifname)
        snprintf(ifname, sizeof(ifname), "%s", h->cfg->ifname);
    else if (strlen(h->cfg->name) <= 12)
        snprintf(ifname, sizeof(ifname), "vh-%s", h->cfg->name);
    else {
        uint8_t mac[6];
        hub_mac(h->cfg->name, 0, mac);
        snprintf(ifname, sizeof(ifname), "vh-%02x%02x%02x", mac[3], mac[4], mac[2]);
    }
    char ipv4[32];
    snprintf(ipv4, sizeof(ipv4), "%s/%u", inet_ntoa(host), prefix);
    struct net_tap_opts to = { .ifname = ifname, .vnet_hdr = true, .ipv4 = ipv4, .mtu = h->mtu };
    h->host = net_tap_new(h->loop, &to, err, errlen);
    if (!h->host || plug(h, h->host, err, errlen) < 0)
        return -1;
    if (h->cfg->no_dhcp)
        return 0;
    /* VirtualBox's layout: DHCP server .100, leases .101-.254. */
    uint32_t bcast = n | ~mask;
    struct net_dhcpd_config dc = {
        .server_ip = prefix <= 24 ? n | 100 : n | 2, .netmask = mask,
        .pool_first = prefix <= 24 ? n | 101 : n | 3, .pool_last = bcast - 1,
    };
    hub_mac(h->cfg->name, 100, dc.server_mac);
    struct net_dhcpd *d = net_dhcpd_new(&dc, err, errlen);
    if (!d)
        return -1;
    h->dhcp = net_dhcpd_port(d);
    return plug(h, h->dhcp, err, errlen);
}

static int setup_bridged(struct hub *h, char *err, size_t errlen)
{
    char path[300];
    snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", h->cfg->name);
    struct stat st;
    if (stat(path, &st) == 0) {
        /* A Linux bridge: a TAP in it. The host's address lives on the
         * bridge, so host<->VM works like VM<->LAN. */
        char ifname[16];
        uint8_t mac[6];
        hub_mac(h->cfg->name, 0, mac);
        snprintf(ifname, sizeof(ifname), "vb-%02x%02x%02x", mac[3], mac[4], mac[2]);
        struct net_tap_opts to = { .ifname = ifname, .vnet_hdr = true, .bridge = h->cfg->name, .mtu = h->mtu };
        h->host = net_tap_new(h->loop, &to, err, errlen);
    } else {
        h->host = net_packet_new(h->loop, h->cfg->name, err, errlen);
    }
    if (!h->host)
        return -1;
    /* The wire may carry any VLAN: VMs with vlan=N meet tagged traffic. */
    net_vlan_trunk(&h->host->vlan, 1);
    for (uint16_t v = 1; v <= NET_VID_MAX; v++)
        net_vlan_allow(&h->host->vlan, v);
    return plug(h, h->host, err, errlen);
}

static int setup_uplinks(struct hub *h, char *err, size_t errlen)
{
    for (unsigned i = 0; i < h->cfg->nuplinks; i++) {
        const struct hub_uplink *u = &h->cfg->uplinks[i];
        struct net_port *p = NULL;
        switch (u->kind) {
        case HUB_UPLINK_STREAM_LISTEN:
        case HUB_UPLINK_STREAM_CONNECT:
            p = net_stream_new(h->loop, u->kind == HUB_UPLINK_STREAM_LISTEN, u->addr, err, errlen);
            break;
        case HUB_UPLINK_DGRAM:
            p = net_dgram_new(h->loop, u->local, u->addr, err, errlen);
            break;
        case HUB_UPLINK_VXLAN: {
            struct net_vxlan_config vc = { .vni = u->vni, .remote = u->addr, .port = (uint16_t)u->port,
                                           .local = u->local };
            p = net_vxlan_new(h->loop, &vc, err, errlen);
            break;
        }
        }
        if (!p)
            return -1;
        h->uplinks[i] = p;
        net_vlan_trunk(&p->vlan, 1);
        for (uint16_t v = 1; v <= NET_VID_MAX; v++)
            net_vlan_allow(&p->vlan, v);
        if (plug(h, p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- process ---- */

static void on_signal(void *opaque, int fd, uint32_t events)
{
    struct hub *h = opaque;
    (void)events;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        vinfo("%s '%s': signal %u, stopping", hub_kind_name(h->cfg->kind), h->cfg->name, si.ssi_signo);
    evloop_stop(h->loop);
}

static int listen_socket(struct hub *h, char *err, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    /* net_rundir_file made sure the path fits. */
    memcpy(a.sun_path, h->sock_path, strlen(h->sock_path) + 1 < sizeof(a.sun_path) ? strlen(h->sock_path) + 1
                                                                                    : sizeof(a.sun_path) - 1);
    /* We hold the lock: a socket file left here is from a switch that died. */
    unlink(h->sock_path);
    mode_t old = umask(077);
    int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
    umask(old);
    if (r < 0 || listen(fd, 64) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", h->sock_path, strerror(errno));
        close(fd);
        return -1;
    }
    h->listen_fd = fd;
    return 0;
}

static void hub_cleanup(struct hub *h)
{
    while (h->conns)
        conn_close(h->conns, NULL);
    acceptor_cancel(&h->acc);
    if (h->listen_fd >= 0) {
        evloop_del_fd(h->loop, h->listen_fd);
        close(h->listen_fd);
        unlink(h->sock_path);
    }
    net_port_free(h->nat);
    net_port_free(h->dhcp);
    net_port_free(h->host);
    for (unsigned i = 0; i < HUB_MAX_UPLINKS; i++)
        net_port_free(h->uplinks[i]);
    if (h->sw)
        net_switch_free(h->sw);
    if (h->pcap)
        net_pcap_close(h->pcap);
    if (h->sig_fd >= 0)
        close(h->sig_fd);
    if (h->loop)
        evloop_free(h->loop);
    if (h->lock_fd >= 0)
        close(h->lock_fd); /* releases the lock; the file stays, harmlessly */
}

int hub_run(const struct hub_config *cfg)
{
    struct hub_config c = *cfg;
    if (c.daemonize) {
        pid_t pid = fork();
        if (pid < 0) {
            report_ready(&c, "error: fork failed");
            return 1;
        }
        if (pid > 0)
            _exit(0);
    }
    /* Descriptors the starter had open are not ours to keep. */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != c.ready_fd)
            close(fd);
    signal(SIGPIPE, SIG_IGN);

    struct hub *h = calloc(1, sizeof(*h));
    char err[512] = "";
    if (!h) {
        report_ready(&c, "error: out of memory");
        return 1;
    }
    h->cfg = &c;
    h->listen_fd = h->lock_fd = h->sig_fd = -1;
    h->mtu = c.mtu ? c.mtu : 1500;
    int status = 1;

    if (net_rundir_file(c.kind, c.name, ".sock", h->sock_path, sizeof(h->sock_path), err, sizeof(err)) < 0 ||
        net_rundir_file(c.kind, c.name, ".lock", h->lock_path, sizeof(h->lock_path), err, sizeof(err)) < 0)
        goto fail;
    h->lock_fd = open(h->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (h->lock_fd < 0) {
        snprintf(err, sizeof(err), "cannot open %s: %s", h->lock_path, strerror(errno));
        goto fail;
    }
    if (flock(h->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        /* Another switch for this network runs or is starting: for a VM
         * that is as good as ours; a user who started it by hand is told. */
        bool started_by_vm = c.ready_fd >= 0;
        report_ready(&c, "busy");
        if (!started_by_vm)
            verror("%s '%s' already has a running switch (%s)", hub_kind_name(c.kind), c.name, h->sock_path);
        hub_cleanup(h);
        free(h);
        return started_by_vm ? 0 : 1;
    }
    /* Our pid in the lock file: a restarted vireod finds the switches it
     * started before and adopts them (src/mgmt/supervisor.c). */
    char pidtxt[24];
    int pn = snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)getpid());
    if (ftruncate(h->lock_fd, 0) < 0 || pwrite(h->lock_fd, pidtxt, (size_t)pn, 0) != pn)
        vwarn("cannot write the pid into %s: %s", h->lock_path, strerror(errno));
    /* The log (our stderr when a VM started us) is appended to by every
     * switch of this network: keep it from growing without bound. */
    struct stat st;
    if (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (1 << 20) &&
        ftruncate(STDERR_FILENO, 0) == 0)
        vinfo("log truncated at 1 MiB");
    h->loop = evloop_new();
    struct net_switch_config sc = { .name = c.name };
    h->sw = h->loop ? net_switch_new(&sc) : NULL;
    if (!h->sw) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    if (c.pcap) {
        h->pcap = net_pcap_open(c.pcap, err, sizeof(err));
        if (!h->pcap)
            goto fail;
        net_switch_set_mirror(h->sw, h->pcap);
    }
    int r = 0;
    switch (c.kind) {
    case HUB_INTNET: break;
    case HUB_NATNETWORK: r = setup_natnetwork(h, err, sizeof(err)); break;
    case HUB_HOSTONLY: r = setup_hostonly(h, err, sizeof(err)); break;
    case HUB_BRIDGED: r = setup_bridged(h, err, sizeof(err)); break;
    }
    if (r < 0 || setup_uplinks(h, err, sizeof(err)) < 0)
        goto fail;
    if (listen_socket(h, err, sizeof(err)) < 0)
        goto fail;
    acceptor_init(&h->acc, h->loop, h->listen_fd, h->sock_path);
    if (evloop_add_fd(h->loop, h->listen_fd, EPOLLIN, on_accept, h) < 0)
        goto fail;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGHUP);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    h->sig_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
    if (h->sig_fd < 0 || evloop_add_fd(h->loop, h->sig_fd, EPOLLIN, on_signal, h) < 0) {
        snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
        goto fail;
    }
    if (c.on_demand)
        h->idle_timer = evloop_add_timer(h->loop, FIRST_CLIENT_NS, idle_exit, h);
    vinfo("%s '%s': switch up on %s (pid %d)", hub_kind_name(c.kind), c.name, h->sock_path, (int)getpid());
    report_ready(&c, "ok");
    evloop_run(h->loop);
    status = 0;
    goto out;
fail:
    verror("%s '%s': %s", hub_kind_name(c.kind), c.name, err);
    {
        char line[600];
        snprintf(line, sizeof(line), "error: %s", err);
        report_ready(&c, line);
    }
out:
    hub_cleanup(h);
    free(h);
    return status;
}

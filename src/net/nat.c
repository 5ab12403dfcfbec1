#include "net/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "base/parse.h"
#include "net/port.h"

struct nat_timer {
    struct nat *nat;
    SlirpTimerId id;
    void *cb_opaque;
    uint64_t evtimer;      /* evloop timer id, 0 when not armed */
};

struct nat {
    struct net_port port;
    struct evloop *loop;
    Slirp *slirp;
    uint64_t source;
    char name[64];
    uint8_t rxbuf[NET_FRAME_MAX];
};

/* ---- callbacks from libslirp ---- */

static ssize_t nat_send_packet(const void *buf, size_t len, void *opaque)
{
    struct nat *n = opaque;
    if (len < NET_FRAME_MIN || len > sizeof(n->rxbuf))
        return (ssize_t)len;
    /* Our own copy: the switch may edit a frame in place. */
    memcpy(n->rxbuf, buf, len);
    struct net_pkt pkt = { .data = n->rxbuf, .len = len };
    net_port_input(&n->port, &pkt);
    return (ssize_t)len;
}

static void nat_guest_error(const char *msg, void *opaque)
{
    struct nat *n = opaque;
    vdebug("%s: guest error: %s", n->name, msg);
}

static int64_t nat_clock_ns(void *opaque)
{
    (void)opaque;
    return (int64_t)vclock_ns();
}

static void nat_timer_fire(void *opaque)
{
    struct nat_timer *t = opaque;
    t->evtimer = 0;
    slirp_handle_timer(t->nat->slirp, t->id, t->cb_opaque);
}

static void *nat_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct nat_timer *t = calloc(1, sizeof(*t));
    if (t) {
        t->nat = opaque;
        t->id = id;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void nat_timer_free(void *timer, void *opaque)
{
    struct nat *n = opaque;
    struct nat_timer *t = timer;
    if (t && t->evtimer)
        evloop_cancel_timer(n->loop, t->evtimer);
    free(t);
}

static void nat_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct nat *n = opaque;
    struct nat_timer *t = timer;
    if (!t)
        return;
    if (t->evtimer)
        evloop_cancel_timer(n->loop, t->evtimer);
    int64_t now_ms = (int64_t)(vclock_ns() / 1000000);
    int64_t delay = expire_ms > now_ms ? expire_ms - now_ms : 0;
    t->evtimer = evloop_add_timer(n->loop, (uint64_t)delay * 1000000ull, nat_timer_fire, t);
}

static void nat_register_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void nat_unregister_poll_fd(int fd, void *opaque) { (void)fd; (void)opaque; }
static void nat_notify(void *opaque) { (void)opaque; }

static const SlirpCb nat_callbacks = {
    .send_packet = nat_send_packet,
    .guest_error = nat_guest_error,
    .clock_get_ns = nat_clock_ns,
    .timer_free = nat_timer_free,
    .timer_mod = nat_timer_mod,
    .register_poll_fd = nat_register_poll_fd,
    .unregister_poll_fd = nat_unregister_poll_fd,
    .notify = nat_notify,
    .timer_new_opaque = nat_timer_new_opaque,
};

/* ---- the poll source: slirp's sockets around each wait ---- */

static int add_poll(int fd, int events, void *opaque)
{
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    return evloop_pollset_add(opaque, fd, ev);
}

static int get_revents(int idx, void *opaque)
{
    short r = evloop_pollset_revents(opaque, idx);
    int ev = 0;
    if (r & POLLIN) ev |= SLIRP_POLL_IN;
    if (r & POLLOUT) ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI) ev |= SLIRP_POLL_PRI;
    if (r & POLLERR) ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

static void nat_prepare(void *opaque, struct evloop_pollset *ps, int *timeout_ms)
{
    struct nat *n = opaque;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(n->slirp, &t, add_poll, ps);
    if (t != UINT32_MAX && (*timeout_ms < 0 || t < (uint32_t)*timeout_ms))
        *timeout_ms = (int)t;
}

static void nat_dispatch(void *opaque, struct evloop_pollset *ps, bool failed)
{
    struct nat *n = opaque;
    slirp_pollfds_poll(n->slirp, failed, get_revents, ps);
}

/* ---- the port ---- */

static void nat_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct nat *n = (struct nat *)p;
    if (tag_vid || pkt->len > (size_t)INT32_MAX) {
        p->stats.tx_dropped++;
        return;
    }
    slirp_input(n->slirp, pkt->data, (int)pkt->len);
}

static void nat_free(struct net_port *p)
{
    struct nat *n = (struct nat *)p;
    if (n->source)
        evloop_del_poll_source(n->loop, n->source);
    if (n->slirp)
        slirp_cleanup(n->slirp);
    free(n);
}

static const struct net_port_ops nat_ops = { .transmit = nat_transmit, .free = nat_free };

void net_nat_default_config(struct net_nat_config *c, unsigned adapter)
{
    memset(c, 0, sizeof(*c));
    uint32_t net = (10u << 24) | ((adapter + 1) & 0xff) << 8;
    c->network.s_addr = htonl(net);
    c->netmask.s_addr = htonl(0xffffff00u);
    c->gateway.s_addr = htonl(net | 2);
    c->dns.s_addr = htonl(net | 3);
    c->dhcp_start.s_addr = htonl(net | 15);
    c->mtu = 1500;
}

static bool in_subnet(struct in_addr a, const struct net_nat_config *c)
{
    return (a.s_addr & c->netmask.s_addr) == c->network.s_addr;
}

struct net_port *net_nat_new(struct evloop *l, const struct net_nat_config *cfg, char *err, size_t errlen)
{
    const char *name = cfg->name ? cfg->name : "nat";
    uint32_t mask = ntohl(cfg->netmask.s_addr);
    if (mask == 0 || (~mask & (~mask + 1)) != 0 || (cfg->network.s_addr & ~cfg->netmask.s_addr)) {
        snprintf(err, errlen, "%s: %s is not a network address with a contiguous netmask", name,
                 inet_ntoa(cfg->network));
        return NULL;
    }
    if (!in_subnet(cfg->gateway, cfg) || !in_subnet(cfg->dns, cfg) ||
        (cfg->dhcp_start.s_addr && !in_subnet(cfg->dhcp_start, cfg))) {
        snprintf(err, errlen, "%s: gateway, DNS and DHCP addresses must lie inside the network", name);
        return NULL;
    }
    unsigned mtu = cfg->mtu ? cfg->mtu : 1500;
    if (mtu < 576 || mtu > 65521) {
        snprintf(err, errlen, "%s: MTU %u is outside 576..65521", name, mtu);
        return NULL;
    }
    struct nat *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    net_port_init(&n->port, &nat_ops, name, false);
    snprintf(n->name, sizeof(n->name), "%s", name);
    n->loop = l;
    SlirpConfig sc = {
        .version = 4,
        .in_enabled = true,
        .vnetwork = cfg->network,
        .vnetmask = cfg->netmask,
        .vhost = cfg->gateway,
        .vdhcp_start = cfg->dhcp_start,
        .vnameserver = cfg->dns,
        .if_mtu = mtu,
        .if_mru = mtu,
        .disable_host_loopback = false,
        .enable_emu = false,
        .disable_dhcp = cfg->dhcp_start.s_addr == 0,
    };
    n->slirp = slirp_new(&sc, &nat_callbacks, n);
    if (!n->slirp) {
        snprintf(err, errlen, "%s: libslirp refused the configuration", name);
        free(n);
        return NULL;
    }
    n->source = evloop_add_poll_source(l, nat_prepare, nat_dispatch, n);
    if (!n->source) {
        snprintf(err, errlen, "%s: out of memory", name);
        slirp_cleanup(n->slirp);
        free(n);
        return NULL;
    }
    return &n->port;
}

int net_nat_add_forward(struct net_port *p, const struct net_natpf *pf, char *err, size_t errlen)
{
    struct nat *n = (struct nat *)p;
    if (slirp_add_hostfwd(n->slirp, pf->udp, pf->host_addr, pf->host_port, pf->guest_addr, pf->guest_port) < 0) {
        char host[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &pf->host_addr, host, sizeof(host));
        snprintf(err, errlen, "port forward '%s': cannot listen on %s %s:%u (port in use or not permitted)",
                 pf->name, pf->udp ? "udp" : "tcp", host, pf->host_port);
        return -1;
    }
    return 0;
}

int net_nat_remove_forward(struct net_port *p, const struct net_natpf *pf)
{
    struct nat *n = (struct nat *)p;
    return slirp_remove_hostfwd(n->slirp, pf->udp, pf->host_addr, pf->host_port);
}

/* Split s at commas into at most max fields (empty fields kept). */
static int split_commas(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            return n;
        *c = 0;
        s = c + 1;
    }
}

int net_natpf_parse(const char *s, struct in_addr default_guest, struct net_natpf *pf, char *err, size_t errlen)
{
    char buf[256];
    memset(pf, 0, sizeof(*pf));
    if (strlen(s) >= sizeof(buf)) {
        snprintf(err, errlen, "port forward rule is too long");
        return -1;
    }
    strcpy(buf, s);
    char *f[6];
    if (split_commas(buf, f, 6) != 6) {
        snprintf(err, errlen, "port forward '%s': expected NAME,tcp|udp,[hostip],hostport,[guestip],guestport", s);
        return -1;
    }
    if (!*f[0] || strlen(f[0]) >= sizeof(pf->name)) {
        snprintf(err, errlen, "port forward '%s': the name must be 1 to %zu characters", s, sizeof(pf->name) - 1);
        return -1;
    }
    for (const char *c = f[0]; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            snprintf(err, errlen, "port forward '%s': the name has control characters", s);
            return -1;
        }
    strcpy(pf->name, f[0]);
    if (!strcmp(f[1], "tcp"))
        pf->udp = false;
    else if (!strcmp(f[1], "udp"))
        pf->udp = true;
    else {
        snprintf(err, errlen, "port forward '%s': protocol '%s' is neither tcp nor udp", s, f[1]);
        return -1;
    }
    pf->host_addr.s_addr = htonl(INADDR_ANY);
    if (*f[2] && inet_pton(AF_INET, f[2], &pf->host_addr) != 1) {
        snprintf(err, errlen, "port forward '%s': host address '%s' is not an IPv4 address", s, f[2]);
        return -1;
    }
    pf->guest_addr = default_guest;
    if (*f[4] && inet_pton(AF_INET, f[4], &pf->guest_addr) != 1) {
        snprintf(err, errlen, "port forward '%s': guest address '%s' is not an IPv4 address", s, f[4]);
        return -1;
    }
    uint64_t hp, gp;
    if (!vparse_uint(f[3], 1, 65535, &hp) || !vparse_uint(f[5], 1, 65535, &gp)) {
        snprintf(err, errlen, "port forward '%s': ports must be numbers from 1 to 65535", s);
        return -1;
    }
    pf->host_port = (uint16_t)hp;
    pf->guest_port = (uint16_t)gp;
    return 0;
}

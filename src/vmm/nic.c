#include "vmm/nic.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "net/client.h"
#include "net/dgram.h"
#include "net/nat.h"
#include "net/offload.h"
#include "net/port.h"
#include "net/stream.h"
#include "net/vxlan.h"
#include "virtio/net.h"

struct nic {
    struct net_port port;       /* the adapter's end of the cable */
    struct virtio_dev *dev;     /* the current machine's device, or NULL between machines */
    struct net_port *backend;   /* the far end, or NULL (mode none) */
    struct nic_config cfg;
    unsigned index;
    uint8_t mac[6];
    uint16_t mtu;               /* what the guest is told; 0 = not said */
    const char *vm_name;        /* for the switch's port list, or NULL */
};

/* The guest sent a frame: into the cable. */
static void nic_guest_tx(void *opaque, const struct virtio_net_hdr *h, uint8_t *frame, size_t len)
{
    struct nic *n = opaque;
    struct net_pkt pkt = {
        .data = frame, .len = len,
        .off = { h->flags, h->gso_type, h->hdr_len, h->gso_size, h->csum_start, h->csum_offset },
    };
    net_port_input(&n->port, &pkt);
}

static struct virtio_net_hdr hdr_of(const struct net_offload *o)
{
    return (struct virtio_net_hdr){ o->flags, o->gso_type, o->hdr_len, o->gso_size, o->csum_start, o->csum_offset };
}

static void to_guest(void *opaque, const struct net_pkt *pkt)
{
    struct nic *n = opaque;
    struct virtio_net_hdr h = hdr_of(&pkt->off);
    struct iovec iov = { pkt->data, pkt->len };
    if (!n->dev || !virtio_net_receive(n->dev, &h, &iov, 1))
        n->port.stats.tx_dropped++;
}

/* A frame from the cable: to the guest, finished first if the guest did
 * not take the offloads it carries. */
static void nic_port_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct nic *n = (struct nic *)p;
    if (tag_vid) {
        p->stats.tx_dropped++;
        return;
    }
    struct virtio_net_hdr h = hdr_of(&pkt->off);
    if (!n->dev) { /* the guest is being reset */
        p->stats.tx_dropped++;
        return;
    }
    if (net_pkt_needs_finish(pkt) && !virtio_net_accepts(n->dev, &h)) {
        if (net_offload_finish(pkt, to_guest, n) < 0)
            p->stats.tx_dropped++;
        return;
    }
    to_guest(n, pkt);
}

static const struct net_port_ops nic_port_ops = { .transmit = nic_port_transmit };

static struct net_port *make_nat(struct evloop *io, struct nic *n, char *err, size_t errlen)
{
    struct net_nat_config c;
    char name[32];
    net_nat_default_config(&c, n->index + 1);
    snprintf(name, sizeof(name), "nic%u nat", n->index + 1);
    c.name = name;
    if (n->cfg.mtu)
        c.mtu = n->cfg.mtu;
    struct net_port *p = net_nat_new(io, &c, err, errlen);
    if (!p)
        return NULL;
    for (unsigned i = 0; i < n->cfg.nnatpf; i++) {
        struct net_natpf pf = n->cfg.natpf[i];
        if (!pf.guest_addr.s_addr)
            pf.guest_addr = c.dhcp_start;
        if (net_nat_add_forward(p, &pf, err, errlen) < 0) {
            net_port_free(p);
            return NULL;
        }
    }
    return p;
}

static void link_changed(void *opaque, bool up)
{
    struct nic *n = opaque;
    if (n->dev)
        virtio_net_set_link(n->dev, up && !n->cfg.link_down);
}

static struct net_port *make_generic(struct evloop *io, struct nic *n, char *err, size_t errlen)
{
    const struct nic_config *c = &n->cfg;
    struct net_port *p = NULL;
    switch (c->generic) {
    case NIC_GEN_STREAM_LISTEN:
    case NIC_GEN_STREAM_CONNECT:
        p = net_stream_new(io, c->generic == NIC_GEN_STREAM_LISTEN, c->addr, err, errlen);
        if (p)
            net_stream_set_link_cb(p, link_changed, n);
        break;
    case NIC_GEN_DGRAM:
        p = net_dgram_new(io, c->local, c->addr, err, errlen);
        break;
    case NIC_GEN_VXLAN: {
        struct net_vxlan_config vc = { .vni = c->vni, .remote = c->addr, .port = c->port,
                                       .local = *c->local ? c->local : NULL };
        p = net_vxlan_new(io, &vc, err, errlen);
        break;
    }
    }
    return p;
}

static struct net_port *make_client(struct evloop *io, struct nic *n, const uint8_t mac[6], char *err, size_t errlen)
{
    char who[64], natpf[NIC_MAX_NATPF * 128] = "";
    if (n->vm_name)
        snprintf(who, sizeof(who), "%.48s nic%u", n->vm_name, n->index + 1);
    else
        snprintf(who, sizeof(who), "pid %d nic%u", (int)getpid(), n->index + 1);
    for (unsigned i = 0; i < n->cfg.nnatpf; i++) {
        const struct net_natpf *pf = &n->cfg.natpf[i];
        char h[INET_ADDRSTRLEN] = "", g[INET_ADDRSTRLEN];
        if (pf->host_addr.s_addr)
            inet_ntop(AF_INET, &pf->host_addr, h, sizeof(h));
        inet_ntop(AF_INET, &pf->guest_addr, g, sizeof(g));
        size_t l = strlen(natpf);
        snprintf(natpf + l, sizeof(natpf) - l, "%s,%s,%s,%u,%s,%u\n", pf->name, pf->udp ? "udp" : "tcp", h,
                 pf->host_port, g, pf->guest_port);
    }
    struct net_client_opts o = {
        .network = n->cfg.network, .vlan = n->cfg.vlan, .client_name = who,
        .natpf = natpf[0] ? natpf : NULL, .switch_exe = "/proc/self/exe",
        .link_changed = link_changed, .opaque = n,
    };
    nic_switch_kind(n->cfg.mode, &o.kind);
    memcpy(o.mac, mac, 6);
    struct net_port *p = net_client_new(io, &o, err, errlen);
    if (p) {
        /* "nic1: intnet 'lab'" in the messages it logs */
        char msg[sizeof(p->name)];
        int k = snprintf(msg, sizeof(msg), "nic%u: ", n->index + 1);
        snprintf(msg + k, sizeof(msg) - (size_t)k, "%.*s", (int)(sizeof(msg) - (size_t)k - 1), p->name);
        memcpy(p->name, msg, sizeof(msg));
    }
    return p;
}

/* Whether the far end is there at start (a listening stream waits for
 * its peer). */
static bool backend_up(struct nic *n)
{
    if (!n->backend)
        return false;
    if (n->cfg.mode == NIC_GENERIC && n->cfg.generic <= NIC_GEN_STREAM_CONNECT)
        return net_stream_is_up(n->backend);
    return true;
}

struct nic *nic_new(struct evloop *io, const struct nic_config *cfg, unsigned index, const uint8_t mac[6],
                    const char *vm_name, char *err, size_t errlen)
{
    struct nic *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "nic%u: out of memory", index + 1);
        return NULL;
    }
    n->cfg = *cfg;
    n->index = index;
    n->vm_name = vm_name;
    memcpy(n->mac, mac, 6);
    char name[64];
    snprintf(name, sizeof(name), "nic%u", index + 1);
    /* The adapter finishes offloads itself, according to what the guest
     * negotiated (nic_port_transmit). */
    net_port_init(&n->port, &nic_port_ops, name, true);

    switch (cfg->mode) {
    case NIC_NAT:
        n->backend = make_nat(io, n, err, errlen);
        break;
    case NIC_NATNETWORK:
    case NIC_BRIDGED:
    case NIC_INTNET:
    case NIC_HOSTONLY:
        n->backend = make_client(io, n, mac, err, errlen);
        break;
    case NIC_GENERIC:
        n->backend = make_generic(io, n, err, errlen);
        break;
    case NIC_NONE:
        break;
    }
    if (cfg->mode != NIC_NONE && !n->backend) {
        free(n);
        return NULL;
    }
    if (n->backend)
        net_port_wire(&n->port, n->backend);
    /* On a named network the guest gets the network's MTU. */
    n->mtu = cfg->mtu;
    if (!n->mtu && n->backend && cfg->mode != NIC_GENERIC && cfg->mode != NIC_NAT)
        n->mtu = (uint16_t)net_client_mtu(n->backend);
    return n;
}

struct virtio_dev *nic_new_device(struct nic *n)
{
    char devname[64];
    snprintf(devname, sizeof(devname), "virtio-net nic%u", n->index + 1);
    struct virtio_net_opts o = {
        .mtu = n->mtu, .link_up = !n->cfg.link_down && backend_up(n), .name = devname, .tx = nic_guest_tx,
        .opaque = n,
    };
    memcpy(o.mac, n->mac, 6);
    n->dev = virtio_net_new(&o);
    if (!n->dev)
        verror("nic%u: out of memory", n->index + 1);
    return n->dev;
}

void nic_unplug_device(struct nic *n)
{
    if (n)
        n->dev = NULL;
}

void nic_free(struct nic *n)
{
    if (!n)
        return;
    net_port_free(n->backend);
    net_port_unwire(&n->port);
    free(n);
}

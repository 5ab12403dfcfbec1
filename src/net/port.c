#include "net/port.h"

#include <stdio.h>
#include <string.h>

#include "net/offload.h"
#include "net/switch.h"

void net_port_init(struct net_port *p, const struct net_port_ops *ops, const char *name, bool offloads)
{
    memset(p, 0, sizeof(*p));
    p->ops = ops;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->offloads = offloads;
    net_vlan_access(&p->vlan, 1);
}

void net_port_wire(struct net_port *a, struct net_port *b)
{
    a->peer = b;
    b->peer = a;
}

void net_port_unwire(struct net_port *p)
{
    if (p->peer && p->peer->peer == p)
        p->peer->peer = NULL;
    p->peer = NULL;
}

void net_port_free(struct net_port *p)
{
    if (!p)
        return;
    net_port_unwire(p);
    if (p->sw)
        net_switch_detach(p->sw, p);
    if (p->ops->free)
        p->ops->free(p);
}

void net_vlan_access(struct net_vlan_cfg *v, uint16_t vid)
{
    memset(v, 0, sizeof(*v));
    v->vid = vid;
}

void net_vlan_trunk(struct net_vlan_cfg *v, uint16_t native_vid)
{
    memset(v, 0, sizeof(*v));
    v->trunk = true;
    v->vid = native_vid;
    if (native_vid)
        net_vlan_allow(v, native_vid);
}

struct deliver_ctx {
    struct net_port *p;
    uint16_t tag;
};

static void deliver_one(void *opaque, const struct net_pkt *pkt)
{
    struct deliver_ctx *c = opaque;
    c->p->stats.tx_frames++;
    c->p->stats.tx_bytes += pkt->len;
    c->p->ops->transmit(c->p, pkt, c->tag);
}

void net_port_deliver(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    if (p->link_down)
        return;
    struct deliver_ctx c = { p, tag_vid };
    if (p->offloads || !net_pkt_needs_finish(pkt)) {
        deliver_one(&c, pkt);
        return;
    }
    if (net_offload_finish(pkt, deliver_one, &c) < 0)
        p->stats.tx_dropped++;
}

void net_port_input(struct net_port *p, struct net_pkt *pkt)
{
    if (p->link_down || pkt->len < NET_FRAME_MIN || pkt->len > NET_FRAME_MAX) {
        p->stats.rx_dropped++;
        return;
    }
    p->stats.rx_frames++;
    p->stats.rx_bytes += pkt->len;
    if (p->sw) {
        net_switch_input(p->sw, p, pkt);
    } else if (p->peer) {
        pkt->vid = 0;
        net_port_deliver(p->peer, pkt, 0);
    }
}

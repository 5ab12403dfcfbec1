/* Test helpers for the network switch (header-only): a port that records
 * every frame it is asked to send into a shared log, and a frame builder.
 * Ports claim offloads, so frames reach the log exactly as the switch
 * hands them over (no finishing in between). */
#ifndef VIREO_TEST_NET_TESTPORTS_H
#define VIREO_TEST_NET_TESTPORTS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net/port.h"

#define TLOG_MAX 64
#define TDELIVERY_COPY 2048

struct tdelivery {
    unsigned port_id;
    uint16_t tag;             /* tag_vid the switch asked for */
    uint16_t vid;             /* pkt->vid */
    size_t len;
    struct net_offload off;
    uint8_t data[TDELIVERY_COPY]; /* the first bytes of the frame */
};

struct tlog {
    unsigned n;
    unsigned overflow;        /* deliveries beyond TLOG_MAX */
    struct tdelivery d[TLOG_MAX];
};

struct tport {
    struct net_port port;     /* first: the ops get a net_port */
    unsigned id;
    struct tlog *log;
};

static void tport_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct tport *t = (struct tport *)p;
    struct tlog *log = t->log;
    if (log->n >= TLOG_MAX) {
        log->overflow++;
        return;
    }
    struct tdelivery *d = &log->d[log->n++];
    d->port_id = t->id;
    d->tag = tag_vid;
    d->vid = pkt->vid;
    d->len = pkt->len;
    d->off = pkt->off;
    memcpy(d->data, pkt->data, pkt->len < TDELIVERY_COPY ? pkt->len : TDELIVERY_COPY);
}

static const struct net_port_ops tport_ops = { .transmit = tport_transmit };

static inline void tport_init(struct tport *t, unsigned id, struct tlog *log)
{
    char name[32];
    snprintf(name, sizeof(name), "tport%u", id);
    net_port_init(&t->port, &tport_ops, name, true);
    t->id = id;
    t->log = log;
}

/* The delivery to port id in the log, or NULL. */
static inline const struct tdelivery *tlog_find(const struct tlog *log, unsigned id)
{
    for (unsigned i = 0; i < log->n; i++)
        if (log->d[i].port_id == id)
            return &log->d[i];
    return NULL;
}

/* Build dst, src, an 802.1Q tag with tci when tagged, the EtherType, then
 * payload_len bytes of a counting pattern; returns the frame length. */
static inline size_t tframe(uint8_t *buf, const uint8_t dst[NET_ETH_ALEN], const uint8_t src[NET_ETH_ALEN],
                            bool tagged, uint16_t tci, uint16_t ethertype, size_t payload_len)
{
    size_t n = 0;
    memcpy(buf, dst, NET_ETH_ALEN);
    memcpy(buf + NET_ETH_ALEN, src, NET_ETH_ALEN);
    n = 2 * NET_ETH_ALEN;
    if (tagged) {
        buf[n++] = NET_ETH_P_8021Q >> 8;
        buf[n++] = NET_ETH_P_8021Q & 0xff;
        buf[n++] = (uint8_t)(tci >> 8);
        buf[n++] = (uint8_t)tci;
    }
    buf[n++] = (uint8_t)(ethertype >> 8);
    buf[n++] = (uint8_t)ethertype;
    for (size_t i = 0; i < payload_len; i++)
        buf[n++] = (uint8_t)i;
    return n;
}

/* Send len bytes of buf into the switch through t (buf may be changed). */
static inline void tport_send(struct tport *t, uint8_t *buf, size_t len)
{
    struct net_pkt pkt = { .data = buf, .len = len };
    net_port_input(&t->port, &pkt);
}

#endif

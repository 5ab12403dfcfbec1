/* The virtual switch (see switch.h).
 *
 * The MAC table is one array of slots allocated at creation and never
 * resized: open addressing with linear probing, keyed by (VID, MAC), with
 * at most max_macs entries in at least twice as many slots, so there is
 * always an empty slot to end a probe. Entries are removed by backward
 * shifting (no tombstones), so probe chains never fill up with dead slots
 * however often addresses come and go. */
#include "net/switch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/clock.h"
#include "base/log.h"
#include "net/pcap.h"

/* Beyond these a configuration is a mistake, and keeping below them keeps
 * every size computed here far from overflowing. */
#define SWITCH_PORTS_LIMIT 65535u
#define SWITCH_MACS_LIMIT (1u << 24)

#define VID_RESERVED 4095
#define NO_SLOT SIZE_MAX

struct fdb_slot {
    uint64_t seen_ns;
    uint8_t mac[NET_ETH_ALEN];
    uint16_t vid;          /* 0 (never a valid VID): the slot is empty */
    uint32_t port;         /* index into net_switch.ports */
};

struct net_switch {
    char name[64];               /* for messages */
    struct net_port **ports;     /* max_ports entries, NULL = free */
    unsigned max_ports;
    unsigned nports;
    unsigned ports_end;          /* one past the highest used index */

    struct fdb_slot *fdb;
    size_t fdb_mask;             /* slot count - 1 (a power of two) */
    unsigned max_macs;
    unsigned nmacs;
    uint64_t aging_ns;
    /* A full-table sweep for expired entries costs O(slots); under a flood
     * of new addresses into a full table it would otherwise run on every
     * frame, so it runs at most once per this much time. */
    uint64_t reclaim_interval_ns;
    uint64_t next_reclaim_ns;
    bool full_logged;

    /* Keyed hashing: a guest cannot pick MACs that all land in one probe
     * chain without knowing the key. */
    uint64_t hash_key[2];

    uint64_t (*now_ns)(void *opaque);
    void *now_opaque;
    struct net_pcap *mirror;
    struct net_switch_stats stats;
};

/* ---- time ---- */

static uint64_t switch_now(const struct net_switch *sw)
{
    return sw->now_ns ? sw->now_ns(sw->now_opaque) : vclock_ns();
}

/* A clock that steps backwards (a test's, say) makes entries younger, not
 * ancient. */
static uint64_t slot_age(const struct fdb_slot *s, uint64_t now)
{
    return now >= s->seen_ns ? now - s->seen_ns : 0;
}

static bool slot_expired(const struct net_switch *sw, const struct fdb_slot *s, uint64_t now)
{
    return slot_age(s, now) >= sw->aging_ns;
}

/* ---- the MAC table ---- */

static size_t fdb_home(const struct net_switch *sw, uint16_t vid, const uint8_t *mac)
{
    uint64_t key = (uint64_t)vid << 48;
    for (int i = 0; i < NET_ETH_ALEN; i++)
        key |= (uint64_t)mac[i] << (8 * (5 - i));
    /* Two rounds of multiply and xor-shift: every key bit reaches the low
     * bits used as the index. */
    uint64_t h = key ^ sw->hash_key[0];
    h *= 0x9e3779b97f4a7c15ull;
    h ^= h >> 31;
    h ^= sw->hash_key[1];
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (size_t)h & sw->fdb_mask;
}

static bool slot_is(const struct fdb_slot *s, uint16_t vid, const uint8_t *mac)
{
    return s->vid == vid && memcmp(s->mac, mac, NET_ETH_ALEN) == 0;
}

static size_t fdb_find(const struct net_switch *sw, uint16_t vid, const uint8_t *mac)
{
    for (size_t i = fdb_home(sw, vid, mac);; i = (i + 1) & sw->fdb_mask) {
        const struct fdb_slot *s = &sw->fdb[i];
        if (!s->vid)
            return NO_SLOT;
        if (slot_is(s, vid, mac))
            return i;
    }
}

/* Empty slot i, then pull later entries of its cluster back into the hole
 * when the hole lies on their probe path, so that lookups which used to
 * pass over slot i still reach them. */
static void fdb_remove_at(struct net_switch *sw, size_t i)
{
    size_t hole = i;
    for (size_t j = (i + 1) & sw->fdb_mask; sw->fdb[j].vid; j = (j + 1) & sw->fdb_mask) {
        size_t home = fdb_home(sw, sw->fdb[j].vid, sw->fdb[j].mac);
        if (((j - home) & sw->fdb_mask) >= ((j - hole) & sw->fdb_mask)) {
            sw->fdb[hole] = sw->fdb[j];
            hole = j;
        }
    }
    sw->fdb[hole].vid = 0;
    sw->nmacs--;
}

typedef bool (*fdb_doomed_fn)(const struct net_switch *sw, const struct fdb_slot *s, uint64_t arg);

/* Remove every entry `doomed` picks; returns how many. The walk starts
 * just after an empty slot: no cluster then wraps past the start, so a
 * backward shift only ever moves entries not yet looked at into the slot
 * being looked at, which is therefore looked at again. */
static unsigned fdb_sweep(struct net_switch *sw, fdb_doomed_fn doomed, uint64_t arg)
{
    size_t slots = sw->fdb_mask + 1, start = 0;
    while (sw->fdb[start].vid)
        start++;
    unsigned removed = 0;
    for (size_t k = 1; k < slots; k++) {
        size_t i = (start + k) & sw->fdb_mask;
        while (sw->fdb[i].vid && doomed(sw, &sw->fdb[i], arg)) {
            fdb_remove_at(sw, i);
            removed++;
        }
    }
    return removed;
}

static bool doomed_if_expired(const struct net_switch *sw, const struct fdb_slot *s, uint64_t now)
{
    return slot_expired(sw, s, now);
}

static bool doomed_if_on_port(const struct net_switch *sw, const struct fdb_slot *s, uint64_t port)
{
    (void)sw;
    return s->port == port;
}

static void fdb_fill(struct fdb_slot *s, uint16_t vid, const uint8_t *mac, uint32_t port, uint64_t now)
{
    memcpy(s->mac, mac, NET_ETH_ALEN);
    s->vid = vid;
    s->port = port;
    s->seen_ns = now;
}

static void fdb_learn(struct net_switch *sw, uint16_t vid, const uint8_t *mac, uint32_t port, uint64_t now)
{
    bool swept = false;
again:;
    size_t i = fdb_home(sw, vid, mac), reuse = NO_SLOT;
    for (; sw->fdb[i].vid; i = (i + 1) & sw->fdb_mask) {
        struct fdb_slot *s = &sw->fdb[i];
        if (slot_is(s, vid, mac)) {
            if (slot_expired(sw, s, now)) {
                sw->stats.aged++;
                sw->stats.learned++;
            } else if (s->port != port) {
                sw->stats.moved++;
            }
            s->port = port;
            s->seen_ns = now;
            return;
        }
        /* An expired entry on our own probe path can simply be taken
         * over: whatever probed past it still finds the slot occupied. */
        if (reuse == NO_SLOT && slot_expired(sw, s, now))
            reuse = i;
    }
    if (reuse != NO_SLOT) {
        sw->stats.aged++;
        sw->stats.learned++;
        fdb_fill(&sw->fdb[reuse], vid, mac, port, now);
        return;
    }
    if (sw->nmacs >= sw->max_macs && !swept && now >= sw->next_reclaim_ns) {
        swept = true;
        sw->next_reclaim_ns = now + sw->reclaim_interval_ns;
        unsigned reclaimed = fdb_sweep(sw, doomed_if_expired, now);
        sw->stats.aged += reclaimed;
        if (reclaimed)
            goto again; /* the sweep moved entries: probe afresh */
    }
    if (sw->nmacs >= sw->max_macs) {
        sw->stats.learn_full++;
        if (!sw->full_logged) {
            sw->full_logged = true;
            vwarn("%s: MAC table full (%u addresses); frames to new addresses are flooded", sw->name,
                  sw->max_macs);
        }
        return;
    }
    fdb_fill(&sw->fdb[i], vid, mac, port, now);
    sw->nmacs++;
    sw->stats.learned++;
}

/* ---- VLAN membership ---- */

static bool vid_valid(uint16_t vid) { return vid >= 1 && vid <= NET_VID_MAX; }

/* A trunk's native VLAN is one of its VLANs even if its bit was cleared
 * in `allowed`: a port that may send in a VLAN also hears it. */
static bool port_in_vlan(const struct net_port *p, uint16_t vid)
{
    if (!vid_valid(vid))
        return false;
    if (!p->vlan.trunk)
        return p->vlan.vid == vid;
    return net_vlan_allowed(&p->vlan, vid) || p->vlan.vid == vid;
}

static uint16_t egress_tag(const struct net_port *p, uint16_t vid)
{
    return p->vlan.trunk && p->vlan.vid != vid ? vid : 0;
}

enum ingress_verdict { INGRESS_OK, INGRESS_BAD, INGRESS_WRONG_VLAN };

/* Take an 802.1Q tag off in place: the MAC addresses move up over it. */
static enum ingress_verdict strip_tag(struct net_pkt *pkt)
{
    /* Offload offsets count from the start of the tagged frame; an offset
     * that pointed into the MAC addresses or the tag is nonsense. */
    if ((pkt->off.flags & NET_OFF_NEEDS_CSUM) && pkt->off.csum_start < NET_VLAN_HLEN)
        return INGRESS_BAD;
    if (pkt->off.hdr_len && pkt->off.hdr_len < NET_VLAN_HLEN)
        return INGRESS_BAD;
    memmove(pkt->data + NET_VLAN_HLEN, pkt->data, 2 * NET_ETH_ALEN);
    pkt->data += NET_VLAN_HLEN;
    pkt->len -= NET_VLAN_HLEN;
    if (pkt->off.flags & NET_OFF_NEEDS_CSUM)
        pkt->off.csum_start -= NET_VLAN_HLEN;
    if (pkt->off.hdr_len)
        pkt->off.hdr_len -= NET_VLAN_HLEN;
    return INGRESS_OK;
}

/* Decide which VLAN a frame from `from` belongs to, taking its tag off.
 * Priority-tagged frames (VID 0) are untagged frames with a priority
 * (802.1Q 6.9.1), on access ports as on trunks. */
static enum ingress_verdict classify(const struct net_port *from, struct net_pkt *pkt, uint16_t *vid)
{
    if (pkt->len < NET_ETH_HLEN)
        return INGRESS_BAD;
    const uint8_t *src = net_pkt_src(pkt);
    if (net_mac_is_multicast(src) || net_mac_is_zero(src))
        return INGRESS_BAD;

    const uint8_t *d = pkt->data;
    if (((uint16_t)d[12] << 8 | d[13]) == NET_ETH_P_8021Q) {
        if (pkt->len < NET_ETH_HLEN + NET_VLAN_HLEN)
            return INGRESS_BAD;
        uint16_t tag_vid = (uint16_t)((d[14] & 0x0f) << 8 | d[15]);
        if (tag_vid == VID_RESERVED)
            return INGRESS_BAD;
        if (tag_vid && (!from->vlan.trunk || !port_in_vlan(from, tag_vid)))
            return INGRESS_WRONG_VLAN;
        enum ingress_verdict v = strip_tag(pkt);
        if (v != INGRESS_OK)
            return v;
        if (tag_vid) {
            *vid = tag_vid;
            return INGRESS_OK;
        }
    }
    /* Untagged: the access VLAN, or a trunk's native VLAN (0 = none). */
    if (!vid_valid(from->vlan.vid))
        return INGRESS_WRONG_VLAN;
    *vid = from->vlan.vid;
    return INGRESS_OK;
}

/* ---- forwarding ---- */

static void flood(struct net_switch *sw, const struct net_port *from, const struct net_pkt *pkt)
{
    sw->stats.flooded++;
    /* Re-read the array on every step: a port's transmit may plug or
     * unplug ports (or feed a reply back in) while we are here. */
    for (unsigned i = 0; i < sw->ports_end; i++) {
        struct net_port *p = sw->ports[i];
        if (p && p != from && port_in_vlan(p, pkt->vid))
            net_port_deliver(p, pkt, egress_tag(p, pkt->vid));
    }
}

static void forward(struct net_switch *sw, const struct net_port *from, const struct net_pkt *pkt, uint64_t now)
{
    const uint8_t *dst = net_pkt_dst(pkt);
    if (!net_mac_is_multicast(dst)) {
        size_t i = fdb_find(sw, pkt->vid, dst);
        if (i != NO_SLOT && !slot_expired(sw, &sw->fdb[i], now)) {
            struct net_port *to = sw->ports[sw->fdb[i].port];
            if (to == from)
                return; /* both ends on one port: it has the frame already */
            /* The port may have left the VLAN since it was learned there. */
            if (to && port_in_vlan(to, pkt->vid)) {
                net_port_deliver(to, pkt, egress_tag(to, pkt->vid));
                return;
            }
        }
    }
    flood(sw, from, pkt);
}

void net_switch_input(struct net_switch *sw, struct net_port *from, struct net_pkt *pkt)
{
    if (from->sw != sw || from->sw_index >= sw->max_ports || sw->ports[from->sw_index] != from) {
        from->stats.rx_dropped++;
        return;
    }
    uint16_t vid = 0;
    switch (classify(from, pkt, &vid)) {
    case INGRESS_OK:
        break;
    case INGRESS_BAD:
        sw->stats.dropped_bad++;
        from->stats.rx_dropped++;
        return;
    case INGRESS_WRONG_VLAN:
        sw->stats.dropped_vlan++;
        from->stats.rx_dropped++;
        return;
    }
    pkt->vid = vid;
    sw->stats.frames++;
    if (sw->mirror)
        net_pcap_write(sw->mirror, pkt, vid == 1 ? 0 : vid, vclock_realtime_ns());

    uint64_t now = switch_now(sw);
    fdb_learn(sw, vid, net_pkt_src(pkt), from->sw_index, now);
    forward(sw, from, pkt, now);
}

/* ---- ports ---- */

int net_switch_attach(struct net_switch *sw, struct net_port *p)
{
    if (p->sw == sw && p->sw_index < sw->max_ports && sw->ports[p->sw_index] == p)
        return 0;
    if (p->sw)
        return -1; /* plugged into another switch: its bookkeeping is there */
    for (unsigned i = 0; i < sw->max_ports; i++) {
        if (sw->ports[i])
            continue;
        sw->ports[i] = p;
        sw->nports++;
        if (i >= sw->ports_end)
            sw->ports_end = i + 1;
        p->sw = sw;
        p->sw_index = i;
        return 0;
    }
    return -1;
}

void net_switch_detach(struct net_switch *sw, struct net_port *p)
{
    if (p->sw != sw || p->sw_index >= sw->max_ports || sw->ports[p->sw_index] != p)
        return;
    unsigned i = p->sw_index;
    fdb_sweep(sw, doomed_if_on_port, i);
    sw->ports[i] = NULL;
    sw->nports--;
    while (sw->ports_end && !sw->ports[sw->ports_end - 1])
        sw->ports_end--;
    p->sw = NULL;
    p->sw_index = 0;
}

/* ---- life cycle and queries ---- */

struct net_switch *net_switch_new(const struct net_switch_config *cfg)
{
    unsigned max_ports = cfg->max_ports ? cfg->max_ports : NET_SWITCH_DEFAULT_PORTS;
    unsigned max_macs = cfg->max_macs ? cfg->max_macs : NET_SWITCH_DEFAULT_MACS;
    if (max_ports > SWITCH_PORTS_LIMIT || max_macs > SWITCH_MACS_LIMIT) {
        errno = EINVAL;
        return NULL;
    }
    size_t slots = 16;
    while (slots < 2 * (size_t)max_macs)
        slots *= 2;

    struct net_switch *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return NULL;
    sw->ports = calloc(max_ports, sizeof(*sw->ports));
    sw->fdb = calloc(slots, sizeof(*sw->fdb));
    if (!sw->ports || !sw->fdb) {
        free(sw->ports);
        free(sw->fdb);
        free(sw);
        return NULL;
    }
    snprintf(sw->name, sizeof(sw->name), "%s", cfg->name ? cfg->name : "switch");
    sw->max_ports = max_ports;
    sw->max_macs = max_macs;
    sw->fdb_mask = slots - 1;
    sw->aging_ns = cfg->aging_ns ? cfg->aging_ns : NET_SWITCH_DEFAULT_AGING_NS;
    sw->reclaim_interval_ns = sw->aging_ns / 16;
    sw->now_ns = cfg->now_ns;
    sw->now_opaque = cfg->now_opaque;
    if (getrandom(sw->hash_key, sizeof(sw->hash_key), GRND_NONBLOCK) != (ssize_t)sizeof(sw->hash_key)) {
        /* Early boot without entropy: still differ from run to run. */
        sw->hash_key[0] = vclock_realtime_ns() ^ (uint64_t)(uintptr_t)sw;
        sw->hash_key[1] = vclock_ns() * 0x9e3779b97f4a7c15ull;
    }
    return sw;
}

void net_switch_free(struct net_switch *sw)
{
    if (!sw)
        return;
    for (unsigned i = 0; i < sw->ports_end; i++)
        if (sw->ports[i])
            net_switch_detach(sw, sw->ports[i]);
    free(sw->ports);
    free(sw->fdb);
    free(sw);
}

void net_switch_set_mirror(struct net_switch *sw, struct net_pcap *pc) { sw->mirror = pc; }

void net_switch_age(struct net_switch *sw)
{
    sw->stats.aged += fdb_sweep(sw, doomed_if_expired, switch_now(sw));
}

const struct net_switch_stats *net_switch_stats(const struct net_switch *sw) { return &sw->stats; }

unsigned net_switch_port_count(const struct net_switch *sw) { return sw->nports; }

size_t net_switch_address_count(const struct net_switch *sw)
{
    uint64_t now = switch_now(sw);
    size_t n = 0;
    for (size_t i = 0; i <= sw->fdb_mask; i++)
        n += sw->fdb[i].vid && !slot_expired(sw, &sw->fdb[i], now);
    return n;
}

size_t net_switch_fdb(const struct net_switch *sw, struct net_fdb_entry *out, size_t max)
{
    uint64_t now = switch_now(sw);
    size_t n = 0;
    for (size_t i = 0; i <= sw->fdb_mask && n < max; i++) {
        const struct fdb_slot *s = &sw->fdb[i];
        if (!s->vid || slot_expired(sw, s, now))
            continue;
        struct net_fdb_entry *e = &out[n++];
        memcpy(e->mac, s->mac, NET_ETH_ALEN);
        e->vid = s->vid;
        e->port = sw->ports[s->port];
        e->age_ns = slot_age(s, now);
    }
    return n;
}

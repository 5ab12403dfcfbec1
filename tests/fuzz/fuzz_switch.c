/* Fuzz target: the virtual switch (src/net/switch.c: MAC learning and
 * aging, 802.1Q access and trunk ports, flooding) and the port path around
 * it (src/net/port.c), including the software offload finisher
 * (src/net/offload.c) that net_port_deliver runs for ports without
 * offloads.
 *
 * Seven sink ports with different VLAN setups, some taking offloads and
 * some not, on a switch with a small MAC table (8) and a fake clock. The
 * input is a sequence of records; the first byte of each says what:
 *
 *   0-3  frame:  port, flags, len (2 bytes, big-endian), then
 *                [10 bytes of offload metadata if flags & 1: flags,
 *                 gso_type, hdr_len, gso_size, csum_start, csum_offset],
 *                [2 bytes: outer TCI if flags & 8], [2 bytes: inner TCI if
 *                 flags & 16], [2 bytes: total length if flags & 2],
 *                then len bytes of frame. flags & 8 inserts an 802.1Q tag
 *                after the MAC addresses (802.1ad if flags & 32), & 16 one
 *                more 802.1Q tag inside it (QinQ); & 2 pads the frame with
 *                a pattern up to the total length (+ 64 if flags & 4), so
 *                jumbo and oversized frames take few input bytes.
 *   4    clock:  one byte, in half seconds (aging is 30 s)
 *   5    config: port, configuration number (access 1/2/4094/0, trunks)
 *   6    link:   port, bit 0 toggles link_down, bit 1 detaches/attaches
 *   7    age:    net_switch_age, then the MAC table is checked
 *
 * Invariants, checked against a reference model of 802.1Q ingress written
 * here from the switch's documentation: a frame the model drops reaches
 * nobody; otherwise every delivery goes to an attached, linked port other
 * than the ingress one, that is in the frame's VLAN, tagged exactly when it
 * is a trunk and the VLAN is not its native one; the delivered frame is the
 * model's (tag taken off, offload offsets moved) byte for byte, or for a
 * port without offloads a finished frame (no offload metadata left, same
 * bytes but the checksum when only a checksum was to be filled in, at most
 * as long when segmented, 14 bytes to NET_FRAME_MAX); broadcast and
 * multicast reach exactly the ports of their VLAN, unicast one port or the
 * same set; the MAC table never holds more than its bound, and only valid
 * VLANs, unicast addresses and attached ports. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/port.h"
#include "net/switch.h"

#include "fuzz_util.h"

#define NPORTS 7
#define MAX_MACS 8
#define SEC 1000000000ull

struct fport {
    struct net_port port;   /* first: the ops get a net_port */
    unsigned id;
    unsigned got;           /* deliveries for the current frame */
    bool attached;
};

static struct fport ports[NPORTS];
static struct net_switch *sw;
static uint64_t now;
static volatile uint8_t touched;

/* What the model expects of the frame being switched. */
static struct {
    bool active;
    unsigned from;
    uint16_t vid;
    const uint8_t *frame;   /* untagged, as the switch should pass it on */
    size_t len;
    struct net_offload off; /* offsets as in the untagged frame */
    bool needs_finish;
} cur;

static uint64_t clock_now(void *opaque)
{
    (void)opaque;
    return now;
}

/* ---- the model ---- */

static bool in_vlan(const struct net_vlan_cfg *v, uint16_t vid)
{
    if (vid < 1 || vid > NET_VID_MAX)
        return false;
    return v->trunk ? net_vlan_allowed(v, vid) || v->vid == vid : v->vid == vid;
}

static bool can_receive(const struct fport *p, uint16_t vid, unsigned from)
{
    return p->attached && !p->port.link_down && p->id != from && in_vlan(&p->port.vlan, vid);
}

/* 802.1Q ingress as documented in switch.h/switch.c: false = dropped.
 * Otherwise *vid, and *strip when the first tag comes off. */
static bool model_ingress(const struct net_vlan_cfg *v, const uint8_t *f, size_t len, const struct net_offload *off,
                          uint16_t *vid, bool *strip)
{
    *strip = false;
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX)
        return false;
    const uint8_t *src = f + 6;
    if ((src[0] & 1) || !memcmp(src, "\0\0\0\0\0\0", 6))
        return false;
    if (net_get16(f + 12) == NET_ETH_P_8021Q) {
        if (len < NET_ETH_HLEN + NET_VLAN_HLEN)
            return false;
        uint16_t t = net_get16(f + 14) & 0xfff;
        if (t == 4095)
            return false;
        if (t && (!v->trunk || !in_vlan(v, t)))
            return false;
        if ((off->flags & NET_OFF_NEEDS_CSUM) && off->csum_start < 4)
            return false;
        if (off->hdr_len && off->hdr_len < 4)
            return false;
        *strip = true;
        if (t) {
            *vid = t;
            return true;
        }
    }
    if (v->vid < 1 || v->vid > NET_VID_MAX)
        return false;
    *vid = v->vid;
    return true;
}

/* ---- the sink ports ---- */

static void sink_transmit(struct net_port *np, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct fport *p = (struct fport *)np;
    if (!cur.active || !can_receive(p, cur.vid, cur.from) || pkt->vid != cur.vid)
        abort();
    uint16_t want_tag = p->port.vlan.trunk && p->port.vlan.vid != cur.vid ? cur.vid : 0;
    if (tag_vid != want_tag)
        abort();
    if (pkt->len < NET_ETH_HLEN || pkt->len > NET_FRAME_MAX)
        abort();
    p->got++;
    if (p->port.offloads || !cur.needs_finish) {
        /* Passed on as it is. */
        if (pkt->len != cur.len || memcmp(pkt->data, cur.frame, cur.len) != 0)
            abort();
        if (p->port.offloads && memcmp(&pkt->off, &cur.off, sizeof(cur.off)) != 0)
            abort();
        if (!p->port.offloads && net_pkt_needs_finish(pkt))
            abort();
        return;
    }
    /* Finished in software for this port. */
    if (net_pkt_needs_finish(pkt))
        abort();
    if ((cur.off.gso_type & ~NET_GSO_ECN) == NET_GSO_NONE) {
        /* The checksum goes where the guest said, even into the MAC
         * addresses: its own frame to spoil. */
        size_t field = (size_t)cur.off.csum_start + cur.off.csum_offset;
        if (pkt->len != cur.len || field + 2 > cur.len)
            abort();
        if (memcmp(pkt->data, cur.frame, field) != 0 ||
            memcmp(pkt->data + field + 2, cur.frame + field + 2, cur.len - field - 2) != 0)
            abort();
    } else if (pkt->len > cur.len || memcmp(pkt->data, cur.frame, 2 * NET_ETH_ALEN) != 0) {
        abort();   /* segments: no longer, same addresses */
    }
    uint8_t x = 0;   /* every byte readable (ASan checks) */
    for (size_t i = 0; i < pkt->len; i++)
        x ^= pkt->data[i];
    touched = x;
}

static const struct net_port_ops sink_ops = { sink_transmit, NULL };

/* ---- configurations ---- */

#define NCFG 8

static void configure(struct net_vlan_cfg *v, unsigned c)
{
    switch (c % NCFG) {
    case 0: net_vlan_access(v, 1); break;
    case 1: net_vlan_access(v, 2); break;
    case 2: net_vlan_access(v, NET_VID_MAX); break;
    case 3: /* trunk, native 1 */
        net_vlan_trunk(v, 1);
        net_vlan_allow(v, 2);
        net_vlan_allow(v, 3);
        net_vlan_allow(v, 100);
        net_vlan_allow(v, NET_VID_MAX);
        break;
    case 4: /* trunk without a native VLAN */
        net_vlan_trunk(v, 0);
        net_vlan_allow(v, 2);
        net_vlan_allow(v, 3);
        break;
    case 5: /* trunk, native 3 */
        net_vlan_trunk(v, 3);
        net_vlan_allow(v, NET_VID_MAX);
        break;
    case 6: /* trunk whose native VLAN's bit was cleared: still in it */
        net_vlan_trunk(v, 2);
        v->allowed[0] &= ~(1ull << 2);
        net_vlan_allow(v, 1);
        break;
    case 7: net_vlan_access(v, 0); break; /* no VLAN: hears and sends nothing */
    }
}

static const unsigned initial_cfg[NPORTS] = { 0, 0, 1, 3, 4, 5, 2 };
static const bool port_offloads[NPORTS] = { false, true, false, false, true, false, true };

static void setup(void)
{
    struct net_switch_config cfg = {
        .name = "fuzz", .max_ports = NPORTS, .max_macs = MAX_MACS, .aging_ns = 30 * SEC, .now_ns = clock_now,
    };
    sw = net_switch_new(&cfg);
    if (!sw)
        abort();
    for (unsigned i = 0; i < NPORTS; i++) {
        struct fport *p = &ports[i];
        net_port_init(&p->port, &sink_ops, "sink", port_offloads[i]);
        p->id = i;
        configure(&p->port.vlan, initial_cfg[i]);
        if (net_switch_attach(sw, &p->port) < 0)
            abort();
        p->attached = true;
    }
}

static void teardown(void)
{
    net_switch_free(sw);
    sw = NULL;
    for (unsigned i = 0; i < NPORTS; i++)
        if (ports[i].port.sw)
            abort();
}

/* ---- checks after a frame and of the table ---- */

static void check_fanout(const uint8_t *dst)
{
    unsigned receivers = 0, exact = 0, eligible = 0;
    for (unsigned i = 0; i < NPORTS; i++) {
        struct fport *p = &ports[i];
        bool whole = p->port.offloads || !cur.needs_finish;   /* exactly one frame */
        if (whole && p->got > 1)
            abort();
        if (p->got)
            receivers++;
        if (can_receive(p, cur.vid, cur.from)) {
            eligible++;
            if (whole && p->got == 1)
                exact++;
        }
    }
    if (cur.needs_finish)
        return;   /* ports without offloads may drop what cannot be finished */
    if (dst[0] & 1) {
        if (receivers != eligible || exact != eligible)
            abort(); /* flooded to exactly its VLAN */
    } else if (receivers > 1 && receivers != eligible) {
        abort();     /* unicast: one port, or flooded */
    }
}

static void check_table(void)
{
    static struct net_fdb_entry e[4 * MAX_MACS];
    size_t n = net_switch_fdb(sw, e, 4 * MAX_MACS);
    if (n > MAX_MACS)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (e[i].vid < 1 || e[i].vid > NET_VID_MAX || (e[i].mac[0] & 1) || !e[i].port)
            abort();
        const struct fport *p = (const struct fport *)e[i].port;
        if (p < ports || p >= ports + NPORTS || !p->attached)
            abort();
    }
}

/* ---- input ---- */

static void put_tag(uint8_t *at, uint16_t tpid, uint16_t tci)
{
    net_put16(at, tpid);
    net_put16(at + 2, tci);
}

static void do_frame(struct rd *r)
{
    unsigned from = u8(r) % NPORTS, flags = u8(r), len = u16(r);
    struct net_offload off = { 0 };
    if (flags & 1) {
        off.flags = (uint8_t)u8(r);
        off.gso_type = (uint8_t)u8(r);
        off.hdr_len = (uint16_t)u16(r);
        off.gso_size = (uint16_t)u16(r);
        off.csum_start = (uint16_t)u16(r);
        off.csum_offset = (uint16_t)u16(r);
    }
    unsigned outer = flags & 8 ? u16(r) : 0, inner = flags & 16 ? u16(r) : 0;
    size_t total = flags & 2 ? u16(r) + (flags & 4 ? 64u : 0u) : 0;
    if (len > r->n)
        len = (unsigned)r->n;
    size_t tags = (flags & 8 ? 4 : 0) + (flags & 16 ? 4 : 0);
    size_t flen = len + (len >= 12 ? tags : 0);
    if (total > flen)
        flen = total;
    /* The frame in a buffer of exactly its size: ASan sees overreads. */
    uint8_t *f = malloc(flen ? flen : 1);
    uint8_t *orig = malloc(flen ? flen : 1);
    if (!f || !orig)
        abort();
    size_t pos = 0;
    if (len >= 12 && tags) {
        memcpy(f, r->p, 12);
        pos = 12;
        if (flags & 8)
            put_tag(f + pos, flags & 32 ? NET_ETH_P_8021AD : NET_ETH_P_8021Q, (uint16_t)outer), pos += 4;
        if (flags & 16)
            put_tag(f + pos, NET_ETH_P_8021Q, (uint16_t)inner), pos += 4;
        memcpy(f + pos, r->p + 12, len - 12);
        pos += len - 12;
    } else {
        memcpy(f, r->p, len);
        pos = len;
    }
    for (size_t i = pos; i < flen; i++)
        f[i] = (uint8_t)(i * 7);
    r->p += len, r->n -= len;
    memcpy(orig, f, flen);

    struct fport *in = &ports[from];
    uint16_t vid = 0;
    bool strip = false;
    bool pass = in->attached && !in->port.link_down &&
                model_ingress(&in->port.vlan, orig, flen, &off, &vid, &strip);
    /* The model's idea of what leaves the switch. */
    static uint8_t want[NET_FRAME_MAX];
    size_t wlen = flen;
    struct net_offload woff = off;
    if (pass && strip) {
        memcpy(want, orig, 12);
        memcpy(want + 12, orig + 16, flen - 16);
        wlen = flen - 4;
        if (woff.flags & NET_OFF_NEEDS_CSUM)
            woff.csum_start -= 4;
        if (woff.hdr_len)
            woff.hdr_len -= 4;
    } else if (pass) {
        memcpy(want, orig, flen);
    }
    for (unsigned i = 0; i < NPORTS; i++)
        ports[i].got = 0;
    cur.active = pass;
    cur.from = from;
    cur.vid = vid;
    cur.frame = want;
    cur.len = wlen;
    cur.off = woff;
    struct net_pkt probe = { .off = woff };
    cur.needs_finish = net_pkt_needs_finish(&probe);

    struct net_pkt pkt = { .data = f, .len = flen, .off = off };
    net_port_input(&in->port, &pkt);
    if (pass)
        check_fanout(want);
    cur.active = false;
    free(f);
    free(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    now = 1000 * SEC;
    setup();
    struct rd r = { data, size };
    while (r.n) {
        unsigned op = u8(&r) % 8, p, c;
        switch (op) {
        case 4:
            now += u8(&r) * (SEC / 2);
            break;
        case 5:
            p = u8(&r) % NPORTS;
            configure(&ports[p].port.vlan, u8(&r));
            break;
        case 6:
            p = u8(&r) % NPORTS;
            c = u8(&r);
            if (c & 1)
                ports[p].port.link_down = !ports[p].port.link_down;
            if (c & 2) {
                if (ports[p].attached) {
                    net_switch_detach(sw, &ports[p].port);
                    ports[p].attached = false;
                } else {
                    if (net_switch_attach(sw, &ports[p].port) < 0)
                        abort();
                    ports[p].attached = true;
                }
            }
            break;
        case 7:
            net_switch_age(sw);
            check_table();
            break;
        default:
            do_frame(&r);
            break;
        }
    }
    check_table();
    teardown();
    return 0;
}

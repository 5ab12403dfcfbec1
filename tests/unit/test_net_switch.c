/* The virtual switch: learning, aging, moves, flooding, 802.1Q ingress and
 * egress, detaching, and two long randomized runs: VLAN isolation checked
 * against a reference model after every frame, and the MAC table bound
 * under a flood of random source addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net/switch.h"
#include "net_testports.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
/* From ASan's allocator interface: bytes the program has malloc'ed and
 * not yet freed. ASan replaces malloc, so mallinfo2 would see nothing. */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
static size_t heap_in_use(void) { return mallinfo2().uordblks; }
#endif

#define SEC 1000000000ull
#define MAX_TPORTS 16

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t MAC_A[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t MAC_C[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0c };
static const uint8_t MAC_X[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x99 }; /* never sends */

/* ---- randomness for the long runs ---- */

static uint64_t rng_state;

/* xorshift64*: fast and good enough to pick frames. */
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rnd_below(unsigned n) { return (unsigned)((rnd() >> 32) % n); }
static bool rnd_pct(unsigned pct) { return rnd_below(100) < pct; }

/* ---- fixture: a switch on a fake clock with recording ports ---- */

struct fx {
    uint64_t now;
    struct net_switch *sw;
    struct tlog log;
    struct tport tp[MAX_TPORTS];
    unsigned nports;
    uint8_t buf[NET_FRAME_MAX];
};

static uint64_t fake_now(void *opaque) { return *(uint64_t *)opaque; }

static struct fx *fx_new(unsigned nports, unsigned max_macs, uint64_t aging_ns)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->now = 1000 * SEC;
    struct net_switch_config cfg = {
        .name = "test",
        .max_ports = MAX_TPORTS,
        .max_macs = max_macs,
        .aging_ns = aging_ns,
        .now_ns = fake_now,
        .now_opaque = &f->now,
    };
    f->sw = net_switch_new(&cfg);
    assert_non_null(f->sw);
    f->nports = nports;
    for (unsigned i = 0; i < nports; i++) {
        tport_init(&f->tp[i], i, &f->log);
        assert_int_equal(net_switch_attach(f->sw, &f->tp[i].port), 0);
    }
    return f;
}

static void fx_free(struct fx *f)
{
    net_switch_free(f->sw);
    for (unsigned i = 0; i < f->nports; i++)
        assert_null(f->tp[i].port.sw);
    free(f);
}

/* Send a frame with no payload to speak of through port `from`, after
 * clearing the log. */
static void send_frame(struct fx *f, unsigned from, const uint8_t *dst, const uint8_t *src, bool tagged,
                       uint16_t tci)
{
    f->log.n = 0;
    size_t len = tframe(f->buf, dst, src, tagged, tci, 0x88b5, 46);
    tport_send(&f->tp[from], f->buf, len);
    assert_int_equal(f->log.overflow, 0);
}

/* The log holds exactly the ports in `want` (a bitmask of port ids). */
static void expect_ports(const struct fx *f, unsigned want)
{
    unsigned got = 0;
    for (unsigned i = 0; i < f->log.n; i++) {
        unsigned bit = 1u << f->log.d[i].port_id;
        assert_false(got & bit); /* each port at most once */
        got |= bit;
    }
    assert_int_equal(got, want);
}

static size_t fdb_count(const struct net_switch *sw)
{
    static struct net_fdb_entry e[4096];
    return net_switch_fdb(sw, e, 4096);
}

static const struct net_fdb_entry *fdb_lookup(const struct net_switch *sw, const uint8_t *mac, uint16_t vid)
{
    static struct net_fdb_entry e[4096];
    size_t n = net_switch_fdb(sw, e, 4096);
    for (size_t i = 0; i < n; i++)
        if (e[i].vid == vid && memcmp(e[i].mac, mac, 6) == 0)
            return &e[i];
    return NULL;
}

/* ---- learning, flooding, aging, moves ---- */

static void test_learning(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, 0, 0);
    /* A is not known yet: flooded to every other port. */
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    expect_ports(f, 0xe);
    /* B answers A: A was learned on port 0, so only port 0 gets it. */
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x1);
    send_frame(f, 0, MAC_B, MAC_A, false, 0);
    expect_ports(f, 0x2);
    send_frame(f, 2, MAC_A, MAC_C, false, 0);
    expect_ports(f, 0x1);

    const struct net_switch_stats *st = net_switch_stats(f->sw);
    assert_int_equal(st->learned, 3);
    assert_int_equal(st->frames, 4);
    assert_int_equal(st->flooded, 1);
    assert_int_equal(fdb_count(f->sw), 3);
    const struct net_fdb_entry *e = fdb_lookup(f->sw, MAC_B, 1);
    assert_non_null(e);
    assert_ptr_equal(e->port, &f->tp[1].port);
    /* Per-port counters come from port.c: one each way per frame. */
    assert_int_equal(f->tp[0].port.stats.rx_frames, 2);
    assert_int_equal(f->tp[0].port.stats.tx_frames, 2);
    assert_int_equal(f->tp[3].port.stats.tx_frames, 1);
    fx_free(f);
}

static void test_flooding(void **state)
{
    (void)state;
    struct fx *f = fx_new(6, 0, 0);
    /* Ports 0-3 in VLAN 1, 4-5 in VLAN 2. */
    net_vlan_access(&f->tp[4].port.vlan, 2);
    net_vlan_access(&f->tp[5].port.vlan, 2);
    send_frame(f, 1, BCAST, MAC_A, false, 0);
    expect_ports(f, 0xd);
    send_frame(f, 1, MCAST, MAC_A, false, 0);
    expect_ports(f, 0xd);
    send_frame(f, 1, MAC_X, MAC_A, false, 0); /* unknown unicast */
    expect_ports(f, 0xd);
    send_frame(f, 4, BCAST, MAC_B, false, 0);
    expect_ports(f, 0x20);
    /* A learned in VLAN 1 is unknown in VLAN 2. */
    send_frame(f, 4, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x20);
    assert_int_equal(net_switch_stats(f->sw)->flooded, 5);
    /* A port with its link down gets nothing, and sends nothing. */
    f->tp[2].port.link_down = true;
    send_frame(f, 1, BCAST, MAC_A, false, 0);
    expect_ports(f, 0x9);
    send_frame(f, 2, BCAST, MAC_C, false, 0);
    expect_ports(f, 0);
    fx_free(f);
}

static void test_no_reflection(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 0, 0);
    /* A and B both behind port 0 (say, a hub): their traffic stays there. */
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    send_frame(f, 0, BCAST, MAC_B, false, 0);
    send_frame(f, 0, MAC_B, MAC_A, false, 0);
    expect_ports(f, 0);
    assert_int_equal(net_switch_stats(f->sw)->frames, 3);
    fx_free(f);
}

static void test_aging(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 0, 10 * SEC);
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    f->now += 9 * SEC;
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x1);
    const struct net_fdb_entry *e = fdb_lookup(f->sw, MAC_A, 1);
    assert_non_null(e);
    assert_int_equal(e->age_ns, 9 * SEC);
    /* A has been quiet for 10 s: forgotten, so frames to it are flooded. */
    f->now += 1 * SEC;
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x5);
    assert_null(fdb_lookup(f->sw, MAC_A, 1));
    assert_non_null(fdb_lookup(f->sw, MAC_B, 1));
    /* Explicit aging reclaims A and, 10 s later, B. */
    net_switch_age(f->sw);
    assert_int_equal(net_switch_stats(f->sw)->aged, 1);
    f->now += 10 * SEC;
    net_switch_age(f->sw);
    assert_int_equal(net_switch_stats(f->sw)->aged, 2);
    assert_int_equal(fdb_count(f->sw), 0);
    /* Learning again works after aging. */
    send_frame(f, 2, BCAST, MAC_A, false, 0);
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x4);
    fx_free(f);
}

static void test_full_table_reclaims_expired(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 4, 10 * SEC);
    uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
    for (int i = 1; i <= 5; i++) {
        mac[5] = (uint8_t)i;
        send_frame(f, 0, BCAST, mac, false, 0);
    }
    const struct net_switch_stats *st = net_switch_stats(f->sw);
    assert_int_equal(st->learned, 4);
    assert_int_equal(st->learn_full, 1);
    assert_int_equal(fdb_count(f->sw), 4);
    /* The fifth address was not learned: frames to it are flooded. */
    send_frame(f, 1, mac, MAC_B, false, 0);
    expect_ports(f, 0x1);
    /* Once the old entries expire, new addresses take their place. */
    f->now += 11 * SEC;
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    assert_int_equal(st->learned, 5);
    assert_true(st->aged >= 1);
    assert_non_null(fdb_lookup(f->sw, MAC_A, 1));
    assert_true(fdb_count(f->sw) <= 4);
    fx_free(f);
}

static void test_move(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 0, 0);
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x1);
    /* A migrates to port 2. */
    send_frame(f, 2, BCAST, MAC_A, false, 0);
    assert_int_equal(net_switch_stats(f->sw)->moved, 1);
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x4);
    assert_ptr_equal(fdb_lookup(f->sw, MAC_A, 1)->port, &f->tp[2].port);
    assert_int_equal(fdb_count(f->sw), 2);
    fx_free(f);
}

static void test_bad_source(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 0, 0);
    static const uint8_t zero[6];
    send_frame(f, 0, BCAST, zero, false, 0);
    expect_ports(f, 0);
    send_frame(f, 0, BCAST, MCAST, false, 0);
    expect_ports(f, 0);
    /* A runt the port lets through (no EtherType) and a cut-off tag. */
    f->log.n = 0;
    size_t len = tframe(f->buf, BCAST, MAC_A, true, 5, 0x88b5, 0);
    tport_send(&f->tp[0], f->buf, len - 3);
    expect_ports(f, 0);
    const struct net_switch_stats *st = net_switch_stats(f->sw);
    assert_int_equal(st->dropped_bad, 3);
    assert_int_equal(st->frames, 0);
    assert_int_equal(fdb_count(f->sw), 0);
    assert_int_equal(f->tp[0].port.stats.rx_dropped, 3);
    fx_free(f);
}

/* ---- 802.1Q ---- */

static void test_vlan_access_and_trunk(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, 0, 0);
    /* 0: access VLAN 10; 1: access VLAN 20; 2: trunk native 10 carrying
     * 10 and 20; 3: trunk without a native VLAN carrying 20 and 30. */
    net_vlan_access(&f->tp[0].port.vlan, 10);
    net_vlan_access(&f->tp[1].port.vlan, 20);
    net_vlan_trunk(&f->tp[2].port.vlan, 10);
    net_vlan_allow(&f->tp[2].port.vlan, 20);
    net_vlan_trunk(&f->tp[3].port.vlan, 0);
    net_vlan_allow(&f->tp[3].port.vlan, 20);
    net_vlan_allow(&f->tp[3].port.vlan, 30);
    const struct net_switch_stats *st = net_switch_stats(f->sw);

    /* Access 10 -> the trunk carrying 10, untagged there (native). */
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    expect_ports(f, 0x4);
    assert_int_equal(f->log.d[0].tag, 0);
    assert_int_equal(f->log.d[0].vid, 10);
    /* Access 20 -> both trunks, tagged 20. */
    send_frame(f, 1, BCAST, MAC_B, false, 0);
    expect_ports(f, 0xc);
    for (unsigned i = 0; i < f->log.n; i++) {
        assert_int_equal(f->log.d[i].tag, 20);
        assert_int_equal(f->log.d[i].vid, 20);
        assert_int_equal(f->log.d[i].len, 60);
        /* The tag is gone from the frame itself. */
        assert_int_equal(f->log.d[i].data[12], 0x88);
    }
    /* Tagged 20 into trunk 3 -> access 20 untagged, trunk 2 tagged. The
     * priority bits do not matter. */
    send_frame(f, 3, BCAST, MAC_C, true, 0xe000 | 20);
    expect_ports(f, 0x6);
    assert_int_equal(tlog_find(&f->log, 1)->tag, 0);
    assert_int_equal(tlog_find(&f->log, 2)->tag, 20);
    assert_int_equal(tlog_find(&f->log, 1)->len, 60);
    assert_memory_equal(tlog_find(&f->log, 1)->data, BCAST, 6);
    assert_memory_equal(tlog_find(&f->log, 1)->data + 6, MAC_C, 6);
    /* Learned in VLAN 20 only. */
    send_frame(f, 1, MAC_C, MAC_B, false, 0);
    expect_ports(f, 0x8);
    assert_int_equal(f->log.d[0].tag, 20);
    uint64_t vlan_drops = st->dropped_vlan;

    /* Tagged frames on access ports are dropped, even for their own VID. */
    send_frame(f, 0, BCAST, MAC_A, true, 10);
    expect_ports(f, 0);
    /* A VID the trunk does not carry. */
    send_frame(f, 3, BCAST, MAC_C, true, 10);
    expect_ports(f, 0);
    /* Untagged on a trunk without a native VLAN. */
    send_frame(f, 3, BCAST, MAC_C, false, 0);
    expect_ports(f, 0);
    assert_int_equal(st->dropped_vlan, vlan_drops + 3);
    /* Reserved VID 4095. */
    uint64_t bad = st->dropped_bad;
    send_frame(f, 2, BCAST, MAC_C, true, 4095);
    expect_ports(f, 0);
    assert_int_equal(st->dropped_bad, bad + 1);

    /* Tagged with the native VID on the trunk: VLAN 10, leaves untagged. */
    send_frame(f, 2, BCAST, MAC_C, true, 10);
    expect_ports(f, 0x1);
    /* Priority-tagged (VID 0) counts as untagged: native VLAN on a
     * trunk, the access VLAN on an access port. */
    send_frame(f, 2, BCAST, MAC_C, true, 0x6000);
    expect_ports(f, 0x1);
    assert_int_equal(f->log.d[0].len, 60);
    assert_int_equal(f->log.d[0].vid, 10);
    send_frame(f, 0, BCAST, MAC_A, true, 0x2000);
    expect_ports(f, 0x4);
    fx_free(f);
}

static void test_vlan_offload_offsets(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 0, 0);
    net_vlan_trunk(&f->tp[0].port.vlan, 0);
    net_vlan_allow(&f->tp[0].port.vlan, 1);
    struct net_pkt pkt;
    size_t len;

    /* Offsets into the tagged frame move back by the tag's 4 bytes. */
    f->log.n = 0;
    len = tframe(f->buf, BCAST, MAC_A, true, 1, NET_ETH_P_IPV4, 60);
    pkt = (struct net_pkt){ .data = f->buf, .len = len };
    pkt.off = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 38, .csum_offset = 16,
                                    .hdr_len = 58 };
    net_port_input(&f->tp[0].port, &pkt);
    expect_ports(f, 0x2);
    assert_int_equal(f->log.d[0].off.csum_start, 34);
    assert_int_equal(f->log.d[0].off.csum_offset, 16);
    assert_int_equal(f->log.d[0].off.hdr_len, 54);
    assert_int_equal(f->log.d[0].len, len - 4);
    /* hdr_len 0 means "not given" and stays 0; csum_start is left alone
     * without NEEDS_CSUM. */
    f->log.n = 0;
    len = tframe(f->buf, BCAST, MAC_A, true, 1, NET_ETH_P_IPV4, 60);
    pkt = (struct net_pkt){ .data = f->buf, .len = len, .off = { .csum_start = 2 } };
    net_port_input(&f->tp[0].port, &pkt);
    expect_ports(f, 0x2);
    assert_int_equal(f->log.d[0].off.csum_start, 2);
    assert_int_equal(f->log.d[0].off.hdr_len, 0);
    /* Offsets that would point before the frame: dropped. */
    uint64_t bad = net_switch_stats(f->sw)->dropped_bad;
    f->log.n = 0;
    len = tframe(f->buf, BCAST, MAC_A, true, 1, NET_ETH_P_IPV4, 60);
    pkt = (struct net_pkt){ .data = f->buf, .len = len };
    pkt.off = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 3 };
    net_port_input(&f->tp[0].port, &pkt);
    len = tframe(f->buf, BCAST, MAC_A, true, 1, NET_ETH_P_IPV4, 60);
    pkt = (struct net_pkt){ .data = f->buf, .len = len, .off = { .hdr_len = 2 } };
    net_port_input(&f->tp[0].port, &pkt);
    expect_ports(f, 0);
    assert_int_equal(net_switch_stats(f->sw)->dropped_bad, bad + 2);
    fx_free(f);
}

/* A port moved out of a VLAN must not keep getting that VLAN's unicast
 * because its MAC was learned there earlier. */
static void test_vlan_change_after_learning(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 0, 0);
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    net_vlan_access(&f->tp[0].port.vlan, 2);
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x4);
    fx_free(f);
}

/* ---- ports coming and going ---- */

static void test_detach(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 0, 0);
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    send_frame(f, 0, BCAST, MAC_C, false, 0);
    send_frame(f, 1, BCAST, MAC_B, false, 0);
    assert_int_equal(fdb_count(f->sw), 3);
    assert_int_equal(net_switch_port_count(f->sw), 3);

    net_switch_detach(f->sw, &f->tp[0].port);
    assert_null(f->tp[0].port.sw);
    assert_int_equal(net_switch_port_count(f->sw), 2);
    assert_int_equal(fdb_count(f->sw), 1);
    assert_null(fdb_lookup(f->sw, MAC_A, 1));
    assert_null(fdb_lookup(f->sw, MAC_C, 1));
    assert_non_null(fdb_lookup(f->sw, MAC_B, 1));
    /* A is unknown now: flooded to the ports still plugged in. */
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x4);
    /* Frames from a detached port go nowhere. */
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    expect_ports(f, 0);
    /* Detaching twice, or from a switch it is not in, changes nothing. */
    net_switch_detach(f->sw, &f->tp[0].port);
    assert_int_equal(net_switch_port_count(f->sw), 2);

    /* Plugged in again it learns afresh. */
    assert_int_equal(net_switch_attach(f->sw, &f->tp[0].port), 0);
    assert_int_equal(net_switch_attach(f->sw, &f->tp[0].port), 0);
    assert_int_equal(net_switch_port_count(f->sw), 3);
    send_frame(f, 0, BCAST, MAC_A, false, 0);
    send_frame(f, 1, MAC_A, MAC_B, false, 0);
    expect_ports(f, 0x1);

    /* net_port_free unplugs too (test ports have no free op). */
    net_port_free(&f->tp[2].port);
    assert_int_equal(net_switch_port_count(f->sw), 2);
    assert_null(f->tp[2].port.sw);
    fx_free(f);
}

static void test_port_limit(void **state)
{
    (void)state;
    struct fx *f = fx_new(MAX_TPORTS, 0, 0);
    struct tport extra;
    tport_init(&extra, 99, &f->log);
    assert_int_equal(net_switch_attach(f->sw, &extra.port), -1);
    assert_null(extra.port.sw);
    net_switch_detach(f->sw, &f->tp[5].port);
    assert_int_equal(net_switch_attach(f->sw, &extra.port), 0);
    assert_int_equal(net_switch_port_count(f->sw), MAX_TPORTS);
    /* A port plugged into one switch cannot join another. */
    struct net_switch_config cfg = { .max_ports = 2 };
    struct net_switch *other = net_switch_new(&cfg);
    assert_int_equal(net_switch_attach(other, &extra.port), -1);
    net_switch_free(other);
    net_switch_detach(f->sw, &extra.port);
    fx_free(f);
}

/* ---- the table under churn ---- */

#define CHURN_OPS 300000
#define CHURN_POOL 512
#define CHURN_TABLE 64
#define CHURN_HELD_MAX 56 /* below CHURN_TABLE: the table never turns one away */
#define CHURN_PORTS 4
#define CHURN_AGING (100 * SEC)

struct churn_model {
    int where[CHURN_POOL];        /* port, or -1: not in the table */
    uint64_t seen[CHURN_POOL];
    uint8_t mac[CHURN_POOL][6];   /* index in the last two bytes */
    unsigned held;                /* where >= 0, expired or not */
};

static bool churn_live(const struct churn_model *m, unsigned i, uint64_t now)
{
    return m->where[i] >= 0 && now - m->seen[i] < CHURN_AGING;
}

/* Learning, moves, unplugging and aging in a small crowded table (up to
 * 56 of 64 addresses, 128 slots) that a pool of 512 addresses passes
 * through, so probe chains are long, wrap around the end of the table and
 * get shifted by removals everywhere: after every step the table lists
 * exactly the addresses a plain model says it knows, each once, on the
 * right port, and lookups find them. */
static void test_fdb_churn(void **state)
{
    (void)state;
    struct fx *f = fx_new(CHURN_PORTS, CHURN_TABLE, CHURN_AGING);
    struct churn_model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    static struct net_fdb_entry e[2 * CHURN_TABLE];
    rng_state = 0x5eed5eed5eedull;
    for (unsigned i = 0; i < CHURN_POOL; i++) {
        m->where[i] = -1;
        uint8_t mac[6] = { 0x02, (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)(i >> 8), (uint8_t)i };
        memcpy(m->mac[i], mac, 6);
    }
    for (unsigned op = 0; op < CHURN_OPS; op++) {
        unsigned r = rnd_below(64);
        if (r == 0) {
            unsigned p = rnd_below(CHURN_PORTS);
            net_switch_detach(f->sw, &f->tp[p].port);
            assert_int_equal(net_switch_attach(f->sw, &f->tp[p].port), 0);
            for (unsigned i = 0; i < CHURN_POOL; i++) {
                if (m->where[i] == (int)p) {
                    m->where[i] = -1;
                    m->held--;
                }
            }
        } else if (r == 1) {
            f->now += rnd_below(20) * SEC;
            net_switch_age(f->sw);
            for (unsigned i = 0; i < CHURN_POOL; i++) {
                if (m->where[i] >= 0 && !churn_live(m, i, f->now)) {
                    m->where[i] = -1;
                    m->held--;
                }
            }
        } else {
            unsigned i = rnd_below(CHURN_POOL), p = rnd_below(CHURN_PORTS);
            /* Table nearly full: refresh or move an address it holds. */
            while (m->held >= CHURN_HELD_MAX && m->where[i] < 0)
                i = (i + 1) % CHURN_POOL;
            send_frame(f, p, BCAST, m->mac[i], false, 0);
            if (m->where[i] < 0)
                m->held++;
            m->where[i] = (int)p;
            m->seen[i] = f->now;
        }

        size_t n = net_switch_fdb(f->sw, e, 2 * CHURN_TABLE);
        bool listed[CHURN_POOL] = { false };
        for (size_t k = 0; k < n; k++) {
            unsigned i = (unsigned)e[k].mac[4] << 8 | e[k].mac[5];
            assert_true(i < CHURN_POOL);
            assert_memory_equal(e[k].mac, m->mac[i], 6);
            assert_false(listed[i]);
            listed[i] = true;
            assert_true(churn_live(m, i, f->now));
            assert_ptr_equal(e[k].port, &f->tp[m->where[i]].port);
        }
        unsigned live = 0;
        for (unsigned i = 0; i < CHURN_POOL; i++)
            live += churn_live(m, i, f->now);
        assert_int_equal(n, live);
        if (op % 1024 == 0 && n) {
            /* Lookups agree with the listing. The frames come from a live
             * address on its own port, which only refreshes it. */
            unsigned j = (unsigned)e[0].mac[4] << 8 | e[0].mac[5];
            for (size_t k = 0; k < n; k++) {
                unsigned q = (unsigned)m->where[(unsigned)e[k].mac[4] << 8 | e[k].mac[5]];
                send_frame(f, (unsigned)m->where[j], e[k].mac, m->mac[j], false, 0);
                m->seen[j] = f->now;
                expect_ports(f, q == (unsigned)m->where[j] ? 0 : 1u << q);
            }
        }
    }
    assert_int_equal(net_switch_stats(f->sw)->learn_full, 0);
    assert_true(net_switch_stats(f->sw)->learned > 10 * CHURN_POOL);
    free(m);
    fx_free(f);
}

/* ---- randomized VLAN isolation against a reference model ---- */

#define RND_FRAMES 2000000
#define RND_PORTS 12
#define RND_VIDS 16 /* VLANs ports are members of: 1..RND_VIDS */
#define SMALL_POOL 16
#define LARGE_POOL 2048
#define POOL (SMALL_POOL + LARGE_POOL)

/* What the test believes about each port and each address, kept in its
 * own plain form rather than read back from the switch. */
struct model {
    bool attached[RND_PORTS];
    bool trunk[RND_PORTS];
    uint16_t vid[RND_PORTS];            /* access VID, or trunk native (0: none) */
    bool member[RND_PORTS][RND_VIDS + 1];
    int8_t where[POOL][RND_VIDS + 1];   /* port a pool MAC was last seen on, -1 */
    uint8_t mac[POOL][6];
};

static void model_configure_port(struct model *m, struct fx *f, unsigned p)
{
    struct net_vlan_cfg *v = &f->tp[p].port.vlan;
    memset(m->member[p], 0, sizeof(m->member[p]));
    m->trunk[p] = rnd_pct(50);
    if (!m->trunk[p]) {
        m->vid[p] = (uint16_t)(1 + rnd_below(6));
        net_vlan_access(v, m->vid[p]);
        m->member[p][m->vid[p]] = true;
        return;
    }
    m->vid[p] = rnd_pct(25) ? 0 : (uint16_t)(1 + rnd_below(RND_VIDS));
    net_vlan_trunk(v, m->vid[p]);
    for (uint16_t vid = 1; vid <= RND_VIDS; vid++) {
        if (rnd_pct(40)) {
            net_vlan_allow(v, vid);
            m->member[p][vid] = true;
        }
    }
    if (m->vid[p])
        m->member[p][m->vid[p]] = true;
    /* Sometimes a native VLAN missing from the allowed set: still the
     * port's VLAN both ways. */
    if (m->vid[p] && rnd_pct(10))
        v->allowed[m->vid[p] >> 6] &= ~(1ull << (m->vid[p] & 63));
}

static void model_forget_port(struct model *m, unsigned p)
{
    for (unsigned i = 0; i < POOL; i++)
        for (unsigned v = 0; v <= RND_VIDS; v++)
            if (m->where[i][v] == (int8_t)p)
                m->where[i][v] = -1;
}

static int pool_index(const struct model *m, const uint8_t *mac)
{
    /* Pool MACs carry their index in the last two bytes, after a marker. */
    if (mac[0] != 0x02 || mac[1] != 0x7e)
        return -1;
    unsigned i = (unsigned)mac[4] << 8 | mac[5];
    return i < POOL && memcmp(m->mac[i], mac, 6) == 0 ? (int)i : -1;
}

/* One random frame: well formed most of the time, otherwise cut short,
 * with odd tags, odd source addresses, or plain garbage. */
static size_t random_frame(const struct model *m, uint8_t *buf, struct net_offload *off)
{
    memset(off, 0, sizeof(*off));
    if (rnd_pct(3)) {
        size_t len = rnd_below(80);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rnd();
        return len;
    }
    uint8_t dst[6], src[6];
    unsigned r = rnd_below(100);
    if (r < 20)
        memcpy(dst, BCAST, 6);
    else if (r < 30)
        memcpy(dst, MCAST, 6);
    else
        memcpy(dst, m->mac[rnd_pct(70) ? rnd_below(SMALL_POOL) : SMALL_POOL + rnd_below(LARGE_POOL)], 6);
    r = rnd_below(100);
    if (r < 2)
        memset(src, 0, 6);
    else if (r < 4)
        memcpy(src, MCAST, 6);
    else
        memcpy(src, m->mac[rnd_pct(70) ? rnd_below(SMALL_POOL) : SMALL_POOL + rnd_below(LARGE_POOL)], 6);

    bool tagged = rnd_pct(50);
    uint16_t tci = (uint16_t)(rnd_below(8) << 13);
    if (tagged) {
        r = rnd_below(100);
        if (r < 70)
            tci |= (uint16_t)(1 + rnd_below(RND_VIDS));
        else if (r < 80)
            tci |= 0;
        else if (r < 85)
            tci |= 4095;
        else
            tci |= (uint16_t)rnd_below(4096);
    }
    size_t len = tframe(buf, dst, src, tagged, tci, 0x0800, rnd_below(64));
    if (rnd_pct(1))
        len = NET_ETH_HLEN + rnd_below(tagged ? 4 : 1); /* header only, or a cut tag */
    if (rnd_pct(10)) {
        off->flags = NET_OFF_NEEDS_CSUM;
        off->csum_start = (uint16_t)rnd_below(40);
        off->csum_offset = 16;
    }
    if (rnd_pct(10))
        off->hdr_len = (uint16_t)rnd_below(40);
    return len;
}

/* The reference: which VLAN the frame belongs to (0: dropped), its
 * untagged form and offsets. Written from the rules in switch.h, not from
 * switch.c. */
static uint16_t model_ingress(const struct model *m, unsigned p, const uint8_t *in, size_t len, uint8_t *out,
                              size_t *out_len, struct net_offload *off)
{
    if (!m->attached[p] || len < 14)
        return 0;
    if ((in[6] & 1) || !memcmp(in + 6, "\0\0\0\0\0\0", 6))
        return 0;
    memcpy(out, in, len);
    *out_len = len;
    uint16_t vid = m->vid[p];
    if (in[12] == 0x81 && in[13] == 0x00) {
        if (len < 18)
            return 0;
        uint16_t tvid = (uint16_t)((in[14] & 0xf) << 8 | in[15]);
        if (tvid == 4095)
            return 0;
        if (tvid && !m->trunk[p])
            return 0;
        if (tvid && (tvid > RND_VIDS || !m->member[p][tvid]))
            return 0;
        if ((off->flags & NET_OFF_NEEDS_CSUM) && off->csum_start < 4)
            return 0;
        if (off->hdr_len && off->hdr_len < 4)
            return 0;
        if (off->flags & NET_OFF_NEEDS_CSUM)
            off->csum_start -= 4;
        if (off->hdr_len)
            off->hdr_len -= 4;
        memcpy(out + 12, in + 16, len - 16);
        *out_len = len - 4;
        if (tvid)
            vid = tvid;
    }
    return vid;
}

static void check_random_frame(struct fx *f, struct model *m, unsigned from, const uint8_t *orig, size_t len,
                               struct net_offload off)
{
    static uint8_t want[256];
    size_t want_len = 0;
    uint16_t vid = model_ingress(m, from, orig, len, want, &want_len, &off);
    if (!vid) {
        assert_int_equal(f->log.n, 0);
        return;
    }
    int s = pool_index(m, want + 6);
    if (s >= 0)
        m->where[s][vid] = (int8_t)from;

    /* Who should get it: the learned port, or everybody else in the VLAN. */
    bool expect[RND_PORTS] = { false };
    int d = (want[0] & 1) ? -1 : pool_index(m, want);
    int known = d >= 0 ? m->where[d][vid] : -1;
    if (known >= 0 && known == (int)from) {
        /* stays on the port it came from */
    } else if (known >= 0 && m->member[known][vid]) {
        expect[known] = true;
    } else {
        for (unsigned p = 0; p < RND_PORTS; p++)
            expect[p] = p != from && m->attached[p] && m->member[p][vid];
    }
    for (unsigned p = 0; p < RND_PORTS; p++)
        if (f->tp[p].port.link_down)
            expect[p] = false;

    bool seen[RND_PORTS] = { false };
    for (unsigned i = 0; i < f->log.n; i++) {
        const struct tdelivery *dl = &f->log.d[i];
        unsigned p = dl->port_id;
        assert_true(p < RND_PORTS);
        assert_false(seen[p]);
        seen[p] = true;
        assert_true(p != from);
        assert_true(vid <= RND_VIDS && m->member[p][vid]);
        assert_true(expect[p]);
        uint16_t tag = m->trunk[p] && m->vid[p] != vid ? vid : 0;
        assert_int_equal(dl->tag, tag);
        assert_int_equal(dl->vid, vid);
        assert_int_equal(dl->len, want_len);
        assert_memory_equal(dl->data, want, want_len);
        assert_int_equal(dl->off.flags, off.flags);
        assert_int_equal(dl->off.csum_start, off.csum_start);
        assert_int_equal(dl->off.hdr_len, off.hdr_len);
    }
    for (unsigned p = 0; p < RND_PORTS; p++)
        assert_int_equal(seen[p], expect[p]);
}

/* Every so often: bring back whatever port was taken out, then change one
 * port's VLANs, plug it out and back in (probably at another index), or
 * take it out for a while (unplugged, or link down). */
static void random_reconfigure(struct fx *f, struct model *m)
{
    for (unsigned p = 0; p < RND_PORTS; p++) {
        if (!m->attached[p]) {
            assert_int_equal(net_switch_attach(f->sw, &f->tp[p].port), 0);
            m->attached[p] = true;
        }
        f->tp[p].port.link_down = false;
    }
    unsigned p = rnd_below(RND_PORTS);
    switch (rnd_below(4)) {
    case 0:
        /* Addresses learned on the port stay in the table. */
        model_configure_port(m, f, p);
        break;
    case 1:
        net_switch_detach(f->sw, &f->tp[p].port);
        model_forget_port(m, p);
        assert_int_equal(net_switch_attach(f->sw, &f->tp[p].port), 0);
        break;
    case 2:
        net_switch_detach(f->sw, &f->tp[p].port);
        model_forget_port(m, p);
        m->attached[p] = false;
        break;
    case 3:
        /* The switch keeps what it learned on a port whose link is down. */
        f->tp[p].port.link_down = true;
        break;
    }
}

static void test_vlan_isolation_random(void **state)
{
    (void)state;
    rng_state = 0x9d2c5680a1b2c3d4ull;
    struct fx *f = fx_new(RND_PORTS, 1u << 17, 0);
    struct model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    memset(m->where, -1, sizeof(m->where));
    for (unsigned i = 0; i < POOL; i++) {
        uint8_t mac[6] = { 0x02, 0x7e, (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)(i >> 8), (uint8_t)i };
        memcpy(m->mac[i], mac, 6);
    }
    for (unsigned p = 0; p < RND_PORTS; p++) {
        model_configure_port(m, f, p);
        m->attached[p] = true;
    }

    static uint8_t orig[256];
    struct net_offload off;
    for (unsigned n = 0; n < RND_FRAMES; n++) {
        if (rnd_below(2048) == 0)
            random_reconfigure(f, m);
        unsigned from = rnd_below(RND_PORTS);
        size_t len = random_frame(m, f->buf, &off);
        memcpy(orig, f->buf, len);
        f->log.n = 0;
        struct net_pkt pkt = { .data = f->buf, .len = len, .off = off };
        net_port_input(&f->tp[from].port, &pkt);
        assert_int_equal(f->log.overflow, 0);
        if (f->tp[from].port.link_down)
            assert_int_equal(f->log.n, 0);
        else
            check_random_frame(f, m, from, orig, len, off);
    }
    const struct net_switch_stats *st = net_switch_stats(f->sw);
    /* The model assumes every address fits; make sure it did, and that
     * every kind of frame actually turned up. */
    print_message("%llu accepted (%llu flooded), %llu dropped for VLAN, %llu malformed, %llu moves\n",
                  (unsigned long long)st->frames, (unsigned long long)st->flooded,
                  (unsigned long long)st->dropped_vlan, (unsigned long long)st->dropped_bad,
                  (unsigned long long)st->moved);
    assert_int_equal(st->learn_full, 0);
    assert_true(st->frames > RND_FRAMES / 4);
    assert_true(st->dropped_vlan > 1000);
    assert_true(st->dropped_bad > 1000);
    assert_true(st->moved > 1000);
    free(m);
    fx_free(f);
}

/* ---- the MAC table bound ---- */

#define FLOOD_FRAMES 1000000
#define FLOOD_MACS 1024

/* 1,000,000 frames from random source addresses into a table of 1024:
 * the table never lists more than 1024 live entries, and the heap does
 * not change by a single byte from creation to the end (checked with
 * ASan's count of allocated bytes, or mallinfo2 without ASan). Half the
 * run keeps every entry fresh (nothing may be learned once full); the
 * other half moves the clock so entries keep expiring and get reclaimed. */
static void test_mac_table_bound(void **state)
{
    (void)state;
    rng_state = 0x1234567887654321ull;
    struct fx *f = fx_new(2, FLOOD_MACS, 1 * SEC);
    static struct net_fdb_entry entries[2 * FLOOD_MACS];
    const struct net_switch_stats *st = net_switch_stats(f->sw);
    size_t heap = heap_in_use();

    for (unsigned n = 0; n < FLOOD_FRAMES; n++) {
        bool aging_phase = n >= FLOOD_FRAMES / 2;
        if (aging_phase)
            f->now += SEC / 1000;
        uint64_t r = rnd();
        uint8_t src[6] = { (uint8_t)((r & 0xfc) | 0x02), (uint8_t)(r >> 8), (uint8_t)(r >> 16),
                           (uint8_t)(r >> 24), (uint8_t)(r >> 32), (uint8_t)(r >> 40) };
        f->log.n = 0;
        size_t len = tframe(f->buf, BCAST, src, false, 0, 0x0800, 0);
        tport_send(&f->tp[n & 1], f->buf, len);
        assert_int_equal(f->log.n, 1);
        if (n % 1000 == 999 || n == FLOOD_FRAMES / 2 - 1) {
            assert_true(net_switch_fdb(f->sw, entries, 2 * FLOOD_MACS) <= FLOOD_MACS);
            assert_int_equal(heap_in_use(), heap);
        }
        if (n == FLOOD_FRAMES / 2 - 1) {
            /* Full, and nothing expired: everything else was turned away. */
            assert_int_equal(st->learned, FLOOD_MACS);
            assert_int_equal(st->learn_full, FLOOD_FRAMES / 2 - FLOOD_MACS);
            assert_int_equal(net_switch_fdb(f->sw, entries, 2 * FLOOD_MACS), FLOOD_MACS);
        }
    }
    /* With entries expiring after 1000 frames, most addresses got in. */
    assert_true(st->learned > FLOOD_MACS + FLOOD_FRAMES / 4);
    assert_true(st->aged > FLOOD_FRAMES / 4);
    assert_int_equal(heap_in_use(), heap);
    print_message("learned %llu, aged %llu, not learned (full) %llu\n", (unsigned long long)st->learned,
                  (unsigned long long)st->aged, (unsigned long long)st->learn_full);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learning),
        cmocka_unit_test(test_flooding),
        cmocka_unit_test(test_no_reflection),
        cmocka_unit_test(test_aging),
        cmocka_unit_test(test_full_table_reclaims_expired),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_bad_source),
        cmocka_unit_test(test_vlan_access_and_trunk),
        cmocka_unit_test(test_vlan_offload_offsets),
        cmocka_unit_test(test_vlan_change_after_learning),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_port_limit),
        cmocka_unit_test(test_fdb_churn),
        cmocka_unit_test(test_vlan_isolation_random),
        cmocka_unit_test(test_mac_table_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The VM side of a switch connection (net/client.c) against a fake switch
 * on a real AF_UNIX SOCK_SEQPACKET socket in a private runtime directory:
 * the hello it sends, what it makes of the welcome (accepted, refused,
 * malformed), and frames from the switch, well formed or not. The client
 * checks what a switch hands it as strictly as the switch checks a VM:
 * offload offsets outside the frame, GSO kinds nobody segments, runts and
 * unknown message types are dropped and counted, never handed on to the
 * guest's driver.
 *
 * The fake switch runs on a thread of its own (net_client_new waits for
 * the welcome); it only records, and the checks run on the main thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "net/client.h"
#include "net/hub_proto.h"
#include "net/port.h"
#include "net/rundir.h"
#include "net_testports.h"

#define MS 1000000ull

enum welcome_kind { WELCOME_OK, WELCOME_FULL, WELCOME_SHORT, WELCOME_OTHER_VERSION };

/* One frame the fake switch sends after its welcome. */
struct wire_frame {
    uint8_t type;
    struct net_offload off;
    size_t len;                 /* of the Ethernet frame */
    uint8_t marker;             /* byte 14 of the frame, to tell them apart */
};

struct fake_switch {
    int listen_fd;
    enum welcome_kind welcome;
    const struct wire_frame *frames;
    size_t nframes;
    /* what it saw */
    uint8_t hello[sizeof(struct hub_hello) + 512];
    ssize_t hello_len;
    uint8_t from_client[HUB_MSG_MAX];
    ssize_t from_client_len;
    char failure[128];          /* the thread's own trouble, checked by main */
};

static void eth_frame(uint8_t *f, size_t len, uint8_t marker)
{
    static const uint8_t hdr[NET_ETH_HLEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 9, 0x08, 0x00 };
    memcpy(f, hdr, sizeof(hdr));
    for (size_t i = NET_ETH_HLEN; i < len; i++)
        f[i] = (uint8_t)(i * 3);
    f[NET_ETH_HLEN] = marker;
}

static void *switch_thread(void *opaque)
{
    struct fake_switch *s = opaque;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) {
        snprintf(s->failure, sizeof(s->failure), "accept: %s", strerror(errno));
        return NULL;
    }
    s->hello_len = recv(fd, s->hello, sizeof(s->hello), 0);
    struct hub_welcome w = { .version = HUB_VERSION, .mtu = 9000, .flags = HUB_WELCOME_ON_DEMAND };
    memcpy(w.magic, HUB_MAGIC, 8);
    size_t wlen = sizeof(w);
    switch (s->welcome) {
    case WELCOME_OK: break;
    case WELCOME_FULL:
        w.status = ENOSPC;
        snprintf(w.message, sizeof(w.message), "the network has no free port");
        break;
    case WELCOME_SHORT: wlen = sizeof(w) - 1; break;
    case WELCOME_OTHER_VERSION: w.version = HUB_VERSION + 1; break;
    }
    send(fd, &w, wlen, MSG_NOSIGNAL);
    static uint8_t msg[HUB_MSG_MAX];
    for (size_t i = 0; i < s->nframes; i++) {
        const struct wire_frame *wf = &s->frames[i];
        struct hub_frame_hdr h = {
            .type = wf->type, .flags = wf->off.flags, .gso_type = wf->off.gso_type,
            .hdr_len = htole16(wf->off.hdr_len), .gso_size = htole16(wf->off.gso_size),
            .csum_start = htole16(wf->off.csum_start), .csum_offset = htole16(wf->off.csum_offset),
        };
        memcpy(msg, &h, sizeof(h));
        eth_frame(msg + sizeof(h), wf->len, wf->marker);
        if (send(fd, msg, sizeof(h) + wf->len, MSG_NOSIGNAL) < 0)
            snprintf(s->failure, sizeof(s->failure), "send frame %zu: %s", i, strerror(errno));
    }
    if (s->welcome == WELCOME_OK) {
        /* One frame the other way, then the switch goes away. */
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 10000) == 1)
            s->from_client_len = recv(fd, s->from_client, sizeof(s->from_client), 0);
    }
    close(fd);
    return NULL;
}

struct env {
    char dir[64];
    char sock[108];             /* sun_path */
    struct fake_switch sw;
    pthread_t thread;
};

/* A private runtime directory with a listening socket where the client
 * looks for intnet 'lab', and the fake switch thread behind it. */
static void env_start(struct env *e, enum welcome_kind welcome, const struct wire_frame *frames, size_t n)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/vireo-client-test-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    setenv("VIREO_RUNTIME_DIR", e->dir, 1);
    char err[256];
    char netdir[128];
    snprintf(netdir, sizeof(netdir), "%s/net", e->dir);
    assert_int_equal(mkdir(netdir, 0700), 0);
    assert_int_equal(net_rundir_file(HUB_INTNET, "lab", ".sock", e->sock, sizeof(e->sock), err, sizeof(err)), 0);
    e->sw.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    assert_true(e->sw.listen_fd >= 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", e->sock);
    assert_int_equal(bind(e->sw.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(e->sw.listen_fd, 4), 0);
    e->sw.welcome = welcome;
    e->sw.frames = frames;
    e->sw.nframes = n;
    assert_int_equal(pthread_create(&e->thread, NULL, switch_thread, &e->sw), 0);
}

static void env_finish(struct env *e)
{
    pthread_join(e->thread, NULL);
    close(e->sw.listen_fd);
    unlink(e->sock);
    char netdir[128];
    snprintf(netdir, sizeof(netdir), "%s/net", e->dir);
    rmdir(netdir);
    rmdir(e->dir);
    assert_string_equal(e->sw.failure, "");
}

static const struct net_client_opts lab_opts = {
    .kind = HUB_INTNET, .network = "lab", .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, .vlan = 12,
    .client_name = "web nic1", .natpf = "ssh:tcp:127.0.0.1:2222:10.0.2.15:22\n",
};

/* ---- running the loop until something holds ---- */

struct wait_for {
    struct evloop *l;
    bool (*cond)(void *ctx);
    void *ctx;
    uint64_t deadline;
    bool met;
};

static void wait_tick(void *opaque)
{
    struct wait_for *w = opaque;
    if (w->cond(w->ctx) || vclock_ns() > w->deadline) {
        w->met = w->cond(w->ctx);
        evloop_stop(w->l);
        return;
    }
    evloop_add_timer(w->l, 1 * MS, wait_tick, w);
}

static bool run_until(struct evloop *l, bool (*cond)(void *ctx), void *ctx)
{
    struct wait_for w = { .l = l, .cond = cond, .ctx = ctx, .deadline = vclock_ns() + 5000 * MS };
    evloop_add_timer(l, 0, wait_tick, &w);
    evloop_run(l);
    return w.met;
}

static bool marker_seen(void *ctx)
{
    const struct tlog *log = ctx;
    for (unsigned i = 0; i < log->n; i++)
        if (log->d[i].data[NET_ETH_HLEN] == 0xee)
            return true;
    return false;
}

/* ---- tests ---- */

static void test_hello_and_frames(void **state)
{
    (void)state;
    const struct wire_frame frames[] = {
        { .type = HUB_MSG_FRAME, .len = 60, .marker = 1 },
        /* a checksum left to the receiver, field inside the frame */
        { .type = HUB_MSG_FRAME, .off = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 },
          .len = 100, .marker = 2 },
        /* the checksum field would end past the frame: dropped */
        { .type = HUB_MSG_FRAME, .off = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 90, .csum_offset = 16 },
          .len = 100, .marker = 3 },
        /* offsets that only fit if the sum wrapped: dropped */
        { .type = HUB_MSG_FRAME, .off = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 0xffff, .csum_offset = 2 },
          .len = 100, .marker = 4 },
        /* GSO that nobody segments (UFO), and TSO without a segment size: dropped */
        { .type = HUB_MSG_FRAME, .off = { .gso_type = NET_GSO_UDP, .gso_size = 1400 }, .len = 3000, .marker = 5 },
        { .type = HUB_MSG_FRAME, .off = { .gso_type = NET_GSO_TCPV4, .gso_size = 0 }, .len = 3000, .marker = 6 },
        /* a runt and a message of a type we do not know: dropped */
        { .type = HUB_MSG_FRAME, .len = 10, .marker = 7 },
        { .type = 9, .len = 60, .marker = 8 },
        /* TSO done right passes with its metadata (the guest segments) */
        { .type = HUB_MSG_FRAME,
          .off = { .flags = NET_OFF_NEEDS_CSUM, .gso_type = NET_GSO_TCPV4, .gso_size = 1448, .hdr_len = 54,
                   .csum_start = 34, .csum_offset = 16 },
          .len = 3000, .marker = 9 },
        { .type = HUB_MSG_FRAME, .len = 60, .marker = 0xee },
    };
    struct env e;
    env_start(&e, WELCOME_OK, frames, sizeof(frames) / sizeof(frames[0]));
    struct evloop *l = evloop_new();
    char err[256] = "";
    struct net_port *p = net_client_new(l, &lab_opts, err, sizeof(err));
    assert_non_null(p);
    assert_string_equal(err, "");
    assert_true(net_client_is_up(p));
    assert_int_equal(net_client_mtu(p), 9000);

    /* The hello: who we are, then the port forwards as text. */
    struct hub_hello h;
    assert_true(e.sw.hello_len >= (ssize_t)sizeof(h));
    memcpy(&h, e.sw.hello, sizeof(h));
    assert_memory_equal(h.magic, HUB_MAGIC, 8);
    assert_int_equal(h.version, HUB_VERSION);
    assert_true(h.flags & HUB_HELLO_OFFLOADS);
    assert_false(h.flags & HUB_HELLO_STATUS);
    assert_memory_equal(h.mac, lab_opts.mac, 6);
    assert_int_equal(h.vlan, 12);
    assert_string_equal(h.client, "web nic1");
    size_t extra = (size_t)e.sw.hello_len - sizeof(h);
    assert_int_equal(extra, strlen(lab_opts.natpf));
    assert_memory_equal(e.sw.hello + sizeof(h), lab_opts.natpf, extra);

    struct tlog log = { 0 };
    struct tport guest;
    tport_init(&guest, 1, &log);
    net_port_wire(p, &guest.port);
    assert_true(run_until(l, marker_seen, &log));
    /* Exactly the good ones, in order, with their metadata as sent. */
    const uint8_t want[] = { 1, 2, 9, 0xee };
    assert_int_equal(log.n, sizeof(want));
    for (unsigned i = 0; i < log.n; i++)
        assert_int_equal(log.d[i].data[NET_ETH_HLEN], want[i]);
    assert_int_equal(log.d[1].off.flags, NET_OFF_NEEDS_CSUM);
    assert_int_equal(log.d[1].off.csum_start, 34);
    assert_int_equal(log.d[1].off.csum_offset, 16);
    assert_int_equal(log.d[2].off.gso_type, NET_GSO_TCPV4);
    assert_int_equal(log.d[2].off.gso_size, 1448);
    assert_int_equal(log.d[2].len, 3000);
    assert_int_equal(p->stats.rx_dropped, 6);

    /* The other way: the guest's frame reaches the switch with its
     * metadata, little-endian, and the frame as it was. */
    static uint8_t f[200];
    eth_frame(f, sizeof(f), 0x77);
    struct net_pkt pkt = { .data = f, .len = sizeof(f),
                           .off = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 0x34, .csum_offset = 6 } };
    net_port_input(&guest.port, &pkt);
    assert_int_equal(p->stats.tx_dropped, 0);
    net_port_free(p);
    evloop_free(l);
    env_finish(&e);
    struct hub_frame_hdr fh;
    assert_int_equal(e.sw.from_client_len, (ssize_t)(sizeof(fh) + sizeof(f)));
    memcpy(&fh, e.sw.from_client, sizeof(fh));
    assert_int_equal(fh.type, HUB_MSG_FRAME);
    assert_int_equal(fh.flags, NET_OFF_NEEDS_CSUM);
    assert_int_equal(le16toh(fh.csum_start), 0x34);
    assert_int_equal(le16toh(fh.csum_offset), 6);
    assert_memory_equal(e.sw.from_client + sizeof(fh), f, sizeof(f));
}

/* A refusal or an answer we cannot read is the VM's one clear error at
 * start, naming why. */
static void expect_refusal(enum welcome_kind kind, const char *want)
{
    struct env e;
    env_start(&e, kind, NULL, 0);
    struct evloop *l = evloop_new();
    char err[256] = "";
    struct net_client_opts o = lab_opts;
    o.natpf = NULL;
    struct net_port *p = net_client_new(l, &o, err, sizeof(err));
    assert_null(p);
    if (!strstr(err, want))
        fail_msg("error '%s' does not say '%s'", err, want);
    evloop_free(l);
    env_finish(&e);
    assert_int_equal(e.sw.hello_len, (ssize_t)sizeof(struct hub_hello));
}

static void test_refused(void **state)
{
    (void)state;
    expect_refusal(WELCOME_FULL, "the network has no free port");
    expect_refusal(WELCOME_SHORT, "malformed");
    expect_refusal(WELCOME_OTHER_VERSION, "another protocol version");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_and_frames),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

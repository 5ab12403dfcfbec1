/* The socket-backed ports (QEMU stream and dgram, VXLAN) over real
 * sockets on loopback, against each other and against raw sockets that
 * play a careless or hostile peer.
 *
 * Everything runs on this thread: each test builds its ports on a fresh
 * event loop and runs it once with a script, a list of steps that a 1 ms
 * timer walks through (a step waits until its condition holds, then acts),
 * so the test reads in order while the loop keeps moving. Raw sockets are
 * non-blocking and only touched from steps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "net/dgram.h"
#include "net/port.h"
#include "net/sockaddr.h"
#include "net/stream.h"
#include "net/vxlan.h"

#define MS 1000000ull
#define STEP_TIMEOUT_NS (5000 * MS)

/* ---- the script runner ---- */

struct step {
    const char *what;          /* named in the failure message */
    bool (*ready)(void *ctx);  /* NULL: at once */
    void (*act)(void *ctx);    /* NULL: nothing to do */
};

struct script {
    struct evloop *l;
    const struct step *steps;
    size_t n, cur;
    void *ctx;
    uint64_t deadline;
    bool timed_out;
};

static void script_tick(void *opaque)
{
    struct script *s = opaque;
    while (s->cur < s->n) {
        const struct step *st = &s->steps[s->cur];
        if (st->ready && !st->ready(s->ctx)) {
            if (vclock_ns() > s->deadline) {
                s->timed_out = true;
                evloop_stop(s->l);
                return;
            }
            break;
        }
        if (st->act)
            st->act(s->ctx);
        s->cur++;
        s->deadline = vclock_ns() + STEP_TIMEOUT_NS;
    }
    if (s->cur == s->n) {
        evloop_stop(s->l);
        return;
    }
    evloop_add_timer(s->l, 1 * MS, script_tick, s);
}

/* Runs l until the script is done; the loop cannot be run again after. */
static void run_script(struct evloop *l, const struct step *steps, size_t n, void *ctx)
{
    struct script s = { .l = l, .steps = steps, .n = n, .ctx = ctx, .deadline = vclock_ns() + STEP_TIMEOUT_NS };
    evloop_add_timer(l, 0, script_tick, &s);
    evloop_run(l);
    if (s.timed_out)
        fail_msg("timed out waiting for: %s", steps[s.cur].what);
}
#define RUN(l, steps, ctx) run_script(l, steps, sizeof(steps) / sizeof(steps[0]), ctx)

/* ---- frames with a sequence number and a pattern that shows damage ---- */

static size_t len_for(uint32_t seq) { return 60 + (seq * 97) % 1455; }

static void fill_frame(uint8_t *f, size_t len, uint32_t seq)
{
    static const uint8_t hdr[NET_ETH_HLEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
    memcpy(f, hdr, NET_ETH_HLEN);
    f[14] = (uint8_t)(seq >> 24);
    f[15] = (uint8_t)(seq >> 16);
    f[16] = (uint8_t)(seq >> 8);
    f[17] = (uint8_t)seq;
    for (size_t i = 18; i < len; i++)
        f[i] = (uint8_t)(seq * 7 + i);
}

/* The frame's sequence number, or -1 if it is damaged. */
static int64_t frame_seq(const uint8_t *f, size_t len)
{
    if (len < 18 || f[0] != 0xff || f[12] != 0x88 || f[13] != 0xb5)
        return -1;
    uint32_t seq = (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 | (uint32_t)f[16] << 8 | f[17];
    for (size_t i = 18; i < len; i++)
        if (f[i] != (uint8_t)(seq * 7 + i))
            return -1;
    return seq;
}

static uint8_t txbuf[NET_FRAME_MAX];

/* The frame leaves Vireo through p, as the switch would hand it over. */
static void send_frame(struct net_port *p, uint32_t seq, size_t len)
{
    fill_frame(txbuf, len, seq);
    struct net_pkt pkt = { .data = txbuf, .len = len };
    net_port_deliver(p, &pkt, 0);
}

/* ---- a port that records what comes out of the port under test ---- */

struct sink {
    struct net_port port;
    unsigned frames, bad;        /* bad: damaged or out of order */
    uint32_t next_seq;
    size_t last_len;
};

static void sink_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct sink *k = (struct sink *)p;
    (void)tag_vid;
    int64_t seq = frame_seq(pkt->data, pkt->len);
    if (seq != (int64_t)k->next_seq)
        k->bad++;
    k->next_seq++;
    k->frames++;
    k->last_len = pkt->len;
}

static const struct net_port_ops sink_ops = { .transmit = sink_transmit };

static void sink_init(struct sink *k, struct net_port *to)
{
    memset(k, 0, sizeof(*k));
    net_port_init(&k->port, &sink_ops, "sink", false);
    if (to)
        net_port_wire(to, &k->port);
}

/* ---- sockets ---- */

/* A port nobody uses right now: bind port 0, ask, let go. */
static uint16_t free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(uint16_t port)
{
    return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/* A raw TCP client, connected (loopback connects complete in the kernel,
 * before anyone accepts), then non-blocking. */
static int raw_connect(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = loopback(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

static int raw_udp(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void raw_send(int fd, const void *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The far end hung up on fd (whatever it had sent is read and ignored). */
static bool raw_closed(int fd)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return true;
        if (r < 0)
            return false;
    }
}

/* ---- sockaddr ---- */

static void expect_parse(const char *s, bool passive, int family, const char *printed)
{
    struct net_sockaddr a;
    char err[256] = "", buf[NET_SOCKADDR_STRLEN];
    if (net_sockaddr_parse(&a, s, AF_UNSPEC, passive, err, sizeof(err)) < 0)
        fail_msg("'%s' refused: %s", s, err);
    assert_int_equal(a.sa.sa_family, family);
    assert_string_equal(net_sockaddr_str(&a, buf), printed);
}

static void expect_refused(const char *s, int family, bool passive)
{
    struct net_sockaddr a;
    char err[256] = "";
    assert_int_equal(net_sockaddr_parse(&a, s, family, passive, err, sizeof(err)), -1);
    /* One message that names what the user wrote. */
    if (*s && !strstr(err, s))
        fail_msg("message for '%s' does not name it: %s", s, err);
    assert_true(strlen(err) > 0);
}

static void test_sockaddr(void **state)
{
    (void)state;
    expect_parse("127.0.0.1:80", false, AF_INET, "127.0.0.1:80");
    expect_parse("[::1]:8080", false, AF_INET6, "[::1]:8080");
    expect_parse(":4789", true, AF_INET, "0.0.0.0:4789");
    expect_parse("[::]:65535", true, AF_INET6, "[::]:65535");
    expect_parse("10.1.2.3:1", false, AF_INET, "10.1.2.3:1");

    struct net_sockaddr a, b;
    char err[256];
    /* A name, through the resolver (localhost is in every hosts file). */
    assert_int_equal(net_sockaddr_parse(&a, "localhost:22", AF_INET, false, err, sizeof(err)), 0);
    assert_int_equal(net_sockaddr_port(&a), 22);

    expect_refused("", AF_UNSPEC, true);
    expect_refused("127.0.0.1", AF_UNSPEC, false);
    expect_refused("127.0.0.1:0", AF_UNSPEC, false);
    expect_refused("127.0.0.1:65536", AF_UNSPEC, false);
    expect_refused("127.0.0.1:80x", AF_UNSPEC, false);
    expect_refused("127.0.0.1:", AF_UNSPEC, false);
    expect_refused("::1:80", AF_UNSPEC, false);
    expect_refused("[::1]80", AF_UNSPEC, false);
    expect_refused("[::1:80", AF_UNSPEC, false);
    expect_refused("[zz]:80", AF_UNSPEC, false);
    expect_refused(":80", AF_UNSPEC, false);       /* a peer needs a host */
    expect_refused("[::1]:80", AF_INET, false);    /* wrong family */
    expect_refused("127.0.0.1:80", AF_INET6, false);
    char longname[600];
    memset(longname, 'a', sizeof(longname));
    strcpy(longname + 590, ":80");
    assert_int_equal(net_sockaddr_parse(&a, longname, AF_UNSPEC, false, err, sizeof(err)), -1);

    /* A host and a port apart, as VXLAN's remote= and port=. */
    assert_int_equal(net_sockaddr_resolve(&a, "::1", 4789, AF_UNSPEC, false, err, sizeof(err)), 0);
    assert_int_equal(net_sockaddr_resolve(&b, "[::1]", 4790, AF_UNSPEC, false, err, sizeof(err)), 0);
    assert_true(net_sockaddr_same_host(&a, &b));
    assert_false(net_sockaddr_equal(&a, &b));
    assert_int_equal(net_sockaddr_resolve(&b, NULL, 4789, AF_INET6, true, err, sizeof(err)), 0);
    assert_false(net_sockaddr_same_host(&a, &b));
    assert_int_equal(net_sockaddr_resolve(&b, "", 4789, AF_INET, false, err, sizeof(err)), -1);
    assert_int_equal(net_sockaddr_resolve(&b, "127.0.0.1", 4789, AF_UNSPEC, false, err, sizeof(err)), 0);
    assert_false(net_sockaddr_same_host(&a, &b));
}

/* ---- stream ---- */

struct link_rec {
    unsigned ups, downs;
};

static void on_link(void *opaque, bool up)
{
    struct link_rec *r = opaque;
    if (up)
        r->ups++;
    else
        r->downs++;
}

static struct net_port *stream_new(struct evloop *l, bool listen, const char *hostport)
{
    char err[256];
    struct net_port *p = net_stream_new(l, listen, hostport, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    return p;
}

/* Two of our own ports, one listening and one connecting. */
struct pair {
    struct evloop *l;
    char hostport[32];
    struct net_port *lis, *con;
    struct sink slis, scon;
    struct link_rec rlis, rcon;
};

#define BURST 300

static void pair_listener(struct pair *t)
{
    t->lis = stream_new(t->l, true, t->hostport);
    net_port_wire(t->lis, &t->slis.port);
    net_stream_set_link_cb(t->lis, on_link, &t->rlis);
}

static bool pair_up(void *c)
{
    struct pair *t = c;
    return t->lis && net_stream_is_up(t->lis) && net_stream_is_up(t->con);
}

static void pair_burst(void *c)
{
    struct pair *t = c;
    /* Back to back: many frames per read on the other side. */
    for (uint32_t i = 0; i < BURST; i++) {
        send_frame(t->lis, i, len_for(i));
        send_frame(t->con, i, len_for(i));
    }
}

static bool pair_got_burst(void *c)
{
    struct pair *t = c;
    return t->slis.frames >= BURST && t->scon.frames >= BURST;
}

static void pair_big(void *c)
{
    struct pair *t = c;
    send_frame(t->lis, BURST, NET_FRAME_MAX);
    send_frame(t->con, BURST, NET_FRAME_MAX);
}

static bool pair_got_big(void *c)
{
    struct pair *t = c;
    return t->slis.frames >= BURST + 1 && t->scon.frames >= BURST + 1;
}

static void pair_drop_listener(void *c)
{
    struct pair *t = c;
    assert_int_equal(t->slis.last_len, NET_FRAME_MAX);
    assert_int_equal(t->scon.last_len, NET_FRAME_MAX);
    net_port_free(t->lis);
    t->lis = NULL;
}

static bool pair_con_down(void *c)
{
    struct pair *t = c;
    return !net_stream_is_up(t->con) && t->rcon.downs == 1;
}

static void pair_new_listener(void *c)
{
    struct pair *t = c;
    t->rlis = (struct link_rec){ 0 };
    pair_listener(t);
}

static void pair_one_more(void *c)
{
    struct pair *t = c;
    send_frame(t->lis, BURST + 1, 100);
    send_frame(t->con, BURST + 1, 100);
}

static bool pair_got_one_more(void *c)
{
    struct pair *t = c;
    return t->slis.frames >= BURST + 2 && t->scon.frames >= BURST + 2;
}

static void test_stream_pair(void **state)
{
    (void)state;
    struct pair t = { .l = evloop_new() };
    assert_non_null(t.l);
    snprintf(t.hostport, sizeof(t.hostport), "127.0.0.1:%u", free_port(SOCK_STREAM));
    t.con = stream_new(t.l, false, t.hostport);
    sink_init(&t.scon, t.con);
    net_stream_set_link_cb(t.con, on_link, &t.rcon);
    sink_init(&t.slis, NULL); /* wired to each listener in turn */
    pair_listener(&t);
    assert_false(net_stream_is_up(t.con));

    static const struct step steps[] = {
        { "the two ports to connect", pair_up, pair_burst },
        { "the bursts both ways", pair_got_burst, pair_big },
        { "the 64 KiB frames", pair_got_big, pair_drop_listener },
        { "the connecting side to see the listener go", pair_con_down, pair_new_listener },
        { "the reconnection", pair_up, pair_one_more },
        { "a frame each way after reconnecting", pair_got_one_more, NULL },
    };
    RUN(t.l, steps, &t);

    assert_int_equal(t.slis.bad, 0);
    assert_int_equal(t.scon.bad, 0);
    assert_int_equal(t.slis.frames, BURST + 2);
    assert_int_equal(t.scon.frames, BURST + 2);
    assert_int_equal(t.con->stats.tx_dropped, 0);
    assert_int_equal(t.lis->stats.tx_dropped, 0);
    assert_int_equal(t.con->stats.rx_dropped, 0);
    assert_int_equal(t.rcon.ups, 2);
    assert_int_equal(t.rcon.downs, 1);
    assert_int_equal(t.rlis.ups, 1);
    net_port_free(t.lis);
    net_port_free(t.con);
    evloop_free(t.l);
}

/* While nobody listens, the connecting port tries every second, says so
 * once, and drops what it is given; then it connects by itself. */
struct outage {
    struct evloop *l;
    char hostport[32];
    struct net_port *lis, *con;
    struct sink sink;
    uint64_t t0;
};

static void outage_send_early(void *c)
{
    struct outage *t = c;
    t->t0 = vclock_ns();
    send_frame(t->con, 0, 100);
}

static bool several_retries(void *c) { return vclock_ns() - ((struct outage *)c)->t0 > 2300 * MS; }

static void outage_listen(void *c)
{
    struct outage *t = c;
    t->lis = stream_new(t->l, true, t->hostport);
    sink_init(&t->sink, t->lis);
}

static bool outage_up(void *c)
{
    struct outage *t = c;
    return net_stream_is_up(t->con) && net_stream_is_up(t->lis);
}

static void outage_send(void *c) { send_frame(((struct outage *)c)->con, 0, 100); }
static bool outage_heard(void *c) { return ((struct outage *)c)->sink.frames >= 1; }

static void test_stream_outage(void **state)
{
    (void)state;
    struct outage t = { .l = evloop_new() };
    assert_non_null(t.l);
    snprintf(t.hostport, sizeof(t.hostport), "127.0.0.1:%u", free_port(SOCK_STREAM));
    t.con = stream_new(t.l, false, t.hostport);

    /* What the port logs goes to a file for the length of the test. */
    fflush(stderr);
    FILE *log = tmpfile();
    assert_non_null(log);
    int saved = dup(2);
    dup2(fileno(log), 2);
    static const struct step steps[] = {
        { "the first attempt", NULL, outage_send_early },
        { "a few retries", several_retries, outage_listen },
        { "the connection once there is a listener", outage_up, outage_send },
        { "a frame after the outage", outage_heard, NULL },
    };
    RUN(t.l, steps, &t);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    rewind(log);
    char line[512];
    int lines = 0, cannot = 0;
    while (fgets(line, sizeof(line), log)) {
        fputs(line, stderr);
        lines++;
        cannot += strstr(line, "cannot connect") != NULL;
    }
    fclose(log);
    assert_int_equal(cannot, 1);
    assert_int_equal(lines, 1);
    assert_int_equal(t.con->stats.tx_dropped, 1);
    assert_int_equal(t.sink.frames, 1);
    assert_int_equal(t.sink.bad, 0);
    net_port_free(t.lis);
    net_port_free(t.con);
    evloop_free(t.l);
}

/* A raw client's view of what our port sends: whole frames only. */
struct rawrx {
    uint8_t buf[NET_FRAME_MAX + 4];
    size_t have;
    unsigned frames, bad;
    int64_t last_seq;
    size_t last_len;
};

static void rawrx_poll(struct rawrx *r, int fd)
{
    for (;;) {
        ssize_t n = recv(fd, r->buf + r->have, sizeof(r->buf) - r->have, MSG_DONTWAIT);
        if (n <= 0)
            return;
        r->have += (size_t)n;
        size_t off = 0;
        while (r->have - off >= 4) {
            const uint8_t *h = r->buf + off;
            uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            if (len < NET_FRAME_MIN || len > NET_FRAME_MAX) {
                r->bad++;
                r->have = 0;
                return;
            }
            if (r->have - off - 4 < len)
                break;
            int64_t seq = frame_seq(h + 4, len);
            if (seq <= r->last_seq)
                r->bad++;
            r->last_seq = seq;
            r->last_len = len;
            r->frames++;
            off += 4 + len;
        }
        memmove(r->buf, r->buf + off, r->have - off);
        r->have -= off;
    }
}

/* One listening port and raw clients. */
struct lone {
    struct evloop *l;
    uint16_t port;
    struct net_port *lis;
    struct sink sink;
    int a, b;
    uint8_t wire[512];
    size_t wire_len, wire_sent;
    struct rawrx rx;
    size_t max_queued;
};

static void lone_setup(struct lone *t)
{
    memset(t, 0, sizeof(*t));
    t->l = evloop_new();
    assert_non_null(t->l);
    t->port = free_port(SOCK_STREAM);
    char hp[32];
    snprintf(hp, sizeof(hp), "127.0.0.1:%u", t->port);
    t->lis = stream_new(t->l, true, hp);
    sink_init(&t->sink, t->lis);
    t->a = t->b = -1;
    t->rx.last_seq = -1;
}

static void lone_teardown(struct lone *t)
{
    if (t->a >= 0)
        close(t->a);
    if (t->b >= 0)
        close(t->b);
    net_port_free(t->lis);
    evloop_free(t->l);
}

static bool lone_up(void *c) { return net_stream_is_up(((struct lone *)c)->lis); }

static void second_client(void *c)
{
    struct lone *t = c;
    t->b = raw_connect(t->port, 0);
}

static bool b_closed(void *c) { return raw_closed(((struct lone *)c)->b); }
static bool a_closed(void *c) { return raw_closed(((struct lone *)c)->a); }

static bool a_closed_and_down(void *c)
{
    struct lone *t = c;
    return raw_closed(t->a) && !net_stream_is_up(t->lis);
}

/* A frame on the wire in the stream format. */
static size_t wire_frame(uint8_t *buf, uint32_t seq, size_t len)
{
    put_be32(buf, (uint32_t)len);
    fill_frame(buf + 4, len, seq);
    return len + 4;
}

static void good_then_short(void *c)
{
    struct lone *t = c;
    uint8_t buf[4 + 100 + 4];
    size_t n = wire_frame(buf, 0, 100);
    put_be32(buf + n, 5);
    raw_send(t->a, buf, n + 4);
}

static void new_client_sends_len(struct lone *t, uint32_t len)
{
    close(t->a);
    t->a = raw_connect(t->port, 0);
    uint8_t buf[4];
    put_be32(buf, len);
    raw_send(t->a, buf, 4);
}

static void huge_length(void *c)
{
    struct lone *t = c;
    assert_int_equal(t->sink.frames, 1);
    close(t->b);
    t->b = -1;
    new_client_sends_len(t, 0x7fffffff);
}

static void zero_length(void *c) { new_client_sends_len(c, 0); }

static void good_client(void *c)
{
    struct lone *t = c;
    close(t->a);
    t->a = raw_connect(t->port, 0);
    uint8_t buf[4 + 200];
    raw_send(t->a, buf, wire_frame(buf, 1, 200));
}

static bool two_frames(void *c) { return ((struct lone *)c)->sink.frames >= 2; }

static void test_stream_bad_peer(void **state)
{
    (void)state;
    struct lone t;
    lone_setup(&t);
    t.a = raw_connect(t.port, 0);
    static const struct step steps[] = {
        { "the first client to be accepted", lone_up, second_client },
        { "the second client to be refused", b_closed, good_then_short },
        { "the client with a short length to be dropped", a_closed_and_down, huge_length },
        { "the client with a huge length to be dropped", a_closed, zero_length },
        { "the client with a zero length to be dropped", a_closed, good_client },
        { "a frame from a well-behaved client after all that", two_frames, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.sink.frames, 2);
    assert_int_equal(t.sink.bad, 0);
    assert_int_equal(t.lis->stats.rx_dropped, 3);
    assert_true(net_stream_is_up(t.lis));
    lone_teardown(&t);
}

static void build_trickle(void *c)
{
    struct lone *t = c;
    static const size_t lens[] = { 18, 60, 200 };
    t->wire_len = 0;
    for (uint32_t i = 0; i < 3; i++)
        t->wire_len += wire_frame(t->wire + t->wire_len, i, lens[i]);
    assert_true(t->wire_len <= sizeof(t->wire));
}

/* One byte per tick, each its own segment (TCP_NODELAY). */
static bool trickle(void *c)
{
    struct lone *t = c;
    if (t->wire_sent < t->wire_len)
        raw_send(t->a, t->wire + t->wire_sent++, 1);
    return t->wire_sent == t->wire_len;
}

static bool three_frames(void *c) { return ((struct lone *)c)->sink.frames >= 3; }

static void answer(void *c)
{
    struct lone *t = c;
    t->rx.last_seq = 6;
    send_frame(t->lis, 7, 100);
}

static bool answer_read(void *c)
{
    struct lone *t = c;
    rawrx_poll(&t->rx, t->a);
    return t->rx.frames >= 1;
}

static void test_stream_trickle(void **state)
{
    (void)state;
    struct lone t;
    lone_setup(&t);
    t.a = raw_connect(t.port, 0);
    static const struct step steps[] = {
        { "the client to be accepted", lone_up, build_trickle },
        { "the client to send its frames byte by byte", trickle, NULL },
        { "the three frames", three_frames, answer },
        { "the client to read our frame", answer_read, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.sink.frames, 3);
    assert_int_equal(t.sink.bad, 0);
    assert_int_equal(t.sink.last_len, 200);
    /* What the raw client read was 00 00 00 64 and then the frame. */
    assert_int_equal(t.rx.frames, 1);
    assert_int_equal(t.rx.bad, 0);
    assert_int_equal(t.rx.last_seq, 7);
    assert_int_equal(t.rx.last_len, 100);
    assert_int_equal(t.rx.have, 0);
    lone_teardown(&t);
}

#define FLOOD 400

static void flood(void *c)
{
    struct lone *t = c;
    uint64_t t0 = vclock_ns();
    for (uint32_t i = 0; i < FLOOD; i++) {
        send_frame(t->lis, i, NET_FRAME_MAX);
        size_t q = net_stream_tx_queued(t->lis);
        if (q > t->max_queued)
            t->max_queued = q;
    }
    /* 26 MiB offered to a peer that reads nothing: the loop was never
     * held up, and what did not fit was dropped. */
    uint64_t took = vclock_ns() - t0;
    if (took > 3000 * MS)
        fail_msg("sending to a stalled peer took %llu ms", (unsigned long long)(took / MS));
    assert_true(t->max_queued <= NET_STREAM_TXQ_MAX);
    assert_true(t->max_queued > 0);
    assert_true(t->lis->stats.tx_dropped > 0);
    assert_true(t->lis->stats.tx_dropped < FLOOD);
}

/* Now the client reads: every frame that was not dropped arrives whole. */
static bool drained(void *c)
{
    struct lone *t = c;
    rawrx_poll(&t->rx, t->a);
    const struct net_port_stats *s = &t->lis->stats;
    return t->rx.frames == s->tx_frames - s->tx_dropped && net_stream_tx_queued(t->lis) == 0;
}

static void test_stream_stalled_peer(void **state)
{
    (void)state;
    struct lone t;
    lone_setup(&t);
    t.a = raw_connect(t.port, 4096);
    static const struct step steps[] = {
        { "the client to be accepted", lone_up, flood },
        { "the client to read everything that was queued", drained, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.rx.bad, 0);
    assert_int_equal(t.rx.have, 0);
    assert_int_equal(t.lis->stats.tx_frames, FLOOD);
    lone_teardown(&t);
}

/* ---- dgram ---- */

struct dg {
    struct evloop *l;
    struct net_port *a, *b;
    struct sink sa, sb;
    uint16_t pa;
    int stranger;
};

static void dg_send(void *c)
{
    struct dg *t = c;
    for (uint32_t i = 0; i < 50; i++) {
        send_frame(t->a, i, len_for(i));
        send_frame(t->b, i, len_for(i));
    }
    /* A well-formed frame, from the wrong address. */
    uint8_t f[100];
    fill_frame(f, sizeof(f), 50);
    struct sockaddr_in to = loopback(t->pa);
    assert_int_equal(sendto(t->stranger, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)), sizeof(f));
}

static bool dg_done(void *c)
{
    struct dg *t = c;
    return t->sa.frames >= 50 && t->sb.frames >= 50 && t->a->stats.rx_dropped >= 1;
}

static struct net_port *dgram_new(struct evloop *l, const char *local, const char *remote)
{
    char err[256];
    struct net_port *p = net_dgram_new(l, local, remote, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    return p;
}

static void test_dgram(void **state)
{
    (void)state;
    struct dg t = { .l = evloop_new() };
    assert_non_null(t.l);
    uint16_t pb, ps;
    t.stranger = raw_udp(&ps);
    t.pa = free_port(SOCK_DGRAM);
    pb = free_port(SOCK_DGRAM);
    char la[32], lb[32], ra[32], rb[32], err[256];
    snprintf(la, sizeof(la), "127.0.0.1:%u", t.pa);
    snprintf(ra, sizeof(ra), "127.0.0.1:%u", pb);
    snprintf(lb, sizeof(lb), ":%u", pb);           /* any address */
    snprintf(rb, sizeof(rb), "127.0.0.1:%u", t.pa);
    t.a = dgram_new(t.l, la, ra);
    t.b = dgram_new(t.l, lb, rb);
    sink_init(&t.sa, t.a);
    sink_init(&t.sb, t.b);

    /* Mistakes are refused with a message, before any socket is used. */
    assert_null(net_dgram_new(t.l, la, ra, err, sizeof(err)));     /* taken */
    assert_non_null(strstr(err, la));
    assert_null(net_dgram_new(t.l, "[::1]:9", ra, err, sizeof(err)));
    assert_non_null(strstr(err, "[::1]:9"));
    assert_null(net_dgram_new(t.l, la, "127.0.0.1", err, sizeof(err)));

    static const struct step steps[] = {
        { "sending", NULL, dg_send },
        { "the frames both ways and the stranger's datagram", dg_done, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.sa.frames, 50);
    assert_int_equal(t.sb.frames, 50);
    assert_int_equal(t.sa.bad, 0);
    assert_int_equal(t.sb.bad, 0);
    assert_int_equal(t.a->stats.rx_dropped, 1);
    assert_int_equal(t.b->stats.rx_dropped, 0);
    assert_int_equal(t.a->stats.tx_dropped, 0);
    net_port_free(t.a);
    net_port_free(t.b);
    close(t.stranger);
    evloop_free(t.l);
}

/* ---- vxlan ---- */

struct vx {
    struct evloop *l;
    struct net_port *a, *b, *c, *d;
    struct sink sa, sb, sd;
    uint16_t pd;
    int raw, raw2;            /* raw is the far end of d */
    uint8_t got[256];
    ssize_t got_len;
    uint16_t got_from;
};

#define VNI_D 0x123456u

static struct net_port *vxlan_new(struct evloop *l, uint32_t vni, uint16_t port, const char *local,
                                  uint16_t local_port)
{
    char err[256];
    struct net_vxlan_config cfg = {
        .vni = vni, .remote = "127.0.0.1", .port = port, .local = local, .local_port = local_port,
    };
    struct net_port *p = net_vxlan_new(l, &cfg, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    return p;
}

static void vx_send(void *c)
{
    struct vx *t = c;
    for (uint32_t i = 0; i < 20; i++) {
        send_frame(t->a, i, len_for(i));
        send_frame(t->b, i, len_for(i));
    }
    send_frame(t->c, 0, 60);   /* right host, wrong VNI: a drops it */
    send_frame(t->d, 5, 60);   /* to the raw socket */
}

static bool vx_delivered(void *c)
{
    struct vx *t = c;
    if (t->got_len <= 0) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        t->got_len = recvfrom(t->raw, t->got, sizeof(t->got), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        t->got_from = ntohs(from.sin_port);
    }
    return t->sa.frames >= 20 && t->sb.frames >= 20 && t->a->stats.rx_dropped >= 1 && t->got_len > 0;
}

static void raw_vxlan(struct vx *t, int fd, const uint8_t hdr[8], size_t hdr_len, uint32_t seq, size_t len)
{
    uint8_t buf[8 + 100];
    memcpy(buf, hdr, hdr_len);
    if (len)
        fill_frame(buf + hdr_len, len, seq);
    struct sockaddr_in to = loopback(t->pd);
    assert_int_equal(sendto(fd, buf, hdr_len + len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)(hdr_len + len));
}

static void vx_check_and_answer(void *c)
{
    struct vx *t = c;
    /* Exactly the RFC 7348 header, then the frame as it was. */
    static const uint8_t want[8] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
    assert_int_equal(t->got_len, 8 + 60);
    assert_memory_equal(t->got, want, 8);
    assert_int_equal(frame_seq(t->got + 8, 60), 5);
    assert_int_equal(t->got_from, t->pd);

    static const uint8_t good[8] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
    static const uint8_t no_i[8] = { 0x00, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
    static const uint8_t other_vni[8] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x57, 0 };
    static const uint8_t reserved_set[8] = { 0x88, 0xff, 0xff, 0xff, 0x12, 0x34, 0x56, 0xff };
    /* From another source port than d's remote port, as Linux does. */
    raw_vxlan(t, t->raw2, good, 8, 0, 60);
    raw_vxlan(t, t->raw, no_i, 8, 9, 60);
    raw_vxlan(t, t->raw, other_vni, 8, 9, 60);
    raw_vxlan(t, t->raw, good, 8, 9, 10);   /* inner frame shorter than a header */
    raw_vxlan(t, t->raw, good, 5, 9, 0);    /* not even a header */
    /* Reserved bits are ignored on receipt (RFC 7348, 5). */
    raw_vxlan(t, t->raw, reserved_set, 8, 1, 100);
}

static bool vx_raw_done(void *c)
{
    struct vx *t = c;
    return t->sd.frames >= 2 && t->d->stats.rx_dropped >= 4;
}

static void test_vxlan(void **state)
{
    (void)state;
    struct vx t = { .l = evloop_new() };
    assert_non_null(t.l);
    uint16_t pa = free_port(SOCK_DGRAM), pb = free_port(SOCK_DGRAM), pc = free_port(SOCK_DGRAM), pr, pr2;
    t.pd = free_port(SOCK_DGRAM);
    t.raw = raw_udp(&pr);
    t.raw2 = raw_udp(&pr2);
    t.a = vxlan_new(t.l, 42, pb, "127.0.0.1", pa);
    t.b = vxlan_new(t.l, 42, pa, NULL, pb);
    t.c = vxlan_new(t.l, 43, pa, "", pc);
    t.d = vxlan_new(t.l, VNI_D, pr, "127.0.0.1", t.pd);
    sink_init(&t.sa, t.a);
    sink_init(&t.sb, t.b);
    sink_init(&t.sd, t.d);

    char err[256];
    struct net_vxlan_config bad = { .vni = 1u << 24, .remote = "127.0.0.1" };
    assert_null(net_vxlan_new(t.l, &bad, err, sizeof(err)));
    assert_non_null(strstr(err, "VNI"));
    bad = (struct net_vxlan_config){ .vni = 1, .remote = "127.0.0.1", .local = "::1", .port = pa };
    assert_null(net_vxlan_new(t.l, &bad, err, sizeof(err)));
    assert_non_null(strstr(err, "::1"));

    static const struct step steps[] = {
        { "sending", NULL, vx_send },
        { "the frames both ways, the wrong VNI and the raw socket's packet", vx_delivered, vx_check_and_answer },
        { "the raw socket's packets", vx_raw_done, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.sa.frames, 20);
    assert_int_equal(t.sb.frames, 20);
    assert_int_equal(t.sa.bad, 0);
    assert_int_equal(t.sb.bad, 0);
    assert_int_equal(t.a->stats.rx_dropped, 1);
    assert_int_equal(t.sd.frames, 2);
    assert_int_equal(t.sd.bad, 0);
    assert_int_equal(t.d->stats.rx_dropped, 4);
    net_port_free(t.a);
    net_port_free(t.b);
    net_port_free(t.c);
    net_port_free(t.d);
    close(t.raw);
    close(t.raw2);
    evloop_free(t.l);
}

/* ---- IPv6 ---- */

/* A free port on ::1, or 0 if this host has no IPv6 loopback. */
static uint16_t free_port6(int type)
{
    int fd = socket(AF_INET6, type, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin6_port);
    close(fd);
    return port;
}

struct v6 {
    struct evloop *l;
    struct net_port *lis, *con, *va, *vb;
    struct sink slis, scon, sva, svb;
    uint16_t pa;
    int raw4;
    bool dual_stack;
};

static bool v6_up(void *c)
{
    struct v6 *t = c;
    return net_stream_is_up(t->lis) && net_stream_is_up(t->con);
}

static void v6_send(void *c)
{
    struct v6 *t = c;
    send_frame(t->lis, 0, 100);
    send_frame(t->con, 0, 1514);
    send_frame(t->va, 0, 200);
    send_frame(t->vb, 0, 1514);
    if (t->dual_stack) {
        /* va is bound to [::]: this arrives from ::ffff:127.0.0.1, a host
         * that is not its far end (::1). */
        uint8_t pkt[8 + 60] = { 0x08, 0, 0, 0, 0, 0, 7, 0 };
        fill_frame(pkt + 8, 60, 1);
        struct sockaddr_in to = loopback(t->pa);
        assert_int_equal(sendto(t->raw4, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)), sizeof(pkt));
    }
}

static bool v6_done(void *c)
{
    struct v6 *t = c;
    return t->slis.frames && t->scon.frames && t->sva.frames && t->svb.frames &&
           (!t->dual_stack || t->va->stats.rx_dropped);
}

static void test_ipv6(void **state)
{
    (void)state;
    uint16_t ps = free_port6(SOCK_STREAM), pa = free_port6(SOCK_DGRAM), pb = free_port6(SOCK_DGRAM);
    if (!ps || !pa || !pb)
        skip();
    struct v6 t = { .l = evloop_new(), .pa = pa, .raw4 = -1 };
    assert_non_null(t.l);
    char hp[32];
    snprintf(hp, sizeof(hp), "[::1]:%u", ps);
    t.lis = stream_new(t.l, true, hp);
    t.con = stream_new(t.l, false, hp);
    char err[256];
    struct net_vxlan_config ca = { .vni = 7, .remote = "::1", .port = pb, .local_port = pa };
    struct net_vxlan_config cb = { .vni = 7, .remote = "[::1]", .port = pa, .local = "::1", .local_port = pb };
    t.va = net_vxlan_new(t.l, &ca, err, sizeof(err));
    if (!t.va)
        fail_msg("%s", err);
    t.vb = net_vxlan_new(t.l, &cb, err, sizeof(err));
    if (!t.vb)
        fail_msg("%s", err);
    sink_init(&t.slis, t.lis);
    sink_init(&t.scon, t.con);
    sink_init(&t.sva, t.va);
    sink_init(&t.svb, t.vb);
    FILE *f = fopen("/proc/sys/net/ipv6/bindv6only", "r");
    if (f) {
        t.dual_stack = fgetc(f) == '0';
        fclose(f);
    }
    if (t.dual_stack) {
        uint16_t p4;
        t.raw4 = raw_udp(&p4);
    }

    static const struct step steps[] = {
        { "the stream ports to connect over ::1", v6_up, v6_send },
        { "a frame each way on stream and vxlan", v6_done, NULL },
    };
    RUN(t.l, steps, &t);
    assert_int_equal(t.slis.frames, 1);
    assert_int_equal(t.scon.frames, 1);
    assert_int_equal(t.sva.frames, 1);
    assert_int_equal(t.svb.frames, 1);
    assert_int_equal(t.slis.last_len, 1514);
    assert_int_equal(t.svb.last_len, 200);
    assert_int_equal(t.slis.bad + t.scon.bad + t.sva.bad + t.svb.bad, 0);
    net_port_free(t.lis);
    net_port_free(t.con);
    net_port_free(t.va);
    net_port_free(t.vb);
    if (t.raw4 >= 0)
        close(t.raw4);
    evloop_free(t.l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_stream_pair),
        cmocka_unit_test(test_stream_outage),
        cmocka_unit_test(test_stream_bad_peer),
        cmocka_unit_test(test_stream_trickle),
        cmocka_unit_test(test_stream_stalled_peer),
        cmocka_unit_test(test_dgram),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

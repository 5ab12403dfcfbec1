#include "net/stream.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/acceptor.h"
#include "base/evloop.h"
#include "base/log.h"
#include "net/port.h"
#include "net/sockaddr.h"

#define HDR_LEN 4
/* Bytes read per system call beyond the frame being filled: many small
 * frames per call when the peer is busy. */
#define STAGE_LEN (64 * 1024)
/* Reads per readiness event, so one busy peer cannot starve the loop. */
#define READS_PER_EVENT 8

struct net_stream {
    struct net_port port;
    struct evloop *loop;
    bool listen;
    struct net_sockaddr addr;           /* listen: bound; connect: the peer */
    char addr_str[NET_SOCKADDR_STRLEN];
    int lfd;                            /* listening socket, -1 in connect mode */
    int fd;                             /* the connection, -1 when there is none */
    char peer_str[NET_SOCKADDR_STRLEN];
    uint32_t fd_events;
    bool connecting;                    /* connect() in progress on fd */
    bool up;
    bool outage;                        /* connect mode: this outage was logged */
    bool refused_logged;                /* listen mode: told once per peer */
    struct acceptor acc;                /* listen mode */
    uint64_t timer;                     /* connect mode: reconnect */
    uint64_t gen;                       /* bumped when a connection ends */
    void (*link_cb)(void *opaque, bool up);
    void *link_opaque;

    /* Receiving: a 4-byte length, then that many bytes of frame. */
    uint8_t hdr[HDR_LEN];
    unsigned hdr_got;
    uint32_t frame_len;                 /* 0 while reading the header */
    size_t frame_got;
    uint8_t frame[NET_FRAME_MAX];
    uint8_t stage[STAGE_LEN];

    /* Sending: a ring of whole frames (the first may be partly written). */
    uint8_t *txq;
    size_t tx_head, tx_len;
};

static const struct net_port_ops stream_ops;

static struct net_stream *to_stream(struct net_port *p)
{
    assert(p->ops == &stream_ops);
    return (struct net_stream *)p;
}

static const struct net_stream *to_cstream(const struct net_port *p)
{
    assert(p->ops == &stream_ops);
    return (const struct net_stream *)p;
}

static void try_connect(void *opaque);

static void set_up(struct net_stream *s, bool up)
{
    if (s->up == up)
        return;
    s->up = up;
    if (s->link_cb)
        s->link_cb(s->link_opaque, up);
}

static void set_events(struct net_stream *s, uint32_t events)
{
    if (s->fd_events != events && evloop_mod_fd(s->loop, s->fd, events) == 0)
        s->fd_events = events;
}

/* End the current connection (the caller has said why, once). A listener
 * goes back to waiting for a peer; a connecting port tries again in a
 * second. */
static void drop_conn(struct net_stream *s)
{
    if (s->fd >= 0) {
        evloop_del_fd(s->loop, s->fd);
        close(s->fd);
        s->fd = -1;
    }
    s->connecting = false;
    s->fd_events = 0;
    s->hdr_got = 0;
    s->frame_len = 0;
    s->frame_got = 0;
    /* Queued frames were for this peer; a new one starts clean, and a
     * partly written frame must not continue on another connection. */
    s->tx_head = s->tx_len = 0;
    s->refused_logged = false;
    s->gen++;
    if (!s->listen && !s->timer)
        s->timer = evloop_add_timer(s->loop, NET_STREAM_RETRY_NS, try_connect, s);
    set_up(s, false);
}

/* ---- sending ---- */

static void txq_push(struct net_stream *s, const struct iovec *iov, int n, size_t skip)
{
    for (int i = 0; i < n; i++) {
        const uint8_t *base = iov[i].iov_base;
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        base += skip;
        len -= skip;
        skip = 0;
        while (len) {
            size_t tail = (s->tx_head + s->tx_len) % NET_STREAM_TXQ_MAX;
            size_t chunk = NET_STREAM_TXQ_MAX - tail < len ? NET_STREAM_TXQ_MAX - tail : len;
            memcpy(s->txq + tail, base, chunk);
            s->tx_len += chunk;
            base += chunk;
            len -= chunk;
        }
    }
    set_events(s, EPOLLIN | EPOLLOUT);
}

/* Write out what is queued. Returns -1 if the connection was dropped. */
static int txq_flush(struct net_stream *s)
{
    while (s->tx_len) {
        struct iovec iov[2];
        size_t first = NET_STREAM_TXQ_MAX - s->tx_head;
        if (first > s->tx_len)
            first = s->tx_len;
        iov[0] = (struct iovec){ s->txq + s->tx_head, first };
        iov[1] = (struct iovec){ s->txq, s->tx_len - first };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1 };
        ssize_t w = sendmsg(s->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            vwarn("%s: connection with %s lost: %s", s->port.name, s->peer_str, strerror(errno));
            s->outage = true;
            drop_conn(s);
            return -1;
        }
        s->tx_head = (s->tx_head + (size_t)w) % NET_STREAM_TXQ_MAX;
        s->tx_len -= (size_t)w;
    }
    s->tx_head = 0;
    set_events(s, EPOLLIN);
    return 0;
}

static void stream_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct net_stream *s = to_stream(p);
    if (s->fd < 0 || s->connecting) {
        p->stats.tx_dropped++;
        return;
    }
    uint8_t hdr[HDR_LEN], tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    int n = 1 + net_pkt_wire_iov(pkt, tag_vid, tag, iov + 1);
    size_t len = 0;
    for (int i = 1; i < n; i++)
        len += iov[i].iov_len;
    /* The far side would take a longer frame as a protocol error and hang
     * up: better to lose the frame than the link. */
    if (len < NET_FRAME_MIN || len > NET_FRAME_MAX) {
        p->stats.tx_dropped++;
        return;
    }
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
    iov[0] = (struct iovec){ hdr, HDR_LEN };
    size_t total = len + HDR_LEN, done = 0;

    if (s->tx_len == 0) {
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w;
        do
            w = sendmsg(s->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            /* The connection is broken; the read side sees it too and
             * drops it there, outside whatever called us. */
            p->stats.tx_dropped++;
            return;
        }
        if (w > 0)
            done = (size_t)w;
        if (done == total)
            return;
    } else if (NET_STREAM_TXQ_MAX - s->tx_len < total) {
        p->stats.tx_dropped++;
        return;
    }
    /* An empty queue always has room for one frame, so a frame that was
     * partly written is always finished. */
    txq_push(s, iov, n, done);
}

/* ---- receiving ---- */

static bool bad_length(struct net_stream *s, uint32_t len)
{
    if (len >= NET_FRAME_MIN && len <= NET_FRAME_MAX)
        return false;
    vwarn("%s: %s sent a frame length of %u (expected %d to %d); closing the connection", s->port.name,
          s->peer_str, len, NET_FRAME_MIN, NET_FRAME_MAX);
    s->port.stats.rx_dropped++;
    s->outage = true;
    drop_conn(s);
    return true;
}

/* A whole frame is in s->frame. Returns false if the connection ended
 * meanwhile. */
static bool deliver(struct net_stream *s)
{
    uint64_t gen = s->gen;
    struct net_pkt pkt = { .data = s->frame, .len = s->frame_len };
    s->frame_len = 0;
    s->frame_got = 0;
    s->hdr_got = 0;
    net_port_input(&s->port, &pkt);
    return gen == s->gen;
}

/* Take n bytes of the stream from buf. Returns false if the connection
 * was dropped. */
static bool consume(struct net_stream *s, const uint8_t *buf, size_t n)
{
    while (n) {
        if (!s->frame_len) {
            size_t k = HDR_LEN - s->hdr_got < n ? HDR_LEN - s->hdr_got : n;
            memcpy(s->hdr + s->hdr_got, buf, k);
            s->hdr_got += (unsigned)k;
            buf += k;
            n -= k;
            if (s->hdr_got < HDR_LEN)
                return true;
            uint32_t len = (uint32_t)s->hdr[0] << 24 | (uint32_t)s->hdr[1] << 16 | (uint32_t)s->hdr[2] << 8 | s->hdr[3];
            if (bad_length(s, len))
                return false;
            s->frame_len = len;
            s->frame_got = 0;
            continue;
        }
        size_t k = s->frame_len - s->frame_got < n ? s->frame_len - s->frame_got : n;
        memcpy(s->frame + s->frame_got, buf, k);
        s->frame_got += k;
        buf += k;
        n -= k;
        if (s->frame_got == s->frame_len && !deliver(s))
            return false;
    }
    return true;
}

static void read_input(struct net_stream *s)
{
    for (int round = 0; round < READS_PER_EVENT; round++) {
        /* The rest of the frame being received goes straight into place;
         * whatever follows it lands in the staging buffer. */
        struct iovec iov[2];
        int n = 0;
        size_t want = 0;
        if (s->frame_len) {
            iov[n++] = (struct iovec){ s->frame + s->frame_got, s->frame_len - s->frame_got };
            want = s->frame_len - s->frame_got;
        }
        iov[n++] = (struct iovec){ s->stage, sizeof(s->stage) };
        ssize_t r = readv(s->fd, iov, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            vwarn("%s: connection with %s lost: %s", s->port.name, s->peer_str, strerror(errno));
            s->outage = true;
            drop_conn(s);
            return;
        }
        if (r == 0) {
            if (s->listen)
                vinfo("%s: %s disconnected", s->port.name, s->peer_str);
            else
                vwarn("%s: %s closed the connection; reconnecting", s->port.name, s->peer_str);
            s->outage = true;
            drop_conn(s);
            return;
        }
        size_t got = (size_t)r, direct = got < want ? got : want;
        s->frame_got += direct;
        if (want && s->frame_got == s->frame_len && !deliver(s))
            return;
        if (!consume(s, s->stage, got - direct))
            return;
        /* A short read means the socket is drained for now. */
        if (got < want + sizeof(s->stage))
            return;
    }
}

static void on_conn(void *opaque, int fd, uint32_t events);

/* fd is now a working connection with peer. */
static void established(struct net_stream *s, int fd, const struct net_sockaddr *peer)
{
    int one = 1;
    /* Frames are written whole in one call: no reason to let Nagle hold
     * back a small one behind an unacknowledged one. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A peer that vanished (host gone, link cut) is noticed within about
     * 30 s of silence: in listen mode its connection would otherwise hold
     * the one slot against the real peer's return. (No TCP_USER_TIMEOUT:
     * older kernels would also cut a live peer that is merely paused with
     * a full receive window. On a UNIX socket these fail, harmlessly.) */
    int idle = 15, intvl = 5, cnt = 3;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    net_sockaddr_str(peer, s->peer_str);
    s->connecting = false;
    if (s->fd == fd) {
        set_events(s, EPOLLIN);
    } else {
        int e = evloop_add_fd(s->loop, fd, EPOLLIN, on_conn, s);
        if (e < 0) {
            verror("%s: cannot watch the connection with %s: %s", s->port.name, s->peer_str, strerror(-e));
            close(fd);
            return;
        }
        s->fd = fd;
        s->fd_events = EPOLLIN;
    }
    if (s->listen)
        vinfo("%s: %s connected", s->port.name, s->peer_str);
    else
        vinfo("%s: connected to %s", s->port.name, s->peer_str);
    s->outage = false;
    set_up(s, true);
}

/* ---- connect mode ---- */

static void connect_failed(struct net_stream *s, int e)
{
    if (!s->outage)
        vwarn("%s: cannot connect to %s: %s; retrying every second", s->port.name, s->addr_str, strerror(e));
    s->outage = true;
    drop_conn(s);
}

/* Connecting to a port on this host that nobody listens on can end up
 * connected to itself (TCP simultaneous open, when the kernel happens to
 * pick the same port as the local end): that is no peer. */
static bool self_connected(int fd)
{
    struct net_sockaddr a = { .len = sizeof(a.ss) }, b = { .len = sizeof(b.ss) };
    return getsockname(fd, &a.sa, &a.len) == 0 && getpeername(fd, &b.sa, &b.len) == 0 && net_sockaddr_equal(&a, &b);
}

static void connect_done(struct net_stream *s)
{
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (!soerr && self_connected(s->fd))
        soerr = ECONNREFUSED;
    if (soerr) {
        connect_failed(s, soerr);
        return;
    }
    established(s, s->fd, &s->addr);
}

static void try_connect(void *opaque)
{
    struct net_stream *s = opaque;
    s->timer = 0;
    int fd = socket(s->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(s, errno);
        return;
    }
    int e = evloop_add_fd(s->loop, fd, EPOLLOUT, on_conn, s);
    if (e < 0) {
        close(fd);
        connect_failed(s, -e);
        return;
    }
    s->fd = fd;
    s->fd_events = EPOLLOUT;
    s->connecting = true;
    if (connect(fd, &s->addr.sa, s->addr.len) == 0)
        connect_done(s);
    else if (errno != EINPROGRESS)
        connect_failed(s, errno);
    /* else: on_conn hears when it is done */
}

static void on_conn(void *opaque, int fd, uint32_t events)
{
    struct net_stream *s = opaque;
    (void)fd;
    if (s->connecting) {
        connect_done(s);
        return;
    }
    if ((events & EPOLLOUT) && txq_flush(s) < 0)
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_input(s);
}

/* ---- listen mode ---- */

static void on_listen(void *opaque, int lfd, uint32_t events)
{
    struct net_stream *s = opaque;
    (void)lfd, (void)events;
    for (int i = 0; i < 8; i++) {
        struct net_sockaddr peer = { .len = sizeof(peer.ss) };
        int fd = acceptor_next(&s->acc, &peer.sa, &peer.len);
        if (fd < 0)
            return;
        if (s->fd >= 0) {
            char ps[NET_SOCKADDR_STRLEN];
            if (!s->refused_logged)
                vwarn("%s: refusing %s: %s is already connected", s->port.name, net_sockaddr_str(&peer, ps),
                      s->peer_str);
            s->refused_logged = true;
            close(fd);
            continue;
        }
        established(s, fd, &peer);
    }
}

/* ---- the port ---- */

static void stream_free(struct net_port *p)
{
    struct net_stream *s = to_stream(p);
    if (s->timer)
        evloop_cancel_timer(s->loop, s->timer);
    acceptor_cancel(&s->acc);
    if (s->fd >= 0) {
        evloop_del_fd(s->loop, s->fd);
        close(s->fd);
    }
    if (s->lfd >= 0) {
        evloop_del_fd(s->loop, s->lfd);
        close(s->lfd);
    }
    free(s->txq);
    free(s);
}

static const struct net_port_ops stream_ops = {
    .transmit = stream_transmit,
    .free = stream_free,
};

struct net_port *net_stream_new(struct evloop *l, bool listening, const char *hostport, char *err, size_t errlen)
{
    struct net_sockaddr addr;
    if (net_sockaddr_parse(&addr, hostport, AF_UNSPEC, listening, err, errlen) < 0)
        return NULL;
    struct net_stream *s = calloc(1, sizeof(*s));
    /* Untouched pages of a large allocation cost nothing until a slow
     * peer makes the queue fill up. */
    uint8_t *txq = malloc(NET_STREAM_TXQ_MAX);
    if (!s || !txq) {
        free(s);
        free(txq);
        snprintf(err, errlen, "stream %s: out of memory", hostport);
        return NULL;
    }
    char name[96];
    snprintf(name, sizeof(name), "stream %s=%s", listening ? "listen" : "connect", hostport);
    net_port_init(&s->port, &stream_ops, name, false);
    s->loop = l;
    s->listen = listening;
    s->addr = addr;
    net_sockaddr_str(&addr, s->addr_str);
    s->lfd = -1;
    s->fd = -1;
    s->txq = txq;
    if (listening) {
        s->lfd = net_sockaddr_bind(&addr, SOCK_STREAM, err, errlen);
        if (s->lfd < 0)
            goto fail;
        acceptor_init(&s->acc, l, s->lfd, s->port.name);
        int e = 0;
        if (listen(s->lfd, 4) < 0)
            e = errno;
        else
            e = -evloop_add_fd(l, s->lfd, EPOLLIN, on_listen, s);
        if (e) {
            snprintf(err, errlen, "cannot listen on %s: %s", s->addr_str, strerror(e));
            goto fail;
        }
    } else {
        /* First attempt from the loop, so link_cb, once set, hears about
         * it and nothing happens inside this call. */
        s->timer = evloop_add_timer(l, 0, try_connect, s);
        if (!s->timer) {
            snprintf(err, errlen, "stream %s: out of memory", hostport);
            goto fail;
        }
    }
    return &s->port;

fail:
    if (s->lfd >= 0)
        close(s->lfd);
    free(s->txq);
    free(s);
    return NULL;
}

void net_stream_set_link_cb(struct net_port *p, void (*cb)(void *opaque, bool up), void *opaque)
{
    struct net_stream *s = to_stream(p);
    s->link_cb = cb;
    s->link_opaque = opaque;
}

bool net_stream_is_up(const struct net_port *p) { return to_cstream(p)->up; }

size_t net_stream_tx_queued(const struct net_port *p) { return to_cstream(p)->tx_len; }

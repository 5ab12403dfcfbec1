#include "vmm/console_server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/acceptor.h"
#include "base/evloop.h"
#include "base/log.h"

#define FLUSH_DELAY_NS 2000000ull  /* a partial line waits at most 2 ms */
#define RETRY_NS 10000000ull       /* input the guest could not take yet */
#define CLIENT_INBUF 256

static const char too_slow_msg[] = "\r\n[vireo: console client too slow; disconnected]\r\n";
static const char busy_msg[] = "[vireo: too many console clients attached]\r\n";

struct client {
    struct console_server *s;
    int fd;
    uint32_t mask;        /* epoll events currently asked for */
    uint8_t *q;           /* output ring of CONSOLE_CLIENT_QUEUE bytes */
    size_t qhead, qlen;
    bool doomed;          /* too slow: only the message is left to send */
    uint64_t doom_timer;
    uint8_t in[CLIENT_INBUF];
    size_t in_len;
    struct client *next;
};

struct console_server {
    struct evloop *io;
    int listen_fd, wake_fd, log_fd;
    struct acceptor acc;
    int (*rotator)(void *opaque);   /* see console_server_set_log_rotator */
    void *rotator_opaque;
    char *sock_path, *log_path;
    uint64_t log_size;
    bool log_failed;
    struct console_input input;
    uint64_t retry_timer, flush_timer;
    struct client *clients;
    unsigned nclients;
    /* The last CONSOLE_REPLAY bytes of output, a ring. I/O thread. */
    uint8_t *hist;
    size_t hist_pos, hist_len;

    pthread_mutex_t lock; /* guards the fields below */
    uint8_t *out, *spare;
    size_t out_len;
    bool flush_scheduled;
    uint64_t dropped;
};

/* ---- log ---- */

static void log_fail(struct console_server *s, const char *what)
{
    if (!s->log_failed)
        vwarn("console log '%s': %s: %s; console output is no longer logged", s->log_path, what, strerror(errno));
    s->log_failed = true;
    if (s->log_fd >= 0)
        close(s->log_fd);
    s->log_fd = -1;
}

static int log_open(struct console_server *s, bool truncate)
{
    s->log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
    if (s->log_fd < 0)
        return -1;
    struct stat st;
    s->log_size = fstat(s->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

static void log_rotate(struct console_server *s)
{
    size_t n = strlen(s->log_path);
    char *old = malloc(n + 3);
    if (!old) {
        errno = ENOMEM;
        log_fail(s, "cannot rotate");
        return;
    }
    memcpy(old, s->log_path, n);
    memcpy(old + n, ".1", 3);
    close(s->log_fd);
    s->log_fd = -1;
    if (s->rotator) {
        /* The process may no longer write the log's directory. */
        free(old);
        s->log_fd = s->rotator(s->rotator_opaque);
        s->log_size = 0;
        if (s->log_fd < 0)
            log_fail(s, "cannot rotate");
        return;
    }
    int r = rename(s->log_path, old);
    free(old);
    if (r < 0) {
        log_fail(s, "cannot rotate");
        return;
    }
    if (log_open(s, true) < 0)
        log_fail(s, "cannot reopen");
}

static void log_append(struct console_server *s, const uint8_t *p, size_t n)
{
    while (n && s->log_fd >= 0) {
        if (s->log_size >= CONSOLE_LOG_MAX) {
            log_rotate(s);
            continue;
        }
        size_t k = CONSOLE_LOG_MAX - s->log_size;
        if (k > n)
            k = n;
        ssize_t r = write(s->log_fd, p, k);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ENOSPC;
            log_fail(s, "cannot write");
            return;
        }
        s->log_size += (uint64_t)r;
        p += r;
        n -= (size_t)r;
    }
}

/* ---- history ---- */

static void hist_append(struct console_server *s, const uint8_t *p, size_t n)
{
    if (n > CONSOLE_REPLAY) {
        p += n - CONSOLE_REPLAY;
        n = CONSOLE_REPLAY;
    }
    while (n) {
        size_t k = CONSOLE_REPLAY - s->hist_pos;
        if (k > n)
            k = n;
        memcpy(s->hist + s->hist_pos, p, k);
        s->hist_pos = (s->hist_pos + k) % CONSOLE_REPLAY;
        s->hist_len = s->hist_len + k > CONSOLE_REPLAY ? CONSOLE_REPLAY : s->hist_len + k;
        p += k;
        n -= k;
    }
}

/* ---- clients ---- */

static void client_close(struct client *c)
{
    struct console_server *s = c->s;
    for (struct client **pp = &s->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    s->nclients--;
    if (s->io) {
        if (c->doom_timer)
            evloop_cancel_timer(s->io, c->doom_timer);
        evloop_del_fd(s->io, c->fd);
    }
    close(c->fd);
    free(c->q);
    free(c);
}

static void client_update_mask(struct client *c)
{
    uint32_t m = 0;
    if (!c->doomed && c->in_len < CLIENT_INBUF)
        m |= EPOLLIN;
    if (c->doomed)
        m |= EPOLLIN; /* read and discard, to notice the client leaving */
    if (c->qlen)
        m |= EPOLLOUT;
    if (m != c->mask) {
        if (c->s->io)
            evloop_mod_fd(c->s->io, c->fd, m);
        c->mask = m;
    }
}

/* Send what the socket takes. Returns -1 if the client went away (the
 * caller closes it), else 0. */
static int client_send_now(struct client *c, const uint8_t *p, size_t n, size_t *sent)
{
    *sent = 0;
    while (*sent < n) {
        ssize_t r = send(c->fd, p + *sent, n - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        *sent += (size_t)r;
    }
    return 0;
}

static void doom_timer(void *opaque)
{
    struct client *c = opaque;
    c->doom_timer = 0;
    client_close(c);
}

/* Too slow: forget its queue, leave only the message. */
static void client_doom(struct client *c)
{
    c->doomed = true;
    c->qhead = 0;
    c->qlen = sizeof(too_slow_msg) - 1;
    memcpy(c->q, too_slow_msg, c->qlen);
    c->in_len = 0;
    if (c->s->io)
        c->doom_timer = evloop_add_timer(c->s->io, CONSOLE_DOOM_NS, doom_timer, c);
    client_update_mask(c);
}

/* Write out the queue as far as the socket takes it. Returns -1 if the
 * client is gone (closed here). */
static int client_flush(struct client *c)
{
    while (c->qlen) {
        size_t first = CONSOLE_CLIENT_QUEUE - c->qhead;
        if (first > c->qlen)
            first = c->qlen;
        size_t sent;
        if (client_send_now(c, c->q + c->qhead, first, &sent) < 0) {
            client_close(c);
            return -1;
        }
        c->qhead = (c->qhead + sent) % CONSOLE_CLIENT_QUEUE;
        c->qlen -= sent;
        if (sent < first)
            break;
    }
    if (!c->qlen && c->doomed) {
        client_close(c);
        return -1;
    }
    client_update_mask(c);
    return 0;
}

/* Queue output for c, sending at once what the socket takes. May close c. */
static void client_output(struct client *c, const uint8_t *p, size_t n)
{
    if (c->doomed || !n)
        return;
    if (!c->qlen) {
        size_t sent;
        if (client_send_now(c, p, n, &sent) < 0) {
            client_close(c);
            return;
        }
        p += sent;
        n -= sent;
        if (!n)
            return;
    }
    if (n > CONSOLE_CLIENT_QUEUE - c->qlen) {
        client_doom(c);
        return;
    }
    size_t tail = (c->qhead + c->qlen) % CONSOLE_CLIENT_QUEUE;
    size_t first = CONSOLE_CLIENT_QUEUE - tail;
    if (first > n)
        first = n;
    memcpy(c->q + tail, p, first);
    memcpy(c->q, p + first, n - first);
    c->qlen += n;
    client_update_mask(c);
}

static void retry_input(void *opaque);

/* Hand c's input to the guest; while some is left, stop reading c. */
static void client_deliver(struct client *c)
{
    struct console_server *s = c->s;
    if (c->in_len && s->input.deliver) {
        size_t n = s->input.deliver(s->input.opaque, c->in, c->in_len);
        if (n > c->in_len)
            n = c->in_len;
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
    }
    if (c->in_len && !s->retry_timer && s->io)
        s->retry_timer = evloop_add_timer(s->io, RETRY_NS, retry_input, s);
    client_update_mask(c);
}

static void retry_input(void *opaque)
{
    struct console_server *s = opaque;
    s->retry_timer = 0;
    for (struct client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (c->in_len)
            client_deliver(c);
    }
}

static void on_client(void *opaque, int fd, uint32_t events)
{
    struct client *c = opaque;
    if ((events & EPOLLOUT) && client_flush(c) < 0)
        return;
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    uint8_t discard[256];
    uint8_t *dst = c->doomed ? discard : c->in + c->in_len;
    size_t room = c->doomed ? sizeof(discard) : CLIENT_INBUF - c->in_len;
    if (room == 0) {
        /* Not reading it now; a hang-up still ends it. */
        if (events & (EPOLLHUP | EPOLLERR))
            client_close(c);
        return;
    }
    ssize_t r = recv(fd, dst, room, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        client_close(c);
        return;
    }
    if (c->doomed)
        return;
    c->in_len += (size_t)r;
    client_deliver(c);
}

static void on_listen(void *opaque, int fd, uint32_t events)
{
    (void)events;
    struct console_server *s = opaque;
    (void)fd;
    for (;;) {
        int cfd = acceptor_next(&s->acc, NULL, NULL);
        if (cfd < 0)
            return;
        struct client *c = NULL;
        if (s->nclients < CONSOLE_MAX_CLIENTS) {
            c = calloc(1, sizeof(*c));
            if (c && !(c->q = malloc(CONSOLE_CLIENT_QUEUE))) {
                free(c);
                c = NULL;
            }
        }
        if (!c) {
            ssize_t w = send(cfd, busy_msg, sizeof(busy_msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
            close(cfd);
            continue;
        }
        c->s = s;
        c->fd = cfd;
        c->mask = EPOLLIN;
        if (evloop_add_fd(s->io, cfd, EPOLLIN, on_client, c) < 0) {
            free(c->q);
            free(c);
            close(cfd);
            continue;
        }
        c->next = s->clients;
        s->clients = c;
        s->nclients++;
        /* The current screen first: the history ring in order. */
        size_t start = (s->hist_pos + CONSOLE_REPLAY - s->hist_len) % CONSOLE_REPLAY;
        size_t first = CONSOLE_REPLAY - start;
        if (first > s->hist_len)
            first = s->hist_len;
        uint8_t *tmp = malloc(s->hist_len ? s->hist_len : 1);
        if (tmp) {
            memcpy(tmp, s->hist + start, first);
            memcpy(tmp + first, s->hist, s->hist_len - first);
            client_output(c, tmp, s->hist_len);
            free(tmp);
        }
    }
}

/* ---- output from the guest ---- */

/* I/O thread: take what vCPUs wrote and hand it on. */
static void flush_out(struct console_server *s)
{
    pthread_mutex_lock(&s->lock);
    uint8_t *buf = s->out;
    size_t n = s->out_len;
    s->out = s->spare;
    s->spare = buf;
    s->out_len = 0;
    s->flush_scheduled = false;
    pthread_mutex_unlock(&s->lock);
    if (!n)
        return;
    log_append(s, buf, n);
    hist_append(s, buf, n);
    for (struct client *c = s->clients, *next; c; c = next) {
        next = c->next;
        client_output(c, buf, n);
    }
}

static void flush_timer(void *opaque)
{
    struct console_server *s = opaque;
    s->flush_timer = 0;
    flush_out(s);
}

static void on_wake(void *opaque, int fd, uint32_t events)
{
    (void)events;
    struct console_server *s = opaque;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    if (!s->flush_timer)
        s->flush_timer = evloop_add_timer(s->io, FLUSH_DELAY_NS, flush_timer, s);
}

void console_server_write(void *server, const uint8_t *buf, size_t len)
{
    struct console_server *s = server;
    bool wake = false;
    pthread_mutex_lock(&s->lock);
    if (len > CONSOLE_PENDING_MAX - s->out_len) {
        s->dropped += len - (CONSOLE_PENDING_MAX - s->out_len);
        len = CONSOLE_PENDING_MAX - s->out_len;
    }
    memcpy(s->out + s->out_len, buf, len);
    s->out_len += len;
    if (!s->flush_scheduled && s->out_len) {
        s->flush_scheduled = true;
        wake = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (wake) {
        uint64_t one = 1;
        ssize_t r = write(s->wake_fd, &one, sizeof(one));
        (void)r;
    }
}

uint64_t console_server_dropped(struct console_server *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t d = s->dropped;
    pthread_mutex_unlock(&s->lock);
    return d;
}

unsigned console_server_clients(struct console_server *s) { return s->nclients; }

void console_server_set_input(struct console_server *s, struct console_input in) { s->input = in; }

/* ---- setup ---- */

static int listen_at(struct console_server *s, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "console socket path '%s' is too long (at most %zu bytes)", path,
                 sizeof(sa.sun_path) - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "console socket path '%s' exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            snprintf(err, errlen, "console socket '%s' is in use by another process", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path); /* stale: nobody accepts there */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the console socket: %s", strerror(errno));
        return -1;
    }
    /* Owner only, from the moment it exists. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    int e = errno;
    umask(old);
    if (r < 0 || chmod(path, 0600) < 0 || listen(fd, CONSOLE_MAX_CLIENTS) < 0) {
        if (r == 0)
            e = errno;
        snprintf(err, errlen, "cannot listen on the console socket '%s': %s", path, strerror(e));
        if (r == 0)
            unlink(path);
        close(fd);
        return -1;
    }
    s->sock_path = strdup(path);
    if (!s->sock_path) {
        snprintf(err, errlen, "out of memory");
        unlink(path);
        close(fd);
        return -1;
    }
    s->listen_fd = fd;
    return 0;
}

/* ---- the event loop ---- */

static int loop_attach(struct console_server *s, struct evloop *l)
{
    s->io = l;
    if (evloop_add_fd(l, s->wake_fd, EPOLLIN, on_wake, s) < 0) {
        s->io = NULL;
        return -1;
    }
    acceptor_init(&s->acc, l, s->listen_fd, s->sock_path ? s->sock_path : "console socket");
    if (s->listen_fd >= 0 && evloop_add_fd(l, s->listen_fd, EPOLLIN, on_listen, s) < 0) {
        evloop_del_fd(l, s->wake_fd);
        s->io = NULL;
        return -1;
    }
    bool retry = false;
    for (struct client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (evloop_add_fd(l, c->fd, c->mask, on_client, c) < 0) {
            c->doom_timer = 0;
            s->io = NULL; /* nothing of c is registered */
            client_close(c);
            s->io = l;
            continue;
        }
        if (c->doomed)
            c->doom_timer = evloop_add_timer(l, CONSOLE_DOOM_NS, doom_timer, c);
        retry |= c->in_len > 0;
    }
    if (retry)
        s->retry_timer = evloop_add_timer(l, RETRY_NS, retry_input, s);
    /* Output written while no loop ran. */
    pthread_mutex_lock(&s->lock);
    bool pending = s->out_len > 0;
    s->flush_scheduled = pending;
    pthread_mutex_unlock(&s->lock);
    if (pending)
        s->flush_timer = evloop_add_timer(l, FLUSH_DELAY_NS, flush_timer, s);
    return 0;
}

static void loop_detach(struct console_server *s)
{
    struct evloop *l = s->io;
    if (!l)
        return;
    if (s->flush_timer)
        evloop_cancel_timer(l, s->flush_timer);
    if (s->retry_timer)
        evloop_cancel_timer(l, s->retry_timer);
    s->flush_timer = s->retry_timer = 0;
    for (struct client *c = s->clients; c; c = c->next) {
        if (c->doom_timer)
            evloop_cancel_timer(l, c->doom_timer);
        c->doom_timer = 0;
        evloop_del_fd(l, c->fd);
    }
    acceptor_cancel(&s->acc);
    if (s->listen_fd >= 0)
        evloop_del_fd(l, s->listen_fd);
    evloop_del_fd(l, s->wake_fd);
    s->io = NULL;
}

int console_server_set_loop(struct console_server *s, struct evloop *l)
{
    loop_detach(s);
    if (l && loop_attach(s, l) < 0) {
        vwarn("console: cannot watch the console socket: %s; console clients get nothing until the next loop",
              strerror(errno));
        return -1;
    }
    return 0;
}

void console_server_set_log_rotator(struct console_server *s, int (*rotate)(void *opaque), void *opaque)
{
    s->rotator = rotate;
    s->rotator_opaque = opaque;
}

struct console_server *console_server_new(struct evloop *l, const char *sock_path, const char *log_path, char *err,
                                          size_t errlen)
{
    struct console_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->listen_fd = s->wake_fd = s->log_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    s->out = malloc(CONSOLE_PENDING_MAX);
    s->spare = malloc(CONSOLE_PENDING_MAX);
    s->hist = malloc(CONSOLE_REPLAY);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!s->out || !s->spare || !s->hist || s->wake_fd < 0) {
        snprintf(err, errlen, "cannot set up the console: %s", s->wake_fd < 0 ? strerror(errno) : "out of memory");
        goto fail;
    }
    if (log_path) {
        s->log_path = strdup(log_path);
        if (!s->log_path) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (log_open(s, false) < 0) {
            snprintf(err, errlen, "cannot open the console log '%s': %s", log_path, strerror(errno));
            goto fail;
        }
    }
    if (sock_path && listen_at(s, sock_path, err, errlen) < 0)
        goto fail;
    if (l && loop_attach(s, l) < 0) {
        snprintf(err, errlen, "cannot watch the console socket: %s", strerror(errno));
        if (s->sock_path)
            unlink(s->sock_path);
        goto fail;
    }
    return s;
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->log_fd >= 0)
        close(s->log_fd);
    free(s->sock_path);
    free(s->log_path);
    free(s->out);
    free(s->spare);
    free(s->hist);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

void console_server_free(struct console_server *s)
{
    if (!s)
        return;
    flush_out(s);
    while (s->clients) {
        struct client *c = s->clients;
        if (client_flush(c) == 0) /* else it closed c */
            client_close(c);
    }
    loop_detach(s);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->sock_path);
    }
    close(s->wake_fd);
    if (s->log_fd >= 0)
        close(s->log_fd);
    if (s->dropped)
        vwarn("console output came faster than it could be handled: %llu bytes were dropped",
              (unsigned long long)s->dropped);
    free(s->sock_path);
    free(s->log_path);
    free(s->out);
    free(s->spare);
    free(s->hist);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

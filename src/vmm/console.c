#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"

#define OUT_BUF (1u << 20) /* guest output waiting for a slow terminal */
#define FLUSH_DELAY_NS 2000000ull /* a partial line waits at most 2 ms */
#define CTRL_A 0x01

struct stdio_console {
    struct evloop *io;
    int in_fd, out_fd, wake_fd;
    bool tty, raw, in_watched, escape;
    struct termios saved;
    struct console_input input;
    uint8_t pending_in[256];
    size_t pending_len;
    uint64_t retry_timer;

    pthread_mutex_t lock;
    uint8_t *out, *spare; /* filled by vCPUs / being written by the I/O thread */
    size_t out_len;
    bool flush_scheduled;
    uint64_t dropped;
};

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* a slow terminal: wait for it rather than lose output */
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
                continue;
            }
            return; /* output closed: nothing sensible to do */
        }
        p += r;
        n -= (size_t)r;
    }
}

/* I/O thread: swap the buffers under the lock, write outside it. */
static void flush_out(struct stdio_console *c)
{
    pthread_mutex_lock(&c->lock);
    uint8_t *buf = c->out;
    size_t n = c->out_len;
    c->out = c->spare;
    c->spare = buf;
    c->out_len = 0;
    c->flush_scheduled = false;
    pthread_mutex_unlock(&c->lock);
    write_all(c->out_fd, buf, n);
}

static void flush_timer(void *opaque) { flush_out(opaque); }

static void on_wake(void *opaque, int fd, uint32_t events)
{
    (void)events;
    struct stdio_console *c = opaque;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    evloop_add_timer(c->io, FLUSH_DELAY_NS, flush_timer, c);
}

void stdio_console_write(void *console, const uint8_t *buf, size_t len)
{
    struct stdio_console *c = console;
    bool wake = false;
    pthread_mutex_lock(&c->lock);
    /* A vCPU never waits for the terminal: when a megabyte is already
     * waiting for it (a stalled pager, say), further output is dropped and
     * counted. */
    if (len > OUT_BUF - c->out_len) {
        c->dropped += len - (OUT_BUF - c->out_len);
        len = OUT_BUF - c->out_len;
    }
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    if (!c->flush_scheduled && c->out_len) {
        c->flush_scheduled = true;
        wake = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (wake) {
        uint64_t one = 1;
        ssize_t r = write(c->wake_fd, &one, sizeof(one));
        (void)r;
    }
}

static void deliver_pending(struct stdio_console *c);

static void retry_timer(void *opaque)
{
    struct stdio_console *c = opaque;
    c->retry_timer = 0;
    deliver_pending(c);
}

/* Hand buffered input to the guest; stop reading stdin while it cannot
 * take more, so typing ahead never loses characters. */
static void deliver_pending(struct stdio_console *c)
{
    if (c->pending_len && c->input.deliver) {
        size_t n = c->input.deliver(c->input.opaque, c->pending_in, c->pending_len);
        memmove(c->pending_in, c->pending_in + n, c->pending_len - n);
        c->pending_len -= n;
    }
    if (c->pending_len) {
        if (c->in_watched) {
            evloop_mod_fd(c->io, c->in_fd, 0);
        }
        if (!c->retry_timer)
            c->retry_timer = evloop_add_timer(c->io, 10000000ull, retry_timer, c);
    } else if (c->in_watched) {
        evloop_mod_fd(c->io, c->in_fd, EPOLLIN);
    }
}

static void on_input(void *opaque, int fd, uint32_t events)
{
    struct stdio_console *c = opaque;
    uint8_t buf[128];
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        /* EOF (no terminal, or the other end went away): stop listening;
         * the guest keeps running. */
        (void)events;
        evloop_del_fd(c->io, fd);
        c->in_watched = false;
        return;
    }
    for (ssize_t i = 0; i < r; i++) {
        uint8_t ch = buf[i];
        if (c->escape) {
            c->escape = false;
            if (ch == 'x' || ch == 'X') {
                if (c->input.quit)
                    c->input.quit(c->input.opaque);
                return;
            }
            if (ch != CTRL_A)
                continue; /* unknown escape: swallow it */
        } else if (ch == CTRL_A && c->tty) {
            c->escape = true;
            continue;
        }
        if (c->pending_len < sizeof(c->pending_in))
            c->pending_in[c->pending_len++] = ch;
    }
    deliver_pending(c);
}

struct stdio_console *stdio_console_new(struct evloop *io, int in_fd, int out_fd)
{
    struct stdio_console *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->io = io;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    pthread_mutex_init(&c->lock, NULL);
    c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->out = malloc(OUT_BUF);
    c->spare = malloc(OUT_BUF);
    if (c->wake_fd < 0 || !c->out || !c->spare) {
        if (c->wake_fd >= 0)
            close(c->wake_fd);
        free(c->out);
        free(c->spare);
        free(c);
        return NULL;
    }
    evloop_add_fd(io, c->wake_fd, EPOLLIN, on_wake, c);
    c->tty = in_fd >= 0 && isatty(in_fd);
    if (c->tty && tcgetattr(in_fd, &c->saved) == 0) {
        struct termios raw = c->saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable */
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
            c->raw = true;
    }
    if (in_fd >= 0) {
        int fl = fcntl(in_fd, F_GETFL);
        if (fl >= 0)
            fcntl(in_fd, F_SETFL, fl | O_NONBLOCK);
        /* epoll refuses regular files (stdin redirected from a file): then
         * the guest simply gets no input. */
        c->in_watched = evloop_add_fd(io, in_fd, EPOLLIN, on_input, c) == 0;
    }
    return c;
}

void stdio_console_set_input(struct stdio_console *c, struct console_input in) { c->input = in; }

void stdio_console_free(struct stdio_console *c)
{
    if (!c)
        return;
    flush_out(c);
    if (c->in_watched)
        evloop_del_fd(c->io, c->in_fd);
    if (c->in_fd >= 0) {
        int fl = fcntl(c->in_fd, F_GETFL);
        if (fl >= 0)
            fcntl(c->in_fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    if (c->raw)
        tcsetattr(c->in_fd, TCSANOW, &c->saved);
    evloop_del_fd(c->io, c->wake_fd);
    close(c->wake_fd);
    if (c->dropped)
        vwarn("the terminal did not keep up: %llu bytes of guest console output were dropped",
              (unsigned long long)c->dropped);
    pthread_mutex_destroy(&c->lock);
    free(c->out);
    free(c->spare);
    free(c);
}

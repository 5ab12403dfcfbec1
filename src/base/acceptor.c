#include "base/acceptor.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/evloop.h"
#include "base/log.h"

void acceptor_init(struct acceptor *a, struct evloop *loop, int fd, const char *what)
{
    *a = (struct acceptor){ .loop = loop, .fd = fd, .what = what };
}

static void resume(void *opaque)
{
    struct acceptor *a = opaque;
    a->timer = 0;
    evloop_mod_fd(a->loop, a->fd, EPOLLIN);
}

int acceptor_next(struct acceptor *a, struct sockaddr *peer, socklen_t *len)
{
    for (;;) {
        int fd = accept4(a->fd, peer, peer ? len : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            a->logged = false;
            return fd;
        }
        switch (errno) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return -1;
        case EINTR: case ECONNABORTED: case EPROTO:
        /* network errors already pending on that connection (accept(2)) */
        case ENETDOWN: case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP:
        case ENETUNREACH: case EPERM:
            continue; /* that one is gone; the next may be fine */
        default: /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
            break;
        }
        if (!a->logged)
            vwarn("%s: cannot accept connections: %s; trying again every second", a->what, strerror(errno));
        a->logged = true;
        if (!a->timer)
            a->timer = evloop_add_timer(a->loop, ACCEPTOR_PAUSE_NS, resume, a);
        /* (without the timer, for want of memory, the watch stays on:
         * spinning beats never accepting again) */
        if (a->timer)
            evloop_mod_fd(a->loop, a->fd, 0);
        return -1;
    }
}

void acceptor_cancel(struct acceptor *a)
{
    if (a->timer)
        evloop_cancel_timer(a->loop, a->timer);
    a->timer = 0;
}

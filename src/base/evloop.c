#include "base/evloop.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

struct fd_watch {
    int fd;
    evloop_fd_cb cb;
    void *opaque;
    struct fd_watch *next;
};

struct timer {
    uint64_t id, deadline_ns;
    evloop_timer_cb cb;
    void *opaque;
    struct timer *next;
};

struct poll_source {
    uint64_t id;
    evloop_prepare_cb prepare;
    evloop_dispatch_cb dispatch;
    void *opaque;
    struct poll_source *next;
};

struct evloop_pollset {
    struct pollfd *fds;
    unsigned n, cap;
};

struct evloop {
    int epfd;
    int stopfd;
    _Atomic bool stop;
    bool running;
    struct fd_watch *watches;
    struct fd_watch *dead; /* removed during a round, freed after it */
    struct timer *timers; /* sorted by deadline */
    uint64_t next_timer_id;
    struct poll_source *sources;
    uint64_t next_source_id;
    struct evloop_pollset ps;
};

struct evloop *evloop_new(void)
{
    struct evloop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->stopfd < 0) {
        evloop_free(l);
        return NULL;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev);
    return l;
}

void evloop_free(struct evloop *l)
{
    if (!l)
        return;
    while (l->watches) {
        struct fd_watch *w = l->watches;
        l->watches = w->next;
        free(w);
    }
    while (l->dead) {
        struct fd_watch *w = l->dead;
        l->dead = w->next;
        free(w);
    }
    while (l->timers) {
        struct timer *t = l->timers;
        l->timers = t->next;
        free(t);
    }
    while (l->sources) {
        struct poll_source *p = l->sources;
        l->sources = p->next;
        free(p);
    }
    free(l->ps.fds);
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->stopfd >= 0)
        close(l->stopfd);
    free(l);
}

int evloop_add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_cb cb, void *opaque)
{
    struct fd_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = fd;
    w->cb = cb;
    w->opaque = opaque;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = -errno;
        free(w);
        return e;
    }
    w->next = l->watches;
    l->watches = w;
    return 0;
}

static struct fd_watch *find_watch(struct evloop *l, int fd)
{
    for (struct fd_watch *w = l->watches; w; w = w->next)
        if (w->fd == fd)
            return w;
    return NULL;
}

int evloop_mod_fd(struct evloop *l, int fd, uint32_t events)
{
    struct fd_watch *w = find_watch(l, fd);
    if (!w)
        return -ENOENT;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void evloop_del_fd(struct evloop *l, int fd)
{
    for (struct fd_watch **pp = &l->watches; *pp; pp = &(*pp)->next) {
        if ((*pp)->fd == fd) {
            struct fd_watch *w = *pp;
            *pp = w->next;
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
            /* The watch may still be in this round's event list: keep it
             * alive but inert until the loop comes round again. */
            w->cb = NULL;
            w->next = l->dead;
            l->dead = w;
            return;
        }
    }
}

uint64_t evloop_add_timer(struct evloop *l, uint64_t delay_ns, evloop_timer_cb cb, void *opaque)
{
    struct timer *t = calloc(1, sizeof(*t));
    if (!t)
        return 0;
    t->id = ++l->next_timer_id;
    t->deadline_ns = vclock_ns() + delay_ns;
    t->cb = cb;
    t->opaque = opaque;
    struct timer **pp = &l->timers;
    while (*pp && (*pp)->deadline_ns <= t->deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    return t->id;
}

void evloop_cancel_timer(struct evloop *l, uint64_t id)
{
    for (struct timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct timer *t = *pp;
            *pp = t->next;
            free(t);
            return;
        }
    }
}

void evloop_stop(struct evloop *l)
{
    atomic_store(&l->stop, true);
    uint64_t one = 1;
    ssize_t r = write(l->stopfd, &one, sizeof(one));
    (void)r;
}

bool evloop_running(const struct evloop *l) { return l->running; }

int evloop_pollset_add(struct evloop_pollset *ps, int fd, short events)
{
    if (ps->n == ps->cap) {
        unsigned cap = ps->cap ? 2 * ps->cap : 64;
        struct pollfd *f = realloc(ps->fds, cap * sizeof(*f));
        if (!f)
            return -1;
        ps->fds = f;
        ps->cap = cap;
    }
    ps->fds[ps->n] = (struct pollfd){ .fd = fd, .events = events };
    return (int)ps->n++;
}

short evloop_pollset_revents(const struct evloop_pollset *ps, int idx)
{
    return idx >= 0 && (unsigned)idx < ps->n ? ps->fds[idx].revents : 0;
}

uint64_t evloop_add_poll_source(struct evloop *l, evloop_prepare_cb prepare, evloop_dispatch_cb dispatch,
                                void *opaque)
{
    struct poll_source *p = calloc(1, sizeof(*p));
    if (!p)
        return 0;
    p->id = ++l->next_source_id;
    p->prepare = prepare;
    p->dispatch = dispatch;
    p->opaque = opaque;
    struct poll_source **pp = &l->sources;
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
    return p->id;
}

void evloop_del_poll_source(struct evloop *l, uint64_t id)
{
    /* Only marked here: a dispatch round may be walking the list. */
    for (struct poll_source *p = l->sources; p; p = p->next)
        if (p->id == id)
            p->prepare = NULL, p->dispatch = NULL;
}

static void reap_sources(struct evloop *l)
{
    for (struct poll_source **pp = &l->sources; *pp;) {
        struct poll_source *p = *pp;
        if (!p->prepare) {
            *pp = p->next;
            free(p);
        } else {
            pp = &p->next;
        }
    }
}

/* Wait with poll() on the sources' descriptors and the epoll descriptor;
 * returns epoll_wait's result for the ordinary watches (0 if the epoll
 * descriptor was not ready). */
static int wait_with_sources(struct evloop *l, struct epoll_event *evs, int maxev, int timeout_ms)
{
    struct evloop_pollset *ps = &l->ps;
    ps->n = 0;
    evloop_pollset_add(ps, l->epfd, POLLIN);
    for (struct poll_source *p = l->sources; p; p = p->next)
        if (p->prepare)
            p->prepare(p->opaque, ps, &timeout_ms);
    int r = poll(ps->fds, ps->n, timeout_ms);
    bool failed = r < 0 && errno != EINTR;
    int n = 0;
    if (r > 0 && (ps->fds[0].revents & POLLIN))
        n = epoll_wait(l->epfd, evs, maxev, 0);
    for (struct poll_source *p = l->sources; p; p = p->next)
        if (p->dispatch)
            p->dispatch(p->opaque, ps, failed);
    reap_sources(l);
    return n < 0 ? 0 : n;
}

void evloop_rearm(struct evloop *l)
{
    uint64_t v;
    ssize_t r = read(l->stopfd, &v, sizeof(v));
    (void)r;
    atomic_store(&l->stop, false);
}

void evloop_run(struct evloop *l)
{
    l->running = true;
    while (!atomic_load(&l->stop)) {
        int timeout_ms = -1;
        if (l->timers) {
            uint64_t now = vclock_ns();
            timeout_ms = l->timers->deadline_ns <= now ? 0 : (int)((l->timers->deadline_ns - now + 999999) / 1000000);
        }
        struct epoll_event evs[32];
        int n = l->sources ? wait_with_sources(l, evs, 32, timeout_ms) : epoll_wait(l->epfd, evs, 32, timeout_ms);
        if (n < 0 && errno != EINTR) {
            verror("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            struct fd_watch *w = evs[i].data.ptr;
            if (!w) {
                uint64_t v;
                ssize_t r = read(l->stopfd, &v, sizeof(v));
                (void)r;
                continue;
            }
            /* A callback may have removed a later watch of this round:
             * it is on the dead list with cb cleared. */
            if (w->cb)
                w->cb(w->opaque, w->fd, evs[i].events);
        }
        while (l->dead) {
            struct fd_watch *w = l->dead;
            l->dead = w->next;
            free(w);
        }
        uint64_t now = vclock_ns();
        while (l->timers && l->timers->deadline_ns <= now) {
            struct timer *t = l->timers;
            l->timers = t->next;
            t->cb(t->opaque);
            free(t);
        }
    }
    l->running = false;
}

/* An epoll event loop for one I/O thread: file descriptors with callbacks,
 * one-shot timers, and a thread-safe way to run work on the loop's thread
 * (other threads "kick" it through an eventfd). */
#ifndef VIREO_BASE_EVLOOP_H
#define VIREO_BASE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;

/* events: EPOLLIN / EPOLLOUT bits; the callback gets what happened. */
typedef void (*evloop_fd_cb)(void *opaque, int fd, uint32_t events);
typedef void (*evloop_timer_cb)(void *opaque);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *l);
int evloop_add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_cb cb, void *opaque);
int evloop_mod_fd(struct evloop *l, int fd, uint32_t events);
void evloop_del_fd(struct evloop *l, int fd);
/* Call cb once, delay_ns from now, on the loop thread. Only from the loop
 * thread. Returns an id for evloop_cancel_timer. */
uint64_t evloop_add_timer(struct evloop *l, uint64_t delay_ns, evloop_timer_cb cb, void *opaque);
void evloop_cancel_timer(struct evloop *l, uint64_t id);
/* Poll sources: libraries that want to be handed a poll() set around each
 * wait instead of registering their descriptors (libslirp's
 * slirp_pollfds_fill / slirp_pollfds_poll). While any source exists the
 * loop waits with poll() on the sources' descriptors plus the epoll
 * descriptor itself, so ordinary watches keep working. */
struct evloop_pollset;
/* Add fd (POLLIN/POLLOUT/POLLPRI bits) to this round's set; returns its
 * index for evloop_pollset_revents, or -1 if out of memory. */
int evloop_pollset_add(struct evloop_pollset *ps, int fd, short events);
short evloop_pollset_revents(const struct evloop_pollset *ps, int idx);
typedef void (*evloop_prepare_cb)(void *opaque, struct evloop_pollset *ps, int *timeout_ms);
typedef void (*evloop_dispatch_cb)(void *opaque, struct evloop_pollset *ps, bool poll_failed);
/* Returns an id for evloop_del_poll_source, or 0 if out of memory. Only
 * from the loop thread. */
uint64_t evloop_add_poll_source(struct evloop *l, evloop_prepare_cb prepare, evloop_dispatch_cb dispatch,
                                void *opaque);
void evloop_del_poll_source(struct evloop *l, uint64_t id);

/* Run until evloop_stop. */
void evloop_run(struct evloop *l);
/* From any thread. */
void evloop_stop(struct evloop *l);
/* Forget an earlier evloop_stop so that evloop_run runs again (a VM's
 * loop outlives a guest reset). Only while the loop is not running and
 * before anything that may stop it again has started. */
void evloop_rearm(struct evloop *l);
bool evloop_running(const struct evloop *l);

#endif

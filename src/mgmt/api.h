/* The HTTP+JSON API of vireod (docs/api.md) on a UNIX socket, served by
 * libmicrohttpd.
 *
 * One internal epoll thread serves every connection (MHD_USE_EPOLL_INTERNAL_
 * THREAD): sockets are non-blocking, so a client that sends one byte at a
 * time or a thousand idle clients cost a few KiB each and never hold up
 * another request. Nothing on that thread blocks: requests that talk to a
 * VM process (start, stop, pause, stats...) run on a short-lived worker
 * thread while their connection is suspended (MHD_suspend_connection), and
 * the event stream suspends its connection while there is nothing to send.
 * Limits: API_CONN_LIMIT connections, API_CONN_TIMEOUT seconds of
 * inactivity, API_BODY_MAX bytes of request body (413 beyond). */
#ifndef VIREO_MGMT_API_H
#define VIREO_MGMT_API_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "mgmt/store.h"
#include "mgmt/supervisor.h"

#define API_CONN_LIMIT 4000
#define API_CONN_TIMEOUT 30
#define API_BODY_MAX (64 * 1024)

/* socket/bind/chmod/listen on path (a stale socket is replaced): mode 0600,
 * or 0660 with group gid when gid != (gid_t)-1. The fd, or -1 with a
 * message. */
int api_listen_unix(const char *path, gid_t gid, char *err, size_t errlen);

struct api;

struct api *api_new(struct store *st, const struct store_host *host);
/* The event callback to give sup_new (arg: the api). */
void api_event(void *api, json_t *ev);
/* Serve listen_fd (taken over) with sup. 0 or -1 with a message. */
int api_start(struct api *a, int listen_fd, struct sup *sup, unsigned conn_limit, char *err, size_t errlen);
/* One request without HTTP: method, url (the path, as libmicrohttpd gives
 * it) and body (len bytes, not necessarily NUL-terminated; len 0: none), as
 * the HTTP handler routes it. Returns the answer (a new reference) with its
 * HTTP status in *status; NULL with *status 0 for the routes answered by a
 * stream or a worker thread (events, and VM operations while a VM runs),
 * which only the HTTP server serves. Before api_start (no supervisor) every
 * VM and network is stopped and starting a VM fails (500): nothing is
 * spawned. Takes the supervisor's lock. */
json_t *api_handle_request(struct api *a, const char *method, const char *url, const char *body, size_t len,
                           unsigned *status);
/* End event streams, wait for running operations, stop serving, free. */
void api_free(struct api *a);

#endif

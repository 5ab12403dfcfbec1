/* Accepting connections on a listening socket that an evloop watches
 * level-triggered. When accept fails for want of descriptors or memory the
 * connection stays pending and the watch would fire again at once, forever:
 * the acceptor then pauses the watch and resumes it a second later, with
 * one log line per episode. */
#ifndef VIREO_BASE_ACCEPTOR_H
#define VIREO_BASE_ACCEPTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct evloop;

struct acceptor {
    struct evloop *loop;
    int fd;           /* the listening socket, watched for EPOLLIN */
    const char *what; /* names the socket in the log line */
    uint64_t timer;   /* resumes the watch; 0: none */
    bool logged;
};

#define ACCEPTOR_PAUSE_NS 1000000000ull

void acceptor_init(struct acceptor *a, struct evloop *loop, int fd, const char *what);
/* The next pending connection (non-blocking, close-on-exec; its address in
 * peer/len when peer is not NULL), or -1: none pending now, or the watch is
 * paused. */
int acceptor_next(struct acceptor *a, struct sockaddr *peer, socklen_t *len);
/* Before the listening socket goes: no resume is left pending. */
void acceptor_cancel(struct acceptor *a);

#endif

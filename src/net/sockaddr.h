/* Socket addresses for the socket-backed ports (stream, dgram, vxlan):
 * parsing what the user wrote on the command line, printing an address
 * back in messages, comparing the source of a datagram with the peer we
 * expect, and opening a socket bound to an address.
 *
 * Accepted spellings: "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80",
 * "host.example:80", and ":80" (any address) where an empty host makes
 * sense (local addresses to bind). Ports are numeric, 1-65535. Names are
 * resolved with getaddrinfo, which may block: that is done once, when the
 * port is created from the configuration, never from the event loop. */
#ifndef VIREO_NET_SOCKADDR_H
#define VIREO_NET_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[" + IPv6 with a scope name + "]:65535", and then some */
#define NET_SOCKADDR_STRLEN 96

struct net_sockaddr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    };
    socklen_t len;
};

/* Parse "HOST:PORT". family: AF_UNSPEC, or AF_INET/AF_INET6 to insist on
 * one (the local end of a UDP tunnel must match the remote's family).
 * passive: the address is for bind(), so an empty HOST means any address.
 * Returns 0, or -1 with one message naming the string in err. */
int net_sockaddr_parse(struct net_sockaddr *out, const char *hostport, int family, bool passive, char *err,
                       size_t errlen);

/* The same for a HOST alone ("1.2.3.4", "::1", "[::1]", a name; empty or
 * NULL with passive = any address) and a port given apart. */
int net_sockaddr_resolve(struct net_sockaddr *out, const char *host, uint16_t port, int family, bool passive,
                         char *err, size_t errlen);

/* "1.2.3.4:80" / "[::1]:80"; returns buf. */
const char *net_sockaddr_str(const struct net_sockaddr *a, char buf[NET_SOCKADDR_STRLEN]);

uint16_t net_sockaddr_port(const struct net_sockaddr *a);
/* Same family and IP address (ports not compared). */
bool net_sockaddr_same_host(const struct net_sockaddr *a, const struct net_sockaddr *b);
/* Same family, IP address and port. */
bool net_sockaddr_equal(const struct net_sockaddr *a, const struct net_sockaddr *b);

/* A non-blocking, close-on-exec socket of a's family and the given type
 * (SOCK_STREAM/SOCK_DGRAM), bound to a (with SO_REUSEADDR for streams, so
 * a restarted listener does not wait for TIME_WAIT). Returns the
 * descriptor, or -1 with a message in err. */
int net_sockaddr_bind(const struct net_sockaddr *a, int type, char *err, size_t errlen);

#endif

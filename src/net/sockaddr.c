#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/parse.h"

/* Longer than any name DNS can hold (253) or any IPv6 literal with a
 * scope: anything longer is refused before it reaches the resolver. */
#define HOST_MAX 300

#define FAIL(...)                                   \
    do {                                            \
        if (errlen)                                 \
            snprintf(err, errlen, __VA_ARGS__);     \
        return -1;                                  \
    } while (0)

static const char *family_name(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

static void set_port(struct net_sockaddr *a, uint16_t port)
{
    if (a->sa.sa_family == AF_INET6)
        a->in6.sin6_port = htons(port);
    else
        a->in4.sin_port = htons(port);
}

static int any_address(struct net_sockaddr *out, int family, uint16_t port)
{
    memset(out, 0, sizeof(*out));
    if (family == AF_INET6) {
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_addr = in6addr_any;
        out->len = sizeof(out->in6);
    } else {
        /* IPv4 for AF_UNSPEC too: an IPv4 peer is by far the common case,
         * and "[::]:PORT" is there for whoever wants IPv6. */
        out->in4.sin_family = AF_INET;
        out->in4.sin_addr.s_addr = htonl(INADDR_ANY);
        out->len = sizeof(out->in4);
    }
    set_port(out, port);
    return 0;
}

static int lookup(struct net_sockaddr *out, const char *host, int family, bool numeric)
{
    struct addrinfo hints = { .ai_family = family, .ai_flags = numeric ? AI_NUMERICHOST : 0 };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc)
        return rc;
    /* The first answer: getaddrinfo already orders them by preference
     * (RFC 6724), and these ports talk to exactly one peer. */
    rc = EAI_FAMILY;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && ai->ai_addrlen <= sizeof(out->ss)) {
            memset(out, 0, sizeof(*out));
            memcpy(&out->ss, ai->ai_addr, ai->ai_addrlen);
            out->len = ai->ai_addrlen;
            rc = 0;
            break;
        }
    }
    freeaddrinfo(res);
    return rc;
}

/* what: the whole string the user wrote, for messages. */
static int resolve(struct net_sockaddr *out, const char *host, uint16_t port, int family, bool passive,
                   const char *what, char *err, size_t errlen)
{
    if (!host || !*host) {
        if (!passive)
            FAIL("'%s': an address or host name is needed", what);
        return any_address(out, family, port);
    }
    size_t n = strlen(host);
    if (n >= HOST_MAX)
        FAIL("'%.40s...': host name too long", what);
    char buf[HOST_MAX];
    bool numeric = false;
    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']')
            FAIL("'%s': expected [IPv6-ADDRESS]", what);
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = 0;
        numeric = true;
        if (family == AF_INET)
            FAIL("'%s': an IPv4 address is needed here", what);
        family = AF_INET6;
    } else {
        memcpy(buf, host, n + 1);
    }
    int rc = lookup(out, buf, family, numeric);
    int sys_errno = errno;
    if (rc && family != AF_UNSPEC && lookup(out, buf, AF_UNSPEC, numeric) == 0)
        FAIL("'%s' is an %s address, but an %s one is needed here", what, family_name(out->sa.sa_family),
             family_name(family));
    if (rc == EAI_SYSTEM)
        FAIL("'%s': cannot resolve '%s': %s", what, buf, strerror(sys_errno));
    if (rc)
        FAIL("'%s': cannot resolve '%s': %s", what, buf, gai_strerror(rc));
    set_port(out, port);
    return 0;
}

int net_sockaddr_resolve(struct net_sockaddr *out, const char *host, uint16_t port, int family, bool passive,
                         char *err, size_t errlen)
{
    return resolve(out, host, port, family, passive, host ? host : "", err, errlen);
}

int net_sockaddr_parse(struct net_sockaddr *out, const char *hostport, int family, bool passive, char *err,
                       size_t errlen)
{
    if (!hostport || !*hostport)
        FAIL("missing address: expected HOST:PORT");
    size_t n = strlen(hostport);
    if (n >= HOST_MAX)
        FAIL("'%.40s...': address too long", hostport);
    char host[HOST_MAX];
    const char *portstr;
    if (hostport[0] == '[') {
        const char *close = strchr(hostport, ']');
        if (!close || close[1] != ':')
            FAIL("'%s': expected [IPv6-ADDRESS]:PORT", hostport);
        size_t hl = (size_t)(close - hostport) + 1;
        memcpy(host, hostport, hl);
        host[hl] = 0;
        portstr = close + 2;
    } else {
        const char *colon = strrchr(hostport, ':');
        if (!colon)
            FAIL("'%s': expected HOST:PORT", hostport);
        size_t hl = (size_t)(colon - hostport);
        if (memchr(hostport, ':', hl))
            FAIL("'%s': an IPv6 address needs brackets: [ADDRESS]:PORT", hostport);
        memcpy(host, hostport, hl);
        host[hl] = 0;
        portstr = colon + 1;
    }
    uint64_t port;
    if (!vparse_uint(portstr, 1, 65535, &port))
        FAIL("'%s': bad port '%s' (expected a number from 1 to 65535)", hostport, portstr);
    return resolve(out, host, (uint16_t)port, family, passive, hostport, err, errlen);
}

const char *net_sockaddr_str(const struct net_sockaddr *a, char buf[NET_SOCKADDR_STRLEN])
{
    /* Numeric only: an IPv6 address with a scope name, and a port. */
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE], serv[8];
    if ((a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6) ||
        getnameinfo(&a->sa, a->len, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(buf, NET_SOCKADDR_STRLEN, "(address family %d)", a->sa.sa_family);
        return buf;
    }
    if (a->sa.sa_family == AF_INET6)
        snprintf(buf, NET_SOCKADDR_STRLEN, "[%s]:%s", host, serv);
    else
        snprintf(buf, NET_SOCKADDR_STRLEN, "%s:%s", host, serv);
    return buf;
}

uint16_t net_sockaddr_port(const struct net_sockaddr *a)
{
    return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in4.sin_port);
}

bool net_sockaddr_same_host(const struct net_sockaddr *a, const struct net_sockaddr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
    if (a->sa.sa_family == AF_INET6)
        return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr)) == 0 &&
               /* link-local addresses are only the same on the same link */
               (!a->in6.sin6_scope_id || !b->in6.sin6_scope_id || a->in6.sin6_scope_id == b->in6.sin6_scope_id);
    return false;
}

bool net_sockaddr_equal(const struct net_sockaddr *a, const struct net_sockaddr *b)
{
    return net_sockaddr_same_host(a, b) && net_sockaddr_port(a) == net_sockaddr_port(b);
}

int net_sockaddr_bind(const struct net_sockaddr *a, int type, char *err, size_t errlen)
{
    char as[NET_SOCKADDR_STRLEN];
    int fd = socket(a->sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        FAIL("cannot create a socket for %s: %s", net_sockaddr_str(a, as), strerror(errno));
    int one = 1;
    if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
        int e = errno;
        close(fd);
        FAIL("cannot set SO_REUSEADDR on %s: %s", net_sockaddr_str(a, as), strerror(e));
    }
    if (bind(fd, &a->sa, a->len) < 0) {
        int e = errno;
        close(fd);
        FAIL("cannot bind %s: %s", net_sockaddr_str(a, as), strerror(e));
    }
    return fd;
}

#include "net/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "net/port.h"
#include "net/rundir.h"

#define RETRY_NS 1000000000ull
#define READY_TIMEOUT_MS 15000
#define WELCOME_TIMEOUT_MS 5000
#define RX_BUDGET 64

extern char **environ;

struct client {
    struct net_port port;
    struct evloop *loop;
    struct net_client_opts o;
    char network[64], client_name[64], exe[4096];
    char *natpf;
    char path[256];
    int fd;                      /* -1 while disconnected */
    bool up, awaiting_welcome;
    unsigned mtu;
    uint64_t retry_timer;
    pid_t spawned;               /* a switch starter to reap, or 0 */
    bool outage_logged;
    bool on_demand;              /* the switch said a VM may start a new one */
    uint64_t welcome_timer;      /* reconnecting: the answer is overdue */
    uint64_t retry_ns;           /* grows while the switch refuses us */
    uint8_t buf[HUB_MSG_MAX];
};

static void set_up(struct client *c, bool up)
{
    if (c->up == up)
        return;
    c->up = up;
    if (c->o.link_changed)
        c->o.link_changed(c->o.opaque, up);
}

/* Connect to the switch socket; returns the fd, or -1 with errno. The
 * socket is non-blocking from the start: a switch whose backlog is full
 * (wedged, or out of descriptors) answers EAGAIN at once instead of
 * holding the VM's I/O thread in connect(). Every later receive polls or
 * passes MSG_DONTWAIT. */
static int connect_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if (n >= sizeof(a.sun_path)) {
        close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a.sun_path, path, n + 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    hub_set_sockbufs(fd);
    return fd;
}

int net_client_connect(enum hub_kind kind, const char *network)
{
    char path[108], err[256];
    if (net_rundir_file(kind, network, ".sock", path, sizeof(path), err, sizeof(err)) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return connect_socket(path);
}

static int (*switch_connector)(enum hub_kind kind, const char *network);

void net_client_set_connector(int (*fn)(enum hub_kind kind, const char *network)) { switch_connector = fn; }

/* A connection for a client that is running: through the connector when
 * the VM process has one (it may no longer reach the runtime directory). */
static int client_connect(struct client *c)
{
    if (!switch_connector)
        return connect_socket(c->path);
    int fd = switch_connector(c->o.kind, c->network);
    if (fd >= 0)
        hub_set_sockbufs(fd);
    return fd;
}

static int send_hello(struct client *c, int fd)
{
    struct hub_hello h = { .version = HUB_VERSION, .flags = HUB_HELLO_OFFLOADS, .vlan = c->o.vlan };
    memcpy(h.magic, HUB_MAGIC, 8);
    memcpy(h.mac, c->o.mac, 6);
    snprintf(h.client, sizeof(h.client), "%s", c->client_name);
    struct iovec iov[2] = { { &h, sizeof(h) }, { c->natpf, c->natpf ? strlen(c->natpf) : 0 } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = c->natpf ? 2 : 1 };
    return sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* 0: plugged in; -1: refused (message in err) or broken. */
static int parse_welcome(struct client *c, const uint8_t *b, ssize_t n, char *err, size_t errlen)
{
    struct hub_welcome w;
    if (n != (ssize_t)sizeof(w)) {
        snprintf(err, errlen, "the switch at %s answered with a malformed message", c->path);
        return -1;
    }
    memcpy(&w, b, sizeof(w));
    w.message[sizeof(w.message) - 1] = 0;
    if (memcmp(w.magic, HUB_MAGIC, 8) || w.version != HUB_VERSION) {
        snprintf(err, errlen, "the switch at %s speaks another protocol version", c->path);
        return -1;
    }
    if (w.status) {
        snprintf(err, errlen, "%s", w.message[0] ? w.message : strerror(w.status));
        return -1;
    }
    c->mtu = w.mtu;
    c->on_demand = w.flags & HUB_WELCOME_ON_DEMAND;
    return 0;
}

static int (*switch_starter)(enum hub_kind kind, const char *network);

void net_client_set_starter(int (*fn)(enum hub_kind kind, const char *network)) { switch_starter = fn; }

pid_t net_switch_spawn(const char *exe, enum hub_kind kind, const char *network, int ready_fd)
{
    char log[300], kerr[256];
    if (net_rundir_file(kind, network, ".log", log, sizeof(log), kerr, sizeof(kerr)) < 0)
        snprintf(log, sizeof(log), "/dev/null");
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (ready_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, ready_fd, 3);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigfillset(&dfl);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = { (char *)exe, "switch", "--kind", (char *)hub_kind_name(kind), "--name", (char *)network,
                     "--on-demand", "--daemonize", ready_fd >= 0 ? "--ready-fd" : NULL, "3", NULL };
    pid_t pid;
    int e = posix_spawn(&pid, exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e) {
        errno = e;
        return -1;
    }
    return pid;
}

/* Start a switch for this network. With ready_err, wait until it says it
 * is ready (0) or why not (-1, message in ready_err); without, do not
 * wait (the retry timer will connect when it is there). */
static int spawn_switch(struct client *c, char *ready_err, size_t errlen)
{
    if (!ready_err && switch_starter)
        return switch_starter(c->o.kind, c->network);   /* the VM is sandboxed */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        if (ready_err)
            snprintf(ready_err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = net_switch_spawn(c->exe, c->o.kind, c->network, pfd[1]);
    int e = pid < 0 ? errno : 0;
    close(pfd[1]);
    if (pid < 0) {
        if (ready_err)
            snprintf(ready_err, errlen, "cannot start the switch program %s: %s", c->exe, strerror(e));
        close(pfd[0]);
        return -1;
    }
    if (!ready_err) {
        c->spawned = pid; /* reaped from the retry timer */
        close(pfd[0]);
        return 0;
    }
    /* The starter daemonizes at once; the switch itself writes one line
     * to the pipe: "ok", "busy" (another one is starting), or an error. */
    waitpid(pid, NULL, 0);
    char line[512] = { 0 };
    size_t got = 0;
    uint64_t deadline = vclock_ns() + READY_TIMEOUT_MS * 1000000ull;
    while (got < sizeof(line) - 1) {
        uint64_t now = vclock_ns();
        if (now >= deadline)
            break;
        struct pollfd p = { pfd[0], POLLIN, 0 };
        if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
            break;
        ssize_t r = read(pfd[0], line + got, sizeof(line) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(line, '\n', got))
            break;
    }
    close(pfd[0]);
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    if (!strcmp(line, "ok") || !strcmp(line, "busy"))
        return 0;
    snprintf(ready_err, errlen, "the switch for %s '%s' did not start: %s", hub_kind_name(c->o.kind), c->network,
             line[0] ? line : "no answer (see its log)");
    return -1;
}

static void on_readable(void *opaque, int fd, uint32_t events);
static void schedule_retry(struct client *c);

static void disconnect(struct client *c, const char *why)
{
    if (c->welcome_timer) {
        evloop_cancel_timer(c->loop, c->welcome_timer);
        c->welcome_timer = 0;
    }
    if (c->fd >= 0) {
        evloop_del_fd(c->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    c->awaiting_welcome = false;
    if (c->up || !c->outage_logged) {
        vwarn("%s: lost the switch of %s '%s' (%s); reconnecting", c->port.name, hub_kind_name(c->o.kind),
              c->network, why);
        c->outage_logged = true;
    }
    set_up(c, false);
    schedule_retry(c);
}

/* The switch checked the frame when the sending VM gave it; checked again
 * here (hub_frame_parse) so that a switch that is not ours, or is wrong,
 * cannot hand our guest's driver offsets outside the frame. */
static void handle_frame(struct client *c, ssize_t n)
{
    struct net_pkt pkt;
    if (!hub_frame_parse(c->buf, (size_t)n, &pkt)) {
        c->port.stats.rx_dropped++;
        return;
    }
    net_port_input(&c->port, &pkt);
}

static void on_readable(void *opaque, int fd, uint32_t events)
{
    struct client *c = opaque;
    (void)events;
    for (int i = 0; i < RX_BUDGET && c->fd == fd; i++) {
        ssize_t n = recv(fd, c->buf, sizeof(c->buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            disconnect(c, strerror(errno));
            return;
        }
        if (n == 0) {
            disconnect(c, "the switch closed the connection");
            return;
        }
        if ((size_t)n > sizeof(c->buf)) {
            c->port.stats.rx_dropped++;
            continue;
        }
        if (c->awaiting_welcome) {
            char err[256];
            if (parse_welcome(c, c->buf, n, err, sizeof(err)) < 0) {
                /* Refused (full, or our port forwards clash): ask again,
                 * but less and less often. */
                c->retry_ns = c->retry_ns < 30 * RETRY_NS ? c->retry_ns * 2 : c->retry_ns;
                disconnect(c, err);
                return;
            }
            c->retry_ns = RETRY_NS;
            c->awaiting_welcome = false;
            evloop_cancel_timer(c->loop, c->welcome_timer);
            c->welcome_timer = 0;
            c->outage_logged = false;
            vinfo("%s: back on %s '%s'", c->port.name, hub_kind_name(c->o.kind), c->network);
            set_up(c, true);
            continue;
        }
        handle_frame(c, n);
    }
}

static void welcome_overdue(void *opaque)
{
    struct client *c = opaque;
    c->welcome_timer = 0;
    disconnect(c, "the switch did not answer");
}

static void try_reconnect(void *opaque)
{
    struct client *c = opaque;
    c->retry_timer = 0;
    if (c->spawned && waitpid(c->spawned, NULL, WNOHANG) != 0)
        c->spawned = 0;
    if (c->fd >= 0)
        return;
    int fd = client_connect(c);
    if (fd < 0) {
        /* A network that was started on demand is started again on
         * demand; one that somebody runs with its own settings is waited
         * for, not replaced by one with defaults. */
        if ((errno == ENOENT || errno == ECONNREFUSED) && c->o.switch_exe && c->on_demand && !c->spawned)
            spawn_switch(c, NULL, 0);
        schedule_retry(c);
        return;
    }
    if (send_hello(c, fd) < 0 || evloop_add_fd(c->loop, fd, EPOLLIN, on_readable, c) < 0) {
        close(fd);
        schedule_retry(c);
        return;
    }
    c->fd = fd;
    c->awaiting_welcome = true;
    c->welcome_timer = evloop_add_timer(c->loop, (uint64_t)WELCOME_TIMEOUT_MS * 1000000ull, welcome_overdue, c);
}

static void schedule_retry(struct client *c)
{
    if (!c->retry_timer)
        c->retry_timer = evloop_add_timer(c->loop, c->retry_ns, try_reconnect, c);
}

static void client_transmit(struct net_port *p, const struct net_pkt *pkt, uint16_t tag_vid)
{
    struct client *c = (struct client *)p;
    if (c->fd < 0 || c->awaiting_welcome) {
        p->stats.tx_dropped++;
        return;
    }
    struct net_offload o = net_offload_tagged(pkt->off, tag_vid);
    struct hub_frame_hdr h = hub_frame_hdr_make(&o);
    uint8_t tag[NET_VLAN_HLEN];
    struct iovec iov[4];
    iov[0] = (struct iovec){ &h, sizeof(h) };
    int n = net_pkt_wire_iov(pkt, tag_vid, tag, iov + 1);
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n + 1 };
    if (sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        p->stats.tx_dropped++;
        if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
            disconnect(c, strerror(errno));
    }
}

static void client_free(struct net_port *p)
{
    struct client *c = (struct client *)p;
    if (c->retry_timer)
        evloop_cancel_timer(c->loop, c->retry_timer);
    if (c->welcome_timer)
        evloop_cancel_timer(c->loop, c->welcome_timer);
    if (c->fd >= 0) {
        evloop_del_fd(c->loop, c->fd);
        close(c->fd);
    }
    if (c->spawned)
        waitpid(c->spawned, NULL, WNOHANG);
    free(c->natpf);
    free(c);
}

static const struct net_port_ops client_ops = { .transmit = client_transmit, .free = client_free };

/* The first connection, at VM start: may start the switch, and waits for
 * its welcome so that a refusal reaches the user as an error now. */
static int first_connect(struct client *c, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = connect_socket(c->path);
        if (fd < 0 && errno == EAGAIN) { /* its backlog is full: a busy switch */
            usleep(100000);
            continue;
        }
        if (fd < 0) {
            if ((errno != ENOENT && errno != ECONNREFUSED) || !c->o.switch_exe) {
                snprintf(err, errlen, "cannot reach the switch of %s '%s' at %s: %s", hub_kind_name(c->o.kind),
                         c->network, c->path, strerror(errno));
                return -1;
            }
            if (attempt == 0 || attempt == 10 || attempt == 30) {
                if (spawn_switch(c, err, errlen) < 0)
                    return -1;
            } else {
                usleep(100000);
            }
            continue;
        }
        if (send_hello(c, fd) < 0) {
            close(fd);
            usleep(100000);
            continue;
        }
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n = -1;
        if (poll(&p, 1, WELCOME_TIMEOUT_MS) == 1)
            n = recv(fd, c->buf, sizeof(c->buf), 0);
        if (n <= 0) {
            /* A switch that is shutting down as we arrive: try again. */
            close(fd);
            usleep(100000);
            continue;
        }
        if (parse_welcome(c, c->buf, n, err, errlen) < 0) {
            close(fd);
            return -1;
        }
        c->fd = fd;
        return 0;
    }
    snprintf(err, errlen, "the switch of %s '%s' did not come up (socket %s)", hub_kind_name(c->o.kind), c->network,
             c->path);
    return -1;
}

struct net_port *net_client_new(struct evloop *l, const struct net_client_opts *o, char *err, size_t errlen)
{
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->loop = l;
    c->o = *o;
    c->fd = -1;
    c->retry_ns = RETRY_NS;
    snprintf(c->network, sizeof(c->network), "%s", o->network);
    snprintf(c->client_name, sizeof(c->client_name), "%s", o->client_name ? o->client_name : "");
    if (o->switch_exe)
        snprintf(c->exe, sizeof(c->exe), "%s", o->switch_exe);
    c->o.network = c->network;
    c->o.client_name = c->client_name;
    c->o.switch_exe = o->switch_exe ? c->exe : NULL;
    c->o.natpf = NULL;
    if (o->natpf && !(c->natpf = strdup(o->natpf))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char name[64];
    snprintf(name, sizeof(name), "%s '%s'", hub_kind_name(o->kind), o->network);
    net_port_init(&c->port, &client_ops, name, true);
    if (net_rundir_file(o->kind, c->network, ".sock", c->path, sizeof(c->path), err, errlen) < 0 ||
        first_connect(c, err, errlen) < 0 || evloop_add_fd(l, c->fd, EPOLLIN, on_readable, c) < 0) {
        if (c->fd >= 0)
            close(c->fd);
        free(c->natpf);
        free(c);
        return NULL;
    }
    c->up = true;
    return &c->port;
}

bool net_client_is_up(const struct net_port *p) { return ((const struct client *)p)->up; }
unsigned net_client_mtu(const struct net_port *p) { return ((const struct client *)p)->mtu; }

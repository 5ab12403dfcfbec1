/* vireo-switchbench: how many frames per second a software switch forwards
 * from one port to another (bench/switch.py runs it against our switch,
 * vde_switch and a Linux bridge in the same invocation).
 *
 *   vireo-switchbench vireo SOCKET SIZE SECONDS   two ports of `vireo switch`
 *   vireo-switchbench vde DIR SIZE SECONDS        two ports of `vde_switch -s DIR`
 *   vireo-switchbench packet IF_A IF_B SIZE SECONDS
 *                                    AF_PACKET on two interfaces (veths into
 *                                    a bridge, in a namespace of the caller's)
 *
 * Port A sends SIZE-byte unicast frames to port B's MAC as fast as its
 * socket takes them; port B counts what arrives. After a warm-up, it
 * prints one line: "sent N received N seconds S kpps R" for the measured
 * window, R being frames received per second. Both ports first send one
 * broadcast, so a learning switch knows where B is and forwards to it
 * alone. Every port uses one system call per frame on both sides, as the
 * switches' own clients (our VMs, vde_plug) do. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "net/hub_proto.h"

#ifdef HAVE_VDEPLUG
#include <libvdeplug.h>
#endif

#define ETHERTYPE_BENCH 0x88b5 /* IEEE 802 local experimental */
#define WARMUP_S 0.5

enum kind { K_VIREO, K_VDE, K_PACKET };

struct port {
    enum kind kind;
    int fd;
#ifdef HAVE_VDEPLUG
    VDECONN *vde;
#endif
    uint8_t mac[6];
};

static atomic_bool stop;
static atomic_ulong received, sent;

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vireo-switchbench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void open_vireo(struct port *p, const char *path, const char *name)
{
    p->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (p->fd < 0 || strlen(path) >= sizeof(a.sun_path))
        die("cannot make a socket for %s", path);
    strcpy(a.sun_path, path);
    if (connect(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("cannot connect to the switch at %s: %s", path, strerror(errno));
    struct hub_hello h = { .version = HUB_VERSION };
    memcpy(h.magic, HUB_MAGIC, sizeof(h.magic));
    memcpy(h.mac, p->mac, 6);
    snprintf(h.client, sizeof(h.client), "switchbench %s", name);
    struct hub_welcome w;
    if (send(p->fd, &h, sizeof(h), 0) != sizeof(h) || recv(p->fd, &w, sizeof(w), 0) < (ssize_t)sizeof(w) ||
        w.status != 0)
        die("the switch at %s did not take the port", path);
    int sz = HUB_SOCKBUF;
    setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static void open_packet(struct port *p, const char *ifname)
{
    p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_BENCH));
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_BENCH),
                             .sll_ifindex = (int)if_nametoindex(ifname) };
    if (p->fd < 0 || a.sll_ifindex == 0 || bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("cannot open a packet socket on %s: %s", ifname, a.sll_ifindex ? strerror(errno) : "no such interface");
}

static void open_port(struct port *p, enum kind k, const char *where, const char *name)
{
    p->kind = k;
    if (k == K_VIREO) {
        open_vireo(p, where, name);
    } else if (k == K_PACKET) {
        open_packet(p, where);
    } else {
#ifdef HAVE_VDEPLUG
        char descr[32];
        snprintf(descr, sizeof(descr), "switchbench %s", name);
        p->vde = vde_open((char *)where, descr, NULL);
        if (!p->vde)
            die("cannot plug into vde_switch at %s: %s", where, strerror(errno));
#else
        die("built without libvdeplug (install libvdeplug-dev and rebuild)");
#endif
    }
}

static ssize_t port_send(struct port *p, const uint8_t *frame, size_t n)
{
    if (p->kind == K_VIREO) {
        struct hub_frame_hdr h = { .type = HUB_MSG_FRAME };
        struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)frame, n } };
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t r = sendmsg(p->fd, &m, 0);
        return r < 0 ? r : r - (ssize_t)sizeof(h);
    }
#ifdef HAVE_VDEPLUG
    if (p->kind == K_VDE)
        return vde_send(p->vde, frame, n, 0);
#endif
    return send(p->fd, frame, n, 0);
}

/* The frame's bytes (without our header), or -1. */
static ssize_t port_recv(struct port *p, uint8_t *buf, size_t len)
{
    if (p->kind == K_VIREO) {
        ssize_t n = recv(p->fd, buf, len, 0);
        if (n < (ssize_t)sizeof(struct hub_frame_hdr))
            return -1;
        memmove(buf, buf + sizeof(struct hub_frame_hdr), n - sizeof(struct hub_frame_hdr));
        return n - (ssize_t)sizeof(struct hub_frame_hdr);
    }
#ifdef HAVE_VDEPLUG
    if (p->kind == K_VDE)
        return vde_recv(p->vde, buf, len, 0);
#endif
    return recv(p->fd, buf, len, 0);
}

static void make_frame(uint8_t *f, size_t n, const uint8_t *dst, const uint8_t *src)
{
    memset(f, 0, n);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE_BENCH >> 8;
    f[13] = ETHERTYPE_BENCH & 0xff;
}

struct job {
    struct port *p;
    size_t size;
    const uint8_t *dst;
};

static void *receiver(void *arg)
{
    struct job *j = arg;
    uint8_t buf[HUB_MSG_MAX];
    while (!atomic_load(&stop)) {
        ssize_t n = port_recv(j->p, buf, sizeof(buf));
        /* Only our unicast frames from A count (the socket may also see
         * the warm-up broadcast, or other traffic on a packet socket). */
        if (n == (ssize_t)j->size && memcmp(buf, j->p->mac, 6) == 0 && buf[12] == (ETHERTYPE_BENCH >> 8))
            atomic_fetch_add_explicit(&received, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *sender(void *arg)
{
    struct job *j = arg;
    uint8_t f[HUB_MSG_MAX];
    make_frame(f, j->size, j->dst, j->p->mac);
    while (!atomic_load(&stop)) {
        errno = 0;
        ssize_t r = port_send(j->p, f, j->size);
        if (r == (ssize_t)j->size)
            atomic_fetch_add_explicit(&sent, 1, memory_order_relaxed);
        else if (r >= 0)
            die("a send took part of a frame");
        else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
            die("send failed: %s", strerror(errno));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const char usage[] = "usage: vireo-switchbench vireo SOCKET | vde DIR | packet IF_A IF_B, then SIZE SECONDS";
    if (argc < 2)
        die("%s", usage);
    enum kind k;
    if (strcmp(argv[1], "vireo") == 0)
        k = K_VIREO;
    else if (strcmp(argv[1], "vde") == 0)
        k = K_VDE;
    else if (strcmp(argv[1], "packet") == 0)
        k = K_PACKET;
    else
        die("unknown kind '%s'; %s", argv[1], usage);
    int nargs = k == K_PACKET ? 6 : 5;
    if (argc != nargs)
        die("%s", usage);
    size_t size = strtoul(argv[nargs - 2], NULL, 10);
    double seconds = strtod(argv[nargs - 1], NULL);
    if (size < 60 || size > 9014 || !(seconds > 0))
        die("SIZE must be 60-9014 bytes and SECONDS positive (got %s and %s)", argv[nargs - 2], argv[nargs - 1]);

    /* Locally administered MACs. */
    struct port a = { .mac = { 0x02, 0x5b, 0, 0, 0, 0x0a } }, b = { .mac = { 0x02, 0x5b, 0, 0, 0, 0x0b } };
    open_port(&a, k, argv[2], "A");
    open_port(&b, k, k == K_PACKET ? argv[3] : argv[2], "B");

    /* Let the switch learn both ports. */
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t f[64];
    make_frame(f, sizeof(f), bcast, b.mac);
    port_send(&b, f, sizeof(f));
    make_frame(f, sizeof(f), bcast, a.mac);
    port_send(&a, f, sizeof(f));
    usleep(100000);

    struct job rj = { &b, size, NULL }, sj = { &a, size, b.mac };
    pthread_t rt, st;
    pthread_create(&rt, NULL, receiver, &rj);
    pthread_create(&st, NULL, sender, &sj);
    usleep((useconds_t)(WARMUP_S * 1e6));
    unsigned long r0 = atomic_load(&received), s0 = atomic_load(&sent);
    double t0 = now_s();
    usleep((useconds_t)(seconds * 1e6));
    unsigned long r1 = atomic_load(&received), s1 = atomic_load(&sent);
    double t = now_s() - t0;
    printf("sent %lu received %lu seconds %.3f kpps %.1f\n", s1 - s0, r1 - r0, t, (r1 - r0) / t / 1000.0);
    fflush(stdout);
    /* The threads may sit in blocking calls: leave without joining. */
    atomic_store(&stop, true);
    _exit(0);
}

/* The detached console (vmm/console_server.c) with real sockets and files:
 * the I/O loop runs on its own thread, as in a VM process; the test thread
 * plays the vCPUs (console_server_write) and the clients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/evloop.h"
#include "base/log.h"
#include "vmm/console_server.h"

struct fx {
    char dir[64], sock[100], log[128];
    struct evloop *l;
    pthread_t th;
    struct console_server *s;
    /* Input the "guest" took, guarded by mu. */
    pthread_mutex_t mu;
    uint8_t got[4096];
    size_t got_len;
    size_t take_max; /* deliver takes at most this many bytes a call (0: all) */
    unsigned calls;
};

static struct fx *F;

static size_t deliver(void *opaque, const uint8_t *buf, size_t len)
{
    struct fx *f = opaque;
    pthread_mutex_lock(&f->mu);
    size_t n = len;
    if (f->take_max && n > f->take_max)
        n = f->take_max;
    if (n > sizeof(f->got) - f->got_len)
        n = sizeof(f->got) - f->got_len;
    memcpy(f->got + f->got_len, buf, n);
    f->got_len += n;
    f->calls++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static void *loop_main(void *arg)
{
    evloop_run(arg);
    return NULL;
}

static void start(struct fx *f, bool with_socket, bool with_log)
{
    char err[256] = "";
    f->l = evloop_new();
    assert_non_null(f->l);
    f->s = console_server_new(f->l, with_socket ? f->sock : NULL, with_log ? f->log : NULL, err, sizeof(err));
    if (!f->s)
        fprintf(stderr, "console_server_new: %s\n", err);
    assert_non_null(f->s);
    console_server_set_input(f->s, (struct console_input){ deliver, NULL, f });
    assert_int_equal(pthread_create(&f->th, NULL, loop_main, f->l), 0);
}

static void stop(struct fx *f)
{
    evloop_stop(f->l);
    pthread_join(f->th, NULL);
    console_server_free(f->s);
    evloop_free(f->l);
    f->s = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vireo-cs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof(f->sock), "%s/vm.console", f->dir);
    snprintf(f->log, sizeof(f->log), "%s/vm.console.log", f->dir);
    pthread_mutex_init(&f->mu, NULL);
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

static int attach(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Read until n bytes, EOF or timeout; returns bytes read. */
static size_t read_n(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
    size_t got = 0;
    uint64_t end = vclock_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (got < n) {
        uint64_t now = vclock_ns();
        if (now >= end)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)((end - now) / 1000000ull) + 1) <= 0)
            continue;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* True if fd reaches EOF within timeout (discarding data). */
static bool reaches_eof(int fd, int timeout_ms)
{
    uint8_t b[4096];
    uint64_t end = vclock_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (vclock_ns() < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t r = read(fd, b, sizeof(b));
        if (r == 0)
            return true;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return true;
    }
    return false;
}

static off_t fsize(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Wait until the log holds `size` bytes (the I/O thread flushed). */
static void wait_log(const char *path, off_t size)
{
    uint64_t end = vclock_ns() + 5000000000ull;
    while (fsize(path) != size && vclock_ns() < end) {
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(fsize(path), size);
}

/* Wait until the guest took n input bytes; returns what it took. */
static size_t wait_input(struct fx *f, size_t n)
{
    uint64_t end = vclock_ns() + 3000000000ull;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        size_t got = f->got_len;
        pthread_mutex_unlock(&f->mu);
        if (got >= n || vclock_ns() > end)
            return got;
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
}

static void put(struct fx *f, const char *s) { console_server_write(f->s, (const uint8_t *)s, strlen(s)); }

/* ---- tests ---- */

static void test_attach_and_replay(void **state)
{
    struct fx *f = *state;
    start(f, true, true);
    struct stat st;
    assert_int_equal(stat(f->sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    put(f, "boot line\r\n");
    wait_log(f->log, 11);
    int a = attach(f->sock);
    uint8_t buf[256];
    assert_int_equal(read_n(a, buf, 11, 2000), 11);
    assert_memory_equal(buf, "boot line\r\n", 11);
    put(f, "login: ");
    assert_int_equal(read_n(a, buf, 7, 2000), 7);
    assert_memory_equal(buf, "login: ", 7);
    /* More than the replay window: a new client gets exactly the last 64 KiB. */
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    console_server_write(f->s, big, sizeof(big));
    wait_log(f->log, 18 + (off_t)sizeof(big));
    static uint8_t got[CONSOLE_REPLAY + 16];
    int b = attach(f->sock);
    assert_int_equal(read_n(b, got, sizeof(got), 300), CONSOLE_REPLAY);
    assert_memory_equal(got, big + sizeof(big) - CONSOLE_REPLAY, CONSOLE_REPLAY);
    /* The first client had everything live. */
    static uint8_t got_a[sizeof(big)];
    assert_int_equal(read_n(a, got_a, sizeof(got_a), 2000), sizeof(big));
    assert_memory_equal(got_a, big, sizeof(big));
    /* The log has it all, in order. */
    static uint8_t logbuf[18 + sizeof(big)];
    int lf = open(f->log, O_RDONLY);
    assert_int_equal(read(lf, logbuf, sizeof(logbuf)), sizeof(logbuf));
    close(lf);
    assert_memory_equal(logbuf, "boot line\r\nlogin: ", 18);
    assert_memory_equal(logbuf + 18, big, sizeof(big));
    close(a);
    close(b);
    stop(f);
    /* The socket file goes with the server. */
    assert_int_equal(fsize(f->sock), -1);
}

static void test_socket_path(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct evloop *l = evloop_new();
    /* A stale socket (nobody listening) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    struct console_server *s = console_server_new(l, f->sock, NULL, err, sizeof(err));
    assert_non_null(s);
    /* A live one is refused. */
    assert_null(console_server_new(l, f->sock, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "in use"));
    console_server_free(s);
    /* Not a socket: refused, left alone. */
    int rf = open(f->sock, O_CREAT | O_WRONLY, 0600);
    close(rf);
    assert_null(console_server_new(l, f->sock, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "not a socket"));
    assert_int_equal(fsize(f->sock), 0);
    /* Too long. */
    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = 0;
    assert_null(console_server_new(l, longp, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "too long"));
    /* Log in a missing directory. */
    assert_null(console_server_new(l, NULL, "/nonexistent-dir/x.log", err, sizeof(err)));
    assert_non_null(strstr(err, "console log"));
    evloop_free(l);
}

static void test_log_rotation(void **state)
{
    struct fx *f = *state;
    /* An existing log is appended to. */
    int lf = open(f->log, O_CREAT | O_WRONLY, 0600);
    assert_int_equal(write(lf, "0123456789", 10), 10);
    close(lf);
    start(f, false, true);
    static uint8_t chunk[65536];
    uint64_t total = 10;
    unsigned k = 0;
    while (total < CONSOLE_LOG_MAX + 5000) {
        for (size_t i = 0; i < sizeof(chunk); i++)
            chunk[i] = (uint8_t)(k + i);
        size_t n = sizeof(chunk);
        if (total + n > CONSOLE_LOG_MAX + 5000)
            n = (size_t)(CONSOLE_LOG_MAX + 5000 - total);
        console_server_write(f->s, chunk, n);
        total += n;
        k++;
        if (total <= CONSOLE_LOG_MAX)
            wait_log(f->log, (off_t)total);
    }
    char old[160];
    snprintf(old, sizeof(old), "%s.1", f->log);
    wait_log(f->log, 5000);
    assert_int_equal(fsize(old), CONSOLE_LOG_MAX);
    struct stat st;
    assert_int_equal(stat(f->log, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* The two files continue each other: old ends with the byte before the new one's first. */
    uint8_t a, b;
    lf = open(old, O_RDONLY);
    assert_int_equal(pread(lf, &a, 1, 0), 1);
    assert_int_equal(a, '0');
    assert_int_equal(pread(lf, &a, 1, CONSOLE_LOG_MAX - 1), 1);
    close(lf);
    lf = open(f->log, O_RDONLY);
    assert_int_equal(pread(lf, &b, 1, 0), 1);
    close(lf);
    /* Byte number CONSOLE_LOG_MAX - 10 of the output (counting from 0). */
    uint64_t pos = CONSOLE_LOG_MAX - 10;
    uint8_t want_a = (uint8_t)((pos - 1) / sizeof(chunk) + (pos - 1) % sizeof(chunk));
    uint8_t want_b = (uint8_t)(pos / sizeof(chunk) + pos % sizeof(chunk));
    assert_int_equal(a, want_a);
    assert_int_equal(b, want_b);
    /* A second rotation replaces FILE.1. */
    static uint8_t fill[CONSOLE_LOG_MAX - 1000];
    memset(fill, 'z', sizeof(fill));
    console_server_write(f->s, fill, sizeof(fill));
    wait_log(f->log, 4000);
    assert_int_equal(fsize(old), CONSOLE_LOG_MAX);
    lf = open(old, O_RDONLY);
    assert_int_equal(pread(lf, &a, 1, CONSOLE_LOG_MAX - 1), 1);
    close(lf);
    assert_int_equal(a, 'z');
    stop(f);
}

struct reader {
    int fd;
    size_t want, got;
    uint8_t *buf;
    pthread_mutex_t mu;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    size_t got = read_n(r->fd, r->buf, r->want, 20000);
    pthread_mutex_lock(&r->mu);
    r->got = got;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void test_slow_client(void **state)
{
    struct fx *f = *state;
    start(f, true, false);
    int slow = attach(f->sock);
    int fast = attach(f->sock);
    /* Make sure both are attached before output starts. */
    put(f, "x");
    uint8_t one;
    assert_int_equal(read_n(fast, &one, 1, 2000), 1);
    assert_int_equal(read_n(slow, &one, 1, 2000), 1);
    const size_t total = 4u << 20;
    uint8_t *data = malloc(total), *got = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i ^ (i >> 9));
    struct reader r = { .fd = fast, .want = total, .buf = got };
    pthread_mutex_init(&r.mu, NULL);
    pthread_t rt;
    assert_int_equal(pthread_create(&rt, NULL, reader_main, &r), 0);
    uint64_t worst = 0;
    for (size_t off = 0; off < total; off += 65536) {
        uint64_t t0 = vclock_ns();
        console_server_write(f->s, data + off, 65536);
        uint64_t dt = vclock_ns() - t0;
        if (dt > worst)
            worst = dt;
        /* Pace like a guest would: never more than the pending bound ahead. */
        struct timespec ts = { 0, 3000000 };
        nanosleep(&ts, NULL);
    }
    pthread_join(rt, NULL);
    assert_int_equal(r.got, total);
    assert_memory_equal(got, data, total);
    assert_int_equal(console_server_dropped(f->s), 0);
    /* A write never waited for the slow client (nor anything else). */
    assert_true(worst < 500000000ull);
    /* The slow one was cut off: it reads some output, then the message, then EOF. */
    size_t n = read_n(slow, got, total, 3000);
    assert_true(n >= sizeof("\r\n[vireo: console client too slow; disconnected]\r\n") - 1);
    assert_true(n < total);
    const char *msg = "[vireo: console client too slow; disconnected]\r\n";
    assert_memory_equal(got + n - strlen(msg), msg, strlen(msg));
    assert_memory_equal(got, data, n - strlen(msg) - 2);
    close(slow);
    /* The fast client is still attached. */
    put(f, "still here");
    uint8_t buf[16];
    assert_int_equal(read_n(fast, buf, 10, 2000), 10);
    assert_memory_equal(buf, "still here", 10);
    close(fast);
    pthread_mutex_destroy(&r.mu);
    free(data);
    free(got);
    stop(f);
}

static void test_input(void **state)
{
    struct fx *f = *state;
    f->take_max = 2; /* a guest taking input slowly */
    start(f, true, false);
    int a = attach(f->sock);
    int b = attach(f->sock);
    assert_int_equal(write(a, "hello", 5), 5);
    assert_int_equal(wait_input(f, 5), 5);
    assert_int_equal(write(b, "!", 1), 1);
    assert_int_equal(wait_input(f, 6), 6);
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->got_len, 6);
    assert_memory_equal(f->got, "hello!", 6);
    assert_true(f->calls >= 3);
    pthread_mutex_unlock(&f->mu);
    /* A client leaving does not disturb the others. */
    close(a);
    put(f, "ok");
    uint8_t buf[4];
    assert_int_equal(read_n(b, buf, 2, 2000), 2);
    assert_memory_equal(buf, "ok", 2);
    close(b);
    stop(f);
}

static void test_client_limit(void **state)
{
    struct fx *f = *state;
    start(f, true, false);
    int c[CONSOLE_MAX_CLIENTS];
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        c[i] = attach(f->sock);
    put(f, "hi");
    uint8_t buf[128];
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
        assert_int_equal(read_n(c[i], buf, 2, 2000), 2);
        assert_memory_equal(buf, "hi", 2);
    }
    /* The ninth is told and closed. */
    int extra = attach(f->sock);
    size_t n = read_n(extra, buf, sizeof(buf), 2000);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr((char *)buf, "too many console clients"));
    close(extra);
    /* One leaves: there is room again. */
    close(c[0]);
    put(f, "yo");
    for (int i = 1; i < CONSOLE_MAX_CLIENTS; i++)
        assert_int_equal(read_n(c[i], buf, 2, 2000), 2);
    c[0] = attach(f->sock);
    assert_int_equal(read_n(c[0], buf, 4, 2000), 4);
    assert_memory_equal(buf, "hiyo", 4);
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        close(c[i]);
    stop(f);
}

static void test_free_flushes(void **state)
{
    struct fx *f = *state;
    start(f, true, true);
    int a = attach(f->sock);
    put(f, "x");
    uint8_t buf[64];
    assert_int_equal(read_n(a, buf, 1, 2000), 1);
    /* Stop the loop with output still waiting: free hands it out. */
    evloop_stop(f->l);
    pthread_join(f->th, NULL);
    put(f, "last words");
    console_server_free(f->s);
    evloop_free(f->l);
    assert_int_equal(read_n(a, buf, 10, 2000), 10);
    assert_memory_equal(buf, "last words", 10);
    assert_true(reaches_eof(a, 2000));
    close(a);
    assert_int_equal(fsize(f->log), 11);
}

/* A guest reset rebuilds the machine and its loop: the console stays. */
static void test_loop_change(void **state)
{
    struct fx *f = *state;
    start(f, true, true);
    int a = attach(f->sock);
    put(f, "before ");
    uint8_t buf[64];
    assert_int_equal(read_n(a, buf, 7, 2000), 7);
    evloop_stop(f->l);
    pthread_join(f->th, NULL);
    assert_int_equal(console_server_set_loop(f->s, NULL), 0);
    evloop_free(f->l);
    /* Output while no loop runs waits. */
    put(f, "during ");
    f->l = evloop_new();
    assert_int_equal(console_server_set_loop(f->s, f->l), 0);
    assert_int_equal(pthread_create(&f->th, NULL, loop_main, f->l), 0);
    assert_int_equal(read_n(a, buf, 7, 2000), 7);
    assert_memory_equal(buf, "during ", 7);
    put(f, "after");
    assert_int_equal(read_n(a, buf, 5, 2000), 5);
    assert_memory_equal(buf, "after", 5);
    /* Input and new clients work on the new loop. */
    assert_int_equal(write(a, "k", 1), 1);
    int b = attach(f->sock);
    assert_int_equal(read_n(b, buf, 19, 2000), 19);
    assert_memory_equal(buf, "before during after", 19);
    assert_int_equal(wait_input(f, 1), 1);
    close(a);
    close(b);
    stop(f);
    assert_int_equal(fsize(f->log), 19);
}

int main(void)
{
    vlog_set_level(VLOG_ERROR);
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_attach_and_replay),
        T(test_socket_path),
        T(test_log_rotation),
        T(test_slow_client),
        T(test_input),
        T(test_client_limit),
        T(test_free_flushes),
        T(test_loop_change),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

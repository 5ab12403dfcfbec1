#include "vmm/vcpu_sched.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "riscv/hart.h"

uint64_t vsched_cap_check(struct vsched_cap *c, unsigned pct, uint64_t wall_now, uint64_t cpu_now)
{
    if (pct >= 100 || pct == 0) {
        c->started = false;
        return 0;
    }
    if (!c->started || wall_now < c->period_start) {
        c->started = true;
        c->period_start = wall_now;
        c->cpu_start = cpu_now;
        return 0;
    }
    uint64_t quota = VSCHED_PERIOD_NS * pct / 100;
    uint64_t end = c->period_start + VSCHED_PERIOD_NS;
    uint64_t used = cpu_now > c->cpu_start ? cpu_now - c->cpu_start : 0;
    if (used >= quota) {
        /* Share used: sleep out the period. What ran past the share is
         * charged to the next period (at most one quota of it). */
        uint64_t over = used - quota;
        if (over > quota)
            over = quota;
        uint64_t sleep = end > wall_now ? end - wall_now : 0;
        c->period_start = end > wall_now ? end : wall_now;
        c->cpu_start = cpu_now - over;
        return sleep;
    }
    if (wall_now >= end) {
        /* A period ended under its share: start afresh. */
        c->period_start = wall_now;
        c->cpu_start = cpu_now;
    }
    return 0;
}

unsigned vsched_host_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (unsigned)n : 1;
}

static bool parse_num(const char **p, unsigned *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 1000000)
            return false;
        s++;
    }
    *out = (unsigned)v;
    *p = s;
    return true;
}

int vsched_parse_cpulist(const char *s, unsigned host_cpus, cpu_set_t *set, char *err, size_t errlen)
{
    CPU_ZERO(set);
    const char *p = s;
    if (!*p) {
        snprintf(err, errlen, "empty CPU list: expected CPU numbers such as 0,1 or 0-3");
        return -1;
    }
    for (;;) {
        unsigned a, b;
        if (!parse_num(&p, &a)) {
            snprintf(err, errlen, "CPU list '%s': expected CPU numbers such as 0,1 or 0-3", s);
            return -1;
        }
        b = a;
        if (*p == '-') {
            p++;
            if (!parse_num(&p, &b)) {
                snprintf(err, errlen, "CPU list '%s': expected CPU numbers such as 0,1 or 0-3", s);
                return -1;
            }
            if (b < a) {
                snprintf(err, errlen, "CPU list '%s': range %u-%u goes backwards", s, a, b);
                return -1;
            }
        }
        if (b >= host_cpus || b >= CPU_SETSIZE) {
            snprintf(err, errlen, "CPU list '%s': CPU %u does not exist (this host has CPUs 0-%u)", s, b,
                     host_cpus - 1);
            return -1;
        }
        for (unsigned c = a; c <= b; c++)
            CPU_SET(c, set);
        if (!*p)
            return 0;
        if (*p != ',') {
            snprintf(err, errlen, "CPU list '%s': expected CPU numbers such as 0,1 or 0-3", s);
            return -1;
        }
        p++;
    }
}

/* ---- per-VM state ---- */

struct vsched_vcpu {
    struct vsched *s;
    struct rv_hart *h;
    _Atomic pid_t tid;
    struct vsched_cap cap; /* the vCPU thread's own */
    /* statistics samples taken by vsched_tick (I/O thread): the older one
     * is 1-2 s old and is the base of busy_pct */
    uint64_t old_wall, old_cpu, new_wall, new_cpu;
};

struct vsched {
    unsigned n;
    _Atomic unsigned cap_pct;
    bool pinned;
    cpu_set_t affinity;
    struct vsched_vcpu *v;
};

struct vsched *vsched_new(unsigned nvcpus, unsigned cap_pct, const cpu_set_t *affinity)
{
    struct vsched *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->v = calloc(nvcpus, sizeof(*s->v));
    if (!s->v) {
        free(s);
        return NULL;
    }
    s->n = nvcpus;
    s->cap_pct = cap_pct ? cap_pct : 100;
    if (affinity && CPU_COUNT(affinity)) {
        s->pinned = true;
        s->affinity = *affinity;
    }
    for (unsigned i = 0; i < nvcpus; i++)
        s->v[i].s = s;
    return s;
}

void vsched_free(struct vsched *s)
{
    if (!s)
        return;
    free(s->v);
    free(s);
}

static void cap_hook(struct rv_hart *h, void *opaque)
{
    struct vsched_vcpu *v = opaque;
    unsigned pct = atomic_load_explicit(&v->s->cap_pct, memory_order_relaxed);
    if (pct >= 100) {
        atomic_store(&h->budget_blocks, 0);
        v->cap.started = false;
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    uint64_t cpu = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t sleep = vsched_cap_check(&v->cap, pct, vclock_ns(), cpu);
    if (sleep)
        rv_hart_throttle_sleep(h, sleep);
}

void vsched_attach(struct vsched *s, unsigned i, struct rv_hart *h)
{
    struct vsched_vcpu *v = &s->v[i];
    v->h = h;
    v->cap.started = false;
    /* the thread starts about now, with no CPU time */
    v->old_wall = v->new_wall = vclock_ns();
    v->old_cpu = v->new_cpu = 0;
    atomic_store(&v->tid, 0);
    h->budget_hook = cap_hook;
    h->budget_opaque = v;
    atomic_store(&h->budget_blocks, atomic_load(&s->cap_pct) < 100 ? VSCHED_CHECK_BLOCKS : 0);
}

void vsched_detach_all(struct vsched *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        s->v[i].h = NULL;
        atomic_store(&s->v[i].tid, 0);
    }
}

void vsched_vcpu_thread_start(struct vsched *s, unsigned i)
{
    struct vsched_vcpu *v = &s->v[i];
    pid_t tid = gettid();
    atomic_store(&v->tid, tid);
    if (s->pinned) {
        int e = pthread_setaffinity_np(pthread_self(), sizeof(s->affinity), &s->affinity);
        if (e)
            vwarn("vcpu%u: cannot set the CPU affinity: %s", i, strerror(e));
    }
}

void vsched_set_cap(struct vsched *s, unsigned pct)
{
    if (pct == 0 || pct > 100)
        pct = 100;
    atomic_store(&s->cap_pct, pct);
    for (unsigned i = 0; i < s->n; i++) {
        struct rv_hart *h = s->v[i].h;
        if (!h)
            continue;
        atomic_store(&h->budget_blocks, pct < 100 ? VSCHED_CHECK_BLOCKS : 0);
        /* back to the run loop, which picks up the new budget */
        rv_hart_kick(h, RV_EV_EXIT);
    }
}

unsigned vsched_get_cap(const struct vsched *s) { return atomic_load(&s->cap_pct); }

int vsched_set_affinity(struct vsched *s, const cpu_set_t *set, char *err, size_t errlen)
{
    cpu_set_t all;
    bool pin = set && CPU_COUNT(set) > 0;
    if (!pin) {
        CPU_ZERO(&all);
        unsigned n = vsched_host_cpus();
        for (unsigned c = 0; c < n && c < CPU_SETSIZE; c++)
            CPU_SET(c, &all);
        set = &all;
    }
    for (unsigned i = 0; i < s->n; i++) {
        pid_t tid = atomic_load(&s->v[i].tid);
        if (!tid)
            continue;
        if (sched_setaffinity(tid, sizeof(*set), set) < 0) {
            snprintf(err, errlen, "cannot pin vcpu%u to those CPUs: %s", i, strerror(errno));
            return -1;
        }
    }
    s->pinned = pin;
    if (pin)
        s->affinity = *set;
    return 0;
}

unsigned vsched_get_affinity(const struct vsched *s, unsigned *cpus, unsigned max)
{
    if (!s->pinned)
        return 0;
    unsigned n = 0;
    for (unsigned c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &s->affinity))
            cpus[n++] = c;
    return n;
}

unsigned vsched_nvcpus(const struct vsched *s) { return s->n; }

pid_t vsched_vcpu_tid(const struct vsched *s, unsigned i) { return i < s->n ? atomic_load(&s->v[i].tid) : 0; }

/* /proc/self/task/TID/schedstat: time on CPU, time waiting on a run queue
 * (both ns), timeslices. */
static bool read_schedstat(pid_t tid, uint64_t *run_ns, uint64_t *wait_ns)
{
    char path[64], buf[128];
    snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0)
        return false;
    buf[r] = 0;
    unsigned long long a, b;
    if (sscanf(buf, "%llu %llu", &a, &b) != 2)
        return false;
    *run_ns = a;
    *wait_ns = b;
    return true;
}

void vsched_tick(struct vsched *s)
{
    uint64_t now = vclock_ns();
    for (unsigned i = 0; i < s->n; i++) {
        struct vsched_vcpu *v = &s->v[i];
        pid_t tid = atomic_load(&v->tid);
        uint64_t run, wait;
        if (!tid || !read_schedstat(tid, &run, &wait))
            continue;
        v->old_wall = v->new_wall;
        v->old_cpu = v->new_cpu;
        v->new_wall = now;
        v->new_cpu = run;
    }
}

void vsched_vcpu_stats(struct vsched *s, unsigned i, struct vsched_vcpu_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (i >= s->n)
        return;
    struct vsched_vcpu *v = &s->v[i];
    if (v->h)
        out->instret = atomic_load_explicit(&v->h->stat_instret, memory_order_relaxed);
    pid_t tid = atomic_load(&v->tid);
    uint64_t run, wait;
    if (!tid || !read_schedstat(tid, &run, &wait))
        return;
    out->steal_ms = wait / 1000000;
    out->cpu_ms = run / 1000000;
    /* busy since the older tick sample (1-2 s ago) */
    uint64_t now = vclock_ns();
    if (now > v->old_wall && run >= v->old_cpu) {
        double busy = (double)(run - v->old_cpu) * 100.0 / (double)(now - v->old_wall);
        out->busy_pct = busy > 100.0 ? 100.0 : busy;
    }
}

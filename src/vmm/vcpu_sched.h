/* Scheduling of vCPU threads on the host: pause/resume (through the riscv
 * layer's rv_sys_pause), a CPU cap per vCPU thread, host CPU affinity, and
 * per-vCPU statistics read from /proc.
 *
 * CPU cap: each vCPU thread measures its own CPU time
 * (CLOCK_THREAD_CPUTIME_ID) over 100 ms periods. While a cap below 100% is
 * set, the hart runs VSCHED_CHECK_BLOCKS blocks at a time and then checks;
 * once it has used PCT% of the period it sleeps out the rest of the period
 * (on its futex: a stop or pause wakes it). Overshoot past the share (at most
 * one check interval) is charged to the next period, so the long-run share
 * is accurate.
 *
 * Affinity: every vCPU thread gets the whole CPU set (the host scheduler
 * places them within it). */
#ifndef VIREO_VMM_VCPU_SCHED_H
#define VIREO_VMM_VCPU_SCHED_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rv_hart;

#define VSCHED_PERIOD_NS 100000000ull
#define VSCHED_CHECK_BLOCKS 4096

/* ---- pure arithmetic (unit-tested) ---- */
struct vsched_cap {
    uint64_t period_start; /* wall (CLOCK_MONOTONIC) ns */
    uint64_t cpu_start;    /* thread CPU ns at the period's start */
    bool started;
};

/* Called at a check point with the current wall and thread CPU times:
 * returns how long to sleep now (0: keep running). pct is 1-100 (100: no
 * cap, always 0). After sleeping the returned time, the period is over and
 * the next call starts a new one. */
uint64_t vsched_cap_check(struct vsched_cap *c, unsigned pct, uint64_t wall_now, uint64_t cpu_now);

/* Parse a CPU list ("0,1", "0-3", "0-3,8,10-11") into set. Every CPU must be
 * below host_cpus. Returns 0, or -1 with one sentence in err. */
int vsched_parse_cpulist(const char *s, unsigned host_cpus, cpu_set_t *set, char *err, size_t errlen);
/* The host's CPUs (configured, whether online or not is checked by the
 * kernel when pinning). */
unsigned vsched_host_cpus(void);

/* ---- the vCPU threads of one VM (lives across guest resets) ---- */
struct vsched;

struct vsched_vcpu_stats {
    double busy_pct;   /* thread CPU time / wall time over the last interval */
    uint64_t steal_ms; /* run-queue wait since the thread started */
    uint64_t cpu_ms;   /* CPU time since the thread started */
    uint64_t instret;
};

/* cap_pct 1-100; affinity NULL: no pinning. */
struct vsched *vsched_new(unsigned nvcpus, unsigned cap_pct, const cpu_set_t *affinity);
void vsched_free(struct vsched *s);
/* I/O thread, before vCPU i's thread starts (and after each reset). */
void vsched_attach(struct vsched *s, unsigned i, struct rv_hart *h);
/* I/O thread, after the vCPU threads were joined. */
void vsched_detach_all(struct vsched *s);
/* On vCPU i's own thread as it starts: records its thread id, applies the
 * affinity and installs the cap check. */
void vsched_vcpu_thread_start(struct vsched *s, unsigned i);

/* Runtime changes (I/O thread). */
void vsched_set_cap(struct vsched *s, unsigned pct);
unsigned vsched_get_cap(const struct vsched *s);
/* Pin every vCPU thread to set (NULL or empty: every host CPU). Returns 0
 * or -1 with err. */
int vsched_set_affinity(struct vsched *s, const cpu_set_t *set, char *err, size_t errlen);
/* The current affinity as a list of CPUs (up to max); returns the count (0:
 * not pinned). */
unsigned vsched_get_affinity(const struct vsched *s, unsigned *cpus, unsigned max);

unsigned vsched_nvcpus(const struct vsched *s);
pid_t vsched_vcpu_tid(const struct vsched *s, unsigned i);
/* Take a statistics sample (I/O thread, once a second). */
void vsched_tick(struct vsched *s);
/* Statistics of vCPU i (I/O thread): busy_pct covers the last 1-2 s. */
void vsched_vcpu_stats(struct vsched *s, unsigned i, struct vsched_vcpu_stats *out);

#endif

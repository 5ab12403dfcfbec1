/* vCPU scheduling: the CPU cap's arithmetic (100 ms periods, overshoot
 * carried over), CPU list parsing, and pause/resume/cap on a real hart
 * running a busy loop in rv_hart_run on its own thread. */
#include <pthread.h>
#include <time.h>

#include "rv_testutil.h"
#include "base/clock.h"
#include "vmm/vcpu_sched.h"

#define MS 1000000ull
#define P VSCHED_PERIOD_NS

static void test_cap_arithmetic(void **state)
{
    (void)state;
    struct vsched_cap c = { 0 };
    /* no cap: never sleeps */
    assert_int_equal(vsched_cap_check(&c, 100, 1000 * MS, 0), 0);
    /* the first check opens a period */
    assert_int_equal(vsched_cap_check(&c, 50, 1000 * MS, 0), 0);
    /* 30 ms of CPU in 30 ms: under 50 ms, keep going */
    assert_int_equal(vsched_cap_check(&c, 50, 1030 * MS, 30 * MS), 0);
    /* 50 ms used at 50 ms: sleep out the other 50 */
    assert_int_equal(vsched_cap_check(&c, 50, 1050 * MS, 50 * MS), 50 * MS);
    /* the next period started at 1100; used 0 so far */
    assert_int_equal(vsched_cap_check(&c, 50, 1100 * MS, 50 * MS), 0);
    assert_int_equal(vsched_cap_check(&c, 50, 1140 * MS, 90 * MS), 0);
    /* overshoot: 60 ms used at 1160 (10 ms over) -> sleep 40, 10 charged */
    assert_int_equal(vsched_cap_check(&c, 50, 1160 * MS, 110 * MS), 40 * MS);
    /* next period (1200-1300) starts 10 ms in debt: 40 ms left */
    assert_int_equal(vsched_cap_check(&c, 50, 1200 * MS, 110 * MS), 0);
    assert_int_equal(vsched_cap_check(&c, 50, 1240 * MS, 150 * MS), 60 * MS);
    /* an idle period (WFI) ends under its share: a fresh one begins */
    assert_int_equal(vsched_cap_check(&c, 50, 1500 * MS, 151 * MS), 0);
    assert_int_equal(vsched_cap_check(&c, 50, 1549 * MS, 200 * MS), 0);
    assert_int_equal(vsched_cap_check(&c, 50, 1550 * MS, 201 * MS), 50 * MS);
    /* 10%: 10 ms per period */
    struct vsched_cap d = { 0 };
    assert_int_equal(vsched_cap_check(&d, 10, 0 + 1, 0), 0);
    assert_int_equal(vsched_cap_check(&d, 10, 10 * MS + 1, 10 * MS), 90 * MS);
    /* overshoot is charged at most one quota */
    struct vsched_cap e = { 0 };
    assert_int_equal(vsched_cap_check(&e, 10, 1, 0), 0);
    assert_int_equal(vsched_cap_check(&e, 10, 90 * MS + 1, 90 * MS), 10 * MS);
    assert_int_equal(e.cpu_start, 80 * MS);
    (void)P;
}

static void test_cpulist(void **state)
{
    (void)state;
    cpu_set_t s;
    char err[256];
    assert_int_equal(vsched_parse_cpulist("0", 4, &s, err, sizeof(err)), 0);
    assert_int_equal(CPU_COUNT(&s), 1);
    assert_true(CPU_ISSET(0, &s));
    assert_int_equal(vsched_parse_cpulist("0,2", 4, &s, err, sizeof(err)), 0);
    assert_int_equal(CPU_COUNT(&s), 2);
    assert_true(CPU_ISSET(2, &s));
    assert_int_equal(vsched_parse_cpulist("0-3", 4, &s, err, sizeof(err)), 0);
    assert_int_equal(CPU_COUNT(&s), 4);
    assert_int_equal(vsched_parse_cpulist("1-2,5,7-8", 16, &s, err, sizeof(err)), 0);
    assert_int_equal(CPU_COUNT(&s), 5);
    assert_true(CPU_ISSET(8, &s) && CPU_ISSET(5, &s) && !CPU_ISSET(6, &s));
    /* one clear error each */
    assert_int_equal(vsched_parse_cpulist("4", 4, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "CPU 4 does not exist"));
    assert_int_equal(vsched_parse_cpulist("0-9", 4, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not exist"));
    assert_int_equal(vsched_parse_cpulist("3-1", 4, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "backwards"));
    const char *bad[] = { "", "a", "1,", ",1", "1-", "-1", "1--2", "1,,2", "1 2", "0x1", "99999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vsched_parse_cpulist(bad[i], 4, &s, err, sizeof(err)), -1);
}

/* ---- a real hart: "loop: addi a0, a0, 1; j loop" ---- */

static void *hart_thread(void *arg)
{
    struct rv_hart *h = arg;
    vsched_vcpu_thread_start(h->vcpu, 0);
    rv_hart_run(h);
    return NULL;
}

static uint64_t thread_cpu_ns(pthread_t t)
{
    clockid_t cid;
    struct timespec ts;
    assert_int_equal(pthread_getcpuclockid(t, &cid), 0);
    clock_gettime(cid, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static void test_pause_resume_cap(void **state)
{
    struct rvt *t = *state;
    struct rv_hart *h = rvt_hart(t, 0);
    rvt_code(t, RVT_CODE, rvi_addi(A0, A0, 1), rvi_j(-4));
    atomic_store(&h->run_state, RV_HART_RUNNING);
    struct vsched *s = vsched_new(1, 100, NULL);
    assert_non_null(s);
    vsched_attach(s, 0, h);
    h->vcpu = s;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hart_thread, h), 0);
    sleep_ms(100);
    assert_true(atomic_load(&h->stat_instret) > 0);

    /* paused: no progress, no CPU */
    rv_sys_pause(&t->sys, true);
    sleep_ms(50);
    uint64_t i0 = atomic_load(&h->stat_instret), c0 = thread_cpu_ns(th);
    sleep_ms(300);
    assert_int_equal(atomic_load(&h->stat_instret), i0);
    assert_true(thread_cpu_ns(th) - c0 < 5 * MS);
    /* an interrupt kick while paused wakes it only to sleep again */
    rv_hart_set_irq(h, MIP_MSIP, true);
    sleep_ms(20);
    assert_int_equal(atomic_load(&h->stat_instret), i0);
    assert_true(atomic_load(&h->mip) & MIP_MSIP); /* still pending */
    rv_hart_set_irq(h, MIP_MSIP, false);

    /* resumed: runs again */
    rv_sys_pause(&t->sys, false);
    sleep_ms(100);
    assert_true(atomic_load(&h->stat_instret) > i0);

    /* a 30% cap, set while it runs */
    vsched_set_cap(s, 30);
    sleep_ms(200);
    uint64_t w1 = vclock_ns(), c1 = thread_cpu_ns(th);
    sleep_ms(1000);
    double share = (double)(thread_cpu_ns(th) - c1) / (double)(vclock_ns() - w1);
    print_message("capped at 30%%: used %.1f%%\n", share * 100);
    assert_true(share > 0.22 && share < 0.38);
    vsched_set_cap(s, 100);

    /* stop while paused: the thread leaves */
    rv_sys_pause(&t->sys, true);
    sleep_ms(20);
    rv_sys_stop(&t->sys, 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    vsched_detach_all(s);
    vsched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_arithmetic),
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test_setup_teardown(test_pause_resume_cap, rvt_setup_1hart, rvt_teardown),
    };
    return cmocka_run_group_tests_name("vcpu_sched", tests, NULL, NULL);
}

/* src/mgmt/api.c in-process: the API on a temp socket, spoken to with a
 * tiny HTTP client: routes, errors, limits, the event stream, and a VM
 * lifecycle (supervisor.c) against a fake `vireo run`: a Python script,
 * written into the temp dir, that keeps the state file and speaks the
 * control protocol of docs/management.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mgmt/api.h"
#include "mgmt/paths.h"
#include "mgmt/store.h"
#include "mgmt/supervisor.h"

static const char fake_src[] =
    "#!/usr/bin/env python3\n"
    "import sys, os, json, socket, time\n"
    "args = {}\n"
    "for a in sys.argv[2:]:\n"
    "    if a.startswith('--') and '=' in a:\n"
    "        k, v = a[2:].split('=', 1); args.setdefault(k, []).append(v)\n"
    "ctl = args['control'][0]; statef = args['state-file'][0]\n"
    "def write_state(d):\n"
    "    tmp = statef + '.tmp'; open(tmp, 'w').write(json.dumps(d)); os.rename(tmp, statef)\n"
    "pid = os.getpid(); started = time.time_ns()\n"
    "write_state({'pid': pid, 'started': started, 'state': 'running'})\n"
    "s = socket.socket(socket.AF_UNIX); s.bind(ctl); s.listen(8)\n"
    "state = 'running'\n"
    "def stop(reason):\n"
    "    write_state({'pid': pid, 'started': started, 'state': 'stopped', 'exit': {'status': 0, 'reason': reason}})\n"
    "    os.unlink(ctl); os._exit(0)\n"
    "while True:\n"
    "    c, _ = s.accept(); f = c.makefile('rw')\n"
    "    for line in f:\n"
    "        q = json.loads(line); op = q.get('op')\n"
    "        if op == 'status': a = {'ok': True, 'state': state, 'pid': pid, 'vcpus': int(args['cpus'][0])}\n"
    "        elif op == 'pause': state = 'paused'; a = {'ok': True}\n"
    "        elif op == 'resume': state = 'running'; a = {'ok': True}\n"
    "        elif op == 'stats': a = {'ok': True, 'vcpus': [{'busy_pct': 0, 'steal_ms': 0, 'instret': 0}],\n"
    "                                 'memory': {'assigned': 1, 'resident': 1}, 'disks': [], 'nics': []}\n"
    "        elif op == 'set' and os.environ.get('FAKE_DEAF'): a = {'ok': False, 'error': 'no cap today'}\n"
    "        elif op == 'set': a = {'ok': True}\n"
    "        elif op == 'power-button' and os.environ.get('FAKE_DEAF'): a = {'ok': True}\n"
    "        elif op in ('power-button', 'poweroff'):\n"
    "            f.write(json.dumps({'ok': True}) + '\\n'); f.flush(); c.close()\n"
    "            if op == 'power-button': time.sleep(0.2)\n"
    "            stop('poweroff')\n"
    "        else: a = {'ok': False, 'error': 'unknown op'}\n"
    "        f.write(json.dumps(a) + '\\n'); f.flush()\n"
    "    c.close()\n";

static char dir[256], sock[108], fake[400];
static struct store *st;
static struct sup *sup;
static struct api *api;
static struct store_host host = { .cpus = 2, .memory = 2ull << 30 };

static int setup(void **state)
{
    (void)state;
    char err[256];
    snprintf(dir, sizeof(dir), "/tmp/vireo-api-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mgmt_make_dirs(dir, err, sizeof(err)), 0);
    st = store_open(dir, &host, err, sizeof(err));
    assert_non_null(st);
    snprintf(fake, sizeof(fake), "%s/fake-vireo", dir);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fputs(fake_src, f);
    fclose(f);
    chmod(fake, 0755);
    api = api_new(st, &host);
    sup = sup_new(dir, fake, st, false, api_event, api, err, sizeof(err));
    assert_non_null(sup);
    mgmt_path(sock, sizeof(sock), dir, MGMT_API_SOCK, NULL);
    int fd = api_listen_unix(sock, (gid_t)-1, err, sizeof(err));
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(stat(sock, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(api_start(api, fd, sup, 2000, err, sizeof(err)), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    api_free(api);
    sup_free(sup);
    store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int conn(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("connect: %s", strerror(errno));
    return fd;
}

/* One request; the status; *body the parsed JSON (NULL if none). */
static int http(const char *method, const char *path, const char *body, json_t **out)
{
    int fd = conn();
    char req[1024];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                     method, path, blen);
    assert_int_equal(write(fd, req, (size_t)n), n);
    if (blen)
        assert_int_equal(write(fd, body, blen), (ssize_t)blen);
    static char buf[1 << 20];
    size_t len = 0;
    struct timeval tv = { 90, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = 0;
    int status = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        fail_msg("no status line in '%s'", buf);
    char *b = strstr(buf, "\r\n\r\n");
    if (out)
        *out = b ? json_loads(b + 4, JSON_DECODE_ANY, NULL) : NULL;
    return status;
}

static int http_err(const char *method, const char *path, const char *body, const char *word)
{
    json_t *o = NULL;
    int s = http(method, path, body, &o);
    const char *e = json_string_value(json_object_get(o, "error"));
    if (!e)
        fail_msg("%s %s: no error message (status %d)", method, path, s);
    if (word && !strstr(e, word))
        fail_msg("%s %s: error '%s' does not name '%s'", method, path, e, word);
    json_decref(o);
    return s;
}

static void test_routes(void **state)
{
    (void)state;
    json_t *o;
    assert_int_equal(http("GET", "/v1/host", NULL, &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "cpus")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "vms_running")), 0);
    json_decref(o);

    assert_int_equal(http("POST", "/v1/vms", "{\"name\": \"web\", \"memory\": 67108864}", &o), 201);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "stopped");
    assert_null(json_object_get(o, "pid"));
    json_decref(o);
    assert_int_equal(http("GET", "/v1/vms", NULL, &o), 200);
    assert_int_equal(json_array_size(o), 1);
    json_decref(o);
    assert_int_equal(http("GET", "/v1/vms/web", NULL, &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "memory")), 67108864);
    json_decref(o);
    assert_int_equal(http("PATCH", "/v1/vms/web", "{\"cpus\": 2, \"cpu_cap\": 40}", &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "cpus")), 2);
    json_decref(o);

    /* errors */
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"web\"}", "already exists"), 409);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": ", "malformed JSON"), 400);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"a\", \"name\": \"b\"}", NULL), 400);
    assert_int_equal(http_err("POST", "/v1/vms", NULL, NULL), 400);
    assert_int_equal(http_err("POST", "/v1/vms", "[1]", NULL), 422);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"x\", \"turbo\": true}", "turbo"), 422);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"x/y\"}", "name"), 422);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"x\\ty\"}", "name"), 422);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"x\", \"cpus\": 3}", "2 logical CPUs"), 422);
    assert_int_equal(http_err("POST", "/v1/vms", "{\"name\": \"x\", \"memory\": 4294967296}", "memory"), 422);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", "{\"cpus\": 9}", "cpus"), 422);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", "{\"nics\": [{\"spec\": \"natnetwork=zz\"}]}", "zz"), 422);
    assert_int_equal(http_err("GET", "/v1/vms/nope", NULL, "nope"), 404);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", NULL, "body"), 400);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", "[]", NULL), 422);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", "{\"name\": \"other\"}", "name"), 422);
    assert_int_equal(http_err("PATCH", "/v1/vms/web", "{\"uuid\": \"x\"}", "uuid"), 422);
    assert_int_equal(http_err("GET", "/v1/vms/..%2Fetc", NULL, NULL), 404);
    assert_int_equal(http_err("GET", "/v2/vms", NULL, NULL), 404);
    assert_int_equal(http_err("PUT", "/v1/vms", NULL, "not allowed"), 405);
    assert_int_equal(http_err("POST", "/v1/vms/web/stop", NULL, "stopped"), 409);
    assert_int_equal(http_err("POST", "/v1/vms/web/pause", NULL, "stopped"), 409);
    assert_int_equal(http_err("POST", "/v1/vms/web/resume", NULL, "stopped"), 409);
    assert_int_equal(http_err("GET", "/v1/vms/web/stats", NULL, "stopped"), 409);
    assert_int_equal(http_err("POST", "/v1/vms/web/jump", NULL, "jump"), 404);
    /* nothing changed */
    assert_int_equal(http("GET", "/v1/vms", NULL, &o), 200);
    assert_int_equal(json_array_size(o), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(o, 0), "cpus")), 2);
    json_decref(o);

    /* networks */
    assert_int_equal(http("POST", "/v1/networks", "{\"name\": \"lab\", \"kind\": \"intnet\"}", &o), 201);
    json_decref(o);
    assert_int_equal(http_err("POST", "/v1/networks", "{\"name\": \"lab\", \"kind\": \"intnet\"}", "lab"), 409);
    assert_int_equal(http_err("POST", "/v1/networks", "{\"name\": \"x\", \"kind\": \"warp\"}", "kind"), 422);
    assert_int_equal(http("GET", "/v1/networks", NULL, &o), 200);
    assert_int_equal(json_array_size(o), 1);
    json_decref(o);
    assert_int_equal(http("GET", "/v1/networks/lab", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "intnet");
    json_decref(o);
    assert_int_equal(http("DELETE", "/v1/networks/lab", NULL, NULL), 200);
    assert_int_equal(http_err("GET", "/v1/networks/lab", NULL, "lab"), 404);

    assert_int_equal(http("DELETE", "/v1/vms/web", NULL, NULL), 200);
    assert_int_equal(http_err("DELETE", "/v1/vms/web", NULL, "web"), 404);
}

static void test_body_limit(void **state)
{
    (void)state;
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = 0;
    assert_int_equal(http_err("POST", "/v1/vms", big, "65536"), 413);
    free(big);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1000 idle connections and a client sending one byte at a time do not
 * hold up a normal request. */
static void test_limits(void **state)
{
    (void)state;
    enum { N = 1000 };
    static int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = conn();
    int slow = conn();
    const char *part = "GET /v1/host HTTP/1.1\r\nHo";
    for (const char *p = part; *p; p++) {
        assert_int_equal(write(slow, p, 1), 1);
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    double t0 = now_s();
    json_t *o;
    assert_int_equal(http("GET", "/v1/host", NULL, &o), 200);
    json_decref(o);
    double dt = now_s() - t0;
    if (dt > 2.0)
        fail_msg("a normal request took %.2f s", dt);
    /* the slow one finishes and is answered too */
    assert_int_equal(write(slow, "st: x\r\nConnection: close\r\n\r\n", 29), 29);
    char buf[512];
    struct timeval tv = { 10, 0 };
    setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssize_t r = read(slow, buf, sizeof(buf) - 1);
    assert_true(r > 12);
    buf[r] = 0;
    assert_non_null(strstr(buf, "200"));
    close(slow);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

/* Read from fd until a line containing word arrives (10 s). */
static bool wait_line(int fd, const char *word)
{
    static char buf[65536];
    static size_t len;
    double end = now_s() + 10;
    while (now_s() < end) {
        buf[len] = 0;
        if (strstr(buf, word)) {
            len = 0;
            return true;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 200) > 0) {
            ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
            if (r <= 0)
                return false;
            len += (size_t)r;
        }
    }
    return false;
}

static void test_events(void **state)
{
    (void)state;
    int fd = conn();
    const char *req = "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    assert_true(wait_line(fd, "\r\n\r\n"));
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "time", "t", "type", "vm-state", "vm", "w1", "state", "running");
    api_event(api, ev);
    json_decref(ev);
    assert_true(wait_line(fd, "\"vm\":\"w1\""));
    ev = json_pack("{s:s, s:s, s:s, s:s}", "time", "t", "type", "vm-state", "vm", "w2", "state", "aborted");
    api_event(api, ev);
    json_decref(ev);
    assert_true(wait_line(fd, "\"vm\":\"w2\""));
    /* other requests go on meanwhile */
    assert_int_equal(http("GET", "/v1/host", NULL, NULL), 200);
    close(fd);
    /* a closed stream is noticed at the next event */
    ev = json_pack("{s:s}", "type", "x");
    api_event(api, ev);
    json_decref(ev);
}

/* The lifecycle against a fake `vireo run` that speaks the control protocol. */
static void test_lifecycle(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) < 0)
        skip();
    json_t *o;
    int ev = conn();
    const char *req = "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(ev, req, strlen(req)), (ssize_t)strlen(req));
    assert_int_equal(http("POST", "/v1/vms", "{\"name\": \"fake\", \"cpus\": 2}", NULL), 201);
    assert_int_equal(http("POST", "/v1/vms/fake/start", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
    assert_true(json_integer_value(json_object_get(o, "pid")) > 0);
    json_decref(o);
    assert_true(wait_line(ev, "\"state\":\"running\""));
    assert_int_equal(http_err("POST", "/v1/vms/fake/start", NULL, "running"), 409);
    assert_int_equal(http_err("DELETE", "/v1/vms/fake", NULL, "stop it first"), 409);
    assert_int_equal(http_err("PATCH", "/v1/vms/fake", "{\"cpus\": 1}", "cpus"), 409);
    assert_int_equal(http("PATCH", "/v1/vms/fake", "{\"cpu_cap\": 30}", &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "cpu_cap")), 30);
    json_decref(o);
    assert_int_equal(http("GET", "/v1/host", NULL, &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "vcpus_running")), 2);
    json_decref(o);
    assert_int_equal(http("POST", "/v1/vms/fake/pause", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "paused");
    json_decref(o);
    assert_int_equal(http("POST", "/v1/vms/fake/resume", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
    json_decref(o);
    assert_int_equal(http("GET", "/v1/vms/fake/stats", NULL, &o), 200);
    assert_non_null(json_object_get(o, "vcpus"));
    json_decref(o);
    assert_int_equal(http("POST", "/v1/vms/fake/stop", "{\"timeout\": 5}", &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "stopped");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "stop"), "how")), "guest-shutdown");
    json_decref(o);
    assert_true(wait_line(ev, "\"state\":\"stopped\""));

    /* a guest that ignores the power button is powered off after the timeout */
    setenv("FAKE_DEAF", "1", 1);
    assert_int_equal(http("POST", "/v1/vms/fake/start", NULL, NULL), 200);
    unsetenv("FAKE_DEAF");
    /* a live change the VM refuses is not kept */
    assert_int_equal(http_err("PATCH", "/v1/vms/fake", "{\"cpu_cap\": 70}", "no cap today"), 500);
    assert_int_equal(http("GET", "/v1/vms/fake", NULL, &o), 200);
    assert_int_equal(json_integer_value(json_object_get(o, "cpu_cap")), 30);
    json_decref(o);
    /* a second supervisor (a restarted daemon) finds the running VM again */
    char err[256];
    sup_lock(sup);
    pid_t pid1 = 0;
    assert_string_equal(sup_vm_state(sup, "fake", &pid1), "running");
    sup_unlock(sup);
    struct sup *sup2 = sup_new(dir, fake, st, false, NULL, NULL, err, sizeof(err));
    assert_non_null(sup2);
    pid_t pid2 = 0;
    sup_lock(sup2);
    assert_string_equal(sup_vm_state(sup2, "fake", &pid2), "running");
    unsigned vms, vcpus;
    sup_totals(sup2, &vms, &vcpus);
    sup_unlock(sup2);
    assert_int_equal(pid1, pid2);
    assert_int_equal(vcpus, 2);
    sup_free(sup2);
    assert_int_equal(http("POST", "/v1/vms/fake/stop", "{\"timeout\": 1}", &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "stopped");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "stop"), "how")),
                        "poweroff-after-timeout");
    assert_non_null(strstr(json_string_value(json_object_get(o, "message")), "within 1 s"));
    json_decref(o);

    /* killed: aborted */
    assert_int_equal(http("POST", "/v1/vms/fake/start", NULL, &o), 200);
    pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    json_decref(o);
    kill(pid, SIGKILL);
    assert_true(wait_line(ev, "\"state\":\"aborted\""));
    assert_int_equal(http("GET", "/v1/vms/fake", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "aborted");
    json_decref(o);
    /* start again, poweroff */
    assert_int_equal(http("POST", "/v1/vms/fake/start", NULL, NULL), 200);
    assert_int_equal(http("POST", "/v1/vms/fake/poweroff", NULL, &o), 200);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "stopped");
    json_decref(o);
    assert_int_equal(http("DELETE", "/v1/vms/fake", NULL, NULL), 200);
    close(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

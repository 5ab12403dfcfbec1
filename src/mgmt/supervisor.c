/* VM processes and network switches of vireod: see supervisor.h. */
#include "mgmt/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/paths.h"
#include "net/rundir.h"

extern char **environ;

#define NET_BIT (1ull << 32)

struct vmrt {
    char name[MGMT_NAME_MAX + 1];
    pid_t pid;
    int pidfd;
    bool paused;
    unsigned vcpus;
    struct vmrt *next;
};

struct netrt {
    char name[MGMT_NAME_MAX + 1];
    json_t *def;
    pid_t pid;         /* 0: none of ours */
    int pidfd;
    bool deleting;
    time_t next_try;
    struct netrt *next;
};

struct sup {
    char data[4096];
    char bin[4096];
    struct store *st;
    pthread_mutex_t lock;
    sup_event_fn fn;
    void *arg;
    int epfd, wakefd;
    pthread_t thread;
    bool thread_started, quit;
    struct vmrt *vms;
    struct netrt *nets;
};

void sup_lock(struct sup *s) { pthread_mutex_lock(&s->lock); }
void sup_unlock(struct sup *s) { pthread_mutex_unlock(&s->lock); }

static struct vmrt *vm_find(struct sup *s, const char *name)
{
    for (struct vmrt *v = s->vms; v; v = v->next)
        if (!strcmp(v->name, name))
            return v;
    return NULL;
}

static struct netrt *net_find(struct sup *s, const char *name)
{
    for (struct netrt *n = s->nets; n; n = n->next)
        if (!strcmp(n->name, name) && !n->deleting)
            return n;
    return NULL;
}

static void emit(struct sup *s, const char *vm, const char *state, const char *reason)
{
    if (!s->fn)
        return;
    char t[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof(t) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "time", t, "type", "vm-state", "vm", vm, "state", state);
    if (reason)
        json_object_set_new(ev, "reason", json_string(reason));
    s->fn(s->arg, ev);
    json_decref(ev);
}

static json_t *read_state(struct sup *s, const char *name)
{
    char p[4200];
    if (mgmt_path(p, sizeof(p), s->data, MGMT_VM_STATE, name) < 0)
        return NULL;
    return json_load_file(p, 0, NULL);
}

/* A live process that is a vireo program. */
static bool pid_is_vireo(pid_t pid)
{
    char p[64], buf[4096];
    snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    for (ssize_t i = 0; i < n; i++)   /* the arguments are NUL-separated */
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = 0;
    return strstr(buf, "vireo") != NULL;
}

const char *sup_vm_state(struct sup *s, const char *name, pid_t *pid)
{
    struct vmrt *v = vm_find(s, name);
    if (pid)
        *pid = v ? v->pid : 0;
    if (v)
        return v->paused ? "paused" : "running";
    json_t *st = read_state(s, name);
    const char *r = "stopped";
    if (st && !strcmp(json_string_value(json_object_get(st, "state")) ?: "", "running"))
        r = "aborted";
    json_decref(st);
    return r;
}

void sup_totals(struct sup *s, unsigned *vms_running, unsigned *vcpus_running)
{
    *vms_running = *vcpus_running = 0;
    for (struct vmrt *v = s->vms; v; v = v->next) {
        (*vms_running)++;
        *vcpus_running += v->vcpus;
    }
}

/* ---- spawning ---- */

struct argv {
    char **v;
    size_t n, cap;
};

static void arg(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct argv *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = realloc(a->v, a->cap * sizeof(char *));
        if (!a->v)
            abort();
    }
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&a->v[a->n], fmt, ap) < 0)
        abort();
    va_end(ap);
    a->v[++a->n] = NULL;
}

static void argv_free(struct argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* posix_spawn argv in its own session, stdin /dev/null, stdout and stderr
 * to log. The pid, or -1. */
static pid_t spawn(struct sup *s, struct argv *a, const char *log, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGHUP);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGCHLD);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int e = posix_spawn(&pid, s->bin, &fa, &at, a->v, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e) {
        snprintf(err, errlen, "cannot run %s: %s", s->bin, strerror(e));
        return -1;
    }
    return pid;
}

static int watch(struct sup *s, pid_t pid, uint64_t tag)
{
    int fd = pidfd_open(pid, 0);
    if (fd < 0)
        return -1;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag | (uint64_t)(unsigned)fd };
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void unwatch(struct sup *s, int fd)
{
    if (fd >= 0) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
    }
}

static void vm_paths(struct sup *s, const char *name, char ctl[4200], char state[4200], char con[4200],
                     char clog[4200], char log[4200])
{
    mgmt_path(ctl, 4200, s->data, MGMT_VM_CTL, name);
    mgmt_path(state, 4200, s->data, MGMT_VM_STATE, name);
    mgmt_path(con, 4200, s->data, MGMT_VM_CONSOLE, name);
    mgmt_path(clog, 4200, s->data, MGMT_CONSOLE_LOG, name);
    snprintf(log, 4200, "%s/logs/%s.log", s->data, name);
}

int sup_vm_spawn(struct sup *s, json_t *def, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(def, "name"));
    if (vm_find(s, name)) {
        snprintf(err, errlen, "it is already running");
        return -1;
    }
    char ctl[4200], state[4200], con[4200], clog[4200], log[4200];
    vm_paths(s, name, ctl, state, con, clog, log);
    unlink(state);
    unlink(ctl);
    unlink(con);
    struct argv a = { 0 };
    arg(&a, "%s", s->bin);
    arg(&a, "run");
    arg(&a, "--name=%s", name);
    arg(&a, "--control=%s", ctl);
    arg(&a, "--state-file=%s", state);
    arg(&a, "--console-socket=%s", con);
    arg(&a, "--console-log=%s", clog);
    arg(&a, "--cpu-cap=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(def, "cpu_cap")));
    json_t *balloon = json_object_get(def, "balloon");
    if (json_is_integer(balloon))
        arg(&a, "--balloon=%" JSON_INTEGER_FORMAT, json_integer_value(balloon));
    json_t *aff = json_object_get(def, "cpu_affinity");
    if (json_array_size(aff)) {
        char list[4096] = "";
        size_t i, off = 0;
        json_t *e;
        json_array_foreach(aff, i, e) {
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                                    json_integer_value(e));
            if (off >= sizeof(list))
                break;
        }
        arg(&a, "--cpu-affinity=%s", list);
    }
    arg(&a, "--cpus=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(def, "cpus")));
    arg(&a, "--memory=%" JSON_INTEGER_FORMAT "K", json_integer_value(json_object_get(def, "memory")) / 1024);
    json_t *v;
    if (json_is_string(v = json_object_get(def, "kernel")))
        arg(&a, "--kernel=%s", json_string_value(v));
    if (json_is_string(v = json_object_get(def, "initrd")))
        arg(&a, "--initrd=%s", json_string_value(v));
    if (json_is_string(v = json_object_get(def, "cmdline")))
        arg(&a, "--cmdline=%s", json_string_value(v));
    if (json_string_length(v = json_object_get(def, "append")))
        arg(&a, "--append=%s", json_string_value(v));
    arg(&a, "--firmware=%s", json_string_value(json_object_get(def, "firmware")));
    size_t i, j;
    json_t *e, *r;
    json_array_foreach(json_object_get(def, "disks"), i, e) {
        arg(&a, "--disk=%s%s", json_string_value(json_object_get(e, "path")),
            json_is_true(json_object_get(e, "readonly")) ? ",readonly" : "");
    }
    json_t *nics = json_object_get(def, "nics");
    if (!json_array_size(nics))
        arg(&a, "--no-nic");
    json_array_foreach(nics, i, e) {
        arg(&a, "--nic=%s", json_string_value(json_object_get(e, "spec")));
        json_array_foreach(json_object_get(e, "natpf"), j, r)
            arg(&a, "--natpf=%s", json_string_value(r));
    }
    pid_t pid = spawn(s, &a, log, err, errlen);
    argv_free(&a);
    if (pid < 0)
        return -1;
    struct vmrt *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        kill(pid, SIGKILL);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(rt->name, sizeof(rt->name), "%s", name);
    rt->pid = pid;
    rt->vcpus = (unsigned)json_integer_value(json_object_get(def, "cpus"));
    rt->pidfd = watch(s, pid, 0);
    if (rt->pidfd < 0) {
        snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        free(rt);
        return -1;
    }
    rt->next = s->vms;
    s->vms = rt;
    emit(s, name, "running", NULL);
    return 0;
}

static void last_line(const char *path, char *out, size_t len)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = 0;
    if (fd >= 0) {
        off_t sz = lseek(fd, 0, SEEK_END);
        off_t at = sz > (off_t)sizeof(buf) - 1 ? sz - (off_t)sizeof(buf) + 1 : 0;
        n = pread(fd, buf, sizeof(buf) - 1, at);
        close(fd);
    }
    if (n <= 0) {
        snprintf(out, len, "the VM process exited at once (no message)");
        return;
    }
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    char *nl = strrchr(buf, '\n');
    snprintf(out, len, "%s", nl ? nl + 1 : buf);
}

static int ctl_connect(struct sup *s, const char *name, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char ctl[4200];
    if (mgmt_path(ctl, sizeof(ctl), s->data, MGMT_VM_CTL, name) < 0 || strlen(ctl) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, ctl, strlen(ctl) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

int sup_vm_wait_ready(struct sup *s, const char *name, int timeout_ms, char *err, size_t errlen)
{
    char ctl[4200], state[4200], con[4200], clog[4200], log[4200];
    vm_paths(s, name, ctl, state, con, clog, log);
    for (int waited = 0;; waited += 20) {
        sup_lock(s);
        bool alive = vm_find(s, name) != NULL;
        sup_unlock(s);
        if (!alive) {
            last_line(log, err, errlen);
            return -1;
        }
        /* The socket exists before the machine is built; the VM process
         * answers on it only once its machine runs. A VM that cannot load
         * its kernel closes the connection instead, and is reported above
         * on the next round. */
        int fd = ctl_connect(s, name, 1000);
        if (fd >= 0) {
            static const char q[] = "{\"op\":\"status\"}\n";
            bool answered = false;
            if (send(fd, q, sizeof(q) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(q) - 1) {
                /* the whole answer line: closing with unread bytes would
                 * reset the connection under the VM's feet */
                char buf[512];
                ssize_t n;
                while (!answered && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
                    answered = memchr(buf, '\n', (size_t)n) != NULL;
            }
            close(fd);
            if (answered)
                return 0;
        }
        if (waited >= timeout_ms) {
            snprintf(err, errlen, "its control socket did not appear within %d s (see %s)", timeout_ms / 1000, log);
            return -1;
        }
        msleep(20);
    }
}

json_t *sup_vm_control(struct sup *s, const char *name, json_t *req, char *err, size_t errlen)
{
    int fd = ctl_connect(s, name, 10000);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach its control socket: %s", strerror(errno));
        return NULL;
    }
    char *line = json_dumps(req, JSON_COMPACT);
    size_t n = line ? strlen(line) : 0;
    bool ok = line && write(fd, line, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    free(line);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    while (ok) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = cap <= (1u << 20) ? realloc(buf, cap) : NULL;
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ok = false;
            break;
        }
        len += (size_t)r;
        buf[len] = 0;
        if (memchr(buf, '\n', len))
            break;
    }
    close(fd);
    if (!ok) {
        free(buf);
        snprintf(err, errlen, "no answer on its control socket");
        return NULL;
    }
    json_t *ans = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', len) - buf), 0, NULL);
    free(buf);
    if (!json_is_object(ans)) {
        json_decref(ans);
        snprintf(err, errlen, "a malformed answer on its control socket");
        return NULL;
    }
    if (!json_is_true(json_object_get(ans, "ok"))) {
        snprintf(err, errlen, "%s", json_string_value(json_object_get(ans, "error")) ?: "the request was refused");
        json_decref(ans);
        return NULL;
    }
    return ans;
}

/* Wait up to ms for the process behind pidfd to end. */
static bool wait_exit(int pidfd, int ms)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

json_t *sup_vm_stop(struct sup *s, const char *name, int timeout_s, char *err, size_t errlen)
{
    sup_lock(s);
    struct vmrt *v = vm_find(s, name);
    pid_t pid = v ? v->pid : 0;
    bool paused = v && v->paused;
    sup_unlock(s);
    if (!pid) {
        snprintf(err, errlen, "it is not running");
        return NULL;
    }
    int fd = pidfd_open(pid, 0);
    if (fd < 0) {
        snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
        return NULL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *how = "guest-shutdown";
    char button_err[256] = "";
    bool gone = false;
    if (timeout_s >= 0) {
        if (paused) {   /* a paused guest cannot hear the button */
            json_t *q = json_pack("{s:s}", "op", "resume"), *a;
            char e2[256];
            a = sup_vm_control(s, name, q, e2, sizeof(e2));
            bool resumed = a != NULL;
            json_decref(q);
            json_decref(a);
            if (resumed) {
                sup_lock(s);
                sup_vm_set_paused(s, name, false);
                sup_unlock(s);
            }
        }
        json_t *q = json_pack("{s:s}", "op", "power-button"), *a;
        if ((a = sup_vm_control(s, name, q, button_err, sizeof(button_err))))
            gone = wait_exit(fd, timeout_s * 1000);
        else
            how = "poweroff";   /* the button was refused: said below */
        json_decref(q);
        json_decref(a);
    }
    if (!gone) {
        if (timeout_s >= 0 && !button_err[0])
            how = "poweroff-after-timeout";
        else
            how = "poweroff";
        json_t *q = json_pack("{s:s}", "op", "poweroff"), *a;
        char e2[256];
        a = sup_vm_control(s, name, q, e2, sizeof(e2));
        json_decref(q);
        json_decref(a);
        gone = wait_exit(fd, 10000);
        if (!gone) {
            how = "killed";
            pidfd_send_signal(fd, SIGKILL, NULL, 0);
            gone = wait_exit(fd, 5000);
        }
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* let the watcher note the exit, so the answer shows the new state */
    for (int i = 0; i < 200; i++) {
        sup_lock(s);
        v = vm_find(s, name);
        bool still = v && v->pid == pid;
        sup_unlock(s);
        if (!still)
            break;
        msleep(10);
    }
    if (!gone) {
        snprintf(err, errlen, "process %d did not exit", (int)pid);
        return NULL;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    json_t *res = json_pack("{s:s, s:f}", "how", how, "seconds", secs);
    if (button_err[0])
        json_object_set_new(res, "power_button_error", json_string(button_err));
    return res;
}

void sup_vm_set_paused(struct sup *s, const char *name, bool paused)
{
    struct vmrt *v = vm_find(s, name);
    if (v && v->paused != paused) {
        v->paused = paused;
        emit(s, name, paused ? "paused" : "running", NULL);
    }
}

void sup_vm_forget(struct sup *s, const char *name)
{
    char ctl[4200], state[4200], con[4200], clog[4200], log[4200], p[4300];
    vm_paths(s, name, ctl, state, con, clog, log);
    unlink(ctl);
    unlink(state);
    unlink(con);
    unlink(clog);
    unlink(log);
    snprintf(p, sizeof(p), "%s.1", clog);
    unlink(p);
}

/* ---- networks ---- */

/* Whether a switch runs for this network; if so and holder is not NULL,
 * *holder is its pid as it wrote it into the lock file (0 if unknown). */
static bool switch_running(json_t *def, pid_t *holder)
{
    enum hub_kind k;
    char p[4200], err[256];
    if (holder)
        *holder = 0;
    if (hub_kind_parse(json_string_value(json_object_get(def, "kind")), &k) < 0 ||
        net_rundir_file(k, json_string_value(json_object_get(def, "name")), ".lock", p, sizeof(p), err,
                        sizeof(err)) < 0)
        return false;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    char buf[24] = "";
    if (held && holder && read(fd, buf, sizeof(buf) - 1) > 0)
        *holder = (pid_t)atoi(buf);
    close(fd);
    return held;
}

/* A switch that a previous vireod of this data directory started (its
 * output goes to our log file for the network) is adopted: watched, and
 * stopped when the network is deleted. One a user runs by hand is not. */
static bool adopt_switch(struct sup *s, struct netrt *n, pid_t pid, const char *log)
{
    char fdpath[64], target[4200];
    snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/1", (int)pid);
    ssize_t len = pid > 0 ? readlink(fdpath, target, sizeof(target) - 1) : -1;
    if (len <= 0)
        return false;
    target[len] = 0;
    char real[PATH_MAX];
    if (!realpath(log, real) || strcmp(target, real))
        return false;
    n->pidfd = watch(s, pid, NET_BIT);
    if (n->pidfd < 0)
        return false;
    n->pid = pid;
    vinfo("network '%s': found its switch running as process %d", n->name, (int)pid);
    return true;
}

static void net_try_start(struct sup *s, struct netrt *n)
{
    time_t now = time(NULL);
    if (n->pid || n->deleting || now < n->next_try)
        return;
    n->next_try = now + 2;
    char log[4200], err[512];
    snprintf(log, sizeof(log), "%s/logs/net-%s.log", s->data, n->name);
    pid_t holder;
    if (switch_running(n->def, &holder)) {
        adopt_switch(s, n, holder, log);
        return;   /* one runs already: ours from before a daemon restart, or a user's */
    }
    json_t *d = n->def, *e;
    size_t i;
    struct argv a = { 0 };
    arg(&a, "%s", s->bin);
    arg(&a, "switch");
    arg(&a, "--kind=%s", json_string_value(json_object_get(d, "kind")));
    arg(&a, "--name=%s", n->name);
    if (json_is_string(json_object_get(d, "cidr")))
        arg(&a, "--cidr=%s", json_string_value(json_object_get(d, "cidr")));
    if (json_is_false(json_object_get(d, "dhcp")))
        arg(&a, "--no-dhcp");
    arg(&a, "--mtu=%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(d, "mtu")));
    json_array_foreach(json_object_get(d, "natpf"), i, e)
        arg(&a, "--natpf=%s", json_string_value(e));
    json_array_foreach(json_object_get(d, "uplinks"), i, e)
        arg(&a, "--uplink=%s", json_string_value(e));
    if (json_is_string(json_object_get(d, "pcap")))
        arg(&a, "--pcap=%s", json_string_value(json_object_get(d, "pcap")));
    pid_t pid = spawn(s, &a, log, err, sizeof(err));
    argv_free(&a);
    if (pid < 0) {
        vwarn("network '%s': %s", n->name, err);
        return;
    }
    n->pidfd = watch(s, pid, NET_BIT);
    n->pid = n->pidfd >= 0 ? pid : 0;
}

void sup_net_start(struct sup *s, json_t *net)
{
    if (net_find(s, json_string_value(json_object_get(net, "name"))))
        return;
    struct netrt *n = calloc(1, sizeof(*n));
    if (!n)
        return;
    snprintf(n->name, sizeof(n->name), "%s", json_string_value(json_object_get(net, "name")));
    n->def = json_deep_copy(net);
    n->pidfd = -1;
    n->next = s->nets;
    s->nets = n;
    net_try_start(s, n);
}

void sup_net_stop(struct sup *s, const char *name)
{
    struct netrt *n = net_find(s, name);
    if (!n)
        return;
    n->deleting = true;
    char log[4200];
    snprintf(log, sizeof(log), "%s/logs/net-%s.log", s->data, n->name);
    unlink(log);
    if (n->pid) {
        pidfd_send_signal(n->pidfd, SIGTERM, NULL, 0);   /* freed once it has exited */
        return;
    }
    for (struct netrt **pp = &s->nets; *pp; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    json_decref(n->def);
    free(n);
}

const char *sup_net_state(struct sup *s, const char *name, pid_t *pid)
{
    struct netrt *n = net_find(s, name);
    if (pid)
        *pid = n ? n->pid : 0;
    if (n && n->pid)
        return "running";
    return n && switch_running(n->def, NULL) ? "running" : "stopped";
}

/* ---- the watcher thread ---- */

static void vm_exited(struct sup *s, struct vmrt *v)
{
    int status = 0;
    char reason[128] = "";
    bool child = waitpid(v->pid, &status, WNOHANG) == v->pid;
    json_t *st = read_state(s, v->name);
    const char *state = json_string_value(json_object_get(st, "state")) ?: "";
    json_int_t spid = json_integer_value(json_object_get(st, "pid"));
    if (!strcmp(state, "stopped") && spid == v->pid) {
        snprintf(reason, sizeof(reason), "%s",
                 json_string_value(json_object_get(json_object_get(st, "exit"), "reason")) ?: "exit");
        emit(s, v->name, "stopped", reason);
    } else {
        if (child && WIFSIGNALED(status))
            snprintf(reason, sizeof(reason), "the VM process was killed by signal %d", WTERMSIG(status));
        else if (child && WIFEXITED(status))
            snprintf(reason, sizeof(reason), "the VM process exited with status %d without stopping",
                     WEXITSTATUS(status));
        else
            snprintf(reason, sizeof(reason), "the VM process died");
        if (!st || strcmp(state, "running")) {
            /* it never wrote its state file: write one that says aborted */
            char p[4200];
            json_t *ab = json_pack("{s:i, s:s}", "pid", (int)v->pid, "state", "running");
            char e2[256];
            if (mgmt_path(p, sizeof(p), s->data, MGMT_VM_STATE, v->name) == 0)
                store_write_atomic(p, ab, e2, sizeof(e2));
            json_decref(ab);
        }
        emit(s, v->name, "aborted", reason);
    }
    json_decref(st);
}

static void *watcher(void *p)
{
    struct sup *s = p;
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(s->epfd, evs, 16, 1000);
        sup_lock(s);
        if (s->quit) {
            sup_unlock(s);
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            int fd = (int)(tag & 0xffffffffu);
            if (fd == s->wakefd) {
                uint64_t x;
                if (read(s->wakefd, &x, sizeof(x)) < 0) { /* nothing */ }
                continue;
            }
            if (tag & NET_BIT) {
                for (struct netrt **pp = &s->nets; *pp; pp = &(*pp)->next) {
                    struct netrt *nr = *pp;
                    if (nr->pidfd != fd)
                        continue;
                    waitpid(nr->pid, NULL, WNOHANG);
                    unwatch(s, fd);
                    nr->pidfd = -1;
                    nr->pid = 0;
                    if (nr->deleting) {
                        *pp = nr->next;
                        json_decref(nr->def);
                        free(nr);
                    } else {
                        vwarn("the switch of network '%s' exited; restarting it", nr->name);
                        nr->next_try = time(NULL) + 1;
                    }
                    break;
                }
                continue;
            }
            for (struct vmrt **pp = &s->vms; *pp; pp = &(*pp)->next) {
                struct vmrt *v = *pp;
                if (v->pidfd != fd)
                    continue;
                *pp = v->next;
                unwatch(s, fd);
                vm_exited(s, v);
                free(v);
                break;
            }
        }
        for (struct netrt *nr = s->nets; nr; nr = nr->next)
            net_try_start(s, nr);
        sup_unlock(s);
    }
}

static void reattach(struct sup *s)
{
    for (size_t i = 0; i < store_vm_count(s->st); i++) {
        json_t *def = store_vm_at(s->st, i);
        const char *name = json_string_value(json_object_get(def, "name"));
        json_t *st = read_state(s, name);
        pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
        bool running = !strcmp(json_string_value(json_object_get(st, "state")) ?: "", "running");
        json_decref(st);
        if (!running || pid <= 0 || !pid_is_vireo(pid))
            continue;
        struct vmrt *v = calloc(1, sizeof(*v));
        if (!v)
            continue;
        snprintf(v->name, sizeof(v->name), "%s", name);
        v->pid = pid;
        v->vcpus = (unsigned)json_integer_value(json_object_get(def, "cpus"));
        v->pidfd = watch(s, pid, 0);
        if (v->pidfd < 0) {
            free(v);
            continue;
        }
        char err[256];
        json_t *q = json_pack("{s:s}", "op", "status");
        json_t *a = sup_vm_control(s, name, q, err, sizeof(err));
        if (a) {
            v->paused = !strcmp(json_string_value(json_object_get(a, "state")) ?: "", "paused");
            if (json_is_integer(json_object_get(a, "vcpus")))
                v->vcpus = (unsigned)json_integer_value(json_object_get(a, "vcpus"));
        }
        json_decref(q);
        json_decref(a);
        v->next = s->vms;
        s->vms = v;
        vinfo("VM '%s': found running as process %d", name, (int)pid);
    }
}

struct sup *sup_new(const char *data, const char *vireo_bin, struct store *st, bool start_networks,
                    sup_event_fn fn, void *arg, char *err, size_t errlen)
{
    struct sup *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->data, sizeof(s->data), "%s", data);
    s->st = st;
    s->fn = fn;
    s->arg = arg;
    s->epfd = s->wakefd = -1;
    pthread_mutex_init(&s->lock, NULL);
    const char *env = getenv("VIREO_BIN");
    if (vireo_bin) {
        snprintf(s->bin, sizeof(s->bin), "%s", vireo_bin);
    } else if (env && *env) {
        snprintf(s->bin, sizeof(s->bin), "%s", env);
    } else {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            snprintf(err, errlen, "cannot find the vireo program: set VIREO_BIN");
            sup_free(s);
            return NULL;
        }
        self[n] = 0;
        snprintf(s->bin, sizeof(s->bin), "%s/vireo", dirname(self));
    }
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(unsigned)s->wakefd };
    if (s->epfd < 0 || s->wakefd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        sup_free(s);
        return NULL;
    }
    reattach(s);
    if (start_networks)
        for (size_t i = 0; i < store_net_count(st); i++)
            sup_net_start(s, store_net_at(st, i));
    int e = pthread_create(&s->thread, NULL, watcher, s);
    if (e) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(e));
        sup_free(s);
        return NULL;
    }
    s->thread_started = true;
    return s;
}

void sup_free(struct sup *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        sup_lock(s);
        s->quit = true;
        sup_unlock(s);
        uint64_t one = 1;
        if (write(s->wakefd, &one, sizeof(one)) < 0) { /* the loop wakes within a second anyway */ }
        pthread_join(s->thread, NULL);
    }
    while (s->vms) {
        struct vmrt *v = s->vms;
        s->vms = v->next;
        if (v->pidfd >= 0)
            close(v->pidfd);
        free(v);
    }
    while (s->nets) {
        struct netrt *n = s->nets;
        s->nets = n->next;
        if (n->pidfd >= 0)
            close(n->pidfd);
        json_decref(n->def);
        free(n);
    }
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

#include "vmm/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "net/client.h"
#include "net/hub_proto.h"
#include "net/rundir.h"
#include "vmm/nic_config.h"

/* ---- the switch-starting helper ---- */

/* A request: the kind's byte, then the network's name (no terminator). */
#define SPAWN_MSG_MAX (1 + 64)

static int spawner_fd = -1;

static void spawner_main(int fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);       /* it lives only as long as its VM */
    prctl(PR_SET_NAME, "vireo-spawner");
    if (getppid() == 1)
        _exit(0);
    for (int i = 3; i < 1024; i++)
        if (i != fd)
            close(i);
    struct timespec last = { 0, 0 };
    for (;;) {
        char msg[SPAWN_MSG_MAX + 1];
        ssize_t n = recv(fd, msg, SPAWN_MSG_MAX, 0);
        if (n <= 0)
            _exit(0);                        /* the VM process is gone */
        msg[n] = 0;
        uint8_t ok = 0;
        /* Nothing the VM process sends is trusted: only a known kind and a
         * valid network name make a command line, and at most one start
         * every half second. */
        enum hub_kind kind = (enum hub_kind)(uint8_t)msg[0];
        const char *name = msg + 1;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
        if (n >= 2 && strcmp(hub_kind_name(kind), "?") && nic_name_valid(name) && ms >= 500) {
            last = now;
            pid_t pid = net_switch_spawn("/proc/self/exe", kind, name, -1);
            if (pid > 0) {
                waitpid(pid, NULL, 0);        /* the starter daemonizes at once */
                ok = 1;
            }
        }
        if (send(fd, &ok, 1, MSG_NOSIGNAL) != 1)
            _exit(0);
    }
}

static int start_via_spawner(enum hub_kind kind, const char *network)
{
    char msg[SPAWN_MSG_MAX];
    size_t len = strlen(network);
    if (spawner_fd < 0 || len + 1 > sizeof(msg))
        return -1;
    msg[0] = (char)kind;
    memcpy(msg + 1, network, len);
    uint8_t ok = 0;
    if (send(spawner_fd, msg, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1) || recv(spawner_fd, &ok, 1, 0) != 1)
        return -1;
    return ok ? 0 : -1;
}

int sandbox_spawner_start(char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "sandbox: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "sandbox: cannot start the switch-starting helper: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        spawner_main(sv[1]);
    }
    close(sv[1]);
    spawner_fd = sv[0];
    /* An answer never takes long; a helper that hangs must not stall the
     * I/O thread. */
    struct timeval tv = { 2, 0 };
    setsockopt(spawner_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    net_client_set_starter(start_via_spawner);
    return 0;
}

/* ---- the filter ---- */

/* Names for the SIGSYS message, resolved before the filter is on (the
 * handler may not allocate). */
#define NAMES_MAX 512
static char names[NAMES_MAX][28];

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    int nr = si->si_syscall;
    char msg[160];
    const char *name = nr >= 0 && nr < NAMES_MAX && names[nr][0] ? names[nr] : "?";
    int n = snprintf(msg, sizeof(msg),
                     "vireo: sandbox: forbidden system call %s (%d): stopping the VM (docs/security.md)\n", name, nr);
    if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0) {
        /* nothing more to do */
    }
    /* Die of the signal itself, so whoever waits for us sees SIGSYS. */
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigaction(SIGSYS, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGSYS);
}

/* What the vCPU and I/O threads call once the machine is built, each with
 * its reason (docs/security.md has the table). Calls that take flags or
 * commands that matter are narrowed below. */
static const char *const allowed[] = {
    /* memory: glibc's allocator, guest RAM statistics */
    "brk", "mmap", "munmap", "mprotect", "madvise", "mremap", "mincore",
    /* threads: vCPU threads are re-created on a guest reset */
    "futex", "set_robust_list", "rseq", "set_tid_address", "gettid", "getpid", "sched_yield",
    "sched_getaffinity", "sched_setaffinity", "exit", "exit_group", "restart_syscall", "rt_sigreturn",
    "rt_sigprocmask", "rt_sigaction", "tgkill", "sigaltstack",
    /* time */
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "clock_getres",
    /* the event loop */
    "epoll_wait", "epoll_pwait", "epoll_ctl", "epoll_create1", "eventfd2", "poll", "ppoll", "pipe2",
    "timerfd_create", "timerfd_settime", "signalfd4",
    /* files: disks, console log, state file, /proc for statistics; a reset
     * opens the kernel, initrd and disks again */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek", "close",
    "openat", "newfstatat", "fstat", "statx", "fcntl", "flock", "fsync", "fdatasync", "fallocate",
    "ftruncate", "rename", "unlink", "mkdir", "readlink", "getcwd", "access", "umask", "chmod", "dup", "dup3",
    /* sockets: switch ports, libslirp's NAT, control and console servers */
    "connect", "accept", "accept4", "bind", "listen", "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg", "setsockopt", "getsockopt", "getsockname", "getpeername",
    /* glibc and libslirp */
    "getrandom", "geteuid", "getuid", "getegid", "getgid", "uname", "sysinfo", "prlimit64", "getrusage",
    /* waiting for a switch starter (net/client.c at VM start) */
    "wait4",
};

unsigned sandbox_allowed_count(void)
{
    /* the list, plus clone, socket, ioctl and prctl, allowed narrowly */
    return (unsigned)(sizeof(allowed) / sizeof(allowed[0])) + 4;
}

static int rule(scmp_filter_ctx ctx, const char *name, char *err, size_t errlen)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        snprintf(err, errlen, "sandbox: unknown system call %s", name);
        return -1;
    }
    int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    if (r < 0) {
        snprintf(err, errlen, "sandbox: cannot allow %s: %s", name, strerror(-r));
        return -1;
    }
    return 0;
}

int sandbox_enter(char *err, size_t errlen)
{
    for (int nr = 0; nr < NAMES_MAX; nr++) {
        char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (s)
            snprintf(names[nr], sizeof(names[nr]), "%s", s);
        free(s);
    }
    struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        snprintf(err, errlen, "sandbox: sigaction: %s", strerror(errno));
        return -1;
    }
    /* VIREO_SANDBOX_LOG=1: log forbidden calls to the kernel's audit log
     * (dmesg, type=1326) and let them run, to find what a new feature
     * needs. */
    scmp_filter_ctx ctx = seccomp_init(getenv("VIREO_SANDBOX_LOG") ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(err, errlen, "sandbox: seccomp_init failed");
        return -1;
    }
    int r = 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !r; i++)
        r = rule(ctx, allowed[i], err, errlen);
    /* New threads only, never new processes. */
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    /* clone3 passes its flags in memory the filter cannot read: say it
     * does not exist, and glibc falls back to clone. */
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* Sockets of the families the ports use; no netlink, no packet sockets. */
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
    /* The terminal (raw mode, window size), non-blocking sockets, and the
     * size of a block device used as a disk. */
    static const unsigned long ioctls[] = { TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, FIONREAD, FIONBIO,
                                            BLKGETSIZE64 };
    for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && !r; i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
    /* Naming threads. */
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
    r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
#if defined(__SANITIZE_ADDRESS__)
    /* LeakSanitizer stops the world at exit with a ptrace-ing helper
     * process: sanitizer builds (tests only) allow it. */
    if (!r) {
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getppid), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getdents64), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getdents), 0);
        r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 0);
    }
#endif
    if (r && !err[0])
        snprintf(err, errlen, "sandbox: cannot build the filter: %s", strerror(r < 0 ? -r : r));
    /* On every thread at once (the I/O, console and NAT threads exist). */
    if (!r && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
        snprintf(err, errlen, "sandbox: cannot apply the filter to all threads: %s", strerror(-r));
    if (!r && (r = seccomp_load(ctx)) < 0)
        snprintf(err, errlen, "sandbox: cannot install the filter: %s", strerror(-r));
    seccomp_release(ctx);
    return r ? -1 : 0;
}

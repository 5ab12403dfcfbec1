#include "vmm/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
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
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* ---- the user ---- */

int sandbox_resolve_user(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    char name[256];
    snprintf(name, sizeof(name), "%s", spec);
    char *group = strchr(name, ':');
    if (group)
        *group++ = 0;
    struct passwd *pw = getpwnam(name);
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (pw) {
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    } else if (*name && !*end && v < 0xffffffffUL) {
        *uid = (uid_t)v;
        *gid = (gid_t)v;
    } else {
        snprintf(err, errlen, "--user '%s': no such user", spec);
        return -1;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        v = strtoul(group, &end, 10);
        if (gr)
            *gid = gr->gr_gid;
        else if (*group && !*end && v < 0xffffffffUL)
            *gid = (gid_t)v;
        else {
            snprintf(err, errlen, "--user '%s': no such group '%s'", spec, group);
            return -1;
        }
    }
    if (*uid == 0 || *gid == 0) {
        snprintf(err, errlen, "--user '%s': the VM must run as an unprivileged user and group, not root", spec);
        return -1;
    }
    return 0;
}

int sandbox_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    /* Supplementary groups first (root's would stay otherwise), then the
     * group, then the user: after that nothing can be taken back. */
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "sandbox: cannot become user %u, group %u: %s", (unsigned)uid, (unsigned)gid,
                 strerror(errno));
        return -1;
    }
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || setuid(0) == 0) {
        snprintf(err, errlen, "sandbox: the change to user %u did not hold", (unsigned)uid);
        return -1;
    }
    /* Changing the user made the process non-dumpable: other processes of
     * that user cannot read its memory or trace it. LeakSanitizer (test
     * builds) has to trace it at exit. */
#if defined(__SANITIZE_ADDRESS__)
    prctl(PR_SET_DUMPABLE, 1);
#endif
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
    /* files: disks, the console log, /proc for statistics; a reset reads
     * the boot images and locks copies of the disks' descriptors (the
     * broker renames and creates files: vmm/broker.h) */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek", "close",
    "openat", "newfstatat", "fstat", "statx", "fcntl", "flock", "fsync", "fdatasync", "fallocate",
    "ftruncate", "unlink", "readlink", "getcwd", "access", "dup", "dup3",
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

#include "vmm/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "net/client.h"
#include "net/rundir.h"
#include "vmm/nic_config.h"
#include "vmm/state_file.h"

/* Requests: one message, an operation byte and its arguments.
 *   'S' kind name     start the switch          -> status
 *   'C' kind name     connect to its socket     -> status + the socket
 *   'L'               rotate the console log    -> status + the new log
 *   'W' status reason write the stopped state   -> status
 *   'U'               remove the sockets        -> status
 * The answer is one byte, 0 or an errno value, with a descriptor attached
 * (SCM_RIGHTS) when there is one. */
#define REQ_MAX 80

static int broker_fd = -1;

/* ---- the broker's side ---- */

static bool known_net(const struct broker_config *c, const char *req, size_t n, enum hub_kind *kind,
                      const char **name)
{
    if (n < 3)
        return false;
    *kind = (enum hub_kind)(uint8_t)req[1];
    *name = req + 2;
    for (unsigned i = 0; i < c->nnets; i++)
        if (c->nets[i].kind == *kind && !strcmp(c->nets[i].name, *name))
            return nic_name_valid(*name);
    return false;
}

static int rotate_log(const char *path)
{
    char old[4200];
    if (snprintf(old, sizeof(old), "%s.1", path) >= (int)sizeof(old)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(path, old) < 0 && errno != ENOENT)
        return -1;
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
}

static void answer(int sock, uint8_t status, int fd)
{
    struct iovec iov = { &status, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        m.msg_control = u.buf;
        m.msg_controllen = sizeof(u.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
        _exit(0);
    if (fd >= 0)
        close(fd);
}

static void __attribute__((__noreturn__)) broker_main(int sock, const struct broker_config *c)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);       /* it lives only as long as its VM */
    prctl(PR_SET_NAME, "vireo-broker");
    if (getppid() != c->vm_pid)
        _exit(0);
    for (int i = 3; i < 1024; i++)
        if (i != sock && i != STDERR_FILENO)
            close(i);
    struct timespec last = { 0, 0 };
    for (;;) {
        char req[REQ_MAX + 1];
        ssize_t n = recv(sock, req, REQ_MAX, 0);
        if (n <= 0)
            _exit(0);                        /* the VM process is gone */
        req[n] = 0;
        enum hub_kind kind;
        const char *name;
        int e = EPERM, fd = -1;
        switch (req[0]) {
        case 'S': {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
            if (!known_net(c, req, (size_t)n, &kind, &name))
                break;
            e = EAGAIN;
            if (ms < 500)
                break;
            last = now;
            pid_t pid = net_switch_spawn("/proc/self/exe", kind, name, -1);
            e = pid > 0 ? 0 : errno;
            if (pid > 0)
                waitpid(pid, NULL, 0);        /* the starter daemonizes at once */
            break;
        }
        case 'C':
            if (!known_net(c, req, (size_t)n, &kind, &name))
                break;
            fd = net_client_connect(kind, name);
            e = fd >= 0 ? 0 : errno;
            break;
        case 'L':
            if (n != 1 || !c->console_log)
                break;
            fd = rotate_log(c->console_log);
            e = fd >= 0 ? 0 : errno;
            break;
        case 'W': {
            int32_t status;
            if (n < 5 || !c->state_file)
                break;
            memcpy(&status, req + 1, 4);
            /* The reason, if any, must be one the VM may give itself. */
            const char *reason = n > 5 ? req + 5 : NULL;
            if (reason && strcmp(reason, "signal"))
                break;
            e = state_file_write_stopped(c->state_file, c->vm_pid, c->started_ns, c->name, status, reason) < 0 ? EIO
                                                                                                               : 0;
            break;
        }
        case 'U':
            if (c->control_path)
                unlink(c->control_path);
            if (c->console_socket)
                unlink(c->console_socket);
            e = 0;
            break;
        }
        answer(sock, (uint8_t)e, fd);
    }
}

/* ---- the VM's side ---- */

/* One request and its answer; *fd_out gets an attached descriptor. 0, or
 * -1 with errno. */
static int ask(const void *req, size_t len, int *fd_out)
{
    if (fd_out)
        *fd_out = -1;
    if (broker_fd < 0) {
        errno = ENOSYS;
        return -1;
    }
    if (send(broker_fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    uint8_t status;
    struct iovec iov = { &status, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    if (recvmsg(broker_fd, &m, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    int fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    if (status) {
        if (fd >= 0)
            close(fd);
        errno = status;
        return -1;
    }
    if (fd_out)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

static size_t net_request(char *req, char op, enum hub_kind kind, const char *network)
{
    size_t len = strnlen(network, REQ_MAX - 3);
    req[0] = op;
    req[1] = (char)kind;
    memcpy(req + 2, network, len);
    return len + 2;
}

static int start_switch(enum hub_kind kind, const char *network)
{
    char req[REQ_MAX];
    return ask(req, net_request(req, 'S', kind, network), NULL);
}

static int connect_switch(enum hub_kind kind, const char *network)
{
    char req[REQ_MAX];
    int fd;
    return ask(req, net_request(req, 'C', kind, network), &fd) < 0 ? -1 : fd;
}

int broker_rotate_log(void *opaque)
{
    (void)opaque;
    int fd;
    return ask("L", 1, &fd) < 0 ? -1 : fd;
}

int broker_write_state(int status, const char *reason)
{
    char req[REQ_MAX] = "W";
    int32_t s = status;
    memcpy(req + 1, &s, 4);
    size_t len = 5;
    if (reason) {
        size_t r = strnlen(reason, REQ_MAX - 6);
        memcpy(req + 5, reason, r);
        len += r;
    }
    return ask(req, len, NULL);
}

void broker_remove_sockets(void) { ask("U", 1, NULL); }

int broker_running(void) { return broker_fd >= 0; }

int broker_start(const struct broker_config *c, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "sandbox: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "sandbox: cannot start the broker: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        broker_main(sv[1], c);
    }
    close(sv[1]);
    broker_fd = sv[0];
    /* An answer never takes long; a broker that hangs must not stall the
     * I/O thread. */
    struct timeval tv = { 2, 0 };
    setsockopt(broker_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    net_client_set_starter(start_switch);
    net_client_set_connector(connect_switch);
    return 0;
}

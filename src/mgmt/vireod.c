/* vireod: the management daemon (docs/management.md, docs/api.md). One per
 * data directory: it owns the VM and network definitions, starts and
 * watches VM processes and switches, and serves the HTTP API on
 * <data>/run/api.sock. SIGTERM stops the daemon, not the VMs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/api.h"
#include "mgmt/paths.h"
#include "mgmt/store.h"
#include "mgmt/supervisor.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vireod [OPTIONS]\n"
            "\n"
            "The Vireo management daemon: keeps VM and network definitions, runs VMs and\n"
            "networks, and serves the API (docs/api.md) on DATA/run/api.sock. The vireo CLI\n"
            "starts it when needed. SIGTERM stops the daemon; running VMs keep running and\n"
            "are found again by the next daemon.\n"
            "\n"
            "  --data-dir DIR   the data directory (default: $VIREO_HOME, /var/lib/vireo for\n"
            "                   root, else $XDG_DATA_HOME/vireo or ~/.local/share/vireo)\n"
            "  --foreground     do not detach; messages go to stderr\n"
            "  --group GROUP    let GROUP use the API (socket mode 0660)\n"
            "  -v, --verbose    more messages\n"
            "  -h, --help       this help\n");
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    enum { O_DATA = 256, O_FG, O_GROUP };
    static const struct option opts[] = {
        { "data-dir", required_argument, NULL, O_DATA }, { "foreground", no_argument, NULL, O_FG },
        { "group", required_argument, NULL, O_GROUP },   { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
    };
    const char *data_opt = NULL, *group = NULL;
    bool fg = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: data_opt = optarg; break;
        case O_FG: fg = true; break;
        case O_GROUP: group = optarg; break;
        case 'v': vlog_set_level(VLOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        case ':': fprintf(stderr, "vireod: %s needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "vireod: unknown option '%s' (see vireod --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vireod: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char data[4096], err[512], path[4200];
    if (mgmt_data_dir(data_opt, data, sizeof(data), err, sizeof(err)) < 0) {
        fprintf(stderr, "vireod: %s\n", err);
        return 1;
    }
    if (data[0] != '/') {   /* we may chdir; VMs are started with absolute paths */
        char cwd[2048], abs[4096];
        if (!getcwd(cwd, sizeof(cwd)) || snprintf(abs, sizeof(abs), "%s/%s", cwd, data) >= (int)sizeof(abs)) {
            fprintf(stderr, "vireod: --data-dir '%s': cannot make it absolute\n", data);
            return 1;
        }
        snprintf(data, sizeof(data), "%s", abs);
    }
    gid_t gid = (gid_t)-1;
    if (group) {
        struct group *g = getgrnam(group);
        if (!g) {
            fprintf(stderr, "vireod: --group '%s': no such group\n", group);
            return 2;
        }
        gid = g->gr_gid;
    }
    if (mgmt_make_dirs(data, err, sizeof(err)) < 0) {
        fprintf(stderr, "vireod: %s\n", err);
        return 1;
    }
    mgmt_path(path, sizeof(path), data, MGMT_LOCK, NULL);
    int lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0) {
        fprintf(stderr, "vireod: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "vireod: another vireod already serves %s\n", data);
        return 1;
    }
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);

    struct store_host host;
    store_host_probe(&host);
    struct store *st = store_open(data, &host, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "vireod: %s\n", err);
        return 1;
    }
    mgmt_path(path, sizeof(path), data, MGMT_API_SOCK, NULL);
    int lfd = api_listen_unix(path, gid, err, sizeof(err));
    if (lfd < 0) {
        fprintf(stderr, "vireod: %s\n", err);
        return 1;
    }
    /* Everything that can fail with a message for the user has been done:
     * the socket listens, so a client may connect as soon as we return. */
    if (!fg) {
        char log[4200];
        snprintf(log, sizeof(log), "%s/logs/vireod.log", data);
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "vireod: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid > 0)
            _exit(0);
        setsid();
        pid = fork();
        if (pid < 0)
            _exit(1);
        if (pid > 0)
            _exit(0);
        if (nul >= 0)
            dup2(nul, 0);
        if (lf >= 0) {
            dup2(lf, 1);
            dup2(lf, 2);
        }
        if (chdir("/") < 0) { /* harmless */ }
    }

    /* Signals go to this thread only (sigwait); the others block them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct api *api = api_new(st, &host);
    struct sup *sup = api ? sup_new(data, NULL, st, true, api_event, api, err, sizeof(err)) : NULL;
    if (!sup || api_start(api, lfd, sup, API_CONN_LIMIT, err, sizeof(err)) < 0) {
        verror("%s", api ? err : "out of memory");
        return 1;
    }
    vinfo("vireod serving %s (process %d)", path, (int)getpid());
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        /* nothing to reload */
    }
    vinfo("vireod: signal %d, stopping (VMs keep running)", sig);
    api_free(api);
    sup_free(sup);
    store_close(st);
    unlink(path);
    close(lockfd);
    return 0;
}

#include "net/rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *hub_kind_name(enum hub_kind k)
{
    switch (k) {
    case HUB_INTNET: return "intnet";
    case HUB_NATNETWORK: return "natnetwork";
    case HUB_HOSTONLY: return "hostonly";
    case HUB_BRIDGED: return "bridged";
    }
    return "?";
}

int hub_kind_parse(const char *s, enum hub_kind *k)
{
    for (int i = HUB_INTNET; i <= HUB_BRIDGED; i++)
        if (!strcmp(s, hub_kind_name((enum hub_kind)i))) {
            *k = (enum hub_kind)i;
            return 0;
        }
    return -1;
}

/* mkdir if missing, then insist it is a directory of ours that nobody else
 * can write. */
static int own_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        snprintf(err, errlen, "cannot use %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
        snprintf(err, errlen, "%s is not a directory owned by this user and closed to others: refusing to use it",
                 path);
        return -1;
    }
    return 0;
}

int net_rundir(char *path, size_t len, char *err, size_t errlen)
{
    const char *env = getenv("VIREO_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (env && *env)
        n = snprintf(path, len, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(path, len, "/run/vireo");
    else if (xdg && *xdg)
        n = snprintf(path, len, "%s/vireo", xdg);
    else
        n = snprintf(path, len, "/tmp/vireo-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n + 5 >= len) {
        snprintf(err, errlen, "runtime directory path is too long");
        return -1;
    }
    if (own_dir(path, err, errlen) < 0)
        return -1;
    strcat(path, "/net");
    return own_dir(path, err, errlen);
}

int net_rundir_file(enum hub_kind kind, const char *name, const char *suffix, char *path, size_t len, char *err,
                    size_t errlen)
{
    char dir[256];
    if (net_rundir(dir, sizeof(dir), err, errlen) < 0)
        return -1;
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
    int n = snprintf(path, len, "%s/%s-%s%s", dir, hub_kind_name(kind), name, suffix);
    if (n < 0 || (size_t)n >= len || (size_t)n >= max) {
        snprintf(err, errlen, "%s/%s-%s%s is too long for a socket path (set VIREO_RUNTIME_DIR to a shorter "
                 "directory)", dir, hub_kind_name(kind), name, suffix);
        return -1;
    }
    return 0;
}

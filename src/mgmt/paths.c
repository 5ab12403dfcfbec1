/* The data directory of vireod: see paths.h and docs/management.md. */
#include "mgmt/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool mgmt_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > MGMT_NAME_MAX || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int put(char *out, size_t len, char *err, size_t errlen, const char *a, const char *b)
{
    int n = snprintf(out, len, "%s%s", a, b);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "the data directory '%s%s' is too long", a, b);
        return -1;
    }
    return 0;
}

int mgmt_data_dir(const char *opt, char *out, size_t len, char *err, size_t errlen)
{
    const char *v;
    if (opt && *opt)
        return put(out, len, err, errlen, opt, "");
    if ((v = getenv("VIREO_HOME")) && *v)
        return put(out, len, err, errlen, v, "");
    if (geteuid() == 0)
        return put(out, len, err, errlen, "/var/lib/vireo", "");
    if ((v = getenv("XDG_DATA_HOME")) && *v == '/')
        return put(out, len, err, errlen, v, "/vireo");
    if ((v = getenv("HOME")) && *v == '/')
        return put(out, len, err, errlen, v, "/.local/share/vireo");
    snprintf(err, errlen, "no data directory: set VIREO_HOME or HOME, or give --data-dir");
    return -1;
}

static int mkdir_p(char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, errlen, "%s: not a directory", path);
        return -1;
    }
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = 0;
        int r = mkdir_p(path, err, errlen);
        *slash = '/';
        if (r < 0)
            return r;
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int mgmt_make_dirs(const char *data, char *err, size_t errlen)
{
    static const char *const sub[] = { "", "/vms", "/networks", "/logs", "/run", "/run/vms" };
    char p[4096];
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        if (put(p, sizeof(p), err, errlen, data, sub[i]) < 0 || mkdir_p(p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int mgmt_path(char *out, size_t len, const char *data, enum mgmt_file f, const char *name)
{
    int n = -1;
    switch (f) {
    case MGMT_VM_DEF: n = snprintf(out, len, "%s/vms/%s.json", data, name); break;
    case MGMT_NET_DEF: n = snprintf(out, len, "%s/networks/%s.json", data, name); break;
    case MGMT_CONSOLE_LOG: n = snprintf(out, len, "%s/logs/%s.console.log", data, name); break;
    case MGMT_VM_CTL: n = snprintf(out, len, "%s/run/vms/%s.ctl", data, name); break;
    case MGMT_VM_CONSOLE: n = snprintf(out, len, "%s/run/vms/%s.console", data, name); break;
    case MGMT_VM_STATE: n = snprintf(out, len, "%s/run/vms/%s.state", data, name); break;
    case MGMT_API_SOCK: n = snprintf(out, len, "%s/run/api.sock", data); break;
    case MGMT_LOCK: n = snprintf(out, len, "%s/run/vireod.lock", data); break;
    case MGMT_VMS_DIR: n = snprintf(out, len, "%s/vms", data); break;
    case MGMT_NETS_DIR: n = snprintf(out, len, "%s/networks", data); break;
    }
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

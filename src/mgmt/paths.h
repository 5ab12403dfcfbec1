/* The data directory of vireod (docs/management.md): where it is, its fixed
 * layout, and the names users may give VMs and networks. */
#ifndef VIREO_MGMT_PATHS_H
#define VIREO_MGMT_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define MGMT_NAME_MAX 48

/* 1-48 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool mgmt_name_valid(const char *s);

/* The data directory: opt (--data-dir) if given, else $VIREO_HOME, else
 * /var/lib/vireo for root, else $XDG_DATA_HOME/vireo, else
 * ~/.local/share/vireo. 0, or -1 with one message in err. */
int mgmt_data_dir(const char *opt, char *out, size_t len, char *err, size_t errlen);

/* Create <data> and its subdirectories (vms, networks, logs, run, run/vms)
 * with mode 0700 where missing. */
int mgmt_make_dirs(const char *data, char *err, size_t errlen);

enum mgmt_file {
    MGMT_VM_DEF,        /* <data>/vms/<name>.json */
    MGMT_NET_DEF,       /* <data>/networks/<name>.json */
    MGMT_CONSOLE_LOG,   /* <data>/logs/<name>.console.log */
    MGMT_VM_CTL,        /* <data>/run/vms/<name>.ctl */
    MGMT_VM_CONSOLE,    /* <data>/run/vms/<name>.console */
    MGMT_VM_STATE,      /* <data>/run/vms/<name>.state */
    MGMT_API_SOCK,      /* <data>/run/api.sock (name ignored) */
    MGMT_LOCK,          /* <data>/run/vireod.lock (name ignored) */
    MGMT_VMS_DIR,       /* <data>/vms */
    MGMT_NETS_DIR,      /* <data>/networks */
};

/* The path of one file of the layout; -1 if it does not fit in len. */
int mgmt_path(char *out, size_t len, const char *data, enum mgmt_file f, const char *name);

#endif

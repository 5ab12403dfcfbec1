/* Where a host's running switches meet their VMs: a runtime directory of
 * sockets, lock files and logs.
 *
 *   $VIREO_RUNTIME_DIR, else /run/vireo for root, else
 *   $XDG_RUNTIME_DIR/vireo, else /tmp/vireo-UID
 *
 * with net/<kind>-<name>.{sock,lock,log} for each named network. The
 * directory is made with mode 0700 and must be ours: a directory that
 * another user owns or can write is refused, since whoever controls it
 * could stand in for a switch. */
#ifndef VIREO_NET_RUNDIR_H
#define VIREO_NET_RUNDIR_H

#include <stddef.h>

#include "net/hub_proto.h"

const char *hub_kind_name(enum hub_kind k);
int hub_kind_parse(const char *s, enum hub_kind *k);

/* Fill path with the runtime directory's net/ subdirectory (created if
 * needed). -1 with a message in err. */
int net_rundir(char *path, size_t len, char *err, size_t errlen);

/* <rundir>/net/<kind>-<name><suffix>; -1 if it does not fit a socket
 * address (108 bytes) or the rundir is unusable. */
int net_rundir_file(enum hub_kind kind, const char *name, const char *suffix, char *path, size_t len, char *err,
                    size_t errlen);

#endif

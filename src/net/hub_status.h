/* A running switch's report of its ports and counters, for `vireo switch
 * --status` and `vireo net show`: the switch builds it (hub_status_build)
 * when a client says hello with HUB_HELLO_STATUS, and answers with its
 * welcome followed by the report as JSON text in the same message; the
 * client (hub_status_query) never plugs in.
 *
 *   {"kind": "intnet", "name": "lab", "pid": 123, "mtu": 1500,
 *    "frames": N, "flooded": N, "dropped_vlan": N, "dropped_bad": N,
 *    "addresses": N, "learn_full": N,
 *    "ports": [{"name": "...", "client": "vm1 nic1" or null,
 *               "mac": "52:54:00:..." or null, "vlan": 1, "trunk": false,
 *               "rx_frames": N, "rx_bytes": N, "tx_frames": N, "tx_bytes": N,
 *               "rx_dropped": N, "tx_dropped": N}, ...]}
 *
 * rx is what came into the switch from a port, tx what the switch sent out
 * of it; tx_dropped counts frames the port's far side did not take in time
 * (a VM that stopped reading loses its own frames, nobody else's). */
#ifndef VIREO_NET_HUB_STATUS_H
#define VIREO_NET_HUB_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "net/hub_proto.h"
#include "net/port.h"
#include "net/switch.h"

struct hub_status_port {
    const struct net_port *port;
    const char *client;         /* who plugged it in, or NULL for the switch's own */
    const uint8_t *mac;         /* the adapter's MAC, or NULL */
};

/* The report as a NUL-terminated JSON string (malloc'd), or NULL when out of memory. */
char *hub_status_build(enum hub_kind kind, const char *name, unsigned mtu, const struct net_switch *sw,
                       const struct hub_status_port *ports, size_t nports);

/* Ask the running switch of kind/name for its report: 0 and *json
 * (malloc'd), or -1 with a message in err (no such switch, no answer
 * within timeout_ms, a malformed answer). */
int hub_status_query(enum hub_kind kind, const char *name, int timeout_ms, char **json, char *err, size_t errlen);

#endif

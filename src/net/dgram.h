/* A port over UDP in the format of QEMU's `-netdev dgram`: one Ethernet
 * frame per datagram, no header. The port is bound to a local address and
 * sends every frame to one fixed remote address; datagrams from any other
 * address (a stranger, or the right host from another port) are dropped
 * and counted in stats.rx_dropped. Sending never blocks: a frame the
 * socket cannot take at once is dropped (stats.tx_dropped), as a full NIC
 * queue would.
 *
 * Everything runs on the thread of the event loop given at creation. */
#ifndef VIREO_NET_DGRAM_H
#define VIREO_NET_DGRAM_H

#include <stddef.h>

struct evloop;
struct net_port;

/* local, remote: "HOST:PORT" (net/sockaddr.h). local may have an empty
 * HOST (":PORT": every address of the remote's family); both must be of
 * the same family. Returns NULL with a message in err on bad addresses or
 * when local cannot be bound. */
struct net_port *net_dgram_new(struct evloop *l, const char *local, const char *remote, char *err, size_t errlen);

#endif

/* A port over a TCP connection in the format of QEMU's `-netdev stream`
 * and `-netdev socket,listen=/connect=`: each Ethernet frame is sent as a
 * 4-byte big-endian length followed by the frame, nothing else. So a
 * Vireo adapter can be cabled to a QEMU VM, to another Vireo, or to any
 * program that speaks that format.
 *
 * listen: bind HOST:PORT and take one peer at a time; a second connection
 * while one is active is refused (closed), and when the peer leaves the
 * port waits for the next one. connect: connect to HOST:PORT without
 * blocking the loop, and on failure or when the connection drops try again
 * every second, for as long as the port exists.
 *
 * Either way the far side is untrusted: a length outside
 * [NET_FRAME_MIN, NET_FRAME_MAX] ends the connection. Frames are only ever
 * written whole: what the socket does not take at once waits in a queue of
 * NET_STREAM_TXQ_MAX bytes, and frames that do not fit in it are dropped
 * (stats.tx_dropped) rather than blocking the event loop.
 *
 * Everything runs on the thread of the event loop given at creation. */
#ifndef VIREO_NET_STREAM_H
#define VIREO_NET_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct evloop;
struct net_port;

#define NET_STREAM_TXQ_MAX (1u << 20)
#define NET_STREAM_RETRY_NS 1000000000ull

/* hostport: "HOST:PORT" (see net/sockaddr.h; for listen an empty HOST
 * means every IPv4 address). A listening port fails here if the address
 * cannot be bound; a connecting one makes its first attempt from the loop
 * and never fails for want of a peer. Returns NULL with a message in err
 * on bad addresses and socket errors. */
struct net_port *net_stream_new(struct evloop *l, bool listen, const char *hostport, char *err, size_t errlen);

/* Called from the loop whenever a peer connects (up) or goes away (down),
 * so the adapter can show its link state. Never called from inside
 * net_stream_new or net_port_free; the state at the time of setting is
 * net_stream_is_up(). The callback must not free the port. */
void net_stream_set_link_cb(struct net_port *p, void (*cb)(void *opaque, bool up), void *opaque);
bool net_stream_is_up(const struct net_port *p);

/* Bytes waiting to be written to the peer (at most NET_STREAM_TXQ_MAX). */
size_t net_stream_tx_queued(const struct net_port *p);

#endif

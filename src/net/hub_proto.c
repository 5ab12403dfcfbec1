/* Frame messages and socket buffers of the VM<->switch wire, the same code
 * at both ends (net/client.c, net/hub.c). */
#include "net/hub_proto.h"

#include <endian.h>
#include <string.h>
#include <sys/socket.h>

#include "net/offload.h"

struct hub_frame_hdr hub_frame_hdr_make(const struct net_offload *o)
{
    return (struct hub_frame_hdr){
        .type = HUB_MSG_FRAME, .flags = o->flags, .gso_type = o->gso_type, .hdr_len = htole16(o->hdr_len),
        .gso_size = htole16(o->gso_size), .csum_start = htole16(o->csum_start),
        .csum_offset = htole16(o->csum_offset),
    };
}

bool hub_frame_parse(uint8_t *msg, size_t n, struct net_pkt *pkt)
{
    struct hub_frame_hdr h;
    if (n < sizeof(h) + NET_FRAME_MIN || n > HUB_MSG_MAX)
        return false;
    memcpy(&h, msg, sizeof(h));
    if (h.type != HUB_MSG_FRAME)
        return false;
    *pkt = (struct net_pkt){
        .data = msg + sizeof(h), .len = n - sizeof(h),
        .off = { h.flags, h.gso_type, le16toh(h.hdr_len), le16toh(h.gso_size), le16toh(h.csum_start),
                 le16toh(h.csum_offset) },
    };
    return net_offload_sane(&pkt->off, pkt->len);
}

void hub_set_sockbufs(int fd)
{
    int sz = HUB_SOCKBUF;
    /* Root may go past the system maximum; others get what it allows. */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

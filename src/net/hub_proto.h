/* The wire between a VM's adapter and a switch process (net/hub.c):
 * AF_UNIX SOCK_SEQPACKET, so each message is one frame and message
 * boundaries are kept by the kernel; the socket file's mode and directory
 * decide who may plug in.
 *
 *   client -> hub   struct hub_hello            once, first
 *   hub -> client   struct hub_welcome          once: accepted or why not
 *                   (+ JSON text for HUB_HELLO_STATUS, and the end)
 *   both ways       struct hub_frame_hdr + frame, one message each
 *
 * Multi-byte fields are little-endian. A message that is too short, too
 * long, or of an unknown type ends the connection with one log line. */
#ifndef VIREO_NET_HUB_PROTO_H
#define VIREO_NET_HUB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/pkt.h"

#define HUB_MAGIC "VIREONET"
#define HUB_VERSION 1

#define HUB_MSG_FRAME 1

/* hub_welcome.flags */
#define HUB_WELCOME_ON_DEMAND 1u /* a VM may start a new switch if this one goes */

/* hub_hello.flags */
#define HUB_HELLO_OFFLOADS 1u   /* the client sends and takes offload metadata */
#define HUB_HELLO_STATUS 2u     /* not a port: the welcome carries the switch's
                                 * report (net/hub_status.h), then the hub closes */

struct hub_hello {
    char magic[8];
    uint32_t version;
    uint32_t flags;
    uint8_t mac[6];             /* the adapter's MAC, for `vireo net show` */
    uint16_t vlan;              /* access VLAN; 0 = the network's default */
    char client[64];            /* who: "VMNAME nic1", NUL-terminated */
};

struct hub_welcome {
    char magic[8];
    uint32_t version;
    int32_t status;             /* 0 = plugged in; else an errno value */
    uint16_t mtu;               /* the network's MTU */
    uint16_t flags;             /* HUB_WELCOME_* */
    char message[128];          /* why not, NUL-terminated */
};

struct hub_frame_hdr {
    uint8_t type;               /* HUB_MSG_FRAME */
    uint8_t flags;              /* struct net_offload, little-endian */
    uint8_t gso_type;
    uint8_t reserved;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

#define HUB_MSG_MAX (sizeof(struct hub_frame_hdr) + NET_FRAME_MAX)

/* Socket buffers at both ends: a burst of full-size frames fits. */
#define HUB_SOCKBUF (4u << 20)

/* The header that carries o (offsets as on the wire, after
 * net_offload_tagged). */
struct hub_frame_hdr hub_frame_hdr_make(const struct net_offload *o);
/* The frame message of n bytes at msg into pkt (pointing into msg).
 * False for a runt, an oversized message, an unknown type, or metadata
 * that does not fit the frame (net_offload_sane): whichever end sent it,
 * offsets from one party never reach another party's driver. */
bool hub_frame_parse(uint8_t *msg, size_t n, struct net_pkt *pkt);
/* HUB_SOCKBUF both ways on a connected socket (past the system maximum
 * when allowed). */
void hub_set_sockbufs(int fd);

/* Network kinds that live in a switch process, and the words for them. */
enum hub_kind { HUB_INTNET, HUB_NATNETWORK, HUB_HOSTONLY, HUB_BRIDGED };

#endif

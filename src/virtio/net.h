/* virtio-net (virtio 1.2, 5.1): one adapter, one receive and one transmit
 * queue.
 *
 * The device knows nothing of where frames go: a frame the guest sends is
 * handed to opts.tx, and frames for the guest come in through
 * virtio_net_receive (vmm/nic.c connects both ends to a network port).
 *
 * Offered: MAC, STATUS (link up/down), MTU, MRG_RXBUF, and the offloads
 * that let an interpreted guest skip its most expensive per-byte work:
 * CSUM/HOST_TSO4/HOST_TSO6/HOST_ECN (the guest sends unfinished checksums
 * and 64 KiB TCP segments; ports that cannot take them have them finished
 * on the host, net/offload.c) and GUEST_CSUM/GUEST_TSO4/GUEST_TSO6/
 * GUEST_ECN (the guest takes them as they are).
 *
 * Threads: everything runs on the I/O thread. Frames the guest sends are
 * copied out of guest memory before anything looks at them, so the guest
 * cannot change a frame while it is being switched. */
#ifndef VIREO_VIRTIO_NET_H
#define VIREO_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/device.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_SPEED_DUPLEX 63

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

#define VIRTIO_NET_HDR_LEN 12 /* with num_buffers: always so for VERSION_1 */
#define VIRTIO_NET_RX 0
#define VIRTIO_NET_TX 1

/* Largest frame either way: a 64 KiB segment with Ethernet and VLAN
 * headers. */
#define VIRTIO_NET_FRAME_MAX (65535 + 14 + 4)

/* struct virtio_net_hdr in host byte order, without num_buffers. */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

struct virtio_net_stats {
    uint64_t tx_frames, tx_bytes, tx_errors;   /* from the guest */
    uint64_t rx_frames, rx_bytes, rx_dropped;  /* to the guest */
};

struct virtio_net_opts {
    uint8_t mac[6];
    uint16_t mtu;        /* offered to the guest; 0 = 1500 */
    bool link_up;
    const char *name;    /* for messages: "virtio-net nic1" */
    /* The guest sent a frame (I/O thread, work lock held). frame is the
     * device's own copy and may be changed in place; it stays valid only
     * during the call. The callee may call virtio_net_receive. */
    void (*tx)(void *opaque, const struct virtio_net_hdr *h, uint8_t *frame, size_t len);
    void *opaque;
};

struct virtio_dev *virtio_net_new(const struct virtio_net_opts *o);

/* A frame for the guest, as pieces (I/O thread). Copied into the receive
 * queue now, or into a bounded backlog until the guest gives buffers;
 * returns false when it had to be dropped (link down, backlog full, frame
 * too large). */
bool virtio_net_receive(struct virtio_dev *d, const struct virtio_net_hdr *h, const struct iovec *iov, int niov);

/* Whether the guest accepts frames with these offloads as they are; if
 * not, the caller finishes them first. */
bool virtio_net_accepts(struct virtio_dev *d, const struct virtio_net_hdr *h);

/* Plug or unplug the cable; the guest sees it through the STATUS config
 * field and a config change interrupt. Any thread. */
void virtio_net_set_link(struct virtio_dev *d, bool up);

void virtio_net_get_stats(struct virtio_dev *d, struct virtio_net_stats *out);

#endif

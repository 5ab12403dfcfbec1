/* The interface every virtio device implements (blk, net, console, rng,
 * input, balloon; later 9p), and the few services a transport gives it back.
 *
 * A device knows its queues and config space, never the transport: the
 * MMIO transport (virtio/mmio.c) owns register state, feature negotiation,
 * queue setup and the interrupt line, and calls the device through
 * struct virtio_dev_ops. Threads:
 *   - queue_notify runs on the I/O thread with the device's work lock held
 *     (see virtio_dev_lock), so a device's queue work is never concurrent
 *     with itself nor with a reset;
 *   - config_read/config_write run on a vCPU thread under the transport's
 *     register lock: they must be quick and must not block;
 *   - reset runs on a vCPU thread with both locks held, after the I/O thread
 *     has left the device: it only forgets state, never does I/O.
 */
#ifndef VIREO_VIRTIO_DEVICE_H
#define VIREO_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

/* Device IDs (virtio 1.2, section 5). */
enum {
    VIRTIO_ID_NET = 1,
    VIRTIO_ID_BLOCK = 2,
    VIRTIO_ID_CONSOLE = 3,
    VIRTIO_ID_RNG = 4,
    VIRTIO_ID_BALLOON = 5,
    VIRTIO_ID_9P = 9,
};

/* Device-independent feature bits (virtio 1.2, section 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device status bits (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Largest queue any device offers. 256, not less: Linux's virtio-net stops
 * its TX queue while fewer than 19 descriptors are free (DESIGN.md 3). */
#define VIRTIO_QUEUE_MAX 256

struct virtio_dev;
struct virtq;

struct virtio_dev_ops {
    /* The driver made buffers available on queue q (or the device asked to
     * be run again with virtio_dev_kick). I/O thread, work lock held. */
    void (*queue_notify)(struct virtio_dev *d, unsigned q);
    /* Config space access; off + size <= config_len is checked by the
     * transport. Either may be NULL (no space; read-only space). */
    void (*config_read)(struct virtio_dev *d, uint32_t off, void *buf, unsigned size);
    void (*config_write)(struct virtio_dev *d, uint32_t off, const void *buf, unsigned size);
    /* The driver set DRIVER_OK; d->features is final. May be NULL. */
    void (*driver_ok)(struct virtio_dev *d);
    /* Forget everything the driver told the device. May be NULL. */
    void (*reset)(struct virtio_dev *d);
    /* Release the device (its files, buffers, and the struct itself). */
    void (*free)(struct virtio_dev *d);
};

/* What the transport does for its device. Set by the transport when it
 * adopts the device; devices call the virtio_dev_* wrappers below. */
struct virtio_transport_ops {
    void (*notify_used)(void *opaque, unsigned q);  /* raise used-buffer irq */
    void (*config_changed)(void *opaque);           /* bump generation, irq */
    void (*failed)(void *opaque);                   /* set DEVICE_NEEDS_RESET */
    void (*kick)(void *opaque, unsigned q);         /* run queue_notify again */
    void (*lock)(void *opaque);
    void (*unlock)(void *opaque);
};

/* Embedded at the start of each device's own struct. */
struct virtio_dev {
    const struct virtio_dev_ops *ops;
    char name[64];             /* for messages, e.g. "virtio-blk disk.img" */
    uint32_t device_id;        /* VIRTIO_ID_* */
    uint64_t host_features;    /* device-specific bits offered; the
                                * transport adds VERSION_1, INDIRECT_DESC
                                * and EVENT_IDX */
    uint64_t features;         /* negotiated; valid from FEATURES_OK */
    unsigned num_queues;       /* at most VIRTIO_DEV_MAX_QUEUES */
    uint32_t config_len;       /* bytes of device config space */

    /* Filled by the transport. */
    struct virtq *vq;          /* array of num_queues */
    const struct virtio_guest_mem *mem;
    const struct virtio_transport_ops *tops;
    void *topaque;
    bool error_logged;         /* one calm message per device, not a flood */
};

#define VIRTIO_DEV_MAX_QUEUES 32

static inline bool virtio_dev_has(const struct virtio_dev *d, unsigned bit)
{
    return (d->features >> bit) & 1;
}

/* Take the device's work lock. Needed only for queue work that starts on
 * the I/O thread by itself (console input, a packet from a socket): a
 * queue_notify handler already runs with it held. No-op when the device is
 * not yet attached to a transport. */
static inline void virtio_dev_lock(struct virtio_dev *d)
{
    if (d->tops)
        d->tops->lock(d->topaque);
}

static inline void virtio_dev_unlock(struct virtio_dev *d)
{
    if (d->tops)
        d->tops->unlock(d->topaque);
}

/* Ask for queue_notify(q) to run again on a later loop round: used when a
 * handler stops after a fair share of work so other devices get a turn. */
static inline void virtio_dev_kick(struct virtio_dev *d, unsigned q)
{
    if (d->tops)
        d->tops->kick(d->topaque, q);
}

/* The device changed its config space (e.g. a resized disk). */
static inline void virtio_dev_config_changed(struct virtio_dev *d)
{
    if (d->tops)
        d->tops->config_changed(d->topaque);
}

/* The driver broke the protocol: log once, calmly, naming the device, stop
 * every queue and tell the driver through DEVICE_NEEDS_RESET and a config
 * change interrupt. I/O thread, work lock held. */
void virtio_dev_fail(struct virtio_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Release a device that was never handed to a transport. */
void virtio_dev_free(struct virtio_dev *d);

#endif

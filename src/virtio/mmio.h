/* virtio-mmio transport, version 2 only (virtio 1.2, 4.2): one instance per
 * 0x1000-byte slot, wrapping one device.
 *
 * Threads. Register reads and writes come from vCPU threads, several at
 * once; they take a short register lock and never wait for host I/O. A
 * QueueNotify write only sets a bit and signals an eventfd: the device work
 * runs on the I/O thread (virtio_mmio_poll, called by the evloop when the
 * eventfd fires) under the device's work lock. Writes that change queue or
 * device state (QueueReady, Status, reset) take the work lock too, so they
 * wait until the I/O thread has left the device: a reset can never pull
 * rings out from under a running request. Lock order: work, then register.
 */
#ifndef VIREO_VIRTIO_MMIO_H
#define VIREO_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/virtio.h"

#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_MAGIC 0x74726976u  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4f524956u /* "VIRO" */

/* Register offsets (virtio 1.2, 4.2.2). */
enum {
    VIRTIO_MMIO_MAGIC_VALUE = 0x000,
    VIRTIO_MMIO_VERSION = 0x004,
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_VENDOR_ID = 0x00c,
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_QUEUE_SEL = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
    VIRTIO_MMIO_QUEUE_NUM = 0x038,
    VIRTIO_MMIO_QUEUE_READY = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
    VIRTIO_MMIO_STATUS = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
    VIRTIO_MMIO_SHM_SEL = 0x0ac,
    VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0,
    VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4,
    VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8,
    VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc,
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,
    VIRTIO_MMIO_CONFIG = 0x100,
};

#define VIRTIO_MMIO_INT_VRING 1u  /* InterruptStatus: used buffer */
#define VIRTIO_MMIO_INT_CONFIG 2u /* InterruptStatus: config change */

struct evloop;
struct virtio_mmio;

/* Wrap dev; the transport owns it from here on (freed with the transport,
 * or at once if this fails). mem must outlive the transport. irq.set is
 * called with the register lock held, only when the level changes; it must
 * not call back into the transport. io: the I/O thread's loop, which gets
 * the notify eventfd; call before that loop runs. io may be NULL, then the
 * caller runs virtio_mmio_poll itself (tests do, deterministically).
 * Returns NULL after logging why. */
struct virtio_mmio *virtio_mmio_new(struct virtio_dev *dev, const struct virtio_guest_mem *mem,
                                    struct virtio_irq irq, struct evloop *io);
/* From the I/O thread, or once it has stopped; no vCPU may still call in. */
void virtio_mmio_free(struct virtio_mmio *t);

/* Guest access at off inside the slot. Registers (below 0x100) take 32-bit
 * aligned accesses only; the config space takes 1, 2, 4 or 8 bytes. Unknown
 * registers read 0 and ignore writes. False only for an access the bus
 * should fault (wrong width on a register, beyond the slot). vCPU threads. */
bool virtio_mmio_read(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t *val);
bool virtio_mmio_write(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t val);

/* Run the queue work the guest has asked for since the last call. The
 * eventfd callback calls this; tests call it directly. I/O thread. */
void virtio_mmio_poll(struct virtio_mmio *t);

struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *t);

#endif

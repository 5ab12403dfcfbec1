/* Split virtqueues (virtio 1.2, 2.7), device side.
 *
 * The rings live in guest RAM and the guest writes them from other host
 * threads at any time, so every value read from them is untrusted: each
 * descriptor is copied once and the copy is checked (address and length
 * inside RAM, overflow-safe; next index inside its table; chains no longer
 * than their table, which also catches loops; indirect tables well formed
 * and not nested; readable buffers before writable ones). A violation
 * stops the device with virtio_dev_fail instead of looping or crashing.
 *
 * Ordering: avail->idx is read with acquire (ring entries and descriptors
 * the driver wrote before it are then visible), used->idx is written with
 * release (our used entries and buffer contents become visible before it),
 * and a full fence separates our last write from reading the driver's
 * suppression fields, the other half of the Dekker-style handshake.
 *
 * All calls below run on the I/O thread with the device's work lock held.
 */
#ifndef VIREO_VIRTIO_QUEUE_H
#define VIREO_VIRTIO_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/device.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Most buffers one chain may have, direct and indirect together. Equal to
 * the largest queue: the spec forbids chains longer than the queue size,
 * and it keeps an element a fixed 4 KiB. */
#define VIRTQ_ELEM_MAX VIRTIO_QUEUE_MAX

/* One descriptor chain as host pointers into guest RAM. iov[0, n_out) are
 * device-readable ("out" of the driver), iov[n_out, n_out + n_in) are
 * device-writable. Zero-length descriptors are dropped. */
struct virtq_elem {
    uint16_t head;      /* id for the used ring */
    uint16_t n_out, n_in;
    uint32_t out_len, in_len;  /* byte totals; each fits 32 bits */
    struct iovec iov[VIRTQ_ELEM_MAX];
};

struct virtq {
    /* Set up by the transport while the queue is not live. */
    struct virtio_dev *dev;
    unsigned index;
    uint16_t num;                 /* size, a power of 2 */
    uint8_t *desc, *avail, *used; /* host pointers, checked at setup */
    uint64_t used_gpa;
    bool event_idx, indirect;     /* negotiated */

    /* Device-side progress. */
    uint16_t last_avail;          /* next avail entry to take */
    uint16_t shadow_avail;        /* last avail->idx read */
    uint16_t used_idx;            /* our copy of used->idx */
    uint16_t signalled_used;      /* used_idx at the last notify decision */

    /* True while the device may process the queue: enabled by the driver,
     * DRIVER_OK set, no error. Changed only with the work lock held (the
     * transport takes it), so it cannot change under a running handler
     * except by that handler's own virtio_dev_fail. */
    _Atomic bool live;
};

/* Validate the driver's queue registers against guest RAM and, if good, set
 * vq up (not live yet). On failure returns false and fills why. */
bool virtq_setup(struct virtq *vq, const struct virtio_guest_mem *mem, uint16_t num,
                 uint64_t desc, uint64_t avail, uint64_t used, const char **why);
/* Back to the state after reset (not live, nothing mapped). */
void virtq_clear(struct virtq *vq);

static inline bool virtq_live(const struct virtq *vq)
{
    return atomic_load_explicit(&vq->live, memory_order_acquire);
}

/* Take the next available chain. Returns 1 with e filled, 0 if the queue is
 * empty (or not live), -1 if the driver broke the rules: the device has then
 * been failed (DEVICE_NEEDS_RESET) and the queue is stopped. When it
 * returns 0 it has already asked the driver to notify on the next buffer. */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);

/* Put a chain back with `written` bytes written into its writable part
 * (clamped to in_len), and report those bytes to mem->note_write. */
void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t written);

/* The two halves of virtq_push, for a result spread over several chains
 * (virtio-net's mergeable receive buffers): the driver must see all of them
 * at once. virtq_fill writes the used entry `pos` places after the current
 * used index without publishing it (the caller reports the bytes it wrote
 * to mem->note_write itself); virtq_flush publishes n filled entries. */
void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written, uint16_t pos);
void virtq_flush(struct virtq *vq, uint16_t n);
/* Give back the last n chains taken with virtq_pop and not yet used: the
 * next virtq_pop returns them again. */
void virtq_unpop(struct virtq *vq, uint16_t n);

/* Raise the used-buffer interrupt unless the driver suppressed it (used
 * event index, or VIRTQ_AVAIL_F_NO_INTERRUPT). Call once after a batch of
 * virtq_push. */
void virtq_notify(struct virtq *vq);

/* Copy between a flat buffer and the iovec list iov[0, n) starting `skip`
 * bytes in. Return the bytes copied (less if the iovecs end first). */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len);
/* Fill dst with the window [skip, skip+len) of iov[0, n), at most max
 * entries; returns the number of entries, or -1 if it does not fit. Lets a
 * device hand guest buffers to preadv/pwritev without copying. */
int iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *dst, unsigned max);

#endif

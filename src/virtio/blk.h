/* virtio-blk (virtio 1.2, 5.2) on a raw image file or block device.
 *
 * Offers SEG_MAX, BLK_SIZE (512), FLUSH, and on writable disks DISCARD and
 * WRITE_ZEROES; RO on read-only disks. Requests: IN, OUT, FLUSH (fdatasync:
 * data is durable once the guest's flush completes), GET_ID, DISCARD (punches
 * holes, so sparse images stay sparse), WRITE_ZEROES. Data moves with
 * preadv/pwritev straight between the file and guest RAM. Every sector range
 * is checked against the capacity: the file is never touched past its end.
 *
 * Requests run synchronously on the I/O thread for now; parsing, execution
 * and completion are separate steps (blk.c) so a worker pool can take the
 * execution step later without touching the queue code.
 */
#ifndef VIREO_VIRTIO_BLK_H
#define VIREO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* Config space offsets (struct virtio_blk_config). */
#define VIRTIO_BLK_CFG_CAPACITY 0
#define VIRTIO_BLK_CFG_SEG_MAX 12
#define VIRTIO_BLK_CFG_BLK_SIZE 20
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define VIRTIO_BLK_CFG_DISCARD_ALIGN 44
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS 48
#define VIRTIO_BLK_CFG_MAX_WZ_SEG 52
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP 56
#define VIRTIO_BLK_CFG_LEN 60

struct virtio_blk_opts {
    const char *path;           /* for messages, and opened unless use_fd */
    bool readonly;
    /* Use a copy of this descriptor of path, opened as readonly says (a VM
     * keeps its disks open across guest resets, and with them its lock). */
    bool use_fd;
    int fd;
    /* GET_ID answer, at most 20 bytes used; NULL: the file's base name. */
    const char *serial;
};

/* Open the image (locked against a second writer: shared lock when
 * read-only, exclusive otherwise). NULL after one message naming the file. */
struct virtio_dev *virtio_blk_new(const struct virtio_blk_opts *o);
/* The device's descriptor of its image (to keep a copy across resets). */
int virtio_blk_fd(struct virtio_dev *d);

/* Completed requests since the device was created; errors counts requests
 * answered with anything but OK. */
struct virtio_blk_stats {
    uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, flushes, errors;
};
void virtio_blk_get_stats(struct virtio_dev *d, struct virtio_blk_stats *out);

#endif

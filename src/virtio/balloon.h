/* virtio-balloon (virtio 1.2, 5.5): gives guest memory back to the host.
 *
 * Two ways:
 *   - the balloon: the host sets a target (config num_pages, 4 KiB pages
 *     the guest should hand over); the guest's driver takes that many pages
 *     from its allocator and sends their frame numbers on inflateq, and we
 *     discard them (MADV_DONTNEED: the host frees them, a later touch gets a
 *     zero page). Deflating (deflateq) needs nothing from us: the guest may
 *     touch the pages again. With DEFLATE_ON_OOM the guest deflates by
 *     itself under memory pressure instead of killing its processes;
 *   - free page reporting (F_REPORTING): the guest's allocator reports
 *     large free blocks (4 MiB on the default guest) about two seconds after
 *     they became free, and we discard them the same way. Memory a guest
 *     used once and freed then stops costing the host, with nobody setting
 *     a target.
 *
 * Every frame number and range comes from the guest: each is checked to
 * lie inside guest RAM (others are counted and skipped), only whole pages
 * are discarded, and decoded code on them is retired (mem->note_write), as
 * for any write the device makes. A guest can only take memory from itself.
 *
 * Queues: 0 inflateq, 1 deflateq, 2 reporting_vq (present when F_REPORTING
 * is negotiated; Linux numbers the queues that exist consecutively, and we
 * offer neither STATS_VQ nor FREE_PAGE_HINT, which would come before it).
 */
#ifndef VIREO_VIRTIO_BALLOON_H
#define VIREO_VIRTIO_BALLOON_H

#include <stdint.h>

#include "virtio/device.h"

#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON 4
#define VIRTIO_BALLOON_F_REPORTING 5

#define VIRTIO_BALLOON_PAGE 4096u

struct virtio_balloon_stats {
    uint32_t target_pages;     /* what the host asked for */
    uint32_t actual_pages;     /* what the guest says the balloon holds */
    uint64_t inflated_pages;   /* pages discarded from inflateq, in all */
    uint64_t deflated_pages;   /* pages the guest took back, in all */
    uint64_t reported_bytes;   /* bytes discarded from free page reports, in all */
    uint64_t bad_addresses;    /* frame numbers or ranges outside guest RAM */
};

struct virtio_dev *virtio_balloon_new(void);
/* Ask the guest to hand over `pages` 4 KiB pages (0: give everything
 * back). Any thread. */
void virtio_balloon_set_target(struct virtio_dev *d, uint32_t pages);
void virtio_balloon_get_stats(struct virtio_dev *d, struct virtio_balloon_stats *s);

#endif

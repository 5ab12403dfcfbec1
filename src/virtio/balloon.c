#include "virtio/balloon.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "virtio/queue.h"

enum { Q_INFLATE, Q_DEFLATE, Q_REPORTING, NUM_QUEUES };

/* Config space (virtio 1.2, 5.5.4): num_pages, actual, then
 * free_page_hint_cmd_id and poison_val, which need features we do not
 * offer and read as 0. */
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define CFG_LEN 16

/* Frame numbers handled per inflateq/deflateq round: a fair share of the
 * I/O thread (Linux sends at most 256 per buffer). */
#define PFN_BUDGET 4096
#define MAX_PFNS_PER_BUF 4096

struct balloon {
    struct virtio_dev dev;
    _Atomic uint32_t target;    /* num_pages */
    _Atomic uint32_t actual;    /* written by the driver */
    _Atomic uint64_t inflated, deflated, reported_bytes, bad;
    struct virtq_elem elem;
};

/* Give the whole host pages inside [gpa, gpa+len) of guest RAM back to
 * the host (guest pages are 4 KiB; a host with larger pages frees only
 * those the range covers whole). */
static void discard(struct balloon *b, uint64_t gpa, uint64_t len)
{
    const struct virtio_guest_mem *m = b->dev.mem;
    uint8_t *p = virtio_gpa(m, gpa, len);
    if (!p || len == 0)
        return;
    static uintptr_t host_page;
    if (!host_page) {
        long pg = sysconf(_SC_PAGESIZE);
        host_page = pg > 0 ? (uintptr_t)pg : VIRTIO_BALLOON_PAGE;
    }
    uintptr_t start = ((uintptr_t)p + host_page - 1) & ~(host_page - 1);
    uintptr_t end = ((uintptr_t)p + len) & ~(host_page - 1);
    if (end <= start)
        return;
    gpa += start - (uintptr_t)p;
    len = end - start;
    p = (uint8_t *)start;
    /* Guest RAM is private anonymous memory: the pages are freed now and a
     * later touch finds zeros. Decoded code there is stale from now on. */
    if (madvise(p, len, MADV_DONTNEED) != 0 && !b->dev.error_logged) {
        b->dev.error_logged = true;
        vwarn("%s: cannot give guest memory back to the host: %m", b->dev.name);
    }
    if (m->note_write)
        m->note_write(m->opaque, gpa, len);
}

/* Frame numbers (le32, 4 KiB each) in the readable part of e, at most
 * MAX_PFNS_PER_BUF of them (Linux sends at most 256 a buffer; more is
 * ignored, so one buffer cannot hold the I/O thread); runs of consecutive
 * frames are discarded together when `give_back`. Returns the number of
 * frames read. */
static uint32_t walk_pfns(struct balloon *b, const struct virtq_elem *e, bool give_back)
{
    const struct virtio_guest_mem *m = b->dev.mem;
    uint32_t pfns[MAX_PFNS_PER_BUF];
    /* One copy: the driver may change the buffer under us. */
    uint32_t n = (uint32_t)(iov_to_buf(e->iov, e->n_out, 0, pfns, sizeof(pfns)) / 4);
    uint64_t run_start = 0, run_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pfn_le = pfns[i];
        uint64_t gpa = (uint64_t)le32toh(pfn_le) * VIRTIO_BALLOON_PAGE;
        if (!virtio_gpa(m, gpa, VIRTIO_BALLOON_PAGE)) {
            if (atomic_fetch_add_explicit(&b->bad, 1, memory_order_relaxed) == 0)
                vwarn("%s: the guest gave page frame %#x, outside its RAM; skipped (further ones are only counted)",
                      b->dev.name, le32toh(pfn_le));
            continue;
        }
        if (!give_back)
            continue;
        if (run_len && gpa == run_start + run_len) {
            run_len += VIRTIO_BALLOON_PAGE;
            continue;
        }
        if (run_len)
            discard(b, run_start, run_len);
        run_start = gpa;
        run_len = VIRTIO_BALLOON_PAGE;
    }
    if (run_len)
        discard(b, run_start, run_len);
    return n;
}

static void pfn_queue(struct balloon *b, unsigned q)
{
    struct virtq *vq = &b->dev.vq[q];
    unsigned budget = PFN_BUDGET;
    int got = 0;
    while (budget && (got = virtq_pop(vq, &b->elem)) > 0) {
        uint32_t n = walk_pfns(b, &b->elem, q == Q_INFLATE);
        atomic_fetch_add_explicit(q == Q_INFLATE ? &b->inflated : &b->deflated, n, memory_order_relaxed);
        virtq_push(vq, &b->elem, 0);
        /* An empty buffer costs a frame's share too. */
        budget = n < budget ? budget - (n ? n : 1) : 0;
    }
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(&b->dev, q);
}

/* Free page reports: each writable buffer is one free block of guest RAM.
 * Only the whole pages inside it are discarded. */
static void reporting_queue(struct balloon *b)
{
    const struct virtio_guest_mem *m = b->dev.mem;
    struct virtq *vq = &b->dev.vq[Q_REPORTING];
    unsigned budget = vq->num;
    int got = 0;
    while (budget-- && (got = virtq_pop(vq, &b->elem)) > 0) {
        const struct virtq_elem *e = &b->elem;
        for (unsigned i = e->n_out; i < (unsigned)e->n_out + e->n_in; i++) {
            uint64_t off = (uint64_t)((uint8_t *)e->iov[i].iov_base - m->host);
            uint64_t start = (off + VIRTIO_BALLOON_PAGE - 1) & ~(uint64_t)(VIRTIO_BALLOON_PAGE - 1);
            uint64_t end = (off + e->iov[i].iov_len) & ~(uint64_t)(VIRTIO_BALLOON_PAGE - 1);
            if (end > start) {
                discard(b, m->base + start, end - start);
                atomic_fetch_add_explicit(&b->reported_bytes, end - start, memory_order_relaxed);
            }
        }
        /* Nothing written into the buffers: the guest's pages stay as the
         * discard left them. */
        virtq_push(vq, e, 0);
    }
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(&b->dev, Q_REPORTING);
}

static void balloon_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct balloon *b = (struct balloon *)d;
    if (q == Q_INFLATE || q == Q_DEFLATE)
        pfn_queue(b, q);
    else if (q == Q_REPORTING && virtio_dev_has(d, VIRTIO_BALLOON_F_REPORTING))
        reporting_queue(b);
}

static void balloon_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    struct balloon *b = (struct balloon *)d;
    uint8_t cfg[CFG_LEN] = { 0 };
    uint32_t v = htole32(atomic_load(&b->target));
    memcpy(cfg + CFG_NUM_PAGES, &v, 4);
    v = htole32(atomic_load(&b->actual));
    memcpy(cfg + CFG_ACTUAL, &v, 4);
    memcpy(buf, cfg + off, size);
}

static void balloon_config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned size)
{
    struct balloon *b = (struct balloon *)d;
    /* Only `actual` is the driver's to write; a partial write updates
     * those bytes of it. */
    if (off < CFG_ACTUAL || off + size > CFG_ACTUAL + 4)
        return;
    uint32_t v = htole32(atomic_load(&b->actual));
    memcpy((uint8_t *)&v + (off - CFG_ACTUAL), buf, size);
    atomic_store(&b->actual, le32toh(v));
}

static void balloon_reset(struct virtio_dev *d)
{
    /* A new driver starts with an empty balloon; the host's target stays. */
    atomic_store(&((struct balloon *)d)->actual, 0);
}

static void balloon_free(struct virtio_dev *d) { free(d); }

static const struct virtio_dev_ops balloon_ops = {
    .queue_notify = balloon_queue_notify,
    .config_read = balloon_config_read,
    .config_write = balloon_config_write,
    .reset = balloon_reset,
    .free = balloon_free,
};

struct virtio_dev *virtio_balloon_new(void)
{
    struct balloon *b = calloc(1, sizeof(*b));
    if (!b) {
        verror("virtio-balloon: out of memory");
        return NULL;
    }
    struct virtio_dev *d = &b->dev;
    d->ops = &balloon_ops;
    snprintf(d->name, sizeof(d->name), "virtio-balloon");
    d->device_id = VIRTIO_ID_BALLOON;
    d->host_features = 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM | 1ull << VIRTIO_BALLOON_F_REPORTING;
    d->num_queues = NUM_QUEUES;
    d->config_len = CFG_LEN;
    return d;
}

void virtio_balloon_set_target(struct virtio_dev *d, uint32_t pages)
{
    struct balloon *b = (struct balloon *)d;
    if (atomic_exchange(&b->target, pages) != pages)
        virtio_dev_config_changed(d);
}

void virtio_balloon_get_stats(struct virtio_dev *d, struct virtio_balloon_stats *s)
{
    struct balloon *b = (struct balloon *)d;
    *s = (struct virtio_balloon_stats){
        .target_pages = atomic_load(&b->target),
        .actual_pages = atomic_load(&b->actual),
        .inflated_pages = atomic_load(&b->inflated),
        .deflated_pages = atomic_load(&b->deflated),
        .reported_bytes = atomic_load(&b->reported_bytes),
        .bad_addresses = atomic_load(&b->bad),
    };
}

#include "virtio/queue.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

/* Offsets inside the rings (virtio 1.2, 2.7.6 and 2.7.8). */
#define AVAIL_IDX 2
#define AVAIL_RING(i) (4 + 2 * (size_t)(i))
#define USED_IDX 2
#define USED_RING(i) (4 + 8 * (size_t)(i))

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

void virtio_dev_fail(struct virtio_dev *d, const char *fmt, ...)
{
    for (unsigned i = 0; d->vq && i < d->num_queues; i++)
        atomic_store_explicit(&d->vq[i].live, false, memory_order_release);
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A hostile or buggy guest can repeat this after every reset: say it
     * once per device, then only at debug level. */
    if (!d->error_logged) {
        d->error_logged = true;
        vwarn("%s: %s; device stopped until the guest resets it", d->name, msg);
    } else {
        vdebug("%s: %s", d->name, msg);
    }
    if (d->tops)
        d->tops->failed(d->topaque);
}

void virtio_dev_free(struct virtio_dev *d)
{
    if (d && d->ops->free)
        d->ops->free(d);
}

void virtq_clear(struct virtq *vq)
{
    atomic_store_explicit(&vq->live, false, memory_order_release);
    vq->num = 0;
    vq->desc = vq->avail = vq->used = NULL;
    vq->used_gpa = 0;
    vq->event_idx = vq->indirect = false;
    vq->last_avail = vq->shadow_avail = vq->used_idx = 0;
    vq->signalled_used = 0;
}

bool virtq_setup(struct virtq *vq, const struct virtio_guest_mem *mem, uint16_t num,
                 uint64_t desc, uint64_t avail, uint64_t used, const char **why)
{
    if (num == 0 || num > VIRTIO_QUEUE_MAX || (num & (num - 1))) {
        *why = "queue size is not a power of 2 between 1 and 256";
        return false;
    }
    if ((desc & 15) || (avail & 1) || (used & 3)) {
        *why = "ring address misaligned (descriptors 16, driver area 2, device area 4)";
        return false;
    }
    /* Sizes include used_event/avail_event whether or not EVENT_IDX is
     * negotiated, as the spec lays the rings out. */
    uint8_t *d = virtio_gpa(mem, desc, 16 * (uint64_t)num);
    uint8_t *a = virtio_gpa(mem, avail, 6 + 2 * (uint64_t)num);
    uint8_t *u = virtio_gpa(mem, used, 6 + 8 * (uint64_t)num);
    if (!d || !a || !u) {
        *why = "ring outside guest RAM";
        return false;
    }
    /* Atomic access to idx needs natural alignment on the host too. */
    if (((uintptr_t)d & 15) || ((uintptr_t)a & 1) || ((uintptr_t)u & 3)) {
        *why = "ring misaligned in host memory";
        return false;
    }
    virtq_clear(vq);
    vq->num = num;
    vq->desc = d;
    vq->avail = a;
    vq->used = u;
    vq->used_gpa = used;
    return true;
}

static inline uint16_t load16_acquire(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE));
}

static inline uint16_t load16_relaxed(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static inline void store16(uint8_t *p, uint16_t v, int order)
{
    __atomic_store_n((uint16_t *)(void *)p, htole16(v), order);
}

static void note_write(const struct virtio_guest_mem *m, const void *host, uint64_t len)
{
    if (m->note_write && len)
        m->note_write(m->opaque, m->base + (uint64_t)((const uint8_t *)host - m->host), len);
}

/* Copy the descriptor once: the guest may rewrite it while we look. */
static void read_desc(const uint8_t *table, unsigned i, struct desc *out)
{
    struct desc raw;
    memcpy(&raw, table + 16 * (size_t)i, sizeof(raw));
    out->addr = le64toh(raw.addr);
    out->len = le32toh(raw.len);
    out->flags = le16toh(raw.flags);
    out->next = le16toh(raw.next);
}

/* Walk the chain starting at head. Returns NULL on success, else why
 * (possibly formatted into buf). */
static const char *walk_chain(struct virtq *vq, uint16_t head, struct virtq_elem *e, char *buf, size_t bufsz)
{
    const struct virtio_guest_mem *mem = vq->dev->mem;
    const uint8_t *table = vq->desc;
    unsigned tnum = vq->num, idx = head, count = 0;
    bool in_indirect = false;
    uint64_t out_len = 0, in_len = 0;
    unsigned n = 0;

    e->head = head;
    e->n_out = e->n_in = 0;
    for (;;) {
        /* A chain can visit each table entry at most once; more means a
         * loop (or a chain the spec forbids anyway). */
        if (++count > tnum)
            return in_indirect ? "indirect descriptor chain loops or is longer than its table"
                               : "descriptor chain loops or is longer than the queue";
        struct desc d;
        read_desc(table, idx, &d);

        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect)
                return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
            if (in_indirect)
                return "nested indirect descriptor";
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return "indirect descriptor with NEXT set";
            if (d.len == 0 || d.len % 16)
                return "indirect table length is not a non-zero multiple of 16";
            if (d.len / 16 > VIRTQ_ELEM_MAX)
                return "indirect table longer than the queue";
            table = virtio_gpa(mem, d.addr, d.len);
            if (!table) {
                snprintf(buf, bufsz, "indirect table %#llx+%#x outside guest RAM", (unsigned long long)d.addr, d.len);
                return buf;
            }
            tnum = d.len / 16;
            idx = 0;
            count = 0;
            in_indirect = true;
            continue;
        }

        if (d.len) {
            void *p = virtio_gpa(mem, d.addr, d.len);
            if (!p) {
                snprintf(buf, bufsz, "buffer %#llx+%#x outside guest RAM", (unsigned long long)d.addr, d.len);
                return buf;
            }
            if (n >= VIRTQ_ELEM_MAX)
                return "descriptor chain has too many buffers";
            if (d.flags & VIRTQ_DESC_F_WRITE) {
                in_len += d.len;
                e->n_in++;
            } else {
                if (e->n_in)
                    return "device-readable buffer after a device-writable one";
                out_len += d.len;
                e->n_out++;
            }
            if (in_len > UINT32_MAX || out_len > UINT32_MAX)
                return "descriptor chain longer than 4 GiB";
            e->iov[n].iov_base = p;
            e->iov[n].iov_len = d.len;
            n++;
        }

        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = d.next;
        if (idx >= tnum)
            return "next descriptor index out of range";
    }
    e->out_len = (uint32_t)out_len;
    e->in_len = (uint32_t)in_len;
    return NULL;
}

/* Re-read avail->idx; false (device failed) if it ran ahead by more than a
 * whole queue, which no honest driver can do. */
static bool refresh_avail(struct virtq *vq)
{
    uint16_t idx = load16_acquire(vq->avail + AVAIL_IDX);
    if ((uint16_t)(idx - vq->last_avail) > vq->num) {
        virtio_dev_fail(vq->dev, "queue %u: available index jumped from %u to %u (queue size %u)",
                        vq->index, vq->last_avail, idx, vq->num);
        return false;
    }
    vq->shadow_avail = idx;
    return true;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
    if (!virtq_live(vq))
        return 0;
    if (vq->last_avail == vq->shadow_avail) {
        if (!refresh_avail(vq))
            return -1;
        if (vq->last_avail == vq->shadow_avail) {
            if (!vq->event_idx)
                return 0; /* we never set NO_NOTIFY: the driver will kick */
            /* Ask to be notified for the next buffer, then look once more:
             * the driver may have added one before it saw avail_event. */
            store16(vq->used + USED_RING(vq->num), vq->last_avail, __ATOMIC_RELAXED);
            note_write(vq->dev->mem, vq->used + USED_RING(vq->num), 2);
            atomic_thread_fence(memory_order_seq_cst);
            if (!refresh_avail(vq))
                return -1;
            if (vq->last_avail == vq->shadow_avail)
                return 0;
        }
    }
    uint16_t head = load16_relaxed(vq->avail + AVAIL_RING(vq->last_avail & (vq->num - 1)));
    if (head >= vq->num) {
        virtio_dev_fail(vq->dev, "queue %u: available ring names descriptor %u (queue size %u)",
                        vq->index, head, vq->num);
        return -1;
    }
    char buf[96];
    const char *why = walk_chain(vq, head, e, buf, sizeof(buf));
    if (why) {
        virtio_dev_fail(vq->dev, "queue %u: %s (head %u)", vq->index, why, head);
        return -1;
    }
    vq->last_avail++;
    return 1;
}

void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t written)
{
    const struct virtio_guest_mem *mem = vq->dev->mem;
    if (written > e->in_len)
        written = e->in_len;
    /* Retire decoded code on the pages we wrote before the guest can see
     * the buffer as used. */
    uint32_t left = written;
    for (unsigned i = e->n_out; left && i < (unsigned)e->n_out + e->n_in; i++) {
        size_t l = e->iov[i].iov_len < left ? e->iov[i].iov_len : left;
        note_write(mem, e->iov[i].iov_base, l);
        left -= (uint32_t)l;
    }
    virtq_fill(vq, e->head, written, 0);
    virtq_flush(vq, 1);
}

void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written, uint16_t pos)
{
    uint8_t *ent = vq->used + USED_RING((uint16_t)(vq->used_idx + pos) & (vq->num - 1));
    uint32_t id = htole32(head), len = htole32(written);
    memcpy(ent, &id, 4);
    memcpy(ent + 4, &len, 4);
    note_write(vq->dev->mem, ent, 8);
}

void virtq_flush(struct virtq *vq, uint16_t n)
{
    vq->used_idx = (uint16_t)(vq->used_idx + n);
    store16(vq->used + USED_IDX, vq->used_idx, __ATOMIC_RELEASE);
    note_write(vq->dev->mem, vq->used + USED_IDX, 2);
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
    vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void virtq_notify(struct virtq *vq)
{
    /* Nothing used since the last interrupt decision: nothing to say. */
    if (!vq->num || vq->signalled_used == vq->used_idx)
        return;
    /* Our used->idx store must be visible before we read the driver's
     * suppression fields, or both sides may decide not to wake the other. */
    atomic_thread_fence(memory_order_seq_cst);
    bool need;
    uint16_t old = vq->signalled_used, now = vq->used_idx;
    vq->signalled_used = now;
    if (vq->event_idx) {
        uint16_t ev = load16_relaxed(vq->avail + AVAIL_RING(vq->num));
        /* vring_need_event: did used->idx step past used_event? */
        need = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
    } else {
        need = !(load16_relaxed(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (need && vq->dev->tops)
        vq->dev->tops->notify_used(vq->dev->topaque, vq->index);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t l = iov[i].iov_len - skip;
        if (l > len - done)
            l = len - done;
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, l);
        done += l;
        skip = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t l = iov[i].iov_len - skip;
        if (l > len - done)
            l = len - done;
        memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, l);
        done += l;
        skip = 0;
    }
    return done;
}

int iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *dst, unsigned max)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t l = iov[i].iov_len - skip;
        if (l > len)
            l = len;
        if (k >= max)
            return -1;
        dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
        dst[k].iov_len = l;
        k++;
        len -= l;
        skip = 0;
    }
    return len ? -1 : (int)k;
}

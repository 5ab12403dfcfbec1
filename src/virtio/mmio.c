#include "virtio/mmio.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/evloop.h"
#include "base/log.h"
#include "virtio/queue.h"

/* What the driver wrote for one queue, before and after it is enabled. */
struct mmio_queue {
    uint32_t num;
    bool ready;
    uint64_t desc, driver, device;
};

struct virtio_mmio {
    struct virtio_dev *dev;
    const struct virtio_guest_mem *mem;
    struct virtio_irq irq;
    struct evloop *io;
    int kickfd;                 /* vCPU -> I/O thread */
    _Atomic uint32_t kicked;    /* one bit per queue */

    pthread_mutex_t work;       /* held while the device works (I/O thread) */
    pthread_mutex_t lock;       /* registers below */
    uint32_t status, isr;
    uint32_t dev_feat_sel, drv_feat_sel, queue_sel, shm_sel;
    uint32_t config_gen;
    uint64_t driver_features;
    bool irq_level;
    struct mmio_queue q[VIRTIO_DEV_MAX_QUEUES];
    struct virtq *vqs;
};

static uint64_t offered_features(const struct virtio_mmio *t)
{
    return t->dev->host_features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
           (1ull << VIRTIO_F_EVENT_IDX);
}

/* Register lock held. */
static void update_irq(struct virtio_mmio *t)
{
    bool level = t->isr != 0;
    if (level != t->irq_level) {
        t->irq_level = level;
        if (t->irq.set)
            t->irq.set(t->irq.opaque, level);
    }
}

/* Register lock held. */
static void raise_config_irq(struct virtio_mmio *t)
{
    if (t->status & VIRTIO_STATUS_DRIVER_OK) {
        t->isr |= VIRTIO_MMIO_INT_CONFIG;
        update_irq(t);
    }
}

static void kick(struct virtio_mmio *t, unsigned q)
{
    atomic_fetch_or(&t->kicked, 1u << q);
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t r = write(t->kickfd, &one, sizeof(one));
    (void)r;
}

/* Both locks held: a queue is processed only while the driver enabled it,
 * the driver is running and the device has not failed. */
static void update_live(struct virtio_mmio *t)
{
    bool run = (t->status & VIRTIO_STATUS_DRIVER_OK) && (t->status & VIRTIO_STATUS_FEATURES_OK) &&
               !(t->status & VIRTIO_STATUS_NEEDS_RESET);
    for (unsigned i = 0; i < t->dev->num_queues; i++)
        atomic_store_explicit(&t->vqs[i].live, run && t->q[i].ready, memory_order_release);
}

/* Both locks held. The device cannot work until the guest resets it. */
static void fail_locked(struct virtio_mmio *t, const char *msg)
{
    struct virtio_dev *d = t->dev;
    if (!d->error_logged) {
        d->error_logged = true;
        vwarn("%s: %s; device stopped until the guest resets it", d->name, msg);
    } else {
        vdebug("%s: %s", d->name, msg);
    }
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    update_live(t);
    raise_config_irq(t);
}

/* Both locks held: the I/O thread is not inside the device. */
static void reset_locked(struct virtio_mmio *t)
{
    struct virtio_dev *d = t->dev;
    for (unsigned i = 0; i < d->num_queues; i++) {
        memset(&t->q[i], 0, sizeof(t->q[i]));
        virtq_clear(&t->vqs[i]);
    }
    atomic_store(&t->kicked, 0);
    t->status = 0;
    t->isr = 0;
    update_irq(t);
    t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = t->shm_sel = 0;
    t->driver_features = 0;
    d->features = 0;
    if (d->ops->reset)
        d->ops->reset(d);
}

static void set_queue_features(struct virtio_mmio *t)
{
    for (unsigned i = 0; i < t->dev->num_queues; i++) {
        t->vqs[i].event_idx = virtio_dev_has(t->dev, VIRTIO_F_EVENT_IDX);
        t->vqs[i].indirect = virtio_dev_has(t->dev, VIRTIO_F_INDIRECT_DESC);
    }
}

/* Both locks held. */
static void write_status(struct virtio_mmio *t, uint32_t val)
{
    if (val == 0) {
        reset_locked(t);
        return;
    }
    uint32_t old = t->status;
    uint32_t now = (val & 0xff & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);

    if ((now & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t want = t->driver_features;
        if ((want & ~offered_features(t)) || !(want & (1ull << VIRTIO_F_VERSION_1))) {
            /* Not set: the driver reads Status back and sees the refusal. */
            vdebug("%s: refused features %#llx (offered %#llx)", t->dev->name, (unsigned long long)want,
                   (unsigned long long)offered_features(t));
            now &= ~VIRTIO_STATUS_FEATURES_OK;
        } else {
            t->dev->features = want;
            set_queue_features(t);
        }
    }
    t->status = now;
    if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
        if (!(now & VIRTIO_STATUS_FEATURES_OK)) {
            fail_locked(t, "driver set DRIVER_OK without FEATURES_OK");
            return;
        }
        if (t->dev->ops->driver_ok)
            t->dev->ops->driver_ok(t->dev);
    }
    update_live(t);
    /* Buffers posted before DRIVER_OK (console receive buffers, say) are
     * looked at now. */
    if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
        for (unsigned i = 0; i < t->dev->num_queues; i++)
            if (t->q[i].ready)
                kick(t, i);
}

/* Both locks held. */
static void write_queue_ready(struct virtio_mmio *t, struct mmio_queue *q, struct virtq *vq, uint32_t val)
{
    if (!(val & 1)) {
        q->ready = false;
        virtq_clear(vq);
        update_live(t);
        return;
    }
    if (q->ready)
        return;
    const char *why = NULL;
    if (q->num > VIRTIO_QUEUE_MAX || !virtq_setup(vq, t->mem, (uint16_t)q->num, q->desc, q->driver, q->device, &why)) {
        char msg[192];
        snprintf(msg, sizeof(msg), "queue %u: %s (size %u, rings 0x%llx 0x%llx 0x%llx)", vq->index,
                 why ? why : "queue size larger than 256", (unsigned)q->num, (unsigned long long)q->desc,
                 (unsigned long long)q->driver, (unsigned long long)q->device);
        fail_locked(t, msg);
        return;
    }
    vq->event_idx = virtio_dev_has(t->dev, VIRTIO_F_EVENT_IDX);
    vq->indirect = virtio_dev_has(t->dev, VIRTIO_F_INDIRECT_DESC);
    q->ready = true;
    update_live(t);
}

static void set_lo(uint64_t *r, uint32_t v) { *r = (*r & ~0xffffffffull) | v; }
static void set_hi(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffffull) | ((uint64_t)v << 32); }

/* ---- services for the device (struct virtio_transport_ops) ---- */

static void op_notify_used(void *opaque, unsigned q)
{
    (void)q;
    struct virtio_mmio *t = opaque;
    pthread_mutex_lock(&t->lock);
    t->isr |= VIRTIO_MMIO_INT_VRING;
    update_irq(t);
    pthread_mutex_unlock(&t->lock);
}

static void op_config_changed(void *opaque)
{
    struct virtio_mmio *t = opaque;
    pthread_mutex_lock(&t->lock);
    t->config_gen++;
    raise_config_irq(t);
    pthread_mutex_unlock(&t->lock);
}

/* Called by virtio_dev_fail on the I/O thread, work lock held; the device
 * has already stopped its queues. */
static void op_failed(void *opaque)
{
    struct virtio_mmio *t = opaque;
    pthread_mutex_lock(&t->lock);
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    raise_config_irq(t);
    pthread_mutex_unlock(&t->lock);
}

static void op_kick(void *opaque, unsigned q)
{
    struct virtio_mmio *t = opaque;
    if (q < t->dev->num_queues)
        kick(t, q);
}

static void op_lock(void *opaque) { pthread_mutex_lock(&((struct virtio_mmio *)opaque)->work); }
static void op_unlock(void *opaque) { pthread_mutex_unlock(&((struct virtio_mmio *)opaque)->work); }

static const struct virtio_transport_ops mmio_tops = {
    .notify_used = op_notify_used,
    .config_changed = op_config_changed,
    .failed = op_failed,
    .kick = op_kick,
    .lock = op_lock,
    .unlock = op_unlock,
};

/* ---- the I/O thread side ---- */

void virtio_mmio_poll(struct virtio_mmio *t)
{
    uint64_t v;
    ssize_t r = read(t->kickfd, &v, sizeof(v));
    (void)r;
    uint32_t pending = atomic_exchange(&t->kicked, 0);
    if (!pending)
        return;
    pthread_mutex_lock(&t->work);
    for (unsigned q = 0; q < t->dev->num_queues; q++)
        if ((pending & (1u << q)) && virtq_live(&t->vqs[q]))
            t->dev->ops->queue_notify(t->dev, q);
    pthread_mutex_unlock(&t->work);
}

static void on_kick(void *opaque, int fd, uint32_t events)
{
    (void)fd;
    (void)events;
    virtio_mmio_poll(opaque);
}

/* ---- lifecycle ---- */

struct virtio_mmio *virtio_mmio_new(struct virtio_dev *dev, const struct virtio_guest_mem *mem,
                                    struct virtio_irq irq, struct evloop *io)
{
    if (!dev)
        return NULL;
    if (dev->num_queues == 0 || dev->num_queues > VIRTIO_DEV_MAX_QUEUES || !dev->ops->queue_notify) {
        verror("%s: bad device description (%u queues)", dev->name, dev->num_queues);
        virtio_dev_free(dev);
        return NULL;
    }
    struct virtio_mmio *t = calloc(1, sizeof(*t));
    struct virtq *vqs = calloc(dev->num_queues, sizeof(*vqs));
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!t || !vqs || fd < 0) {
        verror("%s: cannot create its transport: %s", dev->name, fd < 0 ? strerror(errno) : "out of memory");
        goto fail;
    }
    t->dev = dev;
    t->mem = mem;
    t->irq = irq;
    t->io = io;
    t->kickfd = fd;
    t->vqs = vqs;
    pthread_mutex_init(&t->work, NULL);
    pthread_mutex_init(&t->lock, NULL);
    for (unsigned i = 0; i < dev->num_queues; i++) {
        vqs[i].dev = dev;
        vqs[i].index = i;
    }
    dev->vq = vqs;
    dev->mem = mem;
    dev->tops = &mmio_tops;
    dev->topaque = t;
    if (io) {
        int e = evloop_add_fd(io, fd, EPOLLIN, on_kick, t);
        if (e < 0) {
            verror("%s: cannot watch its notify eventfd: %s", dev->name, strerror(-e));
            pthread_mutex_destroy(&t->work);
            pthread_mutex_destroy(&t->lock);
            dev->vq = NULL;
            dev->tops = NULL;
            goto fail;
        }
    }
    return t;
fail:
    if (fd >= 0)
        close(fd);
    free(vqs);
    free(t);
    virtio_dev_free(dev);
    return NULL;
}

void virtio_mmio_free(struct virtio_mmio *t)
{
    if (!t)
        return;
    if (t->io)
        evloop_del_fd(t->io, t->kickfd);
    close(t->kickfd);
    t->dev->vq = NULL;
    t->dev->tops = NULL;
    virtio_dev_free(t->dev);
    free(t->vqs);
    pthread_mutex_destroy(&t->work);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct virtio_dev *virtio_mmio_dev(struct virtio_mmio *t) { return t->dev; }

/* ---- guest accesses ---- */

static bool config_access(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t *val, bool write)
{
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return false;
    if (off + size > VIRTIO_MMIO_SIZE)
        return false;
    uint32_t coff = (uint32_t)(off - VIRTIO_MMIO_CONFIG);
    uint32_t len = t->dev->config_len;
    /* Only the part inside the device's config space is passed on; the
     * rest reads as zero. The space is little-endian, as is the value. */
    unsigned n = coff >= len ? 0 : (len - coff < size ? len - coff : size);
    uint8_t buf[8] = { 0 };
    if (write) {
        for (unsigned i = 0; i < size; i++)
            buf[i] = (uint8_t)(*val >> (8 * i));
    }
    pthread_mutex_lock(&t->lock);
    if (n) {
        if (!write && t->dev->ops->config_read)
            t->dev->ops->config_read(t->dev, coff, buf, n);
        else if (t->dev->ops->config_write)
            t->dev->ops->config_write(t->dev, coff, buf, n);
    }
    pthread_mutex_unlock(&t->lock);
    if (!write) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)buf[i] << (8 * i);
        *val = v;
    }
    return true;
}

bool virtio_mmio_read(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t *val)
{
    if (off >= VIRTIO_MMIO_CONFIG)
        return config_access(t, off, size, val, false);
    if (size != 4 || (off & 3))
        return false;
    uint32_t v = 0;
    pthread_mutex_lock(&t->lock);
    unsigned qs = t->queue_sel;
    struct mmio_queue *q = qs < t->dev->num_queues ? &t->q[qs] : NULL;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: v = VIRTIO_MMIO_MAGIC; break;
    case VIRTIO_MMIO_VERSION: v = 2; break;
    case VIRTIO_MMIO_DEVICE_ID: v = t->dev->device_id; break;
    case VIRTIO_MMIO_VENDOR_ID: v = VIRTIO_MMIO_VENDOR; break;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        v = t->dev_feat_sel < 2 ? (uint32_t)(offered_features(t) >> (32 * t->dev_feat_sel)) : 0;
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: v = q ? VIRTIO_QUEUE_MAX : 0; break;
    case VIRTIO_MMIO_QUEUE_NUM: v = q ? q->num : 0; break;
    case VIRTIO_MMIO_QUEUE_READY: v = q ? q->ready : 0; break;
    case VIRTIO_MMIO_INTERRUPT_STATUS: v = t->isr; break;
    case VIRTIO_MMIO_STATUS: v = t->status; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: v = q ? (uint32_t)q->desc : 0; break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: v = q ? (uint32_t)(q->desc >> 32) : 0; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: v = q ? (uint32_t)q->driver : 0; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: v = q ? (uint32_t)(q->driver >> 32) : 0; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: v = q ? (uint32_t)q->device : 0; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: v = q ? (uint32_t)(q->device >> 32) : 0; break;
    /* No shared memory regions: length -1 says "none" (4.2.2). */
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH: v = 0xffffffffu; break;
    case VIRTIO_MMIO_CONFIG_GENERATION: v = t->config_gen; break;
    default: v = 0; break;
    }
    pthread_mutex_unlock(&t->lock);
    *val = v;
    return true;
}

bool virtio_mmio_write(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t val64)
{
    if (off >= VIRTIO_MMIO_CONFIG)
        return config_access(t, off, size, &val64, true);
    if (size != 4 || (off & 3))
        return false;
    uint32_t val = (uint32_t)val64;

    if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
        /* The hot path: no lock, no device work on this vCPU. */
        if (val < t->dev->num_queues)
            kick(t, val);
        return true;
    }
    /* These change what the I/O thread may be using: wait until it has
     * left the device (work lock first, see mmio.h). */
    bool heavy = off == VIRTIO_MMIO_STATUS || off == VIRTIO_MMIO_QUEUE_READY;
    if (heavy)
        pthread_mutex_lock(&t->work);
    pthread_mutex_lock(&t->lock);
    unsigned qs = t->queue_sel;
    struct mmio_queue *q = qs < t->dev->num_queues ? &t->q[qs] : NULL;
    /* Queue registers are frozen while the queue is enabled (4.2.3.2). */
    struct mmio_queue *qw = q && !q->ready ? q : NULL;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_feat_sel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
            if (t->drv_feat_sel == 0)
                set_lo(&t->driver_features, val);
            else
                set_hi(&t->driver_features, val);
        }
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_feat_sel = val; break;
    case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = val; break;
    case VIRTIO_MMIO_QUEUE_NUM: if (qw) qw->num = val; break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (q)
            write_queue_ready(t, q, &t->vqs[qs], val);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->isr &= ~val;
        update_irq(t);
        break;
    case VIRTIO_MMIO_STATUS: write_status(t, val); break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: if (qw) set_lo(&qw->desc, val); break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (qw) set_hi(&qw->desc, val); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: if (qw) set_lo(&qw->driver, val); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: if (qw) set_hi(&qw->driver, val); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: if (qw) set_lo(&qw->device, val); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: if (qw) set_hi(&qw->device, val); break;
    case VIRTIO_MMIO_SHM_SEL: t->shm_sel = val; break;
    default: break; /* read-only or unknown: ignored */
    }
    pthread_mutex_unlock(&t->lock);
    if (heavy)
        pthread_mutex_unlock(&t->work);
    return true;
}

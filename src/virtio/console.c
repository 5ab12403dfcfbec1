#include "virtio/console.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/queue.h"

#define CFG_LEN 12 /* cols, rows, max_nr_ports, emerg_wr */

struct console {
    struct virtio_dev dev;
    struct virtio_chardev out;
    uint8_t config[CFG_LEN];
    /* Input ring, guarded by the work lock. */
    uint8_t in[VIRTIO_CONSOLE_INBUF];
    size_t head, count;
    _Atomic uint64_t dropped;
    struct virtq_elem elem;
};

/* Work lock held. */
static void deliver(struct console *c)
{
    struct virtq *vq = &c->dev.vq[VIRTIO_CONSOLE_RX];
    bool pushed = false;
    while (c->count) {
        if (virtq_pop(vq, &c->elem) <= 0)
            break;
        const struct virtq_elem *e = &c->elem;
        const struct iovec *iov = e->iov + e->n_out;
        size_t n = c->count < e->in_len ? c->count : e->in_len;
        /* The ring may wrap: at most two pieces. */
        size_t first = VIRTIO_CONSOLE_INBUF - c->head;
        if (first > n)
            first = n;
        iov_from_buf(iov, e->n_in, 0, c->in + c->head, first);
        iov_from_buf(iov, e->n_in, first, c->in, n - first);
        c->head = (c->head + n) % VIRTIO_CONSOLE_INBUF;
        c->count -= n;
        virtq_push(vq, e, (uint32_t)n);
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static void transmit(struct console *c)
{
    struct virtq *vq = &c->dev.vq[VIRTIO_CONSOLE_TX];
    unsigned budget = vq->num;
    int got = 0;
    while (budget-- && (got = virtq_pop(vq, &c->elem)) > 0) {
        const struct virtq_elem *e = &c->elem;
        for (unsigned i = 0; i < e->n_out; i++)
            if (c->out.write)
                c->out.write(c->out.opaque, e->iov[i].iov_base, e->iov[i].iov_len);
        virtq_push(vq, e, 0);
    }
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(&c->dev, VIRTIO_CONSOLE_TX);
}

static void console_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct console *c = (struct console *)d;
    if (q == VIRTIO_CONSOLE_RX)
        deliver(c);
    else
        transmit(c);
}

void virtio_console_input(struct virtio_dev *d, const uint8_t *buf, size_t len)
{
    struct console *c = (struct console *)d;
    virtio_dev_lock(d);
    size_t room = VIRTIO_CONSOLE_INBUF - c->count;
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        c->in[(c->head + c->count + i) % VIRTIO_CONSOLE_INBUF] = buf[i];
    c->count += n;
    if (n < len) {
        if (atomic_fetch_add(&c->dropped, len - n) == 0)
            vinfo("%s: guest is not reading its console; dropping input", d->name);
    }
    if (d->vq)
        deliver(c);
    virtio_dev_unlock(d);
}

uint64_t virtio_console_dropped(struct virtio_dev *d)
{
    return atomic_load(&((struct console *)d)->dropped);
}

static void console_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    memcpy(buf, ((struct console *)d)->config + off, size);
}

static void console_free(struct virtio_dev *d) { free(d); }

static const struct virtio_dev_ops console_ops = {
    .queue_notify = console_queue_notify,
    .config_read = console_config_read,
    .free = console_free,
};

struct virtio_dev *virtio_console_new(struct virtio_chardev out, uint16_t cols, uint16_t rows)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c) {
        verror("virtio-console: out of memory");
        return NULL;
    }
    c->out = out;
    struct virtio_dev *d = &c->dev;
    d->ops = &console_ops;
    snprintf(d->name, sizeof(d->name), "virtio-console");
    d->device_id = VIRTIO_ID_CONSOLE;
    d->num_queues = 2;
    d->config_len = CFG_LEN;
    if (cols && rows)
        d->host_features = 1ull << VIRTIO_CONSOLE_F_SIZE;
    uint16_t v = htole16(cols);
    memcpy(c->config + 0, &v, 2);
    v = htole16(rows);
    memcpy(c->config + 2, &v, 2);
    uint32_t ports = htole32(1);
    memcpy(c->config + 4, &ports, 4);
    return d;
}

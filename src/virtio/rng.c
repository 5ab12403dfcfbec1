#include "virtio/rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "base/log.h"
#include "virtio/queue.h"

struct rng {
    struct virtio_dev dev;
    struct virtq_elem elem;
};

/* Fill [p, p+len) as far as the kernel lets us; returns bytes filled. */
static size_t fill(void *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom((char *)p + done, len - done, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct rng *g = (struct rng *)d;
    struct virtq *vq = &d->vq[q];
    unsigned budget = 64;
    int got = 0;
    while (budget-- && (got = virtq_pop(vq, &g->elem)) > 0) {
        const struct virtq_elem *e = &g->elem;
        size_t want = e->in_len < VIRTIO_RNG_MAX_REQ ? e->in_len : VIRTIO_RNG_MAX_REQ, done = 0;
        for (unsigned i = e->n_out; i < (unsigned)e->n_out + e->n_in && done < want; i++) {
            size_t l = e->iov[i].iov_len < want - done ? e->iov[i].iov_len : want - done;
            size_t f = fill(e->iov[i].iov_base, l);
            done += f;
            if (f < l)
                break;
        }
        virtq_push(vq, e, (uint32_t)done);
    }
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(d, q);
}

static void rng_free(struct virtio_dev *d) { free(d); }

static const struct virtio_dev_ops rng_ops = {
    .queue_notify = rng_queue_notify,
    .free = rng_free,
};

struct virtio_dev *virtio_rng_new(void)
{
    struct rng *g = calloc(1, sizeof(*g));
    if (!g) {
        verror("virtio-rng: out of memory");
        return NULL;
    }
    struct virtio_dev *d = &g->dev;
    d->ops = &rng_ops;
    snprintf(d->name, sizeof(d->name), "virtio-rng");
    d->device_id = VIRTIO_ID_RNG;
    d->num_queues = 1;
    return d;
}

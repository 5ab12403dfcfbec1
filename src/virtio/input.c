#include "virtio/input.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/queue.h"

#define VENDOR 0x5652  /* "VR" */
#define PRODUCT 0x0001
#define VERSION 0x0001
#define EVENT_LEN 8    /* le16 type, le16 code, le32 value */
#define STATUS_BUDGET 64

struct input_event_le {
    uint16_t type, code;
    uint32_t value;
};

struct input {
    struct virtio_dev dev;
    /* Config space: select, subsel, size, reserved, union. The register
     * lock guards it (config_read/config_write/reset only). */
    uint8_t cfg[VIRTIO_INPUT_CFG_LEN];
    /* Waiting events, a ring guarded by the work lock. */
    struct input_event_le pending[VIRTIO_INPUT_PENDING_MAX];
    unsigned head, count;
    _Atomic uint64_t dropped;
    struct virtq_elem elem;
};

/* Fill size and the union for the current select/subsel. Register lock. */
static void cfg_update(struct input *in)
{
    uint8_t sel = in->cfg[0], sub = in->cfg[1];
    uint8_t *u = in->cfg + VIRTIO_INPUT_CFG_UNION;
    uint8_t size = 0;
    memset(u, 0, VIRTIO_INPUT_CFG_LEN - VIRTIO_INPUT_CFG_UNION);
    switch (sel) {
    case VIRTIO_INPUT_CFG_ID_NAME:
        if (sub == 0) {
            size = (uint8_t)strlen(VIRTIO_INPUT_NAME);
            memcpy(u, VIRTIO_INPUT_NAME, size);
        }
        break;
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (sub == 0) {
            uint16_t ids[4] = { htole16(VIRTIO_INPUT_BUS_VIRTUAL), htole16(VENDOR), htole16(PRODUCT),
                                htole16(VERSION) };
            memcpy(u, ids, sizeof(ids));
            size = sizeof(ids);
        }
        break;
    case VIRTIO_INPUT_CFG_EV_BITS:
        if (sub == VIRTIO_INPUT_EV_KEY) {
            u[VIRTIO_INPUT_KEY_POWER / 8] |= (uint8_t)(1u << (VIRTIO_INPUT_KEY_POWER % 8));
            size = VIRTIO_INPUT_KEY_POWER / 8 + 1;
        }
        break;
    default: /* UNSET, ID_SERIAL, PROP_BITS (none), ABS_INFO (no axes) */
        break;
    }
    in->cfg[2] = size;
}

static void input_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    memcpy(buf, ((struct input *)d)->cfg + off, size);
}

static void input_config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned size)
{
    struct input *in = (struct input *)d;
    bool changed = false;
    /* Only select (0) and subsel (1) are writable. */
    for (unsigned i = 0; i < size; i++) {
        if (off + i < 2) {
            in->cfg[off + i] = ((const uint8_t *)buf)[i];
            changed = true;
        }
    }
    if (changed)
        cfg_update(in);
}

/* Work lock held. */
static void deliver(struct input *in)
{
    struct virtq *vq = &in->dev.vq[VIRTIO_INPUT_EVENTQ];
    bool pushed = false;
    while (in->count) {
        if (virtq_pop(vq, &in->elem) <= 0)
            break;
        const struct virtq_elem *e = &in->elem;
        const struct input_event_le *ev = &in->pending[in->head];
        uint8_t b[EVENT_LEN];
        uint16_t t = htole16(ev->type), c = htole16(ev->code);
        uint32_t v = htole32(ev->value);
        memcpy(b, &t, 2);
        memcpy(b + 2, &c, 2);
        memcpy(b + 4, &v, 4);
        size_t n = iov_from_buf(e->iov + e->n_out, e->n_in, 0, b, sizeof(b));
        virtq_push(vq, e, (uint32_t)n);
        in->head = (in->head + 1) % VIRTIO_INPUT_PENDING_MAX;
        in->count--;
        pushed = true;
    }
    if (pushed)
        virtq_notify(vq);
}

static void status(struct input *in)
{
    struct virtq *vq = &in->dev.vq[VIRTIO_INPUT_STATUSQ];
    unsigned budget = STATUS_BUDGET;
    int got = 0;
    while (budget-- && (got = virtq_pop(vq, &in->elem)) > 0)
        virtq_push(vq, &in->elem, 0);
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(&in->dev, VIRTIO_INPUT_STATUSQ);
}

static void input_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct input *in = (struct input *)d;
    if (q == VIRTIO_INPUT_EVENTQ)
        deliver(in);
    else
        status(in);
}

static void queue_event(struct input *in, uint16_t type, uint16_t code, uint32_t value)
{
    unsigned tail = (in->head + in->count) % VIRTIO_INPUT_PENDING_MAX;
    in->pending[tail] = (struct input_event_le){ type, code, value };
    in->count++;
}

void virtio_input_press_power(struct virtio_dev *d)
{
    struct input *in = (struct input *)d;
    virtio_dev_lock(d);
    if (VIRTIO_INPUT_PENDING_MAX - in->count < 4) {
        if (atomic_fetch_add(&in->dropped, 1) == 0)
            vinfo("%s: guest is not taking input events; dropping power button presses", d->name);
    } else {
        queue_event(in, VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 1);
        queue_event(in, VIRTIO_INPUT_EV_SYN, 0, 0);
        queue_event(in, VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 0);
        queue_event(in, VIRTIO_INPUT_EV_SYN, 0, 0);
    }
    if (d->vq)
        deliver(in);
    virtio_dev_unlock(d);
}

uint64_t virtio_input_dropped(struct virtio_dev *d)
{
    return atomic_load(&((struct input *)d)->dropped);
}

/* Both locks held: forget what the driver selected; waiting events stay. */
static void input_reset(struct virtio_dev *d)
{
    struct input *in = (struct input *)d;
    in->cfg[0] = in->cfg[1] = 0;
    cfg_update(in);
}

static void input_free(struct virtio_dev *d) { free(d); }

static const struct virtio_dev_ops input_ops = {
    .queue_notify = input_queue_notify,
    .config_read = input_config_read,
    .config_write = input_config_write,
    .reset = input_reset,
    .free = input_free,
};

struct virtio_dev *virtio_input_powerbutton_new(void)
{
    struct input *in = calloc(1, sizeof(*in));
    if (!in) {
        verror("virtio-input: out of memory");
        return NULL;
    }
    struct virtio_dev *d = &in->dev;
    d->ops = &input_ops;
    snprintf(d->name, sizeof(d->name), "virtio-input power button");
    d->device_id = VIRTIO_ID_INPUT;
    d->num_queues = 2;
    d->config_len = VIRTIO_INPUT_CFG_LEN;
    cfg_update(in);
    return d;
}

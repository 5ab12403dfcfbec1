#include "machine/rtc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/clock.h"
#include "machine/plic.h"

enum {
    TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c,
    IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c,
};

struct goldfish_rtc {
    pthread_mutex_t lock;
    struct plic *plic;
    unsigned irq;
    int64_t offset_ns;     /* guest time = host realtime + offset (guest may set it) */
    uint32_t time_high;    /* latched by a TIME_LOW read */
    uint32_t alarm_high;
    uint64_t alarm_ns;     /* guest time; 0 = not armed */
    bool irq_enabled, irq_pending;
};

static uint64_t guest_now(const struct goldfish_rtc *r) { return vclock_realtime_ns() + (uint64_t)r->offset_ns; }

struct goldfish_rtc *goldfish_rtc_new(struct plic *plic, unsigned irq)
{
    struct goldfish_rtc *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->plic = plic;
    r->irq = irq;
    return r;
}

void goldfish_rtc_free(struct goldfish_rtc *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void update_irq(struct goldfish_rtc *r)
{
    plic_set_irq(r->plic, r->irq, r->irq_enabled && r->irq_pending);
}

void goldfish_rtc_poll(struct goldfish_rtc *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->alarm_ns && guest_now(r) >= r->alarm_ns) {
        r->alarm_ns = 0;
        r->irq_pending = true;
        update_irq(r);
    }
    pthread_mutex_unlock(&r->lock);
}

uint64_t goldfish_rtc_alarm_ns(struct goldfish_rtc *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t a = r->alarm_ns;
    pthread_mutex_unlock(&r->lock);
    return a;
}

static bool rtc_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)h;
    struct goldfish_rtc *r = opaque;
    if (size != 4)
        return false;
    uint32_t v = 0;
    pthread_mutex_lock(&r->lock);
    switch (off) {
    case TIME_LOW: {
        uint64_t now = guest_now(r);
        r->time_high = (uint32_t)(now >> 32);
        v = (uint32_t)now;
        break;
    }
    case TIME_HIGH: v = r->time_high; break;
    case ALARM_LOW: v = (uint32_t)r->alarm_ns; break;
    case ALARM_HIGH: v = (uint32_t)(r->alarm_ns >> 32); break;
    case IRQ_ENABLED: v = r->irq_enabled; break;
    case ALARM_STATUS: v = r->alarm_ns != 0; break;
    default: break;
    }
    pthread_mutex_unlock(&r->lock);
    *val = v;
    return true;
}

static bool rtc_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    struct goldfish_rtc *r = opaque;
    if (size != 4)
        return false;
    uint32_t v = (uint32_t)val;
    pthread_mutex_lock(&r->lock);
    switch (off) {
    case TIME_LOW: {
        /* setting the clock: TIME_HIGH first, then TIME_LOW */
        uint64_t want = ((uint64_t)r->time_high << 32) | v;
        r->offset_ns = (int64_t)(want - vclock_realtime_ns());
        break;
    }
    case TIME_HIGH: r->time_high = v; break;
    case ALARM_HIGH: r->alarm_high = v; break;
    case ALARM_LOW: {
        uint64_t a = ((uint64_t)r->alarm_high << 32) | v;
        if (a <= guest_now(r)) {
            r->alarm_ns = 0;
            r->irq_pending = true;
        } else {
            r->alarm_ns = a;
        }
        break;
    }
    case IRQ_ENABLED: r->irq_enabled = v & 1; break;
    case CLEAR_ALARM: r->alarm_ns = 0; break;
    case CLEAR_INTERRUPT: r->irq_pending = false; break;
    default: break;
    }
    update_irq(r);
    pthread_mutex_unlock(&r->lock);
    return true;
}

const struct mmio_ops goldfish_rtc_mmio_ops = { rtc_read, rtc_write };

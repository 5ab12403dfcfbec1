#include "machine/uart.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "machine/plic.h"

#define RX_FIFO 1024

enum {
    REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

struct uart {
    pthread_mutex_t lock;
    struct plic *plic;
    unsigned irq;
    struct uart_sink sink;
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    bool thr_ipending; /* "THR empty" interrupt waiting to be seen */
    uint8_t rx[RX_FIFO];
    unsigned rx_head, rx_count;
    bool irq_level;
};

static uint8_t iir(const struct uart *u)
{
    uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
    if ((u->ier & IER_RDI) && u->rx_count)
        return IIR_RDI | fifo;
    if ((u->ier & IER_THRI) && u->thr_ipending)
        return IIR_THRI | fifo;
    return IIR_NONE | fifo;
}

static void update_irq(struct uart *u)
{
    bool level = (iir(u) & IIR_NONE) == 0;
    if (level != u->irq_level) {
        u->irq_level = level;
        plic_set_irq(u->plic, u->irq, level);
    }
}

struct uart *uart_new(struct plic *plic, unsigned irq, struct uart_sink sink)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    pthread_mutex_init(&u->lock, NULL);
    u->plic = plic;
    u->irq = irq;
    u->sink = sink;
    u->lcr = 0x03;
    return u;
}

void uart_free(struct uart *u)
{
    if (!u)
        return;
    pthread_mutex_destroy(&u->lock);
    free(u);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&u->lock);
    size_t n = 0;
    while (n < len && u->rx_count < RX_FIFO) {
        u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = buf[n++];
        u->rx_count++;
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return n;
}

size_t uart_rx_room(struct uart *u)
{
    pthread_mutex_lock(&u->lock);
    size_t room = RX_FIFO - u->rx_count;
    pthread_mutex_unlock(&u->lock);
    return room;
}

static bool uart_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)h;
    struct uart *u = opaque;
    if (size != 1)
        return false;
    uint8_t v = 0;
    pthread_mutex_lock(&u->lock);
    switch (off) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
        } else if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % RX_FIFO;
            u->rx_count--;
        }
        break;
    case REG_IER: v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier; break;
    case REG_IIR_FCR:
        v = iir(u);
        /* Reading IIR while it reports THR-empty acknowledges that source. */
        if ((v & 0x0f) == IIR_THRI)
            u->thr_ipending = false;
        break;
    case REG_LCR: v = u->lcr; break;
    case REG_MCR: v = u->mcr; break;
    case REG_LSR: v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0); break;
    case REG_MSR:
        /* carrier, DSR and CTS asserted (loopback mirrors MCR) */
        v = (u->mcr & MCR_LOOP) ? (uint8_t)((u->mcr & 0x0c) << 4 | (u->mcr & 0x03) << 4) : 0xb0;
        break;
    case REG_SCR: v = u->scr; break;
    default: break;
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    *val = v;
    return true;
}

static bool uart_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    struct uart *u = opaque;
    if (size != 1)
        return false;
    uint8_t v = (uint8_t)val;
    bool emit = false;
    pthread_mutex_lock(&u->lock);
    switch (off) {
    case REG_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
        } else {
            emit = !(u->mcr & MCR_LOOP);
            u->thr_ipending = true; /* sent at once: THR is empty again */
        }
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            uint8_t old = u->ier;
            u->ier = v & 0x0f;
            /* Enabling THRI while THR is empty raises it right away. */
            if (!(old & IER_THRI) && (u->ier & IER_THRI))
                u->thr_ipending = true;
        }
        break;
    case REG_IIR_FCR:
        u->fcr = v & 0xc9;
        if (v & FCR_CLEAR_RX)
            u->rx_head = u->rx_count = 0;
        break;
    case REG_LCR: u->lcr = v; break;
    case REG_MCR: u->mcr = v & 0x1f; break;
    case REG_SCR: u->scr = v; break;
    default: break;
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    if (emit && u->sink.write)
        u->sink.write(u->sink.opaque, &v, 1);
    return true;
}

const struct mmio_ops uart_mmio_ops = { uart_read, uart_write };

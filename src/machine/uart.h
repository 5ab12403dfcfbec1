/* NS16550A UART (the console Linux finds at 0x10000000 on QEMU virt).
 * Transmission is instantaneous: THR is always empty. Received bytes wait
 * in a bounded FIFO. */
#ifndef VIREO_MACHINE_UART_H
#define VIREO_MACHINE_UART_H

#include <stddef.h>
#include <stdint.h>

#include "machine/mmio.h"

#define UART0_BASE 0x10000000ull
#define UART0_SIZE 0x100ull
#define UART0_IRQ 10

struct uart;
struct plic;

struct uart_sink {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

struct uart *uart_new(struct plic *plic, unsigned irq, struct uart_sink sink);
void uart_free(struct uart *u);
/* Bytes typed by the user (I/O thread). Returns how many were taken; the
 * rest does not fit in the FIFO now. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Free space in the receive FIFO. */
size_t uart_rx_room(struct uart *u);
extern const struct mmio_ops uart_mmio_ops;

#endif

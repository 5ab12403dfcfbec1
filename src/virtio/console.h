/* virtio-console (virtio 1.2, 5.3) with a single port, no MULTIPORT:
 * queue 0 is receiveq (host to guest), queue 1 transmitq (guest to host).
 *
 * Guest output goes to a struct virtio_chardev on the I/O thread. Host input
 * arrives through virtio_console_input, also on the I/O thread, and waits in
 * a bounded buffer until the guest posts receive buffers; beyond the bound
 * bytes are dropped and counted, so a guest that never reads cannot make
 * the host hoard memory. Buffered input survives a device reset: what the
 * user typed while the driver was probing is delivered once it is up.
 */
#ifndef VIREO_VIRTIO_CONSOLE_H
#define VIREO_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/virtio.h"

#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_RX 0
#define VIRTIO_CONSOLE_TX 1
#define VIRTIO_CONSOLE_INBUF 4096

/* cols/rows: terminal size offered with F_SIZE; 0, 0 offers none. */
struct virtio_dev *virtio_console_new(struct virtio_chardev out, uint16_t cols, uint16_t rows);

/* Bytes typed by the host user, for the guest. I/O thread; not from inside
 * a queue handler (it takes the device's work lock). */
void virtio_console_input(struct virtio_dev *d, const uint8_t *buf, size_t len);

/* Input bytes dropped because the buffer was full. Any thread. */
uint64_t virtio_console_dropped(struct virtio_dev *d);

#endif

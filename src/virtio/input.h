/* virtio-input (virtio 1.2, 5.8) as a power button: a device named
 * "Vireo power button" whose only key is KEY_POWER. Queue 0 is eventq
 * (device to driver: 8-byte struct virtio_input_event in buffers the driver
 * posts), queue 1 statusq (driver to device: LED and similar feedback,
 * consumed and ignored).
 *
 * Config space (136 bytes): the driver writes select and subsel, then reads
 * size and the union. Answered: ID_NAME (the name), ID_DEVIDS (bustype
 * BUS_VIRTUAL), EV_BITS/EV_KEY (a bitmap with KEY_POWER set); everything
 * else, PROP_BITS, ID_SERIAL and EV_BITS for EV_SYN included, has size 0,
 * as QEMU does: Linux's input core enables EV_SYN on every device itself.
 *
 * A press (virtio_input_press_power) queues EV_KEY KEY_POWER 1, EV_SYN,
 * EV_KEY KEY_POWER 0, EV_SYN. Events wait in a small bounded buffer until
 * the driver posts buffers; presses beyond the bound are dropped and
 * counted. Like virtio-console input, waiting events survive a device
 * reset (the probe's reset must not eat a press made while booting).
 */
#ifndef VIREO_VIRTIO_INPUT_H
#define VIREO_VIRTIO_INPUT_H

#include <stdint.h>

#include "virtio/device.h"

#define VIRTIO_ID_INPUT 18
#define VIRTIO_INPUT_EVENTQ 0
#define VIRTIO_INPUT_STATUSQ 1

/* Config selectors (virtio 1.2, 5.8.4). */
enum {
    VIRTIO_INPUT_CFG_UNSET = 0x00,
    VIRTIO_INPUT_CFG_ID_NAME = 0x01,
    VIRTIO_INPUT_CFG_ID_SERIAL = 0x02,
    VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03,
    VIRTIO_INPUT_CFG_PROP_BITS = 0x10,
    VIRTIO_INPUT_CFG_EV_BITS = 0x11,
    VIRTIO_INPUT_CFG_ABS_INFO = 0x12,
};

#define VIRTIO_INPUT_CFG_LEN 136 /* select, subsel, size, 5 reserved, 128-byte union */
#define VIRTIO_INPUT_CFG_UNION 8
#define VIRTIO_INPUT_NAME "Vireo power button"

/* Linux input event codes used here (linux/input-event-codes.h). */
#define VIRTIO_INPUT_EV_SYN 0x00
#define VIRTIO_INPUT_EV_KEY 0x01
#define VIRTIO_INPUT_KEY_POWER 116
#define VIRTIO_INPUT_BUS_VIRTUAL 0x06

/* Events waiting for driver buffers: 4 presses. */
#define VIRTIO_INPUT_PENDING_MAX 16

struct virtio_dev *virtio_input_powerbutton_new(void);

/* Press and release the power button. I/O thread; not from inside a queue
 * handler (it takes the device's work lock). */
void virtio_input_press_power(struct virtio_dev *d);

/* Presses dropped because VIRTIO_INPUT_PENDING_MAX events were waiting.
 * Any thread. */
uint64_t virtio_input_dropped(struct virtio_dev *d);

#endif

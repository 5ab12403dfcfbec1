/* virtio-rng (virtio 1.2, 5.4): one request queue whose device-writable
 * buffers are filled from getrandom(2), at most VIRTIO_RNG_MAX_REQ bytes a
 * request so one request cannot hold the I/O thread for long. */
#ifndef VIREO_VIRTIO_RNG_H
#define VIREO_VIRTIO_RNG_H

#include "virtio/device.h"

#define VIRTIO_RNG_MAX_REQ 65536

struct virtio_dev *virtio_rng_new(void);

#endif

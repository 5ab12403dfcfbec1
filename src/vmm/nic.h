/* A VM's network adapter: a virtio-net device joined to a network port,
 * and the port on the far side of the cable (the backend) chosen by the
 * adapter's mode: a private NAT, a named switch, a socket tunnel, or
 * nothing. The glue between virtio/net.c (which knows no ports) and net/
 * (which knows no VMs). */
#ifndef VIREO_VMM_NIC_H
#define VIREO_VMM_NIC_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/nic_config.h"

struct evloop;
struct nic;
struct virtio_dev;

/* Make adapter `index` (0-based; messages say nic1..nic8). The returned
 * device belongs to the caller (hand it to a transport); the nic must be
 * freed before the device. NULL with a message in err. */
struct nic *nic_new(struct evloop *io, const struct nic_config *cfg, unsigned index, const uint8_t mac[6],
                    struct virtio_dev **dev_out, char *err, size_t errlen);
void nic_free(struct nic *n);

#endif

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

/* Make adapter `index` (0-based; messages say nic1..nic8) and connect its
 * backend now. The adapter and its backend live until nic_free, across
 * guest resets: a reset gives the guest a new device, not a new cable (and
 * the VM needs no privileges or paths again). vm_name (kept, may be NULL)
 * names the VM in a switch's port list. NULL with a message in err. */
struct nic *nic_new(struct evloop *io, const struct nic_config *cfg, unsigned index, const uint8_t mac[6],
                    const char *vm_name, char *err, size_t errlen);
/* The adapter's virtio-net device for a new machine (at start and after
 * each guest reset). It belongs to the caller (hand it to a transport);
 * call nic_unplug_device before freeing it. NULL (logged) when out of
 * memory. Frames arriving between machines are dropped and counted. */
struct virtio_dev *nic_new_device(struct nic *n);
void nic_unplug_device(struct nic *n);
void nic_free(struct nic *n);

#endif

/* The seam between virtio devices and the rest of Vireo.
 *
 * virtio/ knows nothing of RISC-V or of the board: it is handed the guest's
 * RAM as a window (every guest-supplied address is checked against it), a
 * way to raise its interrupt line, and an event loop (the VM's I/O thread)
 * to do its work on. The MMIO transport (virtio/mmio.c) is called on vCPU
 * threads for register accesses; queue notifications are handed to the I/O
 * thread through an eventfd, so a vCPU never blocks on host I/O.
 */
#ifndef VIREO_VIRTIO_VIRTIO_H
#define VIREO_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;

/* Guest physical RAM as devices see it. */
struct virtio_guest_mem {
    uint8_t *host;   /* host address of guest physical `base` */
    uint64_t base;   /* guest physical address of RAM */
    uint64_t size;   /* bytes */
    /* Called after a device wrote guest RAM (DMA), so the CPU can retire
     * decoded code on those pages. May be NULL. */
    void (*note_write)(void *opaque, uint64_t gpa, uint64_t len);
    void *opaque;
};

/* Host pointer for [gpa, gpa+len) if it lies wholly inside guest RAM, else
 * NULL. Overflow-safe. */
static inline void *virtio_gpa(const struct virtio_guest_mem *m, uint64_t gpa, uint64_t len)
{
    if (gpa < m->base)
        return NULL;
    uint64_t off = gpa - m->base;
    if (off > m->size || len > m->size - off)
        return NULL;
    return m->host + off;
}

/* The interrupt line of one transport (level-triggered, to the PLIC). */
struct virtio_irq {
    void (*set)(void *opaque, bool level);
    void *opaque;
};

/* Where a device's console-like byte stream goes (virtio-console). */
struct virtio_chardev {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

#endif

/* The board's MMIO map: a table of regions (base, size, handlers) that the
 * harts' bus callbacks dispatch into. Handlers get region-relative offsets
 * and naturally aligned accesses of 1, 2, 4 or 8 bytes. */
#ifndef VIREO_MACHINE_MMIO_H
#define VIREO_MACHINE_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct rv_hart;

struct mmio_ops {
    bool (*read)(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val);
    bool (*write)(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val);
};

struct mmio_region {
    uint64_t base, size;
    const char *name;
    const struct mmio_ops *ops;
    void *opaque;
};

#define MMIO_MAX_REGIONS 32

struct mmio_map {
    struct mmio_region regions[MMIO_MAX_REGIONS];
    unsigned n;
};

/* Returns false if the region overlaps another or the table is full. */
bool mmio_map_add(struct mmio_map *m, uint64_t base, uint64_t size, const char *name,
                  const struct mmio_ops *ops, void *opaque);
const struct mmio_region *mmio_map_find(const struct mmio_map *m, uint64_t addr);

#endif

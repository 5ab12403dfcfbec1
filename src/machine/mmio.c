#include "machine/mmio.h"

#include <stddef.h>

bool mmio_map_add(struct mmio_map *m, uint64_t base, uint64_t size, const char *name,
                  const struct mmio_ops *ops, void *opaque)
{
    if (m->n >= MMIO_MAX_REGIONS || size == 0 || base + size < base)
        return false;
    for (unsigned i = 0; i < m->n; i++) {
        const struct mmio_region *r = &m->regions[i];
        if (base < r->base + r->size && r->base < base + size)
            return false;
    }
    /* keep sorted by base so lookups can stop early */
    unsigned pos = m->n;
    while (pos > 0 && m->regions[pos - 1].base > base) {
        m->regions[pos] = m->regions[pos - 1];
        pos--;
    }
    m->regions[pos] = (struct mmio_region){ base, size, name, ops, opaque };
    m->n++;
    return true;
}

const struct mmio_region *mmio_map_find(const struct mmio_map *m, uint64_t addr)
{
    for (unsigned i = 0; i < m->n; i++) {
        const struct mmio_region *r = &m->regions[i];
        if (addr < r->base)
            return NULL;
        if (addr - r->base < r->size)
            return r;
    }
    return NULL;
}

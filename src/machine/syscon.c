#include "machine/syscon.h"

#include <stddef.h>

static bool syscon_read(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t *val)
{
    (void)opaque; (void)h; (void)off; (void)size;
    *val = 0;
    return true;
}

static bool syscon_write(void *opaque, struct rv_hart *h, uint64_t off, unsigned size, uint64_t val)
{
    (void)h;
    const struct power_sink *sink = opaque;
    /* OpenSBI writes 16 bits, Linux's syscon-poweroff 32 */
    if (off != 0 || (size != 2 && size != 4))
        return true;
    uint32_t v = (uint32_t)val;
    switch (v & 0xffff) {
    case 0x5555: sink->event(sink->opaque, POWER_OFF, 0); break;
    case 0x7777: sink->event(sink->opaque, POWER_RESET, 0); break;
    case 0x3333: sink->event(sink->opaque, POWER_FAIL, v >> 16); break;
    default: break;
    }
    return true;
}

const struct mmio_ops syscon_mmio_ops = { syscon_read, syscon_write };

/* Host time. Guest time (mtime) is derived from CLOCK_MONOTONIC so that it
 * never jumps when the host's wall clock is changed. */
#ifndef VIREO_BASE_CLOCK_H
#define VIREO_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t vclock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t vclock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif

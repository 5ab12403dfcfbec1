/* A small deterministic generator for tests that make random inputs
 * (xorshift64): the same seed gives the same inputs on every host, so a
 * failure can be replayed. */
#ifndef VIREO_TEST_RNG_H
#define VIREO_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t test_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t test_rnd(void)
{
    uint64_t x = test_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return test_rng_state = x;
}

static inline size_t test_rnd_below(size_t n) { return n ? (size_t)(test_rnd() % n) : 0; }

#endif

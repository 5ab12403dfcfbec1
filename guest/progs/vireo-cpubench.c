/*
 * vireo-cpubench [ITERATIONS]
 *
 * CPU-bound, deterministic benchmark.  Every iteration runs a fixed mix of
 * integer hashing, sorting (data-dependent branches), memcpy and a
 * floating-point loop; the checksum depends on all of it and is identical on
 * every architecture for the same ITERATIONS (build with -ffp-contract=off so
 * no multiply-add fusing changes rounding).  Prints
 *   cpubench score=<iterations per second> checksum=<hex> iterations=<n> seconds=<t>
 * The same source builds for the host:  cc -O2 -ffp-contract=off vireo-cpubench.c
 * Default ITERATIONS takes roughly 1-3 s natively on a current x86-64 core.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ITERATIONS 10000
#define NWORDS 4096			/* 16 KiB of uint32 */
#define NSORT 1024
#define NCOPY (64 * 1024)
#define NFP 512

static uint32_t words[NWORDS];
static uint32_t sortbuf[NSORT];
static unsigned char src[NCOPY], dst[NCOPY];

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 31;
	return x;
}

/* FNV-1a style hashing plus xorshift updates over the word array. */
static uint64_t hash_pass(uint64_t seed)
{
	uint64_t h = 0xCBF29CE484222325ull ^ seed;
	uint32_t s = (uint32_t)seed | 1;
	for (int i = 0; i < NWORDS; i++) {
		s ^= s << 13; s ^= s >> 17; s ^= s << 5;
		words[i] ^= s;
		h = (h ^ words[i]) * 0x100000001B3ull;
	}
	return h;
}

/* Shell sort then a data-dependent branchy walk (Collatz steps). */
static uint64_t sort_pass(uint64_t seed)
{
	for (int i = 0; i < NSORT; i++)
		sortbuf[i] = (uint32_t)mix64(seed + (uint64_t)i);
	static const int gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
	for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		int gap = gaps[g];
		for (int i = gap; i < NSORT; i++) {
			uint32_t v = sortbuf[i];
			int j = i;
			while (j >= gap && sortbuf[j - gap] > v) {
				sortbuf[j] = sortbuf[j - gap];
				j -= gap;
			}
			sortbuf[j] = v;
		}
	}
	uint64_t acc = 0;
	for (int i = 1; i < NSORT; i++)
		if (sortbuf[i - 1] > sortbuf[i])
			acc += 1000003;		/* never taken if sorted */
	for (int i = 0; i < NSORT; i += 8) {
		uint32_t x = (sortbuf[i] & 0xFFFF) | 1;
		int steps = 0;
		while (x != 1 && steps < 200) {
			x = (x & 1) ? 3 * x + 1 : x >> 1;
			steps++;
		}
		acc = acc * 31 + (uint64_t)steps + sortbuf[NSORT / 2];
	}
	return acc;
}

static uint64_t copy_pass(uint64_t seed)
{
	size_t shift = (size_t)(seed % 61);
	memcpy(dst, src + shift, NCOPY - 64);
	memmove(src + 1, dst, NCOPY - 65);
	src[(seed * 7) % NCOPY] ^= (unsigned char)seed;
	uint64_t h = 0;
	for (size_t i = 0; i < NCOPY; i += 256)
		h = h * 131 + dst[i];
	return h;
}

/* Damped oscillators: + - * / only, all correctly rounded (no libm). */
static double fp_pass(uint64_t seed)
{
	double x = 1.0 + (double)(seed % 97) / 97.0, v = 0.5, sum = 0.0;
	for (int i = 0; i < NFP; i++) {
		double a = -x * 0.9 - v * 0.01;
		v = v + a * 0.01;
		x = x + v * 0.01;
		double r = x * x + v * v;
		sum += r / (1.0 + r) + (r - 1.0) / (r * r + 2.0) * 1e-3;
	}
	return sum;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long iterations = DEFAULT_ITERATIONS;
	if (argc > 2 || (argc == 2 && (iterations = strtol(argv[1], NULL, 0)) <= 0)) {
		fprintf(stderr, "usage: vireo-cpubench [ITERATIONS]   (default %d)\n",
			DEFAULT_ITERATIONS);
		return 2;
	}
	for (int i = 0; i < NWORDS; i++)
		words[i] = (uint32_t)mix64((uint64_t)i);
	for (int i = 0; i < NCOPY; i++)
		src[i] = (unsigned char)mix64((uint64_t)i + 12345);

	double t0 = now();
	uint64_t ck = 0;
	double fsum = 0.0;
	for (long it = 0; it < iterations; it++) {
		uint64_t seed = mix64((uint64_t)it);
		ck = mix64(ck ^ hash_pass(seed));
		ck = mix64(ck ^ sort_pass(seed));
		ck = mix64(ck ^ copy_pass(seed));
		fsum += fp_pass(seed);
	}
	uint64_t fbits;
	memcpy(&fbits, &fsum, sizeof(fbits));
	ck = mix64(ck ^ fbits);
	double secs = now() - t0;
	if (secs <= 0)
		secs = 1e-9;

	printf("cpubench score=%.2f checksum=%016llx iterations=%ld seconds=%.3f\n",
	       (double)iterations / secs, (unsigned long long)ck, iterations, secs);
	return 0;
}

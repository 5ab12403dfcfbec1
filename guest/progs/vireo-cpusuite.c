/*
 * vireo-cpusuite [SCALE] [PART...]
 *
 * The CPU suite of bench/speed.py: five parts, each a fixed amount of work
 * timed on its own, so an engine's strengths and weaknesses show apart:
 *
 *   int     64-bit integer arithmetic: multiply, shifts, rotates, division
 *   branch  data-dependent branches: a hand-written quicksort and binary
 *           searches over pseudo-random keys
 *   mem     memcpy and memset of 1 MiB blocks, and a strided walk
 *   fp      double precision: an n-body step loop (sqrt, division) and a
 *           64x64 matrix product
 *   sys     the kernel's side: fork + exec + wait of /bin/true, mmap/touch/
 *           munmap of 1 MiB (page faults), and getppid
 *
 * For each part it prints
 *   cpusuite part=NAME score=<work units per second> seconds=T checksum=<hex>
 * and at the end `cpusuite overall=<geometric mean of the scores>`. SCALE
 * (default 1) multiplies the work; checksums depend only on SCALE (build
 * with -ffp-contract=off), so two engines are checked to compute the same
 * thing. The same source builds for the host:
 *   cc -O2 -ffp-contract=off vireo-cpusuite.c -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* ---- int ---- */
static uint64_t part_int(long units)
{
	uint64_t a = 1, b = 0x123456789abcdefull, c = 7;
	for (long u = 0; u < units; u++) {
		for (int i = 0; i < 1000; i++) {
			a = a * 6364136223846793005ull + 1442695040888963407ull;
			b ^= (a >> 29) | (a << 35);
			c += (b % 1000003u) + (a >> 61);
			b = (b << 7) | (b >> 57);
		}
	}
	return a ^ b ^ c;
}

/* ---- branch ---- */
#define NSORT 4096
static uint32_t keys[NSORT];

static void quicksort(uint32_t *v, long lo, long hi)
{
	while (lo < hi) {
		uint32_t p = v[(lo + hi) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i <= j) {
				uint32_t t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (j - lo < hi - i) {
			quicksort(v, lo, j);
			lo = i;
		} else {
			quicksort(v, i, hi);
			hi = j;
		}
	}
}

static uint64_t part_branch(long units)
{
	uint64_t sum = 0;
	for (long u = 0; u < units; u++) {
		for (int i = 0; i < NSORT; i++)
			keys[i] = (uint32_t)rng();
		quicksort(keys, 0, NSORT - 1);
		for (int k = 0; k < 2048; k++) {
			uint32_t want = (uint32_t)rng();
			long lo = 0, hi = NSORT;
			while (lo < hi) {
				long mid = (lo + hi) / 2;
				if (keys[mid] < want)
					lo = mid + 1;
				else
					hi = mid;
			}
			sum += (uint64_t)lo;
		}
		sum += keys[u % NSORT];
	}
	return sum;
}

/* ---- mem ---- */
#define MEMBUF (1 << 20)
static uint8_t src[MEMBUF], dst[MEMBUF];

static uint64_t part_mem(long units)
{
	uint64_t sum = 0;
	for (int i = 0; i < MEMBUF; i++)
		src[i] = (uint8_t)(i * 31 + 7);
	for (long u = 0; u < units; u++) {
		memcpy(dst, src, MEMBUF);
		memset(src + (u & 4095), (int)(u & 0xff), MEMBUF / 2);
		for (int i = 0; i < MEMBUF; i += 4096 + 64)
			sum += dst[i] + src[MEMBUF - 1 - i];
		memcpy(src, dst, MEMBUF);
	}
	return sum;
}

/* ---- fp ---- */
struct body { double x, y, z, vx, vy, vz, m; };

static uint64_t part_fp(long units)
{
	struct body b[5] = {
		{ 0, 0, 0, 0, 0, 0, 39.47841760435743 },
		{ 4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.037 },
		{ 8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011 },
		{ 12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017 },
		{ 15.37, -25.91, 0.17, 0.979, 0.594, -0.034, 0.002 },
	};
	static double ma[64][64], mb[64][64], mc[64][64];
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < 64; j++) {
			ma[i][j] = (double)((i * 7 + j) % 13) / 7.0;
			mb[i][j] = (double)((i + j * 3) % 11) / 5.0;
		}
	double e = 0;
	for (long u = 0; u < units; u++) {
		for (int step = 0; step < 200; step++) {
			for (int i = 0; i < 5; i++)
				for (int j = i + 1; j < 5; j++) {
					double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
					double d2 = dx * dx + dy * dy + dz * dz;
					double mag = 0.01 / (d2 * sqrt(d2));
					b[i].vx -= dx * b[j].m * mag, b[i].vy -= dy * b[j].m * mag, b[i].vz -= dz * b[j].m * mag;
					b[j].vx += dx * b[i].m * mag, b[j].vy += dy * b[i].m * mag, b[j].vz += dz * b[i].m * mag;
				}
			for (int i = 0; i < 5; i++)
				b[i].x += 0.01 * b[i].vx, b[i].y += 0.01 * b[i].vy, b[i].z += 0.01 * b[i].vz;
		}
		int r = (int)(u % 64);
		for (int j = 0; j < 64; j++) {
			double s = 0;
			for (int k = 0; k < 64; k++)
				s += ma[r][k] * mb[k][j];
			mc[r][j] = s;
		}
		e += mc[r][(int)(u % 61)];
	}
	for (int i = 0; i < 5; i++)
		e += b[i].x + b[i].vy;
	uint64_t bits;
	memcpy(&bits, &e, sizeof(bits));
	return bits;
}

/* ---- sys ---- */
static uint64_t part_sys(long units)
{
	uint64_t sum = 0;
	for (long u = 0; u < units; u++) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "cpusuite: fork/exec of /bin/true failed\n");
			exit(1);
		}
		for (int k = 0; k < 4; k++) {
			uint8_t *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				perror("cpusuite: mmap");
				exit(1);
			}
			for (int i = 0; i < (1 << 20); i += 4096)
				p[i] = (uint8_t)i;
			sum += p[4096 * (u % 256)];
			munmap(p, 1 << 20);
		}
		for (int k = 0; k < 1000; k++)
			sum += (uint64_t)getppid() & 1;
		sum++;
	}
	return sum;
}

struct part {
	const char *name;
	uint64_t (*run)(long units);
	long units; /* at SCALE 1: roughly 0.1-0.3 s on a current x86-64 core */
};

static const struct part parts[] = {
	{ "int", part_int, 100000 },
	{ "branch", part_branch, 200 },
	{ "mem", part_mem, 800 },
	{ "fp", part_fp, 3000 },
	{ "sys", part_sys, 20 },
};

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	if (scale <= 0) {
		fprintf(stderr, "usage: vireo-cpusuite [SCALE] [PART...]\n");
		return 2;
	}
	double logsum = 0;
	int n = 0;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int wanted = argc <= 2;
		for (int a = 2; a < argc; a++)
			wanted |= !strcmp(argv[a], parts[i].name);
		if (!wanted)
			continue;
		long units = (long)(parts[i].units * scale);
		if (units < 1)
			units = 1;
		rng_state = 0x9e3779b97f4a7c15ull;
		double t0 = now();
		uint64_t check = parts[i].run(units);
		double t = now() - t0;
		double score = (double)units / t;
		printf("cpusuite part=%s score=%.2f seconds=%.3f checksum=%016llx\n", parts[i].name, score, t,
		       (unsigned long long)check);
		fflush(stdout);
		logsum += log(score);
		n++;
	}
	if (n)
		printf("cpusuite overall=%.2f parts=%d\n", exp(logsum / n), n);
	return 0;
}

/*
 * vireo-forkstress N [MIB]
 *
 * Copy-on-write and page-fault stress.  The parent fills a MIB-MiB buffer
 * (default 4) with its own pattern and forks N children that all run at the
 * same time.  Each child checks it sees the parent's data, overwrites the
 * buffer with a pattern of its own (one 64-bit word per 64 bytes, so every
 * page is copied), checks it, then churns through mmap/touch/munmap cycles
 * of anonymous memory.  The parent finally checks that its own copy was not
 * changed by any child.  Prints one result line; exit 0 on success.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STRIDE 64			/* bytes between pattern words */
#define CHURN_ROUNDS 16
#define CHURN_BYTES (512 * 1024)

static uint64_t pattern(uint64_t who, uint64_t i)
{
	uint64_t x = (who + 1) * 0x9E3779B97F4A7C15ull ^ (i * 0xBF58476D1CE4E5B9ull);
	x ^= x >> 31;
	return x | 1;			/* never zero */
}

static long check(volatile uint64_t *buf, size_t words, uint64_t who)
{
	long bad = 0;
	for (size_t i = 0; i < words; i++)
		if (buf[i * (STRIDE / 8)] != pattern(who, i))
			bad++;
	return bad;
}

static void fill(volatile uint64_t *buf, size_t words, uint64_t who)
{
	for (size_t i = 0; i < words; i++)
		buf[i * (STRIDE / 8)] = pattern(who, i);
}

static int churn(uint64_t who)
{
	long page = sysconf(_SC_PAGESIZE);
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		unsigned char *p = mmap(NULL, CHURN_BYTES, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		for (size_t off = 0; off < CHURN_BYTES; off += page)
			p[off] = (unsigned char)(who + r + off / page);
		for (size_t off = 0; off < CHURN_BYTES; off += page)
			if (p[off] != (unsigned char)(who + r + off / page))
				return 1;
		/* a freshly mapped page must read as zero */
		if (p[page / 2] != 0)
			return 1;
		if (munmap(p, CHURN_BYTES) != 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: vireo-forkstress N [MIB]\n");
		return 2;
	}
	long n = strtol(argv[1], NULL, 0);
	long mib = argc > 2 ? strtol(argv[2], NULL, 0) : 4;
	if (n < 1 || n > 10000 || mib < 1 || mib > 4096) {
		fprintf(stderr, "vireo-forkstress: bad arguments\n");
		return 2;
	}
	size_t bytes = (size_t)mib << 20, words = bytes / STRIDE;
	uint64_t *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("vireo-forkstress: mmap");
		return 2;
	}
	const uint64_t parent = 0xFFFF;
	fill(buf, words, parent);

	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		return 2;
	long started = 0, failed = 0;
	for (long c = 0; c < n; c++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("vireo-forkstress: fork");
			failed++;
			break;
		}
		if (pid == 0) {
			int rc = 0;
			if (check(buf, words, parent) != 0)
				rc |= 1;	/* did not inherit the parent's data */
			fill(buf, words, (uint64_t)c);
			if (check(buf, words, (uint64_t)c) != 0)
				rc |= 2;	/* own writes lost */
			if (churn((uint64_t)c) != 0)
				rc |= 4;
			_exit(rc);
		}
		pids[started++] = pid;
	}
	for (long c = 0; c < started; c++) {
		int st;
		while (waitpid(pids[c], &st, 0) < 0) {
			if (errno != EINTR) {
				perror("vireo-forkstress: waitpid");
				return 2;
			}
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "vireo-forkstress: child %ld failed (status 0x%x)\n", c, st);
			failed++;
		}
	}
	long bad = check(buf, words, parent);
	int parent_churn = churn(parent);
	int ok = failed == 0 && bad == 0 && parent_churn == 0 && started == n;
	printf("forkstress children=%ld buffer=%ldMiB failed=%ld parent_corrupt_words=%ld result=%s\n",
	       n, mib, failed, bad, ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}

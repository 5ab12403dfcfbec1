/*
 * vireo-atomic-counter THREADS ITERS
 *
 * THREADS threads each increment two shared 64-bit counters ITERS times:
 *   counter  with __atomic_fetch_add              (RISC-V: amoadd.d)
 *   cas      with a compare-and-swap retry loop   (RISC-V: lr.d/sc.d)
 * Prints "counter=<n> cas=<n> expected=<THREADS*ITERS>" and exits 0 only if
 * both counters are exact.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t amo_counter;
static uint64_t cas_counter;
static uint64_t iters;
static pthread_barrier_t start;

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (uint64_t i = 0; i < iters; i++) {
		__atomic_fetch_add(&amo_counter, 1, __ATOMIC_RELAXED);

		uint64_t old = __atomic_load_n(&cas_counter, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&cas_counter, &old, old + 1, 1,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			;
	}
	return NULL;
}

static unsigned long parse(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (*s == '\0' || *end != '\0' || v == 0) {
		fprintf(stderr, "vireo-atomic-counter: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: vireo-atomic-counter THREADS ITERS\n");
		return 2;
	}
	unsigned long nthreads = parse(argv[1], "THREADS");
	iters = parse(argv[2], "ITERS");
	if (nthreads > 4096) {
		fprintf(stderr, "vireo-atomic-counter: too many threads\n");
		return 2;
	}

	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	if (!tids || pthread_barrier_init(&start, NULL, (unsigned)nthreads) != 0) {
		perror("vireo-atomic-counter: setup");
		return 2;
	}
	for (unsigned long t = 0; t < nthreads; t++) {
		if (pthread_create(&tids[t], NULL, worker, NULL) != 0) {
			fprintf(stderr, "vireo-atomic-counter: pthread_create failed\n");
			return 2;
		}
	}
	for (unsigned long t = 0; t < nthreads; t++)
		pthread_join(tids[t], NULL);

	uint64_t expected = (uint64_t)nthreads * iters;
	uint64_t amo = __atomic_load_n(&amo_counter, __ATOMIC_SEQ_CST);
	uint64_t cas = __atomic_load_n(&cas_counter, __ATOMIC_SEQ_CST);
	printf("counter=%llu cas=%llu expected=%llu\n", (unsigned long long)amo,
	       (unsigned long long)cas, (unsigned long long)expected);
	return (amo == expected && cas == expected) ? 0 : 1;
}

/*
 * vireo-diskcheck write DEV RUN [MAXBATCH]
 * vireo-diskcheck verify DEV RUN
 *
 * Durability check for a block device (the fault tests: kill -9 of the VMM
 * during heavy writes).
 *
 * write: fills DEV from its start with 4 KiB records, in batches of 1 to
 * MAXBATCH (default 64) records written with write(2) and then made durable
 * with fdatasync(2) (which the kernel turns into a virtio-blk FLUSH). After
 * each fdatasync returns it prints
 *     DISKCHECK flushed=N
 * meaning records 0..N-1 are on the device. It stops at the end of DEV
 * ("DISKCHECK full records=N") or on an error ("DISKCHECK error ...", exit 1).
 *
 * verify: reads the records back and prints
 *     DISKCHECK valid=N torn=T stale=S
 * N: records 0..N-1 are all intact and belong to RUN (the first bad one
 * ends the count); T: records after that with RUN's header (run id and
 * sequence number) but other contents; S: records after that that are
 * intact. Records of an earlier run count as neither. Whatever was written but
 * not yet flushed may be anything; what was flushed must be within N.
 *
 * A record: magic "VDCK", a 32-bit checksum of the rest, the 64-bit run id
 * and sequence number, then bytes from a generator seeded by both, so a
 * record in the wrong place or from another run never passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD 4096
#define MAGIC 0x4b434456u /* "VDCK" little-endian */

struct header {
	uint32_t magic;
	uint32_t sum;
	uint64_t run;
	uint64_t seq;
};

static uint32_t checksum(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void make_record(unsigned char *rec, uint64_t run, uint64_t seq)
{
	struct header h = { MAGIC, 0, run, seq };
	uint64_t x = (run * 0x9e3779b97f4a7c15ull) ^ (seq + 1);
	for (size_t i = sizeof(h); i + 8 <= RECORD; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(rec + i, &x, 8);
	}
	memcpy(rec, &h, sizeof(h));
	h.sum = checksum(rec + 8, RECORD - 8);
	memcpy(rec, &h, sizeof(h));
}

static int do_write(int fd, uint64_t run, unsigned maxbatch)
{
	static unsigned char buf[64 * RECORD];
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		printf("DISKCHECK error seek: %s\n", strerror(errno));
		return 1;
	}
	uint64_t total = (uint64_t)size / RECORD, seq = 0;
	uint32_t rnd = (uint32_t)run | 1;
	while (seq < total) {
		rnd ^= rnd << 13; rnd ^= rnd >> 17; rnd ^= rnd << 5;
		unsigned n = 1 + rnd % maxbatch;
		if (n > total - seq)
			n = (unsigned)(total - seq);
		for (unsigned i = 0; i < n; i++)
			make_record(buf + (size_t)i * RECORD, run, seq + i);
		size_t len = (size_t)n * RECORD, done = 0;
		while (done < len) {
			ssize_t r = write(fd, buf + done, len - done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				printf("DISKCHECK error write at record %llu: %s\n",
				       (unsigned long long)(seq + done / RECORD), r < 0 ? strerror(errno) : "short");
				return 1;
			}
			done += (size_t)r;
		}
		if (fdatasync(fd) < 0) {
			printf("DISKCHECK error fdatasync after record %llu: %s\n",
			       (unsigned long long)(seq + n), strerror(errno));
			return 1;
		}
		seq += n;
		printf("DISKCHECK flushed=%llu\n", (unsigned long long)seq);
		fflush(stdout);
	}
	printf("DISKCHECK full records=%llu\n", (unsigned long long)seq);
	return 0;
}

static int do_verify(int fd, uint64_t run)
{
	static unsigned char rec[RECORD], want[RECORD];
	uint64_t seq = 0, valid = 0, torn = 0, stale = 0;
	int counting = 1;
	for (;; seq++) {
		ssize_t r = pread(fd, rec, RECORD, (off_t)(seq * RECORD));
		if (r < 0) {
			printf("DISKCHECK error read at record %llu: %s\n", (unsigned long long)seq, strerror(errno));
			return 1;
		}
		if (r < RECORD)
			break;
		make_record(want, run, seq);
		int ok = memcmp(rec, want, RECORD) == 0;
		if (counting && ok) {
			valid++;
			continue;
		}
		counting = 0;
		if (ok)
			stale++;
		else if (memcmp(rec, want, 4) == 0 && memcmp(rec + 8, want + 8, 16) == 0)
			torn++;
	}
	printf("DISKCHECK valid=%llu torn=%llu stale=%llu\n",
	       (unsigned long long)valid, (unsigned long long)torn, (unsigned long long)stale);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "write") && strcmp(argv[1], "verify"))) {
		fprintf(stderr, "usage: vireo-diskcheck write|verify DEV RUN [MAXBATCH]\n");
		return 2;
	}
	int writing = !strcmp(argv[1], "write");
	uint64_t run = strtoull(argv[3], NULL, 0);
	unsigned maxbatch = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 64;
	if (maxbatch < 1 || maxbatch > 64)
		maxbatch = 64;
	int fd = open(argv[2], writing ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		printf("DISKCHECK error open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	int rc = writing ? do_write(fd, run, maxbatch) : do_verify(fd, run);
	close(fd);
	return rc;
}

/* What several fuzz targets share: reading fields off the input, and
 * scratch directories that are removed even when libFuzzer ends without
 * running atexit handlers. Header-only: each target is one program. */
#ifndef VIREO_FUZZ_UTIL_H
#define VIREO_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input, read front to back; past its end every field reads 0. */
struct rd {
    const uint8_t *p;
    size_t n;
};

static inline unsigned u8(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static inline unsigned u16(struct rd *r)
{
    unsigned hi = u8(r);
    return hi << 8 | u8(r);
}

static inline uint32_t u32(struct rd *r)
{
    uint32_t hi = u16(r);
    return hi << 16 | u16(r);
}

static inline int fuzz_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static inline void fuzz_rmtree(const char *dir)
{
    if (dir[0])
        nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make BASE/PREFIX-PID-XXXXXX in /dev/shm (or $TMPDIR, or /tmp) into dir,
 * first removing such directories of processes that are gone (libFuzzer
 * _Exits on a timeout or a crash). Aborts if it cannot. */
static inline void fuzz_mkdtemp(const char *prefix, char *dir, size_t len)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ?: "/tmp");
    DIR *d = opendir(base);
    size_t n = strlen(prefix);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char *end;
        if (strncmp(de->d_name, prefix, n) || de->d_name[n] != '-')
            continue;
        long pid = strtol(de->d_name + n + 1, &end, 10);
        if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", base, de->d_name);
        fuzz_rmtree(p);
    }
    if (d)
        closedir(d);
    snprintf(dir, len, "%s/%s-%ld-XXXXXX", base, prefix, (long)getpid());
    if (!mkdtemp(dir))
        abort();
}

#endif

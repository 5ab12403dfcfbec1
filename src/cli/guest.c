/* `vireo guest build`: builds the default guest with guest/build.sh from
 * the source tree this binary was built from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"

int default_guest_dir(char *buf, size_t len)
{
    const char *cache = getenv("VIREO_CACHE_DIR");
    char tmp[4096];
    if (!cache || !*cache) {
        const char *xdg = getenv("XDG_CACHE_HOME");
        if (xdg && *xdg) {
            snprintf(tmp, sizeof(tmp), "%s/vireo", xdg);
        } else {
            const char *home = getenv("HOME");
            snprintf(tmp, sizeof(tmp), "%s/.cache/vireo", home && *home ? home : "/root");
        }
        cache = tmp;
    }
    snprintf(buf, len, "%s/guest/current", cache);
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

int cmd_guest(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: vireo guest build\n"
               "\n"
               "Builds the default guest from Debian packages: a riscv64 Linux kernel from\n"
               "linux-source-6.1, a static busybox initramfs and an ext4 root disk. The result is\n"
               "cached under $VIREO_CACHE_DIR (default ~/.cache/vireo) keyed by its inputs, so a\n"
               "second run takes seconds. Needs root to install packages the first time.\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "build") != 0) {
        fprintf(stderr, "vireo: unknown guest command '%s' (try 'vireo guest --help')\n", argv[1]);
        return 2;
    }
    char script[4096];
    snprintf(script, sizeof(script), "%s/guest/build.sh", VIREO_SOURCE_DIR);
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "vireo: cannot find the guest build script '%s': %s\n", script, strerror(errno));
        return 1;
    }
    execl("/bin/bash", "bash", script, (char *)NULL);
    fprintf(stderr, "vireo: cannot run /bin/bash: %s\n", strerror(errno));
    return 1;
}

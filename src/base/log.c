#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum vlog_level current_level = VLOG_WARN;

void vlog_set_level(enum vlog_level level) { current_level = level; }
enum vlog_level vlog_get_level(void) { return current_level; }

static void vlog_va(enum vlog_level level, const char *fmt, va_list ap)
{
    static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* One write per message so lines from several threads never interleave;
     * \r\n because the console may be in raw mode. */
    fprintf(stderr, "vireo: %s%s\r\n", prefix[level], buf);
}

void vlog(enum vlog_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog_va(level, fmt, ap);
    va_end(ap);
}

void vdie(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_va(VLOG_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}

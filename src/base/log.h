/* Logging for the host side: one line per message on stderr, prefixed with
 * the program name, so a user sees one clear error naming what is wrong. */
#ifndef VIREO_BASE_LOG_H
#define VIREO_BASE_LOG_H

#include <stdnoreturn.h>

enum vlog_level { VLOG_ERROR, VLOG_WARN, VLOG_INFO, VLOG_DEBUG };

void vlog_set_level(enum vlog_level level);
enum vlog_level vlog_get_level(void);
void vlog(enum vlog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void vdie(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define verror(...) vlog(VLOG_ERROR, __VA_ARGS__)
#define vwarn(...) vlog(VLOG_WARN, __VA_ARGS__)
#define vinfo(...) vlog(VLOG_INFO, __VA_ARGS__)
#define vdebug(...) do { if (vlog_get_level() >= VLOG_DEBUG) vlog(VLOG_DEBUG, __VA_ARGS__); } while (0)

#endif

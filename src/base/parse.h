/* Parsing of user-supplied numbers, strict: trailing junk, overflow and
 * empty strings are errors, never silently truncated. */
#ifndef VIREO_BASE_PARSE_H
#define VIREO_BASE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* "256M", "1G", "4096", "512K" (binary units; an optional trailing 'B' or
 * 'iB' is accepted). Returns false on malformed input or overflow. */
bool vparse_size(const char *s, uint64_t *out);
/* Decimal unsigned integer in [min, max]. */
bool vparse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif

/* Durations and counts given on the command line. */
#ifndef POOLTOP_DURATION_H
#define POOLTOP_DURATION_H

#include <stdint.h>

/* Parse a duration: a non-negative decimal number with an optional suffix
 * ms, s, m, h or d; no suffix means seconds (GNU parallel's convention).
 * "1.5" = 1.5 s, "200ms", "2m", "1h", "1d". Returns 0 and *ns, or -EINVAL for anything else
 * (empty, negative, trailing junk, unknown suffix, overflow past 100 years). */
int duration_parse(const char *s, uint64_t *ns);

/* Parse an unsigned decimal integer in [min, max]; no sign, no junk, no empty string.
 * Returns 0 and *out, -EINVAL when not a number, -ERANGE when outside the range. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a size in bytes: a non-negative decimal number with an optional suffix, GNU parallel's
 * unit prefixes: K, M, G, T by 1024 ("1G" = 2^30), k, m, g, t by 1000; "1.5G" is allowed.
 * Returns 0 and *bytes, or -EINVAL for anything else (empty, junk, past SIZE_PARSE_MAX). */
#define SIZE_PARSE_MAX (1ULL << 60)
int size_parse(const char *s, uint64_t *bytes);

#endif

/* common/units.h: strict parsing and printing of the numbers on command lines.
 *
 * Sizes use binary multiples (K, M, G, T = x1024, optional "B"/"iB": 64K,
 * 1MiB), rates use decimal ones (k, M, G = x1000: 10k), durations take a unit
 * (ns, us, ms, s, m, h; a bare number is seconds). Every parser rejects empty
 * input, signs, trailing garbage ("10Mx"), unknown units and overflow.
 * Each returns 0, -EINVAL (malformed) or -ERANGE (does not fit).
 */
#ifndef KTLS_COMMON_UNITS_H
#define KTLS_COMMON_UNITS_H

#include <stddef.h>
#include <stdint.h>

int units_parse_u64(const char *s, uint64_t *out);          /* plain decimal */
int units_parse_size(const char *s, uint64_t *bytes);       /* 64K, 1M, 4096 */
int units_parse_rate(const char *s, uint64_t *per_sec);     /* 500, 10k, 1M  */
int units_parse_duration(const char *s, uint64_t *ns);      /* 10s, 250ms, 2m */
int units_parse_double(const char *s, double *out);         /* 0.5, 12 */

/* Human forms, written into buf (always NUL-terminated); return buf. */
char *units_fmt_size(uint64_t bytes, char *buf, size_t len);   /* "64 KiB" */
char *units_fmt_duration(uint64_t ns, char *buf, size_t len);  /* "1.50 ms" */

/* A comma-separated list of plain numbers, e.g. "1,8,64" (at most max). */
int units_parse_list_u64(const char *s, uint64_t *vals, size_t max, size_t *n);

#endif

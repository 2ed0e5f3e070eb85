/* bench/format.h: how the bench writes figures (format.c). */
#ifndef KTLS_BENCH_FORMAT_H
#define KTLS_BENCH_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing string; on allocation failure oom is set and later writes are
 * dropped. */
struct sbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A figure with prec decimals (thousands separators for large integers),
 * or "—" when v is negative (unknown). */
const char *fnum(char *buf, size_t len, double v, int prec);
/* "0.42×" for a / b, or "—". */
const char *fratio(char *buf, size_t len, double a, double b);
/* A size as scenario ids write it: 4096 -> "4k", 1048576 -> "1m", 1000 -> "1000". */
const char *fmt_size_short(uint64_t bytes, char *buf, size_t len);

#endif

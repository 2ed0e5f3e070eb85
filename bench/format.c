/* bench/format.c: how the bench writes figures: a growing string buffer,
 * numbers with thousands separators or an em dash when unknown, ratios, and
 * the short size labels of scenario ids (64k, 1m). */
#include "bench/format.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = b->buf ? vsnprintf(b->buf + b->len, room, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = b->cap ? b->cap * 2 : 16384;
		while (n >= 0 && nc - b->len <= (size_t)n)
			nc *= 2;
		char *p = realloc(b->buf, nc);
		if (!p) {
			b->oom = true;
			return;
		}
		b->buf = p;
		b->cap = nc;
	}
}

/* A figure, or an em dash when unknown (negative). */
const char *fnum(char *buf, size_t len, double v, int prec)
{
	if (!(v >= 0) || isinf(v))
		snprintf(buf, len, "—");
	else if (v >= 10000 && prec == 0) {
		/* thousands separators keep large rates readable */
		char raw[64];
		snprintf(raw, sizeof raw, "%.0f", v);
		size_t n = strlen(raw), o = 0;
		for (size_t i = 0; i < n && o + 2 < len; i++) {
			if (i && (n - i) % 3 == 0)
				buf[o++] = ',';
			buf[o++] = raw[i];
		}
		buf[o] = 0;
	} else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

/* a / b as "0.42×" (three decimals below 0.1), or "—" */
const char *fratio(char *buf, size_t len, double a, double b)
{
	if (a > 0 && b > 0)
		snprintf(buf, len, a / b < 0.1 ? "%.3f×" : "%.2f×", a / b);
	else
		snprintf(buf, len, "—");
	return buf;
}

const char *fmt_size_short(uint64_t b, char *buf, size_t len)
{
	static const char sfx[] = "kmgt";
	int i = -1;
	while (b >= 1024 && b % 1024 == 0 && i < 3) {
		b /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)b);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)b, sfx[i]);
	return buf;
}

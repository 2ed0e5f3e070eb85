/* tests/tap.h: a small TAP producer for C tests, run by tests/run.
 *
 *   int main(void) {
 *       EXPECT_EQ(units_parse_size("64K", &v), 0);
 *       EXPECT_EQ(v, 65536);
 *       return tap_done();     // prints the plan, exit status 0/1
 *   }
 *
 * Every check prints one "ok N - what" line; a failure prints both values and
 * where it happened. tap_skip_all() skips a whole file, except when the
 * environment says skips are failures (KTLS_TEST_STRICT=1: CI and the VM).
 */
#ifndef KTLS_TESTS_TAP_H
#define KTLS_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_vresult(int ok, const char *file, int line, const char *fmt, va_list ap)
{
	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!ok) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	fflush(stdout);
}

static inline int tap_result(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int tap_result(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vresult(ok, file, line, fmt, ap);
	va_end(ap);
	return ok;
}

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static inline int tap_strict(void)
{
	const char *s = getenv("KTLS_TEST_STRICT");
	return s && *s && strcmp(s, "0") != 0;
}

/* Skip the whole file (prints "1..0 # SKIP why" and exits 0), or fail it when strict. */
static inline void tap_skip_all(const char *why)
{
	if (tap_strict()) {
		tap_n++;
		printf("not ok %d - skipped where skips are failures: %s\n1..%d\n", tap_n, why, tap_n);
		exit(1);
	}
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

/* Skip the next n checks. */
static inline void tap_skip(int n, const char *why)
{
	for (int i = 0; i < n; i++) {
		if (tap_strict()) {
			printf("not ok %d - skipped where skips are failures: %s\n", ++tap_n, why);
			tap_failed++;
		} else {
			printf("ok %d # SKIP %s\n", ++tap_n, why);
		}
	}
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define OK(cond, ...) tap_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Integer comparison printing both sides (as signed and unsigned 64-bit). */
#define EXPECT_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (!tap_result(_a == _b, __FILE__, __LINE__, "%s == %s", #a, #b)) \
		printf("#   got:      %lld (0x%llx)\n#   expected: %lld (0x%llx)\n", \
		       _a, (unsigned long long)_a, _b, (unsigned long long)_b); \
} while (0)

#define EXPECT_NE(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (!tap_result(_a != _b, __FILE__, __LINE__, "%s != %s", #a, #b)) \
		printf("#   both:     %lld\n", _a); \
} while (0)

#define EXPECT_STREQ(a, b) do { \
	const char *_a = (a), *_b = (b); \
	int _ok = (_a && _b) ? strcmp(_a, _b) == 0 : _a == _b; \
	if (!tap_result(_ok, __FILE__, __LINE__, "%s eq %s", #a, #b)) \
		printf("#   got:      \"%s\"\n#   expected: \"%s\"\n", _a ? _a : "(null)", _b ? _b : "(null)"); \
} while (0)

/* Byte comparison: prints the first differing offset and both bytes. */
#define EXPECT_MEMEQ(a, b, n) do { \
	const unsigned char *_a = (const void *)(a), *_b = (const void *)(b); \
	size_t _n = (n), _i = 0; \
	while (_i < _n && _a[_i] == _b[_i]) _i++; \
	if (!tap_result(_i == _n, __FILE__, __LINE__, "%s == %s (%zu bytes)", #a, #b, _n)) \
		printf("#   first difference at byte %zu: got 0x%02x, expected 0x%02x\n", \
		       _i, _a[_i], _b[_i]); \
} while (0)

#endif

/* libFuzzer target: common/units.c parsers.
 * Invariants beyond "no crash": a parse that succeeds on a pure decimal string
 * agrees with units_parse_u64; sizes are multiples of their suffix; failures
 * leave the output untouched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char s[64];
	uint64_t a = 7, b = 7, v = 7;
	double d;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	int ru = units_parse_u64(s, &a);
	int rs = units_parse_size(s, &b);
	if (ru == 0 && (rs != 0 || a != b))
		abort(); /* a plain number is a size in bytes */
	if (rs != 0 && b != 7)
		abort(); /* failure must not write */
	size_t len = strlen(s); /* the input may hold a NUL */
	if (rs == 0 && len > 0) {
		char last = s[len - 1];
		if ((last == 'K' || last == 'k') && b % 1024)
			abort();
		if (last == 'M' && b % (1024 * 1024))
			abort();
	}
	int rr = units_parse_rate(s, &v);
	if (ru == 0 && (rr != 0 || v != a))
		abort();
	int rd = units_parse_duration(s, &v);
	if (rd != 0 && rd != -EINVAL && rd != -ERANGE)
		abort();
	(void)units_parse_double(s, &d);
	uint64_t list[8];
	size_t n = 99;
	int rl = units_parse_list_u64(s, list, 8, &n);
	if (rl == 0 && (n == 0 || n > 8))
		abort();
	char buf[32];
	if (rs == 0) {
		units_fmt_size(b, buf, sizeof(buf));
		if (!memchr(buf, '\0', sizeof(buf)))
			abort();
	}
	return 0;
}

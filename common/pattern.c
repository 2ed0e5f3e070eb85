/* common/pattern.c: see pattern.h. */
#include "common/pattern.h"

#include <string.h>

static uint8_t block[PATTERN_SPAN + PATTERN_PERIOD];

__attribute__((constructor)) static void pattern_init(void)
{
	static const char a[] = PATTERN_ALPHABET;
	_Static_assert(sizeof(a) - 1 == PATTERN_PERIOD, "alphabet length is the period");
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)a[i % PATTERN_PERIOD];
}

const uint8_t *pattern_at(uint64_t offset)
{
	return block + offset % PATTERN_PERIOD;
}

void pattern_fill(void *buf, uint64_t offset, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		size_t n = len < PATTERN_SPAN ? len : PATTERN_SPAN;
		memcpy(p, pattern_at(offset), n);
		p += n;
		offset += n;
		len -= n;
	}
}

ssize_t pattern_check(const void *buf, uint64_t offset, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < PATTERN_SPAN ? len - done : PATTERN_SPAN;
		const uint8_t *want = pattern_at(offset + done);
		if (memcmp(p + done, want, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (p[done + i] != want[i])
					return (ssize_t)(done + i);
		}
		done += n;
	}
	return -1;
}

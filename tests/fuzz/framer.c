/* libFuzzer target: the record-exact framer (ktls/framer.c).
 *
 * The input is a byte stream; its first byte picks how it is cut into reads.
 * Invariants, checked against an independent walk over the whole stream:
 *   - feeding in arbitrary pieces, in pieces of at most ktls_framer_want(),
 *     and byte by byte give the same records count, boundary and verdict;
 *   - the verdict is KTLS_E_BAD_RECORD exactly when a header has a content
 *     type outside 20..23, a version other than 3.0-3.4 or a length over
 *     2^14 + 2048, and the framer stops there;
 *   - ktls_framer_want() is never 0, and reading that much never completes
 *     more than one record. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktls/ktls.h"

struct verdict {
	int rc;
	uint64_t records;
	int at_boundary;
};

static struct verdict reference(const uint8_t *p, size_t n)
{
	struct verdict v = { 0, 0, 1 };
	size_t pos = 0;

	while (pos < n) {
		if (n - pos < 5) {
			v.at_boundary = 0;
			return v;
		}
		const uint8_t *h = p + pos;
		unsigned len = (unsigned)h[3] << 8 | h[4];
		if (h[0] < 20 || h[0] > 23 || h[1] != 3 || h[2] > 4 || len > 16384 + 2048) {
			v.rc = KTLS_E_BAD_RECORD;
			return v;
		}
		if (n - pos - 5 < len) {
			v.at_boundary = 0;
			return v;
		}
		pos += 5 + len;
		v.records++;
	}
	return v;
}

static struct verdict run(const uint8_t *p, size_t n, unsigned mode, uint8_t seed)
{
	struct ktls_framer f;
	struct verdict v = { 0, 0, 0 };
	size_t pos = 0;
	unsigned k = seed;

	ktls_framer_init(&f);
	while (pos < n) {
		size_t want = ktls_framer_want(&f), take;
		if (want == 0)
			abort();                        /* the framer always wants more */
		switch (mode) {
		case 0: take = 1; break;
		case 1: take = want; break;             /* record-exact, as the server reads */
		default:
			k = k * 1103515245u + 12345u;
			take = 1 + (k >> 16) % 700;     /* any piece, across boundaries */
		}
		if (take > n - pos)
			take = n - pos;
		uint64_t before = f.records;
		v.rc = ktls_framer_feed(&f, p + pos, take);
		if (v.rc) {
			if (v.rc != KTLS_E_BAD_RECORD)
				abort();
			break;
		}
		if (mode == 1 && f.records > before + 1)
			abort();                        /* want() never crosses two records */
		pos += take;
	}
	v.records = f.records;
	v.at_boundary = ktls_framer_at_boundary(&f);
	return v;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t seed = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct verdict ref = reference(p, n);

	for (unsigned mode = 0; mode < 3; mode++) {
		struct verdict v = run(p, n, mode, seed);
		if (v.rc != ref.rc)
			abort();
		if (ref.rc == 0 && (v.records != ref.records || v.at_boundary != ref.at_boundary))
			abort();
		if (ref.rc != 0 && v.records != ref.records)
			abort();                        /* the records before the bad header */
	}
	if (ktls_framer_feed(NULL, p, n) != -EINVAL || ktls_framer_want(&(struct ktls_framer){ 0 }) != 5)
		abort();
	return 0;
}

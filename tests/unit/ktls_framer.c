/* Unit tests: ktls/framer.c finds record boundaries in split input and
 * rejects garbage headers. */
#include "ktls/ktls.h"
#include "tests/tap.h"

#include <errno.h>

int main(void)
{
	/* Three records: handshake (4-byte body), ccs (1), app data (300). */
	uint8_t s[5 + 4 + 5 + 1 + 5 + 300];
	size_t n = 0;
	const uint8_t h1[] = { 22, 3, 3, 0, 4 }, h2[] = { 20, 3, 3, 0, 1 }, h3[] = { 23, 3, 3, 1, 44 };
	memcpy(s + n, h1, 5); n += 5; memset(s + n, 0xaa, 4); n += 4;
	memcpy(s + n, h2, 5); n += 5; s[n++] = 1;
	memcpy(s + n, h3, 5); n += 5; memset(s + n, 0xbb, 300); n += 300;

	/* Read by want(): every read ends inside one record, boundaries exact. */
	struct ktls_framer f;
	size_t off = 0, reads = 0, boundaries[8], nb = 0;
	ktls_framer_init(&f);
	OK(ktls_framer_at_boundary(&f), "starts at a boundary");
	EXPECT_EQ(ktls_framer_want(&f), 5);
	while (off < n && reads < 100) {
		size_t w = ktls_framer_want(&f);
		EXPECT_EQ(ktls_framer_feed(&f, s + off, w), 0);
		off += w;
		reads++;
		if (ktls_framer_at_boundary(&f))
			boundaries[nb++] = off;
	}
	EXPECT_EQ(nb, 3);
	EXPECT_EQ(boundaries[0], 9);
	EXPECT_EQ(boundaries[1], 15);
	EXPECT_EQ(boundaries[2], n);
	EXPECT_EQ(f.records, 3);

	/* One byte at a time: same records, boundary only at the ends. */
	ktls_framer_init(&f);
	nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (ktls_framer_feed(&f, s + i, 1) != 0)
			break;
		if (ktls_framer_at_boundary(&f))
			nb++;
	}
	EXPECT_EQ(nb, 3);
	EXPECT_EQ(f.records, 3);

	/* Everything at once, then a split header. */
	ktls_framer_init(&f);
	EXPECT_EQ(ktls_framer_feed(&f, s, n), 0);
	EXPECT_EQ(f.records, 3);
	EXPECT_EQ(ktls_framer_feed(&f, h3, 3), 0);
	OK(!ktls_framer_at_boundary(&f), "mid-header is not a boundary");
	EXPECT_EQ(ktls_framer_want(&f), 2);
	EXPECT_EQ(ktls_framer_feed(&f, h3 + 3, 2), 0);
	EXPECT_EQ(ktls_framer_want(&f), 300);
	EXPECT_EQ(ktls_framer_feed(&f, s + 20, 299), 0);
	EXPECT_EQ(ktls_framer_want(&f), 1);

	/* Garbage: what a TLS peer never sends. */
	const uint8_t bad[][5] = {
		{ 'G', 'E', 'T', ' ', '/' },      /* plain HTTP */
		{ 24, 3, 3, 0, 1 },               /* heartbeat / unknown type */
		{ 23, 2, 0, 0, 1 },               /* SSL 2 version */
		{ 23, 3, 9, 0, 1 },               /* version 3.9 */
		{ 23, 3, 3, 0x48, 0x01 },         /* 18433 > 2^14 + 2048 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ktls_framer_init(&f);
		EXPECT_EQ(ktls_framer_feed(&f, bad[i], 5), KTLS_E_BAD_RECORD);
	}
	const uint8_t max_ok[5] = { 23, 3, 3, 0x48, 0x00 }; /* exactly 2^14 + 2048 */
	ktls_framer_init(&f);
	EXPECT_EQ(ktls_framer_feed(&f, max_ok, 5), 0);
	const uint8_t empty[5] = { 23, 3, 3, 0, 0 };    /* empty record: complete on its header */
	ktls_framer_init(&f);
	EXPECT_EQ(ktls_framer_feed(&f, empty, 5), 0);
	OK(ktls_framer_at_boundary(&f) && f.records == 1, "zero-length record ends at its header");
	EXPECT_EQ(ktls_framer_feed(NULL, s, 1), -EINVAL);
	return tap_done();
}

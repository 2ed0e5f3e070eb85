/* Unit tests: common/pattern.c, the documented /bytes/<N> body. */
#include "common/pattern.h"
#include "tests/tap.h"

int main(void)
{
	static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy";
	static uint8_t buf[3 << 20];

	/* Independent oracle: the formula written in pattern.h. */
	pattern_fill(buf, 0, sizeof buf);
	int same = 1;
	for (size_t i = 0; i < sizeof buf; i++)
		if (buf[i] != (uint8_t)alpha[i % 61])
			same = 0;
	OK(same, "pattern_fill(0, 3 MiB) follows byte i = ALPHABET[i %% 61]");
	EXPECT_MEMEQ(buf, "0123456789ABC", 13);

	pattern_fill(buf, 1000003, 100);
	OK(buf[0] == (uint8_t)alpha[1000003 % 61] && buf[99] == (uint8_t)alpha[(1000003 + 99) % 61],
	   "pattern_fill at an offset");
	EXPECT_EQ(pattern_check(buf, 1000003, 100), -1);
	EXPECT_EQ(pattern_check(buf, 1000004, 100), 0);

	pattern_fill(buf, 5, sizeof buf);
	EXPECT_EQ(pattern_check(buf, 5, sizeof buf), -1);
	buf[(2 << 20) + 17] ^= 1;
	EXPECT_EQ(pattern_check(buf, 5, sizeof buf), (2 << 20) + 17);

	const uint8_t *p = pattern_at(123456789);
	EXPECT_EQ(pattern_check(p, 123456789, PATTERN_SPAN), -1);
	EXPECT_EQ(pattern_check(p, 123456789 + 61, PATTERN_SPAN), -1);
	EXPECT_EQ(pattern_check(p, 123456789 + 60, PATTERN_SPAN), 0);
	return tap_done();
}

/* Unit tests: common/units.c (sizes, rates, durations, lists). */
#include "common/units.h"
#include "tests/tap.h"

#include <errno.h>

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int rc = units_parse_size(s, &v);
	OK(rc == 0 && v == want, "size \"%s\" = %llu (got rc %d, %llu)", s,
	   (unsigned long long)want, rc, (unsigned long long)v);
}

static void size_bad(const char *s, int want_rc)
{
	uint64_t v = 12345;
	int rc = units_parse_size(s, &v);
	OK(rc == want_rc && v == 12345, "size \"%s\" rejected with %d (got %d), output untouched",
	   s ? s : "(null)", want_rc, rc);
}

static void rate_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int rc = units_parse_rate(s, &v);
	OK(rc == 0 && v == want, "rate \"%s\" = %llu (got rc %d, %llu)", s,
	   (unsigned long long)want, rc, (unsigned long long)v);
}

static void dur_ok(const char *s, uint64_t want_ns)
{
	uint64_t v = 0;
	int rc = units_parse_duration(s, &v);
	OK(rc == 0 && v == want_ns, "duration \"%s\" = %llu ns (got rc %d, %llu)", s,
	   (unsigned long long)want_ns, rc, (unsigned long long)v);
}

static void dur_bad(const char *s, int want_rc)
{
	uint64_t v;
	int rc = units_parse_duration(s, &v);
	OK(rc == want_rc, "duration \"%s\" rejected with %d (got %d)", s, want_rc, rc);
}

int main(void)
{
	uint64_t v;
	char buf[32];

	size_ok("0", 0);
	size_ok("4096", 4096);
	size_ok("100B", 100);
	size_ok("64K", 65536);
	size_ok("64k", 65536);
	size_ok("64KiB", 65536);
	size_ok("64KB", 65536);
	size_ok("1M", 1048576);
	size_ok("1G", 1073741824ULL);
	size_ok("2T", 2199023255552ULL);
	size_ok("18446744073709551615", UINT64_MAX);
	size_bad("", -EINVAL);
	size_bad(NULL, -EINVAL);
	size_bad("10Mx", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("+1", -EINVAL);
	size_bad(" 1", -EINVAL);
	size_bad("1 ", -EINVAL);
	size_bad("0x10", -EINVAL);
	size_bad("1.5M", -EINVAL);
	size_bad("K", -EINVAL);
	size_bad("1P", -EINVAL);
	size_bad("1iB", -EINVAL);
	size_bad("18446744073709551616", -ERANGE);
	size_bad("17179869184G", -ERANGE);

	rate_ok("500", 500);
	rate_ok("10k", 10000);
	rate_ok("10K", 10000);
	rate_ok("2M", 2000000);
	rate_ok("3k/s", 3000);
	OK(units_parse_rate("10kk", &v) == -EINVAL, "rate \"10kk\" rejected");
	OK(units_parse_rate("1m", &v) == -EINVAL, "rate \"1m\" rejected (milli is not a rate)");

	dur_ok("10", 10000000000ULL);
	dur_ok("10s", 10000000000ULL);
	dur_ok("250ms", 250000000ULL);
	dur_ok("1.5s", 1500000000ULL);
	dur_ok("0.25", 250000000ULL);
	dur_ok("2m", 120000000000ULL);
	dur_ok("1h", 3600000000000ULL);
	dur_ok("7us", 7000);
	dur_ok("9ns", 9);
	dur_ok("1.5us", 1500);
	dur_bad("", -EINVAL);
	dur_bad("s", -EINVAL);
	dur_bad("10x", -EINVAL);
	dur_bad("10 s", -EINVAL);
	dur_bad("1.", -EINVAL);
	dur_bad("1.5ns", -EINVAL);
	dur_bad("-1s", -EINVAL);
	dur_bad("1.0000000001s", -EINVAL);
	dur_bad("99999999999999h", -ERANGE);

	EXPECT_EQ(units_parse_u64("42", &v), 0);
	EXPECT_EQ(v, 42);
	EXPECT_EQ(units_parse_u64("42k", &v), -EINVAL);

	double d;
	EXPECT_EQ(units_parse_double("0.5", &d), 0);
	OK(d == 0.5, "double 0.5");
	EXPECT_EQ(units_parse_double("0.5x", &d), -EINVAL);
	EXPECT_EQ(units_parse_double("nan", &d), -ERANGE);

	uint64_t list[4];
	size_t n = 0;
	EXPECT_EQ(units_parse_list_u64("1,8,64", list, 4, &n), 0);
	EXPECT_EQ(n, 3);
	EXPECT_EQ(list[2], 64);
	EXPECT_EQ(units_parse_list_u64("1,,2", list, 4, &n), -EINVAL);
	EXPECT_EQ(units_parse_list_u64("1,2,3,4,5", list, 4, &n), -ERANGE);
	EXPECT_EQ(units_parse_list_u64("1,2,", list, 4, &n), -EINVAL);

	EXPECT_STREQ(units_fmt_size(65536, buf, sizeof buf), "64 KiB");
	EXPECT_STREQ(units_fmt_size(1536, buf, sizeof buf), "1.50 KiB");
	EXPECT_STREQ(units_fmt_size(17, buf, sizeof buf), "17 B");
	EXPECT_STREQ(units_fmt_duration(1500000, buf, sizeof buf), "1.50 ms");
	EXPECT_STREQ(units_fmt_duration(999, buf, sizeof buf), "999 ns");
	return tap_done();
}

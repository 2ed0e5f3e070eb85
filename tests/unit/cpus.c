/* Unit tests: common/cpus.c, --cpus lists. */
#include "common/cpus.h"
#include "tests/tap.h"

#include <errno.h>

int main(void)
{
	cpu_set_t s;

	EXPECT_EQ(cpus_parse("0", &s), 0);
	EXPECT_EQ(CPU_COUNT(&s), 1);
	OK(CPU_ISSET(0, &s), "\"0\" holds CPU 0");
	EXPECT_EQ(cpus_parse("0,2-3", &s), 0);
	EXPECT_EQ(CPU_COUNT(&s), 3);
	OK(CPU_ISSET(0, &s) && !CPU_ISSET(1, &s) && CPU_ISSET(2, &s) && CPU_ISSET(3, &s),
	   "\"0,2-3\" holds 0, 2, 3");
	EXPECT_EQ(cpus_nth(&s, 0), 0);
	EXPECT_EQ(cpus_nth(&s, 1), 2);
	EXPECT_EQ(cpus_nth(&s, 3), 0);
	EXPECT_EQ(cpus_parse("", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("1-", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("3-1", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("a", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("1,", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("-1", &s), -EINVAL);
	EXPECT_EQ(cpus_parse("99999", &s), -ERANGE);
	CPU_ZERO(&s);
	EXPECT_EQ(cpus_nth(&s, 0), -1);

	/* formatting, and the CPUs this process may use (sched_getaffinity) */
	char buf[64], err[200];
	cpus_parse("0-1,4,6-9", &s);
	cpus_format(&s, buf, sizeof buf);
	EXPECT_STREQ(buf, "0-1,4,6-9");
	cpu_set_t mine;
	CPU_ZERO(&mine);
	OK(sched_getaffinity(0, sizeof mine, &mine) == 0, "sched_getaffinity");
	EXPECT_EQ(cpus_check_usable(&mine, err, sizeof err), 0);
	int outside = -1;
	for (int c = 0; c < CPU_SETSIZE && outside < 0; c++)
		if (!CPU_ISSET(c, &mine))
			outside = c;
	CPU_ZERO(&s);
	CPU_SET(outside, &s);
	EXPECT_EQ(cpus_check_usable(&s, err, sizeof err), -EINVAL);
	char want[40];
	snprintf(want, sizeof want, "CPU %d is not one", outside);
	OK(strstr(err, want) != NULL, "the error names CPU %d: %s", outside, err);
	return tap_done();
}

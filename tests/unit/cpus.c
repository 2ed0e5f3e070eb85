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
	return tap_done();
}

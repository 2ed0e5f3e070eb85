/* common/cpus.c: see cpus.h. */
#include "common/cpus.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static int parse_cpu(const char **p, long *out)
{
	char *end;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (errno)
		return -ERANGE;
	if (v >= CPU_SETSIZE)
		return -ERANGE;
	*out = v;
	*p = end;
	return 0;
}

int cpus_parse(const char *s, cpu_set_t *set)
{
	const char *p = s;
	int rc;

	if (!s || !*s)
		return -EINVAL;
	CPU_ZERO(set);
	for (;;) {
		long lo, hi;
		if ((rc = parse_cpu(&p, &lo)))
			return rc;
		hi = lo;
		if (*p == '-') {
			p++;
			if ((rc = parse_cpu(&p, &hi)))
				return rc;
			if (hi < lo)
				return -EINVAL;
		}
		for (long c = lo; c <= hi; c++)
			CPU_SET((int)c, set);
		if (!*p)
			return 0;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

int cpus_nth(const cpu_set_t *set, unsigned n)
{
	int count = CPU_COUNT(set);
	if (count == 0)
		return -1;
	n %= (unsigned)count;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, set)) {
			if (n == 0)
				return c;
			n--;
		}
	}
	return -1;
}

int cpus_pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

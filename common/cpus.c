/* common/cpus.c: see cpus.h. */
#include "common/cpus.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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

void cpus_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int c = 0; c < CPU_SETSIZE && o < len; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		int e = c;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		o += (size_t)snprintf(buf + o, len - o, e > c ? "%s%d-%d" : "%s%d", o ? "," : "", c, e);
		c = e;
	}
}

int cpus_check_usable(const cpu_set_t *set, char *err, size_t errlen)
{
	cpu_set_t mine;
	char allowed[256];

	CPU_ZERO(&mine);
	if (sched_getaffinity(0, sizeof mine, &mine))
		return 0; /* cannot tell: pinning will say */
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, set) || CPU_ISSET(c, &mine))
			continue;
		cpus_format(&mine, allowed, sizeof allowed);
		snprintf(err, errlen, "CPU %d is not one this process can run on (it may use %s): "
			 "pick CPUs from that list", c, allowed);
		return -EINVAL;
	}
	return 0;
}

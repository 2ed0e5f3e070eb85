/* common/procstat.c: see procstat.h. */
#include "common/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void from_rusage(const struct rusage *ru, struct cpu_times *t)
{
	t->user_s = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
	t->sys_s = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

int procstat_thread_cpu(struct cpu_times *t)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru))
		return -errno;
	from_rusage(&ru, t);
	return 0;
}

int procstat_process_cpu(struct cpu_times *t)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return -errno;
	from_rusage(&ru, t);
	return 0;
}

int procstat_rss_kib(uint64_t *rss, uint64_t *peak)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long v;

	if (!f)
		return -errno;
	*rss = *peak = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
			*rss = v;
		else if (sscanf(line, "VmHWM: %llu kB", &v) == 1)
			*peak = v;
	}
	fclose(f);
	return 0;
}

int procstat_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* not counting the directory's own descriptor */
}

uint64_t procstat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* common/procstat.h: CPU time and memory of this process and its threads. */
#ifndef KTLS_COMMON_PROCSTAT_H
#define KTLS_COMMON_PROCSTAT_H

#include <stdint.h>

struct cpu_times {
	double user_s, sys_s;
};

/* getrusage() of the calling thread / the whole process: 0 or -errno. */
int procstat_thread_cpu(struct cpu_times *t);
int procstat_process_cpu(struct cpu_times *t);
/* Resident set size (VmRSS) and its peak (VmHWM) in KiB; 0 or -errno. */
int procstat_rss_kib(uint64_t *rss, uint64_t *peak);
/* Open file descriptors of this process (entries in /proc/self/fd), or -errno. */
int procstat_open_fds(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t procstat_now_ns(void);

#endif

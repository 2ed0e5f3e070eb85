/* common/cpus.h: CPU lists ("0,2-3") for --cpus, and pinning. */
#ifndef KTLS_COMMON_CPUS_H
#define KTLS_COMMON_CPUS_H

#include <sched.h>
#include <stddef.h>

/* Parse a list like "0", "0,2-3", "1-7"; 0 or -EINVAL/-ERANGE (CPU >= CPU_SETSIZE). */
int cpus_parse(const char *s, cpu_set_t *set);
/* The n-th CPU of the set (wrapping around), or -1 for an empty set. */
int cpus_nth(const cpu_set_t *set, unsigned n);
/* Pin the calling thread to one CPU: 0 or -errno. */
int cpus_pin_self(int cpu);
/* Is every CPU of set one this process may run on (sched_getaffinity: online
 * and allowed)? 0, or -EINVAL with "CPU 7 is not one this process can run on
 * (it may use 0-1)" in err. */
int cpus_check_usable(const cpu_set_t *set, char *err, size_t errlen);
/* "0-1,4" */
void cpus_format(const cpu_set_t *set, char *buf, size_t len);

#endif

/* bench/proc.h: start, pin, watch and stop the processes a benchmark runs.
 * Every call returns 0 (or a value) on success and -errno on failure. */
#ifndef KTLS_BENCH_PROC_H
#define KTLS_BENCH_PROC_H

#include <sys/types.h>

/* fork + exec argv pinned to cpu (-1: not pinned), stdin from /dev/null,
 * stdout+stderr into log_path (NULL: inherited), in its own process group. */
int proc_spawn(char *const argv[], int cpu, const char *log_path, pid_t *pid);
/* Wait for pid to exit; -ETIMEDOUT after timeout_ms (pid still running). */
int proc_wait(pid_t pid, unsigned timeout_ms, int *status);
/* Send sig, wait up to timeout_ms, then SIGKILL. 0 when it exited on sig's
 * account, -ETIMEDOUT when it had to be killed. */
int proc_stop(pid_t pid, int sig, unsigned timeout_ms, int *status);
/* Run argv, capture its stdout (stderr dropped) into *out (malloc'd),
 * killed after timeout_s (-ETIMEDOUT). */
int proc_capture(char *const argv[], int cpu, unsigned timeout_s, char **out, int *status);
/* utime + stime of a running process, in seconds (/proc/PID/stat). */
int proc_cpu_s(pid_t pid, double *s);
/* A free TCP port on 127.0.0.1 (the kernel's pick), or -errno. */
int proc_free_port(void);
/* Until 127.0.0.1:port accepts. -ECHILD when pid exited meanwhile (reaped),
 * -ETIMEDOUT after timeout_ms. */
int proc_wait_port(int port, pid_t pid, unsigned timeout_ms);

#endif

/* bench/proc.h: start, pin, watch and stop the processes a benchmark runs.
 * Every call returns 0 (or a value) on success and -errno on failure. */
#ifndef KTLS_BENCH_PROC_H
#define KTLS_BENCH_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fork + exec argv pinned to cpu (-1: not pinned), stdin from /dev/null,
 * stdout+stderr into log_path (NULL: inherited), in its own process group. */
int proc_spawn(char *const argv[], int cpu, const char *log_path, pid_t *pid);
/* The same with stdout into out_path and stderr into err_path. */
int proc_spawn_split(char *const argv[], int cpu, const char *out_path, const char *err_path, pid_t *pid);
/* Wait for pid to exit; -ETIMEDOUT after timeout_ms (pid still running). */
int proc_wait(pid_t pid, unsigned timeout_ms, int *status);
/* Send sig, wait up to timeout_ms, then SIGKILL. 0 when it exited on sig's
 * account, -ETIMEDOUT when it had to be killed. */
int proc_stop(pid_t pid, int sig, unsigned timeout_ms, int *status);
/* Run argv, capture its stdout (stderr dropped) into *out (malloc'd),
 * killed after timeout_s (-ETIMEDOUT). */
int proc_capture(char *const argv[], int cpu, unsigned timeout_s, char **out, int *status);
/* proc_capture with more control: stderr into err_path (NULL: dropped),
 * tick(output so far) at least every 250 ms, stop when *stop becomes true
 * (-EINTR: the child's process group gets SIGTERM, then SIGKILL), and with
 * keep_on_error the output so far is returned in *out on -EINTR/-ETIMEDOUT. */
struct proc_capture_opts {
	unsigned timeout_s;
	const char *err_path;
	void (*tick)(const char *out, size_t len, void *arg);
	void *arg;
	volatile sig_atomic_t *stop;
	bool keep_on_error;
};
int proc_capture_ex(char *const argv[], int cpu, const struct proc_capture_opts *o, char **out,
		    int *status);
/* utime + stime of a running process, in seconds (/proc/PID/stat). */
int proc_cpu_s(pid_t pid, double *s);
/* Seconds CPU cpu spent busy (user, nice, system, irq, softirq) plus the time
 * the hypervisor took it away (steal), from /proc/stat. 0 or -errno. */
int proc_cpu_busy_s(int cpu, double *s);
/* A free TCP port on 127.0.0.1 (the kernel's pick), or -errno. */
int proc_free_port(void);
/* The same on an IPv4 or IPv6 address of this machine (-EINVAL: not an address). */
int proc_free_port_on(const char *addr);
/* Until 127.0.0.1:port accepts. -ECHILD when pid exited meanwhile (reaped),
 * -ETIMEDOUT after timeout_ms. */
int proc_wait_port(int port, pid_t pid, unsigned timeout_ms);
/* The same for addr:port (NULL: 127.0.0.1). */
int proc_wait_port_on(const char *addr, int port, pid_t pid, unsigned timeout_ms);

#endif

/* bench/proc.c: start, pin, watch and stop the processes a benchmark runs. */
#include "bench/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "common/cpus.h"
#include "common/procstat.h"

static void child_setup(int cpu, int out_fd, int err_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	/* Its own process group: a Ctrl-C on the terminal reaches ktls-bench
	 * only, which then stops its children in order. */
	setpgid(0, 0);
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof set, &set);
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		dup2(err_fd >= 0 ? err_fd : out_fd, 2);
		close(out_fd);
	}
	if (err_fd >= 0)
		close(err_fd);
}

int proc_spawn(char *const argv[], int cpu, const char *log_path, pid_t *pid)
{
	return proc_spawn_split(argv, cpu, log_path, NULL, pid);
}

int proc_spawn_split(char *const argv[], int cpu, const char *out_path, const char *err_path, pid_t *pid)
{
	int fd = -1, efd = -1;
	int errpipe[2];
	if (out_path) {
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	if (out_path && err_path) {
		efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (efd < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	if (pipe2(errpipe, O_CLOEXEC)) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		if (efd >= 0)
			close(efd);
		return e;
	}
	pid_t p = fork();
	if (p < 0) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		if (efd >= 0)
			close(efd);
		close(errpipe[0]);
		close(errpipe[1]);
		return e;
	}
	if (p == 0) {
		close(errpipe[0]);
		child_setup(cpu, fd >= 0 ? dup(fd) : -1, efd >= 0 ? dup(efd) : -1);
		execvp(argv[0], argv);
		int e = errno;
		if (write(errpipe[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(errpipe[1]);
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	int e = 0;
	ssize_t r;
	do
		r = read(errpipe[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	close(errpipe[0]);
	if (r == (ssize_t)sizeof e) {
		waitpid(p, NULL, 0);
		return -e;
	}
	*pid = p;
	return 0;
}

int proc_wait(pid_t pid, unsigned timeout_ms, int *status)
{
	uint64_t end = procstat_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (status)
				*status = st;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -errno;
		if (procstat_now_ns() >= end)
			return -ETIMEDOUT;
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

int proc_stop(pid_t pid, int sig, unsigned timeout_ms, int *status)
{
	if (pid <= 0)
		return -EINVAL;
	kill(pid, sig);
	int rc = proc_wait(pid, timeout_ms, status);
	if (rc == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		proc_wait(pid, 5000, status);
	}
	return rc;
}

int proc_capture(char *const argv[], int cpu, unsigned timeout_s, char **out, int *status)
{
	struct proc_capture_opts o = { .timeout_s = timeout_s };
	return proc_capture_ex(argv, cpu, &o, out, status);
}

int proc_capture_ex(char *const argv[], int cpu, const struct proc_capture_opts *o, char **out,
		    int *status)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid_t p = fork();
	if (p < 0) {
		int e = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (p == 0) {
		child_setup(cpu, -1, -1);
		dup2(pfd[1], 1);
		int dn = open(o->err_path ? o->err_path : "/dev/null",
			      O_WRONLY | (o->err_path ? O_CREAT | O_TRUNC : 0), 0644);
		if (dn >= 0)
			dup2(dn, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	uint64_t end = procstat_now_ns() + (uint64_t)o->timeout_s * 1000000000ull;
	int rc = 0;
	while (buf) {
		int64_t left = (int64_t)(end - procstat_now_ns()) / 1000000;
		if ((int64_t)(end - procstat_now_ns()) <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (o->stop && *o->stop) {
			rc = -EINTR;
			break;
		}
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		int pr = poll(&pf, 1, (int)(left > 250 ? 250 : left + 1));
		if (pr < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (pr <= 0) {
			if (o->tick)
				o->tick(buf, n, o->arg);
			continue;
		}
		if (cap - n < 1024) {
			char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(pfd[0], buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = 0;
		if (o->tick)
			o->tick(buf, n, o->arg);
	}
	close(pfd[0]);
	if (!buf)
		return -ENOMEM;
	int st = 0;
	if (rc) {
		/* the whole group: the child may have started its own */
		kill(-p, SIGTERM);
		if (proc_wait(p, 5000, &st) == -ETIMEDOUT) {
			kill(-p, SIGKILL);
			proc_wait(p, 5000, &st);
		}
	} else {
		proc_wait(p, o->timeout_s * 1000u + 1000u, &st);
	}
	buf[n] = 0;
	if (rc && !o->keep_on_error) {
		free(buf);
		return rc;
	}
	*out = buf;
	if (status)
		*status = st;
	return rc;
}

int proc_cpu_s(pid_t pid, double *s)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields start after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	unsigned long long utime, stime;
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -EINVAL;
	long hz = sysconf(_SC_CLK_TCK);
	*s = (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
	return 0;
}

int proc_cpu_busy_s(int cpu, double *s)
{
	char want[16], line[512];
	FILE *f = fopen("/proc/stat", "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof want, "cpu%d ", cpu);
	while (fgets(line, sizeof line, f)) {
		unsigned long long us, ni, sy, id, io, irq, sirq, st = 0;
		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &us, &ni, &sy, &id, &io,
			   &irq, &sirq, &st) < 7) {
			rc = -EINVAL;
			break;
		}
		long hz = sysconf(_SC_CLK_TCK);
		*s = (double)(us + ni + sy + irq + sirq + st) / (double)(hz > 0 ? hz : 100);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* addr (NULL: 127.0.0.1) and port as a socket address. */
static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof *ss);
	if (!addr || inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (!addr)
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return 0;
	}
	return -EINVAL;
}

int proc_free_port(void)
{
	return proc_free_port_on(NULL);
}

int proc_free_port_on(const char *addr)
{
	struct sockaddr_storage a;
	socklen_t len;
	int port, fd;
	if ((port = sockaddr_of(addr, 0, &a, &len)))
		return port;
	fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, len) || getsockname(fd, (struct sockaddr *)&a, &len)) {
		port = -errno;
		close(fd);
		return port;
	}
	port = ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port
					    : ((struct sockaddr_in6 *)&a)->sin6_port);
	close(fd);
	return port;
}

int proc_wait_port(int port, pid_t pid, unsigned timeout_ms)
{
	return proc_wait_port_on(NULL, port, pid, timeout_ms);
}

int proc_wait_port_on(const char *addr, int port, pid_t pid, unsigned timeout_ms)
{
	uint64_t end = procstat_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct sockaddr_storage a;
	socklen_t len;
	int rc = sockaddr_of(addr, port, &a, &len);
	if (rc)
		return rc;
	for (;;) {
		int fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		int ok = connect(fd, (struct sockaddr *)&a, len) == 0;
		close(fd);
		if (ok)
			return 0;
		if (pid > 0) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid)
				return -ECHILD; /* it exited: the caller reads its log */
		}
		if (procstat_now_ns() >= end)
			return -ETIMEDOUT;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* bench/runner.c: one server run + one client run per scenario.
 *
 * For each scenario: pick a free loopback port, start the server pinned to
 * the server CPU, wait until it accepts, sample its CPU time from /proc, run
 * the client pinned to the client CPU (and `perf stat -e cycles` on the server
 * where the kernel exposes cycles), sample the server's CPU again when the
 * client is done, stop the server with SIGTERM (it writes its JSON), and
 * record it all in <stem>.run.json next to the programs' own JSON.
 */
#include "bench/runner.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/icount.h"
#include "bench/proc.h"
#include "common/pattern.h"
#include "common/procstat.h"

volatile sig_atomic_t runner_stop;

/* --- argv building ----------------------------------------------------------- */
struct args {
	char *v[64];
	char buf[64][600];
	int n;
};

static void arg(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct args *a, const char *fmt, ...)
{
	va_list ap;
	if (a->n >= 63)
		return;
	va_start(ap, fmt);
	vsnprintf(a->buf[a->n], sizeof a->buf[a->n], fmt, ap);
	va_end(ap);
	a->v[a->n] = a->buf[a->n];
	a->v[++a->n] = NULL;
}

static void argv_join(char *const *v, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; v[i] && o + 1 < len; i++) {
		bool q = strpbrk(v[i], " '\"") != NULL;
		o += (size_t)snprintf(out + o, len - o, i ? (q ? " '%s'" : " %s") : "%s", v[i]);
	}
}

static void args_join(const struct args *a, char *out, size_t len)
{
	argv_join(a->v, out, len);
}

/* The server's address: --listen, or loopback. */
static const char *listen_addr(const struct runner *R)
{
	return R->listen[0] ? R->listen : "127.0.0.1";
}

static void tls_args(struct args *a, const struct scenario *sc)
{
	arg(a, "--tls-version");
	arg(a, "%s", sc->tls == 12 ? "1.2" : "1.3");
	if (sc->tls == 13) {
		arg(a, "--ciphersuites");
		arg(a, "%s", scenario_ciphersuite(sc));
	} else {
		arg(a, "--ciphers");
		arg(a, "%s", scenario_cipher12(sc));
	}
	char groups[32];
	arg(a, "--groups");
	arg(a, "%s", scenario_groups(sc, groups, sizeof groups));
}

static void duration_arg(struct args *a, const char *opt, uint64_t ns)
{
	arg(a, "%s", opt);
	if (ns % 1000000ull == 0)
		arg(a, "%llums", (unsigned long long)(ns / 1000000ull));
	else
		arg(a, "%lluns", (unsigned long long)ns);
}

/* The CPUs one side runs on: its own first, then the next usable ones in
 * order, the other side's first CPU last (shared only when the host has too
 * few). n CPUs at most, as a list for --cpus; the count is returned. */
static unsigned side_cpus(int first, int other, unsigned n, char *buf, size_t len, int *cpus)
{
	cpu_set_t set;
	int all[CPU_SETSIZE], k = 0, start = 0;
	unsigned got = 0;
	size_t o = 0;

	if (sched_getaffinity(0, sizeof set, &set) || CPU_COUNT(&set) == 0) {
		CPU_ZERO(&set);
		CPU_SET(first, &set);
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (c == first)
				start = k;
			all[k++] = c;
		}
	buf[0] = 0;
	/* own first, then the others but `other`, then `other` */
	for (int pass = 0; pass < 2 && got < n; pass++)
		for (int i = 0; i < k && got < n; i++) {
			int c = all[(start + i) % k];
			if ((pass == 0) == (c == other && c != first))
				continue;
			if (cpus)
				cpus[got] = c;
			got++;
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%d", o ? "," : "", c);
		}
	return got;
}

static void server_args(struct runner *R, struct args *a, const struct scenario *sc, int port,
			const char *stem)
{
	char cpus[256];
	arg(a, "%s/ktls-server", R->bin);
	arg(a, "--tls");
	arg(a, "%s", sc->layer);
	arg(a, "--host");
	arg(a, "%s", listen_addr(R));
	arg(a, "--port");
	arg(a, "%d", port);
	arg(a, "--threads");
	arg(a, "%u", scenario_threads(sc));
	arg(a, "--cpus");
	side_cpus(R->cpu_server, R->cpu_client, scenario_threads(sc), cpus, sizeof cpus, NULL);
	arg(a, "%s", cpus);
	arg(a, "--cert");
	arg(a, "%s/%s.crt", R->certs, sc->cert);
	arg(a, "--key");
	arg(a, "%s/%s.key", R->certs, sc->cert);
	tls_args(a, sc);
	arg(a, "--tickets");
	/* full handshakes measured without the cost of issuing tickets */
	arg(a, "%d", sc->kind == SCEN_HANDSHAKE && !sc->resume ? 0 : 1);
	arg(a, "--docroot");
	arg(a, "%s/www/file", R->tmp);
	if (sc->stock)
		arg(a, "--stock-openssl");
	arg(a, "--json");
	arg(a, "%s/%s.server.json", R->out, stem);
}

static void client_args(struct runner *R, struct args *a, const struct scenario *sc, int port,
			const char *stem, bool once)
{
	char cpus[256];
	arg(a, "%s/ktls-client", R->bin);
	arg(a, "%s", sc->kind == SCEN_HANDSHAKE ? "handshake" : "get");
	arg(a, "--host");
	arg(a, "%s", listen_addr(R));
	arg(a, "--port");
	arg(a, "%d", port);
	arg(a, "--connections");
	arg(a, "%u", once ? 1 : sc->conns < scenario_client_threads(sc) ?
		    scenario_client_threads(sc) : sc->conns);
	arg(a, "--threads");
	arg(a, "%u", once ? 1 : scenario_client_threads(sc));
	arg(a, "--cpus");
	side_cpus(R->cpu_client, R->cpu_server, once ? 1 : scenario_client_threads(sc), cpus, sizeof cpus,
		  NULL);
	arg(a, "%s", cpus);
	tls_args(a, sc);
	if (sc->kind == SCEN_HANDSHAKE && sc->resume)
		arg(a, "--resume");
	if (sc->kind == SCEN_FILE) {
		arg(a, "--path");
		arg(a, "/file/pattern-%llu", (unsigned long long)sc->size);
	} else if (sc->kind != SCEN_HANDSHAKE) {
		arg(a, "--size");
		arg(a, "%llu", (unsigned long long)sc->size);
	}
	if (once) {
		arg(a, "--requests");
		arg(a, "1");
		arg(a, "--duration");
		arg(a, "600s"); /* the cap of one whole transfer, however slow */
		return;
	}
	if (sc->count) {
		/* a fixed amount of work: the server's CPU over the client's whole
		 * life is exactly that work's (duration= becomes a cap) */
		arg(a, sc->kind == SCEN_HANDSHAKE ? "--handshakes" : "--requests");
		arg(a, "%u", sc->count);
		arg(a, "--duration");
		arg(a, "600s");
	} else {
		duration_arg(a, "--duration", sc->duration_ns);
		duration_arg(a, "--warmup", sc->warmup_ns);
	}
	arg(a, "--json");
	arg(a, "%s/%s.client.json", R->out, stem);
}

/* --- progress ------------------------------------------------------------------ */
void runner_progress(struct runner *R, const char *what, double el, double total)
{
	double since = (double)(procstat_now_ns() - R->t0_ns) / 1e9;
	char line[300];
	snprintf(line, sizeof line, "[%3zu/%zu] %2d:%02d %s %4.1f/%.1fs%s",
		 R->done + 1, R->total, (int)since / 60, (int)since % 60, what, el, total,
		 R->failed ? "  (some failed)" : "");
	if (R->tty)
		fprintf(stderr, "\r\033[K%.*s", 160, line);
	else if (el == 0)
		fprintf(stderr, "%s\n", line);
}

void runner_progress_done(struct runner *R)
{
	if (R->tty)
		fprintf(stderr, "\r\033[K");
}

/* --- docroot ------------------------------------------------------------------ */
int runner_docroot_file(struct runner *R, const char *sub, uint64_t size, char *path, size_t len)
{
	char dir[600];
	struct stat st;
	snprintf(dir, sizeof dir, "%s/www/%s", R->tmp, sub);
	int rc = util_mkdir_p(dir);
	if (rc)
		return rc;
	if (strcmp(sub, "bytes") == 0)
		snprintf(path, len, "%s/%llu", dir, (unsigned long long)size);
	else
		snprintf(path, len, "%s/pattern-%llu", dir, (unsigned long long)size);
	if (stat(path, &st) == 0 && (uint64_t)st.st_size == size)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (uint64_t off = 0; off < size; ) {
		size_t n = size - off > PATTERN_SPAN ? PATTERN_SPAN : (size_t)(size - off);
		ssize_t w = write(fd, pattern_at(off), n);
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			close(fd);
			unlink(path);
			return rc;
		}
		off += (uint64_t)w;
	}
	return close(fd) ? -errno : 0;
}

/* --- perf stat ------------------------------------------------------------------ */
static bool perf_works(struct runner *R)
{
	if (R->have_perf < 0) {
		char *argv[] = { "perf", "stat", "-x,", "-e", "cycles", "true", NULL };
		char *out = NULL;
		int st = 0;
		R->have_perf = 0;
		/* perf stat writes to stderr: ask for it on stdout with --log-fd 1 */
		char *argv2[] = { "perf", "stat", "--log-fd", "1", "-x,", "-e", "cycles", "true", NULL };
		(void)argv;
		if (proc_capture(argv2, -1, 10, &out, &st) == 0) {
			R->have_perf = WIFEXITED(st) && WEXITSTATUS(st) == 0 && out &&
				       strstr(out, "cycles") && !strstr(out, "<not supported>") &&
				       !strstr(out, "<not counted>");
			free(out);
		}
	}
	return R->have_perf == 1;
}

double runner_perf_cycles(const char *text)
{
	double v = -1;
	for (const char *l = text; l && *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char line[256];
		if (len < sizeof line) {
			memcpy(line, l, len);
			line[len] = 0;
			/* "123456789,,cycles,..." (perf stat -x,); "<not supported>,,cycles" has no number */
			char *end;
			double d = strtod(line, &end);
			if (end != line && strncmp(end, ",,cycles", 8) == 0 && d > 0)
				v = d;
		}
		l = nl ? nl + 1 : NULL;
	}
	return v;
}

static double perf_read_cycles(const char *path)
{
	char *t = util_read_file(path, NULL);
	double v = t ? runner_perf_cycles(t) : -1;
	free(t);
	return v;
}

/* --- one scenario ----------------------------------------------------------------- */
static int write_run_json(struct runner *R, const struct scenario *sc, const char *stem, int seq,
			  bool nginx, bool ok, const char *error, double cpu_s, double other_s, double window_s,
			  double cycles, double wall_s, const char *cmd_server, const char *cmd_client,
			  unsigned server_cpus, cJSON *instr)
{
	char path[1024], name[300];
	cJSON *o = cJSON_CreateObject();
	int rc;
	if (!o)
		return -ENOMEM;
	util_json_add_build(o, "ktls-bench");
	cJSON_AddItemToObject(o, "scenario", scenario_to_json(sc));
	cJSON_AddNumberToObject(o, "seq", seq);
	cJSON_AddStringToObject(o, "peer", nginx ? "nginx" : "ktls-server");
	cJSON_AddStringToObject(o, "where", "host");
	cJSON_AddBoolToObject(o, "emulated", false);
	cJSON_AddBoolToObject(o, "ok", ok);
	if (error)
		cJSON_AddStringToObject(o, "error", error);
	snprintf(name, sizeof name, "%s.client.json", stem);
	if (sc->kind != SCEN_HYPERFINE)
		cJSON_AddStringToObject(o, "client_json", name);
	snprintf(name, sizeof name, "%s.server.json", stem);
	if (!nginx)
		cJSON_AddStringToObject(o, "server_json", name);
	if (sc->kind == SCEN_HYPERFINE) {
		snprintf(name, sizeof name, "%s.hyperfine.json", stem);
		cJSON_AddStringToObject(o, "hyperfine_json", name);
	}
	if (cpu_s >= 0)
		cJSON_AddNumberToObject(o, "server_cpu_s", cpu_s);
	/* what else ran on the server's CPU meanwhile (other processes,
	 * interrupts, the hypervisor): a disturbed measurement */
	if (other_s > -1)
		cJSON_AddNumberToObject(o, "server_cpu_other_s", other_s > 0 ? other_s : 0);
	/* the wall time between the two samples of server_cpu_s and _other_s */
	if (cpu_s >= 0 && window_s > 0)
		cJSON_AddNumberToObject(o, "server_cpu_window_s", window_s);
	if (cycles > 0)
		cJSON_AddNumberToObject(o, "server_cycles", cycles);
	/* --clock instructions: the server's instructions over the same window */
	if (instr)
		cJSON_AddItemToObject(o, "instructions", instr);
	cJSON_AddNumberToObject(o, "wall_s", wall_s);
	cJSON_AddNumberToObject(o, "cpu_server", R->cpu_server);
	if (R->clients[0] && sc->kind != SCEN_HYPERFINE) {
		/* the client ran as ranks on other hosts (ranks[] in its JSON) */
		cJSON_AddStringToObject(o, "client_hosts", R->clients);
		cJSON_AddNumberToObject(o, "client_ranks", fleet_ranks_for(R, sc));
	} else {
		cJSON_AddNumberToObject(o, "cpu_client", R->cpu_client);
	}
	cJSON_AddStringToObject(o, "listen", listen_addr(R));
	/* the CPUs the server ran on: server_cpu_other_s and the window are theirs together */
	cJSON_AddNumberToObject(o, "server_cpus", server_cpus);
	cJSON_AddStringToObject(o, "command_server", cmd_server);
	cJSON_AddStringToObject(o, "command_client", cmd_client);
	snprintf(path, sizeof path, "%s/%s.run.json", R->out, stem);
	rc = util_write_json(path, o);
	cJSON_Delete(o);
	if (rc == 0 && R->emit) {
		vm_emit_file(R->out, strrchr(path, '/') + 1);
		if (sc->kind != SCEN_HYPERFINE) {
			snprintf(name, sizeof name, "%s.client.json", stem);
			vm_emit_file(R->out, name);
		}
		if (!nginx) {
			snprintf(name, sizeof name, "%s.server.json", stem);
			vm_emit_file(R->out, name);
		}
		if (sc->kind == SCEN_HYPERFINE) {
			snprintf(name, sizeof name, "%s.hyperfine.json", stem);
			vm_emit_file(R->out, name);
		}
		/* a failed run's logs, which its error names: the guest's
		 * folder is gone once the VM stops */
		if (!ok) {
			snprintf(name, sizeof name, "%s.server.log", stem);
			if (!nginx)
				vm_emit_file(R->out, name);
			snprintf(name, sizeof name, "%s.client.log", stem);
			vm_emit_file(R->out, name);
		}
	}
	return rc;
}

/* Time `runs` whole transfers ourselves, written in hyperfine's JSON shape. */
static int self_time(struct runner *R, const struct scenario *sc, struct args *ca, const char *stem)
{
	double times[100], sum = 0, sq = 0;
	unsigned n = 0;
	char path[1024], log[1024];
	snprintf(log, sizeof log, "%s/%s.client.log", R->out, stem);
	for (unsigned i = 0; i < sc->runs && !runner_stop; i++) {
		pid_t p;
		int st = 0;
		uint64_t t0 = procstat_now_ns();
		if (proc_spawn(ca->v, R->cpu_client, log, &p))
			return -1;
		if (proc_wait(p, 600000, &st) || !WIFEXITED(st) || WEXITSTATUS(st)) {
			proc_stop(p, SIGKILL, 1000, NULL);
			return -1;
		}
		times[n] = (double)(procstat_now_ns() - t0) / 1e9;
		sum += times[n];
		n++;
	}
	if (!n)
		return -1;
	double mean = sum / n;
	for (unsigned i = 0; i < n; i++)
		sq += (times[i] - mean) * (times[i] - mean);
	cJSON *o = cJSON_CreateObject(), *res = cJSON_AddArrayToObject(o, "results");
	cJSON *r = cJSON_CreateObject();
	char cmd[2048];
	args_join(ca, cmd, sizeof cmd);
	cJSON_AddStringToObject(r, "command", cmd);
	cJSON_AddNumberToObject(r, "mean", mean);
	cJSON_AddNumberToObject(r, "stddev", n > 1 ? sqrt(sq / (n - 1)) : 0);
	cJSON *t = cJSON_AddArrayToObject(r, "times");
	for (unsigned i = 0; i < n; i++)
		cJSON_AddItemToArray(t, cJSON_CreateNumber(times[i]));
	cJSON_AddItemToArray(res, r);
	cJSON_AddStringToObject(o, "timer", "ktls-bench");
	snprintf(path, sizeof path, "%s/%s.hyperfine.json", R->out, stem);
	int rc = util_write_json(path, o);
	cJSON_Delete(o);
	return rc ? -1 : 0;
}

static void stop_quietly(pid_t *p, int sig, unsigned ms, int *st)
{
	if (*p > 0) {
		proc_stop(*p, sig, ms, st);
		*p = -1;
	}
}

static bool exited_zero(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Busy seconds of the server's CPUs together (/proc/stat). */
static int server_busy_s(const int *cpus, unsigned n, double *s)
{
	double sum = 0, v;
	for (unsigned i = 0; i < n; i++) {
		if (proc_cpu_busy_s(cpus[i], &v))
			return -1;
		sum += v;
	}
	*s = sum;
	return 0;
}

/* The server's CPU over the client's measured window: the server's own
 * (/proc/<pid>/stat) and its CPUs' as a whole (/proc/stat, so other work on
 * them shows), each sampled at the window's two ends. */
struct window {
	double cpu0, cpu1, busy0, busy1;
	uint64_t t0, t1; /* when cpu0/busy0 and cpu1/busy1 were sampled */
	bool instr;       /* --clock instructions: is0/is1 too */
	struct icount_sample is0, is1;
};

static void window_open(struct window *w, pid_t sp, const int *cpus, unsigned n)
{
	w->t0 = procstat_now_ns();
	if (proc_cpu_s(sp, &w->cpu0))
		w->cpu0 = -1;
	if (w->instr) {
		icount_sample_free(&w->is0);
		icount_sample(sp, &w->is0);
	}
	if (server_busy_s(cpus, n, &w->busy0))
		w->busy0 = -1;
}

/* The window's end for the CPUs (the server's own CPU is read by the caller,
 * which also learns from it whether the server is still alive). */
static void window_close_busy(struct window *w, const int *cpus, unsigned n)
{
	w->t1 = procstat_now_ns();
	if (server_busy_s(cpus, n, &w->busy1))
		w->busy1 = -1;
}

/* perf stat -e cycles on the server, on the client's CPU; -1 when it could
 * not start. */
static pid_t perf_start(struct runner *R, pid_t sp, const char *stem)
{
	struct args pa = { 0 };
	pid_t pp = -1;
	arg(&pa, "perf");
	arg(&pa, "stat");
	arg(&pa, "-x,");
	arg(&pa, "-e");
	arg(&pa, "cycles");
	arg(&pa, "-p");
	arg(&pa, "%d", (int)sp);
	arg(&pa, "-o");
	arg(&pa, "%s/%s.perf.txt", R->out, stem);
	if (proc_spawn(pa.v, R->cpu_client, NULL, &pp))
		pp = -1;
	return pp;
}

/* A hyperfine scenario: whole transfers timed by hyperfine (or, without it,
 * by ktls-bench itself). log names the log an error points to. */
static bool run_timed(struct runner *R, const struct scenario *sc, struct args *ca, const char *stem,
		      const char *cmd_c, pid_t *cp, char *log, size_t loglen, char *err, size_t errlen)
{
	bool ok;
	int st_client = -1;
	if (R->have_hyperfine) {
		struct args ha = { 0 };
		arg(&ha, "hyperfine");
		arg(&ha, "-N");
		arg(&ha, "--style");
		arg(&ha, "none");
		arg(&ha, "--runs");
		arg(&ha, "%u", sc->runs);
		arg(&ha, "--command-name");
		arg(&ha, "%s", sc->layer);
		arg(&ha, "--export-json");
		arg(&ha, "%s/%s.hyperfine.json", R->out, stem);
		arg(&ha, "%s", cmd_c);
		snprintf(log, loglen, "%s/%s.hyperfine.log", R->out, stem);
		int rc = proc_spawn(ha.v, R->cpu_client, log, cp);
		if (rc == 0 && proc_wait(*cp, 1800000, &st_client) == 0)
			*cp = -1;
		ok = rc == 0 && *cp < 0 && exited_zero(st_client);
	} else {
		ok = self_time(R, sc, ca, stem) == 0;
	}
	if (!ok)
		snprintf(err, errlen, "timing %s failed: see %s", cmd_c, log);
	return ok;
}

/* Run the client (or, with fa, the fleet through mpirun) to its end, opening
 * the server's window at the end of the client's warmup and, for a fleet,
 * closing it at the end of the fleet's window (*fleet_done). True when the
 * client exited 0; *cp is -1 once it has been reaped. */
static bool run_client(struct runner *R, const struct scenario *sc, struct args *ca, char **fa,
		       const char *stem, pid_t sp, const int *scpus, unsigned nscpus, uint64_t t0,
		       struct window *w, bool *fleet_done, pid_t *cp, char *err, size_t errlen)
{
	double limit = sc->count ? 630 : (double)(sc->duration_ns + sc->warmup_ns) / 1e9 + 30;
	char log[1024], path[1024];
	int rc, st_client = -1;
	bool ok = false;

	snprintf(log, sizeof log, "%s/%s.client.log", R->out, stem);
	if (fa) {
		/* rank 0's JSON arrives on mpirun's stdout */
		snprintf(path, sizeof path, "%s/%s.client.json", R->out, stem);
		rc = proc_spawn_split(fa, -1, path, log, cp);
	} else {
		rc = proc_spawn(ca->v, scenario_client_threads(sc) > 1 ? -1 : R->cpu_client, log, cp);
	}
	if (rc) {
		snprintf(err, errlen, "cannot start %s: %s (%s)", fa ? fa[0] : ca->v[0], strerror(-rc),
			 fa ? "apt-get install openmpi-bin" : "build it with make");
		return false;
	}
	/* The server's CPU counts from the end of the client's warmup (its
	 * measured window starts then, give or take the few ms the client takes
	 * to start), so that it matches the handshakes and bytes the client
	 * counts. A fleet's clock starts when rank 0 says so (mpirun takes a
	 * while to start the ranks), and its window ends warmup + duration
	 * later, before mpirun winds down. */
	bool warm = sc->warmup_ns == 0 && !fa, ended = false;
	uint64_t t_ref = fa ? 0 : t0;
	for (;;) {
		uint64_t now = procstat_now_ns();
		double el = (double)(now - t0) / 1e9;
		unsigned wait_ms = 250;
		if (fa && !t_ref) {
			if (fleet_started(log))
				t_ref = now;
			else
				wait_ms = 5;
		}
		if (t_ref && !warm && now >= t_ref + sc->warmup_ns) {
			window_open(w, sp, scpus, nscpus);
			warm = true;
		} else if (t_ref && !warm && (t_ref + sc->warmup_ns - now) / 1000000 < wait_ms) {
			wait_ms = (unsigned)((t_ref + sc->warmup_ns - now) / 1000000) + 1;
		}
		if (fa && warm && !ended) {
			uint64_t end = t_ref + sc->warmup_ns + sc->duration_ns;
			if (now >= end) {
				window_close_busy(w, scpus, nscpus);
				if (proc_cpu_s(sp, &w->cpu1))
					w->cpu1 = -1;
				ended = true;
			} else if ((end - now) / 1000000 < wait_ms) {
				wait_ms = (unsigned)((end - now) / 1000000) + 1;
			}
		}
		if (proc_wait(*cp, wait_ms, &st_client) == 0) {
			*cp = -1;
			break;
		}
		if (runner_stop)
			break;
		if (el > limit) {
			snprintf(err, errlen, "client still running after %.0f s: killed (see %s)", limit, log);
			break;
		}
		runner_progress(R, stem, el, limit - 30);
	}
	if (*cp < 0 && exited_zero(st_client))
		ok = true;
	else if (*cp < 0 && !err[0])
		snprintf(err, errlen, "%s exited with status %d: see %s",
			 fa ? "mpirun (ktls-client-mpi on the client hosts)" : "ktls-client",
			 WIFEXITED(st_client) ? WEXITSTATUS(st_client) : 128 + WTERMSIG(st_client), log);
	/* (a fleet that ended before its window's end was seen here is sampled
	 * by the caller, a little late) */
	*fleet_done = fa && ended;
	return ok;
}

int runner_scenario(struct runner *R, const struct scenario *sc, int seq, bool nginx)
{
	char cpulist[256];
	int scpus[CPU_SETSIZE];
	unsigned nscpus = side_cpus(R->cpu_server, R->cpu_client, nginx ? 1 : scenario_threads(sc),
				    cpulist, sizeof cpulist, scpus);
	char stem[160], cmd_s[4096], cmd_c[4096], err[6000] = "", path[1024], log[1024];
	struct args *sa = calloc(1, sizeof *sa), *ca = calloc(1, sizeof *ca);
	pid_t sp = -1, cp = -1, pp = -1;
	char **fa = NULL; /* --clients: mpirun's argv */
	struct window w = { .cpu0 = -1, .cpu1 = -1, .busy0 = -1, .busy1 = -1, .instr = R->clock_instr };
	double cycles = -1, wall = 0;
	bool fleet_done = false; /* --clients: the window closed at the end of the fleet's */
	int port, rc, st_server = -1, st_client = -1;
	bool ok = false;
	uint64_t t0;

	if (!sa || !ca) {
		free(sa);
		free(ca);
		return -ENOMEM;
	}
	snprintf(stem, sizeof stem, "%s%s", sc->id, nginx ? ".nginx" : "");
	port = R->port ? R->port : proc_free_port_on(listen_addr(R));
	if (port < 0) {
		snprintf(err, sizeof err, "no free port on %s: %s", listen_addr(R), strerror(-port));
		goto record;
	}
	if (sc->kind == SCEN_FILE && (rc = runner_docroot_file(R, "file", sc->size, path, sizeof path))) {
		snprintf(err, sizeof err, "cannot write %s: %s (is %s writable, with room for it?)",
			 path, strerror(-rc), R->tmp);
		goto record;
	}
	if (nginx && (sc->kind == SCEN_BULK || sc->kind == SCEN_HYPERFINE) &&
	    (rc = runner_docroot_file(R, "bytes", sc->size, path, sizeof path))) {
		snprintf(err, sizeof err, "cannot write %s: %s", path, strerror(-rc));
		goto record;
	}
	if (nginx)
		snprintf(cmd_s, sizeof cmd_s, "nginx -p %s/nginx -c nginx.conf (pinned to CPU %d)",
			 R->tmp, R->cpu_server);
	else {
		server_args(R, sa, sc, port, stem);
		args_join(sa, cmd_s, sizeof cmd_s);
	}
	client_args(R, ca, sc, port, stem, sc->kind == SCEN_HYPERFINE);
	args_join(ca, cmd_c, sizeof cmd_c);
	/* --clients: the same client as ranks on the client hosts */
	if (R->clients[0] && sc->kind != SCEN_HYPERFINE) {
		if (!(fa = fleet_client_argv(R, sc, ca->v))) {
			snprintf(err, sizeof err, "out of memory");
			goto record;
		}
		argv_join(fa, cmd_c, sizeof cmd_c);
	}
	if (R->dry_run) {
		printf("# %s (%s)\n  server: %s\n  client: %s%s\n", stem, sc->origin, cmd_s, cmd_c,
		       sc->kind == SCEN_HYPERFINE ? "   (under hyperfine)" : "");
		free(sa);
		free(ca);
		fleet_argv_free(fa);
		return 0;
	}

	runner_progress(R, stem, 0, (double)(sc->duration_ns + sc->warmup_ns) / 1e9);
	snprintf(log, sizeof log, "%s/%s.server.log", R->out, stem);
	if (nginx)
		rc = nginx_start(R, sc, port, &sp, err, sizeof err);
	else if ((rc = proc_spawn(sa->v, scenario_threads(sc) > 1 ? -1 : R->cpu_server, log, &sp)))
		snprintf(err, sizeof err, "cannot start %s: %s (build it with make)", sa->v[0], strerror(-rc));
	if (rc)
		goto record;
	rc = proc_wait_port_on(listen_addr(R), port, sp, 10000);
	if (rc) {
		bool v6 = strchr(listen_addr(R), ':') != NULL;
		snprintf(err, sizeof err, "%s did not accept on %s%s%s:%d %s: see %s",
			 nginx ? "nginx" : "ktls-server", v6 ? "[" : "", listen_addr(R), v6 ? "]" : "", port,
			 rc == -ECHILD ? "(it exited)" : "within 10 s", log);
		if (rc == -ECHILD)
			sp = -1;
		goto record;
	}
	window_open(&w, sp, scpus, nscpus);
	if (perf_works(R))
		pp = perf_start(R, sp, stem);

	t0 = procstat_now_ns();
	if (sc->kind == SCEN_HYPERFINE)
		ok = run_timed(R, sc, ca, stem, cmd_c, &cp, log, sizeof log, err, sizeof err);
	else
		ok = run_client(R, sc, ca, fa, stem, sp, scpus, nscpus, t0, &w, &fleet_done, &cp,
				err, sizeof err);
	if (!fleet_done)
		window_close_busy(&w, scpus, nscpus);
	wall = (double)(procstat_now_ns() - t0) / 1e9;
	double cpu_end;
	if (w.instr && !fleet_done)
		icount_sample(sp, &w.is1);
	if (proc_cpu_s(sp, fleet_done ? &cpu_end : &w.cpu1) || w.cpu0 < 0 || w.cpu1 < 0) {
		if (!err[0])
			snprintf(err, sizeof err, "the server died during the run: see %s.server.log", stem);
		ok = false;
		w.cpu1 = w.cpu0 = -1;
	}
	stop_quietly(&cp, SIGTERM, 3000, &st_client);
	if (pp > 0) {
		stop_quietly(&pp, SIGINT, 3000, NULL);
		snprintf(path, sizeof path, "%s/%s.perf.txt", R->out, stem);
		cycles = perf_read_cycles(path);
	}

record:
	if (sp > 0) {
		proc_stop(sp, nginx ? SIGQUIT : SIGTERM, 15000, &st_server);
		if (!nginx && ok && !exited_zero(st_server)) {
			ok = false;
			snprintf(err, sizeof err, "ktls-server did not exit cleanly on SIGTERM (status 0x%x): see %s.server.log",
				 st_server, stem);
		}
	}
	free(sa);
	free(ca);
	fleet_argv_free(fa);
	if (runner_stop && !ok) {
		icount_sample_free(&w.is0);
		icount_sample_free(&w.is1);
		return -EINTR; /* interrupted: keep only what finished */
	}
	if (!ok)
		R->failed++;
	rc = write_run_json(R, sc, stem, seq, nginx, ok, err[0] ? err : NULL,
			    w.cpu1 >= 0 ? w.cpu1 - w.cpu0 : -1,
			    w.cpu1 >= 0 && w.busy0 >= 0 && w.busy1 >= 0 ? w.busy1 - w.busy0 - (w.cpu1 - w.cpu0) : -1,
			    w.t1 > w.t0 && w.t0 ? (double)(w.t1 - w.t0) / 1e9 : -1,
			    cycles, wall, cmd_s, cmd_c, nscpus,
			    ok && w.instr ? icount_delta_json(&w.is0, &w.is1) : NULL);
	icount_sample_free(&w.is0);
	icount_sample_free(&w.is1);
	if (!ok && !R->tty)
		fprintf(stderr, "ktls-bench: %s: %s\n", stem, err);
	return rc ? rc : (ok ? 0 : 1);
}

/* --clients: why a scenario cannot run across hosts (NULL: it can). */
static const char *fleet_skip(const struct runner *R, const struct scenario *sc)
{
	if (!R->clients[0])
		return NULL;
	if (sc->kind == SCEN_HYPERFINE)
		return "hyperfine times one whole local client process, not a fleet";
	if (strcmp(sc->layer, "ktls") == 0 && (!R->host_ktls || R->force_vm))
		return "the server's kernel has no kTLS here, and the VM harness cannot reach other hosts";
	return NULL;
}

/* Inside the VM (--emit) everything runs where it is: never hand off again. */
static bool runs_in_vm(const struct runner *R, const struct scenario *sc)
{
	return !R->emit && strcmp(sc->layer, "ktls") == 0 && (!R->host_ktls || R->force_vm) &&
	       !fleet_skip(R, sc);
}

/* nginx runs once per scenario: a stock-OpenSSL row of ktls-server shares
 * the nginx row of its shims twin. */
static bool nginx_eligible(const struct runner *R, const struct scenario *sc)
{
	/* nginx runs as one pinned process (master_process off): a twin for
	 * one server thread only */
	return R->nginx && sc->kind != SCEN_HYPERFINE && !sc->stock && scenario_threads(sc) == 1 &&
	       (strcmp(sc->layer, "user") == 0 || R->host_ktls);
}

int runner_run_suite(struct runner *R, const struct suite *s)
{
	const struct scenario **vm = calloc(s->n * 2 + 1, sizeof *vm);
	struct scenario *twins = calloc(s->n + 1, sizeof *twins);
	int *vm_seq = calloc(s->n * 2 + 1, sizeof *vm_seq);
	size_t nvm = 0, ntw = 0;
	int rc = 0;

	if (!vm || !twins || !vm_seq) {
		free(vm);
		free(twins);
		free(vm_seq);
		return -ENOMEM;
	}
	/* The VM part: every kTLS scenario and its userspace twin, so that the
	 * two record layers are compared under the same emulation. */
	for (size_t i = 0; i < s->n; i++) {
		if (!runs_in_vm(R, &s->sc[i]))
			continue;
		struct scenario tw = s->sc[i];
		snprintf(tw.layer, sizeof tw.layer, "user");
		scenario_make_id(&tw);
		bool have = false;
		for (size_t j = 0; j < nvm && !have; j++)
			have = strcmp(vm[j]->id, tw.id) == 0;
		if (!have) {
			twins[ntw] = tw;
			vm_seq[nvm] = (int)i;
			vm[nvm++] = &twins[ntw++];
		}
		vm_seq[nvm] = (int)i;
		vm[nvm++] = &s->sc[i];
	}
	R->total = nvm;
	for (size_t i = 0; i < s->n; i++)
		if (!runs_in_vm(R, &s->sc[i]) && !fleet_skip(R, &s->sc[i]))
			R->total += 1 + nginx_eligible(R, &s->sc[i]);
	R->t0_ns = procstat_now_ns();
	char www[400];
	snprintf(www, sizeof www, "%s/www/file", R->tmp);
	util_mkdir_p(www); /* the servers' --docroot, even when no file scenario runs */

	for (size_t i = 0; i < s->n && !runner_stop; i++) {
		const struct scenario *sc = &s->sc[i];
		const char *why = fleet_skip(R, sc);
		if (runs_in_vm(R, sc))
			continue;
		if (why) {
			/* said on stderr, and listed in env.json and the report */
			if (!R->not_run)
				R->not_run = cJSON_CreateArray();
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "id", sc->id);
			cJSON_AddStringToObject(e, "why", why);
			cJSON_AddItemToArray(R->not_run, e);
			if (R->dry_run)
				printf("# %s (%s): not run across hosts: %s\n", sc->id, sc->origin, why);
			else
				fprintf(stderr, "ktls-bench: %s: not run across hosts: %s\n", sc->id, why);
			continue;
		}
		if (runner_scenario(R, sc, (int)i, false) == -EINTR)
			break;
		R->done++;
		if (nginx_eligible(R, sc) && !runner_stop) {
			if (runner_scenario(R, sc, (int)i, true) == -EINTR)
				break;
			R->done++;
		}
	}
	if (nvm && !runner_stop) {
		if (R->dry_run) {
			char line[512];
			printf("# in the VM (%s kernel; emulated, correctness only):\n", R->vm_kernel);
			for (size_t i = 0; i < nvm; i++)
				if (scenario_to_line_vm(vm[i], line, sizeof line) == 0)
					printf("  %s\n", line);
		} else {
			rc = vm_run_scenarios(R, vm, vm_seq, nvm);
			if (rc && rc != -EINTR)
				R->failed++;
		}
	}
	runner_progress_done(R);
	free(vm);
	free(twins);
	free(vm_seq);
	if (runner_stop)
		return 130;
	return R->failed ? 1 : 0;
}

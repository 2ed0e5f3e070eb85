/* bench/main.c: ktls-bench, the benchmark runner.
 *
 *   ktls-bench [run] [--suite quick|full|FILE] [--out DIR] [--peer nginx] ...
 *   ktls-bench report DIR       re-render DIR/report.md from DIR's JSON
 *   ktls-bench compare DIR1 DIR2
 *   ktls-bench plotdata DIR     DIR/plots/ .dat files for gnuplot (scripts/plot.sh)
 */
#include "bench/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/icount.h"
#include "bench/proc.h"
#include "common/cpus.h"
#include "common/units.h"
#include "common/version.h"
#include "ktls/ktls.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: ktls-bench [run] [options]       run a suite, write a run folder\n"
"       ktls-bench report DIR            re-render DIR/report.md from the JSON in DIR\n"
"       ktls-bench compare DIR1 DIR2     two runs side by side, with ratios DIR2/DIR1\n"
"       ktls-bench plotdata DIR          DIR's JSON -> DIR/plots/*.dat (scripts/plot.sh draws them)\n"
"       ktls-bench cost-check [--tolerance PCT] BASELINE DIR...\n"
"                                        instruction counts of DIRs against a baseline\n"
"       ktls-bench cost-check --print DIR  DIR's counts as baseline lines\n"
"       ktls-bench --version             the version and git commit of this build\n"
"\n"
"run options:\n"
"  -s, --suite NAME|FILE    quick, full (files in bench/suites/), or a suite file  [quick]\n"
"      --scenario LINE      run this suite line instead (repeatable), e.g.\n"
"                           'bulk cipher=AES-128-GCM layer=user,ktls size=1M'\n"
"  -o, --out DIR            run folder               [results/<date>-<host>-<kernel>]\n"
"      --peer nginx         also run every client scenario against a private nginx\n"
"      --cpus S:C           server CPU : client CPU  [0:1, or 0:0 on one CPU]\n"
"  -n, --dry-run            print the scenarios and commands, run nothing\n"
"      --ceiling-seconds N  seconds per `openssl speed` measurement  [1]\n"
"      --no-ceiling         skip the crypto ceiling\n"
"      --no-plots           do not call scripts/plot.sh at the end\n"
"      --clock C            time, or instructions: inside scripts/vm.sh --icount,\n"
"                           count the server's instructions per handshake and\n"
"                           per byte (docs/cost-lab.md)  [time]\n"
"      --vm-kernel K        kernel for the kTLS part on hosts without kTLS:\n"
"                           bookworm or trixie-backports  [bookworm]\n"
"      --force-vm           run the kTLS scenarios in the VM even with host kTLS\n"
"      --vm-script FILE     the VM harness  [scripts/vm.sh]\n"
"      --bin DIR            where ktls-server, ktls-client, ktls live  [this program's folder]\n"
"      --certs DIR          <cert>.crt/.key  [build/certs]\n"
"      --emit               print every result file on stdout (the VM part uses it)\n"
"      --listen ADDR        the server's address: an address of this machine, whose\n"
"                           interface env.json and the report describe  [127.0.0.1]\n"
"      --port N             the server's port in every scenario (a firewall's hole)\n"
"                           [a free port the kernel picks, per scenario]\n"
"      --clients HOSTFILE   run the client side on these hosts through mpirun\n"
"                           (ktls-client-mpi ranks: 'HOST slots=N' lines), the\n"
"                           server here on --listen; see docs/fleet.md\n"
"      --ranks N            client ranks at most  [the hostfile's slots]\n"
"      --client-bin DIR     where ktls-client-mpi is on the client hosts  [--bin]\n"
"      --mpi-arg ARG        pass ARG to mpirun (repeatable), e.g. --mpi-arg\n"
"                           --bind-to --mpi-arg core\n"
"  -h, --help\n"
"\n"
"Suite lines: KIND key=value[,value...]; KIND is handshake, bulk, file or\n"
"hyperfine; comma lists expand to their cross product; see bench/suites/quick.\n"
"Units: sizes 4096, 64K, 1M, 1G (x1024); durations 500ms, 3s, 1m.\n"
"Ctrl-C stops the servers it started and writes the report of what finished.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	runner_stop = 1;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void self_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(buf, len, "bin");
		return;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, len, "%.*s", (int)(len > 1 ? len - 1 : 0), exe);
}

/* The source tree this program belongs to: the nearest folder above its own
 * (bin/ or build/asan/bin/) that holds bench/suites; else the parent. */
static void find_root(char *root, size_t len)
{
	char dir[PATH_MAX], probe[PATH_MAX + 32];
	self_dir(dir, sizeof dir);
	for (int up = 1; up <= 4; up++) {
		size_t n = strlen(dir);
		if (n + 4 >= sizeof dir)
			break;
		strcat(dir, "/..");
		snprintf(probe, sizeof probe, "%s/bench/suites", dir);
		if (access(probe, F_OK) == 0 || up == 4)
			break;
	}
	if (access(probe, F_OK) != 0) {
		self_dir(dir, sizeof dir);
		strncat(dir, "/..", sizeof dir - strlen(dir) - 1);
	}
	char *real = realpath(dir, NULL);
	snprintf(root, len, "%.*s", (int)(len > 1 ? len - 1 : 0), real ? real : dir);
	free(real);
}

/* 1 when path does not exist or is an empty folder, 0 when it holds
 * something, -errno when it is no folder or cannot be read. */
static int dir_is_free(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return errno == ENOENT ? 1 : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	DIR *d = opendir(path);
	struct dirent *de;
	int free_ = 1;
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			free_ = 0;
			break;
		}
	closedir(d);
	return free_;
}

/* results/<date>-<host>-<kernel>, or with -2, -3, ... when a run of the same
 * day already has it: every run gets its own folder. */
static void default_out(char *buf, size_t len)
{
	char date[32], host[128] = "host", base[400];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	gethostname(host, sizeof host);
	host[sizeof host - 1] = 0;
	if (uname(&u))
		snprintf(u.release, sizeof u.release, "unknown");
	snprintf(base, sizeof base, "results/%s-%s-%.64s", date, host, u.release);
	snprintf(buf, len, "%s", base);
	for (int i = 2; i < 1000 && dir_is_free(buf) != 1; i++)
		snprintf(buf, len, "%s-%d", base, i);
}

/* The run folder must take files before anything is measured. 0, or -errno
 * with err. */
static int out_writable(const char *dir, char *err, size_t errlen)
{
	char probe[700];
	int rc = util_mkdir_p(dir), fd;
	if (rc) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(probe, sizeof probe, "%s/.ktls-bench-write-test.%d", dir, (int)getpid());
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write into %s: %s", dir, strerror(errno));
		return rc;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/* env.json again at the end: whether the run reached it, and how far. */
static void env_finish(const struct runner *R, const char *state)
{
	char path[700];
	snprintf(path, sizeof path, "%s/env.json", R->out);
	cJSON *env = util_read_json(path);
	if (!env)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(env, "run_state");
	cJSON_AddStringToObject(env, "run_state", state);
	cJSON_DeleteItemFromObjectCaseSensitive(env, "runs_planned");
	cJSON_AddNumberToObject(env, "runs_planned", (double)R->total);
	cJSON_DeleteItemFromObjectCaseSensitive(env, "runs_done");
	cJSON_AddNumberToObject(env, "runs_done", (double)R->done);
	if (R->not_run) {
		cJSON_DeleteItemFromObjectCaseSensitive(env, "not_run");
		cJSON_AddItemToObject(env, "not_run", cJSON_Duplicate(R->not_run, true));
	}
	/* the kernel's kTLS counters again: did the NIC do any crypto? */
	cJSON *nif = cJSON_GetObjectItemCaseSensitive(env, "netif");
	if (cJSON_IsObject(nif)) {
		cJSON *st = netif_tls_stat();
		cJSON_DeleteItemFromObjectCaseSensitive(nif, "tls_stat_after");
		if (st)
			cJSON_AddItemToObject(nif, "tls_stat_after", st);
		else
			cJSON_AddNullToObject(nif, "tls_stat_after");
	}
	util_write_json(path, env);
	cJSON_Delete(env);
}

static int parse_cpus(const char *s, int *a, int *b)
{
	uint64_t x, y;
	char left[32];
	const char *colon = strchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof left)
		return -EINVAL;
	snprintf(left, sizeof left, "%.*s", (int)(colon - s), s);
	if (units_parse_u64(left, &x) || units_parse_u64(colon + 1, &y) || x >= CPU_SETSIZE || y >= CPU_SETSIZE)
		return -EINVAL;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

/* Draw the plots (optional), then write report.md, which lists them.
 * *failed counts the scenarios the loaded run shows as failed. */
static int render(const char *dir, bool plots, const char *scripts, size_t *failed)
{
	struct run r;
	char err[600], path[1100];
	int rc;
	if (plots) {
		char sh[700];
		snprintf(sh, sizeof sh, "%s/plot.sh", scripts);
		char *argv[] = { sh, (char *)dir, NULL };
		pid_t p;
		int st = 0;
		char log[1100];
		snprintf(log, sizeof log, "%s/plot.log", dir);
		if (!(access(sh, X_OK) == 0 && proc_spawn(argv, -1, log, &p) == 0 &&
		      proc_wait(p, 120000, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
			fprintf(stderr, "ktls-bench: plots not drawn (%s %s failed: see %s; is gnuplot-nox installed?)\n",
				sh, dir, log);
	}
	rc = run_load(&r, dir, err, sizeof err);
	if (rc) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof path, "%s/report.md", dir);
	rc = report_write(&r, path, err, sizeof err);
	if (rc)
		fprintf(stderr, "ktls-bench: %s\n", err);
	if (failed) {
		*failed = 0;
		for (size_t i = 0; i < r.n; i++)
			*failed += !r.rows[i].ok;
	}
	size_t bad = 0;
	for (size_t i = 0; i < r.n; i++)
		bad += r.rows[i].check_failed != 0;
	run_free(&r);
	if (rc)
		return 1;
	printf("ktls-bench: wrote %s\n", path);
	if (bad) {
		fprintf(stderr, "ktls-bench: %zu scenario run%s fail%s the consistency checks (a figure breaks a "
			"physical bound): see \"Consistency checks\" in %s\n", bad, bad == 1 ? "" : "s",
			bad == 1 ? "s" : "", path);
		return 1;
	}
	return 0;
}

/* What cmd_run's command line says beyond struct runner. */
struct run_opts {
	const char *suite_name;
	char **lines; /* --scenario lines */
	size_t nlines;
	bool no_ceiling, no_plots, certs_set, out_set, cpus_set;
	uint64_t ceil_s;
};

/* Parse run's options into R and o. -1: go on; otherwise the exit status
 * (0 after --help or --version, 2 on a usage error). */
static int run_parse(int argc, char **argv, struct runner *R, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "scenario", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'o' },
		{ "peer", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "ceiling-seconds", required_argument, NULL, 'C' },
		{ "no-ceiling", no_argument, NULL, 'N' },
		{ "no-plots", no_argument, NULL, 'P' },
		{ "clock", required_argument, NULL, 'K' },
		{ "vm-kernel", required_argument, NULL, 'k' },
		{ "force-vm", no_argument, NULL, 'F' },
		{ "bin", required_argument, NULL, 'b' },
		{ "certs", required_argument, NULL, 'r' },
		{ "emit", no_argument, NULL, 'e' },
		{ "vm-script", required_argument, NULL, 'V' },
		{ "listen", required_argument, NULL, 'L' },
		{ "port", required_argument, NULL, 'T' },
		{ "clients", required_argument, NULL, 'H' },
		{ "ranks", required_argument, NULL, 'R' },
		{ "client-bin", required_argument, NULL, 'B' },
		{ "mpi-arg", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 }
	};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:o:nh", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->suite_name = optarg; break;
		case 'S': o->lines[o->nlines++] = optarg; break;
		case 'o': snprintf(R->out, sizeof R->out, "%s", optarg); o->out_set = true; break;
		case 'p':
			if (strcmp(optarg, "nginx")) {
				fprintf(stderr, "ktls-bench: unknown peer '%s' (the one peer is nginx)\n", optarg);
				return 2;
			}
			R->nginx = true;
			break;
		case 'c':
			if (parse_cpus(optarg, &R->cpu_server, &R->cpu_client)) {
				fprintf(stderr, "ktls-bench: --cpus wants SERVER:CLIENT CPU numbers, e.g. 0:1 (got '%s')\n", optarg);
				return 2;
			}
			o->cpus_set = true;
			break;
		case 'n': R->dry_run = true; break;
		case 'C':
			if (units_parse_u64(optarg, &o->ceil_s) || o->ceil_s < 1 || o->ceil_s > 60) {
				fprintf(stderr, "ktls-bench: --ceiling-seconds wants 1..60 (got '%s')\n", optarg);
				return 2;
			}
			break;
		case 'N': o->no_ceiling = true; break;
		case 'P': o->no_plots = true; break;
		case 'K':
			if (strcmp(optarg, "instructions") == 0)
				R->clock_instr = true;
			else if (strcmp(optarg, "time") == 0)
				R->clock_instr = false;
			else {
				fprintf(stderr, "ktls-bench: --clock: '%s' is no clock: use time or instructions\n",
					optarg);
				return 2;
			}
			break;
		case 'k':
			if (strcmp(optarg, "bookworm") && strcmp(optarg, "trixie-backports")) {
				fprintf(stderr, "ktls-bench: --vm-kernel is bookworm or trixie-backports (got '%s')\n", optarg);
				return 2;
			}
			snprintf(R->vm_kernel, sizeof R->vm_kernel, "%s", optarg);
			break;
		case 'F': R->force_vm = true; break;
		case 'b': snprintf(R->bin, sizeof R->bin, "%s", optarg); break;
		case 'r': snprintf(R->certs, sizeof R->certs, "%s", optarg); o->certs_set = true; break;
		case 'e': R->emit = true; break;
		case 'V': snprintf(R->vm_script, sizeof R->vm_script, "%s", optarg); break;
		case 'L': snprintf(R->listen, sizeof R->listen, "%s", optarg); break;
		case 'T':
			if (units_parse_u64(optarg, &v) || v < 1 || v > 65535) {
				fprintf(stderr, "ktls-bench: --port wants 1..65535 (got '%s')\n", optarg);
				return 2;
			}
			R->port = (int)v;
			break;
		case 'H': snprintf(R->clients, sizeof R->clients, "%s", optarg); break;
		case 'B': snprintf(R->client_bin, sizeof R->client_bin, "%s", optarg); break;
		case 'R':
			if (units_parse_u64(optarg, &v) || v < 1 || v > 65536) {
				fprintf(stderr, "ktls-bench: --ranks wants 1..65536 (got '%s')\n", optarg);
				return 2;
			}
			R->ranks = (unsigned)v;
			break;
		case 'M':
			if (R->n_mpi_args >= sizeof R->mpi_args / sizeof R->mpi_args[0]) {
				fprintf(stderr, "ktls-bench: at most %zu --mpi-arg\n", sizeof R->mpi_args / sizeof R->mpi_args[0]);
				return 2;
			}
			R->mpi_args[R->n_mpi_args++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		case 'v': build_print_version(stdout, "ktls-bench"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ktls-bench: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	return -1;
}

/* What the options ask of this machine, checked before anything runs: the
 * fleet, the CPUs, a fresh --out folder. -1: go on; otherwise the exit status. */
static int run_check_options(struct runner *R, const struct run_opts *o)
{
	char err[700];
	int rc;

	/* instructions: only where the clock counts them, one CPU for both sides */
	if (R->clock_instr && !R->dry_run && !icount_guest()) {
		fprintf(stderr, "ktls-bench: --clock instructions: this clock counts time, not instructions "
			"(KTLS_VM_ICOUNT=1 is not set): run it in the guest of scripts/vm.sh --icount, e.g. "
			"make cost\n");
		return 2;
	}
	if (R->clock_instr && (R->clients[0] || R->force_vm)) {
		fprintf(stderr, "ktls-bench: --clock instructions counts this guest's programs: it cannot go "
			"with --clients or --force-vm\n");
		return 2;
	}
	if (R->clock_instr && !o->cpus_set)
		R->cpu_server = R->cpu_client = 0;
	if ((rc = fleet_setup(R, err, sizeof err))) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	/* a CPU this process cannot run on would leave the programs unpinned
	 * (or make them fail) while env.json and the report name it */
	if (o->cpus_set || !R->dry_run) {
		cpu_set_t want;
		CPU_ZERO(&want);
		CPU_SET(R->cpu_server, &want);
		CPU_SET(R->cpu_client, &want);
		if (cpus_check_usable(&want, err, sizeof err)) {
			fprintf(stderr, "ktls-bench: --cpus %d:%d: %s\n", R->cpu_server, R->cpu_client, err);
			return 2;
		}
	}
	/* each run its own folder: never blend two runs' rows, ceilings and
	 * environments */
	if (o->out_set && !R->dry_run && !R->emit) {
		int fr = dir_is_free(R->out);
		if (fr != 1) {
			fprintf(stderr, "ktls-bench: --out %s: %s: give a new or empty folder (each run writes "
				"its own; the report of a folder holding two runs would blend them)\n", R->out,
				fr == 0 ? "it already holds files" : strerror(-fr));
			return 2;
		}
	}
	return -1;
}

/* Suites, certificates and scripts belong to this program's tree; the suite
 * (the --scenario lines, or a suite file) is loaded into s. 0, or 2 after
 * saying what is wrong with the suite. */
static int run_locate(struct runner *R, struct run_opts *o, struct suite *s)
{
	char err[700], root[512], suites_dir[600];
	int rc = 0;

	find_root(root, sizeof root);
	if (!o->certs_set) {
		/* a build folder's own certs (build/asan/bin -> build/asan/certs), else build/certs */
		char own[600];
		self_dir(own, sizeof own - 16);
		strcat(own, "/../certs");
		if (access(own, R_OK) == 0)
			snprintf(R->certs, sizeof R->certs, "%.500s", own);
		else
			snprintf(R->certs, sizeof R->certs, "%.480s/build/certs", root);
	}
	snprintf(R->scripts, sizeof R->scripts, "%.480s/scripts", root);
	if (!R->vm_script[0])
		snprintf(R->vm_script, sizeof R->vm_script, "%.480s/vm.sh", R->scripts);
	snprintf(suites_dir, sizeof suites_dir, "%s/bench/suites", root);

	if (o->nlines) {
		o->suite_name = "--scenario";
		for (size_t i = 0; i < o->nlines; i++) {
			char name[32];
			snprintf(name, sizeof name, "--scenario %zu", i + 1);
			if ((rc = suite_parse_text(s, o->lines[i], name, err, sizeof err)))
				break;
		}
	} else {
		rc = suite_load(s, o->suite_name, suites_dir, err, sizeof err);
	}
	if (rc) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		return 2;
	}
	return 0;
}

/* Everything a real run needs, before it starts: the programs, the suite's
 * certificates, nginx when asked, a writable run folder. 0, or 1 after
 * saying what is missing and how to get it. */
static int run_preflight(const struct runner *R, const struct suite *s)
{
	char need[700], err[700];

	for (int i = 0; i < 2; i++) {
		snprintf(need, sizeof need, "%s/%s", R->bin, i ? "ktls-client" : "ktls-server");
		if (access(need, X_OK)) {
			fprintf(stderr, "ktls-bench: %s is missing: build it with make (or point --bin at it)\n", need);
			return 1;
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		snprintf(need, sizeof need, "%.500s/%s.key", R->certs, s->sc[i].cert);
		if (access(need, R_OK)) {
			fprintf(stderr, "ktls-bench: %s is missing: run make certs (or point --certs at "
				"a folder with <cert>.crt and <cert>.key)\n", need);
			return 1;
		}
	}
	if (R->nginx && system("command -v nginx >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ktls-bench: --peer nginx, but nginx is not installed: apt-get install nginx\n");
		return 1;
	}
	if (out_writable(R->out, err, sizeof err)) {
		fprintf(stderr, "ktls-bench: %s (--out picks another folder)\n", err);
		return 1;
	}
	return 0;
}

/* The run's first line on stderr, env.json ("running" until env_finish) and
 * the crypto ceiling, before the first scenario. */
static void run_begin(struct runner *R, const struct run_opts *o, const struct suite *s)
{
	char err[700], path[700];

	if (R->clients[0])
		fprintf(stderr, "ktls-bench: %zu scenarios from %s into %s (server CPU %d on %s, clients: up to %u "
			"ranks on the hosts of %s)%s\n", s->n, o->suite_name, R->out, R->cpu_server, R->listen,
			R->ranks, R->clients, R->nginx ? ", with nginx" : "");
	else {
		fprintf(stderr, "ktls-bench: %zu scenarios from %s into %s (server CPU %d, client CPU %d)%s\n",
			s->n, o->suite_name, R->out, R->cpu_server, R->cpu_client, R->nginx ? ", with nginx" : "");
		if (!R->host_ktls)
			fprintf(stderr, "ktls-bench: this kernel has no kTLS: the kTLS scenarios run in the VM "
				"(%s kernel), emulated, for correctness only\n", R->vm_kernel);
	}
	cJSON *env = env_collect(R, o->suite_name);
	snprintf(path, sizeof path, "%s/env.json", R->out);
	if (env) {
		/* "complete" or "interrupted" once the run ends (env_finish) */
		cJSON_AddStringToObject(env, "run_state", "running");
		/* what a second of CPU time is here: time, or 10^9 instructions */
		cJSON_AddStringToObject(env, "clock", R->clock_instr ? "instructions" : "time");
		if (R->clock_instr && getenv("KTLS_IN_VM"))
			cJSON_AddStringToObject(env, "icount_kernel", getenv("KTLS_IN_VM"));
		if (R->clock_instr && getenv("KTLS_VM_ICOUNT_CPU"))
			cJSON_AddStringToObject(env, "icount_cpu", getenv("KTLS_VM_ICOUNT_CPU"));
		util_write_json(path, env);
	}
	cJSON_Delete(env);
	if (o->no_ceiling)
		return;
	struct ceiling ceil = { 0 };
	fprintf(stderr, "ktls-bench: crypto ceiling (openssl speed, %llu s each, CPU %d)\n",
		(unsigned long long)o->ceil_s, R->cpu_server);
	if (ceiling_measure_cpu(&ceil, s, (unsigned)o->ceil_s, R->cpu_server, NULL, NULL, err, sizeof err))
		fprintf(stderr, "ktls-bench: crypto ceiling: %s\n", err);
	if (ceil.n_sign + ceil.n_kex + ceil.n_aead) {
		cJSON *j = ceiling_to_json(&ceil);
		snprintf(path, sizeof path, "%s/ceiling.json", R->out);
		if (j)
			util_write_json(path, j);
		cJSON_Delete(j);
	}
}

static int cmd_run(int argc, char **argv, const char *self)
{
	struct runner R = { .cpu_server = 0, .cpu_client = 1, .have_perf = -1 };
	struct run_opts o = { .suite_name = "quick", .ceil_s = 1 };
	struct suite s = { 0 };
	int rc;

	if (!(o.lines = calloc((size_t)argc + 1, sizeof *o.lines)))
		return 1;
	self_dir(R.bin, sizeof R.bin);
	snprintf(R.vm_kernel, sizeof R.vm_kernel, "bookworm");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		R.cpu_client = 0;
	/* the exact command, for env.json ("run" was argv[1] of the program) */
	int off = 0;
	if (strcmp(argv[0], "run") == 0)
		off = snprintf(R.cmdline, sizeof R.cmdline, "%s ", self);
	for (int i = 0; i < argc && off < (int)sizeof R.cmdline - 1; i++)
		off += snprintf(R.cmdline + off, sizeof R.cmdline - (size_t)off, "%s%s", i ? " " : "", argv[i]);

	if ((rc = run_parse(argc, argv, &R, &o)) >= 0 || (rc = run_check_options(&R, &o)) >= 0) {
		free(o.lines);
		return rc;
	}
	rc = run_locate(&R, &o, &s);
	free(o.lines);
	if (rc) {
		suite_free(&s);
		return rc;
	}

	struct ktls_probe probe;
	R.host_ktls = ktls_probe(&probe) == 0 && probe.ulp_available;
	R.tty = isatty(2) && !R.emit;
	if (R.clock_instr && !R.dry_run && !R.host_ktls) {
		fprintf(stderr, "ktls-bench: --clock instructions: this kernel has no kTLS (the tls module "
			"does not load): run it in the guest of scripts/vm.sh --icount\n");
		suite_free(&s);
		return 1;
	}
	R.have_hyperfine = system("command -v hyperfine >/dev/null 2>&1") == 0;

	snprintf(R.tmp, sizeof R.tmp, "/tmp/ktls-bench.XXXXXX");
	if (!mkdtemp(R.tmp)) {
		fprintf(stderr, "ktls-bench: cannot create a temp folder in /tmp: %s\n", strerror(errno));
		suite_free(&s);
		return 1;
	}
	if (!o.out_set) {
		if (R.emit) /* inside the VM: the files go out on stdout, then away */
			snprintf(R.out, sizeof R.out, "%s/out", R.tmp);
		else
			default_out(R.out, sizeof R.out);
	}
	if (!R.dry_run && run_preflight(&R, &s)) {
		nftw(R.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		suite_free(&s);
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!R.dry_run && !R.emit)
		run_begin(&R, &o, &s);

	rc = runner_stop ? 130 : runner_run_suite(&R, &s);
	nftw(R.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	suite_free(&s);
	if (R.dry_run || R.emit) {
		cJSON_Delete(R.not_run);
		return rc;
	}
	env_finish(&R, rc == 130 ? "interrupted" : "complete");
	cJSON_Delete(R.not_run);
	if (rc == 130)
		fprintf(stderr, "ktls-bench: interrupted: the report covers the %zu scenarios that finished\n", R.done);
	else
		fprintf(stderr, "ktls-bench: %zu scenarios run, %zu failed\n", R.done, R.failed);
	size_t failed = 0;
	int rr = render(R.out, !o.no_plots, R.scripts, &failed);
	if (rc == 0 && failed) {
		fprintf(stderr, "ktls-bench: %zu scenarios measured nothing or failed: see the end of %s/report.md\n",
			failed, R.out);
		rc = 1;
	}
	return rc ? rc : rr;
}

static int cmd_compare(const char *a, const char *b)
{
	struct run ra, rb;
	char err[600];
	if (run_load(&ra, a, err, sizeof err)) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		return 1;
	}
	if (run_load(&rb, b, err, sizeof err)) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		run_free(&ra);
		return 1;
	}
	int rc = compare_print(&ra, &rb, stdout);
	run_free(&ra);
	run_free(&rb);
	return rc ? 1 : 0;
}

static int cmd_plotdata(const char *dir)
{
	struct run r;
	char err[600], out[1100];
	if (run_load(&r, dir, err, sizeof err)) {
		fprintf(stderr, "ktls-bench: %s\n", err);
		return 1;
	}
	snprintf(out, sizeof out, "%s/plots", dir);
	int rc = plotdata_write(&r, out, err, sizeof err);
	if (rc)
		fprintf(stderr, "ktls-bench: %s\n", err);
	run_free(&r);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "run";
	char dir[600];

	if (strcmp(cmd, "report") == 0 || strcmp(cmd, "plotdata") == 0) {
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "usage: ktls-bench %s DIR\n", cmd);
			return 2;
		}
		if (strcmp(cmd, "plotdata") == 0)
			return cmd_plotdata(argv[2]);
		find_root(dir, sizeof dir - 16);
		strcat(dir, "/scripts");
		return render(argv[2], false, dir, NULL);
	}
	if (strcmp(cmd, "compare") == 0) {
		if (argc != 4) {
			fprintf(stderr, "usage: ktls-bench compare DIR1 DIR2\n");
			return 2;
		}
		return cmd_compare(argv[2], argv[3]);
	}
	if (strcmp(cmd, "cost-check") == 0)
		return cost_check_main(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		build_print_version(stdout, "ktls-bench");
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1, argv[0]);
	if (cmd[0] != '-') {
		fprintf(stderr, "ktls-bench: unknown command '%s' (run, report, compare, plotdata, cost-check; see --help)\n", cmd);
		return 2;
	}
	return cmd_run(argc, argv, argv[0]);
}

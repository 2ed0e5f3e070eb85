/* ktls-client-mpi: ktls-client as one rank of a fleet started by mpirun,
 * the way HPC benchmarks (IOR, mdtest) run their ranks:
 *
 *   mpirun --hostfile HOSTS -np 8 bin/ktls-client-mpi handshake --host SERVER ...
 *
 * Every rank parses the same command line and runs its share of the load
 * (client/fleet.c splits the totals); all ranks pass one gate together
 * (MPI_Iallgather of "ready, or why not", then MPI_Barrier) and start their
 * warm-up at once; at the end rank 0 gathers every rank's counts, latency
 * histograms and timeline (MPI_Igather), merges them and prints one summary
 * and one JSON. A rank that cannot start fails the gate, and every rank
 * exits with the reason printed once; a rank that fails later stops the
 * others with MPI_Abort; a rank that waits for the others longer than
 * --fleet-wait stops them too, so nothing hangs.
 *
 * Only the main thread calls MPI (MPI_THREAD_FUNNELED): the workers are the
 * ones of client/worker.c, unchanged.
 */
#include <mpi.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/fleet.h"
#include "common/outfile.h"
#include "common/units.h"
#include "common/version.h"
#include "osslshim/osslshim.h"

#define PROG "ktls-client-mpi"
#define DEF_FLEET_WAIT "30s"

struct samples {
	uint64_t *v;
	size_t n, cap;
	bool oom;
};

struct fleet_state {
	struct fleet f;
	const struct client_cfg *total; /* the command line's (the fleet's totals) */
	uint64_t wait_ns;               /* --fleet-wait */
	char host[64];
	bool gate_called, gate_ok;
	int exit_code;                  /* when the gate failed: every rank exits with it */
	int64_t start_realtime_ns;
	const char *raw_path;           /* --raw-samples */
	struct samples *raw;            /* one per worker */
	unsigned nraw;
};

struct gate_msg {
	int code;                       /* 0: ready; else the exit status this rank wants */
	char host[64];
	char why[952];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Poll a non-blocking MPI operation until it completes; --fleet-wait after
 * `from` (CLOCK_MONOTONIC; 0: now) the whole job is stopped (a rank hangs,
 * or its host is gone). */
static void wait_req(struct fleet_state *s, MPI_Request *req, const char *what, uint64_t from)
{
	uint64_t now = mono_ns(), end = (from > now ? from : now) + s->wait_ns;
	struct timespec ms = { 0, 1000000 };
	int done = 0;

	for (;;) {
		MPI_Test(req, &done, MPI_STATUS_IGNORE);
		if (done)
			return;
		if (mono_ns() >= end) {
			char b[32];
			fprintf(stderr, PROG ": rank %u on %s: %s: the other ranks did not all answer within %s "
				"(--fleet-wait): a rank hangs or its host is unreachable; stopping every rank\n",
				s->f.rank, s->host, what, units_fmt_duration(s->wait_ns, b, sizeof(b)));
			MPI_Abort(MPI_COMM_WORLD, 1);
			_exit(1);
		}
		nanosleep(&ms, NULL);
	}
}

/* "0-2,5" */
static void rank_list(char *buf, size_t len, const bool *sel, unsigned n)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < n && o < len; i++) {
		if (!sel[i])
			continue;
		unsigned j = i;
		while (j + 1 < n && sel[j + 1])
			j++;
		o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? "," : "", i);
		if (j > i && o < len)
			o += (size_t)snprintf(buf + o, len - o, "-%u", j);
		i = j;
	}
}

/* The gate: every rank says whether it is ready (code 0) or why not. When
 * all are, they leave together (MPI_Barrier); otherwise rank 0 prints each
 * distinct reason once with the ranks that gave it, and every rank exits
 * with the highest code. Called exactly once per rank. */
static bool gate_pass(struct fleet_state *s, int code, const char *why)
{
	unsigned n = s->f.size;
	struct gate_msg me = { .code = code }, *all = calloc(n, sizeof(*all));
	MPI_Request req;

	if (!all) {
		fprintf(stderr, PROG ": rank %u: out of memory\n", s->f.rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	s->gate_called = true;
	snprintf(me.host, sizeof(me.host), "%s", s->host);
	snprintf(me.why, sizeof(me.why), "%s", why ? why : "");
	MPI_Iallgather(&me, sizeof(me), MPI_BYTE, all, sizeof(me), MPI_BYTE, MPI_COMM_WORLD, &req);
	wait_req(s, &req, "waiting for every rank to get ready", 0);
	s->exit_code = 0;
	for (unsigned i = 0; i < n; i++)
		if (all[i].code > s->exit_code)
			s->exit_code = all[i].code;
	if (s->exit_code) {
		if (s->f.rank == 0) {
			bool *sel = calloc(n, sizeof(*sel)), *done = calloc(n, sizeof(*done));
			char ranks[256];
			for (unsigned i = 0; sel && done && i < n; i++) {
				if (!all[i].code || done[i])
					continue;
				memset(sel, 0, n * sizeof(*sel));
				for (unsigned j = i; j < n; j++)
					if (all[j].code && !done[j] && !strcmp(all[j].why, all[i].why))
						sel[j] = done[j] = true;
				rank_list(ranks, sizeof(ranks), sel, n);
				/* the distinct hosts of those ranks */
				char hosts[256];
				size_t o = 0;
				hosts[0] = 0;
				for (unsigned j = 0; j < n && o < sizeof(hosts); j++) {
					bool seen = false;
					for (unsigned k = 0; k < j && !seen; k++)
						seen = sel[k] && !strcmp(all[k].host, all[j].host);
					if (sel[j] && !seen)
						o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "%s%s", o ? ", " : "",
								      all[j].host);
				}
				fprintf(stderr, PROG ": rank%s %s on %s could not start:\n%s%s",
					strpbrk(ranks, ",-") ? "s" : "", ranks, hosts, all[i].why,
					all[i].why[0] && all[i].why[strlen(all[i].why) - 1] == '\n' ? "" : "\n");
			}
			fprintf(stderr, PROG ": nothing was run: every rank of the fleet stops\n");
			free(sel);
			free(done);
		}
		free(all);
		s->gate_ok = false;
		return false;
	}
	/* every rank is ready: leave together */
	MPI_Barrier(MPI_COMM_WORLD);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	s->start_realtime_ns = (int64_t)rt.tv_sec * (int64_t)NS_PER_S + rt.tv_nsec;
	if (s->f.rank == 0) {
		unsigned hosts = 0;
		for (unsigned i = 0; i < n; i++) {
			unsigned k = 0;
			while (k < i && strcmp(all[k].host, all[i].host))
				k++;
			hosts += k == i;
		}
		char w[32], d[32];
		/* ktls-bench watches for "fleet started" to sample the server's CPU */
		fprintf(stderr, PROG ": fleet started: %u rank%s on %u host%s, warm-up %s, then %s measured\n", n,
			n == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s",
			units_fmt_duration(s->total->warmup_ns, w, sizeof(w)),
			units_fmt_duration(s->total->duration_ns, d, sizeof(d)));
	}
	free(all);
	s->gate_ok = true;
	return true;
}

static bool engine_gate(struct fleet *f, struct run *run)
{
	(void)run;
	return gate_pass(f->priv, 0, NULL);
}

/* Samples are (start, latency) pairs, two uint64_t each. */
static void raw_sample(struct fleet *f, unsigned worker, uint64_t start, uint64_t lat)
{
	struct fleet_state *s = f->priv;
	struct samples *v = &s->raw[worker];

	if (v->oom)
		return;
	if (v->n + 2 > v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 8192;
		uint64_t *p = realloc(v->v, nc * sizeof(*p));
		if (!p) {
			v->oom = true;
			return;
		}
		v->v = p;
		v->cap = nc;
	}
	v->v[v->n++] = start;
	v->v[v->n++] = lat;
}

/* --fleet-wait and --raw-samples are this program's: take them out of argv
 * (into out, argc returned) before ktls-client's parser sees it. -1 after
 * printing a usage error. */
static int take_fleet_options(struct fleet_state *s, int argc, char **argv, char **out)
{
	int n = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		bool wait = !strncmp(a, "--fleet-wait", 12) && (a[12] == 0 || a[12] == '=');
		bool raw = !strncmp(a, "--raw-samples", 13) && (a[13] == 0 || a[13] == '=');
		if (!wait && !raw) {
			out[n++] = argv[i];
			continue;
		}
		if (strchr(a, '='))
			v = strchr(a, '=') + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		if (!v || !*v) {
			fprintf(stderr, PROG ": %s needs a value\n", wait ? "--fleet-wait" : "--raw-samples");
			return -1;
		}
		if (wait) {
			int rc = units_parse_duration(v, &s->wait_ns);
			if (rc || s->wait_ns < NS_PER_MS) {
				fprintf(stderr, PROG ": --fleet-wait '%s': %s; expected a duration such as 30s\n", v,
					rc == -ERANGE || !rc ? "out of range" : "not a valid value");
				return -1;
			}
		} else {
			s->raw_path = v;
		}
	}
	out[n] = NULL;
	return n;
}

static void usage_fleet(FILE *f)
{
	fprintf(f,
"\n"
"ktls-client-mpi: the same client as one rank of a fleet under mpirun:\n"
"  mpirun --hostfile HOSTS -np N ktls-client-mpi handshake|get [OPTIONS]\n"
"Every count is the fleet's total, split across the ranks: --connections,\n"
"--max-inflight, --handshakes/--requests; --rate is the total too, each rank's\n"
"schedule interleaved with the others'. All ranks start their warm-up together.\n"
"Rank 0 merges (counts summed, latency histograms merged, timelines summed,\n"
"CPU kept per rank in \"ranks\"), prints the summary and writes --json on its\n"
"own host ('-': on mpirun's standard output). --cpus and trace do not apply:\n"
"mpirun places the ranks (--map-by, --bind-to).\n"
"Fleet:\n"
"      --fleet-wait D       how long a rank waits for the others (at the start,\n"
"                           and at the end after the run's planned end) before\n"
"                           it stops every rank (default " DEF_FLEET_WAIT ")\n"
"      --raw-samples FILE   rank 0 writes every latency sample of every rank to\n"
"                           FILE, \"RANK START LATENCY\" a line in ns, START from\n"
"                           the rank's start (the scheduled start in open loop):\n"
"                           to check the merged percentiles and the schedules\n"
"                           against (costs 16 bytes of memory per sample)\n");
}

/* Run cli_parse() with stderr captured into why (every rank parses: rank 0
 * prints the reasons once, after the gate); stdout off on ranks > 0. */
static int parse_captured(struct client_cfg *cfg, int argc, char **argv, unsigned rank, char *why,
			  size_t whylen)
{
	FILE *tmp = tmpfile();
	int save_err = -1, save_out = -1, rc;

	why[0] = 0;
	fflush(stdout);
	fflush(stderr);
	if (tmp) {
		save_err = dup(2);
		dup2(fileno(tmp), 2);
	}
	if (rank > 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		save_out = dup(1);
		if (null >= 0) {
			dup2(null, 1);
			close(null);
		}
	}
	rc = cli_parse(cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	if (save_out >= 0) {
		dup2(save_out, 1);
		close(save_out);
	}
	if (tmp) {
		dup2(save_err, 2);
		close(save_err);
		rewind(tmp);
		size_t n = fread(why, 1, whylen - 1, tmp);
		why[n] = 0;
		fclose(tmp);
	}
	return rc;
}

/* Rank 0: write every rank's samples, "RANK START LATENCY" a line. */
static int raw_gather(struct fleet_state *s)
{
	unsigned n = s->f.size;
	uint64_t mine = 0, *counts = NULL;
	uint64_t *buf = NULL, *all = NULL;
	int *rc_counts = NULL, *displs = NULL, bad = 0;
	MPI_Request req;

	for (unsigned i = 0; i < s->nraw; i++) {
		mine += s->raw[i].n;
		bad |= s->raw[i].oom;
	}
	if (bad || mine > INT_MAX)
		mine = UINT64_MAX; /* cannot be sent: every rank learns it below */
	if (s->f.rank == 0)
		counts = calloc(n, sizeof(*counts));
	MPI_Igather(&mine, 1, MPI_UINT64_T, counts, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
	wait_req(s, &req, "gathering --raw-samples counts", 0);
	/* rank 0 decides whether the samples fit in one gather, and says so */
	uint64_t total = 0;
	int go = 1;
	if (s->f.rank == 0)
		for (unsigned i = 0; i < n; i++) {
			if (counts[i] == UINT64_MAX || total + counts[i] > INT_MAX)
				go = 0;
			else
				total += counts[i];
		}
	MPI_Ibcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
	wait_req(s, &req, "agreeing on --raw-samples", 0);
	if (!go) {
		if (s->f.rank == 0)
			fprintf(stderr, PROG ": --raw-samples: too many samples (or out of memory) to gather: none "
				"written\n");
		free(counts);
		return s->f.rank == 0 ? 1 : 0;
	}
	buf = malloc((mine ? mine : 1) * sizeof(*buf));
	if (s->f.rank == 0) {
		all = malloc((total ? total : 1) * sizeof(*all));
		rc_counts = calloc(n, sizeof(int));
		displs = calloc(n, sizeof(int));
	}
	if (!buf || (s->f.rank == 0 && (!all || !rc_counts || !displs))) {
		fprintf(stderr, PROG ": rank %u: out of memory for --raw-samples\n", s->f.rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	size_t o = 0;
	for (unsigned i = 0; i < s->nraw; i++) {
		memcpy(buf + o, s->raw[i].v, s->raw[i].n * sizeof(*buf));
		o += s->raw[i].n;
	}
	if (s->f.rank == 0)
		for (unsigned i = 0, d = 0; i < n; i++) {
			rc_counts[i] = (int)counts[i];
			displs[i] = (int)d;
			d += (unsigned)counts[i];
		}
	MPI_Igatherv(buf, (int)mine, MPI_UINT64_T, all, rc_counts, displs, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
	wait_req(s, &req, "gathering --raw-samples", 0);
	int rc = 0;
	if (s->f.rank == 0) {
		FILE *f = fopen(s->raw_path, "w");
		if (!f) {
			fprintf(stderr, PROG ": --raw-samples %s: cannot write: %s\n", s->raw_path, strerror(errno));
			rc = 1;
		} else {
			for (unsigned i = 0; i < n; i++)
				for (uint64_t k = 0; k + 1 < counts[i]; k += 2)
					fprintf(f, "%u %llu %llu\n", i,
						(unsigned long long)all[(uint64_t)displs[i] + k],
						(unsigned long long)all[(uint64_t)displs[i] + k + 1]);
			if (fclose(f)) {
				fprintf(stderr, PROG ": --raw-samples %s: %s\n", s->raw_path, strerror(errno));
				rc = 1;
			}
		}
	}
	free(buf);
	free(all);
	free(counts);
	free(rc_counts);
	free(displs);
	return rc;
}

/* The end: every rank sends rank 0 its figures and timeline; rank 0 merges,
 * reports and judges. The exit status of this rank. */
static int finish(struct fleet_state *s, struct run *run, const struct client_cfg *cfg_rank,
		  struct outfile *json, int rc)
{
	unsigned n = s->f.size, nslots = run->nslots;
	size_t sz = sizeof(struct fleet_rank) + (size_t)nslots * sizeof(struct tl_slot);
	unsigned char *mine = malloc(sz), *all = NULL;
	MPI_Request req;

	if (sz > INT_MAX || !mine || (s->f.rank == 0 && !(all = malloc(sz * n)))) {
		fprintf(stderr, PROG ": rank %u: out of memory for the results\n", s->f.rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	fleet_rank_fill((struct fleet_rank *)mine, run, s->f.rank, s->start_realtime_ns);
	for (unsigned k = 0; k < nslots; k++)
		engine_timeline(run, k, (struct tl_slot *)(mine + sizeof(struct fleet_rank)) + k);
	MPI_Igather(mine, (int)sz, MPI_BYTE, all, (int)sz, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
	/* a rank that ended early (its share of --handshakes done) waits for
	 * the others until the planned end, then --fleet-wait more */
	wait_req(s, &req, "gathering the results", run->t_end);
	free(mine);
	if (s->raw_path && raw_gather(s))
		rc = 1;
	if (s->f.rank != 0)
		return rc;

	struct fleet_rank *ranks = malloc(n * sizeof(*ranks));
	struct tl_slot *tl = malloc((size_t)n * nslots * sizeof(*tl) + 1);
	struct tl_slot *tl_sum = malloc((size_t)nslots * sizeof(*tl_sum) + 1);
	struct run *merged = malloc(sizeof(*merged));
	struct client_cfg cfg = *s->total;
	if (!ranks || !tl || !tl_sum || !merged) {
		fprintf(stderr, PROG ": out of memory merging %u ranks\n", n);
		free(ranks); free(tl); free(tl_sum); free(merged); free(all);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(&ranks[i], all + i * sz, sizeof(*ranks));
		memcpy(tl + (size_t)i * nslots, all + i * sz + sizeof(struct fleet_rank), nslots * sizeof(*tl));
	}
	free(all);
	/* the merged run counts every thread of every rank */
	cfg.threads = cfg_rank->threads * n;
	fleet_merge(merged, &cfg, ranks, n, tl, nslots, tl_sum);
	bool json_stdout = cfg.json_path && !strcmp(cfg.json_path, "-");
	FILE *out = json_stdout ? stderr : stdout;
	/* Each stream gets whole lines in one write, the JSON last: Open MPI 5's
	 * output forwarding (OpenPMIx) prepends a stream's unfinished line to
	 * the next output of the same process, whichever stream that is, and a
	 * half line of the summary would land in the JSON. */
	char *htxt = NULL, *vtxt = NULL;
	size_t hlen = 0, vlen = 0;
	FILE *hm = open_memstream(&htxt, &hlen), *vm = open_memstream(&vtxt, &vlen);
	report_human(merged, hm ? hm : out);
	fleet_report_human(hm ? hm : out, merged, ranks, n);
	rc = client_verdict(merged, rc, vm ? vm : stderr);
	if (hm && !fclose(hm)) {
		fwrite(htxt, 1, hlen, out);
		fflush(out);
	}
	if (vm && !fclose(vm)) {
		fwrite(vtxt, 1, vlen, stderr);
		fflush(stderr);
	}
	free(htxt);
	free(vtxt);
	if (cfg.json_path) {
		cJSON *doc = report_json_doc(merged);
		int jr = fleet_report_json(doc, ranks, n);
		if (!jr)
			jr = report_json_write(doc, json); /* stdout unbuffered: one write */
		cJSON_Delete(doc);
		if (jr) {
			fprintf(stderr, PROG ": --json %s: cannot write: %s\n", cfg.json_path, strerror(-jr));
			rc = 1;
		}
	}
	free(ranks);
	free(tl);
	free(tl_sum);
	free(merged);
	return rc;
}

int main(int argc, char **argv)
{
	static struct fleet_state s;
	struct client_cfg total, cfg;
	struct run run;
	struct outfile json = { .fd = -1 };
	char why[900] = "";
	int provided = 0, rc, r, n;

	if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		fprintf(stderr, PROG ": MPI_Init failed: start it with mpirun (see --help)\n");
		return 1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &r);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	setvbuf(stdout, NULL, _IONBF, 0); /* whole writes (see finish()) */
	s.f.rank = (unsigned)r;
	s.f.size = (unsigned)n;
	s.f.priv = &s;
	s.f.gate = engine_gate;
	units_parse_duration(DEF_FLEET_WAIT, &s.wait_ns);
	if (gethostname(s.host, sizeof(s.host) - 1))
		snprintf(s.host, sizeof(s.host), "?");

	/* the same argv on every rank: help, version and usage errors are
	 * the same everywhere, printed by rank 0 alone */
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		bool ver = argc >= 2 && strstr(argv[1], "version");
		if (r == 0) {
			if (ver) {
				build_print_version(stdout, PROG);
			} else {
				cli_usage(argc < 2 ? stderr : stdout);
				usage_fleet(argc < 2 ? stderr : stdout);
			}
		}
		MPI_Finalize();
		return argc < 2 ? 2 : 0;
	}
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs = args ? take_fleet_options(&s, argc - 1, argv + 1, args) : -1;
	if (nargs < 0) {
		/* identical on every rank: no rank runs */
		free(args);
		MPI_Finalize();
		return 2;
	}
	if (nargs == 0) {
		if (r == 0)
			cli_usage(stderr);
		free(args);
		MPI_Finalize();
		return 2;
	}
	rc = parse_captured(&total, nargs, args, s.f.rank, why, sizeof(why));
	if (rc == 1) { /* --help or --version after the command */
		bool ver = false;
		for (int i = 0; i < nargs; i++)
			ver = ver || !strcmp(args[i], "--version");
		if (r == 0 && !ver)
			usage_fleet(stdout);
		cli_free(&total);
		free(args);
		MPI_Finalize();
		return 0;
	}
	if (!rc && r == 0 && why[0])
		fputs(why, stderr); /* notes of a parse that succeeded */
	s.total = &total;
	if (!rc && fleet_cfg_rank(&total, s.f.rank, s.f.size, &cfg, why, sizeof(why)))
		rc = 2;
	if (!rc) {
		cfg.fleet = &s.f;
		cfg.quiet = true; /* no progress line from each rank */
		cfg.progress = false;
	}
	if (!rc && r == 0 && cfg.json_path && (rc = outfile_open(&json, cfg.json_path))) {
		snprintf(why, sizeof(why), "--json %s: cannot write on %s: %s (checked before the run)",
			 cfg.json_path, s.host, strerror(-rc));
		rc = 2;
	}
	if (!rc && s.raw_path) {
		s.nraw = cfg.threads;
		s.raw = calloc(s.nraw, sizeof(*s.raw));
		if (!s.raw) {
			snprintf(why, sizeof(why), "out of memory");
			rc = 1;
		}
		s.f.sample = raw_sample;
	}
	if (rc) {
		gate_pass(&s, rc, why);
		free(args);
		free(s.raw);
		outfile_discard(&json);
		cli_free(&total);
		MPI_Finalize();
		return s.exit_code;
	}
	/* before OpenSSL allocates anything (MPI_Init and the parser use none of it) */
	const struct osslshim_state *shim = osslshim_install(OSSLSHIM_CLIENT, cfg.stock_openssl);
	if (!cfg.stock_openssl && strcmp(shim->paths, "shims") && r == 0)
		fprintf(stderr, PROG ": note: OpenSSL paths %s: %s\n", shim->paths, shim->why_stock);
	cfg.propq = total.propq = shim->propq;

	rc = engine_run(&run, &cfg, NULL);
	if (!s.gate_called) /* it failed before the gate: say why there */
		gate_pass(&s, 1, run.fatal[0] ? run.fatal : "the run could not start");
	if (!s.gate_ok) {
		rc = s.exit_code;
	} else if (run.fatal[0]) {
		/* a rank that failed during the run stops all of them */
		fprintf(stderr, PROG ": rank %u on %s: %s: stopping every rank\n", s.f.rank, s.host, run.fatal);
		fflush(stderr);
		outfile_discard(&json); /* rank 0: no half-written --json left behind */
		MPI_Abort(MPI_COMM_WORLD, 1);
		rc = 1;
	} else {
		rc = finish(&s, &run, &cfg, &json, rc);
	}
	outfile_discard(&json);
	engine_free(&run);
	for (unsigned i = 0; i < s.nraw; i++)
		free(s.raw[i].v);
	free(s.raw);
	free(args);
	cli_free(&total);
	MPI_Finalize();
	osslshim_cleanup(); /* last: OpenSSL's blocks go back to the allocator */
	return rc;
}

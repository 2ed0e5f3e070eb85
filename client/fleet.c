/* client/fleet.c: see fleet.h. */
#include "client/fleet.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "common/units.h"
#include "common/version.h"
#include "osslshim/osslshim.h"

uint64_t fleet_share(uint64_t total, unsigned rank, unsigned n)
{
	if (!n)
		return 0;
	return total / n + (rank < total % n);
}

static bool open_loop(const struct client_cfg *c)
{
	return c->mode == MODE_HANDSHAKE && c->rate;
}

int fleet_cfg_rank(const struct client_cfg *t, unsigned rank, unsigned n, struct client_cfg *o,
		   char *err, size_t errlen)
{
	uint64_t threads = (uint64_t)t->threads * n;

	*o = *t;
	if (t->mode == MODE_TRACE) {
		snprintf(err, errlen, "trace follows one connection: run it with ktls-client trace, not in a fleet");
		return -1;
	}
	if (t->hdr_log_path) {
		snprintf(err, errlen, "--hdr-log writes one process's histogram log: in a fleet, rank 0's "
			 "JSON has the merged percentiles (and --raw-samples every sample)");
		return -1;
	}
	if (t->have_cpus) {
		snprintf(err, errlen, "--cpus pins the threads of one process; in a fleet mpirun places the "
			 "ranks (mpirun --map-by and --bind-to, e.g. --bind-to core for one rank per core)");
		return -1;
	}
	if (t->rate && t->rate < threads) {
		snprintf(err, errlen, "--rate %" PRIu64 " across %u rank%s x %u thread%s is below one "
			 "start per second per thread: raise --rate, or lower --threads or mpirun -np",
			 t->rate, n, n == 1 ? "" : "s", t->threads, t->threads == 1 ? "" : "s");
		return -1;
	}
	if (open_loop(t)) {
		if (t->max_inflight < n) {
			snprintf(err, errlen, "--max-inflight %" PRIu64 " across %u ranks leaves a rank without "
				 "a connection: use at least %u", t->max_inflight, n, n);
			return -1;
		}
		o->max_inflight = fleet_share(t->max_inflight, rank, n);
	} else {
		if (t->connections < threads) {
			snprintf(err, errlen, "--connections %" PRIu64 " across %u rank%s x %u thread%s: each "
				 "thread needs a connection; use at least %" PRIu64 " (--connections is the "
				 "fleet's total), or fewer ranks (mpirun -np)", t->connections, n,
				 n == 1 ? "" : "s", t->threads, t->threads == 1 ? "" : "s", threads);
			return -1;
		}
		o->connections = fleet_share(t->connections, rank, n);
	}
	if (t->count) {
		if (t->count < n) {
			snprintf(err, errlen, "--%s %" PRIu64 " across %u ranks leaves a rank nothing to do: use at "
				 "least %u (the count is the fleet's total)",
				 t->mode == MODE_GET ? "requests" : "handshakes", t->count, n, n);
			return -1;
		}
		o->count = fleet_share(t->count, rank, n);
	}
	return 0;
}

void fleet_rank_fill(struct fleet_rank *r, const struct run *run, unsigned rank, int64_t start_realtime_ns)
{
	const struct client_cfg *cfg = run->cfg;
	unsigned long hits = 0, misses = 0;

	memset(r, 0, sizeof(*r));
	r->rank = rank;
	r->threads = cfg->threads;
	r->pid = (int)getpid();
	if (gethostname(r->host, sizeof(r->host) - 1))
		snprintf(r->host, sizeof(r->host), "?");
	snprintf(r->commit, sizeof(r->commit), "%s", build_commit());
	r->connections = open_loop(cfg) ? cfg->max_inflight : cfg->connections;
	r->st = run->total;
	r->wall_s = run->wall_s;
	r->cpu_user_s = run->cpu_user_s;
	r->cpu_sys_s = run->cpu_sys_s;
	r->stopped_ns = run->t_stopped > run->t0 ? run->t_stopped - run->t0 : 0;
	r->start_realtime_ns = start_realtime_ns;
	r->ended_by_count = run->ended_by_count;
	r->neg = run->neg;
	osslshim_eckeys_stats(&hits, &misses);
	r->key_decodes = misses;
	r->key_hits = hits;
	r->table_verifications = osslshim_ecverify_used();
	r->x25519_keygens = osslshim_x25519_keygens();
}

double fleet_rank_busy(const struct fleet_rank *r)
{
	double wall = r->wall_s * (r->threads ? r->threads : 1);
	return wall > 0 ? (r->cpu_user_s + r->cpu_sys_s) / wall : 0;
}

unsigned fleet_bottleneck(const struct fleet_rank *r, unsigned n)
{
	unsigned b = 0;
	for (unsigned i = 1; i < n; i++)
		if (fleet_rank_busy(&r[i]) > fleet_rank_busy(&r[b]))
			b = i;
	return b;
}

void fleet_merge(struct run *o, const struct client_cfg *cfg, const struct fleet_rank *r, unsigned n,
		 const struct tl_slot *tl, unsigned nslots, struct tl_slot *tl_out)
{
	uint64_t stopped = 0;

	memset(o, 0, sizeof(*o));
	o->cfg = cfg;
	stats_init(&o->total);
	o->nslots = nslots;
	/* one clock for the merged run: every rank's t0 is the same moment */
	o->t0 = NS_PER_S;
	o->t_measure = o->t0 + cfg->warmup_ns;
	o->t_end = o->t_measure + cfg->duration_ns;
	o->ended_by_count = n > 0;
	for (unsigned i = 0; i < n; i++) {
		stats_merge(&o->total, &r[i].st);
		if (r[i].wall_s > o->wall_s)
			o->wall_s = r[i].wall_s;
		o->cpu_user_s += r[i].cpu_user_s;
		o->cpu_sys_s += r[i].cpu_sys_s;
		if (r[i].stopped_ns > stopped)
			stopped = r[i].stopped_ns;
		o->ended_by_count = o->ended_by_count && r[i].ended_by_count;
		if (!o->neg.set && r[i].neg.set)
			o->neg = r[i].neg;
	}
	o->t_stopped = o->t0 + stopped;
	memset(tl_out, 0, nslots * sizeof(*tl_out));
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < nslots; k++) {
			const struct tl_slot *s = &tl[(size_t)i * nslots + k];
			struct tl_slot *d = &tl_out[k];
			d->handshakes += s->handshakes;
			d->resumed += s->resumed;
			d->requests += s->requests;
			d->bytes += s->bytes;
			d->errors += s->errors;
			d->lat_sum_ns += s->lat_sum_ns;
			d->lat_n += s->lat_n;
			if (s->lat_max_ns > d->lat_max_ns)
				d->lat_max_ns = s->lat_max_ns;
		}
	o->tl_merged = tl_out;
}

/* --- hosts ----------------------------------------------------------------------- */
/* The distinct host names in rank order, with their number of ranks. */
static unsigned hosts_of(const struct fleet_rank *r, unsigned n, const char **names, unsigned *count)
{
	unsigned h = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		while (k < h && strcmp(names[k], r[i].host))
			k++;
		if (k == h) {
			names[h] = r[i].host;
			count[h++] = 0;
		}
		count[k]++;
	}
	return h;
}

static double start_spread_us(const struct fleet_rank *r, unsigned n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].start_realtime_ns < lo)
			lo = r[i].start_realtime_ns;
		if (r[i].start_realtime_ns > hi)
			hi = r[i].start_realtime_ns;
	}
	return n ? (double)(hi - lo) / 1e3 : 0;
}

static bool commits_differ(const struct fleet_rank *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		if (strcmp(r[i].commit, r[0].commit))
			return true;
	return false;
}

static double rate(uint64_t v, double s)
{
	return s > 0 ? (double)v / s : 0;
}

/* --- human ----------------------------------------------------------------------- */
void fleet_report_human(FILE *f, const struct run *m, const struct fleet_rank *r, unsigned n)
{
	const struct client_cfg *cfg = m->cfg;
	const char *names[n ? n : 1];
	unsigned count[n ? n : 1], h = hosts_of(r, n, names, count);
	bool get = cfg->mode == MODE_GET;
	char b[32];

	if (!n)
		return;
	fprintf(f, "\n  %-16s %u rank%s on %u host%s (", "fleet", n, n == 1 ? "" : "s", h, h == 1 ? "" : "s");
	for (unsigned i = 0; i < h; i++)
		fprintf(f, "%s%s x%u", i ? ", " : "", names[i], count[i]);
	fprintf(f, "), %u thread%s each; started within %.2f ms of each other (by the hosts' clocks)\n",
		r[0].threads, r[0].threads == 1 ? "" : "s", start_spread_us(r, n) / 1e3);
	fprintf(f, "  %6s  %-20s %12s %10s %12s %8s %9s\n", "rank", "host", get ? "requests" : "handshakes",
		get ? "MB/s" : "/s", "p99 latency", "errors", "CPU busy");
	for (unsigned i = 0; i < n; i++) {
		const struct fleet_rank *x = &r[i];
		double busy = fleet_rank_busy(x);
		fprintf(f, "  %6u  %-20.20s %12" PRIu64 " %10.1f %12s %8" PRIu64 " %8.0f%%%s\n", x->rank, x->host,
			get ? x->st.requests : x->st.handshakes,
			get ? rate(x->st.bytes, x->wall_s) / 1e6 : rate(x->st.handshakes, x->wall_s),
			x->st.lat.count ? units_fmt_duration(hist_percentile(&x->st.lat, 99), b, sizeof(b)) : "-",
			stats_errors(&x->st), busy * 100, busy >= CLIENT_SATURATED ? " SATURATED" : "");
	}
	unsigned bn = fleet_bottleneck(r, n);
	double busy = fleet_rank_busy(&r[bn]);
	if (busy >= CLIENT_SATURATED)
		fprintf(f, "  %-16s rank %u on %s, %.0f%% busy: SATURATED, its share of the load was paced by "
			"its own CPU (add ranks or hosts: mpirun -np, --hostfile)\n", "bottleneck", r[bn].rank,
			r[bn].host, busy * 100);
	else
		fprintf(f, "  %-16s none saturated: the busiest is rank %u on %s at %.0f%% of its thread%s\n",
			"bottleneck", r[bn].rank, r[bn].host, busy * 100, r[bn].threads == 1 ? "" : "s");
	if (commits_differ(r, n))
		fprintf(f, "  %-16s the ranks run different builds (rank 0: %s): the figures mix them\n",
			"warning", r[0].commit);
}

/* --- JSON -------------------------------------------------------------------------- */
static void add_error(const char *name, uint64_t v, void *arg)
{
	cJSON_AddNumberToObject(arg, name, (double)v);
}

static cJSON *rank_json(const struct fleet_rank *x, uint64_t t_first)
{
	cJSON *o = cJSON_CreateObject(), *e;
	double s = x->wall_s, busy = fleet_rank_busy(x);

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "rank", x->rank);
	cJSON_AddStringToObject(o, "host", x->host);
	cJSON_AddNumberToObject(o, "pid", x->pid);
	cJSON_AddStringToObject(o, "commit", x->commit);
	cJSON_AddNumberToObject(o, "threads", x->threads);
	cJSON_AddNumberToObject(o, "connections", (double)x->connections);
	cJSON_AddNumberToObject(o, "duration_s", s);
	cJSON_AddNumberToObject(o, "start_offset_us", (double)(x->start_realtime_ns - (int64_t)t_first) / 1e3);
	cJSON_AddNumberToObject(o, "handshakes", (double)x->st.handshakes);
	cJSON_AddNumberToObject(o, "handshakes_per_s", rate(x->st.handshakes, s));
	cJSON_AddNumberToObject(o, "resumed", (double)x->st.resumed);
	cJSON_AddNumberToObject(o, "requests", (double)x->st.requests);
	cJSON_AddNumberToObject(o, "requests_per_s", rate(x->st.requests, s));
	cJSON_AddNumberToObject(o, "bytes", (double)x->st.bytes);
	cJSON_AddNumberToObject(o, "megabytes_per_s", rate(x->st.bytes, s) / 1e6);
	cJSON_AddNumberToObject(o, "connections_opened", (double)x->st.connections);
	cJSON_AddNumberToObject(o, "unfinished", (double)x->st.unfinished);
	cJSON_AddItemToObject(o, "latency_us", report_lat_json(&x->st.lat));
	cJSON_AddItemToObject(o, "handshake_latency_us", report_lat_json(&x->st.hs_lat));
	e = cJSON_AddObjectToObject(o, "errors");
	stats_each_error(&x->st, add_error, e);
	cJSON_AddNumberToObject(o, "errors_total", (double)stats_errors(&x->st));
	cJSON_AddNumberToObject(o, "cpu_user_s", x->cpu_user_s);
	cJSON_AddNumberToObject(o, "cpu_sys_s", x->cpu_sys_s);
	cJSON_AddNumberToObject(o, "cpu_busy_ratio", busy);
	cJSON_AddBoolToObject(o, "client_saturated", busy >= CLIENT_SATURATED);
	cJSON_AddBoolToObject(o, "ended_by_count", x->ended_by_count);
	return o;
}

static void replace_num(cJSON *o, const char *key, double v)
{
	cJSON *n = o ? cJSON_CreateNumber(v) : NULL;
	if (n && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, n))
		cJSON_AddItemToObject(o, key, n);
}

int fleet_report_json(cJSON *doc, const struct fleet_rank *r, unsigned n)
{
	const char *names[n ? n : 1];
	unsigned count[n ? n : 1], h = hosts_of(r, n, names, count);
	uint64_t kd = 0, kh = 0, tv = 0, xk = 0;
	int64_t first = INT64_MAX;
	bool any_sat = false;
	cJSON *ranks, *fl, *hosts, *x, *sat;

	if (!doc || !n)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		kd += r[i].key_decodes;
		kh += r[i].key_hits;
		tv += r[i].table_verifications;
		xk += r[i].x25519_keygens;
		any_sat = any_sat || fleet_rank_busy(&r[i]) >= CLIENT_SATURATED;
		if (r[i].start_realtime_ns < first)
			first = r[i].start_realtime_ns;
	}
	/* saturated when any rank was: that rank's share was paced by its CPU */
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "client_saturated", cJSON_CreateBool(any_sat));
	x = cJSON_GetObjectItemCaseSensitive(doc, "tls");
	replace_num(x, "server_key_decodes", (double)kd);
	replace_num(x, "server_key_cache_hits", (double)kh);
	replace_num(x, "table_verifications", (double)tv);
	replace_num(x, "x25519_fast_keygens", (double)xk);
	x = cJSON_GetObjectItemCaseSensitive(doc, "config");
	replace_num(x, "threads", r[0].threads);
	replace_num(x, "ranks", n);

	ranks = cJSON_AddArrayToObject(doc, "ranks");
	fl = cJSON_AddObjectToObject(doc, "fleet");
	if (!ranks || !fl)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		cJSON *e = rank_json(&r[i], (uint64_t)first);
		if (!e)
			return -ENOMEM;
		cJSON_AddItemToArray(ranks, e);
	}
	unsigned bn = fleet_bottleneck(r, n);
	cJSON_AddNumberToObject(fl, "ranks", n);
	cJSON_AddNumberToObject(fl, "threads_per_rank", r[0].threads);
	hosts = cJSON_AddArrayToObject(fl, "hosts");
	for (unsigned i = 0; i < h; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "host", names[i]);
		cJSON_AddNumberToObject(e, "ranks", count[i]);
		cJSON_AddItemToArray(hosts, e);
	}
	cJSON_AddNumberToObject(fl, "bottleneck_rank", r[bn].rank);
	cJSON_AddStringToObject(fl, "bottleneck_host", r[bn].host);
	cJSON_AddNumberToObject(fl, "bottleneck_cpu_busy_ratio", fleet_rank_busy(&r[bn]));
	sat = cJSON_AddArrayToObject(fl, "saturated_ranks");
	for (unsigned i = 0; i < n; i++)
		if (fleet_rank_busy(&r[i]) >= CLIENT_SATURATED)
			cJSON_AddItemToArray(sat, cJSON_CreateNumber(r[i].rank));
	/* how far apart the ranks started by their hosts' clocks (on several
	 * hosts this includes the offset between the clocks) */
	cJSON_AddNumberToObject(fl, "start_spread_us", start_spread_us(r, n));
	cJSON_AddBoolToObject(fl, "same_build", !commits_differ(r, n));
	cJSON_AddStringToObject(fl, "merge", "counts summed, latency histograms merged bucket by bucket, "
			       "timelines summed per second, CPU per rank");
	return 0;
}

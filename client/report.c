/* client/report.c: the progress line, the human summary and the JSON document. */
#include "client/client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/outfile.h"
#include "common/units.h"
#include "common/version.h"
#include "osslshim/osslshim.h"

#define SATURATED CLIENT_SATURATED

static double rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static double cpu_share(const struct run *run)
{
	double wall = run->wall_s * run->cfg->threads;
	return wall > 0 ? (run->cpu_user_s + run->cpu_sys_s) / wall : 0;
}

/* Seconds of the run, up to its end (stragglers counted just after the end
 * fall in the last second). */
static unsigned timeline_len(const struct run *run)
{
	uint64_t end = run->t_stopped < run->t_end ? run->t_stopped : run->t_end;
	if (end < run->t0)
		end = run->t0;
	unsigned n = (unsigned)((end - run->t0 + NS_PER_S - 1) / NS_PER_S);
	return n > run->nslots ? run->nslots : n;
}

void report_progress(const struct run *run, unsigned sec, uint64_t inflight)
{
	struct tl_slot s;
	char lat[32] = "-", mx[32] = "-";
	bool warm = (uint64_t)(sec + 1) * NS_PER_S <= run->cfg->warmup_ns;

	engine_timeline(run, sec, &s);
	if (s.lat_n) {
		units_fmt_duration(s.lat_sum_ns / s.lat_n, lat, sizeof(lat));
		units_fmt_duration(s.lat_max_ns, mx, sizeof(mx));
	}
	fprintf(stderr, "[%4us%s] %7" PRIu64 " hs/s %7" PRIu64 " req/s %9.1f MB/s  latency mean %s "
		"max %s  errors %" PRIu64 "  in flight %" PRIu64 "\n", sec + 1, warm ? " warmup" : "",
		s.handshakes, s.requests, (double)s.bytes / 1e6, lat, mx, s.errors, inflight);
}

static void print_lat(FILE *f, const char *what, const struct hist *h)
{
	static const double ps[] = { 50, 90, 99, 99.9 };
	static const char *const names[] = { "p50", "p90", "p99", "p99.9" };
	char b[32];

	if (!h->count) {
		fprintf(f, "  %-16s none\n", what);
		return;
	}
	fprintf(f, "  %-16s", what);
	for (int i = 0; i < 4; i++)
		fprintf(f, " %s %s ", names[i], units_fmt_duration(hist_percentile(h, ps[i]), b, sizeof(b)));
	fprintf(f, " max %s\n", units_fmt_duration(h->max, b, sizeof(b)));
	fprintf(f, "  %-16s mean %s ", "", units_fmt_duration((uint64_t)(hist_mean(h) + 0.5), b, sizeof(b)));
	fprintf(f, " stddev %s\n", units_fmt_duration((uint64_t)(hist_stddev(h) + 0.5), b, sizeof(b)));
}

/* "GET /bytes/1 (+ 2 more paths in turn), 2 headers, a 512-byte body" */
static void print_requests(FILE *f, const struct client_cfg *cfg)
{
	fprintf(f, "request: %s %s", cfg->method, cfg->request_path);
	if (cfg->npaths > 1)
		fprintf(f, " and %u more path%s, in turn", cfg->npaths - 1, cfg->npaths == 2 ? "" : "s");
	if (cfg->nheaders)
		fprintf(f, ", %u extra header%s", cfg->nheaders, cfg->nheaders == 1 ? "" : "s");
	if (cfg->body_len)
		fprintf(f, ", a %zu-byte body", cfg->body_len);
	if (cfg->verify_pattern)
		fprintf(f, " (bodies checked against the /bytes pattern)");
	fprintf(f, "\n");
}

/* --bind: per address, connections opened and how often its ports ran out. */
static void print_binds(FILE *f, const struct run *run)
{
	const struct client_cfg *cfg = run->cfg;
	uint64_t ex = 0, used = 0;
	unsigned named = 0;
	char a[64];

	if (!run->bind_used || !run->bind_exhausted)
		return;
	for (unsigned i = 0; i < cfg->nbinds; i++) {
		ex += run->bind_exhausted[i];
		used += run->bind_used[i];
	}
	fprintf(f, "  %-16s %u address%s, %" PRIu64 " connections", "source addresses", cfg->nbinds,
		cfg->nbinds == 1 ? "" : "es", used);
	if (!ex) {
		fprintf(f, ", no ephemeral port ran out\n");
		return;
	}
	fprintf(f, "; ephemeral ports ran out %" PRIu64 " time%s (the connection tried the next "
		"address):", ex, ex == 1 ? "" : "s");
	for (unsigned i = 0; i < cfg->nbinds && named < 8; i++)
		if (run->bind_exhausted[i]) {
			fprintf(f, " %s %" PRIu64, bind_addr_text(&cfg->binds[i], a, sizeof a),
				run->bind_exhausted[i]);
			named++;
		}
	fprintf(f, "%s\n", named == 8 ? " ..." : "");
}

/* connect_addrnotavail: say what ran out and how to get more. */
static void print_port_advice(FILE *f, const struct run *run)
{
	const struct client_cfg *cfg = run->cfg;
	unsigned lo = 0, hi = 0;
	FILE *r;

	if (!run->total.err[ERR_ADDRNOTAVAIL])
		return;
	r = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (r) {
		if (fscanf(r, "%u %u", &lo, &hi) != 2)
			lo = hi = 0;
		fclose(r);
	}
	fprintf(f, "  %-16s %" PRIu64 " connection%s found no free ephemeral port on %s", "ports exhausted",
		run->total.err[ERR_ADDRNOTAVAIL], run->total.err[ERR_ADDRNOTAVAIL] == 1 ? "" : "s",
		cfg->nbinds ? "any --bind address" : "the default source address");
	if (hi > lo)
		fprintf(f, " (ip_local_port_range %u-%u: %u ports per source address and server, "
			"TIME_WAIT included)", lo, hi, hi - lo + 1);
	fprintf(f, ": add source addresses (--bind 127.0.0.2-127.0.0.9) or start fewer "
		"connections per second\n");
}

static void print_error(const char *name, uint64_t n, void *arg)
{
	fprintf(arg, " %s %" PRIu64, name, n);
}

/* p50 of each phase, and the round trips: "phases p50  connect 41us, ..." */
static void print_phases(FILE *f, const struct client_stats *t)
{
	char b[32];
	const char *sep = "";

	if (!t->ph[PH_CONNECT].count)
		return;
	fprintf(f, "  %-16s ", "phases p50");
	for (int p = 0; p < PH__COUNT; p++) {
		if (!t->ph[p].count)
			continue;
		fprintf(f, "%s%s %s", sep, phase_name(p),
			units_fmt_duration(hist_percentile(&t->ph[p], 50), b, sizeof(b)));
		sep = ", ";
	}
	fprintf(f, "\n  %-16s", "round trips");
	for (int i = 0; i <= RT_MAX; i++)
		if (t->round_trips[i])
			fprintf(f, " %s%d: %" PRIu64 " connections", i == RT_MAX ? ">=" : "", i,
				t->round_trips[i]);
	if (t->hello_retries)
		fprintf(f, " (%" PRIu64 " HelloRetryRequests)", t->hello_retries);
	fprintf(f, "\n");
}

void report_human(const struct run *run, FILE *f)
{
	const struct client_cfg *cfg = run->cfg;
	const struct client_stats *t = &run->total;
	const struct negotiated *n = &run->neg;
	double s = run->wall_s, share = cpu_share(run);
	char b1[32], b2[32];

	fprintf(f, "ktls-client %s: %s:%u, ", mode_name(cfg->mode), cfg->host, cfg->port);
	if (cfg->mode == MODE_HANDSHAKE && cfg->rate)
		fprintf(f, "open loop at %" PRIu64 " handshakes/s (at most %" PRIu64 " in flight)",
			cfg->rate, cfg->max_inflight);
	else if (cfg->rate)
		fprintf(f, "open loop at %" PRIu64 " requests/s on %" PRIu64 " connection%s", cfg->rate,
			cfg->connections, cfg->connections == 1 ? "" : "s");
	else
		fprintf(f, "closed loop, %" PRIu64 " connection%s", cfg->connections,
			cfg->connections == 1 ? "" : "s");
	fprintf(f, ", %u thread%s, measured %.2f s", cfg->threads, cfg->threads == 1 ? "" : "s", s);
	if (cfg->warmup_ns)
		fprintf(f, " after %s warmup", units_fmt_duration(cfg->warmup_ns, b1, sizeof(b1)));
	if (run->ended_by_count)
		fprintf(f, " (stopped at --%s %" PRIu64 ")",
			cfg->mode == MODE_GET ? "requests" : "handshakes", cfg->count);
	fprintf(f, "\n");
	if (cfg->request_path)
		print_requests(f, cfg);
	if (n->set)
		fprintf(f, "TLS %s %s, group %s, signature %s, server key %s\n", n->version, n->cipher,
			n->group, n->sigalg, n->cert_key);
	if (cfg->verify_ca)
		fprintf(f, "certificate verification: on (CA file %s)\n", cfg->verify_ca);
	else
		fprintf(f, "certificate verification: off (--verify CAFILE checks the chain and name)\n");
	if (cfg->mode == MODE_GET)
		fprintf(f, "record layer for responses: %s\n",
			cfg->rx == RX_KTLS ? "kernel (kTLS RX)" : "OpenSSL (userspace)");
	fprintf(f, "\n");

	fprintf(f, "  %-16s %" PRIu64 " (%.1f/s)", "handshakes", t->handshakes, rate(t->handshakes, s));
	if (cfg->resume)
		fprintf(f, ", resumed %" PRIu64 " (%.1f%%)", t->resumed,
			t->handshakes ? 100.0 * (double)t->resumed / (double)t->handshakes : 0);
	fprintf(f, "\n");
	if (cfg->request_path)
		fprintf(f, "  %-16s %" PRIu64 " (%.1f/s)\n", "requests", t->requests, rate(t->requests, s));
	if (t->bytes || cfg->mode == MODE_GET)
		fprintf(f, "  %-16s %s (%.2f MB/s, %.1f Mbit/s)\n", "bytes",
			units_fmt_size(t->bytes, b1, sizeof(b1)), rate(t->bytes, s) / 1e6,
			rate(t->bytes, s) * 8 / 1e6);
	if (cfg->mode == MODE_GET) {
		print_lat(f, "latency", &t->lat);
		fprintf(f, "  %-16s per request, %s to last byte received\n", "",
			cfg->rate ? "its scheduled start" : "first byte sent");
		print_lat(f, "handshake", &t->hs_lat);
	} else {
		print_lat(f, "latency", &t->lat);
		fprintf(f, "  %-16s per connection, from %s to the %s\n", "",
			cfg->rate ? "its scheduled start" : "connect()",
			cfg->request_path ? "response's last byte" : "handshake's end");
	}
	print_phases(f, t);
	if (cfg->early_data)
		fprintf(f, "  %-16s %" PRIu64 " sent, %" PRIu64 " accepted, %" PRIu64 " rejected, %" PRIu64
			" answered 425; %" PRIu64 " tickets allowed none\n", "early data", t->early_sent,
			t->early_accepted, t->early_rejected, t->early_too_early, t->early_not_allowed);
	if (cfg->rate)
		fprintf(f, "  %-16s %" PRIu64 " started over 1 ms late, worst %s\n", "schedule",
			t->late_starts, units_fmt_duration(t->max_start_lag_ns, b1, sizeof(b1)));
	fprintf(f, "  %-16s %" PRIu64, "errors", stats_errors(t));
	if (stats_errors(t)) {
		fprintf(f, " (");
		stats_each_error(t, print_error, f);
		fprintf(f, " )");
	}
	fprintf(f, "\n");
	print_port_advice(f, run);
	print_binds(f, run);
	if (t->unfinished)
		fprintf(f, "  %-16s %" PRIu64 " still in flight at the end, the oldest for %s (not in "
			"the counts or the percentiles)\n", "unfinished", t->unfinished,
			units_fmt_duration(t->unfinished_max_age_ns, b1, sizeof(b1)));
	fprintf(f, "  %-16s user %.2f s, sys %.2f s: %.0f%% of %u thread%s", "client CPU",
		run->cpu_user_s, run->cpu_sys_s, share * 100, cfg->threads, cfg->threads == 1 ? "" : "s");
	if (share >= SATURATED)
		fprintf(f, ": SATURATED, the client may be the bottleneck (add --threads/--cpus)");
	fprintf(f, "\n");
	if (t->handshakes && cfg->mode == MODE_HANDSHAKE)
		fprintf(f, "  %-16s %.1f us per handshake\n", "client CPU cost",
			(run->cpu_user_s + run->cpu_sys_s) * 1e6 / (double)t->handshakes);
	else if (t->requests)
		fprintf(f, "  %-16s %.1f us per request, %s per MB\n", "client CPU cost",
			(run->cpu_user_s + run->cpu_sys_s) * 1e6 / (double)t->requests,
			t->bytes ? units_fmt_duration((uint64_t)((run->cpu_user_s + run->cpu_sys_s) * 1e15 /
						   (double)t->bytes), b2, sizeof(b2)) : "-");
	if (run->fatal[0])
		fprintf(f, "\nstopped: %s\n", run->fatal);
}

/* --- JSON ---------------------------------------------------------------------- */
static cJSON *lat_json(const struct hist *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "p50", (double)hist_percentile(h, 50) / 1e3);
	cJSON_AddNumberToObject(o, "p90", (double)hist_percentile(h, 90) / 1e3);
	cJSON_AddNumberToObject(o, "p99", (double)hist_percentile(h, 99) / 1e3);
	cJSON_AddNumberToObject(o, "p999", (double)hist_percentile(h, 99.9) / 1e3);
	cJSON_AddNumberToObject(o, "max", (double)h->max / 1e3);
	cJSON_AddNumberToObject(o, "mean", hist_mean(h) / 1e3);
	cJSON_AddNumberToObject(o, "stddev", hist_stddev(h) / 1e3);
	cJSON_AddNumberToObject(o, "count", (double)h->count);
	return o;
}

cJSON *report_lat_json(const struct hist *h)
{
	return lat_json(h);
}

static void add_error(const char *name, uint64_t n, void *arg)
{
	cJSON_AddNumberToObject(arg, name, (double)n);
}

static cJSON *config_json(const struct client_cfg *cfg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "host", cfg->host);
	cJSON_AddNumberToObject(o, "port", cfg->port);
	if (cfg->sni)
		cJSON_AddStringToObject(o, "sni", cfg->sni);
	cJSON_AddNumberToObject(o, "threads", cfg->threads);
	if (cfg->have_cpus) {
		cJSON *a = cJSON_AddArrayToObject(o, "cpus");
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &cfg->cpus))
				cJSON_AddItemToArray(a, cJSON_CreateNumber(i));
	}
	if (cfg->url)
		cJSON_AddStringToObject(o, "url", cfg->url);
	if (cfg->nbinds) {
		cJSON *a = cJSON_AddArrayToObject(o, "bind");
		char t[64];
		for (unsigned i = 0; i < cfg->nbinds; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(bind_addr_text(&cfg->binds[i], t, sizeof t)));
	}
	cJSON_AddStringToObject(o, "loop", cfg->rate ? "open" : "closed");
	if (cfg->rate)
		cJSON_AddNumberToObject(o, "rate_per_s", (double)cfg->rate);
	if (cfg->mode == MODE_HANDSHAKE && cfg->rate)
		cJSON_AddNumberToObject(o, "max_inflight", (double)cfg->max_inflight);
	else
		cJSON_AddNumberToObject(o, "connections", (double)cfg->connections);
	if (cfg->count)
		cJSON_AddNumberToObject(o, cfg->mode == MODE_GET ? "requests" : "handshakes",
					(double)cfg->count);
	cJSON_AddNumberToObject(o, "duration_s", (double)cfg->duration_ns / 1e9);
	cJSON_AddNumberToObject(o, "warmup_s", (double)cfg->warmup_ns / 1e9);
	cJSON_AddNumberToObject(o, "timeout_s", (double)cfg->timeout_ns / 1e9);
	if (cfg->request_path) {
		cJSON_AddStringToObject(o, "path", cfg->request_path);
		cJSON *a = cJSON_AddArrayToObject(o, "paths");
		for (unsigned i = 0; i < cfg->npaths; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(cfg->paths[i]));
		cJSON_AddStringToObject(o, "method", cfg->method);
		a = cJSON_AddArrayToObject(o, "headers");
		for (unsigned i = 0; i < cfg->nheaders; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(cfg->headers[i]));
		cJSON_AddNumberToObject(o, "body_bytes", (double)cfg->body_len);
	} else {
		cJSON_AddNullToObject(o, "path");
	}
	if (cfg->hdr_log_path)
		cJSON_AddStringToObject(o, "hdr_log", cfg->hdr_log_path);
	if (cfg->mode == MODE_GET) {
		cJSON_AddStringToObject(o, "rx", cfg->rx == RX_KTLS ? "ktls" : "user");
		cJSON_AddBoolToObject(o, "pattern_checked", cfg->verify_pattern);
	}
	if (cfg->mode == MODE_HANDSHAKE) {
		cJSON_AddBoolToObject(o, "resume", cfg->resume);
		cJSON_AddBoolToObject(o, "tickets", !cfg->no_tickets);
	}
	cJSON_AddStringToObject(o, "tls_version", cfg->tls.min_version == cfg->tls.max_version ?
				tlsopts_version_name(cfg->tls.min_version) : "any");
#define STR_OR_NULL(k, v) (v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k))
	STR_OR_NULL("ciphers", cfg->tls.ciphers);
	STR_OR_NULL("ciphersuites", cfg->tls.ciphersuites);
	STR_OR_NULL("groups", cfg->tls.groups);
	STR_OR_NULL("sigalgs", cfg->tls.sigalgs);
	STR_OR_NULL("verify", cfg->verify_ca);
#undef STR_OR_NULL
	return o;
}

static cJSON *timeline_json(const struct run *run)
{
	cJSON *a = cJSON_CreateArray();
	unsigned n = timeline_len(run);

	for (unsigned i = 0; i < n; i++) {
		struct tl_slot s;
		cJSON *e = cJSON_CreateObject();
		engine_timeline(run, i, &s);
		cJSON_AddNumberToObject(e, "t_s", i + 1);
		cJSON_AddBoolToObject(e, "warmup", (uint64_t)(i + 1) * NS_PER_S <= run->cfg->warmup_ns);
		cJSON_AddNumberToObject(e, "handshakes", (double)s.handshakes);
		cJSON_AddNumberToObject(e, "resumed", (double)s.resumed);
		cJSON_AddNumberToObject(e, "requests", (double)s.requests);
		cJSON_AddNumberToObject(e, "bytes", (double)s.bytes);
		cJSON_AddNumberToObject(e, "errors", (double)s.errors);
		cJSON_AddNumberToObject(e, "latency_mean_us",
					s.lat_n ? (double)s.lat_sum_ns / (double)s.lat_n / 1e3 : 0);
		cJSON_AddNumberToObject(e, "latency_max_us", (double)s.lat_max_ns / 1e3);
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

cJSON *report_json_doc(const struct run *run)
{
	const struct client_cfg *cfg = run->cfg;
	const struct client_stats *t = &run->total;
	double s = run->wall_s, cpu = run->cpu_user_s + run->cpu_sys_s;
	cJSON *o = cJSON_CreateObject(), *x;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "tool", "ktls-client");
	cJSON_AddStringToObject(o, "version", build_version());
	cJSON_AddStringToObject(o, "commit", build_commit());
	cJSON_AddStringToObject(o, "mode", mode_name(cfg->mode));
	cJSON_AddNumberToObject(o, "duration_s", s);
	cJSON_AddNumberToObject(o, "handshakes", (double)t->handshakes);
	cJSON_AddNumberToObject(o, "handshakes_per_s", rate(t->handshakes, s));
	cJSON_AddNumberToObject(o, "resumed", (double)t->resumed);
	if (cfg->resume)
		cJSON_AddNumberToObject(o, "resume_offered", (double)t->offered);
	cJSON_AddNumberToObject(o, "resumed_ratio",
				t->handshakes ? (double)t->resumed / (double)t->handshakes : 0);
	cJSON_AddNumberToObject(o, "requests", (double)t->requests);
	cJSON_AddNumberToObject(o, "requests_per_s", rate(t->requests, s));
	cJSON_AddNumberToObject(o, "bytes", (double)t->bytes);
	cJSON_AddNumberToObject(o, "bytes_per_s", rate(t->bytes, s));
	cJSON_AddNumberToObject(o, "megabytes_per_s", rate(t->bytes, s) / 1e6); /* MB = 10^6 bytes */
	cJSON_AddItemToObject(o, "latency_us", lat_json(&t->lat));
	cJSON_AddItemToObject(o, "handshake_latency_us", lat_json(&t->hs_lat));
	/* each connection's phases from its connect() (client/phases.c) */
	x = cJSON_AddObjectToObject(o, "phases_us");
	for (int p = 0; p < PH__COUNT; p++)
		cJSON_AddItemToObject(x, phase_name(p), lat_json(&t->ph[p]));
	x = cJSON_AddObjectToObject(o, "round_trips");
	for (int i = 0; i <= RT_MAX; i++) {
		char k[8];
		if (!t->round_trips[i])
			continue;
		snprintf(k, sizeof k, "%d", i);
		cJSON_AddNumberToObject(x, k, (double)t->round_trips[i]);
	}
	cJSON_AddNumberToObject(o, "hello_retry_requests", (double)t->hello_retries);
	if (cfg->early_data) {
		x = cJSON_AddObjectToObject(o, "early_data");
		cJSON_AddNumberToObject(x, "sent", (double)t->early_sent);
		cJSON_AddNumberToObject(x, "accepted", (double)t->early_accepted);
		cJSON_AddNumberToObject(x, "rejected", (double)t->early_rejected);
		cJSON_AddNumberToObject(x, "too_early_425", (double)t->early_too_early);
		cJSON_AddNumberToObject(x, "ticket_allowed_none", (double)t->early_not_allowed);
	}
	x = cJSON_AddObjectToObject(o, "errors");
	stats_each_error(t, add_error, x);
	cJSON_AddNumberToObject(o, "errors_total", (double)stats_errors(t));
	cJSON_AddNumberToObject(o, "connections", (double)t->connections);
	cJSON_AddNumberToObject(o, "unfinished", (double)t->unfinished);
	cJSON_AddNumberToObject(o, "unfinished_max_age_us", (double)t->unfinished_max_age_ns / 1e3);
	if (run->bind_used && run->bind_exhausted) {
		cJSON *a = cJSON_AddArrayToObject(o, "bind");
		char b[64];
		for (unsigned i = 0; i < cfg->nbinds; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "address", bind_addr_text(&cfg->binds[i], b, sizeof b));
			cJSON_AddNumberToObject(e, "connections", (double)run->bind_used[i]);
			cJSON_AddNumberToObject(e, "ports_exhausted", (double)run->bind_exhausted[i]);
			cJSON_AddItemToArray(a, e);
		}
	}
	if (cfg->rate) {
		cJSON_AddNumberToObject(o, "late_starts", (double)t->late_starts);
		cJSON_AddNumberToObject(o, "max_start_lag_us", (double)t->max_start_lag_ns / 1e3);
	}
	cJSON_AddNumberToObject(o, "cpu_user_s", run->cpu_user_s);
	cJSON_AddNumberToObject(o, "cpu_sys_s", run->cpu_sys_s);
	cJSON_AddNumberToObject(o, "cpu_busy_ratio", cpu_share(run));
	cJSON_AddNumberToObject(o, "cpu_us_per_handshake", t->handshakes ? cpu * 1e6 / (double)t->handshakes : 0);
	cJSON_AddNumberToObject(o, "cpu_us_per_request", t->requests ? cpu * 1e6 / (double)t->requests : 0);
	cJSON_AddBoolToObject(o, "client_saturated", cpu_share(run) >= SATURATED);
	cJSON_AddBoolToObject(o, "ended_by_count", run->ended_by_count);
	if (run->fatal[0])
		cJSON_AddStringToObject(o, "fatal", run->fatal);
	else
		cJSON_AddNullToObject(o, "fatal");
	x = cJSON_AddObjectToObject(o, "tls");
	if (run->neg.set) {
		cJSON_AddStringToObject(x, "version", run->neg.version);
		cJSON_AddStringToObject(x, "cipher", run->neg.cipher);
		cJSON_AddStringToObject(x, "group", run->neg.group);
		cJSON_AddStringToObject(x, "sigalg", run->neg.sigalg);
		cJSON_AddStringToObject(x, "server_key", run->neg.cert_key);
	}
	cJSON_AddBoolToObject(x, "verify", cfg->verify_ca != NULL);
	/* which OpenSSL paths the handshakes took (osslshim/; --stock-openssl: stock) */
	{
		const struct osslshim_state *sh = osslshim_get();
		unsigned long hits, misses;
		osslshim_eckeys_stats(&hits, &misses);
		cJSON_AddStringToObject(x, "openssl_paths", sh->paths);
		if (sh->why_stock)
			cJSON_AddStringToObject(x, "openssl_stock_why", sh->why_stock);
		else
			cJSON_AddNullToObject(x, "openssl_stock_why");
		cJSON_AddNumberToObject(x, "server_key_decodes", (double)misses);
		cJSON_AddNumberToObject(x, "server_key_cache_hits", (double)hits);
		cJSON_AddNumberToObject(x, "table_verifications", (double)osslshim_ecverify_used());
		cJSON_AddNumberToObject(x, "x25519_fast_keygens", (double)osslshim_x25519_keygens());
		cJSON_AddBoolToObject(x, "key_schedule_provider", cfg->propq != NULL);
		cJSON_AddStringToObject(x, "openssl_allocator", sh->mem ? "per-thread caches" : "libc");
	}
	cJSON_AddItemToObject(o, "timeline", timeline_json(run));
	cJSON_AddItemToObject(o, "config", config_json(cfg));
	return o;
}

int report_json_write(cJSON *o, struct outfile *out)
{
	char *text = o ? cJSON_Print(o) : NULL;
	int rc;

	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	memcpy(line + n, "\n", 2);
	rc = outfile_write(out, line);
	free(line);
	return rc;
}

int report_json(const struct run *run, struct outfile *out)
{
	cJSON *o = report_json_doc(run);
	int rc = report_json_write(o, out);

	cJSON_Delete(o);
	return rc;
}

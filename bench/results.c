/* bench/results.c: load a run folder back from its JSON files.
 *
 * A run folder holds env.json, ceiling.json and, per scenario and peer, a
 * <stem>.run.json written by the runner (the scenario, where it ran, the
 * server CPU it measured from /proc, perf cycles) naming the client's and the
 * server's own JSON (and hyperfine's). Everything the report, the plot data
 * and compare show is computed here from those files alone.
 */
#include "bench/bench.h"
#include "bench/icount.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static cJSON *load_named(const char *dir, const cJSON *run, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(run, key);
	char path[1024];
	if (!cJSON_IsString(n) || !*n->valuestring || strchr(n->valuestring, '/'))
		return NULL;
	snprintf(path, sizeof path, "%s/%s", dir, n->valuestring);
	return util_read_json(path);
}

static double sum_object(const cJSON *o)
{
	const cJSON *e;
	double s = 0;
	if (cJSON_IsNumber(o))
		return o->valuedouble;
	cJSON_ArrayForEach(e, o)
		if (cJSON_IsNumber(e))
			s += e->valuedouble;
	return s;
}

double row_server_share(const struct row *w)
{
	if (!w->ok || w->server_cpu_s < 0 || w->duration_s <= 0)
		return -1;
	return w->server_cpu_s / w->duration_s;
}

double row_other_share(const struct row *w)
{
	if (!w->ok || w->server_cpu_other_s < 0 || w->server_cpu_window_s <= 0)
		return -1;
	return w->server_cpu_other_s / (w->server_cpu_window_s * (w->server_cpus ? w->server_cpus : 1));
}

void row_derive(struct row *w)
{
	w->us_per_hs = w->ns_per_byte = w->cycles_per_byte = -1;
	if (w->server_cpu_s < 0)
		return;
	if (w->sc.kind == SCEN_HANDSHAKE && w->handshakes > 0)
		w->us_per_hs = w->server_cpu_s * 1e6 / w->handshakes;
	if ((w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE) && w->bytes > 0) {
		w->ns_per_byte = w->server_cpu_s * 1e9 / w->bytes;
		if (w->cycles > 0)
			w->cycles_per_byte = w->cycles / w->bytes;
	}
}

static bool group_is(const char *neg, const char *want)
{
	if (strcasecmp(neg, want) == 0)
		return true;
	if (strcmp(want, "P-256") == 0)
		return !strcasecmp(neg, "prime256v1") || !strcasecmp(neg, "secp256r1");
	if (strcmp(want, "P-384") == 0)
		return !strcasecmp(neg, "secp384r1");
	return false;
}

/* The client reports what was negotiated: flag a row that measured
 * something other than its scenario (a peer that ignored the settings). */
static void row_negotiated(struct row *w, const cJSON *c)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "tls");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "version");
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(t, "cipher");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(t, "group");
	const char *want_v = w->sc.tls == 12 ? "1.2" : "1.3";
	const char *want_c = w->sc.tls == 12 ? scenario_cipher12(&w->sc) : scenario_ciphersuite(&w->sc);
	w->mismatch[0] = 0;
	if (cJSON_IsString(v) && strcmp(v->valuestring, want_v))
		snprintf(w->mismatch, sizeof w->mismatch, "negotiated TLS %s", v->valuestring);
	else if (cJSON_IsString(ci) && strcmp(ci->valuestring, want_c))
		snprintf(w->mismatch, sizeof w->mismatch, "negotiated %s", ci->valuestring);
	else if (cJSON_IsString(g) && !w->sc.resume && !group_is(g->valuestring, w->sc.group))
		snprintf(w->mismatch, sizeof w->mismatch, "negotiated group %s", g->valuestring);
}

/* latency_us / handshake_latency_us: p50, p90, p99, p999, max (-1: absent) */
static void latencies(const cJSON *o, double *v)
{
	static const char *const keys[ROW_LAT_N] = { "p50", "p90", "p99", "p999", "max" };
	for (int i = 0; i < ROW_LAT_N; i++)
		v[i] = util_json_num(o, keys[i], -1);
}

static void commit_of(const cJSON *o, char *buf, size_t len)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "commit");
	snprintf(buf, len, "%s", cJSON_IsString(c) ? c->valuestring : "");
}

static void row_client(struct row *w, const cJSON *c)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c, "latency_us");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "config");
	w->handshakes = util_json_num(c, "handshakes", 0);
	w->resumed = util_json_num(c, "resumed", 0);
	w->requests = util_json_num(c, "requests", 0);
	w->bytes = util_json_num(c, "bytes", 0);
	w->duration_s = util_json_num(c, "duration_s", (double)w->sc.duration_ns / 1e9);
	/* Rates are computed here from the counts and the measured window, in one
	 * unit (MB = 10^6 bytes); what the client stated is kept to be checked.
	 * Before megabytes_per_s, the client wrote throughput_mbps in megabits
	 * per second: read as such, it is converted, never relabelled. */
	w->hs_per_s_json = util_json_num(c, "handshakes_per_s", -1);
	w->mb_per_s_json = util_json_num(c, "megabytes_per_s", -1);
	if (w->mb_per_s_json < 0 && util_json_num(c, "throughput_mbps", -1) >= 0)
		w->mb_per_s_json = util_json_num(c, "throughput_mbps", 0) / 8;
	if (w->duration_s > 0) {
		w->handshakes_per_s = w->handshakes / w->duration_s;
		w->mb_per_s = w->bytes / w->duration_s / 1e6;
	} else {
		w->handshakes_per_s = w->hs_per_s_json > 0 ? w->hs_per_s_json : 0;
		w->mb_per_s = w->mb_per_s_json > 0 ? w->mb_per_s_json : 0;
	}
	latencies(lat, w->lat_us);
	latencies(cJSON_GetObjectItemCaseSensitive(c, "handshake_latency_us"), w->hs_lat_us);
	w->p50_us = w->lat_us[0];
	w->p99_us = w->lat_us[2];
	w->p999_us = w->lat_us[3];
	w->client_cpu_s = util_json_num(c, "cpu_user_s", 0) + util_json_num(c, "cpu_sys_s", 0);
	w->client_threads = (unsigned)util_json_num(cfg, "threads", 1);
	if (!w->client_threads)
		w->client_threads = 1;
	const cJSON *rx = cJSON_GetObjectItemCaseSensitive(cfg, "rx");
	w->client_rx_kernel = cJSON_IsString(rx) && strcmp(rx->valuestring, "ktls") == 0;
	w->client_saturated = util_json_num(c, "client_saturated", 0) != 0;
	w->client_errors = (long)sum_object(cJSON_GetObjectItemCaseSensitive(c, "errors"));
	commit_of(c, w->commit_client, sizeof w->commit_client);
	row_negotiated(w, c);
	fleet_row(w, c);
}

static void row_server(struct row *w, const cJSON *s)
{
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(s, "threads");
	w->server_cpu_json_s = util_json_num(s, "cpu_user_s", 0) + util_json_num(s, "cpu_sys_s", 0);
	w->server_handshakes = util_json_num(s, "handshakes_full", 0) +
			       util_json_num(s, "handshakes_resumed", 0);
	w->server_resumed = util_json_num(s, "handshakes_resumed", 0);
	w->server_requests = util_json_num(s, "requests", -1);
	w->server_bytes_out = util_json_num(s, "bytes_out", -1);
	if (cJSON_IsArray(th) && cJSON_GetArraySize(th) > 0)
		w->server_threads = (unsigned)cJSON_GetArraySize(th);
	w->ktls_offloads = util_json_num(s, "ktls_offloads", 0);
	w->ktls_refusals = sum_object(cJSON_GetObjectItemCaseSensitive(s, "ktls_refusals"));
	commit_of(s, w->commit_server, sizeof w->commit_server);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "openssl_paths");
	snprintf(w->openssl_paths, sizeof w->openssl_paths, "%s", cJSON_IsString(p) ? p->valuestring : "");
}

static void row_hyperfine(struct row *w, const cJSON *h)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(h, "results");
	const cJSON *first = cJSON_IsArray(res) ? cJSON_GetArrayItem(res, 0) : NULL;
	const cJSON *timer = cJSON_GetObjectItemCaseSensitive(h, "timer");
	w->hf_mean_s = util_json_num(first, "mean", -1);
	w->hf_sd_s = util_json_num(first, "stddev", -1);
	snprintf(w->hf_timer, sizeof w->hf_timer, "%s",
		 cJSON_IsString(timer) ? timer->valuestring : "hyperfine");
}

/* "nothing measured; client errors: eof 37, timeout 2" */
static void error_kinds(struct row *w, const cJSON *errors)
{
	const cJSON *e;
	size_t o = (size_t)snprintf(w->error, sizeof w->error, "nothing measured (%s); client errors:",
				    w->sc.kind == SCEN_HANDSHAKE ? "no handshake completed" : "no byte arrived");
	cJSON_ArrayForEach(e, errors) {
		if (o >= sizeof w->error || !cJSON_IsNumber(e) || e->valuedouble <= 0)
			continue;
		o += (size_t)snprintf(w->error + o, sizeof w->error - o, " %s %.0f", e->string, e->valuedouble);
	}
	if (o < sizeof w->error && w->error[o - 1] == ':')
		snprintf(w->error + o, sizeof w->error - o, " none");
}

static int row_load(struct row *w, const char *dir, const char *file, char *err, size_t errlen)
{
	char path[1024];
	cJSON *run, *c, *s, *h;
	const cJSON *e;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	run = util_read_json(path);
	if (!run) {
		snprintf(err, errlen, "%s: %s", path, errno == EINVAL ? "not valid JSON" : strerror(errno));
		return -EINVAL;
	}
	memset(w, 0, sizeof *w);
	if (scenario_from_json(cJSON_GetObjectItemCaseSensitive(run, "scenario"), &w->sc)) {
		snprintf(err, errlen, "%s: no valid \"scenario\" (its \"line\" must parse as a suite line)", path);
		cJSON_Delete(run);
		return -EINVAL;
	}
	e = cJSON_GetObjectItemCaseSensitive(run, "peer");
	w->nginx = cJSON_IsString(e) && strcmp(e->valuestring, "nginx") == 0;
	w->emulated = util_json_num(run, "emulated", 0) != 0;
	w->ok = util_json_num(run, "ok", 0) != 0;
	w->seq = (int)util_json_num(run, "seq", 0);
	e = cJSON_GetObjectItemCaseSensitive(run, "error");
	if (cJSON_IsString(e))
		snprintf(w->error, sizeof w->error, "%s", e->valuestring);
	w->server_cpu_s = util_json_num(run, "server_cpu_s", -1);
	w->server_cpu_other_s = util_json_num(run, "server_cpu_other_s", -1);
	w->server_cpu_window_s = util_json_num(run, "server_cpu_window_s", -1);
	w->cycles = util_json_num(run, "server_cycles", -1);
	icount_row(w, run);
	w->server_cpu_json_s = w->server_handshakes = -1;
	w->server_requests = w->server_bytes_out = -1;
	w->server_threads = 1; /* until the server's JSON says (nginx: one worker) */
	w->client_threads = 1;
	/* the CPUs the server ran on (runs before threads=: one) */
	w->server_cpus = (unsigned)util_json_num(run, "server_cpus", 1);
	if (!w->server_cpus)
		w->server_cpus = 1;
	w->hf_mean_s = w->hf_sd_s = -1;
	for (int i = 0; i < ROW_LAT_N; i++)
		w->lat_us[i] = w->hs_lat_us[i] = -1;

	c = load_named(dir, run, "client_json");
	s = load_named(dir, run, "server_json");
	h = load_named(dir, run, "hyperfine_json");
	if (c)
		row_client(w, c);
	if (s)
		row_server(w, s);
	if (h)
		row_hyperfine(w, h);
	if (w->ok && !c && w->sc.kind != SCEN_HYPERFINE) {
		w->ok = false;
		snprintf(w->error, sizeof w->error, "client JSON missing");
	}
	/* a run that exited 0 but moved nothing measured nothing */
	if (w->ok && c && ((w->sc.kind == SCEN_HANDSHAKE && w->handshakes <= 0) ||
			   ((w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE) && w->bytes <= 0))) {
		w->ok = false;
		error_kinds(w, cJSON_GetObjectItemCaseSensitive(c, "errors"));
	}
	if (w->ok && !h && w->sc.kind == SCEN_HYPERFINE) {
		w->ok = false;
		snprintf(w->error, sizeof w->error, "hyperfine JSON missing");
	}
	/* Runs before server_cpu_window_s: the samples were taken from the end
	 * of the client's warmup to just after it exited, which wall_s (from
	 * its start) minus the warmup measures to within the client's start. */
	if (w->server_cpu_window_s <= 0) {
		double wall = util_json_num(run, "wall_s", -1), warm = (double)w->sc.warmup_ns / 1e9;
		w->server_cpu_window_s = wall > warm ? wall - warm : w->duration_s > 0 ? w->duration_s : -1;
	}
	row_derive(w);
	cJSON_Delete(c);
	cJSON_Delete(s);
	cJSON_Delete(h);
	cJSON_Delete(run);
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->sc.kind != y->sc.kind)
		return (int)x->sc.kind - (int)y->sc.kind;
	if (x->seq != y->seq)
		return x->seq - y->seq;
	if (x->nginx != y->nginx)
		return x->nginx - y->nginx;
	return strcmp(x->sc.id, y->sc.id);
}

static int ends_with(const char *s, const char *sfx)
{
	size_t a = strlen(s), b = strlen(sfx);
	return a >= b && strcmp(s + a - b, sfx) == 0;
}

int run_load(struct run *r, const char *dir, char *err, size_t errlen)
{
	char path[1024];
	DIR *d;
	struct dirent *de;
	cJSON *ceil;
	int rc = 0;

	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "cannot open run folder %s: %s", dir, strerror(errno));
		return rc;
	}
	snprintf(path, sizeof path, "%s/env.json", dir);
	r->env = util_read_json(path);
	snprintf(path, sizeof path, "%s/ceiling.json", dir);
	ceil = util_read_json(path);
	if (ceil && ceiling_from_json(ceil, &r->ceil) == 0)
		r->have_ceiling = true;
	cJSON_Delete(ceil);

	size_t cap = 0;
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".run.json"))
			continue;
		if (r->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct row *p = realloc(r->rows, nc * sizeof *p);
			if (!p) {
				rc = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				break;
			}
			r->rows = p;
			cap = nc;
		}
		rc = row_load(&r->rows[r->n], dir, de->d_name, err, errlen);
		if (rc)
			break;
		r->n++;
	}
	closedir(d);
	if (rc) {
		run_free(r);
		return rc;
	}
	if (r->n == 0 && !r->env) {
		snprintf(err, errlen, "%s holds no env.json and no *.run.json: not a ktls-bench run folder", dir);
		run_free(r);
		return -ENOENT;
	}
	if (r->n)
		qsort(r->rows, r->n, sizeof *r->rows, row_cmp);
	run_check(r);
	return 0;
}

void run_free(struct run *r)
{
	cJSON_Delete(r->env);
	free(r->rows);
	r->env = NULL;
	r->rows = NULL;
	r->n = 0;
}

const struct row *run_find(const struct run *r, const char *id, bool nginx)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].nginx == nginx && strcmp(r->rows[i].sc.id, id) == 0)
			return &r->rows[i];
	return NULL;
}

/* The same scenario with the other record layer, measured in the same place. */
const struct row *run_find_layer(const struct run *r, const struct row *x, const char *layer)
{
	struct scenario sc = x->sc;
	snprintf(sc.layer, sizeof sc.layer, "%s", layer);
	scenario_make_id(&sc);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *y = &r->rows[i];
		if (y->nginx == x->nginx && y->emulated == x->emulated && strcmp(y->sc.id, sc.id) == 0)
			return y;
	}
	return NULL;
}

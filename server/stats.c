/* server/stats.c: counters summed over workers, as JSON (/stats, --json) and text. */
#include "server/server.h"
#include "osslshim/osslshim.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "common/units.h"
#include "common/version.h"

static const int status_codes[ST_COUNT] = { 200, 400, 404, 405, 408, 413, 414, 425, 431, 500,
					    501, 503, 505 };

int stats_status_index(int status)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (status_codes[i] == status)
			return i;
	return ST_500;
}

void reasons_init(struct reasons *r)
{
	pthread_mutex_init(&r->lock, NULL);
	r->n = 0;
}

void reasons_add(struct reasons *r, const char *name)
{
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->n; i++) {
		if (!strcmp(r->r[i].name, name)) {
			r->r[i].n++;
			goto out;
		}
	}
	if (r->n == REASONS_MAX - 1)
		name = "other";         /* the last slot collects the rest */
	if (r->n == REASONS_MAX) {
		r->r[REASONS_MAX - 1].n++;
		goto out;
	}
	snprintf(r->r[r->n].name, sizeof r->r[r->n].name, "%s", name);
	r->r[r->n].n = 1;
	r->n++;
out:
	pthread_mutex_unlock(&r->lock);
}

/* Sum of one reasons table over all workers, as a JSON object. */
static cJSON *reasons_json(struct server *s, size_t offset, uint64_t *total)
{
	cJSON *o = cJSON_CreateObject();
	*total = 0;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct reasons *r = (struct reasons *)((char *)&s->workers[i].st + offset);
		pthread_mutex_lock(&r->lock);
		for (unsigned k = 0; k < r->n; k++) {
			cJSON *it = cJSON_GetObjectItemCaseSensitive(o, r->r[k].name);
			if (it)
				cJSON_SetNumberValue(it, it->valuedouble + (double)r->r[k].n);
			else
				cJSON_AddNumberToObject(o, r->r[k].name, (double)r->r[k].n);
			*total += r->r[k].n;
		}
		pthread_mutex_unlock(&r->lock);
	}
	return o;
}

struct sums {
	uint64_t accepted, hs_full, hs_resumed, hs_failed, requests, bytes_in, bytes_out;
	uint64_t offloads, refused, control, to_hs, to_idle, to_req, to_send, to_linger, paused, over;
	uint64_t nobufs, cn_waits;
	uint64_t early_acc, early_rej, early_replay, early_bytes, early_req, early_0rtt;
	uint64_t responses[ST_COUNT];
};

static void sum(struct server *s, struct sums *t)
{
	memset(t, 0, sizeof *t);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker_stats *st = &s->workers[i].st;
		t->accepted += STAT_GET(st->accepted);
		t->hs_full += STAT_GET(st->handshakes_full);
		t->hs_resumed += STAT_GET(st->handshakes_resumed);
		t->hs_failed += STAT_GET(st->handshake_failures);
		t->requests += STAT_GET(st->requests);
		t->bytes_in += STAT_GET(st->bytes_in);
		t->bytes_out += STAT_GET(st->bytes_out);
		t->offloads += STAT_GET(st->ktls_offloads);
		t->refused += STAT_GET(st->ktls_refused);
		t->control += STAT_GET(st->ktls_control);
		t->to_hs += STAT_GET(st->timeouts_handshake);
		t->to_idle += STAT_GET(st->timeouts_idle);
		t->to_req += STAT_GET(st->timeouts_request);
		t->to_send += STAT_GET(st->timeouts_send);
		t->to_linger += STAT_GET(st->timeouts_linger);
		t->nobufs += STAT_GET(st->recv_nobufs);
		t->cn_waits += STAT_GET(st->close_notify_waits);
		t->paused += STAT_GET(st->accept_paused);
		t->over += STAT_GET(st->conns_over_limit);
		t->early_acc += STAT_GET(st->early_accepted);
		t->early_rej += STAT_GET(st->early_rejected);
		t->early_replay += STAT_GET(st->early_replays);
		t->early_bytes += STAT_GET(st->early_bytes);
		t->early_req += STAT_GET(st->early_requests);
		t->early_0rtt += STAT_GET(st->early_answered_0rtt);
		for (int k = 0; k < ST_COUNT; k++)
			t->responses[k] += STAT_GET(st->responses[k]);
	}
}

/* CPU of a running thread from /proc (getrusage only sees the caller). */
static void thread_cpu_proc(pid_t tid, struct cpu_times *t)
{
	char path[64], buf[512];
	unsigned long long ut = 0, stime = 0;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "re");
	t->user_s = t->sys_s = 0;
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	/* after ") ": state(3) ... utime(14) stime(15) */
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stime) == 2 &&
	    hz > 0) {
		t->user_s = (double)ut / (double)hz;
		t->sys_s = (double)stime / (double)hz;
	}
}

cJSON *stats_json(struct server *s, bool final)
{
	struct sums t;
	struct cpu_times pc = { 0, 0 };
	uint64_t rss = 0, peak = 0, n;
	struct utsname un;
	cJSON *j = cJSON_CreateObject();

	if (!j)
		return NULL;
	sum(s, &t);
	uint64_t end = final ? s->stop_ns : procstat_now_ns();
	cJSON_AddStringToObject(j, "tool", "ktls-server");
	cJSON_AddStringToObject(j, "version", build_version());
	cJSON_AddStringToObject(j, "commit", build_commit());
	cJSON_AddStringToObject(j, "tls_mode", config_mode_name(s->cfg.mode));
	cJSON_AddBoolToObject(j, "strict", s->cfg.strict);
	/* which OpenSSL paths the handshakes took (osslshim/; --stock-openssl: stock) */
	const struct osslshim_state *sh = osslshim_get();
	cJSON_AddStringToObject(j, "openssl_paths", sh->paths);
	if (sh->why_stock)
		cJSON_AddStringToObject(j, "openssl_stock_why", sh->why_stock);
	else
		cJSON_AddNullToObject(j, "openssl_stock_why");
	cJSON_AddBoolToObject(j, "key_share_direct", sh->keys);
	cJSON_AddBoolToObject(j, "key_schedule_provider", sh->kdf);
	cJSON_AddStringToObject(j, "host", s->cfg.host);
	cJSON_AddNumberToObject(j, "port", s->port);
	cJSON_AddNumberToObject(j, "duration_s", end > s->start_ns ? (double)(end - s->start_ns) / 1e9 : 0);
	cJSON_AddNumberToObject(j, "handshakes_full", (double)t.hs_full);
	cJSON_AddNumberToObject(j, "handshakes_resumed", (double)t.hs_resumed);
	cJSON_AddItemToObject(j, "handshake_failures",
			      reasons_json(s, offsetof(struct worker_stats, hs_fail), &n));
	cJSON_AddNumberToObject(j, "handshake_failures_total", (double)t.hs_failed);
	cJSON_AddNumberToObject(j, "requests", (double)t.requests);
	cJSON *resp = cJSON_AddObjectToObject(j, "responses");
	for (int k = 0; k < ST_COUNT; k++) {
		char code[8];
		if (!t.responses[k])
			continue;
		snprintf(code, sizeof code, "%d", status_codes[k]);
		cJSON_AddNumberToObject(resp, code, (double)t.responses[k]);
	}
	cJSON_AddNumberToObject(j, "bytes_in", (double)t.bytes_in);
	cJSON_AddNumberToObject(j, "bytes_out", (double)t.bytes_out);
	cJSON_AddNumberToObject(j, "conns_accepted", (double)t.accepted);
	cJSON_AddNumberToObject(j, "conns_current",
				(double)__atomic_load_n(&s->conns_current, __ATOMIC_RELAXED));
	cJSON_AddNumberToObject(j, "conns_max", (double)__atomic_load_n(&s->conns_max, __ATOMIC_RELAXED));
	cJSON_AddNumberToObject(j, "conns_over_limit", (double)t.over);
	cJSON_AddNumberToObject(j, "accept_pauses", (double)t.paused);
	cJSON_AddItemToObject(j, "accept_errors",
			      reasons_json(s, offsetof(struct worker_stats, accept_errors), &n));
	cJSON *to = cJSON_AddObjectToObject(j, "timeouts");
	cJSON_AddNumberToObject(to, "handshake", (double)t.to_hs);
	cJSON_AddNumberToObject(to, "request", (double)t.to_req);
	cJSON_AddNumberToObject(to, "idle", (double)t.to_idle);
	cJSON_AddNumberToObject(to, "send", (double)t.to_send);
	cJSON_AddNumberToObject(to, "linger", (double)t.to_linger);
	cJSON_AddItemToObject(j, "conn_errors",
			      reasons_json(s, offsetof(struct worker_stats, conn_errors), &n));
	cJSON_AddItemToObject(j, "closes", reasons_json(s, offsetof(struct worker_stats, closes), &n));
	cJSON_AddNumberToObject(j, "recv_buffer_waits", (double)t.nobufs);
	cJSON_AddNumberToObject(j, "close_notify_waits", (double)t.cn_waits);
	if (s->cfg.mode == TLS_MODE_KTLS)
		cJSON_AddBoolToObject(j, "ktls_available", s->ktls_unavailable == NULL);
	else
		cJSON_AddNullToObject(j, "ktls_available");
	cJSON_AddNumberToObject(j, "ktls_offloads", (double)t.offloads);
	cJSON_AddItemToObject(j, "ktls_refusals",
			      reasons_json(s, offsetof(struct worker_stats, ktls_refusal), &n));
	cJSON_AddNumberToObject(j, "ktls_control_records", (double)t.control);
	/* TLS 1.3 0-RTT: what the server allows, and what became of it */
	cJSON *ed = cJSON_AddObjectToObject(j, "early_data");
	cJSON_AddNumberToObject(ed, "max_bytes", (double)s->cfg.early_data);
	cJSON_AddBoolToObject(ed, "anti_replay", s->cfg.early_data && !s->cfg.no_anti_replay);
	cJSON_AddNumberToObject(ed, "accepted", (double)t.early_acc);
	cJSON_AddNumberToObject(ed, "rejected", (double)t.early_rej);
	cJSON_AddNumberToObject(ed, "refused_replays", (double)t.early_replay);
	cJSON_AddNumberToObject(ed, "bytes", (double)t.early_bytes);
	cJSON_AddNumberToObject(ed, "requests", (double)t.early_req);
	cJSON_AddNumberToObject(ed, "answered_before_finished", (double)t.early_0rtt);
	cJSON_AddNumberToObject(ed, "too_early_425", (double)t.responses[ST_425]);

	cJSON *th = cJSON_AddArrayToObject(j, "threads");
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		struct cpu_times c = w->cpu_used;
		if (!final)
			thread_cpu_proc(w->tid, &c);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "cpu", w->cpu);
		cJSON_AddNumberToObject(o, "cpu_user_s", c.user_s);
		cJSON_AddNumberToObject(o, "cpu_sys_s", c.sys_s);
		cJSON_AddNumberToObject(o, "handshakes",
					(double)(STAT_GET(w->st.handshakes_full) +
						 STAT_GET(w->st.handshakes_resumed)));
		cJSON_AddNumberToObject(o, "requests", (double)STAT_GET(w->st.requests));
		cJSON_AddItemToArray(th, o);
	}
	procstat_process_cpu(&pc);
	procstat_rss_kib(&rss, &peak);
	cJSON_AddNumberToObject(j, "cpu_user_s", pc.user_s);
	cJSON_AddNumberToObject(j, "cpu_sys_s", pc.sys_s);
	cJSON_AddNumberToObject(j, "rss_kib", (double)rss);
	cJSON_AddNumberToObject(j, "rss_peak_kib", (double)peak);
	cJSON_AddNumberToObject(j, "open_fds", procstat_open_fds());
	cJSON_AddStringToObject(j, "openssl", OpenSSL_version(OPENSSL_VERSION));
	cJSON_AddStringToObject(j, "kernel", uname(&un) == 0 ? un.release : "?");
	return j;
}

static void print_reasons(FILE *f, struct server *s, size_t offset)
{
	uint64_t n;
	cJSON *o = reasons_json(s, offset, &n);
	cJSON *it;
	const char *sep = " (";
	cJSON_ArrayForEach(it, o) {
		fprintf(f, "%s%s %.0f", sep, it->string, it->valuedouble);
		sep = ", ";
	}
	if (strcmp(sep, " ("))
		fputc(')', f);
	cJSON_Delete(o);
}

void stats_print_summary(struct server *s, FILE *f)
{
	struct sums t;
	struct cpu_times pc = { 0, 0 };
	uint64_t rss = 0, peak = 0;
	char a[32], b[32];

	sum(s, &t);
	procstat_process_cpu(&pc);
	procstat_rss_kib(&rss, &peak);
	double secs = s->stop_ns > s->start_ns ? (double)(s->stop_ns - s->start_ns) / 1e9 : 0;
	fprintf(f, "ktls-server summary: %.1f s, tls %s, %u thread%s\n", secs,
		config_mode_name(s->cfg.mode), s->nworkers, s->nworkers == 1 ? "" : "s");
	fprintf(f, "  handshakes   %" PRIu64 " full, %" PRIu64 " resumed, %" PRIu64 " failed", t.hs_full,
		t.hs_resumed, t.hs_failed);
	print_reasons(f, s, offsetof(struct worker_stats, hs_fail));
	fprintf(f, "\n  requests     %" PRIu64, t.requests);
	const char *sep = " (";
	for (int k = 0; k < ST_COUNT; k++) {
		if (!t.responses[k])
			continue;
		fprintf(f, "%s%d: %" PRIu64, sep, status_codes[k], t.responses[k]);
		sep = ", ";
	}
	fprintf(f, "%s\n", strcmp(sep, " (") ? ")" : "");
	fprintf(f, "  bytes        in %s, out %s\n", units_fmt_size(t.bytes_in, a, sizeof a),
		units_fmt_size(t.bytes_out, b, sizeof b));
	fprintf(f, "  connections  %" PRIu64 " accepted, at most %" PRIu64 " open", t.accepted,
		(uint64_t)__atomic_load_n(&s->conns_max, __ATOMIC_RELAXED));
	print_reasons(f, s, offsetof(struct worker_stats, conn_errors));
	fprintf(f, "\n  timeouts     %" PRIu64 " handshake, %" PRIu64 " request, %" PRIu64 " idle, %"
		PRIu64 " send, %" PRIu64 " linger\n", t.to_hs, t.to_req, t.to_idle, t.to_send, t.to_linger);
	fprintf(f, "  closes      ");
	print_reasons(f, s, offsetof(struct worker_stats, closes));
	fputc('\n', f);
	if (s->cfg.mode == TLS_MODE_KTLS) {
		fprintf(f, "  kTLS         %" PRIu64 " offloaded, %" PRIu64 " refused", t.offloads, t.refused);
		print_reasons(f, s, offsetof(struct worker_stats, ktls_refusal));
		fputc('\n', f);
	}
	if (s->cfg.early_data)
		fprintf(f, "  early data   %" PRIu64 " accepted, %" PRIu64 " rejected, %" PRIu64
			" refused as replays; %" PRIu64 " requests in it\n", t.early_acc, t.early_rej,
			t.early_replay, t.early_req);
	fprintf(f, "  CPU          user %.2f s, sys %.2f s\n", pc.user_s, pc.sys_s);
	fprintf(f, "  memory       RSS %" PRIu64 " KiB (peak %" PRIu64 " KiB)\n", rss, peak);
}

void stats_live_line(struct server *s, FILE *f, uint64_t *prev_hs, uint64_t *prev_req,
		     uint64_t *prev_out, uint64_t *prev_ns)
{
	struct sums t;
	uint64_t now = procstat_now_ns();

	sum(s, &t);
	double dt = now > *prev_ns ? (double)(now - *prev_ns) / 1e9 : 1;
	uint64_t hs = t.hs_full + t.hs_resumed;
	fprintf(f, "%7.1fs  conns %" PRIu64 "  handshakes/s %.0f  requests/s %.0f  out %.1f MB/s\n",
		(double)(now - s->start_ns) / 1e9,
		(uint64_t)__atomic_load_n(&s->conns_current, __ATOMIC_RELAXED),
		(double)(hs - *prev_hs) / dt, (double)(t.requests - *prev_req) / dt,
		(double)(t.bytes_out - *prev_out) / dt / 1e6);
	fflush(f);
	*prev_hs = hs;
	*prev_req = t.requests;
	*prev_out = t.bytes_out;
	*prev_ns = now;
}

/* bench/checks.c: every row of a run against physical bounds, before the
 * report, the plots or compare show it.
 *
 * A figure that breaks one of these cannot be right, whatever the machine:
 *   cpu_share    a process cannot use more CPU time than its threads had wall
 *                time (the server over its sampling window, the client over
 *                its measured window);
 *   cpu_busy     the server's CPU cannot be busy more than 100%: the server's
 *                own time plus what else ran there (/proc/stat);
 *   aead_floor   no side can spend fewer ns of CPU per byte than the AEAD
 *                alone needs on this CPU (`openssl speed`, same run): the
 *                server encrypts every byte, the client (OpenSSL record
 *                layer) decrypts it;
 *   aead_rate    so no row moves more bytes per second than one core's AEAD
 *                ceiling times the threads that did it;
 *   hs_floor     a handshake cannot cost the server less CPU than its
 *                signature plus one key-exchange derive;
 *   rate_cpu     the rate the client stated (MB/s, handshakes/s) times the
 *                server's CPU per unit must equal the server's CPU share: a
 *                rate in the wrong unit (megabits for megabytes) breaks it;
 *   percentiles  p50 <= p90 <= p99 <= p99.9 <= max;
 *   counts       resumed <= handshakes; requests x size = bytes (give or
 *                take the responses in flight at each end of the window);
 *                the server served at least what the client counted;
 *   build        every program's JSON comes from the run's own build.
 * Tolerances cover the granularity of the clocks (/proc counts CPU in 10 ms
 * ticks), the noise of `openssl speed`, and, for the kernel's record layer,
 * that its AEAD is another implementation than OpenSSL's (checked against
 * half OpenSSL's floor).
 */
#include "bench/bench.h"
#include "bench/icount.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TOL_CPU 1.02          /* CPU time against wall time ... */
#define TOL_CPU_S 0.03        /* ... plus three 10 ms ticks */
#define TOL_FLOOR 0.95        /* a measured cost may dip 5% under openssl speed's floor */
#define TOL_FLOOR_KERNEL 0.5  /* the kernel's AEAD is not OpenSSL's */
#define TOL_RATE 0.02         /* a stated rate against the counts it came from */

static const char *const names[CHECK_COUNT_] = {
	"cpu_share", "cpu_busy", "aead_floor", "aead_rate", "hs_floor", "rate_cpu", "percentiles",
	"counts", "build", "icount",
};

const char *check_name(unsigned bit)
{
	for (unsigned i = 0; i < CHECK_COUNT_; i++)
		if (bit == 1u << i)
			return names[i];
	return "?";
}

static void fail(struct row *w, unsigned bit, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct row *w, unsigned bit, const char *fmt, ...)
{
	size_t o = strlen(w->check_why);
	va_list ap;
	w->check_failed |= bit;
	if (o + 8 >= sizeof w->check_why)
		return;
	o += (size_t)snprintf(w->check_why + o, sizeof w->check_why - o, "%s%s: ", o ? "; " : "",
			      check_name(bit));
	if (o >= sizeof w->check_why)
		return;
	va_start(ap, fmt);
	vsnprintf(w->check_why + o, sizeof w->check_why - o, fmt, ap);
	va_end(ap);
}

static const char *env_commit(const struct run *r)
{
	const cJSON *c = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "commit") : NULL;
	return cJSON_IsString(c) ? c->valuestring : "";
}

static void check_cpu(struct row *w)
{
	double win = w->server_cpu_window_s;
	if (w->server_cpu_s >= 0 && win > 0 &&
	    w->server_cpu_s > w->server_threads * win * TOL_CPU + TOL_CPU_S)
		fail(w, CHECK_CPU_SHARE, "the server used %.2f s of CPU in %.2f s with %u thread%s (%.0f%% of a core)",
		     w->server_cpu_s, win, w->server_threads, w->server_threads == 1 ? "" : "s",
		     100 * w->server_cpu_s / win);
	if (w->duration_s > 0 && w->client_cpu_s > w->client_threads * w->duration_s * TOL_CPU + TOL_CPU_S)
		fail(w, CHECK_CPU_SHARE, "the client used %.2f s of CPU in %.2f s with %u thread%s",
		     w->client_cpu_s, w->duration_s, w->client_threads, w->client_threads == 1 ? "" : "s");
	/* pinned server threads: their CPUs' busy time is the server's own plus the rest */
	unsigned ncpu = w->server_cpus ? w->server_cpus : 1;
	if (w->server_cpu_s >= 0 && w->server_cpu_other_s >= 0 && win > 0 &&
	    w->server_cpu_s + w->server_cpu_other_s > ncpu * win * TOL_CPU + TOL_CPU_S)
		fail(w, CHECK_CPU_BUSY, "the server's %s busy %.2f s (server %.2f s + other work "
		     "%.2f s) in %.2f s", ncpu == 1 ? "CPU was" : "CPUs were", w->server_cpu_s + w->server_cpu_other_s,
		     w->server_cpu_s, w->server_cpu_other_s, win);
}

/* Bytes per second this row claims, against what the AEAD allows. */
static void check_bytes(const struct run *r, struct row *w, bool client_rx_user)
{
	double aead = r->have_ceiling ? ceiling_get(&r->ceil, 'a', w->sc.cipher) : 0;
	bool kernel = strcmp(w->sc.layer, "ktls") == 0;
	double tol = kernel ? TOL_FLOOR_KERNEL : TOL_FLOOR;
	double bps = w->sc.kind == SCEN_HYPERFINE ? (w->hf_mean_s > 0 ? (double)w->sc.size / w->hf_mean_s : -1)
						  : w->mb_per_s * 1e6;

	if (!(aead > 0) || w->emulated)
		return;
	double floor_ns = 1e9 / aead;
	if (w->ns_per_byte > 0 && w->ns_per_byte < floor_ns * tol)
		fail(w, CHECK_AEAD_FLOOR, "the server spent %.3f ns of CPU per byte, less than %s alone needs "
		     "on this CPU (%.3f ns/B, openssl speed)", w->ns_per_byte, w->sc.cipher, floor_ns);
	if (client_rx_user && w->bytes > 0 && w->client_cpu_s > 0 &&
	    w->client_cpu_s * 1e9 / w->bytes < floor_ns * TOL_FLOOR)
		fail(w, CHECK_AEAD_FLOOR, "the client spent %.3f ns of CPU per byte it decrypted, less than %s "
		     "alone needs (%.3f ns/B)", w->client_cpu_s * 1e9 / w->bytes, w->sc.cipher, floor_ns);
	if (bps > 0) {
		/* the client decrypts with OpenSSL on its threads; the server encrypts on its own */
		double lim = aead * w->server_threads / tol;
		if (client_rx_user && aead * w->client_threads / TOL_FLOOR < lim)
			lim = aead * w->client_threads / TOL_FLOOR;
		if (bps > lim)
			fail(w, CHECK_AEAD_RATE, "%.1f MB/s is more than %s can encrypt or decrypt on the "
			     "row's cores (%.1f MB/s per core, openssl speed)", bps / 1e6, w->sc.cipher, aead / 1e6);
	}
}

static void check_rate_cpu(struct row *w)
{
	double share = row_server_share(w), implied = -1;
	const char *what = "";
	if (!(share > 0))
		return;
	if ((w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE) && w->mb_per_s_json >= 0 && w->ns_per_byte > 0) {
		implied = w->mb_per_s_json * 1e6 * w->ns_per_byte * 1e-9;
		what = "MB/s x ns/B";
	} else if (w->sc.kind == SCEN_HANDSHAKE && w->hs_per_s_json >= 0 && w->us_per_hs > 0) {
		implied = w->hs_per_s_json * w->us_per_hs * 1e-6;
		what = "handshakes/s x µs/handshake";
	}
	if (implied >= 0 && fabs(implied / share - 1) > TOL_RATE)
		fail(w, CHECK_RATE_CPU, "the client's stated rate gives %s = %.0f%% of a core, but the server's "
		     "CPU share was %.0f%%", what, 100 * implied, 100 * share);
}

static void check_order(struct row *w, const double *v, const char *what)
{
	static const char *const k[ROW_LAT_N] = { "p50", "p90", "p99", "p99.9", "max" };
	double last = 0;
	int lk = -1;
	for (int i = 0; i < ROW_LAT_N; i++) {
		if (v[i] < 0)
			continue; /* absent */
		if (v[i] < last) {
			fail(w, CHECK_PERCENTILES, "%s %s %.0f µs < %s %.0f µs", what, k[i], v[i],
			     lk >= 0 ? k[lk] : "0", last);
			return;
		}
		last = v[i];
		lk = i;
	}
}

static void check_counts(struct row *w)
{
	double slack = w->sc.conns ? w->sc.conns : 1;
	if (w->resumed > w->handshakes)
		fail(w, CHECK_COUNTS, "%.0f resumed out of %.0f handshakes", w->resumed, w->handshakes);
	if (w->server_handshakes >= 0 && w->server_resumed > w->server_handshakes)
		fail(w, CHECK_COUNTS, "the server resumed %.0f out of %.0f handshakes", w->server_resumed,
		     w->server_handshakes);
	if ((w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE) && w->sc.size && w->requests > 0) {
		/* a response in flight at either end of the window is partly counted */
		double want = w->requests * (double)w->sc.size, edge = (slack + 1) * (double)w->sc.size;
		if (fabs(w->bytes - want) > edge)
			fail(w, CHECK_COUNTS, "%.0f requests of %llu bytes, but %.0f bytes counted", w->requests,
			     (unsigned long long)w->sc.size, w->bytes);
	}
	/* the server's counts cover its whole life, the client's its window */
	if (w->server_handshakes >= 0 && w->server_handshakes + slack < w->handshakes)
		fail(w, CHECK_COUNTS, "the client counted %.0f handshakes, the server only %.0f", w->handshakes,
		     w->server_handshakes);
	if (w->server_requests >= 0 && w->server_requests + slack < w->requests)
		fail(w, CHECK_COUNTS, "the client counted %.0f requests, the server answered %.0f", w->requests,
		     w->server_requests);
	if (w->server_bytes_out >= 0 && w->server_bytes_out < w->bytes)
		fail(w, CHECK_COUNTS, "the client received %.0f bytes, the server sent %.0f", w->bytes,
		     w->server_bytes_out);
	/* a fleet's figures are the sum of its ranks' */
	if (w->ranks && (w->rank_sum_handshakes != w->handshakes || w->rank_sum_requests != w->requests ||
			 w->rank_sum_bytes != w->bytes))
		fail(w, CHECK_COUNTS, "the %u client ranks add up to %.0f handshakes, %.0f requests and %.0f bytes, "
		     "the fleet's totals say %.0f, %.0f and %.0f", w->ranks, w->rank_sum_handshakes,
		     w->rank_sum_requests, w->rank_sum_bytes, w->handshakes, w->requests, w->bytes);
}

unsigned row_check(const struct run *r, struct row *w)
{
	w->check_failed = 0;
	w->check_why[0] = 0;
	if (!w->ok)
		return 0; /* listed as failed, with its error */
	const char *c = env_commit(r);
	if (*c && *w->commit_client && strcmp(c, w->commit_client))
		fail(w, CHECK_BUILD, "ktls-client's JSON comes from commit %s, the run from %s", w->commit_client, c);
	if (*c && *w->commit_server && strcmp(c, w->commit_server))
		fail(w, CHECK_BUILD, "ktls-server's JSON comes from commit %s, the run from %s", w->commit_server, c);
	check_order(w, w->lat_us, "latency");
	check_order(w, w->hs_lat_us, "handshake latency");
	check_counts(w);
	if (icount_run(r)) {
		/* the CPU figures are instructions: their own bounds, no timing's */
		char why[400];
		if (icount_check(r, w, why, sizeof why))
			fail(w, CHECK_ICOUNT, "%s", why);
		return w->check_failed;
	}
	if (w->emulated)
		return w->check_failed; /* no timing from the VM is shown, so none is checked */
	check_cpu(w);
	check_rate_cpu(w);
	if (w->sc.kind == SCEN_HANDSHAKE && r->have_ceiling && w->us_per_hs > 0) {
		/* a sure lower bound: the signature and one derive (the key share's
		 * generation may be cheaper than a derive, so it is left out) */
		double sign = w->sc.resume ? 0 : ceiling_get(&r->ceil, 's', w->sc.cert);
		double kex = ceiling_get(&r->ceil, 'k', w->sc.group);
		double fl = (w->sc.resume && w->sc.tls == 12) || !(kex > 0) || (!w->sc.resume && !(sign > 0))
			    ? 0 : 1e6 / kex + (sign > 0 ? 1e6 / sign : 0);
		if (fl > 0 && w->us_per_hs < fl * TOL_FLOOR)
			fail(w, CHECK_HS_FLOOR, "%.1f µs of server CPU per handshake, less than its signature and "
			     "key exchange alone (%.1f µs, openssl speed)", w->us_per_hs, fl);
	}
	if (w->sc.kind != SCEN_HANDSHAKE)
		check_bytes(r, w, !w->client_rx_kernel);
	return w->check_failed;
}

size_t run_check(struct run *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += row_check(r, &r->rows[i]) != 0;
	return n;
}

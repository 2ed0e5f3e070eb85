/* bench/report_openssl.c: ktls-server with stock OpenSSL and with its shims
 * (osslshim/), next to nginx, in report.md.
 *
 * A suite line with openssl=shims,stock runs ktls-server twice per scenario:
 * once with the shims, once with --stock-openssl, which is OpenSSL as nginx
 * and any other server get it. The difference between the two is what the
 * OpenSSL version in use spends on its own machinery around the same
 * cryptography; stock against nginx compares the servers like for like.
 */
#include "bench/report.h"

#include <stdio.h>
#include <string.h>

/* Below this share of its core a server's CPU per handshake also pays for
 * idling (as in report_tables.c). */
#define SATURATED 0.90

/* The shims row of the same scenario as stock row w, or NULL. */
static const struct row *shims_twin(const struct run *r, const struct row *w)
{
	struct scenario sc = w->sc;
	sc.stock = false;
	scenario_make_id(&sc);
	return run_find(r, sc.id, false);
}

static double share(const struct row *w)
{
	if (!w || !w->ok || w->server_cpu_s < 0 || w->duration_s <= 0)
		return -1;
	return w->server_cpu_s / w->duration_s;
}

/* A figure usable for a ratio: measured, positive, below a second per handshake. */
static bool usable(const struct row *w)
{
	return w && w->ok && w->us_per_hs > 0 && w->us_per_hs < 1e6;
}

/* "OpenSSL 3.0.19" out of env.json's "OpenSSL 3.0.19 27 Jan 2026" */
static const char *openssl_name(const struct run *r, char *buf, size_t len)
{
	const cJSON *v = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "openssl_library") : NULL;
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	const char *sp = s && !strncmp(s, "OpenSSL ", 8) ? strchr(s + 8, ' ') : NULL;

	if (!s)
		snprintf(buf, len, "OpenSSL");
	else if (sp)
		snprintf(buf, len, "%.*s", (int)(sp - s), s);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

struct span {
	double lo, hi;
	int n;
};

static void span_add(struct span *s, double v)
{
	if (!s->n || v < s->lo)
		s->lo = v;
	if (!s->n || v > s->hi)
		s->hi = v;
	s->n++;
}

static const char *span_fmt(char *buf, size_t len, const struct span *s, const char *unit, int prec)
{
	if (s->n == 1 || s->hi - s->lo < 0.005 * s->hi)
		snprintf(buf, len, "%.*f%s", prec, s->lo, unit);
	else
		snprintf(buf, len, "%.*f–%.*f%s", prec, s->lo, prec, s->hi, unit);
	return buf;
}

void report_openssl_paths(const struct run *r, struct sbuf *b)
{
	char c[10][48], ossl[48], t1[48], t2[48], t3[48];
	struct span extra = { 0 }, ratio = { 0 }, vs_ng_stock = { 0 }, vs_ng_shims = { 0 };
	size_t pairs = 0, unsaturated = 0, shims_off = 0;

	for (size_t i = 0; i < r->n; i++)
		pairs += r->rows[i].sc.stock && !r->rows[i].nginx && r->rows[i].sc.kind == SCEN_HANDSHAKE;
	if (!pairs)
		return;
	openssl_name(r, ossl, sizeof ossl);
	sb_printf(b, "### ktls-server with and without its OpenSSL shims, next to nginx\n\n"
		     "The same handshakes run twice on ktls-server: with its shims (`osslshim/`: key shares on "
		     "OpenSSL's direct path, a TLS 1.3 key schedule without per-call fetches) and with "
		     "`--stock-openssl`, %s as nginx and any other server get it. Server CPU per handshake; "
		     "the cryptography is the same on both paths.\n\n"
		     "| TLS | cert | group | handshake | conns | shims µs/hs | stock µs/hs | nginx µs/hs | stock/shims "
		     "| shims/nginx | stock/nginx | all saturated |\n"
		     "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
		     ossl);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *st = &r->rows[i];
		if (!st->sc.stock || st->nginx || st->sc.kind != SCEN_HANDSHAKE)
			continue;
		const struct row *sh = shims_twin(r, st), *ng = report_peer(r, st);
		bool sat = share(st) >= SATURATED && share(sh) >= SATURATED && (!ng || share(ng) >= SATURATED);
		double ust = usable(st) ? st->us_per_hs : -1, ush = usable(sh) ? sh->us_per_hs : -1,
		       ung = usable(ng) ? ng->us_per_hs : -1;
		sb_printf(b, "| %s | %s | %s | %s | %u | %s | %s | %s | %s | %s | %s | %s |\n",
			  st->sc.tls == 12 ? "1.2" : "1.3", st->sc.cert, st->sc.group,
			  st->sc.resume ? "resumed" : "full", st->sc.conns, fnum(c[0], 48, ush, 0),
			  fnum(c[1], 48, ust, 0), fnum(c[2], 48, ung, 0), fratio(c[3], 48, ust, ush),
			  fratio(c[4], 48, ush, ung), fratio(c[5], 48, ust, ung),
			  ust < 0 || ush < 0 ? "—" : sat ? "yes" : "no†");
		if (ust < 0 || ush < 0)
			continue;
		if (!sat) {
			unsaturated++;
			continue;
		}
		if (ung > 0)
			span_add(&vs_ng_stock, ust / ung);
		if (sh->openssl_paths[0] && strcmp(sh->openssl_paths, "shims")) {
			shims_off++; /* both rows ran stock OpenSSL: no overhead to name */
			continue;
		}
		span_add(&extra, ust - ush);
		span_add(&ratio, ust / ush);
		if (ung > 0)
			span_add(&vs_ng_shims, ush / ung);
	}
	sb_printf(b, "\n");
	if (unsaturated)
		sb_printf(b, "† A server was busy less than %.0f%% of the time on this row: its CPU per handshake "
			     "includes idling. The sentences below leave such rows out.\n\n", 100 * SATURATED);
	if (shims_off)
		sb_printf(b, "- The shims were off in this run (the server's JSON says openssl_paths \"stock\" on the "
			     "shims rows too: they run only with the OpenSSL 3.0 series, or were not built): both "
			     "columns are stock %s, and %s row%s name%s no overhead.\n",
			  ossl, shims_off == 1 ? "that" : "those", shims_off == 1 ? "" : "s", shims_off == 1 ? "s" : "");
	if (!ratio.n && !shims_off)
		sb_printf(b, "- No row has all servers saturated: no figure for %s's own overhead from this run.\n",
			  ossl);
	if (!ratio.n) {
		/* nothing to name */
	} else if (ratio.lo >= 1.02) {
		sb_printf(b, "- **%s's own overhead**: with its stock paths ktls-server spends %s more server CPU "
			     "per handshake (%s its shimmed paths). The cryptography and the protocol are the same; "
			     "the difference is OpenSSL's machinery around them: fetching algorithms by name for "
			     "each operation, passing parameters as OSSL_PARAM arrays, key objects copied between "
			     "key managers, a KDF and HMAC context for each of the ~20 key-schedule derivations. "
			     "Any server on this OpenSSL pays it, nginx included.\n",
			  ossl, span_fmt(t1, sizeof t1, &extra, " µs", 0), span_fmt(t2, sizeof t2, &ratio, "×", 2));
	} else {
		sb_printf(b, "- The shims changed little here: stock/shims %s (the rows above; within the noise "
			     "of a shared machine when near 1×). On %s, OpenSSL's own overhead may be smaller than "
			     "on the 3.0 series the shims were written for.\n",
			  span_fmt(t1, sizeof t1, &ratio, "×", 2), ossl);
	}
	if (vs_ng_stock.n && vs_ng_shims.n)
		sb_printf(b, "- **Like for like with nginx** (both on stock %s): ktls-server spends %s nginx's "
			     "CPU per handshake; with its shims, %s. The first is the server's design (io_uring, "
			     "memory BIOs, one thread per core) against nginx's; the second adds the workaround for "
			     "OpenSSL's overhead, which nginx does not have.\n",
			  ossl, span_fmt(t2, sizeof t2, &vs_ng_stock, "×", 2),
			  span_fmt(t3, sizeof t3, &vs_ng_shims, "×", 2));
	else if (vs_ng_stock.n)
		sb_printf(b, "- **Like for like with nginx** (both on stock %s): ktls-server spends %s nginx's "
			     "CPU per handshake: the server's design (io_uring, memory BIOs, one thread per core) "
			     "against nginx's.\n",
			  ossl, span_fmt(t2, sizeof t2, &vs_ng_stock, "×", 2));
	sb_printf(b, "\n");
}

/* bench/plotdata.c: a run folder's JSON -> gnuplot data files (DIR/plots/).
 *
 *   handshakes.dat     one block per series of ours (TLS, cert, group,
 *                      full/resumed, server threads): "conns handshakes_per_s
 *                      flags", the first line of a block is its title (gnuplot:
 *                      title columnheader(1)); flags: 1 the server was not
 *                      saturated, 2 its CPUs were disturbed by other work, 3 both.
 *                      Only measured points: a line joins what was run.
 *   throughput.dat     one block per cipher x layer (x place): "size_bytes
 *                      megabytes_per_s" (MB = 10^6 bytes)
 *   *_nginx.dat        block i: nginx's twin of block i above (maybe no point)
 *   cpu_per_byte.dat   one line per cipher at the largest size:
 *                      "cipher user_ns ktls_ns nginx_ns floor_ns" ('?' = missing)
 *   ceiling_ratio.dat  one line per native scenario: "label ours nginx"
 *   icount_per_byte.dat  a --clock instructions run only (then the only file):
 *                      one line per bulk/file row of ktls-server within its
 *                      bounds and a split worth showing, by cipher, size and record layer:
 *                      "label user kernel" instructions per byte
 * Blocks are separated by two blank lines (gnuplot's "index"). Figures from
 * the VM are left out of every plot: emulated (TCG) timings are not
 * performance, and the report lists those rows as verified/failed only.
 * Rows that fail the consistency checks (checks.c) are left out too: the
 * report says which and why.
 */
#include "bench/report.h"
#include "bench/format.h"
#include "bench/icount.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const aeads[] = { "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305" };

static bool same_series(const struct row *a, const struct row *b)
{
	if (a->sc.kind != b->sc.kind || a->nginx != b->nginx || a->emulated != b->emulated ||
	    a->sc.tls != b->sc.tls || strcmp(a->sc.cipher, b->sc.cipher))
		return false;
	if (a->sc.kind == SCEN_HANDSHAKE)
		return a->sc.resume == b->sc.resume && a->sc.stock == b->sc.stock && !strcmp(a->sc.cert, b->sc.cert) &&
		       !strcmp(a->sc.group, b->sc.group) &&
		       scenario_threads(&a->sc) == scenario_threads(&b->sc);
	return !strcmp(a->sc.layer, b->sc.layer) && a->sc.conns == b->sc.conns;
}

static void series_title(const struct row *w, char *buf, size_t len)
{
	if (w->sc.kind == SCEN_HANDSHAKE)
		snprintf(buf, len, "%sTLS %s %s %s %s, %u thread%s", w->nginx ? "nginx " : "",
			 w->sc.tls == 12 ? "1.2" : "1.3", w->sc.cert, w->sc.group,
			 w->sc.resume ? "resumed" : "full", scenario_threads(&w->sc),
			 scenario_threads(&w->sc) == 1 ? "" : "s");
	else
		snprintf(buf, len, "%s%s %s TLS %s c%u%s", w->nginx ? "nginx " : "", w->sc.cipher, w->sc.layer,
			 w->sc.tls == 12 ? "1.2" : "1.3", w->sc.conns, w->emulated ? " (VM, emulated)" : "");
}

static int cmp_x(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Handshake points the plot marks: not saturated (1), disturbed (2). */
static double point_flags(const struct row *y)
{
	if (y->sc.kind != SCEN_HANDSHAKE)
		return 0;
	return (report_unsaturated(y) ? 1 : 0) + (report_disturbed(y) ? 2 : 0);
}

/* Blocks of (x, y) per series of rows of kind; x/y picked by the callers' kind. */
/* The points of the series of w (ours or, with nginx, its nginx twin), sorted. */
static size_t series_points(const struct run *r, const struct row *w, bool nginx, bool *done,
			    double (*pts)[3])
{
	size_t n = 0;
	for (size_t j = 0; j < r->n; j++) {
		const struct row *y = &r->rows[j];
		if (done[j] || !y->ok || y->check_failed || y->nginx != nginx)
			continue;
		struct row probe = *w;
		probe.nginx = nginx;
		if (!same_series(&probe, y))
			continue;
		done[j] = true;
		pts[n][0] = w->sc.kind == SCEN_HANDSHAKE ? (double)y->sc.conns : (double)y->sc.size;
		pts[n][1] = w->sc.kind == SCEN_HANDSHAKE ? y->handshakes_per_s : y->mb_per_s;
		pts[n][2] = point_flags(y);
		n++;
	}
	qsort(pts, n, sizeof *pts, cmp_x);
	return n;
}

/* One block per series of ours in f, and in fn the nginx twin of each in the
 * same order (a block with no point when nginx did not run it), so that
 * plot.sh can draw block i of both in the same colour. */
static int write_series(const struct run *r, FILE *f, FILE *fn, enum scen_kind kind, size_t *blocks)
{
	bool *done = calloc(r->n + 1, sizeof *done);
	double (*pts)[3] = calloc(r->n + 1, sizeof *pts);
	const char *ylab = kind == SCEN_HANDSHAKE ? "handshakes_per_s" : "megabytes_per_s";
	char title[160];
	if (!done || !pts) {
		free(done);
		free(pts);
		return -ENOMEM;
	}
	*blocks = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		/* No VM row is plotted: an emulated timing is not a performance figure. */
		/* nor a stock-OpenSSL row: report_openssl_paths() compares those */
		if (done[i] || w->sc.kind != kind || !w->ok || w->check_failed || w->nginx || w->emulated ||
		    w->sc.stock)
			continue;
		size_t n = series_points(r, w, false, done, pts);
		series_title(w, title, sizeof title);
		fprintf(f, "%s\"%s\" \"%s\"\n", *blocks ? "\n\n" : "", title, ylab);
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%.0f %.3f %.0f\n", pts[k][0], pts[k][1], pts[k][2]);
		struct row twin = *w;
		twin.nginx = true;
		n = series_points(r, w, true, done, pts);
		series_title(&twin, title, sizeof title);
		fprintf(fn, "%s\"%s\" \"%s\"\n", *blocks ? "\n\n" : "", title, ylab);
		for (size_t k = 0; k < n; k++)
			fprintf(fn, "%.0f %.3f %.0f\n", pts[k][0], pts[k][1], pts[k][2]);
		if (!n)
			fprintf(fn, "? ? ?\n");
		(*blocks)++;
	}
	free(done);
	free(pts);
	return 0;
}

/* Server ns/B at the largest size for cipher / layer / peer (native only). */
static double ns_at_largest(const struct run *r, const char *cipher, const char *layer, bool nginx)
{
	const struct row *best = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->sc.kind != SCEN_BULK || w->emulated || !w->ok || w->check_failed || w->nginx != nginx ||
		    strcmp(w->sc.cipher, cipher) || strcmp(w->sc.layer, layer) || w->ns_per_byte <= 0)
			continue;
		if (!best || w->sc.size > best->sc.size)
			best = w;
	}
	return best ? best->ns_per_byte : -1;
}

static void put(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, " %.4f", v);
	else
		fprintf(f, " ?");
}

/* floor / measured for one row, or -1 */
static double ceiling_ratio(const struct run *r, const struct row *w)
{
	const char *what;
	if (!w->ok || w->check_failed)
		return -1;
	if (w->sc.kind == SCEN_HANDSHAKE && w->us_per_hs > 0) {
		double fl = ceiling_handshake_us(&r->ceil, &w->sc, &what);
		return fl > 0 ? fl / w->us_per_hs : -1;
	}
	if ((w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE) && w->ns_per_byte > 0) {
		double a = ceiling_get(&r->ceil, 'a', w->sc.cipher);
		return a > 0 ? 1e9 / a / w->ns_per_byte : -1;
	}
	return -1;
}

static FILE *open_dat(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return f;
}

/* A --clock instructions run: instructions per byte, stacked user/kernel. */
static int icount_dat(const struct run *r, const char *dir, char *err, size_t errlen)
{
	FILE *f = open_dat(dir, "icount_per_byte.dat", err, errlen);
	char why[400], sz[24], label[96];
	if (!f)
		return -errno;
	fprintf(f, "# server instructions per response byte (QEMU icount), user and kernel;\n"
		   "# bulk and file rows of ktls-server within their bounds\nscenario user kernel\n");
	for (size_t a = 0; a < sizeof aeads / sizeof aeads[0]; a++)
		for (size_t i = 0; i < r->n; i++) {
			const struct row *w = &r->rows[i];
			if (w->nginx || (w->sc.kind != SCEN_BULK && w->sc.kind != SCEN_FILE) ||
			    strcmp(w->sc.cipher, aeads[a]) || !icount_split_shown(w) || icount_check(r, w, why, sizeof why))
				continue;
			fmt_size_short(w->sc.size, sz, sizeof sz);
			snprintf(label, sizeof label, "%s%s %s %s", w->sc.kind == SCEN_FILE ? "file " : "",
				 w->sc.cipher, sz, w->sc.layer);
			fprintf(f, "\"%s\" %.4f %.4f\n", label, icount_per_unit(w, w->instr_user),
				icount_per_unit(w, w->instr_kernel));
		}
	fclose(f);
	return 0;
}

int plotdata_write(const struct run *r, const char *dir, char *err, size_t errlen)
{
	size_t blocks;
	int rc = util_mkdir_p(dir);
	FILE *f;
	if (rc) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (icount_run(r))
		return icount_dat(r, dir, err, errlen);

	static const struct { const char *name, *nginx, *what; enum scen_kind kind; } series[] = {
		{ "handshakes.dat", "handshakes_nginx.dat",
		  "handshakes/s against concurrency, one block per series (title first); column 3: "
		  "1 server not saturated, 2 its CPUs disturbed, 3 both", SCEN_HANDSHAKE },
		{ "throughput.dat", "throughput_nginx.dat",
		  "MB/s (10^6 bytes/s) against response size in bytes, one block per cipher x layer "
		  "(title first)", SCEN_BULK },
	};
	for (size_t i = 0; i < 2; i++) {
		FILE *fn;
		if (!(f = open_dat(dir, series[i].name, err, errlen)))
			return -errno;
		if (!(fn = open_dat(dir, series[i].nginx, err, errlen))) {
			fclose(f);
			return -errno;
		}
		fprintf(f, "# %s\n", series[i].what);
		fprintf(fn, "# nginx: block i is the twin of block i of %s\n", series[i].name);
		rc = write_series(r, f, fn, series[i].kind, &blocks);
		fclose(f);
		fclose(fn);
		if (rc)
			goto oom;
	}

	if (!(f = open_dat(dir, "cpu_per_byte.dat", err, errlen)))
		return -errno;
	fprintf(f, "# server ns per byte at the largest bulk size (native runs only; ? = not measured)\n"
		   "cipher user ktls nginx floor\n");
	for (int i = 0; i < 3; i++) {
		double a = r->have_ceiling ? ceiling_get(&r->ceil, 'a', aeads[i]) : 0;
		double u = ns_at_largest(r, aeads[i], "user", false), k = ns_at_largest(r, aeads[i], "ktls", false);
		double n = ns_at_largest(r, aeads[i], "user", true);
		if (u <= 0 && k <= 0 && n <= 0 && a <= 0)
			continue;
		fprintf(f, "%s", aeads[i]);
		put(f, u);
		put(f, k);
		put(f, n);
		put(f, a > 0 ? 1e9 / a : -1);
		fprintf(f, "\n");
	}
	fclose(f);

	if (!(f = open_dat(dir, "ceiling_ratio.dat", err, errlen)))
		return -errno;
	fprintf(f, "# floor / measured server CPU per unit of work (1.0 = nothing but crypto), native runs;\n"
		   "# one line per scenario: ours and nginx ('?' = not run)\n"
		   "scenario ours nginx\n");
	for (size_t i = 0; i < r->n && r->have_ceiling; i++) {
		const struct row *w = &r->rows[i];
		char label[96], sz[24];
		if (w->nginx || w->emulated || w->sc.kind == SCEN_HYPERFINE || w->sc.stock)
			continue;
		double ours = ceiling_ratio(r, w);
		const struct row *ng = report_peer(r, w);
		double theirs = ng ? ceiling_ratio(r, ng) : -1;
		if (ours <= 0 && theirs <= 0)
			continue;
		fmt_size_short(w->sc.size, sz, sizeof sz);
		if (w->sc.kind == SCEN_HANDSHAKE)
			snprintf(label, sizeof label, "hs %s %s %s c%u%s", w->sc.tls == 12 ? "1.2" : "1.3", w->sc.cert,
				 w->sc.resume ? "res" : "full", w->sc.conns,
				 scenario_threads(&w->sc) > 1 ? (snprintf(sz, sizeof sz, " t%u", scenario_threads(&w->sc)), sz) : "");
		else
			snprintf(label, sizeof label, "%s %s %s %s", w->sc.kind == SCEN_FILE ? "file" : "bulk",
				 w->sc.cipher, w->sc.layer, sz);
		fprintf(f, "\"%s\"", label);
		put(f, ours);
		put(f, theirs);
		fprintf(f, "\n");
	}
	fclose(f);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return rc;
}

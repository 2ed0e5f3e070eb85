/* bench/cost_check.c: ktls-bench cost-check, the regression guard on
 * instruction counts (make cost-check).
 *
 *   ktls-bench cost-check [--tolerance PCT] BASELINE DIR...
 *   ktls-bench cost-check --print DIR
 *
 * BASELINE (bench/cost-baseline) holds lines "KERNEL STEM COUNT UNIT [PCT%]":
 * the server's instructions per handshake or per byte of the row STEM (a
 * scenario id, ".nginx" for nginx's row) in a --clock instructions run on
 * the VM kernel KERNEL, and optionally that row's own tolerance. Each DIR is
 * such a run (its env.json names its kernel); every baseline line of its
 * kernel must find its row, and fails when the count grew by more than its
 * tolerance (the line's, else --tolerance, default 2%). A count that fell by
 * more is reported (the baseline wants updating), not failed. --print
 * writes DIR's counts as baseline lines.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/icount.h"

#define DEF_TOLERANCE 2.0

static const char *run_kernel(const struct run *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->env, "icount_kernel");
	return cJSON_IsString(e) ? e->valuestring : NULL;
}

static void stem(const struct row *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", w->sc.id, w->nginx ? ".nginx" : "");
}

static int load(struct run *r, const char *dir)
{
	char err[600];
	if (run_load(r, dir, err, sizeof err)) {
		fprintf(stderr, "ktls-bench: cost-check: %s\n", err);
		return -1;
	}
	if (!icount_run(r) || !run_kernel(r)) {
		fprintf(stderr, "ktls-bench: cost-check: %s is no instruction-count run (its env.json has no "
			"\"clock\": \"instructions\" and \"icount_kernel\"): make one with make cost or "
			"make cost-check\n", dir);
		run_free(r);
		return -1;
	}
	return 0;
}

static int print_baseline(const char *dir)
{
	struct run r;
	char why[400], s[200];
	if (load(&r, dir))
		return 1;
	printf("# KERNEL STEM INSTRUCTIONS UNIT (ktls-bench cost-check --print %s)\n", dir);
	for (size_t i = 0; i < r.n; i++) {
		const struct row *w = &r.rows[i];
		if (icount_check(&r, w, why, sizeof why))
			continue;
		stem(w, s, sizeof s);
		double per = icount_per_unit(w, w->instr);
		if (w->sc.kind == SCEN_HANDSHAKE)
			printf("%s %s %.0f handshake\n", run_kernel(&r), s, per);
		else
			printf("%s %s %.4f byte\n", run_kernel(&r), s, per);
	}
	run_free(&r);
	return 0;
}

static const struct row *find(const struct run *r, const char *want)
{
	char s[200];
	for (size_t i = 0; i < r->n; i++) {
		stem(&r->rows[i], s, sizeof s);
		if (strcmp(s, want) == 0)
			return &r->rows[i];
	}
	return NULL;
}

/* Check the runs against the baseline text; the number of failures. */
static int check(const char *bl_path, char *text, struct run *runs, size_t nruns, double tol_dflt)
{
	int failed = 0, checked = 0, lineno = 0;
	char why[400];
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char kernel[64], st[200], unit[16], pct[32] = "";
		double base, tol = tol_dflt;
		lineno++;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		int nf = sscanf(l, "%63s %199s %lf %15s %31s", kernel, st, &base, unit, pct);
		char *end = pct;
		if (nf == 5)
			tol = strtod(pct, &end);
		if (nf < 4 || !(base > 0) || (strcmp(unit, "handshake") && strcmp(unit, "byte")) ||
		    (nf == 5 && (end == pct || strcmp(end, "%") || !(tol >= 0 && tol <= 100)))) {
			fprintf(stderr, "ktls-bench: cost-check: %s: '%s' is no \"KERNEL STEM COUNT "
				"handshake|byte [PCT%%]\" line (COUNT > 0, PCT%% a tolerance such as 5%%)\n",
				bl_path, l);
			return -1;
		}
		struct run *r = NULL;
		for (size_t i = 0; i < nruns; i++)
			if (strcmp(run_kernel(&runs[i]), kernel) == 0)
				r = &runs[i];
		if (!r)
			continue; /* no run on that kernel given */
		const struct row *w = find(r, st);
		checked++;
		if (!w) {
			printf("FAIL %s %s: no such row in %s (the suite changed? update %s with "
			       "ktls-bench cost-check --print)\n", kernel, st, r->dir, bl_path);
			failed++;
			continue;
		}
		if (icount_check(r, w, why, sizeof why)) {
			printf("FAIL %s %s: not counted: %s\n", kernel, st, why);
			failed++;
			continue;
		}
		double per = icount_per_unit(w, w->instr), d = (per / base - 1) * 100;
		const char *fmt = strcmp(unit, "byte") ? "%.0f" : "%.4f";
		char a[64], c[64];
		snprintf(a, sizeof a, fmt, per);
		snprintf(c, sizeof c, fmt, base);
		if (d > tol) {
			printf("FAIL %s %s: %s instructions per %s, baseline %s: %+.2f%% (tolerance %.2f%%)\n",
			       kernel, st, a, unit, c, d, tol);
			failed++;
		} else if (d < -tol) {
			printf("ok   %s %s: %s instructions per %s, baseline %s: %+.2f%%, fewer than the "
			       "tolerance allows: update %s (ktls-bench cost-check --print)\n", kernel, st, a, unit,
			       c, d, bl_path);
		} else {
			char own[48] = "";
			if (nf == 5)
				snprintf(own, sizeof own, " (tolerance %.2f%%)", tol);
			printf("ok   %s %s: %s instructions per %s, baseline %s: %+.2f%%%s\n", kernel, st, a, unit,
			       c, d, own);
		}
	}
	if (!checked) {
		fprintf(stderr, "ktls-bench: cost-check: %s has no line for the kernel%s of the runs given\n",
			bl_path, nruns > 1 ? "s" : "");
		return -1;
	}
	printf("cost-check: %d of %d counts within their tolerance (+%.2f%% unless the line says) of %s%s\n",
	       checked - failed, checked, tol_dflt, bl_path, failed ? ": FAILED" : "");
	return failed;
}

int cost_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tolerance", required_argument, NULL, 't' },
		{ "print", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double tol = DEF_TOLERANCE;
	bool print = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': {
			char *end;
			tol = strtod(optarg, &end);
			if (end == optarg || (*end && strcmp(end, "%")) || !(tol >= 0 && tol <= 100)) {
				fprintf(stderr, "ktls-bench: cost-check: --tolerance '%s' is no percentage "
					"from 0 to 100 (e.g. 2, 0.5%%)\n", optarg);
				return 2;
			}
			break;
		}
		case 'p': print = true; break;
		case 'h':
			printf("usage: ktls-bench cost-check [--tolerance PCT] BASELINE DIR...\n"
			       "       ktls-bench cost-check --print DIR\n"
			       "Fails (exit 1) when an instruction count of a DIR (a --clock instructions run)\n"
			       "grew more than PCT percent [%.0f] over BASELINE's line for it.\n", DEF_TOLERANCE);
			return 0;
		default:
			return 2;
		}
	}
	if (print) {
		if (argc - optind != 1) {
			fprintf(stderr, "usage: ktls-bench cost-check --print DIR\n");
			return 2;
		}
		return print_baseline(argv[optind]);
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: ktls-bench cost-check [--tolerance PCT] BASELINE DIR...\n");
		return 2;
	}
	const char *bl = argv[optind];
	char *text = util_read_file(bl, NULL);
	if (!text) {
		fprintf(stderr, "ktls-bench: cost-check: cannot read the baseline %s: %s\n", bl, strerror(errno));
		return 2;
	}
	size_t n = (size_t)(argc - optind - 1);
	struct run *runs = calloc(n, sizeof *runs);
	int rc = 0;
	size_t loaded = 0;
	for (; runs && loaded < n; loaded++)
		if (load(&runs[loaded], argv[optind + 1 + (int)loaded])) {
			rc = 2;
			break;
		}
	if (!runs)
		rc = 2;
	if (!rc) {
		int f = check(bl, text, runs, n, tol);
		rc = f < 0 ? 2 : f > 0;
	}
	for (size_t i = 0; i < loaded; i++)
		run_free(&runs[i]);
	free(runs);
	free(text);
	return rc;
}

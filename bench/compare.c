/* bench/compare.c: two run folders side by side, with ratios B / A.
 *
 * Rows are matched by scenario id, peer and place (host or VM). For each the
 * rate and the server's CPU per unit of work are printed with their ratio;
 * scenarios present in only one run are listed at the end.
 */
#include "bench/report.h"

#include <string.h>

static const struct row *match(const struct run *r, const struct row *w)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct row *y = &r->rows[i];
		if (y->nginx == w->nginx && y->emulated == w->emulated && strcmp(y->sc.id, w->sc.id) == 0)
			return y;
	}
	return NULL;
}

static const char *envs(const struct run *r, const char *key)
{
	const cJSON *v = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* rate (higher is better) and cost (lower is better) of a row */
static void figures(const struct row *w, double *rate, double *cost, const char **ru, const char **cu)
{
	*rate = *cost = -1;
	*ru = *cu = "";
	if (!w || !w->ok)
		return;
	switch (w->sc.kind) {
	case SCEN_HANDSHAKE:
		*rate = w->handshakes_per_s;
		*cost = w->us_per_hs;
		*ru = "hs/s";
		*cu = "µs/hs";
		break;
	case SCEN_BULK:
	case SCEN_FILE:
		*rate = w->mb_per_s;
		*cost = w->ns_per_byte;
		*ru = "MB/s"; /* 10^6 bytes per second */
		*cu = "ns/B";
		break;
	default:
		*cost = w->hf_mean_s;
		*cu = "s";
		break;
	}
}

int compare_print(const struct run *a, const struct run *b, FILE *out)
{
	char t[6][40];
	size_t only_a = 0, only_b = 0, both = 0, bad = 0;
	fprintf(out, "A: %s  (%s, %s, %s)\nB: %s  (%s, %s, %s)\n\n", a->dir, envs(a, "hostname"),
		envs(a, "kernel"), envs(a, "cpu_model"), b->dir, envs(b, "hostname"), envs(b, "kernel"),
		envs(b, "cpu_model"));
	fprintf(out, "%-58s %-6s %12s %12s %7s   %10s %10s %7s\n", "scenario", "peer", "rate A", "rate B",
		"B/A", "cost A", "cost B", "B/A");
	for (size_t i = 0; i < a->n; i++) {
		const struct row *x = &a->rows[i], *y = match(b, x);
		if (!y) {
			only_a++;
			continue;
		}
		both++;
		double ra, ca, rb, cb;
		const char *ru, *cu;
		figures(x, &ra, &ca, &ru, &cu);
		figures(y, &rb, &cb, &ru, &cu);
		char name[160];
		snprintf(name, sizeof name, "%s%s", x->sc.id, x->emulated ? " (VM)" : "");
		const char *mark = x->check_failed && y->check_failed ? "  ✗ A and B"
				   : x->check_failed ? "  ✗ A" : y->check_failed ? "  ✗ B" : "";
		bad += *mark != 0;
		fprintf(out, "%-58s %-6s %12s %12s %7s   %10s %10s %7s  %s %s%s\n", name,
			x->nginx ? "nginx" : "ours", fnum(t[0], 40, ra, 1), fnum(t[1], 40, rb, 1),
			fratio(t[2], 40, rb, ra), fnum(t[3], 40, ca, 3), fnum(t[4], 40, cb, 3),
			fratio(t[5], 40, cb, ca), ru, cu, mark);
	}
	for (size_t i = 0; i < b->n; i++)
		if (!match(a, &b->rows[i]))
			only_b++;
	if (only_a || only_b) {
		fprintf(out, "\nonly in A:");
		for (size_t i = 0; i < a->n; i++)
			if (!match(b, &a->rows[i]))
				fprintf(out, " %s%s", a->rows[i].sc.id, a->rows[i].nginx ? "(nginx)" : "");
		fprintf(out, "\nonly in B:");
		for (size_t i = 0; i < b->n; i++)
			if (!match(a, &b->rows[i]))
				fprintf(out, " %s%s", b->rows[i].sc.id, b->rows[i].nginx ? "(nginx)" : "");
		fprintf(out, "\n");
	}
	fprintf(out, "\n%zu scenarios in both, %zu only in A, %zu only in B. B/A of a rate above 1 is "
		     "faster; B/A of a cost above 1 is more CPU per unit of work. MB/s is 10^6 bytes per "
		     "second. VM rows are emulated: their ratios say nothing about performance.\n",
		both, only_a, only_b);
	if (bad)
		fprintf(out, "%zu of them (✗) fail the consistency checks in A or B (a figure breaks a physical "
			"bound): `ktls-bench report DIR` says which and why; do not quote them.\n", bad);
	return 0;
}

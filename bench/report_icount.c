/* bench/report_icount.c: the report's "Instruction counts (QEMU icount)"
 * section, for a run made with --clock instructions (bench/icount.c).
 * Every figure is a count of instructions: per handshake, or per response
 * byte. A row is printed only when it meets its bounds (icount_check); the
 * others are listed with the reason.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/format.h"
#include "bench/icount.h"
#include "bench/report.h"

static const char *kind_title(enum scen_kind k)
{
	switch (k) {
	case SCEN_HANDSHAKE: return "Handshakes: server instructions per handshake";
	case SCEN_BULK: return "Bulk (GET /bytes/N): server instructions per response byte";
	case SCEN_FILE: return "File serving (GET /file/NAME): server instructions per response byte";
	default: return NULL;
	}
}

static void row_name(const struct row *w, char *buf, size_t len)
{
	const struct scenario *sc = &w->sc;
	char sz[32];
	fmt_size_short(sc->size, sz, sizeof sz);
	if (sc->kind == SCEN_HANDSHAKE)
		snprintf(buf, len, "TLS %s %s %s %s%s", sc->tls == 12 ? "1.2" : "1.3", sc->cert, sc->group,
			 sc->resume ? "resumed" : "full", sc->stock ? " (stock OpenSSL)" : "");
	else
		snprintf(buf, len, "TLS %s %s %s %s", sc->tls == 12 ? "1.2" : "1.3", sc->cipher, sz, sc->layer);
}

/* The total per unit of a row that meets its bounds, else -1. */
static double good_per(const struct run *r, const struct row *w)
{
	char why[400];
	if (!w || icount_check(r, w, why, sizeof why))
		return -1;
	return icount_per_unit(w, w->instr);
}

/* One part of the user/kernel split per unit, "—" when the split is not
 * shown, marked ° when it rests on fewer than ICOUNT_PART_TICKS samples. */
static const char *split_part(char *buf, size_t len, const struct row *w, double part, int prec)
{
	if (!icount_split_shown(w))
		return "—";
	fnum(buf, len, icount_per_unit(w, part), prec);
	if (icount_part_ticks(w, part) < ICOUNT_PART_TICKS)
		snprintf(buf + strlen(buf), len - strlen(buf), "°");
	return buf;
}

static void table(const struct run *r, struct sbuf *b, enum scen_kind kind)
{
	bool hs = kind == SCEN_HANDSHAKE, any = false;
	int prec = hs ? 0 : 3;
	char t[6][48], name[96], why[400];
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->sc.kind != kind || w->emulated)
			continue;
		if (!any) {
			sb_printf(b, "### %s\n\n| scenario | server | user | kernel | total | kTLS/user | ours/nginx "
				  "| ÷ %s | kTLS records (tls_stat) |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n",
				  kind_title(kind), hs ? "public-key floor" : "AEAD floor");
			any = true;
		}
		row_name(w, name, sizeof name);
		if (icount_check(r, w, why, sizeof why)) {
			sb_printf(b, "| %s | %s | — | — | — | — | — | — | not shown: %s |\n", name,
				  w->nginx ? "nginx" : "ktls-server", why);
			continue;
		}
		double per = icount_per_unit(w, w->instr), fl = icount_floor(r, w);
		const struct row *u = NULL, *ng = NULL;
		if (!hs && strcmp(w->sc.layer, "ktls") == 0)
			u = run_find_layer(r, w, "user");
		if (!w->nginx)
			ng = report_peer(r, w);
		double up = good_per(r, u), np = good_per(r, ng);
		char proof[64] = "—";
		if (!hs && w->tls_tx >= 0)
			snprintf(proof, sizeof proof, "TlsTxSw+Device +%.0f%s", w->tls_tx,
				 strcmp(w->sc.layer, "ktls") == 0 ? " (offloaded)" : " (none: userspace)");
		sb_printf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			  w->nginx ? "nginx" : "ktls-server",
			  split_part(t[0], sizeof t[0], w, w->instr_user, prec),
			  split_part(t[1], sizeof t[1], w, w->instr_kernel, prec),
			  fnum(t[2], sizeof t[2], per, prec),
			  up > 0 ? fratio(t[3], sizeof t[3], per, up) : "—",
			  np > 0 ? fratio(t[4], sizeof t[4], per, np) : "—",
			  fl > 0 ? fratio(t[5], sizeof t[5], per, fl) : "—", proof);
	}
	if (any)
		sb_printf(b, "\n");
}

void report_icount(const struct run *r, struct sbuf *b)
{
	size_t n = 0;
	double res = -1;
	const char *k = NULL, *cpu = "max,-erms,-fsrm";
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->env, "icount_kernel");
	if (cJSON_IsString(e))
		k = e->valuestring;
	e = cJSON_GetObjectItemCaseSensitive(r->env, "icount_cpu");
	if (cJSON_IsString(e))
		cpu = e->valuestring;
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].instr >= 0) {
			n++;
			res = r->rows[i].instr_split_res;
		}
	if (!icount_run(r) || !n)
		return;
	sb_printf(b, "## Instruction counts (QEMU icount)\n\n"
		  "Counted in a guest whose clock counts instructions (`scripts/vm.sh --icount`: QEMU TCG, "
		  "`-icount shift=0,sleep=off`, one vCPU, `-cpu %s`)%s%s. Every figure is a "
		  "count of **instructions** executed by the server (all its threads, user and kernel, from "
		  "`/proc/PID/task/*/schedstat`), per handshake or per response byte, over the client's whole "
		  "run. The user/kernel split is the kernel's utime/stime, sampled at its tick and read "
		  "in steps of %s instructions: it is shown where the row ran at least %d such steps "
		  "(else —); user + kernel = total. A part marked ° rests on fewer than %d of those steps: "
		  "sampling makes it uncertain by about its own size or more (0° is not zero). kTLS/user and ours/nginx compare totals; ÷ floor divides by the "
		  "crypto's own instructions (`openssl speed` in the same guest: the AEAD per byte, the "
		  "signature and key exchange per handshake). kTLS rows show the growth of the kernel's "
		  "kTLS counters (`/proc/net/tls_stat`), the proof that the kernel encrypted them.\n\n",
		  cpu, k ? ", kernel " : "", k ? k : "", fnum((char[48]){ 0 }, 48, res, 0), ICOUNT_SPLIT_TICKS,
		  ICOUNT_PART_TICKS);
	table(r, b, SCEN_HANDSHAKE);
	table(r, b, SCEN_BULK);
	table(r, b, SCEN_FILE);
	/* The run's receive-buffer setting decides how far its bulk rows
	 * repeat (docs/cost-lab.md, Repeatability; scripts/cost.sh sets
	 * COST_RCVBUF). */
	long fixed = report_rcvbuf_fixed(r);
	char other[200];
	snprintf(other, sizeof other,
		 "This run's receive buffers were fixed at %ld KiB (no autotuning), not at the %d KiB "
		 "`scripts/cost.sh` sets. Measured:", fixed / 1024, COST_RCVBUF / 1024);
	sb_printf(b, "What these counts can say: how much work each path executes, exactly. A bulk "
		  "row's count follows the number of TCP segments its responses took (about 10,000 "
		  "instructions each, all charged to the server on loopback; each row records it). %s%s "
		  "What they cannot say: instructions are not time. Cache misses and memory "
		  "bandwidth, where kTLS saves most (one pass over the data instead of a copy to userspace "
		  "and back), are invisible here; a copy costs few instructions per byte. See "
		  "docs/cost-lab.md.\n\n",
		  fixed == COST_RCVBUF ? "This run's receive buffers were fixed at 512 KiB (no autotuning), so "
					 "the segments repeat: three runs of `make cost` agreed within 0.4% on "
					 "every ktls-server row and within 0.55% on nginx's (median row "
					 "0.03%), so a change of 1% there is a real change."
		  : fixed > 1 ? other
		  : fixed == 1 ? "This run's receive buffers were fixed (no autotuning), at a size it does "
				 "not record. Measured:"
		  : fixed == 0 ? "This run's receive buffers grew by autotuning, which cuts responses into "
				 "segments differently from run to run: two such runs of `make cost` differed "
				 "by up to 12.5% on kTLS bulk rows (`scripts/cost.sh` fixes the buffers)."
			       : "This run does not record whether its receive buffers were fixed; with "
				 "autotuning, two runs of `make cost` differed by up to 12.5% on kTLS bulk "
				 "rows (`scripts/cost.sh` now fixes the buffers).",
		  fixed > 0 && fixed != COST_RCVBUF
			  ? " with 128 KiB, two runs of `make cost` agreed within 0.5% on every ktls-server "
			    "row but nginx's bulk rows moved by up to 4%; with 1 MiB and 8 MiB our kTLS bulk "
			    "rows moved by up to 1.7%; with 512 KiB every row repeated within 0.55%."
			  : "");
}

/* make bench on a host without kTLS: the instruction-count runs that
 * scripts/bench.sh made into DIR/cost/KERNEL/, each its own section. */
void report_icount_folders(const struct run *r, struct sbuf *b)
{
	char path[700], err[600];
	struct dirent **names = NULL;
	snprintf(path, sizeof path, "%s/cost", r->dir);
	int n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		struct run sub;
		char d[1100];
		snprintf(d, sizeof d, "%s/%s", path, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && run_load(&sub, d, err, sizeof err) == 0) {
			run_check(&sub);
			if (icount_run(&sub)) {
				report_icount(&sub, b);
				sb_printf(b, "(From the run folder cost/%s/, made by `scripts/cost.sh`.)\n\n",
					  names[i]->d_name);
			}
			run_free(&sub);
		}
		free(names[i]);
	}
	free(names);
}

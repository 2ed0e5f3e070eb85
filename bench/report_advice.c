/* bench/report_advice.c: the cipher advice of report.md, derived from this
 * run's ceiling and measured CPU per byte, and the list of plots. */
#include "bench/report.h"
#include "common/units.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const aeads[] = { "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305" };

/* Server ns/B of the largest native userspace bulk row of a cipher, or -1. */
static double measured_ns(const struct run *r, const char *cipher, uint64_t *size)
{
	const struct row *best = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->nginx || w->emulated || !w->ok || w->sc.kind != SCEN_BULK ||
		    strcmp(w->sc.layer, "user") || strcmp(w->sc.cipher, cipher) || w->ns_per_byte <= 0)
			continue;
		if (!best || w->sc.size > best->sc.size)
			best = w;
	}
	if (!best)
		return -1;
	*size = best->sc.size;
	return best->ns_per_byte;
}

void report_advice(const struct run *r, struct sbuf *b)
{
	char t1[32], t2[32], t3[32], sz[24];
	bool aes = env_flag(r, "aes"), clmul = env_flag(r, "pclmulqdq");
	bool vaes = env_flag(r, "vaes") && env_flag(r, "vpclmulqdq");
	double floor_ns[3] = { -1, -1, -1 }, meas[3] = { -1, -1, -1 };
	int cheapest = -1, cheapest_m = -1;
	uint64_t size = 0;

	sb_printf(b, "## Which cipher on this CPU\n\n");
	sb_printf(b, "AES hardware: AES-NI %s, carry-less multiply (PCLMULQDQ, for GCM's GHASH) %s, "
		     "vector AES (VAES + VPCLMULQDQ, several blocks per instruction) %s, AVX-512 %s.\n\n",
		  aes ? "**yes**" : "**no**", clmul ? "yes" : "no", vaes ? "yes" : "no",
		  env_flag(r, "avx512f") ? "yes" : "no");
	for (int i = 0; i < 3; i++) {
		double a = r->have_ceiling ? ceiling_get(&r->ceil, 'a', aeads[i]) : 0;
		floor_ns[i] = a > 0 ? 1e9 / a : -1;
		meas[i] = measured_ns(r, aeads[i], &size);
		if (floor_ns[i] > 0 && (cheapest < 0 || floor_ns[i] < floor_ns[cheapest]))
			cheapest = i;
		if (meas[i] > 0 && (cheapest_m < 0 || meas[i] < meas[cheapest_m]))
			cheapest_m = i;
	}
	if (cheapest >= 0 || cheapest_m >= 0)
		sb_printf(b, "| AEAD | floor ns/B (`openssl speed`, 16 KiB) | vs cheapest | server ns/B measured | vs cheapest |\n"
			     "|---|---:|---:|---:|---:|\n");
	for (int i = 0; i < 3; i++) {
		if (floor_ns[i] < 0 && meas[i] < 0)
			continue;
		/* each figure in its own buffer: all are formatted before sb_printf reads them */
		sb_printf(b, "| %s | %s | %s | %s | %s |\n", aeads[i], fnum(t1, sizeof t1, floor_ns[i], 3),
			  cheapest >= 0 ? fratio(t2, sizeof t2, floor_ns[i], floor_ns[cheapest]) : "—",
			  fnum(sz, sizeof sz, meas[i], 3),
			  cheapest_m >= 0 ? fratio(t3, sizeof t3, meas[i], meas[cheapest_m]) : "—");
	}
	sb_printf(b, "\n");
	if (cheapest < 0 && cheapest_m < 0) {
		sb_printf(b, "No AEAD was measured in this run: add a `bulk` line to the suite for advice.\n\n");
		return;
	}
	int pick = cheapest >= 0 ? cheapest : cheapest_m;
	sb_printf(b, "- **Cheapest per byte here: %s**", aeads[pick]);
	if (cheapest >= 0 && cheapest_m >= 0 && cheapest != cheapest_m)
		sb_printf(b, " by the crypto floor, %s by the server's measured CPU per byte (the AEAD is only "
			     "part of that cost, and small differences are within the noise)", aeads[cheapest_m]);
	sb_printf(b, ".\n");
	if (aes && clmul) {
		double a = floor_ns[0], c = floor_ns[2];
		sb_printf(b, "- AES-GCM runs in hardware on this CPU%s", vaes ? ", several blocks at a time (VAES)" : "");
		if (a > 0 && c > 0)
			sb_printf(b, ": ChaCha20-Poly1305 costs %.1f× AES-128-GCM per byte", c / a);
		sb_printf(b, ". Prefer AES-128-GCM (AES-256-GCM where policy asks for 256-bit keys%s), and keep "
			     "CHACHA20-POLY1305 enabled after them for clients without AES hardware (older phones), "
			     "which pick it themselves when they put it first.\n",
			  floor_ns[1] > 0 && a > 0 ? "" : "");
		if (floor_ns[1] > 0 && a > 0)
			sb_printf(b, "- AES-256-GCM costs %.0f%% more per byte than AES-128-GCM here (14 rounds instead of 10).\n",
				  100 * (floor_ns[1] / a - 1));
	} else {
		sb_printf(b, "- This CPU has no AES-NI%s: AES is done in software, constant-time and slow, "
			     "while ChaCha20-Poly1305 needs only additions, rotations and XORs. Prefer "
			     "CHACHA20-POLY1305 for every client that offers it.\n",
			  aes ? " carry-less multiply" : "");
	}
	if (meas[0] > 0 && floor_ns[0] > 0) {
		units_fmt_size(size, sz, sizeof sz);
		sb_printf(b, "- The cipher is not the whole bill: at %s responses AES-128-GCM's floor is %.0f%% of "
			     "the server's CPU per byte, so the record layer and copies matter as much as the cipher.\n",
			  sz, 100 * floor_ns[0] / meas[0]);
	}
	sb_printf(b, "\n");
}

void report_plots(const struct run *r, struct sbuf *b)
{
	static const struct { const char *name, *what; } plots[] = {
		{ "handshakes", "handshakes/s against concurrency" },
		{ "throughput", "throughput against response size, by cipher and record layer" },
		{ "cpu_per_byte", "server CPU per byte by cipher and record layer, at the largest size" },
		{ "ceiling_ratio", "each scenario's ratio to the crypto ceiling" },
		{ "icount_per_byte", "server instructions per byte by cipher, size and record layer, "
				     "user and kernel stacked (QEMU icount)" },
	};
	char path[1200];
	struct stat st;
	bool any = false;
	for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
		snprintf(path, sizeof path, "%s/plots/%s.svg", r->dir, plots[i].name);
		if (stat(path, &st))
			continue;
		if (!any)
			sb_printf(b, "## Plots\n\nDrawn by gnuplot from this folder's JSON (`scripts/plot.sh DIR` "
				     "draws them again; SVG and PNG).\n\n");
		any = true;
		sb_printf(b, "- %s: ![%s](plots/%s.svg)\n", plots[i].what, plots[i].name, plots[i].name);
	}
	if (any)
		sb_printf(b, "\n");
}

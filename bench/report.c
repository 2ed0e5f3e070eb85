/* bench/report.c: report.md, rendered from a run folder's JSON alone.
 *
 * Tables carry figures and ratio columns; under each table a few sentences
 * computed from the same figures say what dominates the cost and why kTLS
 * helps or not; the cipher advice is derived from the measured ceiling and
 * the measured CPU per byte. Figures from the VM are labelled on every row.
 */
#include "bench/bench.h"
#include "bench/report.h"
#include "bench/icount.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMULATED "emulated (TCG): correctness only, not performance"

static const char *env_str(const struct run *r, const char *key, const char *dflt)
{
	const cJSON *v = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

bool env_flag(const struct run *r, const char *flag)
{
	const cJSON *f = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "cpu_flags") : NULL;
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, flag));
}

static bool host_ktls(const struct run *r)
{
	const cJSON *v = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "host_ktls") : NULL;
	return cJSON_IsTrue(v);
}

static size_t count_kind(const struct run *r, enum scen_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->rows[i].sc.kind == k;
	return n;
}

static bool any_ktls(const struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].emulated || strcmp(r->rows[i].sc.layer, "ktls") == 0)
			return true;
	return false;
}

/* The run did not reach its end: interrupted, or still running (or killed). */
static void partial_banner(const struct run *r, struct sbuf *b)
{
	const char *state = env_str(r, "run_state", NULL);
	double planned = util_json_num(r->env, "runs_planned", -1);
	char t[32];
	if (!state || strcmp(state, "complete") == 0)
		return; /* complete, or a run from before run_state was recorded */
	sb_printf(b, "> **This run is partial**: %s after %zu of %s scenario runs. The tables below "
		     "cover only those that finished; ratios and advice may miss rows.\n\n",
		  strcmp(state, "interrupted") == 0 ? "it was interrupted (Ctrl-C or SIGTERM)"
						    : "it did not record its end (killed, or still running)",
		  r->n, planned >= 0 ? fnum(t, sizeof t, planned, 0) : "?");
}

long report_rcvbuf_fixed(const struct run *r)
{
	const cJSON *tb = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "tcp_buffers") : NULL;
	const cJSON *tune = tb ? cJSON_GetObjectItemCaseSensitive(tb, "net.ipv4.tcp_moderate_rcvbuf") : NULL;
	const cJSON *rmem = tb ? cJSON_GetObjectItemCaseSensitive(tb, "net.ipv4.tcp_rmem") : NULL;
	long min, def;

	if (!cJSON_IsString(tune))
		return -1;
	if (strcmp(tune->valuestring, "0"))
		return 0;
	/* tcp_rmem is "min default max": with autotuning off, a socket keeps
	 * the default */
	if (cJSON_IsString(rmem) && sscanf(rmem->valuestring, "%ld %ld", &min, &def) == 2 && def > 0)
		return def;
	return 1;
}

static void header(const struct run *r, struct sbuf *b)
{
	char tmp[64];
	size_t bad = 0;
	sb_printf(b, "# ktls-bench report: %s, %s\n\n", env_str(r, "hostname", "?"), env_str(r, "date", "?"));
	partial_banner(r, b);
	for (size_t i = 0; i < r->n; i++)
		bad += r->rows[i].check_failed != 0;
	if (bad)
		sb_printf(b, "> **%zu of %zu scenario runs fail the consistency checks** (marked ✗): a figure "
			     "breaks a physical bound, so something measured or recorded it wrong. Do not quote "
			     "those rows; see *Consistency checks* for what failed.\n\n", bad, r->n);
	if (r->env && !host_ktls(r) && any_ktls(r)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->env, "ktls_probe");
		const cJSON *e = p ? cJSON_GetObjectItemCaseSensitive(p, "ulp_error") : NULL;
		sb_printf(b,
			  "> **This kernel (%s) has no kTLS**%s%s. Fix: load the module with `modprobe tls`, "
			  "or boot a kernel built with `CONFIG_TLS=m` (every Debian kernel is); check with "
			  "`bin/ktls probe`. Until then the kTLS scenarios of this run ran inside a QEMU VM "
			  "booting a Debian kernel (`scripts/vm.sh`, %s), and every figure from there is labelled "
			  "**" EMULATED "**.\n\n",
			  env_str(r, "kernel", "?"), cJSON_IsString(e) ? ": " : "",
			  cJSON_IsString(e) ? e->valuestring : "", env_str(r, "vm_kernel", "bookworm"));
	}
	size_t nat = 0, dis = 0;
	double worst = 0;
	for (size_t i = 0; i < r->n; i++) {
		double d = report_disturbance(&r->rows[i]);
		/* (an instruction count is not disturbed by a shared CPU: the
		 * client shares the guest's one vCPU by design) */
		if (r->rows[i].emulated || d < 0 || icount_run(r))
			continue;
		nat++;
		if (d > REPORT_DISTURBED)
			dis++;
		if (d > worst)
			worst = d;
	}
	if (dis)
		sb_printf(b, "> **%zu of %zu runs shared the server's CPU with other work** (other processes, "
			     "interrupts, or the hypervisor) for more than %.0f%% of their measured time, up to %.0f%%: "
			     "their server got less than a core and their figures are disturbed (rows marked ‡). "
			     "Re-run on an idle machine before trusting them.\n\n",
			  dis, nat, 100 * REPORT_DISTURBED, 100 * worst);
	sb_printf(b, "## The machine\n\n| | |\n|---|---|\n");
	sb_printf(b, "| CPU | %s, %s cores online |\n", env_str(r, "cpu_model", "?"),
		  fnum(tmp, sizeof tmp, util_json_num(r->env, "cores", -1), 0));
	sb_printf(b, "| AES-NI / PCLMULQDQ / VAES / VPCLMULQDQ / AVX-512F / SHA-NI | %s / %s / %s / %s / %s / %s |\n",
		  env_flag(r, "aes") ? "yes" : "no", env_flag(r, "pclmulqdq") ? "yes" : "no",
		  env_flag(r, "vaes") ? "yes" : "no", env_flag(r, "vpclmulqdq") ? "yes" : "no",
		  env_flag(r, "avx512f") ? "yes" : "no", env_flag(r, "sha_ni") ? "yes" : "no");
	sb_printf(b, "| kernel | %s (kTLS: %s) |\n", env_str(r, "kernel", "?"),
		  host_ktls(r) ? "yes, all runs native" : any_ktls(r) ? "no, kTLS scenarios in the VM"
								: "no; this run has no kTLS scenario");
	const cJSON *tb = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "tcp_buffers") : NULL;
	const cJSON *rmem = tb ? cJSON_GetObjectItemCaseSensitive(tb, "net.ipv4.tcp_rmem") : NULL;
	const cJSON *wmem = tb ? cJSON_GetObjectItemCaseSensitive(tb, "net.ipv4.tcp_wmem") : NULL;
	long fixed = report_rcvbuf_fixed(r);
	if (cJSON_IsString(rmem) && cJSON_IsString(wmem))
		sb_printf(b, "| TCP buffers (min default max) | receive %s, send %s%s |\n", rmem->valuestring,
			  wmem->valuestring,
			  fixed < 0    ? ""
			  : fixed > 0 ? "; receive autotuning off (tcp_moderate_rcvbuf 0)"
				      : "; receive autotuning on");
	sb_printf(b, "| OpenSSL | %s |\n| liburing | %s |\n", env_str(r, "openssl_library", "?"),
		  env_str(r, "liburing", "?"));
	if (env_str(r, "nginx", NULL))
		sb_printf(b, "| peer | %s |\n", env_str(r, "nginx", ""));
	if (report_is_fleet(r))
		sb_printf(b, "| CPUs | server on CPU %.0f; clients on other hosts (see *Client fleet*) |\n",
			  util_json_num(r->env, "cpu_server", 0));
	else
		sb_printf(b, "| CPUs | server on CPU %.0f, client on CPU %.0f |\n", util_json_num(r->env, "cpu_server", 0),
			  util_json_num(r->env, "cpu_client", 1));
	sb_printf(b, "| cycles per byte | %s |\n",
		  util_json_num(r->env, "perf_cycles", 0) ? "from `perf stat -e cycles` on the server"
							    : "not available (`perf stat -e cycles` unsupported here)");
	size_t failed = 0, vm = 0;
	for (size_t i = 0; i < r->n; i++) {
		failed += !r->rows[i].ok;
		vm += r->rows[i].emulated;
	}
	sb_printf(b, "| run | suite %s: %zu scenario runs (%zu in the VM), %zu failed |\n", env_str(r, "suite", "?"),
		  r->n, vm, failed);
	sb_printf(b, "| command | `%s` |\n", env_str(r, "command", "?"));
	if (env_str(r, "commit", NULL))
		sb_printf(b, "| code | ktls-bench %s, commit %s |\n\n", env_str(r, "version", "?"),
			  env_str(r, "commit", "?"));
	else
		sb_printf(b, "| code | not recorded (this run predates ktls-bench --version) |\n\n");
}

/* Which rows break a physical bound, and how (bench/checks.c). */
static void report_checks(const struct run *r, struct sbuf *b)
{
	size_t bad = 0, checked = 0;
	for (size_t i = 0; i < r->n; i++) {
		bad += r->rows[i].check_failed != 0;
		checked += r->rows[i].ok;
	}
	sb_printf(b, "## Consistency checks\n\n");
	if (!bad && icount_run(r)) {
		sb_printf(b, "All %zu scenario runs that counted something pass the checks on instruction "
			     "counts: user + kernel = total, no row counts fewer instructions per byte than "
			     "the AEAD alone or per handshake than its signature and key exchange (`openssl "
			     "speed` in the same guest, where it ran), every kTLS row's kernel counters grew "
			     "and no userspace row's did, and the counts of client and server add up.\n\n",
			  checked);
		return;
	}
	if (!bad) {
		sb_printf(b, "All %zu scenario runs that measured something pass the checks against physical "
			     "bounds: no process used more CPU than its threads had time, no CPU was busier than "
			     "100%%, no row spent less CPU per byte than the AEAD alone (`openssl speed`) or per "
			     "handshake than its signature and key exchange, no rate beats one core's AEAD "
			     "ceiling, each stated rate times its cost per unit equals the server's CPU share, "
			     "latency percentiles are in order, and the counts of client and server add up.\n\n",
			  checked);
		return;
	}
	sb_printf(b, "%zu of the %zu scenario runs that measured something break a physical bound "
		     "(marked ✗ in the tables): their figures cannot be right and must not be quoted.\n\n"
		     "| scenario | peer | what fails |\n|---|---|---|\n", bad, checked);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->check_failed)
			sb_printf(b, "| %s%s | %s | %s |\n", w->sc.id, w->emulated ? " (VM)" : "",
				  w->nginx ? "nginx" : "ktls-server", w->check_why);
	}
	sb_printf(b, "\n");
}

static void ceiling_table(const struct run *r, struct sbuf *b)
{
	char t1[64], t2[64];
	if (!r->have_ceiling) {
		sb_printf(b, "## Crypto ceiling\n\nNot measured in this run (`--no-ceiling`, or `openssl speed` failed): ratio columns show —.\n\n");
		return;
	}
	sb_printf(b, "## Crypto ceiling: `openssl speed`, one core, this run\n\n"
		     "What the server cannot beat on one core. Each measured row below is divided by it.\n\n"
		     "| operation | rate | cost per operation |\n|---|---:|---:|\n");
	for (size_t i = 0; i < r->ceil.n_sign; i++)
		sb_printf(b, "| %s sign | %s /s | %s µs |\n", r->ceil.sign[i].name,
			  fnum(t1, sizeof t1, r->ceil.sign[i].per_s, 0), fnum(t2, sizeof t2, 1e6 / r->ceil.sign[i].per_s, 1));
	for (size_t i = 0; i < r->ceil.n_kex; i++)
		sb_printf(b, "| %s derive (ECDH) | %s /s | %s µs |\n", r->ceil.kex[i].name,
			  fnum(t1, sizeof t1, r->ceil.kex[i].per_s, 0), fnum(t2, sizeof t2, 1e6 / r->ceil.kex[i].per_s, 1));
	for (size_t i = 0; i < r->ceil.n_aead; i++)
		sb_printf(b, "| %s, 16 KiB records | %s MB/s | %s ns/B |\n", r->ceil.aead[i].name,
			  fnum(t1, sizeof t1, r->ceil.aead[i].per_s / 1e6, 0),
			  fnum(t2, sizeof t2, 1e9 / r->ceil.aead[i].per_s, 3));
	sb_printf(b, "\nA full handshake costs the server one signature plus one key-share generation and one "
		     "derive (counted as two ECDH operations); a resumed TLS 1.3 handshake only the key exchange; a "
		     "resumed TLS 1.2 handshake no public-key operation at all.\n\n");
}

void report_failures(const struct run *r, struct sbuf *b)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += !r->rows[i].ok;
	if (!n)
		return;
	sb_printf(b, "## Scenarios that failed\n\n| scenario | peer | error |\n|---|---|---|\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (!w->ok)
			sb_printf(b, "| %s%s | %s | %s |\n", w->sc.id, w->emulated ? " (VM)" : "",
				  w->nginx ? "nginx" : "ktls-server", w->error[0] ? w->error : "unknown");
	}
	sb_printf(b, "\n");
}

static void how_to_read(struct sbuf *b)
{
	sb_printf(b,
		"## How to read the ratios\n\n"
		"- **ratio to ceiling**: the crypto floor divided by what the server really spent, per unit of "
		"work (µs of server CPU per handshake, ns of server CPU per byte). 1.00 would mean the server did "
		"nothing but the cryptography; 0.25 means crypto is a quarter of its CPU and the rest is "
		"protocol, memory copies, system calls and TCP.\n"
		"- **ours / nginx**: ktls-server's server CPU per unit of work divided by nginx's, same client, "
		"same scenario, same run: below 1.00 ours is cheaper.\n"
		"- **kTLS / user**: server CPU per byte with the kernel record layer divided by the userspace one, "
		"measured in the same place.\n"
		"- **client**: `saturated` when the load generator used its whole core: the server's figures are "
		"then a lower bound on what it can do.\n"
		"- Server CPU is read from `/proc/<pid>/stat` over the client's run, the same way for ktls-server "
		"and nginx; the rates are the client's. Timings on a shared or virtual machine are noisy: "
		"compare the ratios of one run, not absolute numbers across machines.\n\n");
}

int report_write(const struct run *r, const char *path, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	header(r, &b);
	if (icount_run(r)) {
		/* --clock instructions: every CPU figure is a count, no timing is shown */
		report_checks(r, &b);
		report_icount(r, &b);
		report_plots(r, &b);
		report_failures(r, &b);
		goto write;
	}
	report_network(r, &b);
	report_checks(r, &b);
	ceiling_table(r, &b);
	if (count_kind(r, SCEN_HANDSHAKE)) {
		report_handshakes(r, &b);
		report_openssl_paths(r, &b);
	}
	if (count_kind(r, SCEN_BULK))
		report_bytes(r, &b, SCEN_BULK);
	if (count_kind(r, SCEN_FILE))
		report_bytes(r, &b, SCEN_FILE);
	if (count_kind(r, SCEN_HYPERFINE))
		report_hyperfine(r, &b);
	report_fleet(r, &b);
	report_icount_folders(r, &b);
	report_advice(r, &b);
	report_plots(r, &b);
	how_to_read(&b);
	report_failures(r, &b);
write:
	if (b.oom) {
		free(b.buf);
		snprintf(err, errlen, "out of memory writing the report");
		return -ENOMEM;
	}
	int rc = util_write_file(path, b.buf ? b.buf : "", b.len);
	free(b.buf);
	if (rc)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

/* bench/report_tables.c: the handshake, bulk/file and hyperfine tables of
 * report.md, each followed by sentences computed from its figures. */
#include "bench/report.h"
#include "common/units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EMULATED "emulated (TCG): correctness only, not performance"

const struct row *report_peer(const struct run *r, const struct row *w)
{
	/* a stock-OpenSSL row shares the nginx row of its shims twin */
	struct scenario twin = w->sc;
	twin.stock = false;
	scenario_make_id(&twin);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *y = &r->rows[i];
		if (y->nginx && !w->nginx && y->emulated == w->emulated && strcmp(y->sc.id, twin.id) == 0)
			return y;
	}
	return NULL;
}

static const char *tlsname(const struct scenario *sc)
{
	return sc->tls == 12 ? "1.2" : "1.3";
}

static const char *client_flag(const struct row *w)
{
	if (!w->ok)
		return "failed";
	if (w->mismatch[0])
		return w->mismatch;
	if (w->client_saturated)
		return "saturated";
	if (w->client_errors) {
		static _Thread_local char buf[40];
		snprintf(buf, sizeof buf, "%ld errors", w->client_errors);
		return buf;
	}
	return "ok";
}

/* Server CPU over the client's run, as a share of one core. */
static const char *busy(char *buf, size_t len, const struct row *w)
{
	double b = row_server_share(w);
	if (b < 0)
		return "—";
	snprintf(buf, len, "%.0f%%", 100 * b);
	return buf;
}

/* A handshake rate measures the server only when the server had no idle
 * time: below this share of its core, its CPU per handshake also pays for
 * idling and being woken up again, which a saturated server does not. */
#define HS_SATURATED 0.90

/* The server's busy share per core it had: its threads, or its CPUs when fewer. */
static double busy_share(const struct row *w)
{
	double b = w ? row_server_share(w) : -1;
	unsigned n = w ? (w->server_threads < w->server_cpus ? w->server_threads : w->server_cpus) : 1;
	return b < 0 ? b : b / (n ? n : 1);
}

bool report_unsaturated(const struct row *w)
{
	double b = busy_share(w);
	return b >= 0 && b < HS_SATURATED;
}

bool report_disturbed(const struct row *w)
{
	return report_disturbance(w) > REPORT_DISTURBED;
}

/* Share of the measured time the server's CPU spent on other work (other
 * processes, interrupts, the hypervisor), -1 when unknown: over the window
 * the samples were taken in, so that it cannot pass 100%. */
double report_disturbance(const struct row *w)
{
	return w ? row_other_share(w) : -1;
}

/* "yes", "no†", with nginx's own share when it ran too, and "‡" when the
 * server's CPU was shared with other work. */
static const char *saturation(char *buf, size_t len, const struct row *w, const struct row *ng, bool *flagged,
			      bool *disturbed)
{
	double a = busy_share(w), n = busy_share(ng);
	double o = report_disturbance(w), on = report_disturbance(ng);
	bool sat = a >= HS_SATURATED && (!ng || n < 0 || n >= HS_SATURATED);
	bool dis = o > REPORT_DISTURBED || on > REPORT_DISTURBED;
	size_t k;

	if (a < 0)
		return "—";
	if (!sat)
		*flagged = true;
	if (n >= 0)
		k = (size_t)snprintf(buf, len, "%s (nginx %.0f%%)", sat ? "yes" : "no†", 100 * n);
	else
		k = (size_t)snprintf(buf, len, "%s", sat ? "yes" : "no†");
	if (dis && k < len) {
		*disturbed = true;
		snprintf(buf + k, len - k, ", CPU shared‡ %.0f%%", 100 * (o > on ? o : on));
	}
	return buf;
}

/* "64 KiB" */
static const char *hsize(char *buf, size_t len, uint64_t b)
{
	return units_fmt_size(b, buf, len);
}

/* --- handshakes --------------------------------------------------------------------- */
static bool same_hs_group(const struct scenario *a, const struct scenario *b)
{
	return a->tls == b->tls && a->resume == b->resume && strcmp(a->cert, b->cert) == 0 &&
	       strcmp(a->group, b->group) == 0 && strcmp(a->cipher, b->cipher) == 0;
}

/* The row with the most handshakes/s among those of w's group (ours, ok). */
static const struct row *best_of_group(const struct run *r, const struct scenario *sc)
{
	const struct row *best = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *y = &r->rows[i];
		if (y->nginx || y->sc.stock || !y->ok || y->sc.kind != SCEN_HANDSHAKE || !same_hs_group(&y->sc, sc))
			continue;
		if (!best || y->handshakes_per_s > best->handshakes_per_s)
			best = y;
	}
	return best;
}

static void hs_sentences(const struct run *r, struct sbuf *b)
{
	char t1[32], t2[32], t3[32];
	size_t said = 0;
	bool explained = false;
	for (size_t i = 0; i < r->n && said < 12; i++) {
		const struct row *w = &r->rows[i];
		if (w->nginx || w->sc.stock || w->sc.kind != SCEN_HANDSHAKE)
			continue; /* stock-OpenSSL rows: report_openssl_paths() */
		const struct row *best = best_of_group(r, &w->sc);
		if (best != w)
			continue; /* one sentence per group, at its best concurrency */
		said++;
		const char *what = "";
		double floor_us = r->have_ceiling ? ceiling_handshake_us(&r->ceil, &w->sc, &what) : 0;
		sb_printf(b, "- **TLS %s, %s, %s, %s**, best at %u connection%s: %s handshakes/s, %s µs of server CPU each",
			  tlsname(&w->sc), w->sc.cert, w->sc.group, w->sc.resume ? "resumed" : "full", w->sc.conns,
			  w->sc.conns == 1 ? "" : "s",
			  fnum(t1, sizeof t1, w->handshakes_per_s, 0), fnum(t2, sizeof t2, w->us_per_hs, 0));
		if (floor_us > 0 && w->us_per_hs > 0) {
			double sign = w->sc.resume ? 0 : 1e6 / ceiling_get(&r->ceil, 's', w->sc.cert);
			double kex = floor_us - sign;
			sb_printf(b, ". The crypto floor is %s µs (%s), %.0f%% of the server's CPU: ",
				  fnum(t3, sizeof t3, floor_us, 0), what, 100 * floor_us / w->us_per_hs);
			if (sign > kex)
				sb_printf(b, "the %s signature dominates the crypto (%.0f µs of it)", w->sc.cert, sign);
			else if (sign > 0)
				sb_printf(b, "the key exchange weighs more than the %s signature (%.0f vs %.0f µs)",
					  w->sc.cert, kex, sign);
			else
				sb_printf(b, "resumption leaves only the key exchange");
			double rest = w->us_per_hs - floor_us > 0 ? w->us_per_hs - floor_us : 0;
			if (!explained)
				sb_printf(b, "; the remaining %.0f µs are OpenSSL's handshake machinery (transcript hashes, "
					     "key schedule, certificate and record handling), memory, and the system calls of "
					     "accepting and closing a connection", rest);
			else
				sb_printf(b, "; the other %.0f µs are protocol, memory and system calls", rest);
			explained = true;
		} else if (w->sc.resume && w->sc.tls == 12) {
			sb_printf(b, ". A TLS 1.2 resumption has no public-key crypto at all: what is left is "
				     "symmetric crypto, protocol and system calls, which is why it is the cheapest");
		}
		const struct row *ng = report_peer(r, w);
		if (ng && ng->ok && ng->us_per_hs > 0)
			sb_printf(b, ". nginx spends %s µs: ours is %s of nginx's CPU per handshake",
				  fnum(t1, sizeof t1, ng->us_per_hs, 0),
				  fratio(t2, sizeof t2, w->us_per_hs, ng->us_per_hs));
		if (w->client_saturated)
			sb_printf(b, ". The client used its whole core: the rate is a lower bound for the server");
		if (busy_share(w) >= 0 && busy_share(w) < HS_SATURATED)
			sb_printf(b, ". The server was busy only %.0f%% of the time (†): a saturated server spends less "
				     "per handshake", 100 * busy_share(w));
		sb_printf(b, ".\n");
		/* resumed vs full of the same kind */
		if (w->sc.resume) {
			struct scenario full = w->sc;
			full.resume = false;
			const struct row *f = best_of_group(r, &full);
			if (f && f->us_per_hs > 0 && w->us_per_hs > 0 && w->us_per_hs < 0.95 * f->us_per_hs)
				sb_printf(b, "  Resumption cuts the server's CPU per handshake from %s to %s µs (%s): "
					     "no certificate is sent and nothing is signed.\n",
					  fnum(t1, sizeof t1, f->us_per_hs, 0), fnum(t2, sizeof t2, w->us_per_hs, 0),
					  fratio(t3, sizeof t3, w->us_per_hs, f->us_per_hs));
			else if (f && f->us_per_hs > 0 && w->us_per_hs > 0)
				sb_printf(b, "  Resumption hardly changes the server's CPU per handshake here (from %s to "
					     "%s µs, %s): the certificate and signature it skips cost about what it adds "
					     "(decrypting the offered ticket, checking its binder, issuing new tickets)%s.\n",
					  fnum(t1, sizeof t1, f->us_per_hs, 0), fnum(t2, sizeof t2, w->us_per_hs, 0),
					  fratio(t3, sizeof t3, w->us_per_hs, f->us_per_hs),
					  w->sc.tls == 13 ? ", and the key exchange is still done" : "");
		}
	}
	double ec = ceiling_get(&r->ceil, 's', "ecdsa-p256"), rsa = ceiling_get(&r->ceil, 's', "rsa-2048");
	if (ec > 0 && rsa > 0)
		sb_printf(b, "- One RSA-2048 signature costs %.0f µs here, an ECDSA P-256 signature %.0f µs (%.1f× "
			     "less): with RSA certificates the signature dominates every full handshake.\n",
			  1e6 / rsa, 1e6 / ec, ec / rsa);
	sb_printf(b, "- kTLS does not change handshake cost: the handshake always runs in userspace "
		     "(OpenSSL); the kernel takes over only the record layer after it. These rows run "
		     "ktls-server with its userspace record layer.\n\n");
}

void report_handshakes(const struct run *r, struct sbuf *b)
{
	char c[12][64] = { { 0 } };
	sb_printf(b, "## Handshakes\n\nServer CPU per handshake against the crypto floor (one signature + key "
		     "exchange, `openssl speed`), swept over concurrency and server threads (each pinned to "
		     "its own core, %s). Server CPU is a share "
		     "of one core.\n\n", report_is_fleet(r) ? "the clients on other hosts"
							: "the client on another while the host has one free");
	sb_printf(b, "| TLS | cert | group | handshake | threads | conns | handshakes/s | server CPU | server µs/hs | crypto µs/hs "
		     "| ratio to ceiling | resumed | p99 ms | nginx hs/s | nginx µs/hs | ours/nginx | client | saturated |\n"
		     "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
	bool flagged = false, disturbed = false;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->nginx || w->sc.kind != SCEN_HANDSHAKE)
			continue;
		const char *what;
		double floor_us = r->have_ceiling ? ceiling_handshake_us(&r->ceil, &w->sc, &what) : 0;
		const struct row *ng = report_peer(r, w);
		double res = w->handshakes > 0 ? 100 * w->resumed / w->handshakes : -1;
		sb_printf(b, "| %s | %s | %s | %s | %u | %u | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s |\n",
			  tlsname(&w->sc), w->sc.cert, w->sc.group,
			  w->sc.stock ? (w->sc.resume ? "resumed, stock OpenSSL" : "full, stock OpenSSL")
				      : (w->sc.resume ? "resumed" : "full"),
			  scenario_threads(&w->sc), w->sc.conns,
			  fnum(c[0], 40, w->ok ? w->handshakes_per_s : -1, 0), busy(c[9], 40, w),
			  fnum(c[1], 40, w->ok ? w->us_per_hs : -1, 0),
			  floor_us > 0 ? fnum(c[2], 40, floor_us, 0) : "—",
			  fratio(c[3], 40, floor_us, w->ok ? w->us_per_hs : -1),
			  res >= 0 ? (snprintf(c[4], 40, "%.0f%%", res), c[4]) : "—",
			  fnum(c[5], 40, w->ok && w->p99_us >= 0 ? w->p99_us / 1000 : -1, 2),
			  ng ? fnum(c[6], 40, ng->ok ? ng->handshakes_per_s : -1, 0) : "—",
			  ng ? fnum(c[7], 40, ng->ok ? ng->us_per_hs : -1, 0) : "—",
			  ng ? fratio(c[8], 40, w->us_per_hs, ng->ok ? ng->us_per_hs : -1) : "—",
			  client_flag(w), saturation(c[10], 64, w, ng, &flagged, &disturbed),
			  w->check_failed || (ng && ng->check_failed) ? " ✗" : "");
	}
	sb_printf(b, "\n");
	if (flagged)
		sb_printf(b, "† The server (ours, or nginx in brackets) was busy less than %.0f%% of the measured "
			     "time: something else set the pace (one connection in flight waits for each round "
			     "trip; otherwise the client). Its CPU per handshake then includes the cost of going "
			     "idle and being woken up, which a saturated server does not pay, so such rows "
			     "overstate the cost per handshake, for nginx too. Compare servers on rows that say "
			     "yes.\n\n", 100 * HS_SATURATED);
	if (disturbed)
		sb_printf(b, "‡ Something else used the server's CPU (ours or nginx's run) for more than %.0f%% "
			     "of the measured time: other processes, interrupts, or the hypervisor giving the core "
			     "to another machine. The server then had less than a core and its figures are "
			     "disturbed: re-run those rows on an idle machine.\n\n", 100 * REPORT_DISTURBED);
	hs_sentences(r, b);
}

/* --- bulk and file -------------------------------------------------------------------- */
static void bytes_row(const struct run *r, struct sbuf *b, const struct row *w)
{
	char c[14][40] = { { 0 } };
	double aead = r->have_ceiling ? ceiling_get(&r->ceil, 'a', w->sc.cipher) : 0;
	double floor_ns = aead > 0 ? 1e9 / aead : -1;
	const struct row *ng = report_peer(r, w);
	const struct row *user = strcmp(w->sc.layer, "ktls") == 0 ? run_find_layer(r, w, "user") : NULL;
	char sz[24];
	hsize(sz, sizeof sz, w->sc.size);
	double ns = w->ok ? w->ns_per_byte : -1;
	sb_printf(b, "| %s | %s | %s | %s | %u | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s |",
		  tlsname(&w->sc), w->sc.cipher, w->sc.layer, sz, w->sc.conns,
		  fnum(c[0], 40, w->ok ? w->mb_per_s : -1, 1), busy(c[9], 40, w), fnum(c[1], 40, ns, 3),
		  fnum(c[2], 40, w->ok ? w->cycles_per_byte : -1, 2),
		  w->emulated ? "—" : fnum(c[3], 40, floor_ns, 3),
		  w->emulated ? "—" : fratio(c[4], 40, floor_ns, ns),
		  user ? fratio(c[5], 40, ns, user->ok ? user->ns_per_byte : -1) : "—",
		  ng ? fnum(c[6], 40, ng->ok ? ng->mb_per_s : -1, 1) : "—",
		  ng ? fnum(c[7], 40, ng->ok ? ng->ns_per_byte : -1, 3) : "—",
		  ng ? fratio(c[8], 40, ns, ng->ok ? ng->ns_per_byte : -1) : "—",
		  client_flag(w), w->check_failed || (ng && ng->check_failed) ? " ✗" : "");
	if (w->emulated)
		sb_printf(b, " VM: " EMULATED " |");
	sb_printf(b, "\n");
}

static void bytes_header(struct sbuf *b, bool vm)
{
	sb_printf(b, "| TLS | cipher | layer | size | conns | MB/s | server CPU | server ns/B | cycles/B | AEAD floor ns/B "
		     "| ratio to ceiling | kTLS/user | nginx MB/s | nginx ns/B | ours/nginx | client |%s\n"
		     "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|%s\n",
		  vm ? " where |" : "", vm ? "---|" : "");
}

/* A VM row: what was verified, never a timing. */
static void vm_header(struct sbuf *b)
{
	sb_printf(b, "| TLS | cipher | layer | size | conns | requests | bytes verified | client errors "
		     "| kTLS offloads | kTLS refusals | result | where |\n"
		     "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
}

static void vm_row(struct sbuf *b, const struct row *w)
{
	char c[6][40], sz[24];
	bool ktls = strcmp(w->sc.layer, "ktls") == 0;
	const char *result = !w->ok ? "failed"
			     : w->client_errors > 0 ? "errors"
			     : ktls && w->ktls_offloads < 1 ? "not offloaded"
			     : "ok";
	hsize(sz, sizeof sz, w->sc.size);
	sb_printf(b, "| %s | %s | %s | %s | %u | %s | %s | %s | %s | %s | %s%s | VM: " EMULATED " |\n",
		  tlsname(&w->sc), w->sc.cipher, w->sc.layer, sz, w->sc.conns,
		  fnum(c[0], 40, w->ok ? w->requests : -1, 0), fnum(c[1], 40, w->ok ? w->bytes : -1, 0),
		  fnum(c[2], 40, w->ok ? (double)w->client_errors : -1, 0),
		  ktls ? fnum(c[3], 40, w->ktls_offloads, 0) : "—",
		  ktls ? fnum(c[4], 40, w->ktls_refusals, 0) : "—", result, w->check_failed ? " ✗" : "");
	(void)c[5];
}

static void bytes_sentences(const struct run *r, struct sbuf *b, enum scen_kind kind)
{
	static const char *const ciphers[] = { "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305" };
	char t1[32], t2[32], t3[32], t4[32];
	bool native_ktls = false, vm_ktls = false, vm_ktls_ok = false, explained = false;
	for (size_t k = 0; k < 3; k++) {
		const struct row *lo = NULL, *hi = NULL;
		for (size_t i = 0; i < r->n; i++) {
			const struct row *w = &r->rows[i];
			if (w->nginx || w->emulated || !w->ok || w->sc.kind != kind ||
			    strcmp(w->sc.layer, "user") || strcmp(w->sc.cipher, ciphers[k]) || w->ns_per_byte <= 0)
				continue;
			if (!lo || w->sc.size < lo->sc.size)
				lo = w;
			if (!hi || w->sc.size > hi->sc.size)
				hi = w;
		}
		if (!hi)
			continue;
		double aead = r->have_ceiling ? ceiling_get(&r->ceil, 'a', ciphers[k]) : 0;
		double fl = aead > 0 ? 1e9 / aead : 0;
		hsize(t3, sizeof t3, hi->sc.size);
		sb_printf(b, "- **%s, userspace record layer**: at %s responses the server spends %s ns per byte",
			  ciphers[k], t3, fnum(t1, sizeof t1, hi->ns_per_byte, 3));
		if (fl > 0 && explained)
			sb_printf(b, "; the AEAD alone needs %s ns/B, %.0f%% of that, the rest is moving the bytes",
				  fnum(t2, sizeof t2, fl, 3), 100 * fl / hi->ns_per_byte);
		else if (fl > 0)
			sb_printf(b, "; the AEAD alone needs %s ns/B, %.0f%% of that. The rest is moving the bytes: %s",
				  fnum(t2, sizeof t2, fl, 3), 100 * fl / hi->ns_per_byte,
				  kind == SCEN_FILE
				  ? "read() copies the file from the page cache into userspace, OpenSSL encrypts it into "
				    "its own buffer and the kernel copies that buffer into the socket (three passes over "
				    "each byte), plus system calls and TCP"
				  : "OpenSSL encrypts into its own buffer and the kernel copies that buffer into the "
				    "socket, so every byte crosses memory at least twice after it is generated, plus "
				    "system calls and TCP");
		if (lo != hi) {
			hsize(t3, sizeof t3, lo->sc.size);
			sb_printf(b, ". At %s responses it is %s ns/B (%.0f× more per byte)%s",
				  t3, fnum(t1, sizeof t1, lo->ns_per_byte, 2), lo->ns_per_byte / hi->ns_per_byte,
				  explained ? "" : ": per-request costs (reading and parsing the request, a system "
						   "call or two and at least one TLS record per response) dominate "
						   "small responses");
		}
		const struct row *ng = report_peer(r, hi);
		if (ng && ng->ok && ng->ns_per_byte > 0)
			sb_printf(b, ". nginx spends %s ns/B on the same responses: ours is %s of nginx's CPU per byte",
				  fnum(t1, sizeof t1, ng->ns_per_byte, 3),
				  fratio(t2, sizeof t2, hi->ns_per_byte, ng->ns_per_byte));
		sb_printf(b, ".\n");
		explained = explained || fl > 0;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->nginx || w->sc.kind != kind || strcmp(w->sc.layer, "ktls"))
			continue;
		if (w->emulated) {
			vm_ktls = true;
			vm_ktls_ok |= w->ok;
			continue;
		}
		const struct row *u = run_find_layer(r, w, "user");
		if (!native_ktls && u && u->ok && w->ok && u->ns_per_byte > 0 && w->ns_per_byte > 0) {
			hsize(t3, sizeof t3, w->sc.size);
			sb_printf(b, "- **kTLS** (%s, %s): %s → %s ns/B, %s of the userspace cost. ", w->sc.cipher, t3,
				  fnum(t1, sizeof t1, u->ns_per_byte, 3), fnum(t2, sizeof t2, w->ns_per_byte, 3),
				  fratio(t4, sizeof t4, w->ns_per_byte, u->ns_per_byte));
			if (w->ns_per_byte < u->ns_per_byte)
				sb_printf(b, "The kernel encrypts while it copies the bytes into the socket buffer: "
					     "one pass over the data instead of two%s.\n",
					  kind == SCEN_FILE ? ", and splice sends page-cache pages without reading "
							      "the file into userspace at all" : "");
			else
				sb_printf(b, "Here kTLS does not help: the AEAD and TCP dominate, and the copy it "
					     "saves is cheap at this size (or the kernel's AEAD implementation is "
					     "slower than OpenSSL's on this CPU).\n");
			native_ktls = true;
		}
	}
	if (vm_ktls && !native_ktls && !vm_ktls_ok)
		sb_printf(b, "- **kTLS** rows ran only in the VM, and failed there: see *Scenarios that failed* "
			     "below for why.\n");
	else if (vm_ktls && !native_ktls)
		sb_printf(b, "- **kTLS** rows ran only in the VM: they show that the kernel record layer delivers "
			     "the same bytes (the client verifies every byte), not what it costs. On a host with "
			     "kTLS, expect it to save one pass over each byte (the kernel encrypts while copying "
			     "into the socket buffer)%s; run `make bench` there to measure it.\n",
			  kind == SCEN_FILE ? " and, for files, the read into userspace (splice)" : "");
	sb_printf(b, "\n");
}

void report_bytes(const struct run *r, struct sbuf *b, enum scen_kind kind)
{
	bool any_vm = false;
	if (kind == SCEN_BULK)
		sb_printf(b, "## Bulk transfer: `GET /bytes/N`\n\nThroughput and server CPU per byte by cipher, "
			     "response size and record layer (`user`: OpenSSL `SSL_write`; `ktls`: the kernel). "
			     "MB/s is 10^6 bytes of response body per second of the client's measured window.\n\n");
	else
		sb_printf(b, "## File serving: `GET /file/NAME`\n\nUserspace reads the file and `SSL_write`s it; "
			     "under kTLS the server `splice`s it from the page cache into the socket.\n\n");
	bool any_host = false;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->sc.kind == kind && !w->nginx) {
			any_vm |= w->emulated;
			any_host |= !w->emulated;
		}
	}
	if (any_host)
		bytes_header(b, false);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->sc.kind == kind && !w->nginx && !w->emulated)
			bytes_row(r, b, w);
	}
	if (any_vm) {
		sb_printf(b, "\n**In the VM — " EMULATED ".** This kernel has no kTLS, so these rows ran in "
			     "QEMU under TCG, where crypto is about 100× slower. They prove the kTLS path works end "
			     "to end (every byte verified by the client, offloads counted by the server); they "
			     "measure nothing, so no timing from the VM is shown.\n\n");
		vm_header(b);
		for (size_t i = 0; i < r->n; i++) {
			const struct row *w = &r->rows[i];
			if (w->sc.kind == kind && !w->nginx && w->emulated)
				vm_row(b, w);
		}
	}
	sb_printf(b, "\n");
	bytes_sentences(r, b, kind);
}

/* --- hyperfine ---------------------------------------------------------------------- */
void report_hyperfine(const struct run *r, struct sbuf *b)
{
	char c[8][40], sz[24];
	sb_printf(b, "## One whole transfer, timed by hyperfine\n\nEach row times `ktls-client get` fetching one "
		     "response over one new connection (handshake included), several runs.\n\n"
		     "| layer | size | mean s | ± s | MB/s | ratio to ceiling | kTLS/user time | timer | where |\n"
		     "|---|---:|---:|---:|---:|---:|---:|---|---|\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		if (w->sc.kind != SCEN_HYPERFINE)
			continue;
		const struct row *u = strcmp(w->sc.layer, "ktls") == 0 ? run_find_layer(r, w, "user") : NULL;
		hsize(sz, sizeof sz, w->sc.size);
		/* No timing from the VM: emulated, it measures nothing. */
		double mean = w->ok && !w->emulated ? w->hf_mean_s : -1;
		double aead = r->have_ceiling && !w->emulated ? ceiling_get(&r->ceil, 'a', w->sc.cipher) : 0;
		double bps = mean > 0 ? (double)w->sc.size / mean : -1;
		sb_printf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s%s |\n", w->sc.layer, sz,
			  w->emulated ? (w->ok ? "ok (timing not shown)" : "failed") : fnum(c[0], 40, mean, 3),
			  fnum(c[1], 40, w->ok && !w->emulated ? w->hf_sd_s : -1, 3),
			  fnum(c[2], 40, bps > 0 ? bps / 1e6 : -1, 1), fratio(c[4], 40, bps, aead),
			  u && !w->emulated ? fratio(c[3], 40, mean, u->ok ? u->hf_mean_s : -1) : "—",
			  w->hf_timer[0] ? w->hf_timer : "—",
			  w->emulated ? "VM: " EMULATED : "host", w->check_failed ? " ✗" : "");
	}
	sb_printf(b, "\nThe ratio to the ceiling compares the whole transfer's rate with the AEAD's alone. "
		     "The hyperfine JSON (`*.hyperfine.json`, `--export-json`) holds every run's time. "
		     "Whole-transfer time includes process start and the handshake; for large sizes it is "
		     "dominated by the record layer.\n\n");
}

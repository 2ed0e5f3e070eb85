/* bench/report_fleet.c: two parts of report.md about where the traffic
 * went: the network path (the interface holding the server's address, its
 * NIC's TLS offload features and the kernel's kTLS Device counters before
 * and after the run: did the NIC do the crypto?), and with --clients the
 * client fleet (per scenario: ranks, hosts, each rank's count and their
 * sum, the busiest rank). Computed from env.json and the client JSON alone. */
#include "bench/report.h"

#include <stdio.h>
#include <string.h>

/* --- loading (called by results.c) ------------------------------------------- */
void fleet_row(struct row *w, const cJSON *c)
{
	const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(c, "ranks");
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(c, "fleet");
	const cJSON *e;
	bool bytes = w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE;
	unsigned i = 0, threads = 0;

	w->ranks = 0;
	w->bottleneck_rank = -1;
	if (!cJSON_IsArray(ranks) || cJSON_GetArraySize(ranks) == 0)
		return;
	w->rank_sum_handshakes = w->rank_sum_requests = w->rank_sum_bytes = 0;
	cJSON_ArrayForEach(e, ranks) {
		double busy = util_json_num(e, "cpu_busy_ratio", 0);
		w->rank_sum_handshakes += util_json_num(e, "handshakes", 0);
		w->rank_sum_requests += util_json_num(e, "requests", 0);
		w->rank_sum_bytes += util_json_num(e, "bytes", 0);
		threads += (unsigned)util_json_num(e, "threads", 1);
		if (i < ROW_RANKS_SHOWN)
			w->rank_count[i] = util_json_num(e, bytes ? "bytes" : "handshakes", 0);
		if (busy >= 0.90)
			w->saturated_ranks++;
		if (w->bottleneck_rank < 0 || busy > w->bottleneck_busy) {
			const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "host");
			w->bottleneck_rank = (int)util_json_num(e, "rank", i);
			w->bottleneck_busy = busy;
			snprintf(w->bottleneck_host, sizeof w->bottleneck_host, "%s",
				 cJSON_IsString(h) ? h->valuestring : "?");
		}
		i++;
	}
	w->ranks = i;
	w->rank_hosts = (unsigned)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fl, "hosts"));
	if (threads)
		w->client_threads = threads; /* the CPU bound of the fleet: every rank's threads */
}

bool report_is_fleet(const struct run *r)
{
	return r->env && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->env, "clients"));
}

/* --- the network path ------------------------------------------------------------ */
static double stat_delta(const cJSON *nif, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(nif, "tls_stat_before");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(nif, "tls_stat_after");
	if (!cJSON_IsObject(a) || !cJSON_IsObject(b))
		return -1;
	double x = util_json_num(a, key, -1), y = util_json_num(b, key, -1);
	return x >= 0 && y >= 0 ? y - x : -1;
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

void report_network(const struct run *r, struct sbuf *b)
{
	const cJSON *nif = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "netif") : NULL;
	const cJSON *feat, *e, *before;
	char sp[32], mt[32], t[32];
	bool vm = false;

	if (!cJSON_IsObject(nif))
		return;
	const char *name = str(nif, "name", NULL), *drv = str(nif, "driver", "unknown");
	sb_printf(b, "## Network path\n\n");
	if (!name) {
		sb_printf(b, "The server listened on %s, which no interface of this machine held when the run "
			     "started: the interface is unknown.\n\n", str(nif, "address", "?"));
		return;
	}
	double speed = util_json_num(nif, "speed_mbps", -1), mtu = util_json_num(nif, "mtu", -1);
	sb_printf(b, "The traffic between the %s and the server (%s) went through **%s**: driver `%s`, link "
		     "speed %s, MTU %s.", report_is_fleet(r) ? "client hosts" : "client",
		  str(nif, "address", "?"), name, drv,
		  speed > 0 ? (snprintf(sp, sizeof sp, "%.0f Mb/s", speed), sp) : "none (no physical link)",
		  mtu > 0 ? fnum(mt, sizeof mt, mtu, 0) : "?");
	feat = cJSON_GetObjectItemCaseSensitive(nif, "tls_features");
	if (cJSON_IsObject(feat) && cJSON_GetArraySize(feat) > 0) {
		sb_printf(b, " Its TLS offload features (`ethtool -k`):");
		int k = 0;
		cJSON_ArrayForEach(e, feat)
			sb_printf(b, "%s `%s: %s`", k++ ? "," : "", e->string,
				  cJSON_IsString(e) ? e->valuestring : "?");
		sb_printf(b, ".");
	}
	sb_printf(b, "\n\n");

	bool soft = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(nif, "software_device"));
	double tx = stat_delta(nif, "TlsTxDevice"), rx = stat_delta(nif, "TlsRxDevice");
	before = cJSON_GetObjectItemCaseSensitive(nif, "tls_stat_before");
	sb_printf(b, "**Did the NIC do the crypto?** ");
	if (soft)
		sb_printf(b, "No. %s is a software device (`%s`) with no crypto engine: loopback and veth (and "
			     "bridges, tunnels) never encrypt TLS records. Wherever this run used kTLS, the kernel "
			     "encrypted in software on the server's CPU.", name, drv);
	else if (tx > 0 || rx > 0)
		sb_printf(b, "Yes. The kernel's counters grew during the run: %s connection%s encrypted by the NIC "
			     "(TlsTxDevice +%.0f), %.0f decrypted by it (TlsRxDevice +%.0f). The server's CPU per "
			     "byte on those rows leaves the AEAD out.", fnum(t, sizeof t, tx > 0 ? tx : 0, 0),
			  tx == 1 ? "" : "s", tx > 0 ? tx : 0, rx > 0 ? rx : 0, rx > 0 ? rx : 0);
	else if (!cJSON_IsObject(before)) {
		for (size_t i = 0; i < r->n; i++)
			vm = vm || r->rows[i].emulated;
		sb_printf(b, "No. This kernel has no kTLS counters (`/proc/net/tls_stat` is absent: no kTLS "
			     "here), so no record was handed to %s to encrypt%s.", name,
			  vm ? "; the kTLS rows ran in the VM, whose traffic never left it" : "");
	} else {
		const char *txf = str(feat, "tls-hw-tx-offload", NULL);
		bool off = !txf || !strncmp(txf, "off", 3);
		sb_printf(b, "No. The kernel's Device counters did not grow during the run (TlsTxDevice and "
			     "TlsRxDevice unchanged): no connection was offloaded to %s%s, so the kernel encrypted in "
			     "software.", name, off ? ", which offers no TLS transmit offload"
					       : " although it lists TLS offload (a cipher or TLS version it does not "
						 "take?)");
	}
	sb_printf(b, "\n\n");
	if (cJSON_IsObject(before)) {
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(nif, "tls_stat_after");
		sb_printf(b, "| `/proc/net/tls_stat` | before | after |\n|---|---:|---:|\n");
		cJSON_ArrayForEach(e, before) {
			if (!strstr(e->string, "Device") && !strstr(e->string, "Sw"))
				continue;
			char a[32], c[32];
			sb_printf(b, "| %s | %s | %s |\n", e->string, fnum(a, sizeof a, e->valuedouble, 0),
				  fnum(c, sizeof c, util_json_num(after, e->string, -1), 0));
		}
		sb_printf(b, "\n");
	}
}

/* --- the client fleet -------------------------------------------------------------- */
void report_fleet(const struct run *r, struct sbuf *b)
{
	const cJSON *cl = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "clients") : NULL;
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(cl, "hosts"), *e;
	const cJSON *not_run = r->env ? cJSON_GetObjectItemCaseSensitive(r->env, "not_run") : NULL;
	char t[64], u[64];
	size_t n = 0;

	if (!report_is_fleet(r))
		return;
	sb_printf(b, "## Client fleet\n\nThe client side ran as `ktls-client-mpi` ranks started by `%s` on %d "
		     "host%s (", str(cl, "mpirun", "mpirun"), cJSON_GetArraySize(hosts),
		  cJSON_GetArraySize(hosts) == 1 ? "" : "s");
	cJSON_ArrayForEach(e, hosts) {
		double s = util_json_num(e, "slots", -1);
		sb_printf(b, "%s%s%s", n++ ? ", " : "", str(e, "host", "?"),
			  s > 0 ? (snprintf(t, sizeof t, ": %.0f slot%s", s, s == 1 ? "" : "s"), t) : "");
	}
	sb_printf(b, "), at most %.0f ranks, one per connection when a scenario has fewer; the server and its "
		     "CPU accounting stayed here, on %s. Each rank runs its share of the connections; the "
		     "ranks start their warm-up together; rank 0 sums their counts, merges their latency "
		     "histograms bucket by bucket and sums their timelines. **Check the busiest rank first**: a "
		     "rank at 90%% of its CPU or more paced its share of the load, and the row's rate is then a "
		     "lower bound for the server (the tables' *client* column says `saturated`).\n\n",
		  util_json_num(cl, "ranks", 0), str(cl, "listen", "?"));
	sb_printf(b, "| scenario | ranks | hosts | each rank | sum = row | busiest rank | its CPU | saturated ranks |\n"
		     "|---|---:|---:|---|---:|---|---:|---:|\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		bool bytes = w->sc.kind == SCEN_BULK || w->sc.kind == SCEN_FILE;
		if (!w->ok || !w->ranks)
			continue;
		sb_printf(b, "| %s%s | %u | %u | ", w->sc.id, w->nginx ? " (nginx)" : "", w->ranks, w->rank_hosts);
		for (unsigned k = 0; k < w->ranks && k < ROW_RANKS_SHOWN; k++)
			sb_printf(b, "%s%s", k ? " + " : "", fnum(t, sizeof t, w->rank_count[k], 0));
		if (w->ranks > ROW_RANKS_SHOWN)
			sb_printf(b, " + …");
		sb_printf(b, " | %s %s%s | %u on %s | %.0f%% | %u |\n",
			  fnum(u, sizeof u, bytes ? w->rank_sum_bytes : w->rank_sum_handshakes, 0),
			  bytes ? "bytes" : "handshakes",
			  (bytes ? w->rank_sum_bytes == w->bytes : w->rank_sum_handshakes == w->handshakes) ? "" : " ✗",
			  (unsigned)w->bottleneck_rank, w->bottleneck_host, 100 * w->bottleneck_busy, w->saturated_ranks);
	}
	sb_printf(b, "\n");
	if (cJSON_IsArray(not_run) && cJSON_GetArraySize(not_run) > 0) {
		sb_printf(b, "Not run across hosts:\n\n");
		cJSON_ArrayForEach(e, not_run)
			sb_printf(b, "- `%s`: %s\n", str(e, "id", "?"), str(e, "why", "?"));
		sb_printf(b, "\n");
	}
}

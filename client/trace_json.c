/* client/trace_json.c: `ktls-client trace --json`: everything the text
 * shows and the full lists it shortens. With --resume, both connections. */
#include "client/trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"

static cJSON *codes(const uint16_t *v, unsigned n, const char *(*name)(unsigned))
{
	cJSON *a = cJSON_CreateArray();
	char b[48];

	for (unsigned i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(trace_code_name(name ? name(v[i]) : NULL, v[i],
									    b, sizeof b)));
	return a;
}

static cJSON *hello_json(const struct tr_hello *h)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char b[48];

	cJSON_AddItemToObject(o, "versions", codes(h->versions, h->nversions, trace_version_name));
	a = cJSON_AddArrayToObject(o, "cipher_suites");
	for (unsigned i = 0; i < h->nsuites; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(trace_code_name(
			h->suite_c[i] ? SSL_CIPHER_standard_name(h->suite_c[i]) : NULL, h->suites[i], b, sizeof b)));
	cJSON_AddItemToObject(o, "groups", codes(h->groups, h->ngroups, trace_group_name));
	cJSON_AddItemToObject(o, "key_share_groups", codes(h->shares, h->nshares, trace_group_name));
	cJSON_AddItemToObject(o, "signature_algorithms", codes(h->sigalgs, h->nsigalgs, trace_sigalg_name));
	cJSON_AddItemToObject(o, "extensions", codes(h->exts, h->nexts, NULL));
	if (h->sni[0])
		cJSON_AddStringToObject(o, "sni", h->sni);
	else
		cJSON_AddNullToObject(o, "sni");
	a = cJSON_AddArrayToObject(o, "alpn");
	if (h->alpn[0]) {
		char tmp[256], *save = NULL;
		snprintf(tmp, sizeof tmp, "%s", h->alpn);
		for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
	}
	cJSON_AddBoolToObject(o, "offers_ticket", h->psk || h->ticket12);
	cJSON_AddNumberToObject(o, "session_id_bytes", (double)h->session_id_len);
	return o;
}

static void add_hello_json(cJSON *o, const struct trace *tr)
{
	char b[48];

	if (tr->nhello)
		cJSON_AddItemToObject(o, "client_hello", hello_json(&tr->hello[0]));
	else
		cJSON_AddNullToObject(o, "client_hello");
	if (tr->hrr.set) {
		cJSON *x = cJSON_AddObjectToObject(o, "hello_retry_request");
		if (tr->hrr.group >= 0)
			cJSON_AddStringToObject(x, "group", trace_code_name(trace_group_name((unsigned)tr->hrr.group),
									    (unsigned)tr->hrr.group, b, sizeof b));
		else
			cJSON_AddNullToObject(x, "group");
		cJSON_AddBoolToObject(x, "cookie", tr->hrr.cookie);
		if (tr->nhello > 1)
			cJSON_AddItemToObject(x, "second_client_hello", hello_json(&tr->hello[1]));
	} else {
		cJSON_AddNullToObject(o, "hello_retry_request");
	}
	if (tr->sh.set) {
		cJSON *x = cJSON_AddObjectToObject(o, "server_hello");
		if (tr->sh.group >= 0)
			cJSON_AddStringToObject(x, "key_share_group", trace_code_name(
				trace_group_name((unsigned)tr->sh.group), (unsigned)tr->sh.group, b, sizeof b));
		else
			cJSON_AddNullToObject(x, "key_share_group");
		cJSON_AddBoolToObject(x, "accepts_ticket", tr->sh.psk);
	}
}

static void add_split_json(cJSON *o, const struct trace *tr)
{
	const struct tr_split *s = &tr->split;
	cJSON *x;

	if (!s->set) {
		cJSON_AddNullToObject(o, "time_split");
		return;
	}
	x = cJSON_AddObjectToObject(o, "time_split");
	cJSON_AddNumberToObject(x, "total_us", (double)s->total_ns / 1e3);
	cJSON_AddNumberToObject(x, "network_us", (double)s->network_ns / 1e3);
	cJSON_AddNumberToObject(x, "server_us", (double)s->server_ns / 1e3);
	cJSON_AddNumberToObject(x, "client_us", (double)s->client_ns / 1e3);
	cJSON_AddNumberToObject(x, "round_trip_us", (double)s->rtt_ns / 1e3);
	cJSON_AddNumberToObject(x, "round_trips", s->round_trips);
	cJSON_AddNumberToObject(x, "waiting_us", (double)s->wait_ns / 1e3);
	cJSON_AddNumberToObject(x, "flight_tail_us", (double)s->flight_tail_ns / 1e3);
}

/* One connection's trace, added to o. */
static void trace_fill(cJSON *o, const struct trace *tr)
{
	cJSON *a, *x;
	struct tr_flight_info fl[64];
	unsigned nfl = trace_flights(tr, fl, 64);

	cJSON_AddStringToObject(o, "host", tr->cfg->host);
	cJSON_AddNumberToObject(o, "port", tr->cfg->port);
	cJSON_AddBoolToObject(o, "verify", tr->cfg->verify_ca != NULL);
	cJSON_AddNumberToObject(o, "tcp_connect_us", (double)tr->tcp_ns / 1e3);
	cJSON_AddNumberToObject(o, "handshake_us", (double)tr->hs_done_ns / 1e3);
	cJSON_AddBoolToObject(o, "resumed", tr->resumed);
	cJSON_AddStringToObject(o, "received_times", tr->stamps && !tr->stamps_missing ?
				"arrival" : "processing");
	if (tr->cfg->early_data && tr->offered_session) {
		x = cJSON_AddObjectToObject(o, "early_data");
		cJSON_AddNumberToObject(x, "ticket_max_bytes", (double)tr->early_max);
		cJSON_AddBoolToObject(x, "sent", tr->early_sent);
		cJSON_AddBoolToObject(x, "accepted", tr->early_sent &&
				      tr->early_status == SSL_EARLY_DATA_ACCEPTED);
	} else {
		cJSON_AddNullToObject(o, "early_data");
	}
	unsigned *rts = calloc(tr->nmsg + 1, sizeof(*rts));
	if (rts)
		trace_round_trips(tr, rts);
	a = cJSON_AddArrayToObject(o, "messages");
	uint64_t prev = 0;
	for (unsigned i = 0; i < tr->nmsg; i++) {
		const struct tr_msg *m = &tr->msg[i];
		uint64_t t = trace_msg_time(tr, m);
		x = cJSON_CreateObject();
		/* t_us: when sent, or when its bytes arrived (see received_times) */
		cJSON_AddNumberToObject(x, "t_us", (double)t / 1e3);
		cJSON_AddNumberToObject(x, "delta_us", ((double)t - (double)prev) / 1e3);
		cJSON_AddNumberToObject(x, "processed_us", (double)m->t_ns / 1e3);
		prev = t;
		cJSON_AddStringToObject(x, "direction", m->dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddStringToObject(x, "message", trace_msg_name(m));
		cJSON_AddStringToObject(x, "content_type", trace_ctype_name(m->ctype));
		cJSON_AddNumberToObject(x, "bytes", (double)m->len);
		if (m->rec >= 0)
			cJSON_AddNumberToObject(x, "record", tr->rec[m->rec].no);
		else
			cJSON_AddNullToObject(x, "record");
		cJSON_AddBoolToObject(x, "via_kernel", m->via_kernel);
		/* the round trip it belongs to (trace_round_trips) */
		if (rts)
			cJSON_AddNumberToObject(x, "round_trip", rts[i]);
		cJSON_AddBoolToObject(x, "early_data", m->early);
		cJSON_AddItemToArray(a, x);
	}
	free(rts);
	a = cJSON_AddArrayToObject(o, "records");
	for (unsigned i = 0; i < tr->nrec; i++) {
		const struct tr_record *r = &tr->rec[i];
		x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "t_us", (double)r->t_ns / 1e3);
		cJSON_AddStringToObject(x, "direction", r->dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddNumberToObject(x, "number", r->no);
		cJSON_AddStringToObject(x, "type", trace_ctype_name(r->type));
		if (r->inner >= 0)
			cJSON_AddStringToObject(x, "inner_type", trace_ctype_name(r->inner));
		cJSON_AddNumberToObject(x, "bytes", (double)r->len);
		if (r->t_arrive)
			cJSON_AddNumberToObject(x, "arrived_us", (double)r->t_arrive / 1e3);
		cJSON_AddItemToArray(a, x);
	}
	a = cJSON_AddArrayToObject(o, "flights");
	for (unsigned i = 0; i < nfl; i++) {
		char msgs[512];
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "direction", fl[i].dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddNumberToObject(x, "records", fl[i].nrec);
		cJSON_AddNumberToObject(x, "wire_bytes", (double)fl[i].wire);
		trace_flight_messages(tr, &fl[i], msgs, sizeof(msgs));
		cJSON_AddStringToObject(x, "messages", msgs);
		cJSON_AddItemToArray(a, x);
	}
	x = cJSON_AddObjectToObject(o, "wire");
	cJSON_AddNumberToObject(x, "bytes_out", (double)tr->wire_bytes[TR_C2S]);
	cJSON_AddNumberToObject(x, "bytes_in", (double)tr->wire_bytes[TR_S2C]);
	cJSON_AddNumberToObject(x, "writes", (double)tr->wire_calls[TR_C2S]);
	cJSON_AddNumberToObject(x, "reads", (double)tr->wire_calls[TR_S2C]);
	cJSON_AddNumberToObject(x, "handshake_data_segments_out", (double)tr->segs_out_hs);
	cJSON_AddNumberToObject(x, "handshake_data_segments_in", (double)tr->segs_in_hs);
	cJSON_AddNumberToObject(x, "data_segments_out", (double)tr->segs_out);
	cJSON_AddNumberToObject(x, "data_segments_in", (double)tr->segs_in);
	x = cJSON_AddObjectToObject(o, "tls");
	if (tr->neg.set) {
		cJSON_AddStringToObject(x, "version", tr->neg.version);
		cJSON_AddStringToObject(x, "cipher", tr->neg.cipher);
		cJSON_AddStringToObject(x, "group", tr->neg.group);
		cJSON_AddStringToObject(x, "sigalg", tr->neg.sigalg);
	}
	x = cJSON_AddObjectToObject(o, "certificate");
	cJSON_AddStringToObject(x, "subject", tr->subject);
	cJSON_AddStringToObject(x, "issuer", tr->issuer);
	cJSON_AddStringToObject(x, "key", tr->neg.cert_key);
	cJSON_AddStringToObject(x, "names", tr->san);
	cJSON_AddStringToObject(x, "not_after", tr->not_after);
	cJSON_AddNumberToObject(x, "chain_length", tr->chain_len);
	if (tr->cfg->trace_ktls) {
		x = cJSON_AddObjectToObject(o, "ktls");
		cJSON_AddBoolToObject(x, "enabled", tr->ktls_on);
		if (tr->ktls_on) {
			cJSON_AddNumberToObject(x, "t_us", (double)tr->ktls_ns / 1e3);
			cJSON_AddStringToObject(x, "cipher", tr->ktls_cipher);
			cJSON_AddNumberToObject(x, "tx_seq", (double)tr->tx_seq);
			cJSON_AddNumberToObject(x, "rx_seq", (double)tr->rx_seq);
			cJSON_AddNumberToObject(x, "tickets_via_kernel", (double)tr->ktls_tickets);
		} else {
			cJSON_AddStringToObject(x, "error", tr->ktls_err);
		}
	} else {
		cJSON_AddNullToObject(o, "ktls");
	}
	if (tr->cfg->request_path) {
		x = cJSON_AddObjectToObject(o, "request");
		cJSON_AddStringToObject(x, "path", tr->cfg->request_path);
		cJSON_AddBoolToObject(x, "done", tr->req_done);
		cJSON_AddNumberToObject(x, "status", tr->status);
		cJSON_AddNumberToObject(x, "body_bytes", (double)tr->body_bytes);
		cJSON_AddNumberToObject(x, "latency_us", (double)(tr->req_end_ns - tr->req_start_ns) / 1e3);
		if (tr->pattern_checked)
			cJSON_AddBoolToObject(x, "pattern_ok", tr->pattern_ok);
		if (tr->req_err[0])
			cJSON_AddStringToObject(x, "error", tr->req_err);
	} else {
		cJSON_AddNullToObject(o, "request");
	}
	add_hello_json(o, tr);
	add_split_json(o, tr);
	if (tr->lingered) {
		x = cJSON_AddObjectToObject(o, "ticket_wait");
		cJSON_AddNumberToObject(x, "start_us", (double)tr->linger_start_ns / 1e3);
		cJSON_AddNumberToObject(x, "end_us", (double)tr->linger_end_ns / 1e3);
		cJSON_AddNumberToObject(x, "quiet_ms", (double)tr->linger_quiet_ns / 1e6);
		cJSON_AddNumberToObject(x, "tickets", tr->linger_tickets);
	} else {
		cJSON_AddNullToObject(o, "ticket_wait");
	}
}

int trace_json(const struct trace *tr, const struct trace *resumed, struct outfile *out)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	int rc;

	cJSON_AddStringToObject(o, "tool", "ktls-client");
	cJSON_AddStringToObject(o, "version", build_version());
	cJSON_AddStringToObject(o, "commit", build_commit());
	cJSON_AddStringToObject(o, "mode", "trace");
	if (resumed) {
		/* trace --resume: the two connections side by side */
		trace_fill(cJSON_AddObjectToObject(o, "full"), tr);
		trace_fill(cJSON_AddObjectToObject(o, "resumed"), resumed);
	} else {
		trace_fill(o, tr);
	}
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	memcpy(line + n, "\n", 2);
	rc = outfile_write(out, line);
	free(line);
	return rc;
}

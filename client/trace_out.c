/* client/trace_out.c: print a trace for people learning TLS, or as JSON. */
#include "client/trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"

const char *tr_hs_name(int type, bool hrr)
{
	switch (type) {
	case 1: return "ClientHello";
	case 2: return hrr ? "HelloRetryRequest" : "ServerHello";
	case 4: return "NewSessionTicket";
	case 5: return "EndOfEarlyData";
	case 8: return "EncryptedExtensions";
	case 11: return "Certificate";
	case 12: return "ServerKeyExchange";
	case 13: return "CertificateRequest";
	case 14: return "ServerHelloDone";
	case 15: return "CertificateVerify";
	case 16: return "ClientKeyExchange";
	case 20: return "Finished";
	case 24: return "KeyUpdate";
	default: return "handshake message";
	}
}

static const char *msg_name(const struct tr_msg *m)
{
	switch (m->ctype) {
	case 20: return "ChangeCipherSpec";
	case 21: return "Alert";
	case 23: return "application data";
	default: return tr_hs_name(m->hs_type, m->hrr);
	}
}

static const char *ctype_name(int t)
{
	switch (t) {
	case 20: return "change_cipher_spec";
	case 21: return "alert";
	case 22: return "handshake";
	case 23: return "application_data";
	default: return "?";
	}
}

/* One sentence on what the message is for. */
static const char *explain(const struct tr_msg *m, bool tls13)
{
	if (m->ctype == 20)
		return tls13 ? "a dummy record for middleboxes that expect TLS 1.2; TLS 1.3 ignores it"
			     : "from the next record on, this side encrypts with the new keys";
	if (m->ctype == 21)
		return m->hs_type == 0 ? "close_notify: this side will send nothing more"
				       : m->level == 2 ? "a fatal alert: the connection ends" : "an alert";
	if (m->ctype == 23)
		return m->dir == TR_C2S ? "the HTTP request, encrypted with the client's traffic key"
					: "response bytes, decrypted with the server's traffic key";
	switch (m->hs_type) {
	case 1: return "the client's offer: TLS versions, cipher suites, key exchange groups (with "
		       "a key share, its ephemeral public key, when it offers TLS 1.3), signature "
		       "algorithms, a random nonce";
	case 2:
		if (m->hrr)
			return "the server wants a key share for another group: the client will send a "
			       "second ClientHello";
		return tls13 ? "the server's choice of cipher suite and its own key share: both sides "
			       "now compute the shared secret, and everything after this is encrypted"
			     : "the server's choice of version, cipher suite and session";
	case 4: return "a ticket the client can offer next time to resume without a certificate "
		       "and a signature";
	case 8: return "the server's remaining answers to the client's extensions; the first "
		       "encrypted message";
	case 11: return m->dir == TR_S2C ? "the server's certificate chain"
					 : "the client's certificate chain";
	case 12: return "the server's ephemeral key share, signed with its certificate's key";
	case 13: return "the server asks for a client certificate";
	case 14: return "the server's first flight is complete";
	case 15: return "a signature over the handshake so far with the certificate's private key: "
			"proves the peer owns the certificate";
	case 16: return "the client's ephemeral key share: both sides now derive the session keys";
	case 20: return "a MAC over the whole handshake under a key from the shared secret: proves "
			"that both saw the same messages";
	case 24: return "switch to the next generation of traffic keys";
	default: return "";
	}
}

static const char *dir_text(int dir)
{
	return dir == TR_C2S ? "client -> server" : "server -> client";
}

static void fmt_ms(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%8.3f ms", (double)ns / 1e6);
}

/* Flights: runs of records in one direction (messages sent back to back). */
struct flight {
	int dir;
	unsigned first_rec, nrec;
	size_t wire;                    /* record headers + payloads */
	uint64_t t_first, t_last;
};

static unsigned flights_of(const struct trace *tr, struct flight *fl, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tr->nrec; i++) {
		const struct tr_record *r = &tr->rec[i];
		if (!n || fl[n - 1].dir != r->dir) {
			if (n == max)
				break;
			memset(&fl[n], 0, sizeof(fl[n]));
			fl[n].dir = r->dir;
			fl[n].first_rec = i;
			fl[n].t_first = r->t_ns;
			n++;
		}
		fl[n - 1].nrec++;
		fl[n - 1].wire += 5 + r->len;
		fl[n - 1].t_last = r->t_ns;
	}
	return n;
}

static void flight_messages(const struct trace *tr, const struct flight *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (unsigned r = f->first_rec; r < f->first_rec + f->nrec; r++) {
		bool any = false;
		for (unsigned i = 0; i < tr->nmsg; i++) {
			const struct tr_msg *m = &tr->msg[i];
			if (m->rec != (int)r || m->via_kernel)
				continue;
			any = true;
			int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", msg_name(m));
			if (k < 0 || (size_t)k >= len - used)
				return;
			used += (size_t)k;
		}
		if (!any) {
			/* a record OpenSSL reports no message for: TLS 1.3's compatibility CCS */
			int t = tr->rec[r].type;
			int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 t == 20 ? "ChangeCipherSpec" : ctype_name(t));
			if (k < 0 || (size_t)k >= len - used)
				return;
			used += (size_t)k;
		}
	}
}

/* The printed lines in time order: messages, records that carried no message
 * OpenSSL reports (TLS 1.3's compatibility ChangeCipherSpec), and markers. */
enum item_kind { IT_MSG, IT_RECORD, IT_HS_DONE, IT_KTLS };
struct item {
	uint64_t t_ns;
	enum item_kind kind;
	unsigned idx;
};

static unsigned timeline_items(const struct trace *tr, struct item *it)
{
	unsigned n = 0;
	bool *used = calloc(tr->nrec + 1, 1);

	for (unsigned i = 0; i < tr->nmsg; i++) {
		if (used && tr->msg[i].rec >= 0)
			used[tr->msg[i].rec] = true;
		it[n++] = (struct item){ tr->msg[i].t_ns, IT_MSG, i };
	}
	for (unsigned i = 0; i < tr->nrec; i++)
		if (used && !used[i])
			it[n++] = (struct item){ tr->rec[i].t_ns, IT_RECORD, i };
	free(used);
	if (tr->hs_done_ns && tr->neg.set)
		it[n++] = (struct item){ tr->hs_done_ns, IT_HS_DONE, 0 };
	if (tr->ktls_on)
		it[n++] = (struct item){ tr->ktls_ns, IT_KTLS, 0 };
	/* stable insertion sort by time; a record comes before the messages it carries */
	for (unsigned i = 1; i < n; i++) {
		struct item x = it[i];
		unsigned j = i;
		while (j > 0 && (it[j - 1].t_ns > x.t_ns ||
				 (it[j - 1].t_ns == x.t_ns && x.kind == IT_RECORD && it[j - 1].kind == IT_MSG))) {
			it[j] = it[j - 1];
			j--;
		}
		it[j] = x;
	}
	return n;
}

void trace_print(const struct trace *tr, FILE *f)
{
	const struct client_cfg *cfg = tr->cfg;
	bool tls13 = tr->neg.set && !strcmp(tr->neg.version, "1.3");
	struct flight fl[64];
	unsigned nfl;
	char t[32];
	int last_rec_printed = -1;

	fprintf(f, "ktls-client trace: %s:%u, TLS %s, certificate verification %s\n\n", cfg->host,
		cfg->port, cfg->tls.min_version == cfg->tls.max_version ?
		tlsopts_version_name(cfg->tls.min_version) : "1.2 or 1.3",
		cfg->verify_ca ? "on" : "off (--verify CAFILE turns it on)");
	fmt_ms(tr->tcp_ns, t, sizeof(t));
	fprintf(f, "%s  TCP connected (SYN, SYN-ACK, ACK: one round trip before any TLS byte)\n\n", t);

	fprintf(f, "%-11s  %-16s  %-34s  %s\n", "time", "direction", "record (type, payload bytes)",
		"message (bytes)");
	struct item *items = calloc(tr->nmsg + tr->nrec + 2, sizeof(*items));
	unsigned n = items ? timeline_items(tr, items) : 0;
	for (unsigned k = 0; k < n; k++) {
		fmt_ms(items[k].t_ns, t, sizeof(t));
		switch (items[k].kind) {
		case IT_HS_DONE:
			fprintf(f, "%s  -- handshake complete%s: from here on, application data --\n", t,
				tr->resumed ? " (resumed session)" : "");
			break;
		case IT_KTLS:
			fprintf(f, "%s  -- the record layer moves into the kernel (kTLS): TX continues at "
				"record sequence %" PRIu64 ", RX at %" PRIu64 " --\n", t, tr->tx_seq, tr->rx_seq);
			break;
		case IT_RECORD: {
			const struct tr_record *r = &tr->rec[items[k].idx];
			fprintf(f, "%s  %-16s  #%-2u %-30s  %s (%zu)\n", t, dir_text(r->dir), r->no,
				ctype_name(r->type), r->type == 20 ? "ChangeCipherSpec" : "(no message)", r->len);
			if (r->type == 20)
				fprintf(f, "%-11s  %-16s  %-34s    %s\n", "", "", "", tls13 ?
					"a dummy record for middleboxes that expect TLS 1.2; TLS 1.3 "
					"ignores it" : "from the next record on, the server encrypts with "
					"the new keys");
			break;
		}
		case IT_MSG: {
			const struct tr_msg *m = &tr->msg[items[k].idx];
			char rec[64] = "";
			if (m->via_kernel) {
				snprintf(rec, sizeof(rec), "(decrypted by the kernel)");
				if (m->dir == TR_C2S)
					snprintf(rec, sizeof(rec), "(encrypted by the kernel)");
			} else if (m->rec >= 0) {
				const struct tr_record *r = &tr->rec[m->rec];
				if (m->rec == last_rec_printed)
					snprintf(rec, sizeof(rec), "  same record #%u", r->no);
				else if (r->inner >= 0)
					snprintf(rec, sizeof(rec), "#%-2u %s %zu, inner %s", r->no,
						 ctype_name(r->type), r->len, ctype_name(r->inner));
				else
					snprintf(rec, sizeof(rec), "#%-2u %s %zu", r->no, ctype_name(r->type), r->len);
				last_rec_printed = m->rec;
			}
			fprintf(f, "%s  %-16s  %-34s  %s", t, dir_text(m->dir), rec, msg_name(m));
			if (m->ctype == 21) {
				char a[64];
				fprintf(f, " %s %s", m->level == 2 ? "fatal" : "warning",
					tls_alert_short(m->hs_type, a, sizeof(a)));
			}
			fprintf(f, " (%zu)\n", m->len);
			const char *why = explain(m, tls13);
			if (*why)
				fprintf(f, "%-11s  %-16s  %-34s    %s\n", "", "", "", why);
			break;
		}
		}
	}
	free(items);
	if (!tr->hs_done_ns || !tr->neg.set) {
		fprintf(f, "\n(the handshake did not complete)\n");
		return;
	}

	nfl = flights_of(tr, fl, 64);
	fprintf(f, "\nFlights (records sent back to back in one direction; sizes include the 5-byte "
		   "record headers):\n");
	for (unsigned i = 0; i < nfl; i++) {
		char msgs[512];
		flight_messages(tr, &fl[i], msgs, sizeof(msgs));
		fprintf(f, "  %2u  %s  %2u record%s %6zu bytes  %s\n", i + 1, dir_text(fl[i].dir),
			fl[i].nrec, fl[i].nrec == 1 ? " " : "s", fl[i].wire, msgs);
	}
	fprintf(f, "\nOn the wire (seen by OpenSSL): the client wrote %" PRIu64 " bytes in %" PRIu64
		   " write%s, read %" PRIu64 " bytes in %" PRIu64 " read%s.\n",
		tr->wire_bytes[TR_C2S], tr->wire_calls[TR_C2S], tr->wire_calls[TR_C2S] == 1 ? "" : "s",
		tr->wire_bytes[TR_S2C], tr->wire_calls[TR_S2C], tr->wire_calls[TR_S2C] == 1 ? "" : "s");
	if (tr->have_tcpi) {
		fprintf(f, "TCP segments carrying data during the handshake: %" PRIu64 " sent, %" PRIu64
			   " received (whole connection: %" PRIu64 " / %" PRIu64 ").\n",
			tr->segs_out_hs, tr->segs_in_hs, tr->segs_out, tr->segs_in);
		fprintf(f, "Records are not packets: a flight of several records can share one TCP "
			   "segment, and a large record can span several.\n");
	}

	fprintf(f, "\nNegotiated:\n");
	fprintf(f, "  version             TLS %s\n", tr->neg.version);
	fprintf(f, "  cipher suite        %s\n", tr->neg.cipher);
	fprintf(f, "  key exchange group  %s\n", tr->neg.group);
	fprintf(f, "  signature           %s\n", tr->neg.sigalg);
	fprintf(f, "Server certificate:\n");
	fprintf(f, "  subject             %s\n", tr->subject[0] ? tr->subject : "-");
	fprintf(f, "  issuer              %s\n", tr->issuer[0] ? tr->issuer : "-");
	fprintf(f, "  key                 %s\n", tr->neg.cert_key);
	fprintf(f, "  names               %s\n", tr->san[0] ? tr->san : "-");
	fprintf(f, "  valid until         %s\n", tr->not_after[0] ? tr->not_after : "-");
	fprintf(f, "  chain sent          %d certificate%s\n", tr->chain_len, tr->chain_len == 1 ? "" : "s");
	if (cfg->verify_ca)
		fprintf(f, "  verified            yes, against %s\n", cfg->verify_ca);
	else
		fprintf(f, "  verified            no (--verify CAFILE checks the chain and the name; "
			   "the CertificateVerify signature is checked either way)\n");

	if (cfg->trace_ktls) {
		fprintf(f, "\nkTLS:\n");
		if (tr->ktls_on) {
			fmt_ms(tr->ktls_ns, t, sizeof(t));
			fprintf(f, "  moved into the kernel at %s, cipher %s\n", t, tr->ktls_cipher);
			fprintf(f, "  TX starts at sequence %" PRIu64 ", RX at %" PRIu64 ": each direction "
				   "numbers its records from 0 under each key (TLS 1.2: from the "
				   "ChangeCipherSpec), and the kernel must go on where OpenSSL stopped.\n",
				tr->tx_seq, tr->rx_seq);
			fprintf(f, "  NewSessionTickets that arrived through the kernel: %" PRIu64 "\n",
				tr->ktls_tickets);
		} else {
			fprintf(f, "  not enabled: %s\n", tr->ktls_err);
		}
	}
	if (cfg->request_path && (!cfg->trace_ktls || tr->ktls_on)) {
		fprintf(f, "\nRequest GET %s:\n", cfg->request_path);
		if (tr->req_done) {
			fprintf(f, "  status %d, %" PRIu64 " body bytes in %.3f ms", tr->status, tr->body_bytes,
				(double)(tr->req_end_ns - tr->req_start_ns) / 1e6);
			if (tr->pattern_checked)
				fprintf(f, ", pattern %s", tr->pattern_ok ? "correct" : "WRONG");
			fprintf(f, "\n");
		} else {
			fprintf(f, "  failed: %s\n", tr->req_err[0] ? tr->req_err : "unknown");
		}
	}
}

/* --- JSON ---------------------------------------------------------------------- */
int trace_json(const struct trace *tr, struct outfile *out)
{
	cJSON *o = cJSON_CreateObject(), *a, *x;
	struct flight fl[64];
	unsigned nfl = flights_of(tr, fl, 64);
	char *text;
	int rc = 0;

	cJSON_AddStringToObject(o, "tool", "ktls-client");
	cJSON_AddStringToObject(o, "version", build_version());
	cJSON_AddStringToObject(o, "commit", build_commit());
	cJSON_AddStringToObject(o, "mode", "trace");
	cJSON_AddStringToObject(o, "host", tr->cfg->host);
	cJSON_AddNumberToObject(o, "port", tr->cfg->port);
	cJSON_AddBoolToObject(o, "verify", tr->cfg->verify_ca != NULL);
	cJSON_AddNumberToObject(o, "tcp_connect_us", (double)tr->tcp_ns / 1e3);
	cJSON_AddNumberToObject(o, "handshake_us", (double)tr->hs_done_ns / 1e3);
	cJSON_AddBoolToObject(o, "resumed", tr->resumed);
	a = cJSON_AddArrayToObject(o, "messages");
	for (unsigned i = 0; i < tr->nmsg; i++) {
		const struct tr_msg *m = &tr->msg[i];
		x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "t_us", (double)m->t_ns / 1e3);
		cJSON_AddStringToObject(x, "direction", m->dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddStringToObject(x, "message", msg_name(m));
		cJSON_AddStringToObject(x, "content_type", ctype_name(m->ctype));
		cJSON_AddNumberToObject(x, "bytes", (double)m->len);
		if (m->rec >= 0)
			cJSON_AddNumberToObject(x, "record", tr->rec[m->rec].no);
		else
			cJSON_AddNullToObject(x, "record");
		cJSON_AddBoolToObject(x, "via_kernel", m->via_kernel);
		cJSON_AddItemToArray(a, x);
	}
	a = cJSON_AddArrayToObject(o, "records");
	for (unsigned i = 0; i < tr->nrec; i++) {
		const struct tr_record *r = &tr->rec[i];
		x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "t_us", (double)r->t_ns / 1e3);
		cJSON_AddStringToObject(x, "direction", r->dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddNumberToObject(x, "number", r->no);
		cJSON_AddStringToObject(x, "type", ctype_name(r->type));
		if (r->inner >= 0)
			cJSON_AddStringToObject(x, "inner_type", ctype_name(r->inner));
		cJSON_AddNumberToObject(x, "bytes", (double)r->len);
		cJSON_AddItemToArray(a, x);
	}
	a = cJSON_AddArrayToObject(o, "flights");
	for (unsigned i = 0; i < nfl; i++) {
		char msgs[512];
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "direction", fl[i].dir == TR_C2S ? "client_to_server" : "server_to_client");
		cJSON_AddNumberToObject(x, "records", fl[i].nrec);
		cJSON_AddNumberToObject(x, "wire_bytes", (double)fl[i].wire);
		flight_messages(tr, &fl[i], msgs, sizeof(msgs));
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

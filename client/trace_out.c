/* client/trace_out.c: print a trace for people learning TLS: the messages in
 * time order with what each is for, what the ClientHello offered, the
 * flights, where the time went, and the session's parameters. Every line
 * fits 100 columns; the full lists are in --json (trace_json.c). */
#include "client/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 100
/* the timeline's columns: time, delta, direction, record, message */
#define COL_EXPLAIN 21                  /* explanations start under the round trip */
#define COL_DIR 27                      /* after the time, the delta and the round trip */
#define COL_MSG 57

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

const char *trace_msg_name(const struct tr_msg *m)
{
	switch (m->ctype) {
	case 20: return "ChangeCipherSpec";
	case 21: return "Alert";
	case 23: return m->early ? "early data (0-RTT)" : "application data";
	default: return tr_hs_name(m->hs_type, m->hrr);
	}
}

const char *trace_ctype_name(int t)
{
	switch (t) {
	case 20: return "change_cipher_spec";
	case 21: return "alert";
	case 22: return "handshake";
	case 23: return "application_data";
	default: return "?";
	}
}

static const char *inner_short(int t)
{
	switch (t) {
	case 21: return "alert";
	case 22: return "hs";
	case 23: return "app";
	default: return "?";
	}
}

void trace_wrap(FILE *f, unsigned first, unsigned indent, const char *text)
{
	unsigned col = first;
	const char *p = text;
	bool fresh = true;              /* nothing written on this line yet */

	while (*p) {
		size_t w = strcspn(p, " ");
		if (col > indent && col + 1 + w > WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
			fresh = true;
		} else if (!fresh) {
			fputc(' ', f);
			col++;
		}
		fresh = false;
		fwrite(p, 1, w, f);
		col += (unsigned)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
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
	if (m->ctype == 23 && m->early)
		return "the HTTP request as early data (0-RTT): encrypted with a key from the resumed "
		       "session's secret, it leaves right behind the ClientHello, before the server has "
		       "said anything; a replay of these bytes would be accepted as well unless the server "
		       "refuses it";
	if (m->ctype == 23)
		return m->dir == TR_C2S ? "the HTTP request, encrypted with the client's traffic key"
					: "response bytes, decrypted with the server's traffic key";
	switch (m->hs_type) {
	case 4: return "a ticket the client can offer next time to resume without a certificate "
		       "and a signature";
	case 5: return "the end of the client's early data: what follows is under the handshake keys";
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

static const char *dir_short(int dir)
{
	return dir == TR_C2S ? "C -> S" : "S -> C";
}

static const char *code_name(const char *name, unsigned v, char *buf, size_t len)
{
	return trace_code_name(name, v, buf, len);
}

/* "label  a, b, c, ... (N in all)" wrapped under the label, at most 2 lines. */
static void print_list(FILE *f, const char *label, const char *const *items, unsigned n,
		       unsigned shown_total, const char *tail)
{
	char line[2 * WIDTH + 64];
	unsigned indent = COL_EXPLAIN + 2 + 11, col, lines = 1, i;
	size_t used;

	used = (size_t)snprintf(line, sizeof line, "%*s%-10s ", COL_EXPLAIN + 2, "", label);
	col = (unsigned)used;
	fputs(line, f);
	for (i = 0; i < n; i++) {
		size_t w = strlen(items[i]) + (i + 1 < n ? 1 : 0);
		if (col + w + 1 > WIDTH - 16 && lines == 2)
			break;
		if (i && col + w + 1 > WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
			lines++;
		} else if (i) {
			fputc(' ', f);
			col++;
		}
		col += (unsigned)fprintf(f, "%s%s", items[i], i + 1 < n ? "," : "");
	}
	if (i < n)
		col += (unsigned)fprintf(f, " ... (%u in all)", shown_total);
	if (tail && col + strlen(tail) > WIDTH) {
		/* on a line of its own, without its leading ": " or ", " */
		fprintf(f, "\n%*s%s", (int)indent, "", tail + strspn(tail, ":, "));
	} else if (tail) {
		fputs(tail, f);
	}
	fputc('\n', f);
}

static void print_hello(FILE *f, const struct tr_hello *h, bool second, const struct trace *tr)
{
	const char *items[TR_HELLO_MAX];
	char names[TR_HELLO_MAX][48], tail[96] = "";
	unsigned n = 0, tls12 = 0;

	if (!h->set)
		return;
	fprintf(f, "%*s%s\n", COL_EXPLAIN, "", second ?
		"the client's second offer, now with the key share the server asked for:" :
		"the client's offer (--json lists every code point):");
	for (unsigned i = 0; i < h->nversions; i++) {
		items[n] = names[n];
		code_name(trace_version_name(h->versions[i]), h->versions[i], names[n], sizeof names[n]);
		n++;
	}
	if (!n) { /* no supported_versions: the legacy field is the offer */
		items[n] = names[n];
		code_name(trace_version_name(h->legacy_version), h->legacy_version, names[n], sizeof names[n]);
		n++;
	}
	print_list(f, "versions", items, n, n, NULL);
	n = 0;
	for (unsigned i = 0; i < h->nsuites; i++) {
		unsigned v = h->suites[i];
		if (v == 0x00ff || (v & 0xff00) == 0x5600)
			continue; /* signalling values, not suites */
		if ((v >> 8) != 0x13) {
			tls12++;
			continue;
		}
		items[n] = names[n];
		code_name(h->suite_c[i] ? SSL_CIPHER_standard_name(h->suite_c[i]) : NULL, v, names[n],
			  sizeof names[n]);
		n++;
	}
	if (tls12)
		snprintf(tail, sizeof tail, "%s%u for TLS 1.2", n ? ", and " : "", tls12);
	print_list(f, "suites", items, n, n, tail);
	n = 0;
	for (unsigned i = 0; i < h->ngroups; i++) {
		items[n] = names[n];
		code_name(trace_group_name(h->groups[i]), h->groups[i], names[n], sizeof names[n]);
		n++;
	}
	if (n)
		print_list(f, "groups", items, n, n, NULL);
	n = 0;
	for (unsigned i = 0; i < h->nshares; i++) {
		char g[48];
		items[n] = names[n];
		snprintf(names[n], sizeof names[n], "%s (%zu bytes)",
			 code_name(trace_group_name(h->shares[i]), h->shares[i], g, sizeof g), h->share_len[i]);
		n++;
	}
	if (h->nversions)
		print_list(f, "key share", items, n, n, n ? ": its public key, sent ahead" : "none");
	n = 0;
	for (unsigned i = 0; i < h->nsigalgs; i++) {
		items[n] = names[n];
		code_name(trace_sigalg_name(h->sigalgs[i]), h->sigalgs[i], names[n], sizeof names[n]);
		n++;
	}
	if (n)
		print_list(f, "sigalgs", items, n, n, NULL);
	fprintf(f, "%*s%-10s %s%s;  ALPN %s\n", COL_EXPLAIN + 2, "", "SNI", h->sni[0] ? h->sni : "none",
		h->sni[0] ? "" : (tr->cfg->host_is_ip ? " (an IP address is not sent)" : ""),
		h->alpn[0] ? h->alpn : "none");
	if (h->psk || h->ticket12 || (h->session_id_len && tr->offered_session))
		fprintf(f, "%*s%-10s %s\n", COL_EXPLAIN + 2, "", "resume", h->psk ?
			"offers a TLS 1.3 ticket (pre_shared_key) from the last connection" :
			h->ticket12 ? "offers a TLS 1.2 session ticket from the last connection" :
			"offers the last connection's TLS 1.2 session ID");
	if (h->early_data)
		fprintf(f, "%*s%-10s %s\n", COL_EXPLAIN + 2, "", "early",
			"announces early data (0-RTT): it follows without waiting");
}

/* The printed lines in time order. */
enum item_kind { IT_TCP, IT_MSG, IT_RECORD, IT_HS_DONE, IT_KTLS, IT_LINGER };
struct item {
	uint64_t t_ns;
	enum item_kind kind;
	unsigned idx;
};

static uint64_t record_time(const struct tr_record *r)
{
	return r->t_arrive ? r->t_arrive : r->t_ns;
}

/* Stream order among items at the same time: a record's position, its
 * messages just after it; -1 for markers. */
static long item_seq(const struct trace *tr, const struct item *x)
{
	if (x->kind == IT_RECORD)
		return 2L * x->idx;
	if (x->kind == IT_MSG && tr->msg[x->idx].rec >= 0 && !tr->msg[x->idx].via_kernel)
		return 2L * tr->msg[x->idx].rec + 1;
	return -1;
}

static unsigned timeline_items(const struct trace *tr, struct item *it)
{
	unsigned n = 0;
	bool *used = calloc(tr->nrec + 1, 1);

	it[n++] = (struct item){ tr->tcp_ns, IT_TCP, 0 };
	for (unsigned i = 0; i < tr->nmsg; i++) {
		if (used && tr->msg[i].rec >= 0)
			used[tr->msg[i].rec] = true;
		it[n++] = (struct item){ trace_msg_time(tr, &tr->msg[i]), IT_MSG, i };
	}
	for (unsigned i = 0; i < tr->nrec; i++)
		if (used && !used[i])
			it[n++] = (struct item){ record_time(&tr->rec[i]), IT_RECORD, i };
	free(used);
	if (tr->hs_done_ns && tr->neg.set)
		it[n++] = (struct item){ tr->hs_done_ns, IT_HS_DONE, 0 };
	if (tr->ktls_on)
		it[n++] = (struct item){ tr->ktls_ns, IT_KTLS, 0 };
	if (tr->lingered)
		it[n++] = (struct item){ tr->linger_end_ns, IT_LINGER, 0 };
	/* stable insertion sort by time; at the same time, in stream order */
	for (unsigned i = 1; i < n; i++) {
		struct item x = it[i];
		unsigned j = i;
		long sx = item_seq(tr, &x);
		while (j > 0 && (it[j - 1].t_ns > x.t_ns ||
				 (it[j - 1].t_ns == x.t_ns && sx >= 0 && item_seq(tr, &it[j - 1]) > sx))) {
			it[j] = it[j - 1];
			j--;
		}
		it[j] = x;
	}
	return n;
}

static void record_text(const struct tr_record *r, char *buf, size_t len)
{
	if (r->inner >= 0)
		snprintf(buf, len, "#%u appdata/%s %zu", r->no, inner_short(r->inner), r->len);
	else
		snprintf(buf, len, "#%u %s %zu", r->no, trace_ctype_name(r->type), r->len);
}

/* rt: the round trip of the line, 0 for none */
static void line_start(FILE *f, uint64_t t, uint64_t *prev, unsigned rt)
{
	double ms = (double)t / 1e6, d = ((double)t - (double)*prev) / 1e6;

	/* the columns keep their width past 10 s (a --timeout of minutes) */
	fprintf(f, ms < 9999.9995 ? "%8.3f ms  " : "%8.0f ms  ", ms);
	fprintf(f, d < 9999.9995 ? "%+8.3f  " : "%+8.0f  ", d);
	if (rt)
		fprintf(f, "%2u  ", rt);
	else
		fprintf(f, "    ");
	*prev = t;
}

/* The turn rule of trace_round_trips(): the round trip of a message or
 * record going in direction dir. */
static unsigned rt_step(int dir, unsigned *cur, bool *wrote)
{
	if (dir == TR_C2S) {
		if (!*wrote)
			(*cur)++;
		*wrote = true;
	} else {
		*wrote = false;
	}
	return *cur;
}

void trace_round_trips(const struct trace *tr, unsigned *rt)
{
	struct item *items = calloc(tr->nmsg + tr->nrec + 5, sizeof(*items));
	unsigned n = items ? timeline_items(tr, items) : 0, cur = 1;
	bool wrote = false;

	memset(rt, 0, tr->nmsg * sizeof(*rt));
	for (unsigned k = 0; k < n; k++) {
		if (items[k].kind == IT_MSG)
			rt[items[k].idx] = rt_step(tr->msg[items[k].idx].dir, &cur, &wrote);
		else if (items[k].kind == IT_RECORD)
			rt_step(tr->rec[items[k].idx].dir, &cur, &wrote);
	}
	free(items);
}

static void print_msg(FILE *f, const struct trace *tr, const struct tr_msg *m, int *last_rec,
		      bool tls13)
{
	char rec[64] = "", what[96];

	if (m->via_kernel) {
		snprintf(rec, sizeof rec, m->dir == TR_C2S ? "(kernel encrypts)" : "(kernel decrypts)");
	} else if (m->rec >= 0) {
		if (m->rec == *last_rec)
			snprintf(rec, sizeof rec, "  same record #%u", tr->rec[m->rec].no);
		else
			record_text(&tr->rec[m->rec], rec, sizeof rec);
		*last_rec = m->rec;
	}
	if (m->ctype == 21) {
		char a[64];
		snprintf(what, sizeof what, "Alert %s %s (%zu)", m->level == 2 ? "fatal" : "warning",
			 tls_alert_short(m->hs_type, a, sizeof a), m->len);
	} else {
		snprintf(what, sizeof what, "%s (%zu)", trace_msg_name(m), m->len);
	}
	fprintf(f, "%-6s  %-24s  %s\n", dir_short(m->dir), rec, what);

	/* what it is for */
	char why[320];
	const struct tr_server_hello *sh = m->hrr ? &tr->hrr : &tr->sh;
	char g[48];
	if (m->ctype == 22 && m->hs_type == 1 && m->dir == TR_C2S) {
		unsigned k = 0; /* which ClientHello: the second follows a HelloRetryRequest */
		for (const struct tr_msg *x = tr->msg; x < m; x++)
			k += x->ctype == 22 && x->hs_type == 1 && x->dir == TR_C2S;
		if (k < tr->nhello)
			print_hello(f, &tr->hello[k], k == 1, tr);
		return;
	}
	if (m->ctype == 22 && m->hs_type == 2 && m->hrr) {
		snprintf(why, sizeof why, "the server wants a key share for %s, which the client "
			 "supports but sent none for: the client sends a second ClientHello, one round "
			 "trip more", sh->group >= 0 ? code_name(trace_group_name((unsigned)sh->group),
								  (unsigned)sh->group, g, sizeof g) : "another group");
	} else if (m->ctype == 22 && m->hs_type == 2 && tls13 && sh->psk) {
		snprintf(why, sizeof why, "the server accepts the offered ticket (pre_shared_key) and "
			 "sends its key share (%s): no Certificate or CertificateVerify follow, the keys "
			 "come from the old session's secret and a fresh exchange",
			 sh->group >= 0 ? code_name(trace_group_name((unsigned)sh->group), (unsigned)sh->group,
						    g, sizeof g) : "none");
	} else if (m->ctype == 22 && m->hs_type == 2 && tls13) {
		snprintf(why, sizeof why, "the server's choice of cipher suite and its own key share "
			 "(%s): both sides now compute the shared secret, and everything after this is "
			 "encrypted", sh->group >= 0 ? code_name(trace_group_name((unsigned)sh->group),
								  (unsigned)sh->group, g, sizeof g) : "?");
	} else if (m->ctype == 22 && m->hs_type == 2) {
		snprintf(why, sizeof why, "%s", tr->resumed ?
			 "the server's choice of version and cipher suite, and the session it resumes" :
			 "the server's choice of version, cipher suite and session");
	} else {
		snprintf(why, sizeof why, "%s", explain(m, tls13));
	}
	if (*why) {
		fprintf(f, "%*s", COL_EXPLAIN, "");
		trace_wrap(f, COL_EXPLAIN, COL_EXPLAIN, why);
	}
}

static void print_timeline(FILE *f, const struct trace *tr, bool tls13)
{
	struct item *items = calloc(tr->nmsg + tr->nrec + 5, sizeof(*items));
	unsigned n = items ? timeline_items(tr, items) : 0;
	uint64_t prev = 0;
	int last_rec = -1;
	char line[256];
	unsigned cur = 1, rt;
	bool wrote = false;

	/* (Δ is two bytes in UTF-8: the header is padded by hand) */
	fprintf(f, "    time            \xce\x94  rt  %-6s  %-24s  %s\n", "dir", "record (payload bytes)",
		"message (bytes)");
	for (unsigned k = 0; k < n; k++) {
		rt = items[k].kind == IT_TCP ? 1
		     : items[k].kind == IT_MSG ? rt_step(tr->msg[items[k].idx].dir, &cur, &wrote)
		     : items[k].kind == IT_RECORD ? rt_step(tr->rec[items[k].idx].dir, &cur, &wrote) : 0;
		line_start(f, items[k].t_ns, &prev, rt);
		switch (items[k].kind) {
		case IT_TCP:
			trace_wrap(f, COL_DIR, COL_EXPLAIN, "-- TCP connected (SYN, SYN-ACK, ACK): a round "
				   "trip before any TLS byte --");
			break;
		case IT_HS_DONE:
			if (tr->early_sent && tr->early_status == SSL_EARLY_DATA_ACCEPTED)
				snprintf(line, sizeof line, "-- handshake complete (resumed session). The "
					 "server accepted the early data: the request went with the ClientHello "
					 "and its answer needs no round trip of its own --");
			else if (tr->early_sent)
				snprintf(line, sizeof line, "-- handshake complete%s. The server rejected the "
					 "early data (it skipped it unread): the request goes again now, one "
					 "round trip more --", tr->resumed ? " (resumed session)" : "");
			else
				snprintf(line, sizeof line, "-- handshake complete%s: from here on, "
					 "application data --", tr->resumed ? " (resumed session)" : "");
			trace_wrap(f, COL_DIR, COL_EXPLAIN, line);
			break;
		case IT_KTLS:
			snprintf(line, sizeof line, "-- the record layer moves into the kernel (kTLS): TX "
				 "continues at record sequence %" PRIu64 ", RX at %" PRIu64 " --", tr->tx_seq,
				 tr->rx_seq);
			trace_wrap(f, COL_DIR, COL_EXPLAIN, line);
			break;
		case IT_LINGER: {
			uint64_t quiet = tr->linger_end_ns - tr->linger_last_ns;
			if (tr->linger_tickets)
				snprintf(line, sizeof line, "-- no request to send, the client stayed for what a "
					 "TLS 1.3 server sends after the handshake: %u NewSessionTicket%s, then "
					 "%.0f ms without another byte, so it closes. That wait is the client's "
					 "choice, not the handshake's --", tr->linger_tickets,
					 tr->linger_tickets == 1 ? "" : "s", (double)quiet / 1e6);
			else
				snprintf(line, sizeof line, "-- no request to send, the client waited %.0f ms "
					 "for the NewSessionTickets a TLS 1.3 server usually sends after the "
					 "handshake; none came, so it closes (the wait is not part of the "
					 "handshake) --", (double)(tr->linger_end_ns - tr->linger_start_ns) / 1e6);
			trace_wrap(f, COL_DIR, COL_EXPLAIN, line);
			break;
		}
		case IT_RECORD: {
			const struct tr_record *r = &tr->rec[items[k].idx];
			char rec[64];
			record_text(r, rec, sizeof rec);
			fprintf(f, "%-6s  %-24s  %s (%zu)\n", dir_short(r->dir), rec,
				r->type == 20 ? "ChangeCipherSpec" : "(no message)", r->len);
			if (r->type == 20) {
				fprintf(f, "%*s", COL_EXPLAIN, "");
				trace_wrap(f, COL_EXPLAIN, COL_EXPLAIN, tls13 ?
					   "a dummy record for middleboxes that expect TLS 1.2; TLS 1.3 ignores it" :
					   "from the next record on, the server encrypts with the new keys");
			}
			break;
		}
		case IT_MSG:
			print_msg(f, tr, &tr->msg[items[k].idx], &last_rec, tls13);
			break;
		}
	}
	free(items);
}

unsigned trace_flights(const struct trace *tr, struct tr_flight_info *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tr->nrec; i++) {
		const struct tr_record *r = &tr->rec[i];
		if (!n || out[n - 1].dir != r->dir) {
			if (n == max)
				break;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].dir = r->dir;
			out[n].first_rec = i;
			n++;
		}
		out[n - 1].nrec++;
		out[n - 1].wire += 5 + r->len;
	}
	return n;
}

void trace_flight_messages(const struct trace *tr, const struct tr_flight_info *f, char *buf, size_t len)
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
			int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", trace_msg_name(m));
			if (k < 0 || (size_t)k >= len - used)
				return;
			used += (size_t)k;
		}
		if (!any) {
			/* a record OpenSSL reports no message for: TLS 1.3's compatibility CCS */
			int t = tr->rec[r].type;
			int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 t == 20 ? "ChangeCipherSpec" : trace_ctype_name(t));
			if (k < 0 || (size_t)k >= len - used)
				return;
			used += (size_t)k;
		}
	}
}

static void print_split(FILE *f, const struct trace *tr)
{
	const struct tr_split *s = &tr->split;
	char line[512];
	double tot = (double)s->total_ns;

	if (!s->set)
		return;
	fprintf(f, "\nWhere the handshake's %.3f ms went (from connect() to the handshake's end):\n",
		(double)s->total_ns / 1e6);
	snprintf(line, sizeof line, "%u round trip%s: the TCP connect (%.3f ms, the round trip used "
		 "below) and %u wait%s for the server's answer to a flight, up to one round trip each%s",
		 s->round_trips, s->round_trips == 1 ? "" : "s", (double)s->rtt_ns / 1e6,
		 s->round_trips - 1, s->round_trips == 2 ? "" : "s",
		 s->flight_tail_ns ? ", and waits for the rest of a flight already arriving" : "");
	fprintf(f, "  %-15s %9.3f ms %4.0f%%  ", "network", (double)s->network_ns / 1e6,
		tot > 0 ? 100.0 * (double)s->network_ns / tot : 0);
	trace_wrap(f, 38, 38, line);
	snprintf(line, sizeof line, "the server's answers came this much later than one round trip "
		 "after the client's flights: its computing (signing, key exchange) and queueing");
	fprintf(f, "  %-15s %9.3f ms %4.0f%%  ", "server compute", (double)s->server_ns / 1e6,
		tot > 0 ? 100.0 * (double)s->server_ns / tot : 0);
	trace_wrap(f, 38, 38, line);
	snprintf(line, sizeof line, "the rest, when the client was not waiting: building its messages "
		 "and key share, checking the certificate and signature, system calls");
	fprintf(f, "  %-15s %9.3f ms %4.0f%%  ", "client compute", (double)s->client_ns / 1e6,
		tot > 0 ? 100.0 * (double)s->client_ns / tot : 0);
	trace_wrap(f, 38, 38, line);
	fprintf(f, "  %-15s %9.3f ms  100%%\n", "total", tot / 1e6);
	if (tr->stamps && !tr->stamps_missing)
		snprintf(line, sizeof line, "Received messages are timed when their bytes reached this "
			 "machine (the kernel's receive timestamps), not when OpenSSL processed them; a wait "
			 "is from the read() call to that arrival.");
	else
		snprintf(line, sizeof line, "%u read%s came without the kernel's receive timestamp: "
			 "%s timed when OpenSSL processed them, and a wait lasts until the read() returned.",
			 tr->stamps ? tr->stamps_missing : (unsigned)tr->wire_calls[TR_S2C],
			 (tr->stamps ? tr->stamps_missing : (unsigned)tr->wire_calls[TR_S2C]) == 1 ? "" : "s",
			 tr->stamps ? "their messages are" : "received messages are");
	trace_wrap(f, 0, 0, line);
}

void trace_print(const struct trace *tr, FILE *f)
{
	const struct client_cfg *cfg = tr->cfg;
	bool tls13 = tr->neg.set && !strcmp(tr->neg.version, "1.3");
	struct tr_flight_info fl[64];
	unsigned nfl;
	char line[1024];

	if (tr->title)
		fprintf(f, "=== %s ===\n", tr->title);
	snprintf(line, sizeof line, "ktls-client trace: %s:%u, TLS %s, certificate verification %s",
		 cfg->host, cfg->port, cfg->tls.min_version == cfg->tls.max_version ?
		 tlsopts_version_name(cfg->tls.min_version) : "1.2 or 1.3",
		 cfg->verify_ca ? "on" : "off (--verify CAFILE turns it on)");
	trace_wrap(f, 0, 2, line);
	trace_wrap(f, 0, 0, "Times since connect(), \xce\x94 since the line above. Sent messages at the "
		   "client's write(), received ones when their bytes arrived. appdata/hs: a TLS 1.3 "
		   "encrypted record, whose outer type is always application_data and whose true type "
		   "(hs handshake, app data, alert) is inside. rt: the round trip a message belongs "
		   "to (the TCP connect is 1; each client flight that follows the server's bytes opens "
		   "the next, and what the server sends belongs to the one open when it arrived).");
	if (tr->cfg->early_data && tr->offered_session && !tr->early_sent) {
		snprintf(line, sizeof line, "--early-data: the ticket allows %zu bytes of early data, "
			 "too few for the request (%zu bytes): it goes after the handshake.", tr->early_max,
			 tr->cfg->reqs[0].len);
		trace_wrap(f, 0, 0, line);
	}
	fprintf(f, "\n");
	print_timeline(f, tr, tls13);
	if (!tr->hs_done_ns || !tr->neg.set) {
		fprintf(f, "\n(the handshake did not complete)\n");
		return;
	}

	nfl = trace_flights(tr, fl, 64);
	fprintf(f, "\nFlights (records sent back to back; bytes include the 5-byte record headers):\n");
	for (unsigned i = 0; i < nfl; i++) {
		char msgs[512];
		trace_flight_messages(tr, &fl[i], msgs, sizeof(msgs));
		int col = fprintf(f, "  %2u  %s  %2u record%s %6zu bytes  ", i + 1, dir_short(fl[i].dir),
				  fl[i].nrec, fl[i].nrec == 1 ? " " : "s", fl[i].wire);
		trace_wrap(f, (unsigned)col, (unsigned)col, msgs);
	}
	snprintf(line, sizeof line, "On the wire (seen by OpenSSL): the client wrote %" PRIu64 " bytes "
		 "in %" PRIu64 " write%s, read %" PRIu64 " bytes in %" PRIu64 " read%s.",
		 tr->wire_bytes[TR_C2S], tr->wire_calls[TR_C2S], tr->wire_calls[TR_C2S] == 1 ? "" : "s",
		 tr->wire_bytes[TR_S2C], tr->wire_calls[TR_S2C], tr->wire_calls[TR_S2C] == 1 ? "" : "s");
	fprintf(f, "\n");
	trace_wrap(f, 0, 0, line);
	if (tr->have_tcpi) {
		snprintf(line, sizeof line, "TCP segments carrying data during the handshake: %" PRIu64
			 " sent, %" PRIu64 " received (whole connection: %" PRIu64 " / %" PRIu64 "). Records "
			 "are not packets: a flight of several records can share one TCP segment, and a "
			 "large record can span several.", tr->segs_out_hs, tr->segs_in_hs, tr->segs_out,
			 tr->segs_in);
		trace_wrap(f, 0, 0, line);
	}
	print_split(f, tr);

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
	if (cfg->verify_ca) {
		fprintf(f, "  verified            yes, against %s\n", cfg->verify_ca);
	} else {
		fprintf(f, "  verified            ");
		trace_wrap(f, 22, 22, "no (--verify CAFILE checks the chain and the name; the "
			   "CertificateVerify signature is checked either way)");
	}

	if (cfg->trace_ktls) {
		fprintf(f, "\nkTLS:\n");
		if (tr->ktls_on) {
			fprintf(f, "  moved into the kernel at %.3f ms, cipher %s\n", (double)tr->ktls_ns / 1e6,
				tr->ktls_cipher);
			snprintf(line, sizeof line, "TX starts at sequence %" PRIu64 ", RX at %" PRIu64 ": "
				 "each direction numbers its records from 0 under each key (TLS 1.2: from the "
				 "ChangeCipherSpec), and the kernel must go on where OpenSSL stopped.",
				 tr->tx_seq, tr->rx_seq);
			fprintf(f, "  ");
			trace_wrap(f, 2, 2, line);
			fprintf(f, "  NewSessionTickets that arrived through the kernel: %" PRIu64 "\n",
				tr->ktls_tickets);
		} else {
			fprintf(f, "  not enabled: ");
			trace_wrap(f, 15, 4, tr->ktls_err);
		}
	}
	if (cfg->request_path && (!cfg->trace_ktls || tr->ktls_on)) {
		fprintf(f, "\nRequest %s %s:\n", cfg->method, cfg->request_path);
		if (tr->req_done) {
			fprintf(f, "  status %d, %" PRIu64 " body bytes in %.3f ms", tr->status, tr->body_bytes,
				(double)(tr->req_end_ns - tr->req_start_ns) / 1e6);
			if (tr->pattern_checked)
				fprintf(f, ", pattern %s", tr->pattern_ok ? "correct" : "WRONG");
			fprintf(f, "\n");
		} else {
			fprintf(f, "  failed: ");
			trace_wrap(f, 10, 4, tr->req_err[0] ? tr->req_err : "unknown");
		}
	}
}

/* client/trace_cmp.c: `ktls-client trace --resume`: a full handshake and a
 * resumed one side by side, their messages aligned (a longest common
 * subsequence of direction and name), then their sizes, round trips and
 * times, so that what resumption removes stands out. */
#include "client/trace.h"

#include <stdio.h>
#include <string.h>

#define CMP_MAX 64

struct hsmsg {
	int dir;
	const char *name;
	size_t len;
};

/* The handshake's messages (and ChangeCipherSpecs), up to its end. */
static unsigned hs_messages(const struct trace *tr, struct hsmsg *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tr->nmsg && n < CMP_MAX; i++) {
		const struct tr_msg *m = &tr->msg[i];
		if ((m->ctype != 22 && m->ctype != 20) || m->t_ns > tr->hs_done_ns)
			continue;
		out[n++] = (struct hsmsg){ m->dir, trace_msg_name(m), m->len };
	}
	return n;
}

static bool same(const struct hsmsg *a, const struct hsmsg *b)
{
	return a->dir == b->dir && !strcmp(a->name, b->name);
}

static void cell(char *buf, size_t len, const struct hsmsg *m)
{
	if (!m)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s  %-22s %6zu B", m->dir == TR_C2S ? "C" : "S", m->name, m->len);
}

static size_t bytes_from(const struct trace *tr, int dir)
{
	size_t n = 0;

	for (unsigned i = 0; i < tr->nrec; i++)
		if (tr->rec[i].dir == dir && tr->rec[i].t_ns <= tr->hs_done_ns && !tr->rec[i].via_kernel)
			n += 5 + tr->rec[i].len;
	return n;
}

void trace_print_compare(const struct trace *full, const struct trace *res, FILE *f)
{
	static struct hsmsg a[CMP_MAX], b[CMP_MAX];
	static unsigned short l[CMP_MAX + 1][CMP_MAX + 1];
	unsigned na = hs_messages(full, a), nb = hs_messages(res, b), i, j;
	char ca[64], cb[64], removed[512] = "";
	size_t used = 0;

	/* longest common subsequence, from the end */
	for (i = na + 1; i-- > 0;)
		for (j = nb + 1; j-- > 0;)
			l[i][j] = i == na || j == nb ? 0 : same(&a[i], &b[j]) ? (unsigned short)(l[i + 1][j + 1] + 1)
				  : l[i + 1][j] > l[i][j + 1] ? l[i + 1][j] : l[i][j + 1];
	fprintf(f, "\n=== side by side: what resumption removes ===\n");
	fprintf(f, "  %-44s  %s\n", "full handshake", "resumed (the session offered again)");
	for (i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && same(&a[i], &b[j])) {
			cell(ca, sizeof ca, &a[i++]);
			cell(cb, sizeof cb, &b[j++]);
		} else if (i < na && (j == nb || l[i + 1][j] >= l[i][j + 1])) {
			cell(ca, sizeof ca, &a[i]);
			cell(cb, sizeof cb, NULL);
			/* gone, not just moved (TLS 1.2's Finished comes earlier when resuming) */
			bool moved = false;
			for (unsigned k = 0; k < nb; k++)
				moved |= same(&a[i], &b[k]);
			int k = moved ? 0 : snprintf(removed + used, sizeof removed - used, "%s%s",
						     used ? ", " : "", a[i].name);
			if (k > 0 && (size_t)k < sizeof removed - used)
				used += (size_t)k;
			i++;
		} else {
			cell(ca, sizeof ca, NULL);
			cell(cb, sizeof cb, &b[j++]);
		}
		fprintf(f, "  %-44s  %s\n", ca, cb);
	}

	const struct tr_split *s = &full->split, *r = &res->split;
	fprintf(f, "\n  %-28s %16s %16s\n", "", "full handshake", "resumed");
	fprintf(f, "  %-28s %16zu %16zu\n", "bytes from the server", bytes_from(full, TR_S2C),
		bytes_from(res, TR_S2C));
	fprintf(f, "  %-28s %16zu %16zu\n", "bytes from the client", bytes_from(full, TR_C2S),
		bytes_from(res, TR_C2S));
	fprintf(f, "  %-28s %16u %16u\n", "round trips", s->round_trips, r->round_trips);
	fprintf(f, "  %-28s %13.3f ms %13.3f ms\n", "network", (double)s->network_ns / 1e6,
		(double)r->network_ns / 1e6);
	fprintf(f, "  %-28s %13.3f ms %13.3f ms\n", "server compute", (double)s->server_ns / 1e6,
		(double)r->server_ns / 1e6);
	fprintf(f, "  %-28s %13.3f ms %13.3f ms\n", "client compute", (double)s->client_ns / 1e6,
		(double)r->client_ns / 1e6);
	fprintf(f, "  %-28s %13.3f ms %13.3f ms\n", "total", (double)s->total_ns / 1e6,
		(double)r->total_ns / 1e6);

	char line[1024];
	bool tls13 = full->neg.set && !strcmp(full->neg.version, "1.3");
	if (!res->resumed) {
		trace_wrap(f, 0, 0, "\nThe server did not resume: the second handshake was a full one too.");
		return;
	}
	snprintf(line, sizeof line, "Resumption left out %s: the server sent no certificate and made no "
		 "signature, and the client checked neither.%s Time: %.0f%% of the full handshake's "
		 "(one connection each, so noisy: ktls-client handshake --resume measures it properly).",
		 used ? removed : "nothing", tls13 ? " The round trips stay the same in TLS 1.3 (no early "
		 "data here); a fresh key exchange still runs unless the server allows psk_ke." :
		 " TLS 1.2 resumption also saves a round trip: the server's Finished comes in its first flight.",
		 s->total_ns ? 100.0 * (double)r->total_ns / (double)s->total_ns : 0);
	fprintf(f, "\n");
	trace_wrap(f, 0, 0, line);
}

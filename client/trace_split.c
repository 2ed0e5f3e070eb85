/* client/trace_split.c: when the server's records arrived, and where the
 * handshake's time went.
 *
 * The handshake runs from connect() to SSL_connect() returning. The client
 * spends that time either waiting in a read() for bytes that have not
 * arrived yet, or doing something (building messages, computing key shares,
 * checking the certificate and the signature, system calls). A wait that
 * follows one of the client's flights is a round trip plus whatever the
 * server took to answer: one round trip (measured by the TCP connect, the
 * one exchange with no computation on either side) counts as network, the
 * rest as server compute. A wait in the middle of a server flight (its first
 * records arrived, the rest had not) counts as network: on a real link that
 * is transfer time. Everything else is client compute, so the three add up
 * to the total by construction; what makes them meaningful is that each
 * wait is measured from the kernel's receive timestamps, not from when
 * OpenSSL got around to processing the bytes.
 */
#include "client/trace.h"

#include <string.h>

uint64_t trace_msg_time(const struct trace *tr, const struct tr_msg *m)
{
	if (m->rec >= 0 && !m->via_kernel && tr->rec[m->rec].t_arrive)
		return tr->rec[m->rec].t_arrive;
	return m->t_ns;
}

/* rec[].t_arrive: for a received record, the arrival of the read that
 * delivered its last byte; for a sent one, when the write() holding its
 * last byte returned (OpenSSL reports a record before it writes it).
 * Records and socket calls are both in stream order, per direction. */
static void record_times(struct trace *tr, int dir)
{
	uint64_t rec_end = 0, io_start = 0;
	unsigned w = 0;

	for (unsigned i = 0; i < tr->nrec; i++) {
		struct tr_record *r = &tr->rec[i];
		if (r->dir != dir || r->via_kernel)
			continue;
		rec_end += 5 + r->len;
		while (w < tr->nwire) {
			const struct tr_wire *x = &tr->wire[w];
			if (x->dir == dir) {
				if (io_start + x->bytes >= rec_end)
					break;
				io_start += x->bytes;
			}
			w++;
		}
		if (w == tr->nwire)
			return;
		r->t_arrive = dir == TR_S2C ? tr->wire[w].t_arrive : tr->wire[w].t_ns;
	}
}

static void split(struct trace *tr)
{
	struct tr_split *s = &tr->split;
	bool after_flight = false;

	memset(s, 0, sizeof(*s));
	if (!tr->hs_done_ns || !tr->neg.set)
		return;
	s->total_ns = tr->hs_done_ns;
	s->rtt_ns = tr->tcp_ns;
	s->round_trips = 1;
	s->network_ns = tr->tcp_ns; /* the TCP connect: a round trip and nothing else */
	for (unsigned i = 0; i < tr->nwire; i++) {
		const struct tr_wire *x = &tr->wire[i];
		if (x->t_call >= tr->hs_done_ns)
			break;
		if (x->dir == TR_C2S) {
			after_flight = true;
			continue;
		}
		/* blocked from the call until the bytes arrived (or, without a
		 * timestamp, until the read returned) */
		uint64_t wait;
		if (x->t_arrive)
			wait = x->t_arrive > x->t_call ? (x->t_arrive < x->t_ns ? x->t_arrive : x->t_ns) - x->t_call : 0;
		else
			wait = x->t_ns - x->t_call;
		s->wait_ns += wait;
		if (after_flight) {
			uint64_t net = wait < s->rtt_ns ? wait : s->rtt_ns;
			s->round_trips++;
			s->network_ns += net;
			s->server_ns += wait - net;
			after_flight = false;
		} else {
			s->network_ns += wait;
			s->flight_tail_ns += wait;
		}
	}
	if (s->network_ns + s->server_ns > s->total_ns) /* (clock granularity) */
		s->server_ns = s->total_ns > s->network_ns ? s->total_ns - s->network_ns : 0;
	if (s->network_ns > s->total_ns)
		s->network_ns = s->total_ns;
	s->client_ns = s->total_ns - s->network_ns - s->server_ns;
	s->set = true;
}

void trace_analyse(struct trace *tr)
{
	record_times(tr, TR_S2C);
	record_times(tr, TR_C2S);
	split(tr);
}

/* client/get.c: get mode. Each connection does its handshake (counted, and
 * timed in the handshake histogram), optionally moves RX into the kernel,
 * then sends keep-alive requests back to back; a job is one request, timed
 * from its first byte written to its last byte read. */
#include "client/engine.h"

static void get_next(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t t = now_ns();

	if (w->ending || t >= w->run->t_end) {
		conn_finish(c);
		return;
	}
	if (!worker_claim(w)) {
		w->ending = true;
		conn_finish(c);
		return;
	}
	c->t_req = t;
	conn_send_request(c);
}

void get_established(struct conn *c)
{
	if (c->w->cfg->rx == RX_KTLS && rxktls_enable(c))
		return;
	get_next(c);
}

void get_response(struct conn *c)
{
	uint64_t t = now_ns();

	if (c->resp.status >= 200 && c->resp.status < 300)
		worker_record_job(c->w, t, t - c->t_req, true);
	if (c->resp.close || c->peer_closed) {
		conn_finish(c); /* the server said Connection: close: start another */
		return;
	}
	get_next(c);
}

/* client/get.c: get mode. Each connection does its handshake (counted, and
 * timed in the handshake histogram), optionally moves RX into the kernel,
 * then sends keep-alive requests; a job is one request.
 *
 * Closed loop: each connection sends its next request as soon as the last
 * response is in, and a request is timed from its first byte written to its
 * last byte read.
 *
 * Open loop (--rate, as wrk2's -R): the worker keeps its connections open
 * and starts requests on a fixed schedule, each on a connection that is
 * idle; when none is, the request waits for one, and its latency still runs
 * from its scheduled start, so a slow server (or too few connections) shows
 * in the percentiles instead of lowering the rate asked (no coordinated
 * omission). Starts more than 1 ms behind schedule are counted as late. */
#include "client/worker.h"

#include <openssl/err.h>

#define LATE_NS NS_PER_MS

static void idle_push(struct conn *c)
{
	struct worker *w = c->w;

	c->st = CS_READY;
	worker_deadline_clear(w, c); /* an idle connection has no deadline */
	c->idle_next = NULL;
	c->idle_prev = w->idle_tail;
	if (w->idle_tail)
		w->idle_tail->idle_next = c;
	else
		w->idle_head = c;
	w->idle_tail = c;
	c->on_idle = true;
}

void get_idle_remove(struct conn *c)
{
	struct worker *w = c->w;

	if (!c->on_idle)
		return;
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		w->idle_head = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		w->idle_tail = c->idle_prev;
	c->idle_prev = c->idle_next = NULL;
	c->on_idle = false;
}

/* Open loop: take the next scheduled start for c when one is due. */
static bool take_due(struct conn *c, uint64_t now)
{
	struct worker *w = c->w;

	if (w->ending || w->next_sched > now || w->next_sched >= w->sched_end)
		return false;
	if (!worker_claim(w)) {
		w->ending = true;
		return false;
	}
	uint64_t lag = now - w->next_sched;
	if (worker_in_window(w, now)) {
		if (lag > LATE_NS)
			w->st.late_starts++;
		if (lag > w->st.max_start_lag_ns)
			w->st.max_start_lag_ns = lag;
	}
	c->t_req = w->next_sched; /* latency from the schedule, not from the send */
	w->next_sched += w->interval_ns;
	conn_send_request(c);
	return true;
}

/* The count is reached: close the idle connections, the others close as
 * their responses come in. */
static void close_idle(struct worker *w)
{
	while (w->idle_head)
		conn_finish(w->idle_head);
}

static void get_next(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t t = now_ns();

	if (w->ending || t >= w->run->t_end) {
		conn_finish(c);
		return;
	}
	if (w->interval_ns) {
		if (!take_due(c, t)) {
			if (w->ending) {
				conn_finish(c);
				close_idle(w);
				return;
			}
			idle_push(c); /* until the schedule says so */
		}
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

void get_dispatch(struct worker *w, uint64_t now)
{
	while (w->idle_head && !w->ending) {
		struct conn *c = w->idle_head;
		get_idle_remove(c);
		if (!take_due(c, now)) {
			idle_push(c);
			break;
		}
		conn_step(c);
	}
	if (w->ending)
		close_idle(w);
}

int get_idle_event(struct conn *c)
{
	unsigned char b[256];
	ssize_t n = conn_read(c, b, sizeof(b));

	if (n == 0)
		return 0; /* nothing (a TLS 1.3 ticket, say): wait */
	if (n == CONN_EOF) {
		conn_finish(c); /* the server closed an idle connection: the worker opens another */
		return 0;
	}
	if (n > 0)
		conn_fail(c, ERR_HTTP_BAD, -1); /* bytes nobody asked for */
	return 0;
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
	phases_record(c, t);   /* the connection's first response only */
	if (c->resp.close || c->peer_closed) {
		conn_finish(c); /* the server said Connection: close: start another */
		return;
	}
	get_next(c);
}

static bool get_sends_requests(const struct client_cfg *cfg)
{
	(void)cfg;
	return true;
}

/* keep-alive requests follow at once: tickets are read along the way */
static bool get_waits_for_tickets(const struct client_cfg *cfg)
{
	(void)cfg;
	return false;
}

const struct conn_mode get_mode = {
	.established = get_established,
	.response_done = get_response,
	.sends_requests = get_sends_requests,
	.waits_for_tickets = get_waits_for_tickets,
};

/* client/handshake.c: handshake mode. A job is one connection: connect, TLS
 * handshake, optionally one request (--request), close. Its latency runs
 * from the job's start (the scheduled start in open loop, so time spent
 * waiting for a free slot or a slow server counts) to the handshake's end,
 * or to the end of the response with --request. */
#include "client/worker.h"

#include <openssl/err.h>

/* TLS 1.3 sends its tickets after the handshake: with --resume, stay until
 * one arrived, so the slot's next connection has something to offer. */
static void after_job(struct conn *c)
{
	if (c->w->cfg->resume && !c->got_ticket && SSL_version(c->ssl) >= TLS1_3_VERSION) {
		c->st = CS_TICKET;
		worker_deadline_set(c->w, c, now_ns() + c->w->cfg->timeout_ns);
		return;
	}
	/* TLS 1.2 hands out its session (ID or ticket) within the handshake */
	if (c->w->cfg->resume && !c->got_ticket && !SSL_session_reused(c->ssl)) {
		handshake_no_ticket(c, "gave no TLS 1.2 session to resume (no session ID, no ticket)");
		return;
	}
	conn_finish(c);
}

void handshake_established(struct conn *c)
{
	if (c->w->cfg->request_path) {
		/* --early-data: accepted, the answer is on its way; rejected,
		 * the same request again (the server dropped it unread) */
		if (c->early == EARLY_ACCEPTED || c->early == EARLY_REJECTED) {
			conn_expect_response(c, c->early == EARLY_REJECTED);
			return;
		}
		c->t_req = now_ns();
		conn_send_request(c);
		return;
	}
	uint64_t t = now_ns();
	worker_record_job(c->w, t, t - c->t_start, false);
	phases_record(c, t);
	after_job(c);
}

void handshake_response(struct conn *c)
{
	uint64_t t = now_ns();

	if (c->resp.status >= 200 && c->resp.status < 300)
		worker_record_job(c->w, t, t - c->t_start, true);
	/* accepted as early data, but refused by the application: the
	 * same request again, now that the handshake is complete (RFC 8470,
	 * 5.2); its time and round trips go on from the first */
	if (c->early == EARLY_ACCEPTED && c->resp.status == 425) {
		if (worker_in_window(c->w, t))
			c->w->st.early_too_early++;
		c->early = EARLY_RETRIED;
		if (!c->peer_closed && !c->resp.close) {
			c->t_first = 0;
			conn_expect_response(c, true);
			return;
		}
		worker_record_http(c->w, 425);  /* the server closed: no retry here */
	}
	phases_record(c, t);
	if (c->peer_closed)
		conn_finish(c);
	else
		after_job(c);
}

int handshake_ticket_wait(struct conn *c)
{
	unsigned char b[256];
	int r;

	/* SSL_read processes the NewSessionTicket messages (on_new_session()
	 * sets got_ticket) and reports that no application data came */
	while (!c->got_ticket) {
		r = SSL_read(c->ssl, b, sizeof(b));
		if (r > 0)
			continue; /* unexpected data: ignored */
		if (c->got_ticket) {
			ERR_clear_error();
			break; /* (SSL_read then says it would block) */
		}
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
			return 0;
		ERR_clear_error();
		handshake_no_ticket(c, "sent no TLS 1.3 session ticket before it closed the connection");
		return 0;
	}
	conn_finish(c);
	return 0;
}

void handshake_no_ticket(struct conn *c, const char *why)
{
	struct run *run = c->w->run;

	worker_record_error(c->w, ERR_NO_TICKET, -1);
	/* Without a single ticket in the run, waiting again on every connection
	 * would only measure the timeout: say so now and stop. */
	if (!__atomic_load_n(&run->tickets_seen, __ATOMIC_RELAXED))
		engine_fatal(run, "--resume: the server %s: there is nothing to resume. Turn session "
			     "tickets (TLS 1.2: or the session cache) on in the server (ktls-server --tickets 1 "
			     "or more, --session-cache; nginx: ssl_session_tickets on, ssl_session_cache) or "
			     "drop --resume", why);
	conn_finish(c);
}

/* --request: one request before closing, so the connection writes after its
 * handshake */
static bool handshake_sends_requests(const struct client_cfg *cfg)
{
	return cfg->request_path != NULL;
}

/* --resume with no request: the tickets arrive after the handshake, so the
 * connection waits for them before closing */
static bool handshake_waits_for_tickets(const struct client_cfg *cfg)
{
	return cfg->resume && !cfg->request_path;
}

const struct conn_mode handshake_mode = {
	.established = handshake_established,
	.response_done = handshake_response,
	.sends_requests = handshake_sends_requests,
	.waits_for_tickets = handshake_waits_for_tickets,
};

/* client/conn.c: one connection's state machine, driven by edge-triggered
 * epoll events: connect, handshake, request, response, close.
 *
 * The SSL object and its socket BIO belong to the slot and are reused with
 * SSL_clear() from one connection to the next (no per-connection SSL_new).
 * Sockets are edge-triggered: the state machine runs until OpenSSL says it
 * would block, and the next edge brings it back. A socket joins the epoll set
 * only once it has to wait, for EPOLLIN alone when the ClientHello went out
 * at once (the usual case on loopback), so the connect's EPOLLOUT edge does
 * not cost a wakeup, an SSL_connect() and a failed read(). */
#include "client/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/pattern.h"

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	worker_deadline_clear(w, c);
	if (c->on_idle)
		get_idle_remove(c);
	if (c->kc || c->rx_data)
		rxktls_release(c);
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set; sends what MSG_MORE held, with the FIN */
	c->fd = -1;
	c->hold = c->held = c->in_handshake = false;
	c->st = CS_IDLE;
	c->established = false;
	w->inflight--;
	c->next_free = w->free_list;
	w->free_list = c;
}

void conn_abandon(struct conn *c)
{
	conn_close(c);
}

void conn_fail(struct conn *c, enum err_kind kind, int alert)
{
	if ((int)kind >= 0)
		worker_record_error(c->w, kind, alert);
	ERR_clear_error();
	conn_close(c);
}

static void conn_fail_ssl(struct conn *c, int ssl_err, int saved_errno)
{
	int alert;
	enum err_kind k = tls_classify(ssl_err, saved_errno, &alert);

	/* a refusal surfaces at the first write, before any TLS byte went out */
	if (c->st == CS_CONNECTING && k == ERR_IO)
		k = ERR_CONNECT;
	conn_fail(c, k, alert);
}

void conn_finish(struct conn *c)
{
	/* close_notify, without waiting for the server's. After the server
	 * closed first, only mark the session as cleanly ended (OpenSSL would
	 * otherwise refuse to resume it). */
	if (c->established && !c->peer_closed) {
		c->hold = true; /* close_notify leaves with the FIN of close() */
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	} else if (c->established) {
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	}
	conn_close(c);
}

static int conn_prepare_ssl(struct conn *c)
{
	struct worker *w = c->w;
	const struct client_cfg *cfg = w->cfg;

	/* kTLS connections get a fresh SSL each time: libktls keeps per-SSL
	 * state; so do early-data ones: OpenSSL 3.0's SSL_clear() keeps the
	 * early-data state, and SSL_write_early_data() then refuses to start */
	if (c->ssl && (cfg->rx == RX_KTLS || cfg->early_data)) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ssl && !SSL_clear(c->ssl)) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (!c->ssl) {
		c->ssl = SSL_new(w->ctx);
		c->bio = c->ssl ? sockbio_new(c) : NULL;
		if (!c->bio) {
			SSL_free(c->ssl);
			c->ssl = NULL;
			return -1;
		}
		SSL_set_bio(c->ssl, c->bio, c->bio);
		SSL_set_app_data(c->ssl, c);
		if (cfg->sni || !cfg->host_is_ip)
			SSL_set_tlsext_host_name(c->ssl, (char *)(cfg->sni ? cfg->sni : cfg->host));
	} else {
		sockbio_reset(c->bio);
	}
	SSL_set_session(c->ssl, cfg->resume ? c->sess : NULL);
	c->offered = cfg->resume && c->sess;
	SSL_set_connect_state(c->ssl);
	c->early = EARLY_NONE;
	if (cfg->early_data && c->offered) {
		/* the request goes with the ClientHello when the ticket allows it */
		const struct client_req *r = &cfg->reqs[w->next_req];
		if (SSL_SESSION_get_max_early_data(c->sess) >= r->len) {
			c->req = r;
			if (++w->next_req == cfg->nreqs)
				w->next_req = 0;
			c->early = EARLY_WANT;
		} else if (worker_in_window(w, c->t_conn)) {
			w->st.early_not_allowed++;
		}
	}
	return 0;
}

int conn_watch(struct conn *c, bool write)
{
	uint32_t want = EPOLLIN | EPOLLET | (write ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want | c->ev, .data.ptr = c };

	if ((c->ev & want) == want)
		return 0;
	if (epoll_ctl(c->w->epfd, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_fail(c, ERR_IO, -1);
		return -1;
	}
	c->ev = ev.events;
	return 0;
}

void conn_start(struct conn *c, uint64_t t_start)
{
	struct worker *w = c->w;
	const struct client_cfg *cfg = w->cfg;
	int fd;

	w->inflight++;
	c->st = CS_CONNECTING;
	c->established = false;
	c->peer_closed = false;
	c->got_ticket = false;
	c->t_start = t_start;
	c->t_conn = now_ns();
	phases_start(c);
	if (worker_in_window(w, c->t_conn))
		w->st.connections++;

	/* Handshake mode writes nothing that Nagle could delay: the ClientHello
	 * goes out on an idle connection and the last flight with the close
	 * (the FIN pushes it). Keep-alive requests need TCP_NODELAY. */
	fd = bind_connect(c, w->mode->sends_requests(cfg));
	if (fd < 0) {
		conn_fail(c, fd == -EMFILE || fd == -ENFILE ? ERR_FD_LIMIT :
			     fd == -ECONNREFUSED ? ERR_CONNECT_REFUSED :
			     fd == -EADDRNOTAVAIL ? ERR_ADDRNOTAVAIL : ERR_CONNECT, -1);
		return;
	}
	c->fd = fd;
	c->ev = 0;
	/* TLS: the server says nothing before the ClientHello, so there is
	 * nothing to read until epoll says so */
	c->readable = false;
	worker_deadline_set(w, c, c->t_conn + cfg->timeout_ns);
	if (conn_prepare_ssl(c)) {
		conn_fail(c, ERR_TLS, -1);
		return;
	}
	/* On loopback the TCP handshake is usually complete by now: try to send
	 * the ClientHello at once instead of waiting for the EPOLLOUT edge. */
	conn_step(c);
	if (c->st != CS_IDLE && !c->ev)
		conn_watch(c, c->st == CS_CONNECTING);
}

void conn_send_request(struct conn *c)
{
	struct worker *w = c->w;

	c->req = &w->cfg->reqs[w->next_req];
	if (++w->next_req == w->cfg->nreqs)
		w->next_req = 0;
	conn_expect_response(c, true);
}

void conn_expect_response(struct conn *c, bool send)
{
	c->hdr_len = 0;
	c->in_body = false;
	c->st = send ? CS_SEND : CS_RECV;
	worker_deadline_set(c->w, c, c->t_req + c->w->cfg->timeout_ns);
}

ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
	int r, e, en;

	if (c->kc || c->rx_data)
		return rxktls_read(c, buf, len);
	r = SSL_read(c->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (r > 0)
		return r;
	en = errno;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && en == 0 && !ERR_peek_error()) ||
	    (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		c->peer_closed = true;
		return CONN_EOF;
	}
	conn_fail_ssl(c, e, en);
	return -1;
}

/* Handshake step. 1: go on with the new state; 0: wait for an event. */
static int step_handshake(struct conn *c)
{
	struct worker *w = c->w;
	int r, e, en;

	if (c->early == EARLY_WANT) {
		/* the ClientHello, then the request as early data; the
		 * handshake goes on below without waiting */
		size_t wrote = 0;
		r = SSL_write_early_data(c->ssl, c->req->text, c->req->len, &wrote);
		if (r != 1) {
			en = errno;
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				if (c->st != CS_CONNECTING || c->ev)
					conn_watch(c, e == SSL_ERROR_WANT_WRITE);
				return 0;
			}
			conn_fail_ssl(c, e, en);
			return 0;
		}
		c->early = EARLY_SENT;
		c->t_req = now_ns();
		if (worker_in_window(w, c->t_req))
			w->st.early_sent++;
	}
	c->in_handshake = c->st == CS_HANDSHAKE;
	r = SSL_connect(c->ssl);
	c->in_handshake = false;
	if (r == 1) {
		uint64_t t = now_ns();
		bool resumed = SSL_session_reused(c->ssl);
		c->established = true;
		if (c->early == EARLY_SENT) {
			/* the server's EncryptedExtensions said whether it took it */
			bool acc = SSL_get_early_data_status(c->ssl) == SSL_EARLY_DATA_ACCEPTED;
			c->early = acc ? EARLY_ACCEPTED : EARLY_REJECTED;
			if (worker_in_window(w, t))
				(*(acc ? &w->st.early_accepted : &w->st.early_rejected))++;
		}
		if (c->offered && worker_in_window(w, t))
			w->st.offered++;
		worker_record_handshake(w, t, t - c->t_start, resumed);
		if (!resumed && !w->run->neg.set) {
			struct negotiated n;
			tls_describe(c->ssl, &n);
			pthread_mutex_lock(&w->run->lock);
			if (!w->run->neg.set)
				w->run->neg = n;
			pthread_mutex_unlock(&w->run->lock);
		}
		w->mode->established(c);
		return 1;
	}
	en = errno;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->st = CS_HANDSHAKE; /* the ClientHello is out */
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		if (c->st != CS_CONNECTING || c->ev)
			conn_watch(c, true); /* (a new connection registers in conn_start) */
		return 0;
	}
	conn_fail_ssl(c, e, en);
	return 0;
}

static int step_send(struct conn *c)
{
	struct worker *w = c->w;
	int r, e, en;

	(void)w;
	r = SSL_write(c->ssl, c->req->text, (int)c->req->len);
	if (r > 0) {
		c->st = CS_RECV;
		return 1;
	}
	en = errno;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		conn_watch(c, e == SSL_ERROR_WANT_WRITE);
		return 0;
	}
	conn_fail_ssl(c, e, en);
	return 0;
}

/* Body bytes p[0..n): check them against the pattern, count them.
 * 0, or -1 after conn_fail(). */
static int take_body(struct conn *c, const uint8_t *p, size_t n, uint64_t t)
{
	struct worker *w = c->w;

	if (n > c->body_left) {
		conn_fail(c, ERR_HTTP_BAD, -1); /* more than Content-Length said */
		return -1;
	}
	if (c->verify_body && pattern_check(p, c->body_off, n) >= 0) {
		conn_fail(c, ERR_PATTERN, -1);
		return -1;
	}
	c->body_off += n;
	c->body_left -= n;
	/* only a successful response's body is throughput: a 404 page is not */
	if (c->resp.status >= 200 && c->resp.status < 300)
		worker_record_bytes(w, t, n);
	return 0;
}

static int start_body(struct conn *c, size_t head_len)
{
	const struct client_cfg *cfg = c->w->cfg;
	int rc = http_parse_head(c->hdr, head_len, &c->resp);

	if (rc == -ENOTSUP && cfg->head_method && !c->resp.close) {
		/* HEAD: no body whatever the head says, so none to delimit */
		rc = 0;
	}
	if (rc) {
		conn_fail(c, rc == -ENOTSUP ? ERR_HTTP_UNSUPPORTED : ERR_HTTP_BAD, -1);
		return -1;
	}
	if (cfg->head_method) {
		c->resp.content_length = 0;
		c->resp.until_eof = false;
	}
	c->in_body = true;
	c->body_left = c->resp.content_length;
	c->body_off = 0;
	c->verify_body = false;
	if (c->early == EARLY_ACCEPTED && c->resp.status == 425) {
		/* Too Early: sent again after the handshake (handshake.c),
		 * counted as too_early_425, not as an error */
	} else if (c->resp.status < 200 || c->resp.status >= 300) {
		worker_record_http(c->w, c->resp.status);
	} else if (c->req->want >= 0 && c->resp.status == 200) {
		/* /bytes/N must bring exactly N bytes of the pattern */
		if (!c->resp.until_eof && (int64_t)c->resp.content_length != c->req->want) {
			conn_fail(c, ERR_PATTERN, -1);
			return -1;
		}
		c->verify_body = true;
	}
	return 0;
}

/* The whole body is in: 1 when the connection goes on, 0 when it closed. */
static int end_body(struct conn *c)
{
	/* a body delimited by the close must still have the requested length */
	if (c->resp.until_eof && c->verify_body && (int64_t)c->body_off != c->req->want) {
		conn_fail(c, ERR_PATTERN, -1);
		return 0;
	}
	worker_deadline_clear(c->w, c);
	conn_response_done(c);
	return c->st != CS_IDLE;
}

static int step_recv(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n = conn_read(c, w->rbuf, w->rbuf_len);
	const uint8_t *p = w->rbuf;
	size_t left;
	uint64_t t;

	if (n == CONN_EOF) {
		if (c->in_body && c->resp.until_eof)
			return end_body(c);
		conn_fail(c, ERR_EOF, -1); /* closed before the response was complete */
		return 0;
	}
	if (n <= 0)
		return 0; /* would block, or failed */
	left = (size_t)n;
	t = now_ns();
	if (!c->t_first)
		c->t_first = t;
	if (!c->in_body) {
		size_t k = CONN_HDR_MAX - c->hdr_len, from = c->hdr_len > 3 ? c->hdr_len - 3 : 0, end;
		if (k > left)
			k = left;
		memcpy(c->hdr + c->hdr_len, p, k);
		c->hdr_len += k;
		p += k;
		left -= k;
		end = http_head_end(c->hdr + from, c->hdr_len - from);
		if (!end) {
			if (c->hdr_len == CONN_HDR_MAX) {
				conn_fail(c, ERR_HTTP_BAD, -1);
				return 0;
			}
			return 1;
		}
		end += from;
		if (start_body(c, end))
			return 0;
		if (take_body(c, (const uint8_t *)c->hdr + end, c->hdr_len - end, t))
			return 0;
	}
	if (left && take_body(c, p, left, t))
		return 0;
	if (c->body_left == 0)
		return end_body(c);
	return 1;
}

void conn_response_done(struct conn *c)
{
	c->w->mode->response_done(c);
}

bool conn_flight_is_last(const struct conn *c)
{
	bool tls13 = SSL_version(c->ssl) >= TLS1_3_VERSION;

	/* TLS 1.3 (and an abbreviated TLS 1.2 handshake) end with the client's
	 * flight; a full TLS 1.2 handshake waits for the server's Finished */
	if (!tls13 && !SSL_session_reused(c->ssl))
		return false;
	/* --resume on TLS 1.3 waits for the tickets before closing */
	if (tls13 && c->w->mode->waits_for_tickets(c->w->cfg))
		return false;
	return true;
}

void conn_step(struct conn *c)
{
	for (;;) {
		int go;
		switch (c->st) {
		case CS_CONNECTING:
		case CS_HANDSHAKE: go = step_handshake(c); break;
		case CS_TICKET: go = handshake_ticket_wait(c); break;
		case CS_SEND: go = step_send(c); break;
		case CS_RECV: go = step_recv(c); break;
		case CS_READY: go = get_idle_event(c); break;
		default: return;
		}
		if (!go)
			break;
	}
	/* about to wait for the server: nothing may stay held back */
	if (c->held && c->st != CS_IDLE)
		sockbio_push(c);
}

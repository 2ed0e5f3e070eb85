/* server/conn.c: one connection's state machine.
 *
 *   accept -> HANDSHAKE --(ktls mode)--> SWITCH -> OPEN -> DRAIN -> closed
 *                       \----(user mode)--------/
 *
 * HANDSHAKE reads the socket record-exactly: a receive peeks, the libktls
 * framer walks the record headers, and only whole records (or the arrived
 * part of the first one) are taken (take_records), so when OpenSSL reports
 * the handshake done the socket is at a record boundary: kTLS RX can start
 * there, after whole records already read are decrypted. SWITCH waits for the
 * last handshake bytes (tickets) to be sent, then ktls_enable(). OPEN serves
 * HTTP: receive, decrypt (user mode) into c->req, answer each complete
 * request (respond.c), send. DRAIN: close_notify and FIN sent, reading until
 * the peer closes so that unread bytes do not turn our close into a reset.
 *
 * Every operation in flight holds c->inflight; a connection is freed only
 * when it is DEAD and nothing is in flight. Receives use the worker's ring
 * of provided buffers, so an idle connection holds no buffer.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void conn_free(struct conn *c);

void conn_set_list(struct conn *c, struct list *l)
{
	list_del(&c->link);
	c->since_ns = c->w->now_ns;
	list_add_tail(l, &c->link);
}

/* Progress on an open connection restarts its idle timeout, except while
 * a request is arriving: that deadline runs from the request's first byte
 * (slowloris: a byte now and then must not keep it open). */
void conn_touch(struct conn *c)
{
	if (c->state == CS_OPEN && !c->in_request)
		conn_set_list(c, &c->w->open_list);
}

void conn_set_end(struct conn *c, const char *why)
{
	if (!c->end)
		c->end = why;
}

/* Is an open connection waiting for the rest of a request (a head, a
 * record, or a body to discard) with nothing of ours to send? */
static bool request_pending(const struct conn *c)
{
	if (c->resp.kind != RESP_NONE || c->send_busy || cbuf_used(&c->out) || c->close_after ||
	    c->rd_eof)
		return false;
	return cbuf_used(&c->req) || cbuf_used(&c->rin) || c->discard;
}

static void update_request_deadline(struct conn *c)
{
	bool pending = request_pending(c);

	if (pending == c->in_request)
		return;
	c->in_request = pending;
	conn_set_list(c, pending ? &c->w->req_list : &c->w->open_list);
}

struct conn *conn_new(struct worker *w, int fd)
{
	struct conn *c = pool_get(&w->pool_conn);

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->fd = fd;
	c->state = CS_HANDSHAKE;
	c->mode = TLS_MODE_USER;
	c->resp.file_fd = -1;
	c->resp.pipe[0] = c->resp.pipe[1] = -1;
	c->early = w->srv->cfg.early_data ? EARLY_READING : EARLY_OFF;
	list_init(&c->link);
	if (tls_conn_init(c, w->srv->ctx)) {
		pool_put(&w->pool_conn, c);
		return NULL;
	}
	ktls_framer_init(&c->fr);
	conn_set_list(c, &w->hs_list);
	w->nconns++;
	conn_arm_recv(c);
	return c;
}

static void maybe_free(struct conn *c)
{
	if (c->state == CS_DEAD && c->inflight == 0)
		conn_free(c);
}

/* Close now: pending operations are woken by shutdown() and the
 * connection is freed when the last one completes. */
void conn_abort(struct conn *c, const char *why)
{
	if (c->state == CS_DEAD)
		return;
	/* A TLS 1.3 client that closes right after its handshake (a handshake
	 * benchmark, tls-perf, ktls-client handshake) never reads the tickets
	 * sent after it, and its kernel answers them with a reset: the peer's
	 * choice, not an error of the connection. */
	if (why && !strcmp(why, "reset_by_peer") && c->tickets_out && !c->answered && !cbuf_used(&c->req)) {
		why = NULL;
		c->end = "peer_closed_after_handshake";
	}
	if (why) {
		reasons_add(&c->w->st.conn_errors, why);
		c->end = strcmp(why, "server_stopping") ? "error" : "server_stopping";
	}
	c->state = CS_DEAD;
	list_del(&c->link);
	if (c->inflight)
		shutdown(c->fd, SHUT_RDWR);
	maybe_free(c);
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;

	respond_free(c);
	tls_conn_free(c);
	cbuf_release(&c->rin);
	cbuf_release(&c->req);
	cbuf_release(&c->out);
	/* closed by io_uring with the next submission: no system call of its own */
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, UD(w, OP_IGNORE));
	reasons_add(&w->st.closes, c->end ? c->end : "closed");
	w->nconns--;
	if (w->accept_paused)
		w->accept_resume_ns = 0;    /* a descriptor is free again */
	__atomic_fetch_sub(&w->srv->conns_current, 1, __ATOMIC_RELAXED);
	pool_put(&w->pool_conn, c);
}

static void hs_fail(struct conn *c, const char *why)
{
	STAT_ADD(c->w->st.handshake_failures, 1);
	reasons_add(&c->w->st.hs_fail, why);
	conn_set_end(c, "handshake_failed");
	conn_abort(c, NULL);
}

/* A deadline passed. Each kind is counted: handshake (--handshake-timeout),
 * request (--request-timeout: answered with 408, then closed), send (the
 * client stopped reading: no progress for --idle-timeout), idle (nothing
 * asked for --idle-timeout), linger (closing: no FIN from the client). */
void conn_timeout(struct conn *c)
{
	struct worker_stats *st = &c->w->st;

	switch (c->state) {
	case CS_HANDSHAKE:
		STAT_ADD(st->timeouts_handshake, 1);
		c->end = "handshake_timeout";
		hs_fail(c, "timeout");
		break;
	case CS_SWITCH:                 /* the handshake is done (and counted) */
	case CS_OPEN:
		if (c->in_request) {
			STAT_ADD(st->timeouts_request, 1);
			c->end = "request_timeout";
			c->in_request = false;
			conn_set_list(c, &c->w->open_list);  /* the 408 gets --idle-timeout to leave */
			if (respond_timeout(c) < 0)
				conn_abort(c, NULL);
			else
				conn_pump(c);
			break;
		}
		if (c->send_busy || c->resp.splices || c->wait_out || c->file_busy ||
		    cbuf_used(&c->out) || c->resp.kind != RESP_NONE) {
			STAT_ADD(st->timeouts_send, 1);
			c->end = "send_timeout";
		} else {
			STAT_ADD(st->timeouts_idle, 1);
			c->end = "idle_timeout";
		}
		conn_abort(c, NULL);
		break;
	default:
		STAT_ADD(st->timeouts_linger, 1);
		conn_abort(c, NULL);
	}
}

void conn_arm_recv(struct conn *c)
{
	struct worker *w = c->w;
	size_t len, room;
	int flags = 0;

	if (c->recv_busy || c->nobufs)
		return;
	switch (c->state) {
	case CS_HANDSHAKE:
		/* a peek: what is there is consumed up to a record boundary */
		room = c->rin.p ? c->rin.cap - cbuf_used(&c->rin) : RIN_SIZE;
		len = room < w->buf_size ? room : w->buf_size;
		flags = MSG_PEEK;
		break;
	case CS_OPEN:
		if (c->rd_eof || c->close_after)
			return;
		if (c->mode == TLS_MODE_USER)
			room = c->rin.p ? c->rin.cap - cbuf_used(&c->rin) : RIN_SIZE;
		else
			room = c->req.p ? c->req.cap - cbuf_used(&c->req) : w->pool_req.size;
		len = room < w->buf_size ? room : w->buf_size;
		break;
	case CS_DRAIN:
		if (c->no_rx || c->rd_eof)
			return;
		len = w->buf_size;
		break;
	default:
		return;
	}
	if (len == 0)
		return;
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_recv(sqe, c->fd, NULL, len, flags);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	io_uring_sqe_set_data64(sqe, UD(c, OP_RECV));
	c->recv_busy = true;
	c->inflight++;
}

/* No provided buffer was free: try again on the next loop turn. */
void conn_retry_recv(struct conn *c)
{
	c->nobufs = false;
	c->inflight--;
	if (c->state == CS_DEAD)
		maybe_free(c);
	else
		conn_arm_recv(c);
}

static int append(struct conn *c, struct cbuf *b, struct pool *pool, const uint8_t *p, uint32_t n)
{
	if (cbuf_ensure(b, pool))
		return -1;
	if (cbuf_room(b) < n)
		cbuf_compact(b);
	if (cbuf_room(b) < n)
		return -1;      /* cannot happen: receives ask for at most the room */
	memcpy(b->p + b->len, p, n);
	b->len += n;
	(void)c;
	return 0;
}

static void switch_done(struct conn *c)
{
	int rc = tls_switch_to_ktls(c);
	if (rc == -1) {
		/* a bad record behind the Finished: OpenSSL's alert leaves
		 * (after the tickets, sent before the switch), then FIN */
		c->end = "tls_error";
		conn_drain(c, false);
		return;
	}
	if (rc < 0) {
		/* counted under ktls_refusals (--strict) or conn_errors */
		conn_set_end(c, c->ktls_refused ? "ktls_refused" : "error");
		if (c->ssl && !c->kc) {
			/* --strict, nothing in the kernel yet: close_notify, FIN */
			tls_shutdown(c);
			conn_drain(c, false);
		} else {
			conn_abort(c, NULL);
		}
		return;
	}
	if (rc == 1) {
		respond_flush(c);   /* then call again (on_send: CS_SWITCH) */
		return;
	}
	c->state = CS_OPEN;
	conn_set_list(c, &c->w->open_list);
	conn_pump(c);
}

static void handshake_done(struct conn *c)
{
	struct worker *w = c->w;

	if (SSL_session_reused(c->ssl))
		STAT_ADD(w->st.handshakes_resumed, 1);
	else
		STAT_ADD(w->st.handshakes_full, 1);
	c->tickets_out = SSL_version(c->ssl) == TLS1_3_VERSION && SSL_get_num_tickets(c->ssl) > 0;
	cbuf_release_if_empty(&c->rin);
	if (w->srv->cfg.mode == TLS_MODE_KTLS) {
		c->state = CS_SWITCH;
		if (cbuf_used(&c->out) || c->send_busy) {
			respond_flush(c);   /* the switch follows the send */
			return;
		}
		switch_done(c);
		return;
	}
	c->state = CS_OPEN;
	conn_set_list(c, &w->open_list);
	conn_pump(c);
}

/* Early requests answered while the handshake waits for the client's
 * Finished: the response goes out right behind the server's Finished, one
 * round trip sooner. A response with a large body has its head written now
 * and the rest once the handshake is done (conn_pump; with --tls ktls
 * through the kernel after the switch: libktls counts the records OpenSSL
 * wrote under the application key, these among them); a request body to
 * skip waits for that too. */
static void early_answer(struct conn *c)
{
	if (SSL_get_early_data_status(c->ssl) != SSL_EARLY_DATA_ACCEPTED)
		return;
	while (c->resp.kind == RESP_NONE && !c->discard && !c->close_after && cbuf_used(&c->req) &&
	       tls_write_budget(c) >= SMALL_BODY + 1024) {
		uint64_t before = STAT_GET(c->w->st.requests);
		int r = respond_request(c);
		if (r < 0) {
			conn_abort(c, "error");
			return;
		}
		if (r == 0)
			break;
		if (STAT_GET(c->w->st.requests) != before)
			STAT_ADD(c->w->st.early_answered_0rtt, 1);
	}
}

static void handshake_step(struct conn *c)
{
	int r;

	if (c->early == EARLY_READING) {
		r = tls_early_read(c);
		if (r < 0) {
			conn_set_end(c, "handshake_failed");
			conn_drain(c, false);
			return;
		}
		if (r == 0) {
			early_answer(c);
			if (c->state != CS_HANDSHAKE)
				return;
			respond_flush(c);
			conn_arm_recv(c);
			return;
		}
	}
	r = tls_handshake(c);

	if (r < 0) {
		/* send the alert OpenSSL queued, FIN, read to the client's FIN */
		conn_set_end(c, "handshake_failed");
		conn_drain(c, false);
		return;
	}
	if (r == 1) {
		handshake_done(c);
		return;
	}
	respond_flush(c);
	conn_arm_recv(c);
}

/* Handshake: p[0..n) was peeked. Consume every complete record in it (or,
 * when it holds none, the part of the first record that has arrived) and
 * nothing more, so the socket always stays at a record boundary after a
 * complete record: whatever follows the client's Finished is either a whole
 * record already read (decrypted in userspace before kTLS RX starts) or
 * still in the kernel. The framer checks each record header. 0, or -1 when
 * the connection was closed. */
static int take_records(struct conn *c, const uint8_t *p, uint32_t n)
{
	struct worker *w = c->w;
	struct ktls_framer f = c->fr;
	uint32_t done = 0, whole = 0;

	while (done < n) {
		size_t want = ktls_framer_want(&f);
		uint32_t k = want < n - done ? (uint32_t)want : n - done;
		if (ktls_framer_feed(&f, p + done, k) < 0) {
			conn_not_tls(c, f.hdr, n);
			return -1;
		}
		done += k;
		if (ktls_framer_at_boundary(&f))
			whole = done;
	}
	uint32_t take = whole ? whole : n;
	if (cbuf_ensure(&c->rin, &w->pool_rin)) {
		hs_fail(c, "out_of_memory");
		return -1;
	}
	if (cbuf_room(&c->rin) < take)
		cbuf_compact(&c->rin);
	/* the bytes are in the socket (just peeked): this returns at once */
	ssize_t got = recv(c->fd, c->rin.p + c->rin.len, take, MSG_DONTWAIT);
	if (got <= 0) {
		hs_fail(c, got == 0 ? "closed_in_handshake" : "receive_error");
		return -1;
	}
	ktls_framer_feed(&c->fr, c->rin.p + c->rin.len, (size_t)got);
	c->rin.len += (uint32_t)got;
	return 0;
}

static void on_recv_data(struct conn *c, const uint8_t *p, uint32_t n)
{
	struct worker *w = c->w;

	switch (c->state) {
	case CS_HANDSHAKE:
		if (take_records(c, p, n) == 0)
			handshake_step(c);
		break;
	case CS_OPEN:
		conn_touch(c);
		if (c->mode == TLS_MODE_USER) {
			/* where the peer's records end: a TCP EOF inside one is a
			 * truncated record (tls_read) */
			(void)ktls_framer_feed(&c->fr, p, n);
			if (append(c, &c->rin, &w->pool_rin, p, n)) {
				conn_abort(c, "out_of_memory");
				return;
			}
		} else {
			if (append(c, &c->req, &w->pool_req, p, n)) {
				conn_abort(c, "out_of_memory");
				return;
			}
			STAT_ADD(w->st.bytes_in, n);
		}
		conn_pump(c);
		break;
	case CS_DRAIN:
		conn_drain_recv(c, (int)n);
		break;
	default:
		break;
	}
}

/* libktls sends control records (close_notify, the answer to a KeyUpdate)
 * with a plain sendmsg() on our blocking socket: around those calls the
 * socket is non-blocking, so a full send buffer (a client that does not
 * read) makes them fail with EAGAIN instead of stalling the whole worker. */
void conn_nonblock(int fd, bool on)
{
	fcntl(fd, F_SETFL, on ? O_NONBLOCK : 0);
}

void conn_wait_out(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->wait_out)
		return;
	sqe = worker_sqe(c->w);
	io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
	io_uring_sqe_set_data64(sqe, UD(c, OP_WAIT_OUT));
	c->wait_out = true;
	c->inflight++;
}

/* kTLS RX: a receive failed with EIO because a control record (alert,
 * NewSessionTicket, KeyUpdate) is next, or with a bad record's error
 * (EBADMSG, EMSGSIZE, EINVAL), or met EOF (res 0). libktls reads and
 * handles it: data, EOF, or an error named KTLS_E_* (with its alert sent). */
static void on_ktls_control(struct conn *c, int res)
{
	struct worker *w = c->w;

	if (res == -EIO)
		STAT_ADD(w->st.ktls_control, 1);
	if (cbuf_ensure(&c->req, &w->pool_req)) {
		conn_abort(c, "out_of_memory");
		return;
	}
	cbuf_compact(&c->req);
	conn_nonblock(c->fd, true);
	ssize_t n = ktls_recv(c->kc, c->req.p + c->req.len, cbuf_room(&c->req), MSG_DONTWAIT);
	conn_nonblock(c->fd, false);
	if (n > 0) {
		c->req.len += (uint32_t)n;
		STAT_ADD(w->st.bytes_in, (uint64_t)n);
	} else if (n == 0) {
		c->rd_eof = true;           /* close_notify */
		conn_set_end(c, "client_closed");
	} else if (n != -EAGAIN) {
		/* libktls sent the alert naming it: it leaves, then FIN. A
		 * record that decrypted but had no place here (or the client's
		 * own alert) leaves RX usable, so what follows is read and
		 * dropped until the client's FIN; after one the kernel could not
		 * decrypt, or a KeyUpdate not followed, nothing more can be read. */
		cbuf_release_if_empty(&c->req);
		reasons_add(&w->st.conn_errors, ktls_errname((int)n));
		conn_set_end(c, "error");
		conn_drain(c, n != KTLS_E_BAD_RECORD && n != KTLS_E_ALERT);
		return;
	} else if (res == 0) {
		c->rd_eof = true;           /* EOF at a record boundary, and nothing unread */
		conn_set_end(c, "client_closed");
	} else if (res != -EIO) {
		/* The kernel's record parser failed (a bad header or length): the
		 * receive that saw it took the socket's error with it, so libktls
		 * only sees silence. Send the alert that names it, and close. */
		uint8_t alert[2] = { 2, res == -EBADMSG ? 20 : res == -EMSGSIZE ? 22 : 10 };
		conn_nonblock(c->fd, true);
		ktls_send_record(c->kc, 21, alert, sizeof alert);
		conn_nonblock(c->fd, false);
		cbuf_release_if_empty(&c->req);
		reasons_add(&w->st.conn_errors, res == -EBADMSG ? "KTLS_E_DECRYPT" : res == -EMSGSIZE
			    ? "KTLS_E_RECORD_OVERFLOW" : "KTLS_E_BAD_RECORD");
		conn_set_end(c, "error");
		conn_drain(c, true);
		return;
	}
	conn_touch(c);
	conn_pump(c);
}

static void on_recv(struct conn *c, int res, unsigned flags)
{
	struct worker *w = c->w;
	bool have_buf = flags & IORING_CQE_F_BUFFER;
	unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;

	c->recv_busy = false;
	c->inflight--;
	if (c->state == CS_DEAD) {
		if (have_buf)
			worker_recycle_buf(w, bid);
		maybe_free(c);
		return;
	}
	if (res == -ENOBUFS) {
		STAT_ADD(w->st.recv_nobufs, 1);
		c->nobufs = true;
		c->inflight++;              /* the retry list holds the connection */
		c->retry_next = w->retry_head;
		w->retry_head = c;
		return;
	}
	if (res < 0) {
		if (have_buf)
			worker_recycle_buf(w, bid);
		/* kTLS: EIO is a control record; EBADMSG (a record failed
		 * authentication), EMSGSIZE (over the maximum size) and EINVAL
		 * (a malformed header) are bad records: libktls names them and
		 * sends the alert */
		if ((res == -EIO || res == -EBADMSG || res == -EMSGSIZE || res == -EINVAL) &&
		    c->state == CS_OPEN && c->mode == TLS_MODE_KTLS) {
			on_ktls_control(c, res);
		} else if (c->state == CS_HANDSHAKE) {
			hs_fail(c, res == -ECONNRESET ? "reset_by_peer" : "receive_error");
		} else if (c->state == CS_DRAIN) {
			conn_drain_recv(c, res);
		} else {
			conn_abort(c, res == -ECONNRESET ? "reset_by_peer" : "receive_error");
		}
		return;
	}
	if (res == 0) {
		if (have_buf)
			worker_recycle_buf(w, bid);
		if (c->state == CS_HANDSHAKE) {
			hs_fail(c, c->fr.records == 0 && c->fr.hdr_have == 0 ? "closed_before_hello"
									     : "closed_in_handshake");
		} else if (c->state == CS_DRAIN) {
			conn_drain_recv(c, 0);
		} else if (c->state == CS_OPEN && c->mode == TLS_MODE_KTLS) {
			/* the kernel returns 0 at a TCP EOF inside a record too:
			 * libktls tells a truncated record from a clean end */
			on_ktls_control(c, 0);
		} else {
			c->rd_eof = true;
			conn_set_end(c, "client_closed");
			conn_pump(c);
		}
		return;
	}
	if (!have_buf) {
		conn_abort(c, "receive_without_buffer");
		return;
	}
	on_recv_data(c, w->bufs + (size_t)bid * w->buf_size, (uint32_t)res);
	worker_recycle_buf(w, bid);
}

static bool can_stage(struct conn *c)
{
	if (c->mode == TLS_MODE_USER)
		return tls_write_budget(c) >= SMALL_BODY + 1024;
	if (!c->out.p)
		return true;
	return cbuf_room(&c->out) + (c->send_busy ? 0 : c->out.off) >= SMALL_BODY + 1024;
}

/* User mode: a record failed (bad MAC, bad length or type, too many
 * KeyUpdates, ...). OpenSSL queued the alert naming it in c->out: it
 * leaves, then FIN, then we read until the client closes. */
static void fail_tls(struct conn *c)
{
	c->end = "tls_error";
	conn_drain(c, false);
}

/* Make all the progress possible on an open connection: decrypt, answer
 * complete requests, stage bodies, send, and read more when there is room. */
void conn_pump(struct conn *c)
{
	int r;

	if (c->state != CS_OPEN)
		return;
	for (;;) {
		/* ciphertext waiting, or plaintext OpenSSL decrypted but c->req
		 * had no room for */
		if (c->mode == TLS_MODE_USER && c->ssl && (cbuf_used(&c->rin) || SSL_has_pending(c->ssl))) {
			if (tls_read(c) < 0) {
				fail_tls(c);
				return;
			}
		}
		if (c->resp.kind != RESP_NONE) {
			r = respond_continue(c);
			if (r < 0) {
				conn_set_end(c, "error");
				conn_abort(c, NULL);
				return;
			}
			if (r == 0)
				break;
			continue;
		}
		if (c->close_after || !can_stage(c))
			break;
		if (c->discard) {
			uint32_t n = cbuf_used(&c->req);
			if (n > c->discard)
				n = (uint32_t)c->discard;
			cbuf_consume(&c->req, n);
			c->discard -= n;
			if (c->discard)
				break;
		}
		if (!cbuf_used(&c->req))
			break;
		r = respond_request(c);
		if (r < 0) {
			conn_set_end(c, "error");
			conn_abort(c, NULL);
			return;
		}
		if (r == 0)
			break;
	}
	if (c->state != CS_OPEN)
		return;
	cbuf_release_if_empty(&c->req);
	cbuf_release_if_empty(&c->rin);
	if (c->close_after && c->resp.kind == RESP_NONE && c->mode == TLS_MODE_USER && c->ssl)
		tls_shutdown(c);    /* close_notify leaves with the last response */
	respond_flush(c);
	if (c->state != CS_OPEN)
		return;
	bool idle = c->resp.kind == RESP_NONE && !c->send_busy && !cbuf_used(&c->out);
	/* after the EOF, until OpenSSL has decrypted what it holds (once
	 * SSL_read() reached the EOF there is nothing: OpenSSL 3.5's
	 * SSL_has_pending() stays true after it) */
	bool no_more = c->close_after ||
		       (c->rd_eof && (c->tls_eof || !(c->ssl && (cbuf_used(&c->rin) || SSL_has_pending(c->ssl)))));
	if (idle && no_more) {
		if (c->in_request) {
			c->in_request = false;
			conn_set_list(c, &c->w->open_list);
		}
		conn_finish(c);
		return;
	}
	update_request_deadline(c);
	conn_arm_recv(c);
}

static void on_send(struct conn *c, int res)
{
	c->send_busy = false;
	c->inflight--;
	respond_sent(c, res);
	if (c->state == CS_DEAD) {
		maybe_free(c);
		return;
	}
	if (res < 0) {
		if (c->state == CS_HANDSHAKE)
			hs_fail(c, res == -ECONNRESET || res == -EPIPE ? "reset_by_peer" : "send_error");
		else
			conn_abort(c, c->state == CS_DRAIN ? NULL
				   : res == -EPIPE || res == -ECONNRESET ? "reset_by_peer" : "send_error");
		return;
	}
	switch (c->state) {
	case CS_HANDSHAKE:
		respond_flush(c);
		if (!c->send_busy)
			handshake_step(c);  /* it may have been waiting for room */
		break;
	case CS_SWITCH:
		if (cbuf_used(&c->out))
			respond_flush(c);
		else
			switch_done(c);
		break;
	case CS_OPEN:
		conn_touch(c);
		conn_pump(c);
		break;
	case CS_DRAIN:
		/* an alert, or the last bytes before FIN */
		conn_drain_sent(c);
		break;
	default:
		break;
	}
}

void conn_on_cqe(struct conn *c, unsigned tag, int res, unsigned flags)
{
	switch (tag) {
	case OP_RECV:
		on_recv(c, res, flags);
		break;
	case OP_SEND:
		on_send(c, res);
		break;
	case OP_SPLICE_IN:
	case OP_SPLICE_OUT:
		c->inflight--;
		respond_on_splice(c, tag, res);
		if (c->state == CS_DEAD)
			maybe_free(c);
		break;
	case OP_WAIT_OUT:
		c->inflight--;
		c->wait_out = false;
		if (c->state == CS_DEAD)
			maybe_free(c);
		else if (c->state == CS_DRAIN)
			conn_drain_sent(c);
		else
			conn_pump(c);
		break;
	case OP_OPEN:
		c->inflight--;
		respond_on_open(c, res);
		if (c->state == CS_DEAD)
			maybe_free(c);
		break;
	case OP_FREAD:
		c->inflight--;
		c->file_busy = false;
		respond_on_fread(c, res);
		if (c->state == CS_DEAD)
			maybe_free(c);
		break;
	default:
		break;
	}
}

/* The server is stopping: handshakes end now, open connections after the
 * response they are sending (respond.c answers with Connection: close). */
void conn_stop(struct conn *c)
{
	switch (c->state) {
	case CS_HANDSHAKE:
		c->end = "server_stopping";
		hs_fail(c, "server_stopping");
		break;
	case CS_SWITCH:
		conn_abort(c, "server_stopping");
		break;
	case CS_OPEN:
		conn_set_end(c, "server_stopping");
		c->close_after = true;
		conn_pump(c);
		break;
	default:
		break;
	}
}

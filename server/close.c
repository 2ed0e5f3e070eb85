/* server/close.c: how a connection ends.
 *
 * Whatever the reason, the end has the same shape: what is queued leaves
 * first (the last response and close_notify, or the alert that names an
 * error, or the session tickets still owed), then our FIN, then we read and
 * discard what the client still sends until its FIN (CS_DRAIN, bounded by
 * LINGER_NS), and only then close(): a close() with unread bytes would
 * reset the connection, and the reset can destroy what we sent last.
 *
 * Under kTLS "left" means more than "send() returned": the kernel accepts a
 * record, then hands it to TCP as the send buffer makes room, and close()
 * drops the records it still holds (tls_sw_release_resources_tx), as would
 * the EPIPE of an early shutdown(SHUT_WR). So a closing kTLS connection
 * waits on the flush list until TCP's send queue (SIOCOUTQ) is empty at two
 * sweeps in a row (50 ms apart, time for the kernel's TLS TX work to have
 * run), with the idle timeout counted from the last progress.
 *
 * Two exceptions, both the kernel's: after a bad record under kTLS RX
 * nothing more can be read (the TLS socket stays in error), and a record cut
 * short by the client's FIN stays in TCP's queue; there, close() after the
 * alert has left resets the connection.
 */
#include "server/server.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Our output has left: FIN, then read until the client's FIN. */
static void drain_fin(struct conn *c)
{
	c->tx_flush = false;
	if (c->rd_eof || c->no_rx) {
		conn_abort(c, NULL);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	conn_set_list(c, &c->w->drain_list);
	conn_arm_recv(c);
}

void conn_drain_sent(struct conn *c)
{
	if (cbuf_used(&c->out) || c->send_busy) {
		respond_flush(c);
		return;
	}
	if (c->mode == TLS_MODE_KTLS && c->kc && (ktls_conn_dirs(c->kc) & KTLS_TX)) {
		/* the kernel may still hold records: FIN once they left */
		c->tx_flush = true;
		c->outq_zero = false;
		c->last_outq = UINT32_MAX;
		conn_set_list(c, &c->w->flush_list);
		if (!c->no_rx && !c->rd_eof)
			conn_arm_recv(c);
		return;
	}
	drain_fin(c);
}

void conn_drain(struct conn *c, bool no_rx)
{
	if (c->state == CS_DEAD)
		return;
	c->state = CS_DRAIN;
	c->close_after = true;
	c->in_request = false;
	c->no_rx = no_rx;
	conn_set_list(c, &c->w->drain_list);
	conn_drain_sent(c);
}

void conn_finish(struct conn *c)
{
	if (c->mode == TLS_MODE_USER && c->ssl && !c->shut_sent) {
		tls_shutdown(c);
		if (cbuf_used(&c->out)) {
			respond_flush(c);
			return;
		}
	}
	if (c->mode == TLS_MODE_KTLS && c->kc && !c->shut_sent) {
		if (c->wait_out)
			return;
		conn_nonblock(c->fd, true);
		int rc = ktls_close(c->kc);
		conn_nonblock(c->fd, false);
		if (rc == -EAGAIN) {
			/* the send buffer is full: try again when there is room */
			STAT_ADD(c->w->st.close_notify_waits, 1);
			conn_wait_out(c);
			return;
		}
		c->shut_sent = true;
	}
	if (cbuf_used(&c->out) || c->send_busy) {
		respond_flush(c);
		return;
	}
	/* User mode, nothing unread and the client said it sends no more:
	 * close now (the FIN follows the data TCP holds). */
	if (c->mode == TLS_MODE_USER &&
	    (c->rd_eof || (c->peer_close && !cbuf_used(&c->req) && !cbuf_used(&c->rin) && !c->discard))) {
		conn_abort(c, NULL);
		return;
	}
	conn_drain(c, false);
}

/* ktls, CS_DRAIN: a receive met a control record (the client's
 * close_notify, most often): libktls reads it. */
static void drain_control(struct conn *c)
{
	char b[2048];

	for (int i = 0; i < 64; i++) {
		conn_nonblock(c->fd, true);
		ssize_t n = ktls_recv(c->kc, b, sizeof b, MSG_DONTWAIT);
		conn_nonblock(c->fd, false);
		if (n > 0)
			continue;               /* data: discarded */
		if (n == -EAGAIN) {
			conn_arm_recv(c);
			return;
		}
		if (n == 0) {
			/* close_notify (or TCP's FIN): nothing more comes */
			c->rd_eof = true;
			if (!c->tx_flush)
				conn_abort(c, NULL);
			return;
		}
		break;
	}
	/* An error: nothing more can be read. */
	c->no_rx = true;
	if (!c->tx_flush)
		conn_abort(c, NULL);
}

void conn_drain_recv(struct conn *c, int res)
{
	if (res > 0) {
		conn_arm_recv(c);               /* discarded */
		return;
	}
	if (res == 0) {
		c->rd_eof = true;
		if (!c->tx_flush)
			conn_abort(c, NULL);
		return;
	}
	if (res == -EIO && c->mode == TLS_MODE_KTLS && c->kc) {
		drain_control(c);
		return;
	}
	/* reset, or the kernel's TLS RX in error */
	c->no_rx = true;
	if (!c->tx_flush || res == -ECONNRESET || res == -EPIPE)
		conn_abort(c, NULL);
}

void conn_flush_sweep(struct worker *w)
{
	struct list *l = &w->flush_list, *n = l->next;

	while (n != l) {
		struct list *next = n->next;
		struct conn *c = (struct conn *)((char *)n - offsetof(struct conn, link));
		int q = 0;

		n = next;
		/* reset by the client: nothing will leave any more */
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state == TCP_CLOSE) {
			conn_abort(c, NULL);
			continue;
		}
		if (ioctl(c->fd, SIOCOUTQ, &q) || q < 0)
			q = 0;
		if (q == 0 && c->outq_zero) {
			drain_fin(c);
			continue;
		}
		if ((uint32_t)q != c->last_outq) {
			c->since_ns = w->now_ns;        /* progress */
			c->last_outq = (uint32_t)q;
		}
		c->outq_zero = q == 0;
		if (w->now_ns - c->since_ns >= w->srv->cfg.idle_timeout_ns) {
			STAT_ADD(w->st.timeouts_send, 1);
			c->end = "send_timeout";
			conn_abort(c, NULL);
		}
	}
}

/* The alert for bytes that are not a TLS record header (RFC 8446, 5 and
 * 6.2): an SSL 2.0-format ClientHello or a version not 3.x is
 * protocol_version, a length over the limit record_overflow, any other
 * content type unexpected_message. */
static uint8_t not_tls_alert(const uint8_t *h, uint32_t n)
{
	if (n >= 3 && (h[0] & 0x80) && h[2] == 1)
		return 70;                      /* SSL 2.0 CLIENT-HELLO */
	if (h[0] < 20 || h[0] > 23)
		return 10;
	if (n >= 2 && h[1] != 3)
		return 70;
	return 22;
}

void conn_not_tls(struct conn *c, const uint8_t *hdr, uint32_t n)
{
	const uint8_t alert[7] = { 21, 3, 3, 0, 2, 2, not_tls_alert(hdr, n) };
	uint8_t b[4096];

	STAT_ADD(c->w->st.handshake_failures, 1);
	reasons_add(&c->w->st.hs_fail, "not_tls");
	conn_set_end(c, "handshake_failed");
	/* what was peeked is still in the socket: read it */
	for (uint32_t left = n; left > 0;) {
		ssize_t k = recv(c->fd, b, left < sizeof b ? left : sizeof b, MSG_DONTWAIT);
		if (k <= 0)
			break;
		left -= (uint32_t)k;
	}
	if (cbuf_ensure(&c->out, &c->w->pool_small) == 0 && cbuf_room(&c->out) >= sizeof alert) {
		memcpy(c->out.p + c->out.len, alert, sizeof alert);
		c->out.len += sizeof alert;
	}
	conn_drain(c, false);
}

/* ktls/io.c: record I/O once the kernel holds the keys.
 *
 * Data records flow through plain send()/recv(); this file handles what a
 * plain recv() cannot: records of another content type, which the kernel
 * delivers only to recvmsg() with a control-message buffer (a recv()
 * without one fails with EIO on them). Control records may arrive split
 * over several reads (a small user buffer); alerts and handshake messages
 * are reassembled (handshake messages up to KTLS_HS_MAX bytes).
 */
#include "ktls/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


enum { REC_CCS = 20, REC_ALERT = 21, REC_HANDSHAKE = 22, REC_DATA = 23 };
enum { HS_HELLO_REQUEST = 0, HS_NEW_SESSION_TICKET = 4, HS_KEY_UPDATE = 24 };

int ktls_send_control(struct ktls_conn *c, uint8_t type, const void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	size_t off = 0;

	do {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;
		ssize_t n;

		memset(cbuf, 0, sizeof(cbuf));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_TLS;
		cm->cmsg_type = TLS_SET_RECORD_TYPE;
		cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
		*CMSG_DATA(cm) = type;
		n = ktls_sys_sendmsg(c->fd, &msg, 0);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		off += (size_t)n;
	} while (off < len);
	return 0;
}

/* A fatal alert of ours, best effort: the stream is over either way. */
static void send_fatal_alert(struct ktls_conn *c, uint8_t desc)
{
	uint8_t a[2] = { 2, desc };

	if ((c->dirs & KTLS_TX) && !c->tx_closed && ktls_send_control(c, REC_ALERT, a, 2) == 0)
		c->tx_closed = true;
}

static int fail(struct ktls_conn *c, int code, int alert_desc)
{
	if (alert_desc >= 0)
		send_fatal_alert(c, (uint8_t)alert_desc);
	c->fatal = code;
	return code;
}

/* Records the peer sent under the current RX key, up to and including the
 * one just read (the kernel counts them: its next sequence number). 1 when
 * the kernel cannot tell (the limits then count every KeyUpdate as being
 * in a row). */
static uint64_t records_this_key(struct ktls_conn *c)
{
	uint64_t seq;

	if (ktls_kernel_rx_seq(c, &seq) || seq <= c->rx_gen_start)
		return 1;
	return seq - c->rx_gen_start;
}

/* The peer asked for new keys (TLS 1.3 KeyUpdate). at_end: the message
 * ended its record (as RFC 8446, 5.1 requires of a message before a key
 * change), false when more bytes of the same record follow it. */
static int on_key_update(struct ktls_conn *c, const uint8_t *body, size_t len, bool at_end)
{
	uint64_t recs;
	int rc;

	if (c->version != TLS1_3_VERSION)
		return fail(c, KTLS_E_BAD_RECORD, 10 /* unexpected_message */);
	if (len != 1)
		return fail(c, KTLS_E_BAD_RECORD, 50 /* decode_error */);
	if (body[0] > 1)
		return fail(c, KTLS_E_BAD_RECORD, 47 /* illegal_parameter */);
	if (!at_end)
		return fail(c, KTLS_E_BAD_RECORD, 10 /* unexpected_message */);
	/* The limits of ktls.h (bounded work for any peer). */
	recs = records_this_key(c);
	c->ku_in_a_row = recs > 1 ? 1 : c->ku_in_a_row + 1;
	c->rx_records += recs;
	c->ku_total++;
	if (c->ku_in_a_row > KTLS_KU_LIMIT_IN_A_ROW ||
	    c->ku_total > KTLS_KU_LIMIT_FREE + c->rx_records / KTLS_KU_LIMIT_RECORDS)
		return fail(c, KTLS_E_KEY_UPDATE_LIMIT, 10 /* unexpected_message */);
	if (!ktls_sys_rekey_supported()) {
		/* Everything after this record is under a key the kernel cannot
		 * take: end the stream cleanly instead of failing to decrypt. */
		ktls_close(c);
		c->fatal = KTLS_E_REKEY_UNSUPPORTED;
		return c->fatal;
	}
	rc = ktls_rotate(c, KTLS_RX);
	if (rc)
		return fail(c, rc == -EBUSY ? KTLS_E_REKEY_UNSUPPORTED : rc, 80 /* internal_error */);
	c->rx_gen_start = 0;
	c->st.key_updates_rx++;
	if (body[0] == 1 && (c->dirs & KTLS_TX) && !c->tx_closed) {
		/* Answer before our next data record. A full send buffer (a
		 * peer not reading) leaves it due: ktls_flush(), ktls_send()
		 * and the next ktls_recv() try again. */
		c->ku_answer_pending = true;
		rc = ktls_send_ku_answer(c);
		if (rc && rc != -EAGAIN)
			return rc;
	}
	return 0;
}

static int on_handshake_msg(struct ktls_conn *c, const uint8_t *msg, size_t len, bool at_end)
{
	const uint8_t *body = msg + 4;
	size_t blen = len - 4;

	switch (msg[0]) {
	case HS_NEW_SESSION_TICKET:
		if (c->version != TLS1_3_VERSION)
			break;
		c->st.tickets++;
		if (c->hs_cb)
			c->hs_cb(c, msg[0], body, blen, c->hs_arg);
		return 0;
	case HS_KEY_UPDATE:
		return on_key_update(c, body, blen, at_end);
	case HS_HELLO_REQUEST:
		/* TLS 1.2 renegotiation request: a client may ignore it. */
		if (c->version == TLS1_2_VERSION && blen == 0)
			return 0;
		break;
	}
	return fail(c, KTLS_E_BAD_RECORD, 10 /* unexpected_message */);
}

/* Reassemble handshake messages from record contents: p[0..n) is what one
 * read returned of one record (all of its rest when the buffer was large
 * enough: the kernel never returns two records in one control read). */
static int on_handshake_bytes(struct ktls_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t want, take;

		if (!c->hs_buf) {
			c->hs_buf = OPENSSL_malloc(KTLS_HS_MAX); /* freed with OPENSSL_clear_free */
			if (!c->hs_buf)
				return fail(c, -ENOMEM, 80);
		}
		if (c->hs_len < 4) {
			want = 4;
		} else {
			want = 4 + ((size_t)c->hs_buf[1] << 16 | (size_t)c->hs_buf[2] << 8 | c->hs_buf[3]);
			if (want > KTLS_HS_MAX)
				return fail(c, KTLS_E_BAD_RECORD, 50 /* decode_error */);
		}
		take = want - c->hs_len < n ? want - c->hs_len : n;
		memcpy(c->hs_buf + c->hs_len, p, take);
		c->hs_len += take;
		p += take;
		n -= take;
		if (c->hs_len >= 4) {
			size_t full = 4 + ((size_t)c->hs_buf[1] << 16 | (size_t)c->hs_buf[2] << 8 | c->hs_buf[3]);
			if (full > KTLS_HS_MAX)
				return fail(c, KTLS_E_BAD_RECORD, 50 /* decode_error */);
			if (c->hs_len == full) {
				int rc = on_handshake_msg(c, c->hs_buf, full, n == 0);
				OPENSSL_cleanse(c->hs_buf, full);
				c->hs_len = 0;
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* 0 to go on reading, 1 at close_notify, or a negative code. */
static int on_alert_bytes(struct ktls_conn *c, const uint8_t *p, size_t n)
{
	while (n-- > 0) {
		c->alert_buf[c->alert_have++] = *p++;
		if (c->alert_have < 2)
			continue;
		c->alert_have = 0;
		uint8_t level = c->alert_buf[0], desc = c->alert_buf[1];
		if (desc == 0) {
			c->rx_eof = true;
			return 1;
		}
		c->st.alerts++;
		/* TLS 1.2 warnings and TLS 1.3 user_canceled do not end the stream. */
		if ((level == 1 && c->version == TLS1_2_VERSION) || desc == 90)
			continue;
		c->alert = desc;
		c->fatal = KTLS_E_ALERT;
		return KTLS_E_ALERT;
	}
	return 0;
}

/* A bad record makes the kernel abort the TLS socket (tls_err_abort): its
 * error stays on the socket and every send fails with it, so our alert
 * could not leave. It was just reported to us: consume it (SO_ERROR) so the
 * alert goes out (checked on 6.1 and 7.3: the peer gets bad_record_mac). */
static void consume_socket_error(struct ktls_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	ktls_sys_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
}

static int map_recv_error(struct ktls_conn *c, ssize_t n)
{
	if (n == -EBADMSG || n == -EMSGSIZE || n == -EINVAL)
		consume_socket_error(c);
	switch (n) {
	case -EBADMSG:
		return fail(c, KTLS_E_DECRYPT, 20 /* bad_record_mac */);
	case -EMSGSIZE:
		return fail(c, KTLS_E_RECORD_OVERFLOW, 22 /* record_overflow */);
	case -EINVAL:
		/* A header the kernel's parser rejected (bad version or type). */
		return fail(c, KTLS_E_BAD_RECORD, 10);
	default:
		return (int)n;
	}
}

ssize_t ktls_recv(struct ktls_conn *c, void *buf, size_t len, int flags)
{
	if (!c || (!buf && len))
		return -EINVAL;
	if (!(c->dirs & KTLS_RX))
		return KTLS_E_NOT_OFFLOADED;
	if (c->fatal)
		return c->fatal;
	if (c->rx_eof)
		return 0;
	if (len == 0)
		return 0;
	if (c->ku_answer_pending) {
		int rc = ktls_send_ku_answer(c);
		if (rc && rc != -EAGAIN)
			return rc;
	}
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(uint8_t))];
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		uint8_t type = REC_DATA;
		ssize_t n = ktls_sys_recvmsg(c->fd, &msg, flags & ~MSG_PEEK);
		int rc;

		if (n == -EKEYEXPIRED) {
			/* The kernel pauses RX after a handshake record whose first
			 * byte is a KeyUpdate's type. Within a message (the first
			 * piece of a KeyUpdate split over records, or a ticket's
			 * piece that begins with that byte) the key has not
			 * changed: give the kernel the same key to go on with. */
			uint64_t seq;
			int rc = c->hs_len ? ktls_kernel_rx_seq(c, &seq) : KTLS_E_BAD_RECORD;
			if (rc == 0)
				rc = ktls_reinstall_rx(c, seq);
			if (rc)
				return fail(c, rc == KTLS_E_BAD_RECORD ? rc : KTLS_E_INTERNAL, 10);
			continue;
		}
		if (n < 0)
			return map_recv_error(c, n);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
				type = *CMSG_DATA(cm);
		if (type == REC_DATA) {
			if (n == 0) {
				/* TCP EOF without close_notify. The kernel returns 0
				 * just the same when it ends inside a record (6.1
				 * and 7.3, checked); the bytes of that partial
				 * record are still unread in TCP, so SIOCINQ tells. */
				c->st.unclean_eof = true;
				if (c->alert_have || c->hs_len || ktls_sys_inq(c->fd) > 0)
					return fail(c, KTLS_E_TRUNCATED, -1);
				return 0;
			}
			c->ku_in_a_row = 0;
			return n;
		}
		if (n == 0) {
			/* "Implementations MUST NOT send Handshake and Alert
			 * records that have a zero-length content" (RFC 8446,
			 * 5.1); the kernel hands them up as empty reads. */
			if (type == REC_ALERT || type == REC_HANDSHAKE)
				return fail(c, KTLS_E_BAD_RECORD, 10 /* unexpected_message */);
			continue;
		}
		if (c->alert_have && type != REC_ALERT)
			return fail(c, KTLS_E_BAD_RECORD, 10);
		if (c->hs_len && type != REC_HANDSHAKE)
			return fail(c, KTLS_E_BAD_RECORD, 10);
		switch (type) {
		case REC_ALERT:
			rc = on_alert_bytes(c, buf, (size_t)n);
			if (rc == 1)
				return 0;
			if (rc < 0)
				return rc;
			break;
		case REC_HANDSHAKE:
			rc = on_handshake_bytes(c, buf, (size_t)n);
			if (rc < 0)
				return rc;
			break;
		default:
			return fail(c, KTLS_E_BAD_RECORD, 10 /* unexpected_message */);
		}
		/* A control record gave the caller nothing: read on. */
		memset(buf, 0, (size_t)n);
	}
}

ssize_t ktls_send(struct ktls_conn *c, const void *buf, size_t len, int flags)
{
	size_t off = 0;

	if (!c || (!buf && len))
		return -EINVAL;
	if (!(c->dirs & KTLS_TX))
		return KTLS_E_NOT_OFFLOADED;
	if (c->tx_closed)
		return KTLS_E_CLOSED;
	if (c->ku_answer_pending) {
		/* our KeyUpdate must come before our next data (RFC 8446, 4.6.3) */
		int rc = ktls_send_ku_answer(c);
		if (rc)
			return rc;
	}
	while (off < len) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = ktls_sys_sendmsg(c->fd, &msg, flags);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return off > 0 && n == -EAGAIN ? (ssize_t)off : n;
		off += (size_t)n;
	}
	return (ssize_t)len;
}

int ktls_send_record(struct ktls_conn *c, uint8_t type, const void *buf, size_t len)
{
	if (!c || (!buf && len) || type < REC_CCS || type > REC_DATA)
		return -EINVAL;
	if (!(c->dirs & KTLS_TX))
		return KTLS_E_NOT_OFFLOADED;
	if (c->tx_closed)
		return KTLS_E_CLOSED;
	return ktls_send_control(c, type, buf, len);
}

int ktls_close(struct ktls_conn *c)
{
	static const uint8_t close_notify[2] = { 1, 0 };
	int rc;

	if (!c)
		return -EINVAL;
	if (!(c->dirs & KTLS_TX))
		return KTLS_E_NOT_OFFLOADED;
	if (c->tx_closed)
		return 0;
	rc = ktls_send_control(c, REC_ALERT, close_notify, sizeof(close_notify));
	if (rc == 0)
		c->tx_closed = true;
	return rc;
}

int ktls_conn_alert(const struct ktls_conn *c)
{
	return c ? c->alert : -1;
}

void ktls_set_handshake_cb(struct ktls_conn *c, ktls_handshake_cb cb, void *arg)
{
	if (!c)
		return;
	c->hs_cb = cb;
	c->hs_arg = arg;
}

void ktls_conn_stats(const struct ktls_conn *c, struct ktls_conn_stats *st)
{
	if (c && st)
		*st = c->st;
	else if (st)
		memset(st, 0, sizeof(*st));
}

/* server/tls.c: the SSL_CTX, the connection BIO, and the switch to kTLS.
 *
 * OpenSSL never touches a socket here. Each SSL reads and writes through one
 * BIO of our own whose read side is the connection's ciphertext buffer
 * (c->rin, filled from io_uring receives) and whose write side appends to
 * the buffer io_uring sends from (c->out): ciphertext is copied once, from
 * OpenSSL's record buffer into the send buffer, and sent in large batches.
 */
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

/* Upper bound of what a record adds to its plaintext: header, explicit
 * nonce or IV, tag or MAC, CBC padding. */
#define REC_OVERHEAD 325
#define REC_PLAIN 16384

/* ---- the connection BIO ------------------------------------------------------ */
static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int cbio_write(BIO *b, const char *data, int len)
{
	struct conn *c = BIO_get_data(b);
	struct worker *w = c->w;

	BIO_clear_retry_flags(b);
	if (cbuf_ensure(&c->out, c->want_big ? &w->pool_big : &w->pool_small))
		return -1;
	if (cbuf_room(&c->out) < (uint32_t)len && c->out.off && !c->send_busy)
		cbuf_compact(&c->out);
	uint32_t n = cbuf_room(&c->out);
	if (n == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	if (n > (uint32_t)len)
		n = (uint32_t)len;
	memcpy(c->out.p + c->out.len, data, n);
	c->out.len += n;
	return (int)n;
}

static int cbio_read(BIO *b, char *buf, int len)
{
	struct conn *c = BIO_get_data(b);
	uint32_t have = cbuf_used(&c->rin);

	BIO_clear_retry_flags(b);
	if (!have) {
		if (c->rd_eof)
			return 0;
		BIO_set_retry_read(b);
		return -1;
	}
	uint32_t n = have < (uint32_t)len ? have : (uint32_t)len;
	memcpy(buf, c->rin.p + c->rin.off, n);
	cbuf_consume(&c->rin, n);
	return (int)n;
}

static long cbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct conn *c = BIO_get_data(b);
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return c ? (long)cbuf_used(&c->rin) : 0;
	case BIO_CTRL_WPENDING:
		return c ? (long)cbuf_used(&c->out) : 0;
	case BIO_CTRL_EOF:
		return c && c->rd_eof && !cbuf_used(&c->rin);
	default:
		return 0;
	}
}

static int cbio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_method_init(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ktls-server conn");
	if (!bio_method)
		return;
	BIO_meth_set_write(bio_method, cbio_write);
	BIO_meth_set_read(bio_method, cbio_read);
	BIO_meth_set_ctrl(bio_method, cbio_ctrl);
	BIO_meth_set_create(bio_method, cbio_create);
}

/* ---- the context -------------------------------------------------------------- */
static void msg_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl, void *arg);

static void ossl_why(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(buf, len, "%s", r ? r : "unknown OpenSSL error");
	ERR_clear_error();
}

int tls_ctx_create(const struct server_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
	char why[160];
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	pthread_once(&bio_once, bio_method_init);
	if (!bio_method) {
		snprintf(err, errlen, "cannot create the OpenSSL BIO method (out of memory)");
		return -ENOMEM;
	}
	ctx = SSL_CTX_new_ex(NULL, cfg->propq, TLS_server_method());
	if (!ctx) {
		ossl_why(why, sizeof why);
		snprintf(err, errlen, "SSL_CTX_new failed: %s", why);
		return -ENOMEM;
	}
	rc = tlsopts_apply(&cfg->tls, ctx, err, errlen);
	if (rc)
		goto fail;
	if (access(cfg->cert, R_OK) || access(cfg->key, R_OK)) {
		const char *f = access(cfg->cert, R_OK) ? cfg->cert : cfg->key;
		snprintf(err, errlen, "%s %s: %s; run 'make certs' for the test set or pass --cert/--key",
			 f == cfg->cert ? "--cert" : "--key", f, strerror(errno));
		rc = -EINVAL;
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		ossl_why(why, sizeof why);
		snprintf(err, errlen, "--cert %s: cannot load a PEM certificate (%s); run 'make certs' "
			 "for the test set or pass --cert/--key", cfg->cert, why);
		rc = -EINVAL;
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1) {
		ossl_why(why, sizeof why);
		snprintf(err, errlen, "--key %s: cannot load a PEM private key (%s); pass the key "
			 "of --cert with --key", cfg->key, why);
		rc = -EINVAL;
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ossl_why(why, sizeof why);
		snprintf(err, errlen, "--key %s does not match --cert %s (%s)", cfg->key, cfg->cert, why);
		rc = -EINVAL;
		goto fail;
	}
	/* The chain is what the file holds: no chain building per handshake. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
			    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(ctx, (size_t)cfg->tickets);
	if (cfg->tickets == 0)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (cfg->session_cache) {
		static const unsigned char sid_ctx[] = "ktls-server";
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, (long)cfg->session_cache);
		SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	if (cfg->early_data) {
		/* what tickets announce, and what a resumed ClientHello may send;
		 * anti-replay (OpenSSL's default once early data is on) makes
		 * TLS 1.3 tickets single-use entries of the session cache */
		SSL_CTX_set_max_early_data(ctx, (uint32_t)cfg->early_data);
		SSL_CTX_set_recv_max_early_data(ctx, (uint32_t)cfg->early_data);
		if (cfg->no_anti_replay)
			SSL_CTX_set_options(ctx, SSL_OP_NO_ANTI_REPLAY);
	}
	rc = tlsopts_keylog_from_env(ctx, err, errlen);
	if (rc)
		goto fail;
	if (cfg->mode == TLS_MODE_KTLS) {
		rc = ktls_ctx_prepare(ctx);
		if (rc) {
			snprintf(err, errlen, "ktls_ctx_prepare: %s", ktls_strerror(rc));
			goto fail;
		}
	}
	/* after ktls_ctx_prepare: msg_cb calls libktls's callback itself */
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	SSL_CTX_set_msg_callback_arg(ctx, cfg->mode == TLS_MODE_KTLS ? ctx : NULL);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- per connection ------------------------------------------------------------- */
int tls_conn_init(struct conn *c, SSL_CTX *ctx)
{
	struct worker *w = c->w;

	if (w->nssl) {
		/* a cleared SSL of an earlier connection, with its BIO */
		c->ssl = w->ssl_pool[--w->nssl];
		c->bio = SSL_get_rbio(c->ssl);
		BIO_set_data(c->bio, c);
		SSL_set_accept_state(c->ssl);
		return 0;
	}
	c->ssl = SSL_new(ctx);
	if (!c->ssl)
		return -ENOMEM;
	c->bio = BIO_new(bio_method);
	if (!c->bio) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -ENOMEM;
	}
	BIO_set_data(c->bio, c);
	SSL_set_bio(c->ssl, c->bio, c->bio);    /* one reference, owned by the SSL */
	SSL_set_accept_state(c->ssl);
	return 0;
}

void tls_conn_free(struct conn *c)
{
	struct worker *w = c->w;

	/* User mode keeps SSL objects for the next connections: SSL_clear()
	 * resets one for a new handshake far more cheaply than SSL_free() and
	 * SSL_new(), which copy the context's settings every time. (kTLS mode
	 * does not: libktls keeps per-SSL state. Nor does --early-data:
	 * OpenSSL 3.0's SSL_clear() leaves the early-data state where the
	 * last connection left it, and SSL_read_early_data() then refuses to
	 * start: "called a function you should not call".) */
	if (c->ssl && w->srv->cfg.mode == TLS_MODE_USER && !w->srv->cfg.early_data &&
	    w->nssl < sizeof w->ssl_pool / sizeof w->ssl_pool[0]) {
		BIO_set_data(c->bio, NULL);
		if (SSL_clear(c->ssl) == 1) {
			w->ssl_pool[w->nssl++] = c->ssl;
			c->ssl = NULL;
			c->bio = NULL;
		}
		ERR_clear_error();
	}
	if (c->ssl) {
		SSL_free(c->ssl);               /* frees the BIO too */
		c->ssl = NULL;
		c->bio = NULL;
	}
	if (c->kc) {
		ktls_conn_free(c->kc);
		c->kc = NULL;
	}
}

/* The error of the queue that names the cause (the queue is emptied): the
 * newest, except OpenSSL 3.2+'s "record layer failure", which only wraps the
 * record layer's own reason queued before it. */
static unsigned long cause_error(void)
{
	unsigned long e, cause = 0;

	while ((e = ERR_get_error())) {
		bool wrapper = false;
#ifdef SSL_R_RECORD_LAYER_FAILURE
		wrapper = ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_RECORD_LAYER_FAILURE;
#endif
		if (!wrapper || !cause)
			cause = e;
	}
	return cause;
}

/* OpenSSL's reason as a JSON-friendly key: "no shared cipher" -> "no_shared_cipher". */
static void reason_key(char *out, size_t len, int ssl_err)
{
	unsigned long e = cause_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	size_t i = 0;

	if (!r)
		r = (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)
			? "unexpected eof" : "openssl error";
	for (; r[i] && i + 1 < len; i++) {
		char ch = r[i];
		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a')
			 : ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '_';
	}
	out[i] = 0;
	ERR_clear_error();
}

int tls_handshake(struct conn *c)
{
	char why[40];
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1)
		return 1;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	reason_key(why, sizeof why, e);
	STAT_ADD(c->w->st.handshake_failures, 1);
	reasons_add(&c->w->st.hs_fail, why);
	return -1;
}

/* The early data is over: what became of it. A ClientHello that offered
 * early data with a ticket the server does not take (unknown, or already
 * used: single-use tickets) is a full handshake; with anti-replay on that
 * is what a replay looks like, and is counted as one. */
static void early_count(struct conn *c)
{
	struct worker *w = c->w;

	if (c->early_counted)
		return;
	c->early_counted = true;
	switch (SSL_get_early_data_status(c->ssl)) {
	case SSL_EARLY_DATA_ACCEPTED:
		STAT_ADD(w->st.early_accepted, 1);
		break;
	case SSL_EARLY_DATA_REJECTED:
		if (!SSL_session_reused(c->ssl) && !w->srv->cfg.no_anti_replay)
			STAT_ADD(w->st.early_replays, 1);
		else
			STAT_ADD(w->st.early_rejected, 1);
		break;
	default:
		break;
	}
}

int tls_early_read(struct conn *c)
{
	struct worker *w = c->w;
	char why[40];

	for (;;) {
		size_t n = 0;
		if (cbuf_ensure(&c->req, &w->pool_req))
			return -1;
		cbuf_compact(&c->req);
		if (!cbuf_room(&c->req)) {
			/* --early-data <= --max-header, the buffer's size: only
			 * when early requests were not answered yet */
			STAT_ADD(w->st.handshake_failures, 1);
			reasons_add(&w->st.hs_fail, "early_data_over_buffer");
			return -1;
		}
		ERR_clear_error();
		int r = SSL_read_early_data(c->ssl, c->req.p + c->req.len, cbuf_room(&c->req), &n);
		if (r == SSL_READ_EARLY_DATA_SUCCESS) {
			/* accepted is known from the ClientHello on (a replay
			 * never sends EndOfEarlyData) */
			early_count(c);
			c->req.len += (uint32_t)n;
			c->early_left += (uint32_t)n;
			STAT_ADD(w->st.bytes_in, n);
			STAT_ADD(w->st.early_bytes, n);
			continue;
		}
		if (r == SSL_READ_EARLY_DATA_FINISH) {
			c->early = EARLY_DONE;
			early_count(c);
			cbuf_release_if_empty(&c->req);
			return 1;
		}
		int e = SSL_get_error(c->ssl, 0);
		cbuf_release_if_empty(&c->req);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		reason_key(why, sizeof why, e);
		STAT_ADD(w->st.handshake_failures, 1);
		reasons_add(&w->st.hs_fail, why);
		return -1;
	}
}

/* The client's KeyUpdates while OpenSSL reads (user mode, and before the
 * switch): libktls's limits (ktls.h), counted from OpenSSL's message
 * callback. Past them c->ku_over is set and tls_read() ends the
 * connection. */
static void ku_count(struct conn *c)
{
	uint64_t between = c->rd_records - c->rd_records_ku;

	c->rd_records_ku = c->rd_records;
	c->ku_in_a_row = between > 1 ? 1 : c->ku_in_a_row + 1;
	c->ku_total++;
	if (c->ku_in_a_row > KTLS_KU_LIMIT_IN_A_ROW ||
	    c->ku_total > KTLS_KU_LIMIT_FREE + c->rd_records / KTLS_KU_LIMIT_RECORDS)
		c->ku_over = true;
}

static void msg_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl, void *arg)
{
	BIO *b = SSL_get_rbio(ssl);
	struct conn *c = b ? BIO_get_data(b) : NULL;

	if (c && !write_p) {
		if (type == SSL3_RT_HEADER)
			c->rd_records++;
		else if (type == SSL3_RT_HANDSHAKE && len > 0 && ((const uint8_t *)buf)[0] == SSL3_MT_KEY_UPDATE)
			ku_count(c);
	}
	if (arg)                        /* --tls ktls: libktls counts records too */
		ktls_msg_callback(write_p, version, type, buf, len, ssl, arg);
}

/* Too many KeyUpdates: OpenSSL 3.0 has no call that sends an alert, but it
 * answers a ChangeCipherSpec record after a TLS 1.3 handshake with
 * unexpected_message (RFC 8446, 5), the alert libktls sends for the same
 * limit: hand it one in place of the rest of the client's bytes. */
static int ku_limit_alert(struct conn *c)
{
	static const uint8_t ccs[6] = { 20, 3, 3, 0, 1, 1 };
	char b[64];

	cbuf_consume(&c->rin, cbuf_used(&c->rin));
	if (!cbuf_ensure(&c->rin, &c->w->pool_rin)) {
		cbuf_compact(&c->rin);
		memcpy(c->rin.p + c->rin.len, ccs, sizeof ccs);
		c->rin.len += sizeof ccs;
		while (SSL_read(c->ssl, b, sizeof b) > 0)
			;
	}
	ERR_clear_error();
	cbuf_consume(&c->rin, cbuf_used(&c->rin));
	reasons_add(&c->w->st.conn_errors, "too_many_key_updates");
	return -1;
}

int tls_read(struct conn *c)
{
	char why[40];

	if (cbuf_ensure(&c->req, &c->w->pool_req))
		return -1;
	cbuf_compact(&c->req);
	/* The error queue is empty here: every failing path clears it. */
	while (cbuf_room(&c->req)) {
		int n = SSL_read(c->ssl, c->req.p + c->req.len, (int)cbuf_room(&c->req));
		if (n > 0) {
			c->req.len += (uint32_t)n;
			STAT_ADD(c->w->st.bytes_in, (uint64_t)n);
			if (c->ku_over)
				return ku_limit_alert(c);
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (c->ku_over)
			return ku_limit_alert(c);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* EOF (close_notify, or a TCP EOF: SSL_OP_IGNORE_UNEXPECTED_EOF)
			 * inside a record: a truncated record. The framer knows where
			 * the peer's records end; SSL_has_pending() does not tell
			 * (OpenSSL 3.5 says data is pending after a close_notify too) */
			if (!ktls_framer_at_boundary(&c->fr)) {
				ERR_clear_error();
				reasons_add(&c->w->st.conn_errors, "truncated_record");
				return -1;
			}
			c->rd_eof = c->tls_eof = true;
			conn_set_end(c, "client_closed");
			break;
		}
		reason_key(why, sizeof why, e);
		reasons_add(&c->w->st.conn_errors, why);
		return -1;
	}
	cbuf_release_if_empty(&c->req);
	return 0;
}

size_t tls_write_budget(const struct conn *c)
{
	size_t room;

	if (!c->out.p)
		room = c->want_big ? OUT_BIG : OUT_SMALL;
	else
		room = cbuf_room(&c->out) + (c->send_busy ? 0 : c->out.off);
	size_t full = room / (REC_PLAIN + REC_OVERHEAD);
	size_t rest = room % (REC_PLAIN + REC_OVERHEAD);
	size_t b = full * REC_PLAIN;
	if (rest > REC_OVERHEAD + 512)
		b += rest - REC_OVERHEAD;
	return b;
}

long tls_write(struct conn *c, const void *buf, size_t len)
{
	char why[40];

	if (len > INT_MAX)
		len = INT_MAX;
	if (c->early == EARLY_READING) {
		/* an early request answered before the client's Finished: data
		 * to a client not yet authenticated (RFC 8446, 4.6.1 "0.5-RTT") */
		size_t k = 0;
		if (SSL_write_early_data(c->ssl, buf, len, &k) == 1)
			return (long)k;
		int e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_WANT_WRITE)
			return 0;
		reason_key(why, sizeof why, e);
		reasons_add(&c->w->st.conn_errors, why);
		return -1;
	}
	int n = SSL_write(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE)
		return 0;
	reason_key(why, sizeof why, e);
	reasons_add(&c->w->st.conn_errors, why);
	return -1;
}

void tls_shutdown(struct conn *c)
{
	if (!c->ssl || c->shut_sent)
		return;
	c->shut_sent = true;
	ERR_clear_error();
	SSL_shutdown(c->ssl);           /* queues close_notify in c->out */
	ERR_clear_error();
}

static int refuse(struct conn *c, int rc)
{
	STAT_ADD(c->w->st.ktls_refused, 1);
	reasons_add(&c->w->st.ktls_refusal, ktls_errname(rc));
	c->ktls_refused = true;
	return c->w->srv->cfg.strict ? -2 : 0;
}

int tls_switch_to_ktls(struct conn *c)
{
	struct worker *w = c->w;
	struct ktls_report rep;
	unsigned have = c->kc ? ktls_conn_dirs(c->kc) : 0;
	int rc;

	memset(&rep, 0, sizeof rep);
	if (!have) {
		/* Whole records read behind the client's Finished (the first
		 * request, often, or KeyUpdates) are decrypted here, as libktls
		 * would: its drain reads only memory BIOs. The message callback
		 * counts them for the sequence numbers. A bad one: OpenSSL's
		 * alert is in c->out. */
		if (cbuf_used(&c->rin) && tls_read(c) < 0)
			return -1;
		/* A KeyUpdate asking for ours: OpenSSL writes it now, and the
		 * kernel takes over once it is on the socket. */
		ktls_ssl_send_key_update(c->ssl);
		if (cbuf_used(&c->out))
			return 1;
	}
	if (cbuf_used(&c->rin) || SSL_has_pending(c->ssl) || !ktls_framer_at_boundary(&c->fr))
		rc = KTLS_E_PARTIAL_RECORD;     /* more than c->req holds came behind Finished */
	else
		rc = ktls_enable(c->ssl, c->fd, (KTLS_TX | KTLS_RX) & ~have, &c->kc, &rep);
	if (rc)
		ERR_clear_error();
	if (rep.rx_len) {
		/* plaintext that left the SSL during the switch comes first */
		if (cbuf_ensure(&c->req, &w->pool_req) || cbuf_room(&c->req) < rep.rx_len) {
			free(rep.rx_data);
			reasons_add(&w->st.conn_errors, "early_data_too_large");
			return -2;
		}
		memcpy(c->req.p + c->req.len, rep.rx_data, rep.rx_len);
		c->req.len += (uint32_t)rep.rx_len;
		STAT_ADD(w->st.bytes_in, rep.rx_len);
	}
	free(rep.rx_data);
	if (rep.rx_eof)
		c->rd_eof = true;
	have = c->kc ? ktls_conn_dirs(c->kc) : 0;
	if (rc == 0 && have == (KTLS_TX | KTLS_RX)) {
		STAT_ADD(w->st.ktls_offloads, 1);
		c->mode = TLS_MODE_KTLS;
		/* The connection goes on in the kernel, it did not end badly:
		 * without this SSL_free() takes its session out of the cache
		 * (no close_notify was sent through OpenSSL), and what lives
		 * there cannot resume: TLS 1.2 session IDs, and the single-use
		 * TLS 1.3 tickets of --early-data (every early ClientHello
		 * after a kTLS connection was refused as a replay). */
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->bio = NULL;
		cbuf_release(&c->rin);
		return 0;
	}
	if (have & KTLS_RX) {
		/* RX is in the kernel and cannot come back: TX must follow */
		if (rc == KTLS_E_UNSENT_DATA)
			return 1;
		refuse(c, rc);
		return -2;
	}
	if (c->kc) {
		ktls_conn_free(c->kc);
		c->kc = NULL;
	}
	return refuse(c, rc);
}

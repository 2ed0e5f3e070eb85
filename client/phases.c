/* client/phases.c: where the time of a connection goes, and its round trips.
 *
 * Phases (enum phase, client.h), each measured from the connect() call:
 *   connect          the first write to the socket succeeded (the TCP
 *                    handshake is done: the ClientHello leaves)
 *   server_hello     OpenSSL read the ServerHello (not a HelloRetryRequest)
 *   server_finished  OpenSSL read the server's Finished
 *   handshake        OpenSSL wrote the client's Finished, or read the
 *                    server's when that came last (TLS 1.2 full)
 *   ttfb             the response's first byte was read
 *   total            its last byte
 * Handshake messages are timed by OpenSSL's message callback, as OpenSSL
 * parses or writes them (within microseconds of the socket call that
 * carried them).
 *
 * Round trips, counted where the client sees them: the TCP connect is one;
 * after it, one more each time bytes arrive from the server after the
 * client wrote something since bytes last arrived (a turn of the
 * conversation: the client spoke, the server answered). Counting stops at
 * the response's first byte (time to first byte), or at the handshake's end
 * without a request. A server flight read in several pieces counts once.
 * The client's Finished (and EndOfEarlyData), written after the server's
 * Finished while the answer to an early-data request is owed, starts no
 * turn: the server answers the request, not that Finished, and the answer
 * belongs to the ClientHello's round trip whether it is read with the
 * server's flight or after the Finished went out (which one is a matter of
 * scheduling). A request sent again (early data rejected, or 425) does.
 */
#include "client/worker.h"

#include <string.h>

#include "ktls/ktls.h"

/* SHA-256("HelloRetryRequest"), the ServerHello.random of an HRR (RFC 8446, 4.1.3) */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

static void on_msg(int write_p, int version, int ctype, const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const uint8_t *p = buf;

	if (arg)                        /* --rx ktls: libktls counts records too */
		ktls_msg_callback(write_p, version, ctype, buf, len, ssl, arg);
	if (!c || ctype != SSL3_RT_HANDSHAKE || len < 1)
		return;
	if (!write_p && p[0] == SSL3_MT_SERVER_HELLO) {
		/* header (4), legacy_version (2), random (32) */
		if (len >= 38 && !memcmp(p + 6, hrr_random, sizeof hrr_random))
			c->hrr = true;
		else if (!c->t_sh)
			c->t_sh = now_ns();
	} else if (p[0] == SSL3_MT_FINISHED) {
		uint64_t *t = write_p ? &c->t_cfin : &c->t_sfin;
		if (!*t)
			*t = now_ns();
	}
}

void phases_ctx_prepare(SSL_CTX *ctx, bool ktls)
{
	/* after ktls_ctx_prepare(): on_msg() calls libktls's callback itself */
	SSL_CTX_set_msg_callback(ctx, on_msg);
	SSL_CTX_set_msg_callback_arg(ctx, ktls ? ctx : NULL);
}

void phases_start(struct conn *c)
{
	c->t_tcp = c->t_sh = c->t_sfin = c->t_cfin = c->t_first = 0;
	c->rt = 1;                      /* the TCP connect */
	c->rt_end = 0;
	c->rt_wrote = false;
	c->hrr = false;
}

void phases_wrote(struct conn *c, uint64_t t)
{
	if (!c->t_tcp)
		c->t_tcp = t;
	if (c->t_sfin && (c->early == EARLY_SENT || c->early == EARLY_ACCEPTED))
		return;                 /* the Finished behind an early request */
	c->rt_wrote = true;
}

void phases_read(struct conn *c, ssize_t n)
{
	/* up to the response's first byte (the handshake's end without one) */
	if (n <= 0 || c->t_first || c->rt_end)
		return;
	if (c->rt_wrote) {
		c->rt++;
		c->rt_wrote = false;
	}
}

static void rec(struct hist *h, uint64_t from, uint64_t t)
{
	if (t && t >= from)
		hist_record(h, t - from);
}

void phases_record(struct conn *c, uint64_t t)
{
	struct worker *w = c->w;
	struct client_stats *s = &w->st;

	if (c->rt_end)
		return;                 /* get mode: the connection's first job only */
	c->rt_end = c->rt;
	if (!worker_in_window(w, t))
		return;
	rec(&s->ph[PH_CONNECT], c->t_conn, c->t_tcp);
	rec(&s->ph[PH_SERVER_HELLO], c->t_conn, c->t_sh);
	rec(&s->ph[PH_SERVER_FINISHED], c->t_conn, c->t_sfin);
	/* done from the client's side: its Finished written (TLS 1.3, TLS 1.2
	 * resumed), the server's read (TLS 1.2 full) */
	rec(&s->ph[PH_HANDSHAKE], c->t_conn, c->t_cfin > c->t_sfin ? c->t_cfin : c->t_sfin);
	if (c->t_first) {
		rec(&s->ph[PH_TTFB], c->t_conn, c->t_first);
		rec(&s->ph[PH_TOTAL], c->t_conn, t);
	}
	s->round_trips[c->rt < RT_MAX ? c->rt : RT_MAX]++;
	if (c->hrr)
		s->hello_retries++;
}

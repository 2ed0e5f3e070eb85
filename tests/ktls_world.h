/* tests/ktls_world.h: a client and a server SSL over a loopback pair, with
 * contexts set up for one suite, for the libktls host tests (with
 * tests/ktls_emu.h) and the VM tests. */
#ifndef KTLS_TESTS_WORLD_H
#define KTLS_TESTS_WORLD_H

#include "tests/tls_pair.h"

#ifndef KTLS_WORLD_NO_EMU
#include "tests/ktls_emu.h"
#define world_forget(fd) emu_forget(fd)
#else
#define world_forget(fd) ((void)(fd))
#endif

struct suite {
	int version;
	const char *name, *ossl;
};

/* Every version x cipher libktls offloads (ARIA: TLS 1.2 only). *n gets the count. */
static inline const struct suite *world_suites(size_t *n)
{
	static const struct suite all[] = {
		{ TLS1_2_VERSION, "aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256" },
		{ TLS1_2_VERSION, "aes256gcm", "ECDHE-ECDSA-AES256-GCM-SHA384" },
		{ TLS1_2_VERSION, "chacha20", "ECDHE-ECDSA-CHACHA20-POLY1305" },
		{ TLS1_2_VERSION, "aes128ccm", "ECDHE-ECDSA-AES128-CCM" },
		{ TLS1_2_VERSION, "aria128gcm", "ECDHE-ECDSA-ARIA128-GCM-SHA256" },
		{ TLS1_2_VERSION, "aria256gcm", "ECDHE-ECDSA-ARIA256-GCM-SHA384" },
		{ TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" },
		{ TLS1_3_VERSION, "aes256gcm", "TLS_AES_256_GCM_SHA384" },
		{ TLS1_3_VERSION, "chacha20", "TLS_CHACHA20_POLY1305_SHA256" },
		{ TLS1_3_VERSION, "aes128ccm", "TLS_AES_128_CCM_SHA256" },
	};
	*n = sizeof(all) / sizeof(all[0]);
	return all;
}

/* Does the probed kernel offload su both ways? */
static inline bool world_offloaded(const struct ktls_probe *pr, const struct suite *su)
{
	static const char *const names[] = { "aes128gcm", "aes256gcm", "chacha20", "aes128ccm", "aria128gcm",
					     "aria256gcm" };
	for (size_t j = 0; j < pr->n_ciphers; j++) {
		const struct ktls_probe_cipher *c = &pr->ciphers[j];
		if (c->version == su->version && c->tx && c->rx && (size_t)c->cipher < sizeof(names) / sizeof(names[0]) &&
		    !strcmp(su->name, names[c->cipher]))
			return true;
	}
	return false;
}

static int nst_count, nst_sent;
static SSL_SESSION *saved;

/* The userspace peer server's own count of the tickets it wrote. */
static inline void count_nst_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl,
			 void *arg)
{
	(void)version, (void)ssl, (void)arg;
	if (write_p && type == SSL3_RT_HANDSHAKE && len > 0 && ((const uint8_t *)buf)[0] == SSL3_MT_NEWSESSION_TICKET)
		nst_sent++;
}

static inline int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	nst_count++;
	if (saved)
		SSL_SESSION_free(saved);
	saved = sess;
	return 1; /* we keep the reference */
}

struct world {
	SSL_CTX *sctx, *cctx;
	int cfd, sfd;
	struct tend c, s;
};

static inline int world_ctx(struct world *w, const struct suite *su, int tickets, bool hrr, bool prep_s, bool prep_c)
{
	memset(w, 0, sizeof(*w));
	w->cfd = w->sfd = -1;
	w->sctx = tp_ctx(true, su->version, su->ossl);
	w->cctx = tp_ctx(false, su->version, su->ossl);
	if (!w->sctx || !w->cctx)
		return -1;
	SSL_CTX_set_num_tickets(w->sctx, (size_t)tickets);
	SSL_CTX_sess_set_new_cb(w->cctx, new_session_cb);
	if (hrr) {
		SSL_CTX_set1_groups_list(w->cctx, "X25519:P-256");
		SSL_CTX_set1_groups_list(w->sctx, "P-256");
	}
	if (!prep_s)
		SSL_CTX_set_msg_callback(w->sctx, count_nst_cb);
	if ((prep_s && ktls_ctx_prepare(w->sctx)) || (prep_c && ktls_ctx_prepare(w->cctx)))
		return -1;
	return 0;
}

static inline int world_connect(struct world *w, enum pump_mode sm, enum pump_mode cm, SSL_SESSION *resume,
			 const char *client_data)
{
	if (tp_tcp_pair(&w->cfd, &w->sfd))
		return -1;
	if (tp_end_init(&w->s, w->sctx, w->sfd, sm, true) || tp_end_init(&w->c, w->cctx, w->cfd, cm, false))
		return -1;
	if (resume)
		SSL_set_session(w->c.ssl, resume);
	return tp_handshake(&w->c, &w->s, client_data);
}

static inline void world_free(struct world *w)
{
	tp_end_free(&w->c);
	tp_end_free(&w->s);
	if (w->cfd >= 0) {
		world_forget(w->cfd);
		close(w->cfd);
	}
	if (w->sfd >= 0) {
		world_forget(w->sfd);
		close(w->sfd);
	}
	SSL_CTX_free(w->sctx);
	SSL_CTX_free(w->cctx);
	memset(w, 0, sizeof(*w));
}

/* ktls_recv until len bytes or ~2 s (the emulated socket is non-blocking). */
static inline ssize_t krecv_all(struct ktls_conn *c, void *buf, size_t len)
{
	size_t got = 0;
	for (int i = 0; i < 2000 && got < len; i++) {
		ssize_t n = ktls_recv(c, (char *)buf + got, len - got, 0);
		if (n == -EAGAIN) {
			struct pollfd p = { .fd = ktls_conn_fd(c), .events = POLLIN };
			poll(&p, 1, 1);
			continue;
		}
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The TCP stream ends inside a record: our client (kTLS RX) against a
 * memory-BIO userspace server that writes "complete" and a second record
 * ("cut short...") of which only keep2 bytes reach the socket (keep2 < 0:
 * all but -keep2 bytes) before its end closes. *first: what ktls_recv
 * returns first (8: "complete"); the result: what it returns next. */
static inline ssize_t world_truncated(const struct suite *su, long keep2, ssize_t *first, bool *unclean)
{
	static const char rec2[] = "cut short by the peer closing its TCP end";
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r;
	struct ktls_conn_stats st;
	char raw[1024], b[64];
	ssize_t res = -9999;
	int n1, n2;

	*first = -9999;
	if (world_ctx(&w, su, 0, false, false, true) || world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL) ||
	    ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &k, &r))
		goto out;
	free(r.rx_data);
	SSL_write(w.s.ssl, "complete", 8);
	n1 = BIO_read(w.s.wb, raw, sizeof(raw));
	SSL_write(w.s.ssl, rec2, (int)sizeof(rec2) - 1);
	n2 = BIO_read(w.s.wb, raw + n1, (int)sizeof(raw) - n1);
	if (n1 <= 0 || n2 <= 0)
		goto out;
	long keep = keep2 < 0 ? n2 + keep2 : keep2;
	if (send(w.sfd, raw, (size_t)(n1 + keep), MSG_NOSIGNAL) != n1 + keep)
		goto out;
	shutdown(w.sfd, SHUT_WR);
	*first = krecv_all(k, b, 8);
	if (*first == 8 && memcmp(b, "complete", 8))
		*first = -9998;
	res = krecv_all(k, b, sizeof(b));
	ktls_conn_stats(k, &st);
	*unclean = st.unclean_eof;
out:
	ktls_conn_free(k);
	world_free(&w);
	return res;
}

static inline int peer_read_all(struct tend *e, void *buf, int len)
{
	int got = 0;
	while (got < len) {
		int n = tp_read(e, (char *)buf + got, len - got);
		if (n <= 0)
			return got ? got : n;
		got += n;
	}
	return got;
}

static inline void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

#endif

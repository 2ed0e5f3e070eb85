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

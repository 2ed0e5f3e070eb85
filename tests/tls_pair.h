/* tests/tls_pair.h: two OpenSSL endpoints over a loopback TCP pair, driven
 * in one thread, for libktls tests (host, with tests/ktls_emu.h, and VM).
 *
 * Each end talks through its socket directly (socket BIO) or through memory
 * BIOs pumped by the test: "exact" pumping reads record by record with the
 * ktls_framer (as a memory-BIO server should), "greedy" reads whatever the
 * socket holds (so records past the handshake land in OpenSSL's read BIO and
 * must be drained).
 */
#ifndef KTLS_TESTS_TLS_PAIR_H
#define KTLS_TESTS_TLS_PAIR_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ktls/ktls.h"

enum pump_mode { PUMP_SOCKET, PUMP_EXACT, PUMP_GREEDY };

struct tend {
	SSL *ssl;
	int fd;
	enum pump_mode mode;
	BIO *rb, *wb;                  /* memory BIOs (PUMP_EXACT / PUMP_GREEDY) */
	struct ktls_framer fr;
	bool done;
};

static EVP_PKEY *tp_key;
static X509 *tp_cert;

/* A self-signed P-256 certificate, made once. */
static inline int tp_make_cert(void)
{
	if (tp_cert)
		return 0;
	tp_key = EVP_EC_gen("P-256");
	tp_cert = X509_new();
	if (!tp_key || !tp_cert)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(tp_cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(tp_cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(tp_cert), 86400);
	X509_set_pubkey(tp_cert, tp_key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(tp_cert), "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(tp_cert, X509_get_subject_name(tp_cert));
	return X509_sign(tp_cert, tp_key, EVP_sha256()) > 0 ? 0 : -1;
}

static inline void tp_free_cert(void)
{
	EVP_PKEY_free(tp_key);
	X509_free(tp_cert);
	tp_key = NULL;
	tp_cert = NULL;
}

/* A client and a server SSL joined in memory by a BIO pair, their handshake
 * done. 0, or -1 (the caller frees *c and *s either way). */
static inline int tp_mem_pair(SSL_CTX *cc, SSL_CTX *sc, SSL **c, SSL **s)
{
	BIO *bc, *bs;

	*c = SSL_new(cc);
	*s = SSL_new(sc);
	if (!*c || !*s || !BIO_new_bio_pair(&bc, 0, &bs, 0))
		return -1;
	SSL_set_bio(*c, bc, bc);
	SSL_set_bio(*s, bs, bs);
	SSL_set_connect_state(*c);
	SSL_set_accept_state(*s);
	for (int k = 0; k < 20; k++) {
		int rc = SSL_do_handshake(*c), rs = SSL_do_handshake(*s);
		if (rc == 1 && rs == 1)
			return 0;
	}
	return -1;
}

/* A connected loopback TCP pair, both non-blocking. */
static inline int tp_tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		goto fail;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto fail;
	close(l);
	fcntl(c, F_SETFL, O_NONBLOCK);
	fcntl(s, F_SETFL, O_NONBLOCK);
	*a = c;
	*b = s;
	return 0;
fail:
	if (l >= 0)
		close(l);
	if (c >= 0)
		close(c);
	return -1;
}

/* Contexts: version TLS1_2_VERSION / TLS1_3_VERSION, suite a TLS 1.2 cipher
 * or a TLS 1.3 ciphersuite name. */
static inline SSL_CTX *tp_ctx(bool server, int version, const char *suite)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	if (suite && version == TLS1_3_VERSION)
		SSL_CTX_set_ciphersuites(ctx, suite);
	else if (suite)
		SSL_CTX_set_cipher_list(ctx, suite);
	if (server) {
		if (tp_make_cert() || !SSL_CTX_use_certificate(ctx, tp_cert) ||
		    !SSL_CTX_use_PrivateKey(ctx, tp_key)) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	SSL_CTX_set_session_cache_mode(ctx, server ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_CLIENT);
	return ctx;
}

static inline int tp_end_init(struct tend *e, SSL_CTX *ctx, int fd, enum pump_mode mode, bool server)
{
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->mode = mode;
	e->ssl = SSL_new(ctx);
	if (!e->ssl)
		return -1;
	if (mode == PUMP_SOCKET) {
		SSL_set_fd(e->ssl, fd);
	} else {
		e->rb = BIO_new(BIO_s_mem());
		e->wb = BIO_new(BIO_s_mem());
		SSL_set_bio(e->ssl, e->rb, e->wb);
	}
	ktls_framer_init(&e->fr);
	if (server)
		SSL_set_accept_state(e->ssl);
	else
		SSL_set_connect_state(e->ssl);
	return 0;
}

/* Memory-BIO ends: move output to the socket and input into the read BIO.
 * Returns bytes moved in. */
static inline size_t tp_pump(struct tend *e)
{
	char buf[65536];
	size_t in = 0;
	int n;

	if (e->mode == PUMP_SOCKET)
		return 0;
	while ((n = BIO_read(e->wb, buf, sizeof(buf))) > 0) {
		for (int off = 0; off < n;) {
			ssize_t w = send(e->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EAGAIN) {
				struct pollfd p = { .fd = e->fd, .events = POLLOUT };
				poll(&p, 1, 100);
				continue;
			}
			if (w <= 0)
				return in;
			off += (int)w;
		}
	}
	for (;;) {
		size_t want = e->mode == PUMP_EXACT ? ktls_framer_want(&e->fr) : sizeof(buf);
		ssize_t r = recv(e->fd, buf, want, MSG_DONTWAIT);
		if (r <= 0)
			break;
		if (e->mode == PUMP_EXACT)
			ktls_framer_feed(&e->fr, buf, (size_t)r);
		BIO_write(e->rb, buf, (int)r);
		in += (size_t)r;
		if (e->mode == PUMP_EXACT && ktls_framer_at_boundary(&e->fr))
			break; /* one record at a time */
	}
	return in;
}

static inline int tp_step(struct tend *e)
{
	int r;

	if (e->done)
		return 0;
	tp_pump(e);
	r = SSL_do_handshake(e->ssl);
	/* Before pumping again: a BIO_write clears the read BIO's retry flag. */
	r = r == 1 ? 1 : -SSL_get_error(e->ssl, r);
	tp_pump(e);
	if (r == 1) {
		e->done = true;
		return 0;
	}
	r = -r;
	if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
		return 0;
	printf("# %s handshake: SSL_get_error %d\n", SSL_is_server(e->ssl) ? "server" : "client", r);
	return -1;
}

/* Handshake both ends; when client_data is set, the client writes it right
 * after its handshake completes (behind its Finished). 0 or -1. */
static inline int tp_handshake(struct tend *c, struct tend *s, const char *client_data)
{
	for (int i = 0; i < 2000 && !(c->done && s->done); i++) {
		bool was = c->done;
		if (tp_step(c)) {
			ERR_print_errors_fp(stdout);
			return -1;
		}
		if (!was && c->done && client_data) {
			if (SSL_write(c->ssl, client_data, (int)strlen(client_data)) <= 0)
				return -1;
			tp_pump(c);
		}
		if (tp_step(s)) {
			ERR_print_errors_fp(stdout);
			return -1;
		}
		if (!(c->done && s->done)) {
			struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = s->fd, .events = POLLIN } };
			poll(p, 2, 2);
		}
	}
	return c->done && s->done ? 0 : -1;
}

/* Userspace read on an end, waiting up to ~2 s. Returns bytes, 0 at
 * close_notify, -1 on error. */
static inline int tp_read(struct tend *e, void *buf, int len)
{
	for (int i = 0; i < 2000; i++) {
		tp_pump(e);
		int n = SSL_read(e->ssl, buf, len);
		if (n > 0)
			return n;
		int err = SSL_get_error(e->ssl, n);
		if (err == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			return -1;
		tp_pump(e);
		struct pollfd p = { .fd = e->fd, .events = POLLIN };
		poll(&p, 1, 1);
	}
	return -1;
}

static inline int tp_write(struct tend *e, const void *buf, int len)
{
	int n = SSL_write(e->ssl, buf, len);
	tp_pump(e);
	return n;
}

/* Process what the peer sent so far (tickets) without expecting data. */
static inline void tp_poll_read(struct tend *e)
{
	char b[1];
	for (int i = 0; i < 5; i++) {
		tp_pump(e);
		SSL_peek(e->ssl, b, 1);
		ERR_clear_error();
		struct pollfd p = { .fd = e->fd, .events = POLLIN };
		poll(&p, 1, 2);
	}
}

static inline void tp_end_free(struct tend *e)
{
	SSL_free(e->ssl); /* frees the memory BIOs */
	e->ssl = NULL;
}

#endif

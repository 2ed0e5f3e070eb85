/* tests/helpers/ktls_peer.c: one TLS connection on 127.0.0.1 with the record
 * layer in the kernel (libktls) or in OpenSSL, for tests against independent
 * peers (gnutls-cli, gnutls-serv, openssl s_client/s_server).
 *
 * After the handshake it sends the bytes of --send-file while it receives
 * --recv bytes (both at once, so an echo peer never stalls), optionally
 * starts a TLS 1.3 KeyUpdate half way, sends close_notify and waits for the
 * peer's close. It prints what happened on stdout as key=value lines:
 *   handshake version=1.3 cipher=TLS_AES_128_GCM_SHA256 aead=AES-128-GCM
 *   ktls dirs=tx,rx cipher=AES-128-GCM drained=0    (kTLS mode)
 *   key_update code=KTLS_E_REKEY_UNSUPPORTED        (--key-update, kernel without rekey)
 *   done sent=N recv=N recv_sha256=HEX key_updates_rx=N key_updates_tx=N eof=close_notify|tcp|none
 * or "error stage=... code=KTLS_E_... message=..." and exit status 1.
 * Exit status 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/tlsopts.h"
#include "common/units.h"
#include "ktls/ktls.h"

#define DEF_TIMEOUT_S 30
/* Every TLS 1.2 suite kTLS can take (OpenSSL's default list has no CCM). */
#define DEF_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE-ECDSA-AES128-CCM:ECDHE+ARIAGCM"

struct opts {
	bool server, ktls;
	uint16_t port;
	struct tlsopts tls;
	const char *cert, *key, *ca, *send_file, *ready_file;
	uint64_t recv, key_update_at;
	bool key_update;
	uint64_t timeout_ns;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktls_peer --role server|client --port N [options]\n"
		"One TLS connection on 127.0.0.1: send a file's bytes while receiving a count\n"
		"of bytes, then close_notify; report on stdout (key=value lines).\n\n"
		"  -r, --role R            server (listen on 127.0.0.1:N, one connection) or client\n"
		"  -p, --port N            TCP port (1-65535)\n"
		"  -m, --mode M            ktls (record layer in the kernel via libktls) or user\n"
		"                          (OpenSSL) (default: ktls)\n"
		"  -V, --tls-version V     1.2, 1.3 or any (default: any)\n"
		"      --ciphers L         TLS 1.2 ciphers, OpenSSL syntax\n"
		"                          (default: " DEF_CIPHERS ")\n"
		"      --ciphersuites L    TLS 1.3 suites (default: all five kTLS has, CCM included)\n"
		"  -c, --cert F            server certificate (PEM) (default: none; required for server)\n"
		"  -k, --key F             its private key (PEM)\n"
		"      --ca F              client: verify the server against this CA for \"localhost\"\n"
		"                          (default: no verification)\n"
		"  -s, --send-file F       bytes to send after the handshake (default: none)\n"
		"  -n, --recv SIZE         bytes to receive before closing, e.g. 256K (default: 0)\n"
		"  -u, --key-update SIZE   TLS 1.3: start a KeyUpdate (peer asked to update too)\n"
		"                          after sending SIZE bytes (default: none)\n"
		"      --ready-file F      server: create F once listening (default: none)\n"
		"  -t, --timeout T         give up after T, e.g. 30s, 500ms (default: %ds)\n"
		"  -h, --help              this text\n\n"
		"Sizes take K/M/G (x1024); durations ns/us/ms/s/m/h (a bare number is seconds).\n",
		DEF_TIMEOUT_S);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ktls_peer: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(ktls_peer --help for the options)\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "role", required_argument, NULL, 'r' },        { "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },        { "tls-version", required_argument, NULL, 'V' },
		{ "ciphers", required_argument, NULL, 1 },       { "ciphersuites", required_argument, NULL, 2 },
		{ "cert", required_argument, NULL, 'c' },        { "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 3 },            { "send-file", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'n' },        { "key-update", required_argument, NULL, 'u' },
		{ "ready-file", required_argument, NULL, 4 },    { "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
	};
	const char *role = NULL;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->ktls = true;
	o->timeout_ns = DEF_TIMEOUT_S * 1000000000ull;
	tlsopts_init(&o->tls);
	o->tls.ciphers = DEF_CIPHERS;
	o->tls.ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
			      "TLS_AES_128_CCM_SHA256";
	while ((c = getopt_long(argc, argv, "r:p:m:V:c:k:s:n:u:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (strcmp(optarg, "server") && strcmp(optarg, "client"))
				return usage_error("--role: '%s' is not server or client", optarg);
			role = optarg;
			break;
		case 'p':
			if (units_parse_u64(optarg, &v) || v == 0 || v > 65535)
				return usage_error("--port: '%s' is not a port from 1 to 65535", optarg);
			o->port = (uint16_t)v;
			break;
		case 'm':
			if (strcmp(optarg, "ktls") && strcmp(optarg, "user"))
				return usage_error("--mode: '%s' is not ktls or user", optarg);
			o->ktls = !strcmp(optarg, "ktls");
			break;
		case 'V':
			if (tlsopts_set_version(&o->tls, optarg))
				return usage_error("--tls-version: '%s' is not 1.2, 1.3 or any", optarg);
			break;
		case 1: o->tls.ciphers = optarg; break;
		case 2: o->tls.ciphersuites = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 3: o->ca = optarg; break;
		case 's': o->send_file = optarg; break;
		case 4: o->ready_file = optarg; break;
		case 'n':
			if (units_parse_size(optarg, &o->recv))
				return usage_error("--recv: '%s' is not a size (e.g. 4096, 256K, 1M)", optarg);
			break;
		case 'u':
			if (units_parse_size(optarg, &o->key_update_at))
				return usage_error("--key-update: '%s' is not a size (e.g. 0, 64K)", optarg);
			o->key_update = true;
			break;
		case 't':
			if (units_parse_duration(optarg, &o->timeout_ns) || o->timeout_ns == 0)
				return usage_error("--timeout: '%s' is not a duration (e.g. 30s, 500ms)", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		default: return usage_error("%s", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!role || !o->port)
		return usage_error("%s", "--role and --port are required");
	o->server = !strcmp(role, "server");
	if (o->server && (!o->cert || !o->key))
		return usage_error("%s", "a server needs --cert and --key (make certs: build/certs/ecdsa-p256.{crt,key})");
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *stage, const char *code, const char *msg)
{
	printf("error stage=%s code=%s\n", stage, code);
	fflush(stdout);
	fprintf(stderr, "ktls_peer: %s: %s\n", stage, msg);
	return 1;
}

static int fail_ssl(const char *stage)
{
	char buf[256] = "no OpenSSL error queued";
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	return fail(stage, "SSL", buf);
}

static int tcp_open(const struct opts *o, int *fdp)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -errno;
	if (!o->server) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			int e = -errno;
			close(fd);
			return e;
		}
		*fdp = fd;
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (o->ready_file) {
		int r = open(o->ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (r >= 0)
			close(r);
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, (int)(o->timeout_ns / 1000000));
	int c = n == 1 ? accept4(fd, NULL, NULL, SOCK_CLOEXEC) : -1;
	int e = n == 0 ? -ETIMEDOUT : -errno;
	close(fd);
	if (c < 0)
		return e;
	*fdp = c;
	return 0;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	struct stat st;

	*len = 0;
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) &&
	    fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
		*len = (size_t)st.st_size;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

struct conn {
	const struct opts *o;
	int fd;
	SSL *ssl;
	struct ktls_conn *k;
	unsigned key_updates_tx;
};

/* Send up to n bytes without blocking: count, 0 when the socket is full, or
 * a negative code (ktls) / -1 (user). */
static ssize_t conn_send(struct conn *c, const unsigned char *p, size_t n)
{
	if (c->k) {
		ssize_t w = ktls_send(c->k, p, n, MSG_DONTWAIT);
		return w == -EAGAIN ? 0 : w;
	}
	int w = SSL_write(c->ssl, p, n > 65536 ? 65536 : (int)n);
	if (w > 0)
		return w;
	int e = SSL_get_error(c->ssl, w);
	return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
}

/* Receive: count, 0 at EOF, -EAGAIN when nothing is there, or an error. */
static ssize_t conn_recv(struct conn *c, unsigned char *p, size_t n, bool *clean)
{
	if (c->k) {
		ssize_t r = ktls_recv(c->k, p, n, MSG_DONTWAIT);
		if (r == 0) {
			struct ktls_conn_stats st;
			ktls_conn_stats(c->k, &st);
			*clean = !st.unclean_eof;
		}
		return r;
	}
	int r = SSL_read(c->ssl, p, (int)(n > 65536 ? 65536 : n));
	if (r > 0)
		return r;
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN) {
		*clean = true;
		return 0;
	}
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if ((e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) ||
	    (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		*clean = false;
		return 0;
	}
	return -EIO;
}

static int conn_key_update(struct conn *c)
{
	if (c->k)
		return ktls_key_update(c->k, true);
	return SSL_key_update(c->ssl, SSL_KEY_UPDATE_REQUESTED) ? 0 : -EIO;
}

/* The AEAD of the negotiated suite, named as libktls and GnuTLS name it. */
static const char *aead_name(SSL *ssl)
{
	const SSL_CIPHER *sc = SSL_get_current_cipher(ssl);
	const char *n = sc ? SSL_CIPHER_get_name(sc) : "";

	if (strstr(n, "CCM8") || strstr(n, "CCM_8"))
		return "AES-128-CCM-8";
	switch (sc ? SSL_CIPHER_get_cipher_nid(sc) : NID_undef) {
	case NID_aes_128_gcm: return "AES-128-GCM";
	case NID_aes_256_gcm: return "AES-256-GCM";
	case NID_chacha20_poly1305: return "CHACHA20-POLY1305";
	case NID_aes_128_ccm: return "AES-128-CCM";
	case NID_aria_128_gcm: return "ARIA-GCM-128";
	case NID_aria_256_gcm: return "ARIA-GCM-256";
	default: return "other";
	}
}

static const char *code_name(ssize_t r)
{
	return r == -1 ? "SSL" : ktls_errname((int)r);
}

/* The data phase: send all of out while receiving want bytes. */
static int run_io(struct conn *c, const unsigned char *out, size_t out_len, const unsigned char *pre,
		  size_t pre_len, uint64_t deadline)
{
	static unsigned char buf[65536];
	const struct opts *o = c->o;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[32];
	size_t sent = 0, got = pre_len;
	bool ku_done = !o->key_update, eof = false, clean = false;
	const char *eof_kind = "none";
	int rc = 0;

	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	if (pre_len)
		EVP_DigestUpdate(h, pre, pre_len);
	while (sent < out_len || got < o->recv || !ku_done) {
		if (now_ns() > deadline) {
			fprintf(stderr, "ktls_peer: sent %zu of %zu, received %zu of %llu bytes\n", sent, out_len, got,
				(unsigned long long)o->recv);
			rc = fail("io", "ETIMEDOUT", "timed out: raise --timeout or check the peer");
			goto out;
		}
		if (!ku_done && sent >= o->key_update_at) {
			int r = conn_key_update(c);
			if (r == KTLS_E_REKEY_UNSUPPORTED) {
				/* Nothing was sent: the connection goes on under the old keys. */
				printf("key_update code=%s\n", ktls_errname(r));
				fflush(stdout);
			} else if (r) {
				rc = fail("key_update", ktls_errname(r), ktls_strerror(r));
				goto out;
			} else {
				c->key_updates_tx++;
			}
			ku_done = true;
		}
		bool progress = false;
		if (sent < out_len) {
			size_t n = out_len - sent;
			if (!ku_done && o->key_update_at - sent < n)
				n = o->key_update_at - sent;
			ssize_t w = conn_send(c, out + sent, n);
			if (w < 0) {
				rc = fail("send", code_name(w), w == -1 ? "SSL_write failed" : ktls_strerror((int)w));
				goto out;
			}
			sent += (size_t)w;
			progress |= w > 0;
		}
		if (got < o->recv && !eof) {
			ssize_t r = conn_recv(c, buf, sizeof(buf), &clean);
			if (r > 0) {
				EVP_DigestUpdate(h, buf, (size_t)r);
				got += (size_t)r;
				progress = true;
			} else if (r == 0) {
				eof = true;
				eof_kind = clean ? "close_notify" : "tcp";
				fprintf(stderr, "ktls_peer: the peer closed after %zu of %llu bytes\n", got,
					(unsigned long long)o->recv);
				break;
			} else if (r != -EAGAIN) {
				rc = fail("recv", code_name(r), r == -EIO ? "SSL_read failed" : ktls_strerror((int)r));
				goto out;
			}
		}
		if (!progress) {
			struct pollfd p = { .fd = c->fd, .events = (short)((got < o->recv ? POLLIN : 0) |
									    (sent < out_len ? POLLOUT : 0)) };
			poll(&p, 1, 10);
		}
	}
	/* Our close_notify, then the peer's close. */
	if (c->k)
		ktls_close(c->k);
	else
		SSL_shutdown(c->ssl);
	while (!eof && now_ns() < deadline) {
		ssize_t r = conn_recv(c, buf, sizeof(buf), &clean);
		if (r == 0) {
			eof = true;
			eof_kind = clean ? "close_notify" : "tcp";
		} else if (r > 0) {
			fprintf(stderr, "ktls_peer: %zd bytes more than --recv after our close_notify\n", r);
			got += (size_t)r;
			EVP_DigestUpdate(h, buf, (size_t)r);
		} else if (r == -EAGAIN) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			poll(&p, 1, 10);
		} else {
			fprintf(stderr, "ktls_peer: after our close_notify: %s (errno %d)\n",
				r == -EIO ? "SSL_read failed" : ktls_errname((int)r), errno);
			ERR_print_errors_fp(stderr);
			eof_kind = "error";
			break;
		}
	}
out:
	EVP_DigestFinal_ex(h, md, NULL);
	EVP_MD_CTX_free(h);
	if (rc == 0) {
		struct ktls_conn_stats st = { 0 };
		if (c->k)
			ktls_conn_stats(c->k, &st);
		printf("done sent=%zu recv=%zu recv_sha256=", sent, got);
		for (int i = 0; i < 32; i++)
			printf("%02x", md[i]);
		printf(" key_updates_rx=%llu key_updates_tx=%u eof=%s\n", (unsigned long long)st.key_updates_rx,
		       c->key_updates_tx, eof_kind);
		fflush(stdout);
		if (got != o->recv)
			rc = 1;
	}
	return rc;
}

static SSL_CTX *make_ctx(const struct opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(o->server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	if (tlsopts_apply(&o->tls, ctx, err, errlen) || tlsopts_keylog_from_env(ctx, err, errlen))
		goto bad;
	if (o->server && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
			  SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)) {
		snprintf(err, errlen, "cannot load --cert %s / --key %s (PEM); make certs builds build/certs/",
			 o->cert, o->key);
		goto bad;
	}
	if (o->ca) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
			snprintf(err, errlen, "cannot load --ca %s (PEM)", o->ca);
			goto bad;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (o->ktls && ktls_ctx_prepare(ctx)) {
		snprintf(err, errlen, "ktls_ctx_prepare failed");
		goto bad;
	}
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conn c = { .o = &o, .fd = -1 };
	struct ktls_report rep = { .rx_data = NULL };
	SSL_CTX *ctx = NULL;
	unsigned char *out = NULL;
	size_t out_len = 0;
	char err[512];
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc;
	uint64_t deadline = now_ns() + o.timeout_ns;
	if (o.send_file && !(out = read_file(o.send_file, &out_len))) {
		fprintf(stderr, "ktls_peer: --send-file %s: cannot read it: %s\n", o.send_file,
			strerror(errno ? errno : EIO));
		return 2;
	}
	ctx = make_ctx(&o, err, sizeof(err));
	if (!ctx) {
		rc = fail("setup", "EINVAL", err);
		goto out;
	}
	rc = tcp_open(&o, &c.fd);
	if (rc) {
		snprintf(err, sizeof(err), "%s 127.0.0.1:%u: %s", o.server ? "listen/accept on" : "connect to", o.port,
			 strerror(-rc));
		rc = fail(o.server ? "accept" : "connect", ktls_errname(rc), err);
		goto out;
	}
	struct timeval tv = { .tv_sec = (time_t)(o.timeout_ns / 1000000000ull), .tv_usec = 0 };
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c.ssl = SSL_new(ctx);
	if (!c.ssl || !SSL_set_fd(c.ssl, c.fd)) {
		rc = fail_ssl("setup");
		goto out;
	}
	if (!o.server && o.ca)
		SSL_set1_host(c.ssl, "localhost");
	if ((o.server ? SSL_accept(c.ssl) : SSL_connect(c.ssl)) != 1) {
		rc = fail_ssl("handshake");
		goto out;
	}
	int ver = SSL_version(c.ssl);
	printf("handshake version=%s cipher=%s aead=%s\n", tlsopts_version_name(ver), SSL_get_cipher_name(c.ssl),
	       aead_name(c.ssl));
	if (o.ktls) {
		rc = ktls_enable(c.ssl, c.fd, KTLS_TX | KTLS_RX, &c.k, &rep);
		if (rc) {
			rc = fail("ktls_enable", ktls_errname(rc), ktls_strerror(rc));
			goto out;
		}
		printf("ktls dirs=tx,rx cipher=%s drained=%zu\n", ktls_cipher_name(rep.cipher), rep.rx_len);
	}
	fflush(stdout);
	fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
	rc = run_io(&c, out, out_len, rep.rx_data, rep.rx_len, deadline);
out:
	ktls_conn_free(c.k);
	SSL_free(c.ssl);
	SSL_CTX_free(ctx);
	if (c.fd >= 0)
		close(c.fd);
	free(rep.rx_data);
	free(out);
	return rc;
}

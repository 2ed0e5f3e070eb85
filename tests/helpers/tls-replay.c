/* tests/helpers/tls-replay.c: replay a TLS 1.3 ClientHello with early data,
 * as an attacker on the path would.
 *
 *   tls-replay --port P [--host 127.0.0.1] [--path /bytes/5] [--method GET]
 *              [--times 2]
 *
 * First a full TLS 1.3 handshake with one request gets a session ticket.
 * Then a resumed ClientHello is built with the request as early data,
 * written into memory instead of a socket: that first flight (ClientHello
 * and the early data records) is sent, byte for byte, on --times new TCP
 * connections, one after the other. On each the helper reads what the
 * server answers for a short while (the server's flight, and its answer to
 * the early request when it accepted the early data: it cannot be
 * decrypted here, and the handshake is never finished), then closes. The
 * server's counters say what it made of each copy.
 *
 * Prints "flight N bytes" and, per connection, "copy I: M bytes back".
 * Exit 0, 1 when a connection or the first handshake failed (the message
 * says why), 2 on a usage error. Certificates are not verified.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *host = "127.0.0.1";
static int port = -1;

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "tls-replay: %s\n", why);
	fprintf(stderr, "usage: tls-replay --port P [--host 127.0.0.1] [--path /bytes/5] "
		"[--method GET] [--times 2]\n");
	return 2;
}

static int tcp_connect(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a)) {
		fprintf(stderr, "tls-replay: connect %s:%d: %s\n", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A full handshake and one request; the session with its ticket, or NULL. */
static SSL_SESSION *first_session(SSL_CTX *ctx, const char *req)
{
	char buf[4096];
	SSL_SESSION *sess = NULL;
	int fd = tcp_connect();
	SSL *ssl;

	if (fd < 0)
		return NULL;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1 || SSL_write(ssl, req, (int)strlen(req)) <= 0) {
		fprintf(stderr, "tls-replay: the first handshake failed\n");
		ERR_print_errors_fp(stderr);
		goto out;
	}
	/* the response; the tickets came before it */
	if (SSL_read(ssl, buf, sizeof buf) <= 0) {
		fprintf(stderr, "tls-replay: no response to the first request\n");
		goto out;
	}
	sess = SSL_get1_session(ssl);
	if (sess && SSL_SESSION_get_max_early_data(sess) == 0) {
		fprintf(stderr, "tls-replay: the server's ticket allows no early data "
			"(start it with --early-data)\n");
		SSL_SESSION_free(sess);
		sess = NULL;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	close(fd);
	return sess;
}

/* The resumed first flight with req as early data, written into memory. */
static int build_flight(SSL_CTX *ctx, SSL_SESSION *sess, const char *req, BUF_MEM **out, BIO **keep)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	size_t w = 0;

	BIO_set_mem_eof_return(rb, -1);          /* empty: "retry", not EOF */
	SSL_set_bio(ssl, rb, wb);
	SSL_set_session(ssl, sess);
	SSL_set_connect_state(ssl);
	if (SSL_write_early_data(ssl, req, strlen(req), &w) != 1 || w != strlen(req)) {
		fprintf(stderr, "tls-replay: SSL_write_early_data failed\n");
		ERR_print_errors_fp(stderr);
		SSL_free(ssl);
		return -1;
	}
	BIO_get_mem_ptr(wb, out);
	BIO_up_ref(wb);
	*keep = wb;
	SSL_free(ssl);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "path", required_argument, NULL, 'P' }, { "method", required_argument, NULL, 'm' },
		{ "times", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	const char *path = "/bytes/5", *method = "GET";
	long times = 2;
	char req[512], *end;
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'H': host = optarg; break;
		case 'p':
			port = (int)strtol(optarg, &end, 10);
			if (*end || port <= 0 || port > 65535)
				return usage("--port: expected 1-65535");
			break;
		case 'P': path = optarg; break;
		case 'm': method = optarg; break;
		case 'n':
			times = strtol(optarg, &end, 10);
			if (*end || times < 1 || times > 100)
				return usage("--times: expected 1-100");
			break;
		default: return usage(NULL);
		}
	}
	if (port < 0 || optind < argc)
		return usage("--port is required");
	snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", method, path,
		 strcmp(method, "GET") && strcmp(method, "HEAD") ? "Content-Length: 0\r\n" : "");

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_SESSION *sess = first_session(ctx, req);
	if (!sess)
		return 1;
	BUF_MEM *fl;
	BIO *keep;
	if (build_flight(ctx, sess, req, &fl, &keep))
		return 1;
	printf("flight %zu bytes\n", fl->length);
	for (long i = 1; i <= times; i++) {
		char buf[16384];
		size_t back = 0;
		int fd = tcp_connect();
		if (fd < 0)
			return 1;
		if (send(fd, fl->data, fl->length, MSG_NOSIGNAL) != (ssize_t)fl->length) {
			fprintf(stderr, "tls-replay: send: %s\n", strerror(errno));
			return 1;
		}
		/* what comes back within 300 ms of quiet */
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 300) <= 0)
				break;
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n <= 0)
				break;
			back += (size_t)n;
		}
		close(fd);
		printf("copy %ld: %zu bytes back\n", i, back);
		fflush(stdout);
	}
	BIO_free(keep);
	SSL_SESSION_free(sess);
	SSL_CTX_free(ctx);
	return 0;
}

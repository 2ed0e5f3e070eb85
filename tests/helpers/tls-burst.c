/* tests/helpers/tls-burst.c: a TLS 1.3 client that puts its requests in the
 * same write as its Finished, so they reach the server in the same TCP
 * segment, right behind the last handshake record.
 *
 *   tls-burst --port P [--requests N] [--path /bytes/1] [--shut]
 *
 * The handshake runs over memory BIOs; when it is done, N pipelined
 * "GET PATH" requests (the last with Connection: close) are encrypted behind
 * the Finished and everything goes out in one send(), followed at once by
 * the client's FIN with --shut (a half-close). Then it reads until
 * the server closes and writes the decrypted stream (heads and bodies) to
 * stdout. Exit 0 when the server closed cleanly, 1 otherwise, 2 on a usage
 * error. The server's certificate is not verified.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/units.h"

static int flush_out(int fd, BIO *wbio)
{
	char buf[65536];
	int n;
	while ((n = BIO_read(wbio, buf, sizeof buf)) > 0) {
		for (int off = 0; off < n;) {
			ssize_t k = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (k <= 0)
				return -1;
			off += (int)k;
		}
	}
	return 0;
}

static int fill_in(int fd, BIO *rbio)
{
	char buf[65536];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n <= 0)
		return (int)n;
	BIO_write(rbio, buf, (int)n);
	return (int)n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "requests", required_argument, NULL, 'n' },
		{ "path", required_argument, NULL, 'P' }, { "shut", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool shut = false;
	uint64_t port = 0, nreq = 1;
	const char *path = "/bytes/1";
	int o;

	while ((o = getopt_long(argc, argv, "p:n:P:", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (units_parse_u64(optarg, &port) || !port || port > 65535)
				goto usage;
			break;
		case 'n':
			if (units_parse_u64(optarg, &nreq) || !nreq || nreq > 100000)
				goto usage;
			break;
		case 'P': path = optarg; break;
		case 's': shut = true; break;
		default: goto usage;
		}
	}
	if (!port || optind < argc)
		goto usage;

	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		fprintf(stderr, "tls-burst: connect: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	for (;;) {
		int r = SSL_do_handshake(ssl);
		if (r == 1)
			break;
		if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ || flush_out(fd, wbio) || fill_in(fd, rbio) <= 0) {
			fprintf(stderr, "tls-burst: handshake failed\n");
			return 1;
		}
	}
	/* the Finished is still in wbio: the requests go right behind it */
	size_t cap = nreq * (strlen(path) + 64), len = 0;
	char *req = malloc(cap);
	for (uint64_t i = 0; i < nreq; i++)
		len += (size_t)snprintf(req + len, cap - len, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path,
					i + 1 == nreq ? "Connection: close\r\n" : "");
	if (SSL_write(ssl, req, (int)len) != (int)len || flush_out(fd, wbio)) {
		fprintf(stderr, "tls-burst: cannot send the requests\n");
		return 1;
	}
	free(req);
	if (shut)
		shutdown(fd, SHUT_WR);
	int rc = 1;
	char buf[65536];
	for (;;) {
		int n = SSL_read(ssl, buf, sizeof buf);
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			continue;
		}
		int e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN) {
			rc = 0;
			break;
		}
		if (e != SSL_ERROR_WANT_READ)
			break;
		flush_out(fd, wbio);
		if (fill_in(fd, rbio) <= 0)
			break;
	}
	if (rc)
		fprintf(stderr, "tls-burst: the connection ended without close_notify\n");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
usage:
	fprintf(stderr, "usage: tls-burst --port P [--requests N] [--path /bytes/1] [--shut]\n");
	return 2;
}

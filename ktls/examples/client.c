/* An HTTPS GET whose records the kernel encrypts: OpenSSL does the
 * handshake, libktls hands the keys to kTLS, then plain send()/recv(). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ktls/ktls.h"

int ktls_example_get(const char *host, const char *port, char *out, size_t outlen)
{
	struct addrinfo *ai, hints = { .ai_socktype = SOCK_STREAM };
	struct ktls_conn *c = NULL;
	struct ktls_report rep = { .rx_data = NULL };
	char req[256];
	ssize_t n = -1;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	int ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
	freeaddrinfo(ai);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_verify_paths(ctx); /* system CAs, or $SSL_CERT_FILE */
	ktls_ctx_prepare(ctx);                 /* before SSL_new() */
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, host);
	int rc = ok && SSL_connect(ssl) == 1 ? ktls_enable(ssl, fd, KTLS_TX | KTLS_RX, &c, &rep) : -1;
	SSL_free(ssl);                         /* the kernel has the keys now */
	SSL_CTX_free(ctx);
	if (rc == 0) {
		size_t have = rep.rx_len < outlen ? rep.rx_len : outlen; /* already decrypted */
		if (have)
			memcpy(out, rep.rx_data, have);
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
		if (send(fd, req, strlen(req), 0) == (ssize_t)strlen(req))
			n = ktls_recv(c, out + have, outlen - have, 0); /* alerts, tickets, KeyUpdate */
		n = n < 0 ? n : n + (ssize_t)have;
		ktls_close(c);                 /* close_notify */
	} else if (rc < -1) {
		fprintf(stderr, "kTLS: %s\n", ktls_strerror(rc));
	}
	free(rep.rx_data);                     /* set even by some refusals */
	ktls_conn_free(c);                     /* wipes the secrets libktls kept */
	if (fd >= 0)
		close(fd);
	return n < 0 ? (int)(rc ? rc : n) : (int)n;
}

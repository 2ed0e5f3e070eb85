/* tests/helpers/tls-hold.c: open many TLS connections to a server and keep
 * them idle, to measure what an idle established connection costs it.
 *
 *   tls-hold --port P [--host A] [--count N] [--path /bytes/1] [--tls-version V]
 *
 * Each connection completes a handshake, sends one keep-alive request, reads
 * the whole response (so the server has been through its full path), and
 * then stays open saying nothing. When all are established it prints
 * "ready N" on stdout and waits until its standard input closes, then closes
 * them all and exits 0. Exit 1 when a connection fails (the message says
 * which and why), 2 on a usage error. Certificates are not verified: this
 * measures the server, not the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/tlsopts.h"
#include "common/units.h"

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "tls-hold: %s\n", why);
	fprintf(stderr, "usage: tls-hold --port P [--host 127.0.0.1] [--count 2000] [--path /bytes/1] "
		"[--tls-version any]\n");
	return 2;
}

/* Read one HTTP response with a Content-Length; 0 or -1. */
static int read_response(SSL *ssl)
{
	char buf[16384];
	size_t have = 0;
	long body = -1;
	size_t head = 0;

	for (;;) {
		int n = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = 0;
		if (body < 0) {
			char *e = strstr(buf, "\r\n\r\n");
			if (!e)
				continue;
			head = (size_t)(e - buf) + 4;
			char *cl = strcasestr(buf, "content-length:");
			if (!cl || cl > e)
				return -1;
			body = strtol(cl + 15, NULL, 10);
		}
		if (have >= head + (size_t)body)
			return 0;
		if (have == sizeof buf - 1)
			return -1;      /* a larger body than this helper reads */
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' }, { "path", required_argument, NULL, 'P' },
		{ "tls-version", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1", *path = "/bytes/1";
	uint64_t port = 0, count = 2000;
	struct tlsopts to;
	char err[256], req[512];
	int o;

	tlsopts_init(&to);
	while ((o = getopt_long(argc, argv, "H:p:n:P:v:h", opts, NULL)) != -1) {
		switch (o) {
		case 'H': host = optarg; break;
		case 'p':
			if (units_parse_u64(optarg, &port) || port == 0 || port > 65535)
				return usage("--port: a number from 1 to 65535");
			break;
		case 'n':
			if (units_parse_u64(optarg, &count) || count == 0 || count > 1000000)
				return usage("--count: a number from 1 to 1000000");
			break;
		case 'P': path = optarg; break;
		case 'v':
			if (tlsopts_set_version(&to, optarg))
				return usage("--tls-version: 1.2, 1.3 or any");
			break;
		case 'h': usage(NULL); return 0;
		default: return usage(NULL);
		}
	}
	if (!port || optind < argc)
		return usage("--port is required");

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < count + 64) {
		rl.rlim_cur = rl.rlim_max < count + 64 ? rl.rlim_max : count + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || tlsopts_apply(&to, ctx, err, sizeof err)) {
		fprintf(stderr, "tls-hold: %s\n", ctx ? err : "SSL_CTX_new failed");
		return 1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL **ssl = calloc(count, sizeof *ssl);
	int *fds = calloc(count, sizeof *fds);
	if (!ssl || !fds)
		return 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return usage("--host: an IPv4 address");
	int rlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);

	int rc = 0;
	uint64_t i;
	for (i = 0; i < count; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof sa)) {
			fprintf(stderr, "tls-hold: connection %llu: %s\n", (unsigned long long)i, strerror(errno));
			rc = 1;
			break;
		}
		ssl[i] = SSL_new(ctx);
		SSL_set_fd(ssl[i], fds[i]);
		if (SSL_connect(ssl[i]) != 1 || SSL_write(ssl[i], req, rlen) != rlen ||
		    read_response(ssl[i])) {
			unsigned long e = ERR_get_error();
			fprintf(stderr, "tls-hold: connection %llu: TLS or HTTP failed (%s)\n",
				(unsigned long long)i, e ? ERR_reason_error_string(e) : "closed");
			rc = 1;
			i++;
			break;
		}
	}
	if (rc == 0) {
		printf("ready %llu\n", (unsigned long long)count);
		fflush(stdout);
		char c;
		while (read(0, &c, 1) > 0)
			;
	}
	for (uint64_t k = 0; k < i; k++) {
		if (ssl[k]) {
			SSL_shutdown(ssl[k]);
			SSL_free(ssl[k]);
		}
		if (fds[k] >= 0)
			close(fds[k]);
	}
	free(ssl);
	free(fds);
	SSL_CTX_free(ctx);
	return rc;
}

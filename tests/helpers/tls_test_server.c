/* tests/helpers/tls_test_server.c: a small misbehaving TLS server for the
 * ktls-client tests. One thread per connection (or one at a time with
 * --serial), blocking I/O, the wire protocol's GET /bytes/N and GET /stats.
 *
 *   tls_test_server --port P --cert C --key K [options]
 *     --delay-handshake D   once a ClientHello is in, sleep D before answering it
 *                           (a slow server: D of server time per handshake)
 *     --delay-response D    sleep D before each response
 *     --serial              serve one connection at a time (a server with a queue)
 *     --corrupt N           flip body byte N of every /bytes response
 *     --stall               accept TCP connections and never answer
 *     --refuse-resumption   issue session tickets, but answer every offered
 *                           one with a full handshake (and a new ticket)
 *     --requests-log FILE   one JSON line per request: method, path, headers,
 *                           body length and SHA-256 (the body is read by its
 *                           Content-Length); HEAD gets the head alone
 *     --stats FILE          write the counters as JSON there at exit
 *     --lifetime D          exit after D (default 60s): a test can never leave it behind
 * Counters (GET /stats, and --stats at exit): accepted, handshakes, resumed,
 * requests, body_bytes. SIGTERM/SIGINT: write --stats, exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <strings.h>

#include "client/http.h"
#include "common/pattern.h"
#include "common/units.h"

static uint64_t delay_hs_ns, delay_resp_ns, lifetime_ns = 60ULL * 1000000000ULL;
static int64_t corrupt_at = -1;
static int serial, stall, refuse_resumption;
static const char *stats_path;
static FILE *reqlog;
static pthread_mutex_t reqlog_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *ctx;
static uint64_t n_accepted, n_handshakes, n_resumed, n_requests, n_body;

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void write_stats(void)
{
	FILE *f;

	if (!stats_path)
		return;
	f = fopen(stats_path, "w");
	if (!f)
		return;
	fprintf(f, "{\"accepted\": %llu, \"handshakes\": %llu, \"resumed\": %llu, \"requests\": %llu, "
		"\"body_bytes\": %llu}\n",
		(unsigned long long)__atomic_load_n(&n_accepted, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&n_handshakes, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&n_resumed, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&n_requests, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&n_body, __ATOMIC_RELAXED));
	fclose(f);
}

static void on_term(int sig)
{
	(void)sig;
	write_stats();
	_exit(0);
}

static int ssl_write_all(SSL *ssl, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		int n = SSL_write(ssl, p, (int)(len > 65536 ? 65536 : len));
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --requests-log: the request head (method line and headers) and its body. */
static void log_request(const char *peer, const char *head, size_t head_len,
			const unsigned char *body, size_t body_len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	const char *p = head, *end = head + head_len;
	bool first = true;
	unsigned nh = 0;

	if (!reqlog)
		return;
	SHA256(body, body_len, md);
	pthread_mutex_lock(&reqlog_lock);
	fprintf(reqlog, "{\"peer\": \"%s\", ", peer);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break;
		if (first) {
			char m[32] = "", path[1024] = "";
			sscanf(p, "%31s %1023s", m, path);
			fprintf(reqlog, "\"method\": \"%s\", \"path\": \"%s\", \"headers\": [", m, path);
		} else {
			fprintf(reqlog, "%s\"", nh++ ? ", " : "");
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '"' || p[i] == '\\')
					fputc('\\', reqlog);
				fputc(p[i], reqlog);
			}
			fputc('"', reqlog);
		}
		first = false;
		p = eol ? eol + 1 : end;
	}
	fprintf(reqlog, "], \"body_bytes\": %zu, \"body_sha256\": \"", body_len);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		fprintf(reqlog, "%02x", md[i]);
	fprintf(reqlog, "\"}\n");
	fflush(reqlog);
	pthread_mutex_unlock(&reqlog_lock);
}

/* The Content-Length of a request head, 0 without one. */
static uint64_t request_length(const char *head, size_t len)
{
	const char *p = head, *end = head + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if ((size_t)(eol - p) > 15 && !strncasecmp(p, "Content-Length:", 15))
			return strtoull(p + 15, NULL, 10);
		p = eol + 1;
	}
	return 0;
}

static int send_bytes(SSL *ssl, uint64_t n, bool head_only)
{
	char head[128];
	uint8_t chunk[16384];
	uint64_t off = 0;

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
		 (unsigned long long)n);
	if (ssl_write_all(ssl, head, strlen(head)))
		return -1;
	if (head_only)
		return 0;
	while (off < n) {
		size_t k = n - off < sizeof(chunk) ? (size_t)(n - off) : sizeof(chunk);
		pattern_fill(chunk, off, k);
		if (corrupt_at >= 0 && (uint64_t)corrupt_at >= off && (uint64_t)corrupt_at < off + k)
			chunk[corrupt_at - (int64_t)off] ^= 0x20;
		if (ssl_write_all(ssl, chunk, k))
			return -1;
		off += k;
	}
	__atomic_fetch_add(&n_body, n, __ATOMIC_RELAXED);
	return 0;
}

static void serve(int fd)
{
	SSL *ssl = NULL;
	char buf[4096], peer[INET6_ADDRSTRLEN] = "?";
	size_t have = 0;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (!getpeername(fd, (struct sockaddr *)&sa, &sl))
		inet_ntop(AF_INET, &sa.sin_addr, peer, sizeof(peer));

	if (stall) {
		/* hold the connection open, say nothing, until the peer leaves */
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		goto out;
	}
	if (delay_hs_ns) {
		/* from the ClientHello's arrival, not from the accept */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, 10000);
		sleep_ns(delay_hs_ns);
	}
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1)
		goto out;
	__atomic_fetch_add(&n_handshakes, 1, __ATOMIC_RELAXED);
	if (SSL_session_reused(ssl))
		__atomic_fetch_add(&n_resumed, 1, __ATOMIC_RELAXED);
	for (;;) {
		size_t end;
		while (!(end = http_head_end(buf, have))) {
			int n;
			if (have == sizeof(buf))
				goto out;
			n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		__atomic_fetch_add(&n_requests, 1, __ATOMIC_RELAXED);
		/* the body, by its Content-Length */
		uint64_t blen = request_length(buf, end);
		unsigned char *body = malloc(blen + 1);
		size_t got = have - end < blen ? have - end : (size_t)blen;
		if (!body)
			goto out;
		memcpy(body, buf + end, got);
		while (got < blen) {
			int n = SSL_read(ssl, body + got, (int)(blen - got > 65536 ? 65536 : blen - got));
			if (n <= 0) {
				free(body);
				goto out;
			}
			got += (size_t)n;
		}
		log_request(peer, buf, end, body, (size_t)blen);
		free(body);
		size_t used = end + (have - end < blen ? have - end : (size_t)blen);
		if (delay_resp_ns)
			sleep_ns(delay_resp_ns);
		char method[16] = "", path[256] = "";
		sscanf(buf, "%15s %255s HTTP/1.", method, path);
		int64_t n = http_bytes_path(path);
		int rc;
		if (n >= 0 && (!strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "POST"))) {
			rc = send_bytes(ssl, (uint64_t)n, !strcmp(method, "HEAD"));
		} else if (!strcmp(path, "/stats")) {
			char body[256], resp[512];
			snprintf(body, sizeof(body), "{\"handshakes\": %llu, \"resumed\": %llu}",
				 (unsigned long long)__atomic_load_n(&n_handshakes, __ATOMIC_RELAXED),
				 (unsigned long long)__atomic_load_n(&n_resumed, __ATOMIC_RELAXED));
			snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
				 strlen(body), body);
			rc = ssl_write_all(ssl, resp, strlen(resp));
		} else {
			static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
			rc = ssl_write_all(ssl, nf, sizeof(nf) - 1);
		}
		if (rc)
			goto out;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	close(fd);
}

static void *conn_thread(void *arg)
{
	serve((int)(intptr_t)arg);
	return NULL;
}

static void *lifetime_thread(void *arg)
{
	(void)arg;
	sleep_ns(lifetime_ns);
	write_stats();
	_exit(0);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: tls_test_server --port P --cert FILE --key FILE [--delay-handshake D] "
		"[--delay-response D] [--serial] [--corrupt N] [--stall] [--refuse-resumption] [--stats FILE] "
		"[--requests-log FILE] "
		"[--lifetime D (default 60s)]\n");
	exit(2);
}

static SSL_TICKET_RETURN ignore_ticket(SSL *s, SSL_SESSION *ss, const unsigned char *keyname, size_t keyname_len,
				       SSL_TICKET_STATUS status, void *arg)
{
	(void)s; (void)ss; (void)keyname; (void)keyname_len; (void)status; (void)arg;
	return SSL_TICKET_RETURN_IGNORE_RENEW;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "delay-handshake", required_argument, NULL, 'H' },
		{ "delay-response", required_argument, NULL, 'R' },
		{ "serial", no_argument, NULL, 's' },
		{ "corrupt", required_argument, NULL, 'x' },
		{ "stall", no_argument, NULL, 'S' },
		{ "refuse-resumption", no_argument, NULL, 'F' },
		{ "stats", required_argument, NULL, 'o' },
		{ "requests-log", required_argument, NULL, 'L' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cert = NULL, *key = NULL;
	uint64_t port = 0, v;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int opt, lfd, one = 1;
	pthread_t lt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': if (units_parse_u64(optarg, &port) || !port || port > 65535) usage(); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'H': if (units_parse_duration(optarg, &delay_hs_ns)) usage(); break;
		case 'R': if (units_parse_duration(optarg, &delay_resp_ns)) usage(); break;
		case 's': serial = 1; break;
		case 'x': if (units_parse_u64(optarg, &v)) usage(); corrupt_at = (int64_t)v; break;
		case 'S': stall = 1; break;
		case 'F': refuse_resumption = 1; break;
		case 'o': stats_path = optarg; break;
		case 'L':
			if (!(reqlog = fopen(optarg, "a")))
				usage();
			break;
		case 'l': if (units_parse_duration(optarg, &lifetime_ns)) usage(); break;
		default: usage();
		}
	}
	if (!port || !cert || !key)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "tls_test_server: cannot load %s / %s\n", cert, key);
		return 1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (refuse_resumption) {
		/* no session-ID cache, and every ticket ignored (a fresh one issued) */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_session_ticket_cb(ctx, NULL, ignore_ticket, NULL);
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1024)) {
		fprintf(stderr, "tls_test_server: 127.0.0.1:%llu: %s\n", (unsigned long long)port,
			strerror(errno));
		return 1;
	}
	pthread_create(&lt, NULL, lifetime_thread, NULL);
	pthread_detach(lt);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		__atomic_fetch_add(&n_accepted, 1, __ATOMIC_RELAXED);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (serial) {
			serve(fd);
		} else {
			pthread_t t;
			pthread_attr_t at;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&at, 256 * 1024);
			if (pthread_create(&t, &at, conn_thread, (void *)(intptr_t)fd))
				close(fd);
			pthread_attr_destroy(&at);
		}
	}
}

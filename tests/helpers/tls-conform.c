/* tests/helpers/tls-conform.c: one TLS 1.3 client connection that sends
 * what a conformance suite sends, then reports what the server did.
 *
 *   tls-conform --port P --case C [options]
 *
 * Cases (after the handshake; --when finished: in the same TCP segment as
 * the client's Finished, so a server reads them with it, before any switch
 * to kTLS; --when open: after one request and its response):
 *   plain          nothing odd: --requests GETs, each body checked
 *   bad-record     a request record with one ciphertext bit flipped
 *   key-update     --count KeyUpdates (OpenSSL's own, --request-update 0|1),
 *                  each in its record
 *   ku-split       a KeyUpdate cut in two records: [24 0 0 1] [req]
 *   ku-two         two KeyUpdates in one record
 *   ku-value       a KeyUpdate with request_update 2
 *   ku-length      a KeyUpdate whose body is 2 bytes
 *   empty-alert    an alert record with no content
 *   empty-handshake  a handshake record with no content
 *   empty-data     an application data record with no content
 *   inner-zero     a record whose inner plaintext is all zeros (no type)
 *   ku-loop        --count times: a KeyUpdate then a GET, all at once
 *   sslv2-hello    (no handshake) an SSL 2.0-format ClientHello offering
 *                  TLS 1.2, as old clients sent
 *   rsa-chain      (no handshake) OpenSSL's ClientHello with a
 *                  signature_algorithms_cert extension of RSA schemes only
 *                  (OpenSSL sends none of its own): does the server answer
 *                  with a ServerHello (end=server_hello) or refuse its chain?
 * then --requests GETs of /bytes/<1000 + 7i>, pipelined. Records OpenSSL
 * cannot make are sealed with the session's own keys through libktls and
 * the emulated kernel (tests/tls13_craft.h); everything the server sends is
 * read by plain OpenSSL, which checks it independently.
 *
 * It reads until every response came or the server ended the connection,
 * then (still open) sends close_notify and its FIN and reads to the end.
 * Report, one line on stdout:
 *   closed_by=server|client end=alert:<name>|fin|rst|open tcp=fin|rst|open
 *   responses=N bodies=ok|bad tickets=N server_key_updates=N after_ms=N
 * end: how the server ended the TLS connection: the first alert it sent
 * (close_notify included), else how TCP ended; tcp: how TCP ended (a FIN
 * after everything, or a reset). Exit 0 when the run went as
 * planned whatever the server did, 1 when the client could not do its part,
 * 2 on a usage error. Every wait is bounded by --wait.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/pattern.h"
#include "common/units.h"
#include "tests/tls13_craft.h"

enum kase { C_PLAIN, C_BAD, C_KU, C_SPLIT, C_TWO, C_VALUE, C_LENGTH, C_EALERT, C_EHS, C_EDATA,
	    C_ZERO, C_LOOP, C_SSLV2, C_RSACHAIN };
static const char *const case_names[] = { "plain", "bad-record", "key-update", "ku-split", "ku-two",
					   "ku-value", "ku-length", "empty-alert", "empty-handshake",
					   "empty-data", "inner-zero", "ku-loop", "sslv2-hello", "rsa-chain", NULL };

static struct {
	const char *host;
	uint16_t port;
	int kase;
	bool when_open;
	uint64_t count, requests, wait_ns;
	int request_update;
} opt;

static int fd = -1;
static SSL *ssl;
static BIO *rbio, *wbio;
static struct ktls_conn *kc;           /* our TX through the emulated kernel */
static uint8_t *out;                   /* bytes to send */
static size_t out_len, out_cap;
static int alert = -1, tickets, server_kus;
static bool ended, rst, eof, bad_body;
static unsigned responses, expected;
/* response parsing */
static char head[4096];
static size_t head_len;
static uint64_t body_left, body_off;
static uint64_t t0;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
	fprintf(stderr, "tls-conform: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void queue(const void *p, size_t n)
{
	if (out_len + n > out_cap) {
		out_cap = (out_len + n) * 2 + 4096;
		out = realloc(out, out_cap);
		if (!out)
			die("out of memory");
	}
	memcpy(out + out_len, p, n);
	out_len += n;
}

static void take_wbio(void)
{
	uint8_t b[16384];
	int n;
	while ((n = BIO_read(wbio, b, sizeof b)) > 0)
		queue(b, (size_t)n);
}

/* Everything queued, in one send() (one segment on loopback below 64 KiB). */
static void push(void)
{
	if (out_len && craft_send(fd, out, out_len))
		rst = true;
	out_len = 0;
}

/* ---- what the server sends -------------------------------------------------- */
static void msg_cb(int write_p, int version, int type, const void *buf, size_t len, SSL *s, void *arg)
{
	const uint8_t *p = buf;
	if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0) {
		if (p[0] == SSL3_MT_NEWSESSION_TICKET)
			tickets++;
		if (p[0] == SSL3_MT_KEY_UPDATE)
			server_kus++;
	}
	ktls_msg_callback(write_p, version, type, buf, len, s, arg);
}

static void info_cb(const SSL *s, int where, int ret)
{
	(void)s;
	if ((where & SSL_CB_READ_ALERT) && alert < 0)
		alert = ret & 0xff;
}

/* HTTP responses to GET /bytes/N: count them, check every body byte. */
static void on_plain(const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (body_left) {
			size_t k = n < body_left ? n : (size_t)body_left;
			if (pattern_check(p, body_off, k) >= 0)
				bad_body = true;
			body_off += k;
			body_left -= k;
			p += k;
			n -= k;
			if (!body_left)
				responses++;
			continue;
		}
		if (head_len + 1 >= sizeof head) {
			bad_body = true;
			return;
		}
		head[head_len++] = (char)*p++;
		n--;
		head[head_len] = 0;
		if (head_len >= 4 && !memcmp(head + head_len - 4, "\r\n\r\n", 4)) {
			const char *cl = strstr(head, "Content-Length: ");
			if (strncmp(head, "HTTP/1.1 200", 12) || !cl)
				bad_body = true;
			body_left = cl ? strtoull(cl + 16, NULL, 10) : 0;
			body_off = 0;
			head_len = 0;
			if (!body_left)
				responses++;
		}
	}
}

/* Read what is there (waiting at most ms). After the TLS end, bytes are
 * only read to see how TCP ends. */
static void read_some(int ms)
{
	uint8_t b[65536];
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	if (eof || rst || poll(&pf, 1, ms) <= 0)
		return;
	ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			rst = true;
			ended = true;
		}
		return;
	}
	if (n == 0) {
		eof = true;
		ended = true;
		return;
	}
	if (ended)
		return;
	if (!ssl) {                          /* sslv2-hello: plaintext alerts only */
		for (ssize_t i = 0; i + 6 < n + 1; i++)
			if (b[i] == 21 && b[i + 1] == 3 && i + 6 < n && alert < 0) {
				alert = b[i + 6];
				break;
			}
		return;
	}
	BIO_write(rbio, b, (int)n);
	for (;;) {
		int k = SSL_read(ssl, b, sizeof b);
		if (k > 0) {
			on_plain(b, (size_t)k);
			continue;
		}
		int e = SSL_get_error(ssl, k);
		if (e == SSL_ERROR_ZERO_RETURN && alert < 0)
			alert = 0;
		if (e != SSL_ERROR_WANT_READ)
			ended = true;
		ERR_clear_error();
		break;
	}
}

/* Read until cond() holds, the server ends the connection, or --wait. */
static void read_until(bool (*cond)(void))
{
	uint64_t end = now_ms() + opt.wait_ns / 1000000;
	while (!ended && !(cond && cond()) && now_ms() < end)
		read_some(50);
}

/* Read until TCP ends (FIN or reset), or --wait. */
static void read_to_tcp_end(void)
{
	uint64_t end = now_ms() + opt.wait_ns / 1000000;
	while (!eof && !rst && now_ms() < end)
		read_some(50);
}

static bool all_answered(void)
{
	return responses >= expected;
}

/* ---- sending ------------------------------------------------------------------ */
static void connect_tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	int one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("--host: an IPv4 address");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
		die("connect failed");
}

/* The handshake over memory BIOs; the client's last flight stays queued. */
static void handshake(void)
{
	uint8_t b[16384];
	uint64_t end = now_ms() + opt.wait_ns / 1000000;

	for (;;) {
		int r = SSL_do_handshake(ssl);
		take_wbio();
		if (r == 1)
			return;
		if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			die("handshake failed");
		push();
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (now_ms() > end || poll(&pf, 1, 100) < 0)
			die("handshake timed out");
		ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			die("the server closed during the handshake");
		if (n > 0)
			BIO_write(rbio, b, (int)n);
	}
}

static void request(unsigned i)
{
	char r[128];
	int n = snprintf(r, sizeof r, "GET /bytes/%u HTTP/1.1\r\nHost: x\r\n\r\n", 1000 + 7 * i);
	if (kc) {
		uint8_t rec[CRAFT_MAX];
		int k = craft_record(craft_tx(fd), 23, r, (size_t)n, rec);
		if (k < 0)
			die("sealing a request failed");
		queue(rec, (size_t)k);
	} else {
		if (SSL_write(ssl, r, n) != n)
			die("SSL_write failed");
		take_wbio();
	}
	expected++;
}

/* From here on our records are sealed by libktls in the emulated kernel. */
static void crafting(void)
{
	struct ktls_report rep;

	if (kc)
		return;
	emu_install();
	int rc = ktls_enable(ssl, fd, KTLS_TX, &kc, &rep);
	free(rep.rx_data);
	if (rc) {
		fprintf(stderr, "tls-conform: ktls_enable (emulated): %s\n", ktls_strerror(rc));
		exit(1);
	}
}

static void crafted(uint8_t type, const void *p, size_t n)
{
	uint8_t rec[CRAFT_MAX];
	int k;

	crafting();
	k = craft_record(craft_tx(fd), type, p, n, rec);
	if (k < 0)
		die("sealing failed");
	queue(rec, (size_t)k);
}

static void crafted_inner(const uint8_t *inner, size_t n)
{
	uint8_t rec[CRAFT_MAX];
	int k;

	crafting();
	k = craft_seal(craft_tx(fd), inner, n, rec);
	if (k < 0)
		die("sealing failed");
	queue(rec, (size_t)k);
}

static void rotate(void)
{
	if (craft_rotate(kc))
		die("moving our TX key to the next generation failed");
}

static void openssl_key_update(int type)
{
	if (SSL_key_update(ssl, type) != 1 || SSL_do_handshake(ssl) != 1)
		die("SSL_key_update failed");
	take_wbio();
}

static void the_case(void)
{
	static const uint8_t ku_head[4] = { 24, 0, 0, 1 };
	uint8_t req = (uint8_t)opt.request_update;

	switch (opt.kase) {
	case C_PLAIN:
		break;
	case C_BAD: {
		size_t at = out_len;
		request(0);
		expected--;              /* it must not be answered */
		out[at + (out_len - at) / 2] ^= 0x10;
		break;
	}
	case C_KU:
		for (uint64_t i = 0; i < opt.count; i++)
			openssl_key_update(opt.request_update ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED);
		break;
	case C_SPLIT:
		crafted(22, ku_head, 4);
		crafted(22, &req, 1);
		rotate();
		break;
	case C_TWO: {
		const uint8_t two[10] = { 24, 0, 0, 1, 0, 24, 0, 0, 1, 0 };
		crafted(22, two, sizeof two);
		break;
	}
	case C_VALUE: {
		const uint8_t ku[5] = { 24, 0, 0, 1, 2 };
		crafted(22, ku, sizeof ku);
		break;
	}
	case C_LENGTH: {
		const uint8_t ku[6] = { 24, 0, 0, 2, 0, 0 };
		crafted(22, ku, sizeof ku);
		break;
	}
	case C_EALERT:
		crafted(21, "", 0);
		break;
	case C_EHS:
		crafted(22, "", 0);
		break;
	case C_EDATA:
		crafted(23, "", 0);
		break;
	case C_ZERO: {
		const uint8_t zero[8] = { 0 };
		crafted_inner(zero, sizeof zero);
		break;
	}
	case C_LOOP:
		for (uint64_t i = 0; i < opt.count; i++) {
			openssl_key_update(SSL_KEY_UPDATE_NOT_REQUESTED);
			request((unsigned)i);
		}
		break;
	}
}

static void sslv2_hello(void)
{
	/* SSL 2.0 record header (2 bytes, top bit set), CLIENT-HELLO, version
	 * 3.3, two cipher specs, no session ID, a 16-byte challenge. */
	uint8_t h[2 + 9 + 6 + 16] = { 0x80, 9 + 6 + 16, 1, 3, 3, 0, 6, 0, 0, 0, 16,
				      0x00, 0xc0, 0x2b, 0x00, 0xc0, 0x2f };
	for (int i = 0; i < 16; i++)
		h[17 + i] = (uint8_t)(i * 37 + 1);
	queue(h, sizeof h);
	push();
	read_to_tcp_end();
	printf("closed_by=server ");
}

/* OpenSSL's ClientHello (one record) with signature_algorithms_cert (50)
 * appended to its extensions, every length fixed; then the first record the
 * server sends: a ServerHello, or an alert. */
static int rsa_chain(SSL_CTX *ctx)
{
	static const uint8_t ext[] = { 0, 50, 0, 14, 0, 12, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06,
				       0x04, 0x01, 0x05, 0x01, 0x06, 0x01 };
	uint8_t ch[4096 + sizeof ext], b[512];
	size_t n, p;

	ssl = SSL_new(ctx);
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(BIO_s_mem());
	if (!ssl || !rbio || !wbio)
		die("out of memory");
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	SSL_do_handshake(ssl);
	int k = BIO_read(wbio, ch, 4096);
	if (k < 5 + 4 + 38 || ch[0] != 22 || ch[5] != 1 || (size_t)k != 5 + ((size_t)ch[3] << 8 | ch[4]))
		die("OpenSSL's ClientHello is not one record");
	n = (size_t)k;
	/* version, random, session id, cipher suites, compression, extensions */
	p = 5 + 4 + 2 + 32;
	p += 1 + ch[p];
	p += 2 + ((size_t)ch[p] << 8 | ch[p + 1]);
	p += 1 + ch[p];
	size_t elen = (size_t)ch[p] << 8 | ch[p + 1];
	if (p + 2 + elen != n)
		die("cannot parse OpenSSL's ClientHello");
	memcpy(ch + n, ext, sizeof ext);
	elen += sizeof ext;
	ch[p] = (uint8_t)(elen >> 8);
	ch[p + 1] = (uint8_t)elen;
	size_t hlen = n + sizeof ext - 9, rlen = n + sizeof ext - 5;
	ch[6] = (uint8_t)(hlen >> 16);
	ch[7] = (uint8_t)(hlen >> 8);
	ch[8] = (uint8_t)hlen;
	ch[3] = (uint8_t)(rlen >> 8);
	ch[4] = (uint8_t)rlen;
	queue(ch, n + sizeof ext);
	push();
	/* the first record back */
	size_t got = 0;
	uint64_t end = now_ms() + opt.wait_ns / 1000000;
	while (got < 7 && now_ms() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t r = recv(fd, b + got, sizeof b - got, 0);
		if (r <= 0) {
			eof = r == 0;
			rst = r < 0;
			break;
		}
		got += (size_t)r;
	}
	SSL_free(ssl);
	ssl = NULL;
	if (got >= 6 && b[0] == 22 && b[5] == 2)
		return 1;
	if (got >= 7 && b[0] == 21)
		alert = b[6];
	return 0;
}

/* ---- command line ---------------------------------------------------------------- */
static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "tls-conform: %s\n", why);
	fprintf(stderr,
		"usage: tls-conform --port P --case C [options]\n"
		"  -p, --port N            server port on --host\n"
		"      --host ADDR         IPv4 address (default 127.0.0.1)\n"
		"  -c, --case C            plain, bad-record, key-update, ku-split, ku-two, ku-value,\n"
		"                          ku-length, empty-alert, empty-handshake, empty-data,\n"
		"                          inner-zero, ku-loop, sslv2-hello, rsa-chain\n"
		"      --when W            finished (in the Finished's segment) or open (after\n"
		"                          one request) (default finished)\n"
		"  -n, --count N           key-update, ku-loop: how many (default 1)\n"
		"      --request-update R  key-update, ku-split: 0 or 1 (default 0)\n"
		"  -r, --requests N        GETs after the case (default 2)\n"
		"  -w, --wait D            longest wait for each step (default 20s)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' }, { "host", required_argument, NULL, 'H' },
		{ "case", required_argument, NULL, 'c' }, { "when", required_argument, NULL, 'W' },
		{ "count", required_argument, NULL, 'n' }, { "request-update", required_argument, NULL, 'R' },
		{ "requests", required_argument, NULL, 'r' }, { "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int o;

	opt.host = "127.0.0.1";
	opt.kase = -1;
	opt.count = 1;
	opt.requests = 2;
	opt.wait_ns = 20000000000ULL;
	while ((o = getopt_long(argc, argv, "p:c:n:r:w:h", lo, NULL)) != -1) {
		uint64_t v;
		switch (o) {
		case 'p':
			if (units_parse_u64(optarg, &v) || !v || v > 65535)
				return usage("--port: 1 to 65535");
			opt.port = (uint16_t)v;
			break;
		case 'H': opt.host = optarg; break;
		case 'c':
			opt.kase = -1;
			for (int i = 0; case_names[i]; i++)
				if (!strcmp(case_names[i], optarg))
					opt.kase = i;
			if (opt.kase < 0)
				return usage("unknown --case");
			break;
		case 'W':
			if (strcmp(optarg, "finished") && strcmp(optarg, "open"))
				return usage("--when: finished or open");
			opt.when_open = !strcmp(optarg, "open");
			break;
		case 'n':
			if (units_parse_u64(optarg, &opt.count) || !opt.count || opt.count > 10000)
				return usage("--count: 1 to 10000");
			break;
		case 'R':
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return usage("--request-update: 0 or 1");
			opt.request_update = optarg[0] - '0';
			break;
		case 'r':
			if (units_parse_u64(optarg, &opt.requests) || opt.requests > 1000)
				return usage("--requests: 0 to 1000");
			break;
		case 'w':
			if (units_parse_duration(optarg, &opt.wait_ns) || !opt.wait_ns || opt.wait_ns > 600000000000ULL)
				return usage("--wait: a duration up to 10m");
			break;
		case 'h': usage(NULL); return 0;
		default: return usage(NULL);
		}
	}
	if (!opt.port || opt.kase < 0 || optind < argc)
		return usage("--port and --case are needed");

	t0 = now_ms();
	connect_tcp();
	if (opt.kase == C_SSLV2) {
		sslv2_hello();
	} else if (opt.kase == C_RSACHAIN) {
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
			die("cannot set up TLS");
		bool sh = rsa_chain(ctx);
		SSL_CTX_free(ctx);
		printf("closed_by=client end=%s\n", sh ? "server_hello" : alert >= 0 ? ktls_alert_name(alert)
		       : rst ? "rst" : eof ? "fin" : "open");
		close(fd);
		free(out);
		return 0;
	} else {
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) || ktls_ctx_prepare(ctx))
			die("cannot set up TLS");
		SSL_CTX_set_msg_callback(ctx, msg_cb);
		SSL_CTX_set_info_callback(ctx, info_cb);
		ssl = SSL_new(ctx);
		rbio = BIO_new(BIO_s_mem());
		wbio = BIO_new(BIO_s_mem());
		if (!ssl || !rbio || !wbio)
			die("out of memory");
		SSL_set_bio(ssl, rbio, wbio);
		SSL_set_connect_state(ssl);
		handshake();
		if (opt.when_open) {
			push();
			request(0);
			push();
			read_until(all_answered);
			if (!all_answered())
				die("no response to the first request");
		}
		the_case();
		for (uint64_t i = 0; i < opt.requests; i++)
			request((unsigned)(i + 1));
		push();
		read_until(all_answered);
		if (!ended) {
			/* Our turn to close: close_notify, FIN, read to the end. */
			if (kc) {
				uint8_t rec[CRAFT_MAX];
				const uint8_t cn[2] = { 1, 0 };
				int k = craft_record(craft_tx(fd), 21, cn, 2, rec);
				if (k > 0)
					queue(rec, (size_t)k);
			} else {
				SSL_shutdown(ssl);
				take_wbio();
			}
			push();
			shutdown(fd, SHUT_WR);
			printf("closed_by=client ");
		} else {
			printf("closed_by=server ");
		}
		read_to_tcp_end();
		ktls_conn_free(kc);
		emu_forget(fd);
		SSL_free(ssl);
		SSL_CTX_free(ctx);
	}
	char e[48];
	const char *tcp = rst ? "rst" : eof ? "fin" : "open";
	if (alert >= 0)
		snprintf(e, sizeof e, "alert:%s", alert == 0 ? "close_notify" : ktls_alert_name(alert));
	else
		snprintf(e, sizeof e, "%s", tcp);
	printf("end=%s tcp=%s responses=%u bodies=%s tickets=%d server_key_updates=%d after_ms=%llu\n", e, tcp, responses,
	       bad_body ? "bad" : "ok", tickets, server_kus, (unsigned long long)(now_ms() - t0));
	close(fd);
	free(out);
	return 0;
}

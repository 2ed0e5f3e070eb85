/* tests/helpers/hostile.c: a hostile TLS client, to test what a server does
 * with bad input. Bounded: at most --count connections, every wait capped
 * by --wait, every byte stream capped.
 *
 *   hostile --port P --attack A [options]
 *
 * Attacks:
 *   random       random bytes instead of a ClientHello (--bytes N, --seed S)
 *   hello-cut    a real ClientHello cut at each length of --cuts A-B (default
 *                every length), then --then close (FIN) | reset (RST) | stall
 *   record       a handshake, then one bad record (--record): bad-type (a
 *                header no TLS peer sends), bad-length (shorter than any
 *                sealed record), tampered (a request whose ciphertext has a
 *                flipped bit), oversized (longer than TLS allows),
 *                unexpected-type (a well-sealed record of content type 24,
 *                sealed by libktls through the emulated kernel of
 *                tests/ktls_emu.h), truncated (half a request record, then FIN)
 *   header       a request head of --header-size bytes; 0: header lines
 *                without end (at most 8 MiB) until the server closes
 *   slowloris    a request head one byte per record every --interval
 *   idle         --count connections that connect and never speak
 *   reset        --count connections reset (SO_LINGER 0) at --stage connect |
 *                hello-part | hello | server-hello | finished | request | response
 *   stall-read   GET /bytes/1T, read --read-first bytes, then read nothing for
 *                --wait, then read on to the end
 *   slow-read    --count connections, each GET /bytes/<--size + i * 4099> with
 *                Connection: close, a 16 KiB receive buffer, reading 16 KiB
 *                every --interval; each body is checked against the pattern
 *                (body=ok|bad|short in the report)
 *
 * Report, on stdout: one line per connection, then a summary:
 *   conn 3 end=alert:bad_record_mac after_ms=2 sent=64 recv=31 responses=0 status=-
 *   summary attack=record conns=1 open=0 max_ms=2 responses=0 end.alert:bad_record_mac=1
 * end= is how the connection ended: alert:<name> (a TLS alert, plaintext or
 * decrypted; alert:close_notify for a clean close), fin (EOF without an
 * alert), rst (reset by the server), open (still open after --wait),
 * reset_sent (we reset it: nothing to observe). responses counts the HTTP
 * responses decrypted, status is the first one's code.
 * Exit 0 when the run went as planned (whatever the server did), 1 when a
 * connection or a needed handshake failed, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/tlsopts.h"
#include "common/units.h"
#include "ktls/ktls.h"
#include "tests/ktls_emu.h"

#define MAX_CONNS 20000
#define HEADER_CAP (8u << 20)

enum attack { A_RANDOM, A_HELLO_CUT, A_RECORD, A_HEADER, A_SLOWLORIS, A_IDLE, A_RESET, A_STALL,
	      A_SLOW_READ };
static const char *const attack_names[] = { "random", "hello-cut", "record", "header",
					     "slowloris", "idle", "reset", "stall-read", "slow-read",
					     NULL };
static const char *const record_names[] = { "bad-type", "bad-length", "tampered", "oversized",
					     "unexpected-type", "truncated", NULL };
static const char *const stage_names[] = { "connect", "hello-part", "hello", "server-hello",
					    "finished", "request", "response", NULL };
static const char *const then_names[] = { "close", "reset", "stall", NULL };

static struct {
	uint16_t port;
	const char *host;
	int attack, record, stage, then;
	uint64_t count, bytes, seed, header_size, read_first, size;
	uint64_t cut_lo, cut_hi;
	bool cuts_set;
	uint64_t wait_ns, interval_ns;
	struct tlsopts tls;
} opt;

enum end { E_NONE, E_ALERT, E_FIN, E_RST, E_OPEN, E_RESET_SENT };

struct hconn {
	int fd;
	SSL *ssl;                      /* NULL: a raw connection */
	BIO *rbio, *wbio;
	bool up;                       /* handshake done */
	enum end end;
	int alert;                     /* -1 none */
	uint64_t t0, t_end;
	uint64_t sent, recv;
	unsigned responses;
	int status;
	unsigned match;                /* "HTTP/1.1 " matched so far */
	char tail[5];                  /* the last plaintext bytes */
	char code[4];
	unsigned code_have;
	/* raw stream: alert records in plaintext */
	uint8_t hdr[5];
	unsigned hdr_have, body_left, body_seen;
	/* bytes waiting to be sent */
	uint8_t *pend;
	size_t pend_len, pend_cap;
	uint64_t next_send, resume_at;
	uint64_t read_limit;           /* stop reading past this many bytes (0: no limit) */
	uint64_t body_off;             /* slow-read: body bytes checked so far */
	uint64_t body_want;            /* slow-read: the body asked for */
	bool in_body, body_bad;
	unsigned crlf;                 /* slow-read: head end seen so far */
	size_t slow_off;
	bool stop_sending;
	const char *tag;
};

static struct hconn *conns;
static size_t nconns;
static SSL_CTX *ctx;
static uint8_t hello[4096];
static size_t hello_len;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "hostile: %s\n", what);
	exit(1);
}

static int pick(const char *const *names, const char *v)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], v))
			return i;
	return -1;
}

/* ---- I/O helpers --------------------------------------------------------- */
static int tcp_connect(bool nonblock)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (opt.attack == A_SLOW_READ) {
		/* a small window: what the server sends waits in its send buffer */
		int rcv = 16384;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	}
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		close(fd);
		return -1;
	}
	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_reset(int fd)
{
	struct linger l = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

static void queue(struct hconn *h, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (h->pend_len + n > h->pend_cap) {
		size_t cap = (h->pend_len + n) * 2;
		uint8_t *b = realloc(h->pend, cap);
		if (!b)
			die("out of memory");
		h->pend = b;
		h->pend_cap = cap;
	}
	memcpy(h->pend + h->pend_len, p, n);
	h->pend_len += n;
}

/* Move what OpenSSL wrote into the send queue. */
static void take_wbio(struct hconn *h)
{
	uint8_t buf[16384];
	int n;
	while ((n = BIO_read(h->wbio, buf, sizeof buf)) > 0)
		queue(h, buf, (size_t)n);
}

/* Send what is queued; blocking sockets send it all. 0, or -errno. */
static int push(struct hconn *h)
{
	while (h->pend_len) {
		ssize_t n = send(h->fd, h->pend, h->pend_len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		memmove(h->pend, h->pend + n, h->pend_len - (size_t)n);
		h->pend_len -= (size_t)n;
		h->sent += (uint64_t)n;
	}
	return 0;
}

static void set_end(struct hconn *h, enum end e)
{
	if (h->end != E_NONE)
		return;
	h->end = h->alert >= 0 ? E_ALERT : e;
	h->t_end = now_ns();
}

/* ---- what comes back -------------------------------------------------------- */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct hconn *h = SSL_get_app_data(ssl);
	if (h && (where & SSL_CB_READ_ALERT) && h->alert < 0)
		h->alert = ret & 0xff;
}

static void scan_plain(struct hconn *h, const uint8_t *p, size_t n)
{
	static const char pat[] = "HTTP/1.1 ";
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy";
	for (size_t i = 0; i < n; i++) {
		char ch = (char)p[i];
		if (opt.attack == A_SLOW_READ) {
			if (h->in_body) {
				if (ch != alphabet[h->body_off % 61])
					h->body_bad = true;
				h->body_off++;
				continue;
			}
			h->crlf = ch == "\r\n\r\n"[h->crlf] ? h->crlf + 1 : ch == '\r';
			h->in_body = h->crlf == 4;
		}
		memmove(h->tail, h->tail + 1, 4);
		h->tail[4] = ch;
		if (h->code_have < 3 && h->match == 9) {
			h->code[h->code_have++] = ch;
			if (h->code_have == 3 && h->status < 0)
				h->status = atoi(h->code);
			if (h->code_have < 3)
				continue;
		}
		if (ch == pat[h->match]) {
			if (++h->match == 9) {
				h->responses++;
				h->code_have = 0;
			}
		} else {
			h->match = ch == 'H' ? 1 : 0;
		}
	}
}

/* A raw (not established) stream: find plaintext alert records. */
static void scan_raw(struct hconn *h, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (h->hdr_have < 5) {
			h->hdr[h->hdr_have++] = *p++;
			n--;
			if (h->hdr_have == 5) {
				h->body_left = (unsigned)h->hdr[3] << 8 | h->hdr[4];
				h->body_seen = 0;
				if (!h->body_left)
					h->hdr_have = 0;
			}
			continue;
		}
		if (h->hdr[0] == 21 && h->body_seen == 1 && h->alert < 0)
			h->alert = *p;
		h->body_seen++;
		p++;
		n--;
		if (--h->body_left == 0)
			h->hdr_have = 0;
	}
}

/* Read what is there; sets h->end when the connection is over. */
static void on_readable(struct hconn *h)
{
	uint8_t buf[65536];

	for (;;) {
		size_t want = sizeof buf;
		if (h->read_limit) {
			if (h->recv >= h->read_limit)
				return;
			if (h->read_limit - h->recv < want)
				want = (size_t)(h->read_limit - h->recv);
		}
		ssize_t n = recv(h->fd, buf, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			set_end(h, E_RST);
			return;
		}
		if (n == 0) {
			set_end(h, E_FIN);
			return;
		}
		h->recv += (uint64_t)n;
		if (!h->up) {               /* a raw stream: only plaintext alerts to find */
			scan_raw(h, buf, (size_t)n);
			if (h->alert >= 0) {
				set_end(h, E_ALERT);
				return;
			}
			continue;
		}
		BIO_write(h->rbio, buf, (int)n);
		for (;;) {
			int k = SSL_read(h->ssl, buf, sizeof buf);
			if (k > 0) {
				scan_plain(h, buf, (size_t)k);
				continue;
			}
			int e = SSL_get_error(h->ssl, k);
			if (e == SSL_ERROR_WANT_READ)
				break;
			if (e == SSL_ERROR_ZERO_RETURN && h->alert < 0)
				h->alert = 0;
			ERR_clear_error();
			set_end(h, E_FIN);
			return;
		}
		take_wbio(h);
		push(h);
	}
}

/* ---- setting connections up ------------------------------------------------ */
static struct hconn *add_conn(int fd, const char *tag)
{
	if (nconns >= MAX_CONNS)
		die("too many connections");
	struct hconn *h = &conns[nconns++];
	memset(h, 0, sizeof *h);
	h->fd = fd;
	h->alert = -1;
	h->status = -1;
	h->t0 = now_ns();
	h->tag = tag;
	return h;
}

static void tls_new(struct hconn *h)
{
	h->ssl = SSL_new(ctx);
	h->rbio = BIO_new(BIO_s_mem());
	h->wbio = BIO_new(BIO_s_mem());
	if (!h->ssl || !h->rbio || !h->wbio)
		die("out of memory");
	SSL_set_bio(h->ssl, h->rbio, h->wbio);
	SSL_set_app_data(h->ssl, h);
	SSL_set_connect_state(h->ssl);
}

/* A full handshake on a blocking socket; the client's Finished is left in
 * the send queue when keep_finished. 0, or -1. */
static int handshake(struct hconn *h, bool keep_finished)
{
	uint8_t buf[16384];

	tls_new(h);
	for (;;) {
		int r = SSL_do_handshake(h->ssl);
		take_wbio(h);
		if (r == 1) {
			h->up = true;
			return keep_finished ? 0 : push(h);
		}
		if (SSL_get_error(h->ssl, r) != SSL_ERROR_WANT_READ || push(h))
			return -1;
		ssize_t n = recv(h->fd, buf, sizeof buf, 0);
		if (n <= 0)
			return -1;
		h->recv += (uint64_t)n;
		BIO_write(h->rbio, buf, (int)n);
	}
}

/* Encrypt plaintext into the send queue. */
static void tls_queue(struct hconn *h, const void *p, size_t n)
{
	if (SSL_write(h->ssl, p, (int)n) != (int)n)
		die("SSL_write failed");
	take_wbio(h);
}

#define TLS_STR(h, lit) tls_queue((h), (lit), sizeof(lit) - 1)

static void make_hello(void)
{
	struct hconn tmp;
	memset(&tmp, 0, sizeof tmp);
	tls_new(&tmp);
	SSL_do_handshake(tmp.ssl);
	int n = BIO_read(tmp.wbio, hello, sizeof hello);
	if (n <= 5)
		die("cannot build a ClientHello");
	hello_len = (size_t)n;
	SSL_free(tmp.ssl);
}

static const char request[] = "GET /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n";

/* One request and its whole response (GET /bytes/1), so that the server is
 * past the handshake (and, with kTLS, has the keys in the kernel) before
 * the attack; not counted in the report. 0 or -1. */
static int warm_up(struct hconn *h)
{
	uint64_t t_end = now_ns() + opt.wait_ns;

	TLS_STR(h, "GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n");
	if (push(h))
		return -1;
	while (memcmp(h->tail, "\r\n\r\n0", 5) && h->end == E_NONE && now_ns() < t_end) {
		struct pollfd pf = { .fd = h->fd, .events = POLLIN };
		if (poll(&pf, 1, 100) > 0)
			on_readable(h);
	}
	if (h->end != E_NONE || h->responses != 1)
		return -1;
	h->responses = 0;
	h->status = -1;
	return 0;
}

static int setup_record(struct hconn *h)
{
	uint8_t rec[16384 + 2048 + 64];

	if (handshake(h, false) || warm_up(h))
		return -1;
	switch (opt.record) {
	case 0:                          /* bad-type: no TLS content type is 99 */
		memset(rec, 'x', 25);
		rec[0] = 99; rec[1] = 3; rec[2] = 3; rec[3] = 0; rec[4] = 20;
		queue(h, rec, 25);
		break;
	case 1:                          /* bad-length: 1 byte, shorter than a tag */
		rec[0] = 23; rec[1] = 3; rec[2] = 3; rec[3] = 0; rec[4] = 1; rec[5] = 0x42;
		queue(h, rec, 6);
		break;
	case 2: {                        /* tampered: a request, one bit flipped */
		tls_queue(h, request, sizeof request - 1);
		h->pend[h->pend_len / 2 + 2] ^= 0x10;
		break;
	}
	case 3: {                        /* oversized: over 2^14 + 2048 */
		size_t len = 16384 + 2048 + 1;
		rec[0] = 23; rec[1] = 3; rec[2] = 3; rec[3] = (uint8_t)(len >> 8); rec[4] = (uint8_t)len;
		for (size_t i = 0; i < len; i++)
			rec[5 + i] = (uint8_t)(i * 7);
		queue(h, rec, 5 + len);
		break;
	}
	case 4: {                        /* unexpected-type: sealed by libktls + the emulator */
		struct ktls_conn *kc = NULL;
		struct ktls_report rep;
		memset(&rep, 0, sizeof rep);
		if (push(h))
			return -1;
		emu_install();
		int rc = ktls_enable(h->ssl, h->fd, KTLS_TX, &kc, &rep);
		free(rep.rx_data);
		if (rc) {
			fprintf(stderr, "hostile: ktls_enable (emulated): %s\n", ktls_strerror(rc));
			return -1;
		}
		/* libktls sends only types 20..23: the emulated kernel seals 24 */
		struct emu_sock *es = emu_sock(h->fd, false);
		rc = es ? emu_seal(es, 24, (const uint8_t *)"\x01\x00\x10", 3) : -ENOTCONN;
		if (!rc)
			rc = ktls_send(kc, request, sizeof request - 1, 0);
		ktls_conn_free(kc);
		emu_forget(h->fd);
		ktls_set_sockops(NULL, NULL);
		if (rc < 0) {
			fprintf(stderr, "hostile: sending through the emulated kTLS: %s\n", ktls_strerror(rc));
			return -1;
		}
		break;
	}
	case 5: {                        /* truncated: half of a request's record, then FIN */
		tls_queue(h, request, sizeof request - 1);
		h->pend_len /= 2;
		if (push(h))
			return -1;
		shutdown(h->fd, SHUT_WR);
		break;
	}
	}
	return push(h);
}

static void header_line(struct hconn *h, uint64_t i)
{
	char line[1100];
	int n = snprintf(line, sizeof line, "X-Hostile-%llu: ", (unsigned long long)i);
	memset(line + n, 'a', 1000);
	memcpy(line + n + 1000, "\r\n", 2);
	tls_queue(h, line, (size_t)n + 1002);
}

static int setup_one(uint64_t i)
{
	bool nonblock_later = true;
	int fd = tcp_connect(false);
	if (fd < 0)
		return -1;
	struct hconn *h = add_conn(fd, attack_names[opt.attack]);

	switch (opt.attack) {
	case A_RANDOM: {
		uint8_t b[4096];
		uint64_t x = opt.seed * 6364136223846793005ULL + i + 1;
		size_t n = opt.bytes < sizeof b ? (size_t)opt.bytes : sizeof b;
		for (size_t k = 0; k < n; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			b[k] = (uint8_t)(x >> 56);
		}
		if (n)
			b[0] |= 0x80;        /* never a TLS content type */
		queue(h, b, n);
		if (push(h))
			return -1;
		break;
	}
	case A_HELLO_CUT:
		queue(h, hello, (size_t)i);
		if (push(h))
			return -1;
		if (opt.then == 0) {
			shutdown(fd, SHUT_WR);
		} else if (opt.then == 1) {
			send_reset(fd);
			h->fd = -1;
			set_end(h, E_RESET_SENT);
		}
		break;
	case A_RECORD:
		if (setup_record(h))
			return -1;
		break;
	case A_HEADER:
		if (handshake(h, false))
			return -1;
		TLS_STR(h, "GET / HTTP/1.1\r\nHost: x\r\n");
		if (opt.header_size) {
			for (uint64_t k = 0; k * 1020 < opt.header_size; k++)
				header_line(h, k);
			tls_queue(h, "\r\n", 2);
		}
		break;
	case A_SLOWLORIS:
		if (handshake(h, false))
			return -1;
		h->next_send = now_ns();
		break;
	case A_IDLE:
		break;
	case A_RESET: {
		int st = opt.stage;
		if (st == 1 || st == 2) {
			queue(h, hello, st == 1 ? hello_len / 2 : hello_len);
			if (push(h))
				return -1;
		} else if (st == 3) {
			uint8_t b[512];
			queue(h, hello, hello_len);
			if (push(h) || recv(fd, b, sizeof b, 0) <= 0)
				return -1;
		} else if (st >= 4) {
			if (handshake(h, st == 4))
				return -1;
			if (st == 5)
				tls_queue(h, request, 10);
			if (st == 6) {
				uint8_t b[4096];
				TLS_STR(h, "GET /bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n");
				if (push(h) || recv(fd, b, sizeof b, 0) <= 0)
					return -1;
			}
			if (push(h))
				return -1;
		}
		send_reset(fd);
		h->fd = -1;
		set_end(h, E_RESET_SENT);
		nonblock_later = false;
		break;
	}
	case A_SLOW_READ: {
		char req[128];
		if (handshake(h, false))
			return -1;
		h->body_want = opt.size + i * 4099;     /* records of every length end the bodies */
		snprintf(req, sizeof req, "GET /bytes/%llu HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			 (unsigned long long)h->body_want);
		tls_queue(h, req, strlen(req));
		if (push(h))
			return -1;
		break;
	}
	case A_STALL:
		if (handshake(h, false))
			return -1;
		TLS_STR(h, "GET /bytes/1099511627776 HTTP/1.1\r\nHost: x\r\n\r\n");
		if (push(h))
			return -1;
		h->read_limit = h->recv + opt.read_first;
		for (uint64_t t_end = now_ns() + opt.wait_ns; h->recv < h->read_limit &&
		     h->end == E_NONE && now_ns() < t_end;) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			if (poll(&pf, 1, 100) > 0)
				on_readable(h);
		}
		h->read_limit = 0;
		h->resume_at = now_ns() + opt.wait_ns;
		break;
	}
	if (nonblock_later && h->fd >= 0)
		fcntl(h->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* ---- watching ----------------------------------------------------------------- */
static void act(struct hconn *h, uint64_t t)
{
	static const char slow[] = "GET /bytes/7 HTTP/1.1\r\nHost: x\r\nX-Slow: one byte at a time, "
				   "for as long as the server lets it go on\r\n\r\n";
	if (h->end != E_NONE || h->stop_sending)
		return;
	if (opt.attack == A_SLOWLORIS && t >= h->next_send && h->slow_off < sizeof slow - 1) {
		tls_queue(h, slow + h->slow_off++, 1);
		h->next_send = t + opt.interval_ns;
	}
	if (opt.attack == A_HEADER && !opt.header_size && !h->pend_len && h->sent < HEADER_CAP) {
		for (int k = 0; k < 16; k++)
			header_line(h, h->sent / 1000 + (uint64_t)k);
	}
	if (h->pend_len && push(h) < 0)
		h->stop_sending = true;     /* the server is gone: read what it said */
}

static void watch(void)
{
	struct pollfd *p = calloc(nconns, sizeof *p);
	uint64_t deadline = now_ns() + opt.wait_ns;

	if (!p)
		die("out of memory");
	if (opt.attack == A_STALL)
		deadline += opt.wait_ns;    /* the stall, then as long again to read */
	for (;;) {
		uint64_t t = now_ns();
		size_t live = 0;
		for (size_t i = 0; i < nconns; i++) {
			struct hconn *h = &conns[i];
			p[i].fd = -1;
			if (h->end != E_NONE || h->fd < 0)
				continue;
			act(h, t);
			if (h->end != E_NONE)
				continue;
			p[i].fd = h->fd;
			p[i].events = (opt.attack == A_STALL && t < h->resume_at) ? 0 : POLLIN;
			if (opt.attack == A_SLOW_READ && t < h->next_send)
				p[i].events = 0;
			if (h->pend_len && !h->stop_sending)
				p[i].events |= POLLOUT;
			live++;
		}
		if (!live || t >= deadline)
			break;
		int ms = opt.attack == A_SLOWLORIS ? 20 : 50;
		poll(p, nconns, ms);
		for (size_t i = 0; i < nconns; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!(p[i].events & POLLIN) && !(p[i].revents & POLLERR))
				continue;
			if (opt.attack == A_SLOW_READ) {
				conns[i].read_limit = conns[i].recv + 16384;
				conns[i].next_send = now_ns() + opt.interval_ns;
			}
			on_readable(&conns[i]);
		}
	}
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].end == E_NONE) {
			conns[i].end = E_OPEN;
			conns[i].t_end = now_ns();
		}
	free(p);
}

/* ---- report -------------------------------------------------------------------------- */
static void end_name(const struct hconn *h, char *buf, size_t len)
{
	static const char *const names[] = { "none", "alert", "fin", "rst", "open", "reset_sent" };
	if (h->end == E_ALERT)
		snprintf(buf, len, "alert:%s", h->alert == 0 ? "close_notify" : ktls_alert_name(h->alert));
	else
		snprintf(buf, len, "%s", names[h->end]);
}

static void report(void)
{
	struct { char name[64]; unsigned n; } ends[32];
	unsigned nends = 0, open = 0, responses = 0;
	uint64_t max_ms = 0;

	for (size_t i = 0; i < nconns; i++) {
		struct hconn *h = &conns[i];
		char e[64];
		end_name(h, e, sizeof e);
		uint64_t ms = (h->t_end - h->t0) / 1000000ULL;
		printf("conn %zu end=%s after_ms=%llu sent=%llu recv=%llu responses=%u status=%d", i, e,
		       (unsigned long long)ms, (unsigned long long)h->sent, (unsigned long long)h->recv,
		       h->responses, h->status);
		if (opt.attack == A_SLOW_READ)
			printf(" body=%s body_bytes=%llu", h->body_bad ? "bad" : h->body_off == h->body_want ? "ok"
			       : "short", (unsigned long long)h->body_off);
		printf("\n");
		if (h->end == E_OPEN)
			open++;
		else if (ms > max_ms && h->end != E_RESET_SENT)
			max_ms = ms;
		responses += h->responses;
		unsigned k = 0;
		while (k < nends && strcmp(ends[k].name, e))
			k++;
		if (k == nends && nends < 32) {
			snprintf(ends[nends].name, sizeof ends[nends].name, "%s", e);
			ends[nends++].n = 0;
		}
		if (k < nends)
			ends[k].n++;
	}
	printf("summary attack=%s conns=%zu open=%u max_ms=%llu responses=%u", attack_names[opt.attack],
	       nconns, open, (unsigned long long)max_ms, responses);
	for (unsigned k = 0; k < nends; k++)
		printf(" end.%s=%u", ends[k].name, ends[k].n);
	printf("\n");
}

/* ---- command line ----------------------------------------------------------------------- */
static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "hostile: %s\n", why);
	fprintf(stderr,
		"usage: hostile --port P --attack A [options]\n"
		"  -p, --port N          server port on --host\n"
		"      --host ADDR       (default 127.0.0.1)\n"
		"  -a, --attack A        random, hello-cut, record, header, slowloris, idle,\n"
		"                        reset, stall-read, slow-read\n"
		"  -n, --count N         connections for idle, reset, slow-read (default 1)\n"
		"      --bytes N         random: bytes sent (default 2000, at most 4096)\n"
		"      --seed N          random: seed (default 1)\n"
		"      --cuts A-B        hello-cut: lengths (default 0 to the hello's length - 1)\n"
		"      --then T          hello-cut: close, reset or stall (default close)\n"
		"      --record R        record: bad-type, bad-length, tampered, oversized,\n"
		"                        unexpected-type, truncated (default tampered)\n"
		"      --header-size S   header: head size, 0 never ends (default 0)\n"
		"      --interval D      slowloris: between bytes; slow-read: between reads\n"
		"                        (default 1s)\n"
		"      --stage S         reset: connect, hello-part, hello, server-hello, finished,\n"
		"                        request, response (default connect)\n"
		"      --read-first S    stall-read: bytes read before stalling (default 64K)\n"
		"      --size S          slow-read: the body asked for (default 1M)\n"
		"  -w, --wait D          longest wait for the server to end each connection\n"
		"                        (default 10s)\n"
		"      --tls-version V   1.2, 1.3 or any (default any)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' }, { "host", required_argument, NULL, 'H' },
		{ "attack", required_argument, NULL, 'a' }, { "count", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' }, { "seed", required_argument, NULL, 's' },
		{ "cuts", required_argument, NULL, 'c' }, { "then", required_argument, NULL, 'T' },
		{ "record", required_argument, NULL, 'r' }, { "header-size", required_argument, NULL, 'z' },
		{ "interval", required_argument, NULL, 'i' }, { "stage", required_argument, NULL, 'S' },
		{ "read-first", required_argument, NULL, 'f' }, { "wait", required_argument, NULL, 'w' },
		{ "tls-version", required_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "size", required_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o;

	opt.host = "127.0.0.1";
	opt.attack = -1;
	opt.count = 1;
	opt.bytes = 2000;
	opt.seed = 1;
	opt.record = 2;
	opt.interval_ns = 1000000000ULL;
	opt.wait_ns = 10000000000ULL;
	opt.read_first = 65536;
	opt.size = 1 << 20;
	tlsopts_init(&opt.tls);
	while ((o = getopt_long(argc, argv, "p:a:n:w:h", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (units_parse_u64(optarg, &v) || !v || v > 65535)
				return usage("--port: 1 to 65535");
			opt.port = (uint16_t)v;
			break;
		case 'H': opt.host = optarg; break;
		case 'a':
			if ((opt.attack = pick(attack_names, optarg)) < 0)
				return usage("unknown --attack");
			break;
		case 'n':
			if (units_parse_u64(optarg, &opt.count) || !opt.count || opt.count > MAX_CONNS)
				return usage("--count: 1 to 20000");
			break;
		case 'b':
			if (units_parse_size(optarg, &opt.bytes) || opt.bytes > 4096)
				return usage("--bytes: at most 4096");
			break;
		case 's':
			if (units_parse_u64(optarg, &opt.seed))
				return usage("--seed: a number");
			break;
		case 'c': {
			uint64_t l[2];
			size_t n = 0;
			char *dash = strchr(optarg, '-');
			if (dash) {
				*dash = ',';
				if (units_parse_list_u64(optarg, l, 2, &n) || n != 2 || l[0] > l[1])
					return usage("--cuts: A-B");
			} else if (units_parse_u64(optarg, &l[0])) {
				return usage("--cuts: A-B or N");
			} else {
				l[1] = l[0];
			}
			opt.cut_lo = l[0];
			opt.cut_hi = l[1];
			opt.cuts_set = true;
			break;
		}
		case 'T':
			if ((opt.then = pick(then_names, optarg)) < 0)
				return usage("--then: close, reset or stall");
			break;
		case 'r':
			if ((opt.record = pick(record_names, optarg)) < 0)
				return usage("unknown --record");
			break;
		case 'z':
			if (units_parse_size(optarg, &opt.header_size) || opt.header_size > HEADER_CAP)
				return usage("--header-size: a size up to 8M");
			break;
		case 'i':
			if (units_parse_duration(optarg, &opt.interval_ns))
				return usage("--interval: a duration");
			break;
		case 'S':
			if ((opt.stage = pick(stage_names, optarg)) < 0)
				return usage("unknown --stage");
			break;
		case 'f':
			if (units_parse_size(optarg, &opt.read_first))
				return usage("--read-first: a size");
			break;
		case 'Z':
			if (units_parse_size(optarg, &opt.size) || opt.size > (1ULL << 40))
				return usage("--size: a size up to 1T");
			break;
		case 'w':
			if (units_parse_duration(optarg, &opt.wait_ns) || opt.wait_ns > 600000000000ULL)
				return usage("--wait: a duration up to 10m");
			break;
		case 'v':
			if (tlsopts_set_version(&opt.tls, optarg))
				return usage("--tls-version: 1.2, 1.3 or any");
			break;
		case 'h': usage(NULL); return 0;
		default: return usage(NULL);
		}
	}
	if (!opt.port || opt.attack < 0 || optind < argc)
		return usage("--port and --attack are needed");

	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctx = SSL_CTX_new(TLS_client_method());
	char err[256];
	/* one classic key share, as OpenSSL 3.0 sends by default: 3.5 adds an
	 * ML-KEM hybrid share, five times the ClientHello, and hello-cut would
	 * open a connection per byte of it */
	opt.tls.groups = "X25519:P-256:P-384";
	if (!ctx || tlsopts_apply(&opt.tls, ctx, err, sizeof err))
		die("cannot set up TLS");
	SSL_CTX_set_info_callback(ctx, info_cb);
	ktls_ctx_prepare(ctx);
	make_hello();
	conns = calloc(MAX_CONNS, sizeof *conns);
	if (!conns)
		die("out of memory");

	uint64_t lo_i = 0, hi_i = opt.count - 1;
	if (opt.attack == A_HELLO_CUT) {
		lo_i = opt.cuts_set ? opt.cut_lo : 0;
		hi_i = opt.cuts_set ? opt.cut_hi : hello_len - 1;
		if (hi_i >= hello_len)
			hi_i = hello_len - 1;
	} else if (opt.attack != A_IDLE && opt.attack != A_RESET && opt.attack != A_SLOW_READ) {
		hi_i = 0;
	}
	int rc = 0;
	for (uint64_t i = lo_i; i <= hi_i; i++) {
		if (setup_one(i)) {
			fprintf(stderr, "hostile: %s: connection %llu failed to set up: %s\n",
				attack_names[opt.attack], (unsigned long long)i, strerror(errno));
			rc = 1;
			break;
		}
	}
	watch();
	report();
	for (size_t i = 0; i < nconns; i++) {
		if (conns[i].fd >= 0)
			close(conns[i].fd);
		SSL_free(conns[i].ssl);
		free(conns[i].pend);
	}
	free(conns);
	SSL_CTX_free(ctx);
	return rc;
}

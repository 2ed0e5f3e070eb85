/* client/trace.c: `ktls-client trace`: one connection, recorded message by
 * message. OpenSSL's message callback reports every record header and every
 * handshake message in both directions; a callback on the socket BIO
 * reports each read() and write(); TCP_INFO counts the segments. With
 * --ktls, libktls moves both directions into the kernel after the
 * handshake, and what follows goes through the kernel. trace_out.c prints it. */
#include "client/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_data_segs_{in,out} */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "client/http.h"
#include "common/pattern.h"
#include "ktls/ktls.h"

uint64_t now_ns(void);

/* The fixed "random" of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

static int last_rec[2] = { -1, -1 };

static uint64_t tr_now(const struct trace *tr)
{
	return now_ns() - tr->t0;
}

static struct tr_msg *add_msg(struct trace *tr, int dir, int ctype)
{
	struct tr_msg *m;

	if (tr->nmsg >= TR_MAX)
		return NULL;
	m = &tr->msg[tr->nmsg++];
	memset(m, 0, sizeof(*m));
	m->t_ns = tr_now(tr);
	m->dir = dir;
	m->ctype = ctype;
	m->rec = last_rec[dir];
	return m;
}

static void on_msg(int write_p, int version, int ctype, const void *buf, size_t len, SSL *ssl,
		   void *arg)
{
	struct trace *tr = arg;
	const uint8_t *b = buf;
	int dir = write_p ? TR_C2S : TR_S2C;
	struct tr_msg *m;

	if (tr->cfg->trace_ktls)
		ktls_msg_callback(write_p, version, ctype, buf, len, ssl, NULL);
	switch (ctype) {
	case SSL3_RT_HEADER:
		if (len >= 5 && tr->nrec < TR_MAX) {
			struct tr_record *r = &tr->rec[tr->nrec];
			memset(r, 0, sizeof(*r));
			r->t_ns = tr_now(tr);
			r->dir = dir;
			r->no = ++tr->rec_no[dir];
			r->type = b[0];
			r->inner = -1;
			r->len = (size_t)b[3] << 8 | b[4];
			last_rec[dir] = (int)tr->nrec++;
		}
		break;
	case SSL3_RT_INNER_CONTENT_TYPE:
		if (len >= 1 && last_rec[dir] >= 0)
			tr->rec[last_rec[dir]].inner = b[0];
		break;
	case SSL3_RT_HANDSHAKE:
		if (len >= 4 && (m = add_msg(tr, dir, ctype))) {
			m->hs_type = b[0];
			m->len = len;
			m->hrr = b[0] == 2 && len >= 38 && !memcmp(b + 6, hrr_random, 32);
			/* what the client offered, what the server chose or asked for */
			if (dir == TR_C2S && b[0] == 1 && tr->nhello < 2) {
				struct tr_hello *h = &tr->hello[tr->nhello++];
				trace_parse_client_hello(h, b, len);
				for (unsigned i = 0; i < h->nsuites; i++) {
					unsigned char cs[2] = { (unsigned char)(h->suites[i] >> 8),
								(unsigned char)h->suites[i] };
					h->suite_c[i] = SSL_CIPHER_find(ssl, cs);
				}
			} else if (dir == TR_S2C && b[0] == 2) {
				trace_parse_server_hello(m->hrr ? &tr->hrr : &tr->sh, b, len);
			}
			if (dir == TR_S2C && b[0] == 4 && tr->hs_done_ns && tr->lingered)
				tr->linger_tickets++;
		}
		break;
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		if ((m = add_msg(tr, dir, ctype)))
			m->len = len;
		break;
	case SSL3_RT_ALERT:
		if (len >= 2 && (m = add_msg(tr, dir, ctype))) {
			m->level = b[0];
			m->hs_type = b[1];
			m->len = len;
		}
		break;
	default:
		break;
	}
}

static void on_ktls_handshake(struct ktls_conn *c, uint8_t type, const uint8_t *body, size_t len,
			      void *arg)
{
	struct trace *tr = arg;
	struct tr_msg *m = add_msg(tr, TR_S2C, SSL3_RT_HANDSHAKE);

	(void)c, (void)body;
	if (m) {
		m->hs_type = type;
		m->len = len + 4;
		m->rec = -1;
		m->via_kernel = true;
	}
	tr->ktls_tickets += type == 4;
	if (type == 4 && tr->lingered)
		tr->linger_tickets++;
}

static void tcp_segments(int fd, uint64_t *out, uint64_t *in)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 &&
	    l >= offsetof(struct tcp_info, tcpi_data_segs_out) + sizeof(ti.tcpi_data_segs_out)) {
		*out = ti.tcpi_data_segs_out;
		*in = ti.tcpi_data_segs_in;
	}
}

/* TCP connect with the --timeout, then a blocking socket with that timeout on
 * every read and write. fd, or -errno. */
static int tcp_connect(const struct client_cfg *cfg)
{
	int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct pollfd p;
	struct timeval tv = { .tv_sec = (time_t)(cfg->timeout_ns / NS_PER_S),
			      .tv_usec = (suseconds_t)(cfg->timeout_ns % NS_PER_S / 1000) };
	int one = 1, err = 0;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	p.fd = fd;
	p.events = POLLOUT;
	int n = poll(&p, 1, (int)(cfg->timeout_ns / NS_PER_MS));
	if (n == 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		err = err ? -err : -errno;
		close(fd);
		return err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void name_text(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k;

	buf[0] = 0;
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	k = BIO_read(b, buf, (int)len - 1);
	buf[k > 0 ? k : 0] = 0;
	BIO_free(b);
}

static void describe_cert(struct trace *tr, SSL *ssl)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	GENERAL_NAMES *gens;
	BIO *b;
	int k;

	tr->chain_len = chain ? sk_X509_num(chain) : 0;
	if (!cert)
		return;
	name_text(X509_get_subject_name(cert), tr->subject, sizeof(tr->subject));
	name_text(X509_get_issuer_name(cert), tr->issuer, sizeof(tr->issuer));
	if ((b = BIO_new(BIO_s_mem()))) {
		ASN1_TIME_print(b, X509_get0_notAfter(cert));
		k = BIO_read(b, tr->not_after, sizeof(tr->not_after) - 1);
		tr->not_after[k > 0 ? k : 0] = 0;
		BIO_free(b);
	}
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		size_t used = strlen(tr->san);
		char ip[64] = "";
		if (g->type == GEN_DNS)
			snprintf(tr->san + used, sizeof(tr->san) - used, "%sDNS:%s", used ? ", " : "",
				 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4)
			snprintf(tr->san + used, sizeof(tr->san) - used, "%sIP:%s", used ? ", " : "",
				 inet_ntop(AF_INET, ASN1_STRING_get0_data(g->d.iPAddress), ip, sizeof(ip)));
		else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 16)
			snprintf(tr->san + used, sizeof(tr->san) - used, "%sIP:%s", used ? ", " : "",
				 inet_ntop(AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), ip, sizeof(ip)));
	}
	GENERAL_NAMES_free(gens);
}

/* Read application data: through the kernel or OpenSSL. >0, 0 at EOF, <0 error
 * (text in tr->req_err). */
static ssize_t app_read(struct trace *tr, SSL *ssl, struct ktls_conn *kc, void *buf, size_t len)
{
	ssize_t n;

	if (kc) {
		n = ktls_recv(kc, buf, len, 0);
		if (n > 0) {
			struct tr_msg *m = add_msg(tr, TR_S2C, SSL3_RT_APPLICATION_DATA);
			if (m) {
				m->len = (size_t)n;
				m->rec = -1;
				m->via_kernel = true;
			}
		} else if (n < 0) {
			snprintf(tr->req_err, sizeof(tr->req_err), "kTLS receive: %s", ktls_strerror((int)n));
		}
		return n;
	}
	int r = SSL_read(ssl, buf, (int)len);
	if (r > 0) {
		/* one line per record, however many reads it took */
		struct tr_msg *m = tr->nmsg ? &tr->msg[tr->nmsg - 1] : NULL;
		if (!m || m->ctype != SSL3_RT_APPLICATION_DATA || m->dir != TR_S2C ||
		    m->rec != last_rec[TR_S2C])
			m = add_msg(tr, TR_S2C, SSL3_RT_APPLICATION_DATA);
		if (m)
			m->len += (size_t)r;
		return r;
	}
	int e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error() && errno == 0)) {
		ERR_clear_error();
		return 0;
	}
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		return 0;
	}
	if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
		snprintf(tr->req_err, sizeof(tr->req_err), "no response within --timeout");
	else
		snprintf(tr->req_err, sizeof(tr->req_err), "%s",
			 ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : strerror(errno));
	ERR_clear_error();
	return -1;
}

static void do_request(struct trace *tr, SSL *ssl, struct ktls_conn *kc)
{
	const struct client_cfg *cfg = tr->cfg;
	const struct client_req *rq = &cfg->reqs[0];
	char head[4096];
	unsigned char buf[16384];
	size_t hl = 0, end = 0;
	struct http_resp resp;
	int64_t want = rq->want;
	int n = (int)rq->len;
	const char *req = rq->text;

	/* sent as early data and accepted: only its answer is to come (the
	 * request's time runs from the early write either way) */
	if (!tr->early_sent)
		tr->req_start_ns = tr_now(tr);
	if (!tr->early_sent || tr->early_status != SSL_EARLY_DATA_ACCEPTED) {
		if (kc ? ktls_send(kc, req, (size_t)n, 0) != n : SSL_write(ssl, req, n) != n) {
			snprintf(tr->req_err, sizeof(tr->req_err), "cannot send the request");
			ERR_clear_error();
			return;
		}
		struct tr_msg *m = add_msg(tr, TR_C2S, SSL3_RT_APPLICATION_DATA);
		if (m) {
			m->len = (size_t)n;
			m->via_kernel = kc != NULL;
			if (kc)
				m->rec = -1;
		}
	}
	/* the head */
	while (!end) {
		ssize_t r = app_read(tr, ssl, kc, head + hl, sizeof(head) - hl);
		if (r <= 0) {
			if (!r)
				snprintf(tr->req_err, sizeof(tr->req_err), "the server closed before a response");
			return;
		}
		hl += (size_t)r;
		end = http_head_end(head, hl);
		if (!end && hl == sizeof(head)) {
			snprintf(tr->req_err, sizeof(tr->req_err), "response head over %zu bytes", sizeof(head));
			return;
		}
	}
	if (http_parse_head(head, end, &resp) && !cfg->head_method) {
		snprintf(tr->req_err, sizeof(tr->req_err), "malformed or unsupported response head");
		return;
	}
	if (cfg->head_method) {
		resp.content_length = 0;
		resp.until_eof = false;
	}
	tr->status = resp.status;
	tr->pattern_checked = resp.status == 200 && want >= 0;
	tr->pattern_ok = true;
	/* the body */
	uint64_t got = hl - end;
	if (tr->pattern_checked && pattern_check(head + end, 0, got) >= 0)
		tr->pattern_ok = false;
	while (resp.until_eof || got < resp.content_length) {
		size_t cap = sizeof(buf);
		if (!resp.until_eof && resp.content_length - got < cap)
			cap = (size_t)(resp.content_length - got);
		ssize_t r = app_read(tr, ssl, kc, buf, cap);
		if (r == 0 && resp.until_eof)
			break;
		if (r <= 0) {
			if (!r)
				snprintf(tr->req_err, sizeof(tr->req_err), "the server closed after %llu of %llu "
					 "body bytes", (unsigned long long)got,
					 (unsigned long long)resp.content_length);
			return;
		}
		if (tr->pattern_checked && pattern_check(buf, got, (size_t)r) >= 0)
			tr->pattern_ok = false;
		got += (uint64_t)r;
	}
	if (tr->pattern_checked && (int64_t)got != want)
		tr->pattern_ok = false;
	tr->body_bytes = got;
	tr->req_end_ns = tr_now(tr);
	tr->req_done = true;
}

/* No request: stay for what the server sends after the handshake (TLS 1.3
 * NewSessionTickets), so the trace shows it, until it has been quiet for
 * LINGER_QUIET_MS. TLS 1.2 sends its ticket inside the handshake: no wait. */
#define LINGER_QUIET_MS 200
static void linger_for_tickets(struct trace *tr, SSL *ssl, struct ktls_conn *kc, int fd)
{
	unsigned char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (SSL_version(ssl) < TLS1_3_VERSION)
		return;
	tr->lingered = true;
	/* SSL_read returns after each ticket instead of blocking for data */
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	tr->linger_quiet_ns = LINGER_QUIET_MS * NS_PER_MS;
	tr->linger_start_ns = tr->linger_last_ns = tr_now(tr);
	while ((kc || !SSL_pending(ssl)) ? poll(&p, 1, LINGER_QUIET_MS) > 0 : 1) {
		ssize_t r = kc ? ktls_recv(kc, buf, sizeof(buf), MSG_DONTWAIT) : SSL_read(ssl, buf, sizeof(buf));
		tr->linger_last_ns = tr_now(tr);
		if (r <= 0) {
			if (!kc && SSL_get_error(ssl, (int)r) == SSL_ERROR_WANT_READ)
				continue;
			break;
		}
	}
	tr->linger_end_ns = tr_now(tr);
	ERR_clear_error();
}

static void enable_ktls(struct trace *tr, SSL *ssl, int fd, struct ktls_conn **kc)
{
	struct ktls_report rep;
	int rc;

	tr->ktls_tried = true;
	memset(&rep, 0, sizeof(rep));
	rc = ktls_enable(ssl, fd, KTLS_TX | KTLS_RX, kc, &rep);
	tr->ktls_ns = tr_now(tr);
	if (rc) {
		snprintf(tr->ktls_err, sizeof(tr->ktls_err), "%s (%s)", ktls_strerror(rc), ktls_errname(rc));
		free(rep.rx_data);
		if (*kc && ktls_conn_dirs(*kc)) {
			ktls_conn_free(*kc); /* half-offloaded: the connection is unusable */
			*kc = NULL;
		}
		return;
	}
	tr->ktls_on = true;
	tr->tx_seq = rep.tx_seq;
	tr->rx_seq = rep.rx_seq;
	snprintf(tr->ktls_cipher, sizeof(tr->ktls_cipher), "%s", ktls_cipher_name(rep.cipher));
	ktls_set_handshake_cb(*kc, on_ktls_handshake, tr);
	free(rep.rx_data); /* nothing was requested yet: any early data is not ours */
}

/* The newest session the server handed out (trace --resume keeps it). */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	SSL_SESSION **keep = SSL_get_ex_data(ssl, 0);

	if (!keep)
		return 0;
	SSL_SESSION_free(*keep);
	*keep = sess;
	return 1;
}

/* One traced connection: connect, handshake, request or linger, close.
 * 0 when the handshake completed (the trace then holds it all), 1 after an
 * error was printed (the trace, as far as it went, is printed too). */
static int trace_conn(struct trace *tr, SSL_CTX *ctx, SSL_SESSION *offer, SSL_SESSION **keep,
		     FILE *human)
{
	const struct client_cfg *cfg = tr->cfg;
	char err[512];
	SSL *ssl = NULL;
	BIO *bio = NULL;
	struct ktls_conn *kc = NULL;
	int fd = -1, rc = 1, r;
	int stamps = trace_stamps_on(); /* held until the traced socket asks for stamps too */

	last_rec[0] = last_rec[1] = -1;
	tr->t0 = now_ns();
	trace_clock_offset(tr);
	fd = tcp_connect(cfg);
	tr->tcp_ns = tr_now(tr);
	if (fd < 0) {
		fprintf(stderr, "ktls-client: trace: cannot connect to %s:%u: %s%s\n", cfg->host, cfg->port,
			strerror(-fd), fd == -ECONNREFUSED ? " (is the server running on that port?)" : "");
		goto out;
	}
	ssl = SSL_new(ctx);
	bio = ssl ? trace_bio_new(tr, fd) : NULL;
	if (!bio) {
		fprintf(stderr, "ktls-client: out of memory\n");
		goto out;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_msg_callback(ssl, on_msg);
	SSL_set_msg_callback_arg(ssl, tr);
	SSL_set_ex_data(ssl, 0, keep);
	if (offer) {
		SSL_set_session(ssl, offer);
		tr->offered_session = true;
	}
	if (cfg->sni || !cfg->host_is_ip)
		SSL_set_tlsext_host_name(ssl, (char *)(cfg->sni ? cfg->sni : cfg->host));

	if (offer && cfg->early_data && cfg->request_path) {
		/* --early-data: the request right behind the ClientHello, when
		 * the ticket allows that much */
		const struct client_req *rq = &cfg->reqs[0];
		size_t w = 0;
		tr->early_max = SSL_SESSION_get_max_early_data(offer);
		if (tr->early_max >= rq->len) {
			if (SSL_write_early_data(ssl, rq->text, rq->len, &w) != 1 || w != rq->len) {
				unsigned long oe = ERR_peek_error();
				fprintf(stderr, "ktls-client: trace: cannot send the request as early data: %s\n",
					oe ? ERR_reason_error_string(oe) : strerror(errno));
				goto out;
			}
			tr->early_sent = true;
			tr->req_start_ns = tr_now(tr);
			struct tr_msg *m = add_msg(tr, TR_C2S, SSL3_RT_APPLICATION_DATA);
			if (m) {
				m->len = w;
				m->early = true;
			}
		}
	}
	r = SSL_connect(ssl);
	tr->hs_done_ns = tr_now(tr);
	tr->early_status = SSL_get_early_data_status(ssl);
	if (r != 1) {
		int e = SSL_get_error(ssl, r), alert;
		int en = errno;
		unsigned long oe = ERR_peek_error();
		enum err_kind k = tls_classify(e, en, &alert);
		trace_analyse(tr);
		trace_print(tr, human);
		fprintf(stderr, "ktls-client: trace: the handshake failed: %s", err_kind_name(k));
		if (alert >= 0)
			fprintf(stderr, " (the server sent alert %s)", tls_alert_short(alert, err, sizeof(err)));
		else if (oe)
			fprintf(stderr, " (%s)", ERR_reason_error_string(oe));
		else if (en == EAGAIN)
			fprintf(stderr, " (no answer within --timeout)");
		fprintf(stderr, "\n");
		goto out;
	}
	tcp_segments(fd, &tr->segs_out_hs, &tr->segs_in_hs);
	tr->have_tcpi = true;
	tls_describe(ssl, &tr->neg);
	tr->resumed = SSL_session_reused(ssl);
	tr->verify_result = SSL_get_verify_result(ssl);
	describe_cert(tr, ssl);

	if (cfg->trace_ktls)
		enable_ktls(tr, ssl, fd, &kc);
	if (!cfg->trace_ktls || tr->ktls_on) {
		if (cfg->request_path)
			do_request(tr, ssl, kc);
		else
			linger_for_tickets(tr, ssl, kc, fd);
		if (kc)
			ktls_close(kc);
		else
			SSL_shutdown(ssl);
		ERR_clear_error();
	}
	tcp_segments(fd, &tr->segs_out, &tr->segs_in);
	trace_analyse(tr);
	rc = 0;
out:
	ktls_conn_free(kc);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (stamps >= 0)
		close(stamps);
	return rc;
}

/* The exit status of a traced connection that completed. */
static int trace_status(const struct trace *tr)
{
	if (tr->cfg->trace_ktls && !tr->ktls_on) {
		fprintf(stderr, "ktls-client: trace --ktls: the record layer could not move into the kernel: "
			"%s\n", tr->ktls_err);
		return 1;
	}
	return tr->req_err[0] || (tr->pattern_checked && !tr->pattern_ok);
}

int trace_run(const struct client_cfg *cfg)
{
	struct trace *tr = calloc(2, sizeof(*tr)), *res = tr ? tr + 1 : NULL;
	char err[512];
	SSL_CTX *ctx = NULL;
	SSL_SESSION *sess = NULL;
	struct outfile json = { .fd = -1 };
	int rc = 1, r;
	/* with --json - the JSON alone goes to stdout, the human trace to stderr */
	FILE *human = cfg->json_path && !strcmp(cfg->json_path, "-") ? stderr : stdout;

	if (!tr) {
		fprintf(stderr, "ktls-client: out of memory\n");
		return 1;
	}
	if (cfg->json_path && (r = outfile_open(&json, cfg->json_path))) {
		fprintf(stderr, "ktls-client: --json %s: cannot write: %s (checked before connecting)\n",
			cfg->json_path, strerror(-r));
		free(tr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tr->cfg = res->cfg = cfg;
	ctx = tls_ctx_new(cfg, cfg->trace_ktls, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "ktls-client: %s\n", err);
		goto out;
	}
	SSL_CTX_set_read_ahead(ctx, 0); /* one record per read: the trace sees each one */
	if (cfg->resume) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, on_new_session);
		tr->title = "full handshake";
		res->title = "resumed";
	}

	if (trace_conn(tr, ctx, NULL, &sess, human))
		goto out;
	trace_print(tr, human);
	rc = trace_status(tr);
	if (cfg->resume) {
		if (!sess) {
			fprintf(stderr, "ktls-client: trace --resume: the server gave no session to resume (no "
				"ticket%s): turn tickets or the session cache on in the server\n",
				cfg->request_path ? "" : " within the wait after the handshake");
			rc = 1;
			goto out;
		}
		fprintf(human, "\n");
		if (trace_conn(res, ctx, sess, NULL, human)) {
			rc = 1;
			goto out;
		}
		trace_print(res, human);
		trace_print_compare(tr, res, human);
		rc |= trace_status(res);
		if (!res->resumed) {
			fprintf(stderr, "ktls-client: trace --resume: the server did not resume the session it "
				"gave (no session cache, or tickets it cannot decrypt): the second handshake was "
				"a full one\n");
			rc = 1;
		}
	}
	if (cfg->json_path) {
		int jr = trace_json(tr, cfg->resume ? res : NULL, &json);
		if (jr) {
			fprintf(stderr, "ktls-client: --json %s: cannot write: %s\n", cfg->json_path, strerror(-jr));
			rc = 1;
		}
	}
out:
	outfile_discard(&json); /* nothing to write: the connection failed */
	SSL_SESSION_free(sess);
	SSL_CTX_free(ctx);
	trace_bio_free_method();
	free(tr);
	return rc;
}

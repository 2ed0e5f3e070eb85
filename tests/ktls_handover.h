/* tests/ktls_handover.h: application data sent right behind the last
 * handshake flight must reach the caller intact and in order after
 * ktls_enable(), whichever way it travels:
 *   - "greedy": our end read past Finished in userspace (the data sits in
 *     OpenSSL's read BIO) and ktls_enable() drains it into rep->rx_data;
 *   - "read-ahead": our end reads through its socket with OpenSSL's
 *     read-ahead on, so OpenSSL's own buffer holds the records behind
 *     Finished (a TLS 1.3 client peeks once to get the tickets and data it
 *     is sent after its handshake); drained too;
 *   - "exact": our end read record-exactly (memory BIOs and the framer, as
 *     ktls-server does) or through its socket (SSL_connect on the fd), so the
 *     data is still on the socket and the kernel decrypts it.
 * The peer is plain OpenSSL on memory BIOs that appends the data to its last
 * flight (Finished for TLS 1.3 clients and TLS 1.2 servers, the tickets for
 * TLS 1.3 servers) and sends it all with ONE send(), so on loopback it
 * arrives in the same segment. Variants: 2 tickets, no tickets, resumption,
 * HelloRetryRequest. What arrived (drained + kernel RX) is compared with what
 * was sent by SHA-256, then one more message goes each way under the kernel's
 * keys and our close_notify must reach the peer.
 *
 * Shared by tests/unit/ktls_handover.c (emulated kernel, on any host) and
 * tests/vm/ktls_handover.c (the real kernel, in the VM). Include
 * tests/ktls_world.h and tests/tap.h first.
 */
#ifndef KTLS_TESTS_HANDOVER_H
#define KTLS_TESTS_HANDOVER_H

#include <netinet/tcp.h>

#include <openssl/evp.h>

enum ho_role { HO_OURS_SERVER, HO_OURS_CLIENT };
enum ho_variant { HO_TICKETS2, HO_TICKETS0, HO_RESUMED, HO_HRR };
static const char *const ho_role_names[] = { "ours-server", "ours-client" };
static const char *const ho_variant_names[] = { "tickets2", "tickets0", "resumed", "hrr" };
enum ho_read { HO_GREEDY, HO_READ_AHEAD, HO_EXACT };
static const char *const ho_read_names[] = { "greedy", "read-ahead", "exact" };

/* Three records' worth of data behind the handshake: a request-sized one,
 * a single byte and a larger one. */
static const size_t ho_pieces[] = { 26, 1, 3000 };
#define HO_DATA 3027

/* Whether the case exists: the data can only follow the LAST Finished, and
 * the side whose Finished is last differs by version and handshake. */
static inline bool ho_applies(int version, enum ho_role role, enum ho_variant v)
{
	if (version == TLS1_3_VERSION)
		return true; /* client Finished last; the server answers with tickets + data */
	if (v == HO_TICKETS0 || v == HO_HRR)
		return false; /* TLS 1.2: tickets change nothing after Finished; no HRR */
	/* TLS 1.2 full: the server's Finished is last (our client reads data
	 * behind it); resumed: the client's is (our server does). */
	return role == HO_OURS_SERVER ? v == HO_RESUMED : v == HO_TICKETS2;
}

/* The peer's input: whole records only, as they come. */
static inline void ho_peer_in(struct tend *p)
{
	char buf[16384 + 2048 + 5];

	for (;;) {
		size_t want = ktls_framer_want(&p->fr);
		ssize_t r = recv(p->fd, buf, want < sizeof(buf) ? want : sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			return;
		ktls_framer_feed(&p->fr, buf, (size_t)r);
		BIO_write(p->rb, buf, (int)r);
	}
}

/* Everything the peer produced, in one send(). 0 or -1. */
static inline int ho_peer_flush(struct tend *p)
{
	static uint8_t buf[1 << 17];
	size_t n = BIO_ctrl_pending(p->wb);

	if (n == 0)
		return 0;
	if (n > sizeof(buf) || BIO_read(p->wb, buf, (int)n) != (int)n)
		return -1;
	ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		printf("# peer: one send() of %zu bytes sent %zd\n", n, w);
		return -1;
	}
	return 0;
}

/* Our end's output, as it comes. 0 or -1. */
static inline int ho_ours_out(struct tend *o)
{
	char out[65536];
	int n;

	while ((n = BIO_read(o->wb, out, sizeof(out))) > 0)
		for (int off = 0; off < n;) {
			ssize_t w = send(o->fd, out + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EAGAIN) {
				struct pollfd pf = { .fd = o->fd, .events = POLLOUT };
				poll(&pf, 1, 100);
				continue;
			}
			if (w <= 0)
				return -1;
			off += (int)w;
		}
	return 0;
}

/* Our end: at most one record per step when exact (so nothing past the
 * record that completes the handshake is read), everything when greedy. */
static inline int ho_ours_step(struct tend *o, bool greedy)
{
	char buf[65536];
	int r, e;

	if (o->done)
		return 0;
	if (o->mode != PUMP_SOCKET) {
		if (ho_ours_out(o))
			return -1;
		for (;;) {
			size_t want = greedy ? sizeof(buf) : ktls_framer_want(&o->fr);
			ssize_t n = recv(o->fd, buf, want, MSG_DONTWAIT);
			if (n <= 0)
				break;
			if (!greedy)
				ktls_framer_feed(&o->fr, buf, (size_t)n);
			BIO_write(o->rb, buf, (int)n);
			if (!greedy && ktls_framer_at_boundary(&o->fr))
				break;
		}
	}
	r = SSL_do_handshake(o->ssl);
	e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(o->ssl, r);
	if (r == 1) {
		o->done = true;
	} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		printf("# ours: SSL_do_handshake: SSL_get_error %d\n", e);
		ERR_print_errors_fp(stdout);
		return -1;
	}
	return o->mode == PUMP_SOCKET ? 0 : ho_ours_out(o);
}

/* Both handshakes; the peer writes `data` as soon as its own is complete and
 * sends it with its last flight. 0 or -1. */
static inline int ho_handshake(struct tend *o, struct tend *p, enum ho_read rd, const uint8_t *data)
{
	bool wrote = false;

	for (int i = 0; i < 4000 && !(o->done && p->done && wrote); i++) {
		if (ho_ours_step(o, rd == HO_GREEDY))
			return -1;
		ho_peer_in(p);
		if (!p->done) {
			int r = SSL_do_handshake(p->ssl);
			if (r == 1) {
				p->done = true;
			} else if (SSL_get_error(p->ssl, r) != SSL_ERROR_WANT_READ) {
				printf("# peer: SSL_do_handshake: SSL_get_error %d\n", SSL_get_error(p->ssl, r));
				ERR_print_errors_fp(stdout);
				return -1;
			}
		}
		if (p->done && !wrote) {
			size_t off = 0;
			for (size_t k = 0; k < sizeof(ho_pieces) / sizeof(ho_pieces[0]); k++) {
				if (SSL_write(p->ssl, data + off, (int)ho_pieces[k]) != (int)ho_pieces[k])
					return -1;
				off += ho_pieces[k];
			}
			wrote = true;
		}
		if (ho_peer_flush(p))
			return -1;
		if (!(o->done && p->done && wrote)) {
			struct pollfd pf[2] = { { .fd = o->fd, .events = POLLIN }, { .fd = p->fd, .events = POLLIN } };
			poll(pf, 2, 2);
		}
	}
	if (!(o->done && p->done && wrote))
		return -1;
	/* A TLS 1.3 client is done before the server's tickets and data even
	 * left: a greedy client reads them now, as it would with its next read.
	 * (A TLS 1.2 client read them with the server's Finished.) */
	if (rd == HO_GREEDY && !SSL_is_server(o->ssl) && BIO_ctrl_pending(o->rb) == 0) {
		struct pollfd pf = { .fd = o->fd, .events = POLLIN };
		char buf[65536];
		ssize_t n;
		if (poll(&pf, 1, 2000) != 1)
			return -1;
		while ((n = recv(o->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			BIO_write(o->rb, buf, (int)n);
	}
	if (rd == HO_READ_AHEAD && !SSL_is_server(o->ssl) && !SSL_has_pending(o->ssl)) {
		/* The application peeks: OpenSSL reads ahead everything there. */
		struct pollfd pf = { .fd = o->fd, .events = POLLIN };
		char b;
		if (poll(&pf, 1, 2000) != 1 || SSL_peek(o->ssl, &b, 1) != 1)
			return -1;
	}
	return 0;
}

struct ho_result {
	bool ok;
	char why[160];
	size_t drained, kernel;
};

/* Fill w for the case (contexts, and for resumption a first connection),
 * connect and hand over; everything after the handshake is checked here. */
static inline struct ho_result ho_case(const struct suite *su, enum ho_role role, enum ho_variant v, enum ho_read rd,
				       unsigned seed)
{
	struct ho_result res = { .ok = false };
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r = { .rx_data = NULL };
	bool ours_s = role == HO_OURS_SERVER, t13 = su->version == TLS1_3_VERSION;
	SSL_SESSION *sess = NULL;
	uint8_t data[HO_DATA], got[HO_DATA], want_md[32], got_md[32];
	char b[16];
	int rc;

	fill(data, sizeof(data), seed);
	if (world_ctx(&w, su, v == HO_TICKETS0 ? 0 : 2, v == HO_HRR, ours_s, !ours_s)) {
		snprintf(res.why, sizeof(res.why), "contexts");
		goto out;
	}
	if (v == HO_RESUMED) {
		if (world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL)) {
			snprintf(res.why, sizeof(res.why), "first handshake failed");
			goto out;
		}
		tp_poll_read(&w.c);
		sess = t13 ? saved : SSL_get1_session(w.c.ssl);
		if (t13)
			saved = NULL;
		SSL_set_shutdown(w.c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_set_shutdown(w.s.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		tp_end_free(&w.c);
		tp_end_free(&w.s);
		world_forget(w.cfd);
		world_forget(w.sfd);
		close(w.cfd);
		close(w.sfd);
		w.cfd = w.sfd = -1;
		if (!sess) {
			snprintf(res.why, sizeof(res.why), "no session from the first connection");
			goto out;
		}
	}
	if (tp_tcp_pair(&w.cfd, &w.sfd)) {
		snprintf(res.why, sizeof(res.why), "socket pair");
		goto out;
	}
	struct tend *ours = ours_s ? &w.s : &w.c, *peer = ours_s ? &w.c : &w.s;
	/* Ours: memory BIOs for a server (greedy or framer-exact), the socket
	 * itself for an exact client (SSL_connect never reads past a record)
	 * and with read-ahead. */
	enum pump_mode om = rd == HO_READ_AHEAD ? PUMP_SOCKET : rd == HO_GREEDY || ours_s ? PUMP_EXACT : PUMP_SOCKET;
	if (tp_end_init(&w.s, w.sctx, w.sfd, ours_s ? om : PUMP_EXACT, true) ||
	    tp_end_init(&w.c, w.cctx, w.cfd, ours_s ? PUMP_EXACT : om, false)) {
		snprintf(res.why, sizeof(res.why), "SSL_new");
		goto out;
	}
	int one = 1;
	setsockopt(peer->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* no Nagle wait on its one send */
	if (sess)
		SSL_set_session(w.c.ssl, sess);
	if (rd == HO_READ_AHEAD)
		SSL_set_read_ahead(ours->ssl, 1);
	if (ho_handshake(ours, peer, rd, data)) {
		snprintf(res.why, sizeof(res.why), "handshake failed");
		goto out;
	}
	if (v == HO_RESUMED && !SSL_session_reused(w.c.ssl)) {
		snprintf(res.why, sizeof(res.why), "the session was not resumed");
		goto out;
	}
	if (v == HO_HRR && SSL_get_negotiated_group(w.s.ssl) != NID_X9_62_prime256v1) {
		snprintf(res.why, sizeof(res.why), "no HelloRetryRequest to P-256");
		goto out;
	}
	rc = ktls_enable(ours->ssl, ours->fd, KTLS_TX | KTLS_RX, &k, &r);
	if (rc) {
		snprintf(res.why, sizeof(res.why), "ktls_enable: %s", ktls_errname(rc));
		goto out;
	}
	res.drained = r.rx_len;
	if (r.rx_len > HO_DATA) {
		snprintf(res.why, sizeof(res.why), "drained %zu bytes, more than the %d sent", r.rx_len, HO_DATA);
		goto out;
	}
	if (r.rx_len)
		memcpy(got, r.rx_data, r.rx_len);
	ssize_t n = krecv_all(k, got + r.rx_len, HO_DATA - r.rx_len);
	res.kernel = n > 0 ? (size_t)n : 0;
	EVP_Digest(data, HO_DATA, want_md, NULL, EVP_sha256(), NULL);
	EVP_Digest(got, r.rx_len + res.kernel, got_md, NULL, EVP_sha256(), NULL);
	if (r.rx_len + res.kernel != HO_DATA || memcmp(want_md, got_md, 32)) {
		snprintf(res.why, sizeof(res.why), "%zu of %d bytes (last read %s), sha256 %s", r.rx_len + res.kernel,
			 HO_DATA, n < 0 ? ktls_errname((int)n) : "ok", memcmp(want_md, got_md, 32) ? "differs" : "same");
		goto out;
	}
	/* A TLS 1.3 server of OpenSSL's new record layer (3.2 on; seen on 3.5)
	 * with read-ahead reads nothing past the client's Finished: then there
	 * is nothing to drain, and every byte reached the kernel above. Greedy
	 * still makes such a server hold data to drain. */
	bool ra_stops = rd == HO_READ_AHEAD && ours_s && t13 && OpenSSL_version_num() >= 0x30200000L;
	if ((rd != HO_EXACT) != (r.rx_len > 0) && !(ra_stops && r.rx_len == 0)) {
		/* The test did not do what it means to: say so. */
		snprintf(res.why, sizeof(res.why), "%s read but %zu bytes drained", ho_read_names[rd], r.rx_len);
		goto out;
	}
	if (tp_write(peer, "after-peer", 10) != 10 || krecv_all(k, b, 10) != 10 || memcmp(b, "after-peer", 10)) {
		snprintf(res.why, sizeof(res.why), "peer -> kernel RX after the handover failed");
		goto out;
	}
	if (ktls_send(k, "after-ours", 10, 0) != 10 || peer_read_all(peer, b, 10) != 10 || memcmp(b, "after-ours", 10)) {
		snprintf(res.why, sizeof(res.why), "kernel TX -> peer after the handover failed");
		goto out;
	}
	if (ktls_close(k) != 0 || tp_read(peer, b, sizeof(b)) != 0) {
		snprintf(res.why, sizeof(res.why), "our close_notify did not reach the peer");
		goto out;
	}
	res.ok = true;
out:
	SSL_SESSION_free(sess);
	free(r.rx_data);
	ktls_conn_free(k);
	world_free(&w);
	return res;
}

/* Every applicable case of one suite, one result line each:
 * "<v> <cipher> <role> behind-fin <variant> <greedy|read-ahead|exact> (...)". */
static inline void ho_run_suite(const struct suite *su, unsigned *seed)
{
	const char *v = su->version == TLS1_3_VERSION ? "1.3" : "1.2";

	for (int role = HO_OURS_SERVER; role <= HO_OURS_CLIENT; role++)
		for (int var = HO_TICKETS2; var <= HO_HRR; var++) {
			if (!ho_applies(su->version, (enum ho_role)role, (enum ho_variant)var))
				continue;
			for (int rd = HO_GREEDY; rd <= HO_EXACT; rd++) {
				struct ho_result r = ho_case(su, (enum ho_role)role, (enum ho_variant)var, (enum ho_read)rd,
							     (*seed)++);
				if (r.ok)
					OK(1, "%s %s %s behind-fin %s %s (%zu drained + %zu kernel RX bytes, sha256 same)", v,
					   su->name, ho_role_names[role], ho_variant_names[var], ho_read_names[rd],
					   r.drained, r.kernel);
				else
					OK(0, "%s %s %s behind-fin %s %s (%s)", v, su->name, ho_role_names[role],
					   ho_variant_names[var], ho_read_names[rd], r.why);
			}
		}
}

#endif

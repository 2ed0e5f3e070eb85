/* VM test: libktls against the real kernel, TLS 1.2/1.3 x every cipher the
 * kernel offloads x case. Each result line names version, cipher and case
 * ("1.3 aes128gcm ours-server data"), so tests/ktls/libktls.t can print the
 * matrix per kernel. The peer is plain OpenSSL in userspace (or our own kTLS
 * for "both"); data is compared by SHA-256.
 *
 * Budget: TCG crypto runs ~19 MB/s, so each direction moves 1 MiB only in
 * the "data" case (write sizes cycling 1 B, 1000 B, 16 KiB, 64 KiB) and a
 * few bytes elsewhere. Data right behind Finished, tickets, resumption and
 * HelloRetryRequest: tests/vm/ktls_handover.c.
 */
#define KTLS_WORLD_NO_EMU
#include "tests/ktls_world.h"
#include "tests/tap.h"

#include <pthread.h>

#include <openssl/evp.h>

#define STREAM (1024 * 1024)
static const size_t wsizes[] = { 1, 1000, 16384, 65536 };
static uint8_t *stream_buf;

static void set_blocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

struct sender {
	struct ktls_conn *k;           /* kTLS sender, or */
	struct tend *peer;             /* userspace sender */
	size_t sent;
};

static void *send_stream(void *arg)
{
	struct sender *s = arg;
	size_t off = 0, i = 0;

	while (off < STREAM) {
		size_t n = wsizes[i++ % 4];
		if (n > STREAM - off)
			n = STREAM - off;
		if (s->k) {
			if (ktls_send(s->k, stream_buf + off, n, 0) != (ssize_t)n)
				break;
		} else {
			int w = SSL_write(s->peer->ssl, stream_buf + off, (int)n);
			if (w <= 0) {
				int e = SSL_get_error(s->peer->ssl, w);
				if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
					break;
				struct pollfd p = { .fd = s->peer->fd, .events = POLLOUT };
				poll(&p, 1, 100);
				continue;
			}
		}
		off += n;
	}
	s->sent = off;
	return NULL;
}

/* Receive STREAM bytes on k (kTLS) or peer (userspace), hashing them. */
static size_t recv_stream(struct ktls_conn *k, struct tend *peer, uint8_t md[32])
{
	static uint8_t buf[65536];
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	size_t got = 0;

	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	for (int spins = 0; got < STREAM && spins < 200000; spins++) {
		ssize_t n;
		if (k)
			n = ktls_recv(k, buf, sizeof(buf), 0);
		else
			n = tp_read(peer, buf, sizeof(buf));
		if (n <= 0)
			break;
		EVP_DigestUpdate(h, buf, (size_t)n);
		got += (size_t)n;
	}
	EVP_DigestFinal_ex(h, md, NULL);
	EVP_MD_CTX_free(h);
	return got;
}

/* 1 MiB one way, SHA-256 compared. */
static bool stream_ok(struct ktls_conn *ks, struct tend *ps, struct ktls_conn *kr, struct tend *pr)
{
	uint8_t want[32], got[32];
	struct sender s = { .k = ks, .peer = ps };
	pthread_t th;

	EVP_Digest(stream_buf, STREAM, want, NULL, EVP_sha256(), NULL);
	pthread_create(&th, NULL, send_stream, &s);
	size_t n = recv_stream(kr, pr, got);
	pthread_join(th, NULL);
	return s.sent == STREAM && n == STREAM && !memcmp(want, got, 32);
}

static uint64_t tls_stat(const char *name)
{
	struct ktls_stat_counter st[64];
	size_t n = 0;
	if (ktls_read_tls_stat("/proc/net/tls_stat", st, 64, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(st[i].name, name))
			return st[i].value;
	return 0;
}

static bool rekey;

/* KU_LEN bytes of the stream each way between kTLS end k and the userspace
 * peer, compared byte for byte (from stream offset off); the peer first, or
 * ours first (so that the peer reads our KeyUpdate before it writes). */
#define KU_LEN 20000
static bool ku_to_ours(struct ktls_conn *k, struct tend *peer, size_t off)
{
	static uint8_t in[KU_LEN];
	return tp_write(peer, stream_buf + off, KU_LEN) == KU_LEN && krecv_all(k, in, KU_LEN) == KU_LEN &&
	       !memcmp(in, stream_buf + off, KU_LEN);
}

static bool ku_to_peer(struct ktls_conn *k, struct tend *peer, size_t off)
{
	static uint8_t in[KU_LEN];
	return ktls_send(k, stream_buf + off, KU_LEN, 0) == KU_LEN && peer_read_all(peer, in, KU_LEN) == KU_LEN &&
	       !memcmp(in, stream_buf + off, KU_LEN);
}

static bool ku_exchange(struct ktls_conn *k, struct tend *peer, size_t off, bool ours_first)
{
	if (ours_first)
		return ku_to_peer(k, peer, off) && ku_to_ours(k, peer, off + KU_LEN);
	return ku_to_ours(k, peer, off) && ku_to_peer(k, peer, off + KU_LEN);
}

/* One version x cipher: all cases. */
static void run_suite(const struct suite *su)
{
	const char *v = su->version == TLS1_3_VERSION ? "1.3" : "1.2";
	bool t13 = su->version == TLS1_3_VERSION;
	struct world w;
	struct ktls_report r;
	char b[64];

	/* ours-server (memory BIOs, record-exact) vs userspace client, and
	 * the reverse, and both kTLS: 1 MiB each way. */
	for (int role = 0; role < 3; role++) {
		static const char *rn[] = { "ours-server", "ours-client", "both-ktls" };
		struct ktls_conn *ks = NULL, *kc = NULL;
		bool os = role != 1, oc = role != 0;
		int rc_s = 0, rc_c = 0;

		if (world_ctx(&w, su, 2, false, os, oc) ||
		    world_connect(&w, os ? PUMP_EXACT : PUMP_SOCKET, PUMP_SOCKET, NULL, NULL)) {
			OK(0, "%s %s %s handshake", v, su->name, rn[role]);
			world_free(&w);
			continue;
		}
		if (os) {
			rc_s = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &ks, &r);
			set_blocking(w.sfd);
		}
		if (oc) {
			rc_c = ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r);
			set_blocking(w.cfd);
		}
		OK(rc_s == 0 && rc_c == 0, "%s %s %s enable (%s %s)", v, su->name, rn[role], ktls_errname(rc_s),
		   ktls_errname(rc_c));
		if (rc_s == 0 && rc_c == 0) {
			OK(stream_ok(kc, kc ? NULL : &w.c, ks, ks ? NULL : &w.s),
			   "%s %s %s data client->server 1MiB sha256", v, su->name, rn[role]);
			OK(stream_ok(ks, ks ? NULL : &w.s, kc, kc ? NULL : &w.c),
			   "%s %s %s data server->client 1MiB sha256", v, su->name, rn[role]);
			/* close_notify from our kTLS side, then the other way. */
			struct ktls_conn *k = ks ? ks : kc, *other = role == 2 ? kc : NULL;
			struct tend *peer = os ? &w.c : &w.s;
			struct ktls_conn_stats st;
			OK(ktls_close(k) == 0, "%s %s %s close_notify sent", v, su->name, rn[role]);
			if (role == 2)
				OK(ktls_recv(kc, b, sizeof(b), 0) == 0, "%s %s %s close_notify received", v, su->name, rn[role]);
			else
				OK(tp_read(peer, b, sizeof(b)) == 0, "%s %s %s close_notify received", v, su->name, rn[role]);
			if (role == 2) {
				ktls_close(other);
			} else {
				SSL_shutdown(peer->ssl);
				tp_pump(peer);
			}
			ssize_t eof = ktls_recv(role == 2 ? ks : k, b, sizeof(b), 0);
			ktls_conn_stats(role == 2 ? ks : k, &st);
			OK(eof == 0 && !st.unclean_eof, "%s %s %s close_notify the other way (%s%s)", v, su->name, rn[role],
			   ktls_errname((int)eof), st.unclean_eof ? ", TCP EOF without close_notify" : "");
		}
		ktls_conn_free(ks);
		ktls_conn_free(kc);
		world_free(&w);
	}

	/* Tampered record: decrypt error, TlsDecryptError counted, we live. */
	{
		struct ktls_conn *kc = NULL;
		char raw[256];
		uint64_t before = tls_stat("TlsDecryptError");
		world_ctx(&w, su, 0, false, false, true);
		world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL);
		int rc = ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r);
		set_blocking(w.cfd);
		SSL_write(w.s.ssl, "tamper me", 9);
		int n = BIO_read(w.s.wb, raw, sizeof(raw));
		if (n > 20) {
			raw[n - 20] ^= 1;
			send(w.sfd, raw, (size_t)n, 0);
		}
		ssize_t got = rc == 0 ? ktls_recv(kc, b, sizeof(b), 0) : rc;
		ssize_t again = ktls_recv(kc, b, sizeof(b), 0);
		/* The connection ends: the peer reads our bad_record_mac alert. */
		ERR_clear_error();
		int pr = tp_read(&w.s, b, sizeof(b));
		bool alerted = pr < 0 && ERR_GET_REASON(ERR_peek_last_error()) == SSL_AD_REASON_OFFSET + SSL_AD_BAD_RECORD_MAC;
		ERR_clear_error();
		OK(got == KTLS_E_DECRYPT && again == KTLS_E_DECRYPT && alerted && tls_stat("TlsDecryptError") > before,
		   "%s %s tamper decrypt-error (%s, then %s; peer %s)", v, su->name, ktls_errname((int)got),
		   ktls_errname((int)again), alerted ? "got bad_record_mac" : "got no bad_record_mac alert");
		ktls_conn_free(kc);
		world_free(&w);
	}

	/* A fatal alert by name (both kTLS). */
	{
		struct ktls_conn *ks = NULL, *kc = NULL;
		static const uint8_t alert[2] = { 2, 40 };
		world_ctx(&w, su, 0, false, true, true);
		world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL);
		int rc = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &ks, &r) ||
			 ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r);
		set_blocking(w.cfd);
		ssize_t got = rc ? -1 : (ktls_send_record(ks, 21, alert, 2), ktls_recv(kc, b, sizeof(b), 0));
		OK(got == KTLS_E_ALERT && !strcmp(ktls_alert_name(ktls_conn_alert(kc)), "handshake_failure"),
		   "%s %s alert handshake_failure", v, su->name);
		ktls_conn_free(ks);
		ktls_conn_free(kc);
		world_free(&w);
	}

	/* The TCP stream ends inside a record: the kernel returns 0 there as at
	 * a boundary; libktls must say KTLS_E_TRUNCATED. */
	{
		ssize_t f1, f2, f3, f0, in_hdr, in_body, short1, at_boundary;
		bool u1 = false, u2 = false, u3 = false, u0 = false;
		in_hdr = world_truncated(su, 3, &f1, &u1);
		in_body = world_truncated(su, 15, &f2, &u2);
		short1 = world_truncated(su, -1, &f3, &u3);
		at_boundary = world_truncated(su, 0, &f0, &u0);
		OK(f1 == 8 && f2 == 8 && f3 == 8 && f0 == 8 && in_hdr == KTLS_E_TRUNCATED && in_body == KTLS_E_TRUNCATED &&
		   short1 == KTLS_E_TRUNCATED && at_boundary == 0 && u0,
		   "%s %s truncated (EOF in a header %s, in a body %s, 1 byte short %s; at a boundary %s)", v, su->name,
		   ktls_errname((int)in_hdr), ktls_errname((int)in_body), ktls_errname((int)short1),
		   at_boundary == 0 ? "EOF" : ktls_errname((int)at_boundary));
	}

	if (!t13)
		return;

	/* Plain recv() on a control record fails with EIO; ktls_recv(MSG_DONTWAIT)
	 * then handles it (the io_uring server's path). */
	{
		struct ktls_conn *kc = NULL;
		world_ctx(&w, su, 2, false, false, true);
		world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL);
		ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r);
		tp_write(&w.s, "data", 4);
		/* The kernel reports POLLIN once a whole record (here the first
		 * NewSessionTicket) is there. */
		struct pollfd pf = { .fd = w.cfd, .events = POLLIN };
		poll(&pf, 1, 5000);
		ssize_t n = recv(w.cfd, b, sizeof(b), MSG_DONTWAIT);
		int e = errno;
		ssize_t m = -EAGAIN;
		for (int i = 0; i < 2000 && m == -EAGAIN; i++) {
			m = ktls_recv(kc, b, sizeof(b), MSG_DONTWAIT);
			if (m == -EAGAIN)
				usleep(1000);
		}
		OK(n < 0 && e == EIO && m == 4 && !memcmp(b, "data", 4), "%s %s eio-then-ktls_recv (recv %zd errno %d, "
		   "ktls_recv %zd)", v, su->name, n, e, m);
		ktls_conn_free(kc);
		world_free(&w);
	}

	/* KeyUpdate: from the peer with and without update_requested, and ours. */
	for (int c = 0; c < 3; c++) {
		static const char *cn[] = { "keyupdate-peer-requested", "keyupdate-peer", "keyupdate-ours" };
		struct ktls_conn *kc = NULL;
		struct ktls_conn_stats st;
		const char *why = NULL;
		world_ctx(&w, su, 0, false, false, true);
		if (world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL) ||
		    ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r)) {
			OK(0, "%s %s %s (handshake or ktls_enable failed)", v, su->name, cn[c]);
			ktls_conn_free(kc);
			world_free(&w);
			continue;
		}
		set_blocking(w.cfd);
		if (!ku_exchange(kc, &w.s, 0, false))
			why = "data before the KeyUpdate";
		else if (c < 2) {
			/* The KeyUpdate and the data behind it leave together. */
			SSL_key_update(w.s.ssl, c == 0 ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED);
			if (tp_write(&w.s, stream_buf + KU_LEN * 2, KU_LEN) != KU_LEN)
				why = "peer write";
			else if (rekey) {
				static uint8_t in[KU_LEN];
				if (krecv_all(kc, in, KU_LEN) != KU_LEN || memcmp(in, stream_buf + KU_LEN * 2, KU_LEN))
					why = "data right behind the KeyUpdate";
				else if (!ku_exchange(kc, &w.s, KU_LEN * 3, false))
					why = "data both ways under the new keys";
				ktls_conn_stats(kc, &st);
				if (!why && (st.key_updates_rx != 1 || st.key_updates_tx != (c == 0 ? 1u : 0u)))
					why = "KeyUpdate counters";
			} else {
				ssize_t n = ktls_recv(kc, b, sizeof(b), 0);
				if (n != KTLS_E_REKEY_UNSUPPORTED || ktls_recv(kc, b, sizeof(b), 0) != KTLS_E_REKEY_UNSUPPORTED)
					why = "no KTLS_E_REKEY_UNSUPPORTED (sticky)";
				else if (tp_read(&w.s, b, sizeof(b)) != 0)
					why = "the peer got no close_notify";
			}
		} else {
			int rc = ktls_key_update(kc, true);
			if (rekey) {
				if (rc != 0)
					why = "ktls_key_update failed";
				else if (!ku_exchange(kc, &w.s, KU_LEN * 2, true))
					why = "data both ways under the new keys";
				ktls_conn_stats(kc, &st);
				if (!why && (st.key_updates_tx != 1 || st.key_updates_rx != 1))
					why = "KeyUpdate counters (ours, and the peer's requested answer)";
			} else if (rc != KTLS_E_REKEY_UNSUPPORTED) {
				why = "no KTLS_E_REKEY_UNSUPPORTED";
			} else if (!ku_exchange(kc, &w.s, KU_LEN * 2, true)) {
				why = "the connection did not go on under the old keys";
			}
		}
		OK(!why, "%s %s %s (%s%s%s)", v, su->name, cn[c],
		   rekey ? "rekey: data verified before and after" : "no rekey: specific error, clean close",
		   why ? "; FAILED: " : "", why ? why : "");
		ktls_conn_free(kc);
		world_free(&w);
	}
}

int main(void)
{
	struct ktls_probe pr;

	if (ktls_probe(&pr) || !pr.ulp_available)
		tap_skip_all("this kernel has no kTLS (the tls ULP): run it in the VM (scripts/vm.sh)");
	rekey = pr.rekey;
	tap_diag("kernel %s, rekey %s", pr.kernel, rekey ? "yes" : "no");
	stream_buf = malloc(STREAM);
	for (size_t i = 0; i < STREAM; i++)
		stream_buf[i] = (uint8_t)(i * 131 + (i >> 11));
	size_t n;
	const struct suite *su = world_suites(&n);
	for (size_t i = 0; i < n; i++) {
		if (!world_offloaded(&pr, &su[i])) {
			/* ARIA needs the kernel's aria cipher: Debian's cloud kernels lack it. */
			tap_diag("%s %s: this kernel does not offload it (ktls probe); not tested here",
				 su[i].version == TLS1_3_VERSION ? "1.3" : "1.2", su[i].name);
			continue;
		}
		run_suite(&su[i]);
	}
	free(stream_buf);
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

/* VM test: libktls against the real kernel, TLS 1.2/1.3 x every cipher the
 * kernel offloads x case. Each result line names version, cipher and case
 * ("1.3 aes128gcm ours-server data"), so tests/ktls/libktls.t can print the
 * matrix per kernel. The peer is plain OpenSSL in userspace (or our own kTLS
 * for "both"); data is compared by SHA-256.
 *
 * Budget: TCG crypto runs ~19 MB/s, so each direction moves 1 MiB only in
 * the "data" case (write sizes cycling 1 B, 1000 B, 16 KiB, 64 KiB) and a
 * few bytes elsewhere.
 */
#define KTLS_WORLD_NO_EMU
#include "tests/ktls_world.h"
#include "tests/tap.h"

#include <pthread.h>

#include <openssl/evp.h>

static const struct suite suites[] = {
	{ TLS1_2_VERSION, "aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ TLS1_2_VERSION, "aes256gcm", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ TLS1_2_VERSION, "chacha20", "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ TLS1_2_VERSION, "aes128ccm", "ECDHE-ECDSA-AES128-CCM" },
	{ TLS1_2_VERSION, "aria128gcm", "ECDHE-ECDSA-ARIA128-GCM-SHA256" },
	{ TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" },
	{ TLS1_3_VERSION, "aes256gcm", "TLS_AES_256_GCM_SHA384" },
	{ TLS1_3_VERSION, "chacha20", "TLS_CHACHA20_POLY1305_SHA256" },
	{ TLS1_3_VERSION, "aes128ccm", "TLS_AES_128_CCM_SHA256" },
};

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
			struct ktls_conn *k = ks ? ks : kc;
			OK(ktls_close(k) == 0, "%s %s %s close_notify sent", v, su->name, rn[role]);
			if (role == 2)
				OK(ktls_recv(kc, b, sizeof(b), 0) == 0, "%s %s %s close_notify received", v, su->name, rn[role]);
			else
				OK(tp_read(os ? &w.c : &w.s, b, sizeof(b)) == 0, "%s %s %s close_notify received", v,
				   su->name, rn[role]);
		}
		ktls_conn_free(ks);
		ktls_conn_free(kc);
		world_free(&w);
	}

	/* Tickets off, resumption, HelloRetryRequest: our server, data right
	 * behind the client's Finished read greedily and drained. */
	for (int c = 0; c < (t13 ? 3 : 2); c++) {
		static const char *cn[] = { "tickets0", "resumed", "hrr" };
		struct ktls_conn *ks = NULL;
		SSL_SESSION *sess = NULL;
		if (world_ctx(&w, su, c == 0 ? 0 : 2, c == 2, true, false))
			continue;
		if (c == 1) {
			world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL);
			tp_poll_read(&w.c);
			sess = t13 ? saved : SSL_get1_session(w.c.ssl);
			saved = t13 ? NULL : saved;
			SSL_set_shutdown(w.c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
			SSL_set_shutdown(w.s.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
			tp_end_free(&w.c);
			tp_end_free(&w.s);
			close(w.cfd);
			close(w.sfd);
		}
		int hs = world_connect(&w, t13 ? PUMP_GREEDY : PUMP_EXACT, PUMP_SOCKET, sess, t13 ? "early" : NULL);
		SSL_SESSION_free(sess);
		int rc = hs ? -1 : ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &ks, &r);
		bool ok = rc == 0 && (!t13 || (r.rx_len == 5 && !memcmp(r.rx_data, "early", 5)));
		if (ok) {
			set_blocking(w.sfd);
			ok = tp_write(&w.c, "ping", 4) == 4 && ktls_recv(ks, b, 4, MSG_WAITALL) == 4 &&
			     ktls_send(ks, "pong", 4, 0) == 4 && peer_read_all(&w.c, b, 4) == 4 && !memcmp(b, "pong", 4);
		}
		OK(ok && (c != 1 || SSL_session_reused(w.c.ssl)), "%s %s %s data behind Finished (%s, drained %zu)", v,
		   su->name, cn[c], ktls_errname(rc), r.rx_len);
		free(r.rx_data);
		ktls_conn_free(ks);
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
		OK(got == KTLS_E_DECRYPT && tls_stat("TlsDecryptError") > before, "%s %s tamper decrypt-error (%s)", v,
		   su->name, ktls_errname((int)got));
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
		usleep(20000);
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
		world_ctx(&w, su, 0, false, false, true);
		world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL);
		ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &r);
		set_blocking(w.cfd);
		bool ok = tp_write(&w.s, "before", 6) == 6 && ktls_recv(kc, b, 6, MSG_WAITALL) == 6 &&
			  ktls_send(kc, "mine-1", 6, 0) == 6 && peer_read_all(&w.s, b, 6) == 6;
		if (c < 2) {
			SSL_key_update(w.s.ssl, c == 0 ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED);
			tp_write(&w.s, "after!", 6);
			ssize_t n = ktls_recv(kc, b, 6, MSG_WAITALL);
			if (rekey)
				ok = ok && n == 6 && !memcmp(b, "after!", 6) && ktls_send(kc, "mine-2", 6, 0) == 6 &&
				     peer_read_all(&w.s, b, 6) == 6 && !memcmp(b, "mine-2", 6);
			else
				ok = ok && n == KTLS_E_REKEY_UNSUPPORTED && tp_read(&w.s, b, 6) == 0;
		} else {
			int rc = ktls_key_update(kc, true);
			if (rekey)
				ok = ok && rc == 0 && ktls_send(kc, "mine-2", 6, 0) == 6 && peer_read_all(&w.s, b, 6) == 6 &&
				     tp_write(&w.s, "reply!", 6) == 6 && ktls_recv(kc, b, 6, MSG_WAITALL) == 6 &&
				     !memcmp(b, "reply!", 6);
			else
				ok = ok && rc == KTLS_E_REKEY_UNSUPPORTED && ktls_send(kc, "still", 5, 0) == 5 &&
				     peer_read_all(&w.s, b, 5) == 5;
		}
		OK(ok, "%s %s %s (%s)", v, su->name, cn[c], rekey ? "rekey" : "no rekey: specific error, clean close");
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
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		bool offloaded = false;
		for (size_t j = 0; j < pr.n_ciphers; j++)
			if (pr.ciphers[j].version == suites[i].version && pr.ciphers[j].tx && pr.ciphers[j].rx &&
			    !strcmp(suites[i].name, (const char *[]){ "aes128gcm", "aes256gcm", "chacha20", "aes128ccm",
								       "aria128gcm", "aria256gcm" }[pr.ciphers[j].cipher]))
				offloaded = true;
		if (!offloaded) {
			/* ARIA needs the kernel's aria module: not every build has it. */
			tap_diag("%s %s: this kernel does not offload it (ktls probe); not tested here",
				 suites[i].version == TLS1_3_VERSION ? "1.3" : "1.2", suites[i].name);
			continue;
		}
		run_suite(&suites[i]);
	}
	free(stream_buf);
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

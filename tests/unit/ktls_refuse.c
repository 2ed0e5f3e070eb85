/* Unit tests: every refusal of ktls_enable() (each with its own code, and
 * the SSL still usable in userspace after it), the drain of records OpenSSL
 * already holds, and a partial record refusing RX but not TX. Real OpenSSL
 * handshakes; the kernel is tests/ktls_emu.h except where noted.
 */
#include "tests/ktls_world.h"
#include "tests/tap.h"

static const struct suite s13 = { TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" };
static const struct suite s12 = { TLS1_2_VERSION, "aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256" };

/* A finished handshake on a fresh world; our server reads record-exactly. */
static int setup(struct world *w, const struct suite *su, enum pump_mode sm, const char *client_data)
{
	nst_count = nst_sent = 0;
	if (world_ctx(w, su, 2, false, true, true))
		return -1;
	return world_connect(w, sm, PUMP_SOCKET, NULL, client_data);
}

/* Userspace still works both ways after a refusal. */
static bool still_userspace(struct world *w)
{
	char b[8];
	return tp_write(&w->s, "abc", 3) == 3 && tp_read(&w->c, b, sizeof(b)) == 3 &&
	       tp_write(&w->c, "def", 3) == 3 && tp_read(&w->s, b, sizeof(b)) == 3 && !memcmp(b, "def", 3);
}

static void expect_refusal(const char *what, struct world *w, SSL *ssl, int fd, unsigned dirs, int code)
{
	struct ktls_conn *c = NULL;
	struct ktls_report r;
	unsigned calls = emu.setsockopt_calls;
	int rc = ktls_enable(ssl, fd, dirs, &c, &r);

	OK(rc == code, "%s: %s (got %s)", what, ktls_errname(code), ktls_errname(rc));
	OK(c == NULL && r.dirs == 0, "%s: nothing installed", what);
	OK(emu.setsockopt_calls - calls <= 1, "%s: no key reached the socket", what);
	if (w)
		OK(still_userspace(w), "%s: the session goes on in userspace", what);
	free(r.rx_data);
	ktls_conn_free(c);
}

static void refusals(void)
{
	struct world w;
	struct ktls_conn *c = NULL;
	struct ktls_report r;

	/* Handshake not done. */
	world_ctx(&w, &s13, 2, false, true, true);
	tp_tcp_pair(&w.cfd, &w.sfd);
	tp_end_init(&w.c, w.cctx, w.cfd, PUMP_SOCKET, false);
	tp_end_init(&w.s, w.sctx, w.sfd, PUMP_SOCKET, true);
	expect_refusal("before the handshake", NULL, w.c.ssl, w.cfd, KTLS_TX, KTLS_E_HANDSHAKE_INCOMPLETE);
	world_free(&w);

	/* Not a TCP socket; bad arguments. */
	setup(&w, &s13, PUMP_SOCKET, NULL);
	int p[2];
	if (pipe(p) == 0) {
		expect_refusal("a pipe", NULL, w.c.ssl, p[0], KTLS_TX, KTLS_E_NOT_SOCKET);
		close(p[0]);
		close(p[1]);
	}
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	expect_refusal("a UDP socket", NULL, w.c.ssl, u, KTLS_TX, KTLS_E_NOT_SOCKET);
	close(u);
	EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, 0, &c, &r), -EINVAL);
	EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, 4, &c, &r), -EINVAL);
	EXPECT_EQ(ktls_enable(NULL, w.cfd, KTLS_TX, &c, &r), -EINVAL);
	EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, KTLS_TX, &c, NULL), -EINVAL);

	/* No ULP (emulated), and the kernel refusing the cipher. */
	emu.no_ulp = true;
	expect_refusal("no tls ULP", &w, w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, KTLS_E_NO_ULP);
	emu.no_ulp = false;
	emu.ulp_errno = ENOTCONN;   /* the kernel's answer once the peer closed */
	expect_refusal("connected socket no longer established", NULL, w.c.ssl, w.cfd, KTLS_TX, KTLS_E_PEER_CLOSED);
	emu.ulp_errno = 0;
	{
		int u = socket(AF_INET, SOCK_STREAM, 0);
		expect_refusal("a TCP socket never connected", NULL, w.c.ssl, u, KTLS_TX, KTLS_E_NOT_SOCKET);
		close(u);
	}
	emu.refuse_cipher = TLS_CIPHER_AES_GCM_128;
	{
		unsigned before = emu.setsockopt_calls;
		int rc = ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &c, &r);
		EXPECT_EQ(rc, KTLS_E_KERNEL_CIPHER);
		OK(c == NULL && r.dirs == 0 && emu.setsockopt_calls - before == 2,
		   "kernel refuses the cipher: ULP attached, first key refused, nothing installed");
	}
	emu.refuse_cipher = 0;
	world_free(&w);

	/* The real system calls on this host: no seam. */
	{
		FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");
		char line[256] = "";
		bool has_tls = f && fgets(line, sizeof(line), f) && strstr(line, "tls");
		if (f)
			fclose(f);
		setup(&w, &s13, PUMP_SOCKET, NULL);
		ktls_set_sockops(NULL, NULL);
		int rc = ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &c, &r);
		OK(has_tls ? rc == 0 : rc == KTLS_E_NO_ULP, "real kernel (%s tls ULP): %s", has_tls ? "with" : "no",
		   ktls_errname(rc));
		ktls_conn_free(c);
		c = NULL;
		free(r.rx_data);
		emu_install();
		world_free(&w);
	}

	/* Cipher without a kTLS form: TLS 1.2 CBC, TLS 1.3 CCM_8. */
	{
		const struct suite cbc = { TLS1_2_VERSION, "cbc", "ECDHE-ECDSA-AES128-SHA256" };
		const struct suite ccm8 = { TLS1_3_VERSION, "ccm8", "TLS_AES_128_CCM_8_SHA256" };
		setup(&w, &cbc, PUMP_SOCKET, NULL);
		expect_refusal("TLS 1.2 AES-CBC", &w, w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, KTLS_E_CIPHER_UNSUPPORTED);
		world_free(&w);
		/* CCM-8's 64-bit tag: OpenSSL 3.5 negotiates it only at security
		 * level 0 (3.0 at any) */
		nst_count = nst_sent = 0;
		if (world_ctx(&w, &ccm8, 2, false, true, true) == 0) {
			SSL_CTX_set_security_level(w.sctx, 0);
			SSL_CTX_set_security_level(w.cctx, 0);
			world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL);
		}
		expect_refusal("TLS 1.3 AES-128-CCM-8", &w, w.c.ssl, w.cfd, KTLS_TX | KTLS_RX,
			       KTLS_E_CIPHER_UNSUPPORTED);
		world_free(&w);
	}

	/* TLS 1.1. */
	{
		const struct suite t11 = { TLS1_1_VERSION, "tls11", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0" };
		if (setup(&w, &t11, PUMP_SOCKET, NULL) == 0)
			expect_refusal("TLS 1.1", &w, w.c.ssl, w.cfd, KTLS_TX, KTLS_E_VERSION);
		else
			OK(0, "TLS 1.1 handshake for the version refusal");
		world_free(&w);
	}

	/* SSL created before ktls_ctx_prepare(): no secrets captured. */
	world_ctx(&w, &s13, 2, false, false, false);
	tp_tcp_pair(&w.cfd, &w.sfd);
	tp_end_init(&w.c, w.cctx, w.cfd, PUMP_SOCKET, false);
	tp_end_init(&w.s, w.sctx, w.sfd, PUMP_SOCKET, true);
	ktls_ctx_prepare(w.cctx);
	tp_handshake(&w.c, &w.s, NULL);
	expect_refusal("SSL made before ktls_ctx_prepare", &w, w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, KTLS_E_NO_SECRETS);
	world_free(&w);

	/* TLS 1.2 renegotiation pending. */
	setup(&w, &s12, PUMP_SOCKET, NULL);
	SSL_renegotiate(w.c.ssl);
	expect_refusal("renegotiation pending", NULL, w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, KTLS_E_RENEGOTIATION);
	world_free(&w);

	/* Unsent output in the memory write BIO (TX refused, RX fine), then
	 * TX after a flush. */
	setup(&w, &s13, PUMP_EXACT, NULL);
	SSL_write(w.s.ssl, "queued", 6); /* not pumped */
	expect_refusal("unsent output", NULL, w.s.ssl, w.sfd, KTLS_TX, KTLS_E_UNSENT_DATA);
	{
		struct ktls_conn *k = NULL;
		char b[8];
		EXPECT_EQ(ktls_enable(w.s.ssl, w.sfd, KTLS_RX, &k, &r), 0);
		EXPECT_EQ(ktls_enable(w.s.ssl, w.sfd, KTLS_RX, &k, &r), KTLS_E_ALREADY);
		EXPECT_EQ(ktls_send(k, "x", 1, 0), KTLS_E_NOT_OFFLOADED);
		EXPECT_EQ(ktls_close(k), KTLS_E_NOT_OFFLOADED);
		tp_pump(&w.s);
		EXPECT_EQ(ktls_enable(w.s.ssl, w.sfd, KTLS_TX, &k, &r), 0);
		EXPECT_EQ(r.dirs, KTLS_TX | KTLS_RX);
		EXPECT_EQ(r.tx_seq, 3); /* two tickets and the queued record */
		OK(peer_read_all(&w.c, b, 6) == 6 && !memcmp(b, "queued", 6) && ktls_send(k, "later", 5, 0) == 5 &&
		   peer_read_all(&w.c, b, 5) == 5 && !memcmp(b, "later", 5), "TX added later carries on the sequence");
		struct ktls_conn *other = NULL;
		EXPECT_EQ(ktls_enable(w.s.ssl, w.cfd, KTLS_TX, &k, &r), -EINVAL); /* another fd */
		(void)other;
		ktls_conn_free(k);
	}
	world_free(&w);

	/* A KeyUpdate queued in OpenSSL but not sent; after sending it, the new
	 * generation is what goes to the kernel. */
	setup(&w, &s13, PUMP_SOCKET, NULL);
	SSL_key_update(w.c.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
	expect_refusal("KeyUpdate queued", NULL, w.c.ssl, w.cfd, KTLS_TX, KTLS_E_USERSPACE_KEY_UPDATE);
	SSL_do_handshake(w.c.ssl);
	{
		struct ktls_conn *k = NULL;
		char b[8];
		EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &k, &r), 0);
		EXPECT_EQ(r.tx_seq, 0);
		OK(ktls_send(k, "gen1", 4, 0) == 4 && peer_read_all(&w.s, b, 4) == 4 && !memcmp(b, "gen1", 4),
		   "TX follows a KeyUpdate OpenSSL sent before offload");
		ktls_conn_free(k);
	}
	world_free(&w);

	/* The peer's KeyUpdate, processed by OpenSSL before offload. */
	setup(&w, &s13, PUMP_SOCKET, NULL);
	SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
	tp_write(&w.s, "one", 3);
	{
		struct ktls_conn *k = NULL;
		char b[8];
		OK(tp_read(&w.c, b, 3) == 3, "client reads under the peer's second key in userspace");
		EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &k, &r), 0);
		EXPECT_EQ(r.rx_seq, 1);
		OK(tp_write(&w.s, "two", 3) == 3 && krecv_all(k, b, 3) == 3 && !memcmp(b, "two", 3),
		   "RX follows a peer KeyUpdate OpenSSL processed before offload");
		ktls_conn_free(k);
	}
	world_free(&w);
}

/* Records the server read past its Finished come back as plaintext. */
static void drain(void)
{
	static const char early[] = "GET /bytes/16 HTTP/1.1\r\n\r\n";
	const struct suite *ss[] = { &s13, &s12 };

	for (int i = 0; i < 2; i++) {
		struct world w;
		struct ktls_conn *k = NULL;
		struct ktls_report r;
		const char *v = ss[i]->version == TLS1_3_VERSION ? "1.3" : "1.2";
		char b[32];

		/* TLS 1.3: the client's data goes right behind its Finished and a
		 * greedy server reads both. TLS 1.2 (the server's Finished comes
		 * last): the server reads greedily once the handshake is done. */
		SSL_SESSION *sess = NULL;
		if (ss[i]->version == TLS1_2_VERSION) {
			if (setup(&w, ss[i], PUMP_EXACT, NULL) || tp_write(&w.c, early, (int)strlen(early)) <= 0) {
				OK(0, "%s drain: handshake", v);
				world_free(&w);
				continue;
			}
			w.s.mode = PUMP_GREEDY;
			for (int t = 0; t < 100 && BIO_ctrl_pending(w.s.rb) == 0; t++) {
				usleep(1000);
				tp_pump(&w.s);
			}
		} else if (setup(&w, ss[i], PUMP_GREEDY, early)) {
			OK(0, "%s drain: handshake", v);
			world_free(&w);
			continue;
		}
		if (sess)
			OK(SSL_session_reused(w.c.ssl), "%s: resumed", v);
		/* The greedy read took the data record into OpenSSL's read BIO. */
		OK(BIO_ctrl_pending(w.s.rb) > 0, "%s: a record sits behind Finished in the read BIO", v);
		int rc = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &k, &r);
		EXPECT_EQ(rc, 0);
		OK(r.rx_len == strlen(early) && r.rx_data && !memcmp(r.rx_data, early, r.rx_len),
		   "%s: drained plaintext handed over (%zu bytes)", v, r.rx_len);
		EXPECT_EQ(r.rx_seq, ss[i]->version == TLS1_3_VERSION ? 1 : 2); /* 1.2: Finished + data */
		OK(tp_write(&w.c, "next", 4) == 4 && krecv_all(k, b, 4) == 4 && !memcmp(b, "next", 4),
		   "%s: the next record comes through kernel RX", v);
		free(r.rx_data);
		ktls_conn_free(k);
		world_free(&w);
		SSL_SESSION_free(sess);
	}

	/* Plaintext already decrypted but not read (SSL_pending) on a socket BIO. */
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r;
	char b[8];
	setup(&w, &s13, PUMP_SOCKET, NULL);
	tp_write(&w.s, "0123456789", 10);
	OK(tp_read(&w.c, b, 4) == 4, "client read 4 of 10 bytes");
	OK(SSL_pending(w.c.ssl) == 6, "6 bytes decrypted and pending");
	EXPECT_EQ(ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &k, &r), 0);
	OK(r.rx_len == 6 && !memcmp(r.rx_data, "456789", 6), "pending plaintext handed over");
	OK(tp_write(&w.s, "after", 5) == 5 && krecv_all(k, b, 5) == 5 && !memcmp(b, "after", 5),
	   "kernel RX goes on after the pending plaintext");
	free(r.rx_data);
	ktls_conn_free(k);
	world_free(&w);
}

/* Part of a record consumed: RX refused, TX still possible. */
static void partial(void)
{
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r;
	uint8_t raw[256];
	ssize_t n = 0;
	char b[8];

	setup(&w, &s13, PUMP_EXACT, NULL);
	tp_write(&w.c, "partial!", 8);
	for (int i = 0; i < 200 && n <= 0; i++) {
		n = recv(w.sfd, raw, sizeof(raw), 0);
		if (n <= 0)
			usleep(1000);
	}
	OK(n > 10, "the data record arrived (%zd bytes)", n);
	BIO_write(w.s.rb, raw, 7); /* a header and 2 bytes of body */
	expect_refusal("partial record in the read BIO", NULL, w.s.ssl, w.sfd, KTLS_RX, KTLS_E_PARTIAL_RECORD);
	EXPECT_EQ(ktls_enable(w.s.ssl, w.sfd, KTLS_TX, &k, &r), 0);
	OK(ktls_send(k, "tx-ok", 5, 0) == 5 && peer_read_all(&w.c, b, 5) == 5 && !memcmp(b, "tx-ok", 5),
	   "TX offloaded despite the partial record");
	ktls_conn_free(k);
	world_free(&w);

	/* Same inside OpenSSL: it consumed a header and waits for the body. */
	k = NULL;
	n = 0;
	setup(&w, &s13, PUMP_EXACT, NULL);
	tp_write(&w.c, "partial!", 8);
	for (int i = 0; i < 200 && n <= 0; i++) {
		n = recv(w.sfd, raw, sizeof(raw), 0);
		if (n <= 0)
			usleep(1000);
	}
	BIO_write(w.s.rb, raw, 7);
	OK(SSL_read(w.s.ssl, b, sizeof(b)) <= 0, "OpenSSL waits for the rest of the record");
	expect_refusal("OpenSSL mid-record", NULL, w.s.ssl, w.sfd, KTLS_RX, KTLS_E_PARTIAL_RECORD);
	world_free(&w);
}

int main(void)
{
	emu_install();
	refusals();
	drain();
	partial();
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

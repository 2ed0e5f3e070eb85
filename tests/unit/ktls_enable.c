/* Unit tests: ktls_enable() with real OpenSSL handshakes, no kernel needed.
 *
 * The socket seam is replaced by tests/ktls_emu.h, a userspace record layer
 * that encrypts/decrypts with exactly what libktls installs. The oracle is
 * always a plain OpenSSL peer: it must decrypt what our side sends and ours
 * must decrypt what it sends, so wrong keys, IVs or sequence numbers fail.
 * Matrix: TLS 1.2 / 1.3 x every cipher x {our server, our client, both} x
 * {2 tickets, 0 tickets, resumed, HelloRetryRequest}.
 */
#include "tests/ktls_world.h"
#include "tests/tap.h"

static const struct suite suites[] = {
	{ TLS1_2_VERSION, "aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ TLS1_2_VERSION, "aes256gcm", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ TLS1_2_VERSION, "chacha20", "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ TLS1_2_VERSION, "aes128ccm", "ECDHE-ECDSA-AES128-CCM" },
	{ TLS1_2_VERSION, "aria128gcm", "ECDHE-ECDSA-ARIA128-GCM-SHA256" },
	{ TLS1_2_VERSION, "aria256gcm", "ECDHE-ECDSA-ARIA256-GCM-SHA384" },
	{ TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" },
	{ TLS1_3_VERSION, "aes256gcm", "TLS_AES_256_GCM_SHA384" },
	{ TLS1_3_VERSION, "chacha20", "TLS_CHACHA20_POLY1305_SHA256" },
	{ TLS1_3_VERSION, "aes128ccm", "TLS_AES_128_CCM_SHA256" },
};

enum role { OURS_SERVER, OURS_CLIENT, BOTH };
enum variant { V_TICKETS2, V_TICKETS0, V_RESUMED, V_HRR };
static const char *role_names[] = { "ours-server", "ours-client", "both-ktls" };
static const char *variant_names[] = { "tickets2", "tickets0", "resumed", "hrr" };

#define BIG (100 * 1024)
static uint8_t big_out[BIG], big_in[BIG];

/* Data both ways between an offloaded end and a userspace peer. */
static void exchange_user(const char *tag, struct ktls_conn *k, struct tend *peer, int idx)
{
	char buf[64];
	fill(big_out, BIG, (unsigned)idx);
	OK(tp_write(peer, "from-peer", 9) == 9 && krecv_all(k, buf, 9) == 9 && !memcmp(buf, "from-peer", 9),
	   "%s: peer -> kTLS", tag);
	OK(ktls_send(k, "from-ktls", 9, 0) == 9 && peer_read_all(peer, buf, 9) == 9 && !memcmp(buf, "from-ktls", 9),
	   "%s: kTLS -> peer", tag);
	OK(ktls_send(k, big_out, BIG, 0) == BIG && peer_read_all(peer, big_in, BIG) == BIG &&
	   !memcmp(big_in, big_out, BIG), "%s: 100 KiB kTLS -> peer", tag);
	OK(tp_write(peer, big_out, BIG) == BIG && krecv_all(k, big_in, BIG) == BIG && !memcmp(big_in, big_out, BIG),
	   "%s: 100 KiB peer -> kTLS", tag);
}

static void run_case(const struct suite *su, enum role role, enum variant v, int idx)
{
	char tag[128];
	struct world w;
	struct ktls_conn *ks = NULL, *kc = NULL;
	struct ktls_report rs, rc;
	bool t13 = su->version == TLS1_3_VERSION;
	bool ours_s = role != OURS_CLIENT, ours_c = role != OURS_SERVER;
	int tickets = v == V_TICKETS0 ? 0 : 2;
	SSL_SESSION *resume = NULL;

	snprintf(tag, sizeof(tag), "%s %s %s %s", t13 ? "1.3" : "1.2", su->name, role_names[role],
		 variant_names[v]);
	if (v == V_RESUMED) {
		/* A first, plain connection gives the session to resume. */
		if (world_ctx(&w, su, tickets, false, ours_s, ours_c) ||
		    world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL)) {
			OK(0, "%s: first handshake", tag);
			world_free(&w);
			return;
		}
		tp_poll_read(&w.c);
		resume = t13 ? saved : SSL_get1_session(w.c.ssl);
		if (t13)
			saved = NULL;
		/* A clean end keeps the session resumable; keep the contexts:
		 * the server's ticket keys and session cache live there. */
		SSL_set_shutdown(w.c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_set_shutdown(w.s.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		tp_end_free(&w.c);
		tp_end_free(&w.s);
		close(w.cfd);
		close(w.sfd);
		w.cfd = w.sfd = -1;
	} else if (world_ctx(&w, su, tickets, v == V_HRR, ours_s, ours_c)) {
		OK(0, "%s: contexts", tag);
		world_free(&w);
		return;
	}
	nst_count = nst_sent = 0;
	/* Our server reads record-exactly through memory BIOs, like ktls-server. */
	int hs = world_connect(&w, ours_s ? PUMP_EXACT : PUMP_SOCKET, PUMP_SOCKET, resume, NULL);
	SSL_SESSION_free(resume);
	if (hs) {
		OK(0, "%s: handshake", tag);
		world_free(&w);
		return;
	}
	if (v == V_RESUMED)
		OK(SSL_session_reused(w.c.ssl), "%s: session resumed", tag);
	if (v == V_HRR)
		OK(SSL_get_negotiated_group(w.s.ssl) == NID_X9_62_prime256v1,
		   "%s: P-256 after a HelloRetryRequest (client offered an X25519 share first)", tag);

	int erc_s = 0, erc_c = 0;
	if (ours_s)
		erc_s = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &ks, &rs);
	if (ours_c)
		erc_c = ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &kc, &rc);
	OK(erc_s == 0 && erc_c == 0, "%s: ktls_enable (%s / %s)", tag, ktls_errname(erc_s), ktls_errname(erc_c));
	if (erc_s || erc_c)
		goto out;
	if (ours_s) {
		EXPECT_EQ(rs.dirs, KTLS_TX | KTLS_RX);
		EXPECT_EQ(rs.rx_len, 0);
		EXPECT_EQ(rs.rx_seq, t13 ? 0 : 1);
	}
	if (ours_c) {
		EXPECT_EQ(rc.tx_seq, t13 ? 0 : 1);
		EXPECT_EQ(rc.rx_seq, t13 ? 0 : 1); /* tickets not read yet: the kernel gets them */
	}
	if (role == OURS_SERVER) {
		exchange_user(tag, ks, &w.c, idx);
		/* The peer counted the tickets it decrypted before our data. */
		EXPECT_EQ(rs.tx_seq, t13 ? (uint64_t)nst_count : 1);
		if (t13 && v != V_RESUMED)
			EXPECT_EQ(nst_count, tickets);
	} else if (role == OURS_CLIENT) {
		exchange_user(tag, kc, &w.s, idx);
		struct ktls_conn_stats st;
		ktls_conn_stats(kc, &st);
		OK(st.tickets == (t13 ? (uint64_t)nst_sent : 0), "%s: every TLS 1.3 NewSessionTicket the peer sent (%d) came "
		   "through kTLS RX and was dropped (%llu)", tag, nst_sent, (unsigned long long)st.tickets);
		if (t13 && v != V_RESUMED)
			EXPECT_EQ(nst_sent, tickets);
	} else {
		char buf[16];
		fill(big_out, BIG, (unsigned)idx);
		OK(ktls_send(ks, "s2c", 3, 0) == 3 && krecv_all(kc, buf, 3) == 3 && !memcmp(buf, "s2c", 3),
		   "%s: server -> client", tag);
		OK(ktls_send(kc, big_out, BIG, 0) == BIG && krecv_all(ks, big_in, BIG) == BIG &&
		   !memcmp(big_in, big_out, BIG), "%s: 100 KiB client -> server", tag);
		struct emu_sock *es = emu_sock(w.sfd, false), *ec = emu_sock(w.cfd, false);
		OK(es && ec && es->tx.raw_len == ec->rx.raw_len &&
		   !memcmp(es->tx.raw, ec->rx.raw, es->tx.raw_len - 8) &&
		   !memcmp(ec->tx.raw, es->rx.raw, ec->tx.raw_len - 8),
		   "%s: server TX key/salt/iv = client RX key/salt/iv", tag);
		struct ktls_conn_stats st;
		ktls_conn_stats(kc, &st);
		/* Our server counted the tickets it wrote; our client received them. */
		EXPECT_EQ(rs.tx_seq, t13 ? st.tickets : 1);
	}
	/* close_notify each way */
	if (role == BOTH) {
		char b[4];
		OK(ktls_close(ks) == 0 && krecv_all(kc, b, 4) == 0, "%s: close_notify server -> client", tag);
		OK(ktls_close(kc) == 0 && krecv_all(ks, b, 4) == 0, "%s: close_notify client -> server", tag);
	} else {
		struct ktls_conn *k = ours_s ? ks : kc;
		struct tend *peer = ours_s ? &w.c : &w.s;
		char b[4];
		OK(ktls_close(k) == 0 && tp_read(peer, b, 4) == 0, "%s: close_notify kTLS -> peer", tag);
		SSL_shutdown(peer->ssl);
		tp_pump(peer);
		OK(krecv_all(k, b, 4) == 0, "%s: close_notify peer -> kTLS (EOF)", tag);
		EXPECT_EQ(ktls_send(k, "x", 1, 0), KTLS_E_CLOSED);
	}
out:
	ktls_conn_free(ks);
	ktls_conn_free(kc);
	free(rs.rx_data);
	free(rc.rx_data);
	world_free(&w);
}

int main(void)
{
	emu_install();
	int idx = 0;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		for (int r = OURS_SERVER; r <= BOTH; r++)
			for (int v = V_TICKETS2; v <= V_HRR; v++) {
				if (v == V_HRR && suites[i].version != TLS1_3_VERSION)
					continue;
				if (suites[i].version == TLS1_2_VERSION && v == V_TICKETS0)
					continue; /* TLS 1.2 tickets change nothing after Finished */
				emu.rekey = false;
				run_case(&suites[i], (enum role)r, (enum variant)v, idx++);
			}
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

/* Unit tests: ktls_recv/ktls_send/ktls_close/ktls_key_update against plain
 * OpenSSL peers through the emulated kernel (tests/ktls_emu.h): alerts by
 * name, a tampered record, KeyUpdate with and without update_requested and
 * one we start (kernel with and without rekey), control records split over
 * tiny reads, EOF without close_notify, EOF in the middle of a record.
 */
#include "tests/ktls_world.h"
#include "tests/tap.h"

static const struct suite s13 = { TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" };
static const struct suite s12 = { TLS1_2_VERSION, "aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256" };
static const struct suite s13c = { TLS1_3_VERSION, "chacha20", "TLS_CHACHA20_POLY1305_SHA256" };

/* Our client (kTLS both ways) against a userspace server; the server side
 * is a memory-BIO end so the test can tamper with its output. */
static struct ktls_conn *start(struct world *w, const struct suite *su, enum pump_mode sm)
{
	struct ktls_conn *k = NULL;
	struct ktls_report r;

	nst_count = nst_sent = 0;
	if (world_ctx(w, su, 2, false, false, true) || world_connect(w, sm, PUMP_SOCKET, NULL, NULL))
		return NULL;
	if (ktls_enable(w->c.ssl, w->cfd, KTLS_TX | KTLS_RX, &k, &r))
		return NULL;
	free(r.rx_data);
	return k;
}

static void alerts(void)
{
	struct world w;
	struct ktls_conn *a = NULL, *b = NULL;
	struct ktls_report r;
	char buf[16];

	/* Both ends kTLS: one sends a fatal alert, the other names it. */
	world_ctx(&w, &s13, 0, false, true, true);
	world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL);
	OK(ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &a, &r) == 0 &&
	   ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &b, &r) == 0, "both ends offloaded");
	const uint8_t hf[2] = { 2, 40 };
	EXPECT_EQ(ktls_send_record(a, 21, hf, 2), 0);
	EXPECT_EQ(krecv_all(b, buf, sizeof(buf)), KTLS_E_ALERT);
	EXPECT_EQ(ktls_conn_alert(b), 40);
	EXPECT_STREQ(ktls_alert_name(ktls_conn_alert(b)), "handshake_failure");
	EXPECT_EQ(ktls_recv(b, buf, sizeof(buf), 0), KTLS_E_ALERT); /* sticky */
	EXPECT_EQ(ktls_send_record(a, 99, hf, 2), -EINVAL);
	ktls_conn_free(a);
	ktls_conn_free(b);
	world_free(&w);

	/* An alert split over two one-byte reads, then close_notify. */
	a = b = NULL;
	world_ctx(&w, &s13, 0, false, true, true);
	world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL);
	ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &a, &r);
	ktls_enable(w.c.ssl, w.cfd, KTLS_TX | KTLS_RX, &b, &r);
	const uint8_t uc[2] = { 1, 90 }; /* user_canceled: a warning */
	ktls_send_record(a, 21, uc, 2);
	ktls_send(a, "Z", 1, 0);
	OK(krecv_all(b, buf, 1) == 1 && buf[0] == 'Z', "user_canceled skipped, data after it read");
	ktls_close(a);
	EXPECT_EQ(ktls_close(a), 0); /* once */
	EXPECT_EQ(krecv_all(b, buf, 1), 0);
	EXPECT_EQ(ktls_recv(b, buf, 1, 0), 0);
	ktls_conn_free(a);
	ktls_conn_free(b);
	world_free(&w);
}

/* Flip one ciphertext byte of a record the userspace server writes. */
static void tamper(void)
{
	struct world w;
	struct ktls_conn *k = start(&w, &s13, PUMP_EXACT);
	char buf[64], raw[256];

	OK(k != NULL, "tamper: offloaded client");
	if (!k) {
		world_free(&w);
		return;
	}
	SSL_write(w.s.ssl, "secret data", 11); /* into the write BIO, not pumped */
	int n = BIO_read(w.s.wb, raw, sizeof(raw));
	OK(n > 20, "tamper: record captured (%d bytes)", n);
	raw[n - 20] ^= 0x01;
	send(w.sfd, raw, (size_t)n, 0);
	EXPECT_EQ(krecv_all(k, buf, sizeof(buf)), KTLS_E_DECRYPT);
	/* We told the peer: bad_record_mac (the emulated kernel, like the real
	 * one, leaves the error on the socket, which blocks sending until read). */
	ERR_clear_error();
	OK(tp_read(&w.s, buf, sizeof(buf)) < 0 &&
	   ERR_GET_REASON(ERR_peek_last_error()) == SSL_AD_REASON_OFFSET + SSL_AD_BAD_RECORD_MAC,
	   "tamper: the peer got our bad_record_mac alert");
	ERR_clear_error();
	EXPECT_EQ(ktls_recv(k, buf, sizeof(buf), 0), KTLS_E_DECRYPT);
	ktls_conn_free(k);
	world_free(&w);
}

static void key_updates(const struct suite *su)
{
	struct world w;
	char buf[64], tag[64];
	struct ktls_conn_stats st;

	snprintf(tag, sizeof(tag), "1.3 %s", su->name);
	emu.rekey = true;
	/* Peer asks us to update too. */
	struct ktls_conn *k = start(&w, su, PUMP_SOCKET);
	OK(k != NULL, "%s: offloaded", tag);
	if (k) {
		SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_REQUESTED);
		OK(tp_write(&w.s, "after-ku", 8) == 8 && krecv_all(k, buf, 8) == 8 && !memcmp(buf, "after-ku", 8),
		   "%s: peer KeyUpdate(update_requested): data after it", tag);
		ktls_conn_stats(k, &st);
		EXPECT_EQ(st.key_updates_rx, 1);
		EXPECT_EQ(st.key_updates_tx, 1);
		OK(ktls_send(k, "answer", 6, 0) == 6 && peer_read_all(&w.s, buf, 6) == 6 && !memcmp(buf, "answer", 6),
		   "%s: our data under our new key", tag);
		/* Not requested. */
		SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
		OK(tp_write(&w.s, "second", 6) == 6 && krecv_all(k, buf, 6) == 6 && !memcmp(buf, "second", 6),
		   "%s: peer KeyUpdate(update_not_requested)", tag);
		ktls_conn_stats(k, &st);
		EXPECT_EQ(st.key_updates_rx, 2);
		EXPECT_EQ(st.key_updates_tx, 1);
		/* Ours, asking the peer. */
		EXPECT_EQ(ktls_key_update(k, true), 0);
		OK(ktls_send(k, "mine", 4, 0) == 4 && peer_read_all(&w.s, buf, 4) == 4 && !memcmp(buf, "mine", 4),
		   "%s: our KeyUpdate(update_requested), data after it", tag);
		OK(tp_write(&w.s, "reply", 5) == 5 && krecv_all(k, buf, 5) == 5 && !memcmp(buf, "reply", 5),
		   "%s: the peer answered with its KeyUpdate, data after it", tag);
		ktls_conn_stats(k, &st);
		EXPECT_EQ(st.key_updates_rx, 3);
		EXPECT_EQ(st.key_updates_tx, 2);
		/* Tickets split over one-byte reads survive too. */
		EXPECT_EQ(st.tickets, 2);
	}
	ktls_conn_free(k);
	world_free(&w);

	/* Too many KeyUpdates in a row. */
	k = start(&w, su, PUMP_SOCKET);
	if (k) {
		for (int i = 0; i < 40; i++) {
			SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
			SSL_do_handshake(w.s.ssl);
		}
		EXPECT_EQ(krecv_all(k, buf, sizeof(buf)), KTLS_E_KEY_UPDATE_LIMIT);
	}
	ktls_conn_free(k);
	world_free(&w);

	/* A kernel without rekey. */
	emu.rekey = false;
	k = start(&w, su, PUMP_SOCKET);
	if (k) {
		EXPECT_EQ(ktls_key_update(k, false), KTLS_E_REKEY_UNSUPPORTED);
		OK(ktls_send(k, "still", 5, 0) == 5 && peer_read_all(&w.s, buf, 5) == 5,
		   "%s no rekey: nothing was sent by the refused update", tag);
		SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
		tp_write(&w.s, "lost", 4);
		EXPECT_EQ(krecv_all(k, buf, sizeof(buf)), KTLS_E_REKEY_UNSUPPORTED);
		OK(tp_read(&w.s, buf, sizeof(buf)) == 0, "%s no rekey: the peer sees a clean close_notify", tag);
	}
	ktls_conn_free(k);
	world_free(&w);
}

static void tiny_reads(void)
{
	struct world w;
	struct ktls_conn *k = start(&w, &s13, PUMP_SOCKET);
	char out[8] = "";
	size_t got = 0;

	OK(k != NULL, "tiny reads: offloaded");
	if (!k)
		return;
	emu.rekey = true;
	SSL_key_update(w.s.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
	tp_write(&w.s, "abcdef", 6);
	for (int i = 0; i < 3000 && got < 6; i++) {
		ssize_t n = ktls_recv(k, out + got, 1, MSG_DONTWAIT);
		if (n == -EAGAIN) {
			usleep(500);
			continue;
		}
		if (n != 1)
			break;
		got++;
	}
	OK(got == 6 && !memcmp(out, "abcdef", 6), "tickets and a KeyUpdate read one byte at a time, then data");
	struct ktls_conn_stats st;
	ktls_conn_stats(k, &st);
	EXPECT_EQ(st.tickets, 2);
	EXPECT_EQ(st.key_updates_rx, 1);
	/* EOF without close_notify. */
	shutdown(w.sfd, SHUT_WR);
	EXPECT_EQ(krecv_all(k, out, 1), 0);
	ktls_conn_stats(k, &st);
	OK(st.unclean_eof, "TCP EOF without close_notify is flagged");
	EXPECT_EQ(ktls_recv(NULL, out, 1, 0), -EINVAL);
	ktls_conn_free(k);
	world_free(&w);
	emu.rekey = false;
}

/* EOF inside a record: KTLS_E_TRUNCATED; at a boundary: an unclean EOF. */
static void truncated(const struct suite *su)
{
	static const struct { long keep; const char *where; } cuts[] = {
		{ 3, "inside the header" }, { 15, "inside the body" }, { -1, "one byte short" },
	};
	const char *v = su->version == TLS1_3_VERSION ? "1.3" : "1.2";
	ssize_t first, r;
	bool unclean = false;

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		r = world_truncated(su, cuts[i].keep, &first, &unclean);
		EXPECT_EQ(first, 8);
		OK(r == KTLS_E_TRUNCATED && unclean, "%s EOF %s of a record: %s (want KTLS_E_TRUNCATED)", v,
		   cuts[i].where, ktls_errname((int)r));
	}
	r = world_truncated(su, 0, &first, &unclean);
	OK(first == 8 && r == 0 && unclean, "%s EOF at a record boundary: 0 (%s), unclean_eof set", v,
	   ktls_errname((int)r));
}

static void handshake_cb(struct ktls_conn *c, uint8_t type, const uint8_t *body, size_t len, void *arg)
{
	(void)c, (void)body;
	if (type == 4 && len > 8)
		(*(int *)arg)++;
}

static void ticket_callback(void)
{
	struct world w;
	struct ktls_conn *k = start(&w, &s13, PUMP_SOCKET);
	int seen = 0;
	char b[4];

	if (!k) {
		OK(0, "ticket callback: offloaded");
		return;
	}
	ktls_set_handshake_cb(k, handshake_cb, &seen);
	tp_write(&w.s, "t", 1);
	OK(krecv_all(k, b, 1) == 1 && b[0] == 't', "data after the tickets");
	EXPECT_EQ(seen, 2);
	ktls_conn_free(k);
	world_free(&w);
}

int main(void)
{
	emu_install();
	alerts();
	tamper();
	key_updates(&s13);
	key_updates(&s13c);
	tiny_reads();
	ticket_callback();
	truncated(&s13);
	truncated(&s12);
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

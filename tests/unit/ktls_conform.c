/* Unit tests: what libktls answers to records RFC 8446 forbids or that
 * only a conformance suite sends, through the emulated kernel
 * (tests/ktls_emu.h): a KeyUpdate with request_update 2 (illegal_parameter)
 * or a bad length (decode_error), two KeyUpdates in one record and empty
 * alert or handshake records (unexpected_message), an empty data record
 * (allowed: skipped), a KeyUpdate split over two records (followed, though
 * the kernel pauses after the first piece), the KeyUpdate limits, an answer
 * to update_requested that finds the send buffer full, a peer gone before
 * the switch, half a KeyUpdate read by OpenSSL before the switch, and
 * KeyUpdates OpenSSL handled before it. The sender is the client: its TX
 * is libktls's in the emulated kernel, so any record can be sealed with the
 * session's own keys (tests/tls13_craft.h); what it receives is read by
 * plain OpenSSL, which names the alerts.
 */
#include "tests/ktls_world.h"
#include "tests/tls13_craft.h"
#include "tests/tap.h"

static const struct suite s13 = { TLS1_3_VERSION, "aes128gcm", "TLS_AES_128_GCM_SHA256" };

struct bench {
	struct world w;
	struct ktls_conn *srv;         /* ours, under test: kTLS both ways */
	struct ktls_conn *cli;         /* the crafting client: kTLS TX only */
	struct emu_dir *tx;
};

static int bench_start(struct bench *b)
{
	struct ktls_report r;

	memset(b, 0, sizeof(*b));
	nst_count = nst_sent = 0;
	if (world_ctx(&b->w, &s13, 2, false, true, true) || world_connect(&b->w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL))
		return -1;
	if (ktls_enable(b->w.s.ssl, b->w.sfd, KTLS_TX | KTLS_RX, &b->srv, &r))
		return -1;
	free(r.rx_data);
	if (ktls_enable(b->w.c.ssl, b->w.cfd, KTLS_TX, &b->cli, &r))
		return -1;
	free(r.rx_data);
	b->tx = craft_tx(b->w.cfd);
	return b->tx ? 0 : -1;
}

static void bench_free(struct bench *b)
{
	ktls_conn_free(b->srv);
	ktls_conn_free(b->cli);
	world_free(&b->w);
}

/* Seal one record of `type` holding p[0..n) and send it. */
static int send_rec(struct bench *b, uint8_t type, const void *p, size_t n)
{
	uint8_t rec[CRAFT_MAX];
	int k = craft_record(b->tx, type, p, n, rec);
	return k < 0 ? -1 : craft_send(b->w.cfd, rec, (size_t)k);
}

/* A KeyUpdate from the client (then its TX uses the next key). */
static int send_ku(struct bench *b, uint8_t req)
{
	const uint8_t ku[5] = { 24, 0, 0, 1, req };
	return send_rec(b, 22, ku, sizeof(ku)) || craft_rotate(b->cli) ? -1 : 0;
}

/* The alert the client's OpenSSL read (-1 none). */
static int client_alert(struct bench *b)
{
	char buf[256];
	unsigned long e;

	ERR_clear_error();
	for (int i = 0; i < 50; i++) {
		int n = tp_read(&b->w.c, buf, sizeof(buf));
		if (n > 0)
			continue;
		e = ERR_peek_last_error();
		ERR_clear_error();
		int r = ERR_GET_REASON(e);
		if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
			return r - SSL_AD_REASON_OFFSET;
		return n == 0 ? 0 : -1; /* 0: close_notify */
	}
	return -1;
}

static void bad_record(const char *what, const uint8_t *inner, size_t n, int code, int alert)
{
	struct bench b;
	uint8_t rec[CRAFT_MAX];
	char buf[64];

	if (bench_start(&b)) {
		OK(0, "%s: set up", what);
		bench_free(&b);
		return;
	}
	int k = craft_seal(b.tx, inner, n, rec);
	OK(k > 0 && craft_send(b.w.cfd, rec, (size_t)k) == 0 && send_rec(&b, 23, "after", 5) == 0,
	   "%s: sent", what);
	ssize_t got = krecv_all(b.srv, buf, sizeof(buf));
	OK(got == code, "%s: %s (got %s)", what, ktls_errname(code), ktls_errname((int)got));
	int a = client_alert(&b);
	OK(a == alert, "%s: the peer gets %s (got %s)", what, ktls_alert_name(alert), a < 0 ? "none" : ktls_alert_name(a));
	bench_free(&b);
}

static void bad_records(void)
{
	static const uint8_t ku2[] = { 24, 0, 0, 1, 2, 22 };
	static const uint8_t kulen[] = { 24, 0, 0, 2, 0, 0, 22 };
	static const uint8_t kutwo[] = { 24, 0, 0, 1, 0, 24, 0, 0, 1, 0, 22 };
	static const uint8_t empty_alert[] = { 21 }, empty_hs[] = { 22 }, empty_alert_pad[] = { 21, 0, 0, 0 };

	bad_record("KeyUpdate request_update 2", ku2, sizeof(ku2), KTLS_E_BAD_RECORD, 47);
	bad_record("KeyUpdate of length 2", kulen, sizeof(kulen), KTLS_E_BAD_RECORD, 50);
	bad_record("two KeyUpdates in one record", kutwo, sizeof(kutwo), KTLS_E_BAD_RECORD, 10);
	bad_record("an empty alert record", empty_alert, sizeof(empty_alert), KTLS_E_BAD_RECORD, 10);
	bad_record("an empty alert record with padding", empty_alert_pad, sizeof(empty_alert_pad),
		   KTLS_E_BAD_RECORD, 10);
	bad_record("an empty handshake record", empty_hs, sizeof(empty_hs), KTLS_E_BAD_RECORD, 10);
}

static void empty_data(void)
{
	struct bench b;
	char buf[16];

	if (bench_start(&b)) {
		OK(0, "empty data record: set up");
		bench_free(&b);
		return;
	}
	OK(send_rec(&b, 23, "", 0) == 0 && send_rec(&b, 23, "next", 4) == 0, "empty data record: sent");
	OK(krecv_all(b.srv, buf, 4) == 4 && !memcmp(buf, "next", 4),
	   "an empty data record is allowed and skipped: the next one is read");
	bench_free(&b);
}

/* A KeyUpdate cut in two records: [24 0 0 1] [req]. */
static void split_key_update(uint8_t req)
{
	static const uint8_t head[4] = { 24, 0, 0, 1 };
	struct bench b;
	struct ktls_conn_stats st;
	char buf[16];

	emu.rekey = true;
	if (bench_start(&b)) {
		OK(0, "split KeyUpdate: set up");
		bench_free(&b);
		emu.rekey = false;
		return;
	}
	OK(send_rec(&b, 22, head, 4) == 0 && send_rec(&b, 22, &req, 1) == 0 && craft_rotate(b.cli) == 0 &&
	   send_rec(&b, 23, "after", 5) == 0, "split KeyUpdate (%u): sent", req);
	ssize_t n = krecv_all(b.srv, buf, 5);
	OK(n == 5 && !memcmp(buf, "after", 5), "a KeyUpdate(%u) split over two records is followed: data after it (got %s)",
	   req, n < 0 ? ktls_errname((int)n) : "bytes");
	ktls_conn_stats(b.srv, &st);
	EXPECT_EQ(st.key_updates_rx, 1);
	EXPECT_EQ(st.key_updates_tx, req);
	OK(ktls_send(b.srv, "reply", 5, 0) == 5 && peer_read_all(&b.w.c, buf, 5) == 5 && !memcmp(buf, "reply", 5),
	   "split KeyUpdate(%u): our reply reaches OpenSSL", req);
	bench_free(&b);
	emu.rekey = false;
}

static void split_both(void)
{
	split_key_update(0);
	split_key_update(1);
}

/* KeyUpdates in a loop. */
static void limits(void)
{
	struct bench b;
	char buf[16];
	int ok = 0;
	ssize_t n = 0;

	emu.rekey = true;
	/* 33 in a row, nothing between them. */
	if (bench_start(&b) == 0) {
		for (int i = 0; i < 33; i++)
			send_ku(&b, 0);
		send_rec(&b, 23, "x", 1);
		n = krecv_all(b.srv, buf, sizeof(buf));
		OK(n == KTLS_E_KEY_UPDATE_LIMIT, "33 KeyUpdates in a row: KTLS_E_KEY_UPDATE_LIMIT (got %s)",
		   ktls_errname((int)n));
		EXPECT_EQ(client_alert(&b), 10);
	}
	bench_free(&b);

	/* One byte of data between KeyUpdates: the 33rd is over the limit. */
	if (bench_start(&b) == 0) {
		for (int i = 0; i < 40; i++) {
			if (send_ku(&b, 0) || send_rec(&b, 23, "d", 1))
				break;
			n = krecv_all(b.srv, buf, 1);
			if (n != 1)
				break;
			ok++;
		}
		OK(ok == 32 && n == KTLS_E_KEY_UPDATE_LIMIT,
		   "KeyUpdate + 1 byte in a loop: 32 followed, then KTLS_E_KEY_UPDATE_LIMIT (%d, %s)", ok,
		   n < 0 ? ktls_errname((int)n) : "data");
		EXPECT_EQ(client_alert(&b), 10);
	}
	bench_free(&b);

	/* Records earn more: 32 KeyUpdates, 2048 records, then 2 more are
	 * fine and the third is one too many. */
	if (bench_start(&b) == 0) {
		for (int i = 0; i < 32; i++)
			send_ku(&b, 0);
		send_rec(&b, 23, "y", 1);
		ok = krecv_all(b.srv, buf, 1) == 1;
		for (int i = 0; i < 2048 && ok; i++) {
			ok = send_rec(&b, 23, "z", 1) == 0 && krecv_all(b.srv, buf, 1) == 1;
		}
		for (int i = 0; i < 2 && ok; i++)
			ok = send_ku(&b, 0) == 0 && send_rec(&b, 23, "w", 1) == 0 && krecv_all(b.srv, buf, 1) == 1;
		OK(ok, "after 2048 data records, KeyUpdates 33 and 34 are allowed");
		send_ku(&b, 0);
		send_rec(&b, 23, "v", 1);
		n = krecv_all(b.srv, buf, 1);
		OK(n == KTLS_E_KEY_UPDATE_LIMIT, "the 35th is over 32 + 2048/1024 (got %s)",
		   n < 0 ? ktls_errname((int)n) : "data");
	}
	bench_free(&b);
	emu.rekey = false;
}

/* The peer asks for our KeyUpdate while our send buffer is full (the
 * emulated socket refuses non-blocking sends): the answer waits for room
 * instead of failing the connection, and comes before our next data. */
static void answer_waits(void)
{
	struct bench b;
	char buf[64];

	emu.rekey = true;
	if (bench_start(&b)) {
		OK(0, "answer waits: set up");
		bench_free(&b);
		emu.rekey = false;
		return;
	}
	fcntl(b.w.sfd, F_SETFL, O_NONBLOCK);
	emu.full_fd = b.w.sfd;
	OK(send_ku(&b, 1) == 0 && send_rec(&b, 23, "after", 5) == 0, "answer waits: KeyUpdate(update_requested) sent");
	ssize_t n = krecv_all(b.srv, buf, 5);
	OK(n == 5 && !memcmp(buf, "after", 5), "the peer's data after its KeyUpdate is read though our answer cannot go out (%s)",
	   n < 0 ? ktls_errname((int)n) : "bytes");
	EXPECT_EQ(ktls_flush(b.srv), -EAGAIN);
	EXPECT_EQ(ktls_send(b.srv, "x", 1, MSG_DONTWAIT), -EAGAIN);
	emu.full_fd = -1;
	EXPECT_EQ(ktls_flush(b.srv), 0);
	EXPECT_EQ(ktls_flush(b.srv), 0);
	fcntl(b.w.sfd, F_SETFL, 0);
	OK(ktls_send(b.srv, "reply", 5, 0) == 5 && peer_read_all(&b.w.c, buf, 5) == 5 && !memcmp(buf, "reply", 5),
	   "OpenSSL follows our KeyUpdate and reads the reply under the new key");
	struct ktls_conn_stats st;
	ktls_conn_stats(b.srv, &st);
	EXPECT_EQ(st.key_updates_tx, 1);
	bench_free(&b);
	emu.rekey = false;
}

/* Wait (up to 5 s) for bytes to read on fd: the sender's Nagle waits for
 * a delayed ACK. */
static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	poll(&p, 1, 5000);
}

/* The peer closes before our switch. */
static void peer_gone(void)
{
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r;
	char b;

	if (world_ctx(&w, &s13, 0, false, true, true) || world_connect(&w, PUMP_SOCKET, PUMP_SOCKET, NULL, NULL)) {
		OK(0, "peer gone: set up");
		world_free(&w);
		return;
	}
	shutdown(w.cfd, SHUT_WR);
	for (int i = 0; i < 100 && recv(w.sfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 0; i++)
		usleep(1000);
	int rc = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &k, &r);
	OK(rc == KTLS_E_PEER_CLOSED, "a peer that sent its FIN before the switch: KTLS_E_PEER_CLOSED (got %s)",
	   ktls_errname(rc));
	OK(k == NULL, "peer gone: nothing installed");
	free(r.rx_data);
	ktls_conn_free(k);
	world_free(&w);
}

/* OpenSSL has read the first piece of a KeyUpdate when the switch comes. */
static void half_message(void)
{
	static const uint8_t head[4] = { 24, 0, 0, 1 };
	struct world w;
	struct ktls_conn *cli = NULL, *k = NULL;
	struct ktls_report r;
	uint8_t rec[CRAFT_MAX];
	char buf[8];

	if (world_ctx(&w, &s13, 0, false, true, true) || world_connect(&w, PUMP_EXACT, PUMP_SOCKET, NULL, NULL) ||
	    ktls_enable(w.c.ssl, w.cfd, KTLS_TX, &cli, &r)) {
		OK(0, "half message: set up");
		world_free(&w);
		return;
	}
	free(r.rx_data);
	int n = craft_record(craft_tx(w.cfd), 22, head, 4, rec);
	craft_send(w.cfd, rec, (size_t)n);
	/* The server's OpenSSL reads that record before the switch. */
	wait_readable(w.sfd);
	tp_pump(&w.s);
	OK(SSL_read(w.s.ssl, buf, sizeof(buf)) <= 0, "half message: no data yet");
	ERR_clear_error();
	int rc = ktls_enable(w.s.ssl, w.sfd, KTLS_RX, &k, &r);
	OK(rc == KTLS_E_PARTIAL_MESSAGE, "half a KeyUpdate read before the switch: KTLS_E_PARTIAL_MESSAGE (got %s)",
	   ktls_errname(rc));
	free(r.rx_data);
	ktls_conn_free(k);
	k = NULL;
	/* The same piece still in OpenSSL's read BIO: the drain reads it. */
	ktls_conn_free(cli);
	world_free(&w);

	cli = NULL;
	if (world_ctx(&w, &s13, 0, false, true, true) || world_connect(&w, PUMP_GREEDY, PUMP_SOCKET, NULL, NULL) ||
	    ktls_enable(w.c.ssl, w.cfd, KTLS_TX, &cli, &r)) {
		OK(0, "half message (drain): set up");
		world_free(&w);
		return;
	}
	free(r.rx_data);
	n = craft_record(craft_tx(w.cfd), 22, head, 4, rec);
	craft_send(w.cfd, rec, (size_t)n);
	wait_readable(w.sfd);
	tp_pump(&w.s);
	rc = ktls_enable(w.s.ssl, w.sfd, KTLS_RX, &k, &r);
	OK(rc == KTLS_E_PARTIAL_MESSAGE, "half a KeyUpdate drained at the switch: KTLS_E_PARTIAL_MESSAGE (got %s)",
	   ktls_errname(rc));
	OK(k == NULL, "half message (drain): nothing installed");
	free(r.rx_data);
	ktls_conn_free(k);
	ktls_conn_free(cli);
	world_free(&w);
}

/* KeyUpdates OpenSSL handles before the switch, in the client's last
 * flight: two of them, the second asking for ours. The kernel gets the
 * current secrets both ways. */
static void before_switch(void)
{
	struct world w;
	struct ktls_conn *k = NULL;
	struct ktls_report r;
	char buf[16];

	if (world_ctx(&w, &s13, 2, false, true, false)) {
		OK(0, "before switch: set up");
		world_free(&w);
		return;
	}
	int one = 1;
	if (tp_tcp_pair(&w.cfd, &w.sfd) || setsockopt(w.cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    tp_end_init(&w.s, w.sctx, w.sfd, PUMP_GREEDY, true) ||
	    tp_end_init(&w.c, w.cctx, w.cfd, PUMP_SOCKET, false)) {
		OK(0, "before switch: pair");
		world_free(&w);
		return;
	}
	/* Handshake, then the client's two KeyUpdates and data right behind. */
	int rc = -1;
	for (int i = 0; i < 2000 && !(w.c.done && w.s.done); i++) {
		bool was = w.c.done;
		if (tp_step(&w.c))
			break;
		if (!was && w.c.done) {
			SSL_key_update(w.c.ssl, SSL_KEY_UPDATE_NOT_REQUESTED);
			SSL_do_handshake(w.c.ssl);
			SSL_key_update(w.c.ssl, SSL_KEY_UPDATE_REQUESTED);
			SSL_do_handshake(w.c.ssl);
			SSL_write(w.c.ssl, "early", 5);
		}
		if (tp_step(&w.s))
			break;
		struct pollfd p = { .fd = w.sfd, .events = POLLIN };
		poll(&p, 1, 2);
	}
	/* Two KeyUpdate records and one data record of 5 bytes: 3 x 27 bytes. */
	for (int i = 0; i < 500 && BIO_ctrl_pending(w.s.rb) < 81; i++) {
		wait_readable(w.sfd);
		tp_pump(&w.s);
	}
	rc = ktls_enable(w.s.ssl, w.sfd, KTLS_TX | KTLS_RX, &k, &r);
	OK(rc == KTLS_E_UNSENT_DATA && r.dirs == KTLS_RX,
	   "two KeyUpdates before the switch: RX in, TX waits for OpenSSL's answer (%s)", ktls_errname(rc));
	OK(r.rx_len == 5 && !memcmp(r.rx_data, "early", 5), "the data behind them was drained");
	free(r.rx_data);
	tp_pump(&w.s); /* the answer goes out */
	rc = ktls_enable(w.s.ssl, w.sfd, KTLS_TX, &k, &r);
	OK(rc == 0 && r.dirs == (KTLS_TX | KTLS_RX), "then TX (%s)", ktls_errname(rc));
	free(r.rx_data);
	OK(tp_write(&w.c, "later", 5) == 5 && krecv_all(k, buf, 5) == 5 && !memcmp(buf, "later", 5),
	   "the kernel reads the client's data under its third key");
	OK(ktls_send(k, "reply", 5, 0) == 5 && peer_read_all(&w.c, buf, 5) == 5 && !memcmp(buf, "reply", 5),
	   "OpenSSL reads ours under our second key");
	ktls_conn_free(k);
	world_free(&w);
}

/* With arguments: only the groups named (bad, empty, split, limits, answer,
 * gone, half, before). */
int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } groups[] = {
		{ "bad", bad_records }, { "empty", empty_data }, { "split", split_both },
		{ "limits", limits }, { "answer", answer_waits }, { "gone", peer_gone },
		{ "half", half_message }, { "before", before_switch },
	};
	emu_install();
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		bool run = argc < 2;
		for (int a = 1; a < argc; a++)
			run |= !strcmp(argv[a], groups[i].name);
		if (run)
			groups[i].fn();
	}
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

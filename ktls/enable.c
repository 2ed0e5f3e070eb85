/* ktls/enable.c: move an established OpenSSL session's record layer into kTLS.
 *
 * Validate everything, then commit: every check that can refuse runs before
 * the first TLS_TX / TLS_RX setsockopt, so a refusal leaves the SSL usable
 * in userspace. Order of the commit:
 *   1. attach the "tls" ULP (harmless alone: the socket stays plain TCP);
 *   2. RX: drain what OpenSSL already holds (records in a memory read BIO,
 *      read-ahead bytes, decrypted plaintext) through SSL_read into
 *      report->rx_data, so nothing is lost or reordered;
 *   3. derive keys and sequence numbers from what the callbacks counted;
 *   4. install RX, then TX.
 * Key material lives in struct ktls_dir_keys on the stack and is wiped at
 * the single exit.
 */
#include "ktls/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#define TLS_HDR 5
#define TLS_MAX_CIPHERTEXT (16384 + 2048)

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int check_socket(int fd)
{
	int type = 0, proto = 0;
	socklen_t len = sizeof(type);

	if (fd < 0 || ktls_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		return KTLS_E_NOT_SOCKET;
	len = sizeof(proto);
	if (ktls_sys_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) || proto != IPPROTO_TCP)
		return KTLS_E_NOT_SOCKET;
	return 0;
}

/* Output the SSL produced that is not on the socket yet. */
static bool unsent_output(SSL *ssl)
{
	BIO *wbio = SSL_get_wbio(ssl);

	if (SSL_want_write(ssl))
		return true;
	if (!wbio)
		return false;
	if (BIO_method_type(wbio) == BIO_TYPE_MEM && BIO_ctrl_pending(wbio) > 0)
		return true;
	return BIO_ctrl_wpending(wbio) > 0;
}

static bool is_mem_bio(BIO *b)
{
	return b && BIO_method_type(b) == BIO_TYPE_MEM;
}

/* With read-ahead off OpenSSL never reads past a record, so a memory read
 * BIO starts at a record boundary: it must also end at one. */
static int check_mem_rbio(SSL *ssl)
{
	BIO *rbio = SSL_get_rbio(ssl);
	char *data;
	long n;
	size_t off = 0;

	if (!is_mem_bio(rbio) || SSL_get_read_ahead(ssl))
		return 0;
	n = BIO_get_mem_data(rbio, &data);
	while (n > 0 && off < (size_t)n) {
		size_t left = (size_t)n - off, rec;
		if (left < TLS_HDR)
			return KTLS_E_PARTIAL_RECORD;
		rec = TLS_HDR + ((size_t)(uint8_t)data[off + 3] << 8 | (uint8_t)data[off + 4]);
		if (rec > left)
			return KTLS_E_PARTIAL_RECORD;
		off += rec;
	}
	return 0;
}

static bool mid_record(const SSL *ssl)
{
	/* "RB": OpenSSL has consumed a header and waits for the body. */
	return strcmp(SSL_rstate_string(ssl), "RB") == 0;
}

void ktls_ssl_send_key_update(SSL *ssl)
{
	/* OpenSSL 3.0 answers a peer's update_requested on its next write;
	 * SSL_key_update() of the same type (it is the answer: it asks
	 * nothing of the peer) and a handshake step write it now, once. */
	if (SSL_get_key_update_type(ssl) == SSL_KEY_UPDATE_NONE)
		return;
	if (SSL_key_update(ssl, SSL_KEY_UPDATE_NOT_REQUESTED) == 1)
		SSL_do_handshake(ssl);
	ERR_clear_error();
}

/* Map a failed SSL_read during the drain to a libktls code. */
static int drain_error(SSL *ssl, int ret, struct ktls_report *rep)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	(void)ret;
	(void)ssl;
	if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
		rep->rx_alert = reason - SSL_AD_REASON_OFFSET;
		return KTLS_E_ALERT;
	}
	if (reason == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC)
		return KTLS_E_DECRYPT;
	if (reason == SSL_R_ENCRYPTED_LENGTH_TOO_LONG || reason == SSL_R_DATA_LENGTH_TOO_LONG ||
	    reason == SSL_R_PACKET_LENGTH_TOO_LONG)
		return KTLS_E_RECORD_OVERFLOW;
	return KTLS_E_BAD_RECORD;
}

/* Decrypt in userspace whatever OpenSSL can still read without touching the
 * socket. Plaintext is appended to rep->rx_data. */
static int drain(SSL *ssl, struct ktls_report *rep)
{
	BIO *rbio = SSL_get_rbio(ssl), *tmp = NULL;
	size_t cap = rep->rx_len;
	int rc = 0;

	if (!SSL_has_pending(ssl) && !(is_mem_bio(rbio) && BIO_ctrl_pending(rbio) > 0))
		return 0;
	if (!is_mem_bio(rbio)) {
		/* Socket BIO: let SSL_read see only what it has buffered. */
		tmp = BIO_new(BIO_s_mem());
		if (!tmp || !rbio || !BIO_up_ref(rbio)) {
			BIO_free(tmp);
			return -ENOMEM;
		}
		SSL_set0_rbio(ssl, tmp);
	}
	ERR_clear_error();
	for (;;) {
		if (cap - rep->rx_len < 16384) {
			unsigned char *p = realloc(rep->rx_data, cap + 16384 + 1);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			rep->rx_data = p;
			cap += 16384;
		}
		int n = SSL_read(ssl, rep->rx_data + rep->rx_len, (int)(cap - rep->rx_len));
		if (n > 0) {
			rep->rx_len += (size_t)n;
			continue;
		}
		int err = SSL_get_error(ssl, n);
		if (err == SSL_ERROR_WANT_READ)
			break;
		if (err == SSL_ERROR_ZERO_RETURN) {
			rep->rx_eof = true;
			break;
		}
		rc = err == SSL_ERROR_SSL ? drain_error(ssl, n, rep) : KTLS_E_INTERNAL;
		break;
	}
	ERR_clear_error();
	if (tmp)
		SSL_set0_rbio(ssl, rbio); /* frees tmp, takes our reference back */
	if (rep->rx_len == 0) {
		free(rep->rx_data);
		rep->rx_data = NULL;
	}
	if (rc == 0 && !rep->rx_eof && (SSL_has_pending(ssl) || mid_record(ssl)))
		rc = KTLS_E_PARTIAL_RECORD;
	return rc;
}

/* Keys and next sequence number of one direction, from the counts. */
static int dir_keys(SSL *ssl, const struct ktls_ssl_state *st, struct ktls_conn *c, bool tx,
		    struct ktls_dir_keys *k)
{
	const struct ktls_cipher_desc *d = ktls_cipher_desc(c->cipher);
	bool client_side = tx != (SSL_is_server(ssl) != 0); /* whose write keys */
	int rc = 0;

	if (c->version == TLS1_3_VERSION) {
		struct ktls_secret *ts = tx ? &c->tx_secret : &c->rx_secret;
		unsigned gens = tx ? st->wr_key_updates : st->rd_key_updates;

		*ts = client_side ? st->client_ts0 : st->server_ts0;
		for (unsigned i = 0; i < gens && rc == 0; i++)
			rc = ktls_tls13_next_secret(c->md, ts);
		if (rc == 0)
			rc = ktls_tls13_keys(c->md, ts, d->key_len, k->key, k->nonce12);
		k->seq = tx ? st->wr_since_key : st->rd_since_key;
		return rc;
	}

	uint8_t master[SSL_MAX_MASTER_KEY_LENGTH], cr[32], sr[32], kb[2 * (32 + 12)];
	size_t mlen = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master));
	size_t kblen = 2u * d->key_len + 2u * d->tls12_fixed_iv_len;

	if (mlen == 0 || SSL_get_client_random(ssl, cr, sizeof(cr)) != sizeof(cr) ||
	    SSL_get_server_random(ssl, sr, sizeof(sr)) != sizeof(sr)) {
		rc = KTLS_E_NO_SECRETS;
		goto out;
	}
	rc = ktls_tls12_key_block(c->md, master, mlen, cr, sr, kb, kblen);
	if (rc)
		goto out;
	k->seq = tx ? st->wr_since_ccs : st->rd_since_ccs;
	memcpy(k->key, kb + (client_side ? 0 : d->key_len), d->key_len);
	const uint8_t *iv = kb + 2u * d->key_len + (client_side ? 0 : d->tls12_fixed_iv_len);
	if (d->tls12_fixed_iv_len == 12) {
		memcpy(k->nonce12, iv, 12);           /* ChaCha20: nonce = IV xor seq */
	} else {
		memcpy(k->nonce12, iv, 4);            /* salt + explicit nonce */
		put_be64(k->nonce12 + 4, k->seq);
	}
out:
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(kb, sizeof(kb));
	return rc;
}

int ktls_install(struct ktls_conn *c, int dir, struct ktls_dir_keys *k)
{
	union ktls_crypto_info ci;
	int len = ktls_crypto_info_build(&ci, c->version, c->cipher, k->key, k->nonce12, k->seq);
	int rc;

	OPENSSL_cleanse(k, sizeof(*k));
	if (len < 0)
		return len;
	rc = ktls_sys_setsockopt(c->fd, SOL_TLS, dir == KTLS_TX ? TLS_TX : TLS_RX, &ci, (socklen_t)len);
	OPENSSL_cleanse(&ci, sizeof(ci));
	return rc;
}

static int kernel_refusal(int rc)
{
	if (rc == -EINVAL || rc == -ENOENT || rc == -ENOPROTOOPT || rc == -EOPNOTSUPP ||
	    rc == -ENOPKG)
		return KTLS_E_KERNEL_CIPHER;
	return rc;
}

/* A TCP socket the kernel refused the ULP on (it attaches only to an
 * established one): was it connected, and the peer closed it (FIN: close
 * wait; reset: closed, but with the peer's MSS still known), or was it
 * never connected (no MSS)? */
static bool was_connected(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (ktls_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return false;
	return ti.tcpi_state != TCP_CLOSE || ti.tcpi_rcv_mss != 0;
}

static int attach_ulp(struct ktls_conn *c)
{
	char name[16] = "";
	socklen_t len = sizeof(name);
	int rc;

	if (c->ulp)
		return 0;
	rc = ktls_sys_setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
	if (rc == -EEXIST &&
	    ktls_sys_getsockopt(c->fd, IPPROTO_TCP, TCP_ULP, name, &len) == 0 && !strcmp(name, "tls"))
		rc = 0;
	if (rc == -ENOENT)
		return KTLS_E_NO_ULP;
	if (rc == -ENOTCONN)
		return was_connected(c->fd) ? KTLS_E_PEER_CLOSED : KTLS_E_NOT_SOCKET;
	if (rc == 0)
		c->ulp = true;
	return rc;
}

/* Every check that does not change anything. */
static int validate(SSL *ssl, int fd, unsigned dirs, const struct ktls_conn *c,
		    int *version, enum ktls_cipher *cipher, const EVP_MD **md)
{
	const struct ktls_ssl_state *st;
	int rc;

	if (c && (c->dirs & dirs))
		return KTLS_E_ALREADY;
	if ((rc = check_socket(fd)))
		return rc;
	/* SSL_key_update() puts the SSL back "in init" until it is sent. */
	if (SSL_get_key_update_type(ssl) != SSL_KEY_UPDATE_NONE)
		return KTLS_E_USERSPACE_KEY_UPDATE;
	if (!SSL_is_init_finished(ssl)) {
		/* After both Finished, OpenSSL is back "in init" while it reads
		 * a post-handshake message (TLS 1.3) or a renegotiation. */
		st = ktls_ssl_state(ssl);
		if (!st || !st->wr_fin || !st->rd_fin)
			return KTLS_E_HANDSHAKE_INCOMPLETE;
		return SSL_version(ssl) == TLS1_3_VERSION ? KTLS_E_PARTIAL_MESSAGE : KTLS_E_RENEGOTIATION;
	}
	if ((rc = ktls_suite_of(ssl, version, cipher, md)))
		return rc;
	if (c && (c->version != *version || c->cipher != *cipher))
		return -EINVAL;
	if (SSL_get_current_compression(ssl) || SSL_get_current_expansion(ssl))
		return KTLS_E_COMPRESSION;
	st = ktls_ssl_state(ssl);
	if (SSL_renegotiate_pending(ssl) || (st && st->hello_after_fin))
		return KTLS_E_RENEGOTIATION;
	if (!st || !st->wr_fin || !st->rd_fin)
		return KTLS_E_NO_SECRETS;
	if (*version == TLS1_3_VERSION) {
		if (!st->client_ts0.len || !st->server_ts0.len)
			return KTLS_E_NO_SECRETS;
	} else {
		if (st->wr_ccs != 1 || st->rd_ccs != 1)
			return st->wr_ccs > 1 || st->rd_ccs > 1 ? KTLS_E_RENEGOTIATION : KTLS_E_NO_SECRETS;
		if (SSL_SESSION_get_master_key(SSL_get_session(ssl), NULL, 0) == 0)
			return KTLS_E_NO_SECRETS;
	}
	if (dirs & KTLS_TX) {
		if (unsent_output(ssl))
			return KTLS_E_UNSENT_DATA;
	}
	if (dirs & KTLS_RX) {
		if (mid_record(ssl))
			return KTLS_E_PARTIAL_RECORD;
		if ((rc = check_mem_rbio(ssl)))
			return rc;
	}
	return 0;
}

int ktls_enable(SSL *ssl, int fd, unsigned dirs, struct ktls_conn **connp, struct ktls_report *rep)
{
	struct ktls_dir_keys rx = { 0 }, tx = { 0 };
	struct ktls_conn *c;
	const struct ktls_ssl_state *st;
	enum ktls_cipher cipher;
	const EVP_MD *md;
	bool fresh = false;
	int version, rc, tx_rc = 0;

	if (!rep)
		return -EINVAL;
	memset(rep, 0, sizeof(*rep));
	rep->rx_alert = -1;
	if (!ssl || !connp || !dirs || (dirs & ~(unsigned)(KTLS_TX | KTLS_RX)))
		return -EINVAL;
	c = *connp;
	if (c && c->fd != fd)
		return -EINVAL;
	rc = validate(ssl, fd, dirs, c, &version, &cipher, &md);
	if (rc)
		return rc;

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->fd = fd;
		c->alert = -1;
		c->version = version;
		c->cipher = cipher;
		c->md = md;
		fresh = true;
	}
	rc = attach_ulp(c);
	if (rc)
		goto out;

	st = ktls_ssl_state(ssl);
	if (dirs & KTLS_RX) {
		rc = drain(ssl, rep);
		if (rc)
			goto out;
		if (rep->rx_eof)
			c->rx_eof = true;
		/* A post-handshake message OpenSSL has read only part of (its
		 * record ended, the next is still on the socket) puts it back
		 * "in init": its first bytes cannot be given to the kernel. */
		if (!rep->rx_eof && !SSL_is_init_finished(ssl) &&
		    SSL_get_key_update_type(ssl) == SSL_KEY_UPDATE_NONE) {
			rc = KTLS_E_PARTIAL_MESSAGE;
			goto out;
		}
		/* The peer asked for our KeyUpdate: make OpenSSL write it now,
		 * so that TX can follow once it is on the socket. */
		if ((dirs & KTLS_TX) && SSL_get_key_update_type(ssl) != SSL_KEY_UPDATE_NONE)
			ktls_ssl_send_key_update(ssl);
		/* The drain may have made OpenSSL answer a KeyUpdate. */
		if ((dirs & KTLS_TX) && (SSL_get_key_update_type(ssl) != SSL_KEY_UPDATE_NONE ||
					 unsent_output(ssl))) {
			tx_rc = KTLS_E_UNSENT_DATA;
			dirs &= ~(unsigned)KTLS_TX;
		}
		rc = dir_keys(ssl, st, c, false, &rx);
		if (rc)
			goto out;
		rep->rx_seq = rx.seq;
		c->rx_gen_start = rx.seq;
		c->ku_total = st->rd_key_updates;  /* the ones OpenSSL followed count too */
	}
	if (dirs & KTLS_TX) {
		rc = dir_keys(ssl, st, c, true, &tx);
		if (rc)
			goto out;
		rep->tx_seq = tx.seq;
	}

	/* Commit. */
	if (dirs & KTLS_RX) {
		rc = kernel_refusal(ktls_install(c, KTLS_RX, &rx));
		if (rc)
			goto out;
		c->dirs |= KTLS_RX;
	}
	if (dirs & KTLS_TX) {
		rc = kernel_refusal(ktls_install(c, KTLS_TX, &tx));
		if (rc == 0) {
			c->dirs |= KTLS_TX;
			/* OpenSSL must never write under the old keys again. */
			SSL_set_quiet_shutdown(ssl, 1);
		}
	}
	if (rc == 0)
		rc = tx_rc;
out:
	OPENSSL_cleanse(&rx, sizeof(rx));
	OPENSSL_cleanse(&tx, sizeof(tx));
	if (version != TLS1_3_VERSION || !(c->dirs & KTLS_TX))
		OPENSSL_cleanse(&c->tx_secret, sizeof(c->tx_secret));
	if (version != TLS1_3_VERSION || !(c->dirs & KTLS_RX))
		OPENSSL_cleanse(&c->rx_secret, sizeof(c->rx_secret));
	rep->version = version;
	rep->cipher = cipher;
	rep->dirs = c->dirs;
	if (fresh && c->dirs == 0) {
		ktls_conn_free(c);
		c = NULL;
	}
	*connp = c;
	return rc;
}

void ktls_conn_free(struct ktls_conn *c)
{
	if (!c)
		return;
	if (c->hs_buf)
		OPENSSL_clear_free(c->hs_buf, KTLS_HS_MAX);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int ktls_conn_fd(const struct ktls_conn *c)
{
	return c ? c->fd : -1;
}

unsigned ktls_conn_dirs(const struct ktls_conn *c)
{
	return c ? c->dirs : 0;
}

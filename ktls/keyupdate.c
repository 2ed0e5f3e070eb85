/* ktls/keyupdate.c: TLS 1.3 KeyUpdate under kTLS.
 *
 * A KeyUpdate moves one direction to the next traffic secret:
 * secret_{n+1} = HKDF-Expand-Label(secret_n, "traffic upd", "", Hash.length),
 * with key and IV derived from it as at the start and the record sequence
 * number back at 0. The sender sends the KeyUpdate under the old key, then
 * switches; the receiver switches after reading it. Kernels from 6.14 accept
 * a second TLS_TX / TLS_RX for this (and pause RX with EKEYEXPIRED until the
 * new key is set); older ones answer EBUSY.
 */
#include "ktls/internal.h"

#include <errno.h>
#include <string.h>

int ktls_rotate(struct ktls_conn *c, int dir)
{
	const struct ktls_cipher_desc *d = ktls_cipher_desc(c->cipher);
	struct ktls_secret *cur = dir == KTLS_TX ? &c->tx_secret : &c->rx_secret;
	struct ktls_secret next = *cur;
	struct ktls_dir_keys k = { .seq = 0 };
	int rc;

	if (c->version != TLS1_3_VERSION || !d || !cur->len)
		return KTLS_E_VERSION;
	rc = ktls_tls13_next_secret(c->md, &next);
	if (rc == 0)
		rc = ktls_tls13_keys(c->md, &next, d->key_len, k.key, k.nonce12);
	if (rc == 0)
		rc = ktls_install(c, dir, &k); /* wipes k */
	if (rc == 0)
		*cur = next;
	OPENSSL_cleanse(&k, sizeof(k));
	OPENSSL_cleanse(&next, sizeof(next));
	return rc;
}

int ktls_reinstall_rx(struct ktls_conn *c, uint64_t seq)
{
	const struct ktls_cipher_desc *d = ktls_cipher_desc(c->cipher);
	struct ktls_dir_keys k = { .seq = seq };
	int rc;

	if (c->version != TLS1_3_VERSION || !d || !c->rx_secret.len)
		return KTLS_E_VERSION;
	rc = ktls_tls13_keys(c->md, &c->rx_secret, d->key_len, k.key, k.nonce12);
	if (rc == 0)
		rc = ktls_install(c, KTLS_RX, &k); /* wipes k */
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int ktls_kernel_rx_seq(struct ktls_conn *c, uint64_t *seq)
{
	const struct ktls_cipher_desc *d = ktls_cipher_desc(c->cipher);
	union ktls_crypto_info ci;
	socklen_t len = sizeof(ci);
	int rc;

	if (!d)
		return -EINVAL;
	rc = ktls_sys_getsockopt(c->fd, SOL_TLS, TLS_RX, &ci, &len);
	if (rc == 0 && len != d->info_len)
		rc = -EINVAL;
	if (rc == 0) {
		/* every crypto_info of linux/tls.h ends with rec_seq[8] */
		const uint8_t *p = (const uint8_t *)&ci + d->info_len - 8;
		*seq = 0;
		for (int i = 0; i < 8; i++)
			*seq = *seq << 8 | p[i];
	}
	OPENSSL_cleanse(&ci, sizeof(ci)); /* it holds the key too */
	return rc;
}

int ktls_send_ku_answer(struct ktls_conn *c)
{
	static const uint8_t answer[5] = { 24, 0, 0, 1, 0 }; /* update_not_requested */
	int rc;

	if (!c->ku_answer_pending)
		return 0;
	if (c->tx_closed || !(c->dirs & KTLS_TX)) {
		c->ku_answer_pending = false;  /* nothing more is sent anyway */
		return 0;
	}
	rc = ktls_send_control(c, 22, answer, sizeof(answer));
	if (rc == -EAGAIN)
		return rc;                     /* still due: nothing went out */
	if (rc == 0)
		rc = ktls_rotate(c, KTLS_TX);
	if (rc) {
		/* The peer now expects our new key (or saw half a record). */
		c->fatal = rc == -EBUSY ? KTLS_E_REKEY_UNSUPPORTED : rc;
		return c->fatal;
	}
	c->ku_answer_pending = false;
	c->st.key_updates_tx++;
	return 0;
}

int ktls_flush(struct ktls_conn *c)
{
	if (!c)
		return -EINVAL;
	if (c->fatal)
		return c->fatal;
	return ktls_send_ku_answer(c);
}

int ktls_key_update(struct ktls_conn *c, bool request_peer)
{
	uint8_t msg[5] = { 24, 0, 0, 1, request_peer ? 1 : 0 };
	int rc;

	if (!c)
		return -EINVAL;
	if (c->version != TLS1_3_VERSION)
		return KTLS_E_VERSION;
	if (!(c->dirs & KTLS_TX) || (request_peer && !(c->dirs & KTLS_RX)))
		return KTLS_E_NOT_OFFLOADED;
	if (c->fatal)
		return c->fatal;
	if (c->tx_closed)
		return KTLS_E_CLOSED;
	if (!ktls_sys_rekey_supported())
		return KTLS_E_REKEY_UNSUPPORTED;
	/* A KeyUpdate of ours also answers a request of the peer's that is
	 * still due (RFC 8446, 4.6.3). */
	rc = ktls_send_control(c, 22, msg, sizeof(msg));
	if (rc)
		return rc;
	c->ku_answer_pending = false;
	rc = ktls_rotate(c, KTLS_TX);
	if (rc) {
		/* The peer now expects the new key and we cannot send with it. */
		c->fatal = rc == -EBUSY ? KTLS_E_REKEY_UNSUPPORTED : rc;
		return c->fatal;
	}
	c->st.key_updates_tx++;
	return 0;
}

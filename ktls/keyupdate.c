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
	rc = ktls_send_control(c, 22, msg, sizeof(msg));
	if (rc)
		return rc;
	rc = ktls_rotate(c, KTLS_TX);
	if (rc) {
		/* The peer now expects the new key and we cannot send with it. */
		c->fatal = rc == -EBUSY ? KTLS_E_REKEY_UNSUPPORTED : rc;
		return c->fatal;
	}
	c->st.key_updates_tx++;
	return 0;
}

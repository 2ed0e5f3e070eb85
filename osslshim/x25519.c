/* osslshim/x25519.c: X25519 key shares whose public half comes from
 * libsodium (ktls-client, through keys.c's ENGINE, OSSLSHIM_X25519).
 *
 * Why: OpenSSL 3.0 computes each fresh X25519 public key with its reference
 * 32-bit Edwards code (~29 us here), the largest single cost of a client's
 * key share, and cannot take one computed elsewhere: every public
 * constructor of its key objects recomputes it. libsodium's fixed-base
 * multiplication (crypto_scalarmult_curve25519_base: the same precomputed
 * Edwards table, on 51-bit limbs) does it in a fraction of that. So the keys of this
 * path are this file's own: an EVP_PKEY_ASN1_METHOD for X25519 whose key is
 * struct fx_key (the clamped private key and the public key), and the
 * ENGINE's copy of OpenSSL's X25519 EVP_PKEY_METHOD with its keygen and
 * derive replaced:
 *  - keygen: 32 bytes from RAND_priv_bytes (a fresh key every time, as
 *    OpenSSL's), clamped, and libsodium's public key for it;
 *  - derive: the Diffie-Hellman itself stays OpenSSL's (its 64-bit assembly
 *    ladder): both halves of the key and the peer's public key are imported
 *    as they are into key objects of OpenSSL's default provider, and its
 *    X25519 key exchange does the rest, including its refusal of an
 *    all-zero shared secret. Both are called through the provider's
 *    dispatch tables (OSSL_PROVIDER_query_operation): an EVP_PKEY_CTX for
 *    X25519 would lead back to this ENGINE.
 * What libssl asks of a key share is here: the encoded public key (TLS
 * ENCPT get and set), parameters that always match, size and bits, raw
 * public/private key access, comparison. Everything else of the ASN.1
 * method (DER, printing) is absent: OpenSSL reports it unsupported.
 *
 * Off: --stock-openssl (or a build without OpenSSL's deprecated APIs).
 * Tested against OpenSSL's own keys, exchanges and handshakes by
 * tests/unit/osslshim_x25519.c.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EVP_PKEY_ASN1_METHOD, EVP_PKEY_METHOD, EVP_PKEY_get0 */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT

#include <stdbool.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <sodium.h>

#define FX_LEN 32

struct fx_key {
	unsigned char pub[FX_LEN];
	unsigned char priv[FX_LEN];
	bool has_priv;
};

static unsigned long fx_keygens; /* atomic: keys made here */

static bool fx_provider_init(void);

unsigned long osslshim_x25519_keygens(void)
{
	return __atomic_load_n(&fx_keygens, __ATOMIC_RELAXED);
}

static struct fx_key *fx_get(const EVP_PKEY *pkey)
{
	return (struct fx_key *)EVP_PKEY_get0(pkey);
}

/* k's private key clamped (as OpenSSL stores it) and its public key; on
 * failure k is freed */
static int fx_complete(struct fx_key *k)
{
	k->priv[0] &= 248;
	k->priv[31] &= 127;
	k->priv[31] |= 64;
	k->has_priv = true;
	if (crypto_scalarmult_curve25519_base(k->pub, k->priv) == 0)
		return 1;
	OPENSSL_clear_free(k, sizeof(*k));
	return 0;
}

static int fx_assign(EVP_PKEY *pkey, struct fx_key *k)
{
	if (!EVP_PKEY_assign(pkey, EVP_PKEY_X25519, k)) {
		OPENSSL_clear_free(k, sizeof(*k));
		return 0;
	}
	return 1;
}

/* --- the ASN.1 method ---------------------------------------------------------- */
static void fx_free(EVP_PKEY *pkey)
{
	OPENSSL_clear_free(fx_get(pkey), sizeof(struct fx_key));
}

static int fx_ctrl(EVP_PKEY *pkey, int op, long arg1, void *arg2)
{
	struct fx_key *k;

	switch (op) {
	case ASN1_PKEY_CTRL_SET1_TLS_ENCPT:
		if (arg1 != FX_LEN || !(k = OPENSSL_zalloc(sizeof(*k))))
			return 0;
		memcpy(k->pub, arg2, FX_LEN);
		return fx_assign(pkey, k);
	case ASN1_PKEY_CTRL_GET1_TLS_ENCPT:
		if (!(k = fx_get(pkey)) || !(*(unsigned char **)arg2 = OPENSSL_memdup(k->pub, FX_LEN)))
			return 0;
		return FX_LEN;
	default:
		return -2;
	}
}

static int fx_pub_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
	const struct fx_key *x = fx_get(a), *y = fx_get(b);
	if (!x || !y)
		return -2;
	return !CRYPTO_memcmp(x->pub, y->pub, FX_LEN);
}

static int fx_size(const EVP_PKEY *pkey)
{
	(void)pkey;
	return FX_LEN;
}

static int fx_bits(const EVP_PKEY *pkey)
{
	(void)pkey;
	return 253;
}

static int fx_security_bits(const EVP_PKEY *pkey)
{
	(void)pkey;
	return 128;
}

/* X25519 has no parameters: any two keys match */
static int fx_param_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
	(void)a, (void)b;
	return 1;
}

/* every 32-byte string is an X25519 public key (RFC 7748 section 5) */
static int fx_public_check(const EVP_PKEY *pkey)
{
	return fx_get(pkey) != NULL;
}

static int fx_set_priv(EVP_PKEY *pkey, const unsigned char *priv, size_t len)
{
	struct fx_key *k;

	if (len != FX_LEN || !(k = OPENSSL_zalloc(sizeof(*k))))
		return 0;
	memcpy(k->priv, priv, FX_LEN);
	if (!fx_complete(k))
		return 0;
	return fx_assign(pkey, k);
}

static int fx_set_pub(EVP_PKEY *pkey, const unsigned char *pub, size_t len)
{
	return fx_ctrl(pkey, ASN1_PKEY_CTRL_SET1_TLS_ENCPT, (long)len, (void *)pub) == 1;
}

static int fx_get_raw(const unsigned char *src, bool have, unsigned char *out, size_t *len)
{
	if (!have)
		return 0;
	if (out) {
		if (*len < FX_LEN)
			return 0;
		memcpy(out, src, FX_LEN);
	}
	*len = FX_LEN;
	return 1;
}

static int fx_get_pub(const EVP_PKEY *pkey, unsigned char *pub, size_t *len)
{
	const struct fx_key *k = fx_get(pkey);
	return fx_get_raw(k ? k->pub : NULL, k != NULL, pub, len);
}

static int fx_get_priv(const EVP_PKEY *pkey, unsigned char *priv, size_t *len)
{
	const struct fx_key *k = fx_get(pkey);
	return fx_get_raw(k ? k->priv : NULL, k && k->has_priv, priv, len);
}

EVP_PKEY_ASN1_METHOD *osslshim_x25519_ameth_new(void)
{
	EVP_PKEY_ASN1_METHOD *am;

	/* sodium_init(): 0 the first time, 1 when already done, -1 on failure */
	if (sodium_init() < 0 || !fx_provider_init())
		return NULL;
	if (!(am = EVP_PKEY_asn1_new(EVP_PKEY_X25519, 0, "X25519", "X25519 key shares (ktls-bench)")))
		return NULL;
	EVP_PKEY_asn1_set_free(am, fx_free);
	EVP_PKEY_asn1_set_ctrl(am, fx_ctrl);
	EVP_PKEY_asn1_set_public(am, NULL, NULL, fx_pub_cmp, NULL, fx_size, fx_bits);
	EVP_PKEY_asn1_set_param(am, NULL, NULL, NULL, NULL, fx_param_cmp, NULL);
	EVP_PKEY_asn1_set_security_bits(am, fx_security_bits);
	EVP_PKEY_asn1_set_public_check(am, fx_public_check);
	EVP_PKEY_asn1_set_set_priv_key(am, fx_set_priv);
	EVP_PKEY_asn1_set_set_pub_key(am, fx_set_pub);
	EVP_PKEY_asn1_set_get_priv_key(am, fx_get_priv);
	EVP_PKEY_asn1_set_get_pub_key(am, fx_get_pub);
	return am;
}

/* --- the key method -------------------------------------------------------------- */
static int fx_keygen(EVP_PKEY_CTX *ctx, EVP_PKEY *pkey)
{
	struct fx_key *k = OPENSSL_zalloc(sizeof(*k));

	(void)ctx;
	if (!k)
		return 0;
	if (RAND_priv_bytes(k->priv, FX_LEN) != 1) {
		OPENSSL_clear_free(k, sizeof(*k));
		return 0;
	}
	if (!fx_complete(k))
		return 0;
	__atomic_add_fetch(&fx_keygens, 1, __ATOMIC_RELAXED);
	return fx_assign(pkey, k);
}

/* OpenSSL's X25519 key management and key exchange, called straight
 * through the default provider's dispatch tables: an EVP_PKEY_CTX for
 * X25519 would come back to this ENGINE. */
static struct {
	OSSL_PROVIDER *prov;
	void *provctx;
	OSSL_FUNC_keymgmt_new_fn *km_new;
	OSSL_FUNC_keymgmt_free_fn *km_free;
	OSSL_FUNC_keymgmt_import_fn *km_import;
	OSSL_FUNC_keyexch_newctx_fn *kx_new;
	OSSL_FUNC_keyexch_freectx_fn *kx_free;
	OSSL_FUNC_keyexch_init_fn *kx_init;
	OSSL_FUNC_keyexch_set_peer_fn *kx_set_peer;
	OSSL_FUNC_keyexch_derive_fn *kx_derive;
} fxp;

static const OSSL_DISPATCH *fx_find(int op, const char *name)
{
	int no_cache = 0;
	const OSSL_ALGORITHM *a = OSSL_PROVIDER_query_operation(fxp.prov, op, &no_cache);
	size_t n = strlen(name);

	for (; a && a->algorithm_names; a++)
		if (!strncmp(a->algorithm_names, name, n) && (a->algorithm_names[n] == ':' || !a->algorithm_names[n]))
			return a->implementation;
	return NULL;
}

static bool fx_provider_init(void)
{
	const OSSL_DISPATCH *d;

	if (!(fxp.prov = OSSL_PROVIDER_load(NULL, "default")))
		return false;
	fxp.provctx = OSSL_PROVIDER_get0_provider_ctx(fxp.prov);
	for (d = fx_find(OSSL_OP_KEYMGMT, "X25519"); d && d->function_id; d++)
		switch (d->function_id) {
		case OSSL_FUNC_KEYMGMT_NEW: fxp.km_new = OSSL_FUNC_keymgmt_new(d); break;
		case OSSL_FUNC_KEYMGMT_FREE: fxp.km_free = OSSL_FUNC_keymgmt_free(d); break;
		case OSSL_FUNC_KEYMGMT_IMPORT: fxp.km_import = OSSL_FUNC_keymgmt_import(d); break;
		}
	for (d = fx_find(OSSL_OP_KEYEXCH, "X25519"); d && d->function_id; d++)
		switch (d->function_id) {
		case OSSL_FUNC_KEYEXCH_NEWCTX: fxp.kx_new = OSSL_FUNC_keyexch_newctx(d); break;
		case OSSL_FUNC_KEYEXCH_FREECTX: fxp.kx_free = OSSL_FUNC_keyexch_freectx(d); break;
		case OSSL_FUNC_KEYEXCH_INIT: fxp.kx_init = OSSL_FUNC_keyexch_init(d); break;
		case OSSL_FUNC_KEYEXCH_SET_PEER: fxp.kx_set_peer = OSSL_FUNC_keyexch_set_peer(d); break;
		case OSSL_FUNC_KEYEXCH_DERIVE: fxp.kx_derive = OSSL_FUNC_keyexch_derive(d); break;
		}
	if (fxp.provctx && fxp.km_new && fxp.km_free && fxp.km_import && fxp.kx_new && fxp.kx_free && fxp.kx_init &&
	    fxp.kx_set_peer && fxp.kx_derive)
		return true;
	OSSL_PROVIDER_unload(fxp.prov);
	memset(&fxp, 0, sizeof(fxp));
	return false;
}

/* the provider's key object holding these halves as they are (the public
 * key is taken, not recomputed) */
static void *fx_prov_key(const struct fx_key *k, bool with_priv)
{
	OSSL_PARAM p[3], *q = p;
	void *key = fxp.km_new(fxp.provctx);

	*q++ = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)k->pub, FX_LEN);
	if (with_priv)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)k->priv, FX_LEN);
	*q = OSSL_PARAM_construct_end();
	if (key && !fxp.km_import(key, with_priv ? OSSL_KEYMGMT_SELECT_KEYPAIR : OSSL_KEYMGMT_SELECT_PUBLIC_KEY, p)) {
		fxp.km_free(key);
		key = NULL;
	}
	return key;
}

static int fx_derive(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen)
{
	const struct fx_key *mine = fx_get(EVP_PKEY_CTX_get0_pkey(ctx));
	const struct fx_key *peer = fx_get(EVP_PKEY_CTX_get0_peerkey(ctx));
	void *a = NULL, *b = NULL, *x = NULL;
	int ok;

	if (!mine || !peer || !mine->has_priv) {
		ERR_raise(ERR_LIB_EVP, EVP_R_NO_KEY_SET);
		return 0;
	}
	if (!out) {
		*outlen = FX_LEN;
		return 1;
	}
	/* the provider refuses an all-zero shared secret (a low-order peer key) */
	ok = (a = fx_prov_key(mine, true)) && (b = fx_prov_key(peer, false)) && (x = fxp.kx_new(fxp.provctx)) &&
	     fxp.kx_init(x, a, NULL) && fxp.kx_set_peer(x, b) && fxp.kx_derive(x, out, outlen, *outlen);
	if (x)
		fxp.kx_free(x);
	if (a)
		fxp.km_free(a);
	if (b)
		fxp.km_free(b);
	return ok;
}

static int fx_check(EVP_PKEY *pkey)
{
	return fx_public_check(pkey);
}

void osslshim_x25519_pmeth(EVP_PKEY_METHOD *m)
{
	EVP_PKEY_meth_set_keygen(m, NULL, fx_keygen);
	EVP_PKEY_meth_set_derive(m, NULL, fx_derive);
	EVP_PKEY_meth_set_public_check(m, fx_check);
}
#endif

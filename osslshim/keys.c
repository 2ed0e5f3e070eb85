/* osslshim/keys.c: key shares on OpenSSL's direct path (ktls-server and
 * ktls-client).
 *
 * Why: OpenSSL 3.0 makes every handshake's key share through a provider key
 * manager: a fetch of the key management and of the key exchange by name, a
 * key object per side, parameters passed as OSSL_PARAM arrays, copies between
 * them. OpenSSL keeps its direct (pre-3.0) path for key types an ENGINE
 * provides a method for. This file registers an ENGINE whose methods are
 * copies of OpenSSL's own built-in ones (flags included) for EC, RSA, RSA-PSS,
 * Ed25519, Ed448 and X25519: the same code does the same checks (fresh key
 * per handshake, point validation), minus the provider machinery.
 * With OSSLSHIM_X25519, X25519 key shares are x25519.c's instead.
 *
 * Off: --stock-openssl, or a build without OpenSSL's deprecated APIs (ENGINE
 * and EVP_PKEY_METHOD are gone in OpenSSL 4). Tested by
 * tests/host/server-openssl-paths.t (both paths against s_client and
 * gnutls-cli) and tests/unit/osslshim_x25519.c.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE and EVP_PKEY_METHOD: deprecated, still in 3.x */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT

#include <openssl/engine.h>
#include <openssl/err.h>

static const int fast_nids[] = { EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_RSA_PSS, EVP_PKEY_ED25519,
				 EVP_PKEY_ED448, EVP_PKEY_X25519 };
#define N_FAST (sizeof(fast_nids) / sizeof(fast_nids[0]))
static EVP_PKEY_METHOD *fast_meths[N_FAST];
static int fast_list[N_FAST];
static int fast_n;
/* the ASN.1 methods the engine carries: the caller's EC one, ours for X25519 */
static EVP_PKEY_ASN1_METHOD *ameths[2];
static int ameth_list[2];
static int n_ameth;
static int active, x25519_active;

/* TLS 1.2's ServerKeyExchange makes the peer's key from "parameters" (for
 * X25519, just the type) before setting its public value: the built-in
 * method has no paramgen, since X25519 has no parameters. */
static int x25519_paramgen(EVP_PKEY_CTX *ctx, EVP_PKEY *pkey)
{
	(void)ctx;
	return EVP_PKEY_set_type(pkey, EVP_PKEY_X25519);
}

static int fast_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
	(void)e;
	if (!pmeth) {
		*nids = fast_list;
		return fast_n;
	}
	for (int i = 0; i < fast_n; i++)
		if (fast_list[i] == nid) {
			*pmeth = fast_meths[i];
			return 1;
		}
	*pmeth = NULL;
	return 0;
}

static int fast_asn1_meths(ENGINE *e, EVP_PKEY_ASN1_METHOD **ameth, const int **nids, int nid)
{
	(void)e;
	if (!ameth) {
		*nids = ameth_list;
		return n_ameth;
	}
	*ameth = NULL;
	for (int i = 0; i < n_ameth; i++)
		if (ameth_list[i] == nid)
			*ameth = ameths[i];
	return *ameth != NULL;
}

int osslshim_keys_active(void)
{
	return active;
}

int osslshim_keys_x25519_active(void)
{
	return x25519_active;
}

int osslshim_keys_install(EVP_PKEY_ASN1_METHOD *asn1_ec, unsigned flags)
{
	static int done;
	EVP_PKEY_ASN1_METHOD *x25519_ameth = NULL;
	ENGINE *e;

	if (done)
		return active ? 0 : -1;
	done = 1;
	if (asn1_ec) {
		ameths[n_ameth] = asn1_ec;
		ameth_list[n_ameth++] = EVP_PKEY_EC;
	}
	if ((flags & OSSLSHIM_X25519) && (x25519_ameth = osslshim_x25519_ameth_new())) {
		ameths[n_ameth] = x25519_ameth;
		ameth_list[n_ameth++] = EVP_PKEY_X25519;
	}
	for (size_t i = 0; i < N_FAST; i++) {
		const EVP_PKEY_METHOD *builtin = EVP_PKEY_meth_find(fast_nids[i]);
		int flags = 0;
		EVP_PKEY_METHOD *m;
		if (!builtin)
			continue;
		/* the flags too: Ed25519's one-shot signatures (SIGCTX_CUSTOM) need them */
		EVP_PKEY_meth_get0_info(NULL, &flags, builtin);
		if (!(m = EVP_PKEY_meth_new(fast_nids[i], flags)))
			continue;
		EVP_PKEY_meth_copy(m, builtin);
		if (fast_nids[i] == EVP_PKEY_X25519) {
			EVP_PKEY_meth_set_paramgen(m, NULL, x25519_paramgen);
			if (x25519_ameth)
				osslshim_x25519_pmeth(m);
		}
		fast_meths[fast_n] = m;
		fast_list[fast_n++] = fast_nids[i];
	}
	/* ENGINE_add: OpenSSL's engine list owns the engine (and frees it in
	 * OPENSSL_cleanup); the method table registered next only points at it. */
	e = ENGINE_new();
	if (!e || !fast_n || !ENGINE_set_id(e, "ktls-builtin-keys") ||
	    !ENGINE_set_name(e, "OpenSSL built-in key methods (direct path)") ||
	    !ENGINE_set_pkey_meths(e, fast_pkey_meths) ||
	    (n_ameth && !ENGINE_set_pkey_asn1_meths(e, fast_asn1_meths)) || !ENGINE_add(e) ||
	    !ENGINE_register_pkey_meths(e) || (n_ameth && !ENGINE_register_pkey_asn1_meths(e))) {
		ENGINE_free(e);
		ERR_clear_error();
		return -1;
	}
	ENGINE_free(e);
	active = 1;
	x25519_active = x25519_ameth != NULL;
	return 0;
}
#endif

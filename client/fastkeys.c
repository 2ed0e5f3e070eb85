/* client/fastkeys.c: cheaper server-key handling on OpenSSL 3.0.
 *
 * Every handshake makes the client parse the server's certificate. OpenSSL
 * 3.0 decodes the certificate's public key through its provider decoders:
 * each parse builds a decoder context that walks every key manager and
 * decoder of every loaded provider, which costs more CPU than the signature
 * check itself (measured here: d2i_X509 of a P-256 certificate ~160 us, ~40 us
 * on the direct path). OpenSSL keeps its direct (pre-3.0) path for key types
 * an ENGINE provides a method for. This file registers an ENGINE whose
 * methods are copies of OpenSSL's own built-in ones for EC, RSA, RSA-PSS,
 * Ed25519 and Ed448: the same code does the same checks, minus the decoder
 * machinery. The server's work is unchanged.
 *
 * --provider-keys keeps OpenSSL's default behaviour (for comparison).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE and EVP_PKEY_METHOD: deprecated, still in 3.x */
#include "client/client.h"

#include <openssl/evp.h>
#include <openssl/opensslconf.h>

#ifndef OPENSSL_NO_ENGINE
#include <openssl/engine.h>

static const int fast_nids[] = { EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_RSA_PSS, EVP_PKEY_ED25519,
				 EVP_PKEY_ED448 };
#define N_FAST (sizeof(fast_nids) / sizeof(fast_nids[0]))
static EVP_PKEY_METHOD *fast_meths[N_FAST];
static int fast_list[N_FAST];
static int fast_n;

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

int fastkeys_install(void)
{
	static int done;
	ENGINE *e;

	if (done)
		return 0;
	for (size_t i = 0; i < N_FAST; i++) {
		const EVP_PKEY_METHOD *builtin = EVP_PKEY_meth_find(fast_nids[i]);
		EVP_PKEY_METHOD *m = builtin ? EVP_PKEY_meth_new(fast_nids[i], 0) : NULL;
		if (!m)
			continue;
		EVP_PKEY_meth_copy(m, builtin);
		fast_meths[fast_n] = m;
		fast_list[fast_n++] = fast_nids[i];
	}
	/* ENGINE_add: OpenSSL's engine list owns the engine (and frees it in
	 * OPENSSL_cleanup); the method table registered next only points at it. */
	e = ENGINE_new();
	if (!e || !fast_n || !ENGINE_set_id(e, "ktls-client-builtin-keys") ||
	    !ENGINE_set_name(e, "OpenSSL built-in key methods (direct key decoding)") ||
	    !ENGINE_set_pkey_meths(e, fast_pkey_meths) || !ENGINE_add(e) ||
	    !ENGINE_register_pkey_meths(e)) {
		ENGINE_free(e);
		return -1;
	}
	ENGINE_free(e);
	done = 1;
	return 0;
}
#else
int fastkeys_install(void)
{
	return -1; /* OpenSSL built without ENGINE support: the default path stays */
}
#endif

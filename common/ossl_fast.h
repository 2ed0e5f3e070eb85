/* common/ossl_fast.h: OpenSSL 3.0's handshake work without its per-call
 * provider machinery, for both ktls-server and ktls-client.
 *
 * Two independent shims, each a plain OpenSSL mechanism, each optional
 * (the programs' --provider-keys leaves both out):
 *  - ossl_fastkeys.c: an ENGINE whose key methods are copies of OpenSSL's
 *    own built-in ones (EC, RSA, RSA-PSS, Ed25519, Ed448, X25519), so that
 *    the key shares of every handshake (and what else asks for those types
 *    by name) take OpenSSL's direct path instead of a provider key manager:
 *    the same code and checks, minus the fetches and key-management copies.
 *  - ossl_fastkdf.c: a small provider with TLS 1.3's key schedule
 *    (TLS13-KDF) and HMAC over SHA-256/384 computed directly on OpenSSL's
 *    SHA functions, preferred through a property query; everything else still
 *    comes from the default provider. A wrong key fails the Finished check,
 *    so it cannot silently pass.
 */
#ifndef KTLS_COMMON_OSSL_FAST_H
#define KTLS_COMMON_OSSL_FAST_H

#include <openssl/evp.h>

/* Register the ENGINE of built-in key methods. ec_ameth, when not NULL, is an
 * EC ASN.1 method the engine also carries (ktls-client's decoder of server
 * keys); the engine then owns it. flags: OSSL_FAST_X25519 makes X25519 key
 * shares ossl_fastx25519.c's. Call once before any handshake; later calls
 * do nothing. 0, or -1 when unavailable (OpenSSL without ENGINE support). */
#define OSSL_FAST_X25519 1u
int ossl_fastkeys_install(EVP_PKEY_ASN1_METHOD *ec_ameth, unsigned flags);
/* 1 once ossl_fastkeys_install() succeeded. */
int ossl_fastkeys_active(void);

/* ossl_fastx25519.c (used by ossl_fastkeys_install): the X25519 ASN.1
 * method (NULL when common/x25519_base.c is not ready), the changes to the
 * engine's copy of OpenSSL's X25519 key method, and how many keys it made. */
EVP_PKEY_ASN1_METHOD *ossl_fastx25519_ameth_new(void);
void ossl_fastx25519_pmeth(EVP_PKEY_METHOD *m);
unsigned long ossl_fastx25519_keygens(void);

/* The property query that prefers the fast TLS13-KDF and HMAC. */
#define OSSL_FAST_PROPQ "?ktls.fast=yes"
/* Load the provider (and the default one, which loading a provider by hand
 * no longer loads implicitly). Returns OSSL_FAST_PROPQ for SSL_CTX_new_ex(),
 * or NULL when it could not be loaded. Call once before any SSL_CTX is made;
 * later calls return the first answer. */
const char *ossl_fastkdf_install(void);
/* Unload it, once no SSL_CTX is left (at exit). */
void ossl_fastkdf_cleanup(void);

#endif

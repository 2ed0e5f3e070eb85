/* osslshim/osslshim.h: workarounds for OpenSSL 3.0's slow handshake paths.
 *
 * Why: OpenSSL 3.0 sends every handshake's key shares, server-key decoding,
 * signature checks and key schedule through its provider machinery (fetches
 * by name, OSSL_PARAM arrays, key-manager copies, decoder walks), which costs
 * more CPU than much of the cryptography itself. These shims take OpenSSL's
 * own code by cheaper routes; the primitives stay OpenSSL's and libsodium's.
 *
 * How to turn them off: `--stock-openssl` (old name `--provider-keys`) in
 * ktls-server and ktls-client turns every one off at once. They compile to
 * nothing where OpenSSL lacks the APIs they use: ENGINE, EVP_PKEY_METHOD,
 * EVP_PKEY_ASN1_METHOD, EC_KEY_METHOD and the SHA*_Init digests, deprecated
 * in 3.0 and (the first three) removed in 4.0; a build with them hidden
 * (`make nodeprecated`: -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED)
 * has no shims and runs stock OpenSSL whatever the switch says. And they
 * stay off where the OpenSSL loaded at run time is not of the 3.0 series
 * they are made and tested for (osslshim.c says why).
 *
 * The shims, each tested against OpenSSL itself (tests/unit/osslshim_*):
 *   keys.c      an ENGINE of OpenSSL's built-in key methods: key shares on the
 *               direct (pre-3.0) path                       server, client
 *   x25519.c    X25519 key shares whose public half comes from libsodium
 *               (crypto_scalarmult_curve25519_base)        client
 *   kdf.c       a provider with TLS13-KDF and HMAC on OpenSSL's SHA-2
 *               functions, without per-call fetches        server, client
 *   eckeys.c    the server's EC key decoded once, not per handshake  client
 *   ecverify.c  P-256 ECDSA verification with a precomputed table of the
 *               server's key (OpenSSL's point arithmetic)  client
 *   mem.c       per-thread caches for OpenSSL's allocations   client
 * osslshim.c installs the ones a program uses, in one call.
 */
#ifndef KTLS_OSSLSHIM_OSSLSHIM_H
#define KTLS_OSSLSHIM_OSSLSHIM_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/macros.h>
#include <openssl/opensslconf.h>
#include <openssl/opensslv.h>

/* 1 when this OpenSSL has every API the shims use. */
#if OPENSSL_VERSION_MAJOR < 4 && !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(OPENSSL_NO_ENGINE) && \
	!defined(OPENSSL_NO_EC)
#define OSSLSHIM_BUILT 1
#else
#define OSSLSHIM_BUILT 0
#endif

#include <openssl/bn.h>
#include <openssl/evp.h>

/* --- the one entry point (osslshim.c) ----------------------------------------- */
enum osslshim_prog {
	OSSLSHIM_SERVER, /* keys, kdf */
	OSSLSHIM_CLIENT, /* mem, keys with x25519 and eckeys (ecverify), kdf */
};

struct osslshim_state {
	const char *paths;      /* "shims": all on; "stock": none; "partial" */
	const char *why_stock;  /* NULL, or why some are off, as a sentence */
	const char *propq;      /* the SSL_CTX's property query, or NULL */
	bool keys, x25519, eckeys, kdf, mem;
};

/* Turn on the shims prog uses, unless stock (the program's switch). Call it
 * first thing after parsing the command line, before OpenSSL allocates
 * anything (mem) and before any SSL_CTX exists; later calls return the first
 * answer. Never fails: what cannot be installed stays stock, and the state
 * says so. */
const struct osslshim_state *osslshim_install(enum osslshim_prog prog, bool stock);
/* The state of the last osslshim_install() (all off before it). */
const struct osslshim_state *osslshim_get(void);
/* Release what the shims hold (call last in main()). */
void osslshim_cleanup(void);

/* --- keys.c ------------------------------------------------------------------------
 * Register the ENGINE of built-in key methods. ec_ameth, when not NULL, is an
 * EC ASN.1 method the engine also carries (eckeys.c); the engine then owns
 * it. OSSLSHIM_X25519 makes X25519 key shares x25519.c's. Call once; later
 * calls do nothing. 0, or -1 when unavailable. */
#define OSSLSHIM_X25519 1u
int osslshim_keys_install(EVP_PKEY_ASN1_METHOD *ec_ameth, unsigned flags);
int osslshim_keys_active(void);
int osslshim_keys_x25519_active(void); /* X25519 key shares are x25519.c's */

/* --- x25519.c (used by keys.c) ----------------------------------------------------- */
EVP_PKEY_ASN1_METHOD *osslshim_x25519_ameth_new(void);  /* NULL when unavailable */
void osslshim_x25519_pmeth(EVP_PKEY_METHOD *m);
unsigned long osslshim_x25519_keygens(void);             /* keys made on this path */

/* --- kdf.c ---------------------------------------------------------------------------
 * The property query that prefers the shim's TLS13-KDF and HMAC. */
#define OSSLSHIM_PROPQ "?ktls.fast=yes"
/* Load the provider (and the default one, which loading a provider by hand
 * no longer loads implicitly): OSSLSHIM_PROPQ, or NULL when it could not be
 * loaded. Later calls return the first answer. */
const char *osslshim_kdf_install(void);
void osslshim_kdf_cleanup(void);

/* --- eckeys.c -------------------------------------------------------------------------
 * The EC ASN.1 method with the server-key cache, for osslshim_keys_install()
 * (NULL when unavailable); its counters; drop the cache. */
EVP_PKEY_ASN1_METHOD *osslshim_eckeys_ameth(void);
void osslshim_eckeys_stats(unsigned long *hits, unsigned long *misses);
void osslshim_eckeys_cleanup(void);

/* --- ecverify.c -------------------------------------------------------------------------
 * A copy of public EC key ec (an EC_KEY) whose ECDSA verifications use a
 * precomputed table of the key; NULL when not possible (not P-256, a private
 * key, no shims). Verifications done on that path so far. */
struct ec_key_st *osslshim_ecverify_key_new(const struct ec_key_st *ec);
unsigned long osslshim_ecverify_used(void);
/* r = a^-1 mod n for an odd n of at most 256 bits and 0 < a < n, in variable
 * time (public values only). 1, or 0 when the inputs do not fit or
 * gcd(a, n) != 1. */
int osslshim_mod_inverse(BIGNUM *r, const BIGNUM *a, const BIGNUM *n);

/* --- mem.c -------------------------------------------------------------------------------
 * Per-thread caches of freed OpenSSL blocks (CRYPTO_set_mem_functions). false
 * when not installed (AddressSanitizer, KTLS_CLIENT_OSSL_MALLOC=libc, or
 * OpenSSL had already allocated). osslshim_mem_release() frees the calling
 * thread's cache and stops it keeping blocks (other threads' caches are freed
 * when they end). */
bool osslshim_mem_install(void);
void osslshim_mem_release(void);
size_t osslshim_mem_class_size_for(size_t n); /* the block a request of n gets; 0: not cached */

#endif

/* osslshim/osslshim.c: the one switch for every OpenSSL shim of a program.
 *
 * Why: each program needs a different set of shims (osslshim.h), installed in
 * a set order (the allocator before OpenSSL's first allocation, the ENGINE
 * and the provider before the first SSL_CTX), and its JSON must say which
 * paths its handshakes took. Turn them all off with the programs'
 * --stock-openssl; where OpenSSL lacks their APIs (OSSLSHIM_BUILT 0) this file
 * also stands in for them, so that the programs link the same calls.
 */
#include "osslshim/osslshim.h"

#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

static struct osslshim_state state = { .paths = "stock", .why_stock = "not installed" };
static bool installed;

const struct osslshim_state *osslshim_get(void)
{
	return &state;
}

#if OSSLSHIM_BUILT
/* The OpenSSL series the shims are made and tested for: they copy its
 * built-in methods and rely on how its libssl uses them. The library loaded
 * at run time counts (libssl.so.3 is every 3.x): on 3.5, for one, the
 * ENGINE of key methods also catches the X25519 and P-256 halves that the
 * default provider's ML-KEM hybrid key shares (X25519MLKEM768, its default)
 * make through EVP, which then fail (the server) or crash (the client). */
#define OSSLSHIM_SERIES 0x300u /* 3.0.x: OpenSSL_version_num() >> 20 */

const struct osslshim_state *osslshim_install(enum osslshim_prog prog, bool stock)
{
	static char why[200];
	bool client = prog == OSSLSHIM_CLIENT;
	int want, have;

	if (installed)
		return &state;
	installed = true;
	state.why_stock = NULL;
	if (stock) {
		state.why_stock = "--stock-openssl";
		return &state;
	}
	if ((OpenSSL_version_num() >> 20) != OSSLSHIM_SERIES) {
		unsigned long v = OpenSSL_version_num();

		/* short enough for a 100-column note line (client-trace.t) */
		snprintf(why, sizeof(why), "off: made for OpenSSL 3.0.x, this is %lu.%lu.%lu",
			 v >> 28, (v >> 20) & 0xff, (v >> 4) & 0xff);
		state.why_stock = why;
		return &state;
	}
	/* the allocator first: it is refused once OpenSSL has allocated. It
	 * changes no OpenSSL path, so it does not count in state.paths */
	if (client)
		state.mem = osslshim_mem_install();
	state.keys = osslshim_keys_install(client ? osslshim_eckeys_ameth() : NULL, client ? OSSLSHIM_X25519 : 0) == 0;
	state.x25519 = client && osslshim_keys_x25519_active();
	state.eckeys = client && state.keys && osslshim_eckeys_ameth() != NULL;
	state.propq = osslshim_kdf_install();
	state.kdf = state.propq != NULL;
	want = client ? 4 : 2;
	have = state.keys + state.kdf + (client ? state.x25519 + state.eckeys : 0);
	state.paths = have == want ? "shims" : have ? "partial" : "stock";
	if (have < want)
		state.why_stock = !state.keys ? "OpenSSL refused the ENGINE of built-in key methods"
				: !state.kdf  ? "the TLS13-KDF provider did not load"
					      : "the X25519 or server-key method is unavailable";
	ERR_clear_error();
	return &state;
}

void osslshim_cleanup(void)
{
	if (state.eckeys)
		osslshim_eckeys_cleanup();
	if (state.kdf)
		osslshim_kdf_cleanup();
	if (state.mem)
		osslshim_mem_release();
}
#else
/* This OpenSSL lacks the APIs (deprecated hidden, or 4.x): stock paths only. */
const struct osslshim_state *osslshim_install(enum osslshim_prog prog, bool stock)
{
	(void)prog;
	if (!installed) {
		installed = true;
		state.why_stock = stock ? "--stock-openssl"
					: "not built (no ENGINE/EVP_PKEY_METHOD in this API)";
	}
	return &state;
}

void osslshim_cleanup(void)
{
}

int osslshim_keys_install(EVP_PKEY_ASN1_METHOD *ec_ameth, unsigned flags)
{
	(void)ec_ameth, (void)flags;
	return -1;
}

int osslshim_keys_active(void)
{
	return 0;
}

int osslshim_keys_x25519_active(void)
{
	return 0;
}

EVP_PKEY_ASN1_METHOD *osslshim_x25519_ameth_new(void)
{
	return NULL;
}

void osslshim_x25519_pmeth(EVP_PKEY_METHOD *m)
{
	(void)m;
}

unsigned long osslshim_x25519_keygens(void)
{
	return 0;
}

const char *osslshim_kdf_install(void)
{
	return NULL;
}

void osslshim_kdf_cleanup(void)
{
}

EVP_PKEY_ASN1_METHOD *osslshim_eckeys_ameth(void)
{
	return NULL;
}

void osslshim_eckeys_stats(unsigned long *hits, unsigned long *misses)
{
	*hits = *misses = 0;
}

void osslshim_eckeys_cleanup(void)
{
}

struct ec_key_st *osslshim_ecverify_key_new(const struct ec_key_st *ec)
{
	(void)ec;
	return NULL;
}

unsigned long osslshim_ecverify_used(void)
{
	return 0;
}

int osslshim_mod_inverse(BIGNUM *r, const BIGNUM *a, const BIGNUM *n)
{
	(void)r, (void)a, (void)n;
	return 0;
}

bool osslshim_mem_install(void)
{
	return false;
}

void osslshim_mem_release(void)
{
}

size_t osslshim_mem_class_size_for(size_t n)
{
	(void)n;
	return 0;
}
#endif

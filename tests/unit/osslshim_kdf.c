/* tests/unit/osslshim_kdf.c: the shim's TLS13-KDF (osslshim/kdf.c) gives the bytes of
 * OpenSSL's own (the default provider's), and RFC 8448's key schedule.
 *
 * Oracle: the default provider's TLS13-KDF, fetched with
 * "provider=default", on the same parameters: 2,000 random cases of both
 * modes (HKDF-Expand-Label with and without context, outputs of one byte to
 * three hash lengths; HKDF-Extract with and without salt and key) over
 * SHA-256 and SHA-384. Plus the early and handshake secrets of RFC 8448's
 * "Simple 1-RTT Handshake", and a table of edge and malformed inputs (no
 * key, no digest, empty or oversized outputs, labels and contexts at and
 * past their 255-byte limits, parameters of the wrong type, modes and
 * digests TLS 1.3 does not use) where each implementation's verdict is
 * compared: whatever the default provider refuses, the shim refuses; where
 * both accept, the bytes are the same; the shim refuses more only where the
 * table says why (digests and sizes no TLS 1.3 handshake uses, an empty
 * output).
 *
 * Its HMAC: against the default provider's on random keys and messages
 * (SHA-256, SHA-384; one-shot through EVP_Q_mac as libssl's Finished does,
 * and init/update/dup/re-init as TLS 1.2's PRF does), and the cases it
 * hands to the default provider (SHA-1, a long key, the CBC record MAC's
 * parameters) still compute the right MAC; and the same comparison of
 * verdicts for HMAC's malformed inputs (no key, no or an unknown digest, an
 * output buffer too small, an empty key). */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <string.h>

#include "osslshim/osslshim.h"
#include "tests/tap.h"

#if OSSLSHIM_BUILT

static int derive(EVP_KDF *kdf, const char *md, int mode, const unsigned char *key, size_t klen,
		  const unsigned char *salt, size_t slen, const char *label, const unsigned char *data,
		  size_t dlen, unsigned char *out, size_t outlen)
{
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[8], *q = p;
	static const unsigned char prefix[] = "tls13 ";
	int rc;

	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	if (key)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, klen);
	if (salt)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, slen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, 6);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	if (data)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)data, dlen);
	*q = OSSL_PARAM_construct_end();
	rc = c ? EVP_KDF_derive(c, out, outlen, p) : -1;
	EVP_KDF_CTX_free(c);
	ERR_clear_error();
	return rc;
}

static unsigned rnd(unsigned n)
{
	unsigned v;
	RAND_bytes((unsigned char *)&v, sizeof(v));
	return v % n;
}

static void hex(const char *s, unsigned char *out)
{
	for (size_t i = 0; s[2 * i]; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

/* HMAC through EVP_MAC with both implementations: 1 when equal */
static int mac_same(EVP_MAC *a, EVP_MAC *b, const char *md, const unsigned char *key, size_t klen,
		    const unsigned char *msg, size_t mlen, bool dup_reinit)
{
	unsigned char oa[64], ob[64], oa2[64], ob2[64];
	size_t la = 0, lb = 0, la2 = 0, lb2 = 0;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)md, 0), OSSL_PARAM_END };
	EVP_MAC *m[2] = { a, b };
	unsigned char *o[2] = { oa, ob }, *o2[2] = { oa2, ob2 };
	size_t *l[2] = { &la, &lb }, *l2[2] = { &la2, &lb2 };

	for (int k = 0; k < 2; k++) {
		EVP_MAC_CTX *c = EVP_MAC_CTX_new(m[k]), *d;
		if (!c || !EVP_MAC_init(c, key, klen, p) || !EVP_MAC_update(c, msg, mlen / 2)) {
			EVP_MAC_CTX_free(c);
			return 0;
		}
		d = dup_reinit ? EVP_MAC_CTX_dup(c) : NULL;
		if (!EVP_MAC_update(c, msg + mlen / 2, mlen - mlen / 2) || !EVP_MAC_final(c, o[k], l[k], 64))
			return 0;
		if (dup_reinit) {
			/* the copy goes on from the half; the original starts again with its key */
			if (!d || !EVP_MAC_update(d, msg + mlen / 2, mlen - mlen / 2) ||
			    !EVP_MAC_final(d, o2[k], l2[k], 64) || memcmp(o2[k], o[k], *l[k]))
				return 0;
			if (!EVP_MAC_init(c, NULL, 0, NULL) || !EVP_MAC_update(c, msg, mlen) ||
			    !EVP_MAC_final(c, o2[k], l2[k], 64) || memcmp(o2[k], o[k], *l[k]))
				return 0;
		}
		EVP_MAC_CTX_free(d);
		EVP_MAC_CTX_free(c);
	}
	ERR_clear_error();
	return la && la == lb && !memcmp(oa, ob, la);
}

/* --- verdicts on edge and malformed inputs ------------------------------------------- */
enum kwant {
	BOTH_REFUSE,  /* the default provider refuses: so must the shim */
	BOTH_SAME,    /* both accept, with the same bytes */
	SHIM_REFUSES, /* the default provider accepts; the shim refuses, by design */
};

struct kcase {
	const char *what;
	const char *mode_str; /* the mode as a string, or NULL for mode */
	int mode;             /* -1: no mode parameter */
	const char *md;       /* NULL: no digest parameter */
	int klen, slen, plen, llen, dlen; /* -1: parameter absent */
	size_t outlen;
	bool key_as_utf8;     /* the key passed with the wrong type */
	enum kwant want;
};

#define EXP EVP_KDF_HKDF_MODE_EXPAND_ONLY
#define EXT EVP_KDF_HKDF_MODE_EXTRACT_ONLY
static const struct kcase kcases[] = {
	{ "expand: the usual", NULL, EXP, "SHA256", 32, -1, 6, 7, 32, 16, false, BOTH_SAME },
	{ "expand: mode as a string", "EXPAND_ONLY", 0, "SHA256", 32, -1, 6, 7, 32, 16, false, BOTH_SAME },
	{ "extract: mode as a string", "EXTRACT_ONLY", 0, "SHA256", 32, 32, 6, 7, -1, 32, false, BOTH_SAME },
	{ "expand: no key", NULL, EXP, "SHA256", -1, -1, 6, 7, 32, 16, false, BOTH_REFUSE },
	{ "expand: no digest", NULL, EXP, NULL, 32, -1, 6, 7, 32, 16, false, BOTH_REFUSE },
	{ "extract: no digest", NULL, EXT, NULL, 32, -1, 6, 7, -1, 32, false, BOTH_REFUSE },
	{ "expand: an unknown digest", NULL, EXP, "NO-SUCH-HASH", 32, -1, 6, 7, 32, 16, false, BOTH_REFUSE },
	{ "expand: an unknown mode string", "EXPAND_LATER", 0, "SHA256", 32, -1, 6, 7, 32, 16, false, BOTH_REFUSE },
	{ "EXTRACT_AND_EXPAND (not a TLS 1.3 mode)", NULL, EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, "SHA256", 32, -1,
	  6, 7, -1, 32, false, BOTH_REFUSE },
	{ "expand: 0 bytes out (libssl never asks for none)", NULL, EXP, "SHA256", 32, -1, 6, 7, 32, 0, false,
	  SHIM_REFUSES },
	{ "expand: 255 hash lengths out (the most)", NULL, EXP, "SHA256", 32, -1, 6, 7, 32, 255 * 32, false,
	  BOTH_SAME },
	{ "expand: one byte past 255 hash lengths", NULL, EXP, "SHA256", 32, -1, 6, 7, 32, 255 * 32 + 1, false,
	  BOTH_REFUSE },
	{ "expand SHA-384: one byte past 255 hash lengths", NULL, EXP, "SHA2-384", 48, -1, 6, 7, 48, 255 * 48 + 1,
	  false, BOTH_REFUSE },
	{ "expand: prefix + label of 255 bytes (the most)", NULL, EXP, "SHA256", 32, -1, 6, 249, 32, 16, false,
	  BOTH_SAME },
	{ "expand: prefix + label of 256 bytes", NULL, EXP, "SHA256", 32, -1, 6, 250, 32, 16, false, BOTH_REFUSE },
	{ "expand: a context of 255 bytes (the most)", NULL, EXP, "SHA256", 32, -1, 6, 7, 255, 16, false,
	  BOTH_SAME },
	{ "expand: a context of 256 bytes", NULL, EXP, "SHA256", 32, -1, 6, 7, 256, 16, false, BOTH_REFUSE },
	{ "expand: the key as a UTF-8 string", NULL, EXP, "SHA256", 32, -1, 6, 7, 32, 16, true, BOTH_REFUSE },
	{ "extract: 31 bytes out (one short of the hash)", NULL, EXT, "SHA256", 32, 32, 6, 7, -1, 31, false,
	  BOTH_REFUSE },
	{ "extract: 33 bytes out (one past the hash)", NULL, EXT, "SHA256", 32, 32, 6, 7, -1, 33, false,
	  BOTH_REFUSE },
	{ "extract SHA-384: 32 bytes out", NULL, EXT, "SHA2-384", 48, 48, 6, 7, -1, 32, false, BOTH_REFUSE },
	{ "extract: no key (HashLen zeros)", NULL, EXT, "SHA256", -1, 32, 6, 7, -1, 32, false, BOTH_SAME },
	{ "extract: an empty key", NULL, EXT, "SHA256", 0, 32, 6, 7, -1, 32, false, BOTH_SAME },
	{ "extract: no salt", NULL, EXT, "SHA256", 32, -1, 6, 7, -1, 32, false, BOTH_SAME },
	{ "expand: SHA-1 (no TLS 1.3 suite)", NULL, EXP, "SHA1", 20, -1, 6, 7, 20, 16, false, SHIM_REFUSES },
	{ "expand: SHA-512 (no TLS 1.3 suite)", NULL, EXP, "SHA512", 64, -1, 6, 7, 32, 16, false, SHIM_REFUSES },
	{ "extract: SHA3-256 (no TLS 1.3 suite)", NULL, EXT, "SHA3-256", 32, -1, 6, 7, -1, 32, false,
	  SHIM_REFUSES },
	{ "extract: a 65-byte salt (no TLS 1.3 secret is that long)", NULL, EXT, "SHA256", 32, 65, 6, 7, -1, 32,
	  false, SHIM_REFUSES },
	{ "extract: a 1025-byte key (no group's secret is that long)", NULL, EXT, "SHA256", 1025, 32, 6, 7, -1, 32,
	  false, SHIM_REFUSES },
};

/* 1 accepted (bytes in out), 0 refused */
static int kcase_run(EVP_KDF *kdf, const struct kcase *c, const unsigned char *rnd, unsigned char *out)
{
	EVP_KDF_CTX *x = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[10], *q = p;
	int mode = c->mode, rc;

	if (c->mode_str)
		*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)c->mode_str, 0);
	else if (c->mode >= 0)
		*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	if (c->md)
		*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)c->md, 0);
	if (c->klen >= 0 && c->key_as_utf8)
		*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_KEY, "not an octet string", 0);
	else if (c->klen >= 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)rnd, (size_t)c->klen);
	if (c->slen >= 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(rnd + 1100), (size_t)c->slen);
	if (c->plen >= 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, "tls13 ", (size_t)c->plen);
	if (c->llen >= 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)(rnd + 1200), (size_t)c->llen);
	if (c->dlen >= 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)(rnd + 1500), (size_t)c->dlen);
	*q = OSSL_PARAM_construct_end();
	rc = x && EVP_KDF_derive(x, out, c->outlen, p) == 1;
	EVP_KDF_CTX_free(x);
	ERR_clear_error();
	return rc;
}

static void test_kdf_verdicts(EVP_KDF *fast, EVP_KDF *ref)
{
	static unsigned char rnd[2000], a[255 * 48 + 1], b[255 * 48 + 1];
	static const char *verdict[] = { "both refuse", "both accept, same bytes", "only the shim refuses" };
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(kcases) / sizeof(kcases[0]); i++) {
		const struct kcase *c = &kcases[i];
		memset(a, 0, sizeof(a));
		memset(b, 0xa5, sizeof(b));
		int ra = kcase_run(fast, c, rnd, a), rb = kcase_run(ref, c, rnd, b);
		enum kwant got = !rb ? (ra ? (enum kwant)-1 : BOTH_REFUSE)
			       : ra ? (memcmp(a, b, c->outlen) ? (enum kwant)-1 : BOTH_SAME) : SHIM_REFUSES;
		OK(got == c->want, "TLS13-KDF, %s: %s (default provider %s, shim %s%s)", c->what, verdict[c->want],
		   rb ? "accepts" : "refuses", ra ? "accepts" : "refuses",
		   ra && rb && memcmp(a, b, c->outlen) ? ", DIFFERENT BYTES" : "");
	}
}

/* HMAC: 1 accepted (out, *outl), 0 refused */
static int hcase_run(EVP_MAC *mac, const char *md, const unsigned char *key, size_t klen, size_t outsize,
		     unsigned char *out, size_t *outl)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
	int rc;

	if (md)
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	*outl = 0;
	rc = c && EVP_MAC_init(c, key, klen, p) == 1 && EVP_MAC_update(c, (const unsigned char *)"abc", 3) == 1 &&
	     EVP_MAC_final(c, out, outl, outsize) == 1;
	EVP_MAC_CTX_free(c);
	ERR_clear_error();
	return rc;
}

static void test_hmac_verdicts(EVP_MAC *fast, EVP_MAC *ref)
{
	static const struct {
		const char *what, *md;
		int klen; /* -1: no key */
		size_t outsize;
		bool same;  /* both accept with the same bytes; else both refuse */
	} hc[] = {
		{ "the usual", "SHA256", 32, 64, true },
		{ "no key", "SHA256", -1, 64, false },
		{ "no digest", NULL, 32, 64, false },
		{ "an unknown digest", "NO-SUCH-HASH", 32, 64, false },
		{ "an output buffer one byte short", "SHA256", 32, 31, false },
		{ "SHA-384, an output buffer one byte short", "SHA384", 48, 47, false },
		{ "an output buffer of exactly the MAC", "SHA384", 48, 48, true },
		{ "SHA3-256 (handed to the default provider)", "SHA3-256", 32, 64, true },
		{ "a 129-byte key (handed to the default provider)", "SHA256", 129, 64, true },
		{ "a 128-byte key (the longest the shim keeps)", "SHA384", 128, 64, true },
	};
	unsigned char key[200], a[64], b[64];
	size_t la, lb;
	RAND_bytes(key, sizeof(key));
	for (size_t i = 0; i < sizeof(hc) / sizeof(hc[0]); i++) {
		const unsigned char *k = hc[i].klen >= 0 ? key : NULL;
		size_t kl = hc[i].klen >= 0 ? (size_t)hc[i].klen : 0;
		int ra = hcase_run(fast, hc[i].md, k, kl, hc[i].outsize, a, &la);
		int rb = hcase_run(ref, hc[i].md, k, kl, hc[i].outsize, b, &lb);
		bool good = hc[i].same ? ra && rb && la == lb && !memcmp(a, b, la) : !ra && !rb;
		OK(good, "HMAC, %s: %s (default provider %s, shim %s)", hc[i].what,
		   hc[i].same ? "both accept, same bytes" : "both refuse", rb ? "accepts" : "refuses",
		   ra ? "accepts" : "refuses");
	}
}

int main(void)
{
	const char *propq = osslshim_kdf_install();
	OK(propq != NULL, "the provider loads");
	if (!propq)
		return tap_done();
	EVP_KDF *fast = EVP_KDF_fetch(NULL, "TLS13-KDF", propq);
	EVP_KDF *ref = EVP_KDF_fetch(NULL, "TLS13-KDF", "provider=default");
	OK(fast && !strcmp(OSSL_PROVIDER_get0_name(EVP_KDF_get0_provider(fast)), "ktls-fast"),
	   "OSSLSHIM_PROPQ fetches the shared TLS13-KDF");
	OK(ref && !strcmp(OSSL_PROVIDER_get0_name(EVP_KDF_get0_provider(ref)), "default"),
	   "the default provider's is still there (the oracle)");
	EVP_KDF *plain = EVP_KDF_fetch(NULL, "HKDF", OSSLSHIM_PROPQ);
	OK(plain && !strcmp(OSSL_PROVIDER_get0_name(EVP_KDF_get0_provider(plain)), "default"),
	   "what the provider lacks still comes from the default provider");
	EVP_KDF_free(plain);

	/* RFC 8448, Simple 1-RTT Handshake: early secret (no PSK), then the
	 * handshake secret from the X25519 shared secret */
	unsigned char early[32], hs[32], ecdhe[32], want[32], out[32];
	hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d", ecdhe);
	OK(derive(fast, "SHA256", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, NULL, 0, NULL, 0, "derived", NULL, 0, early, 32) == 1,
	   "RFC 8448 early secret derived");
	hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a", want);
	EXPECT_MEMEQ(early, want, 32);
	OK(derive(fast, "SHA256", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ecdhe, 32, early, 32, "derived", NULL, 0, hs, 32) == 1,
	   "RFC 8448 handshake secret derived");
	hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac", want);
	EXPECT_MEMEQ(hs, want, 32);

	/* random cases against the default provider */
	int same = 0, cases = 2000, both_ok = 0;
	for (int i = 0; i < cases; i++) {
		const char *md = rnd(2) ? "SHA256" : "SHA2-384";
		size_t hl = md[3] == '2' && md[4] == '-' ? 48 : 32;
		unsigned char key[64], salt[64], data[64], a[160], b[160];
		char label[64];
		size_t llen = rnd(40), dlen = rnd(3) ? hl : rnd(64), outlen;
		int mode = rnd(2) ? EVP_KDF_HKDF_MODE_EXPAND_ONLY : EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
		bool with_key = mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY || rnd(2), with_salt = rnd(2),
		     with_data = rnd(4) != 0;
		RAND_bytes(key, sizeof(key));
		RAND_bytes(salt, sizeof(salt));
		RAND_bytes(data, sizeof(data));
		for (size_t k = 0; k < llen; k++)
			label[k] = (char)('a' + rnd(26));
		label[llen] = 0;
		outlen = mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? hl : 1 + rnd(3 * hl);
		int ra = derive(fast, md, mode, with_key ? key : NULL, with_key ? hl : 0, with_salt ? salt : NULL, hl,
				label, with_data ? data : NULL, dlen, a, outlen);
		int rb = derive(ref, md, mode, with_key ? key : NULL, with_key ? hl : 0, with_salt ? salt : NULL, hl,
				label, with_data ? data : NULL, dlen, b, outlen);
		both_ok += ra == 1 && rb == 1;
		same += ra == rb && (ra != 1 || !memcmp(a, b, outlen));
	}
	EXPECT_EQ(both_ok, cases);
	EXPECT_EQ(same, cases);

	/* the (EC)DHE secrets of every group libssl offers: X25519 32, P-384 48,
	 * X448 56, P-521 66, ffdhe2048..8192 256..1024 bytes, as the key of
	 * HKDF-Extract (the handshake secret) */
	static const size_t secret_lens[] = { 32, 48, 56, 66, 256, 384, 512, 768, 1024 };
	for (size_t i = 0; i < sizeof(secret_lens) / sizeof(secret_lens[0]); i++) {
		unsigned char secret[1024], salt[48], a[48], b[48];
		const char *md = i % 2 ? "SHA2-384" : "SHA256";
		size_t hl = i % 2 ? 48 : 32;
		RAND_bytes(secret, sizeof(secret));
		RAND_bytes(salt, sizeof(salt)); /* the early secret */
		int ra = derive(fast, md, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, secret, secret_lens[i], salt, hl, "derived",
				NULL, 0, a, hl);
		int rb = derive(ref, md, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, secret, secret_lens[i], salt, hl, "derived",
				NULL, 0, b, hl);
		OK(ra == 1 && rb == 1 && !memcmp(a, b, hl), "handshake secret from a %zu-byte shared secret (%s): "
		   "the default provider's bytes", secret_lens[i], md);
	}
	unsigned char big[1025];
	RAND_bytes(big, sizeof(big));
	OK(derive(fast, "SHA256", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, big, sizeof(big), early, 32, "derived", NULL, 0,
		  out, 32) <= 0, "a secret over 1024 bytes is refused, not truncated");

	/* refused: a mode TLS 1.3 does not use, a digest no TLS 1.3 suite uses */
	OK(derive(fast, "SHA256", EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ecdhe, 32, NULL, 0, "x", NULL, 0, out, 32) <= 0,
	   "EXTRACT_AND_EXPAND is refused (as OpenSSL's TLS13-KDF does)");
	OK(derive(fast, "SHA512", EVP_KDF_HKDF_MODE_EXPAND_ONLY, ecdhe, 32, NULL, 0, "x", NULL, 0, out, 32) <= 0,
	   "SHA-512 is refused, not computed wrongly");
	OK(derive(fast, "SHA256", EVP_KDF_HKDF_MODE_EXTRACT_ONLY, NULL, 0, NULL, 0, "derived", NULL, 0, out, 20) <= 0,
	   "an extract shorter than the hash is refused");

	test_kdf_verdicts(fast, ref);
	EVP_KDF_free(fast);
	EVP_KDF_free(ref);

	/* HMAC */
	EVP_MAC *mf = EVP_MAC_fetch(NULL, "HMAC", propq), *mr = EVP_MAC_fetch(NULL, "HMAC", "provider=default");
	OK(mf && !strcmp(OSSL_PROVIDER_get0_name(EVP_MAC_get0_provider(mf)), "ktls-fast"),
	   "the client's property query fetches the client's HMAC");
	int hm = 0, hcases = 1000;
	for (int i = 0; i < hcases; i++) {
		unsigned char key[160], msg[300];
		size_t kl = 1 + rnd(i % 10 ? 64 : 140), ml = rnd(sizeof(msg));
		RAND_bytes(key, sizeof(key));
		RAND_bytes(msg, sizeof(msg));
		hm += mac_same(mf, mr, rnd(2) ? "SHA256" : "SHA384", key, kl, msg, ml, i % 3 == 0);
	}
	EXPECT_EQ(hm, hcases);
	unsigned char key[200], msg[100];
	RAND_bytes(key, sizeof(key));
	RAND_bytes(msg, sizeof(msg));
	OK(mac_same(mf, mr, "SHA1", key, 20, msg, sizeof(msg), true), "SHA-1: handed to the default provider, same MAC");
	OK(mac_same(mf, mr, "SHA256", key, 200, msg, sizeof(msg), true), "a 200-byte key: same MAC");
	/* the one-shot way libssl computes the Finished MAC */
	unsigned char qa[64], qb[64];
	size_t la = 0, lb = 0;
	OK(EVP_Q_mac(NULL, "HMAC", propq, "SHA2-384", NULL, key, 48, msg, 48, qa, sizeof(qa), &la) &&
	   EVP_Q_mac(NULL, "HMAC", "provider=default", "SHA2-384", NULL, key, 48, msg, 48, qb, sizeof(qb), &lb) &&
	   la == 48 && lb == 48 && !memcmp(qa, qb, 48), "EVP_Q_mac (the Finished MAC): same bytes");
	/* the CBC record MAC's constant-time parameters go to the default provider */
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mf);
	size_t tds = 32;
	OSSL_PARAM tp[] = { OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
			    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_TLS_DATA_SIZE, &tds), OSSL_PARAM_END };
	OK(c && EVP_MAC_CTX_set_params(c, tp) == 1, "tls-data-size accepted (delegated)");
	EVP_MAC_CTX_free(c);
	test_hmac_verdicts(mf, mr);
	EVP_MAC_free(mf);
	EVP_MAC_free(mr);
	osslshim_kdf_cleanup();
	return tap_done();
}
#else
int main(void)
{
	OK(osslshim_kdf_install() == NULL, "no OpenSSL shim in this build: the default provider's TLS13-KDF only");
	return tap_done();
}
#endif

/* tests/unit/osslshim_x25519: the X25519 key shares of osslshim/x25519.c,
 * whose public halves come from libsodium, against OpenSSL's.
 *  - libsodium's crypto_scalarmult_curve25519_base as the shim calls it:
 *    RFC 7748 section 6.1's two key pairs; 20,000 random private keys and
 *    edge keys (all zero, all ones, unclamped bits) against OpenSSL's own
 *    public keys, computed before the ENGINE is installed.
 *  - With the ENGINE (OSSLSHIM_X25519): keys from EVP_PKEY_keygen() come
 *    from this path; a raw private key imported gets OpenSSL's public key;
 *    shared secrets equal those OpenSSL computed alone; both directions of
 *    an exchange agree; a low-order peer key is refused; the encoded public
 *    key, comparison, size and bits behave as libssl needs.
 *  - TLS 1.3 and TLS 1.2 (ECDHE-X25519) handshakes over a memory BIO pair
 *    with these key shares, the application bytes checked by SHA-256. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "osslshim/osslshim.h"
#include "tests/tap.h"
#include "tests/tls_pair.h"

#if OSSLSHIM_BUILT
#include <sodium.h>

/* the public key for priv as osslshim/x25519.c computes it */
static int sodium_pub(unsigned char pub[32], const unsigned char priv[32])
{
	return crypto_scalarmult_curve25519_base(pub, priv) == 0;
}

static void unhex(const char *h, unsigned char *o)
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		o[i] = (unsigned char)v;
	}
}

/* OpenSSL's public key for priv (before the ENGINE exists) */
static int ossl_pub(const unsigned char priv[32], unsigned char pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t n = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32;
	EVP_PKEY_free(k);
	return ok;
}

static int derive(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char out[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
	size_t n = 32;
	int ok = c && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, peer) > 0 &&
		 EVP_PKEY_derive(c, out, &n) > 0 && n == 32;
	EVP_PKEY_CTX_free(c);
	return ok;
}

#define NREF 200
static struct {
	unsigned char priv[32], pub[32], peer[32], shared[32];
} ref[NREF];

static void test_public_keys(void)
{
	unsigned char a[32], want[32], got[32];

	OK(sodium_init() >= 0, "libsodium initialised");
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want);
	OK(sodium_pub(got, a) && !memcmp(got, want, 32), "RFC 7748 6.1: Alice's public key");
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", a);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want);
	OK(sodium_pub(got, a) && !memcmp(got, want, 32), "RFC 7748 6.1: Bob's public key");

	int bad = 0, n = 20000;
	for (int i = 0; i < n; i++) {
		RAND_bytes(a, 32);
		bad += !ossl_pub(a, want) || !sodium_pub(got, a) || memcmp(got, want, 32);
	}
	OK(bad == 0, "%d random private keys: %d public keys differ from OpenSSL's", n, bad);

	unsigned char before[32];
	bad = 0;
	for (int e = 0; e < 4; e++) {
		memset(a, e == 0 ? 0 : e == 1 ? 0xff : e == 2 ? 0x80 : 0x07, 32);
		memcpy(before, a, 32);
		bad += !ossl_pub(a, want) || !sodium_pub(got, a) || memcmp(got, want, 32) ||
		       memcmp(a, before, 32);
	}
	OK(bad == 0, "edge keys (zeros, ones, top bits, low bits): OpenSSL's public keys, input unchanged");

	/* reference exchanges, OpenSSL alone */
	int made = 0;
	for (int i = 0; i < NREF; i++) {
		EVP_PKEY *x, *y;
		RAND_bytes(ref[i].priv, 32);
		x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, ref[i].priv, 32);
		y = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		size_t n1 = 32, n2 = 32;
		EVP_PKEY *yp = NULL;
		if (x && y && EVP_PKEY_get_raw_public_key(x, ref[i].pub, &n1) &&
		    EVP_PKEY_get_raw_public_key(y, ref[i].peer, &n2) &&
		    (yp = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, ref[i].peer, 32)) &&
		    derive(x, yp, ref[i].shared))
			made++;
		EVP_PKEY_free(x), EVP_PKEY_free(y), EVP_PKEY_free(yp);
	}
	EXPECT_EQ(made, NREF);
}

static void test_engine_keys(void)
{
	unsigned long k0 = osslshim_x25519_keygens();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	EVP_PKEY *a = NULL, *b = NULL;
	unsigned char s1[32], s2[32], pub[32], priv[32], want[32];
	size_t n = 32;

	OK(c && EVP_PKEY_keygen_init(c) > 0 && EVP_PKEY_keygen(c, &a) > 0 && EVP_PKEY_keygen(c, &b) > 0,
	   "EVP_PKEY_keygen for X25519");
	EVP_PKEY_CTX_free(c);
	if (!a || !b)
		return;
	OK(osslshim_x25519_keygens() == k0 + 2, "both keys came from the fast path");
	OK(derive(a, b, s1) && derive(b, a, s2) && !memcmp(s1, s2, 32), "an exchange: both directions agree");
	OK(EVP_PKEY_get_raw_private_key(a, priv, &n) && (n = 32) && EVP_PKEY_get_raw_public_key(a, pub, &n) &&
		   sodium_pub(want, priv) && !memcmp(pub, want, 32) && (priv[0] & 7) == 0 &&
		   (priv[31] & 0xc0) == 0x40,
	   "raw private key clamped, raw public key its own");

	unsigned char *enc = NULL;
	size_t elen = EVP_PKEY_get1_encoded_public_key(a, &enc);
	EVP_PKEY *peer = EVP_PKEY_new();
	OK(elen == 32 && !memcmp(enc, pub, 32), "encoded public key (the key share's bytes)");
	OK(peer && EVP_PKEY_copy_parameters(peer, a) == 1 && EVP_PKEY_set1_encoded_public_key(peer, enc, elen) == 1,
	   "a peer key as libssl makes it (copy parameters, set the encoded key)");
	OK(EVP_PKEY_eq(peer, a) == 1 && EVP_PKEY_eq(peer, b) == 0, "comparison by public key");
	OK(derive(b, peer, s2) && !memcmp(s1, s2, 32), "exchange with the libssl-style peer key");
	OK(EVP_PKEY_get_bits(a) == 253 && EVP_PKEY_get_security_bits(a) == 128 && EVP_PKEY_get_size(a) == 32,
	   "bits 253, security bits 128, size 32");
	OPENSSL_free(enc);
	EVP_PKEY_free(peer);

	/* a low-order point (here 0): the shared secret would be zero: refused */
	unsigned char zero[32] = { 0 };
	EVP_PKEY *low = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, zero, 32);
	OK(low && !derive(a, low, s1), "a low-order peer key is refused (all-zero shared secret)");
	EVP_PKEY_free(low);
	EVP_PKEY_free(a), EVP_PKEY_free(b);

	/* imported private keys: OpenSSL's public keys and shared secrets */
	int same = 0;
	for (int i = 0; i < NREF; i++) {
		EVP_PKEY *x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, ref[i].priv, 32);
		EVP_PKEY *y = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, ref[i].peer, 32);
		size_t m = 32;
		same += x && y && EVP_PKEY_get_raw_public_key(x, pub, &m) && !memcmp(pub, ref[i].pub, 32) &&
			derive(x, y, s1) && !memcmp(s1, ref[i].shared, 32);
		EVP_PKEY_free(x), EVP_PKEY_free(y);
	}
	OK(same == NREF, "%d imported keys: OpenSSL's public keys and shared secrets (%d)", NREF, same);
}

static void test_handshakes(int version)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method()), *cc = SSL_CTX_new(TLS_client_method());
	SSL_CTX_use_certificate(sc, tp_cert);
	SSL_CTX_use_PrivateKey(sc, tp_key);
	SSL_CTX_set_min_proto_version(sc, version);
	SSL_CTX_set_max_proto_version(sc, version);
	SSL_CTX_set_max_proto_version(cc, version); /* else a TLS 1.2 client offers a 1.3 key share too */
	/* the client also lists P-256: TLS 1.2 uses an ECDSA certificate only on
	 * a curve the client names; the server takes X25519 for the exchange */
	SSL_CTX_set1_groups_list(cc, "X25519:P-256");
	SSL_CTX_set1_groups_list(sc, "X25519");
	if (version == TLS1_2_VERSION)
		SSL_CTX_set_cipher_list(sc, "ECDHE-ECDSA-AES128-GCM-SHA256");
	unsigned long k0 = osslshim_x25519_keygens();
	unsigned char msg[2000], got[2000], d1[32], d2[32];
	unsigned int dl = 32;
	int ok = 0, rounds = 20;
	for (int i = 0; i < rounds; i++) {
		SSL *c, *s;
		int done = tp_mem_pair(cc, sc, &c, &s) == 0;
		RAND_bytes(msg, sizeof(msg));
		if (done && SSL_version(c) == version && SSL_write(c, msg, sizeof(msg)) == (int)sizeof(msg) &&
		    SSL_read(s, got, sizeof(got)) == (int)sizeof(got)) {
			EVP_Digest(msg, sizeof(msg), d1, &dl, EVP_sha256(), NULL);
			EVP_Digest(got, sizeof(got), d2, &dl, EVP_sha256(), NULL);
			ok += !memcmp(d1, d2, 32);
		}
		SSL_free(c);
		SSL_free(s);
	}
	OK(ok == rounds, "TLS %s with X25519: %d of %d handshakes carried the bytes intact",
	   version == TLS1_3_VERSION ? "1.3" : "1.2", ok, rounds);
	OK(osslshim_x25519_keygens() - k0 == 2UL * rounds, "each handshake made two fresh keys on the fast path (%lu for %d)", osslshim_x25519_keygens() - k0, rounds);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
}

int main(void)
{
	test_public_keys();
	/* before the ENGINE: its EC method takes no named-curve parameters */
	OK(tp_make_cert() == 0, "a P-256 certificate for the handshakes");
	if (osslshim_keys_install(NULL, OSSLSHIM_X25519) || !osslshim_keys_x25519_active()) {
		OK(0, "osslshim_keys_install with OSSLSHIM_X25519");
		return tap_done();
	}
	test_engine_keys();
	test_handshakes(TLS1_3_VERSION);
	test_handshakes(TLS1_2_VERSION);
	tp_free_cert();
	return tap_done();
}
#else
int main(void)
{
	/* OpenSSL without the APIs: no shim, and the programs say so */
	const struct osslshim_state *st = osslshim_install(OSSLSHIM_CLIENT, false);
	OK(!strcmp(st->paths, "stock") && !st->x25519 && st->why_stock && strstr(st->why_stock, "not built"),
	   "no shims in this build: paths %s (%s)", st->paths, st->why_stock ? st->why_stock : "");
	OK(osslshim_keys_install(NULL, OSSLSHIM_X25519) == -1 && osslshim_x25519_keygens() == 0,
	   "the X25519 shim stands aside");
	return tap_done();
}
#endif

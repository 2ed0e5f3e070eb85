/* tests/unit/osslshim_ecverify.c: ktls-client's server-key shims
 * (osslshim/ecverify.c, osslshim/eckeys.c) give OpenSSL's verdicts.
 *
 *  - osslshim_ecverify_key_new(): ECDSA P-256 verification with a precomputed
 *    table of the public key, checked against OpenSSL's own ECDSA_do_verify()
 *    on the same key for valid signatures and for every kind of bad one
 *    (r or s off by one, zero, equal to the order, a flipped digest bit,
 *    another key's signature, digests longer and shorter than the order).
 *  - osslshim_mod_inverse() against the definition of an inverse (and
 *    BN_gcd() for its refusals): 200,000 random values modulo the P-256
 *    order and field prime each (2,000 also against BN_mod_inverse()),
 *    the edges (powers of two and their neighbours, runs of zeros, 1,
 *    n - 1) of 19 moduli, every value of every odd modulus below 512,
 *    2,000 random odd moduli of up to 256 bits, and what it must refuse.
 *  - eckeys: the EC decoder of server certificates hands out the cached
 *    key for the same certificate (and a fresh one for another key), the
 *    rest of the key's method behaves as OpenSSL's (size, bits, comparison,
 *    re-encoding, printing), and signatures checked through EVP on a decoded
 *    certificate key get OpenSSL's verdict. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "osslshim/osslshim.h"
#include "tests/tap.h"

#if OSSLSHIM_BUILT
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <stdbool.h>

static EC_KEY *pub_only(const EC_KEY *k)
{
	EC_KEY *p = EC_KEY_new_by_curve_name(EC_GROUP_get_curve_name(EC_KEY_get0_group(k)));
	EC_KEY_set_public_key(p, EC_KEY_get0_public_key(k));
	return p;
}

/* 1 when OpenSSL's verdict on (dgst, sig) is "valid", for both keys */
static void same_verdict(const unsigned char *d, int dlen, const ECDSA_SIG *sig, EC_KEY *plain,
			 EC_KEY *fast, int want, const char *what)
{
	int a = ECDSA_do_verify(d, dlen, sig, plain) == 1, b = ECDSA_do_verify(d, dlen, sig, fast) == 1;
	OK(a == want && b == want, "%s: OpenSSL says %s, the table path says %s", what,
	   a ? "valid" : "invalid", b ? "valid" : "invalid");
}

static ECDSA_SIG *sig_with(const ECDSA_SIG *s, const BIGNUM *r, const BIGNUM *sv)
{
	ECDSA_SIG *n = ECDSA_SIG_new();
	ECDSA_SIG_set0(n, BN_dup(r), BN_dup(sv));
	(void)s;
	return n;
}

static void test_fastverify(void)
{
	EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1), *k2 = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EC_KEY_generate_key(k);
	EC_KEY_generate_key(k2);
	EC_KEY *plain = pub_only(k), *fast = osslshim_ecverify_key_new(plain);
	const BIGNUM *n = EC_GROUP_get0_order(EC_KEY_get0_group(k)), *r, *s;
	unsigned char d[64];
	unsigned long used0 = osslshim_ecverify_used();
	int good = 0;

	OK(fast != NULL, "a P-256 public key gets the table path");
	if (!fast)
		return;
	OK(osslshim_ecverify_key_new(k) == NULL, "not for a key with its private half");

	/* 200 valid signatures over random 32-byte digests */
	for (int i = 0; i < 200; i++) {
		RAND_bytes(d, 32);
		ECDSA_SIG *sig = ECDSA_do_sign(d, 32, k);
		good += ECDSA_do_verify(d, 32, sig, fast) == 1 && ECDSA_do_verify(d, 32, sig, plain) == 1;
		ECDSA_SIG_free(sig);
	}
	EXPECT_EQ(good, 200);
	EXPECT_EQ(osslshim_ecverify_used() - used0, 200);

	/* digests longer (SHA-384, SHA-512: truncated to 256 bits) and shorter (SHA-1) */
	int lens[] = { 20, 48, 64 };
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char what[64];
		RAND_bytes(d, lens[i]);
		ECDSA_SIG *sig = ECDSA_do_sign(d, lens[i], k);
		snprintf(what, sizeof(what), "%d-byte digest", lens[i]);
		same_verdict(d, lens[i], sig, plain, fast, 1, what);
		d[lens[i] - 1] ^= 1; /* beyond the order's 256 bits for 48 and 64 bytes */
		snprintf(what, sizeof(what), "%d-byte digest, last byte changed", lens[i]);
		same_verdict(d, lens[i], sig, plain, fast, lens[i] > 32, what);
		ECDSA_SIG_free(sig);
	}

	/* bad signatures */
	RAND_bytes(d, 32);
	ECDSA_SIG *sig = ECDSA_do_sign(d, 32, k), *bad;
	ECDSA_SIG_get0(sig, &r, &s);
	BIGNUM *t = BN_new(), *zero = BN_new();
	BN_zero(zero);
	same_verdict(d, 32, sig, plain, fast, 1, "the signature itself");
	d[5] ^= 0x10;
	same_verdict(d, 32, sig, plain, fast, 0, "a flipped digest bit");
	d[5] ^= 0x10;
	BN_copy(t, r);
	BN_add_word(t, 1);
	bad = sig_with(sig, t, s);
	same_verdict(d, 32, bad, plain, fast, 0, "r + 1");
	ECDSA_SIG_free(bad);
	BN_copy(t, s);
	BN_add_word(t, 1);
	bad = sig_with(sig, r, t);
	same_verdict(d, 32, bad, plain, fast, 0, "s + 1");
	ECDSA_SIG_free(bad);
	bad = sig_with(sig, zero, s);
	same_verdict(d, 32, bad, plain, fast, 0, "r = 0");
	ECDSA_SIG_free(bad);
	bad = sig_with(sig, r, zero);
	same_verdict(d, 32, bad, plain, fast, 0, "s = 0");
	ECDSA_SIG_free(bad);
	bad = sig_with(sig, n, s);
	same_verdict(d, 32, bad, plain, fast, 0, "r = n");
	ECDSA_SIG_free(bad);
	bad = sig_with(sig, r, n);
	same_verdict(d, 32, bad, plain, fast, 0, "s = n");
	ECDSA_SIG_free(bad);
	BN_sub(t, n, s); /* (r, n - s) verifies in ECDSA: both must say so */
	bad = sig_with(sig, r, t);
	same_verdict(d, 32, bad, plain, fast, 1, "(r, n - s), ECDSA's malleable twin");
	ECDSA_SIG_free(bad);
	bad = sig_with(sig, s, r);
	same_verdict(d, 32, bad, plain, fast, 0, "r and s swapped");
	ECDSA_SIG_free(bad);
	ECDSA_SIG_free(sig);
	sig = ECDSA_do_sign(d, 32, k2);
	same_verdict(d, 32, sig, plain, fast, 0, "another key's signature");
	ECDSA_SIG_free(sig);

	/* DER through ECDSA_verify: OpenSSL's strict-encoding check stays */
	unsigned char der[80], *p = der;
	unsigned int dl = sizeof(der) - 1;
	ECDSA_sign(0, d, 32, der, &dl, k);
	OK(ECDSA_verify(0, d, 32, der, (int)dl, fast) == 1, "DER signature: valid");
	der[dl] = 0;
	OK(ECDSA_verify(0, d, 32, der, (int)dl + 1, fast) != 1, "DER signature with a trailing byte: refused");
	(void)p;

	/* other curves keep OpenSSL's path */
	EC_KEY *k384 = EC_KEY_new_by_curve_name(NID_secp384r1);
	EC_KEY_generate_key(k384);
	EC_KEY *p384 = pub_only(k384);
	OK(osslshim_ecverify_key_new(p384) == NULL, "P-384 keeps OpenSSL's own verification");
	EC_KEY_free(p384);
	EC_KEY_free(k384);

	BN_free(t);
	BN_free(zero);
	EC_KEY_free(fast);
	EC_KEY_free(plain);
	EC_KEY_free(k);
	EC_KEY_free(k2);
}

/* A self-signed certificate for key k, DER. */
static int make_cert(EVP_PKEY *k, unsigned char **der)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	int n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"fastkeys", -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	*der = NULL;
	n = i2d_X509(x, der);
	X509_NAME_free(nm);
	X509_free(x);
	return n;
}

static X509 *parse(const unsigned char *der, int len)
{
	const unsigned char *p = der;
	return d2i_X509(NULL, &p, len);
}

/* Sign msg with k, verify through EVP with the certificate's key. */
static int evp_verdict(EVP_PKEY *signer, EVP_PKEY *verifier, const char *msg, bool tamper)
{
	unsigned char sig[128];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int rc;

	EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, signer);
	EVP_DigestSign(m, sig, &sl, (const unsigned char *)msg, strlen(msg));
	EVP_MD_CTX_reset(m);
	if (tamper)
		sig[sl / 2] ^= 1;
	EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, verifier);
	rc = EVP_DigestVerify(m, sig, sl, (const unsigned char *)msg, strlen(msg));
	EVP_MD_CTX_free(m);
	return rc == 1;
}

static void test_fastkeys(void)
{
	EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	unsigned char *d1, *d2, *spki = NULL, *again = NULL;
	int l1 = make_cert(k1, &d1), l2 = make_cert(k2, &d2), n1, n2;
	unsigned long h0, m0, h, m, used0;

	if (osslshim_keys_install(osslshim_eckeys_ameth(), OSSLSHIM_X25519)) {
		OK(0, "osslshim_keys_install with the server-key method");
		return;
	}
	osslshim_eckeys_stats(&h0, &m0);
	X509 *a = parse(d1, l1), *b = parse(d1, l1), *c = parse(d1, l1), *o = parse(d2, l2);
	OK(a && b && c && o, "certificates parse");
	osslshim_eckeys_stats(&h, &m);
	EXPECT_EQ(m - m0, 2);  /* d1, then d2 */
	EXPECT_EQ(h - h0, 2);  /* d1 twice more */
	EVP_PKEY *pa = X509_get0_pubkey(a), *pb = X509_get0_pubkey(b), *pc = X509_get0_pubkey(c),
		 *po = X509_get0_pubkey(o);
	OK(EVP_PKEY_eq(pa, pb) == 1 && EVP_PKEY_eq(pa, k1) == 1, "same key, as OpenSSL compares keys");
	OK(EVP_PKEY_eq(pa, po) == 0, "another key differs");
	EXPECT_EQ(EVP_PKEY_get_bits(pb), 256);
	EXPECT_EQ(EVP_PKEY_get_size(pb), EVP_PKEY_get_size(k1));
	n1 = i2d_PUBKEY(k1, &spki);
	n2 = i2d_PUBKEY(pb, &again);
	OK(n1 > 0 && n1 == n2 && !memcmp(spki, again, (size_t)n1), "re-encodes to the same SubjectPublicKeyInfo");
	BIO *mem = BIO_new(BIO_s_mem());
	OK(EVP_PKEY_print_public(mem, pb, 0, NULL) == 1 && BIO_ctrl_pending(mem) > 0, "prints");
	BIO_free(mem);

	/* the key after the second sighting verifies on the table path */
	used0 = osslshim_ecverify_used();
	OK(evp_verdict(k1, pc, "CertificateVerify content", false), "a good signature verifies (cached key)");
	OK(osslshim_ecverify_used() > used0, "... on the table path");
	OK(!evp_verdict(k1, pc, "CertificateVerify content", true), "a damaged signature does not");
	OK(!evp_verdict(k2, pc, "CertificateVerify content", false), "nor another key's");
	OK(evp_verdict(k2, po, "CertificateVerify content", false), "the other certificate's key verifies its own");
	OK(X509_verify(a, pa) == 1 && X509_verify(o, pa) != 1, "certificate signatures: OpenSSL's verdicts");

	/* two keys in turn (a chain, or --verify's CA): each keeps its entry */
	X509 *a2 = parse(d1, l1), *o2 = parse(d2, l2);
	osslshim_eckeys_stats(&h, &m);
	OK(a2 && o2 && m - m0 == 2 && h - h0 == 4, "keys met in turn stay cached (%lu decodes, %lu hits)", m - m0,
	   h - h0);
	X509_free(a2);
	X509_free(o2);

	X509_free(a);
	X509_free(b);
	X509_free(c);
	X509_free(o);
	OPENSSL_free(spki);
	OPENSSL_free(again);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	osslshim_eckeys_cleanup();
}

/* --- osslshim_mod_inverse() ---------------------------------------------------
 * The oracle is the definition: for 0 < a < n with gcd(a, n) = 1 the answer
 * must be 1 with r in [0, n) and a*r = 1 (mod n) (such an r is unique);
 * otherwise 0, with gcd(a, n) != 1 confirmed by BN_gcd(). */
struct inv_check {
	BIGNUM *r, *t;
	BN_CTX *ctx;
	long runs, wrong;
	char first[200]; /* the first wrong case */
};

static void inv_check(struct inv_check *c, const BIGNUM *a, const BIGNUM *n)
{
	int rc = osslshim_mod_inverse(c->r, a, n);
	bool right;

	if (rc == 1)
		right = !BN_is_zero(a) && !BN_is_negative(a) && BN_ucmp(a, n) < 0 && !BN_is_negative(c->r) &&
			BN_ucmp(c->r, n) < 0 && BN_mod_mul(c->t, a, c->r, n, c->ctx) && BN_is_one(c->t);
	else if (rc == 0)
		right = BN_is_zero(a) || BN_is_negative(a) || BN_ucmp(a, n) >= 0 ||
			(BN_gcd(c->t, a, n, c->ctx) && !BN_is_one(c->t));
	else
		right = false;
	c->runs++;
	if (!right && !c->wrong++) {
		char *ah = BN_bn2hex(a), *nh = BN_bn2hex(n);
		snprintf(c->first, sizeof(c->first), "a = %.90s, n = %.90s: %d", ah, nh, rc);
		OPENSSL_free(ah);
		OPENSSL_free(nh);
	}
}

static void inv_report(struct inv_check *c, const char *what)
{
	OK(!c->wrong, "%s: %ld of %ld right%s%s", what, c->runs - c->wrong, c->runs, c->wrong ? "; first wrong: " : "",
	   c->first);
	c->runs = c->wrong = 0;
}

/* a = 2^k * odd, a of random runs of ones and zeros (long zero runs), a few
 * bits set: the shapes that stress the shifts and the limb boundaries */
static void rand_runs(BIGNUM *a, int bits)
{
	unsigned char b;
	int pos = 0, one = 0;

	BN_zero(a);
	while (pos < bits) {
		RAND_bytes(&b, 1);
		int len = 1 + b % 80;
		if (one)
			for (int i = pos; i < pos + len && i < bits; i++)
				BN_set_bit(a, i);
		pos += len;
		one = !one;
	}
}

/* the edge values of a modulus n, each checked */
static void inv_edges(struct inv_check *c, const BIGNUM *n)
{
	BIGNUM *a = BN_new(), *x = BN_new();
	int nb = BN_num_bits(n);

	for (int k = 0; k < nb; k++) { /* 2^k, 2^k - 1, 2^k + 1, n - 2^k */
		BN_zero(x);
		BN_set_bit(x, k);
		BN_nnmod(a, x, n, c->ctx);
		inv_check(c, a, n);
		BN_sub(a, x, BN_value_one());
		BN_nnmod(a, a, n, c->ctx);
		inv_check(c, a, n);
		BN_add(a, x, BN_value_one());
		BN_nnmod(a, a, n, c->ctx);
		inv_check(c, a, n);
		BN_sub(a, n, x);
		inv_check(c, a, n); /* negative for 2^k > n: refused */
	}
	for (int i = 0; i < nb; i += 3) /* two bits set */
		for (int j = i + 1; j < nb; j += 7) {
			BN_zero(a);
			BN_set_bit(a, i);
			BN_set_bit(a, j);
			BN_nnmod(a, a, n, c->ctx);
			inv_check(c, a, n);
		}
	for (int i = 0; i < 2000; i++) { /* runs, shifted by 0..nb-1 */
		rand_runs(a, nb);
		BN_rshift(a, a, i % nb);
		BN_nnmod(a, a, n, c->ctx);
		inv_check(c, a, n);
	}
	BN_one(a); /* 1, 2, n - 1, n - 2, (n - 1) / 2, (n + 1) / 2 */
	inv_check(c, a, n);
	BN_set_word(a, 2);
	BN_nnmod(a, a, n, c->ctx);
	inv_check(c, a, n);
	BN_sub(a, n, BN_value_one());
	inv_check(c, a, n);
	BN_sub_word(a, 1);
	inv_check(c, a, n);
	BN_rshift1(a, n);
	inv_check(c, a, n);
	BN_add_word(a, 1);
	inv_check(c, a, n);
	BN_free(a);
	BN_free(x);
}

static void test_inverse(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_GROUP *g384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
	BIGNUM *p = BN_new(), *a = BN_new(), *want = BN_new(), *n = BN_new();
	const BIGNUM *order = EC_GROUP_get0_order(g);
	struct inv_check c = { .r = BN_new(), .t = BN_new(), .ctx = BN_CTX_new() };
	int same = 0;

	EC_GROUP_get_curve(g, p, NULL, NULL, c.ctx);

	/* the P-256 order and field prime: 200,000 random values each, the
	 * first 2,000 also against BN_mod_inverse() */
	const BIGNUM *p256[2] = { order, p };
	for (int m = 0; m < 2; m++) {
		for (int i = 0; i < 200000; i++) {
			do BN_rand_range(a, p256[m]); while (BN_is_zero(a));
			inv_check(&c, a, p256[m]);
			if (i < 2000)
				same += BN_mod_inverse(want, a, p256[m], c.ctx) && BN_cmp(c.r, want) == 0;
		}
		inv_report(&c, m ? "mod the P-256 field prime, random values" : "mod the P-256 order, random values");
	}
	EXPECT_EQ(same, 4000);

	/* edges: the P-256 moduli, primes and composites near 2^256, small
	 * moduli, moduli around the 62-bit limbs' boundaries */
	static const char *const edge_mods[] = {
		"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF43", /* 2^256 - 189, prime */
		"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", /* 2^256 - 1 = 3*5*17*257*... */
		"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFED", /* 2^255 - 19 */
		"8000000000000000000000000000000000000000000000000000000000000001", /* 2^255 + 1 */
		"3", "5", "7", "F", "10001", "3FFFFFFFFFFFFFFF", "4000000000000001", "FFFFFFFFFFFFFFC5",
		"10000000000000001", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "1000000000000000000000000000000001",
		"3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "1000000000000000000000000000000000000000000000000000000000000001",
	};
	for (unsigned i = 0; i < sizeof(edge_mods) / sizeof(edge_mods[0]) + 2; i++) {
		const BIGNUM *m = i == 0 ? order : i == 1 ? p : n;
		if (i >= 2)
			BN_hex2bn(&n, edge_mods[i - 2]);
		inv_edges(&c, m);
	}
	inv_report(&c, "edge values (2^k, 2^k +- 1, n - 2^k, two bits, runs of zeros, 1, n - 1, ...) of 19 moduli");

	/* every a in [0, n + 1] for every odd n from 3 to 511 */
	for (unsigned long m = 3; m < 512; m += 2) {
		BN_set_word(n, m);
		for (unsigned long v = 0; v <= m + 1; v++) {
			BN_set_word(a, v);
			inv_check(&c, a, n);
		}
	}
	inv_report(&c, "every value of every odd modulus below 512");

	/* 2,000 random odd moduli of 2 to 256 bits (a third of them 256 bits,
	 * top bit set), 100 random values each: many share a factor with n */
	for (int i = 0; i < 2000; i++) {
		unsigned char rb;
		RAND_bytes(&rb, 1);
		BN_rand(n, i % 3 ? 2 + rb % 255 : 256, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
		for (int j = 0; j < 100; j++) {
			do BN_rand_range(a, n); while (BN_is_zero(a));
			inv_check(&c, a, n);
		}
	}
	inv_report(&c, "2,000 random odd moduli, 100 random values each");

	/* refused */
	BN_zero(a);
	OK(!osslshim_mod_inverse(c.r, a, order), "0 has no inverse: refused");
	OK(!osslshim_mod_inverse(c.r, order, order), "n itself: refused");
	BN_add(a, order, BN_value_one());
	OK(!osslshim_mod_inverse(c.r, a, order), "n + 1: refused");
	BN_set_word(a, 1);
	BN_set_negative(a, 1);
	OK(!osslshim_mod_inverse(c.r, a, order), "-1: refused");
	BN_set_word(n, 1000);
	BN_set_word(a, 3);
	OK(!osslshim_mod_inverse(c.r, a, n), "an even modulus: refused");
	BN_one(n);
	BN_zero(a);
	OK(!osslshim_mod_inverse(c.r, a, n), "modulus 1: refused");
	OK(!osslshim_mod_inverse(c.r, a, EC_GROUP_get0_order(g384)), "a 384-bit modulus: refused");
	BN_set_word(n, 15);
	BN_set_word(a, 6);
	OK(!osslshim_mod_inverse(c.r, a, n), "6 mod 15 (gcd 3): refused");
	BN_set_word(n, 3 * 65537);
	BN_set_word(a, 2 * 65537);
	OK(!osslshim_mod_inverse(c.r, a, n), "2*65537 mod 3*65537 (gcd 65537): refused");
	BN_hex2bn(&n, edge_mods[1]);
	BN_set_word(a, 2 * 3 * 5 * 17);
	OK(!osslshim_mod_inverse(c.r, a, n), "510 mod 2^256 - 1 (gcd 255): refused");
	BN_set_word(a, 2);
	BN_lshift(a, a, 255);
	OK(!osslshim_mod_inverse(c.r, a, order), "2^256 (beyond 256 bits): refused");

	/* r may be a */
	BN_set_word(a, 12345);
	BN_mod_inverse(want, a, order, c.ctx);
	OK(osslshim_mod_inverse(a, a, order) == 1 && BN_cmp(a, want) == 0, "r may be a");

	BN_free(p), BN_free(a), BN_free(want), BN_free(n);
	BN_free(c.r), BN_free(c.t);
	BN_CTX_free(c.ctx);
	EC_GROUP_free(g);
	EC_GROUP_free(g384);
}

int main(void)
{
	test_inverse();
	test_fastverify();
	test_fastkeys();
	return tap_done();
}
#else
int main(void)
{
	OK(osslshim_ecverify_key_new(NULL) == NULL && osslshim_eckeys_ameth() == NULL,
	   "no OpenSSL shim in this build: OpenSSL decodes and verifies server keys itself");
	return tap_done();
}
#endif

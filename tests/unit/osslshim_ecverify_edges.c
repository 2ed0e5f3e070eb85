/* tests/unit/osslshim_ecverify_edges.c: the P-256 shims of ktls-client
 * (osslshim/ecverify.c, osslshim/eckeys.c) against OpenSSL on the inputs
 * where hand-written checks go wrong. The oracle is OpenSSL's own verdict on
 * the same key (ECDSA_do_verify / ECDSA_verify / d2i_PUBKEY without the shim):
 *
 *  - valid signatures made with chosen s (1, 2, (n-1)/2, (n+1)/2, n-2, n-1)
 *    and chosen digests (zero, n, n + 5, 2^256 - 1: digests at or above the
 *    order, reduced by both);
 *  - a valid signature whose point R has x(R) >= n (so x(R) mod n = r, and
 *    the check must compare with r + n), and one whose r is at or above
 *    p - n (where r + n is no field element): the key is made for the
 *    signature (Q = u2^-1 (R - u1 G)), since no key's signer would hit these
 *    but by chance; and their r + 1 twins;
 *  - scalars out of range: r or s of 0, n, n + 1, p, 2^256 - 1, negative,
 *    n - 1 where it does not fit;
 *  - DER encodings OpenSSL refuses (negative, padded with zeros, r = 0);
 *  - 3,000 random mutations of valid signatures (a bit of r, s or the digest
 *    flipped, r and s swapped, s replaced by n - s);
 *  - keys: the point at infinity gets no table; through the server-key
 *    decoder, public keys off the curve, with x or y >= p, of the wrong
 *    length, the infinity encoding, compressed and hybrid forms and an
 *    unknown curve get the verdict (and, when accepted, the key) of
 *    OpenSSL's own decoder. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "osslshim/osslshim.h"
#include "tests/tap.h"

#if OSSLSHIM_BUILT
#include <stdbool.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

static EC_GROUP *grp;
static BIGNUM *ord, *fp; /* n and p */
static BN_CTX *bctx;

static EC_KEY *pub_key(const EC_POINT *q)
{
	EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EC_KEY_set_public_key(k, q);
	return k;
}

/* Both verdicts on (digest, r, s): 1 valid, 0 invalid, -1 error. */
struct verdict {
	int plain, fast;
};

static struct verdict judge(const unsigned char *d, int dlen, const BIGNUM *r, const BIGNUM *s, EC_KEY *plain,
			    EC_KEY *fast)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	struct verdict v;

	ECDSA_SIG_set0(sig, BN_dup(r), BN_dup(s));
	v.plain = ECDSA_do_verify(d, dlen, sig, plain);
	v.fast = ECDSA_do_verify(d, dlen, sig, fast);
	ECDSA_SIG_free(sig);
	return v;
}

/* OpenSSL's verdict and the shim's agree, and are want (1 or 0; an error
 * (-1) counts as "not valid" for both) */
static void same(struct verdict v, int want, const char *what)
{
	int a = v.plain == 1, b = v.fast == 1;
	OK(a == want && b == want, "%s: OpenSSL says %s, the shim says %s", what, a ? "valid" : "invalid",
	   b ? "valid" : "invalid");
}

static void bn_digest(const BIGNUM *e, unsigned char d[32])
{
	BN_bn2binpad(e, d, 32);
}

/* a signature by private key x over a digest chosen so that its s is want_s:
 * k random, R = kG, r = x(R) mod n, e = s*k - r*x mod n; false if r is 0 */
static bool sign_for_s(const BIGNUM *x, const BIGNUM *want_s, BIGNUM *r, unsigned char d[32])
{
	BIGNUM *k = BN_new(), *e = BN_new(), *t = BN_new();
	EC_POINT *R = EC_POINT_new(grp);
	bool ok = BN_rand_range(k, ord) && !BN_is_zero(k) && EC_POINT_mul(grp, R, k, NULL, NULL, bctx) &&
		  EC_POINT_get_affine_coordinates(grp, R, r, NULL, bctx) && BN_nnmod(r, r, ord, bctx) &&
		  !BN_is_zero(r) && BN_mod_mul(e, want_s, k, ord, bctx) && BN_mod_mul(t, r, x, ord, bctx) &&
		  BN_mod_sub(e, e, t, ord, bctx);
	if (ok)
		bn_digest(e, d);
	BN_free(k), BN_free(e), BN_free(t);
	EC_POINT_free(R);
	return ok;
}

static void test_chosen_s(EC_KEY *priv, EC_KEY *plain, EC_KEY *fast)
{
	const BIGNUM *x = EC_KEY_get0_private_key(priv);
	BIGNUM *s = BN_new(), *r = BN_new(), *t = BN_new();
	unsigned char d[32];
	char what[80];
	/* s = 1, 2, (n-1)/2, (n+1)/2, n-2, n-1 */
	for (int i = 0; i < 6; i++) {
		static const char *names[] = { "1", "2", "(n-1)/2", "(n+1)/2", "n-2", "n-1" };
		switch (i) {
		case 0: BN_one(s); break;
		case 1: BN_set_word(s, 2); break;
		case 2: BN_rshift1(s, ord); break;
		case 3: BN_rshift1(s, ord), BN_add_word(s, 1); break;
		case 4: BN_copy(s, ord), BN_sub_word(s, 2); break;
		case 5: BN_copy(s, ord), BN_sub_word(s, 1); break;
		}
		if (!sign_for_s(x, s, r, d)) {
			OK(0, "a signature with s = %s", names[i]);
			continue;
		}
		snprintf(what, sizeof(what), "valid signature with s = %s", names[i]);
		same(judge(d, 32, r, s, plain, fast), 1, what);
		BN_copy(t, r);
		BN_add_word(t, 1);
		snprintf(what, sizeof(what), "s = %s, r + 1", names[i]);
		same(judge(d, 32, t, s, plain, fast), 0, what);
	}
	/* r = n - 1, s = n - 1 where they were not made for each other */
	BN_copy(t, ord);
	BN_sub_word(t, 1);
	RAND_bytes(d, 32);
	same(judge(d, 32, t, t, plain, fast), 0, "r = s = n - 1, an arbitrary digest");
	BN_free(s), BN_free(r), BN_free(t);
}

/* digests at and above the order: both reduce them the same way */
static void test_big_digests(EC_KEY *priv, EC_KEY *plain, EC_KEY *fast)
{
	BIGNUM *e = BN_new();
	unsigned char d[32];
	const BIGNUM *r, *s;
	for (int i = 0; i < 4; i++) {
		static const char *names[] = { "0", "n", "n + 5", "2^256 - 1" };
		switch (i) {
		case 0: BN_zero(e); break;
		case 1: BN_copy(e, ord); break;
		case 2: BN_copy(e, ord), BN_add_word(e, 5); break;
		case 3: BN_one(e), BN_lshift(e, e, 256), BN_sub_word(e, 1); break;
		}
		bn_digest(e, d);
		ECDSA_SIG *sig = ECDSA_do_sign(d, 32, priv);
		char what[64];
		ECDSA_SIG_get0(sig, &r, &s);
		snprintf(what, sizeof(what), "digest %s, valid", names[i]);
		same(judge(d, 32, r, s, plain, fast), 1, what);
		d[31] ^= 2;
		snprintf(what, sizeof(what), "digest %s, one bit changed", names[i]);
		same(judge(d, 32, r, s, plain, fast), 0, what);
		ECDSA_SIG_free(sig);
	}
	BN_free(e);
}

/* A point R whose x is x0 + t for the smallest t >= 0 that is on the curve. */
static bool point_at_x(BIGNUM *x0, EC_POINT *R)
{
	for (int t = 0; t < 200; t++, BN_add_word(x0, 1)) {
		if (BN_cmp(x0, fp) >= 0)
			return false;
		if (EC_POINT_set_compressed_coordinates(grp, R, x0, 0, bctx))
			return true;
	}
	return false;
}

/* A key Q and a signature (r, s) over digest d whose verification point is
 * R: u1, u2 random, Q = u2^-1 (R - u1 G), r = x(R) mod n (plus add, when not
 * NULL: then the signature is a forgery that only a wrong check accepts),
 * s = r / u2, e = u1 * s (mod n). */
static bool made_for_plus(const EC_POINT *R, EC_POINT *Q, BIGNUM *r, BIGNUM *s, unsigned char d[32],
			  const BIGNUM *add)
{
	BIGNUM *u1 = BN_new(), *u2 = BN_new(), *i2 = BN_new(), *e = BN_new(), *x = BN_new();
	EC_POINT *T = EC_POINT_new(grp);
	bool ok = BN_rand_range(u1, ord) && BN_rand_range(u2, ord) && !BN_is_zero(u2) &&
		  BN_mod_inverse(i2, u2, ord, bctx) && EC_POINT_mul(grp, T, u1, NULL, NULL, bctx) &&
		  EC_POINT_invert(grp, T, bctx) && EC_POINT_add(grp, T, R, T, bctx) &&
		  EC_POINT_mul(grp, Q, NULL, T, i2, bctx) && EC_POINT_get_affine_coordinates(grp, R, x, NULL, bctx) &&
		  BN_nnmod(r, x, ord, bctx) && (!add || BN_add(r, r, add)) && BN_mod_mul(s, r, i2, ord, bctx) &&
		  BN_mod_mul(e, u1, s, ord, bctx);
	if (ok)
		bn_digest(e, d);
	BN_free(u1), BN_free(u2), BN_free(i2), BN_free(e), BN_free(x);
	EC_POINT_free(T);
	return ok;
}

static bool made_for(const EC_POINT *R, EC_POINT *Q, BIGNUM *r, BIGNUM *s, unsigned char d[32])
{
	return made_for_plus(R, Q, r, s, d, NULL);
}

/* Signatures whose verification point R has a chosen x, each on a key made
 * for it: x(R) >= n (r = x(R) - n: the check must compare with r + n), and
 * r on either side of p - n (at or above it, r + n is no field element and
 * must not be tried). */
static void test_x_of_r(void)
{
	static const struct {
		const char *what;
		int from;       /* 0: n, 1: p, 2: p - n */
		long off;       /* start the search there (x of a point is the first at or above) */
		bool beyond_n;  /* x(R) >= n */
	} cases[] = {
		{ "x(R) just above n", 0, 3, true },
		{ "x(R) just below p (r just below p - n)", 1, -200, true },
		{ "x(R) just below p - n", 2, -200, false },
		{ "x(R) just above p - n (r + n beyond p)", 2, 0, false },
		{ "x(R) just below n", 0, -300, false },
	};
	BIGNUM *x0 = BN_new(), *r = BN_new(), *s = BN_new(), *t = BN_new(), *pmn = BN_new();
	EC_POINT *R = EC_POINT_new(grp), *Q = EC_POINT_new(grp);
	unsigned char d[32];
	char what[128];

	BN_sub(pmn, fp, ord);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		BN_copy(x0, cases[i].from == 0 ? ord : cases[i].from == 1 ? fp : pmn);
		if (cases[i].off < 0)
			BN_sub_word(x0, (BN_ULONG)-cases[i].off);
		else
			BN_add_word(x0, (BN_ULONG)cases[i].off);
		if (!point_at_x(x0, R) || !made_for(R, Q, r, s, d)) {
			OK(0, "%s: a point there and a key for it", cases[i].what);
			continue;
		}
		EC_KEY *plain = pub_key(Q), *fast = osslshim_ecverify_key_new(plain);
		unsigned long used0 = osslshim_ecverify_used();
		bool above = BN_cmp(x0, ord) >= 0, r_high = BN_cmp(r, pmn) >= 0;
		OK(fast && above == cases[i].beyond_n, "%s: a key made for it, on the table path (r %s p - n)",
		   cases[i].what, r_high ? ">=" : "<");
		if (!fast) {
			EC_KEY_free(plain);
			continue;
		}
		snprintf(what, sizeof(what), "%s: valid", cases[i].what);
		same(judge(d, 32, r, s, plain, fast), 1, what);
		OK(osslshim_ecverify_used() == used0 + 1, "%s: checked on the table path", cases[i].what);
		BN_copy(t, r);
		BN_add_word(t, 1);
		snprintf(what, sizeof(what), "%s: r + 1", cases[i].what);
		same(judge(d, 32, t, s, plain, fast), 0, what);
		BN_add(t, r, ord);
		snprintf(what, sizeof(what), "%s: r + n (out of range)", cases[i].what);
		same(judge(d, 32, t, s, plain, fast), 0, what);
		EC_KEY_free(fast);
		EC_KEY_free(plain);
	}
	/* the forgery the p - n bound stops: R with a small x, and r = x(R) + p - n
	 * (in range, >= p - n): r + n = x(R) mod p, but x(R) mod n != r */
	BN_set_word(x0, 5);
	if (point_at_x(x0, R) && made_for_plus(R, Q, r, s, d, pmn)) {
		EC_KEY *plain = pub_key(Q), *fast = osslshim_ecverify_key_new(plain);
		OK(fast && BN_cmp(r, ord) < 0 && BN_cmp(r, pmn) >= 0, "r = x(R) + p - n: in range, at or above p - n");
		same(judge(d, 32, r, s, plain, fast), 0, "r = x(R) + p - n (r + n = x(R) mod p): invalid");
		EC_KEY_free(fast);
		EC_KEY_free(plain);
	} else {
		OK(0, "a point with a small x and a key for it");
	}
	BN_free(x0), BN_free(r), BN_free(s), BN_free(t), BN_free(pmn);
	EC_POINT_free(R);
	EC_POINT_free(Q);
}

static void test_out_of_range(EC_KEY *priv, EC_KEY *plain, EC_KEY *fast)
{
	unsigned char d[32];
	const BIGNUM *r, *s;
	BIGNUM *v[6];
	static const char *names[] = { "0", "n", "n + 1", "p", "2^256 - 1", "-r" };

	RAND_bytes(d, 32);
	ECDSA_SIG *sig = ECDSA_do_sign(d, 32, priv);
	ECDSA_SIG_get0(sig, &r, &s);
	for (int i = 0; i < 6; i++)
		v[i] = BN_new();
	BN_zero(v[0]);
	BN_copy(v[1], ord);
	BN_copy(v[2], ord), BN_add_word(v[2], 1);
	BN_copy(v[3], fp);
	BN_one(v[4]), BN_lshift(v[4], v[4], 256), BN_sub_word(v[4], 1);
	BN_copy(v[5], r), BN_set_negative(v[5], 1);
	for (int i = 0; i < 6; i++) {
		char what[64];
		snprintf(what, sizeof(what), "r = %s", names[i]);
		same(judge(d, 32, v[i], s, plain, fast), 0, what);
		if (i == 5)
			BN_copy(v[5], s), BN_set_negative(v[5], 1);
		snprintf(what, sizeof(what), "s = %s", i == 5 ? "-s" : names[i]);
		same(judge(d, 32, r, v[i], plain, fast), 0, what);
	}
	/* r + n and s + n: the same values mod n, out of range */
	BN_add(v[0], r, ord);
	same(judge(d, 32, v[0], s, plain, fast), 0, "r + n");
	BN_add(v[0], s, ord);
	same(judge(d, 32, r, v[0], plain, fast), 0, "s + n");
	for (int i = 0; i < 6; i++)
		BN_free(v[i]);

	/* DER: what OpenSSL's parser refuses never reaches either verifier */
	static const struct {
		const char *what;
		unsigned char der[12];
		int len;
	} bad[] = {
		{ "DER r = 0", { 0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01 }, 8 },
		{ "DER negative r", { 0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01 }, 8 },
		{ "DER r padded with a zero", { 0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01 }, 9 },
		{ "DER empty sequence", { 0x30, 0x00 }, 2 },
		{ "DER truncated", { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02 }, 6 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int a = ECDSA_verify(0, d, 32, bad[i].der, bad[i].len, plain) == 1;
		int b = ECDSA_verify(0, d, 32, bad[i].der, bad[i].len, fast) == 1;
		OK(!a && !b, "%s: refused by both", bad[i].what);
	}
	ECDSA_SIG_free(sig);
}

static void test_mutations(EC_KEY *priv, EC_KEY *plain, EC_KEY *fast)
{
	int agree = 0, valid = 0, n = 3000;
	BIGNUM *r2 = BN_new(), *s2 = BN_new();
	for (int i = 0; i < n; i++) {
		unsigned char d[32], b;
		const BIGNUM *r, *s;
		RAND_bytes(d, 32);
		ECDSA_SIG *sig = ECDSA_do_sign(d, 32, priv);
		ECDSA_SIG_get0(sig, &r, &s);
		BN_copy(r2, r);
		BN_copy(s2, s);
		RAND_bytes(&b, 1);
		switch (i % 6) {
		case 0: break; /* unchanged */
		case 1: BN_is_bit_set(r2, b) ? BN_clear_bit(r2, b) : BN_set_bit(r2, b); break;
		case 2: BN_is_bit_set(s2, b) ? BN_clear_bit(s2, b) : BN_set_bit(s2, b); break;
		case 3: d[b % 32] ^= (unsigned char)(1u << (b % 8)); break;
		case 4: BN_copy(r2, s), BN_copy(s2, r); break;
		case 5: BN_sub(s2, ord, s); break; /* valid too */
		}
		struct verdict v = judge(d, 32, r2, s2, plain, fast);
		agree += (v.plain == 1) == (v.fast == 1);
		valid += v.fast == 1;
		ECDSA_SIG_free(sig);
	}
	OK(agree == n, "%d mutated signatures: the shim agrees with OpenSSL on %d", n, agree);
	OK(valid == n / 3, "... and finds exactly the unchanged and (r, n - s) ones valid (%d of %d)", valid, n / 3);
	BN_free(r2), BN_free(s2);
}

/* --- keys --------------------------------------------------------------------------- */
/* SubjectPublicKeyInfo DER of a P-256 (or nid) key with point bytes pt */
static int spki(int nid, const unsigned char *pt, int len, unsigned char **der)
{
	X509_PUBKEY *xp = X509_PUBKEY_new();
	unsigned char *copy = OPENSSL_memdup(pt, (size_t)len);
	int n = -1;
	if (xp && copy &&
	    X509_PUBKEY_set0_param(xp, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT, OBJ_nid2obj(nid), copy,
				   len))
		n = i2d_X509_PUBKEY(xp, der);
	else
		OPENSSL_free(copy);
	X509_PUBKEY_free(xp);
	return n;
}

#define NKEYS 14
static struct {
	const char *what;
	unsigned char *der;
	int len;
	bool ok;                 /* OpenSSL's own decoder accepted it */
	unsigned char point[65]; /* and the point it decoded (uncompressed) */
	size_t plen;
} keys[NKEYS];
static int nkeys;

static void add_key(const char *what, int nid, const unsigned char *pt, int len)
{
	keys[nkeys].what = what;
	keys[nkeys].der = NULL;
	keys[nkeys].len = spki(nid, pt, len, &keys[nkeys].der);
	nkeys++;
}

/* the verdicts of OpenSSL's decoder, before the shim's method exists */
static void keys_make(EC_KEY *k)
{
	unsigned char pt[65], c[33], big[65], small[65], *p;
	BIGNUM *x = BN_new();
	EC_POINT *sp = EC_POINT_new(grp);
	const EC_POINT *q = EC_KEY_get0_public_key(k);
	EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pt, 65, bctx);
	EC_POINT_point2oct(grp, q, POINT_CONVERSION_COMPRESSED, c, 33, bctx);
	add_key("a valid point", NID_X9_62_prime256v1, pt, 65);
	add_key("the compressed form", NID_X9_62_prime256v1, c, 33);
	pt[64] ^= 1;
	add_key("y + 1: off the curve", NID_X9_62_prime256v1, pt, 65);
	pt[64] ^= 1;
	pt[10] ^= 0x40;
	add_key("a changed x: off the curve", NID_X9_62_prime256v1, pt, 65);
	pt[10] ^= 0x40;
	memcpy(big, pt, 65);
	BN_bn2binpad(fp, big + 33, 32);
	add_key("y = p (no field element)", NID_X9_62_prime256v1, big, 65);
	/* a point with a small x, then the same x plus p: the same point mod p,
	 * but its x is no field element */
	BN_one(x);
	if (point_at_x(x, sp) && EC_POINT_point2oct(grp, sp, POINT_CONVERSION_UNCOMPRESSED, small, 65, bctx) == 65) {
		add_key("a valid point with a small x", NID_X9_62_prime256v1, small, 65);
		BN_add(x, x, fp);
		BN_bn2binpad(x, small + 1, 32);
		add_key("that point with x + p (>= p)", NID_X9_62_prime256v1, small, 65);
	} else {
		OK(0, "a point with a small x");
	}
	unsigned char zero = 0;
	add_key("the point at infinity (one zero byte)", NID_X9_62_prime256v1, &zero, 1);
	add_key("one byte short", NID_X9_62_prime256v1, pt, 64);
	memcpy(big, pt, 65);
	big[0] = (unsigned char)(6 | (pt[64] & 1));
	add_key("the hybrid form", NID_X9_62_prime256v1, big, 65);
	big[0] = (unsigned char)(6 | (~pt[64] & 1));
	add_key("the hybrid form with the wrong parity", NID_X9_62_prime256v1, big, 65);
	c[0] ^= 1; /* the other y: a valid point, not the key */
	add_key("compressed, other parity (the negated key)", NID_X9_62_prime256v1, c, 33);
	add_key("a P-384 curve name with a P-256 point", NID_secp384r1, pt, 65);
	add_key("a curve OpenSSL does not know", NID_id_GostR3410_2001_CryptoPro_A_ParamSet, pt, 65);
	for (int i = 0; i < nkeys; i++) {
		const unsigned char *in = keys[i].der;
		EVP_PKEY *pk = keys[i].len > 0 ? d2i_PUBKEY(NULL, &in, keys[i].len) : NULL;
		keys[i].ok = pk != NULL;
		p = NULL;
		keys[i].plen = 0;
		if (pk) {
			size_t n = EVP_PKEY_get1_encoded_public_key(pk, &p);
			EC_POINT *pp = EC_POINT_new(grp);
			if (n && p && EC_POINT_oct2point(grp, pp, p, n, bctx))
				keys[i].plen = EC_POINT_point2oct(grp, pp, POINT_CONVERSION_UNCOMPRESSED, keys[i].point,
								  65, bctx);
			EC_POINT_free(pp);
			OPENSSL_free(p);
		}
		EVP_PKEY_free(pk);
	}
	BN_free(x);
	EC_POINT_free(sp);
}

static void keys_check(void)
{
	unsigned long h0, m0, h, m;
	int ours = 0;
	osslshim_eckeys_stats(&h0, &m0);
	for (int i = 0; i < nkeys; i++) {
		/* twice: the second time from the cache when the first was kept */
		for (int pass = 0; pass < 2; pass++) {
			const unsigned char *in = keys[i].der;
			EVP_PKEY *pk = keys[i].len > 0 ? d2i_PUBKEY(NULL, &in, keys[i].len) : NULL;
			unsigned char pt[65], *p = NULL;
			size_t n = 0;
			if (pk && (n = EVP_PKEY_get1_encoded_public_key(pk, &p)) > 0) {
				EC_POINT *pp = EC_POINT_new(grp);
				n = EC_POINT_oct2point(grp, pp, p, n, bctx)
					    ? EC_POINT_point2oct(grp, pp, POINT_CONVERSION_UNCOMPRESSED, pt, 65, bctx)
					    : 0;
				EC_POINT_free(pp);
			}
			OPENSSL_free(p);
			OK((pk != NULL) == keys[i].ok && (!pk || (n == keys[i].plen && !memcmp(pt, keys[i].point, n))),
			   "%s%s: OpenSSL's decoder %s, so does the shim's%s", keys[i].what, pass ? " (again)" : "",
			   keys[i].ok ? "accepts it" : "refuses it", keys[i].ok ? " (same point)" : "");
			EVP_PKEY_free(pk);
		}
	}
	osslshim_eckeys_stats(&h, &m);
	ours = (int)((h - h0) + (m - m0));
	OK(ours >= 2 * 3, "the shim's decoder ran (%d decodes, %lu from its cache)", ours, h - h0);
}

int main(void)
{
	grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	bctx = BN_CTX_new();
	ord = BN_dup(EC_GROUP_get0_order(grp));
	fp = BN_new();
	EC_GROUP_get_curve(grp, fp, NULL, NULL, bctx);

	EC_KEY *priv = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EC_KEY_generate_key(priv);
	EC_KEY *plain = pub_key(EC_KEY_get0_public_key(priv)), *fast = osslshim_ecverify_key_new(plain);
	OK(fast != NULL, "a P-256 public key gets the table path");
	if (!fast)
		return tap_done();
	test_chosen_s(priv, plain, fast);
	test_big_digests(priv, plain, fast);
	test_x_of_r();
	test_out_of_range(priv, plain, fast);
	test_mutations(priv, plain, fast);

	/* the point at infinity as a key: no table (OpenSSL refuses every signature) */
	EC_POINT *inf = EC_POINT_new(grp);
	EC_POINT_set_to_infinity(grp, inf);
	EC_KEY *ik = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EC_KEY_set_public_key(ik, inf);
	OK(osslshim_ecverify_key_new(ik) == NULL, "the point at infinity gets no table");
	EC_KEY_free(ik);
	EC_POINT_free(inf);

	/* keys through the server-key decoder: OpenSSL's verdicts first */
	keys_make(priv);
	if (osslshim_keys_install(osslshim_eckeys_ameth(), 0))
		OK(0, "osslshim_keys_install with the server-key method");
	else
		keys_check();

	for (int i = 0; i < nkeys; i++)
		OPENSSL_free(keys[i].der);
	osslshim_eckeys_cleanup();
	EC_KEY_free(fast);
	EC_KEY_free(plain);
	EC_KEY_free(priv);
	BN_free(ord);
	BN_free(fp);
	BN_CTX_free(bctx);
	EC_GROUP_free(grp);
	return tap_done();
}
#else
int main(void)
{
	OK(osslshim_ecverify_key_new(NULL) == NULL, "no OpenSSL shim in this build: nothing to hold to OpenSSL");
	return tap_done();
}
#endif

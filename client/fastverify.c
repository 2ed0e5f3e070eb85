/* client/fastverify.c: ECDSA verification with a precomputed table for the
 * server's public key.
 *
 * A load generator checks thousands of CertificateVerify signatures made
 * with the same server key. An ECDSA verification computes u1*G + u2*Q: G,
 * the curve's generator, has a precomputed table in OpenSSL (the P-256 one
 * is built in), so u1*G is a cheap fixed-base multiplication; Q, the
 * server's key, has none, so u2*Q costs ~256 doublings. OpenSSL can
 * precompute a table for any point that is a group's generator: this file
 * builds a copy of the curve whose generator is Q, precomputes its table
 * once, and verifies each signature with two fixed-base multiplications.
 * Same equation, same checks, same verdict: only the order of the work
 * differs (24 us instead of 60 us per P-256 verification here, after a
 * one-time table of ~20 ms). Only P-256 on OpenSSL's nistz256 code gains:
 * OpenSSL multiplies the generator of its other curves with a constant-time
 * ladder whatever was precomputed, so there the table would cost twice.
 *
 * fastverify_key_new() makes a copy of a public EC key whose ECDSA
 * verifications take this path (an EC_KEY_METHOD whose verify_sig is
 * fastverify_sig(), the tables hung on the key as ex_data). Everything else
 * about the key (DER signature parsing, the strict-encoding check, the
 * range checks of r and s) stays OpenSSL's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY, EC_KEY_METHOD, EC_GROUP_precompute_mult */
#include "client/client.h"

#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

struct fastverify {
	EC_GROUP *q;    /* the curve with generator Q (the public key) and its table */
	BIGNUM *p;      /* the field prime */
	BIGNUM *pmn;    /* p - n: below it, r + n is a field element too */
};

/* --- s^-1 mod n for 256-bit odd n -----------------------------------------------
 * BN_mod_inverse() takes 14 us here and a Fermat exponentiation with
 * BN_mod_exp_mont() 9 us, a third of a whole verification; OpenSSL's own fast
 * inverse modulo the P-256 order is internal. Every value inverted here is
 * public (the s of a signature), so the plain binary extended Euclid, in
 * variable time on four 64-bit limbs, is enough: ~2 us. */
typedef unsigned long long limb;
#define NL 4

static bool l_is_one(const limb *a)
{
	return a[0] == 1 && !a[1] && !a[2] && !a[3];
}

static bool l_ge(const limb *a, const limb *b)
{
	for (int i = NL - 1; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] > b[i];
	return true;
}

/* a -= b, returns the borrow */
static limb l_sub(limb *a, const limb *b)
{
	limb br = 0;
	for (int i = 0; i < NL; i++) {
		unsigned __int128 d = (unsigned __int128)a[i] - b[i] - br;
		a[i] = (limb)d;
		br = (limb)(d >> 64) & 1;
	}
	return br;
}

/* a += b, returns the carry */
static limb l_add(limb *a, const limb *b)
{
	limb c = 0;
	for (int i = 0; i < NL; i++) {
		unsigned __int128 s = (unsigned __int128)a[i] + b[i] + c;
		a[i] = (limb)s;
		c = (limb)(s >> 64);
	}
	return c;
}

/* a = a / 2^k mod n (a < n, n odd, 0 < k < 64, ninv = -n^-1 mod 2^64):
 * add the multiple m*n (m < 2^k) that clears a's low k bits, then shift */
static void l_div2k(limb *a, const limb *n, limb ninv, unsigned k)
{
	limb m = (a[0] * ninv) & ((1ULL << k) - 1), t[NL + 1], c = 0;

	for (int i = 0; i < NL; i++) {
		unsigned __int128 s = (unsigned __int128)m * n[i] + a[i] + c;
		t[i] = (limb)s;
		c = (limb)(s >> 64);
	}
	t[NL] = c;
	for (int i = 0; i < NL; i++)
		a[i] = (t[i] >> k) | (t[i + 1] << (64 - k));
	if (l_ge(a, n)) /* (a + m*n) / 2^k < 2n */
		l_sub(a, n);
}

/* u = u / 2^k (u odd afterwards), x = x / 2^k mod n, for u != 0 */
static void l_strip(limb *u, limb *x, const limb *n, limb ninv)
{
	while (!u[0]) { /* whole zero limbs (rare): 64 bits at a time, in two steps */
		for (int i = 0; i < NL - 1; i++)
			u[i] = u[i + 1];
		u[NL - 1] = 0;
		l_div2k(x, n, ninv, 32);
		l_div2k(x, n, ninv, 32);
	}
	unsigned k = (unsigned)__builtin_ctzll(u[0]);
	if (!k)
		return;
	for (int i = 0; i < NL - 1; i++)
		u[i] = (u[i] >> k) | (u[i + 1] << (64 - k));
	u[NL - 1] >>= k;
	l_div2k(x, n, ninv, k);
}

static void l_from_bn(limb *a, const BIGNUM *b)
{
	unsigned char le[8 * NL];
	BN_bn2lebinpad(b, le, sizeof(le));
	for (int i = 0; i < NL; i++) {
		a[i] = 0;
		for (int k = 7; k >= 0; k--)
			a[i] = (a[i] << 8) | le[8 * i + k];
	}
}

/* r = a^-1 mod n, for odd n of at most 256 bits and 0 < a < n with
 * gcd(a, n) = 1 (n prime). 1, or 0 when the inputs do not fit. */
int fastverify_mod_inverse(BIGNUM *r, const BIGNUM *a, const BIGNUM *n)
{
	limb u[NL], v[NL], x1[NL] = { 1 }, x2[NL] = { 0 }, nn[NL];
	unsigned char le[8 * NL];

	if (BN_num_bits(n) > 64 * NL || !BN_is_odd(n) || BN_is_zero(a) || BN_is_negative(a) || BN_ucmp(a, n) >= 0)
		return 0;
	l_from_bn(u, a);
	l_from_bn(v, n);
	l_from_bn(nn, n);
	/* -n^-1 mod 2^64 by Newton's iteration (each step doubles the bits) */
	limb inv = nn[0];
	for (int i = 0; i < 5; i++)
		inv *= 2 - nn[0] * inv;
	limb ninv = 0 - inv;
	/* invariants: x1*a = u, x2*a = v (mod n); u and v odd after each strip */
	l_strip(u, x1, nn, ninv);
	while (!l_is_one(u) && !l_is_one(v)) {
		if (l_ge(u, v)) {
			l_sub(u, v);
			if (l_sub(x1, x2))
				l_add(x1, nn);
			if (!u[0] && !u[1] && !u[2] && !u[3])
				return 0; /* u == v: gcd(a, n) != 1 */
			l_strip(u, x1, nn, ninv);
		} else {
			l_sub(v, u);
			if (l_sub(x2, x1))
				l_add(x2, nn);
			l_strip(v, x2, nn, ninv);
		}
	}
	const limb *x = l_is_one(u) ? x1 : x2;
	for (int i = 0; i < NL; i++)
		for (int k = 0; k < 8; k++)
			le[8 * i + k] = (unsigned char)(x[i] >> (8 * k));
	return BN_lebin2bn(le, sizeof(le), r) != NULL;
}

static EC_KEY_METHOD *fv_meth;
static int fv_index = -1;
static int (*plain_verify_sig)(const unsigned char *, int, const ECDSA_SIG *, EC_KEY *);
static unsigned long fv_used; /* atomic: verifications done here (for tests) */
static pthread_once_t fv_once = PTHREAD_ONCE_INIT;

static void fv_free(struct fastverify *fv)
{
	if (!fv)
		return;
	EC_GROUP_free(fv->q);
	BN_free(fv->p);
	BN_free(fv->pmn);
	free(fv);
}

static void exdata_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	fv_free(ptr);
}

/* A copy of the key (should OpenSSL make one) does not share the tables:
 * it verifies the plain way. */
static int exdata_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
		      long argl, void *argp)
{
	(void)to, (void)from, (void)idx, (void)argl, (void)argp;
	*from_d = NULL;
	return 1;
}

static int fastverify_sig(const unsigned char *dgst, int dgst_len, const ECDSA_SIG *sig, EC_KEY *eckey)
{
	const struct fastverify *fv = EC_KEY_get_ex_data(eckey, fv_index);
	const EC_GROUP *group = EC_KEY_get0_group(eckey);
	const BIGNUM *order, *r, *s;
	BIGNUM *u1, *u2, *m, *x;
	EC_POINT *p = NULL, *pq = NULL;
	BN_CTX *ctx;
	int ret = -1, bits;

	if (!fv || !group || !sig)
		return plain_verify_sig(dgst, dgst_len, sig, eckey);
	ECDSA_SIG_get0(sig, &r, &s);
	order = EC_GROUP_get0_order(group);
	if (!(ctx = BN_CTX_new()))
		return -1;
	BN_CTX_start(ctx);
	u1 = BN_CTX_get(ctx);
	u2 = BN_CTX_get(ctx);
	m = BN_CTX_get(ctx);
	x = BN_CTX_get(ctx);
	if (!x || !order)
		goto out;
	/* 0 < r, s < n */
	if (BN_is_zero(r) || BN_is_negative(r) || BN_ucmp(r, order) >= 0 || BN_is_zero(s) ||
	    BN_is_negative(s) || BN_ucmp(s, order) >= 0) {
		ERR_raise(ERR_LIB_EC, EC_R_BAD_SIGNATURE);
		ret = 0;
		goto out;
	}
	/* w = s^-1 mod n */
	if (!fastverify_mod_inverse(u2, s, order))
		goto out;
	/* m: the digest's leftmost bits(n) bits */
	bits = BN_num_bits(order);
	if (8 * dgst_len > bits)
		dgst_len = (bits + 7) / 8;
	if (!BN_bin2bn(dgst, dgst_len, m))
		goto out;
	if (8 * dgst_len > bits && !BN_rshift(m, m, 8 - (bits & 7)))
		goto out;
	/* u1 = m*w, u2 = r*w (mod n) */
	if (!BN_mod_mul(u1, m, u2, order, ctx) || !BN_mod_mul(u2, r, u2, order, ctx))
		goto out;
	/* u1*G + u2*Q, each a fixed-base multiplication */
	if (!(p = EC_POINT_new(group)) || !(pq = EC_POINT_new(fv->q)) ||
	    !EC_POINT_mul(group, p, u1, NULL, NULL, ctx) ||
	    !EC_POINT_mul(fv->q, pq, u2, NULL, NULL, ctx) || !EC_POINT_add(group, p, p, pq, ctx))
		goto out;
	/* valid when x(R) mod n == r, that is when the affine x of R = (X:Y:Z)
	 * is r or r + n (the latter only when below p): X == x * Z^2 (mod p),
	 * which spares converting R to affine coordinates (a field inversion) */
	if (!EC_POINT_get_Jprojective_coordinates_GFp(group, p, x, NULL, m, ctx) || !BN_nnmod(x, x, fv->p, ctx))
		goto out;
	if (BN_is_zero(m)) {
		ERR_raise(ERR_LIB_EC, EC_R_POINT_AT_INFINITY);
		goto out;
	}
	if (!BN_mod_sqr(m, m, fv->p, ctx) || !BN_mod_mul(u1, r, m, fv->p, ctx))
		goto out;
	ret = BN_cmp(u1, x) == 0;
	if (!ret && BN_cmp(r, fv->pmn) < 0) {
		if (!BN_add(u1, r, order) || !BN_mod_mul(u1, u1, m, fv->p, ctx)) {
			ret = -1;
			goto out;
		}
		ret = BN_cmp(u1, x) == 0;
	}
	if (!ret)
		ERR_raise(ERR_LIB_EC, EC_R_BAD_SIGNATURE);
	__atomic_add_fetch(&fv_used, 1, __ATOMIC_RELAXED);
out:
	EC_POINT_free(p);
	EC_POINT_free(pq);
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return ret;
}

static void fv_init(void)
{
	int (*verify)(int, const unsigned char *, int, const unsigned char *, int, EC_KEY *) = NULL;
	const EC_KEY_METHOD *def = EC_KEY_OpenSSL();

	EC_KEY_METHOD_get_verify(def, &verify, &plain_verify_sig);
	fv_index = EC_KEY_get_ex_new_index(0, NULL, NULL, exdata_dup, exdata_free);
	if (!verify || !plain_verify_sig || fv_index < 0 || !(fv_meth = EC_KEY_METHOD_new(def)))
		return;
	EC_KEY_METHOD_set_verify(fv_meth, verify, fastverify_sig);
}

/* The tables for key ec: NULL when they cannot be made. */
static struct fastverify *fv_build(const EC_KEY *ec)
{
	const EC_GROUP *group = EC_KEY_get0_group(ec);
	const EC_POINT *pub = EC_KEY_get0_public_key(ec);
	struct fastverify *fv;
	BN_CTX *ctx;
	bool ok = false;

	if (!group || !pub || EC_POINT_is_at_infinity(group, pub) || !(fv = calloc(1, sizeof(*fv))))
		return NULL;
	if (!(ctx = BN_CTX_new())) {
		free(fv);
		return NULL;
	}
	if (!(fv->p = BN_new()) || !(fv->pmn = BN_new()) || !EC_GROUP_get_curve(group, fv->p, NULL, NULL, ctx) ||
	    !BN_sub(fv->pmn, fv->p, EC_GROUP_get0_order(group)))
		goto out;
	/* Q: the same curve with the key as its generator (same order: the
	 * named curves have cofactor 1, so every point but infinity generates) */
	if (!(fv->q = EC_GROUP_dup(group)) ||
	    !EC_GROUP_set_generator(fv->q, pub, EC_GROUP_get0_order(group), EC_GROUP_get0_cofactor(group)) ||
	    !EC_GROUP_precompute_mult(fv->q, ctx) || !EC_GROUP_have_precompute_mult(fv->q))
		goto out;
	ok = true;
out:
	BN_CTX_free(ctx);
	if (!ok) {
		fv_free(fv);
		ERR_clear_error();
		return NULL;
	}
	return fv;
}

EC_KEY *fastverify_key_new(const EC_KEY *ec)
{
	struct fastverify *fv;
	const EC_GROUP *group;
	EC_KEY *k;
	const BIGNUM *cof;

	pthread_once(&fv_once, fv_init);
	if (!fv_meth || !ec || EC_KEY_get0_private_key(ec))
		return NULL;
	/* Only where it pays: OpenSSL's P-256 (nistz256) takes the fixed-base
	 * comb with a table; its generic curves multiply a generator with a
	 * constant-time ladder whatever was precomputed (P-384 verifies twice
	 * as slowly this way, measured) */
	group = EC_KEY_get0_group(ec);
	cof = group ? EC_GROUP_get0_cofactor(group) : NULL;
	if (!cof || !BN_is_one(cof) || EC_GROUP_get_curve_name(group) != NID_X9_62_prime256v1 ||
	    !EC_GROUP_have_precompute_mult(group))
		return NULL;
	if (!(fv = fv_build(ec)))
		return NULL;
	if (!(k = EC_KEY_dup(ec)) || !EC_KEY_set_method(k, fv_meth) || !EC_KEY_set_ex_data(k, fv_index, fv)) {
		EC_KEY_free(k);
		fv_free(fv);
		ERR_clear_error();
		return NULL;
	}
	return k;
}

unsigned long fastverify_used(void)
{
	return __atomic_load_n(&fv_used, __ATOMIC_RELAXED);
}

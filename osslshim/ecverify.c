/* osslshim/ecverify.c: ECDSA verification with a precomputed table for the
 * server's public key (ktls-client, through eckeys.c).
 *
 * Why: a load generator checks thousands of CertificateVerify signatures made
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
 * osslshim_ecverify_key_new() makes a copy of a public EC key whose ECDSA
 * verifications take this path (an EC_KEY_METHOD whose verify_sig is
 * fastverify_sig(), the tables hung on the key as ex_data). Everything else
 * about the key (DER signature parsing, the strict-encoding check) stays
 * OpenSSL's. The point arithmetic is OpenSSL's (EC_POINT_mul, _add); written
 * here are the range checks of r and s, the final comparison in projective
 * coordinates and the inverse of s (below): public values only.
 *
 * Off: --stock-openssl (or a build without OpenSSL's deprecated APIs:
 * EC_KEY_METHOD). tests/unit/osslshim_ecverify.c holds it to OpenSSL's
 * ECDSA_do_verify() verdicts: valid signatures, every kind of bad one,
 * boundary scalars (0, 1, n - 1, n, r >= p - n), the r + n branch, keys that
 * are not on the curve; and the inverse to its definition.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY, EC_KEY_METHOD, EC_GROUP_precompute_mult */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>


/* --- a^-1 mod n for odd n of at most 256 bits -----------------------------------
 * BN_mod_inverse() takes 14 us here and a Fermat exponentiation with
 * BN_mod_exp_mont() 9 us, a third of a whole verification; OpenSSL's own fast
 * inverse modulo the P-256 order is internal. Every value inverted here is
 * public (the s of a signature), so a variable-time algorithm is fine: the
 * Bernstein-Yang "safegcd" divsteps (https://gcd.cr.yp.to/papers.html#safegcd)
 * in their variable-time form, as libsecp256k1 documents them in
 * doc/safegcd_implementation.md.
 *
 * With f = n, g = a, d = 0, e = 1 (so that d*a = f and e*a = g mod n), each
 * round runs 62 divsteps on the low 64 bits of f and g alone, which yields a
 * 2x2 matrix T (scaled by 2^62); T is then applied to the full f, g (an exact
 * division by 2^62) and to d, e modulo n (adding the multiple of n that makes
 * the division exact). When g reaches 0, f = +-gcd(a, n): the inverse is
 * +-d. In the divsteps, runs of zero bits of g go in one shift and up to six
 * low bits of g are cancelled with one multiple of f, so a 256-bit inverse
 * takes about ten rounds of a few hundred instructions.
 *
 * Numbers are signed 62-bit limbs: v[0..3] in [0, 2^62), v[4] signed, the
 * value sum(v[i] * 2^(62*i)); the top limb of f and g becomes a lower one
 * once both shrink (len). */
#define L62 5
#define M62 (UINT64_MAX >> 2)

struct s62 {
	int64_t v[L62];
};

struct modn {
	struct s62 n;
	uint64_t w[4];  /* n in 64-bit limbs, to compare a with */
	uint64_t ninv;  /* n^-1 mod 2^62 */
};

/* 2^62 times the transition matrix of 62 divsteps: [f, g] -> [u*f + v*g,
 * q*f + r*g] / 2^62; |u| + |v| <= 2^62 and |q| + |r| <= 2^62 */
struct trans {
	int64_t u, v, q, r;
};

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void le64_put(unsigned char *p, uint64_t x)
{
	p[0] = (unsigned char)x, p[1] = (unsigned char)(x >> 8), p[2] = (unsigned char)(x >> 16);
	p[3] = (unsigned char)(x >> 24), p[4] = (unsigned char)(x >> 32), p[5] = (unsigned char)(x >> 40);
	p[6] = (unsigned char)(x >> 48), p[7] = (unsigned char)(x >> 56);
}

/* w = b for 0 <= b < 2^256; false otherwise */
static bool u256_from_bn(uint64_t *w, const BIGNUM *b)
{
	unsigned char le[32];

	if (BN_is_negative(b) || BN_bn2lebinpad(b, le, sizeof(le)) != (int)sizeof(le))
		return false;
	for (int i = 0; i < 4; i++)
		w[i] = le64(le + 8 * i);
	return true;
}

static void s62_from_u256(struct s62 *a, const uint64_t *w)
{
	a->v[0] = (int64_t)(w[0] & M62);
	a->v[1] = (int64_t)((w[0] >> 62 | w[1] << 2) & M62);
	a->v[2] = (int64_t)((w[1] >> 60 | w[2] << 4) & M62);
	a->v[3] = (int64_t)((w[2] >> 58 | w[3] << 6) & M62);
	a->v[4] = (int64_t)(w[3] >> 56);
}

/* a in [0, 2^256) */
static void s62_to_u256(uint64_t *w, const struct s62 *a)
{
	const uint64_t *v = (const uint64_t *)a->v;

	w[0] = v[0] | v[1] << 62;
	w[1] = v[1] >> 2 | v[2] << 60;
	w[2] = v[2] >> 4 | v[3] << 58;
	w[3] = v[3] >> 6 | v[4] << 56;
}

/* w = -g/f mod 2^lim for odd f, lim = min(eta + 1, 6, i) with bit = 2^i:
 * adding w*f to g clears lim low bits at once (f(f^2 - 2) = -1/f mod 64);
 * lim is bounded by eta + 1 (the next swap) and by the i steps left. */
static inline uint64_t cancel_mul(uint64_t f, uint64_t g, int64_t eta, uint64_t bit)
{
	return (g * f * (f * f - 2)) & ((2ULL << (eta < 5 ? eta : 5)) - 1) & (bit - 1);
}

/* 62 divsteps on the low bits of f and g (f odd) from eta = -delta: the new
 * eta, and their matrix in t. The rows (f; u, v) and (g; q, r) trade places
 * at each swap, (f, g) = (g, -f): rather than moving them, the loop has a
 * copy for each assignment of the rows to the variables a and b. bit = 2^i
 * for the i steps left: a sentinel for the count of g's low zeros. */
static int64_t divsteps_62(int64_t eta, uint64_t f, uint64_t g, struct trans *t)
{
	uint64_t a = f, ua = 1, va = 0, b = g, ub = 0, vb = 1, w, bit = 1ULL << 62;
	int64_t z;

	for (;;) {
		/* f = a, g = b: shift out g's zero bits, at most the steps left */
		z = __builtin_ctzll(b | bit);
		b >>= z, ua <<= z, va <<= z, bit >>= z;
		eta -= z;
		if (bit == 1) {
			t->u = (int64_t)ua, t->v = (int64_t)va, t->q = (int64_t)ub, t->r = (int64_t)vb;
			return eta;
		}
		if (eta >= 0) {
			w = cancel_mul(a, b, eta, bit);
			b += w * a, ub += w * ua, vb += w * va;
			continue;
		}
		/* g odd and eta < 0: (f, g) = (g, -f), so f = b and g = -a */
		eta = -eta;
		a = 0 - a, ua = 0 - ua, va = 0 - va;
		for (;;) {
			w = cancel_mul(b, a, eta, bit);
			a += w * b, ua += w * ub, va += w * vb;
			z = __builtin_ctzll(a | bit);
			a >>= z, ub <<= z, vb <<= z, bit >>= z;
			eta -= z;
			if (bit == 1) {
				t->u = (int64_t)ub, t->v = (int64_t)vb, t->q = (int64_t)ua, t->r = (int64_t)va;
				return eta;
			}
			if (eta < 0)
				break;
		}
		/* swap back: f = a, g = -b */
		eta = -eta;
		b = 0 - b, ub = 0 - ub, vb = 0 - vb;
		w = cancel_mul(a, b, eta, bit);
		b += w * a, ub += w * ua, vb += w * va;
	}
}

/* x = (k*d + l*e + c*n) / 2^62 (exact), limb by limb; x may be d or e */
static __attribute__((noinline)) void s62_combine(struct s62 *x, const struct s62 *d, const struct s62 *e, int64_t k, int64_t l,
			const struct s62 *n, int64_t c)
{
	__int128 acc = (__int128)k * d->v[0] + (__int128)l * e->v[0] + (__int128)c * n->v[0];

	acc >>= 62;
#pragma GCC unroll 4
	for (int i = 1; i < L62; i++) {
		acc += (__int128)k * d->v[i] + (__int128)l * e->v[i] + (__int128)c * n->v[i];
		x->v[i - 1] = (int64_t)((uint64_t)acc & M62);
		acc >>= 62;
	}
	x->v[L62 - 1] = (int64_t)acc;
}

/* x = (l + c*n) / 2^62 (exact): s62_combine() for d = 0 and e = 1 */
static void s62_combine_first(struct s62 *x, int64_t l, const struct s62 *n, int64_t c)
{
	__int128 acc = (__int128)c * n->v[0] + l;

	acc >>= 62;
	for (int i = 1; i < L62; i++) {
		acc += (__int128)c * n->v[i];
		x->v[i - 1] = (int64_t)((uint64_t)acc & M62);
		acc >>= 62;
	}
	x->v[L62 - 1] = (int64_t)acc;
}

/* [d, e] = T [d, e] / 2^62 mod n, for d, e in (-2n, n); the results too.
 * first: d = 0 and e = 1 (the first round); last: d alone is needed. */
static void s62_update_de(struct s62 *d, struct s62 *e, const struct trans *t, const struct modn *m, bool first,
			  bool last)
{
	const int64_t u = t->u, v = t->v, q = t->q, r = t->r;
	const int64_t sd = d->v[L62 - 1] >> 63, se = e->v[L62 - 1] >> 63; /* -1 when negative */
	/* md, me: the multiples of n that clear the low 62 bits; starting from
	 * n times the coefficients of the negative inputs keeps the results
	 * above -2n (the bounds of doc/safegcd_implementation.md, section 4) */
	int64_t md = (u & sd) + (v & se), me = (q & sd) + (r & se);
	uint64_t cd = (uint64_t)u * (uint64_t)d->v[0] + (uint64_t)v * (uint64_t)e->v[0];
	uint64_t ce = (uint64_t)q * (uint64_t)d->v[0] + (uint64_t)r * (uint64_t)e->v[0];
	struct s62 d0;

	md -= (int64_t)((m->ninv * cd + (uint64_t)md) & M62);
	me -= (int64_t)((m->ninv * ce + (uint64_t)me) & M62);
	if (first) {
		s62_combine_first(d, v, &m->n, md);
		s62_combine_first(e, r, &m->n, me);
		return;
	}
	if (last) {
		s62_combine(d, d, e, u, v, &m->n, md);
		return;
	}
	d0 = *d;
	s62_combine(d, d, e, u, v, &m->n, md);
	s62_combine(e, &d0, e, q, r, &m->n, me);
}

/* x = (k*f + l*g) / 2^62 (exact) on len limbs; x may be f or g */
static __attribute__((noinline)) void s62_combine_len(struct s62 *x, const struct s62 *f, const struct s62 *g,
						     int64_t k, int64_t l, int len)
{
	__int128 acc = (__int128)k * f->v[0] + (__int128)l * g->v[0];

	acc >>= 62;
	for (int i = 1; i < len; i++) {
		acc += (__int128)k * f->v[i] + (__int128)l * g->v[i];
		x->v[i - 1] = (int64_t)((uint64_t)acc & M62);
		acc >>= 62;
	}
	x->v[len - 1] = (int64_t)acc;
}

/* [f, g] = T [f, g] / 2^62 (exact) on their len limbs */
static void s62_update_fg(struct s62 *f, struct s62 *g, int len, const struct trans *t)
{
	struct s62 f0 = *f;

	s62_combine_len(f, f, g, t->u, t->v, len);
	s62_combine_len(g, &f0, g, t->q, t->r, len);
}

/* a's limbs back in [0, 2^62) with the carries in the top one */
static void s62_carry(struct s62 *a)
{
	for (int i = 0; i < L62 - 1; i++) {
		a->v[i + 1] += a->v[i] >> 62;
		a->v[i] &= (int64_t)M62;
	}
}

/* d = sign * d mod n, in [0, n), for d in (-2n, n) and sign +-1 */
static void s62_normalize(struct s62 *d, int sign, const struct modn *m)
{
	if (d->v[L62 - 1] < 0) {
		for (int i = 0; i < L62; i++)
			d->v[i] += m->n.v[i];
		s62_carry(d);
	}
	if (sign < 0) {
		for (int i = 0; i < L62; i++)
			d->v[i] = -d->v[i];
		s62_carry(d);
	}
	if (d->v[L62 - 1] < 0) {
		for (int i = 0; i < L62; i++)
			d->v[i] += m->n.v[i];
		s62_carry(d);
	}
}

/* +1 or -1 when f (len limbs) is, 0 otherwise */
static int s62_unit(const struct s62 *f, int len)
{
	int64_t top = f->v[len - 1], low = len > 1 ? (int64_t)M62 : -1;

	if (f->v[0] == 1 && (len == 1 || top == 0)) {
		for (int i = 1; i < len - 1; i++)
			if (f->v[i])
				return 0;
		return 1;
	}
	if (f->v[0] == low && top == -1) {
		for (int i = 1; i < len - 1; i++)
			if (f->v[i] != (int64_t)M62)
				return 0;
		return -1;
	}
	return 0;
}

/* The modulus n: false unless odd, above 1 and of at most 256 bits. */
static bool modn_set(struct modn *m, const BIGNUM *n)
{
	if (!BN_is_odd(n) || BN_is_one(n) || !u256_from_bn(m->w, n))
		return false;
	s62_from_u256(&m->n, m->w);
	/* n^-1 mod 2^64 by Newton's iteration: n*n = 1 mod 8, and each step
	 * doubles the correct bits (3, 6, 12, 24, 48, 96) */
	uint64_t inv = m->w[0];
	for (int i = 0; i < 5; i++)
		inv *= 2 - m->w[0] * inv;
	m->ninv = inv & M62;
	return true;
}

/* r = a^-1 mod m->n: 1, or 0 when a is not in (0, n) or gcd(a, n) != 1 */
static int modn_inverse(BIGNUM *r, const BIGNUM *a, const struct modn *m)
{
	struct s62 f = m->n, g, d = { { 0 } }, e = { { 1 } };
	struct trans t;
	uint64_t w[4];
	unsigned char le[32];
	int64_t eta = -1; /* -delta, delta = 1 */
	int len = L62, sign;

	if (!u256_from_bn(w, a) || !(w[0] | w[1] | w[2] | w[3]))
		return 0;
	for (int i = 3; i >= 0; i--) /* a < n */
		if (w[i] != m->w[i]) {
			if (w[i] > m->w[i])
				return 0;
			break;
		} else if (!i)
			return 0;
	s62_from_u256(&g, w);
	for (bool first = true;; first = false) {
		eta = divsteps_62(eta, (uint64_t)f.v[0], (uint64_t)g.v[0], &t);
		s62_update_fg(&f, &g, len, &t);
		if (!g.v[0]) {
			int64_t any = 0;
			for (int i = 1; i < len; i++)
				any |= g.v[i];
			if (!any) {
				s62_update_de(&d, &e, &t, m, first, true);
				break;
			}
		}
		s62_update_de(&d, &e, &t, m, first, false);
		/* both tops only a sign: fold them into the limb below */
		int64_t fn = f.v[len - 1], gn = g.v[len - 1];
		if (len > 1 && (fn == 0 || fn == -1) && (gn == 0 || gn == -1)) {
			f.v[len - 2] = (int64_t)((uint64_t)f.v[len - 2] | (uint64_t)fn << 62);
			g.v[len - 2] = (int64_t)((uint64_t)g.v[len - 2] | (uint64_t)gn << 62);
			len--;
		}
	}
	if (!(sign = s62_unit(&f, len)))
		return 0; /* gcd(a, n) = |f| != 1 */
	s62_normalize(&d, sign, m);
	s62_to_u256(w, &d);
	for (int i = 0; i < 4; i++)
		le64_put(le + 8 * i, w[i]);
	return BN_lebin2bn(le, sizeof(le), r) != NULL;
}

/* r = a^-1 mod n, for odd n of at most 256 bits and 0 < a < n with
 * gcd(a, n) = 1. 1, or 0 when the inputs do not fit. */
int osslshim_mod_inverse(BIGNUM *r, const BIGNUM *a, const BIGNUM *n)
{
	struct modn m;

	return modn_set(&m, n) && modn_inverse(r, a, &m);
}

struct fastverify {
	EC_GROUP *q;    /* the curve with generator Q (the public key) and its table */
	BIGNUM *p;      /* the field prime */
	BIGNUM *pmn;    /* p - n: below it, r + n is a field element too */
	struct modn order; /* n, ready for modn_inverse() */
};

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
	if (!modn_inverse(u2, s, &fv->order))
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
	    !BN_sub(fv->pmn, fv->p, EC_GROUP_get0_order(group)) || !modn_set(&fv->order, EC_GROUP_get0_order(group)))
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

EC_KEY *osslshim_ecverify_key_new(const EC_KEY *ec)
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

unsigned long osslshim_ecverify_used(void)
{
	return __atomic_load_n(&fv_used, __ATOMIC_RELAXED);
}
#endif

/* osslshim/eckeys.c: the server's EC key decoded once (ktls-client).
 *
 * Why: every handshake makes the client parse the server's certificate.
 * OpenSSL 3.0 decodes the certificate's public key through its provider
 * decoders: each parse builds a decoder context that walks every key manager
 * and decoder of every loaded provider, which costs more CPU than the
 * signature check itself (measured here: d2i_X509 of a P-256 certificate
 * ~160 us, ~40 us on the direct path). OpenSSL keeps its direct (pre-3.0)
 * path for key types an ENGINE provides a method for: keys.c registers one,
 * and this file gives it an EC ASN.1 method for the server's key.
 *
 * The server sends the same certificate on every handshake, so its EC key is
 * decoded once: the method's public-key decoder keeps the last few keys it
 * decoded and, when a certificate holds the same curve and the same point
 * (compared byte for byte), hands out that key again instead of building a
 * new curve object (the costly part of decoding, ~125k instructions). The
 * second time a key is seen it is replaced by a copy whose ECDSA
 * verifications use a precomputed table (ecverify.c). Every
 * CertificateVerify is still checked against the key of the certificate that
 * came with it; the decoding itself is OpenSSL's (o2i_ECPublicKey, which
 * refuses points off the curve).
 *
 * Off: --stock-openssl (or a build without OpenSSL's deprecated APIs).
 * Tested against OpenSSL's own decoder and verdicts by
 * tests/unit/osslshim_ecverify.c.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE and EVP_PKEY_METHOD: deprecated, still in 3.x */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT
#include <pthread.h>
#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* --- the server-key cache ------------------------------------------------- */
/* A few entries: a server's chain (leaf and intermediates) and the CA keys
 * of --verify are decoded on every handshake or once, each finding its own
 * entry; the least recently used one makes room. */
#define KC_ENTRIES 4
struct kc_entry {
	int nid;                        /* the curve */
	unsigned char *pub;             /* the point, as encoded in the certificate */
	size_t publen;
	EC_KEY *ec;                     /* decoded once (the cache holds a reference) */
	bool tried_fast;                /* osslshim_ecverify_key_new() was tried for it */
	unsigned long used;             /* when it last served (kc.clock) */
};
static struct {
	pthread_mutex_t lock;
	struct kc_entry e[KC_ENTRIES];
	unsigned long clock;
	unsigned long hits, misses;
} kc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static EVP_PKEY_ASN1_METHOD *ec_ameth;

/* Decode a named-curve key the way OpenSSL's EC decoder does. */
static EC_KEY *ec_decode(int ptype, const void *pval, const unsigned char *p, int pklen)
{
	EC_KEY *ec = EC_KEY_new();
	EC_GROUP *g = NULL;

	if (!ec)
		return NULL;
	if (ptype == V_ASN1_SEQUENCE) {
		const ASN1_STRING *ps = pval;
		const unsigned char *pm = ps->data;
		if (!d2i_ECParameters(&ec, &pm, ps->length))
			goto fail;
	} else if (ptype == V_ASN1_OBJECT) {
		if (!(g = EC_GROUP_new_by_curve_name(OBJ_obj2nid(pval))))
			goto fail;
		EC_GROUP_set_asn1_flag(g, OPENSSL_EC_NAMED_CURVE);
		if (!EC_KEY_set_group(ec, g))
			goto fail;
		EC_GROUP_free(g);
		g = NULL;
	} else {
		goto fail;
	}
	if (!o2i_ECPublicKey(&ec, &p, pklen))
		goto fail;
	return ec;
fail:
	EC_GROUP_free(g);
	EC_KEY_free(ec);
	return NULL;
}

/* The cached key when (nid, point) matches, with a reference for the
 * caller; NULL otherwise. Called with kc.lock held. */
static EC_KEY *cache_lookup(int nid, const unsigned char *p, int pklen)
{
	struct kc_entry *k = NULL;

	for (int i = 0; i < KC_ENTRIES && !k; i++)
		if (kc.e[i].ec && kc.e[i].nid == nid && kc.e[i].publen == (size_t)pklen &&
		    !memcmp(kc.e[i].pub, p, (size_t)pklen))
			k = &kc.e[i];
	if (!k)
		return NULL;
	if (!k->tried_fast) {
		/* seen twice: worth the tables (a few milliseconds, once) */
		EC_KEY *fast = osslshim_ecverify_key_new(k->ec);
		k->tried_fast = true;
		if (fast) {
			EC_KEY_free(k->ec); /* holders of the plain key keep theirs */
			k->ec = fast;
		}
	}
	kc.hits++;
	k->used = ++kc.clock;
	EC_KEY_up_ref(k->ec);
	return k->ec;
}

static void cache_store(int nid, const unsigned char *p, int pklen, EC_KEY *ec)
{
	unsigned char *copy = malloc((size_t)pklen);
	struct kc_entry *k = &kc.e[0];

	kc.misses++;
	if (!copy || !EC_KEY_up_ref(ec)) {
		free(copy);
		return;
	}
	for (int i = 1; i < KC_ENTRIES; i++)
		if (kc.e[i].used < k->used)
			k = &kc.e[i];
	memcpy(copy, p, (size_t)pklen);
	EC_KEY_free(k->ec);
	free(k->pub);
	k->ec = ec;
	k->pub = copy;
	k->publen = (size_t)pklen;
	k->nid = nid;
	k->tried_fast = false;
	k->used = ++kc.clock;
}

static int ec_pub_decode(EVP_PKEY *pk, const X509_PUBKEY *pub)
{
	const unsigned char *p;
	const void *pval;
	X509_ALGOR *alg;
	EC_KEY *ec = NULL;
	int pklen, ptype, nid = NID_undef;

	if (!X509_PUBKEY_get0_param(NULL, &p, &pklen, &alg, pub) || pklen <= 0)
		return 0;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype == V_ASN1_OBJECT)
		nid = OBJ_obj2nid(pval);
	if (nid != NID_undef) {
		pthread_mutex_lock(&kc.lock);
		ec = cache_lookup(nid, p, pklen);
		pthread_mutex_unlock(&kc.lock);
	}
	if (!ec) {
		if (!(ec = ec_decode(ptype, pval, p, pklen))) {
			ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
			return 0;
		}
		if (nid != NID_undef) {
			pthread_mutex_lock(&kc.lock);
			cache_store(nid, p, pklen, ec);
			pthread_mutex_unlock(&kc.lock);
		}
	}
	if (!EVP_PKEY_assign_EC_KEY(pk, ec)) {
		EC_KEY_free(ec);
		return 0;
	}
	return 1;
}

/* The rest of the public-key half of the method, as OpenSSL's EC one does it
 * (EVP_PKEY_asn1_set_public() sets all six together). */
static int ec_pub_encode(X509_PUBKEY *xpk, const EVP_PKEY *pk)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pk);
	const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
	unsigned char *penc = NULL;
	ASN1_STRING *params = NULL;
	int n, nid;

	if (!g)
		return 0;
	if (EC_GROUP_get_asn1_flag(g) && (nid = EC_GROUP_get_curve_name(g)) != NID_undef) {
		if ((n = i2o_ECPublicKey(ec, &penc)) > 0 &&
		    X509_PUBKEY_set0_param(xpk, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
					   OBJ_nid2obj(nid), penc, n))
			return 1;
	} else if ((params = ASN1_STRING_new()) &&
		   (params->length = i2d_ECParameters(ec, &params->data)) > 0 &&
		   (n = i2o_ECPublicKey(ec, &penc)) > 0 &&
		   X509_PUBKEY_set0_param(xpk, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_SEQUENCE,
					  params, penc, n)) {
		return 1;
	}
	ASN1_STRING_free(params);
	OPENSSL_free(penc);
	return 0;
}

static int ec_pub_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
	const EC_KEY *ka = EVP_PKEY_get0_EC_KEY(a), *kb = EVP_PKEY_get0_EC_KEY(b);
	const EC_GROUP *g = kb ? EC_KEY_get0_group(kb) : NULL;
	const EC_POINT *pa = ka ? EC_KEY_get0_public_key(ka) : NULL;
	const EC_POINT *pb = kb ? EC_KEY_get0_public_key(kb) : NULL;
	int r;

	if (!g || !pa || !pb)
		return -2;
	r = EC_POINT_cmp(g, pa, pb, NULL);
	return r == 0 ? 1 : r == 1 ? 0 : -2;
}

static int ec_pub_print(BIO *out, const EVP_PKEY *pk, int indent, ASN1_PCTX *pctx)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pk);
	const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
	unsigned char *buf = NULL;
	size_t n;
	int nid;

	(void)pctx;
	if (!g || !(n = EC_KEY_key2buf(ec, EC_KEY_get_conv_form(ec), &buf, NULL)))
		return 0;
	nid = EC_GROUP_get_curve_name(g);
	BIO_printf(out, "%*sPublic-Key: (%d bit)\n%*spub:\n", indent, "", EC_GROUP_order_bits(g), indent, "");
	for (size_t i = 0; i < n; i++)
		BIO_printf(out, "%s%02x%s", i % 15 ? "" : "    ", buf[i], i + 1 == n ? "\n" : (i % 15 == 14 ? ":\n" : ":"));
	if (nid != NID_undef)
		BIO_printf(out, "%*sASN1 OID: %s\n", indent, "", OBJ_nid2sn(nid));
	OPENSSL_free(buf);
	return 1;
}

static int ec_pkey_size(const EVP_PKEY *pk)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pk);
	return ec ? ECDSA_size(ec) : 0;
}

static int ec_pkey_bits(const EVP_PKEY *pk)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pk);
	return ec && EC_KEY_get0_group(ec) ? EC_GROUP_order_bits(EC_KEY_get0_group(ec)) : 0;
}

static void ec_ameth_make(void)
{
	const EVP_PKEY_ASN1_METHOD *builtin = EVP_PKEY_asn1_find(NULL, EVP_PKEY_EC);
	EVP_PKEY_ASN1_METHOD *m;

	if (!builtin || !(m = EVP_PKEY_asn1_new(EVP_PKEY_EC, 0, "EC", "EC, server keys cached (ktls-client)")))
		return;
	EVP_PKEY_asn1_copy(m, builtin);
	EVP_PKEY_asn1_set_public(m, ec_pub_decode, ec_pub_encode, ec_pub_cmp, ec_pub_print, ec_pkey_size,
				 ec_pkey_bits);
	ec_ameth = m;
}

void osslshim_eckeys_stats(unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&kc.lock);
	*hits = kc.hits;
	*misses = kc.misses;
	pthread_mutex_unlock(&kc.lock);
}

void osslshim_eckeys_cleanup(void)
{
	pthread_mutex_lock(&kc.lock);
	for (int i = 0; i < KC_ENTRIES; i++) {
		EC_KEY_free(kc.e[i].ec);
		free(kc.e[i].pub);
		memset(&kc.e[i], 0, sizeof(kc.e[i]));
	}
	pthread_mutex_unlock(&kc.lock);
}

/* Made once; osslshim_keys_install() hands it to the ENGINE, which owns it. */
EVP_PKEY_ASN1_METHOD *osslshim_eckeys_ameth(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, ec_ameth_make);
	return ec_ameth;
}
#endif

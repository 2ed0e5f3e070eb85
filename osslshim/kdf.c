/* osslshim/kdf.c: the TLS 1.3 key schedule without OpenSSL 3.0's per-call
 * machinery (ktls-server and ktls-client).
 *
 * Why: libssl derives every TLS 1.3 secret, key and IV through the
 * "TLS13-KDF" of the provider that its fetch returns: about twenty
 * derivations per handshake, each one a fetch of the KDF, a fetch of the
 * digest by name, a context with its own HMAC context, and parameter parsing,
 * for a few SHA-256 compressions of actual work (measured: ~10% of the
 * client's CPU per handshake in kdf_tls1_3_derive alone). This file is a
 * small provider offering the same algorithm: HKDF-Extract and
 * HKDF-Expand-Label (RFC 8446 section 7.1, OpenSSL's TLS13-KDF parameters and
 * modes) over SHA-256 and SHA-384, with HMAC computed directly on OpenSSL's
 * SHA functions (no allocation, no fetch). An SSL_CTX asks for it by
 * preference (OSSLSHIM_PROPQ, "?ktls.fast=yes"), so everything else still
 * comes from the default provider. The hash is OpenSSL's; only HMAC's two
 * passes and HKDF's loop, a few lines each, are written here.
 *
 * Off: --stock-openssl (or a build without OpenSSL's deprecated APIs, which
 * hides SHA256_Init & co). Same inputs, same bytes out, and the same inputs
 * refused: tests/unit/osslshim_kdf.c against the default provider's
 * TLS13-KDF and HMAC, and RFC 8448's key schedule; every handshake depends
 * on it too (a wrong key fails the Finished check).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co: the allocation-free digests */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>
#include <openssl/sha.h>

#define FK_MAX_MD 48    /* SHA-384 */
#define FK_MAX_KEY 1024 /* the (EC)DHE secret: up to ffdhe8192's 1024 bytes (P-521: 66) */
#define FK_MAX_SALT 64  /* the previous secret */
#define FK_MAX_LBL 255  /* prefix + label, data: one length byte each in HkdfLabel */

enum fk_md { FK_MD_NONE, FK_MD_SHA256, FK_MD_SHA384 };

struct fk_ctx {
	int mode;
	enum fk_md md;
	unsigned char key[FK_MAX_KEY], salt[FK_MAX_SALT];
	size_t key_len, salt_len;
	bool has_key, has_salt;
	unsigned char prefix[FK_MAX_LBL], label[FK_MAX_LBL], data[FK_MAX_LBL];
	size_t prefix_len, label_len, data_len;
	bool has_data;
};

/* --- HMAC over SHA-256 / SHA-384 ---------------------------------------------- */
struct fk_hmac {
	enum fk_md md;
	union { SHA256_CTX s256; SHA512_CTX s512; } in, out;
};

static size_t md_size(enum fk_md md)
{
	return md == FK_MD_SHA256 ? 32 : md == FK_MD_SHA384 ? 48 : 0;
}

static void h_init(enum fk_md md, void *c)
{
	if (md == FK_MD_SHA256)
		SHA256_Init(c);
	else
		SHA384_Init(c);
}

static void h_update(enum fk_md md, void *c, const void *p, size_t n)
{
	if (md == FK_MD_SHA256)
		SHA256_Update(c, p, n);
	else
		SHA384_Update(c, p, n);
}

static void h_final(enum fk_md md, void *c, unsigned char *out)
{
	if (md == FK_MD_SHA256)
		SHA256_Final(out, c);
	else
		SHA384_Final(out, c);
}

static void hmac_init(struct fk_hmac *h, enum fk_md md, const unsigned char *key, size_t klen)
{
	size_t block = md == FK_MD_SHA256 ? 64 : 128;
	unsigned char k[128], pad[128];

	h->md = md;
	memset(k, 0, sizeof(k));
	if (klen > block) {
		union { SHA256_CTX s256; SHA512_CTX s512; } t;
		h_init(md, &t);
		h_update(md, &t, key, klen);
		h_final(md, &t, k);
		OPENSSL_cleanse(&t, sizeof(t));
	} else if (klen) {
		memcpy(k, key, klen);
	}
	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x36;
	h_init(md, &h->in);
	h_update(md, &h->in, pad, block);
	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x5c;
	h_init(md, &h->out);
	h_update(md, &h->out, pad, block);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* out = HMAC over what was fed to h (h is consumed) */
static void hmac_final(struct fk_hmac *h, unsigned char *out)
{
	unsigned char inner[FK_MAX_MD];

	h_final(h->md, &h->in, inner);
	h_update(h->md, &h->out, inner, md_size(h->md));
	h_final(h->md, &h->out, out);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(h, sizeof(*h));
}

/* --- HKDF (RFC 5869) and the TLS 1.3 label (RFC 8446 7.1) ---------------------- */
static int hkdf_expand(enum fk_md md, const unsigned char *prk, size_t prk_len, const unsigned char *info,
		       size_t info_len, unsigned char *out, size_t out_len)
{
	size_t hl = md_size(md), done = 0;
	unsigned char t[FK_MAX_MD];
	struct fk_hmac base, h;

	if (!out_len || out_len > 255 * hl)
		return 0;
	hmac_init(&base, md, prk, prk_len);
	for (unsigned char i = 1; done < out_len; i++) {
		size_t k = out_len - done < hl ? out_len - done : hl;
		h = base;
		if (i > 1)
			h_update(md, &h.in, t, hl);
		h_update(md, &h.in, info, info_len);
		h_update(md, &h.in, &i, 1);
		hmac_final(&h, t);
		memcpy(out + done, t, k);
		done += k;
	}
	OPENSSL_cleanse(&base, sizeof(base));
	OPENSSL_cleanse(t, sizeof(t));
	return 1;
}

static int expand_label(enum fk_md md, const unsigned char *secret, size_t secret_len,
			const unsigned char *prefix, size_t prefix_len, const unsigned char *label,
			size_t label_len, const unsigned char *data, size_t data_len, unsigned char *out,
			size_t out_len)
{
	unsigned char info[2 + 1 + FK_MAX_LBL + 1 + FK_MAX_LBL];
	size_t n = 0;

	if (prefix_len + label_len > FK_MAX_LBL || data_len > FK_MAX_LBL || out_len > 0xffff)
		return 0;
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)(prefix_len + label_len);
	memcpy(info + n, prefix, prefix_len);
	n += prefix_len;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (unsigned char)data_len;
	if (data_len)
		memcpy(info + n, data, data_len);
	n += data_len;
	return hkdf_expand(md, secret, secret_len, info, n, out, out_len);
}

/* OpenSSL's TLS13-KDF in EXTRACT_ONLY mode: with a salt (the previous
 * secret), first Derive-Secret(salt, "derived", ""), then HKDF-Extract;
 * without a key, HashLen zeros. */
static int fk_extract(const struct fk_ctx *c, unsigned char *out, size_t out_len)
{
	static const unsigned char zeros[FK_MAX_MD];
	size_t hl = md_size(c->md);
	unsigned char derived[FK_MAX_MD], empty_hash[FK_MAX_MD];
	const unsigned char *salt = zeros;
	size_t salt_len = 0;
	struct fk_hmac h;

	if (out_len != hl)
		return 0;
	if (c->has_salt) {
		union { SHA256_CTX s256; SHA512_CTX s512; } t;
		h_init(c->md, &t);
		h_final(c->md, &t, empty_hash);
		if (!expand_label(c->md, c->salt, c->salt_len, c->prefix, c->prefix_len, c->label, c->label_len,
				  empty_hash, hl, derived, hl))
			return 0;
		salt = derived;
		salt_len = hl;
	}
	hmac_init(&h, c->md, salt, salt_len);
	h_update(c->md, &h.in, c->has_key ? c->key : zeros, c->has_key ? c->key_len : hl);
	hmac_final(&h, out);
	OPENSSL_cleanse(derived, sizeof(derived));
	return 1;
}

/* --- the provider's KDF ------------------------------------------------------------ */
static void *fk_newctx(void *provctx)
{
	struct fk_ctx *c = OPENSSL_zalloc(sizeof(*c));

	(void)provctx;
	if (c)
		c->mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	return c;
}

/* The secrets are the key and the salt: wipe what they hold (the rest,
 * labels and transcript hashes, is public). */
static void fk_wipe(struct fk_ctx *c)
{
	OPENSSL_cleanse(c->key, c->key_len);
	OPENSSL_cleanse(c->salt, c->salt_len);
}

static void fk_freectx(void *vc)
{
	if (vc)
		fk_wipe(vc);
	OPENSSL_free(vc);
}

static void fk_reset(void *vc)
{
	struct fk_ctx *c = vc;

	fk_wipe(c);
	memset(c, 0, sizeof(*c));
	c->mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
}

static void *fk_dupctx(void *vc)
{
	struct fk_ctx *c = OPENSSL_malloc(sizeof(*c));

	if (c)
		memcpy(c, vc, sizeof(*c));
	return c;
}

static int get_octets(const OSSL_PARAM *p, unsigned char *buf, size_t max, size_t *len)
{
	if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size > max) {
		ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT);
		return 0;
	}
	if (p->data_size)
		memcpy(buf, p->data, p->data_size);
	*len = p->data_size;
	return 1;
}

static enum fk_md md_by_name(const char *n)
{
	if (!strcasecmp(n, "SHA2-256") || !strcasecmp(n, "SHA256") || !strcasecmp(n, "SHA-256"))
		return FK_MD_SHA256;
	if (!strcasecmp(n, "SHA2-384") || !strcasecmp(n, "SHA384") || !strcasecmp(n, "SHA-384"))
		return FK_MD_SHA384;
	return FK_MD_NONE;
}

/* The parameters fk_set_ctx_params() knows, found in one pass over the
 * array (the first of each name counts, as with OSSL_PARAM_locate_const():
 * the key schedule sets them ~20 times a handshake, and seven separate
 * lookups were most of the strcmp() calls of a client's handshake). */
struct fk_params {
	const OSSL_PARAM *digest, *mode, *key, *salt, *prefix, *label, *data;
};

static void fk_params_find(const OSSL_PARAM *params, struct fk_params *f)
{
	memset(f, 0, sizeof(*f));
	for (const OSSL_PARAM *p = params; p->key; p++) {
		const OSSL_PARAM **slot = NULL;
		switch (p->key[0]) {
		case 'd':
			slot = !strcmp(p->key, OSSL_KDF_PARAM_DIGEST) ? &f->digest
			     : !strcmp(p->key, OSSL_KDF_PARAM_DATA)   ? &f->data
								      : NULL;
			break;
		case 'm': slot = !strcmp(p->key, OSSL_KDF_PARAM_MODE) ? &f->mode : NULL; break;
		case 'k': slot = !strcmp(p->key, OSSL_KDF_PARAM_KEY) ? &f->key : NULL; break;
		case 's': slot = !strcmp(p->key, OSSL_KDF_PARAM_SALT) ? &f->salt : NULL; break;
		case 'p': slot = !strcmp(p->key, OSSL_KDF_PARAM_PREFIX) ? &f->prefix : NULL; break;
		case 'l': slot = !strcmp(p->key, OSSL_KDF_PARAM_LABEL) ? &f->label : NULL; break;
		}
		if (slot && !*slot)
			*slot = p;
	}
}

static int fk_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
	struct fk_ctx *c = vc;
	const OSSL_PARAM *p;
	struct fk_params f;
	int n;

	if (!params)
		return 1;
	fk_params_find(params, &f);
	if ((p = f.digest)) {
		if (p->data_type != OSSL_PARAM_UTF8_STRING || (c->md = md_by_name(p->data)) == FK_MD_NONE) {
			ERR_raise_data(ERR_LIB_PROV, ERR_R_UNSUPPORTED, "ktls TLS13-KDF: SHA-256 or SHA-384 only");
			return 0;
		}
	}
	if ((p = f.mode)) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!strcasecmp(p->data, "EXTRACT_ONLY"))
				c->mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
			else if (!strcasecmp(p->data, "EXPAND_ONLY"))
				c->mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
			else
				return 0;
		} else if (OSSL_PARAM_get_int(p, &n) &&
			   (n == EVP_KDF_HKDF_MODE_EXTRACT_ONLY || n == EVP_KDF_HKDF_MODE_EXPAND_ONLY)) {
			c->mode = n;
		} else {
			return 0; /* EXTRACT_AND_EXPAND is not a TLS 1.3 mode (nor OpenSSL's) */
		}
	}
	if ((p = f.key)) {
		OPENSSL_cleanse(c->key, c->key_len);
		if (!get_octets(p, c->key, sizeof(c->key), &c->key_len))
			return 0;
		c->has_key = true;
	}
	if ((p = f.salt)) {
		OPENSSL_cleanse(c->salt, c->salt_len);
		if (!get_octets(p, c->salt, sizeof(c->salt), &c->salt_len))
			return 0;
		c->has_salt = true;
	}
	if ((p = f.prefix) &&
	    !get_octets(p, c->prefix, sizeof(c->prefix), &c->prefix_len))
		return 0;
	if ((p = f.label) &&
	    !get_octets(p, c->label, sizeof(c->label), &c->label_len))
		return 0;
	/* as OpenSSL's: the context data is set anew by each call */
	c->has_data = false;
	c->data_len = 0;
	if ((p = f.data)) {
		if (!get_octets(p, c->data, sizeof(c->data), &c->data_len))
			return 0;
		c->has_data = true;
	}
	return 1;
}

static int fk_derive(void *vc, unsigned char *out, size_t out_len, const OSSL_PARAM params[])
{
	struct fk_ctx *c = vc;

	if (!fk_set_ctx_params(c, params))
		return 0;
	if (c->md == FK_MD_NONE) {
		ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_NULL_PARAMETER);
		return 0;
	}
	switch (c->mode) {
	case EVP_KDF_HKDF_MODE_EXTRACT_ONLY:
		return fk_extract(c, out, out_len);
	case EVP_KDF_HKDF_MODE_EXPAND_ONLY:
		if (!c->has_key)
			return 0;
		return expand_label(c->md, c->key, c->key_len, c->prefix, c->prefix_len, c->label, c->label_len,
				    c->data, c->data_len, out, out_len);
	default:
		return 0;
	}
}

static const OSSL_PARAM *fk_settable(void *vc, void *provctx)
{
	static const OSSL_PARAM known[] = {
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_MODE, NULL, 0),
		OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, NULL),
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_PROPERTIES, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_PREFIX, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_LABEL, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_DATA, NULL, 0),
		OSSL_PARAM_END
	};
	(void)vc, (void)provctx;
	return known;
}

static int fk_get_ctx_params(void *vc, OSSL_PARAM params[])
{
	struct fk_ctx *c = vc;
	OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_KDF_PARAM_SIZE);

	if (!p)
		return -2;
	return OSSL_PARAM_set_size_t(p, c->mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY && c->md ? md_size(c->md)
											     : SIZE_MAX);
}

static const OSSL_PARAM *fk_gettable(void *vc, void *provctx)
{
	static const OSSL_PARAM known[] = { OSSL_PARAM_size_t(OSSL_KDF_PARAM_SIZE, NULL), OSSL_PARAM_END };
	(void)vc, (void)provctx;
	return known;
}

static const OSSL_DISPATCH fk_functions[] = {
	{ OSSL_FUNC_KDF_NEWCTX, (void (*)(void))fk_newctx },
	{ OSSL_FUNC_KDF_DUPCTX, (void (*)(void))fk_dupctx },
	{ OSSL_FUNC_KDF_FREECTX, (void (*)(void))fk_freectx },
	{ OSSL_FUNC_KDF_RESET, (void (*)(void))fk_reset },
	{ OSSL_FUNC_KDF_DERIVE, (void (*)(void))fk_derive },
	{ OSSL_FUNC_KDF_SETTABLE_CTX_PARAMS, (void (*)(void))fk_settable },
	{ OSSL_FUNC_KDF_SET_CTX_PARAMS, (void (*)(void))fk_set_ctx_params },
	{ OSSL_FUNC_KDF_GETTABLE_CTX_PARAMS, (void (*)(void))fk_gettable },
	{ OSSL_FUNC_KDF_GET_CTX_PARAMS, (void (*)(void))fk_get_ctx_params },
	{ 0, NULL }
};

/* --- the provider's HMAC ------------------------------------------------------------
 * The TLS 1.3 Finished MACs (EVP_Q_mac) and TLS 1.2's PRF ask for "HMAC"
 * with the SSL_CTX's property query too. SHA-256 and SHA-384 with a key are
 * computed here; anything else (other digests, the constant-time CBC record
 * MAC parameters, long keys) goes to the default provider's HMAC, which
 * this context then drives on the caller's behalf. */
static EVP_MAC *fm_default;

struct fm_ctx {
	enum fk_md md;
	char mdname[32];
	EVP_MAC_CTX *dlg;               /* the default provider's HMAC, when delegating */
	unsigned char key[128];
	size_t key_len;
	bool has_key;
	struct fk_hmac h;
};

static void *fm_newctx(void *provctx)
{
	(void)provctx;
	return OPENSSL_zalloc(sizeof(struct fm_ctx));
}

static void fm_freectx(void *vc)
{
	struct fm_ctx *c = vc;

	if (!c)
		return;
	EVP_MAC_CTX_free(c->dlg);
	OPENSSL_clear_free(c, sizeof(*c));
}

static void *fm_dupctx(void *vc)
{
	struct fm_ctx *c = vc, *d = OPENSSL_malloc(sizeof(*d));

	if (!d)
		return NULL;
	memcpy(d, c, sizeof(*d));
	if (c->dlg && !(d->dlg = EVP_MAC_CTX_dup(c->dlg))) {
		OPENSSL_clear_free(d, sizeof(*d));
		return NULL;
	}
	return d;
}

/* Hand this context over to the default provider's HMAC, with what was
 * already set. */
static int fm_delegate(struct fm_ctx *c)
{
	OSSL_PARAM p[3], *q = p;

	if (!fm_default || !(c->dlg = EVP_MAC_CTX_new(fm_default)))
		return 0;
	if (c->mdname[0])
		*q++ = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, c->mdname, 0);
	if (c->has_key)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, c->key, c->key_len);
	*q = OSSL_PARAM_construct_end();
	OPENSSL_cleanse(c->key, sizeof(c->key));
	return EVP_MAC_CTX_set_params(c->dlg, p);
}

static int fm_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
	struct fm_ctx *c = vc;
	const OSSL_PARAM *p;
	bool other = false;

	if (!params)
		return 1;
	if (c->dlg)
		return EVP_MAC_CTX_set_params(c->dlg, params);
	for (p = params; p->key; p++)
		if (strcmp(p->key, OSSL_MAC_PARAM_DIGEST) && strcmp(p->key, OSSL_MAC_PARAM_PROPERTIES) &&
		    strcmp(p->key, OSSL_MAC_PARAM_KEY))
			other = true;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_MAC_PARAM_DIGEST))) {
		if (p->data_type != OSSL_PARAM_UTF8_STRING || strlen(p->data) >= sizeof(c->mdname))
			return 0;
		strcpy(c->mdname, p->data);
		c->md = md_by_name(c->mdname);
		if (c->md == FK_MD_NONE)
			other = true;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_MAC_PARAM_KEY)) &&
	    (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size > sizeof(c->key)))
		other = true;
	if (other)
		return fm_delegate(c) && EVP_MAC_CTX_set_params(c->dlg, params);
	if (p) {
		memcpy(c->key, p->data, p->data_size);
		c->key_len = p->data_size;
		c->has_key = true;
	}
	return 1;
}

static int fm_init(void *vc, const unsigned char *key, size_t keylen, const OSSL_PARAM params[])
{
	struct fm_ctx *c = vc;

	if (!fm_set_ctx_params(c, params))
		return 0;
	if (!c->dlg && key && keylen > sizeof(c->key) && !fm_delegate(c))
		return 0;
	if (c->dlg)
		return EVP_MAC_init(c->dlg, key, keylen, NULL);
	if (key) {
		memcpy(c->key, key, keylen);
		c->key_len = keylen;
		c->has_key = true;
	}
	if (c->md == FK_MD_NONE || !c->has_key)
		return 0;
	hmac_init(&c->h, c->md, c->key, c->key_len);
	return 1;
}

static int fm_update(void *vc, const unsigned char *data, size_t len)
{
	struct fm_ctx *c = vc;

	if (c->dlg)
		return EVP_MAC_update(c->dlg, data, len);
	h_update(c->md, &c->h.in, data, len);
	return 1;
}

static int fm_final(void *vc, unsigned char *out, size_t *outl, size_t outsize)
{
	struct fm_ctx *c = vc;

	if (c->dlg)
		return EVP_MAC_final(c->dlg, out, outl, outsize);
	if (outsize < md_size(c->md))
		return 0;
	hmac_final(&c->h, out);
	*outl = md_size(c->md);
	return 1;
}

static int fm_get_ctx_params(void *vc, OSSL_PARAM params[])
{
	struct fm_ctx *c = vc;
	OSSL_PARAM *p;

	if (c->dlg)
		return EVP_MAC_CTX_get_params(c->dlg, params);
	if ((p = OSSL_PARAM_locate(params, OSSL_MAC_PARAM_SIZE)) && !OSSL_PARAM_set_size_t(p, md_size(c->md)))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_MAC_PARAM_BLOCK_SIZE)) &&
	    !OSSL_PARAM_set_size_t(p, c->md == FK_MD_SHA384 ? 128 : 64))
		return 0;
	return 1;
}

static const OSSL_PARAM *fm_settable(void *vc, void *provctx)
{
	static const OSSL_PARAM known[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_PROPERTIES, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_MAC_PARAM_KEY, NULL, 0),
		OSSL_PARAM_int(OSSL_MAC_PARAM_DIGEST_NOINIT, NULL),
		OSSL_PARAM_int(OSSL_MAC_PARAM_DIGEST_ONESHOT, NULL),
		OSSL_PARAM_size_t(OSSL_MAC_PARAM_TLS_DATA_SIZE, NULL),
		OSSL_PARAM_END
	};
	(void)vc, (void)provctx;
	return known;
}

static const OSSL_PARAM *fm_gettable(void *vc, void *provctx)
{
	static const OSSL_PARAM known[] = {
		OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, NULL),
		OSSL_PARAM_size_t(OSSL_MAC_PARAM_BLOCK_SIZE, NULL),
		OSSL_PARAM_END
	};
	(void)vc, (void)provctx;
	return known;
}

static const OSSL_DISPATCH fm_functions[] = {
	{ OSSL_FUNC_MAC_NEWCTX, (void (*)(void))fm_newctx },
	{ OSSL_FUNC_MAC_DUPCTX, (void (*)(void))fm_dupctx },
	{ OSSL_FUNC_MAC_FREECTX, (void (*)(void))fm_freectx },
	{ OSSL_FUNC_MAC_INIT, (void (*)(void))fm_init },
	{ OSSL_FUNC_MAC_UPDATE, (void (*)(void))fm_update },
	{ OSSL_FUNC_MAC_FINAL, (void (*)(void))fm_final },
	{ OSSL_FUNC_MAC_GETTABLE_CTX_PARAMS, (void (*)(void))fm_gettable },
	{ OSSL_FUNC_MAC_GET_CTX_PARAMS, (void (*)(void))fm_get_ctx_params },
	{ OSSL_FUNC_MAC_SETTABLE_CTX_PARAMS, (void (*)(void))fm_settable },
	{ OSSL_FUNC_MAC_SET_CTX_PARAMS, (void (*)(void))fm_set_ctx_params },
	{ 0, NULL }
};

static const OSSL_ALGORITHM fk_macs[] = {
	{ "HMAC", "ktls.fast=yes", fm_functions, "HMAC-SHA256/384, allocation-free (ktls)" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM fk_kdfs[] = {
	{ "TLS13-KDF", "ktls.fast=yes", fk_functions,
	  "TLS 1.3 HKDF, allocation-free (ktls)" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *fk_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	return op == OSSL_OP_KDF ? fk_kdfs : op == OSSL_OP_MAC ? fk_macs : NULL;
}

static const OSSL_DISPATCH fk_provider[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))fk_query },
	{ 0, NULL }
};

static int fk_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
		   void **provctx)
{
	(void)handle, (void)in;
	*out = fk_provider;
	*provctx = NULL;
	return 1;
}

static OSSL_PROVIDER *prov_default, *prov_fast;

const char *osslshim_kdf_install(void)
{
	static bool done;
	static const char *propq;

	if (done)
		return propq;
	done = true;
	/* Loading a provider by hand ends OpenSSL's implicit loading of the
	 * default one: load that too. */
	if (OSSL_PROVIDER_add_builtin(NULL, "ktls-fast", fk_init) &&
	    (prov_default = OSSL_PROVIDER_load(NULL, "default")) &&
	    (fm_default = EVP_MAC_fetch(NULL, "HMAC", "provider=default")) &&
	    (prov_fast = OSSL_PROVIDER_load(NULL, "ktls-fast")))
		propq = OSSLSHIM_PROPQ;
	ERR_clear_error();
	return propq;
}

void osslshim_kdf_cleanup(void)
{
	EVP_MAC_free(fm_default);
	fm_default = NULL;
	if (prov_fast)
		OSSL_PROVIDER_unload(prov_fast);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	prov_fast = prov_default = NULL;
}
#endif

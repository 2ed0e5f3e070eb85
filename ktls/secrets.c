/* ktls/secrets.c: capture what kTLS needs from OpenSSL, and derive keys.
 *
 * OpenSSL 3.0 has no API that returns TLS 1.3 traffic secrets or record
 * sequence numbers, so libktls installs two callbacks on the SSL_CTX:
 *   - the keylog callback hands over CLIENT_TRAFFIC_SECRET_0 and
 *     SERVER_TRAFFIC_SECRET_0 (TLS 1.3); a keylog callback the program had
 *     set (an SSLKEYLOGFILE writer) is still called with every line;
 *   - the message callback sees one SSL3_RT_HEADER call per record read or
 *     written (ChangeCipherSpec shows there) and every handshake message, so the
 *     records sent and received under the current keys can be counted: those
 *     are the first sequence numbers the kernel must use.
 * The counts restart when the keys change: at our / the peer's
 * ChangeCipherSpec (TLS 1.2) and Finished or KeyUpdate (TLS 1.3). The record
 * carrying the message is announced (header callback) before the message
 * itself, so a restart at the message leaves exactly the records after it.
 *
 * Keys come from OpenSSL's own KDFs: TLS13-KDF (HKDF-Expand-Label) and
 * TLS1-PRF. Nothing here implements cryptography.
 */
#include "ktls/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

static int ssl_idx = -1, ctx_idx = -1;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

struct ctx_chain {
	SSL_CTX_keylog_cb_func prev;
};

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (ptr)
		OPENSSL_clear_free(ptr, sizeof(struct ktls_ssl_state));
}

static void chain_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void idx_init(void)
{
	ssl_idx = SSL_get_ex_new_index(0, "libktls state", NULL, NULL, state_free);
	ctx_idx = SSL_CTX_get_ex_new_index(0, "libktls keylog chain", NULL, NULL, chain_free);
}

struct ktls_ssl_state *ktls_ssl_state(const SSL *ssl)
{
	pthread_once(&idx_once, idx_init);
	if (ssl_idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, ssl_idx);
}

/* The state of ssl, created on first use by a callback. */
static struct ktls_ssl_state *state_get(SSL *ssl)
{
	struct ktls_ssl_state *st = ktls_ssl_state(ssl);

	if (st || ssl_idx < 0)
		return st;
	st = OPENSSL_zalloc(sizeof(*st));
	if (st && !SSL_set_ex_data(ssl, ssl_idx, st)) {
		OPENSSL_free(st);
		st = NULL;
	}
	return st;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "LABEL <client_random> <secret>": store the secret of the two labels kTLS
 * needs. The line itself is never copied anywhere else. */
static void keylog_capture(SSL *ssl, const char *line)
{
	static const char cts[] = "CLIENT_TRAFFIC_SECRET_0 ", sts[] = "SERVER_TRAFFIC_SECRET_0 ";
	struct ktls_secret *dst, tmp;
	struct ktls_ssl_state *st;
	const char *p;
	size_t n = 0;

	if (!strncmp(line, cts, sizeof(cts) - 1))
		p = line + sizeof(cts) - 1;
	else if (!strncmp(line, sts, sizeof(sts) - 1))
		p = line + sizeof(sts) - 1;
	else
		return;
	p = strchr(p, ' '); /* skip the client random */
	if (!p)
		return;
	p++;
	while (p[0] && p[1] && n < sizeof(tmp.s)) {
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			break;
		tmp.s[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if ((*p != '\0' && *p != '\n') || (n != 32 && n != 48)) {
		OPENSSL_cleanse(&tmp, sizeof(tmp));
		return;
	}
	tmp.len = (uint8_t)n;
	st = state_get(ssl);
	if (st) {
		dst = line[0] == 'C' ? &st->client_ts0 : &st->server_ts0;
		*dst = tmp;
	}
	OPENSSL_cleanse(&tmp, sizeof(tmp));
}

static void keylog_cb(const SSL *cssl, const char *line)
{
	SSL *ssl = (SSL *)cssl; /* ex_data setters need a non-const SSL */
	struct ctx_chain *ch;

	keylog_capture(ssl, line);
	ch = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx);
	if (ch && ch->prev)
		ch->prev(ssl, line);
}

void ktls_msg_callback(int write_p, int version, int content_type, const void *buf,
		       size_t len, SSL *ssl, void *arg)
{
	const uint8_t *p = buf;
	struct ktls_ssl_state *st;

	(void)version, (void)arg;
	if (content_type != SSL3_RT_HEADER && content_type != SSL3_RT_HANDSHAKE)
		return;
	st = state_get(ssl);
	if (!st || len < 1)
		return;
	switch (content_type) {
	case SSL3_RT_HEADER: /* one per record, before its contents */
		/* ChangeCipherSpec is seen by its record header: OpenSSL 3.0
		 * reports a received one no other way. The records after it
		 * are the ones under the new TLS 1.2 keys. */
		if (len >= 1 && p[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
			if (write_p) {
				st->wr_ccs++;
				st->wr_since_ccs = 0;
			} else {
				st->rd_ccs++;
				st->rd_since_ccs = 0;
			}
			break;
		}
		if (write_p) {
			st->wr_since_ccs++;
			st->wr_since_key++;
		} else {
			st->rd_since_ccs++;
			st->rd_since_key++;
		}
		break;
	case SSL3_RT_HANDSHAKE:
		switch (p[0]) {
		case SSL3_MT_FINISHED:
			if (write_p) {
				st->wr_fin++;
				st->wr_since_key = 0;
			} else {
				st->rd_fin++;
				st->rd_since_key = 0;
			}
			break;
		case SSL3_MT_KEY_UPDATE:
			if (write_p) {
				st->wr_key_updates++;
				st->wr_since_key = 0;
			} else {
				st->rd_key_updates++;
				st->rd_since_key = 0;
			}
			break;
		case SSL3_MT_HELLO_REQUEST:
		case SSL3_MT_CLIENT_HELLO:
		case SSL3_MT_SERVER_HELLO:
			/* A hello after a Finished: a TLS 1.2 renegotiation. */
			if (st->wr_fin && st->rd_fin)
				st->hello_after_fin++;
			break;
		}
		break;
	}
}

int ktls_ctx_prepare(SSL_CTX *ctx)
{
	SSL_CTX_keylog_cb_func prev;
	struct ctx_chain *ch;

	if (!ctx)
		return KTLS_E_INTERNAL;
	pthread_once(&idx_once, idx_init);
	if (ssl_idx < 0 || ctx_idx < 0)
		return KTLS_E_INTERNAL;
	prev = SSL_CTX_get_keylog_callback(ctx);
	if (prev != keylog_cb) {
		ch = SSL_CTX_get_ex_data(ctx, ctx_idx);
		if (!ch) {
			ch = calloc(1, sizeof(*ch));
			if (!ch)
				return -ENOMEM;
			if (!SSL_CTX_set_ex_data(ctx, ctx_idx, ch)) {
				free(ch);
				return KTLS_E_INTERNAL;
			}
		}
		ch->prev = prev;
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	}
	SSL_CTX_set_msg_callback(ctx, ktls_msg_callback);
	return 0;
}

/* --- suites ------------------------------------------------------------------ */

int ktls_suite_of(const SSL *ssl, int *version, enum ktls_cipher *cipher, const EVP_MD **md)
{
	const SSL_CIPHER *sc = SSL_get_current_cipher(ssl);
	const char *name;
	int v = SSL_version(ssl);

	if (v != TLS1_2_VERSION && v != TLS1_3_VERSION)
		return KTLS_E_VERSION;
	if (!sc || !SSL_CIPHER_is_aead(sc))
		return KTLS_E_CIPHER_UNSUPPORTED;
	name = SSL_CIPHER_get_name(sc);
	/* CCM with an 8-byte tag has the same NID as CCM but no kTLS form. */
	if (strstr(name, "CCM8") || strstr(name, "CCM_8"))
		return KTLS_E_CIPHER_UNSUPPORTED;
	switch (SSL_CIPHER_get_cipher_nid(sc)) {
	case NID_aes_128_gcm: *cipher = KTLS_CIPHER_AES_128_GCM; break;
	case NID_aes_256_gcm: *cipher = KTLS_CIPHER_AES_256_GCM; break;
	case NID_chacha20_poly1305: *cipher = KTLS_CIPHER_CHACHA20_POLY1305; break;
	case NID_aes_128_ccm: *cipher = KTLS_CIPHER_AES_128_CCM; break;
	case NID_aria_128_gcm: *cipher = KTLS_CIPHER_ARIA_GCM_128; break;
	case NID_aria_256_gcm: *cipher = KTLS_CIPHER_ARIA_GCM_256; break;
	default: return KTLS_E_CIPHER_UNSUPPORTED;
	}
	if (!ktls_cipher_desc(*cipher) || (v == TLS1_3_VERSION && !ktls_cipher_desc(*cipher)->tls13))
		return KTLS_E_CIPHER_UNSUPPORTED;
	*md = SSL_CIPHER_get_handshake_digest(sc);
	if (!*md)
		return KTLS_E_CIPHER_UNSUPPORTED;
	*version = v;
	return 0;
}

/* --- KDFs ---------------------------------------------------------------------- */

static int kdf_derive(const char *alg, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, alg, NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = kctx && EVP_KDF_derive(kctx, out, out_len, params) > 0;

	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : KTLS_E_INTERNAL;
}

int ktls_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
			   const char *label, uint8_t *out, size_t out_len)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	static const char prefix[] = "tls13 ";
	OSSL_PARAM params[7], *p = params;

	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix,
						 sizeof(prefix) - 1);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)"", 0);
	*p = OSSL_PARAM_construct_end();
	return kdf_derive("TLS13-KDF", params, out, out_len);
}

int ktls_tls13_keys(const EVP_MD *md, const struct ktls_secret *ts, size_t key_len,
		    uint8_t *key, uint8_t iv[12])
{
	int rc = ktls_hkdf_expand_label(md, ts->s, ts->len, "key", key, key_len);
	if (rc == 0)
		rc = ktls_hkdf_expand_label(md, ts->s, ts->len, "iv", iv, 12);
	return rc;
}

int ktls_tls13_next_secret(const EVP_MD *md, struct ktls_secret *ts)
{
	struct ktls_secret next = { .len = ts->len };
	int rc = ktls_hkdf_expand_label(md, ts->s, ts->len, "traffic upd", next.s, next.len);

	if (rc == 0)
		*ts = next;
	OPENSSL_cleanse(&next, sizeof(next));
	return rc;
}

int ktls_tls12_key_block(const EVP_MD *md, const uint8_t *master, size_t master_len,
			 const uint8_t client_random[32], const uint8_t server_random[32],
			 uint8_t *out, size_t out_len)
{
	static const char label[] = "key expansion";
	uint8_t seed[sizeof(label) - 1 + 64];
	OSSL_PARAM params[4], *p = params;

	memcpy(seed, label, sizeof(label) - 1);
	memcpy(seed + sizeof(label) - 1, server_random, 32);
	memcpy(seed + sizeof(label) - 1 + 32, client_random, 32);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, master_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	*p = OSSL_PARAM_construct_end();
	return kdf_derive("TLS1-PRF", params, out, out_len);
}

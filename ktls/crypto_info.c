/* ktls/crypto_info.c: packing keys into the kernel's crypto_info structs.
 *
 * A pure function so it can be tested without a kernel (tests/unit/crypto_info.c).
 * Field sizes are checked against linux/tls.h at compile time.
 */
#include "ktls/internal.h"

#include <string.h>

#include <openssl/crypto.h>

#define CHECK(st, f, n) _Static_assert(sizeof(((struct st *)0)->f) == (n), #st "." #f)
CHECK(tls12_crypto_info_aes_gcm_128, key, 16);
CHECK(tls12_crypto_info_aes_gcm_128, salt, 4);
CHECK(tls12_crypto_info_aes_gcm_128, iv, 8);
CHECK(tls12_crypto_info_aes_gcm_128, rec_seq, 8);
CHECK(tls12_crypto_info_aes_gcm_256, key, 32);
CHECK(tls12_crypto_info_aes_gcm_256, salt, 4);
CHECK(tls12_crypto_info_aes_gcm_256, iv, 8);
CHECK(tls12_crypto_info_aes_ccm_128, key, 16);
CHECK(tls12_crypto_info_aes_ccm_128, salt, 4);
CHECK(tls12_crypto_info_aes_ccm_128, iv, 8);
CHECK(tls12_crypto_info_chacha20_poly1305, key, 32);
CHECK(tls12_crypto_info_chacha20_poly1305, iv, 12);
CHECK(tls12_crypto_info_chacha20_poly1305, rec_seq, 8);
#ifdef TLS_CIPHER_ARIA_GCM_128
CHECK(tls12_crypto_info_aria_gcm_128, key, 16);
CHECK(tls12_crypto_info_aria_gcm_128, salt, 4);
CHECK(tls12_crypto_info_aria_gcm_256, key, 32);
CHECK(tls12_crypto_info_aria_gcm_256, salt, 4);
#endif

#define DESC(id_, kt, st, key_, salt_, iv_, fixed_, t13) \
	[id_] = { id_, kt, key_, salt_, iv_, fixed_, t13, sizeof(struct st) }

static const struct ktls_cipher_desc descs[KTLS_CIPHER_COUNT] = {
	DESC(KTLS_CIPHER_AES_128_GCM, TLS_CIPHER_AES_GCM_128,
	     tls12_crypto_info_aes_gcm_128, 16, 4, 8, 4, true),
	DESC(KTLS_CIPHER_AES_256_GCM, TLS_CIPHER_AES_GCM_256,
	     tls12_crypto_info_aes_gcm_256, 32, 4, 8, 4, true),
	DESC(KTLS_CIPHER_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305,
	     tls12_crypto_info_chacha20_poly1305, 32, 0, 12, 12, true),
	DESC(KTLS_CIPHER_AES_128_CCM, TLS_CIPHER_AES_CCM_128,
	     tls12_crypto_info_aes_ccm_128, 16, 4, 8, 4, true),
#ifdef TLS_CIPHER_ARIA_GCM_128
	DESC(KTLS_CIPHER_ARIA_GCM_128, TLS_CIPHER_ARIA_GCM_128,
	     tls12_crypto_info_aria_gcm_128, 16, 4, 8, 4, false),
	DESC(KTLS_CIPHER_ARIA_GCM_256, TLS_CIPHER_ARIA_GCM_256,
	     tls12_crypto_info_aria_gcm_256, 32, 4, 8, 4, false),
#endif
};

const struct ktls_cipher_desc *ktls_cipher_desc(enum ktls_cipher c)
{
	if ((unsigned)c >= KTLS_CIPHER_COUNT || descs[c].info_len == 0)
		return NULL;
	return &descs[c];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

int ktls_crypto_info_build(union ktls_crypto_info *ci, int version, enum ktls_cipher c,
			   const uint8_t *key, const uint8_t nonce12[12], uint64_t seq)
{
	const struct ktls_cipher_desc *d = ktls_cipher_desc(c);
	uint8_t *k, *salt, *iv, *rec_seq;

	if (version != TLS1_2_VERSION && version != TLS1_3_VERSION)
		return KTLS_E_VERSION;
	if (!d || (version == TLS1_3_VERSION && !d->tls13))
		return KTLS_E_CIPHER_UNSUPPORTED;

	memset(ci, 0, sizeof(*ci));
	ci->info.version = version == TLS1_3_VERSION ? TLS_1_3_VERSION : TLS_1_2_VERSION;
	ci->info.cipher_type = d->kernel_type;

	/* Every struct is {info, iv, key, salt, rec_seq}, in that order, packed
	 * without padding (all members are byte arrays after a 4-byte header). */
	switch (c) {
	case KTLS_CIPHER_AES_128_GCM:
		iv = ci->gcm128.iv; k = ci->gcm128.key; salt = ci->gcm128.salt; rec_seq = ci->gcm128.rec_seq;
		break;
	case KTLS_CIPHER_AES_256_GCM:
		iv = ci->gcm256.iv; k = ci->gcm256.key; salt = ci->gcm256.salt; rec_seq = ci->gcm256.rec_seq;
		break;
	case KTLS_CIPHER_AES_128_CCM:
		iv = ci->ccm128.iv; k = ci->ccm128.key; salt = ci->ccm128.salt; rec_seq = ci->ccm128.rec_seq;
		break;
	case KTLS_CIPHER_CHACHA20_POLY1305:
		iv = ci->chacha.iv; k = ci->chacha.key; salt = ci->chacha.salt; rec_seq = ci->chacha.rec_seq;
		break;
#ifdef TLS_CIPHER_ARIA_GCM_128
	case KTLS_CIPHER_ARIA_GCM_128:
		iv = ci->aria128.iv; k = ci->aria128.key; salt = ci->aria128.salt; rec_seq = ci->aria128.rec_seq;
		break;
	case KTLS_CIPHER_ARIA_GCM_256:
		iv = ci->aria256.iv; k = ci->aria256.key; salt = ci->aria256.salt; rec_seq = ci->aria256.rec_seq;
		break;
#endif
	default:
		return KTLS_E_CIPHER_UNSUPPORTED;
	}
	memcpy(k, key, d->key_len);
	memcpy(salt, nonce12, d->salt_len);
	memcpy(iv, nonce12 + d->salt_len, d->iv_len);
	put_be64(rec_seq, seq);
	return (int)d->info_len;
}

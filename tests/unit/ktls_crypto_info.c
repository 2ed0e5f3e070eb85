/* Unit tests: ktls/crypto_info.c packs every cipher x version as
 * linux/tls.h lays it out: sizes, where salt and IV go, big-endian rec_seq. */
#include "ktls/internal.h"
#include "tests/tap.h"

struct expect {
	enum ktls_cipher c;
	uint16_t type;
	size_t size, key, salt, iv;
	bool tls13;
};

int main(void)
{
	const struct expect ex[] = {
		{ KTLS_CIPHER_AES_128_GCM, TLS_CIPHER_AES_GCM_128, 40, 16, 4, 8, true },
		{ KTLS_CIPHER_AES_256_GCM, TLS_CIPHER_AES_GCM_256, 56, 32, 4, 8, true },
		{ KTLS_CIPHER_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305, 56, 32, 0, 12, true },
		{ KTLS_CIPHER_AES_128_CCM, TLS_CIPHER_AES_CCM_128, 40, 16, 4, 8, true },
#ifdef TLS_CIPHER_ARIA_GCM_128
		{ KTLS_CIPHER_ARIA_GCM_128, TLS_CIPHER_ARIA_GCM_128, 40, 16, 4, 8, false },
		{ KTLS_CIPHER_ARIA_GCM_256, TLS_CIPHER_ARIA_GCM_256, 56, 32, 4, 8, false },
#endif
	};
	uint8_t key[32], nonce[12];
	const uint64_t seq = 0x0102030405060708ull;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	for (int i = 0; i < 12; i++)
		nonce[i] = (uint8_t)(0x10 + i);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		for (int v = 0; v < 2; v++) {
			int version = v ? TLS1_3_VERSION : TLS1_2_VERSION;
			const char *name = ktls_cipher_name(ex[i].c), *vn = v ? "1.3" : "1.2";
			union ktls_crypto_info ci;
			int len = ktls_crypto_info_build(&ci, version, ex[i].c, key, nonce, seq);
			if (v && !ex[i].tls13) {
				EXPECT_EQ(len, KTLS_E_CIPHER_UNSUPPORTED);
				continue;
			}
			const uint8_t *p = (const uint8_t *)&ci + 4; /* iv, key, salt, rec_seq */
			OK(len == (int)ex[i].size, "%s %s: crypto_info is %zu bytes (got %d)", vn, name,
			   ex[i].size, len);
			EXPECT_EQ(ci.info.cipher_type, ex[i].type);
			EXPECT_EQ(ci.info.version, v ? TLS_1_3_VERSION : TLS_1_2_VERSION);
			OK(memcmp(p, nonce + ex[i].salt, ex[i].iv) == 0, "%s %s: iv = nonce[%zu..12)", vn, name,
			   ex[i].salt);
			OK(memcmp(p + ex[i].iv, key, ex[i].key) == 0, "%s %s: key", vn, name);
			OK(memcmp(p + ex[i].iv + ex[i].key, nonce, ex[i].salt) == 0, "%s %s: salt = nonce[0..%zu)",
			   vn, name, ex[i].salt);
			const uint8_t *rs = p + ex[i].iv + ex[i].key + ex[i].salt;
			OK(rs[0] == 1 && rs[7] == 8, "%s %s: rec_seq big-endian", vn, name);
		}
	}
	union ktls_crypto_info ci;
	EXPECT_EQ(ktls_crypto_info_build(&ci, TLS1_1_VERSION, KTLS_CIPHER_AES_128_GCM, key, nonce, 0),
		  KTLS_E_VERSION);
	EXPECT_EQ(ktls_crypto_info_build(&ci, TLS1_2_VERSION, KTLS_CIPHER_COUNT, key, nonce, 0),
		  KTLS_E_CIPHER_UNSUPPORTED);
	return tap_done();
}

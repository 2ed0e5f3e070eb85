/* ktls/internal.h: what libktls's files share; not part of the public API. */
#ifndef KTLS_INTERNAL_H
#define KTLS_INTERNAL_H

#include <linux/tls.h>
#include <stddef.h>
#include <stdint.h>

#include "ktls/ktls.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* One kernel crypto_info of any cipher, and its size for setsockopt. */
union ktls_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 gcm128;
	struct tls12_crypto_info_aes_gcm_256 gcm256;
	struct tls12_crypto_info_aes_ccm_128 ccm128;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
#ifdef TLS_CIPHER_ARIA_GCM_128
	struct tls12_crypto_info_aria_gcm_128 aria128;
	struct tls12_crypto_info_aria_gcm_256 aria256;
#endif
};

struct ktls_cipher_desc {
	enum ktls_cipher id;
	uint16_t kernel_type;          /* TLS_CIPHER_* */
	uint8_t key_len;
	uint8_t salt_len;              /* implicit part of the nonce in crypto_info */
	uint8_t iv_len;                /* crypto_info's iv field */
	uint8_t tls12_fixed_iv_len;    /* TLS 1.2 key-block IV bytes per side */
	bool tls13;                    /* has a TLS 1.3 suite */
	size_t info_len;               /* sizeof its crypto_info struct */
};

/* NULL when the cipher is unknown or this build's linux/tls.h lacks it. */
const struct ktls_cipher_desc *ktls_cipher_desc(enum ktls_cipher c);

/* Build a kernel crypto_info (pure function: no I/O).
 *   nonce12: the 12-byte per-direction nonce base. For TLS 1.3 that is the
 *     derived write IV; for TLS 1.2 AES-GCM/CCM/ARIA it is the 4-byte fixed
 *     IV (salt) followed by the 8-byte explicit nonce to start from; for
 *     TLS 1.2 ChaCha20 it is the 12-byte key-block IV.
 *   seq: the record sequence number of the next record.
 * Returns the crypto_info length, or KTLS_E_VERSION / KTLS_E_CIPHER_UNSUPPORTED. */
int ktls_crypto_info_build(union ktls_crypto_info *ci, int version, enum ktls_cipher c,
			   const uint8_t *key, const uint8_t nonce12[12], uint64_t seq);

#endif

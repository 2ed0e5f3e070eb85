/* common/tlsopts.h: the TLS options server and client share, applied to an SSL_CTX.
 *
 *   --tls-version 1.2|1.3|any    pin the protocol version (default any: 1.2-1.3)
 *   --ciphers LIST               TLS 1.2 cipher list (OpenSSL syntax)
 *   --ciphersuites LIST          TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256
 *   --groups LIST                key-exchange groups, e.g. X25519:P-256
 *   --sigalgs LIST               signature algorithms, e.g. ecdsa_secp256r1_sha256
 * and SSLKEYLOGFILE: when set in the environment, session secrets are appended
 * to that file in the NSS key log format (the ecosystem's debugging convention).
 */
#ifndef KTLS_COMMON_TLSOPTS_H
#define KTLS_COMMON_TLSOPTS_H

#include <openssl/ssl.h>

struct tlsopts {
	int min_version, max_version;  /* TLS1_2_VERSION .. TLS1_3_VERSION */
	const char *ciphers;           /* NULL: OpenSSL's default */
	const char *ciphersuites;
	const char *groups;
	const char *sigalgs;
};

void tlsopts_init(struct tlsopts *o);
/* "1.2", "1.3", "any": 0 or -EINVAL. */
int tlsopts_set_version(struct tlsopts *o, const char *s);
/* Apply to ctx. 0, or -EINVAL with a sentence in err (which option, what
 * OpenSSL said, how to list valid values). */
int tlsopts_apply(const struct tlsopts *o, SSL_CTX *ctx, char *err, size_t errlen);
/* Install an SSLKEYLOGFILE writer on ctx when the variable is set (call before
 * ktls_ctx_prepare(), which keeps it). 0, or -errno when the file cannot be
 * opened (err says which). */
int tlsopts_keylog_from_env(SSL_CTX *ctx, char *err, size_t errlen);
/* "1.2"/"1.3" for a version constant. */
const char *tlsopts_version_name(int v);

#endif

/* common/tlsopts.c: see tlsopts.h. */
#include "common/tlsopts.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void tlsopts_init(struct tlsopts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_version = TLS1_2_VERSION;
	o->max_version = TLS1_3_VERSION;
}

int tlsopts_set_version(struct tlsopts *o, const char *s)
{
	if (!strcmp(s, "1.2"))
		o->min_version = o->max_version = TLS1_2_VERSION;
	else if (!strcmp(s, "1.3"))
		o->min_version = o->max_version = TLS1_3_VERSION;
	else if (!strcmp(s, "any"))
		o->min_version = TLS1_2_VERSION, o->max_version = TLS1_3_VERSION;
	else
		return -EINVAL;
	return 0;
}

const char *tlsopts_version_name(int v)
{
	switch (v) {
	case TLS1_2_VERSION: return "1.2";
	case TLS1_3_VERSION: return "1.3";
	case TLS1_1_VERSION: return "1.1";
	case TLS1_VERSION: return "1.0";
	default: return "?";
	}
}

static void ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "rejected");
	ERR_clear_error();
}

int tlsopts_apply(const struct tlsopts *o, SSL_CTX *ctx, char *err, size_t errlen)
{
	char why[256];

	if (!SSL_CTX_set_min_proto_version(ctx, o->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, o->max_version)) {
		snprintf(err, errlen, "cannot pin the TLS version");
		return -EINVAL;
	}
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) {
		ossl_reason(why, sizeof(why));
		snprintf(err, errlen, "--ciphers '%s': no usable TLS 1.2 cipher (%s); list them with "
			 "'openssl ciphers -v -tls1_2'", o->ciphers, why);
		return -EINVAL;
	}
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) {
		ossl_reason(why, sizeof(why));
		snprintf(err, errlen, "--ciphersuites '%s': not TLS 1.3 suites (%s); valid: "
			 "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, "
			 "TLS_AES_128_CCM_SHA256", o->ciphersuites, why);
		return -EINVAL;
	}
	if (o->groups && !SSL_CTX_set1_groups_list(ctx, o->groups)) {
		ossl_reason(why, sizeof(why));
		snprintf(err, errlen, "--groups '%s': unknown group (%s); e.g. X25519, P-256, P-384, "
			 "X448, ffdhe2048", o->groups, why);
		return -EINVAL;
	}
	if (o->sigalgs && !SSL_CTX_set1_sigalgs_list(ctx, o->sigalgs)) {
		ossl_reason(why, sizeof(why));
		snprintf(err, errlen, "--sigalgs '%s': unknown signature algorithm (%s); e.g. "
			 "ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519", o->sigalgs, why);
		return -EINVAL;
	}
	return 0;
}

/* One key log file per process, shared by every SSL_CTX and thread. */
static FILE *keylog_file;
static pthread_mutex_t keylog_lock = PTHREAD_MUTEX_INITIALIZER;

static void keylog_write(const SSL *ssl, const char *line)
{
	(void)ssl;
	pthread_mutex_lock(&keylog_lock);
	if (keylog_file) {
		fputs(line, keylog_file);
		fputc('\n', keylog_file);
		fflush(keylog_file);
	}
	pthread_mutex_unlock(&keylog_lock);
}

int tlsopts_keylog_from_env(SSL_CTX *ctx, char *err, size_t errlen)
{
	const char *path = getenv("SSLKEYLOGFILE");
	int rc = 0;

	if (!path || !*path)
		return 0;
	pthread_mutex_lock(&keylog_lock);
	if (!keylog_file) {
		keylog_file = fopen(path, "ae");
		if (!keylog_file) {
			rc = -errno;
			snprintf(err, errlen, "SSLKEYLOGFILE=%s: cannot open for appending: %s", path,
				 strerror(errno));
		}
	}
	pthread_mutex_unlock(&keylog_lock);
	if (rc == 0)
		SSL_CTX_set_keylog_callback(ctx, keylog_write);
	return rc;
}

/* tests/unit/osslshim_mem: the client's per-thread caches for OpenSSL's
 * memory (osslshim/mem.c).
 *  - size classes: every request up to 64 KiB gets a block at least as large,
 *    at most 25% (or 16 bytes) larger; beyond 64 KiB nothing is cached.
 *  - installed before OpenSSL allocates (not under ASan, where the sanitizer
 *    must see each block): a freed block is handed out again for the same
 *    class, zalloc zeroes a reused block, realloc keeps the bytes across
 *    classes and to and from plain blocks, more frees than a class keeps
 *    are fine, blocks freed by another thread and a thread's end are fine.
 *  - OpenSSL on top of it: a TLS 1.3 handshake over a memory BIO pair, 200
 *    times, with the application bytes checked by SHA-256 on both sides. */
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "osslshim/osslshim.h"
#include "tests/tap.h"
#include "tests/tls_pair.h"

#if OSSLSHIM_BUILT

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

static void test_classes(void)
{
	int bad = 0;
	for (size_t n = 1; n <= 64 * 1024; n++) {
		size_t c = osslshim_mem_class_size_for(n);
		if (c < n || (c - n > 16 && c - n > n / 4) || c % 16)
			bad++;
	}
	EXPECT_EQ(bad, 0);
	OK(osslshim_mem_class_size_for(0) == 0 && osslshim_mem_class_size_for(64 * 1024 + 1) == 0,
	   "0 bytes and more than 64 KiB: not from a class");
	OK(osslshim_mem_class_size_for(100) == 112 && osslshim_mem_class_size_for(16384) == 16384 &&
		   osslshim_mem_class_size_for(16385) == 20480,
	   "classes: 100 -> 112, 16384 -> 16384, 16385 -> 20480");
}

static void *free_elsewhere(void *p)
{
	OPENSSL_free(p);
	void *q = OPENSSL_malloc(300); /* kept by this thread's cache, freed at its end */
	OPENSSL_free(q);
	return NULL;
}

static void test_blocks(bool installed)
{
	unsigned char *a = OPENSSL_malloc(1000), *b;
	memset(a, 0xa5, 1000);
	OPENSSL_free(a);
	b = OPENSSL_malloc(990); /* same class (1024) */
	if (installed)
		OK(b == a, "a freed block is handed out again for its class");
	OPENSSL_free(b);
	unsigned char *z = OPENSSL_zalloc(1000);
	int nz = 0;
	for (int i = 0; i < 1000; i++)
		nz += z[i] != 0;
	EXPECT_EQ(nz, 0);

	/* realloc keeps the bytes: within the class, to bigger classes, past 64 KiB and back */
	for (int i = 0; i < 1000; i++)
		z[i] = (unsigned char)(i * 7);
	size_t sizes[] = { 1020, 5000, 70000, 200000, 3000, 100 };
	unsigned char *r = z;
	size_t keep = 1000;
	int lost = 0;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		r = OPENSSL_realloc(r, sizes[k]);
		if (!r) {
			OK(0, "realloc to %zu", sizes[k]);
			return;
		}
		if (sizes[k] < keep)
			keep = sizes[k];
		for (size_t i = 0; i < keep; i++)
			lost += r[i] != (unsigned char)(i * 7);
		for (size_t i = keep; i < sizes[k] && i < 1000; i++)
			r[i] = (unsigned char)(i * 7);
		if (sizes[k] >= 1000)
			keep = 1000;
	}
	EXPECT_EQ(lost, 0);
	OPENSSL_free(r);
	OPENSSL_free(OPENSSL_realloc(NULL, 10));
	OK(OPENSSL_realloc(OPENSSL_malloc(10), 0) == NULL, "realloc to 0 frees and gives NULL");

	/* far more frees of one class than a thread keeps */
	enum { N = 20000 };
	static void *many[N];
	int got = 0;
	for (int i = 0; i < N; i++)
		got += (many[i] = OPENSSL_malloc(32)) != NULL;
	for (int i = 0; i < N; i++)
		OPENSSL_free(many[i]);
	EXPECT_EQ(got, N);

	pthread_t t;
	OK(pthread_create(&t, NULL, free_elsewhere, OPENSSL_malloc(4000)) == 0 && pthread_join(t, NULL) == 0,
	   "a block freed by another thread, and that thread's end");
}

static void digest(const unsigned char *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

static void test_handshakes(void)
{
	if (tp_make_cert()) {
		OK(0, "test certificate");
		return;
	}
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method()), *cc = SSL_CTX_new(TLS_client_method());
	SSL_CTX_use_certificate(sc, tp_cert);
	SSL_CTX_use_PrivateKey(sc, tp_key);
	SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(cc, TLS1_3_VERSION);
	unsigned char msg[3000], got[3000], d1[32], d2[32];
	int ok = 0, rounds = 200;
	for (int i = 0; i < rounds; i++) {
		SSL *c, *s;
		int done = tp_mem_pair(cc, sc, &c, &s) == 0;
		for (size_t k = 0; k < sizeof(msg); k++)
			msg[k] = (unsigned char)(k * 31 + i);
		size_t n = 100 + (size_t)i * 13 % 2900;
		if (done && SSL_write(c, msg, (int)n) == (int)n && SSL_read(s, got, sizeof(got)) == (int)n) {
			digest(msg, n, d1);
			digest(got, n, d2);
			ok += !memcmp(d1, d2, 32) && SSL_version(c) == TLS1_3_VERSION;
		}
		SSL_free(c);
		SSL_free(s);
	}
	EXPECT_EQ(ok, rounds);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
	tp_free_cert();
}

int main(void)
{
	bool installed = osslshim_mem_install();
#ifdef SANITIZED
	OK(!installed, "not installed under AddressSanitizer (it must see every OpenSSL block)");
#else
	OK(installed, "installed before OpenSSL allocated anything");
#endif
	test_classes();
	test_blocks(installed);
	test_handshakes();
	osslshim_mem_release();
	return tap_done();
}
#else
int main(void)
{
	OK(!osslshim_mem_install() && osslshim_mem_class_size_for(100) == 0,
	   "no OpenSSL shim in this build: OpenSSL keeps malloc");
	return tap_done();
}
#endif

/* osslshim/mem.c: per-thread caches for OpenSSL's memory (ktls-client).
 *
 * Why: a TLS 1.3 handshake makes OpenSSL allocate and free ~320 blocks on the
 * client (contexts, BIGNUMs, the 16 KiB handshake buffer, record buffers,
 * the certificate's ASN.1 pieces), and the next handshake asks for the same
 * sizes again. glibc's per-thread cache keeps at most 7 blocks per size and
 * none above 1 KiB, so most of them go through the arena (bins, coalescing,
 * consolidation) each time: ~6% of the client's CPU per handshake.
 * osslshim_mem_install() gives OpenSSL (CRYPTO_set_mem_functions) an allocator
 * that keeps freed blocks of up to 64 KiB in per-thread free lists by size
 * class and hands them out again; anything larger, or beyond a class's cap,
 * goes to malloc/free. A block carries its class in a 16-byte header.
 *
 * Only OpenSSL's allocations take this path (the client's own buffers are
 * few and long-lived). Under AddressSanitizer it is not installed, so the
 * sanitizer sees every OpenSSL block; KTLS_CLIENT_OSSL_MALLOC=libc leaves
 * OpenSSL on malloc/free too (for heap profilers). A thread's cache is
 * freed when the thread ends (osslshim_mem_release() for the main thread).
 *
 * Off: --stock-openssl (or a build without OpenSSL's deprecated APIs, with
 * the other shims). Tested by tests/unit/osslshim_mem.c; every client test
 * runs on it.
 */
#include "osslshim/osslshim.h"

#if OSSLSHIM_BUILT
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#if defined(__SANITIZE_ADDRESS__)
#define OM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OM_SANITIZED 1
#endif
#endif

#define OM_HDR 16u                 /* keeps the blocks 16-byte aligned, as malloc's */
#define OM_MAX (64u * 1024)        /* largest cached block */
#define OM_CLASSES 48              /* 16..64 bytes by 16, then 4 classes per power of two */
#define OM_BIG UINT32_MAX          /* header class of a block from plain malloc */
#define OM_CACHE_BYTES (256u << 10) /* per class and thread, at least OM_CACHE_MIN blocks */
#define OM_CACHE_MIN 8u

struct om_hdr {
	uint32_t cls;
	uint32_t pad;
	uint64_t size; /* requested size, for realloc of a plain block */
};

struct om_free {
	struct om_free *next;
};

struct om_cache {
	struct om_free *head[OM_CLASSES];
	uint32_t n[OM_CLASSES];
	bool registered;
	bool closed; /* osslshim_mem_release() was called: free straight away */
};

static __thread struct om_cache om_tls;
static pthread_key_t om_key;
static pthread_once_t om_once = PTHREAD_ONCE_INIT;
static bool om_key_ok;

/* class of a request of n bytes (n >= 1, n <= OM_MAX) and the class's size */
static unsigned om_class(size_t n)
{
	if (n <= 64)
		return (unsigned)((n + 15) / 16) - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1)); /* 2^e < n <= 2^(e+1) */
	unsigned q = (unsigned)((n - 1) >> (e - 2));                               /* 4..7 */
	return 4 + (e - 6) * 4 + (q - 4);
}

static size_t om_class_size(unsigned c)
{
	if (c < 4)
		return 16u * (c + 1);
	unsigned e = 6 + (c - 4) / 4, q = 4 + (c - 4) % 4;
	return (size_t)(q + 1) << (e - 2);
}

static uint32_t om_caps[OM_CLASSES]; /* most blocks a thread keeps per class */

static void om_flush(struct om_cache *c)
{
	for (unsigned i = 0; i < OM_CLASSES; i++) {
		while (c->head[i]) {
			struct om_free *f = c->head[i];
			c->head[i] = f->next;
			free((char *)f - OM_HDR);
		}
		c->n[i] = 0;
	}
}

static void om_thread_end(void *arg)
{
	struct om_cache *c = arg;

	om_flush(c);
	/* a block freed later in this thread's exit (another library's
	 * destructor) registers the cache again, and glibc calls this again */
	c->registered = false;
}

static void om_key_init(void)
{
	om_key_ok = pthread_key_create(&om_key, om_thread_end) == 0;
}

static void *om_plain(size_t n, uint32_t cls, size_t usable)
{
	struct om_hdr *h = malloc(OM_HDR + usable);

	if (!h)
		return NULL;
	h->cls = cls;
	h->size = n;
	return (char *)h + OM_HDR;
}

static void *om_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	if (n == 0 || n > OM_MAX)
		return om_plain(n, OM_BIG, n);
	unsigned c = om_class(n);
	struct om_cache *tc = &om_tls;
	struct om_free *f = tc->head[c];
	if (f) {
		tc->head[c] = f->next;
		tc->n[c]--;
		struct om_hdr *h = (struct om_hdr *)((char *)f - OM_HDR);
		h->size = n;
		return f;
	}
	return om_plain(n, c, om_class_size(c));
}

static void om_free_fn(void *p, const char *file, int line)
{
	(void)file, (void)line;
	if (!p)
		return;
	struct om_hdr *h = (struct om_hdr *)((char *)p - OM_HDR);
	struct om_cache *tc = &om_tls;
	if (h->cls == OM_BIG || tc->n[h->cls] >= om_caps[h->cls] || tc->closed) {
		free(h);
		return;
	}
	if (!tc->registered) {
		/* the first block this thread keeps: have its cache freed at thread exit */
		pthread_once(&om_once, om_key_init);
		if (!om_key_ok || pthread_setspecific(om_key, tc)) {
			free(h);
			return;
		}
		tc->registered = true;
	}
	struct om_free *f = p;
	f->next = tc->head[h->cls];
	tc->head[h->cls] = f;
	tc->n[h->cls]++;
}

static void *om_realloc(void *p, size_t n, const char *file, int line)
{
	if (!p)
		return om_malloc(n, file, line);
	if (n == 0) {
		om_free_fn(p, file, line);
		return NULL;
	}
	struct om_hdr *h = (struct om_hdr *)((char *)p - OM_HDR);
	size_t have = h->cls == OM_BIG ? h->size : om_class_size(h->cls);
	if (h->cls != OM_BIG && n <= have) {
		h->size = n;
		return p;
	}
	void *q = om_malloc(n, file, line);
	if (!q)
		return NULL; /* p stays valid, as with realloc() */
	memcpy(q, p, have < n ? have : n);
	om_free_fn(p, file, line);
	return q;
}

bool osslshim_mem_install(void)
{
#ifdef OM_SANITIZED
	(void)om_realloc; /* (and what it calls) unused: the sanitizer keeps malloc */
	return false;
#else
	const char *e = getenv("KTLS_CLIENT_OSSL_MALLOC");
	if (e && !strcmp(e, "libc"))
		return false;
	for (unsigned c = 0; c < OM_CLASSES; c++) {
		size_t n = OM_CACHE_BYTES / om_class_size(c);
		om_caps[c] = n < OM_CACHE_MIN ? OM_CACHE_MIN : (uint32_t)n;
	}
	/* refused (returns 0) once OpenSSL has allocated anything */
	return CRYPTO_set_mem_functions(om_malloc, om_realloc, om_free_fn) == 1;
#endif
}

void osslshim_mem_release(void)
{
	/* OpenSSL frees its global state after main() returns (atexit): those
	 * blocks go straight back to malloc */
	om_tls.closed = true;
	om_flush(&om_tls);
}

size_t osslshim_mem_class_size_for(size_t n)
{
	return n == 0 || n > OM_MAX ? 0 : om_class_size(om_class(n));
}
#endif

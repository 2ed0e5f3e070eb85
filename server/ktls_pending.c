/* server/ktls_pending.c: TEMPORARY stand-ins for the libktls calls that are
 * declared in ktls/ktls.h but not yet on this branch (framer, enable, recv,
 * close). The framer follows the header's contract; ktls_enable() refuses
 * every offload with KTLS_E_NO_ULP, so --tls ktls runs with every
 * connection kept in userspace. Delete this file when libktls lands. */
#include "ktls/ktls.h"

#include <errno.h>
#include <string.h>

void ktls_framer_init(struct ktls_framer *f)
{
	memset(f, 0, sizeof(*f));
}

size_t ktls_framer_want(const struct ktls_framer *f)
{
	return f->hdr_have < 5 ? 5u - f->hdr_have : f->body_left;
}

int ktls_framer_feed(struct ktls_framer *f, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	if (n > ktls_framer_want(f))
		return -EINVAL;
	while (n) {
		if (f->hdr_have < 5) {
			f->hdr[f->hdr_have++] = *p++;
			n--;
			if (f->hdr_have == 5) {
				uint8_t type = f->hdr[0];
				uint32_t len = (uint32_t)f->hdr[3] << 8 | f->hdr[4];
				if (type < 20 || type > 23 || f->hdr[1] != 3 || f->hdr[2] > 4 ||
				    len > 16384 + 2048)
					return KTLS_E_BAD_RECORD;
				f->body_left = len;
			}
		} else {
			size_t k = n < f->body_left ? n : f->body_left;
			f->body_left -= (uint32_t)k;
			p += k;
			n -= k;
		}
		if (f->hdr_have == 5 && f->body_left == 0) {
			f->records++;
			f->hdr_have = 0;
		}
	}
	return 0;
}

bool ktls_framer_at_boundary(const struct ktls_framer *f)
{
	return f->hdr_have == 0 && f->body_left == 0;
}

int ktls_ctx_prepare(SSL_CTX *ctx)
{
	(void)ctx;
	return 0;
}

int ktls_enable(SSL *ssl, int fd, unsigned dirs, struct ktls_conn **connp, struct ktls_report *rep)
{
	(void)ssl, (void)fd, (void)dirs, (void)connp;
	memset(rep, 0, sizeof(*rep));
	return KTLS_E_NO_ULP;
}

void ktls_conn_free(struct ktls_conn *c)
{
	(void)c;
}

ssize_t ktls_recv(struct ktls_conn *c, void *buf, size_t len, int flags)
{
	(void)c, (void)buf, (void)len, (void)flags;
	return -ENOSYS;
}

int ktls_close(struct ktls_conn *c)
{
	(void)c;
	return 0;
}

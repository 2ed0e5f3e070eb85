/* ktls/framer.c: find TLS record boundaries in a byte stream.
 *
 * A server that reads the socket into an OpenSSL memory BIO must stop at the
 * end of the handshake's last record, or kernel RX would start mid-record.
 * The framer tells how many bytes to read next (the rest of a header, then
 * the rest of a body) and checks each header on the way, so that garbage is
 * rejected before it reaches OpenSSL.
 */
#include "ktls/internal.h"

#include <errno.h>
#include <string.h>

#define HDR 5u
#define MAX_BODY (16384 + 2048) /* TLSCiphertext.length limit (TLS 1.2) */

void ktls_framer_init(struct ktls_framer *f)
{
	memset(f, 0, sizeof(*f));
}

size_t ktls_framer_want(const struct ktls_framer *f)
{
	return f->hdr_have < HDR ? HDR - f->hdr_have : f->body_left;
}

bool ktls_framer_at_boundary(const struct ktls_framer *f)
{
	return f->hdr_have == 0 && f->body_left == 0;
}

static int header_ok(const uint8_t h[HDR])
{
	unsigned len = (unsigned)h[3] << 8 | h[4];

	if (h[0] < 20 || h[0] > 23)  /* ccs, alert, handshake, application_data */
		return 0;
	if (h[1] != 3 || h[2] > 4)   /* SSL 3.0 .. TLS 1.3 record versions */
		return 0;
	return len <= MAX_BODY;
}

int ktls_framer_feed(struct ktls_framer *f, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	if (!f || (!buf && n))
		return -EINVAL;
	while (n > 0) {
		if (f->hdr_have < HDR) {
			size_t need = HDR - f->hdr_have, take = need < n ? need : n;
			memcpy(f->hdr + f->hdr_have, p, take);
			f->hdr_have = (uint8_t)(f->hdr_have + take);
			p += take;
			n -= take;
			if (f->hdr_have < HDR)
				break;
			if (!header_ok(f->hdr))
				return KTLS_E_BAD_RECORD;
			f->body_left = (uint32_t)f->hdr[3] << 8 | f->hdr[4];
		} else {
			size_t take = f->body_left < n ? f->body_left : n;
			f->body_left -= (uint32_t)take;
			p += take;
			n -= take;
		}
		if (f->body_left == 0) {
			f->hdr_have = 0;
			f->records++;
		}
	}
	return 0;
}

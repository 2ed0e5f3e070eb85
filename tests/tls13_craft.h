/* tests/tls13_craft.h: TLS 1.3 records a conformance test needs and no TLS
 * library sends: any TLSInnerPlaintext (an empty alert, an all-zero inner
 * plaintext, two KeyUpdates in one record, a KeyUpdate cut in two), sealed
 * under the sending key of a connection whose TX libktls installed in the
 * emulated kernel (tests/ktls_emu.h), so the keys and sequence numbers are
 * the session's own. The AEAD is OpenSSL's (emu_aead); a KeyUpdate sent
 * this way is followed by craft_rotate() so later records use the next key.
 */
#ifndef KTLS_TESTS_TLS13_CRAFT_H
#define KTLS_TESTS_TLS13_CRAFT_H

#include "tests/ktls_emu.h"

#define CRAFT_MAX (5 + 16384 + 256 + 16)

/* Seal inner[0..n) (content, then the type byte, then any zero padding:
 * exactly what the caller gives) as one TLS 1.3 record into out. Returns
 * the record's length, or -1. */
static inline int craft_seal(struct emu_dir *d, const uint8_t *inner, size_t n, uint8_t *out)
{
	uint8_t nonce[12];
	size_t ct = n + 16;
	int k;

	if (d->version != TLS_1_3_VERSION || n > 16384 + 256)
		return -1;
	out[0] = 23; out[1] = 3; out[2] = 3;
	out[3] = (uint8_t)(ct >> 8); out[4] = (uint8_t)ct;
	emu_nonce(d, d->seq, NULL, nonce);
	k = emu_aead(d, true, nonce, out, 5, inner, n, out + 5);
	if (k < 0)
		return -1;
	d->seq++;
	return 5 + k;
}

/* A record of content type `type` holding p[0..n), no padding. */
static inline int craft_record(struct emu_dir *d, uint8_t type, const void *p, size_t n, uint8_t *out)
{
	uint8_t inner[16384 + 1];

	if (n > 16384)
		return -1;
	memcpy(inner, p, n);
	inner[n] = type;
	return craft_seal(d, inner, n + 1, out);
}

/* The TX state of the emulated socket fd (libktls installed it). */
static inline struct emu_dir *craft_tx(int fd)
{
	struct emu_sock *s = emu_sock(fd, false);
	return s && s->tx.set ? &s->tx : NULL;
}

/* After a KeyUpdate of ours went out: libktls moves TX to the next
 * generation of the traffic secret (the emulated kernel takes a second
 * TLS_TX when emu.rekey is set). 0 or a libktls error. */
static inline int craft_rotate(struct ktls_conn *kc)
{
	bool was = emu.rekey;
	int rc;

	emu.rekey = true;
	rc = ktls_rotate(kc, KTLS_TX);
	emu.rekey = was;
	return rc;
}

/* Send all of p[0..n) on a blocking socket. 0 or -1. */
static inline int craft_send(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

#endif

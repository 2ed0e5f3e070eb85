/* common/x25519_base.h: X25519 public keys from private keys (the fixed-base
 * multiplication a key share needs), in constant time, about three times as
 * fast as OpenSSL 3.0's reference code. See x25519_base.c. */
#ifndef KTLS_COMMON_X25519_BASE_H
#define KTLS_COMMON_X25519_BASE_H

/* Builds the table on first use (~1 ms, once per process). 1 when ready; 0
 * when the self-check of the base point failed (callers keep OpenSSL's path). */
int x25519_base_ready(void);

/* pub = X25519(priv, 9): priv is clamped as RFC 7748 says (a copy; priv is
 * not changed). 1, or 0 when not ready. */
int x25519_public_from_private(unsigned char pub[32], const unsigned char priv[32]);

#endif

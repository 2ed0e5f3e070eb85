/* common/pattern.h: the deterministic body of GET /bytes/<N>.
 *
 * Byte i (counting from 0 at the first body byte) is
 *     PATTERN_ALPHABET[i % 61]
 * with PATTERN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy"
 * (61 printable characters: a prime period, so a lost or repeated chunk of any
 * length that is not a multiple of 61 shows up, and `curl` prints it).
 * Any client can verify a response with no shared state but the offset.
 */
#ifndef KTLS_COMMON_PATTERN_H
#define KTLS_COMMON_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PATTERN_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy"
#define PATTERN_PERIOD 61
/* pattern_at() is valid for this many bytes. */
#define PATTERN_SPAN (1u << 20)

/* Read-only bytes of the pattern starting at body offset `offset`, valid for
 * PATTERN_SPAN bytes: servers send straight from it, without copying. */
const uint8_t *pattern_at(uint64_t offset);

void pattern_fill(void *buf, uint64_t offset, size_t len);

/* -1 when buf holds the pattern from `offset`, else the index (within buf)
 * of the first byte that differs. */
ssize_t pattern_check(const void *buf, uint64_t offset, size_t len);

#endif

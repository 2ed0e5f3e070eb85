/* tests/ktls_emu.h: a userspace stand-in for the kernel's TLS record layer,
 * plugged into libktls's socket seam (ktls_set_sockops) so host tests can run
 * real OpenSSL sessions through ktls_enable/ktls_recv/ktls_send without kTLS.
 *
 * It parses the crypto_info libktls installs with linux/tls.h's own structs
 * (independently of ktls/crypto_info.c), encrypts and decrypts TLS records
 * with OpenSSL's EVP AEADs exactly as RFC 5246/5288/7905/8446 describe, and
 * behaves like the kernel where libktls depends on it: control records only
 * through recvmsg with a cmsg buffer (EIO otherwise), EBADMSG on a bad tag,
 * a second TLS_TX/TLS_RX is EBUSY unless rekey is on, and after a KeyUpdate
 * RX pauses with EKEYEXPIRED until a new TLS_RX. The records it writes are
 * checked by real OpenSSL peers, so it cannot agree with libktls by accident.
 */
#ifndef KTLS_TESTS_EMU_H
#define KTLS_TESTS_EMU_H

#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ktls/internal.h"

#define EMU_MAX_SOCKS 16

struct emu_dir {
	bool set;
	uint16_t cipher;
	int version;                   /* TLS_1_2_VERSION / TLS_1_3_VERSION */
	uint8_t key[32], salt[4], iv[12];
	size_t key_len, iv_len, salt_len;
	uint64_t seq;
	uint64_t explicit_nonce;       /* TLS 1.2 AES/ARIA TX */
	unsigned installs;
	uint8_t raw[64];               /* the crypto_info as installed */
	size_t raw_len;
};

struct emu_sock {
	int fd;
	bool ulp;
	struct emu_dir tx, rx;
	bool rx_paused;                /* KeyUpdate read, new TLS_RX due */
	uint8_t pend[16384 + 256];     /* decrypted record not yet fully delivered */
	size_t pend_off, pend_len;
	uint8_t pend_type;
	uint8_t in[16384 + 2048 + 5];  /* raw bytes of the record being read */
	size_t in_len;
	int sk_err;                    /* as the kernel's tls_err_abort(): a bad
					  record leaves its error on the socket;
					  send and recv fail with it until SO_ERROR
					  is read */
};

static struct emu_state {
	struct emu_sock socks[EMU_MAX_SOCKS];
	bool no_ulp;                   /* TCP_ULP fails with ENOENT */
	uint16_t refuse_cipher;        /* TLS_TX/RX of this cipher type: EINVAL */
	bool rekey;                    /* accept a second TLS_TX / TLS_RX */
	unsigned setsockopt_calls;
	int full_fd;                   /* sends on this non-blocking socket: EAGAIN
					  (a peer that reads nothing; -1: none) */
	int ulp_errno;                 /* when set, TCP_ULP fails with it */
} emu;

static inline struct emu_sock *emu_sock(int fd, bool create)
{
	for (int i = 0; i < EMU_MAX_SOCKS; i++)
		if (emu.socks[i].fd == fd && (emu.socks[i].ulp || !create))
			return &emu.socks[i];
	if (!create)
		return NULL;
	for (int i = 0; i < EMU_MAX_SOCKS; i++)
		if (!emu.socks[i].ulp) {
			memset(&emu.socks[i], 0, sizeof(emu.socks[i]));
			emu.socks[i].fd = fd;
			return &emu.socks[i];
		}
	return NULL;
}

/* Forget a socket (call before closing its fd). */
static inline void emu_forget(int fd)
{
	for (int i = 0; i < EMU_MAX_SOCKS; i++)
		if (emu.socks[i].fd == fd && emu.socks[i].ulp) {
			memset(&emu.socks[i], 0, sizeof(emu.socks[i]));
			emu.socks[i].fd = -1;
		}
}

static inline const EVP_CIPHER *emu_evp(uint16_t cipher)
{
	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128: return EVP_aes_128_gcm();
	case TLS_CIPHER_AES_GCM_256: return EVP_aes_256_gcm();
	case TLS_CIPHER_AES_CCM_128: return EVP_aes_128_ccm();
	case TLS_CIPHER_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
#ifdef TLS_CIPHER_ARIA_GCM_128
	case TLS_CIPHER_ARIA_GCM_128: return EVP_aria_128_gcm();
	case TLS_CIPHER_ARIA_GCM_256: return EVP_aria_256_gcm();
#endif
	default: return NULL;
	}
}

static inline int emu_parse_info(struct emu_dir *d, const void *val, socklen_t len)
{
	const struct tls_crypto_info *ci = val;
	const uint8_t *p = val;
	size_t want;

	if (len < sizeof(*ci))
		return -EINVAL;
	d->cipher = ci->cipher_type;
	d->version = ci->version;
	/* {info, iv, key, salt, rec_seq}: sizes per cipher */
	switch (ci->cipher_type) {
	case TLS_CIPHER_AES_GCM_128: case TLS_CIPHER_AES_CCM_128:
#ifdef TLS_CIPHER_ARIA_GCM_128
	case TLS_CIPHER_ARIA_GCM_128:
#endif
		d->iv_len = 8; d->key_len = 16; d->salt_len = 4; break;
	case TLS_CIPHER_AES_GCM_256:
#ifdef TLS_CIPHER_ARIA_GCM_256
	case TLS_CIPHER_ARIA_GCM_256:
#endif
		d->iv_len = 8; d->key_len = 32; d->salt_len = 4; break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		d->iv_len = 12; d->key_len = 32; d->salt_len = 0; break;
	default:
		return -EINVAL;
	}
	want = sizeof(*ci) + d->iv_len + d->key_len + d->salt_len + 8;
	if (len != want || want > sizeof(d->raw))
		return -EINVAL;
	memcpy(d->raw, val, len);
	d->raw_len = len;
	p += sizeof(*ci);
	memcpy(d->iv, p, d->iv_len); p += d->iv_len;
	memcpy(d->key, p, d->key_len); p += d->key_len;
	memcpy(d->salt, p, d->salt_len); p += d->salt_len;
	d->seq = 0;
	for (int i = 0; i < 8; i++)
		d->seq = d->seq << 8 | p[i];
	d->explicit_nonce = 0;
	for (size_t i = 0; i < 8 && d->iv_len == 8; i++)
		d->explicit_nonce = d->explicit_nonce << 8 | d->iv[i];
	return 0;
}

static inline void emu_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The 12-byte AEAD nonce of record `seq` (explicit: TLS 1.2 AES/ARIA part). */
static inline void emu_nonce(const struct emu_dir *d, uint64_t seq, const uint8_t *explicit8, uint8_t n[12])
{
	if (d->salt_len == 4 && d->version == TLS_1_2_VERSION) {
		memcpy(n, d->salt, 4);
		memcpy(n + 4, explicit8, 8);
		return;
	}
	uint8_t s[8];
	if (d->salt_len == 4) {           /* TLS 1.3 AES: salt || iv is the IV */
		memcpy(n, d->salt, 4);
		memcpy(n + 4, d->iv, 8);
	} else {
		memcpy(n, d->iv, 12);
	}
	emu_be64(s, seq);
	for (int i = 0; i < 8; i++)
		n[4 + i] ^= s[i];
}

/* AEAD seal/open. Returns output length or -1. */
static inline int emu_aead(const struct emu_dir *d, bool enc, const uint8_t nonce[12], const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
	const EVP_CIPHER *c = emu_evp(d->cipher);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	bool ccm = d->cipher == TLS_CIPHER_AES_CCM_128;
	int n, total = -1, ok;
	size_t body = enc ? in_len : in_len - 16;

	if (!x || !c || (!enc && in_len < 16))
		goto out;
	ok = EVP_CipherInit_ex(x, c, NULL, NULL, NULL, enc) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
	if (ok && ccm)
		ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, enc ? NULL : (void *)(in + body));
	ok = ok && EVP_CipherInit_ex(x, NULL, NULL, d->key, nonce, enc);
	if (ok && ccm)
		ok = EVP_CipherUpdate(x, NULL, &n, NULL, (int)body);
	ok = ok && EVP_CipherUpdate(x, NULL, &n, aad, (int)aad_len);
	ok = ok && EVP_CipherUpdate(x, out, &n, in, (int)body);
	if (!ok)
		goto out;
	total = n;
	if (!enc && !ccm && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(in + body)))
		goto fail;
	if (!ccm) {
		if (!EVP_CipherFinal_ex(x, out + total, &n))
			goto fail;
		total += n;
	}
	if (enc) {
		if (!EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, out + total))
			goto fail;
		total += 16;
	}
	goto out;
fail:
	total = -1;
out:
	EVP_CIPHER_CTX_free(x);
	return total;
}

static inline int emu_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Encrypt one record of `type` and write it. */
static inline int emu_seal(struct emu_sock *s, uint8_t type, const uint8_t *p, size_t n)
{
	struct emu_dir *d = &s->tx;
	uint8_t rec[5 + 8 + 16384 + 1 + 16], inner[16384 + 1], aad[13], nonce[12], expl[8];
	bool t13 = d->version == TLS_1_3_VERSION, explicit_iv = !t13 && d->salt_len == 4;
	size_t hdr = 5 + (explicit_iv ? 8 : 0), ct_len;
	int out;

	if (t13) {
		memcpy(inner, p, n);
		inner[n] = type;
		ct_len = n + 1 + 16;
		rec[0] = 23;
	} else {
		memcpy(inner, p, n);
		ct_len = n + 16 + (explicit_iv ? 8 : 0);
		rec[0] = type;
	}
	rec[1] = 3; rec[2] = 3;
	rec[3] = (uint8_t)(ct_len >> 8); rec[4] = (uint8_t)ct_len;
	emu_be64(expl, d->explicit_nonce);
	if (explicit_iv)
		memcpy(rec + 5, expl, 8);
	emu_nonce(d, d->seq, expl, nonce);
	if (t13) {
		out = emu_aead(d, true, nonce, rec, 5, inner, n + 1, rec + hdr);
	} else {
		emu_be64(aad, d->seq);
		aad[8] = type; aad[9] = 3; aad[10] = 3;
		aad[11] = (uint8_t)(n >> 8); aad[12] = (uint8_t)n;
		out = emu_aead(d, true, nonce, aad, 13, inner, n, rec + hdr);
	}
	if (out < 0)
		return -EIO;
	d->seq++;
	d->explicit_nonce++;
	return emu_write_all(s->fd, rec, hdr + (size_t)out);
}

static inline int emu_setsockopt(void *arg, int fd, int level, int name, const void *val, socklen_t len)
{
	struct emu_sock *s;
	struct emu_dir *d, tmp;
	int rc;

	(void)arg;
	emu.setsockopt_calls++;
	if (level == IPPROTO_TCP && name == TCP_ULP) {
		if (emu.ulp_errno)
			return -emu.ulp_errno;
		if (emu.no_ulp)
			return -ENOENT;
		if (strcmp(val, "tls"))
			return -ENOENT;
		/* As the kernel: only on an established TCP socket. */
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state != TCP_ESTABLISHED)
			return -ENOTCONN;
		s = emu_sock(fd, false);
		if (s && s->ulp)
			return -EEXIST;
		s = emu_sock(fd, true);
		if (!s)
			return -ENOMEM;
		s->ulp = true;
		return 0;
	}
	if (level != SOL_TLS)
		return setsockopt(fd, level, name, val, len) ? -errno : 0;
	s = emu_sock(fd, false);
	if (!s || !s->ulp)
		return -ENOPROTOOPT;
	if (name != TLS_TX && name != TLS_RX)
		return -ENOPROTOOPT;
	d = name == TLS_TX ? &s->tx : &s->rx;
	memset(&tmp, 0, sizeof(tmp));
	if ((rc = emu_parse_info(&tmp, val, len)))
		return rc;
	if (emu.refuse_cipher && tmp.cipher == emu.refuse_cipher)
		return -EINVAL;
	if (d->set) {
		if (!emu.rekey || tmp.version != TLS_1_3_VERSION)
			return -EBUSY;
		if (tmp.cipher != d->cipher || tmp.version != d->version)
			return -EINVAL;
	}
	tmp.set = true;
	tmp.installs = d->installs + 1;
	*d = tmp;
	if (name == TLS_RX)
		s->rx_paused = false;
	return 0;
}

static inline int emu_getsockopt(void *arg, int fd, int level, int name, void *val, socklen_t *len)
{
	(void)arg;
	if (level == SOL_SOCKET && name == SO_ERROR) {
		struct emu_sock *s = emu_sock(fd, false);
		if (s && s->sk_err && *len >= sizeof(int)) {
			*(int *)val = s->sk_err;
			*len = sizeof(int);
			s->sk_err = 0;
			return 0;
		}
	}
	if (level == SOL_TLS && (name == TLS_TX || name == TLS_RX)) {
		/* As the kernel: the crypto_info installed, at the next record's
		 * sequence number. */
		struct emu_sock *s = emu_sock(fd, false);
		struct emu_dir *d = s ? (name == TLS_TX ? &s->tx : &s->rx) : NULL;
		if (!d || !d->set)
			return -EBUSY;
		if (*len < d->raw_len)
			return -EINVAL;
		memcpy(val, d->raw, d->raw_len);
		emu_be64((uint8_t *)val + d->raw_len - 8, d->seq);
		*len = (socklen_t)d->raw_len;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_ULP) {
		struct emu_sock *s = emu_sock(fd, false);
		if (s && s->ulp && *len >= 4) {
			memcpy(val, "tls", 4);
			*len = 4;
			return 0;
		}
	}
	return getsockopt(fd, level, name, val, len) ? -errno : 0;
}

static inline ssize_t emu_sendmsg(void *arg, int fd, const struct msghdr *msg, int flags)
{
	struct emu_sock *s = emu_sock(fd, false);
	uint8_t type = 23;
	size_t total = 0;

	(void)arg, (void)flags;
	if (s && s->sk_err)
		return -s->sk_err;
	if (!s || !s->tx.set) {
		ssize_t n = sendmsg(fd, msg, flags | MSG_NOSIGNAL);
		return n < 0 ? -errno : n;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm))
		if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_SET_RECORD_TYPE)
			type = *CMSG_DATA(cm);
	/* A non-blocking socket without room: EAGAIN before any record. */
	if (fd == emu.full_fd && ((flags & MSG_DONTWAIT) || (fcntl(fd, F_GETFL) & O_NONBLOCK)))
		return -EAGAIN;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		const uint8_t *p = msg->msg_iov[i].iov_base;
		size_t n = msg->msg_iov[i].iov_len;
		while (n > 0) {
			size_t chunk = n > 16384 ? 16384 : n;
			int rc = emu_seal(s, type, p, chunk);
			if (rc)
				return total ? (ssize_t)total : rc;
			p += chunk;
			n -= chunk;
			total += chunk;
		}
	}
	return (ssize_t)total;
}

/* Read raw bytes until one record is complete. 1 done, 0 EOF, -errno. */
static inline int emu_fill(struct emu_sock *s, int flags)
{
	for (;;) {
		size_t want = 5;
		if (s->in_len >= 5)
			want = 5 + ((size_t)s->in[3] << 8 | s->in[4]);
		if (want > sizeof(s->in))
			return -EMSGSIZE;
		if (s->in_len == want && want > 5)
			return 1;
		ssize_t r = recv(s->fd, s->in + s->in_len, want - s->in_len, flags & MSG_DONTWAIT);
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		s->in_len += (size_t)r;
	}
}

static inline int emu_open(struct emu_sock *s)
{
	struct emu_dir *d = &s->rx;
	uint8_t aad[13], nonce[12], *body = s->in + 5;
	size_t blen = s->in_len - 5;
	bool t13 = d->version == TLS_1_3_VERSION, explicit_iv = !t13 && d->salt_len == 4;
	int n;

	if (explicit_iv) {
		if (blen < 8)
			return -EBADMSG;
		emu_nonce(d, d->seq, body, nonce);
		body += 8;
		blen -= 8;
	} else {
		emu_nonce(d, d->seq, NULL, nonce);
	}
	if (blen < 16)
		return -EBADMSG;
	if (t13) {
		n = emu_aead(d, false, nonce, s->in, 5, body, blen, s->pend);
		if (n < 0)
			return -EBADMSG;
		while (n > 0 && s->pend[n - 1] == 0)
			n--;
		if (n == 0)
			return -EBADMSG;
		s->pend_type = s->pend[--n];
	} else {
		size_t plen = blen - 16;
		emu_be64(aad, d->seq);
		aad[8] = s->in[0]; aad[9] = 3; aad[10] = 3;
		aad[11] = (uint8_t)(plen >> 8); aad[12] = (uint8_t)plen;
		n = emu_aead(d, false, nonce, aad, 13, body, blen, s->pend);
		if (n < 0)
			return -EBADMSG;
		s->pend_type = s->in[0];
	}
	d->seq++;
	s->pend_off = 0;
	s->pend_len = (size_t)n;
	s->in_len = 0;
	/* A KeyUpdate pauses RX until the next key (kernels with rekey). */
	if (emu.rekey && t13 && s->pend_type == 22 && n >= 1 && s->pend[0] == 24)
		s->rx_paused = true;
	return 0;
}

static inline ssize_t emu_recvmsg(void *arg, int fd, struct msghdr *msg, int flags)
{
	struct emu_sock *s = emu_sock(fd, false);
	struct cmsghdr *cm;
	size_t n, room = msg->msg_iov[0].iov_len;
	int rc;

	(void)arg;
	if (!s || !s->rx.set) {
		ssize_t n = recvmsg(fd, msg, flags);
		return n < 0 ? -errno : n;
	}
	if (s->sk_err)
		return -s->sk_err;
	while (s->pend_off == s->pend_len) {
		if (s->rx_paused)
			return -EKEYEXPIRED;
		rc = emu_fill(s, flags);
		if (rc <= 0) {
			if (rc == -EMSGSIZE)
				s->sk_err = EMSGSIZE;
			msg->msg_controllen = 0;
			return rc;
		}
		rc = emu_open(s);
		if (rc) {
			s->sk_err = -rc;
			return rc;
		}
		/* An empty data record gives the reader nothing: on to the next
		 * one, as the kernel does. An empty record of another type is
		 * handed up as an empty read with its type. */
		if (s->pend_type != 23)
			break;
	}
	if (s->pend_type != 23 && !msg->msg_control)
		return -EIO;
	n = s->pend_len - s->pend_off < room ? s->pend_len - s->pend_off : room;
	memcpy(msg->msg_iov[0].iov_base, s->pend + s->pend_off, n);
	s->pend_off += n;
	if (msg->msg_control && msg->msg_controllen >= CMSG_SPACE(1)) {
		cm = CMSG_FIRSTHDR(msg);
		cm->cmsg_level = SOL_TLS;
		cm->cmsg_type = TLS_GET_RECORD_TYPE;
		cm->cmsg_len = CMSG_LEN(1);
		*CMSG_DATA(cm) = s->pend_type;
		msg->msg_controllen = CMSG_SPACE(1);
	}
	return (ssize_t)n;
}

static inline int emu_rekey_supported(void *arg)
{
	(void)arg;
	return emu.rekey;
}

/* Like the kernel: the bytes of a partial record are not consumed from TCP. */
static inline int emu_inq(void *arg, int fd)
{
	struct emu_sock *s = emu_sock(fd, false);
	int n = 0;

	(void)arg;
	if (ioctl(fd, FIONREAD, &n))
		return -errno;
	return n + (s && s->rx.set ? (int)s->in_len : 0);
}

static const struct ktls_sockops emu_ops = {
	.setsockopt = emu_setsockopt,
	.getsockopt = emu_getsockopt,
	.sendmsg = emu_sendmsg,
	.recvmsg = emu_recvmsg,
	.rekey_supported = emu_rekey_supported,
	.inq = emu_inq,
};

static inline void emu_install(void)
{
	memset(&emu, 0, sizeof(emu));
	emu.full_fd = -1;
	for (int i = 0; i < EMU_MAX_SOCKS; i++)
		emu.socks[i].fd = -1;
	ktls_set_sockops(&emu_ops, NULL);
}

#endif

/* libFuzzer target: ktls_recv()'s handling of what the kernel delivers under
 * kTLS RX (ktls/io.c): records of any content type and contents, split over
 * reads of any size, then EOF or a receive error; control records (alerts,
 * handshake messages: NewSessionTicket, KeyUpdate, garbage) among data.
 *
 * libktls's socket seam (ktls_set_sockops) is given a fake kernel that
 * serves the records the input describes exactly as kTLS does: one content
 * type per recvmsg, the type in a TLS_GET_RECORD_TYPE control message, a
 * control record never merged with another, a record longer than the buffer
 * continued on the next call. Input: a header byte (TLS 1.2 or 1.3, whether
 * the "kernel" can rekey, how the stream ends), a read-size byte, then
 * records as [type][len (1 byte)][contents].
 *
 * Invariants:
 *   - the bytes ktls_recv() returns are exactly a prefix of the contents of
 *     the data records (type 23), in order: nothing of a control record ever
 *     reaches the caller as data, and nothing after close_notify does;
 *   - it never returns more than asked; after 0 (EOF) it returns 0, after an
 *     error other than -EAGAIN the same error, for ever (sticky);
 *   - KTLS_E_ALERT comes with ktls_conn_alert() naming a received alert;
 *   - everything libktls sends is a whole alert (2 bytes, level 1 or 2) or
 *     a KeyUpdate answer (5 bytes) in a record of its type. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktls/internal.h"

#define MAXREC 64

static struct fake {
	struct { uint8_t type; const uint8_t *p; size_t len; } rec[MAXREC];
	size_t nrec, cur, off;
	int end_err;                   /* after the records: 0 EOF, or -errno */
	int inq;
	bool rekey;
	size_t rdsz;
} fk;

static int f_setsockopt(void *a, int fd, int level, int name, const void *v, socklen_t l)
{
	(void)a, (void)fd, (void)level, (void)name, (void)v, (void)l;
	return 0;
}

static int f_getsockopt(void *a, int fd, int level, int name, void *v, socklen_t *l)
{
	(void)a, (void)fd, (void)level, (void)name;
	memset(v, 0, *l);
	return 0;
}

static ssize_t f_sendmsg(void *a, int fd, const struct msghdr *m, int flags)
{
	uint8_t type = 23;
	size_t n = 0;

	(void)a, (void)fd, (void)flags;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR((struct msghdr *)m); cm; cm = CMSG_NXTHDR((struct msghdr *)m, cm))
		if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_SET_RECORD_TYPE)
			type = *CMSG_DATA(cm);
	for (size_t i = 0; i < m->msg_iovlen; i++)
		n += m->msg_iov[i].iov_len;
	const uint8_t *p = m->msg_iov[0].iov_base;
	if (m->msg_iovlen != 1)
		abort();
	if (type == 21 && (n != 2 || (p[0] != 1 && p[0] != 2)))
		abort();                        /* alerts leave whole */
	if (type == 22 && (n != 5 || p[0] != 24))
		abort();                        /* only a KeyUpdate answer */
	if (type != 21 && type != 22)
		abort();
	return (ssize_t)n;
}

static ssize_t f_recvmsg(void *a, int fd, struct msghdr *m, int flags)
{
	(void)a, (void)fd, (void)flags;
	/* skip empty data records: the kernel does not surface them */
	while (fk.cur < fk.nrec && fk.rec[fk.cur].len == 0 && fk.rec[fk.cur].type == 23)
		fk.cur++;
	if (fk.cur >= fk.nrec) {
		m->msg_controllen = 0;          /* as the kernel: no control message */
		return fk.end_err;
	}
	uint8_t type = fk.rec[fk.cur].type;
	size_t room = m->msg_iov[0].iov_len < fk.rdsz ? m->msg_iov[0].iov_len : fk.rdsz;
	uint8_t *out = m->msg_iov[0].iov_base;
	size_t got = 0;

	if (m->msg_controllen < CMSG_SPACE(1))
		return -EIO;                    /* no room for the record type */
	while (fk.cur < fk.nrec && got < room) {
		if (fk.rec[fk.cur].type != type)
			break;
		size_t take = fk.rec[fk.cur].len - fk.off;
		if (take > room - got)
			take = room - got;
		memcpy(out + got, fk.rec[fk.cur].p + fk.off, take);
		got += take;
		fk.off += take;
		if (fk.off == fk.rec[fk.cur].len) {
			fk.cur++;
			fk.off = 0;
			if (type != 23)
				break;          /* a control record is returned alone */
		}
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_GET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = type;
	m->msg_controllen = CMSG_SPACE(1);
	return (ssize_t)got;
}

static int f_rekey(void *a) { (void)a; return fk.rekey; }
static int f_inq(void *a, int fd) { (void)a, (void)fd; return fk.inq; }

static const struct ktls_sockops fake_ops = {
	.setsockopt = f_setsockopt, .getsockopt = f_getsockopt, .sendmsg = f_sendmsg,
	.recvmsg = f_recvmsg, .rekey_supported = f_rekey, .inq = f_inq,
};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const int errs[] = { 0, 0, -EAGAIN, -EBADMSG, -EMSGSIZE, -EINVAL, -ECONNRESET, -EIO };
	uint8_t expect[MAXREC * 255];
	size_t nexpect = 0, got = 0;

	if (size < 2)
		return 0;
	memset(&fk, 0, sizeof fk);
	uint8_t h = data[0];
	fk.rdsz = 1 + data[1] % 64;
	if (data[1] & 0x80)
		fk.rdsz = 16384;
	fk.end_err = errs[(h >> 2) & 7];
	fk.inq = (h >> 5) & 1;
	fk.rekey = (h >> 6) & 1;
	for (size_t i = 2; i + 2 <= size && fk.nrec < MAXREC;) {
		uint8_t type = data[i];
		size_t len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		/* mostly the four real types, sometimes anything */
		fk.rec[fk.nrec].type = type < 240 ? (uint8_t)(20 + type % 4) : type;
		fk.rec[fk.nrec].p = data + i;
		fk.rec[fk.nrec].len = len;
		fk.nrec++;
		i += len;
	}
	/* what the application may see: data records until the first non-data one
	 * (what follows a control record depends on how it is handled) */
	for (size_t k = 0; k < fk.nrec; k++) {
		if (fk.rec[k].type != 23)
			break;
		memcpy(expect + nexpect, fk.rec[k].p, fk.rec[k].len);
		nexpect += fk.rec[k].len;
	}
	/* data records after control records are still only data: the whole stream */
	uint8_t all[MAXREC * 255];
	size_t nall = 0;
	for (size_t k = 0; k < fk.nrec; k++)
		if (fk.rec[k].type == 23) {
			memcpy(all + nall, fk.rec[k].p, fk.rec[k].len);
			nall += fk.rec[k].len;
		}

	struct ktls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return 0;
	c->fd = 99;
	c->dirs = KTLS_TX | KTLS_RX;
	c->ulp = true;
	c->version = (h & 1) ? TLS1_3_VERSION : TLS1_2_VERSION;
	c->cipher = KTLS_CIPHER_AES_128_GCM;
	c->md = EVP_sha256();
	c->alert = -1;
	c->tx_secret.len = c->rx_secret.len = 32;
	memset(c->tx_secret.s, 0x11, 32);
	memset(c->rx_secret.s, 0x22, 32);
	ktls_set_sockops(&fake_ops, NULL);

	uint8_t buf[256];
	int sticky = 0, repeats = 0;
	bool eof = false;
	size_t want = 1 + (h >> 1) % 200;
	/* every call consumes at least a byte until the end: bounded */
	for (size_t calls = 0; calls < size + 16 && repeats < 2; calls++) {
		ssize_t n = ktls_recv(c, buf, want, MSG_DONTWAIT);
		if (n > (ssize_t)want)
			abort();
		if (n > 0) {
			if (eof || sticky || got + (size_t)n > nall || memcmp(all + got, buf, (size_t)n))
				abort();        /* only data-record bytes, in order, never after the end */
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			eof = true;
		} else if (n != -EAGAIN && n != -EINTR) {
			if (sticky && n != sticky)
				abort();
			sticky = (int)n;
			if (n == KTLS_E_ALERT && ktls_conn_alert(c) < 0)
				abort();
		}
		if (eof && n != 0)
			abort();            /* EOF is for ever */
		if (eof || sticky)
			repeats++;
		if (n == -EAGAIN && fk.cur >= fk.nrec)
			break;
	}
	if (got < nexpect && !sticky && !eof)
		abort();                        /* the leading data always gets through */
	ktls_set_sockops(NULL, NULL);
	ktls_conn_free(c);
	return 0;
}

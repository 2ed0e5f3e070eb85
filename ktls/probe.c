/* ktls/probe.c: find out what this kernel offloads, by trying it.
 *
 * Every answer comes from a real attempt on a connected loopback TCP pair:
 * attach the "tls" ULP, install a TX key on one end and the same RX key on
 * the other, send a record and read it back. Nothing is inferred from the
 * kernel version.
 */
#include "ktls/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PROBE_MSG "ktls probe record"

/* A connected loopback pair: *a is the connecting end, *b the accepted one. */
static int tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l, c = -1, s = -1, rc;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		goto fail;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto fail;
	close(l);
	/* A broken kernel path must not hang the probe. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*a = c;
	*b = s;
	return 0;
fail:
	rc = -errno;
	close(l);
	if (c >= 0)
		close(c);
	return rc ? rc : -EIO;
}

static int set_ulp(int fd)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) ? -errno : 0;
}

static int set_key(int fd, int dir, int version, enum ktls_cipher c, uint8_t gen)
{
	union ktls_crypto_info ci;
	uint8_t key[32], nonce[12];
	int len, rc;

	/* Fixed, public test keys: the probe protects nothing. */
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x40 + i + gen);
	for (unsigned i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0x20 + i + gen);
	len = ktls_crypto_info_build(&ci, version, c, key, nonce, 0);
	if (len < 0)
		return len;
	rc = setsockopt(fd, SOL_TLS, dir, &ci, (socklen_t)len) ? -errno : 0;
	OPENSSL_cleanse(&ci, sizeof(ci));
	return rc;
}

/* Send one record of `type` with the kernel's TX key. */
static int send_record(int fd, uint8_t type, const void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(cm) = type;
	ssize_t n = sendmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Read one record; *type gets its content type. Returns bytes or -errno. */
static ssize_t recv_record(int fd, uint8_t *type, void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	*type = 23;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
			*type = *CMSG_DATA(cm);
	return n;
}

static int roundtrip(int tx, int rx, const char *msg)
{
	char buf[64];
	uint8_t type;
	size_t len = strlen(msg);

	if (send(tx, msg, len, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	ssize_t n = recv_record(rx, &type, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (type != 23 || (size_t)n != len || memcmp(buf, msg, len) != 0)
		return -EBADMSG;
	return 0;
}

static void probe_cipher(struct ktls_probe *r, int version, enum ktls_cipher c)
{
	struct ktls_probe_cipher *pc = &r->ciphers[r->n_ciphers++];
	int a = -1, b = -1, rc;

	memset(pc, 0, sizeof(*pc));
	pc->version = version;
	pc->cipher = c;
	if (!ktls_cipher_desc(c)) {
		/* Built against a linux/tls.h without this cipher. */
		pc->tx_err = pc->rx_err = KTLS_E_CIPHER_UNSUPPORTED;
		return;
	}
	rc = tcp_pair(&a, &b);
	if (rc) {
		pc->tx_err = pc->rx_err = rc;
		return;
	}
	if ((rc = set_ulp(a)) || (rc = set_ulp(b))) {
		pc->tx_err = pc->rx_err = rc;
		goto out;
	}
	pc->tx_err = set_key(a, TLS_TX, version, c, 0);
	pc->rx_err = set_key(b, TLS_RX, version, c, 0);
	if (pc->tx_err == 0 && pc->rx_err == 0) {
		rc = roundtrip(a, b, PROBE_MSG);
		if (rc == 0) {
			pc->tx = pc->rx = true;
		} else {
			pc->rx_err = rc;
			pc->tx = true; /* the key was accepted and send() took the record */
		}
	}
out:
	close(a);
	close(b);
}

/* TLS_TX_ZEROCOPY_RO and TLS_RX_EXPECT_NO_PAD on a TLS 1.3 AES-128-GCM pair. */
static void probe_options(struct ktls_probe *r)
{
	int a = -1, b = -1, one = 1;

	if (tcp_pair(&a, &b))
		return;
	if (set_ulp(a) || set_ulp(b) ||
	    set_key(a, TLS_TX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 0) ||
	    set_key(b, TLS_RX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 0))
		goto out;
#ifdef TLS_TX_ZEROCOPY_RO
	r->zerocopy_ro = setsockopt(a, SOL_TLS, TLS_TX_ZEROCOPY_RO, &one, sizeof(one)) == 0;
#endif
#ifdef TLS_RX_EXPECT_NO_PAD
	r->rx_expect_no_pad = setsockopt(b, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one)) == 0;
#endif
	/* The options must not break the data path. */
	if ((r->zerocopy_ro || r->rx_expect_no_pad) && roundtrip(a, b, PROBE_MSG) != 0)
		r->zerocopy_ro = r->rx_expect_no_pad = false;
out:
	close(a);
	close(b);
	(void)one;
}

/* TLS 1.3 rekey: a KeyUpdate record, a second TLS_TX, the receiver picks up
 * the KeyUpdate and installs the next RX key, and a record under the new key
 * arrives intact. */
static void probe_rekey(struct ktls_probe *r)
{
	static const uint8_t key_update[] = { 24, 0, 0, 1, 0 }; /* update_not_requested */
	uint8_t buf[64], type;
	int a = -1, b = -1;

	if (tcp_pair(&a, &b))
		return;
	if (set_ulp(a) || set_ulp(b) ||
	    set_key(a, TLS_TX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 0) ||
	    set_key(b, TLS_RX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 0))
		goto out;
	if (send_record(a, 22, key_update, sizeof(key_update)))
		goto out;
	if (set_key(a, TLS_TX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 1))
		goto out; /* EBUSY: this kernel cannot rekey */
	if (send(a, PROBE_MSG, strlen(PROBE_MSG), 0) != (ssize_t)strlen(PROBE_MSG))
		goto out;
	ssize_t n = recv_record(b, &type, buf, sizeof(buf));
	if (n != (ssize_t)sizeof(key_update) || type != 22 || memcmp(buf, key_update, sizeof(key_update)))
		goto out;
	if (set_key(b, TLS_RX, TLS1_3_VERSION, KTLS_CIPHER_AES_128_GCM, 1))
		goto out;
	n = recv_record(b, &type, buf, sizeof(buf));
	r->rekey = n == (ssize_t)strlen(PROBE_MSG) && type == 23 &&
		   memcmp(buf, PROBE_MSG, (size_t)n) == 0;
out:
	close(a);
	close(b);
}

int ktls_read_tls_stat(const char *path, struct ktls_stat_counter *out, size_t max, size_t *n)
{
	char line[256];
	FILE *f = fopen(path, "re");

	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[sizeof(out->name)];
		unsigned long long v;
		char extra;
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		if (sscanf(line, "%47s %llu %c", name, &v, &extra) != 2) {
			fclose(f);
			return -EINVAL;
		}
		if (*n == max)
			break;
		snprintf(out[*n].name, sizeof(out[*n].name), "%s", name);
		out[*n].value = v;
		(*n)++;
	}
	fclose(f);
	return 0;
}

int ktls_probe(struct ktls_probe *r)
{
	static const enum ktls_cipher order[] = {
		KTLS_CIPHER_AES_128_GCM, KTLS_CIPHER_AES_256_GCM, KTLS_CIPHER_CHACHA20_POLY1305,
		KTLS_CIPHER_AES_128_CCM, KTLS_CIPHER_ARIA_GCM_128, KTLS_CIPHER_ARIA_GCM_256,
	};
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
	struct utsname u;
	int a, b, rc;

	memset(r, 0, sizeof(*r));
	if (uname(&u) == 0)
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);

	rc = tcp_pair(&a, &b);
	if (rc)
		return rc;
	r->ulp_err = set_ulp(a);
	r->ulp_available = r->ulp_err == 0;
	close(a);
	close(b);

	if (r->ulp_available) {
		for (size_t v = 0; v < 2; v++)
			for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
				const struct ktls_cipher_desc *d = ktls_cipher_desc(order[i]);
				bool aria = order[i] == KTLS_CIPHER_ARIA_GCM_128 ||
					    order[i] == KTLS_CIPHER_ARIA_GCM_256;
				if (versions[v] == TLS1_3_VERSION && (aria || (d && !d->tls13)))
					continue;
				probe_cipher(r, versions[v], order[i]);
			}
		probe_options(r);
		probe_rekey(r);
	} else {
		/* Still list every combination, all false, so output keeps its shape. */
		for (size_t v = 0; v < 2; v++)
			for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
				bool aria = order[i] == KTLS_CIPHER_ARIA_GCM_128 ||
					    order[i] == KTLS_CIPHER_ARIA_GCM_256;
				if (versions[v] == TLS1_3_VERSION && aria)
					continue;
				struct ktls_probe_cipher *pc = &r->ciphers[r->n_ciphers++];
				memset(pc, 0, sizeof(*pc));
				pc->version = versions[v];
				pc->cipher = order[i];
				pc->tx_err = pc->rx_err = KTLS_E_NO_ULP;
			}
	}
	r->has_tls_stat = ktls_read_tls_stat("/proc/net/tls_stat", r->tls_stat,
					     sizeof(r->tls_stat) / sizeof(r->tls_stat[0]),
					     &r->n_tls_stat) == 0;
	return 0;
}

static int rekey_cached;
static pthread_once_t rekey_once = PTHREAD_ONCE_INIT;

static void rekey_probe_once(void)
{
	struct ktls_probe r;

	memset(&r, 0, sizeof(r));
	probe_rekey(&r);
	rekey_cached = r.rekey;
}

int ktls_probe_rekey_cached(void)
{
	pthread_once(&rekey_once, rekey_probe_once);
	return rekey_cached;
}

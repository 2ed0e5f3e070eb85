/* client/sockbio.c: the socket BIO of a load-generator connection.
 *
 * OpenSSL's BIO_s_socket() makes a read() system call whenever OpenSSL
 * wants bytes, and writes each flight the moment OpenSSL flushes it. This
 * BIO knows two things the socket BIO cannot:
 *
 *  - Whether a read can find anything. After the ClientHello OpenSSL reads
 *    at once, although the server cannot have answered yet; after a read
 *    that found the socket empty nothing can arrive unannounced, since the
 *    socket is in an edge-triggered epoll set. So a read is only tried once
 *    epoll reported the socket readable (or before the socket ever found
 *    empty); otherwise it says "retry" without a system call.
 *
 *  - Whether more bytes follow at once. The client's last handshake flight
 *    (TLS 1.3: Finished) is followed straight away by the request, or by
 *    close_notify and the close. Written with MSG_MORE, that flight waits in
 *    the socket for what follows, and both leave in one TCP segment: one
 *    trip through the loopback and one wakeup of the server instead of two
 *    (browsers send Finished and the request together the same way). The
 *    close_notify alert is held the same way, and the FIN that close()
 *    sends joins it. Whatever is held is pushed out (sockbio_push()) before
 *    the connection waits for the server, so nothing can stall.
 */
#include "client/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static BIO_METHOD *meth;
static pthread_once_t meth_once = PTHREAD_ONCE_INIT;

static int sb_write(BIO *b, const char *buf, int len)
{
	struct conn *c = BIO_get_data(b);
	bool more = c->hold || (c->in_handshake && conn_flight_is_last(c));
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	if (n >= 0) {
		phases_wrote(c, now_ns());
		c->held = more; /* a send without MSG_MORE pushed everything */
		return (int)n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_write(b);
	return -1;
}

static int sb_read(BIO *b, char *buf, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (!c->readable) {
		BIO_set_retry_read(b);
		errno = EAGAIN;
		return -1;
	}
	n = recv(c->fd, buf, (size_t)len, 0);
	phases_read(c, n);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		if (errno != EINTR)
			c->readable = false; /* the next epoll edge says when to try again */
		BIO_set_retry_read(b);
	}
	return -1;
}

static long sb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct conn *c = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* nothing is buffered here */
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (!c)
			return -1;
		if (ptr)
			*(int *)ptr = c->fd;
		return c->fd;
	default:
		return 0;
	}
}

static int sb_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void meth_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
				     "ktls-client socket");

	if (m && BIO_meth_set_write(m, sb_write) && BIO_meth_set_read(m, sb_read) &&
	    BIO_meth_set_ctrl(m, sb_ctrl) && BIO_meth_set_create(m, sb_create)) {
		meth = m;
		return;
	}
	BIO_meth_free(m);
}

BIO *sockbio_new(struct conn *c)
{
	BIO *b;

	pthread_once(&meth_once, meth_init);
	if (!meth || !(b = BIO_new(meth)))
		return NULL;
	BIO_set_data(b, c);
	return b;
}

void sockbio_reset(BIO *b)
{
	BIO_clear_flags(b, BIO_FLAGS_IN_EOF);
	BIO_clear_retry_flags(b);
}

void sockbio_push(struct conn *c)
{
	int one = 1;

	/* Setting TCP_NODELAY sends what MSG_MORE held back. */
	if (c->held && c->fd >= 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->held = false;
}

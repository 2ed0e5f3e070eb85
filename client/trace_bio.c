/* client/trace_bio.c: the socket BIO of `ktls-client trace`.
 *
 * A blocking socket BIO that notes, for every read() and write() OpenSSL
 * makes, when it was called, when it returned and how many bytes it moved,
 * and for reads also when those bytes reached this machine: the socket has
 * SO_TIMESTAMPNS on, so recvmsg() hands back the kernel's receive time of
 * the last packet it read from. OpenSSL processes a message some time after
 * its bytes arrived (it may be busy with the previous one); the trace shows
 * the arrival, and what the client was doing in between is its own time.
 * The kernel stamps CLOCK_REALTIME; the trace runs on CLOCK_MONOTONIC, so
 * the offset between the two, read once at the start, converts them.
 */
#include "client/trace.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void);

static BIO_METHOD *meth;

struct tbio {
	struct trace *tr;
	int fd;
};

static void note(struct trace *tr, int dir, uint64_t t_call, size_t n, uint64_t arrive)
{
	tr->wire_bytes[dir] += n;
	tr->wire_calls[dir]++;
	if (tr->nwire < TR_MAX) {
		struct tr_wire *w = &tr->wire[tr->nwire++];
		w->t_call = t_call - tr->t0;
		w->t_ns = now_ns() - tr->t0;
		w->t_arrive = arrive;
		w->dir = dir;
		w->bytes = n;
	}
}

static int tb_write(BIO *b, const char *buf, int len)
{
	struct tbio *t = BIO_get_data(b);
	uint64_t t_call = now_ns();
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n > 0) {
		note(t->tr, TR_C2S, t_call, (size_t)n, 0);
		return (int)n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return -1;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* recv() that also hands back the kernel's receive time of what it read
 * (CLOCK_REALTIME ns in *rt; 0 when the bytes came without a stamp). */
static ssize_t recv_stamped(int fd, void *buf, size_t len, int64_t *rt)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct timespec))];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	ssize_t n = recvmsg(fd, &mh, 0);

	*rt = 0;
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rt = ts_ns(&ts);
		}
	}
	return n;
}

static int tb_read(BIO *b, char *buf, int len)
{
	struct tbio *t = BIO_get_data(b);
	struct trace *tr = t->tr;
	uint64_t t_call = now_ns(), arrive = 0;
	int64_t rt;
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv_stamped(t->fd, buf, (size_t)len, &rt);
	if (n > 0) {
		if (rt) {
			int64_t mono = rt - tr->rt_offset_ns - (int64_t)tr->t0;
			/* (a stamp before the trace began, or after now, is not believable) */
			if (mono >= 0 && (uint64_t)mono <= now_ns() - tr->t0)
				arrive = (uint64_t)mono;
		}
		if (!arrive)
			tr->stamps_missing++;
		note(tr, TR_S2C, t_call, (size_t)n, arrive);
		return (int)n;
	}
	if (n == 0) {
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_read(b);
	return -1;
}

static long tb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tbio *t = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = t->fd;
		return t->fd;
	default:
		return 0;
	}
}

static int tb_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int tb_destroy(BIO *b)
{
	OPENSSL_free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

BIO *trace_bio_new(struct trace *tr, int fd)
{
	struct tbio *t;
	BIO *b;
	int one = 1;

	if (!meth) {
		meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
				    "ktls-client trace socket");
		if (!meth || !BIO_meth_set_write(meth, tb_write) || !BIO_meth_set_read(meth, tb_read) ||
		    !BIO_meth_set_ctrl(meth, tb_ctrl) || !BIO_meth_set_create(meth, tb_create) ||
		    !BIO_meth_set_destroy(meth, tb_destroy)) {
			BIO_meth_free(meth);
			meth = NULL;
			return NULL;
		}
	}
	t = OPENSSL_zalloc(sizeof(*t));
	if (!t || !(b = BIO_new(meth))) {
		OPENSSL_free(t);
		return NULL;
	}
	t->tr = tr;
	t->fd = fd;
	BIO_set_data(b, t);
	/* receive timestamps, from packets that arrive from now on */
	tr->stamps = !setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return b;
}

void trace_bio_free_method(void)
{
	BIO_meth_free(meth);
	meth = NULL;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from a realtime read between two
 * monotonic ones: of five tries the one with the shortest bracket, so that
 * a preemption between two reads (which would shift every stamp by its
 * length) is not what the trace converts with. */
void trace_clock_offset(struct trace *tr)
{
	int64_t best = INT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec m1, rt, m2;
		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		int64_t width = ts_ns(&m2) - ts_ns(&m1);
		if (width < best) {
			best = width;
			tr->rt_offset_ns = ts_ns(&rt) - (ts_ns(&m1) + width / 2);
		}
	}
}

/* Whether one byte read on fd came with the kernel's receive timestamp
 * (-1: nothing to read within a second). */
static int read_stamped(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char byte;
	int64_t rt;

	if (poll(&p, 1, 1000) != 1 || recv_stamped(fd, &byte, 1, &rt) != 1)
		return -1;
	return rt != 0;
}

/* The kernel takes receive timestamps only while some socket asks for
 * them, and the first socket to ask switches them on through deferred work
 * (net_enable_timestamp schedules it): a packet that arrives before that
 * work ran carries no stamp. On a busy machine that can be the server's
 * first flight. So, before the traced connection starts, a loopback TCP
 * pair asks for stamps and sends single bytes across until one arrives
 * stamped (at most 200 tries, 10 ms apart). The returned socket keeps the
 * stamps on until the traced socket has asked too; -1 when no pair could
 * be made or no stamp came (the trace then says which reads had none). */
int trace_stamps_on(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = -1, c = -1, s = -1, one = 1, ok = 0;

	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al) ||
	    (c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) ||
	    (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		goto out;
	for (int i = 0; i < 200 && !ok; i++) {
		if (i)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		int r = send(c, "x", 1, MSG_NOSIGNAL) == 1 ? read_stamped(s) : -1;
		if (r < 0)
			break;
		ok = r;
	}
out:
	if (l >= 0)
		close(l);
	if (c >= 0)
		close(c);
	if (!ok && s >= 0) {
		close(s);
		s = -1;
	}
	return s;
}

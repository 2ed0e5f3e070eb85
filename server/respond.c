/* server/respond.c: HTTP responses and their bodies, in both record layers.
 *
 * A response is staged when its bytes are handed to the record layer:
 *   user mode  SSL_write() encrypts into c->out (tls.c), which is sent in
 *              batches of up to OUT_BIG bytes (128 KiB);
 *   ktls mode  heads and small bodies are copied into c->out; a large
 *              /bytes body is sent straight from pattern_at() with sendmsg
 *              (head + body in one call, no copy), and a file goes
 *              file -> pipe -> socket with two linked io_uring splices.
 * Small responses (head + body <= SMALL_BODY) are built in the worker's
 * scratch buffer and staged in one piece, so pipelined requests are answered
 * back to back; a large body makes the response "active" and the next
 * request waits until that body has been staged.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/http.h"
#include "common/pattern.h"

#define PIPE_WANT (256 * 1024)

static const char index_text[] =
	"ktls-server routes:\n"
	"  GET /bytes/<N>    N bytes: byte i is \"" PATTERN_ALPHABET "\"[i % 61]\n"
	"  GET /file/<name>  a file of --docroot\n"
	"  GET /stats        the server's counters (JSON)\n";

/* Hand n bytes to the record layer. 0, or -1 when they do not fit (the
 * callers check room first) or OpenSSL failed. */
static int stage(struct conn *c, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t done = 0;

	if (c->mode == TLS_MODE_USER) {
		while (done < n) {
			long k = tls_write(c, b + done, n - done);
			if (k <= 0)
				return -1;
			done += (size_t)k;
		}
	} else {
		if (cbuf_ensure(&c->out, &c->w->pool_small))
			return -1;
		if (cbuf_room(&c->out) < n && !c->send_busy)
			cbuf_compact(&c->out);
		if (cbuf_room(&c->out) < n)
			return -1;
		memcpy(c->out.p + c->out.len, p, n);
		c->out.len += (uint32_t)n;
	}
	STAT_ADD(c->w->st.bytes_out, n);
	return 0;
}

static void count_status(struct conn *c, int status)
{
	STAT_ADD(c->w->st.responses[stats_status_index(status)], 1);
}

/* Head and a body of at most SMALL_BODY bytes, staged in one piece. */
static int stage_simple(struct conn *c, int status, const char *type, const void *body,
			size_t blen, bool head_only, const char *extra)
{
	char *buf = c->w->scratch;
	int h = http_format_head(buf, sizeof c->w->scratch - SMALL_BODY, status, type, blen,
				 !c->close_after, extra);
	if (h < 0 || blen > SMALL_BODY)
		return -1;
	if (!head_only && blen)
		memcpy(buf + h, body, blen);
	count_status(c, status);
	return stage(c, buf, (size_t)h + (head_only ? 0 : blen));
}

static int stage_error(struct conn *c, int status, bool head_only)
{
	char body[64];
	const char *extra = NULL;
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_status_text(status));

	if (status == 405)
		extra = "Allow: GET, HEAD\r\n";
	else if (status == 503)
		extra = "Retry-After: 1\r\n";
	return stage_simple(c, status, "text/plain", body, (size_t)n, head_only, extra);
}

static int start_bytes(struct conn *c, uint64_t n, bool head_only)
{
	char *buf = c->w->scratch;

	if (head_only || n <= SMALL_BODY) {
		int h = http_format_head(buf, sizeof c->w->scratch - SMALL_BODY, 200,
					 "application/octet-stream", n, !c->close_after, NULL);
		if (h < 0)
			return -1;
		if (!head_only)
			memcpy(buf + h, pattern_at(0), n);
		count_status(c, 200);
		return stage(c, buf, (size_t)h + (head_only ? 0 : n));
	}
	int h = http_format_head(buf, sizeof c->w->scratch, 200, "application/octet-stream", n,
				 !c->close_after, NULL);
	if (h < 0)
		return -1;
	count_status(c, 200);
	c->want_big = c->mode == TLS_MODE_USER;
	if (stage(c, buf, (size_t)h))
		return -1;
	c->resp.kind = RESP_BYTES;
	c->resp.left = n;
	c->resp.off = 0;
	return 0;
}

/* /file/<name>: the open runs on io_uring (a slow file system never stalls
 * the worker); respond_on_open() answers when it completes. */
static int start_file(struct conn *c, const char *name, size_t len, bool head_only)
{
	struct worker *w = c->w;
	struct server *s = w->srv;
	char *path;

	if (s->docroot_fd < 0)
		return stage_error(c, 404, head_only);
	path = malloc(len + 1);
	if (!path)
		return stage_error(c, 503, head_only);
	memcpy(path, name, len);
	path[len] = 0;
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_openat(sqe, s->docroot_fd, path,
			     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0);
	io_uring_sqe_set_data64(sqe, UD(c, OP_OPEN));
	c->file_busy = true;
	c->inflight++;
	c->resp.kind = RESP_OPENING;
	c->resp.path = path;
	c->resp.head_only = head_only;
	return 0;
}

static int file_opened(struct conn *c, int fd, bool head_only)
{
	struct stat st;

	if (fd < 0) {
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM)
			return stage_error(c, 503, head_only);
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EACCES ||
		    fd == -EISDIR || fd == -ENXIO)
			return stage_error(c, 404, head_only);
		return stage_error(c, 500, head_only);
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return stage_error(c, 404, head_only);
	}
	char *buf = c->w->scratch;
	int h = http_format_head(buf, sizeof c->w->scratch, 200, "application/octet-stream",
				 (uint64_t)st.st_size, !c->close_after, NULL);
	count_status(c, 200);
	if (h < 0 || stage(c, buf, (size_t)h)) {
		close(fd);
		return -1;
	}
	if (head_only || st.st_size == 0) {
		close(fd);
		return 0;
	}
	c->resp.kind = RESP_FILE;
	c->resp.file_fd = fd;
	c->resp.left = (uint64_t)st.st_size;
	c->resp.off = 0;
	c->want_big = c->mode == TLS_MODE_USER;
	return 0;
}

void respond_on_open(struct conn *c, int res)
{
	c->file_busy = false;
	free(c->resp.path);
	c->resp.path = NULL;
	if (c->state == CS_DEAD) {
		if (res >= 0)
			close(res);
		return;
	}
	c->resp.kind = RESP_NONE;
	if (file_opened(c, res, c->resp.head_only) < 0) {
		conn_abort(c, "stage_error");
		return;
	}
	conn_pump(c);
}

int respond_timeout(struct conn *c)
{
	c->close_after = true;
	cbuf_consume(&c->req, cbuf_used(&c->req));
	c->discard = 0;
	c->early_left = 0;
	return stage_error(c, 408, false);
}

static int start_stats(struct conn *c, bool head_only)
{
	cJSON *j = stats_json(c->w->srv, false);
	char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
	int rc;

	cJSON_Delete(j);
	if (!txt)
		return stage_error(c, 500, head_only);
	size_t n = strlen(txt);
	if (n + 1 > SMALL_BODY) {
		free(txt);
		return stage_error(c, 500, head_only);
	}
	txt[n] = '\n';          /* replaces the NUL: the body is n + 1 bytes */
	rc = stage_simple(c, 200, "application/json", txt, n + 1, head_only, NULL);
	free(txt);
	return rc;
}

int respond_request(struct conn *c)
{
	struct worker *w = c->w;
	struct server *s = w->srv;
	struct http_request hr;
	struct http_route rt;
	int rc;

	ssize_t r = http_parse_request((const char *)c->req.p + c->req.off, cbuf_used(&c->req),
				       s->cfg.max_header, MAX_BODY, &hr);
	if (r == 0)
		return 0;
	STAT_ADD(w->st.requests, 1);
	c->answered = true;
	/* a request that began in the early data: replayable (RFC 8470) */
	bool early = c->early_left > 0;
	if (early) {
		uint64_t used = r > 0 ? (uint64_t)r + hr.content_length : cbuf_used(&c->req);
		c->early_left = used < c->early_left ? c->early_left - (uint32_t)used : 0;
		STAT_ADD(w->st.early_requests, 1);
	}
	if (r < 0) {
		/* the stream cannot be trusted past a malformed head: answer, close */
		conn_set_end(c, "bad_request");
		c->close_after = true;
		cbuf_consume(&c->req, cbuf_used(&c->req));
		return stage_error(c, (int)-r, false) < 0 ? -1 : 1;
	}
	if (!hr.keep_alive) {
		conn_set_end(c, "connection_close");
		c->close_after = c->peer_close = true;
	}
	if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED))
		c->close_after = true;
	bool head_only = hr.method == HTTP_HEAD;
	if (early && hr.method != HTTP_GET && hr.method != HTTP_HEAD) {
		/* only safe methods are answered from early data: a replay
		 * repeats them harmlessly; the client sends the rest again
		 * after the handshake (RFC 8470, 5.2) */
		rc = stage_error(c, 425, false);
	} else if (hr.method == HTTP_OTHER) {
		rc = stage_error(c, 405, false);
	} else {
		http_route(hr.target, hr.target_len, &rt);
		switch (rt.kind) {
		case HTTP_ROUTE_INDEX:
			rc = stage_simple(c, 200, "text/plain", index_text, sizeof index_text - 1,
					  head_only, NULL);
			break;
		case HTTP_ROUTE_STATS:
			rc = start_stats(c, head_only);
			break;
		case HTTP_ROUTE_BYTES:
			rc = start_bytes(c, rt.bytes, head_only);
			break;
		case HTTP_ROUTE_FILE:
			rc = start_file(c, rt.name, rt.name_len, head_only);
			break;
		case HTTP_ROUTE_BAD:
			rc = stage_error(c, 400, head_only);
			break;
		default:
			rc = stage_error(c, 404, head_only);
			break;
		}
	}
	cbuf_consume(&c->req, (uint32_t)hr.head_len);
	c->discard = hr.content_length;
	return rc < 0 ? -1 : 1;
}

/* ---- pipes for splice ------------------------------------------------------------ */
static int pipe_get(struct worker *w, int p[2])
{
	if (w->npipes) {
		w->npipes--;
		p[0] = w->pipes[w->npipes][0];
		p[1] = w->pipes[w->npipes][1];
		return 0;
	}
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	int sz = fcntl(p[1], F_SETPIPE_SZ, PIPE_WANT);
	if (sz < 0)
		sz = fcntl(p[1], F_GETPIPE_SZ);
	if (sz <= 0)
		sz = 65536;
	if (!w->pipe_size || (unsigned)sz < w->pipe_size)
		w->pipe_size = (unsigned)sz;
	return 0;
}

static void pipe_put(struct worker *w, int p[2], bool clean)
{
	if (p[0] < 0)
		return;
	if (clean && w->npipes < sizeof w->pipes / sizeof w->pipes[0]) {
		w->pipes[w->npipes][0] = p[0];
		w->pipes[w->npipes][1] = p[1];
		w->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

void respond_free(struct conn *c)
{
	free(c->resp.path);
	c->resp.path = NULL;
	if (c->resp.file_fd >= 0)
		close(c->resp.file_fd);
	c->resp.file_fd = -1;
	cbuf_release(&c->resp.fbuf);
	pipe_put(c->w, c->resp.pipe, c->resp.in_pipe == 0 && c->resp.splices == 0);
	c->resp.in_pipe = 0;
	c->resp.kind = RESP_NONE;
	c->want_big = false;
}

static void splice_next(struct conn *c)
{
	struct worker *w = c->w;
	struct io_uring_sqe *sqe;

	if (c->resp.pipe[0] < 0 && pipe_get(w, c->resp.pipe)) {
		conn_abort(c, "pipe_unavailable");
		return;
	}
	if (c->resp.in_pipe) {
		unsigned more = c->resp.left > c->resp.in_pipe ? SPLICE_F_MORE : 0;
		sqe = worker_sqe(w);
		io_uring_prep_splice(sqe, c->resp.pipe[0], -1, c->fd, -1, c->resp.in_pipe, more);
		io_uring_sqe_set_data64(sqe, UD(c, OP_SPLICE_OUT));
		c->resp.splices = 1;
		c->inflight++;
		return;
	}
	uint64_t n = c->resp.left < w->pipe_size ? c->resp.left : w->pipe_size;
	unsigned more = c->resp.left > n ? SPLICE_F_MORE : 0;
	if (io_uring_sq_space_left(&w->ring) < 2)
		io_uring_submit(&w->ring);          /* the linked pair goes in one batch */
	sqe = worker_sqe(w);
	io_uring_prep_splice(sqe, c->resp.file_fd, (int64_t)c->resp.off, c->resp.pipe[1], -1,
			     (unsigned)n, 0);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, UD(c, OP_SPLICE_IN));
	sqe = worker_sqe(w);
	io_uring_prep_splice(sqe, c->resp.pipe[0], -1, c->fd, -1, (unsigned)n, more);
	io_uring_sqe_set_data64(sqe, UD(c, OP_SPLICE_OUT));
	c->resp.splices = 2;
	c->inflight += 2;
}

void respond_on_splice(struct conn *c, unsigned tag, int res)
{
	c->resp.splices--;
	if (c->state == CS_DEAD)
		return;
	if (tag == OP_SPLICE_IN) {
		if (res <= 0) {
			conn_abort(c, res == 0 ? "file_truncated" : "file_read_error");
			return;
		}
		c->resp.in_pipe += (uint32_t)res;
		c->resp.off += (uint64_t)res;
	} else if (res > 0) {
		c->resp.in_pipe -= (uint32_t)res;
		c->resp.left -= (uint64_t)res;
		STAT_ADD(c->w->st.bytes_out, (uint64_t)res);
		conn_touch(c);
	} else if (res == -ECANCELED || res == -EAGAIN) {
		/* cancelled: the read before it was short; EAGAIN: the socket was
		 * non-blocking for a moment (conn.c). Both are tried again. */
	} else {
		conn_abort(c, res == -EPIPE || res == -ECONNRESET ? "reset_by_peer" : "send_error");
		return;
	}
	if (c->resp.splices == 0)
		conn_pump(c);
}

void respond_on_fread(struct conn *c, int res)
{
	if (c->state == CS_DEAD)
		return;
	if (res <= 0) {
		conn_abort(c, res == 0 ? "file_truncated" : "file_read_error");
		return;
	}
	c->resp.fbuf.len += (uint32_t)res;
	c->resp.off += (uint64_t)res;
	conn_pump(c);
}

static int continue_user(struct conn *c)
{
	struct worker *w = c->w;

	for (;;) {
		const uint8_t *src;
		size_t avail;

		if (c->resp.kind == RESP_BYTES) {
			/* pattern_at() of any offset starts within the first 61 bytes
			 * of the pattern: a batch reads the same, cache-hot bytes */
			src = pattern_at(c->resp.off);
			avail = c->resp.left < PATTERN_SPAN ? c->resp.left : PATTERN_SPAN;
		} else {
			src = c->resp.fbuf.p ? c->resp.fbuf.p + c->resp.fbuf.off : NULL;
			avail = cbuf_used(&c->resp.fbuf);
		}
		if (avail) {
			size_t b = tls_write_budget(c);
			if (b < avail && b < 4096)
				return 0;       /* wait for the send to make room */
			long k = tls_write(c, src, b < avail ? b : avail);
			if (k < 0)
				return -1;
			if (k == 0)
				return 0;
			c->resp.left -= (uint64_t)k;
			STAT_ADD(w->st.bytes_out, (uint64_t)k);
			if (c->resp.kind == RESP_BYTES)
				c->resp.off += (uint64_t)k;
			else
				cbuf_consume(&c->resp.fbuf, (uint32_t)k);
			continue;
		}
		if (!c->resp.left) {
			respond_free(c);
			return 1;
		}
		/* RESP_FILE: read the next chunk */
		if (c->file_busy)
			return 0;
		if (cbuf_ensure(&c->resp.fbuf, &w->pool_big))
			return -1;
		uint64_t unread = c->resp.left;   /* fbuf is empty: left == size - off */
		uint32_t n = unread < c->resp.fbuf.cap ? (uint32_t)unread : c->resp.fbuf.cap;
		struct io_uring_sqe *sqe = worker_sqe(w);
		io_uring_prep_read(sqe, c->resp.file_fd, c->resp.fbuf.p, n, c->resp.off);
		io_uring_sqe_set_data64(sqe, UD(c, OP_FREAD));
		c->file_busy = true;
		c->inflight++;
		return 0;
	}
}

int respond_continue(struct conn *c)
{
	if (c->resp.kind == RESP_OPENING)
		return 0;               /* respond_on_open() goes on */
	if (c->mode == TLS_MODE_USER)
		return continue_user(c);
	/* ktls: the body goes out through respond_flush() (sendmsg or splice) */
	if (c->resp.left == 0 && c->resp.splices == 0 && c->resp.in_pipe == 0) {
		respond_free(c);
		return 1;
	}
	return 0;
}

void respond_flush(struct conn *c)
{
	struct worker *w = c->w;
	struct io_uring_sqe *sqe;

	if (c->send_busy || c->resp.splices || c->state == CS_DEAD)
		return;
	uint32_t h = cbuf_used(&c->out);
	bool body = c->mode == TLS_MODE_KTLS && c->state == CS_OPEN && c->resp.left;

	if (c->mode == TLS_MODE_KTLS && c->kc && (h || body || c->resp.in_pipe)) {
		/* Our KeyUpdate, when the client asked for one and the send
		 * buffer had no room then, goes before our next data. */
		conn_nonblock(c->fd, true);
		int rc = ktls_flush(c->kc);
		conn_nonblock(c->fd, false);
		if (rc == -EAGAIN) {
			conn_wait_out(c);
			return;
		}
		if (rc < 0) {
			conn_abort(c, ktls_errname(rc));
			return;
		}
	}

	if (body && c->resp.kind == RESP_BYTES) {
		uint64_t n = c->resp.left < PATTERN_SPAN ? c->resp.left : PATTERN_SPAN;
		c->iov[0].iov_base = c->out.p ? c->out.p + c->out.off : NULL;
		c->iov[0].iov_len = h;
		c->iov[1].iov_base = (void *)pattern_at(c->resp.off);
		c->iov[1].iov_len = n;
		memset(&c->msg, 0, sizeof c->msg);
		c->msg.msg_iov = h ? c->iov : c->iov + 1;
		c->msg.msg_iovlen = h ? 2 : 1;
		sqe = worker_sqe(w);
		io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
	} else if (h) {
		/* kTLS sendmsg rejects MSG_WAITALL; plain TCP lets io_uring retry */
		int flags = MSG_NOSIGNAL | (c->kc ? 0 : MSG_WAITALL);
		if (body)
			flags |= MSG_MORE;      /* the file follows the head */
		sqe = worker_sqe(w);
		io_uring_prep_send(sqe, c->fd, c->out.p + c->out.off, h, flags);
	} else {
		if (body || c->resp.in_pipe)
			splice_next(c);
		return;
	}
	io_uring_sqe_set_data64(sqe, UD(c, OP_SEND));
	c->sending = h;
	c->send_busy = true;
	c->inflight++;
}

void respond_sent(struct conn *c, int res)
{
	uint32_t h = c->sending;

	c->sending = 0;
	if (res < 0 || c->state == CS_DEAD)
		return;
	if ((uint32_t)res <= h) {
		cbuf_consume(&c->out, (uint32_t)res);
	} else {
		cbuf_consume(&c->out, h);
		uint64_t body = (uint64_t)res - h;
		c->resp.left -= body;
		c->resp.off += body;
		STAT_ADD(c->w->st.bytes_out, body);
	}
	cbuf_release_if_empty(&c->out);
}

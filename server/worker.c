/* server/worker.c: one worker thread: its io_uring, listener, buffers, timers.
 *
 * The loop: submit everything queued and wait for at least one completion
 * (io_uring_submit_and_wait_timeout: one system call per turn), then handle
 * all completions. Timeouts are four lists kept in deadline order (each
 * list has one timeout, so appending keeps the order) swept every 50 ms:
 * no timer operation per connection: handshakes, requests arriving (their
 * deadline runs from the first byte and is not restarted by more bytes),
 * open connections (restarted by any progress), closing ones.
 *
 * Accepting pauses when --max-conns is reached or when accept fails for
 * lack of file descriptors (EMFILE/ENFILE); the connections waiting in the
 * backlog are accepted when a connection closes or 100 ms later. With
 * --max-conns, accepts are single-shot (a multishot accept would take the
 * whole backlog at once); a connection accepted over the limit anyway
 * (another worker took the last slot first) is parked, not closed, and
 * started when a slot frees.
 */
#include "server/server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cpus.h"

#define SQ_ENTRIES 2048
#define CQ_ENTRIES 8192
#define SWEEP_NS (50ULL * 1000000ULL)
#define ACCEPT_RETRY_NS (100ULL * 1000000ULL)

/* ---- listening sockets ------------------------------------------------------------ */
static int listen_one(struct server *s, const struct addrinfo *ai, bool reuseport, char *err,
		      size_t errlen)
{
	int one = 1, fd;
	char where[300];

	snprintf(where, sizeof where, "%s:%u", s->cfg.host, (unsigned)s->port);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) {
		snprintf(err, errlen, "SO_REUSEPORT: %s (run with --threads 1)", strerror(errno));
		close(fd);
		return -1;
	}
	/* accepted sockets inherit TCP_NODELAY (and SO_SNDBUF): no setsockopt
	 * per connection */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (s->cfg.sndbuf) {
		int sz = (int)s->cfg.sndbuf;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	struct sockaddr_storage sa;
	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons(s->port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(s->port);
	if (bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen)) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s%s", where, strerror(e),
			 e == EADDRINUSE ? " (another program uses this port: stop it or pick "
					   "another --port)"
			 : e == EACCES ? " (ports below 1024 need privileges: pick another --port)"
			 : e == EADDRNOTAVAIL ? " (no local interface has this address: check --host)"
					      : "");
		close(fd);
		return -1;
	}
	if (listen(fd, (int)s->cfg.backlog)) {
		snprintf(err, errlen, "listen on %s: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int worker_listen_all(struct server *s, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	bool reuseport = s->nworkers > 1;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(s->cfg.host, NULL, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "--host %s: %s (give an IP address such as 127.0.0.1)",
			 s->cfg.host, gai_strerror(rc));
		return -1;
	}
	s->port = s->cfg.port;
	if (reuseport && s->port) {
		/* SO_REUSEPORT would quietly share a port another server of ours
		 * holds: make sure it is free first. */
		int fd = listen_one(s, ai, false, err, errlen);
		if (fd < 0) {
			freeaddrinfo(ai);
			return -1;
		}
		close(fd);
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		int fd = listen_one(s, ai, reuseport, err, errlen);
		if (fd < 0) {
			freeaddrinfo(ai);
			return -1;
		}
		s->workers[i].listen_fd = fd;
		if (i == 0 && s->port == 0) {
			struct sockaddr_storage sa;
			socklen_t len = sizeof sa;
			getsockname(fd, (struct sockaddr *)&sa, &len);
			s->port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
								: ((struct sockaddr_in6 *)&sa)->sin6_port);
		}
	}
	freeaddrinfo(ai);
	return 0;
}

/* ---- ring helpers ------------------------------------------------------------------- */
struct io_uring_sqe *worker_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	while (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

void worker_recycle_buf(struct worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * w->buf_size, w->buf_size, (unsigned short)bid,
			      io_uring_buf_ring_mask(w->nbufs), 0);
	io_uring_buf_ring_advance(w->br, 1);
}

static int ring_setup(struct worker *w)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	int rc = -EINVAL;

	for (size_t i = 0; i < sizeof flag_sets / sizeof *flag_sets && rc == -EINVAL; i++) {
		memset(&p, 0, sizeof p);
		p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		rc = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
	}
	if (rc < 0) {
		snprintf(w->init_msg, sizeof w->init_msg,
			 "io_uring_setup: %s (io_uring may be disabled: see "
			 "/proc/sys/kernel/io_uring_disabled)", strerror(-rc));
		return rc;
	}
	w->ring_ok = true;

	w->nbufs = (unsigned)w->srv->cfg.recv_buffers;
	w->buf_size = BUF_SIZE;
	size_t rsz = (size_t)w->nbufs * sizeof(struct io_uring_buf);
	w->br = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	w->bufs = mmap(NULL, (size_t)w->nbufs * w->buf_size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (w->br == MAP_FAILED || w->bufs == MAP_FAILED) {
		snprintf(w->init_msg, sizeof w->init_msg, "cannot map receive buffers: %s",
			 strerror(errno));
		return -ENOMEM;
	}
	io_uring_buf_ring_init(w->br);
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (unsigned long)w->br;
	reg.ring_entries = w->nbufs;
	reg.bgid = 0;
	rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (rc) {
		snprintf(w->init_msg, sizeof w->init_msg,
			 "io_uring_register_buf_ring: %s (provided buffer rings need Linux 5.19+)",
			 strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < w->nbufs; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * w->buf_size, w->buf_size,
				      (unsigned short)i, io_uring_buf_ring_mask(w->nbufs), (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->nbufs);
	return 0;
}

/* ---- accepting ------------------------------------------------------------------------ */
static bool at_limit(struct worker *w)
{
	uint64_t max = w->srv->cfg.max_conns;
	return max && __atomic_load_n(&w->srv->conns_current, __ATOMIC_RELAXED) >= max;
}

static void accept_arm(struct worker *w)
{
	if (w->accept_armed || w->stop_seen || w->listen_fd < 0)
		return;
	struct io_uring_sqe *sqe = worker_sqe(w);
	if (w->srv->cfg.max_conns)
		io_uring_prep_accept(sqe, w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	else
		io_uring_prep_multishot_accept(sqe, w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UD(w, OP_ACCEPT));
	w->accept_armed = true;
	w->accept_paused = false;
}

static void accept_pause(struct worker *w, uint64_t retry_ns)
{
	if (!w->accept_paused)
		STAT_ADD(w->st.accept_paused, 1);
	w->accept_paused = true;
	w->accept_resume_ns = w->now_ns + retry_ns;
	if (w->accept_armed) {
		struct io_uring_sqe *sqe = worker_sqe(w);
		io_uring_prep_cancel64(sqe, UD(w, OP_ACCEPT), 0);
		io_uring_sqe_set_data64(sqe, UD(w, OP_IGNORE));
	}
}

static void start_conn(struct worker *w, int fd, uint64_t cur);

static void accept_maybe_resume(struct worker *w)
{
	while (w->nparked && !w->stop_seen && !at_limit(w)) {
		int fd = w->parked[--w->nparked];
		start_conn(w, fd, __atomic_add_fetch(&w->srv->conns_current, 1, __ATOMIC_RELAXED));
	}
	if (w->accept_paused && !w->accept_armed && !w->stop_seen &&
	    w->now_ns >= w->accept_resume_ns && !at_limit(w))
		accept_arm(w);
}

static void close_listener(struct worker *w)
{
	if (w->listen_fd >= 0 && !w->accept_armed) {
		close(w->listen_fd);
		w->listen_fd = -1;
	}
}

static void start_conn(struct worker *w, int fd, uint64_t cur)
{
	struct server *s = w->srv;
	uint64_t m = __atomic_load_n(&s->conns_max, __ATOMIC_RELAXED);

	while (cur > m && !__atomic_compare_exchange_n(&s->conns_max, &m, cur, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
	STAT_ADD(w->st.accepted, 1);
	if (!conn_new(w, fd)) {
		close(fd);
		__atomic_fetch_sub(&s->conns_current, 1, __ATOMIC_RELAXED);
		reasons_add(&w->st.accept_errors, "out_of_memory");
	}
}

static void on_accept(struct worker *w, int res, unsigned flags)
{
	struct server *s = w->srv;

	if (!(flags & IORING_CQE_F_MORE))
		w->accept_armed = false;
	if (res >= 0) {
		if (w->stop_seen) {
			close(res);
		} else {
			uint64_t cur = __atomic_add_fetch(&s->conns_current, 1, __ATOMIC_RELAXED);
			if (s->cfg.max_conns && cur > s->cfg.max_conns) {
				/* another worker took the last slot first: wait for one */
				__atomic_fetch_sub(&s->conns_current, 1, __ATOMIC_RELAXED);
				STAT_ADD(w->st.conns_over_limit, 1);
				if (w->nparked < sizeof w->parked / sizeof w->parked[0])
					w->parked[w->nparked++] = res;
				else
					close(res);
				accept_pause(w, 0);
			} else {
				start_conn(w, res, cur);
				if (at_limit(w))
					accept_pause(w, 0);
			}
		}
	} else if (res != -ECANCELED) {
		reasons_add(&w->st.accept_errors, ktls_errname(res));
		/* EMFILE/ENFILE: keep serving, accept again when descriptors free up */
		accept_pause(w, (res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
				 res == -ENOMEM) ? ACCEPT_RETRY_NS : ACCEPT_RETRY_NS / 10);
	}
	if (w->stop_seen)
		close_listener(w);
	else if (!w->accept_armed && !w->accept_paused)
		accept_arm(w);
}

/* ---- timers and stopping -------------------------------------------------------------- */
static void sweep_list(struct worker *w, struct list *l, uint64_t timeout)
{
	while (!list_empty(l)) {
		struct conn *c = (struct conn *)((char *)l->next - offsetof(struct conn, link));
		if (w->now_ns - c->since_ns < timeout)
			break;
		conn_timeout(c);
	}
}

static void for_each_conn(struct list *l, void (*fn)(struct conn *))
{
	struct list *n = l->next;
	while (n != l) {
		struct list *next = n->next;
		fn((struct conn *)((char *)n - offsetof(struct conn, link)));
		n = next;
	}
}

static void abort_conn(struct conn *c)
{
	conn_abort(c, "server_stopping");
}

static void sweep(struct worker *w)
{
	const struct server_config *cfg = &w->srv->cfg;

	w->next_sweep_ns = w->now_ns + SWEEP_NS;
	sweep_list(w, &w->hs_list, cfg->handshake_timeout_ns);
	sweep_list(w, &w->req_list, cfg->request_timeout_ns);
	sweep_list(w, &w->open_list, cfg->idle_timeout_ns);
	sweep_list(w, &w->drain_list, LINGER_NS);
	conn_flush_sweep(w);
	accept_maybe_resume(w);
	if (w->stop_seen && w->now_ns >= w->grace_end_ns) {
		for_each_conn(&w->hs_list, abort_conn);
		for_each_conn(&w->req_list, abort_conn);
		for_each_conn(&w->open_list, abort_conn);
		for_each_conn(&w->drain_list, abort_conn);
		for_each_conn(&w->flush_list, abort_conn);
	}
}

static void begin_stop(struct worker *w)
{
	w->stop_seen = true;
	w->grace_end_ns = w->now_ns + w->srv->cfg.grace_ns;
	if (w->accept_armed) {
		struct io_uring_sqe *sqe = worker_sqe(w);
		io_uring_prep_cancel64(sqe, UD(w, OP_ACCEPT), 0);
		io_uring_sqe_set_data64(sqe, UD(w, OP_IGNORE));
	}
	close_listener(w);
	while (w->nparked)
		close(w->parked[--w->nparked]);
	for_each_conn(&w->hs_list, conn_stop);
	for_each_conn(&w->req_list, conn_stop);
	for_each_conn(&w->open_list, conn_stop);
}

static void run_retries(struct worker *w)
{
	struct conn *c = w->retry_head;
	w->retry_head = NULL;
	while (c) {
		struct conn *next = c->retry_next;
		conn_retry_recv(c);
		c = next;
	}
}

static void loop(struct worker *w)
{
	struct server *s = w->srv;
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = (long long)SWEEP_NS };
	struct io_uring_cqe *cqe;
	unsigned head;

	for (;;) {
		w->now_ns = procstat_now_ns();
		if (!w->stop_seen && __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
			begin_stop(w);
		if (w->now_ns >= w->next_sweep_ns)
			sweep(w);
		if (w->retry_head)
			run_retries(w);
		if (w->stop_seen && w->nconns == 0 && !w->accept_armed)
			break;
		/* with buffers to retry, do not sleep long */
		ts.tv_nsec = w->retry_head ? 1000000 : (long long)SWEEP_NS;
		int rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			fprintf(stderr, "ktls-server: worker %u: io_uring_enter: %s\n", w->id,
				strerror(-rc));
			break;
		}
		w->now_ns = procstat_now_ns();
		unsigned n = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			uint64_t ud = cqe->user_data;
			unsigned tag = UD_TAG(ud);
			n++;
			if (tag == OP_ACCEPT)
				on_accept(w, cqe->res, cqe->flags);
			else if (tag != OP_IGNORE)
				conn_on_cqe(UD_PTR(ud), tag, cqe->res, cqe->flags);
		}
		io_uring_cq_advance(&w->ring, n);
		if (w->accept_paused && !w->stop_seen)
			accept_maybe_resume(w);
	}
}

void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->srv;

	w->tid = gettid();
	list_init(&w->hs_list);
	list_init(&w->req_list);
	list_init(&w->open_list);
	list_init(&w->drain_list);
	list_init(&w->flush_list);
	pool_init(&w->pool_rin, RIN_SIZE, 64);
	pool_init(&w->pool_req, s->cfg.max_header, 256);
	pool_init(&w->pool_small, OUT_SMALL, 64);
	pool_init(&w->pool_big, OUT_BIG, 16);
	pool_init(&w->pool_conn, sizeof(struct conn), 4096);
	if (w->cpu >= 0) {
		int rc = cpus_pin_self(w->cpu);
		if (rc) {
			snprintf(w->init_msg, sizeof w->init_msg, "cannot pin worker %u to CPU %d: %s "
				 "(check --cpus against the CPUs this process may use)", w->id, w->cpu,
				 strerror(-rc));
			w->init_err = rc;
		}
	}
	if (!w->init_err)
		w->init_err = ring_setup(w);
	sem_post(&s->ready);
	if (!w->init_err && !__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
		w->now_ns = procstat_now_ns();
		accept_arm(w);
		loop(w);
	}
	procstat_thread_cpu(&w->cpu_used);
	for (unsigned i = 0; i < w->nssl; i++)
		SSL_free(w->ssl_pool[i]);
	w->nssl = 0;
	if (w->ring_ok) {
		io_uring_submit(&w->ring);          /* the last closes */
		io_uring_queue_exit(&w->ring);
	}
	if (w->br && w->br != MAP_FAILED)
		munmap(w->br, (size_t)w->nbufs * sizeof(struct io_uring_buf));
	if (w->bufs && w->bufs != MAP_FAILED)
		munmap(w->bufs, (size_t)w->nbufs * w->buf_size);
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	w->listen_fd = -1;
	for (unsigned i = 0; i < w->npipes; i++) {
		close(w->pipes[i][0]);
		close(w->pipes[i][1]);
	}
	w->npipes = 0;
	pool_destroy(&w->pool_rin);
	pool_destroy(&w->pool_req);
	pool_destroy(&w->pool_small);
	pool_destroy(&w->pool_big);
	pool_destroy(&w->pool_conn);
	return NULL;
}

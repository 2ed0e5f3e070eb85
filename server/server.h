/* server/server.h: what the files of ktls-server share.
 *
 * One process, one SSL_CTX, N worker threads. Each worker owns an io_uring,
 * a listening socket (SO_REUSEPORT when N > 1) with a multishot accept, a ring
 * of provided receive buffers, pools of send buffers, and its connections;
 * nothing on the data path is shared between workers but the SSL_CTX and a
 * few atomic gauges. Files:
 *   config.c   command line and defaults         main.c   start, signals, summary
 *   worker.c   the ring loop, accept, timers     conn.c   connection state machine
 *   tls.c      SSL_CTX, the BIO, kTLS switch     respond.c HTTP responses, bodies
 *   stats.c    counters, JSON, human summary     pool.c   buffer and pipe pools
 *   close.c    how connections end: alerts, close_notify, FIN, draining
 */
#ifndef KTLS_SERVER_SERVER_H
#define KTLS_SERVER_SERVER_H

#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "common/procstat.h"
#include "common/tlsopts.h"
#include "ktls/ktls.h"

/* Sizes */
#define RIN_SIZE (34 * 1024)           /* a full record plus a receive chunk */
#define OUT_SMALL (32 * 1024)
#define OUT_BIG (128 * 1024)           /* user-mode bulk batches: measured best of 64K-1M */
#define BUF_SIZE (16 * 1024)           /* a provided receive buffer */
#define SMALL_BODY (16 * 1024)         /* bodies up to this are staged with their head */
#define MAX_BODY (64 * 1024)           /* request bodies (discarded) */
#define LINGER_NS (2ULL * 1000000000ULL) /* DRAIN: wait this long for the peer's FIN */


/* ---- configuration (config.c) --------------------------------------------- */
enum tls_mode { TLS_MODE_USER, TLS_MODE_KTLS };

struct server_config {
	const char *host;
	uint16_t port;
	unsigned threads;              /* 0 until resolved: one per CPU */
	cpu_set_t cpus;
	bool have_cpus;
	enum tls_mode mode;
	bool strict;
	const char *cert, *key;
	struct tlsopts tls;
	uint64_t tickets;
	uint64_t session_cache;        /* entries; 0 disables the session-ID cache */
	bool stock_openssl;            /* --stock-openssl: none of osslshim/ */
	const char *propq;             /* the SSL_CTX's property query (osslshim/kdf.c), or NULL */
	const char *docroot;
	uint64_t max_conns;            /* 0: no limit but file descriptors */
	uint64_t handshake_timeout_ns, idle_timeout_ns, grace_ns, duration_ns;
	uint64_t request_timeout_ns;   /* from a request's first byte to its complete head */
	uint64_t max_header;           /* request head limit, bytes */
	uint64_t recv_buffers;         /* provided receive buffers per worker (power of 2) */
	uint64_t sndbuf;               /* SO_SNDBUF of connections, 0: the kernel's autotuning */
	uint64_t backlog;
	const char *json_path;
	bool quiet, live;
	uint64_t early_data;           /* TLS 1.3 max_early_data, bytes; 0: no 0-RTT */
	bool no_anti_replay;           /* --no-anti-replay: tickets reusable for early data */
};

/* Fill defaults, parse argv. Returns 0 to run, 1 when --help was printed
 * (exit 0), or -1 after printing a usage error on stderr (exit 2). */
int config_parse(struct server_config *cfg, int argc, char **argv);
const char *config_mode_name(enum tls_mode m);

/* ---- counters (stats.c) ---------------------------------------------------- */
#define REASONS_MAX 24

struct reason_count {
	char name[40];
	uint64_t n;
};

/* Counts by reason name; written by one worker, read by others for /stats. */
struct reasons {
	pthread_mutex_t lock;
	struct reason_count r[REASONS_MAX];
	unsigned n;
};

enum { ST_200, ST_400, ST_404, ST_405, ST_408, ST_413, ST_414, ST_425, ST_431, ST_500, ST_501,
       ST_503, ST_505, ST_COUNT };

struct worker_stats {
	uint64_t accepted;
	uint64_t handshakes_full, handshakes_resumed, handshake_failures;
	uint64_t requests, bytes_in, bytes_out;
	uint64_t ktls_offloads, ktls_refused, ktls_control;
	uint64_t timeouts_handshake, timeouts_idle, timeouts_request, timeouts_send, timeouts_linger;
	uint64_t accept_paused, conns_over_limit;
	uint64_t recv_nobufs;          /* receives that found no provided buffer (retried) */
	uint64_t close_notify_waits;   /* ktls: close_notify waited for room to be sent */
	uint64_t responses[ST_COUNT];
	/* TLS 1.3 early data (--early-data): ClientHellos whose early data was
	 * accepted, rejected with the session resumed (too old a ticket, ...),
	 * or refused because the ticket was unknown or already used (a replay,
	 * with anti-replay on); its bytes; requests that began in it, and of
	 * those the ones answered before the client's Finished */
	uint64_t early_accepted, early_rejected, early_replays, early_bytes;
	uint64_t early_requests, early_answered_0rtt;
	struct reasons hs_fail, ktls_refusal, conn_errors, accept_errors, closes;
};

/* Relaxed atomics: one writer (the owning worker), readers anywhere. */
#define STAT_ADD(field, v) \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

void reasons_init(struct reasons *r);
void reasons_add(struct reasons *r, const char *name);
int stats_status_index(int status);

/* ---- buffers (pool.c) -------------------------------------------------------- */
struct pool {
	void *free;                    /* singly linked through the first word */
	size_t size;
	unsigned nfree, keep;          /* free blocks now, most kept before free() */
};

void pool_init(struct pool *p, size_t size, unsigned keep);
void *pool_get(struct pool *p);
void pool_put(struct pool *p, void *b);
void pool_destroy(struct pool *p);

/* A byte buffer from a pool: data is p[off, len). */
struct cbuf {
	uint8_t *p;
	struct pool *pool;
	uint32_t off, len, cap;
};

static inline uint32_t cbuf_used(const struct cbuf *b) { return b->len - b->off; }
static inline uint32_t cbuf_room(const struct cbuf *b) { return b->p ? b->cap - b->len : 0; }
/* Take a buffer from pool if b has none; 0 or -ENOMEM. */
int cbuf_ensure(struct cbuf *b, struct pool *pool);
/* Move the data to the front so cbuf_room() is as large as it can be. */
void cbuf_compact(struct cbuf *b);
void cbuf_consume(struct cbuf *b, uint32_t n);
/* Give the buffer back to its pool when it holds no data. */
void cbuf_release_if_empty(struct cbuf *b);
void cbuf_release(struct cbuf *b);

/* ---- connections (conn.c) ------------------------------------------------------ */
struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l) { l->prev = l->next = l; }
static inline bool list_empty(const struct list *l) { return l->next == l; }
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}
static inline void list_add_tail(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

enum conn_state {
	CS_HANDSHAKE,                  /* OpenSSL handshake over the framer */
	CS_SWITCH,                     /* ktls: flushing the last handshake bytes */
	CS_OPEN,                       /* HTTP, record layer in c->mode */
	CS_DRAIN,                      /* write side shut: reading until EOF */
	CS_DEAD,                       /* waiting for in-flight operations */
};

/* conn.early: --early-data connections read with SSL_read_early_data() until
 * OpenSSL says the early data is over (EndOfEarlyData, or none or rejected) */
enum { EARLY_OFF, EARLY_READING, EARLY_DONE };

enum resp_kind { RESP_NONE, RESP_BYTES, RESP_FILE, RESP_OPENING };

struct worker;

struct conn {
	struct worker *w;
	struct list link;              /* in one of the worker's timeout lists */
	uint64_t since_ns;             /* start of the current timeout period */
	int fd;
	uint8_t state;
	uint8_t mode;                  /* record layer: TLS_MODE_USER or _KTLS */
	uint8_t inflight;              /* io_uring operations not completed */
	bool recv_busy, send_busy, file_busy;
	bool wait_out;                 /* ktls: waiting for room to send close_notify */
	bool close_after;              /* close once the current responses are out */
	bool peer_close;               /* ... because the client asked to (Connection: close) */
	bool rd_eof;                   /* peer finished sending (EOF or close_notify) */
	bool tls_eof;                  /* SSL_read() said so too: nothing left to decrypt */
	bool shut_sent;                /* close_notify queued / sent */
	bool want_big;                 /* a large body is on its way: big out buffer */
	bool ktls_refused;
	bool nobufs;                   /* on the worker's retry list (no provided buffer) */
	bool in_request;               /* part of a request has come: on the request deadline */
	/* closing (close.c) */
	bool tx_flush;                 /* ktls: waiting for the kernel to send all it holds */
	bool outq_zero;                /* ... and TCP's send queue was empty at the last sweep */
	bool no_rx;                    /* ktls: RX failed, nothing more can be read */
	uint32_t last_outq;            /* TCP's send queue (SIOCOUTQ) at the last sweep */
	/* the client's KeyUpdates while OpenSSL reads (tls.c): the limits of libktls */
	uint32_t ku_total, ku_in_a_row;
	uint64_t rd_records, rd_records_ku;
	bool ku_over;
	bool tickets_out;              /* TLS 1.3 session tickets were queued after the handshake */
	bool answered;                 /* a request came in after the handshake */
	uint8_t early;                 /* EARLY_*: where the reading of early data is */
	bool early_counted;            /* accepted/rejected/replay counted */
	uint32_t early_left;           /* bytes of c->req that came as early data */
	const char *end;               /* why the connection closes (counted under "closes") */
	SSL *ssl;
	BIO *bio;
	struct ktls_conn *kc;
	struct ktls_framer fr;
	struct cbuf rin;               /* ciphertext for OpenSSL (user mode) */
	struct cbuf req;               /* plaintext request bytes */
	struct cbuf out;               /* bytes to send: ciphertext (user) or plaintext (ktls) */
	uint32_t sending;              /* bytes of out in the send in flight */
	uint64_t discard;              /* request body bytes still to skip */
	struct {
		uint8_t kind;
		uint64_t left;                 /* body bytes not yet handed to the record layer */
		uint64_t off;                  /* pattern offset / file offset */
		int file_fd;
		char *path;                    /* RESP_OPENING: the name being opened */
		bool head_only;                /* RESP_OPENING: a HEAD request */
		struct cbuf fbuf;              /* user mode: file bytes read, not yet encrypted */
		int pipe[2];                   /* ktls mode: file -> pipe -> socket */
		uint32_t in_pipe;              /* bytes spliced into the pipe, not yet out */
		uint8_t splices;               /* splice operations in flight */
	} resp;
	struct msghdr msg;
	struct iovec iov[2];
	struct conn *retry_next;
};

/* ---- workers (worker.c) --------------------------------------------------------- */
struct server;

struct worker {
	struct server *srv;
	unsigned id;
	int cpu;                       /* -1: not pinned */
	pthread_t thread;
	struct io_uring ring;
	bool ring_ok;
	int listen_fd;
	bool accept_armed, accept_paused, stop_seen;
	int parked[16];                /* accepted over --max-conns: started when a slot frees */
	unsigned nparked;
	uint64_t accept_resume_ns, grace_end_ns, next_sweep_ns, now_ns;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned nbufs, buf_size;
	struct list hs_list, req_list, open_list, drain_list;
	struct list flush_list;        /* ktls connections closing: output still in the kernel */
	unsigned nconns;
	struct conn *retry_head;       /* connections waiting for a provided buffer */
	struct pool pool_rin, pool_req, pool_small, pool_big, pool_conn;
	int pipes[64][2];
	unsigned npipes, pipe_size;
	SSL *ssl_pool[256];            /* user mode: SSL objects kept for reuse (SSL_clear) */
	unsigned nssl;
	pid_t tid;
	char scratch[SMALL_BODY + 1024];   /* small responses are built here */
	struct worker_stats st;
	struct cpu_times cpu_used;
	int init_err;
	char init_msg[256];
} __attribute__((aligned(16)));

/* io_uring user_data: a pointer with an operation tag in its low 4 bits
 * (connections come from malloc, workers are 16-byte aligned). */
enum op_tag { OP_ACCEPT, OP_RECV, OP_SEND, OP_SPLICE_IN, OP_SPLICE_OUT, OP_FREAD, OP_IGNORE,
	      OP_WAIT_OUT, OP_OPEN };
#define UD(ptr, tag) ((uint64_t)(uintptr_t)(ptr) | (uint64_t)(tag))
#define UD_PTR(ud) ((void *)(uintptr_t)((ud) & ~15ULL))
#define UD_TAG(ud) ((unsigned)((ud) & 15ULL))

/* A submission slot, submitting the queue first when it is full. */
struct io_uring_sqe *worker_sqe(struct worker *w);
/* Give a provided buffer back to the ring. */
void worker_recycle_buf(struct worker *w, unsigned bid);
void *worker_thread(void *arg);
/* Listening sockets for every worker (called before the threads start). */
int worker_listen_all(struct server *s, char *err, size_t errlen);

/* ---- the server (main.c) ----------------------------------------------------------- */
struct server {
	struct server_config cfg;
	SSL_CTX *ctx;
	int docroot_fd;                /* -1 without --docroot */
	struct worker *workers;
	unsigned nworkers;
	uint16_t port;                 /* the bound port (--port 0 picks one) */
	int stopping;                  /* atomic: 1 once SIGINT/SIGTERM/--duration */
	uint64_t conns_current, conns_max;   /* atomic */
	uint64_t start_ns, stop_ns;
	const char *ktls_unavailable;  /* why no connection can be offloaded, or NULL */
	sem_t ready;                   /* posted by each worker once set up */
};

/* conn.c */
struct conn *conn_new(struct worker *w, int fd);
void conn_on_cqe(struct conn *c, unsigned tag, int res, unsigned flags);
void conn_retry_recv(struct conn *c);
void conn_stop(struct conn *c);         /* server stopping: finish up */
void conn_abort(struct conn *c, const char *why);
void conn_timeout(struct conn *c);
void conn_pump(struct conn *c);
void conn_arm_recv(struct conn *c);
void conn_touch(struct conn *c);
void conn_set_list(struct conn *c, struct list *l);
/* libktls sends control records with a plain sendmsg() on our blocking
 * socket: around those calls it is made non-blocking. */
void conn_nonblock(int fd, bool on);
/* ktls: wait until the socket has room (io_uring poll), then conn_pump(). */
void conn_wait_out(struct conn *c);

/* close.c */
/* Close cleanly: close_notify, then FIN once everything has left (ktls: the
 * kernel may hold records after send() returned), then read until the
 * client's FIN so that nothing is left unread. */
void conn_finish(struct conn *c);
/* Send what is queued (an alert OpenSSL or we wrote, tickets), then FIN,
 * then read what the client still sends until its FIN or LINGER_NS, so the
 * close is never a reset. no_rx: ktls RX failed (nothing can be read: the
 * socket is closed once the output has left). */
void conn_drain(struct conn *c, bool no_rx);
/* A send completed in CS_DRAIN (or nothing was left to send). */
void conn_drain_sent(struct conn *c);
/* CS_DRAIN: a receive returned res (bytes discarded, 0 EOF, -errno). */
void conn_drain_recv(struct conn *c, int res);
/* Bytes no TLS peer sends instead of a ClientHello (hdr: the first bytes,
 * n of them, still unread in the socket): read them, answer with the alert
 * the record header calls for, and close with FIN. */
void conn_not_tls(struct conn *c, const uint8_t *hdr, uint32_t n);
/* Every 50 ms: ktls connections whose output the kernel still holds. */
void conn_flush_sweep(struct worker *w);
/* Record why c closes (the first reason given wins). */
void conn_set_end(struct conn *c, const char *why);

/* tls.c */
int tls_ctx_create(const struct server_config *cfg, SSL_CTX **out, char *err, size_t errlen);
int tls_conn_init(struct conn *c, SSL_CTX *ctx);
/* Run the handshake as far as the bytes in c->rin allow: 1 done, 0 more
 * input needed, -1 failed (the reason is counted). */
int tls_handshake(struct conn *c);
/* EARLY_READING: run the handshake with SSL_read_early_data(), early data
 * going into c->req: 1 the early data is over (c->early is EARLY_DONE,
 * counted), 0 more input needed, -1 failed (counted as tls_handshake). */
int tls_early_read(struct conn *c);
/* ktls mode after the handshake: move the record layer into the kernel.
 * 0: offloaded, or refused and staying in userspace (c->ktls_refused);
 * 1: c->out must be sent first (OpenSSL's answer to a KeyUpdate read with
 *    the client's Finished, or TX waiting for it): call again then;
 * -1: a record read with the Finished was bad: OpenSSL queued its alert in
 *    c->out (counted under conn_errors);
 * -2: the connection must close: --strict refusal (c->ktls_refused), or
 *    a failure after RX went into the kernel. */
int tls_switch_to_ktls(struct conn *c);
/* Decrypt what c->rin holds into c->req: 0, or -1 on a fatal TLS error. */
int tls_read(struct conn *c);
/* Encrypt len bytes into c->out: bytes taken (maybe fewer), 0 when out is full,
 * -1 on a fatal error. */
long tls_write(struct conn *c, const void *buf, size_t len);
/* Plaintext bytes tls_write() can take now without filling c->out. */
size_t tls_write_budget(const struct conn *c);
void tls_conn_free(struct conn *c);
void tls_shutdown(struct conn *c);

/* respond.c */
/* Answer the request at the front of c->req; 0 or -1 (connection to abort). */
int respond_request(struct conn *c);
/* Stage more of the active response body: 1 progress, 0 blocked, -1 fatal. */
int respond_continue(struct conn *c);
/* Account a completed send (res bytes, or a negative error). */
void respond_sent(struct conn *c, int res);
void respond_on_splice(struct conn *c, unsigned tag, int res);
void respond_on_fread(struct conn *c, int res);
void respond_on_open(struct conn *c, int res);
/* A request head did not complete within --request-timeout: stage a 408. */
int respond_timeout(struct conn *c);
void respond_free(struct conn *c);
/* Send what is staged (user: c->out; ktls: c->out then the pattern body). */
void respond_flush(struct conn *c);

/* stats.c */
struct cJSON;
struct cJSON *stats_json(struct server *s, bool final);
void stats_print_summary(struct server *s, FILE *f);
void stats_live_line(struct server *s, FILE *f, uint64_t *prev_hs, uint64_t *prev_req,
		     uint64_t *prev_out, uint64_t *prev_ns);

#endif

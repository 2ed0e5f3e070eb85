/* client/worker.h: a worker thread and its connections (shared by worker.c,
 * conn.c, handshake.c, get.c, rxktls.c). */
#ifndef KTLS_CLIENT_ENGINE_H
#define KTLS_CLIENT_ENGINE_H

#include "client/client.h"
#include "client/http.h"

struct ktls_conn;

enum conn_state {
	CS_IDLE,        /* free slot */
	CS_CONNECTING,  /* TCP connect in progress (ClientHello not out yet) */
	CS_HANDSHAKE,   /* ClientHello sent, handshake running */
	CS_TICKET,      /* TLS 1.3 --resume: waiting for a NewSessionTicket */
	CS_SEND,        /* writing the request */
	CS_RECV,        /* reading the response */
	CS_READY,       /* get --rate: established and idle, waiting for a scheduled request */
};

#define CONN_HDR_MAX 4096

/* conn.early (--early-data) */
enum { EARLY_NONE, EARLY_WANT, EARLY_SENT, EARLY_ACCEPTED, EARLY_REJECTED, EARLY_RETRIED };

struct conn {
	struct worker *w;
	SSL *ssl;                       /* kept across connections (SSL_clear) */
	BIO *bio;                       /* socket BIO, kept too (BIO_NOCLOSE) */
	int fd;
	uint32_t ev;                    /* epoll events registered (0: not yet) */
	enum conn_state st;
	bool established;               /* the TLS handshake completed */
	bool peer_closed;               /* EOF seen: no close_notify to send */
	bool got_ticket;
	bool has_session;
	bool offered;                   /* --resume: this connection offered a session */
	/* sockbio.c */
	bool readable;                  /* a read may find bytes (no EAGAIN since the last epoll edge) */
	bool in_handshake;              /* inside SSL_connect() after the ClientHello */
	bool hold;                      /* writes now are followed at once by more (MSG_MORE) */
	bool held;                      /* bytes wait in the socket for more */
	SSL_SESSION *sess;              /* this slot's session, for --resume */

	uint64_t t_start;               /* job start: scheduled time in open loop */
	uint64_t t_conn;                /* when connect() was called */
	uint64_t t_req;                 /* request start */
	uint64_t deadline;
	struct conn *dl_prev, *dl_next; /* deadline list, ordered */
	bool on_dl;
	struct conn *next_free;

	/* request */
	const struct client_req *req;   /* being sent, or answered */
	struct conn *idle_prev, *idle_next; /* get --rate: the worker's idle connections */
	bool on_idle;
	/* response */
	struct http_resp resp;
	char hdr[CONN_HDR_MAX];
	size_t hdr_len;
	bool in_body;
	bool verify_body;               /* check the body against the pattern */
	uint64_t body_left, body_off;

	/* phases (client/phases.c): times in ns, 0 until reached */
	uint64_t t_tcp, t_sh, t_sfin, t_cfin, t_first;
	unsigned rt;                    /* round trips so far; the TCP connect is the first */
	unsigned rt_end;                /* ... when the job ended (0: not yet) */
	bool rt_wrote;                  /* bytes written since the last bytes read */
	bool hrr;                       /* a HelloRetryRequest came */
	uint8_t early;                  /* EARLY_*: the request as early data */

	/* --rx ktls */
	struct ktls_conn *kc;
	unsigned char *rx_data;         /* plaintext OpenSSL held when RX moved */
	size_t rx_len, rx_off;
};

struct worker {
	unsigned id;
	pthread_t tid;
	int cpu;                        /* -1: not pinned */
	struct run *run;
	const struct client_cfg *cfg;
	const struct conn_mode *mode;   /* handshake_mode or get_mode */
	SSL_CTX *ctx;
	int epfd;

	struct conn *conns;
	unsigned nconns;                /* slots */
	struct conn *free_list;
	unsigned inflight;
	unsigned target;                /* closed loop: connections to keep in flight */
	struct conn *dl_head, *dl_tail;

	/* open loop */
	uint64_t interval_ns;           /* 0: closed loop */
	uint64_t next_sched;
	uint64_t sched_end;
	struct conn *idle_head, *idle_tail; /* get --rate: established connections with no request */

	unsigned next_req;              /* the next of cfg->reqs to send */
	unsigned next_bind;             /* the next of cfg->binds to use */
	uint64_t *bind_used;            /* per --bind address: connections opened from it */
	uint64_t *bind_exhausted;       /* per --bind address: times it had no ephemeral port left */

	/* --hdr-log (hdrlog.c) */
	struct hist *ivl;               /* latencies of the current second */
	uint64_t ivl_sec;               /* which second of the measured window ivl holds */
	uint64_t ivl_done;              /* atomic: every second before this one is handed over */
	uint8_t *rbuf;                  /* response body bytes land here, then are checked */
	size_t rbuf_len;

	uint64_t t_seen;                /* when the batch of events being processed was seen (0: none) */
	bool measuring;                 /* now >= t_measure */
	bool ending;                    /* no new jobs */
	struct client_stats st;
	struct tl_slot *tl;             /* run->nslots seconds */

};

/* worker.c */
uint64_t now_ns(void);
void worker_deadline_set(struct worker *w, struct conn *c, uint64_t deadline);
void worker_deadline_clear(struct worker *w, struct conn *c);
/* Claim one job against --handshakes/--requests: false when none is left. */
bool worker_claim(struct worker *w);
/* t as the window sees it: a time inside a batch of events is the time
 * the batch was seen. */
uint64_t worker_window_time(const struct worker *w, uint64_t t);
/* Is t inside the measured window (after the warmup, before the end)? */
bool worker_in_window(const struct worker *w, uint64_t t);
void worker_record_error(struct worker *w, enum err_kind k, int alert);
void worker_record_http(struct worker *w, int status);
/* Account a finished job at time t (request: it was an HTTP request). */
void worker_record_job(struct worker *w, uint64_t t, uint64_t latency_ns, bool request);
void worker_record_handshake(struct worker *w, uint64_t t, uint64_t latency_ns, bool resumed);
void worker_record_bytes(struct worker *w, uint64_t t, uint64_t n);

/* conn.c */
/* Open a new connection on free slot c (job start time t_start). Never recurses
 * into another start: on failure the slot is back on the free list. */
void conn_start(struct conn *c, uint64_t t_start);
/* Drive the connection after an epoll event (or right after a state change). */
void conn_step(struct conn *c);
/* Count kind (unless 0 > kind) and close; the slot returns to the free list. */
void conn_fail(struct conn *c, enum err_kind kind, int alert);
/* Close normally (close_notify first). */
void conn_finish(struct conn *c);
/* Close without counting anything (run ended). */
void conn_abandon(struct conn *c);
/* Make sure the socket is in the epoll set for EPOLLIN (and EPOLLOUT when
 * write is set). 0, or -1 after conn_fail(). */
int conn_watch(struct conn *c, bool write);
/* Start sending the next request on an established connection. */
void conn_send_request(struct conn *c);
/* c->req (from c->t_req): send it (send) or, sent as early data and
 * accepted, read its response. */
void conn_expect_response(struct conn *c, bool send);
/* Called once the full response was read (status and body checked). */
void conn_response_done(struct conn *c);
/* Read application data: SSL_read or ktls_recv. >0 bytes, 0 would block,
 * CONN_EOF when the server closed (close_notify or TCP EOF: the caller decides
 * whether that was expected), -1 after conn_fail() was called. */
#define CONN_EOF (-2)
ssize_t conn_read(struct conn *c, void *buf, size_t len);

/* What a mode does with a connection (handshake.c, get.c): conn.c calls
 * through the worker's table instead of asking which mode runs. */
struct conn_mode {
	void (*established)(struct conn *c);   /* the TLS handshake completed */
	void (*response_done)(struct conn *c); /* a whole response was read */
	/* requests follow the handshake on this connection (so TCP_NODELAY) */
	bool (*sends_requests)(const struct client_cfg *cfg);
	/* a TLS 1.3 connection waits for the server's tickets after its last
	 * flight before it closes */
	bool (*waits_for_tickets)(const struct client_cfg *cfg);
};
extern const struct conn_mode handshake_mode, get_mode;

/* handshake.c / get.c: what happens once the handshake completed, and after
 * each response. */
void handshake_established(struct conn *c);
void handshake_response(struct conn *c);
/* 1: the state changed, step again; 0: wait for the next event. */
int handshake_ticket_wait(struct conn *c);
/* --resume: the connection got no session to resume (why: what the server
 * did, "sent no TLS 1.3 session ticket within --timeout ..."). Counted as
 * no_ticket; when no session came in the whole run, the run stops: nothing
 * to resume. */
void handshake_no_ticket(struct conn *c, const char *why);
void get_established(struct conn *c);
void get_response(struct conn *c);
/* get --rate: start the requests that are due on idle connections. */
void get_dispatch(struct worker *w, uint64_t now);
/* get --rate: a ready connection saw an event (the server closed it, or sent
 * something unasked). 0: wait. */
int get_idle_event(struct conn *c);
/* Take c off the idle list (it is closing). */
void get_idle_remove(struct conn *c);

/* phases.c: the times of a connection's phases and its round trips. */
void phases_ctx_prepare(SSL_CTX *ctx, bool ktls);
void phases_start(struct conn *c);
/* sockbio.c calls these for every write and read of the socket. */
void phases_wrote(struct conn *c, uint64_t t);
void phases_read(struct conn *c, ssize_t n);
/* The job ended at t (the response's last byte, or the handshake's end
 * without a request): its phases go into the worker's histograms. */
void phases_record(struct conn *c, uint64_t t);

/* bind.c: a non-blocking socket connecting to the server from the next
 * --bind address (the next one again when an address has no port left).
 * fd, or -errno. */
int bind_connect(struct conn *c, bool nodelay);

/* hdrlog.c: the worker's side of --hdr-log. */
int hdrlog_worker_init(struct worker *w);
void hdrlog_worker_free(struct worker *w);
/* Record latency v of a job that ended at t (inside the measured window). */
void hdrlog_worker_record(struct worker *w, uint64_t t, uint64_t v);
/* Hand over the seconds that ended before now (now: the end when the worker stops). */
void hdrlog_worker_tick(struct worker *w, uint64_t now, bool last);

/* conn.c: the handshake flight being written is the client's last and
 * something is written right after it (request, close_notify). */
bool conn_flight_is_last(const struct conn *c);

/* sockbio.c: the connection's socket BIO (see there). */
BIO *sockbio_new(struct conn *c);
/* Before reuse on a new socket. */
void sockbio_reset(BIO *b);
/* Send what MSG_MORE held back (before waiting for the server). */
void sockbio_push(struct conn *c);

/* rxktls.c: move RX into the kernel. 0, or <0 after conn_fail() / engine_fatal(). */
int rxktls_enable(struct conn *c);
ssize_t rxktls_read(struct conn *c, void *buf, size_t len);
void rxktls_release(struct conn *c);

#endif

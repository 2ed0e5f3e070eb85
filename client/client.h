/* client/client.h: ktls-client, the load generator (handshakes, keep-alive GETs, trace).
 *
 * Layout of client/:
 *   main.c       subcommand dispatch
 *   cli.c        command line -> struct client_cfg
 *   tls.c        the SSL_CTX of a worker, error classification, session store
 *   worker.c     worker threads, the epoll loop, scheduling, timeouts
 *   conn.c       the connection state machine (connect, handshake, request, response)
 *   handshake.c  what a handshake-mode connection does once established
 *   get.c        what a get-mode connection does between requests
 *   http.c       request formatting and response-head parsing (pure)
 *   url.c        https://host:port/path targets
 *   request.c    the requests of a run (method, paths, headers, body), formatted once
 *   bind.c       source addresses (--bind) and what ran out on each
 *   hdrlog.c     the HdrHistogram interval log (--hdr-log)
 *   rxktls.c     client-side kTLS RX through libktls
 *   phases.c     the phases of each connection and its round trips
 *   stats.c      counters, error kinds, timeline, merging
 *   report.c     human summary, progress line, JSON
 *   trace.c      one connection explained step by step (trace --resume: two)
 *   trace_bio.c  the trace's socket BIO: every read and write, with arrival times
 *   trace_hello.c  what a ClientHello offers, what a ServerHello or HRR answers
 *   trace_split.c  record times, and the handshake's time: network, server, client
 *   trace_out.c  the printed trace; trace_cmp.c full and resumed side by side
 *   trace_json.c the trace as JSON
 *   verdict.c    the exit status of a finished run, and why
 *   fleet.c      a fleet of client processes: shares, merging, per-rank report
 *   mpi/         ktls-client-mpi: the same client under mpirun (MPI calls only)
 */
#ifndef KTLS_CLIENT_CLIENT_H
#define KTLS_CLIENT_CLIENT_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "common/hist.h"
#include "common/tlsopts.h"

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL

enum client_mode { MODE_HANDSHAKE, MODE_GET, MODE_TRACE };
enum client_rx { RX_USER, RX_KTLS };

struct run;

/* A fleet of client processes run together by mpirun (ktls-client-mpi,
 * client/mpi/): what the engine asks of it. A lone ktls-client has none
 * (cfg->fleet is NULL) and runs exactly as without it. */
struct fleet {
	unsigned rank, size;            /* this process, and how many run together */
	/* Called once by engine_run(), every worker ready, right before the
	 * clock starts: every rank returns from it together (a barrier), then
	 * starts its warm-up. False when the run must not start (a rank
	 * failed to get ready): engine_run() then returns 1 without running. */
	bool (*gate)(struct fleet *f, struct run *run);
	/* Every latency that goes into the latency histogram, by worker, with
	 * the job's start (scheduled start in open loop) after the run's t0
	 * (--raw-samples: a check of the merged percentiles and of the
	 * schedules). NULL: none. */
	void (*sample)(struct fleet *f, unsigned worker, uint64_t start_ns, uint64_t latency_ns);
	void *priv;
};

#define CLIENT_MAX_HEADERS 32

/* One request as it goes on the wire (request.c). */
struct client_req {
	char *text;                     /* head, then body */
	size_t len;
	const char *path;
	int64_t want;                   /* GET /bytes/N: N (the body is checked); else -1 */
};

struct client_cfg {
	enum client_mode mode;
	const char *host;
	uint16_t port;
	struct sockaddr_storage addr;   /* resolved --host/--port */
	socklen_t addrlen;
	const char *sni;                /* NULL: host when it is a name, none for an IP */
	bool host_is_ip;

	unsigned threads;
	cpu_set_t cpus;
	bool have_cpus;

	uint64_t duration_ns, warmup_ns, timeout_ns;
	uint64_t connections;           /* closed loop: in flight (all threads) */
	uint64_t rate;                  /* open loop: handshakes/s or requests/s (0: closed loop) */
	uint64_t max_inflight;          /* handshake open loop: cap on connections in flight */
	uint64_t count;                 /* --handshakes / --requests; 0: until the duration */

	bool resume, no_tickets;
	bool early_data;                /* --early-data: a resumed connection's request as 0-RTT data */
	const char *request_path;       /* the first of paths[] (NULL: no request) */
	uint64_t size;                  /* get --size */
	bool verify_pattern;            /* a request is GET /bytes/N: its body is checked */
	const char *url;                /* the URL argument, or NULL */
	const char *method;             /* --method (default GET) */
	bool head_method;               /* HEAD: responses have no body */
	const char *headers[CLIENT_MAX_HEADERS]; /* -H, in order */
	unsigned nheaders;
	const char *body_file;          /* --body */
	unsigned char *body;
	size_t body_len;
	char **paths;                   /* --path/--request (repeated), --paths FILE */
	unsigned npaths;
	struct client_req *reqs;        /* one per path, sent in turn */
	unsigned nreqs;

	struct sockaddr_storage *binds; /* --bind: source addresses, used in turn */
	unsigned nbinds;
	enum client_rx rx;
	bool trace_ktls;

	struct tlsopts tls;
	const char *verify_ca;          /* NULL: certificate verification off */

	bool stock_openssl;             /* --stock-openssl: none of osslshim/ */
	const char *propq;              /* property query of the SSL_CTX (osslshim/kdf.c), or NULL */

	const char *json_path;          /* NULL, "-" (stdout) or a file */
	const char *hdr_log_path;       /* --hdr-log: HdrHistogram interval log, or NULL */
	bool quiet;
	bool progress;                  /* --progress: a line a second even when stderr is no terminal */

	/* A fleet (client/mpi/): the open-loop schedule interleaves the threads
	 * of every rank (rate is the fleet's total); NULL alone. */
	struct fleet *fleet;
};

/* cli.c: parse argv (argv[0] is the subcommand). 0, or 2 after printing a
 * usage error; 1 when --help was printed (exit 0). */
int cli_parse(struct client_cfg *cfg, int argc, char **argv);
void cli_usage(FILE *f);
/* Release what cli_parse() allocated. */
void cli_free(struct client_cfg *cfg);

/* request.c: building the requests (see there). 0, or -1 with a sentence in err. */
int request_add_path(struct client_cfg *cfg, const char *path, char *err, size_t errlen);
int request_read_paths(struct client_cfg *cfg, const char *file, char *err, size_t errlen);
int request_read_body(struct client_cfg *cfg, const char *file, char *err, size_t errlen);
/* Format cfg->reqs from the paths, method, headers and body; host_hdr is the
 * Host header unless -H gives one. */
int request_build(struct client_cfg *cfg, const char *host_hdr, char *err, size_t errlen);
void request_free(struct client_cfg *cfg);
const char *mode_name(enum client_mode m);

/* --- error kinds (stats.c) ------------------------------------------------- */
enum err_kind {
	ERR_CONNECT_REFUSED,
	ERR_CONNECT,
	ERR_ADDRNOTAVAIL,
	ERR_FD_LIMIT,
	ERR_TIMEOUT_CONNECT,
	ERR_TIMEOUT_HANDSHAKE,
	ERR_TIMEOUT_REQUEST,
	ERR_RESET,
	ERR_EOF,
	ERR_IO,
	ERR_TLS,
	ERR_CERT_VERIFY,
	ERR_HTTP_BAD,
	ERR_HTTP_UNSUPPORTED,
	ERR_PATTERN,
	ERR_KTLS,
	ERR_SCHEDULE_MISSED,
	ERR_NO_TICKET,        /* --resume, TLS 1.3: no NewSessionTicket within --timeout */
	ERR__COUNT
};
const char *err_kind_name(enum err_kind k);

#define HTTP_STATUS_MAX 600

/* One second of the run, written by one worker, read by the progress line. */
struct tl_slot {
	uint64_t handshakes, resumed, requests, bytes, errors;
	uint64_t lat_sum_ns, lat_n, lat_max_ns;
};

/* The phases of a connection, each from its connect() call (as curl's
 * time_connect, time_appconnect, time_starttransfer, time_total):
 * TCP connected (the ClientHello could be written), ServerHello received,
 * the server's Finished received, the client's Finished written (the
 * handshake done, from the client's side), the response's first byte, its
 * last byte. */
enum phase { PH_CONNECT, PH_SERVER_HELLO, PH_SERVER_FINISHED, PH_HANDSHAKE, PH_TTFB, PH_TOTAL,
	     PH__COUNT };
const char *phase_name(enum phase p);
#define RT_MAX 15

/* What a worker (or the whole run, once merged) counted in the measured window. */
struct client_stats {
	uint64_t handshakes, resumed, requests, bytes;
	uint64_t offered;               /* --resume: handshakes that offered a session */
	uint64_t connections;           /* TCP connections opened */
	uint64_t unfinished;            /* in flight when the run ended (not errors) */
	uint64_t unfinished_max_age_ns; /* how long the oldest of them had been going */
	uint64_t late_starts;           /* open loop: started > 1 ms after schedule */
	uint64_t max_start_lag_ns;
	uint64_t err[ERR__COUNT];
	uint64_t alert[256];            /* fatal alerts received, by description */
	uint64_t http[HTTP_STATUS_MAX]; /* non-200 statuses */
	struct hist lat;                /* per job: handshake mode per connection, get per request */
	struct hist hs_lat;             /* connect + handshake, every mode */
	/* --early-data: requests sent as early data, and what the server made
	 * of them (its EncryptedExtensions: accepted or not; its answer: 425);
	 * resumed connections whose ticket allowed no early data (or too little) */
	uint64_t early_sent, early_accepted, early_rejected, early_too_early, early_not_allowed;
	/* the phases of each connection, from its connect() (client/phases.c) */
	struct hist ph[PH__COUNT];
	uint64_t round_trips[RT_MAX + 1]; /* connections by round trips to the end (RT_MAX: more) */
	uint64_t hello_retries;         /* HelloRetryRequests received */
};

void stats_init(struct client_stats *s);
void stats_merge(struct client_stats *dst, const struct client_stats *src);
uint64_t stats_errors(const struct client_stats *s);
/* Visit every non-zero error kind by name ("connect_refused", "alert_handshake_failure",
 * "http_404"). */
void stats_each_error(const struct client_stats *s,
		      void (*fn)(const char *name, uint64_t n, void *arg), void *arg);

/* --- the run (worker.c) ----------------------------------------------------- */
struct worker;

/* The first full handshake's parameters, for the report. */
struct negotiated {
	bool set;
	char version[16], cipher[64], group[48], sigalg[64], cert_key[96];
};

struct hdrlog;

struct run {
	const struct client_cfg *cfg;
	uint64_t t0, t_measure, t_end;  /* CLOCK_MONOTONIC ns */
	uint64_t claimed;               /* jobs handed out against cfg->count (atomic) */
	int stop;                       /* atomic: end now (signal, fatal error) */
	int tickets_seen;               /* atomic: a session ticket (or TLS 1.2 session) arrived */
	int workers_done;               /* atomic */
	unsigned nslots;                /* seconds in the timeline */
	struct worker **workers;
	pthread_mutex_t lock;           /* fatal, negotiated */
	pthread_cond_t done_cond;
	char fatal[512];                /* a configuration problem that stopped the run */
	struct negotiated neg;
	struct hdrlog *hdr;             /* --hdr-log, or NULL */
	/* filled by engine_run() at the end */
	uint64_t *bind_used, *bind_exhausted; /* per --bind address, all workers */
	struct client_stats total;
	double wall_s;                  /* measured window */
	double cpu_user_s, cpu_sys_s;
	uint64_t t_stopped;
	bool ended_by_count;
	/* a fleet's merged run (fleet.c): the summed timeline, nslots long;
	 * NULL: the workers' own */
	const struct tl_slot *tl_merged;
};

/* Run handshake or get mode to the end (hdr: --hdr-log opened, or NULL; the
 * run owns it from here). 0, or 1 when the run could not start
 * or hit a fatal configuration error (run->fatal says which). */
int engine_run(struct run *run, const struct client_cfg *cfg, struct hdrlog *hdr);
void engine_free(struct run *run);
/* The merged timeline slot i (0 <= i < run->nslots). */
void engine_timeline(const struct run *run, unsigned i, struct tl_slot *out);
void engine_fatal(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- --bind (bind.c) ------------------------------------------------------- */
/* Parse a list of addresses and IPv4 ranges into *out (*n of them). 0, or -1
 * with a sentence in err. */
int bind_parse(const char *s, struct sockaddr_storage **out, unsigned *n, char *err, size_t errlen);
/* After resolving: same family as the server, each address local. */
int bind_check(const struct client_cfg *cfg, char *err, size_t errlen);
const char *bind_addr_text(const struct sockaddr_storage *a, char *buf, size_t len);

/* --- --hdr-log (hdrlog.c) ------------------------------------------------------ */
/* Open path ('-': stdout) before the run. NULL with a sentence in err. */
struct hdrlog *hdrlog_open(const char *path, char *err, size_t errlen);
/* Write the header: the measured window starts at t_measure (CLOCK_MONOTONIC),
 * what says what the values are. */
void hdrlog_start(struct hdrlog *l, uint64_t t_measure, const char *what);
/* Write every interval all workers have handed over (the main thread). */
void hdrlog_poll(struct run *run);
/* Write the rest (the run ended at t_end) and close. 0 or -errno. */
int hdrlog_close(struct run *run, uint64_t t_end);
/* Close without writing more (the run never started). */
void hdrlog_discard(struct hdrlog *l);
/* The V2 compressed encoding of h in base64 (HdrHistogram's
 * encodeIntoCompressedByteBuffer, 2 significant digits, values in the unit
 * recorded), NUL-terminated, malloc()ed; NULL when out of memory. */
char *hdrlog_encode(const struct hist *h);

/* --- TLS (tls.c) ------------------------------------------------------------ */
/* A worker's client context: options, verification, session cache, keylog,
 * and libktls preparation for --rx ktls. NULL with a sentence in err. */
SSL_CTX *tls_ctx_new(const struct client_cfg *cfg, bool for_ktls, char *err, size_t errlen);
/* Classify a failed SSL call (after SSL_get_error() said SSL_ERROR_SSL or
 * SSL_ERROR_SYSCALL). Clears the thread's error queue. *alert is set to the
 * alert description when the peer sent a fatal alert (and ERR_TLS returned). */
enum err_kind tls_classify(int ssl_err, int saved_errno, int *alert);
/* The peer's fatal alert description for a reason code, or -1. */
void tls_describe(SSL *ssl, struct negotiated *n);
const char *tls_alert_short(int desc, char *buf, size_t len);

/* --- report (report.c) -------------------------------------------------------- */
/* The client counts as saturated when its threads were busy this much of the
 * measured wall time: its own CPU, not the server, may have set the pace. */
#define CLIENT_SATURATED 0.90

void report_progress(const struct run *run, unsigned sec, uint64_t inflight);
void report_human(const struct run *run, FILE *f);
/* Write the JSON into out (opened before the run): 0, or -errno. */
struct outfile;
int report_json(const struct run *run, struct outfile *out);
/* The JSON document itself (NULL: out of memory), and its text with a
 * final newline written into out (0, or -errno). */
struct cJSON;
struct cJSON *report_json_doc(const struct run *run);
int report_json_write(struct cJSON *doc, struct outfile *out);
/* {"p50", "p90", "p99", "p999", "max", "mean" (µs), "count"} of h */
struct cJSON *report_lat_json(const struct hist *h);

/* --- the exit status of a finished run (verdict.c) --------------------------- */
/* rc is engine_run()'s: 0, or 1 with a sentence on f (stderr) for each
 * reason the run counts as failed (nothing succeeded, wrong bytes, --resume
 * that resumed nothing, a fatal error). */
int client_verdict(const struct run *run, int rc, FILE *f);

/* --- trace (trace.c) -----------------------------------------------------------*/
int trace_run(const struct client_cfg *cfg);

#endif

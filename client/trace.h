/* client/trace.h: what `ktls-client trace` records about one connection
 * (trace.c collects it, trace_out.c explains it). */
#ifndef KTLS_CLIENT_TRACE_H
#define KTLS_CLIENT_TRACE_H

#include "client/client.h"
#include "common/outfile.h"

#define TR_MAX 512

enum { TR_S2C = 0, TR_C2S = 1 };

/* One TLS record as OpenSSL saw its header. */
struct tr_record {
	uint64_t t_ns;                  /* since the start of the trace */
	int dir;
	unsigned no;                    /* 1, 2, ... per direction */
	int type;                       /* outer content type (20..23) */
	int inner;                      /* TLS 1.3 inner content type, or -1 */
	size_t len;                     /* record payload length (header not counted) */
	bool via_kernel;                /* counted by kTLS, not seen by OpenSSL */
	uint64_t t_arrive;              /* received: when its last byte reached this machine; sent:
					 * when the write() with its last byte returned; 0: unknown */
};

/* One message: a handshake message, a ChangeCipherSpec, an alert, or
 * application data. */
struct tr_msg {
	uint64_t t_ns;
	int dir;
	int rec;                        /* index into records, -1 if unknown */
	int ctype;                      /* 20, 21, 22, 23 */
	int hs_type;                    /* handshake type, or the alert description */
	int level;                      /* alert level */
	size_t len;                     /* message size (handshake: 4-byte header included) */
	bool hrr;                       /* a ServerHello that is a HelloRetryRequest */
	bool via_kernel;                /* arrived through kTLS (libktls handshake callback) */
	bool early;                     /* application data sent as early data (0-RTT) */
};

struct tr_wire {
	uint64_t t_ns;                  /* when the read() or write() returned */
	uint64_t t_call;                /* when it was called */
	uint64_t t_arrive;              /* a read: when the kernel received its last packet, 0: unknown */
	int dir;
	size_t bytes;                   /* one read() or write() on the socket */
};

#define TR_HELLO_MAX 128
#define TR_SHARES_MAX 8

/* What a ClientHello offered (trace_hello.c). */
struct tr_hello {
	bool set;
	unsigned legacy_version;
	size_t session_id_len;
	unsigned nsuites, ngroups, nsigalgs, nversions, nshares, nexts;
	uint16_t suites[TR_HELLO_MAX], groups[TR_HELLO_MAX], sigalgs[TR_HELLO_MAX];
	uint16_t versions[TR_HELLO_MAX], exts[TR_HELLO_MAX];
	const SSL_CIPHER *suite_c[TR_HELLO_MAX]; /* OpenSSL's own names, NULL when unknown */
	uint16_t shares[TR_SHARES_MAX];
	size_t share_len[TR_SHARES_MAX];
	char sni[256];
	char alpn[256];                 /* comma-separated, "" when none */
	bool psk, ticket12, early_data; /* a TLS 1.3 ticket, a TLS 1.2 ticket, early data */
};

/* What a ServerHello (or HelloRetryRequest) answered. */
struct tr_server_hello {
	bool set;
	unsigned suite;
	int group;                      /* key_share: chosen (HRR: wanted) group, -1: none */
	bool psk;                       /* pre_shared_key: the offered session accepted */
	bool cookie;                    /* HRR cookie */
};

/* Where the handshake's time went (trace_split.c). */
struct tr_split {
	bool set;
	uint64_t total_ns;              /* connect() to the handshake's end */
	uint64_t rtt_ns;                /* one round trip: the TCP connect */
	unsigned round_trips;           /* the TCP connect and each wait for the server's answer */
	uint64_t network_ns, server_ns, client_ns;
	uint64_t wait_ns;               /* blocked for the server, in all */
	uint64_t flight_tail_ns;        /* waits for the rest of a flight that had begun to arrive */
};

struct trace {
	const struct client_cfg *cfg;
	const char *title;              /* "full handshake", "resumed" (trace --resume), or NULL */
	uint64_t t0;
	int64_t rt_offset_ns;           /* CLOCK_REALTIME - CLOCK_MONOTONIC (receive timestamps) */
	bool stamps;                    /* received bytes carry the kernel's arrival time */
	unsigned stamps_missing;        /* reads that came without one */
	uint64_t tcp_ns;                /* connect() took this long */
	uint64_t hs_done_ns;            /* SSL_connect() returned 1 */
	struct tr_record rec[TR_MAX];
	unsigned nrec;
	unsigned rec_no[2];
	struct tr_msg msg[TR_MAX];
	unsigned nmsg;
	struct tr_wire wire[TR_MAX];
	unsigned nwire;
	uint64_t wire_bytes[2], wire_calls[2];
	/* TCP_INFO at the end of the handshake and at the end */
	bool have_tcpi;
	uint64_t segs_out_hs, segs_in_hs, segs_out, segs_in;

	struct tr_hello hello[2];       /* the ClientHello, and the second after a HelloRetryRequest */
	unsigned nhello;
	struct tr_server_hello hrr, sh; /* HelloRetryRequest, ServerHello */
	struct tr_split split;
	bool offered_session;           /* a session was offered (trace --resume) */

	/* after the handshake, without a request: waiting for what the server sends */
	bool lingered;
	uint64_t linger_start_ns, linger_end_ns, linger_last_ns, linger_quiet_ns;
	unsigned linger_tickets;

	struct negotiated neg;
	bool resumed;
	char subject[256], issuer[256], not_after[64], san[256];
	int chain_len;
	long verify_result;             /* with --verify */

	/* --early-data: the request went with the ClientHello; what the
	 * server's EncryptedExtensions said of it (SSL_EARLY_DATA_*) */
	bool early_sent;
	int early_status;
	size_t early_max;               /* the ticket's max_early_data */

	/* the request */
	bool req_done;
	int status;
	uint64_t body_bytes;
	uint64_t req_start_ns, req_end_ns;
	char req_err[256];              /* what went wrong, if anything */
	bool pattern_checked, pattern_ok;

	/* kTLS */
	bool ktls_tried, ktls_on;
	uint64_t ktls_ns;
	uint64_t tx_seq, rx_seq;
	char ktls_cipher[32];
	char ktls_err[512];
	uint64_t ktls_tickets;
};

/* trace_bio.c: a socket BIO that records each read and write, reads with
 * their arrival time (SO_TIMESTAMPNS). */
BIO *trace_bio_new(struct trace *tr, int fd);
void trace_bio_free_method(void);
void trace_clock_offset(struct trace *tr);
int trace_stamps_on(void);

/* trace_hello.c */
void trace_parse_client_hello(struct tr_hello *h, const uint8_t *msg, size_t len);
void trace_parse_server_hello(struct tr_server_hello *s, const uint8_t *msg, size_t len);
const char *trace_group_name(unsigned g);      /* NULL when unknown */
const char *trace_sigalg_name(unsigned s);
const char *trace_version_name(unsigned v);
char *trace_code_name(const char *name, unsigned v, char *buf, size_t len); /* name or 0x.... */

/* trace_split.c: arrival times of received records, and the split of the
 * handshake's time (after the connection; fills rec[].t_arrive and split). */
void trace_analyse(struct trace *tr);
/* The time a message is shown at: its bytes' arrival for received ones when
 * known, else when OpenSSL handed it over. */
uint64_t trace_msg_time(const struct trace *tr, const struct tr_msg *m);

/* trace_out.c */
const char *tr_hs_name(int type, bool hrr);
const char *trace_msg_name(const struct tr_msg *m);
const char *trace_ctype_name(int t);
/* Flights: runs of records in one direction (messages sent back to back). */
struct tr_flight_info {
	int dir;
	unsigned first_rec, nrec;
	size_t wire;                    /* record headers + payloads */
};
unsigned trace_flights(const struct trace *tr, struct tr_flight_info *out, unsigned max);
void trace_flight_messages(const struct trace *tr, const struct tr_flight_info *f, char *buf, size_t len);
void trace_print(const struct trace *tr, FILE *f);
/* The round trip each message belongs to (rt[i] for msg[i], nmsg of them):
 * the TCP connect is the first; a client message that follows bytes from
 * the server (or starts the conversation) opens the next, and what the
 * server sends belongs to the round trip open when its bytes arrived. */
void trace_round_trips(const struct trace *tr, unsigned *rt);
/* Print text wrapped at 100 columns: the first line after `first` columns
 * already used, the next ones indented by `indent`. */
void trace_wrap(FILE *f, unsigned first, unsigned indent, const char *text);
/* trace --resume: the two handshakes side by side. */
void trace_print_compare(const struct trace *full, const struct trace *res, FILE *f);

/* trace_json.c: write the JSON into out (opened before the connection):
 * one trace, or with --resume both. 0 or -errno. */
int trace_json(const struct trace *tr, const struct trace *resumed, struct outfile *out);

#endif

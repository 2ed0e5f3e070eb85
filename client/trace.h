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
};

struct tr_wire {
	uint64_t t_ns;
	int dir;
	size_t bytes;                   /* one read() or write() on the socket */
};

struct trace {
	const struct client_cfg *cfg;
	uint64_t t0;
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

	struct negotiated neg;
	bool resumed;
	char subject[256], issuer[256], not_after[64], san[256];
	int chain_len;
	long verify_result;             /* with --verify */

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

/* trace_out.c */
const char *tr_hs_name(int type, bool hrr);
void trace_print(const struct trace *tr, FILE *f);
/* Write the JSON into out (opened before the connection): 0 or -errno. */
int trace_json(const struct trace *tr, struct outfile *out);

#endif

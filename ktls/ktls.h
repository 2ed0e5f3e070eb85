/* ktls/ktls.h: libktls, move an OpenSSL TLS session's record layer into Linux kTLS.
 *
 * After OpenSSL (3.0) completes a handshake, ktls_enable() derives the key,
 * IV, salt and record sequence number of each direction and installs them
 * with setsockopt(TCP_ULP "tls") and setsockopt(SOL_TLS, TLS_TX / TLS_RX).
 * From then on the kernel encrypts what the program send()s and decrypts what
 * it recv()s; the SSL object can be freed.
 *
 *     SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
 *     ktls_ctx_prepare(ctx);                 // before any SSL_new()
 *     ... SSL_connect(ssl) on socket fd ...
 *     struct ktls_conn *c; struct ktls_report rep;
 *     int rc = ktls_enable(ssl, fd, KTLS_TX | KTLS_RX, &c, &rep);
 *     if (rc < 0) fprintf(stderr, "kTLS: %s\n", ktls_strerror(rc));
 *     SSL_free(ssl);
 *     // rep.rx_data holds plaintext OpenSSL had already decrypted: use it first.
 *     send(fd, "GET / HTTP/1.1\r\n\r\n", 18, 0);
 *     n = ktls_recv(c, buf, sizeof buf, 0);  // handles alerts, tickets, KeyUpdate
 *     ktls_close(c);                         // close_notify
 *     ktls_conn_free(c);                     // wipes secrets; does not close fd
 *
 * Conventions (as liburing): every call returns 0 (or a count) on success and
 * a negative code on failure: either -errno for a system error or one of the
 * KTLS_E_* codes below. errno is never the channel. ktls_strerror() turns any
 * of them into a sentence naming the cause and the fix.
 *
 * Secrets: the traffic secrets are captured from OpenSSL's keylog callback
 * (TLS 1.3) or the session's master secret (TLS 1.2), expanded with OpenSSL's
 * own KDFs (TLS13-KDF, TLS1-PRF), and wiped with OPENSSL_cleanse as soon as
 * they are no longer needed. libktls never prints them. A keylog callback the
 * program set before ktls_ctx_prepare() (for SSLKEYLOGFILE) keeps being called.
 */
#ifndef KTLS_KTLS_H
#define KTLS_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- errors ----------------------------------------------------------------
 * Library codes live below -4096 so they never collide with -errno. */
enum ktls_error {
	KTLS_E_NO_ULP = -4097,         /* kernel has no "tls" ULP (CONFIG_TLS / modprobe tls) */
	KTLS_E_VERSION,                /* negotiated version is not TLS 1.2 or 1.3 */
	KTLS_E_CIPHER_UNSUPPORTED,     /* negotiated cipher has no kTLS form (CBC, ...) */
	KTLS_E_KERNEL_CIPHER,          /* the kernel refused this cipher (too old, module missing) */
	KTLS_E_HANDSHAKE_INCOMPLETE,   /* SSL_is_init_finished() is false */
	KTLS_E_NO_SECRETS,             /* ktls_ctx_prepare() was not called before the handshake */
	KTLS_E_PARTIAL_RECORD,         /* part of a record was already read: RX impossible */
	KTLS_E_UNSENT_DATA,            /* the SSL still holds output not yet on the socket */
	KTLS_E_COMPRESSION,            /* TLS compression is on */
	KTLS_E_RENEGOTIATION,          /* a renegotiation is pending or happened */
	KTLS_E_USERSPACE_KEY_UPDATE,   /* OpenSSL has a KeyUpdate queued but not sent */
	KTLS_E_ALREADY,                /* that direction is already in the kernel */
	KTLS_E_NOT_SOCKET,             /* fd is not a connected TCP socket */
	KTLS_E_REKEY_UNSUPPORTED,      /* peer sent KeyUpdate; kernel cannot rekey (needs 6.14+) */
	KTLS_E_KEY_UPDATE_LIMIT,       /* peer sent more KeyUpdates than allowed (see below) */
	KTLS_E_ALERT,                  /* peer sent a fatal alert: see ktls_conn_alert() */
	KTLS_E_BAD_RECORD,             /* unexpected record type or malformed control message */
	KTLS_E_DECRYPT,                /* a record failed authentication (bad_record_mac) */
	KTLS_E_RECORD_OVERFLOW,        /* a record exceeded the maximum size */
	KTLS_E_TRUNCATED,              /* connection closed in the middle of a record */
	KTLS_E_CLOSED,                 /* close_notify already received or sent */
	KTLS_E_INTERNAL,               /* OpenSSL or the KDF failed unexpectedly */
	KTLS_E_NOT_OFFLOADED,          /* that direction is not in the kernel (yet) */
	KTLS_E_PEER_CLOSED,            /* the peer closed (FIN or RST) before the switch */
	KTLS_E_PARTIAL_MESSAGE,        /* part of a post-handshake message was read before RX */
	KTLS_E_LAST
};

/* A sentence naming the cause and the fix; static storage, never NULL.
 * Accepts -errno values too. */
const char *ktls_strerror(int err);
/* The short symbolic name: "KTLS_E_NO_ULP", "ECONNRESET", ... */
const char *ktls_errname(int err);

/* --- ciphers ---------------------------------------------------------------- */
enum ktls_cipher {
	KTLS_CIPHER_AES_128_GCM,
	KTLS_CIPHER_AES_256_GCM,
	KTLS_CIPHER_CHACHA20_POLY1305,
	KTLS_CIPHER_AES_128_CCM,
	KTLS_CIPHER_ARIA_GCM_128,      /* TLS 1.2 only */
	KTLS_CIPHER_ARIA_GCM_256,      /* TLS 1.2 only */
	KTLS_CIPHER_COUNT
};
/* "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", "AES-128-CCM",
 * "ARIA-GCM-128", "ARIA-GCM-256"; NULL when out of range. */
const char *ktls_cipher_name(enum ktls_cipher c);

/* --- capability probe (ktls/probe.c) -----------------------------------------
 * Finds out what this kernel offloads by trying it on a loopback TCP pair,
 * with a real record sent TX -> RX and read back. Needs no privileges. */
struct ktls_probe_cipher {
	int version;                   /* TLS1_2_VERSION or TLS1_3_VERSION */
	enum ktls_cipher cipher;
	bool tx, rx;
	int tx_err, rx_err;            /* 0 or the setsockopt/-record error */
};

struct ktls_stat_counter {
	char name[48];
	uint64_t value;
};

struct ktls_probe {
	char kernel[65];               /* uname -r */
	bool ulp_available;
	int ulp_err;                   /* -errno of setsockopt(TCP_ULP "tls") or 0 */
	struct ktls_probe_cipher ciphers[2 * KTLS_CIPHER_COUNT];
	size_t n_ciphers;
	bool zerocopy_ro;              /* TLS_TX_ZEROCOPY_RO accepted */
	bool rx_expect_no_pad;         /* TLS_RX_EXPECT_NO_PAD accepted */
	bool rekey;                    /* a second TLS_TX on a TLS 1.3 socket accepted */
	bool has_tls_stat;             /* /proc/net/tls_stat readable */
	struct ktls_stat_counter tls_stat[64];
	size_t n_tls_stat;
};

/* 0, or -errno when the probe itself could not run (no loopback, ...).
 * A kernel without kTLS is not an error: r->ulp_available is false. */
int ktls_probe(struct ktls_probe *r);

/* Parse /proc/net/tls_stat-format text ("TlsCurrTxSw   1" lines) from path.
 * 0, -ENOENT when absent, -EINVAL when malformed. */
int ktls_read_tls_stat(const char *path, struct ktls_stat_counter *out,
		       size_t max, size_t *n);

/* --- enabling -----------------------------------------------------------------*/
enum ktls_dir {
	KTLS_TX = 1,
	KTLS_RX = 2,
};

/* Install libktls's keylog and message callbacks on ctx: must be called before
 * the SSL objects that will be offloaded are created (SSL_new copies the
 * message callback), and on every SSL_CTX an SNI callback may switch to. A
 * keylog callback already set on ctx (e.g. an SSLKEYLOGFILE writer) is kept
 * and still called with every line. Calling it twice is harmless.
 * 0, -ENOMEM or KTLS_E_INTERNAL. */
int ktls_ctx_prepare(SSL_CTX *ctx);

/* For programs that install their own SSL message callback after
 * ktls_ctx_prepare(): call this from it with the same arguments, so libktls
 * keeps counting records (the sequence numbers depend on it). */
void ktls_msg_callback(int write_p, int version, int content_type,
		       const void *buf, size_t len, SSL *ssl, void *arg);

struct ktls_report {
	unsigned dirs;                 /* KTLS_TX | KTLS_RX in the kernel after this call */
	int version;                   /* TLS1_2_VERSION or TLS1_3_VERSION */
	enum ktls_cipher cipher;
	uint64_t tx_seq, rx_seq;       /* sequence number of the kernel's first record
					  (of the directions installed by this call) */
	/* Plaintext OpenSSL had already received when RX moved to the kernel
	 * (records buffered in a memory BIO or by read-ahead, or decrypted and
	 * not yet read): it comes before anything ktls_recv() returns.
	 * malloc'd, the caller frees it; NULL when there was none. It can be
	 * set even when ktls_enable() fails (KTLS_E_PARTIAL_RECORD, an alert):
	 * the data left the SSL, so use it. */
	unsigned char *rx_data;
	size_t rx_len;
	bool rx_eof;                   /* close_notify was among the drained records */
	int rx_alert;                  /* with KTLS_E_ALERT from the drain: the alert, else -1 */
};

struct ktls_conn;

/* Move the directions in `dirs` of the established session `ssl` on socket
 * `fd` into the kernel. Everything is checked before anything is installed:
 * on a refusal nothing changed and the SSL can go on in userspace.
 *
 * *connp: NULL on the first call (a connection object is allocated and
 * returned, or left NULL when nothing was installed); pass it again to add
 * the other direction later (for example TX once the SSL's last handshake
 * output has been flushed). Keep the SSL until every direction you want is
 * in the kernel; after that it may be freed (never SSL_read/SSL_write/
 * SSL_shutdown it again in an offloaded direction).
 *
 * RX drains first: records OpenSSL can still read without the socket are
 * decrypted in userspace into rep->rx_data. RX is refused with
 * KTLS_E_PARTIAL_RECORD if part of a record was consumed (TX alone can still
 * be enabled).
 *
 * Sequence numbers come from counting records in the message callback
 * (ktls_ctx_prepare): TLS 1.2 starts after ChangeCipherSpec (1 after
 * Finished), TLS 1.3 at 0 plus the records already sent or received under
 * the application keys (NewSessionTickets, drained data). KeyUpdates OpenSSL
 * processed before offload are followed: the kernel gets the current
 * generation of each traffic secret (derived with HKDF-Expand-Label(secret,
 * "traffic upd", "", Hash.length), OpenSSL's TLS13-KDF). When OpenSSL
 * answered one (update_requested), its KeyUpdate must be on the socket
 * before TX is enabled (KTLS_E_UNSENT_DATA until then).
 *
 * Returns 0, or (nothing installed): -EINVAL (bad arguments, fd differs
 * from *connp's), KTLS_E_ALREADY, KTLS_E_NOT_SOCKET, KTLS_E_PEER_CLOSED (the
 * socket is no longer established), KTLS_E_HANDSHAKE_INCOMPLETE,
 * KTLS_E_PARTIAL_MESSAGE (RX: a post-handshake message read only in part),
 * KTLS_E_VERSION, KTLS_E_CIPHER_UNSUPPORTED, KTLS_E_COMPRESSION,
 * KTLS_E_RENEGOTIATION, KTLS_E_NO_SECRETS, KTLS_E_USERSPACE_KEY_UPDATE (TX),
 * KTLS_E_UNSENT_DATA (TX), KTLS_E_PARTIAL_RECORD (RX), KTLS_E_NO_ULP,
 * KTLS_E_KERNEL_CIPHER, KTLS_E_ALERT / KTLS_E_DECRYPT / KTLS_E_BAD_RECORD /
 * KTLS_E_RECORD_OVERFLOW (a drained record was bad), KTLS_E_INTERNAL,
 * -ENOMEM, or another -errno from setsockopt.
 * When both directions were asked and RX went in but TX could not (the
 * drain made OpenSSL queue output: KTLS_E_UNSENT_DATA; or the kernel refused
 * TX), the TX error is returned with rep->dirs == KTLS_RX and *connp set:
 * flush, then call again for TX. */
int ktls_enable(SSL *ssl, int fd, unsigned dirs, struct ktls_conn **connp,
		struct ktls_report *rep);

/* When OpenSSL owes the peer a KeyUpdate (the peer asked for one in a
 * record OpenSSL read: SSL_get_key_update_type() is not NONE), make it
 * write it now to its write BIO, instead of before its next data. Call it
 * after reading with SSL_read() and before ktls_enable(KTLS_TX), then put
 * that output on the socket. ktls_enable() does it itself for what its
 * drain read. */
void ktls_ssl_send_key_update(SSL *ssl);

/* Wipe the connection's secrets and free it. Does not close the fd. NULL ok. */
void ktls_conn_free(struct ktls_conn *c);
int ktls_conn_fd(const struct ktls_conn *c);
unsigned ktls_conn_dirs(const struct ktls_conn *c);

/* --- record I/O under kTLS (ktls/io.c) ---------------------------------------*/

/* Receive application data. Uses recvmsg with a control-message buffer, so
 * non-data records are seen and handled:
 *   close_notify            -> returns 0 (EOF), and 0 on every later call
 *   fatal alert             -> KTLS_E_ALERT (ktls_conn_alert() names it);
 *                              TLS 1.2 warnings and user_canceled are skipped
 *   NewSessionTicket        -> passed to the handshake callback, or dropped
 *   KeyUpdate               -> next RX key installed (and, if the peer asked,
 *                              our KeyUpdate sent and the TX key rotated; when
 *                              the send buffer is full it stays due: see
 *                              ktls_flush())
 * and the call goes on to the next record; a control record may be split
 * over small reads. buf is scratch space for control records too.
 * A server using plain recv() (or io_uring recv) that gets -EIO has met a
 * control record: call ktls_recv(c, ..., MSG_DONTWAIT) then.
 * flags: 0 or MSG_DONTWAIT (MSG_PEEK is ignored).
 * Returns bytes (> 0); 0 at close_notify or at a TCP EOF without one
 * (ktls_conn_stats().unclean_eof tells); -EAGAIN; KTLS_E_NOT_OFFLOADED (no
 * kernel RX); KTLS_E_ALERT; KTLS_E_DECRYPT (EBADMSG: bad_record_mac sent);
 * KTLS_E_RECORD_OVERFLOW (EMSGSIZE); KTLS_E_BAD_RECORD (unexpected or
 * malformed control record, with the alert RFC 8446 names sent:
 * unexpected_message for a record type or handshake message that has no
 * place here, an empty alert or handshake record, or a KeyUpdate that does
 * not end its record (checked when the buffer holds the whole record, 16 KiB);
 * decode_error for a bad length; illegal_parameter for a KeyUpdate whose
 * request_update is not 0 or 1);
 * KTLS_E_TRUNCATED (the TCP stream ended in the middle of a record: the
 * kernel itself returns 0 there as at a record boundary, libktls sees the
 * partial record's bytes still unread in TCP; if the kernel had to copy
 * them out under memory pressure it reports a plain unclean EOF);
 * KTLS_E_REKEY_UNSUPPORTED
 * (peer KeyUpdate on a kernel without rekey: close_notify sent, the stream
 * ends); KTLS_E_KEY_UPDATE_LIMIT (unexpected_message sent: the peer sent
 * more than 32 KeyUpdates with no other record between them, or more than
 * 32 plus one per 1024 records it sent in all); or -errno. Errors other
 * than -EAGAIN and -EINTR are sticky: later calls return them again. */
ssize_t ktls_recv(struct ktls_conn *c, void *buf, size_t len, int flags);

/* The KeyUpdates a peer may send, so that they cost bounded work: at most
 * KTLS_KU_LIMIT_IN_A_ROW with no other record between them (OpenSSL's and
 * BoringSSL's limit too), and in all at most KTLS_KU_LIMIT_FREE plus one
 * per KTLS_KU_LIMIT_RECORDS records the peer sent. A peer that rekeys every
 * 2^24 records (AES-GCM's usage limit) stays far inside. */
#define KTLS_KU_LIMIT_IN_A_ROW 32
#define KTLS_KU_LIMIT_FREE 32
#define KTLS_KU_LIMIT_RECORDS 1024

/* Send what libktls owes the peer before our next data record: the
 * KeyUpdate that answers the peer's update_requested, when ktls_recv()
 * found the send buffer full. Programs that send data with plain send()
 * (or io_uring) call it before each send while it returns -EAGAIN (wait
 * for POLLOUT); ktls_send() does it itself. 0 (nothing due any more),
 * -EAGAIN, the connection's sticky error, or -errno. */
int ktls_flush(struct ktls_conn *c);

/* send() all of buf (retrying short writes and EINTR); plain send() on the
 * fd works the same way. Returns len; with MSG_DONTWAIT the count sent so far
 * when the socket is full (or -EAGAIN when nothing was); KTLS_E_NOT_OFFLOADED,
 * KTLS_E_CLOSED (after ktls_close), or -errno. */
ssize_t ktls_send(struct ktls_conn *c, const void *buf, size_t len, int flags);

/* Send one record of content type `type` (20..23; 21 alert, 22 handshake)
 * through the kernel's TX key. 0, -EINVAL, KTLS_E_NOT_OFFLOADED,
 * KTLS_E_CLOSED or -errno. */
int ktls_send_record(struct ktls_conn *c, uint8_t type, const void *buf, size_t len);

/* Send close_notify; once: later calls return 0 and send nothing. After it,
 * ktls_send() returns KTLS_E_CLOSED. 0, KTLS_E_NOT_OFFLOADED or -errno. */
int ktls_close(struct ktls_conn *c);

/* The alert description received with KTLS_E_ALERT (-1 if none), and its
 * RFC 8446 name ("handshake_failure", ...; "unknown_alert" otherwise). */
int ktls_conn_alert(const struct ktls_conn *c);
const char *ktls_alert_name(int desc);

/* Handshake messages (type, body) received under kTLS RX that libktls does
 * not consume itself, i.e. TLS 1.3 NewSessionTicket. Without a callback they
 * are dropped and counted. */
typedef void (*ktls_handshake_cb)(struct ktls_conn *c, uint8_t msg_type,
				  const uint8_t *body, size_t len, void *arg);
void ktls_set_handshake_cb(struct ktls_conn *c, ktls_handshake_cb cb, void *arg);

/* Counters of what ktls_recv() handled on this connection. */
struct ktls_conn_stats {
	uint64_t tickets, key_updates_rx, key_updates_tx, alerts;
	bool unclean_eof;              /* TCP EOF seen without close_notify */
};
void ktls_conn_stats(const struct ktls_conn *c, struct ktls_conn_stats *st);

/* --- TLS 1.3 key update (ktls/keyupdate.c) -------------------------------------
 * Send a KeyUpdate and move our TX key to the next generation; with
 * request_peer the peer is asked to update its key too (its KeyUpdate is
 * handled by ktls_recv()). 0; KTLS_E_VERSION (TLS 1.2); KTLS_E_NOT_OFFLOADED
 * (TX not in the kernel, or request_peer without kernel RX);
 * KTLS_E_REKEY_UNSUPPORTED (kernel older than 6.14: nothing was sent);
 * KTLS_E_CLOSED; a sticky error of the connection; or -errno. */
int ktls_key_update(struct ktls_conn *c, bool request_peer);

/* --- record-exact reading during the handshake (ktls/framer.c) ---------------
 * A server that drives OpenSSL through memory BIOs must not read past the
 * last handshake record, or kernel RX would start in the middle of a record.
 * The framer tracks record boundaries in the incoming byte stream: read at
 * most ktls_framer_want() bytes, pass them to ktls_framer_feed(), and the
 * reads stop exactly at record boundaries.
 */
struct ktls_framer {
	uint8_t hdr[5];
	uint8_t hdr_have;              /* bytes of the current header seen */
	uint32_t body_left;            /* body bytes of the current record still due */
	uint64_t records;              /* complete records seen */
};

void ktls_framer_init(struct ktls_framer *f);
/* Bytes to read next so as to stop at the next boundary (header, then body). */
size_t ktls_framer_want(const struct ktls_framer *f);
/* Account n bytes just read, in stream order (any n; reading at most
 * ktls_framer_want() keeps every read within one record). 0, or
 * KTLS_E_BAD_RECORD for a header no TLS peer would send (content type not
 * 20..23, version not 3.x, length over 2^14 + 2048): the stream is then
 * unusable. -EINVAL for NULL arguments. */
int ktls_framer_feed(struct ktls_framer *f, const void *buf, size_t n);
bool ktls_framer_at_boundary(const struct ktls_framer *f);

#ifdef __cplusplus
}
#endif

#endif

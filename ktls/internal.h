/* ktls/internal.h: what libktls's files share; not part of the public API. */
#ifndef KTLS_INTERNAL_H
#define KTLS_INTERNAL_H

#include <linux/tls.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "ktls/ktls.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* One kernel crypto_info of any cipher, and its size for setsockopt. */
union ktls_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 gcm128;
	struct tls12_crypto_info_aes_gcm_256 gcm256;
	struct tls12_crypto_info_aes_ccm_128 ccm128;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
#ifdef TLS_CIPHER_ARIA_GCM_128
	struct tls12_crypto_info_aria_gcm_128 aria128;
	struct tls12_crypto_info_aria_gcm_256 aria256;
#endif
};

struct ktls_cipher_desc {
	enum ktls_cipher id;
	uint16_t kernel_type;          /* TLS_CIPHER_* */
	uint8_t key_len;
	uint8_t salt_len;              /* implicit part of the nonce in crypto_info */
	uint8_t iv_len;                /* crypto_info's iv field */
	uint8_t tls12_fixed_iv_len;    /* TLS 1.2 key-block IV bytes per side */
	bool tls13;                    /* has a TLS 1.3 suite */
	size_t info_len;               /* sizeof its crypto_info struct */
};

/* NULL when the cipher is unknown or this build's linux/tls.h lacks it. */
const struct ktls_cipher_desc *ktls_cipher_desc(enum ktls_cipher c);

/* Build a kernel crypto_info (pure function: no I/O).
 *   nonce12: the 12-byte per-direction nonce base. For TLS 1.3 that is the
 *     derived write IV; for TLS 1.2 AES-GCM/CCM/ARIA it is the 4-byte fixed
 *     IV (salt) followed by the 8-byte explicit nonce to start from; for
 *     TLS 1.2 ChaCha20 it is the 12-byte key-block IV.
 *   seq: the record sequence number of the next record.
 * Returns the crypto_info length, or KTLS_E_VERSION / KTLS_E_CIPHER_UNSUPPORTED. */
int ktls_crypto_info_build(union ktls_crypto_info *ci, int version, enum ktls_cipher c,
			   const uint8_t *key, const uint8_t nonce12[12], uint64_t seq);

/* --- the socket seam (ktls/sockops.c) ------------------------------------------
 * Every system call libktls makes on a connection's socket goes through these,
 * so tests can observe (and emulate) what would be installed without a kernel
 * that has kTLS. Each returns like the system call, but -errno on failure. */
struct ktls_sockops {
	int (*setsockopt)(void *arg, int fd, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(void *arg, int fd, int level, int name, void *val, socklen_t *len);
	ssize_t (*sendmsg)(void *arg, int fd, const struct msghdr *msg, int flags);
	ssize_t (*recvmsg)(void *arg, int fd, struct msghdr *msg, int flags);
	/* 1 when the kernel can replace TLS 1.3 keys (KeyUpdate), 0 when not. */
	int (*rekey_supported)(void *arg);
	/* Bytes received by TCP and not consumed yet (ioctl SIOCINQ), or -errno. */
	int (*inq)(void *arg, int fd);
};

/* Replace the process-wide socket layer (tests); NULL restores the real
 * system calls. Not thread-safe: call it while no connection is in use. */
void ktls_set_sockops(const struct ktls_sockops *ops, void *arg);

int ktls_sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int ktls_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
ssize_t ktls_sys_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t ktls_sys_recvmsg(int fd, struct msghdr *msg, int flags);
int ktls_sys_rekey_supported(void);
int ktls_sys_inq(int fd);

/* This kernel's answer (ktls/probe.c), probed once per process: 1 or 0. */
int ktls_probe_rekey_cached(void);

/* --- secrets (ktls/secrets.c) ------------------------------------------------------ */
#define KTLS_SECRET_MAX 48             /* SHA-384 */
#define KTLS_KEY_MAX 32

/* One direction's key material for the kernel; wiped after use. */
struct ktls_dir_keys {
	uint8_t key[KTLS_KEY_MAX];
	uint8_t nonce12[12];           /* see ktls_crypto_info_build() */
	uint64_t seq;
};

/* A TLS 1.3 traffic secret (kept for KeyUpdate). */
struct ktls_secret {
	uint8_t s[KTLS_SECRET_MAX];
	uint8_t len;
};

/* What libktls's SSL callbacks saw of one SSL object (kept in its ex_data,
 * wiped and freed with it). */
struct ktls_ssl_state {
	struct ktls_secret client_ts0, server_ts0; /* TLS 1.3 *_TRAFFIC_SECRET_0 */
	/* Records per direction since the last key change. */
	uint64_t wr_since_ccs, rd_since_ccs;       /* TLS 1.2: after ChangeCipherSpec */
	uint64_t wr_since_key, rd_since_key;       /* TLS 1.3: after Finished / KeyUpdate */
	unsigned wr_ccs, rd_ccs;                   /* ChangeCipherSpec messages */
	unsigned wr_fin, rd_fin;                   /* Finished messages */
	unsigned wr_key_updates, rd_key_updates;   /* TLS 1.3 KeyUpdates */
	unsigned hello_after_fin;                  /* hellos after Finished: renegotiation */
};

/* The state of ssl, or NULL when ktls_ctx_prepare() did not see it created. */
struct ktls_ssl_state *ktls_ssl_state(const SSL *ssl);

/* The negotiated version, kTLS cipher and handshake (PRF) digest of ssl.
 * 0, KTLS_E_VERSION or KTLS_E_CIPHER_UNSUPPORTED. */
int ktls_suite_of(const SSL *ssl, int *version, enum ktls_cipher *cipher, const EVP_MD **md);

/* HKDF-Expand-Label(secret, label, "", out_len), OpenSSL's TLS13-KDF.
 * 0 or KTLS_E_INTERNAL. */
int ktls_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
			   const char *label, uint8_t *out, size_t out_len);
/* TLS 1.3: write key and IV of a traffic secret. 0 or KTLS_E_INTERNAL. */
int ktls_tls13_keys(const EVP_MD *md, const struct ktls_secret *ts, size_t key_len,
		    uint8_t *key, uint8_t iv[12]);
/* TLS 1.3: replace ts by the next generation ("traffic upd"). 0 or KTLS_E_INTERNAL. */
int ktls_tls13_next_secret(const EVP_MD *md, struct ktls_secret *ts);
/* TLS 1.2: PRF(master, "key expansion", server_random + client_random) with
 * OpenSSL's TLS1-PRF. 0 or KTLS_E_INTERNAL. */
int ktls_tls12_key_block(const EVP_MD *md, const uint8_t *master, size_t master_len,
			 const uint8_t client_random[32], const uint8_t server_random[32],
			 uint8_t *out, size_t out_len);

/* The largest handshake message ktls_recv() reassembles (a NewSessionTicket
 * with a 64 KiB ticket and some extensions). */
#define KTLS_HS_MAX (4 + 65536 + 1024)

/* --- the connection ------------------------------------------------------------------ */
struct ktls_conn {
	int fd;
	unsigned dirs;                 /* KTLS_TX | KTLS_RX installed */
	bool ulp;                      /* TCP_ULP "tls" attached */
	int version;
	enum ktls_cipher cipher;
	const EVP_MD *md;
	struct ktls_secret tx_secret, rx_secret; /* TLS 1.3 only: the installed generation */
	/* record I/O state (ktls/io.c) */
	bool rx_eof;                   /* close_notify received */
	bool tx_closed;                /* close_notify sent */
	int fatal;                     /* sticky error once the stream is unusable */
	int alert;                     /* description of the fatal alert received, -1 none */
	uint8_t alert_buf[2];
	uint8_t alert_have;
	uint8_t *hs_buf;               /* handshake message reassembly, KTLS_HS_MAX bytes */
	size_t hs_len;
	/* KeyUpdates from the peer, against the limits of ktls/io.c */
	unsigned ku_in_a_row;          /* with no other record between them */
	uint64_t ku_total;             /* in all, the ones OpenSSL handled included */
	uint64_t rx_records;           /* records of the generations before the current one */
	uint64_t rx_gen_start;         /* sequence number the current RX key started at */
	bool ku_answer_pending;        /* the peer asked for our KeyUpdate; not sent yet */
	ktls_handshake_cb hs_cb;
	void *hs_arg;
	struct ktls_conn_stats st;
};

/* Build and install one direction's keys (setsockopt TLS_TX / TLS_RX).
 * Wipes k. 0, KTLS_E_KERNEL_CIPHER, KTLS_E_REKEY_UNSUPPORTED (EBUSY) or -errno. */
int ktls_install(struct ktls_conn *c, int dir, struct ktls_dir_keys *k);
/* TLS 1.3: step the TX or RX secret to the next generation and install it
 * with sequence number 0. */
int ktls_rotate(struct ktls_conn *c, int dir);
/* TLS 1.3: install the current RX key again at sequence number seq (the
 * kernel paused RX after a record that only looked like a KeyUpdate). */
int ktls_reinstall_rx(struct ktls_conn *c, uint64_t seq);
/* The kernel's next RX record sequence number (getsockopt TLS_RX), or -errno. */
int ktls_kernel_rx_seq(struct ktls_conn *c, uint64_t *seq);
/* Send our KeyUpdate(update_not_requested) answer if one is due, then move
 * TX to the next key. 0 (sent, or none due), -EAGAIN (still due) or an error
 * (made sticky). */
int ktls_send_ku_answer(struct ktls_conn *c);
/* Send one record of `type` through the kernel's TX key. 0 or a negative code. */
int ktls_send_control(struct ktls_conn *c, uint8_t type, const void *buf, size_t len);

#endif

/* ktls/errors.c: names and sentences for libktls's error codes. */
#include "ktls/ktls.h"

#include <errno.h>
#include <string.h>

struct err_text {
	int code;
	const char *name;
	const char *text;
};

static const struct err_text texts[] = {
	{ KTLS_E_NO_ULP, "KTLS_E_NO_ULP",
	  "tls ULP missing: run 'modprobe tls' (the kernel needs CONFIG_TLS); "
	  "on hosts without it, use scripts/vm.sh" },
	{ KTLS_E_VERSION, "KTLS_E_VERSION",
	  "negotiated TLS version cannot be offloaded: kTLS handles TLS 1.2 and "
	  "TLS 1.3 only (pin --tls-version 1.2 or 1.3)" },
	{ KTLS_E_CIPHER_UNSUPPORTED, "KTLS_E_CIPHER_UNSUPPORTED",
	  "negotiated cipher has no kTLS form: choose AES-128-GCM, AES-256-GCM, "
	  "CHACHA20-POLY1305 or AES-128-CCM (TLS 1.2: also ARIA-GCM)" },
	{ KTLS_E_KERNEL_CIPHER, "KTLS_E_KERNEL_CIPHER",
	  "the kernel refused this cipher: it is too old for it or its crypto "
	  "module is missing (run 'ktls probe' to see what this kernel offloads; "
	  "CHACHA20-POLY1305 needs 5.11+, ARIA-GCM 6.0+)" },
	{ KTLS_E_HANDSHAKE_INCOMPLETE, "KTLS_E_HANDSHAKE_INCOMPLETE",
	  "the TLS handshake has not finished: call ktls_enable() after "
	  "SSL_do_handshake() returned 1" },
	{ KTLS_E_NO_SECRETS, "KTLS_E_NO_SECRETS",
	  "the session's traffic secrets were not captured: call "
	  "ktls_ctx_prepare() on the SSL_CTX before creating the SSL" },
	{ KTLS_E_PARTIAL_RECORD, "KTLS_E_PARTIAL_RECORD",
	  "part of a TLS record was already read from the socket, so kernel RX "
	  "would start mid-record: read the handshake record-exactly "
	  "(ktls_framer, or OpenSSL without read-ahead) or enable TX only" },
	{ KTLS_E_UNSENT_DATA, "KTLS_E_UNSENT_DATA",
	  "the SSL still holds handshake output not yet written to the socket: "
	  "flush the write BIO before enabling TX" },
	{ KTLS_E_COMPRESSION, "KTLS_E_COMPRESSION",
	  "TLS compression is on: kTLS cannot compress; disable it "
	  "(SSL_OP_NO_COMPRESSION)" },
	{ KTLS_E_RENEGOTIATION, "KTLS_E_RENEGOTIATION",
	  "a TLS 1.2 renegotiation is pending or happened: kTLS cannot follow "
	  "it; set SSL_OP_NO_RENEGOTIATION" },
	{ KTLS_E_USERSPACE_KEY_UPDATE, "KTLS_E_USERSPACE_KEY_UPDATE",
	  "OpenSSL has a TLS 1.3 KeyUpdate queued that is not on the socket yet: "
	  "let it go out (SSL_do_handshake() and flush the write BIO), then "
	  "enable TX" },
	{ KTLS_E_ALREADY, "KTLS_E_ALREADY",
	  "that direction is already offloaded to the kernel" },
	{ KTLS_E_NOT_SOCKET, "KTLS_E_NOT_SOCKET",
	  "the descriptor is not a connected TCP socket: kTLS needs TCP" },
	{ KTLS_E_REKEY_UNSUPPORTED, "KTLS_E_REKEY_UNSUPPORTED",
	  "TLS 1.3 KeyUpdate needs a kernel that can rekey kTLS (Linux 6.14+); "
	  "this one cannot, so the connection must be closed (or keep the "
	  "record layer in userspace)" },
	{ KTLS_E_KEY_UPDATE_LIMIT, "KTLS_E_KEY_UPDATE_LIMIT",
	  "the peer sent more TLS 1.3 KeyUpdates than allowed (32 in a row without "
	  "data, or more than 32 plus one per MiB of data received): the connection "
	  "is closed with an unexpected_message alert to bound the work it costs" },
	{ KTLS_E_ALERT, "KTLS_E_ALERT",
	  "the peer sent a fatal TLS alert (see ktls_conn_alert() for which)" },
	{ KTLS_E_BAD_RECORD, "KTLS_E_BAD_RECORD",
	  "unexpected TLS record type or malformed control message from the peer "
	  "(unexpected_message)" },
	{ KTLS_E_DECRYPT, "KTLS_E_DECRYPT",
	  "a TLS record failed authentication (bad_record_mac): the data was "
	  "altered in transit, or the keys or sequence numbers are wrong" },
	{ KTLS_E_RECORD_OVERFLOW, "KTLS_E_RECORD_OVERFLOW",
	  "the peer sent a TLS record over the maximum size (record_overflow)" },
	{ KTLS_E_TRUNCATED, "KTLS_E_TRUNCATED",
	  "the peer's TCP stream ended in the middle of a TLS record: the data "
	  "is incomplete (truncation); treat it as an error, not as the end of "
	  "the data" },
	{ KTLS_E_CLOSED, "KTLS_E_CLOSED",
	  "the TLS connection is already closed (close_notify sent or received)" },
	{ KTLS_E_INTERNAL, "KTLS_E_INTERNAL",
	  "OpenSSL failed unexpectedly while deriving keys (see the OpenSSL "
	  "error queue)" },
	{ KTLS_E_NOT_OFFLOADED, "KTLS_E_NOT_OFFLOADED",
	  "that direction is not in the kernel: call ktls_enable() with KTLS_TX "
	  "(to send) or KTLS_RX (to receive) first, or keep using OpenSSL" },
	{ KTLS_E_PEER_CLOSED, "KTLS_E_PEER_CLOSED",
	  "the peer closed the TCP connection (FIN or reset) before the switch, and "
	  "the kernel attaches kTLS only to an established socket: finish the "
	  "connection in userspace (OpenSSL) or close it" },
	{ KTLS_E_PARTIAL_MESSAGE, "KTLS_E_PARTIAL_MESSAGE",
	  "OpenSSL has read part of a post-handshake message (a KeyUpdate or ticket "
	  "split over records) whose rest is still on the socket; the kernel cannot "
	  "take over in the middle of it: keep this session in userspace, or read "
	  "the whole message before ktls_enable()" },
};

static const struct err_text *find(int err)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == err)
			return &texts[i];
	return NULL;
}

const char *ktls_strerror(int err)
{
	const struct err_text *t = find(err);
	if (t)
		return t->text;
	if (err < 0 && err > -4096) {
		const char *s = strerrordesc_np(-err);
		if (s)
			return s;
	}
	if (err == 0)
		return "success";
	return "unknown libktls error";
}

const char *ktls_errname(int err)
{
	const struct err_text *t = find(err);
	if (t)
		return t->name;
	if (err < 0 && err > -4096) {
		const char *s = strerrorname_np(-err);
		if (s)
			return s;
	}
	return err == 0 ? "OK" : "UNKNOWN";
}

const char *ktls_cipher_name(enum ktls_cipher c)
{
	static const char *names[KTLS_CIPHER_COUNT] = {
		[KTLS_CIPHER_AES_128_GCM] = "AES-128-GCM",
		[KTLS_CIPHER_AES_256_GCM] = "AES-256-GCM",
		[KTLS_CIPHER_CHACHA20_POLY1305] = "CHACHA20-POLY1305",
		[KTLS_CIPHER_AES_128_CCM] = "AES-128-CCM",
		[KTLS_CIPHER_ARIA_GCM_128] = "ARIA-GCM-128",
		[KTLS_CIPHER_ARIA_GCM_256] = "ARIA-GCM-256",
	};
	if ((unsigned)c >= KTLS_CIPHER_COUNT)
		return NULL;
	return names[c];
}

const char *ktls_alert_name(int desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown_alert";
	}
}

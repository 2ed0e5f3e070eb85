/* client/tls.c: the client SSL_CTX, error classification, and describing a session. */
#include "client/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

int rxktls_ctx_prepare(SSL_CTX *ctx);

/* With --verify off the chain is not checked at all: X509_verify_cert() would
 * only spend time building and checking a chain whose verdict is ignored.
 * The server's CertificateVerify signature is still checked by the protocol. */
static int skip_chain(X509_STORE_CTX *x, void *arg)
{
	(void)x;
	(void)arg;
	return 1;
}

/* Keep the newest session of each connection slot: the next connection of
 * that slot offers it (tickets, or a TLS 1.2 session ID). */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);

	if (!c)
		return 0;
	if (c->sess)
		SSL_SESSION_free(c->sess);
	c->sess = sess;
	c->got_ticket = true;
	__atomic_store_n(&c->w->run->tickets_seen, 1, __ATOMIC_RELAXED);
	return 1; /* the reference is ours now */
}

SSL_CTX *tls_ctx_new(const struct client_cfg *cfg, bool for_ktls, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new_ex(NULL, cfg->propq, TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create an OpenSSL context (out of memory?)");
		return NULL;
	}
	if (tlsopts_apply(&cfg->tls, ctx, err, errlen) || tlsopts_keylog_from_env(ctx, err, errlen))
		goto fail;

	if (cfg->verify_ca) {
		X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
		const char *name = cfg->sni ? cfg->sni : cfg->host;
		if (!SSL_CTX_load_verify_locations(ctx, cfg->verify_ca, NULL)) {
			snprintf(err, errlen, "--verify %s: cannot load CA certificates from it (a PEM "
				 "file of one or more certificates is expected)", cfg->verify_ca);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((!cfg->sni && cfg->host_is_ip) ? !X509_VERIFY_PARAM_set1_ip_asc(vp, cfg->host)
						   : !X509_VERIFY_PARAM_set1_host(vp, name, 0)) {
			snprintf(err, errlen, "--verify: cannot check the server name '%s'", name);
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_cert_verify_callback(ctx, skip_chain, NULL);
	}

	if (cfg->resume) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
						    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	if (cfg->no_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

	if (for_ktls) {
		/* kTLS RX needs OpenSSL to stop reading exactly at the last
		 * handshake record: no read-ahead. */
		if (rxktls_ctx_prepare(ctx)) {
			snprintf(err, errlen, "libktls: cannot prepare the TLS context for kTLS");
			goto fail;
		}
	} else {
		/* One read() takes a whole flight instead of two per record. */
		SSL_CTX_set_read_ahead(ctx, 1);
	}
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

enum err_kind tls_classify(int ssl_err, int saved_errno, int *alert)
{
	unsigned long e = ERR_peek_error();
	enum err_kind k;

	*alert = -1;
	if (ssl_err == SSL_ERROR_SYSCALL || (e && ERR_GET_LIB(e) == ERR_LIB_SYS)) {
		int en = (e && ERR_GET_LIB(e) == ERR_LIB_SYS) ? ERR_GET_REASON(e) : saved_errno;
		switch (en) {
		case 0: k = ERR_EOF; break;
		case ECONNREFUSED: k = ERR_CONNECT_REFUSED; break;
		case ECONNRESET:
		case EPIPE: k = ERR_RESET; break;
		case ETIMEDOUT:
		case EHOSTUNREACH:
		case ENETUNREACH: k = ERR_CONNECT; break;
		default: k = ERR_IO; break;
		}
	} else if (ssl_err == SSL_ERROR_ZERO_RETURN) {
		k = ERR_EOF;
	} else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL) {
		int r = ERR_GET_REASON(e);
		if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256) {
			*alert = r - SSL_AD_REASON_OFFSET;
			k = ERR_TLS;
		} else if (r == SSL_R_CERTIFICATE_VERIFY_FAILED) {
			k = ERR_CERT_VERIFY;
		} else if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			k = ERR_EOF;
		} else {
			k = ERR_TLS;
		}
	} else {
		k = ERR_TLS;
	}
	ERR_clear_error();
	return k;
}

const char *tls_alert_short(int desc, char *buf, size_t len)
{
	const char *s = SSL_alert_desc_string_long(desc);
	size_t i;

	if (!s || !strcmp(s, "unknown")) {
		snprintf(buf, len, "%d", desc);
		return buf;
	}
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i] == ' ' ? '_' : s[i];
	buf[i] = 0;
	return buf;
}

/* IANA-style name of the peer's signature scheme ("ecdsa_secp256r1_sha256"). */
static void sigalg_name(SSL *ssl, EVP_PKEY *cert_key, char *buf, size_t len)
{
	int type = NID_undef, hash = NID_undef;
	const char *h;

	if (!SSL_get_peer_signature_type_nid(ssl, &type)) {
		snprintf(buf, len, "none");
		return;
	}
	SSL_get_peer_signature_nid(ssl, &hash);
	h = hash == NID_sha256 ? "sha256" : hash == NID_sha384 ? "sha384" :
	    hash == NID_sha512 ? "sha512" : hash == NID_sha1 ? "sha1" : OBJ_nid2sn(hash);
	switch (type) {
	case EVP_PKEY_EC:
		if (SSL_version(ssl) >= TLS1_3_VERSION && (hash == NID_sha256 || hash == NID_sha384 ||
							   hash == NID_sha512))
			snprintf(buf, len, "ecdsa_%s_%s", hash == NID_sha256 ? "secp256r1" :
				 hash == NID_sha384 ? "secp384r1" : "secp521r1", h);
		else
			snprintf(buf, len, "ecdsa_%s", h);
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(buf, len, "rsa_pss_%s_%s",
			 cert_key && EVP_PKEY_is_a(cert_key, "RSA-PSS") ? "pss" : "rsae", h);
		break;
	case EVP_PKEY_RSA: snprintf(buf, len, "rsa_pkcs1_%s", h); break;
	case EVP_PKEY_ED25519: snprintf(buf, len, "ed25519"); break;
	case EVP_PKEY_ED448: snprintf(buf, len, "ed448"); break;
	default: snprintf(buf, len, "%s+%s", OBJ_nid2sn(type), h); break;
	}
}

void tls_describe(SSL *ssl, struct negotiated *n)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
	int gid = SSL_get_negotiated_group(ssl);
	const char *g = NULL;

	memset(n, 0, sizeof(*n));
	n->set = true;
	snprintf(n->version, sizeof(n->version), "%s", tlsopts_version_name(SSL_version(ssl)));
	snprintf(n->cipher, sizeof(n->cipher), "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
	if (gid > 0) {
		g = SSL_group_to_name(ssl, gid);
		if (!g)
			g = OBJ_nid2sn(gid);
	}
	snprintf(n->group, sizeof(n->group), "%s", g ? g : "none (resumed without key exchange)");
	sigalg_name(ssl, pk, n->sigalg, sizeof(n->sigalg));
	if (pk) {
		char gname[64];
		size_t gl = 0;
		if (EVP_PKEY_is_a(pk, "EC") &&
		    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, gname,
						   sizeof(gname), &gl))
			snprintf(n->cert_key, sizeof(n->cert_key), "EC %s (%d bits)",
				 !strcmp(gname, "prime256v1") ? "P-256" : gname, EVP_PKEY_get_bits(pk));
		else
			snprintf(n->cert_key, sizeof(n->cert_key), "%s (%d bits)",
				 EVP_PKEY_get0_type_name(pk), EVP_PKEY_get_bits(pk));
	} else {
		snprintf(n->cert_key, sizeof(n->cert_key), "none (resumed session)");
	}
	ERR_clear_error();
}

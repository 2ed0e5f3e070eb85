/* client/trace_hello.c: what a ClientHello offers and what a ServerHello (or
 * HelloRetryRequest) answers, read from the messages' bytes (RFC 8446 4.1.2,
 * 4.1.3, 4.2; RFC 5246 7.4.1), and the names of the code points. Parsing
 * stops quietly at anything malformed: the trace shows what it could read. */
#include "client/trace.h"

#include <stdio.h>
#include <string.h>

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static unsigned u8(struct rd *r)
{
	if (r->end - r->p < 1) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static unsigned u16(struct rd *r)
{
	unsigned hi = u8(r);
	return hi << 8 | u8(r);
}

/* A sub-reader of n bytes (an opaque vector), advancing r past it. */
static struct rd sub(struct rd *r, size_t n)
{
	struct rd s = { r->p, r->p, false };
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		s.bad = true;
		return s;
	}
	s.end = r->p + n;
	r->p += n;
	return s;
}

static void add16(uint16_t *a, unsigned *n, unsigned max, unsigned v)
{
	if (*n < max)
		a[(*n)++] = (uint16_t)v;
}

void trace_parse_client_hello(struct tr_hello *h, const uint8_t *msg, size_t len)
{
	struct rd r = { msg, msg + len, false };

	memset(h, 0, sizeof(*h));
	if (u8(&r) != 1)
		return;
	size_t blen = (size_t)u8(&r) << 16;
	blen |= u16(&r);
	struct rd body = sub(&r, blen);
	h->legacy_version = u16(&body);
	sub(&body, 32); /* random */
	h->session_id_len = u8(&body);
	sub(&body, h->session_id_len);
	struct rd cs = sub(&body, u16(&body));
	while (cs.p < cs.end && !cs.bad)
		add16(h->suites, &h->nsuites, TR_HELLO_MAX, u16(&cs));
	sub(&body, u8(&body)); /* compression methods */
	struct rd ext = sub(&body, u16(&body));
	while (ext.p < ext.end && !ext.bad) {
		unsigned type = u16(&ext);
		struct rd e = sub(&ext, u16(&ext));
		if (ext.bad)
			break;
		add16(h->exts, &h->nexts, TR_HELLO_MAX, type);
		switch (type) {
		case 0: { /* server_name: list of (type, name) */
			struct rd l = sub(&e, u16(&e));
			if (u8(&l) == 0) {
				unsigned n = u16(&l);
				if (!l.bad && n < sizeof(h->sni) && (size_t)(l.end - l.p) >= n) {
					memcpy(h->sni, l.p, n);
					h->sni[n] = 0;
				}
			}
			break;
		}
		case 10: { /* supported_groups */
			struct rd l = sub(&e, u16(&e));
			while (l.p < l.end && !l.bad)
				add16(h->groups, &h->ngroups, TR_HELLO_MAX, u16(&l));
			break;
		}
		case 13: { /* signature_algorithms */
			struct rd l = sub(&e, u16(&e));
			while (l.p < l.end && !l.bad)
				add16(h->sigalgs, &h->nsigalgs, TR_HELLO_MAX, u16(&l));
			break;
		}
		case 16: { /* ALPN: protocol names */
			struct rd l = sub(&e, u16(&e));
			while (l.p < l.end && !l.bad) {
				unsigned n = u8(&l);
				struct rd name = sub(&l, n);
				size_t used = strlen(h->alpn);
				if (!name.bad && used + n + 3 < sizeof(h->alpn))
					snprintf(h->alpn + used, sizeof(h->alpn) - used, "%s%.*s", used ? ", " : "",
						 (int)n, (const char *)name.p);
			}
			break;
		}
		case 35: /* session_ticket (TLS 1.2): a ticket when not empty */
			h->ticket12 = e.end > e.p;
			break;
		case 41: /* pre_shared_key: a TLS 1.3 ticket offered */
			h->psk = true;
			break;
		case 42:
			h->early_data = true;
			break;
		case 43: { /* supported_versions */
			struct rd l = sub(&e, u8(&e));
			while (l.p < l.end && !l.bad)
				add16(h->versions, &h->nversions, TR_HELLO_MAX, u16(&l));
			break;
		}
		case 51: { /* key_share: (group, key) entries */
			struct rd l = sub(&e, u16(&e));
			while (l.p < l.end && !l.bad) {
				unsigned g = u16(&l), n = u16(&l);
				sub(&l, n);
				if (h->nshares < TR_SHARES_MAX) {
					h->share_len[h->nshares] = n;
					h->shares[h->nshares++] = (uint16_t)g;
				}
			}
			break;
		}
		default:
			break;
		}
	}
	h->set = true;
}

void trace_parse_server_hello(struct tr_server_hello *s, const uint8_t *msg, size_t len)
{
	struct rd r = { msg, msg + len, false };

	memset(s, 0, sizeof(*s));
	s->group = -1;
	if (u8(&r) != 2)
		return;
	size_t blen = (size_t)u8(&r) << 16;
	blen |= u16(&r);
	struct rd body = sub(&r, blen);
	u16(&body);
	sub(&body, 32);
	sub(&body, u8(&body));
	s->suite = u16(&body);
	u8(&body);
	struct rd ext = sub(&body, u16(&body));
	while (ext.p < ext.end && !ext.bad) {
		unsigned type = u16(&ext);
		struct rd e = sub(&ext, u16(&ext));
		if (type == 51) /* key_share: the server's group (HRR: the group it wants) */
			s->group = (int)u16(&e);
		else if (type == 41)
			s->psk = true;
		else if (type == 44)
			s->cookie = true;
	}
	s->set = !body.bad;
}

const char *trace_group_name(unsigned g)
{
	switch (g) {
	case 23: return "secp256r1 (P-256)";
	case 24: return "secp384r1 (P-384)";
	case 25: return "secp521r1 (P-521)";
	case 29: return "x25519";
	case 30: return "x448";
	case 256: return "ffdhe2048";
	case 257: return "ffdhe3072";
	case 258: return "ffdhe4096";
	case 259: return "ffdhe6144";
	case 260: return "ffdhe8192";
	case 0x11ec: return "X25519MLKEM768";
	default: return NULL;
	}
}

const char *trace_sigalg_name(unsigned s)
{
	switch (s) {
	case 0x0401: return "rsa_pkcs1_sha256";
	case 0x0501: return "rsa_pkcs1_sha384";
	case 0x0601: return "rsa_pkcs1_sha512";
	case 0x0403: return "ecdsa_secp256r1_sha256";
	case 0x0503: return "ecdsa_secp384r1_sha384";
	case 0x0603: return "ecdsa_secp521r1_sha512";
	case 0x0804: return "rsa_pss_rsae_sha256";
	case 0x0805: return "rsa_pss_rsae_sha384";
	case 0x0806: return "rsa_pss_rsae_sha512";
	case 0x0807: return "ed25519";
	case 0x0808: return "ed448";
	case 0x0809: return "rsa_pss_pss_sha256";
	case 0x080a: return "rsa_pss_pss_sha384";
	case 0x080b: return "rsa_pss_pss_sha512";
	case 0x0201: return "rsa_pkcs1_sha1";
	case 0x0203: return "ecdsa_sha1";
	case 0x0301: return "rsa_pkcs1_sha224";
	case 0x0303: return "ecdsa_sha224";
	case 0x0402: return "dsa_sha256";
	case 0x0502: return "dsa_sha384";
	case 0x0602: return "dsa_sha512";
	case 0x0302: return "dsa_sha224";
	case 0x0202: return "dsa_sha1";
	case 0x081a: return "ecdsa_brainpoolP256r1tls13_sha256";
	case 0x081b: return "ecdsa_brainpoolP384r1tls13_sha384";
	case 0x081c: return "ecdsa_brainpoolP512r1tls13_sha512";
	default: return NULL;
	}
}

const char *trace_version_name(unsigned v)
{
	switch (v) {
	case 0x0304: return "TLS 1.3";
	case 0x0303: return "TLS 1.2";
	case 0x0302: return "TLS 1.1";
	case 0x0301: return "TLS 1.0";
	default: return NULL;
	}
}

char *trace_code_name(const char *name, unsigned v, char *buf, size_t len)
{
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "0x%04x", v);
	return buf;
}

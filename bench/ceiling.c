/* bench/ceiling.c: the crypto ceiling of this machine, from `openssl speed -mr`.
 *
 * What the server cannot do faster than, on one core: sign once per full
 * handshake, generate a key share and derive the shared secret once per
 * (EC)DHE handshake, and run the AEAD over every byte. `openssl speed` measures
 * each in isolation, in the same run and pinned to the server's CPU.
 */
#include "bench/bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench/proc.h"

static const struct { char kind; const char *name, *alg; } algs[] = {
	{ 's', "ecdsa-p256", "ecdsap256" },
	{ 's', "rsa-2048", "rsa2048" },
	{ 's', "rsa-3072", "rsa3072" },
	{ 's', "rsa-4096", "rsa4096" },
	{ 's', "ed25519", "ed25519" },
	{ 'k', "X25519", "ecdhx25519" },
	{ 'k', "P-256", "ecdhp256" },
	{ 'k', "P-384", "ecdhp384" },
	{ 'k', "X448", "ecdhx448" },
	{ 'a', "AES-128-GCM", "aes-128-gcm" },
	{ 'a', "AES-256-GCM", "aes-256-gcm" },
	{ 'a', "CHACHA20-POLY1305", "chacha20-poly1305" },
};
#define N_ALGS (sizeof algs / sizeof algs[0])

/* The AEAD ceiling is measured on 16 KiB buffers: one full TLS record, each
 * sealed as TLS does (`-aead`: a fresh IV, 13 bytes of AAD, the tag), the
 * same sequence on every OpenSSL version. Without -aead, the loop `openssl
 * speed -evp` runs for an AEAD has changed between releases (OpenSSL PR
 * 25823, in 3.0.16: before it, no tag was computed). */
#define CEILING_AEAD_BYTES "16384"
#define CEILING_AEAD_MODE "openssl speed -aead: fresh IV, 13-byte AAD and tag per buffer"

const char *ceiling_speed_alg(char kind, const char *name)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].kind == kind && strcmp(algs[i].name, name) == 0)
			return algs[i].alg;
	return NULL;
}

/* Split "+F4:0:256:53446.46:16651.00" at ':' into at most max fields. */
static size_t split(char *s, char **f, size_t max)
{
	size_t n = 0;
	while (n < max) {
		f[n++] = s;
		s = strchr(s, ':');
		if (!s)
			break;
		*s++ = 0;
	}
	return n;
}

static int parse_num(const char *s, double *v)
{
	char *end;
	double d = strtod(s, &end);
	if (end == s || (*end && *end != '\n' && *end != '\r') || !(d > 0))
		return -EINVAL;
	*v = d;
	return 0;
}

/* -mr result lines: "+F2:i:bits:sign/s:verify/s" (RSA), "+F4:..." (ECDSA),
 * "+F6:i:bits:name:sign/s:verify/s" (EdDSA), "+F5:i:bits:op/s:s/op" (ECDH),
 * "+F:i:name:bytes/s[:bytes/s...]" (EVP ciphers, one per -bytes size). */
int ceiling_parse_mr(const char *text, char kind, double *per_s)
{
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512], *f[16];
		if (len < sizeof line && len > 3 && p[0] == '+' && p[1] == 'F') {
			memcpy(line, p, len);
			line[len] = 0;
			size_t n = split(line, f, 16);
			const char *tag = f[0] + 2;
			int rc = -EINVAL;
			if (kind == 's' && (strcmp(tag, "2") == 0 || strcmp(tag, "4") == 0) && n >= 5)
				rc = parse_num(f[3], per_s);
			else if (kind == 's' && strcmp(tag, "6") == 0 && n >= 6)
				rc = parse_num(f[4], per_s);
			else if (kind == 'k' && strcmp(tag, "5") == 0 && n >= 5)
				rc = parse_num(f[3], per_s);
			else if (kind == 'a' && *tag == 0 && n >= 4)
				rc = parse_num(f[n - 1], per_s);
			if (rc == 0)
				return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	return -EINVAL;
}

static struct ceiling_entry *slot(struct ceiling *c, char kind, size_t **n)
{
	switch (kind) {
	case 's': *n = &c->n_sign; return c->sign;
	case 'k': *n = &c->n_kex; return c->kex;
	default: *n = &c->n_aead; return c->aead;
	}
}

static int add(struct ceiling *c, char kind, const char *name, double per_s)
{
	size_t *n;
	struct ceiling_entry *e = slot(c, kind, &n);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(e[i].name, name) == 0) {
			e[i].per_s = per_s;
			return 0;
		}
	if (*n == 8)
		return -ENOSPC;
	snprintf(e[*n].name, sizeof e[*n].name, "%s", name);
	e[*n].per_s = per_s;
	(*n)++;
	return 0;
}

double ceiling_get(const struct ceiling *c, char kind, const char *name)
{
	size_t *n;
	struct ceiling_entry *e = slot((struct ceiling *)c, kind, &n);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(e[i].name, name) == 0)
			return e[i].per_s;
	return 0;
}

double ceiling_handshake_us(const struct ceiling *c, const struct scenario *sc, const char **what)
{
	static _Thread_local char buf[96];
	double sign = ceiling_get(c, 's', sc->cert), kex = ceiling_get(c, 'k', sc->group);
	*what = "";
	if (sc->resume && sc->tls == 12) {
		*what = "none (TLS 1.2 resumption: symmetric crypto only)";
		return 0;
	}
	if (!(kex > 0) || (!sc->resume && !(sign > 0)))
		return 0;
	/* openssl speed's ECDH op is one derive; the key share costs about one more */
	double us = 2e6 / kex + (sc->resume ? 0 : 1e6 / sign);
	if (sc->resume)
		snprintf(buf, sizeof buf, "%s keygen+derive", sc->group);
	else
		snprintf(buf, sizeof buf, "%s sign + %s keygen+derive", sc->cert, sc->group);
	*what = buf;
	return us;
}

static int measure_one(struct ceiling *c, char kind, const char *name, unsigned seconds,
		       int cpu, char *err, size_t errlen)
{
	const char *alg = ceiling_speed_alg(kind, name);
	char secs[16], *out = NULL;
	char *argv[12];
	int n = 0, st = 0, rc;
	double v;

	if (!alg) {
		snprintf(err, errlen, "no openssl speed algorithm for %s", name);
		return -EINVAL;
	}
	snprintf(secs, sizeof secs, "%u", seconds);
	argv[n++] = "openssl";
	argv[n++] = "speed";
	argv[n++] = "-mr";
	argv[n++] = "-seconds";
	argv[n++] = secs;
	if (kind == 'a') {
		argv[n++] = "-bytes";
		argv[n++] = CEILING_AEAD_BYTES;
		argv[n++] = "-aead";
		argv[n++] = "-evp";
	}
	argv[n++] = (char *)alg;
	argv[n] = NULL;
	rc = proc_capture(argv, cpu, seconds * 4 + 20, &out, &st);
	if (rc) {
		snprintf(err, errlen, "openssl speed %s: %s (is the openssl CLI installed? apt-get install openssl)",
			 alg, strerror(-rc));
		return rc;
	}
	rc = ceiling_parse_mr(out, kind, &v);
	free(out);
	if (rc || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "openssl speed -mr %s gave no result (exit %d): this OpenSSL may lack %s",
			 alg, WIFEXITED(st) ? WEXITSTATUS(st) : -1, alg);
		return -EINVAL;
	}
	return add(c, kind, name, v);
}

int ceiling_measure_cpu(struct ceiling *c, const struct suite *s, unsigned seconds, int cpu,
			void (*progress)(const char *what, void *arg), void *arg,
			char *err, size_t errlen)
{
	c->seconds = seconds;
	for (size_t i = 0; i < N_ALGS; i++) {
		bool need = false;
		for (size_t j = 0; j < s->n && !need; j++) {
			const struct scenario *sc = &s->sc[j];
			if (algs[i].kind == 'a')
				need = sc->kind != SCEN_HANDSHAKE && strcmp(sc->cipher, algs[i].name) == 0;
			else if (algs[i].kind == 's')
				need = sc->kind == SCEN_HANDSHAKE && strcmp(sc->cert, algs[i].name) == 0;
			else
				need = sc->kind == SCEN_HANDSHAKE && strcmp(sc->group, algs[i].name) == 0;
		}
		if (!need)
			continue;
		if (progress)
			progress(algs[i].alg, arg);
		int rc = measure_one(c, algs[i].kind, algs[i].name, seconds, cpu, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static cJSON *entries_json(const struct ceiling_entry *e, size_t n, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < n; i++) {
		cJSON *x = cJSON_AddObjectToObject(o, e[i].name);
		cJSON_AddNumberToObject(x, key, e[i].per_s);
		if (strcmp(key, "bytes_per_s") == 0) {
			cJSON_AddNumberToObject(x, "megabytes_per_s", e[i].per_s / 1e6);
			cJSON_AddNumberToObject(x, "ns_per_byte", 1e9 / e[i].per_s);
		} else {
			cJSON_AddNumberToObject(x, "us_per_op", 1e6 / e[i].per_s);
		}
	}
	return o;
}

cJSON *ceiling_to_json(const struct ceiling *c)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	util_json_add_build(o, "ktls-bench");
	cJSON_AddStringToObject(o, "source", "openssl speed -mr");
	cJSON_AddNumberToObject(o, "seconds_each", c->seconds);
	cJSON_AddNumberToObject(o, "aead_buffer_bytes", atoi(CEILING_AEAD_BYTES));
	cJSON_AddStringToObject(o, "aead_mode", CEILING_AEAD_MODE);
	cJSON_AddItemToObject(o, "sign", entries_json(c->sign, c->n_sign, "per_s"));
	cJSON_AddItemToObject(o, "kex", entries_json(c->kex, c->n_kex, "per_s"));
	cJSON_AddItemToObject(o, "aead", entries_json(c->aead, c->n_aead, "bytes_per_s"));
	return o;
}

static int entries_from(const cJSON *o, struct ceiling *c, char kind, const char *key)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, o) {
		double v = util_json_num(e, key, 0);
		if (!(v > 0) || !e->string)
			return -EINVAL;
		if (add(c, kind, e->string, v))
			return -EINVAL;
	}
	return 0;
}

int ceiling_from_json(const cJSON *o, struct ceiling *c)
{
	memset(c, 0, sizeof *c);
	c->seconds = util_json_num(o, "seconds_each", 0);
	if (entries_from(cJSON_GetObjectItemCaseSensitive(o, "sign"), c, 's', "per_s") ||
	    entries_from(cJSON_GetObjectItemCaseSensitive(o, "kex"), c, 'k', "per_s") ||
	    entries_from(cJSON_GetObjectItemCaseSensitive(o, "aead"), c, 'a', "bytes_per_s"))
		return -EINVAL;
	return 0;
}

/* bench/suite.c: the suite file format, parsed strictly and expanded.
 *
 * One scenario line per line:
 *     KIND key=value[,value...] ...
 * KIND is handshake, bulk, file or hyperfine; a comma list expands into one
 * scenario per value, and several lists into their cross product (the last
 * keys, conns then openssl, vary fastest). "defaults key=value ..." sets
 * values for the lines that follow (a key a kind does not take is ignored
 * there). '#' starts a comment; blank lines are ignored. Every error names
 * file:line, the bad word and the valid values.
 */
#include "bench/bench.h"
#include "bench/format.h"

#include <ctype.h>
#include <sched.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/units.h"

static const char *const kind_names[SCEN_KIND_COUNT] = {
	"handshake", "bulk", "file", "hyperfine",
};

const char *scen_kind_name(enum scen_kind k)
{
	return k < SCEN_KIND_COUNT ? kind_names[k] : "?";
}

int scen_kind_parse(const char *s, enum scen_kind *k)
{
	for (int i = 0; i < SCEN_KIND_COUNT; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum scen_kind)i;
			return 0;
		}
	return -EINVAL;
}

/* --- keys ---------------------------------------------------------------------- */
enum key {
	K_TLS, K_CERT, K_GROUP, K_CIPHER, K_LAYER, K_RESUME, K_SIZE, K_DURATION,
	K_WARMUP, K_RUNS, K_THREADS, K_CONNS, K_OPENSSL, K_NUM, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"tls", "cert", "group", "cipher", "layer", "resume", "size", "duration",
	"warmup", "runs", "threads", "conns", "openssl", "count",
};

/* Built-in defaults, used when neither the line nor a defaults line says. */
static const char *const key_defaults[K_COUNT] = {
	"1.3", "ecdsa-p256", "X25519", "AES-128-GCM", "user", "no", "1M", "2s",
	"0s", "3", "1", "1", "shims", "0",
};

#define KB(k) (1u << (k))
static const unsigned kind_keys[SCEN_KIND_COUNT] = {
	[SCEN_HANDSHAKE] = KB(K_TLS) | KB(K_CERT) | KB(K_GROUP) | KB(K_CIPHER) |
			   KB(K_RESUME) | KB(K_CONNS) | KB(K_DURATION) | KB(K_WARMUP) | KB(K_THREADS) |
			   KB(K_OPENSSL) | KB(K_NUM),
	[SCEN_BULK] = KB(K_TLS) | KB(K_CERT) | KB(K_GROUP) | KB(K_CIPHER) | KB(K_LAYER) |
		      KB(K_SIZE) | KB(K_CONNS) | KB(K_DURATION) | KB(K_WARMUP) | KB(K_THREADS) | KB(K_NUM),
	[SCEN_FILE] = KB(K_TLS) | KB(K_CERT) | KB(K_GROUP) | KB(K_CIPHER) | KB(K_LAYER) |
		      KB(K_SIZE) | KB(K_CONNS) | KB(K_DURATION) | KB(K_WARMUP) | KB(K_THREADS) | KB(K_NUM),
	[SCEN_HYPERFINE] = KB(K_TLS) | KB(K_CERT) | KB(K_GROUP) | KB(K_CIPHER) |
			   KB(K_LAYER) | KB(K_SIZE) | KB(K_RUNS),
};

static const char *const certs[] = { "ecdsa-p256", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519", NULL };
static const char *const groups[] = { "X25519", "P-256", "P-384", "X448", NULL };
static const char *const ciphers[] = { "AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", NULL };
static const char *const layers[] = { "user", "ktls", NULL };

static int pick(const char *const *set, const char *v, char *out, size_t len)
{
	for (; *set; set++)
		if (strcasecmp(*set, v) == 0) {
			snprintf(out, len, "%s", *set);
			return 0;
		}
	return -EINVAL;
}

static void join(const char *const *set, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (; *set && o < len; set++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", *set);
}

/* Parse one value of key k into sc; on error write what was valid into hint. */
static int key_apply(enum key k, const char *v, struct scenario *sc, char *hint, size_t hlen)
{
	uint64_t u;
	hint[0] = 0;
	switch (k) {
	case K_TLS:
		if (strcmp(v, "1.2") == 0) sc->tls = 12;
		else if (strcmp(v, "1.3") == 0) sc->tls = 13;
		else { snprintf(hint, hlen, "1.2, 1.3"); return -EINVAL; }
		return 0;
	case K_CERT:
		if (pick(certs, v, sc->cert, sizeof sc->cert) == 0) return 0;
		join(certs, hint, hlen);
		return -EINVAL;
	case K_GROUP:
		if (pick(groups, v, sc->group, sizeof sc->group) == 0) return 0;
		join(groups, hint, hlen);
		return -EINVAL;
	case K_CIPHER:
		if (pick(ciphers, v, sc->cipher, sizeof sc->cipher) == 0) return 0;
		join(ciphers, hint, hlen);
		return -EINVAL;
	case K_LAYER:
		if (pick(layers, v, sc->layer, sizeof sc->layer) == 0) return 0;
		join(layers, hint, hlen);
		return -EINVAL;
	case K_RESUME:
		if (strcmp(v, "yes") == 0) sc->resume = true;
		else if (strcmp(v, "no") == 0) sc->resume = false;
		else { snprintf(hint, hlen, "yes, no"); return -EINVAL; }
		return 0;
	case K_SIZE:
		if (units_parse_size(v, &u) || u == 0 || u > (1ull << 40)) {
			snprintf(hint, hlen, "a size from 1 to 1T, e.g. 4096, 64K, 1M, 1G");
			return -EINVAL;
		}
		sc->size = u;
		return 0;
	case K_DURATION:
	case K_WARMUP:
		if (units_parse_duration(v, &u) || (k == K_DURATION && u < 1000000ull) ||
		    u > 3600ull * 1000000000ull) {
			snprintf(hint, hlen, "a duration such as 500ms, 3s, 1m (%s, at most 1h)",
				 k == K_DURATION ? "at least 1ms" : "0s allowed");
			return -EINVAL;
		}
		if (k == K_DURATION) sc->duration_ns = u; else sc->warmup_ns = u;
		return 0;
	case K_THREADS: {
		/* S or S:C, server and client threads */
		uint64_t c = 1;
		char tmp[32], *colon;
		snprintf(tmp, sizeof tmp, "%s", v);
		colon = strchr(tmp, ':');
		if (colon)
			*colon = 0;
		if (strlen(v) >= sizeof tmp || units_parse_u64(tmp, &u) || u == 0 || u > 256 ||
		    (colon && (units_parse_u64(colon + 1, &c) || c == 0 || c > 256))) {
			snprintf(hint, hlen, "server threads, or server:client threads, from 1 to 256 "
				 "(e.g. 2, 4:2), or sweep: 1, 2, 4, ... up to this host's CPUs");
			return -EINVAL;
		}
		sc->threads = (unsigned)u;
		sc->client_threads = (unsigned)c;
		return 0;
	}
	case K_RUNS:
	case K_CONNS:
		if (units_parse_u64(v, &u) || u == 0 || u > (k == K_RUNS ? 100 : 100000)) {
			snprintf(hint, hlen, "a whole number from 1 to %d", k == K_RUNS ? 100 : 100000);
			return -EINVAL;
		}
		if (k == K_RUNS) sc->runs = (unsigned)u; else sc->conns = (unsigned)u;
		return 0;
	case K_NUM:
		/* a fixed number of handshakes or requests instead of a duration
		 * (0: run for duration=) */
		if (units_parse_u64(v, &u) || u > 10000000) {
			snprintf(hint, hlen, "a whole number of handshakes or requests from 1 to 10000000, "
				 "or 0 (run for duration=)");
			return -EINVAL;
		}
		sc->count = (unsigned)u;
		return 0;
	case K_OPENSSL:
		if (strcmp(v, "stock") == 0) sc->stock = true;
		else if (strcmp(v, "shims") == 0) sc->stock = false;
		else { snprintf(hint, hlen, "shims, stock (ktls-server --stock-openssl)"); return -EINVAL; }
		return 0;
	default:
		return -EINVAL;
	}
}

/* --- ids, lines, JSON ------------------------------------------------------------ */
static void lower_copy(char *dst, const char *src, size_t len)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = 0;
}

void scenario_make_id(struct scenario *sc)
{
	char cipher[24], group[12], sz[24];
	lower_copy(cipher, sc->cipher, sizeof cipher);
	lower_copy(group, sc->group, sizeof group);
	fmt_size_short(sc->size, sz, sizeof sz);
	char thr[32] = "";
	/* one thread each keeps the ids of runs made before threads= existed */
	if (sc->threads > 1 || sc->client_threads > 1)
		snprintf(thr, sizeof thr, "-t%u", sc->threads ? sc->threads : 1);
	if (sc->client_threads > 1)
		snprintf(thr + strlen(thr), sizeof thr - strlen(thr), "x%u", sc->client_threads);
	switch (sc->kind) {
	case SCEN_HANDSHAKE:
		snprintf(sc->id, sizeof sc->id, "hs-%d-%s-%s-%s-%s-c%u%s%s", sc->tls, sc->cert, group,
			 cipher, sc->resume ? "resumed" : "full", sc->conns, thr, sc->stock ? "-stock" : "");
		break;
	case SCEN_BULK:
	case SCEN_FILE:
		snprintf(sc->id, sizeof sc->id, "%s-%d-%s-%s-%s-c%u-%s-%s%s",
			 sc->kind == SCEN_BULK ? "bulk" : "file", sc->tls, cipher, sc->layer, sz,
			 sc->conns, sc->cert, group, thr);
		break;
	default:
		snprintf(sc->id, sizeof sc->id, "hyperfine-%d-%s-%s-%s-%s-%s", sc->tls, cipher,
			 sc->layer, sz, sc->cert, group);
		break;
	}
}

static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000000ull == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
	else if (ns % 1000000ull == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

int scenario_to_line(const struct scenario *sc, char *buf, size_t len)
{
	char d[32], w[32];
	int n;
	fmt_duration(sc->duration_ns, d, sizeof d);
	fmt_duration(sc->warmup_ns, w, sizeof w);
	n = snprintf(buf, len, "%s tls=%s cert=%s group=%s cipher=%s", scen_kind_name(sc->kind),
		     sc->tls == 12 ? "1.2" : "1.3", sc->cert, sc->group, sc->cipher);
	switch (sc->kind) {
	case SCEN_HANDSHAKE:
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0,
			      " resume=%s conns=%u duration=%s warmup=%s threads=%u:%u%s",
			      sc->resume ? "yes" : "no", sc->conns, d, w, scenario_threads(sc),
			      scenario_client_threads(sc), sc->stock ? " openssl=stock" : "");
		break;
	case SCEN_BULK:
	case SCEN_FILE:
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0,
			      " layer=%s size=%llu conns=%u duration=%s warmup=%s threads=%u:%u", sc->layer,
			      (unsigned long long)sc->size, sc->conns, d, w, scenario_threads(sc),
			      scenario_client_threads(sc));
		break;
	default:
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0,
			      " layer=%s size=%llu runs=%u", sc->layer,
			      (unsigned long long)sc->size, sc->runs);
		break;
	}
	if (sc->count && sc->kind != SCEN_HYPERFINE)
		n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, " count=%u", sc->count);
	return (size_t)n < len ? 0 : -ENOSPC;
}

cJSON *scenario_to_json(const struct scenario *sc)
{
	char line[512];
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", sc->id);
	cJSON_AddStringToObject(o, "kind", scen_kind_name(sc->kind));
	cJSON_AddStringToObject(o, "tls", sc->tls == 12 ? "1.2" : "1.3");
	cJSON_AddStringToObject(o, "cert", sc->cert);
	cJSON_AddStringToObject(o, "group", sc->group);
	cJSON_AddStringToObject(o, "cipher", sc->cipher);
	cJSON_AddStringToObject(o, "layer", sc->layer);
	cJSON_AddBoolToObject(o, "resume", sc->resume);
	if (sc->kind == SCEN_HANDSHAKE)
		cJSON_AddStringToObject(o, "openssl", sc->stock ? "stock" : "shims");
	cJSON_AddNumberToObject(o, "conns", sc->conns);
	cJSON_AddNumberToObject(o, "threads", scenario_threads(sc));
	cJSON_AddNumberToObject(o, "client_threads", scenario_client_threads(sc));
	cJSON_AddNumberToObject(o, "size_bytes", (double)sc->size);
	cJSON_AddNumberToObject(o, "duration_s", (double)sc->duration_ns / 1e9);
	cJSON_AddNumberToObject(o, "warmup_s", (double)sc->warmup_ns / 1e9);
	cJSON_AddNumberToObject(o, "runs", sc->runs);
	cJSON_AddStringToObject(o, "origin", sc->origin);
	if (scenario_to_line(sc, line, sizeof line) == 0)
		cJSON_AddStringToObject(o, "line", line);
	return o;
}

/* The "line" member is authoritative: it parses with the same strict rules. */
int scenario_from_json(const cJSON *o, struct scenario *sc)
{
	const cJSON *line = cJSON_GetObjectItemCaseSensitive(o, "line");
	const cJSON *origin = cJSON_GetObjectItemCaseSensitive(o, "origin");
	struct suite s = { 0 };
	char err[256];
	if (!cJSON_IsString(line))
		return -EINVAL;
	if (suite_parse_text(&s, line->valuestring, "run.json", err, sizeof err) || s.n != 1) {
		suite_free(&s);
		return -EINVAL;
	}
	*sc = s.sc[0];
	if (cJSON_IsString(origin))
		snprintf(sc->origin, sizeof sc->origin, "%s", origin->valuestring);
	suite_free(&s);
	return 0;
}

const char *scenario_ciphersuite(const struct scenario *sc)
{
	if (strcmp(sc->cipher, "AES-256-GCM") == 0)
		return "TLS_AES_256_GCM_SHA384";
	if (strcmp(sc->cipher, "CHACHA20-POLY1305") == 0)
		return "TLS_CHACHA20_POLY1305_SHA256";
	return "TLS_AES_128_GCM_SHA256";
}

/* TLS 1.2 lets an ECDSA certificate be used only on a curve the client lists
 * in supported_groups: with an ECDSA P-256 certificate and another key
 * exchange, P-256 is listed second (the key exchange stays the first). */
const char *scenario_groups(const struct scenario *sc, char *buf, size_t len)
{
	if (sc->tls == 12 && strcmp(sc->cert, "ecdsa-p256") == 0 && strcmp(sc->group, "P-256") != 0)
		snprintf(buf, len, "%s:P-256", sc->group);
	else
		snprintf(buf, len, "%s", sc->group);
	return buf;
}

const char *scenario_cipher12(const struct scenario *sc)
{
	bool rsa = strncmp(sc->cert, "rsa", 3) == 0;
	if (strcmp(sc->cipher, "AES-256-GCM") == 0)
		return rsa ? "ECDHE-RSA-AES256-GCM-SHA384" : "ECDHE-ECDSA-AES256-GCM-SHA384";
	if (strcmp(sc->cipher, "CHACHA20-POLY1305") == 0)
		return rsa ? "ECDHE-RSA-CHACHA20-POLY1305" : "ECDHE-ECDSA-CHACHA20-POLY1305";
	return rsa ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256";
}

unsigned scenario_threads(const struct scenario *sc)
{
	return sc->threads ? sc->threads : 1;
}

unsigned scenario_client_threads(const struct scenario *sc)
{
	return sc->client_threads ? sc->client_threads : 1;
}

/* The CPUs this process may run on. */
static unsigned usable_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set))
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

/* threads=sweep (or sweep:C): 1, 2, 4, ... and this host's CPU count. */
static char *expand_sweep(const char *v, unsigned ncpu)
{
	char *out = malloc(strlen(v) + 512), *o = out;
	const char *p = v;
	if (!out)
		return NULL;
	*o = 0;
	while (*p) {
		size_t w = strcspn(p, ",");
		if (w >= 5 && !strncmp(p, "sweep", 5) && (w == 5 || p[5] == ':')) {
			char cl[32] = "";
			if (w > 5)
				snprintf(cl, sizeof cl, "%.*s", (int)(w - 5), p + 5);
			for (unsigned t = 1; t <= ncpu && (size_t)(o - out) < strlen(v) + 400; t *= 2)
				o += sprintf(o, "%s%u%s", o == out ? "" : ",", t, cl);
			if (ncpu & (ncpu - 1))
				o += sprintf(o, ",%u%s", ncpu, cl);
		} else {
			o += sprintf(o, "%s%.*s", o == out ? "" : ",", (int)w, p);
		}
		p += w;
		if (*p == ',')
			p++;
	}
	return out;
}

/* --- parsing --------------------------------------------------------------------- */
struct lineval {
	char *v[K_COUNT];          /* raw value text (a comma list), or NULL */
};

static int fail(char *err, size_t errlen, const char *name, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *name, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", name, line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int key_lookup(const char *k)
{
	for (int i = 0; i < K_COUNT; i++)
		if (strcmp(k, key_names[i]) == 0)
			return i;
	return -1;
}

static void kind_key_list(int kind, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < K_COUNT && o < len; i++)
		if (kind < 0 || (kind_keys[kind] & KB(i)))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", key_names[i]);
}

static int suite_push(struct suite *s, const struct scenario *sc)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct scenario *p = realloc(s->sc, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		s->sc = p;
		s->cap = cap;
	}
	s->sc[s->n++] = *sc;
	return 0;
}

/* Split the value lists of a line into tokens and expand their cross product. */
static int expand(struct suite *s, enum scen_kind kind, char *vals[K_COUNT],
		  const char *name, int line, char *err, size_t errlen)
{
	char *tok[K_COUNT][64];
	size_t ntok[K_COUNT] = { 0 }, idx[K_COUNT] = { 0 };
	size_t total = 1;
	char hint[256];

	for (int k = 0; k < K_COUNT; k++) {
		if (!(kind_keys[kind] & KB(k)))
			continue;
		char *p = vals[k];
		for (;;) {
			char *c = strchr(p, ',');
			if (c)
				*c = 0;
			if (!*p)
				return fail(err, errlen, name, line, "empty value in %s= (write a,b,c)", key_names[k]);
			if (ntok[k] == 64)
				return fail(err, errlen, name, line, "more than 64 values for %s=", key_names[k]);
			struct scenario tmp = { 0 };
			if (key_apply((enum key)k, p, &tmp, hint, sizeof hint))
				return fail(err, errlen, name, line, "bad %s value '%s' (valid: %s)",
					    key_names[k], p, hint);
			tok[k][ntok[k]++] = p;
			if (!c)
				break;
			p = c + 1;
		}
		total *= ntok[k];
		if (total > SUITE_MAX_SCENARIOS)
			return fail(err, errlen, name, line, "expands to more than %d scenarios",
				    SUITE_MAX_SCENARIOS);
	}
	if (s->n + total > SUITE_MAX_SCENARIOS)
		return fail(err, errlen, name, line, "the suite grows past %d scenarios",
			    SUITE_MAX_SCENARIOS);

	for (size_t i = 0; i < total; i++) {
		struct scenario sc = { .kind = kind };
		for (int k = 0; k < K_COUNT; k++)
			if (ntok[k])
				key_apply((enum key)k, tok[k][idx[k]], &sc, hint, sizeof hint);
		if (!sc.layer[0])
			snprintf(sc.layer, sizeof sc.layer, "user"); /* handshakes: ours in userspace */
		if (kind == SCEN_HYPERFINE && sc.size < 1024)
			return fail(err, errlen, name, line, "hyperfine size must be at least 1K");
		scenario_make_id(&sc);
		snprintf(sc.origin, sizeof sc.origin, "%s:%d", name, line);
		for (size_t j = 0; j < s->n; j++)
			if (strcmp(s->sc[j].id, sc.id) == 0)
				return fail(err, errlen, name, line,
					    "scenario %s repeats the one from %s (remove one)",
					    sc.id, s->sc[j].origin);
		if (suite_push(s, &sc))
			return fail(err, errlen, name, line, "out of memory");
		/* odometer: the last key varies fastest */
		for (int k = K_COUNT - 1; k >= 0; k--) {
			if (!ntok[k])
				continue;
			if (++idx[k] < ntok[k])
				break;
			idx[k] = 0;
		}
	}
	return 0;
}

int suite_parse_text(struct suite *s, const char *text, const char *name,
		     char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *ln;
	char *defaults[K_COUNT] = { 0 };
	int line = 0, rc = 0;
	char keys[256];

	if (!copy)
		return -ENOMEM;
	/* strtok_r would skip empty lines and lose the numbering: walk by hand */
	for (char *p = copy; p && rc == 0; ) {
		ln = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = 0;
		line++;
		char *hash = strchr(ln, '#');
		if (hash)
			*hash = 0;

		char *word = strtok_r(ln, " \t\r", &save);
		if (!word)
			continue;
		bool is_defaults = strcmp(word, "defaults") == 0;
		enum scen_kind kind = SCEN_HANDSHAKE;
		if (!is_defaults && scen_kind_parse(word, &kind)) {
			rc = fail(err, errlen, name, line,
				  "unknown line kind '%s' (valid: handshake, bulk, file, hyperfine, defaults)",
				  word);
			break;
		}
		char *vals[K_COUNT] = { 0 };
		while ((word = strtok_r(NULL, " \t\r", &save))) {
			char *eq = strchr(word, '=');
			if (!eq || eq == word) {
				rc = fail(err, errlen, name, line, "'%s' is not key=value", word);
				break;
			}
			*eq = 0;
			int k = key_lookup(word);
			kind_key_list(is_defaults ? -1 : (int)kind, keys, sizeof keys);
			if (k < 0 || (!is_defaults && !(kind_keys[kind] & KB(k)))) {
				rc = fail(err, errlen, name, line, "unknown key '%s' for %s (keys: %s)",
					  word, is_defaults ? "defaults" : scen_kind_name(kind), keys);
				break;
			}
			if (vals[k]) {
				rc = fail(err, errlen, name, line, "key '%s' given twice", word);
				break;
			}
			vals[k] = eq + 1;
		}
		if (rc)
			break;
		if (is_defaults) {
			char hint[256];
			for (int k = 0; k < K_COUNT && rc == 0; k++) {
				if (!vals[k])
					continue;
				/* check every value now, so the error points at this line */
				char *dup = strdup(vals[k]), *sp = NULL;
				if (!dup) {
					rc = -ENOMEM;
					break;
				}
				for (char *t = strtok_r(dup, ",", &sp); t && rc == 0; t = strtok_r(NULL, ",", &sp)) {
					struct scenario tmp = { 0 };
					if (k == K_THREADS && !strncmp(t, "sweep", 5) && (!t[5] || t[5] == ':')) {
						char one[40]; /* sweep:C checked as 1:C */
						snprintf(one, sizeof one, "1%.30s", t + 5);
						if (!key_apply((enum key)k, one, &tmp, hint, sizeof hint))
							continue; /* expanded per line */
					}
					if (key_apply((enum key)k, t, &tmp, hint, sizeof hint))
						rc = fail(err, errlen, name, line, "bad %s value '%s' (valid: %s)",
							  key_names[k], t, hint);
				}
				free(dup);
				if (rc)
					break;
				free(defaults[k]);
				defaults[k] = strdup(vals[k]);
				if (!defaults[k])
					rc = -ENOMEM;
			}
			continue;
		}
		char *buf[K_COUNT] = { 0 };
		for (int k = 0; k < K_COUNT && rc == 0; k++) {
			const char *v = vals[k] ? vals[k] : defaults[k] ? defaults[k] : key_defaults[k];
			if (kind == SCEN_HYPERFINE && k == K_LAYER && !vals[k] && !defaults[k])
				v = "user,ktls"; /* the point of hyperfine: both layers */
			buf[k] = k == K_THREADS ? expand_sweep(v, usable_cpus()) : strdup(v);
			if (!buf[k])
				rc = -ENOMEM;
		}
		if (rc == 0)
			rc = expand(s, kind, buf, name, line, err, errlen);
		for (int k = 0; k < K_COUNT; k++)
			free(buf[k]);
	}
	for (int k = 0; k < K_COUNT; k++)
		free(defaults[k]);
	free(copy);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	return rc;
}

int suite_load(struct suite *s, const char *name_or_path, const char *suites_dir,
	       char *err, size_t errlen)
{
	char path[1024];
	size_t len;
	char *text;
	int rc;

	/* a name without a slash that is no file here is one of bench/suites/ */
	if (!strchr(name_or_path, '/') && suites_dir && access(name_or_path, F_OK) != 0)
		snprintf(path, sizeof path, "%s/%s", suites_dir, name_or_path);
	else
		snprintf(path, sizeof path, "%s", name_or_path);
	text = util_read_file(path, &len);
	if (!text) {
		rc = -errno;
		snprintf(err, errlen, "cannot read suite %s: %s (give quick, full, or the path of a suite file)",
			 path, strerror(errno));
		return rc;
	}
	if (strlen(text) != len) {
		free(text);
		snprintf(err, errlen, "%s: not a text file (it contains a NUL byte)", path);
		return -EINVAL;
	}
	rc = suite_parse_text(s, text, path, err, errlen);
	free(text);
	if (rc == 0 && s->n == 0) {
		snprintf(err, errlen, "%s: no scenarios (add a line such as 'handshake conns=1,8')", path);
		rc = -EINVAL;
	}
	return rc;
}

void suite_free(struct suite *s)
{
	free(s->sc);
	s->sc = NULL;
	s->n = s->cap = 0;
}

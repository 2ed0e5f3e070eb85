/* client/cli.c: ktls-client's command line. */
#include "client/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http.h"
#include "client/url.h"
#include "common/cpus.h"
#include "common/units.h"
#include "common/version.h"

#define DEF_HOST "127.0.0.1"
#define DEF_PORT 8443
#define DEF_DURATION "10s"
#define DEF_TIMEOUT "5s"
#define DEF_CONNECTIONS 16
#define DEF_MAX_INFLIGHT 1024
#define DEF_SIZE "64K"
#define DEF_TRACE_REQUEST "/"

const char *mode_name(enum client_mode m)
{
	return m == MODE_HANDSHAKE ? "handshake" : m == MODE_GET ? "get" : "trace";
}

void cli_usage(FILE *f)
{
	fprintf(f,
"usage: ktls-client handshake|get|trace [https://HOST[:PORT][/PATH]] [OPTIONS]\n"
"\n"
"Commands:\n"
"  handshake   connect, TLS handshake, optionally one request, close; again and again\n"
"  get         keep-alive requests on a few connections (bulk throughput, latency)\n"
"  trace       one connection, each handshake message explained in order\n"
"  help        this text\n"
"\n"
"Target: a URL (as wrk and h2load take it: its port defaults to --port, else 443;\n"
"its path is get's path, handshake's --request unless it is '/', trace's --request),\n"
"or the options below; a URL and an option that disagree are an error.\n"
"      --host HOST          server address or name (default " DEF_HOST ")\n"
"  -p, --port PORT          server port (default %d)\n"
"      --sni NAME           server name sent in the ClientHello (default: --host\n"
"                           when it is a name, none for an address)\n"
"      --bind LIST          source addresses, used in turn: 127.0.0.2-127.0.0.9,\n"
"                           10.0.0.1,10.0.0.2 or ::1 (default: the kernel's choice);\n"
"                           each gives its own ephemeral ports\n"
"Load (handshake, get):\n"
"  -c, --connections N      connections: closed loop, in flight; get --rate: kept\n"
"                           open (default %d)\n"
"  -r, --rate R             open loop: start R handshakes (get: requests) per second\n"
"                           on a fixed schedule whatever the server does; latency\n"
"                           counts from the scheduled start (default: closed loop)\n"
"      --max-inflight N     handshake --rate: most connections in flight (default %d)\n"
"  -n, --handshakes N       handshake: stop after starting N connections (default: none)\n"
"  -n, --requests N         get: stop after N requests (default: none)\n"
"  -d, --duration D         measured time (default " DEF_DURATION "; also the cap with -n)\n"
"  -w, --warmup D           run this long first, not counted (default 0)\n"
"      --timeout D          connect, handshake and each request (default " DEF_TIMEOUT ")\n"
"  -t, --threads N          worker threads (default 1)\n"
"      --cpus LIST          pin worker i to the i-th CPU of LIST, e.g. 1 or 2-3\n"
"                           (default: not pinned)\n"
"Requests:\n"
"      --request PATH       handshake: one request per connection before closing\n"
"                           (trace: default " DEF_TRACE_REQUEST "; 'none' for no request)\n"
"  -s, --size N             get: GET /bytes/N, checked against the pattern\n"
"                           (default " DEF_SIZE ")\n"
"      --path PATH          get: this path instead (e.g. /file/x; /bytes/N is checked);\n"
"                           repeat it (or --request) for several paths, sent in turn\n"
"      --paths FILE         paths from FILE, one a line, sent in turn (h2load -i)\n"
"      --method M           request method (default GET; HEAD responses have no body)\n"
"  -H, --header 'N: V'      add a request header (repeatable; Host replaces the default)\n"
"      --body FILE          send FILE as the request body (with Content-Length)\n"
"Handshake mode:\n"
"      --resume             offer the previous session of the connection slot: TLS 1.3\n"
"                           tickets, TLS 1.2 tickets (default off)\n"
"      --no-tickets         with --resume on TLS 1.2: session IDs instead of tickets\n"
"      --early-data         with --resume and --request on TLS 1.3: send the request\n"
"                           as early data (0-RTT) when the ticket allows it; a\n"
"                           rejected one, or one answered 425 Too Early, is sent\n"
"                           again after the handshake (trace --resume too: the\n"
"                           resumed connection)\n"
"Get mode:\n"
"      --rx user|ktls       who decrypts responses: OpenSSL, or the kernel through\n"
"                           libktls (default user)\n"
"Trace mode:\n"
"      --ktls               move the record layer into the kernel after the handshake\n"
"      --resume             a full handshake, then a resumed one on a new connection,\n"
"                           side by side\n"
"TLS:\n"
"      --tls-version V      1.2, 1.3 or any (default any)\n"
"      --ciphers LIST       TLS 1.2 ciphers (default: OpenSSL's)\n"
"      --ciphersuites LIST  TLS 1.3 suites (default: OpenSSL's)\n"
"      --groups LIST        key exchange groups, e.g. X25519:P-256 (default: OpenSSL's)\n"
"      --sigalgs LIST       signature algorithms (default: OpenSSL's)\n"
"      --verify CAFILE      check the server's certificate chain and name against\n"
"                           CAFILE (default: off, and the report says so)\n"
"      --stock-openssl      OpenSSL as other clients use it: every shim of osslshim/\n"
"                           off (the server's key decoded by the provider decoders\n"
"                           for every handshake, OpenSSL's own ECDSA verification,\n"
"                           X25519 key generation, TLS 1.3 key schedule and\n"
"                           malloc). Default: the shims, where OpenSSL has their\n"
"                           APIs (same checks, same bytes, far less CPU per\n"
"                           handshake). --provider-keys is an old name for it\n"
"Output:\n"
"  -j, --json FILE          write the results as JSON to FILE ('-': stdout)\n"
"      --hdr-log FILE       write the latencies as an HdrHistogram interval log\n"
"                           (one histogram a second, in nanoseconds; '-': stdout)\n"
"      --progress           a progress line a second on stderr, even when it is not\n"
"                           a terminal (default: only on a terminal)\n"
"  -q, --quiet              no progress line\n"
"  -h, --help               this text\n"
"      --version            the version and git commit of this build\n"
"\n"
"Units: durations 250ms, 10s, 2m (a bare number is seconds); sizes 64K, 1M, 1G\n"
"(x1024); rates and counts 500, 10k, 1M (x1000).\n"
"SSLKEYLOGFILE=path appends the session secrets there (for Wireshark).\n"
"Exit status: 0 when the run completed, 1 when it could not run, nothing\n"
"succeeded (no handshake, or no request answered 2xx), --resume resumed\n"
"nothing, or a body did not match the pattern; 2 on a usage error (including\n"
"a --json or --hdr-log path that cannot be written, checked before the run).\n",
		DEF_PORT, DEF_CONNECTIONS, DEF_MAX_INFLIGHT);
}

enum {
	O_HOST = 256, O_SNI, O_MAX_INFLIGHT, O_TIMEOUT, O_CPUS, O_REQUEST, O_RESUME, O_NO_TICKETS,
	O_PATH, O_RX, O_KTLS, O_TLS_VERSION, O_CIPHERS, O_CIPHERSUITES, O_GROUPS, O_SIGALGS,
	O_VERIFY, O_PROVIDER_KEYS, O_VERSION, O_PATHS, O_METHOD, O_BODY, O_HDR_LOG, O_PROGRESS,
	O_BIND, O_EARLY,
};

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, 'p' },
	{ "sni", required_argument, NULL, O_SNI },
	{ "bind", required_argument, NULL, O_BIND },
	{ "connections", required_argument, NULL, 'c' },
	{ "rate", required_argument, NULL, 'r' },
	{ "max-inflight", required_argument, NULL, O_MAX_INFLIGHT },
	{ "handshakes", required_argument, NULL, 'n' },
	{ "requests", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "threads", required_argument, NULL, 't' },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "request", required_argument, NULL, O_REQUEST },
	{ "resume", no_argument, NULL, O_RESUME },
	{ "no-tickets", no_argument, NULL, O_NO_TICKETS },
	{ "early-data", no_argument, NULL, O_EARLY },
	{ "size", required_argument, NULL, 's' },
	{ "path", required_argument, NULL, O_PATH },
	{ "paths", required_argument, NULL, O_PATHS },
	{ "method", required_argument, NULL, O_METHOD },
	{ "header", required_argument, NULL, 'H' },
	{ "body", required_argument, NULL, O_BODY },
	{ "rx", required_argument, NULL, O_RX },
	{ "ktls", no_argument, NULL, O_KTLS },
	{ "tls-version", required_argument, NULL, O_TLS_VERSION },
	{ "ciphers", required_argument, NULL, O_CIPHERS },
	{ "ciphersuites", required_argument, NULL, O_CIPHERSUITES },
	{ "groups", required_argument, NULL, O_GROUPS },
	{ "sigalgs", required_argument, NULL, O_SIGALGS },
	{ "verify", required_argument, NULL, O_VERIFY },
	{ "stock-openssl", no_argument, NULL, O_PROVIDER_KEYS },
	{ "provider-keys", no_argument, NULL, O_PROVIDER_KEYS },
	{ "json", required_argument, NULL, 'j' },
	{ "hdr-log", required_argument, NULL, O_HDR_LOG },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "ktls-client: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n(ktls-client --help lists the options)\n");
	return 2;
}

/* A parse error for option name with value v, by the parser's return code. */
static int bad_number(const char *name, const char *v, int rc, const char *want)
{
	fprintf(stderr, "ktls-client: %s '%s': %s; expected %s\n", name, v,
		rc == -ERANGE ? "out of range" : "not a valid value", want);
	return 2;
}

static int resolve(struct client_cfg *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	unsigned char tmp[16];
	int rc;

	cfg->host_is_ip = inet_pton(AF_INET, cfg->host, tmp) == 1 ||
			  inet_pton(AF_INET6, cfg->host, tmp) == 1;
	snprintf(port, sizeof(port), "%u", cfg->port);
	/* with --bind, the server's address of the same family */
	if (cfg->nbinds)
		hints.ai_family = cfg->binds[0].ss_family;
	rc = getaddrinfo(cfg->host, port, &hints, &res);
	if (rc || !res) {
		fprintf(stderr, "ktls-client: --host %s: cannot resolve%s: %s (give an address such as "
			"127.0.0.1, or a name in /etc/hosts)\n", cfg->host,
			cfg->nbinds ? " to the family of --bind's addresses" : "", gai_strerror(rc));
		return 2;
	}
	memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
	cfg->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void cli_free(struct client_cfg *cfg)
{
	request_free(cfg);
	free(cfg->binds);
	cfg->binds = NULL;
	cfg->nbinds = 0;
}

/* The URL argument: merged with --host, --port and the path options. */
static int apply_url(struct client_cfg *cfg, const char *arg, bool have_host, bool have_port,
		     bool have_paths, bool have_size, bool have_request)
{
	static struct url u; /* cfg->host points into it */
	char err[1200];

	if (url_parse(arg, &u, err, sizeof err))
		return bad("%s%s", err, "");
	if (have_host && strcmp(cfg->host, u.host)) {
		fprintf(stderr, "ktls-client: the URL names host '%s' but --host says '%s': give one "
			"of them\n", u.host, cfg->host);
		return 2;
	}
	if (u.have_port && have_port && u.port != cfg->port) {
		fprintf(stderr, "ktls-client: the URL names port %u but --port says %u: give one of "
			"them\n", u.port, cfg->port);
		return 2;
	}
	cfg->url = arg;
	cfg->host = u.host;
	if (u.have_port || !have_port)
		cfg->port = u.port;
	/* the path: get's path, handshake's --request (unless '/'), trace's --request */
	if (!u.path[0] || (cfg->mode == MODE_HANDSHAKE && !strcmp(u.path, "/")))
		return 0;
	if (have_paths || have_size || have_request) {
		fprintf(stderr, "ktls-client: the URL gives the path %s and so do %s: give it once\n",
			u.path, have_size ? "--size" : "--path/--paths/--request");
		return 2;
	}
	if (request_add_path(cfg, u.path, err, sizeof err))
		return bad("%s%s", err, "");
	return 0;
}

/* The Host header: --sni, else host:port ([v6]:port). */
static void host_header(const struct client_cfg *cfg, char *buf, size_t len)
{
	if (cfg->sni)
		snprintf(buf, len, "%s", cfg->sni);
	else if (cfg->addr.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", cfg->host, cfg->port);
	else
		snprintf(buf, len, "%s:%u", cfg->host, cfg->port);
}

/* Which options the command line gave (the checks across options need it). */
struct seen {
	bool conns, size, max, count, host, port, paths, request, method;
	bool trace_no_request; /* trace --request none */
};

/* The command and every default. 0, or 2 for an unknown command. */
static int cli_defaults(struct client_cfg *cfg, const char *cmd)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!strcmp(cmd, "handshake"))
		cfg->mode = MODE_HANDSHAKE;
	else if (!strcmp(cmd, "get"))
		cfg->mode = MODE_GET;
	else if (!strcmp(cmd, "trace"))
		cfg->mode = MODE_TRACE;
	else
		return bad("unknown command '%s'%s", cmd, "");
	cfg->host = DEF_HOST;
	cfg->port = DEF_PORT;
	cfg->threads = 1;
	cfg->method = "GET";
	units_parse_duration(DEF_DURATION, &cfg->duration_ns);
	units_parse_duration(DEF_TIMEOUT, &cfg->timeout_ns);
	cfg->connections = DEF_CONNECTIONS;
	cfg->max_inflight = DEF_MAX_INFLIGHT;
	units_parse_size(DEF_SIZE, &cfg->size);
	cfg->rx = RX_USER;
	tlsopts_init(&cfg->tls);
	return 0;
}

/* One option (getopt's opt and its argument a). 0: taken; 1 after --help or
 * --version; 2 on a usage error. */
static int cli_option(struct client_cfg *cfg, int opt, const char *a, struct seen *seen)
{
	char err[1200];
	uint64_t v;
	int rc;

	switch (opt) {
	case O_HOST: cfg->host = a; seen->host = true; break;
	case 'p':
		if ((rc = units_parse_u64(a, &v)) || v == 0 || v > 65535)
			return bad_number("--port", a, rc ? rc : -ERANGE, "1-65535");
		cfg->port = (uint16_t)v;
		seen->port = true;
		break;
	case O_SNI: cfg->sni = a; break;
	case O_BIND:
		free(cfg->binds);
		cfg->binds = NULL;
		if (bind_parse(a, &cfg->binds, &cfg->nbinds, err, sizeof err))
			return bad("--bind %s: %s", a, err);
		break;
	case 'c':
		if ((rc = units_parse_rate(a, &v)) || v == 0 || v > 1000000)
			return bad_number("--connections", a, rc ? rc : -ERANGE, "1 to 1M");
		cfg->connections = v;
		seen->conns = true;
		break;
	case 'r':
		if ((rc = units_parse_rate(a, &v)) || v == 0 || v > 10000000)
			return bad_number("--rate", a, rc ? rc : -ERANGE,
					  "starts per second, 1 to 10M (e.g. 500, 10k)");
		cfg->rate = v;
		break;
	case O_MAX_INFLIGHT:
		if ((rc = units_parse_rate(a, &v)) || v == 0 || v > 1000000)
			return bad_number("--max-inflight", a, rc ? rc : -ERANGE, "1 to 1M");
		cfg->max_inflight = v;
		seen->max = true;
		break;
	case 'n':
		if ((rc = units_parse_rate(a, &v)) || v == 0)
			return bad_number("--handshakes/--requests", a, rc ? rc : -ERANGE,
					  "a count such as 1000 or 10k");
		cfg->count = v;
		seen->count = true;
		break;
	case 'd':
		if ((rc = units_parse_duration(a, &cfg->duration_ns)) || cfg->duration_ns < NS_PER_MS)
			return bad_number("--duration", a, rc ? rc : -ERANGE, "a duration such as 10s");
		break;
	case 'w':
		if ((rc = units_parse_duration(a, &cfg->warmup_ns)))
			return bad_number("--warmup", a, rc, "a duration such as 2s");
		break;
	case O_TIMEOUT:
		if ((rc = units_parse_duration(a, &cfg->timeout_ns)) || cfg->timeout_ns < NS_PER_MS)
			return bad_number("--timeout", a, rc ? rc : -ERANGE,
					  "a duration of at least 1ms, such as 5s");
		break;
	case 't':
		if ((rc = units_parse_u64(a, &v)) || v == 0 || v > 1024)
			return bad_number("--threads", a, rc ? rc : -ERANGE, "1-1024");
		cfg->threads = (unsigned)v;
		break;
	case O_CPUS: {
		char why[300];
		if ((rc = cpus_parse(a, &cfg->cpus)))
			return bad_number("--cpus", a, rc, "a CPU list such as 1 or 0,2-3");
		if (cpus_check_usable(&cfg->cpus, why, sizeof why))
			return bad("--cpus %s: %s", a, why);
		cfg->have_cpus = true;
		break;
	}
	case O_REQUEST:
		if (cfg->mode == MODE_TRACE && !strcmp(a, "none")) {
			seen->trace_no_request = true;
			break;
		}
		seen->request = true;
		if (request_add_path(cfg, a, err, sizeof err))
			return bad("--request %s: %s", a, err);
		break;
	case O_RESUME: cfg->resume = true; break;
	case O_EARLY: cfg->early_data = true; break;
	case O_NO_TICKETS: cfg->no_tickets = true; break;
	case 's':
		if ((rc = units_parse_size(a, &cfg->size)) || cfg->size > (1ULL << 50))
			return bad_number("--size", a, rc ? rc : -ERANGE, "a size such as 4096, 64K, 1G");
		seen->size = true;
		break;
	case O_PATH:
		seen->paths = true;
		if (request_add_path(cfg, a, err, sizeof err))
			return bad("--path %s: %s", a, err);
		break;
	case O_PATHS:
		seen->paths = true;
		if (request_read_paths(cfg, a, err, sizeof err))
			return bad("%s%s", err, "");
		break;
	case O_METHOD:
		if (!http_method_ok(a))
			return bad("--method '%s': expected an HTTP method such as GET, HEAD or POST%s",
				   a, "");
		cfg->method = a;
		seen->method = true;
		break;
	case 'H':
		if (cfg->nheaders == CLIENT_MAX_HEADERS)
			return bad("-H '%s': at most 32 headers%s", a, "");
		if (http_header_name_len(a) < 0)
			return bad("-H '%s': expected 'Name: value' (the name an HTTP token, the value "
				   "without control characters)%s", a, "");
		cfg->headers[cfg->nheaders++] = a;
		break;
	case O_BODY:
		if (request_read_body(cfg, a, err, sizeof err))
			return bad("%s%s", err, "");
		break;
	case O_RX:
		if (!strcmp(a, "user"))
			cfg->rx = RX_USER;
		else if (!strcmp(a, "ktls"))
			cfg->rx = RX_KTLS;
		else
			return bad("--rx '%s': expected 'user' or 'ktls'%s", a, "");
		break;
	case O_KTLS: cfg->trace_ktls = true; break;
	case O_TLS_VERSION:
		if (tlsopts_set_version(&cfg->tls, a))
			return bad("--tls-version '%s': expected 1.2, 1.3 or any%s", a, "");
		break;
	case O_CIPHERS: cfg->tls.ciphers = a; break;
	case O_CIPHERSUITES: cfg->tls.ciphersuites = a; break;
	case O_GROUPS: cfg->tls.groups = a; break;
	case O_SIGALGS: cfg->tls.sigalgs = a; break;
	case O_VERIFY: cfg->verify_ca = a; break;
	case O_PROVIDER_KEYS: cfg->stock_openssl = true; break;
	case 'j': cfg->json_path = a; break;
	case O_HDR_LOG: cfg->hdr_log_path = a; break;
	case O_PROGRESS: cfg->progress = true; break;
	case 'q': cfg->quiet = true; break;
	case 'h': cli_usage(stdout); return 1;
	case O_VERSION: build_print_version(stdout, "ktls-client"); return 1;
	default: return bad("unknown option or missing value%s%s", "", "");
	}
	return 0;
}

/* Which options belong to which command, and which exclude each other.
 * 0, or 2 after saying which. */
static int cli_check_modes(const struct client_cfg *cfg, const struct seen *seen)
{
	const char *count_name = cfg->mode == MODE_GET ? "--requests" : "--handshakes";

	if (cfg->mode == MODE_TRACE && (cfg->rate || seen->max))
		return bad("--rate and --max-inflight are for 'handshake' and 'get'%s%s", "", "");
	if (cfg->mode == MODE_GET && (seen->max || cfg->resume || cfg->no_tickets))
		return bad("--max-inflight, --resume and --no-tickets are for 'handshake'%s%s", "", "");
	if (cfg->mode == MODE_TRACE && cfg->no_tickets)
		return bad("--no-tickets is for 'handshake'%s%s", "", "");
	if (cfg->mode != MODE_GET && (seen->size || cfg->rx != RX_USER))
		return bad("--size and --rx are for 'get'%s%s", "", "");
	if (cfg->mode != MODE_TRACE && cfg->trace_ktls)
		return bad("--ktls is for 'trace' (get mode: --rx ktls)%s%s", "", "");
	if (cfg->mode == MODE_TRACE && (seen->conns || seen->count || cfg->threads > 1 || cfg->have_cpus))
		return bad("trace runs one connection: --connections, %s, --threads and --cpus do not apply%s",
			   count_name, "");
	if (cfg->mode == MODE_TRACE && (cfg->hdr_log_path || cfg->progress))
		return bad("--hdr-log and --progress are for 'handshake' and 'get'%s%s", "", "");
	if (cfg->mode == MODE_TRACE && cfg->resume && cfg->trace_ktls)
		return bad("trace --resume and --ktls: tickets that arrive through the kernel never reach "
			   "OpenSSL's session, so there would be nothing to resume; use one of them%s%s", "", "");
	if (cfg->mode == MODE_TRACE && cfg->npaths > 1)
		return bad("trace sends one request: give one --request%s%s", "", "");
	if (cfg->progress && cfg->quiet)
		return bad("--progress and --quiet exclude each other%s%s", "", "");
	if (cfg->mode == MODE_HANDSHAKE && cfg->rate && seen->conns)
		return bad("handshake --rate (open loop) and --connections (closed loop) exclude each "
			   "other; --max-inflight caps the open loop%s%s", "", "");
	if (cfg->early_data && cfg->mode == MODE_GET)
		return bad("--early-data is for 'handshake' (and 'trace') with --resume: get mode keeps "
			   "its connections and resumes none%s%s", "", "");
	if (cfg->early_data && !cfg->resume)
		return bad("--early-data needs --resume: early data goes with a resumed session's "
			   "ClientHello%s%s", "", "");
	if (cfg->early_data && (cfg->mode == MODE_TRACE ? seen->trace_no_request : !cfg->npaths))
		return bad("--early-data sends the request as early data: add --request PATH%s%s", "", "");
	if (cfg->early_data && cfg->tls.max_version == TLS1_2_VERSION)
		return bad("--early-data: early data exists only in TLS 1.3 (drop --tls-version 1.2)%s%s",
			   "", "");
	if (cfg->no_tickets && !cfg->resume)
		return bad("--no-tickets only matters with --resume%s%s", "", "");
	if (cfg->no_tickets && cfg->tls.max_version != TLS1_2_VERSION)
		return bad("--no-tickets: session IDs exist only in TLS 1.2; add --tls-version 1.2 "
			   "(TLS 1.3 resumes with tickets only)%s%s", "", "");
	if (cfg->mode == MODE_GET && seen->size && cfg->npaths)
		return bad("--size and --path/--paths exclude each other%s%s", "", "");
	if (cfg->mode == MODE_HANDSHAKE && seen->paths && seen->request)
		return bad("--request and --path/--paths name the same thing: give one%s%s", "", "");
	if (cfg->mode == MODE_TRACE && seen->paths)
		return bad("trace takes its path from --request or the URL%s%s", "", "");
	if (seen->trace_no_request && cfg->npaths)
		return bad("--request none and a request path exclude each other%s%s", "", "");

	return 0;
}

/* The request paths (get's default /bytes/<size>, trace's /) and what shapes
 * a request. 0, or 2. */
static int cli_paths(struct client_cfg *cfg, const struct seen *seen)
{
	char err[1200];

	if (cfg->mode == MODE_GET && !cfg->npaths) {
		char path[40];
		snprintf(path, sizeof(path), "/bytes/%llu", (unsigned long long)cfg->size);
		if (request_add_path(cfg, path, err, sizeof err))
			return bad("%s%s", err, "");
	}
	if (cfg->mode == MODE_TRACE && !cfg->npaths && !seen->trace_no_request &&
	    request_add_path(cfg, DEF_TRACE_REQUEST, err, sizeof err))
		return bad("%s%s", err, "");
	if (!cfg->npaths && (seen->method || cfg->nheaders || cfg->body_file))
		return bad("--method, -H and --body shape a request: add --request PATH (or a URL "
			   "with a path)%s%s", "", "");
	cfg->head_method = !strcmp(cfg->method, "HEAD");
	if (cfg->head_method && cfg->body_file)
		return bad("--method HEAD with --body: a HEAD request has no body%s%s", "", "");
	cfg->request_path = cfg->npaths ? cfg->paths[0] : NULL;
	for (unsigned i = 0; i < cfg->npaths; i++)
		if (http_format_get(err, sizeof(err), cfg->paths[i], "h") == -EINVAL)
			return bad("'%s': a request path starts with '/' and has no spaces%s",
				   cfg->paths[i], "");

	return 0;
}

int cli_parse(struct client_cfg *cfg, int argc, char **argv)
{
	struct seen seen = { 0 };
	char err[1200];
	int opt, rc;

	if ((rc = cli_defaults(cfg, argv[0])))
		return rc;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:c:r:n:d:w:t:s:j:H:qh", long_opts, NULL)) != -1)
		if ((rc = cli_option(cfg, opt, optarg, &seen)))
			return rc;
	if (optind < argc) {
		const char *arg = argv[optind];
		if (optind + 1 < argc)
			return bad("unexpected argument '%s' (one URL at most)%s", argv[optind + 1], "");
		if (strncasecmp(arg, "https://", 8) && strncasecmp(arg, "http://", 7))
			return bad("unexpected argument '%s' (a target is a URL: https://HOST:PORT/PATH)%s",
				   arg, "");
		if ((rc = apply_url(cfg, arg, seen.host, seen.port, seen.paths, seen.size,
				    seen.request || seen.trace_no_request)))
			return rc;
	}
	if ((rc = cli_check_modes(cfg, &seen)) || (rc = cli_paths(cfg, &seen)))
		return rc;

	if (cfg->rate && cfg->rate < cfg->threads)
		return bad("--rate is below one start per second per thread: lower --threads%s%s",
			   "", "");
	if (cfg->have_cpus && CPU_COUNT(&cfg->cpus) < (int)cfg->threads)
		fprintf(stderr, "ktls-client: note: %u threads on %d CPUs of --cpus: some share a CPU\n",
			cfg->threads, CPU_COUNT(&cfg->cpus));
	if (cfg->mode != MODE_HANDSHAKE || !cfg->rate) {
		if (cfg->connections < cfg->threads)
			return bad("--connections is below --threads: each thread needs a connection%s%s",
				   "", "");
	}
	if ((rc = resolve(cfg)))
		return rc;
	if (cfg->nbinds && bind_check(cfg, err, sizeof err))
		return bad("--bind: %s%s", err, "");
	{
		char host[300];
		host_header(cfg, host, sizeof host);
		if (request_build(cfg, host, err, sizeof err))
			return bad("%s%s", err, "");
	}
	return 0;
}

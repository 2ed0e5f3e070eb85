/* server/config.c: ktls-server's command line. */
#include "server/server.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cpus.h"
#include "common/units.h"
#include "common/version.h"

#define DEF_CERT "build/certs/ecdsa-p256.crt"
#define DEF_KEY "build/certs/ecdsa-p256.key"
/* TLS 1.2: forward secrecy and AEAD only (no CBC: LUCKY13 and its kin);
 * --ciphers replaces it, e.g. with OpenSSL's DEFAULT. */
#define DEF_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AESCCM:!AESCCM8"

static void usage(FILE *f)
{
	fprintf(f,
"usage: ktls-server [OPTIONS]\n"
"An io_uring HTTPS server whose TLS record layer is OpenSSL in userspace\n"
"(--tls user) or the kernel (--tls ktls). Routes: GET /bytes/<N>, /file/<name>,\n"
"/stats, /. Runs until SIGINT/SIGTERM or --duration, then prints a summary.\n"
"\n"
"Listening:\n"
"  -H, --host ADDR            address to listen on (default 127.0.0.1)\n"
"  -p, --port N               TCP port, 0 picks a free one (default 8443)\n"
"  -t, --threads N            worker threads, one io_uring each (default: one per\n"
"                             CPU of --cpus, else per online CPU)\n"
"      --cpus LIST            pin worker i to the i-th CPU of LIST, e.g. 0,2-3\n"
"                             (default: not pinned)\n"
"      --backlog N            listen() backlog (default 4096)\n"
"      --sndbuf SIZE          SO_SNDBUF of each connection (default 0: the\n"
"                             kernel's autotuning)\n"
"      --max-conns N          most open connections; more wait in the backlog\n"
"                             (default 0: limited by file descriptors only)\n"
"TLS:\n"
"      --tls MODE             record layer: user (OpenSSL) or ktls (kernel)\n"
"                             (default user)\n"
"      --strict               ktls: close a connection whose offload is refused,\n"
"                             and refuse to start on a kernel without kTLS\n"
"                             (default: such connections stay in userspace)\n"
"      --cert FILE            certificate chain, PEM (default " DEF_CERT ")\n"
"      --key FILE             private key, PEM (default " DEF_KEY ")\n"
"      --tls-version V        1.2, 1.3 or any (default any)\n"
"      --ciphers LIST         TLS 1.2 ciphers, OpenSSL syntax; CBC suites only when\n"
"                             listed here (default: ECDHE with AES-GCM,\n"
"                             CHACHA20-POLY1305 or AES-CCM,\n"
"                             " DEF_CIPHERS ")\n"
"      --ciphersuites LIST    TLS 1.3 suites (default OpenSSL's)\n"
"      --groups LIST          key exchange groups, e.g. X25519 (default OpenSSL's)\n"
"      --sigalgs LIST         signature algorithms (default OpenSSL's)\n"
"      --tickets N            TLS 1.3 tickets per handshake; 0 also turns TLS 1.2\n"
"                             tickets off (default 2)\n"
"      --session-cache N      session-ID cache entries, 0 off (default 20480)\n"
"      --early-data SIZE      TLS 1.3 0-RTT: accept up to SIZE bytes of early data\n"
"                             with a resumed ClientHello, at most --max-header;\n"
"                             early requests are answered before the client's\n"
"                             Finished, GET/HEAD only, others get 425 Too Early\n"
"                             (default 0: off)\n"
"      --no-anti-replay       with --early-data: tickets may be used again, so a\n"
"                             replayed ClientHello's early data is accepted\n"
"                             (default: single-use tickets in the session cache,\n"
"                             a replay's early data is refused)\n"
"      --stock-openssl        OpenSSL as other servers use it, every shim of\n"
"                             osslshim/ off: key shares through the provider key\n"
"                             managers, the key schedule through the default\n"
"                             provider (default: OpenSSL's built-in key methods\n"
"                             on its direct path and an allocation-free\n"
"                             TLS13-KDF/HMAC, where OpenSSL has their APIs; the\n"
"                             same checks either way). --provider-keys is an old\n"
"                             name for it\n"
"HTTP:\n"
"      --docroot DIR          where GET /file/<name> reads (default: none, 404)\n"
"      --max-header SIZE      request head limit, 431 above (default 8K)\n"
"      --handshake-timeout D  close connections whose handshake takes longer\n"
"                             (default 10s)\n"
"      --request-timeout D    from a request's first byte to its complete head\n"
"                             (and body): answer 408 and close when longer; more\n"
"                             bytes do not restart it (default 10s)\n"
"      --idle-timeout D       close connections with no progress this long:\n"
"                             nothing asked, or a response not being read\n"
"                             (default 60s)\n"
"      --recv-buffers N       provided receive buffers of 16 KiB per worker, a\n"
"                             power of two; receives that find none wait\n"
"                             (default 256)\n"
"Running:\n"
"      --duration D           stop by itself after D (default 0: until a signal)\n"
"      --grace D              on stop, time given to connections to finish\n"
"                             (default 3s)\n"
"      --json FILE            write the final counters as one JSON object\n"
"      --live                 print a line of rates every second (stderr)\n"
"  -q, --quiet                no startup line, no summary\n"
"  -h, --help                 this text\n"
"      --version              the version and git commit of this build\n"
"\n"
"Units: sizes take K/M/G (x1024: 8K, 1MiB); durations ns/us/ms/s/m/h (a bare\n"
"number is seconds). SSLKEYLOGFILE=path appends session secrets for Wireshark.\n"
"Exit status: 0 after a clean stop, 1 on a startup error, 2 on a usage error\n"
"(including a --json path that cannot be written, checked at start).\n");
}

const char *config_mode_name(enum tls_mode m)
{
	return m == TLS_MODE_KTLS ? "ktls" : "user";
}

static int bad(const char *opt, const char *val, const char *what)
{
	fprintf(stderr, "ktls-server: --%s '%s': %s (see --help)\n", opt, val, what);
	return -1;
}

static int num(const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;
	if (units_parse_u64(val, &v))
		return bad(opt, val, "expected a plain decimal number");
	if (v < lo || v > hi) {
		fprintf(stderr, "ktls-server: --%s %s: must be between %llu and %llu\n", opt, val,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int dur(const char *opt, const char *val, bool zero_ok, uint64_t *out)
{
	if (units_parse_duration(val, out))
		return bad(opt, val, "expected a duration such as 500ms, 10s, 2m");
	if (!zero_ok && *out == 0)
		return bad(opt, val, "must be more than 0");
	return 0;
}

enum {
	O_CPUS = 256, O_BACKLOG, O_MAXCONNS, O_TLS, O_STRICT, O_CERT, O_KEY, O_VERSION,
	O_CIPHERS, O_SUITES, O_GROUPS, O_SIGALGS, O_TICKETS, O_CACHE, O_DOCROOT, O_MAXHDR,
	O_HSTO, O_IDLETO, O_DURATION, O_GRACE, O_JSON, O_LIVE, O_REQTO, O_RECVBUFS, O_SNDBUF,
	O_PROVKEYS, O_SHOWVERSION, O_EARLY, O_NOREPLAY,
};

static const struct option longopts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "threads", required_argument, NULL, 't' },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "backlog", required_argument, NULL, O_BACKLOG },
	{ "max-conns", required_argument, NULL, O_MAXCONNS },
	{ "tls", required_argument, NULL, O_TLS },
	{ "strict", no_argument, NULL, O_STRICT },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "tls-version", required_argument, NULL, O_VERSION },
	{ "ciphers", required_argument, NULL, O_CIPHERS },
	{ "ciphersuites", required_argument, NULL, O_SUITES },
	{ "groups", required_argument, NULL, O_GROUPS },
	{ "sigalgs", required_argument, NULL, O_SIGALGS },
	{ "tickets", required_argument, NULL, O_TICKETS },
	{ "session-cache", required_argument, NULL, O_CACHE },
	{ "stock-openssl", no_argument, NULL, O_PROVKEYS },
	{ "provider-keys", no_argument, NULL, O_PROVKEYS },
	{ "early-data", required_argument, NULL, O_EARLY },
	{ "no-anti-replay", no_argument, NULL, O_NOREPLAY },
	{ "docroot", required_argument, NULL, O_DOCROOT },
	{ "max-header", required_argument, NULL, O_MAXHDR },
	{ "handshake-timeout", required_argument, NULL, O_HSTO },
	{ "idle-timeout", required_argument, NULL, O_IDLETO },
	{ "request-timeout", required_argument, NULL, O_REQTO },
	{ "recv-buffers", required_argument, NULL, O_RECVBUFS },
	{ "sndbuf", required_argument, NULL, O_SNDBUF },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "grace", required_argument, NULL, O_GRACE },
	{ "json", required_argument, NULL, O_JSON },
	{ "live", no_argument, NULL, O_LIVE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_SHOWVERSION },
	{ NULL, 0, NULL, 0 },
};

int config_parse(struct server_config *cfg, int argc, char **argv)
{
	uint64_t v;
	int o;

	memset(cfg, 0, sizeof(*cfg));
	cfg->host = "127.0.0.1";
	cfg->port = 8443;
	cfg->mode = TLS_MODE_USER;
	cfg->cert = DEF_CERT;
	cfg->key = DEF_KEY;
	tlsopts_init(&cfg->tls);
	cfg->tls.ciphers = DEF_CIPHERS;
	cfg->tickets = 2;
	cfg->session_cache = 20480;
	cfg->handshake_timeout_ns = 10ULL * 1000000000ULL;
	cfg->idle_timeout_ns = 60ULL * 1000000000ULL;
	cfg->request_timeout_ns = 10ULL * 1000000000ULL;
	cfg->recv_buffers = 256;
	cfg->grace_ns = 3ULL * 1000000000ULL;
	cfg->max_header = 8192;
	cfg->backlog = 4096;

	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, ":H:p:t:qh", longopts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == o)
				name = lo->name;
		switch (o) {
		case 'H': cfg->host = optarg; break;
		case 'p':
			if (num(name, optarg, 0, 65535, &v))
				return -1;
			cfg->port = (uint16_t)v;
			break;
		case 't':
			if (num(name, optarg, 1, 1024, &v))
				return -1;
			cfg->threads = (unsigned)v;
			break;
		case O_CPUS:
			if (cpus_parse(optarg, &cfg->cpus) || CPU_COUNT(&cfg->cpus) == 0)
				return bad(name, optarg, "expected a CPU list such as 0,2-3");
			{
				char why[300];
				if (cpus_check_usable(&cfg->cpus, why, sizeof why))
					return bad(name, optarg, why);
			}
			cfg->have_cpus = true;
			break;
		case O_BACKLOG:
			if (num(name, optarg, 1, 65535, &cfg->backlog))
				return -1;
			break;
		case O_MAXCONNS:
			if (num(name, optarg, 0, 10000000, &cfg->max_conns))
				return -1;
			break;
		case O_TLS:
			if (!strcmp(optarg, "user"))
				cfg->mode = TLS_MODE_USER;
			else if (!strcmp(optarg, "ktls"))
				cfg->mode = TLS_MODE_KTLS;
			else
				return bad(name, optarg, "expected user or ktls");
			break;
		case O_STRICT: cfg->strict = true; break;
		case O_CERT: cfg->cert = optarg; break;
		case O_KEY: cfg->key = optarg; break;
		case O_VERSION:
			if (tlsopts_set_version(&cfg->tls, optarg))
				return bad(name, optarg, "expected 1.2, 1.3 or any");
			break;
		case O_CIPHERS: cfg->tls.ciphers = optarg; break;
		case O_SUITES: cfg->tls.ciphersuites = optarg; break;
		case O_GROUPS: cfg->tls.groups = optarg; break;
		case O_SIGALGS: cfg->tls.sigalgs = optarg; break;
		case O_TICKETS:
			if (num(name, optarg, 0, 64, &cfg->tickets))
				return -1;
			break;
		case O_CACHE:
			if (num(name, optarg, 0, 100000000, &cfg->session_cache))
				return -1;
			break;
		case O_PROVKEYS: cfg->stock_openssl = true; break;
		case O_EARLY:
			if (units_parse_size(optarg, &cfg->early_data) || cfg->early_data > 1024 * 1024)
				return bad(name, optarg, "expected a size up to 1M, such as 4K, or 0");
			break;
		case O_NOREPLAY: cfg->no_anti_replay = true; break;
		case O_DOCROOT: cfg->docroot = optarg; break;
		case O_MAXHDR:
			if (units_parse_size(optarg, &cfg->max_header))
				return bad(name, optarg, "expected a size such as 8K");
			if (cfg->max_header < 256 || cfg->max_header > 1024 * 1024)
				return bad(name, optarg, "must be between 256 and 1M");
			break;
		case O_HSTO:
			if (dur(name, optarg, false, &cfg->handshake_timeout_ns))
				return -1;
			break;
		case O_IDLETO:
			if (dur(name, optarg, false, &cfg->idle_timeout_ns))
				return -1;
			break;
		case O_REQTO:
			if (dur(name, optarg, false, &cfg->request_timeout_ns))
				return -1;
			break;
		case O_SNDBUF:
			if (units_parse_size(optarg, &cfg->sndbuf) || cfg->sndbuf > (64u << 20))
				return bad(name, optarg, "expected a size up to 64M, such as 16K");
			break;
		case O_RECVBUFS:
			if (num(name, optarg, 1, 32768, &cfg->recv_buffers))
				return -1;
			if (cfg->recv_buffers & (cfg->recv_buffers - 1))
				return bad(name, optarg, "must be a power of two (1, 2, 4, ... 32768)");
			break;
		case O_DURATION:
			if (dur(name, optarg, true, &cfg->duration_ns))
				return -1;
			break;
		case O_GRACE:
			if (dur(name, optarg, true, &cfg->grace_ns))
				return -1;
			break;
		case O_JSON: cfg->json_path = optarg; break;
		case O_LIVE: cfg->live = true; break;
		case 'q': cfg->quiet = true; break;
		case 'h': usage(stdout); return 1;
		case O_SHOWVERSION: build_print_version(stdout, "ktls-server"); return 1;
		case ':':
			fprintf(stderr, "ktls-server: %s needs a value (see --help)\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "ktls-server: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ktls-server: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (cfg->strict && cfg->mode != TLS_MODE_KTLS) {
		fprintf(stderr, "ktls-server: --strict applies to --tls ktls only\n");
		return -1;
	}
	if (cfg->early_data > cfg->max_header) {
		fprintf(stderr, "ktls-server: --early-data %llu is more than --max-header %llu: early "
			"requests are read into the request buffer; lower --early-data or raise "
			"--max-header\n", (unsigned long long)cfg->early_data,
			(unsigned long long)cfg->max_header);
		return -1;
	}
	if (cfg->no_anti_replay && !cfg->early_data) {
		fprintf(stderr, "ktls-server: --no-anti-replay applies to --early-data only\n");
		return -1;
	}
	if (cfg->early_data && !cfg->no_anti_replay && (!cfg->session_cache || !cfg->tickets)) {
		fprintf(stderr, "ktls-server: --early-data with anti-replay needs tickets and the "
			"session cache (single-use tickets live there): drop --tickets 0 / "
			"--session-cache 0, or add --no-anti-replay\n");
		return -1;
	}
	if (!cfg->threads) {
		if (cfg->have_cpus) {
			cfg->threads = (unsigned)CPU_COUNT(&cfg->cpus);
		} else {
			long n = sysconf(_SC_NPROCESSORS_ONLN);
			cfg->threads = n > 0 ? (unsigned)n : 1;
		}
	}
	return 0;
}

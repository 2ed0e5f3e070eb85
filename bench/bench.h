/* bench/bench.h: ktls-bench's shared types.
 *
 * A suite (bench/suite.c) expands into scenarios; the runner (bench/runner.c)
 * runs each as one server + one client process and writes their JSON into a
 * run folder; results.c loads a run folder back, and report.c, plotdata.c and
 * compare.c render it. Nothing but the JSON files in a run folder is needed to
 * re-render it.
 */
#ifndef KTLS_BENCH_BENCH_H
#define KTLS_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

enum scen_kind {
	SCEN_HANDSHAKE,   /* handshakes/s and server CPU per handshake */
	SCEN_BULK,        /* GET /bytes/N: MB/s and server CPU per byte */
	SCEN_FILE,        /* GET /file/NAME: splice (kTLS) vs read + SSL_write */
	SCEN_HYPERFINE,   /* hyperfine timing one whole transfer, user vs kTLS */
	SCEN_KIND_COUNT
};

struct scenario {
	enum scen_kind kind;
	int tls;              /* 12 or 13 */
	char cert[16];        /* ecdsa-p256, rsa-2048, rsa-3072, rsa-4096, ed25519 */
	char group[12];       /* X25519, P-256, P-384, X448 */
	char cipher[24];      /* AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305 */
	char layer[8];        /* user, ktls (record layer of the server) */
	bool resume;          /* handshake: resumed (tickets / session IDs) */
	bool stock;           /* handshake: ktls-server with --stock-openssl (no osslshim/) */
	unsigned conns;       /* connections in flight */
	unsigned threads;     /* server worker threads (0 read as 1) */
	unsigned client_threads; /* client worker threads (0 read as 1) */
	uint64_t size;        /* bulk/file/hyperfine: response bytes */
	uint64_t duration_ns; /* client --duration */
	uint64_t warmup_ns;   /* client --warmup */
	unsigned runs;        /* hyperfine --runs */
	unsigned count;       /* handshakes or requests to make (0: for duration_ns) */
	char id[128];         /* file-name stem, unique per scenario */
	char origin[160];     /* "file:line" it came from */
};

#define SUITE_MAX_SCENARIOS 4096

struct suite {
	struct scenario *sc;
	size_t n, cap;
};

const char *scen_kind_name(enum scen_kind k);
int scen_kind_parse(const char *s, enum scen_kind *k);

/* --- suite.c ----------------------------------------------------------------
 * Parse suite text (see bench/suites/quick for the format) and append its
 * expanded scenarios. 0, or -EINVAL with "name:line: what is wrong, and the
 * valid values" in err. */
int suite_parse_text(struct suite *s, const char *text, const char *name,
		     char *err, size_t errlen);
/* Read and parse a file: a path, or a name without a slash that is no file in
 * the current folder, looked up in suites_dir ("quick", "full"). */
int suite_load(struct suite *s, const char *name_or_path, const char *suites_dir,
	       char *err, size_t errlen);
void suite_free(struct suite *s);
/* One suite line describing exactly this scenario (single values). */
int scenario_to_line(const struct scenario *sc, char *buf, size_t len);
/* Server and client threads of a scenario (at least 1). */
unsigned scenario_threads(const struct scenario *sc);
unsigned scenario_client_threads(const struct scenario *sc);
/* Fill sc->id from its parameters. */
void scenario_make_id(struct scenario *sc);
/* Scenario <-> JSON object (the "scenario" member of a .run.json). */
cJSON *scenario_to_json(const struct scenario *sc);
int scenario_from_json(const cJSON *o, struct scenario *sc);
/* OpenSSL names: the TLS 1.3 suite or the TLS 1.2 cipher string. */
const char *scenario_ciphersuite(const struct scenario *sc);
const char *scenario_cipher12(const struct scenario *sc);
/* The --groups list: the scenario's group, plus P-256 where TLS 1.2 needs it
 * for an ECDSA P-256 certificate. */
const char *scenario_groups(const struct scenario *sc, char *buf, size_t len);

/* --- ceiling.c ----------------------------------------------------------------
 * The crypto ceiling of this machine from `openssl speed -mr`. */
struct ceiling_entry {
	char name[24];        /* ecdsa-p256 / X25519 / AES-128-GCM */
	double per_s;         /* signs/s, key-exchange ops/s, or bytes/s */
};

struct ceiling {
	struct ceiling_entry sign[8], kex[8], aead[8];
	size_t n_sign, n_kex, n_aead;
	double seconds;       /* -seconds per measurement */
};

/* Parse one `openssl speed -mr` output for one algorithm. kind 's' (sign),
 * 'k' (key exchange), 'a' (AEAD bytes/s at the last -bytes size).
 * 0 or -EINVAL when no "+F" result line is found. */
int ceiling_parse_mr(const char *text, char kind, double *per_s);
/* The `openssl speed` algorithm for a cert / group / AEAD name, or NULL. */
const char *ceiling_speed_alg(char kind, const char *name);
/* Run openssl speed (pinned to cpu, -1: unpinned) for every sign / kex /
 * AEAD the suite needs; progress(alg) before each. 0 or -errno/-EINVAL + err. */
int ceiling_measure_cpu(struct ceiling *c, const struct suite *s, unsigned seconds, int cpu,
			void (*progress)(const char *what, void *arg), void *arg,
			char *err, size_t errlen);
cJSON *ceiling_to_json(const struct ceiling *c);
int ceiling_from_json(const cJSON *o, struct ceiling *c);
/* Lookups: per_s, or 0 when not measured. */
double ceiling_get(const struct ceiling *c, char kind, const char *name);
/* Server-side crypto time of one handshake of sc (sign + keygen + derive),
 * in microseconds, 0 when unknown or when there is no public-key crypto
 * (TLS 1.2 resumption). Sets *what to a short description. */
double ceiling_handshake_us(const struct ceiling *c, const struct scenario *sc,
			    const char **what);

/* --- results.c: one run folder loaded back -----------------------------------
 * Units: MB is 10^6 bytes everywhere (report, plots, compare, JSON keys
 * megabytes_per_s); KiB/MiB (2^10, 2^20) name response sizes only. */
#define ROW_LAT_N 5           /* p50, p90, p99, p99.9, max */

struct row {
	struct scenario sc;
	bool nginx;           /* the peer server, not ours */
	bool emulated;        /* measured inside the TCG VM */
	bool ok;
	char error[256];
	/* client: counts over its measured window, rates computed from them */
	double handshakes, handshakes_per_s, resumed, requests, bytes, mb_per_s;
	/* the rates as the client's JSON stated them (MB/s: converted from an old
	 * throughput_mbps in megabits), -1 when absent: checked against the counts */
	double hs_per_s_json, mb_per_s_json;
	double p50_us, p99_us, p999_us;
	double lat_us[ROW_LAT_N], hs_lat_us[ROW_LAT_N]; /* -1: absent */
	double client_cpu_s, duration_s;
	unsigned client_threads;
	bool client_rx_kernel;      /* ktls-client --rx ktls: the kernel decrypted */
	bool client_saturated;
	long client_errors;
	/* server */
	double server_cpu_s;        /* /proc delta over the client's run */
	double server_cpu_other_s;  /* the server's CPU busy with anything else meanwhile (-1: unknown) */
	double server_cpu_window_s; /* wall time those two were sampled over (estimated for old runs) */
	double server_cpu_json_s;   /* the server's own JSON, whole life (-1: none) */
	double server_handshakes;   /* the server's own count (-1: none) */
	double server_resumed;
	double server_requests, server_bytes_out; /* the server's own counts, whole life (-1: none) */
	unsigned server_threads;
	unsigned server_cpus;       /* the CPUs it was pinned to: _other_s is over all of them */
	double cycles;              /* perf stat, -1 when unavailable */
	double ktls_offloads, ktls_refusals;
	char openssl_paths[12];     /* the server's: shims, stock, partial ("" when not said) */
	/* hyperfine: mean and standard deviation of one whole transfer (-1: none) */
	double hf_mean_s, hf_sd_s;
	char hf_timer[16];          /* "hyperfine", or "ktls-bench" where it is absent */
	int seq;                    /* position in the suite */
	char mismatch[128];         /* what the client negotiated, when not the scenario's */
	char commit_client[64], commit_server[64]; /* the builds that wrote the JSON ("" unknown) */
	/* --clock instructions (bench/icount.c): the server's instructions over
	 * the client's run, user + kernel = total (-1: not counted), and the
	 * kernel's kTLS counters' growth meanwhile (-1: no /proc/net/tls_stat) */
	double instr, instr_user, instr_kernel, instr_split_res, instr_split_ticks;
	double tls_tx, tls_rx, tls_err;
	double tcp_segs;                /* TCP segments sent meanwhile (all sockets), -1: unknown */
	/* derived */
	double us_per_hs, ns_per_byte, cycles_per_byte;
	/* --clients: the client was a fleet of ranks, ranks[] in its JSON
	 * (report_fleet.c); ranks 0: one local process */
	unsigned ranks, rank_hosts, saturated_ranks;
	int bottleneck_rank;        /* the busiest rank (-1: none) */
	char bottleneck_host[64];
	double bottleneck_busy;     /* its CPU as a share of its threads */
	double rank_sum_handshakes, rank_sum_requests, rank_sum_bytes; /* summed over ranks[] */
#define ROW_RANKS_SHOWN 16
	double rank_count[ROW_RANKS_SHOWN]; /* the first ranks' handshakes (bytes for bulk, file) */
	/* consistency checks (checks.c): CHECK_* bits that failed, and why */
	unsigned check_failed;
	char check_why[600];
};

struct run {
	char dir[512];
	cJSON *env;           /* env.json, or NULL */
	struct ceiling ceil;
	bool have_ceiling;
	struct row *rows;
	size_t n;
};

/* Load DIR (env.json, ceiling.json, *.run.json and the files they name).
 * 0, or -errno with a sentence in err. Rows are sorted by kind, then suite order. */
int run_load(struct run *r, const char *dir, char *err, size_t errlen);
void run_free(struct run *r);
/* The row of the same scenario id with the other peer / the other record layer. */
const struct row *run_find(const struct run *r, const char *id, bool nginx);
const struct row *run_find_layer(const struct run *r, const struct row *x, const char *layer);
/* Fill the derived figures of a row from its raw ones. */
void row_derive(struct row *w);
/* The server's CPU over its sampling window as a share of one core, the
 * share of its CPUs' time in that window other work took, -1 when unknown. */
double row_server_share(const struct row *w);
double row_other_share(const struct row *w);

/* --- checks.c: every row against physical bounds before it is written ------- */
enum {
	CHECK_CPU_SHARE = 1 << 0,   /* a process used more CPU than its threads had */
	CHECK_CPU_BUSY = 1 << 1,    /* the server's CPU busier than 100% (its work + other work) */
	CHECK_AEAD_FLOOR = 1 << 2,  /* fewer ns of server CPU per byte than the AEAD alone needs */
	CHECK_AEAD_RATE = 1 << 3,   /* more MB/s than one core's AEAD ceiling allows */
	CHECK_HS_FLOOR = 1 << 4,    /* fewer µs per handshake than its public-key crypto */
	CHECK_RATE_CPU = 1 << 5,    /* stated rate x cost per unit != the server's CPU share */
	CHECK_PERCENTILES = 1 << 6, /* latency percentiles out of order */
	CHECK_COUNTS = 1 << 7,      /* counts that do not add up */
	CHECK_BUILD = 1 << 8,       /* a program's JSON from another build than the run's */
	CHECK_ICOUNT = 1 << 9,      /* an instruction count out of its bounds (icount.c) */
	CHECK_COUNT_ = 10
};
/* The short name of check bit i ("cpu_share", ...). */
const char *check_name(unsigned bit);
/* Check w against the bounds (the run gives the ceiling and the run's build):
 * sets w->check_failed and w->check_why. Returns the failed bits. */
unsigned row_check(const struct run *r, struct row *w);
/* Check every row; the number of rows that failed. */
size_t run_check(struct run *r);

/* --- report_fleet.c: a client fleet's rows (--clients) --------------------------- */
/* Read the client JSON's ranks[] and fleet into w (nothing for one process);
 * the client's threads become every rank's. */
void fleet_row(struct row *w, const cJSON *client);

/* --- report.c / plotdata.c / compare.c ---------------------------------------- */
int report_write(const struct run *r, const char *path, char *err, size_t errlen);
int plotdata_write(const struct run *r, const char *dir, char *err, size_t errlen);
int compare_print(const struct run *a, const struct run *b, FILE *out);

/* --- helpers (util.c) ------------------------------------------------------------ */
char *util_read_file(const char *path, size_t *len);       /* NUL-terminated, malloc'd */
int util_write_file(const char *path, const char *data, size_t len);
cJSON *util_read_json(const char *path);
int util_write_json(const char *path, const cJSON *o);
double util_json_num(const cJSON *o, const char *key, double dflt);
/* "tool", "version" and "commit" (common/version.h): which code wrote o. */
void util_json_add_build(cJSON *o, const char *tool);
/* "1.50 GB/s"-style helpers write into buf and return it. */
int util_mkdir_p(const char *path);

#endif

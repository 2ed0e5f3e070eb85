/* ktls: what can this kernel offload?  `ktls probe`, `ktls stat`. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "common/version.h"
#include "ktls/ktls.h"

#define TLS_STAT_PATH "/proc/net/tls_stat"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktls COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  probe [--json]       what this kernel can offload to kTLS, found by trying\n"
		"                       each version x cipher on a loopback TCP pair\n"
		"  stat [--interval S] [--count N] [--file PATH] [--json]\n"
		"                       the kernel's kTLS counters (" TLS_STAT_PATH "); with\n"
		"                       --interval, the change over each interval\n"
		"  help                 this text\n"
		"  version              the version and git commit of this build (also --version)\n"
		"\n"
		"Options:\n"
		"  -j, --json           one JSON object instead of the table\n"
		"  -i, --interval S     stat: print deltas every S (default: once; units ms, s, m)\n"
		"  -n, --count N        stat: stop after N intervals (default: until Ctrl-C)\n"
		"  -f, --file PATH      stat: read PATH instead of " TLS_STAT_PATH "\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 when the command ran (whatever the kernel supports),\n"
		"1 when it could not run, 2 on a usage error.\n");
}

static const char *version_name(int v)
{
	return v == TLS1_3_VERSION ? "1.3" : v == TLS1_2_VERSION ? "1.2" : "?";
}

/* "ENOENT: tls ULP missing: ..." for the probe's ULP failure. */
static void ulp_error_text(int err, char *buf, size_t len)
{
	if (err == -ENOENT)
		snprintf(buf, len, "ENOENT: %s", ktls_strerror(KTLS_E_NO_ULP));
	else if (err == -EPERM || err == -EACCES)
		snprintf(buf, len, "%s: attaching the tls ULP was not permitted (seccomp or LSM policy?)",
			 ktls_errname(err));
	else
		snprintf(buf, len, "%s: setsockopt(TCP_ULP, \"tls\") failed: %s", ktls_errname(err),
			 ktls_strerror(err));
}

/* Which code wrote a JSON document (strings: the counters are numbers named Tls*). */
static void add_build(cJSON *o)
{
	cJSON_AddStringToObject(o, "version", build_version());
	cJSON_AddStringToObject(o, "commit", build_commit());
}

static cJSON *stat_json(const struct ktls_stat_counter *c, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++)
		cJSON_AddNumberToObject(o, c[i].name, (double)c[i].value);
	return o;
}

static int cmd_probe(int json)
{
	struct ktls_probe r;
	char ulp_err[256] = "";
	int rc = ktls_probe(&r);

	if (rc) {
		fprintf(stderr, "ktls probe: cannot run: %s (a loopback TCP pair is needed: is 'lo' up?)\n",
			ktls_strerror(rc));
		return 1;
	}
	if (!r.ulp_available)
		ulp_error_text(r.ulp_err, ulp_err, sizeof(ulp_err));

	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr;
		add_build(o);
		cJSON_AddStringToObject(o, "kernel", r.kernel);
		cJSON_AddBoolToObject(o, "ulp_available", r.ulp_available);
		if (r.ulp_available)
			cJSON_AddNullToObject(o, "ulp_error");
		else
			cJSON_AddStringToObject(o, "ulp_error", ulp_err);
		arr = cJSON_AddArrayToObject(o, "ciphers");
		for (size_t i = 0; i < r.n_ciphers; i++) {
			const struct ktls_probe_cipher *pc = &r.ciphers[i];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "version", version_name(pc->version));
			cJSON_AddStringToObject(e, "cipher", ktls_cipher_name(pc->cipher));
			cJSON_AddBoolToObject(e, "tx", pc->tx);
			cJSON_AddBoolToObject(e, "rx", pc->rx);
			if (!pc->tx)
				cJSON_AddStringToObject(e, "tx_error", ktls_errname(pc->tx_err));
			if (!pc->rx)
				cJSON_AddStringToObject(e, "rx_error", ktls_errname(pc->rx_err));
			cJSON_AddItemToArray(arr, e);
		}
		cJSON_AddBoolToObject(o, "zerocopy_ro", r.zerocopy_ro);
		cJSON_AddBoolToObject(o, "rx_expect_no_pad", r.rx_expect_no_pad);
		cJSON_AddBoolToObject(o, "rekey", r.rekey);
		if (r.has_tls_stat)
			cJSON_AddItemToObject(o, "tls_stat", stat_json(r.tls_stat, r.n_tls_stat));
		else
			cJSON_AddNullToObject(o, "tls_stat");
		char *s = cJSON_Print(o);
		if (!s) {
			cJSON_Delete(o);
			fprintf(stderr, "ktls probe: out of memory\n");
			return 1;
		}
		printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
		return 0;
	}

	printf("kernel            %s\n", r.kernel);
	if (!r.ulp_available) {
		printf("tls ULP           not available\n");
		printf("  why:            %s\n", ulp_err);
		printf("  fix:            modprobe tls, or boot a kernel built with CONFIG_TLS=y/m;\n"
		       "                  without one, run kTLS inside the VM: scripts/vm.sh -- bin/ktls probe\n");
		printf("\nNo kTLS offload is possible on this kernel: every version x cipher below is 'no'.\n");
	} else {
		printf("tls ULP           available\n");
	}
	printf("\n%-8s %-18s %-4s %-4s %s\n", "version", "cipher", "TX", "RX", "notes");
	for (size_t i = 0; i < r.n_ciphers; i++) {
		const struct ktls_probe_cipher *pc = &r.ciphers[i];
		char note[128] = "";
		if (r.ulp_available && (!pc->tx || !pc->rx))
			snprintf(note, sizeof(note), "%s%s%s", !pc->tx ? ktls_errname(pc->tx_err) : "",
				 !pc->tx && !pc->rx ? ", " : "", !pc->rx ? ktls_errname(pc->rx_err) : "");
		printf("TLS %-4s %-18s %-4s %-4s %s\n", version_name(pc->version),
		       ktls_cipher_name(pc->cipher), pc->tx ? "yes" : "no", pc->rx ? "yes" : "no", note);
	}
	printf("\n%-40s %s\n", "TX zero-copy sendfile (TLS_TX_ZEROCOPY_RO)", r.zerocopy_ro ? "yes" : "no");
	printf("%-40s %s\n", "RX no-padding hint (TLS_RX_EXPECT_NO_PAD)", r.rx_expect_no_pad ? "yes" : "no");
	printf("%-40s %s\n", "TLS 1.3 rekey (KeyUpdate)",
	       r.rekey ? "yes" : r.ulp_available ? "no (Linux 6.14+ can rekey)" : "no");
	if (r.has_tls_stat) {
		printf("\n" TLS_STAT_PATH ":\n");
		for (size_t i = 0; i < r.n_tls_stat; i++)
			printf("  %-32s %" PRIu64 "\n", r.tls_stat[i].name, r.tls_stat[i].value);
	} else {
		printf("\n" TLS_STAT_PATH ": not present (no tls module loaded)\n");
	}
	return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_stat(const char *path, int path_set, uint64_t interval_ns, uint64_t count, int json)
{
	static struct ktls_stat_counter prev[64], cur[64];
	size_t np = 0, nc = 0;
	int rc = ktls_read_tls_stat(path, prev, 64, &np);

	if (rc == -ENOENT && !path_set) {
		/* Not an error of the command: the answer is "none". With --json
		 * that answer is an object with no counter (the sentence goes to
		 * stderr, so stdout stays JSON). */
		if (json) {
			cJSON *o = cJSON_CreateObject();
			add_build(o);
			char *s = cJSON_Print(o);
			printf("%s\n", s ? s : "{}");
			free(s);
			cJSON_Delete(o);
		}
		fprintf(json ? stderr : stdout, "this kernel has no kTLS counters: %s does not exist (the tls "
			"module is not loaded: modprobe tls, needs CONFIG_TLS)\n", path);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "ktls stat: cannot read %s: %s\n", path,
			rc == -EINVAL ? "not in 'Name value' lines" : ktls_strerror(rc));
		return 1;
	}
	if (!interval_ns) {
		if (json) {
			cJSON *o = stat_json(prev, np);
			add_build(o);
			char *s = cJSON_Print(o);
			printf("%s\n", s ? s : "{}");
			free(s);
			cJSON_Delete(o);
		} else {
			for (size_t i = 0; i < np; i++)
				printf("%-32s %" PRIu64 "\n", prev[i].name, prev[i].value);
		}
		return 0;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (uint64_t k = 0; !stop && (!count || k < count); k++) {
		struct timespec ts = { (time_t)(interval_ns / 1000000000ULL),
				       (long)(interval_ns % 1000000000ULL) };
		while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
			;
		if (stop)
			break;
		rc = ktls_read_tls_stat(path, cur, 64, &nc);
		if (rc) {
			fprintf(stderr, "ktls stat: cannot read %s: %s\n", path, ktls_strerror(rc));
			return 1;
		}
		if (json) {
			cJSON *o = cJSON_CreateObject();
			add_build(o);
			for (size_t i = 0; i < nc; i++) {
				uint64_t before = 0;
				for (size_t j = 0; j < np; j++)
					if (!strcmp(prev[j].name, cur[i].name))
						before = prev[j].value;
				/* Tls{Curr}* are gauges: show the level; the rest are counters. */
				double v = !strncmp(cur[i].name, "TlsCurr", 7)
						   ? (double)cur[i].value
						   : (double)(int64_t)(cur[i].value - before);
				cJSON_AddNumberToObject(o, cur[i].name, v);
			}
			char *s = cJSON_PrintUnformatted(o);
			printf("%s\n", s ? s : "{}");
			free(s);
			cJSON_Delete(o);
		} else {
			printf("--- %s over the last interval (TlsCurr*: current level)\n", path);
			for (size_t i = 0; i < nc; i++) {
				uint64_t before = 0;
				for (size_t j = 0; j < np; j++)
					if (!strcmp(prev[j].name, cur[i].name))
						before = prev[j].value;
				if (!strncmp(cur[i].name, "TlsCurr", 7))
					printf("%-32s %" PRIu64 "\n", cur[i].name, cur[i].value);
				else
					printf("%-32s %+" PRId64 "\n", cur[i].name,
					       (int64_t)(cur[i].value - before));
			}
		}
		fflush(stdout);
		memcpy(prev, cur, sizeof(cur));
		np = nc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd, *path = TLS_STAT_PATH;
	uint64_t interval = 0, count = 0;
	int json = 0, path_set = 0, c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		build_print_version(stdout, "ktls");
		return 0;
	}
	if (strcmp(cmd, "probe") && strcmp(cmd, "stat")) {
		fprintf(stderr, "ktls: unknown command '%s' (try 'ktls help')\n", cmd);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "ji:n:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'i':
			if (units_parse_duration(optarg, &interval) || interval == 0) {
				fprintf(stderr, "ktls: --interval '%s': want a positive duration like 1s or 500ms\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (units_parse_u64(optarg, &count) || count == 0) {
				fprintf(stderr, "ktls: --count '%s': want a positive whole number\n", optarg);
				return 2;
			}
			break;
		case 'f':
			path = optarg;
			path_set = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "ktls: try 'ktls help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ktls: unexpected argument '%s' (try 'ktls help')\n", argv[optind]);
		return 2;
	}
	if (!strcmp(cmd, "probe")) {
		if (interval || count || path_set) {
			fprintf(stderr, "ktls probe: --interval, --count and --file belong to 'ktls stat'\n");
			return 2;
		}
		return cmd_probe(json);
	}
	return cmd_stat(path, path_set, interval, count, json);
}

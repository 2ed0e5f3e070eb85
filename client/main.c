/* ktls-client: TLS load generator (handshake rate, keep-alive GETs) and a
 * step-by-step handshake tracer. See client/client.h for the layout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "common/outfile.h"
#include "common/version.h"
#include "osslshim/osslshim.h"

int main(int argc, char **argv)
{
	struct client_cfg cfg;
	struct run run;
	struct outfile json = { .fd = -1 };
	struct hdrlog *hdr = NULL;
	char err[1300];
	int rc;

	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		build_print_version(stdout, "ktls-client");
		return 0;
	}
	rc = cli_parse(&cfg, argc - 1, argv + 1);
	if (rc) {
		cli_free(&cfg);
		return rc == 1 ? 0 : rc;
	}
	if (cfg.json_path && cfg.hdr_log_path && !strcmp(cfg.json_path, "-") &&
	    !strcmp(cfg.hdr_log_path, "-")) {
		fprintf(stderr, "ktls-client: --json - and --hdr-log - cannot both go to stdout: give "
			"one of them a file\n");
		cli_free(&cfg);
		return 2;
	}
	/* a path that cannot be written fails now, not after the run */
	if (cfg.json_path && cfg.mode != MODE_TRACE && (rc = outfile_open(&json, cfg.json_path))) {
		fprintf(stderr, "ktls-client: --json %s: cannot write: %s (checked before the run; "
			"nothing was run)\n", cfg.json_path, strerror(-rc));
		cli_free(&cfg);
		return 2;
	}
	if (cfg.hdr_log_path && !(hdr = hdrlog_open(cfg.hdr_log_path, err, sizeof err))) {
		fprintf(stderr, "ktls-client: %s\n", err);
		outfile_discard(&json);
		cli_free(&cfg);
		return 2;
	}
	/* before OpenSSL allocates anything: the command line needs none of it */
	const struct osslshim_state *shim = osslshim_install(OSSLSHIM_CLIENT, cfg.stock_openssl);
	if (!cfg.stock_openssl && strcmp(shim->paths, "shims") && !cfg.quiet)
		fprintf(stderr, "ktls-client: note: OpenSSL paths %s: %s\n", shim->paths, shim->why_stock);
	cfg.propq = shim->propq;
	if (cfg.mode == MODE_TRACE) {
		rc = trace_run(&cfg);
	osslshim_cleanup();
	cli_free(&cfg);
		return rc;
	}

	rc = engine_run(&run, &cfg, hdr);
	if (run.workers && run.t0) {
		bool json_stdout = (cfg.json_path && !strcmp(cfg.json_path, "-")) ||
				   (cfg.hdr_log_path && !strcmp(cfg.hdr_log_path, "-"));
		report_human(&run, json_stdout ? stderr : stdout);
		if (cfg.json_path) {
			int jr = report_json(&run, &json);
			if (jr) {
				fprintf(stderr, "ktls-client: --json %s: cannot write: %s\n", cfg.json_path,
					strerror(-jr));
				rc = 1;
			}
		}
	}
	outfile_discard(&json); /* the run never started: nothing to write */
	rc = client_verdict(&run, rc, stderr);
	engine_free(&run);
	osslshim_cleanup();
	cli_free(&cfg);
	return rc;
}

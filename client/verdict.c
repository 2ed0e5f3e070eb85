/* client/verdict.c: the exit status of a finished run, and why it failed.
 * Shared by ktls-client and ktls-client-mpi (on the fleet's merged totals). */
#include "client/client.h"

#include <stdio.h>
#include <string.h>

int client_verdict(const struct run *run, int rc, FILE *f)
{
	const struct client_cfg *cfg = run->cfg;

	if (run->fatal[0])
		fprintf(f, "ktls-client: %s\n", run->fatal);
	/* nothing succeeded: say what the errors were and fail */
	if (!rc && run->total.handshakes == 0 && stats_errors(&run->total) > 0) {
		fprintf(f, "ktls-client: no handshake completed (%s:%u): is the server running, "
			"and do --tls-version/--ciphers/--groups match what it accepts?\n", cfg->host,
			cfg->port);
		rc = 1;
	}
	/* wrong bytes are never just noise */
	if (!rc && run->total.err[ERR_PATTERN]) {
		fprintf(f, "ktls-client: %llu response%s did not match the /bytes pattern: the server "
			"(or something between) sent wrong data\n",
			(unsigned long long)run->total.err[ERR_PATTERN], run->total.err[ERR_PATTERN] == 1 ? "" : "s");
		rc = 1;
	}
	/* requests asked for, none answered with success (every one a 404, ...) */
	if (!rc && cfg->request_path && run->total.requests == 0 && stats_errors(&run->total) > 0 &&
	    run->total.handshakes > 0) {
		fprintf(f, "ktls-client: no request succeeded (%s:%u %s): every response was an error or "
			"failed (see errors above)\n", cfg->host, cfg->port, cfg->request_path);
		rc = 1;
	}
	/* --resume that resumed nothing measured full handshakes */
	if (!rc && cfg->resume && run->total.offered > 0 && run->total.resumed == 0) {
		fprintf(f, "ktls-client: --resume: the server resumed none of the %llu sessions offered "
			"(no session cache or tickets on its side?): these were full handshakes\n",
			(unsigned long long)run->total.offered);
		rc = 1;
	}
	return rc;
}

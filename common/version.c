/* common/version.c: see version.h. The values come from version_gen.h,
 * written into the build folder by the Makefile. */
#include "common/version.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "version_gen.h"

const char *build_version(void)
{
	return KTLS_BENCH_VERSION;
}

const char *build_commit(void)
{
	return KTLS_BENCH_COMMIT;
}

void build_print_version(FILE *f, const char *prog)
{
	fprintf(f, "%s %s (commit %s)\n%s (built against %s)\n", prog, KTLS_BENCH_VERSION, KTLS_BENCH_COMMIT,
		OpenSSL_version(OPENSSL_VERSION), OPENSSL_VERSION_TEXT);
}

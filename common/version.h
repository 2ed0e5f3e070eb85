/* common/version.h: which code this program is, for --version and every JSON
 * it writes: the project's version and the git commit of the build (both set
 * by the Makefile, which regenerates them when HEAD or the tree changes). */
#ifndef KTLS_COMMON_VERSION_H
#define KTLS_COMMON_VERSION_H

#include <stdio.h>

/* "0.1.0" */
const char *build_version(void);
/* `git describe --always --dirty` at build time ("a1b2c3d4e5f6", with
 * "-dirty" when tracked files differed from the commit), KTLS_BENCH_COMMIT
 * when the build set it, "unknown" when built outside a git checkout. */
const char *build_commit(void);
/* "PROG VERSION (commit COMMIT)" and the OpenSSL in use, two lines on f. */
void build_print_version(FILE *f, const char *prog);

#endif

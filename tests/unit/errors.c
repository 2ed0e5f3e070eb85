/* Unit tests: ktls/errors.c, every code has a name and an actionable sentence. */
#include "ktls/ktls.h"
#include "tests/tap.h"

#include <errno.h>

int main(void)
{
	for (int e = KTLS_E_NO_ULP; e < KTLS_E_LAST; e++) {
		const char *name = ktls_errname(e), *text = ktls_strerror(e);
		OK(strncmp(name, "KTLS_E_", 7) == 0 && strcmp(text, "unknown libktls error") != 0 &&
		   strlen(text) > 30, "%d has a name (%s) and a sentence", e, name);
	}
	OK(strstr(ktls_strerror(KTLS_E_NO_ULP), "modprobe tls") != NULL,
	   "no-ULP error names the fix (modprobe tls)");
	OK(strstr(ktls_strerror(KTLS_E_REKEY_UNSUPPORTED), "6.14") != NULL,
	   "rekey error names the kernel version needed");
	EXPECT_STREQ(ktls_errname(-ECONNRESET), "ECONNRESET");
	EXPECT_STREQ(ktls_strerror(-ENOENT), "No such file or directory");
	EXPECT_STREQ(ktls_strerror(-5000), "unknown libktls error");
	EXPECT_STREQ(ktls_cipher_name(KTLS_CIPHER_CHACHA20_POLY1305), "CHACHA20-POLY1305");
	EXPECT_STREQ(ktls_cipher_name(KTLS_CIPHER_COUNT), NULL);
	EXPECT_STREQ(ktls_alert_name(20), "bad_record_mac");
	EXPECT_STREQ(ktls_alert_name(40), "handshake_failure");
	EXPECT_STREQ(ktls_alert_name(255), "unknown_alert");
	return tap_done();
}

/* Unit test: data right behind the last handshake flight survives the switch
 * to kTLS, drained in userspace or read by the (emulated) kernel, for every
 * version x cipher x role x {2 tickets, no tickets, resumed, HRR} x
 * {greedy, read-ahead, exact} reads. The same cases run against the real kernel in
 * tests/vm/ktls_handover.c; see tests/ktls_handover.h. */
#include "tests/ktls_world.h"
#include "tests/tap.h"
#include "tests/ktls_handover.h"

int main(void)
{
	unsigned seed = 1;
	size_t n;
	const struct suite *su = world_suites(&n);

	emu_install();
	for (size_t i = 0; i < n; i++)
		ho_run_suite(&su[i], &seed);
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

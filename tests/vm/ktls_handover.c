/* VM test: data right behind the last handshake flight survives the switch
 * to the real kernel's kTLS, drained in userspace or decrypted by kernel RX,
 * for every version x cipher the kernel offloads x role x {2 tickets, no
 * tickets, resumed, HRR} x {greedy, read-ahead, exact} reads (tests/ktls_handover.h; the
 * same cases run on the host against the emulated kernel in
 * tests/unit/ktls_handover.c). Result lines name version, cipher and case. */
#define KTLS_WORLD_NO_EMU
#include "tests/ktls_world.h"
#include "tests/tap.h"
#include "tests/ktls_handover.h"

int main(void)
{
	struct ktls_probe pr;
	size_t n;
	const struct suite *su = world_suites(&n);
	unsigned seed = 1;

	if (ktls_probe(&pr) || !pr.ulp_available)
		tap_skip_all("this kernel has no kTLS (the tls ULP): run it in the VM (scripts/vm.sh)");
	tap_diag("kernel %s", pr.kernel);
	for (size_t i = 0; i < n; i++) {
		if (!world_offloaded(&pr, &su[i])) {
			tap_diag("%s %s: this kernel does not offload it (ktls probe); not tested here",
				 su[i].version == TLS1_3_VERSION ? "1.3" : "1.2", su[i].name);
			continue;
		}
		ho_run_suite(&su[i], &seed);
	}
	if (saved)
		SSL_SESSION_free(saved);
	tp_free_cert();
	return tap_done();
}

#!/bin/bash
# Our TLS side (build/tests/helpers/ktls_peer, record layer in OpenSSL: this
# host has no kTLS) against gnutls-cli and gnutls-serv, TLS 1.2 and 1.3 with
# each AEAD, so the logic of tests/vm/libktls-gnutls.t (the same cases with
# our side in kTLS) runs here too. See tests/gnutls_peers.sh.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../gnutls_peers.sh"

# gnutls-serv listens on every address: give it a network of its own.
if [[ -z ${KTLS_GP_NETNS:-} ]]; then
	if unshare -rn true 2>/dev/null && type -P ip >/dev/null; then
		exec env KTLS_GP_NETNS=1 unshare -rn bash -c 'ip link set lo up && exec bash "$0"' "$0"
	fi
	skip_all "cannot make a private network namespace (unshare -rn, ip) for gnutls-serv, which listens on every address"
fi

any() { true; }
gnutls_peers_run user any
done_testing

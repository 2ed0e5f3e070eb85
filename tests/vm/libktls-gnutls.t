#!/bin/bash
# libktls against GnuTLS's tools on a kernel with kTLS: our side
# (build/tests/helpers/ktls_peer) offloads TX and RX, gnutls-cli and
# gnutls-serv are the independent peers; TLS 1.2 and 1.3 x each AEAD this
# kernel offloads; KeyUpdates both ways on TLS 1.3 (rekey kernels: they
# work; older ones: the specific error). See tests/gnutls_peers.sh; the same
# cases run on the host with our side in userspace (tests/host/libktls-gnutls.t).
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../gnutls_peers.sh"

type -P jq >/dev/null || skip_all "jq is missing: apt-get install jq"
json=$("$KTLS_BIN/ktls" probe --json) || skip_all "ktls probe failed: make"
[[ $(jq -r .ulp_available <<<"$json") == true ]] ||
	skip_all "this kernel has no kTLS (the tls ULP): tests/ktls/<kernel>.t run this in the VM"
GP_NO_REKEY=
[[ $(jq -r .rekey <<<"$json") == true ]] || GP_NO_REKEY=1
diag "kernel $(jq -r .kernel <<<"$json"), rekey $(jq -r .rekey <<<"$json")"

offloaded() {
	jq -e --arg v "$1" --arg c "$2" 'any(.ciphers[]; .version == $v and .cipher == $c and .tx and .rx)' \
		<<<"$json" >/dev/null
}
gnutls_peers_run ktls offloaded
done_testing

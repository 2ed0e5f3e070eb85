#!/bin/bash
# ktls-server --tls ktls on a kernel with kTLS against what a TLS 1.3
# conformance suite sends (tests/helpers/tls-conform; cases and answers in
# tests/conform-lib.sh). Sent with the client's Finished, the records are
# decrypted by OpenSSL before the switch, and the kernel must then take over
# with the current secrets (KeyUpdates OpenSSL followed included); sent
# after a first request, they meet libktls and the kernel: KeyUpdates split
# over records and answers to update_requested on rekey kernels (a clean
# close_notify elsewhere), two KeyUpdates in one record, a bad
# request_update, empty control records (unexpected_message, not silence),
# an all-zero inner plaintext (Linux: bad_record_mac), KeyUpdates in a loop
# (stopped at the limit). Tickets always come first, data is checked both
# ways, and a peer already gone at the switch is counted as such.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
. "$(dirname "$0")/../conform-lib.sh"
need_certs
[[ -r /proc/net/tls_stat ]] || skip_all "this kernel has no kTLS"
[[ -x $CONFORM ]] || skip_all "$CONFORM is not built: make tests"
REKEY=$("$KTLS_BIN/ktls" probe --json | jq -r .rekey)
diag "kernel $(uname -r), rekey $REKEY"

start_server --tls ktls --strict --threads 1 || bail "server starts"
LAYER=kernel conform_all kernel
st=$(stats)
is "$(jq -c .ktls_refusals <<<"$st")" '{}' "--strict: no connection was refused offload"
is "$(jq '.ktls_offloads' <<<"$st")" "$(jq ".handshakes_full + .handshakes_resumed - $CONFORM_BEFORE_SWITCH" <<<"$st")" \
	"every completed handshake was offloaded, but the $CONFORM_BEFORE_SWITCH ended by an alert before the switch"
if [[ $REKEY == true ]]; then
	is "$(jq .conn_errors.KTLS_E_KEY_UPDATE_LIMIT <<<"$st")" 1 "KeyUpdates past the limit under kTLS: KTLS_E_KEY_UPDATE_LIMIT"
else
	ok "$(jq -e '.conn_errors.KTLS_E_REKEY_UNSUPPORTED >= 6' <<<"$st" >/dev/null; echo $?)" \
		"KeyUpdates after the switch on a kernel without rekey: KTLS_E_REKEY_UNSUPPORTED ($(jq .conn_errors.KTLS_E_REKEY_UNSUPPORTED <<<"$st"))"
fi
stop_server
is "$SRV_RC" 0 "clean exit"
is "$(jq '[.closes[]] | add' "$SRV_DIR/s.json")" "$(jq .conns_accepted "$SRV_DIR/s.json")" \
	"every connection counted under one close reason ($(jq -c .closes "$SRV_DIR/s.json"))"

# A client whose FIN follows its Finished: the switch finds the socket no
# longer established (the kernel refuses the ULP), a refusal of its own.
start_server --tls ktls --threads 1 || bail "server starts"
"$KTLS_BUILD/tests/helpers/tls-burst" --port "$SRV_PORT" --requests 1 --path /bytes/10 --shut >"$TMP/burst.out" 2>&1
grep -q '^0123456789' "$TMP/burst.out"
ok $? "a client that half-closes right behind its Finished is still answered (from userspace)"
is "$(stats | jq .ktls_refusals.KTLS_E_PEER_CLOSED)" 1 "... and counted as KTLS_E_PEER_CLOSED, not KTLS_E_NOT_SOCKET"
stop_server
done_testing

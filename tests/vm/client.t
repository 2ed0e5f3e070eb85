#!/bin/bash
# ktls-client's kTLS paths on a real kernel (in the VM, or natively on a kTLS
# host): get --rx ktls, where the kernel decrypts every response and the
# client checks it against the /bytes pattern (counts agree with the server's,
# the kernel's own counters saw the offload, a corrupted byte is still
# caught), for TLS 1.3 AES-GCM, TLS 1.3 CHACHA20-POLY1305 and TLS 1.2; and
# trace --ktls, whose sequence numbers start where OpenSSL stopped (TLS 1.3
# at 0, TLS 1.2 at 1). Counts are small: under TCG the crypto is slow.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"
"$KTLS_BIN/ktls" probe --json | jq -e '.ulp_available == true' >/dev/null ||
	skip_all "this kernel has no tls ULP (run through scripts/vm.sh)"

STAT=/proc/net/tls_stat
counter() { awk -v n="$1" '$1 == n { print $2 }' "$STAT" 2>/dev/null; }

get_case() {
	local name=$1; shift
	local rx0 J=$TMP/get.json
	start_helper || bail "test server started"
	rx0=$(counter TlsRxSw)
	"$CLIENT" get --port "$PORT" --rx ktls --size 16K -n 12 -c 2 -d 120s --timeout 30s -q "$@" \
		--json "$J" >"$TMP/get.txt" 2>&1
	is "$?" 0 "$name: get --rx ktls exits 0"
	stop_helper
	is "$(jqv $J .requests)" 12 "$name: 12 responses decrypted by the kernel"
	is "$(jqv $J .bytes)" $((12 * 16384)) "$name: every body byte checked against the pattern"
	is "$(jqv $J .errors_total)" 0 "$name: no errors"
	is "$(jqv $STATS .body_bytes)" $((12 * 16384)) "$name: the server sent as many bytes"
	is "$(( $(counter TlsRxSw) - rx0 ))" 2 "$name: the kernel counted 2 RX offloads (TlsRxSw)"
	ok "$(grep -q 'kernel (kTLS RX)' "$TMP/get.txt"; echo $?)" "$name: the summary says the kernel decrypted"
}
get_case "TLS 1.3 AES-128-GCM" --ciphersuites TLS_AES_128_GCM_SHA256
get_case "TLS 1.3 CHACHA20-POLY1305" --ciphersuites TLS_CHACHA20_POLY1305_SHA256
get_case "TLS 1.2 AES-256-GCM" --tls-version 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384

# a flipped byte is still caught when the kernel decrypts
start_helper --corrupt 5000 || bail "test server started"
"$CLIENT" get --port "$PORT" --rx ktls --size 16K -n 2 -c 1 -d 60s --timeout 30s -q \
	--json "$TMP/bad.json" >/dev/null 2>&1
is "$?" 1 "a corrupted body under kTLS fails the run"
stop_helper
is "$(jqv $TMP/bad.json .errors.pattern_mismatch)" 2 "both responses are pattern mismatches"

# trace --ktls: the moment of the switch and the sequence numbers
trace_case() {
	local v=$1 seq=$2 J=$TMP/trace.json
	start_helper || bail "test server started"
	"$CLIENT" trace --port "$PORT" --ktls --tls-version "$v" --request /bytes/5000 --timeout 30s \
		--json "$J" >"$TMP/trace.txt" 2>&1
	is "$?" 0 "TLS $v: trace --ktls exits 0"
	stop_helper
	is "$(jqv $J .ktls.enabled)" true "TLS $v: record layer moved into the kernel"
	is "$(jqv $J .ktls.tx_seq)" "$seq" "TLS $v: TX starts at sequence $seq"
	is "$(jqv $J .ktls.rx_seq)" "$seq" "TLS $v: RX starts at sequence $seq"
	is "$(jqv $J .request.status)" 200 "TLS $v: the request and response went through the kernel"
	is "$(jqv $J .request.pattern_ok)" true "TLS $v: the body is the pattern"
	ok "$(grep -q 'the record layer moves into the kernel' "$TMP/trace.txt"; echo $?)" \
		"TLS $v: the trace marks the switch"
}
trace_case 1.3 0
is "$(jqv $TMP/trace.json .ktls.tickets_via_kernel)" 2 "TLS 1.3: both NewSessionTickets came through the kernel"
trace_case 1.2 1
done_testing

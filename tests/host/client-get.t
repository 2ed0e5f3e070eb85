#!/bin/bash
# ktls-client get: keep-alive GET /bytes/N checked against the pattern;
# byte and request counts match the server's; a corrupted byte is caught;
# non-200 statuses are counted; HTTP/1.0 bodies that end at the close
# (openssl s_server -www) are read; --rx ktls without kernel TLS fails with
# the cause and the fix.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"

# --- the happy path: counts agree with the server ----------------------------------
start_helper || bail "test server started"
"$CLIENT" get --port "$PORT" --size 64K -n 50 -c 2 -d 60s -q --json "$TMP/g.json" >"$TMP/g.txt" 2>&1
is "$?" 0 "get --size 64K -n 50 exits 0"
stop_helper
J=$TMP/g.json
is "$(jqv $J .requests)" 50 "50 requests"
is "$(jqv $J .bytes)" $((50 * 65536)) "50 x 64 KiB of body bytes, all checked"
is "$(jqv $J .errors_total)" 0 "no errors"
is "$(jqv $STATS .requests)" 50 "the server answered 50 requests"
is "$(jqv $STATS .body_bytes)" $((50 * 65536)) "the server sent as many body bytes"
is "$(jqv $STATS .handshakes)" "$(jqv $J .handshakes)" "handshakes agree (one per connection)"
is "$(jqv $J .handshakes)" 2 "keep-alive: 2 connections for 50 requests"
is "$(jqv $J .config.pattern_checked)" true "the config says the body was checked"
is "$(jqv $J .latency_us.count)" 50 "one latency sample per request"
is "$(jqv $J '.megabytes_per_s * 1e6 / (.bytes / .duration_s) * 1000 | round')" 1000 "megabytes_per_s is bytes / duration_s / 10^6"
ok "$(grep -q 'checked against the /bytes pattern' "$TMP/g.txt"; echo $?)" "the summary says the body was checked"

# --- one flipped byte is a pattern mismatch ------------------------------------------
start_helper --corrupt 40000 || bail "test server started"
"$CLIENT" get --port "$PORT" --size 64K -n 5 -c 1 -d 60s -q --json "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"
is "$?" 1 "a corrupted body makes the run fail"
stop_helper
is "$(jqv $TMP/bad.json .errors.pattern_mismatch)" 5 "each of the 5 responses is a pattern mismatch"
is "$(jqv $TMP/bad.json .requests)" 0 "and none counts as a good request"
ok "$(grep -q 'did not match the /bytes pattern' "$TMP/bad.err"; echo $?)" "stderr says the server sent wrong data"
# a corruption past the end of a small body changes nothing
start_helper --corrupt 40000 || bail "test server started"
"$CLIENT" get --port "$PORT" --size 4K -n 5 -c 1 -d 60s -q --json "$TMP/small.json" >/dev/null 2>&1
is "$?" 0 "the same server is fine for 4 KiB bodies (the flipped byte is at 40000)"
stop_helper

# --- statuses other than 200 are errors, by status -----------------------------------
start_helper || bail "test server started"
"$CLIENT" get --port "$PORT" --path /nothing -n 7 -c 1 -d 60s -q --json "$TMP/404.json" >/dev/null 2>&1
stop_helper
is "$(jqv $TMP/404.json .errors.http_404)" 7 "7 x http_404"
is "$(jqv $TMP/404.json .config.pattern_checked)" false "--path is not checked against the pattern"

# --- HTTP/1.0, body until the close: openssl s_server -www ----------------------------
start_s_server || bail "openssl s_server started"
"$CLIENT" get --port "$PORT" --path / -n 10 -c 1 -d 60s -q --json "$TMP/www.json" >/dev/null 2>&1
is "$(jqv $TMP/www.json .requests)" 10 "10 status pages read from s_server -www"
is "$(jqv $TMP/www.json .errors_total)" 0 "no errors"
is "$(jqv $TMP/www.json .handshakes)" 10 "s_server closes each time: one handshake per request"

# --- JSON on stdout, the summary then goes to stderr ----------------------------------
out=$("$CLIENT" get --port "$PORT" --path / -n 2 -c 1 -d 60s -q --json - 2>/dev/null)
is "$(jq -r .requests <<<"$out")" 2 "--json - writes the document on stdout"

# --- kTLS RX on a kernel without kTLS: a clear error -----------------------------------
if ! grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null && [[ ! -d /sys/module/tls ]]; then
	"$CLIENT" get --port "$PORT" --path / --rx ktls -n 2 -c 1 -d 10s -q >/dev/null 2>"$TMP/k.err"
	is "$?" 1 "--rx ktls without kernel TLS exits 1"
	ok "$(grep -q 'modprobe tls' "$TMP/k.err"; echo $?)" "and names the fix (modprobe tls)"
	ok "$(grep -q -- '--rx user' "$TMP/k.err"; echo $?)" "and the alternative (--rx user)"
else
	"$CLIENT" get --port "$PORT" --path / --rx ktls -n 5 -c 1 -d 10s -q --json "$TMP/k.json" >/dev/null 2>&1
	is "$?" 0 "--rx ktls works on this kernel"
	is "$(jqv $TMP/k.json .requests)" 5 "5 responses decrypted by the kernel"
	skip "the no-kTLS error needs a host without the tls ULP" 1
fi
done_testing

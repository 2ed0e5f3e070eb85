#!/bin/bash
# ktls-client's errors are counted by kind and never fatal: connection
# refused, connect/handshake/request timeouts, fatal alerts, certificate
# verification; every run stays bounded in time.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"

elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- connection refused: nothing listens --------------------------------------------
port=$(free_port)
t0=$(date +%s%N)
"$CLIENT" handshake --port "$port" -c 2 -d 300ms -q --json "$TMP/ref.json" >/dev/null 2>"$TMP/ref.err"
rc=$?
el=$(elapsed_ms $t0)
is "$rc" 1 "nothing succeeded: exit 1"
ok "$(jqv $TMP/ref.json '.errors.connect_refused > 0' | grep -qx true; echo $?)" \
	"connect_refused counted ($(jqv $TMP/ref.json .errors.connect_refused))"
is "$(jqv $TMP/ref.json .handshakes)" 0 "no handshakes"
ok "$(grep -q 'no handshake completed' "$TMP/ref.err"; echo $?)" "stderr says why the run failed"
ok "$(( el < 5000 ? 0 : 1 ))" "a 300 ms run against a closed port took $el ms"

# --- a server that accepts and never answers: handshake timeouts ----------------------
start_helper --stall || bail "test server started"
t0=$(date +%s%N)
"$CLIENT" handshake --port "$PORT" -c 3 --timeout 200ms -d 1s -q --json "$TMP/stall.json" >/dev/null 2>&1
el=$(elapsed_ms $t0)
stop_helper
n=$(jqv $TMP/stall.json '.errors.timeout_handshake // 0')
# 3 connections, each timing out after 200 ms, over 1 s: 12 to 15
ok "$(( n >= 9 && n <= 18 ? 0 : 1 ))" "timeout_handshake counted per connection ($n in 1 s at 200 ms)"
is "$(jqv $TMP/stall.json .handshakes)" 0 "no handshakes"
ok "$(( el < 4000 ? 0 : 1 ))" "the run stays bounded: $el ms for -d 1s"

# --- a server slower than --timeout ---------------------------------------------------
start_helper --delay-handshake 600ms || bail "test server started"
"$CLIENT" handshake --port "$PORT" -c 1 --timeout 100ms -d 500ms -q --json "$TMP/slow.json" >/dev/null 2>&1
stop_helper
ok "$(jqv $TMP/slow.json '.errors.timeout_handshake >= 3' | grep -qx true; echo $?)" \
	"a handshake slower than --timeout is a timeout ($(jqv $TMP/slow.json .errors.timeout_handshake))"

# --- the response is late: request timeout --------------------------------------------
start_helper --delay-response 600ms || bail "test server started"
"$CLIENT" handshake --port "$PORT" -c 1 --request /bytes/10 --timeout 150ms -d 1s -q \
	--json "$TMP/rt.json" >/dev/null 2>&1
stop_helper
ok "$(jqv $TMP/rt.json '.errors.timeout_request >= 3' | grep -qx true; echo $?)" \
	"a late response is a timeout_request ($(jqv $TMP/rt.json .errors.timeout_request))"
ok "$(jqv $TMP/rt.json '.handshakes >= 3' | grep -qx true; echo $?)" "while the handshakes themselves succeed"

# --- a fatal alert from the server: version mismatch ----------------------------------
start_s_server -tls1_3 || bail "openssl s_server started"
"$CLIENT" handshake --port "$PORT" -c 1 -n 5 --tls-version 1.2 -d 10s -q --json "$TMP/al.json" >/dev/null 2>&1
is "$(jqv $TMP/al.json '.errors.alert_protocol_version')" 5 "TLS 1.2 client vs TLS 1.3-only server: 5 x alert_protocol_version"

# --- certificate verification ------------------------------------------------------------
"$CLIENT" handshake --port "$PORT" -n 5 -c 1 --verify "$CERTS/ca.crt" -d 10s -q --json "$TMP/v.json" \
	>"$TMP/v.txt" 2>&1
is "$(jqv $TMP/v.json .handshakes)" 5 "--verify with the right CA: 5 handshakes"
is "$(jqv $TMP/v.json .tls.verify)" true "the JSON says verification was on"
ok "$(grep -q 'certificate verification: on' "$TMP/v.txt"; echo $?)" "and so does the summary"
"$CLIENT" handshake --port "$PORT" -n 5 -c 1 --verify "$CERTS/ed25519.crt" -d 10s -q --json "$TMP/v2.json" \
	>/dev/null 2>&1
is "$(jqv $TMP/v2.json .errors.cert_verify_failed)" 5 "a CA that did not sign the certificate: 5 x cert_verify_failed"
"$CLIENT" handshake --port "$PORT" -n 3 -c 1 --verify "$CERTS/ca.crt" --sni wrong.example -d 10s -q \
	--json "$TMP/v3.json" >/dev/null 2>&1
is "$(jqv $TMP/v3.json .errors.cert_verify_failed)" 3 "a name the certificate does not cover: cert_verify_failed"
"$CLIENT" handshake --port "$PORT" -n 3 -c 1 --verify "$TMP/none.pem" -d 10s -q >/dev/null 2>"$TMP/v4.err"
is "$?" 1 "--verify with a missing file exits 1"
ok "$(grep -q 'cannot load CA' "$TMP/v4.err"; echo $?)" "and says why"
done_testing

#!/bin/bash
# ktls-server: SIGTERM/SIGINT/--duration stop cleanly (exit 0, within the
# grace period), and the JSON summary's counters match exactly what the test
# did, as measured on the client side by curl.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs

start_server --threads 2
# three connections, one request each; curl reports what it sent and received
req=0 resp=0
for p in /bytes/1000 /bytes/200000 /nothing; do
	out=$(get "$p" -o /dev/null -w '%{size_request} %{size_header} %{size_download}')
	read -r q h d <<<"$out"
	req=$((req + q)) resp=$((resp + h + d))
done
stop_server TERM
is "$SRV_RC" 0 "SIGTERM: exit status 0"
J=$SRV_DIR/s.json
check "the JSON summary parses" jq -e . "$J"
is "$(jq .handshakes_full "$J")" 3 "handshakes_full: 3 connections"
is "$(jq .handshakes_resumed "$J")" 0 "handshakes_resumed: 0"
is "$(jq .requests "$J")" 3 "requests: 3"
is "$(jq -c .responses "$J")" '{"200":2,"404":1}' "responses by status"
is "$(jq .bytes_in "$J")" "$req" "bytes_in equals what curl sent ($req)"
is "$(jq .bytes_out "$J")" "$resp" "bytes_out equals what curl received ($resp)"
is "$(jq .conns_current "$J")" 0 "conns_current: 0 at the end"
is "$(jq .conns_max "$J")" 1 "conns_max: 1"
is "$(jq .conns_accepted "$J")" 3 "conns_accepted: 3"
is "$(jq -c .handshake_failures "$J")" '{}' "no handshake failures"
is "$(jq '.threads | length' "$J")" 2 "threads: one entry per worker"
ok "$(jq -e '[.threads[] | .cpu_user_s >= 0 and .cpu_sys_s >= 0] | all' "$J" >/dev/null; echo $?)" \
	"threads[] have cpu_user_s and cpu_sys_s"
ok "$(jq -e '.rss_kib > 0 and .cpu_user_s + .cpu_sys_s > 0 and .duration_s > 0' "$J" >/dev/null; echo $?)" \
	"rss_kib, cpu_*_s and duration_s are filled"
is "$(jq -r .tls_mode "$J")" user "tls_mode"
ok "$(grep -q '3 full, 0 resumed, 0 failed' "$SRV_DIR/out"; echo $?)" "the human summary agrees"

# SIGTERM with a download in progress and an idle keep-alive connection:
# both end within --grace, and the server exits 0
start_server --threads 1 --grace 1s
curl -sS --cacert "$CA" "https://127.0.0.1:$SRV_PORT/bytes/1099511627776" -o /dev/null 2>/dev/null &
dl=$!
{ sleep 10; } | timeout 12 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" >/dev/null 2>&1 &
idle=$!
sleep 1
t0=$(date +%s.%N)
stop_server TERM
t=$(echo "$(date +%s.%N) - $t0" | bc)
is "$SRV_RC" 0 "SIGTERM during a download: exit 0"
ok "$(awk -v t="$t" 'BEGIN { exit !(t < 2.5) }'; echo $?)" "within the 1 s grace period (took $t s)"
wait "$dl"; dlrc=$?
ok "$([[ $dlrc != 0 ]]; echo $?)" "the endless download was cut (curl exit $dlrc)"
ok "$(jq -e '.conn_errors.server_stopping >= 1' "$SRV_DIR/s.json" >/dev/null; echo $?)" \
	"the cut connection is counted as server_stopping"
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null

# an idle keep-alive connection alone: closed at once (close_notify), quick exit
start_server --threads 1 --grace 5s
{ sleep 10; } | timeout 12 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" >/dev/null 2>&1 &
idle=$!
sleep 0.5
t0=$(date +%s.%N)
stop_server INT
t=$(echo "$(date +%s.%N) - $t0" | bc)
is "$SRV_RC" 0 "SIGINT: exit 0"
ok "$(awk -v t="$t" 'BEGIN { exit !(t < 1) }'; echo $?)" "idle connections do not wait for the grace period ($t s)"
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null

# --duration: stops by itself
t0=$(date +%s.%N)
"$KTLS_BIN/ktls-server" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
	--duration 700ms --json "$TMP/d.json" >"$TMP/d.out" 2>&1
rc=$?
t=$(echo "$(date +%s.%N) - $t0" | bc)
is "$rc" 0 "--duration 700ms: exit 0"
ok "$(awk -v t="$t" 'BEGIN { exit !(t >= 0.7 && t < 2) }'; echo $?)" "after about 0.7 s ($t s)"
ok "$(jq -e '.duration_s >= 0.69 and .duration_s < 1' "$TMP/d.json" >/dev/null; echo $?)" "duration_s in the JSON"
ok "$(grep -q 'summary' "$TMP/d.out"; echo $?)" "summary printed"
"$KTLS_BIN/ktls-server" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
	--duration 100ms --quiet >"$TMP/q.out" 2>&1
is "$?:$(wc -c <"$TMP/q.out")" "0:0" "--quiet prints nothing"
"$KTLS_BIN/ktls-server" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
	--duration 100ms --quiet --json /nonexistent/dir/x.json 2>"$TMP/j.err"
ok "$([[ $? == 2 ]] && grep -q 'cannot write' "$TMP/j.err"; echo $?)" "an unwritable --json is a usage error, found at start (exit 2)"
done_testing

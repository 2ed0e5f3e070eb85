#!/bin/bash
# ktls-server --tls user under h2load and wrk: every request answered, the
# server's counters agree with what the load tools report.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
command -v h2load >/dev/null || skip_all "h2load missing: apt-get install nghttp2-client"
command -v wrk >/dev/null || skip_all "wrk missing: apt-get install wrk"

start_server --threads 2
# h2load: 2000 requests of 1000 bytes over 20 keep-alive connections
out=$(h2load --h1 -n 2000 -c 20 "https://127.0.0.1:$SRV_PORT/bytes/1000" 2>&1)
ok "$(grep -q '2000 succeeded, 0 failed, 0 errored, 0 timeout' <<<"$out"; echo $?)" "h2load: 2000 requests succeed"
ok "$(grep -q 'status codes: 2000 2xx' <<<"$out"; echo $?)" "h2load: all 2xx"
# h2load over 20 connections, one request each: 20 handshakes
out=$(h2load --h1 -n 20 -c 20 "https://127.0.0.1:$SRV_PORT/bytes/70000" 2>&1)
ok "$(grep -q '20 succeeded, 0 failed' <<<"$out"; echo $?)" "h2load: 20 connections, 70000-byte bodies"
st=$(stats)
is "$(jq .requests <<<"$st")" 2021 "the server counted 2000 + 20 requests (+ /stats)"
is "$(jq .handshakes_full <<<"$st")" 41 "and 20 + 20 + 1 handshakes"
head1000=$(printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\nConnection: keep-alive\r\n\r\n' | wc -c)
head70000=$(printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 70000\r\nConnection: keep-alive\r\n\r\n' | wc -c)
is "$(jq .bytes_out <<<"$st")" "$((2000 * (head1000 + 1000) + 20 * (head70000 + 70000)))" \
	"bytes_out is exactly the heads and bodies sent"
is "$(jq '[.threads[].requests | select(. > 0)] | length' <<<"$st")" 2 "both workers served requests"

# wrk: 2 s of 1 MiB responses on 8 connections
out=$(wrk -t1 -c8 -d2s "https://127.0.0.1:$SRV_PORT/bytes/1048576" 2>&1)
n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
ok "$([[ ${n:-0} -gt 8 ]]; echo $?)" "wrk completed $n requests of 1 MiB"
ok "$(grep -q 'Non-2xx' <<<"$out" && echo 1 || echo 0)" "wrk: no non-2xx responses"
ok "$(grep -q 'Socket errors: connect [1-9]\|read [1-9]\|timeout [1-9]' <<<"$out" && echo 1 || echo 0)" \
	"wrk: no connect/read/timeout errors"
served=$(($(stats | jq .requests) - 2022))
ok "$([[ $served -ge $n ]]; echo $?)" "the server answered at least what wrk counted ($served >= $n)"
stop_server
is "$SRV_RC" 0 "clean exit"
# wrk first opens and closes a connection to test the address: nothing else may fail
is "$(jq -r '.handshake_failures | del(.closed_before_hello) | length' "$SRV_DIR/s.json")" 0 \
	"no handshake failed but wrk's address probe"
done_testing

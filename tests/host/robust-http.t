#!/bin/bash
# ktls-server --tls user against hostile HTTP clients (tests/helpers/hostile):
# an oversized request head, one that never ends, slowloris (a byte of the
# head every 200 ms: the request deadline runs from the first byte and more
# bytes do not restart it), a client that stops reading a large response;
# then the receive path when the ring of provided buffers runs dry
# (--recv-buffers 2: receives wait and are retried, nothing is lost).
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/robust-lib.sh"
robust_setup

start_server --tls "$MODE" --threads 1 --request-timeout 1s --idle-timeout 2s
snap
good_start

attack --attack header --header-size 100K --wait 5s
is "$(att open):$(att responses)" 0:1 "a 100 KiB head: answered once, then closed ($ATT)"
is "$(grep -o 'status=[0-9]*' "$TMP/att.out")" status=431 "... with 431"
attack --attack header --wait 5s
is "$(att open):$(att responses)" 0:1 "a head that never ends: answered once, then closed ($ATT)"
is "$(grep -o 'status=[0-9]*' "$TMP/att.out")" status=431 "... with 431"
ok "$([[ $(att end.alert:close_notify) == 1 ]]; echo $?)" "... and close_notify"
is "$(delta .responses.\"431\")" 2 "both counted under responses.431"
is "$(delta .closes.bad_request)" 2 "... and closes.bad_request"

snap
attack --attack slowloris --interval 200ms --wait 15s
is "$(att open)" 0 "slowloris (a byte every 200 ms): closed ($ATT)"
ms=$(att max_ms)
# (restarted by each byte, it would have taken the whole ~100-byte head: 20 s)
ok "$([[ $ms -ge 900 && $ms -lt 10000 ]]; echo $?)" \
	"... by --request-timeout 1s from its first byte, though bytes kept coming ($ms ms)"
is "$(grep -o 'status=[0-9]*' "$TMP/att.out")" status=408 "... answered 408"
is "$(delta .timeouts.request):$(delta .closes.request_timeout)" 1:1 "counted as timeouts.request and closes.request_timeout"

snap
attack --attack stall-read --read-first 64K --wait 4s
got=$(grep -o ' recv=[0-9]*' "$TMP/att.out" | cut -d= -f2)
ok "$([[ $(att open) == 0 && $(( $(att end.fin) + $(att end.rst) )) == 1 ]]; echo $?)" \
	"a client that stops reading a 1 TiB response: once it reads again, the stream ends ($ATT)"
ok "$([[ $got -lt 67108864 ]]; echo $?)" "... after what the server had queued before giving up ($got bytes)"
is "$(delta .timeouts.send):$(delta .closes.send_timeout)" 1:1 "counted as timeouts.send and closes.send_timeout"
attack --attack slow-read --size 256K --interval 2ms --wait 20s
is "$(grep -o 'body=[a-z]*' "$TMP/att.out"):$(att end.alert:close_notify)" "body=ok:1" \
	"a slow reader gets all 256 KiB, checked against the pattern, then close_notify ($ATT)"
good_check "HTTP attacks"
bounded "HTTP attacks"
finish

# the provided-buffer ring runs dry: two buffers for many connections
start_server --tls "$MODE" --threads 1 --recv-buffers 2
out=$("$KTLS_BIN/ktls-client" get --port "$SRV_PORT" --connections 32 --size 4K --duration 2s \
	--json "$TMP/get.json" --quiet 2>&1)
ok $? "--recv-buffers 2: 32 connections of ktls-client get, every body checked against the pattern"
ok "$(jq -e '.requests > 100 and (.errors_total // 0) == 0' "$TMP/get.json" >/dev/null; echo $?)" \
	"... $(jq .requests "$TMP/get.json") requests, no error"
B=$KTLS_BUILD/tests/helpers/tls-burst
bursts=()
for i in 1 2 3 4 5 6 7 8; do
	"$B" --port "$SRV_PORT" --requests 200 --path /bytes/3 >"$TMP/burst$i" &
	bursts+=($!)
done
wait "${bursts[@]}"
is "$(cat "$TMP"/burst? | grep -o 'HTTP/1.1 200 OK' | wc -l)" 1600 "8 x 200 pipelined requests at once: all answered"
w=$(stats | jq .recv_buffer_waits)
ok "$([[ $w -gt 0 ]]; echo $?)" "receives found the ring empty and were retried ($w times)"
finish
done_testing

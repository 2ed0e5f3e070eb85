#!/bin/bash
# ktls-server at its limits, filled by silent hostile connections: with
# --max-conns, and with few file descriptors (ulimit -n), a keep-alive client
# that was already connected goes on being served (every body checked), the
# silent ones are closed by the handshake timeout, those waiting in the
# backlog are accepted as slots or descriptors free up, and a new client is
# served afterwards.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/robust-lib.sh"
robust_setup

# get_start: one keep-alive connection for 5 s, each body checked by ktls-client
get_start() {
	"$KTLS_BIN/ktls-client" get --port "$SRV_PORT" --connections 1 --size 64K --duration 5s \
		--quiet --json "$TMP/get.json" >/dev/null 2>"$TMP/get.err" &
	GET=$!
	sleep 0.5
}
get_check() {
	wait "$GET"
	ok $? "$1: the connected client is served throughout (ktls-client get exits 0)"
	ok "$(jq -e '.requests > 10 and (.errors_total // 0) == 0' "$TMP/get.json" >/dev/null; echo $?)" \
		"$1: ... $(jq .requests "$TMP/get.json") requests, every body matched the pattern"
}

start_server --tls "$MODE" --threads 1 --max-conns 20 --handshake-timeout 1s
get_start
attack --attack idle --count 100 --wait 10s
is "$(att open)" 0 "--max-conns 20: 100 silent connections all end ($ATT)"
get_check "--max-conns 20"
st=$(stats)
is "$(jq .conns_max <<<"$st")" 20 "conns_max never passed --max-conns"
ok "$(jq -e '.accept_pauses >= 1 and .timeouts.handshake >= 90' <<<"$st" >/dev/null; echo $?)" \
	"accepting paused at the limit, and resumed: the backlog was accepted and timed out ($(jq -c '{accept_pauses, timeouts}' <<<"$st"))"
is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "a new client is served afterwards"
finish

# few descriptors: accept fails with EMFILE while the silent ones hold them
(trap - EXIT; ulimit -n 40; start_server --tls "$MODE" --threads 1 --handshake-timeout 1s
 echo "$SRV_PID $SRV_PORT $SRV_DIR" >"$TMP/emfile"; wait "$SRV_PID"; echo $? >"$TMP/emfile.rc") &
for ((i = 0; i < 100; i++)); do [[ -s $TMP/emfile ]] && break; sleep 0.05; done
read -r SRV_PID SRV_PORT SRV_DIR <"$TMP/emfile"
get_start
attack --attack idle --count 100 --wait 10s
is "$(att open)" 0 "ulimit -n 40: 100 silent connections all end ($ATT)"
get_check "ulimit -n 40"
st=$(stats)
ok "$(jq -e '.accept_errors.EMFILE >= 1 and .accept_pauses >= 1' <<<"$st" >/dev/null; echo $?)" \
	"EMFILE counted, accepting paused ($(jq -c '{accept_errors, accept_pauses}' <<<"$st"))"
is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "a new client is served afterwards"
kill -TERM "$SRV_PID"
for ((i = 0; i < 100; i++)); do [[ -s $TMP/emfile.rc ]] && break; sleep 0.05; done
is "$(cat "$TMP/emfile.rc")" 0 "SIGTERM: the server exits 0"
check "--json is valid JSON" jq -e . "$SRV_DIR/s.json"
SRV_PID=
done_testing

#!/bin/bash
# ktls-server's results can be trusted: a TLS 1.3 client that closes right
# after its handshake (its kernel resets the tickets it never read) is a
# close of its own, not a connection error; an unwritable --json path and a
# --cpus the process cannot use are refused at start; /stats and --json name
# the build that counted.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
S=$KTLS_BIN/ktls-server
C=$KTLS_BIN/ktls-client
[[ -x $C ]] || skip_all "bin/ktls-client is not built (make)"
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"

# --- closes after the handshake, tickets unread -------------------------------------------------
# ktls-client handshake closes as soon as its handshake is done (close_notify
# and FIN), before the server's two TLS 1.3 tickets arrive: its kernel answers
# them with a reset. Each such connection is one close of its own kind.
start_server --threads 1 --tls-version 1.3 --tickets 2 || bail "server started"
"$C" handshake --port "$SRV_PORT" -c 4 -n 400 -d 60s -q --json "$TMP/c.json" >/dev/null 2>&1
is "$?" 0 "400 handshakes"
stop_server # (every connection is closed and counted by the time it exits)
J=$SRV_DIR/s.json
is "$(jq '.conn_errors.reset_by_peer // 0' "$J")" 0 "no reset_by_peer among conn_errors ($(jq -c .conn_errors "$J"))"
is "$(jq '.closes.error // 0' "$J")" 0 "no close counted as an error ($(jq -c .closes "$J"))"
# every connection that completed its handshake closed either way
is "$(jq '(.closes.peer_closed_after_handshake // 0) + (.closes.client_closed // 0)' "$J")" \
	"$(jq .handshakes_full "$J")" "each of the $(jq .handshakes_full "$J") handshakes closed as peer_closed_after_handshake or client_closed"
ok "$(jq -e '.closes.peer_closed_after_handshake > 0' "$J" >/dev/null; echo $?)" \
	"the resets after unread tickets are counted apart ($(jq .closes.peer_closed_after_handshake "$J"))"
# a reset in the middle of a response is still an error
start_server --threads 1 --tls-version 1.3 || bail "server started"
timeout 0.5 curl -sS --cacert "$CA" "https://127.0.0.1:$SRV_PORT/bytes/1099511627776" >/dev/null 2>&1
for _ in $(seq 100); do [[ $(stats | jq '.conn_errors.reset_by_peer // 0') -ge 1 ]] && break; sleep 0.1; done
ok "$(stats | jq -e '.conn_errors.reset_by_peer >= 1' >/dev/null; echo $?)" "a client gone mid-response is still reset_by_peer"
is "$(stats | jq -r '.version + " " + .commit')" "$("$S" --version | head -1 | sed 's/^ktls-server \([^ ]*\) (commit \(.*\))$/\1 \2/')" \
	"/stats carries the version and commit of --version"
stop_server
is "$(jq -r '.tool + " " + .version' "$SRV_DIR/s.json")" "ktls-server $("$S" --version | head -1 | cut -d' ' -f2)" \
	"--json too"

# --- refused at start ----------------------------------------------------------------------------
out=$("$S" --port 0 --duration 2s --json "$TMP/no/such/dir/s.json" 2>&1); rc=$?
is "$rc" 2 "--json into a missing folder: usage error at start"
grep -q -- "--json $TMP/no/such/dir/s.json: cannot write: No such file or directory (checked at start)" <<<"$out"
ok $? "names the path and the cause: $out"
grep -q 'listening on' <<<"$out"; ok $((!$?)) "and never listened"
out=$("$S" --port 0 --duration 2s --cpus 1000 2>&1); rc=$?
is "$rc" 2 "--cpus 1000: usage error"
grep -q 'CPU 1000 is not one this process can run on' <<<"$out"; ok $? "says why: $out"
done_testing

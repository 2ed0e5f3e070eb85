#!/bin/bash
# ktls-server --early-data: TLS 1.3 0-RTT. openssl s_client's early request
# is answered; a ClientHello with early data sent twice (tests/helpers/
# tls-replay.c, a replay as an attacker on the path would make it) has its
# early data refused the second time with anti-replay on (single-use
# tickets) and accepted with --no-anti-replay; an unsafe method in early
# data gets 425 Too Early; the command line's limits.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
S=$KTLS_BIN/ktls-server
REPLAY=$KTLS_BUILD/tests/helpers/tls-replay
[[ -x $REPLAY ]] || skip_all "tests/helpers/tls-replay is not built (make tests)"

ed() { jq -c "{accepted: .early_data.accepted, rejected: .early_data.rejected, replays: .early_data.refused_replays, requests: .early_data.requests, before_finished: .early_data.answered_before_finished, too_early: .early_data.too_early_425}" "$SRV_DIR/s.json"; }

# openssl s_client: a ticket, then the same request as early data
start_server --threads 1 --early-data 4K
req=$TMP/req
printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n' >"$req"
{ cat "$req"; sleep 0.4; } | timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 \
	-CAfile "$CA" -sess_out "$TMP/sess" >/dev/null 2>&1
out=$({ sleep 0.4; } | timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 \
	-CAfile "$CA" -sess_in "$TMP/sess" -early_data "$req" 2>&1)
ok "$(grep -q 'Early data was accepted' <<<"$out"; echo $?)" "s_client: early data accepted"
ok "$(grep -q '^Reused, TLSv1.3' <<<"$out" && grep -q '^01234' <<<"$out"; echo $?)" \
	"s_client: resumed, and the early request answered"
out=$(openssl sess_id -in "$TMP/sess" -text -noout 2>/dev/null | sed -n 's/.*Max Early Data: //p')
is "$out" 4096 "the ticket announces max_early_data 4096"
stop_server
is "$(ed)" '{"accepted":1,"rejected":0,"replays":0,"requests":1,"before_finished":1,"too_early":0}' \
	"server JSON: 1 accepted, its request answered before the client's Finished"

# a replayed ClientHello, anti-replay on (the default)
start_server --threads 1 --early-data 4K
out=$("$REPLAY" --port "$SRV_PORT" --times 2 2>&1)
ok "$(grep -q '^copy 2:' <<<"$out"; echo $?)" "replay: the flight was sent twice ($(head -1 <<<"$out"))"
stop_server
is "$(ed)" '{"accepted":1,"rejected":0,"replays":1,"requests":1,"before_finished":1,"too_early":0}' \
	"anti-replay: the first copy accepted, the replay's early data refused and counted"

# the same replay, --no-anti-replay: both copies' early requests are answered
start_server --threads 1 --early-data 4K --no-anti-replay
"$REPLAY" --port "$SRV_PORT" --times 2 >/dev/null 2>&1
stop_server
is "$(ed)" '{"accepted":2,"rejected":0,"replays":0,"requests":2,"before_finished":2,"too_early":0}' \
	"--no-anti-replay: the replay's early data accepted and its request answered again"

# an unsafe method in early data: 425 Too Early
start_server --threads 1 --early-data 4K
"$REPLAY" --port "$SRV_PORT" --times 1 --method POST >/dev/null 2>&1
stop_server
is "$(ed)" '{"accepted":1,"rejected":0,"replays":0,"requests":1,"before_finished":1,"too_early":1}' \
	"POST in early data: 425 Too Early"
is "$(jq '.responses["425"]' "$SRV_DIR/s.json")" 1 "425 counted among the responses"

# without --early-data the tickets allow none, and nothing is counted
start_server --threads 1
{ cat "$req"; sleep 0.4; } | timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 \
	-CAfile "$CA" -sess_out "$TMP/sess0" >/dev/null 2>&1
out=$(openssl sess_id -in "$TMP/sess0" -text -noout 2>/dev/null | sed -n 's/.*Max Early Data: //p')
is "${out:-0}" 0 "no --early-data: tickets announce no early data"
out=$("$REPLAY" --port "$SRV_PORT" --times 1 2>&1)
ok "$(grep -q 'allows no early data' <<<"$out"; echo $?)" "no --early-data: the replay helper finds no early data allowed"
stop_server
is "$(jq -c .early_data "$SRV_DIR/s.json")" \
	'{"max_bytes":0,"anti_replay":false,"accepted":0,"rejected":0,"refused_replays":0,"bytes":0,"requests":0,"answered_before_finished":0,"too_early_425":0}' \
	"no --early-data: the JSON's early_data is all zero"

# the command line
rc=0; err=$("$S" --early-data 16K --max-header 8K 2>&1) || rc=$?
is "$rc" 2 "--early-data over --max-header: usage error"
ok "$(grep -q 'more than --max-header' <<<"$err"; echo $?)" "... naming the limit ($err)"
rc=0; err=$("$S" --no-anti-replay 2>&1) || rc=$?
is "$rc" 2 "--no-anti-replay without --early-data: usage error"
rc=0; err=$("$S" --early-data 4K --session-cache 0 2>&1) || rc=$?
is "$rc" 2 "--early-data with anti-replay and no session cache: usage error"
ok "$(grep -q 'no-anti-replay' <<<"$err"; echo $?)" "... naming the fix"
rc=0; err=$("$S" --early-data 4Kx 2>&1) || rc=$?
is "$rc" 2 "--early-data 4Kx: usage error"
ok "$("$S" --help | grep -q -- '--early-data SIZE'; echo $?)" "--help lists --early-data"
done_testing

#!/bin/bash
# ktls-client --early-data: a resumed connection's request goes as TLS 1.3
# early data, and the client counts what the server made of it (accepted or
# rejected from the server's EncryptedExtensions, 425 from its answer),
# against ktls-server --early-data and against openssl s_server -early_data
# as an independent peer; the command line's rules.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
C=$KTLS_BIN/ktls-client
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"

# run_client PORT [ARGS]: 10 handshakes, one slot, JSON into $TMP/c.json
run_client() {
	local port=$1; shift
	"$C" handshake -p "$port" --resume --request /bytes/100 -n 10 -c 1 -q --json "$TMP/c.json" "$@" \
		>"$TMP/c.out" 2>&1
}
ced() { jq -c .early_data "$TMP/c.json"; }

# ktls-server with early data: 9 resumed connections send their GET early,
# all accepted and answered (the pattern checked), and both sides agree
start_server --threads 1 --early-data 4K
run_client "$SRV_PORT" --early-data
is "$?" 0 "ktls-client --early-data against ktls-server --early-data: exit 0"
is "$(ced)" '{"sent":9,"accepted":9,"rejected":0,"too_early_425":0,"ticket_allowed_none":0}' \
	"client: 9 sent as early data (the first connection has no ticket), 9 accepted"
is "$(jq -c '[.requests, .resumed, .errors_total]' "$TMP/c.json")" '[10,9,0]' \
	"client: 10 responses (bodies checked), 9 resumed, no error"
stop_server
is "$(jq -c '[.early_data.accepted, .early_data.requests, .early_data.answered_before_finished]' "$SRV_DIR/s.json")" \
	'[9,9,9]' "server: 9 accepted, their 9 requests answered before the client's Finished"

# --no-anti-replay changes nothing for an honest client
start_server --threads 1 --early-data 4K --no-anti-replay
run_client "$SRV_PORT" --early-data
is "$(ced)" '{"sent":9,"accepted":9,"rejected":0,"too_early_425":0,"ticket_allowed_none":0}' \
	"--no-anti-replay: 9 sent, 9 accepted"
stop_server

# a server without early data: the tickets allow none, nothing is sent early
start_server --threads 1
run_client "$SRV_PORT" --early-data
is "$(ced)" '{"sent":0,"accepted":0,"rejected":0,"too_early_425":0,"ticket_allowed_none":9}' \
	"server without --early-data: 9 tickets allowed none, none sent"
is "$(jq .requests "$TMP/c.json")" 10 "... and every request went after the handshake"
stop_server

# early data larger than the ticket allows: sent after the handshake
start_server --threads 1 --early-data 256
"$C" handshake -p "$SRV_PORT" --resume --request /bytes/100 -n 4 -c 1 -q --json "$TMP/c.json" \
	--early-data -H "X-Pad: $(printf '%300s' | tr ' ' x)" >/dev/null 2>&1
is "$(jq -c '[.early_data.sent, .early_data.ticket_allowed_none, .requests]' "$TMP/c.json")" '[0,3,4]' \
	"a request over the ticket's max_early_data (256) is not sent early"
stop_server

# the server accepts the early data but not the method: 425 Too Early
start_server --threads 1 --early-data 4K
"$C" handshake -p "$SRV_PORT" --resume --request /bytes/1 --method POST -n 4 -c 1 -q \
	--json "$TMP/c.json" --early-data >/dev/null 2>&1
is "$(ced)" '{"sent":3,"accepted":3,"rejected":0,"too_early_425":3,"ticket_allowed_none":0}' \
	"POST as early data: accepted by TLS, answered 425 Too Early (counted)"
is "$(jq -c '.errors' "$TMP/c.json")" '{"http_405":4}' \
	"each 425 is sent again after the handshake (no error of its own; ktls-server then answers 405)"
is "$(jq -c '.round_trips' "$TMP/c.json")" '{"3":4}' "the retry costs the round trip 0-RTT saved"

stop_server

# openssl s_server -early_data (its early-data mode answers with what its
# standard input brings: one canned response per connection)
PORT=$(free_port)
resp='HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
{ sleep 1; printf "$resp"; sleep 1; printf "$resp"; sleep 5; } |
	timeout 10 openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/ecdsa-p256.crt" \
		-key "$CERTS/ecdsa-p256.key" -early_data >"$TMP/ss.out" 2>&1 &
SS=$!
sleep 0.5
"$C" handshake -p "$PORT" --resume --request /early -n 2 -c 1 --timeout 5s -q --json "$TMP/c.json" \
	--early-data >/dev/null 2>&1
kill "$SS" 2>/dev/null; wait "$SS" 2>/dev/null
is "$(jq -c '[.early_data.sent, .early_data.accepted, .early_data.rejected, .resumed, .requests]' "$TMP/c.json")" \
	'[1,1,0,1,2]' "openssl s_server -early_data: the resumed connection's request sent early and accepted"
ok "$(grep -aq 'Early data received' "$TMP/ss.out" && [[ $(grep -ac 'GET /early' "$TMP/ss.out") == 2 ]]; echo $?)" \
	"s_server read the request as early data"

# the command line
rc=0; err=$("$C" handshake --early-data --request / 2>&1) || rc=$?
is "$rc" 2 "--early-data without --resume: usage error"
ok "$(grep -q 'needs --resume' <<<"$err"; echo $?)" "... saying so ($err)"
rc=0; err=$("$C" handshake --early-data --resume 2>&1) || rc=$?
is "$rc" 2 "--early-data without a request: usage error"
rc=0; err=$("$C" get --early-data 2>&1) || rc=$?
is "$rc" 2 "get --early-data: usage error"
rc=0; err=$("$C" handshake --early-data --resume --request / --tls-version 1.2 2>&1) || rc=$?
is "$rc" 2 "--early-data with TLS 1.2 only: usage error"
ok "$("$C" --help | grep -q -- '--early-data'; echo $?)" "--help lists --early-data"
done_testing

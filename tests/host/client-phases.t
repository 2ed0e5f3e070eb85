#!/bin/bash
# ktls-client's phases and round trips (client/phases.c) through a relay
# that delays every byte 50 ms each way (tests/helpers/delay-relay.c, RTT
# 100 ms): the round trips each kind of connection needs to its response's
# first byte, counted where the client sees them (the TCP connect is one;
# then one per turn: bytes from the server after the client wrote):
#   TLS 1.2 full 4, TLS 1.2 resumed 3, TLS 1.3 full 3, TLS 1.3 resumed 3,
#   TLS 1.3 0-RTT 2, TLS 1.3 with a HelloRetryRequest 4.
# Time to first byte is at least (round trips - 1) x RTT: the relay cannot
# delay the TCP handshake, which the kernel completes before it sees the
# connection. No upper bound on time is asserted (a loaded machine is slow).
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
C=$KTLS_BIN/ktls-client
RELAY=$KTLS_BUILD/tests/helpers/delay-relay
[[ -x $RELAY ]] || skip_all "tests/helpers/delay-relay is not built (make tests)"
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"
RTT_US=100000

RELAYS=()
trap 'kill "${RELAYS[@]}" 2>/dev/null; cleanup_server' EXIT
# start_relay: a relay to the server of SRV_PORT; sets RP, its port
start_relay() {
	local out=$TMP/relay.$SRV_PORT
	"$RELAY" --to "$SRV_PORT" --delay 50ms >"$out" 2>&1 &
	RELAYS+=($!)
	for _ in $(seq 100); do grep -q '^port' "$out" && break; sleep 0.05; done
	RP=$(sed -n 's/^port //p' "$out")
	[[ -n $RP ]] || bail "the relay did not start: $(cat "$out")"
}

start_server --threads 1 --early-data 4K
start_relay

# kind NAME WANT_RT_JSON RT [client args]: 3 connections of one slot; the
# first of a --resume run is a full handshake
kind() {
	local name=$1 want=$2 rt=$3; shift 3
	"$C" handshake -p "$RP" --request /bytes/100 -n 3 -c 1 --timeout 10s -q \
		--json "$TMP/$name.json" "$@" >"$TMP/$name.out" 2>&1
	local j=$TMP/$name.json
	is "$(jq -c .round_trips "$j")" "$want" "$name: round trips to the first byte"
	local ttfb p
	ttfb=$(jq '.phases_us.ttfb.p50' "$j")
	diag "$name: ttfb p50 $ttfb us, $rt round trips, RTT $RTT_US us; phases p50 $(jq -c '.phases_us | map_values(.p50)' "$j")"
	ok "$(awk -v t="$ttfb" -v r="$rt" -v rtt=$RTT_US 'BEGIN { exit !(t >= (r - 1) * rtt) }'; echo $?)" \
		"$name: ttfb p50 ${ttfb} us >= ($rt - 1) x RTT"
	# the phases in order, each after the last (p50s of the same connections)
	p=$(jq -r '.phases_us | [.connect.p50, .server_hello.p50, .handshake.p50, .ttfb.p50, .total.p50] |
		(. == sort) and (.[1] >= '$RTT_US')' "$j")
	is "$p" true "$name: connect <= server_hello <= handshake <= ttfb <= total, ServerHello after >= 1 RTT"
}
kind tls12-full '{"4":3}' 4 --tls-version 1.2
kind tls12-resumed '{"3":2,"4":1}' 3 --tls-version 1.2 --resume
is "$(jq .resumed "$TMP/tls12-resumed.json")" 2 "tls12-resumed: 2 resumed"
kind tls13-full '{"3":3}' 3 --tls-version 1.3
kind tls13-resumed '{"3":3}' 3 --tls-version 1.3 --resume
is "$(jq .resumed "$TMP/tls13-resumed.json")" 2 "tls13-resumed: 2 resumed"
kind tls13-0rtt '{"2":2,"3":1}' 2 --tls-version 1.3 --resume --early-data
is "$(jq -c '[.early_data.sent, .early_data.accepted]' "$TMP/tls13-0rtt.json")" '[2,2]' \
	"tls13-0rtt: 2 requests sent as early data, 2 accepted"

# a handshake without a request counts to the handshake's end
"$C" handshake -p "$RP" -n 2 -c 1 --timeout 10s -q --json "$TMP/hs.json" --tls-version 1.3 >/dev/null 2>&1
is "$(jq -c .round_trips "$TMP/hs.json")" '{"2":2}' "TLS 1.3 handshake without a request: 2 round trips"
is "$(jq -c '[.phases_us.ttfb.count, .phases_us.handshake.count]' "$TMP/hs.json")" '[0,2]' \
	"... no ttfb without a request, the handshake phase for both"

# trace: the round trip of each message (rt column, round_trip in JSON)
"$C" trace -p "$RP" --resume --early-data --request /bytes/10 --timeout 10s --json "$TMP/tr.json" \
	>"$TMP/tr.txt" 2>&1
is "$?" 0 "trace --resume --early-data: exit 0"
is "$(jq -c .resumed.early_data "$TMP/tr.json")" '{"ticket_max_bytes":4096,"sent":true,"accepted":true}' \
	"trace: the resumed connection's request went as early data, accepted"
rt_of() { jq -c "[.$1.messages[] | select($2) | .round_trip]" "$TMP/tr.json"; }
is "$(rt_of resumed '.early_data')" '[2]' "trace: the early data belongs to round trip 2, with the ClientHello"
is "$(rt_of resumed '.message == "application data" and .direction == "server_to_client"')" '[2]' \
	"trace: the 0-RTT answer arrives in round trip 2, with the server's Finished"
is "$(rt_of resumed '.message == "EndOfEarlyData"')" '[3]' "trace: EndOfEarlyData opens round trip 3"
is "$(rt_of full '.message == "application data" and .direction == "server_to_client"')" '[3]' \
	"trace: the full handshake's answer arrives in round trip 3"
is "$(jq -c .full.early_data "$TMP/tr.json")" null "trace: the first connection has no ticket: early_data null"
ok "$(grep -q '^    time  *.*  rt  dir ' "$TMP/tr.txt"; echo $?)" "the trace has an rt column"
ok "$(grep -q 'early data (0-RTT) (' "$TMP/tr.txt" &&
	tr -s ' \n' ' ' <"$TMP/tr.txt" | grep -q 'The server accepted the early data'; echo $?)" \
	"the trace shows where the request went and that it was accepted"
"$C" trace -p "$RP" --tls-version 1.2 --request /bytes/10 --timeout 10s --json "$TMP/tr12.json" \
	>"$TMP/tr12.txt" 2>&1
is "$(jq -c '[.messages[] | select(.message == "application data") | .round_trip]' "$TMP/tr12.json")" '[4,4]' \
	"trace TLS 1.2 full: the request and its answer in round trip 4"
long=$(cat "$TMP"/tr*.txt | awk '{ n = length($0) } n > 100 { print n ": " $0 }' | head -3)
is "$long" "" "no trace line is wider than 100 columns"
stop_server

# a server with X25519 alone, a client whose key share is P-256: a
# HelloRetryRequest asks for X25519
start_server --threads 1 --groups X25519
start_relay
kind tls13-hrr '{"4":3}' 4 --tls-version 1.3 --groups P-256:X25519
is "$(jq .hello_retry_requests "$TMP/tls13-hrr.json")" 3 "tls13-hrr: 3 HelloRetryRequests counted"
stop_server

# the human summary says it too
ok "$(grep -q '^  round trips  *4: 3 connections (3 HelloRetryRequests)' "$TMP/tls13-hrr.out"; echo $?)" \
	"the summary counts round trips and HelloRetryRequests"
ok "$(grep -q '^  phases p50  *connect .*, ttfb .*, total ' "$TMP/tls13-full.out"; echo $?)" \
	"the summary shows the phases' p50"
done_testing

#!/bin/bash
# ktls-server --tls user against hostile clients before and during the
# handshake (tests/helpers/hostile): random bytes instead of a ClientHello, a
# real ClientHello cut at every length then FIN, RST or silence, a reset at
# every stage of the handshake, and 1000 connections that never speak. Each
# attacked connection ends within a bound, the counters say why, a
# concurrent good client's bytes verify, fds and RSS come back, and the
# server stops cleanly.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/robust-lib.sh"
robust_setup
IDLE_N=${ROBUST_IDLE_CONNS:-1000}

start_server --tls "$MODE" --threads 1 --handshake-timeout 1s --request-timeout 1s --idle-timeout 2s
snap
good_start

for seed in 1 2 3; do
	attack --attack random --bytes 2000 --seed $seed --wait 5s
	is "$(att open)" 0 "random bytes (seed $seed): the server ends the connection ($ATT)"
done
is "$(att end.alert:unexpected_message)" 1 "... with unexpected_message ($ATT)"
is "$(delta .handshake_failures.not_tls):$(delta .timeouts.handshake)" 3:0 \
	"random bytes are counted as handshake_failures.not_tls, not ended by a timeout ($(att max_ms) ms)"

attack --attack hello-cut --then close --wait 5s
n=$(att conns)
ok "$([[ $n -gt 100 && $(att open) == 0 && $(att end.fin) == "$n" ]]; echo $?)" \
	"a ClientHello cut at each of its $n lengths, then FIN: each one closed by the server ($ATT)"
settle
is "$(( $(delta .handshake_failures.closed_in_handshake) + $(delta .handshake_failures.closed_before_hello) ))" "$n" \
	"... counted as closed_before_hello (length 0) or closed_in_handshake"
is "$(delta .timeouts.handshake)" 0 "... none by a timeout ($(att max_ms) ms at most)"

snap
attack --attack hello-cut --then reset --wait 5s
n=$(att conns)
settle
is "$(delta .handshake_failures_total)" "$n" "a ClientHello cut at each of $n lengths, then RST: every one counted as a failed handshake"
is "$(delta '.handshake_failures.reset_by_peer + .handshake_failures.closed_before_hello + .handshake_failures.closed_in_handshake')" "$n" \
	"... as reset_by_peer (or closed, when the reset came before the first read) ($(jq -c .handshake_failures <<<"$(stats)"))"

snap
attack --attack hello-cut --then stall --wait 8s
n=$(att conns)
is "$(att open)" 0 "a ClientHello cut at each of $n lengths, then silence: all closed"
ok "$([[ $(att max_ms) -ge 900 ]]; echo $?)" "... by --handshake-timeout 1s, not sooner (the last after $(att max_ms) ms)"
is "$(delta .timeouts.handshake)" "$n" "... counted as timeouts.handshake"

snap
for stage in connect hello-part hello server-hello finished request response; do
	attack --attack reset --stage $stage --count 5
	is "$(att end.reset_sent)" 5 "RST at stage $stage x5 ($ATT)"
done
settle
now=$SETTLED
accepted=$(delta .conns_accepted "$now")
closes=$(delta '[.closes[]] | add' "$now")
is "$closes" "$accepted" "every reset connection is closed and counted ($accepted; $(jq -c .closes <<<"$now"))"
ok "$([[ $(delta .handshake_failures.reset_by_peer) -ge 10 && $(delta .conn_errors.reset_by_peer) -ge 5 ]]; echo $?)" \
	"resets are counted as reset_by_peer, in the handshake and after it"
bounded "resets"

snap
attack --attack idle --count "$IDLE_N" --wait 10s
is "$(att conns):$(att open)" "$IDLE_N:0" "$IDLE_N connections that never speak: all closed ($ATT)"
ok "$([[ $(att max_ms) -ge 900 ]]; echo $?)" "... by --handshake-timeout 1s, not sooner (the last after $(att max_ms) ms)"
is "$(delta .timeouts.handshake)" "$IDLE_N" "... counted as timeouts.handshake"
bounded "$IDLE_N silent connections"

good_check "handshake attacks"
is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "the server still serves afterwards"
finish
done_testing

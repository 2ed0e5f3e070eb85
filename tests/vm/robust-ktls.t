#!/bin/bash
# ktls-server --tls ktls against hostile clients, on a kernel with kTLS (the
# VM): after the switch to kTLS, one bad record per connection (a tampered
# record, one over the maximum size, a header no TLS peer sends, a record
# shorter than a tag, a sealed record of an unexpected type, half a record
# then FIN). The kernel's error reaches the server through the io_uring
# receive and libktls: the connection ends with the alert RFC 8446 names,
# the cause is counted by its KTLS_E_* name, the request inside a record
# that failed authentication is never answered, /proc/net/tls_stat counts
# the decrypt errors, and a concurrent good client is untouched. Then the
# HTTP attacks through the kernel's record layer, a few handshake attacks
# (the same userspace code as --tls user, tested fully on the host), and a
# clean stop. TCG crypto is slow: a few MB in all.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
. "$(dirname "$0")/../host/robust-lib.sh"
robust_setup
STAT=/proc/net/tls_stat
[[ -r $STAT ]] || skip_all "no $STAT: this kernel has no kTLS"
counter() { awk -v n="$1" '$1 == n { print $2 }' "$STAT"; }
GOOD_SIZE=1500000

start_server --tls ktls --strict --threads 1 --handshake-timeout 2s --request-timeout 1s --idle-timeout 2s
snap
good_start 300K
dec0=$(counter TlsDecryptError)
# kind, how the connection ends, the conn_errors reason. The kernel takes
# the header of a TLS 1.3 record as additional authenticated data, so a
# content type no peer sends fails authentication (6.1 and 7.3); the bytes
# of a truncated record stay unread, so closing resets the connection.
record_cases <<'CASES'
tampered alert:bad_record_mac KTLS_E_DECRYPT
bad-length alert:bad_record_mac KTLS_E_DECRYPT
oversized alert:record_overflow KTLS_E_RECORD_OVERFLOW
bad-type alert:bad_record_mac KTLS_E_DECRYPT
unexpected-type alert:unexpected_message KTLS_E_BAD_RECORD
truncated rst KTLS_E_TRUNCATED
CASES
dec=$(($(counter TlsDecryptError) - dec0))
ok "$([[ $dec -ge 1 ]]; echo $?)" "/proc/net/tls_stat TlsDecryptError counted the records that failed authentication (+$dec)"

attack --attack header --wait 5s
is "$(grep -o 'status=[0-9]*' "$TMP/att.out"):$(att open)" status=431:0 "a head that never ends: 431 through kTLS, then closed"
attack --attack slowloris --interval 200ms --wait 15s
ms=$(att max_ms)
is "$(grep -o 'status=[0-9]*' "$TMP/att.out"):$(att open)" status=408:0 "slowloris: 408 through kTLS, then closed ($ATT)"
# (restarted by each byte, it would have taken the whole ~100-byte head: 20 s)
ok "$([[ $ms -ge 900 && $ms -lt 10000 ]]; echo $?)" "... by --request-timeout 1s from the first byte ($ms ms)"
attack --attack stall-read --read-first 64K --wait 4s
is "$(att open)" 0 "a client that stops reading: the server gives up ($ATT)"
ok "$(jq -e '.timeouts.send >= 1 and .timeouts.request >= 1' <<<"$(stats)" >/dev/null; echo $?)" \
	"counted as timeouts.send and timeouts.request ($(stats | jq -c .timeouts))"

attack --attack random --wait 3s
is "$(att open)" 0 "random bytes instead of a ClientHello: closed ($ATT)"
attack --attack idle --count 100 --wait 6s
is "$(att open)" 0 "100 silent connections: closed by --handshake-timeout ($ATT)"
attack --attack hello-cut --cuts 0-60 --then reset --wait 3s
settle
st=$SETTLED
is "$(jq .conns_current <<<"$st")" 1 "61 cut ClientHellos then RST: all gone"
is "$(jq .ktls_offloads <<<"$st")" "$(jq '.handshakes_full + .handshakes_resumed' <<<"$st")" \
	"every completed handshake was offloaded (--strict)"
S0=$st
# (a reset right after the client's Finished can come before the switch)
for stage in connect hello server-hello finished request response; do
	attack --attack reset --stage $stage --count 2
	is "$(att end.reset_sent)" 2 "RST at stage $stage x2, around the switch to kTLS"
done
settle
now=$SETTLED
is "$(delta '[.closes[]] | add' "$now")" "$(delta .conns_accepted "$now")" \
	"every reset connection is closed and counted ($(jq -c .closes <<<"$now"))"
good_check "bad records and hostile clients under kTLS"
bounded "kTLS attacks"
finish

# readers slower than the server, with a small send buffer: the close_notify
# after the last byte finds the buffer full and waits for room (io_uring
# poll) without blocking the worker, and the close waits until the kernel
# has handed TCP every record it accepted (close() drops the rest: 4 of
# 192 such bodies came short, ended by FIN, on 7.3 before); each client
# gets every byte, then close_notify
start_server --tls ktls --strict --threads 1 --sndbuf 4K
attack --attack slow-read --count 16 --size 64K --interval 1ms --wait 60s
is "$(grep -o 'body=[a-z]*' "$TMP/att.out" | sort | uniq -c | tr -s ' '):$(att end.alert:close_notify)" " 16 body=ok:16" \
	"16 slow readers get all of their 64-124 KiB, checked against the pattern, then close_notify ($ATT)"
ok "$(jq -e '.close_notify_waits >= 1' <<<"$(stats)" >/dev/null; echo $?)" \
	"the close_notify waited for room in the send buffer ($(stats | jq .close_notify_waits) times)"
finish
is "$(counter TlsCurrTxSw):$(counter TlsCurrRxSw)" "0:0" "no kTLS socket left open"
done_testing

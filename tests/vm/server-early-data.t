#!/bin/bash
# ktls-server --tls ktls --early-data on a kernel with kTLS: early data is
# read in userspace (SSL_read_early_data), early GETs are answered before the
# client's Finished, the record layer moves into the kernel after
# EndOfEarlyData and Finished, and every byte arrives (the pattern checked by
# ktls-client, SHA-256 of a body through openssl s_client -early_data). The
# single-use tickets of anti-replay stay in the session cache after a kTLS
# switch (they were dropped with the SSL object: every early ClientHello was
# refused as a replay), and so do TLS 1.2 session IDs.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
need_certs
[[ -r /proc/net/tls_stat ]] || skip_all "no /proc/net/tls_stat: this kernel has no kTLS"
C=$KTLS_BIN/ktls-client
REPLAY=$KTLS_BUILD/tests/helpers/tls-replay

sj() { jq -M -c "$1" "$SRV_DIR/s.json"; }
cj() { jq -M -c "$1" "$TMP/c.json"; }

# ktls-client: 4 connections, 3 resumed with their GET /bytes/100000 as early data
start_server --tls ktls --threads 1 --early-data 4K
"$C" handshake -p "$SRV_PORT" --resume --early-data --request /bytes/100000 -n 4 -c 1 -q \
	--timeout 30s --json "$TMP/c.json" >/dev/null 2>&1
is "$?" 0 "ktls-client --early-data against --tls ktls: exit 0"
is "$(cj '[.early_data.sent, .early_data.accepted, .requests, .errors_total]')" '[3,3,4,0]' \
	"3 requests sent as early data and accepted; 4 bodies of 100000 bytes, the pattern checked"

# openssl s_client: the body's SHA-256
req=$TMP/req
{ printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1; } |
	timeout 30 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 -sess_out "$TMP/sess" >/dev/null 2>&1
printf 'GET /bytes/300000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$req"
got=$(timeout 60 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_3 -sess_in "$TMP/sess" \
	-early_data "$req" -quiet </dev/null 2>/dev/null | sed '1,/^\r$/d' | sha256sum | cut -d' ' -f1)
is "$got" "$(pattern 300000 | sha256sum | cut -d' ' -f1)" \
	"s_client -early_data: GET /bytes/300000 as early data, its body's SHA-256"
stop_server
is "$(sj '[.early_data.accepted, .early_data.refused_replays, .early_data.answered_before_finished]')" '[4,0,4]' \
	"server: 4 accepted (3 + s_client), none refused, all answered before the client's Finished"
is "$(sj '[.ktls_offloads, .ktls_refusals, .conn_errors, .handshakes_resumed]')" '[6,{},{},4]' \
	"server: every connection moved into the kernel after its handshake, 4 resumed, no error"

# a replayed early ClientHello: refused with anti-replay, accepted without
if [[ -x $REPLAY ]]; then
	start_server --tls ktls --threads 1 --early-data 4K
	"$REPLAY" --port "$SRV_PORT" --times 2 >/dev/null 2>&1
	stop_server
	is "$(sj '[.early_data.accepted, .early_data.refused_replays]')" '[1,1]' \
		"kTLS, anti-replay: the first copy accepted, the replay refused"
	start_server --tls ktls --threads 1 --early-data 4K --no-anti-replay
	"$REPLAY" --port "$SRV_PORT" --times 2 >/dev/null 2>&1
	stop_server
	is "$(sj '[.early_data.accepted, .early_data.refused_replays]')" '[2,0]' \
		"kTLS, --no-anti-replay: both copies accepted"
else
	skip "tests/helpers/tls-replay is not built" 2
fi

# TLS 1.2 session IDs live in the same cache
start_server --tls ktls --threads 1 --tickets 0
"$C" handshake -p "$SRV_PORT" --resume --no-tickets --tls-version 1.2 --request /bytes/10 -n 4 -c 1 -q \
	--timeout 30s --json "$TMP/c.json" >/dev/null 2>&1
stop_server
is "$(cj '[.resumed, .requests]')" '[3,4]' "kTLS: TLS 1.2 session IDs resume after the switch"
done_testing

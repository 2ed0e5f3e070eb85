#!/bin/bash
# ktls-server --tls ktls: control records met by the io_uring receive (-EIO)
# and handed to ktls_recv(): a TLS 1.3 KeyUpdate from the client, with and
# without update_requested (openssl s_client's "k" and "K" commands). On a
# kernel that can rekey (6.14+) the connection goes on with the new keys;
# elsewhere it ends cleanly and the reason is counted.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
need_certs
[[ -r /proc/net/tls_stat ]] || skip_all "this kernel has no kTLS"
rekey=$("$KTLS_BIN/ktls" probe --json | jq -r .rekey)

start_server --tls ktls --threads 1
out=$({ printf 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1
	printf 'k\n'; sleep 1
	printf 'GET /bytes/4 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1
	printf 'K\n'; sleep 1
	printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 1; } |
	timeout 20 openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" -tls1_3 2>&1)
bodies=$(grep -o '^01[0-9]*' <<<"$out" | tr '\n' ' ')
st=$(stats)
if [[ $rekey == true ]]; then
	is "$bodies" "012 0123 01234 " "rekey kernel: responses before and after both KeyUpdates"
	is "$(jq -c .conn_errors <<<"$st")" '{}' "no connection error"
	ok "$(jq -e '.ktls_control_records >= 2' <<<"$st" >/dev/null; echo $?)" \
		"the KeyUpdates went through ktls_recv ($(jq .ktls_control_records <<<"$st"))"
else
	is "$bodies" "012 " "no rekey in this kernel: the response before the KeyUpdate"
	is "$(jq .conn_errors.KTLS_E_REKEY_UNSUPPORTED <<<"$st")" 1 \
		"then the connection ends, counted as KTLS_E_REKEY_UNSUPPORTED"
	ok "$(jq -e '.ktls_control_records >= 1' <<<"$st" >/dev/null; echo $?)" "the KeyUpdate went through ktls_recv"
fi
# a client that reads nothing for 3 s of a 16 MB response with
# Connection: close: the server's close_notify waits for room in the send
# buffer without stalling the worker, and the client gets every byte and
# then the close_notify
N=16000000
{ printf 'GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' $N; sleep 12; } |
	timeout 40 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" 2>"$TMP/slow.err" |
	{ sleep 3; sed '1,/^\r$/d'; } | sha >"$TMP/slow.sum" &
slow=$!
sleep 1.5
t0=$(date +%s%N)
is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "another client is served while the slow one reads nothing"
t=$((($(date +%s%N) - t0) / 1000000))
ok "$([[ $t -lt 1500 ]]; echo $?)" "... promptly (${t} ms)"
wait "$slow"
is "$(cat "$TMP/slow.sum")" "$(pattern $N | sha)" "the slow client gets all 16 MB once it reads"

# the server is unharmed
is "$(get /bytes/100 | sha)" "$(pattern 100 | sha)" "another client is served afterwards"
stop_server
is "$SRV_RC" 0 "clean exit"
done_testing

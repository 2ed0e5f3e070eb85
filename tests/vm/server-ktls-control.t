#!/bin/bash
# ktls-server --tls ktls: control records met by the io_uring receive (-EIO)
# and handed to ktls_recv(): TLS 1.3 KeyUpdates from openssl s_client (its
# "k" and "K" commands: without and with update_requested), each sent only
# once the response before it has arrived. On a kernel that can rekey
# (6.14+) the connection goes on with the new keys; elsewhere it ends
# cleanly and the reason is counted. Then a client that reads nothing of a
# 16 MB response while another is served. Every step waits for a condition
# (bounded), never for a delay.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
need_certs
[[ -r /proc/net/tls_stat ]] || skip_all "this kernel has no kTLS"
rekey=$("$KTLS_BIN/ktls" probe --json | jq -r .rekey)

# wait_for REGEX [N]: until s_client's output has N matches of REGEX
# (default 1; 30 s at most, or until s_client is gone); 0 when it has.
# (Bodies have no newline: s_client's KEYUPDATE lands on the same line.)
wait_for() {
	local i n
	for ((i = 0; i < 300; i++)); do
		n=$(grep -oE "$1" "$TMP/sc.out" 2>/dev/null | wc -l)
		[[ $n -ge ${2:-1} ]] && return 0
		kill -0 "$SC" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

trap '' PIPE     # a write to an s_client that is gone fails, not the script
start_server --tls ktls --threads 1
mkfifo "$TMP/in"
openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" -tls1_3 <"$TMP/in" >"$TMP/sc.out" 2>&1 &
SC=$!
exec 7>"$TMP/in"
printf 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n' >&7 2>/dev/null
wait_for 'Content-Length: 3'
ok $? "the response before the KeyUpdates"
printf 'k\n' >&7 2>/dev/null
wait_for KEYUPDATE
printf 'GET /bytes/4 HTTP/1.1\r\nHost: x\r\n\r\n' >&7 2>/dev/null
if [[ $rekey == true ]]; then
	wait_for 'Content-Length: 4'
	ok $? "rekey kernel: a response after KeyUpdate(update_not_requested)"
	printf 'K\n' >&7 2>/dev/null
	wait_for KEYUPDATE 2
	printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n' >&7 2>/dev/null
	wait_for 'Content-Length: 5'
	ok $? "rekey kernel: a response after KeyUpdate(update_requested), read under our new key"
else
	wait_for 'Content-Length: 4'     # it never comes: s_client ends first
fi
exec 7>&-
wait "$SC"
st=$(stats)
trap - PIPE
bodies=$(grep -oE '^012[34]*(KEYUPDATE|DONE)?$' "$TMP/sc.out" | sed 's/[A-Z]*$//' | tr '\n' ' ')
if [[ $rekey == true ]]; then
	is "$bodies" "012 0123 01234 " "every body checked, before and after both KeyUpdates"
	is "$(grep -o KEYUPDATE "$TMP/sc.out" | wc -l)" 2 "s_client sent both KeyUpdates"
	is "$(jq -c .conn_errors <<<"$st")" '{}' "no connection error"
	ok "$(jq -e '.ktls_control_records >= 2' <<<"$st" >/dev/null; echo $?)" \
		"the KeyUpdates went through ktls_recv ($(jq .ktls_control_records <<<"$st"))"
else
	is "$bodies" "012 " "no rekey in this kernel: nothing after the KeyUpdate"
	is "$(jq .conn_errors.KTLS_E_REKEY_UNSUPPORTED <<<"$st")" 1 \
		"then the connection ends, counted as KTLS_E_REKEY_UNSUPPORTED"
	ok "$(jq -e '.ktls_control_records >= 1' <<<"$st" >/dev/null; echo $?)" "the KeyUpdate went through ktls_recv"
fi

# A client that reads nothing of a 16 MB response with Connection: close
# until it is told to: the server's close_notify waits for room in the send
# buffer without stalling the worker (another client is served meanwhile,
# while this one is provably not reading), and the client gets every byte
# and then the close_notify.
N=16000000
mkfifo "$TMP/go"
printf 'GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' $N |
	timeout 120 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" 2>"$TMP/slow.err" |
	{ read -r _ <"$TMP/go"; sed '1,/^\r$/d'; } | sha >"$TMP/slow.sum" &
slow=$!
# the response has started: the buffers between the server and the stalled
# reader fill, and stay full until it is told to read
for ((i = 0; i < 300; i++)); do [[ $(stats | jq .bytes_out) -gt 1000000 ]] && break; sleep 0.1; done
is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "another client is served while the slow one reads nothing"
echo go >"$TMP/go"
wait "$slow"
is "$(cat "$TMP/slow.sum")" "$(pattern $N | sha)" "the slow client gets all 16 MB once it reads"

# the server is unharmed
is "$(get /bytes/100 | sha)" "$(pattern 100 | sha)" "another client is served afterwards"
stop_server
is "$SRV_RC" 0 "clean exit"
done_testing

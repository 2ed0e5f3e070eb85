#!/bin/bash
# ktls-server --tls ktls on a kernel with kTLS (the VM, or a kTLS host): every
# route through the kernel's record layer with userspace peers (curl,
# openssl s_client, gnutls-cli), /file through splice, bytes verified;
# /proc/net/tls_stat counts the offloads; a cipher the kernel cannot take
# falls back to userspace and is counted (or, with --strict, is closed).
# TCG crypto is slow: a few MiB in all.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/server-lib.sh"
need_certs
STAT=/proc/net/tls_stat
[[ -r $STAT ]] || skip_all "no $STAT: this kernel has no kTLS"
counter() { awk -v n="$1" '$1 == n { print $2 }' "$STAT"; }

DOC=$TMP/doc
mkdir -p "$DOC"
head -c 700001 /dev/urandom >"$DOC/f.bin"
printf 'tiny\n' >"$DOC/tiny"

start_server --tls ktls --threads 1 --docroot "$DOC"
ok $? "--tls ktls starts"
tx0=$(counter TlsTxSw) rx0=$(counter TlsRxSw)     # after the startup probe's own offloads
ok "$([[ ! -s $SRV_DIR/err ]]; echo $?)" "no warning: this kernel offloads"

for n in 0 1 16385 400000; do
	is "$(get "/bytes/$n" | sha)" "$(pattern "$n" | sha)" "GET /bytes/$n through kTLS"
done
is "$(get /file/f.bin | sha)" "$(sha <"$DOC/f.bin")" "GET /file/f.bin through splice file -> pipe -> kTLS socket"
is "$(get /file/tiny)" tiny "a small file"
is "$(get /nope -o /dev/null -w '%{http_code}')" 404 "404 through kTLS"
hdr=$(get /bytes/5 -X PUT -o /dev/null -D -)
ok "$(grep -q '^HTTP/1.1 405' <<<"$hdr"; echo $?)" "405 through kTLS"
out=$(raw 'GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | sha)
want=$( { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n0123456789'
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n'
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: keep-alive\r\n\r\n'; pattern 100000
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\nConnection: close\r\n\r\n01234'; } | sha)
is "$out" "$want" "pipelined requests, small and large, in order through kTLS"
out=$(raw 'GET /file/tiny HTTP/1.1\r\nHost: x\r\n\r\nGET /file/tiny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
is "$(grep -c '^tiny' <<<"$out")" 2 "two pipelined files"

# each version x cipher the kernel takes, with an independent peer for some
for v in 1.3:TLS_AES_128_GCM_SHA256 1.3:TLS_AES_256_GCM_SHA384 1.3:TLS_CHACHA20_POLY1305_SHA256 \
	1.2:ECDHE-ECDSA-AES128-GCM-SHA256 1.2:ECDHE-ECDSA-AES256-GCM-SHA384 1.2:ECDHE-ECDSA-CHACHA20-POLY1305; do
	ver=${v%%:*} c=${v#*:}
	if [[ $ver == 1.3 ]]; then args=(--tlsv1.3 --tls13-ciphers "$c"); else args=(--tlsv1.2 --tls-max 1.2 --ciphers "$c"); fi
	is "$(get /bytes/70000 "${args[@]}" | sha)" "$(pattern 70000 | sha)" "TLS $ver $c: 70000 bytes"
done
for prio in 'NORMAL:-VERS-ALL:+VERS-TLS1.3' 'NORMAL:-VERS-ALL:+VERS-TLS1.2'; do
	out=$(printf 'GET /bytes/50000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		timeout 20 gnutls-cli --logfile=/dev/null --priority "$prio" --x509cafile "$CA" \
			-p "$SRV_PORT" 127.0.0.1 2>/dev/null | sed '1,/^\r$/d' | sha)
	is "$out" "$(pattern 50000 | sha)" "gnutls-cli ($prio) through kTLS"
done
# resumption still counts, and the resumed session is offloaded too
sess=$TMP/sess
# (-ign_eof and Connection: close: s_client reads until the server closes,
# the tickets included, however slow the machine; no sleep to guess)
printf 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 60 openssl s_client -ign_eof -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" -sess_out "$sess" >/dev/null 2>&1
out=$(printf 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 60 openssl s_client -ign_eof -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" -sess_in "$sess" 2>&1)
ok "$(grep -q '^Reused' <<<"$out" && grep -q '^012' <<<"$out"; echo $?)" "a resumed TLS 1.3 session is served through kTLS"

# requests in the same TCP segment as the client's Finished: read with the
# handshake's last record, decrypted in userspace, then kTLS takes over
B=$KTLS_BUILD/tests/helpers/tls-burst
out=$("$B" --port "$SRV_PORT" --requests 3 --path /bytes/100000 | sha)
want=$( { for i in 1 2; do printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: keep-alive\r\n\r\n'; pattern 100000; done
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n'; pattern 100000; } | sha)
is "$out" "$want" "requests right behind the client's Finished, then kTLS: nothing lost"

st=$(stats)
hs=$(jq '.handshakes_full + .handshakes_resumed' <<<"$st")
is "$(jq .ktls_offloads <<<"$st")" "$hs" "every handshake was offloaded ($hs)"
is "$(jq -c .ktls_refusals <<<"$st")" '{}' "no refusal"
ok "$(jq -e '.handshakes_resumed >= 1' <<<"$st" >/dev/null; echo $?)" "the resumed handshake is counted"
ok "$(jq -e '.ktls_control_records >= 1' <<<"$st" >/dev/null; echo $?)" \
	"control records (close_notify) went through ktls_recv ($(jq .ktls_control_records <<<"$st"))"
is "$(($(counter TlsTxSw) - tx0))" "$hs" "TlsTxSw grew by one per connection"
is "$(($(counter TlsRxSw) - rx0))" "$hs" "TlsRxSw grew by one per connection"
stop_server
is "$SRV_RC" 0 "clean exit"
is "$(counter TlsCurrTxSw):$(counter TlsCurrRxSw)" "0:0" "no kTLS socket left open"
is "$(jq -c .handshake_failures "$SRV_DIR/s.json")" '{}' "no handshake failed"

# a cipher the kernel cannot offload (TLS 1.2 CBC, offered only when asked
# for): served from userspace, counted
start_server --tls ktls --threads 1 --ciphers 'DEFAULT'
is "$(get /bytes/30000 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA256 | sha)" \
	"$(pattern 30000 | sha)" "a CBC cipher falls back to userspace and is served"
# more requests behind Finished than the request buffer (8 KiB) holds, in
# one record read with the Finished (300 x 34 bytes): that connection stays
# in userspace (counted) and every request is answered
out=$("$B" --port "$SRV_PORT" --requests 300 --path /bytes/3)
is "$(grep -o 'HTTP/1.1 200 OK' <<<"$out" | wc -l)" 300 "300 requests behind Finished: all answered"
# 600 requests make two records, the first larger than what the handshake
# reads at once: only the Finished is read, kTLS takes the rest
out=$("$B" --port "$SRV_PORT" --requests 600 --path /bytes/3)
is "$(grep -o 'HTTP/1.1 200 OK' <<<"$out" | wc -l)" 600 "600 requests behind Finished: all answered through kTLS"
st=$(stats)
is "$(jq .ktls_refusals.KTLS_E_CIPHER_UNSUPPORTED <<<"$st")" 1 "the refusal is counted as KTLS_E_CIPHER_UNSUPPORTED"
is "$(jq .ktls_refusals.KTLS_E_PARTIAL_RECORD <<<"$st")" 1 "the burst's connection is counted as KTLS_E_PARTIAL_RECORD"
is "$(jq .ktls_offloads <<<"$st")" 2 "the 600-request connection and /stats were offloaded"
stop_server

start_server --tls ktls --strict --threads 1 --ciphers 'DEFAULT'
get /bytes/30000 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA256 >/dev/null 2>&1
ok "$([[ $? != 0 ]]; echo $?)" "--strict: the connection that cannot be offloaded is closed"
is "$(get /bytes/3)" 012 "--strict: an offloadable one is served"
is "$(stats | jq .ktls_refusals.KTLS_E_CIPHER_UNSUPPORTED)" 1 "--strict: the refusal is counted"
stop_server
is "$SRV_RC" 0 "clean exit"
done_testing

#!/bin/bash
# ktls-server --tls ktls on a kernel without kTLS: it still serves, every
# connection stays in userspace, and each refusal is counted by reason;
# --strict refuses to start. (With kTLS, tests/vm/server-*.t cover the mode.)
# timeout: 60
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs

if [[ $("$KTLS_BIN/ktls" probe --json | jq -r .ulp_available) == true ]]; then
	# not a skip: this host is simply not the case under test
	echo "1..0 # SKIP this kernel has kTLS: the fallback path is tested where it has none"
	exit 0
fi

DOC=$TMP/doc
mkdir -p "$DOC"
head -c 1000000 /dev/urandom >"$DOC/f"
start_server --tls ktls --threads 1 --docroot "$DOC"
ok $? "--tls ktls starts on a kernel without kTLS"
ok "$(grep -q 'no kTLS on this kernel' "$SRV_DIR/err" && grep -q 'modprobe tls' "$SRV_DIR/err"; echo $?)" \
	"it warns, naming the fix"
is "$(get /bytes/300000 | sha)" "$(pattern 300000 | sha)" "/bytes through the userspace fallback"
is "$(get /file/f | sha)" "$(sha <"$DOC/f")" "/file through the userspace fallback"
out=$(raw 'GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
want=$(printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n0123456789HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\nConnection: close\r\n\r\n0123')
is "$out" "$want" "two pipelined requests through the fallback"
st=$(stats)
is "$(jq .ktls_offloads <<<"$st")" 0 "nothing offloaded"
is "$(jq .ktls_refusals.KTLS_E_NO_ULP <<<"$st")" 4 "every handshake's refusal counted as KTLS_E_NO_ULP"
is "$(jq .ktls_available <<<"$st")" false "ktls_available: false"
is "$(jq -r .tls_mode <<<"$st")" ktls "tls_mode: ktls"
stop_server
is "$SRV_RC" 0 "clean exit"

"$KTLS_BIN/ktls-server" --port 0 --tls ktls --strict --cert "$CERTS/ecdsa-p256.crt" \
	--key "$CERTS/ecdsa-p256.key" >/dev/null 2>"$TMP/err"
is "$?" 1 "--tls ktls --strict on a kernel without kTLS: exit 1"
ok "$(grep -q 'cannot offload' "$TMP/err" && grep -q 'modprobe tls' "$TMP/err"; echo $?)" \
	"and the message says why and what to do"
done_testing

#!/bin/bash
# ktls-server --tls user: every route and error status through curl and
# openssl s_client; bodies checked against an independent copy of the
# pattern (perl) and SHA-256 of files; pipelining, keep-alive, Connection: close.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs

DOC=$TMP/doc
mkdir -p "$DOC"
head -c 3000001 /dev/urandom >"$DOC/big.bin"
printf 'hello\n' >"$DOC/small.txt"
: >"$DOC/empty"
mkdir "$DOC/dir"
ln -s /etc/passwd "$DOC/link"
echo secret >"$TMP/outside"

start_server --threads 2 --docroot "$DOC"
ok $? "server starts on a port of its own choosing"

# /bytes/N: sizes around the small-body and record limits
for n in 0 1 61 16383 16384 16385 100000 1048576 3145735; do
	got=$(get "/bytes/$n" | sha)
	is "$got" "$(pattern "$n" | sha)" "GET /bytes/$n matches the documented pattern"
done
hdr=$(get /bytes/12345 -o /dev/null -D -)
ok "$(grep -qi '^content-length: 12345' <<<"$hdr"; echo $?)" "Content-Length of /bytes/12345"
ok "$(grep -qi '^content-type: application/octet-stream' <<<"$hdr"; echo $?)" "Content-Type of /bytes"
out=$(get /bytes/2000000 -I)
ok "$(grep -qi '^content-length: 2000000' <<<"$out"; echo $?)" "HEAD /bytes/2000000 has the length"
is "$(get /bytes/2000000 -I -o /dev/null -w '%{size_download}')" 0 "HEAD sends no body"

# /file/<name>
is "$(get /file/big.bin | sha)" "$(sha <"$DOC/big.bin")" "GET /file/big.bin (3 MB) by SHA-256"
is "$(get /file/small.txt)" "hello" "GET /file/small.txt"
is "$(get /file/empty -w '%{http_code} %{size_download}')" "200 0" "an empty file"
is "$(get /file/missing -o /dev/null -w '%{http_code}')" 404 "a missing file is 404"
is "$(get /file/dir -o /dev/null -w '%{http_code}')" 404 "a directory is 404"
is "$(get /file/link -o /dev/null -w '%{http_code}')" 404 "a symlink is not followed (404)"
for p in /file/../outside /file/..%2Foutside /file/.hidden '/file/a%00b'; do
	is "$(get "$p" --path-as-is -o /dev/null -w '%{http_code}')" 400 "traversal attempt $p is 400"
done
is "$(get /file/big.bin -I -o /dev/null -w '%{http_code}')" 200 "HEAD on a file"

# the other routes and statuses
ok "$(get / | grep -q '/bytes/<N>'; echo $?)" "GET / names the routes"
is "$(get /nowhere -o /dev/null -w '%{http_code}')" 404 "unknown path is 404"
is "$(get /bytes/12x -o /dev/null -w '%{http_code}')" 400 "malformed N is 400"
is "$(get /bytes/99999999999999 -o /dev/null -w '%{http_code}')" 400 "N over 1 TiB is 400"
hdr=$(get /bytes/1 -X DELETE -o /dev/null -D -)
ok "$(grep -q '^HTTP/1.1 405' <<<"$hdr"; echo $?)" "DELETE is 405"
ok "$(grep -qi '^allow: GET, HEAD' <<<"$hdr"; echo $?)" "405 names the allowed methods"
is "$(get /bytes/3 -X POST -d 'abcdef' -w ' %{http_code}')" "405 Method Not Allowed
 405" "POST with a body is 405 and the body is skipped"
is "$(get /bytes/1 -H 'Content-Length: 70000' -o /dev/null -w '%{http_code}')" 413 "body over 64 KiB is 413"
is "$(get /bytes/1 -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" -o /dev/null -w '%{http_code}')" \
	431 "a head over --max-header (8K) is 431"

# raw requests: exact bytes back (pipelining, version, framing)
out=$(raw 'GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n')
want=$(printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n0123456789HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\nConnection: close\r\n\r\n01234')
is "$out" "$want" "three pipelined requests answered in order, nothing after Connection: close"
out=$(raw 'GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/200000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | sha)
want=$( { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: keep-alive\r\n\r\n'; pattern 100000
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 200000\r\nConnection: close\r\n\r\n'; pattern 200000; } | sha)
is "$out" "$want" "two pipelined large responses, byte for byte"
out=$(raw 'GET /bytes/3 HTTP/1.0\r\n\r\n')
ok "$(grep -q 'Connection: close' <<<"$out" && grep -q '012$' <<<"$out"; echo $?)" "HTTP/1.0 closes by default"
out=$(raw 'GET /bytes/3 HTTP/2.0\r\nHost: x\r\n\r\n')
ok "$(grep -q '^HTTP/1.1 505' <<<"$out"; echo $?)" "HTTP/2.0 request line is 505"
out=$(raw 'GET /bytes/3 HTTP/1.1\r\n\r\n')
ok "$(grep -q '^HTTP/1.1 400' <<<"$out"; echo $?)" "HTTP/1.1 without Host is 400"
out=$(raw 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
ok "$(grep -q '^HTTP/1.1 501' <<<"$out" && grep -q 'Connection: close' <<<"$out"; echo $?)" \
	"Transfer-Encoding is 501 and closes"
out=$(raw 'this is not http\r\n\r\n')
ok "$(grep -q '^HTTP/1.1 400' <<<"$out"; echo $?)" "garbage after the handshake is 400"
out=$(RAW_WAIT=0.3 raw 'GET /bytes/4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /bytes/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
ok "$(grep -q '0123HTTP/1.1 200 OK' <<<"$out" && grep -q '^01$' <<<"$out"; echo $?)" \
	"a request body is skipped before the next pipelined request"

# requests in the same TCP segment as the client's Finished, and a burst of
# 2000 pipelined requests (68 KB: more than the request buffer holds)
B=$KTLS_BUILD/tests/helpers/tls-burst
out=$("$B" --port "$SRV_PORT" --requests 3 --path /bytes/5 | sha)
want=$( { printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n01234%.0s' 1 2
	  printf 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\nConnection: close\r\n\r\n01234'; } | sha)
is "$out" "$want" "requests right behind the client's Finished are answered"
out=$("$B" --port "$SRV_PORT" --requests 2000 --path /bytes/3)
is "$?" 0 "2000 pipelined requests: the server ends with close_notify"
is "$(grep -o 'HTTP/1.1 200 OK' <<<"$out" | wc -l)" 2000 "2000 pipelined requests: 2000 responses"
is "$(grep -o '012HTTP\|012$' <<<"$out" | wc -l)" 2000 "... each with its body"

# keep-alive: curl reuses the connection for both URLs
before=$(stats | jq '.handshakes_full + .handshakes_resumed')
out=$(curl -sS --cacert "$CA" -o /dev/null -o /dev/null -w '%{num_connects}\n' \
	"https://127.0.0.1:$SRV_PORT/bytes/100000" "https://127.0.0.1:$SRV_PORT/bytes/10")
is "$(tr '\n' ' ' <<<"$out")" "1 0 " "curl reuses the kept-alive connection"
after=$(stats | jq '.handshakes_full + .handshakes_resumed')
is "$((after - before))" 2 "two handshakes for the curl run and the /stats before it"

# /stats is JSON with the documented keys
st=$(stats)
check "/stats is valid JSON" jq -e . <<<"$st"
for k in handshakes_full handshakes_resumed handshake_failures requests bytes_in bytes_out \
	conns_current conns_max ktls_offloads ktls_refusals threads cpu_user_s cpu_sys_s rss_kib \
	duration_s tls_mode; do
	ok "$(jq -e "has(\"$k\")" <<<"$st" >/dev/null; echo $?)" "/stats has $k"
done
is "$(jq -r .tls_mode <<<"$st")" user "tls_mode is user"
is "$(jq '.threads | length' <<<"$st")" 2 "one entry per worker thread"
is "$(jq .conns_current <<<"$st")" 1 "conns_current counts the /stats connection itself"

stop_server
is "$SRV_RC" 0 "SIGTERM: exit 0"
check "the JSON summary is valid" jq -e . "$SRV_DIR/s.json"
is "$(jq .handshake_failures_total "$SRV_DIR/s.json")" 0 "no handshake failed"
is "$(jq '.conn_errors | length' "$SRV_DIR/s.json")" 0 "no connection error"
ok "$(grep -q 'ktls-server summary' "$SRV_DIR/out"; echo $?)" "a human summary is printed"

# A client's close ends its connection at once, not at the idle timeout (the
# server once waited on SSL_has_pending(), which OpenSSL 3.5 keeps true after
# the EOF): five curl connections come and go, the idle timeout is a minute.
start_server --threads 1 --idle-timeout 60s
for i in 1 2 3 4 5; do get /bytes/10 >/dev/null; done
for ((i = 0; i < 100; i++)); do
	st=$(stats)
	[[ $(jq .conns_current <<<"$st") == 1 && $(jq '.closes.client_closed // 0' <<<"$st") -ge 5 ]] && break
	sleep 0.1
done
is "$(jq -c '[.conns_current, .closes.idle_timeout // 0, .closes.client_closed >= 5]' <<<"$st")" "[1,0,true]" \
	"closed connections are gone within 10 s, counted as client_closed (idle timeout 60 s)"
stop_server
done_testing

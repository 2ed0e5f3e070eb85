#!/bin/bash
# ktls-server --tls user: TLS versions, suites, groups, certificate types,
# resumption (TLS 1.3 tickets, TLS 1.2 tickets and session IDs) counted apart
# from full handshakes, gnutls-cli as an independent peer, and the command line.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
S=$KTLS_BIN/ktls-server

# s_client VERSION [args]: one request, print the session line ("New, TLSv1.3, Cipher is ...")
sc() {
	{ printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 0.4; } |
		timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" "$@" 2>&1
}

start_server --threads 1
# resumption in both versions
for v in 1_3 1_2; do
	sess=$TMP/sess$v
	out=$(sc "-tls$v" -sess_out "$sess")
	ok "$(grep -q '^New, TLSv1\.[23]' <<<"$out" && grep -q '^01234' <<<"$out"; echo $?)" \
		"TLS ${v/_/.}: full handshake and a response"
	out=$(sc "-tls$v" -sess_in "$sess")
	ok "$(grep -q '^Reused, TLSv' <<<"$out" && grep -q '^01234' <<<"$out"; echo $?)" \
		"TLS ${v/_/.}: the saved session resumes"
done
# TLS 1.2 with tickets off on the client: the server's session-ID cache resumes
out=$(sc -tls1_2 -no_ticket -sess_out "$TMP/sid")
out=$(sc -tls1_2 -no_ticket -sess_in "$TMP/sid")
ok "$(grep -q '^Reused, TLSv1.2' <<<"$out"; echo $?)" "TLS 1.2 session-ID resumption (no ticket)"
st=$(stats)
is "$(jq .handshakes_full <<<"$st")" 4 "3 full handshakes counted (+ the /stats one)"
is "$(jq .handshakes_resumed <<<"$st")" 3 "3 resumed handshakes counted apart"

# gnutls-cli, a different TLS implementation
for prio in 'NORMAL:-VERS-ALL:+VERS-TLS1.3' 'NORMAL:-VERS-ALL:+VERS-TLS1.2'; do
	out=$(gnutls_get /bytes/100000 --priority "$prio" | sha)
	is "$out" "$(pattern 100000 | sha)" "gnutls-cli ($prio) gets the right 100000 bytes"
done
stop_server
is "$SRV_RC" 0 "clean exit"
is "$(jq .handshake_failures_total "$SRV_DIR/s.json")" 0 "no handshake failures"

# --tickets 0: TLS 1.3 offers no ticket, so nothing resumes
start_server --tickets 0 --session-cache 0 --threads 1
# (s_client writes no session file when it got nothing to resume with)
out=$(sc -tls1_3 -sess_out "$TMP/t0")
ok "$(grep -q '^New, TLSv1.3' <<<"$out"; echo $?)" "--tickets 0: TLS 1.3 handshake"
ok "$([[ ! -s $TMP/t0 ]] || sc -tls1_3 -sess_in "$TMP/t0" | grep -q '^New'; echo $?)" \
	"--tickets 0: TLS 1.3 gets no ticket, cannot resume"
out=$(sc -tls1_2 -sess_out "$TMP/t1")
ok "$(grep -q '^New, TLSv1.2' <<<"$out"; echo $?)" "--tickets 0: TLS 1.2 handshake"
ok "$([[ ! -s $TMP/t1 ]] || sc -tls1_2 -sess_in "$TMP/t1" | grep -q '^New'; echo $?)" \
	"--tickets 0 --session-cache 0: TLS 1.2 gets neither ticket nor session ID"
is "$(stats | jq .handshakes_resumed)" 0 "nothing counted as resumed"
stop_server

# pinned suite, group and version; certificate types
start_server --tls-version 1.3 --ciphersuites TLS_CHACHA20_POLY1305_SHA256 --groups X25519
out=$(sc)
ok "$(grep -q 'TLSv1.3, Cipher is TLS_CHACHA20_POLY1305_SHA256' <<<"$out"; echo $?)" "--ciphersuites pins the suite"
# (s_client 3.0 says "Server Temp Key", 3.5 "Peer Temp Key")
ok "$(grep -qE '(Server|Peer) Temp Key: X25519' <<<"$out"; echo $?)" "--groups pins the group"
out=$(sc -tls1_2)
ok "$(grep -q '^New, TLSv' <<<"$out" && echo 1 || echo 0)" "--tls-version 1.3 refuses a TLS 1.2 client"
stop_server
is "$(jq -r '.handshake_failures | keys | join(",")' "$SRV_DIR/s.json")" unsupported_protocol \
	"the refused TLS 1.2 client is counted by reason"

start_server --tls-version 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256
out=$(sc)
ok "$(grep -q 'TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256' <<<"$out"; echo $?)" "--ciphers pins the TLS 1.2 cipher"
stop_server

for cert in rsa-2048 rsa-3072 ed25519; do
	start_server --cert "$CERTS/$cert.crt" --key "$CERTS/$cert.key"    # (the last --cert wins)
	is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "certificate $cert works (curl verifies it)"
	stop_server
done

# the command line
"$S" --help >"$TMP/help"; is "$?" 0 "--help exits 0"
for opt in --host --port --threads --cpus --tls --strict --cert --key --tickets --docroot \
	--max-conns --handshake-timeout --idle-timeout --duration --json --quiet; do
	ok "$(grep -q -- "$opt" "$TMP/help"; echo $?)" "--help documents $opt"
done
ok "$(grep -q '(default 8443)' "$TMP/help" && grep -q '(default 127.0.0.1)' "$TMP/help"; echo $?)" \
	"--help shows defaults"
for args in "--port 70000" "--port 80x" "--threads 0" "--tls kernel" "--strict" "--idle-timeout 5x" \
	"--max-header 10" "--cpus x" "--bogus" "extra" "--tls-version 1.1" "--tickets -1"; do
	# shellcheck disable=SC2086
	"$S" $args >/dev/null 2>"$TMP/err"; rc=$?
	is "$rc" 2 "usage error exits 2: $args"
done
ok "$(grep -q 'see --help' "$TMP/err"; echo $?)" "usage errors point to --help"
"$S" --port 0 --cert /nonexistent.crt >/dev/null 2>"$TMP/err"; rc=$?
is "$rc" 1 "a missing certificate exits 1"
ok "$(grep -q 'make certs' "$TMP/err"; echo $?)" "and the message names the fix"
"$S" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/rsa-2048.key" >/dev/null 2>"$TMP/err"; rc=$?
ok "$([[ $rc == 1 ]] && grep -q 'does not match' "$TMP/err"; echo $?)" "a key of another certificate exits 1"
"$S" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" --ciphersuites BOGUS >/dev/null 2>"$TMP/err"
is "$?" 1 "an unknown suite exits 1"
start_server --threads 1
"$S" --port "$SRV_PORT" --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" --threads 2 \
	>/dev/null 2>"$TMP/err"; rc=$?
ok "$([[ $rc == 1 ]] && grep -q 'in use' "$TMP/err"; echo $?)" "a port in use is an error, even with SO_REUSEPORT"
stop_server
done_testing

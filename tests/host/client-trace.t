#!/bin/bash
# ktls-client trace: the handshake messages in protocol order for TLS 1.3,
# TLS 1.2 and a HelloRetryRequest; records and flights that add up; the
# negotiated parameters and the certificate; --ktls without kernel TLS fails
# with the cause.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"

start_s_server || bail "openssl s_server started"

msgs_all() { jq -r "[.messages[] | select(.content_type == \"handshake\" or .content_type == \"change_cipher_spec\") |
	(if .direction == \"client_to_server\" then \"C:\" else \"S:\" end) + .message] | join(\" \")" "$1"; }
# The server's TLS 1.3 ChangeCipherSpec (middlebox compatibility) reaches the
# trace from OpenSSL 3.2 on (3.0 drops it unseen): counted apart, once.
msgs() { msgs_all "$1" | sed 's/ S:ChangeCipherSpec//'; }
server_ccs() { msgs_all "$1" | grep -o 'S:ChangeCipherSpec' | wc -l; }
want_ccs=0
openssl_at_least 3.2 && want_ccs=1

# --- TLS 1.3 ---------------------------------------------------------------------------
"$CLIENT" trace --port "$PORT" --json "$TMP/t13.json" >"$TMP/t13.txt" 2>&1
is "$?" 0 "trace exits 0"
J=$TMP/t13.json
is "$(msgs $J)" "C:ClientHello S:ServerHello S:EncryptedExtensions S:Certificate S:CertificateVerify S:Finished C:ChangeCipherSpec C:Finished S:NewSessionTicket S:NewSessionTicket" \
	"TLS 1.3 messages in order (s_server sends two tickets)"
is "$(server_ccs $J)" $want_ccs "the server's ChangeCipherSpec: $want_ccs in the trace"
is "$(jqv $J .tls.version)" 1.3 "version 1.3"
is "$(jqv $J .tls.group)" "$(default_group)" "group"
is "$(jqv $J .tls.sigalg)" ecdsa_secp256r1_sha256 "signature algorithm"
is "$(jqv $J .certificate.subject)" "CN = localhost" "certificate subject"
is "$(jqv $J .certificate.key)" "EC P-256 (256 bits)" "certificate key"
is "$(jqv $J .request.status)" 200 "the default request (GET /) got a 200"
# encrypted handshake records carry an inner type
is "$(jq -r '[.records[] | select(.direction == "server_to_client" and .type == "application_data" and .inner_type == "handshake")] | length' $J)" \
	6 "6 encrypted server records carry handshake messages (4 in the first flight, 2 tickets)"
is "$(jq -r '.flights[0].direction + " " + (.flights[0].records | tostring)' $J)" "client_to_server 1" \
	"flight 1: the ClientHello alone"
is "$(jq -r '.flights[1].messages' $J)" "ServerHello, ChangeCipherSpec, EncryptedExtensions, Certificate, CertificateVerify, Finished" \
	"flight 2: the server's whole first flight"
# the flights' bytes are the records' bytes plus 5-byte headers
is "$(jq -r '[.flights[].wire_bytes] | add' $J)" "$(jq -r '[.records[].bytes + 5] | add' $J)" \
	"flight bytes = record payloads + headers"
# what OpenSSL wrote is exactly the records it sent
is "$(jq -r '.wire.bytes_out' $J)" "$(jq -r '[.records[] | select(.direction == "client_to_server") | .bytes + 5] | add' $J)" \
	"bytes written on the socket = client records on the wire"
ok "$(grep -q 'Records are not packets' "$TMP/t13.txt"; echo $?)" "the text explains records vs packets"
ok "$(grep -q 'proves the peer owns the certificate' "$TMP/t13.txt"; echo $?)" "and what CertificateVerify is for"
ok "$(grep -q 'verified            no' "$TMP/t13.txt"; echo $?)" "and that the certificate was not verified"

# --- TLS 1.2 ---------------------------------------------------------------------------
"$CLIENT" trace --port "$PORT" --tls-version 1.2 --request none --json "$TMP/t12.json" >/dev/null 2>&1
is "$?" 0 "TLS 1.2 trace exits 0"
is "$(msgs $TMP/t12.json)" "C:ClientHello S:ServerHello S:Certificate S:ServerKeyExchange S:ServerHelloDone C:ClientKeyExchange C:ChangeCipherSpec C:Finished S:NewSessionTicket S:Finished" \
	"TLS 1.2 messages in order"
is "$(jq -r '[.records[] | select(.direction == "server_to_client" and .type == "change_cipher_spec")] | length' $TMP/t12.json)" \
	1 "the server's ChangeCipherSpec record is there"
is "$(jqv $TMP/t12.json .request)" null "--request none: no request"

# --- HelloRetryRequest: the server only takes P-256, the client's first share is X25519 ---
start_s_server -groups P-256 || bail "openssl s_server started"
"$CLIENT" trace --port "$PORT" --groups X25519:P-256 --json "$TMP/hrr.json" >/dev/null 2>&1
is "$?" 0 "HRR trace exits 0"
is "$(msgs $TMP/hrr.json | cut -d' ' -f1-5)" "C:ClientHello S:HelloRetryRequest C:ChangeCipherSpec C:ClientHello S:ServerHello" \
	"HelloRetryRequest, then a second ClientHello"
is "$(server_ccs $TMP/hrr.json)" $want_ccs "HRR: the server's ChangeCipherSpec: $want_ccs in the trace"
is "$(jqv $TMP/hrr.json .tls.group)" secp256r1 "P-256 (secp256r1) negotiated after the retry"

# --- --ktls without kernel TLS ------------------------------------------------------------
if ! grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null && [[ ! -d /sys/module/tls ]]; then
	"$CLIENT" trace --port "$PORT" --ktls --json "$TMP/k.json" >"$TMP/k.txt" 2>"$TMP/k.err"
	is "$?" 1 "trace --ktls without kernel TLS exits 1"
	ok "$(grep -q 'modprobe tls' "$TMP/k.err"; echo $?)" "and names the fix"
	is "$(jqv $TMP/k.json .ktls.enabled)" false "the JSON says kTLS was not enabled"
	ok "$(grep -q 'Negotiated' "$TMP/k.txt"; echo $?)" "the handshake part of the trace is still printed"
else
	"$CLIENT" trace --port "$PORT" --ktls --json "$TMP/k.json" >/dev/null 2>&1
	is "$?" 0 "trace --ktls works on this kernel"
	is "$(jqv $TMP/k.json .ktls.enabled)" true "kTLS enabled"
	is "$(jqv $TMP/k.json .request.status)" 200 "the request went through the kernel"
	is "$(jqv $TMP/k.json .ktls.tx_seq)" 0 "TLS 1.3 TX starts at sequence 0"
fi

# --- a closed port ---------------------------------------------------------------------------
"$CLIENT" trace --port "$(free_port)" >/dev/null 2>"$TMP/c.err"
is "$?" 1 "trace against a closed port exits 1"
ok "$(grep -q 'is the server running' "$TMP/c.err"; echo $?)" "and asks whether the server runs"
done_testing

#!/bin/bash
# What ktls-server offers a scanner by default, checked from outside:
# - make certs: each key family has a chain signed in its own family (the
#   RSA leaves by an RSA CA, ECDSA by ECDSA, Ed25519 by Ed25519), so a TLS
#   1.3 client whose signature_algorithms_cert lists RSA schemes only
#   (tests/helpers/tls-conform --case rsa-chain, since OpenSSL's client
#   sends none) gets a ServerHello from an RSA server, not handshake_failure;
# - TLS 1.2: ECDHE with an AEAD only (openssl s_client tries every TLS 1.2
#   ECDSA suite OpenSSL knows); CBC suites only when --ciphers lists them.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs
CONFORM=$KTLS_BUILD/tests/helpers/tls-conform
[[ -x $CONFORM ]] || skip_all "$CONFORM is not built: make tests"

# leaf  the CA of its family  the signature algorithm it carries
while read -r leaf ca sig; do
	got=$(openssl x509 -in "$CERTS/$leaf.crt" -noout -text | sed -n 's/^ *Signature Algorithm: //p' | head -1)
	is "$got" "$sig" "$leaf is signed with $sig"
	check "$leaf verifies against $ca alone" openssl verify -CAfile "$CERTS/$ca.crt" "$CERTS/$leaf.crt"
	check "$leaf verifies against ca.crt (every test CA)" openssl verify -CAfile "$CA" "$CERTS/$leaf.crt"
done <<'LEAVES'
ecdsa-p256 ca-ecdsa ecdsa-with-SHA256
rsa-2048 ca-rsa sha256WithRSAEncryption
rsa-3072 ca-rsa sha256WithRSAEncryption
rsa-4096 ca-rsa sha256WithRSAEncryption
ed25519 ca-ed25519 ED25519
LEAVES

for leaf in rsa-2048 rsa-3072 rsa-4096; do
	start_server --threads 1 --cert "$CERTS/$leaf.crt" --key "$CERTS/$leaf.key" || bail "server starts"
	out=$("$CONFORM" --port "$SRV_PORT" --case rsa-chain --wait 10s)
	is "${out#*end=}" server_hello "$leaf: a client accepting RSA-signed chains only gets a ServerHello ($out)"
	stop_server
done

# TLS 1.2 suites: each one offered alone by s_client
accepted() {
	local c out=()
	for c in $(openssl ciphers -tls1_2 'ALL:COMPLEMENTOFALL' | tr ':' '\n' | grep ECDSA | grep -v '^TLS_'); do
		echo | timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_2 -cipher "$c" \
			-CAfile "$CA" >/dev/null 2>&1 && out+=("$c")
	done
	echo "${out[*]}"
}
start_server --threads 1 || bail "server starts"
got=$(accepted)
bad=$(tr ' ' '\n' <<<"$got" | grep -vE '^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305|AES(128|256)-CCM)$' | tr '\n' ' ')
is "$bad" "" "TLS 1.2 by default: ECDHE with an AEAD only (accepted: $got)"
ok "$([[ $got == *ECDHE-ECDSA-AES128-GCM-SHA256* && $got == *ECDHE-ECDSA-CHACHA20-POLY1305* ]]; echo $?)" \
	"... AES-GCM and CHACHA20-POLY1305 among them"
stop_server
start_server --threads 1 --ciphers 'DEFAULT' || bail "server starts"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256 \
	-CAfile "$CA" >/dev/null 2>&1
ok $? "--ciphers DEFAULT: a CBC suite when asked for"
stop_server
done_testing

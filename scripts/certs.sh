#!/bin/bash
# Generate the test certificates with the openssl CLI:
#   scripts/certs.sh DIR
# Each key family has a chain signed in its own family, so that a peer that
# accepts only one family's signatures (a TLS 1.3 signature_algorithms_cert
# of RSA alone, say) can verify that family's chain:
#   ca-ecdsa (P-256)   signs ecdsa-p256
#   ca-rsa (RSA 3072)  signs rsa-2048, rsa-3072, rsa-4096
#   ca-ed25519         signs ed25519
# ({name}.crt + {name}.key), each leaf for CN=localhost with SANs localhost
# and 127.0.0.1, valid 10 years. DIR/ca.crt holds the three CA certificates:
# a client given it verifies any leaf. Test material only: the keys are not
# protected.
set -euo pipefail
dir=${1:?usage: scripts/certs.sh DIR}
command -v openssl >/dev/null || { echo "certs: openssl CLI missing: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

# Bumped when the set changes: an older set is made again from scratch.
FORMAT=2

ossl() { openssl "$@" 2>/dev/null || { echo "certs: 'openssl $*' failed" >&2; openssl "$@" >&2; exit 1; }; }

if [[ $(cat format 2>/dev/null) != "$FORMAT" ]]; then
	rm -f ./*.crt ./*.key ./*.srl ./*.csr
fi

make_ca() {
	local name=$1 cn=$2; shift 2
	[[ -s $name.key && -s $name.crt ]] && return 0
	ossl genpkey "$@" -out "$name.key"
	ossl req -x509 -new -key "$name.key" -days 3650 -subj "/CN=$cn" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$name.crt"
}

make_ca ca-ecdsa "ktls-bench test CA (ECDSA)" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
make_ca ca-rsa "ktls-bench test CA (RSA)" -algorithm RSA -pkeyopt rsa_keygen_bits:3072
make_ca ca-ed25519 "ktls-bench test CA (Ed25519)" -algorithm ED25519

ext=$(mktemp)
trap 'rm -f "$ext" ./*.csr' EXIT
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"

# make_leaf NAME CA GENPKEY-ARGS...
make_leaf() {
	local name=$1 ca=$2; shift 2
	[[ -s $name.key && -s $name.crt ]] && return 0
	ossl genpkey "$@" -out "$name.key"
	ossl req -new -key "$name.key" -subj "/CN=localhost" -out "$name.csr"
	# (Ed25519 signs without a separate digest)
	ossl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 3650 \
		$([[ $ca == ca-ed25519 ]] || echo -sha256) -extfile "$ext" -out "$name.crt"
}

make_leaf ecdsa-p256 ca-ecdsa -algorithm EC -pkeyopt ec_paramgen_curve:P-256
make_leaf rsa-2048 ca-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
make_leaf rsa-3072 ca-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:3072
make_leaf rsa-4096 ca-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:4096
make_leaf ed25519 ca-ed25519 -algorithm ED25519
cat ca-ecdsa.crt ca-rsa.crt ca-ed25519.crt >ca.crt
echo "$FORMAT" >format
chmod 644 ./*.crt ./*.key
echo "certs: $(pwd): ca (ca-ecdsa, ca-rsa, ca-ed25519), ecdsa-p256, rsa-2048, rsa-3072, rsa-4096, ed25519" >&2

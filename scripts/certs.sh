#!/bin/bash
# Generate the test certificates with the openssl CLI:
#   scripts/certs.sh DIR
# DIR/ca.{crt,key} signs ecdsa-p256, rsa-2048, rsa-3072, rsa-4096 and ed25519
# ({name}.crt + {name}.key), each for CN=localhost with SANs localhost and
# 127.0.0.1, valid 10 years. Test material only: the keys are not protected.
set -euo pipefail
dir=${1:?usage: scripts/certs.sh DIR}
command -v openssl >/dev/null || { echo "certs: openssl CLI missing: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

ossl() { openssl "$@" 2>/dev/null || { echo "certs: 'openssl $*' failed" >&2; openssl "$@" >&2; exit 1; }; }

if [[ ! -s ca.key || ! -s ca.crt ]]; then
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
	ossl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=ktls-bench test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out ca.crt
fi

ext=$(mktemp)
trap 'rm -f "$ext" ./*.csr' EXIT
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"

make_leaf() {
	local name=$1; shift
	[[ -s $name.key && -s $name.crt ]] && return 0
	ossl genpkey "$@" -out "$name.key"
	ossl req -new -key "$name.key" -subj "/CN=localhost" -out "$name.csr"
	ossl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
		-sha256 -extfile "$ext" -out "$name.crt"
}

make_leaf ecdsa-p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
make_leaf rsa-2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
make_leaf rsa-3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
make_leaf rsa-4096 -algorithm RSA -pkeyopt rsa_keygen_bits:4096
make_leaf ed25519 -algorithm ED25519
chmod 644 ./*.crt ./*.key
echo "certs: $(pwd): ca, ecdsa-p256, rsa-2048, rsa-3072, rsa-4096, ed25519" >&2

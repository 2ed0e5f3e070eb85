#!/bin/bash
# ktls-server's OpenSSL paths (osslshim/): by default its key shares take
# OpenSSL's built-in key methods and its TLS 1.3 key schedule a small
# provider; --stock-openssl keeps stock OpenSSL (and so does a build without
# the shims: make nodeprecated, OpenSSL 4). Both must give the same
# handshakes to independent peers: openssl s_client and gnutls-cli, TLS 1.3
# over SHA-256 and SHA-384 suites, TLS 1.2, each key-share group kind
# (X25519, P-256, P-384, FFDHE, whose secrets are longest), every certificate
# kind, resumption; a fresh server key share on every handshake; and the
# JSON says which paths were taken.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
need_certs

# sc [s_client args]: one GET /bytes/1000, print everything s_client says (-msg included)
sc() {
	{ printf 'GET /bytes/1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 0.4; } |
		timeout 10 openssl s_client -msg -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" "$@" 2>&1
}

# body_ok: s_client's output holds a verified chain, the 200 and the 1000 pattern bytes
body_ok() {
	grep -q 'Verify return code: 0 (ok)' <<<"$1" && grep -q '^HTTP/1.1 200' <<<"$1" &&
		grep -q "^$(pattern 1000)" <<<"$1"
}

# server_share: the key_share extension of the ServerHello in s_client -msg output (hex)
server_share() {
	awk '/<<< TLS 1.3, Handshake .*ServerHello/ { on = 1; next }
	     on && /^ +([0-9a-f][0-9a-f] )/ { gsub(/[ -]/, ""); printf "%s", $0; next }
	     on { exit }' <<<"$1" | grep -o '0033[0-9a-f]\{4\}[0-9a-f]*' | cut -c9-
}

for mode in $(default_paths) stock; do
	args=()
	[[ $mode == stock ]] && args=(--stock-openssl)
	# every group the cases below use (OpenSSL 3.5's default list lacks ffdhe4096)
	start_server --threads 1 --groups X25519:P-256:P-384:P-521:ffdhe2048:ffdhe4096 "${args[@]}" ||
		bail "server started"
	st=$(stats)
	is "$(jq -r .openssl_paths <<<"$st")" "$mode" "$mode: /stats says openssl_paths $mode"
	want=true
	[[ $mode == stock ]] && want=false
	is "$(jq -c '[.key_share_direct, .key_schedule_provider]' <<<"$st")" "[$want,$want]" \
		"$mode: key_share_direct and key_schedule_provider are $want"

	for t in "-tls1_3 -groups X25519" "-tls1_3 -groups P-256" \
		"-tls1_3 -groups P-384 -ciphersuites TLS_AES_256_GCM_SHA384" \
		"-tls1_3 -groups ffdhe2048" "-tls1_3 -groups ffdhe4096" "-tls1_3 -groups P-521" "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256" \
		"-tls1_2 -groups X25519:P-256" "-tls1_2 -groups P-256 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"; do
		# shellcheck disable=SC2086
		out=$(sc $t)
		ok "$(body_ok "$out"; echo $?)" "$mode: s_client $t: verified handshake, right bytes"
	done

	# a fresh server key share on every handshake, for both shim-handled groups
	for g in X25519 P-256; do
		a=$(server_share "$(sc -tls1_3 -groups "$g")")
		b=$(server_share "$(sc -tls1_3 -groups "$g")")
		ok "$([[ ${#a} -gt 64 && -n $b && $a != "$b" ]]; echo $?)" \
			"$mode: $g: two handshakes, two different server key shares (${a:0:24}... ${b:0:24}...)"
	done

	# resumption: the ticket's keys come from the key schedule too
	sc -tls1_3 -sess_out "$TMP/sess.$mode" >/dev/null
	out=$(sc -tls1_3 -sess_in "$TMP/sess.$mode")
	ok "$(grep -q '^Reused, TLSv1.3' <<<"$out" && grep -q "^$(pattern 1000)" <<<"$out"; echo $?)" \
		"$mode: TLS 1.3 resumption and the right bytes"

	for prio in 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519' \
		'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1' \
		'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM'; do
		out=$(gnutls_get /bytes/100000 --priority "$prio" | sha)
		is "$out" "$(pattern 100000 | sha)" "$mode: gnutls-cli $prio gets the right bytes"
	done

	# ktls-client (both its paths) for a burst of full handshakes
	for cargs in "" "--stock-openssl" "--groups ffdhe2048 --tls-version 1.3" "--groups P-521"; do
		# shellcheck disable=SC2086
		"$KTLS_BIN/ktls-client" handshake --port "$SRV_PORT" -n 40 -c 4 -d 30s --verify "$CA" \
			--request /bytes/1000 $cargs -q --json "$TMP/cl.json" >/dev/null 2>&1
		is "$(jq -c '[.handshakes, .errors_total]' "$TMP/cl.json")" "[40,0]" \
			"$mode: ktls-client ${cargs:-(default)}: 40 verified handshakes, no error"
	done
	stop_server
	is "$SRV_RC" 0 "$mode: clean exit"
	is "$(jq .handshake_failures_total "$SRV_DIR/s.json")" 0 "$mode: no handshake failure"
	is "$(jq -r .openssl_paths "$SRV_DIR/s.json")" "$mode" "$mode: --json says openssl_paths $mode"
done

# every certificate kind, on both paths (curl verifies the chain)
for cert in ecdsa-p256 rsa-2048 ed25519; do
	for mode in $(default_paths) stock; do
		args=()
		[[ $mode == stock ]] && args=(--stock-openssl)
		start_server --threads 1 --cert "$CERTS/$cert.crt" --key "$CERTS/$cert.key" "${args[@]}"
		is "$(get /bytes/1000 | sha)" "$(pattern 1000 | sha)" "$mode: certificate $cert works (curl)"
		out=$(sc -tls1_2)
		ok "$(body_ok "$out"; echo $?)" "$mode: certificate $cert over TLS 1.2 (s_client)"
		stop_server
	done
done

# the old name of the switch still works
start_server --threads 1 --provider-keys || bail "server started"
is "$(stats | jq -r '"\(.openssl_paths) \(.openssl_stock_why)"')" "stock --stock-openssl" \
	"--provider-keys: the old name of --stock-openssl"
stop_server
# without the shims (not built, or an OpenSSL other than 3.0) the JSON says why
if ! shims_built; then
	start_server --threads 1 || bail "server started"
	why=$(stats | jq -r .openssl_stock_why)
	ok "$(grep -Eq '^(not built|off: made for OpenSSL 3\.0\.x, this is [0-9.]+$)' <<<"$why"; echo $?)" \
		"no shims here: openssl_stock_why says why ($why)"
	stop_server
fi

out=$("$KTLS_BIN/ktls-server" --help)
ok "$(grep -q -- '--stock-openssl' <<<"$out" && grep -q -- '--provider-keys' <<<"$out"; echo $?)" \
	"--help documents --stock-openssl and its old name"
for opt in --stock-openssl=1 --provider-keys=1; do
	"$KTLS_BIN/ktls-server" $opt >/dev/null 2>&1
	is "$?" 2 "$opt: takes no value (usage error, exit 2)"
done
done_testing

#!/bin/bash
# ktls-client against ktls-server (user record layer): the client's counts
# equal the server's own (GET /stats): full handshakes, resumed handshakes
# (TLS 1.3 tickets, TLS 1.2 session IDs), requests and bytes; and full
# handshakes with every certificate kind (ECDSA P-256, RSA-2048, Ed25519)
# in TLS 1.2 and 1.3, chain and name checked (--verify), the server's key
# decoded once and, for P-256, verified on the precomputed-table path (the
# OpenSSL shims; none of that with --stock-openssl or in a build without them).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
SERVER=$KTLS_BIN/ktls-server
if [[ ! -x $SERVER ]]; then
	# Without server sources there is nothing to build: not a failure even
	# where skips are. With them, make builds it, so a missing binary is.
	if ! compgen -G "$(dirname "$0")/../../server/*.c" >/dev/null; then
		echo "1..0 # SKIP no ktls-server in this tree (server/)"
		exit 0
	fi
	skip_all "bin/ktls-server is not built (make)"
fi

start_ktls_server() {
	local try pid
	for try in 1 2 3 4 5; do
		PORT=$(free_port) || continue
		"$SERVER" --port "$PORT" --threads 1 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
			--duration 100s -q "$@" >"$TMP/server.$PORT.log" 2>&1 &
		pid=$!
		SERVER_PIDS+=($pid)
		wait_port_of "$pid" "$PORT" && return 0
		diag "ktls-server on port $PORT: $(head -c 300 "$TMP/server.$PORT.log")"
	done
	return 1
}
start_ktls_server || bail "ktls-server started"

# snap NAME: the server's GET /stats into $TMP/NAME.json. Each snapshot is one
# more full handshake and one more request, so a difference between two
# snapshots counts one of them: subtract 1.
snap() { curl -sk --max-time 5 "https://127.0.0.1:$PORT/stats" >"$TMP/$1.json"; }
stat() { jq -r ".$2" "$TMP/$1.json"; }

snap a
"$CLIENT" handshake --port "$PORT" -n 300 -c 4 -d 60s -q --json "$TMP/h.json" >/dev/null 2>&1
is "$?" 0 "300 full handshakes: exit 0"
snap b
is "$(jqv $TMP/h.json .handshakes)" 300 "the client counted 300"
is "$(( $(stat b handshakes_full) - $(stat a handshakes_full) - 1 ))" 300 "ktls-server counted 300 full handshakes"

resume_case() {
	local name=$1; shift
	snap a
	"$CLIENT" handshake --port "$PORT" -n 100 -c 2 -d 60s -q --resume "$@" --json "$TMP/r.json" >/dev/null 2>&1
	snap b
	is "$(jqv $TMP/r.json .resumed)" 98 "$name: 98 of 100 resumed (the first of each slot is full)"
	is "$(( $(stat b handshakes_resumed) - $(stat a handshakes_resumed) ))" 98 \
		"$name: ktls-server counted 98 resumed handshakes"
}
resume_case "TLS 1.3 tickets"
resume_case "TLS 1.2 tickets" --tls-version 1.2
resume_case "TLS 1.2 session IDs" --tls-version 1.2 --no-tickets

snap a
"$CLIENT" get --port "$PORT" --size 256K -n 100 -c 4 -d 60s -q --json "$TMP/g.json" >/dev/null 2>&1
is "$?" 0 "get --size 256K -n 100: exit 0"
snap b
is "$(jqv $TMP/g.json .requests)" 100 "100 responses, every byte checked against the pattern"
is "$(( $(stat b requests) - $(stat a requests) - 1 ))" 100 "ktls-server answered 100 requests"
sent=$(( $(stat b bytes_out) - $(stat a bytes_out) ))
ok "$(( sent >= 100 * 262144 && sent < 101 * 262144 ? 0 : 1 ))" "ktls-server sent 100 x 256 KiB and headers ($sent bytes)"

# every certificate kind, both versions: the server counts what the client counts
for cert in ecdsa-p256 rsa-2048 ed25519; do
	sport=$PORT
	start_ktls_server --cert "$CERTS/$cert.crt" --key "$CERTS/$cert.key" --tickets 0 || bail "ktls-server ($cert)"
	for v in 1.2 1.3; do
		snap c
		"$CLIENT" handshake --port "$PORT" -n 50 -c 2 -d 60s --tls-version "$v" --verify "$CERTS/ca.crt" \
			--sni localhost -q --json "$TMP/k.json" >/dev/null 2>&1
		is "$?" 0 "$cert, TLS $v, --verify: exit 0"
		snap d
		is "$(jqv $TMP/k.json .handshakes)/$(( $(stat d handshakes_full) - $(stat c handshakes_full) - 1 ))" 50/50 \
			"$cert, TLS $v: 50 full handshakes, as ktls-server counted them"
		# the paths taken: the CA's P-256 key (--verify) and the server's
		# P-256 key each decoded once, then from the cache and verified with
		# its table (the first handshake verifies the plain way)
		want="1 0 0" keys=50
		[[ $cert == ecdsa-p256 ]] && want="2 49 49"
		shims_built || want="0 0 0" keys=0
		is "$(jq -r '.tls | "\(.openssl_paths) \(.server_key_decodes) \(.server_key_cache_hits) \(.table_verifications)"' "$TMP/k.json")" \
			"$(default_paths) $want" "$cert, TLS $v: OpenSSL paths, server key decodes, cache hits, table verifications"
		# one fresh X25519 key per handshake (TLS 1.3 key share, TLS 1.2
		# ECDHE), each from libsodium's fixed-base multiplication
		is "$(jqv $TMP/k.json .tls.x25519_fast_keygens)" $keys "$cert, TLS $v: $keys X25519 keys from the shim"
	done
	PORT=$sport
done
# OpenSSL's allocations on the shim's per-thread caches by default (not under
# AddressSanitizer, which must see every block)
alloc="per-thread caches"
{ ! shims_built || [[ ${KTLS_ASAN:-} == 1 ]]; } && alloc=libc
is "$(jq -r .tls.openssl_allocator "$TMP/k.json")" "$alloc" "default run: OpenSSL allocator $alloc"

# --stock-openssl (and its old name --provider-keys): OpenSSL's stock paths,
# OpenSSL's own allocator, same handshakes
for opt in --stock-openssl --provider-keys; do
	"$CLIENT" handshake --port "$PORT" -n 20 -c 2 -d 60s $opt -q --json "$TMP/s.json" >/dev/null 2>&1
	is "$?" 0 "$opt: exit 0"
	is "$(jq -r '"\(.handshakes) \(.tls.openssl_paths) \(.tls.server_key_decodes) \(.tls.table_verifications) \(.tls.key_schedule_provider) \(.tls.x25519_fast_keygens) \(.tls.openssl_allocator)"' "$TMP/s.json")" \
		"20 stock 0 0 false 0 libc" "$opt: 20 handshakes on OpenSSL's stock paths"
done

"$CLIENT" handshake --port "$PORT" --rate 200 -d 1s -q --json "$TMP/ol.json" >/dev/null 2>&1
n=$(jqv $TMP/ol.json '.handshakes + .unfinished')
ok "$(( n >= 195 && n <= 201 ? 0 : 1 ))" "open loop at 200/s for 1 s: 200 starts (got $n)"
is "$(jqv $TMP/ol.json .errors_total)" 0 "no errors"
done_testing

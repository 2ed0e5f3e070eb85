# tests/host/client_common.sh: shared by the tests/host/client-*.t files
# (sourced after tests/lib.sh). Servers started here are killed at exit.

CLIENT=$KTLS_BIN/ktls-client
CERTS=$KTLS_BUILD/certs
HELPER=$KTLS_BUILD/tests/helpers/tls_test_server

[[ -x $CLIENT ]] || skip_all "bin/ktls-client is not built (make)"
[[ -s $CERTS/ecdsa-p256.crt ]] || skip_all "no test certificates (make certs)"
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"

TMP=$(mktemp -d)
SERVER_PIDS=()
client_cleanup() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap client_cleanup EXIT

# A random free port can be taken between free_port and bind (load tests here
# churn through thousands of ephemeral ports): each start tries a few ports.

# start_s_server [s_server options...]: openssl s_server -www on a free port,
# ECDSA P-256 certificate. Sets PORT.
start_s_server() {
	local try pid
	for try in 1 2 3 4 5; do
		PORT=$(free_port) || continue
		openssl s_server -accept "127.0.0.1:$PORT" -cert "$CERTS/ecdsa-p256.crt" \
			-key "$CERTS/ecdsa-p256.key" -www -quiet "$@" >"$TMP/s_server.$PORT.log" 2>&1 &
		pid=$!
		SERVER_PIDS+=($pid)
		wait_port_of "$pid" "$PORT" && return 0
		diag "s_server on port $PORT: $(head -c 300 "$TMP/s_server.$PORT.log")"
	done
	return 1
}

# start_helper [tls_test_server options...]: the misbehaving test server.
# Sets PORT and STATS (its counters file, written when it is stopped).
start_helper() {
	local try
	for try in 1 2 3 4 5; do
		PORT=$(free_port) || continue
		STATS=$TMP/helper.$PORT.json
		"$HELPER" --port "$PORT" --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
			--stats "$STATS" --lifetime 120s "$@" >"$TMP/helper.$PORT.log" 2>&1 &
		HELPER_PID=$!
		SERVER_PIDS+=($HELPER_PID)
		wait_port_of "$HELPER_PID" "$PORT" && return 0
		diag "test server on port $PORT: $(head -c 300 "$TMP/helper.$PORT.log")"
	done
	return 1
}

# wait_port_of PID PORT: until PORT accepts, or false as soon as PID exited.
wait_port_of() {
	local t
	for ((t = 0; t < 200; t++)); do
		kill -0 "$1" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# bail WHY: a failure that ends the file (a server that will not start).
bail() {
	ok 1 "$*"
	done_testing
}

# stop_helper: stop the last helper; its counters are then in $STATS.
stop_helper() {
	kill "$HELPER_PID" 2>/dev/null
	wait "$HELPER_PID" 2>/dev/null
	[[ -s $STATS ]]
}

# s_server_stat PORT "server accepts that finished": a counter from the
# status page of s_server -www (fetching it is one more accepted handshake).
s_server_stat() {
	curl -sk --max-time 5 "https://127.0.0.1:$1/" | awk -v k="$2" 'index($0, k) { print $1; exit }'
}

# jqv FILE FILTER: one value from a JSON file.
jqv() { jq -r "$2" "$1"; }

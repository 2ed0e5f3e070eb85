# tests/host/server-lib.sh: helpers for the ktls-server tests (sourced after tests/lib.sh).
#
#   start_server [ARGS...]   start bin/ktls-server on a port it picks (--port 0),
#                            sets SRV_PID SRV_PORT SRV_DIR (out, err, s.json inside)
#   stop_server [SIGNAL]     signal it (TERM), wait, set SRV_RC
#   stats                    GET /stats (compact JSON on stdout)
#   pattern N                the /bytes/N body, written independently of the
#                            server's C code (coreutils, from the formula in pattern.h)
#   get PATH [CURL ARGS...]  curl https://127.0.0.1:$SRV_PORT/PATH, verifying the cert
#   gnutls_get PATH [ARGS...]  the body of GET PATH through gnutls-cli (ARGS: its options)

CERTS=$KTLS_BUILD/certs
CA=$CERTS/ca.crt
SRV_PID=
TMP=$(mktemp -d)
trap 'cleanup_server' EXIT

cleanup_server() {
	if [[ -n $SRV_PID ]] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill -KILL "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}

need_certs() {
	[[ -s $CA && -s $CERTS/ecdsa-p256.crt ]] || skip_all "no test certificates: run 'make certs'"
}

start_server() {
	SRV_DIR=$(mktemp -d -p "$TMP")
	"$KTLS_BIN/ktls-server" --port 0 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
		--json "$SRV_DIR/s.json" "$@" >"$SRV_DIR/out" 2>"$SRV_DIR/err" &
	SRV_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q 'listening on' "$SRV_DIR/out" 2>/dev/null && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	SRV_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$SRV_DIR/out")
	if [[ -z $SRV_PORT ]]; then
		diag "server did not start: $(cat "$SRV_DIR/err")"
		return 1
	fi
}

stop_server() {
	local sig=${1:-TERM}
	kill "-$sig" "$SRV_PID" 2>/dev/null
	SRV_RC=0
	wait "$SRV_PID" || SRV_RC=$?
	SRV_PID=
	# under `make asan`: a sanitizer report anywhere is a failure
	if grep -qs 'Sanitizer' "$SRV_DIR/err" "$SRV_DIR/out"; then
		ok 1 "the server ran clean under the sanitizers"
		cat "$SRV_DIR/err" "$SRV_DIR/out" | sed -n '1,30p' | sed 's/^/#   | /'
	fi
}

get() {
	local path=$1; shift
	curl -sS --max-time 20 --cacert "$CA" "$@" "https://127.0.0.1:$SRV_PORT$path"
}

stats() {
	get /stats | jq -c .
}

# gnutls-cli 3.8 ends its connection at the end of its input (3.7 waited for
# the server): its input stays open (sleep) until the server has answered and
# closed (Connection: close), which ends gnutls-cli.
gnutls_get() {
	local path=$1 in hp
	shift
	exec {in}< <(printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$path"; exec sleep 30)
	hp=$!
	timeout 10 gnutls-cli --logfile=/dev/null --x509cafile "$CA" -p "$SRV_PORT" "$@" 127.0.0.1 <&$in 2>/dev/null |
		sed '1,/^\r$/d'
	exec {in}<&-
	kill "$hp" 2>/dev/null
	wait "$hp" 2>/dev/null
	return 0
}

pattern() {
	yes 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy | tr -d '\n' | head -c "$1"
}

sha() { sha256sum | cut -d' ' -f1; }

# raw REQUEST-BYTES [s_client args]: send bytes over TLS, print what comes back
# until the server closes (or 5 s).
raw() {
	local req=$1; shift
	{ printf '%b' "$req"; sleep "${RAW_WAIT:-1}"; } |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" "$@" 2>/dev/null
}

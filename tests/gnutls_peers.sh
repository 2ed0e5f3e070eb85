# tests/gnutls_peers.sh: our side (build/tests/helpers/ktls_peer) against
# GnuTLS's own tools, an independent TLS implementation, for TLS 1.2 and 1.3
# with each AEAD kTLS offloads. Sourced (after tests/lib.sh) by
#   tests/vm/libktls-gnutls.t     our side in kTLS, on a kernel with kTLS
#   tests/host/libktls-gnutls.t   our side in userspace, so the logic runs here
# Cases per version x cipher, 256 KiB of newline-terminated lines each way
# (gnutls-serv's echo works line by line), compared by SHA-256 with the file:
#   ours-server  gnutls-cli sends the file; we echo it back and close
#   ours-client  we send the file to gnutls-serv --echo and read it back
# and for TLS 1.3 with AES-128-GCM:
#   keyupdate-peer  gnutls-cli asks for a KeyUpdate (^rekey^) half way
#   keyupdate-ours  we start one (peer asked to update too) half way
# With kTLS on a kernel without rekey the KeyUpdates must end in the
# specific error: KTLS_E_REKEY_UNSUPPORTED and a close_notify the peer sees
# (theirs), or nothing sent and the connection going on (ours).
#
# gnutls-serv listens on every address (it has no option to bind one): the
# host test runs it in a private network namespace (unshare), the VM has
# only loopback.

GP_HELPER=$KTLS_BUILD/tests/helpers/ktls_peer
GP_CERTS=$KTLS_BUILD/certs
GP_SIZE=262144

# gp_line: one line of the data file (63 pattern bytes + \n), for line $1.
gp_make_data() {
	awk -v n="$((GP_SIZE / 64))" 'BEGIN {
		a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy"
		for (i = 0; i < n; i++) { l = ""; for (j = 0; j < 63; j++) l = l substr(a, (i * 63 + j) % 61 + 1, 1); print l }
	}' >"$1"
}

# gp_field LINE KEY: the value of KEY= in the helper's report line LINE.
gp_field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1" | head -n 1; }

# gp_offload_ok REPORT TAG: yes when, in kTLS mode, both directions went to
# the kernel with that cipher (always yes in user mode).
gp_offload_ok() {
	if [[ $GP_MODE == user ]]; then echo yes; return; fi
	local l
	l=$(grep '^ktls ' <<<"$1")
	[[ $(gp_field "$l" dirs) == tx,rx && $(gp_field "$l" cipher) == "$2" ]] && echo yes || echo no
}

# gp_wait_file F: until F exists (at most 5 s).
gp_wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.05
	done
	return 1
}

# gp_server_case NAME PRIORITY TAG [REKEY]: our server, gnutls-cli sends the
# data file (with an inline ^rekey^ half way when REKEY is set).
gp_server_case() {
	local name=$1 prio=$2 tag=$3 rekey=${4:-} port rc crc hp sp out
	port=$(free_port) || { ok 1 "$name: no free port"; return; }
	rm -f "$GP_DIR/ready"
	"$GP_HELPER" --role server --port "$port" --mode "$GP_MODE" --cert "$GP_CERTS/ecdsa-p256.crt" \
		--key "$GP_CERTS/ecdsa-p256.key" --send-file "$GP_DIR/data" --recv "$GP_SIZE" \
		--ready-file "$GP_DIR/ready" --timeout 60s >"$GP_DIR/srv.out" 2>"$GP_DIR/srv.err" &
	sp=$!
	GP_PIDS+=("$sp")
	if ! gp_wait_file "$GP_DIR/ready"; then
		kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
		ok 1 "$name: our server did not start"
		sed 's/^/#   /' "$GP_DIR/srv.err"
		return
	fi
	# gnutls-cli ends its connection at the end of its input: keep the
	# input open until our server closes (sleep, ended below).
	if [[ -n $rekey ]]; then
		exec {in}< <(head -c $((GP_SIZE / 2)) "$GP_DIR/data"; echo '^rekey^'; tail -c $((GP_SIZE / 2)) "$GP_DIR/data"; exec sleep 120)
	else
		exec {in}< <(cat "$GP_DIR/data"; exec sleep 120)
	fi
	hp=$!
	GP_PIDS+=("$hp")
	timeout 90 gnutls-cli ${rekey:+--inline-commands} --logfile="$GP_DIR/cli.log" --x509cafile="$GP_CERTS/ca.crt" \
		--priority "$prio" -p "$port" localhost <&$in >"$GP_DIR/cli.out" 2>"$GP_DIR/cli.err"
	crc=$?
	exec {in}<&-
	kill "$hp" 2>/dev/null
	wait "$sp"
	rc=$?
	wait "$hp" 2>/dev/null
	out=$(cat "$GP_DIR/srv.out")
	local done_line hs
	done_line=$(grep '^done ' <<<"$out")
	hs=$(grep '^handshake ' <<<"$out")
	if [[ -n $rekey && -n $GP_NO_REKEY ]]; then
		ok "$([[ $(grep '^error ' <<<"$out") == *"stage=recv code=KTLS_E_REKEY_UNSUPPORTED"* ]] &&
			grep -q 'Peer has closed' "$GP_DIR/cli.log" "$GP_DIR/cli.err" 2>/dev/null; echo $?)" \
			"$name (no rekey: KTLS_E_REKEY_UNSUPPORTED, close_notify reached gnutls-cli)"
	else
		ok "$([[ $rc == 0 && $(gp_field "$hs" aead) == "$tag" && $(gp_field "$done_line" recv_sha256) == "$GP_SHA" &&
			$(gp_offload_ok "$out" "$tag") == yes &&
			$(sha256sum <"$GP_DIR/cli.out" | cut -d' ' -f1) == "$GP_SHA" ]] &&
			{ [[ -z $rekey || $GP_MODE == user ]] || [[ $(gp_field "$done_line" key_updates_rx) == 1 ]]; }; echo $?)" \
			"$name (sha256 both ways${rekey:+, KeyUpdate from gnutls-cli handled})"
	fi
	if [[ $TAP_FAILED != "${GP_FAILED:-0}" ]]; then
		diag "  ours: exit $rc: $(tr '\n' ' ' <<<"$out")"
		sed 's/^/#   ours| /' "$GP_DIR/srv.err" | tail -n 5
		diag "  gnutls-cli: exit $crc, $(wc -c <"$GP_DIR/cli.out") bytes out"
		cat "$GP_DIR/cli.err" "$GP_DIR/cli.log" 2>/dev/null | grep -v '^ *-\? *\(subject\|issuer\|Certificate\|Public\|Got a\|Processed\|Resolving\|Connecting\|Handshake\)' |
			tail -n 8 | sed 's/^/#   gnutls-cli| /'
		GP_FAILED=$TAP_FAILED
	fi
}

# gp_client_case NAME TAG PORT [KEYUPDATE]: our client against gnutls-serv --echo.
gp_client_case() {
	local name=$1 tag=$2 port=$3 ku=${4:-} out rc done_line hs
	out=$("$GP_HELPER" --role client --port "$port" --mode "$GP_MODE" --ca "$GP_CERTS/ca.crt" \
		--send-file "$GP_DIR/data" --recv "$GP_SIZE" ${ku:+--key-update $((GP_SIZE / 2))} --timeout 60s 2>"$GP_DIR/cli.err")
	rc=$?
	done_line=$(grep '^done ' <<<"$out")
	hs=$(grep '^handshake ' <<<"$out")
	local ku_ok=0 what="sha256 of the echo"
	if [[ -n $ku && -n $GP_NO_REKEY ]]; then
		what+="; no rekey: KTLS_E_REKEY_UNSUPPORTED, nothing sent, the data went on"
		[[ $(grep '^key_update ' <<<"$out") == *"code=KTLS_E_REKEY_UNSUPPORTED"* ]] || ku_ok=1
	elif [[ -n $ku ]]; then
		what+=" across our KeyUpdate"
		[[ $(gp_field "$done_line" key_updates_tx) == 1 ]] || ku_ok=1
	fi
	ok "$([[ $rc == 0 && $ku_ok == 0 && $(gp_field "$hs" aead) == "$tag" && $(gp_offload_ok "$out" "$tag") == yes &&
		$(gp_field "$done_line" recv_sha256) == "$GP_SHA" ]]; echo $?)" "$name ($what)"
	if [[ $TAP_FAILED != "${GP_FAILED:-0}" ]]; then
		diag "  ours: exit $rc: $(tr '\n' ' ' <<<"$out")"
		sed 's/^/#   ours| /' "$GP_DIR/cli.err" | tail -n 5
		GP_FAILED=$TAP_FAILED
	fi
}

# gnutls_peers_run MODE OFFLOADED: MODE ktls or user; OFFLOADED a function
# answering whether "VERSION CIPHER" is offloaded (kTLS) or worth testing.
gnutls_peers_run() {
	GP_MODE=$1
	local offloaded=$2 v c tag prio port gp
	for t in gnutls-cli gnutls-serv timeout sha256sum awk; do
		type -P "$t" >/dev/null || skip_all "$t is missing: apt-get install gnutls-bin coreutils gawk"
	done
	[[ -x $GP_HELPER ]] || skip_all "$GP_HELPER is not built: make tests"
	[[ -r $GP_CERTS/ecdsa-p256.crt ]] || skip_all "no certificates in $GP_CERTS: make certs"
	GP_DIR=$(mktemp -d) || exit 1
	# Whatever runs in the background (our server, gnutls-serv, the input
	# holder) is ended with the test, even when it is stopped midway.
	GP_PIDS=()
	trap 'kill "${GP_PIDS[@]}" 2>/dev/null; rm -rf "$GP_DIR"' EXIT
	trap 'exit 143' TERM INT PIPE
	gp_make_data "$GP_DIR/data"
	GP_SHA=$(sha256sum <"$GP_DIR/data" | cut -d' ' -f1)
	is "$(wc -c <"$GP_DIR/data")" "$GP_SIZE" "data file: $GP_SIZE bytes of lines"
	GP_FAILED=$TAP_FAILED
	for v in 1.2 1.3; do
		for c in AES-128-GCM AES-256-GCM CHACHA20-POLY1305 AES-128-CCM; do
			if ! "$offloaded" "$v" "$c"; then
				diag "$v $c: not offloaded by this kernel (ktls probe): not tested"
				continue
			fi
			tag=$c
			prio="NORMAL:-VERS-ALL:+VERS-TLS$v:-CIPHER-ALL:+$c"
			local lc
			lc=$(tr 'A-Z' 'a-z' <<<"$c" | sed 's/-//g; s/poly1305//')
			gp_server_case "$v $lc gnutls-cli ours-server" "$prio" "$tag"
			if [[ $v == 1.3 && $c == AES-128-GCM ]]; then
				gp_server_case "$v $lc gnutls-cli keyupdate-peer" "$prio" "$tag" rekey
			fi
			port=$(free_port) || { ok 1 "$v $c: no free port for gnutls-serv"; continue; }
			gnutls-serv --echo -a -q -p "$port" --x509certfile="$GP_CERTS/ecdsa-p256.crt" \
				--x509keyfile="$GP_CERTS/ecdsa-p256.key" --priority "$prio" >"$GP_DIR/serv.log" 2>&1 &
			gp=$!
			GP_PIDS+=("$gp")
			if ! wait_port "$port" 10; then
				ok 1 "$v $lc gnutls-serv ours-client (gnutls-serv did not listen)"
				tail -n 5 "$GP_DIR/serv.log" | sed 's/^/#   gnutls-serv| /'
			else
				gp_client_case "$v $lc gnutls-serv ours-client" "$tag" "$port"
				if [[ $v == 1.3 && $c == AES-128-GCM ]]; then
					gp_client_case "$v $lc gnutls-serv keyupdate-ours" "$tag" "$port" ku
				fi
			fi
			kill "$gp" 2>/dev/null
			wait "$gp" 2>/dev/null
		done
	done
}

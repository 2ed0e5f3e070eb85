# tests/conform-lib.sh: what a conformance suite sends after the handshake,
# and what ktls-server must answer (sourced after tests/lib.sh and
# tests/host/server-lib.sh, with a server running on $SRV_PORT). Used by
# tests/host/server-conform.t (--tls user, and --tls ktls falling back to
# userspace on a host without kTLS) and tests/vm/server-conform.t (the
# kernel's record layer).
#
#   conform_run CASE WHERE [ARGS]   one tests/helpers/tls-conform connection;
#                                   its report is left in $CF
#   cf KEY                          a field of that report
#   conform_case CASE WHERE [ARGS]  run it and check it against conform_want
#
# Who reads the client's records decides the answer: OpenSSL (LAYER=openssl:
# --tls user, the fallback, and every case sent with the client's Finished,
# which the server decrypts before any switch), or libktls and the kernel
# (LAYER=kernel: kTLS, after the switch). REKEY=true when the kernel follows
# KeyUpdates (6.14+).

CONFORM=$KTLS_BUILD/tests/helpers/tls-conform
REQUESTS=2

conform_run() {
	local kase=$1 where=$2; shift 2
	CF=$("$CONFORM" --port "$SRV_PORT" --case "$kase" --when "$where" --requests "$REQUESTS" --wait 30s "$@" 2>"$TMP/cf.err")
	local rc=$?
	[[ $rc == 0 ]] || diag "tls-conform $kase $where $*: exit $rc: $(head -c 300 "$TMP/cf.err")"
}

# (bash alone: in the VM every process started costs a lot of TCG time)
cf() {
	local re="(^| )$1=([^ ]*)"
	[[ $CF =~ $re ]] && echo "${BASH_REMATCH[2]}"
}

# conform_want CASE WHERE LAYER ARGS: "closed_by end responses" the server
# must give, then "server_key_updates" when it matters ('-' otherwise).
conform_want() {
	local kase=$1 where=$2 layer=$3 args=$4 base=0 all
	[[ $where == open ]] && base=1
	all=$((base + REQUESTS))
	# a KeyUpdate the kernel gets but cannot follow (no rekey): close_notify
	local no_rekey_close="server alert:close_notify $base -"
	case $kase in
	plain | empty-data) echo "client alert:close_notify $all -" ;;
	bad-record) echo "server alert:bad_record_mac $base -" ;;
	key-update | ku-split)
		local kus=0
		[[ $args == *"--request-update 1"* ]] && kus=1
		[[ $kase == key-update && $args == *"--count 2"* ]] && kus=$((kus * 2))
		if [[ $layer == kernel && $REKEY != true ]]; then echo "$no_rekey_close"
		else echo "client alert:close_notify $all $kus"; fi ;;
	ku-two | empty-alert | empty-handshake) echo "server alert:unexpected_message $base -" ;;
	ku-value) echo "server alert:illegal_parameter $base -" ;;
	# RFC 8446 calls a bad length decode_error; OpenSSL says illegal_parameter
	ku-length) [[ $layer == kernel ]] && echo "server alert:decode_error $base -" ||
		echo "server alert:illegal_parameter $base -" ;;
	# Linux reports an all-zero inner plaintext as a decryption failure
	inner-zero) [[ $layer == kernel ]] && echo "server alert:bad_record_mac $base -" ||
		echo "server alert:unexpected_message $base -" ;;
	ku-loop)
		local n=${args##*--count }
		n=${n%% *}
		if [[ $layer == kernel && $REKEY != true ]]; then echo "$no_rekey_close"
		elif ((n > 32)); then echo "server alert:unexpected_message * -"
		else echo "client alert:close_notify $((all + n)) -"; fi ;;
	esac
}

conform_case() {
	local kase=$1 where=$2; shift 2
	local layer=openssl want closed end resp kus what
	[[ ${LAYER:-openssl} == kernel && $where == open ]] && layer=kernel
	conform_run "$kase" "$where" "$@"
	read -r closed end resp kus <<<"$(conform_want "$kase" "$where" "$layer" "$*")"
	[[ $where == finished && $closed == server ]] && CONFORM_BEFORE_SWITCH=$((CONFORM_BEFORE_SWITCH + 1))
	what="$kase${*:+ $*} ($where, $layer)"
	is "$(cf closed_by) $(cf end)" "$closed $end" "$what: closed by the $closed with $end [$CF]"
	if [[ $resp == '*' ]]; then
		# ku-loop past the limit: the KeyUpdates before it were followed
		local r
		r=$(cf responses)
		ok "$([[ ${r:-99} -le $((KTLS_KU_LIMIT + 1)) ]]; echo $?)" "$what: at most $KTLS_KU_LIMIT KeyUpdates followed ($r responses)"
	else
		is "$(cf responses) $(cf bodies)" "$resp ok" "$what: $resp responses, every body checked"
	fi
	[[ $kus == - ]] || is "$(cf server_key_updates)" "$kus" "$what: the server's KeyUpdates ($kus)"
	is "$(cf tickets)" 2 "$what: the tickets came first"
	# Closes are FIN, never a reset, except after a record the kernel's
	# RX could not go past (documented in the README).
	if [[ $layer == openssl || $closed == client ]]; then
		is "$(cf tcp)" fin "$what: TCP ends with FIN, no reset"
	else
		diag "$what: TCP ended with $(cf tcp) (kTLS RX may be unable to read what followed)"
	fi
}

KTLS_KU_LIMIT=32
CONFORM_BEFORE_SWITCH=0   # connections the server ended before any switch to kTLS

# Every case, in both places (conform_all kernel: with the Finished, only
# the cases whose handling the switch depends on: the others meet OpenSSL
# there, as on the host, and TCG time is dear).
conform_all() {
	local w c
	for w in finished open; do
		conform_case plain "$w"
		conform_case bad-record "$w"
		conform_case key-update "$w"
		conform_case key-update "$w" --request-update 1 --count 2
		conform_case ku-split "$w"
		conform_case ku-split "$w" --request-update 1
		[[ ${1:-} == kernel && $w == finished ]] && continue
		for c in ku-two ku-value ku-length empty-alert empty-handshake empty-data inner-zero; do
			conform_case "$c" "$w"
		done
		conform_case ku-loop "$w" --count 30
		conform_case ku-loop "$w" --count 40
	done
	conform_run sslv2-hello finished
	is "$(cf end) $(cf tcp)" "alert:protocol_version fin" \
		"an SSL 2.0-format ClientHello: protocol_version, then FIN (read, never reset) [$CF]"
}

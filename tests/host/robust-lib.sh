# tests/host/robust-lib.sh: helpers for the robustness tests (sourced after
# tests/lib.sh and tests/host/server-lib.sh), in both record layers:
# tests/host/robust-*.t (--tls user) and tests/vm/robust-*.t (--tls ktls).
#
#   robust_setup          skip unless the certificates and the hostile client
#                         exist; MODE = the record layer ($ROBUST_MODE, default user)
#   attack ARGS...        run tests/helpers/hostile against the server; its
#                         summary line is left in $ATT (its report in $TMP/att.out)
#   att KEY               a field of that summary (end.fin, open, max_ms, ...), 0 if absent
#   good_start / good_check WHAT
#                         a good client downloading $GOOD_SIZE bytes at a limited
#                         rate meanwhile; good_check asserts its SHA-256
#   snap                  remember the server's counters ($S0), fds and RSS
#   delta PATH            how much the jq PATH of the counters grew since snap
#   settle                wait until only the /stats connection is left open
#                         (its answer in $SETTLED)
#   bounded WHAT          assert fds are back to the snap's and RSS grew < $RSS_LIMIT_KIB
#   record_cases          for each "kind end reason" line on stdin: one bad
#                         record ends its connection with END (not by a
#                         timeout), gets no response, and is counted as
#                         conn_errors.REASON
#   finish                SIGTERM -> exit 0, valid JSON, every accepted
#                         connection counted under one close reason

HOSTILE=$KTLS_BUILD/tests/helpers/hostile
GOOD_SIZE=${GOOD_SIZE:-8000000}
RSS_LIMIT_KIB=${RSS_LIMIT_KIB:-65536}

robust_setup() {
	need_certs
	[[ -x $HOSTILE ]] || skip_all "$HOSTILE missing: run 'make tests'"
	MODE=${ROBUST_MODE:-user}
}

attack() {
	"$HOSTILE" --port "$SRV_PORT" "$@" >"$TMP/att.out" 2>"$TMP/att.err"
	ATT_RC=$?
	ATT=$(grep '^summary' "$TMP/att.out")
	[[ $ATT_RC == 0 ]] || diag "hostile $*: exit $ATT_RC: $(head -c 300 "$TMP/att.err")"
}

# (bash alone: in the VM every process started costs a lot of TCG time)
att() {
	local re="(^| )$1=([^ ]*)"
	if [[ $ATT =~ $re ]]; then echo "${BASH_REMATCH[2]}"; else echo 0; fi
}

good_start() {
	curl -sS --max-time 120 --limit-rate "${1:-2M}" --cacert "$CA" \
		"https://127.0.0.1:$SRV_PORT/bytes/$GOOD_SIZE" 2>"$TMP/good.err" | sha >"$TMP/good.sum" &
	GOOD=$!
}

good_check() {
	wait "$GOOD"
	is "$(cat "$TMP/good.sum")" "$(pattern "$GOOD_SIZE" | sha)" "$1: a concurrent good client's $GOOD_SIZE bytes verify"
}

srv_fds() { ls "/proc/$SRV_PID/fd" 2>/dev/null | wc -l; }
srv_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null; }

snap() {
	settle
	S0=$SETTLED
	FDS0=$(srv_fds)
	RSS0=$(srv_rss)
}

# delta PATH [COUNTERS]: against the counters given, or fetched now
delta() {
	local now=${2:-$(stats)}
	echo $(( $(jq "$1 // 0" <<<"$now") - $(jq "$1 // 0" <<<"$S0") ))
}

# settle: wait until the /stats connection asking is the only one open; its
# answer is left in $SETTLED (every other connection is closed and counted
# there: a fresh /stats could still see the previous one closing).
settle() {
	local i
	for ((i = 0; i < 100; i++)); do
		SETTLED=$(stats)
		[[ $(jq .conns_current <<<"$SETTLED") == 1 ]] && return 0
		sleep 0.1
	done
	diag "connections still open: $(jq .conns_current <<<"$SETTLED")"
}

bounded() {
	settle
	local fds rss
	fds=$(srv_fds) rss=$(srv_rss)
	ok "$([[ $fds -le $((FDS0 + 2)) ]]; echo $?)" "$1: open fds back to $FDS0 (now $fds)"
	ok "$([[ $((rss - RSS0)) -lt $RSS_LIMIT_KIB ]]; echo $?)" \
		"$1: RSS grew by less than $RSS_LIMIT_KIB KiB ($RSS0 -> $rss KiB)"
}

finish() {
	stop_server
	is "$SRV_RC" 0 "SIGTERM: the server exits 0"
	local j=$SRV_DIR/s.json
	check "--json is valid JSON" jq -e . "$j"
	is "$(jq '[.closes[]] | add // 0' "$j")" "$(jq .conns_accepted "$j")" \
		"every accepted connection is counted under one close reason ($(jq -c .closes "$j"))"
}

record_cases() {
	local kind end reason now
	while read -r kind end reason; do
		attack --attack record --record "$kind" --wait 20s
		is "$(att "end.$end")" 1 "$kind: the connection ends with $end ($ATT)"
		is "$(att responses)" 0 "$kind: no response to anything from the bad record on"
		now=$(stats)
		# REASON may be a|b: OpenSSL versions name some causes differently
		local r sum=0
		for r in ${reason//|/ }; do
			sum=$((sum + $(delta ".conn_errors.$r" "$now")))
		done
		is "$sum:$(delta '[.timeouts[]] | add' "$now")" 1:0 \
			"$kind: counted as conn_errors.$reason, not ended by a timeout ($(att max_ms) ms)"
		S0=$now
	done
}

# tests/host/fleet_common.sh: stand-in hosts for the client-fleet tests
# (sourced after tests/lib.sh): scripts/netns.sh makes a server namespace
# (10.77.0.1) and two client "hosts" reached by mpirun through a launcher
# that runs `ip netns exec`. Everything made here is removed at exit, on
# every path (the namespaces, the server, the files).
#
#   fleet_up                 the namespaces; sets NET SRV_NS HOSTS C1 C2 FLEET_ENV
#   fleet_server [ARGS...]   ktls-server in the server namespace on 10.77.0.1:8443,
#                            its JSON into $FLEET_SRV_JSON when stopped
#   fleet_server_stop
#   in_srv CMD...            run CMD in the server namespace with mpirun's environment
#   ranks_in NS              the pids of ktls-client-mpi processes in namespace NS

MPI_CLIENT=$KTLS_BIN/ktls-client-mpi
CERTS=$KTLS_BUILD/certs
ADDR=10.77.0.1
FPORT=8443

[[ $(id -u) == 0 ]] || skip_all "needs root for network namespaces (ip netns)"
command -v mpirun >/dev/null || skip_all "mpirun is missing (apt-get install openmpi-bin)"
[[ -x $MPI_CLIENT ]] || skip_all "bin/ktls-client-mpi is not built (apt-get install libopenmpi-dev; make)"
[[ -s $CERTS/ecdsa-p256.crt ]] || skip_all "no test certificates (make certs)"
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"

FTMP=$(mktemp -d)
NET=$FTMP/net
FSRV_PID=
fleet_cleanup() {
	if [[ -n $FSRV_PID ]]; then
		kill -KILL "$FSRV_PID" 2>/dev/null
		wait "$FSRV_PID" 2>/dev/null
	fi
	# a rank left behind by a failed test (never one of another test run:
	# only the processes inside this run's namespaces)
	local ns p
	for ns in $(cat "$NET/names" 2>/dev/null); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	"$ROOT/scripts/netns.sh" down "$NET" 2>/dev/null
	rm -rf "$FTMP"
}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
trap fleet_cleanup EXIT
trap 'exit 130' INT TERM

fleet_up() {
	KTLS_NETNS_OWNER=$$ "$ROOT/scripts/netns.sh" up "$NET" 2 2 >"$FTMP/netns.log" 2>&1 || {
		local why
		why=$(head -c 300 "$FTMP/netns.log")
		[[ $why == *"Operation not permitted"* ]] && skip_all "network namespaces are not permitted here: $why"
		ok 1 "stand-in hosts made: $why"
		done_testing
	}
	SRV_NS=$(cat "$NET/server")
	HOSTS=$NET/hostfile
	C1=$(sed -n '1s/ .*//p' "$HOSTS")
	C2=$(sed -n '2s/ .*//p' "$HOSTS")
	mapfile -t FLEET_ENV <"$NET/env"
	# under `make asan`: Open MPI's own allocations are not this project's
	# leaks (full stacks, so that only those passing through it are skipped)
	if [[ -n ${KTLS_ASAN:-} ]]; then
		FLEET_ENV+=("ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:fast_unwind_on_malloc=0"
			    "LSAN_OPTIONS=suppressions=$ROOT/tests/fixtures/lsan-openmpi.supp:print_suppressions=0")
	fi
}

# bail WHY: a failure that ends the file
bail() {
	ok 1 "$*"
	done_testing
}

in_srv() {
	ip netns exec "$SRV_NS" env "${FLEET_ENV[@]}" "$@"
}

fleet_server() {
	local i tag=$RANDOM$RANDOM
	FLEET_SRV_JSON=$FTMP/server.$tag.json
	ip netns exec "$SRV_NS" "$KTLS_BIN/ktls-server" --host "$ADDR" --port "$FPORT" --threads 1 \
		--cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" --json "$FLEET_SRV_JSON" "$@" \
		>"$FTMP/server.$tag.out" 2>"$FTMP/server.$tag.err" &
	FSRV_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'listening on' "$FTMP/server.$tag.out" 2>/dev/null && return 0
		kill -0 "$FSRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	diag "ktls-server did not start in $SRV_NS: $(head -c 300 "$FTMP/server.$tag.err")"
	return 1
}

fleet_server_stop() {
	kill -TERM "$FSRV_PID" 2>/dev/null
	wait "$FSRV_PID" 2>/dev/null
	FSRV_PID=
}

ranks_in() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == ktls-client-mpi ]] && echo "$p"
	done
}

# wait_gone SECONDS: until no rank runs in any client namespace; false after SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[[ -z $(ranks_in "$C1")$(ranks_in "$C2") ]] && return 0
		sleep 0.1
	done
	return 1
}

# The value the merged histogram reports for the exact p-th percentile of
# the latencies in FILE (--raw-samples: "RANK START LATENCY" lines, in ns): the midpoint of the log-linear
# bucket holding it (common/hist.h: exact below 256, then 128 sub-buckets
# per power of two; clamped to the smallest and largest sample), in
# microseconds. Computed here, independently of the
# C code.
exact_p_us() {
	awk '{print $3}' "$1" | sort -n | awk -v p="$2" '
		{ v[NR] = $1 }
		END {
			# rank ceil(p% of n) in integers (p in tenths): 99.9% of 3000
			# is 2997 exactly, where doubles make it 2997.0000000000005
			n = NR; num = int(p * 10 + 0.5) * n; k = int(num / 1000); if (k * 1000 < num) k++
			if (k < 1) k = 1
			x = v[k]
			if (x < 256) { printf "%.3f\n", x / 1000; exit }
			msb = 0; t = x; while (t >= 2) { t = int(t / 2); msb++ }
			shift = msb - 7; w = 2 ^ shift
			lo = int(x / w) * w; hi = lo + w - 1
			mid = lo + int((hi - lo) / 2)
			if (mid < v[1]) mid = v[1]
			if (mid > v[n]) mid = v[n]
			printf "%.3f\n", mid / 1000
		}'
}

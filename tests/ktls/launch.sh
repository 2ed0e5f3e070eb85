# tests/ktls/launch.sh: shared by the kTLS launchers in tests/ktls/*.t.
#
# tests/vm/*.t need a kernel with kTLS. On a host without one, each
# tests/ktls/<kernel>.t boots that kernel ONCE with scripts/vm.sh and relays
# the single TAP stream of tests/vm/run.sh; on a host with kTLS,
# tests/ktls/native.t runs tests/vm/run.sh directly and the VM launchers skip
# (KTLS_VM_FORCE=1 runs them anyway). Each stream is also kept in
# $KTLS_BUILD/vm/tap/<kernel>.tap (native.tap for the native run).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
KTLS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$KTLS_REPO/tests/ktls/durations.sh"

# A skip by design (the other launcher covers it): never a failure, even
# where skips are (KTLS_TEST_STRICT).
skip_by_design() {
	echo "1..0 # SKIP $*"
	exit 0
}

# Does this host's kernel attach the tls ULP? Asked of the kernel itself.
host_has_ktls() {
	[[ -n ${KTLS_IN_VM:-} ]] && return 0
	"$KTLS_BIN/ktls" probe --json 2>/dev/null | jq -e '.ulp_available == true' >/dev/null
}

# relay TAPFILE RC WHAT: after a run that printed TAP into TAPFILE (already
# shown), close the stream with a failing test when it ended early.
relay_close() {
	local out=$1 rc=$2 what=$3 n
	if grep -qE '^1\.\.[0-9]+' "$out"; then
		exit "$rc"
	fi
	n=$(grep -cE '^(not )?ok([[:space:]]|$)' "$out")
	{
		echo "not ok $((n + 1)) - $what ended before the tests finished (exit status $rc; see the messages above)"
		echo "1..$((n + 1))"
	} | tee -a "$out"
	exit 1
}

# vm_launch KERNEL [SELECTION]: tests/vm/ inside KERNEL's VM: every file, or
# those whose name matches the regex SELECTION (KTLS_VM_FILTER, when set,
# applies on top of it).
vm_launch() {
	local kernel=$1 sel=${2:-} out rc v env=() durs prev
	if [[ -z ${KTLS_VM_FORCE:-} ]] && host_has_ktls; then
		skip_by_design "this host has kTLS: tests/ktls/native.t runs tests/vm natively (KTLS_VM_FORCE=1 boots $kernel anyway)"
	fi
	type -P qemu-system-x86_64 >/dev/null ||
		skip_all "qemu-system-x86_64 is missing: apt-get install --no-install-recommends qemu-system-x86"
	type -P busybox >/dev/null ||
		skip_all "busybox is missing: apt-get install --no-install-recommends busybox-static"
	for v in KTLS_VM_FILTER KTLS_VM_TEST_TIMEOUT; do
		[[ -n ${!v:-} ]] && env+=("$v=${!v}")
	done
	[[ -n $sel ]] && env+=("KTLS_VM_SELECT=$sel")
	durs=$KTLS_BUILD/vm/durations/$kernel.tsv
	prev=$(durations_prev "$durs")
	[[ -n $prev ]] && env+=("KTLS_VM_PREV=$prev")
	# The relayed stream is kept, so that a report can set the kernels side
	# by side afterwards (e.g. a version x cipher matrix, one column each).
	out=$KTLS_BUILD/vm/tap/$kernel.tap
	mkdir -p "${out%/*}" && : >"$out" || exit 1
	"$KTLS_REPO/scripts/vm.sh" --kernel "$kernel" --timeout "${KTLS_VM_TIMEOUT:-720}" -- \
		env "${env[@]}" "$KTLS_REPO/tests/vm/run.sh" | tee "$out"
	rc=${PIPESTATUS[0]}
	durations_save "$out" "$durs"
	relay_close "$out" "$rc" "the $kernel VM (scripts/vm.sh)"
}

# native_launch: tests/vm/ on this host's own kernel, when it has kTLS.
native_launch() {
	local out rc durs=$KTLS_BUILD/vm/durations/native.tsv
	host_has_ktls ||
		skip_by_design "this host has no kTLS: tests/ktls/<kernel>.t run tests/vm inside the VM"
	out=$KTLS_BUILD/vm/tap/native.tap
	mkdir -p "${out%/*}" && : >"$out" || exit 1
	KTLS_VM_PREV=$(durations_prev "$durs") "$KTLS_REPO/tests/vm/run.sh" | tee "$out"
	rc=${PIPESTATUS[0]}
	durations_save "$out" "$durs"
	relay_close "$out" "$rc" "tests/vm/run.sh"
}

#!/bin/bash
# Run the libFuzzer targets built by `make fuzzers` (build/fuzz/fuzzers/*).
#
#   scripts/fuzz.sh [--seconds S] [--replay] [TARGET...]
#
# --seconds S  fuzz each target for S seconds (default 60), starting from the
#              committed seeds (tests/fuzz/corpus/<target>/) plus a working
#              corpus in build/fuzz/corpus/<target>/
# --replay     only run each target over its seeds and its regression inputs
#              (tests/fuzz/regressions/<target>/): fast and deterministic
# A crash leaves its input in build/fuzz/crashes/<target>/ and fails the run;
# add the input to tests/fuzz/regressions/<target>/ once the bug is fixed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=60 replay=0 targets=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
	--replay) replay=1; shift ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds wants a whole number" >&2; exit 2; }
dir=build/fuzz/fuzzers
if [[ ${#targets[@]} -eq 0 ]]; then
	for f in "$dir"/*; do [[ -x $f ]] && targets+=("$(basename "$f")"); done
fi
[[ ${#targets[@]} -gt 0 ]] || { echo "fuzz.sh: no fuzz targets in $dir: run 'make fuzzers'" >&2; exit 1; }

fail=0
for t in "${targets[@]}"; do
	bin=$dir/$t
	[[ -x $bin ]] || { echo "fuzz.sh: $bin missing: run 'make fuzzers'" >&2; fail=1; continue; }
	seeds=tests/fuzz/corpus/$t regress=tests/fuzz/regressions/$t
	work=build/fuzz/corpus/$t crashes=build/fuzz/crashes/$t
	mkdir -p "$work" "$crashes"
	inputs=()
	for d in "$seeds" "$regress"; do
		[[ -d $d ]] && inputs+=("$d"/*)
	done
	if [[ $replay == 1 ]]; then
		if [[ ${#inputs[@]} -eq 0 ]]; then
			echo "fuzz $t: no seeds or regressions to replay"
			continue
		fi
		if "$bin" -runs=0 "${inputs[@]}" >"$crashes/replay.log" 2>&1; then
			echo "fuzz $t: replayed ${#inputs[@]} inputs, no crash"
		else
			echo "fuzz $t: CRASH while replaying (log: $crashes/replay.log)"
			tail -n 20 "$crashes/replay.log" | sed 's/^/    /'
			fail=1
		fi
		continue
	fi
	corp=("$work")
	[[ -d $seeds ]] && corp+=("$seeds")
	log=$crashes/fuzz.log
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "${corp[@]}" >"$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		echo "fuzz $t: ${seconds}s, ${execs:-?} runs, ${cov:-cov: ?}, no crash"
	else
		echo "fuzz $t: CRASH (inputs in $crashes/, log: $log)"
		grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
		fail=1
	fi
done
exit $fail

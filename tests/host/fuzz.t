#!/bin/bash
# timeout: 900
# The libFuzzer targets (tests/fuzz/*.c): build with clang, replay the seeds and
# regression inputs, then fuzz each target briefly (KTLS_FUZZ_SECONDS, default 5).
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.." || exit 1
command -v clang >/dev/null || skip_all "clang missing: apt-get install clang libclang-rt-dev"
out=$(make --no-print-directory fuzzers 2>&1); rc=$?
is "$rc" 0 "fuzz targets build with clang (make fuzzers)"
[[ $rc == 0 ]] || { printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'; done_testing; }
for f in build/fuzz/fuzzers/*; do
	[[ -x $f ]] || continue
	t=$(basename "$f")
	out=$(scripts/fuzz.sh --replay "$t" 2>&1); rc=$?
	ok "$rc" "fuzz $t: seeds and regressions replay without a crash"
	[[ $rc == 0 ]] || printf '%s\n' "$out" | sed 's/^/#   /'
	out=$(scripts/fuzz.sh --seconds "${KTLS_FUZZ_SECONDS:-5}" "$t" 2>&1); rc=$?
	ok "$rc" "fuzz $t: ${KTLS_FUZZ_SECONDS:-5}s of fuzzing without a crash"
	printf '%s\n' "$out" | sed 's/^/# /'
done
done_testing

#!/bin/bash
# ktls-bench cost-check (make cost-check): the instruction counts of a
# --clock instructions run (tests/fixtures/bench/run-icount, a real bookworm
# guest run) against a baseline; a planted 5% regression fails, a change
# within the tolerance passes. Expected counts come from the JSON via jq.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

bench=$KTLS_BIN/ktls-bench
[[ -x $bench ]] || skip_all "$bench not built"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r tests/fixtures/bench/run-icount "$tmp/run"
R=$tmp/run
U=bulk-13-aes-128-gcm-user-4m-c1-ecdsa-p256-x25519
K=bulk-13-aes-128-gcm-ktls-4m-c1-ecdsa-p256-x25519
H=hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1

# --print: the baseline lines, counts per handshake / per byte
"$bench" cost-check --print "$R" >"$tmp/base" 2>"$tmp/err"
ok $? "cost-check --print exits 0"
want=$(jq -r --slurpfile c "$R/$U.client.json" '.instructions.total / $c[0].bytes' "$R/$U.run.json")
grep -q "^bookworm $U $(printf '%.4f' "$want") byte\$" "$tmp/base"; ok $? "user bulk row: $want instructions per byte"
want=$(jq -r --slurpfile c "$R/$H.client.json" '.instructions.total / $c[0].handshakes' "$R/$H.run.json")
grep -q "^bookworm $H $(printf '%.0f' "$want") handshake\$" "$tmp/base"; ok $? "handshake row: $want instructions per handshake"
is "$(grep -vc '^#' "$tmp/base")" 3 "three baseline lines (handshake, bulk user, bulk kTLS)"

# the run against its own counts: all within the tolerance
"$bench" cost-check "$tmp/base" "$R" >"$tmp/out" 2>&1
ok $? "the run passes against its own baseline"
grep -q '^cost-check: 3 of 3 counts within their tolerance (+2.00% unless the line says) of ' "$tmp/out"; ok $? "summary: 3 of 3 within the default 2%"

# scale ROW's instruction counts (total, user, kernel) by F
scale() {
	jq --argjson f "$2" '.instructions.total = (.instructions.total * $f | round)
		| .instructions.user = (.instructions.user * $f | round)
		| .instructions.kernel = .instructions.total - .instructions.user' \
		"tests/fixtures/bench/run-icount/$1.run.json" >"$R/$1.run.json"
}

# a planted 5% regression of the userspace bulk row fails, naming it
scale "$U" 1.05
"$bench" cost-check "$tmp/base" "$R" >"$tmp/out" 2>&1
is "$?" 1 "a 5% regression: exit 1"
grep -q "^FAIL bookworm $U: .* instructions per byte, baseline .*: +5.00% (tolerance 2.00%)\$" "$tmp/out"
ok $? "the grown row is named with its growth and the tolerance"
grep -q '^cost-check: 2 of 3 counts within their tolerance .*: FAILED$' "$tmp/out"; ok $? "summary says FAILED"
# the same with a wider tolerance passes
"$bench" cost-check --tolerance 6 "$tmp/base" "$R" >"$tmp/out" 2>&1
ok $? "--tolerance 6 accepts the 5% growth"

# within the tolerance: +1% passes
scale "$U" 1.01
"$bench" cost-check "$tmp/base" "$R" >"$tmp/out" 2>&1
ok $? "a 1% growth passes (within 2%)"
grep -q "^ok   bookworm $U: .*: +1.00%\$" "$tmp/out"; ok $? "and is shown as +1.00%"

# a drop beyond the tolerance passes, asking for a new baseline
scale "$U" 0.90
"$bench" cost-check "$tmp/base" "$R" >"$tmp/out" 2>&1
ok $? "a 10% drop passes"
grep -q "^ok   bookworm $U: .*-10.00%, fewer than the tolerance allows: update " "$tmp/out"; ok $? "and asks for the baseline to be updated"
cp "tests/fixtures/bench/run-icount/$U.run.json" "$R/"

# a line's own tolerance wins over the default
scale "$U" 1.05
sed "s/^\(bookworm $U .*\)\$/\1 6%/" "$tmp/base" >"$tmp/base6"
"$bench" cost-check "$tmp/base6" "$R" >"$tmp/out" 2>&1
ok $? "a line with 6% accepts the 5% growth"
grep -q "^ok   bookworm $U: .*: +5.00% (tolerance 6.00%)\$" "$tmp/out"; ok $? "and shows that tolerance"
cp "tests/fixtures/bench/run-icount/$U.run.json" "$R/"

# a handshake row regression fails too
scale "$H" 1.05
"$bench" cost-check "$tmp/base" "$R" >/dev/null 2>&1
is "$?" 1 "a 5% handshake regression: exit 1"
cp "tests/fixtures/bench/run-icount/$H.run.json" "$R/"

# a baseline row the run lacks fails; other kernels' lines are ignored
{ cat "$tmp/base"; echo "bookworm bulk-13-nothing 3.1 byte"; echo "trixie-backports $U 1 byte"; } >"$tmp/base2"
"$bench" cost-check "$tmp/base2" "$R" >"$tmp/out" 2>&1
is "$?" 1 "a missing row: exit 1"
grep -q '^FAIL bookworm bulk-13-nothing: no such row in ' "$tmp/out"; ok $? "the missing row is named"
grep -q "trixie-backports" "$tmp/out"; is "$?" 1 "a line of a kernel not run is not checked"

# a kTLS row that was not offloaded fails: its count is not shown as one
jq '.instructions.tls_stat_delta.TlsTxSw = 0' "tests/fixtures/bench/run-icount/$K.run.json" >"$R/$K.run.json"
"$bench" cost-check "$tmp/base" "$R" >"$tmp/out" 2>&1
is "$?" 1 "a kTLS row without tls_stat growth: exit 1"
grep -q "^FAIL bookworm $K: not counted: not offloaded: /proc/net/tls_stat TlsTxSw" "$tmp/out"; ok $? "named as a silent fallback"
cp "tests/fixtures/bench/run-icount/$K.run.json" "$R/"

# usage errors: exit 2 with the cause
echo "bookworm $U lots byte" >"$tmp/bad"
"$bench" cost-check "$tmp/bad" "$R" >/dev/null 2>"$tmp/err"
is "$?" 2 "a malformed baseline line: exit 2"
grep -q 'is no "KERNEL STEM COUNT handshake|byte \[PCT%\]" line' "$tmp/err"; ok $? "the line is quoted with the format"
echo "bookworm $U 3.3 byte 5" >"$tmp/bad"
"$bench" cost-check "$tmp/bad" "$R" >/dev/null 2>&1
is "$?" 2 "a tolerance without % : exit 2"
"$bench" cost-check "$tmp/base" tests/fixtures/bench/run-a >/dev/null 2>"$tmp/err"
is "$?" 2 "a run that counted time: exit 2"
grep -q 'is no instruction-count run' "$tmp/err"; ok $? "says it is no instruction-count run"
"$bench" cost-check --tolerance x "$tmp/base" "$R" >/dev/null 2>&1
is "$?" 2 "--tolerance x: exit 2"

done_testing

#!/bin/bash
# tests/vm/run.sh, the in-VM runner, on made-up test files (no kernel needed):
# one valid TAP stream (checked with Perl's TAP::Parser), renumbered, names
# prefixed with the file, and a failing test for each file that dies, times
# out, stops short of its plan, or bails out.
. "$(dirname "$0")/../lib.sh"
RUN=$(cd "$(dirname "$0")/.." && pwd)/vm/run.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

t() { cat >"$tmp/$1"; }
t a-good.t <<'EOF'
echo "ok 1 - first"
echo "ok 2 second"
echo "# a comment"
echo "ok 3 # SKIP not here"
echo "1..3"
EOF
t b-fail.t <<'EOF'
echo "1..2"
echo "ok 1 - fine"
echo "not ok 2 - broken"
echo "#   got: 1"
exit 1
EOF
t c-short.t <<'EOF'
echo "1..3"
echo "ok 1 - only one"
EOF
t d-noplan.t <<'EOF'
echo "ok 1 - then died"
exit 3
EOF
t e-slow.t <<'EOF'
# timeout: 1
echo "ok 1 - before sleeping"
sleep 30
echo "1..1"
EOF
t f-skipall.t <<'EOF'
echo "1..0 # SKIP nothing to do here"
EOF
t g-bail.t <<'EOF'
echo "1..2"
echo "ok 1"
echo "Bail out! cannot go on"
EOF
t h-noise.t <<'EOF'
echo "okay this is not a test line"
echo "stray output" >&2
echo "ok 1 - real"
echo "1..1"
EOF
t i-exit.t <<'EOF'
echo "ok 1 - passes"
echo "1..1"
exit 4
EOF

t0=$SECONDS
KTLS_IN_VM=testkernel "$RUN" "$tmp"/*.t >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 1 "exit status 1 when something failed"
ok "$( ((SECONDS - t0 < 20)); echo $?)" "the slow file was cut at its own 1 s timeout ($((SECONDS - t0)) s in all)"
sed 's/^/# | /' "$tmp/out"

# The stream as TAP::Parser reads it: an independent check of its validity.
read -r planned run passed failed skipped valid < <(perl -MTAP::Parser -e '
	open(my $fh, "<", $ARGV[0]) or die; my $p = TAP::Parser->new({ tap => do { local $/; <$fh> } });
	1 while $p->next;
	my $valid = ($p->parse_errors ? 0 : 1);
	print join(" ", $p->tests_planned // -1, $p->tests_run, scalar($p->passed) - scalar($p->skipped),
		scalar $p->failed, scalar $p->skipped, $valid), "\n";
	print STDERR "parse error: $_\n" for $p->parse_errors;' "$tmp/out")
is "$valid" 1 "one valid TAP stream"
is "$planned" "$run" "the plan matches the tests run ($run)"
is "$(tail -n 1 "$tmp/out")" "1..$run" "the plan comes last"
is "$(grep -E '^(not )?ok ' "$tmp/out" | awk '{ n = ($1 == "not") ? $3 : $2; if (n != NR) bad = 1 } END { print bad + 0 }')" 0 \
	"numbered 1..N in order"
# a: 2 passed, 1 skip; b: 1+1 fail; c: 1 + short; d: 1 + no plan; e: 1 + timeout;
# f: skip; g: 1 + bail; h: 1; i: 1 + exit status.
is "$passed $failed $skipped" "9 6 2" "passed, failed, skipped"

has() { grep -qE "$1" "$tmp/out"; ok $? "$2"; }
has '^ok [0-9]+ - a-good\.t: first$' "names are prefixed with the file"
has '^ok [0-9]+ - a-good\.t: second$' "a name without a dash is kept"
has '^ok [0-9]+ - a-good\.t: test 3 # SKIP not here$' "a skip keeps its directive"
has '^# a comment$' "comments pass through"
has '^not ok [0-9]+ - b-fail\.t: broken$' "a failing test fails"
has '^#   got: 1$' "its diagnostics pass through"
has '^not ok [0-9]+ - c-short\.t: planned 3 tests but ran 1' "a file that stops short of its plan fails"
has '^not ok [0-9]+ - d-noplan\.t: ended without a plan \(exit status 3\)' "a file without a plan fails"
has '^not ok [0-9]+ - e-slow\.t: timed out after 1s' "a file past its timeout fails"
has '^ok [0-9]+ - f-skipall\.t # SKIP nothing to do here$' "skip_all becomes one skip"
has '^not ok [0-9]+ - g-bail\.t: Bail out! cannot go on' "a bail-out fails its file only"
has '^# h-noise\.t\| okay this is not a test line$' "non-TAP output becomes a comment"
has '^# h-noise\.t\| stray output$' "stderr becomes a comment"
has '^not ok [0-9]+ - i-exit\.t: exited with status 4' "a non-zero exit with no failure fails"
has '^# b-fail\.t: 1 passed, 1 failed, 0 skipped' "a summary per file"
has '^# testkernel \([^)]*\): 9 passed, 6 failed, 2 skipped in 9 files' "a summary for the kernel"

# Selection, and nothing to run.
KTLS_VM_FILTER='^a-' "$RUN" "$tmp"/*.t >"$tmp/out2"; rc=$?
is "$rc" 0 "KTLS_VM_FILTER=^a- runs only a-good.t (which passes)"
is "$(grep -c '^ok ' "$tmp/out2")" 3 "and its 3 tests"
KTLS_VM_FILTER='^nothing' "$RUN" "$tmp"/*.t >"$tmp/out3"; rc=$?
is "$rc" 1 "a filter that matches nothing fails"
ok "$(grep -q '^not ok 1 - no tests/vm/\*.t to run' "$tmp/out3"; echo $?)" "and says so"

# The kernel log: a BUG/WARNING/Oops logged while a file runs fails that file
# (one from before it does not), read through KTLS_VM_DMESG (here a file the
# made-up tests append to, as the kernel would).
mkdir -p "$tmp/k"
klog=$tmp/klog
printf '[    1.0] WARNING: CPU: 0 PID: 1 at boot (before the tests)\n' >"$klog"
cat >"$tmp/k/k1-clean.t" <<EOF2
echo "[    2.0] tls: loaded" >>"$klog"
echo "ok 1 - quiet"
echo "1..1"
EOF2
cat >"$tmp/k/k2-warn.t" <<EOF2
echo "[    3.0] WARNING: CPU: 1 PID: 42 at net/tls/tls_sw.c:1234 tls_sw_recvmsg" >>"$klog"
echo "ok 1 - passes, but the kernel warned"
echo "1..1"
EOF2
cat >"$tmp/k/k3-oops.t" <<EOF2
echo "[    4.0] BUG: kernel NULL pointer dereference, address: 0000000000000008" >>"$klog"
echo "[    4.1] Oops: 0002 [#1] PREEMPT SMP" >>"$klog"
echo "ok 1 - passes, but the kernel oopsed"
echo "1..1"
EOF2
KTLS_VM_DMESG="cat $klog" KTLS_VM_PREV="k1-clean.t:7,k2-warn.t:x,junk" "$RUN" "$tmp"/k/*.t >"$tmp/kout" 2>&1
rc=$?
sed 's/^/# | /' "$tmp/kout"
is "$rc" 1 "a kernel warning during a file fails the run"
has2() { grep -qE "$1" "$tmp/kout"; ok $? "$2"; }
has2 '^ok [0-9]+ - k1-clean\.t: quiet$' "a file with a quiet kernel passes (the warning from before it does not count)"
ok "$(! grep -q '^not ok.*k1-clean' "$tmp/kout"; echo $?)" "and nothing fails it"
has2 '^not ok [0-9]+ - k2-warn\.t: the kernel logged 1 BUG/WARNING/Oops line\(s\) while it ran$' "a WARNING: line fails its file"
has2 '^#   kernel\| \[    3\.0\] WARNING: CPU: 1 PID: 42 at net/tls/tls_sw\.c:1234' "and the line is shown"
has2 '^not ok [0-9]+ - k3-oops\.t: the kernel logged 2 BUG/WARNING/Oops line\(s\) while it ran$' "BUG: and Oops fail their file"
has2 '^# k2-warn\.t: 1 passed, 1 failed, 0 skipped' "the file's summary counts the failure"
# Durations: the previous run's next to this one's.
has2 '^# k1-clean\.t: 1 passed, 0 failed, 0 skipped \([0-9]+ s, previous 7 s\)$' "the previous duration next to the current one"
has2 '^# k2-warn\.t: .* \([0-9]+ s, previous \? s\)$' "an unknown previous duration is a question mark"
KTLS_VM_DMESG=false "$RUN" "$tmp"/k/k1-clean.t >"$tmp/kout2" 2>&1
is "$?" 0 "a kernel log that cannot be read fails nothing"
grep -q "^# the kernel log could not be read ('false' failed): BUG/WARNING/Oops not checked$" "$tmp/kout2"
ok $? "but says it was not checked"

# The launcher keeps the durations in build/ (tests/ktls/durations.sh).
. "$(dirname "$0")/../ktls/durations.sh"
durs=$tmp/durations/test.tsv
is "$(durations_prev "$durs")" "" "no record yet: no previous durations"
printf 'old.t 9\nk1-clean.t 99\n' >"$tmp/old.tsv"; mkdir -p "$tmp/durations"; cp "$tmp/old.tsv" "$durs"
durations_save "$tmp/kout" "$durs"
is "$(durations_prev "$durs")" "$(sed -nE 's/^# (k[0-9]-[a-z]+\.t): .* \(([0-9]+) s, .*/\1:\2/p' "$tmp/kout" |
	cat - <(echo old.t:9) | sort | paste -sd,)" "saved: this run's durations, and the old entry of a file it did not run"

# tests/run (host and launcher files) does the same in its closing table.
mkdir -p "$tmp/b" "$tmp/r"
printf 'echo "ok 1 - one"\necho "1..1"\n' >"$tmp/r/x.t"
TESTS_RUN=$(cd "$(dirname "$0")/.." && pwd)/run
KTLS_BUILD=$tmp/b "$TESTS_RUN" "$tmp/r/x.t" >"$tmp/r1" 2>&1
grep -qE "x\.t +1 passed, 0 failed, 0 skipped  \([0-9]+ s, previous \?\)$" "$tmp/r1"; ok $? "tests/run: a first run has no previous duration"
KTLS_BUILD=$tmp/b "$TESTS_RUN" "$tmp/r/x.t" >"$tmp/r2" 2>&1
grep -qE "x\.t +1 passed, 0 failed, 0 skipped  \([0-9]+ s, previous [0-9]+ s\)$" "$tmp/r2"; ok $? "tests/run: the next one shows it"
grep -q "x\.t	[0-9.]*$" "$tmp/b/test-durations.tsv"; ok $? "kept in \$KTLS_BUILD/test-durations.tsv"
done_testing

#!/bin/bash
# The report section "Instruction counts (QEMU icount)" of a --clock
# instructions run (tests/fixtures/bench/run-icount, a real bookworm guest
# run, plus planted rows): counts per handshake and per byte, the kTLS/user,
# ours/nginx and floor ratios computed here with jq, units in instructions
# (no time units), and rows outside their bounds held back with the reason.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

bench=$KTLS_BIN/ktls-bench
[[ -x $bench ]] || skip_all "$bench not built"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r tests/fixtures/bench/run-icount "$tmp/run"
R=$tmp/run F=tests/fixtures/bench/run-icount
U=bulk-13-aes-128-gcm-user-4m-c1-ecdsa-p256-x25519
K=bulk-13-aes-128-gcm-ktls-4m-c1-ecdsa-p256-x25519
H=hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1

# An nginx twin of the userspace bulk row, 10% dearer than ours.
jq '.peer = "nginx" | del(.server_json) | .client_json = "'$U'.nginx.client.json"
	| .instructions.total = (.instructions.total * 1.1 | round)
	| .instructions.user = (.instructions.user * 1.1 | round)
	| .instructions.kernel = .instructions.total - .instructions.user' "$F/$U.run.json" >"$R/$U.nginx.run.json"
cp "$F/$U.client.json" "$R/$U.nginx.client.json"
# The user row as if it had run 100 ticks (its split is then shown); the
# fixture's rows ran fewer (their split is not: —).
jq '.instructions.split_ticks = 100' "$F/$U.run.json" >"$R/$U.run.json"

"$bench" report "$R" >/dev/null 2>"$tmp/err"
ok $? "report renders the instruction-count run"
M=$R/report.md
sec=$(sed -n '/^## Instruction counts (QEMU icount)$/,/^## /p' "$M")
[[ -n $sec ]]; ok $? "the section \"Instruction counts (QEMU icount)\" is there"

per() { # ROW-FILE CLIENT-FILE FIELD UNIT-KEY
	jq -r --slurpfile c "$2" ".instructions.$3 / \$c[0].$4" "$1"
}
f3() { printf '%.3f' "$1"; }
group() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }

u=$(per "$R/$U.run.json" "$F/$U.client.json" total bytes)
uu=$(per "$R/$U.run.json" "$F/$U.client.json" user bytes)
uk=$(per "$R/$U.run.json" "$F/$U.client.json" kernel bytes)
k=$(per "$R/$K.run.json" "$F/$K.client.json" total bytes)
n=$(per "$R/$U.nginx.run.json" "$F/$U.client.json" total bytes)
aead=$(jq -r '1e9 / .aead["AES-128-GCM"].bytes_per_s' "$F/ceiling.json")

grep -qF "| TLS 1.3 AES-128-GCM 4m user | ktls-server | $(f3 "$uu") | $(f3 "$uk") | $(f3 "$u") | — | $(ratio "$u" "$n") | $(ratio "$u" "$aead") | TlsTxSw+Device +0 (none: userspace) |" <<<"$sec"
ok $? "user bulk row: $(f3 "$u") = $(f3 "$uu") user + $(f3 "$uk") kernel, ours/nginx $(ratio "$u" "$n"), $(ratio "$u" "$aead") of the AEAD floor"
grep -qF "| TLS 1.3 AES-128-GCM 4m ktls | ktls-server | " <<<"$sec" &&
	grep -F "| TLS 1.3 AES-128-GCM 4m ktls | ktls-server | " <<<"$sec" | grep -qF "| $(f3 "$k") | $(ratio "$k" "$u") | — | $(ratio "$k" "$aead") | TlsTxSw+Device +1 (offloaded) |"
ok $? "kTLS bulk row: $(f3 "$k") per byte, kTLS/user $(ratio "$k" "$u"), the offload proven by tls_stat"
grep -qF "| TLS 1.3 AES-128-GCM 4m user | nginx | — | — | $(f3 "$n") | " <<<"$sec"; ok $? "nginx's row is listed, its split (10 ticks) not shown"
h=$(per "$R/$H.run.json" "$F/$H.client.json" total handshakes)
hf=$(jq -r '1e9 * (1 / .sign["ecdsa-p256"].per_s + 2 / .kex.X25519.per_s)' "$F/ceiling.json")
grep -qF "| TLS 1.3 ecdsa-p256 X25519 full | ktls-server | " <<<"$sec" &&
	grep -F "| TLS 1.3 ecdsa-p256 X25519 full |" <<<"$sec" | grep -qF "| $(group "$h") | — | — | $(ratio "$h" "$hf") |"
ok $? "handshake row: $(group "$h") instructions per handshake, $(ratio "$h" "$hf") of the public-key floor"

# units: instructions, never time
grep -q 'count of \*\*instructions\*\*' <<<"$sec"; ok $? "the unit is named: instructions"
grep -qE '(^|[^a-z])(ns|µs|us|ms)([^a-z]|$)|MB/s' <<<"$sec"; is "$?" 1 "no time unit in the section"
grep -q 'instructions are not time' <<<"$sec"; ok $? "says instructions are not time"
grep -q '^## The machine' "$M" && ! grep -qE '^## (Bulk|Handshakes)|[^a-z]ns per byte|µs' "$M"
ok $? "no timing section in an instruction-count report"

# bounds, before any figure is printed
jq '.instructions.user += 5' "$R/$U.run.json" >"$tmp/x" && mv "$tmp/x" "$R/$U.run.json"
jq '.instructions.total = 1000 | .instructions.user = 0 | .instructions.kernel = 1000' "$F/$K.run.json" >"$R/$K.run.json"
"$bench" report "$R" >/dev/null 2>&1
is "$?" 1 "report exits 1 when rows break their bounds"
sec=$(sed -n '/^## Instruction counts (QEMU icount)$/,/^## /p' "$M")
grep -q '^| TLS 1.3 AES-128-GCM 4m user | ktls-server | — | — | — | — | — | — | not shown: user [0-9]* + kernel [0-9]* != total [0-9]* instructions |$' <<<"$sec"
ok $? "user + kernel != total: the row is held back"
grep -q '^| TLS 1.3 AES-128-GCM 4m ktls | ktls-server | — | .* | not shown: .* below the AES-128-GCM floor of ' <<<"$sec"
ok $? "below the AEAD floor: the row is held back"
grep -q '^| icount |' "$M" || grep -q 'icount' <(sed -n '/^## Consistency checks/,/^## /p' "$M"); ok $? "the consistency checks list them"
cp "$F/$U.run.json" "$F/$K.run.json" "$R/"
jq '.instructions.tls_stat_delta.TlsTxSw = 0' "$F/$K.run.json" >"$R/$K.run.json"
"$bench" report "$R" >/dev/null 2>&1
grep -q '^| TLS 1.3 AES-128-GCM 4m ktls | .* not shown: not offloaded: /proc/net/tls_stat TlsTxSw and TlsTxDevice did not grow (a silent fallback' "$M"
ok $? "a kTLS row whose tls_stat did not grow is a silent fallback, not a count"
# a part of the split that rests on fewer than 3 tick samples is marked °
cp "$F/$K.run.json" "$R/"
jq '.instructions.split_ticks = 22 | .instructions.user = .instructions.total | .instructions.kernel = 0' \
	"$F/$U.run.json" >"$R/$U.run.json"
"$bench" report "$R" >/dev/null 2>&1
grep -qF "| TLS 1.3 AES-128-GCM 4m user | ktls-server | $(f3 "$u") | 0.000° | $(f3 "$u") | " "$M"
ok $? "kernel 0 of 22 samples: shown as 0.000°, user unmarked"
grep -q 'A part marked ° rests on fewer than 3 of those steps' "$M"; ok $? "and the section says what ° means"
jq '.instructions.split_ticks = 22 | .instructions.user = (.instructions.total * 0.9 | round)
	| .instructions.kernel = .instructions.total - .instructions.user' "$F/$U.run.json" >"$R/$U.run.json"
"$bench" report "$R" >/dev/null 2>&1
is "$(grep -F "| TLS 1.3 AES-128-GCM 4m user | ktls-server | " "$M" | awk -F' [|] ' '{ print ($3 ~ /°/) ($4 ~ /°/) }')" 01 \
	"a part of 2.2 of 22 samples is marked (kernel), of 19.8 not (user)"
# N bytes of responses cannot leave in fewer than N / 64 KiB TCP segments
cp "$F/$K.run.json" "$R/"
ub=$(jq .bytes "$F/$U.client.json")
jq --argjson s $((ub / 65536 - 1)) '.instructions.tcp_out_segs = $s' "$F/$U.run.json" >"$R/$U.run.json"
"$bench" report "$R" >/dev/null 2>&1
grep -q "^| TLS 1.3 AES-128-GCM 4m user | .* not shown: $ub response bytes in $((ub / 65536 - 1)) TCP segments: more than 65536 bytes a segment |\$" "$M"
ok $? "more than 64 KiB a TCP segment: the row is held back"
jq --argjson s $((ub / 65536)) '.instructions.tcp_out_segs = $s' "$F/$U.run.json" >"$R/$U.run.json"
"$bench" report "$R" >/dev/null 2>&1
grep -q '^| TLS 1.3 AES-128-GCM 4m user | .* not shown' "$M"; is "$?" 1 "exactly 64 KiB a segment passes"

# no plot named when none was drawn
grep -q 'plots/' "$M"; is "$?" 1 "no plot is named (none was drawn)"

# --clock instructions only where the clock counts instructions
env -u KTLS_VM_ICOUNT "$bench" run --clock instructions --scenario 'bulk size=4M count=1' --out "$tmp/no" \
	>/dev/null 2>"$tmp/err"
is "$?" 2 "--clock instructions outside an icount guest: exit 2"
grep -q 'this clock counts time, not instructions .*scripts/vm.sh --icount' "$tmp/err"; ok $? "and names the cause and the fix"
[[ ! -e $tmp/no ]]; ok $? "no run folder written"
"$bench" run --clock cycles --scenario 'bulk size=4M' --out "$tmp/no" >/dev/null 2>"$tmp/err"
is "$?" 2 "--clock cycles: exit 2"
"$bench" run --clock instructions --scenario 'bulk size=4M count=3' -n 2>&1 | grep -q -- '--requests 3 --duration 600s'
ok $? "count=3: the client makes 3 requests (duration is only a cap)"

# make bench on a host without kTLS: a time-measured run with the counts of
# scripts/cost.sh in its cost/bookworm/ gains the section, after its own
cp -r tests/fixtures/bench/run-a "$tmp/main"
mkdir -p "$tmp/main/cost" && cp -r "$F" "$tmp/main/cost/bookworm"
"$bench" report "$tmp/main" >/dev/null 2>&1
grep -q '^## Instruction counts (QEMU icount)$' "$tmp/main/report.md"; ok $? "a run with cost/bookworm/ shows the section"
grep -q '^(From the run folder cost/bookworm/, made by `scripts/cost.sh`.)$' "$tmp/main/report.md"; ok $? "naming the folder it comes from"
grep -qF "| TLS 1.3 AES-128-GCM 4m ktls | ktls-server | " "$tmp/main/report.md"; ok $? "with its kTLS row"
cp -r tests/fixtures/bench/run-a "$tmp/plain"
"$bench" report "$tmp/plain" >/dev/null 2>&1
grep -q 'Instruction counts' "$tmp/plain/report.md"; is "$?" 1 "a run without cost/ has no such section"

# The closing sentence says how far the bulk rows repeat, by the run's
# receive-buffer setting (env.json tcp_buffers): fixed at the 512 KiB
# scripts/cost.sh sets, fixed at another size, or autotuning
for v in "0 524288" "0 131072" "1 131072"; do
	d=$tmp/tune-${v// /-}
	cp -r "$F" "$d"
	jq --arg m "${v% *}" --arg r "4096 ${v#* } 6291456" \
		'.tcp_buffers = {"net.ipv4.tcp_moderate_rcvbuf": $m, "net.ipv4.tcp_rmem": $r}' "$F/env.json" >"$d/env.json"
	"$bench" report "$d" >/dev/null 2>&1
done
grep -q "This run's receive buffers were fixed at 512 KiB (no autotuning), so the segments repeat" \
	"$tmp/tune-0-524288/report.md"; ok $? "fixed at 512 KiB: the rows repeat"
grep -q "fixed at 128 KiB (no autotuning), not at the 512 KiB .scripts/cost.sh. sets. Measured: with 128 KiB, .* nginx's bulk rows moved by up to 4%" \
	"$tmp/tune-0-131072/report.md"; ok $? "fixed at 128 KiB: the sentence names the size and how far rows moved at it"
grep -q "This run's receive buffers grew by autotuning" "$tmp/tune-1-131072/report.md"; ok $? "autotuning: rows vary"
grep -q "receive buffers were fixed" "$tmp/tune-1-131072/report.md"; is $? 1 "and no fixed-buffer sentence"
grep -q 'tcp_rmem=4096 524288 524288' scripts/cost.sh; ok $? "scripts/cost.sh fixes the 512 KiB the report's sentence assumes (COST_RCVBUF)"
grep -q "does not record whether its receive buffers were fixed" "$R/report.md"; ok $? "a run without the setting says it is unknown"

# scripts/cost.sh's own usage errors: exit 2 with the cause, before any guest
out=$(scripts/cost.sh --jobs 2>&1); st=$?
is "$st" 2 "cost.sh --jobs without a value: usage error"
[[ $out == *"option '--jobs' needs a value"* ]]; ok $? "naming the option (not a shell error)"
out=$(scripts/cost.sh --kernel , 2>&1); st=$?
is "$st" 2 "cost.sh --kernel with no name: usage error"
[[ $out == *"no kernel named"* ]]; ok $? "saying so"
out=$(scripts/cost.sh --jobs 0 2>&1); st=$?
is "$st" 2 "cost.sh --jobs 0: usage error"

done_testing

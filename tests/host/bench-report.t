#!/bin/bash
# ktls-bench report / plotdata / compare on the fixture run folders
# (tests/fixtures/bench/run-{a,b}); the expected figures are computed here
# from the same JSON with jq, independently of the C code.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

bench=$KTLS_BIN/ktls-bench
[[ -x $bench ]] || skip_all "$bench not built"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r tests/fixtures/bench/run-a tests/fixtures/bench/run-b "$tmp/"
A=$tmp/run-a B=$tmp/run-b

# --- report -------------------------------------------------------------------
check "report renders run-a" "$bench" report "$A"
R=$A/report.md
ok "$([[ -s $R ]]; echo $?)" "report.md written"
is "$(sed -n 3p "$R" | cut -c1-30)" "> **This kernel (6.1.0-fixture" "no-kTLS banner on top, naming the kernel"
grep -q 'modprobe tls' "$R"; ok $? "the banner gives the fix"
nrun=$(ls "$A"/*.run.json | wc -l)
nvmr=$(jq -s '[.[] | select(.emulated)] | length' "$A"/*.run.json)
nbad=$(jq -s '[.[] | select(.ok | not)] | length' "$A"/*.run.json)
grep -q "| run | suite quick: $nrun scenario runs ($nvmr in the VM), $nbad failed |" "$R"; ok $? "counts of runs, VM runs, failures"

# every native handshake row of ours: server µs per handshake = server_cpu_s / client handshakes
for f in "$A"/hs-*.run.json; do
	[[ $f == *.nginx.run.json ]] && continue
	stem=$(basename "$f" .run.json)
	conns=$(jq -r '.scenario.line' "$f" | sed 's/.*conns=\([0-9]*\).*/\1/')
	us=$(jq -r --slurpfile c "$A/$stem.client.json" '.server_cpu_s * 1e6 / $c[0].handshakes' "$f")
	want=$(printf '%.0f' "$us")
	grep -Eq "^\| [0-9.]+ \| [a-z0-9-]+ \| [A-Z0-9-]+ \| (full|resumed) \| 1 \| $conns \| [0-9,]+ \| [0-9]+% \| $want \|" "$R"
	ok $? "$stem: $want µs of server CPU per handshake"
done

# the ratio to the ceiling of the TLS 1.3 ECDSA c1 row: (1/sign + 2/kex) / measured
floor=$(jq -r '1e6 / .sign["ecdsa-p256"].per_s + 2e6 / .kex.X25519.per_s' "$A/ceiling.json")
meas=$(jq -r --slurpfile c "$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.client.json" \
	'.server_cpu_s * 1e6 / $c[0].handshakes' "$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.run.json")
ratio=$(awk -v f="$floor" -v m="$meas" 'BEGIN { printf "%.2f", f / m }')
grep -q "| 1 | 2000 | [0-9]*% | $(printf '%.0f' "$meas") | $(printf '%.0f' "$floor") | ${ratio}× |" "$R"
ok $? "handshake row shows its floor ($floor µs) and ratio to ceiling ($ratio)"

# the server's CPU share of one core over the client's run
f=$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16
pct=$(jq -r --slurpfile c "$f.client.json" '.server_cpu_s * 100 / $c[0].duration_s' "$f.run.json")
grep -q "| full | 1 | 16 | 4000 | $(printf '%.0f' "$pct")% |" "$R"; ok $? "server CPU share $pct% shown"

# saturation: the c16 row's server (98%) and nginx (99%) were busy enough, the
# c1 row's server (50%) was not, and the footnote says what that means
grep -q '^| 1.3 | ecdsa-p256 | X25519 | full | 1 | 16 | .*| yes (nginx 99%) |$' "$R"; ok $? "c16: ours and nginx saturated"
grep -q '^| 1.3 | ecdsa-p256 | X25519 | full | 1 | 1 | .*| no† |$' "$R"; ok $? "c1: a server busy 50% of the time is flagged"
grep -q '^† The server (ours, or nginx in brackets) was busy less than 90%' "$R"; ok $? "the flag is explained under the table"

# a run whose server CPU was also busy with other work is marked, and the
# report says so on top; runs without the figure are not. The share is of
# the window the CPU samples were taken over (here 1.5 s, while the client
# measured 1.0 s): server 0.9 s + other work 0.6 s fill that window.
cp -r "$A" "$tmp/dis"
f=$tmp/dis/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.run.json
jq '.server_cpu_s = 0.9 | .server_cpu_other_s = 0.6 | .server_cpu_window_s = 1.5' "$f" >"$f.new" && mv "$f.new" "$f"
"$bench" report "$tmp/dis" >/dev/null
is $? 0 "a disturbed but possible run passes the consistency checks"
grep -q '^| 1.3 | ecdsa-p256 | X25519 | full | 1 | 16 | .*| yes (nginx 99%), CPU shared‡ 40% |$' "$tmp/dis/report.md"
ok $? "a server CPU shared 40% of the time with other work is marked"
grep -q '^> \*\*1 of 1 runs shared the server.s CPU with other work\*\*.*up to 40%' "$tmp/dis/report.md"
ok $? "the report warns on top"
grep -q 'CPU shared‡\|shared the server' "$R"; ok $((!$?)) "no such mark without the figure"
# ... and marked on the plot: flag 2 (disturbed) on that point, 1 (not saturated) on c1
"$bench" plotdata "$tmp/dis" >/dev/null
blk=$(awk '/^"TLS 1.3 ecdsa-p256 X25519 full, 1 thread"/ { on = 1; next } /^$/ { on = 0 } on' \
	"$tmp/dis/plots/handshakes.dat" | tr '\n' ' ')
is "$blk" "1 2000.000 1 16 4000.000 2 " "plot data: the disturbed point flagged 2, the unsaturated one 1"
if command -v gnuplot >/dev/null; then
	scripts/plot.sh "$tmp/dis" >/dev/null 2>&1
	grep -q 'disturbed (other work' "$tmp/dis/plots/handshakes.svg"; ok $? "the plot's legend names the disturbed mark"
	grep -q 'server not saturated' "$tmp/dis/plots/handshakes.svg"; ok $? "and the unsaturated one"
else
	skip "gnuplot missing (apt-get install gnuplot-nox)" 2
fi
# a run from before server_cpu_window_s: the window is wall_s minus the
# warmup, not the client's duration ("CPU shared 114%" was other / duration)
f=$tmp/dis/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.run.json
jq 'del(.server_cpu_window_s) | .wall_s = 1.2 | .server_cpu_s = 0.05 | .server_cpu_other_s = 1.14' "$f" >"$f.new" && mv "$f.new" "$f"
"$bench" report "$tmp/dis" >/dev/null 2>&1
grep -q 'CPU shared‡ 95%' "$tmp/dis/report.md"; ok $? "other work 1.14 s in a 1.2 s window is 95%, not 114%"
grep -q 'CPU shared‡ 1[0-9][0-9]%' "$tmp/dis/report.md"; ok $((!$?)) "no share above 100%"
# the same figures are impossible when the server was busy meanwhile
jq '.server_cpu_s = 0.9' "$f" >"$f.new" && mv "$f.new" "$f"
out=$("$bench" report "$tmp/dis" 2>&1); rc=$?
is "$rc" 1 "a CPU busier than 100% fails the report (exit 1)"
grep -q 'fails the consistency checks' <<<"$out"; ok $? "and says so on stderr: $out"
grep -q '^| hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16 | ktls-server | cpu_busy: the server.s CPU was busy 2.04 s (server 0.90 s + other work 1.14 s) in 1.20 s |$' \
	"$tmp/dis/report.md"; ok $? "the checks table names the row, the bound and the figures"
grep -q '^| 1.3 | ecdsa-p256 | X25519 | full | 1 | 16 | .* ✗ |$' "$tmp/dis/report.md"; ok $? "the row is marked ✗"
grep -q "^> \\*\\*1 of $nrun scenario runs fail the consistency checks\\*\\*" "$tmp/dis/report.md"; ok $? "a warning on top"

# ours/nginx on the c16 row
o=$(jq -r --slurpfile c "$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.client.json" '.server_cpu_s / $c[0].handshakes' \
	"$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.run.json")
n=$(jq -r --slurpfile c "$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.nginx.client.json" '.server_cpu_s / $c[0].handshakes' \
	"$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.nginx.run.json")
r=$(awk -v o="$o" -v n="$n" 'BEGIN { printf "%.2f", o / n }')
grep -q "| ${r}× | saturated |" "$R"; ok $? "ours/nginx ratio $r and the saturated client flagged"

# bulk rows: ns/B = server_cpu_s * 1e9 / bytes, and the AEAD floor ratio
for stem in bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519 bulk-13-chacha20-poly1305-user-1m-c1-ecdsa-p256-x25519; do
	ns=$(jq -r --slurpfile c "$A/$stem.client.json" '.server_cpu_s * 1e9 / $c[0].bytes' "$A/$stem.run.json")
	cipher=$(jq -r '.scenario.line' "$A/$stem.run.json" | sed 's/.*cipher=\([A-Z0-9-]*\).*/\1/')
	fl=$(jq -r --arg c "$cipher" '1e9 / .aead[$c].bytes_per_s' "$A/ceiling.json")
	want=$(printf '%.3f' "$ns")
	rat=$(awk -v f="$fl" -v m="$ns" 'BEGIN { printf "%.2f", f / m }')
	grep -q "| $cipher | user | 1 MiB | 1 | [0-9.]* | [0-9]*% | $want | [0-9.—]* | $(printf '%.3f' "$fl") | ${rat}× |" "$R"
	ok $? "$stem: $want ns/B, floor ratio $rat"
done
cyc=$(jq -r --slurpfile c "$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json" \
	'.server_cycles / $c[0].bytes' "$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.run.json")
grep -q "| $(printf '%.2f' "$cyc") |" "$R"; ok $? "cycles per byte from perf shown ($cyc)"

# every VM row is labelled, and no VM row claims a ceiling ratio
nvm=$(jq -s '[.[] | select(.where == "vm" and .scenario.kind != "handshake")] | length' "$A"/*.run.json)
is "$(grep -c '| VM: emulated (TCG): correctness only, not performance |$' "$R")" "$nvm" "all $nvm VM rows labelled emulated"
is "$(grep '| VM: emulated' "$R" | grep -c '×')" 0 "VM rows show no ratio at all (no timing from the VM)"
grep -q '| requests | bytes verified | client errors | kTLS offloads |' "$R"; ok $? "VM table lists what was verified"
vmb=$(jq -r '.bytes' "$A/bulk-13-aes-128-gcm-ktls-1m-c1-ecdsa-p256-x25519.vm.client.json")
vmb=$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$vmb")   # thousands separated, as printed
grep -q "| 1.3 | AES-128-GCM | ktls | 1 MiB | 1 | [0-9,]* | $vmb | 0 | 1 | 0 | ok | VM: emulated" "$R"
ok $? "VM kTLS row: bytes verified ($vmb) and one offload, no timing"
grep -q 'kTLS\*\* rows ran only in the VM' "$R"; ok $? "the text says kTLS was only measured in the VM"

# failures, hyperfine, advice
grep -q '| bulk-13-aes-256-gcm-user-64m-c1-ecdsa-p256-x25519 | ktls-server | ktls-client exited with status 1' "$R"
ok $? "failed scenario listed with its error"
mean=$(jq -r '.results[0].mean' "$A/hyperfine-13-aes-128-gcm-user-16m-ecdsa-p256-x25519.hyperfine.json")
hr=$(jq -r --argjson m "$mean" '16777216 / $m / .aead["AES-128-GCM"].bytes_per_s' "$A/ceiling.json")
hrs=$(awk -v r="$hr" 'BEGIN { printf(r < 0.1 ? "%.3f" : "%.2f", r) }')  # three decimals below 0.1
grep -q "| user | 16 MiB | $(printf '%.3f' "$mean") | [0-9.]* | [0-9.]* | ${hrs}× |" "$R"
ok $? "hyperfine mean $mean s and its ratio to the AEAD ceiling $hr"
grep -q 'Cheapest per byte here: AES-128-GCM' "$R"; ok $? "cipher advice names the cheapest AEAD"
grep -q 'ChaCha20-Poly1305 costs 2.0× AES-128-GCM' "$R"; ok $? "ChaCha20 vs AES-GCM ratio from the ceiling"
grep -q 'AES-NI \*\*yes\*\*' "$R"; ok $? "AES-NI presence stated"
# the cipher table: each "vs cheapest" column divides its own column
nsb() { jq -r --slurpfile c "$A/$1.client.json" '.server_cpu_s * 1e9 / $c[0].bytes' "$A/$1.run.json"; }
a=$(nsb bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519)
c=$(nsb bulk-13-chacha20-poly1305-user-1m-c1-ecdsa-p256-x25519)
fr=$(jq -r '(1e9 / .aead["CHACHA20-POLY1305"].bytes_per_s) / (1e9 / .aead["AES-128-GCM"].bytes_per_s)' "$A/ceiling.json")
want="| CHACHA20-POLY1305 | $(printf '%.3f' "$(awk -v f="$fr" 'BEGIN { print f / 4 }')") | $(printf '%.2f' "$fr")× | $(printf '%.3f' "$c") | $(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.2f", c / a }')× |"
grep -qF "$want" "$R"; ok $? "cipher table: floor ratio ${fr}×, measured ratio from the measured column ($want)"

# units: MB/s is 10^6 bytes per second of the client's window, from its counts
stem=bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519
mb=$(jq -r '.bytes / .duration_s / 1e6' "$A/$stem.client.json")
grep -q "^| 1.3 | AES-128-GCM | user | 1 MiB | 1 | $(printf '%.1f' "$mb") |" "$R"; ok $? "bulk row: $mb MB/s = bytes / duration_s / 10^6"
grep -q 'MB/s is 10^6 bytes' "$R"; ok $? "the report says what MB is"
# the consistency checks: the fixture run is consistent
grep -q "^All $((nrun - nbad)) scenario runs that measured something pass the checks" "$R"; ok $? "every fixture row passes the checks"
# a client JSON from before megabytes_per_s: throughput_mbps was megabits per
# second and must be converted (/8), not relabelled
cp -r "$A" "$tmp/old"
f=$tmp/old/$stem.client.json
jq '.throughput_mbps = .megabytes_per_s * 8 | del(.megabytes_per_s)' "$f" >"$f.new" && mv "$f.new" "$f"
"$bench" report "$tmp/old" >/dev/null 2>&1
is $? 0 "old throughput_mbps (megabits) passes the checks once converted"
grep -q "^| 1.3 | AES-128-GCM | user | 1 MiB | 1 | $(printf '%.1f' "$mb") |" "$tmp/old/report.md"; ok $? "and shows the same $mb MB/s"
# the same megabits labelled MB/s break rate_cpu (the old report's error)
jq '.megabytes_per_s = .throughput_mbps | del(.throughput_mbps)' "$f" >"$f.new" && mv "$f.new" "$f"
"$bench" report "$tmp/old" >/dev/null 2>&1
is $? 1 "megabits stated as MB/s fail the report"
grep -q "^| $stem | ktls-server | rate_cpu: the client's stated rate gives MB/s x ns/B = [0-9]*% of a core" "$tmp/old/report.md"
ok $? "rate_cpu names the contradiction"

# banners: the kTLS-in-VM one only with kTLS scenarios; a partial run says so
mkdir "$tmp/nok"
for f in "$A"/*; do
	case $f in *ktls*|*.vm.*) ;; *) cp "$f" "$tmp/nok/" ;; esac
done
"$bench" report "$tmp/nok" >/dev/null 2>&1
grep -q 'has no kTLS\*\*' "$tmp/nok/report.md"; ok $((!$?)) "no kTLS banner in a run without kTLS scenarios"
grep -q '| kernel | .*no; this run has no kTLS scenario) |' "$tmp/nok/report.md"; ok $? "the machine table says why"
grep -q 'This run is partial' "$R"; ok $((!$?)) "a run with no run_state is not called partial"
jq '.run_state = "interrupted" | .runs_planned = 40' "$tmp/nok/env.json" >"$tmp/nok/e" && mv "$tmp/nok/e" "$tmp/nok/env.json"
"$bench" report "$tmp/nok" >/dev/null 2>&1
n=$(ls "$tmp/nok"/*.run.json | wc -l)
grep -q "^> \*\*This run is partial\*\*: it was interrupted (Ctrl-C or SIGTERM) after $n of 40 scenario runs" "$tmp/nok/report.md"
ok $? "an interrupted run's report says it is partial ($n of 40)"
jq '.run_state = "running"' "$tmp/nok/env.json" >"$tmp/nok/e" && mv "$tmp/nok/e" "$tmp/nok/env.json"
"$bench" report "$tmp/nok" >/dev/null 2>&1
grep -q "This run is partial\*\*: it did not record its end" "$tmp/nok/report.md"; ok $? "so does a run that never finished"

# a row whose peer negotiated something else is flagged
cp -r "$A" "$tmp/neg"
f=$tmp/neg/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.client.json
jq '.tls = {"version": "1.3", "cipher": "TLS_CHACHA20_POLY1305_SHA256", "group": "x25519"}' "$f" >"$f.new" && mv "$f.new" "$f"
f=$tmp/neg/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16.client.json
jq '.tls = {"version": "1.3", "cipher": "TLS_AES_128_GCM_SHA256", "group": "x25519"}' "$f" >"$f.new" && mv "$f.new" "$f"
"$bench" report "$tmp/neg" >/dev/null
grep -q '| full | 1 | 1 | .*| negotiated TLS_CHACHA20_POLY1305_SHA256 | [^|]* |$' "$tmp/neg/report.md"; ok $? "a cipher other than the scenario's is flagged"
grep -q '| full | 1 | 16 | .*| saturated | [^|]* |$' "$tmp/neg/report.md"; ok $? "the expected cipher and group are not flagged"

# --- plot data -------------------------------------------------------------------
check "plotdata run-a" "$bench" plotdata "$A"
P=$A/plots
blk=$(awk '/^"TLS 1.3 ecdsa-p256 X25519 full, 1 thread"/ { on = 1; next } /^$/ { on = 0 } on' "$P/handshakes.dat" | tr '\n' ' ')
# (third column: 1 = the server was not saturated, marked on the plot)
is "$blk" "1 2000.000 1 16 4000.000 0 " "handshakes.dat: the TLS 1.3 full series, sorted by concurrency, c1 unsaturated"
blk=$(awk '/^"nginx TLS 1.3 ecdsa-p256 X25519 full, 1 thread"/ { on = 1; next } /^$/ { on = 0 } on' "$P/handshakes_nginx.dat" | tr '\n' ' ')
is "$blk" "16 3000.000 0 " "handshakes_nginx.dat: nginx's twin of the series"
is "$(grep -c '^"' "$P/handshakes_nginx.dat")" "$(grep -c '^"' "$P/handshakes.dat")" "one nginx block per series of ours, same order"
grep -q 'VM\|emulated' "$P/throughput.dat"; ok $((! $?)) "no VM series in the throughput plot data"
blk=$(awk '/^"AES-128-GCM user TLS 1.3 c1"/ { on = 1; next } /^$/ { on = 0 } on' "$P/throughput.dat" | tr '\n' ' ')
mb1k=$(jq -r '.bytes / .duration_s / 1e6' "$A/bulk-13-aes-128-gcm-user-1k-c1-ecdsa-p256-x25519.client.json")
mb1m=$(jq -r '.bytes / .duration_s / 1e6' "$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json")
is "$blk" "$(printf '1024 %.3f 0 1048576 %.3f 0 ' "$mb1k" "$mb1m")" "throughput.dat: MB/s (10^6 bytes/s) against size"
grep -q '"megabytes_per_s"' "$P/throughput.dat"; ok $? "throughput.dat names its unit"
u=$(jq -r --slurpfile c "$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json" '.server_cpu_s * 1e9 / $c[0].bytes' \
	"$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.run.json")
is "$(grep '^AES-128-GCM ' "$P/cpu_per_byte.dat" | awk '{ print $2, $3, $5 }')" "$(printf '%.4f' "$u") ? 0.2500" \
	"cpu_per_byte.dat: user ns/B, no native kTLS figure, AEAD floor"
ok "$(grep -q -i 'vm\|ktls' "$P/ceiling_ratio.dat"; [[ $? == 1 ]]; echo $?)" "ceiling_ratio.dat leaves the VM rows out"
is "$(grep -c '^"' "$P/ceiling_ratio.dat")" 5 "ceiling_ratio.dat: one line per native scenario with a floor"
f=$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16
want=$(jq -rn --slurpfile c "$f.client.json" --slurpfile n "$f.nginx.client.json" --slurpfile r "$f.run.json" \
	--slurpfile rn "$f.nginx.run.json" --slurpfile ce "$A/ceiling.json" \
	'($ce[0].sign["ecdsa-p256"].per_s | 1e6 / .) + 2e6 / $ce[0].kex.X25519.per_s | . as $fl
	 | [$fl / ($r[0].server_cpu_s * 1e6 / $c[0].handshakes), $fl / ($rn[0].server_cpu_s * 1e6 / $n[0].handshakes)]
	 | map(. * 10000 | round / 10000 | tostring) | join(" ")')
is "$(grep '^"hs 1.3 ecdsa-p256 full c16"' "$P/ceiling_ratio.dat" | cut -d' ' -f6-)" "$want" \
	"ceiling_ratio.dat: ours and nginx side by side"

if command -v gnuplot >/dev/null; then
	check "scripts/plot.sh draws run-a" scripts/plot.sh "$A"
	grep -q 'MB/s (10' "$P/throughput.svg"; ok $? "the throughput axis says MB/s, 10^6 bytes per second"
	for p in handshakes throughput cpu_per_byte ceiling_ratio; do
		head -c 400 "$P/$p.svg" | grep -q '<svg'; ok $? "$p.svg is SVG"
		is "$(head -c 4 "$P/$p.png" | od -An -tx1 | tr -d ' ')" "89504e47" "$p.png is PNG"
	done
else
	skip "gnuplot missing (apt-get install gnuplot-nox)" 10
fi

# --- compare ---------------------------------------------------------------------------
out=$("$bench" compare "$A" "$B")
ok $? "compare run-a run-b exits 0"
line=$(grep '^hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1 ' <<<"$out")
is "$(awk '{ print $3, $4, $5 }' <<<"$line")" "2000.0 4000.0 2.00×" "compare: rates and B/A of the c1 handshake row"
ua=$(jq -r --slurpfile c "$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json" '.server_cpu_s * 1e9 / $c[0].bytes' \
	"$A/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.run.json")
ub=$(jq -r --slurpfile c "$B/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json" '.server_cpu_s * 1e9 / $c[0].bytes' \
	"$B/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.run.json")
line=$(grep '^bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519 *ours' <<<"$out")
is "$(awk '{ print $6, $7, $8 }' <<<"$line")" \
	"$(printf '%.3f %.3f' "$ua" "$ub") $(awk -v a="$ua" -v b="$ub" 'BEGIN { printf "%.2f×", b / a }')" \
	"compare: ns/B and B/A of a bulk row"
grep -q '^only in B: hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c64' <<<"$out"; ok $? "compare lists what only B has"
grep -q '^hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16 *nginx' <<<"$out"; ok $? "compare matches nginx rows to nginx rows"
ok "$(grep -q '✗' <<<"$out"; [[ $? == 1 ]]; echo $?)" "compare marks nothing when both runs pass the checks"
grep -q 'MB/s is 10^6 bytes per second' <<<"$out"; ok $? "compare says what MB/s means"
cp -r "$B" "$tmp/badb"
f=$tmp/badb/bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519.client.json
jq '.megabytes_per_s *= 8' "$f" >"$f.new" && mv "$f.new" "$f"
out=$("$bench" compare "$A" "$tmp/badb")
grep -q '^bulk-13-aes-128-gcm-user-1m-c1-ecdsa-p256-x25519 *ours .* ✗ B$' <<<"$out"; ok $? "compare marks a row of B that fails a check"
grep -q '^1 of them (✗) fail the consistency checks in A or B' <<<"$out"; ok $? "and says what the mark means"

# --- bad input ------------------------------------------------------------------------------
mkdir "$tmp/empty"
out=$("$bench" report "$tmp/empty" 2>&1); rc=$?
is "$rc" 1 "report on a folder that is no run exits 1"
grep -q 'not a ktls-bench run folder' <<<"$out"; ok $? "and says so: $out"
echo '{ broken' >"$A/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.run.json"
out=$("$bench" report "$A" 2>&1); rc=$?
is "$rc" 1 "a corrupt run.json fails the report"
grep -q 'full-c1.run.json: not valid JSON' <<<"$out"; ok $? "naming the file: $out"
"$bench" report >/dev/null 2>&1; is $? 2 "report without DIR: usage error"
"$bench" compare "$B" >/dev/null 2>&1; is $? 2 "compare with one DIR: usage error"
"$bench" frobnicate >/dev/null 2>&1; is $? 2 "unknown command: usage error"
"$bench" run --cpus 0-1 --dry-run >/dev/null 2>&1; is $? 2 "--cpus 0-1: usage error"
"$bench" run --peer apache --dry-run >/dev/null 2>&1; is $? 2 "--peer apache: usage error"
"$bench" run --ceiling-seconds 5x --dry-run >/dev/null 2>&1; is $? 2 "--ceiling-seconds 5x: usage error"
printf 'handshake conns=1\nbulk size=12Q\n' >"$tmp/bad.suite"
out=$("$bench" run --suite "$tmp/bad.suite" --dry-run 2>&1); rc=$?
is "$rc" 2 "a bad suite file: usage error"
grep -q "bad.suite:2: bad size value '12Q'" <<<"$out"; ok $? "with file:line: $out"
"$bench" --help | grep -q -- '--suite NAME|FILE .*\[quick\]'; ok $? "--help shows the defaults"
out=$(cd "$tmp" && "$bench" run --suite bad.suite --dry-run 2>&1)
grep -q "^ktls-bench: bad.suite:2:" <<<"$out"; ok $? "a suite file in the current folder is found by its bare name"
out=$("$bench" run --suite quick --dry-run 2>&1)
grep -q 'bench/suites/quick:[0-9]*)' <<<"$out"; ok $? "quick is the shipped suite"

# --- dry run: the commands it would run ---------------------------------------------------
out=$("$bench" run --dry-run --cpus 0:1 --scenario 'handshake tls=1.3 conns=4' --scenario 'bulk size=64K layer=user' 2>&1)
ok $? "dry run"
grep -q -- '--tls user .* --cpus 0 .* --tickets 0 ' <<<"$out"; ok $? "server pinned to CPU 0, no tickets for full handshakes"
grep -q -- 'ktls-client handshake .* --connections 4 .* --cpus 1 ' <<<"$out"; ok $? "client pinned to CPU 1 with 4 connections"
grep -q -- 'ktls-client get .* --size 65536 ' <<<"$out"; ok $? "bulk client asks for /bytes/65536"
done_testing

#!/bin/bash
# ktls-bench's runner against stand-in server and client programs
# (tests/helpers/bench_fake_peer.c): processes started, pinned, waited for and
# stopped; their JSON collected; failures recorded; Ctrl-C keeps what
# finished and leaves nothing running; the VM hand-off (with a vm.sh that
# runs the command right here) brings its files back labelled emulated.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

bench=$KTLS_BIN/ktls-bench
fake=$KTLS_BUILD/tests/helpers/bench_fake_peer
[[ -x $bench ]] || skip_all "$bench not built"
[[ -x $fake ]] || skip_all "$fake not built (make tests)"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
pids=$tmp/pids
mkdir -p "$tmp/root/bin" "$tmp/root/scripts" "$pids" "$tmp/certs"
touch "$tmp/certs/ecdsa-p256.crt" "$tmp/certs/ecdsa-p256.key"   # the stand-ins read no certificate
export FAKE_PID_DIR=$pids
cleanup() {
	local f
	for f in "$pids"/*; do [[ -e $f ]] && kill -9 "${f##*.}" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
ln -s "$fake" "$tmp/root/bin/ktls-server"
ln -s "$fake" "$tmp/root/bin/ktls-client"
cpus=0:1
(($(nproc) < 2)) && cpus=0:0
S=${cpus%:*} C=${cpus#*:}

alive() { local f n=0; for f in "$pids"/*; do [[ -e $f ]] && kill -0 "${f##*.}" 2>/dev/null && n=$((n + 1)); done; echo $n; }

# --- a normal run -----------------------------------------------------------------
out=$tmp/run1
"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots \
	--scenario 'handshake conns=2 duration=300ms' --scenario 'bulk size=1K duration=300ms' 2>"$tmp/err1" >/dev/null
is $? 0 "run with two scenarios exits 0"
hs=hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c2
bk=bulk-13-aes-128-gcm-user-1k-c1-ecdsa-p256-x25519
for stem in $hs $bk; do
	is "$(jq -r .ok "$out/$stem.run.json")" true "$stem: recorded ok"
	is "$(jq -c .affinity "$out/$stem.server.json")" "[$S]" "$stem: server pinned to CPU $S"
	is "$(jq -c .affinity "$out/$stem.client.json")" "[$C]" "$stem: client pinned to CPU $C"
	ok "$(jq -e '.server_cpu_s >= 0' "$out/$stem.run.json" >/dev/null; echo $?)" "$stem: server CPU from /proc recorded"
	# the server's own count is the client's plus the runner's one readiness probe:
	# the server was up for the whole client run and stopped after it
	is "$(jq .handshakes_full "$out/$stem.server.json")" "$(jq '.handshakes + 1' "$out/$stem.client.json")" \
		"$stem: server saw every connection the client made (+1 readiness probe)"
done
ok "$(jq -e '.handshakes > 10' "$out/$hs.client.json" >/dev/null; echo $?)" "the client ran for its duration"
is "$(jq -r .command "$out/env.json" | grep -c -- "^$bench run --bin .* --scenario")" 1 "env.json keeps the exact command"
ok "$(jq -e '.cpu_model and .kernel and .cores and .openssl_library and .cpu_flags.aes != null' "$out/env.json" >/dev/null; echo $?)" \
	"env.json: CPU model, flags, kernel, cores, OpenSSL"
n=$(jq -r .handshakes "$out/$hs.client.json")
grep -q "| full | 1 | 2 | " "$out/report.md"; ok $? "report.md has the handshake row"
tune=on
[[ $(cat /proc/sys/net/ipv4/tcp_moderate_rcvbuf) == 0 ]] && tune="off (tcp_moderate_rcvbuf 0)"
grep -qF "| TCP buffers (min default max) | receive $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_rmem), send $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_wmem); receive autotuning $tune |" "$out/report.md"
ok $? "report.md's machine table shows the TCP buffers"
grep -q "$(jq -r .scenario.line "$out/$hs.run.json" | cut -c1-20)" "$out/$hs.run.json"; ok $? "run.json keeps the suite line"
is "$(alive)" 0 "no server or client left running"
grep -q '\[  1/2\]' "$tmp/err1"; ok $? "progress lines on stderr"
is "$(jq -r .run_state "$out/env.json")" complete "env.json: the run reached its end"
is "$(jq -r '.tcp_buffers["net.ipv4.tcp_rmem"]' "$out/env.json")" "$(tr '\t' ' ' </proc/sys/net/ipv4/tcp_rmem)" \
	"env.json: the TCP receive buffer sysctl, as /proc/sys has it"
is "$(jq -r '.tcp_buffers["net.core.wmem_max"]' "$out/env.json")" "$(cat /proc/sys/net/core/wmem_max)" \
	"env.json: wmem_max, as /proc/sys has it"
is "$(jq -r '.tcp_buffers["net.ipv4.tcp_moderate_rcvbuf"]' "$out/env.json")" "$(cat /proc/sys/net/ipv4/tcp_moderate_rcvbuf)" \
	"env.json: receive buffer autotuning, as /proc/sys has it"
is "$(jq -r '.runs_planned, .runs_done' "$out/env.json" | tr '\n' ' ')" "2 2 " "env.json: 2 runs planned, 2 done"
is "$(jq -r '.version + " " + .commit' "$out/env.json")" "$("$bench" --version | head -1 | sed 's/^ktls-bench \([^ ]*\) (commit \(.*\))$/\1 \2/')" \
	"env.json: the version and commit of the ktls-bench that ran"
is "$(jq -r '.version + " " + .commit' "$out/$hs.run.json")" "$(jq -r '.version + " " + .commit' "$out/env.json")" \
	"run.json: the same"

# --- every run its own folder ------------------------------------------------------------
mkdir -p "$tmp/cwd"
for i in 1 2; do
	(cd "$tmp/cwd" && "$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --cpus "$cpus" --no-ceiling \
		--no-plots --scenario 'handshake conns=1 duration=100ms' >/dev/null 2>&1)
done
dirs=$(ls "$tmp/cwd/results")
first=$(head -1 <<<"$dirs")
is "$(wc -l <<<"$dirs")" 2 "two runs on the same day without --out: two folders ($(tr '\n' ' ' <<<"$dirs"))"
is "$(sed -n 2p <<<"$dirs")" "$first-2" "the second is the first's name with -2"
is "$(ls "$tmp/cwd/results/$first"/*.run.json | wc -l)" 1 "the first folder holds only its own run"
out=$("$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$tmp/cwd/results/$first" --cpus "$cpus" \
	--no-ceiling --no-plots --scenario 'handshake conns=1 duration=100ms' 2>&1); rc=$?
is "$rc" 2 "--out into a folder that holds a run: usage error"
grep -q 'already holds files' <<<"$out"; ok $? "says why: $out"
is "$(ls "$tmp/cwd/results/$first"/*.run.json | wc -l)" 1 "and wrote nothing there"

# --- threads=2: the server's two threads on two CPUs, its other work measured on both ----------
if (($(nproc) >= 2)); then
	out=$tmp/run-t2
	"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus 0:1 --no-ceiling --no-plots \
		--scenario 'handshake conns=8 duration=300ms threads=2' 2>"$tmp/err-t2" >/dev/null
	is $? 0 "threads=2 run exits 0"
	t2=hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c8-t2
	is "$(jq -r '.threads_arg + " " + .cpus_arg' "$out/$t2.server.json")" "2 0,1" \
		"the server: --threads 2 --cpus 0,1 (a thread per CPU)"
	is "$(jq -r '.threads_arg + " " + .cpus_arg' "$out/$t2.client.json")" "1 1" \
		"the client: one thread on CPU 1 (shared: this host has two)"
	is "$(jq .server_cpus "$out/$t2.run.json")" 2 "run.json: other work measured over both server CPUs"
	grep -q "| full | 2 | 8 | " "$out/report.md"; ok $? "report.md shows 2 threads"
else
	skip "one CPU: no second server thread to pin" 5
fi

# --- --cpus must name CPUs this process can run on ------------------------------------------
out=$("$bench" run --dry-run --cpus 0:1000 --scenario 'handshake conns=1' 2>&1); rc=$?
is "$rc" 2 "--cpus 0:1000: usage error"
grep -q 'CPU 1000 is not one this process can run on (it may use ' <<<"$out"; ok $? "names the CPU and the usable ones: $out"

# --- a failing client is recorded, the run goes on ------------------------------------
out=$tmp/run2
FAKE_CLIENT_EXIT=3 "$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots \
	--scenario 'handshake conns=1,2 duration=200ms' 2>"$tmp/err2" >/dev/null
is $? 1 "a failing client makes the run exit 1"
is "$(jq -s '[.[] | select(.ok == false)] | length' "$out"/*.run.json)" 2 "both scenarios recorded as failed"
grep -q 'ktls-client exited with status 3' "$out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.run.json"
ok $? "the error names the client's exit status"
grep -q '## Scenarios that failed' "$out/report.md"; ok $? "the report lists the failures"

out=$tmp/run3
FAKE_SERVER_EXIT=4 "$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots \
	--scenario 'handshake duration=200ms' >/dev/null 2>&1
is $? 1 "a server that dies at start fails the scenario"
grep -q 'did not accept on 127.0.0.1:[0-9]* (it exited)' "$out"/*.run.json; ok $? "and says the server exited"

# --- Ctrl-C: stop the servers, keep what finished ---------------------------------------
out=$tmp/run4
rm -f "$pids"/*
"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots \
	--scenario 'handshake conns=1 duration=200ms' --scenario 'handshake conns=3 duration=60s' 2>"$tmp/err4" >/dev/null &
bp=$!
for _ in $(seq 100); do [[ -e $out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.run.json ]] && break; sleep 0.1; done
sleep 0.5
kill -INT $bp
t0=$SECONDS
wait $bp
is $? 130 "Ctrl-C: exit status 130"
ok "$((SECONDS - t0 < 15 ? 0 : 1))" "stopped within seconds"
is "$(alive)" 0 "Ctrl-C left no server or client running"
ok "$([[ -e $out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c1.run.json ]]; echo $?)" "the finished scenario is kept"
ok "$([[ ! -e $out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c3.run.json ]]; echo $?)" "the interrupted one is not recorded"
grep -q '| full | 1 |' "$out/report.md"; ok $? "report.md written for what finished"
grep -q 'interrupted' "$tmp/err4"; ok $? "says it was interrupted"
is "$(jq -r .run_state "$out/env.json")" interrupted "env.json: the run was interrupted"
grep -q '^> \*\*This run is partial\*\*: it was interrupted' "$out/report.md"; ok $? "report.md says it is partial"

# --- the VM hand-off: a vm.sh that runs the command here -----------------------------------
cat >"$tmp/root/scripts/vm.sh" <<'SH'
#!/bin/bash
# test stand-in for scripts/vm.sh: check the arguments, run COMMAND on the host
[[ $1 == --kernel && -n $2 && $3 == --timeout && $4 =~ ^[0-9]+$ && $5 == --quiet && $6 == -- ]] || { echo "bad args: $*" >&2; exit 9; }
shift 6
echo "[    0.000000] Linux version (console noise that the host must ignore)"
exec "$@"
SH
chmod +x "$tmp/root/scripts/vm.sh"
ln -s "$bench" "$tmp/root/bin/ktls-bench"
out=$tmp/run5
"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots --force-vm \
	--vm-script "$tmp/root/scripts/vm.sh" \
	--scenario 'bulk layer=ktls size=4K duration=200ms' 2>"$tmp/err5" >/dev/null
is $? 0 "VM run exits 0"
for l in ktls user; do
	f=$out/bulk-13-aes-128-gcm-$l-4k-c1-ecdsa-p256-x25519.vm.run.json
	is "$(jq -r '.where + " " + (.emulated | tostring)' "$f" 2>&1)" "vm true" "$l twin came back from the VM, labelled emulated"
	is "$(jq -r .client_json "$f" 2>&1)" "bulk-13-aes-128-gcm-$l-4k-c1-ecdsa-p256-x25519.vm.client.json" "$l: its files renamed .vm"
	ok "$(jq -e '.handshakes > 0' "$out/$(jq -r .client_json "$f" 2>/dev/null)" >/dev/null 2>&1; echo $?)" "$l: the client JSON came through intact"
done
is "$(grep -c '| VM: emulated (TCG): correctness only, not performance |$' "$out/report.md")" 2 "both VM rows labelled in the report"
grep -q 'console noise' "$out/vm.log"; ok $? "the VM's own output is kept in vm.log"
ok "$(grep -q '"handshakes"' "$out/vm.log"; [[ $? == 1 ]]; echo $?)" "without the result files, which are in the run folder"
grep -q "result file bulk-13-aes-128-gcm-ktls-4k-c1-ecdsa-p256-x25519.client.json" "$out/vm.log"; ok $? "one line says where each went"
is "$(alive)" 0 "nothing left running after the VM part"

# a harness that fails: the scenarios are reported as failed, with the reason
printf '#!/bin/bash\necho "vm: error: no kernel" >&2\nexit 125\n' >"$tmp/root/scripts/vm-broken.sh"
chmod +x "$tmp/root/scripts/vm-broken.sh"
out=$tmp/run7
"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots --force-vm \
	--vm-script "$tmp/root/scripts/vm-broken.sh" --scenario 'bulk layer=ktls size=4K duration=200ms' >/dev/null 2>&1
is $? 1 "a failing VM harness fails the run"
grep -q 'ktls-64k\|ktls-4k-c1-ecdsa-p256-x25519 (VM) | ktls-server | did not come back from the VM (harness exit 125)' "$out/report.md"
ok $? "the report lists the scenarios that did not come back, with the harness's status"
grep -q 'no kernel' "$out/vm.stderr.log"; ok $? "the harness's stderr is kept"

# Ctrl-C while the VM still runs: stop it (its whole process group), keep what came back
cat >"$tmp/root/scripts/vm-slow.sh" <<SH
#!/bin/bash
shift 6
"\$@"
sleep 120 &
echo \$! >"$pids/vmsleep.\$!"
wait
SH
chmod +x "$tmp/root/scripts/vm-slow.sh"
out=$tmp/run6
"$bench" run --bin "$tmp/root/bin" --certs "$tmp/certs" --out "$out" --cpus "$cpus" --no-ceiling --no-plots --force-vm \
	--vm-script "$tmp/root/scripts/vm-slow.sh" --scenario 'bulk layer=ktls size=4K duration=200ms' \
	2>"$tmp/err6" >/dev/null &
bp=$!
for _ in $(seq 150); do ls "$pids"/vmsleep.* >/dev/null 2>&1 && break; sleep 0.1; done
kill -INT $bp
t0=$SECONDS
wait $bp
is $? 130 "Ctrl-C during the VM part: exit status 130"
ok "$((SECONDS - t0 < 15 ? 0 : 1))" "stopped within seconds"
# the group got SIGTERM; give an orphan a moment to be gone
for _ in $(seq 20); do [[ $(alive) == 0 ]] && break; sleep 0.1; done
is "$(alive)" 0 "the VM harness and everything under it stopped"
ok "$([[ -e $out/bulk-13-aes-128-gcm-ktls-4k-c1-ecdsa-p256-x25519.vm.run.json ]]; echo $?)" \
	"the scenarios that came back before are kept"
grep -q 'VM: emulated' "$out/report.md"; ok $? "and reported"
done_testing

#!/bin/bash
# scripts/soak.sh: ktls-server (built with ASan+UBSan by `make soak`) under
# mixed good and hostile clients for a while.
#
#   scripts/soak.sh [--seconds S] [--tls user|ktls] [--rss-limit KIB] [--out DIR]
#
# Good clients: ktls-client get (bodies checked against the /bytes pattern)
# and ktls-client handshake with a checked request, in rounds of 5 s, at
# most 2 of each at a time. Hostile clients (tests/helpers/hostile): every
# attack in turn (random bytes, cut ClientHellos, bad records, endless
# heads, slowloris, silent connections, resets, a stalled reader), each
# bounded. The server's RSS and open fds are sampled every second.
#
# Passes when: no good client saw an error; RSS grew by less than
# --rss-limit KiB (default 32768) after the warm-up (the first round of
# every attack, at least 5 s and at most half the run), comparing the mean
# of the last 5 samples with the mean of the 5 after the warm-up. The
# limit: each worker keeps freed buffers for reuse up to fixed caps (about
# 10 MiB: 4096 connection structs, 256 request, 64 + 64 + 16 send and
# receive buffers) and 256 SSL objects (about 4 MiB), and they fill up as
# rarer peaks of concurrency come; a leak of 1 KiB per connection (some
# 40,000 of them a minute here) would exceed it within the minute. Open fds
# came back to what they were at the start; SIGTERM
# stops the server with exit 0 and valid JSON; no sanitizer report. Prints
# one summary line per check and "soak: PASS" or "soak: FAIL"; the samples
# and logs stay in --out (default $KTLS_BUILD/soak).
# Environment: KTLS_BIN, KTLS_BUILD (as set by make).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=60 mode=user rss_limit=32768 out=
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds) seconds=${2:?}; shift 2 ;;
	--tls) mode=${2:?}; shift 2 ;;
	--rss-limit) rss_limit=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 10 ]] || { echo "soak.sh: --seconds wants a whole number >= 10" >&2; exit 2; }
[[ $rss_limit =~ ^[0-9]+$ ]] || { echo "soak.sh: --rss-limit wants KiB, a whole number" >&2; exit 2; }
BIN=${KTLS_BIN:-bin} BUILD=${KTLS_BUILD:-build}
out=${out:-$BUILD/soak}
H=$BUILD/tests/helpers/hostile
CERTS=$BUILD/certs
for f in "$BIN/ktls-server" "$BIN/ktls-client" "$H" "$CERTS/ecdsa-p256.crt"; do
	[[ -e $f ]] || { echo "soak.sh: $f missing: run 'make soak' (or make programs tests certs)" >&2; exit 1; }
done
rm -rf "$out" && mkdir -p "$out" || exit 1
# A small quarantine: ASan keeps freed memory this long before reuse, which
# would otherwise read as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=16
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[[ -n ${SRV:-} ]] && kill -KILL "$SRV" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$BIN/ktls-server" --port 0 --threads 2 --tls "$mode" --cert "$CERTS/ecdsa-p256.crt" \
	--key "$CERTS/ecdsa-p256.key" --handshake-timeout 2s --request-timeout 2s --idle-timeout 3s \
	--json "$out/server.json" >"$out/server.out" 2>"$out/server.err" &
SRV=$!
for ((i = 0; i < 200; i++)); do
	grep -q 'listening on' "$out/server.out" 2>/dev/null && break
	kill -0 "$SRV" 2>/dev/null || break
	sleep 0.05
done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$out/server.out")
[[ -n $PORT ]] || { echo "soak.sh: the server did not start: $(cat "$out/server.err")" >&2; exit 1; }
t0=$(date +%s)
end=$((t0 + seconds))

# good clients, each run 5 s (or what is left)
good_loop() {
	local kind=$1 n=0 left
	while left=$((end - $(date +%s) - 1)); ((left >= 2)); do
		((left > 5)) && left=5
		n=$((n + 1))
		if [[ $kind == get ]]; then
			"$BIN/ktls-client" get --port "$PORT" --connections 4 --size 256K --duration "${left}s" \
				--quiet --json "$out/good-get-$n.json" >/dev/null 2>"$out/good-get-$n.err"
		else
			"$BIN/ktls-client" handshake --port "$PORT" --connections 4 --duration "${left}s" \
				--request /bytes/20000 --quiet --json "$out/good-hs-$n.json" >/dev/null 2>"$out/good-hs-$n.err"
		fi
		echo $? >"$out/good-$kind-$n.rc"
	done
}

# hostile clients: every attack in turn, each bounded
hostile_loop() {
	local round=0 a
	local attacks=(
		"--attack random --bytes 3000 --seed %R --wait 3s"
		"--attack hello-cut --cuts 0-120 --then close --wait 3s"
		"--attack hello-cut --cuts 100-200 --then reset --wait 3s"
		"--attack hello-cut --cuts 0-40 --then stall --wait 4s"
		"--attack record --record tampered --wait 3s"
		"--attack record --record bad-type --wait 3s"
		"--attack record --record oversized --wait 3s"
		"--attack record --record unexpected-type --wait 3s"
		"--attack record --record truncated --wait 3s"
		"--attack record --record bad-length --wait 3s"
		"--attack header --header-size 64K --wait 3s"
		"--attack header --wait 3s"
		"--attack slowloris --interval 300ms --wait 4s"
		"--attack idle --count 200 --wait 4s"
		"--attack reset --stage server-hello --count 20"
		"--attack reset --stage finished --count 20"
		"--attack reset --stage response --count 5"
		"--attack stall-read --read-first 100K --wait 4s"
	)
	while (($(date +%s) < end - 5)); do
		for a in "${attacks[@]}"; do
			(($(date +%s) < end - 5)) || break
			round=$((round + 1))
			# shellcheck disable=SC2086
			"$H" --port "$PORT" ${a//%R/$round} >>"$out/hostile.log" 2>&1
			echo "$a" >>"$out/attacks.log"
		done
		[[ -e $out/cycle1 ]] || echo $(($(date +%s) - t0)) >"$out/cycle1"
	done
}

fds0=$(ls "/proc/$SRV/fd" 2>/dev/null | wc -l)     # before any client
good_loop get & pids+=($!)
good_loop handshake & pids+=($!)
hostile_loop & pids+=($!)

# samples: seconds since start, RSS KiB, open fds
: >"$out/samples.csv"
while (($(date +%s) < end)); do
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SRV/status" 2>/dev/null)
	fds=$(ls "/proc/$SRV/fd" 2>/dev/null | wc -l)
	[[ -n $rss ]] || break
	echo "$(($(date +%s) - t0)),$rss,$fds" >>"$out/samples.csv"
	sleep 1
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
sleep 4      # the last hostile connections reach their timeouts
rss_end=$(awk '/^VmRSS/ { print $2 }' "/proc/$SRV/status" 2>/dev/null)
fds_end=$(ls "/proc/$SRV/fd" 2>/dev/null | wc -l)
st=$(curl -sS --max-time 10 --cacert "$CERTS/ca.crt" "https://127.0.0.1:$PORT/stats")
kill -TERM "$SRV"
wait "$SRV"
src=$?
SRV=

fail=0
say() { printf 'soak: %-4s %s\n' "$1" "$2"; [[ $1 != FAIL ]] || fail=1; }
# good clients
runs=0 bad=0 reqs=0 errs=0
for f in "$out"/good-*.rc; do
	[[ -e $f ]] || continue
	runs=$((runs + 1))
	j=${f%.rc}.json
	[[ $(cat "$f") == 0 ]] || { bad=$((bad + 1)); echo "soak: $(basename "$f" .rc) exited $(cat "$f"): $(head -c 300 "${f%.rc}.err")" >&2; }
	if [[ -s $j ]]; then
		reqs=$((reqs + $(jq '.requests // 0' "$j")))
		errs=$((errs + $(jq '.errors_total // 0' "$j")))
	fi
done
if ((runs > 0 && bad == 0 && errs == 0 && reqs > 0)); then
	say ok "good clients: $runs runs, $reqs requests, every body checked, 0 errors"
else
	say FAIL "good clients: $runs runs, $bad failed, $errs errors, $reqs requests"
fi
attacks=$(wc -l <"$out/attacks.log" 2>/dev/null || echo 0)
((attacks > 0)) && say ok "hostile clients: $attacks attacks run" || say FAIL "no hostile attack ran"
# RSS after the warm-up: the first round of attacks, 5 s to half the run
warm=$(cat "$out/cycle1" 2>/dev/null || echo $((seconds / 4)))
((warm < 5)) && warm=5
((warm > seconds / 2)) && warm=$((seconds / 2))
base=$(awk -F, -v w="$warm" '$1 >= w && k < 5 { s += $2; k++ } END { if (k) print int(s / k) }' "$out/samples.csv")
last=$(tail -5 "$out/samples.csv" | awk -F, '{ s += $2; k++ } END { if (k) print int(s / k) }')
peak=$(awk -F, -v w="$warm" '$1 >= w && $2 > m { m = $2 } END { print m + 0 }' "$out/samples.csv")
first=$(head -1 "$out/samples.csv" | cut -d, -f2)
n=$(wc -l <"$out/samples.csv")
if [[ -z $base || -z $last ]]; then
	say FAIL "RSS: no sample after the ${warm} s warm-up ($n samples)"
else
	growth=$((last - base))
	msg="RSS: $first KiB at start, $base KiB after the ${warm} s warm-up, $last KiB at the end (peak $peak): growth $growth KiB (limit $rss_limit; $n samples in $out/samples.csv)"
	((growth < rss_limit)) && say ok "$msg" || say FAIL "$msg"
fi
fds_base=$(awk -F, -v w="$warm" '$1 >= w { print $3; exit }' "$out/samples.csv")
if [[ -n $fds_end && $fds_end -le $((fds0 + 1)) ]]; then
	say ok "open fds: $fds0 before the clients, ${fds_base:-?} after the warm-up, $fds_end at the end"
else
	say FAIL "open fds: $fds0 before the clients, $fds_end at the end (connections left open?)"
fi
[[ $(jq .conns_current <<<"$st" 2>/dev/null) == 1 ]] && say ok "connections: only /stats open at the end" ||
	say FAIL "connections still open at the end: $(jq .conns_current <<<"$st" 2>/dev/null)"
((src == 0)) && say ok "SIGTERM: exit 0" || say FAIL "SIGTERM: exit $src"
if jq -e . "$out/server.json" >/dev/null 2>&1; then
	say ok "JSON: $(jq -c '{conns_accepted, handshakes_full, handshake_failures_total, requests, timeouts, closes}' "$out/server.json")"
else
	say FAIL "--json $out/server.json is not valid JSON"
fi
if grep -qE 'Sanitizer|runtime error' "$out/server.err" "$out"/good-*.err "$out/hostile.log" 2>/dev/null; then
	say FAIL "a sanitizer report: $(grep -lE 'Sanitizer|runtime error' "$out/server.err" "$out"/good-*.err "$out/hostile.log" | tr '\n' ' ')"
	grep -m1 -A12 'Sanitizer' "$out/server.err" | sed 's/^/    /'
else
	say ok "no sanitizer report"
fi
((fail == 0)) && echo "soak: PASS (${seconds} s, tls $mode)" || echo "soak: FAIL (${seconds} s, tls $mode; logs in $out)"
exit $fail

#!/bin/bash
# scripts/client-vs-wrk.sh: ktls-client get against wrk and h2load on the
# same server, in the same run: keep-alive HTTPS requests per second.
#
#   scripts/client-vs-wrk.sh [--rounds N] [--duration SECONDS] [--conns N] [--size BYTES]
#                            [--clients ktls-client,wrk,h2load] [--keep-disturbed]
#
# The server: ktls-server, one thread pinned to CPU 0, ECDSA P-256, TLS 1.3,
# answering GET /bytes/SIZE. Each client runs pinned to CPU 1, one thread,
# CONNS keep-alive connections, for SECONDS, and the clients take turns round
# by round:
#   wrk          wrk -t1 -cCONNS -dSECONDS URL
#   h2load       h2load --h1 -t1 -cCONNS -DSECONDS URL
#   ktls-client  ktls-client get URL -t1 -cCONNS -dSECONDS (every body checked
#                byte for byte against the /bytes pattern)
# Printed per round: each client's requests/s, its CPU per request (user +
# system of the client process), how busy the server was (its /proc/PID/stat
# over the round: at ~100% the server, not the client, sets the rate), and
# how much of CPU 0 went to anything else (rounds over 10% are DISTURBED and
# left out of the medians, unless --keep-disturbed: on a machine that is never
# idle, short alternating rounds and their medians still compare the clients
# under the same conditions). Then each client's median requests/s and its
# ratio to wrk's. On a shared or virtual machine figures drift: read the ratios.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 dur=5 conns=16 size=1024 clients=wrk,h2load,ktls-client keep=0
while (($#)); do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) dur=$2; shift ;;
	--conns) conns=$2; shift ;;
	--size) size=$2; shift ;;
	--clients) clients=$2; shift ;;
	--keep-disturbed) keep=1 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "client-vs-wrk: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $rounds =~ ^[0-9]+$ && $dur =~ ^[0-9]+$ && $conns =~ ^[0-9]+$ && $size =~ ^[0-9]+$ ]] ||
	{ echo "client-vs-wrk: --rounds, --duration, --conns and --size take whole numbers" >&2; exit 2; }
IFS=, read -r -a want <<<"$clients"
for c in "${want[@]}"; do
	case $c in
	wrk | h2load) type -P "$c" >/dev/null || { echo "client-vs-wrk: $c is missing (apt-get install ${c/h2load/nghttp2-client})" >&2; exit 1; } ;;
	ktls-client) [[ -x $repo/bin/ktls-client ]] || { echo "client-vs-wrk: bin/ktls-client missing: make" >&2; exit 1; } ;;
	*) echo "client-vs-wrk: unknown client '$c' (ktls-client, wrk, h2load)" >&2; exit 2 ;;
	esac
done
for t in taskset jq awk; do
	type -P "$t" >/dev/null || { echo "client-vs-wrk: $t is missing" >&2; exit 1; }
done
hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
spid=
cleanup() { [[ -n $spid ]] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

ticks() { local f; read -r -a f < <(sed 's/.*) //' "/proc/$1/stat"); echo $((f[11] + f[12])); }
cpu_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; for _ in $(seq 20); do p=$((10000 + RANDOM % 22000)); port_free "$p" && { echo "$p"; return; }; done; return 1; }

port=$(pick_port) || { echo "client-vs-wrk: no free port" >&2; exit 1; }
"$repo/bin/ktls-server" --port "$port" --threads 1 --cpus 0 --tls-version 1.3 \
	--cert "$repo/build/certs/ecdsa-p256.crt" --key "$repo/build/certs/ecdsa-p256.key" \
	>"$tmp/server.log" 2>&1 &
spid=$!
for _ in $(seq 100); do port_free "$port" || break; sleep 0.05; done
port_free "$port" && { echo "client-vs-wrk: ktls-server did not start: $(head -c 300 "$tmp/server.log")" >&2; exit 1; }
url=https://127.0.0.1:$port/bytes/$size

# run CLIENT: prints "requests_per_s client_cpu_s"
run() {
	local c=$1 out=$tmp/$1.out t0 t1 rps
	case $c in
	wrk)
		t0=$(date +%s%N)
		{ time -p taskset -c 1 wrk -t1 -c"$conns" -d"${dur}s" "$url" >"$out" 2>&1; } 2>"$tmp/time"
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
		;;
	h2load)
		{ time -p taskset -c 1 h2load --h1 -t1 -c"$conns" -D"$dur" "$url" >"$out" 2>&1; } 2>"$tmp/time"
		rps=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s,") print $i }' "$out")
		rps=${rps%,}
		;;
	ktls-client)
		{ time -p "$repo/bin/ktls-client" get "$url" -t 1 --cpus 1 -c "$conns" -d "${dur}s" -q \
			--json "$tmp/kc.json" >"$out" 2>&1; } 2>"$tmp/time"
		if [[ $(jq -r '.errors_total' "$tmp/kc.json" 2>/dev/null) != 0 ]]; then
			echo "client-vs-wrk: ktls-client reported errors: $(jq -c .errors "$tmp/kc.json")" >&2
		fi
		rps=$(jq -r '.requests_per_s' "$tmp/kc.json" 2>/dev/null)
		;;
	esac
	echo "${rps:-0} $(awk '/^user/ { u = $2 } /^sys/ { s = $2 } END { print u + s }' "$tmp/time")"
}

declare -A all
printf '%-5s  %-12s  %12s  %14s  %11s  %11s\n' round client requests/s "client µs/req" "server busy" "other work"
for ((r = 1; r <= rounds; r++)); do
	for c in "${want[@]}"; do
		s0=$(ticks "$spid") b0=$(cpu_busy 0) w0=$(date +%s%N)
		read -r rps ccpu < <(run "$c")
		s1=$(ticks "$spid") b1=$(cpu_busy 0) w1=$(date +%s%N)
		wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print (b - a) / 1e9 }')
		busy=$(awk -v s=$((s1 - s0)) -v h="$hz" -v w="$wall" 'BEGIN { printf "%.0f", 100 * s / h / w }')
		other=$(awk -v o=$((b1 - b0 - (s1 - s0))) -v h="$hz" -v w="$wall" 'BEGIN { v = 100 * o / h / w; printf "%.0f", (v < 0 ? 0 : v) }')
		us=$(awk -v c="$ccpu" -v r="$rps" -v d="$dur" 'BEGIN { printf "%.1f", (r > 0 ? c * 1e6 / (r * d) : 0) }')
		flag=
		((other > 10)) && flag="  DISTURBED"
		printf '%-5s  %-12s  %12.0f  %14s  %10s%%  %10s%%%s\n' "$r" "$c" "$rps" "$us" "$busy" "$other" "$flag"
		[[ -z $flag || $keep == 1 ]] && all[$c]+="$rps "
	done
done
echo
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print 0 }'; }
base=$(median "${all[wrk]:-}")
printf '%-12s  %20s  %10s\n' client "median requests/s" "/ wrk"
for c in "${want[@]}"; do
	m=$(median "${all[$c]:-}")
	printf '%-12s  %20.0f  %10s\n' "$c" "$m" \
		"$(awk -v m="$m" -v b="$base" 'BEGIN { if (b > 0) printf "%.3f", m / b; else print "-" }')"
done
echo "(server: ktls-server, 1 thread on CPU 0; clients on CPU 1, 1 thread, $conns connections, ${dur} s, GET /bytes/$size$(
	((keep)) && echo "; disturbed rounds kept"))"

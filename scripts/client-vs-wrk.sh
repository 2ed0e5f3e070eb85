#!/bin/bash
# scripts/client-vs-wrk.sh: ktls-client get against wrk and h2load on the
# same server, in the same run: keep-alive HTTPS requests per second.
#
#   scripts/client-vs-wrk.sh [--rounds N] [--duration SECONDS] [--conns N] [--size BYTES]
#                            [--clients ktls-client,wrk,h2load]
#
# The server: ktls-server, one thread pinned to CPU 0, ECDSA P-256, TLS 1.3,
# answering GET /bytes/SIZE. Each client runs pinned to CPU 1, one thread,
# CONNS keep-alive connections, for SECONDS, and the clients take turns round
# by round:
#   wrk          wrk -t1 -cCONNS -dSECONDS URL
#   h2load       h2load --h1 -t1 -cCONNS -DSECONDS URL
#   ktls-client  ktls-client get URL -t1 -cCONNS -dSECONDS (every body checked
#                byte for byte against the /bytes pattern)
# Printed per round: each client's requests/s and its CPU per request (user +
# system of the client process); then each client's median requests/s and its
# ratio to wrk's. Short alternating rounds compare the clients under the same
# conditions; on a shared or virtual machine figures drift: read the ratios.
# What the server spends, and whether other work disturbed its CPU, is the
# bench's measurement, not this script's: ktls-bench(1) (docs/bench.md).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 dur=5 conns=16 size=1024 clients=wrk,h2load,ktls-client
while (($#)); do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) dur=$2; shift ;;
	--conns) conns=$2; shift ;;
	--size) size=$2; shift ;;
	--clients) clients=$2; shift ;;
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
tmp=$(mktemp -d)
spid=
cleanup() { [[ -n $spid ]] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

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
printf '%-5s  %-12s  %12s  %14s\n' round client requests/s "client µs/req"
for ((r = 1; r <= rounds; r++)); do
	for c in "${want[@]}"; do
		read -r rps ccpu < <(run "$c")
		us=$(awk -v c="$ccpu" -v r="$rps" -v d="$dur" 'BEGIN { printf "%.1f", (r > 0 ? c * 1e6 / (r * d) : 0) }')
		printf '%-5s  %-12s  %12.0f  %14s\n' "$r" "$c" "$rps" "$us"
		all[$c]+="$rps "
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
echo "(server: ktls-server, 1 thread on CPU 0; clients on CPU 1, 1 thread, $conns connections, ${dur} s, GET /bytes/$size)"

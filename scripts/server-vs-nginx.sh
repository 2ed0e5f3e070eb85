#!/bin/bash
# scripts/server-vs-nginx.sh: ktls-server (--tls user) against a private
# nginx (scripts/nginx-peer.sh), same client, same run, ratios of server CPU.
#
#   scripts/server-vs-nginx.sh [--rounds N] [--duration SECONDS] [--what handshake,bulk]
#                              [--hs-client wrk|ktls-client] [--server-opt OPT]...
#
# Both servers: one worker pinned to CPU 0, ECDSA P-256 certificate, TLS 1.3,
# TLS_AES_128_GCM_SHA256, X25519, no tickets and no session cache. The client
# (wrk, pinned to CPU 1) is the same program with the same concurrency for
# both, and the two servers alternate round by round. Server CPU is read from
# /proc/<pid>/stat (user + system, every process of the server) before and
# after each run. Reported:
#   handshake  wrk -H 'Connection: close' GET /bytes/1: one full handshake per
#              request; server CPU us per handshake. With --hs-client
#              ktls-client: ktls-client handshake -c 16 (connect, handshake,
#              close), a client cheap enough to saturate either server; the
#              handshakes counted are the client's
#   bulk       wrk keep-alive GET /bytes/1048576; server CPU ns per body byte
# with the crypto floor from `openssl speed` on CPU 0 (ECDSA P-256 sign + two
# X25519 operations per handshake; AES-128-GCM on 16 KiB blocks per byte).
# --server-opt OPT (repeatable) adds OPT to ktls-server's command line, e.g.
# --server-opt --stock-openssl (stock OpenSSL paths: no osslshim/).
# Timings on a shared or virtual machine are noisy: read the ratios.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 dur=4 what=handshake,bulk hsclient=wrk sopts=()
while (($#)); do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) dur=$2; shift ;;
	--what) what=$2; shift ;;
	--hs-client) hsclient=$2; shift ;;
	--server-opt) sopts+=("$2"); shift ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "server-vs-nginx: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $hsclient in wrk | ktls-client) ;; *) echo "server-vs-nginx: --hs-client: wrk or ktls-client" >&2; exit 2 ;; esac
for t in wrk taskset openssl jq; do
	type -P "$t" >/dev/null || { echo "server-vs-nginx: $t is missing" >&2; exit 1; }
done
[[ -x $repo/bin/ktls-server ]] || { echo "server-vs-nginx: build first (make)" >&2; exit 1; }
hz=$(getconf CLK_TCK)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; for _ in $(seq 20); do p=$((20000 + RANDOM % 30000)); port_free "$p" && { echo "$p"; return; }; done; return 1; }
# CPU ticks (user + system) of processes
ticks() { local t=0 p f; for p in "$@"; do read -r -a f < <(sed 's/.*) //' "/proc/$p/stat"); t=$((t + f[11] + f[12])); done; echo "$t"; }

tls=(--tls-version 1.3 --ciphersuites TLS_AES_128_GCM_SHA256 --groups X25519)
sport=$(pick_port) nport=$(pick_port)
tmp=$(mktemp -d)
"$repo/bin/ktls-server" --port "$sport" --threads 1 --cpus 0 --tickets 0 --session-cache 0 "${tls[@]}" "${sopts[@]}" \
	--cert "$repo/build/certs/ecdsa-p256.crt" --key "$repo/build/certs/ecdsa-p256.key" >"$tmp/server.out" 2>&1 &
spid=$!
read -r ndir npid _ < <("$repo/scripts/nginx-peer.sh" start --port "$nport" --cpu 0 --tickets off \
	--tls-version 1.3 --ciphersuites TLS_AES_128_GCM_SHA256 --groups X25519 --bytes 1,1048576) || {
	kill "$spid"; echo "server-vs-nginx: nginx did not start" >&2; exit 1; }
trap 'kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; "$repo/scripts/nginx-peer.sh" stop "$ndir"; rm -rf "$tmp"' EXIT
npids="$npid $(pgrep -P "$npid" | tr '\n' ' ')"
sleep 0.5

# run PORT PIDS ARGS...: prints "requests ticks wall_s"
run() {
	local port=$1; shift
	local pids=$1; shift
	local c0 c1 out n t0
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	c0=$(ticks $pids)
	if [[ $path == ktls-client ]]; then
		out=$(taskset -c 1 "$repo/bin/ktls-client" handshake --port "$port" "$@" -q --json "$tmp/hs.json" 2>&1)
	else
		out=$(taskset -c 1 wrk -t1 "$@" "https://127.0.0.1:$port$path" 2>&1)
	fi
	# shellcheck disable=SC2086
	c1=$(ticks $pids)
	if [[ $path == ktls-client ]]; then
		n=$(jq -r '.handshakes' "$tmp/hs.json")
		[[ $(jq -r '.errors_total' "$tmp/hs.json") == 0 ]] ||
			echo "server-vs-nginx: errors from ktls-client on port $port: $(jq -c .errors "$tmp/hs.json")" >&2
		echo "${n:-0} $((c1 - c0)) $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
		return
	fi
	n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
	if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
		echo "server-vs-nginx: errors from wrk on port $port: $(grep 'Non-2xx\|Socket errors' <<<"$out")" >&2
	fi
	echo "${n:-0} $((c1 - c0)) $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
}

declare -A req cpu wall
for w in ${what//,/ }; do
	case $w in
	handshake)
		if [[ $hsclient == ktls-client ]]; then
			path=ktls-client args=(-c 16 -d "${dur}s" "${tls[@]}")
		else
			path=/bytes/1 args=(-c8 -d"${dur}s" -H 'Connection: close')
		fi ;;
	bulk) path=/bytes/1048576 args=(-c4 -d"${dur}s") ;;
	*) echo "server-vs-nginx: --what: handshake or bulk" >&2; exit 2 ;;
	esac
	for ((r = 1; r <= rounds; r++)); do
		for who in ours nginx; do
			if [[ $who == ours ]]; then read -r n t s < <(run "$sport" "$spid" "${args[@]}")
			else read -r n t s < <(run "$nport" "$npids" "${args[@]}"); fi
			req[$w.$who]=$((${req[$w.$who]:-0} + n))
			cpu[$w.$who]=$((${cpu[$w.$who]:-0} + t))
			wall[$w.$who]=$(awk -v x="${wall[$w.$who]:-0}" -v y="$s" 'BEGIN { print x + y }')
		done
	done
done

sign=$(taskset -c 0 openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $(NF-1)}')
x25519=$(taskset -c 0 openssl speed -seconds 2 ecdhx25519 2>/dev/null | awk '/ecdh \(X25519\)/ {print $NF}')
gcm=$(taskset -c 0 openssl speed -seconds 2 -evp aes-128-gcm -bytes 16384 2>/dev/null | awk '/^AES-128-GCM/ {sub("k", "", $2); print $2}')
echo "server-vs-nginx: $(uname -r), $(openssl version), $(nginx -v 2>&1 | sed 's/.*: //'), $rounds rounds x ${dur}s"
printf '%-10s %-8s %10s %10s %14s %6s\n' test server requests cpu_s per_unit busy
for w in ${what//,/ }; do
	for who in ours nginx; do
		n=${req[$w.$who]} t=${cpu[$w.$who]}
		if [[ $w == handshake ]]; then
			u=$(awk -v t="$t" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f us/hs", n ? t / hz * 1e6 / n : 0 }')
		else
			u=$(awk -v t="$t" -v hz="$hz" -v n="$n" 'BEGIN { printf "%.3f ns/B", n ? t / hz * 1e9 / (n * 1048576) : 0 }')
		fi
		printf '%-10s %-8s %10s %10s %14s %5.0f%%\n' "$w" "$who" "$n" "$(awk -v t="$t" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')" "$u" \
			"$(awk -v t="$t" -v hz="$hz" -v s="${wall[$w.$who]}" 'BEGIN { print s ? t / hz / s * 100 : 0 }')"
	done
	ratio=$(awk -v a="${cpu[$w.ours]}" -v an="${req[$w.ours]}" -v b="${cpu[$w.nginx]}" -v bn="${req[$w.nginx]}" \
		'BEGIN { if (an && bn && b) printf "%.3f", (a / an) / (b / bn); else print "n/a" }')
	if [[ $w == handshake ]]; then
		floor=$(awk -v s="$sign" -v x="$x25519" 'BEGIN { if (s && x) printf "%.1f", 1e6 / s + 2 * 1e6 / x; else print "n/a" }')
		ours=$(awk -v t="${cpu[$w.ours]}" -v hz="$hz" -v n="${req[$w.ours]}" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
		echo "handshake: ours/nginx = $ratio (target <= 0.85); crypto floor $floor us (ECDSA sign $sign/s, X25519 $x25519 op/s): ours = $(awk -v a="$ours" -v f="$floor" 'BEGIN { printf "%.2f", a / f }') x floor"
	else
		floor=$(awk -v g="$gcm" 'BEGIN { if (g) printf "%.3f", 1e9 / (g * 1000); else print "n/a" }')
		ours=$(awk -v t="${cpu[$w.ours]}" -v hz="$hz" -v n="${req[$w.ours]}" 'BEGIN { printf "%.3f", t / hz * 1e9 / (n * 1048576) }')
		echo "bulk: ours/nginx = $ratio (target <= 0.75); AES-128-GCM floor $floor ns/B: ours = $(awk -v a="$ours" -v f="$floor" 'BEGIN { printf "%.2f", a / f }') x floor"
	fi
done

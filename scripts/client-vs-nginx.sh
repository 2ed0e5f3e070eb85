#!/bin/bash
# scripts/client-vs-nginx.sh: what load generators spend per full TLS 1.3
# handshake, against what one nginx worker spends serving it, same run.
#
#   scripts/client-vs-nginx.sh [--rounds N] [--duration SECONDS] [--conns N]
#                              [--clients ktls-client,h2load,s_time] [--client-bin PATH]
#                              [--client-args 'ARGS']   (more ktls-client options, e.g. --stock-openssl)
#
# nginx (scripts/nginx-peer.sh): one worker pinned to CPU 0, ECDSA P-256
# certificate, TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, no tickets or
# session cache. Each client is pinned to CPU 1, and the clients take turns
# round by round:
#   ktls-client  ktls-client handshake -c CONNS -d SECONDS (connect, handshake, close)
#   h2load       h2load --h1 -t 1 with one request per connection, CONNS at a time
#                (started in batches of 4000 connections until SECONDS are used)
#   s_time       openssl s_time -new -time SECONDS (one connection at a time)
# Client CPU: user + system time of the client process (bash's `time`);
# nginx CPU: its worker's /proc/<pid>/stat over the same interval; both
# divided by the handshakes the client completed. Also printed: nginx's busy
# share (how close the client drove it to saturation) and the client's crypto
# floor from `openssl speed` on CPU 1 (one ECDSA P-256 verification and two
# X25519 operations per handshake). Each round also says how much of CPU 0
# went to anything but nginx (other processes, interrupts, the hypervisor:
# /proc/stat): rounds where that exceeds 10% are marked DISTURBED and left
# out of the totals. Figures on a shared or virtual machine are noisy: read
# the ratios, and run it when the machine is otherwise idle.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 dur=5 conns=16 clients=ktls-client,h2load,s_time cbin=$repo/bin/ktls-client cargs=
while (($#)); do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--duration) dur=$2; shift ;;
	--conns) conns=$2; shift ;;
	--clients) clients=$2; shift ;;
	--client-bin) cbin=$2; shift ;;
	--client-args) cargs=$2; shift ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "client-vs-nginx: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $rounds =~ ^[0-9]+$ && $dur =~ ^[0-9]+$ && $conns =~ ^[0-9]+$ ]] ||
	{ echo "client-vs-nginx: --rounds, --duration and --conns take whole numbers" >&2; exit 2; }
for t in taskset openssl jq awk; do
	type -P "$t" >/dev/null || { echo "client-vs-nginx: $t is missing" >&2; exit 1; }
done
[[ -x $cbin ]] || { echo "client-vs-nginx: $cbin missing: build first (make)" >&2; exit 1; }
hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)

ticks() { local t=0 p f; for p in "$@"; do read -r -a f < <(sed 's/.*) //' "/proc/$p/stat"); t=$((t + f[11] + f[12])); done; echo "$t"; }
# busy ticks of CPU $1 (user nice system irq softirq steal)
cpu_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# below the usual ephemeral range (32768-60999), where the clients' own
# connections (and their TIME_WAITs) are
pick_port() { local p; for _ in $(seq 20); do p=$((10000 + RANDOM % 22000)); port_free "$p" && { echo "$p"; return; }; done; return 1; }

ndir=
for _ in 1 2 3 4 5; do
	port=$(pick_port) || break
	read -r ndir npid _ < <("$repo/scripts/nginx-peer.sh" start --port "$port" --cpu 0 --tickets off \
		--tls-version 1.3 --ciphersuites TLS_AES_128_GCM_SHA256 --groups X25519 --bytes 1 2>/dev/null) && break
	ndir=
done
[[ -n $ndir ]] || { echo "client-vs-nginx: nginx did not start (scripts/nginx-peer.sh start)" >&2; rm -rf "$tmp"; exit 1; }
trap '"$repo/scripts/nginx-peer.sh" stop "$ndir"; rm -rf "$tmp"' EXIT
npids="$npid $(pgrep -P "$npid" | tr '\n' ' ')"
sleep 0.3

# run_client NAME: runs it once; prints "handshakes client_cpu_s nginx_ticks wall_s other_ticks_cpu0"
run_client() {
	local name=$1 n=0 c0 c1 t0 t1 b0 b1 out=$tmp/out TIMEFORMAT='%3U %3S'
	b0=$(cpu_busy 0)
	c0=$(ticks $npids)
	t0=$(date +%s.%N)
	case $name in
	ktls-client)
		{ time taskset -c 1 "$cbin" handshake --port "$port" -c "$conns" -d "${dur}s" --tls-version 1.3 \
			--ciphersuites TLS_AES_128_GCM_SHA256 --groups X25519 -q --json "$tmp/c.json" $cargs >"$out" 2>&1; } 2>"$tmp/time"
		n=$(jq -r '.handshakes' "$tmp/c.json" 2>/dev/null || echo 0) ;;
	h2load)
		# one request per connection: -n = -c; batches until the time is used
		local end k u=0 s=0
		end=$(awk -v t="$t0" -v d="$dur" 'BEGIN { printf "%.3f", t + d }')
		while awk -v e="$end" -v now="$(date +%s.%N)" 'BEGIN { exit !(now < e) }'; do
			{ time taskset -c 1 h2load --h1 -t 1 -n 4000 -c 4000 -m 1 --tls13-ciphers TLS_AES_128_GCM_SHA256 \
				"https://127.0.0.1:$port/bytes/1" >"$out" 2>&1; } 2>"$tmp/time1"
			k=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$out")
			n=$((n + ${k:-0}))
			read -r a b <"$tmp/time1"
			u=$(awk -v x="$u" -v y="$a" 'BEGIN { print x + y }')
			s=$(awk -v x="$s" -v y="$b" 'BEGIN { print x + y }')
		done
		echo "$u $s" >"$tmp/time" ;;
	s_time)
		{ time taskset -c 1 openssl s_time -connect "127.0.0.1:$port" -new -time "$dur" -tls1_3 \
			-ciphersuites TLS_AES_128_GCM_SHA256 >"$out" 2>&1; } 2>"$tmp/time"
		n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$out" | head -1) ;;
	esac
	t1=$(date +%s.%N)
	c1=$(ticks $npids)
	b1=$(cpu_busy 0)
	read -r a b <"$tmp/time"
	echo "${n:-0} $(awk -v a="$a" -v b="$b" 'BEGIN { print a + b }') $((c1 - c0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $((b1 - b0 - (c1 - c0)))"
}

declare -A hs ccpu nticks wall
IFS=, read -ra list <<<"$clients"
for ((r = 1; r <= rounds; r++)); do
	for cl in "${list[@]}"; do
		case $cl in ktls-client | h2load | s_time) ;; *) echo "client-vs-nginx: unknown client '$cl'" >&2; exit 2 ;; esac
		read -r n c t w o < <(run_client "$cl")
		other=$(awk -v o="$o" -v hz="$hz" -v w="$w" 'BEGIN { v = w ? o / hz / w * 100 : 0; print v < 0 ? 0 : v }')
		dis=$(awk -v v="$other" 'BEGIN { print (v > 10) ? "  DISTURBED" : "" }')
		printf 'round %d %-12s %7d handshakes  client %6.1f us/hs  nginx %6.1f us/hs  nginx busy %3.0f%%  other work on CPU 0 %3.0f%%%s\n' \
			"$r" "$cl" "$n" \
			"$(awk -v c="$c" -v n="$n" 'BEGIN { print n ? c * 1e6 / n : 0 }')" \
			"$(awk -v t="$t" -v hz="$hz" -v n="$n" 'BEGIN { print n ? t / hz * 1e6 / n : 0 }')" \
			"$(awk -v t="$t" -v hz="$hz" -v w="$w" 'BEGIN { print w ? t / hz / w * 100 : 0 }')" "$other" "$dis"
		[[ -n $dis ]] && continue
		hs[$cl]=$((${hs[$cl]:-0} + n))
		ccpu[$cl]=$(awk -v x="${ccpu[$cl]:-0}" -v y="$c" 'BEGIN { print x + y }')
		nticks[$cl]=$((${nticks[$cl]:-0} + t))
		wall[$cl]=$(awk -v x="${wall[$cl]:-0}" -v y="$w" 'BEGIN { print x + y }')
	done
done

verify=$(taskset -c 1 openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $NF}')
x25519=$(taskset -c 1 openssl speed -seconds 2 ecdhx25519 2>/dev/null | awk '/ecdh \(X25519\)/ {print $NF}')
floor=$(awk -v v="$verify" -v x="$x25519" 'BEGIN { if (v && x) printf "%.1f", 1e6 / v + 2e6 / x; else print 0 }')
echo "client-vs-nginx: $(uname -r), $(openssl version | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //'), $rounds rounds x ${dur}s, $conns connections"
echo "client crypto floor: $floor us per handshake (ECDSA P-256 verify ${verify}/s, X25519 ${x25519} op/s, openssl speed on CPU 1)"
printf '%-12s %10s %14s %14s %14s %12s %10s\n' client handshakes client_us/hs nginx_us/hs client/nginx nginx_busy x_floor
for cl in "${list[@]}"; do
	awk -v n="${hs[$cl]:-0}" -v c="${ccpu[$cl]:-0}" -v t="${nticks[$cl]:-0}" -v hz="$hz" -v w="${wall[$cl]:-0}" -v f="$floor" -v name="$cl" \
		'BEGIN { if (!n) { printf "%-12s %10d %14s\n", name, 0, "no undisturbed round"; exit }
			cu = c * 1e6 / n; nu = t / hz * 1e6 / n
			printf "%-12s %10d %14.1f %14.1f %14.3f %11.0f%% %10s\n", name, n, cu, nu, nu ? cu / nu : 0, t / hz / w * 100, f ? sprintf("%.2f", cu / f) : "n/a" }'
done

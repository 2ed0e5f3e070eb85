#!/bin/bash
# scripts/server-memory.sh: userspace memory per idle established connection.
#
#   scripts/server-memory.sh [--tls user|ktls] [--count N] [--nginx]
#
# Starts ktls-server (one worker), opens N connections with
# build/tests/helpers/tls-hold (each: handshake, one request, then idle), and
# reports the growth of the server's resident set (VmRSS) divided by N. With
# --nginx the same for a private nginx (scripts/nginx-peer.sh), for scale.
# --tls ktls needs a kernel with kTLS: run it in the VM,
#   scripts/vm.sh -- scripts/server-memory.sh --tls ktls
# (memory figures from the VM are real; its timings are not).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mode=user count=2000 nginx=0
while (($#)); do
	case $1 in
	--tls) mode=$2; shift ;;
	--count) count=$2; shift ;;
	--nginx) nginx=1 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "server-memory: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
hold=$repo/build/tests/helpers/tls-hold
[[ -x $hold && -x $repo/bin/ktls-server ]] || { echo "server-memory: build first (make tests)" >&2; exit 1; }
ulimit -n $((count + 256)) 2>/dev/null || { echo "server-memory: cannot raise the descriptor limit to $((count + 256))" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rss_of() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status"))); done; echo "$t"; }

# measure NAME PORT PIDS...: open, hold, measure, release
measure() {
	local name=$1 port=$2; shift 2
	local before after
	# warm up: one connection through the whole path, then let it go
	echo | "$hold" --port "$port" --count 1 >/dev/null || { echo "server-memory: $name does not answer" >&2; return 1; }
	sleep 0.2
	before=$(rss_of "$@")
	local f=${name//\//-}
	mkfifo "$tmp/in.$f"
	"$hold" --port "$port" --count "$count" <"$tmp/in.$f" >"$tmp/out.$f" &
	local hpid=$!
	exec 3>"$tmp/in.$f"
	for _ in $(seq 1200); do grep -q ready "$tmp/out.$f" && break; kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
	if ! grep -q ready "$tmp/out.$f"; then
		exec 3>&-
		wait "$hpid"
		echo "server-memory: $name: the connections could not all be opened" >&2
		return 1
	fi
	sleep 0.3
	after=$(rss_of "$@")
	exec 3>&-
	wait "$hpid"
	awk -v n="$name" -v c="$count" -v b="$before" -v a="$after" \
		'BEGIN { printf "%-16s %6d idle connections: RSS %d -> %d KiB, %.2f KiB (%d bytes) per connection\n", n, c, b, a, (a - b) / c, (a - b) * 1024 / c }'
}

"$repo/bin/ktls-server" --port 0 --threads 1 --tls "$mode" --idle-timeout 10m \
	--cert "$repo/build/certs/ecdsa-p256.crt" --key "$repo/build/certs/ecdsa-p256.key" >"$tmp/out" 2>"$tmp/err" &
spid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$tmp/out")
	[[ -n $port ]] && break
	sleep 0.05
done
[[ -n $port ]] || { echo "server-memory: the server did not start: $(cat "$tmp/err")" >&2; kill "$spid"; exit 1; }
measure "ktls-server/$mode" "$port" "$spid"
kill "$spid"
wait "$spid"

if ((nginx)); then
	nport=$((10000 + RANDOM % 22000))
	read -r ndir npid _ < <("$repo/scripts/nginx-peer.sh" start --port "$nport" --cpu 0 --tls-version any) || exit 1
	measure nginx "$nport" "$npid" $(pgrep -P "$npid")
	"$repo/scripts/nginx-peer.sh" stop "$ndir"
fi

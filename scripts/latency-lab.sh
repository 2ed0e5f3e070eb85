#!/bin/bash
# scripts/latency-lab.sh: time to first byte against round-trip time, per
# kind of connection, with the RTT made by netem on the loopback of the VM.
#
#   scripts/latency-lab.sh [--rtts 0,10,50,100] [-n 5] [--out DIR] [--kernel NAME]
#   (--out defaults to results/<date>-latency-lab-<kernel>)
#
# For each RTT (ms): `tc qdisc replace dev lo root netem delay RTT/2` (a
# packet on lo is delayed once per direction), then for each kind
#   tls12-full tls12-resumed tls13-full tls13-resumed tls13-0rtt tls13-hrr
# one ktls-client handshake run of -n connections on one slot, each with a
# GET /bytes/100 (a --resume run's first connection is a full handshake and
# is left out by taking the kind's most common round-trip count), against
# ktls-server --early-data 4K (--groups X25519 for the HelloRetryRequest).
# The programs run in the VM (scripts/vm.sh, plain TCG: the guest clock is
# real time and emulated computation costs milliseconds; see the report);
# out of each client JSON comes one line of results.tsv. On the host the
# results become DIR/latency.md (a report section) and DIR/latency.svg
# (gnuplot, one line per kind).
# Exit: 0, 1 when a run failed (its output is shown), 2 on a usage error.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KTLS_BIN=${KTLS_BIN:-$REPO/bin}

KINDS=(tls12-full tls12-resumed tls13-full tls13-resumed tls13-0rtt tls13-hrr)
kind_args() {
	case $1 in
	tls12-full) echo "--tls-version 1.2" ;;
	tls12-resumed) echo "--tls-version 1.2 --resume" ;;
	tls13-full) echo "--tls-version 1.3" ;;
	tls13-resumed) echo "--tls-version 1.3 --resume" ;;
	tls13-0rtt) echo "--tls-version 1.3 --resume --early-data" ;;
	tls13-hrr) echo "--tls-version 1.3 --groups P-256:X25519" ;;
	esac
}

# --- inside the VM: measure, print the TSV on stdout ------------------------
inside() {
	local rtts=$1 n=$2 rtt kind port=8443 s_pid out
	modprobe sch_netem 2>/dev/null
	if ! tc qdisc replace dev lo root netem delay 1ms 2>/tmp/tc.err; then
		echo "latency-lab: tc netem on lo failed: $(cat /tmp/tc.err)" >&2
		return 1
	fi
	tc qdisc del dev lo root
	printf 'rtt_ms\tkind\tround_trips\tconnections\tttfb_p50_us\trtts_us\thandshake_p50_us\tconnect_p50_us\n'
	for rtt in ${rtts//,/ }; do
		if ((rtt > 0)); then
			# half the RTT each way, in microseconds (5 ms: 5000us)
			tc qdisc replace dev lo root netem delay "$((rtt * 500))us" || return 1
		else
			tc qdisc del dev lo root 2>/dev/null
		fi
		for kind in "${KINDS[@]}"; do
			local groups=()
			[[ $kind == tls13-hrr ]] && groups=(--groups X25519)
			"$KTLS_BIN/ktls-server" -p $port -t 1 --early-data 4K -q "${groups[@]}" \
				--cert build/certs/ecdsa-p256.crt --key build/certs/ecdsa-p256.key &
			s_pid=$!
			for _ in $(seq 100); do
				(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
				sleep 0.1
			done
			# shellcheck disable=SC2046
			"$KTLS_BIN/ktls-client" handshake -p $port --request /bytes/100 -n "$n" -c 1 -q \
				--timeout 30s --json /tmp/ll.json $(kind_args "$kind") >/tmp/ll.out 2>&1
			local rc=$?
			kill "$s_pid"; wait "$s_pid" 2>/dev/null
			if ((rc)); then
				echo "latency-lab: $kind at RTT $rtt ms failed:" >&2
				cat /tmp/ll.out >&2
				return 1
			fi
			# the kind's own connections: its most common round-trip count
			jq -r --arg k "$kind" --argjson rtt "$rtt" '
				(.round_trips | to_entries | max_by(.value)) as $m |
				[$rtt, $k, ($m.key | tonumber), $m.value, .phases_us.ttfb.p50,
				 (($m.key | tonumber) * $rtt * 1000),
				 .phases_us.handshake.p50, .phases_us.connect.p50] | @tsv' /tmp/ll.json
		done
	done
	tc qdisc del dev lo root 2>/dev/null
	return 0
}

if [[ ${1:-} == --inside ]]; then
	inside "$2" "$3"
	exit $?
fi

# --- on the host -------------------------------------------------------------
RTTS=0,10,50,100 N=5 OUT= KERNEL=bookworm
while (($#)); do
	case $1 in
	--rtts) RTTS=$2; shift 2 ;;
	-n) N=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	-h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "latency-lab: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $RTTS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "latency-lab: --rtts: expected ms, e.g. 0,10,50" >&2; exit 2; }
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "latency-lab: -n: expected a count" >&2; exit 2; }
OUT=${OUT:-results/$(date -u +%F)-latency-lab-$KERNEL}
mkdir -p "$OUT" || exit 1
tsv=$OUT/results.tsv
"$REPO/scripts/vm.sh" -q -k "$KERNEL" -t 1800 -- scripts/latency-lab.sh --inside "$RTTS" "$N" >"$tsv" || {
	echo "latency-lab: the run in the VM failed (results so far: $tsv)" >&2
	exit 1
}

# the report section
{
	echo "## Time to first byte against round-trip time"
	echo
	echo "ktls-client handshake --request /bytes/100 against ktls-server --early-data 4K in the"
	echo "VM ($KERNEL kernel, plain TCG), RTT made with \`tc qdisc ... netem delay RTT/2\` on lo;"
	echo "$N connections per kind and RTT; TTFB is the p50 from connect() to the response's"
	echo "first byte. Round trips as the client counts them (the TCP connect is one)."
	echo "Emulated computation adds milliseconds: the TTFB at RTT 0 is that cost."
	echo
	echo "| RTT ms | kind | round trips | TTFB p50 ms | round trips x RTT ms | TTFB - RTTs ms |"
	echo "|---:|---|---:|---:|---:|---:|"
	awk -F'\t' 'NR > 1 { rt = $3 * $1; printf "| %d | %s | %d | %.1f | %d | %.1f |\n", $1, $2, $3, $5 / 1000, rt, $5 / 1000 - rt }' "$tsv"
	echo
	echo "Round trips: TLS 1.2 full 4 (TCP, ClientHello, the client's Finished, the request),"
	echo "TLS 1.2 resumed and TLS 1.3 full or resumed 3, TLS 1.3 0-RTT 2 (the request goes with"
	echo "the ClientHello, the answer comes with the server's Finished), a HelloRetryRequest one"
	echo "more than TLS 1.3 full (4). See docs/latency-lab.md."
	echo
	echo "![TTFB against RTT](latency.svg)"
} >"$OUT/latency.md"

if command -v gnuplot >/dev/null; then
	plot="set terminal svg size 800,500; set output '$OUT/latency.svg';"
	plot+="set xlabel 'RTT (ms)'; set ylabel 'TTFB p50 (ms)'; set key left top; set grid;"
	plot+="plot "
	sep=
	for k in "${KINDS[@]}"; do
		awk -F'\t' -v k="$k" 'NR > 1 && $2 == k { print $1, $5 / 1000 }' "$tsv" >"$OUT/$k.dat"
		plot+="$sep'$OUT/$k.dat' using 1:2 with linespoints title '$k'"
		sep=", "
	done
	gnuplot -e "$plot" || echo "latency-lab: gnuplot failed: no plot" >&2
	for k in "${KINDS[@]}"; do rm -f "$OUT/$k.dat"; done
fi
echo "latency-lab: $OUT/latency.md, $OUT/results.tsv${OUT:+, $OUT/latency.svg}"

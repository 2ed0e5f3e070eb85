#!/bin/bash
# scripts/cost.sh: the cost lab. Runs a ktls-bench suite with
# --clock instructions inside scripts/vm.sh --icount (one guest per kernel),
# brings each run folder back, renders its report (and plot), and with
# --check compares the counts with a baseline (ktls-bench cost-check).
# See docs/cost-lab.md and usage().
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KTLS_BIN=${KTLS_BIN:-$REPO/bin}
KTLS_BUILD=${KTLS_BUILD:-$REPO/build}
export KTLS_BIN KTLS_BUILD

usage() {
	cat <<USAGE
usage: scripts/cost.sh [OPTIONS] [-- KTLS-BENCH-RUN-OPTIONS...]

Count instructions (QEMU icount) of a ktls-bench suite on each kernel:
one guest per kernel (scripts/vm.sh --icount), the run folder written to
OUT/KERNEL with its report.md (section "Instruction counts (QEMU icount)").

Options:
  -k, --kernel LIST  kernels, comma-separated (default: bookworm,trixie-backports)
  -s, --suite NAME   ktls-bench suite (default: cost)
  -o, --out DIR      where the run folders go (default: results/<date>-<time>-cost)
  -c, --check FILE   then compare with this baseline (ktls-bench cost-check);
                     exit 1 when a count grew beyond the tolerance
      --tolerance P  percent, for --check (default: ktls-bench's, 2)
      --no-ceiling   skip openssl speed (no floor column)
      --no-plots     draw no plot
      --nginx        also count nginx (ktls-bench --peer nginx; its kTLS rows with
                     ssl_conf_command Options KTLS), copied into the guest
  -t, --timeout T    per guest (default: 15m)
  -j, --jobs N       guests at once (default: this host's CPUs, at most one per
                     kernel; each guest is one vCPU, and counts do not depend on
                     how many run)
  -h, --help         this text
USAGE
}

kernels=bookworm,trixie-backports suite=cost out='' check='' tol='' ceiling=1 plots=1 tmo=15m nginx=
jobs=$(nproc 2>/dev/null || echo 1)
while (($#)); do
	case $1 in
	-k | --kernel | -s | --suite | -o | --out | -c | --check | --tolerance | -t | --timeout | -j | --jobs)
		(($# >= 2)) || { echo "cost: option '$1' needs a value (see --help)" >&2; exit 2; } ;;&
	-k | --kernel) kernels=$2; shift 2 ;;
	-s | --suite) suite=$2; shift 2 ;;
	-o | --out) out=$2; shift 2 ;;
	-c | --check) check=$2; shift 2 ;;
	--tolerance) tol=$2; shift 2 ;;
	--no-ceiling) ceiling=''; shift ;;
	--no-plots) plots=''; shift ;;
	--nginx) nginx=1; shift ;;
	-t | --timeout) tmo=$2; shift 2 ;;
	-j | --jobs) jobs=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "cost: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "cost: --jobs: '$jobs' is not a positive number" >&2; exit 2; }
# Each kernel once: two guests of one kernel would write the same folder.
IFS=, read -ra given <<<"$kernels"
ks=()
for k in "${given[@]}"; do
	[[ -n $k && " ${ks[*]} " != *" $k "* ]] && ks+=("$k")
done
((${#ks[@]})) || { echo "cost: --kernel: no kernel named" >&2; exit 2; }
[[ -n $out ]] || out=$REPO/results/$(date -u +%Y-%m-%d-%H%M%S)-cost
[[ -x $KTLS_BIN/ktls-bench ]] || { echo "cost: $KTLS_BIN/ktls-bench is missing: run make" >&2; exit 1; }
mkdir -p "$out" || exit 1
# The guest holds no bench/suites: the suite's text goes in as an argument.
suite_file=$suite
[[ -f $suite_file ]] || suite_file=$REPO/bench/suites/$suite
[[ -f $suite_file ]] || { echo "cost: no suite '$suite' (a file, or a name in bench/suites/)" >&2; exit 2; }
suite_text=$(<"$suite_file")

# The guest's command: the run into its /tmp, then every file of the run
# folder on stdout as "@@cost-file NAME" and one line of base64.
guest=(bash -c '
	printf "%s\n" "$1" >/tmp/cost.suite && shift
	# A fixed receive buffer of 512 KiB (no autotuning): with it, a response
	# is cut into the same TCP segments run after run. Autotuning grows the
	# buffer by timings and made kTLS bulk rows vary by up to 12.5%; fixed at
	# the 128 KiB default, nginx'"'"'s rows still varied by up to 4%, and at
	# 1 MiB or 8 MiB our kTLS rows did (docs/cost-lab.md, Repeatability).
	# The guest is this run'"'"'s alone.
	for s in net.ipv4.tcp_moderate_rcvbuf=0 "net.ipv4.tcp_rmem=4096 524288 524288"; do
		sysctl -qw "$s" ||
			{ echo "cost: cannot set $s in the guest (is sysctl in its initramfs?)" >&2; exit 1; }
	done
	# through a pipe: the guest'"'"'s stderr is a serial port, a terminal, and
	# ktls-bench would redraw its progress line there with escapes
	"$KTLS_BIN/ktls-bench" run --clock instructions --out /tmp/cost --no-plots --suite /tmp/cost.suite "$@" 2>&1 | cat >&2
	rc=${PIPESTATUS[0]}
	cd /tmp/cost 2>/dev/null || exit $rc
	for f in *; do [[ -f $f ]] && { echo "@@cost-file $f"; base64 -w0 "$f"; echo; }; done
	exit $rc' cost "$suite_text")
[[ -n $ceiling ]] || guest+=(--no-ceiling)
if [[ -n $nginx ]]; then
	command -v nginx >/dev/null || { echo "cost: --nginx: nginx is not installed: apt-get install nginx" >&2; exit 1; }
	export KTLS_VM_EXTRA="${KTLS_VM_EXTRA:+$KTLS_VM_EXTRA }nginx"
	guest+=(--peer nginx)
fi
guest+=("$@")

# run_guest K: one kernel's guest, its run folder unpacked into OUT/K; its
# messages prefixed with the kernel's name (guests may run side by side)
run_guest() {
	local k=$1 dir=$out/$1 rc t0 f
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	echo "cost: $k: suite $suite under QEMU icount into $dir" >&2
	t0=$EPOCHREALTIME
	"$REPO/scripts/vm.sh" --icount --kernel "$k" --timeout "$tmo" -- "${guest[@]}" >"$dir/.transfer" \
		2> >(sed -u "s/^/[$k] /" >&2)
	rc=$?
	awk -v d="$dir" '/^@@cost-file / { name = $2; next }
		name != "" { print > (d "/" name ".b64"); close(d "/" name ".b64"); name = "" }' "$dir/.transfer"
	for f in "$dir"/*.b64; do
		[[ -e $f ]] || continue
		base64 -d <"$f" >"${f%.b64}" && rm -f "$f"
	done
	rm -f "$dir/.transfer"
	echo "cost: $k: guest exit $rc, $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s of wall time" >&2
	echo "$rc" >"$dir/.status"
}

t_all=$EPOCHREALTIME
running=0
for k in "${ks[@]}"; do
	if ((running >= jobs)); then
		wait -n
		((running--))
	fi
	run_guest "$k" &
	((running++))
done
wait
((${#ks[@]} > 1)) && echo "cost: ${#ks[@]} guests, $(awk -v a="$t_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s of wall time in all" >&2

first=0
for k in "${ks[@]}"; do
	dir=$out/$k
	rc=$(cat "$dir/.status" 2>/dev/null || echo 1)
	rm -f "$dir/.status"
	if [[ ! -f $dir/env.json ]]; then
		echo "cost: $k: the guest wrote no run folder (status $rc)" >&2
		((first)) || first=${rc/#0/1}
		continue
	fi
	if [[ -n $plots ]]; then
		"$KTLS_BIN/ktls-bench" plotdata "$dir" >/dev/null && "$REPO/scripts/plot.sh" "$dir" >"$dir/plot.log" 2>&1 ||
			echo "cost: $k: plot not drawn (see $dir/plot.log; is gnuplot-nox installed?)" >&2
	fi
	"$KTLS_BIN/ktls-bench" report "$dir" >&2
	r=$?
	((rc == 0)) && rc=$r
	((first == 0 && rc != 0)) && first=$rc
done
if [[ -n $check ]]; then
	dirs=()
	for k in "${ks[@]}"; do [[ -f $out/$k/env.json ]] && dirs+=("$out/$k"); done
	((${#dirs[@]})) || { echo "cost: no run to check" >&2; exit 1; }
	"$KTLS_BIN/ktls-bench" cost-check ${tol:+--tolerance "$tol"} "$check" "${dirs[@]}" || exit 1
fi
exit "$first"

#!/bin/bash
# scripts/vm.sh: run a command inside a QEMU VM booting a stock Debian kernel
# with kTLS, for hosts whose kernel has none. See usage() and docs/vm.md,
# "The VM harness".
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VM_SCRIPTS=$REPO/scripts/vm
VM_CACHE=${KTLS_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ktls-bench/vm}
KTLS_BIN=${KTLS_BIN:-$REPO/bin}
KTLS_BUILD=${KTLS_BUILD:-$REPO/build}
VM_WORK=$KTLS_BUILD/vm

# Exit statuses of the harness itself (as timeout(1) has them).
EXIT_USAGE=2
EXIT_TIMEOUT=124
EXIT_HARNESS=125

DEF_KERNEL=bookworm
DEF_TIMEOUT=300
DEF_MEM=1024
DEF_ACCEL=auto
KVM_PROBE_TIMEOUT=${KTLS_VM_KVM_PROBE_TIMEOUT:-20}

usage() {
	cat <<EOF
usage: scripts/vm.sh [OPTIONS] -- COMMAND [ARGS...]

Run COMMAND inside a QEMU VM that boots a stock Debian kernel with kTLS (the
tls module, the crypto modules, loopback up), in a copy of this repository at
the same path ($REPO), and exit with COMMAND's status.
COMMAND's stdout and stderr come back on this stdout and stderr, apart from
the guest's console (kept in a log; its tail is shown when something fails).
Inside: KTLS_BIN, KTLS_BUILD, KTLS_TEST_STRICT=1, KTLS_IN_VM=<kernel name>
(and KTLS_VM_ADDR, the guest's address, with --forward; KTLS_VM_ICOUNT=1 and
KTLS_VM_ICOUNT_CPU, the CPU model, with --icount).

Options:
  -k, --kernel NAME   bookworm (Debian 12, Linux 6.1), trixie-backports (the
                      newest Linux in Debian 13 backports), trixie (Debian 13,
                      Linux 6.12), bullseye (Debian 11, Linux 5.10), or all:
                      one run per kernel, each announced on stderr
                      (default: $DEF_KERNEL)
  -t, --timeout T     kill a guest still running after T: 300, 90s, 5m, 1h
                      (default: ${DEF_TIMEOUT}s, per kernel)
  -m, --mem SIZE      guest memory, e.g. 512M, 2G (default: ${DEF_MEM}M)
  -a, --accel A       tcg, kvm, or auto: KVM only when /dev/kvm is usable and a
                      one-time probe boot under it succeeds within
                      ${KVM_PROBE_TIMEOUT}s (verdict cached) (default: $DEF_ACCEL)
  -f, --forward LIST  HOSTPORT:GUESTPORT[,...]: give the guest a network device
                      (QEMU user networking, restrict=on: it reaches nothing)
                      and forward each 127.0.0.1:HOSTPORT of the host to its
                      GUESTPORT, so host programs can talk to a server in it;
                      the guest is $VM_NET_GUEST (default: no network device)
  -u, --update        look in Debian for a newer kernel before running
                      (otherwise the kernel picked on first use is kept)
  -i, --icount        make the guest's clock an instruction counter: TCG with
                      -icount shift=0,sleep=off (1 ns of guest time per guest
                      instruction, idle time skipped), one vCPU, and
                      -cpu max,-erms,-fsrm (no rep movsb copies, which icount
                      counts once per byte; docs/cost-lab.md); inside,
                      KTLS_VM_ICOUNT=1. Every CPU time COMMAND reads is then a
                      count of instructions (ktls-bench run --clock instructions)
      --keep          keep the run folder (console log, initrd) and print its path
  -q, --quiet         print nothing but COMMAND's output and errors
  -h, --help          this text

Files: kernels are downloaded once (apt-get download, private apt
configuration) into the cache, KTLS_VM_CACHE (now: $VM_CACHE);
the initramfs is rebuilt into $VM_WORK when the project's files changed.
Environment: KTLS_VM_CACHE, KTLS_VM_MIRROR, KTLS_VM_SECURITY_MIRROR,
KTLS_VM_KEYRING, KTLS_VM_EXTRA (more host programs to copy in),
KTLS_VM_ICOUNT_CPU (--icount's CPU model, default max,-erms,-fsrm: to measure
the model's effect, e.g. max), KTLS_VM_QEMU_ARGS (more qemu options, split at
spaces, e.g. "-rtc base=2026-01-01,clock=vm").

Units: T is whole seconds, or with s, m, h; SIZE is MiB or GiB with M or G.

Exit status: COMMAND's (127: COMMAND is not in the guest); $EXIT_TIMEOUT when the
guest was killed at the timeout; $EXIT_HARNESS when the VM could not run COMMAND
(missing tools, download or boot failure); $EXIT_USAGE on a usage error. With
--kernel all: 0 when every run exited 0, otherwise the first non-zero status.

Timings inside the VM are emulated (TCG): never use them as performance figures.
EOF
}

VM_QUIET=
vm_say() { [[ -n $VM_QUIET ]] || echo "vm: $*" >&2; }
vm_err() { echo "vm: error: $*" >&2; }
usage_err() {
	echo "vm: $*" >&2
	echo "usage: scripts/vm.sh [--kernel bookworm|trixie-backports|trixie|bullseye|all] [--timeout T] [--mem SIZE] [--accel tcg|kvm|auto] [--forward H:G,...] [--icount] [--update] [--keep] [--quiet] -- COMMAND [ARGS...]  (--help for more)" >&2
	exit $EXIT_USAGE
}

# parse_duration T: seconds, from 300, 90s, 5m, 1h (whole numbers, > 0).
parse_duration() {
	[[ $1 =~ ^([0-9]{1,6})(s|m|h)?$ ]] || return 1
	local n=$((10#${BASH_REMATCH[1]})) u=${BASH_REMATCH[2]}
	case $u in m) n=$((n * 60)) ;; h) n=$((n * 3600)) ;; esac
	((n > 0)) && echo "$n"
}

# parse_mem SIZE: MiB, from 512M, 2G (K=1024 multiples; 128M to 64G).
parse_mem() {
	[[ $1 =~ ^([0-9]{1,6})([MG])$ ]] || return 1
	local n=$((10#${BASH_REMATCH[1]}))
	[[ ${BASH_REMATCH[2]} == G ]] && n=$((n * 1024))
	((n >= 128 && n <= 65536)) && echo "$n"
}

. "$VM_SCRIPTS/kernel.sh"
. "$VM_SCRIPTS/initramfs.sh"
. "$VM_SCRIPTS/net.sh"

need_tools() {
	if ! type -P qemu-system-x86_64 >/dev/null; then
		vm_err "qemu-system-x86_64 is not installed; install it with:" \
			"apt-get install --no-install-recommends qemu-system-x86"
		return 1
	fi
	if ! type -P busybox >/dev/null; then
		vm_err "busybox is not installed (the VM's init and modprobe); install it with:" \
			"apt-get install --no-install-recommends busybox-static"
		return 1
	fi
	local t miss=()
	for t in cpio:busybox flock:util-linux timeout:coreutils ldd:libc-bin xz:xz-utils; do
		type -P "${t%%:*}" >/dev/null || [[ ${t%%:*} == cpio ]] || miss+=("${t#*:}")
	done
	if ((${#miss[@]})); then
		vm_err "missing tools; install them with: apt-get install --no-install-recommends ${miss[*]}"
		return 1
	fi
}

# The guest's working directory: the caller's, when it is inside the copy.
guest_cwd() {
	local d
	for d in "$REPO" "$KTLS_BIN" "$KTLS_BUILD"; do
		[[ $PWD == "$d" || $PWD == "$d"/* ]] && [[ ! $PWD == "$VM_WORK"* ]] && { echo "$PWD"; return; }
	done
	echo "$REPO"
}

# accel_pick KERNEL: set VM_ACCEL to tcg or kvm for --accel auto.
accel_pick() {
	local verdict_file=$VM_CACHE/kvm-verdict key line rc
	VM_ACCEL=tcg
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 0
	key="$(uname -r)|$(qemu-system-x86_64 --version | head -n 1)|$(grep -m1 '^model name' /proc/cpuinfo)"
	if [[ -f $verdict_file ]] && line=$(grep -F -x -m1 "$key|kvm" "$verdict_file" || grep -F -x -m1 "$key|tcg" "$verdict_file"); then
		VM_ACCEL=${line##*|}
		return 0
	fi
	vm_say "probing KVM: one boot of at most ${KVM_PROBE_TIMEOUT}s (the verdict is kept in $verdict_file)"
	VM_QUIET=1 run_guest "$1" kvm "$KVM_PROBE_TIMEOUT" "$DEF_MEM" "" true >/dev/null 2>&1
	rc=$?
	case $rc in
	0) line=kvm; vm_say "KVM probe: the guest booted: using KVM" ;;
	124) line=tcg; vm_say "KVM probe: no boot within ${KVM_PROBE_TIMEOUT}s: using TCG" ;;
	*) vm_say "KVM probe: failed (status $rc), verdict not kept: using TCG"; return 0 ;;
	esac
	echo "$key|$line" >>"$verdict_file"
	VM_ACCEL=$line
}

# run_guest KERNEL ACCEL TIMEOUT MEM KEEP COMMAND...: boot, run, report.
run_guest() {
	local name=$1 accel=$2 tmo=$3 mem=$4 keep=$5
	shift 5
	local run q rc st lines ready code='' up='' t0 t1 cwd outfd errfd icount_append=''
	# --icount: no address randomisation (kernel or user), one source of
	# run-to-run differences in the count (alignment-dependent code paths)
	[[ $accel == icount ]] && icount_append=" nokaslr norandmaps"
	run=$(mktemp -d "${TMPDIR:-/tmp}/ktls-vm.XXXXXX") || { vm_err "cannot create a temporary folder"; return $EXIT_HARNESS; }
	VM_RUN=$run
	cwd=$(guest_cwd)

	# This run's command, as a tiny cpio appended to the cached ones.
	mkdir -p "$run/cpio/ktls-vm"
	{
		echo '#!/bin/bash'
		printf 'export HOME=/root LANG=C.UTF-8 TERM=dumb PATH=%q\n' "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		printf 'export KTLS_BIN=%q KTLS_BUILD=%q KTLS_TEST_STRICT=1 KTLS_IN_VM=%q KTLS_VM_KERNEL=%q\n' \
			"$KTLS_BIN" "$KTLS_BUILD" "$name" "$KVER"
		[[ -n $VM_FORWARD ]] && printf 'export KTLS_VM_ADDR=%q\n' "$VM_NET_GUEST"
		[[ $accel == icount ]] && printf 'export KTLS_VM_ICOUNT=1 KTLS_VM_ICOUNT_CPU=%q\n' "${KTLS_VM_ICOUNT_CPU:-max,-erms,-fsrm}"
		printf 'cd %q || exit %d\n' "$cwd" "$EXIT_HARNESS"
		printf 'set --'; printf ' %q' "$@"; echo
		cat <<-'EOF'
		if ! command -v -- "$1" >/dev/null; then
			echo "vm: COMMAND '$1' is not in the guest: it holds bin/, build/tests/, build/certs/, tests/, scripts/ and the tools in scripts/vm/initramfs.sh (add host programs with KTLS_VM_EXTRA=...)" >&2
			exit 127
		fi
		exec "$@"
		EOF
	} >"$run/cpio/ktls-vm/run.sh"
	(cd "$run/cpio" && printf '%s\n' ktls-vm ktls-vm/run.sh | busybox cpio -o -H newc 2>/dev/null) >"$run/run.cpio" &&
		cat "$VM_WORK/base.cpio" "$KDIR/modules.cpio" "$run/run.cpio" >"$run/initrd" || {
		vm_err "cannot write the initrd into $run (disk full?)"
		rm -rf "$run"
		return $EXIT_HARNESS
	}

	q=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
		-machine pc -smp 1 -m "$mem"
		-kernel "$KDIR/vmlinuz" -initrd "$run/initrd"
		-append "console=ttyS0 panic=-1 8250.nr_uarts=4 mitigations=off$(net_append)$icount_append"
		-serial "file:$run/console.log")
	mapfile -t -O "${#q[@]}" q < <(net_qemu_args)
	case $accel in
	kvm) q+=(-accel kvm -cpu host) ;;
	# One vCPU (-smp 1 above): the count is one deterministic stream.
	icount) q+=(-accel tcg -icount shift=0,sleep=off -cpu "${KTLS_VM_ICOUNT_CPU:-max,-erms,-fsrm}") ;;
	*) q+=(-accel tcg -cpu max) ;;
	esac
	# shellcheck disable=SC2206
	[[ -n ${KTLS_VM_QEMU_ARGS:-} ]] && q+=($KTLS_VM_QEMU_ARGS)
	# COMMAND's stdout and stderr: through FIFOs that cat relays to ours (qemu's
	# own output goes to a log). Holding each FIFO open read-write here means
	# neither side blocks in open(), and cat sees EOF once qemu and we close it.
	mkfifo "$run/stdout" "$run/stderr" || { vm_err "mkfifo in $run failed"; rm -rf "$run"; return $EXIT_HARNESS; }
	exec {outfd}<>"$run/stdout" {errfd}<>"$run/stderr"
	cat "$run/stdout" {outfd}>&- {errfd}>&- &
	local cat_out=$!
	cat "$run/stderr" >&2 {outfd}>&- {errfd}>&- &
	local cat_err=$!
	q+=(-chardev "file,id=out,path=$run/stdout" -serial chardev:out
		-chardev "file,id=err,path=$run/stderr" -serial chardev:err
		-serial "file:$run/status")

	t0=$EPOCHREALTIME
	timeout -k 5 "$tmo" "${q[@]}" </dev/null >"$run/qemu.log" 2>&1 {outfd}>&- {errfd}>&- &
	VM_PID=$!
	wait "$VM_PID"
	rc=$?
	VM_PID=
	t1=$EPOCHREALTIME
	exec {outfd}>&- {errfd}>&-
	wait "$cat_out" "$cat_err"

	lines=$(tr -d '\r' <"$run/status" 2>/dev/null)
	ready=$(sed -n 's/^KTLS_VM_READY \([0-9.]*\)$/\1/p' <<<"$lines")
	read -r _ code up < <(grep '^KTLS_VM_EXIT ' <<<"$lines")
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [[ $rc == 124 || $rc == 137 ]] && [[ -z ${code:-} ]]; then
		vm_err "the $name guest ($KVER) was still running after ${tmo}s and was killed" \
			"$([[ -n $ready ]] && echo "(COMMAND had started after ${ready}s)" || echo "(it never finished booting)")." \
			"The console's last lines:"
		console_tail "$run"
		st=$EXIT_TIMEOUT
	elif [[ -z ${code:-} ]]; then
		vm_err "the $name guest ($KVER) stopped without reporting COMMAND's status (qemu status $rc)."
		[[ -s $run/qemu.log ]] && sed 's/^/vm: qemu: /' "$run/qemu.log" >&2
		echo "vm: the console's last lines:" >&2
		console_tail "$run"
		st=$EXIT_HARNESS
	else
		st=$code
		local cmd_s
		cmd_s=$(awk -v a="$ready" -v b="$up" 'BEGIN { printf "%.1f", b - a }')
		vm_say "$name ($KVER, $accel): exit $st; command ${cmd_s}s, boot and teardown" \
			"$(awk -v w="$wall" -v c="$cmd_s" 'BEGIN { printf "%.1f", w - c }')s, total ${wall}s"
	fi
	if [[ -n $keep ]]; then
		vm_say "run folder kept: $run (console.log, initrd, status, qemu.log)"
	else
		rm -rf "$run"
	fi
	VM_RUN=
	return "$st"
}

console_tail() {
	if [[ -s $1/console.log ]]; then
		tr -d '\r' <"$1/console.log" | tail -n 25 | sed 's/^/vm: console| /' >&2
	else
		echo "vm: console| (empty: the kernel printed nothing)" >&2
	fi
}

VM_PID='' VM_RUN='' VM_KEEP=''
on_signal() {
	[[ -n $VM_PID ]] && kill -TERM "$VM_PID" 2>/dev/null && wait "$VM_PID" 2>/dev/null
	[[ -n $VM_RUN && -z $VM_KEEP ]] && rm -rf "$VM_RUN"
	vm_err "interrupted by SIG$1: the guest was stopped"
	exit $((128 + $2))
}

main() {
	local kernel=$DEF_KERNEL tmo=$DEF_TIMEOUT mem=$DEF_MEM accel=$DEF_ACCEL keep='' icount='' args
	VM_UPDATE=
	args=$(getopt -o +k:t:m:a:f:iuqh -l kernel:,timeout:,mem:,accel:,forward:,icount,update,keep,quiet,help -n vm.sh -- "$@" 2>&1) ||
		usage_err "${args#vm.sh: }"
	eval set -- "$args"
	while true; do
		case $1 in
		-k | --kernel)
			case $2 in bookworm | trixie-backports | trixie | bullseye | all) kernel=$2 ;;
			*) usage_err "--kernel: '$2' is not a kernel: use bookworm, trixie-backports, trixie, bullseye or all" ;; esac
			shift 2 ;;
		-t | --timeout)
			tmo=$(parse_duration "$2") || usage_err "--timeout: '$2' is not a duration: use e.g. 300, 90s, 5m, 1h"
			shift 2 ;;
		-m | --mem)
			mem=$(parse_mem "$2") || usage_err "--mem: '$2' is not a memory size from 128M to 64G: use e.g. 512M, 2G"
			shift 2 ;;
		-a | --accel)
			case $2 in tcg | kvm | auto) accel=$2 ;;
			*) usage_err "--accel: '$2' is not an accelerator: use tcg, kvm or auto" ;; esac
			shift 2 ;;
		-f | --forward)
			net_parse "$2" || usage_err "$VM_NET_ERR"
			shift 2 ;;
		-i | --icount) icount=1; shift ;;
		-u | --update) VM_UPDATE=1; shift ;;
		--keep) keep=1; VM_KEEP=1; shift ;;
		-q | --quiet) VM_QUIET=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		esac
	done
	(($# > 0)) || usage_err "no COMMAND given (put it after --)"

	need_tools || exit $EXIT_HARNESS
	if [[ $accel == kvm && ! ( -r /dev/kvm && -w /dev/kvm ) ]]; then
		vm_err "--accel kvm: /dev/kvm is missing or not usable by $(id -un): use --accel tcg"
		exit $EXIT_HARNESS
	fi
	if [[ -n $icount ]]; then
		[[ $accel == kvm ]] && usage_err "--icount counts instructions under TCG: it cannot go with --accel kvm"
		accel=icount
	fi
	trap 'on_signal INT 2' INT
	trap 'on_signal TERM 15' TERM

	local kernels=("$kernel") k rc first=0 a built=
	[[ $kernel == all ]] && kernels=("${VM_KERNELS[@]}")
	for k in "${kernels[@]}"; do
		if ! kernel_fetch "$k"; then
			rc=$EXIT_HARNESS
		elif [[ -z $built ]] && ! initramfs_build; then
			vm_err "cannot build the initramfs in $VM_WORK"
			exit $EXIT_HARNESS
		else
			built=1
			a=$accel
			if [[ $a == auto ]]; then accel_pick "$k"; a=$VM_ACCEL; fi
			[[ $kernel == all ]] && echo "vm: === kernel $k ($KVER, Debian $KVERSION) ===" >&2
			run_guest "$k" "$a" "$tmo" "$mem" "$keep" "$@"
			rc=$?
		fi
		((first == 0 && rc != 0)) && first=$rc
	done
	exit "$first"
}

main "$@"

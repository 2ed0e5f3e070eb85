#!/bin/bash
# tests/vm/run.sh: run the kTLS tests (tests/vm/*.t) and print ONE TAP stream.
#
#   tests/vm/run.sh [FILE.t...]      default: every tests/vm/*.t
#
# Runs where the kernel has kTLS: inside the VM (scripts/vm.sh, launched by
# tests/ktls/<kernel>.t) or natively (tests/ktls/native.t). Each file runs with
# a timeout (KTLS_VM_TEST_TIMEOUT seconds, default 120; a "# timeout: N" line
# near the top of the file overrides it). Its results are renumbered into one
# stream, each name prefixed with the file ("probe.t: ..."); a file that dies,
# times out, or runs a number of tests other than its plan adds a failing
# test. A summary per file and one for the kernel are "#" comments; the plan
# comes last. KTLS_VM_SELECT (the launcher's choice for its kernel) and
# KTLS_VM_FILTER (the user's), regexes, select files by name.
#
# The kernel log is read before and after each file (dmesg, or the command in
# KTLS_VM_DMESG): a line with "BUG:", "WARNING:" or "Oops" that appeared
# while the file ran fails it, and the lines are shown. KTLS_VM_PREV
# ("probe.t:3,client.t:12", the launcher's record of the last run) puts each
# file's previous duration next to the current one in its summary line.
# Exit status: 0 when nothing failed, 1 otherwise.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if (($# == 0)); then
	set -- "$here"/*.t
	[[ -e $1 ]] || set --
fi
for re in "${KTLS_VM_SELECT:-}" "${KTLS_VM_FILTER:-}"; do
	[[ -n $re ]] || continue
	files=()
	for f in "$@"; do [[ ${f##*/} =~ $re ]] && files+=("$f"); done
	set -- "${files[@]}"
done

N=0 PASS=0 FAIL=0 SKIP=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
label="${KTLS_IN_VM:-native} ($(uname -r))"
klog_cmd=${KTLS_VM_DMESG:-dmesg}
klog_ok=1
declare -A prev=()
IFS=, read -r -a kvs <<<"${KTLS_VM_PREV:-}"
for kv in "${kvs[@]}"; do
	[[ $kv =~ ^([^:]+\.t):([0-9]+)$ ]] && prev[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done

emit() { # emit ok|not-ok NAME [DIRECTIVE]
	N=$((N + 1))
	local st=$1 name=$2 dir=${3:-}
	if [[ $st == ok ]]; then
		echo "ok $N - $name${dir:+ $dir}"
		if [[ $dir == "# SKIP"* ]]; then SKIP=$((SKIP + 1)); else PASS=$((PASS + 1)); fi
	else
		echo "not ok $N - $name${dir:+ $dir}"
		[[ $dir == "# TODO"* ]] || FAIL=$((FAIL + 1))
	fi
}

timeout_of() {
	local t
	t=$(head -n 30 -- "$1" | sed -n 's/^#[[:space:]]*timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
	echo "${t:-${KTLS_VM_TEST_TIMEOUT:-120}}"
}

run_file() {
	local f=$1 base=${1##*/} limit rc t0 t1 line plan='' bailed='' ran=0 p0=$PASS f0=$FAIL s0=$SKIP
	local re_test='^(not )?ok([[:space:]]+[0-9]+)?([[:space:]]+-)?([[:space:]]+(.*))?$'
	local re_dir='^(.*[^[:space:]])?[[:space:]]*(#[[:space:]]*(SKIP|skip|TODO|todo).*)$'
	limit=$(timeout_of "$f")
	klog_read "$tmp/klog0"
	t0=$(date +%s)
	while IFS= read -r line; do
		if [[ $line =~ $re_test ]]; then
			local st=ok desc=${BASH_REMATCH[5]} dir=
			[[ -n ${BASH_REMATCH[1]} ]] && st=not-ok
			if [[ $desc =~ $re_dir ]]; then desc=${BASH_REMATCH[1]}; dir=${BASH_REMATCH[2]}; fi
			ran=$((ran + 1))
			emit "$st" "$base: ${desc:-test $ran}" "$dir"
		elif [[ $line =~ ^1\.\.([0-9]+)(.*)$ ]]; then
			plan=${BASH_REMATCH[1]}
			if [[ $plan == 0 ]]; then
				local why=${BASH_REMATCH[2]}
				why=${why#*[Ss][Kk][Ii][Pp]}; why=${why#"${why%%[![:space:]]*}"}
				emit ok "$base" "# SKIP ${why:-no tests}"
			fi
		elif [[ $line =~ ^Bail\ out! ]]; then
			emit not-ok "$base: ${line}"
			bailed=1
		elif [[ $line == '#'* ]]; then
			echo "$line"
		elif [[ -n $line ]]; then
			echo "# $base| $line"
		fi
	done < <(timeout -k 5 "$limit" bash "$f" 2>&1 </dev/null; echo $? >"$tmp/rc")
	rc=$(<"$tmp/rc")
	t1=$(date +%s)
	klog_check "$base"
	if [[ -n $bailed ]]; then
		: # already failed
	elif ((rc == 124 || rc == 137)); then
		emit not-ok "$base: timed out after ${limit}s (raise it with a '# timeout: N' line)"
	elif [[ -z $plan ]]; then
		emit not-ok "$base: ended without a plan (exit status $rc)"
	elif [[ $plan != 0 && $plan != "$ran" ]]; then
		emit not-ok "$base: planned $plan tests but ran $ran (exit status $rc)"
	elif ((rc != 0 && FAIL == f0)); then
		emit not-ok "$base: exited with status $rc though no test failed"
	fi
	echo "# $base: $((PASS - p0)) passed, $((FAIL - f0)) failed, $((SKIP - s0)) skipped ($((t1 - t0)) s, previous ${prev[$base]:-?} s)"
}

# klog_read FILE: the kernel log now, or an empty FILE (said once) when it
# cannot be read.
klog_read() {
	$klog_cmd >"$1" 2>/dev/null && return
	: >"$1"
	if ((klog_ok)); then
		echo "# the kernel log could not be read ('$klog_cmd' failed): BUG/WARNING/Oops not checked"
		klog_ok=0
	fi
}

# klog_check NAME: fail NAME when the kernel logged a bug while it ran.
klog_check() {
	((klog_ok)) || return 0
	local n0 bad
	klog_read "$tmp/klog1"
	n0=$(wc -l <"$tmp/klog0")
	bad=$(tail -n +"$((n0 + 1))" "$tmp/klog1" | grep -E 'BUG:|WARNING:|Oops')
	[[ -z $bad ]] && return 0
	emit not-ok "$1: the kernel logged $(grep -cE . <<<"$bad") BUG/WARNING/Oops line(s) while it ran"
	head -n 20 <<<"$bad" | sed 's/^/#   kernel| /'
}

T0=$(date +%s)
if (($# == 0)); then
	emit not-ok "no tests/vm/*.t to run${KTLS_VM_FILTER:+ (KTLS_VM_FILTER=$KTLS_VM_FILTER matched none)}"
fi
for f in "$@"; do
	if [[ ! -r $f ]]; then
		emit not-ok "${f##*/}: no such test file"
		continue
	fi
	run_file "$f"
done
echo "# $label: $PASS passed, $FAIL failed, $SKIP skipped in $# files ($(($(date +%s) - T0)) s)"
echo "1..$N"
((FAIL == 0))

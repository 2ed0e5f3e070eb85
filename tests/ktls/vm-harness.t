#!/bin/bash
# timeout: 300
# scripts/vm.sh itself, booting real guests: COMMAND's exit status, stdout
# byte for byte and apart from stderr and the console, the guest's
# environment and working folder, a missing command, the timeout, and
# --kernel all. Seven boots, about 45 s under TCG.
. "$(dirname "$0")/launch.sh"
VM=$KTLS_REPO/scripts/vm.sh
type -P qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 is missing: apt-get install --no-install-recommends qemu-system-x86"
type -P busybox >/dev/null ||
	skip_all "busybox is missing: apt-get install --no-install-recommends busybox-static"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every byte value, then text: what the guest prints must arrive unchanged
# (no \n -> \r\n, no console lines mixed in). The host makes the same bytes.
gen='for i in $(seq 0 255); do printf "\\$(printf %03o "$i")"; done; seq 1 20000'
(cd "$KTLS_REPO/tests" && "$VM" -q -- bash -c "$gen; echo to-stderr >&2; pwd >&2; env >&2; touch /tmp/w && stat -c tmp=%a /tmp >&2; echo net=\$(ls /sys/class/net) >&2; exit 7") \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
is "$rc" 7 "COMMAND's exit status comes back"
is "$(sha256sum <"$tmp/out" | cut -d' ' -f1)" "$(bash -c "$gen" | sha256sum | cut -d' ' -f1)" \
	"stdout arrives byte for byte ($(wc -c <"$tmp/out") bytes)"
ok "$(grep -qx to-stderr "$tmp/err"; echo $?)" "stderr arrives on stderr"
ok "$(! grep -q to-stderr "$tmp/out"; echo $?)" "stderr is not on stdout"
ok "$(! grep -qaE 'Linux version|vm-init' "$tmp/out" "$tmp/err"; echo $?)" "no console lines on stdout or stderr"
is "$(sed -n 2p "$tmp/err")" "$KTLS_REPO/tests" "the guest starts in the caller's folder of the repository"
ok "$(grep -qx tmp=1777 "$tmp/err"; echo $?)" "the guest's /tmp is writable, mode 1777 (and does not hide a repository under /tmp)"
ok "$(grep -qx net=lo "$tmp/err"; echo $?)" "without --forward the guest has no network device (loopback only)"
for kv in KTLS_IN_VM=bookworm KTLS_TEST_STRICT=1 "KTLS_BIN=$KTLS_BIN" "KTLS_BUILD=$KTLS_BUILD"; do
	ok "$(grep -qxF "$kv" "$tmp/err"; echo $?)" "the guest has $kv"
done

"$VM" -q -- no-such-command-here >"$tmp/out" 2>"$tmp/err"
is "$?" 127 "a missing COMMAND: exit 127"
ok "$(grep -q "not in the guest" "$tmp/err"; echo $?)" "and says it is not in the guest"

t0=$SECONDS
"$VM" --keep --timeout 5 -- sleep 600 >"$tmp/out" 2>"$tmp/err"
rc=$?
run=$(sed -n 's/^vm: run folder kept: \([^ ]*\) .*/\1/p' "$tmp/err")
is "$rc" 124 "a guest still running at --timeout: exit 124"
ok "$( ((SECONDS - t0 < 30)); echo $?)" "killed promptly ($((SECONDS - t0)) s for --timeout 5)"
ok "$(grep -q 'still running after 5s' "$tmp/err"; echo $?)" "the timeout is reported"
ok "$(grep -q 'vm: console|' "$tmp/err"; echo $?)" "with the console's tail"
ok "$([[ -n $run ]] && ! pgrep -f "$run/initrd" >/dev/null; echo $?)" "no qemu left running ($run)"
[[ $run == */ktls-vm.* ]] && rm -rf "$run"

"$VM" --kernel all -- bash -c 'echo "$KTLS_IN_VM $(uname -r)"; [[ $KTLS_IN_VM == bookworm ]] || exit 3' \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 3 "--kernel all: the status of the failing run"
is "$(cut -d' ' -f1 "$tmp/out" | paste -sd' ')" "bookworm trixie-backports trixie bullseye" "--kernel all: one run per kernel, in order"
ok "$(grep -q '^bookworm 6\.1\.' "$tmp/out"; echo $?)" "--kernel all: bookworm runs Linux 6.1"
ok "$(grep -q '^trixie 6\.12\.' "$tmp/out"; echo $?)" "--kernel all: trixie runs Linux 6.12"
ok "$(grep -q '^bullseye 5\.10\.' "$tmp/out"; echo $?)" "--kernel all: bullseye runs Linux 5.10"
is "$(grep -c '^vm: === kernel ' "$tmp/err")" 4 "--kernel all: each run announced on stderr"
[[ -s $tmp/err ]] && grep '^vm: ' "$tmp/err" | sed 's/^/# /'
done_testing

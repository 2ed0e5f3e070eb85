#!/bin/bash
# scripts/vm.sh without booting anything: usage errors, --help, and the
# messages for a missing QEMU, a missing busybox and an unreachable mirror.
. "$(dirname "$0")/../lib.sh"
VM=$(cd "$(dirname "$0")/../.." && pwd)/scripts/vm.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

help=$("$VM" --help); rc=$?
is "$rc" 0 "--help exits 0"
for s in '--kernel NAME' 'default: bookworm' '--timeout T' 'default: 300s' '--mem SIZE' \
	'default: 1024M' '--accel A' 'default: auto' '--forward LIST' 'restrict=on' '--update' '--keep' '--quiet' 'KTLS_VM_CACHE' \
	'124' '125' 'emulated'; do
	ok "$(grep -qF -- "$s" <<<"$help"; echo $?)" "--help mentions '$s'"
done

# Usage errors: exit 2 and a message naming the problem, before any work.
usage_case() {
	local want=$1 what=$2 rc
	shift 2
	"$VM" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
	is "$rc" 2 "$what: exit 2"
	ok "$(grep -qF -- "$want" "$tmp/err"; echo $?)" "$what: says '$want'"
	is "$(wc -c <"$tmp/out")" 0 "$what: nothing on stdout"
}
usage_case "no COMMAND" "no command"
usage_case "no COMMAND" "only --" --
usage_case "unrecognized option" "unknown option" --frobnicate -- true
usage_case "'sid' is not a kernel" "unknown kernel" --kernel sid -- true
usage_case "'10x' is not a duration" "timeout with a bad unit" --timeout 10x -- true
usage_case "'0' is not a duration" "zero timeout" --timeout 0 -- true
usage_case "'-5' is not a duration" "negative timeout" -t -5 -- true
usage_case "'1T' is not a memory size" "memory with a bad unit" --mem 1T -- true
usage_case "'64M' is not a memory size" "memory below 128M" --mem 64M -- true
usage_case "'512' is not a memory size" "memory without a unit" -m 512 -- true
usage_case "'hvf' is not an accelerator" "unknown accelerator" --accel hvf -- true
usage_case "requires an argument" "option without its value" --kernel
usage_case "'8443' is not HOSTPORT:GUESTPORT" "--forward without a guest port" --forward 8443 -- true
usage_case "ports are 1 to 65535" "--forward with port 0" --forward 0:8443 -- true
usage_case "ports are 1 to 65535" "--forward with a port over 65535" --forward 8443:70000 -- true
usage_case "host port 8443 is given twice" "--forward with a host port twice" --forward 8443:1,8443:2 -- true

# Good values parse (checked up to the first tool lookup: PATH has no qemu).
mkdir -p "$tmp/bin"
for t in getopt dirname; do ln -s "$(type -P "$t")" "$tmp/bin/$t"; done
PATH=$tmp/bin "$VM" --kernel all --timeout 5m --mem 2G --accel tcg --keep -q -- true >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 125 "valid options, no qemu: exit 125 (harness failure)"
ok "$(grep -qF 'apt-get install --no-install-recommends qemu-system-x86' "$tmp/err"; echo $?)" \
	"no qemu: names the apt-get install line"
is "$(wc -c <"$tmp/out")" 0 "no qemu: nothing on stdout"

# QEMU present (a stub), busybox missing.
printf '#!/bin/sh\nexit 1\n' >"$tmp/bin/qemu-system-x86_64" && chmod +x "$tmp/bin/qemu-system-x86_64"
PATH=$tmp/bin "$VM" -- true >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 125 "no busybox: exit 125"
ok "$(grep -qF 'apt-get install --no-install-recommends busybox-static' "$tmp/err"; echo $?)" \
	"no busybox: names the apt-get install line"

# An unreachable mirror with an empty cache: the kernel download fails with a
# message naming the suite and what to check. Nothing listens on the port.
if type -P qemu-system-x86_64 >/dev/null && type -P busybox >/dev/null && type -P apt-get >/dev/null; then
	port=$(free_port)
	KTLS_VM_CACHE=$tmp/cache KTLS_VM_MIRROR=http://127.0.0.1:$port/debian \
		KTLS_VM_SECURITY_MIRROR=http://127.0.0.1:$port/debian-security KTLS_BUILD=$tmp/build \
		timeout 120 "$VM" --accel tcg -- true >"$tmp/out" 2>"$tmp/err"; rc=$?
	is "$rc" 125 "unreachable mirror: exit 125"
	ok "$(grep -qF 'cannot read the package lists of Debian bookworm' "$tmp/err"; echo $?)" \
		"unreachable mirror: names the suite"
	ok "$(grep -qF 'KTLS_VM_MIRROR' "$tmp/err"; echo $?)" "unreachable mirror: says what to check"
	ok "$([[ ! -e $tmp/cache/kernels/bookworm/current ]]; echo $?)" "unreachable mirror: no kernel recorded"
	ok "$(grep -q '127.0.0.1' "$tmp/cache/apt/bookworm/sources.list"; echo $?)" "the private sources list uses the mirror"

	# A kernel recorded in the cache whose package cannot be fetched: the
	# message names the package and version.
	mkdir -p "$tmp/cache2/kernels/bookworm" "$tmp/cache2/apt/bookworm"
	echo "deb http://127.0.0.1:$port/debian bookworm main" >"$tmp/cache2/apt/bookworm/sources.list"
	echo "6.1.0-999-cloud-amd64 9.9.9-9 linux-image-6.1.0-999-cloud-amd64-unsigned" \
		>"$tmp/cache2/kernels/bookworm/current"
	KTLS_VM_CACHE=$tmp/cache2 KTLS_VM_MIRROR=http://127.0.0.1:$port/debian KTLS_BUILD=$tmp/build \
		timeout 120 "$VM" --accel tcg -- true >"$tmp/out" 2>"$tmp/err"; rc=$?
	is "$rc" 125 "a package that cannot be downloaded: exit 125"
	ok "$(grep -qF 'downloading linux-image-6.1.0-999-cloud-amd64-unsigned (9.9.9-9) from Debian bookworm failed' "$tmp/err"; echo $?)" \
		"names the package and its version"
	ok "$(grep -qF -- '--update' "$tmp/err"; echo $?)" "and says what to check"
else
	skip "qemu, busybox or apt-get missing: the download-failure cases need them" 8
fi
[[ -s $tmp/err ]] && sed 's/^/# stderr| /' "$tmp/err" | tail -n 4
done_testing

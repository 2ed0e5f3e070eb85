#!/bin/bash
# scripts/debian-root.sh without making a root: --help, and the usage errors
# (exit 2, a message naming the problem, nothing made) that come before any
# work. make test-trixie runs it for real.
. "$(dirname "$0")/../lib.sh"
DR=$(cd "$(dirname "$0")/../.." && pwd)/scripts/debian-root.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KTLS_ROOT_CACHE=$tmp/cache

help=$("$DR" --help); rc=$?
is "$rc" 0 "--help exits 0"
for s in '--suite NAME' 'default: trixie' '--update' '--rebuild' 'KTLS_ROOT_CACHE' 'KTLS_DEBIAN_MIRROR' 'Needs root'; do
	ok "$(grep -qF -- "$s" <<<"$help"; echo $?)" "--help mentions '$s'"
done

usage_case() {
	local want=$1 what=$2 rc
	shift 2
	"$DR" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
	is "$rc" 2 "$what: exit 2"
	ok "$(grep -qF -- "$want" "$tmp/err"; echo $?)" "$what: says '$want'"
	is "$(wc -c <"$tmp/out")" 0 "$what: nothing on stdout"
}
usage_case "no COMMAND" "no command"
usage_case "no COMMAND" "only --" --
usage_case "unrecognized option" "unknown option" --frobnicate -- true
usage_case "is not a Debian suite name" "a suite that is no name" --suite '../x' -- true
usage_case "--suite needs a NAME" "--suite without a value" --suite
ok "$([[ ! -e $tmp/cache ]]; echo $?)" "no usage error made anything under KTLS_ROOT_CACHE"
done_testing

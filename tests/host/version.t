#!/bin/bash
# Which code produced a result: --version on the four programs prints the
# project version and the git commit the Makefile embedded, and every JSON
# document they write carries the same two (the bench's env.json and run.json
# are checked in bench-runner.t, the client's and server's in
# client-results.t and server-results.t).
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"

want_version=$(sed -n 's/^PROJECT_VERSION *:= *//p' Makefile)
head=
if [[ $(git rev-parse --show-toplevel 2>/dev/null) == "$PWD" ]]; then
	head=$(git rev-parse --short=12 HEAD)
fi
for p in ktls ktls-server ktls-client ktls-bench; do
	out=$("$KTLS_BIN/$p" --version); rc=$?
	is "$rc" 0 "$p --version exits 0"
	line=$(head -1 <<<"$out")
	[[ $line =~ ^$p\ ([0-9.]+)\ \(commit\ ([0-9a-f]{7,}(-dirty)?|unknown)\)$ ]]
	ok $? "$p: '$line'"
	is "${BASH_REMATCH[1]}" "$want_version" "$p: the version is the Makefile's PROJECT_VERSION"
	if [[ -n $head ]]; then
		is "${BASH_REMATCH[2]%-dirty}" "$head" "$p: the commit is this checkout's HEAD (rebuilt when it moves)"
	elif [[ -n ${KTLS_BENCH_COMMIT:-} ]]; then
		# built where git cannot see the checkout (make test-trixie's root)
		is "${BASH_REMATCH[2]}" "$KTLS_BENCH_COMMIT" "$p: the commit is the one KTLS_BENCH_COMMIT gave"
	else
		skip "not built in a git checkout" 1
	fi
	grep -q '^OpenSSL ' <<<"$out"; ok $? "$p: and the OpenSSL it runs with"
done
"$KTLS_BIN/ktls-client" get --version | grep -q '^ktls-client '; ok $? "ktls-client get --version"
"$KTLS_BIN/ktls-bench" run --version | grep -q '^ktls-bench '; ok $? "ktls-bench run --version"
v=$("$KTLS_BIN/ktls" --version | head -1 | sed 's/^ktls \([^ ]*\) (commit \(.*\))$/\1 \2/')
is "$("$KTLS_BIN/ktls" probe --json | jq -r '.version + " " + .commit')" "$v" "ktls probe --json: version and commit"
is "$("$KTLS_BIN/ktls" stat --json --file tests/fixtures/tls_stat.sample | jq -r '.version + " " + .commit')" "$v" \
	"ktls stat --json: version and commit (strings beside the Tls* counters)"
done_testing

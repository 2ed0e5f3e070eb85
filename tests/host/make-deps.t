#!/bin/bash
# Plain `make` never runs apt-get: it checks the packages (scripts/deps.sh
# --check) and, when one needed to build is missing, stops and names
# `make deps`; `make deps` installs. apt-get, apt-get's package database
# (dpkg-query) and the user id are stand-ins first in PATH that record their
# calls: nothing is installed.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fake=$tmp/bin
mkdir -p "$fake"
cat >"$fake/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$tmp/apt-calls"
exit 0
EOF
# Every package installed, except those listed in $tmp/missing.
cat >"$fake/dpkg-query" <<EOF
#!/bin/sh
for p; do :; done
grep -qx "\$p" "$tmp/missing" 2>/dev/null && exit 1
printf installed
EOF
printf '#!/bin/sh\necho 0\n' >"$fake/id"
chmod +x "$fake"/*
mk() { PATH=$fake:$PATH KTLS_POLICY_RC_D=$tmp/policy-rc.d make --no-print-directory -s \
	BUILD="$KTLS_BUILD" BIN="$KTLS_BIN" "$@"; }
calls() { [[ -s $tmp/apt-calls ]] && cat "$tmp/apt-calls"; }

# A package needed to build is missing.
echo liburing-dev >"$tmp/missing"
mk >"$tmp/out" 2>&1; rc=$?
ok "$((rc != 0 ? 0 : 1))" "make with a build package missing fails (exit $rc)"
is "$(calls)" "" "and runs no apt-get"
grep -q "missing Debian packages needed to build: liburing-dev" "$tmp/out"; ok $? "it names the package"
grep -q "make deps" "$tmp/out"; ok $? "and the command that installs it: $(grep -m1 'make deps' "$tmp/out")"

# Only a package the tests use is missing: make builds, says so, installs nothing.
echo wrk >"$tmp/missing"
mk all >"$tmp/out" 2>&1; rc=$?
is "$rc" 0 "make all with only a test package missing builds"
is "$(calls)" "" "and runs no apt-get"
grep -q "note: missing Debian packages the tests and the benchmark use: wrk" "$tmp/out"; ok $? "it notes the missing package"

# make deps is the one that installs (the stand-in shows it would).
mk deps >"$tmp/out" 2>&1; rc=$?
is "$rc" 0 "make deps"
grep -q '^apt-get install .*wrk' "$tmp/apt-calls" 2>/dev/null; ok $? "make deps runs apt-get install for the missing package"
[[ ! -e $tmp/policy-rc.d ]]; ok $? "and removes the policy-rc.d it made"
scripts/deps.sh --bogus >/dev/null 2>&1; is "$?" 2 "deps.sh: an unknown option is a usage error"
done_testing

#!/bin/bash
# ktls-bench's report of ktls-server with stock OpenSSL next to its shims and
# nginx (report_openssl_paths), on the fixture run tests/fixtures/bench/run-stock:
# two handshake scenarios run with openssl=shims,stock, nginx on the first.
# The expected figures are computed here from the same JSON with jq.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

bench=$KTLS_BIN/ktls-bench
[[ -x $bench ]] || skip_all "$bench not built"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r tests/fixtures/bench/run-stock "$tmp/"
D=$tmp/run-stock
check "report renders run-stock" "$bench" report "$D"
R=$D/report.md

# µs of server CPU per handshake of a row: server_cpu_s * 1e6 / the client's handshakes
us() { jq -r --slurpfile c "$D/$1.client.json" '.server_cpu_s * 1e6 / $c[0].handshakes' "$D/$1.run.json"; }
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
i() { printf '%.0f' "$1"; }

h=hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c16
sh=$(us $h) st=$(us $h-stock) ng=$(us $h.nginx)
grep -q '^### ktls-server with and without its OpenSSL shims, next to nginx' "$R"; ok $? "the section is there"
grep -q 'with `--stock-openssl`, OpenSSL 3.0.0 as nginx' "$R"; ok $? "it names the OpenSSL version of the run (env.json)"
row="| 1.3 | ecdsa-p256 | X25519 | full | 16 | $(i "$sh") | $(i "$st") | $(i "$ng") | $(r "$st" "$sh")× | $(r "$sh" "$ng")× | $(r "$st" "$ng")× | yes |"
grep -qF "$row" "$R"; ok $? "TLS 1.3 row: shims $(i "$sh"), stock $(i "$st"), nginx $(i "$ng") µs/hs and their ratios"
[[ $? == 0 ]] || grep '^| 1.3 | ecdsa' "$R" | sed 's/^/#   got: /'

# the second pair's stock server was busy 60% of the time: flagged, left out
h2=hs-12-rsa-2048-x25519-aes-128-gcm-resumed-c16
grep -qF "| 1.2 | rsa-2048 | X25519 | resumed | 16 | $(i "$(us $h2)") | $(i "$(us $h2-stock)") | — | " "$R"
ok $? "TLS 1.2 row: no nginx run, nginx columns empty"
grep -q '^| 1.2 | rsa-2048 | X25519 | resumed | 16 | .* | no† |$' "$R"; ok $? "an unsaturated row is flagged"
grep -q '^† A server was busy less than 90% of the time on this row' "$R"; ok $? "the flag is explained"

# the sentences: OpenSSL's overhead from the saturated pair only
extra=$(i "$(awk -v a="$st" -v b="$sh" 'BEGIN { print a - b }')")
grep -q "OpenSSL 3.0.0's own overhead\*\*: with its stock paths ktls-server spends $extra µs more server CPU per handshake ($(r "$st" "$sh")× its shimmed paths)" "$R"
ok $? "overhead sentence: $extra µs, $(r "$st" "$sh")×"
grep -q "ktls-server spends $(r "$st" "$ng")× nginx's CPU per handshake; with its shims, $(r "$sh" "$ng")×" "$R"
ok $? "like for like with nginx: stock $(r "$st" "$ng")×, shims $(r "$sh" "$ng")×"

# the main handshake table: the stock row is named, and shares nginx's row
grep -Eq "^\| 1\.3 \| ecdsa-p256 \| X25519 \| full, stock OpenSSL \| 1 \| 16 \| [0-9,]+ \| [0-9]+% \| $(i "$st") \| .*\| $(i "$ng") \| $(r "$st" "$ng")× \|" "$R"
ok $? "handshake table: the stock row, with nginx's figures next to it"
# one sentence per scenario group, from the shims rows only
is "$(grep -c '^- \*\*TLS 1.3, ecdsa-p256, X25519, full\*\*' "$R")" 1 "the stock row adds no sentence of its own"

# plots: no stock series among the handshake curves
check "plotdata" "$bench" plotdata "$D"
ok "$([[ -s $D/plots/handshakes.dat ]] && ! grep -q stock "$D/plots/handshakes.dat"; echo $?)" "handshakes.dat written, with no stock series"

# where the shims were off (OpenSSL other than 3.0: the server's JSON says
# stock on the shims rows too) the report names no overhead, but still
# compares with nginx like for like
cp -r tests/fixtures/bench/run-stock "$tmp/off"
jq '.openssl_paths = "stock"' "$tmp/off/$h.server.json" >"$tmp/x" && mv "$tmp/x" "$tmp/off/$h.server.json"
check "report renders a run whose shims were off" "$bench" report "$tmp/off"
O=$tmp/off/report.md
grep -q '^- The shims were off in this run' "$O"; ok $? "shims off: the report says so"
ok "$(! grep -q "own overhead" "$O"; echo $?)" "shims off: no overhead named"
grep -q "ktls-server spends $(r "$st" "$ng")× nginx's CPU per handshake: the server's design" "$O"
ok $? "shims off: like for like with nginx still ($(r "$st" "$ng")×)"

# a run with no stock row has no such section
cp -r tests/fixtures/bench/run-a "$tmp/"
check "report renders run-a" "$bench" report "$tmp/run-a"
ok "$(! grep -q 'OpenSSL shims, next to nginx' "$tmp/run-a/report.md"; echo $?)" "run-a (no stock rows): no section"
done_testing

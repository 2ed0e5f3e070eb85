#!/bin/bash
# ktls-bench end to end with the real ktls-server and ktls-client (and nginx
# when installed) on a tiny suite: every scenario succeeds, the server's own
# counters agree with the client's, resumption resumes, the bytes arrive, and
# the report, ceiling and plots come out.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

# Not an environment gap but a tree without the programs (a branch that has
# not merged them): nothing to test, even where skips are failures.
if [[ ! -e server/main.c || ! -e client/main.c ]]; then
	echo "1..0 # SKIP ktls-server or ktls-client is not part of this tree"
	exit 0
fi
bench=$KTLS_BIN/ktls-bench
for p in ktls-bench ktls-server ktls-client; do
	[[ -x $KTLS_BIN/$p ]] || skip_all "$KTLS_BIN/$p not built (make)"
done
[[ -s $KTLS_BUILD/certs/ecdsa-p256.crt ]] || skip_all "no certificates (make certs)"
command -v jq >/dev/null || skip_all "jq missing (apt-get install jq)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/run
peer=()
command -v nginx >/dev/null && peer=(--peer nginx)
cpus=0:1
(($(nproc) < 2)) && cpus=0:0

"$bench" run --bin "$KTLS_BIN" --certs "$KTLS_BUILD/certs" --suite tests/fixtures/bench/tiny.suite \
	--out "$out" --cpus "$cpus" "${peer[@]}" 2>"$tmp/err" >/dev/null
rc=$?
is "$rc" 0 "the tiny suite runs clean"
[[ $rc == 0 ]] || sed 's/^/#   /' "$tmp/err" | tail -n 20

n=$(ls "$out"/*.run.json 2>/dev/null | grep -vc '\.nginx\.')
is "$n" 8 "one run record per scenario"
is "$(jq -s '[.[] | select(.ok != true)] | length' "$out"/*.run.json)" 0 "every scenario ok"

for f in "$out"/hs-*.run.json; do
	[[ $f == *.nginx.run.json ]] && continue
	s=${f%.run.json}
	c=$(jq '.handshakes' "$s.client.json")
	sv=$(jq '.handshakes_full + .handshakes_resumed' "$s.server.json")
	# they may differ by at most one per connection slot: a TLS 1.3 client
	# counts its handshake done when it sends Finished, and the last ones of
	# the run can close before the server has read that Finished
	conns=$(jq '.scenario.conns' "$f")
	d=$((sv - c))
	ok "$((d >= -conns && d <= conns ? 0 : 1))" "$(basename "$s"): server counted $sv handshakes, client $c"
	is "$(jq '.errors_total // ([.errors[]] | add) // 0' "$s.client.json")" 0 "$(basename "$s"): no client errors"
done
# openssl=stock: ktls-server ran with --stock-openssl, its twin with its
# shims (where this build has them); nginx ran once for the two
s=$out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c4
is "$(jq -r .openssl_paths "$s-stock.server.json") $(jq -r .openssl_paths "$s.server.json")" "stock $(default_paths)" \
	"openssl=stock: the server's JSON says stock, its twin's $(default_paths)"
ok "$(jq -r .command_server "$s-stock.run.json" | grep -q -- '--stock-openssl'; echo $?)" "openssl=stock: --stock-openssl passed"
ok "$([[ ! -e $s-stock.nginx.run.json ]]; echo $?)" "openssl=stock: no second nginx run"
grep -q '^### ktls-server with and without its OpenSSL shims' "$out/report.md"; ok $? "report: the stock/shims section"
s=$out/hs-12-ecdsa-p256-x25519-aes-128-gcm-resumed-c2
r=$(jq .handshakes_resumed "$s.server.json")
h=$(jq .handshakes "$s.client.json")
ok "$((r > 0 && r >= h - 2 ? 0 : 1))" "TLS 1.2 resumption resumes: server resumed $r of $h"
is "$(jq -r .tls.group "$s.client.json" | tr A-Z a-z)" x25519 "the key exchange is the scenario's group"

for f in "$out"/bulk-*.run.json "$out"/file-*.run.json; do
	[[ $f == *.nginx.run.json ]] && continue
	s=${f%.run.json}
	cb=$(jq .bytes "$s.client.json")
	sb=$(jq .bytes_out "$s.server.json")
	ok "$((cb > 0 && sb >= cb ? 0 : 1))" "$(basename "$s"): client received $cb bytes, server sent $sb"
	ok "$(jq -e '.server_cpu_s > 0' "$s.run.json" >/dev/null; echo $?)" "$(basename "$s"): server CPU measured"
done
is "$(jq -r .tls.cipher "$out/bulk-13-chacha20-poly1305-user-64k-c1-ecdsa-p256-x25519.client.json")" \
	TLS_CHACHA20_POLY1305_SHA256 "the cipher is the scenario's"
f=$out/hyperfine-13-aes-128-gcm-user-1m-ecdsa-p256-x25519.hyperfine.json
is "$(jq '.results[0].times | length' "$f")" 2 "the whole-transfer timing ran twice"

ok "$(jq -e '.sign["ecdsa-p256"].per_s > 0 and .kex.X25519.per_s > 0 and .aead["AES-128-GCM"].bytes_per_s > 0' \
	"$out/ceiling.json" >/dev/null; echo $?)" "ceiling: ECDSA sign, X25519, AES-128-GCM measured"
is "$(jq -r '.aead_mode | split(":")[0]' "$out/ceiling.json")" "openssl speed -aead" \
	"ceiling: AEADs timed as TLS seals records (-aead)"
R=$out/report.md
grep -Eq '^\| 1\.3 \| ecdsa-p256 \| X25519 \| full \| 1 \| 4 \| [0-9,]+ \| [0-9]+% \| [0-9]+ \| [0-9]+ \| [0-9.]+× \|' "$R"
ok $? "report: handshake row with its ratio to the ceiling"
grep -Eq '^\| 1\.3 \| AES-128-GCM \| user \| 64 KiB \| 1 \| [0-9.]+ \| [0-9]+% \| [0-9.]+ \| [0-9.—]+ \| [0-9.]+ \| [0-9.]+× \|' "$R"
ok $? "report: bulk row with its ratio to the ceiling"
grep -q 'Cheapest per byte here' "$R"; ok $? "report: cipher advice"
if ((${#peer[@]})); then
	is "$(ls "$out"/*.nginx.run.json | wc -l)" 6 "nginx ran every client scenario but hyperfine"
	grep -Eq '^\| 1\.3 \| ecdsa-p256 \| X25519 \| full \| 1 \| 4 \|.*\| [0-9.]+× \| (ok|saturated) \| (yes|no†)[^|]* \|$' "$R"
	ok $? "report: ours/nginx on the handshake row, and whether both servers were saturated"
else
	skip "nginx not installed" 2
fi
if command -v gnuplot >/dev/null; then
	for p in handshakes throughput ceiling_ratio; do
		ok "$([[ -s $out/plots/$p.svg && -s $out/plots/$p.png ]]; echo $?)" "plot $p drawn"
	done
else
	skip "gnuplot missing" 3
fi
# --- threads: the real programs pin their own threads (a server started on
# one CPU refuses --cpus naming another), at least two CPUs needed -----------
if (($(nproc) >= 2)); then
	o2=$tmp/run-t2
	"$bench" run --bin "$KTLS_BIN" --certs "$KTLS_BUILD/certs" --out "$o2" --cpus 0:1 --no-ceiling --no-plots \
		--scenario 'handshake conns=4 duration=300ms warmup=100ms threads=2:1' 2>"$tmp/err-t2" >/dev/null
	is $? 0 "threads=2:1 with the real ktls-server and ktls-client exits 0"
	s=$o2/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c4-t2
	is "$(jq -r '.ok' "$s.run.json" 2>/dev/null)" true "threads=2:1: the scenario is ok"
	ok "$(jq -e '.handshakes_full > 0 and (.threads | length) == 2' "$s.server.json" >/dev/null 2>&1; echo $?)" \
		"threads=2:1: ktls-server ran two threads and completed handshakes"
else
	skip "one CPU: no second server thread" 3
fi
done_testing

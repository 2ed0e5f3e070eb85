#!/bin/bash
# bin/ktls: probe (JSON shape, the no-ULP path on hosts without kTLS) and stat.
. "$(dirname "$0")/../lib.sh"
K=$KTLS_BIN/ktls
FIX=$(dirname "$0")/../fixtures
TMP_STAT=$(mktemp -u)

json=$("$K" probe --json); rc=$?
is "$rc" 0 "probe --json exits 0"
check "probe --json is valid JSON" jq -e . <<<"$json"
is "$(jq -r '.kernel' <<<"$json")" "$(uname -r)" "kernel is uname -r"
is "$(jq -r '[.ulp_available, .zerocopy_ro, .rx_expect_no_pad, .rekey] | map(type) | unique | .[]' <<<"$json")" \
	boolean "flags are booleans"
is "$(jq -r '.ciphers | length' <<<"$json")" 10 "10 version x cipher rows (6 for TLS 1.2, 4 for TLS 1.3)"
is "$(jq -r '[.ciphers[] | select(.version == "1.3") | .cipher] | join(",")' <<<"$json")" \
	"AES-128-GCM,AES-256-GCM,CHACHA20-POLY1305,AES-128-CCM" "TLS 1.3 rows"
is "$(jq -r '[.ciphers[] | select(.version == "1.2") | .cipher] | join(",")' <<<"$json")" \
	"AES-128-GCM,AES-256-GCM,CHACHA20-POLY1305,AES-128-CCM,ARIA-GCM-128,ARIA-GCM-256" "TLS 1.2 rows"

# What the probe says must match a direct attempt to attach the ULP: python is
# not assumed, so ask the kernel through the list of available ULPs (only the
# first network namespace has that list: elsewhere, whether the module is
# loaded).
avail=/proc/sys/net/ipv4/tcp_available_ulp
if ! { [[ -r $avail ]] && grep -qw tls "$avail"; } && [[ ! -d /sys/module/tls ]]; then
	diag "this host has no tls ULP: checking the no-ULP path"
	is "$(jq -r .ulp_available <<<"$json")" false "ulp_available is false without the tls module"
	ok "$(jq -e '.ulp_error | test("modprobe tls")' <<<"$json" >/dev/null; echo $?)" \
		"ulp_error names the fix (modprobe tls)"
	is "$(jq -r '[.ciphers[] | .tx, .rx] | unique | join(",")' <<<"$json")" false "no cipher offloads"
	is "$(jq -r .tls_stat <<<"$json")" null "tls_stat is null"
	human=$("$K" probe)
	ok "$(grep -q 'not available' <<<"$human"; echo $?)" "table says the ULP is not available"
	ok "$(grep -q 'modprobe tls' <<<"$human"; echo $?)" "table names the fix"
	out=$("$K" stat); rc=$?
	is "$rc" 0 "stat exits 0 on a kernel without counters"
	ok "$(grep -q 'no kTLS counters' <<<"$out"; echo $?)" "stat says plainly there are none"
	"$K" stat --json >"$TMP_STAT.out" 2>"$TMP_STAT.err"; rc=$?
	is "$rc" 0 "stat --json exits 0 on a kernel without counters"
	is "$(jq -c '[to_entries[] | select(.key | startswith("Tls"))]' "$TMP_STAT.out" 2>&1)" "[]" \
		"stat --json prints JSON with no counter, nothing else ($(head -c 100 "$TMP_STAT.out"))"
	grep -q 'no kTLS counters' "$TMP_STAT.err"; ok $? "the sentence goes to stderr"
	rm -f "$TMP_STAT.out" "$TMP_STAT.err"
else
	diag "this host has the tls ULP: checking the probe found it"
	is "$(jq -r .ulp_available <<<"$json")" true "ulp_available is true"
	is "$(jq -r '.ulp_error' <<<"$json")" null "ulp_error is null"
	skip "no-ULP path needs a host without kTLS" 9
fi

# stat on a sample file
out=$("$K" stat --file "$FIX/tls_stat.sample"); rc=$?
is "$rc" 0 "stat --file exits 0"
is "$(awk '$1 == "TlsDecryptError" {print $2}' <<<"$out")" 1 "stat shows TlsDecryptError"
is "$(wc -l <<<"$out")" 12 "stat shows all 12 counters"
is "$("$K" stat --json --file "$FIX/tls_stat.sample" | jq -r '.TlsTxSw')" 15 "stat --json value"
tmp=$(mktemp -d)
cp "$FIX/tls_stat.sample" "$tmp/s"
( sleep 0.3; sed -i 's/^\(TlsTxSw *\t\)15/\125/' "$tmp/s" ) &
out=$("$K" stat --file "$tmp/s" --interval 600ms --count 1 --json)
wait
is "$(jq -r .TlsTxSw <<<"$out")" 10 "stat --interval prints the delta of a counter"
is "$(jq -r .TlsCurrTxSw <<<"$out")" 2 "stat --interval prints gauges as levels"
printf 'garbage line here\n' >"$tmp/bad"
"$K" stat --file "$tmp/bad" >/dev/null 2>"$tmp/err"; rc=$?
is "$rc" 1 "stat on a malformed file exits 1"
ok "$(grep -q 'Name value' "$tmp/err"; echo $?)" "and says what was expected"
"$K" stat --file "$tmp/none" >/dev/null 2>&1; rc=$?
is "$rc" 1 "stat --file on a missing file exits 1"
rm -rf "$tmp"

# usage errors
"$K" >/dev/null 2>&1; is "$?" 2 "no command: exit 2"
"$K" frobnicate >/dev/null 2>&1; is "$?" 2 "unknown command: exit 2"
"$K" probe --bogus >/dev/null 2>&1; is "$?" 2 "unknown option: exit 2"
"$K" stat --interval 10x >/dev/null 2>&1; is "$?" 2 "bad --interval: exit 2"
"$K" probe --interval 1s >/dev/null 2>&1; is "$?" 2 "stat option on probe: exit 2"
"$K" help | grep -q -- '--json'; ok $? "help lists --json"
done_testing

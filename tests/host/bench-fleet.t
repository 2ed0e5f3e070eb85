#!/bin/bash
# ktls-bench --clients HOSTFILE end to end on stand-in hosts: ktls-bench and
# the server in one network namespace (the machine under test, listening on
# 10.77.0.1), the client side as ktls-client-mpi ranks on two others through
# mpirun. Every row is the sum of its ranks (in the client's JSON and in the
# report), the server's CPU window is the fleet's measured window, env.json
# describes the interface the traffic used, and the report says plainly that
# a software device did no crypto.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fleet_common.sh"
bench=$KTLS_BIN/ktls-bench
[[ -x $bench && -x $KTLS_BIN/ktls-server ]] || skip_all "ktls-bench or ktls-server not built (make)"

fleet_up
out=$FTMP/run
in_srv "$bench" run --bin "$KTLS_BIN" --certs "$CERTS" --clients "$HOSTS" --listen "$ADDR" \
	--port 8443 --mpi-arg --bind-to --mpi-arg none --no-ceiling --no-plots --out "$out" --cpus 0:0 \
	--scenario "handshake tls=1.3 conns=1,4 duration=1s warmup=500ms" \
	--scenario "bulk size=64K conns=2 duration=1s" \
	--scenario "hyperfine size=64K runs=2" >"$FTMP/bench.out" 2>"$FTMP/bench.err"
rc=$?
is "$rc" 0 "ktls-bench --clients runs the tiny suite clean"
[[ $rc == 0 ]] || sed 's/^/#   /' "$FTMP/bench.err" | tail -n 25

runs=("$out"/*.run.json)
is "${#runs[@]}" 3 "one run record per scenario that can run across hosts"
is "$(jq -s '[.[] | select(.ok != true)] | length' "${runs[@]}")" 0 "every scenario ok"
report=$out/report.md
for f in "${runs[@]}"; do
	s=${f%.run.json}
	id=$(basename "$s")
	c=$s.client.json
	conns=$(jq .scenario.conns "$f")
	want=$((conns < 4 ? conns : 4))
	is "$(jq .client_ranks "$f")" "$want" "$id: min(connections, slots) = $want ranks"
	is "$(jq '.ranks | length' "$c")" "$want" "$id: the client JSON has $want ranks"
	hosts=$(jq '[.ranks[].host] | unique | length' "$c")
	is "$hosts" "$((want < 2 ? want : 2))" "$id: spread over $hosts host(s)"
	for k in handshakes requests bytes; do
		is "$(jq ".$k" "$c")" "$(jq "[.ranks[].$k] | add" "$c")" "$id: $k is the sum of the ranks'"
	done
	# the report's fleet row: each rank's count, their sum, the row's total
	line=$(grep -F "| $id | " "$report" | grep -E '\| [0-9,]+ (handshakes|bytes) \|')
	ok "$([[ -n $line ]]; echo $?)" "$id: a row in the report's Client fleet table"
	terms=$(echo "$line" | awk -F'|' '{print $5}' | tr -d ', ')
	sum=$(echo "$line" | awk -F'|' '{print $6}' | awk '{print $1}' | tr -d ',')
	is "$(( $(echo "$terms" | sed 's/+/ + /g') ))" "$sum" "$id: the ranks' counts in the report add up to its sum ($terms)"
	unit=$([[ $id == bulk-* ]] && echo bytes || echo handshakes)
	is "$sum" "$(jq ".$unit" "$c")" "$id: which is the row's $unit"
	# the server's CPU was sampled over the fleet's measured window (1 s),
	# not from mpirun's start to its end
	win=$(jq '.server_cpu_window_s * 1000 | round' "$f")
	ok "$((win >= 950 && win <= 1400 ? 0 : 1))" "$id: server CPU sampled over the measured second (${win} ms)"
done
hs=$out/hs-13-ecdsa-p256-x25519-aes-128-gcm-full-c4
rate=$(jq '.handshakes / .duration_s | round' "$hs.client.json")
# (columns: TLS, cert, group, handshake, server threads, conns, handshakes/s)
row=$(grep -E '^\| 1\.3 \| ecdsa-p256 \| X25519 \| full \| 1 \| 4 \|' "$report" | awk -F'|' '{print $8}' | tr -d ' ,')
is "$row" "$rate" "the handshake table shows the fleet's rate (handshakes / duration)"

# env.json: the interface the traffic used
env=$out/env.json
is "$(jq -r .netif.name "$env")" br0 "env.json names the interface holding $ADDR (the bridge of the server namespace)"
is "$(jq -r .netif.driver "$env")" bridge "its driver"
is "$(jq .netif.mtu "$env")" 1500 "its MTU"
is "$(jq .netif.software_device "$env")" true "a software device"
is "$(jq -r '.netif.tls_features | keys | join(",")' "$env")" "tls-hw-record,tls-hw-rx-offload,tls-hw-tx-offload" \
	"ethtool -k's TLS features"
is "$(jq '.netif | has("tls_stat_before") and has("tls_stat_after")' "$env")" true \
	"the kernel's kTLS counters before and after (null without kTLS)"
is "$(jq '.clients.ranks' "$env")" 4 "env.json: 4 client ranks from the hostfile's slots"
is "$(jq -r '.not_run[0].why' "$env" | grep -c hyperfine)" 1 "the hyperfine scenario is listed as not run, with why"
grep -q 'Did the NIC do the crypto?\*\* No. br0 is a software device' "$report"
ok $? "the report says the NIC did no crypto, and why"
grep -q 'loopback and veth (and bridges, tunnels) never encrypt' "$report"
ok $? "and that loopback and veth never do"
grep -q '^## Client fleet' "$report"
ok $? "the report has the Client fleet section"
grep -q 'Check the busiest rank first' "$report"
ok $? "which says what to check first"
done_testing

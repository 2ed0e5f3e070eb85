#!/bin/bash
# ktls-client handshake against openssl s_server: counts agree with the
# server's own counters (s_server -www status page), resumption really
# resumes (TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2 session IDs), the JSON
# document has its keys, a timed run's end loses no handshake and counts
# none the server did not finish, and usage errors exit 2.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"

start_s_server || bail "openssl s_server started"
FIN="server accepts that finished"
HITS="session cache hits"

# --- full handshakes: the client's count is the server's ---------------------
before=$(s_server_stat "$PORT" "$FIN")
"$CLIENT" handshake --port "$PORT" -n 200 -c 4 -d 60s -q --json "$TMP/full.json" >"$TMP/full.txt" 2>&1
is "$?" 0 "handshake -n 200 exits 0"
after=$(s_server_stat "$PORT" "$FIN")
J=$TMP/full.json
is "$(jqv $J .handshakes)" 200 "200 handshakes counted by the client"
is "$((after - before - 1))" 200 "s_server finished 200 handshakes (its own counter)"
is "$(jqv $J .errors_total)" 0 "no errors"
is "$(jqv $J .resumed)" 0 "nothing resumed without --resume"
is "$(jqv $J .mode)" handshake "mode"
is "$(jqv $J .tls.version)" 1.3 "TLS 1.3 by default"
is "$(jqv $J .tls.group)" "$(default_group)" "OpenSSL's default key exchange ($(default_group))"
is "$(jqv $J .tls.sigalg)" ecdsa_secp256r1_sha256 "ECDSA P-256 signature"
is "$(jqv $J .tls.verify)" false "verification off by default, and the JSON says so"
ok "$(grep -q 'certificate verification: off' "$TMP/full.txt"; echo $?)" "the summary says verification is off"
is "$(jqv $J '.latency_us.count')" 200 "one latency sample per handshake"
ok "$(jqv $J '[.latency_us.p50, .latency_us.p90, .latency_us.p99, .latency_us.p999, .latency_us.max] |
	(.[0] > 0 and .[0] <= .[1] and .[1] <= .[2] and .[2] <= .[3] and .[3] <= .[4])' | grep -qx true; echo $?)" \
	"latency percentiles are positive and ordered"
missing=$(jq -r '["mode","handshakes","handshakes_per_s","resumed","requests","bytes","megabytes_per_s","version","commit",
	"latency_us","errors","cpu_user_s","cpu_sys_s","client_saturated","timeline","config"] -
	keys | join(",")' "$J")
is "$missing" "" "every required top-level key is there"
is "$(jqv $J '.client_saturated | type')" boolean "client_saturated is a boolean"
is "$(jqv $J '[.timeline[].handshakes] | add')" 200 "the timeline adds up to the total"
is "$(jqv $J .config.connections)" 4 "the config used is recorded"
is "$(jqv $J .ended_by_count)" true "the run ended at the count"

# --- one request per connection ---------------------------------------------------
"$CLIENT" handshake --port "$PORT" -n 20 -c 2 -d 60s -q --request / --json "$TMP/req.json" >/dev/null 2>&1
is "$(jqv $TMP/req.json .requests)" 20 "--request: one request per handshake"
ok "$(jqv $TMP/req.json '.bytes > 1000' | grep -qx true; echo $?)" "and the status pages were read"

# --- resumption: the client says resumed, s_server's cache-hit counter agrees ---
resume_case() {
	local name=$1; shift
	local h0 h1 r
	h0=$(s_server_stat "$PORT" "$HITS")
	"$CLIENT" handshake --port "$PORT" -n 60 -c 2 -d 60s -q --resume "$@" --json "$TMP/r.json" >/dev/null 2>&1
	h1=$(s_server_stat "$PORT" "$HITS")
	r=$(jqv $TMP/r.json .resumed)
	is "$(jqv $TMP/r.json .handshakes)" 60 "$name: 60 handshakes"
	is "$r" 58 "$name: all but the first of each of the 2 slots resumed"
	is "$((h1 - h0))" "$r" "$name: s_server counted as many session-cache hits"
}
resume_case "TLS 1.3 tickets"
is "$(jqv $TMP/r.json .tls.version)" 1.3 "TLS 1.3 tickets: the version was 1.3"
resume_case "TLS 1.2 tickets" --tls-version 1.2
resume_case "TLS 1.2 session IDs" --tls-version 1.2 --no-tickets
is "$(jqv $TMP/r.json .config.tickets)" false "--no-tickets is in the config"

# --- open-loop smoke test against a fast server -----------------------------------
"$CLIENT" handshake --port "$PORT" --rate 50 -d 1s -q --json "$TMP/ol.json" >/dev/null 2>&1
n=$(jqv $TMP/ol.json '.handshakes + .unfinished')
ok "$(( n >= 48 && n <= 51 ? 0 : 1 ))" "--rate 50 for 1 s started 50 handshakes (got $n)"
is "$(jqv $TMP/ol.json .config.loop)" open "the config says open loop"

# --- the end of a timed run: nothing lost, nothing counted by one side only -------
# 8 connections for 300 ms, five times: handshakes are under way when the
# window closes. One the client finished, the server finished too (both
# count it); one the client had not finished is unfinished, never dropped.
# The server is tests/helpers/tls_test_server (its own counts, in --stats).
if [[ -x $HELPER ]]; then
	mismatch='' runs=0
	for i in 1 2 3 4 5; do
		start_helper || bail "test server started"
		"$CLIENT" handshake --port "$PORT" -c 8 -d 300ms -q --json "$TMP/end.json" >/dev/null 2>&1
		stop_helper || bail "the test server wrote its counts"
		# (wait_port's probe is one more accepted connection)
		acc=$(($(jqv $STATS .accepted) - 1)) srv=$(jqv $STATS .handshakes)
		hs=$(jqv $TMP/end.json .handshakes) unf=$(jqv $TMP/end.json .unfinished)
		err=$(jqv $TMP/end.json .errors_total)
		((hs > 0)) && runs=$((runs + 1))
		[[ $srv == "$hs" && $acc == $((hs + unf + err)) ]] ||
			mismatch+=" [run $i: server accepted $acc, finished $srv; client handshakes $hs, unfinished $unf, errors $err]"
	done
	is "$runs" 5 "five timed runs made handshakes"
	is "$mismatch" "" "in each, the server finished the handshakes the client counted, and every connection it accepted is a handshake, unfinished or an error"
fi

# --- usage errors --------------------------------------------------------------------
usage() { "$CLIENT" "$@" >/dev/null 2>"$TMP/usage.err"; echo $?; }
is "$(usage handshake --rate 10x)" 2 "bad --rate: exit 2"
is "$(usage handshake --duration 10parsecs)" 2 "bad --duration: exit 2"
is "$(usage handshake --port 70000)" 2 "bad --port: exit 2"
is "$(usage handshake --rate 10 --connections 4)" 2 "--rate with --connections: exit 2"
is "$(usage handshake --no-tickets --resume)" 2 "--no-tickets on TLS 1.3: exit 2"
ok "$(grep -q 'tls-version 1.2' "$TMP/usage.err"; echo $?)" "and the message names the fix"
is "$(usage handshake --rx ktls)" 2 "--rx on handshake: exit 2"
is "$(usage get --resume)" 2 "--resume on get: exit 2"
is "$(usage trace --threads 2)" 2 "--threads on trace: exit 2"
is "$(usage frobnicate)" 2 "unknown command: exit 2"
is "$(usage handshake --bogus)" 2 "unknown option: exit 2"
is "$(usage handshake --tls-version 1.1)" 2 "--tls-version 1.1: exit 2"
"$CLIENT" --help | grep -q -- '--duration D .*default 10s'
ok $? "--help shows the defaults"
done_testing

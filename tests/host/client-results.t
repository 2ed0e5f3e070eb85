#!/bin/bash
# ktls-client never reports a silently wrong result: --resume against a server
# without TLS 1.3 tickets stops at once and says so; --resume that resumes
# nothing fails; a get run whose every response is a 404 exits 1 and counts no
# bytes; an unfinished request's age is the request's, not its connection's;
# --cpus naming a CPU the process cannot use and an unwritable --json are
# refused before anything runs; trace --json - keeps stdout pure JSON.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"

# --- --resume, TLS 1.3, a server that sends no tickets ------------------------------------
# Waiting --timeout on every connection would report 0.5 handshakes/s with no
# error: the first connection that waited in vain ends the run, counted.
start_s_server -tls1_3 -num_tickets 0 || bail "openssl s_server started"
"$CLIENT" handshake --port "$PORT" --resume --tls-version 1.3 -c 2 --timeout 1s -d 30s -q \
	--json "$TMP/nt.json" >/dev/null 2>"$TMP/nt.err"
is "$?" 1 "--resume without tickets: exit 1"
ok "$(jqv $TMP/nt.json '.errors.no_ticket >= 1' | grep -qx true; echo $?)" \
	"counted as no_ticket ($(jqv $TMP/nt.json .errors.no_ticket))"
ok "$(jqv $TMP/nt.json '.duration_s < 20' | grep -qx true; echo $?)" \
	"the run ended after the first wait, not after -d 30s ($(jqv $TMP/nt.json .duration_s) s)"
grep -q 'no TLS 1.3 session ticket within --timeout (1.0 s) after the handshake: there is nothing to resume' \
	"$TMP/nt.err"; ok $? "stderr says there is nothing to resume: $(head -c 300 "$TMP/nt.err")"
jqv $TMP/nt.json .fatal | grep -q 'nothing to resume'; ok $? "and so does the JSON (fatal)"
# the same server with tickets: resumption works and nothing is counted
start_s_server -tls1_3 || bail "openssl s_server started"
"$CLIENT" handshake --port "$PORT" --resume --tls-version 1.3 -c 2 -n 20 -d 30s -q \
	--json "$TMP/t.json" >/dev/null 2>&1
is "$?" 0 "with tickets: exit 0"
is "$(jqv $TMP/t.json '.errors.no_ticket // 0')" 0 "no no_ticket"
ok "$(jqv $TMP/t.json '.resumed >= 16' | grep -qx true; echo $?)" "resumed $(jqv $TMP/t.json .resumed) of 20"

# --- --resume, TLS 1.2, a server with neither session cache nor tickets ---------------------
start_s_server -tls1_2 -no_cache -no_ticket || bail "openssl s_server started"
"$CLIENT" handshake --port "$PORT" --resume --tls-version 1.2 -c 1 -d 30s -q \
	--json "$TMP/n12.json" >/dev/null 2>"$TMP/n12.err"
is "$?" 1 "--resume, TLS 1.2, no session from the server: exit 1"
ok "$(jqv $TMP/n12.json '.errors.no_ticket >= 1 and .duration_s < 20' | grep -qx true; echo $?)" \
	"counted as no_ticket, and the run stopped at once ($(jqv $TMP/n12.json .duration_s) s)"
grep -q 'gave no TLS 1.2 session to resume (no session ID, no ticket): there is nothing to resume' "$TMP/n12.err"
ok $? "stderr says why: $(head -c 200 "$TMP/n12.err")"

# --- --resume against a server that issues tickets but resumes none --------------------------
for v in 1.2 1.3; do
	start_helper --refuse-resumption || bail "test server started"
	"$CLIENT" handshake --port "$PORT" --resume --tls-version $v -c 1 -n 10 -d 30s -q \
		--json "$TMP/nr.json" >/dev/null 2>"$TMP/nr.err"
	is "$?" 1 "TLS $v: --resume that resumed nothing: exit 1"
	stop_helper
	is "$(jqv $TMP/nr.json .resumed):$(jqv $TMP/nr.json .resume_offered):$(jqv $STATS .resumed)" "0:9:0" \
		"TLS $v: no handshake resumed, 9 offered a session (the first had none), the server resumed 0"
	grep -q 'resumed none of the 9 sessions offered' "$TMP/nr.err"; ok $? "TLS $v: stderr says so: $(cat "$TMP/nr.err")"
done

# --- get: every response a 404 -----------------------------------------------------------------
start_helper || bail "test server started"
"$CLIENT" get --port "$PORT" --path /nothing -n 7 -c 1 -d 60s -q --json "$TMP/404.json" >/dev/null 2>"$TMP/404.err"
is "$?" 1 "all 404: exit 1"
stop_helper
is "$(jqv $TMP/404.json .errors.http_404)" 7 "7 x http_404"
is "$(jqv $TMP/404.json .requests):$(jqv $TMP/404.json .bytes)" "0:0" "no request and no byte counted"
grep -q 'no request succeeded' "$TMP/404.err"; ok $? "stderr says why: $(cat "$TMP/404.err")"
# ktls-server's 404 has a body: it is not throughput
"$KTLS_BIN/ktls-server" --port 0 --threads 1 --cert "$CERTS/ecdsa-p256.crt" --key "$CERTS/ecdsa-p256.key" \
	>"$TMP/ks.out" 2>&1 &
SERVER_PIDS+=($!)
for _ in $(seq 200); do grep -q 'listening on' "$TMP/ks.out" && break; sleep 0.05; done
kport=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$TMP/ks.out")
"$CLIENT" get --port "$kport" --path /nothing -n 5 -c 1 -d 60s -q --json "$TMP/k404.json" >/dev/null 2>&1
is "$?" 1 "ktls-server: all 404: exit 1"
is "$(jqv $TMP/k404.json .errors.http_404):$(jqv $TMP/k404.json .bytes)" "5:0" "5 x http_404, and their bodies are not counted as bytes"

# --- the age of an unfinished request is the request's ------------------------------------------
# One connection, 2 s of warmup, 1 s measured: the connection is ~3 s old at the
# end, the request in flight at most the measured second old (it started after
# a request completed inside the window).
start_helper || bail "test server started"
"$CLIENT" get --port "$PORT" --size 4K -c 1 -w 2s -d 1s -q --json "$TMP/u.json" >/dev/null 2>&1
stop_helper
ok "$(jqv $TMP/u.json '.requests >= 1' | grep -qx true; echo $?)" "requests completed in the window ($(jqv $TMP/u.json .requests))"
ok "$(jqv $TMP/u.json '.unfinished_max_age_us < 2000000' | grep -qx true; echo $?)" \
	"the unfinished request is $(jqv $TMP/u.json .unfinished_max_age_us) µs old, not the connection's ~3 s"

# --- refused before anything runs -------------------------------------------------------------
port=$(free_port)
out=$("$CLIENT" get --port "$port" --cpus 1000 -d 300ms -q 2>&1); rc=$?
is "$rc" 2 "--cpus 1000: usage error, not an unpinned run"
grep -q 'CPU 1000 is not one this process can run on (it may use ' <<<"$out"; ok $? "says why: $out"
out=$("$CLIENT" get --port "$port" -d 20s -q --json "$TMP/no/such/dir/r.json" 2>&1); rc=$?
is "$rc" 2 "--json into a missing folder: usage error before the run"
grep -q -- "--json $TMP/no/such/dir/r.json: cannot write: No such file or directory (checked before the run" <<<"$out"
ok $? "names the path and the cause: $out"
grep -q 'connect_refused\|handshakes' <<<"$out"; ok $((!$?)) "and ran nothing"
out=$("$CLIENT" trace --port "$port" --json "$TMP/no/such/dir/t.json" 2>&1); rc=$?
is "$rc" 2 "trace --json into a missing folder: usage error before connecting"
# an existing --json file is kept as it was when the run could not start
echo keep >"$TMP/keep.json"
"$CLIENT" get --port "$port" --cpus 0 --threads 2 -c 2 -d 200ms -q --json "$TMP/keep.json" >/dev/null 2>&1
ok "$(jq -e '.mode == "get"' "$TMP/keep.json" >/dev/null; echo $?)" "a run that ran writes its JSON over the old file"

# --- trace --json -: stdout holds the JSON and nothing else -----------------------------------
start_s_server -tls1_3 || bail "openssl s_server started"
"$CLIENT" trace --port "$PORT" --request none --json - >"$TMP/t.out" 2>"$TMP/t.err"
is "$?" 0 "trace --json - exits 0"
check "stdout is one JSON document" jq -e '.mode == "trace"' "$TMP/t.out"
grep -q 'ClientHello' "$TMP/t.err"; ok $? "the human trace went to stderr"
is "$(jq -r '.version + " " + .commit' "$TMP/t.out")" \
	"$("$CLIENT" --version | head -1 | sed 's/^ktls-client \([^ ]*\) (commit \(.*\))$/\1 \2/')" \
	"the trace JSON carries the version and commit"
done_testing

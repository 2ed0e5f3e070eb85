#!/bin/bash
# ktls-client as wrk and h2load are used: a URL target (conflicts with the
# options are usage errors), --method, -H and --body as the server received
# them (tests/helpers/tls_test_server's request log: method, headers, body
# SHA-256 against sha256sum), several paths in turn, HEAD, --progress when
# stderr is a file, get --rate (open loop) against a slow server, --bind
# source addresses as the server saw them, and the mean and standard
# deviation against HdrHistogram's own (Java) reading of the --hdr-log.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"

LOG=$TMP/requests.jsonl
start_helper --requests-log "$LOG" || bail "test server started"
URL=https://127.0.0.1:$PORT

# --- the URL ---------------------------------------------------------------------
"$CLIENT" get "$URL/bytes/1000" -n 20 -c 2 -q --json "$TMP/u.json" >/dev/null 2>&1
is "$?" 0 "get https://127.0.0.1:PORT/bytes/1000 exits 0"
is "$(jqv $TMP/u.json .requests)" 20 "20 requests"
is "$(jqv $TMP/u.json .bytes)" 20000 "20000 body bytes, checked"
is "$(jqv $TMP/u.json .config.url)" "$URL/bytes/1000" "the JSON names the URL"
is "$(jqv $TMP/u.json .config.port)" "$PORT" "the port came from the URL"
is "$(grep -c '"path": "/bytes/1000"' "$LOG")" 20 "the server saw 20 GET /bytes/1000"
"$CLIENT" handshake "$URL" -n 5 -c 1 -q --json "$TMP/uh.json" >/dev/null 2>&1
is "$?" 0 "handshake https://127.0.0.1:PORT exits 0"
is "$(jqv $TMP/uh.json '.handshakes + .requests')" 5 "5 handshakes, no request"
"$CLIENT" handshake "$URL/bytes/10" -n 5 -c 1 -q --json "$TMP/uh2.json" >/dev/null 2>&1
is "$(jqv $TMP/uh2.json .requests)" 5 "handshake with a URL path: one request per connection"
"$CLIENT" get https://127.0.0.1/bytes/10 --port "$PORT" -n 2 -c 1 -q --json "$TMP/up.json" >/dev/null 2>&1
is "$(jqv $TMP/up.json .requests)" 2 "a URL without a port takes --port"

usage_err() { # what args...: exit 2 and a sentence
	local what=$1; shift
	"$CLIENT" "$@" >/dev/null 2>"$TMP/err"
	is "$?" 2 "$what: exit 2"
}
usage_err "URL host against --host" get "$URL/" --host 127.0.0.2
ok "$(grep -q "URL names host '127.0.0.1' but --host says '127.0.0.2'" "$TMP/err"; echo $?)" "and the message names both"
usage_err "URL port against --port" get "$URL/" --port 1
usage_err "URL path against --size" get "$URL/bytes/1" --size 10
usage_err "URL path against --path" get "$URL/bytes/1" --path /bytes/2
usage_err "http:// (this client speaks TLS only)" get "http://127.0.0.1:$PORT/"
ok "$(grep -q 'use https://' "$TMP/err"; echo $?)" "and the message says to use https://"
usage_err "two URLs" get "$URL/" "$URL/"
usage_err "a fragment" get "$URL/#x"
usage_err "a bad port" get "https://127.0.0.1:99999/"
usage_err "an unclosed IPv6 address" get "https://[::1:$PORT/"

# --- method, headers, body --------------------------------------------------------
head -c 5000 /dev/urandom >"$TMP/body.bin"
: >"$LOG"
"$CLIENT" get "$URL/bytes/100" --method POST -H "X-Test: one two" -H "Host: example.test" \
	--body "$TMP/body.bin" -n 3 -c 1 -q --json "$TMP/m.json" >/dev/null 2>&1
is "$?" 0 "POST with headers and a body exits 0"
is "$(jqv $TMP/m.json .requests)" 3 "3 requests answered"
L1=$(head -n 1 "$LOG")
is "$(jq -r .method <<<"$L1")" POST "the server saw POST"
is "$(jq -r '.headers | index("X-Test: one two") != null' <<<"$L1")" true "the server saw the X-Test header"
is "$(jq -r '[.headers[] | select(test("^Host:"))] | join("|")' <<<"$L1")" "Host: example.test" \
	"-H Host replaced the default Host header (one Host header)"
is "$(jq -r '.headers | index("Content-Length: 5000") != null' <<<"$L1")" true "Content-Length: 5000"
is "$(jq -r .body_sha256 <<<"$L1")" "$(sha256sum "$TMP/body.bin" | cut -d' ' -f1)" \
	"the body the server read has the SHA-256 of --body's file"
is "$(jq -s '[.[].body_sha256] | unique | length' "$LOG")" 1 "every request carried the same body"
usage_err "-H without a colon" get "$URL/" -H "NoColon"
usage_err "-H Content-Length (the client sets it)" get "$URL/" -H "Content-Length: 3"
usage_err "--method with a space" get "$URL/" --method "GE T"
usage_err "--body of a missing file" get "$URL/" --body "$TMP/missing"
usage_err "--method HEAD with --body" get "$URL/" --method HEAD --body "$TMP/body.bin"

# HEAD: a head with Content-Length and no body
"$CLIENT" get "$URL/bytes/5000" --method HEAD -n 4 -c 1 -q --json "$TMP/head.json" >/dev/null 2>&1
is "$?" 0 "HEAD /bytes/5000 exits 0"
is "$(jqv $TMP/head.json '[.requests, .bytes, .errors_total] | join(" ")')" "4 0 0" \
	"4 answered, no body bytes expected or counted, no errors"

# --- several paths in turn --------------------------------------------------------
: >"$LOG"
"$CLIENT" get "$URL" --path /bytes/10 --path /bytes/20 -n 6 -c 1 -q --json "$TMP/p.json" >/dev/null 2>&1
is "$?" 0 "two --path options exit 0"
is "$(jq -r .path "$LOG" | tr '\n' ' ')" "/bytes/10 /bytes/20 /bytes/10 /bytes/20 /bytes/10 /bytes/20 " \
	"the paths were requested in turn"
is "$(jqv $TMP/p.json .bytes)" 90 "bytes: 3 x 10 + 3 x 20, each body checked against its own length"
printf '# three paths\n/bytes/1\n\n/bytes/2\n  /bytes/3  \n' >"$TMP/paths"
: >"$LOG"
"$CLIENT" get "$URL" --paths "$TMP/paths" -n 6 -c 1 -q --json "$TMP/pf.json" >/dev/null 2>&1
is "$(jq -r .path "$LOG" | tr '\n' ' ')" "/bytes/1 /bytes/2 /bytes/3 /bytes/1 /bytes/2 /bytes/3 " \
	"--paths FILE: comments and blank lines skipped, paths in turn"
is "$(jqv $TMP/pf.json '.config.paths | length')" 3 "the JSON lists the 3 paths"
printf '/ok\nnot-a-path\n' >"$TMP/badpaths"
usage_err "--paths with a line that is no path" get "$URL" --paths "$TMP/badpaths"
ok "$(grep -q "badpaths:2" "$TMP/err"; echo $?)" "and the message names file:line"

# --- --progress when stderr is not a terminal -----------------------------------------
"$CLIENT" get "$URL/bytes/100" -d 3s -c 1 --progress >/dev/null 2>"$TMP/prog"
n=$(grep -c '^\[ *[0-9]*s\]' "$TMP/prog")
ok "$(( n >= 2 && n <= 4 ? 0 : 1 ))" "--progress: a line a second on a file (got $n in 3 s)"
"$CLIENT" get "$URL/bytes/100" -d 1s -c 1 >/dev/null 2>"$TMP/noprog"
is "$(grep -c '^\[ *[0-9]*s\]' "$TMP/noprog")" 0 "without it, no progress line on a file"
usage_err "--progress with --quiet" get "$URL/" --progress -q

# --- --bind: the server sees the source addresses ----------------------------------------
: >"$LOG"
"$CLIENT" handshake "$URL/bytes/10" --bind 127.0.0.2-127.0.0.3 -c 2 -n 20 -q --json "$TMP/b.json" \
	>/dev/null 2>&1
is "$?" 0 "--bind 127.0.0.2-127.0.0.3 exits 0"
is "$(jq -r .peer "$LOG" | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" "127.0.0.2:10 127.0.0.3:10 " \
	"the server saw 10 connections (one request each) from each address, in turn"
is "$(jqv $TMP/b.json '[.bind[].connections] | join(" ")')" "10 10" "the JSON counts 10 connections per address"
usage_err "--bind with an address not on this machine" get "$URL/" --bind 192.0.2.1
ok "$(grep -q 'not an address of this machine' "$TMP/err"; echo $?)" "and says so"
usage_err "--bind with a backwards range" get "$URL/" --bind 127.0.0.9-127.0.0.2
usage_err "--bind IPv6 to an IPv4 server" get "$URL/" --bind ::1
stop_helper

# --- get --rate: the schedule, not the server, sets the pace ---------------------------------
# 2 connections to a server that takes 50 ms per response can answer 40/s.
start_helper --delay-response 50ms || bail "test server started"
"$CLIENT" get "https://127.0.0.1:$PORT/bytes/100" --rate 20 -c 2 -d 3s -w 1s -q \
	--json "$TMP/r20.json" >/dev/null 2>&1
is "$?" 0 "get --rate 20 (under capacity) exits 0"
rps=$(jqv $TMP/r20.json '.requests_per_s | round')
ok "$(( rps >= 17 && rps <= 21 ? 0 : 1 ))" "--rate 20: 20 requests/s (got $rps)"
p50=$(jqv $TMP/r20.json '.latency_us.p50 / 1000 | floor')
ok "$(( p50 >= 50 && p50 < 200 ? 0 : 1 ))" "under capacity, p50 is the service time, 50 ms or a little more (got $p50 ms)"
is "$(jqv $TMP/r20.json .config.loop)" open "the JSON says open loop"
"$CLIENT" get "https://127.0.0.1:$PORT/bytes/100" --rate 100 -c 2 -d 2s -w 1s --timeout 20s -q \
	--json "$TMP/r100.json" >/dev/null 2>&1
rps=$(jqv $TMP/r100.json '.requests_per_s | round')
ok "$(( rps <= 45 ? 0 : 1 ))" "--rate 100 over 2 connections at 50 ms: at most ~40/s answered (got $rps)"
p90=$(jqv $TMP/r100.json '.latency_us.p90 / 1000 | floor')
ok "$(( p90 >= 300 ? 0 : 1 ))" "over capacity, p90 holds the queueing from the schedule (got $p90 ms, service 50 ms)"
late=$(jqv $TMP/r100.json .late_starts)
ok "$(( late > 50 ? 0 : 1 ))" "and the requests that waited for a connection count as late ($late)"
"$CLIENT" get "https://127.0.0.1:$PORT/bytes/100" -c 2 -d 2s -w 1s -q --json "$TMP/c2.json" >/dev/null 2>&1
p90c=$(jqv $TMP/c2.json '.latency_us.p90 / 1000 | floor')
ok "$(( p90c < 200 ? 0 : 1 ))" "the closed loop on the same server hides the queue: p90 $p90c ms (coordinated omission)"
usage_err "--max-inflight is handshake's" get "$URL/" --rate 10 --max-inflight 5
stop_helper

# --- --hdr-log against HdrHistogram's own reader ---------------------------------------------
JAR=/usr/share/java/hdrhistogram.jar
start_helper || bail "test server started"
"$CLIENT" get "https://127.0.0.1:$PORT/bytes/100" -c 2 -d 3s -q --hdr-log "$TMP/h.hlog" \
	--json "$TMP/h.json" >/dev/null 2>&1
is "$?" 0 "get --hdr-log exits 0"
is "$(grep -c '^[0-9]' "$TMP/h.hlog")" 3 "three interval lines for 3 s"
ok "$(grep -q '^#\[StartTime: ' "$TMP/h.hlog"; echo $?)" "a StartTime line"
if [[ -r $JAR ]] && command -v java >/dev/null; then
	java -cp "$JAR" org.HdrHistogram.HistogramLogProcessor -i "$TMP/h.hlog" -o "$TMP/hout" \
		-outputValueUnitRatio 1000 >"$TMP/java.log" 2>&1
	is "$?" 0 "HdrHistogram's HistogramLogProcessor reads the log"
	total=$(sed -n 's/.*Total count *= *\([0-9]*\)\].*/\1/p' "$TMP/hout.hgrm")
	is "$total" "$(jqv $TMP/h.json .latency_us.count)" "its total count is the run's count"
	# per interval, as the processor lists them: counts add up to the total
	is "$(awk -F'I:' '/^[0-9.]+: I:/ { split($2, a, " "); s += a[1] } END { print s }' "$TMP/hout")" "$total" \
		"the interval counts add up"
	# percentiles over the whole log: the last interval line's "T:count ( 50% 90% 99%
	# 99.9% 99.99% Max )". HdrHistogram reports a bucket's top, this client its
	# middle: within one bucket (< 1%) of each other
	read -r -a T <<<"$(sed -n 's/.*T:[0-9]* ( *\([^)]*\)).*/\1/p' "$TMP/hout" | tail -n 1)"
	close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.01 * b + 0.002) }'; }
	i=0
	for p in p50 p90 p99 p999; do
		c=$(jqv $TMP/h.json ".latency_us.$p")
		ok "$(close "${T[$i]}" "$c"; echo $?)" "$p: HdrHistogram ${T[$i]} us, ktls-client $c us"
		i=$((i + 1))
	done
	ok "$(close "${T[5]}" "$(jqv $TMP/h.json .latency_us.max)"; echo $?)" \
		"max: HdrHistogram ${T[5]} us, ktls-client $(jqv $TMP/h.json .latency_us.max) us"
	mean=$(sed -n 's/.*Mean *= *\([0-9.]*\),.*/\1/p' "$TMP/hout.hgrm")
	sd=$(sed -n 's/.*StdDeviation *= *\([0-9.]*\)\].*/\1/p' "$TMP/hout.hgrm")
	# HdrHistogram computes them from the buckets, this client from the values
	ok "$(close "$mean" "$(jqv $TMP/h.json .latency_us.mean)"; echo $?)" \
		"mean: HdrHistogram $mean us, ktls-client $(jqv $TMP/h.json .latency_us.mean) us"
	ok "$(awk -v a="$sd" -v b="$(jqv $TMP/h.json .latency_us.stddev)" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 * b + 0.01) }'; echo $?)" \
		"stddev: HdrHistogram $sd us, ktls-client $(jqv $TMP/h.json .latency_us.stddev) us"
else
	skip "HdrHistogram's Java reader is not installed (apt-get install libhdrhistogram-java default-jre-headless)" 10
fi
usage_err "--hdr-log into a missing folder" get "$URL/" --hdr-log /nonexistent/dir/x.hlog
ok "$(grep -q 'checked before the run' "$TMP/err"; echo $?)" "checked before the run"
stop_helper

# --- ephemeral ports running out, counted and named (a private network namespace
# with 10 local ports; the server holds each connection 2 s before its handshake) ---
if unshare -n true 2>/dev/null; then
	P=$(free_port)
	unshare -n bash -c '
		ip link set lo up || exit 1
		echo "40000 40009" >/proc/sys/net/ipv4/ip_local_port_range || exit 1
		"$1" --port "$2" --cert "$3/ecdsa-p256.crt" --key "$3/ecdsa-p256.key" \
			--delay-handshake 2s --lifetime 60s >/dev/null 2>&1 &
		# (ss, not a trial connect: that would hold one of the 10 ports in TIME_WAIT)
		for _ in $(seq 200); do [[ -n $(ss -Hltn "sport = :$2") ]] && break; sleep 0.05; done
		"$4" handshake --port "$2" -c 15 -n 15 --timeout 20s -q --json "$5/x1.json" >"$5/x1.txt" 2>&1
		"$4" handshake --port "$2" -c 25 -n 25 --timeout 20s -q --bind 127.0.0.2-127.0.0.3 \
			--json "$5/x2.json" >"$5/x2.txt" 2>&1
		kill %1
	' _ "$HELPER" "$P" "$CERTS" "$CLIENT" "$TMP"
	is "$(jqv $TMP/x1.json '[.handshakes, .errors.connect_addrnotavail] | join(" ")')" "10 5" \
		"10 ports: 10 connections, 5 found no port (connect_addrnotavail)"
	ok "$(grep -q 'no free ephemeral port on the default source address (ip_local_port_range 40000-40009' \
		"$TMP/x1.txt"; echo $?)" "the summary names what ran out, the range, and the fix"
	is "$(jqv $TMP/x2.json '[.handshakes, .errors.connect_addrnotavail] | join(" ")')" "20 5" \
		"--bind with 2 addresses: 20 connections, then 5 found no port on either"
	is "$(jqv $TMP/x2.json '[.bind[] | "\(.address)=\(.connections)"] | join(" ")')" "127.0.0.2=10 127.0.0.3=10" \
		"10 connections from each address"
	is "$(jqv $TMP/x2.json '[.bind[] | .ports_exhausted > 0] | join(" ")')" "true true" \
		"both addresses ran out, each counted"
	ok "$(grep -q 'ephemeral ports ran out .* 127.0.0.2 [0-9]* 127.0.0.3 [0-9]*' "$TMP/x2.txt"; echo $?)" \
		"the summary names the addresses that ran out"
else
	skip "no network namespace (unshare -n) for the port exhaustion test" 6
fi
done_testing

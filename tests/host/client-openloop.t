#!/bin/bash
# ktls-client handshake --rate: the open loop keeps its schedule when the
# server is slow, and its latency runs from the scheduled start, so the time
# spent queueing behind a slow server is in the percentiles (no coordinated
# omission); the closed loop, by contrast, measures only the service time.
# The servers are tests/helpers/tls_test_server with a delay per handshake.
# Bounds are loose: this machine is shared and timings are noisy.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/client_common.sh"
[[ -x $HELPER ]] || skip_all "tests/helpers/tls_test_server is not built (make tests)"

ms() { jq -r "$2 / 1000 | floor" "$1"; }

# --- a slow but parallel server: 50 ms per handshake, any number at once ---------
start_helper --delay-handshake 50ms || bail "test server started"
"$CLIENT" handshake --port "$PORT" --rate 100 -d 2s -q --json "$TMP/par.json" >/dev/null 2>&1
is "$?" 0 "open loop at 100/s against a 50 ms server exits 0"
stop_helper
J=$TMP/par.json
started=$(jqv $J '.handshakes + .unfinished')
ok "$(( started >= 195 && started <= 201 ? 0 : 1 ))" "the schedule held: 200 starts in 2 s at 100/s (got $started)"
# (wait_port's probe is one more accepted connection)
is "$(( $(jqv $STATS .accepted) - 1 ))" "$started" "the server accepted exactly the connections the client started"
is "$(jqv $STATS .handshakes)" "$(jqv $J .handshakes)" "the server's handshake count matches the client's"
p50=$(ms $J .latency_us.p50)
# (upper bounds that tell the open loop from a schedule slowed by the
# server, which would lag by seconds here, not how busy the machine is)
ok "$(( p50 >= 50 && p50 < 1000 ? 0 : 1 ))" "p50 latency includes the server's 50 ms (got $p50 ms)"
lag=$(ms $J .max_start_lag_us)
ok "$(( lag < 500 ? 0 : 1 ))" "starts stayed on schedule: worst lag $lag ms (a slow server does not slow the schedule)"
is "$(jqv $J '.errors_total')" 0 "no errors"
# with 50 ms each and 100/s, about 5 are always in flight: the closed loop with
# 1 connection would do 20/s; the open loop does 100/s
hs=$(jqv $J '.handshakes_per_s | floor')
ok "$(( hs >= 90 ? 0 : 1 ))" "throughput follows the offered rate ($hs/s), not 1/service time"

# --- a server with a queue: one handshake at a time, 20 ms each (50/s at most) ----
# Offered 100/s for 1 s: the queue grows, and so must the latency measured
# from each connection's scheduled start.
start_helper --delay-handshake 20ms --serial || bail "test server started"
"$CLIENT" handshake --port "$PORT" --rate 100 -d 1s --timeout 10s -q --json "$TMP/q.json" >/dev/null 2>&1
stop_helper
J=$TMP/q.json
p90=$(ms $J .latency_us.p90)
ok "$(( p90 >= 150 ? 0 : 1 ))" "open loop: p90 includes the queueing ($p90 ms, service time 20 ms)"
ok "$(jqv $J '.unfinished > 0' | grep -qx true; echo $?)" "and the backlog still in flight at the end is reported ($(jqv $J .unfinished))"

# the same server seen by a closed loop with one connection: about the service time
start_helper --delay-handshake 20ms --serial || bail "test server started"
"$CLIENT" handshake --port "$PORT" -c 1 -d 1s -q --json "$TMP/cl.json" >/dev/null 2>&1
stop_helper
p90c=$(ms $TMP/cl.json .latency_us.p90)
ok "$(( p90c >= 20 && p90c < 120 ? 0 : 1 ))" "closed loop: p90 is about the service time ($p90c ms)"
ok "$(( p90 > 2 * p90c ? 0 : 1 ))" "the open loop shows the queueing the closed loop hides ($p90 vs $p90c ms)"

# --- when every slot is busy, the starts are late and the lateness is counted ------
start_helper --delay-handshake 20ms --serial || bail "test server started"
"$CLIENT" handshake --port "$PORT" --rate 100 --max-inflight 1 -d 1s -q --json "$TMP/cap.json" >/dev/null 2>&1
stop_helper
J=$TMP/cap.json
ok "$(jqv $J '.late_starts > 0' | grep -qx true; echo $?)" "--max-inflight 1: late starts counted ($(jqv $J .late_starts))"
lag=$(ms $J .max_start_lag_us)
ok "$(( lag >= 100 ? 0 : 1 ))" "worst start lag is large ($lag ms)"
p99=$(ms $J .latency_us.p99)
ok "$(( p99 >= lag ? 0 : 1 ))" "latency counts from the scheduled start, lag included (p99 $p99 ms >= lag $lag ms)"
missed=$(jqv $J '.errors.schedule_missed // 0')
ok "$(( missed > 0 ? 0 : 1 ))" "starts that never got a slot are errors (schedule_missed $missed)"
done_testing

#!/bin/bash
# ktls-client-mpi under mpirun, across stand-in hosts: network namespaces
# joined by veth pairs (scripts/netns.sh), the server in a third one. The
# merged figures are checked against independent oracles: the sum of the
# ranks, the server's own count, and every raw latency sample of every rank
# sorted together (the merged p99 must be exactly what the histogram makes
# of the true p99). A rank that fails, dies or hangs ends the run with an
# error, and no rank is left running.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fleet_common.sh"

fleet_up
fleet_server || bail "ktls-server started in the server namespace"

mpi() { timeout -k 5 90 ip netns exec "$SRV_NS" env "${FLEET_ENV[@]}" mpirun --hostfile "$HOSTS" --bind-to none "$@"; }

# sums: every count of the merged JSON equals the sum over ranks[]
check_sums() {
	local j=$1 what=$2 k
	for k in handshakes requests bytes resumed errors_total unfinished; do
		is "$(jq ".$k" "$j")" "$(jq "[.ranks[].$k] | add" "$j")" "$what: $k is the sum of the ranks'"
	done
	is "$(jq '.latency_us.count' "$j")" "$(jq '[.ranks[].latency_us.count] | add' "$j")" \
		"$what: the merged histogram holds every rank's samples"
	is "$(jq '.cpu_user_s + .cpu_sys_s | . * 1e6 | round' "$j")" \
		"$(jq '[.ranks[] | .cpu_user_s + .cpu_sys_s] | add | . * 1e6 | round' "$j")" "$what: client CPU is the ranks' sum"
}

# the merged percentiles against all raw samples together
check_raw() {
	local j=$1 raw=$2 what=$3 p key want got
	is "$(wc -l <"$raw")" "$(jq '.latency_us.count' "$j")" "$what: one raw sample per counted latency"
	for ((r = 0; r < $(jq '.ranks | length' "$j"); r++)); do
		is "$(awk -v r=$r '$1 == r' "$raw" | wc -l)" "$(jq ".ranks[$r].latency_us.count" "$j")" \
			"$what: rank $r sent all its samples"
	done
	for p in 50 99 99.9; do
		key=p${p/./}
		want=$(exact_p_us "$raw" "$p")
		got=$(jq -r ".latency_us.$key" "$j")
		ok "$(awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 0.0005 && d > -0.0005) }'; echo $?)" \
			"$what: merged p$p $got us is the histogram's value of the true p$p of all samples ($want us)"
	done
}

# --- two ranks, one per host; a count, so the server's own count is an oracle ---
out=$FTMP/two
mpi -np 2 --map-by node "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" -c 4 -n 600 -d 60s \
	--json - --raw-samples "$out.raw" >"$out.json" 2>"$out.err"
rc=$?
is "$rc" 0 "2 ranks on 2 hosts: exit 0"
[[ $rc == 0 ]] || sed 's/^/#   /' "$out.err" | tail -n 20
is "$(jq '.ranks | length' "$out.json")" 2 "two ranks in ranks[]"
is "$(jq -r '[.ranks[].host] | unique | length' "$out.json")" 2 "on two hosts"
is "$(jq -r '[.ranks[].host] | sort | join(" ")' "$out.json")" "$(printf '%s\n' "$C1" "$C2" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the hosts are the namespaces of the hostfile (the launcher named them)"
check_sums "$out.json" "2 ranks"
is "$(jq '.handshakes' "$out.json")" 600 "--handshakes 600 is the fleet's total"
is "$(jq '[.ranks[].handshakes] | join(" ")' -r "$out.json")" "300 300" "split evenly"
check_raw "$out.json" "$out.raw" "2 ranks"
grep -q 'fleet started: 2 ranks on 2 hosts' "$out.err"
ok $? "rank 0 says when the fleet started"
fleet_server_stop
is "$(jq '.handshakes_full + .handshakes_resumed' "$FLEET_SRV_JSON")" 600 "the server counted the same 600 handshakes"
fleet_server || bail "ktls-server restarted"

# --- four ranks, two per host, get mode ---------------------------------------
out=$FTMP/four
mpi -np 4 "$MPI_CLIENT" get --host "$ADDR" --port "$FPORT" -c 8 --size 16K -d 2s -w 500ms \
	--json "$out.json" --raw-samples "$out.raw" >"$out.out" 2>"$out.err"
rc=$?
is "$rc" 0 "4 ranks on 2 hosts (get): exit 0"
[[ $rc == 0 ]] || sed 's/^/#   /' "$out.err" | tail -n 20
is "$(jq '.ranks | length' "$out.json")" 4 "four ranks in ranks[]"
is "$(jq -c '[.fleet.hosts[].ranks]' "$out.json")" "[2,2]" "two ranks on each host"
is "$(jq -c '[.ranks[].connections]' "$out.json")" "[2,2,2,2]" "--connections 8 split 2 a rank"
check_sums "$out.json" "4 ranks"
# (responses in flight at the window's edges count their bytes in part)
ok "$(jq '.requests > 0 and ((.bytes - .requests * 16384) | fabs) <= 9 * 16384' "$out.json" | grep -qx true; echo $?)" \
	"every request brought 16 KiB ($(jq .requests "$out.json") requests, $(jq .bytes "$out.json") bytes)"
check_raw "$out.json" "$out.raw" "4 ranks"
is "$(jq '[.timeline[] | select(.warmup | not) | .requests] | add >= 0' "$out.json")" true "a timeline"
grep -q 'bottleneck' "$out.out"
ok $? "the summary names the bottleneck rank"
rank_lines=$(grep -cE '^ +[0-3] +ktf' "$out.out")
is "$rank_lines" 4 "the summary has one line per rank"

# --- open loop: --rate is the fleet's total, interleaved ------------------------
out=$FTMP/open
rate=200
[[ -n ${KTLS_ASAN:-} ]] && rate=40 # ASan's ranks are many times slower
n=$((rate * 2))
mpi -np 4 "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" --rate $rate -d 2s --json "$out.json" \
	--raw-samples "$out.raw" >"$out.out" 2>"$out.err"
is "$?" 0 "open loop at $rate/s over 4 ranks: exit 0"
started=$(jq '.handshakes + .unfinished + (.errors_total // 0)' "$out.json")
# (loose bounds: on a loaded machine a rank may miss a few of its last starts;
# a per-rank --rate would have started four times as many)
ok "$((started >= n * 9 / 10 && started <= n + 2 ? 0 : 1))" \
	"the fleet started $n in 2 s at $rate/s in total (got $started)"
for ((r = 0; r < 4; r++)); do
	s=$(jq ".ranks[$r] | .handshakes + .unfinished + .errors_total" "$out.json")
	ok "$((s >= n / 4 * 9 / 10 && s <= n / 4 + 1 ? 0 : 1))" "rank $r started a quarter of them (got $s)"
done
# the schedules interleave: every 4/rate s the fleet starts 4, rank r's r/rate s
# after rank 0's (a start is the scheduled one, from the rank's t0)
period=$((4 * 1000000000 / rate)) step=$((1000000000 / rate))
bad=$(awk -v p=$period -v s=$step '($2 % p) != $1 * s' "$out.raw" | wc -l)
is "$bad" 0 "staggered: rank r starts at r x $((step / 1000000)) ms + k x $((period / 1000000)) ms ($(wc -l <"$out.raw") starts checked)"
is "$(awk '{print $1}' "$out.raw" | sort -u | tr '\n' ' ')" "0 1 2 3 " "every rank's starts are there"

# --- a rank that cannot start: one reason, printed once, nothing run --------------
out=$FTMP/nostart
mpi -np 4 "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" -c 8 -d 2s \
	--json /nonexistent-dir/x.json >"$out.out" 2>"$out.err"
is "$?" 2 "a rank that cannot start fails the fleet with status 2 (a usage error)"
grep -q "rank 0 on $C1 could not start" "$out.err"
ok $? "it names the rank and its host"
grep -q -- '--json /nonexistent-dir/x.json: cannot write' "$out.err"
ok $? "and why"
is "$(grep -c 'fleet started' "$out.err")" 0 "no rank started"

# --- a rank killed in the middle ends the run: error, no hang, nothing left ---------
out=$FTMP/killed
t0=$(date +%s)
mpi -np 4 "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" -c 8 -d 60s --json "$out.json" \
	>"$out.out" 2>"$out.err" &
mpid=$!
for ((i = 0; i < 300; i++)); do
	grep -q 'fleet started' "$out.err" 2>/dev/null && break
	sleep 0.1
done
victim=$(ranks_in "$C2" | head -n 1)
ok "$([[ -n $victim ]]; echo $?)" "a rank runs on $C2 (pid ${victim:-none})"
kill -KILL "$victim" 2>/dev/null
wait "$mpid"
rc=$?
t1=$(date +%s)
ok "$((rc != 0 ? 0 : 1))" "mpirun fails when a rank is killed (status $rc)"
ok "$((t1 - t0 < 45 ? 0 : 1))" "and ends well before the 60 s run would have ($((t1 - t0)) s)"
# (Open MPI 4's mpirun and Open MPI 5's prterun: "... exited on signal 9 (Killed)")
grep -q 'signal 9 (Killed)' "$out.err"
ok $? "the message says a rank was killed"
wait_gone 20
ok $? "no rank is left running"

# --- a rank that hangs: the others stop the job after --fleet-wait --------------------
out=$FTMP/hung
mpi -np 4 "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" -c 8 -d 2s --fleet-wait 2s \
	--json "$out.json" >"$out.out" 2>"$out.err" &
mpid=$!
for ((i = 0; i < 300; i++)); do
	grep -q 'fleet started' "$out.err" 2>/dev/null && break
	sleep 0.1
done
victim=$(ranks_in "$C2" | tail -n 1)
kill -STOP "$victim" 2>/dev/null
t0=$(date +%s)
wait "$mpid"
rc=$?
t1=$(date +%s)
ok "$((rc != 0 ? 0 : 1))" "a stopped rank fails the run (status $rc)"
ok "$((t1 - t0 < 40 ? 0 : 1))" "bounded: $((t1 - t0)) s after the rank stopped"
grep -q 'did not all answer within 2.00 s (--fleet-wait)' "$out.err"
ok $? "the message says the others waited --fleet-wait for it"
kill -CONT "$victim" 2>/dev/null
wait_gone 20
ok $? "no rank is left running"

# --- a rank that ends early waits for a slower one (until the planned end) --------
# 10 handshakes a rank at 5/s each: rank 0 is done after 2 s, rank 1 is held
# for 4 s; --fleet-wait 2s counts from the run's planned end (30 s), not from
# rank 0's own
out=$FTMP/slow
mpi -np 2 --map-by node "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" --rate 10 -n 20 -d 30s \
	--fleet-wait 2s --json "$out.json" >"$out.out" 2>"$out.err" &
mpid=$!
for ((i = 0; i < 300; i++)); do
	grep -q 'fleet started' "$out.err" 2>/dev/null && break
	sleep 0.1
done
victim=$(ranks_in "$C2" | head -n 1)
kill -STOP "$victim" 2>/dev/null
sleep 4
kill -CONT "$victim" 2>/dev/null
wait "$mpid"
is "$?" 0 "a rank held for 4 s still finishes: the other waited past its own end"
is "$(jq '.handshakes' "$out.json" 2>/dev/null)" 20 "with every handshake counted"
is "$(jq -c '[.ranks[].ended_by_count]' "$out.json" 2>/dev/null)" "[true,true]" "both ranks ended by the count"

# --- a rank that fails during the run stops every rank (MPI_Abort) -----------------
# (--resume against a server that gives no session: the run's fatal error)
fleet_server_stop
fleet_server --tickets 0 --session-cache 0 || bail "ktls-server restarted without tickets"
out=$FTMP/fatal
t0=$(date +%s)
mpi -np 4 "$MPI_CLIENT" handshake --host "$ADDR" --port "$FPORT" -c 4 --resume -d 30s --timeout 1s \
	--json "$out.json" >"$out.out" 2>"$out.err"
rc=$?
t1=$(date +%s)
ok "$((rc != 0 ? 0 : 1))" "a rank's fatal error fails the fleet (status $rc)"
ok "$((t1 - t0 < 25 ? 0 : 1))" "at once, not after the 30 s run ($((t1 - t0)) s)"
grep -qE 'rank [0-3] on ktf[^:]*: --resume: the server sent no TLS 1.3 session ticket.*stopping every rank' "$out.err"
ok $? "the rank says why, and that it stops every rank"
grep -q 'MPI_ABORT was invoked' "$out.err"
ok $? "through MPI_Abort"
wait_gone 20
ok $? "no rank is left running"
fleet_server_stop
fleet_server || bail "ktls-server restarted"

# --- docs/fleet.md's mpirun command, as printed (hostfile and address substituted) -------
cmd=$(sed -n '/<!-- fleet-mpirun -->/,/<!-- \/fleet-mpirun -->/p' "$ROOT/docs/fleet.md" | sed -n '/^mpirun/,/[^\\]$/p' |
	sed 's/\\$//' | tr '\n' ' ')
ok "$([[ $cmd == mpirun* ]]; echo $?)" "docs/fleet.md has the mpirun command between its markers"
cmd=${cmd//clients.txt/$HOSTS}
cmd=${cmd//192.0.2.10/$ADDR}
cmd=${cmd//bin\//$KTLS_BIN/}
diag "running: $cmd"
(cd "$FTMP" && timeout -k 5 90 ip netns exec "$SRV_NS" env "${FLEET_ENV[@]}" bash -c "$cmd" >readme.out 2>readme.err)
rc=$?
is "$rc" 0 "docs/fleet.md's command works as printed"
[[ $rc == 0 ]] || sed 's/^/#   /' "$FTMP/readme.err" | tail -n 20
j=$FTMP/fleet.json
ok "$([[ -s $j ]] && jq -e '.handshakes > 0 and (.ranks | length) > 1' "$j" >/dev/null; echo $?)" \
	"and writes a fleet's JSON (${j##*/})"
fleet_server_stop
done_testing

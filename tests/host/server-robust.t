#!/bin/bash
# ktls-server --tls user against bad clients: garbage, a stalled handshake, an
# idle connection, a client that stops reading, one that vanishes; each ends
# only its own connection (a concurrent good client's bytes still verify) and
# is counted by reason. Then the limits: --max-conns and EMFILE (ulimit -n).
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/robust-lib.sh"
need_certs

# a good client downloading 20 MB in the background: good_start / good_check
GOOD_SIZE=20000000

# tcp_hold HEX-BYTES SECONDS: send raw bytes, keep the socket open, print the
# seconds until the server closed it (or "open")
tcp_hold() {
	perl -MIO::Socket::INET -MTime::HiRes=time -e '
		my ($port, $hex, $secs) = @ARGV;
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or die "connect: $!";
		print $s pack("H*", $hex);
		my $t0 = time; my $buf;
		my $rin = ""; vec($rin, fileno($s), 1) = 1;
		while (time - $t0 < $secs) {
			my $r = $rin;
			if (select($r, undef, undef, 0.05)) {
				my $n = sysread($s, $buf, 65536);
				if (!$n) { printf "%.1f\n", time - $t0; exit 0 }
			}
		}
		print "open\n";' "$SRV_PORT" "$1" "$2"
}

start_server --threads 1 --handshake-timeout 1s --idle-timeout 1500ms

good_start 20M
# random bytes instead of a ClientHello (after 0xff, which no record starts with)
r=$(tcp_hold "ff$(head -c 2000 /dev/urandom | od -An -tx1 | tr -d ' \n')" 5)
ok "$([[ $r != open ]]; echo $?)" "random bytes: the server closes at once ($r s)"
# a plausible record header, then junk inside the record
r=$(tcp_hold "160301001a$(head -c 26 /dev/zero | od -An -tx1 | tr -d ' \n')" 5)
ok "$([[ $r != open ]]; echo $?)" "a handshake record of junk: closed ($r s)"
# a stalled handshake: half a record header, then silence
r=$(tcp_hold "1603" 5)
ok "$([[ $r != open ]] && awk -v t="$r" 'BEGIN { exit !(t >= 0.8 && t < 3) }'; echo $?)" \
	"a stalled handshake is closed by --handshake-timeout 1s (after $r s)"
# plain HTTP to the TLS port
r=$(tcp_hold "$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')" 5)
ok "$([[ $r != open ]]; echo $?)" "plain HTTP on the TLS port: closed"
good_check "garbage and stalled handshakes"

good_start 20M
# an established connection that says nothing
t0=$(date +%s.%N)
{ sleep 4; } | { timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" >/dev/null 2>&1
		 date +%s.%N >"$TMP/idle.end"; }
t=$(echo "$(cat "$TMP/idle.end") - $t0" | bc)
ok "$(awk -v t="$t" 'BEGIN { exit !(t < 3.5) }'; echo $?)" "an idle connection is closed by --idle-timeout (s_client gone after $t s)"
# a client that stops reading in the middle of a large response
{ printf 'GET /bytes/1099511627776 HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 6; } |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" 2>/dev/null | sleep 5
# a client that vanishes in the middle of a large response
timeout 0.5 curl -sS --cacert "$CA" "https://127.0.0.1:$SRV_PORT/bytes/1099511627776" >/dev/null 2>&1
good_check "idle, stalled-reader and vanishing clients"

st=$(stats)
is "$(jq '.handshake_failures.not_tls' <<<"$st")" 2 \
	"random bytes and plain HTTP are counted as not_tls ($(jq -c .handshake_failures <<<"$st"))"
ok "$(jq -e '.handshake_failures | to_entries | map(select(.key != "not_tls" and .key != "timeout")) | length == 1' <<<"$st" >/dev/null; echo $?)" \
	"the junk record is counted by OpenSSL's reason ($(jq -c .handshake_failures <<<"$st"))"
is "$(jq .timeouts.handshake <<<"$st")" 1 "one handshake timeout"
ok "$(jq -e '.timeouts.idle >= 1 and .timeouts.send >= 1' <<<"$st" >/dev/null; echo $?)" \
	"timeouts: idle (the silent client) and send (the stalled reader) ($(jq -c .timeouts <<<"$st"))"
ok "$(jq -e '.conn_errors.reset_by_peer >= 1' <<<"$st" >/dev/null; echo $?)" "the vanished client is counted"
is "$(jq .conns_current <<<"$st")" 1 "only the /stats connection is left"
stop_server
is "$SRV_RC" 0 "clean exit after all that"

# --max-conns 2: a third client waits in the backlog until a slot frees
start_server --threads 1 --max-conns 2
holders=()
for i in 1 2; do
	{ sleep 2; printf 'GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 1; } |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" >"$TMP/hold$i" 2>/dev/null &
	holders+=($!)
done
sleep 0.7
t0=$(date +%s.%N)
third=$(get /bytes/5)
t=$(echo "$(date +%s.%N) - $t0" | bc)
is "$third" "01234" "the third client is served"
ok "$(awk -v t="$t" 'BEGIN { exit !(t > 0.8) }'; echo $?)" "... only once a slot freed ($t s later)"
wait "${holders[@]}"
is "$(grep -c '^012$' "$TMP/hold1" "$TMP/hold2" | cut -d: -f2 | tr '\n' ' ')" "1 1 " "the two holders were served"
st=$(stats)
is "$(jq .conns_max <<<"$st")" 2 "conns_max never exceeded --max-conns"
ok "$(jq -e '.accept_pauses >= 1' <<<"$st" >/dev/null; echo $?)" "accepting paused at the limit"
stop_server

# EMFILE: with few descriptors the server keeps serving what it has and
# accepts the rest as descriptors free up
(trap - EXIT; ulimit -n 16; start_server --threads 1; echo "$SRV_PID $SRV_PORT" >"$TMP/emfile"; wait "$SRV_PID"; echo $? >"$TMP/emfile.rc") &
for ((i = 0; i < 100; i++)); do [[ -s $TMP/emfile ]] && break; sleep 0.05; done
read -r SRV_PID SRV_PORT <"$TMP/emfile"
n=24
for ((i = 0; i < n; i++)); do
	{ sleep 2; printf 'GET /bytes/70000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 2; } |
		timeout 20 openssl s_client -quiet -connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" 2>/dev/null |
		sed '1,/^\r$/d' | sha >"$TMP/e$i" &
done
wait_for=$(date +%s)
while jobs -r | grep -q s_client && (($(date +%s) - wait_for < 25)); do sleep 0.2; done
sleep 0.5
want=$(pattern 70000 | sha)
good=0
for ((i = 0; i < n; i++)); do [[ $(cat "$TMP/e$i") == "$want" ]] && good=$((good + 1)); done
is "$good" "$n" "ulimit -n 16: all $n clients served (the late ones once descriptors freed)"
st=$(stats)
ok "$(jq -e '.accept_errors.EMFILE >= 1 and .accept_pauses >= 1' <<<"$st" >/dev/null; echo $?)" \
	"EMFILE counted, accepting paused ($(jq -c '{accept_errors, accept_pauses}' <<<"$st"))"
kill -TERM "$SRV_PID"
for ((i = 0; i < 100; i++)); do [[ -s $TMP/emfile.rc ]] && break; sleep 0.05; done
is "$(cat "$TMP/emfile.rc")" 0 "the server still stops cleanly"
SRV_PID=
done_testing

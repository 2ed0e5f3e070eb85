#!/bin/bash
# timeout: 400
# scripts/vm.sh --forward: host programs reach a server running with the
# kernel's record layer in the guest. The guest (Debian 12's 6.1) runs
# ktls-server --tls ktls --strict on its network device; the host's
# openssl s_client and gnutls-cli (TLS 1.3 and 1.2) fetch /bytes through the
# forwarded 127.0.0.1 port and check them by SHA-256 against the pattern
# made here; the server's counters then say every connection was offloaded.
# The forward listens on the host's loopback only. One boot.
. "$(dirname "$0")/launch.sh"
. "$(dirname "$0")/../host/server-lib.sh"
VM=$KTLS_REPO/scripts/vm.sh
need_certs
for t in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static gnutls-cli:gnutls-bin ss:iproute2; do
	type -P "${t%%:*}" >/dev/null || skip_all "${t%%:*} is missing: apt-get install --no-install-recommends ${t#*:}"
done

free_port_any() {
	local p
	while :; do
		p=$((10000 + RANDOM % 22000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
HP=$(free_port_any) STOPP=$(free_port_any)
[[ $STOPP == "$HP" ]] && STOPP=$((HP + 1))
"$VM" --kernel bookworm --timeout 300 --forward "$HP:8443,$STOPP:8444" -- \
	bash "$KTLS_REPO/tests/ktls/forward-guest.sh" >"$TMP/vm.out" 2>"$TMP/vm.err" </dev/null &
vmpid=$!

# until the server answers through the forward (the boot, under TCG)
up=1
for ((i = 0; i < 240; i++)); do
	curl -s -o /dev/null --max-time 10 --cacert "$CA" "https://127.0.0.1:$HP/bytes/1" && { up=0; break; }
	kill -0 "$vmpid" 2>/dev/null || break
	sleep 1
done
ok "$up" "the server in the guest answers on 127.0.0.1:$HP ($i s)"
if [[ $up != 0 ]]; then
	sed 's/^/# vm| /' "$TMP/vm.err" | tail -20
	kill "$vmpid" 2>/dev/null
	wait "$vmpid"
	done_testing
	exit
fi
ok "$(ss -Htln "sport = :$HP" | awk '{ print $4 }' | grep -qx "127.0.0.1:$HP"; echo $?)" \
	"the forward listens on the host's loopback only ($(ss -Htln "sport = :$HP" | awk '{ print $4 }'))"

out=$(printf 'GET /bytes/200000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 60 openssl s_client -quiet -connect "127.0.0.1:$HP" -CAfile "$CA" -verify_return_error 2>/dev/null |
	sed '1,/^\r$/d' | sha)
is "$out" "$(pattern 200000 | sha)" "openssl s_client (TLS 1.3): 200000 bytes through kTLS in the guest"
for prio in 'NORMAL:-VERS-ALL:+VERS-TLS1.3' 'NORMAL:-VERS-ALL:+VERS-TLS1.2'; do
	out=$(printf 'GET /bytes/150000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		timeout 60 gnutls-cli --logfile=/dev/null --priority "$prio" --x509cafile "$CA" -p "$HP" 127.0.0.1 2>/dev/null |
		sed '1,/^\r$/d' | sha)
	is "$out" "$(pattern 150000 | sha)" "gnutls-cli ($prio): 150000 bytes through kTLS in the guest"
done

# stop the guest's server, read its counters
exec 3<>"/dev/tcp/127.0.0.1/$STOPP" && exec 3>&-
wait "$vmpid"
is "$?" 0 "the guest ends cleanly"
j=$(jq -c . "$TMP/vm.out")
ok "$(jq -e '.ktls_offloads >= 4 and .ktls_offloads == .handshakes_full + .handshakes_resumed' <<<"$j" >/dev/null; echo $?)" \
	"every connection was served by the guest kernel's record layer ($(jq -c '{ktls_offloads, handshakes_full}' <<<"$j"))"
done_testing

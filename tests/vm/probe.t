#!/bin/bash
# `ktls probe` on a kernel with kTLS, against what is known of that kernel:
# every kernel since 5.11 offloads AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305
# and AES-128-CCM for TLS 1.2 and 1.3 in both directions, and TLS 1.3 rekey
# exists from 6.14 on (so: false on 6.1 and 6.12, true on 7.x). The
# kernel's own counters (/proc/net/tls_stat) must have counted the probe's
# offloads. Debian 11's 5.10 is built without kTLS (CONFIG_TLS unset): there
# the probe must say so, with the fix, and libktls refuse with KTLS_E_NO_ULP.
# Runs in the VM (tests/vm/run.sh) or natively on a kTLS host.
. "$(dirname "$0")/../lib.sh"
K=$KTLS_BIN/ktls
STAT=/proc/net/tls_stat

# The harness: the kernel the launcher asked for is the one running.
kver=$(uname -r)
case ${KTLS_IN_VM:-} in
bookworm) ok "$([[ $kver == 6.1.0-*-cloud-amd64 ]]; echo $?)" "bookworm guest runs Debian's 6.1 cloud kernel ($kver)" ;;
trixie-backports) ok "$([[ $kver == *+deb13*-cloud-amd64 ]]; echo $?)" "trixie-backports guest runs a Debian 13 backports cloud kernel ($kver)" ;;
trixie) ok "$([[ $kver == 6.12.*+deb13-cloud-amd64 ]]; echo $?)" "trixie guest runs Debian 13's 6.12 cloud kernel ($kver)" ;;
bullseye) ok "$([[ $kver == 5.10.0-*-amd64 ]]; echo $?)" "bullseye guest runs Debian 11's 5.10 kernel ($kver)" ;;
'') diag "native run on $kver" ; ok 0 "native run: no VM kernel to check" ;;
*) ok 1 "unknown KTLS_IN_VM='$KTLS_IN_VM'" ;;
esac
if [[ ${KTLS_IN_VM:-} == bullseye ]]; then
	# no kTLS in this kernel: what a user of it is told
	json=$("$K" probe --json)
	is "$(jq -r .ulp_available <<<"$json")" false "bullseye (no CONFIG_TLS): the probe says the tls ULP is missing"
	is "$(jq -r '.ulp_error | split(":")[0]' <<<"$json")" ENOENT "... setting TCP_ULP \"tls\" fails with ENOENT"
	ok "$("$K" probe | grep -q 'modprobe tls'; echo $?)" "... and the table names the fix"
	ok "$([[ ! -r $STAT ]]; echo $?)" "... and there is no $STAT"
	done_testing
	exit
fi
if [[ -n ${KTLS_IN_VM:-} ]]; then
	ok "$([[ -d /sys/module/tls ]]; echo $?)" "the tls module is loaded in the guest"
	is "$(readlink -f /sbin/modprobe)" "$(readlink -f /bin/busybox)" "/sbin/modprobe is busybox (on-demand crypto modules)"
	ok "$( (($(</sys/class/net/lo/flags) & 1)); echo $?)" "loopback is up (IFF_UP)"
fi

check "$STAT exists" test -r "$STAT"
counter() { awk -v n="$1" '$1 == n { print $2 }' "$STAT" 2>/dev/null; }
tx0=$(counter TlsTxSw) rx0=$(counter TlsRxSw)

json=$("$K" probe --json); rc=$?
is "$rc" 0 "probe --json exits 0"
check "probe --json is valid JSON" jq -e . <<<"$json"
is "$(jq -r .kernel <<<"$json")" "$kver" "kernel is uname -r"
is "$(jq -r .ulp_available <<<"$json")" true "ulp_available is true"
is "$(jq -r .ulp_error <<<"$json")" null "no ulp_error"

row() { jq -r --arg v "$1" --arg c "$2" \
	'[.ciphers[] | select(.version == $v and .cipher == $c) | "tx=\(.tx) rx=\(.rx)\(if .tx_error then " tx_error=" + .tx_error else "" end)\(if .rx_error then " rx_error=" + .rx_error else "" end)"] | join("; ")' <<<"$json"; }
for v in 1.2 1.3; do
	for c in AES-128-GCM AES-256-GCM CHACHA20-POLY1305 AES-128-CCM; do
		is "$(row "$v" "$c")" "tx=true rx=true" "TLS $v $c: TX and RX"
	done
done

# TLS 1.3 rekey (a second TLS_TX/TLS_RX) arrived in Linux 6.14.
IFS=.- read -r major minor _ <<<"$kver"
if ((major > 6 || (major == 6 && minor >= 14))); then want=true; else want=false; fi
is "$(jq -r .rekey <<<"$json")" "$want" "rekey is $want on Linux $major.$minor"

# The kernel counted what the probe installed: one TX and one RX per offloaded
# row, plus the option and rekey probes.
n_tx=$(jq '[.ciphers[] | select(.tx)] | length' <<<"$json")
n_rx=$(jq '[.ciphers[] | select(.rx)] | length' <<<"$json")
tx1=$(counter TlsTxSw) rx1=$(counter TlsRxSw)
ok "$( ((tx1 - tx0 >= n_tx)); echo $?)" "TlsTxSw grew by at least the $n_tx TX rows (by $((tx1 - tx0)))"
ok "$( ((rx1 - rx0 >= n_rx)); echo $?)" "TlsRxSw grew by at least the $n_rx RX rows (by $((rx1 - rx0)))"
is "$(jq -r '.tls_stat | keys | sort | join(",")' <<<"$json")" "$(awk '{print $1}' "$STAT" | sort | paste -sd, -)" \
	"probe's tls_stat names the kernel's counters"

# The table says the same as the JSON.
human=$("$K" probe)
ok "$(grep -Eq '^tls ULP +available' <<<"$human"; echo $?)" "table: tls ULP available"
is "$(grep -cE '^TLS 1\.[23] +(AES-128-GCM|AES-256-GCM|CHACHA20-POLY1305|AES-128-CCM) +yes +yes' <<<"$human")" 8 \
	"table: the 8 required rows say yes yes"
done_testing

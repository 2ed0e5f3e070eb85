#!/bin/bash
# ktls-server against what a TLS 1.3 conformance suite sends after the
# handshake (tests/helpers/tls-conform, cases in tests/conform-lib.sh), with
# the record layer in userspace: --tls user, and --tls ktls on this host
# without kTLS, which serves from userspace (the fallback path): a bad record
# right behind the client's Finished gets the tickets, then bad_record_mac,
# then FIN; KeyUpdates before the switch (several, asking for ours, split
# over records) are followed with data checked both ways; two KeyUpdates in
# one record, a bad request_update, empty alert or handshake records and an
# all-zero inner plaintext get the alert RFC 8446 names; KeyUpdates in a
# loop are stopped past libktls's limit; an SSL 2.0-format ClientHello is
# read and answered with protocol_version, then FIN. The same cases run
# against the kernel's record layer in tests/vm/server-conform.t.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/../conform-lib.sh"
need_certs
[[ -x $CONFORM ]] || skip_all "$CONFORM is not built: make tests"

for mode in user ktls; do
	start_server --tls "$mode" --threads 1 || bail "server starts"
	diag "--tls $mode"
	LAYER=openssl conform_all
	st=$(stats)
	is "$(jq '.conn_errors.too_many_key_updates' <<<"$st")" 2 "--tls $mode: KeyUpdates past the limit counted as too_many_key_updates"
	is "$(jq '.handshake_failures.not_tls' <<<"$st")" 1 "--tls $mode: the SSL 2.0 ClientHello counted as not_tls"
	[[ $mode == ktls ]] && is "$(jq '.ktls_offloads' <<<"$st")" 0 "--tls ktls on a host without kTLS: every connection served from userspace"
	stop_server
	is "$SRV_RC" 0 "--tls $mode: clean exit"
	is "$(jq '[.closes[]] | add' "$SRV_DIR/s.json")" "$(jq .conns_accepted "$SRV_DIR/s.json")" \
		"--tls $mode: every connection counted under one close reason ($(jq -c .closes "$SRV_DIR/s.json"))"
done
done_testing

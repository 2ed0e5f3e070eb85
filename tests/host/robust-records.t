#!/bin/bash
# ktls-server --tls user: a completed handshake, one request answered, then
# one bad record (tests/helpers/hostile --attack record): a header no TLS
# peer sends, a record shorter than any sealed one, a request whose
# ciphertext has a flipped bit, a record over the maximum size, a sealed
# record of an unexpected content type, half a record then FIN. The server
# answers with the alert RFC 8446 names (section 5.2, 6.2), never answers a
# request it could not authenticate, counts the cause, and no other
# connection is touched. tests/vm/robust-ktls.t runs the same with --tls ktls.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/robust-lib.sh"
robust_setup

start_server --threads 1 --handshake-timeout 2s --idle-timeout 3s
snap
good_start
# kind  the alert expected (or fin)  the conn_errors reason (OpenSSL's: 3.0|3.5)
record_cases <<'CASES'
bad-type alert:unexpected_message bad_record_type
bad-length alert:bad_record_mac decryption_failed_or_bad_record_mac
tampered alert:bad_record_mac decryption_failed_or_bad_record_mac
oversized alert:record_overflow packet_length_too_long|encrypted_length_too_long
unexpected-type alert:unexpected_message bad_record_type
truncated fin truncated_record
CASES
is "$(jq '.closes.tls_error' <<<"$(stats)")" 6 "each is closed as tls_error"
good_check "bad records"
bounded "bad records"
finish
done_testing

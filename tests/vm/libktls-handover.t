#!/bin/bash
# The switch to kTLS on this kernel (build/tests/vm/ktls_handover): data
# sent right behind the last handshake flight (with 2 tickets, none,
# resumption, HelloRetryRequest), read greedily or by OpenSSL's read-ahead
# (drained by ktls_enable) or record-exactly (decrypted by the kernel), our
# side as server and as client; every byte arrives once and in order
# (SHA-256). See tests/ktls_handover.h.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
prog=$KTLS_BUILD/tests/vm/ktls_handover
[[ -x $prog ]] || skip_all "$prog is not built: make tests"
exec "$prog"

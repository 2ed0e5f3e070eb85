#!/bin/bash
# libktls on this kernel (build/tests/vm/ktls_matrix): for TLS 1.2 and 1.3 x
# every cipher the kernel offloads, our side kTLS against plain OpenSSL in
# userspace and both sides kTLS, 1 MiB each way by SHA-256, close_notify,
# a tampered record, a fatal alert, EOF inside a record, and on TLS 1.3 the
# EIO path and KeyUpdates (work on rekey kernels, the specific error on the
# others). Result names are "<version> <cipher> <case> (...)": the launchers
# keep each kernel's stream and tests/ktls/vm-matrix.t sets them side by side.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
prog=$KTLS_BUILD/tests/vm/ktls_matrix
[[ -x $prog ]] || skip_all "$prog is not built: make tests"
exec "$prog"

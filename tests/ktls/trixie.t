#!/bin/bash
# timeout: 420
# tests/vm/*.t inside a QEMU VM booting Debian 13's 6.12 cloud kernel (no TLS 1.3
# rekey, like 6.1), booted once for them (scripts/vm.sh; see tests/ktls/launch.sh).
# A selection, for the time budget: the probe, the libktls matrix (its column
# in tests/ktls/vm-matrix.t), and the server on the kernel's record layer
# against the conformance cases (server-conform.t: KeyUpdates before and
# after the switch on a kernel without rekey); 6.1 and 7.x run everything.
. "$(dirname "$0")/launch.sh"
vm_launch trixie '^(probe|libktls-matrix|server-conform)\.t$'

#!/bin/bash
# timeout: 780
# tests/vm/*.t inside a QEMU VM booting Debian's bookworm cloud kernel (Linux 6.1: no TLS 1.3 rekey),
# booted once for all of them (scripts/vm.sh; see tests/ktls/launch.sh).
. "$(dirname "$0")/launch.sh"
vm_launch bookworm

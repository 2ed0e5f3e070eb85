#!/bin/bash
# timeout: 300
# tests/vm/probe.t inside a QEMU VM booting Debian 11's 5.10 kernel, which is
# built without kTLS (CONFIG_TLS unset, cloud and generic alike): the probe
# and libktls meet a real kernel with no tls ULP (scripts/vm.sh; see
# tests/ktls/launch.sh). ktls-server needs io_uring's provided buffer rings
# (5.19+) and does not start there; the fallback paths are tested on the host.
. "$(dirname "$0")/launch.sh"
vm_launch bullseye '^probe\.t$'

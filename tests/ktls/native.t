#!/bin/bash
# timeout: 420
# tests/vm/*.t on this host's own kernel, when it has kTLS (then the VM
# launchers skip; see tests/ktls/launch.sh).
. "$(dirname "$0")/launch.sh"
native_launch

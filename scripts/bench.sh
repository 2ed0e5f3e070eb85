#!/bin/bash
# `make bench`: the main job. Runs the quick benchmark suite when bin/ktls-bench
# exists; until then it reports what this kernel can offload.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -x bin/ktls-bench ]]; then
	exec bin/ktls-bench --suite quick "$@"
fi
bin/ktls probe
cat <<'MSG'

ktls-bench: the benchmark runner (bin/ktls-bench) is not built yet. Still to
come: handshakes/s and server CPU per handshake, bulk throughput and CPU per
byte for userspace vs kernel TLS, the crypto ceiling from `openssl speed`,
nginx as a peer, and a report with plots under results/.
MSG

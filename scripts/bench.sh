#!/bin/bash
# `make bench`: the main job. Runs the quick suite (bench/suites/quick, <= 5
# minutes on 2 cores) with nginx as the peer when it is installed, into
# results/<date>-<host>-<kernel>/: env.json, one JSON per scenario, report.md
# and plots. Extra arguments go to ktls-bench, e.g.
#   scripts/bench.sh --suite full --out /tmp/run
# KTLS_BENCH_SUITE picks another suite (quick, full, or a file).
set -euo pipefail
cd "$(dirname "$0")/.."
args=(run --suite "${KTLS_BENCH_SUITE:-quick}")
if command -v nginx >/dev/null; then
	args+=(--peer nginx)
else
	echo "bench: nginx is not installed: no nginx comparison (apt-get install nginx)" >&2
fi
exec bin/ktls-bench "${args[@]}" "$@"

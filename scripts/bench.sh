#!/bin/bash
# `make bench`: the main job. Runs the quick suite (bench/suites/quick, <= 5
# minutes on 2 cores) with nginx as the peer when it is installed, into
# results/<date>-<host>-<kernel>/: env.json, one JSON per scenario, report.md
# and plots. Extra arguments go to ktls-bench, e.g.
#   scripts/bench.sh --suite full --out /tmp/run
# KTLS_BENCH_SUITE picks another suite (quick, full, or a file).
# On a host without kTLS it then counts instructions (QEMU icount) of the
# suite bench/suites/cost-check in the bookworm guest (scripts/cost.sh) into
# the run folder's cost/bookworm/, and the report gains the section
# "Instruction counts (QEMU icount)": the kTLS question answered everywhere.
# KTLS_BENCH_COST=0 skips that part.
set -uo pipefail
cd "$(dirname "$0")/.."
args=(run --suite "${KTLS_BENCH_SUITE:-quick}")
if command -v nginx >/dev/null; then
	args+=(--peer nginx)
else
	echo "bench: nginx is not installed: no nginx comparison (apt-get install nginx)" >&2
fi
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
bin/ktls-bench "${args[@]}" "$@" | tee "$out"
rc=${PIPESTATUS[0]}
dir=$(sed -n 's|^ktls-bench: wrote \(.*\)/report\.md$|\1|p' "$out" | tail -n 1)
[[ -n $dir && ${KTLS_BENCH_COST:-1} != 0 ]] || exit "$rc"
if bin/ktls probe --json 2>/dev/null | grep -q '"ulp_available":[[:space:]]*true'; then
	exit "$rc" # this kernel has kTLS: the suite measured it natively
fi
echo "bench: this kernel has no kTLS: counting instructions in the bookworm guest (QEMU icount)" >&2
if scripts/cost.sh --kernel bookworm --suite cost-check --no-plots --out "$dir/cost"; then
	bin/ktls-bench report "$dir" >/dev/null || rc=${rc/#0/1}
	echo "bench: $dir/report.md has the section \"Instruction counts (QEMU icount)\"" >&2
else
	echo "bench: the instruction counts failed (see above): the report has no such section" >&2
	((rc)) || rc=1
fi
exit "$rc"

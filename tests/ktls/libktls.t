#!/bin/bash
# libktls against real kernels: build/tests/vm/ktls_matrix (version x cipher x
# case) natively when this kernel has the tls ULP, else inside the VM on each
# kernel scripts/vm.sh offers. Prints the matrix: rows version/cipher/case,
# one column per kernel.
# timeout: 900
. "$(dirname "$0")/../lib.sh"

prog=$KTLS_BUILD/tests/vm/ktls_matrix
[[ -x $prog ]] || skip_all "$prog not built (make tests)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

kernels=()
if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
	"$prog" >"$out/native" 2>&1
	kernels=(native)
elif [[ -x scripts/vm.sh ]]; then
	for k in bookworm trixie-backports; do
		scripts/vm.sh --kernel "$k" --timeout 400 -- "$prog" >"$out/$k" 2>"$out/$k.err"
		kernels+=("$k")
	done
else
	skip_all "no kTLS on this kernel and no scripts/vm.sh to boot one"
fi

# Re-emit every result line under the kernel's name.
for k in "${kernels[@]}"; do
	grep -E '^# kernel' "$out/$k" | sed "s/^/# $k: /"
	n=$(grep -cE '^(not )?ok ' "$out/$k")
	ok $((n > 0 ? 0 : 1)) "$k: ktls_matrix ran ($n results)" || true
	[[ $n -gt 0 ]] || tail -n 20 "$out/$k" "$out/$k.err" 2>/dev/null | sed 's/^/#   /'
	while IFS= read -r line; do
		if [[ $line =~ ^ok\ [0-9]+\ (#\ SKIP.*) ]]; then
			skip "$k: ${BASH_REMATCH[1]#\# SKIP }"
		elif [[ $line =~ ^ok\ [0-9]+\ -\ (.*) ]]; then
			ok 0 "$k: ${BASH_REMATCH[1]}"
		elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*) ]]; then
			ok 1 "$k: ${BASH_REMATCH[1]}"
		fi
	done <"$out/$k"
done

# The matrix: one row per "version cipher case", one column per kernel.
diag ""
diag "$(printf '%-52s' 'version cipher case')$(printf ' %-16s' "${kernels[@]}")"
for k in "${kernels[@]}"; do
	sed -nE "s/^(not )?ok [0-9]+ - ([0-9.]+ [a-z0-9]+ [^(]*).*/\2\t\1/p" "$out/$k" |
		sed -E "s/\t$/\tpass/; s/\tnot $/\tFAIL/; s/^/$k\t/"
done | awk -F'\t' '
	{ row = $2; sub(/ +$/, "", row); if (!(row in seen)) { seen[row] = 1; order[++n] = row }
	  cell[row, $1] = $3; if (!($1 in kk)) { kk[$1] = 1; ks[++m] = $1 } }
	END { for (i = 1; i <= n; i++) { line = sprintf("%-52s", order[i]);
		for (j = 1; j <= m; j++) line = line sprintf(" %-16s", (order[i], ks[j]) in cell ? cell[order[i], ks[j]] : "-");
		print line } }' | while IFS= read -r l; do diag "$l"; done
done_testing

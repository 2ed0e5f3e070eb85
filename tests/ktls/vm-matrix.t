#!/bin/bash
# The libktls matrix, kernels side by side: rows "<version> <cipher> <case>"
# from tests/vm/libktls-*.t, one column per kernel (6.1, 7.x, 6.12; 5.10 is
# built without kTLS: its column says so), read from the streams the
# launchers keep in build/vm/tap/<kernel>.tap (tests/ktls/launch.sh). Runs
# after them (tests/run takes tests/ktls/*.t in name order). Each result was
# already counted by its launcher; this file checks that every row ran on
# every kernel (a case that silently did not run on one kernel is a failure)
# and prints the table.
. "$(dirname "$0")/../lib.sh"
dir=$KTLS_BUILD/vm/tap
kernels=()
nokt=()
for k in bookworm trixie-backports trixie bullseye native; do
	[[ -s $dir/$k.tap ]] || continue
	# a kernel built without kTLS runs no libktls case: its column says so
	if grep -q '^ok [0-9]* - probe.t: .*the probe says the tls ULP is missing' "$dir/$k.tap"; then
		nokt+=("$k")
	else
		kernels+=("$k")
	fi
done
if ((${#kernels[@]} == 0)); then
	echo "1..0 # SKIP no kernel's stream in $dir: tests/ktls/bookworm.t, trixie-backports.t, trixie.t or native.t did not run"
	exit 0
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
# kernel <TAB> row <TAB> pass|FAIL|skip <TAB> file, in stream order.
for k in "${kernels[@]}"; do
	diag "$k: stream of $(date -r "$dir/$k.tap" '+%F %T')"
done
for k in "${kernels[@]}"; do
	sed -nE 's/^(not )?ok [0-9]+ - (libktls-[a-z-]+\.t): ([0-9.]+ [a-z0-9]+ [^(#]*[^(# ]).*$/\1\t\3\t\2/p' "$dir/$k.tap" |
		awk -F'\t' -v k="$k" '{ r = "pass"; if ($1 != "") r = "FAIL"; print k "\t" $2 "\t" r "\t" $3 }'
done >"$tmp"

for k in "${kernels[@]}"; do
	n=$(awk -F'\t' -v k="$k" '$1 == k' "$tmp" | wc -l)
	f=$(awk -F'\t' -v k="$k" '$1 == k && $3 == "FAIL"' "$tmp" | wc -l)
	ok "$((n > 0 ? 0 : 1))" "$k: $n libktls results ($f failed, counted by its launcher)"
done
# A file's rows on every kernel that ran that file (a launcher may run a
# selection: tests/ktls/trixie.t).
missing=$(awk -F'\t' '
	{ ran[$4, $1] = 1; if (!(($4, $1) in fk)) { fk[$4, $1] = 1; nkf[$4]++ } }
	!(($2, $1) in seen) { seen[$2, $1] = 1; count[$2]++; file[$2] = $4; if (!($2 in order)) { order[$2] = ++n; rows[n] = $2 } }
	END { for (i = 1; i <= n; i++) if (count[rows[i]] < nkf[file[rows[i]]]) print rows[i] }' "$tmp")
is "$missing" "" "every row ran on every kernel that ran its file (${kernels[*]})"

for k in "${nokt[@]}"; do
	ok 0 "$k: built without kTLS (its probe says so): no libktls case, column 'no kTLS'"
done

diag ""
awk -F'\t' -v ks="${kernels[*]}" -v nk0="${nokt[*]}" '
	BEGIN { nk = split(ks, kk, " ") }
	{
		if (!($2 in seen)) {
			seen[$2] = 1
			split($2, f, " "); g = f[1] " " f[2]   # rows grouped by version and cipher
			if (!(g in gi)) { gi[g] = ++ng; gn[ng] = 0 }
			grow[gi[g], ++gn[gi[g]]] = $2
		}
		cell[$2, $1] = $3
	}
	END {
		for (a = 1; a <= ng; a++) for (b = 1; b <= gn[a]; b++) rows[++n] = grow[a, b]
		w = 44; for (i = 1; i <= n; i++) if (length(rows[i]) > w) w = length(rows[i])
		nz = split(nk0, zz, " ")
		line = sprintf("%-" w "s", "version cipher case")
		for (j = 1; j <= nk; j++) line = line sprintf("  %-16s", kk[j])
		for (j = 1; j <= nz; j++) line = line sprintf("  %-16s", zz[j])
		print line
		for (i = 1; i <= n; i++) {
			line = sprintf("%-" w "s", rows[i])
			for (j = 1; j <= nk; j++) line = line sprintf("  %-16s", ((rows[i], kk[j]) in cell) ? cell[rows[i], kk[j]] : "-")
			for (j = 1; j <= nz; j++) line = line sprintf("  %-16s", "no kTLS")
			print line
		}
	}' "$tmp" | while IFS= read -r l; do diag "$l"; done
done_testing

# tests/ktls/durations.sh: how long each tests/vm file took last time, kept
# per kernel in $KTLS_BUILD/vm/durations/<kernel>.tsv ("NAME.t SECONDS"
# lines), so that tests/vm/run.sh prints it next to the current duration.
#
#   durations_prev FILE        "a.t:3,b.t:5" (KTLS_VM_PREV) from FILE, or nothing
#   durations_save TAP FILE    the durations in TAP's per-file summary lines
#                              ("# a.t: ... (3 s, ...") into FILE; files the
#                              run did not reach keep their old entry

durations_prev() {
	[[ -r $1 ]] || return 0
	awk 'NF == 2 && $2 ~ /^[0-9]+$/ { printf "%s%s:%s", sep, $1, $2; sep = "," }' "$1"
}

durations_save() {
	local tap=$1 file=$2 tmp
	mkdir -p "${file%/*}" || return 1
	tmp=$file.tmp.$$
	{
		sed -nE 's/^# ([^ :|]+\.t): [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped \(([0-9]+) s.*/\1 \2/p' "$tap"
		[[ -r $file ]] && cat "$file"
	} | awk '!seen[$1]++' | sort >"$tmp" && mv "$tmp" "$file"
}

#!/bin/bash
# The man pages (man/*.scd, built by make into build/man) and the programs'
# --help agree: every long option --help names is in the program's page, and
# every option the page defines (a "*--name*" term) is in --help; a short
# option --help pairs with a long one is paired the same way in the page.
# man -l --warnings renders each page without a warning.
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
mandir=$KTLS_BUILD/man

for p in ktls ktls-server ktls-client ktls-bench; do
	src=man/$p.1.scd
	[[ -f $src ]]; ok $? "$src exists"
	[[ -f $src ]] || continue
	help=$("$KTLS_BIN/$p" --help 2>&1)
	missing=
	for o in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | sort -u); do
		grep -qF -- "$o" "$src" || missing+=" $o"
	done
	is "${missing# }" "" "$p: every option of --help is in $src"
	unpaired=
	while read -r s l; do
		grep -qF -- "*$s*, *$l*" "$src" || unpaired+=" $s,$l"
	done < <(sed -nE 's/^ +(-[a-zA-Z]), (--[a-z0-9-]+).*/\1 \2/p' <<<"$help")
	is "${unpaired# }" "" "$p: short options paired with the same long one as in --help"
	extra=
	for o in $(sed -nE 's/^\*(-[a-zA-Z]\*, \*)?(--[a-z0-9-]+)\*.*/\2/p' "$src" | sort -u); do
		grep -qE -- "$o([^a-z0-9-]|$)" <<<"$help" || extra+=" $o"
	done
	is "${extra# }" "" "$p: every option $src defines is in --help"
done

pages=(ktls.1 ktls-server.1 ktls-client.1 ktls-bench.1 libktls.3)
for pg in "${pages[@]}"; do
	[[ -s $mandir/$pg ]]; ok $? "make built $mandir/$pg"
done
if ! command -v man >/dev/null; then
	skip "man is missing (apt-get install man-db): rendering not checked" "${#pages[@]}"
else
	for pg in "${pages[@]}"; do
		w=$(MANWIDTH=80 man -l --warnings -E UTF-8 "$mandir/$pg" 2>&1 >/dev/null)
		is "$w" "" "man -l --warnings renders $pg without warnings"
	done
fi
grep -q 'ktls_example_get' "$mandir/libktls.3"; ok $? "libktls(3) carries the example program"
ex=$(sed -n '/^# EXAMPLE/,/^# SEE ALSO/p' man/libktls.3.scd | sed -n '/^```$/,/^```$/p' | sed '1d;$d')
[[ $ex == "$(cat ktls/examples/client.c)" ]]; ok $? "libktls.3.scd's example is ktls/examples/client.c verbatim"
done_testing

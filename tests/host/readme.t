#!/bin/bash
# The README fits on a screen or so (at most 250 lines), its quick start is
# exactly `make bench` and `make test`, and every path of this repository the
# README and docs/*.md name (in `code` or as a link: files, folders, man
# pages, result runs, images) exists. Paths under bin/ and build/ are made by
# make and not checked; a name with a wildcard must match something; a
# program built from one .c file is named by that file without .c.
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

n=$(wc -l <README.md)
ok "$((n <= 250 ? 0 : 1))" "README.md has $n lines (at most 250)"

qs=$(sed -n '/^## Quick start/,/^## /p' README.md | sed -n '/^```/,/^```/p' | grep -v '^```' | sed 's/ *#.*//')
is "$(tr '\n' ' ' <<<"$qs" | sed 's/ *$//')" "make bench make test" "the quick start's commands are make bench and make test"

# Every repo path a Markdown file names: `...` spans and link targets.
paths_of() {
	perl -ne '
		BEGIN { $dir = shift @ARGV; $dir = "" if $dir eq "." }
		sub words {
			for my $w (split /[\s,;()=]+/, $_[0]) {
				next unless $w =~ m{^(?:ktls|server|client|bench|osslshim|common|scripts|tests|man|docs|results)/}
					|| $w =~ m{^(?:Makefile|README\.md)$};
				next if $w =~ /[<>{}\$]|\.\.\./;
				$w =~ s/[:.]+$//; $w =~ s{:\d+$}{};
				print "$w\n";
			}
		}
		if (/^```/) { $fence = !$fence; next }
		if ($fence) { words($_); next }
		while (/\]\(([^)\s]+)\)/g) {
			my $t = $1; next if $t =~ m{^(https?:|mailto:|#)};
			$t =~ s/#.*//; print(($dir ne "" ? "$dir/" : ""), "$t\n");
		}
		words($1) while /`([^`]+)`/g;' "$(dirname "$1")" "$1"
}
for md in README.md docs/*.md; do
	dead=
	while read -r p; do
		p=$(realpath -m --relative-to=. "$p")
		if [[ $p == *'*'* ]]; then
			compgen -G "$p" >/dev/null || dead+=" $p"
		else
			[[ -e $p || -e $p.c ]] || dead+=" $p"
		fi
	done < <(paths_of "$md" | sort -u)
	is "${dead# }" "" "$md: every repo path it names exists"
done
done_testing

#!/bin/bash
# The sanitizer runs catch what they are for: a test program that passes
# all its tests but leaks memory, or does undefined arithmetic, fails under
# tests/run when built with -fsanitize=address,undefined as `make asan`
# builds everything (ASAN_OPTIONS/UBSAN_OPTIONS as make asan sets them), so a
# leak anywhere in the host suite fails `make asan`.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.." || exit 1
CC=${CC:-gcc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FLAGS=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)

cat >"$TMP/leaky.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void *keep;
int main(int argc, char **argv)
{
	char *p = malloc(4096);         /* never freed: a leak */
	memset(p, 1, 4096);
	keep = argc > 5 ? p : NULL;
	p = NULL;
	printf("ok 1 - everything looks fine\n1..1\n");
	if (argc > 1 && !strcmp(argv[1], "ub")) {
		int big = 0x7fffffff;
		big += argc;                /* signed overflow */
		printf("# %d\n", big);
	}
	return 0;
}
C
cat >"$TMP/clean.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	free(malloc(4096));
	printf("ok 1 - clean\n1..1\n");
	return 0;
}
C
check "a leaking and a clean program build with ASan+UBSan" \
	bash -c "$CC ${FLAGS[*]} -o '$TMP/leaky' '$TMP/leaky.c' && $CC ${FLAGS[*]} -o '$TMP/clean' '$TMP/clean.c'"

out=$("$TMP/leaky" 2>&1); rc=$?
ok "$([[ $rc != 0 ]]; echo $?)" "the leaking program exits non-zero under LeakSanitizer (status $rc)"
ok "$(grep -q 'detected memory leaks' <<<"$out"; echo $?)" "... with a LeakSanitizer report naming the leak"
out=$(tests/run "$TMP/leaky" 2>&1); rc=$?
ok "$([[ $rc != 0 ]] && grep -q '1 failed' <<<"$out"; echo $?)" \
	"tests/run counts a test file whose every test passed but which leaked as failed"
out=$("$TMP/leaky" ub 2>&1); rc=$?
ok "$([[ $rc != 0 ]] && grep -q 'signed integer overflow' <<<"$out"; echo $?)" \
	"undefined behaviour stops the program (status $rc) with UBSan's report"
out=$(tests/run "$TMP/clean" 2>&1); rc=$?
is "$rc" 0 "a clean program passes under the same options"
done_testing

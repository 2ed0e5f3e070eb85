#!/bin/bash
# make install into a temporary root: the programs, the man pages, libktls.a,
# ktls/ktls.h and libktls.pc land under DESTDIR/PREFIX, and libktls's example
# (ktls/examples/client.c, the copy docs/libktls.md and libktls(3) carry)
# builds against that root with pkg-config --static alone, then runs: against
# a ktls-server on this host it gets its page through the kernel, or, on a
# kernel without kTLS, fails with libktls's sentence naming the cause.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
. tests/host/server-lib.sh
command -v "${PKG_CONFIG:-pkg-config}" >/dev/null || skip_all "pkg-config is missing (apt-get install pkg-config)"
command -v jq >/dev/null || skip_all "jq is missing (apt-get install jq)"
need_certs

root=$TMP/root
prefix=/usr/local
check "make install DESTDIR=$root PREFIX=$prefix" \
	make --no-print-directory -s install BUILD="$KTLS_BUILD" BIN="$KTLS_BIN" DESTDIR="$root" PREFIX="$prefix"
for f in bin/ktls bin/ktls-server bin/ktls-client bin/ktls-bench \
	 share/man/man1/ktls.1 share/man/man1/ktls-server.1 share/man/man1/ktls-client.1 \
	 share/man/man1/ktls-bench.1 share/man/man3/libktls.3 \
	 lib/libktls.a include/ktls/ktls.h lib/pkgconfig/libktls.pc; do
	[[ -e $root$prefix/$f ]]; ok $? "installed $prefix/$f"
done
[[ -x $root$prefix/bin/ktls-server ]]; ok $? "the programs are executable"
grep -qx "prefix=$prefix" "$root$prefix/lib/pkgconfig/libktls.pc"; ok $? "libktls.pc names PREFIX ($prefix)"
check "make install PREFIX=/opt/ktls" \
	make --no-print-directory -s install BUILD="$KTLS_BUILD" BIN="$KTLS_BIN" DESTDIR="$TMP/root2" PREFIX=/opt/ktls
grep -qx "prefix=/opt/ktls" "$TMP/root2/opt/ktls/lib/pkgconfig/libktls.pc"
ok $? "another PREFIX, another libktls.pc (written for each install)"
out=$("$root$prefix/bin/ktls" --version 2>&1); rc=$?
is "$rc" 0 "the installed ktls runs: $(head -1 <<<"$out")"

# pkg-config sees only the temporary root (its paths moved under it).
export PKG_CONFIG_PATH=$root$prefix/lib/pkgconfig PKG_CONFIG_LIBDIR=$root$prefix/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root
flags=$(${PKG_CONFIG:-pkg-config} --cflags --libs --static libktls); rc=$?
is "$rc" 0 "pkg-config --cflags --libs --static libktls: $flags"
[[ $flags == *"-I$root$prefix/include"* && $flags == *"-L$root$prefix/lib"* && $flags == *-lktls*
   && $flags == *-lssl* && $flags == *-lcrypto* ]]
ok $? "the flags point into the root and carry OpenSSL (Libs.private)"

cat >"$TMP/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int ktls_example_get(const char *host, const char *port, char *out, size_t outlen);
int main(int argc, char **argv)
{
	static char buf[65536];
	if (argc != 3) {
		fprintf(stderr, "usage: example HOST PORT\n");
		return 2;
	}
	int n = ktls_example_get(argv[1], argv[2], buf, sizeof(buf) - 1);
	if (n < 0)
		return 1;
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}
C
san=
[[ ${KTLS_ASAN:-} == 1 ]] && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
check "the example builds against the installed libktls alone" \
	${CC:-cc} -std=gnu11 -Wall -Wextra -Werror $san -o "$TMP/example" \
	ktls/examples/client.c "$TMP/main.c" $flags
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

"$TMP/example" >/dev/null 2>&1; is "$?" 2 "the example without arguments: usage, exit 2"
start_server --tls user || bail "ktls-server did not start"
out=$(SSL_CERT_FILE=$CA "$TMP/example" 127.0.0.1 "$SRV_PORT" 2>"$TMP/err"); rc=$?
if "$KTLS_BIN/ktls" probe --json 2>/dev/null | jq -e .ulp_available >/dev/null; then
	is "$rc" 0 "the example gets the page through kTLS"
	[[ $out == HTTP/1.1\ 200* ]]; ok $? "and the response is HTTP/1.1 200"
else
	is "$rc" 1 "without kTLS the example fails (exit 1)"
	grep -q '^kTLS: .*tls' "$TMP/err"; ok $? "and says why: $(head -1 "$TMP/err")"
fi
stop_server
done_testing

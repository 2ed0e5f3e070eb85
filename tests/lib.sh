# tests/lib.sh: TAP helpers for bash tests, run by tests/run.
#
#   . "$(dirname "$0")/../lib.sh"
#   ok "$cond_cmd_status" "what"        # ok 0 "name" passes, anything else fails
#   is "$got" "$expected" "what"
#   check "what" cmd args...            # passes when cmd exits 0
#   done_testing                        # prints the plan; exit status 0/1
#
# skip_all / skip follow tests/tap.h: with KTLS_TEST_STRICT=1 (CI, the VM) a
# skip is a failure.

TAP_N=0
TAP_FAILED=0
: "${KTLS_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin}"
: "${KTLS_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
export KTLS_BIN KTLS_BUILD
[[ ${CI:-} == true && -z ${KTLS_TEST_STRICT:-} ]] && export KTLS_TEST_STRICT=1

tap_strict() { [[ -n ${KTLS_TEST_STRICT:-} && ${KTLS_TEST_STRICT} != 0 ]]; }

# Whether the programs run with the OpenSSL shims (osslshim/): KTLS_SHIMS=0
# from `make nodeprecated` (OpenSSL's deprecated APIs hidden); otherwise
# they are on with OpenSSL 3.0.x, the series they are made for, and off with
# any other (3.5: stock paths; 4.x: not even built).
if [[ -z ${KTLS_SHIMS:-} ]]; then
	_v=$(pkg-config --modversion openssl 2>/dev/null)
	[[ $_v == 3.0.* ]] && KTLS_SHIMS=1 || KTLS_SHIMS=0
	export KTLS_SHIMS
fi
shims_built() { [[ $KTLS_SHIMS == 1 ]]; }
# openssl_at_least 3.2: the OpenSSL this tree builds against is 3.2 or newer
openssl_at_least() {
	local have want=$1
	have=$(pkg-config --modversion openssl 2>/dev/null) || return 1
	[[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1) == "$want" ]]
}
# The key exchange an OpenSSL client and server agree on by default, as
# ktls-client's JSON names it: X25519, or from 3.5 on its hybrid with ML-KEM.
default_group() { openssl_at_least 3.5 && echo X25519MLKEM768 || echo x25519; }
# The openssl_paths a program's JSON says by default: shims, or stock.
default_paths() { shims_built && echo shims || echo stock; }

ok() {
	local status=$1; shift
	TAP_N=$((TAP_N + 1))
	if [[ $status == 0 ]]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		echo "#   at ${BASH_SOURCE[1]}:${BASH_LINENO[0]} (status $status)"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {
	local got=$1 want=$2; shift 2
	TAP_N=$((TAP_N + 1))
	if [[ $got == "$want" ]]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		echo "#   at ${BASH_SOURCE[1]}:${BASH_LINENO[0]}"
		echo "#   got:      '$got'"
		echo "#   expected: '$want'"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

check() {
	local what=$1; shift
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	TAP_N=$((TAP_N + 1))
	if [[ $rc == 0 ]]; then
		echo "ok $TAP_N - $what"
	else
		echo "not ok $TAP_N - $what"
		echo "#   at ${BASH_SOURCE[1]}:${BASH_LINENO[0]}: '$*' exited $rc"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   | /'
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

diag() { echo "# $*"; }

skip() {
	local why=$1 n=${2:-1} i
	for ((i = 0; i < n; i++)); do
		TAP_N=$((TAP_N + 1))
		if tap_strict; then
			echo "not ok $TAP_N - skipped where skips are failures: $why"
			TAP_FAILED=$((TAP_FAILED + 1))
		else
			echo "ok $TAP_N # SKIP $why"
		fi
	done
}

skip_all() {
	if tap_strict; then
		echo "not ok 1 - skipped where skips are failures: $*"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$TAP_N"
	[[ $TAP_FAILED == 0 ]]
	exit $?
}

# A free TCP port on 127.0.0.1: nothing listens there now (racy but
# short-lived). Drawn below the kernel's ephemeral range (32768 up, Debian's
# default), so that no client connection of another test, or one still in
# TIME_WAIT, holds the port when a server binds it (gnutls-serv's bind
# failed on one such port).
free_port() {
	local p
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		p=$((10000 + RANDOM % 22000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	local port=$1 limit=${2:-10} t=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		sleep 0.05
		t=$((t + 1))
		((t > limit * 20)) && return 1
	done
	return 0
}

# bail WHY: a failure that ends the file (a server that will not start).
bail() {
	ok 1 "$*"
	done_testing
	exit 1
}

#!/bin/bash
# Install the Debian packages ktls-bench needs, when something is missing.
#
#   scripts/deps.sh          check, and install what is missing (as root)
#   scripts/deps.sh --check  check only, never install: fail when a package
#                            needed to build is missing, naming `make deps`
#                            (what plain `make` runs)
#   scripts/deps.sh --list   print the package list
#
# Fast when everything is present (one dpkg-query). As a non-root user it
# prints the exact apt-get command instead of running it, and fails only when
# a package needed to *build* is missing.
set -euo pipefail

# Needed to build (make fails without these).
BUILD_PKGS=(build-essential pkg-config scdoc liburing-dev libssl-dev linux-libc-dev
            libcjson-dev libsodium-dev zlib1g-dev libopenmpi-dev)
# Needed by tests, the VM harness, peers and the benchmark.
RUN_PKGS=(openssl perl curl jq bc xz-utils iproute2 procps man-db
          qemu-system-x86 busybox-static
          gnutls-bin nghttp2-client wrk nginx
          hyperfine gnuplot-nox linux-perf
          openmpi-bin ethtool
          clang libclang-rt-dev
          default-jre-headless libhdrhistogram-java)
# Needed on the host only: make test-trixie makes its Debian 13 root with it
# (scripts/debian-root.sh). Not in --list, which is also the root's list,
# nor checked inside such a root (KTLS_DEBIAN_ROOT).
HOST_PKGS=(mmdebstrap)
[[ -n ${KTLS_DEBIAN_ROOT:-} ]] && HOST_PKGS=()

check_only=0
case ${1:-} in
--list)
	echo "${BUILD_PKGS[@]} ${RUN_PKGS[@]}"
	exit 0 ;;
--check) check_only=1 ;;
"") ;;
*) echo "deps: unknown option '$1' (--check, --list, or none to install)" >&2; exit 2 ;;
esac

missing() {
	local p status
	for p in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[[ $status == installed ]] || echo "$p"
	done
}

mapfile -t miss_build < <(missing "${BUILD_PKGS[@]}")
mapfile -t miss_run < <(missing "${RUN_PKGS[@]}" "${HOST_PKGS[@]}")
miss=("${miss_build[@]}" "${miss_run[@]}")
[[ ${#miss[@]} -eq 0 ]] && exit 0

cmd="apt-get install -y --no-install-recommends ${miss[*]}"
if ((check_only)); then
	if [[ ${#miss_build[@]} -gt 0 ]]; then
		echo "deps: missing Debian packages needed to build: ${miss_build[*]}" >&2
		echo "deps: install them with 'make deps' (as root), or: $cmd" >&2
		exit 1
	fi
	echo "deps: note: missing Debian packages the tests and the benchmark use: ${miss_run[*]}" >&2
	echo "deps: 'make deps' (as root) installs them; make test and make bench do it themselves" >&2
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing Debian packages: ${miss[*]}" >&2
	echo "deps: install them as root with:  $cmd" >&2
	[[ ${#miss_build[@]} -eq 0 ]] && exit 0
	exit 1
fi

echo "deps: installing ${miss[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them once.
apt-get update -qq >&2 || {
	echo "deps: apt-get update failed: check the network and /etc/apt/sources.list" >&2
	exit 1
}
# nginx's postinst would start a system-wide nginx on port 80; this project
# only runs its own nginx instances, so keep services from starting.
policy=${KTLS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
made_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
rc=0
apt-get install -y -qq --no-install-recommends "${miss[@]}" >&2 || rc=$?
[[ $made_policy -eq 1 ]] && rm -f "$policy"
if [[ $rc -ne 0 ]]; then
	echo "deps: apt-get install failed (exit $rc): run '$cmd' to see why" >&2
	exit 1
fi

#!/bin/bash
# scripts/debian-root.sh: run a command on this tree inside a Debian root
# of another release (its compiler, OpenSSL and tools), made with mmdebstrap.
#
#   scripts/debian-root.sh [--suite trixie] [--update] [--rebuild] -- COMMAND...
#
# The root is made once, with every package scripts/deps.sh lists, under
# ${KTLS_ROOT_CACHE:-~/.cache/ktls-bench}/root-SUITE, and reused. COMMAND runs
# in /src, this tree mounted read-write, as root of the Debian root, in
# private mount, PID and network namespaces (loopback only: tests cannot meet
# other processes' ports, and nothing outlives the command). Missing packages
# are installed first (with the host's network). Needs root (mounts,
# pivot_root).
#
# Exit status: COMMAND's; 2 on a usage error; 1 when the root cannot be made.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
suite=trixie
update=0
rebuild=0
mirror=${KTLS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	echo "Options:"
	echo "  --suite NAME   Debian suite of the root (default: trixie, Debian 13, OpenSSL 3.5)"
	echo "  --update       apt-get update and upgrade the root first"
	echo "  --rebuild      delete the root and make it again"
	echo "Environment: KTLS_ROOT_CACHE (default ~/.cache/ktls-bench), KTLS_DEBIAN_MIRROR"
	echo "(default $mirror)."
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--suite) [[ $# -ge 2 ]] || { echo "debian-root: --suite needs a NAME" >&2; exit 2; }
		suite=$2; shift 2 ;;
	--suite=*) suite=${1#*=}; shift ;;
	--update) update=1; shift ;;
	--rebuild) rebuild=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "debian-root: unrecognized option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $# -gt 0 ]] || { echo "debian-root: no COMMAND after -- (see --help)" >&2; exit 2; }
[[ $suite =~ ^[a-z]+$ ]] || { echo "debian-root: '$suite' is not a Debian suite name" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]]; then
	echo "debian-root: needs root (chroot and mount namespaces): run it as root or with sudo" >&2
	exit 1
fi
for t in mmdebstrap unshare chroot; do
	command -v "$t" >/dev/null || {
		echo "debian-root: $t is missing: apt-get install mmdebstrap util-linux coreutils" >&2
		exit 1
	}
done

cache=${KTLS_ROOT_CACHE:-$HOME/.cache/ktls-bench}
root=$cache/root-$suite
# what the project needs, and what this script uses inside (mount, umount)
mapfile -t pkgs < <("$here/scripts/deps.sh" --list | tr ' ' '\n' | grep .)
root_pkgs=(mount)

if [[ $rebuild == 1 && -d $root ]]; then
	echo "debian-root: deleting $root" >&2
	rm -rf --one-file-system "$root"
fi
if [[ ! -x $root/bin/sh ]]; then
	mkdir -p "$cache"
	tmp=$root.tmp.$$
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	echo "debian-root: making a $suite root in $root (mmdebstrap, a few minutes)" >&2
	list=$(IFS=,; echo "${pkgs[*]} ${root_pkgs[*]}" | tr ' ' ,)
	# nginx's postinst must not start a server: mmdebstrap's root mode
	# already keeps services from starting in the chroot
	if ! mmdebstrap --mode=root --variant=apt --include="$list" "$suite" "$tmp" "$mirror" >&2; then
		echo "debian-root: mmdebstrap $suite failed: check the network and the mirror ($mirror)" >&2
		exit 1
	fi
	mkdir -p "$tmp/src"
	mv "$tmp" "$root"
	trap - EXIT
fi

# Everything below runs in a private mount namespace: the mounts vanish with it.
if [[ ${_KTLS_ROOT_INSIDE:-} != 1 ]]; then
	export _KTLS_ROOT_INSIDE=1 _KTLS_ROOT_UPDATE=$update
	exec unshare --mount --propagation private -- "$0" --suite "$suite" -- "$@"
fi

# The root becomes this mount namespace's root (pivot_root, not chroot: a
# chrooted process may not make user namespaces, which some tests do).
mount --bind "$root" "$root"
mount --bind "$here" "$root/src"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t proc proc "$root/proc"
mkdir -p "$root/.oldroot"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
      "TERM=${TERM:-dumb}" "KTLS_DEBIAN_ROOT=$suite")
for v in CI V KTLS_TEST_STRICT KTLS_TEST_TIMEOUT KTLS_TEST_FILTER KTLS_FUZZ_SECONDS KTLS_BENCH_COMMIT; do
	[[ -n ${!v:-} ]] && envs+=("$v=${!v}")
done

# packages: refresh when asked, install what deps.sh added since the root was made
if [[ ${_KTLS_ROOT_UPDATE:-0} == 1 ]]; then
	chroot "$root" env -i "${envs[@]}" DEBIAN_FRONTEND=noninteractive \
		sh -c 'apt-get update -qq && apt-get -y -qq upgrade' >&2
fi
chroot "$root" env -i "${envs[@]}" DEBIAN_FRONTEND=noninteractive sh -c \
	'dpkg-query -W "$@" >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends "$@"' sh \
	"${root_pkgs[@]}" >&2 &&
chroot "$root" env -i "${envs[@]}" /src/scripts/deps.sh >&2 || {
	echo "debian-root: the $suite root lacks packages and could not install them (see above)" >&2
	exit 1
}
echo "debian-root: $suite: $(chroot "$root" openssl version), $(chroot "$root" sh -c 'gcc --version | head -1')" >&2

# COMMAND: in its own PID and network namespaces (loopback only), in /src of
# the pivoted root, the host's tree unmounted from its view
cd "$root"
exec unshare --pid --fork --net -- /bin/sh -c 'pivot_root . .oldroot && exec /usr/bin/env -i "$@"' sh \
	"${envs[@]}" /bin/sh -c 'umount -l /.oldroot && mount -t proc proc /proc && ip link set lo up &&
		cd /src && exec "$@"' sh "$@"

#!/bin/bash
# Stand-in hosts on one machine: network namespaces joined by veth pairs, and
# an mpirun launcher that reaches them, so a client fleet (ktls-client-mpi,
# ktls-bench --clients) can be tried and tested without other machines.
#
#   scripts/netns.sh up DIR [CLIENT_HOSTS [SLOTS]]   (as root)
#   scripts/netns.sh down DIR
#   scripts/netns.sh sweep            remove namespaces whose creator is gone
#
# "up" creates a server namespace (the machine under test, address 10.77.0.1
# on a bridge) and CLIENT_HOSTS (default 2) client namespaces (10.77.0.11,
# .12, ...) each joined to the bridge by a veth pair; nothing is added to the
# namespace this script runs in. Names are unique per run (they carry the
# caller's PID and a random tag), so runs side by side never collide; the
# addresses exist only inside the namespaces. Into DIR it writes:
#   DIR/names      the namespaces, server first
#   DIR/server     the server namespace's name
#   DIR/hostfile   the client hosts for mpirun, "NAME slots=SLOTS" (default 2)
#   DIR/agent      mpirun's launcher (plm_rsh_agent): "agent HOST COMMAND"
#                  runs COMMAND in HOST's namespace under HOST as hostname,
#                  as "ssh HOST COMMAND" does on a real host
#   DIR/env        OMPI_MCA_plm_rsh_agent=DIR/agent (PRTE_MCA_plm_ssh_agent for
#                  Open MPI 5), and the root permission for mpirun (pass its
#                  lines to env)
# Run mpirun (or ktls-bench --clients) inside the server namespace:
#   ip netns exec "$(cat DIR/server)" env $(cat DIR/env) mpirun --hostfile DIR/hostfile ...
# KTLS_NETNS_OWNER=PID names the process whose exit makes a leftover
# namespace stale for "sweep" (default: the caller of this script).
set -euo pipefail

die() {
	echo "netns.sh: $*" >&2
	exit 1
}

SUBNET=10.77.0

cmd_sweep() {
	local ns owner
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^ktf([0-9]+)-[0-9a-f]+- ]] || continue
		owner=${BASH_REMATCH[1]}
		kill -0 "$owner" 2>/dev/null && continue
		ip netns del "$ns" 2>/dev/null || true
	done
}

cmd_down() {
	local dir=$1 ns
	[[ -s $dir/names ]] || return 0
	for ns in $(cat "$dir/names"); do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -f "$dir/names"
}

cmd_up() {
	local dir=$1 n=${2:-2} slots=${3:-2} owner=${KTLS_NETNS_OWNER:-$PPID}
	[[ $(id -u) == 0 ]] || die "needs root (network namespaces): run as root"
	command -v ip >/dev/null || die "ip is missing: apt-get install iproute2"
	command -v unshare >/dev/null || die "unshare is missing: apt-get install util-linux"
	[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 50 ]] || die "CLIENT_HOSTS is 1 to 50 (got '$n')"
	[[ $slots =~ ^[0-9]+$ && $slots -ge 1 ]] || die "SLOTS is a positive number (got '$slots')"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	cmd_sweep
	local tag prefix srv i ns
	tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	prefix=ktf$owner-$tag
	srv=$prefix-srv
	: >"$dir/names"
	# every name goes into DIR/names as soon as it exists: "down" removes
	# whatever was made, even when "up" fails half-way
	trap 'cmd_down "$dir"' ERR
	ip netns add "$srv"
	echo "$srv" >>"$dir/names"
	ip -n "$srv" link set lo up
	ip -n "$srv" link add br0 type bridge
	ip -n "$srv" addr add "$SUBNET.1/24" dev br0
	ip -n "$srv" link set br0 up
	: >"$dir/hostfile"
	for ((i = 1; i <= n; i++)); do
		ns=$prefix-c$i
		ip netns add "$ns"
		echo "$ns" >>"$dir/names"
		ip -n "$ns" link set lo up
		ip link add name eth0 netns "$ns" type veth peer name port$i netns "$srv"
		ip -n "$srv" link set "port$i" master br0
		ip -n "$srv" link set "port$i" up
		ip -n "$ns" addr add "$SUBNET.$((10 + i))/24" dev eth0
		ip -n "$ns" link set eth0 up
		echo "$ns slots=$slots" >>"$dir/hostfile"
	done
	trap - ERR
	echo "$srv" >"$dir/server"
	cat >"$dir/agent" <<'EOF'
#!/bin/sh
# mpirun's launcher for hosts that are network namespaces (scripts/netns.sh):
# "agent HOST COMMAND..." runs COMMAND in namespace HOST, with HOST as its
# hostname, the way "ssh HOST COMMAND" runs it on a real host (the words of
# COMMAND are joined and parsed by a shell there).
host=$1
shift
if [ ! -e "/var/run/netns/$host" ]; then
	echo "netns agent: no host (network namespace) named '$host'" >&2
	exit 255
fi
exec ip netns exec "$host" unshare --uts sh -c 'hostname "$1" && exec sh -c "$2"' agent "$host" "$*"
EOF
	chmod +x "$dir/agent"
	# (Open MPI 4 reads plm_rsh_agent; Open MPI 5's PRRTE plm_ssh_agent)
	printf 'OMPI_MCA_plm_rsh_agent=%s\nPRTE_MCA_plm_ssh_agent=%s\nOMPI_ALLOW_RUN_AS_ROOT=1\nOMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n' \
		"$dir/agent" "$dir/agent" >"$dir/env"
	# the bridge forwards as soon as its ports are up; wait until a client
	# reaches the server (bounded)
	# (a refused connection proves the path as well as an accepted one)
	local out
	for ((i = 0; i < 50; i++)); do
		out=$(timeout 2 ip netns exec "$prefix-c$n" bash -c "exec 3<>/dev/tcp/$SUBNET.1/9" 2>&1) && return 0
		[[ $out == *refused* ]] && return 0
		sleep 0.1
	done
	die "the client namespaces do not reach $SUBNET.1 (see ip -n $srv link)"
}

case ${1:-} in
up) [[ $# -ge 2 ]] || die "usage: netns.sh up DIR [CLIENT_HOSTS [SLOTS]]"; shift; cmd_up "$@" ;;
down) [[ $# -eq 2 ]] || die "usage: netns.sh down DIR"; cmd_down "$2" ;;
sweep) cmd_sweep ;;
*) die "usage: netns.sh up DIR [CLIENT_HOSTS [SLOTS]] | down DIR | sweep" ;;
esac

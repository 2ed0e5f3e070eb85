# scripts/vm/net.sh: --forward, a network device for the guest that only the
# host's loopback can reach (sourced by scripts/vm.sh).
#
# QEMU's user-mode network with restrict=on: the guest reaches nothing, and
# each HOSTPORT:GUESTPORT pair is a hostfwd bound to 127.0.0.1 on the host,
# to the guest's 10.0.2.15. The kernel command line tells the guest's init
# to load virtio_net and configure its interface (ktls_vm_net=). Without
# --forward the guest has no network device at all (-nodefaults).

VM_NET_GUEST=10.0.2.15
VM_NET_GW=10.0.2.2
VM_FORWARD=''    # "HOSTPORT:GUESTPORT ..." once parsed

# net_parse LIST: HOSTPORT:GUESTPORT[,...] into VM_FORWARD; 1 with the
# reason in VM_NET_ERR when it is not that.
net_parse() {
	local p h g seen=' '
	[[ -n $1 ]] || { VM_NET_ERR="--forward: give HOSTPORT:GUESTPORT[,...]"; return 1; }
	for p in ${1//,/ }; do
		if [[ ! $p =~ ^([0-9]{1,5}):([0-9]{1,5})$ ]]; then
			VM_NET_ERR="--forward: '$p' is not HOSTPORT:GUESTPORT (e.g. 8443:8443)"
			return 1
		fi
		h=$((10#${BASH_REMATCH[1]})) g=$((10#${BASH_REMATCH[2]}))
		if ((h < 1 || h > 65535 || g < 1 || g > 65535)); then
			VM_NET_ERR="--forward: '$p': ports are 1 to 65535"
			return 1
		fi
		if [[ $seen == *" $h "* ]]; then
			VM_NET_ERR="--forward: host port $h is given twice"
			return 1
		fi
		seen+="$h "
		VM_FORWARD+="$h:$g "
	done
}

# net_qemu_args: QEMU's arguments for VM_FORWARD (none without it).
net_qemu_args() {
	local p fwd=''
	[[ -n $VM_FORWARD ]] || return 0
	for p in $VM_FORWARD; do
		fwd+=",hostfwd=tcp:127.0.0.1:${p%%:*}-:${p#*:}"
	done
	printf '%s\n' -netdev "user,id=net0,restrict=on$fwd" -device "virtio-net-pci,netdev=net0,romfile="
}

# net_append: what the kernel command line tells the guest's init.
net_append() {
	[[ -n $VM_FORWARD ]] && printf ' ktls_vm_net=%s/24,%s' "$VM_NET_GUEST" "$VM_NET_GW"
	return 0
}

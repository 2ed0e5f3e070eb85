# scripts/vm/kernel.sh: fetch the Debian kernels the VM boots (sourced by scripts/vm.sh).
#
# Each kernel NAME has a private apt configuration under $VM_CACHE/apt/NAME
# (its own sources.list, package lists, archive cache and an empty dpkg status),
# so the system's apt sources are never read or changed. The newest cloud
# kernel of the suite is picked once and remembered in
# $VM_CACHE/kernels/NAME/current; `scripts/vm.sh --update` looks again.
# What is kept per kernel version: vmlinuz and modules.cpio (the tls module,
# the crypto modules and what they depend on, uncompressed, with a
# modules.dep built by `busybox depmod`).

# Debian 11 (5.10: no CHACHA20-POLY1305 offload, no io_uring provided
# buffers), 12 (6.1), 13 (6.12), 13 backports (7.x: TLS 1.3 rekey).
VM_KERNELS=(bookworm trixie-backports trixie bullseye)
# Bumped whenever kernel_unpack keeps something else: kernels are then
# unpacked again from the kept .debs, into a folder of the new format's own
# (KVER.vN), so that clones of another version sharing the cache keep theirs.
VM_CACHE_FORMAT=3
VM_MIRROR=${KTLS_VM_MIRROR:-http://deb.debian.org/debian}
VM_SECURITY_MIRROR=${KTLS_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
VM_KEYRING=${KTLS_VM_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Module folders kept (their top level, plus every module those depend on):
# kTLS itself and the ciphers the kernel may load on demand for it. tcrypt (a
# self-test module) is left out.
VM_MODULE_DIRS=(kernel/net/tls kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto)
# Single modules kept too (with what they depend on): the virtio NIC that
# --forward gives the guest, and netem (tc qdisc ... netem delay: the RTTs of
# scripts/latency-lab.sh).
VM_MODULES=(virtio_net virtio_pci sch_netem)

kernel_sources() {
	local kr=$VM_KEYRING
	case $1 in
	bookworm)
		echo "deb [signed-by=$kr] $VM_MIRROR bookworm main"
		echo "deb [signed-by=$kr] $VM_MIRROR bookworm-updates main"
		echo "deb [signed-by=$kr] $VM_SECURITY_MIRROR bookworm-security main"
		;;
	trixie-backports)
		echo "deb [signed-by=$kr] $VM_MIRROR trixie-backports main"
		;;
	trixie)
		echo "deb [signed-by=$kr] $VM_MIRROR trixie main"
		echo "deb [signed-by=$kr] $VM_MIRROR trixie-updates main"
		echo "deb [signed-by=$kr] $VM_SECURITY_MIRROR trixie-security main"
		;;
	bullseye)
		# its last point release: bullseye's security updates (LTS) are
		# not kept by every mirror
		echo "deb [signed-by=$kr] $VM_MIRROR bullseye main"
		;;
	*) return 1 ;;
	esac
}

# kernel_apt NAME apt-get|apt-cache ARGS...: apt with NAME's private configuration.
kernel_apt() {
	local name=$1 tool=$2 d=$VM_CACHE/apt/$1
	shift 2
	LC_ALL=C "$tool" -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/empty" \
		-o Dir::Etc::Preferences="$d/empty/preferences" -o Dir::Etc::PreferencesParts="$d/empty" \
		-o Dir::State="$d/state" -o Dir::State::Lists="$d/state/lists" \
		-o Dir::State::status="$d/state/status" -o Dir::Cache="$d/cache" \
		-o Dir::Cache::archives="$d/cache/archives" \
		-o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="" \
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 \
		-o Acquire::Languages=none -o APT::Sandbox::User="$(id -un)" \
		"$@"
}

# kernel_update_lists NAME: write the private configuration and read the suite's lists.
kernel_update_lists() {
	local name=$1 d=$VM_CACHE/apt/$1 log
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
		vm_err "apt-get and dpkg-deb are needed to download the $name kernel (a Debian or Ubuntu host)"
		return 1
	}
	[[ -r $VM_KEYRING ]] || {
		vm_err "the Debian archive keyring $VM_KEYRING is missing: apt-get install debian-archive-keyring (or set KTLS_VM_KEYRING)"
		return 1
	}
	mkdir -p "$d/empty" "$d/state/lists/partial" "$d/cache/archives/partial" || return 1
	: >"$d/state/status"
	kernel_sources "$name" >"$d/sources.list"
	log=$d/update.log
	vm_say "reading the package lists of $name from $VM_MIRROR"
	if ! kernel_apt "$name" apt-get -q update >"$log" 2>&1 || grep -qE '^(E:|W: Failed to fetch)' "$log"; then
		vm_err "cannot read the package lists of Debian $name: check network access to" \
			"${VM_MIRROR%/debian} (or set KTLS_VM_MIRROR to a Debian mirror); apt said:"
		tail -n 5 "$log" | sed 's/^/vm:   /' >&2
		return 1
	fi
}

# kernel_resolve NAME: print "KVER VERSION PKG..." for the newest kernel of NAME.
kernel_resolve() {
	local name=$1 kver pkg ver cand
	case $name in
	bookworm | trixie | bullseye)
		# linux-image-<kver>-unsigned: the image with its modules, unsigned
		# (6.1.0-<N>-cloud-amd64, 6.12.<N>+deb13-cloud-amd64; bullseye's
		# cloud kernel has no CONFIG_TLS: 5.10.0-<N>-amd64, the generic one).
		local re
		case $name in
		bookworm) re='6\.1\.0-[0-9]+-cloud-amd64' ;;
		trixie) re='6\.12\.[0-9]+\+deb13-cloud-amd64' ;;
		bullseye) re='5\.10\.0-[0-9]+-amd64' ;;
		esac
		mapfile -t cand < <(kernel_apt "$name" apt-cache pkgnames linux-image- 2>/dev/null |
			grep -E "^linux-image-$re-unsigned\$" | sort -rV)
		;;
	trixie-backports)
		# linux-binary-<kver> (vmlinuz) + linux-modules-<kver> (the .ko.xz files).
		mapfile -t cand < <(kernel_apt "$name" apt-cache pkgnames linux-modules- 2>/dev/null |
			grep -E '^linux-modules-[0-9][^ ]*-cloud-amd64$' | sort -rV)
		;;
	esac
	for pkg in "${cand[@]}"; do
		ver=$(kernel_apt "$name" apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
		[[ -n $ver && $ver != '(none)' ]] || continue
		case $name in
		bookworm | trixie | bullseye)
			kver=${pkg#linux-image-}; kver=${kver%-unsigned}
			echo "$kver $ver $pkg" ;;
		trixie-backports)
			kver=${pkg#linux-modules-}
			echo "$kver $ver linux-binary-$kver $pkg" ;;
		esac
		return 0
	done
	vm_err "no cloud kernel package found in Debian $name (looked for" \
		"$([[ $name == trixie-backports ]] && echo 'linux-modules-*-cloud-amd64' || echo 'linux-image-*-unsigned'));" \
		"check $VM_CACHE/apt/$name/sources.list and the mirror"
	return 1
}

# mod_field FILE FIELD: a field of a module's .modinfo (compressed or not).
mod_cat() {
	case $1 in
	*.xz) xz -dc -- "$1" ;;
	*.zst) zstd -qdc -- "$1" ;;
	*.gz) gzip -dc -- "$1" ;;
	*) cat -- "$1" ;;
	esac
}
mod_field() { mod_cat "$1" | tr "\0" "\n" | LC_ALL=C sed -n "s/^$2=//p"; }

# kernel_unpack NAME KVER DEBDIR DEST DEBS...: vmlinuz + modules.cpio into DEST.
kernel_unpack() {
	local name=$1 kver=$2 debdir=$3 dest=$4
	shift 4
	local x=$dest.tmp deb mroot vmlinuz f n d
	rm -rf "$x" && mkdir -p "$x/pkg" || return 1
	for deb in "$@"; do
		dpkg-deb -x "$debdir/$deb" "$x/pkg" || { vm_err "cannot unpack $debdir/$deb (dpkg-deb failed): delete it and run again"; return 1; }
	done
	for f in "$x/pkg/boot/vmlinuz-$kver" "$x/pkg/usr/lib/modules/$kver/vmlinuz" "$x/pkg/lib/modules/$kver/vmlinuz"; do
		[[ -f $f ]] && vmlinuz=$f && break
	done
	for d in "$x/pkg/usr/lib/modules/$kver" "$x/pkg/lib/modules/$kver"; do
		[[ -d $d/kernel ]] && mroot=$d && break
	done
	if [[ -z ${vmlinuz:-} || -z ${mroot:-} ]]; then
		vm_err "the $name packages ($*) hold no vmlinuz or no lib/modules/$kver/kernel: the package layout changed; report it"
		return 1
	fi

	# The closure of every module in VM_MODULE_DIRS under "depends=".
	local -A file=() seen=()
	local -a queue=()
	while IFS= read -r f; do
		n=${f##*/}; n=${n%%.ko*}; file[${n//-/_}]=$f
	done < <(cd "$mroot" && find kernel -name '*.ko*')
	for d in "${VM_MODULE_DIRS[@]}"; do
		[[ -d $mroot/$d ]] || continue
		while IFS= read -r f; do
			n=${f##*/}; n=${n%%.ko*}; queue+=("${n//-/_}")
		done < <(cd "$mroot" && find "$d" -maxdepth 1 -name '*.ko*' ! -name 'tcrypt.ko*')
	done
	queue+=("${VM_MODULES[@]}")      # (built in on some kernels: then absent)
	[[ -n ${file[tls]:-} ]] ||
		vm_say "the $name kernel $kver has no tls module (built without CONFIG_TLS): its guests have no kTLS"
	local root=$x/root/lib/modules/$kver
	while ((${#queue[@]})); do
		n=${queue[0]}; queue=("${queue[@]:1}")
		[[ -n ${seen[$n]:-} || -z ${file[$n]:-} ]] && continue
		seen[$n]=1
		f=${file[$n]}
		mkdir -p "$root/$(dirname "$f")"
		mod_cat "$mroot/$f" >"$root/${f%.ko*}.ko" || { vm_err "cannot decompress $f from the $name kernel (is xz-utils installed?)"; return 1; }
		for d in $(mod_field "$root/${f%.ko*}.ko" depends | tr ',' ' '); do
			queue+=("${d//-/_}")
		done
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[[ -f $mroot/$f ]] && cp "$mroot/$f" "$root/"
	done
	busybox depmod -b "$x/root" "$kver" || { vm_err "busybox depmod failed for the $name kernel $kver"; return 1; }
	# In the guest the modules live in /usr/lib/modules (/lib/modules links there).
	mkdir -p "$x/cpio/usr/lib" && mv "$x/root/lib/modules" "$x/cpio/usr/lib/modules" || return 1
	(cd "$x/cpio" && find usr | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) >"$x/modules.cpio" || return 1
	cp "$vmlinuz" "$x/vmlinuz" || return 1
	printf '%s\n' "${#seen[@]}" >"$x/modules.count"
	printf '%s\n' "$@" >"$x/packages"
	echo "$VM_CACHE_FORMAT" >"$x/format"
	rm -rf "$x/pkg" "$x/root" "$x/cpio"
	rm -rf "$dest" && mv "$x" "$dest"
}

# kernel_ready DIR: DIR holds a kernel unpacked by this version of the harness.
kernel_ready() { [[ -s $1/vmlinuz && -s $1/modules.cpio && $(cat "$1/format" 2>/dev/null) == "$VM_CACHE_FORMAT" ]]; }

# kernel_download NAME: the .debs of KVER into $VM_CACHE/debs (kept: a later
# change of what is unpacked needs no download); sets DEBS.
kernel_download() {
	local name=$1 debdir=$VM_CACHE/debs p f size total=0 log=$VM_CACHE/kernels/$1/download.log
	DEBS=()
	mkdir -p "$debdir" || return 1
	# The package lists may be gone while the choice of kernel is remembered.
	if [[ ! -s $VM_CACHE/apt/$name/sources.list ]]; then
		local missing=0
		for p in "${PKGS[@]}"; do
			[[ -s $debdir/${p}_${KVERSION//:/%3a}_amd64.deb ]] || missing=1
		done
		((missing == 0)) || kernel_update_lists "$name" || return 1
	fi
	for p in "${PKGS[@]}"; do
		f=${p}_${KVERSION//:/%3a}_amd64.deb
		if [[ ! -s $debdir/$f ]]; then
			vm_say "$name: downloading $p ($KVERSION)"
			if ! (cd "$debdir" && kernel_apt "$name" apt-get -q download "$p=$KVERSION") >"$log" 2>&1 ||
				[[ ! -s $debdir/$f ]]; then
				vm_err "downloading $p ($KVERSION) from Debian $name failed: check network access to" \
					"${VM_MIRROR%/debian} (or set KTLS_VM_MIRROR), free space in $debdir, and" \
					"whether Debian still has this version (scripts/vm.sh --update looks again); apt said:"
				tail -n 5 "$log" | sed 's/^/vm:   /' >&2
				return 1
			fi
			size=$(stat -c %s "$debdir/$f"); total=$((total + size))
		fi
		DEBS+=("$f")
	done
	((total == 0)) || vm_say "$name: downloaded $((total / 1048576)) MiB"
}

# kernel_fetch NAME: set KVER, KVERSION, KDIR for NAME, downloading it if needed.
kernel_fetch() {
	local name=$1 base=$VM_CACHE/kernels/$1 line pkgs_str t0=$SECONDS lockfd rc=0
	mkdir -p "$base" || { vm_err "cannot create the VM cache $base: set KTLS_VM_CACHE to a writable folder"; return 1; }
	exec {lockfd}>"$base/.lock"
	flock "$lockfd"
	KVER='' KVERSION='' PKGS=()
	if [[ -z $VM_UPDATE && -s $base/current ]]; then
		read -r KVER KVERSION pkgs_str <"$base/current"
		read -r -a PKGS <<<"$pkgs_str"
	fi
	if [[ -z $KVER || ${#PKGS[@]} -eq 0 ]]; then
		if kernel_update_lists "$name" && line=$(kernel_resolve "$name"); then
			read -r KVER KVERSION pkgs_str <<<"$line"
			read -r -a PKGS <<<"$pkgs_str"
			vm_say "$name: the newest cloud kernel is $KVER (Debian $KVERSION: ${PKGS[*]})"
		else
			rc=1
		fi
	fi
	KDIR=$base/$KVER.v$VM_CACHE_FORMAT
	if ((rc == 0)) && ! kernel_ready "$KDIR"; then
		if kernel_download "$name" && kernel_unpack "$name" "$KVER" "$VM_CACHE/debs" "$KDIR" "${DEBS[@]}"; then
			vm_say "$name: kernel $KVER ready in $((SECONDS - t0)) s ($(cat "$KDIR/modules.count") modules kept, in $KDIR)"
		else
			rm -rf "$KDIR.tmp"
			rc=1
		fi
	fi
	if ((rc == 0)); then
		echo "$KVER $KVERSION ${PKGS[*]}" >"$base/current.tmp" && mv "$base/current.tmp" "$base/current"
	fi
	exec {lockfd}>&-
	return $rc
}

# scripts/vm/initramfs.sh: the VM's userland (sourced by scripts/vm.sh).
#
# One uncompressed cpio, $VM_WORK/base.cpio, shared by every kernel:
#   /init                scripts/vm/init (busybox sh)
#   busybox              static, with a link for every applet the host does not
#                        provide below (so /sbin/modprobe is busybox's)
#   tools                bash, jq, GNU coreutils-grade tools, and the optional
#                        peers openssl, gnutls-cli, gnutls-serv, curl when the
#                        host has them; more with KTLS_VM_EXTRA="prog ..."
#   the project          $REPO/tests and $REPO/scripts, $KTLS_BIN, $KTLS_BUILD/tests
#                        and $KTLS_BUILD/certs at their host paths, so the guest's
#                        working directory mirrors the repository
#   shared libraries     whatever ldd lists for every ELF file above
# It is rebuilt only when one of its inputs changed (size or mtime), so a run
# after an unchanged build starts at once.

# Tools taken from the host when present (bash is required).
VM_TOOLS=(bash jq timeout sha256sum sha1sum md5sum cmp diff grep sed awk find xargs od
	head tail wc sort uniq cut tr tee cat ls mkdir rmdir rm cp mv ln chmod touch sleep
	date env stat mktemp seq dd base64 basename dirname readlink realpath nproc id
	printf expr true false yes kill ps pgrep pkill ss truncate split paste comm
	xxd hexdump getent sha512sum nohup tac shuf flock setsid tc)
VM_PEERS=(openssl gnutls-cli gnutls-serv curl)

# Host files that go in besides the project, one per line.
initramfs_host_inputs() {
	local t p
	for t in bash busybox "${VM_TOOLS[@]}" "${VM_PEERS[@]}" ${KTLS_VM_EXTRA:-}; do
		p=$(type -P "$t") && echo "$p"
	done
	printf '%s\n' "$VM_SCRIPTS/init"
	for p in /etc/ssl/openssl.cnf /etc/services /etc/protocols; do
		[[ -f $p ]] && echo "$p"
	done
}

initramfs_inputs() { initramfs_host_inputs; initramfs_project_files; }

initramfs_project_files() {
	local d dirs=("$REPO/tests" "$REPO/scripts" "$KTLS_BIN" "$KTLS_BUILD/tests" "$KTLS_BUILD/certs")
	for d in "${dirs[@]}"; do
		[[ -d $d ]] || continue
		find "$d" \( -path "$REPO/tests/fuzz" -o -name '*.o' -o -name '*.d' -o -name '.*' \) -prune \
			-o \( -type f -o -type l \) -print
	done
}

# The fingerprint of a list of files: names, sizes, mtimes.
initramfs_fingerprint() {
	{
		echo "vm-initramfs 1"
		sort -u | xargs -r -d '\n' stat -L -c '%n %s %Y' 2>&1
	} | sha256sum | cut -d' ' -f1
}

is_elf() { [[ $(head -c 4 -- "$1" 2>/dev/null | od -An -c | tr -d ' \n') == '177ELF' ]]; }

# stage_copy ROOT PATH: copy a host file to the same path under ROOT (links followed).
stage_copy() {
	local root=$1 p=$2
	[[ -e $root$p ]] && return 0
	mkdir -p "$root${p%/*}" && cp -L -- "$p" "$root$p"
}

# The shared libraries of ELF files (host paths, one per line).
elf_libs() {
	local f
	for f in "$@"; do
		ldd "$f" 2>/dev/null | awk -v f="$f" '
			$2 == "=>" && $3 ~ /^\// { print $3; next }
			$1 ~ /^\// { print $1 }
			$2 == "=>" && $3 == "not" {
				print "vm: warning: " f " needs " $1 ", which ldd does not find: it will not run in the guest" > "/dev/stderr"
			}'
	done | sort -u
}

initramfs_build() {
	local out=$VM_WORK/base.cpio root=$VM_WORK/root inputs fp t0=$SECONDS
	mkdir -p "$VM_WORK" || { vm_err "cannot create $VM_WORK"; return 1; }
	exec {ilock}>"$VM_WORK/.lock"
	flock "$ilock"
	inputs=$(initramfs_inputs; [[ -f $VM_WORK/base.libs ]] && cat "$VM_WORK/base.libs")
	fp=$(initramfs_fingerprint <<<"$inputs")
	if [[ -s $out && -f $VM_WORK/base.fingerprint && $(<"$VM_WORK/base.fingerprint") == "$fp" ]]; then
		exec {ilock}>&-
		return 0
	fi
	rm -rf "$root" && mkdir -p "$root" || return 1

	# The host's top-level links (merged /usr: /bin -> usr/bin, ...), relative.
	local l tgt
	for l in bin sbin lib lib64 lib32 libx32; do
		if [[ -L /$l ]]; then
			tgt=$(readlink "/$l"); mkdir -p "$root/${tgt#/}" && ln -s "${tgt#/}" "$root/$l"
		fi
	done
	mkdir -p "$root"/{dev,proc,sys,tmp,run,root,etc,usr/bin,usr/sbin,usr/lib/modules,var/tmp,ktls-vm}
	[[ -e $root/lib/modules ]] || { mkdir -p "$root/lib" && ln -s ../usr/lib/modules "$root/lib/modules"; }

	# Tools and peers at their host paths; busybox fills the gaps.
	local p elves=() bb
	bb=$(type -P busybox)
	mkdir -p "$root/bin" && cp -L "$bb" "$root/bin/busybox" && elves+=("$bb")
	while IFS= read -r p; do
		[[ $p == "$bb" ]] && continue
		case $p in
		"$VM_SCRIPTS/init") install -m 755 "$p" "$root/init" ;;
		/etc/ssl/openssl.cnf)
			stage_copy "$root" "$p"
			mkdir -p "$root/usr/lib/ssl" && ln -sf /etc/ssl/openssl.cnf "$root/usr/lib/ssl/openssl.cnf" ;;
		*) stage_copy "$root" "$p" && is_elf "$p" && elves+=("$p") ;;
		esac
	done < <(initramfs_host_inputs)
	while IFS= read -r p; do
		[[ -e $root/$p || -L $root/$p ]] || { mkdir -p "$root/${p%/*}" && ln -s /bin/busybox "$root/$p"; }
	done < <(busybox --list-full)

	# The project at its host paths.
	local proj
	proj=$(initramfs_project_files)
	if [[ -n $proj ]]; then
		tar -C / -cf - --no-recursion -T <(sed 's|^/||' <<<"$proj") | tar -C "$root" -xf - || return 1
		while IFS= read -r p; do
			[[ -f $p && -x $p ]] && is_elf "$p" && elves+=("$p")
		done <<<"$proj"
	fi

	# Their shared libraries.
	local libs
	libs=$(elf_libs "${elves[@]}") || return 1
	while IFS= read -r p; do
		[[ -n $p ]] && { stage_copy "$root" "$p" || return 1; }
	done <<<"$libs"
	printf '%s\n' "$libs" >"$VM_WORK/base.libs"

	# /etc: names for loopback and root, nothing else.
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
	echo ktls-vm >"$root/etc/hostname"

	(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
		busybox cpio -o -H newc 2>/dev/null) >"$out.tmp" || { vm_err "cpio of $root failed"; return 1; }
	mv "$out.tmp" "$out"
	# Libraries found now are inputs of the next check too.
	fp=$(initramfs_fingerprint <<<"$(initramfs_inputs; cat "$VM_WORK/base.libs")")
	echo "$fp" >"$VM_WORK/base.fingerprint"
	rm -rf "$root"
	vm_say "initramfs rebuilt in $((SECONDS - t0)) s: $(($(stat -c %s "$out") / 1048576)) MiB ($out)"
	exec {ilock}>&-
}

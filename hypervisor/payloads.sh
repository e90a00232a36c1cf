#!/bin/bash
# payloads.sh ARCH OUTDIR — make the dom0 test payloads for ARCH (x86_64 |
# arm64) in OUTDIR:
#   dom0-kernel        Debian's generic kernel (linux-image-6.1.0-*-{amd64,arm64}):
#                      x86_64 the uncompressed ELF vmlinux taken out of the
#                      bzImage, its zeros left out of the file (elf-pack.py;
#                      XENCI_X86_KERNEL=bzimage for the bzImage),
#                      arm64 the gunzipped Image that U-Boot can `booti`
#   dom0-initrd        a newc cpio (uncompressed) with busybox-static, the
#                      /dev/console node, and dom0-init.sh as /init
#   dom0-guest-base    a newc cpio to append to dom0-initrd (and the tools
#                      artifact after it, hypervisor/build-tools.sh) for the
#                      jobs that run guests: the Xen modules of the kernel
#                      (evtchn, privcmd, gntdev, gntalloc, xenfs), the shared
#                      libraries the toolstack links (from Debian's packages
#                      of ARCH: libc6 libgcc-s1 libyajl2 libuuid1 libbz2-1.0 liblzma5
#                      zlib1g, arm64 also libfdt1), the guest kernel and
#                      initramfs in /usr/share/xenci/guest (the same Debian
#                      kernel, domu-init.sh as /init) and dom0-guest.sh as /init
#   domu-initrd        that guests' initramfs alone (busybox, domu-init.sh as
#                      /init): the ramdisk of the dom0less domUs on arm64
#   payload-info.json  {"arch", "kernel_package", "kernel_version",
#                       "kernel_format", "busybox_package", "guest_libs"}
#
# Packages are fetched with `apt-get download` (never installed); arm64 ones
# with a private arm64 package list, without touching dpkg's architectures
# (hypervisor/debs-lib.sh).
# Everything is cached under ${XENCI_CACHE:-~/.cache/xenci}: debs in debs/ARCH,
# arm64 package lists in apt-arm64/, finished payloads in payloads/ARCH/KEY.
# A second run is offline and only copies files. XENCI_APT_REFRESH=1 updates
# the arm64 package lists first (they are otherwise fetched once).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "payloads.sh: $*" >&2; exit 1; }
log() { echo "payloads.sh: $*" >&2; }
usage() { echo "usage: payloads.sh x86_64|arm64 OUTDIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
arch=$1
out=$2
case $arch in x86_64 | arm64) ;; *) usage ;; esac
x86_kernel=${XENCI_X86_KERNEL:-vmlinux}
case $x86_kernel in vmlinux | bzimage) ;; *) die "XENCI_X86_KERNEL must be vmlinux or bzimage" ;; esac
for tool in python3 tar; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# shellcheck source=hypervisor/recipe-lib.sh
. "$here/recipe-lib.sh"
recipe_python payloads.sh
# shellcheck source=hypervisor/debs-lib.sh
. "$here/debs-lib.sh"
debs_init payloads.sh "$arch"
download() { debs_download "$@"; }

# The generic kernel (not -cloud-: it lacks CONFIG_XEN_DOM0): the package
# that apt's candidate of $meta depends on. `apt-cache depends` reads the
# package records (~0.2 s a run), so its answer is kept per version of $meta
# (a Debian version's Depends never changes).
meta=linux-image-$debarch
metaver=$(debs_candidates "$meta" | awk '{print $2}')
memo=
[ -z "$metaver" ] || [ "$metaver" = "(none)" ] || memo=$debs/$meta.${metaver//:/%3a}.kernel
if [ -n "$memo" ] && [ -s "$memo" ]; then
	kpkg=$(cat "$memo")
else
	kpkg=$(apt_cache depends "$meta" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$kpkg" ] || die "cannot resolve $meta to a kernel package (apt-cache depends $meta)"
	[ -z "$memo" ] || { echo "$kpkg" >"$memo.tmp" && mv "$memo.tmp" "$memo"; }
fi
case $kpkg in *-cloud-*) die "$meta resolved to a cloud kernel ($kpkg)" ;; esac

# busybox-static: the host's on x86_64 (when installed and static), else the
# target architecture's package.
bbsrc=
bbpkg=
bb_pkgs=(busybox-static)
if [ "$arch" = x86_64 ] && [ "$(uname -m)" = x86_64 ] &&
	bbver=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) &&
	[ -x /bin/busybox ]; then
	bbsrc=/bin/busybox
	bbpkg="busybox-static $bbver (host)"
	bb_pkgs=()
fi

# The libraries the tools link (objdump -p of xl, xenstored, xenconsoled
# and libxenlight/libxenguest), by package; arm64's libxl also links libfdt.
guest_pkgs=(libc6 libgcc-s1 libyajl2 libuuid1 libbz2-1.0 liblzma5 zlib1g)
[ "$arch" != arm64 ] || guest_pkgs+=(libfdt1)

# Every package's .deb at once (one apt-cache call): the kernel, busybox when
# not the host's, then the libraries.
debs_list=$(download "$kpkg" "${bb_pkgs[@]}" "${guest_pkgs[@]}")
mapfile -t all_debs <<<"$debs_list"
kdeb=${all_debs[0]}
if [ -z "$bbsrc" ]; then
	bbdeb=${all_debs[1]}
	bbpkg="busybox-static $(dpkg-deb -f "$bbdeb" Version) ($debarch)"
fi
guest_debs=("${all_debs[@]:$((1 + ${#bb_pkgs[@]}))}")
[ "${#guest_debs[@]}" -eq "${#guest_pkgs[@]}" ] ||
	die "apt resolved ${#guest_debs[@]} of the ${#guest_pkgs[@]} libraries"

# The cache key covers every input: kernel and busybox packages, the init
# script and this recipe.
key=$(
	{
		echo "$arch $x86_kernel $(basename "$kdeb") $bbpkg"
		for d in "${guest_debs[@]}"; do basename "$d"; done
		cat "$here/dom0-init.sh" "$here/dom0-guest.sh" "$here/domu-init.sh" "$here/tap.sh" \
			"${BASH_SOURCE[0]}" "$here/mkcpio.py" "$here/elf-pack.py"
		[ -z "$bbsrc" ] || sha256sum "$bbsrc"
	} | sha256sum | cut -c1-16
)
done_dir=$cache/payloads/$arch/$key

if [ ! -f "$done_dir/payload-info.json" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/xenci-payloads.XXXXXX")
	trap 'rm -rf "$work"' EXIT

	# Kernel: only ./boot of the package is needed.
	log "extracting $(basename "$kdeb")"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" ./boot ./lib/modules
	vmlinuz=$(find "$work/boot" -name 'vmlinuz-*' -print -quit)
	[ -n "$vmlinuz" ] || die "no vmlinuz in $kdeb"
	kver=${vmlinuz##*/vmlinuz-}
	if [ "$debarch" = amd64 ]; then
		grep -qx 'CONFIG_XEN_DOM0=y' "$work/boot/config-$kver" ||
			die "$kpkg has no CONFIG_XEN_DOM0=y"
	fi
	case $arch in
	x86_64)
		if [ "$x86_kernel" = vmlinux ]; then
			# The bzImage's payload (setup header: payload_offset, payload_length)
			# is the compressed, stripped vmlinux ELF. Xen loads ELF dom0
			# kernels itself, without decompressing under emulation.
			kfmt="vmlinux (ELF, from the bzImage payload, packed)"
			"$PYTHON" - "$vmlinuz" "$work/vmlinux" <<'EOF'
import gzip, lzma, struct, sys
src, dst = sys.argv[1:]
data = open(src, 'rb').read()
if data[0x202:0x206] != b'HdrS':
    sys.exit('%s: not a bzImage' % src)
setup_sects = data[0x1f1] or 4
offset, length = struct.unpack_from('<II', data, 0x248)
start = (setup_sects + 1) * 512 + offset
payload = data[start:start + length]
if payload.startswith(b'\xfd7zXZ\x00'):
    out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(payload)
elif payload.startswith(b'\x1f\x8b'):
    out = gzip.decompress(payload)
else:
    sys.exit('%s: payload compression %s not handled; use XENCI_X86_KERNEL=bzimage'
             % (src, payload[:6].hex()))
if not out.startswith(b'\x7fELF'):
    sys.exit('%s: payload is not an ELF' % src)
open(dst, 'wb').write(out)
EOF
			# Half of it is zeros (the .bss in the file) and 2 MiB gaps that
			# TFTP would carry at every boot: the same memory image in 35 MB
			# instead of 66 (elf-pack.py).
			"$PYTHON" "$here/elf-pack.py" "$work/vmlinux" "$work/dom0-kernel"
			rm -f "$work/vmlinux"
		else
			kfmt="bzImage"
			cp "$vmlinuz" "$work/dom0-kernel"
		fi
		;;
	arm64)
		kfmt="Image (gunzipped vmlinuz)"
		if [ "$(head -c 2 "$vmlinuz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
			gzip -dc "$vmlinuz" >"$work/dom0-kernel"
		else
			cp "$vmlinuz" "$work/dom0-kernel"
		fi
		# An arm64 Image carries "ARM\x64" at offset 56.
		[ "$(dd if="$work/dom0-kernel" bs=1 skip=56 count=4 2>/dev/null | od -An -tx1 | tr -d ' ')" = 41524d64 ] ||
			die "$vmlinuz is not an arm64 Image"
		;;
	esac

	# busybox
	if [ -z "$bbsrc" ]; then
		mkdir "$work/bb"
		dpkg-deb -x "$bbdeb" "$work/bb"
		bbsrc=$work/bb/bin/busybox
		[ -f "$bbsrc" ] || die "no bin/busybox in $bbdeb"
	fi

	# The initramfs, listed gen_init_cpio-style and written as newc by a few
	# lines of python: no root needed for the device node, and the archive is
	# byte-for-byte reproducible (uid/gid 0, mtime 0, fixed inode numbers).
	log "writing dom0-initrd"
	# busybox_list INIT: the listing of a busybox initramfs with INIT as /init
	busybox_list() {
		cat <<EOF
dir /dev 0755
nod /dev/console 0600 c 5 1
nod /dev/null 0666 c 1 3
dir /bin 0755
dir /sbin 0755
dir /proc 0755
dir /sys 0755
dir /tmp 1777
dir /run 0755
dir /root 0700
file /bin/busybox $bbsrc 0755
slink /bin/sh busybox 0777
file /init $1 0755
EOF
	}
	{
		busybox_list "$here/dom0-init.sh"
		printf '%s\n' "dir /lib 0755" "dir /lib/xenci 0755" "file /lib/xenci/tap.sh $here/tap.sh 0644"
	} >"$work/initramfs.list"
	"$PYTHON" "$here/mkcpio.py" "$work/initramfs.list" "$work/dom0-initrd"

	# The guests' initramfs: busybox and domu-init.sh.
	log "writing dom0-guest-base"
	busybox_list "$here/domu-init.sh" >"$work/domu.list"
	"$PYTHON" "$here/mkcpio.py" "$work/domu.list" "$work/domu-initrd"
	# The base: the guest kernel (the dom0 kernel: x86_64's ELF vmlinux, which
	# libxenguest loads for PV and PVH without unpacking the bzImage's xz
	# each time, 90 s a guest under a loaded TCG; arm64's Image), its
	# initramfs, the Xen modules, the libraries (shared objects and the
	# dynamic loader's link).
	base=$work/base
	mkdir -p "$base/usr/share/xenci/guest" "$base/lib/modules/$kver" "$work/libs"
	cp "$work/dom0-kernel" "$base/usr/share/xenci/guest/kernel"
	cp "$work/domu-initrd" "$base/usr/share/xenci/guest/initrd"
	for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
		f=$(find "$work/lib/modules/$kver" -name "$m.ko" -print -quit)
		[ -n "$f" ] || die "no $m.ko in $kpkg"
		cp "$f" "$base/lib/modules/$kver/"
	done
	for d in "${guest_debs[@]}"; do
		dpkg-deb -x "$d" "$work/libs"
	done
	triplet=$(find "$work/libs/lib" "$work/libs/usr/lib" -maxdepth 1 -name '*-linux-gnu' -printf '%f\n' 2>/dev/null | head -n 1)
	[ -n "$triplet" ] || die "no lib/*-linux-gnu in ${guest_pkgs[*]}"
	mkdir -p "$base/lib/$triplet"
	for d in "$work/libs/lib/$triplet" "$work/libs/usr/lib/$triplet"; do
		[ ! -d "$d" ] || find "$d" -maxdepth 1 -name '*.so*' \( -type f -o -type l \) \
			-exec cp -P {} "$base/lib/$triplet/" \;
	done
	# the program interpreter (/lib64/ld-linux-x86-64.so.2, /lib/ld-linux-aarch64.so.1)
	for f in "$work"/libs/lib64/ld-linux* "$work"/libs/lib/ld-linux*; do
		[ -L "$f" ] || continue
		l=${f#"$work/libs/"}
		mkdir -p "$base/${l%/*}"
		ln -sf "/lib/$triplet/$(basename "$(readlink "$f")")" "$base/$l"
	done
	cat >"$work/base.list" <<EOF
tree / $base
file /init $here/dom0-guest.sh 0755
EOF
	"$PYTHON" "$here/mkcpio.py" "$work/base.list" "$work/dom0-guest-base"

	"$PYTHON" - "$arch" "$kpkg" "$(basename "$kdeb" .deb)" "$kfmt" "$bbpkg" \
		"$(for d in "${guest_debs[@]}"; do basename "$d" .deb; done)" >"$work/payload-info.json" <<'EOF'
import json, sys
arch, kpkg, kdeb, kfmt, bb, libs = sys.argv[1:]
json.dump({"arch": arch, "kernel_package": kpkg, "kernel_version": kdeb.split('_')[1],
           "kernel_format": kfmt, "busybox_package": bb,
           "guest_libs": libs.split()}, sys.stdout, indent=2)
sys.stdout.write("\n")
EOF
	mkdir -p "$(dirname "$done_dir")"
	rm -rf "$done_dir.tmp"
	mkdir "$done_dir.tmp"
	mv "$work/dom0-kernel" "$work/dom0-initrd" "$work/dom0-guest-base" "$work/domu-initrd" \
		"$work/payload-info.json" "$done_dir.tmp/"
	mv "$done_dir.tmp" "$done_dir"
fi

mkdir -p "$out"
for f in dom0-kernel dom0-initrd dom0-guest-base domu-initrd payload-info.json; do
	cp "$done_dir/$f" "$out/$f.tmp"
	mv "$out/$f.tmp" "$out/$f"
done
log "$arch: $(basename "$kdeb" .deb) -> $out"

#!/bin/bash
# payloads.sh ARCH OUTDIR — make the dom0 test payloads for ARCH (x86_64 |
# arm64) in OUTDIR:
#   dom0-kernel        Debian's generic kernel (linux-image-6.1.0-*-{amd64,arm64}):
#                      x86_64 the uncompressed ELF vmlinux taken out of the
#                      bzImage (XENCI_X86_KERNEL=bzimage for the bzImage),
#                      arm64 the gunzipped Image that U-Boot can `booti`
#   dom0-initrd        a newc cpio (uncompressed) with busybox-static, the
#                      /dev/console node, and dom0-init.sh as /init
#   payload-info.json  {"arch", "kernel_package", "kernel_version",
#                       "kernel_format", "busybox_package"}
#
# Packages are fetched with `apt-get download` (never installed); arm64 ones
# with a private arm64 package list, without touching dpkg's architectures.
# Everything is cached under ${XENCI_CACHE:-~/.cache/xenci}: debs in debs/ARCH,
# arm64 package lists in apt-arm64/, finished payloads in payloads/ARCH/KEY.
# A second run is offline and only copies files. XENCI_APT_REFRESH=1 updates
# the arm64 package lists first (they are otherwise fetched once).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${XENCI_CACHE:-$HOME/.cache/xenci}

die() { echo "payloads.sh: $*" >&2; exit 1; }
log() { echo "payloads.sh: $*" >&2; }
usage() { echo "usage: payloads.sh x86_64|arm64 OUTDIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
arch=$1
out=$2
case $arch in
x86_64) debarch=amd64 ;;
arm64) debarch=arm64 ;;
*) usage ;;
esac
x86_kernel=${XENCI_X86_KERNEL:-vmlinux}
case $x86_kernel in vmlinux | bzimage) ;; *) die "XENCI_X86_KERNEL must be vmlinux or bzimage" ;; esac
for tool in apt-get apt-cache dpkg-deb python3 tar; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

debs=$cache/debs/$arch
alt=
mkdir -p "$debs"

# apt for $debarch: the host's own apt for amd64 on an amd64 host, else a
# private list of the host's sources for that architecture only.
apt_opts=()
# As root, apt cannot hand downloads to its _apt sandbox user in our cache
# folders and warns; say so up front instead.
[ "$(id -u)" -ne 0 ] || apt_opts=(-o APT::Sandbox::User=root)
if [ "$debarch" != "$(dpkg --print-architecture)" ]; then
	alt=$cache/apt-$debarch
	apt_opts+=(
		-o "APT::Architecture=$debarch"
		-o "APT::Architectures=$debarch"
		-o "Dir::State::Lists=$alt/lists"
		-o "Dir::Cache=$alt/cache"
		# keep apt's binary cache of the lists: later runs skip re-parsing them
		-o Dir::Cache::pkgcache=pkgcache.bin
		-o Dir::Cache::srcpkgcache=srcpkgcache.bin
	)
	mkdir -p "$alt/lists/partial" "$alt/cache/archives/partial"
else
	# The host's lists, with apt's binary cache of them kept in our cache.
	mkdir -p "$cache/apt-host"
	apt_opts+=(
		-o "Dir::Cache::pkgcache=$cache/apt-host/pkgcache.bin"
		-o "Dir::Cache::srcpkgcache=$cache/apt-host/srcpkgcache.bin"
	)
fi

apt_update() {
	log "updating the $debarch package lists"
	apt-get -qq "${apt_opts[@]}" update || die "apt-get update for $debarch failed"
}
if [ -n "$alt" ]; then
	if [ "${XENCI_APT_REFRESH:-0}" = 1 ] ||
		! compgen -G "$alt/lists/*_Packages*" >/dev/null; then
		apt_update
	fi
fi

apt_cache() { apt-cache "${apt_opts[@]}" "$@"; }

# download PKG: print the path of PKG's .deb in $debs, downloading it once.
# The newest version the lists know is used; a stale list (404) is refreshed.
download() {
	local pkg=$1 ver file
	ver=$(apt_cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "apt knows no package $pkg for $debarch"
	fi
	file=$(find "$debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
	if [ -z "$file" ]; then
		log "downloading $pkg $ver ($debarch)"
		# As root, apt downloads unsandboxed and says so; that notice is harmless.
		if ! (cd "$debs" && apt-get -qq "${apt_opts[@]}" download "$pkg=$ver" 2>/dev/null); then
			apt_update
			(cd "$debs" && apt-get -qq "${apt_opts[@]}" download "$pkg=$ver") ||
				die "apt-get download $pkg=$ver failed"
		fi
		file=$(find "$debs" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
		[ -n "$file" ] || die "apt-get download $pkg left no .deb in $debs"
	fi
	echo "$file"
}

# The generic kernel (not -cloud-: it lacks CONFIG_XEN_DOM0).
meta=linux-image-$debarch
kpkg=$(apt_cache depends "$meta" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || die "cannot resolve $meta to a kernel package (apt-cache depends $meta)"
case $kpkg in *-cloud-*) die "$meta resolved to a cloud kernel ($kpkg)" ;; esac
kdeb=$(download "$kpkg")

# busybox-static: the host's on x86_64 (when installed and static), else the
# target architecture's package.
bbsrc=
bbpkg=
if [ "$arch" = x86_64 ] && [ "$(uname -m)" = x86_64 ] &&
	bbver=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) &&
	[ -x /bin/busybox ]; then
	bbsrc=/bin/busybox
	bbpkg="busybox-static $bbver (host)"
else
	bbdeb=$(download busybox-static)
	bbpkg="busybox-static $(dpkg-deb -f "$bbdeb" Version) ($debarch)"
fi

# The cache key covers every input: kernel and busybox packages, the init
# script and this recipe.
key=$(
	{
		echo "$arch $x86_kernel $(basename "$kdeb") $bbpkg"
		cat "$here/dom0-init.sh" "${BASH_SOURCE[0]}"
		[ -z "$bbsrc" ] || sha256sum "$bbsrc"
	} | sha256sum | cut -c1-16
)
done_dir=$cache/payloads/$arch/$key

if [ ! -f "$done_dir/payload-info.json" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/xenci-payloads.XXXXXX")
	trap 'rm -rf "$work"' EXIT

	# Kernel: only ./boot of the package is needed.
	log "extracting $(basename "$kdeb")"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" ./boot
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
			kfmt="vmlinux (ELF, from the bzImage payload)"
			python3 - "$vmlinuz" "$work/dom0-kernel" <<'EOF'
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
	cat >"$work/initramfs.list" <<EOF
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
file /init $here/dom0-init.sh 0755
EOF
	python3 - "$work/initramfs.list" "$work/dom0-initrd" <<'EOF'
import os, sys
listing, dst = sys.argv[1:]
out = bytearray()
ino = 1
def entry(name, mode, data=b'', rdev=(0, 0), nlink=1):
    global ino
    name = name.lstrip('/').encode() + b'\0'
    hdr = '070701' + ''.join('%08X' % v for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
        len(name), 0))
    ino += 1
    out.extend(hdr.encode() + name)
    out.extend(b'\0' * (-len(out) % 4))
    out.extend(data)
    out.extend(b'\0' * (-len(out) % 4))
kinds = {'dir': 0o040000, 'file': 0o100000, 'slink': 0o120000}
for line in open(listing):
    f = line.split()
    if not f or f[0].startswith('#'):
        continue
    kind, name = f[0], f[1]
    if kind == 'dir':
        entry(name, kinds['dir'] | int(f[2], 8), nlink=2)
    elif kind == 'file':
        entry(name, kinds['file'] | int(f[3], 8), open(f[2], 'rb').read())
    elif kind == 'slink':
        entry(name, kinds['slink'] | int(f[3], 8), f[2].encode())
    elif kind == 'nod':
        t = {'c': 0o020000, 'b': 0o060000}[f[3]]
        entry(name, t | int(f[2], 8), rdev=(int(f[4]), int(f[5])))
    else:
        sys.exit('unknown listing entry: ' + line)
entry('TRAILER!!!', 0)
out.extend(b'\0' * (-len(out) % 512))
with open(dst, 'wb') as fh:
    fh.write(out)
EOF

	python3 - "$arch" "$kpkg" "$(basename "$kdeb" .deb)" "$kfmt" "$bbpkg" >"$work/payload-info.json" <<'EOF'
import json, sys
arch, kpkg, kdeb, kfmt, bb = sys.argv[1:]
json.dump({"arch": arch, "kernel_package": kpkg, "kernel_version": kdeb.split('_')[1],
           "kernel_format": kfmt, "busybox_package": bb}, sys.stdout, indent=2)
sys.stdout.write("\n")
EOF
	mkdir -p "$(dirname "$done_dir")"
	rm -rf "$done_dir.tmp"
	mkdir "$done_dir.tmp"
	mv "$work/dom0-kernel" "$work/dom0-initrd" "$work/payload-info.json" "$done_dir.tmp/"
	mv "$done_dir.tmp" "$done_dir"
fi

mkdir -p "$out"
for f in dom0-kernel dom0-initrd payload-info.json; do
	cp "$done_dir/$f" "$out/$f.tmp"
	mv "$out/$f.tmp" "$out/$f"
done
log "$arch: $(basename "$kdeb" .deb) -> $out"

#!/bin/bash
# sysroot.sh ARCH — make the sysroot that build-tools.sh cross-builds Xen's
# toolstack against, and print its path: Debian's packages of ARCH (arm64)
# that the toolstack's headers and libraries come from (libc6-dev and
# linux-libc-dev, the -dev packages of yajl, uuid, zlib, bzip2, xz, libfdt and
# ncurses, and the libraries they link), each unpacked with dpkg-deb into one
# folder, absolute symlinks made relative to it. Nothing is installed and
# dpkg's architectures are left alone (hypervisor/debs-lib.sh).
#
# Cached under ${XENCI_CACHE:-~/.cache/xenci}: the debs in debs/ARCH, the
# sysroot in sysroot/ARCH/KEY (KEY: the packages' file names and this
# script), and sysroot/ARCH/current links to the newest; a second run is
# offline and prints the same path.
# Exit status: 0, 1 on a failure (said on stderr), 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "sysroot.sh: $*" >&2; exit 1; }
usage() { echo "usage: sysroot.sh arm64" >&2; exit 2; }

[ $# -eq 1 ] || usage
arch=$1
case $arch in arm64) ;; *) usage ;; esac

# shellcheck source=hypervisor/debs-lib.sh
. "$here/debs-lib.sh"
debs_init sysroot.sh "$arch"

# What tools/configure checks and the tools link (payloads.sh's guest_pkgs
# are the runtime half of the same list).
pkgs=(
	libc6 libc6-dev linux-libc-dev libgcc-s1
	libyajl2 libyajl-dev libuuid1 uuid-dev zlib1g zlib1g-dev
	libbz2-1.0 libbz2-dev liblzma5 liblzma-dev libfdt1 libfdt-dev
	libncurses6 libncursesw6 libtinfo6 libncurses-dev
)
files_list=$(debs_download "${pkgs[@]}")
mapfile -t files <<<"$files_list"
key=$(
	{
		for f in "${files[@]}"; do basename "$f"; done
		cat "${BASH_SOURCE[0]}"
	} | sha256sum | cut -c1-16
)
root=$cache/sysroot/$arch/$key
if [ ! -f "$root/.xenci-sysroot" ]; then
	mkdir -p "$(dirname "$root")"
	rm -rf "$root.tmp"
	mkdir "$root.tmp"
	for f in "${files[@]}"; do
		dpkg-deb -x "$f" "$root.tmp" || die "unpacking $f failed"
	done
	# /lib/x/libz.so.1 as the target of /usr/lib/x/libz.so: inside the sysroot
	find "$root.tmp" -type l -lname '/*' | while IFS= read -r l; do
		t=$(readlink "$l")
		rel=$(realpath -m --relative-to="$(dirname "$l")" "$root.tmp$t")
		ln -sfn "$rel" "$l"
	done
	printf '%s\n' "${files[@]##*/}" >"$root.tmp/.xenci-sysroot"
	rm -rf "$root"
	mv "$root.tmp" "$root"
fi
# the newest one made, for the lab agent (it binds it into a build's sandbox)
ln -sfn "$key" "$cache/sysroot/$arch/current.tmp"
mv -T "$cache/sysroot/$arch/current.tmp" "$cache/sysroot/$arch/current"
echo "$root"

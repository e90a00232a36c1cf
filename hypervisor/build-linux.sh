#!/bin/bash
# build-linux.sh ARCH SRCDIR OUTDIR [OBJDIR] — the recipe of trees of kind
# `linux`: build the dom0 kernel of the checked-out Linux tree SRCDIR for ARCH
# (x86_64 | arm64) and write to OUTDIR:
#   dom0-kernel      what Xen loads as dom0: x86_64 the ELF vmlinux (a PV
#                    dom0; no decompression), arm64 the Image
#   linux.config     the .config it was built with
#   build-info.json  {"arch", "kind": "linux", "linux_version", "artifacts":
#                    ["dom0-kernel"], "seconds"}; linux_version is what
#                    `uname -r` prints in that dom0
#
# The configuration is `tinyconfig` plus config/linux-ARCH.config (a dom0 under
# Xen and nothing else: no modules, no block or network drivers), resolved by
# olddefconfig; every line of the fragment must stick. It is regenerated each
# run but keeps its mtime when unchanged, so an unchanged tree does not
# rebuild. Build user, host and date are fixed (the commit's date when SRCDIR
# is a git tree), so one commit gives the same bytes in any path.
#
# Without OBJDIR the build is in-tree (incremental per SRCDIR; keep one SRCDIR
# per arch). With OBJDIR it is out of tree (`make O=OBJDIR`); Linux refuses
# O= on a tree holding an in-tree build (`make mrproper`).
#
# Environment: XENCI_CACHE (ccache lives in $XENCI_CACHE/ccache unless
# CCACHE_DIR is set), XENCI_CCACHE=0 to build without ccache, JOBS (default 2).
# Exit status: 0 on success, 1 on a failed build (make's errors on stderr),
# 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hypervisor/recipe-lib.sh
. "$here/recipe-lib.sh"

die() { echo "build-linux.sh: $*" >&2; exit 1; }
usage() { echo "usage: build-linux.sh x86_64|arm64 SRCDIR OUTDIR [OBJDIR]" >&2; exit 2; }

[ $# -eq 3 ] || [ $# -eq 4 ] || usage
arch=$1
src=$2
out=$3
obj=${4:-}
jobs=${JOBS:-2}

case $arch in
x86_64)
	karch=x86_64
	cross=
	[ "$(uname -m)" = x86_64 ] || cross=x86_64-linux-gnu-
	target=vmlinux
	image=vmlinux
	;;
arm64)
	karch=arm64
	cross=
	[ "$(uname -m)" = aarch64 ] || cross=aarch64-linux-gnu-
	target=Image
	image=arch/arm64/boot/Image
	;;
*) usage ;;
esac

fragment=$here/config/linux-$arch.config
[ -f "$fragment" ] || die "missing config fragment $fragment"
[ -f "$src/arch/x86/xen/Makefile" ] || die "$src does not look like a Linux tree (no arch/x86/xen)"
src=$(cd "$src" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "$obj" ]; then
	mkdir -p "$obj"
	obj=$(cd "$obj" && pwd)
	bdir=$obj
else
	bdir=$src
fi
for tool in make "${cross}gcc" "${cross}ld" bison flex bc perl python3; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# ccache, unless disabled or its directory is not writable (e.g. a sandbox).
recipe_ccache build-linux.sh "$cross" "$(recipe_common_dir "$src" "$obj")"
# Python called directly (Linux's PYTHON3), not through a version manager's shim.
recipe_python build-linux.sh

stamp=
if [ -d "$src/.git" ]; then
	stamp=$(git -C "$src" log -1 --format=%ct 2>/dev/null || true)
fi
stamp=${stamp:-0}

makeargs=(
	-C "$src"
	"-j$jobs"
	ARCH="$karch"
	CROSS_COMPILE="$cross"
	CC="$cc"
	HOSTCC="$hostcc"
	PYTHON3="$PYTHON"
	KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$stamp")"
	KBUILD_BUILD_USER=xenci
	KBUILD_BUILD_HOST=xenci
	KBUILD_BUILD_VERSION=1
)
[ -z "$obj" ] || makeargs+=(O="$obj")

rm -f "$out/dom0-kernel" "$out/linux.config" "$out/build-info.json"

start=$(date +%s.%N)

config=$bdir/.config
saved=
if [ -f "$config" ]; then
	saved=$(mktemp)
	cp -p "$config" "$saved"
fi
trap '[ -z "$saved" ] || rm -f "$saved"' EXIT
{
	make "${makeargs[@]}" -s tinyconfig &&
	(cd "$bdir" && sh "$src/scripts/kconfig/merge_config.sh" -m .config "$fragment") &&
	make "${makeargs[@]}" -s olddefconfig
} >/dev/null || die "configuring Linux for $arch failed"
recipe_check_fragment build-linux.sh "$fragment" "$config"
if [ -n "$saved" ] && cmp -s "$saved" "$config"; then
	touch -r "$saved" "$config"
fi

if ! make "${makeargs[@]}" "$target"; then
	echo "build-linux.sh: building Linux for $arch in $src failed" >&2
	exit 1
fi

end=$(date +%s.%N)

release=$(make "${makeargs[@]}" -s kernelrelease)
cp "$bdir/$image" "$out/dom0-kernel.tmp"
mv "$out/dom0-kernel.tmp" "$out/dom0-kernel"
cp "$config" "$out/linux.config"
"$PYTHON" - "$arch" "$release" "$start" "$end" >"$out/build-info.json.tmp" <<'EOF'
import json, sys
arch, release, start, end = sys.argv[1:]
json.dump({"arch": arch, "kind": "linux", "linux_version": release,
           "artifacts": ["dom0-kernel"],
           "seconds": round(float(end) - float(start), 1)}, sys.stdout, indent=2)
sys.stdout.write("\n")
EOF
mv "$out/build-info.json.tmp" "$out/build-info.json"
echo "build-linux.sh: $arch: Linux $release, $(stat -c %s "$out/dom0-kernel") bytes, $("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$out/build-info.json") s" >&2

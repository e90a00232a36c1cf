#!/bin/bash
# build-tools.sh ARCH SRCDIR OUTDIR — build Xen's toolstack of the checked-out
# tree SRCDIR for ARCH (x86_64 | arm64), the same revision as build.sh's
# hypervisor, and write to OUTDIR:
#   tools             a newc cpio (uncompressed) rooted at /, to append to a
#                     dom0 initramfs: xl, libxl and the Xen libraries it
#                     needs (/usr/lib), xenstored, xenconsoled, xenstore-*,
#                     /usr/lib/xen/bin (xen-init-dom0, xenconsole, …) and the
#                     executables of tools/tests in /usr/lib/xen/tests
#   tools-info.json   {"arch", "configure", "tests": [names], "seconds"}
#
# Only what dom0 needs to run guests is built (tools/include, then the
# subfolders libs xenstore console xl helpers, then the tests that tools/tests
# installs: not the host-side ones, see below), configured small: no
# qemu (traditional or upstream), stubdoms, OCaml, Go, SeaBIOS, ROMBIOS,
# iPXE, OVMF, PV shim, XSM policy, xentop or docs. The build is in-tree
# (SRCDIR/tools), so a second run on the same SRCDIR is incremental;
# configure runs again only when its arguments or tools/configure change.
# arm64 cross-builds (aarch64-linux-gnu-gcc) against a sysroot of Debian's
# arm64 packages (hypervisor/sysroot.sh; XENCI_SYSROOT names one already
# made, else sysroot.sh is run, which downloads once).
#
# Environment: XENCI_CACHE (ccache lives in $XENCI_CACHE/ccache unless
# CCACHE_DIR is set), XENCI_CCACHE=0 to build without ccache, JOBS (default 2).
# Exit status: 0 on success, 1 on a failed build (make's errors on stderr),
# 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "build-tools.sh: $*" >&2; exit 1; }
usage() { echo "usage: build-tools.sh x86_64|arm64 SRCDIR OUTDIR" >&2; exit 2; }

[ $# -eq 3 ] || usage
arch=$1
src=$2
out=$3
jobs=${JOBS:-2}

# shellcheck source=hypervisor/recipe-lib.sh
. "$here/recipe-lib.sh"

host_args=()
case $arch in
x86_64)
	[ "$(uname -m)" = x86_64 ] || die "the x86_64 tools build natively only"
	cross=
	target_arch=x86_64
	;;
arm64)
	target_arch=arm64
	cross=
	if [ "$(uname -m)" != aarch64 ]; then
		cross=aarch64-linux-gnu-
		host_args=(--build="$(gcc -dumpmachine)" --host=aarch64-linux-gnu)
	fi
	;;
*) usage ;;
esac

[ -f "$src/tools/configure" ] || die "$src does not look like a Xen tree (no tools/configure)"
src=$(cd "$src" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in make gcc "${cross}gcc" python3 iasl pkg-config; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# ccache, unless disabled or its directory is not writable (e.g. a sandbox).
recipe_ccache build-tools.sh "$cross" "$src"
# Python called directly (configure records it in config/Tools.mk).
recipe_python build-tools.sh
# The cross-build's headers and libraries: Debian's arm64 packages, unpacked
# by sysroot.sh (which the lab agent runs outside the build's sandbox, since
# it may download, and names in XENCI_SYSROOT).
if [ -n "$cross" ]; then
	sysroot=${XENCI_SYSROOT:-}
	if [ -z "$sysroot" ]; then
		sysroot=$("$here/sysroot.sh" "$arch") || die "no sysroot for $arch (sysroot.sh)"
	fi
	[ -f "$sysroot/.xenci-sysroot" ] || die "$sysroot is not a sysroot made by sysroot.sh"
	cc="$cc --sysroot=$sysroot"
	export PKG_CONFIG_SYSROOT_DIR=$sysroot
	export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$sysroot/usr/share/pkgconfig
fi

configure_args=(
	--prefix=/usr
	--disable-monitors --disable-ocamltools --disable-golang
	--disable-xsmpolicy --disable-seabios --disable-rombios --disable-ipxe
	--disable-ovmf --disable-qemu-traditional --disable-pvshim
	--disable-werror
	--with-system-qemu=/usr/bin/qemu-system-i386
	--with-xenstored=xenstored
	"${host_args[@]}"
)

rm -f "$out/tools" "$out/tools-info.json"
start=$(date +%s.%N)

# Configure once per argument set (and configure scripts): a stamp holds
# both. The top-level configure, tools only: it runs tools/configure and
# writes config/Paths.mk, without which `make install` puts every file in
# DESTDIR's root.
stamp=$src/tools/.xenci-configured
want="$(printf '%s\n' "${configure_args[@]}" "CC=$cc" "PYTHON=$PYTHON")
$(cat "$src/configure" "$src/tools/configure" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$src/config/Tools.mk" ] || [ ! -f "$src/config/Paths.mk" ] || [ ! -f "$stamp" ] ||
	[ "$(cat "$stamp")" != "$want" ]; then
	rm -f "$stamp"
	(cd "$src" && CC="$cc" ./configure --disable-xen --disable-docs "${configure_args[@]}") \
		>"$out/configure.log" 2>&1 ||
		{ tail -20 "$out/configure.log" >&2; die "configuring the tools failed"; }
	printf '%s\n' "$want" >"$stamp"
fi

makeargs=(-j"$jobs" XEN_TARGET_ARCH="$target_arch" CROSS_COMPILE="$cross" CC="$cc" HOSTCC="$hostcc")
# tools/tests is built by its install target alone: each test folder's
# `install: all` builds what it installs, while the host-side tests that Xen
# runs on the build machine (`make run`: x86_emulator, vpci, vhpet) have an
# empty install and are not built (x86_emulator alone was ~250 s of a clean
# x86_64 tools build of 319 s here, and installs nothing).
subdirs=(libs xenstore console xl helpers)
make -C "$src/tools/include" "${makeargs[@]}" >/dev/null || die "building tools/include failed"
for d in "${subdirs[@]}"; do
	if ! make -C "$src/tools" "${makeargs[@]}" "subdir-all-$d" >/dev/null; then
		die "building tools/$d for $arch in $src failed"
	fi
done

# Install into a fresh root; tests into their own folder.
root=$out/root
rm -rf "$root"
mkdir -p "$root"
for d in "${subdirs[@]}"; do
	make -C "$src/tools" "${makeargs[@]}" "subdir-install-$d" DESTDIR="$root" >/dev/null ||
		die "installing tools/$d failed"
done
make -C "$src/tools/tests" "${makeargs[@]}" install DESTDIR="$root" LIBEXEC_BIN=/usr/lib/xen/tests >/dev/null ||
	die "building and installing tools/tests for $arch in $src failed"
# What a dom0 initramfs does not need: headers, static libraries, pkg-config.
rm -rf "$root/usr/include" "$root/usr/lib/pkgconfig" "$root/etc/bash_completion.d"
find "$root" -name '*.a' -delete
mkdir -p "$root/var/lib/xen" "$root/var/log/xen" "$root/var/run/xen"

echo "tree / $root" >"$out/tools.list"
"$PYTHON" "$here/mkcpio.py" "$out/tools.list" "$out/tools.tmp"
end=$(date +%s.%N)
"$PYTHON" - "$arch" "$root/usr/lib/xen/tests" "$start" "$end" "${configure_args[@]}" \
	>"$out/tools-info.json.tmp" <<'EOF'
import json, os, sys
arch, tests, start, end = sys.argv[1:5]
json.dump({"arch": arch, "configure": sys.argv[5:],
           "tests": sorted(os.listdir(tests)) if os.path.isdir(tests) else [],
           "seconds": round(float(end) - float(start), 1)}, sys.stdout, indent=2)
sys.stdout.write("\n")
EOF
mv "$out/tools.tmp" "$out/tools"
mv "$out/tools-info.json.tmp" "$out/tools-info.json"
echo "build-tools.sh: $arch: tools $(du -k "$out/tools" | cut -f1) KiB, $("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["tests"]), "tests,", d["seconds"], "s")' "$out/tools-info.json")" >&2

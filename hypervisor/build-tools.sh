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
# subfolders libs xenstore console xl helpers tests), configured small: no
# qemu (traditional or upstream), stubdoms, OCaml, Go, SeaBIOS, ROMBIOS,
# iPXE, OVMF, PV shim, XSM policy, xentop or docs. The build is in-tree
# (SRCDIR/tools), so a second run on the same SRCDIR is incremental;
# configure runs again only when its arguments or tools/configure change.
# The arm64 cross-build is not done yet (it needs a sysroot of Debian's arm64
# -dev packages): ARCH arm64 fails with exit 1 and says so.
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

case $arch in
x86_64)
	[ "$(uname -m)" = x86_64 ] || die "the x86_64 tools build natively only"
	;;
arm64) die "the arm64 tools cross-build is not supported yet" ;;
*) usage ;;
esac

[ -f "$src/tools/configure" ] || die "$src does not look like a Xen tree (no tools/configure)"
src=$(cd "$src" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in make gcc python3 iasl pkg-config; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

cc=gcc
if [ "${XENCI_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
	export CCACHE_DIR=${CCACHE_DIR:-${XENCI_CACHE:-$HOME/.cache/xenci}/ccache}
	if mkdir -p "$CCACHE_DIR" 2>/dev/null && [ -w "$CCACHE_DIR" ]; then
		cc="ccache gcc"
	else
		echo "build-tools.sh: $CCACHE_DIR is not writable; building without ccache" >&2
	fi
fi

configure_args=(
	--prefix=/usr
	--disable-monitors --disable-ocamltools --disable-golang
	--disable-xsmpolicy --disable-seabios --disable-rombios --disable-ipxe
	--disable-ovmf --disable-qemu-traditional --disable-pvshim
	--disable-werror
	--with-system-qemu=/usr/bin/qemu-system-i386
	--with-xenstored=xenstored
)

rm -f "$out/tools" "$out/tools-info.json"
start=$(date +%s.%N)

# Configure once per argument set (and tools/configure): a stamp holds both.
stamp=$src/tools/.xenci-configured
want="$(printf '%s\n' "${configure_args[@]}")
$(sha256sum "$src/tools/configure" | cut -d' ' -f1)"
if [ ! -f "$src/config/Tools.mk" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	rm -f "$stamp"
	(cd "$src/tools" && CC="$cc" ./configure "${configure_args[@]}") >"$out/configure.log" 2>&1 ||
		{ tail -20 "$out/configure.log" >&2; die "configuring the tools failed"; }
	printf '%s\n' "$want" >"$stamp"
fi

makeargs=(-j"$jobs" CC="$cc" HOSTCC="$cc")
subdirs=(libs xenstore console xl helpers tests)
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
for d in libs xenstore console xl helpers; do
	make -C "$src/tools" "subdir-install-$d" DESTDIR="$root" >/dev/null ||
		die "installing tools/$d failed"
done
make -C "$src/tools/tests" install DESTDIR="$root" LIBEXEC_BIN=/usr/lib/xen/tests >/dev/null ||
	die "installing tools/tests failed"
# What a dom0 initramfs does not need: headers, static libraries, pkg-config.
rm -rf "$root/usr/include" "$root/usr/lib/pkgconfig" "$root/etc/bash_completion.d"
find "$root" -name '*.a' -delete
mkdir -p "$root/var/lib/xen" "$root/var/log/xen" "$root/var/run/xen"

echo "tree / $root" >"$out/tools.list"
python3 "$here/mkcpio.py" "$out/tools.list" "$out/tools.tmp"
end=$(date +%s.%N)
python3 - "$arch" "$root/usr/lib/xen/tests" "$start" "$end" "${configure_args[@]}" \
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
echo "build-tools.sh: $arch: tools $(du -k "$out/tools" | cut -f1) KiB, $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["tests"]), "tests,", d["seconds"], "s")' "$out/tools-info.json")" >&2

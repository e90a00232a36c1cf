#!/bin/bash
# build.sh ARCH SRCDIR OUTDIR [OBJDIR] — build the Xen hypervisor (only
# `make -C xen`) of the checked-out tree SRCDIR for ARCH (x86_64 | arm64) and
# write to OUTDIR:
#   xen              the image to netboot: x86_64 the unpacked multiboot ELF,
#                    arm64 the Image-format binary that U-Boot `booti`s
#   xen.config       the .config it was built with
#   build-info.json  {"arch", "xen_version", "changeset", "changeset_arg",
#                    "seconds"}; changeset_arg is changeset percent-encoded
#                    (spaces as %20) for xenci.changeset= on dom0's command
#                    line; version and changeset are the strings the
#                    running Xen reports
#                    (/sys/hypervisor/version/*, /sys/hypervisor/properties/
#                    changeset, `xl info`, "(XEN) Latest ChangeSet:")
#
# Without OBJDIR the build is in-tree (SRCDIR/xen), so a second run on the same
# SRCDIR is incremental; keep one SRCDIR per arch, since switching arch in one
# tree rebuilds everything. With OBJDIR it is out of tree (`make O=OBJDIR`):
# one clean SRCDIR then serves both arches, each incremental in its own OBJDIR
# (Xen refuses O= while SRCDIR/xen holds an in-tree build: `make distclean`).
# The configuration is the arch's defconfig plus config/ARCH.config; it is
# regenerated when what it is made of changed (the build folder's .xenci-config
# keeps the key) and keeps its mtime when unchanged. Only the image is made
# (`make xen`: no xen.gz).
# Build date, user and host are fixed (from the commit), so compile.h only
# changes, and Xen only relinks, when the source or its changeset does.
#
# The changeset is Xen's own xen/tools/scmversion: "<author date> git:<short
# hash>" (plus "-dirty" for uncommitted changes) when SRCDIR/.git is a
# directory, the content of SRCDIR/.scmversion if that file exists, else
# "unavailable". A tree checked out without .git must write .scmversion.
#
# Environment: XENCI_CACHE (ccache lives in $XENCI_CACHE/ccache unless
# CCACHE_DIR is set), XENCI_CCACHE=0 to build without ccache, JOBS (default 2).
# Exit status: 0 on success, 1 on a failed build (make's errors on stderr),
# 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hypervisor/recipe-lib.sh
. "$here/recipe-lib.sh"

die() { echo "build.sh: $*" >&2; exit 1; }
usage() { echo "usage: build.sh x86_64|arm64 SRCDIR OUTDIR [OBJDIR]" >&2; exit 2; }

[ $# -eq 3 ] || [ $# -eq 4 ] || usage
arch=$1
src=$2
out=$3
obj=${4:-}
jobs=${JOBS:-2}

case $arch in
x86_64)
	target_arch=x86_64
	cross=
	[ "$(uname -m)" = x86_64 ] || cross=x86_64-linux-gnu-
	;;
arm64)
	target_arch=arm64
	cross=
	[ "$(uname -m)" = aarch64 ] || cross=aarch64-linux-gnu-
	;;
*) usage ;;
esac

fragment=$here/config/$arch.config
[ -f "$fragment" ] || die "missing config fragment $fragment"
[ -f "$src/xen/Makefile" ] || die "$src does not look like a Xen tree (no xen/Makefile)"
src=$(cd "$src" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "$obj" ]; then
	mkdir -p "$obj"
	obj=$(cd "$obj" && pwd)
	bdir=$obj
else
	bdir=$src/xen
fi
for tool in make "${cross}gcc" "${cross}ld" python3 bison flex; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# ccache, unless disabled or its directory is not writable (e.g. a sandbox).
recipe_ccache build.sh "$cross" "$(recipe_common_dir "$src" "$obj")"
# Python called directly (Xen's PYTHON), not through a version manager's shim.
recipe_python build.sh

# Fixed build stamps: the commit's date when SRCDIR is a git tree.
stamp=
if [ -d "$src/.git" ]; then
	stamp=$(git -C "$src" log -1 --format=%ct 2>/dev/null || true)
fi
stamp=${stamp:-0}

makeargs=(
	-C "$src/xen"
	"-j$jobs"
	XEN_TARGET_ARCH="$target_arch"
	CROSS_COMPILE="$cross"
	CC="$cc"
	HOSTCC="$hostcc"
	XEN_BUILD_DATE="$(LC_ALL=C date -u -d "@$stamp")"
	XEN_BUILD_TIME="$(LC_ALL=C date -u -d "@$stamp" +%T)"
	XEN_BUILD_HOST=xenci
	XEN_WHOAMI=xenci
	XEN_DOMAIN=xenci
)
[ -z "$obj" ] || makeargs+=(O="$obj")

# No stale artifacts: a failed build leaves OUTDIR without them.
rm -f "$out/xen" "$out/xen.config" "$out/build-info.json"

start=$(date +%s.%N)

# Configuration: defconfig, then the fragment, then olddefconfig to resolve
# dependencies. Keep the old mtime when nothing changed, so an incremental
# build stays incremental.
# What the configuration is made of: the fragment, every Kconfig and defconfig
# file of the tree, Kconfig's own programs (xen/tools/kconfig) and the scripts
# and makefiles its probes run (xen/scripts, xen/Makefile, Config.mk), the
# toolchain those probe (compiler, assembler and linker, their versions), the
# arch and this script. When the key and the .config are those the last run left
# (.xenci-config), configuring again would give the same file: it is skipped
# (0.65 s of a one-file build's 5 s). Xen's own make still runs syncconfig when
# what auto.conf was made with changes (include/config/auto.conf.cmd), and a
# .config that changes then is configured again by the next run.
config=$bdir/.config
stamp_file=$bdir/.xenci-config
config_key=$(
	{
		cat "$fragment" "${BASH_SOURCE[0]}"
		(cd "$src/xen" && find . \( -name 'Kconfig*' -o -name '*defconfig' \) -type f -print0 |
			LC_ALL=C sort -z | xargs -0 sha256sum)
		(cd "$src" && find xen/tools/kconfig xen/scripts xen/Makefile Config.mk -type f \
			-print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum)
		echo "$target_arch $cross $cc $hostcc"
		$cc --version
		"${cross}as" --version
		"${cross}ld" --version
	} 2>&1 | sha256sum | cut -d' ' -f1
)
if [ -f "$config" ] && [ -f "$stamp_file" ] &&
	[ "$(cat "$stamp_file")" = "$config_key $(sha256sum <"$config" | cut -d' ' -f1)" ]; then
	: # configured as the last run was
else
	rm -f "$stamp_file"
	saved=
	if [ -f "$config" ]; then
		saved=$(mktemp)
		cp -p "$config" "$saved"
	fi
	trap '[ -z "$saved" ] || rm -f "$saved"' EXIT
	{
		make "${makeargs[@]}" -s defconfig &&
		(cd "$bdir" && CONFIG_="CONFIG_" \
			sh "$src/xen/tools/kconfig/merge_config.sh" -m .config "$fragment") &&
		make "${makeargs[@]}" -s olddefconfig
	} >/dev/null || die "configuring Xen for $arch failed"
	# Every setting of the fragment must survive olddefconfig.
	recipe_check_fragment build.sh "$fragment" "$config"
	if [ -n "$saved" ] && cmp -s "$saved" "$config"; then
		touch -r "$saved" "$config"
	fi
	echo "$config_key $(sha256sum <"$config" | cut -d' ' -f1)" >"$stamp_file"
fi

# x86_64: no xen.efi. Xen links it beside the multiboot image whenever the linker
# can write PE (arch/x86/Makefile's efi-y, which a command-line variable
# overrides), and nothing here boots it: the boards netboot `xen` (iPXE's
# multiboot2, docs/boards.md). Its two PE link passes were 5 of the 13 s of a
# one-file build. EFI support in `xen` itself (XEN_BUILD_EFI) is unchanged.
# The target is `xen` itself, not the default `build`: on x86 that also writes
# xen.gz (`gzip -9` of the image, 0.2 s), which nothing here boots or keeps.
build_args=("${makeargs[@]}")
[ "$arch" != x86_64 ] || build_args+=("efi-y=")
build_args+=(xen)
if ! make "${build_args[@]}"; then
	echo "build.sh: building Xen for $arch in $src failed" >&2
	exit 1
fi

end=$(date +%s.%N)

# What the binary reports, read back from the header it was built with.
compile_h=$bdir/include/xen/compile.h
[ -f "$compile_h" ] || die "$compile_h missing after the build"
cp "$bdir/xen" "$out/xen.tmp"
mv "$out/xen.tmp" "$out/xen"
cp "$config" "$out/xen.config"
"$PYTHON" - "$compile_h" "$arch" "$start" "$end" >"$out/build-info.json.tmp" <<'EOF'
import json, re, sys, urllib.parse
path, arch, start, end = sys.argv[1:]
defs = {}
with open(path) as f:
    for line in f:
        m = re.match(r'#define\s+(XEN_\w+)\s+(.*)$', line.rstrip('\n'))
        if m:
            defs[m.group(1)] = m.group(2).strip()
def string(name):
    v = defs[name]
    if not (v.startswith('"') and v.endswith('"')):
        sys.exit("build.sh: %s in %s is not a string: %s" % (name, path, v))
    return v[1:-1]
version = "%s.%s%s" % (defs["XEN_VERSION"], defs["XEN_SUBVERSION"],
                       string("XEN_EXTRAVERSION"))
info = {
    "arch": arch,
    "xen_version": version,
    "changeset": string("XEN_CHANGESET"),
    # the same as one kernel command-line word (dom0-init.sh decodes %XX)
    "changeset_arg": urllib.parse.quote(string("XEN_CHANGESET"), safe=":+-._~/"),
    "seconds": round(float(end) - float(start), 1),
}
json.dump(info, sys.stdout, indent=2)
sys.stdout.write("\n")
EOF
mv "$out/build-info.json.tmp" "$out/build-info.json"
echo "build.sh: $arch: Xen $("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["xen_version"], "|", d["changeset"], "|", d["seconds"], "s")' "$out/build-info.json")" >&2

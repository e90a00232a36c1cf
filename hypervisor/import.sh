#!/bin/bash
# import.sh [xen|linux] [DEST] — import Xen 4.17 (default) or Linux 6.1 from
# Debian's source package into a git repository (default: hypervisor/xen or
# hypervisor/linux) whose first commit is the pristine upstream source
# (Debian's orig tarball, without Debian's patches).
#
# The source package is downloaded once into ${XENCI_CACHE:-~/.cache/xenci}/src
# (`apt-get source --download-only PACKAGE`); later runs are offline. When DEST is
# already a git repository, nothing is done. The commit is reproducible: fixed
# author/committer, dates taken from the newest file in the tarball.
#
# Environment:
#   XENCI_CACHE           cache root (default ~/.cache/xenci)
#   XENCI_DEBIAN_MIRROR   mirror for the deb-src entry added when apt has none
#                         (default http://deb.debian.org)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=xen
case ${1:-} in
xen | linux)
	package=$1
	shift
	;;
esac
dest=${1:-$here/$package}
cache=${XENCI_CACHE:-$HOME/.cache/xenci}/src
mirror=${XENCI_DEBIAN_MIRROR:-http://deb.debian.org}
# As root, apt cannot hand the download to its _apt sandbox user in a folder
# of ours and warns; say so up front instead.
apt_root=()
[ "$(id -u)" -ne 0 ] || apt_root=(-o APT::Sandbox::User=root)
srcfile=/etc/apt/sources.list.d/xenci-deb-src.sources

die() { echo "import.sh: $*" >&2; exit 1; }
log() { echo "import.sh: $*" >&2; }

if [ -e "$dest/.git" ]; then
	log "$dest is already a git repository; nothing to do"
	exit 0
fi
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	die "$dest exists, is not empty and is not a git repository; move it away"
fi

for tool in git tar xz apt-get; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# The newest .dsc in the cache, if any.
find_dsc() {
	[ -d "$cache" ] || return 0
	find "$cache" -maxdepth 1 -name "${package}_*.dsc" -print 2>/dev/null |
		sort -V | tail -n 1
}

ensure_deb_src() {
	# shellcheck disable=SC2016 # $(TARGET_OF) is apt's field, not the shell's
	if apt-get indextargets --format '$(TARGET_OF)' | grep -qx deb-src; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] ||
		die "apt has no deb-src entry; run as root once (or add deb-src for bookworm yourself)"
	log "adding deb-src for bookworm in $srcfile"
	cat >"$srcfile" <<EOF
# Added by xenci hypervisor/import.sh: Xen's and Linux's source packages.
Types: deb-src
URIs: $mirror/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $mirror/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update -qq || die "apt-get update failed"
}

dsc=$(find_dsc)
if [ -z "$dsc" ]; then
	ensure_deb_src
	if ! apt-cache showsrc "$package" >/dev/null 2>&1 ||
		[ -z "$(apt-cache showsrc "$package" 2>/dev/null)" ]; then
		log "no source index for $package yet; running apt-get update"
		apt-get update -qq || die "apt-get update failed"
	fi
	mkdir -p "$cache"
	log "downloading $package's source package into $cache"
	# apt's candidate first; when the archive no longer serves it (seen: a
	# security version whose pool files 404), the other versions apt knows.
	got=
	for spec in $(apt-cache showsrc "$package" | awk '/^Version:/ {print $2}' | sort -V -r -u |
		sed "s/^/$package=/"); do
		if (cd "$cache" && apt-get source -qq "${apt_root[@]}" --download-only "$spec"); then
			got=$spec
			break
		fi
		# Drop what this attempt left (a .dsc without its tarball would
		# otherwise be taken for a finished download next time).
		v=${spec#"$package"=}
		v=${v#*:}
		rm -f "$cache/${package}_${v%-*}"*
		log "could not download $spec; trying an older version"
	done
	[ -n "$got" ] || die "apt-get source --download-only $package failed for every version"
	dsc=$(find_dsc)
	[ -n "$dsc" ] || die "no ${package}_*.dsc in $cache after download"
fi

# The orig tarball named in the .dsc's Files section (PACKAGE_V.orig.tar.xz).
orig=$(awk '/^Files:/ {f=1; next} /^[^ ]/ {f=0} f && $3 ~ /\.orig\.tar\./ {print $3}' "$dsc" | head -n 1)
[ -n "$orig" ] || die "cannot find an orig tarball in $dsc"
[ -f "$cache/$orig" ] || die "$cache/$orig is missing; delete $dsc and re-run"
want=$(awk '/^Checksums-Sha256:/ {f=1; next} /^[^ ]/ {f=0} f && $3 == "'"$orig"'" {print $1}' "$dsc")
have=$(sha256sum "$cache/$orig" | cut -d' ' -f1)
[ -z "$want" ] || [ "$want" = "$have" ] || die "$orig: sha256 mismatch with $dsc"
upstream=${orig#"${package}"_}
upstream=${upstream%.orig.tar.*}

stage=$(mktemp -d "${TMPDIR:-/tmp}/xenci-import.XXXXXX")
trap 'rm -rf "$stage"' EXIT
log "unpacking $orig"
tar -xf "$cache/$orig" -C "$stage"
top=$(find "$stage" -mindepth 1 -maxdepth 1)
if [ "$(printf '%s\n' "$top" | wc -l)" -ne 1 ] || [ ! -d "$top" ]; then
	die "$orig does not have a single top-level directory"
fi
case $package in
xen) [ -f "$top/xen/Makefile" ] || die "$orig does not look like Xen (no xen/Makefile)" ;;
linux) [ -f "$top/arch/x86/xen/Makefile" ] || die "$orig does not look like Linux (no arch/x86/xen)" ;;
esac
name=Xen
[ "$package" = xen ] || name=Linux

# A fixed date: the newest mtime in the tarball, so re-imports give one hash.
epoch=$(find "$top" -type f -printf '%T@\n' | sort -n | tail -n 1)
epoch=${epoch%.*}

mkdir -p "$(dirname "$dest")"
mv "$top" "$dest.tmp.$$"
trap 'rm -rf "$stage" "$dest.tmp.$$"' EXIT
cd "$dest.tmp.$$"
git init -q -b main
git config user.name "xenci import"
git config user.email "xenci-import@localhost"
# -f: the pristine commit holds every file of the tarball, including any that
# the tree's own .gitignore would hide.
git add -A -f .
export GIT_AUTHOR_DATE="@$epoch +0000" GIT_COMMITTER_DATE="@$epoch +0000"
git commit -q --no-gpg-sign -m "Import $name $upstream (pristine upstream source)

From Debian's source package: $(basename "$dsc"), $orig
sha256 $have" ||
	die "git commit failed"
cd - >/dev/null
mv "$dest.tmp.$$" "$dest"
log "imported $name $upstream into $dest as $(git -C "$dest" rev-parse --short=12 HEAD)"

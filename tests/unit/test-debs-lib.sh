#!/usr/bin/env bash
# shellcheck disable=SC2016 # the stub's text is written as it is
# hypervisor/debs-lib.sh's resolution, against an apt-cache stub that answers
# `policy` as apt does (and counts its calls), with the .debs already cached
# (nothing is downloaded):
#   - debs_candidates: "PKG VERSION" for each package, an ":ARCH" after a name
#     left out, "(none)" kept, a package apt does not know absent
#   - debs_download PKG...: the cached .deb of each, a line each in the order
#     asked, an epoch's ':' as apt names the file (%3a), from one apt-cache call
#   - debs_download of a package apt does not know, or with no candidate: exit
#     1 naming it; apt-cache failing (a locked cache): exit 1 with its error
#   - the host's own architecture (another one would fetch its lists)
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/harness/is.sh
. "$root/tests/harness/is.sh"


mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-cache" <<'EOF'
#!/bin/sh
echo call >>"$STUB_CALLS"
while [ $# -gt 0 ] && [ "$1" = -o ]; do shift 2; done
[ "$1" = policy ] || exit 100
if [ -n "${STUB_FAIL:-}" ]; then
	echo "E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)" >&2
	exit 100
fi
shift
for p in "$@"; do
	case $p in
	zlib1g) printf 'zlib1g:\n  Installed: 1:1.2.13.dfsg-1\n  Candidate: 1:1.2.13.dfsg-1+deb12u1\n  Version table:\n     1:1.2.13.dfsg-1+deb12u1 500\n' ;;
	libc6) printf 'libc6:amd64:\n  Installed: (none)\n  Candidate: 2.36-9+deb12u14\n  Version table:\n' ;;
	gone) printf 'gone:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n' ;;
	*) echo "N: Unable to locate package $p" >&2 ;;
	esac
done
EOF
chmod +x "$tmp/bin/apt-cache"
export PATH="$tmp/bin:$PATH" STUB_CALLS="$tmp/calls" XENCI_CACHE="$tmp/cache"

# the host's own architecture (a foreign one would fetch its lists)
case $(dpkg --print-architecture) in
amd64) arch=x86_64 debarch=amd64 ;;
arm64) arch=arm64 debarch=arm64 ;;
*) echo "0 passed, 0 failed (a host neither amd64 nor arm64)"; exit 0 ;;
esac
run() { # ARGS... of a bash running debs-lib.sh's FUNCTION ARGS
	bash -c 'set -euo pipefail; . "$0"; debs_init test "$ARCH"; "$@"' \
		"$root/hypervisor/debs-lib.sh" "$@"
}
export ARCH=$arch

is "candidates" "$(run debs_candidates zlib1g libc6 gone nosuch 2>/dev/null)" \
	"$(printf 'zlib1g 1:1.2.13.dfsg-1+deb12u1\nlibc6 2.36-9+deb12u14\ngone (none)')"

debs=$tmp/cache/debs/$arch
mkdir -p "$debs"
touch "$debs/zlib1g_1%3a1.2.13.dfsg-1+deb12u1_$debarch.deb" "$debs/libc6_2.36-9+deb12u14_$debarch.deb"
: >"$tmp/calls"
is "downloads in order" "$(run debs_download libc6 zlib1g)" \
	"$(printf '%s\n' "$debs/libc6_2.36-9+deb12u14_$debarch.deb" "$debs/zlib1g_1%3a1.2.13.dfsg-1+deb12u1_$debarch.deb")"
is "one apt-cache call" "$(wc -l <"$tmp/calls")" 1

out=$(run debs_download zlib1g nosuch libc6 2>&1)
is "unknown package: status" "$?" 1
is "unknown package: named" "$(printf '%s\n' "$out" | tail -n 1)" "test: apt knows no package nosuch for $debarch"
out=$(run debs_download gone 2>&1)
is "no candidate: status" "$?" 1
is "no candidate: named" "$out" "test: apt knows no package gone for $debarch"

out=$(STUB_FAIL=1 run debs_download zlib1g 2>&1)
is "apt-cache failing: status" "$?" 1
is "apt-cache failing: its error, not an unknown package" "$out" \
	"test: apt-cache policy failed for $debarch (100):
E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)"

is_end

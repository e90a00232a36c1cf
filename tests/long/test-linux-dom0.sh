#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# A dom0 kernel built from Linux's source boots under Xen (long: a clean
# x86_64 build of hypervisor/linux takes 4-5 min on an idle 2-core machine,
# about an hour under a load of 20; later runs are incremental).
#   1. `make linux` imports Linux from Debian's source package (offline once
#      cached); a second run changes nothing
#   2. hypervisor/build-linux.sh x86_64 (tinyconfig + config/linux-x86_64.config,
#      out of tree in $LINUX_OUT/x86_64/obj) makes an ELF dom0-kernel with Xen's
#      notes and a build-info.json naming it; a rebuild gives the same bytes
#   3. Xen (hypervisor/build.sh, or $XENCI_LONG_XEN: a built xen beside its
#      build-info.json) netboots on the QEMU x86_64 board with that kernel as
#      dom0 and Debian's initramfs (hypervisor/boot-test.sh, as the agent
#      stages it): the console shows our Linux and the 5 dom0 tests pass
# Environment: LINUX_OUT (default build/linux), XENCI_LONG_XEN. Prints
# "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
out=${LINUX_OUT:-build/linux}
# shellcheck source=tests/harness/is.sh
. tests/harness/is.sh

finish() {
	is_end
	exit
}

# 1. the import
is_run "make linux imports Linux" make --no-print-directory linux
is_run "a second make linux changes nothing" \
	bash -c 'make --no-print-directory linux 2>&1 | grep -q "already a git repository"'
[ -d hypervisor/linux/.git ] || finish

# 2. the recipe
t0=$SECONDS
is_run "build-linux.sh x86_64 builds" nice -n 10 hypervisor/build-linux.sh x86_64 \
	hypervisor/linux "$out/x86_64" "$out/x86_64/obj"
echo "# build-linux.sh x86_64: $((SECONDS - t0)) s"
[ -f "$out/x86_64/dom0-kernel" ] || finish
is_run "build-info.json names dom0-kernel and a 6.1 kernel" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["artifacts"] == ["dom0-kernel"] and d["linux_version"].startswith("6.1")))' \
	"$out/x86_64/build-info.json"
is_run "dom0-kernel is an ELF with Xen's notes" \
	bash -c 'readelf -n "$0" | grep -q "Xen"' "$out/x86_64/dom0-kernel"
sum1=$(sha256sum <"$out/x86_64/dom0-kernel")
t0=$SECONDS
nice -n 10 hypervisor/build-linux.sh x86_64 hypervisor/linux "$out/x86_64" "$out/x86_64/obj" 2>/dev/null
echo "# build-linux.sh x86_64, nothing changed: $((SECONDS - t0)) s"
is_run "a rebuild gives the same bytes" test "$sum1" = "$(sha256sum <"$out/x86_64/dom0-kernel")"

# 3. the boot
xen=${XENCI_LONG_XEN:-}
if [ -z "$xen" ]; then
	make --no-print-directory hypervisor-build-x86_64 >/dev/null || finish
	xen=build/hypervisor/x86_64/xen
fi
pl=$(mktemp -d "${TMPDIR:-/tmp}/xenci-linux-dom0.XXXXXX")
trap 'rm -rf "$pl"' EXIT
hypervisor/payloads.sh x86_64 "$pl/debian" >/dev/null 2>&1 || finish
mkdir -p "$pl/linux"
cp "$pl/debian/dom0-initrd" "$pl/linux/"
cp "$out/x86_64/dom0-kernel" "$pl/linux/dom0-kernel"
release=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["linux_version"])' \
	"$out/x86_64/build-info.json")
nice -n 10 hypervisor/boot-test.sh -v --xen "$xen" --payloads "$pl/linux" --timeout 400 \
	--linger 3 x86_64 >"$pl/console.log" 2>&1
tail -n 1 "$pl/console.log" | sed 's/^/# /'
is_run "dom0 is our Linux ($release, built by xenci@xenci)" \
	grep -q "Linux version $release (xenci@xenci)" "$pl/console.log"
is_run "the 5 dom0 tests pass under Xen" grep -q "tests 5 ok, 0 not ok" "$pl/console.log"
finish

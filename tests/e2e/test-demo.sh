#!/usr/bin/env bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# make demo, non-interactively: demo/run.sh with DEMO_EXIT_AFTER_FLIGHT=1 on a free
# port, a scratch folder and a scratch clone of hypervisor/xen (the demo's push gate
# writes a ref). Checks that the flight passed on both boards, that the page answered,
# and that the demo left no process behind.
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/xenci-demo.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/harness/is.sh
. "$root/tests/harness/is.sh"

if [[ ! -d $root/hypervisor/xen/.git ]]; then
	make -C "$root" --no-print-directory hypervisor >"$T/import.log" 2>&1 || {
		tail "$T/import.log"
		echo "0 passed, 1 failed"
		exit 1
	}
fi
git clone -q "$root/hypervisor/xen" "$T/xen"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

DEMO_PORT=$port DEMO_DIR=$T/demo DEMO_TREE=$T/xen DEMO_EXIT_AFTER_FLIGHT=1 \
	timeout 900 "$root/demo/run.sh" >"$T/demo.out" 2>&1
rc=$?
sed 's/^/  demo| /' "$T/demo.out" | tail -n 30
is_run "the demo exits 0 after its flight (every board passed, the page answered)" test "$rc" = 0
is_run "qemu-x86_64 passed" grep -Eq 'qemu-x86_64 +xen-smoke +pass +5 +0' "$T/demo.out"
is_run "qemu-arm64 passed" grep -Eq 'qemu-arm64 +xen-smoke +pass +5 +0' "$T/demo.out"
is_run "the demo printed the page's URL" grep -q "http://127.0.0.1:$port/" "$T/demo.out"
# a fresh demo follows the watcher's push flight (it read a list shape that was not the
# CLI's and so always made a second flight of every job)
is_run "the demo follows the watcher's flight 1" grep -q "flight 1 for " "$T/demo.out"
is_run "nothing answers on the demo's port any more" \
	bash -c '! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$0/"' "$port"
no_qemu_left() { ! pgrep -f "[q]emu-system.*$T/demo" >/dev/null; }
is_run "no QEMU of the demo is left" no_qemu_left

# The regression recipe the demo printed, run as printed (it once wrote a newline into
# the panic()'s string, so the commit did not build and nothing was bisected): it must
# make five commits, the fourth adding one early panic() line on each arch.
recipe=$(sed -n '/for i in 1 2 3/,/"demo 4")/p' "$T/demo.out")
before=$(git -C "$T/xen" rev-parse HEAD)
bash -c "$recipe" >"$T/recipe.out" 2>&1
is_run "the printed regression recipe runs" test "$(git -C "$T/xen" rev-list --count "$before..HEAD")" = 5
panic_line='+    panic("demo regression\n");'
recipe_adds() { # arch
	[[ $(git -C "$T/xen" show HEAD~1 -- "xen/arch/$1/setup.c" | grep -c '^+[^+]') == 1 ]] &&
		git -C "$T/xen" show HEAD~1 -- "xen/arch/$1/setup.c" | grep -qxF "$panic_line"
}
is_run "the recipe's culprit adds one panic() line on x86" recipe_adds x86
is_run "the recipe's culprit adds one panic() line on arm" recipe_adds arm
if ((is_fail)); then
	for f in "$T"/demo/controller.log "$T"/demo/agent.log; do
		[[ -f $f ]] && tail -n 20 "$f" | sed "s#^#  $(basename "$f")| #"
	done
fi
is_end

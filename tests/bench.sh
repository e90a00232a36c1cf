#!/usr/bin/env bash
# tests/bench.sh BUILD — runs every benchmark: the programs BUILD/tests/bench/bench-*
# and the scripts tests/bench/bench-*.sh. They print figures (medians, percentiles,
# ratios); nothing here passes or fails on a number. BENCH=NAME runs one.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
export XENCI_BUILD=$build XENCI_ROOT=$root
status=0
for b in "$build"/tests/bench/bench-* "$root"/tests/bench/bench-*.sh; do
	[[ -x $b && ! -d $b ]] || continue
	name=$(basename "$b")
	[[ -n ${BENCH:-} && $name != "${BENCH}"* ]] && continue
	echo "=== $name"
	"$b" </dev/null || { echo "=== $name exited $?"; status=1; }
done
exit $status

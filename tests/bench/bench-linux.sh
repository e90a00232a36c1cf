#!/bin/bash
# Linux as an external tree (issue 17): figures only, never pass/fail on a number.
#
#   builds   hypervisor/build-linux.sh (the agent's recipe) in a kept in-tree work
#            tree per arch, ${XENCI_CACHE:-~/.cache/xenci}/bench-linux/ARCH (a clone of
#            hypervisor/linux, in tree as the agent builds, so the compiler cache is
#            the agent's): nothing changed, and one edited .c (drivers/xen/features.c,
#            built on both arches), BENCH_LINUX_RUNS (3) times each, medians.
#            Without a work tree the arch is skipped, saying so: its first build is
#            a clean one (4-5 min on two idle cores, an hour on arm64 under a load
#            of 20-29). BENCH_LINUX_CLEAN=1 makes the work tree and times that clean
#            build (and, when the work tree is there already, `make clean` first).
#   flight   tests/long/test-linux-flight.sh (the real controller and agent, both
#            QEMU boards, Xen pinned at its tested ref), which prints its figures:
#            a one-file Linux commit to both boards' verdicts, and the bisection of
#            16 Linux commits per board class in wall time and boots.
#            BENCH_LINUX_FLIGHT=0 skips it (it takes 30-60 min on a loaded machine).
# BENCH_LINUX_PART=builds|flight runs one part; BENCH_LINUX_ARCHES (x86_64 arm64).
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
runs=${BENCH_LINUX_RUNS:-3}
part=${BENCH_LINUX_PART:-all}
keep=${XENCI_CACHE:-$HOME/.cache/xenci}/bench-linux
median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# secs ARCH: one build-linux.sh run in the kept work tree; prints its wall seconds
# (and the CPU, user + system, of it and its children) as "WALL CPU", or fails.
secs() {
	local arch=$1 TIMEFORMAT='%R %U %S' t
	t=$({ time hypervisor/build-linux.sh "$arch" "$keep/$arch" "$keep/out-$arch" >"$keep/$arch.log" 2>&1; } 2>&1) || {
		echo "# build-linux.sh $arch failed:" >&2
		tail -n 5 "$keep/$arch.log" | sed 's/^/#   /' >&2
		return 1
	}
	awk '{printf "%.1f %.1f\n", $1, $2 + $3}' <<<"$t"
}

bench_builds() {
	local arch w i edits=() nothing=() l
	if [[ ! -d hypervisor/linux/.git ]]; then
		echo "builds: skipped: hypervisor/linux is not imported (make linux)"
		return 0
	fi
	mkdir -p "$keep"
	for arch in ${BENCH_LINUX_ARCHES:-x86_64 arm64}; do
		if [[ ! -d $keep/$arch/.git ]]; then
			if [[ ${BENCH_LINUX_CLEAN:-0} != 1 ]]; then
				echo "builds $arch: skipped: no work tree in $keep/$arch; BENCH_LINUX_CLEAN=1 makes one (a clean build: 4-5 min on two idle cores, up to an hour on arm64 under load)"
				continue
			fi
			git clone -q hypervisor/linux "$keep/$arch" || { echo "builds $arch: skipped: git clone failed"; continue; }
		elif [[ ${BENCH_LINUX_CLEAN:-0} == 1 ]]; then
			make -s -C "$keep/$arch" ARCH="${arch/x86_64/x86}" clean >/dev/null 2>&1
		fi
		git -C "$keep/$arch" checkout -q -- drivers/xen/features.c
		if [[ ${BENCH_LINUX_CLEAN:-0} == 1 ]]; then
			l=$(load)
			w=$(secs "$arch") || continue
			echo "builds $arch: clean (ccache as found in ${CCACHE_DIR:-${XENCI_CACHE:-$HOME/.cache/xenci}/ccache}): ${w% *} s wall, ${w#* } s CPU (load $l)"
		else
			secs "$arch" >/dev/null || continue # whatever changed since the last run
		fi
		edits=()
		nothing=()
		l=$(load)
		for i in $(seq "$runs"); do
			w=$(secs "$arch") || break
			nothing+=("${w% *}")
			echo "/* xenci bench-linux edit $i $(date +%s%N) */" >>"$keep/$arch/drivers/xen/features.c"
			w=$(secs "$arch") || break
			edits+=("${w% *}")
		done
		git -C "$keep/$arch" checkout -q -- drivers/xen/features.c
		echo "builds $arch: nothing changed median $(printf '%s\n' "${nothing[@]}" | median) s (${nothing[*]}), one edited .c median $(printf '%s\n' "${edits[@]}" | median) s (${edits[*]}); load $l before, $(load) after"
	done
}

bench_flight() {
	local out
	if [[ ${BENCH_LINUX_FLIGHT:-1} == 0 ]]; then
		echo "flight: skipped (BENCH_LINUX_FLIGHT=0)"
		return 0
	fi
	out=$(XENCI_LINUX_COMMITS=16 tests/long/test-linux-flight.sh 2>&1)
	grep '^# figure' <<<"$out" | sed 's/^# figure /flight: /'
	grep -q '^# figure' <<<"$out" ||
		{ echo "flight: no figure (the run failed early):"; tail -n 15 <<<"$out" | sed 's/^/#   /'; }
}

case $part in
builds) bench_builds ;;
flight) bench_flight ;;
*)
	bench_builds
	bench_flight
	;;
esac
exit 0

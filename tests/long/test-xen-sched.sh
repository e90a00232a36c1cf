#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-sched end to end (long: nine boots with guests under TCG, 1-2 hours on
# a loaded 2-core machine). A real controller watching a scratch clone of
# hypervisor/xen with jobs/xen-sched.yaml only (its variants credit, credit2,
# rtds, null, and gran-core, which requires a board tagged smt), one real
# agent that builds Xen and the tools and runs the qemu-x86_64 board and
# qemu-x86_64-smt (one core of two threads).
#   1. HEAD: every variant passes on each board it runs on, its results named
#      xen-sched/VARIANT, and the console shows the scheduler Xen was booted
#      with; gran-core runs on qemu-x86_64-smt only, where Xen schedules
#      cores of 2 CPUs ("scheduling granularity is core" passes)
#   2. a commit panicking in the RTDS scheduler's init: xen-sched/rtds fails
#      (the panic in its console) and the three other variants still pass
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

variants=(credit credit2 rtds null)
# attempt_job FLIGHT JOB [BOARD]: the last test attempt of JOB in FLIGHT (on
# BOARD, qemu-x86_64 unless given)
attempt_job() {
	api "flights/$1" | jq -c --arg j "$2" --arg b "${3:-qemu-x86_64}" \
		'[.attempts[] | select(.kind == "test" and .job == $j and .board == $b)] | last'
}

# the toolstack's build in a fresh clone (lib-e2e.sh)
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-sched XENCI_E2E_BOARDS="qemu-x86_64 qemu-x86_64-smt" e2e_setup

# 1. HEAD: every variant passes
git -C "$T/xen" branch ci "$base"
t0=$SECONDS
f1=$(poke new) || e2e_die "poke of the new branch made no flight"
wait_flight "$f1" 14400 || bad "flight $f1 (HEAD) ended"
echo "# flight $f1 (HEAD ${base:0:7}) took $((SECONDS - t0)) s"
for v in "${variants[@]}"; do
	a=$(attempt_job "$f1" "xen-sched/$v")
	check "HEAD: xen-sched/$v passes ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
	log=$(log_of "$(jq -r .id <<<"$a")")
	check "HEAD: xen-sched/$v booted Xen with sched=$v" grep -q "sched=$v" <<<"$log"
	check "HEAD: xen-sched/$v: xl info names $v" \
		bash -c 'jq -e "[.testcases[] | select(.name == \"xl info names the scheduler\" and .result == \"pass\")] | length == 1" <<<"$0" >/dev/null' "$a"
	a=$(attempt_job "$f1" "xen-sched/$v" qemu-x86_64-smt)
	check "HEAD: xen-sched/$v passes on qemu-x86_64-smt ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
done
a=$(attempt_job "$f1" xen-sched/gran-core qemu-x86_64-smt)
check "HEAD: xen-sched/gran-core passes on qemu-x86_64-smt ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
check "HEAD: xen-sched/gran-core: scheduling granularity is core" case_is "$a" "scheduling granularity is core" pass
check "HEAD: xen-sched/gran-core did not run on qemu-x86_64 (no smt tag)" \
	test "$(attempt_job "$f1" xen-sched/gran-core qemu-x86_64)" = null

# 2. RTDS panics in its init: only xen-sched/rtds fails
# after rt_init's declarations: Xen builds with -Wdeclaration-after-statement
# -Werror, so a statement before them fails the build, not the boot
sed -i '0,/^    printk("Initializing RTDS scheduler\\n"$/s//    panic("xenci: deliberate rtds init panic\\n");\n&/' \
	"$T/xen/xen/common/sched/rt.c"
check "rtds panic: the change applies" grep -q "xenci: deliberate rtds init panic" "$T/xen/xen/common/sched/rt.c"
git -C "$T/xen" checkout -q ci
git -C "$T/xen" commit -qam "xenci long test: panic in rt_init" || e2e_die "rtds commit"
cancel_bisections
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the rtds commit made no flight"
wait_flight "$f2" 14400 || bad "flight $f2 (rtds panic) ended"
echo "# flight $f2 (rtds panic) took $((SECONDS - t0)) s"
for v in "${variants[@]}"; do
	a=$(attempt_job "$f2" "xen-sched/$v")
	want=pass
	[ "$v" = rtds ] && want=fail
	check "rtds panic: xen-sched/$v is $want ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = "$want"
done
a=$(attempt_job "$f2" xen-sched/rtds)
check "rtds panic: its console has the panic" \
	grep -q "xenci: deliberate rtds init panic" <<<"$(log_of "$(jq -r .id <<<"$a")")"
cancel_bisections

finish

#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-sched end to end (long: four boots with guests under TCG, 40-80 min on a
# loaded 2-core machine). A real controller watching a scratch clone of
# hypervisor/xen with jobs/xen-sched.yaml only (its variants credit, credit2,
# rtds, null), one real agent that builds Xen and the tools and runs the
# qemu-x86_64 board.
#   1. HEAD: every variant passes, its results named xen-sched/VARIANT, and
#      the console shows the scheduler Xen was booted with
#   2. a commit panicking in the RTDS scheduler's init: xen-sched/rtds fails
#      (the panic in its console) and the three other variants still pass
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

variants=(credit credit2 rtds null)
# attempt_job FLIGHT JOB: the last test attempt of JOB in FLIGHT
attempt_job() {
	api "flights/$1" | jq -c --arg j "$2" '[.attempts[] | select(.kind == "test" and .job == $j)] | last'
}

# the toolstack's build in a fresh clone (lib-e2e.sh)
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-sched XENCI_E2E_BOARDS=qemu-x86_64 e2e_setup

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
done

# 2. RTDS panics in its init: only xen-sched/rtds fails
sed -i '0,/^    int rc = -ENOMEM;$/s//    int rc = -ENOMEM;\n\n    panic("xenci: deliberate rtds init panic\\n");/' \
	"$T/xen/xen/common/sched/rt.c"
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

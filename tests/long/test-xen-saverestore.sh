#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-saverestore end to end (long: a toolstack build and two boots under TCG
# with guests saved, restored and migrated). A real controller watching a
# scratch clone of hypervisor/xen with jobs/xen-saverestore.yaml only, one
# real agent that builds Xen and the tools and runs the qemu-x86_64 board.
#   1. HEAD: the board passes its 11 test cases: the guest is saved and
#      restored, then migrated to localhost, xenci.rounds times each, its
#      counter going on, and nothing leaks
#   2. a commit refusing global log-dirty mode in the hypervisor (which live
#      migration needs and a plain save does not): the verdict is fail, the
#      failed test case is "migrate to localhost repeatedly", save and restore
#      still pass
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

# the toolstack's build in a fresh clone (lib-e2e.sh)
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-saverestore XENCI_E2E_BOARDS=qemu-x86_64 e2e_setup

# 1. HEAD passes
e2e_head_flight HEAD 10800
a=$(attempt_of "$f1" test qemu-x86_64)
check "HEAD: qemu-x86_64 passes xen-saverestore ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
check "HEAD: 11 passing test cases" \
	test "$(passing "$a")" = 11
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: the counter went on after a migration" grep -Eq "round m[0-9]+: counter [0-9]+ -> [0-9]+" <<<"$log"
grep -E '^[0-9. ]*\| *(ok|not ok) [0-9]+ |round ' <<<"$log" | sed 's/^/#   /'

# 2. global log-dirty mode refused: migration fails, save/restore passes
sed -i '0,/^    if ( has_arch_pdevs(d) && log_global )$/s//    if ( log_global ) \/* xenci: global log-dirty refused *\//' \
	"$T/xen/xen/arch/x86/mm/paging.c"
e2e_commit_flight "global log-dirty mode refused" 10800
a=$(attempt_of "$f2" test qemu-x86_64)
check "log-dirty: qemu-x86_64 verdict is fail ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = fail
check "log-dirty: the failed test case is 'migrate to localhost repeatedly'" \
	case_is "$a" "migrate to localhost repeatedly" fail
check "log-dirty: save and restore still pass" case_is "$a" "save and restore repeatedly" pass
cancel_bisections

finish

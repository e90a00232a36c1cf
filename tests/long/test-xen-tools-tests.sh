#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-tools-tests end to end (long: a toolstack build and two boots under
# TCG). A real controller watching a scratch clone of hypervisor/xen with
# jobs/xen-tools-tests.yaml only, one real agent that builds Xen and the
# tools and runs the qemu-x86_64 board.
#   1. HEAD: the board passes, one test case per executable of Xen's
#      tools/tests, each one's output in the console log: test-cpu-policy,
#      test-resource and test-xenstore pass; depriv-fd-checker,
#      test-paging-mempool (no HAP under TCG) and test-tsx (TCG's XBEGIN:
#      a TODO) are skips
#   2. a commit making XENMEM_acquire_resource fail in the hypervisor: the
#      verdict is fail and the failed test case is test-resource, with its
#      "Fail:" line in the console log
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

passes=(test-cpu-policy test-resource test-xenstore)
skips=(depriv-fd-checker test-paging-mempool test-tsx)
# the toolstack's build in a fresh clone (lib-e2e.sh)
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-tools-tests XENCI_E2E_BOARDS=qemu-x86_64 e2e_setup

# 1. HEAD passes
e2e_head_flight HEAD 10800
a=$(attempt_of "$f1" test qemu-x86_64)
check "HEAD: qemu-x86_64 passes xen-tools-tests ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
log=$(log_of "$(jq -r .id <<<"$a")")
for t in "${passes[@]}"; do
	check "HEAD: $t passes" case_is "$a" "$t" pass
	check "HEAD: $t's output is in the console log" grep -q "# $t: exit 0 after" <<<"$log"
done
for t in "${skips[@]}"; do
	check "HEAD: $t is a skip" case_is "$a" "$t" skip
done
grep -E '^[0-9. ]*\| *(ok|not ok) [0-9]+ ' <<<"$log" | sed 's/^/#   /'

# 2. XENMEM_acquire_resource fails: test-resource fails, named
sed -i '0,/^    if ( xmar.pad != 0 )$/s//    if ( xmar.pad != 0 || 1 \/* xenci: acquire_resource refused *\/ )/' \
	"$T/xen/xen/common/memory.c"
e2e_commit_flight "XENMEM_acquire_resource fails" 10800
a=$(attempt_of "$f2" test qemu-x86_64)
check "acquire_resource: qemu-x86_64 verdict is fail ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = fail
check "acquire_resource: the failed test case is test-resource" case_is "$a" test-resource fail
check "acquire_resource: test-cpu-policy still passes" case_is "$a" test-cpu-policy pass
log=$(log_of "$(jq -r .id <<<"$a")")
check "acquire_resource: test-resource's failure is in the console log" grep -q "# test-resource: .*Fail" <<<"$log"
cancel_bisections

finish

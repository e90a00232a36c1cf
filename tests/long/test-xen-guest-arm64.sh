#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-guest on the arm64 board end to end (long: an arm64 toolstack
# cross-build and two flights of guest runs under TCG, 15-40 min on a loaded
# 2-core machine). A real controller watching a scratch clone of
# hypervisor/xen with jobs/xen-guest.yaml only, one real agent that builds
# (hypervisor/build.sh, then hypervisor/build-tools.sh cross-built against
# the sysroot the agent makes with hypervisor/sysroot.sh outside the sandbox)
# and runs the qemu-arm64 board.
#   1. HEAD: the arm64 build passes with tools and dom0-rootfs among its
#      artifacts (its log names the sysroot), the board passes the 14 test
#      cases of hypervisor/dom0-guest.sh
#   2. a commit making XEN_DOMCTL_createdomain fail in the hypervisor: the
#      board's verdict is fail (not infra, not timeout) and the failed test
#      case is named "pv guest created", with xl's error in the console log
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

XENCI_E2E_JOBS=xen-guest XENCI_E2E_BOARDS=qemu-arm64 e2e_setup

# 1. HEAD passes
git -C "$T/xen" branch ci "$base"
t0=$SECONDS
f1=$(poke new) || e2e_die "poke of the new branch made no flight"
wait_flight "$f1" 3600 || bad "flight $f1 (HEAD) ended"
echo "# flight $f1 (HEAD ${base:0:7}) took $((SECONDS - t0)) s"
b=$(attempt_of "$f1" build arm64)
check "HEAD: arm64 build passes ($(jq -r .reason <<<"$b"))" test "$(jq -r .state <<<"$b")" = pass
arts=$(api "flights/$f1" | jq -c '.builds[] | select(.arch == "arm64") | .artifacts | keys')
check "HEAD: the build made tools and dom0-rootfs ($arts)" \
	bash -c 'grep -q "\"tools\"" <<<"$0" && grep -q "\"dom0-rootfs\"" <<<"$0"' "$arts"
blog=$(log_of "$(jq -r .id <<<"$b")")
check "HEAD: the build log has the tools stage" grep -q "stage tools pass" <<<"$blog"
check "HEAD: the build log names the sysroot" grep -q "sysroot: .*/sysroot/arm64/" <<<"$blog"
a=$(attempt_of "$f1" test qemu-arm64)
check "HEAD: qemu-arm64 passes xen-guest ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
check "HEAD: 14 passing test cases" \
	test "$(jq '[.testcases[] | select(.result == "pass")] | length' <<<"$a")" = 14
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: the first guest reached its marker" grep -q "pv1: XENCI-GUEST-UP .*vcpus=2" <<<"$log"
check "HEAD: the second guest reached its marker" grep -q "pvh1: XENCI-GUEST-UP .*vcpus=1" <<<"$log"
grep -E '^[0-9. ]*\| *(ok|not ok) [0-9]+ ' <<<"$log" | sed 's/^/#   /'

# 2. guests cannot be created: xen-guest fails, naming the test case
sed -i '0,/^        dom = op->domain;$/s//        dom = op->domain;\n        ret = -EDOM; \/* xenci: no guest can be created *\/\n        break;/' \
	"$T/xen/xen/common/domctl.c"
git -C "$T/xen" checkout -q ci
git -C "$T/xen" commit -qam "xenci long test: XEN_DOMCTL_createdomain fails" || e2e_die "broken commit"
cancel_bisections
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the broken commit made no flight"
wait_flight "$f2" 3600 || bad "flight $f2 (broken createdomain) ended"
echo "# flight $f2 (broken createdomain) took $((SECONDS - t0)) s"
a=$(attempt_of "$f2" test qemu-arm64)
check "createdomain: qemu-arm64 verdict is fail ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = fail
check "createdomain: the failed test case is 'pv guest created'" \
	bash -c 'jq -e "[.testcases[] | select(.result == \"fail\") | .name] | index(\"pv guest created\")" <<<"$0" >/dev/null' "$a"
log=$(log_of "$(jq -r .id <<<"$a")")
check "createdomain: xl's error is in the console log" grep -q "xl create /tmp/pv1.cfg failed" <<<"$log"
cancel_bisections

finish

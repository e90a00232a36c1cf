#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# test-xen-guest.sh [ARCH...] — xen-guest end to end on a QEMU board, the
# coverage job of make check: a toolstack build from the tree and three
# flights of guest runs under TCG (about 12 min for x86_64 on an idle 2-core
# machine). ARCH: x86_64 (the qemu-x86_64 board, the default: make check) or
# arm64 (qemu-arm64: make check-long, tests/long/test-xen-guest-arm64.sh);
# several, one after the other, each with its own controller and agent. A real
# controller watching a scratch clone of hypervisor/xen with
# jobs/xen-guest.yaml only, one real agent that builds (hypervisor/build.sh,
# then hypervisor/build-tools.sh since the job wants dom0-rootfs: on arm64
# cross-built against the sysroot the agent makes with hypervisor/sysroot.sh
# outside the sandbox) and runs the ARCH's board.
#   1. HEAD: the build passes with tools and dom0-rootfs among its artifacts
#      (on arm64 its log names the sysroot), the board passes with the 14 test
#      cases of hypervisor/dom0-guest.sh, the PV guest answering the commands
#      typed on its console
#   2. a commit making XEN_DOMCTL_createdomain fail in the hypervisor (common
#      code: both arches): the board's verdict is fail (not infra, not
#      timeout), the failed test case is named "pv guest created" with xl's
#      error in the console log, and "toolstack starts" still passed
#   3. createdomain back, and a libxl change whose destroy leaves the domain
#      (and its memory) in place: the verdict is fail, "pv guest created"
#      passes, and the leak check's "no domain leaked" and "no memory leaked"
#      fail, the console giving free_memory now and before
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed" (the sum
# over the arches).
set -uo pipefail

if [ $# -ne 1 ]; then
	arches=("$@")
	[ ${#arches[@]} -gt 0 ] || arches=(x86_64)
	p=0 f=0
	for arch in "${arches[@]}"; do
		echo "# xen-guest on $arch"
		out=$(mktemp)
		bash "$0" "$arch" | tee "$out"
		last=$(tail -n 1 "$out")
		rm -f "$out"
		if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			p=$((p + BASH_REMATCH[1])) f=$((f + BASH_REMATCH[2]))
		else
			echo "FAIL - $arch: no 'N passed, N failed' line"
			f=$((f + 1))
		fi
	done
	echo "$p passed, $f failed"
	((f == 0))
	exit $?
fi

arch=$1
case $arch in
x86_64)
	board=qemu-x86_64
	pv_marker="pv1: XENCI-GUEST-UP type=PV vcpus=2"
	pvh_marker="pvh1: XENCI-GUEST-UP type=PVH vcpus=1"
	;;
arm64)
	board=qemu-arm64
	# Arm has one guest type, whatever xl's type says
	pv_marker="pv1: XENCI-GUEST-UP .*vcpus=2"
	pvh_marker="pvh1: XENCI-GUEST-UP .*vcpus=1"
	;;
*)
	echo "usage: test-xen-guest.sh [x86_64|arm64]..." >&2
	exit 2
	;;
esac

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/lib-e2e.sh"

# the toolstack's build in a fresh clone (lib-e2e.sh)
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-guest XENCI_E2E_BOARDS=$board e2e_setup

# 1. HEAD passes
e2e_head_flight HEAD 10800
b=$(attempt_of "$f1" build "$arch")
check "HEAD: $arch build passes ($(jq -r .reason <<<"$b"))" test "$(jq -r .state <<<"$b")" = pass
arts=$(api "flights/$f1" | jq -c --arg a "$arch" '.builds[] | select(.arch == $a) | .artifacts | keys')
check "HEAD: the build made tools and dom0-rootfs ($arts)" \
	bash -c 'grep -q "\"tools\"" <<<"$0" && grep -q "\"dom0-rootfs\"" <<<"$0"' "$arts"
blog=$(log_of "$(jq -r .id <<<"$b")")
check "HEAD: the build log has the tools stage" grep -q "stage tools pass" <<<"$blog"
[ "$arch" != arm64 ] ||
	check "HEAD: the build log names the sysroot" grep -q "sysroot: .*/sysroot/arm64/" <<<"$blog"
a=$(attempt_of "$f1" test "$board")
check "HEAD: $board passes xen-guest ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
check "HEAD: 14 passing test cases" \
	test "$(passing "$a")" = 14
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: the PV guest reached its marker" grep -q "$pv_marker" <<<"$log"
check "HEAD: the PVH guest reached its marker" grep -q "$pvh_marker" <<<"$log"
check "HEAD: the PV guest answered through xl console" grep -q "pv1: echo xenci-hello -> 'xenci-hello'" <<<"$log"
grep -E '^[0-9. ]*\| *(ok|not ok) [0-9]+ ' <<<"$log" | sed 's/^/#   /'

# 2. guests cannot be created: xen-guest fails, naming the test case
sed -i '0,/^        dom = op->domain;$/s//        dom = op->domain;\n        ret = -EDOM; \/* xenci: no guest can be created *\/\n        break;/' \
	"$T/xen/xen/common/domctl.c"
e2e_commit_flight "XEN_DOMCTL_createdomain fails" 10800
a=$(attempt_of "$f2" test "$board")
check "createdomain: $board verdict is fail ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = fail
check "createdomain: the failed test case is 'pv guest created'" \
	bash -c 'jq -e "[.testcases[] | select(.result == \"fail\") | .name] | index(\"pv guest created\")" <<<"$0" >/dev/null' "$a"
check "createdomain: the toolstack itself still started" case_is "$a" "toolstack starts" pass
log=$(log_of "$(jq -r .id <<<"$a")")
check "createdomain: xl's error is in the console log" grep -q "xl create /tmp/pv1.cfg failed" <<<"$log"
cancel_bisections

# 3. libxl leaks what it should destroy: the hypervisor's createdomain is back,
# and libxl's destroy (its child that calls xc_domain_destroy) reports success
# without destroying, so each guest and its memory stay: the leak check fails
# (OSSTest's domain count and free memory before and after)
git -C "$T/xen" checkout -q ci
git -C "$T/xen" checkout -q HEAD~1 -- xen/common/domctl.c
sed -i 's|^            rc = xc_domain_destroy(ctx->xch, domid);$|            rc = 0; /* xenci: never destroyed, its memory leaks */|' \
	"$T/xen/tools/libs/light/libxl_domain.c"
check "leak: the libxl change applies" grep -q "xenci: never destroyed" "$T/xen/tools/libs/light/libxl_domain.c"
e2e_commit_flight "libxl's destroy leaks the domain" 10800
a=$(attempt_of "$f2" test "$board")
check "leak: $board verdict is fail ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = fail
check "leak: the guest is still created" case_is "$a" "pv guest created" pass
check "leak: 'no domain leaked' fails" case_is "$a" "no domain leaked" fail
check "leak: 'no memory leaked' fails" case_is "$a" "no memory leaked" fail
log=$(log_of "$(jq -r .id <<<"$a")")
check "leak: the console says how much memory is missing" grep -q "# free_memory .* MiB now, .* MiB before" <<<"$log"
cancel_bisections

finish

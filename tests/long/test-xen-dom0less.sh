#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-dom0less end to end on the arm64 board (long: an arm64 Xen and toolstack
# build and two flights of dom0less boots under TCG). A real controller
# watching a scratch clone of hypervisor/xen with jobs/xen-dom0less.yaml only,
# one real agent that builds (the payloads' domu-initrd and dom0-rootfs among
# the artifacts) and runs the qemu-arm64 board, whose U-Boot script puts the
# two domUs in /chosen.
#   1. HEAD: both variants pass. xen-dom0less/nodom0: every stage, both
#      domUs' markers ("DOM1: XENCI-GUEST-UP", "DOM2: ...") in the console
#      log. xen-dom0less/dom0: dom0 comes up beside the domUs, runs the
#      tree's init-dom0less, and its 4 test cases pass: `xl list` there shows
#      both domUs (dom0less-1, dom0less-2, 256 MiB and 1 vCPU each)
#   2. a commit breaking the Arm domain builder's device-tree parsing (the
#      domU node's "cpus" read as "cpu"): both variants' verdict is fail, by
#      the xen-panic pattern, with Xen's "Missing property 'cpus'" in the log
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

# the toolstack's build in a fresh clone (lib-e2e.sh): the dom0 variant boots
# dom0-rootfs
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
XENCI_E2E_JOBS=xen-dom0less XENCI_E2E_BOARDS=qemu-arm64 e2e_setup

# variant_of FLIGHT VARIANT: the flight's attempt of xen-dom0less/VARIANT
variant_of() {
	api "flights/$1" | jq -c --arg j "xen-dom0less/$2" \
		'[.attempts[] | select(.kind == "test" and .job == $j)] | last'
}

# 1. HEAD passes
e2e_head_flight HEAD 10800
arts=$(api "flights/$f1" | jq -c '.builds[] | select(.arch == "arm64") | .artifacts | keys')
check "HEAD: the build made domu-initrd and dom0-rootfs ($arts)" \
	bash -c 'grep -q "\"domu-initrd\"" <<<"$0" && grep -q "\"dom0-rootfs\"" <<<"$0"' "$arts"
a=$(variant_of "$f1" nodom0)
check "HEAD: qemu-arm64 passes xen-dom0less/nodom0 ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = pass
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: nodom0: Xen started in dom0less mode" grep -q "Xen dom0less mode detected" <<<"$log"
check "HEAD: nodom0: domU1 reached its marker" grep -q "DOM1: XENCI-GUEST-UP" <<<"$log"
check "HEAD: nodom0: domU2 reached its marker" grep -q "DOM2: XENCI-GUEST-UP" <<<"$log"
a=$(variant_of "$f1" dom0)
check "HEAD: qemu-arm64 passes xen-dom0less/dom0 ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = pass
check "HEAD: dom0: 4 passing test cases" \
	test "$(passing "$a")" = 4
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: dom0: dom0 came up" grep -q "XENCI-DOM0-UP" <<<"$log"
check "HEAD: dom0: domU1 reached its marker" grep -q "DOM1: XENCI-GUEST-UP" <<<"$log"
check "HEAD: dom0: domU2 reached its marker" grep -q "DOM2: XENCI-GUEST-UP" <<<"$log"
check "HEAD: dom0: init-dom0less introduced both domUs" \
	bash -c 'grep -q "xenstore name .dom0less-1." <<<"$0" && grep -q "xenstore name .dom0less-2." <<<"$0"' "$log"
check "HEAD: dom0: xl list in dom0 shows both domUs" \
	bash -c 'grep -Eq "# dom0less-1 +1 +256 +1 " <<<"$0" && grep -Eq "# dom0less-2 +2 +256 +1 " <<<"$0"' "$log"
grep -E '^[0-9. ]*\| *(ok|not ok) [0-9]+ |# (Name|dom0less-|Domain-0)' <<<"$log" | sed 's/^/#   /'

# 2. the domain builder no longer reads a domU's cpus
sed -i 's/dt_property_read_u32(node, "cpus", &d_cfg.max_vcpus)/dt_property_read_u32(node, "cpu", \&d_cfg.max_vcpus)/' \
	"$T/xen/xen/arch/arm/domain_build.c"
git -C "$T/xen" checkout -q ci
git -C "$T/xen" commit -qam "xenci long test: dom0less domUs' cpus read as cpu" || e2e_die "broken commit"
cancel_bisections
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the broken commit made no flight"
wait_flight "$f2" 7200 || bad "flight $f2 (broken domain builder) ended"
echo "# flight $f2 (broken domain builder) took $((SECONDS - t0)) s"
for v in nodom0 dom0; do
	a=$(variant_of "$f2" "$v")
	check "builder: $v: qemu-arm64 verdict is fail ($(jq -r .reason <<<"$a"))" \
		test "$(jq -r .state <<<"$a")" = fail
	check "builder: $v: the reason names xen-panic" grep -q "xen-panic" <<<"$(jq -r .reason <<<"$a")"
	log=$(log_of "$(jq -r .id <<<"$a")")
	check "builder: $v: Xen's panic names the property" grep -q "Missing property 'cpus'" <<<"$log"
done
cancel_bisections

finish

#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# xen-dom0less end to end on the arm64 board (long: two flights of an arm64
# build and a dom0less boot under TCG). A real controller watching a scratch
# clone of hypervisor/xen with jobs/xen-dom0less.yaml only, one real agent
# that builds (the payloads' domu-initrd among the artifacts) and runs the
# qemu-arm64 board, whose U-Boot script puts the two domUs in /chosen.
#   1. HEAD: xen-dom0less/nodom0 passes: every stage, both domUs' markers
#      ("DOM1: XENCI-GUEST-UP", "DOM2: ...") in the console log
#   2. a commit breaking the Arm domain builder's device-tree parsing (the
#      domU node's "cpus" read as "cpu"): the verdict is fail, by the
#      xen-panic pattern, with Xen's "Missing property 'cpus'" in the log
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

XENCI_E2E_JOBS=xen-dom0less XENCI_E2E_BOARDS=qemu-arm64 e2e_setup

# 1. HEAD passes
git -C "$T/xen" branch ci "$base"
t0=$SECONDS
f1=$(poke new) || e2e_die "poke of the new branch made no flight"
wait_flight "$f1" 3600 || bad "flight $f1 (HEAD) ended"
echo "# flight $f1 (HEAD ${base:0:7}) took $((SECONDS - t0)) s"
arts=$(api "flights/$f1" | jq -c '.builds[] | select(.arch == "arm64") | .artifacts | keys')
check "HEAD: the build made domu-initrd ($arts)" grep -q '"domu-initrd"' <<<"$arts"
a=$(attempt_of "$f1" test qemu-arm64)
check "HEAD: qemu-arm64 passes xen-dom0less/nodom0 ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = pass
check "HEAD: the attempt is xen-dom0less/nodom0" test "$(jq -r .job <<<"$a")" = xen-dom0less/nodom0
log=$(log_of "$(jq -r .id <<<"$a")")
check "HEAD: Xen started in dom0less mode" grep -q "Xen dom0less mode detected" <<<"$log"
check "HEAD: domU1 reached its marker" grep -q "DOM1: XENCI-GUEST-UP" <<<"$log"
check "HEAD: domU2 reached its marker" grep -q "DOM2: XENCI-GUEST-UP" <<<"$log"

# 2. the domain builder no longer reads a domU's cpus
sed -i 's/dt_property_read_u32(node, "cpus", &d_cfg.max_vcpus)/dt_property_read_u32(node, "cpu", \&d_cfg.max_vcpus)/' \
	"$T/xen/xen/arch/arm/domain_build.c"
git -C "$T/xen" checkout -q ci
git -C "$T/xen" commit -qam "xenci long test: dom0less domUs' cpus read as cpu" || e2e_die "broken commit"
cancel_bisections
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the broken commit made no flight"
wait_flight "$f2" 3600 || bad "flight $f2 (broken domain builder) ended"
echo "# flight $f2 (broken domain builder) took $((SECONDS - t0)) s"
a=$(attempt_of "$f2" test qemu-arm64)
check "builder: qemu-arm64 verdict is fail ($(jq -r .reason <<<"$a"))" \
	test "$(jq -r .state <<<"$a")" = fail
check "builder: the reason names xen-panic" grep -q "xen-panic" <<<"$(jq -r .reason <<<"$a")"
log=$(log_of "$(jq -r .id <<<"$a")")
check "builder: Xen's panic names the property" grep -q "Missing property 'cpus'" <<<"$log"
cancel_bisections

finish

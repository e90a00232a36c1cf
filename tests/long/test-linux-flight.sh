#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# A Linux branch moving with Xen pinned, end to end (issue 17; docs/flights.md,
# "Trees of several kinds"): a real controller with two trees, xen (a scratch clone
# of hypervisor/xen, tested ref xenci-tested) and linux (a scratch clone of
# hypervisor/linux, kind linux, branch `linux` gated on xen-smoke to advance
# `tested`), and one real agent that syncs and builds Linux (hypervisor/build-linux.sh
# in its sandbox) and Xen, and boots both QEMU boards with the Linux it built as dom0.
#   1. branch linux at the imported commit: one flight, Xen taken at xenci-tested;
#      both boards boot our Linux as dom0 and pass
#   2. a one-file Linux commit (drivers/xen/features.c): passes on both boards, and
#      the gate advances Linux's `tested` to it and no ref of Xen's
#   3. a push of XENCI_LINUX_COMMITS (16) Linux commits: commit CULPRIT panics dom0
#      in Linux's Xen start-up code on both arches (an initcall in
#      arch/x86/xen/enlighten.c and arch/arm/xen/enlighten.c, which arm64 builds),
#      the others touch a text file; the flight fails on both boards, `tested` stays,
#      and the controller bisects each board class: tree linux, culprit CULPRIT,
#      confirmed, Xen pinned at xenci-tested in the bisection and in every step's
#      flight (no step changes Xen's revision)
# Figures (lines "# figure ..."; tests/bench/bench-linux.sh prints them, a test asserts
# no timing): the one-file commit to both boards' verdicts, and the push to the end
# of both bisections in wall time and boots. The first flight syncs the whole Linux
# tree (75k files) and builds it clean on both arches (4-5 min a build on two idle
# cores with a cold compiler cache, up to an hour for arm64 under a load of 20-29):
# its waits are long. XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
# Setup and helpers: tests/e2e/lib-e2e.sh.
set -uo pipefail

N=${XENCI_LINUX_COMMITS:-16}
CULPRIT=$((N * 2 / 3 + 1))
root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ ! -d $root/hypervisor/linux/.git ]]; then
	echo "# hypervisor/linux is missing: make linux"
	make -C "$root" --no-print-directory linux >/dev/null 2>&1 ||
		{ echo "FAIL - make linux"; echo "0 passed, 1 failed"; exit 1; }
fi

export XENCI_E2E_JOBS=xen-smoke XENCI_E2E_BUILD_TIMEOUT=7200 XENCI_E2E_XEN_TESTED=xenci-tested
# shellcheck source=tests/e2e/lib-e2e.sh
. "$root/tests/e2e/lib-e2e.sh"
export XENCI_E2E_TREES="  linux:
    source: $T/linux
    kind: linux
    tested: tested
    interval: 3600
    branches:
      - name: linux
        jobs: [xen-smoke]
        gate: {jobs: [xen-smoke], advance: tested}"

# The Linux clone checks out the few files the test edits (sparse): the commits keep
# the rest of the tree as imported.
lgit() { git -C "$T/linux" "$@"; }
git clone -q --no-checkout "$root/hypervisor/linux" "$T/linux" || e2e_die "git clone of hypervisor/linux"
lgit config user.email e2e@xenci.invalid
lgit config user.name "xenci e2e"
lgit sparse-checkout set --no-cone /arch/x86/xen/enlighten.c /arch/arm/xen/enlighten.c \
	/drivers/xen/features.c /XENCI-E2E-NOTES || e2e_die "sparse checkout"
lgit checkout -q -b linux || e2e_die "checkout"
lbase=$(lgit rev-parse HEAD)
lgit branch tested "$lbase"
lgit branch -m linux work # the watched branch is made at each step
e2e_setup
git -C "$T/xen" branch xenci-tested "$base"
xen_refs() { git -C "$T/xen" for-each-ref --format='%(refname) %(objectname)'; }
xrefs=$(xen_refs)

# flight_ok F WHAT: the flight's tuple is Linux moving and Xen at xenci-tested, and both
# boards ran the Linux we built as dom0 with the given result (pass or fail)
flight_is() {
	local f=$1 what=$2 want=$3 lc=$4 fl a board
	fl=$(api "flights/$f")
	check "$what: Linux moves at ${lc:0:12}" \
		test "$(jq -r '.tuple.linux.commit + " " + (.tuple.linux.moves | tostring)' <<<"$fl")" = "$lc true"
	check "$what: Xen is pinned at xenci-tested (${base:0:12})" \
		test "$(jq -r '.tuple.xen.commit + " " + (.tuple.xen.moves | tostring)' <<<"$fl")" = "$base false"
	for board in qemu-x86_64 qemu-arm64; do
		a=$(attempt_of "$f" test "$board")
		check "$what: $board $want ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = "$want"
		check "$what: $board's dom0 is the Linux the agent built" \
			bash -c 'curl -sf --max-time 30 "$0/attempts/$1/raw" | grep -qE "Linux version 6\.1\.[0-9]+\+? \(xenci@xenci\)"' \
			"$url" "$(jq -r .id <<<"$a")"
	done
}

# 1. the imported Linux, Xen pinned
t0=$SECONDS
lgit branch -f linux "$lbase"
f1=$(poke new linux linux) || e2e_die "poke of branch linux made no flight"
wait_flight "$f1" 7200 || bad "flight $f1 (first Linux flight) ended"
echo "# flight $f1 (Linux ${lbase:0:7}: a full sync and clean builds of both arches) took $((SECONDS - t0)) s"
api "flights/$f1" | jq -c '.attempts[] | select(.kind == "build") | {id, arch, state, reason, tree}'
flight_is "$f1" "first flight" pass "$lbase"
check "first flight: a build of Linux and one of Xen per arch" \
	test "$(api "flights/$f1" | jq '[.attempts[] | select(.kind == "build" and .state == "pass")] | length')" = 4

# 2. a one-file commit passes and advances Linux's tested ref only
lgit checkout -q work
echo "/* xenci long test: one file */" >>"$T/linux/drivers/xen/features.c"
lgit commit -qam "xenci e2e: one file" || e2e_die "commit (one file)"
l1=$(lgit rev-parse HEAD)
lgit branch -f linux "$l1"
t0=$(date +%s%N)
f2=$(poke advanced linux linux) || e2e_die "poke after the one-file commit made no flight"
wait_flight "$f2" 1800 || bad "flight $f2 (one file) ended"
last=$(api "flights/$f2" | jq '[.attempts[] | select(.kind == "test") | .finished_at] | max')
echo "# figure one-file Linux commit to both boards' verdicts: $(awk -v a="$t0" -v b="$last" 'BEGIN {printf "%.1f", b / 1000 - a / 1e9}') s (load $(cut -d' ' -f1 /proc/loadavg))"
flight_is "$f2" "one-file commit" pass "$l1"
check "the pass advanced Linux's tested to the one-file commit" test "$(lgit rev-parse tested)" = "$l1"
check "no ref of Xen's moved" test "$(xen_refs)" = "$xrefs"
check "the linux branch's gate says advanced to the one-file commit" \
	test "$(api "branches/linux?tree=linux" | jq -r '.gate.state + " " + .gate.commit')" = "advanced $l1"

# 3. the push: a Linux commit that panics dom0 in Xen's start-up code
commits=([0]="$l1")
for i in $(seq 1 "$N"); do
	if ((i == CULPRIT)); then
		for f in arch/x86/xen/enlighten.c arch/arm/xen/enlighten.c; do
			cat >>"$T/linux/$f" <<'EOF'

static int __init xenci_bisect_me(void)
{
	if (xen_initial_domain())
		panic("xenci: bisect me\n");
	return 0;
}
early_initcall(xenci_bisect_me);
EOF
		done
		msg="xenci e2e $i: panic dom0 in Xen's start-up"
	else
		echo "change $i" >>"$T/linux/XENCI-E2E-NOTES"
		lgit add XENCI-E2E-NOTES
		msg="xenci e2e $i: notes"
	fi
	lgit commit -qam "$msg" || e2e_die "commit $i"
	commits[i]=$(lgit rev-parse HEAD)
done
check "the culprit changes both arches' enlighten.c" \
	test "$(lgit show --stat --format= "${commits[CULPRIT]}" | grep -c 'enlighten.c')" = 2
lgit branch -f linux "${commits[N]}"
t0=$SECONDS
f3=$(poke advanced linux linux) || e2e_die "poke after the push made no flight"
wait_flight "$f3" 1800 || bad "flight $f3 (push) ended"
echo "# flight $f3 (push of $N Linux commits) took $((SECONDS - t0)) s"
flight_is "$f3" "push" fail "${commits[N]}"
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f3" test "$board")
	check "push: $board's dom0 panicked in the culprit's initcall" \
		bash -c 'curl -sf --max-time 30 "$0/attempts/$1/raw" | grep -q "Kernel panic - not syncing: xenci: bisect me"' \
		"$url" "$(jq -r .id <<<"$a")"
done
check "the failure left Linux's tested where it was" test "$(lgit rev-parse tested)" = "$l1"

# the bisections: one per board class, in the linux tree, Xen pinned
wait_bisections $((t0 + 7200))
took=$((SECONDS - t0))
api bisections | jq -c '.bisections[] | {id, class, tree, state, verdict, culprit}'
check "one bisection per board class ($classes)" \
	test "$(api bisections | jq -r '[.bisections[].class] | sort | join(" ")') " = "$classes"
boots=0
for id in $(api bisections | jq -r '.bisections[].id'); do
	tw=$(api "bisections/$id")
	cls=$(jq -r .class <<<"$tw")
	n=$(jq '[.steps[].runs[] | select(.attempt != null)] | length' <<<"$tw")
	boots=$((boots + n))
	echo "# bisection $id ($cls): $(jq '.steps | length' <<<"$tw") steps, $n boots, $(jq -r .evidence <<<"$tw")"
	check "bisection $id ($cls): in the linux tree" test "$(jq -r .tree <<<"$tw")" = linux
	check "bisection $id ($cls): good is the one-file commit, bad the push's head" \
		test "$(jq -r '.good + " " + .bad' <<<"$tw")" = "$l1 ${commits[N]}"
	check "bisection $id ($cls): confirmed ($(jq -r .verdict <<<"$tw"))" \
		test "$(jq -r .state <<<"$tw")" = confirmed
	check "bisection $id ($cls): culprit is Linux commit $CULPRIT (${commits[CULPRIT]:0:12})" \
		test "$(jq -r '.culprit.tree + " " + .culprit.commit' <<<"$tw")" = "linux ${commits[CULPRIT]}"
	check "bisection $id ($cls): culprit's subject" \
		test "$(jq -r .culprit.subject <<<"$tw")" = "xenci e2e $CULPRIT: panic dom0 in Xen's start-up"
	check "bisection $id ($cls): Xen pinned at xenci-tested" \
		test "$(jq -r '.pins.xen.commit' <<<"$tw")" = "$base"
	xs=$(for f in $(jq -r '[.steps[].flight | select(. != null)] | unique | .[]' <<<"$tw"); do
		api "flights/$f" | jq -r '.tuple.xen.commit + " " + .tuple.linux.commit'
	done | sort -u)
	check "bisection $id ($cls): every step's flight takes Xen at xenci-tested and moves Linux" \
		bash -c '[[ -n $0 ]] && ! grep -qv "^$1 " <<<"$0"' "$xs" "$base"
	check "bisection $id ($cls): xenci bisection names the linux tree, the culprit and the pinned Xen" \
		bash -c 'out=$("$0" bisection "$1" 2>&1); grep -q "culprit in tree linux" <<<"$out" &&
			grep -q "culprit $2" <<<"$out" && grep -q "pinned xen=${3:0:12} (pinned at xenci-tested)" <<<"$out"' \
		"$build/xenci" "$id" "${commits[CULPRIT]}" "$base"
done
echo "# figure bisection of $N Linux commits per board class (both classes side by side): $took s from the push to both ends, $boots boots (load $(cut -d' ' -f1 /proc/loadavg))"
check "no ref of Xen's moved" test "$(xen_refs)" = "$xrefs"

e2e_end

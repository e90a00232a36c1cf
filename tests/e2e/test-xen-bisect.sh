#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# A real-Xen bisection end to end (controller/bisect*.c, docs/bisection.md): a real
# controller watching a scratch clone of hypervisor/xen, one real agent that builds
# and runs both QEMU boards, jobs/xen-smoke.yaml.
#   1. the branch's head passes on both boards (one flight: the good revision)
#   2. a push of 16 commits on top: commit UNBUILDABLE has a syntax error in a file
#      both arches compile (the next commit repairs it), commit CULPRIT adds an
#      early panic() to Xen's start-up on both arches, the others touch a text file;
#      UNBUILDABLE is the search's first split, so the search meets it and skips it
#   3. the push's flight fails on both boards; the controller bisects each board
#      class and names CULPRIT, `confirmed` (the API's twin and `xenci bisection`)
# Prints the time from the push to both verdicts as a figure (make bench times it; a test
# asserts no timing): the waits below are only guards against a hang.
# XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
# Setup and helpers: tests/e2e/lib-e2e.sh.
set -uo pipefail

UNBUILDABLE=8 # the first split of 16: the search meets it
CULPRIT=11
# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/lib-e2e.sh"

e2e_setup

# 1. the good head
e2e_head_flight "good head"
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f1" test "$board")
	check "head: $board passes ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
done

# 2. the push: 16 commits
git -C "$T/xen" checkout -q ci
commits=()
for i in $(seq 1 16); do
	case $i in
	"$UNBUILDABLE")
		echo 'int xenci_e2e_syntax(void) { return 1 }' >>"$T/xen/xen/common/version.c"
		msg="xenci e2e $i: a syntax error in common/version.c"
		;;
	$((UNBUILDABLE + 1)))
		git -C "$T/xen" show "$base:xen/common/version.c" >"$T/xen/xen/common/version.c"
		msg="xenci e2e $i: repair common/version.c"
		;;
	"$CULPRIT")
		sed -i '0,/^    console_init_preirq();$/s//    console_init_preirq();\n    panic("xenci: bisect me\\n");/' \
			"$T/xen/xen/arch/x86/setup.c" "$T/xen/xen/arch/arm/setup.c"
		msg="xenci e2e $i: panic early in start_xen"
		;;
	*)
		echo "change $i" >>"$T/xen/XENCI-E2E-NOTES"
		git -C "$T/xen" add XENCI-E2E-NOTES
		msg="xenci e2e $i: notes"
		;;
	esac
	git -C "$T/xen" commit -qam "$msg" || e2e_die "commit $i"
	commits[i]=$(git -C "$T/xen" rev-parse HEAD)
done
check "the culprit commit changes both arches' setup.c" \
	test "$(git -C "$T/xen" show --stat --format= "${commits[CULPRIT]}" | grep -c 'setup.c')" = 2
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the push made no flight"
wait_flight "$f2" 1200 || bad "flight $f2 (push) ended"
echo "# flight $f2 (push head ${commits[16]:0:7}) took $((SECONDS - t0)) s"
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f2" test "$board")
	check "push: $board fails ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = fail
done

# 3. a bisection per board class, each to the culprit, confirmed
wait_bisections $((t0 + 3000))
took=$((SECONDS - t0))
echo "# push to both bisections' ends: $took s"
api bisections | jq -c '.bisections[] | {id, class, board, state, verdict, culprit}'
check "one bisection per board class ($classes)" \
	test "$(api bisections | jq -r '[.bisections[].class] | sort | join(" ")') " = "$classes"
for id in $(api bisections | jq -r '.bisections[].id'); do
	tw=$(api "bisections/$id")
	cls=$(jq -r .class <<<"$tw")
	check "bisection $id ($cls): good is the head that passed" test "$(jq -r .good <<<"$tw")" = "$base"
	check "bisection $id ($cls): bad is the push's head" test "$(jq -r .bad <<<"$tw")" = "${commits[16]}"
	check "bisection $id ($cls): outcome confirmed ($(jq -r .verdict <<<"$tw"))" \
		test "$(jq -r .state <<<"$tw")" = confirmed
	check "bisection $id ($cls): culprit is commit $CULPRIT (${commits[CULPRIT]:0:12})" \
		test "$(jq -r .culprit.commit <<<"$tw")" = "${commits[CULPRIT]}"
	check "bisection $id ($cls): culprit's subject" \
		test "$(jq -r .culprit.subject <<<"$tw")" = "xenci e2e $CULPRIT: panic early in start_xen"
	# The search tried the unbuildable commit: a skip, its build failed; no other step is.
	skips=$(jq -r '[.steps[] | select(.result == "skip") | .commit] | unique | join(" ")' <<<"$tw")
	check "bisection $id ($cls): the unbuildable commit, and only it, is skipped ($skips)" \
		test "$skips" = "${commits[UNBUILDABLE]}"
	check "bisection $id ($cls): the culprit's step boots fail with the panic text" \
		bash -c 'for a in $(jq -r --arg c "$1" ".steps[] | select(.commit == \$c and .revert != true) | .runs[] | select(.verdict == \"bad\" or .verdict == \"fail\") | .attempt" <<<"$0" | head -1); do
			curl -sf --max-time 30 "$2/attempts/$a/raw" | grep -q "xenci: bisect me" && exit 0; done; exit 1' \
		"$tw" "${commits[CULPRIT]}" "$url"
	out=$("$build/xenci" bisection "$id" 2>&1)
	check "bisection $id ($cls): xenci bisection names the culprit, confirmed" \
		bash -c 'grep -q "${1:0:12}" <<<"$0" && grep -qi confirmed <<<"$0"' "$out" "${commits[CULPRIT]}"
done

e2e_end

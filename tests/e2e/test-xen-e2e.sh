#!/bin/bash
# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
# End to end with real parts only: a real controller watching a scratch clone
# of hypervisor/xen, one real agent that builds (lab-agent/builder.c: manifest
# + blobs from the controller, hypervisor/build.sh, artifacts by sha256) and
# runs both QEMU boards (boards/qemu-*.yaml: iPXE on q35, U-Boot on virt),
# and jobs/xen-smoke.yaml. Flights come from `xenci poke` of the watched branch.
#   1. HEAD: both builds pass, both boards pass with the 5 dom0 test cases
#   2. a commit adding panic() early in Xen's start-up: both boards `fail`
#      (not infra, not timeout), the panic text in the console log
#   3. a commit breaking the build: both builds `fail` with the compiler's
#      error in their logs, no board boots
#   4. a revision the tree does not have: the build ends `fail` with the reason
#   5. boards whose firmware finds nothing to boot: `infra` with the reason
#   repro: `xenci repro` of case 2's panic on both boards and of case 1's pass on
#      x86_64, run here (the folder's run.sh boots QEMU on this machine, judged
#      with the agent's rules): the same verdict and reason as the lab's, no QEMU
#      left; `xenci boot BOARD --flight` of both flights on the held x86_64 board:
#      staged, booted and judged by its agent, ending with the same verdicts
# The work tree, blob cache and ccache persist between the cases (incremental
# builds). XENCI_KEEP=1 keeps the temp folder. Prints "N passed, N failed".
# Setup and helpers: tests/e2e/lib-e2e.sh.
set -uo pipefail

# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/lib-e2e.sh"

e2e_setup

# 1. HEAD passes on both boards
e2e_head_flight "HEAD"
for arch in x86_64 arm64; do
	b=$(attempt_of "$f1" build "$arch")
	check "HEAD: $arch build passes ($(jq -r .reason <<<"$b"))" test "$(jq -r .state <<<"$b")" = pass
done
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f1" test "$board")
	id=$(jq -r .id <<<"$a")
	check "HEAD: $board passes ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = pass
	check "HEAD: $board has 5 passing test cases" \
		test "$(passing "$a")" = 5
	log=$(log_of "$id")
	check "HEAD: $board console shows Xen's banner with the commit's changeset" \
		grep -q "Latest ChangeSet: .*git:${base:0:7}" <<<"$log"
	check "HEAD: $board console reached XENCI-TESTS-DONE" grep -q XENCI-TESTS-DONE <<<"$log"
	# the board file's boot.xen_args (bootscrub=0) reach Xen: no boot scrub
	check "HEAD: $board's Xen does not scrub its free RAM (the board's bootscrub=0)" \
		bash -c '! grep -q "Scrubbing Free RAM" <<<"$0" && grep -q "XENCI-DOM0-UP" <<<"$0"' "$log"
done
check "HEAD: xenci flight shows both boards passing" \
	bash -c '"$0" flight "$1" | grep -c "pass" | grep -qv "^[01]$"' "$build/xenci" "$f1"
check "HEAD: xenci flights lists the flight" bash -c '"$0" flights | grep -q "${1:0:7}"' "$build/xenci" "$base"

# 2. a panic early in Xen's start-up fails both boards
sed -i '0,/^    console_init_preirq();$/s//    console_init_preirq();\n    panic("xenci: deliberate early panic\\n");/' \
	"$T/xen/xen/arch/x86/setup.c" "$T/xen/xen/arch/arm/setup.c"
git -C "$T/xen" checkout -q ci
git -C "$T/xen" commit -qam "xenci e2e: panic early in start_xen" || e2e_die "panic commit"
panic_commit=$(git -C "$T/xen" rev-parse HEAD)
t0=$SECONDS
f2=$(poke advanced) || e2e_die "poke after the panic commit made no flight"
wait_flight "$f2" 1200 || bad "flight $f2 (panic) ended"
echo "# flight $f2 (panic ${panic_commit:0:7}) took $((SECONDS - t0)) s"
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f2" test "$board")
	check "panic: $board verdict is fail ($(jq -r .reason <<<"$a"))" test "$(jq -r .state <<<"$a")" = fail
	check "panic: $board console log has the panic text" \
		grep -q "xenci: deliberate early panic" <<<"$(log_of "$(jq -r .id <<<"$a")")"
done

# The regression opened bisections (controller/bisect*.c); they are not this
# test's subject: cancel them so that their flights do not delay the next case.
# A failure is retested at the same revision before it is reported (docs/flights.md):
# the bisection opens once the retest failed too; the wait is only a guard.
bisection_opened() {
	for _ in $(seq 1 150); do
		[[ -n "$(api bisections | jq -r '.bisections[]?.id' 2>/dev/null)" ]] && return 0
		sleep 2
	done
	return 1
}
check "panic: the regression, failing its retest too, opened a bisection" bisection_opened
cancel_bisections

# repro: an attempt of the lab run again here, as a developer would. `xenci
# repro` fetches it (artifacts by sha256, boot script, job, QEMU's command line)
# and runs the folder's run.sh: QEMU on this machine, its console judged by
# `xenci-agent --judge` (found beside xenci) with the attempt's job.
repro_here() { # FLIGHT BOARD
	local a id state reason out rc t0=$SECONDS want
	a=$(attempt_of "$1" test "$2")
	id=$(jq -r .id <<<"$a")
	state=$(jq -r .state <<<"$a")
	reason=$(jq -r .reason <<<"$a")
	out=$(cd "$T" && XENCI_AGENT= "$build/xenci" repro "$id" 2>&1 </dev/null)
	rc=$?
	echo "# xenci repro $id ($2, $state) took $((SECONDS - t0)) s"
	want=$([[ $state == pass ]] && echo 0 || echo 1)
	check "repro: attempt $id ($2, $state) reproduces here: verdict $state: $reason (exit $rc)" \
		bash -c '[[ $1 == "$2" ]] && grep -qxF "verdict: $3: $4" <<<"$0"' "$out" "$rc" "$want" "$state" "$reason"
	check "repro: attempt $id's folder has its artifacts and run.sh" \
		test -x "$T/repro-$id/run.sh" -a -s "$T/repro-$id/tftp/xen"
	[[ $state == fail ]] && check "repro: attempt $id's console here shows the panic" \
		grep -q "xenci: deliberate early panic" <<<"$out"
	[[ $state == pass ]] && check "repro: attempt $id's console here reached XENCI-TESTS-DONE" \
		grep -q XENCI-TESTS-DONE <<<"$out"
	((failed == 0)) || tail -n 30 <<<"$out" | sed 's/^/  repro| /'
}
repro_here "$f2" qemu-x86_64
repro_here "$f2" qemu-arm64
repro_here "$f1" qemu-x86_64
check "repro: no QEMU of the repro folders is left" bash -c '! pgrep -f "qemu-system.*$0/repro-" >/dev/null' "$T"

# xenci boot --flight on a held board: the agent stages the flight's builds,
# boots them and judges the console with the flight's job; it ends with the verdict.
dev_tok=$(XENCI_TOKEN=$admin_tok "$build/xenci" token create --role user --name dev --reserve | tail -1)
boot_flight() { # FLIGHT
	local a out rc t0=$SECONDS want
	a=$(attempt_of "$1" test qemu-x86_64)
	out=$(XENCI_TOKEN=$dev_tok "$build/xenci" boot qemu-x86_64 --flight "$1" --no-input 2>&1)
	rc=$?
	echo "# xenci boot qemu-x86_64 --flight $1 took $((SECONDS - t0)) s"
	want=$([[ $(jq -r .state <<<"$a") == pass ]] && echo 0 || echo 1)
	check "boot --flight $1: verdict $(jq -r .state <<<"$a"): $(jq -r .reason <<<"$a") (exit $rc)" \
		bash -c '[[ $1 == "$2" ]] && grep -qxF "verdict: $3: $4" <<<"$0"' "$out" "$rc" "$want" \
		"$(jq -r .state <<<"$a")" "$(jq -r .reason <<<"$a")"
	((failed == 0)) || tail -n 30 <<<"$out" | sed 's/^/  boot| /'
}
XENCI_TOKEN=$dev_tok "$build/xenci" reserve qemu-x86_64 --for 30m --wait >/dev/null ||
	bad "reserve qemu-x86_64"
boot_flight "$f2"
boot_flight "$f1"
XENCI_TOKEN=$dev_tok "$build/xenci" release qemu-x86_64 >/dev/null || bad "release qemu-x86_64"

# 3. a commit that breaks the build: build fail, no boots
git -C "$T/xen" reset -q --hard "$base"
echo 'int xenci_broken(void) { return not_declared_anywhere; }' >>"$T/xen/xen/common/version.c"
git -C "$T/xen" commit -qam "xenci e2e: break the build" || e2e_die "build-break commit"
t0=$SECONDS
f3=$(poke forced) || e2e_die "poke after the force-push made no flight"
wait_flight "$f3" 1200 || bad "flight $f3 (build break) ended"
echo "# flight $f3 (build break) took $((SECONDS - t0)) s"
for arch in x86_64 arm64; do
	b=$(attempt_of "$f3" build "$arch")
	check "build break: $arch build is fail ($(jq -r .reason <<<"$b" | cut -c1-120))" \
		test "$(jq -r .state <<<"$b")" = fail
	check "build break: $arch build log has the compiler's error" \
		grep -q "version.c:.*error: .not_declared_anywhere" <<<"$(log_of "$(jq -r .id <<<"$b")")"
done
for board in qemu-x86_64 qemu-arm64; do
	a=$(attempt_of "$f3" test "$board")
	check "build break: $board never booted (state $(jq -r .state <<<"$a"))" \
		test "$(jq -r '.claimed_at // 0' <<<"$a")" = 0
done

# 4. a revision the tree does not have
f4=$(curl -sf -X POST -H "Authorization: Bearer $user_tok" -H 'Content-Type: application/json' \
	-d '{"tree": "xen", "commit": "0123456789abcdef0123456789abcdef01234567"}' "$url/api/v1/flights" | jq -r .id)
if [[ $f4 =~ ^[0-9]+$ ]]; then
	wait_flight "$f4" 120 || bad "flight $f4 (unknown revision) ended"
	for arch in x86_64 arm64; do
		b=$(attempt_of "$f4" build "$arch")
		check "unknown revision: $arch build is fail with the reason ($(jq -r .reason <<<"$b" | cut -c1-100))" \
			bash -c '[[ $(jq -r .state <<<"$1") == fail && $(jq -r .reason <<<"$1") == *"no such commit"* ]]' _ "$b"
	done
else
	ok "unknown revision: the controller refuses the flight itself"
fi

# 5. firmware that finds nothing to boot: infra with the firmware's words, not
# a hang. The same agent comes back with two boards whose boot scripts fail:
# iPXE's exits (iPXE falls through to "No bootable device."), U-Boot's loads a
# file the TFTP folder does not have ("TFTP error: 'File not found'").
e2e_stop_agent
mkdir -p "$T/noboot"
printf '#!ipxe\necho xenci e2e: this script boots nothing\nexit 1\n' >"$T/noboot/ipxe.template"
printf 'echo xenci e2e: loading a file that is not there\ntftpboot ${xenci_xen_addr} xenci-not-there\n' \
	>"$T/noboot/uboot.template"
for arch in x86_64 arm64; do
	fw=$([[ $arch == x86_64 ]] && echo ipxe || echo uboot)
	# The template goes under netboot:, wherever that mapping stands in the file.
	sed -e "s/^name: .*/name: noboot-$arch/" -e "s/^class: .*/class: noboot-$arch/" \
		-e "/^netboot:/a\\  template: $fw.template" \
		"$root/boards/qemu-$arch.yaml" >"$T/noboot/$arch.yaml"
	check "no boot: noboot-$arch's board file is valid" "$build/xenci-agent" --check "$T/noboot/$arch.yaml"
done
sed -i "s|^boards: .*|boards: [$T/noboot/x86_64.yaml, $T/noboot/arm64.yaml]|" "$T/agent.yaml"
XENCI_HYPERVISOR_DIR=$root/hypervisor "$build/xenci-agent" -v "$T/agent.yaml" >>"$T/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
for _ in $(seq 100); do
	[[ $(api boards/noboot-arm64 | jq -r .state 2>/dev/null) == idle ]] && break
	sleep 0.1
done
f5=$(curl -sf -X POST -H "Authorization: Bearer $user_tok" -H 'Content-Type: application/json' \
	-d "{\"tree\": \"xen\", \"commit\": \"$base\", \"jobs\": [\"xen-smoke\"]}" "$url/api/v1/flights" |
	jq -r .id)
t0=$SECONDS
wait_flight "$f5" 300 || bad "flight $f5 (no boot) ended"
echo "# flight $f5 (no boot) took $((SECONDS - t0)) s"
for board in noboot-x86_64 noboot-arm64; do
	a=$(attempt_of "$f5" test "$board")
	want=$([[ $board == *x86_64 ]] && echo "No bootable device" || echo "TFTP error: 'File not found'")
	check "no boot: $board is infra ($(jq -r .reason <<<"$a"))" \
		bash -c '[[ $(jq -r .state <<<"$1") == infra && $(jq -r .reason <<<"$1") == *"$2"* ]]' _ "$a" "$want"
done
check "no boot: the old boards went offline" test "$(api boards/qemu-arm64 | jq -r .state)" = offline

# No QEMU of ours outlives the agent's attempts.
e2e_end

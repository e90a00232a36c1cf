#!/bin/bash
# Wall time from "a new commit touching one file" to both boards' verdicts,
# with the real controller, the real agent building Xen (incrementally, in its
# kept work tree) and both QEMU boards (tests/e2e/lib-e2e.sh). A first flight
# of HEAD warms the work trees up (not counted); then BENCH_E2E_RUNS (3)
# commits each edit one .c file and are poked. Per run and board:
#   build     the build attempt of the board's arch (claim → result)
#   staging   the test's claim → power-on: artifacts into the TFTP folder, the
#             boot script
#   firmware  power-on → the boot script's first line ("xenci: loading": the
#             firmware is up, has DHCP and fetched the script)
#   load      that line → "(XEN) Xen version" (the script TFTPs Xen, dom0's kernel
#             and initramfs; Xen starts)
#   dom0      banner → XENCI-DOM0-UP
#   judging   dom0 up → verdict (the TAP tests run and are judged)
#   overhead  everything else on the board's path: poke → build claim, build
#             end → test claim, verdict → the controller has the result
# Figures only (medians), with the load average; targets: total ≤ 20 s on a quiet
# machine, ≤ 30 s loaded.
set -uo pipefail
# shellcheck source=tests/e2e/lib-e2e.sh
. "$(dirname "$0")/../e2e/lib-e2e.sh"

runs=${BENCH_E2E_RUNS:-3}
e2e_fatal() { exit 1; }
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

e2e_setup
git -C "$T/xen" checkout -q -b ci "$base"
f=$(poke new) || e2e_die "poke"
wait_flight "$f" 900 || e2e_die "warm-up flight $f"
echo "# warm-up flight $f (clean builds of both arches) done"

# note_s LOG TEXT: the seconds column of the first agent note with TEXT
note_s() { awk -v t="$2" 'index($0, " # " t) {print $1; exit}' <<<"$1"; }
# line_s LOG TEXT: the seconds column of the first console line with TEXT
line_s() { awk -v t="$2" 'index($0, " | ") && index($0, t) {print $1; exit}' <<<"$1"; }

for i in $(seq "$runs"); do
	sed -i "s|^/\* xenci bench edit [0-9]* \*/$||" "$T/xen/xen/common/version.c"
	echo "/* xenci bench edit $i */" >>"$T/xen/xen/common/version.c"
	t0=$(ms)
	git -C "$T/xen" commit -qam "bench: edit $i" || e2e_die "commit"
	f=$(poke advanced) || e2e_die "poke"
	wait_flight "$f" 600 || e2e_die "flight $f"
	fl=$(api "flights/$f")
	total=0
	for board in qemu-x86_64 qemu-arm64; do
		a=$(jq -c --arg b "$board" '[.attempts[] | select(.kind == "test" and .board == $b)] | last' <<<"$fl")
		arch=$(jq -r .arch <<<"$a")
		bld=$(jq -c --arg a "$arch" '[.attempts[] | select(.kind == "build" and .arch == $a)] | last' <<<"$fl")
		[[ $(jq -r .state <<<"$a") == pass ]] || echo "# run $i: $board: $(jq -r '.state + ": " + .reason' <<<"$a")"
		log=$(log_of "$(jq -r .id <<<"$a")")
		staged=$(awk '/ # power on/ {print p; exit} {p = $1}' <<<"$log")
		fw=$(line_s "$log" "xenci: loading")
		banner=$(note_s "$log" "stage xen-banner reached")
		dom0=$(note_s "$log" "stage dom0-up reached")
		verdict=$(note_s "$log" "verdict ")
		b_ms=$(jq '.finished_at - .claimed_at' <<<"$bld")
		end_ms=$(($(jq .finished_at <<<"$a") - t0))
		awk -v b="$b_ms" -v s="$staged" -v f="${fw:-0}" -v x="$banner" -v d="$dom0" -v v="$verdict" -v e="$end_ms" -v brd="$board" -v run="$i" 'BEGIN {
			boot = v * 1000; st = s * 1000
			printf "%s %s %d %d %d %d %d %d %d %d\n", run, brd, e, b, st, f * 1000, (x - f) * 1000, (d - x) * 1000, (v - d) * 1000, e - b - st - boot
		}' >>"$T/bench.txt"
		((end_ms > total)) && total=$end_ms
	done
	echo "$i total $total" >>"$T/bench-total.txt"
	printf '# run %d: flight %d, both verdicts %.1f s after the commit\n' "$i" "$f" "$(bc <<<"scale=1; $total / 1000")"
	cancel_bisections
done

echo "bench-e2e: $runs runs, medians in ms (commit touching xen/common/version.c → verdict), load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-12s %8s %8s %8s %8s %8s %8s %8s %9s\n' board total build staging firmware load dom0 judging overhead
for board in qemu-x86_64 qemu-arm64; do
	printf '%-12s' "$board"
	for col in 3 4 5 6 7 8 9 10; do
		printf ' %8s' "$(awk -v b="$board" -v c="$col" '$2 == b {print $c}' "$T/bench.txt" | median)"
	done
	echo
done
printf 'both boards: median %s ms from commit to the last verdict (target 20000 quiet, 30000 loaded)\n' \
	"$(awk '{print $3}' "$T/bench-total.txt" | median)"

#!/bin/bash
# A whole flight (issue 16: "results in minutes"): every job of jobs/ (every variant)
# on both QEMU boards, from one push of Xen's imported revision to the last verdict,
# through the real controller and one real agent that builds (tests/e2e/lib-e2e.sh).
# Figures only, never pass/fail on a number; it says which attempts did not pass.
#
# Prints, from the controller's own record of the flight (GET /api/v1/flights/ID):
#   - the flight's wall time, push to last verdict, and the load average around it;
#   - each build (per arch): its wait for a builder and its run;
#   - each test attempt: board, job, verdict, its wait from queued to claimed, its run
#     from claimed to verdict, its stages' times and its passing test cases;
#   - per board: the time it was busy with the flight's tests, and the first verdict.
# The first flight of a new agent syncs the tree (one request per blob) and builds
# in fresh work trees (a clean Xen and toolstack per arch): the figures say so.
# BENCH_FLIGHT_JOBS: the jobs (default: every job file but the commissioning one,
# examine); BENCH_FLIGHT_BOARDS (default "qemu-x86_64 qemu-arm64": the smt board
# that xen-sched/gran-core requires is left out, so that variant's attempt waits on
# no board and ends `starved` after BENCH_FLIGHT_STARVE seconds, 120 unless given,
# the controller's starve_seconds; the wall below counts the attempts that ran).
# BENCH_FLIGHT_TIMEOUT: the wait for the flight (10800 s). XENCI_KEEP=1 keeps the
# temp folder. The API's times are milliseconds since the epoch.
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
jobs=${BENCH_FLIGHT_JOBS:-}
if [[ -z $jobs ]]; then
	for f in "$root"/jobs/*.yaml; do
		grep -q '^facts:' "$f" && continue # commissioning jobs run when named
		jobs+="${jobs:+, }$(basename "$f" .yaml)"
	done
fi
export XENCI_E2E_JOBS=$jobs
export XENCI_E2E_BOARDS=${BENCH_FLIGHT_BOARDS:-qemu-x86_64 qemu-arm64}
export XENCI_E2E_BUILD_TIMEOUT=${XENCI_E2E_BUILD_TIMEOUT:-7200}
export XENCI_E2E_CONTROLLER="starve_seconds: ${BENCH_FLIGHT_STARVE:-120}"
# shellcheck source=tests/e2e/lib-e2e.sh
. "$root/tests/e2e/lib-e2e.sh"
# a benchmark counts no checks: a failure to set up says why and ends it
# shellcheck disable=SC2317 # called by lib-e2e.sh's e2e_die
e2e_fatal() { exit 1; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "whole flight: jobs [$jobs] on boards [$XENCI_E2E_BOARDS], load $(load)"
e2e_setup
e2e_head_flight HEAD "${BENCH_FLIGHT_TIMEOUT:-10800}"
echo "load after the flight: $(load)"
fl=$(api "flights/$f1") || { echo "flight $f1: the API did not answer"; exit 1; }
ids=$(jq -r '.attempts[].id' <<<"$fl")
all=$(for id in $ids; do api "attempts/$id"; done | jq -s .)

# the flight's wall: from its first attempt's creation to its last verdict
jq -r --arg f "$f1" '
	def t: . / 1000;
	def s: . * 10 | round / 10;
	def span(a; b): if (a != null and b != null) then ((b | t) - (a | t) | s) else "-" end;
	(map(.created | t) | min) as $t0
	| "flight \($f): \(length) attempts, push to the last verdict of an attempt that ran \((map(select(.claimed_at != null) | .finished_at // .created | t) | max) - $t0 | s) s",
	  "  verdicts: \(group_by(.state) | map("\(.[0].state) \(length)") | join(", "))",
	  "builds:",
	  (.[] | select(.kind == "build")
	   | "  \(.arch): \(.state), wait \(span(.queued_at; .claimed_at)) s, run \(span(.claimed_at; .finished_at)) s, verdict at +\((.finished_at | t) - $t0 | s) s"),
	  "tests (board, job: verdict, wait for the board, run, stages, passing test cases):",
	  (.[] | select(.kind == "test")
	   | "  \(.board) \(.job): \(.state)\(if .state != "pass" then " (\(.reason))" else "" end), wait \(span(.queued_at; .claimed_at)) s, run \(span(.claimed_at; .finished_at)) s, verdict at +\((.finished_at | t) - $t0 | s) s; stages \([.stages[]? | "\(.name) \(.seconds)"] | join(", ")); \([.testcases[]? | select(.result == "pass")] | length)/\([.testcases[]?] | length) cases"),
	  "boards (busy with the flight'"'"'s tests, first and last verdict):",
	  (map(select(.kind == "test" and .board != null)) | group_by(.board)[]
	   | "  \(.[0].board): \(length) attempts, busy \(map(span(.claimed_at; .finished_at) | numbers) | add | s) s, first verdict at +\((map(.finished_at | t) | min) - $t0 | s) s, last at +\((map(.finished_at | t) | max) - $t0 | s) s")
' <<<"$all"
notpass=$(jq '[.[] | select(.state != "pass")] | length' <<<"$all")
((notpass == 0)) || echo "note: $notpass attempts did not pass (above, with their reasons)"
e2e_stop_agent
exit 0

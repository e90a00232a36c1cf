# shellcheck shell=bash
# Sourced by tests/e2e/test-*.sh and tests/bench/bench-e2e.sh (bash): a real
# controller watching branch `ci` of a scratch clone of hypervisor/xen, and one
# real agent that builds and runs both QEMU boards. Every process it starts is
# killed by PID on exit; the temp folder goes unless XENCI_KEEP is set.
#
#   e2e_setup            clone, controller, tokens, agent; sets T, url, base,
#                        user_tok, admin_tok, agent_pid (calls e2e_die on failure).
#                        XENCI_E2E_JOBS: the jobs of branch ci's flights
#                        (default xen-smoke); XENCI_E2E_BOARDS: the agent's
#                        boards (default "qemu-x86_64 qemu-arm64");
#                        XENCI_E2E_BUILD_TIMEOUT: the agent's
#                        builder.timeout_s (default 1800, the agent's own;
#                        the tests whose jobs build the toolstack give 7200:
#                        in a fresh clone it misses the compiler cache, its
#                        paths being new, and took 31 min at a load average
#                        of 17-20, which the default timed out);
#                        XENCI_E2E_XEN_TESTED: Xen's tested ref (tests whose
#                        flights pin Xen there); XENCI_E2E_TREES: more trees,
#                        YAML under `trees:` (indented by two spaces);
#                        XENCI_E2E_CONTROLLER: more top-level lines of the
#                        controller's YAML (starve_seconds: 120, say)
#   poke CHANGE [TREE BRANCH]  look at branch ci (or TREE's BRANCH) now; prints
#                        the flight (fails unless the controller saw CHANGE:
#                        new, advanced, forced)
#   wait_flight ID S     until no attempt of flight ID is waiting/queued/running
#   attempt_of ID KIND ARCH|BOARD, log_of ATTEMPT, api PATH
#   case_is ATTEMPT NAME RESULT  the attempt (JSON) has one test case NAME
#                        with RESULT (pass, fail, skip)
#   wait_bisections END  until each board class of the agent's boards has a
#                        bisection that ended, or SECONDS reaches END (fails
#                        then); sets classes ("CLASS CLASS ", sorted)
#   e2e_stop_agent       SIGTERM and wait for the agent
#   e2e_end              the end of a test: stops the agent, checks that it
#                        stopped and that no QEMU of the test is left, shows
#                        the logs' tails on any failure, then finish
#   e2e_head_flight WHAT [S]  branch ci at the clone's head, poke it, wait
#                        (S seconds, 600 unless given); sets f1 and prints
#                        how long it took
#   e2e_commit_flight WHAT S  commit what the test changed in the clone ($T/xen)
#                        on branch ci as "xenci long test: WHAT", cancel the
#                        bisections, poke, wait (S seconds); sets f2 and
#                        prints how long it took
#   ok, bad, check WHAT COMMAND..., finish
#                        count passes and failures; finish prints
#                        "N passed, N failed" and exits (1 on any failure).
#                        e2e_fatal (what e2e_die calls) counts one failure and
#                        finishes; a script may define its own after sourcing.

root=${XENCI_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${XENCI_BUILD:-$root/build}
pids=()
T=$(mktemp -d /tmp/xenci-e2e.XXXXXX)
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # description command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit $?
}
e2e_fatal() { failed=$((failed + 1)); finish; }

e2e_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
	if [[ -n ${XENCI_KEEP:-} ]]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# e2e_die MESSAGE: prints the logs' tails; the caller's e2e_fatal ends the run.
e2e_die() {
	echo "FAIL - $*"
	[[ -f $T/agent.log ]] && tail -n 30 "$T/agent.log" | sed 's/^/  agent| /'
	[[ -f $T/controller.log ]] && tail -n 30 "$T/controller.log" | sed 's/^/  controller| /'
	e2e_fatal "$*"
}

api() { curl -sf --max-time 30 "$url/api/v1/$1"; }
log_of() { curl -sf --max-time 30 "$url/attempts/$1/raw"; }

e2e_setup() {
	# The tree under test: import it (apt) when missing.
	if [[ ! -d $root/hypervisor/xen/.git ]]; then
		echo "# hypervisor/xen is missing: make hypervisor"
		make -C "$root" --no-print-directory hypervisor >"$T/import.log" 2>&1 ||
			e2e_die "make hypervisor (see $T/import.log)"
	fi
	for bin in xenci-controller xenci-agent xenci; do
		[[ -x $build/$bin ]] || e2e_die "$build/$bin is not built"
	done
	git clone -q "$root/hypervisor/xen" "$T/xen" || e2e_die "git clone of hypervisor/xen"
	git -C "$T/xen" config user.email e2e@xenci.invalid
	git -C "$T/xen" config user.name "xenci e2e"
	base=$(git -C "$T/xen" rev-parse HEAD)

	mkdir -p "$T/data"
	cat >"$T/controller.yaml" <<EOF
listen: 127.0.0.1:0
data: $T/data
jobs_dir: $root/jobs
schema_dir: $root/schema
max_attempts: 1
unhealthy_streak: 100
${XENCI_E2E_CONTROLLER:-}
trees:
  xen:
    source: $T/xen
    interval: 3600${XENCI_E2E_XEN_TESTED:+
    tested: $XENCI_E2E_XEN_TESTED}
    branches:
      # xen-smoke only unless told: the e2e cases count its attempts
      - name: ci
        jobs: [${XENCI_E2E_JOBS:-xen-smoke}]
${XENCI_E2E_TREES:-}
EOF
	"$build/xenci-controller" --config "$T/controller.yaml" 2>"$T/controller.log" &
	pids+=($!)
	for _ in $(seq 100); do [[ -s $T/data/controller.url ]] && break; sleep 0.1; done
	[[ -s $T/data/controller.url ]] || e2e_die "the controller did not start"
	url=$(head -1 "$T/data/controller.url")
	tok_out() { "$build/xenci-controller" token create --config "$T/controller.yaml" "$@" | tail -1; }
	agent_tok=$(tok_out --role agent --agent lab-e2e) || e2e_die "agent token"
	user_tok=$(tok_out --role user) || e2e_die "user token"
	admin_tok=$(tok_out --role admin) || e2e_die "admin token"
	export XENCI_URL=$url XENCI_TOKEN=$user_tok

	cat >"$T/agent.yaml" <<EOF
controller: $url
agent: lab-e2e
token: $agent_tok
work_dir: $T/work
build: true
boards: [$(for b in ${XENCI_E2E_BOARDS:-qemu-x86_64 qemu-arm64}; do printf '%s/boards/%s.yaml, ' "$root" "$b"; done | sed 's/, $//')]
limits: {claim_wait_ms: 1000, heartbeat_s: 2}
builder: {timeout_s: ${XENCI_E2E_BUILD_TIMEOUT:-1800}}
EOF
	XENCI_HYPERVISOR_DIR=$root/hypervisor "$build/xenci-agent" -v "$T/agent.yaml" >"$T/agent.log" 2>&1 &
	agent_pid=$!
	pids+=("$agent_pid")
	local b first=
	for b in ${XENCI_E2E_BOARDS:-qemu-x86_64 qemu-arm64}; do
		first=${first:-$b}
		for _ in $(seq 100); do
			[[ $(api "boards/$b" | jq -r .state 2>/dev/null) == idle ]] && break
			sleep 0.1
		done
	done
	[[ $(api "boards/$first" | jq -r .state 2>/dev/null) == idle ]] ||
		e2e_die "the agent did not declare its boards"
}

poke() {
	local want=$1 reply
	reply=$(curl -s --max-time 60 -X POST -H "Authorization: Bearer $user_tok" \
		-H 'Content-Type: application/json' \
		-d "{\"tree\": \"${2:-xen}\", \"branch\": \"${3:-ci}\"}" "$url/api/v1/poke")
	[[ $(jq -r .change <<<"$reply") == "$want" ]] || { echo "# poke: $reply" >&2; return 1; }
	jq -r .flight <<<"$reply"
}

wait_flight() {
	local id=$1 end=$((SECONDS + $2)) left
	while ((SECONDS < end)); do
		left=$(api "flights/$id" | jq '[.attempts[] | select(.state == "waiting" or .state == "queued" or .state == "claimed" or .state == "running")] | length')
		[[ $left == 0 ]] && return 0
		sleep 0.2
	done
	echo "# flight $id did not end in $2 s" >&2
	api "flights/$id" | jq -c '.attempts[] | {id, kind, board, arch, state, reason, stage}' >&2
	return 1
}

attempt_of() {
	api "flights/$1" | jq -c --arg k "$2" --arg w "$3" \
		'[.attempts[] | select(.kind == $k and (.arch == $w or .board == $w))] | last'
}

case_is() {
	jq -e --arg n "$2" --arg r "$3" '[.testcases[] | select(.name == $n and .result == $r)] | length == 1' \
		<<<"$1" >/dev/null
}

# passing ATTEMPT_JSON: how many of the attempt's test cases passed
passing() {
	jq '[.testcases[] | select(.result == "pass")] | length' <<<"$1"
}

# Cancels every bisection (a regression opens one; its flights would delay the
# next case).
cancel_bisections() {
	local b
	for b in $(api bisections | jq -r '.bisections[]?.id' 2>/dev/null); do
		curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin_tok" \
			"$url/api/v1/bisections/$b/cancel"
	done
}

wait_bisections() {
	local got b
	classes=$(for b in ${XENCI_E2E_BOARDS:-qemu-x86_64 qemu-arm64}; do api "boards/$b" | jq -r .class; done |
		sort | tr '\n' ' ')
	while ((SECONDS < $1)); do
		got=$(api bisections | jq -r '[.bisections[] | select(.state != "running") | .class] | sort | join(" ")')
		[[ "$got " == "$classes" ]] && return 0
		sleep 2
	done
	return 1
}

# e2e_head_flight NAME [SECONDS]: the first flight, at the base commit. Its
# builds start with the agent's first sync of the whole tree from the
# controller (one request a blob) and, in a fresh clone, builds the compiler
# cache may not hold: on a loaded 2-core machine 600 s did not suffice (the
# x86_64 build was still running), hence a guard of 1800 s by default.
e2e_head_flight() {
	local t0=$SECONDS
	git -C "$T/xen" branch ci "$base"
	f1=$(poke new) || e2e_die "poke of the new branch made no flight"
	wait_flight "$f1" "${2:-1800}" || bad "flight $f1 ($1) ended"
	echo "# flight $f1 ($1 ${base:0:7}) took $((SECONDS - t0)) s"
}

e2e_commit_flight() {
	local t0=$SECONDS
	git -C "$T/xen" checkout -q ci
	git -C "$T/xen" commit -qam "xenci long test: $1" || e2e_die "commit ($1)"
	cancel_bisections
	f2=$(poke advanced) || e2e_die "poke after the commit ($1) made no flight"
	wait_flight "$f2" "$2" || bad "flight $f2 ($1) ended"
	echo "# flight $f2 ($1) took $((SECONDS - t0)) s"
}

e2e_stop_agent() {
	kill -TERM "$agent_pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
}

# shellcheck disable=SC2016 # bash -c '...' "$x": the single quotes are meant
e2e_end() {
	e2e_stop_agent
	check "the agent stops cleanly" bash -c '! kill -0 "$0" 2>/dev/null' "$agent_pid"
	check "no QEMU of this test is left" bash -c '! pgrep -f "qemu-system.*$0/work/" >/dev/null' "$T"
	((failed == 0)) || {
		tail -n 40 "$T/agent.log" | sed 's/^/  agent| /'
		tail -n 20 "$T/controller.log" | sed 's/^/  controller| /'
	}
	finish
}

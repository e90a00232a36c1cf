#!/usr/bin/env bash
# make demo — a whole lab on one machine: the controller on 127.0.0.1:$DEMO_PORT, one
# agent with both QEMU boards (x86_64 through iPXE, arm64 through U-Boot) that also
# builds, a flight for the HEAD of hypervisor/xen, its progress, and the live page.
# Ctrl-C stops everything (the agent powers its boards off; no QEMU is left).
#
# Variables: DEMO_PORT (8080), DEMO_DIR (build/demo), DEMO_TREE (hypervisor/xen),
# DEMO_EXIT_AFTER_FLIGHT=1 (stop once the flight ended; exit 0 only if it all passed
# and the page answered).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${DEMO_PORT:-8080}
dir=${DEMO_DIR:-$root/build/demo}
tree=${DEMO_TREE:-$root/hypervisor/xen}
url=http://127.0.0.1:$port
bin=$root/build
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tree=$(cd "$tree" && pwd)

say() { printf '\033[1mdemo:\033[0m %s\n' "$*"; }

pids=()
cleanup() {
	local pid
	trap - INT TERM EXIT
	# the agent first: SIGTERM makes it hand back its attempt and power its boards off
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	say "stopped (logs in $dir)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -s -o /dev/null --max-time 1 "$url/api/v1/boards"; then
	echo "demo: something already answers on $url; set DEMO_PORT" >&2
	exit 1
fi

branch=$(git -C "$tree" symbolic-ref --short HEAD)
head=$(git -C "$tree" rev-parse HEAD)

# The controller: data, jobs, and the watched tree with a push gate.
cat >"$dir/controller.yaml" <<EOF
listen: 127.0.0.1:$port
data: $dir/data
jobs_dir: $root/jobs
trees:
  xen:
    source: $tree
    interval: 5
    branches:
      - name: $branch
        jobs: [xen-smoke]
        gate: {jobs: [xen-smoke], advance: xenci-tested}
EOF
"$bin/xenci-controller" --check --config "$dir/controller.yaml"

tokens=$dir/tokens
mkdir -p "$tokens"
chmod 700 "$tokens"
for role in admin user agent; do
	[[ -s $tokens/$role ]] && continue
	extra=()
	[[ $role == agent ]] && extra=(--agent demo-lab)
	[[ $role == user ]] && extra=(--reserve) # hold a board: xenci reserve, console, boot
	"$bin/xenci-controller" token create --role "$role" "${extra[@]}" --name "demo $role" \
		--config "$dir/controller.yaml" >"$tokens/$role.new"
	mv "$tokens/$role.new" "$tokens/$role"
done

cat >"$dir/agent.yaml" <<EOF
controller: $url
agent: demo-lab
token_file: $tokens/agent
work_dir: $dir/agent
cache_dir: $dir/agent-cache
build: true
boards:
  - $root/boards/qemu-x86_64.yaml
  - $root/boards/qemu-arm64.yaml
EOF
"$bin/xenci-agent" --check "$dir/agent.yaml"

say "controller on $url (log: $dir/controller.log)"
"$bin/xenci-controller" --config "$dir/controller.yaml" >"$dir/controller.log" 2>&1 &
pids=($! "${pids[@]}")
for _ in $(seq 1 100); do
	curl -s -o /dev/null --max-time 1 "$url/api/v1/boards" && break
	sleep 0.1
done

say "agent demo-lab with qemu-x86_64 and qemu-arm64 (log: $dir/agent.log)"
"$bin/xenci-agent" "$dir/agent.yaml" >"$dir/agent.log" 2>&1 &
pids=($! "${pids[@]}")

export XENCI_URL=$url XENCI_TOKEN
XENCI_TOKEN=$(cat "$tokens/user")

# The watcher makes a flight for a branch head it has not tested; poke it, and make
# one by hand if this head was tested by an earlier run already.
"$bin/xenci" poke "$branch" >/dev/null 2>&1 || true
flight=""
for _ in $(seq 1 50); do
	flight=$("$bin/xenci" flights --json 2>/dev/null |
		jq -r --arg c "$head" '[.[] | select(.commit == $c)][0].id // empty' 2>/dev/null || true)
	[[ -n $flight ]] && break
	sleep 0.2
done
if [[ -z $flight ]]; then
	flight=$("$bin/xenci" flights create --tree xen --commit "$head" --job xen-smoke --json |
		jq -r '.id // .flight.id')
fi

say "flight $flight for $branch at ${head:0:12}: building Xen for x86_64 and arm64, then booting both boards"
say "live page: $url/flights/$flight"
rc=0
"$bin/xenci" follow "$flight" || rc=$?

page_ok=0
curl -sf -o /dev/null "$url/" && curl -sf -o /dev/null "$url/flights/$flight" && page_ok=1

cat <<EOF

  The status page:      $url/
  This flight:          $url/flights/$flight
  Tokens:               $tokens (admin, user, agent)

  Try the other workflows (in another terminal):
    export XENCI_URL=$url XENCI_TOKEN=\$(cat $tokens/user)
    # a new commit on the watched branch becomes a flight within ${XENCI_POLL:-5} s:
    (cd $tree && echo '/* demo */' >> xen/common/version.c && git commit -qam "demo change")
    # a patch series, tested before review:
    git -C $tree worktree add -q --detach /tmp/demo-patch && (cd /tmp/demo-patch &&
      echo '/* a patch */' >> xen/common/version.c && git commit -qam "demo: a patch" &&
      git format-patch -q -1 -o /tmp/demo-series) && $bin/xenci submit --follow /tmp/demo-series/*.patch
    # a regression, bisected automatically: a passing head, then a few commits, one of
    # them a panic() early in Xen's start-up (both boards fail; the bisection finds it):
    (cd $tree && for i in 1 2 3; do echo "/* \$i */" >> xen/common/version.c; git commit -qam "demo \$i"; done &&
      sed -i '0,/^    console_init_preirq();\$/s//    console_init_preirq();\n    panic("demo regression\\\\n");/' xen/arch/*/setup.c &&
      git commit -qam "demo: a regression" && echo "/* 4 */" >> xen/common/version.c && git commit -qam "demo 4")
        $bin/xenci bisections; $bin/xenci bisection 1     (docs/bisection.md)
    # undo: (cd $tree && git reset --hard $head)
    # an attempt run again here (QEMU on this machine, judged the same way), and a
    # board held for you, its console on your terminal (~. detaches), an attempt
    # booted on it (docs/boards.md, "Reproducing an attempt", "Console"):
    $bin/xenci repro \$($bin/xenci flight $flight --json | jq '[.attempts[] | select(.kind == "test")][0].id')
    $bin/xenci reserve qemu-arm64 --for 30m --wait; $bin/xenci console qemu-arm64
    $bin/xenci boot qemu-arm64 --flight $flight; $bin/xenci release qemu-arm64

EOF

if [[ ${DEMO_EXIT_AFTER_FLIGHT:-0} == 1 ]]; then
	if [[ $rc == 0 && $page_ok == 1 ]]; then
		say "flight $flight passed on every board; the page answered"
		exit 0
	fi
	say "flight $flight: follow exited $rc, page answered: $page_ok"
	exit 1
fi
say "running until Ctrl-C"
wait "${pids[0]}"

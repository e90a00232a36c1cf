#!/usr/bin/env bash
# The git bisect model in tests/harness/bisect-sim.c against the real `git bisect run`:
# on histories with merges and flaky one-run-per-commit results, both must test the
# same commits in the same order and name the same "first bad commit".
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${XENCI_BUILD:-$root/build}
bench=$build/tests/bench/bench-bisect
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name spec
	local name=$1 spec=$2 dir=$tmp/$1 n v p ids parents want_trace want_culprit got_trace got
	mkdir -p "$dir"
	if ! "$bench" -g "$spec" >"$dir/case"; then
		echo "FAIL $name: bench-bisect -g $spec"
		fail=$((fail + 1))
		return
	fi
	n=$(grep -c '^node ' "$dir/case")
	git init -q "$dir/repo"
	local tree
	tree=$(git -C "$dir/repo" hash-object -t tree -w /dev/null)
	declare -a ids
	# Oldest first (node n-1), one second apart, as bisect-sim.h numbers them.
	for ((v = n - 1; v >= 0; v--)); do
		read -r -a f <<<"$(grep "^node $v " "$dir/case")"
		parents=()
		for p in "${f[@]:3}"; do parents+=(-p "${ids[$p]}"); done
		ids[v]=$(GIT_AUTHOR_DATE="@$((1700000000 + n - v)) +0000" \
			GIT_COMMITTER_DATE="@$((1700000000 + n - v)) +0000" \
			GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t \
			GIT_COMMITTER_EMAIL=t@example.org \
			git -C "$dir/repo" commit-tree "$tree" "${parents[@]}" -m "c$v")
	done
	git -C "$dir/repo" update-ref refs/heads/main "${ids[0]}"
	git -C "$dir/repo" checkout -q main
	grep '^node ' "$dir/case" | awk '{print "c" $2, $3}' >"$dir/results"
	cat >"$dir/run.sh" <<SCRIPT
#!/bin/sh
s=\$(git log -1 --format=%s)
echo "\$s" >>"$dir/trace"
grep -q "^\$s bad\$" "$dir/results" && exit 1
exit 0
SCRIPT
	chmod +x "$dir/run.sh"
	: >"$dir/trace"
	(cd "$dir/repo" && git bisect start "${ids[0]}" "${ids[n - 1]}" >/dev/null 2>&1 &&
		git bisect run "$dir/run.sh" >"$dir/log" 2>&1)
	got=$(grep -oE '^[0-9a-f]{40} is the first bad commit' "$dir/log" | cut -c1-40)
	want_trace=$(grep '^trace' "$dir/case" | cut -d' ' -f2-)
	want_culprit=$(grep '^culprit' "$dir/case" | cut -d' ' -f2)
	got_trace=$(sed 's/^c//' "$dir/trace" | tr '\n' ' ' | sed 's/ $//')
	if [[ $got_trace == "$want_trace" && $got == "${ids[$want_culprit]}" ]]; then
		pass=$((pass + 1))
		echo "ok   $name ($n commits, $(grep -c '' "$dir/trace") runs)"
	else
		fail=$((fail + 1))
		echo "FAIL $name: model tested [$want_trace] culprit c$want_culprit;" \
			"git tested [$got_trace] culprit $got"
		tail -5 "$dir/log"
	fi
}

if [[ ! -x $bench ]]; then
	echo "no $bench: make tests first"
	echo "0 passed, 1 failed"
	exit 1
fi
i=0
for spec in 17:1:0 40:3:0 64:11:0 60:5:10 80:7:10 100:42:10 120:9:20 200:13:20 33:21:0 150:4:5; do
	i=$((i + 1))
	check "case$i-$spec" "$spec"
done
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]

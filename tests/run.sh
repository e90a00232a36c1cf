#!/usr/bin/env bash
# tests/run.sh BUILD SUITE... — runs every test of the named suites and ends with
# one line "N passed, N failed" summed over all of them; exits 1 on any failure.
#
# A suite is a folder of tests/. Its tests are the built binaries BUILD/tests/SUITE/test-*
# (cmocka: their "[  PASSED  ]"/"[  FAILED  ]" lines are counted) and the executable
# scripts tests/SUITE/test-*.sh / test-*.mjs, which end with their own "N passed, N failed".
# The fuzz suite runs each libFuzzer target over its seed corpus and briefly beyond.
# A test that crashes or prints no count counts as one failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
shift
logdir=$build/test-logs
mkdir -p "$logdir"
total_pass=0
total_fail=0

count() { # name logfile exitcode
	local name=$1 log=$2 rc=$3 p f line
	p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
	f=$(grep -aoE '^\[  FAILED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
	if [[ -z $p && -z $f ]]; then
		line=$(grep -aE '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
		p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	fi
	p=${p:-0}
	f=${f:-0}
	if [[ $rc != 0 && $f == 0 ]]; then
		f=1 # crashed, or failed without saying so
	fi
	if [[ $p == 0 && $f == 0 ]]; then
		f=1 # printed no count at all
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [[ $f != 0 ]]; then
		printf '  FAIL %-40s %d passed, %d failed (log: %s)\n' "$name" "$p" "$f" "$log"
		tail -n 40 "$log" | sed 's/^/    | /'
	else
		printf '  ok   %-40s %d passed\n' "$name" "$p"
	fi
}

for suite in "$@"; do
	tests=()
	if [[ $suite == fuzz ]]; then
		for t in "$build"/tests/fuzz/fuzz-*; do [[ -x $t ]] && tests+=("$t"); done
	else
		for t in "$build/tests/$suite"/test-*; do [[ -x $t && ! -d $t ]] && tests+=("$t"); done
		for t in "$root/tests/$suite"/test-*.sh "$root/tests/$suite"/test-*.mjs; do
			[[ -x $t ]] && tests+=("$t")
		done
	fi
	((${#tests[@]})) || continue
	echo "suite $suite"
	for t in "${tests[@]}"; do
		name=$(basename "$t")
		log=$logdir/$suite-$name.log
		if [[ $suite == fuzz ]]; then
			corpus=$root/tests/fuzz/corpus/${name#fuzz-}
			scratch=$(mktemp -d)
			# New inputs go to the first folder (scratch); the seeds stay as they are.
			args=(-runs=20000 -max_len=4096 -timeout=10 "$scratch")
			[[ -d $corpus ]] && args+=("$corpus")
			(cd "$scratch" && "$t" "${args[@]}") >"$log" 2>&1
			rc=$?
			rm -rf "$scratch"
			if [[ $rc == 0 ]]; then echo "1 passed, 0 failed" >>"$log"; else echo "0 passed, 1 failed" >>"$log"; fi
		else
			XENCI_BUILD=$build XENCI_ROOT=$root "$t" >"$log" 2>&1 </dev/null
			rc=$?
		fi
		count "$suite/$name" "$log" "$rc"
	done
done
echo "$total_pass passed, $total_fail failed"
[[ $total_fail == 0 ]]

#!/usr/bin/env bash
# The house rules that a grep can hold (CONTRIBUTING.md says why each one):
#  - tests use tests/harness: no test carries its own `static long call(` HTTP helper;
#  - one monotonic clock: CLOCK_MONOTONIC only in lib/clock.c;
#  - no two files need each other: among controller/, lab-agent/, lib/ and cli/, no
#    x.c includes y.h while y.c includes x.h;
#  - a handler calls one domain function: no db_begin in controller/api-*.c;
#  - states are enums: no strcmp(...state, "...") in controller/;
#  - one console-log store: one controller/ file spells the log's path ("%lld.log");
#  - tests have an index: tests/README.md names every test file once;
#  - a store module's statements serve the read pool too: every controller/db-*.c that
#    keeps prepared statements declares them with DB_STATEMENTS (db.h);
#  - pages keep their CSP (style-src 'self', docs/security.md): no controller/ renderer
#    writes a style attribute or a <style> element.
# Ends with "N passed, N failed".
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
pass=0
fail=0

# rule NAME OFFENDERS: passes when OFFENDERS (one per line) is empty.
rule() {
	if [[ -z $2 ]]; then
		pass=$((pass + 1))
		echo "ok - $1"
	else
		fail=$((fail + 1))
		echo "FAIL - $1:"
		while IFS= read -r line; do echo "    $line"; done <<<"$2"
	fi
}

rule "controller/db-*.c keep their statements with DB_STATEMENTS (one set per connection)" \
	"$(grep -ln 'sqlite3_stmt \*[a-z_]*\[' controller/db-*.c)"

rule "no test carries its own call() helper (use harness_call)" \
	"$(grep -ln 'static long call(' tests/*/*.c)"

rule "CLOCK_MONOTONIC only in lib/clock.c (clock_mono_ms)" \
	"$(grep -rln 'CLOCK_MONOTONIC' controller lab-agent lib cli | grep -vx 'lib/clock\.[ch]')"

# Two files need each other when each .c includes the other's header: x.c includes
# "y.h" and y.c includes "x.h" (what a .c file uses is what it includes; a header that
# only names a type of the other is no loop). "y.h" resolves in the file's own folder
# first, then lib/ (the build's -Ilib); generated headers (build/gen) are nobody's.
include_loops() {
	local f dir from inc to
	declare -A edge=()
	for f in controller/*.c lab-agent/*.c lib/*.c cli/*.c; do
		dir=${f%/*}
		from=${f%.*}
		while read -r inc; do
			if [[ -f $dir/$inc ]]; then
				to=$(realpath -m --relative-to=. "$dir/${inc%.h}")
			elif [[ -f lib/$inc ]]; then
				to=lib/${inc%.h}
			else
				continue
			fi
			[[ $to != "$from" ]] && edge[$from>$to]=1
		done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
	done
	for e in "${!edge[@]}"; do
		from=${e%>*}
		to=${e#*>}
		[[ $from < $to && -n ${edge[$to>$from]:-} ]] && echo "$from <-> $to"
	done | sort
}
rule "no two-file #include loops in controller/, lab-agent/, lib/, cli/" "$(include_loops)"

rule "no transaction in a handler (db_begin in controller/api-*.c)" \
	"$(grep -n 'db_begin' controller/api-*.c)"

rule "no state compared as a string in controller/ (use the state enum)" \
	"$(grep -n 'strcmp([a-z_>.-]*state, "' controller/*.c)"

logs=$(grep -rl '%lld\.log' controller)
rule "one controller file spells the log path (%lld.log)" \
	"$( (($(wc -l <<<"$logs") > 1)) && echo "$logs")"

rule "no style attribute or <style> in controller/ pages (the CSP refuses inline styles)" \
	"$(grep -n 'style=\\"\|<style' controller/*.c)"

# Every test and benchmark of tests/SUITE is in the index exactly once.
unindexed() {
	local f n
	for f in tests/{unit,integration,e2e,docs,browser}/test-* tests/fuzz/fuzz-*.c tests/bench/bench-*; do
		[[ -f $f ]] || continue
		n=$(grep -oF "\`${f#tests/}\`" tests/README.md | wc -l)
		[[ $n == 1 ]] || echo "${f#tests/} is named $n times"
	done
}
rule "tests/README.md names every test file once" "$(unindexed)"

echo "$pass passed, $fail failed"
((fail == 0))

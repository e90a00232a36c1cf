# shellcheck shell=bash
# tests/harness/is.sh — what the shell unit tests share, sourced:
#   is NAME GOT WANT   counts a pass when GOT and WANT are the same string, else
#                      a failure, printing "FAIL NAME: got '…', want '…'"
#   is_run DESC CMD... runs CMD: a pass ("ok - DESC") when it succeeds, else a
#                      failure ("not ok - DESC")
#   is_end             prints "N passed, N failed" (tests/run.sh reads it) and
#                      returns 1 when anything failed
# The counters are is_pass and is_fail.
is_pass=0
is_fail=0

is() {
	if [ "$2" = "$3" ]; then
		is_pass=$((is_pass + 1))
	else
		echo "FAIL $1: got '$2', want '$3'"
		is_fail=$((is_fail + 1))
	fi
}

is_run() {
	local what=$1
	shift
	if "$@"; then
		echo "ok - $what"
		is_pass=$((is_pass + 1))
	else
		echo "not ok - $what"
		is_fail=$((is_fail + 1))
	fi
}

is_end() {
	echo "$is_pass passed, $is_fail failed"
	[ "$is_fail" -eq 0 ]
}

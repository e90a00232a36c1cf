#!/bin/sh
# A lab's power script, as the `command` power backend runs it, for the agent's
# tests: board-power.sh STATE-DIR on|off|cycle
#
# The "board" is a process (sleep) whose PID is in STATE-DIR/board.pid: on
# starts it, off stops it (by that PID), cycle does both. Every action is
# appended to STATE-DIR/actions. STATE-DIR/fail makes the script fail as a
# broken relay would (its text to stderr, exit 3); STATE-DIR/hang makes it hang
# (its own child sleeping too, with its PID in STATE-DIR/hang.pid), for the
# timeout.
set -eu
dir=$1
what=$2
echo "$what" >>"$dir/actions"
if [ -e "$dir/fail" ]; then
	echo "board-power: $(cat "$dir/fail")" >&2
	exit 3
fi
if [ -e "$dir/hang" ]; then
	sleep 300 &
	echo $! >"$dir/hang.pid"
	wait
fi
board_off() {
	if [ -e "$dir/board.pid" ]; then
		kill "$(cat "$dir/board.pid")" 2>/dev/null || true
		rm -f "$dir/board.pid"
	fi
}
board_on() {
	# setsid: the board outlives this script, as a powered board does
	setsid sleep 300 </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/board.pid"
}
case $what in
on) board_on ;;
off) board_off ;;
cycle)
	board_off
	board_on
	;;
*)
	echo "board-power: unknown action $what" >&2
	exit 2
	;;
esac

# shellcheck shell=sh
# TAP for the /init scripts of the dom0 initramfs (dom0-init.sh,
# dom0-guest.sh), sourced from /lib/xenci/tap.sh: result 0|1 DESCRIPTION
# prints the next "ok N - ..." or "not ok N - ..." line; n counts the tests,
# failed the failures.
n=0
failed=0
result() { # result 0|1 description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

#!/bin/sh
# A lab's power script for the QEMU arm64 board, as PDUDaemon's localcmdline
# driver and the agent's `command` power backend run it:
#     qemu-power.sh DIR on|off|cycle [OUTLET]
#     qemu-power.sh DIR dumpdtb FILE    the board's device tree, as QEMU makes it
# "Power" is a QEMU virt board (U-Boot, EL2 for Xen) that runs until switched
# off, like a board behind a relay: it netboots from DIR/tftp (the agent's
# netboot.tftp_dir) and its UART is the tty DIR/serial (one end of
# null-modem.py; ser2net serves the other). QEMU daemonizes once it is set up,
# so `on` returns when the board runs, or fails with QEMU's own words on
# stderr; DIR/qemu.pid names it for `off`. Every action is appended to
# DIR/actions with its outlet. DIR/qemu.extra holds more QEMU arguments, one a
# line (none by default). QEMU is qemu-system-aarch64 unless $QEMU says.
set -eu
dir=$1
what=$2
echo "$what ${3:-}" >>"$dir/actions"

board_off() {
	[ -e "$dir/qemu.pid" ] || return 0
	pid=$(cat "$dir/qemu.pid")
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/qemu.pid"
}

# The board's QEMU command line, the machine's options extended by $1 (a
# device tree dumped with the same line is the one the board boots with: QEMU
# virt's tree differs with and without -bios).
qemu() {
	serial=$(readlink -f "$dir/serial")
	more=$1
	shift
	set -- -machine "virt,virtualization=on,gic-version=3$more" -cpu cortex-a57 -m 2048 -smp 1 \
		-bios /usr/lib/u-boot/qemu_arm64/u-boot.bin -display none -monitor none -no-reboot \
		-netdev "user,id=n0,tftp=$dir/tftp,bootfile=boot.scr.uimg" \
		-device virtio-net-pci,netdev=n0 \
		-chardev "serial,id=con0,path=$serial" -serial chardev:con0 "$@"
	if [ -s "$dir/qemu.extra" ]; then
		while IFS= read -r arg; do set -- "$@" "$arg"; done <"$dir/qemu.extra"
	fi
	"${QEMU:-qemu-system-aarch64}" "$@" </dev/null
}

board_on() {
	if [ -e "$dir/qemu.pid" ] && kill -0 "$(cat "$dir/qemu.pid")" 2>/dev/null; then
		echo "qemu-power: the board is on already (pid $(cat "$dir/qemu.pid"))" >&2
		exit 1
	fi
	qemu "" -daemonize -pidfile "$dir/qemu.pid" >>"$dir/qemu.log" 2>"$dir/qemu.err" || {
		echo "qemu-power: QEMU did not start: $(tail -n 3 "$dir/qemu.err")" >&2
		exit 1
	}
}

case $what in
on) board_on ;;
off) board_off ;;
cycle)
	board_off
	board_on
	;;
dumpdtb) qemu ",dumpdtb=$3" ;;
*)
	echo "qemu-power: unknown action $what" >&2
	exit 2
	;;
esac

#!/bin/bash
# boot-test.sh [options] ARCH — netboot Xen and the dom0 test payload on a
# QEMU board the way the lab agent does (QEMU's user-net TFTP, the firmware's
# own netboot, the console on a unix socket), and print the timings.
#
#   ARCH                x86_64 (q35, iPXE) | arm64 (virt, U-Boot)
#   --xen FILE          Xen image to boot; its build-info.json is read from the
#                       same folder. Default: build hypervisor/xen with build.sh
#                       into build/hypervisor/ARCH (out of tree, incremental).
#   --payloads DIR      dom0-kernel and dom0-initrd. Default: build/payloads/ARCH,
#                       made by payloads.sh (cached).
#   --tools FILE        boot dom0-rootfs instead of dom0-initrd, made as the
#                       agent makes it: dom0-initrd, the payloads'
#                       dom0-guest-base and FILE (build-tools.sh's tools);
#                       pick its suite with --dom0-args xenci.suite=NAME
#   --no-script         stage no boot script: shows what the firmware prints
#   --xen-args ARGS     replace Xen's command line
#   --dom0-args ARGS    append to dom0's command line
#   --domus N           arm64: N dom0less domUs in the device tree (dom0's
#                       kernel, the payloads' domu-initrd, 256 MiB, 1 vCPU)
#   --no-dom0           arm64: no dom0, the domUs only; done when each domU's
#                       XENCI-GUEST-UP was seen
#   --smp SPEC          QEMU's -smp (default 1), e.g. sockets=1,cores=1,threads=2
#   --cpu MODEL         QEMU's -cpu (default QEMU's), e.g. qemu64,+npt
#   --timeout SECONDS   give up after this long (default 240)
#   --linger SECONDS    keep reading this long after the tests are done or a
#                       failure line was seen (default 15)
#   --keep DIR          stage into DIR and keep it (default: a temporary folder,
#                       removed unless the boot failed)
#   -v                  copy the console to stdout as it arrives
# The console is saved as DIR/console.log. Exit status 0 when the payload's
# tests all passed, 1 otherwise, 2 on bad usage.
set -euo pipefail
shopt -s extglob

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

die() { echo "boot-test.sh: $*" >&2; exit 1; }
usage() { sed -n '2,30s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

xen=
payloads=
tools=
script=1
xen_args=
dom0_extra=
timeout=240
smp=1
cpu=
linger=15
keep=
verbose=0
domus=0
dom0=1
while [ $# -gt 0 ]; do
	case $1 in
	--xen) xen=$2; shift 2 ;;
	--payloads) payloads=$2; shift 2 ;;
	--tools) tools=$2; shift 2 ;;
	--no-script) script=0; shift ;;
	--xen-args) xen_args=$2; shift 2 ;;
	--dom0-args) dom0_extra=$2; shift 2 ;;
	--domus) domus=$2; shift 2 ;;
	--no-dom0) dom0=0; shift ;;
	--smp) smp=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--linger) linger=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	-v) verbose=1; shift ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
arch=$1
case $arch in
x86_64)
	qemu='qemu-system-x86_64'
	dom0_mem=512M
	: "${xen_args:=console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem dom0_max_vcpus=1 loglvl=all guest_loglvl=all}"
	dom0_args="console=hvc0 earlyprintk=xen"
	;;
arm64)
	qemu='qemu-system-aarch64'
	dom0_mem=512M
	: "${xen_args:=console=dtuart dom0_mem=$dom0_mem dom0_max_vcpus=1 loglvl=all guest_loglvl=all}"
	dom0_args="console=hvc0"
	;;
*) usage ;;
esac
for tool in "$qemu" socat python3; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# Xen and what it will report.
if [ -z "$xen" ]; then
	"$here/build.sh" "$arch" "$here/xen" "$top/build/hypervisor/$arch" \
		"$top/build/hypervisor/$arch/obj" >/dev/null ||
		die "building hypervisor/xen for $arch failed"
	xen=$top/build/hypervisor/$arch/xen
fi
[ -f "$xen" ] || die "no Xen image at $xen"
info=$(dirname "$xen")/build-info.json
[ -f "$info" ] || die "no build-info.json next to $xen"
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$info" "$1"; }
xen_version=$(json xen_version)
# The changeset has spaces: percent-encode it into one command-line word.
changeset_arg=$(json changeset | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().rstrip("\n"), safe=":+-._~/"))')

if [ -z "$payloads" ]; then
	payloads=$top/build/payloads/$arch
	"$here/payloads.sh" "$arch" "$payloads" 2>/dev/null ||
		die "payloads.sh $arch failed"
fi
for f in dom0-kernel dom0-initrd; do
	[ -f "$payloads/$f" ] || die "no $f in $payloads"
done

dom0_args="$dom0_args xenci.xen_version=$xen_version xenci.changeset=$changeset_arg xenci.dom0_mem=$dom0_mem xenci.vcpus=1${dom0_extra:+ $dom0_extra}"

if [ -n "$keep" ]; then
	mkdir -p "$keep"
	stage=$(cd "$keep" && pwd)
else
	stage=$(mktemp -d "${TMPDIR:-/tmp}/xenci-boot.XXXXXX")
fi
tftp=$stage/tftp
rm -rf "$tftp"
mkdir -p "$tftp"
cp "$xen" "$tftp/xen"
cp "$payloads/dom0-kernel" "$payloads/dom0-initrd" "$tftp/"
if [ -n "$tools" ]; then
	# dom0-rootfs: newc archives one after the other (lab-agent/builder.c)
	cat "$payloads/dom0-initrd" "$payloads/dom0-guest-base" "$tools" >"$tftp/dom0-initrd" ||
		die "cannot make dom0-rootfs from $payloads and $tools"
fi
[ "$domus" = 0 ] || cp "$payloads/domu-initrd" "$tftp/" || die "no domu-initrd in $payloads"

# fill TEMPLATE NAME=VALUE...: replace each ${NAME}; any ${xenci_...} left over
# is a placeholder nobody filled, which is an error.
# The value is quoted: bash 5.2 reads '&' in an unquoted replacement as the match.
# The agent's netboot_fill gives the same result (tests/unit/test-agent-netboot.c).
fill() {
	local template=$1 text name value left
	text=$(<"$template")
	shift
	for kv in "$@"; do
		name=${kv%%=*}
		value=${kv#*=}
		text=${text//"\${$name}"/"$value"}
	done
	# shellcheck disable=SC2016 # a literal ${ in the pattern
	left=$(grep -o '\${xenci_[A-Za-z0-9_]*}' <<<"$text" | sort -u | tr '\n' ' ' || true)
	[ -z "$left" ] || die "$template: unfilled placeholders: $left"
	printf '%s\n' "$text"
}
# uboot_word VALUE: VALUE as one single-quoted U-Boot hush word, as the agent
# writes it (lib/boot-quote.c; a value the agent refuses is not checked here).
uboot_word() {
	local q="'\\''"
	printf "'%s'" "${1//\'/$q}"
}
vars=(
	xenci_xen=xen
	xenci_dom0_kernel=dom0-kernel
	xenci_dom0_initrd=dom0-initrd
)
if [ "$arch" = arm64 ]; then
	vars+=("xenci_xen_args=$(uboot_word "$xen_args")" "xenci_dom0_args=$(uboot_word "$dom0_args")")
else
	vars+=("xenci_xen_args=$xen_args" "xenci_dom0_args=$dom0_args")
fi
if [ "$script" = 1 ]; then
	case $arch in
	x86_64)
		fill "$here/boot/ipxe.template" "${vars[@]}" >"$tftp/boot.ipxe"
		;;
	arm64)
		command -v mkimage >/dev/null || die "missing tool: mkimage (u-boot-tools)"
		domu_list=-
		[ "$domus" = 0 ] || domu_list=$(seq -s ' ' 1 "$domus")
		# shellcheck disable=SC2016 # ${fdt_addr} is U-Boot's variable
		fill "$here/boot/uboot.template" "${vars[@]}" \
			xenci_dom0=$dom0 "xenci_domus=$domu_list" xenci_domu_initrd=domu-initrd \
			xenci_domu_initrd_addr=0x4c000000 xenci_domu_memory=0x40000 xenci_domu_cpus=0x1 \
			xenci_xen_addr=0x40400000 xenci_kernel_addr=0x41000000 \
			xenci_initrd_addr=0x44000000 'xenci_fdt_addr=${fdt_addr}' xenci_dtb= \
			>"$stage/boot.scr"
		mkimage -q -A arm64 -O linux -T script -C none -n xenci \
			-d "$stage/boot.scr" "$tftp/boot.scr.uimg" >/dev/null
		;;
	esac
fi

sock=$stage/console.sock
rm -f "$sock"
# shellcheck disable=SC2054 # the commas are QEMU's
case $arch in
x86_64)
	cmd=("$qemu" -machine q35 -m 1024 -smp "$smp" -nographic -no-reboot
		-netdev "user,id=n0,tftp=$tftp,bootfile=boot.ipxe" -device e1000,netdev=n0
		-chardev "socket,id=c0,path=$sock,server=on,wait=on" -serial chardev:c0)
	[ -z "$cpu" ] || cmd+=(-cpu "$cpu")
	;;
arm64)
	cmd=("$qemu" -machine virt,virtualization=on,gic-version=3 -cpu cortex-a57
		-m 2048 -bios /usr/lib/u-boot/qemu_arm64/u-boot.bin -nographic -no-reboot
		-netdev "user,id=n0,tftp=$tftp,bootfile=boot.scr.uimg" -device virtio-net-pci,netdev=n0
		-chardev "socket,id=c0,path=$sock,server=on,wait=on" -serial chardev:c0)
	;;
esac
printf '%q ' "${cmd[@]}" >"$stage/qemu.cmd"
echo >>"$stage/qemu.cmd"

qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		sleep 1
		kill -9 "$qpid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
"${cmd[@]}" </dev/null >"$stage/qemu.out" 2>&1 &
qpid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$qpid" 2>/dev/null || die "QEMU exited at once: $(cat "$stage/qemu.out")"
	sleep 0.1
done
[ -S "$sock" ] || die "QEMU made no console socket"

# Read the console; QEMU starts the guest once we are connected (wait=on), so
# times count from the connection.
log=$stage/console.log
: >"$log"
tlog=$stage/console.tlog
: >"$tlog"
t0=${EPOCHREALTIME/./}
elapsed() { # seconds since t0, one decimal, without forking
	local ds=$(((${EPOCHREALTIME/./} - t0) / 100000))
	echo "$((ds / 10)).$((ds % 10))"
}
t_fw='' t_banner='' t_up='' t_done='' t_exit='' failure=''
domus_up=0
ok=0
notok=0
after_done=
exec 3< <(socat -u "UNIX-CONNECT:$sock" STDOUT 2>/dev/null)
deadline=$((SECONDS + timeout))
while :; do
	left=$((deadline - SECONDS))
	[ -n "$after_done" ] && left=$((after_done - SECONDS))
	[ "$left" -gt 0 ] || break
	line=
	if ! IFS= read -r -t "$left" -u 3 line; then
		# EOF (QEMU exited) or timeout; keep a partial last line.
		[ -z "$line" ] || printf '%s\n' "$line" >>"$log"
		if ! kill -0 "$qpid" 2>/dev/null; then
			t_exit=$(elapsed)
		fi
		break
	fi
	line=${line%$'\r'}
	clean=${line//$'\e'\[*([0-9;?])[A-Za-z]/}
	printf '%s\n' "$line" >>"$log"
	printf '%6s %s\n' "$(elapsed)" "$clean" >>"$tlog"
	[ "$verbose" = 0 ] || printf '%s\n' "$line"
	case $clean in
	*iPXE* | *U-Boot*) : "${t_fw:=$(elapsed)}" ;;
	esac
	case $clean in
	*"Xen version "[0-9]*) : "${t_banner:=$(elapsed)}" ;;
	*XENCI-DOM0-UP*) : "${t_up:=$(elapsed)}" ;;
	"(XEN) DOM"[0-9]*": XENCI-GUEST-UP"*)
		domus_up=$((domus_up + 1))
		if [ "$dom0" = 0 ] && [ "$domus_up" -ge "$domus" ]; then
			t_done=$(elapsed)
			after_done=$((SECONDS + linger))
		fi
		;;
	*XENCI-TESTS-DONE*)
		t_done=$(elapsed)
		after_done=$((SECONDS + linger)) # let it power off
		;;
	"ok "[0-9]*) ok=$((ok + 1)) ;;
	"not ok "[0-9]*) notok=$((notok + 1)) ;;
	*"Panic on CPU"* | *"Kernel panic"* | *"No bootable device"* | *XENCI-BOOT-FAILED*)
		: "${failure:=$clean}"
		after_done=${after_done:-$((SECONDS + linger))}
		;;
	esac
done
if [ -z "$t_exit" ]; then
	sleep 0.5
	kill -0 "$qpid" 2>/dev/null || t_exit=$(elapsed)
fi
cleanup
wait "$qpid" 2>/dev/null || true
qpid=
exec 3<&-

printf 'boot-test: %s: firmware %ss, xen banner %ss, dom0 up %ss, tests done %ss, qemu %s; tests %d ok, %d not ok%s\n' \
	"$arch" "${t_fw:--}" "${t_banner:--}" "${t_up:--}" "${t_done:--}" \
	"$([ -n "$t_exit" ] && echo "exited at ${t_exit}s" || echo "killed")" "$ok" "$notok" \
	"$([ "$domus" = 0 ] || echo "; $domus_up of $domus domUs up")"
[ -z "$failure" ] || echo "boot-test: failure line: $failure"
if [ -n "$t_done" ] && [ "$notok" -eq 0 ] && { [ "$ok" -gt 0 ] || [ "$dom0" = 0 ]; } &&
	[ "$domus_up" -ge "$domus" ] && [ -z "$failure" ]; then
	if [ -n "$keep" ]; then
		echo "boot-test: console log: $log"
	else
		rm -rf "$stage"
	fi
	exit 0
fi
echo "boot-test: console log: $log (with timestamps: $tlog)"
exit 1

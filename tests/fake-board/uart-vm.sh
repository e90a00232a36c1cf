#!/bin/bash
# uart-vm.sh OUTDIR AGENT — a small x86_64 VM for an agent that reads a real
# tty driver: OUTDIR/vmlinuz (Debian's generic kernel, the package
# hypervisor/payloads.sh caches) and OUTDIR/initrd (busybox-static, AGENT and
# U-Boot's mkimage (the uboot netboot backend runs it) with the shared
# libraries they link, the kernel's modules for USB serial adapters
# (xhci, usbserial, ftdi_sio), e1000 and 9p over virtio, and uart-vm-init.sh
# as /init). Run it with QEMU:
#     -kernel OUTDIR/vmlinuz -initrd OUTDIR/initrd
#     -append 'console=ttyS0 panic=-1 no_timer_check'   (under TCG on a loaded
#         machine the kernel's check of the IO-APIC timer fails and panics)
#     -netdev user,... -device e1000 (the host's 127.0.0.1 is 10.0.2.2)
#     -virtfs local,path=LAB,mount_tag=lab,security_model=none
#     -device qemu-xhci -device usb-serial,chardev=...   (/dev/ttyUSB0)
# /init mounts LAB on /lab and runs /lab/vm-run.sh, which the caller writes.
# The kernel's package is found in ${XENCI_CACHE:-~/.cache/xenci}/debs/x86_64
# (hypervisor/payloads.sh x86_64 DIR downloads it there), or downloaded as
# payloads.sh does. Exit status 1 with a message when something is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${XENCI_CACHE:-$HOME/.cache/xenci}
die() {
	echo "uart-vm.sh: $*" >&2
	exit 1
}
[ $# -eq 2 ] || {
	echo "usage: uart-vm.sh OUTDIR AGENT" >&2
	exit 2
}
out=$1
agent=$2
[ -x "$agent" ] || die "no agent binary $agent"
[ -x /bin/busybox ] || die "no /bin/busybox (apt-get install busybox-static)"
mkimage=$(command -v mkimage) || die "no mkimage (apt-get install u-boot-tools)"

kdeb=$(find "$cache/debs/x86_64" -maxdepth 1 -name 'linux-image-[0-9]*-amd64_*.deb' 2>/dev/null |
	sort -V | tail -n 1)
if [ -z "$kdeb" ]; then
	tmp=$(mktemp -d)
	"$root/hypervisor/payloads.sh" x86_64 "$tmp" >/dev/null || die "payloads.sh x86_64 failed"
	rm -rf "$tmp"
	kdeb=$(find "$cache/debs/x86_64" -maxdepth 1 -name 'linux-image-[0-9]*-amd64_*.deb' |
		sort -V | tail -n 1)
	[ -n "$kdeb" ] || die "no linux-image package in $cache/debs/x86_64"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xenci-uart-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" ./boot ./lib/modules
vmlinuz=$(find "$work/boot" -name 'vmlinuz-*' -print -quit)
[ -n "$vmlinuz" ] || die "no vmlinuz in $kdeb"
kver=${vmlinuz##*/vmlinuz-}
mods=$work/lib/modules/$kver

# The modules /init loads, each after what it depends on (.modinfo's depends=).
declare -A path_of=() done_mod=()
while IFS= read -r f; do
	n=${f##*/}
	n=${n%.ko}
	path_of[${n//-/_}]=$f
done < <(find "$mods" -name '*.ko')
order=()
add() {
	local m=${1//-/_} d
	[ -z "${done_mod[$m]:-}" ] || return 0
	[ -n "${path_of[$m]:-}" ] || die "$kver has no module $m"
	done_mod[$m]=1
	for d in $(tr '\0' '\n' <"${path_of[$m]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add "$d"
	done
	order+=("$m")
}
for m in xhci_pci ehci_pci usbserial ftdi_sio e1000 9pnet_virtio 9p virtio_pci; do
	add "$m"
done

list=$work/list
{
	echo "dir /bin 0755"
	echo "dir /dev 0755"
	echo "dir /proc 0755"
	echo "dir /sys 0755"
	echo "dir /tmp 01777"
	echo "dir /lab 0755"
	echo "dir /lib 0755"
	echo "dir /lib/modules 0755"
	echo "nod /dev/console 0600 c 5 1"
	echo "file /bin/busybox /bin/busybox 0755"
	for t in sh mount mkdir ip sleep cat insmod ls stty poweroff echo; do
		echo "slink /bin/$t busybox 0777"
	done
	echo "file /init $here/uart-vm-init.sh 0755"
	echo "file /bin/xenci-agent $agent 0755"
	echo "dir /usr/bin 0755"
	echo "file /usr/bin/mkimage $mkimage 0755"
	for m in "${order[@]}"; do
		echo "file /lib/modules/$m.ko ${path_of[$m]} 0644"
	done
	# their shared libraries, at the paths the loader looks for them
	ldd "$agent" "$mkimage" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | sort -u |
		while IFS= read -r lib; do
			d=$(dirname "$lib")
			echo "dir $d 0755"
			echo "file $lib $(readlink -f "$lib") 0755"
		done
} >"$list.raw"
# folders once each, parents first (mkcpio.py writes them as listed)
awk '$1 == "dir" { n = split($2, p, "/"); s = ""; for (i = 2; i <= n; i++) { s = s "/" p[i];
	if (!(s in seen)) { seen[s] = 1; print "dir " s " " (i == n ? $3 : "0755") } } next }
	{ print }' "$list.raw" >"$list"
printf '%s\n' "${order[@]}" >"$work/modules.order"
echo "file /lib/modules/order $work/modules.order 0644" >>"$list"

mkdir -p "$out"
python3 "$root/hypervisor/mkcpio.py" "$list" "$out/initrd.new"
mv "$out/initrd.new" "$out/initrd"
cp "$vmlinuz" "$out/vmlinuz"
echo "$(basename "$kdeb")" >"$out/kernel-package"

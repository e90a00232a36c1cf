#!/bin/sh
# xenci dom0 test payload: /init of the dom0 initramfs (busybox sh).
#
# Prints TAP on the console and then powers the machine off:
#   XENCI-DOM0-UP
#   1..5
#   ok 1 - hypervisor type is xen
#   ok 2 - xen version matches
#   ok 3 - xen changeset matches
#   ok 4 - all vcpus online
#   ok 5 - dom0 memory matches dom0_mem
#   XENCI-TESTS-DONE
# Diagnostics are TAP comments ("# ..."). Expected values come from the dom0
# kernel command line, so one initramfs serves every build:
#   xenci.xen_version=4.17.5      what /sys/hypervisor/version/* must spell
#   xenci.changeset=VALUE         /sys/hypervisor/properties/changeset; the
#                                 value has spaces, so write it either
#                                 percent-encoded (space %20, '%' %25, '"' %22)
#                                 or in double quotes; both are decoded here
#   xenci.dom0_mem=512M           the memory Xen was told to give dom0
#                                 (dom0_mem=512M; suffix K/M/G/T, a bare
#                                 number is MiB: xenci.dom0_mem=512)
#   xenci.vcpus=N                 optional: the number of vcpus dom0 must have
#   xenci.poweroff=0              optional: stay in a shell instead
# A missing expected value fails its test; it never passes silently.

# Everything goes to the console; without this nothing reaches the board's
# serial line (the kernel starts /init with no open descriptors on some paths).
exec </dev/console >/dev/console 2>&1

bb=/bin/busybox
$bb mkdir -p /proc /sys /tmp /run
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb --install -s /bin
export PATH=/bin:/sbin

echo "XENCI-DOM0-UP"

# key<TAB>value for each xenci.* parameter of the kernel command line, with
# double quotes honoured and %XX decoded.
cmdline_params() {
	awk '
	function decode(s,   out, i, c, hex) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			hex = tolower(substr(s, i + 1, 2))
			if (c == "%" && hex ~ /^[0-9a-f][0-9a-f]$/) {
				out = out sprintf("%c", (index("0123456789abcdef", substr(hex, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr(hex, 2, 1)) - 1)
				i += 2
			} else
				out = out c
		}
		return out
	}
	function emit(w,   eq) {
		eq = index(w, "=")
		if (w ~ /^xenci\./ && eq > 0)
			printf "%s\t%s\n", substr(w, 7, eq - 7), decode(substr(w, eq + 1))
	}
	{
		w = ""; q = 0; have = 0
		for (i = 1; i <= length($0); i++) {
			c = substr($0, i, 1)
			if (c == "\"") { q = !q; have = 1; continue }
			if (!q && (c == " " || c == "\t")) {
				if (have) emit(w)
				w = ""; have = 0
				continue
			}
			w = w c; have = 1
		}
		if (have) emit(w)
	}' /proc/cmdline
}

param() {
	cmdline_params | awk -F '\t' -v k="$1" '$1 == k { v = $2; f = 1 } END { if (f) print v; exit !f }'
}

# result 0|1 DESCRIPTION, the counters n and failed (hypervisor/tap.sh)
# shellcheck source=hypervisor/tap.sh
. /lib/xenci/tap.sh

# A size with suffix K/M/G/T (a bare number is MiB) -> KiB.
size_kb() {
	awk -v s="$1" 'BEGIN {
		if (s !~ /^[0-9]+[kKmMgGtT]?$/) exit 1
		u = tolower(substr(s, length(s)))
		v = s + 0
		if (u == "k") v = v
		else if (u ~ /[0-9]/ || u == "m") v *= 1024
		else if (u == "g") v *= 1048576
		else if (u == "t") v *= 1073741824
		printf "%d\n", v
	}'
}

readf() { cat "$1" 2>/dev/null; }

echo "1..5"
echo "# dom0: $(uname -r), $(grep -c '^processor' /proc/cpuinfo) vcpu(s), balloon current_kb $(readf /sys/devices/system/xen_memory/xen_memory0/info/current_kb), MemTotal $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) kB"
echo "# xen: $(readf /sys/hypervisor/version/major).$(readf /sys/hypervisor/version/minor)$(readf /sys/hypervisor/version/extra), changeset '$(readf /sys/hypervisor/properties/changeset)'"

# 1: running on Xen at all
type=$(readf /sys/hypervisor/type)
[ "$type" = xen ]
r=$?
[ $r -eq 0 ] || echo "# /sys/hypervisor/type: '${type:-<missing>}'"
result $r "hypervisor type is xen"

# 2: the version the build said it is
got=$(readf /sys/hypervisor/version/major).$(readf /sys/hypervisor/version/minor)$(readf /sys/hypervisor/version/extra)
if want=$(param xen_version); then
	[ "$got" = "$want" ]
	r=$?
	[ $r -eq 0 ] || echo "# got '$got', expected '$want'"
else
	r=1
	echo "# got '$got'; no xenci.xen_version= on the kernel command line"
fi
result $r "xen version matches"

# 3: the changeset (which commit was built), exactly as Xen reports it
got=$(readf /sys/hypervisor/properties/changeset)
if want=$(param changeset); then
	[ "$got" = "$want" ]
	r=$?
	[ $r -eq 0 ] || echo "# got '$got', expected '$want'"
else
	r=1
	echo "# got '$got'; no xenci.changeset= on the kernel command line"
fi
result $r "xen changeset matches"

# 4: every vcpu Xen gave dom0 came up
present=$(readf /sys/devices/system/cpu/present)
online=$(readf /sys/devices/system/cpu/online)
count=$(grep -c '^processor' /proc/cpuinfo)
r=0
if [ -z "$online" ] || [ "$present" != "$online" ]; then
	r=1
fi
if want=$(param vcpus) && [ "$count" != "$want" ]; then
	r=1
fi
[ $r -eq 0 ] || echo "# present '$present', online '$online', $count in /proc/cpuinfo, expected '${want:-any}'"
result $r "all vcpus online"

# 5: dom0 got the memory dom0_mem asked for. The balloon driver's view of the
# domain's allocation (current_kb) is dom0_mem to the page; MemTotal is less
# by what the kernel reserves, so it is only reported.
got=$(readf /sys/devices/system/xen_memory/xen_memory0/info/current_kb)
total=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
if spec=$(param dom0_mem); then
	if want=$(size_kb "$spec"); then
		[ "$got" = "$want" ]
		r=$?
	else
		r=1
		echo "# cannot parse xenci.dom0_mem='$spec'"
	fi
	[ $r -eq 0 ] || echo "# balloon current_kb '${got:-<missing>}', expected '${want:-?}' kB; MemTotal $total kB"
else
	r=1
	echo "# balloon current_kb '${got:-<missing>}'; no xenci.dom0_mem= on the kernel command line"
fi
result $r "dom0 memory matches dom0_mem"

echo "# $failed of $n failed"
echo "XENCI-TESTS-DONE"

if [ "$(param poweroff)" = 0 ]; then
	exec sh
fi
sync
poweroff -f
# Should poweroff return, do not let init exit (that panics the kernel).
while :; do sleep 3600; done

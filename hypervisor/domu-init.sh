#!/bin/sh
# xenci guest payload: /init of the domU initramfs (busybox sh), started by
# the guests that dom0-guest.sh creates. On the guest's console (hvc0, which
# xenconsoled logs in dom0) it prints
#   XENCI-GUEST-UP type=PV|PVH vcpus=N mem_kb=K
# then "XENCI-GUEST-COUNT n" every 2 s (a counter that keeps counting: the
# same process goes on after xl save/restore or a migration), and answers
# commands typed on its console (what `xl console` sends), one a line:
#   xenci-cmd ID COMMAND      ->  XENCI-REPLY ID ANSWER
# COMMAND: echo WORD (WORD), uname (the kernel release), vcpus (online
# vCPUs), mem (MemTotal in kB), count (the counter's last value), type (PV,
# PVH); anything else answers "unknown COMMAND". ID is one word, so the
# answer is told from the console's echo of the command line.
# `xl shutdown` reaches Linux as a PV shutdown request; the kernel runs
# /sbin/poweroff, which prints XENCI-GUEST-DOWN and powers the guest off.
exec </dev/console >/dev/console 2>&1

bb=/bin/busybox
$bb mkdir -p /proc /sys /sbin /run
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb --install -s /bin
export PATH=/bin:/sbin

# The kernel's orderly poweroff runs /sbin/poweroff without a console.
cat >/sbin/poweroff <<'EOF'
#!/bin/sh
echo XENCI-GUEST-DOWN >/dev/console
sync
exec /bin/busybox poweroff -f
EOF
chmod 755 /sbin/poweroff

gtype=$(cat /sys/hypervisor/guest_type 2>/dev/null || echo unknown)
echo "XENCI-GUEST-UP type=$gtype" \
	"vcpus=$(grep -c '^processor' /proc/cpuinfo)" \
	"mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
(
	n=0
	while :; do
		n=$((n + 1))
		echo "XENCI-GUEST-COUNT $n"
		echo "$n" >/run/count
		sleep 2
	done
) &

# The console's echo of a command line is not an answer: answers start with
# XENCI-REPLY, which a typed line never does.
while :; do
	read -r word id cmd arg || { sleep 1; continue; }
	if [ "$word" != xenci-cmd ] || [ -z "$id" ]; then continue; fi
	case $cmd in
	echo) a=$arg ;;
	uname) a=$(uname -r) ;;
	vcpus) a=$(grep -c '^processor' /proc/cpuinfo) ;;
	mem) a=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) ;;
	count) a=$(cat /run/count 2>/dev/null) ;;
	type) a=$gtype ;;
	*) a="unknown $cmd" ;;
	esac
	echo "XENCI-REPLY $id $a"
done

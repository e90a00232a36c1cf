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
# PVH), spin (starts a busy loop pinned to each online vCPU, counting; the
# answer lists the vCPUs), spins (each loop's count, "0:N 1:N ..."); anything
# else answers "unknown COMMAND". ID is one word, so the
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
	spin)
		a=
		c=0
		while [ $c -lt "$(grep -c '^processor' /proc/cpuinfo)" ]; do
			# the count is renamed into place: a reader never sees the
			# file between its truncation and its write
			# shellcheck disable=SC2016 # expanded by the loop's shell
			taskset -c $c sh -c 'i=0; while :; do i=$((i + 1)); [ $((i % 200)) -ne 0 ] || { echo $i >/run/spin.$0.new && mv -f /run/spin.$0.new /run/spin.$0; }; done' $c &
			a="$a $c"
			c=$((c + 1))
		done
		a=${a# }
		;;
	spins)
		a=
		for f in /run/spin.[0-9]*; do
			case $f in *.new) continue ;; esac
			v=$(cat "$f" 2>/dev/null)
			a="$a ${f#/run/spin.}:${v:-0}"
		done
		a=${a# }
		;;
	*) a="unknown $cmd" ;;
	esac
	echo "XENCI-REPLY $id $a"
done

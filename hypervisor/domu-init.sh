#!/bin/sh
# xenci guest payload: /init of the domU initramfs (busybox sh), started by
# the guests that dom0-guest.sh creates. On the guest's console (hvc0, which
# xenconsoled logs in dom0) it prints
#   XENCI-GUEST-UP type=PV|PVH vcpus=N mem_kb=K
# then "XENCI-GUEST-COUNT n" every 2 s (a counter that keeps counting).
# `xl shutdown` reaches Linux as a PV shutdown request; the kernel runs
# /sbin/poweroff, which prints XENCI-GUEST-DOWN and powers the guest off.
exec </dev/console >/dev/console 2>&1

bb=/bin/busybox
$bb mkdir -p /proc /sys /sbin
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

echo "XENCI-GUEST-UP type=$(cat /sys/hypervisor/guest_type 2>/dev/null || echo unknown)" \
	"vcpus=$(grep -c '^processor' /proc/cpuinfo)" \
	"mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
n=0
while :; do
	n=$((n + 1))
	echo "XENCI-GUEST-COUNT $n"
	sleep 2
done

#!/bin/sh
# /init of the VM that tests/fake-board/uart-vm.sh makes: the kernel's
# filesystems, the modules in /lib/modules/order, the network as QEMU's user
# networking gives it (10.0.2.15, the host's 127.0.0.1 as 10.0.2.2), the
# lab's folder (9p, tag "lab") on /lab, then /lab/vm-run.sh. Powers off when
# it returns.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || echo "uart-vm: insmod $m failed"
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=mmap lab /lab ||
	echo "uart-vm: no lab folder"
echo "uart-vm: up"
if [ -x /lab/vm-run.sh ]; then
	/lab/vm-run.sh
	echo "uart-vm: vm-run.sh exited $?"
fi
poweroff -f

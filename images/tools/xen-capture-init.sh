#!/bin/sh
# /init of the capture kernel of images/make-xen-dumps.sh's host kdump: the
# same Debian kernel, loaded by dom0's `kexec -p` into Xen's crashkernel
# area and started by Xen when it crashes; it runs on the bare (QEMU)
# machine.  It copies /proc/vmcore (the ELF core kexec-tools and Xen
# describe: Xen's per-CPU notes, all of RAM but the crash area) as it is to
# the virtio disk whose serial is dfs-vmcore, prints DFS-CAPTURE-DONE and
# reboots (QEMU runs with -no-reboot, so it exits).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "DFS-CAPTURE-UP $(uname -r); /proc/vmcore $(stat -c %s /proc/vmcore 2>&1) bytes; cmdline: $(cat /proc/cmdline)"
for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || echo "DFS-CAPTURE: insmod $m failed"
done
dev=
i=0
while [ -z "$dev" ] && [ $i -lt 150 ]; do
    for b in /sys/block/vd*; do
        [ "$(cat "$b/serial" 2>/dev/null)" = dfs-vmcore ] && dev=/dev/${b##*/}
    done
    [ -n "$dev" ] || { sleep 0.2; i=$((i + 1)); }
done
if [ -z "$dev" ]; then
    echo "DFS-CAPTURE-FAILED no disk with serial dfs-vmcore: $(ls /sys/block)"
else
    echo "DFS-CAPTURE: copying /proc/vmcore to $dev"
    dd if=/proc/vmcore of="$dev" bs=1M 2>&1 | tail -1
    sync
    echo "DFS-CAPTURE-DONE $dev"
fi
sleep 1
reboot -f

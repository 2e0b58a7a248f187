#!/bin/sh
# /init of the foreign-architecture guests of make-foreign-dumps.sh (the
# architecture's own busybox-static).  Mounts proc/sys, writes a recognisable
# pattern into a tmpfs file (so it lies in guest RAM), prints DFS-READY on the
# console and idles.  The marker lines are composed at run time
# ("line $i"), so "DUMPFS-FOREIGN-MARKER <uname -m> line 1234 ..." exists only
# in the data written here, never in this script's own text.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs -o size=16m tmpfs /tmp
M=$(uname -m)
echo "DFS: busybox init on $(uname -r) machine $M; cmdline: $(cat /proc/cmdline)"

# qemu_fw_cfg hands the kernel's VMCOREINFO to QEMU's -device vmcoreinfo (arm virt)
if [ -f /lib/modules/qemu_fw_cfg.ko ] && insmod /lib/modules/qemu_fw_cfg.ko; then
    echo "DFS: qemu_fw_cfg loaded"
fi
if [ -e /sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo ]; then
    echo "DFS: fw_cfg etc/vmcoreinfo present"
else
    echo "DFS: fw_cfg etc/vmcoreinfo absent"
fi

sh -c 'exec sleep 99999' &
i=0
while [ $i -lt 4096 ]; do
    echo "DUMPFS-FOREIGN-MARKER $M line $i 0123456789abcdef"
    i=$((i+1))
done > /tmp/marker.txt
sync
echo "DFS: marker $(wc -c < /tmp/marker.txt) bytes; $(grep -E '^(MemTotal|MemFree)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
echo "DFS-READY"
while :; do sleep 3600; done

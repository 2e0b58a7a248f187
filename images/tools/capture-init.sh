#!/bin/sh
# /init of the kdump capture kernel's initramfs (booted by kexec -p after the panic).
#   /dev/vda <- makedumpfile -F -c -d 31 /proc/vmcore   (flattened, zlib)
#   /dev/vdb <- dd if=/proc/vmcore                       (the kernel's own ELF vmcore)
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "DFS-CAPTURE: up on $(uname -r); /proc/vmcore $(stat -c %s /proc/vmcore) bytes"
for m in $(cat /lib/modules/order); do
    insmod /lib/modules/$m.ko || echo "DFS-CAPTURE: insmod $m failed"
done
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
ls -l /dev/vd* 2>&1
if makedumpfile -F -c -d 31 /proc/vmcore > /dev/vda 2> /tmp/mdf.err; then rc=0; else rc=$?; fi
echo "DFS-CAPTURE: makedumpfile -F -c -d 31 rc=$rc"
tr '\r' '\n' < /tmp/mdf.err | grep -v -e '^Checking' -e '^Excluding' -e '^Copying' -e '^$' | tail -20
dd if=/proc/vmcore of=/dev/vdb bs=1M 2>&1 | tail -1
sync
echo "DFS-CAPTURE-DONE"
reboot -f

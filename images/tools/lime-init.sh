#!/bin/sh
# /init of the LiME guest (busybox initramfs built by images/make-lime-dumps.sh).
# Runs the ordinary test guest's /init (tools/guest-init.sh, installed as
# /bin/guest-init.sh, unchanged) in the background, its console output copied
# to /tmp/guest-init.log; once it says DFS-READY, loads the virtio disk
# modules (lib/modules/order), prints the kernel's /proc/iomem (DFS-IOMAP
# LINE; root sees real addresses) and its "System RAM" ranges (DFS-IOMEM
# START-END) and the addresses of _stext, _etext, __start_rodata and
# __end_rodata (DFS-KSYM ADDRESS TYPE NAME), and captures memory with
# LiME (/lib/modules/lime.ko) to the virtio disks:
#   /dev/vdc format=padded, /dev/vdb format=raw, then /dev/vda format=lime
# (timeout=0: under TCG a page may take longer than LiME's default 1000 ms
# limit, after which LiME would pad the rest of the range with zeros).
# Right after the format=lime capture returns it prints DFS-LIME-DONE and does
# nothing more, so that the host's QMP stop + dump-guest-memory that follows
# sees the same unchanged pages (kernel text, /tmp/marker.txt).
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox sh /bin/guest-init.sh 2>&1 | /bin/busybox tee /tmp/guest-init.log &
n=0
while ! /bin/busybox grep -q '^DFS-READY' /tmp/guest-init.log 2>/dev/null; do
    n=$((n + 1))
    [ $n -gt 600 ] && { echo "DFS-LIME-FAILED no DFS-READY"; break; }
    /bin/busybox sleep 1
done
# the disks LiME writes to: virtio_pci, virtio_blk (modules in Debian's kernel)
for m in $(/bin/busybox cat /lib/modules/order 2>/dev/null); do
    /bin/busybox insmod "/lib/modules/$m.ko" || echo "DFS: insmod $m failed"
done
n=0
while [ ! -b /dev/vdc ] && [ $n -lt 30 ]; do /bin/busybox sleep 1; n=$((n + 1)); done
/bin/busybox sleep 1
/bin/busybox sed 's/^/DFS-IOMAP /' /proc/iomem
/bin/busybox grep 'System RAM' /proc/iomem | /bin/busybox sed 's/^ *\([0-9a-f]*-[0-9a-f]*\) : .*/DFS-IOMEM \1/'
# the kernel's text and read-only data (the gaps between them are freed at boot)
/bin/busybox grep -E ' (_stext|_etext|__start_rodata|__end_rodata)$' /proc/kallsyms | /bin/busybox sed 's/^/DFS-KSYM /'
echo "DFS: lime.ko $(/bin/busybox md5sum /lib/modules/lime.ko | /bin/busybox cut -d' ' -f1)"
for spec in padded:/dev/vdc raw:/dev/vdb lime:/dev/vda; do
    fmt=${spec%%:*} dev=${spec#*:}
    [ -b "$dev" ] || { echo "DFS-LIME-FAILED $fmt: no $dev"; continue; }
    echo "DFS-LIME-START $fmt $dev"
    /bin/busybox insmod /lib/modules/lime.ko "path=$dev" "format=$fmt" timeout=0
    rc=$?
    if [ "$fmt" = lime ]; then
        # nothing else first: the host stops the guest on this line
        echo "DFS-LIME-DONE lime rc=$rc"
        break
    fi
    echo "DFS-LIME-END $fmt rc=$rc"
    /bin/busybox rmmod lime
done
while :; do /bin/busybox sleep 3600; done

#!/bin/sh
# /init of the Xen domUs of images/make-xen-dumps.sh (busybox initramfs; the
# kernel is Debian's linux-image-amd64, booted by xl as a PV or PVH guest;
# its console is hvc0, which xenconsoled in dom0 logs to a file).
# It leaves some recognisable state in memory (a marker file in the page
# cache, a few sleeping processes), lets `xl sysrq DOM c` crash the kernel
# (the sysrq mask of Debian's kernel lacks the crash key: 1 enables all),
# prints the processes (DFS-PS PID STATE PPID COMM) and then DFS-READY, and
# idles; dom0 waits for that line in the console log.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "DFS-DOMU: busybox init on $(uname -r); cmdline: $(cat /proc/cmdline)"
echo "DFS-DOMU: hypervisor $(cat /sys/hypervisor/type 2>/dev/null) $(cat /sys/hypervisor/version/major 2>/dev/null).$(cat /sys/hypervisor/version/minor 2>/dev/null)$(cat /sys/hypervisor/version/extra 2>/dev/null); guest type $(cat /sys/hypervisor/guest_type 2>/dev/null); $(nproc) CPUs"
echo 1 > /proc/sys/kernel/sysrq
echo "DFS-DOMU: sysrq $(cat /proc/sys/kernel/sysrq)"
sh -c 'while :; do sleep 1; done' &
sh -c 'exec sleep 99999' &
i=0
while [ $i -lt 4096 ]; do echo "DUMPFS-XEN-MARKER line $i 0123456789abcdef"; i=$((i+1)); done > /tmp/marker.txt
sleep 1
grep -E '^(MemTotal|MemFree)' /proc/meminfo | tr -s ' ' | sed 's/^/DFS-DOMU: /'
for d in /proc/[0-9]*; do
    awk -v pid="${d#/proc/}" '/^State:/ {s = $2} /^PPid:/ {pp = $2} /^Name:/ {sub(/^Name:\t/, ""); n = $0}
        END {if (s != "") printf "DFS-PS %s %s %s %s\n", pid, s, pp, n}' "$d/status" 2>/dev/null
done
echo "DFS-READY"
while :; do sleep 3600; done

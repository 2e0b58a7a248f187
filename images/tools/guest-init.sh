#!/bin/sh
# /init of the dumpfs test guest (busybox initramfs built by make-real-dumps.sh).
# Kernel command-line switches:
#   dfs.small=1   sample mode: no random data, fewer helpers (smaller, more repeatable dump)
#   dfs.panic=1   crash the kernel with sysrq-c once up
#   dfs.kdump=1   load a kdump capture kernel with kexec -p, then sysrq-c
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
CMDLINE=$(cat /proc/cmdline)
has() { case " $CMDLINE " in *" $1 "*) return 0 ;; esac; return 1; }
echo "DFS: busybox init on $(uname -r); cmdline: $CMDLINE"

# qemu_fw_cfg hands the kernel's VMCOREINFO to QEMU's -device vmcoreinfo
if [ -f /lib/modules/qemu_fw_cfg.ko ] && insmod /lib/modules/qemu_fw_cfg.ko; then
    echo "DFS: qemu_fw_cfg loaded"
fi
if [ -e /sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo ]; then
    echo "DFS: fw_cfg etc/vmcoreinfo present"
else
    echo "DFS: fw_cfg etc/vmcoreinfo absent"
fi

# some recognisable state in memory
sh -c 'while :; do sleep 1; done' &
sh -c 'exec sleep 99999' &
i=0
while [ $i -lt 4096 ]; do echo "DUMPFS-MARKER line $i 0123456789abcdef"; i=$((i+1)); done > /tmp/marker.txt
if ! has dfs.small=1; then
    sh -c 'n=0; while :; do n=$((n+1)); echo $n > /tmp/counter; sleep 2; done' &
    dd if=/dev/urandom of=/tmp/random.bin bs=64k count=64 2>/dev/null
fi
sleep 1
echo "DFS: $(ls -d /proc/[0-9]* | wc -l) processes; $(grep -E '^(MemTotal|MemFree)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
# the processes as the guest's own /proc shows them, for tests/real/tasks.py:
# "DFS-PS PID STATE PPID UID THREADS VMSIZE_KB COMM", "DFS-CMD PID ARGS"
for d in /proc/[0-9]*; do
    awk -v pid="${d#/proc/}" '/^State:/ {s = $2} /^PPid:/ {pp = $2} /^Uid:/ {u = $2}
        /^Threads:/ {t = $2} /^VmSize:/ {vm = $2} /^Name:/ {sub(/^Name:\t/, ""); n = $0}
        END {if (s != "") printf "DFS-PS %s %s %s %s %s %s %s\n", pid, s, pp, u, t, vm == "" ? 0 : vm, n}' \
        "$d/status" 2>/dev/null
    # "DFS-CMD PID ARGS" (NULs as spaces) for processes with an argv
    args=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)
    [ -n "$args" ] && echo "DFS-CMD ${d#/proc/} $args"
done
# pid 1's environment and auxiliary vector, as hex words
echo "DFS-ENV 1 $(tr '\0' ' ' < /proc/1/environ)"
echo "DFS-AUXV 1 $(od -A n -t x8 -v /proc/1/auxv | tr -s ' \n' ' ')"
# and its memory map, line by line
sed 's/^/DFS-MAPS 1 /' /proc/1/maps
# and the md5 of two pages of its memory: "DFS-MEM 1 ADDRESS_HEX MD5"
# (the first page of its text and of its read-only data: pages that do not
# change before the dump)
for a in $(awk '$2 ~ /^r-x/ || ($2 ~ /^r--p/ && $3 != "00000000") {split($1, r, "-"); print r[1]}' /proc/1/maps | head -2); do
    echo "DFS-MEM 1 $a $(dd if=/proc/1/mem bs=4096 skip=$((0x$a / 4096)) count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
done

if has dfs.kdump=1; then
    echo "DFS: crashkernel size $(cat /sys/kernel/kexec_crash_size)"
    if kexec -p /boot/vmlinuz --initrd=/boot/capture.cpio.gz \
            --append="console=ttyS0 nr_cpus=1 irqpoll reset_devices panic=-1 loglevel=6"; then
        echo "DFS: kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
        echo 1 > /proc/sys/kernel/sysrq
        echo "DFS-CRASHING kdump"
        sh -c 'echo c > /proc/sysrq-trigger'
    fi
    echo "DFS-KDUMP-FAILED"
fi
if has dfs.panic=1; then
    echo 1 > /proc/sys/kernel/sysrq
    echo "DFS-CRASHING panic"
    sleep 1
    # a child shell, so the crashing task is not PID 1
    sh -c 'echo c > /proc/sysrq-trigger'
    echo "DFS: survived sysrq-c?"
fi
echo "DFS-READY"
while :; do sleep 3600; done

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
# our probe process (tools/dfsprobe.c): threads, mappings, markers
PROBE=
if [ -x /bin/dfsprobe ]; then
    DFS_PROBE_ENV=probe-environment-marker /bin/dfsprobe alpha "beta gamma" > /tmp/probe.out &
    n=0
    while [ ! -s /tmp/probe.out ] && [ $n -lt 20 ]; do sleep 1; n=$((n + 1)); done
    cat /tmp/probe.out
    PROBE=$(awk '{print $2}' /tmp/probe.out)
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
# truth PID ADDRESS_HEX...: the process's environment and auxiliary vector
# (hex words), its memory map line by line, and the md5 of the pages at
# the addresses given: "DFS-MEM PID ADDRESS_HEX MD5"
truth() {
    p=$1
    shift
    echo "DFS-ENV $p $(tr '\0' ' ' < /proc/$p/environ)"
    echo "DFS-AUXV $p $(od -A n -t x8 -v /proc/$p/auxv | tr -s ' \n' ' ')"
    sed "s/^/DFS-MAPS $p /" /proc/$p/maps
    for a in "$@"; do
        echo "DFS-MEM $p $a $(dd if=/proc/$p/mem bs=4096 skip=$((0x$a / 4096)) count=1 2>/dev/null | md5sum | cut -d' ' -f1)"
    done
}
# pid 1: the first page of its text and of its read-only data (pages that
# do not change before the dump)
truth 1 $(awk '$2 ~ /^r-x/ || ($2 ~ /^r--p/ && $3 != "00000000") {split($1, r, "-"); print r[1]}' /proc/1/maps | head -2)
# the probe: its threads, and a page of each mapping it wrote (it writes
# nothing more), the hole's neighbours, the first page of its text
if [ -n "$PROBE" ]; then
    echo "DFS-THREADS $PROBE $(ls /proc/$PROBE/task | sort -n | tr '\n' ' ')"
    pages=$(tr ' ' '\n' < /tmp/probe.out | sed -n 's/^\(heap\|anon\|shared\|file\|hole\)=0x//p')
    holeend=$(printf '%x' $((0x$(sed -n 's/.* hole=0x\([0-9a-f]*\).*/\1/p' /tmp/probe.out) + 8192)))
    text=$(awk '$2 ~ /^r-x/ {split($1, r, "-"); print r[1]; exit}' /proc/$PROBE/maps)
    # and every page of its vDSO (reading /proc/PID/mem faults in those it
    # never touched, as a core dump does)
    vdso=
    range=$(awk '$6 == "[vdso]" {print $1}' /proc/$PROBE/maps)
    if [ -n "$range" ]; then
        a=$((0x${range%-*}))
        while [ $a -lt $((0x${range#*-})) ]; do vdso="$vdso $(printf '%x' $a)"; a=$((a + 4096)); done
    fi
    truth "$PROBE" $pages "$holeend" $text $vdso
fi

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

#!/bin/sh
# /init of make-arm64-kdump.sh: one initramfs for both kernels (Debian's arm64
# busybox-static, kexec-tools and makedumpfile with their libraries).
#
# First kernel (no /proc/vmcore): writes marker lines into a tmpfs file, loads
# /boot/Image + /boot/initrd.cpio.gz (this same initramfs, without /boot) as the
# crash kernel with kexec -p, prints DFS-CRASHING and panics by sysrq-c.
# kexec -s -p (kexec_file_load) is tried first; Debian's 6.1 arm64 kernel has no
# CONFIG_KEXEC_FILE.  Then kexec -p (kexec_load), whose ELF header kexec-tools
# 2.0.25 builds from /proc/kallsyms, where this kernel lists no _text: the
# kernel-text PT_LOAD comes out broken.  With dfs.fake_text=1 on the command
# line, that load is unloaded again and redone with a /proc/kallsyms
# bind-mounted from a copy that starts with a _text line (_stext - 64 KiB).
#
# Capture kernel (/proc/vmcore exists), three raw virtio-mmio disks (found by serial=):
#   disk dfs-kdump  <- makedumpfile -F -c -d 31 /proc/vmcore     (kdump, flattened, zlib)
#   disk dfs-vmcore <- dd if=/proc/vmcore                        (the kernel's own ELF vmcore)
#   disk dfs-elf    <- makedumpfile -F -E -d 31 /proc/vmcore     (ELF, flattened)
# then prints DFS-CAPTURE-DONE and idles, so the host can stop the machine and
# take QEMU's own dump of the whole RAM (outside the crashkernel area it is
# still the first kernel's memory at the panic).
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
M=$(uname -m)

if [ -e /proc/vmcore ]; then
    echo "DFS-CAPTURE: up on $(uname -r) $M; /proc/vmcore $(stat -c %s /proc/vmcore) bytes; cmdline: $(cat /proc/cmdline)"
    for m in virtio_mmio virtio_blk; do
        insmod /lib/modules/$m.ko || echo "DFS-CAPTURE: insmod $m failed"
    done
    # the disks by their QEMU serial= (virtio-mmio probes them in reverse order)
    i=0
    while [ ! -b /dev/vdc ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
    for b in /sys/block/vd*; do
        s=$(cat $b/serial 2>/dev/null)
        echo "DFS-CAPTURE: /dev/${b##*/} serial $s"
        case $s in
            dfs-kdump) KD=/dev/${b##*/} ;;
            dfs-vmcore) VC=/dev/${b##*/} ;;
            dfs-elf) EL=/dev/${b##*/} ;;
        esac
    done
    makedumpfile -v 2>&1 | head -1
    # the ELF header first (64 KiB), in case reading the rest kills the kernel
    dd if=/proc/vmcore of=$VC bs=65536 count=1 2>&1 | tail -1
    sync
    if makedumpfile -F -c -d 31 /proc/vmcore > $KD 2> /tmp/mdf.err; then rc=0; else rc=$?; fi
    echo "DFS-CAPTURE: makedumpfile -F -c -d 31 rc=$rc"
    tr '\r' '\n' < /tmp/mdf.err | grep -v -e '^Checking' -e '^Excluding' -e '^Copying' -e '^$' | tail -20
    sync
    if makedumpfile -F -E -d 31 /proc/vmcore > $EL 2> /tmp/mdfe.err; then rc=0; else rc=$?; fi
    echo "DFS-CAPTURE: makedumpfile -F -E -d 31 rc=$rc"
    tr '\r' '\n' < /tmp/mdfe.err | grep -v -e '^Checking' -e '^Excluding' -e '^Copying' -e '^$' | tail -20
    sync
    dd if=/proc/vmcore of=$VC bs=1M 2>&1 | tail -1
    echo "DFS-CAPTURE: dd rc=$?"
    sync
    echo "DFS-CAPTURE-DONE"
    while :; do sleep 3600; done
fi

mount -t tmpfs -o size=16m tmpfs /tmp
mount -t tmpfs tmpfs /run
has() { grep -qw -- "$1" /proc/cmdline; }
echo "DFS: busybox init on $(uname -r) machine $M; cmdline: $(cat /proc/cmdline)"
if [ -f /lib/modules/qemu_fw_cfg.ko ] && insmod /lib/modules/qemu_fw_cfg.ko; then
    echo "DFS: qemu_fw_cfg loaded"
fi
echo "DFS: crashkernel size $(cat /sys/kernel/kexec_crash_size)"
echo "DFS: kallsyms: $(grep -E ' (_text|_stext|_head|_end|_etext|__init_begin)$' /proc/kallsyms | tr '\n' ' ')"
grep -E 'Kernel|Crash|System RAM' /proc/iomem | sed 's/^/DFS: iomem: /' 
i=0
while [ $i -lt 4096 ]; do
    echo "DUMPFS-ARM64-KDUMP-MARKER $M line $i 0123456789abcdef"
    i=$((i+1))
done > /tmp/marker.txt
sync
echo "DFS: marker $(wc -c < /tmp/marker.txt) bytes"
CAPARGS="console=ttyAMA0 nr_cpus=1 reset_devices panic=-1 loglevel=6"
load() {  # load LOG: kexec -d -p of /boot/Image with this initramfs
    kexec -d -p /boot/Image --initrd=/boot/initrd.cpio.gz --append="$CAPARGS" > $1 2>&1
}
ok=0
# kexec_file_load (-s) first: the kernel would build the ELF header itself
if kexec -s -p /boot/Image --initrd=/boot/initrd.cpio.gz --append="$CAPARGS" > /run/kexec-s.log 2>&1; then
    echo "DFS: kexec -s -p loaded"; ok=1
else
    echo "DFS: kexec -s -p failed: $(tail -3 /run/kexec-s.log | tr '\n' ' ')"
fi
if [ $ok = 0 ]; then
    # kexec_load: kexec-tools writes the vmcore's ELF header from /proc/iomem
    # and /proc/kallsyms; it wants _text there, which this kernel does not list
    if load /run/kexec.log; then
        echo "DFS: kexec -p loaded (kallsyms as it is)"; ok=1
        grep -v 'sym:' /run/kexec.log | grep -E -i 'text|page_offset|va_bits|phys_offset|kern|elfcorehdr|Coredump|^ *[0-9]+: ' | head -40 | sed 's/^/DFS: kexec-d: /'
    else
        echo "DFS: kexec -p failed: $(tail -5 /run/kexec.log | tr '\n' ' ')"
    fi
    if has dfs.fake_text=1 && ! grep -q ' _text$' /proc/kallsyms; then
        # _text is the start of .head.text, SEGMENT_ALIGN (64 KiB) below _stext
        # (arch/arm64/kernel/vmlinux.lds.S)
        # (string arithmetic: busybox sh has signed 64-bit numbers only)
        st=$(sed -n 's/ T _stext$//p' /proc/kallsyms)
        hi=${st%?????}
        [ "${st#$hi}" = 10000 ] || echo "DFS: _stext $st does not end in 10000; _text guessed wrong"
        { echo "${hi}00000 T _text"; cat /proc/kallsyms; } > /run/kallsyms
        mount --bind /run/kallsyms /proc/kallsyms && echo "DFS: /proc/kallsyms bind-mounted with $(head -1 /proc/kallsyms)"
        kexec -p -u
        ok=0
        if load /run/kexec-fake.log; then
            echo "DFS: kexec -p loaded (with _text)"; ok=1
            grep -v 'sym:' /run/kexec-fake.log | grep -E -i 'text|page_offset|va_bits|phys_offset|kern|elfcorehdr|Coredump|^ *[0-9]+: ' | head -40 | sed 's/^/DFS: kexec-d: /'
        else
            echo "DFS: kexec -p with _text failed: $(tail -5 /run/kexec-fake.log | tr '\n' ' ')"
        fi
    fi
fi
if [ $ok = 1 ]; then
    echo "DFS: kexec_crash_loaded=$(cat /sys/kernel/kexec_crash_loaded)"
    echo "DFS-CRASHING"
    echo c > /proc/sysrq-trigger
fi
echo "DFS-KDUMP-FAILED"
while :; do sleep 3600; done

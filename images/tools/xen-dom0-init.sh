#!/bin/sh
# /init of dom0 in images/make-xen-dumps.sh: Debian's linux-image-amd64 as
# Xen's PV dom0 (QEMU TCG, multiboot: xen.gz, then this kernel and its
# busybox initramfs), console hvc0 (Xen copies it to the serial port).
# The initramfs holds xl, xenstored, xenconsoled, xen-init-dom0, kexec and
# the libraries they need, the xen/virtio modules (lib/modules/order), the
# domUs' kernel and initramfs (/boot/vmlinuz, /boot/domu.cpio.gz), their xl
# configs (/etc/xen/NAME.cfg), and the capture kernel's initramfs
# (/boot/capture.cpio.gz).
#
# One step a boot, from the kernel command line: dfs.step=
#   pv | pvh  start the domU /etc/xen/STEP.cfg; once its console says
#             DFS-READY: (pv only) xl pause, xl dump-core to live.core,
#             xl unpause; then xl sysrq DOM c, wait for the crashed state
#             (on_crash="preserve"), xl dump-core to domU.core; the files
#             and facts go into /out/STEP/, written as a tar to the disk
#             whose serial is dfs-out
#   host      start the pv domU (it keeps running), load the capture kernel
#             with kexec -p (on Xen it goes through the hypercall), write
#             the facts as a tar to dfs-out, then crash dom0 (sysrq c): Xen
#             then runs the capture kernel (tools/xen-capture-init.sh)
# Markers for the host (each with dom0's uptime): DFS-DOM0-UP,
# DFS-TOOLSTACK-UP, DFS-DOMU-READY, DFS-LIVE-DONE, DFS-DUMPED, DFS-TAR-DONE,
# DFS-CRASHING;
# DFS-FAILED WHAT when a step fails (then the tar is still written).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin /run /var
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts -o gid=5 devpts /dev/pts   # xenconsoled gives each console a pty
mount -t tmpfs -o mode=755 tmpfs /run
ln -sf /run /var/run
mkdir -p /var/lib/xen /var/log/xen/console /run/xen /run/xenstored /var/lib/xenstored /out
# the dumps wait in dom0's RAM for the tar: the initramfs's own tmpfs is
# limited to half of it
mount -t tmpfs -o size=85%,mode=755 tmpfs /out
XL=/usr/lib/xen-4.17/bin/xl
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
CMDLINE=$(cat /proc/cmdline)
STEP=
for w in $CMDLINE; do case $w in dfs.step=*) STEP=${w#dfs.step=} ;; esac; done
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "$* t=$(up)"; }
FAILED=
fail() { echo "DFS-FAILED $* t=$(up)"; FAILED="$FAILED $1"; }
say "DFS-DOM0-UP $(uname -r) step=$STEP; cmdline: $CMDLINE"

for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" 2>/dev/null || echo "DFS-DOM0: insmod $m failed"
done
mount -t xenfs xenfs /proc/xen || fail xenfs "mount -t xenfs failed"
echo "DFS-DOM0: /proc/xen/capabilities: $(cat /proc/xen/capabilities 2>&1)"
/usr/lib/xen-4.17/bin/xenstored --pid-file /run/xenstored.pid || fail xenstored "exit $?"
n=0
while [ ! -S /run/xenstored/socket ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
/usr/lib/xen-4.17/bin/xen-init-dom0 || fail xen-init-dom0 "exit $?"
/usr/lib/xen-4.17/bin/xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
    || fail xenconsoled "exit $?"
$XL info > /out/xl-info.txt 2>&1 || fail xl-info "exit $?: $(tail -n 3 /out/xl-info.txt)"
say "DFS-TOOLSTACK-UP $(grep -E '^(xen_version|virt_caps|nr_cpus|total_memory|free_memory)' /out/xl-info.txt | tr -s ' ' | tr '\n' ';')"

# outdisk SERIAL: the /dev/vdX whose virtio serial is SERIAL
outdisk() {
    local b
    for b in /sys/block/vd*; do
        [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
    done
    return 1
}
# start_domu NAME: xl create /etc/xen/NAME.cfg, wait for DFS-READY on its
# console.  xl's monitoring child once died here of a GP fault in malloc,
# failing xl create: a failed create is tried once more.  (xl create -e,
# without that child, never returned here.)
start_domu() {
    local name=$1 log=/var/log/xen/console/guest-$1.log n=0 try gone
    for try in 1 2; do
        say "DFS-DOMU-CREATE $name (try $try)"
        $XL create "/etc/xen/$name.cfg" >> "/out/$name/xl-create.log" 2>&1 && break
        echo "DFS-DOM0: xl create $name failed: $(tail -n 3 "/out/$name/xl-create.log")"
        $XL destroy "$name" 2>/dev/null
        [ $try = 2 ] && { fail "create-$name" "xl create: $(tail -n 3 "/out/$name/xl-create.log")"; return 1; }
        sleep 2
    done
    gone=0
    while ! grep -q '^DFS-READY' "$log" 2>/dev/null; do
        n=$((n + 1))
        [ $n -gt 3600 ] && { fail "boot-$name" "no DFS-READY in 1800 s"; return 1; }
        # (an xl list that fails once is no proof: three in a row)
        if $XL list "$name" > /tmp/xl-list.out 2>&1; then gone=0; else gone=$((gone + 1)); fi
        [ $((n % 60)) = 0 ] && echo "DFS-DOM0: waiting for $name: $(tail -n 1 /tmp/xl-list.out | tr -s ' '); console $(wc -c < "$log" 2>/dev/null) bytes: $(tail -n 1 "$log" 2>/dev/null | cut -c1-100) t=$(up)"
        [ $gone -ge 3 ] && { fail "boot-$name" "domain gone ($(tail -n 1 /tmp/xl-list.out)): $(tail -n 3 "$log")"; return 1; }
        sleep 0.5
    done
    say "DFS-DOMU-READY $name domid $($XL domid "$name")"
}
state() { $XL list "$1" 2>/dev/null | awk 'NR == 2 {print $5}'; }
# facts NAME TYPE: key=value facts of the domain
facts() {
    local name=$1 f=/out/$1/facts.txt
    {
        echo "name=$name"
        echo "type=$2"
        echo "domid=$($XL domid "$name")"
        echo "memory_mib=$(sed -n 's/^memory *= *//p' "/etc/xen/$name.cfg")"
        echo "maxmem_mib=$(sed -n 's/^maxmem *= *//p' "/etc/xen/$name.cfg")"
        echo "vcpus=$(sed -n 's/^vcpus *= *//p' "/etc/xen/$name.cfg")"
        echo "xen_version=$(sed -n 's/^xen_version *: *//p' /out/xl-info.txt)"
        echo "xen_caps=$(sed -n 's/^xen_caps *: *//p' /out/xl-info.txt)"
        echo "virt_caps=$(sed -n 's/^virt_caps *: *//p' /out/xl-info.txt)"
        echo "guest_kernel=$(uname -r)"
    } > "$f"
    $XL list -l "$name" > "/out/$name/xl-list-l.json" 2>&1
}
write_tar() {
    local dev f n
    dev=$(outdisk dfs-out) || { fail tar "no disk with serial dfs-out"; return 1; }
    for f in /var/log/xen/console/guest-*.log; do   # (also when a step failed)
        [ -f "$f" ] || continue
        n=${f##*/guest-}; n=${n%.log}
        [ -d "/out/$n" ] && [ ! -f "/out/$n/console.log" ] && cp "$f" "/out/$n/console.log"
    done
    cp /run/xenstored/*.log /out/ 2>/dev/null
    dmesg > /out/dom0-dmesg.txt
    $XL dmesg > /out/xen-dmesg.txt 2>&1
    echo "$FAILED" > /out/dom0-failed.txt
    ls -lR /out | sed 's/^/DFS-OUT /'
    tar cf "$dev" -C /out . && sync && say "DFS-TAR-DONE $dev $(du -sk /out | cut -f1) KiB" \
        || fail tar "tar cf $dev failed"
}

dump_domu() {  # dump_domu NAME TYPE
    local name=$1 t0 st n=0
    mkdir -p "/out/$name"
    start_domu "$name" || return 1
    facts "$name" "$2"
    $XL vcpu-list "$name" > "/out/$name/vcpu-list-running.txt" 2>&1
    if [ "$name" = pv ]; then
        $XL pause "$name"
        say "DFS-LIVE-DUMP $name state $(state "$name")"
        t0=$(up)
        $XL dump-core "$name" "/out/$name/live.core" > "/out/$name/dump-core-live.log" 2>&1 \
            || fail "live-$name" "xl dump-core: $(tail -n 3 "/out/$name/dump-core-live.log")"
        echo "live_dump_core_seconds=$(awk -v a="$t0" -v b="$(up)" 'BEGIN {printf "%.1f", b - a}')" >> "/out/$name/facts.txt"
        say "DFS-LIVE-DONE $name live.core $(stat -c %s "/out/$name/live.core" 2>/dev/null) bytes"
        $XL unpause "$name"
        sleep 2
    fi
    say "DFS-SYSRQ-C $name"
    $XL sysrq "$name" c || fail "sysrq-$name" "xl sysrq $name c: exit $?"
    while :; do
        st=$(state "$name")
        case $st in *c*) break ;; esac
        n=$((n + 1))
        [ $n -gt 600 ] && { fail "crash-$name" "state $st 300 s after xl sysrq c"; return 1; }
        sleep 0.5
    done
    sleep 2   # let xenconsoled drain the panic lines
    say "DFS-CRASHED $name state $st"
    echo "state_at_dump=$st (crashed, on_crash=preserve)" >> "/out/$name/facts.txt"
    echo "crashed_by=xl sysrq $name c" >> "/out/$name/facts.txt"
    $XL vcpu-list "$name" > "/out/$name/vcpu-list.txt" 2>&1
    $XL list "$name" > "/out/$name/xl-list.txt" 2>&1
    t0=$(up)
    $XL dump-core "$name" "/out/$name/domU.core" > "/out/$name/dump-core.log" 2>&1 \
        || fail "dump-$name" "xl dump-core: $(tail -n 3 "/out/$name/dump-core.log")"
    echo "dump_core_seconds=$(awk -v a="$t0" -v b="$(up)" 'BEGIN {printf "%.1f", b - a}')" >> "/out/$name/facts.txt"
    say "DFS-DUMPED $name domU.core $(stat -c %s "/out/$name/domU.core" 2>/dev/null) bytes"
    cp "/var/log/xen/console/guest-$name.log" "/out/$name/console.log"
    cp "/var/log/xen/xl-$name.log" "/out/$name/" 2>/dev/null
    $XL destroy "$name"
}

case $STEP in
pv) dump_domu pv pv ;;
pvh) dump_domu pvh pvh ;;
host)
    mkdir -p /out/host /out/pv
    start_domu pv && facts pv pv
    echo "DFS-DOM0: crash area as Xen reports it: $(grep -i crash /proc/iomem)"
    echo 1 > /proc/sys/kernel/sysrq
    KARGS="console=ttyS0 nr_cpus=1 irqpoll reset_devices panic=-1 loglevel=7 dfs.capture=1"
    say "DFS-KEXEC kexec -p /boot/vmlinuz --initrd=/boot/capture.cpio.gz --append=\"$KARGS\""
    kexec -d -p /boot/vmlinuz --initrd=/boot/capture.cpio.gz --append="$KARGS" > /out/host/kexec.log 2>&1
    rc=$?
    sed 's/^/DFS-KEXEC-LOG /' /out/host/kexec.log | tail -40
    echo "kexec_rc=$rc" > /out/host/facts.txt
    [ $rc = 0 ] || fail kexec "kexec -p exit $rc: $(tail -n 3 /out/host/kexec.log)"
    {
        echo "kexec_cmdline=kexec -p /boot/vmlinuz --initrd=/boot/capture.cpio.gz --append=\"$KARGS\""
        echo "xen_version=$(sed -n 's/^xen_version *: *//p' /out/xl-info.txt)"
        echo "nr_cpus=$(sed -n 's/^nr_cpus *: *//p' /out/xl-info.txt)"
        echo "dom0_vcpus=$(nproc)"
        echo "dom0_mem_mib=$($XL list 0 | awk 'NR == 2 {print $3}')"
        echo "dom0_kernel=$(uname -r)"
        echo "crashed_by=echo c > /proc/sysrq-trigger (in dom0)"
        echo "domus_running=pv (domid $($XL domid pv 2>/dev/null))"
    } >> /out/host/facts.txt
    $XL list > /out/host/xl-list.txt 2>&1
    cat /proc/iomem > /out/host/dom0-iomem.txt
    write_tar
    say "DFS-CRASHING host"
    sleep 1
    sh -c 'echo c > /proc/sysrq-trigger'
    say "DFS-FAILED host: dom0 survived sysrq c"
    ;;
*) fail step "unknown dfs.step=$STEP" ;;
esac
[ "$STEP" = host ] || write_tar
say "DFS-DOM0-DONE failed:${FAILED:- none}"
while :; do sleep 3600; done

#!/bin/bash
# make-xen-dumps.sh - real Xen dumps for dumpfs's Xen reader
# (tests/real/xen_real.py): `xl dump-core` files (the xc_core ELF format of
# libxenguest) of a PV and a PVH domU that panicked, and a kdump of the Xen
# host (Xen's kexec crash path, a capture kernel copying /proc/vmcore).
#
# Machine: qemu-system-x86_64 TCG (no KVM), -machine q35, 2 CPUs,
# -cpu max,-smap,-smep,-rdtscp (TCG's max is AMD-flavoured: it has svm and
# npt, which PVH needs, Debian's Xen having no shadow paging; with SMAP/SMEP
# visible Xen's PV dom0 dies at its first instruction, and QEMU's SVM gives
# RDTSCP a wrong instruction length, which kills PVH guests).  QEMU boots
# Xen by multiboot: -kernel xen -append XEN_ARGS -initrd "vmlinuz
# DOM0_ARGS,dom0.cpio.gz" (xen: /boot/xen-4.17-amd64.gz unpacked, QEMU takes
# the gzip file for an old zImage; QEMU splits the -initrd argument at
# commas: no command line here may have one).  dom0 is Debian's linux-image-amd64 as a PV dom0
# with a busybox initramfs (tools/xen-dom0-init.sh as /init) holding xl,
# xenstored, xenconsoled, xen-init-dom0 and kexec from Debian's Xen 4.17 and
# kexec-tools with every library they load (ldd; plus libgcc_s.so.1, which
# glibc's pthread_cancel loads: xl aborts without it), the xen and virtio
# modules, the domUs' kernel (the same one) and initramfs
# (tools/xen-domu-init.sh as /init) and the capture kernel's initramfs
# (tools/xen-capture-init.sh).  Files leave the machine as a tar dom0 writes
# to a raw virtio disk (serial dfs-out), and /proc/vmcore as the capture
# kernel copies it to another (serial dfs-vmcore).
#
# Steps (one QEMU boot each; STEPS picks them, each subdirectory has its own
# COMPLETE):
#   pv    xl create a PV domU (128 MiB, 2 vCPUs, busybox initramfs);
#         once its console says DFS-READY: xl pause; xl dump-core live.core;
#         xl unpause; xl sysrq pv c (the domU set kernel.sysrq=1);
#         on_crash="preserve" keeps it; xl dump-core domU.core
#   pvh   the same with type="pvh" (no live.core: its dump takes 10 minutes)
#   host  Xen booted with crashkernel=; dom0 starts the PV domU (it keeps
#         running), loads the capture kernel with kexec -p (on Xen
#         kexec-tools loads it through the kexec hypercall) and crashes
#         itself (sysrq c); Xen's crash path starts the capture kernel, which
#         copies /proc/vmcore to the disk; if any of that fails,
#         host/FAILED.txt says what and how
#
# Run as root on Debian 12 x86_64 (20-40 minutes, most of it the PVH dump):
#   bash images/make-xen-dumps.sh
# It installs (apt-get) qemu-system-x86, linux-image-amd64, busybox-static,
# cpio, kmod, xz-utils, zstd, xen-system-amd64, xen-utils-4.17,
# xen-hypervisor-4.17-amd64, xen-hypervisor-4.17-amd64-dbg (xen-syms),
# kexec-tools, python3 and, for the test, python3-libkdumpfile,
# python3-pyelftools, python3-drgn, crash; INSTALL=0 skips that.
#
# Output: a cache directory outside the clone, keyed by a hash of the recipe
# (this script, tools/xen-dom0-init.sh, tools/xen-domu-init.sh,
# tools/xen-capture-init.sh, tools/disk-extract.py, without their comment
# lines), KVER, the Xen package's version and the knobs below:
#   $OUT = /var/cache/dumpfs/xen-<first 12 hex of sha256>
#   $OUT/pv/domU.core     xl dump-core of the crashed PV domU (sparse copy)
#   $OUT/pv/live.core     xl dump-core of the same domU, running, paused
#   $OUT/pv/console.log   the domU's console (xenconsoled --log=guest)
#   $OUT/pv/facts.txt     name, type, domid, memory_mib, vcpus, xen_version,
#                         state_at_dump, dump_core_seconds, ...
#   $OUT/pv/xl-list-l.json, vcpu-list.txt, xl-list.txt, dump-core.log
#   $OUT/pvh/...          the same for the PVH domU (no live.core)
#   $OUT/host/vmcore      /proc/vmcore of the capture kernel (ELF), sparse
#   $OUT/host/xen-syms    Xen's symbols (xen-hypervisor-4.17-amd64-dbg:
#                         a symbol table, no DWARF)
#   $OUT/host/System.map  dom0's (nm -n of the -dbg vmlinux, if present)
#   $OUT/host/facts.txt   kexec command and exit code, Xen version, CPUs, ...
#   $OUT/host/FAILED.txt  instead of vmcore, when no host kdump was made
#   $OUT/STEP/serial.log  the machine's serial console (Xen, dom0, capture)
#   $OUT/STEP/dom0/       what dom0 wrote besides: xl info, xl dmesg,
#                         dom0's dmesg, xenstored's log
#   $OUT/STEP/MANIFEST.tsv, $OUT/MANIFEST.tsv (the columns of
#                         make-real-dumps.sh), $OUT/STEP/COMPLETE
#   $OUT/logs/            run.log, timings.tsv, sizes.tsv, versions.txt,
#                         qemu-STEP.log, STEP.qemu-cmdline
#   $OUT/build/           xen, the initramfs images and their trees
#   $OUT/COMPLETE         written last, once every step is done (host done
#                         means host/vmcore or host/FAILED.txt)
#
# Versions (the run here): Xen 4.17.7 (xen-hypervisor-4.17-amd64 and
# xen-utils-4.17 4.17.7+13-g2445b30a44-0+deb12u1), QEMU 7.2.22
# (1:7.2+dfsg-7+deb12u18+b3), kexec-tools 1:2.0.25-3+deb12u3, busybox-static
# 1:1.35.0-4+deb12u1+b1, dom0 = domUs = capture kernel Linux 6.1.0-57-amd64
# (6.1.192-3); crash 8.0.2, python3-libkdumpfile 0.5.1, drgn 0.0.22 for the test.
#
# Measured here (Debian 12.11, 2 CPUs, TCG; the machine shared with other
# jobs, load 2-14 during the run: times vary 2-7x with it).  The run that made
# xen-69dbac00ac10 (2385 s in all; seconds from each step's QEMU start):
#   initramfs images 15 s
#   pv   dom0's /init 73, toolstack up 88, domU DFS-READY 401 (xl create ->
#        ready 313 s under load 8-14), xl dump-core live.core 221 s, sysrq
#        to crashed 7 s, xl dump-core domU.core 160 s, tar 62 s; 934 s in all
#   pvh  dom0 56, toolstack 70, domU ready 374, crashed 384, xl dump-core
#        920 s (libxenguest maps gpfns one by one: slow under TCG), 1312 s
#   host dom0 18, toolstack 20, PV domU ready 54, kexec -p loaded 56, dom0
#        crashes at 61, capture kernel up at 75 (Xen: "Hardware Dom0 crashed:
#        Executing kexec image on cpu1"), /proc/vmcore copied at 117; 122 s
# On a quieter machine (an earlier run of the same pv step, load about 2):
# dom0 25, domU ready 62, live dump 33 s, crash dump 31 s, 146 s in all.
# Sizes (apparent / allocated): pv/domU.core and pv/live.core 134,758,472 /
# ~64.8 MB; pvh/domU.core 134,561,992 / 67.1 MB; host/vmcore 1,341,636,608 /
# 240.6 MB; the cache 466 MB.
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   STEPS="pv pvh host"  which steps
#   INSTALL=1          apt-get install the packages (0 = skip)
#   KVER=6.1.0-N-amd64 kernel release (default: the one linux-image-amd64 depends on)
#   MEM=1536M          the QEMU machine's RAM
#   DOM0_MEM=640M      dom0_mem= (it holds the dumps in its initramfs until the tar)
#   DOMU_MEM=128 DOMU_VCPUS=2   the domUs' memory (MiB) and vCPUs
#   PVH_MAXMEM=        maxmem= of the PVH domU (empty: = DOMU_MEM)
#   CRASHKERNEL=256M@512M   Xen's crashkernel= (no commas)
#   CPU=max,-smap,-smep,-rdtscp   QEMU's -cpu
#   STEP_TIMEOUT=7200  max seconds for one step's boot (the host step: to dom0's crash)
#   CAPTURE_TIMEOUT=900  max seconds from dom0's crash to DFS-CAPTURE-DONE
#   NICE=              prefix of every CPU-heavy command (the other recipes'
#                      "chrt -i 0" starved the PVH dump here: on this shared
#                      2-CPU machine it had not finished after 28 minutes)
#   FORCE=1            redo the steps asked for even when COMPLETE
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/xen-dom0-init.sh" "$TOOLS/xen-domu-init.sh" "$TOOLS/xen-capture-init.sh" "$TOOLS/disk-extract.py")
STEPS=${STEPS:-pv pvh host}
INSTALL=${INSTALL:-1}
MEM=${MEM:-1536M}
DOM0_MEM=${DOM0_MEM:-640M}
DOMU_MEM=${DOMU_MEM:-128}
DOMU_VCPUS=${DOMU_VCPUS:-2}
PVH_MAXMEM=${PVH_MAXMEM:-}
CRASHKERNEL=${CRASHKERNEL:-256M@512M}
CPU=${CPU:-max,-smap,-smep,-rdtscp}
STEP_TIMEOUT=${STEP_TIMEOUT:-7200}
CAPTURE_TIMEOUT=${CAPTURE_TIMEOUT:-900}
NICE=${NICE-}
FORCE=${FORCE:-0}
PY=/usr/bin/python3
SMP=2
XENLIB=/usr/lib/xen-4.17

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
case "$CRASHKERNEL$DOM0_MEM" in *,*) echo "CRASHKERNEL and DOM0_MEM may not have commas (QEMU's multiboot splits there)" >&2; exit 1 ;; esac
# --- packages (before KVER: linux-image-amd64 may be new) ---
PKGS="qemu-system-x86 linux-image-amd64 busybox-static cpio kmod xz-utils zstd binutils python3
      xen-system-amd64 xen-utils-4.17 xen-hypervisor-4.17-amd64 xen-hypervisor-4.17-amd64-dbg kexec-tools
      python3-libkdumpfile python3-pyelftools python3-drgn crash"
if [ "$INSTALL" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    ok=0
    for try in $(seq 1 30); do   # another apt/dpkg may hold the lock
        # shellcheck disable=SC2086
        if apt-get install -y --no-install-recommends $PKGS > /tmp/make-xen-dumps.apt.$$ 2>&1; then ok=1; break; fi
        echo "apt-get install failed (try $try; dpkg lock?), retrying in 10 s" >&2
        sleep 10
    done
    [ $ok = 1 ] || { cat /tmp/make-xen-dumps.apt.$$ >&2; echo "apt-get install failed" >&2; exit 1; }
fi
if [ -z "${KVER:-}" ]; then   # default: the kernel linux-image-amd64 points at
    KPKG=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ,]*' | head -1)
    KVER=${KPKG#linux-image-}
fi
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || KVER=$(find /boot -name 'vmlinuz-*-amd64' | sed 's,.*/vmlinuz-,,' | sort -V | tail -1)
[ -n "$KVER" ] || { echo "no /boot/vmlinuz-*-amd64: install linux-image-amd64 first" >&2; exit 1; }
KERNEL=/boot/vmlinuz-$KVER
XENGZ=$(ls /boot/xen-4.17-amd64.gz 2>/dev/null || ls /boot/xen-*-amd64.gz 2>/dev/null | sort -V | tail -1)
[ -f "$XENGZ" ] || { echo "no /boot/xen-*.gz: install xen-hypervisor-4.17-amd64" >&2; exit 1; }
XENPKG=$(dpkg-query -W -f='${Version}' xen-hypervisor-4.17-amd64 2>/dev/null)
# (comment lines left out: documenting a run does not invalidate its cache)
KEY=$( (sed '/^[[:space:]]*#/d' "${RECIPE_FILES[@]}"; echo "$KVER xen=$XENPKG mem=$MEM dom0=$DOM0_MEM domu=$DOMU_MEM/$DOMU_VCPUS/$PVH_MAXMEM ck=$CRASHKERNEL cpu=$CPU") \
    | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/xen-$KEY}

all_done() {  # every step has finished (host: with a vmcore or FAILED.txt)
    [ -f "$OUT/pv/COMPLETE" ] && [ -f "$OUT/pvh/COMPLETE" ] && [ -f "$OUT/host/COMPLETE" ]
}
todo=
for s in $STEPS; do
    case $s in pv|pvh|host) ;; *) echo "unknown step $s" >&2; exit 1 ;; esac
    if [ "$FORCE" = 1 ] || [ ! -f "$OUT/$s/COMPLETE" ]; then todo="$todo $s"; fi
done
if [ -z "$todo" ]; then
    all_done && [ ! -f "$OUT/COMPLETE" ] && date -u +%FT%TZ > "$OUT/COMPLETE"
    echo "$OUT"; exit 0
fi
rm -f "$OUT/COMPLETE"
mkdir -p "$OUT"/{logs,build}
[ -f /tmp/make-xen-dumps.apt.$$ ] && { cat /tmp/make-xen-dumps.apt.$$ >> "$OUT/logs/apt.log"; rm -f /tmp/make-xen-dumps.apt.$$; }
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
T_START=$(now)
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
[ -f "$OUT/logs/timings.tsv" ] || printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
[ -f "$OUT/logs/sizes.tsv" ] || printf 'path\tbytes\tallocated_bytes\n' > "$OUT/logs/sizes.tsv"
log "recipe key $KEY; OUT=$OUT; kernel $KVER; Xen $XENPKG ($XENGZ); steps:$todo"

QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
{
    echo "kernel=$KERNEL"
    echo "kernel_release=$KVER"
    echo "kernel_package=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)"
    echo "xen=$XENGZ"
    echo "xen_package=xen-hypervisor-4.17-amd64 $XENPKG"
    echo "xen_utils_package=xen-utils-4.17 $(dpkg-query -W -f='${Version}' xen-utils-4.17 2>/dev/null)"
    echo "xen_syms_package=xen-hypervisor-4.17-amd64-dbg $(dpkg-query -W -f='${Version}' xen-hypervisor-4.17-amd64-dbg 2>/dev/null)"
    echo "kexec_tools=$(dpkg-query -W -f='${Version}' kexec-tools 2>/dev/null)"
    echo "qemu=$QEMU_VER ($(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null)) accel=tcg -machine q35 -cpu $CPU -m $MEM -smp $SMP"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "crash=$(dpkg-query -W -f='${Version}' crash 2>/dev/null) libkdumpfile=$(dpkg-query -W -f='${Version}' python3-libkdumpfile 2>/dev/null) drgn=$(dpkg-query -W -f='${Version}' python3-drgn 2>/dev/null)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"
log "QEMU $QEMU_VER; $(grep ^xen_utils "$OUT/logs/versions.txt")"

# sizes FILE: "BYTES ALLOCATED" (ls -l's size, du's allocated bytes)
sizes() { echo "$(stat -c %s "$1") $(( $(stat -c %b "$1") * $(stat -c %B "$1") ))"; }
MHEAD='path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n'
# manifest STEP RELPATH PRODUCER COMMAND FORMAT SECONDS NOTE
manifest() {
    local s=$1 rel=$2 b a; read -r b a <<< "$(sizes "$OUT/$s/$rel")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s/$rel" "xen-$s" "$3" "$4" "$5" none all "$b" "$6" \
        "allocated $a bytes; $7" >> "$OUT/$s/MANIFEST.tsv"
    printf '%s\t%s\t%s\n' "$s/$rel" "$b" "$a" >> "$OUT/logs/sizes.tsv"
    log "ok   $s/$rel ($b bytes, $a allocated (du), $6 s)"
}

# --- initramfs images ---
BUILD=$OUT/build
mkcpio() {  # mkcpio ROOT OUT.cpio.gz
    (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
        | gzip -9n > "$2.tmp" && mv "$2.tmp" "$2"
}
base_root() {  # base_root DIR INIT: busybox and INIT as /init
    rm -rf "$1"
    mkdir -p "$1"/{bin,dev,proc,sys,tmp,lib/modules,etc}
    cp /bin/busybox "$1/bin/busybox"
    ln -sf busybox "$1/bin/sh"
    install -m 755 "$2" "$1/init"
    mknod -m 600 "$1/dev/console" c 5 1
    mknod -m 666 "$1/dev/null" c 1 3
    : > "$1/lib/modules/order"
}
# add_module ROOT NAME: the module and its dependencies (depth first),
# uncompressed, appended in load order to ROOT/lib/modules/order
add_module() {
    local root=$1 m=$2 f dep
    grep -qx "$m" "$root/lib/modules/order" && return 0
    for dep in $(modinfo -k "$KVER" -F depends "$m" 2>/dev/null | tr ',' ' '); do add_module "$root" "$dep"; done
    f=$(modinfo -k "$KVER" -n "$m" 2>/dev/null) || { log "WARNING: module $m not found (built in?)"; return 0; }
    case $f in
        *.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
        (builtin*) return 0 ;;
        *) log "WARNING: cannot use module file $f"; return 0 ;;
    esac
    echo "$m" >> "$root/lib/modules/order"
}
# add_binary ROOT PATH: the program and every library ldd names (real files
# under their ldd paths)
add_binary() {
    local root=$1 b=$2 lib
    mkdir -p "$root/$(dirname "$b")"
    cp -L "$b" "$root/$b"
    for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
        [ -e "$root/$lib" ] && continue
        mkdir -p "$root/$(dirname "$lib")"
        cp -L "$lib" "$root/$lib"
    done
}
domu_cfg() {  # domu_cfg NAME TYPE [MAXMEM]
    cat <<EOF
name = "$1"
type = "$2"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 loglevel=7 panic=0 dfs.domu=$1"
memory = $DOMU_MEM
${3:+maxmem = $3}
vcpus = $DOMU_VCPUS
on_crash = "preserve"
on_poweroff = "preserve"
on_reboot = "preserve"
EOF
}
T0=$(now)
# (made on every run: a few seconds)
# the domUs'
base_root "$BUILD/domu-root" "$TOOLS/xen-domu-init.sh"
mkcpio "$BUILD/domu-root" "$BUILD/domu.cpio.gz" || die "cpio (domU) failed"
# the capture kernel's: virtio disks
base_root "$BUILD/capture-root" "$TOOLS/xen-capture-init.sh"
add_module "$BUILD/capture-root" virtio_pci
add_module "$BUILD/capture-root" virtio_blk
mkcpio "$BUILD/capture-root" "$BUILD/capture.cpio.gz" || die "cpio (capture) failed"
# dom0's
R=$BUILD/dom0-root
base_root "$R" "$TOOLS/xen-dom0-init.sh"
for b in xl xenstored xenconsoled xen-init-dom0; do add_binary "$R" "$XENLIB/bin/$b"; done
add_binary "$R" /sbin/kexec
libgcc=$(find /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu -name 'libgcc_s.so.1' 2>/dev/null | head -1)
[ -n "$libgcc" ] || die "no libgcc_s.so.1 (xl's pthread_cancel needs it)"
mkdir -p "$R/lib/x86_64-linux-gnu"
cp -L "$libgcc" "$R/lib/x86_64-linux-gnu/libgcc_s.so.1"
for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc virtio_pci virtio_blk; do add_module "$R" "$m"; done
mkdir -p "$R/boot" "$R/etc/xen"
cp "$KERNEL" "$R/boot/vmlinuz"
cp "$BUILD/domu.cpio.gz" "$BUILD/capture.cpio.gz" "$R/boot/"
domu_cfg pv pv > "$R/etc/xen/pv.cfg"
domu_cfg pvh pvh "$PVH_MAXMEM" > "$R/etc/xen/pvh.cfg"
[ -f /etc/xen/xl.conf ] && cp /etc/xen/xl.conf "$R/etc/xen/xl.conf"
log "dom0 modules: $(tr '\n' ' ' < "$R/lib/modules/order"); capture modules: $(tr '\n' ' ' < "$BUILD/capture-root/lib/modules/order")"
log "dom0 libraries: $(cd "$R" && find lib lib64 usr/lib -name '*.so*' 2>/dev/null | sed 's,.*/,,' | sort | tr '\n' ' ')"
mkcpio "$R" "$BUILD/dom0.cpio.gz" || die "cpio (dom0) failed"
log "initramfs: dom0 $(stat -c %s "$BUILD/dom0.cpio.gz") bytes, domU $(stat -c %s "$BUILD/domu.cpio.gz"), capture $(stat -c %s "$BUILD/capture.cpio.gz")"
timing initramfs "$(secs "$T0" "$(now)")"
# QEMU loads a multiboot ELF, not the gzip file (it would take that for an old zImage)
zcat "$XENGZ" > "$BUILD/xen" || die "zcat $XENGZ failed"

# --- one step: a boot of Xen + dom0 ---
GPID=
stop_qemu() {
    [ -n "$GPID" ] || return 0
    kill -0 "$GPID" 2>/dev/null && kill "$GPID"
    local i
    for i in $(seq 1 20); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$GPID" 2>/dev/null && kill -9 "$GPID"
    wait "$GPID" 2>/dev/null
    GPID=
}
trap stop_qemu EXIT
# SEEN[STEP/MARKER]: the host time (s since the step's boot) each of
# MARKERS first showed on the serial console (wait_for notes them)
declare -A SEEN
MARKERS="DFS-DOM0-UP DFS-TOOLSTACK-UP DFS-DOMU-READY DFS-LIVE-DUMP DFS-LIVE-DONE DFS-SYSRQ-C DFS-CRASHED DFS-DUMPED DFS-TAR-DONE DFS-DOM0-DONE DFS-KEXEC DFS-CRASHING DFS-CAPTURE-UP DFS-CAPTURE-DONE"
# wait_for STEP SLOG TB PATTERN FAILPATTERN TIMEOUT: poll the serial log
# until PATTERN (0), noting when each marker first shows (s since TB); 1 on
# FAILPATTERN, QEMU's exit or TIMEOUT seconds from now (WAIT_WHY says which)
WAIT_WHY=
wait_for() {
    local s=$1 slog=$2 tb=$3 pat=$4 failpat=$5 t0 m
    t0=$(now)
    while :; do
        for m in $MARKERS; do
            [ -n "${SEEN[$s/$m]:-}" ] && continue
            grep -aq "$m" "$slog" && { SEEN[$s/$m]=$(secs "$tb" "$(now)"); log "$s: $m at ${SEEN[$s/$m]} s: $(grep -a -m1 "$m" "$slog" | tr -d '\r' | cut -c1-200)"; }
        done
        grep -aqE "$pat" "$slog" && return 0
        if grep -aqE "$failpat" "$slog"; then
            WAIT_WHY=$(grep -aE -m3 "$failpat" "$slog" | tr -d '\r' | tr '\n' ' ')
            return 1
        fi
        kill -0 "$GPID" 2>/dev/null || { WAIT_WHY="QEMU exited before $pat (logs/qemu-$s.log: $(tail -c 300 "$OUT/logs/qemu-$s.log"))"; return 1; }
        [ $(( ($(now) - t0) / 1000000 )) -ge "$6" ] && { WAIT_WHY="no $pat in $6 s"; return 1; }
        sleep 1
    done
}
# extract_tar STEP DISK: dom0's tar (of its /out) into $OUT/STEP: /out/STEP/*
# to $OUT/STEP/, other directories (the host step's pv/) below it, dom0's
# own files (xl info, dmesg, ...) to $OUT/STEP/dom0/; sparse copies
extract_tar() {
    local s=$1 disk=$2 x=$BUILD/$1-extract f to
    rm -rf "$x"; mkdir -p "$x"
    tar -xf "$disk" -C "$x" > "$OUT/logs/tar-$s.log" 2>&1 || { log "WARNING: $s: tar -x: $(tail -2 "$OUT/logs/tar-$s.log")"; return 1; }
    (cd "$x" && find . -type f | sed 's,^\./,,') | while read -r f; do
        case $f in
            "$s"/*) to=$OUT/$s/${f#"$s"/} ;;
            */*) to=$OUT/$s/$f ;;
            *) to=$OUT/$s/dom0/$f ;;
        esac
        mkdir -p "$(dirname "$to")"
        cp --sparse=always "$x/$f" "$to" && rm "$x/$f"
    done
    rm -rf "$x"
}
xen_args() {
    echo "console=com1 com1=115200 loglvl=all guest_loglvl=all dom0_mem=$DOM0_MEM dom0_max_vcpus=$SMP noreboot $1"
}
run_step() {
    local s=$1 dir=$OUT/$1 tb rc outdisk=$BUILD/$1-out.img vmdisk=$BUILD/$1-vmcore.img drives=() xarg=
    rm -rf "$dir"
    mkdir -p "$dir"
    printf "$MHEAD" > "$dir/MANIFEST.tsv"
    rm -f "$outdisk" "$vmdisk"
    truncate -s 1G "$outdisk"
    drives=(-drive "file=$outdisk,format=raw,if=none,id=out,discard=unmap,detect-zeroes=unmap"
            -device "virtio-blk-pci,drive=out,serial=dfs-out")
    if [ "$s" = host ]; then
        truncate -s $(( $(numfmt --from=iec "$MEM") + (64 << 20) )) "$vmdisk"
        drives+=(-drive "file=$vmdisk,format=raw,if=none,id=vmcore,discard=unmap,detect-zeroes=unmap"
                 -device "virtio-blk-pci,drive=vmcore,serial=dfs-vmcore")
        xarg="crashkernel=$CRASHKERNEL"
    fi
    local slog=$dir/serial.log
    local d0args="console=hvc0 earlyprintk=xen loglevel=7 panic=0 dfs.step=$s"
    local cmd=(qemu-system-x86_64 -accel tcg -machine q35 -cpu "$CPU" -m "$MEM" -smp "$SMP"
               -display none -serial "file:$slog" -monitor none -no-reboot
               -kernel "$BUILD/xen" -append "$(xen_args "$xarg")"
               -initrd "$KERNEL $d0args,$BUILD/dom0.cpio.gz" "${drives[@]}")
    printf '%q ' timeout -k 10 "$STEP_TIMEOUT" $NICE "${cmd[@]}" > "$OUT/logs/$s.qemu-cmdline"
    echo >> "$OUT/logs/$s.qemu-cmdline"
    : > "$slog"
    tb=$(now)
    # shellcheck disable=SC2086
    timeout -k 10 "$STEP_TIMEOUT" $NICE "${cmd[@]}" < /dev/null > "$OUT/logs/qemu-$s.log" 2>&1 &
    GPID=$!
    log "step $s: QEMU pid $GPID: $(cat "$OUT/logs/$s.qemu-cmdline")"
    if [ "$s" != host ]; then
        wait_for "$s" "$slog" "$tb" 'DFS-DOM0-DONE' 'Panic on CPU|No working init|Kernel panic' "$STEP_TIMEOUT" || {
            stop_qemu; log "step $s failed: $WAIT_WHY"
            extract_tar "$s" "$outdisk"
            die "$s: $WAIT_WHY (serial.log)"; }
        grep -aq 'DFS-DOM0-DONE failed: none' "$slog" || {
            stop_qemu; extract_tar "$s" "$outdisk"
            die "$s: dom0 says $(grep -a -m1 DFS-DOM0-DONE "$slog"); $(grep -a DFS-FAILED "$slog" | tr '\n' ' ')"; }
        timing "$s-boot-and-dumps" "$(secs "$tb" "$(now)")"
        stop_qemu
        local t0; t0=$(now)
        extract_tar "$s" "$outdisk" || die "$s: no tar on the disk"
        rm -f "$outdisk"
        timing "$s-extract" "$(secs "$t0" "$(now)")"
        [ -s "$dir/domU.core" ] || die "$s: no domU.core in dom0's tar"
        step_facts "$s"
        local prod="xl dump-core (Xen $XENPKG, libxenguest xc_core) in dom0 Linux $KVER, QEMU TCG -cpu $CPU"
        manifest "$s" domU.core "$prod" "xl sysrq $s c; (state crashed, on_crash=preserve) xl dump-core $s domU.core" \
            xc-core "$(sed -n 's/^dump_core_seconds=//p' "$dir/facts.txt")" \
            "$s domU, ${DOMU_MEM} MiB, $DOMU_VCPUS vCPUs, crashed by xl sysrq c"
        [ -f "$dir/live.core" ] && manifest "$s" live.core "$prod" "xl pause; xl dump-core $s live.core; xl unpause" \
            xc-core "$(sed -n 's/^live_dump_core_seconds=//p' "$dir/facts.txt")" \
            "the same domU running (paused for the dump), before the crash"
    else
        run_host "$tb" "$slog" "$outdisk" "$vmdisk"
    fi
    for m in $MARKERS; do [ -n "${SEEN[$s/$m]:-}" ] && printf '%s\t%s\n' "$s/$m" "${SEEN[$s/$m]}" >> "$dir/markers.tsv"; done
    date -u +%FT%TZ > "$dir/COMPLETE"
    timing "$s-total" "$(secs "$tb" "$(now)")"
}
# step_facts STEP: what the host adds to dom0's facts.txt
step_facts() {
    local s=$1 f=$OUT/$1/facts.txt b a x
    for x in domU.core live.core; do
        [ -f "$OUT/$s/$x" ] || continue
        read -r b a <<< "$(sizes "$OUT/$s/$x")"
        echo "size.$x=$b"
        echo "allocated.$x=$a"
    done >> "$f"
    {
        echo "kernel_release=$KVER"
        echo "xen_package=$XENPKG"
        echo "qemu=$QEMU_VER -cpu $CPU -m $MEM -smp $SMP"
        for m in $MARKERS; do [ -n "${SEEN[$s/$m]:-}" ] && echo "host_seconds.$m=${SEEN[$s/$m]}"; done
    } >> "$f"
    log "$s facts: $(tr '\n' ' ' < "$f" | cut -c1-600)"
}
host_failed() {  # host_failed WHY: host/FAILED.txt with the serial log's relevant lines
    local dir=$OUT/host
    {
        echo "The Xen host kdump was not made: $1"
        echo
        echo "QEMU: $(cat "$OUT/logs/host.qemu-cmdline")"
        echo
        echo "== dom0's kexec and crash lines, the capture kernel's (serial.log) =="
        grep -aE 'DFS-|kexec|Kexec|kexec_|crash|Crash|Panic|panic|Hardware Dom0' "$dir/serial.log" | tail -80
        echo
        echo "== the last 40 lines of serial.log =="
        tail -40 "$dir/serial.log"
        [ -f "$dir/kexec.log" ] && { echo; echo "== kexec -d output (host/kexec.log) =="; cat "$dir/kexec.log"; }
    } > "$dir/FAILED.txt"
    log "host kdump FAILED: $1 (host/FAILED.txt)"
}
run_host() {
    local tb=$1 slog=$2 outdisk=$3 vmdisk=$4 dir=$OUT/host t0 ok=0 out
    # dom0 writes its tar, then crashes; the capture kernel then copies /proc/vmcore
    if ! wait_for host "$slog" "$tb" 'DFS-CRASHING' 'Panic on CPU|No working init|Kernel panic' "$STEP_TIMEOUT"; then
        WAIT_WHY="before dom0's crash: $WAIT_WHY"
    elif grep -aq 'DFS-FAILED kexec' "$slog"; then
        WAIT_WHY="kexec -p in dom0 failed: $(grep -a -m1 'DFS-FAILED kexec' "$slog" | tr -d '\r')"
        sleep 20   # what Xen prints of dom0's crash, for FAILED.txt
    elif wait_for host "$slog" "$tb" 'DFS-CAPTURE-DONE' 'DFS-CAPTURE-FAILED|DFS-FAILED host|Panic on CPU|eboot disabled' "$CAPTURE_TIMEOUT"; then
        ok=1
    fi
    [ $ok = 1 ] || log "host: $WAIT_WHY"
    # the capture kernel reboots; -no-reboot makes QEMU exit
    if [ $ok = 1 ]; then
        local i; for i in $(seq 1 60); do kill -0 "$GPID" 2>/dev/null || break; sleep 1; done
    fi
    timing host-boot-to-capture-done "$(secs "$tb" "$(now)")"
    stop_qemu
    extract_tar host "$outdisk" || log "WARNING: host: no tar from dom0 (it writes one before the crash)"
    rm -f "$outdisk"
    cp /usr/lib/debug/boot/xen-syms-4.17-amd64 "$dir/xen-syms" 2>/dev/null || log "WARNING: no xen-syms (xen-hypervisor-4.17-amd64-dbg)"
    local dbg=/var/cache/dumpfs/x86-dbg/vmlinux-$KVER
    [ -f "$dbg" ] && nm -n "$dbg" > "$dir/System.map"
    if [ $ok = 1 ]; then
        t0=$(now)
        out=$(timeout 900 $NICE "$PY" "$TOOLS/disk-extract.py" elf "$vmdisk" "$BUILD/vmcore.tmp" 2>&1) \
            || { host_failed "the capture kernel said DFS-CAPTURE-DONE, but disk-extract.py failed: $out"; ok=0; }
        log "host: $out"
    fi
    if [ $ok = 1 ]; then
        cp --sparse=always "$BUILD/vmcore.tmp" "$dir/vmcore" && rm -f "$BUILD/vmcore.tmp"
        timing host-extract "$(secs "$t0" "$(now)")"
        {
            echo "vmcore_bytes=$(stat -c %s "$dir/vmcore")"
            echo "capture=$(grep -a -m1 DFS-CAPTURE-UP "$slog" | tr -d '\r')"
            echo "kernel_release=$KVER"
            echo "xen_package=$XENPKG"
            echo "xen_cmdline=$(xen_args "crashkernel=$CRASHKERNEL")"
            echo "qemu=$QEMU_VER -cpu $CPU -m $MEM -smp $SMP"
            for m in $MARKERS; do [ -n "${SEEN[host/$m]:-}" ] && echo "host_seconds.$m=${SEEN[host/$m]}"; done
        } >> "$dir/facts.txt"
        manifest host vmcore "Xen $XENPKG kexec crash path; capture kernel Linux $KVER (kexec-tools $(dpkg-query -W -f='${Version}' kexec-tools))" \
            "dom0: kexec -p vmlinuz --initrd=capture.cpio.gz; echo c > /proc/sysrq-trigger; capture: dd if=/proc/vmcore of=/dev/vdX" \
            elf "" "the Xen host's memory (Xen, dom0, a running PV domU); cut at the end of the last PT_LOAD"
        rm -f "$dir/FAILED.txt"
    else
        [ -f "$dir/FAILED.txt" ] || host_failed "${WAIT_WHY:-no DFS-CAPTURE-DONE}"
    fi
    rm -f "$vmdisk" "$BUILD/vmcore.tmp"
}

for s in $todo; do
    run_step "$s"
done

printf "$MHEAD" > "$OUT/MANIFEST.tsv"
for m in "$OUT"/*/MANIFEST.tsv; do tail -n +2 "$m" >> "$OUT/MANIFEST.tsv"; done
chmod -R a+rX "$OUT"
timing "run($todo )" "$(secs "$T_START" "$(now)")"
all_done && date -u +%FT%TZ > "$OUT/COMPLETE"
log "wrote $OUT"
echo "$OUT"

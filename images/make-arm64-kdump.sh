#!/bin/bash
# make-arm64-kdump.sh - a real in-guest kdump capture on arm64: Debian 12's own
# arm64 kernel under qemu-system-aarch64 (TCG, -M virt), booted with
# crashkernel=, loads itself (same kernel, same initramfs) as the crash kernel
# with kexec-tools, panics by sysrq-c, and the capture kernel saves /proc/vmcore
# with Debian's makedumpfile to raw virtio disks.  The host then also takes
# QEMU's dump-guest-memory ELF of the whole machine (outside the crashkernel
# area still the first kernel's RAM at the panic).
#
# Run as root on Debian 12 x86_64:   bash images/make-arm64-kdump.sh
# Foreign packages (linux-image, busybox-static, kexec-tools, makedumpfile and
# the libraries they need, all :arm64) are only downloaded (apt-get download) and
# unpacked with dpkg-deb -x into the work directory, never installed.
#
# Output: a cache directory outside the clone, keyed by a hash of this recipe
# (this script, tools/arm64-kdump-init.sh, tools/qmp.py, tools/disk-extract.py):
#   $OUT = /var/cache/dumpfs/arm64-kdump-<first 12 hex of sha256>
#   $OUT/MANIFEST.tsv                 one row per dump
#   $OUT/kdump/capture-zlib-d31.flat  makedumpfile -F -c -d 31 /proc/vmcore (flattened)
#   $OUT/kdump/capture-zlib-d31.kdump the same, made non-flattened by the host's makedumpfile -R
#   $OUT/kdump/proc-vmcore.elf        dd if=/proc/vmcore (the kernel's own ELF vmcore)
#   $OUT/kdump/capture-d31.elf.flat   makedumpfile -F -E -d 31 /proc/vmcore (flattened ELF)
#   $OUT/kdump/capture-d31.elf        the same after makedumpfile -R
#   $OUT/kdump/after-capture.elf      QMP dump-guest-memory format=elf paging=false
#                                     after the capture (whole RAM)
#   $OUT/COMPLETE                     written last (the cache: a complete OUT is skipped)
#   $OUT/logs/                        run.log, timings.tsv, failures.tsv, serial.log, ...
#   $OUT/build/                       unpacked packages and the initramfs
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   INSTALL=1          apt-get install QEMU, add the arm64 dpkg architecture and
#                      apt-get update (0 = skip)
#   MEM=512M CRASHKERNEL=192M   guest size and crashkernel= reservation
#   CPU=cortex-a57     -cpu of the guest
#   FAKE_TEXT=1        the guest's /init bind-mounts a /proc/kallsyms with a _text
#                      line (_stext - 64 KiB) before kexec -p (0 = kallsyms as it is)
#   RUN_TIMEOUT=2400   max seconds from start to DFS-CAPTURE-DONE
#   QEMU_TIMEOUT=3600  hard cap (timeout(1)) on the qemu process
#   DUMP_TIMEOUT=1200  max seconds for dump-guest-memory
#   NICE="chrt -i 0"   prefix of every CPU-heavy command (SCHED_IDLE: idle CPU only)
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/arm64-kdump-init.sh" "$TOOLS/qmp.py" "$TOOLS/disk-extract.py")
KEY=$(cat "${RECIPE_FILES[@]}" | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/arm64-kdump-$KEY}
INSTALL=${INSTALL:-1}
MEM=${MEM:-512M}
CRASHKERNEL=${CRASHKERNEL:-192M}
CPU=${CPU:-cortex-a57}
FAKE_TEXT=${FAKE_TEXT:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-2400}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-3600}
DUMP_TIMEOUT=${DUMP_TIMEOUT:-1200}
NICE=${NICE-chrt -i 0}
PY=/usr/bin/python3
ARCH=arm64

if [ -f "$OUT/COMPLETE" ]; then
    echo "complete in the cache: $OUT" >&2
    echo "$OUT"
    exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/build" "$OUT/kdump"
now() { echo "${EPOCHREALTIME/./}"; }                    # microseconds
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
printf 'step\tseconds\treason\n' > "$OUT/logs/failures.tsv"
failure() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$OUT/logs/failures.tsv"; log "FAIL $1: $3"; }
console_tail() { tail -n "${2:-25}" "$1" 2>/dev/null | tr -d '\r' | sed 's/^/    | /'; }
die() { log "FATAL: $*"; [ -n "${GLOG:-}" ] && console_tail "$GLOG" >> "$OUT/logs/run.log"; exit 1; }
MHEAD='path\tarch\tproducer\tcommand\tformat\tbytes\tseconds\tnote\n'
printf "$MHEAD" > "$OUT/MANIFEST.part"
log "recipe key $KEY (sha256 of ${RECIPE_FILES[*]}); OUT=$OUT"
TSTART=$(now)

# ---------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------
if [ "$INSTALL" = 1 ]; then
    T0=$(now)
    export DEBIAN_FRONTEND=noninteractive
    ok=0
    for try in $(seq 1 30); do   # another apt/dpkg may hold the lock
        if $NICE apt-get install -y --no-install-recommends qemu-system-arm ipxe-qemu cpio gzip python3 makedumpfile binutils \
                >> "$OUT/logs/apt.log" 2>&1; then ok=1; break; fi
        log "apt-get install failed (try $try; dpkg lock?), retrying in 10 s"
        sleep 10
    done
    [ $ok = 1 ] || die "apt-get install failed (logs/apt.log)"
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    for try in 1 2 3; do
        $NICE apt-get update >> "$OUT/logs/apt.log" 2>&1 && break
        log "apt-get update failed (try $try): $(grep -E '^E:' "$OUT/logs/apt.log" | tail -2 | tr '\n' ' ')"
        sleep 10
    done
    timing packages "$(secs "$T0" "$(now)")"
fi

B=$OUT/build
T0=$(now)
mkdir -p "$B/debs" "$B/pkg"
chown _apt "$B/debs" 2>/dev/null
KPKG=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null | grep -o "linux-image-[0-9][^ :,]*" | head -1)
[ -n "$KPKG" ] || die "apt-cache cannot resolve linux-image-arm64:arm64 (dpkg --add-architecture arm64; apt-get update?)"
KVER=${KPKG#linux-image-}
# kexec-tools (linked with libxenctrl on arm64) and makedumpfile, and every
# library their NEEDED entries reach (checked below with readelf)
PKGS="$KPKG busybox-static kexec-tools makedumpfile libc6 zlib1g liblzo2-2 libdw1 libelf1
      libbz2-1.0 liblzma5 libzstd1 libxenmisc4.17 libxentoollog1 libxencall1 libxenevtchn1
      libxengnttab1 libxenforeignmemory1 libxendevicemodel1 libxentoolcore1"
# shellcheck disable=SC2046
(cd "$B/debs" && apt-get download $(printf '%s:arm64 ' $PKGS)) >> "$OUT/logs/apt.log" 2>&1 \
    || die "apt-get download failed (logs/apt.log)"
for d in "$B"/debs/*.deb; do
    $NICE dpkg-deb -x "$d" "$B/pkg" || die "dpkg-deb -x $d failed"
    printf '%s\t%s\n' "$(dpkg-deb -f "$d" Package)" "$(dpkg-deb -f "$d" Version)"
done > "$OUT/logs/packages.tsv"
KERNEL=$B/pkg/boot/vmlinuz-$KVER
[ -f "$KERNEL" ] || die "no boot/vmlinuz-$KVER in $KPKG"
QVER=$(qemu-system-aarch64 --version | head -1 | sed 's/^QEMU emulator version //')
pv() { awk -v p="$1" '$1 == p { print $2 }' "$OUT/logs/packages.tsv"; }
{
    echo "kernel=$KPKG $(pv "$KPKG") boot/vmlinuz-$KVER ($(stat -c %s "$KERNEL") bytes; $(file -b "$KERNEL"))"
    echo "busybox-static=$(pv busybox-static) kexec-tools=$(pv kexec-tools) makedumpfile=$(pv makedumpfile)"
    echo "qemu=qemu-system-aarch $QVER"
    echo "host makedumpfile (for -R)=$(dpkg-query -W -f='${Version}' makedumpfile)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"
log "$(tr '\n' ';' < "$OUT/logs/versions.txt")"

# --- initramfs: busybox, kexec, makedumpfile + libraries, modules, init ---
R=$B/root
mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$B/pkg/bin/busybox" "$R/bin/busybox"
ln -sf busybox "$R/bin/sh"
install -m 755 "$TOOLS/arm64-kdump-init.sh" "$R/init"
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 666 "$R/dev/null" c 1 3
# shared-library closure of the two programs, by readelf -d NEEDED
closure() {
    local todo=("$@") seen=" " f n d found
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]}; todo=("${todo[@]:1}")
        echo "$f"
        for n in $(readelf -d "$B/pkg/$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            case $seen in *" $n "*) continue ;; esac
            seen="$seen$n "
            found=
            for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
                [ -e "$B/pkg/$d/$n" ] && { found=$d/$n; break; }
            done
            [ -n "$found" ] || { echo "MISSING $n (needed by $f)"; continue; }
            todo+=("$found")
        done
    done
}
closure sbin/kexec usr/bin/makedumpfile > "$OUT/logs/initramfs-files.txt"
grep MISSING "$OUT/logs/initramfs-files.txt" && die "missing libraries (logs/initramfs-files.txt)"
while read -r f; do
    install -D -m 755 "$(readlink -f "$B/pkg/$f")" "$R/$f"
done < "$OUT/logs/initramfs-files.txt"
ln -sf aarch64-linux-gnu/ld-linux-aarch64.so.1 "$R/lib/ld-linux-aarch64.so.1"
mkdir -p "$R/usr/bin" "$R/sbin"
for m in virtio_mmio virtio_blk qemu_fw_cfg; do
    f=$(find "$B/pkg/lib/modules/$KVER" -name "$m.ko*" | head -1)
    case $f in
        *.ko) cp "$f" "$R/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
        *) die "module $m not found in $KPKG" ;;
    esac
done
cpio_gz() {  # cpio_gz DIR OUT: reproducible newc archive
    (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
        | gzip -9n > "$2"
}
cpio_gz "$R" "$B/initrd.cpio.gz" || die "cpio failed"
# the first kernel's initrd: the same archive, then a second one that adds
# /boot/Image and /boot/initrd.cpio.gz (the kernel unpacks concatenated archives)
mkdir -p "$B/boot-root/boot"
cp "$KERNEL" "$B/boot-root/boot/Image"
cp "$B/initrd.cpio.gz" "$B/boot-root/boot/initrd.cpio.gz"
cpio_gz "$B/boot-root" "$B/boot.cpio.gz" || die "cpio failed"
cat "$B/initrd.cpio.gz" "$B/boot.cpio.gz" > "$B/first-initrd.cpio.gz"
rm -rf "$B/pkg/lib/modules" "$B/pkg/usr/lib/aarch64-linux-gnu/gconv" "$B/boot-root"
timing prepare "$(secs "$T0" "$(now)")"

# ---------------------------------------------------------------------------
# the guest: boot, kexec -p, sysrq-c, capture
# ---------------------------------------------------------------------------
GPID= ; GSOCK=$B/qmp.sock ; GLOG=$OUT/logs/serial.log
qmp() { "$PY" "$TOOLS/qmp.py" "$GSOCK" "$@" 2>> "$OUT/logs/qmp-events.log"; }
stop_guest() {
    [ -n "$GPID" ] || return 0
    kill -0 "$GPID" 2>/dev/null && qmp --timeout 15 quit >> "$OUT/logs/qmp.log" 2>&1
    local i
    for i in $(seq 1 20); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$GPID" 2>/dev/null && { log "qemu $GPID still running; TERM"; kill "$GPID"; }
    wait "$GPID" 2>/dev/null
    GPID=
}
trap stop_guest EXIT
# wait_serial PATTERN SECONDS FAIL-ERE: 0 when the serial console shows PATTERN
wait_serial() {
    local t0; t0=$(now)
    while :; do
        grep -aqF -- "$1" "$GLOG" && return 0
        if grep -aqE -- "$3" "$GLOG"; then log "console shows failure: $(grep -aE -m1 -- "$3" "$GLOG")"; return 1; fi
        kill -0 "$GPID" 2>/dev/null || { log "qemu exited before '$1'"; return 1; }
        [ $(( ($(now) - t0) / 1000000 )) -ge "$2" ] && { log "timeout ($2 s) waiting for '$1'"; return 1; }
        sleep 1
    done
}
DISKS=(capture-zlib-d31 proc-vmcore capture-d31-elf)
SERIALS=(dfs-kdump dfs-vmcore dfs-elf)     # the capture's /init finds its disks by these
truncate -s 256M "$B/disk-${DISKS[0]}.img"
truncate -s "$MEM" "$B/disk-${DISKS[1]}.img"     # /proc/vmcore is smaller than RAM
truncate -s "$MEM" "$B/disk-${DISKS[2]}.img"
APPEND="console=ttyAMA0 loglevel=6 panic=0 crashkernel=$CRASHKERNEL dfs.fake_text=$FAKE_TEXT"
cmd=(qemu-system-aarch64 -M virt -cpu "$CPU" -device vmcoreinfo -accel tcg -m "$MEM" -smp 1 -nographic
     -serial "file:$GLOG" -monitor none -no-reboot
     -kernel "$KERNEL" -initrd "$B/first-initrd.cpio.gz" -append "$APPEND"
     -qmp "unix:$GSOCK,server=on,wait=off")
for i in 0 1 2; do
    cmd+=(-drive "if=none,id=d$i,format=raw,file=$B/disk-${DISKS[$i]}.img" -device "virtio-blk-device,drive=d$i,serial=${SERIALS[$i]}")
done
echo "timeout -k 10 $QEMU_TIMEOUT $NICE ${cmd[*]}" > "$OUT/logs/qemu-cmdline"
: > "$GLOG"
T0=$(now)
# shellcheck disable=SC2086
timeout -k 10 "$QEMU_TIMEOUT" $NICE "${cmd[@]}" < /dev/null > "$OUT/logs/qemu.log" 2>&1 &
GPID=$!
log "guest started (pid $GPID): ${cmd[*]}"
wait_serial DFS-CRASHING "$RUN_TIMEOUT" 'DFS-KDUMP-FAILED|Kernel panic - not syncing: (VFS|No working init|Out of memory)|Attempted to kill init' \
    || die "no DFS-CRASHING (logs/serial.log)"
timing boot-kexec-load "$(secs "$T0" "$(now)")"
T1=$(now)
# the first kernel's own "Kernel panic - not syncing: sysrq triggered crash" is expected
if wait_serial DFS-CAPTURE-DONE "$RUN_TIMEOUT" 'Kernel panic - not syncing: (VFS|No working init|Out of memory|Fatal exception)|Unable to handle kernel|Attempted to kill init'; then
    timing crash-capture "$(secs "$T1" "$(now)")"
else
    failure capture "$(secs "$T1" "$(now)")" "no DFS-CAPTURE-DONE (logs/serial.log); extracting what the disks hold"
    console_tail "$GLOG" 40 >> "$OUT/logs/run.log"
fi
grep -a 'rc=[1-9]' "$GLOG" | while read -r l; do failure capture 0 "console: $l"; done
sleep 1
KPROD="Linux $KVER arm64 kdump capture kernel (kexec-tools $(pv kexec-tools), crashkernel=$CRASHKERNEL, -m $MEM, -M virt -cpu $CPU, QEMU $QVER TCG)"
MDF="makedumpfile $(pv makedumpfile):arm64"
manifest() {  # path producer command format seconds note
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" arm64 "$2" "$3" "$4" "$(stat -c %s "$OUT/$1")" "$5" "$6" >> "$OUT/MANIFEST.part"
}
# --- QEMU's own ELF of the machine, now ---
qmp stop >> "$OUT/logs/qmp.log" || die "QMP stop failed"
req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/kdump/after-capture.elf\",\"format\":\"elf\"}}"
t0=$(now)
reply=$(qmp --timeout "$DUMP_TIMEOUT" "$req"); rc=$?
dt=$(secs "$t0" "$(now)")
printf '%s\n  -> rc %s %s (%s s)\n' "$req" "$rc" "$reply" "$dt" >> "$OUT/logs/qmp.log"
if [ $rc = 0 ] && [ -s "$OUT/kdump/after-capture.elf" ]; then
    chmod a+r "$OUT/kdump/after-capture.elf"
    timing dump-elf "$dt"
    manifest kdump/after-capture.elf "QEMU $QVER dump-guest-memory of the guest after the capture" \
        "QMP stop; dump-guest-memory paging=false format=elf" elf "$dt" \
        "whole RAM: the crashkernel area holds the capture kernel, the rest is the first kernel's memory at the panic; VMCOREINFO note from the first kernel (fw_cfg)"
else
    failure dump-elf "$dt" "rc $rc: $reply"
fi
stop_guest

# --- cut the capture's outputs out of the raw disks ---
T0=$(now)
x() {  # x KIND DISK OUTREL producer command format note
    if timeout 300 $NICE "$PY" "$TOOLS/disk-extract.py" "$1" "$B/disk-$2.img" "$OUT/$3" >> "$OUT/logs/extract.log" 2>&1; then
        manifest "$3" "$4" "$5" "$6" "" "$7"
    else
        failure "$3" 0 "disk-extract.py $1 failed (logs/extract.log)"
        return 1
    fi
}
x flat capture-zlib-d31 kdump/capture-zlib-d31.flat "$MDF in the $KPROD" \
    "makedumpfile -F -c -d 31 /proc/vmcore > disk serial=dfs-kdump" kdump-flattened "cut from the raw disk at the end record" \
    && $NICE makedumpfile -R "$OUT/kdump/capture-zlib-d31.kdump" < "$OUT/kdump/capture-zlib-d31.flat" >> "$OUT/logs/extract.log" 2>&1 \
    && manifest kdump/capture-zlib-d31.kdump "$MDF in the $KPROD; host makedumpfile -R" \
        "makedumpfile -R capture-zlib-d31.kdump < capture-zlib-d31.flat" kdump "" "non-flattened copy"
x elf proc-vmcore kdump/proc-vmcore.elf "/proc/vmcore of the $KPROD" \
    "dd if=/proc/vmcore of=disk serial=dfs-vmcore bs=1M" elf "the kernel's own ELF vmcore (kexec-tools' ELF header); cut at the end of the last segment"
x flat capture-d31-elf kdump/capture-d31.elf.flat "$MDF in the $KPROD" \
    "makedumpfile -F -E -d 31 /proc/vmcore > disk serial=dfs-elf" elf-flattened "cut from the raw disk at the end record" \
    && $NICE makedumpfile -R "$OUT/kdump/capture-d31.elf" < "$OUT/kdump/capture-d31.elf.flat" >> "$OUT/logs/extract.log" 2>&1 \
    && manifest kdump/capture-d31.elf "$MDF in the $KPROD; host makedumpfile -R" \
        "makedumpfile -R capture-d31.elf < capture-d31.elf.flat" elf "" "non-flattened copy"
timing extract "$(secs "$T0" "$(now)")"
rm -f "$B"/disk-*.img
chmod -R a+rX "$OUT"
mv "$OUT/MANIFEST.part" "$OUT/MANIFEST.tsv"
timing total "$(secs "$TSTART" "$(now)")"
if [ "$(wc -l < "$OUT/logs/failures.tsv")" -gt 1 ]; then
    log "failures: $(tail -n +2 "$OUT/logs/failures.tsv" | tr '\n' ' ')"
    exit 1
fi
date -u +%FT%TZ > "$OUT/COMPLETE"
log "complete: $OUT"
echo "$OUT"

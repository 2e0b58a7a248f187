#!/bin/bash
# make-lime-dumps.sh - a real LiME memory image of the QEMU test guest, and
# QEMU's ELF dump of the same guest right after, for dumpfs's LiME reader.
#
# The guest is Debian 12's linux-image-amd64 (the kernel make-real-dumps.sh
# boots, /boot/vmlinuz-$KVER) under QEMU (TCG), busybox initramfs with
# tools/lime-init.sh as /init: it runs tools/guest-init.sh (unchanged, as
# /bin/guest-init.sh) in the background and, once that says DFS-READY, loads
# LiME (lime-forensics-dkms, built here for $KVER) three times:
#   insmod lime.ko path=/dev/vdc format=padded timeout=0
#   insmod lime.ko path=/dev/vdb format=raw    timeout=0
#   insmod lime.ko path=/dev/vda format=lime   timeout=0
# prints DFS-LIME-DONE, and idles; the host then does QMP stop and
# dump-guest-memory (paging=false, format=elf) of that guest, so pages that do
# not change (kernel text, /tmp/marker.txt) can be compared between the two.
# The LiME images are cut out of the disks by tools/lime-extract.py.
#
# Run as root on Debian 12 x86_64:   bash images/make-lime-dumps.sh
# It installs (apt-get) lime-forensics-dkms, dkms, linux-headers-$KVER,
# qemu-system-x86, busybox-static, cpio, gcc; INSTALL=0 skips that.
#
# Output: a cache directory outside the clone, keyed by a hash of this recipe
# and its inputs (this script, tools/lime-init.sh, tools/guest-init.sh,
# tools/qmp.py, tools/lime-extract.py, tools/dfsprobe.c, KVER, MEM, SMP):
#   $OUT = /var/cache/dumpfs/lime-<first 12 hex of sha256>
#   $OUT/MANIFEST.tsv        one row per image, the columns of make-real-dumps.sh
#   $OUT/lime/idle.lime      LiME format=lime (range headers + data)
#   $OUT/lime/idle.raw       LiME format=raw (the ranges' data, concatenated)
#   $OUT/lime/idle.padded    LiME format=padded (zeros from 0 between ranges)
#   $OUT/lime/ranges.txt     the ranges of idle.lime's headers (hex start end, bytes)
#   $OUT/qemu/idle.elf       QMP stop; dump-guest-memory paging=false format=elf
#   $OUT/build/lime.ko       the module the guest loaded (built for $KVER)
#   $OUT/build/guest-root/   the initramfs tree
#   $OUT/logs/               run.log, timings.tsv, idle.serial.log (DFS-IOMEM
#                            lines: the guest's System RAM), versions.txt, ...
#   $OUT/COMPLETE            written last: the cache is done
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   INSTALL=1          apt-get install the packages (0 = skip)
#   KVER=6.1.0-N-amd64 kernel release to boot (default: the one linux-image-amd64 depends on)
#   MEM=256M SMP=2     guest size
#   BOOT_TIMEOUT=600   max seconds to wait for DFS-LIME-DONE
#   QEMU_TIMEOUT=1800  hard cap (timeout(1)) on the qemu process
#   NICE="chrt -i 0"   prefix of every CPU-heavy command
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/lime-init.sh" "$TOOLS/guest-init.sh" "$TOOLS/qmp.py" "$TOOLS/lime-extract.py" "$TOOLS/dfsprobe.c")
INSTALL=${INSTALL:-1}
MEM=${MEM:-256M}
SMP=${SMP:-2}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
NICE=${NICE-chrt -i 0}
PY=/usr/bin/python3

if [ -z "${KVER:-}" ]; then   # default: the kernel linux-image-amd64 points at
    KPKG=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ,]*' | head -1)
    KVER=${KPKG#linux-image-}
fi
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || KVER=$(find /boot -name 'vmlinuz-*-amd64' | sed 's,.*/vmlinuz-,,' | sort -V | tail -1)
[ -n "$KVER" ] || { echo "no /boot/vmlinuz-*-amd64: install linux-image-amd64 first" >&2; exit 1; }
KERNEL=/boot/vmlinuz-$KVER
KEY=$( (cat "${RECIPE_FILES[@]}"; echo "$KVER $MEM $SMP") | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/lime-$KEY}

if [ -f "$OUT/COMPLETE" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT"
mkdir -p "$OUT"/{logs,build,qemu,lime}
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
T_START=$(now)
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
printf 'path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n' > "$OUT/MANIFEST.part"
manifest() {  # path group producer command format compression level seconds note
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" \
        "$(stat -c %s "$OUT/$1")" "$8" "$9" >> "$OUT/MANIFEST.part"
    log "ok   $1 ($(stat -c %s "$OUT/$1") bytes, $8 s)"
}
log "recipe key $KEY; OUT=$OUT; kernel $KVER"

# --- packages ---
T0=$(now)
PKGS="qemu-system-x86 busybox-static cpio gcc libc6-dev make dkms lime-forensics-dkms linux-headers-$KVER"
if [ "$INSTALL" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    ok=0
    for try in $(seq 1 30); do   # another apt/dpkg may hold the lock
        # shellcheck disable=SC2086
        if apt-get install -y --no-install-recommends $PKGS >> "$OUT/logs/apt.log" 2>&1; then ok=1; break; fi
        log "apt-get install failed (try $try; dpkg lock?), retrying in 10 s"
        sleep 10
    done
    [ $ok = 1 ] || die "apt-get install failed (logs/apt.log)"
fi
timing packages "$(secs "$T0" "$(now)")"

# --- lime.ko for $KVER, built from the dkms package's source ---
T0=$(now)
LIMESRC=$(ls -d /usr/src/lime-forensics-* 2>/dev/null | sort -V | tail -1)
[ -n "$LIMESRC" ] || die "no /usr/src/lime-forensics-* (lime-forensics-dkms)"
[ -d "/lib/modules/$KVER/build" ] || die "no /lib/modules/$KVER/build (linux-headers-$KVER)"
cp -a "$LIMESRC" "$OUT/build/lime-src"
$NICE make -C "/lib/modules/$KVER/build" M="$OUT/build/lime-src" modules > "$OUT/logs/lime-build.log" 2>&1 \
    || die "building lime.ko failed (logs/lime-build.log)"
cp "$OUT/build/lime-src/lime.ko" "$OUT/build/lime.ko"
strip --strip-unneeded "$OUT/build/lime.ko"
[ "$(modinfo -F vermagic "$OUT/build/lime.ko" | cut -d' ' -f1)" = "$KVER" ] || die "lime.ko vermagic is not $KVER"
timing lime-build "$(secs "$T0" "$(now)")"
QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
LIME_VER=$(dpkg-query -W -f='${Version}' lime-forensics-dkms 2>/dev/null)
{
    echo "kernel=$KERNEL"
    echo "kernel_release=$KVER"
    echo "kernel_package=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)"
    echo "lime=lime-forensics-dkms $LIME_VER ($LIMESRC), built with linux-headers-$KVER $(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null)"
    echo "lime_ko_vermagic=$(modinfo -F vermagic "$OUT/build/lime.ko")"
    echo "lime_ko_md5=$(md5sum < "$OUT/build/lime.ko" | cut -d' ' -f1)"
    echo "qemu=$QEMU_VER accel=tcg cpu=qemu64"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"
log "kernel $KVER, QEMU $QEMU_VER, lime-forensics $LIME_VER"

# --- initramfs: busybox, lime-init.sh as /init, guest-init.sh, dfsprobe, qemu_fw_cfg, lime.ko ---
T0=$(now)
ROOT=$OUT/build/guest-root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
ln -sf busybox "$ROOT/bin/sh"
install -m 755 "$TOOLS/lime-init.sh" "$ROOT/init"
install -m 755 "$TOOLS/guest-init.sh" "$ROOT/bin/guest-init.sh"
mknod -m 600 "$ROOT/dev/console" c 5 1
mknod -m 666 "$ROOT/dev/null" c 1 3
$NICE gcc -static -O1 -g -pthread -o "$ROOT/bin/dfsprobe" "$TOOLS/dfsprobe.c" || die "gcc dfsprobe.c failed"
fw=$(modinfo -k "$KVER" -n qemu_fw_cfg 2>/dev/null)
case $fw in
    *.ko) cp "$fw" "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *.ko.xz) xz -dc "$fw" > "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *) log "WARNING: no qemu_fw_cfg module: VMCOREINFO will not reach QEMU" ;;
esac
cp "$OUT/build/lime.ko" "$ROOT/lib/modules/lime.ko"
# add_module NAME: the module and its dependencies (depth first), uncompressed,
# appended in load order to lib/modules/order (lime-init.sh loads them)
add_module() {
    local m=$1 f dep
    grep -qx "$m" "$ROOT/lib/modules/order" 2>/dev/null && return 0
    for dep in $(modinfo -k "$KVER" -F depends "$m" 2>/dev/null | tr ',' ' '); do add_module "$dep"; done
    f=$(modinfo -k "$KVER" -n "$m" 2>/dev/null) || { log "WARNING: module $m not found (built in?)"; return 0; }
    case $f in
        *.ko) cp "$f" "$ROOT/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$ROOT/lib/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$ROOT/lib/modules/$m.ko" ;;
        *) log "WARNING: cannot use module file $f"; return 0 ;;
    esac
    echo "$m" >> "$ROOT/lib/modules/order"
}
: > "$ROOT/lib/modules/order"
add_module virtio_pci
add_module virtio_blk
log "virtio modules: $(tr '\n' ' ' < "$ROOT/lib/modules/order")"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
    | gzip -9n > "$OUT/build/guest.cpio.gz" || die "cpio failed"
timing initramfs "$(secs "$T0" "$(now)")"

# --- boot, LiME in the guest, then stop and dump ---
GSOCK=$OUT/build/idle.qmp
GLOG=$OUT/logs/idle.serial.log
GPID=
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
MEMB=$(numfmt --from=iec "$MEM")
for d in lime raw padded; do
    rm -f "$OUT/build/disk-$d.img"
    truncate -s $((MEMB + 64 * 1024 * 1024)) "$OUT/build/disk-$d.img"   # sparse; RAM ranges end below MEM
done
CMD=(qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m "$MEM" -smp "$SMP"
     -display none -serial "file:$GLOG" -monitor none -no-reboot
     -kernel "$KERNEL" -initrd "$OUT/build/guest.cpio.gz"
     -append "console=ttyS0 loglevel=6 panic=0" -device vmcoreinfo
     -drive "file=$OUT/build/disk-lime.img,format=raw,if=virtio"
     -drive "file=$OUT/build/disk-raw.img,format=raw,if=virtio"
     -drive "file=$OUT/build/disk-padded.img,format=raw,if=virtio"
     -qmp "unix:$GSOCK,server=on,wait=off")
echo "timeout -k 10 $QEMU_TIMEOUT $NICE ${CMD[*]}" > "$OUT/logs/idle.qemu-cmdline"
: > "$GLOG"
T0=$(now)
# shellcheck disable=SC2086
timeout -k 10 "$QEMU_TIMEOUT" $NICE "${CMD[@]}" < /dev/null > "$OUT/logs/idle.qemu.log" 2>&1 &
GPID=$!
log "guest started (pid $GPID): ${CMD[*]}"
READY_S=
while ! grep -aq '^DFS-LIME-DONE' "$GLOG"; do
    [ -z "$READY_S" ] && grep -aq '^DFS-READY' "$GLOG" && { READY_S=$(secs "$T0" "$(now)"); timing boot "$READY_S"; }
    grep -aqE 'Kernel panic|No working init|DFS-LIME-FAILED' "$GLOG" \
        && die "guest failed: $(grep -aE -m1 'Kernel panic|No working init|DFS-LIME-FAILED' "$GLOG")"
    kill -0 "$GPID" 2>/dev/null || die "qemu exited before DFS-LIME-DONE (logs/idle.qemu.log)"
    [ $(( ($(now) - T0) / 1000000 )) -ge "$BOOT_TIMEOUT" ] && die "no DFS-LIME-DONE in $BOOT_TIMEOUT s"
    sleep 0.2
done
qmp stop >> "$OUT/logs/qmp.log" || die "QMP stop failed"
LIME_S=$(secs "$T0" "$(now)")
timing boot-and-lime "$LIME_S"
grep -aq 'fw_cfg etc/vmcoreinfo present' "$GLOG" || log "WARNING: the guest says fw_cfg etc/vmcoreinfo absent"
grep -a '^DFS-LIME' "$GLOG" | tee -a "$OUT/logs/run.log" >&2
grep -aq '^DFS-LIME-DONE lime rc=0' "$GLOG" || die "insmod lime.ko format=lime failed: $(grep -a '^DFS-LIME-DONE' "$GLOG")"
rel=qemu/idle.elf
req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/$rel\",\"format\":\"elf\"}}"
T0=$(now)
reply=$(qmp --timeout 900 "$req"); rc=$?
printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
[ $rc = 0 ] && [ -s "$OUT/$rel" ] || die "dump-guest-memory elf: rc $rc $reply"
chmod a+r "$OUT/$rel"
manifest "$rel" idle "QEMU $QEMU_VER dump-guest-memory; guest Linux $KVER, -m $MEM -smp $SMP, tcg" \
    "QMP stop (on DFS-LIME-DONE); dump-guest-memory paging=false format=elf" elf none all \
    "$(secs "$T0" "$(now)")" "the guest stopped right after LiME's format=lime capture returned"
stop_guest

# --- the LiME images, cut out of the disks ---
T0=$(now)
$NICE "$PY" "$TOOLS/lime-extract.py" "$OUT/build/disk-lime.img" "$OUT/lime/idle.lime" \
    "$OUT/build/disk-raw.img" "$OUT/lime/idle.raw" "$OUT/build/disk-padded.img" "$OUT/lime/idle.padded" \
    > "$OUT/logs/lime-extract.log" 2>&1 || die "lime-extract.py failed (logs/lime-extract.log)"
grep -E '^[0-9a-f]+ [0-9a-f]+ [0-9]+$' "$OUT/logs/lime-extract.log" > "$OUT/lime/ranges.txt"
DT=$(secs "$T0" "$(now)")
PROD="LiME $LIME_VER (lime-forensics-dkms, lime.ko built for $KVER) in the guest, -m $MEM -smp $SMP, tcg"
for f in padded raw lime; do
    dev=$(grep -a "^DFS-LIME-START $f " "$GLOG" | awk '{print $3}')
    kind=lime-$f; [ $f = lime ] && kind=lime
    manifest "lime/idle.$f" idle "$PROD" "insmod lime.ko path=$dev format=$f timeout=0" "$kind" none all "$DT" \
        "cut from the disk at the length of idle.lime's ranges; boot to DFS-LIME-DONE $LIME_S s"
done
rm -f "$OUT/build/disk-lime.img" "$OUT/build/disk-raw.img" "$OUT/build/disk-padded.img"
log "ranges (idle.lime): $(awk '{printf "%s-%s ", $1, $2}' "$OUT/lime/ranges.txt")"
log "guest System RAM:   $(grep -a '^DFS-IOMEM' "$GLOG" | awk '{printf "%s ", $2}')"
timing lime-extract "$DT"
chmod -R a+rX "$OUT"
mv "$OUT/MANIFEST.part" "$OUT/MANIFEST.tsv"
timing total "$(secs "$T_START" "$(now)")"
date -u +%FT%TZ > "$OUT/COMPLETE"
log "wrote $OUT"
echo "$OUT"

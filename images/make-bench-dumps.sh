#!/bin/bash
# make-bench-dumps.sh - the 2 GiB guest's dumps for the remote-source benchmark
# (tests/bench/remote.sh, docs/performance.md "Remote dumps").
#
# The guest is the idle guest of make-real-dumps.sh (Debian 12's
# linux-image-amd64, /boot/vmlinuz-$KVER, busybox initramfs with
# tools/guest-init.sh as /init and tools/dfsprobe.c), only bigger (MEM=2G):
# QEMU TCG boots it, on DFS-READY QMP stop, then
#   dump-guest-memory paging=false format=elf   -> qemu/bench.elf   (~2 GiB, uncompressed)
#   tools/phdr-first.py qemu/bench.elf qemu/bench.phdrfirst.elf   (makedumpfile input; deleted after)
#   makedumpfile -c -d 31 qemu/bench.phdrfirst.elf mdf/bench-zlib-d31.kdump
#
# Run as root on Debian 12 x86_64:   bash images/make-bench-dumps.sh
# It prints the output directory.  Nothing is installed: it needs what
# make-real-dumps.sh installs (qemu-system-x86 busybox-static cpio makedumpfile gcc).
#
# Output: a cache directory outside the clone, keyed by a hash of this recipe
# and its inputs (this script, tools/guest-init.sh, tools/dfsprobe.c,
# tools/qmp.py, tools/phdr-first.py, KVER, MEM, SMP):
#   $OUT = /var/cache/dumpfs/bench2g-<first 12 hex of sha256>
#   $OUT/qemu/bench.elf              QEMU ELF, paging=false
#   $OUT/mdf/bench-zlib-d31.kdump    makedumpfile -c -d 31 (zlib kdump)
#   $OUT/MANIFEST.tsv                one row per dump, the columns of make-real-dumps.sh
#   $OUT/logs/                       run.log, timings.tsv, versions.txt, serial log, ...
#   $OUT/COMPLETE                    written last: the cache is done
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   KVER=6.1.0-N-amd64 kernel release to boot (default: the one linux-image-amd64 depends on)
#   MEM=2G SMP=1       guest size (SMP=1 keeps the TCG boot short on a 2-CPU host)
#   BOOT_TIMEOUT=600   max seconds to wait for DFS-READY
#   QEMU_TIMEOUT=1800  hard cap (timeout(1)) on the qemu process
#   MDF_TIMEOUT=900    hard cap on makedumpfile
#   NICE="chrt -i 0"   prefix of every CPU-heavy command
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/guest-init.sh" "$TOOLS/dfsprobe.c" "$TOOLS/qmp.py" "$TOOLS/phdr-first.py")
MEM=${MEM:-2G}
SMP=${SMP:-1}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
MDF_TIMEOUT=${MDF_TIMEOUT:-900}
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
OUT=${OUT:-/var/cache/dumpfs/bench2g-$KEY}

if [ -f "$OUT/COMPLETE" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT"
mkdir -p "$OUT"/{logs,build,qemu,mdf}
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
log "recipe key $KEY; OUT=$OUT; kernel $KVER; -m $MEM -smp $SMP"
for p in qemu-system-x86_64 busybox cpio makedumpfile gcc; do
    command -v "$p" > /dev/null || die "$p not found (run make-real-dumps.sh once, or apt-get install it)"
done
QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
MDF_VER=$(makedumpfile -v 2>&1 | head -1 | grep -o '[0-9][0-9.]*' | head -1)
{
    echo "kernel=$KERNEL"
    echo "kernel_release=$KVER"
    echo "kernel_package=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)"
    echo "qemu=$QEMU_VER accel=tcg cpu=qemu64 -m $MEM -smp $SMP"
    echo "makedumpfile=$MDF_VER"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"

# --- initramfs: the idle guest's (busybox, guest-init.sh, dfsprobe, qemu_fw_cfg) ---
T0=$(now)
ROOT=$OUT/build/guest-root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
ln -sf busybox "$ROOT/bin/sh"
install -m 755 "$TOOLS/guest-init.sh" "$ROOT/init"
mknod -m 600 "$ROOT/dev/console" c 5 1
mknod -m 666 "$ROOT/dev/null" c 1 3
$NICE gcc -static -O1 -g -pthread -o "$ROOT/bin/dfsprobe" "$TOOLS/dfsprobe.c" || die "gcc dfsprobe.c failed"
fw=$(modinfo -k "$KVER" -n qemu_fw_cfg 2>/dev/null)
case $fw in
    *.ko) cp "$fw" "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *.ko.xz) xz -dc "$fw" > "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *.ko.zst) zstd -qdc "$fw" > "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *) log "WARNING: no qemu_fw_cfg module: VMCOREINFO will not reach QEMU" ;;
esac
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
    | gzip -9n > "$OUT/build/guest.cpio.gz" || die "cpio failed"
timing initramfs "$(secs "$T0" "$(now)")"

# --- boot, stop on DFS-READY, dump ---
GSOCK=$OUT/build/bench.qmp
GLOG=$OUT/logs/bench.serial.log
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
CMD=(qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m "$MEM" -smp "$SMP"
     -display none -serial "file:$GLOG" -monitor none -no-reboot
     -kernel "$KERNEL" -initrd "$OUT/build/guest.cpio.gz"
     -append "console=ttyS0 loglevel=6 panic=0" -device vmcoreinfo
     -qmp "unix:$GSOCK,server=on,wait=off")
echo "timeout -k 10 $QEMU_TIMEOUT $NICE ${CMD[*]}" > "$OUT/logs/bench.qemu-cmdline"
: > "$GLOG"
T0=$(now)
# shellcheck disable=SC2086
timeout -k 10 "$QEMU_TIMEOUT" $NICE "${CMD[@]}" < /dev/null > "$OUT/logs/bench.qemu.log" 2>&1 &
GPID=$!
log "guest started (pid $GPID): ${CMD[*]}"
while ! grep -aq 'DFS-READY' "$GLOG"; do
    grep -aqE 'Kernel panic|No working init' "$GLOG" \
        && die "guest failed: $(grep -aE -m1 'Kernel panic|No working init' "$GLOG")"
    kill -0 "$GPID" 2>/dev/null || die "qemu exited before DFS-READY (logs/bench.qemu.log)"
    [ $(( ($(now) - T0) / 1000000 )) -ge "$BOOT_TIMEOUT" ] && die "no DFS-READY in $BOOT_TIMEOUT s"
    sleep 0.5
done
timing boot "$(secs "$T0" "$(now)")"
sleep 2
qmp stop >> "$OUT/logs/qmp.log" || die "QMP stop failed"
grep -aq 'fw_cfg etc/vmcoreinfo present' "$GLOG" || log "WARNING: the guest says fw_cfg etc/vmcoreinfo absent"
rel=qemu/bench.elf
req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/$rel\",\"format\":\"elf\"}}"
T0=$(now)
reply=$(qmp --timeout 1200 "$req"); rc=$?
printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
[ $rc = 0 ] && [ -s "$OUT/$rel" ] || die "dump-guest-memory elf: rc $rc $reply"
manifest "$rel" bench "QEMU $QEMU_VER dump-guest-memory; guest Linux $KVER, -m $MEM -smp $SMP, tcg" \
    "QMP stop (2 s after DFS-READY); dump-guest-memory paging=false format=elf" elf none all \
    "$(secs "$T0" "$(now)")" "idle guest of make-real-dumps.sh, -m $MEM"
stop_guest

# --- makedumpfile -c -d 31 (of a copy with the program headers first) ---
T0=$(now)
$NICE timeout 900 "$PY" "$TOOLS/phdr-first.py" "$OUT/qemu/bench.elf" "$OUT/build/bench.phdrfirst.elf" \
    > "$OUT/logs/phdr-first.log" 2>&1 || die "phdr-first.py failed (logs/phdr-first.log)"
timing phdr-first "$(secs "$T0" "$(now)")"
T0=$(now)
(cd "$OUT" && $NICE timeout -k 5 "$MDF_TIMEOUT" makedumpfile -c -d 31 build/bench.phdrfirst.elf mdf/bench-zlib-d31.kdump) \
    > "$OUT/logs/mdf-bench-zlib-d31.log" 2>&1 || die "makedumpfile failed (logs/mdf-bench-zlib-d31.log)"
manifest mdf/bench-zlib-d31.kdump bench "makedumpfile $MDF_VER" \
    "makedumpfile -c -d 31 build/bench.phdrfirst.elf mdf/bench-zlib-d31.kdump" kdump zlib 31 \
    "$(secs "$T0" "$(now)")" "input: qemu/bench.elf with the program headers moved to offset 64 (phdr-first.py; copy deleted)"
rm -f "$OUT/build/bench.phdrfirst.elf"

chmod -R a+rX "$OUT"
mv "$OUT/MANIFEST.part" "$OUT/MANIFEST.tsv"
timing total "$(secs "$T_START" "$(now)")"
date -u +%FT%TZ > "$OUT/COMPLETE"
log "wrote $OUT"
echo "$OUT"

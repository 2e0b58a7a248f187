#!/bin/bash
# make-i386-dumps.sh - real dumps of Debian 12's own 32-bit x86 kernels
# (linux-image-686-pae and linux-image-686, :i386), booted under
# qemu-system-i386 TCG with a busybox-static:i386 initramfs, and dumped by QEMU's
# dump-guest-memory (ELF with paging off, and kdump-zlib) of the same stopped
# moment.  A sibling of make-foreign-dumps.sh with its own cache key.
#
# Run as root on Debian 12 x86_64:   bash images/make-i386-dumps.sh
# The i386 packages are only downloaded (apt-get download) and unpacked with
# dpkg-deb -x into the work directory, never installed.
#
# Output: a cache directory outside the clone, keyed by a hash of this recipe
# (this script, tools/foreign-init.sh, tools/qmp.py):
#   $OUT = /var/cache/dumpfs/i386-<first 12 hex of sha256>
#   $OUT/MANIFEST.tsv            one row per dump (all complete flavours)
#   $OUT/FLAVOUR/idle.elf        QMP dump-guest-memory format=elf paging=false
#   $OUT/FLAVOUR/idle-kdump-zlib.flat   ... format=kdump-zlib (QEMU 7.2 writes it flattened)
#   $OUT/FLAVOUR/COMPLETE        written last: the flavour is done (the cache)
#   $OUT/logs/                   run.log, timings.tsv, failures.tsv, FLAVOUR.serial.log, ...
#   $OUT/build/FLAVOUR/          unpacked packages and the initramfs
# FLAVOUR is 686-pae (PAE page tables) or 686 (2-level, no PAE).  A flavour whose
# COMPLETE exists is skipped; an incomplete one is redone.
#
# Environment:
#   FLAVOURS="686-pae 686"  kernel flavours to make
#   OUT=DIR            output directory (default: the cache path above)
#   INSTALL=1          apt-get install QEMU, add the i386 dpkg architecture and
#                      apt-get update (0 = skip; the packages must then be downloadable)
#   MEM=256M SMP=1     guest size
#   CPU=qemu32         -cpu (qemu32 has PAE)
#   BOOT_TIMEOUT=1500  max seconds to wait for a guest's DFS-READY marker
#   QEMU_TIMEOUT=3000  hard cap (timeout(1)) on every qemu process
#   DUMP_TIMEOUT=1200  max seconds for one dump-guest-memory
#   NICE="chrt -i 0"   prefix of every CPU-heavy command (SCHED_IDLE: idle CPU only)
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/foreign-init.sh" "$TOOLS/qmp.py")
KEY=$(cat "${RECIPE_FILES[@]}" | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/i386-$KEY}
ARCHES=${FLAVOURS:-"686-pae 686"}   # the loop variable ARCH is the flavour
DEBARCH=i386
CPU=${CPU:-qemu32}
INSTALL=${INSTALL:-1}
MEM=${MEM:-256M}
SMP=${SMP:-1}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-1500}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-3000}
DUMP_TIMEOUT=${DUMP_TIMEOUT:-1200}
NICE=${NICE-chrt -i 0}
PY=/usr/bin/python3

mkdir -p "$OUT/logs" "$OUT/build"
now() { echo "${EPOCHREALTIME/./}"; }                    # microseconds
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
[ -s "$OUT/logs/timings.tsv" ] || printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
[ -s "$OUT/logs/failures.tsv" ] || printf 'arch\tstep\tseconds\treason\n' > "$OUT/logs/failures.tsv"
failure() {  # arch step seconds reason
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$OUT/logs/failures.tsv"
    log "FAIL $1 $2: $4"
}
MHEAD='path\tarch\tproducer\tcommand\tformat\tbytes\tseconds\tnote\n'
log "recipe key $KEY (sha256 of ${RECIPE_FILES[*]}); OUT=$OUT; ARCHES=$ARCHES"

# ---------------------------------------------------------------------------
# per-architecture facts
# ---------------------------------------------------------------------------
arch_facts() {  # sets QEMU_BIN QEMU_PKG FLAVOUR KFILE MACHINE CONSOLE UNAME
    case $1 in
        686-pae|686) QEMU_BIN=qemu-system-i386 QEMU_PKG=qemu-system-x86 FLAVOUR=$1
                 KFILE=vmlinuz CONSOLE=ttyS0 UNAME=i686
                 MACHINE=(-M pc -cpu "$CPU" -device vmcoreinfo) ;;
        *) return 1 ;;
    esac
}

todo=
for ARCH in $ARCHES; do
    arch_facts "$ARCH" || die "unknown flavour $ARCH (known: 686-pae 686)"
    if [ -f "$OUT/$ARCH/COMPLETE" ]; then
        log "$ARCH: complete in the cache ($OUT/$ARCH), skipped"
    else
        todo="$todo $ARCH"
    fi
done

# ---------------------------------------------------------------------------
# packages: QEMU installed; the guest's kernel and busybox only downloaded
# ---------------------------------------------------------------------------
if [ -n "$todo" ] && [ "$INSTALL" = 1 ]; then
    T0=$(now)
    export DEBIAN_FRONTEND=noninteractive
    pkgs="cpio gzip python3 seabios ipxe-qemu"      # option ROMs: only recommended by QEMU
    for ARCH in $todo; do arch_facts "$ARCH"; pkgs="$pkgs $QEMU_PKG"; done
    ok=0
    for try in $(seq 1 30); do   # another apt/dpkg may hold the lock
        # shellcheck disable=SC2086
        if $NICE apt-get install -y --no-install-recommends $pkgs >> "$OUT/logs/apt.log" 2>&1; then ok=1; break; fi
        log "apt-get install failed (try $try; dpkg lock?), retrying in 10 s"
        sleep 10
    done
    [ $ok = 1 ] || die "apt-get install $pkgs failed (logs/apt.log)"
    dpkg --print-foreign-architectures | grep -qx "$DEBARCH" || dpkg --add-architecture "$DEBARCH"
    # a mirror in the middle of a sync makes one index fail ("File has unexpected
    # size"); apt then keeps the others, which is enough when the packages resolve
    for try in 1 2 3; do
        $NICE apt-get update >> "$OUT/logs/apt.log" 2>&1 && break
        log "apt-get update failed (try $try): $(grep -E '^E:' "$OUT/logs/apt.log" | tail -2 | tr '\n' ' ')"
        sleep 10
    done
    timing packages "$(secs "$T0" "$(now)")"
fi

# ---------------------------------------------------------------------------
# one architecture
# ---------------------------------------------------------------------------
GPID= ; GSOCK= ; GLOG=
qmp() { "$PY" "$TOOLS/qmp.py" "$GSOCK" "$@" 2>> "$OUT/logs/$ARCH.qmp-events.log"; }
stop_guest() {
    [ -n "$GPID" ] || return 0
    kill -0 "$GPID" 2>/dev/null && qmp --timeout 15 quit >> "$OUT/logs/$ARCH.qmp.log" 2>&1
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
console_tail() { tail -n "${2:-15}" "$1" 2>/dev/null | tr -d '\r' | sed 's/^/    | /'; }
arch_fail() {  # step seconds reason: record, keep the console's last lines
    failure "$ARCH" "$1" "$2" "$3"
    {
        echo "== $ARCH $1 failed after $2 s: $3"
        echo "== last console lines (logs/$ARCH.serial.log):"
        console_tail "$GLOG" 25
    } | tee -a "$OUT/logs/$ARCH.failure.txt" >> "$OUT/logs/run.log"
    stop_guest
}

# fetch_deb PACKAGE:ARCH DIR: apt-get download into DIR, print the .deb path
fetch_deb() {
    local spec=$1 dir=$2 f
    mkdir -p "$dir"
    (cd "$dir" && chown _apt "$dir" 2>/dev/null; apt-get download "$spec") >> "$OUT/logs/apt.log" 2>&1 || return 1
    f=$(ls -t "$dir"/"${spec%%:*}"_*_"${spec##*:}".deb 2>/dev/null | head -1)
    [ -n "$f" ] && echo "$f"
}

make_arch() {
    local b=$OUT/build/$ARCH d=$OUT/$ARCH t0 kmeta kpkg kver kdeb bdeb kernel kpkgver bbver qver root
    rm -rf "$b" "$d" "$OUT/logs/$ARCH".*
    mkdir -p "$b" "$d"
    printf "$MHEAD" > "$d/MANIFEST.part"
    # --- the kernel linux-image-FLAVOUR depends on, and busybox-static ---
    t0=$(now)
    kmeta=linux-image-$FLAVOUR
    kpkg=$(apt-cache depends "$kmeta:$DEBARCH" 2>/dev/null | grep -oE "linux-image-[0-9]+\.[0-9][^ :,]*" | head -1)
    [ -n "$kpkg" ] || { arch_fail packages 0 "apt-cache cannot resolve $kmeta:$DEBARCH (dpkg --add-architecture $DEBARCH; apt-get update?)"; return 1; }
    kver=${kpkg#linux-image-}
    kdeb=$(fetch_deb "$kpkg:$DEBARCH" "$b/debs") || { arch_fail packages 0 "apt-get download $kpkg:$DEBARCH failed (logs/apt.log)"; return 1; }
    bdeb=$(fetch_deb "busybox-static:$DEBARCH" "$b/debs") || { arch_fail packages 0 "apt-get download busybox-static:$DEBARCH failed"; return 1; }
    $NICE dpkg-deb -x "$kdeb" "$b/kernel-pkg" && $NICE dpkg-deb -x "$bdeb" "$b/busybox-pkg" \
        || { arch_fail packages 0 "dpkg-deb -x failed"; return 1; }
    kpkgver=$(dpkg-deb -f "$kdeb" Version)
    bbver=$(dpkg-deb -f "$bdeb" Version)
    kernel=$b/kernel-pkg/boot/$KFILE-$kver
    [ -f "$kernel" ] || { arch_fail packages 0 "no $KFILE-$kver in $kdeb"; return 1; }
    qver=$($QEMU_BIN --version | head -1 | sed 's/^QEMU emulator version //')
    {
        echo "flavour=$ARCH arch=$DEBARCH"
        echo "kernel_package=$kpkg $kpkgver ($(basename "$kdeb")), the one $kmeta:$DEBARCH $(apt-cache policy "$kmeta:$DEBARCH" 2>/dev/null | sed -n 's/^ *Candidate: //p') depends on"
        echo "kernel=boot/$KFILE-$kver ($(stat -c %s "$kernel") bytes)"
        echo "busybox_package=busybox-static $bbver ($(basename "$bdeb"))"
        echo "qemu=$QEMU_BIN $qver (package $QEMU_PKG $(dpkg-query -W -f='${Version}' "$QEMU_PKG" 2>/dev/null))"
        echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
    } > "$OUT/logs/$ARCH.versions.txt"
    log "$ARCH: $kpkg $kpkgver, busybox $bbver, $QEMU_BIN $qver"
    # --- initramfs: the architecture's busybox-static and tools/foreign-init.sh ---
    root=$b/root
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
    cp "$b/busybox-pkg/bin/busybox" "$root/bin/busybox"
    ln -sf busybox "$root/bin/sh"
    install -m 755 "$TOOLS/foreign-init.sh" "$root/init"
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3
    local fw
    fw=$(find "$b/kernel-pkg/lib/modules/$kver" -name 'qemu_fw_cfg.ko*' 2>/dev/null | head -1)
    case $fw in
        *.ko) cp "$fw" "$root/lib/modules/qemu_fw_cfg.ko" ;;
        *.ko.xz) xz -dc "$fw" > "$root/lib/modules/qemu_fw_cfg.ko" ;;
        *.ko.zst) zstd -qdc "$fw" > "$root/lib/modules/qemu_fw_cfg.ko" ;;
        *) log "$ARCH: no qemu_fw_cfg module (built in, or absent)" ;;
    esac
    (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
        | gzip -9n > "$b/initramfs.cpio.gz" || { arch_fail initramfs 0 "cpio failed"; return 1; }
    rm -rf "$b/kernel-pkg/lib"   # the modules tree (up to 350 MB); boot/ and the .debs stay
    timing "$ARCH-prepare" "$(secs "$t0" "$(now)")"

    # --- boot ---
    GSOCK=$b/qmp.sock
    GLOG=$OUT/logs/$ARCH.serial.log
    rm -f "$GSOCK"
    local cmd=($QEMU_BIN "${MACHINE[@]}" -accel tcg -m "$MEM" -smp "$SMP" -nographic
               -serial "file:$GLOG" -monitor none -no-reboot
               -kernel "$kernel" -initrd "$b/initramfs.cpio.gz"
               -append "console=$CONSOLE loglevel=6 panic=0"
               -qmp "unix:$GSOCK,server=on,wait=off")
    echo "timeout -k 10 $QEMU_TIMEOUT $NICE ${cmd[*]}" > "$OUT/logs/$ARCH.qemu-cmdline"
    : > "$GLOG"
    t0=$(now)
    # shellcheck disable=SC2086
    timeout -k 10 "$QEMU_TIMEOUT" $NICE "${cmd[@]}" < /dev/null > "$OUT/logs/$ARCH.qemu.log" 2>&1 &
    GPID=$!
    log "$ARCH: guest started (pid $GPID): ${cmd[*]}"
    if ! wait_serial DFS-READY "$BOOT_TIMEOUT" 'Kernel panic|Attempted to kill init|Unable to mount root|No working init'; then
        arch_fail boot "$(secs "$t0" "$(now)")" "no DFS-READY on the console (logs/$ARCH.serial.log, logs/$ARCH.qemu.log)"
        return 1
    fi
    local boot_s; boot_s=$(secs "$t0" "$(now)")
    timing "$ARCH-boot" "$boot_s"
    sleep 2
    qmp query-dump-guest-memory-capability > "$OUT/logs/$ARCH.dump-formats.json"
    log "$ARCH: QEMU dump formats: $(cat "$OUT/logs/$ARCH.dump-formats.json")"
    # --- dumps of one stopped moment ---
    qmp stop >> "$OUT/logs/$ARCH.qmp.log" || { arch_fail stop 0 "QMP stop failed"; return 1; }
    local producer="QEMU $qver dump-guest-memory; guest Linux $kver ($kpkg $kpkgver), busybox-static $bbver, -m $MEM -smp $SMP, ${MACHINE[*]}"
    local rel fmt kind note req reply rc dt
    for fmt in elf kdump-zlib; do
        case $fmt in
            elf) rel=$ARCH/idle.elf kind=elf note="paging off: every RAM page" ;;
            *)   rel=$ARCH/idle-kdump-zlib.flat kind=kdump-flattened note="QEMU 7.2 writes kdump-* flattened; same stopped moment as idle.elf" ;;
        esac
        req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/$rel\",\"format\":\"$fmt\"}}"
        t0=$(now)
        reply=$(qmp --timeout "$DUMP_TIMEOUT" "$req"); rc=$?
        dt=$(secs "$t0" "$(now)")
        printf '%s\n  -> rc %s %s (%s s)\n' "$req" "$rc" "$reply" "$dt" >> "$OUT/logs/$ARCH.qmp.log"
        if [ $rc != 0 ] || [ ! -s "$OUT/$rel" ]; then
            arch_fail "dump-$fmt" "$dt" "rc $rc: $reply"
            return 1
        fi
        chmod a+r "$OUT/$rel"    # QEMU creates it 0400
        timing "$ARCH-dump-$fmt" "$dt"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rel" "i386-$ARCH" "$producer" \
            "QMP stop; dump-guest-memory paging=false format=$fmt" "$kind" \
            "$(stat -c %s "$OUT/$rel")" "$dt" "$note; boot to DFS-READY $boot_s s" >> "$d/MANIFEST.part"
        log "$ARCH: ok $rel ($(stat -c %s "$OUT/$rel") bytes, $dt s)"
    done
    qmp cont >> "$OUT/logs/$ARCH.qmp.log"
    stop_guest
    date -u +%FT%TZ > "$d/COMPLETE"
    log "$ARCH: complete"
}

for ARCH in $todo; do
    arch_facts "$ARCH"
    T0=$(now)
    make_arch
    timing "$ARCH-total" "$(secs "$T0" "$(now)")"
done

# MANIFEST.tsv: every complete architecture (atomic, so concurrent runs with
# different ARCHES are safe)
{
    printf "$MHEAD"
    for f in "$OUT"/*/COMPLETE; do
        [ -f "$f" ] && tail -n +2 "$(dirname "$f")/MANIFEST.part"
    done
} > "$OUT/MANIFEST.tsv.tmp" && mv "$OUT/MANIFEST.tsv.tmp" "$OUT/MANIFEST.tsv"
missing=
for ARCH in $ARCHES; do [ -f "$OUT/$ARCH/COMPLETE" ] || missing="$missing $ARCH"; done
log "wrote $OUT ($(($(wc -l < "$OUT/MANIFEST.tsv") - 1)) dumps in MANIFEST.tsv)"
if [ -n "$missing" ]; then
    log "incomplete:$missing (see $OUT/logs/failures.tsv and logs/ARCH.failure.txt)"
    exit 1
fi
echo "$OUT"

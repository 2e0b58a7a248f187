#!/bin/bash
# make-real-dumps.sh - build a corpus of Linux crash dumps written by real
# producers (QEMU dump-guest-memory, makedumpfile, a kexec/kdump capture
# kernel) for dumpfs's tests.
#
# Run as root on Debian 12 x86_64:   bash images/make-real-dumps.sh
# Output goes to $OUT (default: images/real/, gitignored).  Sub-directories
# this script owns (build logs qemu mdf panic kdump sample) are wiped first.
#
# Environment:
#   OUT=DIR            output directory (default images/real)
#   INSTALL=1          apt-get install the needed packages (0 = skip)
#   KDUMP=1            run the kexec -p capture-kernel guest (0 = skip)
#   STEPS="..."        which parts to run, default "idle novmci panic kdump mdf verify";
#                      "sample" makes the small committed sample's raw material
#                      (used by make-sample.sh)
#   KVER=6.1.0-N-amd64 kernel release to boot (default: the one linux-image-amd64 depends on)
#   MEM=256M SMP=2     idle/novmci/panic guest size (kdump guest: 512M, needed by crashkernel=192M)
#   BOOT_TIMEOUT=300   max seconds to wait for a guest's ready marker
#   QEMU_TIMEOUT=1200  hard cap (timeout(1)) on every qemu process
#   MDF_TIMEOUT=300    hard cap on every makedumpfile run
#
# Results: $OUT/MANIFEST.tsv (one row per produced file), $OUT/logs/ (every
# command's output, serial consoles, QMP traffic, timings.tsv, failures.tsv,
# versions.txt), $OUT/verify.tsv (page cross-check with python3-libkdumpfile).
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
OUT=${OUT:-$HERE/real}
INSTALL=${INSTALL:-1}
KDUMP=${KDUMP:-1}
STEPS=${STEPS:-"idle novmci panic kdump mdf verify"}
MEM=${MEM:-256M}
SMP=${SMP:-2}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1200}
MDF_TIMEOUT=${MDF_TIMEOUT:-300}
PY=/usr/bin/python3      # Debian's python (python3-libkdumpfile is installed for it)
[ "$KDUMP" = 1 ] || STEPS=${STEPS//kdump/}

want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$OUT"
for d in build logs qemu mdf panic kdump sample; do rm -rf "${OUT:?}/$d"; done
rm -f "$OUT/MANIFEST.tsv" "$OUT/verify.tsv"
mkdir -p "$OUT"/{build,logs}

now() { echo "${EPOCHREALTIME/./}"; }                    # microseconds
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
T_START=$(now)
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
printf 'path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n' > "$OUT/MANIFEST.tsv"
printf 'path\tproducer\tcommand\tseconds\treason\n' > "$OUT/logs/failures.tsv"

manifest() {  # path group producer command format compression level seconds note
    local sz; sz=$(stat -c %s "$OUT/$1")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$sz" "$8" "$9" >> "$OUT/MANIFEST.tsv"
    log "ok   $1 ($sz bytes, $8 s)"
}
failure() {  # path producer command seconds reason
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$OUT/logs/failures.tsv"
    log "FAIL $1: $5"
}

# ---------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------
T0=$(now)
PKGS="qemu-system-x86 linux-image-amd64 busybox-static cpio makedumpfile kexec-tools
      python3-libkdumpfile socat file xz-utils zstd gzip gcc libc6-dev"
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

if [ -z "${KVER:-}" ]; then   # default: the kernel linux-image-amd64 points at
    KPKG=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ,]*' | head -1)
    KVER=${KPKG#linux-image-}
fi
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || KVER=$(find /boot -name 'vmlinuz-*' | sed 's,.*/vmlinuz-,,' | sort -V | tail -1)
KERNEL=/boot/vmlinuz-$KVER
[ -f "$KERNEL" ] || die "no kernel image in /boot"
QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
MDF_VER=$(makedumpfile -v 2>&1 | head -1 | grep -o '[0-9][0-9.]*' | head -1)
{
    echo "kernel=$KERNEL"
    echo "kernel_release=$KVER"
    echo "kernel_package=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)"
    echo "qemu=$QEMU_VER"
    echo "makedumpfile=$MDF_VER ($(makedumpfile -v 2>&1 | sed -n '2,4p' | tr '\t\n' ': ' | sed 's/ *$//'))"
    echo "makedumpfile_package=$(dpkg-query -W -f='${Version}' makedumpfile)"
    echo "kexec_tools_package=$(dpkg-query -W -f='${Version}' kexec-tools)"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "python3_libkdumpfile_package=$(dpkg-query -W -f='${Version}' python3-libkdumpfile)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"
log "kernel $KVER, QEMU $QEMU_VER, makedumpfile $MDF_VER, steps: $STEPS"

# ---------------------------------------------------------------------------
# initramfs images
# ---------------------------------------------------------------------------
T0=$(now)
# add_module NAME ROOT: module plus its dependencies (depth first), uncompressed,
# appended in load order to ROOT/lib/modules/order
add_module() {
    local m=$1 root=$2 f dep
    grep -qx "$m" "$root/lib/modules/order" 2>/dev/null && return 0
    for dep in $(modinfo -k "$KVER" -F depends "$m" 2>/dev/null | tr ',' ' '); do
        add_module "$dep" "$root"
    done
    f=$(modinfo -k "$KVER" -n "$m" 2>/dev/null) || { log "WARNING: module $m not found (built in?)"; return 0; }
    case $f in
        *.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
        *) log "WARNING: cannot use module file $f"; return 0 ;;
    esac
    echo "$m" >> "$root/lib/modules/order"
}
# add_binary PATH ROOT: an executable and the shared libraries it needs
add_binary() {
    local lib
    install -D -m 755 "$1" "$2$1"
    for lib in $(ldd "$1" | grep -o '/[^ )]*'); do
        [ -e "$2$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$2$lib"
    done
}
mkroot() {  # mkroot DIR INIT
    mkdir -p "$1"/{bin,dev,proc,sys,tmp,lib/modules}
    cp /bin/busybox "$1/bin/busybox"
    ln -sf busybox "$1/bin/sh"
    install -m 755 "$2" "$1/init"
    mknod -m 600 "$1/dev/console" c 5 1
    mknod -m 666 "$1/dev/null" c 1 3
}
cpio_gz() {  # cpio_gz DIR OUT: reproducible newc archive
    (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
        | gzip -9n > "$2"
}
GUESTROOT=$OUT/build/guest-root
mkroot "$GUESTROOT" "$TOOLS/guest-init.sh"
# the probe process /init starts (static: the guest has no libc)
gcc -static -O1 -g -pthread -o "$GUESTROOT/bin/dfsprobe" "$TOOLS/dfsprobe.c"
fw=$(modinfo -k "$KVER" -n qemu_fw_cfg 2>/dev/null)
case $fw in
    *.ko) cp "$fw" "$GUESTROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *.ko.xz) xz -dc "$fw" > "$GUESTROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *) log "WARNING: no qemu_fw_cfg module: VMCOREINFO will not reach QEMU" ;;
esac
cpio_gz "$GUESTROOT" "$OUT/build/guest.cpio.gz"
if want kdump; then
    CAPROOT=$OUT/build/capture-root
    mkroot "$CAPROOT" "$TOOLS/capture-init.sh"
    : > "$CAPROOT/lib/modules/order"
    add_module virtio_pci "$CAPROOT"
    add_module virtio_blk "$CAPROOT"
    add_binary /usr/bin/makedumpfile "$CAPROOT"
    cpio_gz "$CAPROOT" "$OUT/build/capture.cpio.gz"
    KROOT=$OUT/build/kdump-root
    cp -a "$GUESTROOT" "$KROOT"
    add_binary /sbin/kexec "$KROOT"
    install -D -m 644 "$KERNEL" "$KROOT/boot/vmlinuz"
    install -D -m 644 "$OUT/build/capture.cpio.gz" "$KROOT/boot/capture.cpio.gz"
    cpio_gz "$KROOT" "$OUT/build/kdump.cpio.gz"
    log "capture modules: $(tr '\n' ' ' < "$CAPROOT/lib/modules/order")"
fi
timing initramfs "$(secs "$T0" "$(now)")"

# ---------------------------------------------------------------------------
# guests
# ---------------------------------------------------------------------------
GPID= ; GSOCK= ; GLOG=
qmp() { "$PY" "$TOOLS/qmp.py" "$GSOCK" "$@" 2>> "$OUT/logs/qmp-events.log"; }

# start_guest NAME MEM SMP INITRD APPEND [extra qemu args...]
start_guest() {
    local name=$1 mem=$2 smp=$3 initrd=$4 append=$5; shift 5
    GSOCK=$OUT/build/$name.qmp
    GLOG=$OUT/logs/$name.serial.log
    rm -f "$GSOCK"
    local cmd=(qemu-system-x86_64 -accel tcg -machine q35 -cpu qemu64 -m "$mem" -smp "$smp"
               -display none -serial "file:$GLOG" -monitor none -no-reboot
               -kernel "$KERNEL" -initrd "$initrd" -append "$append"
               -qmp "unix:$GSOCK,server=on,wait=off" "$@")
    echo "${cmd[*]}" > "$OUT/logs/$name.qemu-cmdline"
    : > "$GLOG"
    timeout -k 10 "$QEMU_TIMEOUT" "${cmd[@]}" < /dev/null > "$OUT/logs/$name.qemu.log" 2>&1 &
    GPID=$!
    log "guest $name started (pid $GPID): ${cmd[*]}"
}
# wait_serial PATTERN SECONDS [FAIL-ERE]: 0 when the serial console shows PATTERN
wait_serial() {
    local t0; t0=$(now)
    while :; do
        grep -aqF -- "$1" "$GLOG" && return 0
        if [ -n "${3:-}" ] && grep -aqE -- "$3" "$GLOG"; then log "console shows failure: $(grep -aE -m1 -- "$3" "$GLOG")"; return 1; fi
        kill -0 "$GPID" 2>/dev/null || { log "qemu exited before '$1'"; return 1; }
        [ $(( ($(now) - t0) / 1000000 )) -ge "$2" ] && { log "timeout waiting for '$1'"; return 1; }
        sleep 0.5
    done
}
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

# qdump RELPATH GROUP FORMAT PAGING NOTE: QMP dump-guest-memory of the (stopped) guest
qdump() {
    local rel=$1 group=$2 fmt=$3 paging=$4 note=$5 t0 rc reply kind comp=none
    mkdir -p "$(dirname "$OUT/$rel")"
    local req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":$paging,\"protocol\":\"file:$OUT/$rel\",\"format\":\"$fmt\"}}"
    local human="QMP dump-guest-memory paging=$paging format=$fmt"
    t0=$(now)
    reply=$(qmp --timeout 900 "$req"); rc=$?
    local dt; dt=$(secs "$t0" "$(now)")
    printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
    case $fmt in
        elf) kind=elf ;;
        kdump-raw-*) kind=kdump; comp=${fmt#kdump-raw-} ;;
        kdump-*) kind=kdump-flattened; comp=${fmt#kdump-} ;;   # QEMU 7.2 writes these flattened
        *) kind=$fmt ;;
    esac
    if [ $rc = 0 ] && [ -s "$OUT/$rel" ]; then
        manifest "$rel" "$group" "QEMU $QEMU_VER" "$human" "$kind" "$comp" "all" "$dt" "$note"
    else
        rm -f "$OUT/$rel"
        failure "$rel" "QEMU $QEMU_VER" "$human" "$dt" "rc $rc: $reply"
    fi
}

# produce OUTPUTS GROUP FORMAT COMPRESSION LEVEL NOTE SHELL-COMMAND
# runs a makedumpfile command line (in $OUT, under timeout); OUTPUTS is a
# comma-separated list of the files it must create
produce() {
    local outs=$1 group=$2 fmt=$3 comp=$4 level=$5 note=$6 cmd=$7
    local first=${outs%%,*} t0 rc f n=0 total
    local logf; logf=$OUT/logs/mdf-$(basename "$first").log
    for f in ${outs//,/ }; do mkdir -p "$(dirname "$OUT/$f")"; rm -f "$OUT/$f"; done
    t0=$(now)
    (cd "$OUT" && timeout -k 5 "$MDF_TIMEOUT" bash -o pipefail -c "$cmd") > "$logf" 2>&1; rc=$?
    local dt; dt=$(secs "$t0" "$(now)")
    echo "\$ $cmd   -> rc $rc, $dt s" >> "$logf"
    if [ $rc = 0 ] && grep -q "option is disabled" "$logf"; then
        # -p/-z on a build without snappy/zstd: exit 0 but an uncompressed dump
        for f in ${outs//,/ }; do rm -f "$OUT/$f"; done
        failure "$first" "makedumpfile $MDF_VER" "$cmd" "$dt" \
            "exit 0 but '$(grep -m1 'option is disabled' "$logf" | tr -d '\r')'; it wrote an UNCOMPRESSED dump, discarded"
        return 1
    fi
    total=$(echo "${outs//,/ }" | wc -w)
    for f in ${outs//,/ }; do [ -s "$OUT/$f" ] || rc=${rc/#0/missing}; done
    if [ "$rc" != 0 ]; then
        for f in ${outs//,/ }; do rm -f "$OUT/$f"; done
        failure "$first" "makedumpfile $MDF_VER" "$cmd" "$dt" \
            "rc $rc: $(tr '\r' '\n' < "$logf" | grep -v -e '^$' -e '^Copying' -e '^Excluding' -e '^Checking' | head -4 | tr '\n\t' '  ')"
        return 1
    fi
    for f in ${outs//,/ }; do
        n=$((n + 1))
        local nn=$note
        [ "$total" -gt 1 ] && nn="part $n of $total${note:+; $note}"
        manifest "$f" "$group" "makedumpfile $MDF_VER" "$cmd" "$fmt" "$comp" "$level" "$dt" "$nn"
    done
}

# phdr_first QEMU-ELF GROUP -> prints the relpath of a makedumpfile-readable copy
phdr_first() {
    local src=$1 group=$2 dst=${1%.elf}.phdrfirst.elf t0
    t0=$(now)
    if timeout 300 "$PY" "$TOOLS/phdr-first.py" "$OUT/$src" "$OUT/$dst" >> "$OUT/logs/phdr-first.log" 2>&1; then
        manifest "$dst" "$group" "images/tools/phdr-first.py" "phdr-first.py $src $dst" elf none all \
            "$(secs "$t0" "$(now)")" "copy of $src with the program headers moved to offset 64 (makedumpfile input)"
        echo "$dst"
    else
        failure "$dst" phdr-first.py "phdr-first.py $src $dst" 0 "see logs/phdr-first.log"
        return 1
    fi
}

APPEND="console=ttyS0 loglevel=6 panic=0"

# --- idle guest: one paused snapshot, several QEMU formats ("idle" group) ---
if want idle; then
    T0=$(now)
    start_guest idle "$MEM" "$SMP" "$OUT/build/guest.cpio.gz" "$APPEND" -device vmcoreinfo
    wait_serial DFS-READY "$BOOT_TIMEOUT" || die "idle guest did not come up (logs/idle.serial.log)"
    timing idle-boot "$(secs "$T0" "$(now)")"
    sleep 2
    qmp query-dump-guest-memory-capability > "$OUT/logs/qemu-dump-formats.json"
    log "QEMU dump formats: $(cat "$OUT/logs/qemu-dump-formats.json")"
    qmp stop >> "$OUT/logs/qmp.log"     # every dump below is of the same memory
    T0=$(now)
    qdump qemu/idle.elf             idle elf        false "paging off: one PT_LOAD per RAM block"
    qdump qemu/idle-paging.elf      idle elf        true  "paging on: PT_LOADs by guest virtual address (p_paddr = physical)"
    qdump qemu/idle-kdump-zlib.flat idle kdump-zlib false "QEMU 7.2 writes kdump-* in makedumpfile's flattened format"
    for f in kdump-lzo kdump-snappy kdump-raw-zlib; do
        if grep -q "\"$f\"" "$OUT/logs/qemu-dump-formats.json"; then
            qdump "qemu/idle-$f.flat" idle "$f" false ""
        else
            failure "qemu/idle-$f" "QEMU $QEMU_VER" "dump-guest-memory format=$f" 0 "format not offered by this QEMU build"
        fi
    done
    timing idle-qemu-dumps "$(secs "$T0" "$(now)")"
    stop_guest
    if [ -s "$OUT/qemu/idle-paging.elf" ]; then
        timeout 60 "$PY" - "$OUT/qemu/idle-paging.elf" >> "$OUT/logs/run.log" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    eh = f.read(64)
    phnum, shoff, shnum = struct.unpack_from("<H", eh, 56)[0], struct.unpack_from("<Q", eh, 40)[0], struct.unpack_from("<H", eh, 60)[0]
    real = phnum
    if phnum == 0xffff and shoff:
        f.seek(shoff); sh = f.read(64); real = struct.unpack_from("<I", sh, 44)[0]
    print("idle-paging.elf: e_phnum=%#x e_shnum=%d real phnum=%d%s" % (phnum, shnum, real, " (PN_XNUM)" if phnum == 0xffff else ""))
EOF
    fi
fi

# --- guest without -device vmcoreinfo: no VMCOREINFO note ("novmci") ---
if want novmci; then
    T0=$(now)
    start_guest novmci "$MEM" "$SMP" "$OUT/build/guest.cpio.gz" "$APPEND"
    wait_serial DFS-READY "$BOOT_TIMEOUT" || die "novmci guest did not come up"
    timing novmci-boot "$(secs "$T0" "$(now)")"
    sleep 2
    qmp stop >> "$OUT/logs/qmp.log"
    T0=$(now)
    qdump qemu/novmci.elf             novmci elf        false "guest without -device vmcoreinfo: no VMCOREINFO note"
    qdump qemu/novmci-kdump-zlib.flat novmci kdump-zlib false "no VMCOREINFO in the guest; flattened"
    timing novmci-qemu-dumps "$(secs "$T0" "$(now)")"
    stop_guest
fi

# --- panicked guest (sysrq-c), dumped by QEMU ("panic") ---
if want panic; then
    T0=$(now)
    start_guest panic "$MEM" "$SMP" "$OUT/build/guest.cpio.gz" "$APPEND dfs.panic=1" -device vmcoreinfo
    if wait_serial "end Kernel panic" "$BOOT_TIMEOUT"; then
        timing panic-boot-to-panic "$(secs "$T0" "$(now)")"
        sleep 2
        qmp stop >> "$OUT/logs/qmp.log"
        T0=$(now)
        qdump panic/panic.elf             panic elf        false "guest panicked by sysrq-c (echo c > /proc/sysrq-trigger)"
        qdump panic/panic-kdump-zlib.flat panic kdump-zlib false "guest panicked by sysrq-c; flattened"
        timing panic-qemu-dumps "$(secs "$T0" "$(now)")"
    else
        failure panic/panic.elf "QEMU $QEMU_VER" "-" 0 "guest did not panic (logs/panic.serial.log)"
    fi
    stop_guest
fi

# --- real kdump: kexec -p capture kernel saves /proc/vmcore ("kdump") ---
if want kdump; then
    T0=$(now)
    truncate -s 0 "$OUT/build/disk-flat.img" "$OUT/build/disk-elf.img"
    truncate -s 256M "$OUT/build/disk-flat.img"
    truncate -s 640M "$OUT/build/disk-elf.img"
    # crashkernel=192M needs -m 512M (with 256M: "No suitable area found")
    start_guest kdump 512M "$SMP" "$OUT/build/kdump.cpio.gz" "$APPEND crashkernel=192M dfs.kdump=1" \
        -device vmcoreinfo \
        -drive "file=$OUT/build/disk-flat.img,format=raw,if=virtio" \
        -drive "file=$OUT/build/disk-elf.img,format=raw,if=virtio"
    KOK=0
    if wait_serial DFS-CAPTURE-DONE $((BOOT_TIMEOUT * 3)) 'DFS-KDUMP-FAILED|DFS-READY|Kernel panic - not syncing: (VFS|No working init|Out of memory)'; then
        KOK=1
        timing kdump-boot-crash-capture "$(secs "$T0" "$(now)")"
    fi
    sleep 1
    stop_guest
    if [ $KOK = 1 ]; then
        mkdir -p "$OUT/kdump"
        KPROD="Linux $KVER kdump capture kernel (kexec-tools $(dpkg-query -W -f='${Version}' kexec-tools), crashkernel=192M, guest -m 512M)"
        t0=$(now)
        if timeout 300 "$PY" "$TOOLS/disk-extract.py" flat "$OUT/build/disk-flat.img" "$OUT/kdump/capture-zlib-d31.flat" >> "$OUT/logs/kdump-extract.log" 2>&1; then
            manifest kdump/capture-zlib-d31.flat kdump "makedumpfile $MDF_VER in the $KPROD" \
                "makedumpfile -F -c -d 31 /proc/vmcore > /dev/vda" kdump-flattened zlib 31 "$(secs "$t0" "$(now)")" "cut from the raw disk at the end record"
        else
            failure kdump/capture-zlib-d31.flat capture "makedumpfile -F -c -d 31 /proc/vmcore" 0 "logs/kdump-extract.log"
        fi
        t0=$(now)
        if timeout 300 "$PY" "$TOOLS/disk-extract.py" elf "$OUT/build/disk-elf.img" "$OUT/kdump/proc-vmcore.elf" >> "$OUT/logs/kdump-extract.log" 2>&1; then
            manifest kdump/proc-vmcore.elf kdump "/proc/vmcore of the $KPROD" \
                "dd if=/proc/vmcore of=/dev/vdb bs=1M" elf none all "$(secs "$t0" "$(now)")" "kernel's own ELF vmcore (kexec-tools headers); cut at the end of the last segment"
        else
            failure kdump/proc-vmcore.elf capture "dd if=/proc/vmcore" 0 "logs/kdump-extract.log"
        fi
        rm -f "$OUT/build/disk-flat.img" "$OUT/build/disk-elf.img"
    else
        failure kdump/ capture "kexec -p + sysrq-c" "$(secs "$T0" "$(now)")" "capture kernel did not finish (logs/kdump.serial.log)"
    fi
fi

# --- makedumpfile variants of the idle snapshot and friends ---
if want mdf; then
    T0=$(now)
    if [ -s "$OUT/qemu/idle.elf" ]; then
        # QEMU 7.2's ELF as written: makedumpfile fails (recorded as a failure)
        produce mdf/unmodified-qemu-elf.kdump idle kdump zlib 31 "" \
            "makedumpfile -c -d 31 qemu/idle.elf mdf/unmodified-qemu-elf.kdump"
        E=$(phdr_first qemu/idle.elf idle) || E=
    else
        E=
    fi
    if [ -n "$E" ]; then
        produce mdf/idle-zlib-d31.kdump  idle kdump zlib 31 "" "makedumpfile -c -d 31 $E mdf/idle-zlib-d31.kdump"
        produce mdf/idle-lzo-d31.kdump   idle kdump lzo  31 "" "makedumpfile -l -d 31 $E mdf/idle-lzo-d31.kdump"
        produce mdf/idle-none-d31.kdump  idle kdump none 31 "" "makedumpfile -d 31 $E mdf/idle-none-d31.kdump"
        produce mdf/idle-none-d0.kdump   idle kdump none 0  "" "makedumpfile -d 0 $E mdf/idle-none-d0.kdump"
        produce mdf/idle-zlib-d0.kdump   idle kdump zlib 0  "" "makedumpfile -c -d 0 $E mdf/idle-zlib-d0.kdump"
        produce mdf/idle-lzo-d1.kdump    idle kdump lzo  1  "zero pages excluded only" "makedumpfile -l -d 1 $E mdf/idle-lzo-d1.kdump"
        produce mdf/idle-snappy-d31.kdump idle kdump snappy 31 "" "makedumpfile -p -d 31 $E mdf/idle-snappy-d31.kdump"
        produce mdf/idle-zstd-d31.kdump  idle kdump zstd 31 "" "makedumpfile -z -d 31 $E mdf/idle-zstd-d31.kdump"
        produce mdf/idle-d31.elf         idle elf   none 31 "" "makedumpfile -E -d 31 $E mdf/idle-d31.elf"
        produce mdf/idle-d0.elf          idle elf   none 0  "" "makedumpfile -E -d 0 $E mdf/idle-d0.elf"
        produce mdf/idle-zlib-d31.flat   idle kdump-flattened zlib 31 "" "makedumpfile -F -c -d 31 $E > mdf/idle-zlib-d31.flat"
        produce mdf/idle-none-d0.flat    idle kdump-flattened none 0  "" "makedumpfile -F -d 0 $E > mdf/idle-none-d0.flat"
        produce mdf/idle-d31.elf.flat    idle elf-flattened   none 31 "" "makedumpfile -F -E -d 31 $E > mdf/idle-d31.elf.flat"
        # default --splitblock-size (1 GB) exceeds this guest: 1 MB blocks spread pages over all parts
        produce mdf/idle-split3-zlib-d31.kdump.1,mdf/idle-split3-zlib-d31.kdump.2,mdf/idle-split3-zlib-d31.kdump.3 \
            idle kdump-split zlib 31 "" \
            "makedumpfile --split --splitblock-size 1024 -c -d 31 $E mdf/idle-split3-zlib-d31.kdump.1 mdf/idle-split3-zlib-d31.kdump.2 mdf/idle-split3-zlib-d31.kdump.3"
        produce mdf/idle-split2-lzo-d0.kdump.1,mdf/idle-split2-lzo-d0.kdump.2 \
            idle kdump-split lzo 0 "" \
            "makedumpfile --split --splitblock-size 1024 -l -d 0 $E mdf/idle-split2-lzo-d0.kdump.1 mdf/idle-split2-lzo-d0.kdump.2"
        # reference copies
        [ -s "$OUT/mdf/idle-split3-zlib-d31.kdump.1" ] && \
            produce mdf/idle-split3-zlib-d31.reassembled.kdump idle kdump zlib 31 "--reassemble of the 3-part split set" \
            "makedumpfile --reassemble mdf/idle-split3-zlib-d31.kdump.1 mdf/idle-split3-zlib-d31.kdump.2 mdf/idle-split3-zlib-d31.kdump.3 mdf/idle-split3-zlib-d31.reassembled.kdump"
        [ -s "$OUT/mdf/idle-zlib-d31.flat" ] && produce mdf/idle-zlib-d31.flat.R.kdump idle kdump zlib 31 "makedumpfile -R copy of mdf/idle-zlib-d31.flat" \
            "makedumpfile -R mdf/idle-zlib-d31.flat.R.kdump < mdf/idle-zlib-d31.flat"
        [ -s "$OUT/mdf/idle-none-d0.flat" ] && produce mdf/idle-none-d0.flat.R.kdump idle kdump none 0 "makedumpfile -R copy of mdf/idle-none-d0.flat" \
            "makedumpfile -R mdf/idle-none-d0.flat.R.kdump < mdf/idle-none-d0.flat"
        [ -s "$OUT/mdf/idle-d31.elf.flat" ] && produce mdf/idle-d31.elf.flat.R.elf idle elf none 31 "makedumpfile -R copy of mdf/idle-d31.elf.flat" \
            "makedumpfile -R mdf/idle-d31.elf.flat.R.elf < mdf/idle-d31.elf.flat"
        (cd "$OUT" && timeout 120 makedumpfile --dump-dmesg "$E" logs/idle.dmesg.txt) > "$OUT/logs/mdf-dmesg-idle.log" 2>&1 \
            || log "WARNING: makedumpfile --dump-dmesg failed on $E"
    fi
    [ -s "$OUT/qemu/idle-kdump-zlib.flat" ] && produce qemu/idle-kdump-zlib.flat.R.kdump idle kdump zlib all \
        "makedumpfile -R copy of QEMU's qemu/idle-kdump-zlib.flat" "makedumpfile -R qemu/idle-kdump-zlib.flat.R.kdump < qemu/idle-kdump-zlib.flat"
    [ -s "$OUT/qemu/novmci-kdump-zlib.flat" ] && produce qemu/novmci-kdump-zlib.flat.R.kdump novmci kdump zlib all \
        "makedumpfile -R copy of qemu/novmci-kdump-zlib.flat" "makedumpfile -R qemu/novmci-kdump-zlib.flat.R.kdump < qemu/novmci-kdump-zlib.flat"
    if [ -s "$OUT/qemu/novmci.elf" ]; then
        N=$(phdr_first qemu/novmci.elf novmci) && \
            produce mdf/novmci-zlib-d31.kdump novmci kdump zlib 31 "expected to fail: no VMCOREINFO, no -x vmlinux" \
                "makedumpfile -c -d 31 $N mdf/novmci-zlib-d31.kdump"
    fi
    if [ -s "$OUT/panic/panic.elf" ]; then
        P=$(phdr_first panic/panic.elf panic) && {
            produce panic/panic-zlib-d31.kdump panic kdump zlib 31 "" "makedumpfile -c -d 31 $P panic/panic-zlib-d31.kdump"
            (cd "$OUT" && timeout 120 makedumpfile --dump-dmesg "$P" logs/panic.dmesg.txt) > "$OUT/logs/mdf-dmesg-panic.log" 2>&1 \
                || log "WARNING: makedumpfile --dump-dmesg failed on $P"
        }
    fi
    [ -s "$OUT/panic/panic-kdump-zlib.flat" ] && produce panic/panic-kdump-zlib.flat.R.kdump panic kdump zlib all \
        "makedumpfile -R copy of panic/panic-kdump-zlib.flat" "makedumpfile -R panic/panic-kdump-zlib.flat.R.kdump < panic/panic-kdump-zlib.flat"
    [ -s "$OUT/kdump/capture-zlib-d31.flat" ] && produce kdump/capture-zlib-d31.flat.R.kdump kdump kdump zlib 31 \
        "makedumpfile -R copy of kdump/capture-zlib-d31.flat" "makedumpfile -R kdump/capture-zlib-d31.flat.R.kdump < kdump/capture-zlib-d31.flat"
    if [ -s "$OUT/kdump/proc-vmcore.elf" ]; then
        produce kdump/proc-vmcore-lzo-d31.kdump kdump kdump lzo 31 "makedumpfile reads the kernel's /proc/vmcore ELF as is" \
            "makedumpfile -l -d 31 kdump/proc-vmcore.elf kdump/proc-vmcore-lzo-d31.kdump"
        (cd "$OUT" && timeout 120 makedumpfile --dump-dmesg kdump/proc-vmcore.elf logs/kdump.dmesg.txt) > "$OUT/logs/mdf-dmesg-kdump.log" 2>&1 \
            || log "WARNING: makedumpfile --dump-dmesg failed on kdump/proc-vmcore.elf"
    fi
    timing makedumpfile-all "$(secs "$T0" "$(now)")"
fi

# --- raw material of the committed sample (see make-sample.sh) ---
if want sample; then
    T0=$(now)
    # small, repeatable-ish guest: fixed size, no KASLR, no random data, 2 vCPUs
    start_guest sample "${SAMPLE_MEM:-128M}" 2 "$OUT/build/guest.cpio.gz" "$APPEND nokaslr dfs.small=1" -device vmcoreinfo
    wait_serial DFS-READY "$BOOT_TIMEOUT" || die "sample guest did not come up"
    timing sample-boot "$(secs "$T0" "$(now)")"
    sleep 2
    qmp stop >> "$OUT/logs/qmp.log"
    qdump sample/sample.elf sample elf false "source of the committed sample"
    stop_guest
    S=$(phdr_first sample/sample.elf sample) || die "phdr-first failed on the sample"
    produce sample/sample.kdump sample kdump zlib 31 "the committed images/sample/sample.kdump" \
        "makedumpfile -c -d 31 $S sample/sample.kdump" || die "makedumpfile failed on the sample"
    timing sample-total "$(secs "$T0" "$(now)")"
fi

# --- cross-check pages between the files of each group (python3-libkdumpfile) ---
if want verify; then
    T0=$(now)
    timeout 1200 "$PY" "$TOOLS/verify-corpus.py" "$OUT" > "$OUT/logs/verify.log" 2>&1 \
        || log "WARNING: verify-corpus.py reported problems (logs/verify.log, verify.tsv)"
    timing verify "$(secs "$T0" "$(now)")"
fi

# QEMU creates its dumps 0400 and makedumpfile 0600: let non-root tests read the corpus
chmod -R a+rX "$OUT"
timing total "$(secs "$T_START" "$(now)")"
log "done: $(($(wc -l < "$OUT/MANIFEST.tsv") - 1)) files in MANIFEST.tsv, $(($(wc -l < "$OUT/logs/failures.tsv") - 1)) failures in logs/failures.tsv"

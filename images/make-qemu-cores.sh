#!/bin/bash
# make-qemu-cores.sh - core files of the qemu-system-x86_64 *process* (not of
# its guest), each with a QEMU dump-guest-memory reference of the same paused
# moment, for dumpfs's reader of QEMU process cores (tests/real/qemu_core.py).
#
# The guest is the x86_64 test guest of make-real-dumps.sh: Debian 12's
# linux-image-amd64 (/boot/vmlinuz-$KVER), busybox initramfs with
# tools/guest-init.sh as /init, the dfsprobe probe (tools/dfsprobe.c, static)
# and qemu_fw_cfg.ko (for -device vmcoreinfo), built here the same way.
# The kernel gets loglevel=7 so that the serial console log has the
# BIOS-e820 lines (the test takes the guest's usable RAM from them).
#
# For each guest: boot with QMP, wait for DFS-READY, QMP stop, then at that
# same paused moment
#   a. the reference: QMP dump-guest-memory paging=false, format elf (small
#      guest) or kdump-zlib (guests over 4 GiB: small on disk; QEMU 7.2 writes
#      it in makedumpfile's flattened format), plus "info ramblock" and
#      "info mtree -f" (QMP human-monitor-command) and /proc/PID/maps;
#   b. gcore (gdb) of the QEMU pid (small guest only);
#   c. the kernel's core of QEMU: the qemu runs with `ulimit -c unlimited` in
#      a directory of its own (the host's core_pattern must be "core", a file
#      in the process's cwd), coredump_filter left at its default (checked to
#      hold anonymous private and shared memory), then kill -ABRT.
# Guests (GUESTS picks them):
#   small     -machine pc  -m 256M  -smp 2: ref.elf, qemu.gcore, qemu.core
#   pc-4608   -machine pc  -m 4608M -smp 2: ref-kdump-zlib.flat, qemu.core
#   q35-4608  -machine q35 -m 4608M -smp 2: the same
#   q35-3072  -machine q35 -m 3072M -smp 2: the same (q35 splits below 4 GiB
#             at 2 GiB here; i440fx would not)
# And, for "not a QEMU process core": other/sleep.gcore (gcore of a
# `sleep 300`) and other/sleep.core (the kernel's core of one, kill -ABRT).
#
# Run as root on Debian 12 x86_64:
#   GUESTS="small other" bash images/make-qemu-cores.sh   # the CI step (about 20 s)
#   bash images/make-qemu-cores.sh                        # all guests (about 90 s)
# It installs (apt-get) qemu-system-x86, linux-image-amd64, busybox-static,
# cpio, gcc, libc6-dev, gdb, kmod, xz-utils; INSTALL=0 skips that.
#
# Output: a cache directory outside the clone, keyed by a hash of the recipe
# (this script, tools/guest-init.sh, tools/dfsprobe.c, tools/qmp.py, KVER,
# TB_SIZE); each guest is a subdirectory with its own COMPLETE, so runs with
# different GUESTS fill the same cache:
#   $OUT = /var/cache/dumpfs/qcore-<first 12 hex of sha256>
#   $OUT/GUEST/ref.elf or ref-kdump-zlib.flat   the reference (QEMU dump-guest-memory)
#   $OUT/GUEST/qemu.gcore    gcore of the QEMU process (small only)
#   $OUT/GUEST/qemu.core     the kernel's core of the QEMU process (sparse)
#   $OUT/GUEST/serial.log    the guest's console (BIOS-e820 lines, DFS-* lines)
#   $OUT/GUEST/ramblock.txt  "info ramblock" (host addresses of the RAM blocks)
#   $OUT/GUEST/mtree.txt     "info mtree -f" (the guest's physical layout)
#   $OUT/GUEST/qemu.maps     /proc/PID/maps of the QEMU process before the cores
#   $OUT/GUEST/facts.txt     key=value: machine, mem, smp, pid, sizes, e820
#   $OUT/GUEST/MANIFEST.tsv  the columns of make-real-dumps.sh, plus allocated bytes
#   $OUT/GUEST/COMPLETE      written last
#   $OUT/other/              sleep.gcore, sleep.core, MANIFEST.tsv, COMPLETE
#   $OUT/MANIFEST.tsv        every guest's rows (rewritten at the end of a run)
#   $OUT/logs/               run.log, timings.tsv, sizes.tsv, versions.txt,
#                            qmp.log, gdb-*.log, qemu-*.log
#   $OUT/build/              the initramfs and its tree
#
# Measured here (Debian 12, 2 CPUs, TCG, QEMU 7.2.22, gdb 13.1, host Linux 6.18,
# guest 6.1.0-57-amd64; bytes as ls -l / as du):
#   small: boot 12.5 s, whole guest 16.5 s; ref.elf 285,349,163; qemu.gcore
#     713,300,120 / 713,306,112 (gcore is NOT sparse: every byte written, the
#     untouched pages as zeros); qemu.core 461,942,784 / 227,913,728 (sparse).
#     With QEMU's default 1 GiB TCG buffer (TB_SIZE=): gcore 1,719,871,520 /
#     1,719,873,536, kernel core 1,473,744,896 / 227,266,560 - hence tb-size=64.
#   pc-4608: ref-kdump-zlib.flat 75,313,041; qemu.core 5,018,501,120 / 393,887,744
#   q35-4608: qemu.core 5,012,467,712 / 391,843,840; q35-3072: 3,423,129,600 / 362,315,776
#   other: sleep.gcore 589,760 / 589,824; sleep.core 450,560 / 151,552
#   e820 usable (guest console): small 0-0x9fbff, 0x100000-0xffdffff;
#   pc-4608 also 0x100000-0xbffdffff, 0x100000000-0x15fffffff (i440fx: 3 GiB
#   below 4 GiB); q35-4608 0x100000-0x7ffdefff, 0x100000000-0x19fffffff and
#   q35-3072 0x100000-0x7ffdefff, 0x100000000-0x13fffffff (q35: 2 GiB below).
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   GUESTS="small pc-4608 q35-4608 q35-3072"   which guests (and "other")
#   INSTALL=1          apt-get install the packages (0 = skip)
#   KVER=6.1.0-N-amd64 kernel release to boot (default: the one linux-image-amd64 depends on)
#   TB_SIZE=64         TCG translation buffer in MiB (-accel tcg,tb-size=); QEMU's
#                      default is 1 GiB, all of it written by gcore; empty = default
#   BOOT_TIMEOUT=600   max seconds to wait for DFS-READY
#   QEMU_TIMEOUT=1800  hard cap (timeout(1)) on every qemu process
#   GDB_TIMEOUT=900    hard cap on every gcore
#   NICE="chrt -i 0"   prefix of every CPU-heavy command
#   FORCE=1            redo the guests asked for even when COMPLETE
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/guest-init.sh" "$TOOLS/dfsprobe.c" "$TOOLS/qmp.py")
GUESTS=${GUESTS:-small pc-4608 q35-4608 q35-3072 other}
INSTALL=${INSTALL:-1}
TB_SIZE=${TB_SIZE-64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
GDB_TIMEOUT=${GDB_TIMEOUT:-900}
NICE=${NICE-chrt -i 0}
FORCE=${FORCE:-0}
PY=/usr/bin/python3
SMP=2

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
# --- packages (before KVER: linux-image-amd64 may be new) ---
PKGS="qemu-system-x86 linux-image-amd64 busybox-static cpio gcc libc6-dev gdb kmod xz-utils"
if [ "$INSTALL" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    ok=0
    for try in $(seq 1 30); do   # another apt/dpkg may hold the lock
        # shellcheck disable=SC2086
        if apt-get install -y --no-install-recommends $PKGS > /tmp/make-qemu-cores.apt.$$ 2>&1; then ok=1; break; fi
        echo "apt-get install failed (try $try; dpkg lock?), retrying in 10 s" >&2
        sleep 10
    done
    [ $ok = 1 ] || { cat /tmp/make-qemu-cores.apt.$$ >&2; echo "apt-get install failed" >&2; exit 1; }
fi
if [ -z "${KVER:-}" ]; then   # default: the kernel linux-image-amd64 points at
    KPKG=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ,]*' | head -1)
    KVER=${KPKG#linux-image-}
fi
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || KVER=$(find /boot -name 'vmlinuz-*-amd64' | sed 's,.*/vmlinuz-,,' | sort -V | tail -1)
[ -n "$KVER" ] || { echo "no /boot/vmlinuz-*-amd64: install linux-image-amd64 first" >&2; exit 1; }
KERNEL=/boot/vmlinuz-$KVER
KEY=$( (cat "${RECIPE_FILES[@]}"; echo "$KVER tb=$TB_SIZE") | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/qcore-$KEY}

todo=
for g in $GUESTS; do
    case $g in small|pc-4608|q35-4608|q35-3072|other) ;; *) echo "unknown guest $g" >&2; exit 1 ;; esac
    if [ "$FORCE" = 1 ] || [ ! -f "$OUT/$g/COMPLETE" ]; then todo="$todo $g"; fi
done
if [ -z "$todo" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT"/{logs,build}
[ -f /tmp/make-qemu-cores.apt.$$ ] && { cat /tmp/make-qemu-cores.apt.$$ >> "$OUT/logs/apt.log"; rm -f /tmp/make-qemu-cores.apt.$$; }
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
T_START=$(now)
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
[ -f "$OUT/logs/timings.tsv" ] || printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
[ -f "$OUT/logs/sizes.tsv" ] || printf 'path\tbytes\tallocated_bytes\n' > "$OUT/logs/sizes.tsv"
log "recipe key $KEY; OUT=$OUT; kernel $KVER; guests:$todo"

# --- the host's core settings ---
PATTERN=$(cat /proc/sys/kernel/core_pattern)
USES_PID=$(cat /proc/sys/kernel/core_uses_pid)
[ "$PATTERN" = core ] || die "core_pattern is '$PATTERN', not 'core' (a file in the cwd): set it with sysctl kernel.core_pattern=core"
FILTER=$(cat /proc/self/coredump_filter)
# bit 0: anonymous private, bit 1: anonymous shared (guest RAM is one or the other)
[ $(( 0x$FILTER & 3 )) = 3 ] || die "coredump_filter $FILTER leaves out anonymous memory"
CORENAME=core
QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
{
    echo "kernel=$KERNEL"
    echo "kernel_release=$KVER"
    echo "kernel_package=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)"
    echo "qemu=$QEMU_VER ($(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null)) accel=tcg${TB_SIZE:+,tb-size=$TB_SIZE} cpu=qemu64"
    echo "gdb=$(gdb --version | head -1)"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
    echo "core_pattern=$PATTERN core_uses_pid=$USES_PID coredump_filter=$FILTER"
} > "$OUT/logs/versions.txt"
log "QEMU $QEMU_VER; core_pattern=$PATTERN core_uses_pid=$USES_PID coredump_filter=0x$FILTER"

# sizes FILE: "BYTES ALLOCATED" (ls -l's size, du's allocated bytes)
sizes() { echo "$(stat -c %s "$1") $(( $(stat -c %b "$1") * $(stat -c %B "$1") ))"; }
# manifest GUEST RELPATH PRODUCER COMMAND FORMAT SECONDS NOTE
manifest() {
    local g=$1 rel=$2 b a; read -r b a <<< "$(sizes "$OUT/$g/$rel")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$g/$rel" "$g" "$3" "$4" "$5" \
        "$([ "$5" = kdump-flattened ] && echo zlib || echo none)" all "$b" "$6" "allocated $a bytes; $7" \
        >> "$OUT/$g/MANIFEST.tsv"
    printf '%s\t%s\t%s\n' "$g/$rel" "$b" "$a" >> "$OUT/logs/sizes.tsv"
    log "ok   $g/$rel ($b bytes, $a allocated (du), $6 s)"
}
MHEAD='path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n'

# --- initramfs: busybox, guest-init.sh as /init, dfsprobe, qemu_fw_cfg ---
INITRD=$OUT/build/guest.cpio.gz
if [ ! -s "$INITRD" ]; then
    T0=$(now)
    ROOT=$OUT/build/guest-root
    rm -rf "$ROOT"
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
        *) log "WARNING: no qemu_fw_cfg module: VMCOREINFO will not reach QEMU" ;;
    esac
    (cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
        | gzip -9n > "$INITRD.tmp" || die "cpio failed"
    mv "$INITRD.tmp" "$INITRD"
    timing initramfs "$(secs "$T0" "$(now)")"
fi

# --- one guest ---
GPID= ; GSOCK= ; QPID=
qmp() { "$PY" "$TOOLS/qmp.py" "$GSOCK" "$@" 2>> "$OUT/logs/qmp-events.log"; }
hmp() {  # hmp COMMAND-LINE: the text of a human monitor command
    "$PY" - "$GSOCK" "$1" "$TOOLS" <<'EOF'
import json, subprocess, sys
r = subprocess.run([sys.executable, sys.argv[3] + "/qmp.py", sys.argv[1],
                    json.dumps({"execute": "human-monitor-command", "arguments": {"command-line": sys.argv[2]}})],
                   capture_output=True, text=True, timeout=120)
if r.returncode:
    sys.exit("QMP: %s %s" % (r.stdout, r.stderr))
sys.stdout.write(json.loads(r.stdout.splitlines()[-1])["return"])
EOF
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

# run_guest NAME MACHINE MEM REFFORMAT GCORE(0/1)
run_guest() {
    local g=$1 machine=$2 mem=$3 reffmt=$4 want_gcore=$5 dir=$OUT/$1 t0 tg rc reply
    rm -rf "$dir"
    mkdir -p "$dir/run"
    printf "$MHEAD" > "$dir/MANIFEST.tsv"
    GSOCK=$dir/run/qmp.sock
    local slog=$dir/serial.log
    local cmd=(qemu-system-x86_64 -accel "tcg${TB_SIZE:+,tb-size=$TB_SIZE}" -machine "$machine,dump-guest-core=on"
               -cpu qemu64 -m "$mem" -smp "$SMP" -display none -serial "file:$slog" -monitor none -no-reboot
               -kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 loglevel=7 panic=0"
               -device vmcoreinfo -pidfile "$dir/run/qemu.pid" -qmp "unix:$GSOCK,server=on,wait=off")
    echo "cd $dir/run; ulimit -c unlimited; timeout -k 10 $QEMU_TIMEOUT $NICE ${cmd[*]}" > "$dir/qemu-cmdline"
    : > "$slog"
    tg=$(now)
    # shellcheck disable=SC2086
    (cd "$dir/run" && ulimit -c unlimited && exec timeout -k 10 "$QEMU_TIMEOUT" $NICE "${cmd[@]}") \
        < /dev/null > "$OUT/logs/qemu-$g.log" 2>&1 &
    GPID=$!
    log "guest $g started: ${cmd[*]}"
    while ! grep -aq '^DFS-READY' "$slog"; do
        grep -aqE 'Kernel panic|No working init' "$slog" && die "$g: $(grep -aE -m1 'Kernel panic|No working init' "$slog")"
        kill -0 "$GPID" 2>/dev/null || die "$g: qemu exited before DFS-READY (logs/qemu-$g.log)"
        [ $(( ($(now) - tg) / 1000000 )) -ge "$BOOT_TIMEOUT" ] && die "$g: no DFS-READY in $BOOT_TIMEOUT s"
        sleep 0.5
    done
    timing "$g-boot" "$(secs "$tg" "$(now)")"
    sleep 2
    QPID=$(cat "$dir/run/qemu.pid")
    [ "$(readlink "/proc/$QPID/exe")" = "$(readlink -f "$(command -v qemu-system-x86_64)")" ] \
        || die "$g: pid $QPID of the pidfile is not qemu-system-x86_64"
    grep -q 'Max core file size *unlimited' "/proc/$QPID/limits" || die "$g: qemu's RLIMIT_CORE is not unlimited"
    qmp stop >> "$OUT/logs/qmp.log" || die "$g: QMP stop failed"
    log "$g: stopped (QMP stop); qemu pid $QPID, coredump_filter $(cat "/proc/$QPID/coredump_filter")"
    hmp "info ramblock" > "$dir/ramblock.txt" || die "$g: info ramblock"
    hmp "info mtree -f" > "$dir/mtree.txt" || die "$g: info mtree"
    cp "/proc/$QPID/maps" "$dir/qemu.maps"
    # a. the reference
    local rel req
    case $reffmt in elf) rel=ref.elf ;; *) rel=ref-$reffmt.flat ;; esac
    req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$dir/$rel\",\"format\":\"$reffmt\"}}"
    t0=$(now)
    reply=$(qmp --timeout 1200 "$req"); rc=$?
    printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
    [ $rc = 0 ] && [ -s "$dir/$rel" ] || die "$g: dump-guest-memory $reffmt: rc $rc $reply"
    local kind=elf; [ "$reffmt" = elf ] || kind=kdump-flattened
    manifest "$g" "$rel" "QEMU $QEMU_VER dump-guest-memory; guest Linux $KVER, -machine $machine -m $mem -smp $SMP, tcg" \
        "QMP stop (2 s after DFS-READY); dump-guest-memory paging=false format=$reffmt" "$kind" "$(secs "$t0" "$(now)")" \
        "the reference: the guest's memory at the moment of the cores"
    # b. gcore
    if [ "$want_gcore" = 1 ]; then
        t0=$(now)
        timeout -k 10 "$GDB_TIMEOUT" $NICE gdb -nx -batch -p "$QPID" -ex "gcore $dir/qemu.gcore" -ex detach \
            > "$OUT/logs/gdb-$g.log" 2>&1 || die "$g: gcore failed (logs/gdb-$g.log)"
        [ -s "$dir/qemu.gcore" ] || die "$g: gcore wrote nothing"
        kill -0 "$QPID" 2>/dev/null || die "$g: qemu is gone after gcore"
        manifest "$g" qemu.gcore "$(gdb --version | head -1) gcore" "gdb -nx -batch -p QEMU_PID -ex 'gcore FILE' -ex detach" \
            elf-core "$(secs "$t0" "$(now)")" "gcore of the paused qemu-system-x86_64 process"
    fi
    # c. the kernel's core
    [ -e "$dir/run/$CORENAME" ] && die "$g: $dir/run/$CORENAME exists before the kill"
    t0=$(now)
    kill -ABRT "$QPID"
    { wait "$GPID"; } 2>/dev/null; rc=$?   # (no "Aborted" notice from bash)
    GPID=
    [ -f "$dir/run/$CORENAME" ] || die "$g: no core file after kill -ABRT (qemu exit $rc)"
    mv "$dir/run/$CORENAME" "$dir/qemu.core"
    manifest "$g" qemu.core "Linux $(uname -r) core dump (core_pattern=$PATTERN, coredump_filter=0x$FILTER)" \
        "ulimit -c unlimited; kill -ABRT QEMU_PID" elf-core "$(secs "$t0" "$(now)")" \
        "the kernel's core of the paused qemu-system-x86_64 process (timeout exit $rc)"
    rm -rf "$dir/run"
    {
        echo "guest=$g"
        echo "machine=$machine"
        echo "mem=$mem"
        echo "smp=$SMP"
        echo "kernel_release=$KVER"
        echo "qemu=$QEMU_VER"
        echo "qemu_pid=$QPID"
        echo "reference=$rel"
        echo "reference_format=$reffmt"
        [ "$want_gcore" = 1 ] && echo "gcore=qemu.gcore"
        echo "kernel_core=qemu.core"
        local f b a
        for f in "$rel" qemu.gcore qemu.core; do
            [ -f "$dir/$f" ] || continue
            read -r b a <<< "$(sizes "$dir/$f")"
            echo "size.$f=$b"
            echo "allocated.$f=$a"
        done
        grep -a 'BIOS-e820:' "$slog" | sed 's/^\[[^]]*\] *//; s/^/e820=/'
    } > "$dir/facts.txt"
    grep -aq 'fw_cfg etc/vmcoreinfo present' "$slog" || log "WARNING: $g: the guest says fw_cfg etc/vmcoreinfo absent"
    grep -aq 'BIOS-e820:.*usable' "$slog" || die "$g: no BIOS-e820 usable lines on the console"
    log "$g e820: $(grep -a 'BIOS-e820:' "$slog" | sed 's/.*\[mem //; s/\] /=/' | tr '\n' ' ')"
    date -u +%FT%TZ > "$dir/COMPLETE"
    timing "$g-total" "$(secs "$tg" "$(now)")"
}

# other: cores of a process that is not QEMU
run_other() {
    local dir=$OUT/other t0 pid rc
    rm -rf "$dir"
    mkdir -p "$dir/run"
    printf "$MHEAD" > "$dir/MANIFEST.tsv"
    (cd "$dir/run" && exec timeout -k 5 300 sleep 300) &
    pid=$!
    sleep 0.5
    # timeout's child is the sleep
    local spid; spid=$(cat "/proc/$pid/task/$pid/children" | awk '{print $1}')
    [ "$(readlink "/proc/$spid/exe")" = "$(readlink -f /bin/sleep)" ] || die "other: no sleep process under $pid"
    t0=$(now)
    timeout -k 10 120 gdb -nx -batch -p "$spid" -ex "gcore $dir/sleep.gcore" -ex detach > "$OUT/logs/gdb-other.log" 2>&1 \
        || die "other: gcore of sleep failed"
    manifest other sleep.gcore "$(gdb --version | head -1) gcore" "gdb -nx -batch -p SLEEP_PID -ex 'gcore FILE' -ex detach" \
        elf-core "$(secs "$t0" "$(now)")" "gcore of a sleep 300 (not QEMU)"
    kill "$pid"; { wait "$pid"; } 2>/dev/null
    (cd "$dir/run" && ulimit -c unlimited && exec sleep 300) &
    pid=$!
    sleep 0.5
    t0=$(now)
    kill -ABRT "$pid"; { wait "$pid"; } 2>/dev/null; rc=$?
    [ -f "$dir/run/$CORENAME" ] || die "other: no core of sleep (exit $rc)"
    mv "$dir/run/$CORENAME" "$dir/sleep.core"
    manifest other sleep.core "Linux $(uname -r) core dump" "ulimit -c unlimited; kill -ABRT SLEEP_PID" elf-core \
        "$(secs "$t0" "$(now)")" "the kernel's core of a sleep 300 (not QEMU)"
    rm -rf "$dir/run"
    date -u +%FT%TZ > "$dir/COMPLETE"
}

for g in $todo; do
    case $g in
        small)    run_guest small pc 256M elf 1 ;;
        pc-4608)  run_guest pc-4608 pc 4608M kdump-zlib 0 ;;
        q35-4608) run_guest q35-4608 q35 4608M kdump-zlib 0 ;;
        q35-3072) run_guest q35-3072 q35 3072M kdump-zlib 0 ;;
        other)    run_other ;;
    esac
done

printf "$MHEAD" > "$OUT/MANIFEST.tsv"
for m in "$OUT"/*/MANIFEST.tsv; do tail -n +2 "$m" >> "$OUT/MANIFEST.tsv"; done
chmod -R a+rX "$OUT"
timing "run($todo )" "$(secs "$T_START" "$(now)")"
log "wrote $OUT"
echo "$OUT"

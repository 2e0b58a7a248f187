#!/bin/bash
# make-qemu-cores-arm64.sh - core files of the qemu-system-aarch64 *process*
# (not of its guest), with a QEMU dump-guest-memory reference of the same
# paused moment, for extending dumpfs's reader of QEMU process cores
# (core/format/qemu.c, qemu_cpus.c) to arm64 guests.  The arm64 counterpart of
# make-qemu-cores.sh (x86_64).
#
# The guest is the arm64 guest of make-foreign-dumps.sh, reused from its cache
# (not rebuilt): Debian 12's linux-image-arm64 kernel and the busybox-static
# initramfs with tools/foreign-init.sh as /init, under
# /var/cache/dumpfs/foreign-<key>/build/arm64/ (the key is computed here the
# way make-foreign-dumps.sh computes it; run
# `ARCHES=arm64 bash images/make-foreign-dumps.sh` first when it is missing).
# It boots the same way: qemu-system-aarch64 -M virt -cpu cortex-a57
# -device vmcoreinfo, console=ttyAMA0, ready marker DFS-READY; here with
# -smp 2, loglevel=7 (the console then has "Booting Linux on physical CPU",
# the NUMA/zone lines and "node 0: [mem 0x40000000-...]": RAM starts at
# 0x40000000 on virt), a QMP socket, and a 64 MiB TCG buffer (tb-size=64;
# QEMU's default 1 GiB would all be written by gcore).
#
# Steps: boot, wait for DFS-READY, QMP stop, then at that same pause
#   a. the reference: QMP dump-guest-memory paging=false format=elf (ref.elf),
#      plus "info ramblock", "info mtree -f", "info registers -a" (HMP via QMP)
#      and /proc/PID/maps; the vCPUs' pc/sp are read from ref.elf's NT_PRSTATUS
#      notes (aarch64 elf_prstatus: pr_pid at 32, pr_reg at 112 = x0..x30, sp,
#      pc, pstate);
#   b. gdb on the live, paused QEMU (Debian's QEMU has no DWARF, only dynamic
#      symbols): ram_list's first RAMBlock (ram_list+56) and its idstr (+76),
#      host (+24), used_length (+48), every block of the list (next at +336);
#      `cpus` (QTAILQ head): the CPUStates; in the first 0x3000 bytes of each,
#      the 8-byte words that point into the same object (pointer - CPUState
#      below 0x40000) - one of them is env_ptr to the ARMCPU's CPUARMState -
#      and where the reference's pc and sp lie in the object (gdb-facts.txt);
#   c. gcore: gdb -nx -batch -p PID -ex 'gcore FILE' (qemu.gcore, timed);
#   d. the kernel's core of QEMU: QEMU runs with `ulimit -c unlimited` in the
#      directory run/ (the host's core_pattern must be "core": a file in the
#      cwd), coredump_filter left at its default (checked to hold anonymous
#      private and shared memory), then kill -ABRT (qemu.core, sparse);
#   e. a check: both cores hold every page of ref.elf's RAM at mach-virt.ram's
#      host address, and each vCPU's pc and sp (ref.elf's) at CPUState + env
#      + 0x140 / + 0x138 (env: the self-pointer that fits; logs/check.txt).
#
# Measured here (Debian 12, 2 CPUs, TCG, QEMU 7.2.22, gdb 13.1, host Linux
# 6.18, guest 6.1.0-50-arm64, -m 256M -smp 2; bytes as ls -l / as du):
#   whole run 22 s, boot to DFS-READY 10 s; ref.elf 268,441,171 (0.5 s);
#   qemu.gcore 886,391,328 / 886,398,976 (2-5 s; not sparse);
#   qemu.core 617,193,472 / 181,043,200 (1-1.5 s; sparse; +-1 MB run to run).
#   QEMU 7.2.22's layout found: ram_list.blocks at +56, RAMBlock host +24,
#   used_length +48, idstr +76, next +336; first block mach-virt.ram (256 MiB
#   at guest 0x40000000); CPUState.node at +0x248, env_ptr at CPUState+0x220
#   -> CPUARMState at ARMCPU+0x1ed0 (icount_decr_ptr +0x228 -> +0x1ec0);
#   pc at env+0x140, sp (xregs[31]) at env+0x138.  No e820_table symbol.
#
# Run as root on Debian 12 x86_64:   bash images/make-qemu-cores-arm64.sh
# Needs qemu-system-arm, gdb, python3, binutils (nm) installed (INSTALL=1 runs
# apt-get install for them).
#
# Output: a cache directory outside the clone, keyed by this script:
#   $OUT = /var/cache/dumpfs/qcore-arm64-<first 12 hex of sha256 of this script>
#   $OUT/ref.elf         QMP dump-guest-memory paging=false format=elf
#   $OUT/qemu.gcore      gcore of the paused qemu-system-aarch64 process
#   $OUT/qemu.core       the kernel's core of it (kill -ABRT; sparse)
#   $OUT/serial.log      the guest's console (ttyAMA0)
#   $OUT/ramblock.txt    "info ramblock"; mtree.txt "info mtree -f";
#   $OUT/registers.txt   "info registers -a"; qemu.maps /proc/PID/maps
#   $OUT/gdb-facts.txt   step b's output (gdb python on the live process)
#   $OUT/facts.txt       key=value: versions, sizes (ls -l and du bytes),
#                        times, nm -D, memory map lines, prstatus, gdb facts
#   $OUT/MANIFEST.tsv    the columns of make-qemu-cores.sh
#   $OUT/COMPLETE        written last (the cache: a complete $OUT is kept)
#   $OUT/logs/           run.log, timings.tsv, qmp.log, gdb-*.log, qemu.log
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   FOREIGN=DIR        make-foreign-dumps.sh's output (default: its cache path)
#   MEM=256M SMP=2     guest size (256M: make-foreign-dumps.sh's)
#   TB_SIZE=64         TCG translation buffer in MiB; empty = QEMU's default
#   INSTALL=0          1 = apt-get install the packages first
#   BOOT_TIMEOUT=900   max seconds to wait for DFS-READY
#   QEMU_TIMEOUT=1800  hard cap (timeout(1)) on the qemu process
#   GDB_TIMEOUT=900    hard cap on every gdb
#   NICE="chrt -i 0"   prefix of every CPU-heavy command (SCHED_IDLE)
#   FORCE=1            redo even when COMPLETE
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
KEY=$(sha256sum < "$SELF" | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/qcore-arm64-$KEY}
FKEY=$(cat "$HERE/make-foreign-dumps.sh" "$TOOLS/foreign-init.sh" "$TOOLS/qmp.py" | sha256sum | cut -c1-12)
FOREIGN=${FOREIGN:-/var/cache/dumpfs/foreign-$FKEY}
MEM=${MEM:-256M}
SMP=${SMP:-2}
TB_SIZE=${TB_SIZE-64}
INSTALL=${INSTALL:-0}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
GDB_TIMEOUT=${GDB_TIMEOUT:-900}
NICE=${NICE-chrt -i 0}
FORCE=${FORCE:-0}
PY=/usr/bin/python3
QEMU=qemu-system-aarch64

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ "$INSTALL" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        qemu-system-arm ipxe-qemu gdb python3 binutils >&2 || { echo "apt-get install failed" >&2; exit 1; }
fi
if [ "$FORCE" != 1 ] && [ -f "$OUT/COMPLETE" ]; then echo "$OUT"; exit 0; fi
KERNEL=$(ls "$FOREIGN"/build/arm64/kernel-pkg/boot/vmlinuz-* 2>/dev/null | head -1)
INITRD=$FOREIGN/build/arm64/initramfs.cpio.gz
if [ -z "$KERNEL" ] || [ ! -s "$INITRD" ]; then
    echo "no arm64 kernel/initramfs under $FOREIGN/build/arm64: run ARCHES=arm64 bash images/make-foreign-dumps.sh" >&2
    exit 1
fi
KVER=${KERNEL##*/vmlinuz-}
rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/run"
now() { echo "${EPOCHREALTIME/./}"; }                    # microseconds
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
fact() { printf '%s=%s\n' "$1" "$2" >> "$OUT/facts.txt"; }
printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
: > "$OUT/facts.txt"
T_START=$(now)
log "recipe key $KEY; OUT=$OUT; guest from $FOREIGN (kernel $KVER)"

# --- host facts ---
PATTERN=$(cat /proc/sys/kernel/core_pattern)
[ "$PATTERN" = core ] || die "core_pattern is '$PATTERN', not 'core' (sysctl kernel.core_pattern=core)"
FILTER=$(cat /proc/self/coredump_filter)
[ $(( 0x$FILTER & 3 )) = 3 ] || die "coredump_filter $FILTER leaves out anonymous memory"
QEMU_PATH=$(readlink -f "$(command -v $QEMU)") || die "no $QEMU"
QEMU_VER=$($QEMU --version | head -1 | sed 's/^QEMU emulator version //')
GDB_VER=$(gdb --version | head -1)
fact qemu "$QEMU_VER (qemu-system-arm $(dpkg-query -W -f='${Version}' qemu-system-arm 2>/dev/null)) $QEMU_PATH"
fact qemu_sha256 "$(sha256sum < "$QEMU_PATH" | cut -c1-64)"
fact gdb "$GDB_VER"
fact host "$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
fact core_pattern "$PATTERN core_uses_pid=$(cat /proc/sys/kernel/core_uses_pid) coredump_filter=$FILTER"
fact kernel "$KERNEL"
fact kernel_release "$KVER"
fact initrd "$INITRD ($(sha256sum < "$INITRD" | cut -c1-12))"
fact guest "-M virt -cpu cortex-a57 -device vmcoreinfo -m $MEM -smp $SMP accel=tcg${TB_SIZE:+,tb-size=$TB_SIZE}"
# which of the symbols the x86_64 reader uses exist in this binary
for s in ram_list cpus e820_table; do
    line=$(nm -D "$QEMU_PATH" | awk -v s="$s" '$3 == s')
    fact "nm.$s" "${line:-absent}"
done

# sizes FILE: "BYTES ALLOCATED" (ls -l's size, du's allocated bytes)
sizes() { echo "$(stat -c %s "$1") $(( $(stat -c %b "$1") * $(stat -c %B "$1") ))"; }
MHEAD='path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n'
printf "$MHEAD" > "$OUT/MANIFEST.tsv"
manifest() {  # RELPATH PRODUCER COMMAND FORMAT SECONDS NOTE
    local b a; read -r b a <<< "$(sizes "$OUT/$1")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" arm64 "$2" "$3" "$4" none all "$b" "$5" \
        "allocated $a bytes; $6" >> "$OUT/MANIFEST.tsv"
    fact "size.$1" "$b"
    fact "allocated.$1" "$a"
    fact "seconds.$1" "$5"
    log "ok   $1 ($b bytes, $a allocated (du), $5 s)"
}

# --- the guest ---
GPID= ; QPID=
GSOCK=$OUT/run/qmp.sock
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

SLOG=$OUT/serial.log
cmd=($QEMU -M virt -cpu cortex-a57 -device vmcoreinfo -accel "tcg${TB_SIZE:+,tb-size=$TB_SIZE}"
     -m "$MEM" -smp "$SMP" -display none -serial "file:$SLOG" -monitor none -no-reboot
     -kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyAMA0 loglevel=7 panic=0"
     -pidfile "$OUT/run/qemu.pid" -qmp "unix:$GSOCK,server=on,wait=off")
echo "cd $OUT/run; ulimit -c unlimited; timeout -k 10 $QEMU_TIMEOUT $NICE ${cmd[*]}" > "$OUT/qemu-cmdline"
: > "$SLOG"
TG=$(now)
# shellcheck disable=SC2086
(cd "$OUT/run" && ulimit -c unlimited && exec timeout -k 10 "$QEMU_TIMEOUT" $NICE "${cmd[@]}") \
    < /dev/null > "$OUT/logs/qemu.log" 2>&1 &
GPID=$!
log "guest started: ${cmd[*]}"
while ! grep -aq '^DFS-READY' "$SLOG"; do
    grep -aqE 'Kernel panic|No working init|Attempted to kill init' "$SLOG" \
        && die "$(grep -aE -m1 'Kernel panic|No working init|Attempted to kill init' "$SLOG")"
    kill -0 "$GPID" 2>/dev/null || die "qemu exited before DFS-READY (logs/qemu.log)"
    [ $(( ($(now) - TG) / 1000000 )) -ge "$BOOT_TIMEOUT" ] && die "no DFS-READY in $BOOT_TIMEOUT s"
    sleep 0.5
done
timing boot "$(secs "$TG" "$(now)")"
fact seconds.boot "$(secs "$TG" "$(now)")"
sleep 2
QPID=$(cat "$OUT/run/qemu.pid")
[ "$(readlink "/proc/$QPID/exe")" = "$QEMU_PATH" ] || die "pid $QPID of the pidfile is not $QEMU"
grep -q 'Max core file size *unlimited' "/proc/$QPID/limits" || die "qemu's RLIMIT_CORE is not unlimited"
qmp stop >> "$OUT/logs/qmp.log" || die "QMP stop failed"
fact qemu_pid "$QPID"
fact qemu_coredump_filter "$(cat "/proc/$QPID/coredump_filter")"
log "stopped (QMP stop); qemu pid $QPID"
hmp "info ramblock" > "$OUT/ramblock.txt" || die "info ramblock"
hmp "info mtree -f" > "$OUT/mtree.txt" || die "info mtree"
hmp "info registers -a" > "$OUT/registers.txt" || log "WARNING: info registers -a failed"
cp "/proc/$QPID/maps" "$OUT/qemu.maps"

# the guest's memory map, from its console and QEMU's view
grep -aE 'Booting Linux|Machine model|NUMA|Zone ranges|DMA |Normal |Movable|Early memory|node +0:|Initmem|Memory: |efi:|psci:' "$SLOG" \
    | tr -d '\r' | sed 's/^\[[^]]*\] *//; s/^/console=/' >> "$OUT/facts.txt"
grep -a 'mach-virt.ram' "$OUT/mtree.txt" | sed 's/^ */mtree=/' >> "$OUT/facts.txt"
sed -n 's/^ */ramblock=/p' "$OUT/ramblock.txt" >> "$OUT/facts.txt"

# --- a. the reference ---
req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/ref.elf\",\"format\":\"elf\"}}"
t0=$(now)
reply=$(qmp --timeout 1200 "$req"); rc=$?
printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
[ $rc = 0 ] && [ -s "$OUT/ref.elf" ] || die "dump-guest-memory: rc $rc $reply"
chmod a+r "$OUT/ref.elf"
manifest ref.elf "QEMU $QEMU_VER dump-guest-memory; guest Linux $KVER, -M virt -cpu cortex-a57 -m $MEM -smp $SMP, tcg" \
    "QMP stop (2 s after DFS-READY); dump-guest-memory paging=false format=elf" elf "$(secs "$t0" "$(now)")" \
    "the reference: the guest's memory at the moment of the cores"
# the vCPUs' registers from its NT_PRSTATUS notes: "prstatus.N=pid pc sp pstate"
"$PY" - "$OUT/ref.elf" > "$OUT/logs/prstatus.txt" <<'EOF' || die "ref.elf: no NT_PRSTATUS"
import struct, sys
d = open(sys.argv[1], "rb").read(1 << 20)
assert d[:4] == b"\x7fELF" and d[4] == 2 and struct.unpack_from("<H", d, 18)[0] == 183, "not an ELF64 aarch64 core"
phoff, = struct.unpack_from("<Q", d, 32)
phentsize, phnum = struct.unpack_from("<HH", d, 54)
n = 0
for i in range(phnum):
    p_type, _, p_off, _, _, p_filesz = struct.unpack_from("<IIQQQQ", d, phoff + i * phentsize)
    if p_type == 1:
        print("load=paddr 0x%x filesz 0x%x" % (struct.unpack_from("<Q", d, phoff + i * phentsize + 24)[0], p_filesz))
    if p_type != 4:
        continue
    o, end = p_off, p_off + p_filesz
    while o + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from("<III", d, o)
        name = d[o + 12:o + 12 + namesz].rstrip(b"\0").decode(errors="replace")
        desc = o + 12 + ((namesz + 3) & ~3)
        if ntype == 1 and name == "CORE":        # NT_PRSTATUS
            pid, = struct.unpack_from("<I", d, desc + 32)
            regs = struct.unpack_from("<34Q", d, desc + 112)
            print("prstatus.%d=pid %d pc 0x%x sp 0x%x pstate 0x%x x29 0x%x x30 0x%x"
                  % (n, pid, regs[32], regs[31], regs[33], regs[29], regs[30]))
            n += 1
        o = desc + ((descsz + 3) & ~3)
sys.exit(0 if n else 1)
EOF
cat "$OUT/logs/prstatus.txt" >> "$OUT/facts.txt"
PCSP=$(sed -n 's/^prstatus\.[0-9]*=pid [0-9]* pc \(0x[0-9a-f]*\) sp \(0x[0-9a-f]*\) .*/\1,\2/p' "$OUT/logs/prstatus.txt" | tr '\n' ' ')

# --- b. gdb facts on the live paused process ---
cat > "$OUT/logs/gdb-facts.py" <<'EOF'
# run by gdb -p QEMU_PID: QEMU's RAMBlocks and CPUStates from its dynamic symbols
import gdb, os, struct
inf = gdb.selected_inferior()
def q(a):
    return struct.unpack("<Q", bytes(inf.read_memory(a, 8)))[0]
def sym(s):
    return int(gdb.parse_and_eval("(unsigned long)&%s" % s))
def cstr(a, n=256):
    return bytes(inf.read_memory(a, n)).split(b"\0")[0].decode(errors="replace")
def readable(a, n):
    try:
        return bytes(inf.read_memory(a, n))
    except gdb.MemoryError:
        return None
pcsp = [tuple(int(v, 16) for v in x.split(",")) for x in os.environ.get("PCSP", "").split()]
rl = sym("ram_list")
print("ram_list=0x%x" % rl)
blk = q(rl + 56)
print("ram_list.blocks.first (ram_list+56)=0x%x" % blk)
i = 0
while blk and i < 64:
    print("ramblock.%d=0x%x idstr(+76)=%r host(+24)=0x%x used_length(+48)=0x%x max_length(+56)=0x%x offset(+40)=0x%x flags(+72)=0x%x mr(+16)=0x%x next(+336)=0x%x"
          % (i, blk, cstr(blk + 76), q(blk + 24), q(blk + 48), q(blk + 56), q(blk + 40),
             struct.unpack("<I", bytes(inf.read_memory(blk + 72, 4)))[0], q(blk + 16), q(blk + 336)))
    blk, i = q(blk + 336), i + 1
cp = sym("cpus")
first, last_link = q(cp), q(cp + 8)
print("cpus=0x%x first(+0)=0x%x tql_prev(+8)=0x%x" % (cp, first, last_link))
# the CPUStates: follow the first CPU's node.tqe_next; find the node's offset
# as the word of CPU 0 equal to the tail link's owner (2 CPUs: the last one)
cpu_list = [first]
cs0 = first
words0 = struct.unpack("<1536Q", bytes(inf.read_memory(cs0, 0x3000)))
node_off = None
for off in range(0, 0x3000, 8):
    # tql_prev points at the last CPU's node; for 2 CPUs CPU 0's node.tqe_next is it
    cand = last_link - off
    if off and words0[off // 8] == cand and cand != cs0:
        node_off = off
        break
if node_off is not None:
    print("CPUState.node offset=0x%x (cpu0.node.tqe_next == tql_prev - 0x%x)" % (node_off, node_off))
    c = cs0
    while True:
        nxt = q(c + node_off)
        if not nxt or len(cpu_list) > 64:
            break
        cpu_list.append(nxt)
        c = nxt
for n, cs in enumerate(cpu_list):
    print("cpu.%d CPUState=0x%x" % (n, cs))
    words = struct.unpack("<1536Q", bytes(inf.read_memory(cs, 0x3000)))
    for k, w in enumerate(words):
        if 0 <= w - cs < 0x40000:
            print("cpu.%d self-pointer: +0x%x -> +0x%x" % (n, k * 8, w - cs))
    if n < len(pcsp):
        pc, sp = pcsp[n]
        found = {"pc": [], "sp": []}
        for base in range(0, 0x40000, 0x1000):
            b = readable(cs + base, 0x1000)
            if b is None:
                print("cpu.%d unreadable from +0x%x" % (n, base))
                break
            for k, w in enumerate(struct.unpack("<512Q", b)):
                if w == pc:
                    found["pc"].append(base + k * 8)
                if w == sp:
                    found["sp"].append(base + k * 8)
        for r in ("pc", "sp"):
            print("cpu.%d ref %s 0x%x found at: %s" % (n, r, pcsp[n][r == "sp"],
                  " ".join("+0x%x" % o for o in found[r][:16]) or "nowhere"))
        # CPUARMState begins uint32_t regs[16]; uint64_t xregs[32]; uint64_t pc:
        # pc at env+0x140, sp (xregs[31]) at env+0x138
        for k, w in enumerate(words):
            t = w - cs
            if 0 <= t < 0x40000 and t + 0x140 in found["pc"] and t + 0x138 in found["sp"]:
                print("cpu.%d env_ptr=+0x%x env=+0x%x (ref pc at env+0x140, ref sp at env+0x138 = xregs[31])"
                      % (n, k * 8, t))
EOF
t0=$(now)
PCSP="$PCSP" timeout -k 10 "$GDB_TIMEOUT" gdb -nx -batch -p "$QPID" -x "$OUT/logs/gdb-facts.py" -ex detach \
    > "$OUT/logs/gdb-facts.log" 2>&1 || die "gdb facts failed (logs/gdb-facts.log)"
grep -E '^(ram_list|ramblock|cpus|CPUState|cpu\.)' "$OUT/logs/gdb-facts.log" > "$OUT/gdb-facts.txt"
[ -s "$OUT/gdb-facts.txt" ] || die "gdb facts: no output (logs/gdb-facts.log)"
kill -0 "$QPID" 2>/dev/null || die "qemu is gone after gdb"
timing gdb-facts "$(secs "$t0" "$(now)")"
sed 's/^/gdb./' "$OUT/gdb-facts.txt" >> "$OUT/facts.txt"
# the executable's load base (PIE), to turn the addresses back into nm's
fact qemu_load_base "0x$(awk -v p="$QEMU_PATH" '$6 == p { split($1, r, "-"); print r[1]; exit }' "$OUT/qemu.maps")"

grep -q '^cpu\.0 env_ptr=' "$OUT/gdb-facts.txt" || log "WARNING: no self-pointer of CPU 0 fits env (pc at +0x140, sp at +0x138)"

# --- c. gcore ---
t0=$(now)
timeout -k 10 "$GDB_TIMEOUT" $NICE gdb -nx -batch -p "$QPID" -ex "gcore $OUT/qemu.gcore" -ex detach \
    > "$OUT/logs/gdb-gcore.log" 2>&1 || die "gcore failed (logs/gdb-gcore.log)"
[ -s "$OUT/qemu.gcore" ] || die "gcore wrote nothing"
kill -0 "$QPID" 2>/dev/null || die "qemu is gone after gcore"
manifest qemu.gcore "$GDB_VER gcore" "gdb -nx -batch -p QEMU_PID -ex 'gcore FILE' -ex detach" elf-core \
    "$(secs "$t0" "$(now)")" "gcore of the paused qemu-system-aarch64 process"

# --- d. the kernel's core ---
[ -e "$OUT/run/core" ] && die "$OUT/run/core exists before the kill"
t0=$(now)
kill -ABRT "$QPID"
{ wait "$GPID"; } 2>/dev/null; rc=$?   # (no "Aborted" notice from bash)
GPID=
[ -f "$OUT/run/core" ] || die "no core file after kill -ABRT (qemu exit $rc)"
mv "$OUT/run/core" "$OUT/qemu.core"
manifest qemu.core "Linux $(uname -r) core dump (core_pattern=$PATTERN, coredump_filter=0x$FILTER)" \
    "ulimit -c unlimited; kill -ABRT QEMU_PID" elf-core "$(secs "$t0" "$(now)")" \
    "the kernel's core of the paused qemu-system-aarch64 process (timeout exit $rc)"
rm -rf "$OUT/run"

# --- e. check: both cores hold every page of ref.elf's RAM at mach-virt.ram's
# host address, and each vCPU's pc/sp (ref.elf's) at CPUState + env + 0x140/0x138
t0=$(now)
"$PY" - "$OUT" > "$OUT/logs/check.txt" <<'EOF' || die "check failed (logs/check.txt)"
import mmap, re, struct, sys
out = sys.argv[1]
def loads(path):
    f = open(path, "rb")
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    phoff, = struct.unpack_from("<Q", m, 32)
    phentsize, phnum = struct.unpack_from("<HH", m, 54)
    if phnum == 0xffff:                      # PN_XNUM: the count is section 0's sh_info
        shoff, = struct.unpack_from("<Q", m, 40)
        phnum, = struct.unpack_from("<I", m, shoff + 44)
    segs = []
    for i in range(phnum):
        t, _, off, va, pa, fs, ms = struct.unpack_from("<IIQQQQQ", m, phoff + i * phentsize)
        if t == 1:
            segs.append((va, pa, off, fs, ms))
    return m, segs
def rd(m, segs, a, n, phys=False):
    for va, pa, off, fs, ms in segs:
        b = pa if phys else va
        if b <= a and a + n <= b + ms:
            return None if a - b + n > fs else m[off + a - b:off + a - b + n]
    return None
g = open(out + "/gdb-facts.txt").read()
host, size = (int(x, 16) for x in re.search(
    r"^ramblock\.0=\S+ idstr\(\+76\)='mach-virt.ram' host\(\+24\)=(\S+) used_length\(\+48\)=(\S+)", g, re.M).groups())
addr = dict(re.findall(r"^cpu\.(\d+) CPUState=(\S+)", g, re.M))
envs = dict(re.findall(r"^cpu\.(\d+) env_ptr=\+\S+ env=\+(\S+)", g, re.M))
cpus = [(int(addr[n], 16), int(envs[n], 16)) for n in sorted(addr, key=int) if n in envs]
refregs = re.findall(r"^prstatus\.\d+=pid \d+ pc (\S+) sp (\S+)", open(out + "/facts.txt").read(), re.M)
ref, rsegs = loads(out + "/ref.elf")
bad = 0
for name in ("qemu.gcore", "qemu.core"):
    m, segs = loads(out + "/" + name)
    same = diff = absent = 0
    for off in range(0, size, 0x1000):
        a = rd(ref, rsegs, 0x40000000 + off, 0x1000, phys=True)
        b = rd(m, segs, host + off, 0x1000)
        if b is None:
            absent += 1
        elif a == b:
            same += 1
        else:
            diff += 1
    print("check.%s.ram=%d pages same, %d differ, %d absent (guest 0x40000000.. at host 0x%x)"
          % (name, same, diff, absent, host))
    bad += diff + absent
    for i, (cs, env) in enumerate(cpus):
        pc, sp = (struct.unpack("<Q", rd(m, segs, cs + env + o, 8))[0] for o in (0x140, 0x138))
        ok = i < len(refregs) and (pc, sp) == tuple(int(x, 16) for x in refregs[i])
        print("check.%s.cpu%d=pc 0x%x sp 0x%x at CPUState+0x%x+0x140/0x138: %s"
              % (name, i, pc, sp, env, "as ref.elf" if ok else "DIFFERS from ref.elf"))
        bad += not ok
sys.exit(1 if bad or len(cpus) != len(refregs) else 0)
EOF
cat "$OUT/logs/check.txt" >> "$OUT/facts.txt"
timing check "$(secs "$t0" "$(now)")"
grep -aq 'fw_cfg etc/vmcoreinfo present' "$SLOG" || log "WARNING: the guest says fw_cfg etc/vmcoreinfo absent"
chmod -R a+rX "$OUT"
timing total "$(secs "$T_START" "$(now)")"
date -u +%FT%TZ > "$OUT/COMPLETE"
log "wrote $OUT"
echo "$OUT"

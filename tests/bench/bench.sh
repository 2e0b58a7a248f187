#!/bin/bash
# bench.sh - the benchmark of docs/performance.md: dumpfs side by side with
# the alternatives, on the same dumps, in one run.  Prints a markdown
# report on stdout (progress on stderr):
#
#   bash tests/bench/bench.sh > docs/performance-results.md
#
# Needs root (mounts, /proc/sys/vm/drop_caches is not used: every reader
# gets the dump file from the page cache, so the figures compare CPU work,
# not the disk).  Knobs: BENCH_DIR (default /var/tmp/dumpfs-bench, ~12 GB),
# BENCH_GIB (memory of each generated dump, default 2), BENCH_RAND (random
# reads per run, default 20000).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/var/tmp/dumpfs-bench}
gib=${BENCH_GIB:-2}
nrand=${BENCH_RAND:-20000}
build=$top/build-bench
log() { echo "bench: $*" >&2; }

bash "$top/tests/deps.sh" libkdumpfile-dev makedumpfile bc > /dev/null
[ -d "$build" ] || meson setup "$build" "$top" --buildtype=release > /dev/null
ninja -C "$build" > /dev/null
dumpfs=$build/dumpfs mkdump=$build/tests/gen/mkdump rb=$build/tests/bench/readbench
mkdir -p "$dir/mnt"
mnt=$dir/mnt
trap 'mountpoint -q "$mnt" && fusermount3 -u "$mnt"' EXIT

now_ns() { date +%s%N; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
mbps() { echo "scale=0; $1 / $2 / 1000000" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
warm() { cat "$@" > /dev/null; }      # the dump file into the page cache

mount_dump() {
	"$dumpfs" "$@" "$mnt"
}
umount_dump() {
	local pid
	pid=$(pgrep -n -f -- "$mnt\$" || true)
	fusermount3 -u "$mnt"
	while [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; do sleep 0.05; done
}
daemon_hwm_kb() {
	awk '/VmHWM/ {print $2}' "/proc/$(pgrep -n -f -- "$mnt\$")/status"
}
# The middle of three "seconds busy" lines, by seconds.
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# A sequential read of /mem, each on a fresh mount: "cold warm busy steal",
# cold the median of three runs, busy and steal the machine's CPU use and
# the hypervisor's steal during that run.
seq_mem() {
	local runs=() out warm=
	for i in 1 2 3; do
		mount_dump "$@"
		out=$("$rb" file seq "$mnt/mem")
		runs+=("$(field seconds <<< "$out") $(field busy <<< "$out") $(field steal <<< "$out")")
		[ "$i" = 3 ] && warm=$("$rb" file seq "$mnt/mem" | field seconds)
		umount_dump
	done
	read -r cold busy steal < <(median3 "${runs[@]}")
	echo "$cold $warm $busy $steal"
}
# Median of three runs of readbench with these arguments: "seconds busy".
rb3() {
	local runs=() out
	for i in 1 2 3; do
		out=$("$rb" "$@")
		runs+=("$(field seconds <<< "$out") $(field busy <<< "$out")")
	done
	median3 "${runs[@]}"
}
# Seconds of `dumpfs cat DUMP /mem` (the core without FUSE), median of three.
cat_mem() {
	local runs=() t0 t1
	for i in 1 2 3; do
		t0=$(now_ns)
		"$dumpfs" cat "$1" /mem > /dev/null
		t1=$(now_ns)
		runs+=("$(echo "scale=6; ($t1 - $t0) / 1000000000" | bc)")
	done
	median3 "${runs[@]}"
}
pct() { echo "$1 * 100 / 1" | bc; }

# ---- the generated dumps ------------------------------------------------
ram="0-$((gib * 262144 - 1))"
for c in zlib lzo snappy zstd none elf; do
	f=$dir/gen-$c
	[ -s "$f" ] && grep -q "^mem_size=$((gib << 30))$" "$f.info" 2> /dev/null && continue
	log "writing $f ($gib GiB of memory)"
	if [ $c = elf ]; then
		"$mkdump" --format elf --zero-pages --ram "$ram" --seed 7 "$f" > /dev/null
	else
		"$mkdump" --codec $c --zero-pages --ram "$ram" --seed 7 "$f" > /dev/null
	fi
	rm -f "$f.mem"                  # 2 GiB we do not need
done
size=$((gib << 30))
huge=$dir/huge-16t
[ -s "$huge" ] || "$build/tests/bench/mkhuge" "$huge" 32 8 > /dev/null

cat <<EOF
## Run of $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r),
load average at start $(cut -d' ' -f1-3 /proc/loadavg).
dumpfs $(git -C "$top" describe --always --dirty 2> /dev/null || echo '?'), release build;
libkdumpfile $(pkg-config --modversion libkdumpfile 2> /dev/null || echo 'not installed').
Every reader reads the dump file from the page cache.

### 1. Sequential read of all of /mem ($gib GiB generated dumps: 3/8 text-like, 3/16 random, 1/4 slab-like, 3/16 sparse, 1/8 zero pages)

| dump | file MB | dumpfs cold MB/s | CPU busy (steal) | dumpfs warm MB/s | dumpfs cold, -o threads=$(nproc) MB/s | libkdumpfile MB/s | 1-core decompression MB/s | vs libkdumpfile | vs 1-core decompression | in process (\`dumpfs cat\`) MB/s | in process vs 1-core |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for c in zlib lzo snappy zstd none; do
	f=$dir/gen-$c
	warm "$f"
	log "sequential: $c"
	read -r cold warmt busy steal < <(seq_mem "$f")
	read -r pool _ < <(seq_mem -o threads="$(nproc)" "$f")
	read -r lk _ < <(rb3 kdumpfile seq "$f" "$size")
	read -r dec _ < <(rb3 decompress "$f")
	inproc=$(cat_mem "$f")
	echo "| gen-$c | $(( $(stat -c %s "$f") / 1000000 )) | $(mbps $size "$cold") | $(pct "$busy")% ($(pct "$steal")%) | $(mbps $size "$warmt") | $(mbps $size "$pool") | $(mbps $size "$lk") | $(mbps $size "$dec") | $(ratio "$lk" "$cold")x | $(ratio "$dec" "$cold")x | $(mbps $size "$inproc") | $(ratio "$dec" "$inproc")x |"
done
read -r zi _ < <(rb3 decompress "$dir/gen-zlib" inflate)
read -r zd _ < <(rb3 decompress "$dir/gen-zlib")
warm "$dir/gen-elf"
"$rb" file seq "$dir/gen-elf" > /dev/null
io=$("$rb" file seq "$dir/gen-elf" | field seconds)
mount_dump "$dir/gen-elf"
ecopy=$("$rb" file seq "$mnt/vmcore.elf" | field seconds)
umount_dump
mount_dump -o splice "$dir/gen-elf"
esplice=$("$rb" file seq "$mnt/vmcore.elf" | field seconds)
umount_dump
esize=$(stat -c %s "$dir/gen-elf")
# FUSE alone: 2 GiB of /mem that no page of the dump covers (after the
# 16 TiB dump's 9th RAM run), so no decompression and no read of the dump.
holes=()
for i in 1 2 3; do
	mount_dump "$huge"
	out=$("$rb" file seq "$mnt/mem" $(( (8 << 40) + (1 << 30) )) "$size")
	holes+=("$(field seconds <<< "$out") $(field busy <<< "$out") $(field steal <<< "$out")")
	umount_dump
done
read -r hole hbusy hsteal < <(median3 "${holes[@]}")
cat <<EOF

(For gen-none the "decompression" column is a memcpy of every page.
Every time is the median of three runs, dumpfs's cold ones each on a fresh
mount; CPU busy is the share of both CPUs' time that was not idle during the
median cold run, and steal the share the hypervisor gave to other guests:
a run with much steal measured a busy host, not dumpfs.)

- FUSE alone: a cold read through dumpfs of $gib GiB of \`/mem\` that no page of the
  dump covers (zeros made by the daemon, nothing decompressed or read):
  $(mbps $size "$hole") MB/s, CPU busy $(pct "$hbusy")% (steal $(pct "$hsteal")%). 1.5x the 1-core decompression
  rate would be $(echo "$size * 3 / 2 / $zd / 1000000" | bc) MB/s for zlib (libdeflate), more for the other codecs.

- I/O limit: \`cat\` of an uncompressed ELF of the same memory from the page cache:
  $(mbps "$esize" "$io") MB/s.
- That ELF mounted, \`/vmcore.elf\` (the file passed through), fresh mount: copied
  through dumpfs $(mbps "$esize" "$ecopy") MB/s; with \`-o splice\` $(mbps "$esize" "$esplice") MB/s.
- zlib pages, one core, in memory: libdeflate $(mbps $size "$zd") MB/s, zlib's inflate()
  $(mbps $size "$zi") MB/s ($(ratio "$zi" "$zd")x).

### 2. Random 4 KiB reads of /mem ($nrand reads, fresh mount, uniform over all pages)

| dump | dumpfs IOPS | dumpfs IOPS, daemon and reader on one CPU | dumpfs IOPS, on two CPUs | libkdumpfile IOPS | ratio |
|---|---:|---:|---:|---:|---:|
EOF
# random reads of /mem on a fresh mount, daemon and reader pinned to the
# CPU lists $1 and $2 (empty: not pinned); seconds
rand_mem() {
	local pin_d=() pin_r=() t
	[ -n "$1" ] && pin_d=(taskset -c "$1")
	[ -n "$2" ] && pin_r=(taskset -c "$2")
	"${pin_d[@]}" "$dumpfs" "$f" "$mnt"
	t=$("${pin_r[@]}" "$rb" file rand "$mnt/mem" "$nrand" 42 | field seconds)
	umount_dump
	echo "$t"
}
for c in zlib lzo zstd; do
	f=$dir/gen-$c
	d=$(rand_mem "" "")
	one=$(rand_mem 0 0)
	two=$(rand_mem 0 1)
	l=$("$rb" kdumpfile rand "$f" "$size" "$nrand" 42 | field seconds)
	echo "| gen-$c | $(echo "$nrand / $d" | bc) | $(echo "$nrand / $one" | bc) | $(echo "$nrand / $two" | bc) | $(echo "$nrand / $l" | bc) | $(ratio "$l" "$d")x |"
done
cat <<EOF

(Each dumpfs read is a FUSE round trip: the reader wakes a daemon thread and
sleeps until the reply wakes it. The pinned columns show what those wake-ups
cost when they cross CPUs on this machine.)
EOF

# ---- real images ----------------------------------------------------------
real=$top/images/real
if [ -s "$real/MANIFEST.tsv" ]; then
	cat <<EOF

### Real images (images/real: QEMU guest, 256 MiB), sequential /mem

| dump | dumpfs cold MB/s | libkdumpfile MB/s | ratio |
|---|---:|---:|---:|
EOF
	for f in mdf/idle-zlib-d0.kdump mdf/idle-lzo-d1.kdump mdf/idle-none-d0.kdump qemu/idle-kdump-zlib.flat.R.kdump; do
		[ -s "$real/$f" ] || continue
		warm "$real/$f"
		msize=$("$dumpfs" info "$real/$f" | sed -n 's/^mem_size: //p')
		read -r cold _ < <(seq_mem "$real/$f")
		read -r lk _ < <(rb3 kdumpfile seq "$real/$f" "$msize")
		echo "| $f | $(mbps "$msize" "$cold") | $(mbps "$msize" "$lk") | $(ratio "$lk" "$cold")x |"
	done
fi

# ---- processes: /tasks on the real images -------------------------------
# On a fresh mount: ms to list /tasks and to read every maps; then every
# readable mapping of every process through its mem (reads of up to 1 MiB,
# as gdb or a carver reads them), and as many bytes of /mem from its start
# the same way: MB/s of each, and their ratio (issue 12 asks for half).
tasks_bench() {
	python3 - "$mnt" <<'PY'
import os, sys, time
mnt = sys.argv[1]
def read_range(path, lo, hi):
    fd, total = os.open(path, os.O_RDONLY), 0
    try:
        while lo < hi:
            n = len(os.pread(fd, min(1 << 20, hi - lo), lo))
            if n <= 0:
                break
            total, lo = total + n, lo + n
    finally:
        os.close(fd)
    return total
t0 = time.monotonic()
pids = os.listdir(os.path.join(mnt, "tasks"))
t1 = time.monotonic()
ranges = []
for p in pids:                          # kernel threads have no maps
    path = os.path.join(mnt, "tasks", p, "maps")
    if os.path.exists(path):
        for line in open(path):
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if line.split()[1][0] == "r":
                ranges.append((os.path.join(mnt, "tasks", p, "mem"), lo, hi))
t2 = time.monotonic()
mem = sum(read_range(*r) for r in ranges)
t3 = time.monotonic()
phys = read_range(os.path.join(mnt, "mem"), 0, mem)
t4 = time.monotonic()
rate, prate = mem / (t3 - t2) / 1e6, phys / (t4 - t3) / 1e6
print("%d %.0f %.0f %.1f %.0f %.0f %.2f" % (len(pids), (t1 - t0) * 1000, (t2 - t1) * 1000,
                                           mem / 2**20, rate, prate, rate / prate))
PY
}
if [ -s "$real/MANIFEST.tsv" ]; then
	cat <<EOF

### Processes: /tasks on the real images (a fresh mount each)

| dump | processes | ls /tasks | every maps | mappings read | their MB/s | /mem MB/s | ratio |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
	for f in qemu/idle.elf mdf/idle-zlib-d0.kdump mdf/idle-lzo-d1.kdump; do
		[ -s "$real/$f" ] || continue
		warm "$real/$f"
		mount_dump "$real/$f"
		read -r n ls maps mb rate prate r < <(tasks_bench)
		umount_dump
		echo "| $f | $n | $ls ms | $maps ms | $mb MiB | $rate | $prate | ${r}x |"
	done
fi

# ---- QEMU process cores (images/make-qemu-cores.sh's cache) --------------
# Mount to the first byte of /dmesg; a cold sequential read of /mem against
# reading the same bytes of the core file (the RAM mapping, from /host/maps)
# with the same 1 MiB reads: the page-cache rate of the file; and, with a
# debug vmlinux, mount + crash to its prompt against the reference dump
# dump-guest-memory wrote at the same pause.
qcore=$(ls -td /var/cache/dumpfs/qcore-*/ 2> /dev/null | grep -E '/qcore-[0-9a-f]{12}/$' | head -1 || true)
qvmlinux=$(ls /var/cache/dumpfs/x86-dbg/vmlinux-* /usr/lib/debug/boot/vmlinux-* 2> /dev/null | head -1 || true)
ram_file_rate() {       # MB/s of reading the guest RAM's bytes of the core file
	python3 - "$mnt" "$1" <<'PY'
import os, sys, time
mnt, core = sys.argv[1:3]
hdr = open(os.path.join(mnt, "header")).read()
line = [l for l in hdr.splitlines() if l.startswith("guest_ram_block:")][0]
size, host = int(line.split(", ")[1].split()[0]), int(line.split(" at host ")[1], 16)
for m in open(os.path.join(mnt, "host", "maps")):
    f = m.split()
    if not m.startswith("#") and int(f[0].split("-")[0], 16) == host:
        off = int(f[3])
fd = os.open(core, os.O_RDONLY)
t0, done = time.monotonic(), 0
while done < size:
    done += len(os.pread(fd, min(1 << 20, size - done), off + done))
print("%.0f" % (size / (time.monotonic() - t0) / 1e6))
PY
}
crash_prompt_ms() {     # mount $1, crash to its prompt and quit; ms
	local t0 t1
	t0=$(now_ns)
	mount_dump "$1"
	echo quit | crash -s "$qvmlinux" "$mnt/vmcore.elf" > /dev/null 2>&1
	t1=$(now_ns)
	umount_dump
	echo $(( (t1 - t0) / 1000000 ))
}
if [ -n "$qcore" ]; then
	cat <<EOF

### QEMU process cores ($qcore)

| core | /mem | mount + /dmesg | /mem cold MB/s | core file MB/s | ratio | crash prompt, core | crash prompt, reference |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
	for c in "$qcore"/*/qemu.core "$qcore"/*/qemu.gcore; do
		[ -s "$c" ] || continue
		ref=$(ls "$(dirname "$c")"/ref* 2> /dev/null | head -1)
		warm "$c"
		t0=$(now_ns)
		mount_dump "$c"
		cat "$mnt/dmesg" > /dev/null
		t1=$(now_ns)
		frate=$(ram_file_rate "$c")
		msize=$(sed -n 's/^mem_size: //p' "$mnt/header")
		umount_dump
		read -r cold _ < <(seq_mem "$c")
		cp=- rp=-
		if [ -n "$qvmlinux" ] && command -v crash > /dev/null && [ -n "$ref" ]; then
			cp=$(median3 "$(crash_prompt_ms "$c")" "$(crash_prompt_ms "$c")" "$(crash_prompt_ms "$c")")
			rp=$(median3 "$(crash_prompt_ms "$ref")" "$(crash_prompt_ms "$ref")" "$(crash_prompt_ms "$ref")")
		fi
		echo "| ${c#"$qcore"} | $((msize >> 20)) MiB | $(( (t1 - t0) / 1000000 )) ms | $(mbps "$msize" "$cold") | $frate | $(echo "scale=2; $(mbps "$msize" "$cold") / $frate" | bc)x | $cp ms | $rp ms |"
	done
fi

# ---- scale: 16 TiB sparse, millions of flattened records -----------------
flat=$dir/gen-zlib.flat
[ -s "$flat" ] || "$build/tests/bench/flatten" "$dir/gen-zlib" "$flat" 512 > "$flat.records"
records=$(sed -n 's/records=//p' "$flat.records")
first_byte() {                  # ms from mount to the first byte of /mem at $1
	local t0 t1 at=$1
	shift
	t0=$(now_ns)
	mount_dump "$@"
	dd if="$mnt/mem" bs=4096 count=1 skip="$at" status=none > /dev/null
	t1=$(now_ns)
	echo $(( (t1 - t0) / 1000000 ))
}
warm "$flat"
ht=$(first_byte $((1 << 28)) "$huge"); hh=$(daemon_hwm_kb); umount_dump
ft=$(first_byte 0 "$flat"); fh=$(daemon_hwm_kb); umount_dump
rm -f "$dir/reassembled"
t0=$(now_ns)
makedumpfile -R "$dir/reassembled" < "$flat" > /dev/null 2>&1
t1=$(now_ns)
rm -f "$dir/reassembled"
cat <<EOF

### 3. Mount to first byte, and the daemon's peak RSS

| dump | mount + first byte | daemon VmHWM | alternative |
|---|---:|---:|---|
| 16 TiB physical address space, 8 GiB dumped, sparse ($(du -h --apparent-size "$huge" | cut -f1) apparent, $(du -h "$huge" | cut -f1) on disk) | $ht ms | $((hh / 1024)) MiB | |
| gen-zlib flattened, $records records of 512 bytes | $ft ms | $((fh / 1024)) MiB | \`makedumpfile -R\` reassembly: $(( (t1 - t0) / 1000000 )) ms |
EOF

# ---- crash, when the interop suite's tools are installed ------------------
vmlinux=$(ls /usr/lib/debug/boot/vmlinux-* 2> /dev/null | head -1 || true)
dump=$real/mdf/idle-zlib-d31.kdump
if command -v crash > /dev/null && [ -n "$vmlinux" ] && [ -s "$dump" ]; then
	printf 'bt -a\nlog\nps\nquit\n' > "$dir/crash.cmds"
	crash_s() {
		local t0 t1
		t0=$(now_ns)
		crash -s -i "$dir/crash.cmds" "$vmlinux" "$1" > /dev/null 2>&1 < /dev/null
		t1=$(now_ns)
		echo $(( (t1 - t0) / 1000000 ))
	}
	orig=$(crash_s "$dump")
	mount_dump "$dump"
	ours=$(crash_s "$mnt/vmcore.elf")
	umount_dump
	cat <<EOF

### 4. crash: start, \`bt -a; log; ps\`, quit ($(basename "$dump"))

| input | ms |
|---|---:|
| the kdump file | $orig |
| dumpfs /vmcore.elf (fresh mount) | $ours |
EOF
fi

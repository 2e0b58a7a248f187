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
# seconds of a sequential read of /mem on a fresh mount: "cold warm"
seq_mem() {
	mount_dump "$@"
	local cold warm
	cold=$("$rb" file seq "$mnt/mem" | field seconds)
	warm=$("$rb" file seq "$mnt/mem" | field seconds)
	umount_dump
	echo "$cold $warm"
}

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

cat <<EOF
## Run of $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r),
load average at start $(cut -d' ' -f1-3 /proc/loadavg).
dumpfs $(git -C "$top" describe --always --dirty 2> /dev/null || echo '?'), release build;
libkdumpfile $(pkg-config --modversion libkdumpfile 2> /dev/null || echo 'not installed').
Every reader reads the dump file from the page cache.

### 1. Sequential read of all of /mem ($gib GiB generated dumps: 3/8 text-like, 3/16 random, 1/4 slab-like, 3/16 sparse, 1/8 zero pages)

| dump | file MB | dumpfs cold MB/s | dumpfs warm MB/s | dumpfs cold, -o threads=$(nproc) MB/s | libkdumpfile MB/s | 1-core decompression MB/s | vs libkdumpfile | vs 1-core decompression |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for c in zlib lzo snappy zstd none; do
	f=$dir/gen-$c
	warm "$f"
	log "sequential: $c"
	read -r cold warmt < <(seq_mem "$f")
	read -r pool _ < <(seq_mem -o threads="$(nproc)" "$f")
	lk=$("$rb" kdumpfile seq "$f" "$size" | field seconds)
	dec=$("$rb" decompress "$f" | field seconds)
	echo "| gen-$c | $(( $(stat -c %s "$f") / 1000000 )) | $(mbps $size "$cold") | $(mbps $size "$warmt") | $(mbps $size "$pool") | $(mbps $size "$lk") | $(mbps $size "$dec") | $(ratio "$lk" "$cold")x | $(ratio "$dec" "$cold")x |"
done
zi=$("$rb" decompress "$dir/gen-zlib" inflate | field seconds)
zd=$("$rb" decompress "$dir/gen-zlib" | field seconds)
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
cat <<EOF

(For gen-none the "decompression" column is a memcpy of every page.)

- I/O limit: \`cat\` of an uncompressed ELF of the same memory from the page cache:
  $(mbps "$esize" "$io") MB/s.
- That ELF mounted, \`/vmcore.elf\` (the file passed through), fresh mount: copied
  through dumpfs $(mbps "$esize" "$ecopy") MB/s; with \`-o splice\` $(mbps "$esize" "$esplice") MB/s.
- zlib pages, one core, in memory: libdeflate $(mbps $size "$zd") MB/s, zlib's inflate()
  $(mbps $size "$zi") MB/s ($(ratio "$zi" "$zd")x).

### 2. Random 4 KiB reads of /mem ($nrand reads, fresh mount, uniform over all pages)

| dump | dumpfs IOPS | libkdumpfile IOPS | ratio |
|---|---:|---:|---:|
EOF
for c in zlib lzo zstd; do
	f=$dir/gen-$c
	mount_dump "$f"
	d=$("$rb" file rand "$mnt/mem" "$nrand" 42 | field seconds)
	umount_dump
	l=$("$rb" kdumpfile rand "$f" "$size" "$nrand" 42 | field seconds)
	echo "| gen-$c | $(echo "$nrand / $d" | bc) | $(echo "$nrand / $l" | bc) | $(ratio "$l" "$d")x |"
done

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
		lk=$("$rb" kdumpfile seq "$real/$f" "$msize" | field seconds)
		echo "| $f | $(mbps "$msize" "$cold") | $(mbps "$msize" "$lk") | $(ratio "$lk" "$cold")x |"
	done
fi

# ---- scale: 16 TiB sparse, millions of flattened records -----------------
huge=$dir/huge-16t
[ -s "$huge" ] || "$build/tests/bench/mkhuge" "$huge" 32 8 > /dev/null
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

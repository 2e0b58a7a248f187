#!/bin/bash
# make-corpus.sh MKDUMP OUTDIR [DUMPFS] - seed corpora for the fuzz harnesses, written
# by our own dump writer (nothing binary is committed but the small crash
# reproducers in tests/fuzz/regress/).
#
# OUTDIR/kdump, OUTDIR/flat, OUTDIR/elf, OUTDIR/split, OUTDIR/xen...: one directory per
# harness.  The dumps are small (16 to 64 pages of 1 KiB or 4 KiB) so that an
# execution takes milliseconds and the fuzzer's mutations reach every
# structure; the split seeds are "u32 LE length of part 1, part 1, part 2"
# as fuzz_dump.c expects.  OUTDIR/http: HTTP answers (http_seeds.py);
# OUTDIR/flatidx: `DUMPFS index` of the flattened dump fuzz_flatidx.c makes,
# whole and damaged (without DUMPFS, only the damaged ones it can write).
set -euo pipefail
mkdump=$1 out=$2 dumpfs=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"/{kdump,flat,elf,split,lime,raw,vmlinux,xen,http,flatidx}

small=(--ram 0-11,16-23 --page-size 1024)
n=0
seed() {        # seed HARNESS MKDUMP-OPTIONS...
	local dir=$1
	shift
	n=$((n + 1))
	"$mkdump" "$@" "$work/d$n" > /dev/null
	cp "$work/d$n" "$out/$dir/seed-$n"
}

for codec in none zlib lzo snappy zstd mixed; do
	seed kdump "${small[@]}" --codec "$codec" --excluded --zero-pages
done
for v in 1 2 3 4 5; do
	seed kdump "${small[@]}" --header-version "$v" --eraseinfo
done
seed kdump "${small[@]}" --format diskdump
seed kdump "${small[@]}" --layout 32 --arch i386 --excluded
seed kdump "${small[@]}" --endian be --arch ppc64 --excluded
seed kdump "${small[@]}" --incomplete --qemu-notes --cpus 3
seed kdump "${small[@]}" --corrupt-pages 2 --codec lzo
seed kdump "${small[@]}" --phys-base 0x1000000 --no-vmcoreinfo
seed kdump --ram 0-3 --page-size 65536 --arch aarch64 --codec zstd

seed flat "${small[@]}" --flat --excluded --zero-pages --qemu-notes
seed flat "${small[@]}" --flat --incomplete --codec snappy
seed flat "${small[@]}" --flat --format elf --excluded
seed flat "${small[@]}" --flat --format elf --layout 32 --arch i386

seed elf "${small[@]}" --format elf --excluded --qemu-notes
seed elf "${small[@]}" --format elf --layout 32 --arch i386
seed elf "${small[@]}" --format elf --endian be --arch ppc64
seed elf "${small[@]}" --format elf --arch aarch64
seed elf "${small[@]}" --format elf --endian be --arch ppc64 --no-vmcoreinfo
seed elf "${small[@]}" --format elf --endian be --arch s390x --no-vmcoreinfo
seed kdump "${small[@]}" --endian be --arch s390x --no-vmcoreinfo
seed elf "${small[@]}" --format elf --incomplete
seed elf "${small[@]}" --format elf --eraseinfo --phys-base 0x2000000
# Kernel page tables (s390x DAT, ppc64 hash) that /vmcore.elf's walk reaches.
python3 "$(dirname "$0")/../bad/kernel_pagetables.py" --seeds "$out/elf"
# BTF in a kernel image, behind a decoy header.
python3 "$(dirname "$0")/../bad/btf_image.py" --seeds "$out/elf"
# PN_XNUM needs 65535 program headers (a sparse 256 MiB image): its first
# 64 KiB keep the ELF header, the section header's count and many headers.
n=$((n + 1))
"$mkdump" --format elf --pn-xnum "$work/x" > /dev/null
head -c 65536 "$work/x" > "$out/elf/seed-$n"

# QEMU process cores (ELF, to the elf harness): 24 KiB of guest RAM with a
# VMCOREINFO page, QEMU's globals, a vCPU; the executable they name is gone.
python3 "$(dirname "$0")/../bad/qemu_core.py" --seeds "$out/elf"
# Xen: xl dump-core files (PV with a shuffled p2m, HVM with padding).
xen=(--ram 0-3,8-9 --cpus 1)
seed xen "${xen[@]}" --format xc --xen-type pv --xen-shuffle
seed xen "${xen[@]}" --format xc --xen-type hvm --xen-invalid-tail 2
seed xen --ram 0-7 --cpus 1 --format xc --xen-dup-pfn --xen-arrays-first
seed xen --ram 0-5 --cpus 2 --format xc --xen-type pv --no-vmcoreinfo
# A Xen host's kdump holds Xen's image (936 pages), too large to fuzz
# (-max_len): xen_host_seed.py keeps its notes and, of machine memory, only
# dom0's p2m tree, the pages of dom0's VMCOREINFO and a few more (about
# 10 pages), so that /dom0/ opens; the corruption matrix damages whole ones.
for extra in "" "--xen-p2m-out-of-range 3"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$mkdump" --ram 0-159,256-1599 --cpus 2 --format xen-kdump $extra "$work/h$n" > /dev/null
	python3 "$(dirname "$0")/xen_host_seed.py" "$work/h$n" "$out/xen/seed-$n"
done
# LiME images: two ranges, one not page-aligned.
python3 "$(dirname "$0")/../bad/lime.py" --seeds "$out/lime"
# Raw images: a ranges= text, NUL, the image (good, with offsets, and near misses).
python3 "$(dirname "$0")/../bad/raw.py" --seeds "$out/raw"
# vmlinux files for the sample dump: its VMCOREINFO symbols and build ID,
# with and without a small .BTF.
python3 "$(dirname "$0")/../bad/vmlinux.py" --seeds "$(dirname "$0")/../../images/sample/sample.vmcoreinfo" \
	"$out/vmlinux"

pair() {        # pair MKDUMP-OPTIONS...: a --split 2 set as one input
	n=$((n + 1))
	"$mkdump" "$@" --split 2 "$work/s$n" > /dev/null
	python3 - "$work/s$n.1" "$work/s$n.2" "$out/split/seed-$n" <<'PY'
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
open(sys.argv[3], "wb").write(struct.pack("<I", len(a)) + a + b)
PY
}
pair "${small[@]}" --excluded --zero-pages
pair "${small[@]}" --flat --codec zstd
pair "${small[@]}" --codec lzo --incomplete

# The remote source: what a server answers (real ones for the dumps it serves,
# and 200, 416, 412, bad Content-Range, chunked, short bodies...).
python3 "$(dirname "$0")/http_seeds.py" "$out/http"

# The flattened index sidecar: fuzz_flatidx.c's dump (the same options as
# its FLATIDX_DUMP_OPTIONS) indexed by `dumpfs index`, each behind a mode
# byte (fuzz_flatidx.c), then damaged copies.
"$mkdump" --ram 0-11,16-23 --page-size 1024 --flat --excluded --zero-pages --codec zlib "$work/fi" > /dev/null
"$mkdump" --ram 0-11,16-23 --page-size 1024 --flat --codec none "$work/other" > /dev/null
if [ -n "$dumpfs" ]; then
	"$dumpfs" index -o "$work/fi.idx" "$work/fi" > /dev/null
	"$dumpfs" index -o "$work/other.idx" "$work/other" > /dev/null
	python3 - "$work/fi.idx" "$work/other.idx" "$out/flatidx" <<'PY'
import struct, sys
good, other, out = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), sys.argv[3]
def put(name, mode, b):
    open("%s/seed-%s" % (out, name), "wb").write(bytes([mode]) + b)
def at(b, off, new):
    return b[:off] + new + b[off + len(new):]
for mode in (0, 1, 3, 7):
    put("good-%d" % mode, mode, good)
put("stale", 0, other)                                  # another dump's
put("stale-forged", 7, other)
put("cut-header", 0, good[:100])
put("cut-piece", 1, good[:-7])
put("flags", 0, at(good, 12, struct.pack("<I", 0)))     # no end marker seen
put("version", 0, at(good, 8, struct.pack("<I", 2)))
put("npieces-huge", 1, at(good, 48, struct.pack("<Q", 1 << 60)))
put("records-0", 1, at(good, 40, struct.pack("<Q", 0)))
put("size-off", 1, at(good, 24, struct.pack("<Q", 1 << 40)))
put("first-record", 1, at(good, 56, struct.pack("<Q", 4096 + 16)))
put("last-record", 1, at(good, 64, struct.pack("<Q", 4096)))
put("piece-src", 1, at(good, 136 + 16, struct.pack("<Q", (1 << 64) - 8)))
put("piece-dst-wrap", 1, at(good, 136, struct.pack("<Q", (1 << 64) - 1)))
put("piece-len-0", 1, at(good, 136 + 8, struct.pack("<Q", 0)))
put("pieces-swapped", 1, good[:136] + good[160:184] + good[136:160] + good[184:])
put("piece-flip", 0, at(good, 150, bytes([good[150] ^ 1])))
PY
fi

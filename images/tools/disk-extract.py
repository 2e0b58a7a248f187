#!/usr/bin/python3
"""disk-extract.py flat|elf DISK OUT

Copy the data the kdump capture kernel wrote at the start of a raw virtio
disk image, cut exactly where it ends:
  flat: makedumpfile flattened stream (4096-byte header, then records of
        big-endian (offset, size) + data) up to and including the end record
        (offset = size = -1)
  elf:  an ELF64 core, up to the end of the last program header's data
The rest of the disk must be zero bytes (reported).
"""
import struct
import sys


def extent_flat(f):
    f.seek(0)
    if not f.read(4096).startswith(b"makedumpfile"):
        sys.exit("no flattened-format signature at offset 0")
    pos, n = 4096, 0
    while True:
        f.seek(pos)
        rec = f.read(16)
        if len(rec) != 16:
            sys.exit("stream truncated after %d records" % n)
        off, size = struct.unpack(">qq", rec)
        if off == -1 and size == -1:
            return pos + 16, "%d records" % n
        if off < 0 or size < 0:
            sys.exit("bad record header at %d" % pos)
        pos += 16 + size
        n += 1


def extent_elf(f):
    f.seek(0)
    eh = f.read(64)
    if eh[:4] != b"\x7fELF" or eh[4] != 2:
        sys.exit("not an ELF64 file")
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    table = f.read(phentsize * phnum)
    end = phoff + len(table)
    for i in range(phnum):
        off, filesz = struct.unpack_from("<Q", table, i * phentsize + 8)[0], \
            struct.unpack_from("<Q", table, i * phentsize + 32)[0]
        end = max(end, off + filesz)
    return end, "%d program headers" % phnum


def main(mode, disk, out):
    with open(disk, "rb") as f:
        end, what = {"flat": extent_flat, "elf": extent_elf}[mode](f)
        f.seek(end)
        dirty = 0
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            if b.strip(b"\0"):
                dirty += 1
        f.seek(0)
        with open(out, "wb") as o:
            left = end
            while left:
                b = f.read(min(left, 1 << 20))
                if not b:
                    sys.exit("disk shorter than the data extent")
                o.write(b)
                left -= len(b)
    print("%s -> %s: %d bytes (%s); MiB blocks with non-zero bytes after the cut: %d"
          % (disk, out, end, what, dirty))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("flat", "elf"):
        sys.exit(__doc__)
    main(*sys.argv[1:])

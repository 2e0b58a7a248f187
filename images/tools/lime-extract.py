#!/usr/bin/python3
"""lime-extract.py DISK LIME_OUT [RAW_DISK RAW_OUT] [PADDED_DISK PADDED_OUT]

Cut LiME's images out of the raw virtio disk images LiME wrote them to (at
offset 0 of the block device).  format=lime: 32-byte range headers (magic
0x4C694D45 LE u32, version u32 = 1, s_addr u64, e_addr u64 inclusive, 8
reserved bytes) each followed by e_addr - s_addr + 1 bytes; its length ends
at the first header with a bad magic (the disk's zeros).  format=raw: the
ranges' data only, so its length is the sum of the ranges'; format=padded:
zeros from physical 0 to each range, so its length is the last e_addr + 1.
Prints the ranges, one "START END BYTES" line each (hex, inclusive end)."""
import struct
import sys

MAGIC = 0x4C694D45


def ranges_of(f):
    out, off = [], 0
    while True:
        f.seek(off)
        h = f.read(32)
        if len(h) < 32:
            break
        magic, ver, s, e = struct.unpack_from("<IIQQ", h)
        if magic != MAGIC:
            break
        if ver != 1 or e < s:
            sys.exit("bad LiME header at %#x: version %d, %#x-%#x" % (off, ver, s, e))
        out.append((s, e))
        off += 32 + e - s + 1
    return out, off


def copy(src, dst, length):
    with open(src, "rb") as i, open(dst, "wb") as o:
        left = length
        while left:
            b = i.read(min(left, 1 << 20))
            if not b:
                sys.exit("%s: short (%d bytes missing)" % (src, left))
            o.write(b)
            left -= len(b)


def main(argv):
    if len(argv) not in (3, 5, 7):
        sys.exit(__doc__)
    with open(argv[1], "rb") as f:
        rs, length = ranges_of(f)
    if not rs:
        sys.exit("%s: no LiME header at offset 0" % argv[1])
    copy(argv[1], argv[2], length)
    for s, e in rs:
        print("%x %x %d" % (s, e, e - s + 1))
    print("lime %d bytes, %d ranges" % (length, len(rs)))
    rest = argv[3:]
    while rest:
        disk, out = rest[0], rest[1]
        rest = rest[2:]
        if "padded" in out:
            n = rs[-1][1] + 1
        else:
            n = sum(e - s + 1 for s, e in rs)
        copy(disk, out, n)
        print("%s %d bytes" % (out, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

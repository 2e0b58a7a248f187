#!/usr/bin/python3
"""phdr-first.py IN OUT

Write a copy of an ELF64 core whose program header table sits right after the
64-byte ELF header, so makedumpfile 1.7.2 can read it.

QEMU 7.2's dump-guest-memory ELF has e_shoff = 64 (one or more section
headers first), e_phoff after them and e_ehsize = 8.  makedumpfile reads
program header i at offset 64 + i*56 regardless of e_phoff and fails with
"Can't get the number of PT_LOAD".  Only the header area (before the first
segment/note data) is rewritten; every p_offset stays valid.  The section
header table is dropped, so PN_XNUM files (e_phnum = 0xffff) are refused.
"""
import shutil
import struct
import sys

EH = struct.Struct("<16sHHIQQQIHHHHHH")
PH = struct.Struct("<IIQQQQQQ")


def main(src, dst):
    with open(src, "rb") as f:
        (ident, etype, mach, ver, entry, phoff, shoff, flags, ehsize,
         phentsize, phnum, shentsize, shnum, shstrndx) = EH.unpack(f.read(64))
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            sys.exit("%s: not a little-endian ELF64 file" % src)
        if phnum == 0xFFFF:
            sys.exit("%s: PN_XNUM (e_phnum=0xffff) not supported" % src)
        if phentsize != PH.size:
            sys.exit("%s: e_phentsize %d" % (src, phentsize))
        f.seek(phoff)
        table = f.read(phnum * phentsize)
    data_start = min(PH.unpack_from(table, i * PH.size)[2] for i in range(phnum))
    if 64 + len(table) > data_start:
        sys.exit("%s: no room for the program headers before offset %d" % (src, data_start))
    print("%s: e_phoff %d -> 64, e_shoff %d -> 0, e_shnum %d -> 0, e_ehsize %d -> 64, e_phnum %d"
          % (src, phoff, shoff, shnum, ehsize, phnum))
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.write(EH.pack(ident, etype, mach, ver, entry, 64, 0, flags, 64,
                        phentsize, phnum, 0, 0, 0))
        f.write(table)
        f.write(bytes(data_start - 64 - len(table)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

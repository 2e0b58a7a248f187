#!/usr/bin/python3
"""sample-facts.py KDUMP SOURCE-ELF OUTDIR [NPAGES]

Extract reference facts from a kdump-compressed file (as written by
makedumpfile) so that a test can check a reader without any external tool:
  OUTDIR/sample.info        key=value facts (cpus, page size, max_pfn, OSRELEASE, ...)
  OUTDIR/sample.pages.tsv   pfn, state, sha256 of the 4096-byte page
  OUTDIR/sample.vmcoreinfo  the VMCOREINFO text libkdumpfile found

Every fact comes from python3-libkdumpfile (machine-physical reads,
KDUMP_MACHPHYSADDR) and is checked twice independently:
  * by the small kdump-compressed reader below (header, 2nd bitmap, page
    descriptors, zlib/none), and
  * against SOURCE-ELF, the ELF that makedumpfile read (own ELF reader).
Any disagreement aborts with exit status 1.
"""
import hashlib
import os
import struct
import sys
import zlib

import kdumpfile

PAGE = 4096


class Kdump:
    """minimal reader of makedumpfile's kdump-compressed format (x86_64)"""

    def __init__(self, path):
        self.f = open(path, "rb")
        h = self.f.read(464)
        if h[:8] != b"KDUMP   ":
            raise ValueError("not a kdump-compressed file")
        self.version, = struct.unpack_from("<i", h, 8)
        self.release = h[12 + 2 * 65:12 + 3 * 65].split(b"\0")[0].decode()
        (self.status, self.block_size, self.sub_hdr_size, self.bitmap_blocks,
         self.max_mapnr) = struct.unpack_from("<iiiII", h, 424)
        self.nr_cpus, = struct.unpack_from("<i", h, 460)
        bs = self.block_size
        self.f.seek(bs)
        sub = self.f.read(self.sub_hdr_size * bs)
        (self.phys_base, self.dump_level, self.split, _s, _e, self.off_vmcoreinfo,
         self.size_vmcoreinfo, self.off_note, self.size_note) = struct.unpack_from("<QiiQQQQQQ", sub, 0)
        if self.version >= 6:
            self.max_mapnr = struct.unpack_from("<Q", sub, 96)[0]
        self.f.seek((1 + self.sub_hdr_size) * bs)
        bitmaps = self.f.read(self.bitmap_blocks * bs)
        half = len(bitmaps) // 2
        self.bitmap2 = bitmaps[half:]
        self.desc_base = (1 + self.sub_hdr_size + self.bitmap_blocks) * bs
        # rank table: number of set bits before each 4096-bit chunk
        self.rank = [0]
        for i in range(0, len(self.bitmap2), 512):
            self.rank.append(self.rank[-1] + bin(int.from_bytes(self.bitmap2[i:i + 512], "little")).count("1"))

    def dumpable(self, pfn):
        return pfn < self.max_mapnr and bool(self.bitmap2[pfn >> 3] >> (pfn & 7) & 1)

    def read_page(self, pfn):
        if not self.dumpable(pfn):
            return None
        chunk = pfn >> 12
        idx = self.rank[chunk]
        start = chunk * 512
        idx += bin(int.from_bytes(self.bitmap2[start:pfn >> 3], "little")).count("1")
        idx += bin(self.bitmap2[pfn >> 3] & ((1 << (pfn & 7)) - 1)).count("1")
        self.f.seek(self.desc_base + idx * 24)
        off, size, flags, _pflags = struct.unpack("<QIIQ", self.f.read(24))
        self.f.seek(off)
        data = self.f.read(size)
        if flags & 1:
            data = zlib.decompress(data)
        elif flags:
            raise ValueError("pfn %#x: compression flags %#x not handled here" % (pfn, flags))
        if len(data) != PAGE:
            raise ValueError("pfn %#x: %d bytes" % (pfn, len(data)))
        return data


def elf_reader(path):
    f = open(path, "rb")
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    tab = f.read(phentsize * phnum)
    loads = []
    for i in range(phnum):
        t, _fl, off, _va, pa, filesz = struct.unpack_from("<IIQQQQ", tab, i * phentsize)
        if t == 1:
            loads.append((pa, filesz, off))

    def read(pfn):
        a = pfn * PAGE
        for pa, sz, off in loads:
            if pa <= a and a + PAGE <= pa + sz:
                f.seek(off + a - pa)
                return f.read(PAGE)
        return None
    return read


def main(kpath, epath, outdir, npages=200):
    k = kdumpfile.kdumpfile(kpath)
    own = Kdump(kpath)
    elf = elf_reader(epath)
    attr = k.attr
    vmci = attr["linux.vmcoreinfo"]
    lines = vmci["lines"]
    raw = vmci["raw"]
    raw = raw if isinstance(raw, str) else bytes(raw).decode()
    max_pfn = int(attr["max_pfn"])
    problems = []

    # present pages: those libkdumpfile can read (its memory.pagemap attribute
    # shows the RAM map, not the dumpable pages), cross-checked with our bitmap
    present = []
    for pfn in range(max_pfn):
        try:
            k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE)
            present.append(pfn)
        except Exception:
            pass
    own_present = [p for p in range(own.max_mapnr) if own.dumpable(p)]
    if present != own_present:
        problems.append("dumpable pages: libkdumpfile reads %d, own reader's bitmap has %d (first difference at pfn %s)"
                        % (len(present), len(own_present),
                           next((hex(a) for a, b in zip(present, own_present) if a != b), "-")))
    pset = set(present)
    absent = [p for p in range(max_pfn) if p not in pset]

    def spread(seq, n):
        if len(seq) <= n:
            return list(seq)
        return sorted(set([seq[int(i * (len(seq) - 1) / (n - 1))] for i in range(n)]))

    chosen = spread(present, npages)
    # a few excluded pages inside RAM, between present ones
    inner_absent = [p for p in absent if present and present[0] < p < present[-1]]
    chosen_absent = spread(inner_absent, 16)

    rows = []
    for pfn in chosen:
        try:
            d = k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE)
        except Exception as e:
            problems.append("libkdumpfile cannot read present pfn %#x: %s" % (pfn, e))
            continue
        d = bytes(d)
        o = own.read_page(pfn)
        e = elf(pfn)
        if o != d:
            problems.append("pfn %#x: own kdump reader differs from libkdumpfile" % pfn)
        if e != d:
            problems.append("pfn %#x: source ELF differs from libkdumpfile" % pfn)
        rows.append((pfn, "present", hashlib.sha256(d).hexdigest()))
    for pfn in chosen_absent:
        try:
            d = bytes(k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE))
            # libkdumpfile 0.5.1 quirk: some excluded pages read back as zeros
            problems.append("pfn %#x: excluded in the bitmap but libkdumpfile returned %d bytes" % (pfn, len(d)))
        except Exception:
            pass
        if own.dumpable(pfn):
            problems.append("pfn %#x: own reader says dumpable" % pfn)
        rows.append((pfn, "absent", "-"))
    rows.sort()

    zero = hashlib.sha256(bytes(PAGE)).hexdigest()
    with open(os.path.join(outdir, "sample.pages.tsv"), "w") as f:
        f.write("# pfn (hex)\tstate\tsha256 of the 4096-byte page at physical address pfn*4096\n")
        f.write("# made by images/tools/sample-facts.py with python3-libkdumpfile (KDUMP_MACHPHYSADDR reads),\n")
        f.write("# cross-checked with an independent kdump reader and with the source ELF.\n")
        f.write("# 'absent' = excluded by makedumpfile -d 31 (not in the dump's 2nd bitmap); reading it must fail.\n")
        f.write("# sha256 of an all-zero page: %s\n" % zero)
        for pfn, st, h in rows:
            f.write("%#x\t%s\t%s\n" % (pfn, st, h))

    ncpu = int(attr["cpu.number"])
    info = [
        ("file", os.path.basename(kpath)),
        ("file_bytes", os.path.getsize(kpath)),
        ("file_sha256", hashlib.sha256(open(kpath, "rb").read()).hexdigest()),
        ("format", attr["file.format"]),
        ("kdump_header_version", own.version),
        ("kdump_block_size", own.block_size),
        ("kdump_sub_hdr_size", own.sub_hdr_size),
        ("kdump_bitmap_blocks", own.bitmap_blocks),
        ("kdump_dump_level", own.dump_level),
        ("kdump_header_nr_cpus", own.nr_cpus),
        ("kdump_header_phys_base", "%#x" % own.phys_base),
        ("nr_cpus", ncpu),
        ("page_size", int(attr["arch.page_size"])),
        ("max_pfn", max_pfn),
        ("max_mapnr", own.max_mapnr),
        ("dumped_pages", len(present)),
        ("first_dumped_pfn", "%#x" % present[0]),
        ("last_dumped_pfn", "%#x" % present[-1]),
        ("uts_release_header", own.release),
        ("OSRELEASE", lines["OSRELEASE"]),
        ("PAGESIZE", lines["PAGESIZE"]),
        ("vmcoreinfo_bytes", len(raw)),
        ("vmcoreinfo_sha256", hashlib.sha256(raw.encode()).hexdigest()),
    ]
    for key in ("NUMBER(phys_base)", "KERNELOFFSET", "SYMBOL(swapper_pg_dir)", "CRASHTIME"):
        if key in lines:
            info.append(("vmcoreinfo:" + key, lines[key]))
    for c in range(ncpu):
        for r in ("rip", "rsp", "cs", "ss"):
            try:
                info.append(("cpu%d.%s" % (c, r), "%#x" % int(attr["cpu.%d.reg.%s" % (c, r)])))
            except KeyError:
                pass
        try:
            info.append(("cpu%d.pid" % c, int(attr["cpu.%d.pid" % c])))
        except KeyError:
            pass
    with open(os.path.join(outdir, "sample.info"), "w") as f:
        f.write("# facts about sample.kdump read with python3-libkdumpfile (and our own header parser for kdump_*)\n")
        for key, v in info:
            f.write("%s=%s\n" % (key, v))
    with open(os.path.join(outdir, "sample.vmcoreinfo"), "w") as f:
        f.write(raw)
    print("pages: %d present of max_pfn %d; %d rows (%d absent); problems: %d"
          % (len(present), max_pfn, len(rows), len(chosen_absent), len(problems)))
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], *(int(x) for x in sys.argv[4:])))

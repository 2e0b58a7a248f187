#!/usr/bin/env python3
"""lime_real.py DUMPFS [CACHE_DIR]

A real LiME image of the QEMU test guest (images/make-lime-dumps.sh: LiME
1.9.1's lime.ko loaded in the guest, format=padded, raw and lime written to
virtio disks, then QMP stop + dump-guest-memory of the same guest right after
the format=lime capture returned).  Without dumpfs:

  - idle.lime's ranges (from its own 32-byte headers) are printed; they are
    the guest's "System RAM" of /proc/iomem exactly (the DFS-IOMEM lines
    of its console), each inside the RAM of QEMU's ELF (its PT_LOADs); what
    the ELF has below 4 GiB and LiME has not is reported with the guest's
    /proc/iomem entries there (DFS-IOMAP lines): none may be System RAM,
    and above 1 MiB /proc/iomem must name all of it (reserved pages, the
    VGA BAR, the BIOS ROM);
  - idle.raw is the ranges' data, idle.padded zeros from 0 between them (the
    lengths; the zeros of the padding);
  - pages that do not change between the two captures are equal in both
    files: the page of linux_banner (the "Linux version 6.1" in the
    kernel's read-only data; the other copies, in the kernel log's pages,
    are only reported), the kernel text (_stext to _etext) and read-only
    data (__start_rodata to __end_rodata) as the guest's /proc/kallsyms
    gives them (DFS-KSYM lines; _stext checked against VMCOREINFO's), moved
    to physical by VMCOREINFO's NUMBER(phys_base), also in idle.raw and
    idle.padded, and the pages of /tmp/marker.txt (4096 lines
    "DUMPFS-MARKER line N 0123456789abcdef" in the initramfs's page cache),
    every one of which must be found whole in the ELF; the other pages
    with marker lines (pipe buffers, freed copies) are only reported.

Then, only when `dumpfs info idle.lime` exits 0 (a dumpfs with the LiME
reader), check_dumpfs_mount() of idle.lime, of idle.raw with -o ranges= (the
ranges of idle.lime's headers) and of idle.padded@0 (the raw reader): /mem
against the ELF for those unchanged pages and against the image's own bytes
(read here) in every whole page of its ranges, and /vmcoreinfo (found in
memory) against the ELF's note.

CACHE_DIR defaults to the newest /var/cache/dumpfs/lime-*/ with a COMPLETE
file; exits 77 (skip) when there is none."""
import os
import re
import struct
import subprocess
import sys

from common import Elf, Fail, complete_cache, mounted

PAGE = 4096
LIME_MAGIC = 0x4C694D45
FOUR_GIB = 1 << 32


def find_cache(arg):
    return complete_cache(arg, "lime-*")


def lime_ranges(path):
    """[(start, end inclusive, file offset of the data)] of a format=lime file."""
    out, off, size = [], 0, os.path.getsize(path)
    with open(path, "rb") as f:
        while off < size:
            f.seek(off)
            h = f.read(32)
            if len(h) < 32:
                raise Fail("%s: %d bytes after the last range" % (path, len(h)))
            magic, ver, s, e = struct.unpack_from("<IIQQ", h)
            if magic != LIME_MAGIC or ver != 1 or e < s:
                raise Fail("%s: bad header at %#x: magic %#x version %d %#x-%#x" % (path, off, magic, ver, s, e))
            out.append((s, e, off + 32))
            off += 32 + e - s + 1
    if off != size:
        raise Fail("%s: last range ends at %#x, the file at %#x" % (path, off, size))
    return out


class Mem:
    """Physical reads of one file: [(paddr, file offset, length)]."""

    def __init__(self, path, runs):
        self.f = open(path, "rb")
        self.runs = sorted(runs)

    def page(self, pfn):
        a = pfn * PAGE
        for p, o, n in self.runs:
            if p <= a and a + PAGE <= p + n:
                self.f.seek(o + a - p)
                return self.f.read(PAGE)
        return None


def elf_mem(elf):
    return Mem(elf.path, [(p, o, fs) for p, o, fs, _ in elf.loads])


def vmcoreinfo(elf):
    for name, _, desc in elf.notes:
        if name == b"VMCOREINFO":
            return dict(l.split("=", 1) for l in desc.decode(errors="replace").splitlines() if "=" in l)
    raise Fail("%s: no VMCOREINFO note" % elf.path)


def merge(rs):
    out = []
    for s, e in sorted(rs):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def subtract(a, b):
    """a - b, both [(start, end exclusive)]."""
    out = []
    for s, e in a:
        cur = s
        for bs, be in merge(b):
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def find_all(mem, runs, needle):
    """Physical addresses of NEEDLE in the runs of MEM."""
    hits = []
    for p, o, n in runs:
        mem.f.seek(o)
        done, tail = 0, b""
        while done < n:
            chunk = mem.f.read(min(n - done, 16 << 20))
            buf = tail + chunk
            base = p + done - len(tail)
            for m in re.finditer(re.escape(needle), buf):
                hits.append(base + m.start())
            tail = buf[-(len(needle) - 1):]
            done += len(chunk)
    return sorted(set(hits))


def compare_pages(name, pfns, a, b):
    same, differ, missing = [], [], []
    for pfn in pfns:
        x, y = a.page(pfn), b.page(pfn)
        if x is None or y is None:
            missing.append(pfn)
        elif x == y:
            same.append(pfn)
        else:
            differ.append(pfn)
    print("%s: %d pages, %d equal, %d differ, %d not in both%s" % (
        name, len(pfns), len(same), len(differ), len(missing),
        (" (differ: %s)" % " ".join("%#x" % (p * PAGE) for p in differ[:16])) if differ else ""))
    return same, differ, missing


def check_dumpfs_mount(dumpfs, image, elf, pfns):
    """Mount IMAGE (label, files, -o options, its last range's end, its own
    bytes as a Mem) with dumpfs: /mem's size must be that end; /mem is the
    image's own bytes in every range, and the ELF's in the unchanged pages
    PFNS; /vmcoreinfo, found in memory, is the ELF's note."""
    label, files, opts, end, own, rs = image
    emem = elf_mem(elf)
    with mounted(dumpfs, files, opts) as mnt:
        size = os.path.getsize(os.path.join(mnt, "mem"))
        if size != (end + PAGE - 1) // PAGE * PAGE and size != end:
            raise Fail("/mem of %s is %d bytes, its last range ends at %#x" % (label, size, end))
        bad, wrong = [], []
        with open(os.path.join(mnt, "mem"), "rb") as f:
            for pfn in pfns:
                f.seek(pfn * PAGE)
                if f.read(PAGE) != emem.page(pfn):
                    bad.append(pfn)
            for s, e, _ in rs:
                for pfn in range((s + PAGE - 1) // PAGE, (e + 1) // PAGE):
                    f.seek(pfn * PAGE)
                    if f.read(PAGE) != own.page(pfn):
                        wrong.append(pfn)
        with open(os.path.join(mnt, "vmcoreinfo")) as f:
            found = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
    print("dumpfs /mem of %s: %d unchanged pages, %d differ from the ELF; every whole page of its "
          "ranges read, %d differ from the file" % (label, len(pfns), len(bad), len(wrong)))
    if bad:
        raise Fail("%s: /mem differs from the ELF at %s" % (label, " ".join("%#x" % (p * PAGE) for p in bad[:16])))
    if wrong:
        raise Fail("%s: /mem differs from the file at %s" % (label, " ".join("%#x" % (p * PAGE) for p in wrong[:16])))
    if found != vmcoreinfo(elf):
        raise Fail("%s: /vmcoreinfo (%d keys) is not the ELF's note" % (label, len(found)))
    print("dumpfs /vmcoreinfo of %s: the ELF's VMCOREINFO, %d keys" % (label, len(found)))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    dumpfs = argv[1]
    cache = find_cache(argv[2] if len(argv) > 2 else None)
    if not cache:
        print("SKIP: no LiME corpus (run images/make-lime-dumps.sh as root)")
        return 77
    lime = os.path.join(cache, "lime", "idle.lime")
    elf = Elf(os.path.join(cache, "qemu", "idle.elf"))
    print("corpus %s" % cache)

    # --- ranges ---
    rs = lime_ranges(lime)
    for s, e, o in rs:
        print("lime range %#011x-%#011x  %10d bytes  data at file offset %#x" % (s, e, e - s + 1, o))
    print("idle.lime: %d bytes, %d ranges, %d bytes of memory" % (
        os.path.getsize(lime), len(rs), sum(e - s + 1 for s, e, _ in rs)))
    for p, o, fs, ms in elf.loads:
        print("elf PT_LOAD paddr %#011x-%#011x  %10d bytes" % (p, p + fs - 1, fs))
    serial = os.path.join(cache, "logs", "idle.serial.log")
    iomem = [tuple(int(x, 16) for x in l.split()[1].split("-"))
             for l in open(serial, errors="replace") if l.startswith("DFS-IOMEM ")]
    if [(s, e) for s, e, _ in rs] != iomem:
        raise Fail("LiME's ranges are not the guest's System RAM %s" % " ".join("%x-%x" % r for r in iomem))
    print("the ranges are the guest's /proc/iomem System RAM")
    eram = merge([(p, p + fs) for p, _, fs, _ in elf.loads])
    lram = [(s, e + 1) for s, e, _ in rs]
    outside = subtract(lram, eram)
    if outside:
        raise Fail("LiME ranges outside the ELF's RAM: %s" % " ".join("%x-%x" % r for r in outside))
    low = [(s, min(e, FOUR_GIB)) for s, e in eram if s < FOUR_GIB]
    # what the ELF has (QEMU's RAM blocks: guest RAM, but also VGA memory
    # and the BIOS ROM) and LiME has not: each named by the guest's /proc/iomem
    # as something else than System RAM (or, below 1 MiB, named by nothing:
    # page 0 and the legacy holes the kernel keeps out of its resource tree)
    iomap = []
    for l in open(serial, errors="replace"):
        m = re.match(r"DFS-IOMAP (\s*)([0-9a-f]+)-([0-9a-f]+) : (.*)", l.rstrip("\n"))
        if m:
            iomap.append((len(m.group(1)) // 2, int(m.group(2), 16), int(m.group(3), 16) + 1, m.group(4)))
    if not iomap:
        raise Fail("no DFS-IOMAP lines (the guest's /proc/iomem) in %s" % serial)
    gaps = subtract(low, lram)
    for s, e in gaps:
        names = ["%s%x-%x %s" % ("  " * d, a, b - 1, n) for d, a, b, n in iomap if a < e and b > s]
        print("elf RAM not in LiME: %#x-%#x (%d bytes); /proc/iomem: %s" % (
            s, e - 1, e - s, "; ".join(n.strip() for n in names) or "nothing"))
        if any(n.endswith(" System RAM") for n in names):
            raise Fail("RAM %#x-%#x of the ELF is System RAM but missing from the LiME image" % (s, e))
        covered = subtract([(s, e)], [(a, b) for d, a, b, n in iomap if d == 0])
        if s >= 1 << 20 and covered:
            raise Fail("RAM %#x-%#x of the ELF: %s named by no /proc/iomem entry" % (
                s, e, " ".join("%x-%x" % (a, b - 1) for a, b in covered)))
    # --- raw and padded ---
    total = sum(e - s + 1 for s, e, _ in rs)
    raw, padded = os.path.join(cache, "lime", "idle.raw"), os.path.join(cache, "lime", "idle.padded")
    if os.path.getsize(raw) != total:
        raise Fail("idle.raw: %d bytes, the ranges %d" % (os.path.getsize(raw), total))
    if os.path.getsize(padded) != rs[-1][1] + 1:
        raise Fail("idle.padded: %d bytes, the last range ends at %#x" % (os.path.getsize(padded), rs[-1][1]))
    with open(padded, "rb") as f:
        prev = 0
        for s, e, _ in rs:
            f.seek(prev)
            if f.read(s - prev).strip(b"\0"):
                raise Fail("idle.padded: not zeros between %#x and %#x" % (prev, s))
            prev = e + 1
    runs, off = [], 0
    for s, e, _ in rs:
        runs.append((s, off, e - s + 1))
        off += e - s + 1
    rawm, padm = Mem(raw, runs), Mem(padded, [(0, 0, rs[-1][1] + 1)])
    limem, emem = Mem(lime, [(s, o, e - s + 1) for s, e, o in rs]), elf_mem(elf)
    print("idle.raw %d bytes, idle.padded %d bytes: lengths and padding right" % (total, rs[-1][1] + 1))

    # --- unchanged pages ---
    banner = find_all(emem, emem.runs, b"Linux version 6.1")
    if not banner:
        raise Fail("no \"Linux version 6.1\" in the ELF")
    print("\"Linux version 6.1\" in the ELF at %s" % " ".join("%#x" % a for a in banner))
    vi = vmcoreinfo(elf)
    stext = int(vi["SYMBOL(_stext)"], 16)
    phys_base = int(vi.get("NUMBER(phys_base)", "0"), 0)
    phys = lambda v: v - 0xffffffff80000000 + phys_base
    # the guest's /proc/kallsyms: the text and read-only data (the gaps
    # between them are freed at boot and reused)
    ksym = {l.split()[3]: int(l.split()[1], 16) for l in open(serial, errors="replace")
            if l.startswith("DFS-KSYM ") and len(l.split()) >= 4}
    for n in ("_stext", "_etext", "__start_rodata", "__end_rodata"):
        if n not in ksym:
            raise Fail("no DFS-KSYM line for %s in %s" % (n, serial))
    if ksym["_stext"] != stext:
        raise Fail("_stext: VMCOREINFO %#x, the guest's /proc/kallsyms %#x" % (stext, ksym["_stext"]))
    # linux_banner (.rodata): the first "Linux version" in the read-only
    # data; the others are copies in the kernel log and the like, which change
    ro = [a for a in banner if phys(ksym["__start_rodata"]) <= a < phys(ksym["__end_rodata"])]
    if not ro:
        raise Fail("no \"Linux version 6.1\" in the kernel's read-only data")
    bpfns = [ro[0] // PAGE]
    same, differ, missing = compare_pages("linux_banner's page %#x (lime vs elf)" % (ro[0] // PAGE * PAGE), bpfns, limem, emem)
    if differ or missing:
        raise Fail("linux_banner's page differs or is missing")
    compare_pages("the other \"Linux version\" pages, for information (lime vs elf)",
                  sorted({a // PAGE for a in banner} - set(bpfns)), limem, emem)
    unchanged = list(bpfns)
    for name, lo, hi in (("kernel text", "_stext", "_etext"), ("kernel rodata", "__start_rodata", "__end_rodata")):
        pfns = list(range(phys(ksym[lo]) // PAGE, (phys(ksym[hi]) + PAGE - 1) // PAGE))
        print("%s: %#x-%#x, physical %#x-%#x (%d pages)" % (name, ksym[lo], ksym[hi], phys(ksym[lo]), phys(ksym[hi]), len(pfns)))
        for mname, m in (("lime", limem), ("raw", rawm), ("padded", padm)):
            same, differ, missing = compare_pages("%s (%s vs elf)" % (name, mname), pfns, m, emem)
            if differ or missing:
                raise Fail("idle.%s: %s: %d pages differ, %d missing" % (mname, name, len(differ), len(missing)))
        unchanged += pfns
    # /tmp/marker.txt (tools/guest-init.sh writes it; rootfs keeps it in the
    # page cache): its pages, found whole in the ELF, are LiME's too; the
    # other pages holding marker lines (pipe buffers, freed copies) may change
    text = b"".join(b"DUMPFS-MARKER line %d 0123456789abcdef\n" % i for i in range(4096))
    chunks = {text[k:k + PAGE].ljust(PAGE, b"\0"): k // PAGE for k in range(0, len(text), PAGE)}
    mpfns = sorted({a // PAGE for a in find_all(emem, emem.runs, b"DUMPFS-MARKER line ")})
    filepfns, seen = [], set()
    for pfn in mpfns:
        k = chunks.get(emem.page(pfn))
        if k is not None:
            filepfns.append(pfn)
            seen.add(k)
    print("/tmp/marker.txt: %d bytes, %d pages; the ELF holds %d of them in %d pages" % (
        len(text), len(chunks), len(seen), len(filepfns)))
    if len(seen) != len(chunks):
        raise Fail("/tmp/marker.txt: pages %s not found in the ELF" % sorted(set(range(len(chunks))) - seen))
    same, differ, missing = compare_pages("/tmp/marker.txt's pages (lime vs elf)", filepfns, limem, emem)
    if differ or missing:
        raise Fail("/tmp/marker.txt's pages: %d differ, %d missing" % (len(differ), len(missing)))
    compare_pages("the other pages with marker lines, for information (lime vs elf)",
                  sorted(set(mpfns) - set(filepfns)), limem, emem)
    unchanged += same

    # --- dumpfs (only with a LiME reader) ---
    r = subprocess.run([dumpfs, "info", lime], capture_output=True, text=True)
    if r.returncode != 0:
        print("dumpfs info %s: exit %d (%s): no LiME reader, /mem not checked" % (
            lime, r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""))
    else:
        # format=raw with the ranges format=lime's headers give, format=padded
        # from physical 0: the same memory, read by the raw reader
        ranges = "ranges=" + ",".join("%#x-%#x" % (s, e) for s, e, _ in rs)
        end = rs[-1][1] + 1
        for image in (("idle.lime", [lime], (), end, limem, rs),
                      ("idle.raw -o " + ranges, [raw], (ranges,), end, rawm, rs),
                      ("idle.padded@0", [padded + "@0"], (), end, padm, rs)):
            check_dumpfs_mount(dumpfs, image, elf, sorted(set(unchanged)))
    print("PASS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)

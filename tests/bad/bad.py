#!/usr/bin/env python3
"""bad.py PROBE MKDUMP DUMPFS CASE

One bad-input test.  Each case writes a good dump with our generator,
damages it in one known way, and runs tests/bad/probe (the public API: open,
read every page of /mem, read every file of the tree) and `dumpfs info`.
Whatever the damage, the open must either fail with one line naming the file
and an offset, or succeed with every page reading right or failing with EIO;
each case also says which of the two it expects and how many EIO pages."""
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

PROBE, MKDUMP, DUMPFS, CASE = sys.argv[1:5]
WORK = tempfile.mkdtemp(prefix="dumpfs-bad.")
PAGE = 4096
# Peak RSS allowed to a probe of a damaged dump.  It is far above what a
# probe needs (a few MB; more under AddressSanitizer) and far below what
# believing a bogus size would cost (a bitmap of 2^40 pages is 128 GiB).
RSS_LIMIT_KB = 256 * 1024


class Fail(Exception):
    pass


def mkdump(*args, name="d"):
    out = os.path.join(WORK, name)
    subprocess.run([MKDUMP, *args, out], check=True, stdout=subprocess.DEVNULL)
    return out


def info(out):
    return dict(l.rstrip("\n").split("=", 1) for l in open(out + ".info") if "=" in l)


def probe(expected_mem, *files, timeout=60):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run([PROBE, expected_mem, *files], capture_output=True, text=True,
                       timeout=timeout)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if rss > max(before, RSS_LIMIT_KB):
        raise Fail("probe used %d KiB of memory" % rss)
    out = r.stdout.strip()
    if r.returncode == 3 and out.startswith("error: "):
        msg = out[7:]
        if not any(f in msg for f in files) or "offset" not in msg:
            raise Fail("error does not name the file and an offset: %s" % msg)
        return {"error": msg}
    if r.returncode != 0:
        raise Fail("probe exit %d: %s %s" % (r.returncode, out, r.stderr.strip()))
    w = out.split()
    res = {w[i]: int(w[i + 1]) for i in range(0, len(w), 2)}
    if res["wrong"]:
        raise Fail("%d pages read without an error but wrong: %s" % (res["wrong"], out))
    return res


def dumpfs_info(*files):
    r = subprocess.run([DUMPFS, "info", *files], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and len(r.stderr.strip().splitlines()) != 1:
        raise Fail("dumpfs info: not a one-line error: %r" % r.stderr)
    return r


def copy(src, name):
    dst = os.path.join(WORK, name)
    shutil.copyfile(src, dst)
    return dst


def patch(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def truncated(src, size, name="t"):
    dst = copy(src, name)
    os.truncate(dst, size)
    return dst


def expect_error(res, what):
    if "error" not in res:
        raise Fail("%s: opened, want an error: %s" % (what, res))
    print("ok: %s: %s" % (what, res["error"]))


def expect_served(res, what, eio=None):
    if "error" in res:
        raise Fail("%s: %s" % (what, res["error"]))
    if eio is not None and res["eio"] != eio:
        raise Fail("%s: %d EIO pages, want %d" % (what, res["eio"], eio))
    print("ok: %s: served %d pages, %d EIO" % (what, res["served"], res["eio"]))


def expect_census(res, files, what, cut_short):
    """/header (and /header.json) name a file cut short, and count exactly
    the dumped pages that read as EIO."""
    r = dumpfs_info(*files)
    j = subprocess.run([DUMPFS, "info", "--json", *files], capture_output=True, text=True,
                       timeout=60)
    if r.returncode or j.returncode:
        raise Fail("%s: dumpfs info failed: %s %s" % (what, r.stderr, j.stderr))
    head = dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l)
    facts = json.loads(j.stdout)
    unreadable = int(head["unreadable_pages"])
    if unreadable != res["eio"] or facts["pages"]["unreadable"] != res["eio"]:
        raise Fail("%s: header says %s (json %s) unreadable pages, %d read as EIO"
                   % (what, unreadable, facts["pages"]["unreadable"], res["eio"]))
    named = [l for l in r.stdout.splitlines() if l.startswith("truncated: ") and l != "truncated: no"]
    if cut_short and res["eio"] and not named:
        raise Fail("%s: %d pages lost, /header does not say the file is truncated" % (what, res["eio"]))
    if not cut_short and named:
        raise Fail("%s: whole file said to be truncated: %s" % (what, named))
    for line in named:
        if not any(f in line for f in files) or not ("bytes missing" in line or "cut short" in line):
            raise Fail("%s: truncation line names no file or size: %s" % (what, line))
    if bool(named) != any(f["truncated"] for f in facts["files"]):
        raise Fail("%s: /header and /header.json disagree on truncation" % what)
    print("ok: %s: header counts %d unreadable pages%s" % (what, unreadable,
                                                          ", names the cut" if named else ""))


# ---- kdump layout (64-bit little-endian, as our generator writes it) ----

class Kdump:
    def __init__(self, path):
        b = open(path, "rb").read(PAGE * 2)
        self.block = struct.unpack_from("<i", b, 428)[0]
        self.sub_hdr_size, self.bitmap_blocks, self.max_mapnr = struct.unpack_from("<iII", b, 432)
        self.bitmaps = (1 + self.sub_hdr_size) * self.block
        self.pd = self.bitmaps + self.bitmap_blocks * self.block
        bm = open(path, "rb").read()[self.bitmaps:self.pd]
        half = len(bm) // 2
        self.dumped = [i for i in range(half * 8) if bm[half + i // 8] >> (i % 8) & 1]
        self.data = self.pd + 24 * len(self.dumped)

    def desc(self, path, i):
        with open(path, "rb") as f:
            f.seek(self.pd + 24 * i)
            return struct.unpack("<QIIQ", f.read(24))

    def unique_desc(self, path):
        """Index of a descriptor whose data no other descriptor shares."""
        offs = [self.desc(path, i)[0] for i in range(len(self.dumped))]
        for i in range(len(offs) // 2, len(offs)):
            if offs.count(offs[i]) == 1:
                return i
        raise Fail("no unshared descriptor")


def kdump_boundaries(path):
    k = Kdump(path)
    size = os.path.getsize(path)
    cuts = [0, 7, 8, 300, 463, k.block, k.block + 40, k.bitmaps, k.bitmaps + 1,
            (k.bitmaps + k.pd) // 2, k.pd, k.pd + 12, k.pd + 24 * (len(k.dumped) // 2),
            k.data, k.data + 1, (k.data + size) // 2, size - 1]
    return sorted(set(c for c in cuts if c < size))


def case_not_a_dump():
    junk = os.path.join(WORK, "junk")
    with open(junk, "wb") as f:
        f.write(os.urandom(1 << 20))
    empty = os.path.join(WORK, "empty")
    open(empty, "wb").close()
    text = copy(__file__, "text")
    prog = copy(sys.executable if os.path.exists(sys.executable) else "/bin/true", "prog")
    mem = os.path.join(WORK, "none.mem")
    open(mem, "wb").close()
    for f in (junk, empty, text, prog):
        expect_error(probe(mem, f), os.path.basename(f))
    r = dumpfs_info(os.path.join(WORK, "missing"))
    if r.returncode == 0 or "missing" not in r.stderr:
        raise Fail("a missing file: %r" % r.stderr)
    print("ok: missing file: %s" % r.stderr.strip())


def case_kdump_truncated():
    d = mkdump("--codec", "zlib", "--excluded", "--zero-pages")
    for cut in kdump_boundaries(d):
        t = truncated(d, cut)
        res = probe(d + ".mem", t)
        dumpfs_info(t)
        what = "kdump cut at %d" % cut
        if "error" in res:
            expect_error(res, what)
        else:
            expect_served(res, what)
            expect_census(res, [t], what, cut < os.path.getsize(d))


def case_elf_truncated():
    for args in (["--format", "elf"], ["--format", "elf", "--layout", "32", "--arch", "i386"]):
        d = mkdump(*args, "--qemu-notes")
        b = open(d, "rb").read(64)
        c64 = b[4] == 2
        phoff = struct.unpack_from("<Q" if c64 else "<I", b, 32 if c64 else 28)[0]
        phent, phnum = struct.unpack_from("<HH", b, 54 if c64 else 42)
        size = os.path.getsize(d)
        ph_end = phoff + phent * phnum
        cuts = [0, 4, 16, 52, 64, phoff + phent // 2, ph_end - 1, ph_end, ph_end + 30,
                (ph_end + size) // 2, size - 1]
        for cut in sorted(set(c for c in cuts if c < size)):
            t = truncated(d, cut)
            res = probe(d + ".mem", t)
            what = "ELF%d cut at %d" % (64 if c64 else 32, cut)
            if "error" in res:
                expect_error(res, what)
            else:
                expect_served(res, what)
                expect_census(res, [t], what, True)


def case_flat_truncated():
    d = mkdump("--flat", "--codec", "lzo", "--excluded")
    size = os.path.getsize(d)
    # walk the records to find their boundaries
    cuts, pos = [0, 100, 4095, 4096, 4100], 4096
    with open(d, "rb") as f:
        while pos + 16 <= size:
            f.seek(pos)
            off, n = struct.unpack(">qq", f.read(16))
            if off < 0:
                break
            cuts += [pos + 8, pos + 16, pos + 16 + n // 2]
            pos += 16 + n
    cuts += [size - 16, size - 1]
    for cut in sorted(set(c for c in cuts[::max(1, len(cuts) // 40)] + cuts[-4:] if c < size)):
        t = truncated(d, cut)
        res = probe(d + ".mem", t)
        what = "flattened cut at %d" % cut
        if "error" in res:
            expect_error(res, what)
        else:
            expect_served(res, what)
            expect_census(res, [t], what, True)
    # without only the end marker: everything is there
    expect_served(probe(d + ".mem", truncated(d, size - 16)), "no end marker", eio=0)


def case_descriptor_past_eof():
    d = mkdump("--codec", "zlib", "--zero-pages")
    k = Kdump(d)
    i = k.unique_desc(d)
    off, size, flags, _ = k.desc(d, i)
    patch(d, k.pd + 24 * i, struct.pack("<Q", os.path.getsize(d) + 8192))
    expect_served(probe(d + ".mem", d), "descriptor %d offset past EOF" % i, eio=1)


def case_descriptor_size():
    d = mkdump("--codec", "snappy", "--zero-pages")
    k = Kdump(d)
    i = k.unique_desc(d)
    patch(d, k.pd + 24 * i + 8, struct.pack("<I", PAGE + 1))
    expect_served(probe(d + ".mem", d), "descriptor size above the page size", eio=1)
    patch(d, k.pd + 24 * i + 8, struct.pack("<I", 0))
    expect_served(probe(d + ".mem", d), "descriptor size 0", eio=1)


def case_page_fails_to_decompress():
    for codec in ("zlib", "lzo", "snappy", "zstd"):
        d = mkdump("--codec", codec, name="d" + codec)
        k = Kdump(d)
        i = k.unique_desc(d)
        off, size, flags, _ = k.desc(d, i)
        if flags == 0:
            raise Fail("descriptor %d is stored raw" % i)
        patch(d, off, bytes(b ^ 0x5A for b in open(d, "rb").read()[off:off + size]))
        res = probe(d + ".mem", d)
        expect_served(res, "%s page %d damaged" % (codec, i), eio=1)


def case_huge_bitmap():
    d = mkdump("--codec", "zlib")
    k = Kdump(d)
    os.truncate(d, min(os.path.getsize(d), 1 << 20))
    # a bitmap claiming 2^40 pages: bitmap_blocks and max_mapnr(_64) agree
    t = copy(d, "huge")
    blocks = (1 << 40) // 8 // k.block * 2
    patch(t, 436, struct.pack("<II", blocks & 0xFFFFFFFF, 0xFFFFFFFF))
    patch(t, k.block + 96, struct.pack("<Q", 1 << 40))
    expect_error(probe(d + ".mem", t), "bitmap of 2^40 pages in a 1 MB file")
    # max_mapnr alone claims 2^40 pages: more than the bitmap holds
    t = copy(d, "huge2")
    patch(t, k.block + 96, struct.pack("<Q", 1 << 40))
    res = probe(d + ".mem", t)
    expect_error(res, "max_mapnr 2^40") if "error" in res else expect_served(res, "max_mapnr 2^40")


def elf64_phdrs(path):
    b = open(path, "rb").read(64)
    phoff, = struct.unpack_from("<Q", b, 32)
    phent, phnum = struct.unpack_from("<HH", b, 54)
    return phoff, phent, phnum


def case_elf_bad_loads():
    d = mkdump("--format", "elf", "--ram", "0-1023,2048-3071")
    phoff, phent, phnum = elf64_phdrs(d)
    loads = []
    with open(d, "rb") as f:
        for i in range(phnum):
            f.seek(phoff + i * phent)
            typ, = struct.unpack("<I", f.read(4))
            if typ == 1:
                loads.append(phoff + i * phent)
    # the second PT_LOAD moved onto the first: the first one wins
    t = copy(d, "moved")
    patch(t, loads[1] + 24, struct.pack("<Q", 512 * PAGE))  # p_paddr
    mem = open(d + ".mem", "rb").read()
    with open(t + ".mem", "wb") as f:   # 0-1023 from the first, then the rest of the second
        f.write(mem[:1024 * PAGE] + mem[2560 * PAGE:3072 * PAGE])
    res = probe(t + ".mem", t)
    if "error" in res or res["served"] == 0:
        raise Fail("overlapping PT_LOADs: %s" % res)
    hdr = dumpfs_info(t).stdout
    if "overlapping_loads: 1 " not in hdr:
        raise Fail("/header does not mention the overlap")
    print("ok: overlapping PT_LOADs: %s" % [l for l in hdr.splitlines() if "overlap" in l][0])
    # a PT_LOAD whose data is past the end of the file
    t = copy(d, "outside")
    patch(t, loads[1] + 8, struct.pack("<Q", 1 << 50))  # p_offset
    res = probe(d + ".mem", t)
    expect_error(res, "PT_LOAD past EOF") if "error" in res else \
        expect_served(res, "PT_LOAD past EOF", eio=1024)
    # p_paddr + p_memsz wraps around 2^64
    t = copy(d, "wrap")
    patch(t, loads[1] + 24, struct.pack("<Q", (1 << 64) - PAGE))
    res = probe(d + ".mem", t)
    expect_error(res, "PT_LOAD wraps") if "error" in res else expect_served(res, "PT_LOAD wraps")


def case_notes_past_segment():
    d = mkdump("--format", "elf", "--qemu-notes")
    phoff, phent, phnum = elf64_phdrs(d)
    with open(d, "rb") as f:
        f.seek(phoff)
        typ, _, off, _, _, filesz = struct.unpack("<IIQQQQ", f.read(40))
    if typ != 4:
        raise Fail("program header 0 is not PT_NOTE")
    for what, field, value in (("descsz past the segment", 4, filesz),
                               ("descsz 4 GiB", 4, 0xFFFFFFFF),
                               ("namesz 4 GiB", 0, 0xFFFFFFFF)):
        t = copy(d, "notes")
        patch(t, off + field, struct.pack("<I", value))
        res = probe(d + ".mem", t)
        expect_error(res, what) if "error" in res else expect_served(res, what, eio=0)
    # PT_NOTE itself claims 4 GiB
    t = copy(d, "notes")
    patch(t, phoff + 32, struct.pack("<Q", 1 << 32))
    res = probe(d + ".mem", t)
    expect_error(res, "PT_NOTE of 4 GiB") if "error" in res else \
        expect_served(res, "PT_NOTE of 4 GiB", eio=0)


def case_kdump_notes_bad():
    d = mkdump("--codec", "zlib")
    k = Kdump(d)
    for what, field, value in (("offset_note past EOF", 48, 1 << 40),
                               ("size_note 4 GiB", 56, 1 << 32),
                               ("offset_vmcoreinfo past EOF", 32, 1 << 40)):
        t = copy(d, "kn")
        patch(t, k.block + field, struct.pack("<Q", value))
        res = probe(d + ".mem", t)
        expect_error(res, what) if "error" in res else expect_served(res, what, eio=0)


def case_split_mismatch():
    a = mkdump("--split", "2", "--seed", "1", name="a")
    b = mkdump("--split", "2", "--seed", "2", "--ram", "0-4095", name="b")
    expect_error(probe(a + ".mem", a + ".1", b + ".2"), "split parts of two dumps")
    expect_error(probe(a + ".mem", a + ".1", a + ".1"), "one split part twice")
    expect_error(probe(a + ".mem", a + ".2"), "one split part alone")


def case_xen_dom0_truncated():
    """A Xen host's kdump cut short inside machine memory: dom0's pages
    past the cut read as EIO, and so do those whose p2m leaf lies past it
    (below the last pfn a leaf that remains maps): what they map is not
    known.  Before, such pfns read as holes, zeros without an error."""
    d = mkdump("--format", "xen-kdump", "--ram", "0-159,256-4095")
    i = info(d)
    mem = open(d + ".mem", "rb").read()
    frame = lambda m: struct.unpack_from("<512Q", mem, m * PAGE)
    fll = int(i["xen_p2m_mfn"], 0)
    nleaves = int(i["dom0_p2m_leaves"])
    mid = frame(fll)[0]                         # one middle page holds the leaves
    leaves = frame(mid)[:nleaves]
    phoff, phent, phnum = elf64_phdrs(d)
    b = open(d, "rb").read(phoff + phent * phnum)
    loads = [struct.unpack_from("<IIQQQQ", b, phoff + phent * k) for k in range(phnum)]
    lost_below_end = 0
    # (a cut before the frame list list or the middle page leaves no /dom0/)
    for leaf in sorted(l for l in leaves if l > max(fll, mid)):
        # the file offset of the leaf's page: the cut loses it and all after
        at = next(off + leaf * PAGE - paddr for typ, _, off, _, paddr, filesz in loads
                  if typ == 1 and paddr <= leaf * PAGE < paddr + filesz)
        t = truncated(d, at)
        what = "Xen host's kdump cut at dom0's p2m leaf at machine frame %d" % leaf
        r = subprocess.run([PROBE, "--list", "--dom0", d + ".dom0.mem", d + ".mem", t],
                           capture_output=True, text=True, timeout=120)
        lines = r.stdout.splitlines()
        g = next((l for l in lines if l.startswith("dom0 ")), "")
        if r.returncode or not g.startswith("dom0 served") or " wrong 0 " not in lines[0]:
            raise Fail("%s: probe exit %d: %s" % (what, r.returncode, r.stdout[:500]))
        w = g.split()
        res = {w[k]: int(w[k + 1]) for k in range(1, len(w) - 1, 2)}
        if res["wrong"]:
            wrong = next(l for l in lines if l.startswith("dom0-wrong-pfns:"))
            raise Fail("%s: %d pages of /dom0/mem read wrong without an error:%s" %
                       (what, res["wrong"], wrong[16:200]))
        h = subprocess.run([DUMPFS, "cat", t, "/dom0/header"], capture_output=True, text=True,
                           timeout=60).stdout
        p2m = [l for l in h.splitlines() if l.startswith("xen_dom0_p2m:")]
        if not p2m or "under p2m pages the dump cannot give" not in p2m[0]:
            raise Fail("%s: /dom0/header does not count the lost pfns: %s" % (what, p2m))
        n = int(p2m[0].split("; ")[-1].split()[0])
        lost_below_end += n
        print("ok: %s: /dom0/mem served %d, %d EIO (%d pfns under leaves lost)" %
              (what, res["served"], res["eio"], n))
    if not lost_below_end:
        raise Fail("no cut lost a leaf below dom0's last mapped pfn: the case is not tested")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except (Fail, subprocess.TimeoutExpired) as e:
        print("FAIL:", e)
        sys.exit(1)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

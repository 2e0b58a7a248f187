#!/usr/bin/env python3
"""matrix.py PROBE MKDUMP DUMPFS VARIANT...

The corruption matrix.  For each variant (a dump our writer makes: every
input format), parse the file's own structure (headers, sub-header, notes,
bitmaps, page descriptors, page data, flattened records, program headers,
ELF notes, load data), then for every structure:
  - flip bytes in it (its first byte XOR 0xff, its last byte XOR 0x01), and
  - truncate the file at its start, its middle and its end,
and run tests/bad/probe on the result (open, read every page of /mem, read
every file of the tree).  Each case must either fail to open with a one-line
message naming the file and an offset, or open and give every page either
right or EIO.  A page may read wrong without an error only when the damage
hit something that decides that page's bytes and has no redundancy to check
it against: its descriptor, its stored data (a raw page has no checksum),
a 2nd-bitmap bit at or before it (which shifts the descriptor index), a
PT_LOAD that holds it, or a header field that moves everything (block size,
bitmap size, program header table...).  explain() below says which for
each byte; any other wrong page counts in "wrong" and fails the test.

LiME images (and raw ones, whose ranges are given as -o ranges= would) have
no redundancy at all: a range's first or last address moves or resizes it.
Besides the flips and cuts, each LiME range header is also set to values
that must be refused (edits): a range overlapping the one before, first
above last, a range past the end of the file, version 2, another magic.

Prints one line per variant and a total:
  cases C  clean-errors E  served S  eio-pages P  explained-wrong-pages X  wrong W
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

PROBE, MKDUMP, DUMPFS = sys.argv[1:4]
PAGE = 4096
ALL = None          # explain(): any page may change
RAM = "0-191,256-383"
# Peak RSS allowed to one probe (KiB): far above what it needs (a few MB,
# more under AddressSanitizer), far below believing a bogus size.
RSS_LIMIT_KB = 256 * 1024
TIMEOUT = int(os.environ.get("MATRIX_TIMEOUT", 60))
SAMPLES_PER_FAMILY = 5

VARIANTS = {
    "kdump-mixed": ["--codec", "mixed", "--excluded", "--zero-pages", "--qemu-notes",
                    "--eraseinfo"],
    "kdump-none": ["--codec", "none", "--excluded"],
    "kdump-be": ["--endian", "be", "--arch", "ppc64", "--codec", "zlib", "--excluded",
                 "--zero-pages"],
    "kdump-32": ["--layout", "32", "--arch", "i386", "--codec", "lzo", "--excluded"],
    "kdump-v1": ["--header-version", "1", "--no-vmcoreinfo", "--codec", "snappy"],
    "diskdump": ["--format", "diskdump", "--codec", "zstd"],
    "kdump-incomplete": ["--incomplete", "--excluded", "--codec", "zlib"],
    "split": ["--split", "2", "--excluded", "--zero-pages", "--codec", "zlib"],
    "flat-kdump": ["--flat", "--excluded", "--zero-pages", "--codec", "zstd"],
    "flat-elf": ["--flat", "--format", "elf", "--excluded"],
    "elf64": ["--format", "elf", "--excluded", "--qemu-notes"],
    "elf32": ["--format", "elf", "--layout", "32", "--arch", "i386"],
    "elf64-be": ["--format", "elf", "--endian", "be", "--arch", "ppc64", "--excluded"],
    # the writer's memory as the guest RAM of a QEMU process core
    # (tests/bad/qemu_core.py writes it; the VGA window is no RAM)
    "qemu-core": ["--format", "elf", "--ram", "0-159,256-383"],
    "lime": ["--format", "lime"],
    "raw": ["--format", "raw"],
    # Xen: `xl dump-core` files of a PV domain (pages out of pfn order) and
    # of an HVM one (.xen_pfn, xc_core's ~0 padding at the end), and a Xen
    # host's kdump, whose dom0 shows in /dom0/ through its p2m tree
    "xc-pv": ["--format", "xc", "--xen-type", "pv", "--xen-shuffle"],
    "xc-hvm": ["--format", "xc", "--xen-type", "hvm"],
    "xen-kdump": ["--format", "xen-kdump"],
}
# Xen's image takes 936 pages 2 MiB past a 2 MiB boundary, and dom0 has
# holes (identity-mapped, ballooned out) and several p2m leaves only from
# 1024 pages on: the host needs more RAM than the others.
VARIANT_RAM = {"xen-kdump": "0-159,256-4095"}
ERROR = "must fail to open"     # what an edit must give (see lime_edits)
LIME_MAGIC = b"EMiL"            # 0x4C694D45, little-endian


class Fail(Exception):
    pass


class Span:
    """Bytes [start, end) of one structure; explain(off) gives the pfns a
    damaged byte at off may make read wrong (a set, or ALL).  dom0(off), for
    a Xen host's kdump, the pfns of /dom0/mem it may make read wrong (a set,
    anything with `in`, or ALL: then /dom0/ may also be gone); by default
    ALL where explain() is, none elsewhere."""

    def __init__(self, name, start, end, explain, dom0=None):
        self.name, self.start, self.end, self.explain = name, start, end, explain
        self.dom0 = dom0 or (lambda off: ALL if explain(off) is ALL else set())


def const(pfns):
    return lambda off: pfns


# ---- kdump ---------------------------------------------------------------

# Sub-header fields (name, offset, size, version that added it, moves pages),
# per ABI, from makedumpfile's diskdump_mod.h.
SUB_FIELDS = ["phys_base", "dump_level", "split", "start_pfn", "end_pfn",
              "offset_vmcoreinfo", "size_vmcoreinfo", "offset_note", "size_note",
              "offset_eraseinfo", "size_eraseinfo", "start_pfn_64", "end_pfn_64",
              "max_mapnr_64"]
SUB_SINCE = [0, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6]
SUB_LAYOUT = {
    64: [(0, 8), (8, 4), (12, 4), (16, 8), (24, 8), (32, 8), (40, 8), (48, 8), (56, 8),
         (64, 8), (72, 8), (80, 8), (88, 8), (96, 8)],
    32: [(0, 4), (4, 4), (8, 4), (12, 4), (16, 4), (20, 8), (28, 4), (32, 8), (40, 4),
         (44, 8), (52, 4), (56, 8), (64, 8), (72, 8)],
}
SUB_MOVES = {"split", "start_pfn", "end_pfn", "start_pfn_64", "end_pfn_64", "max_mapnr_64"}
MAIN_MOVES = {"signature", "version", "utsname.machine", "block_size", "sub_hdr_size",
              "bitmap_blocks", "max_mapnr"}


def kdump_spans(b, info, part_range):
    """Spans of one kdump file (one part of a split set); part_range is the
    [start, end) pfns this file holds."""
    big = info["endian"] == "be"
    bits = int(info["layout"])
    e = ">" if big else "<"
    spans = []
    st = 424 if bits == 64 else 412     # status, then block_size...
    main = [("signature", 0, 8), ("version", 8, 4)]
    for i, f in enumerate(["sysname", "nodename", "release", "version", "machine",
                           "domainname"]):
        main.append(("utsname." + f, 12 + 65 * i, 65))
    main.append(("timestamp", 408 if bits == 64 else 404, 16 if bits == 64 else 8))
    for i, f in enumerate(["status", "block_size", "sub_hdr_size", "bitmap_blocks",
                           "max_mapnr", "total_ram_blocks", "device_blocks",
                           "written_blocks", "current_cpu", "nr_cpus"]):
        main.append((f, st + 4 * i, 4))
    for name, off, size in main:
        spans.append(Span("header." + name, off, off + size,
                          const(ALL if name in MAIN_MOVES else set())))
    version = struct.unpack_from(e + "i", b, 8)[0]
    block, sub_blocks, bm_blocks = struct.unpack_from(e + "iiI", b, st + 4)
    sub = {}
    if sub_blocks:
        for name, since, (off, size) in zip(SUB_FIELDS, SUB_SINCE, SUB_LAYOUT[bits]):
            if version < since:
                continue
            sub[name] = struct.unpack_from(e + ("Q" if size == 8 else "I"), b, block + off)[0]
            spans.append(Span("sub." + name, block + off, block + off + size,
                              const(ALL if name in SUB_MOVES else set())))
    for what in ("vmcoreinfo", "note", "eraseinfo"):
        off, size = sub.get("offset_" + what, 0), sub.get("size_" + what, 0)
        if size:
            spans.append(Span(what, off, off + size, const(set())))
    bitmaps = (1 + sub_blocks) * block
    half = bm_blocks * block // 2
    spans.append(Span("bitmap1", bitmaps, bitmaps + half, const(set())))
    bm2 = b[bitmaps + half:bitmaps + 2 * half]
    lo, hi = part_range
    # a flipped dumped bit shifts the descriptor index of every later page
    spans.append(Span("bitmap2", bitmaps + half, bitmaps + 2 * half,
                      lambda off, s=bitmaps + half: set(range(max(lo, 8 * (off - s)), hi))))
    dumped = [p for p in range(lo, min(hi, 8 * half)) if bm2[p // 8] >> (p % 8) & 1]
    pd = bitmaps + bm_blocks * block
    data_owner = {}             # data offset -> pfns stored there (the zero page: many)
    descs = []
    for i, pfn in enumerate(dumped):
        at = pd + 24 * i
        if at + 24 > len(b):
            break
        off, size, flags = struct.unpack_from(e + "qII", b, at)
        descs.append((pfn, at, off, size))
        data_owner.setdefault((off, size), set()).add(pfn)
    for pfn, at, off, size in descs:
        spans.append(Span("descriptor(pfn %d)" % pfn, at, at + 24, const({pfn})))
    for (off, size), pfns in sorted(data_owner.items()):
        if off > 0:
            spans.append(Span("page data(pfn %d%s)" % (min(pfns), "+" if len(pfns) > 1 else ""),
                              off, off + size, const(pfns)))
    return spans


# ---- ELF -------------------------------------------------------------------

def elf_spans(b, info):
    c64 = b[4] == 2
    e = ">" if b[5] == 2 else "<"
    spans = [Span("e_ident.magic", 0, 4, const(ALL)),
             Span("e_ident.class+data", 4, 6, const(ALL)),
             Span("e_ident.rest", 6, 16, const(set()))]
    if c64:
        fields = [("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4),
                  ("e_entry", 24, 8), ("e_phoff", 32, 8), ("e_shoff", 40, 8),
                  ("e_flags", 48, 4), ("e_ehsize", 52, 2), ("e_phentsize", 54, 2),
                  ("e_phnum", 56, 2), ("e_shentsize", 58, 2), ("e_shnum", 60, 2),
                  ("e_shstrndx", 62, 2)]
        phoff, = struct.unpack_from(e + "Q", b, 32)
        phent, phnum = struct.unpack_from(e + "HH", b, 54)
    else:
        fields = [("e_type", 16, 2), ("e_machine", 18, 2), ("e_version", 20, 4),
                  ("e_entry", 24, 4), ("e_phoff", 28, 4), ("e_shoff", 32, 4),
                  ("e_flags", 36, 4), ("e_ehsize", 40, 2), ("e_phentsize", 42, 2),
                  ("e_phnum", 44, 2), ("e_shentsize", 46, 2), ("e_shnum", 48, 2),
                  ("e_shstrndx", 50, 2)]
        phoff, = struct.unpack_from(e + "I", b, 28)
        phent, phnum = struct.unpack_from(e + "HH", b, 42)
    moves = {"e_type", "e_phoff", "e_phentsize", "e_phnum"}
    for name, off, size in fields:
        spans.append(Span(name, off, off + size, const(ALL if name in moves else set())))
    if c64:     # p_type p_flags p_offset p_vaddr p_paddr p_filesz p_memsz p_align
        layout = [("p_type", 0, 4), ("p_flags", 4, 4), ("p_offset", 8, 8), ("p_vaddr", 16, 8),
                  ("p_paddr", 24, 8), ("p_filesz", 32, 8), ("p_memsz", 40, 8),
                  ("p_align", 48, 8)]
        fmt = e + "IIQQQQQQ"
    else:       # p_type p_offset p_vaddr p_paddr p_filesz p_memsz p_flags p_align
        layout = [("p_type", 0, 4), ("p_offset", 4, 4), ("p_vaddr", 8, 4), ("p_paddr", 12, 4),
                  ("p_filesz", 16, 4), ("p_memsz", 20, 4), ("p_flags", 24, 4),
                  ("p_align", 28, 4)]
        fmt = e + "IIIIIIII"
    for i in range(phnum):
        at = phoff + i * phent
        v = struct.unpack_from(fmt, b, at)
        ph = {name: v[k] for k, (name, _, _) in enumerate(layout)}
        if ph["p_type"] == 4:           # PT_NOTE: a type change may make it a PT_LOAD
            spans.append(Span("phdr %d (PT_NOTE).p_type" % i, at, at + 4, const(ALL)))
            spans.append(Span("phdr %d (PT_NOTE).rest" % i, at + 4, at + phent, const(set())))
            spans.append(Span("notes of phdr %d" % i, ph["p_offset"],
                              ph["p_offset"] + ph["p_filesz"], const(set())))
            continue
        if ph["p_type"] != 1:
            continue
        first = ph["p_paddr"] // PAGE
        pages = set(range(first, (ph["p_paddr"] + ph["p_memsz"] + PAGE - 1) // PAGE))
        # p_memsz can swallow the next segment (the first one wins) and
        # p_paddr can move the segment anywhere
        seg = {"p_type": pages, "p_offset": pages, "p_filesz": pages, "p_memsz": ALL,
               "p_paddr": ALL, "p_vaddr": set(), "p_flags": set(), "p_align": set()}
        for name, off, size in layout:
            spans.append(Span("phdr %d (PT_LOAD).%s" % (i, name), at + off, at + off + size,
                              const(seg[name])))
        if ph["p_filesz"]:
            data, paddr = ph["p_offset"], ph["p_paddr"]
            spans.append(Span("load %d data" % i, data, data + ph["p_filesz"],
                              lambda off, d=data, p=paddr: {(p + off - d) // PAGE}))
    return spans


# ---- QEMU process core ---------------------------------------------------------

def qemu_core_spans(b, ram_vaddr):
    """A QEMU core's guest RAM is its mapping at @ram_vaddr, guest physical
    = offset in it below the VGA window and above; everything else (the
    headers, the notes, QEMU's globals and heap) may decide every page."""
    phoff, = struct.unpack_from("<Q", b, 32)
    phent, phnum = struct.unpack_from("<HH", b, 54)
    spans = [Span("ELF header", 0, 64, const(ALL))]
    for i in range(phnum):
        at = phoff + i * phent
        typ, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", b, at)
        spans.append(Span("phdr %d" % i, at, at + 24, const(ALL)))
        spans.append(Span("phdr %d.p_paddr" % i, at + 24, at + 32, const(set())))
        spans.append(Span("phdr %d.sizes" % i, at + 32, at + 48, const(ALL)))
        spans.append(Span("phdr %d.p_align" % i, at + 48, at + 56, const(set())))
        if typ == 1 and vaddr == ram_vaddr:
            spans.append(Span("guest RAM", off, off + filesz, lambda o, d=off: {(o - d) // PAGE}))
        elif filesz:
            spans.append(Span("%s %d data" % ("notes" if typ == 4 else "load", i), off, off + filesz,
                              const(ALL)))
    return spans


def make_qemu_core(out, mem, work):
    """The QEMU core of tests/bad/qemu_core.py around @mem, at @out."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bad"))
    import qemu_core
    exe = qemu_core.build_exe(work)
    core = qemu_core.Core(exe, mem, os.path.getsize(mem))
    core.write(out)
    return qemu_core.RAM


# ---- Xen -------------------------------------------------------------------

MAX_PFN = 1 << 40       # xc_core.c: entries naming a pfn past it are dropped


def xc_spans(b, info):
    """An `xl dump-core` file (mkdump_xc.c: ELF64 ET_CORE, no program
    headers, sections .shstrtab .note.Xen .xen_prstatus .xen_shared_info
    .xen_pages .xen_p2m|.xen_pfn).  /mem is .xen_pages placed by the table:
    page i is the pfn of entry i (the first entry naming a pfn wins; ~0 and
    pfns past 2^40 are dropped).  The vCPU contexts and the shared info
    decide no page; the header note's counts and page size, the section
    headers and names of the sections that place pages decide all."""
    shoff, = struct.unpack_from("<Q", b, 40)
    shnum, shstrndx = struct.unpack_from("<HH", b, 60)
    spans = [Span("e_ident.magic", 0, 4, const(ALL)),
             Span("e_ident.class+data", 4, 6, const(ALL)),
             Span("e_ident.rest", 6, 16, const(set()))]
    # e_type, e_phnum and the section table decide whether it is read as
    # a dump-core file at all
    for name, off, size, e in (("e_type", 16, 2, ALL), ("e_machine", 18, 2, set()),
                               ("e_version", 20, 4, set()), ("e_entry", 24, 8, set()),
                               ("e_phoff", 32, 8, set()), ("e_shoff", 40, 8, ALL),
                               ("e_flags", 48, 4, set()), ("e_ehsize", 52, 2, set()),
                               ("e_phentsize", 54, 2, set()), ("e_phnum", 56, 2, ALL),
                               ("e_shentsize", 58, 2, ALL), ("e_shnum", 60, 2, ALL),
                               ("e_shstrndx", 62, 2, ALL)):
        spans.append(Span(name, off, off + size, const(e)))
    sh = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + 64 * i) for i in range(shnum)]
    stroff = sh[shstrndx][4]
    names = [b[stroff + h[0]:b.index(b"\0", stroff + h[0])].decode() for h in sh]
    sec = {names[i]: (h[4], h[5]) for i, h in enumerate(sh) if i}
    placing = {".note.Xen", ".xen_pages", ".xen_p2m", ".xen_pfn"}
    for i, h in enumerate(sh):
        at = shoff + 64 * i
        decides = ALL if names[i] in placing or i == shstrndx else set()
        # any section renamed may take the place of one of ours (the
        # first header of a name wins); the null one is not read
        for field, off, size, e in (("sh_name", 0, 4, ALL if i else set()),
                                    ("sh_type+flags+addr", 4, 20, set()),
                                    ("sh_offset", 24, 8, decides), ("sh_size", 32, 8, decides),
                                    ("sh_link+info+addralign+entsize", 40, 24, set())):
            spans.append(Span("shdr %d (%s).%s" % (i, names[i] or "null", field), at + off,
                              at + off + size, const(e)))
    for i, h in enumerate(sh):
        if i and names[i]:
            spans.append(Span("shstrtab name %s" % names[i], stroff + h[0],
                              stroff + h[0] + len(names[i]) + 1,
                              const(ALL if names[i] in placing else set())))
    # .note.Xen: none, header, version, format.  The header note's type
    # and its magic, page count and page size decide everything; a note
    # header before it moves it.  The version and format notes come after
    # it: damage there is text, or a clean refusal.
    noff, nsize = sec[".note.Xen"]
    pos, seen_header = noff, False
    while pos + 12 <= noff + nsize:
        namesz, descsz, typ = struct.unpack_from("<III", b, pos)
        desc = pos + 12 + (namesz + 3) // 4 * 4
        what = {0x2000000: "none", 0x2000001: "header", 0x2000002: "version",
                0x2000003: "format"}.get(typ, "%#x" % typ)
        spans.append(Span("note %s.header+name" % what, pos, desc,
                          const(set() if seen_header else ALL)))
        if typ == 0x2000001:
            seen_header = True
            for field, off, e in (("magic", 0, ALL), ("nr_vcpus", 8, set()),
                                  ("nr_pages", 16, ALL), ("page_size", 24, ALL)):
                spans.append(Span("note header.%s" % field, desc + off, desc + off + 8, const(e)))
        elif descsz:
            spans.append(Span("note %s.desc" % what, desc, desc + descsz, const(set())))
        pos = desc + (descsz + 3) // 4 * 4
    poff, psize = sec[".xen_prstatus"]
    ncpu = int(info["nr_vcpus"])
    for c in range(ncpu):
        spans.append(Span("xen_prstatus vcpu %d" % c, poff + c * psize // ncpu,
                          poff + (c + 1) * psize // ncpu, const(set())))
    soff, ssize = sec[".xen_shared_info"]
    spans.append(Span("xen_shared_info", soff, soff + ssize, const(set())))
    pgoff = sec[".xen_pages"][0]
    if soff + ssize < pgoff:
        spans.append(Span("padding before .xen_pages", soff + ssize, pgoff, const(set())))
    table = ".xen_p2m" if ".xen_p2m" in sec else ".xen_pfn"
    toff = sec[table][0]
    width = 16 if table == ".xen_p2m" else 8
    nr = int(info["nr_pages"])
    pfns = [struct.unpack_from("<Q", b, toff + width * i)[0] for i in range(nr)]
    first = {}
    for i, pfn in enumerate(pfns):
        first.setdefault(pfn, i)

    def entry_explain(i, field_at):
        # one byte of entry i's pfn XORed with 0xff or 0x01 (what the
        # cases do): entry i's pfn loses its page, and the pfn it now
        # names may show it (unless an earlier entry names that one too)
        def explain(off):
            shift = 8 * (off - field_at)
            out = {pfns[i]} if pfns[i] < MAX_PFN and first[pfns[i]] == i else set()
            for mask in (0xff, 0x01):
                new = pfns[i] ^ (mask << shift)
                if new < MAX_PFN:
                    out.add(new)
            return out
        return explain

    for i, pfn in enumerate(pfns):
        at = toff + width * i
        spans.append(Span("%s entry %d (pfn %d).pfn" % (table, i, pfn), at, at + 8,
                          entry_explain(i, at)))
        if width == 16:         # the gmfn: the m2p of page-table walks, no page
            spans.append(Span("%s entry %d (pfn %d).gmfn" % (table, i, pfn), at + 8, at + 16,
                              const(set())))
        placed = {pfn} if pfn < MAX_PFN and first[pfn] == i else set()
        spans.append(Span(".xen_pages page %d (pfn %d)" % (i, pfn), pgoff + PAGE * i,
                          pgoff + PAGE * (i + 1), const(placed)))
    return spans


class PfnTest:
    """A set of pfns given by membership tests (dom0's p2m tree: a frame
    of it may decide a pfn in every 512th or 262144th place).  may_go: the
    damage may leave dom0 no page at all, and so no /dom0/."""

    def __init__(self):
        self.tests = []
        self.may_go = False

    def __contains__(self, pfn):
        return any(t(pfn) for t in self.tests)


def dom0_roles(mem, info):
    """For each machine frame that decides /dom0/mem: a function of the
    byte offset in it giving the dom0 pfns a damaged byte there may make
    read wrong.  The frame list list's entry i decides pfns [i<<18,
    (i+1)<<18), a middle page's entry j under frame-list-list entry i pfns
    ((i<<9)+j)<<9 on, 512 of them, a leaf's entry k under (i, j) pfn
    (((i<<9)+j)<<9)+k, a page of dom0 the pfns whose entry names it.  Pages
    that many entries name (Linux's p2m_missing and p2m_mid_missing) have
    each role they are named for.  Also the kind of each such frame."""
    def frame(m):
        return struct.unpack_from("<512Q", mem, m * PAGE)
    nmach = len(mem) // PAGE
    fll = int(info["xen_p2m_mfn"], 0)
    mids, leaves = {}, {}               # frame -> [i], frame -> [(i, j)]
    for i, m in enumerate(frame(fll)):
        if m < nmach:
            mids.setdefault(m, []).append(i)
    for m, iis in list(mids.items()):
        for j, leaf in enumerate(frame(m)):
            if leaf < nmach:
                leaves.setdefault(leaf, []).extend((i, j) for i in iis)
    data = {}
    for m, ijs in leaves.items():
        for k, e in enumerate(frame(m)):
            if e < nmach:
                data.setdefault(e, set()).update((((i << 9) + j) << 9) + k for i, j in ijs)
    roles, kinds = {}, {}

    def role(m, off):
        k = off // 8
        t = PfnTest()
        if m == fll:
            t.tests.append(lambda p: p >> 18 == k)
            t.may_go = True
        if m in mids:
            iis = set(mids[m])
            t.tests.append(lambda p: (p >> 9) & 511 == k and p >> 18 in iis)
            t.may_go = True
        if m in leaves:
            bases = {((i << 9) + j) << 9 for i, j in leaves[m]}
            t.tests.append(lambda p: p & 511 == k and p - k in bases)
        if m in data:
            t.tests.append(data[m].__contains__)
        return t
    for m in set(mids) | set(leaves) | set(data) | {fll}:
        roles[m] = lambda off, m=m: role(m, off)
        kinds[m] = ("frame list list" if m == fll else "middle page" if m in mids
                    else "leaf page" if m in leaves else "dom0 page")
    # Linux's p2m_missing (a leaf of ~0 only) and p2m_mid_missing (a middle
    # page naming it only), which the unused entries name
    for m in leaves:
        if set(frame(m)) == {2**64 - 1}:
            kinds[m] = "missing leaf page"
    for m in mids:
        if {kinds.get(x) for x in frame(m)} == {"missing leaf page"}:
            kinds[m] = "missing middle page"
    return roles, kinds


def p2m_entry_kind(e, kinds, nmach):
    """What a p2m tree entry names, for the family of its span."""
    return ("invalid" if e == 2**64 - 1 else "identity" if e >> 62 == 1
            else kinds.get(e, "frame") if e < nmach else "other")


def xen_kdump_spans(b, info, mem):
    """A Xen host's kdump: machine memory as an ELF vmcore (elf_spans for
    /mem), and for /dom0/mem what decides it: CRASH_INFO's last word (the
    frame list list) and the notes before it, the program headers, and in
    machine memory the p2m tree and dom0's own pages (dom0_roles)."""
    roles, kinds = dom0_roles(mem, info)
    nmach = len(mem) // PAGE
    spans = []
    for s in elf_spans(b, info):
        if s.name.startswith("notes of phdr"):
            spans += xen_note_spans(b, s.start, s.end)
        elif re.match(r"load \d+ data", s.name):
            # each entry of each p2m page, each page of dom0, and the
            # machine memory between them
            base = s.start
            paddr = s.explain(base).pop() * PAGE
            first, end = paddr // PAGE, (paddr + s.end - s.start) // PAGE
            pos = s.start
            for m in sorted(x for x in kinds if first <= x < end):
                at = base + m * PAGE - paddr
                if pos < at:
                    spans.append(Span("machine memory %d-%d" % ((pos - base + paddr) // PAGE, m - 1),
                                      pos, at, s.explain))
                if kinds[m] == "dom0 page":
                    spans.append(Span("dom0 page (mfn %d)" % m, at, at + PAGE, s.explain,
                                      lambda off, r=roles[m], at=at: r(off - at)))
                else:
                    for k, e in enumerate(struct.unpack_from("<512Q", mem, m * PAGE)):
                        spans.append(Span("p2m %s entry %d: %s" % (kinds[m], k,
                                                                   p2m_entry_kind(e, kinds, nmach)),
                                          at + 8 * k, at + 8 * k + 8, s.explain,
                                          lambda off, r=roles[m], at=at: r(off - at)))
                pos = at + PAGE
            if pos < s.end:
                spans.append(Span("machine memory %d-%d" % ((pos - base + paddr) // PAGE, end - 1),
                                  pos, s.end, s.explain))
        elif s.name.startswith("phdr"):
            # a PT_LOAD's pages (p_offset, p_filesz...) may hold the tree;
            # a PT_NOTE's p_offset and p_filesz place CRASH_INFO
            note = "(PT_NOTE)" in s.name
            spans.append(Span(s.name, s.start, s.end, s.explain,
                              lambda off, e=s.explain, note=note:
                              ALL if note or e(off) is ALL or e(off) else set()))
        else:
            spans.append(s)
    return spans


class MayGo(set):
    """dom0 explains: no page of /dom0/mem may read wrong, but /dom0/ may
    be gone (a warning on /header, as for a host whose dom0 cannot be
    read)."""
    may_go = True


def xen_kdump_cut_explains(b, info, cut):
    """A vmcore cut at @cut: its pages past the cut read as errors, and so
    do dom0's under p2m pages past it; /dom0/ may be gone when the cut
    takes the notes or the frame list list."""
    phoff, = struct.unpack_from("<Q", b, 32)
    phnum, = struct.unpack_from("<H", b, 56)
    fll = int(info["xen_p2m_mfn"], 0) * PAGE
    for i in range(phnum):
        typ, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", b, phoff + 56 * i)
        if (typ == 4 and cut < off + filesz) or \
           (typ == 1 and paddr <= fll < paddr + filesz and cut < off + fll - paddr + PAGE):
            return MayGo()
    return set()


def xen_note_spans(b, start, end):
    """The vmcore's notes: "CORE" NT_PRSTATUS and "Xen" CRASH_REGS per CPU,
    CPU 0's "Xen" CRASH_INFO, VMCOREINFO_XEN.  No page of /mem depends on
    them; /dom0/ on CRASH_INFO's last word (dom0's frame list list) and on
    every note header up to CRASH_INFO's (later notes are dropped after a
    damaged one)."""
    spans, pos, before = [], start, True
    k = 0
    while pos + 12 <= end:
        namesz, descsz, typ = struct.unpack_from("<III", b, pos)
        if not namesz and not descsz:
            break
        name = b[pos + 12:pos + 12 + namesz].rstrip(b"\0").decode(errors="replace")
        desc = pos + 12 + (namesz + 3) // 4 * 4
        what = "note %d (%s %#x)" % (k, name, typ)
        spans.append(Span(what + ".header+name", pos, desc, const(set()),
                          const(ALL if before else set())))
        if name == "Xen" and typ == 0x1000001:      # XEN_ELFNOTE_CRASH_INFO
            spans.append(Span(what + ".desc", desc, desc + 72, const(set())))
            spans.append(Span(what + ".dom0_pfn_to_mfn_frame_list_list", desc + 72,
                              desc + 80, const(set()), const(ALL)))
            if descsz > 80:
                spans.append(Span(what + ".desc rest", desc + 80, desc + descsz, const(set())))
            before = False
        elif descsz:
            spans.append(Span(what + ".desc", desc, desc + descsz, const(set())))
        pos = desc + (descsz + 3) // 4 * 4
        k += 1
    return spans


# ---- flattened ---------------------------------------------------------------

def flat_records(b):
    """[(record header offset, dst, len)] and the rearranged file."""
    recs, pos, inner = [], 4096, bytearray()
    while pos + 16 <= len(b):
        dst, n = struct.unpack_from(">qq", b, pos)
        if dst < 0:
            break
        recs.append((pos, dst, n))
        if dst + n > len(inner):
            inner.extend(bytes(dst + n - len(inner)))
        inner[dst:dst + n] = b[pos + 16:pos + 16 + n]
        pos += 16 + n
    return recs, pos, bytes(inner)


def flat_spans(b, info, part_range):
    recs, end_marker, inner = flat_records(b)
    ispans = inner_spans(inner, info, part_range)
    spans = [Span("flat header.signature+type+version", 0, 32, const(ALL)),
             Span("flat header.rest", 32, 4096, const(set())),
             Span("flat end marker", end_marker, end_marker + 16, const(ALL))]
    for k, (pos, dst, n) in enumerate(recs):
        spans.append(Span("flat record %d header" % k, pos, pos + 16, const(ALL)))
        # record data: what the byte is in the rearranged file
        for s in ispans:
            a, z = max(s.start, dst), min(s.end, dst + n)
            if a < z:
                spans.append(Span("record %d: %s" % (k, s.name), pos + 16 + a - dst,
                                  pos + 16 + z - dst,
                                  lambda off, s=s, base=pos + 16 - dst: s.explain(off - base)))
    return spans


# ---- LiME and raw images ------------------------------------------------------

def lime_headers(b):
    """[(header offset, first, last)] of a LiME image."""
    out, off = [], 0
    while off + 32 <= len(b) and b[off:off + 4] == LIME_MAGIC:
        first, last = struct.unpack_from("<QQ", b, off + 8)
        out.append((off, first, last))
        off += 32 + last - first + 1
    return out


def data_span(name, off, paddr, length):
    return Span(name, off, off + length, lambda o, d=off, p=paddr: {(p + o - d) // PAGE})


def lime_spans(b, info):
    spans = []
    for k, (off, first, last) in enumerate(lime_headers(b)):
        # first and last move or resize the range and every one after it
        for name, at, size, explains in (("magic", 0, 4, set()), ("version", 4, 4, set()),
                                         ("first", 8, 8, ALL), ("last", 16, 8, ALL),
                                         ("reserved", 24, 8, set())):
            spans.append(Span("lime range %d.%s" % (k, name), off + at, off + at + size,
                              const(explains)))
        spans.append(data_span("lime range %d data" % k, off + 32, first, last - first + 1))
    return spans


def lime_edits(b):
    """(what, offset, new bytes): header values each of which must be refused."""
    hs = lime_headers(b)
    (o1, f1, l1), (o2, f2, l2), (ol, fl, ll) = hs[0], hs[1], hs[-1]
    q = lambda v: struct.pack("<Q", v)
    return [("range 1 moved onto range 0", o2 + 8, q(f1) + q(f1 + l2 - f2)),
            ("range 0 first above last", o1 + 8, q(l1 + 1)),
            ("range 0 past the end of the file", o1 + 16, q(l1 + len(b))),
            ("last range one byte past the end", ol + 16, q(ll + 1)),
            ("range 1 version 2", o2 + 4, struct.pack("<I", 2)),
            ("range 1 magic", o2, b"LiME")]


def raw_spans(info):
    """The ranges' bytes, one after the other (info's raw_ranges)."""
    spans, off = [], 0
    for k, r in enumerate(info["raw_ranges"].split(",")):
        first, last = (int(x, 0) for x in r.split("-"))
        spans.append(data_span("raw range %d data" % k, off, first, last - first + 1))
        off += last - first + 1
    return spans


def inner_spans(b, info, part_range):
    return elf_spans(b, info) if b[:4] == b"\177ELF" else kdump_spans(b, info, part_range)


def file_spans(path, info, part_range):
    b = open(path, "rb").read()
    if info["format"] == "raw":
        return raw_spans(info)
    if info["format"] == "xc":
        return xc_spans(b, info)
    if info["format"] == "xen-kdump":
        return xen_kdump_spans(b, info, open(path + ".mem", "rb").read())
    if b[:4] == LIME_MAGIC:
        return lime_spans(b, info)
    if b[:12] == b"makedumpfile":
        return flat_spans(b, info, part_range)
    return inner_spans(b, info, part_range)


def explain_range(spans, a, z):
    """Pages that damage to bytes [a, z) may make wrong (a set, or ALL)."""
    out = set()
    for s in spans:
        if s.start < z and a < s.end:
            e = s.explain(max(a, s.start))
            if e is ALL:
                return ALL
            out |= e
    return out


def flat_truncation_explains(path, info, part_range, cut):
    """A flattened stream cut short loses the records that would have
    overwritten earlier ones (our writer emits garbage first and the real
    bytes later, as a rewritten header would be): the bytes those records
    cover may read as the garbage, which nothing can tell from real data."""
    b = open(path, "rb").read()
    recs, _, inner = flat_records(b)
    spans = inner_spans(inner, info, part_range)
    out = set()
    for pos, dst, n in recs:
        if pos + 16 + n > cut:
            e = explain_range(spans, dst, dst + n)
            if e is ALL:
                return ALL
            out |= e
    return out


# ---- running the cases -------------------------------------------------------

class Totals:
    def __init__(self):
        self.cases = self.errors = self.served = self.eio = self.explained = self.wrong = 0
        self.failures = []

    def add(self, other):
        for k in ("cases", "errors", "served", "eio", "explained", "wrong"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.failures += other.failures

    def line(self):
        return ("cases %d  clean-errors %d  served %d  eio-pages %d  explained-wrong-pages %d"
                "  wrong %d" % (self.cases, self.errors, self.served, self.eio,
                                self.explained, self.wrong))


def run_probe(mem, files, opts):
    """probe's exit code and output."""
    try:
        r = subprocess.run([PROBE, "--list", *opts, mem, *files], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Fail("probe took more than %d s: %s" % (TIMEOUT, files))
    return r.returncode, r.stdout, r.stderr


def peak_kib(lines):
    """The probe's own peak RSS (VmHWM), which it prints as "peak_kib K"."""
    words = " ".join(lines).split()
    return int(words[words.index("peak_kib") + 1]) if "peak_kib" in words else -1


def one_case(t, what, mem, files, damaged, explains, opts=(), dom0=None):
    """Run probe on files (damaged: the index of the damaged one; opts:
    what the files are, as --ranges) and account for the result in t.
    explains: the pages the damage may make wrong, or ERROR: it must be
    refused.  dom0: with --dom0 in opts, the pages of /dom0/mem it may make
    wrong (ALL: /dom0/ may be gone too)."""
    t.cases += 1
    try:
        rc, out, err = run_probe(mem, files, opts)
    except Fail as e:
        t.failures.append("%s: %s" % (what, e))
        if os.environ.get("MATRIX_KEEP"):
            shutil.copyfile(files[damaged], os.environ["MATRIX_KEEP"])
        return
    lines = out.splitlines()
    rss = peak_kib(lines)
    if rc in (0, 3) and not 0 <= rss <= RSS_LIMIT_KB:
        t.failures.append("%s: probe peak RSS %d KiB" % (what, rss))
    if rc == 3 and lines and lines[0].startswith("error: "):
        msg = lines[0][7:]
        if files[damaged] not in msg and not any(f in msg for f in files):
            t.failures.append("%s: error names no file: %s" % (what, msg))
        elif "offset" not in msg:
            t.failures.append("%s: error names no offset: %s" % (what, msg))
        r = subprocess.run([DUMPFS, "info", *(opts if "--dom0" not in opts else ()), *files],
                           capture_output=True, text=True, timeout=TIMEOUT)
        if r.returncode == 0 or len(r.stderr.strip().splitlines()) != 1:
            t.failures.append("%s: dumpfs info: not one line: %r" % (what, r.stderr))
        t.errors += 1
        return
    if rc != 0 or len(lines) < 3:
        t.failures.append("%s: probe exit %d: %s %s" % (what, rc, out.strip(), err.strip()[-300:]))
        return
    if explains is ERROR:
        t.failures.append("%s: served; it must be refused" % what)
        return
    w = lines[0].split()
    res = {w[i]: int(w[i + 1]) for i in range(0, len(w), 2)}
    wrong = [int(x) for x in lines[1].split(":")[1].split()]
    t.served += 1
    t.eio += res["eio"]
    bad = wrong if explains is not ALL else []
    bad = [p for p in bad if p not in explains] if explains is not ALL else []
    t.explained += len(wrong) - len(bad)
    if bad:
        t.wrong += len(bad)
        t.failures.append("%s: pages %s read wrong without an error" % (what, bad[:10]))
    if "--dom0" not in opts:
        return
    g = {l.split(":")[0] if ":" in l else " ".join(l.split()[:2]): l
         for l in lines if l.startswith("dom0")}
    if "dom0 none" in g:
        if dom0 is not ALL and not getattr(dom0, "may_go", False):
            t.failures.append("%s: no /dom0/" % what)
        return
    w = g["dom0 served"].split()
    t.eio += int(w[w.index("eio") + 1])
    wrong = [int(x) for x in g["dom0-wrong-pfns"].split(":")[1].split()]
    bad = [p for p in wrong if p not in dom0] if dom0 is not ALL else []
    t.explained += len(wrong) - len(bad)
    if bad:
        t.wrong += len(bad)
        t.failures.append("%s: /dom0/mem pages %s read wrong without an error" % (what, bad[:10]))


def flip(src, dst, off, mask):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(off)
        c = f.read(1)
        f.seek(off)
        f.write(bytes([c[0] ^ mask]))


def sample(spans, per_family=SAMPLES_PER_FAMILY):
    """At most per_family spans of each family (the same structure repeated:
    descriptors, page data, records, program headers), evenly spread, the
    first and the last always in: every kind of structure is damaged, and the
    run stays short."""
    families = {}
    for s in spans:
        families.setdefault(re.sub(r"\d+", "#", s.name), []).append(s)
    out = []
    for members in families.values():
        n = len(members)
        if n <= per_family:
            out += members
        else:
            out += [members[round(i * (n - 1) / (per_family - 1))] for i in range(per_family)]
    return sorted(out, key=lambda s: s.start)


def run_variant(name, work):
    out = os.path.join(work, "d")
    subprocess.run([MKDUMP, "--ram", VARIANT_RAM.get(name, RAM), *VARIANTS[name], out], check=True,
                   stdout=subprocess.DEVNULL)
    info = dict(l.rstrip("\n").split("=", 1) for l in open(out + ".info") if "=" in l)
    nfiles = int(info["files"])
    files = [out] if nfiles == 1 else ["%s.%d" % (out, i + 1) for i in range(nfiles)]
    mem = out + ".mem"
    maxpfn = int(info["max_pfn"])
    ranges = part_ranges(files, info, maxpfn)
    ram_vaddr = make_qemu_core(out, mem, work) if name == "qemu-core" else None
    opts = ["--ranges", info["raw_ranges"]] if info["format"] == "raw" else []
    if "dom0_max_pfn" in info:          # a Xen host's: /dom0/mem checked too
        opts = ["--dom0", out + ".dom0.mem"]
    t = Totals()
    for k, path in enumerate(files):
        if ram_vaddr:
            spans = qemu_core_spans(open(path, "rb").read(), ram_vaddr)
        else:
            spans = file_spans(path, info, ranges[k])
        size = os.path.getsize(path)
        case = os.path.join(work, "case%d" % k)
        others = list(files)
        others[k] = case
        spans = sample(spans)
        for s in spans:
            if s.start >= s.end or s.end > size:
                continue
            for off, mask in ((s.start, 0xFF), (s.end - 1, 0x01)):
                flip(path, case, off, mask)
                one_case(t, "%s file %d: %s: byte %d ^ %#x" % (name, k, s.name, off, mask),
                         mem, others, k, s.explain(off), opts, s.dom0(off))
        cuts = sorted({c for s in spans for c in (s.start, (s.start + s.end) // 2, s.end)
                       if 0 <= c < size} | {size - 1})
        flat = open(path, "rb").read(12) == b"makedumpfile"
        for cut in cuts:
            shutil.copyfile(path, case)
            os.truncate(case, cut)
            explains = flat_truncation_explains(path, info, ranges[k], cut) if flat else set()
            dom0 = xen_kdump_cut_explains(open(path, "rb").read(), info, cut) if "--dom0" in opts \
                else set()
            one_case(t, "%s file %d: cut at %d" % (name, k, cut), mem, others, k, explains, opts, dom0)
        if info["format"] == "lime":
            for what, off, new in lime_edits(open(path, "rb").read()):
                write_edit(path, case, off, new)
                one_case(t, "%s: %s" % (name, what), mem, others, k, ERROR)
    return t


def write_edit(src, dst, off, new):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(off)
        f.write(new)


def part_ranges(files, info, maxpfn):
    """[start, end) pfns of each file of a split set, from its sub-header."""
    if len(files) == 1:
        return [(0, maxpfn)]
    out = []
    for path in files:
        b = open(path, "rb").read(8192)
        block = struct.unpack_from("<i", b, 428)[0]
        out.append(struct.unpack_from("<QQ", b, block + 80))    # start/end_pfn_64
    return out


# ---- the remote source: the damaged dumps over HTTP ---------------------------

# A few representative variants (compressed kdump, flattened kdump, ELF) and
# every REMOTE_EVERY-th of their cases: the remote source must not change
# what a damaged dump gives.
REMOTE_VARIANTS = ["kdump-mixed", "flat-kdump", "elf64"]
REMOTE_EVERY = 4


def variant_cases(name, path, info, part_range):
    """(what, write(dst), explains) of run_variant's flips and cuts."""
    spans = sample(file_spans(path, info, part_range))
    size = os.path.getsize(path)
    out = []
    for s in spans:
        if s.start >= s.end or s.end > size:
            continue
        for off, mask in ((s.start, 0xFF), (s.end - 1, 0x01)):
            out.append(("%s: %s: byte %d ^ %#x" % (name, s.name, off, mask),
                        lambda dst, off=off, mask=mask: flip(path, dst, off, mask)))
    cuts = sorted({c for s in spans for c in (s.start, (s.start + s.end) // 2, s.end)
                   if 0 <= c < size} | {size - 1})
    for cut in cuts:
        def cut_to(dst, cut=cut):
            shutil.copyfile(path, dst)
            os.truncate(dst, cut)
        out.append(("%s: cut at %d" % (name, cut), cut_to))
    return out


def outcome(rc, out, name):
    """What probe said, without its peak RSS and with the dump's name as NAME."""
    lines = out.replace(name, "NAME").splitlines()
    if lines and lines[0].startswith("served "):
        # the text files (/header, /stats) say HTTP and count requests
        lines[0] = re.sub(r"\s*(peak_kib|bytes) -?\d+", "", lines[0])
    return rc, [l for l in lines if not l.startswith("peak_kib")]


def run_remote(work, variants):
    """Each case read from the file and from http://127.0.0.1/..., by nginx
    (tests/remote/nginx.py): the same pages right, the same EIO pages, the
    same refusal but for the name."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "remote"))
    import nginx
    why = nginx.available()
    if why:
        print("SKIP: %s" % why)
        sys.exit(77)
    t = Totals()
    root = os.path.join(work, "www")
    os.mkdir(root)
    os.chmod(work, 0o755)
    with nginx.Nginx(root) as n:
        for name in variants:
            out = os.path.join(work, name)
            subprocess.run([MKDUMP, "--ram", RAM, *VARIANTS[name], out], check=True,
                           stdout=subprocess.DEVNULL)
            info = dict(l.rstrip("\n").split("=", 1) for l in open(out + ".info") if "=" in l)
            cases = variant_cases(name, out, info, (0, int(info["max_pfn"])))
            for i, (what, write) in enumerate(cases[::REMOTE_EVERY]):
                local = os.path.join(root, "%s-%d" % (name, i))
                write(local)
                os.chmod(local, 0o644)
                url = "http://127.0.0.1:%d/%s-%d" % (n.http_port, name, i)
                t.cases += 1
                try:
                    a = outcome(*run_probe(out + ".mem", [local], [])[:2], local)
                    b = outcome(*run_probe(out + ".mem", [url], [])[:2], url)
                except Fail as e:
                    t.failures.append("remote %s: %s" % (what, e))
                    continue
                empty = os.path.getsize(local) == 0
                if empty and a[0] == b[0] == 3 and "the object is empty" in b[1][0]:
                    t.errors += 1       # the file: not a dump; HTTP: says it is empty
                elif a != b:
                    t.failures.append("remote %s: the file gives %r, HTTP %r" % (what, a, b))
                elif a[0] == 3:
                    t.errors += 1
                else:
                    t.served += 1
                    words = a[1][0].split() if a[1] else []
                    t.eio += int(words[words.index("eio") + 1]) if "eio" in words else 0
                os.unlink(local)
    return t


# ---- the flattened index sidecar, damaged ----------------------------------

# The header fields of a DFSIDX sidecar (docs/index-sidecar.md): offset, size.
SIDECAR_FIELDS = [("magic", 0, 8), ("version", 8, 4), ("flags", 12, 4), ("flat_size", 16, 8),
                  ("size", 24, 8), ("stored", 32, 8), ("records", 40, 8), ("pieces", 48, 8),
                  ("first_record", 56, 8), ("last_record", 64, 8), ("file_digest", 72, 32),
                  ("pieces_digest", 104, 32)]
# Fields no check can tie to the file: a damaged one may be taken, and then
# only /header's numbers change (records) or nothing read depends on it
# (stored bytes bound the pieces from above).
SIDECAR_UNCHECKED = {"records", "stored"}


def run_flatidx(work):
    """Damaged DUMP.dfsidx next to a flattened dump: each byte of each header
    field and of the first and last pieces flipped, the sidecar cut, another
    dump's sidecar.  probe must serve every page right (as with no sidecar),
    and /header must warn that the sidecar was refused, but for a damaged
    field no check can catch (SIDECAR_UNCHECKED), taken without harm."""
    t = Totals()
    d = os.path.join(work, "d")
    subprocess.run([MKDUMP, "--ram", RAM, *VARIANTS["flat-kdump"], d], check=True,
                   stdout=subprocess.DEVNULL)
    other = os.path.join(work, "other")
    subprocess.run([MKDUMP, "--ram", RAM, "--flat", "--codec", "zlib", other], check=True,
                   stdout=subprocess.DEVNULL)
    side = d + ".dfsidx"
    for dump in (d, other):
        subprocess.run([DUMPFS, "index", dump], check=True, stdout=subprocess.DEVNULL)
    good = open(side, "rb").read()
    stale = open(other + ".dfsidx", "rb").read()
    npieces = (len(good) - 136) // 24
    cases = []
    fields = SIDECAR_FIELDS + [("piece 0", 136, 24), ("piece %d" % (npieces - 1), len(good) - 24, 24)]
    for field, off, size in fields:
        for at, mask in ((off, 0xFF), (off + size - 1, 0x01)):
            b = bytearray(good)
            b[at] ^= mask
            cases.append(("%s: byte %d ^ %#x" % (field, at, mask), bytes(b), field))
    for cut in (0, 100, 136, 136 + 24 * (npieces // 2), len(good) - 1):
        cases.append(("cut at %d" % cut, good[:cut], None))
    cases.append(("another dump's sidecar", stale, None))
    cases.append(("two sidecars in one", good + good[136:], None))
    for what, data, field in cases:
        t.cases += 1
        with open(side, "wb") as f:
            f.write(data)
        try:
            rc, out, err = run_probe(d + ".mem", [d], [])
        except Fail as e:
            t.failures.append("flatidx %s: %s" % (what, e))
            continue
        lines = out.splitlines()
        if rc != 0 or len(lines) < 3:
            t.failures.append("flatidx %s: probe exit %d: %s" % (what, rc, out.strip()[:300]))
            continue
        w = lines[0].split()
        res = {w[i]: int(w[i + 1]) for i in range(0, len(w), 2)}
        t.served += 1
        t.eio += res["eio"]
        if res["wrong"] or res["eio"]:
            t.wrong += res["wrong"]
            t.failures.append("flatidx %s: %d pages wrong, %d EIO" % (what, res["wrong"], res["eio"]))
        r = subprocess.run([DUMPFS, "info", d], capture_output=True, text=True, timeout=TIMEOUT)
        refused = "index sidecar refused, indexed by a full read instead: %s: offset " % side
        if refused in r.stdout and "index: full read" in r.stdout:
            t.errors += 1
        elif field in SIDECAR_UNCHECKED and "index: %s)" % side in r.stdout:
            t.explained += 1
        else:
            t.failures.append("flatidx %s: /header does not say it was refused: %s" %
                              (what, r.stdout[:400]))
    return t


def main():
    names = sys.argv[4:] or list(VARIANTS) + ["remote-" + v for v in REMOTE_VARIANTS] + ["flatidx"]
    total = Totals()
    for name in names:
        work = tempfile.mkdtemp(prefix="dumpfs-matrix.")
        try:
            t = (run_remote(work, [name[7:]]) if name.startswith("remote-") else run_flatidx(work) if name == "flatidx"
                 else run_variant(name, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print("%-18s %s" % (name, t.line()))
        for f in t.failures[:int(os.environ.get("MATRIX_FAILS", 20))]:
            print("FAIL:", f)
        total.add(t)
    if len(names) > 1:
        print("%-18s %s" % ("total", total.line()))
    sys.exit(1 if total.failures else 0)


if __name__ == "__main__":
    main()

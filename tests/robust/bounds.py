#!/usr/bin/env python3
"""bounds.py PROBE MKDUMP CASE

Resource bounds: a dump whose sizes are hostile must cost memory bounded
by what the file really holds, never by what a size field claims.  Each
case builds such a dump from one our writer made, runs tests/bad/probe on
it (open, every page of /mem, every file of the tree) and measures the
probe's own peak RSS (VmHWM, which probe prints) and time.  The memory
bound is asserted; the time is only reported (the run has a generous
timeout so that a hang still fails, but speed is not asserted).

Bounds (the figures docs/robustness.md states):
  BASE_RSS_KB                a probe of a small dump, cache and libraries
  + RECORD_BYTES per flattened record (the record list while sorting and
    the piece index it leaves)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

PROBE, MKDUMP, CASE = sys.argv[1:4]
WORK = tempfile.mkdtemp(prefix="dumpfs-bounds.")
PAGE = 4096
# What any probe may use whatever the damage: far below what believing a
# size field would cost (a bitmap of 2^52 pages is 512 TiB, 4 GiB of notes
# is 4 GiB).  It includes the page cache (64 MiB by default, allocated at
# open) and AddressSanitizer's shadow when the probe is built with it (its
# quarantine is capped below).
BASE_RSS_KB = 96 * 1024
# Per flattened record: a 32-byte record while the index is built and a
# 24-byte piece after (measured: 55 bytes a record at a million records).
RECORD_BYTES = 80
TIMEOUT = 600


class Fail(Exception):
    pass


def mkdump(*args, name="d"):
    out = os.path.join(WORK, name)
    subprocess.run([MKDUMP, *args, out], check=True, stdout=subprocess.DEVNULL)
    return out


def patch(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def copy(src, name):
    dst = os.path.join(WORK, name)
    shutil.copyfile(src, dst)
    return dst


def probe(what, mem, files, rss_limit_kb, expect=None):
    """Run probe; check its peak RSS (its own VmHWM: the rusage of a child
    also counts this Python process's memory at exec) and its result; print
    the figures."""
    start = time.monotonic()
    env = dict(os.environ)
    # ASan keeps 256 MiB of freed memory by default; that is not ours.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
    try:
        r = subprocess.run([PROBE, mem, *files], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Fail("%s: probe still running after %d s" % (what, TIMEOUT))
    secs = time.monotonic() - start
    lines = r.stdout.strip().splitlines()
    out = lines[0] if lines else ""
    words = " ".join(lines).split()
    peak = int(words[words.index("peak_kib") + 1]) if "peak_kib" in words else -1
    print("%s: %.2f s, peak RSS %d KiB (bound %d KiB): %s" %
          (what, secs, peak, rss_limit_kb, out))
    if peak < 0 or peak > rss_limit_kb:
        raise Fail("%s: peak RSS %d KiB, bound %d KiB" % (what, peak, rss_limit_kb))
    if r.returncode == 3 and out.startswith("error: "):
        if expect == "served":
            raise Fail("%s: %s" % (what, out))
        if not any(f in out for f in files) or "offset" not in out:
            raise Fail("%s: error names no file and offset: %s" % (what, out))
        return None
    if r.returncode != 0:
        raise Fail("%s: probe exit %d: %s" % (what, r.returncode, out))
    if expect == "error":
        raise Fail("%s: opened, want an error: %s" % (what, out))
    res = {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}
    if res["wrong"]:
        raise Fail("%s: %d pages read wrong without an error" % (what, res["wrong"]))
    return res


def kdump_fields(path):
    b = open(path, "rb").read(PAGE)
    block, sub_blocks, bm_blocks = struct.unpack_from("<iiI", b, 428)
    return block, sub_blocks, bm_blocks


def case_pages_2_52():
    """A kdump header claiming 2^52 pages, three ways."""
    d = mkdump("--codec", "zlib", "--ram", "0-1023")
    block, sub_blocks, bm_blocks = kdump_fields(d)
    # max_mapnr_64 (v6 sub-header) says 2^52; the bitmaps hold 2^15 bits
    t = copy(d, "mapnr")
    patch(t, block + 96, struct.pack("<Q", 1 << 52))
    res = probe("max_mapnr_64 = 2^52", d + ".mem", [t], BASE_RSS_KB, "served")
    bits = bm_blocks * block // 2 * 8
    if res["served"] + res["unread"] != bits:
        raise Fail("max_mapnr_64 = 2^52: /mem has %d pages, want the %d of the bitmaps" %
                   (res["served"] + res["unread"], bits))
    # and bitmap_blocks as large as 32 bits go: 2^32 blocks of 4 KiB
    t = copy(d, "bitmaps")
    patch(t, 436, struct.pack("<II", 0xFFFFFFFE, 0xFFFFFFFF))
    probe("bitmap_blocks = 2^32 - 2, max_mapnr = 2^32 - 1", d + ".mem", [t], BASE_RSS_KB,
          "error")
    # an ELF PT_LOAD of 2^50 pages (2^62 bytes, the most /mem takes) whose
    # data is one page, and one of 2^52 pages, which is ignored
    e = mkdump("--format", "elf", "--ram", "0-15", name="e")
    for pages, want in ((1 << 50, 1 << 50), (1 << 52, 0)):
        t = elf_with_one_load(e, pages * PAGE - PAGE)
        res = probe("PT_LOAD p_memsz = 2^%d pages" % (pages.bit_length() - 1), t + ".mem", [t],
                    BASE_RSS_KB, "served")
        if res["eio"] or res["served"] + res["unread"] != max(want - 1, 0):
            raise Fail("PT_LOAD of %d pages: %d EIO pages, /mem of %d pages, want %d" %
                       (pages, res["eio"], res["served"] + res["unread"], max(want - 1, 0)))


def elf_with_one_load(e, memsz):
    """A copy of ELF dump e whose first PT_LOAD starts at 0 with one page of
    data and p_memsz memsz, and the /mem that leaves: page 0, then zeros
    (the first PT_LOAD wins where others overlap it)."""
    b = open(e, "rb").read()
    phoff, = struct.unpack_from("<Q", b, 32)
    phent, phnum = struct.unpack_from("<HH", b, 54)
    t = copy(e, "elfhuge")
    for i in range(phnum):
        at = phoff + i * phent
        if struct.unpack_from("<I", b, at)[0] == 1:
            patch(t, at + 24, struct.pack("<QQQ", 0, PAGE, memsz))
            break
    with open(t + ".mem", "wb") as f:
        f.write(b"" if memsz >= 1 << 62 else open(e + ".mem", "rb").read(PAGE))
    return t


def case_million_records():
    """A flattened kdump written as a million 1-byte records (then the rest
    of the file in one): the index costs memory per record, bounded."""
    d = mkdump("--codec", "none", "--ram", "0-383")
    data = open(d, "rb").read()
    n = min(int(os.environ.get("BOUNDS_RECORDS", 1000000)), len(data))
    t = os.path.join(WORK, "flat")
    with open(t, "wb") as f:
        hdr = bytearray(PAGE)
        hdr[:12] = b"makedumpfile"
        struct.pack_into(">QQ", hdr, 16, 1, 1)
        f.write(hdr)
        rec = struct.Struct(">qq")
        for i in range(0, n, 4096):
            f.write(b"".join(rec.pack(k, 1) + data[k:k + 1] for k in range(i, min(n, i + 4096))))
        f.write(rec.pack(n, len(data) - n) + data[n:])
        f.write(b"\xff" * 16)
    res = probe("%d one-byte flattened records" % n, d + ".mem", [t],
                BASE_RSS_KB + RECORD_BYTES * (n + 1) // 1024, "served")
    if res["served"] != 384:
        raise Fail("one-byte records: %d pages served, want 384" % res["served"])


def case_notes_4g():
    """Note sizes of 4 GiB: kdump size_note, an ELF PT_NOTE's p_filesz, a
    note's descsz and namesz."""
    d = mkdump("--codec", "zlib", "--ram", "0-255")
    block = kdump_fields(d)[0]
    t = copy(d, "kn")
    patch(t, block + 56, struct.pack("<Q", 1 << 32))           # size_note
    probe("kdump size_note = 4 GiB", d + ".mem", [t], BASE_RSS_KB, "served")
    e = mkdump("--format", "elf", "--ram", "0-255", name="e")
    phoff, = struct.unpack_from("<Q", open(e, "rb").read(64), 32)
    typ, _, off = struct.unpack_from("<IIQ", open(e, "rb").read(phoff + 16), phoff)
    if typ != 4:
        raise Fail("program header 0 is not PT_NOTE")
    for what, at, value in (("PT_NOTE p_filesz = 4 GiB", phoff + 32, struct.pack("<Q", 1 << 32)),
                            ("note descsz = 4 GiB - 1", off + 4, struct.pack("<I", 0xFFFFFFFF)),
                            ("note namesz = 4 GiB - 1", off, struct.pack("<I", 0xFFFFFFFF))):
        t = copy(e, "en")
        patch(t, at, value)
        probe(what, e + ".mem", [t], BASE_RSS_KB, "served")


def case_pn_xnum_bogus():
    """PN_XNUM whose count in section header 0 is bogus: 2^32 - 1 headers,
    0 headers, and a section header offset past the end."""
    e = mkdump("--format", "elf", "--pn-xnum", name="x")
    b = open(e, "rb").read(64)
    if struct.unpack_from("<H", b, 56)[0] != 0xFFFF:
        raise Fail("the writer did not use PN_XNUM")
    shoff, = struct.unpack_from("<Q", b, 40)
    for what, at, value, expect in (
            ("PN_XNUM count 2^32 - 1", shoff + 44, struct.pack("<I", 0xFFFFFFFF), "error"),
            ("PN_XNUM count 0", shoff + 44, struct.pack("<I", 0), None),
            ("PN_XNUM section header past the end", 40, struct.pack("<Q", 1 << 60), "error")):
        t = copy(e, "xn")
        patch(t, at, value)
        probe(what, e + ".mem", [t], BASE_RSS_KB, expect)


def case_ram_runs():
    """A kdump whose 1st bitmap alternates RAM and non-RAM page by page:
    16 Mi pages, 8 Mi RAM runs from 4 MiB of bitmaps.  Each run would cost
    about 100 bytes (run, PT_LOAD header, ELF view chunk); the core keeps
    at most MAX_RAM_RUNS of them, so the cost is bounded."""
    d = mkdump("--codec", "zlib", "--ram", "0-1023")
    b = open(d, "rb").read()
    block, sub_blocks, bm_blocks = kdump_fields(d)
    bitmaps = (1 + sub_blocks) * block
    half = bm_blocks * block // 2
    new_half = 512 * block                      # 2 MiB per bitmap: 16 Mi pages
    delta = 2 * (new_half - half)
    pd = bitmaps + 2 * half
    ndesc = sum(bin(x).count("1") for x in b[bitmaps + half:pd])
    out = bytearray(b[:bitmaps])
    struct.pack_into("<II", out, 436, 2 * new_half // block, 0xFFFFFFFF)
    struct.pack_into("<Q", out, block + 96, new_half * 8)       # max_mapnr_64
    out += b"\x55" * new_half                                   # RAM, not RAM, ...
    out += b[bitmaps + half:pd] + bytes(new_half - half)         # dumped: as before
    descs = bytearray(b[pd:pd + 24 * ndesc])
    for i in range(ndesc):                      # page data moved by delta
        off, = struct.unpack_from("<q", descs, 24 * i)
        struct.pack_into("<q", descs, 24 * i, off + delta)
    out += descs + b[pd + 24 * ndesc:]
    t = os.path.join(WORK, "runs")
    open(t, "wb").write(out)
    res = probe("1st bitmap of 8 Mi RAM runs (%d KiB file)" % (len(out) >> 10), d + ".mem", [t],
                BASE_RSS_KB, "served")
    if res["served"] + res["unread"] != new_half * 8 or res["eio"]:
        raise Fail("RAM runs: /mem of %d pages, %d EIO" % (res["served"] + res["unread"],
                                                          res["eio"]))


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

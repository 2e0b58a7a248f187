#!/usr/bin/env python3
"""raw.py DUMPFS SAMPLE WORKDIR
raw.py --seeds DIR         (inputs of the raw fuzz harness)

Raw memory images (no header: read only as the command line says) made
from the sample dump's /mem, whose first 128 MiB are its whole memory:

  padded       IMG@0, the image LiME's format=padded writes: /mem is the
               sample's byte for byte; /vmcoreinfo, /dmesg and /tasks are
               the sample's (the machine told by VMCOREINFO found in memory)
  ranges       the sample's System RAM ranges (lime.py's) concatenated, as
               LiME's format=raw writes them, with -o ranges= on a FUSE mount
               (the option's commas kept together) and cat --ranges: the
               ranges' bytes are the sample's, page 0 and the gap between
               them holes, /dmesg the sample's
  two-files    the image cut in two, given in one argument high half first
               (HI@0x4000000,LO@0, crash's form): /mem and /dmesg the sample's
  high-address a 16 MiB piece at @0x100000000: /mem is 4 GiB longer, the
               piece's bytes shifted by that, all below it a hole
               (SEEK_DATA at 0 answers 0x100000000)

and bad requests, each refused with its exact message (the file, the
offset, what was wrong) and nothing served:

  overlap, backwards, past-file, longer-file, bad-syntax, empty-range,
  bad-address, huge-address, address-overflow, files-overlap,
  mixed-set, both-placements, and not-placed (the image without either:
  probed, and the message says how a raw image is read)
"""
import os
import subprocess
import sys

from lime import RANGES, cat, check_same, check_tasks, copy_sparse
from synth import run_cases

PIECE = 16 << 20
HIGH = 0x100000000
HALF = 64 << 20
RANGES_OPT = ",".join("%#x-%#x" % r for r in RANGES)


def copy_range(src, dst, start, length, at=0):
    """@length bytes of file @src from @start into @dst at @at, zero
    chunks left sparse."""
    with open(src, "rb") as a, open(dst, "r+b" if at else "wb") as b:
        a.seek(start)
        b.seek(at)
        copy_sparse(a, b, length)
        b.truncate(b.tell())


def write_ranges(raw, path, ranges):
    """The bytes of @ranges of @raw one after the other (LiME format=raw)."""
    at = 0
    open(path, "wb").close()
    for first, last in ranges:
        copy_range(raw, path, first, last - first + 1, at)
        at += last - first + 1


def same_bytes(a, a_off, b, b_off, length):
    with open(a, "rb") as x, open(b, "rb") as y:
        x.seek(a_off)
        y.seek(b_off)
        while length:
            n = min(length, 1 << 20)
            if x.read(n) != y.read(n):
                return False
            length -= n
    return True


def cat_mem(dumpfs, args, out):
    r = subprocess.run([dumpfs, "cat", "--sparse", "--output", out, *args, "/mem"],
                       capture_output=True, timeout=300)
    if r.returncode:
        raise AssertionError("cat /mem: %s" % r.stderr.decode(errors="replace")[-300:])
    return out


def check_header(dumpfs, args, origin):
    r = subprocess.run([dumpfs, "info", *args], capture_output=True, text=True, timeout=60)
    for want in ("format: raw\n", "origin: raw memory image (%s)\n" % origin, "arch: x86_64",
                 "vmcoreinfo: yes (found in memory at"):
        if want not in r.stdout:
            raise AssertionError("/header lacks %r: %s" % (want, r.stdout[:300] + r.stderr))


def check_padded(dumpfs, sample, raw, padded, work):
    mem = cat_mem(dumpfs, [padded + "@0"], os.path.join(work, "padded.mem"))
    size = os.path.getsize(raw)
    if os.path.getsize(mem) != size or not same_bytes(mem, 0, raw, 0, size):
        raise AssertionError("/mem is not the sample's")
    os.unlink(mem)
    check_header(dumpfs, [padded + "@0"], "FILE@ADDRESS")
    for node in ("/vmcoreinfo", "/dmesg"):
        check_same(dumpfs, padded + "@0", sample, node)
    return "/mem, /vmcoreinfo, /dmesg as the sample's; " + check_tasks(dumpfs, padded + "@0", sample, work)


class Mount:
    def __init__(self, dumpfs, args, work):
        self.mnt = os.path.join(work, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        r = subprocess.run([dumpfs, *args, self.mnt], capture_output=True, timeout=60)
        if r.returncode:
            raise AssertionError("mount %s: %s" % (args, r.stderr.decode(errors="replace")))

    def __enter__(self):
        return self.mnt

    def __exit__(self, *exc):
        subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True)


def check_ranges(dumpfs, sample, raw, image, work):
    with Mount(dumpfs, [image, "-o", "ranges=" + RANGES_OPT], work) as mnt:
        mem = os.path.join(mnt, "mem")
        for first, last in RANGES:
            if not same_bytes(mem, first, raw, first, last - first + 1):
                raise AssertionError("/mem differs from the sample's in %#x-%#x" % (first, last))
        if os.path.getsize(mem) != RANGES[-1][1] + 1:
            raise AssertionError("/mem is %d bytes" % os.path.getsize(mem))
        with open(mem, "rb") as f:
            fd = f.fileno()
            holes = [os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, RANGES[0][1] + 1, os.SEEK_HOLE),
                     os.lseek(fd, 0xa0000, os.SEEK_DATA)]
        # page 0 and the gap 0xa0000-0xfffff are holes (the first range
        # ends mid-page: its page is data)
        if holes != [0x1000, 0xa0000, RANGES[1][0]]:
            raise AssertionError("SEEK_DATA 0, SEEK_HOLE after range 1, SEEK_DATA 0xa0000: %s" % [hex(h) for h in holes])
        with open(os.path.join(mnt, "dmesg"), "rb") as f:
            dmesg = f.read()
        with open(os.path.join(mnt, "header")) as f:
            header = f.read()
    want = cat(dumpfs, sample, "/dmesg").stdout
    if not dmesg or dmesg != want:
        raise AssertionError("/dmesg: %d bytes, the sample's %d" % (len(dmesg), len(want)))
    if "raw_ranges: 2\n  0x1000-0x9fbff at offset 0\n  0x100000-0x7fdffff at offset 650240\n" not in header:
        raise AssertionError("/header's ranges: %s" % header[:600])
    r = subprocess.run([dumpfs, "cat", "--ranges", RANGES_OPT, image, "/dmesg"], capture_output=True, timeout=60)
    if r.returncode or r.stdout != want:
        raise AssertionError("cat --ranges /dmesg: exit %d, %d bytes" % (r.returncode, len(r.stdout)))
    return "mounted with -o ranges=: the ranges' bytes, holes outside, /dmesg, /header; cat --ranges"


def check_two_files(dumpfs, sample, raw, lo, hi, work):
    arg = "%s@%#x,%s@0" % (hi, HALF, lo)
    mem = cat_mem(dumpfs, [arg], os.path.join(work, "two.mem"))
    if os.path.getsize(mem) != 2 * HALF or not same_bytes(mem, 0, raw, 0, 2 * HALF):
        raise AssertionError("/mem is not the sample's")
    os.unlink(mem)
    check_same(dumpfs, arg, sample, "/dmesg")
    h = subprocess.run([dumpfs, "info", arg], capture_output=True, text=True).stdout
    want = "  0-0x3ffffff at offset 0 of %s\n  0x4000000-0x7ffffff at offset 0 of %s\n" % (lo, hi)
    if want not in h:
        raise AssertionError("/header's ranges: %s" % h[:500])
    return "%s: /mem and /dmesg as the sample's" % os.path.basename(arg)


def check_high(dumpfs, raw, piece, work):
    with Mount(dumpfs, ["%s@%#x" % (piece, HIGH)], work) as mnt:
        mem = os.path.join(mnt, "mem")
        size = os.path.getsize(mem)
        with open(mem, "rb") as f:
            data = os.lseek(f.fileno(), 0, os.SEEK_DATA)
            f.seek(HIGH - 4096)
            below = f.read(4096)
        if size != HIGH + PIECE or data != HIGH or below != bytes(4096):
            raise AssertionError("size %#x, first data %#x, the page below it %s" % (
                size, data, "zeros" if below == bytes(4096) else "not zeros"))
        if not same_bytes(mem, HIGH, raw, 0, PIECE):
            raise AssertionError("/mem at %#x is not the image" % HIGH)
    return "/mem of %#x bytes, the image at %#x, a hole below" % (HIGH + PIECE, HIGH)


def refused(dumpfs, args, message, rc=1):
    r = subprocess.run([dumpfs, "info", *args], capture_output=True, text=True, timeout=60)
    if r.returncode != rc or r.stderr != "dumpfs: " + message + "\n" or r.stdout:
        raise AssertionError("exit %d (want %d), stderr %r; want %r" % (r.returncode, rc, r.stderr, message))
    return message[:100]


def bad_cases(dumpfs, image, piece, work):
    size = os.path.getsize(image)
    first = RANGES[0][1] - RANGES[0][0] + 1
    longer = "%#x-%#x,%#x-%#x" % (RANGES[0] + (RANGES[1][0], RANGES[1][1] - 0x100000))
    past = "%#x-%#x,%#x-%#x" % (RANGES[0] + (RANGES[1][0], RANGES[1][1] + 0x1000))
    return [
        ("overlap", lambda: refused(dumpfs, ["--ranges", "0x1000-0x9fbff,0x9f000-0x7fdffff", image],
            "%s: offset %d: range 2 (0x9f000-0x7fdffff) overlaps or precedes range 1, which ends at "
            "0x9fbff (ranges go in address order)" % (image, first))),
        ("backwards", lambda: refused(dumpfs, ["--ranges", "0x1000-0x9fbff,0x200000-0x100000", image],
            "%s: offset %d: range 2 (0x200000-0x100000) is not a range of physical memory (END below "
            "START, or above 2^52)" % (image, first))),
        ("past-file", lambda: refused(dumpfs, ["--ranges", past, image],
            "%s: offset %d: range 2 (0x100000-0x7fe0fff, %d bytes) runs past the end of the file: the "
            "file (%d bytes) is shorter than its ranges" % (image, first, RANGES[1][1] + 0x1001 - RANGES[1][0],
                                                            size))),
        ("longer-file", lambda: refused(dumpfs, ["--ranges", longer, image],
            "%s: offset %d: the file (%d bytes) is longer than its ranges, which end at offset %d" % (
                image, size - 0x100000, size, size - 0x100000))),
        ("bad-syntax", lambda: refused(dumpfs, ["--ranges", "0x1000-0x9fbff,0x100000+0x7fdffff", image],
            "%s: ranges: range 2 ('0x100000+0x7fdffff') is not START-END[:OFFSET] (hex after 0x, or "
            "decimal; END inclusive)" % image)),
        ("empty-range", lambda: refused(dumpfs, ["--ranges", RANGES_OPT + ",", image],
            "%s: ranges: range 3 ('') is not START-END[:OFFSET] (hex after 0x, or decimal; END "
            "inclusive)" % image)),
        ("bad-address", lambda: refused(dumpfs, [piece + "@0x8000000g"],
            "%s@0x8000000g: bad address '0x8000000g' after @ (hex after 0x, or decimal)" % piece, 2)),
        ("huge-address", lambda: refused(dumpfs, [piece + "@0x10000000000000"],
            "%s: offset 0: at @0x10000000000000 its %d bytes would end above 2^52, where no machine "
            "has memory" % (piece, PIECE))),
        ("address-overflow", lambda: refused(dumpfs, [piece + "@18446744073709551616"],
            "%s@18446744073709551616: bad address '18446744073709551616' after @ (hex after 0x, or "
            "decimal)" % piece, 2)),
        ("files-overlap", lambda: refused(dumpfs, ["%s@0x100000,%s@0x1000000" % (piece, piece)],
            "%s: offset 0: its memory 0x1000000-0x1ffffff overlaps that of %s (0x100000-0x10fffff)" % (
                piece, piece))),
        ("mixed-set", lambda: refused(dumpfs, [piece + "@0", image],
            "%s: no @ADDRESS, beside raw images that have one: every raw image needs its address" % image, 2)),
        ("both-placements", lambda: refused(dumpfs, ["--ranges", RANGES_OPT, piece + "@0"],
            "%s: a raw image is placed by FILE@ADDRESS or by ranges, not both" % piece)),
        ("not-placed", lambda: refused(dumpfs, [image],
            "%s: offset 0: not a crash dump (no KDUMP, DISKDUMP, makedumpfile, ELF or LiME signature; "
            "a raw memory image is read as FILE@ADDRESS or with -o ranges=)" % image)),
    ]


def seeds(out):
    """Inputs of the raw fuzz harness: a ranges= text, a NUL byte, then the
    image (16 KiB at most): good layouts, offsets, and near misses."""
    os.makedirs(out, exist_ok=True)
    mem = bytes(range(256)) * 64
    for i, (text, size) in enumerate([("0x1000-0x1fff,0x5000-0x6fff", 0x3000),
                                      ("0-4095:0,8192-12287:4096", 0x2000),
                                      ("0x1000-0x17ff,0x10000-0x10fff:0x800", 0x1800),
                                      ("0x0-0xfffffffffffff", 0x1000),
                                      ("4096-8191,", 0x1000),
                                      ("0x2000-0x1000", 0x1000),
                                      ("0x1000-0x1fff,0x1800-0x27ff", 0x2000)]):
        with open(os.path.join(out, "ranges-%d" % i), "wb") as f:
            f.write(text.encode() + b"\0" + mem[:size])
    return 0


def main(dumpfs, sample, work):
    os.makedirs(work, exist_ok=True)
    # the sample's memory from 0 on, gaps as zeros: also the padded image
    raw = padded = os.path.join(work, "sample.raw")
    image = os.path.join(work, "sample.ranges")
    lo, hi, piece = (os.path.join(work, n) for n in ("lo.raw", "hi.raw", "piece.raw"))
    subprocess.run([dumpfs, "cat", "--sparse", "--output", raw, sample, "/mem"], check=True,
                   capture_output=True, timeout=300)
    write_ranges(raw, image, RANGES)
    copy_range(raw, lo, 0, HALF)
    copy_range(raw, hi, HALF, HALF)
    copy_range(raw, piece, 0, PIECE)
    cases = [
        ("padded", lambda: check_padded(dumpfs, sample, raw, padded, work)),
        ("ranges", lambda: check_ranges(dumpfs, sample, raw, image, work)),
        ("two-files", lambda: check_two_files(dumpfs, sample, raw, lo, hi, work)),
        ("high-address", lambda: check_high(dumpfs, raw, piece, work)),
    ] + bad_cases(dumpfs, image, piece, work)
    rc = run_cases(cases)
    for f in (raw, image, lo, hi, piece):
        os.unlink(f)
    return rc


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2]))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

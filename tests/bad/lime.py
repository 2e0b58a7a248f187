#!/usr/bin/env python3
"""lime.py DUMPFS SAMPLE WORKDIR
lime.py --seeds DIR        (small LiME images for the fuzzer)

LiME images (format=lime) written here from the sample dump's memory, with
the System RAM ranges a 128 MiB q35 guest's /proc/iomem lists (LiME dumps
those): a header per range, then its bytes.  The image carries no notes,
no page size and no machine, so what dumpfs shows of it comes from
memory alone:

  same-memory  /mem within the ranges is the sample's /mem, byte for byte;
               outside them, holes
  vmcoreinfo   the kernel's VMCOREINFO is found in memory: /vmcoreinfo is
               the sample's, /header says where it was found and that the
               machine is x86_64 (told by VMCOREINFO's entries)
  dmesg        /dmesg is the sample's, line for line
  tasks        /tasks lists the sample's thread groups

and damaged images, each refused at open with a message naming the file,
the offset and what is wrong:

  overlap      the second range starts inside the first
  backwards    a range whose last address is below its first
  cut          the file ends inside a range's bytes
  version      a header of LiME version 2
  trailing     20 bytes after the last range: less than a header
"""
import os
import struct
import subprocess
import sys

from synth import run_cases

MAGIC = 0x4C694D45
RANGES = [(0x1000, 0x9fbff), (0x100000, 0x7fdffff)]


def header(first, last, version=1):
    return struct.pack("<IIQQQ", MAGIC, version, first, last, 0)


def write_lime(path, raw, ranges, tweak=None):
    """A LiME image of @ranges of the memory file @raw, its zero chunks
    left sparse."""
    with open(raw, "rb") as src, open(path, "wb") as out:
        for i, (first, last) in enumerate(ranges):
            h = header(first, last)
            if tweak:
                h = tweak(i, h)
            out.write(h)
            src.seek(first)
            copy_sparse(src, out, last - first + 1)
        out.truncate(out.tell())


def copy_sparse(src, out, left):
    """@left bytes from open file @src to @out, zero chunks skipped (holes)."""
    while left:
        chunk = src.read(min(left, 1 << 20))
        if chunk.count(0) == len(chunk):
            out.seek(len(chunk), os.SEEK_CUR)
        else:
            out.write(chunk)
        left -= len(chunk)


def cat(dumpfs, path, node):
    return subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=300)


def check_memory(dumpfs, lime, raw):
    r = subprocess.run([dumpfs, "cat", "--sparse", "--output", lime + ".mem", lime, "/mem"],
                       capture_output=True, timeout=300)
    if r.returncode:
        raise AssertionError("cat /mem: %s" % r.stderr.decode(errors="replace")[-300:])
    with open(raw, "rb") as a, open(lime + ".mem", "rb") as b:
        for first, last in RANGES:
            a.seek(first)
            b.seek(first)
            for _ in range(0, last - first + 1, 1 << 20):
                n = min(1 << 20, last + 1 - a.tell())
                if a.read(n) != b.read(n):
                    raise AssertionError("/mem differs from the sample's in %#x-%#x" % (first, last))
        if os.path.getsize(lime + ".mem") != RANGES[-1][1] + 1:
            raise AssertionError("/mem is %d bytes" % os.path.getsize(lime + ".mem"))
        b.seek(0)
        if b.read(0x1000) != bytes(0x1000):
            raise AssertionError("page 0, outside every range, is not a hole of zeros")
    os.unlink(lime + ".mem")
    return "%d ranges, %d MiB as the sample's" % (len(RANGES), sum(l - f + 1 for f, l in RANGES) >> 20)


def check_same(dumpfs, lime, sample, node):
    a, b = cat(dumpfs, lime, node), cat(dumpfs, sample, node)
    if a.returncode or not a.stdout or a.stdout != b.stdout:
        raise AssertionError("%s: exit %d, %d bytes, the sample's %d: %s" % (
            node, a.returncode, len(a.stdout), len(b.stdout), a.stderr.decode(errors="replace")[-300:]))
    return "%d bytes as the sample's" % len(a.stdout)


def check_header(dumpfs, lime):
    h = cat(dumpfs, lime, "/header").stdout.decode()
    for want in ("format: LiME", "arch: x86_64", "vmcoreinfo: yes (found in memory at"):
        if want not in h:
            raise AssertionError("/header lacks %r" % want)
    return "LiME, x86_64, VMCOREINFO found in memory"


def check_tasks(dumpfs, lime, sample, work):
    def pids(path):
        mnt = os.path.join(work, "mnt")
        os.makedirs(mnt, exist_ok=True)
        subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
        try:
            return sorted(os.listdir(os.path.join(mnt, "tasks")), key=int)
        finally:
            subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    a, b = pids(lime), pids(sample)
    if a != b or not a:
        raise AssertionError("/tasks %r, the sample's %r" % (a[:6], b[:6]))
    return "%d thread groups" % len(a)


def refused(dumpfs, path, words):
    r = subprocess.run([dumpfs, "info", path], capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0 or words not in err or path not in err:
        raise AssertionError("exit %d, %r; expected a refusal saying %r" % (r.returncode, err[-300:], words))
    return err.strip()[:160]


def damaged(work, raw, case):
    path = os.path.join(work, case + ".lime")
    small = [(0x1000, 0x9fbff), (0x100000, 0x1ffffff)]
    if case == "overlap":
        write_lime(path, raw, [(0x1000, 0x9fbff), (0x9f000, 0x1ffffff)])
    elif case == "backwards":
        write_lime(path, raw, small, lambda i, h: header(0x2000000, 0x100000) if i else h)
    elif case == "version":
        write_lime(path, raw, small, lambda i, h: header(0x100000, 0x1ffffff, 2) if i else h)
    else:
        write_lime(path, raw, small)
        with open(path, "r+b") as f:
            if case == "cut":
                f.truncate(os.path.getsize(path) - 4096)
            else:
                f.seek(0, os.SEEK_END)
                f.write(b"x" * 20)
    return path


def seeds(out):
    """Two small images (the second range sparse) and one with a bad
    second header, under libFuzzer's 64 KiB."""
    os.makedirs(out, exist_ok=True)
    mem = bytes(range(256)) * 64
    for name, ranges in (("lime-two", [(0x1000, 0x2fff), (0x5000, 0x6fff)]),
                         ("lime-odd", [(0x1000, 0x17ff), (0x10000, 0x10fff)])):
        with open(os.path.join(out, name), "wb") as f:
            for first, last in ranges:
                f.write(header(first, last) + mem[:last - first + 1])
    return 0


def main(dumpfs, sample, work):
    os.makedirs(work, exist_ok=True)
    raw, lime = os.path.join(work, "sample.raw"), os.path.join(work, "sample.lime")
    subprocess.run([dumpfs, "cat", "--sparse", "--output", raw, sample, "/mem"], check=True,
                   capture_output=True, timeout=300)
    write_lime(lime, raw, RANGES)
    cases = [
        ("same-memory", lambda: check_memory(dumpfs, lime, raw)),
        ("vmcoreinfo", lambda: (check_same(dumpfs, lime, sample, "/vmcoreinfo"), check_header(dumpfs, lime))[1]),
        ("dmesg", lambda: check_same(dumpfs, lime, sample, "/dmesg")),
        ("tasks", lambda: check_tasks(dumpfs, lime, sample, work)),
        ("overlap", lambda: refused(dumpfs, damaged(work, raw, "overlap"), "overlaps or precedes")),
        ("backwards", lambda: refused(dumpfs, damaged(work, raw, "backwards"), "is not a range of physical")),
        ("cut", lambda: refused(dumpfs, damaged(work, raw, "cut"), "bytes, the file")),
        ("version", lambda: refused(dumpfs, damaged(work, raw, "version"), "LiME version 2")),
        ("trailing", lambda: refused(dumpfs, damaged(work, raw, "trailing"), "less than a header")),
    ]
    rc = run_cases(cases)
    for f in os.listdir(work):
        if f.endswith((".lime", ".raw")):
            os.unlink(os.path.join(work, f))
    return rc


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2]))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

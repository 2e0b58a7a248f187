#!/usr/bin/env python3
"""Check a mounted dumpfs tree against the expected files mkdump wrote.

usage: verify.py MOUNTPOINT EXPECTED_PREFIX

EXPECTED_PREFIX.mem    the exact bytes of /mem (EIO pages are zeros here)
EXPECTED_PREFIX.eio    pfns that must read EIO
EXPECTED_PREFIX.holes  "first last" pfn runs that are not in the dump
EXPECTED_PREFIX.cpuN.{prstatus,qemu,xen_context,xen_crash_regs}, .vmcoreinfo, .info
EXPECTED_PREFIX.dom0.{mem,eio,holes,vmcoreinfo}  /dom0/... of a Xen host's dump
Exits 1 with a message at the first difference.
"""
import errno
import os
import struct
import sys

CHUNK = 1 << 20


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_info(prefix):
    info = {}
    with open(prefix + ".info") as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            info[k] = v
    return info


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split() for l in f if l.strip()]


def check_mem(mnt, prefix, page, eio, name="mem"):
    with open(prefix + ".mem", "rb") as f:
        want = f.read()
    st = os.stat(os.path.join(mnt, name))
    if st.st_size != len(want):
        fail("/%s size %d, expected %d" % (name, st.st_size, len(want)))
    fd = os.open(os.path.join(mnt, name), os.O_RDONLY)
    try:
        off = 0
        while off < len(want):
            n = min(CHUNK, len(want) - off)
            try:
                got = os.pread(fd, n, off)
                if got == want[off:off + n]:
                    off += n
                    continue
            except OSError:
                pass
            # Look closer, one page at a time.
            for p in range(off, off + n, page):
                pfn = p // page
                try:
                    got = os.pread(fd, page, p)
                except OSError as e:
                    if e.errno == errno.EIO and pfn in eio:
                        continue
                    fail("/%s pfn %#x: %s" % (name, pfn, e))
                if pfn in eio:
                    fail("/%s pfn %#x: read succeeded, expected EIO" % (name, pfn))
                if got != want[p:p + page]:
                    fail("/%s pfn %#x differs" % (name, pfn))
            off += n
    finally:
        os.close(fd)
    return len(want)


def check_holes(mnt, prefix, page, size, name="mem"):
    want = [(int(a), int(b)) for a, b in read_lines(prefix + ".holes")]
    fd = os.open(os.path.join(mnt, name), os.O_RDONLY)
    got = []
    off = 0
    try:
        while off < size:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    fail("SEEK_DATA at %d: %s" % (off, e))
                data = size
            if data > off:
                got.append((off // page, data // page - 1))
            if data >= size:
                break
            off = os.lseek(fd, data, os.SEEK_HOLE)
    finally:
        os.close(fd)
    if got != want:
        fail("/%s holes differ: got %s... expected %s..." % (name, got[:6], want[:6]))


def data_runs(path, size):
    """(start, end) byte ranges that SEEK_DATA/SEEK_HOLE report as data."""
    runs = []
    fd = os.open(path, os.O_RDONLY)
    try:
        off = 0
        while off < size:
            try:
                start = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    fail("%s: SEEK_DATA at %d: %s" % (path, off, e))
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            if not off <= start < end <= size:
                fail("%s: SEEK_DATA %d gave %d, SEEK_HOLE %d (size %d)" % (path, off, start, end, size))
            runs.append((start, end))
            off = end
    finally:
        os.close(fd)
    return runs


def merge(ranges):
    out = []
    for a, b in sorted(r for r in ranges if r[0] < r[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def elf_loads(path):
    """(offset, paddr, filesz) of each PT_LOAD of an ELF64 file."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        end = "<" if ehdr[5] == 1 else ">"
        phoff, shoff = struct.unpack_from(end + "QQ", ehdr, 32)
        phentsize, phnum = struct.unpack_from(end + "HH", ehdr, 54)
        if phnum == 0xffff:
            f.seek(shoff + 44)
            phnum = struct.unpack(end + "I", f.read(4))[0]
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    loads = []
    for i in range(phnum):
        ptype, _, off, _, paddr, filesz = struct.unpack_from(end + "IIQQQQ", table, i * phentsize)
        if ptype == 1:
            loads.append((off, paddr, filesz))
    return loads


def check_elf_holes(mnt, prefix, page, passthrough):
    """/vmcore.elf's holes: exactly the bytes of its PT_LOADs whose pages
    are holes of /mem (none for an ELF input served as it is), and they
    read as zeros."""
    path = os.path.join(mnt, "vmcore.elf")
    size = os.path.getsize(path)
    holes = [(int(a) * page, (int(b) + 1) * page) for a, b in read_lines(prefix + ".holes")]
    want = []
    if not passthrough:
        for off, paddr, filesz in elf_loads(path):
            for a, b in holes:
                lo, hi = max(a, paddr), min(b, paddr + filesz)
                if lo < hi:
                    want.append((off + lo - paddr, off + hi - paddr))
    want = merge(want)
    data, at = data_runs(path, size), 0
    got = []
    for a, b in data:
        got.append((at, a))
        at = b
    got = merge(got + [(at, size)])
    if got != want:
        fail("/vmcore.elf holes differ: got %s... expected %s..." % (got[:4], want[:4]))
    with open(path, "rb") as f:
        for a, b in got:
            f.seek(a)
            while a < b:
                n = min(b - a, 1 << 20)
                if f.read(n).count(0) != n:
                    fail("/vmcore.elf hole at %d does not read as zeros" % a)
                a += n
    return len(got)


def check_file(path, want_path):
    with open(want_path, "rb") as f:
        want = f.read()
    with open(path, "rb") as f:
        got = f.read()
    if got != want:
        fail("%s differs from %s (%d vs %d bytes)" % (path, want_path, len(got), len(want)))


# What /cpus/N/ holds besides regs: the note descriptors (a Xen domain's
# vcpu_guest_context, a Xen host's crash_xen_core_t), where the dump has them.
CPU_FILES = ("prstatus", "qemu", "xen_context", "xen_crash_regs")


def check_cpus(mnt, prefix, info):
    ncpus = 0
    while any(os.path.exists("%s.cpu%d.%s" % (prefix, ncpus, k)) for k in CPU_FILES):
        ncpus += 1
    have = sorted(os.listdir(os.path.join(mnt, "cpus")), key=int)
    if have != [str(i) for i in range(ncpus)]:
        fail("/cpus has %s, expected %d CPUs" % (have, ncpus))
    for i in range(ncpus):
        for kind in CPU_FILES:
            want = "%s.cpu%d.%s" % (prefix, i, kind)
            got = os.path.join(mnt, "cpus", str(i), kind)
            if os.path.exists(want):
                check_file(got, want)
            elif os.path.exists(got):
                fail("%s exists but the dump has no such note" % got)
        with open(os.path.join(mnt, "cpus", str(i), "regs")) as f:
            regs = f.read()
        if "cpu: %d" % i not in regs:
            fail("cpus/%d/regs does not name its CPU" % i)


def main():
    mnt, prefix = sys.argv[1], sys.argv[2]
    info = read_info(prefix)
    page = int(info["page_size"])
    eio = {int(l[0]) for l in read_lines(prefix + ".eio")}
    size = check_mem(mnt, prefix, page, eio)
    check_holes(mnt, prefix, page, size)
    check_cpus(mnt, prefix, info)
    if os.path.exists(prefix + ".vmcoreinfo"):
        check_file(os.path.join(mnt, "vmcoreinfo"), prefix + ".vmcoreinfo")
    elif os.path.exists(os.path.join(mnt, "vmcoreinfo")):
        fail("/vmcoreinfo exists but the dump has none")
    with open(os.path.join(mnt, "header")) as f:
        header = f.read()
    elf_holes = check_elf_holes(mnt, prefix, page, "(the input ELF as is)" in header)
    for key in ("page_size: %d" % page, "max_pfn: %#x" % (size // page)):
        if key not in header:
            fail("/header lacks %r" % key)
    dom0 = ""
    if os.path.exists(prefix + ".dom0.mem"):
        # a Xen host's dump: dom0's pseudo-physical memory beside the machine's
        deio = {int(l[0]) for l in read_lines(prefix + ".dom0.eio")}
        dsize = check_mem(mnt, prefix + ".dom0", page, deio, "dom0/mem")
        check_holes(mnt, prefix + ".dom0", page, dsize, "dom0/mem")
        if os.path.exists(prefix + ".dom0.vmcoreinfo"):
            check_file(os.path.join(mnt, "dom0", "vmcoreinfo"), prefix + ".dom0.vmcoreinfo")
        dom0 = ", %d bytes of /dom0/mem (%d EIO pages)" % (dsize, len(deio))
    print("ok: %d bytes of /mem, %d EIO pages, %d holes in /vmcore.elf%s" % (size, len(eio), elf_holes, dom0))


main()

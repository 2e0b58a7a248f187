#!/usr/bin/env python3
"""qemu_core.py DUMPFS [CACHE_DIR...]

Core files of the qemu-system-x86_64 process (images/make-qemu-cores.sh:
gcore and the kernel's core, kill -ABRT, of a QMP-stopped guest) against
QEMU's dump-guest-memory of the same paused moment (ELF for the small
guest, kdump-zlib for the 4.5 GiB ones).

Without the reader of QEMU process cores (checks of the corpus itself):
  - each core is an x86_64 ELF core of qemu-system-x86_64 (its NT_FILE note
    names the binary), the sleep cores of a sleep;
  - the guest's RAM block is found in the core (the PT_LOAD whose pages are
    the reference's), and, through QEMU's own layout ("info mtree -f": guest
    physical -> offset in pc.ram), every page of the guest's usable e820
    ranges (BIOS-e820 lines of its console) is the same in the core, read
    with our own ELF parser, and in the reference, read through dumpfs.
With the reader (`dumpfs CORE MNT` mounts; every failure is printed with the
assertion's name):
  - usable:    every page of the usable e820 ranges is data in the core's
               /mem and equal to the reference's;
  - data:      every data page of the core's /mem lies in guest RAM (no BIOS,
               VGA or option ROMs) and equals the reference's page;
  - vmcoreinfo, dmesg, tasks: /vmcoreinfo equal, /dmesg the same lines,
               `ls /tasks` equal;
  - header:    /header has guest_ram_block:, guest_layout: and layout_origin:;
  - not-qemu:  the sleep cores are refused, naming "not a QEMU process core";
  - truncated: a sparse copy of the small kernel core cut inside the RAM
               mapping mounts; a page past the cut gives EIO, pages before it
               read and equal the reference;
  - crash, drgn (with /var/cache/dumpfs/x86-dbg/vmlinux-KVER, else skipped):
               crash -s `sys; ps; log` prints the same on the reference's and
               the core's /vmcore.elf, drgn lists the same tasks.

CACHE_DIR: a /var/cache/dumpfs/qcore-KEY directory (several may be given);
default: every qcore-KEY (12 hex digits), the newest complete copy of each
guest.  Exits 77 (skip)
when there is no guest at all."""
import errno
import functools
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from common import Fail, data_extents, mounted, parse_notes, read_elf_ends

PAGE = 4096
CHUNK = 8 << 20
FOUR_GIB = 1 << 32
GUESTS = ("small", "pc-4608", "q35-4608", "q35-3072")
NOT_QEMU = "not a QEMU process core"
DBG_DIR = "/var/cache/dumpfs/x86-dbg"
# DUMPFS_REAL_TOOLS=0 (run-all.sh's sanitizer run): no crash or drgn on
# /vmcore.elf; the plain run compares them.
TOOLS = os.environ.get("DUMPFS_REAL_TOOLS", "1") != "0"


class Checks:
    """Assertions by name: each failure is printed at once and counted."""

    def __init__(self):
        self.failed, self.passed, self.skipped = [], [], []
        self.t = time.monotonic()

    def took(self):
        t, self.t = self.t, time.monotonic()
        return "[%.1f s]" % (self.t - t)

    def ok(self, name, msg):
        self.passed.append(name)
        print("ok    %-34s %s %s" % (name, msg, self.took()), flush=True)

    def fail(self, name, msg):
        self.failed.append(name)
        print("FAIL  %-34s %s %s" % (name, msg, self.took()), flush=True)

    def skip(self, name, msg):
        self.skipped.append(name)
        print("skip  %-34s %s %s" % (name, msg, self.took()), flush=True)

    def run(self, name, fn, *args):
        """fn(*args) returns a message (ok), or raises Fail (failed)."""
        try:
            self.ok(name, fn(*args))
            return True
        except Fail as e:
            self.fail(name, str(e))
        except OSError as e:
            self.fail(name, "%s: %s" % (type(e).__name__, e))
        return False


def find_guests(args):
    """{guest: directory} of the newest complete copy of each guest."""
    # qcore-KEY, KEY 12 hex digits (not the qcore-ARCH-KEY of other recipes)
    roots = args or [d for d in glob.glob("/var/cache/dumpfs/qcore-*/")
                     if re.fullmatch(r"qcore-[0-9a-f]{12}", os.path.basename(d.rstrip("/")))]
    found = {}
    for g in GUESTS + ("other",):
        done = [os.path.join(r, g, "COMPLETE") for r in roots]
        done = sorted((p for p in done if os.path.exists(p)), key=os.path.getmtime)
        if done:
            found[g] = os.path.dirname(done[-1])
    return found


def facts(gdir):
    out = {}
    for line in open(os.path.join(gdir, "facts.txt")):
        k, _, v = line.rstrip("\n").partition("=")
        if k != "e820":
            out[k] = v
    return out


def e820_usable(serial):
    """[(start, end exclusive)] of the BIOS-e820 usable lines, whole pages
    only (0x9fbff ends inside a page)."""
    out = []
    for line in open(serial, errors="replace"):
        m = re.search(r"BIOS-e820: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] usable", line)
        if m:
            s, e = int(m.group(1), 16), int(m.group(2), 16) + 1
            s, e = (s + PAGE - 1) // PAGE * PAGE, e // PAGE * PAGE
            if e > s:
                out.append((s, e))
    if not out:
        raise Fail("%s: no BIOS-e820 usable lines" % serial)
    return out


def mtree_ram(path):
    """[(guest start, end exclusive, offset in pc.ram)] of the "memory"
    address space's flat view ("info mtree -f")."""
    views, cur = [], None
    for line in open(path):
        if line.startswith("FlatView"):
            cur = {"as": [], "ranges": []}
            views.append(cur)
        elif cur is not None:
            m = re.match(r'\s*AS "([^"]+)"', line)
            if m:
                cur["as"].append(m.group(1))
            m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, (?:ram|rom)\): pc\.ram(?: @([0-9a-f]+))?\s*$", line)
            if m:
                s, e = int(m.group(1), 16), int(m.group(2), 16) + 1
                cur["ranges"].append((s, e, int(m.group(3) or "0", 16)))
    for v in views:
        if "memory" in v["as"]:
            if not v["ranges"]:
                raise Fail("%s: no pc.ram in the flat view of \"memory\"" % path)
            return merge_ram(v["ranges"])
    raise Fail("%s: no flat view of the \"memory\" address space" % path)


def merge_ram(rs):
    out = []
    for s, e, o in sorted(rs):
        if out and out[-1][1] == s and out[-1][2] + (s - out[-1][0]) == o:
            out[-1] = (out[-1][0], e, out[-1][2])
        else:
            out.append((s, e, o))
    return out


def ramblock_size(path, name="pc.ram"):
    for line in open(path):
        f = line.split()
        if f and f[0] == name:
            return int(f[4], 16)
    raise Fail("%s: no RAM block %s" % (path, name))


class Core:
    """An x86_64 ELF core of a process, read with our own parser:
    [(vaddr, offset, filesz, memsz, flags)] and its notes."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        h = self.f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:
            raise Fail("%s: not a little-endian ELF64" % path)
        etype, machine = struct.unpack_from("<HH", h, 16)
        if etype != 4 or machine != 62:
            raise Fail("%s: e_type %d e_machine %d, not an x86_64 core" % (path, etype, machine))
        phoff, = struct.unpack_from("<Q", h, 32)
        phnum, = struct.unpack_from("<H", h, 56)
        if phnum == 0xFFFF:
            shoff, = struct.unpack_from("<Q", h, 40)
            self.f.seek(shoff + 44)
            phnum, = struct.unpack("<I", self.f.read(4))
        self.f.seek(phoff)
        tab = self.f.read(56 * phnum)
        self.loads, self.notes = [], []
        for i in range(phnum):
            typ, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", tab, 56 * i)
            if typ == 1:
                self.loads.append((vaddr, off, filesz, memsz, flags))
            elif typ == 4:
                self.f.seek(off)
                self.notes += parse_notes(self.f.read(filesz))
        self.loads.sort()
        self.size = os.fstat(self.f.fileno()).st_size

    def files(self):
        """The file names of the NT_FILE note (0x46494c45)."""
        for name, typ, desc in self.notes:
            if name == b"CORE" and typ == 0x46494C45:
                count, _ = struct.unpack_from("<QQ", desc)
                return desc[16 + 24 * count:].split(b"\0")
        return []

    def threads(self):
        return sum(1 for n, t, _ in self.notes if n == b"CORE" and t == 1)

    def read(self, va, n):
        """N bytes at user address VA: zeros where a PT_LOAD has no file
        bytes (p_filesz < p_memsz) or the file ends; None outside every
        PT_LOAD."""
        out = bytearray()
        while n:
            ld = next((l for l in self.loads if l[0] <= va < l[0] + l[3]), None)
            if ld is None:
                return None
            vaddr, off, filesz, memsz, _ = ld
            k = min(n, vaddr + memsz - va)
            inside = max(0, min(k, vaddr + filesz - va))
            b = os.pread(self.f.fileno(), inside, off + va - vaddr) if inside else b""
            out += b + bytes(k - len(b))
            va, n = va + k, n - k
        return bytes(out)


class GuestRam:
    """Guest physical memory of a QEMU core, by QEMU's layout (mtree) and
    the address of pc.ram found in the core."""

    def __init__(self, core, layout, base):
        self.core, self.layout, self.base = core, layout, base

    def hva(self, pa):
        for s, e, o in self.layout:
            if s <= pa < e:
                return self.base + o + pa - s, e - pa
        return None, 0

    def read(self, pa, n):
        out = bytearray()
        while n:
            va, left = self.hva(pa)
            if va is None:
                raise Fail("%#x is not guest RAM" % pa)
            k = min(n, left)
            out += self.core.read(va, k)
            pa, n = pa + k, n - k
        return bytes(out)


def read_at(fd, pos, n):
    out = bytearray()
    while len(out) < n:
        b = os.pread(fd, n - len(out), pos + len(out))
        if not b:
            break
        out += b
    return bytes(out).ljust(n, b"\0")


def sample_pages(reffd, ranges, want=24):
    """Up to WANT non-zero reference pages spread over RANGES."""
    total = sum(e - s for s, e in ranges) // PAGE
    step = max(1, total // (want * 64))   # most pages of a big idle guest are zero
    out, k = [], 0
    for s, e in ranges:
        for pa in range(s, e, PAGE):
            if k % step == 0:
                b = read_at(reffd, pa, PAGE)
                if b.count(0) != PAGE:
                    out.append((pa, b))
            k += 1
    return out[::max(1, len(out) // want)]


def find_ram_base(core, layout, reffd, usable, ram_size):
    """The user address of pc.ram: the start of the one RW PT_LOAD of at
    least the block's size whose pages are the reference's."""
    samples = sample_pages(reffd, usable)
    if len(samples) < 4:
        raise Fail("fewer than 4 non-zero reference pages to find the RAM block with")
    hits = []
    for vaddr, _, filesz, memsz, flags in core.loads:
        if memsz < ram_size or not flags & 2:
            continue
        ram = GuestRam(core, layout, vaddr)
        if all(ram.read(pa, PAGE) == b for pa, b in samples):
            hits.append(vaddr)
    if len(hits) != 1:
        raise Fail("%s: %d PT_LOADs of >= %#x bytes hold the reference's %d sample pages" % (
            core.path, len(hits), ram_size, len(samples)))
    return hits[0], len(samples)


def differing_pages(pos, a, b):
    ma, mb = memoryview(a), memoryview(b)
    return [pos + i for i in range(0, len(a), PAGE) if ma[i:i + PAGE] != mb[i:i + PAGE]]


def compare_ranges(what, ranges, read_a, read_b):
    """Compare two readers over RANGES in big chunks; Fail naming the first
    differing pages.  Returns the number of pages compared."""
    pages, bad = 0, []
    for s, e in ranges:
        pos = s
        while pos < e:
            n = min(CHUNK, e - pos)
            a, b = read_a(pos, n), read_b(pos, n)
            if a != b:
                bad += differing_pages(pos, a, b)
            pages += n // PAGE
            pos += n
    if bad:
        raise Fail("%s: %d of %d pages differ, first at %s" % (
            what, len(bad), pages, " ".join("%#x" % p for p in bad[:8])))
    return pages


def ranges_minus(a, b):
    """a - b, both sorted [(start, end exclusive)]."""
    out = []
    for s, e in a:
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def describe(ranges, most=6):
    return " ".join("%#x-%#x" % r for r in ranges[:most]) + (" ..." if len(ranges) > most else "")


def lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


# --- the corpus itself (no reader needed) ---

def check_core_file(core, binary):
    names = [n for n in core.files() if n]
    if not any(os.path.basename(n) == binary.encode() for n in names):
        raise Fail("%s: its NT_FILE note names no %s (%d files: %s)" % (
            core.path, binary, len(names), b" ".join(names[:4]).decode(errors="replace")))
    st = os.stat(core.path)
    return "%d PT_LOADs, %d threads (NT_PRSTATUS), %d bytes, %d allocated" % (
        len(core.loads), core.threads(), st.st_size, st.st_blocks * 512)


def check_corpus_pages(ram, reffd, usable):
    n = compare_ranges("core (own parser) vs reference", usable,
                       lambda p, n: read_at(reffd, p, n), ram.read)
    return "%d usable pages equal in the core (read by our parser) and the reference" % n


# --- with the reader ---

def compare_mem(what, mnt, reffd, ranges):
    fd = os.open(os.path.join(mnt, "mem"), os.O_RDONLY)
    try:
        return compare_ranges(what + ", core /mem vs reference /mem", ranges,
                              lambda p, n: read_at(reffd, p, n), lambda p, n: read_at(fd, p, n))
    finally:
        os.close(fd)


def check_header(mnt, layout):
    """The lines are there, and guest_layout's START-END@OFFSET ranges are
    QEMU's own layout ("info mtree -f")."""
    head = lines(os.path.join(mnt, "header"))
    got = {}
    for want in ("guest_ram_block:", "guest_layout:", "layout_origin:"):
        hit = [l for l in head if l.startswith(want)]
        if not hit:
            raise Fail("/header has no %s line" % want)
        got[want] = hit[0]
    told = [(int(a, 16), int(b, 16) + 1, int(o, 16)) for a, b, o in
            re.findall(r"\b(0x[0-9a-f]+|0)-(0x[0-9a-f]+)@(0x[0-9a-f]+|0)\b", got["guest_layout:"])]
    if merge_ram(told) != layout:
        raise Fail("%s; QEMU's layout (info mtree -f) is %s" % (
            got["guest_layout:"], " ".join("%#x-%#x@%#x" % (s, e - 1, o) for s, e, o in layout)))
    return "; ".join(got[k] for k in ("guest_ram_block:", "guest_layout:", "layout_origin:"))


def check_usable(mnt, reffd, usable):
    data = data_extents(os.path.join(mnt, "mem"))
    missing = ranges_minus(usable, data)
    if missing:
        raise Fail("usable e820 pages that are holes in the core's /mem: %s" % describe(missing))
    n = compare_mem("usable pages", mnt, reffd, usable)
    return "%d usable pages: data in /mem, equal to the reference" % n


def check_data(mnt, reffd, layout):
    data = data_extents(os.path.join(mnt, "mem"))
    outside = ranges_minus(data, [(s, e) for s, e, _ in layout])
    if outside:
        raise Fail("data of the core's /mem outside guest RAM (%s): %s" % (
            describe([(s, e) for s, e, _ in layout]), describe(outside)))
    n = compare_mem("data pages", mnt, reffd, data)
    return "%d data pages in %d extents, all in guest RAM, equal to the reference" % (n, len(data))


def check_same_file(name, mnt, refmnt):
    a, b = os.path.join(mnt, name), os.path.join(refmnt, name)
    if not os.path.exists(b):
        raise Fail("the reference has no /%s" % name)
    if not os.path.exists(a):
        raise Fail("the core's mount has no /%s" % name)
    la, lb = lines(a), lines(b)
    if la != lb:
        i = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
        raise Fail("/%s differs at line %d: core %r, reference %r (%d and %d lines)" % (
            name, i + 1, la[i] if i < len(la) else None, lb[i] if i < len(lb) else None, len(la), len(lb)))
    return "%d lines, equal" % len(la)


def check_tasks(mnt, refmnt):
    a = sorted(os.listdir(os.path.join(mnt, "tasks")), key=lambda s: (len(s), s))
    b = sorted(os.listdir(os.path.join(refmnt, "tasks")), key=lambda s: (len(s), s))
    if a != b:
        raise Fail("ls /tasks: only in the core %s, only in the reference %s" % (
            sorted(set(a) - set(b))[:10], sorted(set(b) - set(a))[:10]))
    comm = [open(os.path.join(mnt, "tasks", p, "comm")).read() for p in a[:64]]
    rcomm = [open(os.path.join(refmnt, "tasks", p, "comm")).read() for p in a[:64]]
    if comm != rcomm:
        raise Fail("/tasks/PID/comm differ")
    return "%d tasks, the same; comm of the first %d equal" % (len(a), len(comm))


def check_refused(dumpfs, path):
    mnt = tempfile.mkdtemp(prefix="dumpfs-qcore.")
    try:
        r = subprocess.run([dumpfs, path, mnt], capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            subprocess.run(["fusermount3", "-u", mnt], check=False)
            raise Fail("%s was mounted" % path)
        if NOT_QEMU not in r.stderr:
            raise Fail("exit %d, but the error does not say %r: %s" % (
                r.returncode, NOT_QEMU, r.stderr.strip()[-300:]))
        return "refused: %s" % r.stderr.strip().splitlines()[-1]
    finally:
        os.rmdir(mnt)


def check_truncated(dumpfs, core, ram, reffd, usable, tmpdir):
    """A sparse copy of CORE cut in the middle of the RAM mapping."""
    mid = (usable[-1][0] + usable[-1][1]) // 2 // PAGE * PAGE
    va, _ = ram.hva(mid)
    ld = next(l for l in core.loads if l[0] <= va < l[0] + l[3])
    cut = ld[1] + va - ld[0]
    copy = os.path.join(tmpdir, "truncated.core")
    subprocess.run(["cp", "--sparse=always", core.path, copy], check=True)
    os.truncate(copy, cut)
    # a page past the cut the reference has data in, and one before it
    after = [(pa, b) for pa, b in sample_pages(reffd, [(mid + PAGE, usable[-1][1])]) if pa > mid]
    before = [(pa, b) for pa, b in sample_pages(reffd, [(usable[-1][0], mid)]) if pa < mid]
    if not after or not before:
        raise Fail("no non-zero reference pages on both sides of the cut at guest %#x" % mid)
    try:
        with mounted(dumpfs, [copy]) as mnt:
            fd = os.open(os.path.join(mnt, "mem"), os.O_RDONLY)
            try:
                for pa, b in before:
                    if os.pread(fd, PAGE, pa) != b:
                        raise Fail("guest page %#x, before the cut, differs from the reference" % pa)
                pa = after[0][0]
                try:
                    os.pread(fd, PAGE, pa)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise Fail("guest page %#x past the cut: %s, not EIO" % (pa, e))
                else:
                    raise Fail("guest page %#x past the cut (file offset %#x) was read" % (pa, cut))
            finally:
                os.close(fd)
            trunc = [l for l in lines(os.path.join(mnt, "header")) if l.startswith("truncated:")]
    finally:
        os.unlink(copy)
    return "cut at file offset %#x (guest %#x): %d pages before read equal, page %#x gives EIO%s" % (
        cut, mid, len(before), after[0][0], "; " + trunc[0] if trunc else "")


# --- crash and drgn on /vmcore.elf ---

# crash 8.0.2's ps sees only the idle tasks of this 6.1 kernel (on QEMU's
# own ELF too), so init_task's list of tasks is walked as well
CRASH_CMDS = "sys\nps\nlog\nlist -o task_struct.tasks -s task_struct.pid,comm -h init_task\nq\n"


@functools.lru_cache(maxsize=None)
def crash_out(vmlinux, elf):
    r = subprocess.run(["crash", "-s", vmlinux, elf], input=CRASH_CMDS,
                       capture_output=True, text=True, timeout=600)
    out = []
    for l in r.stdout.splitlines():
        if re.match(r"\s*DUMPFILE:", l):
            l = "DUMPFILE: (normalized)"
        out.append(l.replace(elf, "VMCORE").rstrip())
    if r.returncode != 0 or not any("TASKS:" in l for l in out) or not any("pid = 1," in l for l in out):
        raise Fail("crash -s %s: exit %d: %s" % (elf, r.returncode, (r.stderr or r.stdout).strip()[-300:]))
    return out


DRGN = r"""
import sys, drgn
from drgn.helpers.linux.pid import for_each_task
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
for t in for_each_task(p):
    print(t.pid.value_(), t.comm.string_().decode())
"""


@functools.lru_cache(maxsize=None)
def drgn_tasks(vmlinux, elf):
    r = subprocess.run(["/usr/bin/python3", "-c", DRGN, elf, vmlinux], capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or not r.stdout.strip():
        raise Fail("drgn on %s: exit %d: %s" % (elf, r.returncode, r.stderr.strip()[-300:]))
    return sorted(r.stdout.splitlines())


def check_crash(vmlinux, mnt, refmnt):
    a, b = crash_out(vmlinux, os.path.join(mnt, "vmcore.elf")), crash_out(vmlinux, os.path.join(refmnt, "vmcore.elf"))
    if a != b:
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        raise Fail("crash sys/ps/log differ at line %d: core %r, reference %r" % (
            i + 1, a[i] if i < len(a) else None, b[i] if i < len(b) else None))
    return "sys, ps, log, init_task's list: %d lines, the same (%d tasks listed)" % (
        len(a), sum(1 for l in a if l.strip().startswith("pid = ")))


def check_drgn(vmlinux, mnt, refmnt):
    a, b = drgn_tasks(vmlinux, os.path.join(mnt, "vmcore.elf")), drgn_tasks(vmlinux, os.path.join(refmnt, "vmcore.elf"))
    if a != b:
        raise Fail("drgn tasks: only in the core %s, only in the reference %s" % (
            sorted(set(a) - set(b))[:8], sorted(set(b) - set(a))[:8]))
    return "%d tasks, the same" % len(a)


# --- one guest ---

def check_guest(c, dumpfs, g, gdir, tmpdir):
    fx = facts(gdir)
    usable = e820_usable(os.path.join(gdir, "serial.log"))
    layout = mtree_ram(os.path.join(gdir, "mtree.txt"))
    ram_size = ramblock_size(os.path.join(gdir, "ramblock.txt"))
    print("\n== %s: -machine %s -m %s, pc.ram %#x bytes; guest RAM %s; usable %s" % (
        g, fx["machine"], fx["mem"], ram_size,
        " ".join("%#x-%#x@%#x" % r for r in layout), describe(usable)))
    # every byte of pc.ram but the VGA window's [0xa0000, 0xc0000)
    if max(o + e - s for s, e, o in layout) != ram_size or \
            sum(e - s for s, e, _ in layout) != ram_size - 0x20000:
        raise Fail("%s: mtree's pc.ram ranges cover %#x bytes up to offset %#x, the block is %#x" % (
            g, sum(e - s for s, e, _ in layout), max(o + e - s for s, e, o in layout), ram_size))
    cores = [("kernel core", fx["kernel_core"])]
    if fx.get("gcore"):
        cores.append(("gcore", fx["gcore"]))
    vmlinux = os.path.join(DBG_DIR, "vmlinux-" + fx["kernel_release"])
    with mounted(dumpfs, [os.path.join(gdir, fx["reference"])]) as refmnt:
        reffd = os.open(os.path.join(refmnt, "mem"), os.O_RDONLY)
        try:
            for kind, rel in cores:
                tag = "%s %s" % (g, kind)
                core = Core(os.path.join(gdir, rel))
                if not c.run(tag + ": qemu core", check_core_file, core, "qemu-system-x86_64"):
                    continue
                try:
                    base, n = find_ram_base(core, layout, reffd, usable, ram_size)
                    c.ok(tag + ": pc.ram found", "at user address %#x (%d sample pages)" % (base, n))
                except Fail as e:
                    c.fail(tag + ": pc.ram found", str(e))
                    continue
                ram = GuestRam(core, layout, base)
                c.run(tag + ": corpus pages", check_corpus_pages, ram, reffd, usable)
                try:
                    ctx = mounted(dumpfs, [core.path])
                    mnt = ctx.__enter__()
                except Fail as e:
                    c.fail(tag + ": mount", "%s (the reader of QEMU process cores is needed)" % e)
                    continue
                try:
                    c.ok(tag + ": mount", core.path)
                    c.run(tag + ": header", check_header, mnt, layout)
                    c.run(tag + ": usable", check_usable, mnt, reffd, usable)
                    c.run(tag + ": data", check_data, mnt, reffd, layout)
                    c.run(tag + ": vmcoreinfo", check_same_file, "vmcoreinfo", mnt, refmnt)
                    c.run(tag + ": dmesg", check_same_file, "dmesg", mnt, refmnt)
                    c.run(tag + ": tasks", check_tasks, mnt, refmnt)
                    if not TOOLS:
                        c.run(tag + ": vmcore.elf", read_elf_ends, os.path.join(mnt, "vmcore.elf"))
                        c.skip(tag + ": crash, drgn", "not run (DUMPFS_REAL_TOOLS=0: the plain run compares them)")
                    elif os.path.exists(vmlinux):
                        c.run(tag + ": crash", check_crash, vmlinux, mnt, refmnt)
                        c.run(tag + ": drgn", check_drgn, vmlinux, mnt, refmnt)
                    else:
                        c.skip(tag + ": crash, drgn", "no %s (the -dbg package's vmlinux)" % vmlinux)
                finally:
                    ctx.__exit__(None, None, None)
                if g == "small" and kind == "kernel core":
                    c.run(tag + ": truncated", check_truncated, dumpfs, core, ram, reffd, usable, tmpdir)
        finally:
            os.close(reffd)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    dumpfs = argv[1]
    found = find_guests(argv[2:])
    if not any(g in found for g in GUESTS):
        print("SKIP: no QEMU process core corpus (run images/make-qemu-cores.sh as root)")
        return 77
    for g in GUESTS + ("other",):
        print("%-9s %s" % (g, found.get(g, "absent (GUESTS=%s bash images/make-qemu-cores.sh)" % g)))
    c = Checks()
    tmpdir = tempfile.mkdtemp(prefix="qemu-core.", dir="/var/tmp")
    try:
        if "other" in found:
            for rel in ("sleep.core", "sleep.gcore"):
                path = os.path.join(found["other"], rel)
                c.run("other %s: sleep core" % rel, check_core_file, Core(path), "sleep")
                c.run("other %s: not-qemu" % rel, check_refused, dumpfs, path)
        else:
            c.skip("other: not-qemu", "no cores of a sleep in the corpus")
        for g in GUESTS:
            if g in found:
                try:
                    check_guest(c, dumpfs, g, found[g], tmpdir)
                except Fail as e:
                    c.fail(g, str(e))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("\n%d passed, %d failed, %d skipped" % (len(c.passed), len(c.failed), len(c.skipped)))
    if c.failed:
        print("FAILED: %s" % ", ".join(c.failed))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)

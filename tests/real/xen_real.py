#!/usr/bin/env python3
"""xen_real.py DUMPFS [CACHE_DIR]
xen_real.py --reference-only [CACHE_DIR]

Real Xen dumps made by images/make-xen-dumps.sh (Xen 4.17 under QEMU TCG):

  pv/domU.core    `xl dump-core` (libxenguest's xc_core ELF) of a PV domU
                  that panicked by `xl sysrq pv c`, kept by on_crash=preserve
  pv/live.core    the same domU before that, running (paused for the dump)
  pvh/domU.core   the same for a PVH domU
  host/vmcore     /proc/vmcore of the capture kernel Xen's kexec crash path
                  started after dom0 crashed itself (sysrq c), if the recipe
                  made one (else host/FAILED.txt, and these checks are absent)

The references share no code with dumpfs:
  - the xc_core file read here by its ELF section headers (.note.Xen,
    .xen_prstatus, .xen_p2m or .xen_pfn, .xen_pages);
  - python3-libkdumpfile on the xc_core file (pseudo-physical reads,
    KDUMP_KPHYSADDR; its cpu.N.XEN_PRSTATUS);
  - crash 8.0.2 on the xc_core file itself ("xendump") and on host/vmcore
    (dom0 through Xen's p2m), with the -dbg vmlinux;
  - the host vmcore's program headers and notes read here (CORE prstatus,
    Xen CRASH_INFO 0x1000001 with xen_phys_start, CRASH_REGS 0x1000002,
    VMCOREINFO_XEN);
  - the domU's console as xenconsoled logged it.

Checks of each xc_core file (mounted: `dumpfs FILE MNT`):
  mem        every pfn libkdumpfile reads is the same 4 KiB at pfn*4096 of
             /mem; the pfns it cannot read (all below its max_pfn, a sample
             above) read as zeros or fail with EIO in /mem (counted)
  header     /header names the Xen version (facts.txt), the domain type (pv;
             pvh or hvm) and the vCPU count
  cpus       /cpus/N/ for each vCPU; /cpus/N/xen_context is vCPU N's raw
             vcpu_guest_context (5168 bytes) of .xen_prstatus
  dmesg      /dmesg has every kernel line of the domU's console
  crash      crash's sys (but DUMPFILE), log, bt -a, ps and init_task's task
             list are the same on the xc_core file and on /vmcore.elf
  drgn       drgn on /vmcore.elf: init_uts_ns's release, and the panic
             CPU's stack trace has the sysrq crash frames crash shows
(live.core: mem, header, cpus only.)
Checks of host/vmcore:
  mem        /mem is byte-equal to the vmcore in every PT_LOAD
  header     /header names Xen and xen_phys_start with CRASH_INFO's value
  cpus       /cpus/N/ for each physical CPU (CORE prstatus note)
  dom0-mem   /dom0/mem at sample pfns is what crash's `rd -p` reads from the
             host vmcore (dom0's pseudo-physical memory)
  dom0-dmesg /dom0/dmesg is crash's `log` of the host vmcore
  dom0-crash crash on /dom0/vmcore.elf prints the same sys (but DUMPFILE),
             log, bt -a and ps as crash on the host vmcore

A check whose dumpfs file does not exist FAILS, naming the missing path.
--reference-only runs the reference side alone (no dumpfs) and prints what
it found; --only=pv,pvh,host picks the parts.  CACHE_DIR defaults to the newest /var/cache/dumpfs/xen-*/ with a
COMPLETE file; exits 77 (skip) when there is none."""
import bisect
import errno
import functools
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import time

SYSPY = "/usr/bin/python3"     # Debian's: python3-libkdumpfile, -drgn, -pyelftools
if os.path.exists(SYSPY) and os.path.realpath(sys.executable) != os.path.realpath(SYSPY) \
        and not os.environ.get("XEN_REAL_REEXEC"):
    os.environ["XEN_REAL_REEXEC"] = "1"
    os.execv(SYSPY, [SYSPY, os.path.abspath(__file__)] + sys.argv[1:])

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Elf, Fail, complete_cache, mounted, parse_notes, read_elf_ends  # noqa: E402

PAGE = 4096
DBG_DIR = "/var/cache/dumpfs/x86-dbg"
XC_MAGIC = {0xF00FEBED: "pv", 0xF00FEBEE: "hvm"}
NOTE_NONE, NOTE_HEADER, NOTE_XEN_VERSION, NOTE_FORMAT = 0x2000000, 0x2000001, 0x2000002, 0x2000003
CRASH_INFO, CRASH_REGS = 0x1000001, 0x1000002
CTX_SIZE = 5168                 # vcpu_guest_context_any_t of a 64-bit guest
HOLE_SAMPLE = 4096              # unreadable pfns of a PVH dump checked (of ~1M)
KLINE = re.compile(r"\[\s*\d+\.\d+\] ")
CRASH_CMDS = "sys\nlog\nbt -a\nps\nlist -o task_struct.tasks -s task_struct.pid,comm -h init_task\nq\n"


class Checks:
    """Assertions by name: each result printed at once and counted."""

    def __init__(self):
        self.failed, self.passed = [], []
        self.t = time.monotonic()

    def took(self):
        t, self.t = self.t, time.monotonic()
        return "[%.1f s]" % (self.t - t)

    def ok(self, name, msg):
        self.passed.append(name)
        print("ok    %-26s %s %s" % (name, msg, self.took()), flush=True)

    def fail(self, name, msg):
        self.failed.append(name)
        print("FAIL  %-26s %s %s" % (name, msg, self.took()), flush=True)

    def skip(self, name, msg):
        print("skip  %-26s %s %s" % (name, msg, self.took()), flush=True)

    def run(self, name, fn, *args):
        try:
            self.ok(name, fn(*args))
            return True
        except Fail as e:
            self.fail(name, str(e))
        except OSError as e:
            self.fail(name, "%s: %s" % (type(e).__name__, e))
        return False


# DUMPFS_REAL_TOOLS=0 (run-all.sh's sanitizer run): crash and drgn are not
# run on dumpfs's files; the plain run compares them, this one reads the
# rest of the tree under the sanitizers.
TOOLS = os.environ.get("DUMPFS_REAL_TOOLS", "1") != "0"
NO_TOOLS = "crash and drgn not run (DUMPFS_REAL_TOOLS=0: the plain run compares them)"


def facts(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            k, sep, v = line.rstrip("\n").partition("=")
            if sep:
                out[k] = v
    return out


def need(mnt, rel):
    """MNT/rel, or Fail naming it: the reader is written in parallel."""
    p = os.path.join(mnt, rel)
    if not os.path.exists(p):
        raise Fail("dumpfs has no /%s (ls /: %s)" % (rel, " ".join(sorted(os.listdir(mnt)))))
    return p


# --- reference: the xc_core file by its section headers ---

class XcCore:
    """An xl dump-core file read by its ELF section headers."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            eh = f.read(64)
            if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
                raise Fail("%s: not a little-endian ELF64 file" % path)
            self.e_type, self.e_machine = struct.unpack_from("<HH", eh, 16)
            self.phnum, = struct.unpack_from("<H", eh, 56)
            shoff, = struct.unpack_from("<Q", eh, 40)
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", eh, 58)
            f.seek(shoff)
            raw = f.read(shentsize * shnum)
            hdrs = [struct.unpack_from("<IIQQQQIIQQ", raw, i * shentsize) for i in range(shnum)]
            f.seek(hdrs[shstrndx][4])
            names = f.read(hdrs[shstrndx][5])
        self.sections = []         # (name, type, offset, size, entsize, align)
        for name, typ, _, _, off, size, _, _, align, entsize in hdrs:
            self.sections.append((names[name:names.index(b"\0", name)].decode(), typ, off, size, entsize, align))
        self.by_name = {s[0]: s for s in self.sections}
        for need_ in (".note.Xen", ".xen_prstatus", ".xen_pages"):
            if need_ not in self.by_name:
                raise Fail("%s: no %s section (sections: %s)" % (path, need_, [s[0] for s in self.sections]))
        self.notes = parse_notes(self.section(".note.Xen"))
        hdr = self.note(NOTE_HEADER)
        self.magic, self.nr_vcpus, self.nr_pages, self.page_size = struct.unpack_from("<QQQQ", hdr)
        if self.magic not in XC_MAGIC:
            raise Fail("%s: dump-core header magic %#x" % (path, self.magic))
        self.kind = XC_MAGIC[self.magic]
        v = self.note(NOTE_XEN_VERSION)
        major, minor = struct.unpack_from("<QQ", v)
        extra = v[16:32].split(b"\0")[0].decode()
        self.xen_version = "%d.%d%s" % (major, minor, extra)
        self.capabilities = v[176:1200].split(b"\0")[0].decode(errors="replace")
        self.changeset = v[1200:1264].split(b"\0")[0].decode(errors="replace")
        self.format_version, = struct.unpack_from("<Q", self.note(NOTE_FORMAT))
        # page i of .xen_pages is pfn pfns[i]
        if ".xen_p2m" in self.by_name:
            tab = self.section(".xen_p2m")
            self.pfn_table = ".xen_p2m"
            self.pfns = [struct.unpack_from("<Q", tab, i)[0] for i in range(0, len(tab), 16)]
            self.gmfns = [struct.unpack_from("<Q", tab, i)[0] for i in range(8, len(tab), 16)]
        elif ".xen_pfn" in self.by_name:
            tab = self.section(".xen_pfn")
            self.pfn_table = ".xen_pfn"
            self.pfns = list(struct.unpack("<%dQ" % (len(tab) // 8), tab))
            self.gmfns = None
        else:
            raise Fail("%s: neither .xen_p2m nor .xen_pfn" % path)
        if len(self.pfns) != self.nr_pages:
            raise Fail("%s: %s has %d entries, the header says %d pages" % (path, self.pfn_table, len(self.pfns), self.nr_pages))
        if self.by_name[".xen_pages"][3] != self.nr_pages * PAGE:
            raise Fail("%s: .xen_pages is %d bytes for %d pages" % (path, self.by_name[".xen_pages"][3], self.nr_pages))
        self.index = {p: i for i, p in enumerate(self.pfns) if p != 2 ** 64 - 1}

    def section(self, name):
        _, _, off, size, _, _ = self.by_name[name]
        with open(self.path, "rb") as f:
            f.seek(off)
            return f.read(size)

    def note(self, typ):
        for n, t, d in self.notes:
            if n == b"Xen" and t == typ:
                return d
        raise Fail("%s: no Xen note %#x in .note.Xen" % (self.path, typ))

    def contexts(self):
        """vCPU N's raw vcpu_guest_context, from .xen_prstatus."""
        blob = self.section(".xen_prstatus")
        if len(blob) % self.nr_vcpus:
            raise Fail(".xen_prstatus (%d bytes) is not %d contexts" % (len(blob), self.nr_vcpus))
        n = len(blob) // self.nr_vcpus
        return [blob[i * n:(i + 1) * n] for i in range(self.nr_vcpus)]

    def page(self, pfn):
        with open(self.path, "rb") as f:
            f.seek(self.by_name[".xen_pages"][2] + self.index[pfn] * PAGE)
            return f.read(PAGE)

    def describe(self):
        out = ["%s: ELF64 e_type %d e_machine %d, %d program headers; dump-core format version %d;"
               " magic %#x (%s), %d vCPUs, %d pages of %d bytes; Xen %s (%s), capabilities %r"
               % (os.path.basename(self.path), self.e_type, self.e_machine, self.phnum, self.format_version,
                  self.magic, self.kind, self.nr_vcpus, self.nr_pages, self.page_size, self.xen_version,
                  self.changeset, self.capabilities)]
        out.append("  %-3s %-18s %-8s %-10s %-10s %-6s %s" % ("nr", "name", "type", "offset", "size", "entsz", "align"))
        for i, (name, typ, off, size, ent, align) in enumerate(self.sections):
            out.append("  [%d] %-18s %-8s %#-10x %#-10x %#-6x %d" % (
                i, name or "(null)", {0: "NULL", 1: "PROGBITS", 3: "STRTAB", 7: "NOTE"}.get(typ, typ), off, size, ent, align))
        out.append("  .note.Xen: %s" % ", ".join("%s %#x (%d bytes)" % (n.decode(), t, len(d)) for n, t, d in self.notes))
        ps = sorted(self.index)
        out.append("  %s: pfns %#x-%#x, %d entries, %d distinct" % (self.pfn_table, ps[0], ps[-1], len(self.pfns), len(ps)))
        return "\n".join(out)


# --- reference: python3-libkdumpfile on the file ---

LIBKDUMPFILE = r"""
import hashlib, json, sys
import kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
info = {}
for key in ("max_pfn", "xen.type", "xen.xlat", "file.format", "cpu.number",
            "xen.version.major", "xen.version.minor", "xen.version.extra"):
    try:
        info[key] = k.attr[key]
    except Exception as e:
        info[key] = "(%s)" % type(e).__name__
ctx = []
for n in range(int(info["cpu.number"]) if isinstance(info["cpu.number"], int) else 0):
    try:
        ctx.append(bytes(k.attr["cpu.%d.XEN_PRSTATUS" % n]).hex())
    except Exception as e:
        ctx.append(None)
info["contexts"] = ctx
print(json.dumps(info))
for line in sys.stdin:
    pfn = int(line)
    try:
        b = k.read(kdumpfile.KDUMP_KPHYSADDR, pfn * 4096, 4096)
        print(pfn, hashlib.sha1(b).hexdigest(), flush=False)
    except Exception as e:
        print(pfn, "-" + type(e).__name__)
"""


@functools.lru_cache(maxsize=None)
def libkdumpfile(path, pfns):
    """(info, {pfn: sha1 or None}) of python3-libkdumpfile's pseudo-physical
    reads of @pfns (a tuple), in a child (its binding can crash)."""
    r = subprocess.run([SYSPY, "-c", LIBKDUMPFILE, path], input="\n".join(map(str, pfns)) + "\n",
                       capture_output=True, text=True, timeout=1200)
    lines = r.stdout.splitlines()
    if r.returncode != 0 or not lines:
        raise Fail("python3-libkdumpfile on %s: exit %d: %s" % (path, r.returncode, r.stderr.strip()[-400:]))
    info = json.loads(lines[0])
    pages = {}
    for line in lines[1:]:
        pfn, h = line.split()
        pages[int(pfn)] = None if h.startswith("-") else h
    if len(pages) != len(pfns):
        raise Fail("python3-libkdumpfile answered %d of %d pfns" % (len(pages), len(pfns)))
    return info, pages


def candidate_pfns(xc, lk_max):
    """The pfns to ask libkdumpfile about: every one below the larger of its
    max_pfn and the file's highest pfn + 1 (PV), or, where that range is
    huge (PVH: its special pages lie just below 4 GiB), every pfn the file
    has plus HOLE_SAMPLE others spread over it; and 64 past its end."""
    top = max(lk_max if isinstance(lk_max, int) else 0, max(xc.index) + 1)
    if top <= 1 << 18:
        base = set(range(top))
    else:
        base = set(xc.index) | set(range(0, top, max(1, top // HOLE_SAMPLE)))
    return tuple(sorted(base | set(range(top, top + 64))))


def reference_xc(xc, fx):
    """What the reference side finds of one xc_core file; raises Fail where
    its parts disagree with each other (own parse, libkdumpfile, facts)."""
    info0, _ = libkdumpfile(xc.path, (0,))
    pfns = candidate_pfns(xc, info0.get("max_pfn"))
    info, pages = libkdumpfile(xc.path, pfns)
    readable = {p for p, h in pages.items() if h}
    # libkdumpfile and the section parse must agree page for page
    own = set(xc.index)
    if readable != own & set(pfns):
        raise Fail("libkdumpfile reads %d pfns, the file's %s lists %d (only libkdumpfile: %s; only the file: %s)"
                   % (len(readable), xc.pfn_table, len(own), sorted(readable - own)[:5], sorted(own - readable)[:5]))
    sample = sorted(readable)[::max(1, len(readable) // 2048)]
    bad = [p for p in sample if hashlib.sha1(xc.page(p)).hexdigest() != pages[p]]
    if bad:
        raise Fail("libkdumpfile's bytes differ from .xen_pages at pfns %s" % [hex(p) for p in bad[:5]])
    ctxs = xc.contexts()
    if len(ctxs[0]) != CTX_SIZE:
        raise Fail(".xen_prstatus holds %d-byte contexts, not %d" % (len(ctxs[0]), CTX_SIZE))
    lk_ctx = info.get("contexts") or []
    if [bytes.fromhex(c) if c else None for c in lk_ctx] != ctxs:
        raise Fail("libkdumpfile's cpu.N.XEN_PRSTATUS differ from .xen_prstatus")
    try:
        from elftools.elf.elffile import ELFFile
        with open(xc.path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(".xen_prstatus")
            if sec.data() != b"".join(ctxs):
                raise Fail("pyelftools' .xen_prstatus differs from the section read here")
        pyelf = "pyelftools reads the same .xen_prstatus"
    except ImportError:
        pyelf = "(no pyelftools)"
    if fx.get("vcpus") and int(fx["vcpus"]) != xc.nr_vcpus:
        raise Fail("facts.txt says %s vCPUs, the dump-core header %d" % (fx["vcpus"], xc.nr_vcpus))
    if fx.get("xen_version") and fx["xen_version"] != xc.xen_version:
        raise Fail("facts.txt says Xen %s, the dump-core note %s" % (fx["xen_version"], xc.xen_version))
    return {"pfns": pfns, "pages": pages, "readable": readable, "info": info, "contexts": ctxs,
            "summary": "libkdumpfile (%s, max_pfn %s, xen.type %s): %d of %d pfns asked readable, exactly "
                       "those listed in %s, %d sampled equal to .xen_pages; %d unreadable; %d contexts of %d bytes, "
                       "the same in libkdumpfile; %s"
                       % (info.get("file.format"), info.get("max_pfn"), info.get("xen.type"), len(readable),
                          len(pfns), xc.pfn_table, len(sample),
                          len(pfns) - len(readable), len(ctxs), len(ctxs[0]), pyelf)}


def console_klines(path):
    """The kernel lines of a console log: complete lines (the last may be
    cut) with a printk timestamp."""
    text = open(path, errors="replace").read().replace("\r", "")
    lines = text.split("\n")[:-1]       # the last piece has no newline
    return [l for l in lines if KLINE.match(l)]


def log_line_set(lines):
    """A kernel log's lines as the console prints them: a record of several
    lines (one printk with newlines in it, as calibrate_delay_direct()'s
    warning) has its later lines indented in /dmesg and crash's log; the
    console gives each of them the record's timestamp."""
    out, prefix = set(), None
    for l in lines:
        l = l.rstrip()
        m = KLINE.match(l)
        if m:
            prefix = m.group(0)
        elif prefix and l[:1].isspace() and l.strip():
            l = prefix + l.strip()
        out.add(l)
    return out


# --- crash, drgn ---

def vmlinux_for(release):
    p = os.path.join(DBG_DIR, "vmlinux-" + release)
    if not os.path.exists(p):
        raise Fail("no %s (the -dbg package's vmlinux): crash and drgn need it" % p)
    return p


RD_LINE = re.compile(r"\s*([0-9a-f]+):((?:\s+[0-9a-f]{16})+)\s*$")


@functools.lru_cache(maxsize=None)
def crash_run(vmlinux, dump, extra=""):
    """crash -s's output of CRASH_CMDS (then @extra: rd commands), DUMPFILE
    normalized and the dump's path replaced; split by command: {command:
    [lines]}, the rd lines under "rd"."""
    cmds = CRASH_CMDS.replace("q\n", extra + "q\n")
    r = subprocess.run(["crash", "-s", vmlinux, dump], input=cmds, capture_output=True, text=True, timeout=900)
    out = r.stdout.replace(dump, "DUMP").splitlines()
    if r.returncode != 0 or not any("PANIC:" in l or "TASKS:" in l for l in out):
        raise Fail("crash -s %s %s: exit %d: %s" % (vmlinux, dump, r.returncode, (r.stderr + r.stdout).strip()[-400:]))
    # crash -s prints no prompts: split by the shape of each command's output
    res = {"sys": [], "log": [], "bt": [], "ps": [], "list": [], "other": [], "rd": []}
    cur = "other"
    for l in out:
        if cur == "list" and RD_LINE.match(l):
            res["rd"].append(l)
            continue
        if re.match(r"\s+KERNEL: ", l) and cur == "other":
            cur = "sys"
        elif cur == "sys" and KLINE.match(l):
            cur = "log"
        elif cur in ("sys", "log") and re.match(r"PID: \d+\s+TASK: ", l):
            cur = "bt"
        elif cur in ("bt",) and re.match(r"\s+PID\s+PPID\s+CPU\s+TASK", l):
            cur = "ps"
        elif cur == "ps" and re.match(r"\s*pid = ", l):
            cur = "list"
        if cur == "sys" and re.match(r"\s*DUMPFILE:", l):
            l = "    DUMPFILE: (normalized)"
        res[cur].append(l.rstrip())
    res["stderr"] = [l for l in r.stderr.splitlines() if l.strip()]
    return res


def crash_summary(res):
    sysl = [l.strip() for l in res["sys"] if l.strip()]
    panic_bt = [l for l in res["bt"]]
    return "sys %d lines (%s), log %d lines, bt -a %d lines (%d tasks), ps %d lines, init_task's list %d tasks" % (
        len(sysl), "; ".join(l for l in sysl if re.match(r"(CPUS|PANIC|RELEASE|MEMORY|TASKS):", l)),
        len(res["log"]), len(panic_bt), sum(1 for l in panic_bt if l.startswith("PID:")),
        len(res["ps"]), sum(1 for l in res["list"] if l.strip().startswith("pid = ")))


XEN_KDUMP_ACTIVE = "bt: starting backtrace locations of the active (non-crashing) xen tasks"


def bt_blocks(lines):
    """bt -a's output as (PID line, body lines) per task."""
    blocks = []
    for l in lines:
        if l.startswith("PID:"):
            blocks.append((l, []))
        elif blocks:
            blocks[-1][1].append(l)
    return blocks


CTX_RIP = 512 + 8 + 128     # fpu_ctxt, flags, then user_regs' rip (x86_64)
BT_FRAME = re.compile(r"\s*#\d+ \[[0-9a-f]+\] (\S+) at ([0-9a-f]+)")


@functools.lru_cache(maxsize=None)
def vmlinux_functions(vmlinux):
    """(sorted start addresses, names) of vmlinux's text symbols."""
    r = subprocess.run(["nm", vmlinux], capture_output=True, text=True, check=True)
    syms = sorted((int(a, 16), n) for a, t, n in (l.split()[:3] for l in r.stdout.splitlines() if len(l.split()) >= 3)
                  if t in "tTwW")
    return [a for a, _ in syms], [n for _, n in syms]


def function_at(vmlinux, addr):
    starts, names = vmlinux_functions(vmlinux)
    i = bisect.bisect_right(starts, addr) - 1
    return names[i] if i >= 0 else None


def stale_xendump_bt(head, body_a, body_b, vcpu_rip, vmlinux):
    """Whether b (crash on an HVM/PVH xc_core file) gave a task active on a
    CPU that did not panic its last switched-out stack, where a (dumpfs's
    /vmcore.elf) gave the one the vCPU's saved registers start: crash's
    xendump reader takes no registers but the panic task's.  True only if a's
    first frame is the function holding that vCPU's saved rip."""
    m = re.search(r"\bCPU: (\d+)", head)
    if not m or vcpu_rip is None or any("panic" in l for l in body_a + body_b):
        return False
    rip = vcpu_rip(int(m.group(1)))
    first = next((BT_FRAME.match(l) for l in body_a if BT_FRAME.match(l)), None)
    return bool(rip and first and first.group(1) == function_at(vmlinux, rip))


def crash_compare(a, b, what_a, what_b, xen_kdump_active=False, vcpu_rip=None, vmlinux=None):
    """a's and b's crash outputs must be equal.  With xen_kdump_active, a is
    crash reading a PV guest's dump as a Xen kdump (dumpfs's /vmcore.elf of a
    PV domain): there crash does not backtrace the active tasks of the CPUs
    that did not crash (it says so and suggests bt -t); those tasks' bodies
    are excused, their PID lines and every other task's bt must match.  With
    vcpu_rip (cpu -> the saved rip of the file's own context), a task crash
    backtraces from a stale stack in the xc_core file is excused where a's
    trace starts at that rip (stale_xendump_bt)."""
    excused, stale = 0, []
    for k in ("sys", "log", "bt", "ps", "list"):
        x, y = a[k], b[k]
        if k == "bt" and xen_kdump_active:
            ba, bb = bt_blocks(x), bt_blocks(y)
            if [h for h, _ in ba] != [h for h, _ in bb]:
                raise Fail("crash `bt -a` tasks differ: %s %r, %s %r" % (
                    what_a, [h for h, _ in ba], what_b, [h for h, _ in bb]))
            for (h, body_a), (_, body_b) in zip(ba, bb):
                if body_a and body_a[0].startswith(XEN_KDUMP_ACTIVE):
                    excused += 1
                elif body_a != body_b and stale_xendump_bt(h, body_a, body_b, vcpu_rip, vmlinux):
                    stale.append("%s: %s, not %s" % (h.split("COMMAND:")[0].split("TASK:")[0].strip(),
                                                     BT_FRAME.match(next(l for l in body_a if BT_FRAME.match(l))).group(1),
                                                     " ".join(BT_FRAME.match(l).group(1) for l in body_b[:2]
                                                              if BT_FRAME.match(l))))
                elif body_a != body_b:
                    raise Fail("crash `bt` of %s differs: %s %r, %s %r" % (h, what_a, body_a[:3], what_b, body_b[:3]))
            continue
        if x != y:
            i = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            raise Fail("crash `%s` differs at its line %d: %s %r, %s %r" % (
                k, i + 1, what_a, x[i] if i < len(x) else None, what_b, y[i] if i < len(y) else None))
    tail = (" (bt of %d active non-crashing task(s) not given by crash on the ELF: its Xen kdump rule)"
            % excused) if excused else ""
    if stale:
        tail += (" (crash on the xc_core file backtraced %d active task(s) from a stale stack; /vmcore.elf starts"
                 " at the vCPU's saved rip: %s)" % (len(stale), "; ".join(stale)))
    return crash_summary(a) + ": the same" + tail


def panic_frames(res):
    """Function names of the panicking task's bt (the one with panic)."""
    blocks, cur = [], None
    for l in res["bt"]:
        if l.startswith("PID:"):
            cur = []
            blocks.append(cur)
        elif cur is not None:
            m = re.match(r"\s*#\d+ \[[0-9a-f]+\] (\S+) at ", l)
            if m:
                cur.append(m.group(1))
    for b in blocks:
        if "panic" in b:
            return b
    return []


DRGN = r"""
import sys, drgn
from drgn.helpers.linux.percpu import per_cpu
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
print("release", p["init_uts_ns"].name.release.string_().decode())
# crashed_thread() is crashing_cpu's task: a kdump kernel sets it, a domain
# that Xen stopped at its panic never ran that path (-1), and drgn then
# gives CPU 0's.  The kernel's own panic_cpu names the CPU that panicked.
if p["crashing_cpu"].value_() >= 0:
    t = p.crashed_thread()
    print("crashed", t.tid)
    trace = t.stack_trace()
else:
    cpu = p["panic_cpu"].counter.value_()
    task = per_cpu(p["runqueues"], cpu).curr
    print("panic_cpu %d pid %d" % (cpu, task.pid.value_()))
    trace = p.stack_trace(task)
for f in trace:
    print("frame", f.name or hex(f.pc))
"""


def drgn_out(vmlinux, elf):
    r = subprocess.run([SYSPY, "-c", DRGN, elf, vmlinux], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise Fail("drgn on %s: exit %d: %s" % (elf, r.returncode, r.stderr.strip()[-400:]))
    return r.stdout.splitlines()


# --- dumpfs checks of an xc_core mount ---

def check_mem(mnt, ref):
    fd = os.open(need(mnt, "mem"), os.O_RDONLY)
    same = zeros = eio = beyond = 0
    try:
        for pfn in ref["pfns"]:
            want = ref["pages"][pfn]
            try:
                b = os.pread(fd, PAGE, pfn * PAGE)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                if want:
                    raise Fail("pfn %#x: EIO, libkdumpfile reads it" % pfn)
                eio += 1
                continue
            if want:
                if len(b) != PAGE:
                    raise Fail("pfn %#x: /mem gives %d bytes there (its end?), libkdumpfile reads the page"
                               % (pfn, len(b)))
                if hashlib.sha1(b).hexdigest() != want:
                    raise Fail("pfn %#x: /mem's page differs from libkdumpfile's" % pfn)
                same += 1
            elif not b:
                beyond += 1
            elif b.count(0) != len(b):
                raise Fail("pfn %#x: libkdumpfile has no page, /mem has non-zero data" % pfn)
            else:
                zeros += 1
    finally:
        os.close(fd)
    return ("%d pages equal to libkdumpfile's; of the %d it cannot read: %d zeros, %d EIO, %d past /mem's end"
            % (same, len(ref["pfns"]) - same, zeros, eio, beyond))


def check_header(mnt, xc, fx, want_type):
    text = open(need(mnt, "header"), errors="replace").read()
    miss = []
    ver = fx.get("xen_version") or xc.xen_version
    if ver not in text:
        miss.append("Xen version %s" % ver)
    pat = r"\bpv\b" if want_type == "pv" else r"\b(pvh|hvm)\b"
    if not re.search(pat, text, re.I):
        miss.append("domain type %s" % ("pv" if want_type == "pv" else "pvh or hvm"))
    n = int(fx.get("vcpus") or xc.nr_vcpus)
    if not any(re.search(r"cpu", l, re.I) and re.search(r"(?<![\w.])%d(?![\w.])" % n, l) for l in text.splitlines()):
        miss.append("a line with 'cpu' and the vCPU count %d" % n)
    if miss:
        raise Fail("/header lacks %s: %r" % ("; ".join(miss), text[:300]))
    return "Xen %s, type %s, %d vCPUs named" % (ver, want_type, n)


def check_cpus(mnt, ref):
    ctxs = ref["contexts"]
    for n, ctx in enumerate(ctxs):
        d = need(mnt, "cpus/%d" % n)
        if not os.path.isdir(d):
            raise Fail("/cpus/%d is not a directory" % n)
        got = open(need(mnt, "cpus/%d/xen_context" % n), "rb").read()
        if got != ctx:
            raise Fail("/cpus/%d/xen_context (%d bytes) differs from .xen_prstatus's context %d (%d bytes)%s"
                       % (n, len(got), n, len(ctx), "" if len(got) != len(ctx) else
                          " at byte %d" % next(i for i in range(len(ctx)) if got[i] != ctx[i])))
    extra = [e for e in os.listdir(os.path.join(mnt, "cpus")) if e.isdigit() and int(e) >= len(ctxs)]
    if extra:
        raise Fail("/cpus has %s beyond the %d vCPUs" % (extra, len(ctxs)))
    return "%d vCPUs, each /cpus/N/xen_context equal to .xen_prstatus's %d bytes" % (len(ctxs), len(ctxs[0]))


def check_dmesg(mnt, console, what="/dmesg"):
    """Every kernel line of the console in /dmesg (trailing blanks aside:
    the console has them, crash's log has not)."""
    lines = log_line_set(open(need(mnt, what.lstrip("/")), errors="replace").read().splitlines())
    klines = [l.rstrip() for l in console_klines(console)]
    missing = [l for l in klines if l not in lines]
    if missing or not klines:
        raise Fail("%d of %d kernel lines of %s not in %s, first %r"
                   % (len(missing), len(klines), os.path.basename(console), what, missing[:1]))
    return "%d lines; all %d kernel lines of the console in it" % (len(lines), len(klines))


def check_crash(vmlinux, mnt, core, ctxs):
    elf = need(mnt, "vmcore.elf")

    def vcpu_rip(cpu):
        return struct.unpack_from("<Q", ctxs[cpu], CTX_RIP)[0] if cpu < len(ctxs) and ctxs[cpu] else None
    # a PV domain's /vmcore.elf is read by crash as a Xen kdump
    return crash_compare(crash_run(vmlinux, elf), crash_run(vmlinux, core), "/vmcore.elf", "the xc_core file",
                         xen_kdump_active=True, vcpu_rip=vcpu_rip, vmlinux=vmlinux)


def check_drgn(vmlinux, mnt, release, want_frames):
    out = drgn_out(vmlinux, need(mnt, "vmcore.elf"))
    rel = next((l.split(None, 1)[1] for l in out if l.startswith("release ")), None)
    if rel != release:
        raise Fail("drgn: init_uts_ns release %r, not %r" % (rel, release))
    frames = [l.split(None, 1)[1] for l in out if l.startswith("frame ")]
    want = [f for f in ("sysrq_handle_crash", "panic") if f in want_frames] or ["panic"]
    if not all(f in frames for f in want):
        raise Fail("drgn: the panic CPU's trace %s lacks %s (crash: %s)" % (frames[:12], want, want_frames))
    return "release %s; panic CPU's trace (%s) has %s" % (rel, " ".join(l for l in out if not l.startswith(("release", "frame"))),
                                                           " ".join(frames[:8]))


def xc_reference(c, label, path, fx, with_crash):
    """The reference side of one xc_core file, printed; None on failure."""
    try:
        xc = XcCore(path)
    except Fail as e:
        c.fail(label + ": sections", str(e))
        return None
    print(xc.describe())
    c.ok(label + ": sections", "%s; %s" % (xc.kind, xc.pfn_table))
    try:
        ref = reference_xc(xc, fx)
        c.ok(label + ": libkdumpfile", ref["summary"])
    except Fail as e:
        c.fail(label + ": libkdumpfile", str(e))
        return None
    ref["xc"] = xc
    console = os.path.join(os.path.dirname(path), "console.log")
    if with_crash:
        try:
            vml = vmlinux_for(fx.get("guest_kernel") or fx.get("kernel_release"))
            res = crash_run(vml, path)
            ref["crash"], ref["vmlinux"] = res, vml
            sysl = [l for l in res["sys"] if l.strip()]
            print("  crash sys on %s:\n%s" % (os.path.basename(path), "\n".join("    " + l for l in sysl)))
            frames = panic_frames(res)
            if not frames:
                raise Fail("crash's bt -a has no task in panic: %s" % res["bt"][:20])
            log = log_line_set(res["log"])
            kl = console_klines(console)
            miss = [l for l in kl if l.rstrip() not in log]
            if miss:
                raise Fail("%d of %d console kernel lines not in crash's log, first %r" % (len(miss), len(kl), miss[0]))
            c.ok(label + ": crash", "%s; panic task frames %s; all %d console kernel lines in crash's log%s"
                 % (crash_summary(res), " ".join(frames), len(kl),
                    "; crash said: " + " | ".join(res["stderr"][:3]) if res["stderr"] else ""))
        except Fail as e:
            c.fail(label + ": crash", str(e))
    return ref


def check_xc(c, dumpfs, label, path, fx, want_type, ref, full):
    try:
        ctx = mounted(dumpfs, [path])
        mnt = ctx.__enter__()
    except Fail as e:
        c.fail(label + ": mount", str(e))
        return
    try:
        c.ok(label + ": mount", path)
        c.run(label + ": mem", check_mem, mnt, ref)
        c.run(label + ": header", check_header, mnt, ref["xc"], fx, want_type)
        c.run(label + ": cpus", check_cpus, mnt, ref)
        if full:
            c.run(label + ": dmesg", check_dmesg, mnt, os.path.join(os.path.dirname(path), "console.log"))
            if not TOOLS:
                c.run(label + ": vmcore.elf", read_elf_ends, need(mnt, "vmcore.elf"))
                c.skip(label + ": crash, drgn", NO_TOOLS)
            elif "crash" in ref:
                c.run(label + ": crash", check_crash, ref["vmlinux"], mnt, path, ref["contexts"])
                c.run(label + ": drgn", check_drgn, ref["vmlinux"], mnt, fx.get("guest_kernel"),
                      panic_frames(ref["crash"]))
            else:
                c.fail(label + ": crash, drgn", "no reference crash output (see above)")
    finally:
        ctx.__exit__(None, None, None)


# --- the host kdump ---

class HostCore:
    def __init__(self, path):
        self.path = path
        self.elf = Elf(path)
        self.cores = [d for n, t, d in self.elf.notes if n == b"CORE" and t == 1]
        self.xen = [(t, d) for n, t, d in self.elf.notes if n == b"Xen"]
        info = [d for t, d in self.xen if t == CRASH_INFO]
        if len(info) != 1:
            raise Fail("%s: %d Xen CRASH_INFO notes" % (path, len(info)))
        v = struct.unpack_from("<10Q", info[0])
        self.info = dict(zip(("xen_major_version", "xen_minor_version", "xen_extra_version", "xen_changeset",
                              "xen_compiler", "xen_compile_date", "xen_compile_time", "tainted",
                              "xen_phys_start", "dom0_pfn_to_mfn_frame_list_list"), v))
        self.vmcoreinfo_xen = b"".join(d for n, t, d in self.elf.notes if n == b"VMCOREINFO_XEN").rstrip(b"\0").decode(errors="replace")

    def describe(self):
        out = ["%s: %d PT_LOADs (%d bytes of data), %d notes" % (
            os.path.basename(self.path), len(self.elf.loads), sum(l[2] for l in self.elf.loads), len(self.elf.notes))]
        for paddr, off, filesz, memsz in self.elf.loads:
            out.append("  PT_LOAD paddr %#014x-%#014x offset %#x filesz %#x memsz %#x" % (paddr, paddr + memsz, off, filesz, memsz))
        for n, t, d in self.elf.notes:
            out.append("  note %-16s type %#09x %5d bytes" % (n.decode(errors="replace"), t, len(d)))
        out.append("  CRASH_INFO: " + " ".join("%s=%#x" % kv for kv in self.info.items()))
        out.append("  VMCOREINFO_XEN: " + " ".join(self.vmcoreinfo_xen.split()))
        return "\n".join(out)


def host_reference(c, hdir):
    try:
        hc = HostCore(os.path.join(hdir, "vmcore"))
        print(hc.describe())
        if not hc.cores:
            raise Fail("no CORE prstatus notes")
        c.ok("host: notes", "%d CORE prstatus (physical CPUs), %d Xen notes (%s), xen_phys_start %#x, Xen %d.%d"
             % (len(hc.cores), len(hc.xen), ", ".join("%#x" % t for t, _ in hc.xen), hc.info["xen_phys_start"],
                hc.info["xen_major_version"], hc.info["xen_minor_version"]))
    except Fail as e:
        c.fail("host: notes", str(e))
        return None
    ref = {"hc": hc}
    try:
        fx = facts(os.path.join(hdir, "facts.txt"))
        vml = vmlinux_for(fx.get("dom0_kernel") or fx.get("kernel_release"))
        # dom0's pseudo-physical memory as crash reads it, at sample pfns
        # (12 spread over dom0's memory, much of it free and zero, and 8 in
        # its kernel image, which a PV dom0 has at pseudo-physical 16 MiB)
        top = int(fx.get("dom0_mem_mib") or 512) * 256
        pfns = sorted(set(range(0x100, top - 0x100, (top - 0x200) // 12)[:12]) | set(range(0x1000, 0x2000, 0x200)))
        res = crash_run(vml, hc.path, "".join("rd -p -64 -x %#x 512\n" % (p * PAGE) for p in pfns))
        sysl = [l for l in res["sys"] if l.strip()]
        print("  crash sys on the host vmcore (dom0):\n%s" % "\n".join("    " + l for l in sysl))
        frames = panic_frames(res)
        if not frames:
            raise Fail("crash's bt -a of the host vmcore has no task in panic: %s" % res["bt"][:20])
        ref["crash"], ref["vmlinux"] = res, vml
        c.ok("host: crash", "%s; dom0's panic task frames %s%s" % (
            crash_summary(res), " ".join(frames), "; crash said: " + " | ".join(res["stderr"][:3]) if res["stderr"] else ""))
        ref["dom0_pages"] = rd_pages(res["rd"], pfns)
        c.ok("host: crash rd -p", "dom0 pfns %s read (%d bytes each; %d not all zero)" % (
            " ".join("%#x" % p for p in pfns), PAGE, sum(1 for b in ref["dom0_pages"].values() if b.strip(b"\0"))))
    except Fail as e:
        c.fail("host: crash", str(e))
    return ref


def rd_pages(lines, pfns):
    """{pfn: its 4096 bytes} from crash's `rd -p -64 -x ADDR 512` lines."""
    words = {}
    for l in lines:
        m = RD_LINE.match(l)
        a = int(m.group(1), 16)
        for i, w in enumerate(m.group(2).split()):
            words[a + 8 * i] = int(w, 16)
    out = {}
    for p in pfns:
        ws = [words.get(p * PAGE + 8 * i) for i in range(512)]
        if None in ws:
            raise Fail("crash rd -p %#x gave %d of 512 words" % (p * PAGE, 512 - ws.count(None)))
        out[p] = struct.pack("<512Q", *ws)
    return out


def check_host_mem(mnt, hc):
    fd = os.open(need(mnt, "mem"), os.O_RDONLY)
    n = 0
    try:
        with open(hc.path, "rb") as f:
            for paddr, off, filesz, _ in hc.elf.loads:
                pos = 0
                while pos < filesz:
                    k = min(8 << 20, filesz - pos)
                    f.seek(off + pos)
                    want = f.read(k)
                    got = os.pread(fd, k, paddr + pos)
                    if got != want:
                        i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
                        raise Fail("/mem differs from the vmcore at physical %#x (PT_LOAD at %#x)" % (paddr + pos + i, paddr))
                    pos += k
                    n += k
    finally:
        os.close(fd)
    return "%d bytes of %d PT_LOADs equal" % (n, len(hc.elf.loads))


def check_host_header(mnt, hc):
    text = open(need(mnt, "header"), errors="replace").read()
    v = hc.info["xen_phys_start"]
    if not re.search(r"\bxen\b", text, re.I):
        raise Fail("/header does not mention Xen: %r" % text[:400])
    line = next((l for l in text.splitlines() if "xen_phys_start" in l), None)
    if line is None:
        raise Fail("/header has no xen_phys_start (CRASH_INFO says %#x): %r" % (v, text[:400]))
    nums = {int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", line)} | {int(x) for x in re.findall(r"\b\d+\b", line)}
    if v not in nums:
        raise Fail("/header's %r, CRASH_INFO's xen_phys_start is %#x" % (line.strip(), v))
    return "mentions Xen; %s" % line.strip()


def check_host_cpus(mnt, hc):
    for n in range(len(hc.cores)):
        if not os.path.isdir(need(mnt, "cpus/%d" % n)):
            raise Fail("/cpus/%d is not a directory" % n)
    return "/cpus/0..%d for the %d CORE notes" % (len(hc.cores) - 1, len(hc.cores))


def check_dom0_mem(mnt, ref):
    fd = os.open(need(mnt, "dom0/mem"), os.O_RDONLY)
    try:
        for p, want in ref["dom0_pages"].items():
            got = os.pread(fd, PAGE, p * PAGE)
            if got != want:
                raise Fail("/dom0/mem pfn %#x differs from crash's rd -p" % p)
    finally:
        os.close(fd)
    return "%d pfns equal to crash's rd -p" % len(ref["dom0_pages"])


def check_dom0_dmesg(mnt, ref):
    got = [l.rstrip() for l in open(need(mnt, "dom0/dmesg"), errors="replace").read().splitlines()]
    want = [l for l in ref["crash"]["log"]]
    while want and not want[-1].strip():
        want.pop()
    while got and not got[-1].strip():
        got.pop()
    if got != want:
        i = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
        raise Fail("/dom0/dmesg (%d lines) differs from crash's log (%d lines) at line %d: %r vs %r"
                   % (len(got), len(want), i + 1, got[i] if i < len(got) else None, want[i] if i < len(want) else None))
    return "%d lines, the same as crash's log" % len(got)


def check_dom0_crash(mnt, ref):
    elf = need(mnt, "dom0/vmcore.elf")
    return crash_compare(crash_run(ref["vmlinux"], elf), ref["crash"], "/dom0/vmcore.elf", "the host vmcore")


def check_host(c, dumpfs, hdir, ref):
    hc = ref["hc"]
    try:
        ctx = mounted(dumpfs, [hc.path])
        mnt = ctx.__enter__()
    except Fail as e:
        c.fail("host: mount", str(e))
        return
    try:
        c.ok("host: mount", hc.path)
        c.run("host: mem", check_host_mem, mnt, hc)
        c.run("host: header", check_host_header, mnt, hc)
        c.run("host: cpus", check_host_cpus, mnt, hc)
        if "crash" in ref:
            if "dom0_pages" in ref:
                c.run("host: dom0-mem", check_dom0_mem, mnt, ref)
            c.run("host: dom0-dmesg", check_dom0_dmesg, mnt, ref)
            if TOOLS:
                c.run("host: dom0-crash", check_dom0_crash, mnt, ref)
            else:
                c.run("host: dom0-vmcore.elf", read_elf_ends, need(mnt, "dom0/vmcore.elf"))
                c.skip("host: dom0-crash", NO_TOOLS)
        else:
            c.fail("host: dom0", "no reference crash output (see above)")
    finally:
        ctx.__exit__(None, None, None)


def main(argv):
    args = argv[1:]
    ref_only = "--reference-only" in args
    only = {w for a in args if a.startswith("--only=") for w in a[7:].split(",")} or {"pv", "pvh", "host"}
    args = [a for a in args if a != "--reference-only" and not a.startswith("--only=")]
    if not ref_only:
        if not args:
            sys.exit(__doc__)
        dumpfs, args = args[0], args[1:]
    cache = complete_cache(args[0] if args else None, "xen-*")
    if not cache:
        print("SKIP: no complete Xen dump cache (run images/make-xen-dumps.sh as root)")
        return 77
    print("cache %s%s" % (cache, " (reference side only)" if ref_only else ""))
    c = Checks()
    for step, want_type in (("pv", "pv"), ("pvh", "pvh")):
        if step not in only:
            continue
        d = os.path.join(cache, step)
        fx = facts(os.path.join(d, "facts.txt"))
        print("\n== %s: %s" % (step, " ".join("%s=%s" % kv for kv in fx.items()
                                              if k_ok(kv[0]))))
        for rel, full in (("domU.core", True), ("live.core", False)):
            path = os.path.join(d, rel)
            if not os.path.exists(path):
                if rel == "domU.core":
                    c.fail("%s/%s" % (step, rel), "missing")
                continue
            label = "%s/%s" % (step, rel)
            ref = xc_reference(c, label, path, fx, full and TOOLS)
            if ref and ref["xc"].kind != ("pv" if want_type == "pv" else "hvm"):
                c.fail(label + ": kind", "dump-core magic says %s for the %s domU" % (ref["xc"].kind, step))
            if ref and not ref_only:
                check_xc(c, dumpfs, label, path, fx, want_type, ref, full)
    hdir = os.path.join(cache, "host")
    print("\n== host")
    if "host" not in only:
        pass
    elif os.path.exists(os.path.join(hdir, "vmcore")):
        ref = host_reference(c, hdir)
        if ref and not ref_only:
            check_host(c, dumpfs, hdir, ref)
    elif os.path.exists(os.path.join(hdir, "FAILED.txt")):
        print("no host kdump: %s" % open(os.path.join(hdir, "FAILED.txt")).readline().strip())
    print("\n%d passed, %d failed" % (len(c.passed), len(c.failed)))
    if c.failed:
        print("FAILED: %s" % ", ".join(c.failed))
        return 1
    print("PASS")
    return 0


def k_ok(k):
    return k in ("domid", "type", "memory_mib", "vcpus", "xen_version", "state_at_dump", "dump_core_seconds")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)

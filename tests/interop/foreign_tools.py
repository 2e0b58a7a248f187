#!/usr/bin/env python3
"""foreign_tools.py DUMPFS [CACHE_DIR]

Issue 11's judges: real tools on MNT/vmcore.elf of the foreign-architecture
dumps of images/make-foreign-dumps.sh (QEMU dump-guest-memory of Debian 12's
arm64, ppc64el and s390x kernels, as ELF and as kdump-zlib), each with its
architecture's debug vmlinux.  For every dump of every architecture that
has one, five judges, run on the ORIGINAL file and on our /vmcore.elf:

  drgn-release  drgn (python3-drgn) reads init_uts_ns.name.release from the
                dump and it is the kernel release of logs/ARCH.versions.txt;
                drgn's UTS_RELEASE (from VMCOREINFO), where it has one, too;
  drgn-tasks    the walk of init_task.tasks: init_task is swapper, pid 1 is
                on the list;
  drgn-printk   get_printk_records() gives records; where MNT/dmesg exists
                they, printed as crash's `log` prints them (the format
                /dmesg promises), equal it line by line; where it does not
                but MNT/vmcoreinfo does (so dumpfs could decode the log, as
                it does on x86_64), that is a failure too;
  drgn-stack    prog.stack_trace() of pid 1 (init_task without one) has a
                frame with a symbol, and no frame at pc 0 nor 1000 frames or
                more (an unwind gone astray in memory the original lacks:
                on x86_64, physical PT_LOADs at virtual 0 give drgn zeros
                where a user stack should be, up to its 1024-frame limit);
  gdb-release   gdb-multiarch, `set architecture`, `symbol-file -o OFFSET
                VMLINUX` (OFFSET: KERNELOFFSET of the core's own VMCOREINFO
                note, else 0), `core-file`, prints init_uts_ns.name.release
                and linux_banner with the release.  `symbol-file`, not
                `file`: with an exec file gdb reads what the core lacks from
                the vmlinux's own .data, where both strings are compiled in,
                and "passes" on a core that holds no kernel address at all.

One line per (arch, dump, judge): "ok: ..." or "FAIL: ...", with the
reason and what the original gave.  When both pass, their values must be
equal (same tasks, records, frames).  A failure of ours that the original
shares ends in "original fails too: ..."; it still counts as a failure (as
in crash_compare.py, where the original cannot be read, ours must be), but
is then not dumpfs's doing alone.  Ends with "N passed, N failed" and
writes interop-results/foreign-tools.tsv in the working directory.

KNOWN_GAPS lists the (arch, judge) pairs issue 11 has not reached yet
(none since the page-table PT_LOADs of ppc64 and s390x): their
failures print "known gap: ..." and do not count; one that passes prints
"FAIL: ... passes now: drop it from KNOWN_GAPS", so the list only shrinks.

Exit 1 if any judge failed, 0 if none did, 77 (skip) when the cache,
python3-drgn, gdb-multiarch or FUSE is missing, or no architecture has its
debug vmlinux: bash tests/interop/install-foreign.sh installs the tools and
unpacks the vmlinux files into /var/cache/dumpfs/foreign-dbg/ARCH/ (or
$DUMPFS_FOREIGN_DBG/ARCH/).  CACHE_DIR defaults to the newest
/var/cache/dumpfs/foreign-*/ with a MANIFEST.tsv.  Heavy: run it at idle
priority (chrt -i 0) on a shared machine."""
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import time

from interop_common import (DRGN_JUDGES, Fail, drgn_python, judge_both, mounted, need_fuse,
                            run_drgn, skip)

DBG_DIR = os.environ.get("DUMPFS_FOREIGN_DBG", "/var/cache/dumpfs/foreign-dbg")
GDB_ARCH = {"arm64": "aarch64", "ppc64el": "powerpc:common64", "s390x": "s390:64-bit"}
GDB_TIMEOUT = 600
KNOWN_GAPS = set()


# --- the cache --------------------------------------------------------------

def read_manifest(d):
    with open(os.path.join(d, "MANIFEST.tsv")) as f:
        cols = f.readline().rstrip("\n").split("\t")
        return [dict(zip(cols, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def find_cache(arg):
    if arg:
        return arg if os.path.exists(os.path.join(arg, "MANIFEST.tsv")) else None
    best = None
    for m in glob.glob("/var/cache/dumpfs/foreign-*/MANIFEST.tsv"):
        try:
            rows = read_manifest(os.path.dirname(m))
        except OSError:
            continue
        if rows and (best is None or os.path.getmtime(m) > best[0]):
            best = (os.path.getmtime(m), os.path.dirname(m))
    return best[1] if best else None


def kernel_release(cache, arch, rows):
    """The guest's release: kernel_package=linux-image-RELEASE VERSION of
    logs/ARCH.versions.txt, else the manifest's "guest Linux RELEASE"."""
    path = os.path.join(cache, "logs", arch + ".versions.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                m = re.match(r"kernel_package=linux-image-(\S+) ", line)
                if m:
                    return m.group(1)
    for r in rows:
        m = re.search(r"guest Linux (\S+)", r.get("producer", ""))
        if r["arch"] == arch and m:
            return m.group(1)
    return None


def find_vmlinux(arch, release):
    for p in (os.path.join(DBG_DIR, arch, "usr/lib/debug/boot/vmlinux-" + release),
              "/usr/lib/debug/boot/vmlinux-" + release):
        if os.path.exists(p):
            return p
    return None


# --- the tools ---------------------------------------------------------------

def elf_kerneloffset(path):
    """KERNELOFFSET of the VMCOREINFO note of an ELF64 core (either byte
    order): (offset, where it came from)."""
    try:
        with open(path, "rb") as f:
            eh = f.read(64)
            if eh[:4] != b"\x7fELF" or eh[4] != 2:
                return 0, "not an ELF64 file: offset 0"
            e = ">" if eh[5] == 2 else "<"
            phoff, = struct.unpack_from(e + "Q", eh, 32)
            phentsize, phnum = struct.unpack_from(e + "HH", eh, 54)
            f.seek(phoff)
            tab = f.read(phentsize * min(phnum, 4096))
            for i in range(len(tab) // phentsize):
                typ, _, off, _, _, filesz = struct.unpack_from(e + "IIQQQQ", tab, i * phentsize)
                if typ != 4 or filesz > 1 << 24:
                    continue
                f.seek(off)
                notes = f.read(filesz)
                pos = 0
                while pos + 12 <= len(notes):
                    namesz, descsz, _ = struct.unpack_from(e + "III", notes, pos)
                    name = notes[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                    dpos = pos + 12 + (namesz + 3) // 4 * 4
                    desc = notes[dpos:dpos + descsz]
                    pos = dpos + (descsz + 3) // 4 * 4
                    if name == b"VMCOREINFO":
                        m = re.search(rb"^KERNELOFFSET=([0-9a-fA-F]+)$", desc, re.M)
                        if m:
                            return int(m.group(1), 16), "KERNELOFFSET of its VMCOREINFO note"
                        return 0, "its VMCOREINFO note has no KERNELOFFSET: offset 0"
    except (OSError, struct.error):
        pass
    return 0, "no VMCOREINFO note: offset 0"


def run_gdb(arch, core, vmlinux):
    offset, origin = elf_kerneloffset(core)
    cmd = ["gdb-multiarch", "-nx", "-batch",
           "-ex", "set architecture " + GDB_ARCH[arch],
           "-ex", "symbol-file -o %#x %s" % (offset, vmlinux),
           "-ex", "core-file " + core,
           "-ex", "p init_uts_ns.name.release",
           "-ex", "x/s &linux_banner"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=GDB_TIMEOUT)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        out = "gdb-multiarch timed out after %d s" % GDB_TIMEOUT
    return {"out": out, "offset": offset, "origin": origin}


# --- the gdb judge (the drgn ones are interop_common.py's): it takes one
# --- file's results, returns (summary, value to compare with the
# --- original's) or raises Fail ---------------------------------------------

def gdb_string(out, pattern):
    m = re.search(pattern, out, re.M)
    return m.group(1) if m else None


def judge_gdb(ctx, res):
    out = res["out"]
    rel = gdb_string(out, r'^\$1 = "([^"]*)"')
    banner = gdb_string(out, r'<linux_banner>:\s+"(Linux version [^"]{0,60})')
    want = "Linux version %s " % ctx["release"]
    if rel == ctx["release"] and banner and banner.startswith(want):
        return ("init_uts_ns.name.release %r, linux_banner %r (symbol-file -o %#x: %s)" % (
            rel, banner[:40], res["offset"], res["origin"]), rel)
    errs = [l.strip() for l in out.splitlines()
            if re.search(r"Cannot access|not in executable format|error|No symbol|warning|timed out", l, re.I)]
    raise Fail("release %r, linux_banner %r (symbol-file -o %#x: %s): %s" % (
        rel, banner, res["offset"], res["origin"], "; ".join(errs[:3]) or out.strip()[-300:]))


JUDGES = [(name, "drgn", fn) for name, fn in DRGN_JUDGES] + [("gdb-release", "gdb", judge_gdb)]


# --- ours against the original ----------------------------------------------

class Run:
    def __init__(self, known_gaps=None):
        self.passed = self.failed = self.known = 0
        self.rows = []
        self.known_gaps = KNOWN_GAPS if known_gaps is None else known_gaps

    def record(self, arch, dump, judge, ok, line):
        known = (arch, judge) in self.known_gaps
        if known and ok:
            ok, line = False, "passes now: drop it from KNOWN_GAPS (%s)" % line
            known = False
        status = "ok" if ok else "known gap" if known else "FAIL"
        print("%s: %s %s %s: %s" % (status, arch, dump, judge, line), flush=True)
        if ok:
            self.passed += 1
        elif known:
            self.known += 1
        else:
            self.failed += 1
        self.rows.append((arch, dump, judge, status, line.replace("\t", " ")))


def judge_dump(run, ctx, arch, row):
    dump = row["path"].split("/", 1)[-1]
    path = os.path.join(ctx["cache"], row["path"])
    t0 = time.time()
    orig = {"drgn": run_drgn(ctx["py"], path, ctx["vmlinux"]),
            "gdb": run_gdb(arch, path, ctx["vmlinux"])}
    t1 = time.time()
    try:
        with mounted(ctx["dumpfs"], [path]) as mnt:
            elf = os.path.join(mnt, "vmcore.elf")
            ours = {"drgn": run_drgn(ctx["py"], elf, ctx["vmlinux"]),
                    "gdb": run_gdb(arch, elf, ctx["vmlinux"])}
            t2 = time.time()
            for tag, res in (("original", orig["drgn"]), ("ours", ours["drgn"])):
                print("info: %s %s drgn on %s: %s" % (
                    arch, dump, tag, "cannot open: " + res["open"] if "open" in res else
                    "%s, %s" % (res.get("platform"), "Linux kernel core" if res.get("kernel")
                                else "not a Linux kernel core (no VMCOREINFO)")), flush=True)
            for name, tool, fn in JUDGES:
                ok, line = judge_both(ctx, name, fn, ours[tool], orig[tool], mnt)
                run.record(arch, dump, name, ok, line)
    except Fail as e:
        for name, _, _ in JUDGES:
            run.record(arch, dump, name, False, "cannot mount: %s" % e)
        return
    print("info: %s %s: the original's judges %.1f s, ours %.1f s" % (arch, dump, t1 - t0, t2 - t1),
          flush=True)


def main(dumpfs, arg):
    cache = find_cache(arg)
    if not cache:
        skip("no foreign-architecture dumps (%s); make them with: bash images/make-foreign-dumps.sh"
             % (arg or "/var/cache/dumpfs/foreign-*/MANIFEST.tsv"))
    py = drgn_python()
    if not py:
        skip("python3-drgn is not installed (bash tests/interop/install-foreign.sh)")
    if not shutil.which("gdb-multiarch"):
        skip("gdb-multiarch is not installed (bash tests/interop/install-foreign.sh)")
    need_fuse()
    print("cache: %s; drgn through %s; debug vmlinux under %s" % (cache, py, DBG_DIR), flush=True)
    rows = read_manifest(cache)
    arches = sorted({r["arch"] for r in rows})
    run = Run()
    for arch in arches:
        if arch not in GDB_ARCH:
            print("skip: %s: no judge knows this architecture" % arch)
            continue
        release = kernel_release(cache, arch, rows)
        if not release:
            print("skip: %s: no kernel release in logs/%s.versions.txt or the manifest" % (arch, arch))
            continue
        vmlinux = find_vmlinux(arch, release)
        if not vmlinux:
            print("skip: %s: no debug vmlinux-%s under %s/%s or /usr/lib/debug/boot "
                  "(bash tests/interop/install-foreign.sh)" % (arch, release, DBG_DIR, arch))
            continue
        print("== %s: Linux %s, %s" % (arch, release, vmlinux), flush=True)
        ctx = {"cache": cache, "dumpfs": dumpfs, "py": py, "vmlinux": vmlinux, "release": release}
        for row in rows:
            if row["arch"] == arch:
                judge_dump(run, ctx, arch, row)
    if run.passed + run.failed + run.known == 0:
        skip("nothing judged: no architecture of %s has its debug vmlinux" % cache)
    os.makedirs("interop-results", exist_ok=True)
    out = os.path.join("interop-results", "foreign-tools.tsv")
    with open(out, "w") as f:
        f.write("arch\tdump\tjudge\tstatus\tresult\n")
        for r in run.rows:
            f.write("\t".join(r) + "\n")
    print("results in %s" % os.path.abspath(out))
    print("%d known gaps (issue 11)" % run.known)
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))

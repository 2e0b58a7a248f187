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
(the stacks of ppc64 and s390x: kernel stacks are vmalloc'd, and their page
tables are not decoded, so /vmcore.elf has no PT_LOAD for them): their
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
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

from interop_common import Fail, mounted, need_fuse, skip

HERE = os.path.dirname(os.path.abspath(__file__))
DRGN_CHILD = os.path.join(HERE, "foreign_drgn.py")
DBG_DIR = os.environ.get("DUMPFS_FOREIGN_DBG", "/var/cache/dumpfs/foreign-dbg")
GDB_ARCH = {"arm64": "aarch64", "ppc64el": "powerpc:common64", "s390x": "s390:64-bit"}
DRGN_TIMEOUT = 900
GDB_TIMEOUT = 600
RUNAWAY = 1000      # frames; no real kernel stack (16 KiB on these) has as many
KNOWN_GAPS = {("ppc64el", "drgn-stack"), ("s390x", "drgn-stack")}


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

def drgn_python():
    """A Python that imports drgn: Debian's is /usr/bin/python3, which need
    not be the one running this test."""
    seen = set()
    for py in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not py or py in seen or not os.path.exists(py):
            continue
        seen.add(py)
        if subprocess.run([py, "-c", "import drgn"], capture_output=True).returncode == 0:
            return py
    return None


def run_drgn(py, core, vmlinux):
    try:
        r = subprocess.run([py, DRGN_CHILD, core, vmlinux], capture_output=True, text=True,
                           errors="replace", timeout=DRGN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"open": "drgn timed out after %d s" % DRGN_TIMEOUT}
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"open": "drgn child exited %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-400:])}


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


# --- the judges: each takes one file's results, returns (summary, value to
# --- compare with the original's) or raises Fail --------------------------

def not_kernel(res):
    return "" if res.get("kernel") else \
        " (drgn does not see a Linux kernel core: %s, no VMCOREINFO)" % res.get("platform")


def drgn_part(res, key):
    if "open" in res:
        raise Fail("drgn cannot open it: " + res["open"])
    v = res.get(key)
    if isinstance(v, dict) and "error" in v:
        raise Fail(v["error"] + not_kernel(res))
    return v


def judge_release(ctx, res):
    v = drgn_part(res, "release")
    got = v["init_uts_ns"]
    if isinstance(got, dict):
        uts = v.get("UTS_RELEASE")
        raise Fail("init_uts_ns: %s%s%s" % (got["error"], "; UTS_RELEASE %r (VMCOREINFO only)" % uts
                                            if isinstance(uts, str) else "", not_kernel(res)))
    if got != ctx["release"]:
        raise Fail("init_uts_ns.name.release %r, expected %r" % (got, ctx["release"]))
    uts = v.get("UTS_RELEASE")
    if isinstance(uts, dict):
        raise Fail("UTS_RELEASE: " + uts["error"])
    if uts is not None and uts != ctx["release"]:
        raise Fail("UTS_RELEASE %r, expected %r" % (uts, ctx["release"]))
    return ("init_uts_ns.name.release %r%s" % (got, ", UTS_RELEASE the same" if uts else ""), got)


def judge_tasks(ctx, res):
    v = drgn_part(res, "tasks")
    tasks = v["list"]
    if not tasks or not tasks[0][1].startswith("swapper"):
        raise Fail("init_task is %r, not swapper" % (tasks[0] if tasks else None,))
    init = [c for p, c in tasks if p == 1]
    if not init:
        raise Fail("no pid 1 among the %d tasks on init_task.tasks: %s" % (
            len(tasks), ", ".join("%d %s" % (p, c) for p, c in tasks[:8])))
    return ("%d tasks on init_task.tasks (%s, pid 1 %r, ...), for_each_task %s" % (
        len(tasks), tasks[0][1], init[0], v.get("for_each_task")),
        ["%d %s" % (p, c) for p, c in tasks])


def crash_log(records):
    """The records as crash's `log` prints them, which is /dmesg's format:
    "[%5d.%06d] " then the text, a newline continued under the prefix, a
    byte neither printable nor space as '.'."""
    out = []
    for ts, text in records:
        prefix = "[%5d.%06d] " % (ts // 1000000000, ts % 1000000000 // 1000)
        body = []
        for c in text:
            o = ord(c)
            if c == "\n":
                body.append("\n" + " " * len(prefix))
            elif 0x20 <= o < 0x7f or 9 <= o <= 13:
                body.append(c)
            else:
                body.append(".")
        out.append(prefix + "".join(body) + "\n")
    return "".join(out)


def first_difference(a, b, what_a, what_b):
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d: %s %r, %s %r" % (i + 1, what_a, x, what_b, y)
    return "%s %d lines, %s %d lines" % (what_a, len(al), what_b, len(bl))


def judge_printk(ctx, res):
    v = drgn_part(res, "printk")
    recs = v["records"]
    if not recs:
        raise Fail("get_printk_records() gives no record")
    text = crash_log(recs)
    return ("%d records, %d lines, the first %r" % (len(recs), len(text.splitlines()),
                                                    recs[0][1][:60]), text)


def judge_stack(ctx, res):
    v = drgn_part(res, "stack")
    frames = v["frames"]
    named = [f for f in frames if not f.startswith("0x")]
    crashed = v.get("crashed")
    also = "; crashed thread: %s" % (" < ".join(crashed[:4]) if isinstance(crashed, list) else crashed)
    if not named:
        raise Fail("stack_trace(pid %d %s): %d frames, none with a symbol (%s)%s" % (
            v["task"][0], v["task"][1], len(frames), " ".join(frames[:4]), also))
    # A runaway unwind: drgn follows return addresses read from memory until
    # its frame limit (1024); a frame at pc 0 means it read a zero where the
    # original dump has nothing (seen when a PT_LOAD sits at virtual 0).
    if len(frames) >= RUNAWAY or "0x0" in frames:
        zero = frames.index("0x0") if "0x0" in frames else -1
        raise Fail("stack_trace(pid %d %s): the unwind went astray, %d frames%s: %s" % (
            v["task"][0], v["task"][1], len(frames),
            ", frame %d at pc 0x0" % zero if zero >= 0 else "",
            " < ".join(frames[max(0, zero - 3):zero + 2] if zero >= 0 else frames[:6])))
    return ("stack_trace(pid %d %s): %d frames: %s%s" % (
        v["task"][0], v["task"][1], len(frames), " < ".join(frames[:4]), also), frames)


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


JUDGES = [("drgn-release", "drgn", judge_release),
          ("drgn-tasks", "drgn", judge_tasks),
          ("drgn-printk", "drgn", judge_printk),
          ("drgn-stack", "drgn", judge_stack),
          ("gdb-release", "gdb", judge_gdb)]


# --- ours against the original ----------------------------------------------

def dmesg_check(mnt, text):
    """Our /dmesg against drgn's records (crash's format): (ok, message)."""
    dmesg = os.path.join(mnt, "dmesg")
    if os.path.exists(dmesg):
        with open(dmesg, "rb") as f:
            ours = f.read().decode("latin-1")
        if ours != text:
            return False, "/dmesg differs from drgn's records: " + first_difference(text, ours, "drgn", "/dmesg")
        return True, "equal to /dmesg (%d lines)" % len(ours.splitlines())
    why = "no dmesg line"
    with open(os.path.join(mnt, "header"), errors="replace") as f:
        for line in f:
            if line.startswith("dmesg: "):
                why = line.strip()
                break
    if os.path.exists(os.path.join(mnt, "vmcoreinfo")):
        return False, "drgn decodes the log, but /dmesg is absent although /vmcoreinfo exists (/header: %s)" % why
    return True, "no /dmesg (/header: %s; no /vmcoreinfo)" % why


def judge_both(ctx, name, fn, ours, orig, mnt):
    """(ok, line) for one judge on our /vmcore.elf and the original."""
    try:
        o_msg, o_val = fn(ctx, orig)
        o_err = None
    except (Fail, KeyError, TypeError, IndexError) as e:
        o_err = "%s" % e if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
    try:
        msg, val = fn(ctx, ours)
        err = None
    except (Fail, KeyError, TypeError, IndexError) as e:
        err = "%s" % e if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
    if err is None and name == "drgn-printk" and mnt is not None:
        d_ok, d = dmesg_check(mnt, val)
        if d_ok:
            msg += "; " + d
        else:
            err = d
    if err is None:
        if o_err is not None:
            return True, "%s; the original fails: %s" % (msg, o_err)
        if o_val != val:
            if isinstance(val, str):
                diff = first_difference(o_val, val, "original", "ours")
            else:
                diff = first_difference("\n".join(map(str, o_val)), "\n".join(map(str, val)),
                                        "original", "ours")
            return False, "ours differs from the original: %s (ours: %s)" % (diff, msg)
        return True, "%s; the original: the same" % msg
    if o_err is not None:
        return False, "ours: %s; original fails too: %s" % (err, o_err)
    return False, "ours: %s; the original passes: %s" % (err, o_msg)


class Run:
    def __init__(self):
        self.passed = self.failed = self.known = 0
        self.rows = []

    def record(self, arch, dump, judge, ok, line):
        known = (arch, judge) in KNOWN_GAPS
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

#!/usr/bin/env python3
"""remote_real.py DUMPFS [REAL_DIR] [--quick] [--only SUBSTRING] [--crash-all] [--no-qcore]

Dumps read in place (issue 14) on the real-producer corpus: every dump of
REAL_DIR/MANIFEST.tsv (images/make-real-dumps.sh: QEMU ELF and flattened,
makedumpfile kdump zlib/lzo/none, ELF, flattened, split sets, the kdump
capture kernel's) is served by a real nginx (tests/remote/nginx.py) and
mounted twice, from the file and from its URL (a split set as its URLs in
order); with the small guest of images/make-qemu-cores.sh
(/var/cache/dumpfs/qcore-KEY/small), its QEMU process cores too.

  tree     /mem and /vmcore.elf have the same SHA-256 on both mounts, and
           so has every other file of the tree (but /header, /header.json
           and /stats, which name the source, and /tasks/*/mem and core,
           views of /mem); a file that fails to read fails alike
  https    a subset over HTTPS (-o ca_file= of nginx.py's CA): the same
  sidecar  a flattened dump with its `dumpfs index` sidecar beside it:
           /header names URL.dfsidx, the mount and /vmcoreinfo fetch under
           a quarter of the file (without it: all), and the tree is the same
  drgn     a drgn script (release, jiffies, every task, a backtrace of
           each CPU's current task) prints the same on the remote
           /vmcore.elf as on the local one, for every dump
  crash    crash -s VMLINUX (sys, bt -a, log, ps) prints the same on the
           remote /vmcore.elf of a fresh mount as on the local one: on one
           dump of each kind (CRASH_SUBSET; a run takes 20-40 s), on all
           with --crash-all
  Both need /var/cache/dumpfs/x86-dbg/vmlinux-RELEASE (skipped, and said,
  without it, or where VMCOREINFO gives no release).

A table ends the run: per dump, the files compared, the bytes fetched by the
mount and by the whole comparison, and the requests and bytes of the crash
session, against the dump's size.

$DUMPFS_REAL_DIR, where set, is the corpus (meson test real-remote in a
worktree without one); else REAL_DIR, else the repository's images/real.
--only keeps the dumps whose path contains SUBSTRING; --quick (what
`meson test` runs, to keep CI within its budget) keeps one dump of each
kind, QUICK: the whole corpus is a run of about an hour on 2 CPUs.
Exits 77 (skip) when REAL_DIR/MANIFEST.tsv is absent, or nginx or openssl
is missing."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "remote"))
sys.dont_write_bytecode = True
from corpus import dump_sets, manifest  # noqa: E402
import nginx  # noqa: E402
import remote  # noqa: E402
from remote import outcome, tree_files  # noqa: E402

DBG_DIR = "/var/cache/dumpfs/x86-dbg"
CRASH_CMDS = "sys\nbt -a\nlog\nps\nq\n"
QUICK = ("mdf/idle-zlib-d31.kdump", "kdump/capture-zlib-d31.flat", "mdf/idle-split3-zlib-d31.kdump",
         "mdf/idle-lzo-d1.kdump", "qemu/idle-kdump-zlib.flat", "qcore-small/qemu.core")
HTTPS_SUBSET = ("mdf/idle-zlib-d31.kdump", "kdump/capture-zlib-d31.flat", "mdf/idle-split3-zlib-d31.kdump",
                "qemu/idle.elf")
SIDECAR_DUMP = "kdump/capture-zlib-d31.flat"
# crash takes 20 to 40 s a run (most of it reading the vmlinux's debug
# information), so it runs on one dump of each kind unless --crash-all;
# drgn (a few seconds) runs on every dump
CRASH_SUBSET = ("qemu/idle.elf", "qemu/idle-paging.elf", "qemu/idle-kdump-zlib.flat", "panic/panic-zlib-d31.kdump",
                "kdump/capture-zlib-d31.flat", "kdump/proc-vmcore-lzo-d31.kdump", "mdf/idle-none-d0.kdump",
                "mdf/idle-split3-zlib-d31.kdump", "mdf/idle-d31.elf.flat", "qcore-small/qemu.core")


class Fail(AssertionError):
    """What remote.py's mounts raise too."""


# ---- mounts -------------------------------------------------------------------

class Mount(remote.Mount):
    """remote.py's mount (dumpfs -f in the background, stderr in a file)."""

    def fetched(self):
        """(requests, bytes) of all the mount's URLs: /stats has one block
        of remote_* lines per file of a split set (the same keys again,
        naming no file), so they are summed here."""
        req = got = 0
        for line in self.read("/stats").decode().splitlines():
            k, _, v = line.partition(": ")
            if k == "remote_requests":
                req += int(v)
            elif k == "remote_bytes":
                got += int(v)
        return req, got


def same_tree(loc, rem):
    """Every file of both trees read, /mem and /vmcore.elf first; returns
    (files compared, [files that failed alike])."""
    files = tree_files(loc.mnt)
    other = tree_files(rem.mnt)
    if other != files:
        raise Fail("the trees differ: only local %s, only remote %s" % (
            sorted(set(files) - set(other))[:5], sorted(set(other) - set(files))[:5]))
    order = [f for f in ("mem", "vmcore.elf") if f in files] + [f for f in files if f not in ("mem", "vmcore.elf")]
    errors = []
    for rel in order:
        want, got = outcome(loc.path(rel)), outcome(rem.path(rel))
        if want != got:
            raise Fail("/%s differs: local %s, remote %s" % (rel, want[:24], got[:24]))
        if want.startswith("errno"):
            errors.append("/%s %s" % (rel, want))
    return len(files), errors


def header_field(text, key):
    m = re.search(r"^%s: (.*)$" % re.escape(key), text, re.M)
    return m.group(1) if m else None


# ---- crash and drgn -------------------------------------------------------------

def crash_out(vmlinux, elf):
    r = subprocess.run(["crash", "-s", vmlinux, elf], input=CRASH_CMDS, capture_output=True, text=True,
                       timeout=900)
    out = [l.replace(elf, "VMCORE").rstrip() for l in r.stdout.splitlines()]
    return r.returncode, out, r.stderr.replace(elf, "VMCORE")


DRGN = r"""
import sys, drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.sched import task_state_to_char
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
print(p["init_uts_ns"].name.release.string_().decode(), p["jiffies_64"].value_())
for t in for_each_task(p):
    print(t.pid.value_(), t.comm.string_().decode(), task_state_to_char(t))
for cpu in for_each_online_cpu(p):
    t = per_cpu(p["runqueues"], cpu).curr
    print("cpu", cpu, t.pid.value_())
    try:
        print(p.stack_trace(t))
    except Exception as e:
        print("no trace:", e)
"""


def drgn_out(vmlinux, elf):
    r = subprocess.run(["/usr/bin/python3", "-c", DRGN, elf, vmlinux], capture_output=True, text=True,
                       timeout=900)
    return r.returncode, r.stdout.replace(elf, "VMCORE").splitlines(), r.stderr.replace(elf, "VMCORE")


def first_diff(a, b):
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return i + 1, a[i] if i < len(a) else None, b[i] if i < len(b) else None


def same_tool(what, loc, rem):
    (rc1, out1, err1), (rc2, out2, err2) = loc, rem
    if (rc1, out1) != (rc2, out2):
        line, x, y = first_diff(out1, out2)
        raise Fail("%s differs (exit %d/%d) at line %d: local %r, remote %r; remote stderr %r" % (
            what, rc1, rc2, line, x, y, err2.strip()[-200:]))
    return "%s: exit %d, %d lines the same" % (what, rc1, len(out1))


# ---- the run --------------------------------------------------------------------

class Run:
    def __init__(self, dumpfs, real, work, server, crash_all):
        self.dumpfs, self.real, self.work, self.n = dumpfs, real, work, server
        self.crash_all = crash_all
        self.root = os.path.join(work, "root")
        self.failed, self.skipped, self.table, self.alike = [], [], [], []
        self.t = time.monotonic()

    def took(self):
        t, self.t = self.t, time.monotonic()
        return "[%.1f s]" % (self.t - t)

    def ok(self, name, msg):
        print("ok    %-44s %s %s" % (name, msg, self.took()), flush=True)

    def fail(self, name, msg):
        self.failed.append(name)
        print("FAIL  %-44s %s %s" % (name, msg, self.took()), flush=True)

    def skip(self, name, msg):
        self.skipped.append("%s: %s" % (name, msg))
        print("skip  %-44s %s %s" % (name, msg, self.took()), flush=True)

    def serve(self, name, path):
        """A symbolic link ROOT/NAME to PATH (nothing is written next to the
        corpus); returns NAME."""
        link = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink(os.path.realpath(path), link)
        return name

    def url(self, name, https=False):
        if https:
            return "https://127.0.0.1:%d/%s" % (self.n.https_port, name)
        return "http://127.0.0.1:%d/%s" % (self.n.http_port, name)

    def mnt(self, tag):
        return tempfile.mkdtemp(prefix=tag + ".", dir=os.path.join(self.work, "mnt"))

    def compare(self, tag, paths, names, https=False, opts=()):
        """Local and remote mounts of one dump, every file read on both;
        returns (files, failed alike, release, (requests, bytes) after the
        mount, after the comparison)."""
        urls = [self.url(n, https) for n in names]
        opts = list(opts) + (["ca_file=" + self.n.ca] if https else [])
        with Mount(self.dumpfs, paths, self.mnt("local")) as loc, \
                Mount(self.dumpfs, urls, self.mnt("remote"), opts) as rem:
            mounted = rem.fetched()
            header = rem.read("/header").decode(errors="replace")
            if urls[0] not in header:
                raise Fail("the remote /header does not name %s" % urls[0])
            files, errors = same_tree(loc, rem)
            after = rem.fetched()
            release = header_field(header, "osrelease")
            if "problem" in rem.stderr():
                raise Fail("the remote mount logged: %s" % rem.stderr()[-300:])
        return files, errors, release, mounted, after, header

    def crash_session(self, tag, paths, names, release, with_crash):
        """drgn, and crash if @with_crash, on the local and the remote
        /vmcore.elf (fresh mounts: /stats then counts the crash session
        alone).  Returns the session's (requests, bytes), or None."""
        vmlinux = os.path.join(DBG_DIR, "vmlinux-%s" % release) if release else None
        if not vmlinux or not os.path.exists(vmlinux):
            self.skip(tag + ": crash, drgn", "no vmlinux for release %s in %s" % (release, DBG_DIR))
            return None
        with Mount(self.dumpfs, paths, self.mnt("local")) as loc:
            lc = crash_out(vmlinux, loc.path("vmcore.elf")) if with_crash else None
            ld = drgn_out(vmlinux, loc.path("vmcore.elf"))
        with Mount(self.dumpfs, [self.url(n) for n in names], self.mnt("remote")) as rem:
            session = None
            if with_crash:
                rc = crash_out(vmlinux, rem.path("vmcore.elf"))
                session = rem.fetched()
            rd = drgn_out(vmlinux, rem.path("vmcore.elf"))
            self.drgn_session = None if with_crash else rem.fetched()
        tools = [("drgn", ld, rd)] + ([("crash", lc, rc)] if with_crash else [])
        for what, a, b in tools:
            try:
                msg = same_tool(what, a, b)
            except Fail as e:
                self.fail(tag + ": " + what, str(e))
                continue
            if a[0] != 0:
                # the same on both mounts: not the remote source's doing,
                # but said (the local /vmcore.elf fails the tool too)
                why = a[2].strip().splitlines()[-1:] or ["no message"]
                self.alike.append("%s: %s exit %d on both: %s" % (tag, what, a[0], why[0][:200]))
                self.ok(tag + ": " + what, "%s; FAILS ALIKE on the local mount: %s" % (msg, why[0][:200]))
            elif what == "crash":
                tasks = sum(1 for l in a[1] if re.match(r"\s*>?\s*\d+\s+\d+\s+\d+\s+[0-9a-f]{16}", l))
                self.ok(tag + ": crash", "%s (sys, bt -a, log, ps: %d ps lines); session fetched %d bytes "
                        "in %d requests" % (msg, tasks, session[1], session[0]))
            else:
                self.ok(tag + ": drgn", "%s (%d tasks)" % (msg, sum(1 for l in a[1] if re.match(r"\d+ ", l))))
        if not with_crash:
            self.skipped.append("%s: crash (not in the subset; --crash-all runs it)" % tag)
        return session

    def one(self, tag, paths, size, https=False):
        names = [self.serve(os.path.relpath(p, self.real) if p.startswith(self.real + "/") else
                            os.path.join("extra", tag.replace("/", "-"), os.path.basename(p)), p) for p in paths]
        row = {"dump": tag, "size": size}
        try:
            files, errors, release, mounted, after, _ = self.compare(tag, paths, names, https)
            row.update(files=files, mount=mounted, compare=after)
            self.ok(tag + (" https" if https else "") + ": tree",
                    "%d files identical, /mem and /vmcore.elf too; size %d, the mount fetched %d, all %d "
                    "(%.2f x the size) in %d requests%s" % (files, size, mounted[1], after[1], after[1] / size, after[0],
                                    "; %d fail alike: %s" % (len(errors), ", ".join(errors[:3])) if errors else ""))
        except (AssertionError, OSError) as e:
            self.fail(tag + (" https" if https else "") + ": tree", str(e))
            return
        if https:
            return
        try:
            self.drgn_session = None
            row["crash"] = self.crash_session(tag, paths, names, release,
                                              self.crash_all or tag in CRASH_SUBSET)
            row["drgn"] = self.drgn_session
        except (AssertionError, OSError, subprocess.TimeoutExpired) as e:
            self.fail(tag + ": crash, drgn", str(e))
        self.table.append(row)

    def sidecar(self, rel):
        """A flattened dump served with its dumpfs index sidecar beside it."""
        path = os.path.join(self.real, rel)
        name = self.serve(os.path.join("sidecar", os.path.basename(rel)), path)
        side = os.path.join(self.root, name + ".dfsidx")
        r = subprocess.run([self.dumpfs, "index", "--output", side, path], capture_output=True, text=True,
                           timeout=600)
        if r.returncode:
            raise Fail("dumpfs index: exit %d: %s" % (r.returncode, r.stderr[-300:]))
        url, size = self.url(name), os.path.getsize(path)
        with Mount(self.dumpfs, [url], self.mnt("sidecar")) as m:
            header = m.read("/header").decode(errors="replace")
            m.read("/vmcoreinfo")
            requests, fetched = m.fetched()
        if url + ".dfsidx" not in header:
            raise Fail("/header does not say the index came from %s.dfsidx: %r" % (url, header_field(header, "file")))
        # without it the mount reads the whole file to index it; with it, the
        # header, bitmaps, some descriptors and pages, and their read-ahead
        # (0.98 to 2.26 MB of this 16.7 MB dump, by the machine's timing)
        if fetched * 4 > size:
            raise Fail("with the sidecar, mount and /vmcoreinfo fetched %d of %d bytes" % (fetched, size))
        files, errors, _, _, after, _ = self.compare("sidecar", [path], [name])
        return ("file: %s; mount + /vmcoreinfo fetched %d of %d bytes (%.2f%%) in %d requests; "
                "%d files identical, full compare fetched %d" % (header_field(header, "file"), fetched, size,
                                                                  100.0 * fetched / size, requests, files, after[1]))

    def print_table(self):
        print("\nbytes over HTTP (nginx on 127.0.0.1), against each dump's size:")
        print("(mount: the mount alone; full compare: every file read; crash: a fresh mount and crash's sys, "
              "bt -a, log, ps;\n drgn: a fresh mount and the drgn script, where crash did not run)")
        print("%-44s %10s %6s %11s %7s %11s %6s %9s %11s %6s %9s %11s %6s" % (
            "dump", "size", "files", "mount", "mount%", "compare", "xsize", "crash req", "crash bytes",
            "crash%", "drgn req", "drgn bytes", "drgn%"))

        def fig(pair, size):
            if not pair:
                return ("-", "-", "-")
            return (pair[0], pair[1], "%.1f%%" % (100.0 * pair[1] / size))
        for r in self.table:
            size = r["size"]
            print("%-44s %10d %6s %11s %6.1f%% %11s %6.2f %9s %11s %6s %9s %11s %6s" % (
                r["dump"], size, r["files"], r["mount"][1], 100.0 * r["mount"][1] / size, r["compare"][1],
                r["compare"][1] / size, *fig(r.get("crash"), size), *fig(r.get("drgn"), size)))


def qcore_dumps():
    """[(tag, [path])] of the small guest's QEMU process cores, newest
    complete copy."""
    done = [p for p in glob.glob("/var/cache/dumpfs/qcore-*/small/COMPLETE")
            if re.fullmatch(r"qcore-[0-9a-f]{12}", p.split("/")[-3])]
    if not done:
        return []
    d = os.path.dirname(max(done, key=os.path.getmtime))
    return [("qcore-small/" + n, [os.path.join(d, n)]) for n in ("qemu.core", "qemu.gcore")
            if os.path.exists(os.path.join(d, n))]


def main(argv):
    args, only, qcore, crash_all, quick = [], None, True, False, False
    it = iter(argv[1:])
    for a in it:
        if a == "--only":
            only = next(it)
        elif a == "--crash-all":
            crash_all = True
        elif a == "--quick":
            quick = True
        elif a == "--no-qcore":
            qcore = False
        else:
            args.append(a)
    if not args:
        sys.exit(__doc__)
    dumpfs = os.path.abspath(args[0])
    real = os.path.realpath(os.environ.get("DUMPFS_REAL_DIR") or (args[1] if len(args) > 1 else
                                                                  os.path.join(HERE, "..", "..", "images", "real")))
    if not os.path.exists(os.path.join(real, "MANIFEST.tsv")):
        print("SKIP: %s has no corpus; make it with: bash images/make-real-dumps.sh" % real)
        return 77
    why = nginx.available()
    if why:
        print("SKIP: %s" % why)
        return 77
    dumps = []
    for name, (row, files) in sorted(dump_sets(manifest(real)).items()):
        paths = [os.path.join(real, p) for p in files]
        dumps.append((name, paths))
    if qcore:
        dumps += qcore_dumps()
    if only:
        dumps = [d for d in dumps if only in d[0]]
    if quick:
        dumps = [d for d in dumps if d[0] in QUICK]
    work = tempfile.mkdtemp(prefix="remote-real.", dir="/var/tmp")
    os.makedirs(os.path.join(work, "mnt"))
    os.makedirs(os.path.join(work, "root"))
    start = time.monotonic()
    try:
        with nginx.Nginx(os.path.join(work, "root")) as n:
            r = Run(dumpfs, real, work, n, crash_all)
            print("corpus %s: %d dumps; nginx http %d https %d" % (real, len(dumps), n.http_port, n.https_port))
            for tag, paths in dumps:
                r.one(tag, paths, sum(os.path.getsize(p) for p in paths))
            for tag, paths in dumps:
                if tag in HTTPS_SUBSET:
                    r.one(tag, paths, sum(os.path.getsize(p) for p in paths), https=True)
            if not only or only in SIDECAR_DUMP:
                try:
                    r.ok(SIDECAR_DUMP + ": sidecar", r.sidecar(SIDECAR_DUMP))
                except (AssertionError, OSError) as e:
                    r.fail(SIDECAR_DUMP + ": sidecar", str(e))
            r.print_table()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n%d dumps in %.0f s; %d failed%s" % (len(dumps), time.monotonic() - start, len(r.failed),
                                                 ": " + ", ".join(r.failed) if r.failed else ""))
    for s in r.skipped:
        print("skipped:", s)
    for s in r.alike:
        print("alike (local too):", s)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

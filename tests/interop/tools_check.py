#!/usr/bin/env python3
"""tools_check.py DUMPFS REAL_DIR TOOL

Run one ELF consumer on MNT/vmcore.elf of every dump in the real corpus:

  readelf       `readelf -a -W` and `eu-readelf -a` exit 0 and print no
                warning or error (for an ELF input, which /vmcore.elf serves
                as it is, none that they do not print on the original too);
  gdb           `gdb` with the debug vmlinux, relocated by the KASLR offset,
                loads it as a core and reads linux_banner and
                init_uts_ns.name.release through its kernel-text PT_LOAD;
  makedumpfile  `makedumpfile -c -d 31 MNT/vmcore.elf OUT` (dumps with
                VMCOREINFO), then OUT mounted: every page it holds equals
                the original's /mem;
  libkdumpfile  python3-libkdumpfile reads the same bytes from
                MNT/vmcore.elf as from the original (files it can open);
  drgn          python3-drgn (foreign_drgn.py in a child, under the Python
                that has it) with the debug vmlinux on MNT/vmcore.elf, and on
                the original where it is one file (drgn 0.0.22 opens ELF and,
                through libkdumpfile, kdump-compressed files; not flattened
                ones): four judges, interop_common.py's, as foreign_tools.py
                runs them on the foreign dumps:
                  drgn-release  init_uts_ns.name.release (and drgn's
                                UTS_RELEASE) is OSRELEASE of MNT/vmcoreinfo,
                                else the corpus's kernel release;
                  drgn-tasks    init_task.tasks: swapper first, pid 1 on it;
                  drgn-printk   get_printk_records() printed as crash's log
                                equals MNT/dmesg where there is one (and
                                there must be one where MNT/vmcoreinfo is);
                  drgn-stack    pid 1's trace has named frames, no frame at
                                pc 0 and fewer than 1000 frames (drgn stops
                                at 1024: an unwind gone astray);
                where both pass, ours and the original's values are equal;
                a failure the original shares ends in "original fails too"
                and still counts, except on the dumps of DRGN_KNOWN_GAPS
                (no VMCOREINFO; ELF inputs served as they are with physical
                PT_LOADs only), where it is a "known gap".  One line per
                (dump, judge).

Writes interop-results/TOOL.tsv in the working directory (drgn: one row per
judge).  Exits 77 when the corpus, the tool, the debug vmlinux (gdb, drgn)
or FUSE is missing."""
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from interop_common import (DRGN_JUDGES, Fail, drgn_python, dump_sets, dumpfs_info,
                            judge_both, kernel_release, manifest, mounted, need_fuse,
                            need_tool, need_vmlinux, run_drgn, skip)

PAGE = 4096
KERNEL_MAP = 0xffffffff80000000
KERNEL_MAP_END = 0xffffffffc0000000
WARNING = re.compile(r"warning|error", re.I)


def elf_loads(path):
    """[(p_vaddr, p_paddr)] of the PT_LOADs of an ELF64 little-endian core."""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        shoff, = struct.unpack_from("<Q", eh, 40)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        if phnum == 0xFFFF:
            f.seek(shoff + 44)
            phnum, = struct.unpack("<I", f.read(4))
        f.seek(phoff)
        tab = f.read(phentsize * phnum)
    out = []
    for i in range(phnum):
        typ, _, _, vaddr, paddr = struct.unpack_from("<IIQQQ", tab, i * phentsize)
        if typ == 1:
            out.append((vaddr, paddr))
    return out


def vmcoreinfo_value(mnt, key):
    path = os.path.join(mnt, "vmcoreinfo")
    if not os.path.exists(path):
        return None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return None


def problems(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    lines = [l for l in (r.stdout + r.stderr).splitlines() if WARNING.search(l)]
    if r.returncode != 0:
        lines.append("%s exited %d" % (cmd[0], r.returncode))
    return lines


def check_readelf(ctx, name, files, mnt):
    elf = os.path.join(mnt, "vmcore.elf")
    passthrough = "(the input ELF as is)" in ctx["info"]
    counts = []
    for tool in (["readelf", "-a", "-W"], ["eu-readelf", "-a"]):
        ours = problems(tool + [elf])
        if ours and passthrough and problems(tool + files) == ours:
            counts.append("%s: %d warnings, the same as on the original" % (tool[0], len(ours)))
            continue
        if ours:
            raise Fail("%s on our ELF: %s" % (tool[0], "; ".join(ours[:3])))
        counts.append("%s: clean" % tool[0])
    return "; ".join(counts)


def kaslr_offset(ctx, mnt):
    """None if the ELF maps no kernel virtual address (an ELF input served as
    it is, e.g. QEMU's paging-off ELF); else KERNELOFFSET, or without
    VMCOREINFO our kernel-text PT_LOAD's distance from _stext."""
    kernel_loads = [v for v, _ in elf_loads(os.path.join(mnt, "vmcore.elf"))
                    if KERNEL_MAP <= v < KERNEL_MAP_END]
    if not kernel_loads:
        return None, None
    value = vmcoreinfo_value(mnt, "KERNELOFFSET")
    if value:
        return int(value, 16), "VMCOREINFO"
    return min(kernel_loads) - ctx["stext"], "kernel-text PT_LOAD"


def check_gdb(ctx, name, files, mnt):
    elf = os.path.join(mnt, "vmcore.elf")
    offset, origin = kaslr_offset(ctx, mnt)
    if offset is None:
        # an ELF input without virtual addresses (QEMU paging off): gdb can
        # only load it
        r = subprocess.run(["gdb", "-nx", "-batch", ctx["vmlinux"], elf],
                           capture_output=True, text=True, errors="replace", timeout=600)
        if r.returncode != 0 or re.search(r"not in executable format|Cannot|Error", r.stdout + r.stderr):
            raise Fail("gdb does not load our ELF: " + (r.stdout + r.stderr)[-400:])
        return "loads; no kernel virtual mapping in the input ELF, so no symbol read"
    r = subprocess.run(["gdb", "-nx", "-batch",
                        "-ex", "symbol-file -o %#x %s" % (offset, ctx["vmlinux"]),
                        "-ex", "core-file " + elf,
                        "-ex", "x/s &linux_banner",
                        "-ex", "p init_uts_ns.name.release"],
                       capture_output=True, text=True, errors="replace", timeout=600)
    out = r.stdout + r.stderr
    if "Cannot access memory" in out or "Linux version " + ctx["release"] not in out or \
            '"%s"' % ctx["release"] not in out:
        raise Fail("gdb did not read linux_banner/init_uts_ns (offset %#x from %s): %s"
                   % (offset, origin, out[-500:]))
    return "linux_banner and init_uts_ns read at KASLR offset %#x (%s)" % (offset, origin)


def data_extents(path):
    """(start, end) byte ranges that SEEK_DATA/SEEK_HOLE report as data."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size, pos = os.fstat(fd).st_size, 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break   # ENXIO: no data after pos
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
    finally:
        os.close(fd)
    return out


def compare_extents(out_mnt, orig_mnt):
    """Every data extent of OUT's /mem against the original's /mem."""
    pages = 0
    with open(os.path.join(out_mnt, "mem"), "rb") as out, \
            open(os.path.join(orig_mnt, "mem"), "rb") as orig:
        for start, end in data_extents(os.path.join(out_mnt, "mem")):
            for at in range(start, end, 1 << 20):
                n = min(1 << 20, end - at)
                out.seek(at)
                orig.seek(at)
                a, b = out.read(n), orig.read(n)
                if a != b:
                    for p in range(0, n, PAGE):
                        if a[p:p + PAGE] != b[p:p + PAGE]:
                            raise Fail("round trip differs at physical %#x" % (at + p))
                pages += n // PAGE
    return pages


def check_makedumpfile(ctx, name, files, mnt):
    if "\nvmcoreinfo: yes\n" not in ctx["info"]:
        return None     # makedumpfile needs VMCOREINFO: not applicable
    tmp = tempfile.mkdtemp(prefix="dumpfs-mdf.")
    try:
        out = os.path.join(tmp, "out.kdump")
        r = subprocess.run(["makedumpfile", "-c", "-d", "31", os.path.join(mnt, "vmcore.elf"), out],
                           capture_output=True, text=True, errors="replace", timeout=900)
        if r.returncode != 0:
            raise Fail("makedumpfile failed (%d): %s" % (r.returncode, (r.stdout + r.stderr)[-500:]))
        with mounted(ctx["dumpfs"], [out]) as out_mnt:
            pages = compare_extents(out_mnt, mnt)
        if pages == 0:
            raise Fail("makedumpfile's output holds no page")
        return "makedumpfile -c -d 31: %d bytes, %d pages equal to the original's /mem" % (
            os.path.getsize(out), pages)
    finally:
        shutil.rmtree(tmp)


LIBKDUMPFILE_READER = r"""
import kdumpfile, sys
k = kdumpfile.kdumpfile(sys.argv[1])
out = sys.stdout.buffer
for a in sys.argv[2:]:
    try:
        b = k.read(kdumpfile.KDUMP_MACHPHYSADDR, int(a) * 4096, 4096)
    except Exception:
        b = b""
    out.write(len(b).to_bytes(4, "little") + b)
"""


def libkdumpfile_pages(path, pfns):
    """{pfn: bytes or None}, read by python3-libkdumpfile in a child (its
    binding can crash); None if it cannot open the file."""
    r = subprocess.run(["/usr/bin/python3", "-c", LIBKDUMPFILE_READER, path] + [str(p) for p in pfns],
                       capture_output=True, timeout=900)
    if r.returncode != 0:
        return None
    res, off = {}, 0
    for p in pfns:
        n = int.from_bytes(r.stdout[off:off + 4], "little")
        res[p] = r.stdout[off + 4:off + 4 + n] if n == PAGE else None
        off += 4 + n
    return res


def check_libkdumpfile(ctx, name, files, mnt):
    if len(files) > 1 or "flattened" in ctx["row"]["format"]:
        return None     # libkdumpfile 0.5.1 opens neither split sets nor flattened files
    # about 2000 pages spread over what /mem holds (RAM can be a small part
    # of the physical address space: QEMU's VGA and BIOS sit near 4 GiB)
    present = [p for start, end in data_extents(os.path.join(mnt, "mem"))
               for p in range(start // PAGE, end // PAGE)]
    pfns = present[::max(1, len(present) // 2000)]
    orig = libkdumpfile_pages(files[0], pfns)
    if orig is None:
        return None
    ours = libkdumpfile_pages(os.path.join(mnt, "vmcore.elf"), pfns)
    if ours is None:
        raise Fail("python3-libkdumpfile cannot open our vmcore.elf")
    readable = [p for p in pfns if orig[p] is not None]
    for p in readable:
        if ours[p] != orig[p]:
            raise Fail("pfn %#x: libkdumpfile reads %s from ours" % (
                p, "nothing" if ours[p] is None else "different bytes"))
    if not readable:
        raise Fail("libkdumpfile read no page of the original")
    return "%d of %d sampled pages readable in the original, all equal through ours" % (
        len(readable), len(pfns))


# Dumps where drgn 0.0.22 fails on the original and on ours alike, for a
# reason dumpfs has not taken on yet: their failures print "known gap" and do
# not count, as long as the original fails the same judge too; a judge that
# passes on one of them prints "FAIL: ... passes now: drop it from
# DRGN_KNOWN_GAPS", so the list only shrinks.
NO_VMCOREINFO = ("no VMCOREINFO in the dump, and dumpfs makes none: drgn takes a core for a "
                 "kernel only by its VMCOREINFO note")
PHYSICAL_ELF = ("an ELF input served as it is, whose PT_LOADs hold physical addresses only "
                "(p_vaddr 0 or p_paddr): drgn finds no kernel virtual address in it")
DRGN_KNOWN_GAPS = {
    "qemu/novmci.elf": NO_VMCOREINFO,
    "qemu/novmci.phdrfirst.elf": NO_VMCOREINFO,
    "qemu/novmci-kdump-zlib.flat": NO_VMCOREINFO,
    "qemu/novmci-kdump-zlib.flat.R.kdump": NO_VMCOREINFO,
    "qemu/idle.phdrfirst.elf": PHYSICAL_ELF,
    "panic/panic.phdrfirst.elf": PHYSICAL_ELF,
    "mdf/idle-d0.elf": PHYSICAL_ELF,
    "mdf/idle-d31.elf": PHYSICAL_ELF,
    "mdf/idle-d31.elf.flat": PHYSICAL_ELF,
    "mdf/idle-d31.elf.flat.R.elf": PHYSICAL_ELF,
}


def drgn_fails(fn, jctx, res):
    if res is None:
        return True
    try:
        fn(jctx, res)
    except (Fail, KeyError, TypeError, IndexError):
        return True
    return False


def drgn_summary(res, secs):
    if "open" in res:
        return "cannot open: %s (%.1f s)" % (res["open"], secs)
    return "%s, %s (%.1f s)" % (res.get("platform"), "a Linux kernel core" if res.get("kernel")
                                else "not a Linux kernel core (no VMCOREINFO)", secs)


def check_drgn(ctx, name, files, mnt):
    """[(judge, status, line)]: an "info" line, then one per drgn judge,
    status "ok", "FAIL" or "known gap"."""
    release = vmcoreinfo_value(mnt, "OSRELEASE")
    origin = "OSRELEASE of /vmcoreinfo"
    if release is None:
        release, origin = ctx["release"], "the corpus's kernel (no /vmcoreinfo)"
    jctx = {"release": release}
    t0 = time.time()
    ours = run_drgn(ctx["py"], os.path.join(mnt, "vmcore.elf"), ctx["vmlinux"])
    t1 = time.time()
    if len(files) == 1:
        orig = run_drgn(ctx["py"], files[0], ctx["vmlinux"])
        orig_info = drgn_summary(orig, time.time() - t1)
    else:
        orig = None
        jctx["orig_why"] = orig_info = "not run: a split set of %d files (drgn opens one)" % len(files)
    parts = [("info", "info", "drgn on ours: %s; on the original: %s; expected release %r (%s)" % (
        drgn_summary(ours, t1 - t0), orig_info, release, origin))]
    gap = DRGN_KNOWN_GAPS.get(name)
    for judge, fn in DRGN_JUDGES:
        ok, line = judge_both(jctx, judge, fn, ours, orig, mnt)
        status = "ok" if ok else "FAIL"
        if gap and ok:
            status, line = "FAIL", "passes now: drop it from DRGN_KNOWN_GAPS (%s)" % line
        elif gap and drgn_fails(fn, jctx, orig):
            status, line = "known gap", "%s (%s)" % (line, gap)
        parts.append((judge, status, line))
    return parts


CHECKS = {"readelf": (check_readelf, ["readelf", "eu-readelf"]),
          "gdb": (check_gdb, ["gdb"]),
          "makedumpfile": (check_makedumpfile, ["makedumpfile"]),
          "libkdumpfile": (check_libkdumpfile, []),
          "drgn": (check_drgn, [])}


def run_one(ctx, name, row, paths):
    files = [os.path.join(ctx["real"], p) for p in paths]
    t0 = time.time()
    ctx = dict(ctx, row=row, info=dumpfs_info(ctx["dumpfs"], files))
    with mounted(ctx["dumpfs"], files) as mnt:
        what = CHECKS[ctx["tool"]][0](ctx, name, files, mnt)
    return what, time.time() - t0


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CHECKS:
        print(__doc__)
        return 2
    dumpfs, real, tool = sys.argv[1:]
    rows = manifest(real)
    for t in CHECKS[tool][1]:
        need_tool(t)
    if tool == "libkdumpfile" and subprocess.run(
            ["/usr/bin/python3", "-c", "import kdumpfile"], capture_output=True).returncode != 0:
        skip("python3-libkdumpfile is not installed (bash tests/interop/install.sh)")
    ctx = {"dumpfs": dumpfs, "real": real, "tool": tool}
    if tool == "drgn":
        ctx["py"] = drgn_python()
        if not ctx["py"]:
            skip("python3-drgn is not installed (bash tests/interop/install.sh)")
    if tool in ("gdb", "drgn"):
        ctx["vmlinux"] = need_vmlinux(real)
        ctx["release"] = kernel_release(real)
    if tool == "gdb":
        with open("/usr/lib/debug/boot/System.map-" + ctx["release"]) as f:
            ctx["stext"] = next(int(l.split()[0], 16) for l in f if l.rstrip().endswith(" _stext"))
    need_fuse()
    sets = dump_sets(rows)
    results, failures = [], []
    judged = {"ok": 0, "FAIL": 0, "known gap": 0}
    gap_dumps = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futs = {pool.submit(run_one, ctx, n, r, p): (n, r) for n, r, p in sets}
        for fut in concurrent.futures.as_completed(futs):
            name, row = futs[fut]
            try:
                what, secs = fut.result()
            except (Fail, subprocess.TimeoutExpired) as e:
                failures.append(name)
                print("FAIL %-45s %s" % (name, e))
                results.append((name, row["group"], row["format"], "FAIL",
                                str(e).replace("\t", " ").replace("\n", " "), ""))
                continue
            if isinstance(what, list):
                # several judges on this dump: one line (and row) each
                for judge, status, line in what:
                    if status in judged:
                        judged[status] += 1
                    print("%-4s %-45s %s: %s" % (status, name, judge, line))
                    results.append((name, row["group"], row["format"], status,
                                    "%s: %s" % (judge, line.replace("\t", " ")), "%.1f" % secs))
                if any(status == "FAIL" for _, status, _ in what):
                    failures.append(name)
                elif any(status == "known gap" for _, status, _ in what):
                    gap_dumps.append(name)
                print("     %-45s (%.1f s)" % (name, secs))
                sys.stdout.flush()
                continue
            status = "ok  " if what else "n/a "
            what = what or "not applicable"
            results.append((name, row["group"], row["format"], status.strip(), what, "%.1f" % secs))
            print("%s %-45s %s (%.1f s)" % (status, name, what, secs))
            sys.stdout.flush()
    os.makedirs("interop-results", exist_ok=True)
    out = os.path.join("interop-results", tool + ".tsv")
    with open(out, "w") as f:
        f.write("dump\tgroup\tformat\tstatus\tresult\tseconds\n")
        for r in sorted(results, key=lambda r: r[0]):
            f.write("\t".join(r) + "\n")
    if sum(judged.values()):
        print("%s: %d judges passed, %d failed, %d known gaps" % (
            tool, judged["ok"], judged["FAIL"], judged["known gap"]))
        applied = len(sets) - len(failures) - len(gap_dumps)
        print("%s: of %d dumps, %d passed every judge, %d failed one or more, %d only known gaps; "
              "results in %s" % (tool, len(sets), applied, len(failures), len(gap_dumps),
                                 os.path.abspath(out)))
        return 1 if failures else 0
    applied = sum(1 for r in results if r[3] == "ok")
    print("%s: %d passed, %d not applicable, %d failed of %d dumps; results in %s"
          % (tool, applied, len(results) - applied - len(failures), len(failures), len(sets),
             os.path.abspath(out)))
    if failures:
        return 1
    if applied == 0:
        print("FAIL: no dump was checked")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

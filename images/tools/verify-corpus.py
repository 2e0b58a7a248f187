#!/usr/bin/python3
"""verify-corpus.py OUT

Cross-check the pages of every dump in OUT/MANIFEST.tsv against the
reference file of its group (same guest memory snapshot):
  reference = the group's plain ELF written by QEMU (paging off), or for the
  "kdump" group the capture kernel's /proc/vmcore copy; pages of the
  reference are read with our own ELF reader (p_paddr of PT_LOADs).
Every other non-flattened, non-split file of the group is opened with
python3-libkdumpfile (in a child process: its Python binding can crash) and
~600 physical pages spread over RAM are read with KDUMP_MACHPHYSADDR.
Result: OUT/verify.tsv with, per file, pages compared / equal / different /
absent, and libkdumpfile's OSRELEASE and cpu count.  Exit 1 if any page
differs or a file libkdumpfile should read cannot be opened.
"""
import csv
import hashlib
import json
import os
import struct
import subprocess
import sys

PAGE = 4096
NPAGES = 600


def elf_loads(path):
    """[(paddr, filesz, offset)] of PT_LOAD segments; handles PN_XNUM"""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, shoff = struct.unpack_from("<QQ", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        if phnum == 0xFFFF:
            f.seek(shoff)
            phnum = struct.unpack_from("<I", f.read(64), 44)[0]
        f.seek(phoff)
        tab = f.read(phentsize * phnum)
    out = []
    for i in range(phnum):
        ptype, _fl, off, _va, pa, filesz, _memsz, _al = struct.unpack_from("<IIQQQQQQ", tab, i * phentsize)
        if ptype == 1 and filesz:
            out.append((pa, filesz, off))
    return sorted(out)


def pick_pfns(loads):
    """NPAGES pfns spread evenly over the file's RAM (whole pages only)"""
    pfns = []
    for pa, sz, _off in loads:
        first = (pa + PAGE - 1) // PAGE
        last = (pa + sz) // PAGE
        pfns.extend(range(first, last))
    pfns = sorted(set(pfns))
    if len(pfns) <= NPAGES:
        return pfns
    step = len(pfns) / NPAGES
    return [pfns[int(i * step)] for i in range(NPAGES)]


def elf_page_hashes(path, pfns):
    loads = elf_loads(path)
    res = {}
    with open(path, "rb") as f:
        for pfn in pfns:
            a = pfn * PAGE
            for pa, sz, off in loads:
                if pa <= a and a + PAGE <= pa + sz:
                    f.seek(off + a - pa)
                    res[pfn] = hashlib.sha256(f.read(PAGE)).hexdigest()
                    break
    return res


def child(path, pfns):
    """runs in a child process: libkdumpfile reads"""
    import kdumpfile
    k = kdumpfile.kdumpfile(path)
    info = {"format": str(k.attr.get("file.format", "?"))}
    try:
        info["osrelease"] = k.attr["linux.vmcoreinfo"]["lines"]["OSRELEASE"]
    except Exception:
        info["osrelease"] = "-"
    try:
        info["cpus"] = int(k.attr["cpu.number"])
    except Exception:
        info["cpus"] = "-"
    hashes = {}
    errors = {}
    for pfn in pfns:
        try:
            hashes[pfn] = hashlib.sha256(k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE)).hexdigest()
        except Exception as e:  # excluded pages: NoDataError
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
    info["hashes"] = hashes
    info["errors"] = errors
    json.dump(info, sys.stdout)


def main(out):
    rows = list(csv.DictReader(open(os.path.join(out, "MANIFEST.tsv")), delimiter="\t"))
    groups = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    res = [("path", "group", "reference", "format_seen", "osrelease", "cpus",
            "compared", "equal", "different", "absent", "note")]
    bad = 0
    for g, members in groups.items():
        refs = [r["path"] for r in members if r["producer"].startswith("QEMU") and r["format"] == "elf"
                and "paging on" not in r["note"]]
        refs += [r["path"] for r in members if r["path"].endswith("proc-vmcore.elf")]
        if not refs:
            continue
        ref = refs[0]
        loads = elf_loads(os.path.join(out, ref))
        pfns = pick_pfns(loads)
        refh = elf_page_hashes(os.path.join(out, ref), pfns)
        for r in members:
            p = r["path"]
            if r["format"] not in ("elf", "kdump"):
                res.append((p, g, ref, "-", "-", "-", 0, 0, 0, 0, "skipped: %s (libkdumpfile cannot open flattened/split sets here)" % r["format"]))
                continue
            try:
                cp = subprocess.run([sys.executable, __file__, "--child", os.path.join(out, p)],
                                    input=json.dumps(pfns), capture_output=True, text=True, timeout=600)
                info = json.loads(cp.stdout) if cp.returncode == 0 else None
            except subprocess.TimeoutExpired:
                info, cp = None, None
            if info is None:
                err = (cp.stderr.strip().splitlines() or ["?"])[-1] if cp else "timeout"
                rc = cp.returncode if cp else "-"
                res.append((p, g, ref, "-", "-", "-", 0, 0, 0, 0, "libkdumpfile failed (rc %s): %s" % (rc, err)))
                if "novmci" not in g:
                    bad += 1
                continue
            h = {int(k): v for k, v in info["hashes"].items()}
            eq = sum(1 for pfn in h if refh.get(pfn) == h[pfn])
            diff = [pfn for pfn in h if pfn in refh and refh[pfn] != h[pfn]]
            absent = len(pfns) - len(h)
            note = "read errors: %s" % info["errors"] if info["errors"] else ""
            if diff:
                note += " different pfns: %s" % ",".join(hex(x) for x in diff[:8])
                bad += 1
            res.append((p, g, ref, info["format"], info["osrelease"], info["cpus"],
                        len(h), eq, len(diff), absent, note.strip()))
    with open(os.path.join(out, "verify.tsv"), "w") as f:
        for row in res:
            f.write("\t".join(str(x) for x in row) + "\n")
    for row in res:
        print("\t".join(str(x) for x in row))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2], json.load(sys.stdin))
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))

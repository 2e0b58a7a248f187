#!/usr/bin/env python3
"""corpus.py DUMPFS REAL_DIR

Mount every dump of the real-producer corpus made by
images/make-real-dumps.sh (QEMU, makedumpfile, a kdump capture kernel) and
compare it with its group's reference ELF, read by our own ELF parser:

  - every page /mem reports as data equals the reference's page;
  - unfiltered dumps (QEMU output, makedumpfile -d 0) have every page the
    reference has;
  - /cpus/N/prstatus are the reference's NT_PRSTATUS notes, in order;
  - /vmcore.elf's PT_LOADs give the same bytes as /mem (sampled pages);
  - where python3-libkdumpfile can open the file, it reads the same bytes.

Exits 77 (skip) when the corpus has not been made."""
import mmap
import os
import subprocess
import sys

from common import Elf, Fail, data_extents, mounted

PAGE = 4096
REFERENCE = {"idle": "qemu/idle.elf", "novmci": "qemu/novmci.elf",
             "panic": "panic/panic.elf", "kdump": "kdump/proc-vmcore.elf"}


def manifest(real):
    rows = []
    with open(os.path.join(real, "MANIFEST.tsv")) as f:
        cols = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(cols, line.rstrip("\n").split("\t"))))
    return rows


def dump_sets(rows):
    """Group split parts (NAME.1, NAME.2, ...) into one set."""
    sets = {}
    for r in rows:
        name = r["path"]
        if r["format"] == "kdump-split":
            name = name.rsplit(".", 1)[0]
        sets.setdefault(name, (r, []))[1].append(r["path"])
    return sets


def libkdumpfile_pages(path, pfns):
    """Pages read by python3-libkdumpfile in a child (its binding can
    crash); None if it is not installed or cannot open the file."""
    code = ("import kdumpfile,sys\n"
            "k=kdumpfile.kdumpfile(sys.argv[1])\n"
"for a in sys.argv[2:]:\n"
             "    p=int(a)\n"
             "    try: b=k.read(kdumpfile.KDUMP_MACHPHYSADDR,p*4096,4096)\n"
             "    except Exception: b=b'-'*4096\n"
             "    sys.stdout.buffer.write(b)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code, path] + [str(p) for p in pfns],
                       capture_output=True)
    if r.returncode != 0 or len(r.stdout) != len(pfns) * PAGE:
        return None
    return {p: r.stdout[i * PAGE:(i + 1) * PAGE] for i, p in enumerate(pfns)}


def check_set(dumpfs, real, row, files, ref, ref_pages, ref_map):
    paths = [os.path.join(real, p) for p in files]
    unfiltered = row["dump_level"] in ("all", "0")
    # QEMU's paging-off output holds every guest RAM block (VGA memory and
    # firmware too), so a dump made from the same memory by QEMU must have
    # exactly its pages; paging=true keeps only what the guest maps.
    qemu_whole = row["producer"].startswith("QEMU") and "paging=true" not in row["command"]
    with mounted(dumpfs, paths) as mnt:
        mem = os.path.join(mnt, "mem")
        compared = data = zeros = 0
        zero_page = bytes(PAGE)
        with open(mem, "rb") as f:
            for start, end in data_extents(mem):
                f.seek(start)
                for pos in range(start, end, 1 << 20):
                    chunk = f.read(min(1 << 20, end - pos))
                    for i in range(0, len(chunk), PAGE):
                        pfn = (pos + i) // PAGE
                        data += 1
                        zeros += chunk[i:i + PAGE] == zero_page
                        off = ref_pages.get(pfn)
                        if off is None:
                            if pfn in ref.partial:
                                continue
                            raise Fail("%s: pfn %#x is data but not in %s" % (files[0], pfn, ref.path))
                        if chunk[i:i + PAGE] != ref_map[off:off + PAGE]:
                            raise Fail("%s: pfn %#x differs from %s" % (files[0], pfn, ref.path))
                        compared += 1
        if qemu_whole and compared != len(ref_pages):
            raise Fail("%s: has %d of the reference's %d pages"
                       % (files[0], compared, len(ref_pages)))
        header = open(os.path.join(mnt, "header")).read()
        ram = int(header.split("\nram_pages: ")[1].split()[0])
        if unfiltered and data != ram:
            raise Fail("%s: unfiltered, but %d of its %d RAM pages are data" % (files[0], data, ram))
        if compared == 0:
            raise Fail("%s: no page in common with the reference" % files[0])
        # makedumpfile points every all-zero dumped page at one stored zero
        # page (dump_level bit 1): the count /header gives is theirs
        shared = header.split("\nzero_pages: ")[1].split()[0] if "\nzero_pages: " in header else ""
        if shared.isdigit() and int(shared) != zeros:
            raise Fail("%s: /header counts %s zero pages, /mem has %d all-zero data pages"
                       % (files[0], shared, zeros))

        cpus = os.listdir(os.path.join(mnt, "cpus"))
        got = [open(os.path.join(mnt, "cpus", str(i), "prstatus"), "rb").read()
               for i in range(len(cpus))]
        if got != ref.prstatus():
            raise Fail("%s: /cpus/*/prstatus differ from the reference's notes" % files[0])

        # /vmcore.elf against /mem on pages spread over the dump
        elf = Elf(os.path.join(mnt, "vmcore.elf"))
        where = elf.pages()
        pfns = sorted(where)[::max(1, len(where) // 256)]
        with open(elf.path, "rb") as fe, open(mem, "rb") as fm:
            for pfn in pfns:
                fe.seek(where[pfn])
                fm.seek(pfn * PAGE)
                if fe.read(PAGE) != fm.read(PAGE):
                    raise Fail("%s: /vmcore.elf pfn %#x differs from /mem" % (files[0], pfn))

        kd = "-"
        if len(paths) == 1 and "flat" not in row["format"]:
            sample = sorted(ref_pages)[::max(1, len(ref_pages) // 200)]
            lk = libkdumpfile_pages(paths[0], sample)
            if lk is not None:
                with open(mem, "rb") as fm:
                    for pfn in sample:
                        if lk[pfn] == b"-" * PAGE:
                            continue  # libkdumpfile: not in the dump
                        fm.seek(pfn * PAGE)
                        if fm.read(PAGE) != lk[pfn]:
                            raise Fail("%s: pfn %#x differs from libkdumpfile's" % (files[0], pfn))
                kd = "libkdumpfile agrees on %d pages" % len(sample)
    print("ok: %-45s %7d pages equal to %s, %d CPUs, %s"
          % (files[0] + (" (+%d parts)" % (len(files) - 1) if len(files) > 1 else ""),
             compared, ref.path.split("/")[-1], len(got), kd))


def main(dumpfs, real):
    if not os.path.exists(os.path.join(real, "MANIFEST.tsv")):
        print("SKIP: %s has no corpus; make it with: bash images/make-real-dumps.sh" % real)
        return 77
    refs = {}
    failures = 0
    sets = dump_sets(manifest(real))
    for name, (row, files) in sorted(sets.items()):
        g = row["group"]
        if g not in REFERENCE:
            continue
        if g not in refs:
            ref = Elf(os.path.join(real, REFERENCE[g]))
            ref.partial = ref.partial_pages()
            with open(ref.path, "rb") as f:
                m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
            refs[g] = (ref, ref.pages(), m)
        try:
            check_set(dumpfs, real, row, files, *refs[g])
        except Fail as e:
            print("FAIL:", e)
            failures += 1
    print("%d dump sets, %d failed" % (len(sets), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

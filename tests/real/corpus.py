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
import struct
import os
import re
import subprocess
import sys

from common import Elf, Fail, data_extents, kernel_btf, kernel_symbols, mounted

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


SYSTEM_MAP = "/usr/lib/debug/boot/System.map-6.1.0-57-amd64"
START_KERNEL_MAP = 0xffffffff80000000


def elf_loads(path):
    """[(vaddr, paddr, offset, filesz)] of an ELF64's PT_LOADs."""
    with open(path, "rb") as f:
        h = f.read(64)
        e = "<" if h[5] == 1 else ">"
        phoff, = struct.unpack_from(e + "Q", h, 32)
        phnum, = struct.unpack_from(e + "H", h, 56)
        f.seek(phoff)
        tab = f.read(56 * phnum)
    res = []
    for i in range(phnum):
        typ, _, off, vaddr, paddr, filesz, _, _ = struct.unpack_from(e + "IIQQQQQQ", tab, 56 * i)
        if typ == 1:
            res.append((vaddr, paddr, off, filesz))
    return res


def kernel_page_offset_base(elf_path, loads, kerneloffset):
    """The kernel's own page_offset_base variable, read through the kernel
    text PT_LOAD of /vmcore.elf (its address from the debug System.map)."""
    if not os.path.exists(SYSTEM_MAP):
        return None
    with open(SYSTEM_MAP) as f:
        sym = next((int(l.split()[0], 16) for l in f if l.split()[2:] == ["page_offset_base"]), None)
    if sym is None:
        return None
    va = sym + kerneloffset
    for vaddr, paddr, off, size in loads:
        if vaddr >= START_KERNEL_MAP and vaddr <= va < vaddr + size:
            with open(elf_path, "rb") as f:
                f.seek(off + va - vaddr)
                return struct.unpack("<Q", f.read(8))[0]
    return None


def check_direct_map(files, mnt, header):
    """RAM PT_LOADs of /vmcore.elf at their direct-map address, as the
    kernel's /proc/vmcore has them: p_vaddr - p_paddr is the kernel's own
    page_offset_base (read through the kernel-text PT_LOAD), and /header's."""
    elf = os.path.join(mnt, "vmcore.elf")
    loads = elf_loads(elf)
    ram = [(v, p) for v, p, _, _ in loads if v < START_KERNEL_MAP]
    if "\npage_offset: " not in header:
        raise Fail("%s: /header has no page_offset" % files[0])
    po = int(header.split("\npage_offset: ")[1].split()[0], 16)
    if not ram or any(v - p != po for v, p in ram):
        raise Fail("%s: RAM PT_LOADs at %s, not page_offset %#x + paddr"
                   % (files[0], [(hex(v), hex(p)) for v, p in ram[:3]], po))
    ko = header.split("\nkerneloffset: ")[1].split()[0] if "\nkerneloffset: " in header else None
    if ko is None:
        return "page_offset %#x" % po
    kernel = kernel_page_offset_base(elf, loads, int(ko, 16))
    if kernel is None:
        return "page_offset %#x (no System.map to check it against)" % po
    if kernel != po:
        raise Fail("%s: page_offset %#x, the kernel's page_offset_base %#x" % (files[0], po, kernel))
    return "page_offset %#x = the kernel's page_offset_base" % po


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

        vm = "as is" if "(the input ELF as is)" in header else check_direct_map(files, mnt, header)
        syms = kernel_symbols(mnt)
        vm += "; /kernel/symbols: " + (syms or "none (no kallsyms in VMCOREINFO)")
        vm += "; /kernel/btf: " + kernel_btf(mnt, debug_vmlinux(mnt))

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
    print("ok: %-45s %7d pages equal to %s, %d CPUs, %s; /vmcore.elf %s"
          % (files[0] + (" (+%d parts)" % (len(files) - 1) if len(files) > 1 else ""),
             compared, ref.path.split("/")[-1], len(got), kd, vm))


def debug_vmlinux(mnt):
    """The kernel of the dump's release: its debug vmlinux where
    tests/interop/install.sh has installed it, else the /boot/vmlinuz that
    images/make-real-dumps.sh booted."""
    with open(os.path.join(mnt, "header")) as f:
        m = re.search(r"^osrelease: (\S+)$", f.read(), re.M)
    for path in m and ("/usr/lib/debug/boot/vmlinux-" + m.group(1), "/boot/vmlinuz-" + m.group(1)) or ():
        if os.path.exists(path):
            return path
    return None


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

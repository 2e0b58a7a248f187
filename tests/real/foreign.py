#!/usr/bin/env python3
"""foreign.py DUMPFS [CACHE_DIR]

Real dumps of Debian 12's own arm64, ppc64el and s390x kernels, made by
images/make-foreign-dumps.sh (QEMU TCG; QMP stop, then dump-guest-memory as
ELF with paging off and as kdump-zlib of the same stopped moment).  Pins what
dumpfs already does right on them:

  - `dumpfs info` opens both files (exit 0);
  - the ELF mount's /mem has exactly the ELF's PT_LOAD pages (read by our own
    parser, either endian) and the same bytes;
  - every data page of the kdump mount's /mem is data in the ELF mount's /mem
    and equal to it, and there are as many (QEMU writes every RAM page in both);
  - the pattern the guest's /init wrote (tools/foreign-init.sh) is in both /mem;
  - /cpus/N/prstatus of both mounts are the ELF's NT_PRSTATUS notes;
  - both mounts' /vmcore.elf have the architecture's e_machine and the byte
    order of the kernel's memory (ppc64el: little-endian, though QEMU wrote
    both files big-endian), and their PT_LOADs give /mem's bytes (sampled);
    their notes are the dump's, turned to that byte order where it differs:
    same owners, types and sizes, NT_PRSTATUS's pid and registers equal;
  - arm64 (-device vmcoreinfo): /vmcoreinfo in both mounts names the kernel;
  - ppc64el, s390x: the ELF mount's /cpus/0/regs is decoded, not hex, with
    sane values: ppc64 nip, lr and r1 kernel addresses (0xc...), msr with
    MSR_SF and MSR_LE set (the ppc64le guest runs little-endian, though
    QEMU wrote its notes big-endian); s390x a PSW mask with EA and BA (64-bit
    addressing), an even PSW address in RAM (the kernel runs at its physical
    address), and the LINUX notes' prefix (8 KiB aligned, in RAM) and
    control registers; the kdump mount's /cpus/0/regs is the ELF mount's;
  - the kdump mount's /vmcore.elf has the architecture's e_machine, though
    QEMU's kdump header says utsname.machine "Unknown" (aarch64, ppc64) or
    "S390X" (dumpfs decides from VMCOREINFO, notes or NT_PRSTATUS's size);
  - arm64: both /vmcore.elf map RAM at its linear-map address and the kernel
    image at _stext, as /proc/vmcore does (checked against VMCOREINFO's
    PHYS_OFFSET, VA_BITS and kimage_voffset), and the release read through
    that mapping at init_uts_ns is the kernel's;
  - ppc64el and s390x, whose QEMU dumps carry no VMCOREINFO: the kernel's
    note is found in memory, the same in both mounts, and /header says so;
  - ppc64el and s390x: /vmcore.elf has PT_LOADs for what the kernel's page
    tables map outside the linear map (vmalloc, vmemmap), as many as
    /header says, reading /mem's bytes at their p_paddr;
  - /kernel/symbols (kallsyms decoded from memory): sorted, and every
    symbol VMCOREINFO names at the address it gives (common.kernel_symbols);
  - every architecture: /dmesg is the same in both mounts and holds every
    kernel line of the guest's serial console;
  - with the debug package's System.map (and pahole's BTF where the kernel
    has none), in both mounts: every page /tasks/1/mem holds in busybox's
    r-xp and r--p mappings equals the busybox file at the mapping's offset
    (pid 1 is the static busybox of the build tree; pages of PT_GNU_RELRO
    that start-up relocated are counted apart), and some do; the regs of
    pid 1's thread are a user frame (pc in busybox's text, sp in [stack],
    the architecture's user-mode bits); gdb-multiarch on /tasks/1/core with
    busybox gives a backtrace whose frame #0 is at that pc.

What is not done yet is printed, not asserted ("known gap: ...").

CACHE_DIR defaults to the newest /var/cache/dumpfs/foreign-*/ that has a
MANIFEST.tsv with rows; exits 77 (skip) when there is none."""
import atexit
import bisect
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from common import Elf, Fail, data_extents, elf_section, kernel_btf, kernel_symbols, mounted

PAGE = 4096
CHUNK = 1 << 20
UNAME = {"arm64": "aarch64", "ppc64el": "ppc64le", "s390x": "s390x"}
E_MACHINE = {"arm64": 183, "ppc64el": 21, "s390x": 22}   # EM_AARCH64, EM_PPC64, EM_S390
MEM_ENDIAN = {"arm64": "little", "ppc64el": "little", "s390x": "big"}
MARK = re.compile(rb"DUMPFS-FOREIGN-MARKER (\S+) line (\d+) 0123456789abcdef\n")
MARK_LINES = 4096            # lines foreign-init.sh writes
MARK_MIN = 3500              # lines crossing a 1 MiB read boundary are not seen


def manifest(d):
    with open(os.path.join(d, "MANIFEST.tsv")) as f:
        cols = f.readline().rstrip("\n").split("\t")
        return [dict(zip(cols, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def find_cache(arg):
    if arg:
        return arg if os.path.exists(os.path.join(arg, "MANIFEST.tsv")) else None
    best = None
    for m in glob.glob("/var/cache/dumpfs/foreign-*/MANIFEST.tsv"):
        try:
            rows = manifest(os.path.dirname(m))
        except OSError:
            continue
        if rows and (best is None or os.path.getmtime(m) > best[0]):
            best = (os.path.getmtime(m), os.path.dirname(m))
    return best[1] if best else None


def header(mnt):
    h = {}
    with open(os.path.join(mnt, "header")) as f:
        for line in f:
            k, sep, v = line.rstrip("\n").partition(": ")
            if sep and not k.startswith(" "):
                h.setdefault(k, v)
    return h


def elf_ident(path):
    """(e_machine, 'big'/'little') of an ELF file."""
    with open(path, "rb") as f:
        b = f.read(20)
    if b[:4] != b"\x7fELF":
        raise Fail("%s: not ELF" % path)
    e = ">" if b[5] == 2 else "<"
    return struct.unpack_from(e + "H", b, 18)[0], ("big" if e == ">" else "little")


def read_pages(mem):
    """Yield (pfn, 4 KiB page, the 1 MiB chunk it came from) over /mem's data."""
    with open(mem, "rb") as f:
        for start, end in data_extents(mem):
            if start % PAGE or end % PAGE:
                raise Fail("%s: data extent %#x-%#x not page aligned" % (mem, start, end))
            f.seek(start)
            for pos in range(start, end, CHUNK):
                chunk = f.read(min(CHUNK, end - pos))
                if len(chunk) != min(CHUNK, end - pos):
                    raise Fail("%s: short read at %#x" % (mem, pos))
                yield pos, chunk


def markers(chunk, machine, found):
    for m in MARK.finditer(chunk):
        if m.group(1).decode(errors="replace") == machine:
            found.add(int(m.group(2)))


def vmcore_elf_sample(mnt, what):
    """/vmcore.elf's PT_LOADs give /mem's bytes, on pages spread over it."""
    elf = Elf(os.path.join(mnt, "vmcore.elf"))
    where = elf.pages()
    if not where:
        raise Fail("%s: /vmcore.elf has no PT_LOAD page" % what)
    pfns = sorted(where)[::max(1, len(where) // 256)]
    with open(elf.path, "rb") as fe, open(os.path.join(mnt, "mem"), "rb") as fm:
        for pfn in pfns:
            fe.seek(where[pfn])
            fm.seek(pfn * PAGE)
            if fe.read(PAGE) != fm.read(PAGE):
                raise Fail("%s: /vmcore.elf pfn %#x differs from /mem" % (what, pfn))
    return len(pfns)


class Run:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, fn, *args):
        try:
            msg = fn(*args)
        except Fail as e:
            print("FAIL: %s: %s" % (name, e), flush=True)
            self.failed += 1
            return None
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
            print("FAIL: %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            self.failed += 1
            return None
        print("ok: %s%s" % (name, ": " + msg if msg else ""), flush=True)
        self.passed += 1
        return True


def check_info(dumpfs, path):
    r = subprocess.run([dumpfs, "info", path], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise Fail("dumpfs info exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
    fmt = [l for l in r.stdout.splitlines() if l.startswith("format: ")]
    return fmt[0] if fmt else "exit 0"


def check_elf_mount(arch, emnt, ref):
    """The ELF mount's /mem against the ELF file read by common.Elf."""
    pages = ref.pages()
    seen = 0
    found = set()
    with open(ref.path, "rb") as raw:
        for pos, chunk in read_pages(os.path.join(emnt, "mem")):
            markers(chunk, UNAME[arch], found)
            for i in range(0, len(chunk), PAGE):
                pfn = (pos + i) // PAGE
                off = pages.get(pfn)
                if off is None:
                    raise Fail("/mem pfn %#x is data, but no PT_LOAD of %s holds it" % (pfn, ref.path))
                raw.seek(off)
                if raw.read(PAGE) != chunk[i:i + PAGE]:
                    raise Fail("/mem pfn %#x differs from the ELF file" % pfn)
                seen += 1
    if seen != len(pages):
        raise Fail("/mem has %d data pages, the ELF's PT_LOADs %d" % (seen, len(pages)))
    if len(found) < MARK_MIN:
        raise Fail("only %d of the %d marker lines of %s found in /mem" % (len(found), MARK_LINES, UNAME[arch]))
    return "%d pages equal to the file's PT_LOADs (%d runs), %d/%d marker lines" % (
        seen, len(ref.loads), len(found), MARK_LINES)


def check_kdump_mem(arch, kmnt, emnt):
    """Every data page of the kdump's /mem is data in the ELF's /mem and equal."""
    ext = data_extents(os.path.join(emnt, "mem"))
    elf_pages = sum((e - s) // PAGE for s, e in ext)
    compared = 0
    found = set()
    zero = bytes(PAGE)
    zeros = 0
    starts = [s for s, _ in ext]
    with open(os.path.join(emnt, "mem"), "rb") as fe:
        for pos, chunk in read_pages(os.path.join(kmnt, "mem")):
            markers(chunk, UNAME[arch], found)
            k = bisect.bisect_right(starts, pos) - 1
            if k < 0 or ext[k][1] < pos + len(chunk):
                raise Fail("kdump /mem %#x-%#x is data, but not all data in the ELF's /mem"
                           % (pos, pos + len(chunk)))
            fe.seek(pos)
            other = fe.read(len(chunk))
            if other != chunk:
                for i in range(0, len(chunk), PAGE):
                    if other[i:i + PAGE] != chunk[i:i + PAGE]:
                        raise Fail("pfn %#x differs between the kdump and the ELF" % ((pos + i) // PAGE))
            n = len(chunk) // PAGE
            compared += n
            zeros += sum(chunk[i:i + PAGE] == zero for i in range(0, len(chunk), PAGE))
    if compared != elf_pages:
        raise Fail("kdump /mem has %d data pages, the ELF's /mem %d (QEMU writes every RAM page in both)"
                   % (compared, elf_pages))
    if compared < 16384:
        raise Fail("only %d pages compared" % compared)
    if len(found) < MARK_MIN:
        raise Fail("only %d of the %d marker lines found in the kdump's /mem" % (len(found), MARK_LINES))
    return "%d pages (%d MiB, %d all-zero) equal to the ELF's /mem, %d/%d marker lines" % (
        compared, compared * PAGE >> 20, zeros, len(found), MARK_LINES)


def check_cpus(mnt, ref):
    d = os.path.join(mnt, "cpus")
    n = len(os.listdir(d))
    got = [open(os.path.join(d, str(i), "prstatus"), "rb").read() for i in range(n)]
    want = ref.prstatus()
    if got != want:
        raise Fail("/cpus/*/prstatus (%d, sizes %s) differ from the ELF's %d NT_PRSTATUS notes (sizes %s)"
                   % (n, [len(g) for g in got], len(want), [len(w) for w in want]))
    return "%d CPU(s), prstatus %d bytes, equal to the ELF's notes" % (n, len(got[0]) if got else 0)


def program_headers(path):
    """(byte order for struct, [(p_type, p_offset, p_vaddr, p_paddr, p_filesz)])
    of an ELF64."""
    with open(path, "rb") as f:
        h = f.read(64)
        e = "<" if h[5] == 1 else ">"
        phoff, = struct.unpack_from(e + "Q", h, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", h, 54)
        f.seek(phoff)
        tab = f.read(phentsize * phnum)
    return e, [struct.unpack_from(e + "IxxxxQQQQ", tab, i * phentsize) for i in range(phnum)]


def elf_notes(path):
    """[(owner, type, desc)] of an ELF64's PT_NOTEs, in its byte order."""
    e, phdrs = program_headers(path)
    res = []
    with open(path, "rb") as f:
        for typ, off, _, _, filesz in phdrs:
            if typ != 4:
                continue
            f.seek(off)
            blob = f.read(filesz)
            at = 0
            while at + 12 <= len(blob):
                namesz, descsz, ntype = struct.unpack_from(e + "III", blob, at)
                if namesz == descsz == ntype == 0:
                    break
                name = blob[at + 12:at + 12 + namesz].rstrip(b"\0").decode("latin-1")
                d = at + 12 + (namesz + 3) // 4 * 4
                res.append((name, ntype, blob[d:d + descsz]))
                at = d + (descsz + 3) // 4 * 4
    return res, e


def check_notes_turned(path, ref_path):
    """The notes of /vmcore.elf are those of the dump file, each in the
    ELF's own byte order: NT_PRSTATUS's pid and pr_reg read the same."""
    ours, oe = elf_notes(path)
    theirs, te = elf_notes(ref_path)
    theirs = [n for n in theirs if n[0] != "VMCOREINFO"]
    ours_nv = [n for n in ours if n[0] != "VMCOREINFO"]
    if [(n, t, len(d)) for n, t, d in ours_nv] != [(n, t, len(d)) for n, t, d in theirs]:
        raise Fail("notes differ: ours %s, the dump's %s"
                   % ([(n, t, len(d)) for n, t, d in ours_nv][:8], [(n, t, len(d)) for n, t, d in theirs][:8]))
    nprs = 0
    for (_, t, d), (_, _, rd) in zip(ours_nv, theirs):
        if t != 1 or len(d) < 112 + 8 * 34:
            continue
        nregs = (len(d) - 112) // 8
        a = struct.unpack_from(oe + "I", d, 32) + struct.unpack_from(oe + "%dQ" % nregs, d, 112)
        b = struct.unpack_from(te + "I", rd, 32) + struct.unpack_from(te + "%dQ" % nregs, rd, 112)
        if a[:34] != b[:34]:
            raise Fail("NT_PRSTATUS %d: pid and registers %s, the dump's %s" % (nprs, a[:4], b[:4]))
        nprs += 1
    return "%d notes (%d NT_PRSTATUS) as the dump's, %s-endian" % (
        len(ours_nv), nprs, "little" if oe == "<" else "big")


def check_elf_vmcore(arch, emnt, ref):
    path = os.path.join(emnt, "vmcore.elf")
    mach, endian = elf_ident(path)
    if (mach, endian) != (E_MACHINE[arch], MEM_ENDIAN[arch]):
        raise Fail("/vmcore.elf e_machine %d %s-endian; expected %d %s-endian"
                   % (mach, endian, E_MACHINE[arch], MEM_ENDIAN[arch]))
    notes = check_notes_turned(path, ref.path)
    n = vmcore_elf_sample(emnt, "ELF mount")
    return "e_machine %d, %d sampled pages equal to /mem; %s" % (mach, n, notes)


def check_kdump_vmcore(arch, kmnt, emnt):
    path = os.path.join(kmnt, "vmcore.elf")
    mach, endian = elf_ident(path)
    if (mach, endian) != (E_MACHINE[arch], MEM_ENDIAN[arch]):
        raise Fail("/vmcore.elf e_machine %d %s-endian, expected %d %s-endian (/header: %s)"
                   % (mach, endian, E_MACHINE[arch], MEM_ENDIAN[arch],
                      header(kmnt).get("arch", "no arch line")))
    notes = check_notes_turned(path, os.path.join(emnt, "vmcore.elf"))
    n = vmcore_elf_sample(kmnt, "kdump mount")
    return "e_machine %d, %d sampled PT_LOAD pages equal to /mem; %s" % (mach, n, notes)


def virtual_loads(path):
    """[(vaddr, paddr, offset, filesz)] of an ELF64's PT_LOADs."""
    return [(v, p, off, size) for typ, off, v, p, size in program_headers(path)[1] if typ == 1]


def read_virtual(path, loads, vaddr, n):
    for v, _, off, size in loads:
        if v and v <= vaddr and vaddr + n <= v + size:
            with open(path, "rb") as f:
                f.seek(off + vaddr - v)
                return f.read(n)
    raise Fail("no PT_LOAD of %s maps %#x" % (path, vaddr))


def check_kernel_mappings(mnt, what):
    """ppc64, s390x: the PT_LOADs after the RAM's are the page tables'
    mappings outside the linear map, as many as /header says, and their
    bytes are /mem's at their p_paddr (sampled)."""
    line = header(mnt).get("vmcore.elf kernel mappings", "")
    m = re.match(r"(\d+) PT_LOADs", line)
    if not m or int(m.group(1)) == 0:
        raise Fail("%s: /header 'vmcore.elf kernel mappings: %s'" % (what, line))
    path = os.path.join(mnt, "vmcore.elf")
    loads = virtual_loads(path)
    ram = [l for l in loads if l[0] - l[1] in (0, 0xc000000000000000)]
    extra = [l for l in loads if l not in ram]
    if len(extra) != int(m.group(1)):
        raise Fail("%s: %d PT_LOADs outside the linear map, /header says %s" % (what, len(extra), m.group(1)))
    with open(path, "rb") as fe, open(os.path.join(mnt, "mem"), "rb") as fm:
        for vaddr, paddr, off, size in extra[::max(1, len(extra) // 64)]:
            n = min(size, 1 << 16)
            fe.seek(off)
            fm.seek(paddr)
            if fe.read(n) != fm.read(n):
                raise Fail("%s: the PT_LOAD at %#x (p_paddr %#x) does not read /mem's bytes" % (what, vaddr, paddr))
    return "%d PT_LOADs from %#x to %#x, bytes equal to /mem" % (len(extra), extra[0][0], extra[-1][0])


def vmcoreinfo(mnt):
    res = {}
    for line in open(os.path.join(mnt, "vmcoreinfo")):
        k, sep, v = line.rstrip("\n").partition("=")
        if sep:
            res[k] = v
    return res


def check_arm64_virtual(mnt, osrelease):
    """The linear map and the kernel image in /vmcore.elf, by VMCOREINFO."""
    vi = vmcoreinfo(mnt)
    va_bits = int(vi["NUMBER(VA_BITS)"])
    phys_offset = int(vi["NUMBER(PHYS_OFFSET)"], 16)
    kimage_voffset = int(vi["NUMBER(kimage_voffset)"], 16)
    stext = int(vi["SYMBOL(_stext)"], 16)
    page_offset = (1 << 64) - (1 << va_bits)
    path = os.path.join(mnt, "vmcore.elf")
    loads = virtual_loads(path)
    image = [l for l in loads if l[0] == stext]
    if len(image) != 1 or image[0][1] != stext - kimage_voffset:
        raise Fail("no PT_LOAD maps _stext %#x at physical %#x: %s"
                   % (stext, stext - kimage_voffset, [(hex(v), hex(p)) for v, p, _, _ in loads[:4]]))
    ram = [l for l in loads if l is not image[0]]
    for v, p, _, _ in ram:
        want = ((p - phys_offset) % (1 << 64)) | page_offset
        if v != want:
            raise Fail("RAM PT_LOAD at physical %#x has p_vaddr %#x; the linear map says %#x" % (p, v, want))
    uts = int(vi["SYMBOL(init_uts_ns)"], 16) + int(vi.get("OFFSET(uts_namespace.name)", "0"))
    release = read_virtual(path, loads, uts + 2 * 65, 65).split(b"\0")[0].decode(errors="replace")
    if release != osrelease:
        raise Fail("init_uts_ns.name.release read through /vmcore.elf is %r, not %r" % (release, osrelease))
    return "image %#x-%#x, %d RAM PT_LOAD(s) at linear-map addresses, release %s" % (
        stext, stext + image[0][3], len(ram), release)


def check_found_vmcoreinfo(emnt, kmnt, osrelease):
    """QEMU wrote no VMCOREINFO note; the kernel's, found in its memory, is
    served in both mounts, the same, and /header says so."""
    texts = []
    for mnt in (emnt, kmnt):
        check_vmcoreinfo(mnt, osrelease)
        line = header(mnt).get("vmcoreinfo", "")
        if "found in memory" not in line:
            raise Fail("/header says vmcoreinfo: %r, not where it was found" % line)
        texts.append(open(os.path.join(mnt, "vmcoreinfo")).read())
    if texts[0] != texts[1]:
        raise Fail("the ELF and the kdump mount found different VMCOREINFO texts")
    return "%d lines, %s" % (len(texts[0].splitlines()), line)


def check_dmesg(emnt, kmnt, serial_log):
    texts = []
    for mnt in (emnt, kmnt):
        p = os.path.join(mnt, "dmesg")
        if not os.path.exists(p):
            raise Fail("%s has no /dmesg (/header: %s)" % (mnt, header(mnt).get("dmesg")))
        texts.append(open(p, errors="replace").read())
    if texts[0] != texts[1]:
        raise Fail("/dmesg of the ELF and of the kdump of the same moment differ")
    lines = set(texts[0].splitlines())
    console = [l for l in open(serial_log, errors="replace").read().replace("\r", "").splitlines()
               if re.match(r"\[\s*\d+\.\d+\] ", l)]
    missing = [l for l in console if l not in lines]
    if missing or not console:
        raise Fail("%d of %d kernel lines of the serial console not in /dmesg, first %r"
                   % (len(missing), len(console), missing[:1]))
    return "%d lines, the same in both mounts; all %d kernel lines of the console in it" % (
        len(lines), len(console))


def regs_values(text):
    """{name: value} of the "name 0xhex" lines of a /cpus/N/regs."""
    vals = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[1].startswith("0x"):
            vals.setdefault(f[0], int(f[1], 16))
    return vals


def check_regs(arch, mnt):
    """/cpus/0/regs decoded, with values only a right decoding gives."""
    text = open(os.path.join(mnt, "cpus", "0", "regs")).read()
    r = regs_values(text)
    if arch == "ppc64el":
        missing = [k for k in ("nip", "msr", "lr", "r1") if k not in r]
        if missing:
            raise Fail("no %s in /cpus/0/regs (not decoded?): %r" % (", ".join(missing), text[:200]))
        for k in ("nip", "lr", "r1"):
            if r[k] >> 60 != 0xc:
                raise Fail("%s %#x is no kernel address (0xc...)" % (k, r[k]))
        if not r["msr"] >> 63 or not r["msr"] & 1:
            raise Fail("msr %#x lacks MSR_SF (bit 63) or MSR_LE (bit 0)" % r["msr"])
        return "nip %#x lr %#x msr %#x" % (r["nip"], r["lr"], r["msr"])
    mem = int(header(mnt)["mem_size"])
    missing = [k for k in ("psw_mask", "psw_addr", "r15", "prefix", "cr0", "cr15") if k not in r]
    if missing:
        raise Fail("no %s in /cpus/0/regs (not decoded?): %r" % (", ".join(missing), text[:200]))
    ea_ba = (1 << 32) | (1 << 31)
    if r["psw_mask"] & ea_ba != ea_ba:
        raise Fail("psw_mask %#x lacks EA|BA (64-bit addressing)" % r["psw_mask"])
    if not r["psw_addr"] or r["psw_addr"] & 1 or r["psw_addr"] >= mem:
        raise Fail("psw_addr %#x is no instruction address in the %d bytes of RAM" % (r["psw_addr"], mem))
    if r["prefix"] % 0x2000 or r["prefix"] >= mem:
        raise Fail("prefix %#x is no 8 KiB lowcore in RAM" % r["prefix"])
    return "psw %#x %#x prefix %#x" % (r["psw_mask"], r["psw_addr"], r["prefix"])


def check_kdump_regs(kmnt, emnt):
    """The kdump's /cpus/0/regs is the ELF's: the same notes, decoded alike."""
    k, e = (open(os.path.join(m, "cpus", "0", "regs")).read() for m in (kmnt, emnt))
    if k != e:
        raise Fail("/cpus/0/regs differs from the ELF mount's: %r vs %r" % (k[:200], e[:200]))
    return "equal to the ELF mount's (%d lines)" % len(k.splitlines())


def check_vmcoreinfo(mnt, osrelease):
    p = os.path.join(mnt, "vmcoreinfo")
    if not os.path.exists(p):
        raise Fail("no /vmcoreinfo (the arm64 guest ran with -device vmcoreinfo)")
    text = open(p).read()
    if "OSRELEASE=%s\n" % osrelease not in text:
        raise Fail("/vmcoreinfo does not say OSRELEASE=%s" % osrelease)
    return "OSRELEASE=%s" % osrelease


def known_gaps(arch, emnt, kmnt):
    eh, kh = header(emnt), header(kmnt)
    em, ee = elf_ident(os.path.join(emnt, "vmcore.elf"))
    km, ke = elf_ident(os.path.join(kmnt, "vmcore.elf"))
    print("info: %s ELF  /header: e_machine %s, elf_data %s; /vmcore.elf e_machine %d %s-endian"
          % (arch, eh.get("e_machine", "-"), eh.get("elf_data", "-"), em, ee))
    print("info: %s kdump /header: utsname.machine %r, block_size %s, page_size %s, max_mapnr %s; "
          "/vmcore.elf e_machine %d %s-endian"
          % (arch, kh.get("utsname.machine", "-"), kh.get("block_size", "-"),
             kh.get("page_size", "-"), kh.get("max_mapnr", "-"), km, ke))
    print("info: %s arch: ELF %s; kdump %s" % (arch, eh.get("arch", "-"), kh.get("arch", "-")))

    for name, mnt in (("ELF", emnt), ("kdump", kmnt)):
        if not os.path.exists(os.path.join(mnt, "vmcoreinfo")):
            print("info: %s %s: no /vmcoreinfo (QEMU's -device vmcoreinfo exists for x86 and arm virt only)"
                  % (arch, name))


def kernel_has_btf(cache, arch):
    """Whether the guest kernel's config has CONFIG_DEBUG_INFO_BTF (Debian
    12's arm64 yes; ppc64el and s390x no)."""
    for path in glob.glob(os.path.join(cache, "build", arch, "kernel-pkg/boot/config-*")):
        with open(path) as f:
            return "\nCONFIG_DEBUG_INFO_BTF=y\n" in f.read()
    return True


def check_no_btf(dumpfs, path, mnt):
    """A kernel without BTF: a read of /kernel/btf fails with EIO and
    `dumpfs cat` says why."""
    try:
        with open(os.path.join(mnt, "kernel", "btf"), "rb") as f:
            f.read()
        raise Fail("/kernel/btf reads, though the kernel has no CONFIG_DEBUG_INFO_BTF")
    except OSError as e:
        if e.errno != 5:
            raise Fail("/kernel/btf: %s, expected EIO" % e)
    r = subprocess.run([dumpfs, "cat", path, "/kernel/btf"], capture_output=True, timeout=600)
    if r.returncode == 0 or b"no BTF in the" not in r.stderr:
        raise Fail("dumpfs cat /kernel/btf: exit %d, %r" % (r.returncode, r.stderr[-200:]))
    return "EIO; dumpfs cat: " + r.stderr.decode(errors="replace").splitlines()[0]


def override_files(cache, arch, work):
    """The System.map of the debug package (tests/interop/install-foreign.sh)
    and, for a kernel without BTF, one pahole makes from its debug vmlinux;
    None where they cannot be had."""
    dbg = os.environ.get("DUMPFS_FOREIGN_DBG", "/var/cache/dumpfs/foreign-dbg")
    maps = glob.glob(os.path.join(dbg, arch, "usr/lib/debug/boot/System.map-*"))
    vmlinux = glob.glob(os.path.join(dbg, arch, "usr/lib/debug/boot/vmlinux-*"))
    if not maps or not vmlinux:
        return None
    opts = ["system_map=" + maps[0], "vmlinux=" + vmlinux[0]]
    if not kernel_has_btf(cache, arch):
        if not shutil.which("pahole"):
            return None
        btf = os.path.join(work, arch + ".btf")
        subprocess.run(["pahole", "--btf_encode_detached", btf, vmlinux[0]], check=True,
                       capture_output=True, timeout=600)
        opts.append("btf=" + btf)
    return opts


def check_tasks_overrides(dumpfs, path, opts):
    """/tasks from the debug package's System.map (these kernels' kallsyms
    lists text symbols only: no init_task) and, where the kernel has no BTF,
    pahole's: pid 1 is init, running busybox, whose text is the first line
    of its maps."""
    with mounted(dumpfs, [path], opts=opts) as mnt:
        pids = sorted(int(p) for p in os.listdir(os.path.join(mnt, "tasks")))
        comm = open(os.path.join(mnt, "tasks", "1", "comm")).read()
        maps = open(os.path.join(mnt, "tasks", "1", "maps")).read().splitlines()
        status = open(os.path.join(mnt, "tasks", "1", "status")).read()
    if pids[:2] != [1, 2] or comm != "init\n" or "PPid:\t0\n" not in status:
        raise Fail("/tasks %r, pid 1 comm %r" % (pids[:4], comm))
    if not maps or not maps[0].endswith(" /bin/busybox") or " r-xp " not in maps[0]:
        raise Fail("/tasks/1/maps starts %r" % maps[:1])
    return "%d thread groups with %s; pid 1 init, maps %d lines from /bin/busybox" % (
        len(pids), " and ".join(o.split("=")[0] for o in opts), len(maps))


def check_vmlinux_symbols(dumpfs, path, opts):
    """-o vmlinux= with the debug package's vmlinux: /kernel/symbols holds
    the same symbols as with its System.map (mksysmap's filter over nm's
    letters), and the build ID check passes."""
    vmlinux = [o for o in opts if o.startswith("vmlinux=")][0][8:]
    sysmap = [o for o in opts if o.startswith("system_map=")][0][11:]
    got = subprocess.run([dumpfs, "cat", "--vmlinux", vmlinux, path, "/kernel/symbols"],
                         capture_output=True, timeout=300)
    want = subprocess.run([dumpfs, "cat", "--system-map", sysmap, path, "/kernel/symbols"],
                          capture_output=True, timeout=300)
    if got.returncode or want.returncode:
        raise Fail("exit %d/%d: %s" % (got.returncode, want.returncode, got.stderr[-300:]))
    a, b = sorted(got.stdout.splitlines()), sorted(want.stdout.splitlines())
    if a != b:
        diff = sorted(set(a) ^ set(b))
        raise Fail("%d symbols from the vmlinux, %d from System.map; %d differ, e.g. %r"
                   % (len(a), len(b), len(diff), diff[:3]))
    btf = subprocess.run([dumpfs, "cat", "--vmlinux", vmlinux, path, "/kernel/btf"],
                         capture_output=True, timeout=300)
    section = elf_section(vmlinux, ".BTF")
    if section is not None and btf.stdout != section:
        raise Fail("/kernel/btf with -o vmlinux: %d bytes, its .BTF %d" % (len(btf.stdout), len(section)))
    return "%d symbols, the System.map's; %s" % (
        len(a), "/kernel/btf its .BTF (%d bytes)" % len(section) if section else "no .BTF in it")


def busybox_binary(cache, arch):
    """The guest's /bin/busybox (pid 1), from the recipe's build tree."""
    path = os.path.join(cache, "build", arch, "root", "bin", "busybox")
    return path if os.path.isfile(path) else None


def parse_maps(text):
    out = []
    for line in text.splitlines():
        f = line.split(None, 5)
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        out.append((lo, hi, f[1], int(f[2], 16), f[5] if len(f) > 5 else ""))
    return out


def relro(image):
    """[start, end) of an ELF executable's PT_GNU_RELRO (virtual), or None."""
    c64, e = image[4] == 2, "<" if image[5] == 1 else ">"
    if not c64:
        return None
    phoff, = struct.unpack_from(e + "Q", image, 32)
    phentsize, phnum = struct.unpack_from(e + "HH", image, 54)
    for i in range(phnum):
        p_type, _, _, vaddr, _, _, memsz, _ = struct.unpack_from(e + "IIQQQQQQ", image,
                                                                 phoff + i * phentsize)
        if p_type == 0x6474e552:
            return vaddr, vaddr + memsz
    return None


def check_user_memory(mnt, busybox):
    """/tasks/1/mem against the busybox file: in every file-backed r-xp or
    r--p mapping of /bin/busybox at offset X, each page /tasks/1/mem holds
    (SEEK_DATA lands on it) equals the file's bytes at X; some must.  The
    exception: pages of PT_GNU_RELRO (the r--p mapping), which the static
    binary's start-up relocates (IRELATIVE entries of its GOT) before
    sealing them, so the process has its own copy; counted apart."""
    maps = parse_maps(open(os.path.join(mnt, "tasks", "1", "maps")).read())
    with open(busybox, "rb") as f:
        image = f.read()
    sealed = relro(image) or (0, 0)
    equal = differ = holes = relocated = 0
    bad = []
    fd = os.open(os.path.join(mnt, "tasks", "1", "mem"), os.O_RDONLY)
    try:
        for lo, hi, perms, off, name in maps:
            if name != "/bin/busybox" or perms not in ("r-xp", "r--p"):
                continue
            for va in range(lo, hi, PAGE):
                try:
                    data_at = os.lseek(fd, va, os.SEEK_DATA)
                except OSError:
                    data_at = -1
                if data_at != va:
                    holes += 1
                    continue
                got = os.pread(fd, PAGE, va)
                want = image[off + va - lo:off + va - lo + PAGE]
                want += bytes(PAGE - len(want))
                if got == want:
                    equal += 1
                elif perms == "r--p" and va < sealed[1] and va + PAGE > sealed[0]:
                    relocated += 1
                else:
                    differ += 1
                    bad.append("%#x (%s)" % (va, perms))
    finally:
        os.close(fd)
    if differ or not equal:
        raise Fail("/tasks/1/mem: %d pages equal busybox, %d differ (%s), %d holes"
                   % (equal, differ, ", ".join(bad[:4]), holes))
    return "%d pages of busybox's r-xp/r--p mappings equal the file, %d holes, %d relocated RELRO pages" % (
        equal, holes, relocated)


USER_PC_SP = {"arm64": ("pc", "sp"), "ppc64el": ("nip", "r1"), "s390x": ("psw_addr", "r15")}


def user_regs(mnt, arch):
    """pid 1's thread's pc and sp from /tasks/1/task/1/regs."""
    text = open(os.path.join(mnt, "tasks", "1", "task", "1", "regs")).read()
    vals = regs_values(text)
    pc, sp = (vals.get(name) for name in USER_PC_SP[arch])
    if pc is None or sp is None:
        raise Fail("/tasks/1/task/1/regs has no pc or sp: %r" % text[:200])
    return pc, sp, vals


def check_user_regs(mnt, arch):
    """pid 1's registers are a user frame: pc in a busybox r-xp mapping, sp
    in [stack], and the mode bits of user mode."""
    maps = parse_maps(open(os.path.join(mnt, "tasks", "1", "maps")).read())
    pc, sp, vals = user_regs(mnt, arch)
    if not any(lo <= pc < hi and perms == "r-xp" and name == "/bin/busybox"
               for lo, hi, perms, _, name in maps):
        raise Fail("pc %#x is in no r-xp mapping of /bin/busybox" % pc)
    if not any(lo <= sp < hi and name == "[stack]" for lo, hi, _, _, name in maps):
        raise Fail("sp %#x is not in [stack]" % sp)
    if arch == "arm64" and vals["pstate"] & 0x1f:
        raise Fail("pstate %#x: not EL0t" % vals["pstate"])
    if arch == "ppc64el" and not vals["msr"] & (1 << 14):
        raise Fail("msr %#x: MSR_PR clear" % vals["msr"])
    if arch == "s390x" and not vals["psw_mask"] & (1 << 48):
        raise Fail("psw_mask %#x: problem state clear" % vals["psw_mask"])
    return "pc %#x in busybox text, sp %#x in [stack]" % (pc, sp)


def check_core_gdb(mnt, arch, busybox):
    """gdb-multiarch on /tasks/1/core with busybox: a backtrace whose frame
    #0 is at the regs' pc."""
    if not shutil.which("gdb-multiarch"):
        raise Fail("no gdb-multiarch")
    pc, _, _ = user_regs(mnt, arch)
    core = os.path.join(mnt, "tasks", "1", "core")
    r = subprocess.run(["gdb-multiarch", "-nx", "-batch", busybox, core, "-ex", "info registers",
                        "-ex", "bt"], capture_output=True, text=True, timeout=600)
    m = re.search(r"^#0\s+(0x[0-9a-f]+)", r.stdout, re.M)
    frame0 = int(m.group(1), 16) if m else None
    if frame0 is None:
        # gdb leaves out the address of frame #0 when it is at a line's start
        m = re.search(r"^(?:pc|nip|pswa)\s+(0x[0-9a-f]+)", r.stdout, re.M)
        frame0 = int(m.group(1), 16) if m and re.search(r"^#0\s", r.stdout, re.M) else None
    if frame0 != pc:
        raise Fail("gdb: frame #0 at %s, regs pc %#x; stdout %r stderr %r" % (
            frame0 and hex(frame0), pc, r.stdout[-600:], r.stderr[-300:]))
    frames = len(re.findall(r"^#\d+", r.stdout, re.M))
    return "gdb: %d frames, #0 at %#x" % (frames, pc)


def kernel_image(cache, arch):
    """The guest kernel as a file that holds its BTF: the debug vmlinux
    tests/interop/install-foreign.sh unpacks, else the package's own
    vmlinux (ppc64el) or uncompressed Image (arm64); None (s390x's is
    compressed)."""
    dbg = os.environ.get("DUMPFS_FOREIGN_DBG", "/var/cache/dumpfs/foreign-dbg")
    for pattern in (os.path.join(dbg, arch, "usr/lib/debug/boot/vmlinux-*"),
                    os.path.join(cache, "build", arch, "kernel-pkg/boot/vmlinux-*"),
                    os.path.join(cache, "build", arch, "kernel-pkg/boot/vmlinuz-*")):
        for path in sorted(glob.glob(pattern)):
            with open(path, "rb") as f:
                head = f.read(64)
            # an ELF, or arm64's Image (its magic "ARM\x64" at 56)
            if head[:4] == b"\x7fELF" or head[56:60] == b"ARM\x64":
                return path
    return None


def main(dumpfs, arg):
    cache = find_cache(arg)
    if not cache:
        print("SKIP: no foreign-architecture dumps (%s); make them with: bash images/make-foreign-dumps.sh"
              % (arg or "/var/cache/dumpfs/foreign-*/MANIFEST.tsv"))
        return 77
    print("cache: %s" % cache, flush=True)
    rows = manifest(cache)
    by_arch = {}
    for r in rows:
        by_arch.setdefault(r["arch"], {})[r["format"]] = r
    run = Run()
    for arch in sorted(by_arch):
        fmts = by_arch[arch]
        er = fmts.get("elf")
        kr = fmts.get("kdump-flattened") or fmts.get("kdump")
        if arch not in UNAME or not er or not kr:
            print("info: %s: not both an ELF and a kdump dump in the manifest (%s); not checked"
                  % (arch, ", ".join(sorted(fmts))))
            continue
        epath, kpath = os.path.join(cache, er["path"]), os.path.join(cache, kr["path"])
        m = re.search(r"guest Linux (\S+)", er["producer"])
        osrelease = m.group(1) if m else ""
        print("== %s: %s (%s bytes), %s (%s bytes); Linux %s" % (
            arch, er["path"], er["bytes"], kr["path"], kr["bytes"], osrelease), flush=True)
        run.check("%s info %s" % (arch, er["path"]), check_info, dumpfs, epath)
        run.check("%s info %s" % (arch, kr["path"]), check_info, dumpfs, kpath)
        try:
            ref = Elf(epath)
        except (Fail, OSError) as e:
            print("FAIL: %s: cannot read %s: %s" % (arch, epath, e))
            run.failed += 1
            continue
        try:
            with mounted(dumpfs, [epath]) as emnt, mounted(dumpfs, [kpath]) as kmnt:
                run.check("%s ELF /mem vs the ELF file" % arch, check_elf_mount, arch, emnt, ref)
                run.check("%s kdump /mem vs ELF /mem" % arch, check_kdump_mem, arch, kmnt, emnt)
                run.check("%s ELF /cpus" % arch, check_cpus, emnt, ref)
                run.check("%s kdump /cpus" % arch, check_cpus, kmnt, ref)
                run.check("%s ELF /vmcore.elf" % arch, check_elf_vmcore, arch, emnt, ref)
                run.check("%s kdump /vmcore.elf" % arch, check_kdump_vmcore, arch, kmnt, emnt)
                if arch in ("ppc64el", "s390x"):
                    run.check("%s ELF /cpus/0/regs" % arch, check_regs, arch, emnt)
                    run.check("%s kdump /cpus/0/regs" % arch, check_kdump_regs, kmnt, emnt)
                if arch == "arm64":
                    run.check("%s ELF /vmcoreinfo" % arch, check_vmcoreinfo, emnt, osrelease)
                    run.check("%s kdump /vmcoreinfo" % arch, check_vmcoreinfo, kmnt, osrelease)
                    run.check("%s ELF /vmcore.elf virtual" % arch, check_arm64_virtual, emnt, osrelease)
                    run.check("%s kdump /vmcore.elf virtual" % arch, check_arm64_virtual, kmnt, osrelease)

                else:
                    run.check("%s VMCOREINFO found in memory" % arch, check_found_vmcoreinfo,
                              emnt, kmnt, osrelease)
                    run.check("%s ELF /vmcore.elf page tables" % arch, check_kernel_mappings, emnt, "ELF")
                    run.check("%s kdump /vmcore.elf page tables" % arch, check_kernel_mappings, kmnt, "kdump")
                run.check("%s ELF /kernel/symbols" % arch, kernel_symbols, emnt)
                run.check("%s kdump /kernel/symbols" % arch, kernel_symbols, kmnt)
                if kernel_has_btf(cache, arch):
                    image = kernel_image(cache, arch)
                    run.check("%s ELF /kernel/btf" % arch, kernel_btf, emnt, image)
                    run.check("%s kdump /kernel/btf" % arch, kernel_btf, kmnt, image)
                else:
                    run.check("%s ELF /kernel/btf absent" % arch, check_no_btf, dumpfs, epath, emnt)
                    run.check("%s kdump /kernel/btf absent" % arch, check_no_btf, dumpfs, kpath, kmnt)
                work = tempfile.mkdtemp(prefix="dumpfs-foreign-")
                atexit.register(shutil.rmtree, work, True)
                opts = override_files(cache, arch, work)
                if opts:
                    smap = [o for o in opts if not o.startswith("vmlinux=")]
                    vmlx = [o for o in opts if not o.startswith("system_map=")]
                    run.check("%s ELF /tasks with -o %s" % (arch, ",".join(smap)), check_tasks_overrides,
                              dumpfs, epath, smap)
                    run.check("%s kdump /tasks" % arch, check_tasks_overrides, dumpfs, kpath, smap)
                    run.check("%s kdump /kernel/symbols -o vmlinux" % arch, check_vmlinux_symbols,
                              dumpfs, kpath, opts)
                    run.check("%s ELF /tasks with -o %s" % (arch, ",".join(vmlx)), check_tasks_overrides,
                              dumpfs, epath, vmlx)
                    busybox = busybox_binary(cache, arch)
                    for what, path in (("ELF", epath), ("kdump", kpath)):
                        if not busybox:
                            print("info: %s: no busybox in the build tree: /tasks/1/mem not checked" % arch)
                            break
                        with mounted(dumpfs, [path], opts=smap) as tmnt:
                            run.check("%s %s /tasks/1/mem vs busybox" % (arch, what), check_user_memory,
                                      tmnt, busybox)
                            run.check("%s %s /tasks/1/task/1/regs" % (arch, what), check_user_regs,
                                      tmnt, arch)
                            run.check("%s %s gdb /tasks/1/core" % (arch, what), check_core_gdb,
                                      tmnt, arch, busybox)
                else:
                    print("info: %s: no debug System.map (install-foreign.sh) or pahole: /tasks not checked" % arch)
                run.check("%s /dmesg" % arch, check_dmesg, emnt, kmnt,
                          os.path.join(cache, "logs", "%s.serial.log" % arch))
                known_gaps(arch, emnt, kmnt)
        except Fail as e:
            print("FAIL: %s: %s" % (arch, e))
            run.failed += 1
    if run.passed + run.failed == 0:
        print("SKIP: %s has no architecture with both an ELF and a kdump dump" % cache)
        return 77
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))

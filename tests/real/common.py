"""Shared helpers of the real-dump tests: mounting dumpfs, reading ELF files
with our own small parser (independent of dumpfs), and walking /mem's data
extents with SEEK_DATA/SEEK_HOLE."""
import atexit
import contextlib
import errno
import glob
import functools
import lzma
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib


class Fail(Exception):
    pass


def complete_cache(arg, pattern):
    """@arg if it is a cache a recipe finished (it has COMPLETE), else the
    newest /var/cache/dumpfs/@pattern that is; None if there is none."""
    if arg:
        return arg if os.path.exists(os.path.join(arg, "COMPLETE")) else None
    done = glob.glob(os.path.join("/var/cache/dumpfs", pattern, "COMPLETE"))
    return os.path.dirname(max(done, key=os.path.getmtime)) if done else None


@contextlib.contextmanager
def mounted(dumpfs, files, opts=()):
    """Mount FILES with dumpfs (and -o OPTS) on a fresh directory; unmount
    on exit."""
    mnt = tempfile.mkdtemp(prefix="dumpfs-real.")
    extra = ["-o", ",".join(opts)] if opts else []
    r = subprocess.run([dumpfs, *files, mnt, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        raise Fail("mount of %s failed: %s" % (" ".join(files), r.stderr.strip()))
    try:
        yield mnt
    finally:
        subprocess.run(["fusermount3", "-u", mnt], check=False)
        for _ in range(100):
            if not os.path.ismount(mnt):
                break
            time.sleep(0.05)
        os.rmdir(mnt)


class Elf:
    """Program headers and notes of an ELF core (32/64-bit, either endian)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            ident = f.read(64)
            if ident[:4] != b"\x7fELF":
                raise Fail("%s: not ELF" % path)
            c64, e = ident[4] == 2, "<" if ident[5] == 1 else ">"
            self.e = e
            if c64:
                phoff, = struct.unpack_from(e + "Q", ident, 32)
                shoff, = struct.unpack_from(e + "Q", ident, 40)
                phentsize, phnum = struct.unpack_from(e + "HH", ident, 54)
            else:
                phoff, shoff = struct.unpack_from(e + "II", ident, 28)
                phentsize, phnum = struct.unpack_from(e + "HH", ident, 42)
            if phnum == 0xFFFF:  # PN_XNUM: the real count is section 0's sh_info
                f.seek(shoff + (44 if c64 else 28))
                phnum, = struct.unpack(e + "I", f.read(4))
            f.seek(phoff)
            tab = f.read(phentsize * phnum)
            self.loads, self.notes = [], []
            for i in range(phnum):
                b = tab[i * phentsize:(i + 1) * phentsize]
                if c64:
                    typ, _, off, _, paddr, filesz, memsz = struct.unpack_from(e + "IIQQQQQ", b)
                else:
                    typ, off, _, paddr, filesz, memsz = struct.unpack_from(e + "IIIIII", b)
                if typ == 1:
                    self.loads.append((paddr, off, filesz, memsz))
                elif typ == 4:
                    f.seek(off)
                    self.notes += parse_notes(f.read(filesz), e)

    def pages(self, page=4096):
        """{pfn: file offset} of every whole page stored in the file; the
        first PT_LOAD that covers a page wins, as in the kernel."""
        res = {}
        for paddr, off, filesz, _ in self.loads:
            start = (paddr + page - 1) // page
            for pfn in range(start, (paddr + filesz) // page):
                res.setdefault(pfn, off + pfn * page - paddr)
        return res

    def partial_pages(self, page=4096):
        """pfns only partly covered by a PT_LOAD (a /proc/vmcore segment
        may end inside a page, e.g. at 0x9fc00)."""
        res = set()
        for paddr, _, filesz, _ in self.loads:
            for a in (paddr, paddr + filesz):
                if a % page:
                    res.add(a // page)
        return res - set(self.pages(page))

    def prstatus(self):
        return [d for n, t, d in self.notes if n == b"CORE" and t == 1]


def read_elf_ends(path, page=4096):
    """Reads an ELF's headers and notes (Elf) and the first and last page of
    each PT_LOAD's data: what a sanitizer run asks of a served /vmcore.elf
    where crash and drgn do not read it."""
    elf = Elf(path)
    n = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        for _, off, filesz, _ in elf.loads:
            for pos in sorted({off, off + max(filesz, page) - page}) if filesz else ():
                want = min(page, filesz)
                if len(os.pread(fd, want, pos)) != want:
                    raise Fail("%s: short read of %d bytes at %#x" % (path, want, pos))
                n += 1
    finally:
        os.close(fd)
    return "%d PT_LOADs, %d notes; %d pages read at their ends" % (len(elf.loads), len(elf.notes), n)


def parse_notes(buf, e="<"):
    out, off = [], 0
    while off + 12 <= len(buf):
        namesz, descsz, typ = struct.unpack_from(e + "III", buf, off)
        off += 12
        name = buf[off:off + namesz].rstrip(b"\0")
        off += (namesz + 3) & ~3
        out.append((name, typ, buf[off:off + descsz]))
        off += (descsz + 3) & ~3
    return out


def data_extents(path):
    """(start, end) byte ranges SEEK_DATA/SEEK_HOLE report as data."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size, pos = os.fstat(fd).st_size, 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break  # ENXIO: no data after pos
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
    finally:
        os.close(fd)
    return out


def kernel_symbols(mnt):
    """/kernel/symbols against the mount's own VMCOREINFO: one "ADDRESS
    TYPE NAME" line per symbol, sorted by address, and every symbol that
    VMCOREINFO names by SYMBOL() (but mem_section, the pointer's value with
    SPARSEMEM_EXTREME) at the address it gives.  Returns a summary; None
    when VMCOREINFO names no kallsyms tables and scanning the image from
    _stext finds none (a read fails with EIO), or there is no _stext (then
    the file must be absent)."""
    vmci = {}
    path = os.path.join(mnt, "vmcoreinfo")
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            k, sep, v = line.rstrip("\n").partition("=")
            if sep:
                vmci[k] = v
    syms = os.path.join(mnt, "kernel", "symbols")
    if "SYMBOL(kallsyms_names)" not in vmci:
        if "SYMBOL(_stext)" not in vmci:
            if os.path.exists(syms):
                raise Fail("/kernel/symbols exists, but VMCOREINFO names neither kallsyms tables "
                           "nor _stext to scan the image from")
            return None
        if not os.path.exists(syms):    # no address translation to scan with
            return None
        try:            # before 6.0: the tables found by scanning the image, or none
            with open(syms) as f:
                f.read(1)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            return None
    addrs, by_name, last = 0, {}, -1
    with open(syms) as f:
        for line in f:
            a, t, name = line.split()[:3]
            a = int(a, 16)
            if a < last or len(t) != 1:
                raise Fail("/kernel/symbols: %r out of order or malformed" % line)
            last = a
            by_name.setdefault(name, set()).add(a)
            addrs += 1
    checked = 0
    for k, v in vmci.items():
        if not k.startswith("SYMBOL(") or k == "SYMBOL(mem_section)":
            continue
        name = k[7:-1]
        if name in by_name:
            if int(v, 16) not in by_name[name]:
                raise Fail("/kernel/symbols: %s at %s, VMCOREINFO says %s"
                           % (name, [hex(x) for x in by_name[name]], v))
            checked += 1
    if "_stext" not in by_name or checked < 1:
        raise Fail("/kernel/symbols: %d symbols, _stext %s, only %d agree with VMCOREINFO"
                   % (addrs, "present" if "_stext" in by_name else "absent", checked))
    return "%d symbols, %d of VMCOREINFO's SYMBOL() at their addresses" % (addrs, checked)


@functools.lru_cache(maxsize=8)
def kernel_elf(path):
    """@path if it is an ELF vmlinux; for a compressed kernel (x86's
    bzImage, s390x's image), the ELF vmlinux it holds, unpacked as the
    kernel's scripts/extract-vmlinux does into a temporary file; None if
    there is none."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x7fELF":
        return path
    for magic, unpack in ((b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
                          (b"\x1f\x8b\x08", lambda b: zlib.decompressobj(31).decompress(b))):
        at = data.find(magic)
        while at >= 0:
            try:
                out = unpack(data[at:])
            except (lzma.LZMAError, zlib.error):
                out = b""
            if out[:4] == b"\x7fELF":
                fd, tmp = tempfile.mkstemp(prefix="dumpfs-vmlinux-")
                with os.fdopen(fd, "wb") as f:
                    f.write(out)
                atexit.register(os.unlink, tmp)
                return tmp
            at = data.find(magic, at + 1)
    return None


@functools.lru_cache(maxsize=4)
def elf_section(path, name):
    """The bytes of section @name of ELF64 file @path (any machine, either
    byte order: binutils here reads x86 only), None if it has none."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            return None
        e = "<" if eh[5] == 1 else ">"
        shoff, = struct.unpack_from(e + "Q", eh, 40)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", eh, 58)
        f.seek(shoff)
        shdrs = [struct.unpack_from(e + "IIQQQQ", f.read(shentsize)) for _ in range(shnum)]
        f.seek(shdrs[shstrndx][4])
        names = f.read(shdrs[shstrndx][5])
        for sh_name, sh_type, _, _, off, size in shdrs:
            if names[sh_name:names.index(b"\0", sh_name)] == name.encode() and sh_type == 1:
                f.seek(off)
                return f.read(size) or None
    return None


def kernel_btf(mnt, image=None):
    """/kernel/btf: bpftool reads it and prints the dumped kernel's
    vmlinux.h with struct task_struct and struct mm_struct; where @image
    (the kernel's ELF vmlinux with a .BTF section, or a raw Image) is
    given, the blob is its .BTF byte for byte, or lies in it."""
    path = os.path.join(mnt, "kernel", "btf")
    if not os.path.exists(path):
        vmci = os.path.join(mnt, "vmcoreinfo")
        if os.path.exists(vmci) and "SYMBOL(_stext)=" in open(vmci, errors="replace").read():
            raise Fail("no /kernel/btf, though VMCOREINFO gives SYMBOL(_stext)")
        return "none (no VMCOREINFO SYMBOL(_stext))"
    with open(path, "rb") as f:
        blob = f.read()
    if not shutil.which("bpftool"):
        raise Fail("bpftool is not installed (tests/deps.sh installs it)")
    r = subprocess.run(["bpftool", "btf", "dump", "file", path, "format", "c"],
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise Fail("bpftool btf dump of /kernel/btf: exit %d: %s" % (r.returncode, r.stderr[-300:]))
    for want in (b"struct task_struct {", b"struct mm_struct {"):
        if want not in r.stdout:
            raise Fail("bpftool's vmlinux.h of /kernel/btf has no %s" % want.decode())
    how = "bpftool: vmlinux.h of %d lines" % r.stdout.count(b"\n")
    elf = image and kernel_elf(image)
    if image:
        if elf:
            want = elf_section(elf, ".BTF")
            if want is not None and want != blob:
                raise Fail("/kernel/btf (%d bytes) differs from %s's .BTF (%d bytes)"
                           % (len(blob), image, len(want)))
            how += "; equal to %s's .BTF" % os.path.basename(image) if want else "; %s has no .BTF" % image
        else:
            with open(image, "rb") as f:
                if blob not in f.read():
                    raise Fail("/kernel/btf (%d bytes) is not in %s" % (len(blob), image))
            how += "; found in %s" % os.path.basename(image)
    return "%d bytes, %s" % (len(blob), how)

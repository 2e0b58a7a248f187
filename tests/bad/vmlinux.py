#!/usr/bin/env python3
"""vmlinux.py DUMPFS SAMPLE WORKDIR
vmlinux.py --seeds SAMPLE_VMCOREINFO DIR   (small vmlinux files for the fuzzer)

-o vmlinux=FILE (and --vmlinux) on the sample dump, with vmlinux files
written here: an x86_64 ELF whose .symtab holds every symbol the sample's
own kallsyms gives (in sections whose flags make nm's letters, at link-time
addresses 16 MiB below where the kernel ran, as a KASLR'd kernel's are),
whose .BTF section is the sample's BTF and whose build ID is the one
VMCOREINFO gives:

  symbols      /kernel/symbols is the kallsyms one, line for line
  btf          /kernel/btf is the .BTF section
  tasks        a mount lists the same /tasks as without the option, and
               /header names the file
  no-btf       a vmlinux without .BTF: the image's BTF is found instead

and what must be refused, with a message that says what is wrong:

  wrong-id     another build ID: the mount fails, naming both IDs
  no-id        no build-ID note
  not-elf      a text file
  moved        init_uts_ns 64 bytes off VMCOREINFO's: /kernel/symbols fails
  stripped     no .symtab
  cut          the file cut inside .symtab
  btf-garbage  a .BTF libbpf refuses
"""
import os
import struct
import subprocess
import sys

from synth import run_cases

SHIFT = 16 << 20
SHN_ABS = 0xfff1
# nm letter -> (binding, type, section): 1 .text, 2 .rodata, 3 .data, 4 .bss
LETTERS = {"T": (1, 2, 1), "t": (0, 2, 1), "R": (1, 1, 2), "r": (0, 1, 2), "D": (1, 1, 3),
           "d": (0, 1, 3), "B": (1, 1, 4), "b": (0, 1, 4), "A": (1, 0, SHN_ABS),
           "V": (2, 1, 3), "W": (2, 2, 1)}


def cat(dumpfs, sample, node, *opts):
    return subprocess.run([dumpfs, "cat", *opts, sample, node], capture_output=True, timeout=120)


def build_id_note(hexid):
    desc = bytes.fromhex(hexid)
    return struct.pack("<III", 4, len(desc), 3) + b"GNU\0" + desc + bytes(-len(desc) % 4)


def write_vmlinux(path, symbols, btf, note, symtab=True, cut=None):
    """An ELF64 x86_64 vmlinux: section headers first (so that a cut file
    keeps them), then the sections' bytes."""
    strtab, syms = bytearray(b"\0"), bytearray(bytes(24))
    for addr, letter, name in symbols:
        bind, typ, shndx = LETTERS[letter]
        value = addr if letter == "A" else addr - SHIFT
        syms += struct.pack("<IBBHQQ", len(strtab), bind << 4 | typ, 0, shndx, value, 0)
        strtab += name.encode() + b"\0"
    # name, type, flags, bytes (None: NOBITS, no bytes), link, entsize
    secs = [(".text", 8, 6, None, 0, 0), (".rodata", 1, 2, b"", 0, 0), (".data", 1, 3, b"", 0, 0),
            (".bss", 8, 3, None, 0, 0)]
    if btf is not None:
        secs.append((".BTF", 1, 2, btf, 0, 0))
    if note is not None:
        secs.append((".note.gnu.build-id", 7, 2, note, 0, 0))
    if symtab:
        secs.append((".symtab", 2, 0, bytes(syms), len(secs) + 2, 24))
        secs.append((".strtab", 3, 0, bytes(strtab), 0, 0))
    secs.append((".shstrtab", 3, 0, None, 0, 0))
    shstr = bytearray(b"\0")
    names = []
    for s in secs:
        names.append(len(shstr))
        shstr += s[0].encode() + b"\0"
    secs[-1] = secs[-1][:3] + (bytes(shstr),) + secs[-1][4:]
    nsec = len(secs) + 1
    off = 64 + 64 * nsec
    shdrs, body = bytearray(bytes(64)), bytearray()
    for (name, typ, flags, data, link, entsize), at in zip(secs, names):
        size = 0 if data is None else len(data)
        body += bytes(-(off + len(body)) % 8)
        align = 4 if typ == 7 else 8                    # notes of 4-byte words
        shdrs += struct.pack("<IIQQQQIIQQ", at, typ, flags, 0, off + len(body), size, link, 0, align, entsize)
        body += data or b""
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, 64, 0, 64, 56, 0, 64, nsec, nsec - 1)
    blob = eh + shdrs + body
    with open(path, "wb") as f:
        f.write(blob[:cut(secs, blob)] if cut else blob)


class Sample:
    def __init__(self, dumpfs, sample, work):
        self.dumpfs, self.sample, self.work = dumpfs, sample, work
        r = cat(dumpfs, sample, "/kernel/symbols")
        assert r.returncode == 0, r.stderr
        self.symtext = r.stdout
        self.symbols = []
        for line in r.stdout.decode().splitlines():
            a, t, n = line.split(" ", 2)
            self.symbols.append((int(a, 16), t, n))
        self.btf = cat(dumpfs, sample, "/kernel/btf").stdout
        vmci = cat(dumpfs, sample, "/vmcoreinfo").stdout.decode()
        self.id = [l.split("=", 1)[1] for l in vmci.splitlines() if l.startswith("BUILD-ID=")][0]
        self.uts = [int(l.split("=", 1)[1], 16) for l in vmci.splitlines()
                    if l.startswith("SYMBOL(init_uts_ns)=")][0]

    def file(self, name, **kw):
        path = os.path.join(self.work, name)
        args = dict(symbols=self.symbols, btf=self.btf, note=build_id_note(self.id))
        args.update(kw)
        write_vmlinux(path, **args)
        return path

    def expect(self, node, path, want):
        r = cat(self.dumpfs, self.sample, node, "--vmlinux", path)
        if r.returncode != 0:
            raise AssertionError("exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:]))
        if r.stdout != want:
            raise AssertionError("%s: %d bytes, expected %d" % (node, len(r.stdout), len(want)))
        return "%d bytes as expected" % len(want)

    def refused(self, node, path, words):
        r = cat(self.dumpfs, self.sample, node, "--vmlinux", path)
        err = r.stderr.decode(errors="replace")
        if r.returncode == 0 or words not in err:
            raise AssertionError("exit %d, stderr %r; expected %r" % (r.returncode, err[-300:], words))
        return err.strip().splitlines()[-1][:160]


def check_tasks(s, path):
    mnt = os.path.join(s.work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([s.dumpfs, s.sample, mnt], check=True, capture_output=True, timeout=60)
    try:
        want = sorted(os.listdir(os.path.join(mnt, "tasks")))
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    subprocess.run([s.dumpfs, s.sample, mnt, "-o", "vmlinux=" + path], check=True, capture_output=True,
                   timeout=60)
    try:
        got = sorted(os.listdir(os.path.join(mnt, "tasks")))
        header = open(os.path.join(mnt, "header")).read()
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    if got != want or not want:
        raise AssertionError("/tasks %r, without -o vmlinux %r" % (got[:8], want[:8]))
    if "symbols: /kernel/symbols, from %s (-o vmlinux" % path not in header:
        raise AssertionError("/header does not name the vmlinux")
    return "%d tasks" % len(got)


def check_mount_refused(s, path, words):
    mnt = os.path.join(s.work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    r = subprocess.run([s.dumpfs, s.sample, mnt, "-o", "vmlinux=" + path], capture_output=True, timeout=60)
    subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0 or words not in err:
        raise AssertionError("mount exit %d, %r; expected %r" % (r.returncode, err[-300:], words))
    return err.strip()[:160]


def cut_in_symtab(secs, blob):
    """Where .symtab's bytes are half written."""
    nsec = len(secs) + 1
    for i in range(1, nsec):
        name_at, typ, _, _, off, size = struct.unpack_from("<IIQQQQ", blob, 64 + 64 * i)
        if typ == 2:
            return off + size // 2
    raise AssertionError("no .symtab")


def seeds(vmcoreinfo, out):
    """vmlinux files for the sample dump under libFuzzer's 64 KiB: the
    symbols its VMCOREINFO names, its build ID; one with a small .BTF."""
    os.makedirs(out, exist_ok=True)
    symbols, hexid = [], None
    for line in open(vmcoreinfo):
        key, _, value = line.strip().partition("=")
        if key.startswith("SYMBOL("):
            symbols.append((int(value, 16), "T" if key == "SYMBOL(_stext)" else "D", key[7:-1]))
        elif key == "BUILD-ID":
            hexid = value
    strings = b"\0task_struct\0"
    types = struct.pack("<III", 1, 4 << 24, 8)
    btf = struct.pack("<HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(types), len(types), len(strings)) + types + strings
    for name, blob in (("vmlinux-symbols", None), ("vmlinux-btf", btf)):
        write_vmlinux(os.path.join(out, name), sorted(symbols), blob, build_id_note(hexid))
    return 0


def main(dumpfs, sample, work):
    os.makedirs(work, exist_ok=True)
    s = Sample(dumpfs, sample, work)
    good = s.file("good")
    moved = [(a + 64 if n == "init_uts_ns" else a, t, n) for a, t, n in s.symbols]
    cases = [
        ("symbols", lambda: s.expect("/kernel/symbols", good, s.symtext)),
        ("btf", lambda: s.expect("/kernel/btf", good, s.btf)),
        ("tasks", lambda: check_tasks(s, good)),
        ("no-btf", lambda: s.expect("/kernel/btf", s.file("nobtf", btf=None), s.btf)),
        ("wrong-id", lambda: check_mount_refused(s, s.file("wrongid", note=build_id_note("ab" * 20)),
                                                 "is not the dumped kernel's: its build ID is " + "ab" * 20)),
        ("no-id", lambda: s.refused("/kernel/symbols", s.file("noid", note=None), "has no GNU build ID")),
        ("not-elf", lambda: s.refused("/kernel/symbols", os.path.realpath(__file__), "not an ELF file")),
        ("moved", lambda: s.refused("/kernel/symbols", s.file("moved", symbols=moved),
                                    "is not of this kernel: init_uts_ns at %#x" % (s.uts + 64))),
        ("stripped", lambda: s.refused("/kernel/symbols", s.file("stripped", symtab=False),
                                       "has no symbol table")),
        ("cut", lambda: s.refused("/kernel/symbols", s.file("cut", cut=cut_in_symtab),
                                  "symbol table cannot be read")),
        ("btf-garbage", lambda: s.refused("/kernel/btf", s.file("junkbtf", btf=b"\x9f\xeb" + bytes(98)),
                                          "not a kernel's BTF")),
    ]
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

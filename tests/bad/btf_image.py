#!/usr/bin/env python3
"""btf_image.py DUMPFS WORKDIR
btf_image.py --seeds DIR        (small such dumps for the ELF fuzzer)

/kernel/btf on generated ppc64le ELF dumps whose kernel image holds a BTF
blob written here (a header, a struct task_struct, its strings: what
libbpf parses), and whose VMCOREINFO gives SYMBOL(_stext):

  found        the blob across a page boundary: /kernel/btf is it, byte
               for byte
  decoys       before it, a header with sizes no blob has and a header
               whose blob libbpf refuses: both passed over
  big-endian   a big-endian kernel's blob, in a big-endian dump

and where there is none, `dumpfs cat` fails with a message and a read of
the mounted file with EIO, never a hang:

  none         an image with no BTF
  garbage      only a header with a blob libbpf refuses
  no-task      a well-formed blob without struct task_struct (not a
               kernel's)
  cut          the blob runs past the end of the dump
  no-stext     VMCOREINFO without SYMBOL(_stext): no /kernel/btf at all
  btf-file     the image without BTF, mounted with -o btf=FILE: the file's
               blob; a cut file is EIO
"""
import os
import struct
import subprocess
import sys

from synth import expect_read_failure, note, run_cases, write_elf

MEM = 1 << 20
LINEAR = 0xc000000000000000
STEXT_AT = 0x10000                      # physical; virtual LINEAR + this
BTF_AT = 0x32ff0                        # its header straddles a page end
BTF_KIND_STRUCT = 4


def btf_blob(e, struct_name=b"task_struct"):
    """A BTF blob in byte order @e: one struct of size 8, no members."""
    strings = b"\0" + struct_name + b"\0"
    types = struct.pack(e + "III", 1, BTF_KIND_STRUCT << 24, 8)
    hdr = struct.pack(e + "HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


def build(case, e):
    mem = bytearray(MEM)
    blob = btf_blob(e)
    if case == "decoys":
        # sizes no blob has, then a blob whose one type is of no kind
        bad = struct.pack(e + "HBBIIIII", 0xeb9f, 1, 0, 24, 0, 12, 12, 1 << 30)
        mem[0x20000:0x20000 + len(bad)] = bad
        junk = bytearray(blob)
        struct.pack_into(e + "I", junk, 28, 0x7f << 24)
        mem[0x21000:0x21000 + len(junk)] = junk
    if case == "garbage":
        blob = bytearray(blob)
        struct.pack_into(e + "I", blob, 28, 0x7f << 24)
    if case == "no-task":
        blob = btf_blob(e, b"not_a_task")
    at = MEM - 20 if case == "cut" else BTF_AT
    if case != "none":
        mem[at:at + len(blob)] = blob[:MEM - at]
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n"
    if case != "no-stext":
        vmci += b"SYMBOL(_stext)=%x\n" % (LINEAR + STEXT_AT)
    return mem, vmci, bytes(blob)


def make(path, case, e="<"):
    mem, vmci, blob = build(case, e)
    pr = bytearray(504)
    msr = 1 << 63 | (1 if e == "<" else 0)     # SF; LE for a little-endian kernel
    struct.pack_into(e + "QQ", pr, 112 + 32 * 8, LINEAR + STEXT_AT, msr)
    write_elf(path, e, 21, [note(e, b"CORE", 1, bytes(pr)), note(e, b"VMCOREINFO", 0, vmci)], mem,
              vaddr=LINEAR)
    return blob


def cat_btf(dumpfs, path):
    return subprocess.run([dumpfs, "cat", path, "/kernel/btf"], capture_output=True, timeout=60)


def expect_blob(dumpfs, path, blob):
    r = cat_btf(dumpfs, path)
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:]))
    if r.stdout != blob:
        raise AssertionError("got %d bytes %r, expected %d bytes %r" % (len(r.stdout), r.stdout[:40],
                                                                        len(blob), blob[:40]))
    return "%d bytes" % len(blob)


def expect_btf_file(dumpfs, path, work):
    """An image without BTF (case none), with -o btf=FILE: /kernel/btf is
    the file's blob on a mount; a file libbpf refuses is EIO."""
    make(path, "none")
    good, bad = os.path.join(work, "good.btf"), os.path.join(work, "bad.btf")
    blob = btf_blob("<")
    open(good, "wb").write(blob)
    open(bad, "wb").write(blob[:30])
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt, "-o", "btf=" + good], check=True, capture_output=True, timeout=60)
    try:
        got = open(os.path.join(mnt, "kernel", "btf"), "rb").read()
        if got != blob:
            raise AssertionError("-o btf=FILE: /kernel/btf is %r" % got[:40])
        header = open(os.path.join(mnt, "header")).read()
        if "types: /kernel/btf, from %s (-o btf)" % good not in header:
            raise AssertionError("/header does not name the BTF file")
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    r = subprocess.run([dumpfs, "cat", "--btf", bad, path, "/kernel/btf"], capture_output=True, timeout=60)
    if r.returncode == 0 or b"not a kernel's BTF" not in r.stderr:
        raise AssertionError("--btf of a cut blob: exit %d, %r" % (r.returncode, r.stderr[-300:]))
    return "the file's %d bytes; a cut one refused" % len(blob)


def expect_absent(dumpfs, path):
    """No /kernel/btf: `dumpfs cat` says there is no such file."""
    r = cat_btf(dumpfs, path)
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0 or "no such file" not in err.lower():
        raise AssertionError("exit %d, stderr %r; expected no /kernel/btf" % (r.returncode, err[-300:]))


def seeds(out):
    """Dumps under libFuzzer's 64 KiB: a blob across a page end after a
    decoy header, little- and big-endian."""
    os.makedirs(out, exist_ok=True)
    for e, name in (("<", "btf-ppc64le"), (">", "btf-ppc64")):
        mem = bytearray(0x8000)
        blob = btf_blob(e)
        bad = struct.pack(e + "HBBIIIII", 0xeb9f, 1, 0, 24, 0, 12, 12, 1 << 30)
        mem[0x1100:0x1100 + len(bad)] = bad
        mem[0x2ff0:0x2ff0 + len(blob)] = blob
        vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=4096\nSYMBOL(_stext)=%x\n" % (LINEAR + 0x1000)
        pr = bytearray(504)
        struct.pack_into(e + "QQ", pr, 112 + 32 * 8, LINEAR + 0x1000, 1 << 63 | (e == "<"))
        write_elf(os.path.join(out, name), e, 21,
                  [note(e, b"CORE", 1, bytes(pr)), note(e, b"VMCOREINFO", 0, vmci)], mem, vaddr=LINEAR)
    return 0


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = [
        ("found", lambda: expect_blob(dumpfs, p("found"), make(p("found"), "found"))),
        ("decoys", lambda: expect_blob(dumpfs, p("decoys"), make(p("decoys"), "decoys"))),
        ("big-endian", lambda: expect_blob(dumpfs, p("be"), make(p("be"), "found", ">"))),
    ]
    for case in ("none", "garbage", "no-task", "cut"):
        cases.append((case, lambda c=case: (make(p(c), c), expect_read_failure(
            dumpfs, p(c), "/kernel/btf", "no BTF in the", work))))
    cases.append(("btf-file", lambda: expect_btf_file(dumpfs, p("none"), work)))
    cases.append(("no-stext", lambda: (make(p("no-stext"), "no-stext"),
                                       expect_absent(dumpfs, p("no-stext")))))
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2]))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

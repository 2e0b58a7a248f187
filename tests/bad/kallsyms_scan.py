#!/usr/bin/env python3
"""kallsyms_scan.py DUMPFS WORKDIR

/kernel/symbols on generated ppc64 ELF dumps whose VMCOREINFO does not name
the kallsyms tables (as before 6.0): the tables are in the image, past
_stext, laid out as scripts/kallsyms.c did up to 6.1 (kallsyms_offsets,
kallsyms_relative_base, kallsyms_num_syms, kallsyms_names, kallsyms_markers,
kallsyms_token_table, kallsyms_token_index, each aligned to 8), and dumpfs
must find them by scanning the image (kscan.c):

  found            the symbols exactly as put in; /header says "kallsyms
                   found by scanning the kernel image at" the token table
  seqs-of-names    kallsyms_seqs_of_names (3 bytes a symbol) between the
                   markers and the token table, as 6.1.y has it: found
  decoy-first      a whole second set of tables before the real one whose
                   symbols put _stext elsewhere: rejected, the real one found
  decoy-only       only that set: `cat /kernel/symbols` fails saying no
                   encoding puts _stext where VMCOREINFO does; a read: EIO
                   (tables found, rejected when decoded)
  decoy-other      only a set right about _stext and init_uts_ns but not
                   about vmap_area_list, another SYMBOL() of VMCOREINFO:
                   rejected, saying so
  index-broken     the token index does not match where the tokens start
                   (one entry one byte off): no tables found, so reads of
                   /kernel/symbols fail (EIO), saying so, and so does
                   /header's symbols line (the scan runs at the first
                   read, not at mount)
  markers-broken   a marker that does not match where its symbol starts
  many-decoys      120 token tables with their indexes and nothing before
                   them: the search gives up after 64, saying so
"""
import os
import struct
import subprocess
import sys

from kallsyms_tables import encode_name
from synth import expect_read_failure, note, run_cases, write_elf

MEM = 2 << 20
LINEAR = 0xc000000000000000
E = ">"                                 # a big-endian ppc64 kernel
STEXT = LINEAR + 0x10000
UTS = LINEAR + 0x1f0000
VMAP = LINEAR + 0x1f8000                # vmap_area_list: a SYMBOL() the encoding check does not use
REAL_AT, DECOY_AT = 0x100000, 0x40000   # where each set of tables starts
NSYMS = 700                             # three markers


def align(v, a=8):
    return (v + a - 1) // a * a


def symbols(shift=0, vmap_shift=0):
    syms = [(STEXT + shift, "T", "_stext"), (STEXT + shift, "T", "_text"),
            (UTS + shift, "D", "init_uts_ns"), (VMAP + shift + vmap_shift, "d", "vmap_area_list")]
    syms += [(STEXT + 0x100 + 0x20 * i + shift, "t", "func_%d" % i) for i in range(NSYMS - len(syms))]
    return syms


def tokens():
    multi = ["func_", "_stext", "init_", "_text", "uts_ns", "vmap_", "area_", "list"]  # 8, as encode_name wants
    toks = multi + [chr(c) for c in range(0x21, 0x7f)]
    return toks + ["?%d" % i for i in range(256 - len(toks))]


def tables(mem, at, syms, damage=None):
    """Write the tables of @syms at physical @at; the token table's address."""
    toks = tokens()
    base = STEXT & ~0xffff
    o = at
    for i, (addr, _, _) in enumerate(syms):
        struct.pack_into(E + "i", mem, o + 4 * i, addr - base)
    rb = align(o + 4 * len(syms))
    struct.pack_into(E + "Q", mem, rb, base)
    ns = rb + 8
    struct.pack_into(E + "I", mem, ns, len(syms))         # .long, then padding
    names, markers = b"", []
    for i, (_, typ, name) in enumerate(syms):
        if i % 256 == 0:
            markers.append(len(names))
        enc = encode_name(toks, typ + name)
        names += bytes([len(enc)]) + bytes(enc)
    if damage == "markers-broken":
        markers[1] += 1
    na = ns + 8
    mem[na:na + len(names)] = names
    mk = align(na + len(names))
    struct.pack_into(E + "%dI" % len(markers), mem, mk, *markers)
    tt = align(mk + 4 * len(markers))
    if damage == "seqs-of-names":   # 6.1.y: the symbols by name, 3 bytes each, big-endian
        order = sorted(range(len(syms)), key=lambda i: syms[i][2])
        seqs = b"".join(i.to_bytes(3, "big") for i in order)
        mem[tt:tt + len(seqs)] = seqs
        tt = align(tt + len(seqs))
    table, index = b"", []
    for t in toks:
        index.append(len(table))
        table += t.encode() + b"\0"
    if damage == "index-broken":
        index[100] += 1
    mem[tt:tt + len(table)] = table
    struct.pack_into(E + "256H", mem, align(tt + len(table)), *index)
    return LINEAR + tt


def make(path, case):
    mem = bytearray(MEM)
    syms = symbols()
    token_table = None
    if case == "many-decoys":       # token tables and indexes, nothing before them
        table, index = b"", []
        for t in tokens():
            index.append(len(table))
            table += t.encode() + b"\0"
        for at in range(0x20000, MEM - 0x4000, 0x4000):
            mem[at:at + len(table)] = table
            struct.pack_into(E + "256H", mem, align(at + len(table)), *index)
    if case in ("decoy-first", "decoy-only"):
        token_table = tables(mem, DECOY_AT, symbols(0x40))
    if case == "decoy-other":
        token_table = tables(mem, DECOY_AT, symbols(0, 0x8))
    if case not in ("decoy-only", "decoy-other", "many-decoys"):
        token_table = tables(mem, REAL_AT, syms, case)
    vmci = b"OSRELEASE=5.10.0-synth\nPAGESIZE=4096\n"
    vmci += b"SYMBOL(_stext)=%x\nSYMBOL(init_uts_ns)=%x\nSYMBOL(vmap_area_list)=%x\n" % (STEXT, UTS, VMAP)
    pr = bytearray(504)
    struct.pack_into(E + "QQ", pr, 112 + 32 * 8, STEXT, 1 << 63)      # nip; msr: SF, big-endian
    write_elf(path, E, 21, [note(E, b"CORE", 1, bytes(pr)), note(E, b"VMCOREINFO", 0, vmci)], mem,
              vaddr=LINEAR)
    return syms, token_table


def expect_found(dumpfs, path, case):
    syms, token_table = make(path, case)
    r = subprocess.run([dumpfs, "cat", path, "/kernel/symbols"], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:]))
    want = "".join("%016x %s %s\n" % s for s in sorted(syms, key=lambda s: s[0]))
    if r.stdout.decode() != want:
        raise AssertionError("got:\n%s\nexpected:\n%s" % (r.stdout.decode()[:600], want[:600]))
    h = subprocess.run([dumpfs, "cat", path, "/header"], capture_output=True, timeout=60).stdout.decode()
    line = [l for l in h.splitlines() if l.startswith("symbols:")]
    words = "kallsyms found by scanning the kernel image at %#x" % token_table
    if not line or words not in line[0]:
        raise AssertionError("/header %r lacks %r" % (line, words))
    return line[0]


def expect_unfound(dumpfs, path, words, work):
    """No tables found: /header says why, and a read of /kernel/symbols
    fails saying so (the scan runs at the first read, not at mount)."""
    h = subprocess.run([dumpfs, "cat", path, "/header"], capture_output=True, timeout=60).stdout.decode()
    line = [l for l in h.splitlines() if l.startswith("symbols:")]
    if not line or not line[0].startswith("symbols: /kernel/symbols, whose reads fail with EIO") or \
            words not in line[0]:
        raise AssertionError("/header %r: expected failing reads, saying %r" % (line, words))
    expect_read_failure(dumpfs, path, "/kernel/symbols", words, work)
    return line[0]


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = [(c, lambda c=c: expect_found(dumpfs, p(c), c)) for c in ("found", "decoy-first", "seqs-of-names")]
    for case, words in (("decoy-only", "rejected: no kallsyms address encoding puts _stext"),
                        ("decoy-other", "rejected: it puts vmap_area_list at %#x, VMCOREINFO says %#x" % (VMAP + 8, VMAP))):
        cases.append((case, lambda c=case, w=words: (make(p(c), c),
                                                     expect_read_failure(dumpfs, p(c), "/kernel/symbols", w, work))))
    for case, words in (("index-broken", "no kallsyms tables found scanning"),
                        ("many-decoys", "64 token index candidates from _stext 0xc000000000010000, none"),
                        ("markers-broken", "no kallsyms tables found scanning")):
        cases.append((case, lambda c=case, w=words: (make(p(c), c), expect_unfound(dumpfs, p(c), w, work))[1]))
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

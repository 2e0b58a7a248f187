#!/usr/bin/env python3
"""kallsyms_tables.py DUMPFS WORKDIR

/kernel/symbols on generated ppc64 ELF dumps whose memory holds kallsyms
tables built here, as the kernel's scripts/kallsyms lays them out, and whose
VMCOREINFO names them:

  absolute          kallsyms_addresses (no kallsyms_offsets)
  base-relative     kallsyms_offsets + kallsyms_relative_base
  percpu-absolute   the same with per-cpu symbols absolute (a negative
                    offset is base - 1 - offset): the x86_64 SMP layout
  place-relative    each offset relative to its own slot
  long-name         a name of 300 tokens: a two-byte length (6.1 on)

Each must give exactly the symbols put in, by address, with their types;
the encoding is told by SYMBOL(_stext) and SYMBOL(init_uts_ns).  Damaged
tables must make `dumpfs cat /kernel/symbols` fail with a message and a
read of the mounted file fail with EIO, never hang:

  num-huge          kallsyms_num_syms of 2^31
  names-cut         kallsyms_names runs past the end of memory
  wrong-anchor      SYMBOL(_stext) where no encoding puts _stext
  token-unended     a token that runs past its table without a NUL
"""
import os
import struct
import subprocess
import sys

from synth import expect_read_failure, note, run_cases, write_elf

MEM = 1 << 20
LINEAR = 0xc000000000000000
E = ">"                                 # a big-endian ppc64 kernel

# Where the tables sit in physical memory (virtual: LINEAR + these).
NUM_SYMS, RELBASE, NAMES, TOKEN_TABLE, TOKEN_INDEX, OFFSETS, ADDRESSES = (
    0x10000, 0x10010, 0x11000, 0x30000, 0x31000, 0x32000, 0x40000)
STEXT = LINEAR + 0x100000


def symbols(mode):
    """(address, type, name) as a kernel would have them, table order; the
    per-cpu symbols at small absolute addresses only where the encoding
    has room for them."""
    syms = [(0x0, "A", "fixed_percpu_data"), (0x1000, "A", "cpu_debug_store")] \
        if mode == "percpu-absolute" else []
    syms += [(STEXT, "T", "_stext"), (STEXT, "T", "_text"), (STEXT + 0x40, "t", "start_here"),
            (STEXT + 0x1000, "T", "schedule"), (STEXT + 0x2000, "t", "c_next"),
            (STEXT + 0x2000, "t", "c_next"), (LINEAR + 0x2600000, "D", "init_uts_ns"),
            (LINEAR + 0x2700000, "b", "a_bss_variable_with_a_rather_long_name_1234")]
    if mode == "long-name":
        syms.append((STEXT + 0x3000, "T", "x" * 299))
    return syms


def tokens():
    """256 tokens: a few multi-byte ones, the rest single characters."""
    multi = ["_stext", "init_", "_text", "sched", "c_", "per", "cpu", "_data"]
    toks = multi + [chr(c) for c in range(0x20, 0x7f)]
    return toks + ["?%d" % i for i in range(256 - len(toks))]


def encode_name(toks, s):
    out = []
    while s:
        for i, t in enumerate(toks):
            if s.startswith(t) and (len(t) > 1 or i >= 8):
                out.append(i)
                s = s[len(t):]
                break
        else:
            raise ValueError(s)
    return out


def build(mode, damage=None, syms=None):
    """The memory and the VMCOREINFO text of one case: @syms (address,
    type, name), or the case's own."""
    mem = bytearray(MEM)
    syms = syms or symbols(mode)
    toks = tokens()
    table, index = b"", []
    for t in toks:
        index.append(len(table))
        table += t.encode() + b"\0"
    if damage == "token-unended":
        index[200] = len(table) + 100               # into bytes with no NUL
    names = b""
    for _, typ, name in syms:
        enc = encode_name(toks, typ + name)
        n = len(enc)
        names += bytes([n]) if n < 0x80 else bytes([0x80 | (n & 0x7f), n >> 7])
        names += bytes(enc)
    base = STEXT
    struct.pack_into(E + "I", mem, NUM_SYMS, (1 << 31) if damage == "num-huge" else len(syms))
    struct.pack_into(E + "Q", mem, RELBASE, base)
    names_at = NAMES if damage != "names-cut" else MEM - len(names) // 2
    mem[names_at:names_at + len(names)] = names[:MEM - names_at]
    mem[TOKEN_TABLE:TOKEN_TABLE + len(table)] = table
    if damage == "token-unended":                   # no NUL after the table
        mem[TOKEN_TABLE + len(table):TOKEN_INDEX] = b"x" * (TOKEN_INDEX - TOKEN_TABLE - len(table))
    struct.pack_into(E + "256H", mem, TOKEN_INDEX, *index)
    for i, (addr, _, _) in enumerate(syms):
        if mode == "absolute":
            struct.pack_into(E + "Q", mem, ADDRESSES + 8 * i, addr)
        elif mode in ("base-relative", "long-name"):
            struct.pack_into(E + "I", mem, OFFSETS + 4 * i, addr - base)
        elif mode == "percpu-absolute":
            off = addr if addr < LINEAR else base - 1 - addr
            struct.pack_into(E + "i", mem, OFFSETS + 4 * i, off)
        else:
            struct.pack_into(E + "i", mem, OFFSETS + 4 * i, addr - (LINEAR + OFFSETS + 4 * i))
    sym = lambda n, a: b"SYMBOL(%s)=%x\n" % (n, LINEAR + a)
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n"
    vmci += b"SYMBOL(_stext)=%x\n" % (STEXT + (0x10 if damage == "wrong-anchor" else 0))
    vmci += b"SYMBOL(init_uts_ns)=%x\n" % (LINEAR + 0x2600000)
    vmci += sym(b"kallsyms_num_syms", NUM_SYMS) + sym(b"kallsyms_names", names_at)
    vmci += sym(b"kallsyms_token_table", TOKEN_TABLE) + sym(b"kallsyms_token_index", TOKEN_INDEX)
    if mode == "absolute":
        vmci += sym(b"kallsyms_addresses", ADDRESSES)
    else:
        vmci += sym(b"kallsyms_offsets", OFFSETS) + sym(b"kallsyms_relative_base", RELBASE)
    return mem, vmci, syms


def make(path, mode, damage=None):
    mem, vmci, syms = build(mode, damage)
    pr = bytearray(504)
    struct.pack_into(E + "QQ", pr, 112 + 32 * 8, STEXT, 1 << 63)      # nip; msr: SF, big-endian
    write_elf(path, E, 21, [note(E, b"CORE", 1, bytes(pr)), note(E, b"VMCOREINFO", 0, vmci)], mem,
              vaddr=LINEAR)
    return syms


def expect_symbols(dumpfs, path, syms):
    r = subprocess.run([dumpfs, "cat", path, "/kernel/symbols"], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:]))
    want = "".join("%016x %s %s\n" % s for s in sorted(syms, key=lambda s: s[0]))
    got = r.stdout.decode()
    if got != want:
        raise AssertionError("got:\n%s\nexpected:\n%s" % (got[:800], want[:800]))


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = []
    for mode in ("absolute", "base-relative", "percpu-absolute", "place-relative", "long-name"):
        cases.append((mode, lambda m=mode: expect_symbols(dumpfs, p(m), make(p(m), m))))
    for damage, words in (("num-huge", "kallsyms_num_syms is 2147483648"),
                          ("names-cut", "kallsyms_names is cut"),
                          ("wrong-anchor", "no kallsyms address encoding"),
                          ("token-unended", "token 200 is not a string")):
        cases.append((damage, lambda d=damage, w=words: (make(p(d), "base-relative", d),
                                                         expect_read_failure(dumpfs, p(d), "/kernel/symbols", w, work))))
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

#!/usr/bin/env python3
"""xen_host_seed.py DUMP OUT - a Xen host's kdump small enough to fuzz.

DUMP is one that `mkdump --format xen-kdump` wrote (with DUMP.info and
DUMP.dom0.p2m beside it).  Its machine memory is megabytes (Xen's image
alone is 936 pages), over the fuzzers' -max_len; OUT keeps its ELF header,
its notes (CRASH_INFO, CRASH_REGS, VMCOREINFO_XEN...) and, as one PT_LOAD
per page, only the machine pages the readers of /dom0/ look at: dom0's p2m
tree (frame list list, middle pages, leaves, Linux's missing leaf and
missing middle page), the pages of dom0 that hold its VMCOREINFO, a few
other pages of dom0, and the page of Xen's version strings.  Every other
frame the tree names is then not in the dump: /dom0/mem reads it as an
error.
"""
import struct
import sys

PAGE = 4096
INVALID = 2**64 - 1


def main():
    src, out = sys.argv[1:3]
    b = open(src, "rb").read()
    info = dict(l.rstrip("\n").split("=", 1) for l in open(src + ".info") if "=" in l)
    phoff, = struct.unpack_from("<Q", b, 32)
    phent, phnum = struct.unpack_from("<HH", b, 54)
    notes, loads = None, []
    for i in range(phnum):
        ph = struct.unpack_from("<IIQQQQQQ", b, phoff + phent * i)
        if ph[0] == 4:
            notes = ph
        elif ph[0] == 1:
            loads.append(ph)

    def page(m):
        for _, _, off, _, paddr, filesz, _, _ in loads:
            if paddr <= m * PAGE < paddr + filesz:
                at = off + m * PAGE - paddr
                return b[at:at + PAGE]
        raise SystemExit("machine frame %#x is not in %s" % (m, src))

    def entries(m):
        return struct.unpack("<512Q", page(m))

    fll = int(info["xen_p2m_mfn"], 0)
    keep = {fll}
    for mid in set(entries(fll)) - {INVALID}:
        keep.add(mid)
        keep.update(set(entries(mid)) - {INVALID})
    p2m = dict(tuple(int(x, 0) for x in l.split()) for l in open(src + ".dom0.p2m"))
    pfns = [int(info["dom0_vmcoreinfo_note_pfn"]), int(info["dom0_vmcoreinfo_data_pfn"]), 0, 1]
    keep.update(p2m[p] for p in pfns if p2m.get(p, INVALID) < 1 << 40)
    pos, end = notes[2], notes[2] + notes[5]
    while pos + 12 <= end:
        namesz, descsz, typ = struct.unpack_from("<III", b, pos)
        desc = pos + 12 + (namesz + 3) // 4 * 4
        if b[pos + 12:pos + 16] == b"Xen\0" and typ == 0x1000001:     # XEN_ELFNOTE_CRASH_INFO
            # the page of Xen's version strings (extra_version's address)
            keep.add(struct.unpack_from("<Q", b, desc + 16)[0] // PAGE)
        pos = desc + (descsz + 3) // 4 * 4

    frames = sorted(keep)
    nph = 1 + len(frames)
    data = 64 + 56 * nph
    out_b = bytearray(b[:64])
    struct.pack_into("<QQ", out_b, 32, 64, 0)               # e_phoff, e_shoff
    struct.pack_into("<HHHH", out_b, 54, 56, nph, 0, 0)     # e_phentsize, e_phnum, no sections
    body = bytearray(b[notes[2]:notes[2] + notes[5]])
    phdrs = [struct.pack("<IIQQQQQQ", 4, 0, data, 0, 0, len(body), len(body), 0)]
    for m in frames:
        while (data + len(body)) % 16:
            body += b"\0"
        phdrs.append(struct.pack("<IIQQQQQQ", 1, 7, data + len(body), 0xffff888000000000 + m * PAGE,
                                 m * PAGE, PAGE, PAGE, 0))
        body += page(m)
    out_b += b"".join(phdrs) + body
    open(out, "wb").write(out_b)


if __name__ == "__main__":
    main()

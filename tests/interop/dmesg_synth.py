#!/usr/bin/env python3
"""dmesg_synth.py DUMPFS WORKDIR

/dmesg on generated x86_64 ELF vmcores, no corpus or tool needed.  Each
dump holds a kernel log laid out as the kernel lays it out, VMCOREINFO that
describes it, and page tables for the addresses outside the kernel image:

  prb       the 5.10+ printk ringbuffer: its descriptors are reached through
            4 KiB page-table entries, its text through a 1 GiB direct-map
            page; records: multi-line, unprintable bytes, a data-less one,
            one still reserved by a writer, one that wraps, one truncated;
  logbuf    the 3.5-5.9 log_buf records, with the end-of-buffer wrap;
  novmci    no VMCOREINFO: /dmesg absent, /header says why;
  garbage   a ring size no kernel has: absent, /header says why.

The expected text is written out by hand below in crash's `log` format."""
import os
import struct
import subprocess
import sys

START_KERNEL_MAP = 0xffffffff80000000
PHYS_BASE = 0x200000
DIRECT_MAP = 0xffff888000000000
VMALLOC = 0xffffc90000000000
MEM_SIZE = 40 << 20
PAGE = 4096


def kphys(vaddr):
    return vaddr - START_KERNEL_MAP + PHYS_BASE


class Memory:
    """Sparse physical memory, written into the ELF as one PT_LOAD."""

    def __init__(self):
        self.chunks = {}

    def put(self, paddr, data):
        self.chunks[paddr] = bytes(data)

    def put_u64(self, paddr, value):
        self.put(paddr, struct.pack("<Q", value))


def note(name, typ, desc):
    n = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), typ) + pad(n) + pad(desc)


def write_elf(path, mem, vmcoreinfo):
    notes = note("VMCOREINFO", 0, vmcoreinfo.encode()) if vmcoreinfo is not None else b""
    phnum = 2
    notes_off = 64 + phnum * 56
    data_off = (notes_off + len(notes) + PAGE - 1) // PAGE * PAGE
    eh = bytearray(64)
    eh[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 0, notes_off, 0, 0, len(notes), len(notes), 0)
    ph += struct.pack("<IIQQQQQQ", 1, 7, data_off, 0, 0, MEM_SIZE, MEM_SIZE, 0)
    with open(path, "wb") as f:
        f.write(bytes(eh) + ph + notes)
        f.truncate(data_off + MEM_SIZE)
        for paddr, data in mem.chunks.items():
            f.seek(data_off + paddr)
            f.write(data)


class PageTables:
    """x86_64 4-level tables in the kernel image area of physical memory."""

    def __init__(self, mem, top_vaddr):
        self.mem, self.top = mem, kphys(top_vaddr)
        self.next_table = self.top + PAGE
        self.tables = {}

    def _table(self, parent, index):
        key = (parent, index)
        if key not in self.tables:
            self.tables[key] = self.next_table
            self.mem.put_u64(parent + index * 8, self.next_table | 0x63)
            self.next_table += PAGE
        return self.tables[key]

    def map_1g(self, vaddr, paddr):
        pud = self._table(self.top, (vaddr >> 39) & 511)
        self.mem.put_u64(pud + ((vaddr >> 30) & 511) * 8, paddr | 0xe3)

    def map_4k(self, vaddr, paddr):
        pud = self._table(self.top, (vaddr >> 39) & 511)
        pmd = self._table(pud, (vaddr >> 30) & 511)
        pt = self._table(pmd, (vaddr >> 21) & 511)
        self.mem.put_u64(pt + ((vaddr >> 12) & 511) * 8, paddr | 0x63)


def base_vmcoreinfo(symbols):
    lines = ["OSRELEASE=6.1.0-synthetic", "PAGESIZE=4096", "NUMBER(phys_base)=%d" % PHYS_BASE,
             "NUMBER(pgtable_l5_enabled)=0"]
    lines += ["SYMBOL(%s)=%x" % kv for kv in symbols.items()]
    return lines


# ---- the 5.10+ printk ringbuffer -------------------------------------------

PRB_OFFSETS = """SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24""".splitlines()

COUNT_BITS, SIZE_BITS = 4, 10          # 16 descriptors, 1 KiB of text
RESERVED, COMMITTED, FINALIZED = 0, 1, 2

# (state, ts_nsec, text, how): how is "normal", "nodata", "wrap" or "truncate"
PRB_RECORDS = [
    (FINALIZED, 0, b"Linux version 6.1.0-synthetic", "normal"),
    (FINALIZED, 1234567890123, b"first line\nsecond line", "normal"),
    (COMMITTED, 2000001000, b"bell\x07 tab\t del\x7f high\xc3\xa9 end", "normal"),
    (FINALIZED, 3000000000, b"", "nodata"),
    (RESERVED, 4000000000, b"still being written", "normal"),
    (FINALIZED, 99999999999999, b"wrapped to the start", "wrap"),
    (FINALIZED, 5000000, b"cut short by its block", "truncate"),
]

PRB_EXPECTED = (
    "[    0.000000] Linux version 6.1.0-synthetic\n"
    "[ 1234.567890] first line\n"
    "               second line\n"
    "[    2.000001] bell. tab\t del. high.. end\n"
    "\n"
    "[99999.999999] wrapped to the start\n"
    "[    0.005000] cut short\n"
)


def make_prb(path):
    mem = Memory()
    prb_sym, rb = 0xffffffff81800000, 0xffffffff81800100
    top = 0xffffffff81c00000
    descs_v = VMALLOC + 0x5000                  # through 4 KiB pages
    infos_v = VMALLOC + 0x9000
    text_p = 0x100000
    text_v = DIRECT_MAP + text_p                # through a 1 GiB page
    tables = PageTables(mem, top)
    tables.map_1g(DIRECT_MAP, 0)
    descs_p, infos_p = 0x300000, 0x308000
    for i in range(2):                          # 16 x 88 bytes of infos span two pages
        tables.map_4k(descs_v + i * PAGE, descs_p + i * PAGE)
        tables.map_4k(infos_v + i * PAGE, infos_p + i * PAGE)
    count, size = 1 << COUNT_BITS, 1 << SIZE_BITS
    first_id = (1 << 32) - 3                    # ids wrap past the ring's slots
    descs, infos, text = bytearray(24 * count), bytearray(88 * count), bytearray(size)
    lpos = 0x10000 * size + 0x40                # lpos values count laps; the ring uses them mod size
    for i, (state, ts, msg, how) in enumerate(PRB_RECORDS):
        rid = first_id + i
        slot = rid % count
        if how == "nodata":
            begin = nxt = lpos
        elif how == "wrap":
            # the block does not fit before the end: it starts at the next lap
            begin = (lpos // size + 1) * size - 8
            nxt = (lpos // size + 1) * size + 8 + len(msg)
            text[0:8] = struct.pack("<Q", rid)
            text[8:8 + len(msg)] = msg
        else:
            begin = lpos
            stored = msg[:9] if how == "truncate" else msg
            nxt = begin + 8 + len(stored)
            at = begin % size
            text[at:at + 8] = struct.pack("<Q", rid)
            text[at + 8:at + 8 + len(stored)] = stored
        lpos = (nxt + 7) // 8 * 8
        struct.pack_into("<QQQ", descs, slot * 24, state << 62 | rid, begin, nxt)
        struct.pack_into("<QQHH", infos, slot * 88, i, ts, len(msg), 0)
    head_id = first_id + len(PRB_RECORDS) - 1
    ring = bytearray(88)
    struct.pack_into("<IxxxxQQQQ", ring, 0, COUNT_BITS, descs_v, infos_v, head_id, first_id)
    struct.pack_into("<IxxxxQ", ring, 48, SIZE_BITS, text_v)
    mem.put(kphys(rb), ring)
    mem.put_u64(kphys(prb_sym), rb)
    mem.put(descs_p, descs)
    mem.put(infos_p, infos)
    mem.put(text_p, text)
    vmci = base_vmcoreinfo({"init_top_pgt": top, "prb": prb_sym}) + PRB_OFFSETS
    write_elf(path, mem, "\n".join(vmci) + "\n")


def make_garbage(path):
    """A ring with count_bits 60: the decoder must refuse, not allocate."""
    mem = Memory()
    prb_sym, rb = 0xffffffff81800000, 0xffffffff81800100
    ring = bytearray(88)
    struct.pack_into("<IxxxxQQQQ", ring, 0, 60, rb, rb, 5, 0)
    struct.pack_into("<IxxxxQ", ring, 48, 10, rb)
    mem.put(kphys(rb), ring)
    mem.put_u64(kphys(prb_sym), rb)
    vmci = base_vmcoreinfo({"prb": prb_sym}) + PRB_OFFSETS
    write_elf(path, mem, "\n".join(vmci) + "\n")


# ---- the 3.5-5.9 log_buf ---------------------------------------------------

LOGBUF_SIZE = 256
# (ts_nsec, text); the third does not fit before the end and wraps to 0
LOGBUF_RECORDS = [
    (1000, b"old format"),
    (42000000000, b"two\nlines"),
    (43000000000, b"after the wrap \x01"),
]
LOGBUF_EXPECTED = (
    "[    0.000001] old format\n"
    "[   42.000000] two\n"
    "               lines\n"
    "[   43.000000] after the wrap .\n"
)


def make_logbuf(path):
    mem = Memory()
    sym = {"log_buf": 0xffffffff81800000, "log_buf_len": 0xffffffff81800008,
           "log_first_idx": 0xffffffff81800010, "log_next_idx": 0xffffffff81800014}
    buf_v = 0xffffffff81900000                  # in the kernel image: __log_buf
    buf = bytearray(LOGBUF_SIZE)
    idx = first = 160
    for ts, msg in LOGBUF_RECORDS:
        reclen = (16 + len(msg) + 7) // 8 * 8
        if idx + reclen + 16 > LOGBUF_SIZE:  # room for the marker, as log_store() keeps
            struct.pack_into("<QH", buf, idx, 0, 0)     # len 0: wrap marker
            idx = 0
        struct.pack_into("<QHHHBB", buf, idx, ts, reclen, len(msg), 0, 0, 6 << 5)
        buf[idx + 16:idx + 16 + len(msg)] = msg
        idx += reclen
    mem.put(kphys(buf_v), buf)
    mem.put_u64(kphys(sym["log_buf"]), buf_v)
    mem.put(kphys(sym["log_buf_len"]), struct.pack("<I", LOGBUF_SIZE))
    mem.put(kphys(sym["log_first_idx"]), struct.pack("<I", first))
    mem.put(kphys(sym["log_next_idx"]), struct.pack("<I", idx))
    vmci = base_vmcoreinfo(sym) + ["SIZE(printk_log)=16", "OFFSET(printk_log.ts_nsec)=0",
                                   "OFFSET(printk_log.len)=8", "OFFSET(printk_log.text_len)=10"]
    write_elf(path, mem, "\n".join(vmci) + "\n")


def make_novmci(path):
    write_elf(path, Memory(), None)


def dumpfs_cat(dumpfs, dump, node):
    return subprocess.run([dumpfs, "cat", dump, node], capture_output=True)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    dumpfs, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    failures = 0
    present = {"prb": (make_prb, PRB_EXPECTED), "logbuf": (make_logbuf, LOGBUF_EXPECTED)}
    for name, (make, expected) in present.items():
        path = os.path.join(work, "dmesg-%s.elf" % name)
        make(path)
        r = dumpfs_cat(dumpfs, path, "/dmesg")
        got = r.stdout.decode("latin-1")
        if r.returncode != 0 or got != expected:
            failures += 1
            print("FAIL %s: rc %d, stderr %r\n--- expected\n%s--- got\n%s"
                  % (name, r.returncode, r.stderr.decode(errors="replace"), expected, got))
            header = dumpfs_cat(dumpfs, path, "/header").stdout.decode(errors="replace")
            print("".join(l + "\n" for l in header.splitlines() if l.startswith("dmesg")))
        else:
            print("ok   %s: %d lines as expected" % (name, len(expected.splitlines())))
    absent = {"novmci": (make_novmci, "no VMCOREINFO"),
              "garbage": (make_garbage, "printk ringbuffer sizes out of range")}
    for name, (make, reason) in absent.items():
        path = os.path.join(work, "dmesg-%s.elf" % name)
        make(path)
        r = dumpfs_cat(dumpfs, path, "/dmesg")
        header = dumpfs_cat(dumpfs, path, "/header").stdout.decode(errors="replace")
        line = next((l for l in header.splitlines() if l.startswith("dmesg:")), "")
        if r.returncode == 0 or not line.startswith("dmesg: absent (" + reason):
            failures += 1
            print("FAIL %s: /dmesg rc %d, /header %r (want absent: %s)" % (name, r.returncode, line, reason))
        else:
            print("ok   %s: %s" % (name, line))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

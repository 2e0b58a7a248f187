#!/usr/bin/env python3
"""qemu_core.py DUMPFS SAMPLE WORKDIR
qemu_core.py --seeds DIR        (small QEMU process cores for the fuzzer)

QEMU process cores written here, as the kernel writes a core (no section
headers; NT_PRPSINFO, NT_FILE), around the sample dump's memory: the
guest's RAM is one anonymous mapping, QEMU's globals (ram_list, e820_table,
cpus) are the dynamic symbols of a small program compiled here, whose
first page the core keeps, as a real core keeps QEMU's.  Real QEMU cores
are tested by tests/real/qemu_core.py; these vary what a real one cannot:

  guest          /mem is the sample's (less the VGA window), /vmcoreinfo,
                 /dmesg and /tasks too; /header says the RAM came from
                 ram_list's "pc.ram" and the layout from e820_table
  registers      a vCPU on `cpus` becomes /cpus/0's NT_PRSTATUS and QEMU
                 note with the registers its CPUX86State holds
  32-bit         a vCPU not in long mode: an i386 guest, no notes written
  aarch64        qemu-system-aarch64's core: RAM block "mach-virt.ram" from
                 guest physical 1 GiB, the vCPU's x0-x30, sp and pc
  host           /host/core is the file, /host/maps and /host/notes its own
  split-e820     a 4.5 GiB guest whose e820 puts 3 GiB below 4 GiB: the
                 block's byte 3 GiB is guest physical 4 GiB
  guess-i440fx   without QEMU's symbols the RAM is the largest anonymous
  guess-q35      mapping and the split the machine's default: 3 GiB, or
                 2 GiB when the command line names q35; /header says guess
  no-exe         the executable is missing: /header says why, /mem stands
  other-build    an executable of another build ID is not used
  bad-block      a RAM block that does not start a mapping: ram_list is
                 not used, the RAM is guessed
  bad-e820       RAM entries that do not add up to the block: guessed
  truncated      a core cut inside the RAM: it mounts, says where it is
                 cut; pages before read, a page after is EIO

and refused ones, naming the file, the offset and what is wrong:

  not-qemu       the core of another program
  target         qemu-system-ppc64's core (a guest dumpfs does not map)
  overlap        two mappings that overlap
  no-ram         no anonymous writable mapping (and no symbols)
"""
import os
import shutil
import struct
import subprocess
import sys

from synth import PAGE, expect_read_failure, note, refused_at_open, run_cases

GiB = 1 << 30
EXE_BASE = 0x555555554000
HEAP = 0x555556000000
HEAP_SIZE = 0x3000
RAM = 0x7f0000000000
BLOCK, E820, CPU = HEAP + 0x100, HEAP + 0x400, HEAP + 0x1000
CPU_LINK, CPU_ENV_PTR, CPU_ENV = 0x248, 0x220, 0x13b0
VGA = (0xa0000, 0xc0000)
MAGIC_REGS = [0x1000 + i for i in range(16)]
RIP, RFLAGS, CR3 = 0xffffffff81234567, 0x246, 0x2b52000

FAKE_QEMU_C = r"""
/* QEMU's globals that dumpfs looks up, exported as QEMU exports them */
char ram_list[128], e820_table[8], cpus[16];
int main(void) { return 0; }
"""


def build_exe(work, name="qemu-system-x86_64", build_id="0x" + "ab" * 20):
    src, exe = os.path.join(work, "fake_qemu.c"), os.path.join(work, name)
    with open(src, "w") as f:
        f.write(FAKE_QEMU_C)
    subprocess.run(["cc", "-O0", "-fPIE", "-pie", "-rdynamic", "-Wl,--build-id=" + build_id,
                    "-o", exe, src], check=True, capture_output=True)
    return exe


def dynamic_symbols(exe):
    out = subprocess.run(["nm", "-D", "--defined-only", exe], check=True, capture_output=True).stdout
    syms = {}
    for line in out.decode().splitlines():
        p = line.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    return syms


def prpsinfo(fname, psargs, pid=4242):
    d = bytearray(136)
    struct.pack_into("<I", d, 24, pid)
    d[40:40 + 15] = fname.encode()[:15].ljust(15, b"\0")
    d[56:56 + 80] = psargs.encode()[:79].ljust(80, b"\0")
    return bytes(d)


def nt_file(entries):
    """NT_FILE: count, page size, (start, end, page offset) each, names."""
    d = struct.pack("<QQ", len(entries), PAGE)
    d += b"".join(struct.pack("<QQQ", s, e, o) for s, e, o, _ in entries)
    return d + b"".join(n.encode() + b"\0" for _, _, _, n in entries)


def env_bytes(long_mode=True):
    """A CPUX86State's first fields: regs, eip, eflags, hflags (long mode
    active, or not), segs, ldt, tr, gdt, idt, cr[5]."""
    e = bytearray(0x200)
    for i, v in enumerate(MAGIC_REGS):
        struct.pack_into("<Q", e, 8 * i, v)
    struct.pack_into("<QQ", e, 128, RIP, RFLAGS)
    struct.pack_into("<I", e, 176, (1 << 14) if long_mode else 0)
    for s, (sel, flags) in enumerate([(0, 0), (0x10, 0xaf9b00), (0x18, 0xcf9300), (0, 0), (0, 0), (0, 0),
                                      (0, 0), (0x40, 0x8b00), (0, 0), (0, 0)]):
        struct.pack_into("<IIQII", e, 184 + 24 * s, sel, 0, 0x1000 * s, 0xffff if s >= 8 else 0xfffff, flags)
    struct.pack_into("<5Q", e, 424, 0x80050033, 0, 0, CR3, 0x6f0)
    return bytes(e)


def arm_env_bytes():
    """A CPUARMState's first fields: regs[16], xregs[32] (x31: sp), pc,
    pstate (EL1h), the aarch64 flag."""
    e = bytearray(0x200)
    for i in range(32):
        struct.pack_into("<Q", e, 64 + 8 * i, 0xa000 + i)
    struct.pack_into("<QI", e, 320, ARM_PC, 0x5)
    e[332] = 1
    return bytes(e)


ARM_PC = 0xffff800008123450


class Core:
    """What one synthetic core holds; main() and the cases change it."""

    def __init__(self, exe, raw, ram_size):
        self.exe, self.raw, self.ram_size = exe, raw, ram_size
        self.exe_path = exe
        self.fname, self.psargs = "qemu-system-x86", "qemu-system-x86_64 -m %d" % (ram_size >> 20)
        self.block_id, self.block_host, self.block_used = b"pc.ram", RAM, ram_size
        self.e820 = [(0, ram_size, 1)] if ram_size < 3 * GiB else [(0, 3 * GiB, 1), (4 * GiB, ram_size - 3 * GiB, 1)]
        self.cpus = True
        self.long_mode = True
        self.arm = False                # an aarch64 guest of qemu-system-aarch64 (virt)
        self.marker = None              # (block offset, page of bytes)
        self.extra_maps = []            # (start, end, flags): anonymous, zero
        self.ram_flags = 6
        self.anon_flags = 6             # of QEMU's globals and heap

    def heap(self, syms):
        h = bytearray(HEAP_SIZE)
        b = BLOCK - HEAP
        struct.pack_into("<QQQ", h, b + 24, self.block_host, 0, 0)
        struct.pack_into("<QQ", h, b + 48, self.block_used, self.block_used)
        h[b + 76:b + 76 + len(self.block_id)] = self.block_id
        struct.pack_into("<Q", h, b + 336, 0)
        for i, (a, n, t) in enumerate(self.e820):
            struct.pack_into("<QQI", h, E820 - HEAP + 20 * i, a, n, t)
        c = CPU - HEAP
        struct.pack_into("<Q", h, c + CPU_ENV_PTR, CPU + CPU_ENV)
        struct.pack_into("<QQ", h, c + CPU_LINK, 0, EXE_BASE + syms["cpus"])
        env = arm_env_bytes() if self.arm else env_bytes(self.long_mode)
        h[c + CPU_ENV:c + CPU_ENV + 0x200] = env
        return bytes(h)

    def globals_page(self, syms):
        lo = min(syms[s] for s in ("ram_list", "e820_table", "cpus")) & ~(PAGE - 1)
        hi = (max(syms[s] for s in ("ram_list", "e820_table", "cpus")) + 256 + PAGE - 1) & ~(PAGE - 1)
        g = bytearray(hi - lo)
        struct.pack_into("<Q", g, syms["ram_list"] - lo + 56, BLOCK)
        struct.pack_into("<Q", g, syms["e820_table"] - lo, E820)
        struct.pack_into("<Q", g, syms["cpus"] - lo, CPU if self.cpus else 0)
        return EXE_BASE + lo, bytes(g)

    def write(self, path):
        syms = dynamic_symbols(self.exe)
        with open(self.exe, "rb") as f:
            header = f.read(PAGE).ljust(PAGE, b"\0")
        gaddr, gbytes = self.globals_page(syms)
        # (vaddr, size, flags, bytes or a callable that writes them, file name)
        maps = [(EXE_BASE, PAGE, 4, header, self.exe_path), (gaddr, len(gbytes), self.anon_flags, gbytes, None),
                (HEAP, HEAP_SIZE, self.anon_flags, self.heap(syms), None)]
        maps += [(s, e - s, fl, b"", None) for s, e, fl in self.extra_maps]
        if self.ram_size:
            maps.append((RAM, self.ram_size, self.ram_flags, self.write_ram, None))
        maps.sort(key=lambda m: m[0])
        files = [(v, v + n, 0, name) for v, n, _, _, name in maps if name]
        notes = note("<", b"CORE", 3, prpsinfo(self.fname, self.psargs)) + note("<", b"CORE", 0x46494c45, nt_file(files))
        nph = 1 + len(maps)
        off = (64 + 56 * nph + len(notes) + PAGE - 1) // PAGE * PAGE
        eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
        eh += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, nph, 0, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 4, 0, 64 + 56 * nph, 0, 0, len(notes), len(notes), 0)
        with open(path, "wb") as f:
            for v, n, fl, data, _ in maps:
                ph += struct.pack("<IIQQQQQQ", 1, fl, off, v, 0, n, n, PAGE)
                if callable(data):
                    data(f, off)
                else:
                    f.seek(off)
                    f.write(data)
                off += n
            f.seek(0)
            f.write(eh + ph + notes)
            f.truncate(off)

    def write_ram(self, f, off):
        with open(self.raw, "rb") as src:
            pos = 0
            while pos < self.ram_size:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                if chunk.count(0) != len(chunk):
                    f.seek(off + pos)
                    f.write(chunk)
                pos += len(chunk)
        if self.marker:
            f.seek(off + self.marker[0])
            f.write(self.marker[1])


def cat(dumpfs, path, node):
    return subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=300)


def header(dumpfs, path):
    r = cat(dumpfs, path, "/header")
    if r.returncode:
        raise AssertionError("/header: exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:]))
    return r.stdout.decode()


def has(text, *words):
    for w in words:
        if w not in text:
            raise AssertionError("/header lacks %r" % w)


def mem_equal(dumpfs, path, raw, work, size):
    out = os.path.join(work, "core.mem")
    r = subprocess.run([dumpfs, "cat", "--sparse", "--output", out, path, "/mem"], capture_output=True, timeout=300)
    if r.returncode:
        raise AssertionError("cat /mem: %s" % r.stderr.decode(errors="replace")[-300:])
    try:
        with open(raw, "rb") as a, open(out, "rb") as b:
            off = 0
            while off < size:
                x, y = a.read(1 << 20), b.read(1 << 20)
                if VGA[0] < off + len(x) and off < VGA[1]:
                    lo, hi = VGA[0] - off, VGA[1] - off
                    if y[lo:hi] != bytes(hi - lo):
                        raise AssertionError("the VGA window is not a hole")
                    x, y = x[:lo] + x[hi:], y[:lo] + y[hi:]
                if x != y:
                    raise AssertionError("/mem differs from the sample's in the MiB at %#x" % off)
                off += 1 << 20
    finally:
        os.unlink(out)
    return "%d MiB as the sample's, the VGA window a hole" % (size >> 20)


def same_as_sample(dumpfs, path, sample, node):
    a, b = cat(dumpfs, path, node), cat(dumpfs, sample, node)
    if a.returncode or not a.stdout or a.stdout != b.stdout:
        raise AssertionError("%s: exit %d, %d bytes, the sample's %d" % (node, a.returncode, len(a.stdout), len(b.stdout)))
    return len(a.stdout)


def mounted(dumpfs, path, work, fn):
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
    try:
        return fn(mnt)
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)


def check_guest(dumpfs, core, sample, raw, work, size):
    msg = mem_equal(dumpfs, core, raw, work, size)
    n = [same_as_sample(dumpfs, core, sample, node) for node in ("/vmcoreinfo", "/dmesg")]
    has(header(dumpfs, core), "format: QEMU process core", "origin: the kernel's core dump",
        "guest_ram_origin: QEMU's RAM block \"pc.ram\" (ram_list)", "layout_origin: QEMU's e820 table",
        "arch: x86_64 (vCPU 0, in long mode)", "vmcoreinfo: yes (found in memory")
    pids = lambda p: mounted(dumpfs, p, work, lambda m: sorted(os.listdir(os.path.join(m, "tasks")), key=int))
    a, b = pids(core), pids(sample)
    if a != b or not a:
        raise AssertionError("/tasks %r, the sample's %r" % (a[:6], b[:6]))
    return "%s; /vmcoreinfo %d and /dmesg %d bytes as the sample's; %d tasks" % (msg, n[0], n[1], len(a))


def check_registers(dumpfs, core):
    has(header(dumpfs, core), "cpu_registers: 1 vCPUs from QEMU's cpus list (env at CPUState + 0x13b0)")
    pr = cat(dumpfs, core, "/cpus/0/prstatus").stdout
    qn = cat(dumpfs, core, "/cpus/0/qemu").stdout
    if len(pr) != 336 or len(qn) != 0x1b8:
        raise AssertionError("prstatus %d bytes, qemu note %d" % (len(pr), len(qn)))
    regs = struct.unpack_from("<27Q", pr, 112)
    want = {"rip": (regs[16], RIP), "rsp": (regs[19], MAGIC_REGS[4]), "rax": (regs[10], MAGIC_REGS[0]),
            "r15": (regs[0], MAGIC_REGS[15]), "cs": (regs[17], 0x10), "rflags": (regs[18], RFLAGS)}
    for k, (got, exp) in want.items():
        if got != exp:
            raise AssertionError("prstatus %s %#x, the CPUX86State's %#x" % (k, got, exp))
    if struct.unpack_from("<Q", qn, 392 + 24)[0] != CR3 or struct.unpack_from("<Q", qn, 8 + 8)[0] != MAGIC_REGS[3]:
        raise AssertionError("the QEMU note's cr3 or rbx is not the CPUX86State's")
    return "rip, rsp, rax, r15, cs, rflags, rbx and cr3 as in the CPUX86State"


def check_arm(dumpfs, work, raw, size):
    os.makedirs(os.path.join(work, "arm"), exist_ok=True)
    c = Core(build_exe(os.path.join(work, "arm"), "qemu-system-aarch64"), raw, size)
    c.arm, c.fname, c.block_id = True, "qemu-system-aar", b"mach-virt.ram"
    path = os.path.join(work, "arm.core")
    c.write(path)
    h = header(dumpfs, path)
    has(h, "arch: aarch64 (the QEMU binary's name)", "guest_ram_origin: QEMU's RAM block \"mach-virt.ram\"",
        "guest_layout: 0x40000000-%#x@0 " % (0x40000000 + size - 1), "layout_origin: QEMU virt's memory map",
        "cpu_registers: 1 vCPUs from QEMU's cpus list")
    pr = cat(dumpfs, path, "/cpus/0/prstatus").stdout
    regs = struct.unpack_from("<34Q", pr, 112) if len(pr) == 392 else ()
    if regs[:32] != tuple(0xa000 + i for i in range(32)) or regs[32] != ARM_PC or regs[33] != 5:
        raise AssertionError("aarch64 prstatus (%d bytes) is not the CPUARMState's registers" % len(pr))
    r = subprocess.run([dumpfs, "cat", "--offset", str(0x40000000 + 0x100000), "--length", str(PAGE), path, "/mem"],
                       capture_output=True, timeout=60)
    with open(raw, "rb") as f:
        f.seek(0x100000)
        if r.returncode or r.stdout != f.read(PAGE):
            raise AssertionError("guest physical 1 GiB + 1 MiB is not the block's byte 1 MiB")
    return "RAM from 1 GiB, x0-x30, sp, pc and pstate of the CPUARMState"


def check_host(dumpfs, core, work):
    def look(m):
        with open(os.path.join(m, "host/core"), "rb") as a, open(core, "rb") as b:
            if a.read(1 << 20) != b.read(1 << 20):
                raise AssertionError("/host/core is not the core file")
        maps = open(os.path.join(m, "host/maps")).read().splitlines()
        if not any(l.endswith("qemu-system-x86_64") and l.startswith("%012x-" % EXE_BASE) for l in maps):
            raise AssertionError("/host/maps does not name the executable: %r" % maps[:3])
        notes = sorted(os.listdir(os.path.join(m, "host/notes")))
        if notes != ["00-CORE-PRPSINFO", "01-CORE-FILE"]:
            raise AssertionError("/host/notes: %r" % notes)
        return "%d mappings, notes %s" % (len(maps) - 1, ", ".join(notes))
    return mounted(dumpfs, core, work, look)


def check_split(dumpfs, core, size, low, origin):
    """The block's byte @low (a marker page) is guest physical 4 GiB; guest
    physical [low, 4 GiB) is a hole."""
    h = header(dumpfs, core)
    has(h, origin)
    mem_size = int(h.split("mem_size: ")[1].split()[0])
    if mem_size != 4 * GiB + size - low:
        raise AssertionError("mem_size %d, expected %d" % (mem_size, 4 * GiB + size - low))
    r = subprocess.run([dumpfs, "cat", "--offset", str(4 * GiB), "--length", str(PAGE), core, "/mem"],
                       capture_output=True, timeout=60)
    if r.stdout != marker_page():
        raise AssertionError("guest physical 4 GiB is not the block's byte %#x (%r)" % (low, r.stdout[:16]))
    r = subprocess.run([dumpfs, "cat", "--offset", str(low), "--length", str(PAGE), core, "/mem"],
                       capture_output=True, timeout=60)
    if r.returncode or r.stdout != bytes(PAGE):
        raise AssertionError("guest physical %#x, above the RAM below 4 GiB, is not a hole" % low)
    return "RAM below 4 GiB %d MiB, guest 4 GiB = block offset %#x" % (low >> 20, low)


def marker_page():
    return (b"DUMPFS-HIGH-MARKER" * 256)[:PAGE]


def case_core(work, base, name, change):
    c = Core(base.exe, base.raw, base.ram_size)
    change(c)
    path = os.path.join(work, name + ".core")
    c.write(path)
    return path


def seeds(out):
    """Small cores under libFuzzer's 64 KiB: 24 KiB of RAM holding a
    VMCOREINFO note page.  The executables they name (x86_64 and aarch64
    QEMUs of our own) are kept beside the corpus, in OUT/../qemu-exe/, so
    that fuzzing right after reaches QEMU's lists (ram_list, e820_table,
    cpus) through their symbols; a replay where they are gone takes the
    guess path.  One seed names a path that is never there."""
    os.makedirs(out, exist_ok=True)
    exe_dir = os.path.join(os.path.dirname(os.path.abspath(out)), "qemu-exe")
    work = os.path.join(out, ".work")
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(exe_dir, "arm"), exist_ok=True)
    exe = build_exe(exe_dir)
    arm_exe = build_exe(os.path.join(exe_dir, "arm"), "qemu-system-aarch64")
    raw = os.path.join(work, "ram")
    vmci = b"OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\n"
    with open(raw, "wb") as f:
        f.write(bytes(PAGE) + note("<", b"VMCOREINFO", 0, vmci).ljust(PAGE, b"\0") + bytes(4 * PAGE))

    def arm(c):
        c.arm, c.fname, c.block_id, c.exe = True, "qemu-system-aar", b"mach-virt.ram", arm_exe
        c.exe_path = arm_exe
    for name, change in (("qemu-core", lambda c: None),
                         ("qemu-core-arm", arm),
                         ("qemu-core-noexe", lambda c: setattr(c, "exe_path", "/nonexistent/qemu-system-x86_64"))):
        c = Core(exe, raw, 6 * PAGE)
        change(c)
        c.write(os.path.join(out, name))
    shutil.rmtree(work)
    return 0


def main(dumpfs, sample, work):
    os.makedirs(work, exist_ok=True)
    raw = os.path.join(work, "sample.raw")
    subprocess.run([dumpfs, "cat", "--sparse", "--output", raw, sample, "/mem"], check=True,
                   capture_output=True, timeout=300)
    size = os.path.getsize(raw)
    exe = build_exe(work)
    os.makedirs(os.path.join(work, "other"), exist_ok=True)
    other = build_exe(os.path.join(work, "other"), build_id="0x" + "cd" * 20)
    base = Core(exe, raw, size)
    core = case_core(work, base, "guest", lambda c: None)
    big = Core(exe, raw, 4 * GiB + GiB // 2)

    def split_case(name, low, origin, change):
        c = Core(exe, raw, big.ram_size)
        c.marker = (low, marker_page())
        change(c)
        path = os.path.join(work, name + ".core")
        c.write(path)
        try:
            return check_split(dumpfs, path, c.ram_size, low, origin)
        finally:
            os.unlink(path)

    def truncated():
        path = case_core(work, base, "cut", lambda c: None)
        ram_off = os.path.getsize(path) - size
        cut = ram_off + 64 * (1 << 20)
        os.truncate(path, cut)
        has(header(dumpfs, path), "offset %d: the guest's RAM is cut short here: guest physical 0x4000000" % cut)
        r = subprocess.run([dumpfs, "cat", "--offset", str(0x1000000), "--length", str(PAGE), path, "/mem"],
                           capture_output=True, timeout=60)
        if r.returncode or len(r.stdout) != PAGE:
            raise AssertionError("a page before the cut does not read: %s" % r.stderr.decode()[-200:])
        return expect_read_failure(dumpfs, path, "/mem", "past the end of the file", work)

    def guessed(change, words):
        path = case_core(work, base, "guess", change)
        h = header(dumpfs, path)
        has(h, *words)
        return mem_equal(dumpfs, path, raw, work, size) + "; " + [l for l in h.splitlines() if "qemu_symbols" in l][0]

    noexe = lambda c: setattr(c, "exe_path", os.path.join(work, "gone", "qemu-system-x86_64"))
    cases = [
        ("guest", lambda: check_guest(dumpfs, core, sample, raw, work, size)),
        ("registers", lambda: check_registers(dumpfs, core)),
        ("32-bit", lambda: (has(header(dumpfs, case_core(work, base, "i386", lambda c: setattr(c, "long_mode", False))),
                                "arch: i386 (vCPU 0, not in long mode)", "cpu_registers: none: vCPU 0 is not in a 64-bit mode"),
                            "arch i386, no registers")[1]),
        ("aarch64", lambda: check_arm(dumpfs, work, raw, size)),
        ("host", lambda: check_host(dumpfs, core, work)),
        ("split-e820", lambda: split_case("split", 3 * GiB, "layout_origin: QEMU's e820 table", lambda c: None)),
        ("guess-i440fx", lambda: split_case("i440fx", 3 * GiB, "layout_origin: a guess: QEMU i440fx's default split", noexe)),
        ("guess-q35", lambda: split_case("q35", 2 * GiB, "layout_origin: a guess: QEMU q35's default split",
                                         lambda c: (noexe(c), setattr(c, "psargs", "qemu-system-x86_64 -M q35 -m 4608")))),
        ("no-exe", lambda: guessed(noexe, ["qemu_symbols: %s: No such file" % os.path.join(work, "gone", "qemu-system-x86_64"),
                                           "guest_ram_origin: a guess: the largest anonymous writable mapping"])),
        ("other-build", lambda: guessed(lambda c: setattr(c, "exe_path", other),
                                        ["is not the build the process ran (build IDs differ)", "layout_origin: a guess"])),
        ("bad-block", lambda: guessed(lambda c: setattr(c, "block_host", RAM + PAGE),
                                      ["does not read as QEMU's list of RAM blocks", "guest_ram_origin: a guess"])),
        ("bad-e820", lambda: guessed(lambda c: setattr(c, "e820", [(0, size // 2, 1), (4 * GiB, size // 4, 1)]),
                                     ["guest_ram_origin: QEMU's RAM block", "layout_origin: a guess"])),
        ("truncated", truncated),
        ("not-qemu", lambda: refused_at_open(dumpfs, case_core(work, base, "sleep", lambda c: setattr(c, "fname", "sleep")),
                                     "a core of process 4242 (sleep), not a QEMU process core")),
        ("target", lambda: refused_at_open(dumpfs, case_core(work, base, "ppc", lambda c: (
            setattr(c, "fname", "qemu-system-ppc"), setattr(c, "exe_path", "/usr/bin/qemu-system-ppc64"))),
            "a core of qemu-system-ppc64: dumpfs reads the guests of x86 PC machines")),
        ("overlap", lambda: refused_at_open(dumpfs, case_core(work, base, "overlap", lambda c: setattr(
            c, "extra_maps", [(RAM - PAGE, RAM + PAGE, 6)])), "overlaps the one before it")),
        ("no-ram", lambda: refused_at_open(dumpfs, case_core(work, base, "noram", lambda c: (
            setattr(c, "ram_size", 0), setattr(c, "anon_flags", 4), noexe(c))),
            "no mapping of the QEMU process holds guest RAM")),
    ]
    rc = run_cases(cases)
    shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2]))
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

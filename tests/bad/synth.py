"""synth.py - what the generated-dump tests of tests/bad/ share: an ELF
note, a one-segment ELF core around a memory image, and the case runner."""
import os
import struct
import subprocess

PAGE = 4096


def note(e, name, typ, desc):
    """One ELF note in byte order @e ("<" or ">")."""
    n = name + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)
    return struct.pack(e + "III", len(n), len(desc), typ) + pad(n) + pad(desc)


def write_elf(path, e, machine, notes, mem, vaddr=0):
    """An ELF64 core: one PT_NOTE with @notes, one PT_LOAD of all of @mem at
    physical 0 (and virtual @vaddr)."""
    nb = b"".join(notes)
    phoff, notes_off = 64, 64 + 2 * 56
    data_off = (notes_off + len(nb) + PAGE - 1) // PAGE * PAGE
    eh = b"\x7fELF" + bytes([2, 1 if e == "<" else 2, 1]) + bytes(9)
    eh += struct.pack(e + "HHIQQQIHHHHHH", 4, machine, 1, 0, phoff, 0, 0, 64, 56, 2, 0, 0, 0)
    ph = struct.pack(e + "IIQQQQQQ", 4, 0, notes_off, 0, 0, len(nb), len(nb), 0)
    ph += struct.pack(e + "IIQQQQQQ", 1, 7, data_off, vaddr, 0, len(mem), len(mem), 0)
    with open(path, "wb") as f:
        f.write(eh + ph + nb)
        f.seek(data_off)
        f.write(mem)


def run_cases(cases):
    """Run (name, fn) pairs: "ok: name[: what fn returned]" or "FAIL: name:
    why"; the exit status of the test."""
    failed = 0
    for name, fn in cases:
        try:
            msg = fn()
            print("ok: %s%s" % (name, ": " + msg if isinstance(msg, str) else ""))
        except (AssertionError, subprocess.SubprocessError, OSError) as e:
            print("FAIL: %s: %s" % (name, e))
            failed += 1
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def expect_read_failure(dumpfs, path, node, words, work):
    """`dumpfs cat PATH NODE` fails saying @words, and a read of NODE on a
    mount of @path fails with EIO."""
    r = subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0 or words not in err:
        raise AssertionError("exit %d, stderr %r; expected a failure saying %r" % (r.returncode, err[-300:], words))
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
    try:
        with open(os.path.join(mnt, node.lstrip("/")), "rb") as f:
            f.read()
        raise AssertionError("reading the mounted %s did not fail" % node)
    except OSError as e:
        if e.errno != 5:
            raise AssertionError("reading the mounted %s: %s, expected EIO" % (node, e))
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)


def refused_at_open(dumpfs, path, words):
    """`dumpfs info PATH` fails, naming PATH and saying @words; the message."""
    r = subprocess.run([dumpfs, "info", path], capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0 or words not in err or path not in err:
        raise AssertionError("exit %d, %r; expected a refusal saying %r" % (r.returncode, err[-300:], words))
    return err.strip()[:170]

#!/usr/bin/env python3
"""concurrency.py DUMPFS MKDUMP [MKDUMP OPTIONS...]

Mount a dump our writer made (with a small page cache, so that pages are
evicted and decompressed again all the time), read /mem and /vmcore.elf
once from start to end with one reader, then let 16 threads of this process
and 4 other processes read random ranges of both files (O_DIRECT, so that
the kernel's page cache does not answer for dumpfs) at once for
CONCURRENCY_SECONDS (default 20).  Every byte must equal the single-threaded
read, and /mem must equal what the writer put there (excluded pages zero).

With CONCURRENCY_OVER_HTTP=1, the dump is served by a real nginx
(tests/remote/nginx.py) and mounted by URL with a 4 MiB block cache, so
that the remote source's blocks, read-ahead and transfer thread are under
the same load.

Run under a ThreadSanitizer build of dumpfs (run-all.sh does, in
build-tsan), the daemon's reports go to $work/tsan.*, which fail the test.
Exit 77 (skip) without /dev/fuse.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

DUMPFS, MKDUMP = sys.argv[1:3]
MKDUMP_ARGS = sys.argv[3:] or ["--codec", "mixed", "--excluded", "--zero-pages",
                               "--ram", "0-2047,3000-4095"]
SECONDS = float(os.environ.get("CONCURRENCY_SECONDS", 20))
THREADS = 16
PROCESSES = 4
MAX_READ = 256 << 10
CACHE = "cache_size=256K"
OVER_HTTP = os.environ.get("CONCURRENCY_OVER_HTTP") == "1"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_whole(path):
    with open(path, "rb") as f:
        return f.read()


def random_reads(paths, refs, seconds, seed, counts):
    """Read random ranges (random offsets, lengths from 1 byte to 256 KiB,
    sometimes straddling the end) until the time is up; compare."""
    rng = random.Random(seed)
    # O_DIRECT: past the kernel's page cache (the files are opened with
    # keep_cache), so that every read reaches the daemon.
    fds = [os.open(p, os.O_RDONLY | os.O_DIRECT) for p in paths]
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            i = rng.randrange(len(paths))
            ref = refs[i]
            off = rng.randrange(len(ref) + 4096)
            n = rng.randrange(1, MAX_READ)
            got = os.pread(fds[i], n, off)
            if got != ref[off:off + n]:
                bad = next((k for k in range(min(len(got), len(ref) - off))
                            if got[k] != ref[off + k]), min(len(got), len(ref) - off))
                raise AssertionError("%s: read of %d at %d: %d bytes, first difference at %d" %
                                     (paths[i], n, off, len(got), off + bad))
            counts[0] += 1
            counts[1] += len(got)
    finally:
        for fd in fds:
            os.close(fd)


def worker_main(mnt, refdir, seconds, seed):
    """The body of one of the other processes: 1 thread, its own seed."""
    paths = [os.path.join(mnt, "mem"), os.path.join(mnt, "vmcore.elf")]
    refs = [read_whole(os.path.join(refdir, "mem")), read_whole(os.path.join(refdir, "elf"))]
    counts = [0, 0]
    try:
        random_reads(paths, refs, seconds, seed, counts)
    except AssertionError as e:
        print("FAIL: process %d: %s" % (seed, e))
        sys.exit(1)
    print("%d %d" % tuple(counts))


def mount(work, files, mnt):
    env = dict(os.environ)
    for var in ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env[var] = env.get(var, "") + ":log_path=%s/%s" % (work, var[:-8].lower())
    opts = CACHE + (",remote_cache=4M" if OVER_HTTP else "")
    daemon = subprocess.Popen([DUMPFS, "-f", "-o", opts, *files, mnt], env=env,
                              stderr=open(os.path.join(work, "daemon.err"), "w"))
    for _ in range(200):
        if os.path.ismount(mnt):
            return daemon
        if daemon.poll() is not None:
            fail("dumpfs exited with %d: %s" % (daemon.returncode,
                                                read_whole(os.path.join(work, "daemon.err"))))
        time.sleep(0.05)
    fail("the mount did not appear")


def stacks(pid):
    """The threads' stacks of a daemon that will not exit, for the log."""
    if not shutil.which("gdb"):
        return "(no gdb for the stacks)"
    r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 12"],
                       capture_output=True, text=True, timeout=120)
    return "\n".join(l for l in r.stdout.splitlines() if l.startswith(("#", "Thread")))


def unmount(mnt, daemon):
    subprocess.run(["fusermount3", "-u", mnt], check=True)
    try:
        rc = daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        print(stacks(daemon.pid))
        daemon.kill()
        fail("dumpfs did not exit after the unmount")
    if rc != 0:
        fail("dumpfs exited with %d after the unmount" % rc)


def sanitizer_reports(work):
    return [f for f in os.listdir(work) if f.startswith(("tsan", "asan", "ubsan"))]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(*sys.argv[2:4], float(sys.argv[4]), int(sys.argv[5]))
        return
    if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
        print("SKIP: no /dev/fuse or fusermount3")
        sys.exit(77)
    server = None
    if OVER_HTTP:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "remote"))
        import nginx
        if nginx.available():
            print("SKIP: %s" % nginx.available())
            sys.exit(77)
    work = tempfile.mkdtemp(prefix="dumpfs-conc.")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    daemon = None
    try:
        out = os.path.join(work, "d")
        subprocess.run([MKDUMP, *MKDUMP_ARGS, out], check=True, stdout=subprocess.DEVNULL)
        files = sorted((os.path.join(work, f) for f in os.listdir(work)
                        if f == "d" or (f.startswith("d.") and f[2:].isdigit())),
                       key=lambda p: (len(p), p))
        if OVER_HTTP:
            server = nginx.Nginx(work)
            server.__enter__()
            files = ["http://127.0.0.1:%d/%s" % (server.http_port, os.path.basename(f)) for f in files]
        daemon = mount(work, files, mnt)
        paths = [os.path.join(mnt, "mem"), os.path.join(mnt, "vmcore.elf")]
        refs = [read_whole(p) for p in paths]
        if refs[0] != read_whole(out + ".mem"):
            fail("/mem read by one reader differs from what the writer wrote")
        refdir = os.path.join(work, "ref")
        os.mkdir(refdir)
        for name, data in (("mem", refs[0]), ("elf", refs[1])):
            with open(os.path.join(refdir, name), "wb") as f:
                f.write(data)

        procs = [subprocess.Popen([sys.executable, __file__, "--worker", mnt, refdir,
                                   str(SECONDS), str(1000 + k)],
                                  stdout=subprocess.PIPE, text=True)
                 for k in range(PROCESSES)]
        counts = [[0, 0] for _ in range(THREADS)]
        errors = []

        def thread_main(k):
            try:
                random_reads(paths, refs, SECONDS, k, counts[k])
            except (AssertionError, OSError) as e:
                errors.append("thread %d: %s" % (k, e))

        threads = [threading.Thread(target=thread_main, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k, p in enumerate(procs):
            outp, _ = p.communicate(timeout=SECONDS + 120)
            if p.returncode != 0:
                errors.append("process %d: exit %d: %s" % (k, p.returncode, outp.strip()))
            else:
                r, b = outp.split()
                counts.append([int(r), int(b)])
        if errors:
            fail("; ".join(errors[:5]))
        reads = sum(c[0] for c in counts)
        nbytes = sum(c[1] for c in counts)
        unmount(mnt, daemon)
        daemon = None
        reports = sanitizer_reports(work)
        if reports:
            for r in reports:
                print(read_whole(os.path.join(work, r)).decode(errors="replace")[:4000])
            fail("sanitizer reports from the daemon: %s" % reports)
        print("ok: %d threads + %d processes, %.0f s: %d reads, %d MiB, all equal to the "
              "single-threaded read (/mem %d bytes, /vmcore.elf %d bytes)" %
              (THREADS, PROCESSES, SECONDS, reads, nbytes >> 20, len(refs[0]), len(refs[1])))
    finally:
        if daemon is not None:
            subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.send_signal(signal.SIGKILL)
        if server is not None:
            server.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

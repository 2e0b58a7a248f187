#!/usr/bin/env python3
"""remote.py DUMPFS MKDUMP SAMPLE WORKDIR

Dumps read in place (issue 14), against real servers on 127.0.0.1: nginx
(nginx.py) where nothing should go wrong, and our fixture (fixture.py)
where a fault must be injected or S3 spoken.  Every remote mount is
compared with the local mount of the same file: every file of the tree
(but /header, /header.json and /stats, which name the source, and the
per-process mem and core, which are views of /mem) must be byte-identical.

  nginx        the sample (kdump, zlib) over HTTP and HTTPS (-o ca_file=),
               a flattened dump, a three-part split set of URLs; https
               without the CA refused; info and cat on a URL; a 404; what
               a mount and a /dmesg read transfer (a small part of the dump)
  disk cache   -o cache_dir=: the second mount starts warm (only the first
               block fetched) and reads the same; a cached block damaged on
               disk is fetched again, never served
  faults       fixture.py: the next requests fail (503), 5% of requests
               fail (a whole /mem read with no EIO), connections dropped
               mid-body: all heal by retry; bodies cut short on every try,
               a dead server (bounded time, then EIO, then served again once
               it is back), a server that ignores Range (refused at open),
               a 403; the object replaced under the mount: reads of new
               ranges fail with EIO and say why, nothing read is a mix
  s3           fixture.py --s3: s3://BUCKET/KEY path-style with keys from
               the environment, with a session token, from a profile file;
               a presigned https URL; a wrong secret (SignatureDoesNotMatch),
               a missing key (NoSuchKey), SlowDown healed, ExpiredToken not
               retried

Exit 77 when nginx or openssl is missing.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bad"))
sys.dont_write_bytecode = True
import fixture  # noqa: E402
import nginx  # noqa: E402
from synth import run_cases  # noqa: E402

AK, SK, REGION = "AKIDREMOTETEST000001", "remote/test/secret+key/000000000000000", "eu-central-1"
SKIP_NAMES = {"header", "header.json", "stats"}
HOLD = 3.5      # after a request spends its tries, new ones fail at once for 3 s (fetch.c)


# ---- mounts -----------------------------------------------------------------

def stacks(pid):
    """The threads' stacks of a daemon that will not exit, for the log."""
    if not shutil.which("gdb"):
        return "(no gdb for the stacks)"
    r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 12"],
                       capture_output=True, text=True, timeout=120)
    return "\n".join(l for l in r.stdout.splitlines() if l.startswith(("#", "Thread")))


class Mount:
    """dumpfs -f NAME MNT [-o OPTS] in the background; its stderr (the log
    of read problems) kept in a file."""

    def __init__(self, dumpfs, names, mnt, opts=(), env=None):
        os.makedirs(mnt, exist_ok=True)
        self.mnt, self.log = mnt, mnt + ".log"
        args = [dumpfs, "-f", *names, mnt]
        if opts:
            args += ["-o", ",".join(opts)]
        self.err = open(self.log, "w+b")
        self.proc = subprocess.Popen(args, stderr=self.err, env=env)
        deadline = time.monotonic() + 60
        while not os.path.ismount(mnt):
            if self.proc.poll() is not None:
                raise AssertionError("mount of %s failed: %s" % (names[0], self.stderr()[-400:]))
            if time.monotonic() > deadline:
                self.close()
                raise AssertionError("mount of %s took over 60 s" % names[0])
            time.sleep(0.05)

    def path(self, node):
        return os.path.join(self.mnt, node.lstrip("/"))

    def read(self, node):
        with open(self.path(node), "rb") as f:
            return f.read()

    def stats(self):
        out = {}
        for line in self.read("/stats").decode().splitlines():
            k, _, v = line.partition(": ")
            out[k] = v
        return out

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        u = subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True, text=True)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            print(stacks(self.proc.pid))
            self.proc.kill()
            raise AssertionError("dumpfs did not exit after the unmount%s" %
                                 (" (fusermount3 -u: %s)" % u.stderr.strip() if u.returncode else ""))
        self.err.close()
        if self.proc.returncode:
            raise AssertionError("dumpfs exited %d: %s" % (self.proc.returncode, self.stderr()[-400:]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def tree_files(root):
    """The files of a mounted tree worth comparing, relative paths."""
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        for name in files:
            if rel == "." and name in SKIP_NAMES:
                continue
            if rel.startswith("tasks/") and name in ("mem", "core"):
                continue
            out.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(out)


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def outcome(path):
    """A file's digest, or the error reading it gives (a file the dump
    cannot serve must fail alike on both mounts)."""
    try:
        return digest(path)
    except OSError as e:
        return "errno %d" % e.errno


def same_tree(remote, local):
    """Every file of @local's tree is in @remote's with the same bytes."""
    files = tree_files(local.mnt)
    if tree_files(remote.mnt) != files:
        raise AssertionError("the trees list different files")
    for rel in files:
        want, got = outcome(local.path(rel)), outcome(remote.path(rel))
        if want != got:
            raise AssertionError("%s differs (%s, remote %s)" % (rel, want[:16], got[:16]))
    return len(files)


# ---- the cases ----------------------------------------------------------------

class Remote:
    def __init__(self, dumpfs, mkdump, sample, work):
        self.dumpfs, self.mkdump, self.sample, self.work = dumpfs, mkdump, sample, work
        self.root = os.path.join(work, "root")
        self.bucket = os.path.join(self.root, "bkt")
        os.makedirs(self.bucket, exist_ok=True)
        self.objects = {}
        self.place("sample.kdump", sample)
        self.generate("flat.kdump", "--flat", "--codec", "none", "--ram", "0-16383", "--excluded", "--zero-pages")
        self.generate("split.kdump", "--split", "3", "--excluded")
        self.generate("other.kdump", "--seed", "2", "--excluded")
        self.locals = {}

    def place(self, name, src):
        dst = os.path.join(self.bucket, name)
        shutil.copyfile(src, dst)
        self.objects[name] = dst

    def generate(self, name, *args):
        out = os.path.join(self.work, "gen", name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([self.mkdump, *args, out], check=True, capture_output=True, timeout=120)
        parts = sorted((p for p in os.listdir(os.path.dirname(out)) if p.startswith(name + ".")
                        and p[len(name) + 1:].isdigit()), key=lambda p: int(p.rsplit(".", 1)[1]))
        for p in parts or [name]:
            self.place(p, os.path.join(os.path.dirname(out), p))

    def mnt(self, name):
        return os.path.join(self.work, "mnt", name)

    def local(self, *names):
        return Mount(self.dumpfs, [self.objects[n] for n in names], self.mnt("local-" + names[0]))

    def compare(self, urls, names, opts=(), env=None):
        with self.local(*names) as loc, \
                Mount(self.dumpfs, urls, self.mnt("remote"), opts, env) as rem:
            n = same_tree(rem, loc)
            st = rem.stats()
            header = rem.read("/header").decode()
        return n, st, header

    def info(self, url, *opts, env=None):
        args = [self.dumpfs, "info", url] + (["-o", ",".join(opts)] if opts else [])
        return subprocess.run(args, capture_output=True, timeout=120, env=env)

    # -- nginx --

    def nginx_http(self, n):
        url = "http://127.0.0.1:%d/bkt/sample.kdump" % n.http_port
        files, st, header = self.compare([url], ["sample.kdump"])
        if "(HTTP, ETag \"" not in header:
            raise AssertionError("/header does not name the source: %r" % header[:300])
        return "%d files identical, %s requests, %s bytes" % (files, st["remote_requests"], st["remote_bytes"])

    def nginx_https(self, n):
        url = "https://127.0.0.1:%d/bkt/sample.kdump" % n.https_port
        files, st, _ = self.compare([url], ["sample.kdump"], ["ca_file=" + n.ca])
        r = self.info(url)
        err = r.stderr.decode()
        if r.returncode != 1 or url not in err or "certificate" not in err:
            raise AssertionError("https without the CA: exit %d, %r" % (r.returncode, err[-300:]))
        return "%d files identical; without the CA: %s" % (files, err.strip()[-90:])

    def nginx_flat(self, n):
        """A flattened dump: indexed by one full read, kept in the disk
        cache for the next mount; or from the sidecar beside it, then
        fetching a small part of it."""
        url = "http://127.0.0.1:%d/bkt/flat.kdump" % n.http_port
        cache = ["cache_dir=" + os.path.join(self.work, "flat-cache")]
        size = os.path.getsize(self.objects["flat.kdump"])
        files, st, header = self.compare([url], ["flat.kdump"], cache)
        if "flattened" not in header or "index: full read" not in header:
            raise AssertionError("/header: %r" % header[:400])
        with Mount(self.dumpfs, [url], self.mnt("flat-warm"), cache) as m:
            header = m.read("/header").decode()
        if "index.dfsidx" not in header:
            raise AssertionError("the second mount did not use the cached index: %r" % header[:400])
        sidecar = self.objects["flat.kdump"] + ".dfsidx"
        subprocess.run([self.dumpfs, "index", self.objects["flat.kdump"]], check=True, capture_output=True,
                       timeout=60)
        try:
            with Mount(self.dumpfs, [url], self.mnt("flat-sidecar")) as m:
                header = m.read("/header").decode()
                m.read("/vmcoreinfo")
                fetched = int(m.stats()["remote_bytes"])
        finally:
            os.unlink(sidecar)
        if url + ".dfsidx" not in header:
            raise AssertionError("the sidecar beside it was not used: %r" % header[:400])
        if fetched * 2 > size:
            raise AssertionError("with its sidecar, the mount fetched %d of %d bytes" % (fetched, size))
        return "%d files identical; index cached, then from %s.dfsidx: %d of %d bytes" % (
            files, url.rsplit("/", 1)[1], fetched, size)

    def nginx_split(self, n):
        names = ["split.kdump.%d" % i for i in (1, 2, 3)]
        urls = ["http://127.0.0.1:%d/bkt/%s" % (n.http_port, p) for p in names]
        files, _, _ = self.compare(urls, names)
        return "%d files identical from three URLs" % files

    def nginx_cat(self, n):
        url = "http://127.0.0.1:%d/bkt/sample.kdump" % n.http_port
        r = subprocess.run([self.dumpfs, "cat", url, "/vmcoreinfo"], capture_output=True, timeout=60)
        want = subprocess.run([self.dumpfs, "cat", self.objects["sample.kdump"], "/vmcoreinfo"],
                              capture_output=True, timeout=60).stdout
        if r.returncode or r.stdout != want or not want:
            raise AssertionError("cat /vmcoreinfo: exit %d %r" % (r.returncode, r.stderr[-200:]))
        missing = "http://127.0.0.1:%d/bkt/none.kdump" % n.http_port
        r = self.info(missing)
        err = r.stderr.decode()
        if r.returncode != 1 or missing not in err or "HTTP 404" not in err:
            raise AssertionError("404: exit %d, %r" % (r.returncode, err))
        return "cat equal; %s" % err.strip()

    def nginx_little(self, n):
        """A mount and /dmesg fetch a small part of the sample."""
        url = "http://127.0.0.1:%d/bkt/sample.kdump" % n.http_port
        size = os.path.getsize(self.objects["sample.kdump"])
        with Mount(self.dumpfs, [url], self.mnt("little")) as m:
            m.read("/dmesg")
            got = int(m.stats()["remote_bytes"])
        if got * 4 > size:
            raise AssertionError("mount and /dmesg fetched %d of %d bytes" % (got, size))
        return "mount + /dmesg fetched %d of %d bytes (%.1f%%)" % (got, size, 100.0 * got / size)

    # -- disk cache --

    def disk_cache(self, n):
        url = "http://127.0.0.1:%d/bkt/sample.kdump" % n.http_port
        cache = os.path.join(self.work, "cache")
        opts = ["cache_dir=" + cache]
        want = digest(self.local_mem())
        with Mount(self.dumpfs, [url], self.mnt("cold"), opts) as m:
            if digest(m.path("/mem")) != want:
                raise AssertionError("cold /mem differs")
            cold = int(m.stats()["remote_bytes"])
        with Mount(self.dumpfs, [url], self.mnt("warm"), opts) as m:
            if digest(m.path("/mem")) != want:
                raise AssertionError("warm /mem differs")
            st = m.stats()
        warm = int(st["remote_bytes"])
        if warm > 256 << 10 or int(st["disk_cache_hits"]) == 0:
            raise AssertionError("warm mount fetched %d bytes, %s disk hits" % (warm, st["disk_cache_hits"]))
        # damage one kept block: it must be fetched again, not served
        data = [os.path.join(d, "data") for d in (os.path.join(cache, x) for x in os.listdir(cache))]
        with open(data[0], "r+b") as f:
            f.seek(300 << 10)
            b = f.read(1)
            f.seek(300 << 10)
            f.write(bytes([b[0] ^ 0xff]))
        with Mount(self.dumpfs, [url], self.mnt("damaged"), opts) as m:
            if digest(m.path("/mem")) != want:
                raise AssertionError("/mem over a damaged cache differs")
            again = int(m.stats()["remote_bytes"])
        if again <= warm:
            raise AssertionError("the damaged block was not fetched again")
        return "cold %d bytes, warm %d, after damage %d" % (cold, warm, again)

    def local_mem(self):
        path = os.path.join(self.work, "sample.mem")
        if not os.path.exists(path):
            subprocess.run([self.dumpfs, "cat", "--output", path, self.objects["sample.kdump"], "/mem"],
                           check=True, timeout=120)
        return path

    # -- faults (fixture, HTTP) --

    def url(self, fx, name="sample.kdump"):
        return "http://127.0.0.1:%d/bkt/%s" % (fx.port, name)

    def heals(self, fx, faults, what, rounds=1):
        """Under @faults, /mem (@rounds times, through a small cache so
        that each round fetches again) reads the local bytes, and every
        fault the fixture injected was one retry."""
        fx.reset()
        want = digest(self.local_mem())
        with Mount(self.dumpfs, [self.url(fx)], self.mnt("heal"), ["timeout=5", "remote_cache=4M"]) as m:
            fx.fault(**faults)
            for _ in range(rounds):
                if digest(m.path("/mem")) != want:
                    raise AssertionError("/mem differs under %s" % what)
            st = m.stats()
        failed = sum(n for code, n in fx.stats()["status"].items() if code not in ("200", "206"))
        retries = int(st["remote_retries"])
        if int(st["remote_failures"]) or "problem" in m.stderr():
            raise AssertionError("a read failed under %s: %s" % (what, m.stderr()[-300:]))
        if not retries or retries < failed:
            raise AssertionError("%d retries for %d injected failures" % (retries, failed))
        return "%s requests, %d failed, %d retries, no read failed" % (st["remote_requests"], failed, retries)

    def fail_first(self, fx):
        return self.heals(fx, {"fail_first": 3, "fail_codes": [503, 500, 429]}, "fail_first")

    def fail_rate(self, fx):
        return self.heals(fx, {"fail_rate": 0.05}, "5% failing", rounds=4)

    def drop(self, fx):
        """Connections closed mid-body: a retry asks only for the rest."""
        return self.heals(fx, {"drop_after": 3 << 20}, "drop_after")

    def cut_bodies(self, fx):
        fx.reset()
        with Mount(self.dumpfs, [self.url(fx)], self.mnt("cut"), ["retries=2", "timeout=5"]) as m:
            fx.fault(truncate=1000)
            t = time.monotonic()
            try:
                m.read("/mem")
                raise AssertionError("/mem read whole while every body is cut")
            except OSError as e:
                if e.errno != 5:
                    raise AssertionError("expected EIO, got %s" % e)
            took = time.monotonic() - t
            fx.fault(truncate=None)
            time.sleep(HOLD)        # the source holds off a failing server
            if digest(m.path("/mem")) != digest(self.local_mem()):
                raise AssertionError("/mem differs once bodies are whole again")
            st = m.stats()
        if "body cut short" not in st.get("remote_last_error", ""):
            raise AssertionError("/stats does not say why: %r" % st)
        return "EIO after %.1f s (%s); then whole" % (took, st["remote_last_error"][-70:])

    def dead(self, fx):
        fx.reset()
        with Mount(self.dumpfs, [self.url(fx)], self.mnt("dead"), ["retries=1", "timeout=2"]) as m:
            fx.fault(dead=True)
            t = time.monotonic()
            try:
                m.read("/mem")
                raise AssertionError("a read from a dead server succeeded")
            except OSError as e:
                if e.errno != 5:
                    raise AssertionError("expected EIO, got %s" % e)
            took = time.monotonic() - t
            fx.fault(dead=None)
            time.sleep(HOLD)
            if digest(m.path("/mem")) != digest(self.local_mem()):
                raise AssertionError("/mem differs once the server is back")
        if took > 20:
            raise AssertionError("the read took %.1f s" % took)
        fx.fault(dead=True)
        t = time.monotonic()
        r = self.info(self.url(fx), "retries=1", "timeout=2")
        took_open = time.monotonic() - t
        fx.fault(dead=None)
        if r.returncode != 1 or b"too slow" not in r.stderr and b"timed out" not in r.stderr:
            raise AssertionError("open of a dead server: %r" % r.stderr[-200:])
        return "EIO after %.1f s, open refused after %.1f s, served again" % (took, took_open)

    def ignore_range(self, fx):
        """Refused at the first bytes of the 200: what the fixture could
        write is bounded by the sockets' buffers (a few MiB on loopback),
        far below the 53 MB object."""
        fx.reset()
        fx.fault(ignore_range=True)
        r = self.info(self.url(fx, "flat.kdump"))
        err = r.stderr.decode()
        sent = fx.stats()["bytes_sent"]
        size = os.path.getsize(self.objects["flat.kdump"])
        if r.returncode != 1 or "whole object (200)" not in err:
            raise AssertionError("exit %d, %r" % (r.returncode, err))
        if sent * 4 > size:
            raise AssertionError("%d of %d bytes were sent before the refusal" % (sent, size))
        return "%d of %d bytes sent; %s" % (sent, size, err.strip()[-60:])

    def forbidden(self, fx):
        fx.reset()
        fx.fault(status={"bkt/sample.kdump": 403})
        r = self.info(self.url(fx))
        n = fx.stats()["requests"]
        if r.returncode != 1 or b"HTTP 403" not in r.stderr or n != 1:
            raise AssertionError("exit %d, %d requests, %r" % (r.returncode, n, r.stderr))
        return "one request, %s" % r.stderr.decode().strip()[-60:]

    def replaced(self, fx):
        fx.reset()
        obj = os.path.join(self.work, "replaced.kdump")
        shutil.copyfile(self.objects["sample.kdump"], os.path.join(self.bucket, "replaced.kdump"))
        shutil.copyfile(self.objects["other.kdump"], obj)
        old_mem = open(self.local_mem(), "rb").read()
        with Mount(self.dumpfs, [self.url(fx, "replaced.kdump")], self.mnt("replaced")) as m:
            with open(m.path("/mem"), "rb") as f:
                first = f.read(1 << 20)
            fx.fault(replace="bkt/replaced.kdump:" + obj)
            bad = 0
            with open(m.path("/mem"), "rb") as f:
                for off in range(0, len(old_mem), 8 << 20):
                    try:
                        f.seek(off)
                        b = f.read(1 << 20)
                        if b != old_mem[off:off + len(b)]:
                            raise AssertionError("bytes at %#x are not the old object's" % off)
                    except OSError as e:
                        if e.errno != 5:
                            raise
                        bad += 1
            st = m.stats()
        if first != old_mem[:len(first)] or not bad:
            raise AssertionError("no read failed after the object was replaced")
        if "changed under the mount" not in st.get("remote_last_error", ""):
            raise AssertionError("/stats does not say why: %r" % st.get("remote_last_error"))
        return "%d reads EIO, the others the old bytes: %s" % (bad, st["remote_last_error"][-60:])

    # -- S3 --

    def s3_env(self, **extra):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_REGION=REGION,
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/nonexistent",
                   AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def s3_opts(self, fx):
        return ["s3_endpoint=http://127.0.0.1:%d" % fx.port]

    def s3_keys(self, fx, fxt):
        fx.reset()
        files, st, header = self.compare(["s3://bkt/sample.kdump"], ["sample.kdump"], self.s3_opts(fx),
                                         self.s3_env())
        if "credentials from environment" not in header:
            raise AssertionError("/header: %r" % header[:400])
        # with a session token: the token fixture
        files, _, _ = self.compare(["s3://bkt/flat.kdump"], ["flat.kdump"], self.s3_opts(fxt),
                                   self.s3_env(AWS_SESSION_TOKEN="session-token-for-tests"))
        return "%s requests, all signed and accepted; with a token too" % st["remote_requests"]

    def s3_profile(self, fx):
        fx.reset()
        creds = os.path.join(self.work, "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n"
                    "[dumps]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (AK, SK))
        env = self.s3_env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                          AWS_SHARED_CREDENTIALS_FILE=creds)
        r = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx), "aws_profile=dumps", env=env)
        if r.returncode or b"credentials from profile dumps" not in r.stdout:
            raise AssertionError("exit %d, %r %r" % (r.returncode, r.stdout[:300], r.stderr[-300:]))
        r = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx), env=env)
        if r.returncode != 1 or b"SignatureDoesNotMatch" not in r.stderr and b"InvalidAccessKeyId" not in r.stderr:
            raise AssertionError("the default profile's keys: exit %d %r" % (r.returncode, r.stderr))
        return "profile dumps accepted; default refused: %s" % r.stderr.decode().strip()[-60:]

    def s3_refusals(self, fx):
        fx.reset()
        r = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx),
                      env=self.s3_env(AWS_SECRET_ACCESS_KEY="wrong"))
        n = fx.stats()["requests"]
        if r.returncode != 1 or b"SignatureDoesNotMatch" not in r.stderr or n != 1:
            raise AssertionError("wrong secret: exit %d, %d requests, %r" % (r.returncode, n, r.stderr))
        r2 = self.info("s3://bkt/none.kdump", *self.s3_opts(fx), env=self.s3_env())
        if r2.returncode != 1 or b"NoSuchKey" not in r2.stderr:
            raise AssertionError("missing key: %r" % r2.stderr)
        r3 = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx),
                       env=self.s3_env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None))
        if r3.returncode != 1 or b"no AWS credentials" not in r3.stderr:
            raise AssertionError("no credentials: %r" % r3.stderr)
        fx.reset()
        fx.fault(expired_token=True)
        r4 = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx), env=self.s3_env())
        n = fx.stats()["requests"]
        if r4.returncode != 1 or b"ExpiredToken" not in r4.stderr or n != 1:
            raise AssertionError("expired token: %d requests, %r" % (n, r4.stderr))
        return "; ".join(x.stderr.decode().strip()[-50:] for x in (r, r2, r3, r4))

    def s3_slowdown(self, fx):
        fx.reset()
        fx.fault(fail_first=4, fail_codes=[503, 500, 400])
        r = self.info("s3://bkt/sample.kdump", *self.s3_opts(fx), env=self.s3_env())
        st = fx.stats()
        if r.returncode or st["status"].get("200", 0) + st["status"].get("206", 0) == 0:
            raise AssertionError("exit %d %r %r" % (r.returncode, r.stderr[-300:], st["status"]))
        return "healed after %s" % st["status"]

    def s3_presigned(self, fx):
        fx.reset()
        host = "127.0.0.1:%d" % fx.port
        query = fixture.presign("GET", host, "/bkt/sample.kdump", AK, SK, 600, region=REGION)
        url = "http://%s/bkt/sample.kdump?%s" % (host, query)
        files, st, _ = self.compare([url], ["sample.kdump"])
        expired = "http://%s/bkt/sample.kdump?%s" % (
            host, fixture.presign("GET", host, "/bkt/sample.kdump", AK, SK, 1, region=REGION,
                                  now=time.time() - 100))
        r = self.info(expired)
        if r.returncode != 1 or b"HTTP 403" not in r.stderr:
            raise AssertionError("expired presigned URL: %r" % r.stderr)
        return "%d files identical; expired: %s" % (files, r.stderr.decode().strip()[-50:])


def main(dumpfs, mkdump, sample, work):
    why = nginx.available()
    if why:
        print("skip: %s" % why)
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t = Remote(dumpfs, mkdump, sample, work)
    with nginx.Nginx(t.root) as n:
        fx = fixture.FixtureProcess(t.root, "--seed", "5")
        s3 = fixture.FixtureProcess(t.root, "--s3", "--access-key", AK, "--secret-key", SK, "--region", REGION)
        s3t = fixture.FixtureProcess(t.root, "--s3", "--access-key", AK, "--secret-key", SK, "--region", REGION,
                                     "--session-token", "session-token-for-tests")
        try:
            rc = run_cases([
                ("nginx http", lambda: t.nginx_http(n)),
                ("nginx https", lambda: t.nginx_https(n)),
                ("nginx flattened", lambda: t.nginx_flat(n)),
                ("nginx split set", lambda: t.nginx_split(n)),
                ("nginx info, cat, 404", lambda: t.nginx_cat(n)),
                ("nginx fetches little", lambda: t.nginx_little(n)),
                ("disk cache", lambda: t.disk_cache(n)),
                ("503s then success", lambda: t.fail_first(fx)),
                ("5% of requests fail", lambda: t.fail_rate(fx)),
                ("connections dropped", lambda: t.drop(fx)),
                ("bodies cut short", lambda: t.cut_bodies(fx)),
                ("dead server", lambda: t.dead(fx)),
                ("Range ignored", lambda: t.ignore_range(fx)),
                ("403", lambda: t.forbidden(fx)),
                ("object replaced", lambda: t.replaced(fx)),
                ("s3 keys", lambda: t.s3_keys(s3, s3t)),
                ("s3 profile", lambda: t.s3_profile(s3)),
                ("s3 refusals", lambda: t.s3_refusals(s3)),
                ("s3 SlowDown", lambda: t.s3_slowdown(s3)),
                ("s3 presigned", lambda: t.s3_presigned(s3)),
            ])
        finally:
            for f in (fx, s3, s3t):
                f.stop()
    if rc == 0:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

#!/usr/bin/env python3
"""Self-tests of the remote tests' servers: fixture.py (faults, S3, SigV4)
and nginx.py (a real nginx over HTTP and HTTPS).

    python3 tests/remote/test_fixture.py [-v] [unittest names...]

Exit 0 when all pass, 1 on a failure, 77 (meson's skip) when everything that
could run passed but nginx or openssl is missing, so nginx.py went untested.
The clients are Python's http.client and the curl CLI; curl --aws-sigv4 is a
SigV4 signer written by others, so the verifier is not only checked against
this file's own signer.  Object contents are random per run: every expected
body is a slice of what was written, never a constant.
"""

import calendar
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True      # no __pycache__ left in the source tree
import fixture  # noqa: E402
import nginx    # noqa: E402

CURL = shutil.which("curl")
AK, SK, REGION = "AKIDFIXTURETEST00001", "fixture/secret+key/for/tests0000000000000", "eu-west-3"


def curl(*args, timeout=20):
    """Run curl; (exit code, body bytes, headers text)."""
    with tempfile.NamedTemporaryFile() as hdr:
        p = subprocess.run([CURL, "-s", "-S", "-D", hdr.name, *args], capture_output=True,
                           timeout=timeout)
        with open(hdr.name, errors="replace") as f:
            return p.returncode, p.stdout, f.read()


def request(conn, path, headers=None, method="GET"):
    conn.request(method, path, headers=headers or {})
    r = conn.getresponse()
    return r, r.read()


def make_root():
    """A root with a bucket of random objects; returns (dir, {relpath: bytes})."""
    root = tempfile.mkdtemp(prefix="fixture-root-")
    os.mkdir(os.path.join(root, "bkt"))
    objects = {"bkt/vmcore": os.urandom(300_000), "bkt/small": os.urandom(1000),
               "bkt/dir/with space+plus": os.urandom(5000), "bkt/empty": b""}
    for rel, data in objects.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    return root, objects


# ---------------------------------------------------------------------------

class SigV4Unit(unittest.TestCase):
    """The verifier against AWS's own documented examples, no server."""

    EX = {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key":
          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "us-east-1", "session_token": None}
    NOW = calendar.timegm((2013, 5, 24, 0, 0, 0))
    HOST = "examplebucket.s3.amazonaws.com"

    def example_headers(self, **change):
        # AWS S3 API reference, "Signature Calculations for the Authorization
        # Header", example GET Object: the published signature is f0e8bdb8...
        h = {"Host": self.HOST, "Range": "bytes=0-9", "x-amz-content-sha256": fixture.EMPTY_SHA256,
             "x-amz-date": "20130524T000000Z"}
        h.update(change)
        auth = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature="
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        return list(h.items()) + [("Authorization", auth)]

    def test_aws_get_object_example_verifies(self):
        self.assertEqual(fixture.verify_sigv4("GET", "/test.txt", "", self.example_headers(),
                                              self.EX, now=self.NOW), "AKIAIOSFODNN7EXAMPLE")

    def test_aws_example_tampered_fails(self):
        for change in ({"Range": "bytes=0-10"}, {"Host": "otherbucket.s3.amazonaws.com"},
                       {"x-amz-content-sha256": fixture.UNSIGNED}):
            with self.assertRaises(fixture.S3Error) as e:
                fixture.verify_sigv4("GET", "/test.txt", "", self.example_headers(**change),
                                     self.EX, now=self.NOW)
            self.assertEqual(e.exception.code, "SignatureDoesNotMatch", change)
            self.assertIn("CanonicalRequest", e.exception.extra)
        with self.assertRaises(fixture.S3Error) as e:   # another object, same headers
            fixture.verify_sigv4("GET", "/test.txt2", "", self.example_headers(), self.EX, now=self.NOW)
        self.assertEqual(e.exception.code, "SignatureDoesNotMatch")
        wrong = dict(self.EX, secret_key=self.EX["secret_key"][:-1] + "X")
        with self.assertRaises(fixture.S3Error) as e:
            fixture.verify_sigv4("GET", "/test.txt", "", self.example_headers(), wrong, now=self.NOW)
        self.assertEqual(e.exception.code, "SignatureDoesNotMatch")

    def test_aws_example_too_old(self):
        with self.assertRaises(fixture.S3Error) as e:
            fixture.verify_sigv4("GET", "/test.txt", "", self.example_headers(), self.EX,
                                 now=self.NOW + 16 * 60)
        self.assertEqual(e.exception.code, "RequestTimeTooSkewed")

    def test_aws_presigned_example(self):
        # AWS S3 API reference, "Authenticating Requests: Using Query
        # Parameters": the example URL's published signature is aeeed9bb...
        q = fixture.presign("GET", self.HOST, "/test.txt", self.EX["access_key"],
                            self.EX["secret_key"], 86400, now=self.NOW)
        self.assertIn("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", q)
        hdr = [("Host", self.HOST)]
        fixture.verify_sigv4("GET", "/test.txt", q, hdr, self.EX, now=self.NOW + 86400)
        with self.assertRaises(fixture.S3Error) as e:
            fixture.verify_sigv4("GET", "/test.txt", q, hdr, self.EX, now=self.NOW + 86401)
        self.assertEqual((e.exception.code, e.exception.message), ("AccessDenied", "Request has expired"))
        with self.assertRaises(fixture.S3Error) as e:
            fixture.verify_sigv4("GET", "/test.txt", q.replace("86400", "86401"), hdr, self.EX, now=self.NOW)
        self.assertEqual(e.exception.code, "SignatureDoesNotMatch")

    def test_session_token(self):
        creds = dict(self.EX, session_token="TOKEN/abc=")
        host = "b.example"

        def verify(token):
            h = fixture.sign_headers("GET", host, "/k", {}, creds["access_key"], creds["secret_key"],
                                     session_token=token, now=self.NOW)
            return fixture.verify_sigv4("GET", "/k", "", [("Host", host)] + list(h.items()),
                                        creds, now=self.NOW)
        verify("TOKEN/abc=")
        for token, code in ((None, "InvalidAccessKeyId"), ("TOKEN/abd=", "InvalidToken")):
            with self.assertRaises(fixture.S3Error) as e:
                verify(token)
            self.assertEqual(e.exception.code, code)

    def test_canonical_uri_encodes_each_segment_once(self):
        self.assertEqual(fixture.canonical_uri("/b/dir/with%20space%2Bplus"), "/b/dir/with%20space%2Bplus")
        self.assertEqual(fixture.canonical_uri("/b/a~b_c-d.e/f"), "/b/a~b_c-d.e/f")
        self.assertEqual(fixture.canonical_query(fixture.parse_query("b=2&a=%2F&a=1")), "a=%2F&a=1&b=2")


# ---------------------------------------------------------------------------

class FixtureCase(unittest.TestCase):
    """One fixture.py (started with ARGS) for a class; faults and stats reset
    before each test."""

    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.root, cls.objects = make_root()
        cls.data = cls.objects["bkt/vmcore"]
        cls.fx = fixture.FixtureProcess(cls.root, *cls.ARGS)
        cls.host = f"127.0.0.1:{cls.fx.port}"

    @classmethod
    def tearDownClass(cls):
        code = cls.fx.stop()
        shutil.rmtree(cls.root, ignore_errors=True)
        if code != 0:
            raise AssertionError(f"fixture.py exited {code} on SIGTERM")

    def setUp(self):
        self.fx.reset()


class FixtureHTTP(FixtureCase):
    """Plain HTTP mode: ranges, validators and every fault."""

    ARGS = ("--seed", "7")

    def get(self, path="/bkt/vmcore", headers=None, method="GET", timeout=10):
        c = self.fx.conn(timeout)
        try:
            return request(c, path, headers, method)
        finally:
            c.close()

    def test_ranges_keep_alive(self):
        size, c = len(self.data), self.fx.conn()
        cases = [("bytes=10-19", 10, 19), ("bytes=299990-", 299990, size - 1),
                 ("bytes=-7", size - 7, size - 1), ("bytes=100-999999", 100, size - 1),
                 ("bytes=0-0", 0, 0)]
        for rng, a, b in cases:
            r, body = request(c, "/bkt/vmcore", {"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.getheader("Content-Range"), f"bytes {a}-{b}/{size}")
            self.assertEqual(body, self.data[a:b + 1])
            self.assertEqual(r.getheader("Accept-Ranges"), "bytes")
            self.assertRegex(r.getheader("ETag"), r'^"[0-9a-f]+"$')
            self.assertTrue(r.getheader("Last-Modified").endswith("GMT"))
        r, body = request(c, "/bkt/vmcore")
        self.assertEqual((r.status, body), (200, self.data))
        c.close()
        s = self.fx.stats()
        self.assertEqual(s["connections"], 1, "all requests should share one keep-alive connection")
        self.assertEqual(s["bytes_sent"], sum(b - a + 1 for _, a, b in cases) + size)
        self.assertEqual(s["requested"], [["/bkt/vmcore", rng] for rng, _, _ in cases] +
                         [["/bkt/vmcore", None]])
        self.assertEqual(s["status"], {"206": len(cases), "200": 1})

    def test_unsatisfiable_416(self):
        size = len(self.data)
        for rng in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
            r, _ = self.get(headers={"Range": rng})
            self.assertEqual(r.status, 416, rng)
            self.assertEqual(r.getheader("Content-Range"), f"bytes */{size}")
        r, _ = self.get("/bkt/empty", {"Range": "bytes=0-"})
        self.assertEqual((r.status, r.getheader("Content-Range")), (416, "bytes */0"))

    def test_ignorable_range_headers_give_200(self):
        for rng in ("bytes=9-2", "items=0-1", "bytes=0-1,5-6", "bytes=x"):
            r, body = self.get("/bkt/small", {"Range": rng})
            self.assertEqual((r.status, body), (200, self.objects["bkt/small"]), rng)

    def test_head(self):
        c = self.fx.conn()
        r, body = request(c, "/bkt/vmcore", {"Range": "bytes=5-9"}, "HEAD")
        self.assertEqual((r.status, body, r.getheader("Content-Length")), (206, b"", "5"))
        r, body = request(c, "/bkt/small", method="HEAD")  # the connection is still in step
        self.assertEqual((r.status, r.getheader("Content-Length")), (200, "1000"))
        c.close()

    def test_not_found_and_escape(self):
        for path in ("/bkt/nope", "/bkt", "/../../etc/passwd", "/bkt/%2e%2e/%2e%2e/etc/passwd"):
            r, _ = self.get(path)
            self.assertEqual(r.status, 404, path)
        r, body = self.get("/bkt/dir/with%20space%2Bplus")
        self.assertEqual((r.status, body), (200, self.objects["bkt/dir/with space+plus"]))

    def test_preconditions(self):
        r, _ = self.get(method="HEAD")
        etag, modified = r.getheader("ETag"), r.getheader("Last-Modified")
        r, body = self.get(headers={"Range": "bytes=0-3", "If-Match": etag})
        self.assertEqual((r.status, body), (206, self.data[:4]))
        r, _ = self.get(headers={"Range": "bytes=0-3", "If-Match": '"0000"'})
        self.assertEqual(r.status, 412)
        r, _ = self.get(headers={"If-Unmodified-Since": modified})
        self.assertEqual(r.status, 200)
        r, _ = self.get(headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        self.assertEqual(r.status, 412)

    def test_fail_first_then_retry(self):
        self.fx.fault(fail_first=2)
        statuses = [self.get(headers={"Range": "bytes=0-9"})[0].status for _ in range(3)]
        self.assertEqual(statuses, [503, 503, 206])
        # curl's own retry of a transient error gets through the same fault.
        self.fx.fault(fail_first=2, fail_codes=[500])
        rc, body, hdr = curl("-f", "--retry", "3", "--retry-delay", "0", "-r", "0-99",
                             f"http://127.0.0.1:{self.fx.port}/bkt/vmcore")
        self.assertEqual((rc, body), (0, self.data[:100]))
        self.assertEqual(self.fx.stats()["status"], {"503": 2, "206": 2, "500": 2})

    def test_fail_codes(self):
        for code in (500, 503, 408, 429, 400):
            self.fx.fault(fail_first=1, fail_codes=[code])
            r, _ = self.get()
            self.assertEqual(r.status, code)
            if code == 408:
                self.assertEqual(r.getheader("Connection"), "close")
        status, out = self.fx.control("fault", {"fail_codes": [404]})
        self.assertEqual(status, 400, out)

    def test_fail_rate_is_seeded(self):
        def run():
            self.fx.reset()                # reset re-seeds the generator
            self.fx.fault(fail_rate=0.5)
            c = self.fx.conn()
            seq = [request(c, "/bkt/small")[0].status for _ in range(40)]
            c.close()
            return seq
        first = run()
        self.assertTrue(5 <= first.count(503) <= 35, first)
        self.assertEqual(set(first), {200, 503})
        self.assertEqual(run(), first)

    def test_status_per_path(self):
        self.fx.fault(status={"bkt/vmcore": 403, "bkt/small": 404})
        self.assertEqual(self.get()[0].status, 403)
        self.assertEqual(self.get("/bkt/small")[0].status, 404)
        self.assertEqual(self.get("/bkt/empty")[0].status, 200)
        self.fx.fault(status=None)
        self.assertEqual(self.get()[0].status, 200)

    def test_truncate(self):
        self.fx.fault(truncate=100)
        c = self.fx.conn()
        c.request("GET", "/bkt/vmcore", headers={"Range": "bytes=1000-1999"})
        r = c.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Length")), (206, "1000"))
        with self.assertRaises(http.client.IncompleteRead) as e:
            r.read()
        self.assertEqual(e.exception.partial, self.data[1000:1100])
        c.close()
        rc, body, _ = curl("-r", "0-999", f"http://127.0.0.1:{self.fx.port}/bkt/vmcore")
        self.assertEqual((rc, body), (18, self.data[:100]))     # 18: partial file

    def test_drop_after(self):
        # Cut inside the first response's headers: no valid response at all.
        self.fx.fault(drop_after=10)
        with self.assertRaises((http.client.BadStatusLine, ConnectionError)):
            self.get()
        rc, body, _ = curl(f"http://127.0.0.1:{self.fx.port}/bkt/small")
        self.assertNotEqual(rc, 0)
        # Cut counted over a keep-alive connection: the first range arrives
        # whole, the second stops short.
        self.fx.fault(drop_after=1600)
        c = self.fx.conn()
        r, body = request(c, "/bkt/vmcore", {"Range": "bytes=0-999"})
        self.assertEqual(body, self.data[:1000])
        c.request("GET", "/bkt/vmcore", headers={"Range": "bytes=1000-1999"})
        r = c.getresponse()
        with self.assertRaises(http.client.IncompleteRead) as e:
            r.read()
        self.assertLess(len(e.exception.partial), 1000)
        c.close()

    def test_ignore_range(self):
        self.fx.fault(ignore_range=True)
        r, body = self.get(headers={"Range": "bytes=10-19"})
        self.assertEqual((r.status, r.getheader("Content-Range"), body), (200, None, self.data))
        rc, body, hdr = curl("-r", "10-19", f"http://127.0.0.1:{self.fx.port}/bkt/vmcore")
        self.assertEqual((rc, len(body)), (0, len(self.data)))
        self.assertIn("HTTP/1.1 200", hdr)

    def test_dead(self):
        self.fx.fault(dead=True)
        t = time.monotonic()
        with self.assertRaises(socket.timeout):
            self.get(timeout=2)
        self.assertGreaterEqual(time.monotonic() - t, 1.9)
        t = time.monotonic()
        rc, body, _ = curl("-m", "2", f"http://127.0.0.1:{self.fx.port}/bkt/small")
        self.assertEqual((rc, body), (28, b""))                 # 28: timed out
        self.assertLess(time.monotonic() - t, 5)
        self.assertEqual(self.fx.stats()["status"], {})         # nothing was answered
        self.fx.fault(dead=False)                               # control still answers
        self.assertEqual(self.get("/bkt/small")[0].status, 200)

    def test_latency_and_slow(self):
        self.fx.fault(latency_ms=300)
        t = time.monotonic()
        self.assertEqual(self.get("/bkt/small")[0].status, 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.fx.fault(latency_ms=None, slow=100_000)
        t = time.monotonic()
        r, body = self.get(headers={"Range": "bytes=0-49999"})
        elapsed = time.monotonic() - t
        self.assertEqual(body, self.data[:50000])
        self.assertGreaterEqual(elapsed, 0.45)                  # 50 kB at 100 kB/s
        self.assertLess(elapsed, 3)

    def test_replace_changes_etag(self):
        target = os.path.join(self.root, "bkt/replaced")
        with open(target, "wb") as f:
            f.write(self.data[:4096])
        newfile = os.path.join(self.root, "new-content")
        new = os.urandom(4096)
        with open(newfile, "wb") as f:
            f.write(new)
        r, _ = self.get("/bkt/replaced", method="HEAD")
        etag1 = r.getheader("ETag")
        self.fx.fault(replace=f"bkt/replaced:{newfile}")
        r, body = self.get("/bkt/replaced")
        etag2 = r.getheader("ETag")
        self.assertNotEqual(etag1, etag2)
        self.assertEqual(body, new)                             # same size, new bytes
        self.assertEqual(self.get("/bkt/replaced", {"If-Match": etag1})[0].status, 412)
        # Deferred: replaced once two more data requests have arrived.
        with open(newfile, "wb") as f:
            f.write(self.data[:4096])
        seen = self.fx.stats()["requests"]
        self.fx.fault(replace=f"bkt/replaced:{newfile}@{seen + 2}")
        self.assertEqual(self.get("/bkt/replaced", {"If-Match": etag2})[0].status, 200)
        self.assertEqual(self.get("/bkt/replaced", {"If-Match": etag2})[0].status, 200)
        r, body = self.get("/bkt/replaced", {"If-Match": etag2})
        self.assertEqual(r.status, 412)
        self.assertEqual(self.get("/bkt/replaced")[1], self.data[:4096])

    def test_control_errors_and_odd_requests(self):
        for body in ({"no_such_fault": 1}, {"fail_rate": 2}, {"replace": "bkt/nope:/nonexistent"}):
            self.assertEqual(self.fx.control("fault", body)[0], 400, body)
        c = self.fx.conn()
        c.request("POST", "/_fixture/fault", body=b"{not json")
        self.assertEqual(c.getresponse().status, 400)
        c.close()
        self.assertEqual(self.get(method="PUT")[0].status, 405)
        self.assertEqual(self.get(method="DELETE")[0].status, 405)
        for raw in (b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\xff" * 40 + b"\r\n\r\n",
                    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"GET /bkt/small HTTP/1.1\r\n",
                    b"GET /bkt/small HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                    b"GET /bkt/small HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"POST /_fixture/fault HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", self.fx.port), timeout=5) as s:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
        self.assertEqual(self.get("/bkt/small")[0].status, 200)   # still serving
        self.assertIsNone(self.fx.proc.poll())


# ---------------------------------------------------------------------------

class FixtureS3(FixtureCase):
    """S3 mode: SigV4 checked on every request, S3's XML errors."""

    ARGS = ("--s3", "--access-key", AK, "--secret-key", SK, "--region", REGION)

    def s3get(self, path, headers=None, host=None, secret=SK, key=AK, now=None,
              payload=fixture.EMPTY_SHA256, after=None, method="GET"):
        """A signed request; `after` adds headers after signing (unsigned)."""
        host = host or self.host
        headers = dict(headers or {})
        headers.update(fixture.sign_headers(method, host, path, headers, key, secret, REGION,
                                            now=now, payload_hash=payload))
        headers["Host"] = host
        headers.update(after or {})
        c = self.fx.conn()
        try:
            return request(c, path, headers, method)
        finally:
            c.close()

    def assertS3Error(self, resp, status, code):
        r, body = resp
        self.assertEqual(r.status, status, body)
        self.assertEqual(r.getheader("Content-Type"), "application/xml")
        self.assertIn(f"<Code>{code}</Code>".encode(), body)
        self.assertIn(b"<Message>", body)
        return body.decode()

    def test_signed_range_path_and_virtual_host(self):
        r, body = self.s3get("/bkt/vmcore", {"Range": "bytes=100-199"})
        self.assertEqual((r.status, body), (206, self.data[100:200]))
        self.assertEqual(r.getheader("Content-Range"), f"bytes 100-199/{len(self.data)}")
        r, body = self.s3get("/vmcore", {"Range": "bytes=-10"}, host=f"bkt.s3.test:{self.fx.port}",
                             payload=fixture.UNSIGNED)
        self.assertEqual((r.status, body), (206, self.data[-10:]))
        r, body = self.s3get("/bkt/dir/with%20space%2Bplus")
        self.assertEqual((r.status, body), (200, self.objects["bkt/dir/with space+plus"]))
        r, body = self.s3get("/bkt/vmcore", {"Range": "bytes=0-3"}, method="HEAD")
        self.assertEqual((r.status, r.getheader("Content-Length")), (206, "4"))

    def test_curl_aws_sigv4_is_accepted(self):
        # curl's signer (not ours) with the header S3 requires added by hand.
        args = ["--aws-sigv4", f"aws:amz:{REGION}:s3", "-u", f"{AK}:{SK}",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        rc, body, hdr = curl(*args, "-H", "Range: bytes=5-14", f"http://{self.host}/bkt/vmcore")
        self.assertEqual((rc, body), (0, self.data[5:15]), body)
        self.assertIn("HTTP/1.1 206", hdr)
        rc, body, hdr = curl(*args[:3], f"{AK}:wrong", *args[4:], f"http://{self.host}/bkt/vmcore")
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        # curl 7.88 does not send x-amz-content-sha256 by itself; S3 wants it.
        rc, body, hdr = curl(*args[:4], f"http://{self.host}/bkt/vmcore")
        self.assertIn(b"<Code>InvalidRequest</Code>", body)

    def test_rejections(self):
        body = self.assertS3Error(self.s3get("/bkt/vmcore", secret=SK + "x"), 403, "SignatureDoesNotMatch")
        self.assertIn("<CanonicalRequest>GET\n/bkt/vmcore\n", body)
        self.assertIn("<StringToSign>AWS4-HMAC-SHA256\n", body)
        self.assertS3Error(self.s3get("/bkt/vmcore", key="AKIDNOTKNOWN"), 403, "InvalidAccessKeyId")
        c = self.fx.conn()
        self.assertS3Error(request(c, "/bkt/vmcore"), 403, "AccessDenied")   # anonymous
        c.close()
        body = self.assertS3Error(self.s3get("/bkt/vmcore", after={"Range": "bytes=0-9"}),
                                  403, "AccessDenied")
        self.assertIn("not signed: range", body)
        self.assertS3Error(self.s3get("/bkt/vmcore", after={"If-Match": '"x"'}), 403, "AccessDenied")
        self.assertS3Error(self.s3get("/bkt/vmcore", {"Range": "bytes=0-9"},
                                      after={"Range": "bytes=0-99"}), 403, "SignatureDoesNotMatch")
        self.assertS3Error(self.s3get("/bkt/vmcore", now=time.time() - 20 * 60), 403,
                           "RequestTimeTooSkewed")
        self.assertS3Error(self.s3get("/bkt/vmcore", payload="0" * 64), 400, "XAmzContentSHA256Mismatch")
        # Signed without x-amz-content-sha256 at all.
        h = fixture.sign_headers("GET", self.host, "/bkt/vmcore", {}, AK, SK, REGION)
        del h["x-amz-content-sha256"]
        h["Authorization"] = h["Authorization"].replace(";x-amz-content-sha256", "")
        c = self.fx.conn()
        self.assertS3Error(request(c, "/bkt/vmcore", h), 400, "InvalidRequest")
        c.close()
        self.assertS3Error(self.s3get("/bkt/nope"), 404, "NoSuchKey")
        self.assertS3Error(self.s3get("/nobucket/vmcore"), 404, "NoSuchBucket")
        body = self.assertS3Error(self.s3get("/bkt/vmcore", {"Range": f"bytes={len(self.data)}-"}),
                                  416, "InvalidRange")
        r, _ = self.s3get("/bkt/vmcore", {"Range": f"bytes={len(self.data)}-"})
        self.assertEqual(r.getheader("Content-Range"), f"bytes */{len(self.data)}")
        self.assertS3Error(self.s3get("/bkt/vmcore", {"If-Match": '"nope"'}), 412, "PreconditionFailed")
        self.assertEqual(self.fx.stats()["status"].get("200"), None)   # nothing got through

    def test_faults_speak_s3(self):
        for code, name in ((503, "SlowDown"), (500, "InternalError"), (400, "RequestTimeout")):
            self.fx.fault(fail_first=1, fail_codes=[code])
            self.assertS3Error(self.s3get("/bkt/small"), code, name)
            self.assertEqual(self.s3get("/bkt/small")[0].status, 200)
        self.fx.fault(status={"bkt/small": 403})
        self.assertS3Error(self.s3get("/bkt/small"), 403, "AccessDenied")
        self.fx.fault(status={"bkt/small": 404})
        self.assertS3Error(self.s3get("/bkt/small"), 404, "NoSuchKey")
        self.fx.fault(status=None, expired_token=True)
        self.assertS3Error(self.s3get("/bkt/small"), 400, "ExpiredToken")

    def test_presigned(self):
        path = "/bkt/vmcore"
        q = fixture.presign("GET", self.host, path, AK, SK, 60, REGION)
        rc, body, hdr = curl("-r", "0-99", f"http://{self.host}{path}?{q}")
        self.assertEqual((rc, body), (0, self.data[:100]))
        old = fixture.presign("GET", self.host, path, AK, SK, 60, REGION, now=time.time() - 3600)
        rc, body, hdr = curl(f"http://{self.host}{path}?{old}")
        self.assertIn("HTTP/1.1 403", hdr)
        self.assertIn(b"<Message>Request has expired</Message>", body)
        bad = q.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
        rc, body, hdr = curl(f"http://{self.host}{path}?{bad}")
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)

    def test_control_needs_no_signature(self):
        self.assertEqual(self.fx.control("stats")[0], 200)


# ---------------------------------------------------------------------------

NGINX_MISSING = nginx.available()


@unittest.skipIf(NGINX_MISSING, NGINX_MISSING or "")
class RealNginx(unittest.TestCase):
    """nginx.py: a real nginx serves ranges and ETags, over HTTP and HTTPS."""

    @classmethod
    def setUpClass(cls):
        cls.root, cls.objects = make_root()
        cls.data = cls.objects["bkt/vmcore"]
        cls.ng = nginx.Nginx(cls.root).start()

    @classmethod
    def tearDownClass(cls):
        cls.ng.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def check_range_response(self, code, body, hdr):
        self.assertEqual(code, 0, hdr)
        self.assertEqual(body, self.data[1000:2000])
        self.assertRegex(hdr, r"HTTP/1\.1 206")
        self.assertIn(f"Content-Range: bytes 1000-1999/{len(self.data)}", hdr)
        self.assertRegex(hdr, r'ETag: "[0-9a-f]+-[0-9a-f]+"')

    def test_http_range_etag_if_match(self):
        c = http.client.HTTPConnection("127.0.0.1", self.ng.http_port, timeout=10)
        r, body = request(c, "/bkt/vmcore", {"Range": "bytes=1000-1999"})
        self.assertEqual((r.status, body), (206, self.data[1000:2000]))
        etag = r.getheader("ETag")
        r, body = request(c, "/bkt/vmcore", {"Range": "bytes=0-9", "If-Match": etag})
        self.assertEqual((r.status, body), (206, self.data[:10]))
        r, _ = request(c, "/bkt/vmcore", {"Range": "bytes=0-9", "If-Match": '"0-0"'})
        self.assertEqual(r.status, 412)
        # nginx 1.22 closes the connection after a 412 although its header
        # says keep-alive: clients must be ready to reconnect.
        c.close()
        r, _ = request(c, "/bkt/vmcore", {"Range": f"bytes={len(self.data)}-"})
        self.assertEqual((r.status, r.getheader("Content-Range")), (416, f"bytes */{len(self.data)}"))
        c.close()
        self.check_range_response(*curl("-r", "1000-1999",
                                        f"http://127.0.0.1:{self.ng.http_port}/bkt/vmcore"))

    def test_https_with_the_ca(self):
        url = f"https://127.0.0.1:{self.ng.https_port}/bkt/vmcore"
        self.check_range_response(*curl("--cacert", self.ng.ca, "-r", "1000-1999", url))
        self.check_range_response(*curl("--cacert", self.ng.ca, "-r", "1000-1999",
                                        url.replace("127.0.0.1", "localhost")))
        rc, _, _ = curl("-r", "0-9", url)          # the system CAs do not know ours
        self.assertEqual(rc, 60)
        ctx = ssl.create_default_context(cafile=self.ng.ca)
        c = http.client.HTTPSConnection("127.0.0.1", self.ng.https_port, context=ctx, timeout=10)
        r, body = request(c, "/bkt/vmcore", {"Range": "bytes=-5"})
        self.assertEqual((r.status, body), (206, self.data[-5:]))
        c.close()

    def test_cli_starts_and_stops(self):
        with tempfile.TemporaryDirectory() as d:
            info_file = os.path.join(d, "info.json")
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "nginx.py"), "--root",
                                  self.root, "--info", info_file], stdout=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 15
                while not os.path.exists(info_file):
                    self.assertIsNone(p.poll(), "nginx.py exited early")
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                with open(info_file) as f:
                    info = json.load(f)
                self.check_range_response(*curl("--cacert", info["ca"], "-r", "1000-1999",
                                                f"https://127.0.0.1:{info['https_port']}/bkt/vmcore"))
            finally:
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(15), 0)
            with self.assertRaises(ProcessLookupError):  # nginx itself is gone too
                for _ in range(50):
                    os.kill(info["pid"], 0)
                    time.sleep(0.1)
            self.assertFalse(os.path.exists(info["dir"]))


def main():
    if not CURL:
        print("curl not found", file=sys.stderr)
        return 77
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    r = prog.result
    failed = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    skipped = len(r.skipped)
    print(f"{r.testsRun - failed - skipped} passed, {failed} failed, {skipped} skipped")
    if failed or not r.wasSuccessful():
        return 1
    if NGINX_MISSING:
        print(f"SKIP: {NGINX_MISSING}; nginx.py untested", file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""http_seeds.py OUTDIR - seeds for fuzz_http.c: scripts of HTTP answers
(the format is fuzz_http.c's: answers separated by "\\n~~~\\n", close, or
"\\n~~+\\n", keep the connection; $BODY $HALF $LEN $RANGE $SIZE stand for the
served dump's bytes of the request's Range and their numbers; "~flat\\n" in
front serves the flattened dump).

The first request of an open is always Range: bytes=0-262143 (one 256 KiB
block) and the dumps served are larger, so the probe's Content-Range and
Content-Length are written out literally (the numbers mutations work on),
the total as $SIZE: no seed depends on the dumps' bytes or size.  The
requests after it depend on the reads and the read-ahead, so those answers
use the tokens.  Real answers that open the dump and read it, then 200, 416,
412, bad Content-Range, chunked encoding, short bodies, huge Content-Length,
odd headers; and the flattened dump: its sidecar (/x.dfsidx) missing,
answered with the dump itself, or failing, then the full read.
"""
import os
import sys

out = sys.argv[1]
FIRST = 256 << 10
ETAG = '"5f3a-1b2c3d"'
CLOSE, KEEP = b"\n~~~\n", b"\n~~+\n"


def partial(extra=b"", etag=ETAG.encode(), rng=b"$RANGE/$SIZE", length=b"$LEN", body=b"$BODY"):
    h = b"HTTP/1.1 206 Partial Content\r\nServer: fuzz\r\nContent-Range: bytes " + rng + b"\r\n"
    if etag:
        h += b"ETag: " + etag + b"\r\n"
    if length is not None:
        h += b"Content-Length: " + length + b"\r\n"
    return h + extra + b"\r\n" + body


# the probe, as a server answers it (the total is the dump's)
PROBE = partial(rng=b"0-%d/$SIZE" % (FIRST - 1), length=b"%d" % FIRST)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
FLAT = b"~flat\n"
OK = partial()
REST = 80       # answers for the requests after the probe


def script(answers, sep=KEEP, prefix=b""):
    return prefix + sep.join(answers)


seeds = {
    # real: open the dump and read it (keep-alive, and a connection each)
    "real-keep": script([PROBE] + [OK] * REST),
    "real-close": script([PROBE] + [OK] * REST, CLOSE),
    "real-last-modified": script([partial(etag=None, extra=b"Last-Modified: Tue, 25 Nov 2025 10:00:00 GMT\r\n")] * REST),
    "real-no-validator": script([partial(etag=None)] * REST),
    "real-weak-etag": script([partial(etag=b'W/"weak"')] * REST),
    "real-retry": script([b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n", PROBE]
                         + [OK] * REST, CLOSE, b"~retry\n"),
    # refusals of the probe
    "probe-200": script([b"HTTP/1.1 200 OK\r\nContent-Length: $SIZE\r\n\r\n$BODY"], CLOSE),
    "probe-416": script([b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\n"
                         b"Content-Length: 0\r\n\r\n"]),
    "probe-404": script([b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"]),
    "probe-s3-error": script([b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\n\r\n"
                              b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"], CLOSE),
    "probe-no-range": script([partial(rng=b"")] + [OK] * REST),
    "probe-range-star": script([partial(rng=b"0-262143/*")] + [OK] * REST),
    "probe-range-backwards": script([partial(rng=b"5-1/10")] + [OK] * REST),
    "probe-range-equals": script([partial(rng=b"=0-262143/$SIZE")] + [OK] * REST),
    "probe-range-past-total": script([partial(rng=b"0-262143/100")] + [OK] * REST),
    "probe-range-huge": script([partial(rng=b"0-262143/18446744073709551615")] + [OK] * REST),
    "probe-shorter": script([partial(rng=b"0-4095/$SIZE", length=b"4096", body=b"$HALF$HALF")]
                            + [OK] * REST),
    "probe-chunked": script([partial(length=None, extra=b"Transfer-Encoding: chunked\r\n",
                                     body=b"40000\r\n$BODY\r\n0\r\n\r\n")] + [OK] * REST),
    "probe-chunked-bad": script([partial(length=None, extra=b"Transfer-Encoding: chunked\r\n",
                                         body=b"zz\r\n$BODY\r\n")] + [OK] * REST, CLOSE),
    "probe-short-body": script([partial(body=b"$HALF")] * 3, CLOSE),
    "probe-short-body-retry": script([partial(body=b"$HALF"), PROBE] + [OK] * REST, CLOSE, b"~retry\n"),
    "probe-huge-length": script([partial(length=b"99999999999999999999")] + [OK] * REST, CLOSE),
    "probe-negative-length": script([partial(length=b"-1")] + [OK] * REST, CLOSE),
    "probe-too-long": script([partial(body=b"$BODY$BODY")] + [OK] * REST),
    "probe-100-continue": script([b"HTTP/1.1 100 Continue\r\n\r\n" + PROBE] + [OK] * REST),
    "probe-redirect": script([b"HTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 0\r\n\r\n", PROBE]
                             + [OK] * REST),
    "probe-redirect-loop": script([b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"] * 8),
    "probe-http10": script([PROBE.replace(b"HTTP/1.1", b"HTTP/1.0")] + [OK] * REST, CLOSE),
    "probe-folded": script([partial(extra=b"X-Long: a\r\n  folded\r\nContent-Range: bytes 1-2/3\r\n")]
                           + [OK] * REST),
    "probe-long-header": script([partial(extra=b"X-Pad: " + b"a" * 20000 + b"\r\n")] + [OK] * REST),
    "probe-garbage": script([b"\x00\xffgarbage\r\n\r\n"]),
    "empty": b"",
    # the probe passes, the reads after it meet trouble
    "later-412": script([PROBE, b"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n"] + [OK] * REST),
    "later-other-size": script([PROBE, partial(rng=b"$RANGE/99999999")] + [OK] * REST),
    "later-other-etag": script([PROBE, partial(etag=b'"changed"')] + [OK] * REST),
    "later-wrong-range": script([PROBE, partial(rng=b"0-$LEN/$SIZE")] + [OK] * REST),
    "later-200": script([PROBE, b"HTTP/1.1 200 OK\r\nContent-Length: $LEN\r\n\r\n$BODY"] + [OK] * REST, CLOSE),
    "later-416": script([PROBE, b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */$SIZE\r\n\r\n"]
                        + [OK] * REST, CLOSE),
    "later-short": script([PROBE] + [partial(body=b"$HALF")] * REST, CLOSE),
    "later-short-keep": script([PROBE] + [partial(body=b"$HALF")] * REST),
    "later-short-retry": script([PROBE] + [partial(body=b"$HALF"), OK] * REST, CLOSE, b"~retry\n"),
    "later-500-retry": script([PROBE] + [b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", OK] * REST,
                              CLOSE, b"~retry\n"),
    "later-unanswered": script([PROBE] + [OK] * 3),
    "later-chunked": script([PROBE] + [partial(length=None, extra=b"Transfer-Encoding: chunked\r\n",
                                               body=b"1\r\n$BODY\r\n0\r\n\r\n")] * REST, CLOSE),
    # the flattened dump: the probe, the sidecar's probe, then the full read
    "flat-no-sidecar": script([PROBE, NOT_FOUND] + [OK] * REST, prefix=FLAT),
    "flat-no-sidecar-close": script([PROBE, NOT_FOUND] + [OK] * REST, CLOSE, FLAT),
    "flat-sidecar-is-dump": script([PROBE] + [OK] * REST, prefix=FLAT),
    "flat-sidecar-500": script([PROBE, b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"] + [OK] * REST,
                               CLOSE, FLAT),
    "flat-short": script([PROBE, NOT_FOUND] + [partial(body=b"$HALF")] * REST, CLOSE, FLAT),
    "flat-later-other-etag": script([PROBE, NOT_FOUND, OK, partial(etag=b'"changed"')] + [OK] * REST,
                                    prefix=FLAT),
    "flat-retry": script([PROBE, NOT_FOUND] + [b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n", OK]
                         * REST, CLOSE, b"~retry\n" + FLAT),
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)

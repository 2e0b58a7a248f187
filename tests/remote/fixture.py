#!/usr/bin/env python3
"""A fault-injecting HTTP / S3 object server for dumpfs's remote-source tests.

nginx is the real server the tests read from when nothing has to go wrong
(tests/remote/nginx.py).  This server exists for what nginx cannot do: fail on
purpose (503s, truncated bodies, a server that never answers, an object
replaced mid-read) and speak S3 (AWS Signature Version 4, verified here with
hashlib/hmac independently of dumpfs's own signer in core/source/sigv4.c, and
S3's XML errors).

    fixture.py --root DIR [--port 0] [--port-file FILE] [--seed N] [--verbose]
               [--s3 --access-key AK --secret-key SK [--session-token T]
                     [--region us-east-1]]
               [--fault NAME[=VALUE]]...

It listens on 127.0.0.1 only, writes the bound port to --port-file once
listening, and runs until SIGTERM or SIGINT.  Faults can be changed while it
runs through unsigned control requests:

    POST /_fixture/fault   JSON object, e.g. {"fail_first": 2, "ignore_range": true}
                           (null clears a fault; "replace" swaps an object now)
    GET  /_fixture/stats   JSON: requests, connections, bytes_sent, status counts,
                           requested [[path, range-or-null], ...], faults
    POST /_fixture/reset   no faults, zeroed statistics

The fault list is in tests/remote/README.md and in FAULT_HELP below.
"""

import argparse
import datetime
import email.utils
import hashlib
import hmac
import http.client
import http.server
import ipaddress
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape as xml_escape

CONTROL_PREFIX = "/_fixture/"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 15 * 60          # S3 refuses an x-amz-date further than this from now
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600   # S3's limit for X-Amz-Expires
CHUNK = 64 * 1024
MAX_BODY = 1 << 20          # no request here needs a bigger body than a fault's JSON

FAULT_HELP = """faults (--fault NAME[=VALUE], or the same names as keys of POST /_fixture/fault):
  fail_rate=P           each data request fails with probability P (seeded by --seed)
  fail_codes=C[,C...]   the codes fail_rate/fail_first choose among: 500 503 408 429 400
                        (default 503; in S3 mode 503 is SlowDown, 500 InternalError,
                        400 RequestTimeout)
  fail_first=N          the next N data requests fail, later ones succeed
  status=PATH:CODE      PATH (relative to --root, e.g. bucket/key) always answers CODE
                        (403 AccessDenied or 404 NoSuchKey in S3 mode)
  slow=BYTES_PER_SEC    bodies are sent no faster than this
  latency_ms=N          wait N ms before answering each data request
  truncate=N            right headers, then only N bytes of the body, then close
  drop_after=N          close a connection once N bytes (headers and bodies, counted
                        over its keep-alive requests) have been sent on it
  ignore_range          answer a range request with 200 and the whole object
  dead                  read data requests and never answer them
  expired_token         (S3) answer correctly signed requests with 400 ExpiredToken
  replace=PATH:NEWFILE[@N]  put NEWFILE's content in place of PATH (new inode, so a
                        new ETag and Last-Modified): now, or once N data requests
                        have arrived (counted from start or reset), before the
                        next one is served"""

S3_ERRORS = {
    # code: (status, message) as S3 writes them
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchBucket": (404, "The specified bucket does not exist."),
    "AccessDenied": (403, "Access Denied"),
    "SignatureDoesNotMatch": (403, "The request signature we calculated does not match the "
                              "signature you provided. Check your key and signing method."),
    "InvalidAccessKeyId": (403, "The AWS Access Key Id you provided does not exist in our records."),
    "InvalidToken": (400, "The provided token is malformed or otherwise invalid."),
    "ExpiredToken": (400, "The provided token has expired."),
    "RequestTimeTooSkewed": (403, "The difference between the request time and the current "
                             "time is too large."),
    "AuthorizationHeaderMalformed": (400, "The authorization header is malformed."),
    "AuthorizationQueryParametersError": (400, "Error parsing the X-Amz-Credential parameter."),
    "InvalidRequest": (400, "Invalid Request"),
    "XAmzContentSHA256Mismatch": (400, "The provided 'x-amz-content-sha256' header does not "
                                  "match what was computed."),
    "PreconditionFailed": (412, "At least one of the pre-conditions you specified did not hold"),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "SlowDown": (503, "Please reduce your request rate."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or "
                       "written to within the timeout period."),
    "TooManyRequests": (429, "Please reduce your request rate."),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "NotImplemented": (501, "A header you provided implies functionality that is not implemented."),
}

# The S3 error each injected failure code stands for (fail_rate, fail_first).
FAIL_CODE_S3 = {500: "InternalError", 503: "SlowDown", 400: "RequestTimeout",
                408: "RequestTimeout", 429: "TooManyRequests"}


# ---------------------------------------------------------------------------
# AWS Signature Version 4, as S3 computes it.  Pure functions, so that the
# unit test can run AWS's documented example through them without a server.

def uri_encode(s, keep_slash):
    """AWS's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper case);
    '/' kept only in the path."""
    safe = "-._~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_uri(raw_path):
    """S3 canonical URI: the path as the client meant it (decoded once), each
    segment encoded once, '/' kept; S3 does not normalise '.' or '//'."""
    return uri_encode(urllib.parse.unquote(raw_path), keep_slash=True) or "/"


def parse_query(raw_query):
    """The query string as (name, value) pairs, decoded once; '+' stays '+'."""
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


def canonical_query(pairs):
    encoded = sorted((uri_encode(k, False), uri_encode(v, False)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_header_value(values):
    """Values trimmed, runs of spaces made one, several values joined by ','."""
    return ",".join(" ".join(v.split()) for v in values)


def canonical_request(method, raw_path, query_pairs, headers, signed, payload_hash):
    """headers: {lower-case name: [values]}; signed: sorted lower-case names."""
    lines = [method, canonical_uri(raw_path), canonical_query(query_pairs)]
    lines += [f"{h}:{canonical_header_value(headers.get(h, []))}" for h in signed]
    lines += ["", ";".join(signed), payload_hash]
    return "\n".join(lines)


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])


def signing_key(secret, date, region, service="s3"):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signature(secret, date, region, sts):
    return hmac.new(signing_key(secret, date, region), sts.encode(), hashlib.sha256).hexdigest()


def amz_now(now=None):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))


def sign_headers(method, host, raw_path, headers, access_key, secret_key, region="us-east-1",
                 session_token=None, now=None, payload_hash=EMPTY_SHA256, query=""):
    """A client-side signer for the self-tests: the headers to add to a request
    (x-amz-date, x-amz-content-sha256, x-amz-security-token, Authorization).
    It shares the canonical forms above, which the AWS example pins down."""
    amz_date = amz_now(now)
    out = {"x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    if session_token:
        out["x-amz-security-token"] = session_token
    all_headers = {"host": [host]}
    for k, v in list(headers.items()) + list(out.items()):
        all_headers[k.lower()] = [v]
    signed = sorted(all_headers)
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    creq = canonical_request(method, raw_path, parse_query(query), all_headers, signed, payload_hash)
    sig = signature(secret_key, amz_date[:8], region, string_to_sign(amz_date, scope, creq))
    out["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope}, "
                            f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return out


def presign(method, host, raw_path, access_key, secret_key, expires, region="us-east-1",
            session_token=None, now=None):
    """The query string of a presigned URL (header host only, UNSIGNED-PAYLOAD)."""
    amz_date = amz_now(now)
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    pairs = [("X-Amz-Algorithm", ALGORITHM), ("X-Amz-Credential", f"{access_key}/{scope}"),
             ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)),
             ("X-Amz-SignedHeaders", "host")]
    if session_token:
        pairs.append(("X-Amz-Security-Token", session_token))
    creq = canonical_request(method, raw_path, pairs, {"host": [host]}, ["host"], UNSIGNED)
    sig = signature(secret_key, amz_date[:8], region, string_to_sign(amz_date, scope, creq))
    return canonical_query(pairs + [("X-Amz-Signature", sig)])


class S3Error(Exception):
    """An S3 error response: code (S3's name), status, message, extra XML fields."""

    def __init__(self, code, message=None, **extra):
        status, default = S3_ERRORS[code]
        super().__init__(f"{code}: {message or default}")
        self.code, self.status, self.message, self.extra = code, status, message or default, extra


def parse_amz_date(value):
    try:
        return datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def verify_sigv4(method, raw_path, raw_query, header_pairs, creds, now=None):
    """Check the SigV4 of one S3 request, from its Authorization header or its
    presigned query.  Raises S3Error; returns the access key on success.

    header_pairs: [(name, value)] as received; creds: {"access_key",
    "secret_key", "region", "session_token" (or None)}; now: epoch seconds."""
    now = time.time() if now is None else now
    headers = {}
    for name, value in header_pairs:
        headers.setdefault(name.lower(), []).append(value)
    query = parse_query(raw_query)
    qdict = {k: v for k, v in query}
    auth = headers.get("authorization", [None])[0]

    if "X-Amz-Signature" in qdict or "X-Amz-Algorithm" in qdict:
        # Presigned URL: everything is in the query; the payload is unsigned.
        if auth:
            raise S3Error("InvalidRequest", "Only one auth mechanism allowed")
        try:
            algorithm, credential = qdict["X-Amz-Algorithm"], qdict["X-Amz-Credential"]
            amz_date, expires = qdict["X-Amz-Date"], qdict["X-Amz-Expires"]
            signed, provided = qdict["X-Amz-SignedHeaders"].split(";"), qdict["X-Amz-Signature"]
        except KeyError as e:
            raise S3Error("AuthorizationQueryParametersError",
                          f"Query-string authentication version 4 requires {e.args[0]}")
        if algorithm != ALGORITHM:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGN_EXPIRES:
            raise S3Error("AuthorizationQueryParametersError",
                          "X-Amz-Expires must be between 1 and 604800 seconds")
        token = qdict.get("X-Amz-Security-Token")
        payload_hash = UNSIGNED
        query_signed = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    elif auth:
        if not auth.startswith(ALGORITHM + " "):
            raise S3Error("AuthorizationHeaderMalformed", "Unsupported authorization type")
        fields = {}
        for item in auth[len(ALGORITHM) + 1:].split(","):
            k, _, v = item.strip().partition("=")
            fields[k] = v
        try:
            credential, provided = fields["Credential"], fields["Signature"]
            signed = fields["SignedHeaders"].split(";")
        except KeyError as e:
            raise S3Error("AuthorizationHeaderMalformed", f"The authorization header is "
                          f"malformed; missing {e.args[0]}")
        amz_date = headers.get("x-amz-date", [None])[0]
        if amz_date is None:
            raise S3Error("AccessDenied", "AWS authentication requires a valid Date or "
                          "x-amz-date header")
        payload_hash = headers.get("x-amz-content-sha256", [None])[0]
        if payload_hash is None:
            raise S3Error("InvalidRequest", "Missing required header for this request: "
                          "x-amz-content-sha256")
        if payload_hash not in (UNSIGNED, EMPTY_SHA256):
            # GET and HEAD carry no body, so only these two values can be right.
            raise S3Error("XAmzContentSHA256Mismatch")
        # What S3 (and this stricter fixture) requires to be signed: the host,
        # the x-amz-* headers, and the headers that choose which bytes come
        # back (range, if-match), so that nobody can change them in flight.
        must = {"host", "x-amz-content-sha256", "x-amz-date"}
        must |= {h for h in headers if h.startswith("x-amz-") or h in ("range", "if-match")}
        missing = sorted(must - set(signed))
        if missing:
            raise S3Error("AccessDenied", "There were headers present in the request which "
                          f"were not signed: {', '.join(missing)}")
        token = headers.get("x-amz-security-token", [None])[0]
        query_signed = query
    else:
        raise S3Error("AccessDenied", "Anonymous access is not allowed")

    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise S3Error("AuthorizationHeaderMalformed", f"the credential '{credential}' is malformed")
    access_key, scope_date, region = parts[0], parts[1], parts[2]
    if access_key != creds["access_key"]:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    if creds.get("session_token"):
        if token is None:
            # Temporary keys without their token are unknown keys to S3.
            raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
        if token != creds["session_token"]:
            raise S3Error("InvalidToken")
    elif token is not None:
        raise S3Error("InvalidToken")
    if region != creds["region"]:
        raise S3Error("AuthorizationHeaderMalformed", f"the region '{region}' is wrong; "
                      f"expecting '{creds['region']}'", Region=creds["region"])
    when = parse_amz_date(amz_date)
    if when is None:
        raise S3Error("AccessDenied", "X-Amz-Date must be in the ISO8601 Long Format "
                      "\"yyyyMMdd'T'HHmmss'Z'\"")
    if scope_date != amz_date[:8]:
        raise S3Error("AuthorizationHeaderMalformed", "Invalid credential date. Date is not "
                      "the same as X-Amz-Date.")
    if "host" not in signed:
        raise S3Error("AccessDenied", "Host must be signed")
    if signed != sorted(set(signed)):
        raise S3Error("AuthorizationHeaderMalformed", "SignedHeaders must be sorted and unique")

    scope = f"{scope_date}/{region}/s3/aws4_request"
    creq = canonical_request(method, raw_path, query_signed, headers, signed, payload_hash)
    sts = string_to_sign(amz_date, scope, creq)
    expected = signature(creds["secret_key"], scope_date, region, sts)
    if not hmac.compare_digest(expected, provided):
        raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=access_key,
                      StringToSign=sts, SignatureProvided=provided, CanonicalRequest=creq)
    # Time is checked after the signature, as S3 does, so that a client with
    # a wrong clock but the right key hears about its clock.
    if "X-Amz-Signature" in qdict:
        if now > when + int(expires):
            raise S3Error("AccessDenied", "Request has expired",
                          Expires=amz_now(when + int(expires)), ServerTime=amz_now(now))
        if when > now + MAX_SKEW:
            raise S3Error("AccessDenied", "Request is not valid yet")
    elif abs(now - when) > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed", RequestTime=amz_date, ServerTime=amz_now(now),
                      MaxAllowedSkewMilliseconds=str(MAX_SKEW * 1000))
    return access_key


def s3_error_xml(err, resource):
    """S3's error document; SignatureDoesNotMatch carries the canonical
    request and string to sign this side computed, as S3's does."""
    fields = [("Code", err.code), ("Message", err.message)] + list(err.extra.items())
    fields += [("Resource", resource), ("RequestId", "%016X" % random.getrandbits(64))]
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(
        f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in fields) + "</Error>"


# ---------------------------------------------------------------------------
# Ranges and object identity.

def parse_range(value, size):
    """A Range header against an object of SIZE bytes: None to send it whole
    (no header, or one we may ignore: not bytes, several ranges, malformed),
    (first, last) inclusive, or "unsatisfiable"."""
    if not value:
        return None
    unit, _, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        n = int(last)                          # suffix: the last n bytes
        if n == 0 or size == 0:
            return "unsatisfiable"
        return (max(0, size - n), size - 1)
    a = int(first)
    if last != "" and int(last) < a:
        return None                            # invalid syntax: RFC 9110 says ignore
    if a >= size:
        return "unsatisfiable"
    return (a, size - 1 if last == "" else min(int(last), size - 1))


def etag_of(st):
    """A strong ETag from the object's identity, not its bytes (hashing a
    multi-GB dump per request would be absurd): a file put in place by
    rename gets a new inode and mtime, so a new ETag."""
    ident = f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}-{st.st_dev}"
    return '"' + hashlib.sha256(ident.encode()).hexdigest()[:32] + '"'


def replace_object(path, newfile):
    """Put a copy of NEWFILE at PATH atomically (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".replace-")
    try:
        with os.fdopen(fd, "wb") as out, open(newfile, "rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------
# Faults and statistics, shared by all handler threads.

class Faults:
    """The current faults, changed by --fault at start and by POST /_fixture/fault."""

    INT_FIELDS = ("fail_first", "slow", "latency_ms", "truncate", "drop_after")
    BOOL_FIELDS = ("ignore_range", "dead", "expired_token")

    def __init__(self, root, seed):
        self.root, self.seed = root, seed
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        with self.lock:
            self.fail_rate = 0.0
            self.fail_codes = [503]
            self.fail_first = 0
            self.status = {}           # relative path -> code
            self.slow = 0
            self.latency_ms = 0
            self.truncate = None
            self.drop_after = None
            self.ignore_range = False
            self.dead = False
            self.expired_token = False
            self.pending_replace = []  # [relpath, newfile, after N data requests]
            self.rng = random.Random(self.seed)

    def as_dict(self):
        with self.lock:
            return {"fail_rate": self.fail_rate, "fail_codes": self.fail_codes,
                    "fail_first": self.fail_first, "status": dict(self.status),
                    "slow": self.slow, "latency_ms": self.latency_ms,
                    "truncate": self.truncate, "drop_after": self.drop_after,
                    "ignore_range": self.ignore_range, "dead": self.dead,
                    "expired_token": self.expired_token,
                    "pending_replace": [list(r) for r in self.pending_replace]}

    def _object_path(self, rel):
        path = os.path.realpath(os.path.join(self.root, rel.lstrip("/")))
        if not path.startswith(self.root + os.sep):
            raise ValueError(f"{rel}: outside the root")
        return path

    def apply(self, changes, seen):
        """Apply a dict of changes (a value of None clears that fault).
        Raises ValueError on anything unknown or malformed, changing nothing
        it has not checked yet."""
        for name, value in changes.items():
            with self.lock:
                if name == "fail_rate":
                    value = 0.0 if value is None else float(value)
                    if not 0.0 <= value <= 1.0:
                        raise ValueError("fail_rate must be within 0..1")
                    self.fail_rate = value
                elif name == "fail_codes":
                    if value is None:
                        value = [503]
                    if isinstance(value, (int, str)):
                        value = [int(c) for c in str(value).split(",")]
                    codes = [int(c) for c in value]
                    if not codes or any(c not in FAIL_CODE_S3 for c in codes):
                        raise ValueError(f"fail_codes must be among {sorted(FAIL_CODE_S3)}")
                    self.fail_codes = codes
                elif name in self.INT_FIELDS:
                    if value is not None and int(value) < 0:
                        raise ValueError(f"{name} must not be negative")
                    zero = None if name in ("truncate", "drop_after") else 0
                    setattr(self, name, zero if value is None else int(value))
                elif name in self.BOOL_FIELDS:
                    setattr(self, name, value not in (None, False, 0, "0", "false"))
                elif name == "status":
                    if value is None:
                        self.status = {}
                        continue
                    items = value.items() if isinstance(value, dict) else \
                        [str(value).rsplit(":", 1)]
                    for path, code in items:
                        if code is None:
                            self.status.pop(path.lstrip("/"), None)
                        else:
                            self.status[path.lstrip("/")] = int(code)
                elif name == "replace":
                    if value is None:
                        self.pending_replace = []
                        continue
                    spec, _, after = str(value).partition("@")
                    rel, _, newfile = spec.partition(":")
                    path = self._object_path(rel)
                    if not os.path.isfile(newfile):
                        raise ValueError(f"replace: {newfile} is not a file")
                    if not os.path.isfile(path):
                        raise ValueError(f"replace: {rel} is not an object")
                    if after:
                        self.pending_replace.append([rel, newfile, int(after)])
                    else:
                        replace_object(path, newfile)
                else:
                    raise ValueError(f"unknown fault {name!r}")
        self.run_due_replacements(seen)

    def run_due_replacements(self, seen):
        """Replace the objects whose turn has come after SEEN data requests."""
        with self.lock:
            due = [r for r in self.pending_replace if seen >= r[2]]
            self.pending_replace = [r for r in self.pending_replace if seen < r[2]]
        for rel, newfile, _ in due:
            replace_object(self._object_path(rel), newfile)

    def take_failure(self):
        """The code this data request must fail with, or None."""
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return self.rng.choice(self.fail_codes)
            if self.fail_rate and self.rng.random() < self.fail_rate:
                return self.rng.choice(self.fail_codes)
        return None


def parse_fault_option(text):
    """--fault NAME[=VALUE] as a one-entry change dict."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if name in Faults.BOOL_FIELDS:
        return {name: True if not eq else value}
    if not eq:
        raise ValueError(f"--fault {name} needs a value")
    return {name: value}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        with self.lock:
            self.requests = 0          # data requests (control requests not counted)
            self.answered = 0          # data requests whose handling has finished
            self.connections = 0       # connections that carried data requests
            self.bytes_sent = 0        # body bytes of data responses
            self.status = {}
            self.requested = []        # [path, range header or None]

    def as_dict(self):
        with self.lock:
            return {"requests": self.requests, "answered": self.answered,
                    "connections": self.connections, "bytes_sent": self.bytes_sent,
                    "status": dict(self.status), "requested": [list(r) for r in self.requested]}


# ---------------------------------------------------------------------------
# The server.

class ConnectionDropped(Exception):
    """drop_after or truncate closed the connection on purpose."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"       # keep-alive, so Content-Length is always sent

    def version_string(self):
        return "dumpfs-fixture/1"

    # -- plumbing -----------------------------------------------------------

    def setup(self):
        super().setup()
        self.sent_on_connection = 0
        self.is_data = False
        self.counted = False            # counted in stats once it carries a data request

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fixture: %s - %s\n" % (self.address_string(), fmt % args))

    def send_response(self, code, message=None):
        if self.is_data:
            with self.server.stats.lock:
                s = self.server.stats.status
                s[str(code)] = s.get(str(code), 0) + 1
        super().send_response(code, message)

    def _write(self, data):
        """Every byte of a response goes through here, so that drop_after can
        cut the connection at an exact byte count, headers included."""
        limit = self.server.faults.drop_after if self.is_data else None
        if limit is not None and self.sent_on_connection + len(data) > limit:
            keep = max(0, limit - self.sent_on_connection)
            self.wfile.write(data[:keep])
            self.sent_on_connection += keep
            raise ConnectionDropped()
        self.wfile.write(data)
        self.sent_on_connection += len(data)

    def end_headers(self):
        self._headers_buffer.append(b"\r\n")
        data = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self._write(data)

    def send_body(self, data):
        if self.command != "HEAD":
            self._write(data)
            if self.is_data:
                with self.server.stats.lock:
                    self.server.stats.bytes_sent += len(data)

    def drain_body(self):
        """Read a request body (control requests use it; others are read and
        dropped so that keep-alive stays in step).  None when it cannot be
        framed or is too big: the caller answers 400 and closes."""
        if self.headers.get("Transfer-Encoding"):
            return None
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 <= n <= MAX_BODY:
            return None
        return self.rfile.read(n) if n else b""

    def refuse_body(self):
        self.close_connection = True
        self.simple(400, "400 request body not accepted\n")

    def simple(self, code, body, ctype="text/plain", extra=()):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        # 408 says the server is closing the connection: do it.
        if code == 408 or self.close_connection:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.send_body(body)

    def s3_error(self, err, resource="", extra=()):
        self.simple(err.status, s3_error_xml(err, resource), "application/xml", extra=extra)

    def fail(self, code, s3_code=None, message=None, extra=(), resource=""):
        """An error as this mode speaks it: S3's XML, or a plain line."""
        if self.server.s3:
            err = S3Error(s3_code or FAIL_CODE_S3.get(code, "InternalError"), message)
            err.status = code
            self.s3_error(err, resource, extra)
        else:
            self.simple(code, f"{code} {message or self.responses.get(code, ('',))[0]}\n",
                        extra=extra)

    # -- dispatch -----------------------------------------------------------

    def handle_one_request(self):
        self.is_data = False            # until dispatch() sees a data path
        try:
            super().handle_one_request()
        except ConnectionDropped:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except (ConnectionError, socket.timeout, BrokenPipeError):
            self.close_connection = True
        except Exception as e:   # never let an odd request kill the server
            self.close_connection = True
            self.log_message("internal error: %r", e)
            try:
                self.simple(500, "500 internal error in the fixture\n")
            except Exception:
                pass

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def other(self):
        if self.drain_body() is None:
            return self.refuse_body()
        self.is_data = not self.path.startswith(CONTROL_PREFIX)
        self.fail(405, "MethodNotAllowed", extra=[("Allow", "GET, HEAD")])

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = other

    def dispatch(self):
        body = self.drain_body()
        if body is None:
            return self.refuse_body()
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith(CONTROL_PREFIX):
            return self.control(raw_path[len(CONTROL_PREFIX):], body)
        self.is_data = True
        if self.command == "POST":
            return self.fail(405, "MethodNotAllowed", extra=[("Allow", "GET, HEAD")])
        stats, faults = self.server.stats, self.server.faults
        with stats.lock:
            stats.requests += 1
            earlier = stats.requests - 1
            if not self.counted:
                stats.connections += 1
                self.counted = True
            stats.requested.append([raw_path, self.headers.get("Range")])
        # A deferred replace happens here, before the request is served, so
        # that which requests see the old object depends only on their order
        # of arrival, not on how threads happen to finish.
        faults.run_due_replacements(earlier)
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if faults.dead:
            return self.play_dead()
        try:
            self.serve_object(raw_path, raw_query)
        finally:
            with stats.lock:
                stats.answered += 1

    def play_dead(self):
        """Hold the connection open and say nothing until the client gives up
        (its read returns EOF) or the server stops."""
        self.close_connection = True
        sock = self.connection
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                try:
                    if not sock.recv(4096):
                        return
                except OSError:
                    return

    def control(self, what, body):
        server = self.server
        try:
            if what == "stats" and self.command == "GET":
                out = server.stats.as_dict()
                out["faults"] = server.faults.as_dict()
            elif what == "fault" and self.command == "POST":
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object")
                with server.stats.lock:
                    seen = server.stats.requests
                server.faults.apply(changes, seen)
                out = server.faults.as_dict()
            elif what == "reset" and self.command == "POST":
                server.faults.clear()
                server.stats.clear()
                out = {"reset": True}
            else:
                return self.simple(404, "no such control request\n")
        except (ValueError, TypeError, OSError) as e:
            return self.simple(400, json.dumps({"error": str(e)}) + "\n", "application/json")
        self.simple(200, json.dumps(out) + "\n", "application/json")

    # -- objects ------------------------------------------------------------

    def locate(self, raw_path):
        """(relative path, file path) of the object a data request names.
        Raises S3Error(NoSuchBucket/NoSuchKey) or returns None for plain 404."""
        path = urllib.parse.unquote(raw_path)
        if self.server.s3:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            bucket = None
            if host and "." in host and host != "localhost":
                try:
                    ipaddress.ip_address(host)
                except ValueError:
                    bucket = host.split(".", 1)[0]      # virtual-hosted style
            key = path.lstrip("/")
            if bucket is None:                          # path style: /BUCKET/KEY
                bucket, _, key = key.partition("/")
            if not bucket or "/" in bucket or bucket in (".", "..") or \
                    not os.path.isdir(os.path.join(self.server.root, bucket)):
                raise S3Error("NoSuchBucket", BucketName=bucket)
            if not key:
                raise S3Error("NotImplemented", "Listing buckets is not implemented here")
            rel = f"{bucket}/{key}"
        else:
            rel = path.lstrip("/")
        full = os.path.realpath(os.path.join(self.server.root, rel))
        # Refuse '..' and symlinks that lead out of the root.
        inside = full.startswith(self.server.root + os.sep)
        if not inside or not os.path.isfile(full):
            if self.server.s3:
                raise S3Error("NoSuchKey", Key=rel.partition("/")[2])
            return rel, None
        return rel, full

    def serve_object(self, raw_path, raw_query):
        server, faults = self.server, self.server.faults
        try:
            if server.s3:
                verify_sigv4(self.command, raw_path, raw_query, list(self.headers.items()),
                             server.creds)
                if faults.expired_token:
                    raise S3Error("ExpiredToken")
            rel, full = self.locate(raw_path)
        except S3Error as e:
            return self.s3_error(e, raw_path)

        code = faults.status.get(rel)
        if code:
            return self.fail(code, {403: "AccessDenied", 404: "NoSuchKey"}.get(code),
                             resource=raw_path)
        if full is None:
            return self.fail(404, resource=raw_path)
        code = faults.take_failure()
        if code:
            return self.fail(code, resource=raw_path)

        try:
            f = open(full, "rb")
        except OSError:
            return self.fail(404, "NoSuchKey", resource=raw_path)
        with f:
            st = os.fstat(f.fileno())
            self.send_object(f, st, raw_path)

    def precondition_failed(self, st, etag):
        im = self.headers.get("If-Match")
        if im is not None:
            tags = [t.strip() for t in im.split(",")]
            if "*" not in tags and etag not in tags:
                return True
        ius = self.headers.get("If-Unmodified-Since")
        if ius is not None and im is None:      # If-Match wins when both are sent
            try:
                limit = email.utils.parsedate_to_datetime(ius).timestamp()
            except (TypeError, ValueError):
                return False                    # an invalid date is ignored (RFC 9110)
            if int(st.st_mtime) > limit:
                return True
        return False

    def send_object(self, f, st, raw_path):
        faults, size = self.server.faults, st.st_size
        etag = etag_of(st)
        common = [("ETag", etag), ("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True)),
                  ("Accept-Ranges", "bytes")]
        if self.precondition_failed(st, etag):
            return self.fail(412, "PreconditionFailed", extra=common, resource=raw_path)
        rng = None if faults.ignore_range else parse_range(self.headers.get("Range"), size)
        if rng == "unsatisfiable":
            extra = [("Content-Range", f"bytes */{size}")]
            if self.server.s3:
                err = S3Error("InvalidRange", ActualObjectSize=str(size),
                              RangeRequested=self.headers.get("Range"))
                return self.s3_error(err, raw_path, extra)
            return self.simple(416, "416 Range Not Satisfiable\n", extra=extra + common)
        first, last = rng if rng else (0, size - 1)
        length = last - first + 1 if size else 0

        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if rng:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        for k, v in common:
            self.send_header(k, v)
        truncate = faults.truncate
        if truncate is not None and truncate < length and self.command != "HEAD":
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return

        f.seek(first)
        remaining = length if truncate is None else min(length, truncate)
        rate, start, sent = faults.slow, time.monotonic(), 0
        step = CHUNK if not rate else max(1, min(CHUNK, rate // 10))
        while remaining > 0:
            data = f.read(min(step, remaining))
            if not data:
                break                   # the file shrank under us; the client sees short
            if rate:
                # Wait until this chunk's last byte is due, so that no byte
                # leaves before rate allows (the last one included).
                due = (sent + len(data)) / rate - (time.monotonic() - start)
                if due > 0:
                    time.sleep(due)
            self.send_body(data)
            remaining -= len(data)
            sent += len(data)
        if sent < length:
            # truncate: the headers promised more; close so the client sees it short.
            raise ConnectionDropped()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True           # a 'dead' connection must not hold up the exit
    request_queue_size = 64
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# For the remote tests (Python): run the fixture and drive it.

class FixtureProcess:
    """For tests: fixture.py as a child process, its port read from
    --port-file; control() and friends drive the control endpoint."""

    def __init__(self, root, *args):
        self.dir = tempfile.mkdtemp(prefix="fixture-port-")
        port_file = os.path.join(self.dir, "port")
        # stderr to a file: a pipe nobody reads would stall a --verbose server.
        self.log = os.path.join(self.dir, "stderr")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                          "--root", root, "--port-file", port_file, *args],
                                         stdin=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fixture.py did not start:\n" + self.stderr)
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def control(self, what, body=None):
        c = self.conn()
        c.request("POST" if body is not None or what != "stats" else "GET", "/_fixture/" + what,
                  body=None if body is None else json.dumps(body))
        r = c.getresponse()
        out = json.loads(r.read())
        c.close()
        return r.status, out

    def fault(self, **faults):
        status, out = self.control("fault", faults)
        if status != 200:
            raise RuntimeError(f"fault {faults}: {out}")
        return out

    def stats(self):
        return self.control("stats")[1]

    def reset(self):
        self.control("reset", {})

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            with open(self.log, errors="replace") as f:
                self.stderr = f.read()      # kept for a test's failure message
            shutil.rmtree(self.dir, ignore_errors=True)
        return code


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=FAULT_HELP,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="directory of the objects served")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; tests/bench/remote.py: a veth's)")
    ap.add_argument("--port-file", help="written with the port once listening")
    ap.add_argument("--seed", type=int, default=1, help="seed of fail_rate's random choices")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--s3", action="store_true", help="speak S3: SigV4, buckets, XML errors")
    ap.add_argument("--access-key")
    ap.add_argument("--secret-key")
    ap.add_argument("--session-token")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]")
    args = ap.parse_args(argv)
    if args.s3 and not (args.access_key and args.secret_key):
        ap.error("--s3 needs --access-key and --secret-key")

    root = os.path.realpath(args.root)
    if not os.path.isdir(root):
        ap.error(f"--root {args.root}: not a directory")
    server = Server((args.bind, args.port), Handler)
    server.root, server.verbose, server.s3 = root, args.verbose, args.s3
    server.creds = {"access_key": args.access_key, "secret_key": args.secret_key,
                    "region": args.region, "session_token": args.session_token}
    server.stats, server.faults = Stats(), Faults(root, args.seed)
    server.stopping = threading.Event()
    try:
        for text in args.fault:
            server.faults.apply(parse_fault_option(text), 0)
    except (ValueError, OSError) as e:
        ap.error(f"--fault: {e}")

    def stop(signum, frame):
        server.stopping.set()
        # shutdown() waits for serve_forever, so it cannot run in its thread.
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    port = server.server_address[1]
    if args.port_file:
        # Written whole by a rename, so that a waiting test never reads half a number.
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    if args.verbose:
        sys.stderr.write(f"fixture: listening on {args.bind}:{port}{' (S3)' if args.s3 else ''}\n")
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""qmp.py SOCKET [--timeout S] CMD [CMD ...]

Tiny QMP client (python stdlib only) used by make-real-dumps.sh.
Each CMD is either a bare command name ("stop", "quit") or a JSON object
({"execute": ..., "arguments": {...}}).  Prints each reply as one JSON line on
stdout; asynchronous events go to stderr.  Exit status: 0 all commands
succeeded, 1 some command returned an error, 2 connection/timeout trouble.
"""
import json
import socket
import sys
import time


class QMP:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:  # QEMU may not have created the socket yet
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > self.deadline:
                    raise TimeoutError("cannot connect to " + path)
                time.sleep(0.25)
        self.buf = b""
        greeting = self.receive()
        if "QMP" not in greeting:
            raise RuntimeError("unexpected greeting: %r" % greeting)
        if "return" not in self.call({"execute": "qmp_capabilities"}):
            raise RuntimeError("qmp_capabilities refused")

    def receive(self):
        while True:
            while b"\n" not in self.buf:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("QMP timeout")
                self.sock.settimeout(left)
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("QMP connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            if not line.strip():
                continue
            msg = json.loads(line)
            if "event" in msg:
                sys.stderr.write("EVENT %s\n" % json.dumps(msg))
                continue
            return msg

    def call(self, cmd):
        self.sock.sendall((json.dumps(cmd) + "\n").encode())
        return self.receive()


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, rest = argv[1], argv[2:]
    timeout = 120.0
    if rest[0] == "--timeout":
        timeout, rest = float(rest[1]), rest[2:]
    try:
        q = QMP(path, timeout)
    except (OSError, TimeoutError, EOFError, RuntimeError) as e:
        sys.stderr.write("qmp: %s\n" % e)
        return 2
    rc = 0
    for c in rest:
        cmd = json.loads(c) if c.lstrip().startswith("{") else {"execute": c}
        try:
            reply = q.call(cmd)
        except EOFError:
            if cmd.get("execute") == "quit":
                print(json.dumps({"return": {}, "note": "connection closed by quit"}))
                continue
            sys.stderr.write("qmp: connection closed\n")
            return 2
        except (OSError, TimeoutError) as e:
            sys.stderr.write("qmp: %s\n" % e)
            return 2
        print(json.dumps(reply), flush=True)
        if "error" in reply:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""imds_stub.py - a stand-in on 127.0.0.1 for the two endpoints AWS
credentials come from on a machine, for tests/remote/awscred.py:

  EC2 instance metadata, IMDSv2:
    PUT /latest/api/token                        (X-aws-ec2-metadata-token-ttl-seconds)
    GET /latest/meta-data/iam/security-credentials/        the role name
    GET /latest/meta-data/iam/security-credentials/ROLE    its credentials JSON
    (both GETs want X-aws-ec2-metadata-token with a token the PUT gave)
  container credentials (ECS, EKS):
    GET /container/...                           the credentials JSON, when the
                                                 Authorization header is --container-token

Every credentials answer carries new keys (ASIASTUB0001, 0002, ...) that
expire --expires seconds ahead.  --mode 500|garbage|big|nocode answers
credentials badly; --mode escaped well but with JSON escapes, nested
members and an Expiration with fractions and an offset; --fail-after N answers 500 after N good ones.  Each
request is a line of --log ("PUT /latest/api/token ttl=21600"); the port is
written to --port-file once the server listens.

    imds_stub.py --port-file F --log F [--expires S] [--mode M] [--fail-after N]
                 [--container-token T] [--role NAME]
"""
import argparse
import datetime
import http.server
import json
import os
import threading

ROLE_PATH = '/latest/meta-data/iam/security-credentials/'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--expires', type=float, default=3600)
    ap.add_argument('--mode', default='ok', choices=['ok', '500', 'garbage', 'big', 'nocode', 'escaped'])
    ap.add_argument('--fail-after', type=int, default=-1)
    ap.add_argument('--container-token', default=None)
    ap.add_argument('--role', default='stub-role')
    args = ap.parse_args()
    lock = threading.Lock()
    state = {'issued': 0, 'tokens': set(), 'tokens_made': 0}

    def log(line):
        with lock, open(args.log, 'a', encoding='utf-8') as f:
            f.write(line + '\n')

    def credentials(imds):
        """(status, body) of one credentials answer."""
        with lock:
            if args.fail_after >= 0 and state['issued'] >= args.fail_after:
                return 500, b'stub: failing on purpose\n'
            if args.mode == '500':
                return 500, b'stub: internal error\n'
            if args.mode == 'garbage':
                return 200, b'{"AccessKeyId": "ASIA", "SecretAccessKey": \x00 nope'
            if args.mode == 'big':
                return 200, b'{"Padding": "' + b'x' * 100000 + b'"}'
            state['issued'] += 1
            n = state['issued']
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=args.expires)
        doc = {'AccessKeyId': f'ASIASTUB{n:04d}', 'SecretAccessKey': f'STUBSECRET{n:04d}/k+y',
               'Token': f'STUBSESSIONTOKEN{n:04d}==',
               'Expiration': expires.strftime('%Y-%m-%dT%H:%M:%SZ')}
        if imds:
            doc = {'Code': 'Failure' if args.mode == 'nocode' else 'Success',
                   'LastUpdated': '2026-01-01T00:00:00Z', 'Type': 'AWS-HMAC', **doc}
        else:
            doc['RoleArn'] = 'arn:aws:iam::123456789012:role/stub'
        if args.mode == 'escaped':
            doc['Expiration'] = expires.astimezone(datetime.timezone(datetime.timedelta(hours=-5))).isoformat()
            doc['Nested'] = {'a': [1, 2.5e3, None, True, False, {'AccessKeyId': 'NOTTHIS'}], 'b': '\\"}'}
            body = json.dumps(doc).replace('ASIASTUB', '\\u0041SIASTUB').replace('/', '\\/')
            return 200, body.encode()
        return 200, json.dumps(doc, indent=2).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, body):
            self.send_response(status)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            ttl = self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')
            log(f'PUT {self.path} ttl={ttl}')
            if self.path != '/latest/api/token' or not ttl:
                return self.answer(400, b'bad token request\n')
            with lock:
                state['tokens_made'] += 1
                token = f'IMDSTOKEN{state["tokens_made"]}'
                state['tokens'].add(token)
            self.answer(200, token.encode())

        def do_GET(self):
            if self.path.startswith('/container/'):
                auth = self.headers.get('Authorization')
                ok = args.container_token is None or auth == args.container_token
                log(f'GET {self.path} auth={"none" if auth is None else "ok" if ok else "bad"}')
                if not ok:
                    return self.answer(401, b'bad token\n')
                return self.answer(*credentials(False))
            token = self.headers.get('X-aws-ec2-metadata-token')
            with lock:
                good = token in state['tokens']
            log(f'GET {self.path} token={"ok" if good else "none" if token is None else "bad"}')
            if not good:
                return self.answer(401, b'')
            if self.path == ROLE_PATH:
                return self.answer(200, args.role.encode())
            if self.path == ROLE_PATH + args.role:
                return self.answer(*credentials(True))
            self.answer(404, b'not found\n')

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == '__main__':
    main()

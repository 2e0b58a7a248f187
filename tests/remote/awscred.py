#!/usr/bin/env python3
"""awscred.py PROBE STUB - the AWS credential chain's network links
(core/source/awscred.c) against imds_stub.py on 127.0.0.1: IMDSv2 (the
token PUT before the GETs, the token sent with them), container credentials
by relative and full URI with the Authorization token (variable and file),
refreshing keys that expire soon, keeping them when the refresh fails,
IMDS disabled, and clear errors for a failing, garbled or oversized answer.
The probe prints the origin, the access key id and whether a session token
came; no output may show a secret."""
import os
import subprocess
import sys
import tempfile
import time

PROBE, STUB = sys.argv[1], sys.argv[2]
failures = []


class Stub:
    def __init__(self, tmp, *args):
        self.log = os.path.join(tmp, 'stub.log')
        port_file = os.path.join(tmp, 'stub.port')
        for p in (self.log, port_file):
            if os.path.exists(p):
                os.unlink(p)
        open(self.log, 'w').close()
        self.proc = subprocess.Popen([sys.executable, STUB, '--port-file', port_file, '--log', self.log, *args])
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit('imds_stub.py did not start')
            time.sleep(0.02)
        with open(port_file, encoding='utf-8') as f:
            self.url = f'http://127.0.0.1:{int(f.read())}'

    def requests(self):
        with open(self.log, encoding='utf-8') as f:
            return f.read().splitlines()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def run(tmp, env_add, args=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update({'AWS_SHARED_CREDENTIALS_FILE': os.path.join(tmp, 'nonexistent-credentials'),
                'AWS_CONFIG_FILE': os.path.join(tmp, 'nonexistent-config')})
    env.update(env_add)
    start = time.time()
    p = subprocess.run([PROBE, *args], env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr, time.time() - start


def check(name, cond, detail=''):
    print(('ok   ' if cond else 'FAIL ') + name + ('' if cond else f': {detail}'))
    if not cond:
        failures.append(name)


def no_secret(name, out, err):
    check(f'{name}: no secret in the output', 'STUBSECRET' not in out + err and 'STUBSESSIONTOKEN' not in out + err
          and 'sekrit' not in out + err, out + err)


def scenario(tmp, name, stub_args, env_add, probe_args=(), uses_stub_url=True):
    """Run the probe once against a fresh stub; (rc, out, err, requests)."""
    stub = Stub(tmp, *stub_args)
    try:
        env = {k: v.replace('STUB', stub.url) for k, v in env_add.items()}
        args = [a.replace('STUB', stub.url) for a in probe_args]
        rc, out, err, took = run(tmp, env, args)
        no_secret(name, out, err)
        check(f'{name}: one line of error at most', err.count('\n') <= 1, err)
        return rc, out, err, stub.requests(), took
    finally:
        stub.stop()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        imds = {'AWS_EC2_METADATA_SERVICE_ENDPOINT': 'STUB'}

        # IMDSv2: the token first, then the role and its keys, each GET with the token
        rc, out, err, reqs, _ = scenario(tmp, 'imds', [], imds)
        check('imds: keys', rc == 0 and 'origin: instance metadata (IMDSv2)' in out and
              'access_key: ASIASTUB0001' in out and 'session_token: yes' in out, out + err)
        check('imds: PUT token before the GETs, token sent',
              reqs == ['PUT /latest/api/token ttl=21600',
                       'GET /latest/meta-data/iam/security-credentials/ token=ok',
                       'GET /latest/meta-data/iam/security-credentials/stub-role token=ok'], reqs)

        # escapes, nested members and an Expiration of another zone (an hour ahead:
        # not fetched again)
        rc, out, err, reqs, _ = scenario(tmp, 'imds-escaped', ['--mode', 'escaped'], imds, ['--again', '5.5'])
        check('imds-escaped: keys', rc == 0 and out.count('access_key: ASIASTUB0001') == 2 and len(reqs) == 3,
              out + err + repr(reqs))

        # keys far from expiry are not fetched again
        rc, out, err, reqs, _ = scenario(tmp, 'imds-no-refresh', ['--expires', '3600'], imds, ['--again', '0.5'])
        check('imds-no-refresh: same keys, one fetch', rc == 0 and out.count('ASIASTUB0001') == 2 and
              len(reqs) == 3, out + err + repr(reqs))

        # keys expiring in under 5 minutes are fetched again (new token too),
        # but not more often than every 5 seconds
        rc, out, err, reqs, _ = scenario(tmp, 'imds-refresh', ['--expires', '120'], imds,
                                         ['--again', '0.2', '--again', '5.5'])
        check('imds-refresh: new keys', rc == 0 and out.count('ASIASTUB0001') == 2 and 'ASIASTUB0002' in out,
              out + err)
        check('imds-refresh: two token PUTs', sum(r.startswith('PUT') for r in reqs) == 2, reqs)

        # many threads asking while the keys are fetched again: each gets one whole set
        rc, out, err, reqs, _ = scenario(tmp, 'imds-threads', ['--expires', '120'], imds,
                                         ['--threads', '16', '--again', '5.5', '--again', '0.5'])
        check('imds-threads: consistent keys', rc == 0 and 'ASIASTUB0002' in out and
              'threads: 16 consistent: yes failed: no' in out, out + err)
        check('imds-threads: one fetch at a time', sum(r.startswith('PUT') for r in reqs) == 2, reqs)

        # a failed refresh keeps the old keys while they are valid
        rc, out, err, reqs, _ = scenario(tmp, 'imds-refresh-fails', ['--expires', '120', '--fail-after', '1'],
                                         imds, ['--again', '5.5'])
        check('imds-refresh-fails: old keys kept', rc == 0 and out.count('ASIASTUB0001') == 2, out + err)
        check('imds-refresh-fails: it did try', sum(r.startswith('PUT') for r in reqs) == 2, reqs)

        # ... and are given up once really expired
        rc, out, err, reqs, _ = scenario(tmp, 'imds-expired', ['--expires', '1', '--fail-after', '1'],
                                         imds, ['--again', '2.2'])
        check('imds-expired: error', rc == 2 and 'expired' in err and 'HTTP 500' in err, out + err)

        # IMDS disabled: not one request
        rc, out, err, reqs, _ = scenario(tmp, 'imds-disabled', [],
                                         {**imds, 'AWS_EC2_METADATA_DISABLED': 'TRUE'})
        check('imds-disabled: error, no request', rc == 1 and 'AWS_EC2_METADATA_DISABLED=true' in err and
              not reqs, err + repr(reqs))

        # bad answers: clear errors
        for mode, text in [('500', 'HTTP 500'), ('garbage', 'not the credentials JSON'),
                           ('big', 'larger than 64 KiB'), ('nocode', 'Code is not Success')]:
            rc, out, err, reqs, _ = scenario(tmp, f'imds-{mode}', ['--mode', mode], imds)
            check(f'imds-{mode}: error', rc == 1 and err.startswith('error: no AWS credentials') and
                  'instance metadata (http://127.0.0.1:' in err and text in err, err)

        # nothing listening: a quick, clear error
        rc, out, err, took = run(tmp, {'AWS_EC2_METADATA_SERVICE_ENDPOINT': 'http://127.0.0.1:1'})
        check('imds-unreachable: error', rc == 1 and 'instance metadata (http://127.0.0.1:1)' in err, err)
        check('imds-unreachable: within the timeouts', took < 10, took)

        # container, relative URI: on the container host, no Authorization header
        rc, out, err, reqs, _ = scenario(tmp, 'container-relative', [],
                                         {**imds, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI': '/container/v2/abc'},
                                         ['--container-host', 'STUB'])
        check('container-relative: keys', rc == 0 and 'origin: container' in out and
              'access_key: ASIASTUB0001' in out and 'session_token: yes' in out, out + err)
        check('container-relative: one request, before IMDS', reqs == ['GET /container/v2/abc auth=none'], reqs)

        # full URI with the token from the variable, then from a file (which wins)
        full = {**imds, 'AWS_CONTAINER_CREDENTIALS_FULL_URI': 'STUB/container/full',
                'AWS_CONTAINER_AUTHORIZATION_TOKEN': 'sekrit'}
        rc, out, err, reqs, _ = scenario(tmp, 'container-full', ['--container-token', 'sekrit'], full)
        check('container-full: keys', rc == 0 and 'ASIASTUB0001' in out, out + err)
        check('container-full: token sent', reqs == ['GET /container/full auth=ok'], reqs)
        token_file = os.path.join(tmp, 'token')
        with open(token_file, 'w', encoding='utf-8') as f:
            f.write('sekrit-from-file\n')
        rc, out, err, reqs, _ = scenario(tmp, 'container-token-file', ['--container-token', 'sekrit-from-file'],
                                         {**full, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE': token_file})
        check('container-token-file: keys', rc == 0 and reqs == ['GET /container/full auth=ok'], out + err + repr(reqs))
        rc, out, err, reqs, _ = scenario(tmp, 'container-bad-token', ['--container-token', 'other'], full)
        check('container-bad-token: error', rc == 1 and 'AWS_CONTAINER_CREDENTIALS_FULL_URI' in err and
              'HTTP 401' in err and 'instance metadata' not in err, err)
        rc, out, err, reqs, _ = scenario(tmp, 'container-refresh', ['--expires', '60', '--container-token', 'sekrit'],
                                         full, ['--again', '5.5'])
        check('container-refresh: new keys', rc == 0 and 'ASIASTUB0002' in out and len(reqs) == 2, out + err)
        rc, out, err, reqs, _ = scenario(tmp, 'container-garbage', ['--mode', 'garbage'], full)
        check('container-garbage: error', rc == 1 and 'container credentials' in err and
              'not the credentials JSON' in err, err)

        # the environment comes first: no request at all
        rc, out, err, reqs, _ = scenario(tmp, 'environment-first', [],
                                         {**full, 'AWS_ACCESS_KEY_ID': 'AKIAENV', 'AWS_SECRET_ACCESS_KEY': 'STUBSECRETenv'})
        check('environment-first: no request', rc == 0 and 'origin: environment' in out and
              'session_token: no' in out and not reqs, out + err + repr(reqs))

    if failures:
        print(f'{len(failures)} failed: {", ".join(failures)}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

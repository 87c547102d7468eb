// Commands end to end over stubs: a fake Runtime and a session whose store behaves like the API server. The
// real protocol runs; time is a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/app.ts';
import {
  CancelledError,
  CmlockError,
  ExitCode,
  HeldError,
  LockNotFoundError,
  NotHolderError,
  UsageError,
} from '../../../src/errors.ts';
import type { LockView } from '../../../src/lock/types.ts';
import { BOB, cmlock } from '../lock/fakes.ts';
import { harness, run, type Harness } from './fakes.ts';

function expectError(result: { code?: number; error?: unknown }, type: new (...a: never[]) => Error, code: number) {
  assert.ok(result.error instanceof type, `expected ${type.name}, got ${String(result.error ?? result.code)}`);
  assert.ok(result.error instanceof CmlockError);
  assert.equal(result.error.exitCode, code);
}

/** A second invocation against the same cluster and clock. */
function next(h: Harness, argv: string[], options: Parameters<typeof harness>[1] = {}): Harness {
  return harness(argv, { store: h.store, clock: h.clock, ...options });
}

describe('acquire', () => {
  it('takes the lock and says so on stdout', async () => {
    const h = harness([
      'acquire',
      'db-migrate',
      '--ttl',
      '30m',
      '--reason',
      'schema v42',
      '--request-timeout',
      '5s',
      '-v',
      '2',
    ]);
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text, 'acquired lock "db-migrate" in namespace "team-a" (fence 101, expires 07:00:00Z)\n');
    assert.equal(h.stderr.text, '');
    const [connect] = h.connects;
    assert.equal(connect?.requestTimeoutMs, 5000);
    assert.equal(connect?.verbosity, 2);
    assert.equal(connect?.namespace, undefined);
  });

  it('-o json prints the lock: identity user@host, the authenticated user, the host', async () => {
    const h = harness(['acquire', 'db-migrate', '-o', 'json'], { user: 'alice@example.com' });
    assert.deepEqual(await run(h), { code: 0 });
    const lock = JSON.parse(h.stdout.text) as LockView;
    assert.equal(lock.holder, 'alice@host1');
    assert.equal(lock.user, 'alice@example.com');
    assert.equal(lock.host, 'host1');
    assert.equal(lock.leaseDurationSeconds, 3600);
    assert.equal(lock.status, 'Held');
  });

  it('again by the same identity: "already held by you"', async () => {
    const h = harness(['acquire', 'db-migrate']);
    await run(h);
    const again = next(h, ['acquire', 'db-migrate', '--ttl', '2h']);
    assert.deepEqual(await run(again), { code: 0 });
    assert.equal(again.stdout.text, 'lock "db-migrate" already held by you; expiry extended to 08:30:00Z\n');
  });

  it('held by someone else, --timeout 0: exit 3 at once, the flag that waits named, nothing on stdout', async () => {
    const h = harness(['acquire', 'db-migrate', '--timeout', '0']);
    h.store.seed(cmlock({ holder: BOB }));
    const result = await run(h);
    expectError(result, HeldError, ExitCode.held);
    assert.match(
      String(result.error),
      /^HeldError: lock "db-migrate" is held by bob@host2 .*; use --timeout to wait for it$/,
    );
    assert.equal(h.stdout.text, '');
    assert.equal(h.stderr.text, '');
  });

  it('held, --timeout 5s: a plain status line on a non-terminal, then exit 3', async () => {
    const h = harness(['acquire', 'db-migrate', '--timeout', '5s']);
    h.store.seed(cmlock({ holder: BOB }));
    expectError(await run(h), HeldError, ExitCode.held);
    assert.equal(
      h.stderr.text,
      'waiting for lock "db-migrate": held by bob@host2 since 06:30:00Z (0s ago), expires in 30m; 1st in line of 1; ' +
        'waited 0s\n',
    );
  });

  it('on a terminal the status line is redrawn in place and cleared before the result', async () => {
    const h = harness(['acquire', 'db-migrate', '--timeout', '3s'], { stderrTTY: true });
    h.store.seed(cmlock({ holder: BOB }));
    expectError(await run(h), HeldError, ExitCode.held);
    const frames = h.stderr.text.split('\r\u001b[2K');
    assert.equal(frames[0], '');
    assert.equal(frames.at(-1), '', 'the line is cleared at the end');
    assert.ok(frames.length >= 4, `redrawn: ${JSON.stringify(frames)}`);
    assert.match(frames[2] ?? '', /waited 1s$/);
    assert.ok(frames.every((f) => f.length < 120 && !f.includes('\n')));
  });

  it('on a narrow terminal the status line is cut to fit, so that \\r redraws one line', async () => {
    const h = harness(['acquire', 'db-migrate', '--timeout', '1s'], { stderrTTY: true, stderrColumns: 40 });
    h.store.seed(cmlock({ holder: BOB }));
    await run(h);
    const frames = h.stderr.text.split('\r\u001b[2K').filter((f) => f !== '');
    assert.ok(frames.length > 0 && frames.every((f) => f.length === 39), JSON.stringify(frames));
  });

  it('waits in line while held and takes it when it is released (handed over)', async () => {
    const h = harness(['acquire', 'db-migrate']);
    h.store.seed(cmlock({ holder: BOB }));
    const done = runCli(h.rt);
    await h.clock.advance(90_000);
    assert.equal(h.stdout.text, '');
    await run(next(h, ['release', 'db-migrate', '--identity', BOB.identity]));
    assert.equal(await h.clock.run(done), 0);
    assert.match(h.stdout.text, /^acquired lock "db-migrate"/);
    const lines = h.stderr.text.trimEnd().split('\n');
    assert.equal(lines.length, 4, 'a plain line at once, then every 30 s');
    assert.match(lines[3] ?? '', /waited 90s$/);
  });

  it('Ctrl-C while waiting: the cancellation error carries the signal exit code', async () => {
    const h = harness(['acquire', 'db-migrate']);
    h.store.seed(cmlock({ holder: BOB }));
    const done = runCli(h.rt);
    await h.clock.advance(2000);
    h.abort.abort(new CancelledError('interrupted by SIGTERM', 143));
    const result = await h.clock.run(done).then(
      (code) => ({ code }),
      (error: unknown) => ({ error }),
    );
    expectError(result, CancelledError, 143);
  });

  it('identity from CMLOCK_IDENTITY; --identity wins', async () => {
    const h = harness(['acquire', 'a', '-o', 'json'], { env: { CMLOCK_IDENTITY: 'ci/pipeline-9' } });
    await run(h);
    assert.equal((JSON.parse(h.stdout.text) as LockView).holder, 'ci/pipeline-9');
    const flag = next(h, ['acquire', 'b', '-o', 'json', '--identity', 'me'], { env: { CMLOCK_IDENTITY: 'ci' } });
    await run(flag);
    assert.equal((JSON.parse(flag.stdout.text) as LockView).holder, 'me');
  });

  it('inside a Pod: identity pod/NS/NAME and the Pod as owner, with its real UID', async () => {
    const env = { POD_NAME: 'job-1-abc', POD_NAMESPACE: 'team-a' };
    const h = harness(['acquire', 'db-migrate', '-o', 'json'], { env, pods: { 'team-a/job-1-abc': 'uid-pod-1' } });
    assert.deepEqual(await run(h), { code: 0 });
    const lock = JSON.parse(h.stdout.text) as LockView;
    assert.equal(lock.holder, 'pod/team-a/job-1-abc');
    assert.equal(lock.owner, 'pod/job-1-abc');
    assert.deepEqual(h.store.locks.get('db-migrate')?.ownerReferences, [
      { apiVersion: 'v1', kind: 'Pod', name: 'job-1-abc', uid: 'uid-pod-1' },
    ]);
  });

  it('inside a Pod of another namespace, or with --owner none: no Pod, the lock is its own owner', async () => {
    const env = { POD_NAME: 'p', POD_NAMESPACE: 'elsewhere' };
    const h = harness(['acquire', 'a'], { env, pods: { 'elsewhere/p': 'uid-p' } });
    await run(h);
    const a = h.store.locks.get('a');
    assert.deepEqual(a?.ownerReferences, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: a?.uid }]);
    const none = next(h, ['acquire', 'b', '--owner', 'none'], { env: { POD_NAME: 'p', POD_NAMESPACE: 'team-a' } });
    await run(none);
    const b = h.store.locks.get('b');
    assert.deepEqual(b?.ownerReferences, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: b?.uid }]);
  });

  it('the automatic owner is best effort: a missing Pod is a warning', async () => {
    const h = harness(['acquire', 'a'], { env: { POD_NAME: 'gone', POD_NAMESPACE: 'team-a' } });
    assert.deepEqual(await run(h), { code: 0 });
    assert.match(h.stderr.text, /^warning: pod "gone" \(from \$POD_NAME\) not found; the lock is not tied to a Pod\n$/);
  });

  it('in a Pod without the downward-API env: the hostname is the Pod name, in the service account namespace', async () => {
    // Kubernetes sets a Pod's hostname to its name; the fake runtime's hostname is "host1".
    const h = harness(['acquire', 'db-migrate', '-o', 'json'], {
      podNamespace: 'team-a',
      pods: { 'team-a/host1': 'uid-h' },
    });
    assert.deepEqual(await run(h), { code: 0 });
    const lock = JSON.parse(h.stdout.text) as LockView;
    assert.equal(lock.holder, 'pod/team-a/host1');
    assert.equal(h.store.locks.get('db-migrate')?.ownerReferences[0]?.uid, 'uid-h');
    assert.equal(h.stderr.text, '');

    // A hostname that is not the Pod's name (spec.hostname): a warning that says how to fix it.
    const other = next(h, ['acquire', 'other'], { podNamespace: 'team-a' });
    assert.deepEqual(await run(other), { code: 0 });
    assert.equal(
      other.stderr.text,
      'warning: pod "host1" (from the hostname) not found; the lock is not tied to a Pod; ' +
        'set POD_NAME and POD_NAMESPACE from the downward API\n',
    );
  });

  it('outside a Pod, the hostname is only part of the identity', async () => {
    const h = harness(['acquire', 'db-migrate', '-o', 'json'], { pods: { 'team-a/host1': 'uid-h' } });
    assert.deepEqual(await run(h), { code: 0 });
    const lock = JSON.parse(h.stdout.text) as LockView;
    assert.match(lock.holder, /@host1$/);
    assert.equal(lock.owner, '', 'no Pod');
    assert.deepEqual(
      h.store.locks.get('db-migrate')?.ownerReferences.map((o) => o.kind),
      ['ConfigMap'],
    );
  });

  it('--owner pod/NAME: the real UID; a missing Pod is an error before anything is created', async () => {
    const h = harness(['acquire', 'a', '--owner', 'pod/web-0'], { pods: { 'team-a/web-0': 'uid-web-0' } });
    await run(h);
    assert.equal(h.store.locks.get('a')?.ownerReferences[0]?.uid, 'uid-web-0');
    const missing = next(h, ['acquire', 'b', '--owner', 'pod/nope']);
    const result = await run(missing);
    expectError(result, CmlockError, ExitCode.error);
    assert.match(String((result.error as Error).message), /^pod "nope" not found in namespace "team-a"/);
    assert.ok(!missing.store.locks.has('b'));
  });

  it("--owner pod/NS/NAME naming another namespace than the context's: usage error, nothing created", async () => {
    const h = harness(['acquire', 'a', '--owner', 'pod/other/web-0'], { pods: { 'other/web-0': 'uid' } });
    const result = await run(h);
    expectError(result, UsageError, ExitCode.usage);
    assert.match(String((result.error as Error).message), /^owner references cannot cross namespaces/);
    assert.deepEqual(h.store.calls, []);
  });
});

describe('release, renew', () => {
  it('releases your lock', async () => {
    const h = harness(['acquire', 'x']);
    await run(h);
    const r = next(h, ['release', 'x']);
    assert.deepEqual(await run(r), { code: 0 });
    assert.equal(r.stdout.text, 'released lock "x"\n');
    assert.equal(r.stderr.text, '');
    assert.ok(!h.store.locks.has('x'));
  });

  it("someone else's: exit 4; --force breaks it with a warning naming the holder", async () => {
    const h = harness(['release', 'db-migrate']);
    h.store.seed(cmlock({ holder: BOB, reason: 'deploy' }));
    const refused = await run(h);
    expectError(refused, NotHolderError, ExitCode.notHolder);
    assert.match(String(refused.error), /, not by you \(alice@host1\); use --force to release it anyway$/);
    assert.ok(h.store.locks.has('db-migrate'));
    const f = next(h, ['release', 'db-migrate', '--force']);
    assert.deepEqual(await run(f), { code: 0 });
    assert.equal(f.stdout.text, 'released lock "db-migrate"\n');
    assert.equal(
      f.stderr.text,
      'warning: broke lock "db-migrate" held by bob@host2 since 06:30:00Z (reason: deploy)\n',
    );
  });

  it('not found: exit 5; --ignore-not-found: silent success', async () => {
    expectError(await run(harness(['release', 'x'])), LockNotFoundError, ExitCode.notFound);
    const h = harness(['release', 'x', '--ignore-not-found']);
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text + h.stderr.text, '');
  });

  it('renew prints the new expiry; -o yaml the lock', async () => {
    const h = harness(['acquire', 'x', '--ttl', '10m']);
    await run(h);
    await h.clock.advance(60_000);
    const r = next(h, ['renew', 'x']);
    assert.deepEqual(await run(r), { code: 0 });
    assert.equal(r.stdout.text, 'renewed lock "x"; expires 06:41:00Z\n');
    const y = next(h, ['renew', 'x', '--ttl', '1h', '-o', 'yaml']);
    await run(y);
    assert.match(y.stdout.text, /^name: x\n/m);
    assert.match(y.stdout.text, /^leaseDurationSeconds: 3600$/m);
  });
});

describe('ls, describe', () => {
  it('nothing there: a message on stderr, nothing on stdout (json: empty items)', async () => {
    const h = harness(['ls']);
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text, '');
    assert.equal(h.stderr.text, 'No locks found in namespace "team-a".\n');
    const all = harness(['ls', '-A']);
    await run(all);
    assert.equal(all.stderr.text, 'No locks found.\n');
    const json = harness(['ls', '-o', 'json']);
    await run(json);
    assert.equal(json.stdout.text, '{\n  "items": []\n}\n');
    assert.equal(json.stderr.text, '');
  });

  it('the table, relative to the server clock (the local clock is 10 minutes off)', async () => {
    const h = harness(['acquire', 'db-migrate', '--ttl', '30m', '--reason', 'schema v42']);
    await run(h);
    h.store.seed(cmlock({ name: 'drain', holder: BOB, ttlSeconds: 60, reason: 'node-3' }));
    await h.clock.advance(5 * 60_000 + 12_000);
    const ls = next(h, ['ls']);
    assert.deepEqual(await run(ls), { code: 0 });
    assert.equal(
      ls.stdout.text,
      [
        'NAME         HOLDER        STATUS    AGE     EXPIRES             WAITING   REASON',
        'db-migrate   alice@host1   Held      5m12s   in 24m              0         schema v42',
        'drain        bob@host2     Expired   5m12s   expired 4m12s ago   0         node-3',
        '',
      ].join('\n'),
    );
    const names = next(h, ['ls', '-o', 'name']);
    await run(names);
    assert.equal(names.stdout.text, 'cmlock/db-migrate\ncmlock/drain\n');
  });

  it('-l passes the selector to the server', async () => {
    const h = harness(['ls', '-l', 'team=db', '--no-headers']);
    const labels = (team: string) => ({ 'app.kubernetes.io/managed-by': 'kubectl-cmlock', team });
    h.store.seed(cmlock({ name: 'a', labels: labels('db') })).seed(cmlock({ name: 'b', labels: labels('web') }));
    await run(h);
    assert.match(h.stdout.text, /^a {3}bob@host2 /);
    assert.doesNotMatch(h.stdout.text, /^b /m);
  });

  it('describe shows the lock and its events; a missing lock is exit 5', async () => {
    const h = harness(['acquire', 'x', '--reason', 'why']);
    await run(h);
    const d = next(h, ['describe', 'x']);
    assert.deepEqual(await run(d), { code: 0 });
    assert.match(d.stdout.text, /^Holder: {10}alice@host1$/m);
    assert.match(d.stdout.text, /^ {2}Normal {2}Acquired {2}0s {4}alice@host1 \(user alice\) acquired the lock/m);
    expectError(await run(next(h, ['describe', 'nope'])), LockNotFoundError, ExitCode.notFound);
  });
});

describe('wait', () => {
  it('a free lock: exit 0 at once, nothing printed', async () => {
    const h = harness(['wait', 'x']);
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text + h.stderr.text, '');
  });

  it('held: waits until it expires, status on stderr only', async () => {
    const h = harness(['wait', 'db-migrate']);
    h.store.seed(cmlock({ holder: BOB, ttlSeconds: 60 }));
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text, '');
    assert.match(h.stderr.text, /^waiting for lock "db-migrate": held by bob@host2 .*expires in 60s; waited 0s\n/);
    assert.ok(h.clock.now() - 10_000 >= 60_000, 'not before it expired');
  });

  it('--timeout reached: exit 3', async () => {
    const h = harness(['wait', 'db-migrate', '--timeout', '10s']);
    h.store.seed(cmlock({ holder: BOB }));
    const result = await run(h);
    expectError(result, HeldError, ExitCode.held);
    assert.match(
      String(result.error),
      /^LockHeldError: timed out after 10s waiting for lock "db-migrate" \(held by bob@host2 .*\)$/,
    );
  });

  it('--timeout 0 on a held lock: exit 3, no flag to suggest (wait takes nothing)', async () => {
    const h = harness(['wait', 'db-migrate', '--timeout', '0']);
    h.store.seed(cmlock({ holder: BOB }));
    const result = await run(h);
    expectError(result, HeldError, ExitCode.held);
    assert.match(
      String(result.error),
      /^LockHeldError: lock "db-migrate" is held by bob@host2 .*expires \S+ \(in 30m\)$/,
    );
  });
});

describe('commands that never touch the cluster', () => {
  it('version, -o json', async () => {
    const h = harness(['version']);
    assert.deepEqual(await run(h), { code: 0 });
    assert.equal(h.stdout.text, 'kubectl-cmlock v0.1.0\n');
    const j = harness(['version', '-o', 'json']);
    await run(j);
    assert.deepEqual(JSON.parse(j.stdout.text), { version: 'v0.1.0' });
    assert.deepEqual([...h.connects, ...j.connects], []);
  });

  it('--help goes to stdout', async () => {
    const h = harness(['ls', '--help']);
    assert.deepEqual(await run(h), { code: 0 });
    assert.match(h.stdout.text, /^List the locks/);
    assert.deepEqual(h.connects, []);
  });

  it('completion bash|zsh|fish', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const h = harness(['completion', shell]);
      assert.deepEqual(await run(h), { code: 0 });
      assert.match(h.stdout.text, /kubectl-cmlock __complete/);
      assert.deepEqual(h.connects, []);
    }
  });
});

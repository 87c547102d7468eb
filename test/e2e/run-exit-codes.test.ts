// `kubectl cmlock run NAME -- CMD`: CMD's exit code passes through (128+N for a death by signal N), CMD runs
// without a shell with its arguments exactly as given, sees CMLOCK_*, and the lock is gone once run returns.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cmlock, testNamespace, uniqueName } from './harness.ts';
import { fileAppears, serverLock, tempDir } from './run-helpers.ts';

describe('run: exit codes, arguments, environment', { concurrency: true }, () => {
  for (const [what, script, code] of [
    ['exit 0', 'exit 0', 0],
    ['exit 1', 'exit 1', 1],
    ['exit 42', 'exit 42', 42],
    ['death by SIGTERM', 'kill -TERM $$', 143],
    ['death by SIGKILL', 'kill -KILL $$', 137],
  ] as const) {
    test(`run passes CMD's ${what} through as ${code} and releases the lock`, async (t) => {
      const ns = await testNamespace(t, 'run');
      const name = uniqueName('code');
      const r = await cmlock(['run', name, '-n', ns, '--', 'sh', '-c', `echo in-cmd; ${script}`]);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout, 'in-cmd\n');
      assert.equal(r.stderr, '');
      assert.equal(await serverLock(ns, name), undefined, 'the lock was released');
    });
  }

  test('CMD sees CMLOCK_NAME, CMLOCK_NAMESPACE, CMLOCK_HOLDER and CMLOCK_FENCE of the lock it holds', async (t) => {
    const ns = await testNamespace(t, 'run');
    const name = uniqueName('env');
    const dir = tempDir(t);
    const envFile = join(dir, 'env');
    const lockFile = join(dir, 'lock.json');
    // While CMD runs, the lock as `describe -o json` shows it (through the same plugin, from inside CMD).
    const script = `env | grep '^CMLOCK_' | sort > '${envFile}.tmp' && mv '${envFile}.tmp' '${envFile}'; kubectl cmlock describe "$CMLOCK_NAME" -n "$CMLOCK_NAMESPACE" -o json > '${lockFile}'`;
    const r = await cmlock(['run', name, '-n', ns, '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);

    const env = Object.fromEntries(
      (await fileAppears(envFile))
        .trimEnd()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    const lock = JSON.parse(await fileAppears(lockFile)) as { holder: string; fence: string; name: string };
    assert.equal(env['CMLOCK_NAME'], name);
    assert.equal(env['CMLOCK_NAMESPACE'], ns);
    assert.equal(env['CMLOCK_HOLDER'], lock.holder);
    assert.match(env['CMLOCK_HOLDER'] ?? '', /\/run-\d+-[0-9a-f]{4}$/, 'a holder identity unique to this run');
    assert.match(env['CMLOCK_FENCE'] ?? '', /^\d+$/);
    assert.equal(env['CMLOCK_FENCE'], lock.fence);
    assert.equal(await serverLock(ns, name), undefined, 'the lock was released');
  });

  test('CMD runs without a shell, its arguments passed exactly', async (t) => {
    const ns = await testNamespace(t, 'run');
    const args = ['a b', '$HOME', '*', "it's", '--ttl', '-n', '', 'ü\ttab'];
    const r = await cmlock(['run', uniqueName('args'), '-n', ns, '--', 'printf', '[%s]\\n', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, args.map((a) => `[${a}]\n`).join(''));
  });

  test('a CMD that cannot be started: 127 as a shell says it, and the lock is released', async (t) => {
    const ns = await testNamespace(t, 'run');
    const name = uniqueName('nocmd');
    const r = await cmlock(['run', name, '-n', ns, '--', 'no-such-command-here', 'x']);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(r.stderr, 'error: no-such-command-here: command not found\n');
    assert.equal(await serverLock(ns, name), undefined);
  });

  test('two runs of one lock by the same user on the same host exclude each other', async (t) => {
    const ns = await testNamespace(t, 'run');
    const name = uniqueName('excl');
    const dir = tempDir(t);
    const log = join(dir, 'log');
    // Each CMD writes "start" and "end" around a pause; with exclusion the lines never interleave.
    const cmd = ['sh', '-c', `echo start >> '${log}'; sleep 0.3; echo end >> '${log}'`];
    const [a, b] = await Promise.all([
      cmlock(['run', name, '-n', ns, '--', ...cmd]),
      cmlock(['run', name, '-n', ns, '--', ...cmd]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(await fileAppears(log), 'start\nend\nstart\nend\n');
  });
});

// Signals to `kubectl cmlock run`: while CMD runs, SIGTERM, SIGINT and SIGHUP are forwarded to it, cmlock waits for
// it, releases the lock and exits with CMD's code; while run still waits for the lock, SIGINT ends it at once and
// leaves no lock of its own. kubectl execs the plugin, so the pid the test started is cmlock's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cmlock, kubectlOk, testNamespace, uniqueName } from './harness.ts';
import { exeOf, fileAppears, readIfExists, serverLock, startCmlock, stderrMatches, tempDir } from './run-helpers.ts';

const KUBECTL = realpathSync(spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim());

/** A CMD that says it is ready, and on SIGNAL writes its name to `marker` and exits with `code`. */
function trapping(dir: string, signal: string, code: number): string[] {
  const ready = join(dir, 'ready');
  const marker = join(dir, 'marker');
  const script = [
    `trap 'echo ${signal} > "${marker}"; exit ${code}' ${signal}`,
    `echo $$ > '${ready}'`,
    // A short sleep in a loop: the shell runs the trap as soon as the sleep ends (it gets the signal too).
    'while :; do sleep 0.1; done',
  ].join('; ');
  return ['sh', '-c', script];
}

describe('signals to run while CMD runs', { concurrency: true }, () => {
  for (const [signal, code] of [
    ['SIGTERM', 7],
    ['SIGINT', 8],
    ['SIGHUP', 9],
  ] as const) {
    test(`${signal} reaches CMD; cmlock waits for it, releases the lock and exits with its code`, async (t) => {
      const ns = await testNamespace(t, 'sig');
      const name = uniqueName('sig');
      const dir = tempDir(t);
      const run = startCmlock(['run', name, '-n', ns, '--', ...trapping(dir, signal.slice(3), code)]);
      await fileAppears(join(dir, 'ready'));
      // kubectl exec'd the plugin: the process we started is cmlock now, not kubectl.
      assert.notEqual(exeOf(run.pid), KUBECTL, 'the pid is the plugin: kubectl exec()d it');
      assert.ok(await serverLock(ns, name), 'held while CMD runs');

      process.kill(run.pid, signal);
      const r = await run.result;
      assert.equal(r.code, code, r.stderr);
      assert.equal(readIfExists(join(dir, 'marker')), `${signal.slice(3)}\n`);
      // Nothing from cmlock (the shell may say its sleep was "Terminated").
      assert.doesNotMatch(r.stderr, /error|warning/, r.stderr);
      assert.equal(await serverLock(ns, name), undefined, 'released after CMD exited');
    });
  }
});

test('SIGINT while run waits for the lock: exits 130 at once, CMD never starts, no lock of its own', async (t) => {
  const ns = await testNamespace(t, 'sig');
  const name = uniqueName('wait');
  const dir = tempDir(t);
  const held = await cmlock(['acquire', name, '-n', ns, '--identity', 'holder@e2e']);
  assert.equal(held.code, 0, held.stderr);
  const before = await serverLock(ns, name);

  const run = startCmlock(['run', name, '-n', ns, '--', 'touch', join(dir, 'started')]);
  await stderrMatches(run, new RegExp(`waiting for lock "${name}": held by holder@e2e`));
  const sentAt = Date.now();
  process.kill(run.pid, 'SIGINT');
  const r = await run.result;
  const took = (run.exitedAt() ?? NaN) - sentAt;
  t.diagnostic(`exited ${took} ms after SIGINT`);
  assert.equal(r.code, 130, r.stderr);
  assert.ok(took < 1000, `exited ${took} ms after SIGINT`);
  assert.doesNotMatch(r.stderr, /error:/);
  assert.equal(readIfExists(join(dir, 'started')), undefined, 'CMD never started');
  // The holder's record is untouched (run waited in line and left it: the holder's fence written down, nobody
  // waiting), and no other ConfigMap appeared.
  const after = await serverLock(ns, name);
  assert.deepEqual({ ...after?.data, fence: undefined }, { ...before?.data, fence: undefined });
  assert.equal(after?.data['waiters'], undefined);
  const names = await kubectlOk(['-n', ns, 'get', 'configmaps', '-o', 'name']);
  assert.deepEqual(
    names
      .trim()
      .split('\n')
      .filter((n) => n !== 'configmap/kube-root-ca.crt'),
    [`configmap/${name}`],
  );
});

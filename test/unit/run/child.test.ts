// runLocked with real tiny child processes (the lock and the clock stay fake): exit codes, signal deaths,
// arguments passed exactly without a shell, start failures, and signals reaching CMD's whole process group.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { CmlockError } from '../../../src/errors.ts';
import { exitCodeOf, startChildProcess, startFailure, type RunningChild } from '../../../src/run/child.ts';
import { runLocked } from '../../../src/run/run.ts';
import { harness } from './fakes.ts';

/** Waits for a real-world condition (a file appearing), polling; fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cmlock-run-test-'));
}

/** Real spawn that also remembers the children, so a test can check their process group is gone. */
function recordingSpawn(t: TestContext): { spawn: typeof startChildProcess; children: RunningChild[] } {
  const children: RunningChild[] = [];
  t.after(() => {
    for (const child of children) child.signalGroup('SIGKILL');
  });
  return {
    children,
    spawn: async (file, args, env, opts) => {
      const child = await startChildProcess(file, args, env, opts);
      children.push(child);
      return child;
    },
  };
}

describe('runLocked with real processes', () => {
  test('exit codes 0, 1 and 42 pass through', async () => {
    for (const code of [0, 1, 42]) {
      const h = harness({ command: ['sh', '-c', `exit ${code}`] }, startChildProcess);
      assert.equal(await runLocked(h.deps, h.options), code);
      assert.equal(h.lock.of('release').length, 1);
    }
  });

  test('death by signal N gives 128+N', async () => {
    for (const [signal, code] of [
      ['TERM', 143],
      ['KILL', 137],
      ['INT', 130],
    ] as const) {
      const h = harness({ command: ['sh', '-c', `kill -${signal} $$`] }, startChildProcess);
      assert.equal(await runLocked(h.deps, h.options), code, signal);
    }
  });

  test('arguments reach CMD exactly, with no shell, and CMD sees CMLOCK_*', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const args = ['a b', '*', '$HOME', '', "it's", '--x=1;echo hi'];
    const h = harness(
      {
        command: [
          'sh',
          '-c',
          'for a in "$@"; do printf "[%s]" "$a"; done > "$0"; ' +
            'printf "\\n%s %s %s %s" "$CMLOCK_NAME" "$CMLOCK_NAMESPACE" "$CMLOCK_HOLDER" "$CMLOCK_FENCE" >> "$0"',
          out,
          ...args,
        ],
      },
      startChildProcess,
    );
    assert.equal(await runLocked(h.deps, h.options), 0);
    assert.equal(readFileSync(out, 'utf8'), "[a b][*][$HOME][][it's][--x=1;echo hi]\ndb ops run-holder 17");
  });

  test('a command that does not exist: 127; one that is not executable: 126', async () => {
    const missing = harness({ command: [join(tempDir(), 'nope')] }, startChildProcess);
    assert.equal(await runLocked(missing.deps, missing.options), 127);
    assert.match(missing.stderr.join(''), /^error: \/.*\/nope: command not found\n$/);
    assert.equal(missing.lock.of('release').length, 1);

    const script = join(tempDir(), 'script.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o644);
    const denied = harness({ command: [script] }, startChildProcess);
    assert.equal(await runLocked(denied.deps, denied.options), 126);
    assert.equal(denied.stderr.join(''), `error: ${script}: permission denied\n`);
    assert.equal(denied.lock.of('release').length, 1);
  });

  test('a forwarded SIGTERM reaches CMD and its children; CMD’s own exit code is returned', async (t) => {
    const dir = tempDir();
    const ready = join(dir, 'ready');
    const { spawn, children } = recordingSpawn(t);
    // The child sleeps in a grandchild; SIGTERM to the group ends the sleep, and the trap exits 7.
    const h = harness(
      { command: ['sh', '-c', 'exec 2>/dev/null; trap "exit 7" TERM; touch "$0"; while :; do sleep 5; done', ready] },
      spawn,
    );
    const result = runLocked(h.deps, h.options);
    await until(() => existsSync(ready), 10_000, 'CMD is ready');
    h.signals.emit('SIGTERM');
    assert.equal(await result, 7);
    assert.equal(h.lock.of('release').length, 1);
    await until(() => children[0]?.signalGroup(0) === false, 10_000, 'the whole group is gone');
  });

  test('lost lock with a real process group that ignores SIGTERM: SIGKILL ends all of it, exit 6', async (t) => {
    const dir = tempDir();
    const ready = join(dir, 'ready');
    const { spawn, children } = recordingSpawn(t);
    const h = harness({ command: ['sh', '-c', 'trap "" TERM; sleep 60 & touch "$0"; wait', ready] }, spawn);
    h.lock.onRenew = async () => {
      throw new CmlockError('connection refused');
    };
    let finished = false;
    const result = runLocked(h.deps, h.options).finally(() => (finished = true));
    await until(() => existsSync(ready), 10_000, 'CMD is ready');
    const start = h.clock.now();
    await h.clock.advanceTo(start + 40_000); // the renew deadline: SIGTERM, ignored by the whole group
    assert.equal(finished, false);
    assert.equal(children[0]?.signalGroup(0), true, 'the group survives SIGTERM');
    await h.clock.advanceTo(start + 50_000); // SIGKILL
    assert.equal(await result, 6);
    // SIGKILL'd members linger as zombies until reaped by init: wait for that, not for a signal.
    await until(() => children[0]?.signalGroup(0) === false, 10_000, 'the whole group is gone');
    assert.match(h.stderr.join(''), /^error: lost lock "db": could not renew it for 40s .*; stopped sh\n$/);
  });
});

describe('child helpers', () => {
  test('exitCodeOf', () => {
    assert.equal(exitCodeOf({ code: 0, signal: null }), 0);
    assert.equal(exitCodeOf({ code: 255, signal: null }), 255);
    assert.equal(exitCodeOf({ code: null, signal: 'SIGHUP' }), 129);
    assert.equal(exitCodeOf({ code: null, signal: 'SIGSEGV' }), 139);
  });

  test('startFailure maps errno like a shell', () => {
    const err = (code: string): Error => Object.assign(new Error(code), { code });
    assert.deepEqual(startFailure(err('ENOENT')), { exitCode: 127, why: 'command not found' });
    assert.deepEqual(startFailure(err('EACCES')), { exitCode: 126, why: 'permission denied' });
    assert.deepEqual(startFailure(err('ENOEXEC')), { exitCode: 126, why: 'cannot execute: exec format error' });
    assert.deepEqual(startFailure(err('E2BIG')), { exitCode: 126, why: 'cannot execute: E2BIG' });
  });
});

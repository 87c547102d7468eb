// `kubectl cmlock run` as a command: the real protocol over the in-memory store of test/unit/cli, a fake clock, a
// scripted child and signals played by hand. What runLocked itself does is test/unit/run/run.test.ts; this is
// the wiring: the holder identity, CMLOCK_*, the status line, the signal source, the exit code.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../../src/cli/app.ts';
import { CancelledError } from '../../../src/errors.ts';
import type { ChildExit, RunningChild, StartChild } from '../../../src/run/child.ts';
import { BOB, cmlock } from '../lock/fakes.ts';
import { harness, type Harness } from '../cli/fakes.ts';

/** A child that runs until the test ends it, recording the signals it gets. */
class ScriptedChild implements RunningChild {
  readonly pid = 777;
  readonly signals: (NodeJS.Signals | 0)[] = [];
  readonly exited: Promise<ChildExit>;
  exit: (exit: ChildExit) => void = () => {};
  constructor() {
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }
  signalGroup(signal: NodeJS.Signals | 0): boolean {
    this.signals.push(signal);
    return true;
  }
  readonly guard = { arm: () => Promise.resolve(), killAfter: () => Promise.resolve(), hold: () => Promise.resolve() };
  disown(): Promise<void> {
    return Promise.resolve();
  }
}

function withChild(): { spawn: StartChild; child: () => ScriptedChild | undefined } {
  let child: ScriptedChild | undefined;
  return {
    spawn: async () => (child = new ScriptedChild()),
    child: () => child,
  };
}

async function outcome(h: Harness, done: Promise<number>): Promise<{ code?: number; error?: unknown }> {
  return h.clock.run(done).then(
    (code) => ({ code }),
    (error: unknown) => ({ error }),
  );
}

describe('run command', () => {
  it('holds the lock under an identity of its own while CMD runs, with CMLOCK_*; passes the code; releases', async () => {
    const c = withChild();
    const h = harness(['run', 'db-migrate', '-n', 'team-a', '--', 'migrate', '--to', 'v42'], {
      spawn: c.spawn,
      env: { PATH: '/usr/bin', CMLOCK_IDENTITY: 'ci/pipeline-9' },
    });
    const done = runCli(h.rt);
    await h.clock.advance(0);
    const child = c.child();
    assert.ok(child, 'CMD started');
    const lock = h.store.locks.get('db-migrate');
    assert.ok(lock, 'held while CMD runs');
    const [start] = h.spawned;
    assert.ok(start);
    assert.equal(start.file, 'migrate');
    assert.deepEqual(start.args, ['--to', 'v42']);
    // pid 4242 and the fake clock's random 0.5 -> suffix 8000.
    assert.equal(start.env['CMLOCK_HOLDER'], 'ci/pipeline-9/run-4242-8000');
    assert.equal(lock.data['holderIdentity'], 'ci/pipeline-9/run-4242-8000');
    assert.equal(start.env['CMLOCK_NAME'], 'db-migrate');
    assert.equal(start.env['CMLOCK_NAMESPACE'], 'team-a');
    // The create's resourceVersion, written down by the update that made the lock its own owner.
    assert.equal(start.env['CMLOCK_FENCE'], lock.data['fence']);
    assert.equal(Number(start.env['CMLOCK_FENCE']), Number(lock.resourceVersion) - 1);
    assert.equal(start.env['PATH'], '/usr/bin');
    assert.equal(start.env['CMLOCK_IDENTITY'], 'ci/pipeline-9');
    assert.equal(lock.data['user'], 'alice');

    child.exit({ code: 42, signal: null });
    assert.deepEqual(await outcome(h, done), { code: 42 });
    assert.equal(h.store.locks.has('db-migrate'), false, 'released');
    assert.equal(h.stdout.text, '');
    assert.equal(h.stderr.text, '');
    assert.equal(h.signals.installed, 0, 'signal handlers removed');
  });

  it('two runs by the same user on the same host exclude each other', async () => {
    const first = withChild();
    const a = harness(['run', 'x', '--', 'a'], { spawn: first.spawn });
    const second = withChild();
    const b = harness(['run', 'x', '--timeout', '0', '--', 'b'], {
      spawn: second.spawn,
      store: a.store,
      clock: a.clock,
    });
    const doneA = runCli(a.rt);
    await a.clock.advance(0);
    assert.ok(first.child());
    // Another process: another pid (the fake clock's "random" is the same for both).
    const result = await outcome(b, runCli({ ...b.rt, pid: 4343 }));
    assert.equal((result.error as { exitCode?: number } | undefined)?.exitCode, 3);
    assert.equal(second.child(), undefined, 'the second CMD never started');
    first.child()?.exit({ code: 0, signal: null });
    assert.deepEqual(await outcome(a, doneA), { code: 0 });
  });

  it('while waiting, a status line; cleared before CMD starts (terminal)', async () => {
    const c = withChild();
    const h = harness(['run', 'db-migrate', '--', 'migrate'], { spawn: c.spawn, stderrTTY: true });
    h.store.seed(cmlock({ holder: BOB }));
    const done = runCli(h.rt);
    await h.clock.advance(3000);
    const frames = h.stderr.text.split('\r\u001b[2K');
    assert.equal(frames[0], '', 'every frame redraws the line');
    assert.match(
      frames.at(-1) ?? '',
      /^waiting for lock "db-migrate": held by bob@host2 .*; 1st in line of 1; waited 3s$/,
    );
    assert.equal(c.child(), undefined);
    const now = h.store.locks.get('db-migrate');
    await h.store.delete('db-migrate', { uid: now?.uid ?? '', resourceVersion: now?.resourceVersion ?? '' });
    await h.clock.advance(0);
    assert.ok(c.child(), 'CMD started once the lock was free');
    assert.ok(h.stderr.text.endsWith('\r\u001b[2K'), 'the line was cleared before CMD started');
    c.child()?.exit({ code: 0, signal: null });
    assert.deepEqual(await outcome(h, done), { code: 0 });
  });

  it('SIGINT while waiting goes to run, not to the abort signal: CancelledError 130, nothing left behind', async () => {
    const c = withChild();
    const h = harness(['run', 'db-migrate', '--', 'migrate'], { spawn: c.spawn });
    h.store.seed(cmlock({ holder: BOB }));
    const done = runCli(h.rt);
    await h.clock.advance(2000);
    assert.ok(h.signals.installed > 0, 'run handles signals itself');
    h.signals.emit('SIGINT');
    const result = await outcome(h, done);
    assert.ok(result.error instanceof CancelledError, String(result.error));
    assert.equal(result.error.exitCode, 130);
    assert.equal(c.child(), undefined);
    assert.equal(h.store.locks.get('db-migrate')?.data['holderIdentity'], BOB.identity);
    assert.equal(h.signals.installed, 0);
  });

  it('SIGTERM, SIGINT and SIGHUP while CMD runs are forwarded to it; CMD decides when to exit', async () => {
    const c = withChild();
    const h = harness(['run', 'db-migrate', '--', 'migrate'], { spawn: c.spawn });
    const done = runCli(h.rt);
    await h.clock.advance(0);
    h.signals.emit('SIGTERM');
    h.signals.emit('SIGINT');
    h.signals.emit('SIGHUP');
    await h.clock.advance(1000);
    assert.deepEqual(c.child()?.signals, ['SIGTERM', 'SIGINT', 'SIGHUP']);
    assert.equal(h.rt.signal.aborted, false);
    c.child()?.exit({ code: null, signal: 'SIGTERM' });
    assert.deepEqual(await outcome(h, done), { code: 143 });
    assert.equal(h.store.locks.has('db-migrate'), false);
  });

  it('a signal before run takes over the signals (while connecting) aborts: CMD never starts', async () => {
    const c = withChild();
    const h = harness(['run', 'db-migrate', '--', 'migrate'], { spawn: c.spawn });
    const done = runCli(h.rt);
    h.abort.abort(new CancelledError('interrupted by SIGTERM', 143));
    const result = await outcome(h, done);
    assert.ok(result.error instanceof CancelledError, String(result.error));
    assert.equal(result.error.exitCode, 143);
    assert.equal(c.child(), undefined);
    assert.equal(h.store.locks.size, 0);
  });
});

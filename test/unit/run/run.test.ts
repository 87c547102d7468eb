// runLocked over fake lock functions, a fake clock and a scripted child: renew cadence, lost-lock handling,
// signal forwarding, release. Timings used throughout are run's defaults (ttl 1m, kill-after 10s), which
// src/run/timing.ts turns into: renew every 20s, renew deadline 40s after the lease start (SIGTERM), SIGKILL by
// 50s, lease end 60s: 10s (a sixth of the lease) of headroom.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, CmlockError, HeldError, LockNotFoundError, NotHolderError } from '../../../src/errors.ts';
import type { AcquireResult, RenewFromOptions } from '../../../src/lock/types.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import { runLocked } from '../../../src/run/run.ts';
import { hang, harness, lockView, settle, started, storedLock, type Harness } from './fakes.ts';

const L = 1_000_000; // the fake clock's start: the lease starts here unless a test says otherwise
const TTL = 60_000;
const HEADROOM = TTL / 6;

function failRenewals(h: Harness, err: () => Error = () => new CmlockError('connection refused')): void {
  h.lock.onRenew = async () => {
    throw err();
  };
}

describe('runLocked: normal life', () => {
  test('acquires with the options, starts CMD with its arguments and CMLOCK_* env, releases after it exits', async () => {
    const h = harness();
    const { result, child } = await started(h);
    const [acquire] = h.lock.of('acquire');
    assert.ok(acquire);
    const { signal, ...acquireOpts } = acquire.opts as typeof acquire.opts & { signal?: AbortSignal };
    assert.ok(signal instanceof AbortSignal);
    assert.deepEqual(acquireOpts, {
      name: 'db',
      ttlMs: 60_000,
      timeoutMs: -1,
      reason: 'migrate',
      labels: { team: 'db' },
      owner: undefined,
    });
    const [start] = h.started;
    assert.ok(start);
    assert.equal(start.file, 'migrate');
    assert.deepEqual(start.args, ['--all']);
    assert.deepEqual(start.env, {
      PATH: process.env.PATH,
      HOME: '/home/alice',
      CMLOCK_NAME: 'db',
      CMLOCK_NAMESPACE: 'ops',
      CMLOCK_HOLDER: 'run-holder',
      CMLOCK_FENCE: '17',
    });
    assert.equal(h.lock.of('release').length, 0, 'nothing released while CMD runs');
    assert.equal(child.disownedAt, undefined, "the watchdog guards CMD's group while it runs");
    assert.equal(h.started[0]?.options.killAfterMs, 10_000, 'the watchdog has the kill grace');

    child.exit({ code: 42, signal: null });
    assert.equal(await result, 42);
    const releases = h.lock.of('release');
    assert.equal(releases.length, 1);
    assert.ok(child.disownedAt !== undefined && child.disownedAt <= (releases[0]?.at ?? -1), 'disowned, then released');
    assert.deepEqual(
      { ...releases[0]?.opts, signal: undefined },
      { name: 'db', force: false, ignoreNotFound: false, signal: undefined },
    );
    assert.deepEqual(h.stderr, []);
    assert.equal(h.signals.installed, 0, 'signal handlers removed');
    assert.equal(h.clock.pending, 0, 'no timer left behind');
  });

  test('128+N when CMD dies of signal N', async () => {
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGKILL', 137],
      ['SIGINT', 130],
    ] as const) {
      const h = harness();
      const { result, child } = await started(h);
      child.exit({ code: null, signal });
      assert.equal(await result, code, signal);
      assert.equal(h.lock.of('release').length, 1);
    }
  });

  test('renews every third of the lease, measured from just before each write was sent', async () => {
    const h = harness();
    // The acquiring write was sent 2s before acquire() returned: the lease runs from then.
    h.lock.onAcquire = async () => ({
      lock: lockView(),
      stored: storedLock(),
      outcome: 'acquired',
      leaseStartMono: L - 2_000,
    });
    // Each renewal takes 1.5s to answer.
    h.lock.onRenew = async (opts: RenewFromOptions) => {
      await h.clock.sleep(1_500, opts.signal);
      return lockView();
    };
    const { result, child } = await started(h);
    await h.clock.advanceTo(L + 80_000);
    assert.deepEqual(
      h.lock.of('renew').map((c) => c.at - L),
      [18_000, 38_000, 58_000, 78_000],
    );
    const froms: string[] = [];
    for (const call of h.lock.of('renew')) {
      const opts = call.opts as RenewFromOptions;
      assert.equal(opts.from.name, 'db');
      assert.equal(opts.ttlMs, 60_000);
      assert.ok(opts.signal instanceof AbortSignal);
      froms.push(opts.from.resourceVersion);
    }
    // Each renewal is sent from the object the one before left (no read first): the acquired one, then its own.
    const first = Number(storedLock().resourceVersion);
    assert.deepEqual(
      froms,
      [0, 1, 2, 3].map((n) => String(first + n)),
    );
    assert.deepEqual(child.received, []);
    child.exit({ code: 0, signal: null });
    assert.equal(await result, 0);
  });

  test('failed renewals retried with backoff; success before the deadline leaves CMD alone', async () => {
    const h = harness();
    let failuresLeft = 3;
    h.lock.onRenew = async () => {
      if (failuresLeft-- > 0) throw new RetryableError('the server is overloaded');
      return lockView();
    };
    const { result, child } = await started(h);
    await h.clock.advanceTo(L + 70_000);
    const at = h.lock.of('renew').map((c) => c.at - L);
    // 20s fails; retries after 0.75s, 1.5s, 3s (jittered, doubling) succeed at 25.25s; then every 20s again.
    assert.deepEqual(at, [20_000, 20_750, 22_250, 25_250, 45_250, 65_250]);
    assert.deepEqual(child.received, [], 'CMD undisturbed');
    assert.deepEqual(h.stderr, []);
    child.exit({ code: 0, signal: null });
    assert.equal(await result, 0);
  });

  test('Retry-After is honoured between renewal attempts', async () => {
    const h = harness();
    let n = 0;
    h.lock.onRenew = async () => {
      if (n++ === 0) throw new RetryableError('too many requests', 4_000);
      return lockView();
    };
    const { result, child } = await started(h);
    await h.clock.advanceTo(L + 25_000);
    assert.deepEqual(
      h.lock.of('renew').map((c) => c.at - L),
      [20_000, 24_000],
    );
    child.exit({ code: 0, signal: null });
    assert.equal(await result, 0);
  });

  test('a lease of 0 never expires: no renewals, nothing to lose', async () => {
    const h = harness({ ttlMs: 0 });
    const { result, child } = await started(h);
    await h.clock.advance(3_600_000);
    assert.equal(h.lock.of('renew').length, 0);
    assert.deepEqual(child.received, []);
    assert.equal(h.clock.pending, 0);
    child.exit({ code: 0, signal: null });
    assert.equal(await result, 0);
    assert.equal(h.lock.of('release').length, 1);
  });

  test('a renewal in flight when CMD exits is aborted before the release', async () => {
    const h = harness();
    let renewSignal: AbortSignal | undefined;
    h.lock.onRenew = (opts) => {
      renewSignal = opts.signal;
      return hang(opts.signal);
    };
    const { result, child } = await started(h);
    await h.clock.advanceTo(L + 22_000);
    assert.equal(h.lock.of('renew').length, 1);
    child.exit({ code: 1, signal: null });
    assert.equal(await result, 1);
    assert.equal(renewSignal?.aborted, true);
    assert.equal(h.lock.of('release').length, 1);
  });
});

describe('runLocked: release after CMD exits', () => {
  test('a failed release is reported and CMD’s code is kept', async () => {
    const h = harness();
    h.lock.onRelease = async () => {
      throw new CmlockError('connection refused by https://127.0.0.1:6443 (context admin)');
    };
    const { result, child } = await started(h);
    await h.clock.advanceTo(L + 5_000);
    child.exit({ code: 42, signal: null });
    assert.equal(await result, 42);
    assert.deepEqual(h.stderr, [
      'warning: could not release lock "db": connection refused by https://127.0.0.1:6443 (context admin); ' +
        'it expires by itself in about 55s\n',
    ]);
  });

  test('a release that gets no answer is abandoned after at most 10s', async () => {
    const h = harness();
    h.lock.onRelease = (opts) => hang(opts.signal);
    const { result, child, done } = await started(h);
    child.exit({ code: 0, signal: null });
    await h.clock.advanceUntil(done, 10_000);
    assert.equal(await result, 0);
    assert.equal(h.clock.now(), L + 10_000);
    assert.deepEqual(h.stderr, [
      'warning: could not release lock "db": no answer within 10s; it expires by itself in about 50s\n',
    ]);
  });

  test('a signal during the release abandons it at once', async () => {
    const h = harness();
    h.lock.onRelease = (opts) => hang(opts.signal);
    const { result, child } = await started(h);
    child.exit({ code: 3, signal: null });
    await settle();
    h.signals.emit('SIGINT');
    assert.equal(await result, 3);
    assert.match(h.stderr.join(''), /^warning: could not release lock "db": interrupted by SIGINT; /);
  });
});

describe('runLocked: lost lock', () => {
  test('renewals failing until the deadline: SIGTERM, then SIGKILL after kill-after, before the lease ends; exit 6', async () => {
    const h = harness();
    failRenewals(h);
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);

    const leaseEnd = L + TTL; // no renewal ever succeeded: the lease is the acquiring one
    assert.deepEqual(child.received, [
      { signal: 'SIGTERM', at: L + 40_000 },
      { signal: 'SIGKILL', at: L + 50_000 },
    ]);
    const kill = child.received[1];
    assert.ok(kill && kill.at <= leaseEnd - HEADROOM && kill.at < leaseEnd, 'SIGKILL before the lease can end');
    assert.ok(
      h.lock.of('renew').every((c) => c.at < L + 40_000),
      'no renewal after the deadline',
    );
    assert.deepEqual(h.stderr, [
      'error: lost lock "db": could not renew it for 40s (renewal failing: connection refused); stopped migrate\n',
    ]);
    // The lock may still be ours on the server (a renewal applied, its answer lost): given back, quietly.
    assert.equal(h.lock.of('release').length, 1);
    assert.ok((h.lock.of('release')[0]?.at ?? 0) >= L + 50_000, 'released only after CMD was killed');
    assert.ok((child.disownedAt ?? 0) >= L + 50_000, 'the watchdog stood down only once CMD was stopped');
    assert.equal(h.signals.installed, 0);
  });

  test('the deadline runs from the last successful renewal', async () => {
    const h = harness();
    h.lock.onRenew = async (opts, n) => {
      if (n === 1) {
        await h.clock.sleep(2_000, opts.signal); // sent at +20s, answered at +22s: the new lease runs from +20s
        return lockView();
      }
      throw new CmlockError('connection refused');
    };
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 120_000);
    assert.equal(await result, 6);
    const leaseStart = L + 20_000;
    assert.deepEqual(child.received, [
      { signal: 'SIGTERM', at: leaseStart + 40_000 },
      { signal: 'SIGKILL', at: leaseStart + 50_000 },
    ]);
    assert.ok((child.received[1]?.at ?? Infinity) < leaseStart + TTL);
  });

  test('black-holed renewals (no answer ever): same deadline, each attempt aborted', async () => {
    const h = harness();
    const signals: AbortSignal[] = [];
    h.lock.onRenew = (opts) => {
      if (opts.signal) signals.push(opts.signal);
      return hang(opts.signal);
    };
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(
      child.received.map((r) => [r.signal, r.at - L]),
      [
        ['SIGTERM', 40_000],
        ['SIGKILL', 50_000],
      ],
    );
    assert.ok(signals.length > 0 && signals.every((s) => s.aborted));
    assert.equal(h.stderr.length, 1);
    assert.match(h.stderr[0] ?? '', /^error: lost lock "db": could not renew it for 40s \(.*\); stopped migrate\n$/);
  });

  test('after a lost lock, a release that gets no answer delays exit 6 by 2s at most', async () => {
    const h = harness();
    h.lock.onRenew = (opts) => hang(opts.signal);
    h.lock.onRelease = (opts) => hang(opts.signal);
    const { result, child, done } = await started(h);
    child.exitOnTerm = true;
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.equal(h.lock.of('release')[0]?.at, L + 40_000);
    assert.equal(h.clock.now(), L + 42_000);
    assert.equal(h.stderr.length, 1, 'only the lost line');
  });

  test('a renewal that never settles, even when aborted, cannot delay the kill', async () => {
    const h = harness();
    h.lock.onRenew = () => new Promise(() => {});
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(
      child.received.map((r) => [r.signal, r.at - L]),
      [
        ['SIGTERM', 40_000],
        ['SIGKILL', 50_000],
      ],
    );
    assert.deepEqual(h.stderr, [
      'error: lost lock "db": could not renew it for 40s (renewal got no answer); stopped migrate\n',
    ]);
  });

  test('CMD that exits on SIGTERM is not SIGKILLed; exit 6 at once', async () => {
    const h = harness();
    failRenewals(h);
    const { result, child, done } = await started(h);
    child.exitOnTerm = true;
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(child.received, [{ signal: 'SIGTERM', at: L + 40_000 }]);
  });

  test('members of CMD’s group that outlive it get SIGKILL at the same deadline', async () => {
    const h = harness();
    failRenewals(h);
    const { result, child, done } = await started(h);
    child.exitOnTerm = true;
    child.stragglers = 1;
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(child.received, [
      { signal: 'SIGTERM', at: L + 40_000 },
      { signal: 'SIGKILL', at: L + 50_000 },
    ]);
  });

  test('a renewal saying someone else holds the lock stops CMD at once; their lock is not released', async () => {
    const h = harness();
    h.lock.onRenew = async (_opts, n) => {
      if (n === 3) throw new NotHolderError('lock "db" is held by bob@laptop until 2026-01-01T00:01:00Z');
      return lockView();
    };
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 120_000);
    assert.equal(await result, 6);
    assert.deepEqual(child.received, [
      { signal: 'SIGTERM', at: L + 60_000 },
      { signal: 'SIGKILL', at: L + 70_000 },
    ]);
    assert.deepEqual(h.stderr, [
      'error: lost lock "db": lock "db" is held by bob@laptop until 2026-01-01T00:01:00Z; stopped migrate\n',
    ]);
    assert.equal(h.lock.of('release').length, 0);
  });

  test('a renewal finding the lock deleted stops CMD', async () => {
    const h = harness({ command: ['/bin/x y'] });
    h.lock.onRenew = async () => {
      throw new LockNotFoundError('lock "db" not found');
    };
    const { result, child, done } = await started(h);
    child.exitOnTerm = true;
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(child.received, [{ signal: 'SIGTERM', at: L + 20_000 }]);
    assert.deepEqual(h.stderr, ['error: lost lock "db": it was deleted by someone else; stopped "/bin/x y"\n']);
    assert.equal(h.lock.of('release').length, 0);
  });

  test('control characters in a reason from the server are escaped', async () => {
    const h = harness();
    h.lock.onRenew = async () => {
      throw new NotHolderError('lock "db" is held by \u001b[2Jevil\nline');
    };
    const { result, child, done } = await started(h);
    child.exitOnTerm = true;
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    assert.deepEqual(h.stderr, ['error: lost lock "db": lock "db" is held by \\x1b[2Jevil\\nline; stopped migrate\n']);
  });
});

describe('runLocked: signals', () => {
  test('SIGINT, SIGTERM and SIGHUP are forwarded to CMD’s process group; cmlock waits, releases, passes its code', async () => {
    const h = harness();
    const { result, child } = await started(h);
    h.signals.emit('SIGHUP');
    h.signals.emit('SIGTERM');
    h.signals.emit('SIGINT');
    assert.deepEqual(
      child.received.map((r) => r.signal),
      ['SIGHUP', 'SIGTERM', 'SIGINT'],
    );
    assert.equal(h.lock.of('release').length, 0, 'still held while CMD cleans up');
    child.exit({ code: null, signal: 'SIGINT' });
    assert.equal(await result, 130);
    assert.equal(h.lock.of('release').length, 1);
  });

  test('SIGINT while waiting for the lock aborts the wait at once: CancelledError, nothing started', async () => {
    const h = harness();
    let acquireSignal: AbortSignal | undefined;
    h.lock.onAcquire = (opts) => {
      acquireSignal = opts.signal;
      return hang(opts.signal);
    };
    const result = runLocked(h.deps, h.options);
    await settle();
    h.signals.emit('SIGINT');
    await assert.rejects(result, (err: unknown) => err instanceof CancelledError && err.exitCode === 130);
    assert.equal(acquireSignal?.aborted, true);
    assert.equal(h.started.length, 0);
    assert.equal(h.lock.of('release').length, 0);
    assert.equal(h.signals.installed, 0);
  });

  test('SIGTERM while waiting: exit code 143', async () => {
    const h = harness();
    h.lock.onAcquire = (opts) => hang(opts.signal);
    const result = runLocked(h.deps, h.options);
    await settle();
    h.signals.emit('SIGTERM');
    await assert.rejects(result, (err: unknown) => err instanceof CancelledError && err.exitCode === 143);
  });

  test('interrupted just as the lock is granted: released, CMD never started', async () => {
    const h = harness();
    let grant: (r: AcquireResult) => void = () => {};
    h.lock.onAcquire = () => new Promise((resolve) => (grant = resolve));
    const result = runLocked(h.deps, h.options);
    await settle();
    h.signals.emit('SIGINT');
    grant({ lock: lockView(), stored: storedLock(), outcome: 'acquired', leaseStartMono: L });
    await assert.rejects(result, CancelledError);
    assert.equal(h.started.length, 0);
    assert.equal(h.lock.of('release').length, 1);
  });
});

describe('runLocked: before CMD starts', () => {
  test('acquire errors propagate (held at --timeout)', async () => {
    const h = harness({ timeoutMs: 0 });
    h.lock.onAcquire = async () => {
      throw new HeldError('lock "db" is held by bob@laptop');
    };
    await assert.rejects(runLocked(h.deps, h.options), HeldError);
    assert.equal(h.started.length, 0);
    assert.equal(h.signals.installed, 0);
  });

  test('CMD that cannot be started: a shell-like line, 127/126, the lock released', async () => {
    for (const [code, exitCode, why] of [
      ['ENOENT', 127, 'command not found'],
      ['EACCES', 126, 'permission denied'],
    ] as const) {
      const h = harness({ command: ['./deploy.sh'] }, async () => {
        throw Object.assign(new Error(`spawn ./deploy.sh ${code}`), { code });
      });
      assert.equal(await runLocked(h.deps, h.options), exitCode);
      assert.deepEqual(h.stderr, [`error: ./deploy.sh: ${why}\n`]);
      assert.equal(h.lock.of('release').length, 1);
      assert.equal(h.clock.pending, 0);
    }
  });
});

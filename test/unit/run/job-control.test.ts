// runLocked when cmlock itself is stopped: Ctrl-Z (SIGTSTP) and SIGCONT, a stall of its event loop, a machine
// suspend (wall and boot clocks running ahead of the monotonic one), and what the watchdog is told meanwhile.
// Timings are run's defaults (ttl 1m, kill-after 10s): renew every 20s, renew deadline 40s, SIGKILL by 50s, lease
// end 60s; the watchdog acts a margin of 1s after the renew deadline.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CmlockError, NotHolderError } from '../../../src/errors.ts';
import { RetryableError } from '../../../src/lock/store.ts';
import { TICK_MS } from '../../../src/lock/time-jumps.ts';
import { roughly } from '../../../src/lock/lease.ts';
import { runLocked } from '../../../src/run/run.ts';
import { FakeChild, harness, lockView, settle, started, storedLock } from './fakes.ts';

const L = 1_000_000; // the fake clock's start: the lease starts here
const MARGIN = 1000;

function signalsOf(child: FakeChild): [string, number][] {
  return child.received.map((r) => [r.signal, r.at - L]);
}

describe('run: the watchdog hears the renew deadline', () => {
  test('armed at start and after every renewal for the renew deadline plus its margin', async () => {
    const h = harness();
    const { child } = await started(h);
    await h.clock.advanceTo(L + 45_000);
    const arms = child.watchdog.filter((w) => w.word === 'arm').map((w) => [w.at - L, w.ms]);
    // Renewals at 20s and 40s (each sent at that instant): deadline = sent + 40s, plus the margin.
    assert.deepEqual(arms, [
      [0, 40_000 + MARGIN],
      [20_000, 40_000 + MARGIN],
      [40_000, 40_000 + MARGIN],
    ]);
    child.exit({ code: 0, signal: null });
  });

  test('a lost lock: the watchdog is told when SIGKILL is due before cmlock sends SIGTERM', async () => {
    const h = harness();
    h.lock.onRenew = async () => {
      throw new CmlockError('connection refused');
    };
    const { result, child, done } = await started(h);
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    const kill = child.watchdog.find((w) => w.word === 'kill');
    assert.deepEqual(kill && [kill.at - L, kill.ms], [40_000, 10_000]);
    assert.deepEqual(signalsOf(child), [
      ['SIGTERM', 40_000],
      ['SIGKILL', 50_000],
    ]);
  });
});

describe('run: Ctrl-Z and SIGCONT', () => {
  test('SIGTSTP: CMD’s group is stopped first, the watchdog holds it, then cmlock stops itself', async () => {
    const h = harness();
    const { child } = await started(h);
    await h.clock.advanceTo(L + 5_000);
    h.signals.emit('SIGTSTP');
    await settle();
    assert.deepEqual(signalsOf(child), [['SIGSTOP', 5_000]]);
    assert.equal(child.watchdog.at(-1)?.word, 'hold');
    assert.deepEqual(h.selfStops, [L + 5_000]);
    child.exit({ code: 0, signal: null });
  });

  test('fg within the lease: renewed on the server before CMD continues; CMD finishes, its code passes', async () => {
    const h = harness();
    const { result, child, done } = await started(h);
    await h.clock.advanceTo(L + 5_000);
    h.signals.emit('SIGTSTP');
    await settle();
    h.clock.stall(10_000); // stopped for 10s: nothing ran
    h.signals.emit('SIGCONT');
    await h.clock.advance(0);
    const renewals = h.lock.of('renew');
    assert.equal(renewals.length, 1, 'one renewal proves the lock held');
    assert.equal(renewals[0]?.at, L + 15_000);
    assert.deepEqual(signalsOf(child), [
      ['SIGSTOP', 5_000],
      ['SIGCONT', 15_000],
    ]);
    assert.equal(child.watchdog.at(-1)?.word, 'arm', 're-armed for the new lease before CMD went on');
    assert.deepEqual(h.stderr, ['lock "db" verified after a stop of 10s: still held, renewed; migrate continued\n']);
    // The new lease runs from that renewal: the next renewal is due 20s after it.
    await h.clock.advanceTo(L + 35_000);
    assert.deepEqual(
      h.lock.of('renew').map((c) => c.at - L),
      [15_000, 35_000],
    );
    child.exit({ code: 3, signal: null });
    await h.clock.advanceUntil(done, 1000);
    assert.equal(await result, 3);
  });

  test('fg long after the lease ended, nobody took the lock: the renewal proves nobody held it; CMD goes on', async () => {
    const h = harness();
    const { child } = await started(h);
    h.signals.emit('SIGTSTP');
    await settle();
    h.clock.stall(3_600_000);
    h.signals.emit('SIGCONT');
    await h.clock.advance(0);
    assert.deepEqual(signalsOf(child), [
      ['SIGSTOP', 0],
      ['SIGCONT', 3_600_000],
    ]);
    child.exit({ code: 0, signal: null });
  });

  test('fg after someone took the lock: CMD is SIGKILLed while still stopped (no SIGTERM), exit 6, who took it', async () => {
    const h = harness();
    h.lock.onRenew = async () => {
      throw new NotHolderError(
        'lock "db" is held by bob@ci (user bob) since 2026-01-01T00:01:10Z, expires 2026-01-01T01:01:10Z (in 59m), not by you (run-holder)',
      );
    };
    const { result, child, done } = await started(h);
    h.signals.emit('SIGTSTP');
    await settle();
    h.clock.stall(120_000);
    h.signals.emit('SIGCONT');
    await h.clock.advanceUntil(done, 5_000);
    assert.equal(await result, 6);
    assert.deepEqual(signalsOf(child), [
      ['SIGSTOP', 0],
      ['SIGKILL', 120_000],
    ]);
    assert.deepEqual(h.stderr, [
      'error: lost lock "db": lock "db" is held by bob@ci (user bob) since 2026-01-01T00:01:10Z, expires ' +
        '2026-01-01T01:01:10Z (in 59m), not by you (run-holder) (noticed after a stop of 2m); killed migrate while ' +
        'it was stopped, without a grace period: its lease had lapsed, so it may do no more work\n',
    ]);
    assert.equal(h.lock.of('release').length, 0, 'someone else’s lock is left alone');
  });

  test('fg while the API server cannot be reached: CMD stays stopped; after one lease of trying it is SIGKILLed', async () => {
    const h = harness();
    const { result, child, done } = await started(h);
    h.lock.onRenew = async () => {
      throw new RetryableError('connection refused');
    };
    h.signals.emit('SIGTSTP');
    await settle();
    h.clock.stall(1000);
    h.signals.emit('SIGCONT');
    await h.clock.advanceTo(L + 30_000);
    assert.deepEqual(signalsOf(child), [['SIGSTOP', 0]], 'still stopped, not continued, not killed');
    assert.match(
      h.stderr[0] ?? '',
      /^warning: cannot verify lock "db" after a stop of 1s: connection refused; migrate stays stopped, retrying for up to 1m\n$/,
    );
    await h.clock.advanceUntil(done, 60_000);
    assert.equal(await result, 6);
    const kill = child.received.find((r) => r.signal === 'SIGKILL');
    assert.ok(kill && kill.at - L >= 61_000 && kill.at - L < 67_000, `SIGKILL at ${kill && kill.at - L}`);
    assert.ok(!child.received.some((r) => r.signal === 'SIGCONT' || r.signal === 'SIGTERM'));
    assert.match(
      h.stderr.at(-1) ?? '',
      /^error: lost lock "db": could not verify it after a stop of 1s: connection refused; killed migrate while it was stopped/,
    );
  });

  test('Ctrl-Z while waiting for the lock just stops cmlock (no CMD yet)', async () => {
    const h = harness();
    let grant: () => void = () => {};
    h.lock.onAcquire = () =>
      new Promise(
        (resolve) =>
          (grant = () =>
            resolve({ lock: lockView(), stored: storedLock(), outcome: 'acquired', leaseStartMono: h.clock.now() })),
      );
    const result = runLocked(h.deps, h.options);
    await settle();
    h.signals.emit('SIGTSTP');
    h.signals.emit('SIGCONT');
    assert.deepEqual(h.selfStops, [L]);
    grant();
    await settle();
    const child = h.children[0];
    assert.ok(child);
    assert.deepEqual(child.received, [], 'CMD runs normally once granted');
    child.exit({ code: 0, signal: null });
    assert.equal(await h.clock.advanceUntil(() => true, 0).then(() => result), 0);
  });
});

describe('run: stalls and suspends', () => {
  test('a suspend (wall/boot clock ahead of the monotonic one): CMD stopped within a tick, verified, continued', async () => {
    const h = harness();
    const { child } = await started(h);
    await h.clock.advanceTo(L + 5_000);
    h.times.suspend(3 * 3_600_000);
    await h.clock.advance(TICK_MS);
    assert.deepEqual(signalsOf(child), [
      ['SIGSTOP', 5_000 + TICK_MS],
      ['SIGCONT', 5_000 + TICK_MS],
    ]);
    assert.equal(h.lock.of('renew')[0]?.at, L + 5_000 + TICK_MS, 'renewed between the stop and the continue');
    assert.deepEqual(h.stderr, [
      'lock "db" verified after the clock jumped 3h ahead (a suspend?): still held, renewed; migrate continued\n',
    ]);
    child.exit({ code: 0, signal: null });
  });

  test('a suspend after which the lock is someone else’s: CMD is killed while stopped', async () => {
    const h = harness();
    const { result, child, done } = await started(h);
    h.lock.onRenew = async () => {
      throw new NotHolderError('lock "db" is held by bob@ci since 2026-01-01T02:00:00Z, not by you (run-holder)');
    };
    h.times.suspend(7_200_000);
    await h.clock.advanceUntil(done, 5_000);
    assert.equal(await result, 6);
    assert.deepEqual(
      child.received.map((r) => r.signal),
      ['SIGSTOP', 'SIGKILL'],
    );
  });

  test('a stall shorter than the renew deadline: CMD stopped, lock verified, CMD continued', async () => {
    const h = harness();
    const { child } = await started(h);
    await h.clock.advanceTo(L + 5_000);
    h.clock.stall(10_000);
    await h.clock.advance(0);
    assert.deepEqual(
      child.received.map((r) => r.signal),
      ['SIGSTOP', 'SIGCONT'],
    );
    assert.match(h.stderr[0] ?? '', /^lock "db" verified after cmlock was stopped or stalled for 10s: still held/);
    child.exit({ code: 0, signal: null });
  });

  test('a stall past the renew deadline: lost; cmlock sends no second SIGTERM (the watchdog did) and SIGKILLs by the kill time', async () => {
    const h = harness();
    const { result, child, done } = await started(h);
    await h.clock.advanceTo(L + 5_000); // renewal due at 20s, never sent: stalled from 5s to 47s
    h.clock.stall(42_000);
    await h.clock.advanceUntil(done, 20_000);
    assert.equal(await result, 6);
    // The watchdog sent SIGTERM at 41s; cmlock, awake at 47s, leaves that grace running and SIGKILLs at 50s.
    assert.deepEqual(signalsOf(child), [['SIGKILL', 50_000]]);
    assert.match(
      h.stderr.at(-1) ?? '',
      /cmlock was stopped or stalled for 42s, past its renew deadline; stopped migrate\n$/,
    );
    const line = h.stderr.at(-1) ?? '';
    assert.doesNotMatch(line, /-\d/, 'no negative durations');
    assert.match(line, /^error: lost lock "db": /);
  });
});

describe('durations in messages', () => {
  test('never negative, never absurd', () => {
    assert.equal(roughly(-9851), '0s');
    assert.equal(roughly(Number.NaN), '0s');
    assert.equal(roughly(-Infinity), '0s');
    assert.equal(roughly(999.6), '1s');
    assert.equal(roughly(250.2), '250ms');
    assert.equal(roughly(16_400), '16s');
    assert.equal(roughly(3_600_000), '1h');
  });
});

describe('run: a verification that comes back too late', () => {
  test('a renewal answered past the new lease’s renew deadline does not continue CMD; the next one does', async () => {
    const h = harness();
    const { child } = await started(h);
    h.signals.emit('SIGTSTP');
    await settle();
    h.clock.stall(5_000);
    let first = true;
    h.lock.onRenew = async () => {
      if (first) {
        first = false;
        h.clock.stall(45_000); // the answer took longer than the 40s renew deadline (a starved machine)
      }
      return lockView();
    };
    h.signals.emit('SIGCONT');
    await h.clock.advanceUntil(() => child.received.length >= 2, 60_000); // the renewal itself moves the clock on
    assert.deepEqual(
      child.received.map((r) => r.signal),
      ['SIGSTOP', 'SIGCONT'],
    );
    assert.equal(h.lock.of('renew').length, 2, 'verified again before CMD went on');
    assert.match(
      h.stderr[0] ?? '',
      /^warning: cannot verify lock "db" after a stop of 5s: the renewal came back too late \(45s\); migrate stays stopped/,
    );
    child.exit({ code: 0, signal: null });
  });
});

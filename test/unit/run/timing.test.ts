import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/errors.ts';
import {
  defaultRunTimings,
  KILL_AFTER_NEGATIVE,
  LEASE_TOO_SHORT,
  RENEW_DEADLINE_TOO_SHORT,
  RETRY_PERIOD_NOT_POSITIVE,
  TTL_NEGATIVE,
  validateRunTimings,
  type RunTimings,
} from '../../../src/run/timing.ts';

const ok: RunTimings = { leaseMs: 30_000, renewDeadlineMs: 15_000, retryPeriodMs: 7_500, killAfterMs: 10_000 };

describe('validateRunTimings: one exact message per rule', () => {
  const cases: [string, Partial<RunTimings>, string | undefined][] = [
    ['valid', {}, undefined],
    ['lease 0: never expires, no renewal to check', { leaseMs: 0, renewDeadlineMs: 0, retryPeriodMs: 0 }, undefined],
    ['negative ttl', { leaseMs: -1 }, TTL_NEGATIVE],
    ['negative kill-after', { killAfterMs: -1 }, KILL_AFTER_NEGATIVE],
    ['kill-after 0 is fine', { killAfterMs: 0 }, undefined],
    ['retry period 0', { retryPeriodMs: 0 }, RETRY_PERIOD_NOT_POSITIVE],
    ['retry period negative', { retryPeriodMs: -5 }, RETRY_PERIOD_NOT_POSITIVE],
    ['renew deadline = 1.2 x retry period', { renewDeadlineMs: 9_000 }, RENEW_DEADLINE_TOO_SHORT],
    ['renew deadline just above 1.2 x retry period', { renewDeadlineMs: 9_001, leaseMs: 19_002 }, undefined],
    ['lease = renew deadline + kill-after', { leaseMs: 25_000 }, LEASE_TOO_SHORT],
    ['lease just above renew deadline + kill-after', { leaseMs: 25_001 }, undefined],
    ['lease below the renew deadline', { leaseMs: 10_000, killAfterMs: 0 }, LEASE_TOO_SHORT],
  ];
  for (const [name, change, message] of cases) {
    test(name, () => {
      const timings = { ...ok, ...change };
      if (message === undefined) validateRunTimings(timings);
      else
        assert.throws(
          () => validateRunTimings(timings),
          (e: unknown) => e instanceof UsageError && e.message === message,
        );
    });
  }

  test('the messages', () => {
    assert.equal(
      LEASE_TOO_SHORT,
      '--ttl must be greater than the renew deadline plus --kill-after, so that CMD is stopped before the lock can expire',
    );
    assert.equal(RENEW_DEADLINE_TOO_SHORT, 'the renew deadline must be greater than 1.2 times the renew period');
    assert.equal(RETRY_PERIOD_NOT_POSITIVE, 'the renew period must be greater than zero');
    assert.equal(KILL_AFTER_NEGATIVE, '--kill-after must not be negative');
    assert.equal(TTL_NEGATIVE, '--ttl must not be negative');
  });
});

describe('defaultRunTimings', () => {
  const table: [number, number, RunTimings][] = [
    [30_000, 0, { leaseMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 10_000, killAfterMs: 0 }],
    [60_000, 10_000, { leaseMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 20_000, killAfterMs: 10_000 }],
    [30_000, 10_000, { leaseMs: 30_000, renewDeadlineMs: 15_000, retryPeriodMs: 7_500, killAfterMs: 10_000 }],
    [15_000, 5_000, { leaseMs: 15_000, renewDeadlineMs: 7_500, retryPeriodMs: 3_750, killAfterMs: 5_000 }],
    [0, 10_000, { leaseMs: 0, renewDeadlineMs: 0, retryPeriodMs: 0, killAfterMs: 10_000 }],
  ];
  for (const [lease, killAfter, want] of table) {
    test(`ttl ${lease} ms, kill-after ${killAfter} ms`, () => {
      assert.deepEqual(defaultRunTimings(lease, killAfter), want);
      validateRunTimings(want);
    });
  }

  test('every default for a sane ttl and kill-after validates', () => {
    for (const lease of [2_000, 5_000, 10_000, 30_000, 60_000, 3_600_000]) {
      for (const killAfter of [0, 100, lease / 10, lease / 3, lease / 2 - 1]) {
        const t = defaultRunTimings(lease, killAfter);
        validateRunTimings(t);
        assert.ok(t.retryPeriodMs >= Math.floor(lease / 6) - 1, 'renewals never come faster than six per lease');
      }
    }
  });

  test('a kill-after that leaves no room is reported as LEASE_TOO_SHORT', () => {
    for (const [lease, killAfter] of [
      [10_000, 10_000],
      [12_000, 9_900],
      [30_000, 30_000],
    ] as const) {
      assert.throws(() => validateRunTimings(defaultRunTimings(lease, killAfter)), { message: LEASE_TOO_SHORT });
    }
  });
});

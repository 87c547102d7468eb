// The timings of run: which rule a set of timings breaks, and the defaults derived from --ttl and --kill-after.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TIMING_MESSAGES } from '../../../src/cli/commands/run.ts';
import { brokenTimingRule, defaultRunTimings, type RunTimings, type TimingRule } from '../../../src/run/timing.ts';

const ok: RunTimings = { leaseMs: 30_000, renewDeadlineMs: 15_000, retryPeriodMs: 7_500, killAfterMs: 10_000 };

describe('brokenTimingRule: the first rule broken, each with one exact message', () => {
  const cases: [string, Partial<RunTimings>, TimingRule | undefined][] = [
    ['valid', {}, undefined],
    ['lease 0: never expires, no renewal to check', { leaseMs: 0, renewDeadlineMs: 0, retryPeriodMs: 0 }, undefined],
    ['negative ttl', { leaseMs: -1 }, 'leaseNegative'],
    ['negative kill-after', { killAfterMs: -1 }, 'killAfterNegative'],
    ['kill-after 0 is fine', { killAfterMs: 0 }, undefined],
    ['retry period 0', { retryPeriodMs: 0 }, 'retryPeriodNotPositive'],
    ['retry period negative', { retryPeriodMs: -5 }, 'retryPeriodNotPositive'],
    ['renew deadline = 1.2 x retry period', { renewDeadlineMs: 9_000 }, 'renewDeadlineTooShort'],
    ['renew deadline just above 1.2 x retry period', { renewDeadlineMs: 9_001, leaseMs: 19_002 }, undefined],
    ['lease = renew deadline + kill-after', { leaseMs: 25_000 }, 'leaseTooShort'],
    ['lease just above renew deadline + kill-after', { leaseMs: 25_001 }, undefined],
    ['lease below the renew deadline', { leaseMs: 10_000, killAfterMs: 0 }, 'leaseTooShort'],
  ];
  for (const [name, change, rule] of cases) {
    test(name, () => assert.equal(brokenTimingRule({ ...ok, ...change }), rule));
  }

  test("the messages: the run command's, naming its flags", () => {
    assert.deepEqual(TIMING_MESSAGES, {
      leaseNegative: '--ttl must not be negative',
      killAfterNegative: '--kill-after must not be negative',
      retryPeriodNotPositive: 'the renew period must be greater than zero',
      renewDeadlineTooShort: 'the renew deadline must be greater than 1.2 times the renew period',
      leaseTooShort:
        '--ttl must be greater than the renew deadline plus --kill-after, so that CMD is stopped before the lock can expire',
    });
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
      assert.equal(brokenTimingRule(want), undefined);
    });
  }

  test('every default for a sane ttl and kill-after validates', () => {
    for (const lease of [2_000, 5_000, 10_000, 30_000, 60_000, 3_600_000]) {
      for (const killAfter of [0, 100, lease / 10, lease / 3, lease / 2 - 1]) {
        const t = defaultRunTimings(lease, killAfter);
        assert.equal(brokenTimingRule(t), undefined);
        assert.ok(t.retryPeriodMs >= Math.floor(lease / 6) - 1, 'renewals never come faster than six per lease');
      }
    }
  });

  test('a kill-after that leaves no room is reported as leaseTooShort', () => {
    for (const [lease, killAfter] of [
      [10_000, 10_000],
      [12_000, 9_900],
      [30_000, 30_000],
    ] as const) {
      assert.equal(brokenTimingRule(defaultRunTimings(lease, killAfter)), 'leaseTooShort');
    }
  });
});

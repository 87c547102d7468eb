import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGoDuration } from '../../../src/cli/go-duration.ts';
import { formatDuration, humanDuration } from '../../../src/lock/duration.ts';

describe('formatDuration', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [250, '250ms'],
    [0.5, '0.5ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [45_000, '45s'],
    [125_000, '2m5s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [3_605_000, '1h0m5s'],
    [90_061_000, '25h1m1s'],
    [-30_000, '-30s'],
  ];
  for (const [ms, text] of table) {
    test(`${ms} ms = ${text}`, () => assert.equal(formatDuration(ms), text));
  }

  test('round-trips through parseGoDuration', () => {
    for (const ms of [1, 999, 1001, 59_999, 61_000, 3_599_999, 86_400_000, 123_456_789, -5000]) {
      assert.equal(parseGoDuration(formatDuration(ms)), ms);
    }
  });
});

describe('humanDuration (kubectl ages)', () => {
  const table: [number, string][] = [
    [-5000, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [59_999, '59s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [330_000, '5m30s'],
    [29 * 60_000 + 59_000, '29m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [2 * 3_600_000 + 15 * 60_000 + 200 * 60_000, '5h35m'],
    [30 * 3_600_000, '30h'],
    [3 * 86_400_000 + 5 * 3_600_000, '3d5h'],
    [40 * 86_400_000, '40d'],
    [800 * 86_400_000, '2y70d'],
    [3000 * 86_400_000, '8y'],
    // as the AGE column shows them
    [45_000, '45s'],
    [5 * 60_000 + 12_000, '5m12s'],
    [5 * 60_000, '5m'],
    [3 * 3_600_000 + 4 * 60_000, '3h4m'],
    [10 * 3_600_000 + 59 * 60_000, '10h'],
    [2 * 86_400_000 + 3 * 3_600_000, '2d3h'],
    [400 * 86_400_000, '400d'],
    [(3 * 365 + 2) * 86_400_000, '3y2d'],
  ];
  for (const [ms, text] of table) {
    test(`${ms} ms = ${text}`, () => assert.equal(humanDuration(ms), text));
  }
});

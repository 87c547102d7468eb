import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/errors.ts';
import { formatDuration, humanDuration, parseDuration } from '../../../src/lock/duration.ts';

describe('parseDuration (Go syntax)', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['.5s', 500],
    ['5.s', 5000],
    ['250ms', 250],
    ['1ns', 0.000001],
    ['1500us', 1.5],
    ['2µs', 0.002],
    ['2μs', 0.002],
    ['-1s', -1000],
    ['+2m', 120_000],
    ['1h1h', 7_200_000],
    ['0s', 0],
    ['2562047h', 2562047 * 3_600_000],
  ];
  for (const [text, ms] of valid) {
    test(`${JSON.stringify(text)} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }

  const invalid = [
    '',
    '30',
    '5 minutes',
    '5m ',
    ' 5m',
    '1H',
    '1d',
    '-',
    '+',
    '.s',
    '1.5.5s',
    's',
    '1h-5m',
    '1e3s',
    '0x10s',
    '2562048h',
  ];
  for (const text of invalid) {
    test(`${JSON.stringify(text)} is a usage error`, () => {
      assert.throws(
        () => parseDuration(text),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message === `invalid duration "${text}": use Go syntax like 30s, 5m, 1h30m`,
      );
    });
  }
});

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

  test('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1001, 59_999, 61_000, 3_599_999, 86_400_000, 123_456_789, -5000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
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
  ];
  for (const [ms, text] of table) {
    test(`${ms} ms = ${text}`, () => assert.equal(humanDuration(ms), text));
  }
});

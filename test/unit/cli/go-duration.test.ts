// Go durations as kubectl takes them: exactly what time.ParseDuration accepts, in milliseconds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGoDuration } from '../../../src/cli/go-duration.ts';

describe('parseGoDuration (Go syntax)', () => {
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
    test(`${JSON.stringify(text)} = ${ms} ms`, () => assert.equal(parseGoDuration(text), ms));
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
    test(`${JSON.stringify(text)} is not a Go duration`, () => assert.equal(parseGoDuration(text), undefined));
  }
});

// RFC 3339 as cmlock writes, reads and shows it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime, parseRfc3339, parseTime, rfc3339 } from '../../../src/lock/time.ts';

test('formatTime: RFC 3339 to the second', () => {
  assert.equal(formatTime(Date.UTC(2026, 10, 26, 6, 30, 0, 999)), '2026-11-26T06:30:00Z');
  assert.equal(formatTime(Number.NaN), '?');
  assert.equal(formatTime(9e15), '?');
});

test('rfc3339: milliseconds, as records hold them', () => {
  assert.equal(rfc3339(Date.UTC(2026, 10, 26, 6, 30, 0, 5)), '2026-11-26T06:30:00.005Z');
});

test('parseRfc3339 is strict; parseTime reads what Date.parse reads', () => {
  const ms = Date.UTC(2026, 10, 26, 6, 30, 0);
  for (const text of ['2026-11-26T06:30:00Z', '2026-11-26T06:30:00.000Z', '2026-11-26T07:30:00+01:00']) {
    assert.equal(parseRfc3339(text), ms, text);
    assert.equal(parseTime(text), ms, text);
  }
  for (const text of ['2026-11-26', 'Thu, 26 Nov 2026 06:30:00 GMT']) {
    assert.equal(parseRfc3339(text), undefined, text);
    assert.ok(parseTime(text) !== undefined, text);
  }
  for (const text of ['', 'yesterday', undefined]) assert.equal(parseRfc3339(text), undefined);
  assert.equal(parseTime(''), undefined);
  assert.equal(parseTime('yesterday'), undefined);
});

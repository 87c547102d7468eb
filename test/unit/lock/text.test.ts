import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime, printable, quote } from '../../../src/lock/text.ts';

test('printable escapes controls, DEL, C1 and bidi overrides', () => {
  assert.equal(printable('plain alice@host-1 ü'), 'plain alice@host-1 ü');
  assert.equal(printable('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(printable('\u001b[31mred'), '\\x1b[31mred');
  assert.equal(printable('\u007f\u009b'), '\\x7f\\x9b');
  assert.equal(printable('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
});

test('quote escapes quotes and backslashes too', () => {
  assert.equal(quote('db-migrate'), '"db-migrate"');
  assert.equal(quote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
});

test('formatTime: RFC 3339 to the second', () => {
  assert.equal(formatTime(Date.UTC(2026, 10, 26, 6, 30, 0, 999)), '2026-11-26T06:30:00Z');
  assert.equal(formatTime(Number.NaN), '?');
});

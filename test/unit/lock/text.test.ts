import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable, quote } from '../../../src/lock/text.ts';

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

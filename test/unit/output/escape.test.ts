import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from '../../../src/lock/text.ts';
import { escapeRawUnicode, hasUnsafe } from '../../../src/output/escape.ts';

describe('printable', () => {
  const cases: [string, string][] = [
    ['alice@laptop', 'alice@laptop'],
    ['\u001b[2J', '\\x1b[2J'],
    ['evil\nNAME HOLDER', 'evil\\nNAME HOLDER'],
    ['a\r\tb', 'a\\r\\tb'],
    ['\u0000\u007f', '\\x00\\x7f'],
    ['\u009b31m', '\\x9b31m'], // one-byte CSI
    ['x\u2028y\u2029', 'x\\u2028y\\u2029'],
    ['abc\u202edcba', 'abc\\u202edcba'], // right-to-left override
    ['\u2066x\u2069', '\\u2066x\\u2069'],
    ['DOMAIN\\user', 'DOMAIN\\user'],
    ['日本語 ü', '日本語 ü'],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.equal(printable(input), expected));
  }

  it('hasUnsafe tells whether escaping changes anything', () => {
    assert.equal(hasUnsafe('alice@laptop'), false);
    assert.equal(hasUnsafe('evil\n'), true);
    assert.equal(hasUnsafe('\u202e'), true);
  });
});

describe('escapeRawUnicode', () => {
  it('escapes what serialisers leave raw, as \\uXXXX', () => {
    assert.equal(escapeRawUnicode('"\u009b\u2028\u202e\u007f"'), '"\\u009b\\u2028\\u202e\\u007f"');
    assert.equal(escapeRawUnicode('"\\u001b[2J ü"'), '"\\u001b[2J ü"');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Table from 'cli-table3';
import { printable } from '../../../src/lock/text.ts';
import { renderTable, type TableOptions } from '../../../src/output/table.ts';
import { HOSTILE_ROW as HOSTILE } from './fixtures.ts';

describe('renderTable (kubectl look)', () => {
  it('UPPERCASE headers, left aligned, three spaces between columns, no borders, no trailing blanks', () => {
    const text = renderTable(
      ['name', 'holder', 'age'],
      [
        ['db-migrate', 'alice@laptop', '5m'],
        ['x', '', '45s'],
      ],
    );
    assert.equal(
      text,
      'NAME         HOLDER         AGE\n' + //
        'db-migrate   alice@laptop   5m\n' +
        'x                           45s\n',
    );
  });

  it('aligns wide characters by their width on the terminal', () => {
    const text = renderTable(
      ['a', 'b'],
      [
        ['日本', 'x'],
        ['ab', 'y'],
      ],
    );
    assert.equal(text, 'A      B\n日本   x\nab     y\n');
  });

  it('--no-headers prints the rows only; nothing at all for no rows', () => {
    assert.equal(renderTable(['a', 'b'], [['1', '2']], { noHeaders: true }), '1   2\n');
    assert.equal(renderTable(['a', 'b'], [], { noHeaders: true }), '');
    assert.equal(renderTable(['a', 'b'], []), 'A   B\n');
  });

  it('escapes every cell: a hostile value cannot add a row or clear the screen', () => {
    const text = renderTable(
      ['name', 'holder'],
      [
        ['x', 'evil\nNAME HOLDER'],
        ['y', '\u001b[2J'],
      ],
    );
    assert.equal(text, 'NAME   HOLDER\nx      evil\\nNAME HOLDER\ny      \\x1b[2J\n');
    assert.equal(text.split('\n').length, 4);
    assert.ok(!text.includes('\u001b'));
  });

  it('separator, indent and header case for describe sections', () => {
    const text = renderTable(['Type', 'Reason'], [['Normal', 'Acquired']], {
      separator: '  ',
      indent: '  ',
      keepHeaderCase: true,
    });
    assert.equal(text, '  Type    Reason\n  Normal  Acquired\n');
  });
});

/** The renderer as it was with cli-table3 0.6.5: the reference the one-pass layout must match byte for byte. */
function withCliTable3(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const showHead = options.noHeaders !== true;
  if (rows.length === 0 && !showHead) return '';
  const none = Object.fromEntries(
    ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right'].map((k) => [
      k,
      '',
    ]),
  );
  const table = new Table({
    head: showHead ? head.map((h) => (options.keepHeaderCase === true ? h : h.toUpperCase())) : [],
    chars: {
      ...none,
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: options.separator ?? '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) table.push(row.map((cell) => printable(cell)));
  const indent = options.indent ?? '';
  return table
    .toString()
    .split('\n')
    .map((line) => `${indent}${line}`.trimEnd())
    .join('\n')
    .concat('\n');
}

/** Text that measures differently in different width tables, trailing blanks, and text that must be escaped. */
const TRICKY = [
  '',
  ' ',
  'a ',
  'x\u00a0',
  '\u3000',
  '日本語',
  'ｱｲ',
  '한국',
  '👍',
  '👍🏽',
  '👨‍👩‍👧',
  '🇫🇷',
  '✔',
  '✔️',
  'e\u0301',
  'a\u0483b',
  'a\u200bb',
  '\ufeff',
  '\ud800',
  'tab\there',
  HOSTILE,
  '\u001b[31mred\u001b[0m',
  '\u202eevil',
  '\u0085',
  'long-'.repeat(20),
];

/** A small deterministic generator (mulberry32), so a failure can be reproduced from its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCell(next: () => number): string {
  const pick = next();
  if (pick < 0.5) return TRICKY[Math.floor(next() * TRICKY.length)] ?? '';
  let s = '';
  const len = Math.floor(next() * 8);
  for (let i = 0; i < len; i++) {
    // ASCII, Latin-1 and combining marks, CJK, and the supplementary planes (emoji, rare CJK).
    const ranges = [
      [0x20, 0x7e],
      [0xa0, 0x36f],
      [0x2000, 0x206f],
      [0x3000, 0x9fff],
      [0xfe00, 0xff60],
      [0x1f000, 0x1faff],
      [0x20000, 0x2a6df],
    ] as const;
    const [from, to] = ranges[Math.floor(next() * ranges.length)] ?? [0x41, 0x5a];
    s += String.fromCodePoint(from + Math.floor(next() * (to - from + 1)));
  }
  return s;
}

describe('renderTable prints what cli-table3 printed', () => {
  it('on each tricky cell, alone and beside others', () => {
    for (const cell of TRICKY) {
      const rows = [
        [cell, 'x', cell],
        ['y', cell, 'z'],
      ];
      assert.equal(renderTable(['a', 'b', 'c'], rows), withCliTable3(['a', 'b', 'c'], rows), JSON.stringify(cell));
    }
  });

  it('on 500 random tables, with every option', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const next = random(seed);
      const columns = 1 + Math.floor(next() * 8);
      // Headers are the program's own words: never a newline or an escape.
      const head = Array.from({ length: columns }, () => printable(randomCell(next)).replace(/^$/, 'h'));
      const rows = Array.from({ length: Math.floor(next() * 12) }, () =>
        Array.from({ length: columns }, () => randomCell(next)),
      );
      const options: TableOptions = {
        noHeaders: next() < 0.3,
        keepHeaderCase: next() < 0.3,
        ...(next() < 0.3 ? { separator: '  ', indent: '  ' } : {}),
      };
      assert.equal(renderTable(head, rows, options), withCliTable3(head, rows, options), `seed ${seed}`);
    }
  });
});

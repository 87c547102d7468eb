import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable } from '../../../src/output/table.ts';

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

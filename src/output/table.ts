// kubectl's table look with cli-table3: no borders, UPPERCASE headers, left aligned, columns separated by three
// spaces, no colours, no trailing blanks. Every cell is escaped, so no cell can break a row.

import Table from 'cli-table3';
import { printable } from '../lock/text.ts';

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
} as const;

export interface TableOptions {
  /** Omit the header row (`--no-headers`). */
  noHeaders?: boolean;
  /** Between columns; kubectl's printers use three spaces, `describe` sections two. */
  separator?: string;
  /** Prefix of every line (describe's Events are indented by two). */
  indent?: string;
  /** Keep the header's case (describe's Events use "Type", "Reason", ...). */
  keepHeaderCase?: boolean;
}

/** The table as text, one line per row, each ending in a newline; '' when there is nothing to print. */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const showHead = options.noHeaders !== true;
  if (rows.length === 0 && !showHead) return '';
  const table = new Table({
    head: showHead ? head.map((h) => (options.keepHeaderCase === true ? h : h.toUpperCase())) : [],
    chars: { ...NO_BORDERS, middle: options.separator ?? '   ' },
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

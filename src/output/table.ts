// kubectl's table look: no borders, UPPERCASE headers, left aligned, columns separated by three spaces, no
// colours, no trailing blanks. Every cell is escaped, so no cell can break a row.
// The text is what cli-table3 0.6 printed with that look (test/unit/output/table.test.ts compares the two on
// hostile and wide text), laid out here in one pass: cli-table3's layout checks every cell against every
// cell above it for spans (seconds for 3,000 rows) and builds a styled Cell per cell (~10 KB a row).

import stringWidth from 'string-width';
import { printable } from '../lock/text.ts';

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

export const COLUMN_SEPARATOR = '   ';

/** Terminal columns of an escaped cell, measured as cli-table3 measured (string-width 4). */
export function cellWidth(cell: string): number {
  return stringWidth(cell);
}

/**
 * One line of cells, each padded to its column's width, then the separator; no trailing blanks. `widthOf`
 * measures a cell (ls -w pads with the widths of the rows printed before, measured its own way).
 */
export function joinCells(
  cells: readonly string[],
  widths: readonly number[],
  widthOf: (cell: string) => number = cellWidth,
  separator: string = COLUMN_SEPARATOR,
): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i] ?? '';
    if (i > 0) line += separator;
    line += i === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - widthOf(cell)));
  }
  return line.trimEnd();
}

/**
 * The table as text, one line per row, each ending in a newline; '' when there is nothing to print. Every row
 * has as many cells as the head (or, without a head, as the first row).
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const showHead = options.noHeaders !== true;
  if (rows.length === 0 && !showHead) return '';
  const lines: string[][] = [];
  if (showHead && head.length > 0) lines.push(head.map((h) => (options.keepHeaderCase === true ? h : h.toUpperCase())));
  for (const row of rows) lines.push(row.map((cell) => printable(cell)));
  if (lines.length === 0) return '\n';
  // Every column at least one wide, as cli-table3 had it (a column of empty cells still takes its separator).
  const widths: number[] = [];
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) widths[i] = Math.max(widths[i] ?? 1, cellWidth(line[i] ?? ''));
  }

  const indent = options.indent ?? '';
  const separator = options.separator ?? COLUMN_SEPARATOR;
  let text = '';
  for (const line of lines) text += `${`${indent}${joinCells(line, widths, cellWidth, separator)}`.trimEnd()}\n`;
  return text;
}

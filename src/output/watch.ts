// `ls -w` output: the table once, then one row per change in the same columns (kubectl get -w), or one object
// per event for -o json|yaml ({"type": "ADDED", "object": {...}}, the shape of kubectl's --output-watch-events,
// so that a deletion can be told from an update), or `cmlock/NAME` per event for -o name.
// Rows are printed one at a time, so the column widths of what was printed are remembered and later rows padded
// to them (kubectl's watch rows drift out of line; these stay aligned unless a cell is wider than any before).

import type { LockView } from '../lock/types.ts';
import type { LockChange, LockChangeType } from '../lock/list-watch.ts';
import { printable } from '../lock/text.ts';
import { toJsonLine, toYaml } from './format.ts';
import { lockTableHead, lockTableRow, toLockObject } from './lock.ts';
import { joinCells } from './table.ts';
import { displayWidth } from './width.ts';

export type WatchOutput = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export interface LockWatchOptions {
  output: WatchOutput;
  allNamespaces: boolean;
  noHeaders: boolean;
}

/** The STATUS a change shows in the table: a deleted lock is free again. */
const RELEASED = 'Released';

export class LockWatchPrinter {
  readonly #options: LockWatchOptions;
  /** Column widths printed so far; undefined until the first row (or header). */
  #widths: number[] | undefined;
  #documents = 0;

  constructor(options: LockWatchOptions) {
    this.#options = options;
  }

  /** The first list: a table (header included), or one ADDED event per lock. */
  listed(locks: readonly LockView[], now: number): string {
    if (this.#isTable()) return this.#rows(locks.map((lock) => this.#row(lock, now, lock.status)));
    return locks.map((lock) => this.#event('ADDED', lock)).join('');
  }

  /** One change: a row (with the header first if nothing was printed yet), or one event. */
  changed(change: LockChange, now: number): string {
    if (!this.#isTable()) return this.#event(change.type, change.lock);
    const status = change.type === 'DELETED' ? RELEASED : change.lock.status;
    return this.#rows([this.#row(change.lock, now, status)]);
  }

  #isTable(): boolean {
    return this.#options.output === 'table' || this.#options.output === 'wide';
  }

  #row(lock: LockView, now: number, status: string): string[] {
    const options = { now, allNamespaces: this.#options.allNamespaces, wide: this.#options.output === 'wide' };
    return lockTableRow(lock, options, status).map((cell) => printable(cell));
  }

  #rows(rows: string[][]): string {
    if (rows.length === 0) return '';
    const lines = [...rows];
    let widths = this.#widths;
    if (widths === undefined) {
      const head = lockTableHead({ allNamespaces: this.#options.allNamespaces, wide: this.#options.output === 'wide' });
      if (!this.#options.noHeaders) lines.unshift(head);
      // Room for the longest STATUS from the start, so that Expired and Released rows stay in line.
      widths = head.map((h) => (h === 'STATUS' ? RELEASED.length : 0));
    }
    for (const line of lines) line.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell))));
    this.#widths = widths;
    return lines.map((line) => `${joinCells(line, widths, displayWidth)}\n`).join('');
  }

  #event(type: LockChangeType, lock: LockView): string {
    switch (this.#options.output) {
      case 'json':
        return toJsonLine({ type, object: toLockObject(lock) });
      case 'yaml':
        return `${this.#documents++ > 0 ? '---\n' : ''}${toYaml({ type, object: toLockObject(lock) })}`;
      default:
        return `cmlock/${lock.name}\n`;
    }
  }
}

// `ls -w` output: the table once, then one row per change in the same columns (kubectl get -w), or one object
// per event for -o json|yaml ({"type": "ADDED", "object": {...}}, the shape of kubectl's --output-watch-events,
// so that a deletion can be told from an update), or `cmlock/NAME` per event for -o name.
// Rows are printed one at a time, so the column widths of what was printed are remembered and later rows padded
// to them (kubectl's watch rows drift out of line; these stay aligned unless a cell is wider than any before).
// A change that shows nothing new in the table (a waiter's heartbeat, a renewal within the same minute) prints no
// row; a waiter joining or leaving changes WAITING (and NEXT with -o wide), so it does.

import type { LockView } from '../lock/types.ts';
import type { LockChange, LockChangeType } from '../lock/list-watch.ts';
import { printable } from '../lock/text.ts';
import { toJsonLine, toYaml } from './format.ts';
import { hasHolders, lockTableHead, lockTableRow, toLockObject } from './lock.ts';
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
  /** Whether the table has a HOLDERS column: decided by the first list, as the header is printed once. */
  #holders = false;
  /** The last row printed for each lock (namespace/name), to leave out rows that show nothing new. */
  #printed = new Map<string, string>();

  constructor(options: LockWatchOptions) {
    this.#options = options;
  }

  /** The first list: a table (header included), or one ADDED event per lock. */
  listed(locks: readonly LockView[], now: number): string {
    if (!this.#isTable()) return locks.map((lock) => this.#event('ADDED', lock)).join('');
    this.#holders = hasHolders(locks);
    return this.#rows(locks.map((lock) => this.#remember(lock, this.#row(lock, now, lock.status))));
  }

  /** One change: a row (with the header first if nothing was printed yet), or one event. */
  changed(change: LockChange, now: number): string {
    if (!this.#isTable()) return this.#event(change.type, change.lock);
    const status = change.type === 'DELETED' ? RELEASED : change.lock.status;
    const row = this.#row(change.lock, now, status);
    const key = `${change.lock.namespace}/${change.lock.name}`;
    if (change.type === 'MODIFIED' && this.#printed.get(key) === row.join('\0')) return '';
    return this.#rows([this.#remember(change.lock, row)]);
  }

  #remember(lock: LockView, row: string[]): string[] {
    this.#printed.set(`${lock.namespace}/${lock.name}`, row.join('\0'));
    return row;
  }

  #isTable(): boolean {
    return this.#options.output === 'table' || this.#options.output === 'wide';
  }

  #row(lock: LockView, now: number, status: string): string[] {
    const options = {
      now,
      allNamespaces: this.#options.allNamespaces,
      wide: this.#options.output === 'wide',
      holders: this.#holders,
    };
    return lockTableRow(lock, options, status).map((cell) => printable(cell));
  }

  #rows(rows: string[][]): string {
    if (rows.length === 0) return '';
    const lines = [...rows];
    let widths = this.#widths;
    if (widths === undefined) {
      const head = lockTableHead({
        allNamespaces: this.#options.allNamespaces,
        wide: this.#options.output === 'wide',
        holders: this.#holders,
      });
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
